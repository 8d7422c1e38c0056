"""From the numbers of :mod:`lossctl.plot.data` to :class:`~lossctl.plot.figure.Figure`:
titles, axis labels with units, legends and the captions that say what a plot shows.

Both renderers draw these figures, so the terminal and the image say the same thing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lossctl.plot.data import (
    BinnedCalibration,
    Comparison,
    CoverageData,
    Curves,
    Distribution,
    Reliability,
    ReliabilityData,
    ResidualData,
)
from lossctl.plot.figure import Bars, Figure, Hist, Line, Mark, Panel, Points, Series
from lossctl.render.numbers import fmt

if TYPE_CHECKING:
    from lossctl.losses import BoundLoss

#: Size in inches of one-panel and two-panel images (at 100 dpi: 800x500, 1000x500 px).
ONE_PANEL = (8.0, 5.0)
TWO_PANELS = (10.0, 5.0)
#: A reliability diagram over its histogram (800x800 px), and their relative heights.
RELIABILITY = (8.0, 8.0)
RELIABILITY_COLUMN = (3.0, 1.2)
LOSS_AXIS = "loss per sample"


def num(x: float) -> str:
    """4 significant digits, as the captions show numbers."""
    return fmt(float(x), 4)


def signed(x: float) -> str:
    return ("+" if x > 0 else "") + num(x)


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _names(keys: list[str]) -> str:
    return ", ".join(keys)


def _where(x: np.ndarray, bad: np.ndarray) -> str:
    """The residuals where a curve is undefined, in words: 'r <= -1', 'r >= 2', 'some r'."""
    good = x[~bad]
    if not good.size:
        return "every r drawn"
    if (x[bad] < good.min()).all():
        return f"r <= {num(float(x[bad].max()))}"
    if (x[bad] > good.max()).all():
        return f"r >= {num(float(x[bad].min()))}"
    return "some r"


# -- curves ------------------------------------------------------------------------------------


def curves_figure(c: Curves) -> Figure:
    """Loss against the residual, the probability (labels 1 and 0) or the margin score."""
    gaps = [cv.key for cv in c.curves if np.isnan(cv.y).any()]
    gaps = list(dict.fromkeys(gaps))
    if c.axis == "residual":
        caption = [
            "Each curve is the loss function itself at y_pred = y_true + r: the loss of one "
            "row with residual r; the cost is the mean of these over the rows."
        ]
        if c.target_dependent:
            dep = list(c.target_dependent)
            caption.append(
                f"{_names(dep)} also depend{'s' if len(dep) == 1 else ''} on y_true: drawn at "
                f"y_true = {c.y_true:g} (--y-true)."
            )
        for key in gaps:
            cv = next(x for x in c.curves if x.key == key)
            caption.append(
                f"{key} is undefined for {_where(cv.x, np.isnan(cv.y))}, where y_pred "
                "is outside its domain (gap)."
            )
        panel = Panel(
            x_label="residual r = y_pred - y_true",
            y_label=LOSS_AXIS,
            x_range=c.x_range,
            series=tuple(Line(cv.x, cv.y, cv.key, i) for i, cv in enumerate(c.curves)),
        )
        return Figure(
            f"Loss as a function of the residual: {_names([cv.key for cv in c.curves])}",
            (panel,),
            tuple(caption),
            ONE_PANEL,
        )
    if c.axis == "probability":
        keys = list(dict.fromkeys(cv.key for cv in c.curves))
        y_range = (0.0, c.y_cap) if c.y_cap is not None else None
        panels = []
        for label in (1.0, 0.0):
            series = tuple(
                Line(cv.x, cv.y, cv.key, keys.index(cv.key))
                for cv in c.curves
                if cv.y_true == label
            )
            panels.append(
                Panel(
                    x_label="predicted probability p of label 1",
                    y_label=LOSS_AXIS,
                    x_range=c.x_range,
                    series=series,
                    y_range=y_range,
                    title=f"true label {label:g}",
                )
            )
        caption = [
            "Each curve is the loss function itself at that predicted probability, for a "
            "row whose true label is 1 (left/top) or 0 (right/bottom)."
        ]
        if c.y_cap is not None:
            over = [cv for cv in c.curves if np.nanmax(cv.y, initial=0.0) > c.y_cap]
            top = max(float(np.nanmax(cv.y)) for cv in over)
            names = _names(list(dict.fromkeys(cv.key for cv in over)))
            caption.append(
                f"The y axis stops at {num(c.y_cap)}: {names} "
                f"reach{'es' if len(over) == 1 else ''} {num(top)} at a confident wrong "
                "answer (p = 0 or 1, clipped to eps inside the log)."
            )
        return Figure(
            f"Loss as a function of the predicted probability: {_names(keys)}",
            tuple(panels),
            tuple(caption),
            TWO_PANELS,
        )
    caption = [
        "Each curve is the loss function itself at score f for a row whose true label is "
        "+1; for label -1 the curves mirror (f -> -f). Positive margins are right answers."
    ]
    via = [cv.key for cv in c.curves if cv.via_sigmoid]
    if via:
        caption.append(
            f"{_names(via)} take{'s' if len(via) == 1 else ''} a probability: "
            "drawn at p = sigmoid(f)."
        )
    panel = Panel(
        x_label="score f (margin t*f for true label t = +1)",
        y_label=LOSS_AXIS,
        x_range=c.x_range,
        series=tuple(Line(cv.x, cv.y, cv.key, i) for i, cv in enumerate(c.curves)),
    )
    return Figure(
        f"Loss as a function of the margin score: {_names([cv.key for cv in c.curves])}",
        (panel,),
        tuple(caption),
        ONE_PANEL,
    )


# -- dist --------------------------------------------------------------------------------------


def dist_figure(d: Distribution) -> Figure:
    """Histogram of per-sample losses (per group with --by), mean (= cost) and median marked."""
    s = d.sample
    key = d.loss.key
    weighted = d.weight is not None
    unit = "weight" if weighted else "rows"
    if d.groups:
        series: tuple[Series, ...] = tuple(
            Hist(
                g.values,
                f"{s.by} = {g.label} ({g.values.shape[0]} rows, mean {num(g.mean)})",
                g.weight,
                i,
                normalize=True,
            )
            for i, g in enumerate(d.groups)
        )
        y_label = f"share of {unit} in the group"
    else:
        series = (Hist(d.values, f"{d.values.shape[0]} rows", d.weight),)
        y_label = unit
    if d.loss.spec.finalize:
        mean_label = f"mean {num(d.mean)} (cost = {d.loss.spec.finalize}(mean) = {num(d.cost)})"
    else:
        mean_label = f"mean {num(d.mean)} = cost"
    marks = []
    lo, hi = d.x_range
    if lo <= d.mean <= hi:
        marks.append(Mark(d.mean, mean_label, 0))
    if lo <= d.median <= hi:
        marks.append(Mark(d.median, f"median {num(d.median)}", 1))
    caption = [
        f"{s.n} rows of {s.source}; {key}: {mean_label}, median {num(d.median)}, "
        f"max {num(float(d.values.max()))}."
    ]
    if np.isfinite(d.top10_share):
        caption.append(
            f"The 10% of rows with the largest losses carry {pct(d.top10_share)} of the cost."
        )
    if d.n_groups > len(d.groups):
        caption.append(
            f"Showing the {len(d.groups)} largest of {d.n_groups} groups of {s.by}; the mean "
            "and median are over all rows."
        )
    if d.log and d.not_positive:
        caption.append(f"{d.not_positive} rows with loss 0 are not on the log axis.")
    if s.n_dropped:
        caption.append(f"--nan omit dropped {s.n_dropped} of {s.n_rows} rows.")
    panel = Panel(
        x_label=f"per-sample {_values_of(d.loss)}" + (" (log scale)" if d.log else ""),
        y_label=y_label,
        x_range=d.x_range,
        series=series,
        marks=tuple(marks),
        x_log=d.log,
    )
    title = f"Distribution of per-sample {key}"
    if s.by:
        title += f" by {s.by}"
    return Figure(title, (panel,), tuple(caption), ONE_PANEL)


# -- residuals ---------------------------------------------------------------------------------


def _padded(lo: float, hi: float, frac: float = 0.03) -> tuple[float, float]:
    if hi <= lo:
        pad = abs(lo) * 0.1 if lo else 1.0
        return lo - pad, hi + pad
    pad = (hi - lo) * frac
    return lo - pad, hi + pad


def residuals_figure(r: ResidualData | ReliabilityData) -> Figure:
    """Predicted vs true and the residual distribution, the cost-dominating rows highlighted."""
    if isinstance(r, ReliabilityData):
        return _reliability_figure(r)
    s = r.sample
    key = r.loss.key
    dom = r.dominant
    share = f"{r.share:.0%}"
    hot = f"{r.n_dominant} rows carrying {share} of {key}"
    lo = float(min(s.y_true.min(), s.y_pred.min()))
    hi = float(max(s.y_true.max(), s.y_pred.max()))
    box = _padded(lo, hi)
    scatter = Panel(
        x_label=f"true value ({s.target})",
        y_label=f"prediction ({s.pred})",
        x_range=box,
        y_range=box,
        series=(
            Points(s.y_true[~dom], s.y_pred[~dom], "other rows", 0),
            Points(s.y_true[dom], s.y_pred[dom], hot, emphasis=True),
        ),
        diagonal=True,
        title="predicted vs true (line: y_pred = y_true)",
    )
    w = s.weight
    marks = [Mark(0.0, "r = 0", 0), Mark(r.bias, f"mean residual {signed(r.bias)}", 1)]
    a = float(np.abs(r.residual).max())
    span = _padded(-a, a)
    if r.threshold is not None:
        t = r.threshold
        marks += [Mark(-t, f"|r| = {num(t)}", 2), Mark(t, f"|r| = {num(t)}", 2)]
    unit = "weight" if w is not None else "rows"
    hist = Panel(
        x_label="residual r = y_pred - y_true",
        y_label=unit + (" (log scale: heavy tails)" if r.heavy_tails else ""),
        y_log=r.heavy_tails,
        x_range=span,
        series=(
            Hist(r.residual[~dom], "other rows", None if w is None else w[~dom], 0),
            Hist(r.residual[dom], hot, None if w is None else w[dom], emphasis=True),
        ),
        marks=tuple(marks),
        stacked=True,
        title="residual distribution",
    )
    where = f", all with |r| >= {num(r.threshold)}" if r.threshold is not None else ""
    caption = [
        f"{r.n_dominant} of {s.n} rows ({pct(r.n_dominant / s.n)}) carry {share} of the "
        f"{key} cost (highlighted){where}. Mean residual (bias) {signed(r.bias)}."
    ]
    if s.n_dropped:
        caption.append(f"--nan omit dropped {s.n_dropped} of {s.n_rows} rows.")
    return Figure(f"Residuals of {s.source} ({key})", (scatter, hist), tuple(caption), TWO_PANELS)


def _reliability_figure(r: ReliabilityData) -> Figure:
    s = r.sample
    key = r.loss.key
    dom = r.dominant
    share = f"{r.share:.0%}"
    hot = f"{r.n_dominant} rows carrying {share} of {key}"
    if r.per_row > 1:
        hot += f" (all {r.per_row} labels)"
    p_label = "predicted probability p" + (" = sigmoid(score)" if r.via_sigmoid else "")
    rel = Panel(
        x_label=p_label,
        y_label="observed frequency of label 1",
        x_range=(0.0, 1.0),
        y_range=(-0.03, 1.03),
        series=(
            Line(r.bin_p, r.bin_freq, "observed frequency per 0.1 bin", 0),
            Points(r.p[dom], r.y[dom], hot + " (at their label)", emphasis=True),
        ),
        diagonal=True,
        title="reliability (line: perfectly calibrated)",
    )
    w = None if s.weight is None else np.repeat(s.weight, r.per_row)  # a weight per point
    unit = "rows" if r.per_row == 1 else "labels"
    series = []
    for i, label in enumerate((0.0, 1.0)):
        m = r.y == label
        series.append(
            Hist(
                r.p[m], f"label {label:g} ({int(m.sum())} {unit})", None if w is None else w[m],
                i + 1,
            )
        )  # fmt: skip
    hist = Panel(
        x_label=p_label,
        y_label="weight" if w is not None else unit,
        x_range=(0.0, 1.0),
        series=tuple(series),
        title="predicted probability by true label",
    )
    wrong = []
    ones, zeros = dom & (r.y == 1), dom & (r.y == 0)
    if r.per_row > 1:  # every label of a dominant row is marked, right ones too
        ones = zeros = np.zeros_like(dom)
    if ones.any():
        wrong.append(f"label 1 at p <= {num(float(r.p[ones].max()))}")
    if zeros.any():
        wrong.append(f"label 0 at p >= {num(float(r.p[zeros].min()))}")
    caption = [
        f"{r.n_dominant} of {s.n} rows ({pct(r.n_dominant / s.n)}) carry {share} of the "
        f"{key} cost (highlighted)"
        + (f": confident mistakes ({'; '.join(wrong)})." if wrong else ".")
    ]
    if s.n_dropped:
        caption.append(f"--nan omit dropped {s.n_dropped} of {s.n_rows} rows.")
    return Figure(f"Calibration of {s.source} ({key})", (rel, hist), tuple(caption), TWO_PANELS)


def coverage_figure(c: CoverageData) -> Figure:
    """Observed vs nominal coverage of central intervals, and the widest against y."""
    s = c.sample
    cal = Panel(
        x_label="nominal coverage of the central interval",
        y_label="observed share of targets inside",
        x_range=(0.0, 1.0),
        y_range=(-0.03, 1.03),
        series=(Line(c.nominal, c.observed, "observed coverage", 0),),
        diagonal=True,
        title="coverage (line: calibrated)",
    )
    order = np.argsort(0.5 * (c.lower + c.upper), kind="stable")
    x = np.arange(s.n, dtype=np.float64)
    out = c.outside[order]
    y = s.y_true[order]
    band = Panel(
        x_label="rows, by the interval's centre",
        y_label=s.target,
        x_range=(0.0, max(1.0, float(s.n - 1))),
        series=(
            Line(x, c.lower[order], f"{c.band:.0%} interval", 1),
            Line(x, c.upper[order], "", 1),
            Points(x[~out], y[~out], "targets inside"),
            Points(x[out], y[out], f"{int(out.sum())} targets outside", emphasis=True),
        ),
        title=f"the {c.band:.0%} interval and the target",
    )
    worst = int(np.argmax(np.abs(c.observed - c.nominal)))
    caption = [
        f"Intervals from {c.source_text}. The {c.band:.0%} interval holds "
        f"{pct(float(c.observed[-1]))} of the {s.n} targets; the largest gap is at "
        f"{c.nominal[worst]:.0%} nominal: {pct(float(c.observed[worst]))} observed."
    ]
    if s.n_dropped:
        caption.append(f"--nan omit dropped {s.n_dropped} of {s.n_rows} rows.")
    return Figure(f"Coverage of {s.source} ({s.kind})", (cal, band), tuple(caption), TWO_PANELS)


# -- compare -----------------------------------------------------------------------------------


def _values_of(loss: BoundLoss) -> str:
    """What the per-sample values of a loss are: ``rmse (squared error)`` for a loss whose
    cost is the root of their mean, since those values are not in the cost's units."""
    if loss.spec.finalize:
        return f"{loss.key} (squared: the cost is the root of the mean)"
    return loss.key


