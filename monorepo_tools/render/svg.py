"""Standalone SVG view of a :class:`GraphView`, drawn from :func:`layout.layout_graph`.

Contract: :func:`render_svg` is a pure function ``GraphView -> str`` returning one well-formed
``<svg>`` document (no XML declaration, no external reference: it opens as a file, embeds in HTML
and converts with any SVG tool). Same view, same bytes.

What it draws: a title line with counts (packages, publishable, edges, violations), a legend
(the four statuses plus ``invalid``, a cycle border, runtime/optional/dev edge styles and the red
violation), then rounded boxes filled by status colour holding the name (bold), version and
status, and arrows from each dependent to its dependency: runtime solid, optional dotted and
labelled with the extra, dev dashed, violating red and thicker.

The interactive HTML page relies on this markup, so it is part of the contract: each package is a
``<g class="node" data-name=...>`` with a ``<title>`` tooltip, each edge a ``<g class="edge"
data-source=... data-target=... data-kind=...>`` holding one ``<path>``; the markers
``arrow-dep`` and ``arrow-dependent`` exist for the page's highlight colours. All text and
attribute values are XML-escaped.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from .layout import (
    DETAIL_FONT_SIZE,
    NAME_FONT_SIZE,
    EdgePath,
    Layout,
    NodeBox,
    box_lines,
    layout_graph,
    node_note,
    text_width,
)
from .model import AFFECTED_COLOR, STATUS_COLORS, VIOLATION_COLOR, GraphNode, GraphView
from .select import implied_edges

__all__ = [
    "DEPENDENCY_COLOR",
    "DEPENDENT_COLOR",
    "EDGE_COLOR",
    "FONT_STACK",
    "counts_line",
    "level_label_size",
    "render_svg",
]

FONT_STACK = (
    "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, "
    "'Noto Sans', 'Liberation Sans', 'DejaVu Sans', sans-serif"
)
EDGE_COLOR = "#7b8594"
TEXT_COLOR = "#1a1a1a"
MUTED_COLOR = "#555b66"
# Highlight colours of the HTML page, kept apart from every status colour and from the red.
DEPENDENCY_COLOR = "#00838f"
DEPENDENT_COLOR = "#8e24aa"

_DASH = {"runtime": None, "optional": "2 4", "dev": "7 4"}
_IMPLIED_OPACITY = "0.3"
_TITLE_SIZE = 17.0
_LEGEND_SIZE = 12.0
_LEGEND_ROW = 24.0
_PAD = 24.0
_HEADER_TOP = 30.0  # baseline of the title line


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _a(value: str) -> str:
    return quoteattr(value)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def counts_line(view: GraphView) -> str:
    """``"5 packages · 4 publishable · 7 edges · 1 violation"``: the title line's counts.

    With findings computed, ``" · 2 findings · 3 blocked"`` follows: the package and finding
    counts are ``check``'s (packages it could not read count too); with an affected set,
    ``" · 4 affected"``; a focused view starts with ``"focus NAME (depth N)"``.
    """
    publishable = sum(1 for node in view.nodes if node.publishable)
    violations = sum(1 for edge in view.edges if edge.violating)
    parts = [
        _plural(len(view.nodes) + view.unreadable, "package"),
        f"{publishable} publishable",
        _plural(len(view.edges), "edge"),
        _plural(violations, "violation"),
    ]
    if view.findings is not None:
        parts.append(_plural(len(view.findings), "finding"))
        parts.append(f"{len(view.blocked)} blocked")
    if view.affected is not None:
        parts.append(f"{len(view.affected)} affected")
    if view.reduced:
        parts.append("transitive reduction")
    if view.focus is not None:
        parts.insert(0, f"focus {view.focus[0]} (depth {view.focus[1]})")
    return " · ".join(parts)


def _colors(status: str) -> tuple[str, str]:
    return STATUS_COLORS.get(status, STATUS_COLORS["invalid"])


def _markers() -> list[str]:
    out = ["<defs>"]
    for marker_id, color in (
        ("arrow", EDGE_COLOR),
        ("arrow-violation", VIOLATION_COLOR),
        ("arrow-dep", DEPENDENCY_COLOR),
        ("arrow-dependent", DEPENDENT_COLOR),
    ):
        # userSpaceOnUse: the head keeps one size whatever the stroke width.
        out.append(
            f'<marker id="{marker_id}" viewBox="0 0 10 10" refX="9.5" refY="5" '
            'markerWidth="8" markerHeight="8" markerUnits="userSpaceOnUse" '
            f'orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
        )
    out.append("</defs>")
    return out


def _edge_stroke(kind: str, violating: bool, scale: float = 1.0) -> str:
    """Stroke attributes; ``scale`` > 1 thickens violations so they show in a big overview."""
    color = VIOLATION_COLOR if violating else EDGE_COLOR
    width = _n(2.5 * scale) if violating else "1.1"
    marker = "arrow-violation" if violating else "arrow"
    attrs = f'fill="none" stroke="{color}" stroke-width="{width}" marker-end="url(#{marker})"'
    dash = _DASH.get(kind)
    if dash:
        attrs += f' stroke-dasharray="{dash}"'
    return attrs


def _legend(width: float, affected: bool = False) -> tuple[list[str], float]:
    """The legend items, flowed into rows no wider than ``width``; returns markup and height."""
    items: list[tuple[float, list[str]]] = []
    label_y = 4.0  # baseline offset from the row's middle

    def label(x: float, text: str) -> str:
        return (
            f'<text x="{_n(x)}" y="{_n(label_y)}" font-size="{_n(_LEGEND_SIZE)}" '
            f'fill="{TEXT_COLOR}">{escape(text)}</text>'
        )

    for status, (fill, accent) in STATUS_COLORS.items():
        items.append(
            (
                30 + text_width(status, _LEGEND_SIZE),
                [
                    f'<rect x="0" y="-7" width="22" height="14" rx="3" fill="{fill}" '
                    f'stroke="{accent}" stroke-width="1.5"/>',
                    label(28, status),
                ],
            )
        )
    items.append(
        (
            30 + text_width("in a cycle", _LEGEND_SIZE),
            [
                '<rect x="0" y="-7" width="22" height="14" rx="3" fill="#ffffff" '
                f'stroke="{VIOLATION_COLOR}" stroke-width="3"/>',
                label(28, "in a cycle"),
            ],
        )
    )
    for text, dash, stroke_width in (("has findings", None, 3.5), ("blocked", "5 3", 2.5)):
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        items.append(
            (
                30 + text_width(text, _LEGEND_SIZE),
                [
                    '<rect x="0" y="-7" width="22" height="14" rx="3" fill="#ffffff" '
                    f'stroke="{VIOLATION_COLOR}" stroke-width="{stroke_width}"{dash_attr}/>',
                    label(28, text),
                ],
            )
        )
    if affected:
        items.append(
            (
                30 + text_width("affected", _LEGEND_SIZE),
                [
                    f'<rect x="-3" y="-10" width="28" height="20" rx="5" fill="{AFFECTED_COLOR}"/>',
                    '<rect x="0" y="-7" width="22" height="14" rx="3" fill="#ffffff" '
                    'stroke="#555555" stroke-width="1.5"/>',
                    label(28, "affected"),
                ],
            )
        )
    for text, kind, violating in (
        ("runtime", "runtime", False),
        ("optional [extra]", "optional", False),
        ("dev", "dev", False),
        ("violation", "runtime", True),
        ("implied by a longer path", "implied", False),
    ):
        items.append(
            (
                46 + text_width(text, _LEGEND_SIZE),
                [
                    f'<path d="M0,0 L36,0" {_edge_stroke(kind, violating)}'
                    + (f' opacity="{_IMPLIED_OPACITY}"/>' if kind == "implied" else "/>"),
                    label(42, text),
                ],
            )
        )

    rows: list[list[tuple[float, list[str]]]] = [[]]
    used = 0.0
    for item in items:
        item_width = item[0] + 18
        if rows[-1] and used + item_width > width:
            rows.append([])
            used = 0.0
        rows[-1].append(item)
        used += item_width
    out: list[str] = []
    for r, row in enumerate(rows):
        x = 0.0
        for item_width, parts in row:
            out.append(
                f'<g transform="translate({_n(x)},{_n(r * _LEGEND_ROW + _LEGEND_ROW / 2)})">'
                + "".join(parts)
                + "</g>"
            )
            x += item_width + 18
    return out, len(rows) * _LEGEND_ROW


def _node(node: GraphNode, box: NodeBox, view: GraphView, findings: int) -> list[str]:
    fill, accent = _colors(node.status)
    blocked = node.name in view.blocked
    affected = view.affected is not None and node.name in view.affected
    focused = view.focus is not None and view.focus[0] == node.name
    stroke = VIOLATION_COLOR if node.in_cycle or findings or blocked else accent
    stroke_width = "3.5" if findings else "3" if node.in_cycle else "2.5" if blocked else "1.5"
    if focused:
        stroke, stroke_width = "#111111", "4"
    dash = ' stroke-dasharray="5 3"' if blocked and not findings and not focused else ""
    name, version, status = box_lines(
        node.name, node.version, node.status, node_note(view, node.name)
    )
    tooltip = [
        f"{node.name} {version}",
        f"status: {node.status} ({'publishable' if node.publishable else 'not publishable'})",
        f"path: {node.path}",
        f"level: {node.level}",
    ]
    if node.in_cycle:
        tooltip.append("in a dependency cycle")
    if findings:
        tooltip.append(f"{_plural(findings, 'finding')} (see `monorepo check`)")
    if blocked:
        tooltip.append("blocked: a dependency has a finding, so this package cannot be published")
    if affected:
        tooltip.append("affected by the change")
    cx = box.cx
    classes = "node" + (" blocked" if blocked else "") + (" affected" if affected else "")
    out = [
        f'<g class="{classes}" data-name={_a(node.name)} data-status={_a(node.status)} '
        f'data-level="{node.level}" data-cycle="{str(node.in_cycle).lower()}" '
        f'data-findings="{findings}" data-blocked="{str(blocked).lower()}" '
        f'data-affected="{str(affected).lower()}">',
        f"<title>{escape(chr(10).join(tooltip))}</title>",
    ]
    if affected:
        out.append(
            f'<rect class="halo" x="{_n(box.x - 6)}" y="{_n(box.y - 6)}" '
            f'width="{_n(box.width + 12)}" height="{_n(box.height + 12)}" rx="12" '
            f'fill="{AFFECTED_COLOR}"/>'
        )
    return [
        *out,
        f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.width)}" '
        f'height="{_n(box.height)}" rx="8" fill="{fill}" stroke="{stroke}" '
        f'stroke-width="{stroke_width}"{dash}/>',
        f'<text x="{_n(cx)}" y="{_n(box.y + 21)}" text-anchor="middle" '
        f'font-size="{_n(NAME_FONT_SIZE)}" font-weight="700" fill="{TEXT_COLOR}">'
        f"{escape(name)}</text>",
        f'<text x="{_n(cx)}" y="{_n(box.y + 37)}" text-anchor="middle" '
        f'font-size="{_n(DETAIL_FONT_SIZE)}" fill="{MUTED_COLOR}">{escape(version)}</text>',
        f'<text x="{_n(cx)}" y="{_n(box.y + 51)}" text-anchor="middle" '
        f'font-size="{_n(DETAIL_FONT_SIZE)}" fill="{VIOLATION_COLOR if blocked else accent}">'
        f"{escape(status)}</text>",
        *_badge(box, findings),
        "</g>",
    ]


def _badge(box: NodeBox, findings: int) -> list[str]:
    """A red disc with the number of findings on the box's top-right corner."""
    if not findings:
        return []
    text = str(findings) if findings < 100 else "99+"
    r = 10.0 if len(text) < 3 else 12.0
    x, y = box.right - 4, box.y + 4
    return [
        f'<circle class="badge" cx="{_n(x)}" cy="{_n(y)}" r="{_n(r)}" fill="{VIOLATION_COLOR}" '
        'stroke="#ffffff" stroke-width="2"/>',
        f'<text x="{_n(x)}" y="{_n(y + 4)}" text-anchor="middle" font-size="11" '
        f'font-weight="700" fill="#ffffff">{text}</text>',
    ]


