"""Per-sample losses into mergeable accumulators: the evaluation core (numpy only).

An :class:`Accumulator` holds the weighted sum, weight sum, count, min, max and
the weighted mean and sum of squared deviations (Chan et al.'s parallel update),
so ``a + b`` over chunks equals one pass over all rows, and so distributed
engines can map chunks and merge.
"""

from __future__ import annotations

import gc
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


def _block_stats(index: GroupIndex, values: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """Statistics of each group present in a block: a (6, groups) array of weight_sum,
    weighted_sum, mean, m2, min and max (the fields of :class:`Accumulator`)."""
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
    p = index.present
    return np.stack([ws[p], sums[p], means[p], m2[p], mins, maxs])


#: Rows of a :class:`GroupTable` statistics array.
_WS, _SUM, _MEAN, _M2, _MIN, _MAX = range(6)


@dataclass
class GroupTable:
    """The accumulators of every group, as columns: one (6, groups) array per loss key.

    Memory and time grow with the number of groups as arrays, not as Python objects
    (a million groups are a few arrays of a million floats), and blocks merge with a
    vectorised form of :meth:`Accumulator.__add__` (Chan et al.'s update).
    """

    keys: tuple[str, ...] = ()
    labels: list[str] = field(default_factory=list)
    slots: dict[str, int] = field(default_factory=dict)
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    stats: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.labels)

    def _slots_of(self, labels: Sequence[str]) -> np.ndarray:
        """Slots of ``labels``; new labels get new slots (arrays grow geometrically)."""
        out = np.empty(len(labels), dtype=np.intp)
        slots, known = self.slots, self.labels
        for i, label in enumerate(labels):
            slot = slots.get(label)
            if slot is None:
                slot = slots[label] = len(known)
                known.append(label)
            out[i] = slot
        if len(known) > self.rows.shape[0]:
            size = max(len(known), 2 * self.rows.shape[0], 16)
            rows = np.zeros(size, np.int64)
            rows[: self.rows.shape[0]] = self.rows
            self.rows = rows
            for key in self.keys:
                grown = np.zeros((6, size))
                grown[_MIN], grown[_MAX] = math.inf, -math.inf
                old = self.stats.get(key)
                if old is not None:
                    grown[:, : old.shape[1]] = old
                self.stats[key] = grown
        return out

    def _merge(self, slots: np.ndarray, key: str, block: np.ndarray, fresh: np.ndarray) -> None:
        cur = self.stats[key]
        ws_a, mean_a = cur[_WS, slots], cur[_MEAN, slots]
        ws_b, mean_b = block[_WS], block[_MEAN]
        ws = ws_a + ws_b
        delta = mean_b - mean_a
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(ws > 0, ws_b / ws, 0.0)
        mean = np.where(ws > 0, mean_a + delta * share, 0.0)
        m2 = np.where(ws > 0, cur[_M2, slots] + block[_M2] + delta * delta * ws_a * share, 0.0)
        # A group's first block is taken as it is, as Accumulator() + acc does.
        cur[_MEAN, slots] = np.where(fresh, mean_b, mean)
        cur[_M2, slots] = np.where(fresh, block[_M2], m2)
        cur[_WS, slots] = ws
        cur[_SUM, slots] += block[_SUM]
        cur[_MIN, slots] = np.minimum(cur[_MIN, slots], block[_MIN])
        cur[_MAX, slots] = np.maximum(cur[_MAX, slots], block[_MAX])

    def add(
        self,
        index: GroupIndex,
        per_sample: Mapping[str, np.ndarray],
        weight: np.ndarray | None,
    ) -> None:
        """Add one block (every loss key) whose rows are grouped by ``index``."""
        labels = [str(index.labels[g]) for g in index.present]
        slots = self._slots_of(labels)
        fresh = self.rows[slots] == 0
        for key, values in per_sample.items():
            self._merge(slots, key, _block_stats(index, values, weight), fresh)
        self.rows[slots] += index.counts[index.present]

    def merge(self, other: GroupTable) -> None:
        """Add the groups of ``other`` (disjoint rows) into this table."""
        if not len(other):
            return
        slots = self._slots_of(other.labels)
        fresh = self.rows[slots] == 0
        n = len(other)
        for key in self.keys:
            self._merge(slots, key, other.stats[key][:, :n], fresh)
        self.rows[slots] += other.rows[:n]

    def accumulator(self, label: str, key: str) -> Accumulator:
        slot = self.slots[label]
        n = int(self.rows[slot])
        if n == 0:
            return Accumulator()
        ws, s, mean, m2, lo, hi = (float(v) for v in self.stats[key][:, slot])
        return Accumulator(n, ws, s, mean, m2, lo, hi)


@dataclass
class Evaluation:
    """Accumulators of every loss key, overall and per group, fed chunk by chunk."""

    losses: Sequence[BoundLoss]
    overall: dict[str, Accumulator] = field(default_factory=dict)
    groups: GroupTable | None = None
    n_used: int = 0

    def _table(self) -> GroupTable:
        if self.groups is None:
            self.groups = GroupTable(tuple(loss.key for loss in self.losses))
        return self.groups

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
        for key, values in per_sample.items():
            n = values.shape[0]
            acc = Accumulator.of(values, weight)
            self.overall[key] = self.overall.get(key, Accumulator()) + acc
        if groups is not None and len(groups[0]):
            self._table().add(GroupIndex.of(*groups), per_sample, weight)
        self.n_used += n

    def merge(self, other: Evaluation) -> Evaluation:
        """Combine two evaluations of disjoint rows (chunks, partitions)."""
        out = Evaluation(self.losses)
        for src in (self, other):
            for key, acc in src.overall.items():
                out.overall[key] = out.overall.get(key, Accumulator()) + acc
            if src.groups is not None:
                out._table().merge(src.groups)
        out.n_used = self.n_used + other.n_used
        return out

    def loss_stats(self) -> dict[str, LossStats]:
        return {
            loss.key: self.overall.get(loss.key, Accumulator()).stats(loss) for loss in self.losses
        }

    def group_stats(self) -> dict[str, GroupStats]:
        table = self.groups
        if table is None:
            return {}
        n = len(table)
        rows = table.rows[:n].tolist()
        # Plain floats, one list per statistic: indexing numpy scalars one by one would
        # cost more than the whole evaluation for a million groups.
        columns = {loss.key: table.stats[loss.key][:, :n].tolist() for loss in self.losses}
        out: dict[str, GroupStats] = {}
        collecting = gc.isenabled()
        gc.disable()  # millions of new objects, no cycles: the collector would rescan them all
        try:
            self._fill(out, table, rows, columns)
        finally:
            if collecting:
                gc.enable()
        return out

    def _fill(
        self,
        out: dict[str, GroupStats],
        table: GroupTable,
        rows: list[int],
        columns: dict[str, list[list[float]]],
    ) -> None:
        for g in sorted(table.labels):
            slot = table.slots[g]
            stats = {}
            for loss in self.losses:
                c = columns[loss.key]
                acc = Accumulator(rows[slot], c[_WS][slot], c[_SUM][slot], c[_MEAN][slot],
                                  c[_M2][slot], c[_MIN][slot], c[_MAX][slot])  # fmt: skip
                stats[loss.key] = acc.stats(loss)
            out[g] = GroupStats(g, rows[slot], stats)


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
