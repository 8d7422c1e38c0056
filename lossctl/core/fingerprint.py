"""A fingerprint of the evaluated data: the same for the same rows, whatever the chunks.

Each used row gets a 64-bit hash of the float64 bits of its target, prediction(s) and
weight (splitmix64's finalizer over a multiply-add of the words); the fingerprint is
their sum modulo 2**64. A sum does not depend on how the rows were cut into chunks,
parts, files or Dask partitions (whose row numbers are local), so blocks add up like
the accumulators do. A changed, added or dropped row changes it; the order of the rows
does not (no loss depends on it).
"""

from __future__ import annotations

import numpy as np

MASK = (1 << 64) - 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_S1 = np.uint64(31)
_S2 = np.uint64(29)
#: Odd multipliers, one per column word (cycled), so swapping two columns changes the hash.
_WORDS = tuple(np.uint64(c) for c in (0xD6E8FEB86659FD93, 0xA0761D6478BD642F,
                                      0xE7037ED1A0B428DB, 0x8EBC6AF09C88C6E3))  # fmt: skip


#: Rows hashed at a time: the two work arrays (1 MB) stay in the CPU's cache.
SPAN = 1 << 16


def block_sum(*columns: np.ndarray | None) -> int:
    """The sum (mod 2**64) of the row hashes of one block: ``columns`` are its float64
    arrays, (n,) or (n, K) each; None is skipped."""
    used = [c for c in columns if c is not None]
    n = used[0].shape[0] if used else 0
    if n == 0:
        return 0
    words = [np.ascontiguousarray(c, dtype=np.float64).view(np.uint64).reshape(n, -1) for c in used]
    h = np.empty(min(n, SPAN), dtype=np.uint64)
    tmp = np.empty_like(h)
    total = 0
    for start in range(0, n, SPAN):
        stop = min(n, start + SPAN)
        total += _span_sum([w[start:stop] for w in words], h[: stop - start], tmp[: stop - start])
    return total & MASK


def _span_sum(words: list[np.ndarray], h: np.ndarray, tmp: np.ndarray) -> int:
    """The sum of the row hashes of rows whose column words are ``words``."""
    h.fill(_GOLDEN)
    j = 0
    with np.errstate(over="ignore"):
        for w in words:
            for k in range(w.shape[1]):
                np.multiply(w[:, k], _WORDS[j % len(_WORDS)], out=tmp)
                h += tmp
                j += 1
        # A finalizer (xor-shift, multiply, xor-shift) spreads every input bit over the
        # word before the sum, so that two changes cannot cancel out in the low bits.
        np.right_shift(h, _S1, out=tmp)
        h ^= tmp
        h *= _M1
        np.right_shift(h, _S2, out=tmp)
        h ^= tmp
        return int(h.sum(dtype=np.uint64))


def add(prints: tuple[int, int], y_true: np.ndarray, y_pred: np.ndarray,
        weight: np.ndarray | None) -> tuple[int, int]:  # fmt: skip
    """``prints`` (of the targets, predictions and weights; of the targets and weights
    alone) with one block added: the one step of eval's and compare's reads."""
    data = block_sum(y_true, y_pred, weight)
    return combine(prints[0], data), combine(prints[1], block_sum(y_true, weight))


def combine(a: int, b: int) -> int:
    return (a + b) & MASK


def text(value: int) -> str:
    """The fingerprint as 16 hex digits."""
    return f"{value & MASK:016x}"
