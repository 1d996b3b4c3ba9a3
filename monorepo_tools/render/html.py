"""Interactive, self-contained HTML view of a :class:`GraphView`.

Contract: :func:`render_html` is a pure function ``GraphView -> str`` returning one HTML file
with everything inline: the SVG of :func:`svg.render_svg`, the CSS, vanilla JavaScript and the
graph data as JSON in ``<script type="application/json" id="graph-data">``. It loads no external
resource (no ``src``/``href`` to the network, no CDN), so it works from a CI artefact or offline.
Same view, same bytes.

What the page does (the Chromium tests in ``tests/render/test_browser.py`` drive each of these):

* **zoom and pan**: the wheel zooms around the pointer, dragging pans, the keys ``+``/``-``
  zoom, the arrow keys pan, ``0`` (or the *Fit* button) fits the whole graph (both directions)
  into the window, ``1`` shows it at actual size. The current scale is ``data-scale`` on
  ``#graph``; the SVG's ``viewBox`` is what is shown.
* **levels**: the SVG labels every publish level in the picture (shaded bands); the page adds a
  ruler on the left that keeps each visible level's label on screen at any zoom.
* **findings**: the side panel lists ``check``'s findings (or, for a view built without them,
  the violating edges); clicking one (or ``v``/``V``) zooms to it, marks it and pins its
  package. Packages with findings carry a red badge, blocked packages a dashed red border.
* **counts**: the header shows the same counts as ``check`` (packages, publishable, findings).
* **filters**: by status, and to the affected set when the view has one; packages filtered out
  fade away with their edges.
* **search**: the box marks every package whose name contains the text; Enter (or ``n``) steps
  to the next match, Shift+Enter (``N``) to the previous one, centring and zooming to it;
  ``3 / 17`` says where you are.
* **focus**: ``?focus=NAME&depth=N`` (or *Focus* in a package's panel) shows only NAME, its
  dependencies and its dependents up to N edges away (the same neighbourhood as
  ``graph --focus``) and fits it to the window.
* hover highlights a package, its dependencies (transitively) in one colour and its dependents
  in another; a click pins that and fills the side panel; ``?highlight=NAME`` pins on load and
  ``?search=TEXT`` fills the search box.

The JSON is escaped for its ``<script>`` element: ``</`` becomes ``<\\/`` and ``<!--`` becomes
``\\u003c!--`` (both still valid JSON), so no package name or path can end the element early.
"""

from __future__ import annotations

import json
from html import escape

from .model import AFFECTED_COLOR, STATUS_COLORS, VIOLATION_COLOR, GraphView
from .select import implied_edges
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
        "findings": None
        if view.findings is None
        else [
            {
                "code": f.code,
                "package": f.package,
                "message": f.message,
                "file": f.file,
                "line": f.line,
                "target": f.target,
            }
            for f in view.findings
        ],
        "blocked": sorted(view.blocked),
        "affected": None if view.affected is None else sorted(view.affected),
        "focus": None if view.focus is None else list(view.focus),
    }


