"""Mermaid flowchart view of a :class:`GraphView` (for Markdown on GitHub/GitLab, docs sites).

Contract: :func:`render_mermaid` is a pure function ``GraphView -> str``; same view, same text.

* ``flowchart TB``: dependencies below their dependents, like the other views. Links keep their
  meaning, dependent --> dependency, and Mermaid puts a link's start above its end in ``TB``
  (``BT`` would put every dependency *above* what uses it).
* Mermaid ids cannot hold ``-`` or ``.``, so each package gets ``n0``, ``n1``... in the view's
  node order (names only edges mention come after); the label keeps the real name, then the
  version and status, one per line.
* One ``classDef`` per status with the shared :data:`STATUS_COLORS`; a package in a dependency
  cycle also gets a red ``style`` border.
* Runtime edges ``-->``, optional edges dotted and labelled with the extra, dev edges dotted
  ``-.->``. A violating edge is turned red by ``linkStyle <index>``, where the index counts link
  statements in emission order: this module emits exactly one link per edge, in the view's edge
  order, and no other link, so edge ``i`` is link ``i``.
"""

from __future__ import annotations

import json

from .model import STATUS_COLORS, VIOLATION_COLOR, GraphEdge, GraphView

__all__ = ["label_text", "node_ids", "render_mermaid"]

_TEXT_COLOR = "#1a1a1a"


def node_ids(view: GraphView) -> dict[str, str]:
    """Package name -> Mermaid id (``n0``, ``n1``...), in the view's node order."""
    ids: dict[str, str] = {}
    names = [node.name for node in view.nodes]
    names += [name for edge in view.edges for name in (edge.source, edge.target)]
    for name in names:
        if name not in ids:
            ids[name] = f"n{len(ids)}"
    return ids


def label_text(text: str) -> str:
    """``text`` made safe inside a double-quoted Mermaid label.

    Mermaid decodes ``#name;`` / ``#code;`` entity codes in labels, so the characters that would
    end the label, open markup or start such a code are written as codes.
    """
    out: list[str] = []
    for char in text:
        if char == "#":
            out.append("#35;")
        elif char == '"':
            out.append("#quot;")
        elif char == "<":
            out.append("#lt;")
        elif char == ">":
            out.append("#gt;")
        elif char in "\r\n":
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def _class_name(status: str) -> str:
    return status if status in STATUS_COLORS else "invalid"


def _link(edge: GraphEdge, ids: dict[str, str]) -> str:
    source, target = ids[edge.source], ids[edge.target]
    if edge.kind == "dev":
        return f"  {source} -.->|dev| {target}"
    if edge.kind == "optional":
        extra = edge.extra if edge.extra is not None else "optional"
        return f'  {source} -.->|"[{label_text(extra)}]"| {target}'
    return f"  {source} --> {target}"


def render_mermaid(view: GraphView) -> str:
    """The whole view as a Mermaid ``flowchart TB`` (ends with a newline)."""
    ids = node_ids(view)
    # json.dumps gives a double-quoted YAML scalar, whatever the title holds.
    lines = ["---", f"title: {json.dumps(view.title)}", "---", "flowchart TB"]
    for status, (fill, accent) in STATUS_COLORS.items():
        lines.append(f"  classDef {status} fill:{fill},stroke:{accent},color:{_TEXT_COLOR}")
    known = {node.name for node in view.nodes}
    for node in view.nodes:
        version = node.version if node.version is not None else "no version"
        label = "<br/>".join(
            (f"<b>{label_text(node.name)}</b>", label_text(version), label_text(node.status))
        )
        lines.append(f'  {ids[node.name]}["{label}"]:::{_class_name(node.status)}')
    for name, node_id in ids.items():
        if name not in known:
            lines.append(f'  {node_id}["{label_text(name)}"]:::invalid')
    for node in view.nodes:
        if node.in_cycle:
            lines.append(f"  style {ids[node.name]} stroke:{VIOLATION_COLOR},stroke-width:3px")
    if view.focus is not None and view.focus[0] in ids:  # `graph --focus NAME`
        lines.append(f"  style {ids[view.focus[0]]} stroke:#111111,stroke-width:4px")
    for name in sorted(view.affected or ()):  # graph --affected-since
        if name in ids:
            lines.append(f"  style {ids[name]} stroke-width:4px,stroke-dasharray:6 3")
    lines += [_link(edge, ids) for edge in view.edges]
    violating = [str(i) for i, edge in enumerate(view.edges) if edge.violating]
    if violating:
        lines.append(f"  linkStyle {','.join(violating)} stroke:{VIOLATION_COLOR},stroke-width:2px")
    return "\n".join(lines) + "\n"
