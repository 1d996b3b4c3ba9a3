"""Deterministic layered (Sugiyama-style) layout of a :class:`GraphView`, in pure Python.

Contract: :func:`layout_graph` is a pure function ``GraphView -> Layout``; the same view always
gives the same layout, to the tenth of a pixel. It never measures real text: label widths come
from :func:`text_width`, a per-character estimate erring on the wide side, so boxes fit the text
in the usual sans-serif fonts.

How the picture is built:

* Layers: a package sits in the band of its ``level``; level 0 is the bottom band, so every
  dependency is drawn below its dependents (larger ``y``) whenever the levels say so. Edges that
  do not go down a level (dev edges, edges inside a cycle) are still drawn, going up or arcing
  over a row.
* Order within a layer: a few alternating barycenter sweeps (down, then up) over the
  neighbours' relative positions, ties broken by name; the sweep with the fewest crossings
  (counted between every pair of layers an edge joins) wins.
* Wrapping: a layer wider than ``max_per_row`` packages is folded into several rows inside its
  band, filled column by column (so neighbours in the chosen order stay neighbours) with the
  columns aligned. By default ``max_per_row`` is chosen from the graph's shape (at least
  twelve) so the whole drawing comes out about as wide as a screen is for its height: "fit to
  screen" then shows every package as large as the screen allows, instead of a thin column.
* Bands: ``Layout.bands`` gives each level's vertical extent, for the level labels and band
  shading of the SVG and the level ruler of the HTML page.
* Edges: chains of cubic curves with vertical tangents, from the dependent's bottom to the
  dependency's top. An edge that has to get past rows of boxes runs straight down the gap between
  two columns of each band in its way (the gap closest to the direct line) and bends only
  between rows, so no curve is drawn behind a box; edges sharing a gap get lanes of their own,
  and a first placement pass widens the busy gaps. Where several edges meet one side of a box
  their ends are spread along it, ordered by where they head, so arrowheads do not pile up.
  Edges that do not go downwards (dev edges, cycles) go up the same way or arc over their row.

Runs in roughly O((nodes + edges) log nodes) per sweep: 1,000 packages lay out well under a
second.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from .model import GraphEdge, GraphView

__all__ = [
    "ASPECT",
    "BOX_HEIGHT",
    "DETAIL_FONT_SIZE",
    "NAME_FONT_SIZE",
    "EdgePath",
    "Layout",
    "LevelBand",
    "NodeBox",
    "Point",
    "Segment",
    "box_lines",
    "layout_graph",
    "text_width",
]

Point = tuple[float, float]

NAME_FONT_SIZE = 13.0
DETAIL_FONT_SIZE = 11.0
BOX_HEIGHT = 58.0
BOX_PAD_X = 12.0
BOX_MIN_WIDTH = 96.0
H_GAP = 30.0  # between boxes of one row
ROW_GAP = 34.0  # between the rows of one wrapped level band
LEVEL_GAP = 66.0  # between level bands: room for the curves, their arrowheads and band edges
MARGIN = 24.0
MAX_PER_ROW = 12  # the least the automatic choice uses
MAX_PER_ROW_LIMIT = 80
ASPECT = 1.6  # width / height the automatic row width aims for (a laptop screen)
SWEEPS = 6
GAP_PAD = 8.0  # an edge passing a row keeps this far from the boxes beside it
LANE_SPACING = 4.0  # between edges sharing one gap
MAX_GAP = 96.0  # a gap widened for its edges grows no wider; beyond that lanes get closer
PORT_SPACING = 12.0  # wanted distance between two edge ends on one side of a box
PORT_SPAN = 0.8  # fraction of a box side edge ends may use (keeps ends off rounded corners)

# Advance widths in em, shaped on Helvetica/Arial and rounded up so DejaVu Sans (the widest
# common fallback) still fits; anything unlisted counts as a wide-ish lowercase letter.
_NARROW = dict.fromkeys("il.,:;'|!`", 0.32)
_SMALL = dict.fromkeys("fjrt()[]{}/\\- ", 0.42)
_WIDE = dict.fromkeys("mw", 0.92) | dict.fromkeys("MW", 1.0) | {"@": 1.0, "%": 0.95}
_CHAR_EM: dict[str, float] = _NARROW | _SMALL | _WIDE
_DIGIT_EM = 0.64
_LOWER_EM = 0.62
_UPPER_EM = 0.74
_BOLD_FACTOR = 1.1


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """Estimated rendered width in px of ``text`` at font ``size`` (px) in a sans-serif font."""
    em = 0.0
    for char in text:
        if char in _CHAR_EM:
            em += _CHAR_EM[char]
        elif char.isdigit():
            em += _DIGIT_EM
        elif char.isupper():
            em += _UPPER_EM
        else:
            em += _LOWER_EM
    return em * size * (_BOLD_FACTOR if bold else 1.0)


def box_lines(name: str, version: str | None, status: str, note: str = "") -> tuple[str, str, str]:
    """The three text lines a package box shows (shared by the layout and the SVG).

    ``note`` (e.g. ``"blocked"``) follows the status on the third line.
    """
    third = f"{status} · {note}" if note else status
    return name, version if version is not None else "no version", third


@dataclass(frozen=True, slots=True)
class NodeBox:
    """Where one package's box goes; ``x``/``y`` is the top-left corner."""

    name: str
    level: int
    row: int  # row inside the level band, 0 = top row of the band
    x: float
    y: float
    width: float
    height: float

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height


