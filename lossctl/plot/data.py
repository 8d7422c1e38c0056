"""The numbers behind ``lossctl plot``: loss curves, per-sample loss distributions,
residuals and paired comparisons. No printing, no drawing, no matplotlib.

Every value plotted comes from the loss functions of the registry
(``BoundLoss.per_sample``) or from the evaluation pipeline, never from a
re-implemented formula, so a plot always shows what ``lossctl eval`` computes.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from lossctl import options as defaults
from lossctl.core.stats import MAD_TO_SD
from lossctl.errors import DomainError, InputError, UsageError
from lossctl.losses import BoundLoss, Registry, parse_spec, split_specs
from lossctl.losses.binary import sigmoid

if TYPE_CHECKING:
    from lossctl.core.accumulate import BinTable
    from lossctl.core.prepare import Prepared
    from lossctl.inputs.frames import Frame
    from lossctl.inputs.validate import Arrays
    from lossctl.options import CompareOptions, EvalOptions

#: Losses drawn by ``plot curves`` when none is given (rmse has mse's per-sample values).
DEFAULT_CURVES = ("mse", "mae", "huber", "log_cosh")
#: Series of a --by histogram: beyond six, overlaid outlines cannot be told apart.
MAX_GROUPS = 6
#: Points per curve: fine enough for any terminal or an 800 px image.
CURVE_POINTS = 1201
#: The probability range whose values set the top of the y axis of probability
#: curves (bce and focal reach -log(eps) = 36 at p = 0, which would flatten the rest).
_Y_CAP_RANGE = (0.02, 0.98)


# -- shared helpers --------------------------------------------------------------------------


def histogram(
    values: np.ndarray,
    weights: np.ndarray | None,
    lo: float,
    hi: float,
    bins: int,
    *,
    log: bool = False,
    normalize: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges and heights over [lo, hi] (geometric edges when ``log``).

    Values outside the range (zeros on a log axis) fall in no bin. ``normalize``
    divides by the total weight of all values, so heights are shares of the rows.
    """
    edges = np.geomspace(lo, hi, bins + 1) if log else np.linspace(lo, hi, bins + 1)
    heights, _ = np.histogram(values, bins=edges, weights=weights)
    heights = heights.astype(np.float64)
    if normalize:
        total = float(values.shape[0] if weights is None else weights.sum())
        if total > 0:
            heights /= total
    return edges, heights


def auto_bins(
    values: Sequence[np.ndarray], lo: float, hi: float, *, log: bool = False, cap: int = 80
) -> int:
    """A number of bins for these values over [lo, hi]: numpy's 'auto' rule, in [5, cap].

    The larger of Sturges' and the Freedman-Diaconis counts (on log10 values for a
    log axis), computed directly so a tiny interquartile range cannot ask for
    millions of edges.
    """
    v = np.concatenate([np.asarray(x, dtype=np.float64).ravel() for x in values])
    if log:
        v = v[v > 0]
        v, lo, hi = np.log10(v), math.log10(lo), math.log10(hi)
    v = v[(v >= lo) & (v <= hi)]
    if v.size < 2 or not hi > lo:
        return max(1, min(10, cap))
    sturges = math.log2(v.size) + 1
    q1, q3 = np.percentile(v, [25, 75])
    fd = (hi - lo) / (2 * (q3 - q1) / v.size ** (1 / 3)) if q3 > q1 else 0.0
    return int(np.clip(math.ceil(max(sturges, fd)), min(5, cap), cap))


def weighted_mean(values: np.ndarray, weight: np.ndarray | None) -> float:
    """sum(w*l) / sum(w): the mean behind every cost."""
    if weight is None:
        return float(values.mean())
    return float(np.dot(weight, values) / weight.sum())


def weighted_median(values: np.ndarray, weight: np.ndarray | None) -> float:
    """The median (numpy's, averaging the middle pair), or the weighted lower median."""
    if weight is None:
        return float(np.median(values))
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weight[order])
    i = int(np.searchsorted(cum, 0.5 * cum[-1]))
    return float(values[order][min(i, len(order) - 1)])


def dominant_rows(values: np.ndarray, weight: np.ndarray | None, share: float) -> np.ndarray:
    """Mask of the fewest rows whose contributions w*l make up ``share`` of the total.

    Rows are taken from the largest contribution down, so these are the rows
    that dominate the cost (for mse: the largest squared errors).
    """
    contrib = values if weight is None else weight * values
    mask = np.zeros(values.shape[0], dtype=bool)
    total = float(contrib.sum())
    if not total > 0 or not 0 < share <= 1:
        return mask
    order = np.argsort(-contrib, kind="stable")
    cum = np.cumsum(contrib[order])
    k = int(np.searchsorted(cum, share * total * (1 - 1e-12))) + 1
    mask[order[: min(k, len(order))]] = True
    return mask


def top_share(values: np.ndarray, weight: np.ndarray | None, rows: float) -> float:
    """Share of the total contribution carried by the top ``rows`` fraction of rows."""
    contrib = values if weight is None else weight * values
    total = float(contrib.sum())
    if not total > 0:
        return math.nan
    k = max(1, math.ceil(rows * contrib.shape[0]))
    return float(np.sort(contrib)[::-1][:k].sum() / total)


# -- curves ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    """One loss evaluated along the x axis at a fixed true value."""

    loss: BoundLoss
    x: np.ndarray
    y: np.ndarray  # NaN where y_pred is outside the loss's domain
    y_true: float
    via_sigmoid: bool = False  # a probability loss drawn at p = sigmoid(score)

    @property
    def key(self) -> str:
        return self.loss.key


