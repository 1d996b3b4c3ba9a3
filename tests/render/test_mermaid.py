"""``render_mermaid``: ids, classes, link styles and, above all, linkStyle indexes."""

from __future__ import annotations

import re
from collections.abc import Callable

from monorepo_tools.render.mermaid import label_text, node_ids, render_mermaid
from monorepo_tools.render.model import (
    STATUS_COLORS,
    VIOLATION_COLOR,
    GraphEdge,
    GraphNode,
    GraphView,
)

ViewBuilder = Callable[..., GraphView]

_LINK = re.compile(r"^  (n\d+) (-->|-\.->)(?:\|(.*)\|)? (n\d+)$")
_NODE = re.compile(r'^  (n\d+)\["(.*)"\]:::(\w+)$')


def _links(text: str) -> list[tuple[str, str, str, str]]:
    """Every link statement in emission order: (source id, arrow, label, target id)."""
    return [
        (m.group(1), m.group(2), m.group(3) or "", m.group(4))
        for line in text.splitlines()
        if (m := _LINK.match(line))
    ]


def _link_styles(text: str) -> dict[int, str]:
    styles: dict[int, str] = {}
    for line in text.splitlines():
        if line.startswith("  linkStyle "):
            _, indexes, style = line.strip().split(" ")
            for index in indexes.split(","):
                styles[int(index)] = style
    return styles


def _view(make_view: ViewBuilder) -> GraphView:
    return make_view(
        [
            ("a.core", "stable", 0),
            ("b-util", "internal", 0),
            ("c-api", "supported", 1),
            ("d.plugin", "incubator", 2),
            ("e-app", "supported", 2),
        ],
        [
            ("c-api", "a.core"),
            GraphEdge("c-api", "b-util", "runtime", violating=True),
            GraphEdge("d.plugin", "a.core", "dev", extra="test"),
            GraphEdge("d.plugin", "c-api", "optional", extra="cli"),
            ("e-app", "a.core"),
            GraphEdge("e-app", "b-util", "runtime", violating=True),
            ("e-app", "c-api"),
        ],
    )


def test_header_and_class_defs(make_view: ViewBuilder) -> None:
    text = render_mermaid(_view(make_view))
    lines = text.splitlines()
    assert lines[:4] == ["---", 'title: "test repo"', "---", "flowchart TB"]
    for status, (fill, accent) in STATUS_COLORS.items():
        assert f"  classDef {status} fill:{fill},stroke:{accent},color:#1a1a1a" in lines


def test_ids_are_safe_and_labels_keep_the_real_name(make_view: ViewBuilder) -> None:
    view = _view(make_view)
    text = render_mermaid(view)
    ids = node_ids(view)
    assert list(ids.values()) == [f"n{i}" for i in range(len(view.nodes))]
    nodes = {
        m.group(1): (m.group(2), m.group(3))
        for line in text.splitlines()
        if (m := _NODE.match(line))
    }
    assert len(nodes) == len(view.nodes)
    for node in view.nodes:
        label, css_class = nodes[ids[node.name]]
        assert label == f"<b>{node.name}</b><br/>1.0.0<br/>{node.status}"
        assert css_class == node.status
    for node_id in nodes:
        assert re.fullmatch(r"[A-Za-z0-9_]+", node_id)


def test_every_edge_is_one_link_with_its_style(make_view: ViewBuilder) -> None:
    view = _view(make_view)
    ids = node_ids(view)
    links = _links(render_mermaid(view))
    assert [(s, t) for s, _, _, t in links] == [(ids[e.source], ids[e.target]) for e in view.edges]
    for edge, (_, arrow, label, _) in zip(view.edges, links, strict=True):
        if edge.kind == "runtime":
            assert (arrow, label) == ("-->", "")
        elif edge.kind == "dev":
            assert (arrow, label) == ("-.->", "dev")
        else:
            assert (arrow, label) == ("-.->", f'"[{edge.extra}]"')


def test_link_style_index_points_at_the_violating_edges(make_view: ViewBuilder) -> None:
    view = _view(make_view)
    text = render_mermaid(view)
    ids = node_ids(view)
    links = _links(text)
    styles = _link_styles(text)
    violating = {(ids[e.source], ids[e.target]) for e in view.edges if e.violating}
    assert len(violating) == 2
    assert {(links[i][0], links[i][3]) for i in styles} == violating
    assert set(styles.values()) == {f"stroke:{VIOLATION_COLOR},stroke-width:2px"}
    # Index 0 is not violating here, so an off-by-one would show.
    assert 0 not in styles


def test_no_link_style_without_violations(make_view: ViewBuilder) -> None:
    view = make_view([("a", "stable", 0), ("b", "stable", 1)], [("b", "a")])
    assert "linkStyle" not in render_mermaid(view)


def test_cycle_nodes_and_unknown_statuses(make_view: ViewBuilder) -> None:
    nodes = [
        GraphNode("x-1", "1", "stable", True, "p/x", 0, in_cycle=True),
        GraphNode("y-2", "1", "made-up", False, "p/y", 0),
    ]
    view = make_view(nodes, [])
    text = render_mermaid(view)
    assert f"  style n0 stroke:{VIOLATION_COLOR},stroke-width:3px" in text
    assert "style n1" not in text
    assert '  n1["<b>y-2</b><br/>1<br/>made-up"]:::invalid' in text.splitlines()


def test_edges_to_unknown_packages_get_their_own_ids(make_view: ViewBuilder) -> None:
    view = make_view([("a", "stable", 1)], [("a", "ghost.pkg")])
    text = render_mermaid(view)
    assert '  n1["ghost.pkg"]:::invalid' in text
    assert _links(text) == [("n0", "-->", "", "n1")]


def test_label_escaping() -> None:
    assert label_text('a"b<c>#d') == "a#quot;b#lt;c#gt;#35;d"
    assert label_text("line\nbreak") == "line break"


def test_deterministic(make_view: ViewBuilder) -> None:
    assert render_mermaid(_view(make_view)) == render_mermaid(_view(make_view))
