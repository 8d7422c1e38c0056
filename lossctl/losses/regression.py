"""Regression losses: the prediction is a value on the same scale as the target.

Every function is elementwise, ``fn(y_true, y_pred, *, **params) -> ndarray (n,)``,
with ``r = y_pred - y_true``. Reduction, weights and finalize live in the core.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from lossctl._lazy import lazy

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")  # imported when a loss first computes

from lossctl.errors import UsageError
from lossctl.losses.spec import MACHINE_EPS, Domain, LossSpec, Param, ParamValue, check_mask

_LOG2 = math.log(2.0)


def mse(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Squared error r². Ref: sklearn ``mean_squared_error``, torch ``mse_loss``."""
    r = np.subtract(y_pred, y_true)
    return np.square(r, out=r)  # square in place: one temporary, not two


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Absolute error |r|. Ref: sklearn ``mean_absolute_error``, torch ``l1_loss``."""
    r = np.subtract(y_pred, y_true)
    return np.abs(r, out=r)


def huber(y_true: np.ndarray, y_pred: np.ndarray, *, delta: float = 1.0) -> np.ndarray:
    """0.5 r² if |r| <= δ else δ(|r| - δ/2). Ref: torch ``huber_loss``, Keras ``Huber``."""
    a = np.subtract(y_pred, y_true)
    np.abs(a, out=a)
    # q = min(|r|, δ) splits |r| into its quadratic part q and linear part |r| - q:
    # 0.5 q² + δ(|r| - q) equals both branches, with no where() over two arrays;
    # in place, so a block costs two arrays, not six.
    q = np.minimum(a, delta)
    a -= q
    a *= delta
    q *= q
    q *= 0.5
    a += q
    return a


def smooth_l1(y_true: np.ndarray, y_pred: np.ndarray, *, beta: float = 1.0) -> np.ndarray:
    """0.5 r²/β if |r| < β else |r| - β/2; β = 0 gives |r|. Ref: torch ``smooth_l1_loss``."""
    a = np.abs(np.subtract(y_pred, y_true))
    if beta == 0:
        return a
    q = np.minimum(a, beta)
    return 0.5 * q * q / beta + (a - q)


def pseudo_huber(y_true: np.ndarray, y_pred: np.ndarray, *, delta: float = 1.0) -> np.ndarray:
    """δ²(sqrt(1 + (r/δ)²) - 1), the smooth Huber approximation (textbook form)."""
    x = np.subtract(y_pred, y_true) / delta
    # sqrt(1 + x²) - 1 == x² / (sqrt(1 + x²) + 1): no cancellation for small x;
    # hypot avoids overflow of x² and x * (x / ...) keeps huge x finite.
    return delta * delta * (x * (x / (np.hypot(1.0, x) + 1.0)))


def log_cosh(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """log(cosh(r)). Ref: Keras ``LogCosh``, optax ``log_cosh``."""
    a = np.subtract(y_pred, y_true)
    np.abs(a, out=a)
    # cosh overflows past |r| ~ 710, so use |r| + log1p(exp(-2|r|)) - log 2 (in place).
    out = np.multiply(a, -2.0)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += a
    out -= _LOG2
    # Near 0 that form cancels (|r| - log 2 + log 2 + ...); there cosh(r) - 1 = 2 sinh²(r/2)
    # gives log1p(2 sinh²(r/2)), accurate near 0 (1e-12 relative at r = 1e-8). Below
    # |r| = 0.1 the cancellation would cost more than 1e-14 relative: those rows are redone.
    small = np.flatnonzero(a < 0.1)
    if small.size:
        s = np.sinh(0.5 * a[small])
        out[small] = np.log1p(2.0 * s * s)
    return out


def msle(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """(log1p(y_pred) - log1p(y_true))². Ref: sklearn ``mean_squared_log_error``.

    Computed as log1p((y_pred - y_true) / (1 + y_true)): one logarithm instead of two,
    and no cancellation between two nearly equal logarithms. Rows where that quotient
    overflows (y_true near -1, a huge prediction) take the two logarithms.
    """
    d = np.subtract(y_pred, y_true)
    d /= np.add(y_true, 1.0)
    np.log1p(d, out=d)
    bad = ~np.isfinite(d)
    if bad.any():
        d[bad] = np.log1p(y_pred[bad]) - np.log1p(y_true[bad])
    return np.square(d, out=d)


def mape(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """|r| / max(|y_true|, eps), a fraction. Ref: sklearn ``mean_absolute_percentage_error``."""
    # eps = float64 machine epsilon, sklearn's guard against division by zero.
    r = np.subtract(y_pred, y_true)
    np.abs(r, out=r)
    scale = np.abs(y_true)
    np.maximum(scale, MACHINE_EPS, out=scale)
    r /= scale
    return r


def smape(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """2|r| / (|y_true| + |y_pred|), 0 where both are 0. Ref: M4 sMAPE / 100."""
    num = 2.0 * np.abs(np.subtract(y_pred, y_true))
    den = np.abs(y_true) + np.abs(y_pred)
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)  # 0/0 := 0 (both exactly zero)
    return out


def quantile(y_true: np.ndarray, y_pred: np.ndarray, *, alpha: float = 0.5) -> np.ndarray:
    """Pinball loss α·max(-r, 0) + (1-α)·max(r, 0). Ref: sklearn ``mean_pinball_loss``."""
    r = np.subtract(y_pred, y_true)
    return np.maximum(-alpha * r, (1.0 - alpha) * r)  # one of the two terms is always >= 0


def _xlogy_ratio(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """y·log(y/mu) with 0·log 0 = 0 (scipy's xlogy convention), numpy only."""
    out = np.zeros_like(y)
    pos = y > 0
    out[pos] = y[pos] * np.log(y[pos] / mu[pos])
    return out


def poisson_deviance(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """2(y log(y/ŷ) - y + ŷ). Ref: sklearn ``mean_poisson_deviance``."""
    return 2.0 * (_xlogy_ratio(y_true, y_pred) - y_true + y_pred)


def gamma_deviance(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """2(log(ŷ/y) + y/ŷ - 1). Ref: sklearn ``mean_gamma_deviance``."""
    ratio = y_true / y_pred
    # log(ŷ/y) = -log(ratio); log1p-free form is what sklearn uses (exact enough:
    # the deviance is a sum of O(1) terms, no cancellation beyond float64 rounding).
    return 2.0 * (ratio - np.log(ratio) - 1.0)


def tweedie_deviance(y_true: np.ndarray, y_pred: np.ndarray, *, power: float = 0.0) -> np.ndarray:
    """Unit Tweedie deviance, scikit-learn's piecewise definition.

    Ref: sklearn ``mean_tweedie_deviance``: power 0 = squared error, 1 = Poisson,
    2 = Gamma, otherwise the general form (power in (0, 1) has no distribution).
    """
    p = power
    if p == 0:
        return mse(y_true, y_pred)
    if p == 1:
        return poisson_deviance(y_true, y_pred)
    if p == 2:
        return gamma_deviance(y_true, y_pred)
    # For p < 0 sklearn uses max(y, 0) in the first term (y may be negative there).
    y0 = np.maximum(y_true, 0.0) if p < 0 else y_true
    return 2.0 * (
        np.power(y0, 2.0 - p) / ((1.0 - p) * (2.0 - p))
        - y_true * np.power(y_pred, 1.0 - p) / (1.0 - p)
        + np.power(y_pred, 2.0 - p) / (2.0 - p)
    )


def _tweedie_params(name: str, params: Mapping[str, ParamValue]) -> None:
    p = params["power"]
    if isinstance(p, float) and 0 < p < 1:
        raise UsageError(
            f"loss '{name}': parameter 'power' must be <= 0 or >= 1 "
            f"(no Tweedie distribution has 0 < power < 1), got {p:g}."
        )


def _tweedie_check(
    name: str, y_true: np.ndarray, y_pred: np.ndarray, params: Mapping[str, ParamValue]
) -> None:
    p = float(params["power"] or 0.0)
    if p == 0:
        return
    check_mask(
        name,
        "y_pred",
        y_pred,
        y_pred > 0,
        "> 0",
        "Predict a positive mean (e.g. exp of a linear model).",
    )
    if 1 <= p < 2:
        check_mask(
            name, "y_true", y_true, y_true >= 0, ">= 0", f"power={p:g} needs non-negative targets."
        )
    elif p >= 2:
        check_mask(
            name, "y_true", y_true, y_true > 0, "> 0", f"power={p:g} needs positive targets."
        )


_GT_M1 = Domain("> -1", low=-1.0, low_open=True, fix="msle uses log1p; shift the data or use mse.")


def poisson_nll(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    eps: float = 1e-8,
    log_input: float = 0.0,
    full: float = 0.0,
) -> np.ndarray:
    """ŷ - y·log(ŷ + eps), or exp(x) - y·x for a log rate x (``log_input``); ``full`` adds
    Stirling's y log y - y + ½ log(2πy) where y > 1. Ref: torch ``poisson_nll_loss``;
    ``eps=1e-7`` is Keras ``Poisson``."""
    out = np.exp(y_pred) - y_true * y_pred if log_input else y_pred - y_true * np.log(y_pred + eps)
    if full:
        big = y_true > 1
        y = y_true[big]
        out[big] += y * np.log(y) - y + 0.5 * np.log(2.0 * math.pi * y)
    return out


def _abs_target(y_true: np.ndarray) -> np.ndarray:
    """|y_true|."""
    return np.abs(y_true)


def _poisson_nll_check(
    name: str, y_true: np.ndarray, y_pred: np.ndarray, params: Mapping[str, ParamValue]
) -> None:
    if not params["log_input"]:
        fix = "pass the rate (>= 0), or log_input=1 for a log rate"
        check_mask(name, "y_pred", y_pred, y_pred >= 0, "a rate >= 0", fix)


_POS_PRED = Domain("> 0", low=0.0, low_open=True, fix="Deviances need a positive predicted mean.")

_DELTA = Param(
    "delta", 1.0, low=0.0, closed="right", help="Residual size where quadratic turns linear."
)

REGRESSION: tuple[LossSpec, ...] = (
    LossSpec(
        name="mse",
        aliases=("l2",),
        fn=mse,
        task="regression",
        prediction_kind="value",
        formula="r² where r = y_pred - y_true",
        summary="Mean squared error: the default for regression; punishes large errors hard.",
        explain=(
            "The average of the squared residuals, in the squared units of the target. "
            "Squaring makes every error positive and makes a residual twice as large cost "
            "four times as much, so the cost is dominated by the largest errors. Minimising "
            "it gives the conditional mean of the target: the right estimate when the noise "
            "is roughly Gaussian. Its gradient (2r) shrinks as predictions improve, which is "
            "why it trains smoothly."
        ),
        use_when=(
            "Predicting a continuous value where large errors really are much worse than "
            "small ones, the noise is roughly symmetric and there are few gross outliers."
        ),
        watch_out=(
            "Sensitive to outliers: one residual of 100 counts as much as 10,000 residuals "
            "of 1, so a few bad labels can dominate the cost (use huber, mae or log_cosh). "
            "Its units are squared; rmse reports the same ranking in the target's units."
        ),
        see_also=("rmse", "mae", "huber"),
        reference="sklearn mean_squared_error; torch mse_loss",
    ),
    LossSpec(
        name="rmse",
        fn=mse,
        task="regression",
        prediction_kind="value",
        formula="r² per sample; cost = sqrt(weighted mean of r²)",
        summary="Root mean squared error: MSE in the target's units.",
        explain=(
            "The square root of the mean squared error: it ranks models exactly as mse "
            "does, but the number is in the units of the target, so 'off by about 54 on "
            "average, with large misses weighted more' can be read directly. The square "
            "root is taken of the mean, not per sample, so per-sample values are squared "
            "errors and only the cost is an RMSE."
        ),
        use_when="You want mse's behaviour but a number on the target's scale for reports.",
        watch_out=(
            "Same outlier sensitivity as mse. It is not the mean of a per-sample quantity, "
            "so RMSEs of groups do not average to the overall RMSE."
        ),
        see_also=("mse", "mae"),
        finalize="sqrt",
        reference="sklearn root_mean_squared_error",
    ),
    LossSpec(
        name="mae",
        aliases=("l1",),
        fn=mae,
        task="regression",
        prediction_kind="value",
        formula="|r|",
        summary="Mean absolute error (L1): robust to outliers, in the target's units.",
        explain=(
            "The average absolute residual, in the units of the target. Every unit of error "
            "costs the same, however large the residual, so a few wild errors cannot "
            "dominate. Minimising it gives the conditional median rather than the mean. "
            "L1 versus L2: mse grows quadratically, mae linearly."
        ),
        use_when=(
            "The data contain outliers or heavy-tailed noise and a typical error matters "
            "more than the worst one, or the business cost of an error is proportional to it."
        ),
        watch_out=(
            "Its gradient has constant size and is undefined at 0, which makes training with "
            "it slower to settle than with mse or huber. It ignores how large the largest "
            "errors are beyond their linear share."
        ),
        see_also=("mse", "huber", "quantile"),
        robust_to_outliers=True,
        reference="sklearn mean_absolute_error; torch l1_loss",
    ),
    LossSpec(
        name="huber",
        fn=huber,
        task="regression",
        prediction_kind="value",
        params=(_DELTA,),
        formula="0.5 r² if |r| <= delta else delta (|r| - delta/2)",
        summary="Quadratic for small residuals, linear for large ones: MSE with outlier armour.",
        explain=(
            "Huber loss combines mse and mae: residuals up to delta are squared (halved), "
            "larger ones cost linearly, and the two pieces join smoothly at |r| = delta. "
            "Small errors are therefore treated like mse (precise, smooth gradient) and "
            "large errors like mae (bounded influence), so a few outliers cannot take over "
            "the cost. delta is in the target's units: it says from what size on an error "
            "counts as an outlier."
        ),
        use_when=(
            "Regression data with some outliers or gross label errors, where you still want "
            "mse's behaviour for the bulk of the residuals."
        ),
        watch_out=(
            "The cost depends on delta, which must match the scale of the residuals: a delta "
            "far below the typical error makes it ~ delta * mae, far above makes it mse / 2. "
            "A common choice is about 1.35 times a robust residual scale (MAD). "
            "torch's smooth_l1_loss is huber / beta, not the same number."
        ),
        see_also=("smooth_l1", "pseudo_huber", "mse", "mae", "log_cosh"),
        robust_to_outliers=True,
        reference="torch huber_loss; Keras Huber; optax huber_loss",
    ),
    LossSpec(
        name="smooth_l1",
        fn=smooth_l1,
        task="regression",
        prediction_kind="value",
        params=(
            Param(
                "beta",
                1.0,
                low=0.0,
                help="Residual size where quadratic turns linear; 0 gives mae.",
            ),
        ),
        formula="0.5 r²/beta if |r| < beta else |r| - beta/2 (beta = 0: |r|)",
        summary="PyTorch's smooth L1: Huber divided by beta, so the linear part has slope 1.",
        explain=(
            "The same shape as huber, scaled so that the linear part has slope 1 whatever "
            "beta is: smooth_l1(beta) = huber(delta=beta) / beta. It is the box-regression "
            "loss of object detectors (Fast R-CNN) and what torch calls smooth_l1_loss."
        ),
        use_when="You want huber's robustness but costs comparable to mae for large errors.",
        watch_out=(
            "Easy to confuse with huber: for beta != 1 the numbers differ by a factor beta. "
            "beta = 0 is plain mae."
        ),
        see_also=("huber", "mae"),
        robust_to_outliers=True,
        reference="torch smooth_l1_loss",
    ),
    LossSpec(
        name="pseudo_huber",
        fn=pseudo_huber,
        task="regression",
        prediction_kind="value",
        params=(_DELTA,),
        formula="delta² (sqrt(1 + (r/delta)²) - 1)",
        summary="A smooth approximation of Huber, differentiable everywhere.",
        explain=(
            "Behaves like r²/2 for residuals well below delta and like delta |r| for those "
            "well above, with no kink at all: every derivative exists, which some optimisers "
            "(second-order methods, gradient boosting with Hessians) need."
        ),
        use_when="You want huber's robustness with a loss that is smooth everywhere.",
        watch_out=(
            "The transition is gradual, so for residuals near delta it is noticeably below "
            "huber. Like huber, the scale of delta must match the residuals."
        ),
        see_also=("huber", "log_cosh"),
        robust_to_outliers=True,
        reference="textbook form (Charbonnier / pseudo-Huber); no library reference",
    ),
    LossSpec(
        name="log_cosh",
        fn=log_cosh,
        task="regression",
        prediction_kind="value",
        formula="log(cosh(r)), computed as |r| + log1p(exp(-2|r|)) - log 2",
        summary="Smooth, ~r²/2 near 0 and ~|r| - log 2 far out: Huber without a parameter.",
        explain=(
            "The logarithm of the hyperbolic cosine of the residual. Close to 0 it is about "
            "r²/2 (like mse), for large residuals about |r| - log 2 (like mae), and it is "
            "smooth everywhere. It is a robust loss with the transition fixed at |r| ~ 1, "
            "so it needs no delta, but it assumes residuals on a scale where 1 is 'small'."
        ),
        use_when="A parameter-free robust loss for residuals of order 1 (standardised targets).",
        watch_out=(
            "Not scale-invariant: on targets in the thousands almost every residual is in "
            "the linear zone and it behaves like mae. Naive log(cosh(r)) overflows for "
            "|r| > 710; lossctl uses the stable form."
        ),
        see_also=("huber", "pseudo_huber", "mae"),
        robust_to_outliers=True,
        reference="Keras LogCosh; optax log_cosh",
    ),
    LossSpec(
        name="msle",
        fn=msle,
        task="regression",
        prediction_kind="value",
        formula="(log1p(y_pred) - log1p(y_true))²",
        summary="Mean squared log error: relative errors for positive, skewed targets.",
        explain=(
            "The squared difference of log(1 + value): it measures the ratio between "
            "prediction and truth, so predicting 110 for 100 costs about as much as 1,100 "
            "for 1,000. It suits targets that span orders of magnitude (prices, counts, "
            "sales), and punishes under-prediction slightly more than over-prediction."
        ),
        use_when="Positive targets with a long right tail where relative error matters.",
        watch_out=(
            "Values must be > -1 (lossctl refuses others rather than clip). Near 0 the +1 "
            "dominates, so small targets are compared almost absolutely."
        ),
        see_also=("rmsle", "poisson_deviance", "mape"),
        y_true_domain=_GT_M1,
        y_pred_domain=_GT_M1,
        reference="sklearn mean_squared_log_error",
    ),
    LossSpec(
        name="rmsle",
        fn=msle,
        task="regression",
        prediction_kind="value",
        formula="(log1p(y_pred) - log1p(y_true))² per sample; cost = sqrt(weighted mean)",
        summary="Root mean squared log error: MSLE on a log-ratio scale.",
        explain=(
            "The square root of msle, roughly the typical relative error: an RMSLE of 0.1 "
            "means predictions are off by about 10%. A common competition metric for sales "
            "and demand forecasts."
        ),
        use_when="As msle, when you want the number on a log-ratio scale.",
        watch_out="As msle; per-sample values are squared log errors, only the cost is rooted.",
        see_also=("msle",),
        finalize="sqrt",
        y_true_domain=_GT_M1,
        y_pred_domain=_GT_M1,
        reference="sklearn root_mean_squared_log_error",
    ),
    LossSpec(
        name="mape",
        fn=mape,
        task="regression",
        prediction_kind="value",
        formula="|r| / max(|y_true|, eps), eps = float64 machine epsilon",
        summary="Mean absolute percentage error, as a fraction (0.05 = 5%).",
        explain=(
            "The absolute error relative to the true value, averaged. lossctl reports a "
            "fraction, as scikit-learn does: 0.05 means 5%. Scale-free, so errors on series "
            "of different magnitude can be compared."
        ),
        use_when="Positive targets well away from zero where errors are judged relatively.",
        watch_out=(
            "Explodes when a true value is near 0 (divides by max(|y|, 2.2e-16)), and is "
            "asymmetric: over-predictions can cost without bound, under-predictions at most "
            "1. Consider smape or msle instead."
        ),
        see_also=("smape", "wape", "msle", "mae"),
        divides_by_target=True,
        reference="sklearn mean_absolute_percentage_error (a fraction, not percent)",
    ),
    LossSpec(
        name="wape",
        aliases=("wmape",),
        fn=mae,
        task="regression",
        prediction_kind="value",
        formula="|r| per sample; cost = sum(w |r|) / sum(w |y_true|)",
        summary="Weighted absolute percentage error: total absolute error over total volume.",
        explain=(
            "The sum of the absolute errors divided by the sum of the absolute targets, so "
            "a ratio of two sums, not a mean of ratios: a row counts in proportion to its "
            "volume, and a target of 0 adds its error to the top without dividing by 0. "
            "Forecasting calls it WAPE, wMAPE, or the normalised deviation (GluonTS ND); "
            "it equals mae divided by the mean |target|."
        ),
        use_when="Demand and sales forecasts across items of very different volume, with zeros.",
        watch_out=(
            "Dominated by the high-volume rows; a per-row relative error is mape or smape. "
            "Undefined when every target is 0. Per-sample values are the absolute errors; "
            "only the cost is a ratio."
        ),
        see_also=("mape", "smape", "mae"),
        denominator=_abs_target,
        robust_to_outliers=True,
        reference="hand-worked; = GluonTS ND, utilsforecast wape",
    ),
    LossSpec(
        name="smape",
        fn=smape,
        task="regression",
        prediction_kind="value",
        formula="2|r| / (|y_true| + |y_pred|), 0 where both are 0; range [0, 2]",
        summary="Symmetric MAPE in [0, 2]: relative error against the mean magnitude.",
        explain=(
            "The absolute error divided by the average magnitude of truth and prediction. "
            "Bounded in [0, 2] and defined when the target is 0 (as long as the prediction "
            "is not also 0, where the loss is 0). The forecasting competitions' sMAPE "
            "divided by 100."
        ),
        use_when="Forecast accuracy across series of different scale, with zeros present.",
        watch_out=(
            "Not symmetric in practice: for the same |r|, under-predictions cost more than "
            "over-predictions. A prediction of 0 for any non-zero target costs the maximum 2."
        ),
        see_also=("mape", "mae"),
        robust_to_outliers=True,
        reference="M4 competition sMAPE / 100",
    ),
    LossSpec(
        name="quantile",
        aliases=("pinball",),
        fn=quantile,
        task="regression",
        prediction_kind="value",
        params=(
            Param(
                "alpha",
                0.5,
                low=0.0,
                high=1.0,
                closed="neither",
                help="Target quantile; 0.9 = the 90th percentile.",
            ),
        ),
        formula="alpha max(-r, 0) + (1 - alpha) max(r, 0)",
        summary="Pinball loss: scores a predicted quantile (alpha = 0.9 for a P90 forecast).",
        explain=(
            "Under-prediction costs alpha per unit, over-prediction 1 - alpha, so the loss "
            "is minimised by the alpha-quantile of the target. alpha = 0.5 is half the mae. "
            "It is how prediction intervals and P10/P90 forecasts are evaluated."
        ),
        use_when="The model predicts a quantile, or under- and over-prediction cost differently.",
        watch_out="Compare models only at the same alpha; the loss of a P90 is not that of a P50.",
        see_also=("mae",),
        robust_to_outliers=True,
        reference="sklearn mean_pinball_loss",
    ),
    LossSpec(
        name="poisson_deviance",
        fn=poisson_deviance,
        task="regression",
        prediction_kind="value",
        formula="2 (y log(y / y_pred) - y + y_pred), with 0 log 0 = 0",
        summary="Poisson deviance: for counts and rates predicted as a positive mean.",
        explain=(
            "Twice the log-likelihood gap between the model's Poisson distribution and a "
            "perfect fit. Errors are judged relative to the predicted mean (variance equals "
            "mean), which is right for counts: claims, clicks, visits."
        ),
        use_when="Non-negative count targets, predictions of their expected value.",
        watch_out="Predictions must be > 0 and targets >= 0; a prediction of 0 is an error.",
        see_also=("gamma_deviance", "tweedie_deviance", "msle"),
        y_true_domain=Domain(">= 0", low=0.0, fix="Poisson deviance needs non-negative targets."),
        y_pred_domain=_POS_PRED,
        reference="sklearn mean_poisson_deviance",
    ),
    LossSpec(
        name="poisson_nll",
        fn=poisson_nll,
        task="regression",
        prediction_kind="value",
        params=(
            Param("eps", 1e-8, low=0.0, help="Added to the rate inside the log (torch's eps)."),
            Param("log_input", 0.0, low=0.0, high=1.0, help="1: the prediction is the log rate."),
            Param("full", 0.0, low=0.0, high=1.0, help="1 adds Stirling's log(y!) term."),
        ),
        formula="rate - y log(rate + eps); log_input=1: exp(x) - y x",
        summary="Poisson negative log-likelihood of a predicted rate (torch, Keras Poisson).",
        explain=(
            "Minus the Poisson log-likelihood of the count y under the predicted rate, "
            "without the log(y!) term that no prediction changes (full=1 adds Stirling's "
            "approximation of it). It ranks models exactly as poisson_deviance does, since "
            "the two differ by terms of y alone, but it is the number torch and Keras "
            "report. log_input=1 scores a model that outputs the log rate, as a GLM's "
            "linear predictor does."
        ),
        use_when="Count targets and the loss a network was trained with (torch, Keras).",
        watch_out=(
            "Not 0 for a perfect prediction; compare its values only with each other. "
            "torch's default is log_input=True; lossctl's is log_input=0 (a rate)."
        ),
        see_also=("poisson_deviance", "tweedie_deviance"),
        y_true_domain=Domain(">= 0", low=0.0, fix="Poisson losses need non-negative counts."),
        check=_poisson_nll_check,
        zero_at_perfect=False,
        reference="torch poisson_nll_loss; eps=1e-7 = Keras Poisson",
    ),
    LossSpec(
        name="gamma_deviance",
        fn=gamma_deviance,
        task="regression",
        prediction_kind="value",
        formula="2 (log(y_pred / y) + y / y_pred - 1)",
        summary="Gamma deviance: for positive, right-skewed amounts; purely relative errors.",
        explain=(
            "The deviance of a Gamma model, where the spread grows with the mean: it depends "
            "only on the ratio y / y_pred, so being 10% off costs the same at 10 and at "
            "10,000. Used for claim severities, durations, prices."
        ),
        use_when="Strictly positive, skewed targets where relative error matters.",
        watch_out="Targets and predictions must both be > 0.",
        see_also=("poisson_deviance", "tweedie_deviance", "msle"),
        y_true_domain=Domain(
            "> 0", low=0.0, low_open=True, fix="Gamma deviance needs positive targets."
        ),
        y_pred_domain=_POS_PRED,
        reference="sklearn mean_gamma_deviance",
    ),
    LossSpec(
        name="tweedie_deviance",
        fn=tweedie_deviance,
        task="regression",
        prediction_kind="value",
        params=(
            Param(
                "power",
                0.0,
                help="Variance power: 0 normal, 1 Poisson, (1,2) compound Poisson-Gamma, 2 Gamma.",
            ),
        ),
        formula="scikit-learn's unit Tweedie deviance (power 0 = r², 1 = Poisson, 2 = Gamma)",
        summary="Tweedie deviance: one family from squared error to Poisson and Gamma.",
        explain=(
            "A family of deviances indexed by the variance power p (variance ~ mean^p). "
            "p = 0 is squared error, 1 Poisson, 2 Gamma, 3 inverse Gaussian; 1 < p < 2 models "
            "non-negative data with exact zeros and a continuous positive part, such as "
            "insurance losses per policy."
        ),
        use_when="Zero-inflated positive amounts (1 < power < 2), or to match a GLM's family.",
        watch_out=(
            "0 < power < 1 is invalid. The domain depends on power: p < 0 or >= 1 needs "
            "y_pred > 0; 1 <= p < 2 needs y_true >= 0; p >= 2 needs y_true > 0."
        ),
        see_also=("poisson_deviance", "gamma_deviance", "mse"),
        check=_tweedie_check,
        check_params=_tweedie_params,
        reference="sklearn mean_tweedie_deviance",
    ),
)
