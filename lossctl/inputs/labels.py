"""Group and series labels as arrays: no Python object per label on the evaluation path.

:class:`Labels` are labels as UTF-8 bytes (one buffer, a start and a length per label)
with a 64-bit hash each: a ``Sequence[str]`` whose strings are made only when read.
:class:`LabelIndex` gives every label it sees a slot (0, 1, ... in order of first
appearance) and maps a block's labels to slots with a vectorised open-addressing hash
table; a hash match is checked byte by byte, so two labels share a slot only when they
are equal. A million groups are a few arrays, and mapping a block's (or a parallel
part's) labels costs numpy operations over them, not a dict lookup per label.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, overload

import numpy as np

#: The bits of a label's last 8-byte word that are its own: _MASKS[r] keeps r bytes.
_MASKS = np.array([(1 << (8 * r)) - 1 for r in range(8)] + [(1 << 64) - 1], dtype=np.uint64)
_SEED = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xFF51AFD7ED558CCD)
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_S32, _S33 = np.uint64(32), np.uint64(33)
#: Labels longer than this many 8-byte words are sorted by Arrow (a lexsort key per word).
_SORT_WORDS = 8
_EMPTY = -1  # a free entry of the hash table


def _words(data: np.ndarray) -> np.ndarray:
    """The 8 bytes from every offset of ``data`` as a little-endian uint64: an unaligned
    view, so ``_words(data)[i]`` is bytes i..i+7 (``data`` ends in 8 spare bytes)."""
    return np.ndarray((data.shape[0] - 7,), dtype="<u8", buffer=data, strides=(1,))


def _word(
    words: np.ndarray, starts: np.ndarray, lens: np.ndarray, j: int, short: bool = False
) -> np.ndarray:
    """Word ``j`` of each label: its bytes 8j..8j+7, the bytes past its end zeroed;
    ``short``: some labels may end before the word (then it is 0)."""
    if short:
        rem = np.clip(lens - 8 * j, 0, 8)
        at = np.minimum(starts + 8 * j, words.shape[0] - 1)
    else:
        rem = np.minimum(lens - 8 * j, 8)
        at = starts + 8 * j if j else starts
    return words[at] & _MASKS[rem]


def _hash(data: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each label (a multiply-xorshift over its words, then fmix64)."""
    words = _words(data)
    h = lens.astype(np.uint64) * _M2 ^ _SEED
    idx = np.flatnonzero(lens > 0)
    j = 0
    while idx.size:
        full = idx.size == h.size
        s, n = (starts, lens) if full else (starts[idx], lens[idx])
        x = (h if full else h[idx]) ^ _word(words, s, n, j)
        x *= _M1
        x ^= x >> _S32
        if full:
            h = x
        else:
            h[idx] = x
        j += 1
        idx = idx[n > 8 * j]
    h ^= h >> _S33
    h *= _M1
    h ^= h >> _S33
    h *= _M2
    h ^= h >> _S33
    return h


def _equal(
    a: np.ndarray, a_starts: np.ndarray, lens: np.ndarray, b: np.ndarray, b_starts: np.ndarray
) -> np.ndarray:
    """Whether each label of ``a`` equals the label of ``b`` at the same position (both of
    length ``lens``), compared word by word."""
    wa, wb = _words(a), _words(b)
    eq = np.ones(lens.shape[0], dtype=bool)
    idx = np.flatnonzero(lens > 0)
    j = 0
    while idx.size:
        n = lens[idx]
        diff = _word(wa, a_starts[idx], n, j) != _word(wb, b_starts[idx], n, j)
        eq[idx[diff]] = False
        j += 1
        idx = idx[~diff & (n > 8 * j)]
    return eq


def _first_equal(values: np.ndarray) -> np.ndarray:
    """For each value, the position of its first occurrence (a stable sort; numpy's
    ``unique`` may hash, which is slower)."""
    order = np.argsort(values, kind="stable")
    ranked = values[order]
    new = np.concatenate(([True], ranked[1:] != ranked[:-1]))  # a run of equal values starts
    out = np.empty(values.shape[0], dtype=np.intp)
    out[order] = order[np.flatnonzero(new)][np.cumsum(new) - 1]
    return out


