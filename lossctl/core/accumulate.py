"""Per-sample losses into mergeable accumulators: the evaluation core (numpy only).

An :class:`Accumulator` holds the weighted sum, weight sum, count, min, max and
the weighted mean and sum of squared deviations (Chan et al.'s parallel update),
so ``a + b`` over chunks equals one pass over all rows, and so distributed
engines can map chunks and merge.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from lossctl.inputs.labels import LabelIndex, Labels
from lossctl.losses import BoundLoss
from lossctl.losses.spec import (
    ACCURACY_KEY,
    CONFIDENCE_KEY,
    DENOMINATOR,
    OUTPUT_SEP,
    SCALE_ABOVE,
    power_scale,
)
from lossctl.report import GroupStats, LossStats


def _scales(x: np.ndarray) -> np.ndarray:
    """:func:`power_scale` of each element."""
    big = np.isfinite(x) & (x > SCALE_ABOVE)
    if not big.any():
        return np.ones_like(x)
    return np.where(big, np.ldexp(1.0, np.frexp(x)[1] - 1), 1.0)


def _weighted_sum(weight: np.ndarray, values: np.ndarray) -> float:
    """Σ w·v by a pairwise sum (no BLAS)."""
    return float(np.multiply(weight, values).sum())


def _combine(a: tuple[Any, ...], b: tuple[Any, ...]) -> tuple[Any, Any, Any, Any, Any, Any]:
    """Chan et al.'s update of (weight_sum, weighted_sum, mean, m2, wscale, vscale),
    elementwise on floats or arrays, bringing both sides to the larger scales first."""
    ws_a, s_a, mean_a, m2_a, wsc_a, vsc_a = a
    ws_b, s_b, mean_b, m2_b, wsc_b, vsc_b = b
    if isinstance(ws_a, np.ndarray) and all((x == 1.0).all() for x in (wsc_a, wsc_b, vsc_a, vsc_b)):
        # Every scale 1 (values and weights far from the float64 limit): the same
        # arithmetic without the factors of 1, which change nothing (x * 1.0 == x).
        ws = ws_a + ws_b
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(ws > 0, ws_b / np.where(ws > 0, ws, 1.0), 0.0)
        delta = mean_b - mean_a
        mean = np.where(ws > 0, mean_a + delta * share, 0.0)
        m2 = np.where(ws > 0, m2_a + m2_b + delta * delta * ws_a * share, 0.0)
        return ws, s_a + s_b, mean, m2, wsc_a, vsc_a
    wsc, vsc = np.maximum(wsc_a, wsc_b), np.maximum(vsc_a, vsc_b)
    ra, rb = wsc_a / wsc, wsc_b / wsc  # powers of two: exact
    qa, qb = vsc_a / vsc, vsc_b / vsc
    ws_a, ws_b = ws_a * ra, ws_b * rb
    ws = ws_a + ws_b
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(ws > 0, ws_b / np.where(ws > 0, ws, 1.0), 0.0)
    delta = mean_b / vsc - mean_a / vsc
    mean = np.where(ws > 0, mean_a + delta * share * vsc, 0.0)
    m2 = np.where(
        ws > 0, m2_a * ra * qa * qa + m2_b * rb * qb * qb + delta * delta * ws_a * share, 0.0
    )
    return ws, s_a * ra + s_b * rb, mean, m2, wsc, vsc


@dataclass
class Accumulator:
    """Running weighted statistics of per-sample loss values.

    ``weight_sum`` and ``weighted_sum`` are in units of ``wscale``, ``m2`` in units of
    ``wscale * vscale**2`` (both powers of two, 1.0 unless weights or values come
    near the float64 limit), so the sums of 1e308 weights or squares of 1e200
    deviations stay finite; ``mean`` is in the values' own units.
    """

    n: int = 0
    weight_sum: float = 0.0
    weighted_sum: float = 0.0
    mean: float = 0.0
    m2: float = 0.0  # sum of w (l - mean)², scaled
    min: float = math.inf
    max: float = -math.inf
    wscale: float = 1.0
    vscale: float = 1.0

    @classmethod
    def of(cls, values: np.ndarray, weight: np.ndarray | None = None) -> Accumulator:
        """Statistics of one block of values (two-pass within the block: exact m2)."""
        n = int(values.shape[0])
        if n == 0:
            return cls()
        lo, hi = float(values.min()), float(values.max())
        vsc = power_scale(max(abs(lo), abs(hi)))
        wsc = 1.0
        if weight is None:
            ws = float(n)
            s = float(values.sum())
        else:
            wsc = power_scale(float(weight.max()))
            if wsc != 1.0:
                weight = weight / wsc
            ws = float(weight.sum())
            s = _weighted_sum(weight, values)
        if vsc == 1.0:
            mean = s / ws if ws > 0 else 0.0
            d = values - mean
        else:
            scaled = values / vsc
            total = float(scaled.sum() if weight is None else _weighted_sum(weight, scaled))
            mean = total / ws * vsc if ws > 0 else 0.0
            d = scaled - mean / vsc
        # In place, and numpy's pairwise sums rather than BLAS dot products: no BLAS
        # threads competing with the reading threads, and more accurate sums.
        np.multiply(d, d, out=d)
        if weight is not None:
            d *= weight
        m2 = float(d.sum())
        return cls(n, ws, s, mean, m2, lo, hi, wsc, vsc)

    def __add__(self, other: Accumulator) -> Accumulator:
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        mine = (self.weight_sum, self.weighted_sum, self.mean, self.m2, self.wscale, self.vscale)
        theirs = (other.weight_sum, other.weighted_sum, other.mean, other.m2)
        ws, s, mean, m2, wsc, vsc = (
            float(v) for v in _combine(mine, (*theirs, other.wscale, other.vscale))
        )
        return Accumulator(
            self.n + other.n,
            ws,
            s,
            mean,
            m2,
            min(self.min, other.min),
            max(self.max, other.max),
            wsc,
            vsc,
        )

    def stats(self, loss: BoundLoss) -> LossStats:
        """Freeze into the report: cost = finalize(weighted mean)."""
        if self.weight_sum > 0:
            mean = self.weighted_sum / self.weight_sum
            if not math.isfinite(mean):  # the sum overflowed: the running mean has it
                mean = self.mean
            cost = loss.finalize(mean)
            std = self.vscale * math.sqrt(max(self.m2, 0.0) / self.weight_sum)
        else:
            cost = std = math.nan
        spread: tuple[float | None, float | None, float | None] = (
            std,
            self.min if self.n else math.nan,
            self.max if self.n else math.nan,
        )
        if loss.spec.finalize is not None:  # per-sample values in other units than the cost
            spread = (None, None, None)
        return LossStats(
            key=loss.key,
            name=loss.name,
            params=dict(loss.params),
            cost=cost,
            sum=self.weighted_sum * self.wscale,
            std=spread[0],
            min=spread[1],
            max=spread[2],
            n=self.n,
            weight_sum=self.weight_sum * self.wscale,
        )


@dataclass(frozen=True)
class GroupIndex:
    """Where each group's rows are in a block, computed once and shared by every loss:
    ``order`` puts each group's rows together, ``bounds`` are where the runs start and
    ``present`` the group of each run."""

    codes: np.ndarray
    labels: Sequence[str]
    counts: np.ndarray
    present: np.ndarray
    order: np.ndarray
    bounds: np.ndarray
    #: Every label has rows, the runs in label order: ``present`` is 0, 1, ... (indexing
    #: by it would change nothing).
    every: bool = False

    @classmethod
    def of(
        cls, codes: np.ndarray, labels: Sequence[str], order: np.ndarray | None = None
    ) -> GroupIndex:
        """The runs of ``codes`` (by code), or those of ``order`` when given (an order
        of the rows that puts each group's rows together: the runs in any order)."""
        k = len(labels)
        counts = np.bincount(codes, minlength=k)
        if order is not None:
            ranked = codes[order]
            change = np.flatnonzero(ranked[1:] != ranked[:-1]) + 1
            bounds = np.concatenate(([0], change)).astype(np.intp)
            present = ranked[bounds]
            every = present.shape[0] == k and bool((present == np.arange(k)).all())
            return cls(codes, labels, counts, present, order, bounds, every)
        present = np.flatnonzero(counts)
        # Rows grouped: runs for reduceat (few groups: small codes, which numpy's stable
        # sort orders by radix, in linear time).
        small = next((t for t in (np.uint8, np.uint16) if k <= np.iinfo(t).max + 1), None)
        order = np.argsort(codes if small is None else codes.astype(small), kind="stable")
        bounds = np.concatenate(([0], np.cumsum(counts[present])[:-1])).astype(np.intp)
        return cls(codes, labels, counts, present, order, bounds, present.shape[0] == k)


def _block_stats(index: GroupIndex, values: np.ndarray, weight: np.ndarray | None) -> np.ndarray:
    """Statistics of each group present in a block: an (8, groups) array of weight_sum,
    weighted_sum, mean, m2, min, max, wscale and vscale (the fields of
    :class:`Accumulator`)."""
    codes, k, p = index.codes, len(index.labels), index.present
    every = index.every  # (and then runs in code order: p is 0, 1, ..., k - 1)
    if index.present.size == 1:  # one group in this block: no reordering needed
        mins, maxs = np.array([values.min()]), np.array([values.max()])
    else:
        sorted_values = values[index.order]
        mins = np.minimum.reduceat(sorted_values, index.bounds)
        maxs = np.maximum.reduceat(sorted_values, index.bounds)
    vsc_p = _scales(np.maximum(np.abs(mins), np.abs(maxs)))
    wsc_p = np.ones_like(vsc_p)
    if weight is not None:
        wmax = float(weight.max())
        if power_scale(wmax) != 1.0:
            wsc_p = _scales(np.maximum.reduceat(weight[index.order], index.bounds))
            wsc = wsc_p if every else np.ones(k)
            if not every:
                wsc[p] = wsc_p
            weight = weight / wsc[codes]
    ws = index.counts.astype(np.float64) if weight is None else np.bincount(codes, weight, k)
    sums = np.bincount(codes, values if weight is None else weight * values, k)
    scaled = (vsc_p != 1.0).any()
    vsc = vsc_p if every else np.ones(k)
    if scaled:
        if not every:
            vsc[p] = vsc_p
        values = values / vsc[codes]
        top = np.bincount(codes, values if weight is None else weight * values, k)
    else:
        top = sums
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(ws > 0, top / ws, 0.0)  # in units of vscale
    d = values - means[codes]
    d *= d
    if weight is not None:
        d *= weight
    m2 = np.bincount(codes, d, k)
    if every:
        return np.stack([ws, sums, means * vsc, m2, mins, maxs, wsc_p, vsc_p])
    return np.stack([ws[p], sums[p], means[p] * vsc[p], m2[p], mins, maxs, wsc_p, vsc_p])


#: Rows of a :class:`GroupTable` statistics array.
_WS, _SUM, _MEAN, _M2, _MIN, _MAX, _WSC, _VSC = range(8)
#: The rows :func:`_combine` merges.
_FIELDS = (_WS, _SUM, _MEAN, _M2, _WSC, _VSC)


def _empty_stats(size: int) -> np.ndarray:
    """(8, size) statistics of groups without rows (those of ``Accumulator()``)."""
    out = np.zeros((8, size))
    out[_MIN], out[_MAX] = math.inf, -math.inf
    out[_WSC], out[_VSC] = 1.0, 1.0
    return out


@dataclass
class GroupTable:
    """The accumulators of every group, as columns: one (8, groups) array per loss key.

    Memory and time grow with the number of groups as arrays, not as Python objects
    (a million groups are a few arrays of a million floats), and blocks merge with a
    vectorised form of :meth:`Accumulator.__add__` (Chan et al.'s update).
    """

    keys: tuple[str, ...] = ()
    #: The label of each slot, and the slot of each label (vectorised: no dict).
    index: LabelIndex = field(default_factory=LabelIndex)
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    stats: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.index)

    @property
    def labels(self) -> Labels:
        """The label of each slot."""
        return self.index.labels

    def columns(self, key: str) -> np.ndarray:
        """The (8, groups) statistics of ``key`` (a view, without the spare room)."""
        return self.stats[key][:, : len(self)]

    def _slots_of(self, labels: Labels) -> np.ndarray:
        """Slots of ``labels``; new labels get new slots (arrays grow geometrically)."""
        out = self.index.slots(labels)
        known = len(self.index)
        if known > self.rows.shape[0]:
            size = max(known, 2 * self.rows.shape[0], 16)
            rows = np.zeros(size, np.int64)
            rows[: self.rows.shape[0]] = self.rows
            self.rows = rows
            for key in self.keys:
                grown = _empty_stats(size)
                old = self.stats.get(key)
                if old is not None:
                    grown[:, : old.shape[1]] = old
                self.stats[key] = grown
        return out

    def _merge(self, slots: np.ndarray, key: str, block: np.ndarray, fresh: np.ndarray) -> None:
        """Merge the (8, groups) ``block`` into the groups at ``slots``, row by row (numpy
        gathers and scatters one-dimensional arrays fastest)."""
        cur = self.stats[key]
        if fresh.all():  # a group's first block is taken as it is (Accumulator() + acc)
            for f in range(8):
                cur[f][slots] = block[f]
            return
        mine = [np.take(cur[f], slots) for f in range(8)]
        merged = _combine(tuple(mine[f] for f in _FIELDS), tuple(block[f] for f in _FIELDS))
        some = fresh.any()
        for f, value in zip(_FIELDS, merged, strict=True):
            cur[f][slots] = np.where(fresh, block[f], value) if some else value
        cur[_MIN][slots] = np.minimum(mine[_MIN], block[_MIN])
        cur[_MAX][slots] = np.maximum(mine[_MAX], block[_MAX])

    def add(
        self,
        index: GroupIndex,
        per_sample: Mapping[str, np.ndarray],
        weight: np.ndarray | None,
    ) -> None:
        """Add one block (every loss key) whose rows are grouped by ``index``."""
        every = index.every
        labels = Labels.of(index.labels)
        labels = labels if every else labels.subset(index.present)
        counts = index.counts if every else index.counts[index.present]
        blocks: dict[int, np.ndarray] = {}  # losses sharing their values (mse, rmse): once
        if not len(self) and labels.distinct:  # the first block: its arrays, as they are
            self.index.slots(labels)  # slots 0, 1, ...
            self.rows = counts.astype(np.int64)
            for key in self.keys:
                values = per_sample.get(key)
                if values is None:
                    self.stats[key] = _empty_stats(len(labels))
                elif id(values) in blocks:
                    self.stats[key] = blocks[id(values)].copy()
                else:
                    self.stats[key] = blocks[id(values)] = _block_stats(index, values, weight)
            return
        slots = self._slots_of(labels)
        fresh = self.rows[slots] == 0
        for key, values in per_sample.items():
            block = blocks.get(id(values))
            if block is None:
                block = blocks[id(values)] = _block_stats(index, values, weight)
            self._merge(slots, key, block, fresh)
        self.rows[slots] += counts

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
        slot = self.index.slot(label)
        if slot is None:
            raise KeyError(label)
        n = int(self.rows[slot])
        if n == 0:
            return Accumulator()
        ws, s, mean, m2, lo, hi, wsc, vsc = (float(v) for v in self.stats[key][:, slot])
        return Accumulator(n, ws, s, mean, m2, lo, hi, wsc, vsc)