@dataclass(frozen=True)
class Curves:
    """Loss curves of one task along one axis.

    ``axis`` is ``residual`` (regression, x = y_pred - y_true), ``probability``
    (binary, x = p, one set of curves per true label 1 and 0) or ``margin``
    (binary scores, x = f, true label +1).
    """

    task: str
    axis: str
    x_range: tuple[float, float]
    curves: tuple[Curve, ...]
    y_true: float
    #: Regression losses whose value depends on y_true, not only on the residual.
    target_dependent: tuple[str, ...] = ()
    #: Top of the y axis when a few values would flatten the rest (probability axis).
    y_cap: float | None = None


def _pick_task(losses: Sequence[str], registry: Registry, task: str) -> str:
    parsed = [parse_spec(s) for s in losses]
    tasks = registry.tasks_of(parsed)  # a mix of tasks is a UsageError
    if task != "auto":
        if task not in tasks:
            names = ", ".join(
                p.key for p in parsed if task not in {s.task for s in registry.candidates(p.name)}
            )
            raise UsageError(f"--task {task} does not fit the losses: {names}.")
        chosen = task
    else:
        chosen = next(t for t in ("regression", "binary", "multiclass") if t in tasks)
    if chosen == "multiclass":
        raise UsageError(
            "plot curves draws regression and binary losses; a multiclass loss depends on "
            "K probabilities, not one number. Use 'lossctl plot dist' on a prediction file."
        )
    return chosen