class Labels(Sequence[str]):
    """Labels as UTF-8 bytes: label i is ``data[starts[i] : starts[i] + lens[i]]``.

    ``data`` ends in at least 8 spare bytes (whole words are read); ``distinct`` says
    that no two labels are equal (then a :class:`LabelIndex` need not look for repeats).
    Reading a label as ``str`` (indexing, iterating) decodes them all once.
    """

    __slots__ = ("_hashes", "_strings", "data", "distinct", "lens", "starts")

    def __init__(
        self,
        data: np.ndarray,
        starts: np.ndarray,
        lens: np.ndarray,
        distinct: bool = False,
        hashes: np.ndarray | None = None,
    ) -> None:
        self.data = data
        self.starts = starts
        self.lens = lens
        self.distinct = distinct
        self._hashes = hashes
        self._strings: list[str] | None = None

    @classmethod
    def of(cls, labels: Iterable[Any]) -> Labels:
        """``labels`` as :class:`Labels` (each as ``str``); Labels are returned as they are."""
        if isinstance(labels, Labels):
            return labels
        import pyarrow as pa

        return cls.from_arrow(pa.array([str(v) for v in labels], pa.large_string()))

    @classmethod
    def from_arrow(cls, array: Any, distinct: bool = False) -> Labels:
        """An Arrow string array without nulls (string, large_string or string_view)."""
        import pyarrow as pa

        if hasattr(array, "combine_chunks"):
            array = array.combine_chunks()
        if not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
            array = array.cast(pa.large_string())
        if array.null_count:
            raise ValueError("labels cannot be null")
        n = len(array)
        width = 8 if pa.types.is_large_string(array.type) else 4
        buffers = array.buffers()
        offsets = np.frombuffer(
            buffers[1], dtype=np.int64 if width == 8 else np.int32, count=n + 1,
            offset=array.offset * width,
        ).astype(np.int64)  # fmt: skip
        lo, hi = int(offsets[0]), int(offsets[-1])
        data = np.zeros(hi - lo + 8, dtype=np.uint8)
        if hi > lo:
            data[: hi - lo] = np.frombuffer(buffers[2], dtype=np.uint8, count=hi - lo, offset=lo)
        return cls(data, offsets[:-1] - lo, np.diff(offsets), distinct)

    @classmethod
    def concat(cls, parts: Sequence[Labels]) -> Labels:
        """The labels of ``parts`` one after another (``distinct`` is not kept)."""
        compact = [p.compact() for p in parts]
        sizes = [int(p.lens.sum()) for p in compact]
        data = np.zeros(sum(sizes) + 8, dtype=np.uint8)
        starts, at = [], 0
        for p, size in zip(compact, sizes, strict=True):
            data[at : at + size] = p.data[:size]
            starts.append(p.starts + at)
            at += size
        return cls(data, np.concatenate(starts), np.concatenate([p.lens for p in compact]))

    @property
    def hashes(self) -> np.ndarray:
        """Each label's 64-bit hash (computed once)."""
        if self._hashes is None:
            self._hashes = _hash(self.data, self.starts, self.lens)
        return self._hashes

    def subset(self, positions: np.ndarray) -> Labels:
        """The labels at ``positions`` (no position twice), sharing the bytes."""
        hashes = None if self._hashes is None else self._hashes[positions]
        return Labels(
            self.data, self.starts[positions], self.lens[positions], self.distinct, hashes
        )

    def compact(self) -> Labels:
        """The same labels with their bytes one after another from the start of ``data``."""
        n = self.lens.shape[0]
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(self.lens, out=offsets[1:])
        if n == 0 or (self.starts[0] == 0 and np.array_equal(self.starts, offsets[:-1])):
            return self
        total = int(offsets[-1])
        data = np.zeros(total + 8, dtype=np.uint8)
        if total:
            at = np.repeat(self.starts - offsets[:-1], self.lens) + np.arange(total)
            data[:total] = self.data[at]
        return Labels(data, offsets[:-1], self.lens, self.distinct, self._hashes)

    def to_arrow(self) -> Any:
        """The labels as an Arrow large_string array."""
        import pyarrow as pa

        c = self.compact()
        n = c.lens.shape[0]
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(c.lens, out=offsets[1:])
        return pa.Array.from_buffers(
            pa.large_string(), n,
            [None, pa.py_buffer(offsets), pa.py_buffer(c.data[: int(offsets[-1])])],
        )  # fmt: skip

    def tolist(self) -> list[str]:
        if self._strings is None:
            self._strings = self.to_arrow().to_pylist()
        return self._strings

    def __len__(self) -> int:
        return int(self.lens.shape[0])

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return self.tolist()[i]
        if self._strings is not None:
            return self._strings[i]
        i = operator.index(i)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("label index out of range")
        start = int(self.starts[i])
        return bytes(self.data[start : start + int(self.lens[i])]).decode()

    def __iter__(self) -> Iterator[str]:
        return iter(self.tolist())

    def __repr__(self) -> str:
        return f"<{len(self)} labels>"


