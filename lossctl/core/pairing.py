"""Pairing models row by row, and the per-loss comparison against the baseline.

Pure numpy: the compare flow collects each model's per-sample losses; this module
aligns them (by position, or by an id column), drops rows invalid for any model,
and runs the paired statistics of :mod:`lossctl.core.stats` for every loss and candidate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from lossctl import options as defaults
from lossctl.core import stats
from lossctl.errors import InputError, UsageError
from lossctl.losses import BoundLoss
from lossctl.report import LossComparison, Versus

if TYPE_CHECKING:
    from lossctl.options import Progress

SHOW_IDS = 5


@dataclass
class Collected:
    """One model's inputs and per-sample losses over every row of its file.

    Rows dropped by ``--nan omit`` are marked invalid (their losses are NaN), so
    that a row dropped for any model can be dropped for all.
    """

    name: str
    source: str
    columns: tuple[str, ...]
    y_true: np.ndarray
    valid: np.ndarray
    losses: dict[str, np.ndarray]
    weight: np.ndarray | None = None
    ids: np.ndarray | None = None
    #: Each row's series (scaled losses) and time key (``--time``), None where dropped.
    series: np.ndarray | None = None
    times: np.ndarray | None = None
    #: The fingerprint of the rows read (:mod:`lossctl.core.fingerprint`), and of their
    #: targets and weights alone.
    fingerprint: int | None = None
    targets_print: int | None = None

    @property
    def n(self) -> int:
        return int(self.valid.shape[0])

    def take(self, order: np.ndarray) -> Collected:
        """The same model with its rows reordered (id alignment)."""
        return Collected(
            self.name, self.source, self.columns, self.y_true[order], self.valid[order],
            {k: v[order] for k, v in self.losses.items()},
            None if self.weight is None else self.weight[order],
            None if self.ids is None else self.ids[order],
            None if self.series is None else self.series[order],
            None if self.times is None else self.times[order],
            self.fingerprint,
            self.targets_print,
        )  # fmt: skip


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise equality where NaN equals NaN."""
    eq = (a == b) | (np.isnan(a) & np.isnan(b)) if a.dtype.kind == "f" else a == b
    return eq.all(axis=1) if eq.ndim > 1 else eq


def align_by_position(models: Sequence[Collected]) -> list[Collected]:
    """Same row count and identical targets in every file, else an input error saying where."""
    base = models[0]
    for m in models[1:]:
        if m.n != base.n:
            raise InputError(
                f"{m.source} has {m.n} rows but {base.source} has {base.n}; rows are paired by "
                "position, so every file needs the same rows in the same order. Pass --id COL "
                "to pair by an id column instead."
            )
        # Rows dropped (--nan omit) for either model are not compared.
        same = _same(base.y_true, m.y_true) | ~(base.valid & m.valid)
        if not same.all():
            row = int(np.argmin(same))
            raise InputError(
                f"the targets of {base.source} and {m.source} first differ at row {row + 1} "
                f"({_show(base.y_true[row])} vs {_show(m.y_true[row])}); paired rows must have "
                "identical targets. Check the files, or pass --id COL to pair by id."
            )
        bw, mw = base.weight, m.weight
        if (bw is None) != (mw is None) or (
            bw is not None and mw is not None and not _same(bw, mw).all()
        ):
            raise InputError(
                f"the weights of {m.source} and {base.source} differ; paired rows need the "
                "same weights."
            )
    return list(models)


def _show(v: object) -> str:
    if isinstance(v, np.ndarray):
        return "[" + ", ".join(f"{x:g}" for x in v) + "]"
    return f"{v:g}" if isinstance(v, (float, np.floating)) else repr(v)


def _ids_problem(ids: np.ndarray, source: str) -> str | None:
    uniq, counts = np.unique(ids, return_counts=True)
    dup = uniq[counts > 1]
    if dup.size:
        shown = ", ".join(map(str, dup[:SHOW_IDS]))
        return f"ids in {source} must be unique; {dup.size} repeated (e.g. {shown})"
    return None


