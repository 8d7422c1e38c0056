"""Draw a :class:`~lossctl.plot.figure.Figure` as unicode text that fits the terminal.

Lines, points and overlaid histograms are braille dots (2 x 4 per character);
single or stacked histograms are block bars (1/8 character resolution); vertical
marks are box-drawing lines. Series are told apart by colour and, so that a plot
also reads without colour (``NO_COLOR``, a pipe), by dash pattern; highlighted
points are ``●`` and highlighted bars ``▓``. Every line is at most ``width``
cells and the x axis line is exactly ``width``.

Only numpy and rich (already dependencies of lossctl) are used.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from lossctl.errors import UsageError
from lossctl.plot.data import auto_bins, histogram
from lossctl.plot.figure import Bars, Figure, Hist, Line, Mark, Panel, Points, y_extent

if TYPE_CHECKING:
    from rich.text import Text

#: Colour of each series style (the same order as the image palette).
COLORS = ("cyan", "magenta", "yellow", "green", "blue", "bright_red")
#: Dash pattern of each series style: alternating on/off pixel counts (None: solid).
DASHES: tuple[tuple[int, ...] | None, ...] = (None, (4, 2), (1, 2), (5, 2, 1, 2), (2, 2), (8, 3))
EMPHASIS = "bold red"
EMPHASIS_POINT = "●"
#: The marker of each series style, on the points of a line drawn with markers.
MARKERS = ("●", "■", "▲", "◆", "▼", "✖")
EMPHASIS_BAR = "▓"
DIAGONAL = "bright_black"
#: Vertical marks: (character, style) per mark style.
MARKS = (("┃", "bold"), ("┊", "bold green"), ("╎", "bold yellow"), ("┆", "bold blue"))
BLOCKS = " ▁▂▃▄▅▆▇█"
#: Braille dot bits by (x in 0..1, y in 0..3 from the top of the cell).
_DOT = np.array([[0x01, 0x02, 0x04, 0x40], [0x08, 0x10, 0x20, 0x80]], dtype=np.uint8)
MIN_PLOT_COLUMNS = 16
MIN_HEIGHT = 4


def color(style: int) -> str:
    return COLORS[style % len(COLORS)]


def dash(style: int) -> tuple[int, ...] | None:
    return DASHES[style % len(DASHES)]


def mark_glyph(style: int) -> tuple[str, str]:
    return MARKS[style % len(MARKS)]


def marker(style: int) -> str:
    return MARKERS[style % len(MARKERS)]


# -- scales and ticks --------------------------------------------------------------------------


class Axis:
    """Maps data values to pixels (``n`` pixels along the axis), linear or log10."""

    def __init__(self, lo: float, hi: float, n: int, log: bool) -> None:
        if log:
            if not (lo > 0 and hi > 0):
                raise UsageError("a log axis needs positive values.")
            lo, hi = math.log10(lo), math.log10(hi)
        if not hi > lo:
            hi = lo + 1.0
        self.lo, self.hi, self.n, self.log = lo, hi, n, log

    def t(self, v: np.ndarray) -> np.ndarray:
        """Data to axis space (log10 on a log axis; non-positive values become NaN)."""
        v = np.asarray(v, dtype=np.float64)
        if not self.log:
            return v
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)

    def px(self, v: np.ndarray) -> np.ndarray:
        """Fractional pixel coordinate: pixel k covers [k, k + 1)."""
        return (self.t(v) - self.lo) / (self.hi - self.lo) * self.n

    def ticks(self, target: int) -> list[tuple[float, str]]:
        """Nice tick values inside the axis (at least 3 where possible), with labels."""
        for _ in range(3):
            found = (_log_ticks if self.log else _linear_ticks)(self.lo, self.hi, target)
            inside = [(v, lab) for v, lab in found if self.lo - 1e-9 <= v <= self.hi + 1e-9]
            if len(inside) >= 3:
                break
            target *= 2
        return inside


def _linear_ticks(lo: float, hi: float, target: int) -> list[tuple[float, str]]:
    raw = (hi - lo) / max(target, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * (1 - 1e-9))
    start = math.ceil(lo / step - 1e-9) * step
    values = [start + i * step for i in range(int((hi - start) / step + 1e-9) + 1)]
    big = max(abs(lo), abs(hi))
    if big >= 1e6 or step < 1e-4:
        labels = [f"{v:.3g}" for v in values]
    else:
        decimals = max(0, -math.floor(math.log10(step) + 1e-9))
        if abs(step * 10**decimals - round(step * 10**decimals)) > 1e-6:
            decimals += 1  # 2.5, 0.25
        labels = [f"{v:.{decimals}f}" for v in values]
    labels = ["0" if float(lab) == 0 else lab for lab in labels]
    return list(zip(values, labels, strict=True))


def _round_up(lo: float, hi: float, target: int) -> float:
    """``hi`` raised to the next tick, so the top of the data has a labelled line."""
    ticks = _linear_ticks(lo, hi, target)
    if len(ticks) < 2:
        return hi
    step = ticks[1][0] - ticks[0][0]
    top = ticks[-1][0]
    return top + step if top < hi - 1e-9 * step else hi


def _pow_label(e: int) -> str:
    return f"{10.0**e:g}" if -3 <= e <= 4 else f"1e{e}"


def _log_ticks(lo: float, hi: float, target: int) -> list[tuple[float, str]]:
    """Ticks at powers of 10 (every k-th when there are many), in log10 space."""
    first, last = math.ceil(lo - 1e-9), math.floor(hi + 1e-9)
    exps = list(range(first, last + 1))
    if len(exps) < 2:  # less than a decade: fall back to linear ticks in log space
        return [(v, f"{10**v:.2g}") for v, _ in _linear_ticks(lo, hi, target)]
    k = max(1, math.ceil(len(exps) / max(target, 1)))
    return [(float(e), _pow_label(e)) for e in exps if (e - first) % k == 0]


# -- the canvas --------------------------------------------------------------------------------


class Canvas:
    """A grid of character cells holding braille dots and overlay characters."""

    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        self.bits = np.zeros((rows, cols), dtype=np.uint8)
        self.bit_style = np.full((rows, cols), "", dtype=object)
        self.chars = np.full((rows, cols), "", dtype=object)
        self.char_style = np.full((rows, cols), "", dtype=object)

    def dots(self, px: np.ndarray, py: np.ndarray, style: str) -> None:
        """Set braille dots at integer pixels (py = 0 at the bottom); outside ones are dropped."""
        px = np.asarray(px, dtype=np.int64)
        py = np.asarray(py, dtype=np.int64)
        ok = (px >= 0) & (px < 2 * self.cols) & (py >= 0) & (py < 4 * self.rows)
        px, py = px[ok], py[ok]
        top = 4 * self.rows - 1 - py
        row, sub_y, col, sub_x = top // 4, top % 4, px // 2, px % 2
        np.bitwise_or.at(self.bits, (row, col), _DOT[sub_x, sub_y])
        self.bit_style[row, col] = style

    def put(self, col: int, row: int, ch: str, style: str) -> None:
        if 0 <= col < self.cols and 0 <= row < self.rows:
            self.chars[row, col] = ch
            self.char_style[row, col] = style

    def cell(self, row: int, col: int) -> tuple[str, str]:
        if self.chars[row, col]:
            return str(self.chars[row, col]), str(self.char_style[row, col])
        if self.bits[row, col]:
            return chr(0x2800 + int(self.bits[row, col])), str(self.bit_style[row, col])
        return " ", ""


def _raster(fx: np.ndarray, fy: np.ndarray, xmax: int, ymax: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer pixels along a polyline in pixel space, in order; NaN points break it."""
    fx = np.clip(fx, -2.0, xmax + 2.0)
    fy = np.clip(fy, -2.0, ymax + 2.0)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    finite = np.isfinite(fx) & np.isfinite(fy)
    for i in range(len(fx) - 1):
        if not (finite[i] and finite[i + 1]):
            if finite[i]:
                xs.append(np.array([fx[i]]))
                ys.append(np.array([fy[i]]))
            continue
        dx, dy = fx[i + 1] - fx[i], fy[i + 1] - fy[i]
        steps = math.ceil(max(abs(dx), abs(dy))) + 1
        t = np.linspace(0.0, 1.0, steps + 1)[:-1]
        xs.append(fx[i] + t * dx)
        ys.append(fy[i] + t * dy)
    if len(fx) and finite[-1]:
        xs.append(fx[-1:])
        ys.append(fy[-1:])
    if not xs:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    px = np.floor(np.concatenate(xs)).astype(np.int64)
    py = np.floor(np.concatenate(ys)).astype(np.int64)
    # Pixel k covers [k, k+1): the right/top edge value n belongs to the last pixel.
    px = np.where(px == xmax, xmax - 1, px)
    py = np.where(py == ymax, ymax - 1, py)
    keep = np.ones(px.shape[0], dtype=bool)
    keep[1:] = (px[1:] != px[:-1]) | (py[1:] != py[:-1])
    return px[keep], py[keep]


