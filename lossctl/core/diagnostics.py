"""Diagnostics of a distribution prediction, beside its losses: the observed coverage of
each quantile level, and the coverage and mean width of each central interval.

They accumulate as sums (of weighted indicators and widths, and of the weights),
merged across chunks, parts and workers, under keys of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from lossctl.losses.probabilistic import LEVEL_TOLERANCE
from lossctl.report import Diagnostics, IntervalStats

if TYPE_CHECKING:
    from lossctl.inputs.columns import ColumnMap


def intervals(levels: tuple[float, ...]) -> list[tuple[float, int, int]]:
    """The central intervals the levels hold: (coverage, lower column, upper column), widest
    first."""
    out = []
    for i, lo in enumerate(levels):
        if lo >= 0.5:
            continue
        hi = next((j for j, v in enumerate(levels) if abs(v - (1.0 - lo)) <= LEVEL_TOLERANCE), None)
        if hi is not None:
            out.append((round(1.0 - 2.0 * lo, 12), i, hi))
    return sorted(out, reverse=True)


def sums(
    columns: ColumnMap, y_true: np.ndarray, y_pred: np.ndarray, weight: np.ndarray | None
) -> dict[str, tuple[float, float]]:
    """Per key, the weighted sum of one block's indicators (y <= q, l <= y <= u) or widths
    (u - l), and the sum of the weights: they add up across blocks, parts and workers."""
    if columns.kind != "quantiles":
        return {}
    total = float(y_true.shape[0]) if weight is None else float(weight.sum())

    def weighted(values: np.ndarray) -> tuple[float, float]:
        if values.dtype == bool:
            top = np.count_nonzero(values) if weight is None else np.dot(weight, values)
        else:
            top = values.sum() if weight is None else np.dot(weight, values)
        return float(top), total

    out: dict[str, tuple[float, float]] = {}
    for k in range(len(columns.levels)):
        out[f"coverage:{k}"] = weighted(y_true <= y_pred[:, k])
    for c, lo, hi in intervals(columns.levels):
        low, up = y_pred[:, lo], y_pred[:, hi]
        out[f"inside:{c:g}"] = weighted((low <= y_true) & (y_true <= up))
        out[f"width:{c:g}"] = weighted(up - low)
    return out


def report(columns: ColumnMap, totals: Mapping[str, tuple[float, float]]) -> Diagnostics | None:
    """The diagnostics from their summed values and weights (weighted shares and means)."""
    if columns.kind != "quantiles" or not totals:
        return None

    def mean(key: str) -> float:
        top, weight = totals[key]
        return top / weight if weight > 0 else float("nan")

    coverage = {level: mean(f"coverage:{k}") for k, level in enumerate(columns.levels)}
    found = {
        c: IntervalStats(mean(f"inside:{c:g}"), mean(f"width:{c:g}"))
        for c, _, _ in intervals(columns.levels)
    }
    return Diagnostics(coverage=coverage, intervals=found)