Segment = tuple[Point, Point, Point]  # a cubic Bézier's two control points and its end


@dataclass(frozen=True, slots=True)
class EdgePath:
    """One edge as a chain of cubic Béziers from ``start`` (at the dependent) to the dependency.

    A path that has to cross rows of boxes on its way runs straight down (or up) a gap between
    two boxes of each such row, and bends only between rows.
    """

    source: str
    target: str
    kind: str
    extra: str | None
    violating: bool
    start: Point
    segments: tuple[Segment, ...]

    @property
    def end(self) -> Point:
        return self.segments[-1][2]

    @property
    def points(self) -> tuple[Point, ...]:
        """Start, then each segment's control points and end (every point the curve uses)."""
        return (self.start, *(point for segment in self.segments for point in segment))

    def svg_d(self) -> str:
        """The path as an SVG ``d`` attribute."""
        parts = [f"M{_p(self.start)}"]
        parts += [f"C{_p(c1)} {_p(c2)} {_p(end)}" for c1, c2, end in self.segments]
        return " ".join(parts)

    @property
    def label_point(self) -> Point:
        """Middle of the first segment: just past the dependent, clear of other boxes."""
        (x0, y0), ((x1, y1), (x2, y2), (x3, y3)) = self.start, self.segments[0]
        return (
            round((x0 + 3 * x1 + 3 * x2 + x3) / 8, 1),
            round((y0 + 3 * y1 + 3 * y2 + y3) / 8, 1),
        )


@dataclass(frozen=True, slots=True)
class LevelBand:
    """The vertical extent of one publish level's rows (``top`` to ``bottom``)."""

    level: int
    top: float
    bottom: float
    count: int  # packages in the level


@dataclass(frozen=True, slots=True)
class Layout:
    """Node boxes (in the view's node order), edge paths (in its edge order) and the canvas size."""

    width: float
    height: float
    boxes: tuple[NodeBox, ...]
    edges: tuple[EdgePath, ...]
    bands: tuple[LevelBand, ...] = ()  # top of the picture first

    def box(self, name: str) -> NodeBox:
        for box in self.boxes:
            if box.name == name:
                return box
        raise KeyError(name)