def _evaluate(loss: BoundLoss, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """The loss at each point, NaN where a point is outside its domain."""
    spec = loss.spec
    out = np.full(y_pred.shape[0], np.nan)
    ok = spec.y_true_domain.ok(y_true) & spec.y_pred_domain.ok(y_pred)
    idx = np.flatnonzero(ok)
    if idx.size == 0:
        return out
    try:
        out[idx] = loss.per_sample(y_true[idx], y_pred[idx])
    except DomainError:  # an extra check (tweedie's power-dependent domain): point by point
        for i in idx:
            with contextlib.suppress(DomainError):
                out[i] = loss.per_sample(y_true[i : i + 1], y_pred[i : i + 1])[0]
    return out


def _scale(loss: BoundLoss) -> float:
    """The residual size where the shape of a loss changes (huber's delta, smooth_l1's beta)."""
    values = [float(v) for k, v in loss.params.items() if k in ("delta", "beta") and v]
    return max(values, default=0.0)


def _is_probability(loss: BoundLoss) -> bool:
    """A loss whose prediction must be a probability in [0, 1] (bce, brier, focal)."""
    d = loss.spec.y_pred_domain
    return loss.spec.prediction_kind == "probability" and d.low >= 0 and d.high <= 1


def _needs_margin(loss: BoundLoss) -> bool:
    """A loss of scores: hinge, bce_logits, or zero_one with a threshold outside (0, 1)."""
    if loss.spec.prediction_kind in ("logit", "score"):
        return True
    t = loss.params.get("threshold")
    return not _is_probability(loss) and isinstance(t, float) and not 0 < t < 1


def loss_curves(
    specs: Sequence[str],
    registry: Registry,
    *,
    task: str = "auto",
    x_range: tuple[float, float] | None = None,
    y_true: float = 1.0,
    points: int = CURVE_POINTS,
) -> Curves:
    """Evaluate each loss along its natural axis with the loss's own function.

    Regression: y_pred = y_true + r for residuals r (``y_true`` matters only for
    losses such as msle, mape and the deviances, which are listed in
    ``target_dependent``). Binary probability losses: p in [0, 1] for true labels
    1 and 0. Binary margin losses (hinge, bce_logits): the score f for a true
    label +1; probability losses in the same plot are drawn at p = sigmoid(f).
    """
    keys = split_specs(specs) or list(DEFAULT_CURVES)
    chosen = _pick_task(keys, registry, task)
    losses = [registry.bind(parse_spec(k), chosen) for k in keys]
    if x_range is not None and not x_range[0] < x_range[1]:
        raise UsageError(
            f"--range must be LOW,HIGH with LOW < HIGH, got {x_range[0]:g},{x_range[1]:g}."
        )
    if chosen == "regression":
        return _regression_curves(losses, x_range, y_true, points)
    if not any(_needs_margin(b) for b in losses):
        lo, hi = x_range or (0.0, 1.0)
        if lo < 0 or hi > 1:
            raise UsageError(
                f"--range {lo:g},{hi:g} leaves [0, 1]: these losses take a probability."
            )
        p = np.linspace(lo, hi, points)
        curves = tuple(
            Curve(b, p, _evaluate(b, np.full_like(p, label), p), label)
            for label in (1.0, 0.0)
            for b in losses
        )
        inner = (p >= _Y_CAP_RANGE[0]) & (p <= _Y_CAP_RANGE[1])
        cap = None
        if inner.any():
            top_inner = max(float(np.nanmax(c.y[inner], initial=0.0)) for c in curves)
            top = max(float(np.nanmax(c.y, initial=0.0)) for c in curves)
            cap = top_inner if top > 1.5 * top_inner and top_inner > 0 else None
        return Curves("binary", "probability", (lo, hi), curves, 1.0, y_cap=cap)
    lo, hi = x_range or (-3.0, 3.0)
    f = np.linspace(lo, hi, points)
    ones = np.ones_like(f)
    out = []
    for b in losses:
        if _is_probability(b):
            out.append(Curve(b, f, _evaluate(b, ones, sigmoid(f)), 1.0, via_sigmoid=True))
        else:
            out.append(Curve(b, f, _evaluate(b, ones, f), 1.0))
    return Curves("binary", "margin", (lo, hi), tuple(out), 1.0)


def _regression_curves(
    losses: list[BoundLoss], x_range: tuple[float, float] | None, y_true: float, points: int
) -> Curves:
    if x_range is None:
        s = max([3.0, *(2.0 * _scale(b) for b in losses)])
        x_range = (-s, s)
    lo, hi = x_range
    r = np.linspace(lo, hi, points)
    if lo < 0 < hi:  # put r = 0 (the minimum, or a kink) exactly on the grid
        r[np.argmin(np.abs(r))] = 0.0
    curves = []
    dependent = []
    # A second true value: a loss that changes with it depends on more than r.
    other = y_true + 1.7 if y_true > 0 else y_true - 1.7
    for b in losses:
        yt = np.full_like(r, y_true)
        y = _evaluate(b, yt, yt + r)
        yt2 = np.full_like(r, other)
        y2 = _evaluate(b, yt2, yt2 + r)
        both = np.isfinite(y) & np.isfinite(y2)
        if (np.isfinite(y) != np.isfinite(y2)).any() or not np.allclose(
            y[both], y2[both], rtol=1e-9, atol=1e-12
        ):
            dependent.append(b.key)
        curves.append(Curve(b, r, y, y_true))
    return Curves("regression", "residual", (lo, hi), tuple(curves), y_true, tuple(dependent))


# -- one file: per-sample losses ---------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One prediction file read whole: inputs, weights, groups and per-sample losses."""

    source: str
    task: str
    kind: str
    losses: tuple[BoundLoss, ...]
    y_true: np.ndarray
    y_pred: np.ndarray
    weight: np.ndarray | None
    values: dict[str, np.ndarray]
    target: str
    pred: str
    n_rows: int
    n_dropped: int
    by: str | None = None
    #: Quantile levels of the prediction columns (a quantile set).
    levels: tuple[float, ...] = ()
    groups: np.ndarray | None = None  # codes into group_labels
    group_labels: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return int(self.y_true.shape[0])

    def loss(self, key: str | None = None) -> BoundLoss:
        """The loss with this key, or the first one."""
        if key is None:
            return self.losses[0]
        return next(b for b in self.losses if b.key == key)


def read_sample(opts: EvalOptions) -> Sample:
    """Read a file through the eval pipeline (same columns, task, checks and errors).

    The per-sample values are kept in memory (8 bytes per row and loss): a
    histogram's range and a scatter need them all.
    """
    from lossctl.core.prepare import prepare
    from lossctl.engines.base import check_rows_left, compute_block, valid_blocks

    prepared = prepare(opts)
    v = prepared.validator
    keys = [b.key for b in prepared.losses]
    parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
    yt: list[np.ndarray] = []
    yp: list[np.ndarray] = []
    ws: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    labels: dict[str, int] = {}
    for arrays, _chunk in valid_blocks(prepared):
        values = compute_block(prepared, arrays)
        for k in keys:
            parts[k].append(values[k])
        yt.append(arrays.y_true)
        yp.append(arrays.y_pred)
        if arrays.weight is not None:
            ws.append(arrays.weight)
        if arrays.groups is not None:
            remap = np.array(
                [labels.setdefault(lab, len(labels)) for lab in arrays.groups.labels],
                dtype=np.intp,
            )
            codes.append(remap[arrays.groups.codes] if remap.size else arrays.groups.codes)
    name = prepared.source.name
    weight = np.concatenate(ws) if ws else None
    check_rows_left(
        prepared, sum(len(y) for y in yt), None if weight is None else float(weight.sum()), "plot"
    )
    cm = prepared.columns
    return Sample(
        source=name,
        task=prepared.task,
        kind=prepared.kind,
        losses=tuple(prepared.losses),
        y_true=np.concatenate(yt),
        y_pred=np.concatenate(yp),
        weight=weight,
        values={k: np.concatenate(p) for k, p in parts.items()},
        target=", ".join(cm.target),
        pred=", ".join(cm.pred) if len(cm.pred) <= 2 else f"{cm.pred[0]}, ...",
        n_rows=v.n_rows,
        n_dropped=v.n_dropped,
        by=cm.by,
        groups=np.concatenate(codes) if codes else None,
        group_labels=tuple(labels),
        warnings=tuple(v.warnings()),
        levels=cm.levels,
    )


# -- dist --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """The rows of one group (or all rows) of a distribution."""

    label: str
    values: np.ndarray
    weight: np.ndarray | None
    mean: float


@dataclass(frozen=True)
class Distribution:
    """Per-sample values of one loss, overall and per group.

    ``mean`` is the weighted mean of the per-sample values; ``cost`` is the
    loss's cost (the mean, or its finalized form: the square root for rmse).
    """

    sample: Sample
    loss: BoundLoss
    values: np.ndarray
    weight: np.ndarray | None
    mean: float
    median: float
    cost: float
    groups: tuple[Group, ...]
    log: bool
    x_range: tuple[float, float]
    #: Rows left out of a log axis (loss <= 0).
    not_positive: int
    #: Share of the cost carried by the 10% of rows with the largest losses.
    top10_share: float
    #: Groups in the data (``groups`` holds at most MAX_GROUPS of them).
    n_groups: int = 0


def _one_loss(keys: Sequence[str], what: str) -> None:
    if len(keys) > 1:
        raise UsageError(
            f"plot {what} draws one loss; got {len(keys)} ({', '.join(keys)}). Pass a single -l."
        )


def loss_distribution(
    sample: Sample, key: str | None = None, *, log: bool = False, max_groups: int = MAX_GROUPS
) -> Distribution:
    """The distribution of one loss's per-sample values, its mean (the cost) and median.

    With groups, the ``max_groups`` largest are kept as series (more overlaid
    histograms cannot be told apart); ``n_groups`` says how many there were.
    """
    loss = sample.loss(key)
    values, w = sample.values[loss.key], sample.weight
    mean = weighted_mean(values, w)
    median = weighted_median(values, w)
    positive = values[values > 0]
    not_positive = int(values.shape[0] - positive.shape[0])
    if log:
        if positive.size == 0:
            raise InputError(
                f"every per-sample {loss.key} of {sample.source} is 0 (or less): nothing to "
                "draw on a log axis. Drop --log."
            )
        lo, hi = float(positive.min()), float(positive.max())
        if hi <= lo:
            lo, hi = lo / 10, hi * 10
    else:
        lo, hi = min(0.0, float(values.min())), float(values.max())
        if hi <= lo:
            hi = lo + (abs(lo) if lo else 1.0)
    groups: list[Group] = []
    n_groups = 0
    if sample.groups is not None:
        counts = np.bincount(sample.groups, minlength=len(sample.group_labels))
        present = np.flatnonzero(counts)
        n_groups = int(present.size)
        # The largest groups (ties: first seen), drawn in label order.
        shown = present[np.argsort(-counts[present], kind="stable")][:max_groups]
        for code in shown:
            m = sample.groups == code
            gw = None if w is None else w[m]
            groups.append(
                Group(sample.group_labels[code], values[m], gw, weighted_mean(values[m], gw))
            )
        groups.sort(key=lambda g: g.label)
    return Distribution(
        sample=sample,
        loss=loss,
        values=values,
        weight=w,
        mean=mean,
        median=median,
        cost=loss.finalize(mean),
        groups=tuple(groups),
        log=log,
        x_range=(lo, hi),
        not_positive=not_positive if log else 0,
        top10_share=top_share(values, w, 0.10),
        n_groups=n_groups,
    )


# -- residuals ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResidualData:
    """Predicted vs true values of a regression, and the rows that dominate the cost."""

    sample: Sample
    loss: BoundLoss
    residual: np.ndarray
    dominant: np.ndarray  # bool mask
    share: float
    #: |r| >= threshold is exactly the dominant set (losses growing with |r|), else None.
    threshold: float | None
    bias: float  # weighted mean residual
    #: The largest |r| exceeds 8 robust standard deviations (1.4826 MAD): the tails
    #: would be invisible on a linear count axis.
    heavy_tails: bool = False

    @property
    def n_dominant(self) -> int:
        return int(self.dominant.sum())


@dataclass(frozen=True)
class ReliabilityData:
    """Binary probabilities: observed frequency per probability bin, and the rows
    that dominate the cost (the confident mistakes)."""

    sample: Sample
    loss: BoundLoss
    p: np.ndarray
    y: np.ndarray
    dominant: np.ndarray
    share: float
    bin_p: np.ndarray  # mean predicted probability per non-empty bin
    bin_freq: np.ndarray  # observed frequency of label 1 per non-empty bin
    bin_count: np.ndarray
    via_sigmoid: bool
    #: Points per row: K for a multilabel file (every label's probability is a point).
    per_row: int = 1

    @property
    def n_dominant(self) -> int:
        """Rows (not points) that dominate the cost."""
        return int(self.dominant.sum()) // self.per_row


def residuals(
    sample: Sample, key: str | None = None, *, share: float = 0.5
) -> ResidualData | ReliabilityData:
    """Residuals (regression) or a reliability view (binary probabilities or logits)."""
    if not 0 < share <= 1:
        raise UsageError(f"--share must be in (0, 1], got {share:g}.")
    loss = sample.loss(key)
    values, w = sample.values[loss.key], sample.weight
    dominant = dominant_rows(values, w, share)
    if sample.task == "regression" and sample.y_true.ndim > 1:
        raise UsageError(
            f"plot residuals draws one output; {sample.source} pairs {sample.y_true.shape[1]} "
            f"({sample.target}): pass one pair, e.g. -t TARGET_COLUMN -p PRED_COLUMN."
        )
    if sample.task == "regression":
        r = sample.y_pred - sample.y_true
        a = np.abs(r)
        threshold = None
        if dominant.any() and not dominant.all():
            t = float(a[dominant].min())
            if float(a[~dominant].max()) <= t:
                threshold = t
        sigma = MAD_TO_SD * float(np.median(np.abs(r - np.median(r))))
        heavy = bool(sigma > 0 and float(a.max()) > 8 * sigma)
        return ResidualData(sample, loss, r, dominant, share, threshold, weighted_mean(r, w), heavy)
    if sample.task in ("binary", "multilabel"):
        per_row = sample.y_pred.shape[1] if sample.y_pred.ndim > 1 else 1
        if sample.kind == "probability":
            p, via = sample.y_pred, False
        elif loss.spec.prediction_kind == "logit":
            p, via = sigmoid(sample.y_pred), True
        else:
            raise UsageError(
                f"residual plots need values or probabilities; {sample.pred} of {sample.source} "
                f"holds margin scores ({loss.key}), which have no probability scale. Pass "
                "-l bce_logits if they are logits."
            )
        y = sample.y_true
        if per_row > 1:  # every label's (probability, outcome) is a point; a row's all marked
            p, y = p.ravel(), y.ravel()
            dominant = np.repeat(dominant, per_row)
            w = None if w is None else np.repeat(w, per_row)
        edges = np.linspace(0.0, 1.0, 11)
        idx = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, 9)
        ww = np.ones_like(p) if w is None else w
        wsum = np.bincount(idx, ww, 10)
        psum = np.bincount(idx, ww * p, 10)
        ysum = np.bincount(idx, ww * y, 10)
        count = np.bincount(idx, minlength=10)
        ok = wsum > 0
        return ReliabilityData(
            sample,
            loss,
            p,
            y,
            dominant,
            share,
            psum[ok] / wsum[ok],
            ysum[ok] / wsum[ok],
            count[ok],
            via,
            per_row,
        )
    raise UsageError(
        f"residual plots are for regression (and binary probabilities); {sample.source} is a "
        f"{sample.task} task. Use 'lossctl plot dist' for its per-sample losses."
    )


