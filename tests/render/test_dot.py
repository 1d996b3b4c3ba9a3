"""``render_dot``: structure, styles, quoting, and (when Graphviz is installed) real layout."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable

import pytest

from monorepo_tools.render.dot import quote, render_dot
from monorepo_tools.render.model import STATUS_COLORS, VIOLATION_COLOR, GraphEdge, GraphView

ViewBuilder = Callable[..., GraphView]

_EDGE = re.compile(r'^  "((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)"(?: \[(.*)\])?;$')


def _unquoted(text: str) -> str:
    """``text`` without its double-quoted strings (to count structural characters)."""
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)


def _edge_lines(dot: str) -> list[tuple[str, str, str]]:
    found = []
    for line in dot.splitlines():
        match = _EDGE.match(line)
        if match and not match.group(1).startswith("__level_"):
            found.append((match.group(1), match.group(2), match.group(3) or ""))
    return found


def _rich_view(make_view: ViewBuilder) -> GraphView:
    return make_view(
        [
            ("core.base", "stable", 0),
            ("io-utils", "internal", 0),
            ("service-api", "supported", 1),
            ("plugin.x-y", "incubator", 2),
            ("odd", "weird-status", 1),
            ("lonely", "stable", 0),  # no edge at all: only the level puts it at the bottom
        ],
        [
            ("service-api", "core.base"),
            GraphEdge("service-api", "io-utils", "runtime", violating=True),
            GraphEdge("plugin.x-y", "service-api", "optional", extra="cli"),
            GraphEdge("plugin.x-y", "io-utils", "dev", extra="test"),
            ("odd", "core.base"),
        ],
    )


def test_digraph_header_and_balanced_braces(make_view: ViewBuilder) -> None:
    dot = render_dot(_rich_view(make_view))
    assert dot.startswith('digraph "test repo" {\n')
    assert dot.endswith("}\n")
    assert "rankdir=TB;" in dot
    bare = _unquoted(dot)
    assert bare.count("{") == bare.count("}")
    assert bare.count("[") == bare.count("]")
    # Every line outside strings ends a statement or opens/closes a block.
    for line in dot.splitlines():
        assert line.endswith((";", "{", "}")), line


def test_every_node_with_status_colours_and_three_line_label(make_view: ViewBuilder) -> None:
    view = _rich_view(make_view)
    dot = render_dot(view)
    for node in view.nodes:
        fill, accent = STATUS_COLORS.get(node.status, STATUS_COLORS["invalid"])
        lines = [line for line in dot.splitlines() if line.startswith(f"  {quote(node.name)} [")]
        assert len(lines) == 1, node.name
        assert f'label="{node.name}\\n1.0.0\\n{node.status}"' in lines[0]
        assert f'fillcolor="{fill}"' in lines[0]
        assert f'color="{accent}"' in lines[0]


def test_every_edge_once_with_its_style(make_view: ViewBuilder) -> None:
    view = _rich_view(make_view)
    edges = _edge_lines(render_dot(view))
    assert [(source, target) for source, target, _ in edges] == [
        (edge.source, edge.target) for edge in view.edges
    ]
    by_pair = {(source, target): attrs for source, target, attrs in edges}
    assert "style=dashed" in by_pair[("plugin.x-y", "io-utils")]
    assert "constraint=false" in by_pair[("plugin.x-y", "io-utils")]
    assert "style=dotted" in by_pair[("plugin.x-y", "service-api")]
    assert 'label="cli"' in by_pair[("plugin.x-y", "service-api")]
    violating = by_pair[("service-api", "io-utils")]
    assert f'color="{VIOLATION_COLOR}"' in violating and "penwidth=2" in violating
    plain = by_pair[("service-api", "core.base")]
    assert plain == ""


def test_levels_share_a_rank(make_view: ViewBuilder) -> None:
    view = _rich_view(make_view)
    dot = render_dot(view)
    ranks = re.findall(r"\{rank=same; (.*)\}", dot)
    assert len(ranks) == len(view.levels)
    for names, line in zip(view.levels, ranks, strict=True):
        members = re.findall(r'"([^"]*)";', line)
        assert [m for m in members if not m.startswith("__level_")] == list(names)


def test_cycle_nodes_get_a_red_border(make_view: ViewBuilder) -> None:
    from monorepo_tools.render.model import GraphNode

    nodes = [
        GraphNode("a", "1", "stable", True, "packages/a", 0, in_cycle=True),
        GraphNode("b", "1", "stable", True, "packages/b", 0, in_cycle=True),
        GraphNode("c", "1", "stable", True, "packages/c", 0),
    ]
    view = make_view(nodes, [GraphEdge("a", "b", "runtime", violating=True), ("b", "a")])
    lines = {line.split(" [")[0].strip(): line for line in render_dot(view).splitlines()}
    assert f'color="{VIOLATION_COLOR}"' in lines['"a"'] and "penwidth=3" in lines['"a"']
    assert VIOLATION_COLOR not in lines['"c"']


def test_quoting_survives_hostile_text(make_view: ViewBuilder) -> None:
    from monorepo_tools.render.model import GraphNode

    node = GraphNode('we"ird\\name', None, "stable", True, 'pa"th', 0)
    view = make_view([node], [], title='t"i\\tle\nnext')
    dot = render_dot(view)
    assert quote('we"ird\\name') == '"we\\"ird\\\\name"'
    assert '"we\\"ird\\\\name" [label="we\\"ird\\\\name\\nno version\\nstable"' in dot
    assert 'digraph "t\\"i\\\\tle\\nnext" {' in dot
    assert _unquoted(dot).count("{") == _unquoted(dot).count("}")


def test_deterministic(make_view: ViewBuilder) -> None:
    assert render_dot(_rich_view(make_view)) == render_dot(_rich_view(make_view))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")
def test_graphviz_accepts_it_and_draws_dependencies_below(
    make_view: ViewBuilder, demo_view: GraphView
) -> None:
    for view in (demo_view, _rich_view(make_view)):
        result = subprocess.run(
            ["dot", "-Tjson0"], input=render_dot(view), capture_output=True, text=True, check=True
        )
        assert result.stderr == ""
        drawn = json.loads(result.stdout)
        # Graphviz's y grows upwards: a dependency sits lower, so its y is smaller.
        y = {
            obj["name"]: float(obj["pos"].split(",")[1])
            for obj in drawn["objects"]
            if "pos" in obj  # the rank=same groups are objects too
        }
        for edge in view.edges:
            if view.node(edge.source).level > view.node(edge.target).level:
                assert y[edge.target] < y[edge.source], edge
        # Isolated packages too: levels stack in order whatever the edges.
        for node in view.nodes:
            for other in view.nodes:
                if node.level < other.level:
                    assert y[node.name] < y[other.name]