def layout_graph(view: GraphView, *, max_per_row: int | None = None) -> Layout:
    """Lay ``view`` out in level bands (level 0 at the bottom); see the module docstring.

    ``max_per_row`` (packages per row of a level band) defaults to :func:`row_width`.
    """
    if max_per_row is not None and max_per_row < 1:
        raise ValueError("max_per_row must be at least 1")
    if not view.nodes:
        return Layout(width=2 * MARGIN, height=2 * MARGIN, boxes=(), edges=())

    level_of = {node.name: max(node.level, 0) for node in view.nodes}
    widths = {
        node.name: _box_width(
            *box_lines(node.name, node.version, node.status, node_note(view, node.name))
        )
        for node in view.nodes
    }
    if max_per_row is None:
        max_per_row = row_width(level_of, widths)
    # Edges to packages the view does not hold cannot be placed; they are left out.
    edges = [
        edge
        for edge in view.edges
        if edge.source in level_of and edge.target in level_of and edge.source != edge.target
    ]

    layers = _order_layers(level_of, [(edge.source, edge.target, edge.kind) for edge in edges])
    bands = _wrap(layers, max_per_row)
    # Place once, count the edges running down each gap between columns, widen the busy gaps,
    # place again: cables of edges get room instead of being drawn on top of each other.
    geometry = _place(bands, level_of, widths, {})
    gaps: dict[tuple[int, int], float] = {}
    for (band, gap), count in _plan(edges, geometry, bands)[1].items():
        if 0 <= gap < len(bands[band].columns) - 1:
            wanted = 2 * GAP_PAD + (count - 1) * LANE_SPACING
            gaps[(band, gap)] = min(max(H_GAP, wanted), MAX_GAP)
    if gaps:
        geometry = _place(bands, level_of, widths, gaps)
    paths = _route(edges, geometry, bands)
    return _normalized(
        tuple(geometry.boxes[node.name] for node in view.nodes), tuple(paths), geometry.bands
    )


def node_note(view: GraphView, name: str) -> str:
    """What the third line of a box adds after the status: ``"blocked"`` or nothing."""
    return "blocked" if name in view.blocked else ""


def row_width(level_of: dict[str, int], widths: dict[str, float]) -> int:
    """Packages per row that make the drawing about :data:`ASPECT` times as wide as it is tall.

    Estimated from the level sizes and the mean box width (the real layout widens busy gaps a
    little); never fewer than :data:`MAX_PER_ROW`.
    """
    counts: dict[int, int] = defaultdict(int)
    for level in level_of.values():
        counts[level] += 1
    # Gaps busy with edges get wider than H_GAP: count a quarter more per column.
    column = (sum(widths.values()) / len(widths) + H_GAP) * 1.25
    step = BOX_HEIGHT + ROW_GAP
    best, best_scale = MAX_PER_ROW, 0.0
    for per_row in range(MAX_PER_ROW, min(MAX_PER_ROW_LIMIT, max(counts.values())) + 1):
        rows = sum(math.ceil(count / per_row) for count in counts.values())
        height = rows * step + len(counts) * (LEVEL_GAP - ROW_GAP)
        width = max(min(count, per_row) for count in counts.values()) * column
        scale = min(ASPECT / width, 1 / height)  # how large "fit to screen" draws a box
        if scale > best_scale * 1.02:  # a wider picture must be clearly better
            best, best_scale = per_row, scale
    return best


def _box_width(name: str, version: str, status: str) -> float:
    text = max(
        text_width(name, NAME_FONT_SIZE, bold=True),
        text_width(version, DETAIL_FONT_SIZE),
        text_width(status, DETAIL_FONT_SIZE),
    )
    return float(math.ceil(max(BOX_MIN_WIDTH, text + 2 * BOX_PAD_X)))


# --------------------------------------------------------------------------- ordering


