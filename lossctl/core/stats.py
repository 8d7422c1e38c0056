"""Paired statistics on per-sample losses: is the candidate's cost different from the baseline's?

Every test takes the per-sample losses of the baseline ``a`` and the candidate ``b``
on the same rows (and optional weights) and returns a :class:`TestResult` for the
cost difference ``delta = cost(b) - cost(a)``. The cost is ``finalize(sum(w*l)/sum(w))``,
so for rmse/rmsle the bootstrap resamples the sufficient statistics and finalizes
each resample: its interval is an interval of the RMSE difference.

scipy.stats provides the tests and distributions (``ttest_rel``, ``wilcoxon``,
``permutation_test``, ``binomtest``, ``t``); the paired bootstrap is our own,
because scipy's ``bootstrap`` holds every resample's index matrix and is an order
of magnitude slower on millions of rows (see ``benchmarks/bootstrap.py``).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from lossctl import options as defaults
from lossctl.errors import InputError, UsageError

#: Robust SD = MAD_TO_SD * median absolute deviation (exact for a Gaussian).
MAD_TO_SD = 1.4826
TESTS = ("bootstrap", "permutation", "ttest", "wilcoxon", "dm", "mcnemar", "none")
Finalize = Callable[[float], float] | None
#: Told the number of bootstrap draws done (``n`` rows per resample), from any thread.
Advance = Callable[[int], None]


def unknown_test(test: str) -> UsageError:
    return UsageError(f"unknown --test '{test}'; expected one of {', '.join(TESTS)}.")


def check_test(test: str) -> None:
    """A --test name must be one of :data:`TESTS`."""
    if test not in TESTS:
        raise unknown_test(test)


#: Rows per bootstrap block: 2**16, so one random 64-bit word gives four indices
#: with no modulo bias, and a block of per-sample values stays in the L2 cache.
BLOCK = 1 << 16
#: Random indices drawn per call inside a block (bounds the temporary memory).
PER_CALL = 1 << 20
#: Rows x resamples counted at once inside a block: a 256 KB matrix of counts.
COUNTED = 1 << 15
#: Values per dot product of counts and a column: well under the 10,000 from which
#: OpenBLAS splits a dot product across threads (and the split changes the rounding).
DOT = 1 << 12


@dataclass(frozen=True)
class TestResult:
    """The outcome of one paired test. ``ci`` is for ``delta``; None where a test has none."""

    delta: float
    ci: tuple[float, float] | None
    p_value: float | None


def require_rows(test: str, n: int) -> None:
    """A paired test needs two rows at least: one row carries no evidence of a difference."""
    if test != "none" and n < 2:
        raise InputError(
            f"--test {test} needs at least 2 paired rows, got {n}: one row cannot tell a "
            "real difference from chance. Compare on more rows, or pass --test none for "
            "the costs alone."
        )


def weighted_mean(x: np.ndarray, w: np.ndarray | None) -> float:
    return float(x.mean()) if w is None else float(np.dot(w, x) / w.sum())


def cost(x: np.ndarray, w: np.ndarray | None, finalize: Finalize) -> float:
    """finalize(weighted mean); of an (n, K) array, the mean of the K columns' costs
    (rmse on K outputs: the mean of the per-output RMSEs)."""
    if x.ndim == 2:
        return math.fsum(cost(x[:, j], w, finalize) for j in range(x.shape[1])) / x.shape[1]
    m = weighted_mean(x, w)
    return finalize(m) if finalize is not None else m


def win_rate(a: np.ndarray, b: np.ndarray, w: np.ndarray | None = None) -> float:
    """Share of rows where the candidate's loss is lower than the baseline's; ties count half."""
    wins, total = win_sums(a, b, w)
    return wins / total


def win_sums(a: np.ndarray, b: np.ndarray, w: np.ndarray | None = None) -> tuple[float, float]:
    """The mergeable parts of :func:`win_rate`: (weighted wins, total weight); sum them
    across parts and divide."""
    score = (b < a).astype(np.float64) + 0.5 * (b == a)
    if w is None:
        return float(score.sum()), float(score.size)
    return float(np.dot(w, score)), float(w.sum())


#: The tests that take sample weights.
WEIGHTED_TESTS = ("bootstrap", "permutation", "none")
#: The tests computed from mergeable sums (:class:`LagSums`), so on any engine.
MERGEABLE_TESTS = ("ttest", "dm", "none")


def check_weighted(test: str, weighted: bool, instead: str) -> None:
    """Refuse a test that cannot take the sample weights; ``instead`` says what to do."""
    if weighted and test not in WEIGHTED_TESTS:
        raise UsageError(f"--test {test} does not support sample weights; {instead}.")


# -- paired bootstrap -------------------------------------------------------------------------


def _aligned_zeros(rows: int, length: int) -> np.ndarray:
    """A (rows, length) float64 array of zeros whose rows start on 64-byte boundaries
    (``length`` a multiple of 8): every dot product then sees its values at the same
    alignment, whichever array they came from."""
    flat = np.zeros(rows * length + 8)
    skip = (-flat.ctypes.data % 64) // 8
    return flat[skip : skip + rows * length].reshape(rows, length)


def _dots(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot products along the last axis, broadcast (``np.vecdot``: numpy >= 2.0)."""
    vecdot = getattr(np, "vecdot", None)
    if vecdot is not None:
        return vecdot(a, b)  # type: ignore[no-any-return]
    return np.matmul(a[..., None, :], b[..., :, None])[..., 0, 0]  # pragma: no cover