def _dash_mask(n: int, pattern: tuple[int, ...] | None) -> np.ndarray:
    if pattern is None:
        return np.ones(n, dtype=bool)
    on = np.concatenate([np.full(k, i % 2 == 0) for i, k in enumerate(pattern)])
    return np.resize(on, n)


# -- one panel ---------------------------------------------------------------------------------


class _Legend:
    """Legend entries (glyph, style, label), deduplicated by label."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str, str]] = []

    def add(self, glyph: str, style: str, label: str) -> None:
        if label and all(label != x[2] for x in self.items):
            self.items.append((glyph, style, label))


def _line_glyph(style: int) -> str:
    """Four cells of braille showing the dash pattern of a line style."""
    c = Canvas(4, 1)
    on = _dash_mask(8, dash(style))
    c.dots(np.arange(8)[on], np.full(8, 2)[on], "")
    return "".join(c.cell(0, i)[0] for i in range(4))


def _hist_heights(panel: Panel, cols: int) -> list[np.ndarray]:
    """Bar height under each column, per bar series (:class:`Hist`: bins chosen for the
    data, at most one per column; :class:`Bars`: see :func:`_bars_heights`)."""
    lo, hi = panel.x_range
    hists = [s for s in panel.series if isinstance(s, Hist)]
    out = []
    if hists:
        bins = auto_bins([s.values for s in hists], lo, hi, log=panel.x_log, cap=cols)
        # The bin under the centre of each column.
        centre = (np.arange(cols) + 0.5) / cols
        which = np.minimum((centre * bins).astype(np.int64), bins - 1)
        for s in hists:
            _, h = histogram(
                s.values, s.weights, lo, hi, bins, log=panel.x_log, normalize=s.normalize
            )
            out.append(h[which])
    out += [_bars_heights(s, panel, cols) for s in panel.series if isinstance(s, Bars)]
    return out


def _bars_heights(bars: Bars, panel: Panel, cols: int) -> np.ndarray:
    """Fixed bins under the columns: each column shows the bin under its centre when
    there are no more bins than columns (every bin then covers one centre at least),
    else the sum of the bins whose centres fall in it."""
    xax = Axis(panel.x_range[0], panel.x_range[1], cols, panel.x_log)
    edges = bars.edges
    n = bars.heights.shape[0]
    if n <= cols:
        centre = xax.lo + (np.arange(cols) + 0.5) / cols * (xax.hi - xax.lo)
        if panel.x_log:
            centre = 10.0**centre
        k = np.searchsorted(edges, centre, side="right") - 1
        inside = (k >= 0) & (k < n) & (centre <= edges[-1])
        return np.where(inside, bars.heights[np.clip(k, 0, n - 1)], 0.0)
    col = np.floor(xax.px(0.5 * (edges[:-1] + edges[1:])))
    ok = np.isfinite(col) & (col >= 0) & (col < cols)
    return np.bincount(col[ok].astype(np.int64), bars.heights[ok], cols)


def _draw_panel(panel: Panel, width: int, rows: int) -> tuple[list[list[tuple[str, str]]], _Legend]:
    """The rows of one panel as (text, style) runs, and its legend."""
    legend = _Legend()
    # Bars after histograms: the order of the heights of _hist_heights.
    hists: list[Hist | Bars] = [s for s in panel.series if isinstance(s, Hist)]
    hists += [s for s in panel.series if isinstance(s, Bars)]
    # The y tick labels set the plot width, bars use one bin per column, and the bar
    # heights set the y range: iterate to the fixed point (two rounds in practice).
    cols = width - 8
    heights: list[np.ndarray] = []
    for _ in range(4):
        heights = _hist_heights(panel, max(cols, 1)) if hists else []
        tops = [np.sum(heights, axis=0)] if (hists and panel.stacked) else heights
        ylo, yhi = y_extent(panel, tops)
        if panel.y_range is None and not panel.y_log:
            yhi = _round_up(ylo, yhi, max(2, rows // 3))
        yax = Axis(ylo, yhi, 4 * rows, panel.y_log)
        yticks = yax.ticks(max(2, rows // 3))
        margin = max((len(lab) for _, lab in yticks), default=1) + 1
        if width - margin - 1 == cols:
            break
        cols = width - margin - 1
    if cols < MIN_PLOT_COLUMNS:
        raise UsageError(
            f"--width {width} is too narrow for this plot; use at least "
            f"{width - cols + MIN_PLOT_COLUMNS}."
        )
    if hists and heights[0].shape[0] != cols:
        heights = _hist_heights(panel, cols)
    xax = Axis(panel.x_range[0], panel.x_range[1], 2 * cols, panel.x_log)
    canvas = Canvas(cols, rows)

    if panel.diagonal:
        lo = max(xax.lo, yax.lo)
        hi = min(xax.hi, yax.hi)
        if hi > lo:
            t = np.linspace(lo, hi, 4 * (cols + rows))
            raw = 10.0**t if panel.x_log else t
            fx, fy = xax.px(raw), yax.px(10.0**t if panel.y_log else t)
            px, py = _raster(fx, fy, 2 * cols, 4 * rows)
            m = _dash_mask(px.shape[0], (1, 1))
            canvas.dots(px[m], py[m], DIAGONAL)

    if hists:
        _draw_hists(canvas, panel, hists, heights, yax, legend)
    for s in panel.series:
        if isinstance(s, Line):
            px, py = _raster(xax.px(s.x), yax.px(s.y), 2 * cols, 4 * rows)
            m = _dash_mask(px.shape[0], dash(s.style))
            canvas.dots(px[m], py[m], color(s.style))
            glyph = _line_glyph(s.style)
            if s.marker:
                _draw_markers(canvas, s, xax, yax)
                glyph = glyph[:2] + marker(s.style) + glyph[2:]
            legend.add(glyph, color(s.style), s.label)
        elif isinstance(s, Points) and not s.emphasis:
            fx, fy = xax.px(s.x), yax.px(s.y)
            ok = np.isfinite(fx) & np.isfinite(fy)
            px = np.minimum(np.floor(fx[ok]), 2 * cols - 1)
            py = np.minimum(np.floor(fy[ok]), 4 * rows - 1)
            canvas.dots(px, py, color(s.style))
            legend.add("⠂⠁⠄", color(s.style), s.label)
    for mk in panel.marks:
        _draw_mark(canvas, mk, xax, legend)
    for s in panel.series:
        if isinstance(s, Points) and s.emphasis:
            fx, fy = xax.px(s.x), yax.px(s.y)
            ok = np.isfinite(fx) & np.isfinite(fy)
            px = np.clip(np.floor(fx[ok]), 0, 2 * cols - 1).astype(np.int64)
            py = np.clip(np.floor(fy[ok]), 0, 4 * rows - 1).astype(np.int64)
            for col, row in set(
                zip((px // 2).tolist(), ((4 * rows - 1 - py) // 4).tolist(), strict=True)
            ):
                canvas.put(col, row, EMPHASIS_POINT, EMPHASIS)
            legend.add(EMPHASIS_POINT, EMPHASIS, s.label)

    # Assemble: y label, rows with y ticks, x axis, x tick labels, x label.
    tick_rows: dict[int, str] = {}
    for value, text in yticks:
        pixel = min(math.floor((value - yax.lo) / (yax.hi - yax.lo) * 4 * rows), 4 * rows - 1)
        tick_rows.setdefault((4 * rows - 1 - pixel) // 4, text)
    out: list[list[tuple[str, str]]] = []
    if panel.title:
        out.append([(_fit(panel.title, width), "bold")])
    out.append([(_fit(panel.y_label, width), "dim")])
    for r in range(rows):
        tick = tick_rows.get(r)
        runs: list[tuple[str, str]] = [
            ((tick or "").rjust(margin - 1) + " ", "dim"),
            ("┤" if tick is not None else "│", "dim"),
        ]
        for c in range(cols):
            runs.append(canvas.cell(r, c))
        out.append(runs)
    xticks = xax.ticks(max(2, cols // 12))
    axis = ["─"] * cols
    labels = [" "] * width
    end = -2
    for v, lab in xticks:
        if not (xax.lo - 1e-9 <= v <= xax.hi + 1e-9):
            continue
        col = min(math.floor((v - xax.lo) / (xax.hi - xax.lo) * cols), cols - 1)
        start = margin + 1 + col - len(lab) // 2
        start = max(0, min(start, width - len(lab)))
        if start <= end + 1:
            continue
        labels[start : start + len(lab)] = list(lab)
        end = start + len(lab) - 1
        axis[col] = "┬"
    out.append([(" " * margin + "└" + "".join(axis), "dim")])
    out.append([("".join(labels).rstrip(), "dim")])
    out.append([(_fit(panel.x_label, width).rjust(width).rstrip(), "dim")])
    merged = [s for s in panel.series if isinstance(s, Bars) and s.heights.shape[0] > cols]
    if merged:
        n = merged[0].heights.shape[0]
        note = f"({n} bins in {cols} columns: each bar sums the bins under it; widen --width.)"
        out += [[(part, "dim")] for part in textwrap.wrap(note, width)]
    return out, legend


def _draw_markers(canvas: Canvas, line: Line, xax: Axis, yax: Axis) -> None:
    """The style's marker glyph in the cell of each point of ``line`` (inside the axes)."""
    fx, fy = xax.px(line.x), yax.px(line.y)
    ok = np.isfinite(fx) & np.isfinite(fy) & (fx >= 0) & (fy >= 0)
    ok &= (fx <= 2 * canvas.cols) & (fy <= 4 * canvas.rows)
    px = np.minimum(np.floor(fx[ok]), 2 * canvas.cols - 1).astype(np.int64)
    py = np.minimum(np.floor(fy[ok]), 4 * canvas.rows - 1).astype(np.int64)
    for x, y in zip(px.tolist(), py.tolist(), strict=True):
        canvas.put(x // 2, (4 * canvas.rows - 1 - y) // 4, marker(line.style), color(line.style))


def _draw_hists(
    canvas: Canvas,
    panel: Panel,
    hists: Sequence[Hist | Bars],
    heights: list[np.ndarray],
    yax: Axis,
    legend: _Legend,
) -> None:
    rows, cols = canvas.rows, canvas.cols
    span = yax.hi - yax.lo
    if len(hists) > 1 and not panel.stacked:
        # Overlaid: step outlines in braille, one dash pattern per series.
        for s, h in zip(hists, heights, strict=True):
            fy = (h - yax.lo) / span * 4 * rows
            fx = np.repeat(np.arange(cols) * 2.0, 2)
            fx[1::2] += 1.999
            px, py = _raster(fx, np.repeat(fy, 2), 2 * cols, 4 * rows)
            m = _dash_mask(px.shape[0], dash(s.style))
            canvas.dots(px[m], py[m], color(s.style))
            legend.add(_line_glyph(s.style), color(s.style), s.label)
        return
    # Bars: one column per bin, stacked in series order, eighths of a cell at the top.
    cum = np.cumsum(heights, axis=0)
    with np.errstate(invalid="ignore"):
        level = np.nan_to_num((yax.t(cum) - yax.lo) / span, nan=0.0)  # log axis: 0 -> no bar
    eighths = np.round(level * 8 * rows).clip(0, 8 * rows).astype(np.int64)
    for c in range(cols):
        total = int(eighths[-1, c])
        for r8 in range(0, total, 8):
            row = rows - 1 - r8 // 8
            owner = int(np.searchsorted(eighths[:, c], min(r8 + 4, total - 1), side="right"))
            owner = min(owner, len(hists) - 1)
            s = hists[owner]
            hot = isinstance(s, Hist) and s.emphasis
            part = min(8, total - r8)
            ch = (EMPHASIS_BAR if hot else "█") if part >= 8 else BLOCKS[part]
            canvas.put(c, row, ch, EMPHASIS if hot else color(s.style))
    for s in hists:
        if isinstance(s, Hist) and s.emphasis:
            legend.add(EMPHASIS_BAR, EMPHASIS, s.label)
        else:
            legend.add("█", color(s.style), s.label)


def _draw_mark(canvas: Canvas, mk: Mark, xax: Axis, legend: _Legend) -> None:
    f = xax.px(np.array([mk.x]))[0]
    if not np.isfinite(f) or f < 0 or f > xax.n:
        return
    col = min(int(f) // 2, canvas.cols - 1)
    ch, style = mark_glyph(mk.style)
    for row in range(canvas.rows):
        # Behind the data: a mark never hides a bar or a line.
        if not canvas.bits[row, col] and not canvas.chars[row, col]:
            canvas.put(col, row, ch, style)
    legend.add(ch, style, mk.label)


# -- the figure --------------------------------------------------------------------------------


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _legend_lines(legend: _Legend, width: int) -> list[list[tuple[str, str]]]:
    lines: list[list[tuple[str, str]]] = []
    cur: list[tuple[str, str]] = []
    used = 0
    for glyph, style, label in legend.items:
        item_len = len(glyph) + 1 + len(label)
        if item_len > width:
            label = _fit(label, width - len(glyph) - 1)
            item_len = width
        gap = 2 if cur else 0
        if used + gap + item_len > width:
            lines.append(cur)
            cur, used, gap = [], 0, 0
        if gap:
            cur.append(("  ", ""))
        cur += [(glyph, style), (" " + label, "")]
        used += gap + item_len
    if cur:
        lines.append(cur)
    return lines


def render_runs(figure: Figure, width: int, height: int) -> list[list[tuple[str, str]]]:
    """The figure as lines of (text, style) runs, each at most ``width`` cells."""
    if height < MIN_HEIGHT:
        raise UsageError(f"--height must be at least {MIN_HEIGHT}, got {height}.")
    if width < 1:
        raise UsageError(f"--width must be a positive number of characters, got {width}.")
    lines: list[list[tuple[str, str]]] = []
    for part in textwrap.wrap(figure.title, width) or [""]:
        lines.append([(part, "bold")])
    previous: list[tuple[str, str, str]] | None = None
    top = max(figure.column, default=1.0)
    for i, panel in enumerate(figure.panels):
        lines.append([])
        rows = height
        if figure.column:  # stacked panels keep their relative heights
            rows = max(MIN_HEIGHT, round(height * figure.column[i] / top))
        body, legend = _draw_panel(panel, width, rows)
        lines += body
        if legend.items and legend.items != previous:
            lines += _legend_lines(legend, width)
        previous = legend.items
    if figure.caption:
        lines.append([])
        for text in figure.caption:
            lines += [[(part, "")] for part in textwrap.wrap(text, width)]
    return lines


def render(figure: Figure, width: int, height: int) -> Text:
    """The figure as a rich ``Text`` (print it with ``soft_wrap=True``); ``.plain`` is the text."""
    from rich.text import Text

    out = Text()
    for i, runs in enumerate(render_runs(figure, width, height)):
        if i:
            out.append("\n")
        for text, style in _merge(runs):
            out.append(text, style=style or None)
    return out


def _merge(runs: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    merged: list[tuple[str, str]] = []
    for text, style in runs:
        if merged and merged[-1][1] == style:
            merged[-1] = (merged[-1][0] + text, style)
        else:
            merged.append((text, style))
    return merged