@dataclass
class BinTable:
    """The confidence-bin sums of one binned loss (ece), overall and per group: (3, B)
    arrays of weight, weighted confidence and weighted accuracy that add up across blocks."""

    bins: int
    overall: np.ndarray = field(default_factory=lambda: np.zeros(0))
    index: LabelIndex = field(default_factory=LabelIndex)
    groups: np.ndarray = field(default_factory=lambda: np.zeros((0, 3, 0)))

    def __post_init__(self) -> None:
        if not self.overall.size:
            self.overall = np.zeros((3, self.bins))
        if not self.groups.shape[0]:  # (0, 3, B): the first groups grow it along axis 0
            self.groups = np.zeros((0, 3, self.bins))

    @property
    def labels(self) -> Labels:
        """The groups, in order of first appearance."""
        return self.index.labels

    def _grow(self, labels: Labels) -> np.ndarray:
        out = self.index.slots(labels)
        known = len(self.index)
        if known > self.groups.shape[0]:
            grown = np.zeros((max(known, 2 * self.groups.shape[0], 16), 3, self.bins))
            grown[: self.groups.shape[0]] = self.groups
            self.groups = grown
        return out

    def add(
        self,
        confidence: np.ndarray,
        accuracy: np.ndarray,
        weight: np.ndarray | None,
        groups: tuple[np.ndarray, Sequence[str]] | None = None,
    ) -> None:
        from lossctl.losses.calibration import bin_sums

        self.overall += bin_sums(confidence, accuracy, self.bins, weight)
        if groups is None or not len(groups[0]):
            return
        codes, labels = groups
        per = bin_sums(confidence, accuracy, self.bins, weight, codes, len(labels))
        present = np.flatnonzero(np.bincount(codes, minlength=len(labels)))
        slots = self._grow(Labels.of(labels).subset(present))
        self.groups[slots] += per[present]

    def merge(self, other: BinTable) -> None:
        self.overall += other.overall
        if len(other.index):
            slots = self._grow(other.labels)
            self.groups[slots] += other.groups[: len(other.index)]

    def of(self, label: str | None = None) -> np.ndarray:
        """The (3, B) sums overall, or of one group."""
        if label is None:
            return self.overall
        slot = self.index.slot(label)
        return np.zeros((3, self.bins)) if slot is None else self.groups[slot]


