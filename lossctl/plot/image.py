"""Draw a :class:`~lossctl.plot.figure.Figure` as a PNG or SVG file with matplotlib.

matplotlib is optional (``pip install "lossctl[plot]"``) and imported only here,
only when an image is written. The style is fixed (explicit rcParams, a fixed
figure size per plot kind at :data:`DPI`), so the same data always give the same
picture; the file is written to a temporary file beside the target and renamed
over it, so a failure never leaves a half-written image, and the input file is
never overwritten.
"""

from __future__ import annotations

import os
import tempfile
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lossctl.errors import UsageError
from lossctl.plot.data import auto_bins, histogram
from lossctl.plot.figure import Bars, Figure, Hist, Line, Panel, Points, y_extent

DPI = 100
FORMATS = {".png": "png", ".svg": "svg"}
INSTALL_HINT = 'pip install "lossctl[plot]"'
#: Okabe-Ito colours (distinguishable with colour-blindness), one per series style.
PALETTE = ("#0072B2", "#CC79A7", "#E69F00", "#009E73", "#56B4E9", "#D55E00")
#: Dash patterns per series style, as in the terminal (on/off lengths in line widths).
LINESTYLES: tuple[Any, ...] = (
    "-",
    (0, (4, 2)),
    (0, (1, 2)),
    (0, (5, 2, 1, 2)),
    (0, (2, 2)),
    (0, (8, 3)),
)
EMPHASIS = "#D62728"
#: The marker of each series style on a line drawn with markers (as the terminal's glyphs).
MARKER_SHAPES = ("o", "s", "^", "D", "v", "X")
#: SVG ids of what a reader may count: ``bin-S-K`` is bar K of the S-th bars series of a
#: panel (every bin, empty ones at height 0); ``marker-S`` the markers of the S-th line
#: drawn with markers (one ``<use>`` per point).
BAR_ID = "bin-{series}-{bin}"
MARKER_ID = "marker-{series}"
MARKS: tuple[tuple[str, Any], ...] = (
    ("#222222", "-"),
    ("#009E73", (0, (2, 2))),
    ("#B8860B", (0, (4, 2))),
    ("#0072B2", (0, (1, 2))),
)
#: Scatter points drawn at most (a seeded random subset beyond; highlighted points always).
MAX_POINTS = 20_000
MAX_BINS = 80
RC: dict[str, Any] = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.facecolor": "white",
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.titlesize": 10.5,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 8.5,
    "legend.frameon": True,
    "legend.framealpha": 0.9,
    "legend.edgecolor": "#cccccc",
    "axes.grid": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.7,
    "axes.edgecolor": "#555555",
    "axes.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.8,
    "svg.fonttype": "none",  # text stays text: small, searchable SVG
    "svg.hashsalt": "lossctl",  # stable element ids: the same plot gives the same file
    "path.simplify": True,
}