def align_by_id(models: Sequence[Collected], id_col: str) -> list[Collected]:
    """Reorder every model to the baseline's id order; id sets must be equal and unique."""
    base = models[0]
    assert base.ids is not None
    keys = [np.asarray(m.ids).astype(str) for m in models]
    for m, k in zip(models, keys, strict=True):
        problem = _ids_problem(k, m.source)
        if problem:
            raise InputError(f"--id {id_col}: {problem}.")
    out = [base]
    order_base = np.argsort(keys[0], kind="stable")
    for m, k in zip(models[1:], keys[1:], strict=True):
        missing = np.setdiff1d(keys[0], k)
        extra = np.setdiff1d(k, keys[0])
        if missing.size or extra.size:
            parts = []
            if missing.size:
                parts.append(
                    f"{missing.size} ids of {base.source} are missing from {m.source} "
                    f"(e.g. {', '.join(missing[:SHOW_IDS])})"
                )
            if extra.size:
                parts.append(
                    f"{extra.size} ids of {m.source} are not in {base.source} "
                    f"(e.g. {', '.join(extra[:SHOW_IDS])})"
                )
            raise InputError(
                f"--id {id_col}: the id sets differ: {'; '.join(parts)}. lossctl does not "
                "compare on a partial join; give every model the same rows."
            )
        order_m = np.argsort(k, kind="stable")
        # Position in m of each baseline row: m's rows sorted by id, mapped to base's order.
        pos = np.empty_like(order_m)
        pos[order_base] = order_m
        out.append(m.take(pos))
    for m in out[1:]:
        same = _same(base.y_true, m.y_true) | ~(base.valid & m.valid)
        if not same.all():
            row = int(np.argmin(same))
            raise InputError(
                f"--id {id_col}: id {keys[0][row]} has target {_show(base.y_true[row])} in "
                f"{base.source} but {_show(m.y_true[row])} in {m.source}; paired rows must "
                "have identical targets."
            )
    return out


def common_rows(models: Sequence[Collected]) -> np.ndarray:
    """Rows valid for every model (a row dropped for one is dropped for all)."""
    valid = models[0].valid.copy()
    for m in models[1:]:
        valid &= m.valid
    return valid


def _run_test(
    test: str,
    a: np.ndarray,
    b: np.ndarray,
    w: np.ndarray | None,
    loss: BoundLoss,
    *,
    resamples: int,
    seed: int,
    confidence: float,
    horizon: int,
    progress: stats.Advance | None = None,
) -> stats.TestResult:
    finalize = loss.finalizer
    if test == "bootstrap":
        return stats.bootstrap(a, b, w, finalize, resamples=resamples, seed=seed,
                               confidence=confidence, progress=progress)  # fmt: skip
    if test == "permutation":
        return stats.permutation(a, b, w, finalize, resamples=resamples, seed=seed)
    if test == "none":
        return stats.TestResult(stats.cost(b, w, finalize) - stats.cost(a, w, finalize), None, None)
    stats.check_weighted(
        test, w is not None, "use --test bootstrap or permutation, or drop --weight"
    )
    if test == "ttest":
        return stats.ttest(a, b, finalize, confidence=confidence)
    if test == "wilcoxon":
        return stats.wilcoxon(a, b, finalize)
    if test == "dm":
        return stats.diebold_mariano(a, b, finalize, horizon=horizon, confidence=confidence)
    if test == "mcnemar":
        if loss.name != "zero_one":
            raise UsageError(
                f"--test mcnemar is for the zero_one loss (paired right/wrong decisions), not "
                f"'{loss.key}'; pass -l zero_one, or choose another --test."
            )
        return stats.mcnemar(a, b)
    raise stats.unknown_test(test)


def assemble(
    loss: BoundLoss,
    costs: dict[str, float],
    baseline: str,
    results: dict[str, stats.TestResult],
    wins: Mapping[str, float | None],
    confidence: float,
    test: str,
    series_wins: Mapping[str, tuple[float, int]] | None = None,
) -> LossComparison:
    """One loss's comparison from its costs and per-candidate test results (Holm-adjusted)."""
    names = list(results)
    adjusted = stats.holm([results[n].p_value for n in names])
    vs: dict[str, Versus] = {}
    base_cost = costs[baseline]
    for name, p_adj in zip(names, adjusted, strict=True):
        r = results[name]
        relative = r.delta / base_cost if base_cost != 0.0 and math.isfinite(base_cost) else None
        vs[name] = Versus(
            delta=r.delta,
            relative=relative,
            ci=r.ci,
            p_value=r.p_value,
            p_value_adjusted=p_adj,
            significant=None if p_adj is None else bool(p_adj < 1.0 - confidence),
            win_rate=wins[name],
            series_won=None if series_wins is None else series_wins[name][0],
            n_series=None if series_wins is None else series_wins[name][1],
        )
    best = min(costs, key=lambda k: (math.isnan(costs[k]), costs[k]))
    return LossComparison(loss.key, loss.name, dict(loss.params), costs, best, vs, test)


