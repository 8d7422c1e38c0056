"""What a regression sample measures (residuals, target, constant shifts), stated as facts.

Nothing here decides: the rules that read these numbers are in :mod:`.regression`.
"""

from __future__ import annotations

import math

import numpy as np

from lossctl.core.stats import MAD_TO_SD
from lossctl.flows.recommend.facts import (
    _gaussian_top_share,
    _huber_mean,
    _ranks,
    _spearman,
    _top_share,
    _variance_growth,
    excess_kurtosis,
    skewness,
    top_k,
)
from lossctl.flows.recommend.findings import _Findings
from lossctl.flows.recommend.prose import UNWEIGHTED, pct, round_sig
from lossctl.flows.recommend.sample import Sample
from lossctl.flows.recommend.thresholds import HUBER_K, OUTLIER_SDS, VARIANCE_BINS
from lossctl.inputs.columns import quantile_level


class _Residuals:
    """The measurements of a regression sample, unweighted (``r = prediction - target``).

    Each attribute is one fact of :func:`_residual_facts` (same name or close), or an
    array the rules and notes need again.
    """

    # The rows.
    y: np.ndarray
    p: np.ndarray
    r: np.ndarray
    n: int
    #: " (unweighted, like every fact)" when the file has weights, else "".
    weighted: str
    # Centre, spread and tails of the residuals.
    med: float
    mean_r: float
    sigma: float
    sigma_source: str
    sd: float
    se: float
    n_out: int
    out_share: float
    kurt: float
    r_skew: float
    rel_kurt: float
    # The target and the predictions.
    y_min: float
    y_max: float
    y_mean: float
    y_median: float
    y_skew: float
    integers: bool
    zero_share: float
    p_min: float
    over_share: float
    corr: float
    # How the squared residuals grow with the prediction (see _variance_growth).
    power: float
    low_sq: float
    low_p: float
    high_sq: float
    high_p: float
    # The size of the errors.
    med_abs: float
    rel: float
    small: np.ndarray
    small_share: float
    k: int
    mse_top: float
    gauss_top: float
    delta: float
    within: float
    # What a constant shift does: by the mean residual (the shift that minimises mse)
    # and by the median residual (the one that minimises mae). Unweighted, like the facts.
    mse0: float
    mae0: float
    mse_mean_shift: float
    mae_median_shift: float
    mse_median_shift: float
    huber0: float
    huber_median_shift: float
    mse_gain: float
    # The quantile the prediction column's name claims, and its coverage.
    pred_name: str
    level: float | None
    coverage: float

    def __init__(self, sample: Sample) -> None:
        self.y, self.p = sample.y_true, sample.y_pred
        self.n = sample.n
        self.r = self.p - self.y
        self.weighted = UNWEIGHTED if sample.weight is not None else ""
        self._spread()
        self._target()
        self.power, self.low_sq, self.low_p, self.high_sq, self.high_p = _variance_growth(
            self.p, self.r * self.r
        )
        self._size(sample.weight)
        self._shifts()
        self.pred_name = sample.columns.pred[0] if sample.columns.pred else ""
        self.level = quantile_level(self.pred_name)
        self.coverage = float(np.mean(self.y <= self.p)) if self.level is not None else math.nan

    def _spread(self) -> None:
        """Centre, robust SD, outliers, kurtosis and skewness of the residuals."""
        r, p, n = self.r, self.p, self.n
        self.med = float(np.median(r))
        self.mean_r = float(np.mean(r))
        dev = np.abs(r - self.med)
        self.sigma = MAD_TO_SD * float(np.median(dev))
        self.sigma_source = "1.4826 × MAD"
        if self.sigma == 0 and dev.any():
            # More than half the residuals equal the median: the MAD is 0. The mean
            # absolute deviation times sqrt(pi/2) is the SD for Gaussian data, too.
            self.sigma = math.sqrt(math.pi / 2) * float(dev.mean())
            self.sigma_source = "1.2533 × mean absolute deviation (the MAD is 0)"
        self.sd = float(r.std())
        self.se = self.sd / math.sqrt(n)
        sigma = self.sigma
        outliers = dev > OUTLIER_SDS * sigma if sigma > 0 else np.zeros(n, dtype=bool)
        self.n_out = int(outliers.sum())
        self.out_share = self.n_out / n
        self.kurt = excess_kurtosis(r) if n >= 4 and self.sd > 0 else math.nan
        self.r_skew = skewness(r) if n >= 3 and self.sd > 0 else math.nan
        self.rel_kurt = math.nan
        if float(p.min()) > 0 and n >= 4:
            ratio = r / p
            if float(ratio.std()) > 0:
                self.rel_kurt = excess_kurtosis(ratio)

    def _target(self) -> None:
        """The target's range, shape and zeros; the predictions; |residual| against y."""
        y, p, n = self.y, self.p, self.n
        self.y_skew = skewness(y) if n >= 3 and float(np.ptp(y)) > 0 else math.nan
        abs_r = np.abs(self.r)
        self.corr = math.nan
        if n >= 3 and np.ptp(abs_r) > 0 and np.ptp(y) > 0:
            rho = _spearman(_ranks(abs_r)[0], _ranks(y)[0])
            self.corr = math.nan if rho is None else rho
        self.y_min, self.y_max, self.p_min = float(y.min()), float(y.max()), float(p.min())
        self.y_mean, self.y_median = float(np.mean(y)), float(np.median(y))
        self.integers = bool(np.all(y == np.round(y)))
        self.zero_share = float(np.mean(y == 0))
        self.over_share = float(np.mean(self.r > 0))

    def _size(self, weight: np.ndarray | None) -> None:
        """The typical error, absolute and relative; what the worst rows carry; huber's delta."""
        y, n = self.y, self.n
        abs_r = np.abs(self.r)
        self.med_abs = float(np.median(abs_r))
        nonzero = y != 0
        self.rel = (
            float(np.median(abs_r[nonzero] / np.abs(y[nonzero]))) if nonzero.any() else math.nan
        )
        self.small = np.abs(y) < self.med_abs
        self.small_share = float(self.small.mean())
        self.delta = round_sig(HUBER_K * self.sigma) if self.sigma > 0 else 1.0
        self.within = float(np.mean(abs_r <= self.delta))
        self.k = top_k(n)
        self.mse_top = _top_share(self.r * self.r, weight, self.k)
        self.gauss_top = _gaussian_top_share(self.k / n)

    def _shifts(self) -> None:
        """mse, mae and huber as they are, and after subtracting the mean or median residual."""
        r, med = self.r, self.med
        self.mse0 = float(np.mean(r * r))
        self.mae0 = float(np.mean(np.abs(r)))
        self.mse_mean_shift = float(np.mean((r - self.mean_r) ** 2))
        self.mae_median_shift = float(np.mean(np.abs(r - med)))
        self.mse_median_shift = float(np.mean((r - med) ** 2))
        self.huber0 = _huber_mean(r, self.delta)
        self.huber_median_shift = _huber_mean(r - med, self.delta)
        mse0 = self.mse0
        self.mse_gain = (mse0 - self.mse_mean_shift) / mse0 if mse0 > 0 else 0.0