def require_matplotlib() -> None:
    """Raise a one-line :class:`UsageError` naming the fix when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError(
            f"--out needs matplotlib, which is not installed; install it with: {INSTALL_HINT}"
        ) from None


def check_target(out: str, inputs: Sequence[str], force: bool = False) -> tuple[str, Path]:
    """The image format of ``out`` (png/svg) and the file to write: never an input, an
    existing file only with ``force``, in a folder that exists."""
    from lossctl.inputs.writers import check_file_target

    fmt = FORMATS.get(Path(out).suffix.lower())
    if fmt is None:
        raise UsageError(f"--out {out}: use a .png or .svg suffix.")
    first, *rest = list(inputs) or [""]
    final = check_file_target(out, first, rest, force, option="--out")
    if final is None:
        raise UsageError("--out - is not supported; give the path of a .png or .svg file.")
    return fmt, final


def save(figure: Figure, out: str, inputs: Sequence[str] = (), force: bool = False) -> None:
    """Write ``figure`` to ``out`` (.png or .svg) atomically: whole, or not at all."""
    from lossctl.inputs.writers import write_error

    fmt, final = check_target(out, inputs, force)
    require_matplotlib()
    import matplotlib

    with matplotlib.rc_context(RC):  # type: ignore[arg-type]
        fig = draw(figure)
        tmp: str | None = None
        try:
            # Beside the file itself (a symbolic link is followed), so the rename stays
            # on one filesystem and replaces the file in one step.
            fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=f".{fmt}",
                                       dir=final.parent)  # fmt: skip
            os.close(fd)
            metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
            fig.savefig(tmp, format=fmt, dpi=DPI, metadata=metadata)
            os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; an image is for sharing
            os.replace(tmp, final)
            tmp = None
        except OSError as exc:
            raise write_error(out, exc, "--out") from None
        finally:
            if tmp is not None and os.path.exists(tmp):
                os.unlink(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def draw(figure: Figure) -> Any:
    """The matplotlib ``Figure`` (no pyplot: no global state, no GUI backend)."""
    from matplotlib.figure import Figure as MplFigure

    w, h = figure.size
    fig = MplFigure(figsize=(w, h), dpi=DPI)
    n = len(figure.panels)
    if figure.column:  # one column on a shared x axis, the x label under the last only
        axes = fig.subplots(n, 1, sharex=True, squeeze=False,
                            gridspec_kw={"height_ratios": list(figure.column)})[:, 0]  # fmt: skip
    else:
        axes = fig.subplots(1, n, squeeze=False)[0]
    notes: list[str] = []
    for i, (ax, panel) in enumerate(zip(axes, figure.panels, strict=True)):
        notes += _draw_panel(ax, panel, x_label=not figure.column or i == n - 1)
    fig.suptitle(figure.title, fontsize=12, fontweight="bold", y=0.985)
    chars = int(w * 14)
    caption = [part for text in (*figure.caption, *notes) for part in textwrap.wrap(text, chars)]
    line = 8.5 * 1.4 / (h * 72)  # one caption line as a fraction of the figure height
    for i, text in enumerate(reversed(caption)):
        fig.text(0.012, 0.012 + i * line, text, fontsize=8.5, color="#333333", va="bottom")
    bottom = 0.012 + len(caption) * line + 0.10
    if figure.column:
        fig.subplots_adjust(left=0.1, right=0.97, top=0.91, bottom=bottom - 0.03, hspace=0.18)
    else:
        fig.subplots_adjust(
            left=0.08 if len(axes) == 1 else 0.07, right=0.98, top=0.87, bottom=bottom,
            wspace=0.22,
        )  # fmt: skip
    return fig


def _draw_panel(ax: Any, panel: Panel, x_label: bool = True) -> list[str]:
    """Draw one panel; returns notes for the caption (subsampled points)."""
    notes: list[str] = []
    lo, hi = panel.x_range
    if panel.x_log:
        ax.set_xscale("log")
    if panel.y_log:
        ax.set_yscale("log")
    if panel.diagonal:
        ylo, yhi = panel.y_range or panel.x_range
        a, b = max(lo, ylo), min(hi, yhi)
        ax.plot([a, b], [a, b], color="#888888", lw=1.0, ls=(0, (2, 2)), zorder=1)
    hists = [s for s in panel.series if isinstance(s, Hist)]
    if hists:
        _draw_hists(ax, panel, hists)
    bars = [s for s in panel.series if isinstance(s, Bars)]
    if bars:
        _draw_bars(ax, bars)
    rng = np.random.default_rng(0)
    with_markers = 0
    for s in panel.series:
        if isinstance(s, Line):
            extra: dict[str, Any] = {}
            if s.marker:
                extra = {"marker": MARKER_SHAPES[s.style % len(MARKER_SHAPES)], "ms": 5,
                         "gid": MARKER_ID.format(series=with_markers)}  # fmt: skip
                with_markers += 1
            ax.plot(
                s.x,
                s.y,
                color=_color(s.style),
                ls=LINESTYLES[s.style % len(LINESTYLES)],
                label=s.label,
                zorder=3,
                **extra,
            )
        elif isinstance(s, Points):
            x, y = s.x, s.y
            cap = MAX_POINTS // 4 if s.emphasis else MAX_POINTS
            if x.shape[0] > cap:
                pick = np.sort(rng.choice(x.shape[0], cap, replace=False))
                notes.append(
                    f"The scatter shows a random {cap:,} of the {x.shape[0]:,} points "
                    f"of '{s.label}'."
                )
                x, y = x[pick], y[pick]
            ax.scatter(
                x,
                y,
                s=(26 if x.shape[0] <= 500 else 10) if s.emphasis else 9,
                linewidths=0,
                label=s.label,
                color=EMPHASIS if s.emphasis else _color(s.style),
                alpha=0.9 if s.emphasis else 0.55,
                zorder=4 if s.emphasis else 2,
                rasterized=x.shape[0] > 5000,
            )
    seen: set[str] = set()
    for mk in panel.marks:
        c, ls = MARKS[mk.style % len(MARKS)]
        label = mk.label if mk.label not in seen else None
        seen.add(mk.label)
        ax.axvline(mk.x, color=c, ls=ls, lw=1.5, label=label, zorder=5)
    ax.set_xlim(lo, hi)
    if panel.y_range is not None:
        ax.set_ylim(*panel.y_range)
    elif hists or bars:
        # Headroom above the bars for the legend (one line per entry), so it hides no bar.
        tops = (_heights(panel, hists) if hists else []) + [b.heights for b in bars]
        bottom, top = y_extent(panel, tops)
        entries = len(hists) + len(bars) + len({mk.label for mk in panel.marks})
        room = min(0.6, 0.09 * entries)
        if panel.y_log:
            ax.set_ylim(bottom, top * (top / bottom) ** (room / (1 - room)))
        else:
            ax.set_ylim(bottom, bottom + (top - bottom) / (1 - room))
    if x_label:
        ax.set_xlabel(panel.x_label)
    ax.set_ylabel(panel.y_label)
    if panel.title:
        ax.set_title(panel.title)
    ax.legend(loc=_legend_corner(panel))
    return notes


def _legend_corner(panel: Panel) -> str:
    """Where the legend hides the least: the emptier upper corner for histograms and
    scatters (matplotlib's 'best' counts vertical marks as data and is slow on many
    points), 'best' for curves."""
    if not any(isinstance(s, (Hist, Points, Bars)) for s in panel.series):
        return "best"
    points = sum(s.x.shape[0] for s in panel.series if isinstance(s, Points))
    if points:  # 'best' is quadratic in the points: only for small scatters
        return "best" if points <= 2000 else "upper left"
    lo, hi = panel.x_range
    if not any(isinstance(s, Hist) for s in panel.series):  # fixed bins: their weight
        bars = [s for s in panel.series if isinstance(s, Bars)]
        centre = np.concatenate([0.5 * (b.edges[:-1] + b.edges[1:]) for b in bars])
        weight = np.concatenate([b.heights for b in bars])
        third = (hi - lo) / 3
        left = float(weight[centre < lo + third].sum())
        right = float(weight[centre > hi - third].sum())
        return "upper left" if left <= right else "upper right"
    values = np.concatenate([s.values for s in panel.series if isinstance(s, Hist)])
    if panel.x_log:
        values = values[values > 0]
        values, lo, hi = np.log10(values), np.log10(lo), np.log10(hi)
    third = (hi - lo) / 3
    left = int(np.sum(values < lo + third))
    right = int(np.sum(values > hi - third))
    return "upper left" if left <= right else "upper right"


def _heights(panel: Panel, hists: list[Hist]) -> list[np.ndarray]:
    """Bar tops (stacked: the sums) at the image's bins, for the y range."""
    lo, hi = panel.x_range
    bins = auto_bins([s.values for s in hists], lo, hi, log=panel.x_log, cap=MAX_BINS)
    tops = [
        histogram(s.values, s.weights, lo, hi, bins, log=panel.x_log, normalize=s.normalize)[1]
        for s in hists
    ]
    return [np.sum(tops, axis=0)] if panel.stacked else tops


