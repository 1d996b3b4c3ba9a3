"""Graphviz DOT view of a :class:`GraphView`.

Contract: :func:`render_dot` is a pure function ``GraphView -> str`` returning one ``digraph``
that ``dot`` accepts as is. Same view, same text, byte for byte.

* Dependencies are drawn below their dependents (level 0 at the bottom). Edges keep their
  meaning, dependent -> dependency, so that is ``rankdir=TB``: Graphviz puts an edge's tail above
  its head. (``rankdir=BT`` would put every dependency *above* what uses it.) The packages of one
  level share a ``{rank=same; ...}`` group, and an invisible spine of one point per level keeps
  the levels stacked in order even for packages no edge touches.
* Nodes are filled with the status colour of :data:`STATUS_COLORS` (unknown statuses use the
  ``invalid`` colours) and labelled ``name\\nversion\\nstatus``; a node in a dependency cycle
  gets a thick red border.
* Runtime edges are solid, optional edges dotted and labelled with their extra, dev edges
  dashed and left out of the ranking (``constraint=false``: they do not define levels); a
  violating edge is red (:data:`VIOLATION_COLOR`) with ``penwidth=2``.

Every identifier and label is a double-quoted DOT string, so package names with ``-`` and ``.``
(or anything else) are safe. The spine's ids start with ``__level_``, which no normalized (PEP
503) package name can.
"""

from __future__ import annotations

from .model import STATUS_COLORS, VIOLATION_COLOR, GraphEdge, GraphNode, GraphView

__all__ = ["quote", "render_dot"]

_FONT = "Helvetica,Arial,sans-serif"
_FOCUS_COLOR = "#111111"


def _title(view: GraphView) -> str:
    if view.focus is None:
        return view.title
    name, depth = view.focus
    return f"{view.title}: {name} and its neighbourhood (depth {depth})"


def quote(text: str) -> str:
    """``text`` as a DOT double-quoted string that shows exactly ``text``.

    Backslashes are doubled because DOT labels treat ``\\n``, ``\\l``, ``\\N``... as escapes;
    real line breaks become ``\\n`` so the output stays one statement per line.
    """
    escaped = (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\r\n", "\n")
        .replace("\r", "\n")
        .replace("\n", "\\n")
    )
    return f'"{escaped}"'


def _label(*lines: str) -> str:
    # Join after quoting each part so the separators stay real DOT line breaks.
    return '"' + "\\n".join(quote(line)[1:-1] for line in lines) + '"'


def _attrs(pairs: list[tuple[str, str]]) -> str:
    return "[" + ", ".join(f"{key}={value}" for key, value in pairs) + "]"


def _node_line(node: GraphNode) -> str:
    fill, accent = STATUS_COLORS.get(node.status, STATUS_COLORS["invalid"])
    version = node.version if node.version is not None else "no version"
    pairs = [
        ("label", _label(node.name, version, node.status)),
        ("fillcolor", quote(fill)),
        ("color", quote(VIOLATION_COLOR if node.in_cycle else accent)),
    ]
    if node.in_cycle:
        pairs.append(("penwidth", "3"))
    tooltip = f"{node.name} ({node.status}, level {node.level}) {node.path}"
    pairs.append(("tooltip", quote(tooltip)))
    return f"  {quote(node.name)} {_attrs(pairs)};"


def _edge_line(edge: GraphEdge) -> str:
    pairs: list[tuple[str, str]] = []
    if edge.kind == "dev":
        pairs += [("style", "dashed"), ("constraint", "false")]
    elif edge.kind == "optional":
        pairs.append(("style", "dotted"))
        pairs.append(("label", quote(edge.extra if edge.extra is not None else "optional")))
    if edge.violating:
        pairs += [("color", quote(VIOLATION_COLOR)), ("fontcolor", quote(VIOLATION_COLOR))]
        pairs.append(("penwidth", "2"))
    line = f"  {quote(edge.source)} -> {quote(edge.target)}"
    return f"{line} {_attrs(pairs)};" if pairs else f"{line};"


def _spine(level: int) -> str:
    return quote(f"__level_{level}")


def render_dot(view: GraphView) -> str:
    """The whole view as a Graphviz ``digraph`` (ends with a newline)."""
    lines = [
        f"digraph {quote(view.title)} {{",
        "  rankdir=TB;",
        f"  graph [fontname={quote(_FONT)}, label={quote(_title(view))}, labelloc=t, "
        "nodesep=0.35, ranksep=0.6];",
        f'  node [shape=box, style="rounded,filled", fontname={quote(_FONT)}, fontsize=11];',
        f'  edge [color="#6b7685", fontname={quote(_FONT)}, fontsize=9, arrowsize=0.7];',
    ]
    lines += [_node_line(node) for node in view.nodes]
    if view.focus is not None:  # `graph --focus NAME`: the package the picture is about
        lines.append(f"  {quote(view.focus[0])} [penwidth=4, color={quote(_FOCUS_COLOR)}];")
    if view.affected:  # graph --affected-since: a double, heavy border
        lines += [f"  {quote(n)} [penwidth=3, peripheries=2];" for n in sorted(view.affected)]
    levels = [(level, names) for level, names in enumerate(view.levels) if names]
    if len(levels) > 1:
        lines += [
            f'  {_spine(level)} [style=invis, shape=point, width=0, height=0, label=""];'
            for level, _ in levels
        ]
    for level, names in levels:
        members = " ".join(f"{quote(name)};" for name in names)
        if len(levels) > 1:
            members = f"{_spine(level)}; {members}"
        lines.append(f"  {{rank=same; {members}}}")
    # Highest level first: with rankdir=TB that stacks level 0 at the bottom.
    for (upper, _), (lower, _) in zip(levels[:0:-1], levels[-2::-1], strict=True):
        lines.append(f"  {_spine(upper)} -> {_spine(lower)} [style=invis];")
    lines += [_edge_line(edge) for edge in view.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"
