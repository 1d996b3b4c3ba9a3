"""The value every graph view renders: plain, immutable, already sorted.

`graph.py` turns a workspace into a :class:`GraphView`; the renderers (`text`, `json`, `dot`,
`mermaid`, `svg`, `html`) are pure functions ``GraphView -> str`` and never look at files, so
they are tested with hand-made values.

Conventions the renderers rely on:

* ``nodes`` are sorted by (level, name); ``levels[i]`` lists the names in level ``i`` (level 0
  holds the packages with no internal runtime/optional dependency; a package's level is one more
  than the highest level of what it depends on), so "dependencies below dependents" in a
  drawing means: level 0 at the bottom.
* ``edges`` go from a dependent to its dependency (``source`` depends on ``target``), sorted by
  (source, target, kind, extra); there is one edge per distinct kind, so a pair can appear twice
  (e.g. runtime and dev).
* ``violating`` marks an edge that breaks a publishing rule (a publishable package depending on a
  non-publishable one, or an edge inside a dependency cycle): renderers draw it red.
* ``affected`` is the set of package names ``--affected-since REF`` found (None: not asked).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["STATUS_COLORS", "GraphEdge", "GraphNode", "GraphView"]

# One palette for every view, so the SVG, the HTML page, DOT and Mermaid agree.
# (fill, stroke/text accent) per status; "invalid" is a status outside the allowed four.
STATUS_COLORS: dict[str, tuple[str, str]] = {
    "stable": ("#d9f2d9", "#2e7d32"),
    "supported": ("#dbe9fb", "#1f5fae"),
    "incubator": ("#fff1cc", "#b7791f"),
    "internal": ("#e6e6e6", "#555555"),
    "invalid": ("#fde2e1", "#c62828"),
}
VIOLATION_COLOR = "#d32f2f"


@dataclass(frozen=True, slots=True)
class GraphNode:
    """One package as a graph view shows it."""

    name: str  # normalized (PEP 503) name
    version: str | None  # project.version as written, None when missing or dynamic
    status: str  # "internal" | "incubator" | "supported" | "stable" | "invalid"
    publishable: bool
    path: str  # folder relative to the root, POSIX separators
    level: int  # publish level (0 = no internal dependencies)
    in_cycle: bool = False


@dataclass(frozen=True, slots=True)
class GraphEdge:
    """``source`` depends on ``target``."""

    source: str
    target: str
    kind: str  # "runtime" | "optional" | "dev"
    extra: str | None = None  # the extra (optional) or group (dev) the requirement sits in
    violating: bool = False


@dataclass(frozen=True, slots=True)
class GraphView:
    """Everything a graph view needs, in a deterministic order."""

    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    levels: tuple[tuple[str, ...], ...]
    title: str = "monorepo"
    affected: frozenset[str] | None = None  # graph --affected-since: names to mark

    def node(self, name: str) -> GraphNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)