def _order_layers(
    level_of: dict[str, int], edges: Iterable[tuple[str, str, str]]
) -> list[list[str]]:
    top = max(level_of.values())
    layers: list[list[str]] = [[] for _ in range(top + 1)]
    for name in sorted(level_of):
        layers[level_of[name]].append(name)

    # Dev edges pull half as hard: they do not define levels and often cross the picture.
    # Pulls fade with the number of levels an edge spans, so near neighbours dominate.
    weight: dict[tuple[str, str], float] = defaultdict(float)
    for source, target, kind in edges:
        span = max(1, abs(level_of[source] - level_of[target]))
        pull = (0.5 if kind == "dev" else 1.0) / span
        key = (source, target) if source < target else (target, source)
        weight[key] += pull
    neighbours: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for (a, b), pull in sorted(weight.items()):
        if level_of[a] != level_of[b]:
            neighbours[a].append((b, pull))
            neighbours[b].append((a, pull))
    pairs = sorted(weight)

    pos: dict[str, float] = {}
    index: dict[str, int] = {}

    def renumber(layer: Sequence[str]) -> None:
        for i, name in enumerate(layer):
            index[name] = i
            pos[name] = (i + 0.5) / len(layer)

    for layer in layers:
        renumber(layer)

    def reorder(level: int, from_above: bool) -> None:
        keyed: list[tuple[float, str]] = []
        for name in layers[level]:
            total = weights = 0.0
            for other, pull in neighbours.get(name, ()):
                other_level = level_of[other]
                if (other_level > level) if from_above else (other_level < level):
                    total += pos[other] * pull
                    weights += pull
            keyed.append((total / weights if weights else pos[name], name))
        keyed.sort()
        layers[level] = [name for _, name in keyed]
        renumber(layers[level])

    best = [list(layer) for layer in layers]
    best_crossings = _crossings(pairs, level_of, index)
    for _ in range(SWEEPS):
        for level in range(top - 1, -1, -1):
            reorder(level, from_above=True)
        for level in range(1, top + 1):
            reorder(level, from_above=False)
        crossings = _crossings(pairs, level_of, index)
        if crossings < best_crossings:
            best, best_crossings = [list(layer) for layer in layers], crossings
        if best_crossings == 0:
            break
    return best


def _crossings(
    pairs: Sequence[tuple[str, str]], level_of: dict[str, int], index: dict[str, int]
) -> int:
    """Crossings between edges that join the same two layers (inversion count, Fenwick tree)."""
    groups: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for a, b in pairs:
        la, lb = level_of[a], level_of[b]
        if la == lb:
            continue
        if la < lb:
            a, b, la, lb = b, a, lb, la
        groups[(la, lb)].append((index[a], index[b]))
    total = 0
    for segments in groups.values():
        segments.sort()
        size = max(lower for _, lower in segments) + 2
        tree = [0] * (size + 1)
        for seen, (_, lower) in enumerate(segments):
            # Edges already seen whose lower end lies strictly right of this one cross it.
            i, not_greater = lower + 1, 0
            while i > 0:
                not_greater += tree[i]
                i -= i & -i
            total += seen - not_greater
            i = lower + 1
            while i <= size:
                tree[i] += 1
                i += i & -i
    return total


# --------------------------------------------------------------------------- placement


@dataclass(frozen=True, slots=True)
class _Band:
    """The packages of one level: columns left to right, each listed top to bottom."""

    level: int
    columns: tuple[tuple[str, ...], ...]
    first_row: int  # index of its top row among all rows, counted from the top of the picture

    @property
    def row_count(self) -> int:
        return max(len(column) for column in self.columns)

    @property
    def last_row(self) -> int:
        return self.first_row + self.row_count - 1


@dataclass(frozen=True, slots=True)
class _Geometry:
    bands: tuple[LevelBand, ...]
    boxes: dict[str, NodeBox]
    spans: tuple[tuple[tuple[float, float], ...], ...]  # per band: (left, right) of each column
    lefts: tuple[tuple[float, ...], ...]  # per band: left of each column (for bisect)
    row_y: tuple[float, ...]  # top of every row, top of the picture first
    row_of: dict[str, int]