# -- coverage of a distribution forecast --------------------------------------------------------

#: Nominal coverages of the central intervals drawn for a Gaussian or an ensemble.
COVERAGES = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class CoverageData:
    """A distribution forecast's central intervals: nominal vs observed coverage, and the
    widest interval (``lower``, ``upper``) per row against the target."""

    sample: Sample
    nominal: np.ndarray
    observed: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    #: The nominal coverage of ``lower``..``upper``.
    band: float
    #: What the intervals are made of, for the caption.
    source_text: str

    @property
    def outside(self) -> np.ndarray:
        y = self.sample.y_true
        return (y < self.lower) | (y > self.upper)


def coverage(sample: Sample) -> CoverageData:
    """Central intervals of a quantile set (its symmetric pairs), a Gaussian (mean +- z
    sigma) or an ensemble (the members' empirical quantiles); shares weighted by -w."""
    from lossctl.core.diagnostics import intervals

    y, p, w = sample.y_true, sample.y_pred, sample.weight
    bounds: list[tuple[float, np.ndarray, np.ndarray]] = []
    if sample.kind == "quantiles":
        for c, lo, hi in intervals(sample.levels):
            bounds.append((c, p[:, lo], p[:, hi]))
        text = "the quantile columns' symmetric pairs"
        if not bounds:
            raise UsageError(
                f"a coverage plot needs central intervals: pairs of levels a and 1 - a; the "
                f"columns of {sample.source} give {', '.join(f'{v:g}' for v in sample.levels)}."
            )
    elif sample.kind == "gaussian":
        from scipy.stats import norm

        mean, sd = p[:, 0], np.sqrt(p[:, 1])
        for c in COVERAGES:
            z = float(norm.ppf(0.5 + c / 2))
            bounds.append((c, mean - z * sd, mean + z * sd))
        text = "mean +- z sigma"
    else:
        for c in COVERAGES:
            lo, hi = np.quantile(p, [0.5 - c / 2, 0.5 + c / 2], axis=1)
            bounds.append((c, lo, hi))
        text = "the members' empirical quantiles"
    bounds.sort(key=lambda b: b[0])
    nominal = np.array([b[0] for b in bounds])
    observed = np.array([weighted_mean(((lo <= y) & (y <= hi)).astype(float), w)
                         for _, lo, hi in bounds])  # fmt: skip
    c, lower, upper = bounds[-1]
    return CoverageData(sample, nominal, observed, lower, upper, c, text)


