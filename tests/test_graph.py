"""graph: levels, publish order, cycles, transitive dependents (networkx as the oracle), views."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import networkx as nx
import pytest
from engine_helpers import analyse

from monorepo_tools.config import Config
from monorepo_tools.graph import DependencyGraph, build_graph
from monorepo_tools.requirements import parse_requirement
from monorepo_tools.workspace import Dependency, EdgeKind, Package, build_workspace

ROOT = Path("/m")

Spec = Mapping[str, Iterable[str | tuple[str, str]]]  # name -> targets, or (target, kind)


def make_graph(spec: Spec, statuses: Mapping[str, str] | None = None) -> DependencyGraph:
    """A graph from hand-made packages: ``{"a": ["b", ("c", "dev")]}`` (a depends on b and c)."""
    packages = []
    for name, targets in spec.items():
        deps = []
        for target in targets:
            target_name, kind = (target, "runtime") if isinstance(target, str) else target
            field = {
                "runtime": "project.dependencies",
                "optional": "project.optional-dependencies.x",
                "dev": "dependency-groups.dev",
            }[kind]
            group = {"runtime": None, "optional": "x", "dev": "dev"}[kind]
            deps.append(
                Dependency(
                    parse_requirement(target_name, f"/m/packages/{name}"),
                    EdgeKind(kind),
                    group,
                    field,
                )
            )
        packages.append(
            Package(
                name=name,
                path=f"packages/{name}",
                declared_name=name,
                status=(statuses or {}).get(name, "stable"),
                status_declared=True,
                version="1.0",
                dependencies=tuple(deps),
            )
        )
    config = Config(ROOT, ("packages/*",), "test")
    return build_graph(build_workspace(config, packages))


# --------------------------------------------------------------------------------------------
# levels and publish order


def test_levels_of_the_clean_fixture(fixture_repo: Callable[[str], Path]) -> None:
    graph = analyse(fixture_repo("clean")).graph
    assert graph.levels == (
        ("normalized-events",),
        ("reporter", "runner-core"),
        ("agent-adapters", "sandbox-runner"),
    )
    assert graph.cycles == () and graph.components == ()
    assert graph.publish_order() == [
        "normalized-events",
        "reporter",
        "runner-core",
        "agent-adapters",
        "sandbox-runner",
    ]


def test_level_is_one_more_than_the_highest_dependency() -> None:
    # z <- y <- x, and w depends on z only: w is level 1 although it sorts first.
    graph = make_graph({"w": ["z"], "x": ["y", "z"], "y": ["z"], "z": []})
    assert graph.levels == (("z",), ("w", "y"), ("x",))
    assert graph.level_of == {"z": 0, "w": 1, "y": 1, "x": 2}


def test_publish_order_puts_dependencies_first_ties_by_name() -> None:
    graph = make_graph({"c": [], "b": [], "a": ["c"], "d": ["a", "b"], "e": []})
    order = graph.publish_order()
    assert order == ["b", "c", "e", "a", "d"]
    position = {name: i for i, name in enumerate(order)}
    for source, target in graph.blocking.edges:
        assert position[target] < position[source]
    assert graph.publish_order(["d", "c", "a"]) == ["c", "a", "d"]


def test_dev_and_optional_edges() -> None:
    # a dev edge does not constrain the order, an optional edge does
    graph = make_graph({"a": [("b", "dev")], "b": ["a"], "c": [("a", "optional")]})
    assert graph.levels == (("a",), ("b", "c"))
    assert graph.cycles == ()
    assert graph.dependencies("b") == ["a"]
    assert graph.dependencies("a") == []
    assert graph.dependencies("a", frozenset({EdgeKind.DEV})) == ["b"]
    assert graph.dependents("a") == ["b", "c"]
    assert graph.dependents("b", frozenset({EdgeKind.DEV})) == ["a"]
    assert graph.full.has_edge("a", "b") and not graph.blocking.has_edge("a", "b")


def test_one_networkx_edge_carries_every_requirement_of_a_pair() -> None:
    graph = make_graph({"a": ["b", ("b", "dev"), ("b", "optional")], "b": []})
    kinds = sorted(str(e.kind) for e in graph.full["a"]["b"]["edges"])
    assert kinds == ["dev", "optional", "runtime"]
    assert sorted(str(e.kind) for e in graph.blocking["a"]["b"]["edges"]) == ["optional", "runtime"]


# --------------------------------------------------------------------------------------------
# cycles


def test_cycle_is_listed_in_cycle_order_from_the_smallest_name() -> None:
    # a -> c -> b -> a: cycle order differs from sorted order
    graph = make_graph({"b": ["a"], "c": ["b"], "a": ["c"], "d": ["a"]})
    assert graph.cycles == (("a", "c", "b"),)
    assert graph.components == (("a", "b", "c"),)
    assert graph.levels == (("a", "b", "c"), ("d",))  # a cycle's members share a level


def test_two_cycles_and_a_cycle_with_a_chord() -> None:
    graph = make_graph({"p": ["q"], "q": ["p"], "x": ["y"], "y": ["z", "x"], "z": ["x"]})
    assert graph.components == (("p", "q"), ("x", "y", "z"))
    (pq, xyz) = graph.cycles
    assert pq == ("p", "q")
    assert xyz[0] == "x"
    ring = (*xyz, xyz[0])
    assert all(graph.blocking.has_edge(u, v) for u, v in itertools.pairwise(ring))


# --------------------------------------------------------------------------------------------
# transitive dependents


def _oracle(
    graph: nx.DiGraph, sources: Iterable[str], among: Iterable[str]
) -> dict[str, tuple[int, list[str]]]:
    keep = set(among)
    out = {}
    for source in sources:
        names = sorted((nx.ancestors(graph, source) & keep) - {source})
        out[source] = (len(names), names)
    return out


def test_transitive_dependents_small_dag() -> None:
    # d -> c -> a, e -> b -> a, f (isolated)
    graph = make_graph({"a": [], "b": ["a"], "c": ["a"], "d": ["c"], "e": ["b"], "f": []})
    everyone = list("abcdef")
    result = graph.transitive_dependents({"a", "b", "f"}, everyone)
    assert result == {
        "a": (4, ["b", "c", "d", "e"]),
        "b": (1, ["e"]),
        "f": (0, []),
    }
    # among filters, limit truncates (the count stays complete)
    assert graph.transitive_dependents({"a"}, ["c", "e"]) == {"a": (2, ["c", "e"])}
    assert graph.transitive_dependents({"a"}, everyone, limit=2) == {"a": (4, ["b", "c"])}
    assert graph.transitive_dependents(set(), everyone) == {}


def test_transitive_dependents_with_a_cycle() -> None:
    # a -> b -> c -> a, d -> a, c -> e
    graph = make_graph({"a": ["b"], "b": ["c"], "c": ["a", "e"], "d": ["a"], "e": []})
    result = graph.transitive_dependents({"a", "e", "d"}, "abcde")
    assert result == {
        "a": (3, ["b", "c", "d"]),
        "e": (4, ["a", "b", "c", "d"]),
        "d": (0, []),
    }
    assert result == _oracle(graph.blocking, ["a", "e", "d"], "abcde")


def _random_graph(rng: random.Random, n: int, p: float, acyclic: bool) -> dict[str, list[str]]:
    names = [f"p{i:02d}" for i in range(n)]
    order = names[:]
    rng.shuffle(order)  # the topological order is not the name order
    spec: dict[str, list[str]] = {name: [] for name in names}
    for i, source in enumerate(order):
        for j, target in enumerate(order):
            if i == j or (acyclic and j < i):
                continue
            if rng.random() < p:
                spec[source].append(target)
    return spec


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("acyclic", [True, False], ids=["dag", "cyclic"])
def test_transitive_dependents_against_networkx(seed: int, acyclic: bool) -> None:
    rng = random.Random(seed)
    spec = _random_graph(rng, 50, 0.06 if acyclic else 0.03, acyclic)
    graph = make_graph(spec)
    names = sorted(spec)
    # both branches of the implementation are exercised: plain DAG, and condensation
    assert nx.is_directed_acyclic_graph(graph.blocking) is acyclic
    assert bool(graph.cycles) is not acyclic
    sources = rng.sample(names, 20)
    among = rng.sample(names, 35)
    assert graph.transitive_dependents(sources, among) == _oracle(graph.blocking, sources, among)
    limited = graph.transitive_dependents(sources, among, limit=3)
    for source, (count, listed) in _oracle(graph.blocking, sources, among).items():
        assert limited[source] == (count, listed[:3])


@pytest.mark.parametrize("seed", range(4))
def test_levels_against_networkx_on_random_dags(seed: int) -> None:
    rng = random.Random(100 + seed)
    graph = make_graph(_random_graph(rng, 50, 0.06, acyclic=True))
    dag = graph.blocking
    expected: dict[str, int] = {}
    for node in reversed(list(nx.topological_sort(dag))):
        expected[node] = 1 + max((expected[s] for s in dag.successors(node)), default=-1)
    assert graph.level_of == expected
    for level in graph.levels:
        assert list(level) == sorted(level)
    position = {name: i for i, name in enumerate(graph.publish_order())}
    assert all(position[t] < position[s] for s, t in dag.edges)


# --------------------------------------------------------------------------------------------
# the view the renderers draw


def test_view_of_the_internal_dependency_fixture(fixture_repo: Callable[[str], Path]) -> None:
    from monorepo_tools.rules import violating_edges

    result = analyse(fixture_repo("internal-dependency"))
    view = result.graph.view(violating=violating_edges(result.workspace))
    assert [n.name for n in view.nodes] == [
        "secret-core",
        "service",
        "frontend",
        "internal-tool",
        "dashboard",
    ]
    assert [(n.level, n.status, n.publishable) for n in view.nodes][:2] == [
        (0, "internal", False),
        (1, "supported", True),
    ]
    edges = [(e.source, e.target, e.kind, e.extra, e.violating) for e in view.edges]
    assert edges == [
        ("dashboard", "frontend", "runtime", None, False),
        ("frontend", "service", "runtime", None, False),
        ("internal-tool", "service", "runtime", None, False),
        ("service", "secret-core", "dev", "dev", False),
        ("service", "secret-core", "optional", "cli", True),
        ("service", "secret-core", "runtime", None, True),
    ]
    only = result.graph.view(publishable_only=True)
    # internal-tool is internal and no publishable package depends on it; secret-core stays
    assert [n.name for n in only.nodes] == ["secret-core", "service", "frontend", "dashboard"]
    assert all("internal-tool" not in (e.source, e.target) for e in only.edges)


def test_view_marks_cycles_and_invalid_statuses() -> None:
    graph = make_graph({"a": ["b"], "b": ["a", ("c", "dev")], "c": []}, {"c": "Stabel"})
    view = graph.view()
    assert {n.name: (n.in_cycle, n.status) for n in view.nodes} == {
        "a": (True, "stable"),
        "b": (True, "stable"),
        "c": (False, "invalid"),
    }
    assert {(e.source, e.target): e.violating for e in view.edges} == {
        ("a", "b"): True,
        ("b", "a"): True,
        ("b", "c"): False,  # dev edges are never violations
    }