def _wrap(layers: Sequence[Sequence[str]], max_per_row: int) -> list[_Band]:
    bands: list[_Band] = []
    first_row = 0
    for level in range(len(layers) - 1, -1, -1):
        order = layers[level]
        if not order:
            continue
        rows = math.ceil(len(order) / max_per_row)
        # Filling column by column keeps neighbours in the chosen order next to each other, and
        # aligned columns leave straight corridors between them for edges crossing the band.
        columns = tuple(tuple(order[k : k + rows]) for k in range(0, len(order), rows))
        bands.append(_Band(level=level, columns=columns, first_row=first_row))
        first_row += rows
    return bands


def _place(
    bands: Sequence[_Band],
    level_of: dict[str, int],
    widths: dict[str, float],
    gaps: dict[tuple[int, int], float],
) -> _Geometry:
    """Boxes for ``bands``; ``gaps[(band, k)]`` widens the gap right of column k of a band."""
    column_widths = [
        [max(widths[name] for name in column) for column in band.columns] for band in bands
    ]
    band_widths = [
        sum(ws) + sum(gaps.get((b, k), H_GAP) for k in range(len(ws) - 1))
        for b, ws in enumerate(column_widths)
    ]
    width = max(band_widths)
    boxes: dict[str, NodeBox] = {}
    spans: list[tuple[tuple[float, float], ...]] = []
    row_y: list[float] = []
    row_of: dict[str, int] = {}
    level_bands: list[LevelBand] = []
    y = 0.0
    step = BOX_HEIGHT + ROW_GAP
    for b, band in enumerate(bands):
        count = sum(len(column) for column in band.columns)
        level_bands.append(
            LevelBand(band.level, round(y, 1), round(y + band.row_count * step - ROW_GAP, 1), count)
        )
        x = (width - band_widths[b]) / 2  # every band centred
        band_spans: list[tuple[float, float]] = []
        for k, column in enumerate(band.columns):
            column_width = column_widths[b][k]
            band_spans.append((round(x, 1), round(x + column_width, 1)))
            for i, name in enumerate(column):
                boxes[name] = NodeBox(
                    name=name,
                    level=level_of[name],
                    row=i,
                    x=round(x + (column_width - widths[name]) / 2, 1),
                    y=round(y + i * step, 1),
                    width=widths[name],
                    height=BOX_HEIGHT,
                )
                row_of[name] = band.first_row + i
            x += column_width + gaps.get((b, k), H_GAP)
        spans.append(tuple(band_spans))
        row_y += [round(y + i * step, 1) for i in range(band.row_count)]
        y += band.row_count * step - ROW_GAP + LEVEL_GAP
    return _Geometry(
        bands=tuple(level_bands),
        boxes=boxes,
        spans=tuple(spans),
        lefts=tuple(tuple(left for left, _ in band_spans) for band_spans in spans),
        row_y=tuple(row_y),
        row_of=row_of,
    )


# --------------------------------------------------------------------------- routing

# Per edge, every band whose rows it has to get past: it runs straight down (or up) one gap
# between two columns of that band, from ``enter`` row to ``leave`` row, at about ``x``.
_Crossing = tuple[
    int, int, int, int, float
]  # (band, gap: -1 left of column 0, ..., enter, leave, x)


def _plan(
    edges: Sequence[GraphEdge], geometry: _Geometry, bands: Sequence[_Band]
) -> tuple[list[list[_Crossing]], dict[tuple[int, int], int]]:
    boxes, row_of = geometry.boxes, geometry.row_of
    band_of_row = [b for b, band in enumerate(bands) for _ in range(band.row_count)]
    plans: list[list[_Crossing]] = []
    lanes: dict[tuple[int, int], int] = defaultdict(int)
    for edge in edges:
        source, target = boxes[edge.source], boxes[edge.target]
        first, last = row_of[edge.source], row_of[edge.target]
        crossings: list[_Crossing] = []
        if abs(last - first) > 1:
            down = last > first
            lo, hi = (first + 1, last - 1) if down else (last + 1, first - 1)
            order = range(band_of_row[lo], band_of_row[hi] + 1)
            for b in order if down else reversed(order):
                top, bottom = max(lo, bands[b].first_row), min(hi, bands[b].last_row)
                middle = (geometry.row_y[top] + geometry.row_y[bottom] + BOX_HEIGHT) / 2
                share = (middle - source.cy) / (target.cy - source.cy)
                wanted = source.cx + share * (target.cx - source.cx)
                gap, x = _nearest_gap(geometry.spans[b], geometry.lefts[b], wanted)
                enter, leave = (top, bottom) if down else (bottom, top)
                crossings.append((b, gap, enter, leave, x))
                lanes[(b, gap)] += 1
        plans.append(crossings)
    return plans, lanes


