"""Probabilistic regression: the prediction is a distribution, given in several columns.

``fn(y_true (n,), y_pred (n, K), **params) -> ndarray (n,)``:

- ``quantiles``: one column per quantile level, ``levels`` (K,) passed by the core;
- ``gaussian``: two columns, the mean and the variance;
- ``ensemble``: one column per member (a sample of the predictive distribution).

All are proper scoring rules: the expected score is lowest when the predicted
distribution is the one the target is drawn from, so a model cannot gain by
reporting a sharper or wider distribution than it believes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from lossctl._lazy import lazy

if TYPE_CHECKING:
    import numpy as np
    from scipy import special
else:
    np = lazy("numpy")  # imported when a loss first computes
    special = lazy("scipy.special")

from lossctl.errors import UsageError
from lossctl.losses.spec import LossSpec, Param, ParamValue, check_mask

#: Two quantile levels closer than this are the same level (0.1 written as 0.1000000001).
LEVEL_TOLERANCE = 1e-9
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)


def _level_text(levels: np.ndarray) -> str:
    return ", ".join(f"{v:g}" for v in levels)


def level_index(levels: np.ndarray, level: float) -> int | None:
    """The column of ``level`` among ``levels`` (within :data:`LEVEL_TOLERANCE`), or None."""
    hits = np.flatnonzero(np.abs(levels - level) <= LEVEL_TOLERANCE)
    return int(hits[0]) if hits.size else None


def pinball(y_true: np.ndarray, y_pred: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The pinball loss of every level: an (n, K) array, α·max(y - q, 0) + (1 - α)·max(q - y, 0).

    With r = q - y that is (1 - α)·r - min(r, 0), computed in place: two (n, K) arrays.
    """
    r = y_pred - y_true[:, None]
    low = np.minimum(r, 0.0)
    r *= 1.0 - levels
    r -= low
    return r


def quantile_set(y_true: np.ndarray, y_pred: np.ndarray, *, levels: np.ndarray) -> np.ndarray:
    """Mean over the K levels of the pinball loss. Ref: mean over levels of sklearn
    ``mean_pinball_loss(alpha=level)``; utilsforecast ``mqloss``."""
    return pinball(y_true, y_pred, levels).mean(axis=1)


def _interval_columns(levels: np.ndarray, coverage: float, loss: str) -> tuple[int, int]:
    lower, upper = (1.0 - coverage) / 2.0, (1.0 + coverage) / 2.0
    lo, hi = level_index(levels, lower), level_index(levels, upper)
    if lo is None or hi is None:
        missing = [f"{v:g}" for v, i in ((lower, lo), (upper, hi)) if i is None]
        what = (
            f"level {missing[0]} is" if len(missing) == 1 else f"levels {' and '.join(missing)} are"
        )
        raise UsageError(
            f"loss '{loss}' with coverage={coverage:g} needs the quantile levels {lower:g} and "
            f"{upper:g}; {what} not among the prediction columns' levels "
            f"({_level_text(levels)}). Pass {loss}:coverage=C for a central interval they hold."
        )
    return lo, hi


def interval_score(
    y_true: np.ndarray, y_pred: np.ndarray, *, levels: np.ndarray, coverage: float = 0.8
) -> np.ndarray:
    """(u - l) + (2/α)(l - y)·1{y < l} + (2/α)(y - u)·1{y > u}, α = 1 - coverage, l and u
    the levels (1 ∓ coverage)/2. Ref: scoringrules ``interval_score(obs, l, u, alpha)``."""
    lo, hi = _interval_columns(levels, coverage, "interval_score")
    low, up = y_pred[:, lo], y_pred[:, hi]
    scale = 2.0 / (1.0 - coverage)
    below = np.maximum(low - y_true, 0.0)
    above = np.maximum(y_true - up, 0.0)
    return (up - low) + scale * below + scale * above


def check_wis_levels(levels: np.ndarray, loss: str = "wis") -> None:
    """WIS needs the median and symmetric pairs of levels (α/2, 1 - α/2)."""
    if level_index(levels, 0.5) is None:
        raise UsageError(
            f"loss '{loss}' needs the median (level 0.5) among the quantile levels; the "
            f"prediction columns give {_level_text(levels)}. Use -l quantile for any set of "
            "levels."
        )
    for v in levels:
        if level_index(levels, 1.0 - float(v)) is None:
            raise UsageError(
                f"loss '{loss}' needs symmetric pairs of levels around the median; level "
                f"{float(v):g} has no partner {1.0 - float(v):g} among {_level_text(levels)}. "
                "Use -l quantile for any set of levels."
            )