def series_index(
    series: tuple[np.ndarray, Sequence[str]], groups: tuple[np.ndarray, Sequence[str]] | None
) -> GroupIndex:
    """The rows of each series in a block; with ``groups``, of each (group, series) pair,
    labelled ``group`` + :data:`OUTPUT_SEP` + ``series``."""
    codes, labels = series
    if groups is None:
        return GroupIndex.of(codes, labels)
    gcodes, glabels = groups
    pair = gcodes.astype(np.int64) * max(len(labels), 1) + codes
    uniq, inverse = np.unique(pair, return_inverse=True)
    width = max(len(labels), 1)
    named = [f"{glabels[u // width]}{OUTPUT_SEP}{labels[u % width]}" for u in uniq.tolist()]
    return GroupIndex.of(inverse.reshape(-1).astype(np.intp), named)


def series_costs(table: GroupTable, loss: BoundLoss) -> tuple[list[str], np.ndarray]:
    """Each series' value of a scaled loss (its weighted mean, finalized), by label."""
    stats = table.columns(loss.key)
    ws, sums = stats[_WS], stats[_SUM]
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(ws > 0, sums / np.where(ws > 0, ws, 1.0), np.nan)
    if loss.finalizer is not None:
        values = np.sqrt(values)
    return table.labels.tolist(), values


