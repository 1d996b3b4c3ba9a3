"""``render_svg`` and ``render_html``: well-formed, complete, escaped, self-contained."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any

from monorepo_tools.render.html import graph_data, render_html, script_json
from monorepo_tools.render.layout import layout_graph
from monorepo_tools.render.model import (
    AFFECTED_COLOR,
    STATUS_COLORS,
    VIOLATION_COLOR,
    GraphEdge,
    GraphFinding,
    GraphNode,
    GraphView,
)
from monorepo_tools.render.select import implied_edges
from monorepo_tools.render.svg import counts_line, render_svg

ViewBuilder = Callable[..., GraphView]
Synthetic = Callable[..., GraphView]

SVG = "{http://www.w3.org/2000/svg}"


def _view(make_view: ViewBuilder) -> GraphView:
    return make_view(
        [
            ("core.base", "stable", 0),
            ("io-utils", "internal", 0),
            ("service-api", "supported", 1),
            ("plugin.x-y", "incubator", 2),
            GraphNode("odd", None, "bogus", False, "packages/odd", 1, in_cycle=True),
        ],
        [
            ("service-api", "core.base"),
            GraphEdge("service-api", "io-utils", "runtime", violating=True),
            GraphEdge("plugin.x-y", "service-api", "optional", extra="cli"),
            GraphEdge("plugin.x-y", "io-utils", "dev", extra="test"),
            ("odd", "core.base"),
        ],
    )


def _groups(root: ET.Element, cls: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == cls]


def _all_text(element: ET.Element) -> str:
    return " ".join(" ".join(t.itertext()) for t in element.iter(f"{SVG}text"))


def test_svg_is_well_formed_and_holds_every_node_once(make_view: ViewBuilder) -> None:
    view = _view(make_view)
    root = ET.fromstring(render_svg(view))
    assert root.tag == f"{SVG}svg"
    names = [g.get("data-name", "") for g in _groups(root, "node")]
    assert sorted(names) == sorted(node.name for node in view.nodes)
    assert len(names) == len(set(names))
    for g in _groups(root, "node"):
        node = view.node(g.get("data-name", ""))
        title = g.find(f"{SVG}title")
        assert title is not None and node.name in (title.text or "")
        rect = g.find(f"{SVG}rect")
        assert rect is not None
        fill, accent = STATUS_COLORS.get(node.status, STATUS_COLORS["invalid"])
        assert rect.get("fill") == fill
        assert rect.get("stroke") == (VIOLATION_COLOR if node.in_cycle else accent)
        texts = [t.text for t in g.iter(f"{SVG}text")]
        version = node.version if node.version is not None else "no version"
        assert texts == [node.name, version, node.status]
        name_text = next(g.iter(f"{SVG}text"))
        assert name_text.get("font-weight") == "700"


def test_svg_edges_carry_data_and_styles(make_view: ViewBuilder) -> None:
    view = _view(make_view)
    root = ET.fromstring(render_svg(view))
    edges = _groups(root, "edge")
    # Violations come last (drawn on top); otherwise the view's order.
    ordered = sorted(view.edges, key=lambda e: e.violating)
    assert [(g.get("data-source"), g.get("data-target"), g.get("data-kind")) for g in edges] == [
        (e.source, e.target, e.kind) for e in ordered
    ]
    for g, edge in zip(edges, ordered, strict=True):
        path = g.find(f"{SVG}path")
        assert path is not None and path.get("d", "").startswith("M")
        assert path.get("marker-end", "").startswith("url(#arrow")
        if edge.violating:
            assert path.get("stroke") == VIOLATION_COLOR
            assert float(path.get("stroke-width", "0")) > 2
        else:
            assert path.get("stroke") != VIOLATION_COLOR
        if edge.kind == "dev":
            assert path.get("stroke-dasharray")
        if edge.kind == "optional":
            assert "[cli]" in _all_text(g)
    markers = {m.get("id") for m in root.iter(f"{SVG}marker")}
    assert {"arrow", "arrow-violation", "arrow-dep", "arrow-dependent"} <= markers


def test_svg_legend_and_title_line(make_view: ViewBuilder) -> None:
    view = _view(make_view)
    root = ET.fromstring(render_svg(view))
    (legend,) = _groups(root, "legend")
    text = _all_text(legend)
    for word in [*STATUS_COLORS, "runtime", "optional", "dev", "violation"]:
        assert word in text
    assert counts_line(view) == "5 packages · 3 publishable · 5 edges · 1 violation"
    (title,) = [t for t in root.iter(f"{SVG}text") if t.get("class") == "title"]
    assert "".join(title.itertext()) == f"{view.title}{counts_line(view)}"
    assert "sans-serif" in root.get("font-family", "")


def test_svg_escapes_text(make_view: ViewBuilder) -> None:
    node = GraphNode("a<b>&c", '1.0"<', "stable", True, "x", 0)
    view = make_view([node], [], title='<script>alert("x")</script> & co')
    svg = render_svg(view)
    root = ET.fromstring(svg)
    assert "<script>" not in svg
    assert [g.get("data-name") for g in _groups(root, "node")] == ["a<b>&c"]
    assert view.title in "".join(root.itertext())


def test_svg_uses_the_given_layout_and_is_deterministic(demo_view: GraphView) -> None:
    layout = layout_graph(demo_view)
    assert render_svg(demo_view, layout) == render_svg(demo_view) == render_svg(demo_view)


def test_big_svg_parses(synthetic_view: Synthetic) -> None:
    view = synthetic_view(200, seed=2)
    root = ET.fromstring(render_svg(view))
    assert len(_groups(root, "node")) == 200
    assert len(_groups(root, "edge")) == len(view.edges)


# --------------------------------------------------------------------------- HTML

_NETWORK = re.compile(r"""(?:src|href|action)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE)