def _residual_facts(out: _Findings, m: _Residuals) -> None:
    """The measured facts, in the order the report lists them."""
    _spread_facts(out, m)
    _target_facts(out, m)
    _size_facts(out, m)


def _spread_facts(out: _Findings, m: _Residuals) -> None:
    """Rows used; centre, spread and tails of the residuals."""
    out.fact("n_used", m.n, "rows used", "count")
    out.fact(
        "residual_median", m.med,
        "median residual (prediction - target): the typical row's error; not the bias "
        "(residual_mean is), and far from 0 for a mean forecast of a skewed target",
    )  # fmt: skip
    out.fact(
        "residual_mean", m.mean_r,
        "mean residual (prediction - target): the bias; subtracting it minimises mse",
    )  # fmt: skip
    out.fact("residual_mean_se", m.se, "standard error of the mean residual: SD / sqrt(rows)")
    out.fact(
        "residual_robust_sd", m.sigma,
        f"robust SD of the residuals ({m.sigma_source}): their SD if they were Gaussian, "
        "barely moved by outliers",
    )  # fmt: skip
    out.fact(
        "residual_sd",
        m.sd,
        "plain SD of the residuals; far above the robust SD = a few huge errors",
    )
    out.fact(
        "outlier_share", m.out_share,
        "share of residuals beyond 3 robust SDs from the median (Gaussian: 0.27%)", "share",
    )  # fmt: skip
    out.fact("outlier_count", m.n_out, "rows beyond 3 robust SDs", "count")
    out.fact(
        "residual_excess_kurtosis", m.kurt,
        "tail heaviness of the residuals (Gaussian 0, Laplace 3)",
    )  # fmt: skip
    out.fact("residual_skew", m.r_skew, "skewness of the residuals (Gaussian 0)")
    out.fact(
        "relative_residual_excess_kurtosis", m.rel_kurt,
        "excess kurtosis of residual / prediction (predictions > 0 only)",
    )  # fmt: skip