def _mean_over_series(values: np.ndarray) -> float:
    used = values[np.isfinite(values)]
    return float(np.mean(used)) if used.size else math.nan


@dataclass
class Evaluation:
    """Accumulators of every loss key, overall and per group, fed chunk by chunk."""

    losses: Sequence[BoundLoss]
    overall: dict[str, Accumulator] = field(default_factory=dict)
    groups: GroupTable | None = None
    n_used: int = 0
    #: The diagnostics' sums (weighted values, weights), overall only, by their own keys.
    extra: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: The bin sums of each binned loss (ece), by loss key.
    bins: dict[str, BinTable] = field(default_factory=dict)
    #: Per series (and per (group, series) pair with groups), the accumulators of the
    #: scaled losses (mase): their cost is a mean over series.
    series: GroupTable | None = None
    group_series: GroupTable | None = None
    #: The fingerprint of the rows used (:mod:`lossctl.core.fingerprint`), a sum mod 2**64,
    #: and that of their targets and weights alone (the data, without the predictions).
    fingerprint: int = 0
    targets_print: int = 0

    def __post_init__(self) -> None:
        for loss in self.losses:
            if loss.spec.binned and loss.key not in self.bins:
                self.bins[loss.key] = BinTable(loss.bins)

    @property
    def scaled_keys(self) -> tuple[str, ...]:
        return tuple(loss.key for loss in self.losses if loss.spec.scaled is not None)

    def _table(self) -> GroupTable:
        if self.groups is None:
            self.groups = GroupTable(all_keys(self.losses))
        return self.groups

    def _series_tables(self, grouped: bool) -> tuple[GroupTable, GroupTable | None]:
        if self.series is None:
            self.series = GroupTable(self.scaled_keys)
        if grouped and self.group_series is None:
            self.group_series = GroupTable(self.scaled_keys)
        return self.series, self.group_series

    def add(
        self,
        per_sample: Mapping[str, np.ndarray],
        weight: np.ndarray | None = None,
        groups: tuple[np.ndarray, Sequence[str]] | None = None,
        series: tuple[np.ndarray, Sequence[str]] | None = None,
        group_order: np.ndarray | None = None,
    ) -> None:
        """Add one block of per-sample losses (keyed by loss key).

        ``groups`` is (codes, labels): row i belongs to group ``labels[codes[i]]``;
        ``series`` the same for the series of a panel (the scaled losses need it);
        ``group_order`` an order of the rows that puts each group's rows together, if
        known (:class:`GroupIndex`).
        A binned loss's confidence and accuracy go to its bins, not to accumulators.
        """
        n = 0
        if self.bins:
            per_sample = dict(per_sample)
            for key, bins in self.bins.items():
                conf = per_sample.pop(key + CONFIDENCE_KEY)
                bins.add(conf, per_sample.pop(key + ACCURACY_KEY), weight, groups)
                n = conf.shape[0]
        # Losses that share their per-sample values (mse and rmse) share one pass.
        done: dict[int, Accumulator] = {}
        for key, values in per_sample.items():
            n = values.shape[0]
            acc = done.get(id(values))
            if acc is None:
                acc = done[id(values)] = Accumulator.of(values, weight)
            self.overall[key] = self.overall.get(key, Accumulator()) + acc
        grouped = groups is not None and len(groups[0]) > 0
        if grouped:
            assert groups is not None  # a table of binned losses alone counts the rows
            self._table().add(GroupIndex.of(*groups, group_order), per_sample, weight)
        scaled = self.scaled_keys
        if scaled and series is not None and len(series[0]):
            per_series, pairs = self._series_tables(grouped)
            scaled_values = {k: per_sample[k] for k in scaled}
            per_series.add(GroupIndex.of(*series), scaled_values, weight)
            if pairs is not None:
                pairs.add(series_index(series, groups if grouped else None), scaled_values, weight)
        self.n_used += n

    def add_extra(self, sums: Mapping[str, tuple[float, float]]) -> None:
        """Add one block's diagnostic sums (overall, no groups)."""
        for key, (top, weight) in sums.items():
            old = self.extra.get(key, (0.0, 0.0))
            self.extra[key] = (old[0] + top, old[1] + weight)

    def merge(self, other: Evaluation) -> Evaluation:
        """Combine two evaluations of disjoint rows (chunks, partitions) into a new one."""
        out = Evaluation(self.losses)
        out.update(self)
        out.update(other)
        return out

    def update(self, other: Evaluation) -> None:
        """Add ``other`` (disjoint rows) into this evaluation in place.

        Engines merging part after part use this: :meth:`merge` copies this evaluation's
        tables each time, so merging P parts into one would copy every group and series
        seen so far P times (minutes for a million series in a hundred files).
        """
        for key, acc in other.overall.items():
            self.overall[key] = self.overall.get(key, Accumulator()) + acc
        self.add_extra(other.extra)
        if other.groups is not None:
            self._table().merge(other.groups)
        for key, table in other.bins.items():
            self.bins[key].merge(table)
        if other.series is not None:
            mine, pairs = self._series_tables(other.group_series is not None)
            mine.merge(other.series)
            if pairs is not None and other.group_series is not None:
                pairs.merge(other.group_series)
        self.n_used += other.n_used
        self.fingerprint = (self.fingerprint + other.fingerprint) & ((1 << 64) - 1)
        self.targets_print = (self.targets_print + other.targets_print) & ((1 << 64) - 1)

    @property
    def weight_sum(self) -> float:
        """The sum of the weights of the rows used (their count without weights)."""
        for acc in self.overall.values():
            return acc.weight_sum * acc.wscale
        return next((float(t.overall[0].sum()) for t in self.bins.values()), 0.0)

    def loss_stats(self) -> dict[str, LossStats]:
        out = {}
        for loss in self.losses:
            if loss.spec.binned:
                out[loss.key] = binned_stats(loss, self.bins[loss.key].of(), self.n_used)
                continue
            stats = loss_stats(loss, self.overall)
            if loss.spec.scaled is not None:
                values = np.zeros(0) if self.series is None else series_costs(self.series, loss)[1]
                stats = replace(stats, cost=_mean_over_series(values), series=int(values.size))
            out[loss.key] = stats
        return out

    def series_values(self, loss: BoundLoss) -> dict[str, float]:
        """Each series' value of a scaled loss, by series label."""
        if self.series is None:
            return {}
        labels, values = series_costs(self.series, loss)
        return dict(zip(labels, values.tolist(), strict=True))

    def series_labels(self) -> list[str]:
        """Every series seen (scaled losses only)."""
        return [] if self.series is None else list(self.series.labels)

    def _group_series(self) -> dict[str, dict[str, tuple[float, int]]]:
        """Per scaled loss key, per group: the mean over the group's series and their count."""
        table = self.group_series
        if table is None:
            return {}
        out: dict[str, dict[str, tuple[float, int]]] = {}
        group_of = [label.partition(OUTPUT_SEP)[0] for label in table.labels]
        names, codes = np.unique(np.array(group_of, dtype=object), return_inverse=True)
        for loss in self.losses:
            if loss.spec.scaled is None:
                continue
            values = series_costs(table, loss)[1]
            ok = np.isfinite(values)
            total = np.bincount(codes[ok], values[ok], len(names))
            count = np.bincount(codes[ok], minlength=len(names))
            out[loss.key] = {
                str(g): (float(t / c) if c else math.nan, int(c))
                for g, t, c in zip(names.tolist(), total.tolist(), count.tolist(), strict=True)
            }
        return out

    @property
    def n_groups(self) -> int:
        return 0 if self.groups is None else len(self.groups)

    def group_stats(self) -> Mapping[str, GroupStats]:
        """Each group's statistics, in label order, built when a group is read: a million
        groups cost nothing until a renderer (or a gate) looks at them."""
        table = self.groups
        if table is None:
            return {}
        return LazyGroups(self, table)

    def _group_of(self, slot: int, g: str, columns: dict[str, list[list[float]]],
                  rows: list[int], per_group: dict[str, dict[str, tuple[float, int]]],
                  ) -> GroupStats:  # fmt: skip
        accs = {}
        for key, c in columns.items():
            accs[key] = Accumulator(rows[slot], c[_WS][slot], c[_SUM][slot], c[_MEAN][slot],
                                    c[_M2][slot], c[_MIN][slot], c[_MAX][slot],
                                    c[_WSC][slot], c[_VSC][slot])  # fmt: skip
        stats = {}
        for loss in self.losses:
            if loss.spec.binned:
                stats[loss.key] = binned_stats(loss, self.bins[loss.key].of(g), rows[slot])
                continue
            stats[loss.key] = loss_stats(loss, accs)
            if loss.key in per_group:
                cost, count = per_group[loss.key].get(g, (math.nan, 0))
                stats[loss.key] = replace(stats[loss.key], cost=cost, series=count)
        return GroupStats(g, rows[slot], stats)


