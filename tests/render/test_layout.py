"""``layout_graph``: levels go down, boxes never overlap, edges avoid boxes, output is stable."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

import pytest

from monorepo_tools.render.layout import (
    BOX_HEIGHT,
    NAME_FONT_SIZE,
    EdgePath,
    Layout,
    NodeBox,
    layout_graph,
    text_width,
)
from monorepo_tools.render.model import GraphEdge, GraphView

ViewBuilder = Callable[..., GraphView]
Synthetic = Callable[..., GraphView]


def _overlap(a: NodeBox, b: NodeBox) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def _assert_no_overlap(layout: Layout) -> None:
    boxes = sorted(layout.boxes, key=lambda box: (box.y, box.x))
    for i, box in enumerate(boxes):
        for other in boxes[i + 1 :]:
            if other.y >= box.bottom:
                break
            assert not _overlap(box, other), (box, other)


def _samples(path: EdgePath, steps: int = 12) -> list[tuple[float, float]]:
    points = []
    here = path.start
    for c1, c2, end in path.segments:
        for k in range(1, steps):
            t = k / steps
            u = 1 - t
            points.append(
                (
                    u**3 * here[0] + 3 * u * u * t * c1[0] + 3 * u * t * t * c2[0] + t**3 * end[0],
                    u**3 * here[1] + 3 * u * u * t * c1[1] + 3 * u * t * t * c2[1] + t**3 * end[1],
                )
            )
        here = end
    return points


def _assert_edges_avoid_boxes(layout: Layout) -> None:
    """No point of any curve lies inside a box other than the edge's own two."""
    rows: dict[float, list[NodeBox]] = {}
    for box in layout.boxes:
        rows.setdefault(box.y, []).append(box)
    tops = sorted(rows)
    for path in layout.edges:
        for x, y in _samples(path):
            row = bisect_right(tops, y - 1) - 1  # the last row starting above y
            if row < 0:
                continue
            for box in rows[tops[row]]:
                if box.name in (path.source, path.target):
                    continue
                inside = box.x + 1 < x < box.right - 1 and box.y + 1 < y < box.bottom - 1
                assert not inside, (path.source, path.target, box.name, (x, y))


def _assert_levels_go_down(view: GraphView, layout: Layout) -> None:
    for edge in view.edges:
        source, target = layout.box(edge.source), layout.box(edge.target)
        if view.node(edge.source).level > view.node(edge.target).level:
            assert target.y > source.bottom, edge
    for box in layout.boxes:
        for other in layout.boxes:
            if box.level < other.level:
                assert box.y > other.bottom


def test_demo_layout(demo_view: GraphView) -> None:
    layout = layout_graph(demo_view)
    assert [box.name for box in layout.boxes] == [node.name for node in demo_view.nodes]
    assert [(e.source, e.target) for e in layout.edges] == [
        (e.source, e.target) for e in demo_view.edges
    ]
    _assert_levels_go_down(demo_view, layout)
    _assert_no_overlap(layout)
    _assert_edges_avoid_boxes(layout)
    for box in layout.boxes:
        assert box.x >= 0 and box.y >= 0
        assert box.right <= layout.width and box.bottom <= layout.height
        assert box.height == BOX_HEIGHT


def test_edges_run_from_bottom_of_dependent_to_top_of_dependency(demo_view: GraphView) -> None:
    layout = layout_graph(demo_view)
    for path in layout.edges:
        source, target = layout.box(path.source), layout.box(path.target)
        assert source.x < path.start[0] < source.right
        assert target.x < path.end[0] < target.right
        if source.bottom < target.y:
            assert path.start[1] == source.bottom
            assert path.end[1] == target.y
        assert path.svg_d().startswith("M") and " C" in path.svg_d()


def test_same_row_dev_edge_arcs_over_the_row(demo_view: GraphView) -> None:
    layout = layout_graph(demo_view)
    (arc,) = [p for p in layout.edges if p.kind == "dev"]
    source = layout.box(arc.source)
    assert arc.start[1] == source.y and arc.end[1] == layout.box(arc.target).y
    assert all(y < source.y for _, y in _samples(arc))
    assert all(y >= 0 for _, y in _samples(arc))


def test_upward_edges_leave_by_the_top(make_view: ViewBuilder) -> None:
    view = make_view(
        [("low", "stable", 0), ("mid", "stable", 1), ("high", "stable", 2)],
        [("mid", "low"), ("high", "mid"), ("low", "high", "dev")],
    )
    layout = layout_graph(view)
    (up,) = [p for p in layout.edges if p.kind == "dev"]
    assert up.start[1] == layout.box("low").y
    assert up.end[1] == layout.box("high").bottom
    _assert_edges_avoid_boxes(layout)


