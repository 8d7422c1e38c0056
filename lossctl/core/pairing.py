"""Pairing models row by row, and the per-loss comparison against the baseline.

Pure numpy: the compare flow collects each model's per-sample losses; this module
aligns them (by position, or by an id column), drops rows invalid for any model,
and runs the paired statistics of :mod:`lossctl.core.stats` for every loss and candidate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lossctl import options as defaults
from lossctl.core import stats
from lossctl.errors import InputError, UsageError
from lossctl.losses import BoundLoss
from lossctl.report import LossComparison, Versus

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
) -> stats.TestResult:
    finalize = loss.finalizer
    if test == "bootstrap":
        return stats.bootstrap(a, b, w, finalize, resamples=resamples, seed=seed,
                               confidence=confidence)  # fmt: skip
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
    wins: dict[str, float],
    confidence: float,
    test: str,
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
) -> dict[str, LossComparison]:
    """Per loss key: costs, best model, and each candidate against the baseline."""
    stats.check_test(test)
    keep = common_rows(models) if rows is None else rows
    stats.require_rows(test, int(keep.sum()))
    by_name = {m.name: m for m in models}
    base = by_name[baseline]
    w = None if base.weight is None else base.weight[keep]
    out: dict[str, LossComparison] = {}
    for loss in losses:
        finalize = loss.finalizer
        per_output = loss.outputs and finalize is not None
        arrays = {m.name: _values(loss, m, keep, w) for m in models}
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
                )  # fmt: skip
                a1, b1 = a.mean(axis=1), b.mean(axis=1)
            else:
                results[m.name] = _run_test(
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
) -> stats.TestResult:
    """A finalized loss on K outputs: the bootstrap resamples rows and recomputes the mean of
    the K finalized costs; the other tests run on the per-sample mean over the outputs
    (their p-value; no interval, as for any finalized loss)."""
    if test == "bootstrap":
        return stats.bootstrap(a, b, w, loss.finalizer, resamples=resamples, seed=seed,
                               confidence=confidence)  # fmt: skip
    if test == "permutation":
        raise UsageError(
            f"--test permutation on '{loss.key}' over {a.shape[1]} outputs is not defined "
            "(its statistic is the mean of per-output square roots); use --test bootstrap."
        )
    result = _run_test(test, a.mean(axis=1), b.mean(axis=1), w, loss, resamples=resamples,
                       seed=seed, confidence=confidence, horizon=horizon)  # fmt: skip
    return stats.TestResult(delta, None, result.p_value)