def script_json(value: object) -> str:
    """``value`` as JSON that can sit inside a ``<script>`` element unchanged."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("</", "<\\/").replace("<!--", "\\u003c!--")


_CSS = """
:root { --dep: %(dep)s; --dependent: %(dependent)s; --violation: %(violation)s;
  --match: #ef6c00; --affected: %(affected)s; --line: #d7dbe0; --muted: #5f6670; }
* { box-sizing: border-box; }
html, body { margin: 0; height: 100%%; overflow: hidden; }
body { font-family: %(font)s; color: #1a1a1a; background: #f5f6f8; display: flex;
  flex-direction: column; }
header { display: flex; align-items: center; gap: 10px 16px; padding: 8px 14px;
  background: #fff; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header h1 { font-size: 17px; margin: 0; }
header .counts { color: var(--muted); font-size: 13px; }
header .tools { margin-left: auto; display: flex; gap: 6px; align-items: center;
  flex-wrap: wrap; }
#search { font: inherit; font-size: 14px; padding: 5px 10px; width: 230px;
  border: 1px solid #b8bec6; border-radius: 6px; }
#match-count { color: var(--muted); font-size: 12px; min-width: 74px; }
button { font: inherit; font-size: 13px; padding: 4px 9px; border: 1px solid #b8bec6;
  border-radius: 6px; background: #fff; cursor: pointer; }
button:hover { background: #eef1f4; }
button:disabled { opacity: .45; cursor: default; }
.sep { width: 1px; height: 22px; background: var(--line); margin: 0 4px; }
#filters { font-size: 12px; display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
#filters label { white-space: nowrap; cursor: pointer; }
main { flex: 1; display: flex; min-height: 0; }
#graph { flex: 1; position: relative; overflow: hidden; background: #fff; cursor: grab;
  touch-action: none; user-select: none; }
#graph.dragging { cursor: grabbing; }
#graph > svg { display: block; width: 100%%; height: 100%%; }
/* The page has its own header and legend: the SVG's are for the standalone file. */
#graph > svg > text.title, #graph > svg > g.legend { display: none; }
.legend-row { display: flex; flex-wrap: wrap; gap: 4px 12px; }
.legend-row span { white-space: nowrap; }
.box { display: inline-block; width: 18px; height: 12px; border-radius: 3px;
  border: 1.5px solid; vertical-align: -1px; margin-right: 4px; }
#ruler { position: absolute; left: 0; top: 0; bottom: 0; width: 0; pointer-events: none; }
#ruler div { position: absolute; left: 6px; transform: translateY(-50%%); font-size: 12px;
  font-weight: 700; color: #3d4450; background: rgba(255,255,255,.88); padding: 1px 6px;
  border: 1px solid var(--line); border-radius: 10px; white-space: nowrap; }
#focus-bar { position: absolute; top: 8px; left: 50%%; transform: translateX(-50%%);
  background: #111; color: #fff; font-size: 13px; padding: 5px 8px 5px 12px;
  border-radius: 16px; display: none; gap: 8px; align-items: center; }
#focus-bar.on { display: flex; }
#focus-bar button { font-size: 12px; padding: 1px 7px; background: #333; color: #fff;
  border-color: #555; }
#zoom-hint { position: absolute; right: 8px; bottom: 6px; font-size: 11px; color: var(--muted);
  background: rgba(255,255,255,.85); padding: 2px 6px; border-radius: 4px; pointer-events: none; }
