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
* ``findings`` are ``check``'s findings (code, package, message), in ``check``'s order, when the
  caller computed them (the SVG and HTML views do; ``None`` means "not computed": the header
  then shows no findings count). ``blocked`` names the publishable packages a finding keeps from
  being published: dependents (runtime/optional, transitively) of a package with a finding.
  ``unreadable`` counts the packages ``check`` saw but the graph cannot draw (unreadable
  ``pyproject.toml``, duplicate names), so the header's package count matches ``check``'s.
* ``affected`` is the set of names a change affects (``--affected-since``), or ``None`` when no
  such set was asked for: the SVG marks them and the HTML page can filter on them.
* ``focus`` is ``(name, depth)`` when the view was cut down to one package's neighbourhood.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AFFECTED_COLOR",
    "STATUS_COLORS",
    "VIOLATION_COLOR",
    "GraphEdge",
    "GraphFinding",
    "GraphNode",
    "GraphView",
]

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
AFFECTED_COLOR = "#ffb300"  # the halo of an affected package


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
class GraphFinding:
    """One ``check`` finding, as the graph views list it (a jump target in the HTML page)."""

    code: str
    package: str
    message: str
    file: str = ""
    line: int | None = None
    target: str | None = None  # the dependency an ``internal-dependency`` finding is about


@dataclass(frozen=True, slots=True)
class GraphView:
    """Everything a graph view needs, in a deterministic order."""

    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    levels: tuple[tuple[str, ...], ...]
    title: str = "monorepo"
    findings: tuple[GraphFinding, ...] | None = None
    blocked: frozenset[str] = frozenset()
    affected: frozenset[str] | None = None
    unreadable: int = 0
    focus: tuple[str, int] | None = None
    reduced: bool = False  # edges implied by others were left out (transitive reduction)

    def node(self, name: str) -> GraphNode:
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(name)
