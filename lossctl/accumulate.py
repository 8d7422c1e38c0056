"""Per-sample losses into mergeable accumulators: the evaluation core (numpy only).

An :class:`Accumulator` holds the weighted sum, weight sum, count, min, max and
the weighted mean and sum of squared deviations (Chan et al.'s parallel update),
so ``a + b`` over chunks equals one pass over all rows, and so distributed
engines can map chunks and merge.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from lossctl.losses import BoundLoss
from lossctl.report import GroupStats, LossStats


@dataclass
class Accumulator:
    """Running weighted statistics of per-sample loss values."""

    n: int = 0
    weight_sum: float = 0.0
    weighted_sum: float = 0.0
    mean: float = 0.0
    m2: float = 0.0  # sum of w (l - mean)²
    min: float = math.inf
    max: float = -math.inf

    @classmethod
    def of(cls, values: np.ndarray, weight: np.ndarray | None = None) -> Accumulator:
        """Statistics of one block of values (two-pass within the block: exact m2)."""
        n = int(values.shape[0])
        if n == 0:
            return cls()
        if weight is None:
            ws = float(n)
            s = float(values.sum())
            mean = s / n
            d = values - mean
            m2 = float(np.dot(d, d))
        else:
            ws = float(weight.sum())
            s = float(np.dot(weight, values))
            mean = s / ws if ws > 0 else 0.0
            d = values - mean
            m2 = float(np.dot(weight, d * d))
        return cls(n, ws, s, mean, m2, float(values.min()), float(values.max()))

    def __add__(self, other: Accumulator) -> Accumulator:
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        ws = self.weight_sum + other.weight_sum
        if ws > 0:
            delta = other.mean - self.mean
            mean = self.mean + delta * other.weight_sum / ws
            m2 = self.m2 + other.m2 + delta * delta * self.weight_sum * other.weight_sum / ws
        else:
            mean, m2 = 0.0, 0.0
        return Accumulator(
            self.n + other.n,
            ws,
            self.weighted_sum + other.weighted_sum,
            mean,
            m2,
            min(self.min, other.min),
            max(self.max, other.max),
        )

    def stats(self, loss: BoundLoss) -> LossStats:
        """Freeze into the report: cost = finalize(weighted mean)."""
        if self.weight_sum > 0:
            mean = self.weighted_sum / self.weight_sum
            cost = loss.finalize(mean)
            std = math.sqrt(max(self.m2, 0.0) / self.weight_sum)
        else:
            cost = std = math.nan
        return LossStats(
            key=loss.key,
            name=loss.name,
            params=dict(loss.params),
            cost=cost,
            sum=self.weighted_sum,
            std=std,
            min=self.min if self.n else math.nan,
            max=self.max if self.n else math.nan,
            n=self.n,
            weight_sum=self.weight_sum,
        )


@dataclass(frozen=True)
class GroupIndex:
    """Where each group's rows are in a block, computed once and shared by every loss."""

    codes: np.ndarray
    labels: Sequence[str]
    counts: np.ndarray
    present: np.ndarray
    order: np.ndarray
    bounds: np.ndarray

    @classmethod
    def of(cls, codes: np.ndarray, labels: Sequence[str]) -> GroupIndex:
        counts = np.bincount(codes, minlength=len(labels))
        present = np.flatnonzero(counts)
        order = np.argsort(codes, kind="stable")  # rows grouped: runs for reduceat
        bounds = np.concatenate(([0], np.cumsum(counts[present])[:-1])).astype(np.intp)
        return cls(codes, labels, counts, present, order, bounds)