def wis(y_true: np.ndarray, y_pred: np.ndarray, *, levels: np.ndarray) -> np.ndarray:
    """Weighted interval score [½|y - m| + Σ_k (α_k/2)·IS_{α_k}] / (K + ½) over the median
    and K symmetric intervals, which equals 2 × the mean pinball loss over the 2K + 1
    levels (computed so). Ref: scoringrules ``interval_score`` combined by the formula."""
    check_wis_levels(levels)
    return 2.0 * quantile_set(y_true, y_pred, levels=levels)


def _mean_var(y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return y_pred[:, 0], y_pred[:, 1]


def gaussian_nll(
    y_true: np.ndarray, y_pred: np.ndarray, *, full: float = 1.0, eps: float = 1e-6
) -> np.ndarray:
    """½[log max(σ², eps) + r²/max(σ², eps)] (+ ½ log 2π with ``full``). Ref: torch
    ``gaussian_nll_loss(full=...)``; full = scoringrules ``logs_normal``."""
    mean, var = _mean_var(y_pred)
    v = np.maximum(var, eps)
    r = mean - y_true
    out = 0.5 * (np.log(v) + r * r / v)
    if full:
        out += _HALF_LOG_2PI
    return out


def crps_gaussian(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """σ[ω(2Φ(ω) - 1) + 2φ(ω) - 1/√π], ω = (y - μ)/σ; |y - μ| where σ = 0 (the limit).
    Ref: properscoring ``crps_gaussian``, scoringrules ``crps_normal``."""
    mean, var = _mean_var(y_pred)
    sigma = np.sqrt(var)
    r = y_true - mean
    point = sigma == 0
    s = np.where(point, 1.0, sigma)
    w = r / s
    pdf = np.exp(-0.5 * w * w) / math.sqrt(2.0 * math.pi)
    out = s * (w * (2.0 * special.ndtr(w) - 1.0) + 2.0 * pdf - _INV_SQRT_PI)
    return np.where(point, np.abs(r), out)


def _check_gaussian(
    name: str, y_true: np.ndarray, y_pred: np.ndarray, params: Mapping[str, ParamValue]
) -> None:
    var = y_pred[:, 1]
    check_mask(name, "y_pred", var, var >= 0, "a variance >= 0 (a standard deviation > 0)")


def crps_ensemble(
    y_true: np.ndarray, y_pred: np.ndarray, *, estimator: str = "standard"
) -> np.ndarray:
    """(1/M)Σ|x_i - y| - ΣΣ|x_i - x_j| / (2M²) (standard) or / (2M(M - 1)) (fair).

    The double sum is 2Σ_i (2i - M - 1) x_(i) over the sorted members: O(M log M) per
    row, never the O(M²) pairs. Ref: properscoring ``crps_ensemble``; scoringrules
    ``crps_ensemble(estimator="nrg" / "fair")``.
    """
    m = y_pred.shape[1]
    if y_pred.flags.f_contiguous:  # members stored one after another (lossctl's reader)
        spread = np.zeros(y_true.shape[0])
        for j in range(m):
            spread += np.abs(y_pred[:, j] - y_true)
        spread /= m
    else:
        spread = np.abs(y_pred - y_true[:, None]).mean(axis=1)
    members = np.sort(y_pred, axis=1)
    coef = 2.0 * np.arange(1, m + 1, dtype=np.float64) - m - 1.0
    pairs = 2.0 * (members @ coef)  # ΣΣ |x_i - x_j|
    denominator = 2.0 * m * (m - 1) if estimator == "fair" else 2.0 * m * m
    return spread - pairs / denominator


def _check_ensemble(
    name: str, y_true: np.ndarray, y_pred: np.ndarray, params: Mapping[str, ParamValue]
) -> None:
    if y_pred.ndim == 2 and y_pred.shape[1] < 2:
        raise UsageError(
            f"loss '{name}' needs an ensemble of at least 2 members (prediction columns); "
            f"got {y_pred.shape[1]}. One member is a point forecast: use -l mae for it."
        )


_PROPER = (
    "It is a proper scoring rule: its expected value is lowest when the predicted "
    "distribution is the one the target comes from, so no model gains by reporting a "
    "sharper or a wider distribution than it believes."
)


PROBABILISTIC: tuple[LossSpec, ...] = (
    LossSpec(
        name="quantile",
        aliases=("pinball",),
        fn=quantile_set,
        task="regression",
        prediction_kind="quantiles",
        formula="mean over the K levels a of: a max(y - q_a, 0) + (1 - a) max(q_a - y, 0)",
        summary="Mean pinball loss over the levels of a quantile forecast (q10, q50, q90).",
        explain=(
            "Each predicted quantile q_a is scored by the pinball loss at its level a: an "
            "under-prediction costs a per unit, an over-prediction 1 - a, so each column is "
            "pushed towards the true a-quantile. The mean over a dense, evenly spread set of "
            "levels approximates half the CRPS, the score of the whole predictive "
            "distribution. " + _PROPER
        ),
        use_when="Quantile forecasts (P10/P50/P90, Nixtla's -lo-/-hi- columns) of any levels.",
        watch_out=(
            "The value depends on which levels are present: compare models only on the same "
            "levels. Quantiles that cross (q10 > q90 on a row) are counted and warned about; "
            "the pinball loss does not notice them."
        ),
        see_also=("wis", "interval_score", "crps_ensemble"),
        robust_to_outliers=True,
        zero_at_perfect=False,
        reference="mean over levels of sklearn mean_pinball_loss; utilsforecast mqloss",
    ),
    LossSpec(
        name="interval_score",
        aliases=("winkler",),
        fn=interval_score,
        task="regression",
        prediction_kind="quantiles",
        params=(
            Param(
                "coverage",
                0.8,
                low=0.0,
                high=1.0,
                closed="neither",
                help="Nominal coverage of the central interval; 0.8 uses the levels 0.1 and 0.9.",
            ),
        ),
        formula="(u - l) + (2/alpha)(l - y) 1{y < l} + (2/alpha)(y - u) 1{y > u}, alpha = 1 - c",
        summary="Interval (Winkler) score: width of a central interval plus 2/alpha per miss.",
        explain=(
            "Scores one central prediction interval [l, u] of nominal coverage c (l and u "
            "are the quantiles at (1 - c)/2 and (1 + c)/2). It is the interval's width, plus "
            "a penalty when the target falls outside: the distance to the nearer end times "
            "2/alpha, alpha = 1 - c. The factor is what makes it proper: widening the "
            "interval to catch one more target must pay for itself, and a miss of a 90% "
            "interval (factor 20) costs far more than a miss of a 50% one (factor 4), as it "
            "should be rarer. " + _PROPER
        ),
        use_when="Prediction intervals (lo-80 / hi-80 columns), judged on width and misses.",
        watch_out=(
            "It scores one interval only; both levels must be among the prediction columns. "
            "Look at the coverage diagnostic too: a low score with coverage far below c "
            "means narrow intervals that miss often."
        ),
        see_also=("wis", "quantile"),
        zero_at_perfect=False,
        reference="scoringrules interval_score; utilsforecast winkler_score",
    ),
    LossSpec(
        name="wis",
        fn=wis,
        task="regression",
        prediction_kind="quantiles",
        formula="[0.5 |y - m| + sum_k (alpha_k/2) IS_alpha_k] / (K + 0.5) = 2 mean pinball",
        summary="Weighted interval score: the median and every symmetric interval together.",
        explain=(
            "Combines the absolute error of the median m with the interval scores of the K "
            "central intervals the levels form, each weighted by alpha_k/2, and divides by "
            "K + 1/2. It equals twice the mean pinball loss over the 2K + 1 levels, and "
            "approximates the CRPS as the levels get dense; the COVID-19 Forecast Hub ranks "
            "models by it. " + _PROPER
        ),
        use_when="Quantile forecasts with a median and symmetric levels (0.1/0.9, 0.25/0.75).",
        watch_out=(
            "It needs level 0.5 and, for every level a, also 1 - a; use quantile otherwise. "
            "scoringrules 0.10's weighted_interval_score (numpy backend) adds the median "
            "instead of |y - m| and gives other numbers."
        ),
        see_also=("interval_score", "quantile", "crps_gaussian"),
        robust_to_outliers=True,
        zero_at_perfect=False,
        multiple_of=(quantile_set, 2.0),
        reference="scoringrules interval_score combined by the WIS formula",
    ),
    LossSpec(
        name="gaussian_nll",
        fn=gaussian_nll,
        task="regression",
        prediction_kind="gaussian",
        params=(
            Param("full", 1.0, low=0.0, high=1.0, help="1 adds the constant 0.5 log(2 pi)."),
            Param(
                "eps",
                1e-6,
                low=0.0,
                help="Variances below eps are raised to eps (torch's clamp).",
            ),
        ),
        formula="0.5 [log max(var, eps) + (y - mean)² / max(var, eps)] (+ 0.5 log 2 pi)",
        summary="Gaussian negative log-likelihood of a predicted mean and variance.",
        explain=(
            "Minus the log density of the target under the predicted normal distribution. "
            "The squared error is divided by the predicted variance, and the log variance "
            "is added: an overconfident model (small variance, large error) pays through "
            "the first term, an underconfident one (large variance) through the second, so "
            "the score rewards an honest variance, one that matches the size of the errors "
            "row by row. " + _PROPER
        ),
        use_when="Models that predict a mean and an uncertainty (GPs, NGBoost, deep ensembles).",
        watch_out=(
            "Unbounded as the variance goes to 0 (eps keeps it finite) and sensitive to a "
            "few large standardised errors; crps_gaussian is the robust alternative. "
            "torch's default is full=False; lossctl's is full=1 (the true log score)."
        ),
        see_also=("crps_gaussian", "mse"),
        check=_check_gaussian,
        zero_at_perfect=False,
        reference="torch gaussian_nll_loss; full = scoringrules logs_normal",
    ),
    LossSpec(
        name="crps_gaussian",
        fn=crps_gaussian,
        task="regression",
        prediction_kind="gaussian",
        formula="sigma [w (2 Phi(w) - 1) + 2 phi(w) - 1/sqrt(pi)], w = (y - mean) / sigma",
        summary="CRPS of a predicted normal distribution: MAE generalised to a distribution.",
        explain=(
            "The continuous ranked probability score integrates, over every threshold, the "
            "squared gap between the predicted CDF and the step function of the target. For "
            "a point forecast (sigma = 0) it is exactly the absolute error, so it generalises "
            "mae to distributions and is in the target's units. It rewards a distribution "
            "that is both sharp and calibrated. " + _PROPER
        ),
        use_when="Mean + standard deviation forecasts, compared with each other or with MAE.",
        watch_out=(
            "Assumes the normal shape the model states: heavy-tailed errors are scored as "
            "if they were normal. Grows linearly, not quadratically, with the error."
        ),
        see_also=("gaussian_nll", "crps_ensemble", "mae"),
        check=_check_gaussian,
        robust_to_outliers=True,
        zero_at_perfect=False,
        reference="properscoring crps_gaussian; scoringrules crps_normal",
    ),
    LossSpec(
        name="crps_ensemble",
        fn=crps_ensemble,
        task="regression",
        prediction_kind="ensemble",
        params=(
            Param(
                "estimator",
                "standard",
                choices=("standard", "fair"),
                help="standard: the ensemble's own CRPS; fair: unbiased for the distribution "
                "the members are drawn from.",
            ),
        ),
        formula="(1/M) sum |x_i - y| - sum_ij |x_i - x_j| / (2 M²)  (fair: 2 M (M - 1))",
        summary="CRPS of an ensemble or sample forecast (M member columns).",
        explain=(
            "The CRPS of the empirical distribution of the M members: the mean distance of "
            "the members to the target, minus half their mean distance to each other. The "
            "first term rewards members near the target, the second rewards spread, so a "
            "collapsed ensemble is scored like its point forecast (mae). The standard "
            "estimator scores the ensemble as it is; with few members it favours too little "
            "spread, so the fair estimator (denominator 2M(M - 1)) is unbiased for the "
            "distribution the members are sampled from and ranks small ensembles fairly. " + _PROPER
        ),
        use_when="Ensembles, Monte-Carlo dropout or sampled trajectories, M >= 2 members.",
        watch_out=(
            "Compare ensembles of different sizes with estimator=fair. Members are columns "
            "named with --pred (a glob) and --kind ensemble."
        ),
        see_also=("crps_gaussian", "quantile", "mae"),
        check=_check_ensemble,
        robust_to_outliers=True,
        zero_at_perfect=False,
        reference="properscoring crps_ensemble; scoringrules crps_ensemble (nrg, fair)",
    ),
)
