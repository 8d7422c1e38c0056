"""Measurements that decide nothing: worst rows, ranks, tails, variance growth, levels."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from lossctl.core.stats import MAD_TO_SD
from lossctl.flows.recommend.thresholds import (
    CONFIDENT,
    OUTLIER_SDS,
    TOP_MIN,
    TOP_SHARE,
    VARIANCE_BINS,
    VARIANCE_MIN_ROWS,
    VARIANCE_SPAN,
)


def top_k(n: int) -> int:
    """How many worst rows to compare: 1% of the rows, at least 5 (at most all)."""
    return min(n, max(TOP_MIN, math.ceil(TOP_SHARE * n)))


def _worst(values: np.ndarray, k: int) -> np.ndarray:
    """Mask of the worst rows: the k largest values, plus rows tied with the k-th.

    A loss of 0 is never among the worst (hinge is 0 for every row beyond the
    margin: those rows are the best, not tied worst).
    """
    if values.size == 0:
        return np.zeros(0, dtype=bool)
    kth = np.partition(values, values.size - k)[values.size - k]
    mask = values >= kth
    if kth <= 0:
        mask &= values > 0
    return mask


def _ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks (1 = smallest; ties share their mean place) and ranks from the
    worst (1 = largest; ties share their best place), from one sort.

    The same numbers as ``scipy.stats.rankdata(values)`` and
    ``rankdata(-values, method="min")``, several times faster on millions of rows
    because ties are found after an unstable sort.
    """
    n = values.shape[0]
    order = np.argsort(values)
    sorted_values = values[order]
    starts_group = np.empty(n, dtype=bool)
    starts_group[:1] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=starts_group[1:])
    group = np.cumsum(starts_group) - 1
    starts = np.flatnonzero(starts_group)
    ends = np.append(starts[1:], n)  # one past the last position of each tie group
    average = np.empty(n, dtype=np.float64)
    average[order] = ((starts + ends + 1) / 2.0)[group]
    from_worst = np.empty(n, dtype=np.int64)
    from_worst[order] = (n - ends + 1)[group]
    return average, from_worst


def _spearman(ra: np.ndarray, rb: np.ndarray) -> float | None:
    """Spearman rank correlation from average ranks; None when one side is constant."""
    if np.ptp(ra) == 0 or np.ptp(rb) == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def _top_share(values: np.ndarray, weight: np.ndarray | None, k: int) -> float:
    """Share of the (weighted) loss sum carried by the k worst rows."""
    contrib = values if weight is None else values * weight
    total = float(contrib.sum())
    if total <= 0:
        return 0.0
    return float(contrib[_worst(values, k)].sum()) / total


def _carried(values: np.ndarray, rows: np.ndarray) -> float:
    """Share of the (unweighted) sum of ``values`` carried by ``rows`` (0 when the sum is 0)."""
    total = float(values.sum())
    return float(values[rows].sum()) / total if total > 0 else 0.0


# Moments and a tail probability computed here rather than by scipy.stats, whose import
# (about 0.5 s) would be most of a small file's run. tests/test_recommend_claims.py checks
# them against scipy.stats.skew, kurtosis and poisson.sf.


def _central_moments(x: np.ndarray) -> tuple[float, float, float, float]:
    """Mean and the biased central moments m2, m3, m4 (as scipy.stats.moment computes them)."""
    mean = float(x.mean())
    d = x - mean
    d2 = d * d
    return mean, float(d2.mean()), float((d2 * d).mean()), float((d2 * d2).mean())


def _too_flat(mean: float, m2: float) -> bool:
    """True where scipy returns NaN: the variance is lost in the precision of the mean."""
    return m2 <= (float(np.finfo(np.float64).resolution) * mean) ** 2


def skewness(x: np.ndarray) -> float:
    """Sample skewness m3 / m2^1.5: ``scipy.stats.skew(x)`` (biased, the default)."""
    mean, m2, m3, _ = _central_moments(x)
    return math.nan if _too_flat(mean, m2) else m3 / m2**1.5


def excess_kurtosis(x: np.ndarray) -> float:
    """Excess kurtosis m4 / m2^2 - 3: ``scipy.stats.kurtosis(x)`` (Fisher, biased)."""
    mean, m2, _, m4 = _central_moments(x)
    return math.nan if _too_flat(mean, m2) else m4 / (m2 * m2) - 3.0