def test_boxes_fit_their_text(make_view: ViewBuilder) -> None:
    long_name = "a-really-quite-long-package-name.with-a-suffix"
    view = make_view([("x", "stable", 0), (long_name, "internal", 0)])
    layout = layout_graph(view)
    assert layout.box(long_name).width >= text_width(long_name, NAME_FONT_SIZE, bold=True) + 20
    assert layout.box("x").width < layout.box(long_name).width
    assert text_width("mmm", 12) > text_width("iii", 12)
    assert text_width("abc", 12, bold=True) > text_width("abc", 12)


def test_barycenter_removes_an_avoidable_crossing(make_view: ViewBuilder) -> None:
    # Alphabetical order crosses: a -> z-dep, b -> y-dep.
    view = make_view(
        [("y-dep", "stable", 0), ("z-dep", "stable", 0), ("a", "stable", 1), ("b", "stable", 1)],
        [("a", "z-dep"), ("b", "y-dep")],
    )
    layout = layout_graph(view)
    a_left = layout.box("a").x < layout.box("b").x
    z_left = layout.box("z-dep").x < layout.box("y-dep").x
    assert a_left == z_left


def test_wide_levels_wrap_into_rows(make_view: ViewBuilder) -> None:
    nodes = [(f"leaf-{i:02d}", "stable", 0) for i in range(40)] + [("top", "stable", 1)]
    edges = [("top", f"leaf-{i:02d}") for i in range(40)]
    view = make_view(nodes, edges)
    layout = layout_graph(view, max_per_row=12)
    leaves = [box for box in layout.boxes if box.level == 0]
    rows: dict[float, int] = {}
    for box in leaves:
        rows[box.y] = rows.get(box.y, 0) + 1
    assert len(rows) == 4 and max(rows.values()) <= 12
    assert {box.row for box in leaves} == {0, 1, 2, 3}
    widest = max(box.width for box in layout.boxes)
    assert layout.width < 12 * (widest + 100)
    _assert_levels_go_down(view, layout)
    _assert_no_overlap(layout)
    _assert_edges_avoid_boxes(layout)


def test_deterministic(synthetic_view: Synthetic) -> None:
    first = layout_graph(synthetic_view(120, seed=5))
    again = layout_graph(synthetic_view(120, seed=5))
    assert first == again


@pytest.mark.parametrize("count", [60, 200])
def test_synthetic_repositories(synthetic_view: Synthetic, count: int) -> None:
    view = synthetic_view(count, seed=count)
    layout = layout_graph(view)
    assert len(layout.boxes) == count
    assert len(layout.edges) == len(view.edges)
    _assert_levels_go_down(view, layout)
    _assert_no_overlap(layout)
    _assert_edges_avoid_boxes(layout)
    # Wrapping keeps even 200 packages to a readable width.
    assert layout.width < 4000


def test_thousand_packages(synthetic_view: Synthetic) -> None:
    # How long this takes is measured in benchmarks/bench_render.py, not asserted here.
    view = synthetic_view(1000, seed=11, levels=12)
    layout = layout_graph(view)
    assert len(layout.boxes) == 1000
    # The automatic row width keeps the picture about as wide as a screen for its height.
    assert 0.8 < layout.width / layout.height < 3.2
    _assert_levels_go_down(view, layout)
    _assert_no_overlap(layout)


def test_level_bands_enclose_their_boxes(synthetic_view: Synthetic) -> None:
    view = synthetic_view(120, seed=5, levels=6)
    layout = layout_graph(view)
    assert [band.level for band in layout.bands] == list(range(5, -1, -1))  # top band first
    by_level = {band.level: band for band in layout.bands}
    for box in layout.boxes:
        band = by_level[box.level]
        assert band.top <= box.y and box.bottom <= band.bottom
    assert sum(band.count for band in layout.bands) == 120
    for upper, lower in zip(layout.bands, layout.bands[1:], strict=False):
        assert upper.bottom < lower.top


def test_empty_and_dangling(make_view: ViewBuilder) -> None:
    empty = layout_graph(make_view([], []))
    assert empty.boxes == () and empty.edges == () and empty.width > 0
    dangling = make_view(
        [("a", "stable", 0)], [GraphEdge("a", "missing", "runtime"), GraphEdge("a", "a", "dev")]
    )
    layout = layout_graph(dangling)
    assert [box.name for box in layout.boxes] == ["a"] and layout.edges == ()
    with pytest.raises(ValueError):
        layout_graph(dangling, max_per_row=0)