def _target_facts(out: _Findings, m: _Residuals) -> None:
    """The target, the predictions, and how the errors grow with them."""
    out.fact("target_min", m.y_min, "smallest target")
    out.fact("target_max", m.y_max, "largest target")
    out.fact("target_mean", m.y_mean, "mean target")
    out.fact("target_median", m.y_median, "median target (below the mean when right-skewed)")
    out.fact("target_skew", m.y_skew, "skewness of the target (0 symmetric, > 1 right-skewed)")
    out.fact("target_integer", m.integers, "every target is a whole number (counts?)", "text")
    out.fact("target_zero_share", m.zero_share, "share of targets exactly 0", "share")
    out.fact("prediction_min", m.p_min, "smallest prediction (deviances need > 0)")
    out.fact(
        "over_prediction_share", m.over_share, "share of predictions above their target", "share"
    )
    out.fact(
        "error_target_correlation", m.corr,
        "rank correlation of |residual| with the target (>= 0.3: errors grow with it)",
    )  # fmt: skip
    out.fact(
        "variance_power", m.power,
        f"slope of log(mean squared residual) on log(mean prediction) over {VARIANCE_BINS} "
        "equal parts of the rows sorted by prediction: 0 constant noise, 1 Poisson, 2 Gamma",
    )  # fmt: skip
    out.fact(
        "variance_low_sq_error", m.low_sq,
        f"mean squared residual of the 1/{VARIANCE_BINS} of rows with the lowest predictions",
    )  # fmt: skip
    out.fact("variance_low_prediction", m.low_p, "their mean prediction")
    out.fact(
        "variance_high_sq_error", m.high_sq,
        f"mean squared residual of the 1/{VARIANCE_BINS} of rows with the highest predictions",
    )  # fmt: skip
    out.fact("variance_high_prediction", m.high_p, "their mean prediction")


def _size_facts(out: _Findings, m: _Residuals) -> None:
    """The size of the errors, huber's delta, the shifts and the quantile column."""
    k, n = m.k, m.n
    out.fact("abs_error_median", m.med_abs, "median |residual|: the typical error")
    out.fact(
        "relative_error_median", m.rel,
        "median |residual| / |target| (rows with target 0 left out)", "share",
    )  # fmt: skip
    out.fact(
        "small_target_share", m.small_share,
        "share of rows whose |target| is below the typical error (mape explodes there)", "share",
    )  # fmt: skip
    out.fact(
        "mse_top_share", m.mse_top,
        f"share of the mse carried by the worst {k} rows ({pct(k / n)} of the rows)", "share",
    )  # fmt: skip
    out.fact(
        "mse_top_share_gaussian", m.gauss_top,
        f"the same share for Gaussian residuals (the worst {pct(k / n)} of the rows)", "share",
    )  # fmt: skip
    out.fact("huber_delta", m.delta, "suggested huber delta: 1.345 × robust SD, 3 digits")
    out.fact(
        "huber_within_delta_share", m.within,
        "share of residuals with |residual| <= delta (where huber is mse / 2)", "share",
    )  # fmt: skip
    out.fact(
        "mse_after_mean_shift", m.mse_mean_shift,
        "unweighted mse after subtracting the mean residual from every prediction",
    )  # fmt: skip
    out.fact(
        "mae_after_median_shift", m.mae_median_shift,
        "unweighted mae after subtracting the median residual from every prediction",
    )  # fmt: skip
    out.fact(
        "mse_after_median_shift", m.mse_median_shift,
        "unweighted mse after subtracting the median residual from every prediction",
    )  # fmt: skip
    out.fact(
        "quantile_level", m.level,
        "the quantile the prediction column's name says it holds (q90 = 0.9)",
    )  # fmt: skip
    out.fact(
        "quantile_coverage", m.coverage,
        "share of rows with target <= prediction (a calibrated quantile: its level)", "share",
    )  # fmt: skip