def _gap_bounds(spans: Sequence[tuple[float, float]], gap: int) -> tuple[float, float]:
    lo = spans[gap][1] + GAP_PAD if gap >= 0 else -math.inf
    hi = spans[gap + 1][0] - GAP_PAD if gap + 1 < len(spans) else math.inf
    return lo, hi


def _nearest_gap(
    spans: Sequence[tuple[float, float]], lefts: Sequence[float], wanted: float
) -> tuple[int, float]:
    """The gap between columns closest to ``wanted`` and the nearest x inside it."""
    k = bisect_right(lefts, wanted) - 1  # the column starting at or left of ``wanted``
    candidates: list[tuple[float, int, float]] = []
    for gap in (k - 1, k):
        if -1 <= gap < len(spans):
            lo, hi = _gap_bounds(spans, gap)
            x = min(max(wanted, lo), hi) if lo <= hi else (lo + hi) / 2
            candidates.append((abs(x - wanted), gap, x))
    _, gap, x = min(candidates)
    return gap, x


def _route(
    edges: Sequence[GraphEdge], geometry: _Geometry, bands: Sequence[_Band]
) -> list[EdgePath]:
    plans, _ = _plan(edges, geometry, bands)
    boxes, row_of, row_y = geometry.boxes, geometry.row_of, geometry.row_y

    # Spread the edges sharing a gap into lanes, in the order of the x they want (fewest
    # crossings), then pull the lanes back inside the gap.
    by_gap: dict[tuple[int, int], list[tuple[float, int, int]]] = defaultdict(list)
    for i, crossings in enumerate(plans):
        for j, (band, gap, _, _, x) in enumerate(crossings):
            by_gap[(band, gap)].append((x, i, j))
    lane_x: dict[tuple[int, int], float] = {}
    for (band, gap), items in by_gap.items():
        lo, hi = _gap_bounds(geometry.spans[band], gap)
        items.sort()
        spacing = LANE_SPACING
        if len(items) > 1 and math.isfinite(hi - lo):
            spacing = min(LANE_SPACING, max(hi - lo, 0.0) / (len(items) - 1))
        xs = [x for x, _, _ in items]
        for k in range(1, len(xs)):
            xs[k] = max(xs[k], xs[k - 1] + spacing)
        if xs[-1] > hi:
            xs[-1] = hi
            for k in range(len(xs) - 2, -1, -1):
                xs[k] = min(xs[k], xs[k + 1] - spacing)
        for x, (_, i, j) in zip(xs, items, strict=True):
            lane_x[(i, j)] = round(x, 1)

    # The ends of the edges meeting one side of a box are spread along it, ordered by the x of
    # the next point on their way, so they neither pile up nor cross each other there.
    sides: list[tuple[str, str]] = []
    attached: dict[tuple[str, str], list[tuple[float, str, int, int]]] = defaultdict(list)
    for i, edge in enumerate(edges):
        source, target = boxes[edge.source], boxes[edge.target]
        first, last = row_of[edge.source], row_of[edge.target]
        if first < last:
            side = (_BOTTOM, _TOP)
        elif first > last:
            side = (_TOP, _BOTTOM)
        else:  # same row: arc over it
            side = (_TOP, _TOP)
        sides.append(side)
        crossings = plans[i]
        after_source = lane_x[(i, 0)] if crossings else target.cx
        before_target = lane_x[(i, len(crossings) - 1)] if crossings else source.cx
        attached[(edge.source, side[0])].append((after_source, edge.target, i, 0))
        attached[(edge.target, side[1])].append((before_target, edge.source, i, 1))
    ends: dict[tuple[int, int], float] = {}
    for (name, _), meeting in attached.items():
        box = boxes[name]
        meeting.sort()
        spacing = min(PORT_SPACING, box.width * PORT_SPAN / len(meeting))
        for k, (_, _, i, which) in enumerate(meeting):
            ends[(i, which)] = round(box.cx + (k - (len(meeting) - 1) / 2) * spacing, 1)

    paths: list[EdgePath] = []
    for i, edge in enumerate(edges):
        source, target = boxes[edge.source], boxes[edge.target]
        source_side, target_side = sides[i]
        start = (ends[(i, 0)], source.bottom if source_side == _BOTTOM else source.y)
        end = (ends[(i, 1)], target.y if target_side == _TOP else target.bottom)
        segments: list[Segment] = []
        if source_side == target_side:
            row = row_of[edge.source]
            room = row_y[row] - row_y[row - 1] - BOX_HEIGHT if row > 0 else 2 * LEVEL_GAP
            # A cubic's peak is 3/4 of its control points' lift: stay clear of the row above.
            lift = min(28.0 + 0.2 * abs(end[0] - start[0]), (room - 10.0) / 0.75)
            segments.append(((start[0], start[1] - lift), (end[0], end[1] - lift), end))
        else:
            down = source_side == _BOTTOM
            here = start
            for j, (_, _, enter_row, leave_row, _) in enumerate(plans[i]):
                x = lane_x[(i, j)]
                enter = (x, row_y[enter_row] if down else row_y[enter_row] + BOX_HEIGHT)
                leave = (x, row_y[leave_row] + BOX_HEIGHT if down else row_y[leave_row])
                segments.append(_bend(here, enter))
                segments.append((enter, leave, leave))  # straight along the corridor
                here = leave
            segments.append(_bend(here, end))
        paths.append(
            EdgePath(
                source=edge.source,
                target=edge.target,
                kind=edge.kind,
                extra=edge.extra,
                violating=edge.violating,
                start=start,
                segments=tuple(segments),
            )
        )
    return paths