def compare_figure(c: Comparison) -> Figure:
    """Per-sample losses of A vs B (log axes), and the bootstrap distribution of the delta."""
    p = c.pair
    a_name, b_name = p.names
    key = p.loss.key
    a, b = p.a, p.b
    positive = np.concatenate([a[a > 0], b[b > 0]])
    floor = float(positive.min()) / 2 if positive.size else 1e-12
    top = float(positive.max()) if positive.size else 1.0
    box = (floor / 1.5, top * 1.5)
    xa, xb = np.maximum(a, floor), np.maximum(b, floor)
    b_low, a_low = b < a, a < b
    tie = ~(b_low | a_low)
    series: list[Series] = [
        Points(xa[b_low], xb[b_low], f"{b_name} lower ({pct(c.b_wins)} of rows)", 0),
        Points(xa[a_low], xb[a_low], f"{a_name} lower ({pct(c.a_wins)} of rows)", 1),
    ]
    if tie.any():
        series.append(Points(xa[tie], xb[tie], f"tie ({pct(c.ties)} of rows)", 2))
    scatter = Panel(
        x_label=f"{a_name}: per-sample {_values_of(p.loss)}",
        y_label=f"{b_name}: per-sample {_values_of(p.loss)}",
        x_range=box,
        y_range=box,
        series=tuple(series),
        x_log=True,
        y_log=True,
        diagonal=True,
        title="per-sample loss (line: equal loss)",
    )
    d = c.deltas
    lo = float(min(d.min(), 0.0, c.delta))
    hi = float(max(d.max(), 0.0, c.delta))
    level = f"{c.confidence:.0%}"
    marks = (
        Mark(0.0, "0 = no difference", 0),
        Mark(c.delta, f"observed {signed(c.delta)}", 1),
        Mark(c.ci[0], f"{level} interval", 2),
        Mark(c.ci[1], f"{level} interval", 2),
    )
    hist = Panel(
        x_label=f"cost({b_name}) - cost({a_name}), {key}",
        y_label="resamples",
        x_range=_padded(lo, hi),
        series=(Hist(d, f"{c.resamples} bootstrap resamples", style=0),),
        marks=marks,
        title="bootstrap distribution of the cost difference",
    )
    rel = c.relative
    caption = [
        f"{key}: cost {a_name} {num(c.cost_a)}, {b_name} {num(c.cost_b)}; difference "
        f"{signed(c.delta)}"
        + (f" ({'+' if rel > 0 else ''}{pct(rel)})" if rel is not None else "")
        + f", {level} interval [{signed(c.ci[0])}, {signed(c.ci[1])}], p = {c.p_value:.3g} "
        f"(paired bootstrap, {c.resamples} resamples, seed {c.seed}).",
        f"{b_name} has the lower loss on {pct(c.b_wins)} of the {p.n} rows, {a_name} on "
        f"{pct(c.a_wins)}"
        + (f", ties {pct(c.ties)}" if c.ties else "")
        + f" (paired by {p.aligned_by}).",
    ]
    zeros = int((a <= 0).sum() + (b <= 0).sum())
    if zeros:
        caption.append(f"{zeros} losses of 0 are drawn at {num(floor)} (log axes).")
    if p.n < p.n_rows:
        caption.append(f"{p.n_rows - p.n} of {p.n_rows} rows dropped (--nan omit).")
    return Figure(
        f"{b_name} vs {a_name}: per-sample {key}", (scatter, hist), tuple(caption), TWO_PANELS
    )


