"""``monorepo graph``: the dependency graph in six views."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI imports GRAPH_FORMATS: a cache hit must not import networkx
    from ..render.model import GraphView
    from ..workspace import Workspace

__all__ = ["GRAPH_FORMATS", "graph_view", "render_graph"]

GRAPH_FORMATS = ("text", "json", "dot", "mermaid", "svg", "html")


def graph_view(workspace: Workspace, publishable_only: bool = False) -> GraphView:
    from ..graph import build_graph
    from ..rules import violating_edges

    graph = build_graph(workspace)
    return graph.view(publishable_only=publishable_only, violating=violating_edges(workspace))


def safe_view(view: GraphView) -> GraphView:
    """*view* with every text from the repository neutralised (control characters escaped, URL
    credentials masked), so that no renderer can print a forged line or a secret."""
    from dataclasses import replace

    from ..render.safe import clean

    def opt(text: str | None) -> str | None:
        return None if text is None else clean(text)

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
    return replace(view, nodes=nodes, edges=edges, levels=levels, title=clean(view.title))


def render_graph(view: GraphView, fmt: str) -> str:
    """Render *view* in *fmt* (one of GRAPH_FORMATS); renderers are imported on demand."""
    view = safe_view(view)
    if fmt == "json":
        from ..render.graph_text import render_graph_json

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
    from ..render.graph_text import render_graph_text

    return render_graph_text(view)