def _plain_columns(loss: BoundLoss, stats: np.ndarray, rows: np.ndarray) -> dict[str, Any]:
    """:meth:`Accumulator.stats` of every group at once (the same arithmetic, in numpy):
    lists by slot of cost, sum, std, min, max and weight_sum."""
    ws, s, mean, m2 = stats[_WS], stats[_SUM], stats[_MEAN], stats[_M2]
    wsc, vsc = stats[_WSC], stats[_VSC]
    has = ws > 0
    safe = np.where(has, ws, 1.0)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        means = s / safe
        means = np.where(np.isfinite(means), means, mean)  # the sum overflowed
        std = np.where(has, vsc * np.sqrt(np.maximum(m2, 0.0) / safe), math.nan)
    means = np.where(has, means, math.nan)
    fin = loss.finalizer
    cost = means.tolist() if fin is None else [fin(m) if m == m else m for m in means.tolist()]
    if fin is not None:  # per-sample values in other units than the cost: no spread
        std_l: list[Any] = [None] * len(rows)
        lo: list[Any] = std_l
        hi: list[Any] = std_l
    else:
        seen = rows > 0
        std_l = std.tolist()
        lo = np.where(seen, stats[_MIN], math.nan).tolist()
        hi = np.where(seen, stats[_MAX], math.nan).tolist()
    return {
        "params": dict(loss.params), "cost": cost, "sum": (s * wsc).tolist(), "std": std_l,
        "min": lo, "max": hi, "weight_sum": (ws * wsc).tolist(),
    }  # fmt: skip


