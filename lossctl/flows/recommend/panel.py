"""Forecast panels: many series of different scales, and the scaled losses that fit them.

With ``--series`` (a point forecast of one target), ``mase`` and ``rmsse`` rank first
(``PANEL_PRIORITY``: above every regression loss but a quantile column's own loss).
The reasons say, with the numbers of the file, why a plain loss across the series
misleads: the ratio of the largest to the smallest series scale (mean |y| of a
series' rows) and which series carry most of the absolute error.

*Which first*: ``rmsse`` when the series are *intermittent* (targets >= 0 and at least
``ZERO_SHARE`` (5%) of them exactly 0): an absolute error is minimised by the median,
which is 0 for a series that is mostly zeros, so mase rewards forecasting nothing;
rmsse, a squared error, is minimised by the mean (the M5 competition's reason for it).
``mase`` first otherwise: it is robust to a few bad forecasts and reads as "below 1
beats the seasonal naive in-sample".

Their costs need each series' scale from the history (``--train``); without it they
are still recommended, with the cost left out (NaN, null in JSON) and a reason that
says what to pass.

Without ``--series``, a column named like a series id (``unique_id``, ``series``,
``id``, ...) of repeated values next to a time-like column (``ds``, ``date``,
``time``, ...) gets a note suggesting ``--series``; it is never used silently.
"""

from __future__ import annotations

import math

import numpy as np

from lossctl.flows.recommend.findings import _Findings
from lossctl.flows.recommend.prose import num, pct, round_sig
from lossctl.flows.recommend.sample import Panel, Sample, SeriesHint, panel_applies
from lossctl.flows.recommend.thresholds import (
    PANEL_PRIORITY,
    QUANTILE_PRIORITY,
    SERIES_SCALE_RATIO,
    ZERO_SHARE,
)

#: The absolute losses whose cost pools the series' errors in the target's units.
_POOLED = ("mse", "mae", "huber")
#: The shares of the error named: the fewest largest series carrying at least this.
_MOSTLY = 0.5


def size(x: float) -> str:
    """A scale or ratio for reasons: 3 significant digits, thousands grouped
    (13182.1 -> '13,200'; 5.214 -> '5.21')."""
    if math.isfinite(x) and abs(x) >= 1000:
        return f"{round_sig(x):,.0f}"
    return num(x)


def needs_train(key: str) -> bool:
    """Whether a recommended loss needs the history to be computed (a scaled loss)."""
    return key in ("mase", "msse", "rmsse")


def panel_findings(out: _Findings, sample: Sample) -> None:
    """The panel's facts, mase and rmsse with their reasons, and what the pooled
    absolute losses mean across the series; a note when the scaled losses do not apply."""
    panel = sample.panel
    assert panel is not None
    if not panel_applies(sample.task, sample.kind, len(sample.columns.target)):
        out.notes.append(
            f"--series {panel.column}: mase and rmsse score a point forecast of one target "
            f"per series, and this is a {sample.task} {_kind_words(sample)}; the series are "
            "not used for the ranking."
        )
        return
    if any(c.priority >= QUANTILE_PRIORITY for c in out.candidates):
        out.notes.append(
            f"--series {panel.column}: the prediction column is a quantile, which mase and "
            "rmsse (losses of a point forecast) would call bad; they are not recommended."
        )
        return
    y, p = sample.y_true, sample.y_pred
    s = _Scales.of(panel, y)
    _panel_facts(out, panel, s)
    uneven = math.isfinite(s.ratio) and s.ratio > SERIES_SCALE_RATIO
    pooled = _pooled_text(panel, np.abs(p - y), s, "absolute error")
    zero_share = float(np.mean(y == 0)) if y.size else 0.0
    intermittent = bool(y.size) and float(y.min()) >= 0 and zero_share >= ZERO_SHARE
    scale_text = _scale_text(panel, s, pooled, uneven)
    mase_reasons = [
        scale_text,
        "mase divides each series' absolute errors by that series' own seasonal-naive "
        f"error on its history (the mean |y_t - y_(t-{panel.season})|), then averages over "
        "the series: each series counts once, and a value below 1 means the forecast beats "
        "what the seasonal naive did in-sample.",
        _beats_text(panel, p, y, "abs", "MASE"),
    ]
    rmsse_reasons = [
        "rmsse is the square root of each series' mean squared error over its "
        "seasonal-naive in-sample mean squared error, averaged over the series: scale-free "
        "like mase, but a squared error is minimised by the mean, not the median (the "
        "M5 competition's choice, for intermittent sales).",
        _beats_text(panel, p, y, "squared", "RMSSE"),
    ]
    if intermittent:
        n_zero = len({panel.labels[c] for c in np.unique(panel.codes[y == 0])})
        rmsse_reasons.insert(
            0,
            f"{pct(zero_share)} of the targets are exactly 0 (in {n_zero} of "
            f"{s.n_series} series): the series are intermittent. An absolute error is "
            "minimised by the median, which is 0 for a series that is mostly zeros, so mase "
            "rewards forecasting nothing there; rmsse is not fooled that way.",
        )
        rmsse_reasons.insert(1, scale_text)
        mase_reasons[0] = (
            "Ranked after rmsse: the series are intermittent (see rmsse). " + mase_reasons[0]
        )
        first, second = "rmsse", "mase"
    else:
        first, second = "mase", "rmsse"
        rmsse_reasons.append(
            "Prefer it to mase when the forecast is meant to be the mean (totals to plan "
            "stock for), or when the series are intermittent (none are here)."
        )
    reasons = {"mase": mase_reasons, "rmsse": rmsse_reasons}
    out.add(first, PANEL_PRIORITY, *reasons[first])
    out.add(second, PANEL_PRIORITY - 5, *reasons[second])
    if uneven:
        _pooled_reasons(out, panel, p - y, s)