def _draw_hists(ax: Any, panel: Panel, hists: list[Hist]) -> None:
    lo, hi = panel.x_range
    bins = auto_bins([s.values for s in hists], lo, hi, log=panel.x_log, cap=MAX_BINS)
    base: np.ndarray | None = None
    for s in hists:
        edges, h = histogram(
            s.values, s.weights, lo, hi, bins, log=panel.x_log, normalize=s.normalize
        )
        col = EMPHASIS if s.emphasis else _color(s.style)
        if panel.stacked or len(hists) == 1:
            bottom = np.zeros_like(h) if base is None else base
            ax.stairs(
                h + bottom,
                edges,
                baseline=bottom,
                fill=True,
                color=col,
                alpha=0.85,
                label=s.label,
                zorder=2,
            )
            base = h + bottom
        else:
            ax.stairs(
                h,
                edges,
                color=col,
                lw=1.8,
                ls=LINESTYLES[s.style % len(LINESTYLES)],
                label=s.label,
                zorder=2,
            )


def _draw_bars(ax: Any, bars: list[Bars]) -> None:
    """Every bin of each bars series (the series side by side within a bin), each bar
    with its SVG id :data:`BAR_ID`."""
    from matplotlib.patches import Rectangle

    n = len(bars)
    for j, s in enumerate(bars):
        width = np.diff(s.edges)
        slot = width * (0.9 if n == 1 else 0.86 / n)
        left = s.edges[:-1] + width * (0.05 if n == 1 else 0.07) + j * slot
        for k in range(s.heights.shape[0]):
            # add_artist, not bar(): no data-limit update per bar (thousands of bins),
            # the panel sets its limits itself.
            rect = Rectangle(
                (float(left[k]), 0.0), float(slot[k]), float(s.heights[k]),
                color=_color(s.style), alpha=0.85, linewidth=0, zorder=2,
                label=s.label if k == 0 else "_nolegend_",
            )  # fmt: skip
            rect.set_gid(BAR_ID.format(series=j, bin=k))
            ax.add_artist(rect)


def _color(style: int) -> str:
    return PALETTE[style % len(PALETTE)]