def compare_losses(
    models: Sequence[Collected],
    losses: Sequence[BoundLoss],
    baseline: str,
    *,
    test: str = "bootstrap",
    resamples: int = defaults.RESAMPLES,
    seed: int = 0,
    confidence: float = defaults.CONFIDENCE,
    horizon: int = 1,
    rows: np.ndarray | None = None,
    progress: Progress | None = None,
) -> dict[str, LossComparison]:
    """Per loss key: costs, best model, and each candidate against the baseline.

    ``progress`` (--test bootstrap) is started with the draws of every bootstrap of the
    comparison (the rows times the resamples, per bootstrap) and hears of them as they
    are done."""
    stats.check_test(test)
    keep = common_rows(models) if rows is None else rows
    stats.require_rows(test, int(keep.sum()))
    by_name = {m.name: m for m in models}
    base = by_name[baseline]
    w = None if base.weight is None else base.weight[keep]
    out: dict[str, LossComparison] = {}
    arrays_of: dict[str, dict[str, np.ndarray]] = {}
    booted: dict[tuple[str, str], stats.TestResult] = {}
    advance: stats.Advance | None = None
    if test == "bootstrap":  # every loss and candidate from the same draws of the rows
        pairs, keys = [], []
        apart = 0  # the losses bootstrapped on their own, once per candidate
        for loss in losses:
            if loss.spec.binned or loss.spec.scaled is not None:
                apart += 1
                continue
            arrays_of[loss.key] = {m.name: _values(loss, m, keep, w) for m in models}
            if loss.outputs and loss.finalizer is not None:
                apart += 1
                continue
            for m in models:
                if m.name != baseline:
                    a, b = arrays_of[loss.key][baseline], arrays_of[loss.key][m.name]
                    pairs.append((a, b, w, loss.finalizer))
                    keys.append((loss.key, m.name))
        if progress is not None:
            runs = (1 if pairs else 0) + apart * (len(models) - 1)
            progress.start(runs * int(keep.sum()) * resamples)
            advance = progress.advance
        results_of = stats.bootstrap_many(
            pairs, resamples=resamples, seed=seed, confidence=confidence, progress=advance
        )
        booted = dict(zip(keys, results_of, strict=True))
    for loss in losses:
        if loss.spec.binned or loss.spec.scaled is not None:
            special = _compare_binned if loss.spec.binned else _compare_scaled
            costs, tested, won, series_wins = special(
                models, loss, baseline, keep, w, test=test, resamples=resamples, seed=seed,
                confidence=confidence, horizon=horizon, progress=advance,
            )  # fmt: skip
            out[loss.key] = assemble(loss, costs, baseline, tested, won, confidence, test,
                                     series_wins)  # fmt: skip
            continue
        finalize = loss.finalizer
        per_output = loss.outputs and finalize is not None
        arrays = arrays_of.get(loss.key) or {m.name: _values(loss, m, keep, w) for m in models}
        # (n, K) per output for rmse on K outputs: the cost is the mean of their RMSEs.
        costs = {name: stats.cost(v, w, finalize) for name, v in arrays.items()}
        a = arrays[baseline]
        results: dict[str, stats.TestResult] = {}
        wins: dict[str, float] = {}
        for m in models:
            if m.name == baseline:
                continue
            b = arrays[m.name]
            if per_output:
                results[m.name] = _per_output_test(
                    test, a, b, w, loss, costs[m.name] - costs[baseline],
                    resamples=resamples, seed=seed, confidence=confidence, horizon=horizon,
                    progress=advance,
                )  # fmt: skip
                a1, b1 = a.mean(axis=1), b.mean(axis=1)
            else:
                done = booted.get((loss.key, m.name))
                results[m.name] = done or _run_test(
                    test, a, b, w, loss, resamples=resamples, seed=seed,
                    confidence=confidence, horizon=horizon,
                )  # fmt: skip
                a1, b1 = a, b
            wins[m.name] = stats.win_rate(a1, b1, w)
        out[loss.key] = assemble(loss, costs, baseline, results, wins, confidence, test)
    return out