def _kind_words(sample: Sample) -> str:
    if sample.kind in ("quantiles", "gaussian", "ensemble"):
        return f"{sample.kind} forecast"
    if sample.outputs:
        return f"forecast of {len(sample.outputs)} targets"
    return f"{sample.kind} prediction"


class _Scales:
    """Each series' scale (the mean |y| of its rows) and the largest and smallest."""

    def __init__(self, labels: tuple[str, ...], scale: np.ndarray, rows: np.ndarray) -> None:
        self.labels = labels
        self.scale = scale
        self.rows = rows
        present = rows > 0
        self.n_series = int(present.sum())
        usable = np.flatnonzero(present & (scale > 0))
        self.big = self.small = -1
        self.ratio = math.nan
        if usable.size >= 2:
            self.big = int(usable[np.argmax(scale[usable])])
            self.small = int(usable[np.argmin(scale[usable])])
            self.ratio = float(scale[self.big] / scale[self.small])
        #: Series whose every target is 0 (no scale to compare).
        self.all_zero = int((present & (scale == 0)).sum())

    @classmethod
    def of(cls, panel: Panel, y: np.ndarray) -> _Scales:
        k = len(panel.labels)
        rows = np.bincount(panel.codes, minlength=k)
        total = np.bincount(panel.codes, np.abs(y), k)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(rows > 0, total / np.maximum(rows, 1), np.nan)
        return cls(panel.labels, scale, rows)


def _panel_facts(out: _Findings, panel: Panel, s: _Scales) -> None:
    out.fact("series_column", panel.column, "the series column (--series)", "text")
    out.fact("series_count", s.n_series, "series in the file", "count")
    big = s.labels[s.big] if s.big >= 0 else None
    small = s.labels[s.small] if s.small >= 0 else None
    out.fact("series_largest", big, "series with the largest mean |target|", "text")
    out.fact(
        "series_largest_scale", float(s.scale[s.big]) if s.big >= 0 else math.nan,
        "its mean |target|",
    )  # fmt: skip
    out.fact("series_smallest", small, "series with the smallest mean |target| above 0", "text")
    out.fact(
        "series_smallest_scale", float(s.scale[s.small]) if s.small >= 0 else math.nan,
        "its mean |target|",
    )  # fmt: skip
    out.fact(
        "series_scale_ratio", s.ratio,
        "largest over smallest mean |target| of a series: how much more the largest "
        "series weighs in a plain loss across series",
    )  # fmt: skip
    out.fact("season", panel.season, "the season m of the seasonal naive (--season)", "count")
    out.fact("history", panel.history, "the history the scales come from (--train)", "text")