def group_rows(rows: Labels) -> tuple[np.ndarray, Labels, np.ndarray | None]:
    """The groups of a block's rows: each row's code (0, 1, ... in order of first
    appearance), the distinct labels, and an order of the rows that puts each group's
    rows together, the groups in code order (None in the rare block where different
    labels share a hash).

    The rows are sorted by hash and each is checked against the first of its run, byte
    by byte; no Python object per row or label.
    """
    n = len(rows)
    if n == 0:
        return np.empty(0, dtype=np.intp), rows.subset(np.empty(0, dtype=np.intp)), None
    h = rows.hashes
    order = np.argsort(h)
    ranked = h[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(ranked[1:], ranked[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    run = np.cumsum(new) - 1  # the run of each sorted row
    head = order[starts][run]
    check = np.flatnonzero(head != order)  # rows after the first of their run
    if check.size:
        a, b = order[check], head[check]
        lens = rows.lens[a]
        same = (rows.lens[b] == lens) & _equal(
            rows.data, rows.starts[a], lens, rows.data, rows.starts[b]
        )
        if not same.all():  # different labels with one hash: the exact, slower way
            index = LabelIndex()
            return index.slots(rows), index.labels, None
    k = starts.shape[0]
    first = np.minimum.reduceat(order, starts)  # each run's first row
    # The runs in order of first appearance (first rows are distinct: no sort needed).
    run_at = np.full(n, -1, dtype=np.intp)
    run_at[first] = np.arange(k)
    by_code = run_at[run_at >= 0]  # the run of code 0, 1, ...
    code = np.empty(k, dtype=np.intp)
    code[by_code] = np.arange(k)
    codes = np.empty(n, dtype=np.intp)
    codes[order] = code[run]
    # The rows again, run after run in code order.
    sizes = np.diff(np.append(starts, n))[by_code]
    begin = np.cumsum(sizes) - sizes
    order = order[np.repeat(starts[by_code] - begin, sizes) + np.arange(n)]
    labels = rows.subset(first[by_code])
    labels.distinct = True
    return codes, labels, order


def _table_insert(table: np.ndarray, slots: np.ndarray, hashes: np.ndarray) -> None:
    """Put ``slots`` (distinct, none in ``table``) into the hash table by linear probing;
    slots wanting one free entry at once: one wins, the others probe on."""
    mask = table.shape[0] - 1
    pos = (hashes & np.uint64(mask)).astype(np.intp)
    todo = slots
    while todo.size:
        free = table[pos] == _EMPTY
        table[pos[free]] = todo[free]
        done = np.zeros(todo.shape[0], dtype=bool)
        done[free] = table[pos[free]] == todo[free]
        todo, pos = todo[~done], (pos[~done] + 1) & mask


class LabelIndex:
    """Every label seen so far, each with a slot (see the module).

    Label i is ``_data[_starts[i] : _starts[i] + _lens[i]]``. The first labels are taken
    as they are, sharing their bytes (a parallel part's table, which receives one block,
    copies nothing); later ones are copied into a buffer of its own that grows
    geometrically. The hash table (slots by hash, linear probing, at most half full) is
    built when a first lookup needs it.
    """

    def __init__(self) -> None:
        self._data = np.zeros(64, dtype=np.uint8)
        self._used = 0  # bytes of _data in use (when _data is its own)
        self._own = True  # False: _data is the first labels' (read only)
        self._starts = np.zeros(16, dtype=np.int64)
        self._lens = np.zeros(16, dtype=np.int64)
        self._hashes = np.zeros(16, dtype=np.uint64)
        self._n = 0
        self._table: np.ndarray | None = None
        self._lookup: dict[str, int] | None = None

    def __len__(self) -> int:
        return self._n

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (the Dask engine) compact: no spare room, hash table or lookup."""
        c = self.labels.compact()
        return {"data": c.data, "starts": c.starts, "lens": c.lens, "hashes": c.hashes}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__()  # type: ignore[misc]
        lab = Labels(state["data"], state["starts"], state["lens"], True, state["hashes"])
        if len(lab):
            self._append(lab)

    @property
    def labels(self) -> Labels:
        """Every label, in slot order (a view: it stays valid as labels are added)."""
        n = self._n
        return Labels(self._data, self._starts[:n], self._lens[:n], True, self._hashes[:n])

    def slots(self, labels: Iterable[Any], add: bool = True) -> np.ndarray:
        """The slot of each of ``labels``; new ones get new slots (``add``) or -1."""
        lab = Labels.of(labels)
        k = len(lab)
        if not k:
            return np.empty(0, dtype=np.intp)
        if add and self._n == 0 and lab.distinct:
            return self._append(lab)
        out = self._find(lab)
        if add:
            new = np.flatnonzero(out < 0)
            if new.size:
                out[new] = self._add_new(lab.subset(new))
        return out

    def slot(self, label: str) -> int | None:
        """The slot of one label, None if unknown (a dict made on the first call: for
        reading the results group by group, not for blocks)."""
        if self._lookup is None:
            self._lookup = {g: i for i, g in enumerate(self.labels.tolist())}
        return self._lookup.get(label)

    def order(self) -> np.ndarray:
        """The slots in label order (Python's order of ``str``: by code point, which is
        the order of the UTF-8 bytes)."""
        n = self._n
        if n < 2:
            return np.arange(n, dtype=np.intp)
        starts, lens = self._starts[:n], self._lens[:n]
        width = (int(lens.max()) + 7) // 8
        if width > _SORT_WORDS:
            import pyarrow.compute as pc

            return np.asarray(pc.sort_indices(self.labels.to_arrow()), dtype=np.intp)
        words = _words(self._data)
        # Big-endian words compare as the bytes do; a label's missing bytes are zeros,
        # and a label that is a prefix of another comes first (its length breaks ties).
        first = _word(words, starts, lens, 0, short=True).byteswap()
        order = np.argsort(first, kind="stable")
        ranked = first[order]
        if not (ranked[1:] == ranked[:-1]).any():  # the first words decide
            return order
        keys = [_word(words, starts, lens, j, short=True).byteswap() for j in range(width)]
        return np.lexsort([lens, *keys[::-1]])

    def _find(self, lab: Labels) -> np.ndarray:
        """The slot of each label, -1 where unknown."""
        out = np.full(len(lab), -1, dtype=np.intp)
        if not self._n:
            return out
        table = self._reserve(self._n)
        mask = table.shape[0] - 1
        h = lab.hashes
        todo = np.arange(len(lab))
        pos = (h & np.uint64(mask)).astype(np.intp)
        while todo.size:
            s = table[pos].astype(np.intp)
            used = s != _EMPTY
            todo, pos, s = todo[used], pos[used], s[used]
            same = self._hashes[s] == h[todo]
            if same.any():
                i, t = todo[same], s[same]
                lens = lab.lens[i]
                eq = (self._lens[t] == lens) & _equal(
                    lab.data, lab.starts[i], lens, self._data, self._starts[t]
                )
                out[i[eq]] = t[eq]
                same[same] = eq
                todo, pos = todo[~same], pos[~same]
            pos = (pos + 1) & mask
        return out

    def _add_new(self, lab: Labels) -> np.ndarray:
        """Slots for labels none of which is known; equal ones get one slot, in order of
        first appearance."""
        k = len(lab)
        if lab.distinct or k == 1:
            return self._append(lab)
        first = np.full(k, -1, dtype=np.intp)  # each label's first equal label
        todo = np.arange(k)
        while todo.size:  # one round unless different labels share a hash
            rep = todo[_first_equal(lab.hashes[todo])]
            lens = lab.lens[todo]
            same = (lab.lens[rep] == lens) & _equal(
                lab.data, lab.starts[todo], lens, lab.data, lab.starts[rep]
            )
            first[todo[same]] = rep[same]
            todo = todo[~same]
        reps = np.flatnonzero(first == np.arange(k))
        unique = lab.subset(reps)
        unique.distinct = True
        at = np.full(k, -1, dtype=np.intp)
        at[reps] = self._append(unique)
        return at[first]

    def _append(self, lab: Labels) -> np.ndarray:
        """New slots for distinct labels, none of which is known."""
        k, n = len(lab), self._n
        hashes = lab.hashes
        if n == 0:  # taken as they are (their arrays are not written to)
            self._data, self._starts, self._lens = lab.data, lab.starts, lab.lens
            self._hashes, self._n, self._own, self._used = hashes, k, False, 0
            self._table = None
            self._lookup = None
            return np.arange(k, dtype=np.intp)
        if not self._own:  # labels of its own from now on: the first ones copied
            first = self.labels.compact()
            data = first.data.copy() if first.data is self._data else first.data
            self._data, self._used, self._own = data, int(first.lens.sum()), True
            self._starts, self._lens = first.starts.copy(), first.lens.copy()
            self._hashes = self._hashes[:n].copy()
        lab = lab.compact()
        size = int(lab.lens.sum())
        if self._used + size + 8 > self._data.shape[0]:
            grown = np.zeros(max(self._used + size + 8, 2 * self._data.shape[0]), np.uint8)
            grown[: self._used] = self._data[: self._used]
            self._data = grown
        self._data[self._used : self._used + size] = lab.data[:size]
        if n + k > self._starts.shape[0]:
            cap = max(n + k, 2 * self._starts.shape[0])
            self._starts, self._lens, self._hashes = (
                _grown(a, n, cap) for a in (self._starts, self._lens, self._hashes)
            )
        self._starts[n : n + k] = lab.starts + self._used
        self._lens[n : n + k] = lab.lens
        self._hashes[n : n + k] = hashes
        self._used += size
        self._n += k
        self._lookup = None
        slots = np.arange(n, n + k, dtype=np.intp)
        if self._table is not None:
            if 2 * self._n > self._table.shape[0]:
                self._table = None
                self._reserve(self._n)  # with every label, the new ones too
            else:
                _table_insert(self._table, slots, self._hashes[n : n + k])
        return slots

    def _reserve(self, count: int) -> np.ndarray:
        """The hash table, rebuilt with every label when it would be over half full."""
        table = self._table
        if table is None or 2 * count > table.shape[0]:
            size = 1024
            while size < 2 * count:
                size *= 2
            table = np.full(size, _EMPTY, dtype=np.int32 if size < 2**31 else np.int64)
            _table_insert(table, np.arange(self._n, dtype=np.intp), self._hashes[: self._n])
            self._table = table
        return table


def _grown(a: np.ndarray, n: int, cap: int) -> np.ndarray:
    """``a``'s first ``n`` items in an array of ``cap``."""
    out = np.zeros(cap, dtype=a.dtype)
    out[:n] = a[:n]
    return out
