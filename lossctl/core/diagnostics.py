"""Diagnostics of a distribution prediction, beside its losses: the observed coverage of
each quantile level, and the coverage and mean width of each central interval.

They accumulate like losses (weighted means of per-row indicators and widths, merged
across chunks, parts and workers), under keys of their own.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from lossctl.report import Diagnostics, IntervalStats

if TYPE_CHECKING:
    from lossctl.core.accumulate import Accumulator
    from lossctl.inputs.columns import ColumnMap

#: Two levels closer than this are the same (0.1 and 1 - 0.9 in float64).
_SAME = 1e-9


def intervals(levels: tuple[float, ...]) -> list[tuple[float, int, int]]:
    """The central intervals the levels hold: (coverage, lower column, upper column), widest
    first."""
    out = []
    for i, lo in enumerate(levels):
        if lo >= 0.5:
            continue
        hi = next((j for j, v in enumerate(levels) if abs(v - (1.0 - lo)) <= _SAME), None)
        if hi is not None:
            out.append((round(1.0 - 2.0 * lo, 12), i, hi))
    return sorted(out, reverse=True)


def values(columns: ColumnMap, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, np.ndarray]:
    """Per-row indicators (y <= q, l <= y <= u) and widths (u - l) of one block."""
    if columns.kind != "quantiles":
        return {}
    out: dict[str, np.ndarray] = {}
    for k in range(len(columns.levels)):
        out[f"coverage:{k}"] = (y_true <= y_pred[:, k]).astype(np.float64)
    for c, lo, hi in intervals(columns.levels):
        low, up = y_pred[:, lo], y_pred[:, hi]
        out[f"inside:{c:g}"] = ((low <= y_true) & (y_true <= up)).astype(np.float64)
        out[f"width:{c:g}"] = up - low
    return out


def report(columns: ColumnMap, accumulators: Mapping[str, Accumulator]) -> Diagnostics | None:
    """The diagnostics from their accumulators (weighted shares and means)."""
    if columns.kind != "quantiles" or not accumulators:
        return None

    def mean(key: str) -> float:
        acc = accumulators[key]
        return acc.weighted_sum / acc.weight_sum if acc.weight_sum > 0 else float("nan")

    coverage = {level: mean(f"coverage:{k}") for k, level in enumerate(columns.levels)}
    found = {
        c: IntervalStats(mean(f"inside:{c:g}"), mean(f"width:{c:g}"))
        for c, _, _ in intervals(columns.levels)
    }
    return Diagnostics(coverage=coverage, intervals=found)