def _values(
    loss: BoundLoss, model: Collected, keep: np.ndarray, w: np.ndarray | None
) -> np.ndarray:
    """The per-sample values compared for one loss: (n,) whose weighted mean (finalized) is
    the cost, or (n, K) per output for a finalized loss on K outputs (rmse).

    A ratio loss (wape) is divided by the weighted mean of its denominator over the
    compared rows (the same targets for every model), so its mean is the ratio of sums.
    """
    if not loss.outputs:
        values = model.losses[loss.key][keep]
        if loss.spec.denominator is not None:
            values = values / stats.weighted_mean(loss.denominators(model.y_true[keep]), w)
        return values
    matrix = np.column_stack([model.losses[k][keep] for k in loss.output_keys])
    if loss.spec.denominator is not None:
        den = loss.denominators(model.y_true[keep])
        matrix = matrix / np.array([stats.weighted_mean(den[:, j], w) for j in range(den.shape[1])])
    return matrix if loss.finalizer is not None else matrix.mean(axis=1)


def _per_output_test(
    test: str,
    a: np.ndarray,
    b: np.ndarray,
    w: np.ndarray | None,
    loss: BoundLoss,
    delta: float,
    *,
    resamples: int,
    seed: int,
    confidence: float,
    horizon: int,
    progress: stats.Advance | None = None,
) -> stats.TestResult:
    """A finalized loss on K outputs: the bootstrap resamples rows and recomputes the mean of
    the K finalized costs; the other tests run on the per-sample mean over the outputs
    (their p-value; no interval, as for any finalized loss)."""
    if test == "bootstrap":
        return stats.bootstrap(a, b, w, loss.finalizer, resamples=resamples, seed=seed,
                               confidence=confidence, progress=progress)  # fmt: skip
    if test == "permutation":
        raise UsageError(
            f"--test permutation on '{loss.key}' over {a.shape[1]} outputs is not defined "
            "(its statistic is the mean of per-output square roots); use --test bootstrap."
        )
    result = _run_test(test, a.mean(axis=1), b.mean(axis=1), w, loss, resamples=resamples,
                       seed=seed, confidence=confidence, horizon=horizon)  # fmt: skip
    return stats.TestResult(delta, None, result.p_value)


_SpecialResult = tuple[
    dict[str, float],
    dict[str, stats.TestResult],
    dict[str, float | None],
    dict[str, tuple[float, int]] | None,
]


def _compare_binned(
    models: Sequence[Collected],
    loss: BoundLoss,
    baseline: str,
    keep: np.ndarray,
    w: np.ndarray | None,
    *,
    test: str,
    resamples: int,
    seed: int,
    confidence: float,
    horizon: int,
    progress: stats.Advance | None = None,
) -> _SpecialResult:
    """A binned calibration error: its cost from the bins of the compared rows; the paired
    bootstrap resamples rows and recomputes it (no other test: no per-row values)."""
    from lossctl.losses.calibration import bin_index, calibration_error
    from lossctl.losses.spec import ACCURACY_KEY, CONFIDENCE_KEY

    if test not in ("bootstrap", "none"):
        raise UsageError(
            f"--test {test} needs per-row losses, and '{loss.key}' is a binned calibration "
            "error without them; compare it with --test bootstrap (rows resampled, the "
            "binned statistic recomputed), or leave it out."
        )
    norm, bins = loss.spec.calibration, loss.bins
    assert norm is not None
    parts = {}
    for m in models:
        conf = m.losses[loss.key + CONFIDENCE_KEY][keep]
        acc = m.losses[loss.key + ACCURACY_KEY][keep]
        parts[m.name] = (bin_index(conf, bins), conf, acc)

    def error(name: str, counts: np.ndarray | None) -> float:
        idx, conf, acc = parts[name]
        weight = w if counts is None else (counts if w is None else counts * w)
        ones = np.ones_like(conf) if weight is None else weight
        sums = np.stack([np.bincount(idx, ones, bins), np.bincount(idx, ones * conf, bins),
                         np.bincount(idx, ones * acc, bins)])  # fmt: skip
        return calibration_error(sums, norm)

    costs = {m.name: error(m.name, None) for m in models}
    results: dict[str, stats.TestResult] = {}
    n = int(keep.sum())
    for m in models:
        if m.name == baseline:
            continue
        name = m.name
        if test == "none":
            results[name] = stats.TestResult(costs[name] - costs[baseline], None, None)
            continue
        results[name] = stats.bootstrap_statistic(
            n, lambda c, name=name: error(name, c) - error(baseline, c),  # type: ignore[misc]
            resamples=resamples, seed=seed, confidence=confidence, progress=progress,
        )  # fmt: skip
    return costs, results, {m.name: None for m in models if m.name != baseline}, None