# -- compare -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """Two models' per-sample losses on the same rows (rows valid for both)."""

    loss: BoundLoss
    task: str
    names: tuple[str, str]
    sources: tuple[str, str]
    a: np.ndarray
    b: np.ndarray
    weight: np.ndarray | None
    n_rows: int
    aligned_by: str

    @property
    def n(self) -> int:
        return int(self.a.shape[0])


def read_pair(opts: CompareOptions) -> Pair:
    """Read two models exactly as ``lossctl compare`` does (same pairing and checks)."""
    from lossctl.flows.compare import model_specs, paired_rows, prepare_models
    from lossctl.plugins import load_registry

    registry = opts.registry or load_registry()
    specs = model_specs(opts)
    if len(specs) != 2:
        raise UsageError(
            f"plot compare draws two models; got {len(specs)} "
            f"({', '.join(s.name for s in specs)}). Use 'lossctl compare' for more."
        )
    _one_loss(split_specs(opts.losses), "compare")
    prepareds = prepare_models(opts, specs, registry, first_loss_only=True)
    loss, task = prepareds[0].losses[0], prepareds[0].task
    if loss.spec.binned or loss.spec.scaled is not None:
        what = (
            "a binned calibration error has no per-sample values (plot reliability draws it)"
            if loss.spec.binned
            else "its cost is a mean over series, not over the per-sample values drawn here"
        )
        raise UsageError(
            f"plot compare draws per-sample losses and their mean; '{loss.key}': {what}. "
            f"Use 'lossctl compare' for its test."
        )
    models, keep = paired_rows(prepareds, [s.name for s in specs], opts.id, "both")
    a, b = models
    w = None if a.weight is None else a.weight[keep]
    if w is not None and not w.sum() > 0:
        raise InputError(f"column '{opts.weight}': all weights are 0; nothing to compare.")
    return Pair(
        loss,
        task,
        (a.name, b.name),
        (a.source, b.source),
        a.losses[loss.key][keep],
        b.losses[loss.key][keep],
        w,
        a.n,
        opts.id or "row",
    )