aside { width: 340px; flex: none; overflow: auto; padding: 12px 14px; background: #fff;
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
#findings { max-height: 40vh; overflow: auto; border: 1px solid var(--line); border-radius: 6px; }
#findings li { margin: 0; border-bottom: 1px solid #eef0f3; }
#findings li button { display: block; width: 100%%; padding: 5px 8px; color: #1a1a1a; }
#findings li button:hover { background: #fff4f3; text-decoration: none; }
#findings li.current button { background: #fde2e1; }
#findings .code { color: var(--violation); font-weight: 600; font-size: 11px; }
#findings .what { display: block; color: var(--muted); font-size: 12px; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; }
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
kbd { font: 11px ui-monospace, monospace; border: 1px solid #c5cad1; border-radius: 3px;
  padding: 0 3px; background: #f6f7f9; }
g.node { cursor: pointer; }
/* Dimming uses the inherited fill-/stroke-opacity, never `opacity` on each group: that would
   composite every package and edge on its own, which is slow with thousands of them. */
g.node.out, g.edge.out { display: none; }
g.node.filtered { fill-opacity: .07; stroke-opacity: .07; pointer-events: none; }
g.edge.filtered path { stroke-opacity: .03; marker-end: none; }
svg.has-focus g.edges { opacity: 1; }
svg.hide-implied g.edges.implied { display: none; }
svg.has-focus g.node:not(.focus):not(.is-dep):not(.is-dependent) { fill-opacity: .16;
  stroke-opacity: .16; }
svg.has-focus g.edge:not(.is-dep):not(.is-dependent) path { stroke-opacity: .06;
  marker-end: none; }
svg.has-focus g.node.focus rect:not(.halo) { stroke: #111; stroke-width: 4;
  stroke-dasharray: none; }
svg.has-focus g.edge:not(.is-dep):not(.is-dependent) text,
svg.searching:not(.has-focus) g.edge text { fill-opacity: .1; stroke-opacity: 0; }
g.edge.filtered text { display: none; }
svg.has-focus g.node.is-dep rect:not(.halo) { stroke: var(--dep); stroke-width: 3.5; }
svg.has-focus g.node.is-dependent rect:not(.halo) { stroke: var(--dependent); stroke-width: 3.5; }
svg.has-focus g.edge.is-dep path { stroke: var(--dep); stroke-width: 2.4;
  marker-end: url(#arrow-dep); }
svg.has-focus g.edge.is-dependent path { stroke: var(--dependent); stroke-width: 2.4;
  marker-end: url(#arrow-dependent); }
svg.has-focus g.edge[data-violating="true"].is-dep path,
svg.has-focus g.edge[data-violating="true"].is-dependent path {
  stroke: var(--violation); stroke-width: 3; marker-end: url(#arrow-violation); }
svg.searching:not(.has-focus) g.node:not(.match) { fill-opacity: .22; stroke-opacity: .22; }
svg.searching:not(.has-focus) g.edges { opacity: .25; }
/* While a package is focused its colours win; the search marks come back after. */
svg.searching:not(.has-focus) g.node.match rect:not(.halo) { stroke: var(--match);
  stroke-width: 4; }
/* Zoomed out, the marks that matter keep a visible width on screen (--inv is 1 / scale). */
g.node:not([data-findings="0"]) rect:not(.halo) { stroke-width: max(3.5px, calc(var(--inv) * 2.5px)); }
g.node.blocked rect:not(.halo) { stroke-width: max(2.5px, calc(var(--inv) * 1.5px)); }
g.node.affected rect.halo { transform-box: fill-box; transform-origin: center;
  transform: scale(max(1, calc(var(--inv) * .12))); }
g.edge[data-violating="true"] path { stroke-width: max(2.5px, calc(var(--inv) * 2.5px)); }
g.node.current rect:not(.halo) { stroke: var(--match) !important; stroke-width: 7 !important;
  stroke-dasharray: none; }
g.edge.current path { stroke: var(--violation) !important; stroke-width: 7 !important;
  stroke-opacity: 1 !important; }
"""

_JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("graph-data").textContent);
  var graph = document.getElementById("graph");
  var svg = graph.querySelector("svg");
  var drawing = svg.querySelector("g.graph");
  var panel = document.getElementById("panel-body");
  var search = document.getElementById("search");
  var matchCount = document.getElementById("match-count");
  var ruler = document.getElementById("ruler");
  var byName = {}, deps = {}, dependents = {}, nodeEls = {}, boxes = {};
  data.nodes.forEach(function (n) {
    byName[n.name] = n;
    deps[n.name] = [];
    dependents[n.name] = [];
  });
  data.edges.forEach(function (e) {
    (deps[e.source] = deps[e.source] || []).push(e);
    (dependents[e.target] = dependents[e.target] || []).push(e);
  });
  // Where the drawing sits in the SVG's own coordinates (its transform is a translate).
  var offset = {x: 0, y: 0};
  var m = /translate\(([-\d.]+),([-\d.]+)\)/.exec(drawing.getAttribute("transform") || "");
  if (m) { offset = {x: parseFloat(m[1]), y: parseFloat(m[2])}; }
  svg.querySelectorAll("g.node").forEach(function (g) {
    var name = g.getAttribute("data-name"), r = g.querySelector("rect:not(.halo)");
    nodeEls[name] = g;
    boxes[name] = {x: offset.x + parseFloat(r.getAttribute("x")),
                   y: offset.y + parseFloat(r.getAttribute("y")),
                   w: parseFloat(r.getAttribute("width")),
                   h: parseFloat(r.getAttribute("height"))};
  });
  var edgeEls = Array.prototype.slice.call(svg.querySelectorAll("g.edge"));
  var pinned = null;

  // ------------------------------------------------------------------ zoom and pan
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
  var view = {x: 0, y: 0, k: 1};
  var MIN_K = 0.02, MAX_K = 8;

  function size() { return {w: graph.clientWidth || 1, h: graph.clientHeight || 1}; }
  function apply() {
    var s = size();
    svg.setAttribute("viewBox", [view.x, view.y, s.w / view.k, s.h / view.k].join(" "));
    graph.setAttribute("data-scale", view.k.toFixed(4));
    svg.style.setProperty("--inv", (1 / view.k).toFixed(3));
    document.getElementById("zoom-level").textContent = Math.round(view.k * 100) + "%";
    drawRuler();
  }
  function clampK(k) { return Math.min(MAX_K, Math.max(MIN_K, k)); }
  function zoomAt(factor, px, py) {
    var k = clampK(view.k * factor);
    var gx = view.x + px / view.k, gy = view.y + py / view.k;
    view = {x: gx - px / k, y: gy - py / k, k: k};
    apply();
  }
  function zoomCenter(factor) { var s = size(); zoomAt(factor, s.w / 2, s.h / 2); }
  // Show the box (SVG coordinates) whole and centred; maxK keeps small boxes from blowing up.
  function showBox(b, maxK, pad) {
    var s = size();
    pad = pad === undefined ? 24 : pad;
    var k = Math.min((s.w - 2 * pad) / Math.max(b.w, 1), (s.h - 2 * pad) / Math.max(b.h, 1));
    k = clampK(Math.min(k, maxK || MAX_K));
    view = {x: b.x + b.w / 2 - s.w / 2 / k, y: b.y + b.h / 2 - s.h / 2 / k, k: k};
    apply();
  }
  function union(names) {
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    names.forEach(function (n) {
      var b = boxes[n];
      if (!b) { return; }
      x0 = Math.min(x0, b.x); y0 = Math.min(y0, b.y);
      x1 = Math.max(x1, b.x + b.w); y1 = Math.max(y1, b.y + b.h);
    });
    return x0 === Infinity ? null : {x: x0, y: y0, w: x1 - x0, h: y1 - y0};
  }
  function graphBox() {
    var visible = Object.keys(nodeEls).filter(function (n) {
      return !nodeEls[n].classList.contains("out");
    });
    if (visible.length === Object.keys(nodeEls).length) {
      var b = drawing.getBBox();  // the whole drawing, level labels and curves included
      return {x: b.x + offset.x, y: b.y + offset.y, w: b.width, h: b.height};
    }
    return union(visible);
  }
  function fit() { var b = graphBox(); if (b) { showBox(b, 1.5, 16); } }  // small graphs: 150% at most
  function centerOn(name, minK) {
    var b = boxes[name], s = size(), k = Math.max(view.k, minK || 0);
    k = clampK(k);
    view = {x: b.x + b.w / 2 - s.w / 2 / k, y: b.y + b.h / 2 - s.h / 2 / k, k: k};
    apply();
  }

  graph.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var r = graph.getBoundingClientRect();
    var step = ev.deltaMode === 1 ? ev.deltaY * 16 : ev.deltaY;
    zoomAt(Math.exp(-step * 0.0015), ev.clientX - r.left, ev.clientY - r.top);
  }, {passive: false});
  var drag = null, dragged = false;
  graph.addEventListener("pointerdown", function (ev) {
    if (ev.button !== 0) { return; }
    drag = {x: ev.clientX, y: ev.clientY, vx: view.x, vy: view.y};
    dragged = false;
  });
  window.addEventListener("pointermove", function (ev) {
    if (!drag) { return; }
    var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (!dragged && Math.abs(dx) + Math.abs(dy) < 4) { return; }
    dragged = true;
    graph.classList.add("dragging");
    view.x = drag.vx - dx / view.k;
    view.y = drag.vy - dy / view.k;
    apply();
  });
  window.addEventListener("pointerup", function () {
    drag = null;
    graph.classList.remove("dragging");
  });
  window.addEventListener("resize", apply);
  document.getElementById("zoom-in").addEventListener("click", function () { zoomCenter(1.4); });
  document.getElementById("zoom-out").addEventListener("click", function () {
    zoomCenter(1 / 1.4);
  });
  document.getElementById("fit").addEventListener("click", fit);

  // Level ruler: a label per visible band, kept on screen at any zoom.
  var bands = Array.prototype.map.call(svg.querySelectorAll("g.level"), function (g) {
    return {level: g.getAttribute("data-level"),
            top: offset.y + parseFloat(g.getAttribute("data-top")),
            bottom: offset.y + parseFloat(g.getAttribute("data-bottom"))};
  });
  var levelsGroup = svg.querySelector("g.levels");
  var labelSize = levelsGroup ? parseFloat(levelsGroup.getAttribute("data-size")) : 0;
  function drawRuler() {
    ruler.textContent = "";
    // Not needed while the picture's own labels are on screen and large enough to read.
    var labelRight = (offset.x - 12 - view.x) * view.k;
    if (labelSize * view.k >= 11 && labelRight >= 40) { return; }
    var s = size(), last = -Infinity;
    bands.forEach(function (b) {
      var y = ((b.top + b.bottom) / 2 - view.y) * view.k;
      if (y < 8 || y > s.h - 8 || y - last < 20) { return; }
      last = y;
      var label = document.createElement("div");
      label.textContent = "L" + b.level;
      label.title = "publish level " + b.level;
      label.style.top = y + "px";
      ruler.appendChild(label);
    });
  }

  // ------------------------------------------------------------------ highlight and panel
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
      button.addEventListener("click", function () { pin(e[key], true); });
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
  var blocked = new Set(data.blocked || []);
  var affected = data.affected ? new Set(data.affected) : null;
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
    var notes = [];
    if (n.in_cycle) { notes.push("in a dependency cycle"); }
    if (blocked.has(n.name)) { notes.push("blocked by a dependency's finding"); }
    var own = findings.filter(function (f) { return f.package === n.name; }).length;
    if (own) { notes.push(own + (own === 1 ? " finding" : " findings")); }
    if (affected && affected.has(n.name)) { notes.push("affected"); }
    notes.forEach(function (text) {
      dl.appendChild(el("dt", "note"));
      dl.appendChild(el("dd", text, "tag bad"));
    });
    panel.appendChild(dl);
    var focusButton = el("button", "Focus on " + n.name);
    focusButton.type = "button";
    focusButton.id = "focus-this";
    focusButton.addEventListener("click", function () { setFocus(n.name, focusDepth || 1); });
    panel.appendChild(focusButton);
    panel.appendChild(edgeList("Depends on", deps[name] || [], "target"));
    panel.appendChild(edgeList("Used by", dependents[name] || [], "source"));
  }
  function pin(name, scroll) {
    pinned = name && byName[name] ? name : null;
    highlight(pinned);
    showPanel(pinned);
    if (pinned && scroll) { centerOn(pinned, 0.8); }
  }
  svg.addEventListener("mouseover", function (ev) {
    var g = ev.target.closest && ev.target.closest("g.node");
    if (g && !pinned && !drag) { highlight(g.getAttribute("data-name")); }
  });
  svg.addEventListener("mouseout", function (ev) {
    var g = ev.target.closest && ev.target.closest("g.node");
    var to = ev.relatedTarget && ev.relatedTarget.closest && ev.relatedTarget.closest("g.node");
    if (g && g !== to && !pinned) { highlight(null); }
  });
  svg.addEventListener("click", function (ev) {
    if (dragged) { dragged = false; return; }  // the end of a pan, not a click
    var g = ev.target.closest && ev.target.closest("g.node");
    pin(g ? g.getAttribute("data-name") : null, false);
  });

  // ------------------------------------------------------------------ findings
  var findings = data.findings;
  if (findings === null) {  // a view built without `check`: list the violating edges
    findings = data.edges.filter(function (e) { return e.violating; }).map(function (e) {
      return {code: "violation", package: e.source, target: e.target,
              message: e.source + " -> " + e.target + " (" + e.kind + ")"};
    });
  }
  var findingList = document.getElementById("findings");
  var findingItems = [], currentFinding = -1;
  document.getElementById("findings-count").textContent = String(findings.length);
  findings.forEach(function (f, i) {
    var li = el("li"), button = el("button");
    button.type = "button";
    button.appendChild(el("span", f.code, "code"));
    button.appendChild(document.createTextNode(" " + f.package + (f.target ? " \u2192 " + f.target : "")));
    button.appendChild(el("span", f.message, "what"));
    button.title = f.message;
    if (!nodeEls[f.package]) { button.disabled = true; button.title = "not in the picture: " + f.message; }
    button.addEventListener("click", function () { jumpTo(i); });
    li.appendChild(button);
    findingList.appendChild(li);
    findingItems.push(li);
  });
  if (!findings.length) { findingList.appendChild(el("li", "none: every rule passes", "hint")); }
  function edgeOf(f) {
    if (!f.target) { return null; }
    for (var i = 0; i < edgeEls.length; i++) {
      var e = edgeEls[i];
      if (e.getAttribute("data-source") === f.package &&
          e.getAttribute("data-target") === f.target &&
          e.getAttribute("data-violating") === "true") { return e; }
    }
    return null;
  }
  function jumpTo(i) {
    var f = findings[i];
    if (!f || !nodeEls[f.package]) { return; }
    currentFinding = i;
    findingItems.forEach(function (li, j) { li.classList.toggle("current", j === i); });
    svg.querySelectorAll("g.edge.current, g.node.current").forEach(function (e) {
      e.classList.remove("current");
    });
    pin(f.package, false);
    var edge = edgeOf(f);
    if (edge) {
      edge.classList.add("current");
      showBox(union([f.package, f.target]), 1.2, 60);
    } else {
      nodeEls[f.package].classList.add("current");
      centerOn(f.package, 1);
    }
    findingItems[i].scrollIntoView({block: "nearest"});
    graph.setAttribute("data-finding", String(i));
  }
  function stepFinding(delta) {
    var usable = findings.map(function (f, i) { return nodeEls[f.package] ? i : -1; })
      .filter(function (i) { return i >= 0; });
    if (!usable.length) { return; }
    var at = usable.indexOf(currentFinding);
    jumpTo(usable[(at + delta + usable.length) % usable.length]);
  }
  document.getElementById("next-finding").addEventListener("click", function () {
    stepFinding(1);
  });

  // ------------------------------------------------------------------ search
  var matches = [], current = -1;
  function order(a, b) {
    var p = boxes[a], q = boxes[b];
    return p.y - q.y || p.x - q.x;
  }
  function runSearch() {
    var q = search.value.trim().toLowerCase();
    matches = [];
    Object.keys(nodeEls).forEach(function (name) {
      var hit = q !== "" && name.toLowerCase().indexOf(q) !== -1 &&
        !nodeEls[name].classList.contains("out");
      nodeEls[name].classList.toggle("match", hit);
      nodeEls[name].classList.remove("current");
      if (hit) { matches.push(name); }
    });
    matches.sort(order);
    current = -1;
    svg.classList.toggle("searching", q !== "");
    showCount();
  }
  function showCount() {
    var q = search.value.trim();
    if (q === "") { matchCount.textContent = ""; return; }
    if (!matches.length) { matchCount.textContent = "no match"; return; }
    matchCount.textContent = (current < 0 ? "" : (current + 1) + " / ") + matches.length +
      (current < 0 ? (matches.length === 1 ? " match" : " matches") : "");
  }
  function step(delta) {
    if (!matches.length) { return; }
    if (current >= 0) { nodeEls[matches[current]].classList.remove("current"); }
    current = current < 0 ? (delta > 0 ? 0 : matches.length - 1)
      : (current + delta + matches.length) % matches.length;
    var name = matches[current];
    nodeEls[name].classList.add("current");
    if (pinned) { pin(null, false); }
    showPanel(name);
    centerOn(name, 1);
    showCount();
  }
  search.addEventListener("input", runSearch);
  search.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); step(ev.shiftKey ? -1 : 1); }
    if (ev.key === "Escape") { search.value = ""; runSearch(); search.blur(); }
  });
  document.getElementById("next-match").addEventListener("click", function () { step(1); });
  document.getElementById("prev-match").addEventListener("click", function () { step(-1); });

  // ------------------------------------------------------------------ filters
  var filterBoxes = Array.prototype.slice.call(document.querySelectorAll("#filters input"));
  function applyFilters() {
    var statuses = {}, onlyAffected = false, onlyProblems = false;
    filterBoxes.forEach(function (box) {
      var f = box.getAttribute("data-filter");
      if (f === "status") { statuses[box.value] = box.checked; }
      if (f === "affected") { onlyAffected = box.checked; }
      if (f === "problems") { onlyProblems = box.checked; }
      if (f === "implied") { svg.classList.toggle("hide-implied", !box.checked); }
    });
    var hidden = new Set(), withFindings = new Set(findings.map(function (f) {
      return f.package;
    }));
    data.nodes.forEach(function (n) {
      var status = n.status in statuses ? n.status : "invalid";
      var hide = statuses[status] === false ||
        (onlyAffected && !(affected && affected.has(n.name))) ||
        (onlyProblems && !blocked.has(n.name) && !withFindings.has(n.name));
      if (hide) { hidden.add(n.name); }
      if (nodeEls[n.name]) { nodeEls[n.name].classList.toggle("filtered", hide); }
    });
    edgeEls.forEach(function (e) {
      e.classList.toggle("filtered", hidden.has(e.getAttribute("data-source")) ||
        hidden.has(e.getAttribute("data-target")));
    });
    graph.setAttribute("data-hidden", String(hidden.size));
  }
  filterBoxes.forEach(function (box) { box.addEventListener("change", applyFilters); });

  // ------------------------------------------------------------------ focus
  var focusName = null, focusDepth = 0;
  var focusBar = document.getElementById("focus-bar");
  function neighbourhood(name, depth) {
    var keep = new Set([name]);
    [[deps, "target"], [dependents, "source"]].forEach(function (pair) {
      var seen = {}, queue = [name];
      seen[name] = 0;
      while (queue.length) {
        var here = queue.shift();
        if (seen[here] >= depth) { continue; }
        (pair[0][here] || []).forEach(function (e) {
          var next = e[pair[1]];
          if (!(next in seen)) { seen[next] = seen[here] + 1; keep.add(next); queue.push(next); }
        });
      }
    });
    return keep;
  }
  function setFocus(name, depth) {
    var params = new URLSearchParams(window.location.search);
    if (name && !byName[name]) {  // ?focus=typo: say so instead of silently showing everything
      document.getElementById("focus-text").textContent = "no package named " + name;
      focusBar.classList.add("on");
      graph.setAttribute("data-focus-error", name);
      return;
    }
    if (!name) {
      focusName = null;
      Object.keys(nodeEls).forEach(function (n) { nodeEls[n].classList.remove("out"); });
      edgeEls.forEach(function (e) { e.classList.remove("out"); });
      focusBar.classList.remove("on");
      graph.removeAttribute("data-focus");
      params.delete("focus"); params.delete("depth");
    } else {
      focusName = name; focusDepth = Math.max(0, depth);
      var keep = neighbourhood(name, focusDepth);
      Object.keys(nodeEls).forEach(function (n) { nodeEls[n].classList.toggle("out", !keep.has(n)); });
      edgeEls.forEach(function (e) {
        e.classList.toggle("out", !keep.has(e.getAttribute("data-source")) ||
          !keep.has(e.getAttribute("data-target")));
      });
      document.getElementById("focus-text").textContent =
        "Focus: " + name + " \u00b7 depth " + focusDepth + " \u00b7 " + keep.size + " packages";
      focusBar.title = "laid out on its own: monorepo graph --format html --focus " + name +
        " --depth " + focusDepth;
      focusBar.classList.add("on");
      graph.setAttribute("data-focus", name);
      params.set("focus", name); params.set("depth", String(focusDepth));
    }
    var query = params.toString();
    try {
      history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
    } catch (e) { /* file:// in some browsers */ }
    if (search.value.trim()) { runSearch(); }
    pin(focusName, false);  // the package the neighbourhood is about, and its two directions
    fit();
  }
  document.getElementById("focus-less").addEventListener("click", function () {
    if (focusName) { setFocus(focusName, focusDepth - 1); }
  });
  document.getElementById("focus-more").addEventListener("click", function () {
    if (focusName) { setFocus(focusName, focusDepth + 1); }
  });
  document.getElementById("focus-clear").addEventListener("click", function () { setFocus(null); });

  // ------------------------------------------------------------------ keys
  document.addEventListener("keydown", function (ev) {
    if (ev.target === search || ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    var s = size(), pan = 0.2;
    switch (ev.key) {
      case "+": case "=": zoomCenter(1.25); break;
      case "-": case "_": zoomCenter(0.8); break;
      case "0": case "f": fit(); break;
      case "1": zoomCenter(1 / view.k); break;
      case "ArrowLeft": view.x -= s.w * pan / view.k; apply(); break;
      case "ArrowRight": view.x += s.w * pan / view.k; apply(); break;
      case "ArrowUp": view.y -= s.h * pan / view.k; apply(); break;
      case "ArrowDown": view.y += s.h * pan / view.k; apply(); break;
      case "/": search.focus(); break;
      case "n": step(1); break;
      case "N": step(-1); break;
      case "v": stepFinding(1); break;
      case "V": stepFinding(-1); break;
      case "Escape": pin(null, false); break;
      default: return;
    }
    ev.preventDefault();
  });

  // ------------------------------------------------------------------ start
  var params = new URLSearchParams(window.location.search);
  fit();
  if (params.get("focus")) {
    var d = parseInt(params.get("depth") || "1", 10);
    setFocus(params.get("focus"), isNaN(d) ? 1 : d);
  }
  if (params.get("search")) { search.value = params.get("search"); runSearch(); }
  if (params.get("highlight")) { pin(params.get("highlight"), true); }
  else if (!pinned) { showPanel(null); }
  graph.setAttribute("data-ready", "true");
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


def _page_legend(view: GraphView) -> str:
    """Status colours, marks and edge styles (the SVG's own legend is hidden in the page)."""
    items = [
        f'<span><span class="box" style="background:{fill};border-color:{accent}"></span>'
        f"{status}</span>"
        for status, (fill, accent) in STATUS_COLORS.items()
    ]
    items += [
        f'<span><span class="box" style="border-color:{VIOLATION_COLOR};border-width:3px">'
        "</span>has findings / in a cycle</span>",
        f'<span><span class="box" style="border-color:{VIOLATION_COLOR};border-style:dashed">'
        "</span>blocked</span>",
    ]
    if view.affected is not None:
        items.append(
            f'<span><span class="box" style="border-color:#555;box-shadow:0 0 0 3px '
            f'{AFFECTED_COLOR}"></span>affected</span>'
        )
    for text, style in (
        ("runtime", "solid #7b8594"),
        ("optional", "dotted #7b8594"),
        ("dev", "dashed #7b8594"),
        ("violation", f"solid {VIOLATION_COLOR}"),
        ("implied by a longer path (faint)", "solid #d5d9df"),
    ):
        items.append(
            f'<span><span class="swatch" style="border-top:3px {style}"></span>{text}</span>'
        )
    return f'<div class="legend-row">{"".join(items)}</div>'


_KEYS = (
    "<div><kbd>wheel</kbd> zoom · <kbd>drag</kbd> pan · <kbd>+</kbd> <kbd>-</kbd> zoom · "
    "arrows pan</div><div><kbd>0</kbd> fit · <kbd>1</kbd> actual size · <kbd>/</kbd> search · "
    "<kbd>n</kbd>/<kbd>N</kbd> next/previous match · <kbd>v</kbd>/<kbd>V</kbd> next/previous "
    "finding · <kbd>Esc</kbd> clear</div>"
)


def _filters(view: GraphView, implied: frozenset[tuple[str, str]]) -> str:
    present = {node.status if node.status in STATUS_COLORS else "invalid" for node in view.nodes}
    parts = [
        f'<label><input type="checkbox" data-filter="status" value="{status}" checked> '
        f"{status}</label>"
        for status in STATUS_COLORS
        if status in present
    ]
    if implied:
        parts.append(
            '<label title="edges a longer path already implies (graph --reduce leaves them out)">'
            f'<input type="checkbox" data-filter="implied" checked> implied edges ({len(implied)})'
            "</label>"
        )
    parts.append(
        '<label title="packages with findings and the packages they block">'
        '<input type="checkbox" data-filter="problems"> problems only</label>'
    )
    if view.affected is not None:
        parts.append(
            '<label><input type="checkbox" data-filter="affected"> affected only '
            f"({len(view.affected)})</label>"
        )
    return f'<div id="filters" role="group" aria-label="Filters">{"".join(parts)}</div>'


def render_html(view: GraphView) -> str:
    """The whole view as one self-contained interactive HTML page."""
    css = _CSS % {
        "dep": DEPENDENCY_COLOR,
        "dependent": DEPENDENT_COLOR,
        "violation": VIOLATION_COLOR,
        "affected": AFFECTED_COLOR,
        "font": FONT_STACK,
    }
    title = escape(view.title)
    hint = (
        '<p class="hint">Hover a package to highlight its dependencies and dependents; '
        "click it to pin the highlight and show its details here; click the background to "
        "clear.</p>"
    )
    heading = "Findings" if view.findings is not None else "Violations"
    implied = frozenset() if view.reduced else implied_edges(view)
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
                f'<span class="counts" id="counts">{escape(counts_line(view))}</span>',
                '<div class="tools">',
                '<input id="search" type="search" placeholder="Search packages… (Enter: next)" '
                'autocomplete="off" aria-label="Search packages">',
                '<button id="prev-match" type="button" title="previous match (N)">◀</button>',
                '<button id="next-match" type="button" title="next match (Enter, n)">▶</button>',
                '<span id="match-count" aria-live="polite"></span>',
                '<span class="sep"></span>',
                '<button id="zoom-out" type="button" title="zoom out (-)">&minus;</button>',
                '<span id="zoom-level" class="counts">100%</span>',
                '<button id="zoom-in" type="button" title="zoom in (+)">+</button>',
                '<button id="fit" type="button" title="fit the whole graph (0)">Fit</button>',
                "</div>",
                _filters(view, implied),
                "</header>",
                "<main>",
                f'<div id="graph">{render_svg(view, implied=implied)}'
                '<div id="ruler" aria-hidden="true"></div>'
                '<div id="focus-bar"><span id="focus-text"></span>'
                '<button id="focus-less" type="button" title="one level less">depth &minus;</button>'
                '<button id="focus-more" type="button" title="one level more">depth +</button>'
                '<button id="focus-clear" type="button">show all</button></div>'
                '<div id="zoom-hint">wheel: zoom · drag: pan · 0: fit</div></div>',
                '<aside id="panel" aria-live="polite">',
                f'<h3>{heading} (<span id="findings-count">0</span>) '
                '<button id="next-finding" type="button" title="next finding (v)">next</button>'
                "</h3>",
                '<ul id="findings"></ul>',
                f'<template id="panel-hint">{hint}</template>',
                '<div id="panel-body"></div>',
                f'<div class="keys"><h3>Legend</h3>{_page_legend(view)}</div>',
                f'<div class="keys"><h3>Highlight</h3>{_legend_keys()}</div>',
                f'<div class="keys hint"><h3>Keys</h3>{_KEYS}</div>',
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
