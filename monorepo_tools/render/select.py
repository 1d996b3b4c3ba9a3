"""Cutting a :class:`GraphView` down: one package's neighbourhood, the transitive reduction.

Contract: pure functions ``GraphView -> GraphView``, shared by every format (``graph --focus``
and ``graph --reduce`` give the same packages and edges in text, json, dot, mermaid, svg and
html). The result keeps the view's conventions: nodes sorted by (level, name), edges sorted,
``levels[i]`` still lists the level-``i`` packages (a level with none left is an empty tuple,
so level numbers keep their meaning).

* :func:`focus_view` keeps ``name``, what it depends on up to ``depth`` edges down, and what
  depends on it up to ``depth`` edges up (every kind of edge counts), and the edges among them.
  Siblings (other dependents of a dependency) are not pulled in: the picture answers "what does
  this package need, and who needs it".
* :func:`reduce_view` leaves out each runtime/optional edge ``a -> c`` that is implied by a
  longer path ``a -> b -> ... -> c`` of runtime/optional edges. Violating edges always stay (they
  are what the picture is for), dev edges stay, and edges inside a dependency cycle stay; of
  several edges from one cycle to the same package, the first by name stays.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict, deque
from dataclasses import replace

import networkx as nx

from ..errors import ConfigError
from .model import GraphEdge, GraphView

__all__ = ["FocusError", "focus_view", "implied_edges", "reduce_view"]

_BLOCKING = ("runtime", "optional")


class FocusError(ConfigError):
    """A bad ``--focus``/``--depth``: unknown package (the message names close matches)."""


def focus_view(view: GraphView, name: str, depth: int) -> GraphView:
    """``name`` and its neighbourhood ``depth`` edges deep in both directions (see above)."""
    if depth < 0:
        raise FocusError(f"--depth must be 0 or more, not {depth}")
    names = {node.name for node in view.nodes}
    by_normal = {_normalize(n): n for n in names}
    wanted = name if name in names else by_normal.get(_normalize(name), "")
    if not wanted:
        close = difflib.get_close_matches(_normalize(name), sorted(names), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise FocusError(
            f"no package named {name!r} in the graph{hint} "
            "(use a name from `monorepo graph`; names are compared normalized, PEP 503)"
        )
    down: dict[str, list[str]] = defaultdict(list)
    up: dict[str, list[str]] = defaultdict(list)
    for edge in view.edges:
        down[edge.source].append(edge.target)
        up[edge.target].append(edge.source)
    keep = {wanted}
    for adjacency in (down, up):
        seen = {wanted: 0}
        queue = deque([wanted])
        while queue:
            here = queue.popleft()
            if seen[here] == depth:
                continue
            for other in adjacency.get(here, ()):
                if other not in seen:
                    seen[other] = seen[here] + 1
                    queue.append(other)
        keep |= seen.keys()
    return _subset(view, keep, focus=(wanted, depth))


def reduce_view(view: GraphView) -> GraphView:
    """The view without runtime/optional edges implied by longer paths (see above)."""
    implied = implied_edges(view)
    edges = tuple(edge for edge in view.edges if (edge.source, edge.target) not in implied)
    return replace(view, edges=edges, reduced=True)


def implied_edges(view: GraphView) -> frozenset[tuple[str, str]]:
    """The (source, target) pairs :func:`reduce_view` leaves out (never a violating one)."""
    graph: nx.DiGraph[str] = nx.DiGraph()
    graph.add_nodes_from(node.name for node in view.nodes)
    graph.add_edges_from((e.source, e.target) for e in view.edges if e.kind in _BLOCKING)
    if nx.is_directed_acyclic_graph(graph):
        kept = set(nx.transitive_reduction(graph).edges)
    else:
        condensed = nx.condensation(graph)
        mapping: dict[str, int] = condensed.graph["mapping"]
        reduced = set(nx.transitive_reduction(condensed).edges)
        # One edge per pair of components the reduction keeps (the first by name), and every
        # edge inside a cycle.
        kept = set()
        for s, t in sorted(graph.edges):
            pair = (mapping[s], mapping[t])
            if pair[0] == pair[1]:
                kept.add((s, t))
            elif pair in reduced:
                kept.add((s, t))
                reduced.discard(pair)
    keep_anyway = {(e.source, e.target) for e in view.edges if e.violating}
    return frozenset(
        (e.source, e.target)
        for e in view.edges
        if e.kind in _BLOCKING
        and (e.source, e.target) not in kept
        and (e.source, e.target) not in keep_anyway
    )


def _subset(view: GraphView, keep: set[str], focus: tuple[str, int] | None) -> GraphView:
    edges: tuple[GraphEdge, ...] = tuple(
        edge for edge in view.edges if edge.source in keep and edge.target in keep
    )
    findings = view.findings
    if findings is not None:
        findings = tuple(f for f in findings if f.package in keep)
    affected = view.affected
    if affected is not None:
        affected = affected & keep
    return replace(
        view,
        nodes=tuple(node for node in view.nodes if node.name in keep),
        edges=edges,
        levels=tuple(tuple(n for n in level if n in keep) for level in view.levels),
        findings=findings,
        blocked=view.blocked & keep,
        affected=affected,
        unreadable=0,
        focus=focus,
    )


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