@dataclass(frozen=True)
class Comparison:
    """Per-sample losses of A vs B, and the bootstrap distribution of cost(B) - cost(A)."""

    pair: Pair
    cost_a: float
    cost_b: float
    delta: float
    deltas: np.ndarray
    ci: tuple[float, float]
    p_value: float
    b_wins: float  # share of rows (weighted) where B's loss is lower
    a_wins: float
    ties: float
    resamples: int
    seed: int
    confidence: float

    @property
    def relative(self) -> float | None:
        return self.delta / self.cost_a if self.cost_a else None


def compare_pair(
    pair: Pair,
    *,
    resamples: int = defaults.RESAMPLES,
    seed: int = defaults.SEED,
    confidence: float = defaults.CONFIDENCE,
) -> Comparison:
    """Costs, win shares and the paired bootstrap of the cost difference.

    The interval and p-value are those of :func:`lossctl.core.stats.bootstrap` (same
    resamples for the same seed), so the plot agrees with ``lossctl compare``.
    """
    from lossctl.core import stats

    if resamples < 1:
        raise UsageError(f"--resamples must be >= 1, got {resamples}.")
    if not 0 < confidence < 1:
        raise UsageError(f"--confidence must be in (0, 1), got {confidence}.")
    finalize = pair.loss.finalizer
    a, b, w = pair.a, pair.b, pair.weight
    deltas = stats.bootstrap_deltas(a, b, w, finalize, resamples, seed)
    ci, p = stats.bootstrap_interval(deltas, confidence)
    cost_a, cost_b = stats.cost(a, w, finalize), stats.cost(b, w, finalize)
    b_wins = weighted_mean((b < a).astype(np.float64), w)
    a_wins = weighted_mean((a < b).astype(np.float64), w)
    ties = weighted_mean((a == b).astype(np.float64), w)
    return Comparison(
        pair,
        cost_a,
        cost_b,
        cost_b - cost_a,
        deltas,
        ci,
        p,
        b_wins,
        a_wins,
        ties,
        resamples,
        seed,
        confidence,
    )


# -- reliability -------------------------------------------------------------------------------

#: Confidence bins of a reliability diagram: the default of ece, mce and rmsce.
RELIABILITY_BINS = 15
#: The most bins: the bound of those losses' ``bins`` parameter.
MAX_RELIABILITY_BINS = 10_000


@dataclass(frozen=True)
class ReliabilityInput:
    """One model of a reliability diagram: its name, file and prediction column(s)."""

    name: str
    path: str | Frame
    pred: tuple[str, ...]


@dataclass(frozen=True)
class BinnedCalibration:
    """The confidence-bin sums of one model (or of one group of its rows).

    ``sums`` is the (3, B) array of :func:`lossctl.losses.calibration.bin_sums` added
    over every block: the weight, the weighted confidence and the weighted accuracy
    per bin, exactly what ``lossctl eval -l ece:bins=B`` sums.
    """

    sums: np.ndarray
    #: Rows in these bins (the weight is their count without -w).
    n: int
    label: str | None = None

    @property
    def bins(self) -> int:
        return int(self.sums.shape[1])

    @property
    def edges(self) -> np.ndarray:
        from lossctl.losses.calibration import edges

        return edges(self.bins)

    @property
    def weight(self) -> np.ndarray:
        """The weight (rows without -w) of each bin, empty bins 0."""
        from lossctl.losses.calibration import WEIGHT

        return self.sums[WEIGHT]

    @property
    def nonempty(self) -> np.ndarray:
        """The bins with a positive weight (the ones the errors average over)."""
        return self.weight > 0

    @property
    def confidence(self) -> np.ndarray:
        """The mean confidence of each non-empty bin."""
        from lossctl.losses.calibration import CONFIDENCE

        full = self.nonempty
        return self.sums[CONFIDENCE][full] / self.weight[full]

    @property
    def accuracy(self) -> np.ndarray:
        """The accuracy of each non-empty bin (binary: the share of positives)."""
        from lossctl.losses.calibration import ACCURACY

        full = self.nonempty
        return self.sums[ACCURACY][full] / self.weight[full]

    def error(self, norm: str) -> float:
        """ECE (``l1``), MCE (``max``) or RMSCE (``l2``): the losses' own computation."""
        from lossctl.losses.calibration import calibration_error

        return calibration_error(self.sums, norm)

    @property
    def ece(self) -> float:
        return self.error("l1")

    @property
    def mce(self) -> float:
        return self.error("max")


@dataclass(frozen=True)
class ModelCalibration:
    """One model's bins over all its rows and, with --by, per group."""

    name: str
    source: str
    pred: str
    overall: BinnedCalibration
    #: The groups drawn (at most ``max_groups``, the largest), in label order.
    groups: tuple[BinnedCalibration, ...] = ()
    #: Groups in the data.
    n_groups: int = 0
    n_rows: int = 0
    n_dropped: int = 0
    #: The positive label of a binary target.
    positive: str | None = None


