"""The per-series scales of the scaled forecast errors (mase, msse, rmsse), from the history.

:class:`HistoryScales` reads a history chunk by chunk in one pass and keeps, per
series, the sums of |y_t - y_{t-m}| and (y_t - y_{t-m})², their count, and the last
m values (to pair with the next chunk's first ones): memory grows with the number
of series times m, not with the history. Rows of a series must come in time order
across chunks (within a chunk they are sorted by the time key); a series whose time
goes back raises :class:`Unordered`, and the caller sorts the history whole instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from lossctl.errors import InputError
from lossctl.inputs.labels import LabelIndex

if TYPE_CHECKING:
    from lossctl.inputs.history import History

#: How many series an error names before it counts the rest.
SHOW_SERIES = 5


class Unordered(Exception):
    """A series of the history went back in time between two chunks."""


@dataclass
class HistoryScales:
    """Seasonal-difference sums per series, fed chunk by chunk (see the module)."""

    season: int
    source: str = "the history"
    #: The series of each slot, and the slot of each series (vectorised: no dict).
    index: LabelIndex = field(default_factory=LabelIndex)
    sum_abs: np.ndarray = field(default_factory=lambda: np.zeros(0))
    sum_sq: np.ndarray = field(default_factory=lambda: np.zeros(0))
    count: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    nobs: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: The last ``season`` values of each series, right-aligned; ``fill`` how many are set.
    tails: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    fill: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    last_time: np.ndarray | None = None
    #: A time key as the history wrote it (a date, not its day count), for messages.
    show_time: Callable[[object], str] = str
    #: Two row numbers of :meth:`add` as messages name them (with their files).
    show_rows: Callable[[int, int], str] = field(default=lambda a, b: f"rows {a} and {b}")

    def _slots_of(self, labels: Sequence[str]) -> np.ndarray:
        out = self.index.slots(labels)
        size = len(self.index)
        if size > self.count.shape[0]:
            grown = max(size, 2 * self.count.shape[0], 16)
            old = self.count.shape[0]

            def grow(a: np.ndarray, fill: object = 0) -> np.ndarray:
                b = np.full((grown, *a.shape[1:]), fill, dtype=a.dtype)
                b[:old] = a
                return b

            self.sum_abs, self.sum_sq = grow(self.sum_abs), grow(self.sum_sq)
            self.count, self.nobs, self.fill = grow(self.count), grow(self.nobs), grow(self.fill)
            self.tails = grow(self.tails.reshape(old, self.season))
        return out

    def add(
        self,
        codes: np.ndarray,
        labels: Sequence[str],
        y: np.ndarray,
        time: np.ndarray | None = None,
        rows: np.ndarray | None = None,
    ) -> None:
        """Add one chunk: row i is series ``labels[codes[i]]`` with value ``y[i]`` at
        ``time[i]`` (None: the rows are in time order); ``rows`` are the 1-based row
        numbers, for errors."""
        if not y.shape[0]:
            return
        m = self.season
        slots = self._slots_of(labels)[codes]
        if _in_order(slots, time):  # the usual layout: each series' rows together, in time
            order, s, v = np.arange(slots.shape[0]), slots, y
        else:
            order = np.argsort(slots, kind="stable") if time is None else np.lexsort((time, slots))
            s, v = slots[order], y[order]
        first = np.concatenate(([True], s[1:] != s[:-1]))
        starts = np.flatnonzero(first)
        seg_slot = s[starts]
        seg_len = np.diff(np.append(starts, s.shape[0]))
        if time is not None:
            t = time if v is y else time[order]
            self._check_times(s, t, first, starts, seg_slot, order, rows)
        k = self.fill[seg_slot]
        size = self.count.shape[0]
        # Within the chunk: each row against the row m before it in the same series (the
        # rows of a series are one run, so that is the row m places up, if in the run).
        if s.shape[0] > m:
            same = np.flatnonzero(s[m:] == s[:-m]) + m
            d = v[same] - v[same - m]
            g = s[same]
            self.sum_abs += np.bincount(g, np.abs(d), size)
            self.sum_sq += np.bincount(g, d * d, size)
            self.count += np.bincount(g, minlength=size)
        # Across chunks: a run's first m rows against the series' last m values so far
        # (right-aligned in ``tails``: the value m rows before run row j is tails[j]).
        for jj in range(m):
            ok = np.flatnonzero((seg_len > jj) & (k >= m - jj))
            if ok.size:
                d = v[starts[ok] + jj] - self.tails[seg_slot[ok], jj]
                np.add.at(self.sum_abs, seg_slot[ok], np.abs(d))
                np.add.at(self.sum_sq, seg_slot[ok], d * d)
                np.add.at(self.count, seg_slot[ok], 1)
        self.nobs[seg_slot] += seg_len
        # The new tails: the last m values of (old tail, run).
        new = self.tails[seg_slot].copy()
        for jj in range(m):
            p = seg_len - m + jj  # position in the run of the new tail's value jj
            inside = p >= 0
            new[inside, jj] = v[starts[inside] + p[inside]]
            back = ~inside & (m + p >= 0)  # still from the old tail, shifted left
            new[back, jj] = self.tails[seg_slot[back], (m + p[back])]
        self.tails[seg_slot] = new
        self.fill[seg_slot] = np.minimum(k + seg_len, m)

    def _check_times(
        self,
        s: np.ndarray,
        t: np.ndarray,
        first: np.ndarray,
        starts: np.ndarray,
        seg_slot: np.ndarray,
        order: np.ndarray,
        rows: np.ndarray | None,
    ) -> None:
        """Two rows of a series at one time are an error; a series that goes back in time
        from the last chunk raises :class:`Unordered`."""
        same = ~first[1:] & (t[1:] == t[:-1])
        if same.any():
            i = int(np.argmax(same)) + 1
            where = ""
            if rows is not None:
                a, b = sorted((int(rows[order[i - 1]]), int(rows[order[i]])))
                where = f" ({self.show_rows(a, b)})"
            raise InputError(
                f"{self.source}: series '{self.index.labels[int(s[i])]}' has two rows at time "
                f"{self.show_time(t[i])}"
                f"{where}; a history needs one value per series and time. Drop the "
                "duplicates (or aggregate them) first."
            )
        if self.last_time is None:
            self.last_time = np.zeros(self.count.shape[0], dtype=t.dtype)
        if self.last_time.shape[0] < self.count.shape[0]:
            grown = np.zeros(self.count.shape[0], dtype=self.last_time.dtype)
            grown[: self.last_time.shape[0]] = self.last_time
            self.last_time = grown
        seen = self.nobs[seg_slot] > 0
        if seen.any() and (t[starts][seen] <= self.last_time[seg_slot[seen]]).any():
            raise Unordered()
        ends = np.append(starts[1:], s.shape[0]) - 1
        self.last_time[seg_slot] = t[ends]

    def scales(self) -> SeriesScales:
        n = len(self.index)
        count = self.count[:n]
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_abs = np.where(count > 0, self.sum_abs[:n] / np.maximum(count, 1), np.nan)
            mean_sq = np.where(count > 0, self.sum_sq[:n] / np.maximum(count, 1), np.nan)
        return SeriesScales(self.season, self.source, self.index.labels.tolist(), mean_abs,
                            mean_sq, self.nobs[:n].copy(), self.index)  # fmt: skip


def _in_order(slots: np.ndarray, time: np.ndarray | None) -> bool:
    """Each series' rows form one run, in strictly increasing time (then no sort is
    needed: the sort would be stable and change nothing)."""
    change = slots[1:] != slots[:-1]
    runs = int(np.count_nonzero(change)) + 1
    if runs != int(np.count_nonzero(np.bincount(slots))):
        return False
    if time is None or time.dtype.kind == "O":
        return time is None
    return bool(np.all(change | (time[1:] > time[:-1])))


@dataclass
class SeriesScales:
    """Each series' scale: the mean |y_t - y_{t-m}| (abs) and mean (y_t - y_{t-m})²
    (squared) of its history, NaN without history."""

    season: int
    source: str
    labels: list[str]
    mean_abs: np.ndarray
    mean_sq: np.ndarray
    nobs: np.ndarray
    #: The slot of each label (``labels`` in slot order), made on first use if not given.
    lookup: LabelIndex | None = None
    index: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.index = {label: i for i, label in enumerate(self.labels)}

    def rows(self, codes: np.ndarray, labels: Sequence[str]) -> dict[str, np.ndarray]:
        """Each row's scales by kind; NaN for a series without a usable scale (reported at
        the end by :meth:`check`)."""
        if self.lookup is None:
            self.lookup = LabelIndex()
            self.lookup.slots(self.labels)
        where = self.lookup.slots(labels, add=False)  # -1: unknown, the NaN at the end
        out = {}
        for kind, values in (("abs", self.mean_abs), ("squared", self.mean_sq)):
            usable = np.append(np.where(values > 0, values, np.nan), np.nan)
            out[kind] = usable[where][codes] if codes.size else np.zeros(0)
        return out

    def check(self, seen: Sequence[str], forecasts: str, losses: Sequence[str]) -> None:
        """Every series evaluated has a history with a non-zero scale, else one error that
        names up to five of them and how many there are."""
        kinds = set(losses)
        problems: list[str] = []
        for label in sorted(seen):
            i = self.index.get(label)
            if i is None:
                problems.append(f"'{label}' (not in the history)")
                continue
            values = [self.mean_abs[i]] if kinds == {"abs"} else [self.mean_sq[i]]
            if "abs" in kinds and "squared" in kinds:
                values = [self.mean_abs[i], self.mean_sq[i]]
            if self.nobs[i] <= self.season:
                rows = int(self.nobs[i])
                problems.append(
                    f"'{label}' ({rows} history row{'s' if rows != 1 else ''}; season "
                    f"{self.season} needs at least {self.season + 1})"
                )
            elif not all(v > 0 for v in values):
                problems.append(f"'{label}' (a constant history: zero scale)")
        if not problems:
            return
        shown = ", ".join(problems[:SHOW_SERIES])
        more = f" and {len(problems) - SHOW_SERIES} more" if len(problems) > SHOW_SERIES else ""
        total = len(problems)
        raise InputError(
            f"{total} series of {forecasts} ha{'ve' if total != 1 else 's'} no scale from "
            f"{self.source}: {shown}{more}. A scaled loss divides by each series' "
            "seasonal-naive error on its history: give every series at least season + 1 "
            "history rows that are not constant, or leave those series out (--nan omit does "
            "not skip them)."
        )


def read_scales(history: History, season: int) -> SeriesScales:
    """The scales of every series of ``history`` in one streaming pass; a history whose
    series go back in time between chunks is read whole and sorted instead (with a note:
    it then takes memory for its three columns)."""
    from contextlib import closing

    scales = HistoryScales(season, show_time=history.show_time, show_rows=history.show_rows)
    try:
        with closing(history.chunks()) as chunks:
            for c in chunks:
                scales.source = f"the history {history.name}"
                scales.add(c.codes, c.labels, c.y, c.times, c.rows)
    except Unordered:
        if not history.rereadable:  # standard input: what was read is gone
            raise InputError(
                f"the history {history.name} is not in time order within each series, and "
                "standard input cannot be read a second time to sort it: sort it by series "
                "and time first, or pass it as a file (--train FILE)."
            ) from None
        history.dropped = 0
        history.notes.clear()
        scales = _whole(history, season)
        history.notes.append(
            f"the history {history.name} is not in time order within each series: it was "
            "read whole into memory and sorted by --time (sort it by series and time to "
            "stream it)."
        )
    return scales.scales()


def _whole(history: History, season: int) -> HistoryScales:
    """The history read into memory whole, as one chunk (sorted by series and time)."""
    known: dict[str, int] = {}
    codes, ys, times, rows = [], [], [], []
    for c in history.chunks():
        remap = np.array([known.setdefault(label, len(known)) for label in c.labels], np.intp)
        codes.append(remap[c.codes] if c.codes.size else c.codes)
        ys.append(c.y)
        rows.append(c.rows)
        if c.times is not None:
            times.append(c.times)
    scales = HistoryScales(
        season, f"the history {history.name}", show_time=history.show_time,
        show_rows=history.show_rows,
    )  # fmt: skip
    if ys:
        scales.add(np.concatenate(codes), list(known), np.concatenate(ys),
                   np.concatenate(times) if times else None, np.concatenate(rows))  # fmt: skip
    return scales
