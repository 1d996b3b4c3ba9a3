"""``monorepo graph``: the dependency graph in six views.

:func:`graph_view` builds the :class:`GraphView` every format renders; ``focus``/``depth`` cut it
down to one package's neighbourhood and ``reduce`` drops edges implied by longer paths (the same
for every format, see :mod:`monorepo_tools.render.select`). ``findings=True`` also runs the
``check`` rules so the picture can list the findings, mark the blocked packages and show the
same counts as ``check`` (the SVG and HTML views ask for it; the text and json views do not, so
they stay as fast as before). ``affected`` is the set of names a change affects, marked by the
SVG and filterable in the HTML page (``None``: no such set was asked for).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports GRAPH_FORMATS: a cache hit must not import networkx
    from ..graph import DependencyGraph
    from ..render.model import GraphView
    from ..workspace import Workspace

__all__ = [
    "FINDING_FORMATS",
    "GRAPH_FORMATS",
    "graph_view",
    "render_graph",
]

GRAPH_FORMATS = ("text", "json", "dot", "mermaid", "svg", "html")
FINDING_FORMATS = frozenset({"svg", "html"})  # the views that list findings and blocked packages


def graph_view(
    workspace: Workspace,
    publishable_only: bool = False,
    *,
    focus: str | None = None,
    depth: int = 1,
    reduce: bool = False,
    findings: bool = False,
    affected: Iterable[str] | None = None,
) -> GraphView:
    """The view of *workspace*; raises :class:`FocusError` for an unknown *focus* package."""
    from ..graph import build_graph
    from ..render.select import FocusError, focus_view, reduce_view
    from ..rules import violating_edges

    graph = build_graph(workspace)
    view = graph.view(publishable_only=publishable_only, violating=violating_edges(workspace))
    if findings:
        view = _with_findings(view, workspace, graph)
    if affected is not None:
        view = replace(view, affected=frozenset(affected))
    if focus is not None:
        if (
            publishable_only
            and focus in workspace.packages
            and all(node.name != focus for node in view.nodes)
        ):
            raise FocusError(
                f"{focus} is not publishable, so --publishable-only leaves it out of the graph; "
                "drop --publishable-only to focus on it"
            )
        view = focus_view(view, focus, depth)
    if reduce:
        view = reduce_view(view)
    return view


def _with_findings(view: GraphView, workspace: Workspace, graph: DependencyGraph) -> GraphView:
    from ..graph import BLOCKING_KINDS
    from ..render.model import GraphFinding
    from ..rules import check_workspace

    found = check_workspace(workspace, graph)
    targets = {
        (e.source, f"{e.dependency.field}: {e.dependency.raw}"): e.target
        for e in workspace.edges
        if e.kind in BLOCKING_KINDS
    }
    items = tuple(
        GraphFinding(
            code=f.code,
            package=f.package,
            message=f.message,
            file=f.file,
            line=f.line,
            target=targets.get((f.package, f.subject)) if f.code == "internal-dependency" else None,
        )
        for f in found
    )
    sources = {f.package for f in found if f.package in workspace.packages}
    publishable = [p.name for p in workspace.packages.values() if p.publishable]
    blocked: set[str] = set()
    for _, names in graph.transitive_dependents(sources, publishable).values():
        blocked.update(names)
    shown = {node.name for node in view.nodes}
    return replace(
        view,
        findings=items,
        blocked=frozenset(blocked & shown),
        unreadable=len(workspace.rejected),
    )


def safe_view(view: GraphView) -> GraphView:
    """*view* with every text from the repository neutralised (control characters escaped, URL
    credentials masked), so that no renderer can print a forged line or a secret."""
    from ..render.safe import clean as clean_text

    # clean() returns its argument itself when there is nothing to neutralise, the usual case:
    # the distinct texts of the nodes and edges (180,000 texts at 10,000 packages, about
    # 10,000 distinct) are cleaned once each, and nodes, edges and levels are copied only
    # when one of their texts changed.
    texts = {t for n in view.nodes for t in (n.name, n.version, n.status, n.path) if t}
    texts.update(e.source for e in view.edges)
    texts.update(e.target for e in view.edges)
    texts.update(e.extra for e in view.edges if e.extra)
    texts.update(name for level in view.levels for name in level)
    changed = {t: c for t in texts if (c := clean_text(t)) is not t}

    def clean(text: str) -> str:
        return changed.get(text, text) if changed else clean_text(text)

    def opt(text: str | None) -> str | None:
        return None if text is None else clean(text)

    nodes, edges, levels = view.nodes, view.edges, view.levels
    if changed:
        nodes = tuple(
            replace(
                n,
                name=clean(n.name),
                version=opt(n.version),
                status=clean(n.status),
                path=clean(n.path),
            )
            for n in view.nodes
        )
        edges = tuple(
            replace(e, source=clean(e.source), target=clean(e.target), extra=opt(e.extra))
            for e in view.edges
        )
        levels = tuple(tuple(clean(n) for n in level) for level in view.levels)
    findings = (
        None
        if view.findings is None
        else tuple(
            replace(
                f,
                code=clean(f.code),
                package=clean(f.package),
                message=clean(f.message),
                file=clean(f.file),
                target=opt(f.target),
            )
            for f in view.findings
        )
    )
    affected = None if view.affected is None else frozenset(clean(n) for n in view.affected)
    focus = None if view.focus is None else (clean(view.focus[0]), view.focus[1])
    return replace(
        view,
        nodes=nodes,
        edges=edges,
        levels=levels,
        title=clean(view.title),
        findings=findings,
        blocked=frozenset(clean(n) for n in view.blocked),
        affected=affected,
        focus=focus,
    )


def render_graph(view: GraphView, fmt: str) -> str:
    """Render *view* in *fmt* (one of GRAPH_FORMATS); renderers are imported on demand."""
    view = safe_view(view)
    if fmt == "json":
        from ..render.text import render_graph_json

        return render_graph_json(view)
    if fmt == "dot":
        from ..render.dot import render_dot

        return render_dot(view)
    if fmt == "mermaid":
        from ..render.mermaid import render_mermaid

        return render_mermaid(view)
    if fmt == "svg":
        from ..render.svg import render_svg

        return render_svg(view)
    if fmt == "html":
        from ..render.html import render_html

        return render_html(view)
    from ..render.text import render_graph_text

    return render_graph_text(view)
