"""Confidence bins of calibration errors (numpy only; no other lossctl module): the bin of
each confidence, the per-bin sums of a block, and the error of summed bins. See
:mod:`lossctl.losses.calibration` for the losses."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from lossctl._lazy import lazy

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")

#: Rows of a bin-sum array: the weight, the weighted confidence and the weighted accuracy.
WEIGHT, CONFIDENCE, ACCURACY = range(3)


def edges(bins: int) -> np.ndarray:
    """The B + 1 bin edges, each the float nearest k/B."""
    return np.arange(bins + 1, dtype=np.float64) / bins


def bin_index(confidence: np.ndarray, bins: int) -> np.ndarray:
    """The bin of each confidence in [0, 1]: k with edges[k] <= c < edges[k + 1], the
    last bin closed. ``floor(c * B)`` is corrected by one where rounding put it off."""
    e = edges(bins)
    idx = np.floor(confidence * bins).astype(np.intp)
    np.clip(idx, 0, bins - 1, out=idx)
    idx -= (confidence < e[idx]).astype(np.intp)
    idx += ((confidence >= e[np.minimum(idx + 1, bins)]) & (idx < bins - 1)).astype(np.intp)
    return idx


def confidence_accuracy(
    y_true: np.ndarray, y_pred: np.ndarray, task: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the confidence and the accuracy it is held to.

    Binary: the probability of the positive class, and the target (1 for a positive).
    Multiclass: the top probability, and whether its class is the label (for target
    probability rows, the target's weight on that class).
    """
    if task == "binary":
        return y_pred, y_true
    top = np.argmax(y_pred, axis=1)
    rows = np.arange(y_pred.shape[0])
    conf = y_pred[rows, top]
    if y_true.ndim == 2:
        return conf, y_true[rows, top]
    return conf, (y_true.astype(np.intp) == top).astype(np.float64)


def bin_sums(
    confidence: np.ndarray,
    accuracy: np.ndarray,
    bins: int,
    weight: np.ndarray | None = None,
    codes: np.ndarray | None = None,
    groups: int = 1,
) -> np.ndarray:
    """The (3, B) sums of one block: weight, weighted confidence, weighted accuracy per
    bin; with group ``codes`` (0..groups-1 per row), a (groups, 3, B) array."""
    idx = bin_index(confidence, bins)
    if codes is not None:
        idx = codes * bins + idx
    size = groups * bins
    w = np.ones_like(confidence) if weight is None else weight
    out = np.stack([
        np.bincount(idx, w, size),
        np.bincount(idx, w * confidence, size),
        np.bincount(idx, w * accuracy, size),
    ])  # fmt: skip
    if codes is None:
        return out
    return out.reshape(3, groups, bins).transpose(1, 0, 2)


def calibration_error(sums: np.ndarray, norm: str) -> float:
    """ECE (``l1``), MCE (``max``) or RMSCE (``l2``) of summed bins (3, B); NaN without
    weight."""
    w = sums[WEIGHT]
    total = float(w.sum())
    if not total > 0:
        return math.nan
    full = w > 0
    gap = np.abs(sums[ACCURACY][full] - sums[CONFIDENCE][full]) / w[full]
    if norm == "max":
        return float(gap.max())
    share = w[full] / total
    if norm == "l2":
        return math.sqrt(float(np.dot(share, gap * gap)))
    return float(np.dot(share, gap))