def _embedded_json(page: str) -> str:
    match = re.search(
        r'<script type="application/json" id="graph-data">(.*?)</script>', page, re.DOTALL
    )
    assert match is not None
    return match.group(1)


def test_html_is_self_contained(make_view: ViewBuilder, demo_view: GraphView) -> None:
    for view in (demo_view, _view(make_view)):
        page = render_html(view)
        assert page.startswith("<!DOCTYPE html>")
        assert not _NETWORK.search(page)
        assert "@import" not in page and "url(http" not in page
        # The only URL at all is the SVG namespace name, which is never fetched.
        assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}
        assert "<script src" not in page and "<link" not in page


def test_html_embeds_the_svg_and_the_interactions(demo_view: GraphView) -> None:
    page = render_html(demo_view)
    assert render_svg(demo_view) in page
    for needle in (
        'id="search"',
        'id="panel-body"',
        "mouseover",
        "click",
        'params.get("highlight")',
        "has-focus",
        "is-dep",
        "is-dependent",
    ):
        assert needle in page, needle


def test_html_json_round_trips(make_view: ViewBuilder) -> None:
    view = _view(make_view)
    data = json.loads(_embedded_json(render_html(view)))
    assert data == json.loads(json.dumps(graph_data(view)))
    assert [n["name"] for n in data["nodes"]] == [n.name for n in view.nodes]
    assert [(e["source"], e["target"], e["kind"], e["violating"]) for e in data["edges"]] == [
        (e.source, e.target, e.kind, e.violating) for e in view.edges
    ]


