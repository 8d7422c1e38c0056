"""What a plot shows, independent of how it is drawn: the contract between
:mod:`lossctl.plot.data` (which computes the series) and the two renderers,
:mod:`lossctl.plot.terminal` (unicode text) and :mod:`lossctl.plot.image` (matplotlib).

A :class:`Figure` is a title, one or more :class:`Panel` (each with its axes,
series and vertical marks) and caption lines. Series are plain numpy arrays; each
carries a ``style`` index that both renderers map to the same colour and dash
pattern, so a terminal plot and its image read the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Line:
    """A polyline through (x, y); NaN in y breaks the line (outside a loss's domain)."""

    x: np.ndarray
    y: np.ndarray
    label: str
    style: int = 0
    #: Also mark each point (a glyph per style in the terminal, a marker in an image).
    marker: bool = False


@dataclass(frozen=True)
class Points:
    """A scatter; ``emphasis`` points are drawn on top, in the highlight style."""

    x: np.ndarray
    y: np.ndarray
    label: str
    style: int = 0
    emphasis: bool = False


@dataclass(frozen=True)
class Hist:
    """A histogram of raw ``values`` (optionally weighted), binned by each renderer.

    Binning is left to the renderer because the right number of bins depends on
    the resolution (one bin per terminal column; ``bins`` for an image); both use
    :func:`lossctl.plot.data.histogram` over the panel's x range.
    ``normalize``: heights are the share of the series' total weight per bin.
    """

    values: np.ndarray
    label: str
    weights: np.ndarray | None = None
    style: int = 0
    normalize: bool = False
    emphasis: bool = False


@dataclass(frozen=True)
class Bars:
    """Bars over fixed bins: ``heights[k]`` over ``[edges[k], edges[k + 1])``, drawn as given.

    Unlike :class:`Hist`, the binning belongs to the data (the confidence bins of a
    calibration error), so both renderers draw every bin, empty ones at height 0.
    Several bars series in a panel share the bins: side by side in each bin in an
    image, overlaid outlines in the terminal.
    """

    edges: np.ndarray
    heights: np.ndarray
    label: str
    style: int = 0


@dataclass(frozen=True)
class Mark:
    """A vertical line at ``x`` (the mean, the median, 0, a threshold)."""

    x: float
    label: str
    style: int = 0


Series = Line | Points | Hist | Bars


@dataclass(frozen=True)
class Panel:
    """One set of axes.

    ``x_range`` is always set (the data layer decides it); ``y_range`` may be None
    (from the data). ``stacked``: the histograms are stacked bars (their sum is the
    total), else overlaid. ``diagonal``: draw the line y = x.
    """

    x_label: str
    y_label: str
    x_range: tuple[float, float]
    series: tuple[Series, ...]
    marks: tuple[Mark, ...] = ()
    y_range: tuple[float, float] | None = None
    x_log: bool = False
    y_log: bool = False
    diagonal: bool = False
    stacked: bool = False
    title: str = ""


@dataclass(frozen=True)
class Figure:
    """A titled set of panels with caption lines (what the plot says, in words)."""

    title: str
    panels: tuple[Panel, ...]
    caption: tuple[str, ...] = field(default=())
    #: Image size in inches at :data:`lossctl.plot.image.DPI` (fixed per plot kind).
    size: tuple[float, float] = (8.0, 5.0)
    #: Relative heights of the panels stacked in one column on a shared x axis (the
    #: image and the terminal); empty: side by side in an image, one under the other
    #: at the same height in the terminal.
    column: tuple[float, ...] = ()


def y_extent(panel: Panel, hist_heights: list[np.ndarray] | None = None) -> tuple[float, float]:
    """The y range of a panel: ``y_range`` if set, else the finite data (and bar heights)."""
    if panel.y_range is not None:
        return panel.y_range
    lo, hi = np.inf, -np.inf
    for s in panel.series:
        if isinstance(s, (Line, Points)):
            y = s.y[np.isfinite(s.y)]
            if panel.y_log:
                y = y[y > 0]
            if y.size:
                lo, hi = min(lo, float(y.min())), max(hi, float(y.max()))
    for h in hist_heights or []:
        if panel.y_log:
            h = h[h > 0]
            if h.size:  # bars start at half the smallest bar (half a row for counts)
                lo, hi = min(lo, float(h.min()) / 2), max(hi, float(h.max()))
        elif h.size:
            lo, hi = min(lo, 0.0), max(hi, float(h.max()))
    if not np.isfinite(lo):
        lo, hi = (0.1, 10.0) if panel.y_log else (0.0, 1.0)
    if hi <= lo:
        pad = abs(lo) * 0.1 if lo != 0 else 1.0
        lo, hi = (lo / 10, hi * 10) if panel.y_log else (lo - pad, hi + pad)
    return lo, hi
