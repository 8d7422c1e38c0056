"""Paired statistics: agreement with scipy, coverage, Holm, edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from lossctl.core import stats


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    a = rng.gamma(2.0, 1.0, 300)
    b = a + rng.normal(0.1, 0.5, 300)
    return a, b


def test_identical_models(pair):
    a, _ = pair
    r = stats.bootstrap(a, a.copy(), resamples=500, seed=0)
    assert r.delta == 0 and r.ci == (0.0, 0.0) and r.p_value == 1.0
    assert stats.win_rate(a, a) == 0.5


def test_bootstrap_is_reproducible_and_seed_dependent(pair):
    a, b = pair
    r1 = stats.bootstrap(a, b, resamples=400, seed=3)
    r2 = stats.bootstrap(a, b, resamples=400, seed=3)
    r3 = stats.bootstrap(a, b, resamples=400, seed=4)
    assert r1 == r2
    assert r1.ci != r3.ci


def test_bootstrap_p_value_floor_and_sign(pair):
    a, _ = pair
    b = a + 1.0  # always worse by exactly 1
    r = stats.bootstrap(a, b, resamples=99, seed=0)
    assert r.delta == pytest.approx(1.0)
    assert r.p_value == pytest.approx(2 / 100)  # +1 correction: p >= 1/(B+1), two-sided
    assert r.ci[0] > 0


def test_bootstrap_interval_agrees_with_scipy(pair):
    # Different random streams, so compare the percentile intervals to Monte Carlo precision.
    a, b = pair
    ours = stats.bootstrap(a, b, resamples=4000, seed=0)
    ref = sps.bootstrap(
        (b - a,), np.mean, n_resamples=4000, method="percentile", rng=np.random.default_rng(1)
    )
    width = ref.confidence_interval.high - ref.confidence_interval.low
    assert ours.ci[0] == pytest.approx(ref.confidence_interval.low, abs=0.08 * width)
    assert ours.ci[1] == pytest.approx(ref.confidence_interval.high, abs=0.08 * width)


def test_bootstrap_spans_several_blocks(monkeypatch):
    # Blocks smaller than n exercise the multinomial split over blocks.
    rng = np.random.default_rng(5)
    a = rng.normal(0, 1, 1000)
    b = a + rng.normal(0.05, 1, 1000)
    full = stats.bootstrap(a, b, resamples=2000, seed=0)
    monkeypatch.setattr(stats, "BLOCK", 64)
    monkeypatch.setattr(stats, "PER_CALL", 500)
    blocked = stats.bootstrap(a, b, resamples=2000, seed=0)
    se = np.std(b - a) / np.sqrt(1000)
    assert blocked.ci[0] == pytest.approx(full.ci[0], abs=0.3 * se)
    assert blocked.ci[1] == pytest.approx(full.ci[1], abs=0.3 * se)


def test_bootstrap_of_finalized_cost_resamples_the_rmse():
    rng = np.random.default_rng(2)
    a = rng.normal(0, 1, 400) ** 2
    b = rng.normal(0, 1.2, 400) ** 2
    r = stats.bootstrap(a, b, None, math.sqrt, resamples=2000, seed=0)
    assert r.delta == pytest.approx(math.sqrt(b.mean()) - math.sqrt(a.mean()))
    # A plain loop over the same kind of resamples: the CI is of the RMSE difference.
    g = np.random.default_rng(9)
    loop = []
    for _ in range(2000):
        i = g.integers(0, 400, 400)
        loop.append(math.sqrt(b[i].mean()) - math.sqrt(a[i].mean()))
    lo, hi = np.quantile(loop, [0.025, 0.975])
    assert r.ci[0] == pytest.approx(lo, abs=0.05) and r.ci[1] == pytest.approx(hi, abs=0.05)


def test_weighted_bootstrap_delta():
    rng = np.random.default_rng(4)
    a, b, w = rng.uniform(0, 1, 200), rng.uniform(0, 1, 200), rng.uniform(0, 2, 200)
    r = stats.bootstrap(a, b, w, resamples=300, seed=0)
    assert r.delta == pytest.approx(np.average(b, weights=w) - np.average(a, weights=w))
    assert r.ci[0] <= r.delta <= r.ci[1]


def test_bootstrap_coverage_by_simulation():
    # 95% percentile intervals cover the true mean difference in 93-97% of draws.
    true_delta = 0.2
    covered = 0
    reps = 400
    for rep in range(reps):
        rng = np.random.default_rng(1000 + rep)
        a = rng.normal(1.0, 1.0, 200)
        b = a + rng.normal(true_delta, 1.0, 200)
        lo, hi = stats.bootstrap(a, b, resamples=1000, seed=rep).ci
        covered += lo <= true_delta <= hi
    assert 0.93 <= covered / reps <= 0.97


def test_ttest_equals_scipy(pair):
    a, b = pair
    r = stats.ttest(a, b)
    ref = sps.ttest_rel(b, a)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    ci = ref.confidence_interval(0.95)
    assert r.ci == pytest.approx((ci.low, ci.high), rel=1e-12)


def test_wilcoxon_equals_scipy(pair):
    a, b = pair
    assert stats.wilcoxon(a, b).p_value == pytest.approx(sps.wilcoxon(b - a).pvalue, rel=1e-12)


def test_permutation_equals_scipy(pair):
    a, b = pair
    r = stats.permutation(a, b, resamples=999, seed=7)

    def statistic(x, y, axis=-1):
        return np.mean(y, axis=axis) - np.mean(x, axis=axis)

    ref = sps.permutation_test(
        (a, b),
        statistic,
        permutation_type="samples",
        vectorized=True,
        n_resamples=999,
        rng=np.random.default_rng(7),
    )
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-12)


def test_mcnemar_equals_scipy_binomtest():
    a = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 1], dtype=float)
    b = np.array([0, 0, 0, 0, 1, 1, 0, 0, 0, 0], dtype=float)
    # Discordant: a wrong & b right = 5, b wrong & a right = 1.
    r = stats.mcnemar(a, b)
    assert r.p_value == pytest.approx(sps.binomtest(1, 6, 0.5).pvalue, rel=1e-12)
    assert r.delta == pytest.approx(b.mean() - a.mean())
    assert stats.mcnemar(a, a).p_value == 1.0


def test_dm_with_horizon_one_is_the_paired_t_test(pair):
    # With h = 1 the HLN-corrected DM statistic equals the paired t statistic.
    a, b = pair
    assert stats.diebold_mariano(a, b).p_value == pytest.approx(
        sps.ttest_rel(b, a).pvalue, rel=1e-10
    )


def test_dm_hac_variance_by_hand():
    rng = np.random.default_rng(11)
    e = rng.normal(0, 1, 501)
    d = 0.1 + e[1:] + 0.6 * e[:-1]  # MA(1) loss differential: horizon 2
    a, b = np.zeros(500), d
    n, h = 500, 2
    z = d - d.mean()
    v = (z @ z + 2 * (z[1:] @ z[:-1])) / n
    stat = d.mean() / math.sqrt(v / n) * math.sqrt((n + 1 - 2 * h + h * (h - 1) / n) / n)
    expected = 2 * sps.t.sf(abs(stat), n - 1)
    assert stats.diebold_mariano(a, b, horizon=2).p_value == pytest.approx(expected, rel=1e-12)


def test_holm_hand_worked():
    # p = (0.01, 0.04, 0.03, 0.005): sorted 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06,
    # 0.04*1 = 0.04 -> monotone 0.06. Back in input order: 0.03, 0.06, 0.06, 0.02.
    assert stats.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert stats.holm([0.5]) == [0.5]
    assert stats.holm([None, 0.2, 0.6]) == [None, 0.4, 0.6]
    assert stats.holm([0.9, 0.8]) == [1.0, 1.0]


def test_win_rate_ties_half_and_weights():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([0.5, 2.0, 4.0, 4.0])
    assert stats.win_rate(a, b) == pytest.approx((1 + 0.5 + 0 + 0.5) / 4)
    assert stats.win_rate(a, b, np.array([2.0, 0, 0, 0])) == 1.0


def test_bootstrap_memory_is_bounded():
    # 200k rows x 2000 resamples would be 3.2 GB as an index matrix; this must stay small.
    import tracemalloc

    rng = np.random.default_rng(0)
    a = rng.normal(size=200_000)
    b = a + rng.normal(size=200_000)
    tracemalloc.start()
    stats.bootstrap(a, b, resamples=2000, seed=0)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 150 * 2**20


def _pairs(n: int, seed: int = 8):
    rng = np.random.default_rng(seed)
    a, b, c = rng.gamma(2.0, 1.0, (3, n))
    w = rng.uniform(0.5, 2.0, n)
    return [(a, b, None, None), (a, c, w, None), (a, b, None, math.sqrt), (b, c, w, math.sqrt)]


@pytest.mark.parametrize("n", [300, 70_000])  # one small block; a full block and a partial
def test_bootstrap_many_equals_each_pair_alone_to_the_last_bit(n):
    pairs = _pairs(n)
    many = stats.bootstrap_many(pairs, resamples=300, seed=4)
    alone = [stats.bootstrap(a, b, w, f, resamples=300, seed=4) for a, b, w, f in pairs]
    assert many == alone
    # Any subset of the columns sums the same: the last pair with the first, or alone.
    assert stats.bootstrap_many([pairs[3], pairs[0]], resamples=300, seed=4) == [
        alone[3],
        alone[0],
    ]


def test_bootstrap_does_not_depend_on_the_threads(monkeypatch):
    pairs = _pairs(140_000)  # three blocks
    monkeypatch.setattr(stats.os, "cpu_count", lambda: 1)
    one = stats.bootstrap_many(pairs, resamples=200, seed=1)
    monkeypatch.setattr(stats.os, "cpu_count", lambda: 3)
    assert stats.bootstrap_many(pairs, resamples=200, seed=1) == one


def test_bootstrap_does_not_depend_on_the_blas_threads():
    # The counts' dot products are BLAS calls short enough for OpenBLAS to keep on one
    # thread: the sums are the same to the last bit whatever OPENBLAS_NUM_THREADS says.
    import os
    import subprocess
    import sys

    code = (
        "import numpy as np; from lossctl.core import stats; "
        "rng = np.random.default_rng(0); cols = list(rng.normal(size=(3, 140_000))); "
        "print(stats._resampled_sums(cols, 50, 2).tobytes().hex())"
    )

    def sums(threads: str) -> str:
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads}
        res = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
        )
        return res.stdout

    assert sums("1") == sums("4") != ""


@pytest.mark.parametrize("seed", range(6))
def test_bootstrap_with_a_one_row_last_block(seed):
    # 65,537 rows: the last block holds one row, so a resample often draws none of it
    # (the gathering sums once failed on such a resample at the end of a call).
    rng = np.random.default_rng(seed)
    a = rng.normal(size=65_537)
    b = a + rng.normal(0.1, 1.0, 65_537)
    r = stats.bootstrap(a, b, resamples=200, seed=seed)
    assert r.ci[0] < r.delta < r.ci[1]


def test_infinite_values_count_only_where_drawn():
    # 0 draws of an infinite row must add nothing (not 0 * inf = NaN): such a column is
    # summed from its drawn values, the others from counts, each as on its own.
    rng = np.random.default_rng(3)
    finite = rng.normal(size=1000)
    odd = finite.copy()
    odd[5], odd[9] = np.inf, np.nan
    both = stats._resampled_sums([finite, odd], 400, 2)
    assert np.array_equal(both[:, 0], stats._resampled_sums([finite], 400, 2)[:, 0])
    alone = stats._resampled_sums([odd], 400, 2)[:, 0]
    assert np.array_equal(both[:, 1], alone, equal_nan=True)
    missed = np.isfinite(alone)  # resamples that drew neither row
    assert 0.05 < missed.mean() < 0.3  # about (1 - 1/n)^(2n) = e^-2
    without = finite.copy()
    without[[5, 9]] = 0.0
    expected = stats._resampled_sums([without], 400, 2)[:, 0]
    assert alone[missed] == pytest.approx(expected[missed], rel=1e-12, abs=1e-12)


def test_bootstrap_progress_adds_up_to_every_draw():
    pairs = _pairs(70_000)
    told: list[int] = []
    stats.bootstrap_many(pairs, resamples=300, seed=4, progress=told.append)
    assert sum(told) == 70_000 * 300 and len(told) > 1