def grouped(
    index: GroupIndex, values: np.ndarray, weight: np.ndarray | None
) -> dict[str, Accumulator]:
    """One accumulator per group of a block."""
    codes, k = index.codes, len(index.labels)
    ws = index.counts.astype(np.float64) if weight is None else np.bincount(codes, weight, k)
    sums = np.bincount(codes, values if weight is None else weight * values, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(ws > 0, sums / ws, 0.0)
    d = values - means[codes]
    d *= d
    if weight is not None:
        d *= weight
    m2 = np.bincount(codes, d, k)
    if index.present.size == 1:  # one group in this block: no reordering needed
        mins, maxs = np.array([values.min()]), np.array([values.max()])
    else:
        sorted_values = values[index.order]
        mins = np.minimum.reduceat(sorted_values, index.bounds)
        maxs = np.maximum.reduceat(sorted_values, index.bounds)
    out: dict[str, Accumulator] = {}
    for j, g in enumerate(index.present):
        out[str(index.labels[g])] = Accumulator(
            int(index.counts[g]), float(ws[g]), float(sums[g]), float(means[g]), float(m2[g]),
            float(mins[j]), float(maxs[j]),
        )  # fmt: skip
    return out


@dataclass
class Evaluation:
    """Accumulators of every loss key, overall and per group, fed chunk by chunk."""

    losses: Sequence[BoundLoss]
    overall: dict[str, Accumulator] = field(default_factory=dict)
    groups: dict[str, dict[str, Accumulator]] = field(default_factory=dict)
    group_rows: dict[str, int] = field(default_factory=dict)
    n_used: int = 0

    def add(
        self,
        per_sample: Mapping[str, np.ndarray],
        weight: np.ndarray | None = None,
        groups: tuple[np.ndarray, Sequence[str]] | None = None,
    ) -> None:
        """Add one block of per-sample losses (keyed by loss key).

        ``groups`` is (codes, labels): row i belongs to group ``labels[codes[i]]``.
        """
        n = 0
        index = GroupIndex.of(*groups) if groups is not None and len(groups[0]) else None
        for key, values in per_sample.items():
            n = values.shape[0]
            acc = Accumulator.of(values, weight)
            self.overall[key] = self.overall.get(key, Accumulator()) + acc
            if index is not None:
                for g, gacc in grouped(index, values, weight).items():
                    slot = self.groups.setdefault(g, {})
                    slot[key] = slot.get(key, Accumulator()) + gacc
        if index is not None:
            for g in index.present:
                label = str(index.labels[g])
                self.group_rows[label] = self.group_rows.get(label, 0) + int(index.counts[g])
        self.n_used += n

    def merge(self, other: Evaluation) -> Evaluation:
        """Combine two evaluations of disjoint rows (chunks, partitions)."""
        out = Evaluation(self.losses)
        for src in (self, other):
            for key, acc in src.overall.items():
                out.overall[key] = out.overall.get(key, Accumulator()) + acc
            for g, accs in src.groups.items():
                slot = out.groups.setdefault(g, {})
                for key, acc in accs.items():
                    slot[key] = slot.get(key, Accumulator()) + acc
            for g, c in src.group_rows.items():
                out.group_rows[g] = out.group_rows.get(g, 0) + c
        out.n_used = self.n_used + other.n_used
        return out

    def loss_stats(self) -> dict[str, LossStats]:
        return {
            loss.key: self.overall.get(loss.key, Accumulator()).stats(loss) for loss in self.losses
        }

    def group_stats(self) -> dict[str, GroupStats]:
        out = {}
        for g in sorted(self.groups):
            accs = self.groups[g]
            out[g] = GroupStats(
                g,
                self.group_rows.get(g, 0),
                {loss.key: accs.get(loss.key, Accumulator()).stats(loss) for loss in self.losses},
            )
        return out


def per_sample_losses(
    losses: Sequence[BoundLoss], y_true: np.ndarray, y_pred: np.ndarray
) -> dict[str, np.ndarray]:
    """Every loss's per-sample values for one block (domain errors propagate).

    Losses sharing a function and parameters (mse and rmse) are computed once.
    The inputs come from the validator, already finite, so only the losses'
    own domain checks (probabilities, positivity, labels) run.
    """
    out: dict[str, np.ndarray] = {}
    done: dict[tuple[object, tuple[tuple[str, object], ...]], np.ndarray] = {}
    for loss in losses:
        sig = (loss.spec.fn, tuple(sorted(loss.params.items())))
        if sig not in done:
            done[sig] = loss.per_sample(y_true, y_pred, finite=True)
        out[loss.key] = done[sig]
    return out
