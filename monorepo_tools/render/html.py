"""Interactive, self-contained HTML view of a :class:`GraphView`.

Contract: :func:`render_html` is a pure function ``GraphView -> str`` returning one HTML file
with everything inline: the SVG of :func:`svg.render_svg`, the CSS, vanilla JavaScript and the
graph data as JSON in ``<script type="application/json" id="graph-data">``. It loads no external
resource (no ``src``/``href`` to the network, no CDN), so it works from a CI artefact or offline.
Same view, same bytes.

What the page does:

* hovering a package highlights it, its dependencies (transitively, following the edges) in one
  colour and its dependents (transitively) in another, and dims everything else;
* clicking a package pins that highlight and fills the side panel (name, version, status, path,
  direct dependencies and direct dependents, each clickable); clicking the background clears it;
* the search box highlights the packages whose name contains the text (Enter pins the first);
* ``?highlight=<name>`` in the URL pins that package on load, ``?search=<text>`` fills the search
  box (handy for screenshots and links from CI logs).

The JSON is escaped for its ``<script>`` element: ``</`` becomes ``<\\/`` and ``<!--`` becomes
``\\u003c!--`` (both still valid JSON), so no package name or path can end the element early.
"""

from __future__ import annotations

import json
from html import escape

from .model import STATUS_COLORS, VIOLATION_COLOR, GraphView
from .svg import DEPENDENCY_COLOR, DEPENDENT_COLOR, FONT_STACK, counts_line, render_svg

__all__ = ["graph_data", "render_html", "script_json"]


def graph_data(view: GraphView) -> dict[str, object]:
    """The view as the plain JSON-able value the page's script reads."""
    return {
        "title": view.title,
        "nodes": [
            {
                "name": node.name,
                "version": node.version,
                "status": node.status,
                "publishable": node.publishable,
                "path": node.path,
                "level": node.level,
                "in_cycle": node.in_cycle,
            }
            for node in view.nodes
        ],
        "edges": [
            {
                "source": edge.source,
                "target": edge.target,
                "kind": edge.kind,
                "extra": edge.extra,
                "violating": edge.violating,
            }
            for edge in view.edges
        ],
        "levels": [list(names) for names in view.levels],
        "status_colors": {status: list(colors) for status, colors in STATUS_COLORS.items()},
    }


def script_json(value: object) -> str:
    """``value`` as JSON that can sit inside a ``<script>`` element unchanged."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "\\u003c!--")


_CSS = """
:root { --dep: %(dep)s; --dependent: %(dependent)s; --violation: %(violation)s;
  --match: #ef6c00; --line: #d7dbe0; --muted: #5f6670; }
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%%; }
body { font-family: %(font)s; color: #1a1a1a; background: #f5f6f8; display: flex;
  flex-direction: column; }