def _edge(edge: EdgePath, scale: float) -> list[str]:
    parts = [
        f'<g class="edge" data-source={_a(edge.source)} data-target={_a(edge.target)} '
        f'data-kind={_a(edge.kind)} data-violating="{str(edge.violating).lower()}">',
        f"<title>{escape(_edge_title(edge))}</title>",
        f'<path d="{edge.svg_d()}" {_edge_stroke(edge.kind, edge.violating, scale)}/>',
    ]
    if edge.kind == "optional" and edge.extra:
        x, y = edge.label_point
        color = VIOLATION_COLOR if edge.violating else MUTED_COLOR
        # The white halo keeps the label readable over other curves.
        parts.append(
            f'<text class="edge-label" x="{_n(x)}" y="{_n(y + 3)}" text-anchor="middle" '
            f'font-size="10" fill="{color}" stroke="#ffffff" stroke-width="3" '
            f'paint-order="stroke">[{escape(edge.extra)}]</text>'
        )
    parts.append("</g>")
    return parts


def _edge_opacity(count: int) -> str:
    """Hundreds of grey curves: draw them lighter so the boxes and the red ones stand out."""
    if count <= 300:
        return ""
    return ' opacity="0.55"' if count <= 1500 else ' opacity="0.4"'


def _edge_title(edge: EdgePath) -> str:
    text = f"{edge.source} → {edge.target} ({edge.kind}"
    if edge.extra:
        text += f": {edge.extra}"
    text += ")"
    if edge.violating:
        text += " — violation"
    return text