@dataclass(frozen=True)
class Reliability:
    """The reliability diagram of one or more classifiers, at ``bins`` confidence bins."""

    task: str
    bins: int
    models: tuple[ModelCalibration, ...]
    weight: str | None = None
    by: str | None = None
    warnings: tuple[str, ...] = ()


def check_bins(bins: int) -> int:
    """``--bins``: a whole number from 1 to :data:`MAX_RELIABILITY_BINS`."""
    if isinstance(bins, bool) or not isinstance(bins, int) or bins < 1:
        raise UsageError(f"--bins must be an integer >= 1, got {bins}.")
    if bins > MAX_RELIABILITY_BINS:
        raise UsageError(f"--bins must be at most {MAX_RELIABILITY_BINS:,}, got {bins:,}.")
    return bins


def reliability_inputs(opts: CompareOptions) -> list[ReliabilityInput]:
    """The models, as ``lossctl compare`` names them: several files (each one model, named
    by its stem), or one file with one --pred per model; one file with at most one
    --pred is one model, named by that column (or the file's stem)."""
    from pathlib import Path

    from lossctl.flows.compare import model_specs

    files = list(opts.files)
    if len(files) != 1 or len(opts.pred) > 1:
        return [ReliabilityInput(s.name, s.path, tuple(s.pred)) for s in model_specs(opts)]
    path, pred = files[0], tuple(opts.pred)
    if pred and not any(ch in pred[0] for ch in "*?["):
        name = pred[0]
    else:
        name = (
            "stdin" if path == "-" else Path(path).name.split(".")[0]
            if isinstance(path, str) else str(path)
        )  # fmt: skip
    names = [n.strip() for item in opts.names for n in item.split(",") if n.strip()]
    if names:
        if len(names) != 1:
            raise UsageError(f"--names gives {len(names)} names for 1 model.")
        name = names[0]
    return [ReliabilityInput(name, path, pred)]


def _check_classifier(prepared: Prepared, name: str) -> None:
    """A reliability diagram needs a binary or multiclass task read as probabilities."""
    src, task, cm = prepared.source.name, prepared.task, prepared.columns
    if task not in ("binary", "multiclass"):
        hint = {
            "multilabel": " Draw one label at a time: -t LABEL_COLUMN -p ITS_PROBABILITY.",
            "regression": f" For a regression use 'lossctl plot residuals {src}'.",
        }.get(task, "")
        raise UsageError(
            f"reliability diagrams are for classifiers' probabilities (binary or multiclass); "
            f"{src} ({name}) is read as a {task} task"
            + (f" ({prepared.kind})" if prepared.kind not in ("value", "probability") else "")
            + f".{hint}"
        )
    if prepared.kind != "probability":
        cols = ", ".join(cm.pred) if len(cm.pred) <= 3 else f"{cm.pred[0]}, ..., {cm.pred[-1]}"
        raise InputError(
            f"reliability diagrams need probabilities in [0, 1]; {cols} of {src} "
            f"hold{'s' if len(cm.pred) == 1 else ''} {prepared.kind}s (values outside "
            f"[0, 1]). Apply the {'sigmoid' if task == 'binary' else 'softmax'} first."
        )


def _check_block(y_pred: np.ndarray, rows: np.ndarray, cols: tuple[str, ...], src: str) -> None:
    """Every prediction of a block is a probability in [0, 1] (a logit further down the
    file than the first rows, which decided the kind)."""
    bad = _outside(y_pred)
    if not bad.any():
        return
    where = np.flatnonzero(bad)
    first = y_pred[where[0]]
    value = float(first if np.ndim(first) == 0 else first[(first < 0) | (first > 1)][0])
    shown = ", ".join(str(int(r)) for r in rows[where[:5]]) + (", ..." if where.size > 5 else "")
    named = ", ".join(cols) if len(cols) <= 3 else f"{cols[0]}, ..., {cols[-1]}"
    raise InputError(
        f"reliability diagrams need probabilities in [0, 1]; {named} of {src} "
        f"hold{'s' if len(cols) == 1 else ''} "
        f"{where.size} value{'s' if where.size > 1 else ''} outside (rows {shown}; first "
        f"{value:g}): logits or scores? Apply the sigmoid (softmax) first."
    )


class _OnePass(Exception):
    """A part found what only the sequential pass reports with exact row numbers."""


class _Bins:
    """Bin sums of one pass (or part): the :class:`BinTable` eval adds blocks to, the rows
    and the rows per group."""

    def __init__(self, bins: int) -> None:
        from lossctl.core.accumulate import BinTable

        self.table = BinTable(bins, groups=np.zeros((0, 3, bins)))
        self.n = 0
        self.counts: dict[str, int] = {}

    def add(self, prepared: Prepared, loss: BoundLoss, arrays: Arrays) -> None:
        from lossctl.engines.base import compute_block
        from lossctl.losses.spec import ACCURACY_KEY, CONFIDENCE_KEY

        values = compute_block(prepared, arrays)
        conf, acc = values[loss.key + CONFIDENCE_KEY], values[loss.key + ACCURACY_KEY]
        groups = None
        if arrays.groups is not None:
            codes, labels = arrays.groups.codes, arrays.groups.labels
            groups = (codes, labels)
            for code, count in enumerate(np.bincount(codes, minlength=len(labels)).tolist()):
                if count:
                    label = str(labels[code])
                    self.counts[label] = self.counts.get(label, 0) + count
        self.table.add(conf, acc, arrays.weight, groups)
        self.n += len(arrays)

    def merge(self, other: _Bins) -> None:
        self.table.merge(other.table)
        self.n += other.n
        for label, count in other.counts.items():
            self.counts[label] = self.counts.get(label, 0) + count


