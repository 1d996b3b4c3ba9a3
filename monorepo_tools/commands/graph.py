"""``monorepo graph``: the dependency graph in six views."""

from __future__ import annotations

from ..graph import build_graph
from ..render.model import GraphView
from ..rules import violating_edges
from ..workspace import Workspace

__all__ = ["GRAPH_FORMATS", "graph_view", "render_graph"]

GRAPH_FORMATS = ("text", "json", "dot", "mermaid", "svg", "html")


def graph_view(workspace: Workspace, publishable_only: bool = False) -> GraphView:
    graph = build_graph(workspace)
    return graph.view(publishable_only=publishable_only, violating=violating_edges(workspace))


def render_graph(view: GraphView, fmt: str) -> str:
    """Render *view* in *fmt* (one of GRAPH_FORMATS); renderers are imported on demand."""
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