def _levels(layout: Layout, gutter: float, size: float) -> list[str]:
    """Shaded level bands across the picture, each labelled on the left (``level 3``)."""
    out = [f'<g class="levels" data-size="{_n(size)}">']
    for i, band in enumerate(layout.bands):
        top, bottom = band.top - 14, band.bottom + 14
        fill = "#f3f5f8" if i % 2 == 0 else "#fbfcfd"
        middle = (band.top + band.bottom) / 2
        lines = [f"level {band.level}", _plural(band.count, "package")]
        if band.level == 0:
            lines[1] += ", published first"
        # The label shrinks to its band; the count line goes when there is no room for it.
        name_size = min(size, (bottom - top) * 0.6)
        out.append(
            f'<g class="level" data-level="{band.level}" data-top="{_n(band.top)}" '
            f'data-bottom="{_n(band.bottom)}">'
            f'<rect x="{_n(-gutter)}" y="{_n(top)}" width="{_n(layout.width + gutter)}" '
            f'height="{_n(bottom - top)}" fill="{fill}"/>'
            f'<text x="{_n(-12)}" y="{_n(middle + name_size * 0.35)}" text-anchor="end" '
            f'font-size="{_n(name_size)}" font-weight="700" fill="#4a5260">'
            f"{escape(lines[0])}</text>"
        )
        if bottom - top > name_size * 2.2:
            out.append(
                f'<text x="{_n(-12)}" y="{_n(middle + name_size * 0.35 + name_size * 0.8)}" '
                f'text-anchor="end" font-size="{_n(name_size * 0.5)}" fill="{MUTED_COLOR}">'
                f"{escape(lines[1])}</text>"
            )
        out.append("</g>")
    out.append("</g>")
    return out