class LazyGroups(Mapping[str, GroupStats]):
    """The groups of an :class:`Evaluation`, in label order; a group's
    :class:`~lossctl.report.GroupStats` is made when it is first read, and kept."""

    def __init__(self, evaluation: Evaluation, table: GroupTable) -> None:
        self._evaluation = evaluation
        self._table = table
        self._labels: list[str] | None = None  # in label order, made when first needed
        self._slots: dict[str, int] = {}  # the slot of each label, made with them
        self._rows: list[int] = []
        self._columns: dict[str, list[list[float]]] | None = None
        self._per_group: dict[str, dict[str, tuple[float, int]]] | None = None
        self._made: dict[str, GroupStats] = {}
        #: When every loss is plain (no outputs, ratio, bins or series), the statistics of
        #: every group at once, as lists by slot: no Accumulator per group.
        self._is_plain = all(
            not loss.outputs and loss.spec.denominator is None and not loss.spec.binned
            and loss.spec.scaled is None
            for loss in evaluation.losses
        )  # fmt: skip
        self._plain: dict[str, dict[str, Any]] | None = None

    def __getitem__(self, g: str) -> GroupStats:
        made = self._made.get(g)
        if made is not None:
            return made
        slot = self._slot(g)
        if slot is None:
            raise KeyError(g)
        if not self._rows:  # the lists are made on the first read: none if none is read
            n = len(self._table)
            self._rows = self._table.rows[:n].tolist()
            if self._is_plain:
                self._plain = {
                    loss.key: _plain_columns(
                        loss, self._table.columns(loss.key), self._table.rows[:n]
                    )
                    for loss in self._evaluation.losses
                }
        if self._plain is not None:
            made = self._made[g] = self._plain_group(slot, g, self._plain)
            return made
        if self._columns is None:
            # Plain floats, one list per statistic: indexing numpy scalars one by one
            # would cost more than the whole evaluation for a million groups.
            n = len(self._table)
            keys = all_keys(self._evaluation.losses)
            self._columns = {key: self._table.columns(key).tolist() for key in keys}
        if self._per_group is None:
            ev = self._evaluation
            self._per_group = ev._group_series() if ev.group_series is not None else {}
        made = self._made[g] = self._evaluation._group_of(
            slot, g, self._columns, self._rows, self._per_group
        )
        return made

    def _plain_group(self, slot: int, g: str, plain: dict[str, dict[str, Any]]) -> GroupStats:
        n = self._rows[slot]
        stats = {}
        for loss in self._evaluation.losses:
            c = plain[loss.key]
            stats[loss.key] = LossStats.quick(
                loss.key,
                loss.name,
                c["params"],
                c["cost"][slot],
                c["sum"][slot],
                c["std"][slot],
                c["min"][slot],
                c["max"][slot],
                n,
                c["weight_sum"][slot],
            )
        return GroupStats(g, n, stats)

    def _sorted(self) -> list[str]:
        """The labels in order (sorted as arrays, decoded once) and their slots."""
        if self._labels is None:
            index = self._table.index
            order = index.order()
            self._labels = index.labels.subset(order).tolist()
            self._slots = dict(zip(self._labels, order.tolist(), strict=True))
        return self._labels

    def _slot(self, g: object) -> int | None:
        if not isinstance(g, str):
            return None
        self._sorted()
        return self._slots.get(g)

    def __iter__(self) -> Iterator[str]:
        return iter(self._sorted())

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, g: object) -> bool:
        return self._slot(g) is not None

    def __repr__(self) -> str:
        return f"<{len(self)} groups>"