header { display: flex; align-items: center; gap: 16px; padding: 10px 16px;
  background: #fff; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header h1 { font-size: 17px; margin: 0; }
header .counts { color: var(--muted); font-size: 13px; }
header .tools { margin-left: auto; display: flex; gap: 8px; align-items: center; }
#search { font: inherit; font-size: 14px; padding: 6px 10px; width: 260px;
  border: 1px solid #b8bec6; border-radius: 6px; }
#match-count { color: var(--muted); font-size: 12px; min-width: 70px; }
button { font: inherit; font-size: 13px; padding: 5px 10px; border: 1px solid #b8bec6;
  border-radius: 6px; background: #fff; cursor: pointer; }
button:hover { background: #eef1f4; }
main { flex: 1; display: flex; min-height: 0; }
#graph { flex: 1; overflow: auto; background: #fff; }
#graph svg { display: block; }
#graph.fit svg { width: 100%%; height: auto; }
aside { width: 320px; flex: none; overflow: auto; padding: 14px 16px; background: #fff;
  border-left: 1px solid var(--line); font-size: 13px; }
aside h2 { font-size: 16px; margin: 0 0 6px; word-break: break-all; }
aside h3 { font-size: 13px; margin: 14px 0 4px; color: var(--muted); font-weight: 600; }
aside dl { display: grid; grid-template-columns: auto 1fr; gap: 3px 10px; margin: 8px 0; }
aside dt { color: var(--muted); }
aside dd { margin: 0; word-break: break-all; }
aside ul { list-style: none; padding: 0; margin: 0; }
aside li { margin: 2px 0; }
aside li button { border: none; padding: 1px 4px; background: none; color: #0b57d0;
  text-align: left; }
aside li button:hover { text-decoration: underline; background: none; }
.tag { display: inline-block; font-size: 11px; padding: 0 5px; border-radius: 8px;
  background: #eceff3; color: var(--muted); margin-left: 4px; }
.tag.bad { background: #fde2e1; color: var(--violation); }
.chip { display: inline-block; width: 12px; height: 12px; border-radius: 3px;
  vertical-align: -1px; margin-right: 5px; border: 1.5px solid; }
.hint { color: var(--muted); line-height: 1.45; }
.keys { margin-top: 14px; }
.keys div { margin: 4px 0; }
.swatch { display: inline-block; width: 26px; height: 0; border-top: 3px solid;
  vertical-align: middle; margin-right: 6px; }
g.node { cursor: pointer; }
g.node rect, g.edge path { transition: opacity .12s, stroke .12s; }
svg.has-focus g.node:not(.focus):not(.is-dep):not(.is-dependent) { opacity: .16; }
svg.has-focus g.edge:not(.is-dep):not(.is-dependent) { opacity: .06; }
svg.has-focus g.node.focus rect { stroke: #111; stroke-width: 4; }
svg.has-focus g.node.is-dep rect { stroke: var(--dep); stroke-width: 3.5; }
svg.has-focus g.node.is-dependent rect { stroke: var(--dependent); stroke-width: 3.5; }
svg.has-focus g.edge.is-dep path { stroke: var(--dep); stroke-width: 2.4;
  marker-end: url(#arrow-dep); }
svg.has-focus g.edge.is-dependent path { stroke: var(--dependent); stroke-width: 2.4;
  marker-end: url(#arrow-dependent); }
svg.has-focus g.edge[data-violating="true"].is-dep path,
svg.has-focus g.edge[data-violating="true"].is-dependent path {
  stroke: var(--violation); stroke-width: 3; marker-end: url(#arrow-violation); }
svg.searching:not(.has-focus) g.node:not(.match) { opacity: .22; }
svg.searching:not(.has-focus) g.edge { opacity: .12; }
/* While a package is focused its colours win; the search marks come back after. */
svg.searching:not(.has-focus) g.node.match rect { stroke: var(--match); stroke-width: 4; }
"""

_JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var svg = document.querySelector("#graph svg");
  var panel = document.getElementById("panel-body");
  var search = document.getElementById("search");
  var matchCount = document.getElementById("match-count");
  var byName = {}, deps = {}, dependents = {}, nodeEls = {};
  data.nodes.forEach(function (n) {
    byName[n.name] = n;
    deps[n.name] = [];
    dependents[n.name] = [];
  });
  data.edges.forEach(function (e) {
    (deps[e.source] = deps[e.source] || []).push(e);
    (dependents[e.target] = dependents[e.target] || []).push(e);
  });
  svg.querySelectorAll("g.node").forEach(function (g) {
    nodeEls[g.getAttribute("data-name")] = g;
  });
  var edgeEls = Array.prototype.slice.call(svg.querySelectorAll("g.edge"));
  var pinned = null;

  function closure(start, adjacency, key) {
    var seen = new Set(), queue = [start];
    while (queue.length) {
      var name = queue.shift();
      (adjacency[name] || []).forEach(function (e) {
        var next = e[key];
        if (next !== start && !seen.has(next)) { seen.add(next); queue.push(next); }
      });
    }
    return seen;
  }

  function clearHighlight() {
    svg.classList.remove("has-focus");
    svg.querySelectorAll(".focus, .is-dep, .is-dependent").forEach(function (el) {
      el.classList.remove("focus", "is-dep", "is-dependent");
    });
  }

  function highlight(name) {
    clearHighlight();
    if (!name || !nodeEls[name]) { return; }
    var down = closure(name, deps, "target");
    var up = closure(name, dependents, "source");
    svg.classList.add("has-focus");
    nodeEls[name].classList.add("focus");
    down.forEach(function (n) { if (nodeEls[n]) { nodeEls[n].classList.add("is-dep"); } });
    up.forEach(function (n) { if (nodeEls[n]) { nodeEls[n].classList.add("is-dependent"); } });
    edgeEls.forEach(function (el) {
      var s = el.getAttribute("data-source"), t = el.getAttribute("data-target");
      if ((s === name || down.has(s)) && down.has(t)) { el.classList.add("is-dep"); }
      else if ((t === name || up.has(t)) && up.has(s)) { el.classList.add("is-dependent"); }
    });
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) { e.textContent = text; }
    if (cls) { e.className = cls; }
    return e;
  }

  function edgeList(title, edges, key) {
    var frag = document.createDocumentFragment();
    frag.appendChild(el("h3", title + " (" + edges.length + ")"));
    var ul = el("ul");
    if (!edges.length) { ul.appendChild(el("li", "none", "hint")); }
    edges.slice().sort(function (a, b) {
      return a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : (a.kind < b.kind ? -1 : 1);
    }).forEach(function (e) {
      var li = el("li"), button = el("button", e[key]);
      button.type = "button";
      button.addEventListener("click", function () { pin(e[key], "smooth"); });
      li.appendChild(button);
      if (e.kind !== "runtime") {
        li.appendChild(el("span", e.kind + (e.extra ? " [" + e.extra + "]" : ""), "tag"));
      }
      if (e.violating) { li.appendChild(el("span", "violation", "tag bad")); }
      ul.appendChild(li);
    });
    frag.appendChild(ul);
    return frag;
  }

  function showPanel(name) {
    panel.textContent = "";
    var n = byName[name];
    if (!n) {
      panel.appendChild(document.getElementById("panel-hint").content.cloneNode(true));
      return;
    }
    var colors = data.status_colors[n.status] || data.status_colors.invalid;
    panel.appendChild(el("h2", n.name));
    var dl = el("dl");
    var status = el("dd"), chip = el("span", null, "chip");
    chip.style.background = colors[0]; chip.style.borderColor = colors[1];
    status.appendChild(chip);
    var publishable = n.publishable ? " (publishable)" : " (not publishable)";
    status.appendChild(document.createTextNode(n.status + publishable));
    [["version", n.version === null ? "no version" : n.version], ["status", status],
     ["path", n.path], ["level", String(n.level)]].forEach(function (row) {
      dl.appendChild(el("dt", row[0]));
      dl.appendChild(typeof row[1] === "string" ? el("dd", row[1]) : row[1]);
    });
    if (n.in_cycle) {
      dl.appendChild(el("dt", "cycle"));
      dl.appendChild(el("dd", "in a dependency cycle", "tag bad"));
    }
    panel.appendChild(dl);
    panel.appendChild(edgeList("Depends on", deps[name] || [], "target"));
    panel.appendChild(edgeList("Used by", dependents[name] || [], "source"));
  }

  function pin(name, scroll) {
    pinned = name && byName[name] ? name : null;
    highlight(pinned);
    showPanel(pinned);
    if (pinned && scroll) {
      nodeEls[pinned].scrollIntoView({block: "center", inline: "center", behavior: scroll});
    }
  }

  svg.addEventListener("mouseover", function (ev) {
    var g = ev.target.closest && ev.target.closest("g.node");
    if (g && !pinned) { highlight(g.getAttribute("data-name")); }
  });
  svg.addEventListener("mouseout", function (ev) {
    var g = ev.target.closest && ev.target.closest("g.node");
    var to = ev.relatedTarget && ev.relatedTarget.closest && ev.relatedTarget.closest("g.node");
    if (g && g !== to && !pinned) { highlight(null); }
  });
  svg.addEventListener("click", function (ev) {
    var g = ev.target.closest && ev.target.closest("g.node");
    pin(g ? g.getAttribute("data-name") : null, false);
  });

  function runSearch() {
    var q = search.value.trim().toLowerCase(), count = 0, first = null;
    Object.keys(nodeEls).forEach(function (name) {
      var hit = q !== "" && name.toLowerCase().indexOf(q) !== -1;
      nodeEls[name].classList.toggle("match", hit);
      if (hit) { count += 1; if (first === null) { first = name; } }
    });
    svg.classList.toggle("searching", q !== "");
    matchCount.textContent = q === "" ? "" : count + (count === 1 ? " match" : " matches");
    return first;
  }
  search.addEventListener("input", runSearch);
  search.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { var first = runSearch(); if (first) { pin(first, "smooth"); } }
    if (ev.key === "Escape") { search.value = ""; runSearch(); }
  });

  var fit = document.getElementById("fit"), graph = document.getElementById("graph");
  fit.addEventListener("click", function () {
    graph.classList.toggle("fit");
    fit.textContent = graph.classList.contains("fit") ? "Actual size" : "Fit to width";
  });

  var params = new URLSearchParams(window.location.search);
  if (params.get("search")) { search.value = params.get("search"); runSearch(); }
  if (params.get("highlight")) { pin(params.get("highlight"), "auto"); }
  else { showPanel(null); }
})();
"""


def _legend_keys() -> str:
    rows = [
        ("#111111", "hovered / pinned package"),
        (DEPENDENCY_COLOR, "its dependencies (transitive)"),
        (DEPENDENT_COLOR, "its dependents (transitive)"),
        ("#ef6c00", "search match"),
        (VIOLATION_COLOR, "violation (publishing rule or cycle)"),
    ]
    return "".join(
        f'<div><span class="swatch" style="border-color:{color}"></span>{escape(text)}</div>'
        for color, text in rows
    )


def render_html(view: GraphView) -> str:
    """The whole view as one self-contained interactive HTML page."""
    css = _CSS % {
        "dep": DEPENDENCY_COLOR,
        "dependent": DEPENDENT_COLOR,
        "violation": VIOLATION_COLOR,
        "font": FONT_STACK,
    }
    title = escape(view.title)
    hint = (
        '<p class="hint">Hover a package to highlight its dependencies and dependents; '
        "click it to pin the highlight and show its details here; click the background to "
        "clear.</p>"
    )
    return (
        "\n".join(
            (
                "<!DOCTYPE html>",
                '<html lang="en">',
                "<head>",
                '<meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                f"<title>{title} — dependency graph</title>",
                f"<style>{css}</style>",
                "</head>",
                "<body>",
                "<header>",
                f"<h1>{title}</h1>",
                f'<span class="counts">{escape(counts_line(view))}</span>',
                '<div class="tools">',
                '<input id="search" type="search" placeholder="Search packages…" '
                'autocomplete="off" aria-label="Search packages">',
                '<span id="match-count" aria-live="polite"></span>',
                '<button id="fit" type="button">Fit to width</button>',
                "</div>",
                "</header>",
                "<main>",
                f'<div id="graph">{render_svg(view)}</div>',
                '<aside id="panel" aria-live="polite">',
                f'<template id="panel-hint">{hint}</template>',
                '<div id="panel-body"></div>',
                f'<div class="keys"><h3>Highlight</h3>{_legend_keys()}</div>',
                "</aside>",
                "</main>",
                '<script type="application/json" id="graph-data">'
                f"{script_json(graph_data(view))}</script>",
                f"<script>{_JS}</script>",
                "</body>",
                "</html>",
            )
        )
        + "\n"
    )