def _read_bins(prepared: Prepared, loss: BoundLoss) -> tuple[BinTable, int, dict[str, int]]:
    """The bin sums of a file, read as ``lossctl eval`` reads it so that the float sums
    are added in the same order: in the parts eval reads in parallel (large files),
    each part's blocks summed, then the parts merged in file order; else (or when a
    part finds a problem, for its exact row numbers) in one pass of blocks. Only a block
    (a part's, or the pass's) and the sums are held."""
    from lossctl.engines.base import valid_blocks
    from lossctl.errors import LossctlError
    from lossctl.inputs.readers import cpu_workers

    cols, bins = prepared.columns.pred, loss.bins
    parts = prepared.source.parts(cpu_workers())
    if parts:
        try:
            total = _Bins(bins)
            offset = 0
            for part in parts:
                validator = prepared.validator.fresh()
                got = _Bins(bins)
                for arrays, _chunk in prepared.arrays(part, validator):
                    if validator.needs_exact_rows or _outside(arrays.y_pred).any():
                        raise _OnePass
                    if len(arrays):
                        got.add(prepared, loss, arrays)
                total.merge(got)
                prepared.validator.absorb(validator, 0 if prepared.is_dataset else offset)
                offset += validator.n_rows
            if prepared.validator.needs_exact_rows:
                raise _OnePass
            prepared.validator.finish()
            return total.table, total.n, total.counts
        except (_OnePass, LossctlError):
            prepared.validator = prepared.validator.fresh()  # start again, in one pass
    one = _Bins(bins)
    for arrays, _chunk in valid_blocks(prepared):
        _check_block(arrays.y_pred, arrays.rows, cols, prepared.validator.source)
        one.add(prepared, loss, arrays)
    return one.table, one.n, one.counts


def _outside(y_pred: np.ndarray) -> np.ndarray:
    """Rows with a prediction outside [0, 1]."""
    outside = np.asarray((y_pred < 0) | (y_pred > 1))
    return np.asarray(outside.any(axis=1)) if outside.ndim > 1 else outside


def read_reliability(
    opts: CompareOptions,
    bins: int = RELIABILITY_BINS,
    by: str | None = None,
    max_groups: int = MAX_GROUPS,
) -> Reliability:
    """Each model's confidence-bin sums, streaming its file.

    Every file is read as ``lossctl eval -l ece:bins=B`` reads it (same columns, task,
    checks, blocks and parts, see :func:`_read_bins`) and each block becomes bin sums,
    added up as eval adds them (:class:`lossctl.core.accumulate.BinTable`), so a
    model's ECE is eval's, exactly. Only one block and the sums are held. The first
    model decides the task (unless --task), as in ``lossctl compare``; with ``by``, the
    ``max_groups`` largest groups (by weight) are kept for drawing, shared among the
    models.
    """
    from lossctl.core.prepare import prepare
    from lossctl.engines.base import check_rows_left
    from lossctl.options import EvalOptions
    from lossctl.plugins import load_registry

    check_bins(bins)
    registry = opts.registry or load_registry()
    inputs = reliability_inputs(opts)
    per_model = max(1, max_groups // len(inputs))  # series are models x groups
    task = opts.task
    models: list[ModelCalibration] = []
    warnings: list[str] = []
    for m in inputs:
        prepared = prepare(EvalOptions(
            path=m.path, losses=[], target=opts.target, pred=list(m.pred), weight=opts.weight,
            by=by, task=task, nan=opts.nan, pos_label=opts.pos_label, classes=opts.classes,
            input_format=opts.input_format, delimiter=opts.delimiter, sheet=opts.sheet,
            chunk_size=opts.chunk_size, registry=registry,
        ))  # fmt: skip
        _check_classifier(prepared, m.name)
        task = prepared.task
        loss = registry.bind(parse_spec(f"ece:bins={bins}"), prepared.task, prepared.kind)
        prepared.losses = [loss]
        table, n, counts = _read_bins(prepared, loss)
        cm, v = prepared.columns, prepared.validator  # after the read: it may start afresh
        weight_sum = float(table.overall[0].sum()) if cm.weight else None
        check_rows_left(prepared, n, weight_sum, "plot")
        parts = [BinnedCalibration(table.of(g).copy(), counts.get(g, 0), g) for g in table.labels]
        # The largest groups (ties: first seen), drawn in label order.
        shown = sorted(parts, key=lambda p: -float(p.weight.sum()))[:per_model]
        shown.sort(key=lambda p: str(p.label))
        models.append(
            ModelCalibration(
                name=m.name,
                source=prepared.source.name,
                pred=", ".join(cm.pred) if len(cm.pred) <= 2 else f"{cm.pred[0]}, ...",
                overall=BinnedCalibration(table.overall.copy(), n),
                groups=tuple(shown),
                n_groups=len(parts),
                n_rows=v.n_rows,
                n_dropped=v.n_dropped,
                positive=v.positive,
            )
        )
        warnings += v.warnings()
    return Reliability(
        task=task,
        bins=bins,
        models=tuple(models),
        weight=opts.weight,
        by=by,
        warnings=tuple(dict.fromkeys(warnings)),
    )