def _series_codes(models: Sequence[Collected], keep: np.ndarray) -> tuple[np.ndarray, int]:
    """The series of each compared row as codes 0..S-1 (the same in every model)."""
    base = models[0]
    assert base.series is not None
    labels = base.series[keep].astype(str)
    for m in models[1:]:
        other = None if m.series is None else m.series[keep].astype(str)
        if other is None or not np.array_equal(labels, other):
            row = 0 if other is None else int(np.argmax(labels != other))
            raise InputError(
                f"the series of {m.source} and {base.source} differ at compared row {row + 1}; "
                "paired rows must be the same series (and time) in every file."
            )
    uniq, codes = np.unique(labels, return_inverse=True)
    return codes.reshape(-1), int(uniq.size)


def _compare_scaled(
    models: Sequence[Collected],
    loss: BoundLoss,
    baseline: str,
    keep: np.ndarray,
    w: np.ndarray | None,
    *,
    test: str,
    resamples: int,
    seed: int,
    confidence: float,
    horizon: int,
    progress: stats.Advance | None = None,
) -> _SpecialResult:
    """A scaled loss (mase): the cost is the mean over series of each series' value. Each
    row's value is reweighted by W / (S * W_s) (W all the weight, W_s its series', S the
    series), so that the (weighted) mean of the reweighted values is the cost and the
    per-row tests test its difference. rmsse, a mean of per-series roots, is bootstrapped
    by recomputing it on each resample; its other tests give the p-value of the reweighted
    squared errors (msse), without an interval, as for any finalized loss."""
    codes, n_series = _series_codes(models, keep)
    ws = np.bincount(codes, None if w is None else w, n_series)
    total = float(ws.sum())
    factor = total / (n_series * ws[codes])
    rooted = loss.finalizer is not None
    raw = {m.name: m.losses[loss.key][keep] for m in models}

    def per_series(name: str, counts: np.ndarray | None = None) -> np.ndarray:
        weight = w if counts is None else (counts if w is None else counts * w)
        top = np.bincount(codes, raw[name] if weight is None else weight * raw[name], n_series)
        den = ws if weight is None else np.bincount(codes, weight, n_series)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = top / den
        return np.sqrt(values) if rooted else values

    def cost(name: str, counts: np.ndarray | None = None) -> float:
        values = per_series(name, counts)
        used = values[np.isfinite(values)]
        return float(used.mean()) if used.size else math.nan

    costs = {name: cost(name) for name in raw}
    a = raw[baseline] * factor
    base_series = per_series(baseline)
    results: dict[str, stats.TestResult] = {}
    wins: dict[str, float | None] = {}
    series_wins: dict[str, tuple[float, int]] = {}
    for m in models:
        if m.name == baseline:
            continue
        name, b = m.name, raw[m.name] * factor
        delta = costs[name] - costs[baseline]
        if rooted and test == "bootstrap":
            results[name] = stats.bootstrap_statistic(
                int(keep.sum()), lambda c, name=name: cost(name, c) - cost(baseline, c),  # type: ignore[misc]
                resamples=resamples, seed=seed, confidence=confidence, progress=progress,
            )  # fmt: skip
        else:
            plain = replace(loss, spec=replace(loss.spec, finalize=None))
            r = _run_test(test, a, b, w, plain, resamples=resamples, seed=seed,
                          confidence=confidence, horizon=horizon, progress=progress)  # fmt: skip
            results[name] = stats.TestResult(delta, None, r.p_value) if rooted else r
        wins[name] = stats.win_rate(raw[baseline], raw[name], w)
        mine = per_series(name)
        won = float(np.sum(mine < base_series) + 0.5 * np.sum(mine == base_series))
        series_wins[name] = (won, n_series)
    return costs, results, wins, series_wins
