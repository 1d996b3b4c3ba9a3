"""Hand-made ``GraphView`` values for the renderer tests (exposed as fixtures)."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import pytest

from monorepo_tools.render.model import GraphEdge, GraphNode, GraphView

PUBLISHABLE = {"stable", "supported", "incubator"}

NodeSpec = tuple[str, str, int]  # (name, status, level)
EdgeSpec = tuple[str, str] | tuple[str, str, str] | tuple[str, str, str, str | None, bool]
ViewBuilder = Callable[..., GraphView]


def build_view(
    nodes: Sequence[NodeSpec | GraphNode],
    edges: Sequence[EdgeSpec | GraphEdge] = (),
    title: str = "test repo",
) -> GraphView:
    """A view sorted the way ``graph.py`` sorts it; edges default to ``runtime``."""
    graph_nodes = [
        spec
        if isinstance(spec, GraphNode)
        else GraphNode(
            name=spec[0],
            version="1.0.0",
            status=spec[1],
            publishable=spec[1] in PUBLISHABLE,
            path=f"packages/{spec[0]}",
            level=spec[2],
        )
        for spec in nodes
    ]
    graph_edges: list[GraphEdge] = []
    for spec in edges:
        if isinstance(spec, GraphEdge):
            graph_edges.append(spec)
        elif len(spec) == 2:
            graph_edges.append(GraphEdge(spec[0], spec[1], "runtime"))
        elif len(spec) == 3:
            graph_edges.append(GraphEdge(spec[0], spec[1], spec[2]))
        else:
            graph_edges.append(GraphEdge(spec[0], spec[1], spec[2], spec[3], spec[4]))
    graph_nodes.sort(key=lambda node: (node.level, node.name))
    graph_edges.sort(key=lambda edge: (edge.source, edge.target, edge.kind, edge.extra or ""))
    top = max((node.level for node in graph_nodes), default=-1)
    levels = tuple(
        tuple(node.name for node in graph_nodes if node.level == level) for level in range(top + 1)
    )
    return GraphView(nodes=tuple(graph_nodes), edges=tuple(graph_edges), levels=levels, title=title)


def demo() -> GraphView:
    return build_view(
        [
            ("normalized-events", "stable", 0),
            ("runner-core", "supported", 1),
            ("reporter", "supported", 1),
            ("agent-adapters", "incubator", 2),
            ("sandbox-runner", "internal", 2),
        ],
        [
            ("runner-core", "normalized-events"),
            ("reporter", "normalized-events"),
            ("agent-adapters", "runner-core"),
            ("agent-adapters", "normalized-events"),
            ("agent-adapters", "sandbox-runner", "dev", "test", False),
            ("sandbox-runner", "runner-core"),
        ],
        title="demo",
    )


def synthetic(count: int, seed: int = 1, levels: int = 7) -> GraphView:
    """``count`` packages over ``levels`` levels, 3-6 dependencies each on lower levels."""
    rng = random.Random(seed)
    names = [f"pkg-{i:04d}.{rng.choice(['api', 'core', 'utils'])}" for i in range(count)]
    per_level = max(1, count // levels)
    level_of = {name: min(i // per_level, levels - 1) for i, name in enumerate(names)}
    statuses = ("stable", "supported", "incubator", "internal")
    nodes: list[NodeSpec] = [(name, rng.choice(statuses), level_of[name]) for name in names]
    edges: list[EdgeSpec] = []
    for name in names:
        level = level_of[name]
        if level == 0:
            continue
        below = [other for other in names if level_of[other] < level]
        previous = [other for other in below if level_of[other] == level - 1]
        deps = {rng.choice(previous)}
        want = rng.randint(3, 6)
        while len(deps) < min(want, len(below)):
            deps.add(rng.choice(below))
        for dep in sorted(deps):
            kind = "dev" if rng.random() < 0.05 else "runtime"
            edges.append((name, dep, kind, None, rng.random() < 0.02))
    return build_view(nodes, edges, title=f"synthetic {count}")


@pytest.fixture
def make_view() -> ViewBuilder:
    return build_view


@pytest.fixture
def demo_view() -> GraphView:
    return demo()


@pytest.fixture
def synthetic_view() -> Callable[..., GraphView]:
    return synthetic