def level_label_size(layout: Layout) -> float:
    """Font size of the level labels: larger for larger pictures, so they read at overview."""
    return round(min(max(16.0, max(layout.width, layout.height) / 70), 40.0), 1)


def render_svg(
    view: GraphView,
    layout: Layout | None = None,
    *,
    implied: frozenset[tuple[str, str]] | None = None,
) -> str:
    """The whole view as a standalone SVG document; ``layout`` defaults to ``layout_graph``.

    ``implied`` (default: :func:`select.implied_edges`) names the edges drawn faint.
    """
    layout = layout if layout is not None else layout_graph(view)
    counts = counts_line(view)
    size = level_label_size(layout)
    gutter = max(
        text_width(f"level {max((b.level for b in layout.bands), default=0)}", size, bold=True),
        text_width("9,999 packages, published first", size / 2),
    )
    gutter = round(gutter + 24, 1) if layout.bands else 0.0
    # Violations thicken with the picture, so they still stand out when it is fitted to a screen.
    scale = round(max(1.0, max(layout.width, layout.height) / 1500), 1)
    header_width = text_width(view.title, _TITLE_SIZE, bold=True) + 14 + text_width(counts, 13.0)
    width = max(layout.width + gutter, header_width + 2 * _PAD, 760.0)
    legend, legend_height = _legend(width - 2 * _PAD, affected=view.affected is not None)
    graph_top = _HEADER_TOP + 12 + legend_height + 8
    height = graph_top + layout.height
    graph_left = gutter + (width - gutter - layout.width) / 2
    if implied is None:
        implied = implied_edges(view) if not view.reduced else frozenset()
    findings: dict[str, int] = {}
    for finding in view.findings or ():
        findings[finding.package] = findings.get(finding.package, 0) + 1

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" font-family={_a(FONT_STACK)} role="img" '
        f"aria-label={_a(f'{view.title} dependency graph: {counts}')}>",
        f"<title>{escape(f'{view.title} — {counts}')}</title>",
        *_markers(),
        '<rect class="background" x="0" y="0" width="100%" height="100%" fill="#ffffff"/>',
        f'<text class="title" x="{_n(_PAD)}" y="{_n(_HEADER_TOP)}" fill="{TEXT_COLOR}" '
        f'font-size="{_n(_TITLE_SIZE)}" font-weight="700">{escape(view.title)}'
        f'<tspan dx="14" font-size="13" font-weight="400" fill="{MUTED_COLOR}">'
        f"{escape(counts)}</tspan></text>",
        f'<g class="legend" transform="translate({_n(_PAD)},{_n(_HEADER_TOP + 12)})">',
        *legend,
        "</g>",
        f'<g class="graph" transform="translate({_n(graph_left)},{_n(graph_top)})">',
        *_levels(layout, gutter, size),
        # Edges implied by a longer path (what --reduce leaves out) first and faint, so the
        # direct structure reads; the page can hide them.
        f'<g class="edges implied" opacity="{_IMPLIED_OPACITY}">',
    ]
    for edge in layout.edges:
        if (edge.source, edge.target) in implied:
            out += _edge(edge, scale)
    out += ["</g>", f'<g class="edges"{_edge_opacity(len(layout.edges) - len(implied))}>']
    for edge in layout.edges:
        if not edge.violating and (edge.source, edge.target) not in implied:
            out += _edge(edge, scale)
    # Violations on top of every other curve, never faded.
    out += ["</g>", '<g class="edges violations">']
    for edge in layout.edges:
        if edge.violating:
            out += _edge(edge, scale)
    out += ["</g>", '<g class="nodes">']
    boxes = {box.name: box for box in layout.boxes}
    for node in view.nodes:
        out += _node(node, boxes[node.name], view, findings.get(node.name, 0))
    out += ["</g>", "</g>", "</svg>"]
    return "\n".join(out) + "\n"