def _gathered_sums(values: np.ndarray, idx: np.ndarray, group: np.ndarray) -> np.ndarray:
    """The sum of ``values[idx]`` over each consecutive run of ``group[r]`` draws (0 for a
    resample without any)."""
    sums = np.zeros(group.size)
    drew = group > 0
    if drew.any():
        starts = (np.cumsum(group) - group)[drew]
        sums[drew] = np.add.reduceat(np.take(values, idx), starts)
    return sums


def _resampled_sums(
    columns: Sequence[np.ndarray],
    resamples: int,
    seed: int,
    progress: Advance | None = None,
) -> np.ndarray:
    """Column sums of ``resamples`` bootstrap samples of the rows: a (resamples, k) array.

    A bootstrap sample draws n row indices uniformly with replacement. The rows are
    cut into blocks of ``BLOCK``; how many of the n draws land in each block is one
    multinomial draw per resample, and within a block the draws are uniform, which
    is the same distribution as n independent uniform indices. Blocks run on a thread
    pool, each with its own generator derived from ``seed``. Memory: O(PER_CALL) per
    thread, never an n x resamples matrix.

    Within a block, each resample's draws are counted per row once (``np.bincount``),
    and a column's sum is the dot product of the counts with the column's values: the
    draws cost the same for one column or eight, and a column adds one pass over the
    block. Every column is summed on its own, the same way whatever the other columns
    and the number of threads, so any subset of the columns has the same sums to the
    last bit. The dot products are BLAS ``ddot`` calls of at most ``DOT`` values, which
    OpenBLAS runs on one thread (it splits a longer one across its threads, and the
    split changes the rounding); their partial sums are added in a fixed order. A
    column with an infinite or NaN value in a block is summed there by gathering the
    drawn values instead (a row drawn 0 times must not make 0 * inf a NaN).

    ``progress`` is called with the number of draws done as each part of a block ends
    (from the pool's threads); the calls add up to ``n * resamples``.
    """
    n = columns[0].shape[0]
    m = (n + BLOCK - 1) // BLOCK
    sizes = np.full(m, BLOCK, dtype=np.int64)
    sizes[-1] = n - BLOCK * (m - 1)
    root = np.random.SeedSequence(seed)
    count_seq, *block_seqs = root.spawn(m + 1)
    counts = np.random.default_rng(count_seq).multinomial(n, sizes / n, size=resamples)
    cols = [np.asarray(c, dtype=np.float64) for c in columns]

    stop = threading.Event()

    def block(j: int) -> np.ndarray:
        bitgen = np.random.PCG64(block_seqs[j])
        gen = np.random.Generator(bitgen)
        lo, size = j * BLOCK, int(sizes[j])
        # The block's columns, zero-padded to whole dot products of `length` values.
        length = min(DOT, -(-size // 8) * 8)
        chunks = -(-size // length)
        values = _aligned_zeros(len(cols), chunks * length)
        for col, column in enumerate(cols):
            values[col, :size] = column[lo : lo + size]
        gathered = np.flatnonzero(~np.isfinite(values).all(axis=1)).tolist()
        odd = {col: values[col].copy() for col in gathered}
        values[gathered] = 0.0  # their dot products are replaced
        values3 = values.reshape(1, len(cols), chunks, length)
        # Resamples counted together (one at a time in a full block, many in a small
        # one): a matrix of counts that stays in the L2 cache.
        q = max(1, COUNTED // size)
        held_buf = _aligned_zeros(q, chunks * length)
        idx_buf = np.empty(0, dtype=np.intp)
        out = np.zeros((resamples, len(cols)))
        start = 0
        while start < resamples:
            if stop.is_set():  # the caller is unwinding (an error, Ctrl-C, SIGTERM)
                break
            c = counts[start:, j]
            cum = np.cumsum(c)
            k = max(1, int(np.searchsorted(cum, PER_CALL, side="right")))
            c, total = c[:k], int(cum[k - 1])
            if total:
                raw: np.ndarray
                if size == 1 << 16:  # four unbiased 16-bit indices per 64-bit word
                    raw = bitgen.random_raw((total + 3) // 4).view(np.uint16)[:total]
                else:
                    raw = gen.integers(0, size, total)
                first = 0
                for r in range(0, k, q):
                    group = c[r : r + q]
                    rows, drawn = group.size, int(group.sum())
                    if drawn > idx_buf.size:
                        idx_buf = np.empty(drawn, dtype=np.intp)
                    idx = idx_buf[:drawn]  # np.bincount is several times faster on intp
                    np.copyto(idx, raw[first : first + drawn], casting="unsafe")
                    first += drawn
                    gathers = [_gathered_sums(odd[col], idx, group) for col in gathered]
                    if rows > 1:  # each resample's draws count in its own row
                        idx += np.repeat(np.arange(0, rows * size, size), group)
                    # How many times each resample drew each row of the block.
                    held = held_buf[:rows]
                    tally = np.bincount(idx, minlength=rows * size)
                    np.copyto(held[:, :size], tally.reshape(rows, size))
                    dots = _dots(values3, held.reshape(rows, 1, chunks, length))
                    done = out[start + r : start + r + rows]
                    np.sum(dots, axis=-1, out=done)
                    for col, sums in zip(gathered, gathers, strict=True):
                        done[:, col] = sums
                if progress is not None:
                    progress(total)
            start += k
        return out

    workers = max(1, min(m, os.cpu_count() or 1))
    if workers == 1:
        blocks = [block(j) for j in range(m)]
    else:
        with ThreadPoolExecutor(workers) as pool:
            try:
                blocks = list(pool.map(block, range(m)))
            except BaseException:
                stop.set()  # running blocks end at their next step, queued ones never start
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    # The blocks in their order, one after another (np.sum may pair them up differently
    # for different shapes).
    sums = blocks[0]
    for other in blocks[1:]:
        sums += other
    return sums


def bootstrap_deltas(
    a: np.ndarray,
    b: np.ndarray,
    w: np.ndarray | None,
    finalize: Finalize,
    resamples: int,
    seed: int,
    progress: Advance | None = None,
) -> np.ndarray:
    """The cost difference on each paired bootstrap resample of the rows; for a finalized
    loss, ``a`` and ``b`` may be (n, K), one column per output. ``progress`` as
    :func:`_resampled_sums`."""
    n = a.shape[0]
    if finalize is None:
        # Linear statistic: resample the per-row difference (and weights).
        if w is None:
            sums = _resampled_sums([b - a], resamples, seed, progress)
            return sums[:, 0] / n
        sums = _resampled_sums([w * (b - a), w], resamples, seed, progress)
        return sums[:, 0] / sums[:, 1]
    # Finalized: resample the sums of every column of a and b ((n,) or (n, K) per output)
    # and the weights, then finalize each column's mean and average over the columns.
    fin = np.vectorize(finalize, otypes=[np.float64])
    a2, b2 = a.reshape(n, -1), b.reshape(n, -1)
    k = a2.shape[1]
    parts = [a2[:, j] for j in range(k)] + [b2[:, j] for j in range(k)]
    if w is not None:
        parts = [w * p for p in parts] + [w]
    sums = _resampled_sums(parts, resamples, seed, progress)
    means = sums[:, : 2 * k] / (n if w is None else sums[:, -1:])
    return fin(means[:, k:]).mean(axis=1) - fin(means[:, :k]).mean(axis=1)


def _delta_columns(
    a: np.ndarray, b: np.ndarray, w: np.ndarray | None, finalize: Finalize
) -> list[np.ndarray]:
    """The columns whose resampled sums give one pair's bootstrap deltas (1-D a and b)."""
    if finalize is None:
        return [b - a] if w is None else [w * (b - a), w]
    return [a, b] if w is None else [w * a, w * b, w]


def _deltas_of(sums: np.ndarray, n: int, weighted: bool, finalize: Finalize) -> np.ndarray:
    """One pair's deltas from the resampled sums of its :func:`_delta_columns`."""
    if finalize is None:
        return sums[:, 0] / (sums[:, 1] if weighted else n)
    fin = np.vectorize(finalize, otypes=[np.float64])
    means = sums[:, :2] / (sums[:, 2:3] if weighted else n)
    return fin(means[:, 1]) - fin(means[:, 0])  # type: ignore[no-any-return]


def bootstrap_many(
    pairs: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray | None, Finalize]],
    *,
    resamples: int = defaults.RESAMPLES,
    seed: int = 0,
    confidence: float = defaults.CONFIDENCE,
    progress: Advance | None = None,
) -> list[TestResult]:
    """:func:`bootstrap` of several (a, b, w, finalize) pairs on the same rows (every loss
    and candidate of a comparison), with each resample's rows drawn and counted once for
    every pair's columns. The results are those of :func:`bootstrap` on each pair, to the
    last bit: the draws depend only on the rows, resamples and seed, and each column is
    summed on its own (:func:`_resampled_sums`). ``progress`` hears of the draws done,
    ``n * resamples`` in all."""
    columns: list[np.ndarray] = []
    spans = []
    for a, b, w, finalize in pairs:
        cols = _delta_columns(a, b, w, finalize)
        spans.append((len(columns), len(cols)))
        columns += cols
    if not pairs:
        return []
    n = pairs[0][0].shape[0]
    sums = _resampled_sums(columns, resamples, seed, progress)
    out = []
    for (a, b, w, finalize), (start, width) in zip(pairs, spans, strict=True):
        deltas = _deltas_of(sums[:, start : start + width], n, w is not None, finalize)
        ci, p = bootstrap_interval(deltas, confidence)
        out.append(TestResult(cost(b, w, finalize) - cost(a, w, finalize), ci, p))
    return out


def bootstrap(
    a: np.ndarray,
    b: np.ndarray,
    w: np.ndarray | None = None,
    finalize: Finalize = None,
    *,
    resamples: int = defaults.RESAMPLES,
    seed: int = 0,
    confidence: float = defaults.CONFIDENCE,
    progress: Advance | None = None,
) -> TestResult:
    """Paired bootstrap: percentile interval and two-sided p-value of the cost difference.

    p = 2 min(#(delta* <= 0) + 1, #(delta* >= 0) + 1) / (B + 1), capped at 1: the
    share of resamples on the other side of 0, with the +1 correction so p >= 1/(B+1).
    ``progress`` hears of the draws done, ``n * resamples`` in all.
    """
    deltas = bootstrap_deltas(a, b, w, finalize, resamples, seed, progress)
    ci, p = bootstrap_interval(deltas, confidence)
    delta = cost(b, w, finalize) - cost(a, w, finalize)
    return TestResult(delta, ci, p)


def bootstrap_statistic(
    n: int,
    delta: Callable[[np.ndarray | None], float],
    *,
    resamples: int = defaults.RESAMPLES,
    seed: int = 0,
    confidence: float = defaults.CONFIDENCE,
    progress: Advance | None = None,
) -> TestResult:
    """Paired bootstrap of a statistic that is not a mean of per-row values (a binned
    calibration error, a mean over series of per-series roots): each resample draws n
    rows with replacement and ``delta(counts)`` recomputes the candidate's statistic
    minus the baseline's with each row counted ``counts[i]`` times (``delta(None)``: the
    observed rows). Interval and p-value as :func:`bootstrap`; ``progress`` hears of the
    n draws of each resample."""
    rng = np.random.default_rng(seed)
    deltas = np.empty(resamples)
    for r in range(resamples):
        counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(np.float64)
        deltas[r] = delta(counts)
        if progress is not None:
            progress(n)
    finite = deltas[np.isfinite(deltas)]
    observed = delta(None)
    if not finite.size:
        return TestResult(observed, None, None)
    ci, p = bootstrap_interval(finite, confidence)
    return TestResult(observed, ci, p)


def bootstrap_interval(deltas: np.ndarray, confidence: float) -> tuple[tuple[float, float], float]:
    """The percentile interval and the two-sided p-value of bootstrap deltas (see
    :func:`bootstrap`)."""
    alpha = 1.0 - confidence
    lo, hi = np.quantile(deltas, [alpha / 2, 1 - alpha / 2])
    below = int(np.sum(deltas <= 0))
    above = int(np.sum(deltas >= 0))
    p = min(1.0, 2.0 * (min(below, above) + 1) / (deltas.size + 1))
    return (float(lo), float(hi)), p


# -- tests from scipy ----------------------------------------------------------------------------


def permutation(
    a: np.ndarray,
    b: np.ndarray,
    w: np.ndarray | None = None,
    finalize: Finalize = None,
    *,
    resamples: int = defaults.RESAMPLES,
    seed: int = 0,
) -> TestResult:
    """Paired sign-flip permutation test.

    scipy ``permutation_test`` with ``permutation_type='samples'`` swaps the two
    models' losses within each row: the sign flip of the per-row difference.
    """
    from scipy import stats

    fin = (lambda v: v) if finalize is None else np.vectorize(finalize, otypes=[np.float64])
    ws = None if w is None else w / w.sum()

    def statistic(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
        if ws is None:
            return fin(np.mean(y, axis=axis)) - fin(np.mean(x, axis=axis))
        return fin(np.sum(y * ws, axis=axis)) - fin(np.sum(x * ws, axis=axis))

    res = stats.permutation_test(
        (a, b), statistic, permutation_type="samples", vectorized=True,
        n_resamples=resamples, alternative="two-sided", rng=np.random.default_rng(seed),
        batch=max(1, min(resamples, (1 << 24) // max(1, a.shape[0]))),
    )  # fmt: skip
    return TestResult(cost(b, w, finalize) - cost(a, w, finalize), None, float(res.pvalue))


def ttest(
    a: np.ndarray,
    b: np.ndarray,
    finalize: Finalize = None,
    *,
    confidence: float = defaults.CONFIDENCE,
) -> TestResult:
    """Paired t-test on the per-sample differences (scipy ``ttest_rel``)."""
    from scipy import stats

    delta = cost(b, None, finalize) - cost(a, None, finalize)
    d = b - a
    if not np.any(d != d[0]):  # constant differences: no variance to test
        return TestResult(delta, (delta, delta) if finalize is None else None, _const_p(d))
    res = stats.ttest_rel(b, a)
    ci = None
    if finalize is None:  # the interval is of the mean per-sample difference
        low, high = res.confidence_interval(confidence)
        ci = (float(low), float(high))
    return TestResult(delta, ci, float(res.pvalue))


def _const_p(d: np.ndarray) -> float:
    return 1.0 if d.size == 0 or d[0] == 0 else 0.0


def wilcoxon(a: np.ndarray, b: np.ndarray, finalize: Finalize = None) -> TestResult:
    """Wilcoxon signed-rank test on the per-sample differences (scipy ``wilcoxon``)."""
    from scipy import stats

    delta = cost(b, None, finalize) - cost(a, None, finalize)
    d = b - a
    if not np.any(d != 0):
        return TestResult(delta, None, 1.0)
    res = stats.wilcoxon(d)
    return TestResult(delta, None, float(res.pvalue))


def diebold_mariano(
    a: np.ndarray,
    b: np.ndarray,
    finalize: Finalize = None,
    *,
    horizon: int = 1,
    confidence: float = defaults.CONFIDENCE,
) -> TestResult:
    """Diebold-Mariano test with the Harvey-Leybourne-Newbold small-sample correction.

    d_t = b_t - a_t (rows in time order). The long-run variance of d is the
    autocovariance sum up to lag h - 1 (the h-step forecast errors are MA(h-1));
    DM = mean(d) / sqrt(V / n), multiplied by sqrt((n + 1 - 2h + h(h - 1)/n) / n), and
    referred to Student's t with n - 1 degrees of freedom (scipy ``stats.t``).
    """
    delta = cost(b, None, finalize) - cost(a, None, finalize)
    d = b - a
    n = d.shape[0]
    _check_horizon(horizon, n)
    mean = float(d.mean())
    z = d - mean
    v = float(np.dot(z, z)) / n
    for lag in range(1, horizon):
        v += 2.0 * float(np.dot(z[lag:], z[:-lag])) / n
    if v <= 0:
        return TestResult(delta, None, _const_p(d))
    p, ci = _dm_test(mean, v, n, horizon, confidence)
    return TestResult(delta, ci if finalize is None else None, p)


def _check_horizon(horizon: int, n: int) -> None:
    if horizon < 1 or horizon >= n:
        raise UsageError(f"--horizon must be between 1 and n - 1 = {n - 1}, got {horizon}.")


def _dm_test(
    mean: float, v: float, n: int, horizon: int, confidence: float
) -> tuple[float, tuple[float, float]]:
    """p-value and interval of the mean difference from its long-run variance ``v``
    (> 0), with the Harvey-Leybourne-Newbold correction, against Student's t(n - 1)."""
    from scipy import stats

    se = math.sqrt(v / n)
    hln = math.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    stat = mean / se * hln
    p = float(2.0 * stats.t.sf(abs(stat), df=n - 1))
    q = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1))
    half = q * se / hln
    return p, (mean - half, mean + half)


def mcnemar(a: np.ndarray, b: np.ndarray) -> TestResult:
    """Exact McNemar test on paired 0/1 errors (scipy ``binomtest`` on the discordant pairs)."""
    from scipy import stats

    only_a_wrong = int(np.sum((a > 0) & (b == 0)))
    only_b_wrong = int(np.sum((a == 0) & (b > 0)))
    discordant = only_a_wrong + only_b_wrong
    delta = float(b.mean() - a.mean())
    if discordant == 0:
        return TestResult(delta, None, 1.0)
    res = stats.binomtest(only_b_wrong, discordant, 0.5)
    return TestResult(delta, None, float(res.pvalue))


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment: p_(i) * (m - i + 1), made monotone, capped at 1."""
    present = [(p, i) for i, p in enumerate(p_values) if p is not None]
    m = len(present)
    out: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(present)):
        running = max(running, min(1.0, (m - rank) * p))
        out[i] = running
    return out


# -- mergeable sums for distributed paired tests ---------------------------------------------


@dataclass
class LagSums:
    """Sums of an ordered series of per-row differences d, mergeable across parts.

    Enough for the paired t-test (n, mean, sum of squared deviations) and the
    Diebold-Mariano test (autocovariances up to lag h - 1: the within-part lagged
    products, plus the first and last h - 1 values of each part for the products
    that straddle two parts). Merging must follow the row order.
    """

    horizon: int
    n: int = 0
    total: float = 0.0
    mean: float = 0.0
    m2: float = 0.0
    head: np.ndarray = field(default_factory=lambda: np.empty(0))
    tail: np.ndarray = field(default_factory=lambda: np.empty(0))
    cross: np.ndarray = field(default_factory=lambda: np.empty(0))

    @classmethod
    def empty(cls, horizon: int) -> LagSums:
        return cls(horizon, cross=np.zeros(max(horizon - 1, 0)))

    @classmethod
    def of(cls, d: np.ndarray, horizon: int) -> LagSums:
        h1 = max(horizon - 1, 0)
        n = int(d.shape[0])
        if n == 0:
            return cls.empty(horizon)
        mean = float(d.mean())
        z = d - mean
        lags = range(1, h1 + 1)
        cross = np.array([float(np.dot(d[k:], d[:-k])) if k < n else 0.0 for k in lags])
        tail = d[max(0, n - h1) :].copy() if h1 else np.empty(0)
        return cls(
            horizon, n, float(d.sum()), mean, float(np.dot(z, z)), d[:h1].copy(), tail, cross
        )

    def merge(self, other: LagSums) -> LagSums:
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        h1 = max(self.horizon - 1, 0)
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * other.n / n
        m2 = self.m2 + other.m2 + delta * delta * self.n * other.n / n
        cross = self.cross + other.cross
        # Lagged products across the boundary: a value near the end of self times one
        # near the start of other, k rows apart.
        for i, left in enumerate(self.tail):
            for j, right in enumerate(other.head):
                k = (len(self.tail) - i) + j
                if 1 <= k <= h1:
                    cross[k - 1] += left * right
        head = np.concatenate([self.head, other.head])[:h1]
        tail = np.concatenate([self.tail, other.head if other.n <= h1 else other.tail])
        tail = tail[max(0, len(tail) - h1) :] if h1 else np.empty(0)
        if other.n > h1:
            tail = other.tail.copy()
        return LagSums(self.horizon, n, self.total + other.total, mean, m2, head, tail, cross)

    def test(self, test: str, delta: float, finalized: bool, confidence: float) -> TestResult:
        """A test of :data:`MERGEABLE_TESTS` from the sums. ``delta`` is the cost
        difference; its interval is the mean difference's, so a finalized loss (rmse)
        has none."""
        if test == "none":
            return TestResult(delta, None, None)
        if test == "ttest":
            p_value, ci = self.ttest(confidence)
        else:
            p_value, ci = self.diebold_mariano(confidence)
        return TestResult(delta, None if finalized else ci, p_value)

    def ttest(self, confidence: float) -> tuple[float, tuple[float, float] | None]:
        """Two-sided paired t-test p-value and interval of the mean difference (as ttest_rel)."""
        from scipy import stats as sps

        if self.n < 2 or self.m2 <= 0:
            return (1.0 if self.mean == 0 else 0.0), (self.mean, self.mean)
        se = math.sqrt(self.m2 / (self.n - 1) / self.n)
        t = self.mean / se
        p = float(2.0 * sps.t.sf(abs(t), df=self.n - 1))
        q = float(sps.t.ppf(0.5 + confidence / 2, df=self.n - 1))
        return p, (self.mean - q * se, self.mean + q * se)

    def diebold_mariano(self, confidence: float) -> tuple[float, tuple[float, float] | None]:
        """As :func:`diebold_mariano`, from the sums (HAC variance, HLN correction)."""
        n, h, m = self.n, self.horizon, self.mean
        _check_horizon(h, n)
        v = self.m2 / n
        for k in range(1, h):
            ahead = self.total - float(self.head[:k].sum())  # sum of d_t, t >= k
            behind = self.total - float(self.tail[len(self.tail) - k :].sum())  # d_{t-k}
            v += 2.0 * (self.cross[k - 1] - m * (ahead + behind) + (n - k) * m * m) / n
        if v <= 0:
            return (1.0 if m == 0 else 0.0), None
        return _dm_test(m, v, n, h, confidence)