# -- reliability -------------------------------------------------------------------------------


def ece_label(b: BinnedCalibration) -> str:
    """``ECE 0.06031 (15 bins)``: the legend's words for a model's calibration error."""
    return f"ECE {num(b.ece)} ({b.bins} bins)"


def reliability_figure(r: Reliability) -> Figure:
    """Accuracy against mean confidence per non-empty bin (the diagonal: calibrated), over
    the histogram of the confidences in the same bins; each series' ECE in its legend."""
    binary = r.task == "binary"
    positives = {m.positive for m in r.models}
    pos = positives.pop() if len(positives) == 1 else None
    label1 = f"label {pos}" if pos is not None else "the positive label"
    if binary:
        x_label = f"confidence: predicted probability of {label1}"
        y_label = f"observed frequency of {label1}"
        accuracy = f"observed frequency of {label1}"
    else:
        x_label = "confidence: probability of the top class"
        y_label = "accuracy: top class = label"
        accuracy = "accuracy (the share of rows whose top class is the label)"
    several = len(r.models) > 1
    curves: list[tuple[str, BinnedCalibration]] = []
    for m in r.models:
        if r.by:
            curves += [(f"{m.name}, {r.by} = {g.label}" if several else f"{r.by} = {g.label}",
                        g) for g in m.groups]  # fmt: skip
        else:
            curves.append((m.name, m.overall))
    lines: list[Series] = []
    bars: list[Series] = []
    normalize = len(curves) > 1
    for i, (name, b) in enumerate(curves):
        lines.append(Line(b.confidence, b.accuracy, f"{name} {ece_label(b)}", i, marker=True))
        weight = b.weight
        total = float(weight.sum())
        heights = weight / total if normalize and total > 0 else weight
        unit = "weight" if r.weight else "rows"
        amount = num(total) if r.weight else f"{b.n}"
        bars.append(Bars(b.edges, heights, f"{name} ({amount} {unit})", i))
    unit = "weight" if r.weight else "rows"
    if normalize:
        whose = "group's" if r.by else "model's"
        hist_y = f"share of the {whose} {unit}"
    else:
        hist_y = unit
    rel = Panel(
        x_label=x_label,
        y_label=y_label,
        x_range=(0.0, 1.0),
        y_range=(-0.03, 1.03),
        series=tuple(lines),
        diagonal=True,
        title="reliability (dotted line: perfectly calibrated)",
    )
    hist = Panel(
        x_label=x_label,
        y_label=hist_y,
        x_range=(0.0, 1.0),
        series=tuple(bars),
        title=f"confidences in the {r.bins} bins",
    )
    caption = [
        f"Each marker is a non-empty bin of {r.bins} equal-width confidence bins of [0, 1]: "
        f"its mean confidence against its {accuracy}. On the diagonal the probabilities "
        "mean what they say; below it the model is overconfident, above it underconfident.",
        "ECE = sum_b (n_b / N) |acc_b - conf_b|, the gap weighted by the share of the "
        f"{unit} in each bin: the ece of 'lossctl eval -l ece:bins={r.bins}'.",
    ]
    for m in r.models:
        o = m.overall
        used = int(o.nonempty.sum())
        caption.append(
            f"{m.name} ({m.source}{'' if m.pred == m.name else ': ' + m.pred}): {o.n} rows, "
            f"{used} of {o.bins} bins "
            f"non-empty, ECE {num(o.ece)}, MCE {num(o.mce)}."
        )
        if r.by and m.n_groups > len(m.groups):
            caption.append(
                f"{m.name}: showing the {len(m.groups)} largest of {m.n_groups} groups of "
                f"{r.by}; the ECE above is over all rows."
            )
        if m.n_dropped:
            caption.append(f"{m.name}: --nan omit dropped {m.n_dropped} of {m.n_rows} rows.")
    title = "Reliability diagram: " + ", ".join(m.name for m in r.models)
    if r.by:
        title += f" by {r.by}"
    return Figure(title, (rel, hist), tuple(caption), RELIABILITY, RELIABILITY_COLUMN)