def poisson_tail(k: int, mu: float) -> float:
    """P(X >= k) for X ~ Poisson(mu), k >= 1: ``scipy.stats.poisson.sf(k - 1, mu)``.

    It is the regularized lower incomplete gamma function P(k, mu), by its series
    where mu < k + 1 and by the continued fraction of its complement elsewhere
    (Numerical Recipes, 3rd ed., section 6.2): within 1e-12 of scipy for counts below
    10,000; at 100,000 the rounding of k log(mu) leaves about 4e-10.
    """
    if mu <= 0:
        return 0.0
    log_front = k * math.log(mu) - mu - math.lgamma(k)
    if mu < k + 1:
        term = total = 1.0 / k
        a = float(k)
        while abs(term) > abs(total) * 1e-16:
            a += 1.0
            term *= mu / a
            total += term
        return min(1.0, total * math.exp(log_front))
    tiny = 1e-300
    b = mu + 1.0 - k
    c, d = 1.0 / tiny, 1.0 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - k)
        b += 2.0
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return max(0.0, 1.0 - math.exp(log_front) * h)


def _overconfidence(conf: np.ndarray, wrong: np.ndarray) -> tuple[int, float, float]:
    """Confident mistakes, how many calibrated probabilities would give, and the tail p.

    Among rows predicted with probability >= CONFIDENT, a calibrated model is wrong
    with probability 1 - conf, so the expected number of confident mistakes is
    sum(1 - conf); the observed count is compared with a Poisson tail.
    """
    confident = conf >= CONFIDENT
    observed = int((confident & wrong).sum())
    expected = float((1.0 - conf[confident]).sum())
    if observed == 0:
        p = 1.0
    elif expected <= 0:
        p = 0.0
    else:
        p = poisson_tail(observed, expected)
    return observed, expected, p


def _gaussian_top_share(q: float) -> float:
    """Share of E[r^2] carried by the q most extreme rows of Gaussian residuals.

    With c the two-sided (1 - q) quantile of |Z|: E[Z^2 1{|Z| > c}] = 2 c phi(c) + q.
    """
    if q >= 1:
        return 1.0
    c = NormalDist().inv_cdf(1 - q / 2)
    return float(min(1.0, 2 * c * NormalDist().pdf(c) + q))


def _variance_growth(p: np.ndarray, sq: np.ndarray) -> tuple[float, float, float, float, float]:
    """How the squared residuals grow with the prediction.

    Rows sorted by prediction (stable) are cut into ``VARIANCE_BINS`` equal parts;
    the slope of log(mean squared residual) on log(mean prediction) over the parts
    is the power of the variance function: 0 constant noise, 1 Poisson, 2 Gamma.
    Returns (power, mean sq. residual and mean prediction of the lowest part, and of
    the highest); NaN where it cannot be measured (predictions <= 0, fewer than
    ``VARIANCE_MIN_ROWS`` rows, a prediction range below ``VARIANCE_SPAN``).
    """
    nan = math.nan
    if p.shape[0] < VARIANCE_MIN_ROWS or float(p.min()) <= 0:
        return nan, nan, nan, nan, nan
    parts = np.array_split(np.argsort(p, kind="stable"), VARIANCE_BINS)
    mp = np.array([p[i].mean() for i in parts])
    ms = np.array([sq[i].mean() for i in parts])
    if mp[-1] < VARIANCE_SPAN * mp[0] or not (ms > 0).all():
        return nan, float(ms[0]), float(mp[0]), float(ms[-1]), float(mp[-1])
    power = float(np.polyfit(np.log(mp), np.log(ms), 1)[0])
    return power, float(ms[0]), float(mp[0]), float(ms[-1]), float(mp[-1])


def _tails(z: np.ndarray) -> tuple[float, int, float]:
    """Share and count of values beyond 3 robust SDs from their median, and excess kurtosis."""
    med = float(np.median(z))
    dev = np.abs(z - med)
    s = MAD_TO_SD * float(np.median(dev))
    count = int((dev > OUTLIER_SDS * s).sum()) if s > 0 else 0
    kurt = excess_kurtosis(z) if z.shape[0] >= 4 and float(z.std()) > 0 else math.nan
    return (count / z.shape[0] if s > 0 else math.nan), count, kurt


def _huber_mean(r: np.ndarray, delta: float) -> float:
    """Mean huber loss of residuals r: 0.5 r^2 within delta, delta (|r| - delta / 2) beyond."""
    a = np.abs(r)
    return float(np.mean(np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))))