def test_html_json_cannot_close_its_script(make_view: ViewBuilder) -> None:
    node = GraphNode("evil", "1", "stable", True, "</script><script>alert(1)</script><!--", 0)
    view = make_view([node], [], title="</SCRIPT> title")
    page = render_html(view)
    payload = _embedded_json(page)
    assert "</" not in payload and "<!--" not in payload
    assert json.loads(payload)["nodes"][0]["path"] == node.path
    assert json.loads(script_json({"k": "</x>"})) == {"k": "</x>"}

    class Scripts(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.count = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.count += tag == "script"

    parser = Scripts()
    parser.feed(page)
    assert parser.count == 2  # the JSON and the code, nothing smuggled in


def test_html_deterministic(demo_view: GraphView) -> None:
    assert render_html(demo_view) == render_html(demo_view)


# --------------------------------------------------------------------------- marks and levels


def _marked(make_view: ViewBuilder, **changes: Any) -> GraphView:
    view = _view(make_view)
    findings = (
        GraphFinding(
            "internal-dependency", "service-api", "depends on io-utils", target="io-utils"
        ),
        GraphFinding("invalid-status", "odd", "bogus status"),
        GraphFinding("invalid-status", "odd", "twice"),
    )
    return replace(view, findings=findings, blocked=frozenset({"plugin.x-y"}), **changes)


def test_svg_labels_every_level_in_the_picture(make_view: ViewBuilder) -> None:
    view = _view(make_view)
    root = ET.fromstring(render_svg(view))
    levels = _groups(root, "level")
    assert [g.get("data-level") for g in levels] == ["2", "1", "0"]  # top of the picture first
    for g in levels:
        assert f"level {g.get('data-level')}" in _all_text(g)
    assert "published first" in _all_text(levels[-1])


def test_svg_marks_findings_blocked_and_affected(make_view: ViewBuilder) -> None:
    view = _marked(make_view, affected=frozenset({"core.base"}))
    root = ET.fromstring(render_svg(view))
    nodes = {
        g.get("data-name"): g for g in root.iter(f"{SVG}g") if "node" in (g.get("class") or "")
    }
    assert nodes["odd"].get("data-findings") == "2"
    badge = nodes["odd"].find(f"{SVG}circle")
    assert badge is not None and badge.get("fill") == VIOLATION_COLOR
    assert "2" in _all_text(nodes["odd"])
    assert nodes["service-api"].get("data-findings") == "1"
    blocked = nodes["plugin.x-y"]
    assert blocked.get("class") == "node blocked" and blocked.get("data-blocked") == "true"
    rect = next(r for r in blocked.iter(f"{SVG}rect") if r.get("class") != "halo")
    assert rect.get("stroke") == VIOLATION_COLOR and rect.get("stroke-dasharray")
    assert "incubator · blocked" in _all_text(blocked)
    affected = nodes["core.base"]
    assert "affected" in (affected.get("class") or "").split()
    assert [r.get("fill") for r in affected.iter(f"{SVG}rect") if r.get("class") == "halo"] == [
        AFFECTED_COLOR
    ]
    (legend,) = _groups(root, "legend")
    for word in ("has findings", "blocked", "affected"):
        assert word in _all_text(legend)
    # Without an affected set there is no affected mark and no legend entry for one.
    plain = ET.fromstring(render_svg(_marked(make_view)))
    (legend,) = _groups(plain, "legend")
    assert "affected" not in _all_text(legend)


def test_violations_are_drawn_last_and_thicker_in_big_pictures(synthetic_view: Synthetic) -> None:
    view = synthetic_view(300, seed=4)
    root = ET.fromstring(render_svg(view))
    groups = [g for g in root.iter(f"{SVG}g") if (g.get("class") or "").startswith("edges")]
    assert [g.get("class") for g in groups] == ["edges implied", "edges", "edges violations"]
    implied, normal, violations = groups
    # The edges --reduce would leave out are drawn first and faint; none is a violation.
    assert implied.get("opacity") == "0.3"
    assert {(g.get("data-source"), g.get("data-target")) for g in _groups(implied, "edge")} == (
        implied_edges(view)
    )
    assert all(g.get("data-violating") == "false" for g in _groups(implied, "edge"))
    assert all(g.get("data-violating") == "false" for g in _groups(normal, "edge"))
    assert len(_groups(violations, "edge")) == sum(e.violating for e in view.edges) > 0
    widths = {float(p.get("stroke-width", "0")) for p in violations.iter(f"{SVG}path")}
    assert min(widths) > 2.5  # scaled up with the picture
    assert normal.get("opacity")  # hundreds of grey curves are drawn lighter


def test_counts_line_with_findings_affected_and_focus(make_view: ViewBuilder) -> None:
    view = _marked(make_view, affected=frozenset({"core.base", "odd"}), unreadable=2)
    assert counts_line(view) == (
        "7 packages · 3 publishable · 5 edges · 1 violation · 3 findings · 1 blocked · 2 affected"
    )
    focused = replace(view, focus=("odd", 2))
    assert counts_line(focused).startswith("focus odd (depth 2) · ")


def test_html_lists_findings_and_offers_filters(make_view: ViewBuilder) -> None:
    view = _marked(make_view)
    page = render_html(view)
    data = json.loads(_embedded_json(page))
    assert [(f["code"], f["package"], f["target"]) for f in data["findings"]] == [
        ("internal-dependency", "service-api", "io-utils"),
        ("invalid-status", "odd", None),
        ("invalid-status", "odd", None),
    ]
    assert data["blocked"] == ["plugin.x-y"] and data["affected"] is None
    for status in ("stable", "supported", "incubator", "internal", "invalid"):
        assert f'data-filter="status" value="{status}"' in page
    assert 'data-filter="problems"' in page
    assert 'data-filter="affected"' not in page
    with_affected = render_html(replace(view, affected=frozenset({"odd"})))
    assert 'data-filter="affected"' in with_affected
    assert json.loads(_embedded_json(with_affected))["affected"] == ["odd"]
    for needle in ('id="findings"', 'id="fit"', 'id="zoom-in"', 'id="next-match"', 'id="ruler"'):
        assert needle in page
    # Only the statuses present get a checkbox.
    assert 'value="invalid"' not in render_html(make_view([("a", "stable", 0)]))