def _scale_text(panel: Panel, s: _Scales, pooled: str, uneven: bool) -> str:
    """Why a plain loss across these series misleads (or why it would not, here)."""
    n = s.n_series
    if s.big < 0:
        return (
            f"The file holds {n} series ({panel.column}); their scales cannot be compared "
            "(fewer than two have a target other than 0), but mase still counts every "
            "series once."
        )
    big, small = s.labels[s.big], s.labels[s.small]
    span = (
        f"mean |y| from {size(float(s.scale[s.small]))} in '{small}' to "
        f"{size(float(s.scale[s.big]))} in '{big}'"
    )
    if uneven:
        return (
            f"The {n} series' scales differ {size(s.ratio)}-fold ({span}): a plain MAE or "
            f"MSE across the series is mostly the large series' error ({pooled}), and says "
            f"almost nothing about '{small}'."
        )
    return (
        f"The {n} series' scales are alike (within {size(s.ratio)}-fold: {span}), so a "
        "plain MAE would weigh them about equally too; mase adds the yardstick of the "
        "seasonal naive."
    )


def _largest(panel: Panel, values: np.ndarray) -> tuple[list[str], float]:
    """The fewest series carrying at least half of the sum of ``values``, and their share."""
    k = len(panel.labels)
    total = np.bincount(panel.codes, values, k)
    whole = float(total.sum())
    if whole <= 0:
        return [], 0.0
    order = np.argsort(-total, kind="stable")
    share = np.cumsum(total[order]) / whole
    take = int(np.searchsorted(share, _MOSTLY)) + 1
    return [panel.labels[i] for i in order[:take]], float(share[take - 1])


def _pooled_text(panel: Panel, values: np.ndarray, s: _Scales, what: str) -> str:
    """'realgdp and realinv carry 64% of the absolute error' (the fewest series above half)."""
    names, share = _largest(panel, values)
    if not names:
        return f"every {what} is 0"
    listed = _listed(names)
    verb = "alone carries" if len(names) == 1 else "carry"
    return f"{listed} {verb} {pct(share)} of the {what} summed over the {s.n_series} series"


def _listed(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _pooled_reasons(out: _Findings, panel: Panel, r: np.ndarray, s: _Scales) -> None:
    """On the pooled absolute losses: which series their cost mostly is."""
    for c in out.candidates:
        name = c.key.partition(":")[0]
        if name not in _POOLED:
            continue
        values = r * r if name == "mse" else np.abs(r)
        what = "squared error" if name == "mse" else "absolute error"
        c.reasons.append(
            f"Across series of scales {size(s.ratio)}-fold apart it pools their errors in "
            f"the target's units: {_pooled_text(panel, values, s, what)}. Use it per series "
            f"(eval --by {panel.column}), or mase/rmsse across them."
        )


def _beats_text(panel: Panel, p: np.ndarray, y: np.ndarray, kind: str, name: str) -> str:
    """How many series beat the seasonal naive's in-sample error (needs the scales)."""
    if panel.scales is None:
        return (
            "Its cost needs --train (the history) to compute: the scale is each series' "
            "seasonal-naive error on its own history, which this file does not hold; pass "
            f"--train HISTORY --series {panel.column} --season M (M = {panel.season} now)."
        )
    r = p - y
    values = np.abs(r) / panel.scales["abs"] if kind == "abs" else r * r / panel.scales["squared"]
    k = len(panel.labels)
    rows = np.bincount(panel.codes, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        per = np.bincount(panel.codes, values, k) / rows
    if kind == "squared":
        per = np.sqrt(per)
    present = rows > 0
    below = int((per[present] < 1).sum())
    worst = int(np.flatnonzero(present)[np.argmax(per[present])])
    verb = "has" if below == 1 else "have"
    return (
        f"Here {below} of {int(present.sum())} series {verb} {name} below 1 (the history "
        f"{panel.history}, season {panel.season}); the worst is '{panel.labels[worst]}' at "
        f"{num(float(per[worst]))}."
    )


def series_hint_note(hint: SeriesHint) -> str:
    """The note suggesting --series for a file that looks like a forecast panel."""
    where = "the file" if hint.whole else f"the first {hint.rows:,} rows"
    scales = ""
    if math.isfinite(hint.big_scale) and math.isfinite(hint.small_scale):
        ratio = hint.big_scale / hint.small_scale
        scales = (
            f"; their mean |target| ranges from {size(hint.small_scale)} ('{hint.small}') to "
            f"{size(hint.big_scale)} ('{hint.big}'), {size(ratio)}-fold"
        )
    return (
        f"This looks like a forecast panel: '{hint.column}' repeats {hint.distinct} values "
        f"over {where} and '{hint.time}' looks like time{scales}. The losses above pool "
        f"every series as one; to score each series on its own scale (mase, rmsse), pass "
        f"--series {hint.column} --time {hint.time} --train HISTORY --season M. The column "
        "is not used unless you say so."
    )
