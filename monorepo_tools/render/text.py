"""The ``text`` and ``json`` graph views (pure functions of a :class:`GraphView`).

Both expect a view neutralised by ``commands.graph.safe_view`` (control characters escaped,
URL credentials masked), which ``render_graph`` applies before any renderer sees it.
"""

from __future__ import annotations

from collections import defaultdict
from json.encoder import encode_basestring_ascii

from .model import GraphView

__all__ = ["render_graph_json", "render_graph_text"]


def render_graph_text(view: GraphView) -> str:
    """The publish order in levels, each package with its status and internal dependencies.

    >>> from .model import GraphNode, GraphEdge
    >>> v = GraphView(
    ...     (GraphNode("a", "1.0", "stable", True, "packages/a", 0),
    ...      GraphNode("b", "1.0", "internal", False, "packages/b", 1)),
    ...     (GraphEdge("b", "a", "runtime"),), (("a",), ("b",)))
    >>> print(render_graph_text(v), end="")
    Publish order: 2 levels (the packages of one level can be built in parallel)
    <BLANKLINE>
    level 0
      a  1.0  stable    packages/a
    level 1
      b  1.0  internal  packages/b  -> a   (not published)
    <BLANKLINE>
    2 packages, 1 publishable, 1 edges, 0 violations
    """
    deps: dict[str, list[str]] = defaultdict(list)
    for e in view.edges:
        label = e.target
        if e.kind == "dev":
            label += " (dev)"
        elif e.kind == "optional":
            label += f" (extra {e.extra})"
        if e.violating:
            label += " [VIOLATION]"
        deps[e.source].append(label)
    nodes = {n.name: n for n in view.nodes}
    width = max((len(n.name) for n in view.nodes), default=0)
    vwidth = max((len(n.version or "-") for n in view.nodes), default=0)
    swidth = max((len(n.status) for n in view.nodes), default=0)
    lines = [
        f"Publish order: {len(view.levels)} levels (the packages of one level can be built in parallel)",
        "",
    ]
    if view.focus is not None:  # a neighbourhood: only the levels it reaches, numbered as in full
        name, depth = view.focus
        lines[0] = f"Focus: {name}, its dependencies and dependents up to {depth} edge(s) away"
    for index, level in enumerate(view.levels):
        if not level and view.focus is not None:
            continue
        lines.append(f"level {index}")
        for name in level:
            node = nodes[name]
            row = f"  {name.ljust(width)}  {(node.version or '-').ljust(vwidth)}  {node.status.ljust(swidth)}  {node.path}"
            if deps.get(name):
                row += "  -> " + ", ".join(deps[name])
            notes = []
            if not node.publishable:
                notes.append("not published")
            if node.in_cycle:
                notes.append("in a dependency cycle")
            if view.affected is not None and name in view.affected:
                notes.append("affected")
            if notes:
                row += f"   ({'; '.join(notes)})"
            lines.append(row.rstrip())
    publishable = sum(1 for n in view.nodes if n.publishable)
    violations = sum(1 for e in view.edges if e.violating)
    lines += [
        "",
        f"{len(view.nodes)} packages, {publishable} publishable, {len(view.edges)} edges, {violations} violations",
    ]
    if view.affected is not None:
        lines.append(f"{len(view.affected)} affected (marked)")
    return "\n".join(lines) + "\n"


def render_graph_json(view: GraphView) -> str:
    """``{"nodes": [...], "edges": [...], "levels": [...]}`` with normalized names.

    Byte for byte ``json.dumps(document, indent=2) + "\\n"``, written out directly: with an
    indent, json falls back to its pure-Python encoder (0.34 s for 10,000 packages; 0.06 s here).
    """
    text = encode_basestring_ascii  # what json.dumps does with ensure_ascii=True
    affected = view.affected
    # graph --affected-since: every node says whether it is affected, and the set is listed.
    marks = (
        {}
        if affected is None
        else {n.name: f',\n      "affected": {_json(n.name in affected)}' for n in view.nodes}
    )
    nodes = [
        f'\n    {{\n      "name": {text(n.name)},\n      "version": {_json(n.version)},'
        f'\n      "status": {text(n.status)},\n      "publishable": {_json(n.publishable)},'
        f'\n      "path": {text(n.path)},\n      "level": {n.level},'
        f'\n      "in_cycle": {_json(n.in_cycle)}{marks.get(n.name, "")}\n    }}'
        for n in view.nodes
    ]
    edges = [
        f'\n    {{\n      "from": {text(e.source)},\n      "to": {text(e.target)},'
        f'\n      "kind": {text(e.kind)},\n      "extra": {_json(e.extra)},'
        f'\n      "violating": {_json(e.violating)}\n    }}'
        for e in view.edges
    ]
    levels = [
        "\n    [\n      " + ",\n      ".join(map(text, level)) + "\n    ]" if level else "\n    []"
        for level in view.levels
    ]
    listed = (
        ""
        if affected is None
        else ',\n  "affected": ' + _json_list([f"\n    {text(name)}" for name in sorted(affected)])
    )
    return (
        f'{{\n  "nodes": {_json_list(nodes)},\n  "edges": {_json_list(edges)},'
        f'\n  "levels": {_json_list(levels)}{listed}\n}}\n'
    )


def _json(value: str | int | None) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value) if isinstance(value, int) else encode_basestring_ascii(value)


def _json_list(items: list[str]) -> str:
    return "[" + ",".join(items) + "\n  ]" if items else "[]"