def _bend(a: Point, b: Point) -> Segment:
    """An S-curve from ``a`` to ``b`` leaving and arriving vertically."""
    half = (b[1] - a[1]) / 2
    return ((a[0], a[1] + half), (b[0], b[1] - half), b)


def _normalized(
    boxes: tuple[NodeBox, ...], paths: tuple[EdgePath, ...], bands: tuple[LevelBand, ...] = ()
) -> Layout:
    """Shift everything so the drawing (boxes and curves) starts at ``MARGIN`` on both axes."""
    xs = [box.x for box in boxes] + [box.right for box in boxes]
    ys = [box.y for box in boxes] + [box.bottom for box in boxes]
    for path in paths:
        for x, y in path.points:
            xs.append(x)
            ys.append(y)
    dx, dy = MARGIN - min(xs), MARGIN - min(ys)

    def shift(point: Point) -> Point:
        return (round(point[0] + dx, 1), round(point[1] + dy, 1))

    return Layout(
        width=round(max(xs) - min(xs) + 2 * MARGIN, 1),
        height=round(max(ys) - min(ys) + 2 * MARGIN, 1),
        boxes=tuple(replace(box, x=round(box.x + dx, 1), y=round(box.y + dy, 1)) for box in boxes),
        edges=tuple(
            replace(
                path,
                start=shift(path.start),
                segments=tuple((shift(c1), shift(c2), shift(end)) for c1, c2, end in path.segments),
            )
            for path in paths
        ),
        bands=tuple(
            replace(band, top=round(band.top + dy, 1), bottom=round(band.bottom + dy, 1))
            for band in bands
        ),
    )


_TOP, _BOTTOM = "top", "bottom"


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _p(point: Point) -> str:
    return f"{_n(point[0])},{_n(point[1])}"