def per_sample_losses(
    losses: Sequence[BoundLoss],
    y_true: np.ndarray,
    y_pred: np.ndarray,
    scales: Mapping[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Every loss's per-sample values for one block (domain errors propagate).

    Losses sharing a function and parameters (mse and rmse, mae and mase) are computed
    once. The inputs come from the validator, already finite, so only the losses'
    own domain checks (probabilities, positivity, labels) run. ``scales`` holds each
    row's series scale by kind (``abs``, ``squared``) for the scaled losses; a binned
    loss (ece) gives its rows' confidence and accuracy under its key +
    :data:`CONFIDENCE_KEY` / :data:`ACCURACY_KEY`.
    """
    out: dict[str, np.ndarray] = {}
    done: dict[tuple[object, tuple[tuple[str, object], ...], tuple[float, ...]], np.ndarray] = {}
    for loss in losses:
        if loss.spec.binned:
            from lossctl.losses.calibration import confidence_accuracy

            loss.check(y_true, y_pred, finite=True)
            conf, acc = confidence_accuracy(y_true, y_pred, loss.spec.task)
            out[loss.key + CONFIDENCE_KEY], out[loss.key + ACCURACY_KEY] = conf, acc
            continue
        sig = (loss.spec.fn, tuple(sorted(loss.params.items())), loss.levels)
        multiple = loss.spec.multiple_of
        base = None if multiple is None else (multiple[0], (), loss.levels)
        if base is not None and base in done and sig not in done and not loss.outputs:
            assert multiple is not None
            done[sig] = multiple[1] * done[base]  # wis = 2 x the mean pinball
        if sig not in done:
            plain = (
                loss
                if loss.spec.scaled is None
                else replace(loss, spec=replace(loss.spec, scaled=None))
            )
            if loss.outputs:  # (n, K): one column per output; the per-sample value is their mean
                done[sig] = plain.per_output(y_true, y_pred, finite=True)
            else:
                done[sig] = plain.per_sample(y_true, y_pred, finite=True)
        values = done[sig]
        if loss.spec.scaled is not None:
            if scales is None:
                loss.per_sample(y_true, y_pred)  # the error that says what it needs
            assert scales is not None
            with np.errstate(divide="ignore", invalid="ignore"):  # unknown series: NaN
                out[loss.key] = values / scales[loss.spec.scaled]
            continue
        if loss.outputs:
            out[loss.key] = values.mean(axis=1)
            for j, key in enumerate(loss.output_keys):
                out[key] = values[:, j]
        else:
            out[loss.key] = values
        if loss.spec.denominator is not None:
            den = loss.denominators(y_true)
            if loss.outputs:
                out[loss.key + DENOMINATOR] = den.mean(axis=1)
                for j, key in enumerate(loss.output_keys):
                    out[key + DENOMINATOR] = den[:, j]
            else:
                out[loss.key + DENOMINATOR] = den
    return out


def binned_stats(loss: BoundLoss, sums: np.ndarray, n: int) -> LossStats:
    """The report of a binned loss (ece) from its (3, B) bin sums: a cost, no spread."""
    from lossctl.losses.calibration import calibration_error

    assert loss.spec.calibration is not None
    return LossStats(
        key=loss.key, name=loss.name, params=dict(loss.params),
        cost=calibration_error(sums, loss.spec.calibration), sum=None, std=None, min=None,
        max=None, n=n, weight_sum=float(sums[0].sum()),
    )  # fmt: skip


def loss_stats(loss: BoundLoss, accumulators: Mapping[str, Accumulator]) -> LossStats:
    """The report of one loss from its accumulators. On K outputs the cost is the mean of
    the outputs' costs (each finalized), and ``outputs`` holds them by output name."""
    main = accumulators.get(loss.key, Accumulator()).stats(loss)
    if not loss.outputs:
        if loss.spec.denominator is None:  # the cost is the accumulator's own
            return main
        return replace(main, cost=_ratio(loss, loss.key, accumulators, main))
    single = replace(loss, outputs=())
    per = {}
    for name, key in zip(loss.outputs, loss.output_keys, strict=True):
        stats = accumulators.get(key, Accumulator()).stats(single)
        per[name] = _ratio(loss, key, accumulators, stats)
    return replace(main, cost=math.fsum(per.values()) / len(per), outputs=per)


def _ratio(
    loss: BoundLoss, key: str, accumulators: Mapping[str, Accumulator], stats: LossStats
) -> float:
    """The cost of ``key``: its weighted mean (finalized), or for a ratio loss (wape) the sum
    of its values over the sum of its denominators."""
    if loss.spec.denominator is None:
        return stats.cost
    den = accumulators.get(key + DENOMINATOR, Accumulator()).stats(loss).sum
    assert den is not None and stats.sum is not None  # accumulators always have sums
    return stats.sum / den if den > 0 else math.nan


def all_keys(losses: Sequence[BoundLoss]) -> tuple[str, ...]:
    """The accumulator keys of the losses (each loss key, its outputs', denominators)."""
    return tuple(k for loss in losses for k in loss.accumulator_keys)
