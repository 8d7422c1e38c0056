"""Numbers as the reasons write them: percentages, 3 significant digits, spec values."""

from __future__ import annotations

import math

#: Said of a shift's costs when the file has weights (the shifts ignore them).
UNWEIGHTED = " (unweighted, like every fact)"


def pct(share: float) -> str:
    """A share as a percentage with 3 significant digits: 0.0523 -> '5.23%'."""
    return f"{100 * share:.3g}%"


def num(x: float) -> str:
    """A number with 3 significant digits for reasons (12345.6 -> '1.23e+04')."""
    return f"{x:.3g}"


def round_sig(x: float, digits: int = 3) -> float:
    """``x`` rounded to ``digits`` significant digits (1.4263 -> 1.43; 80.397 -> 80.4)."""
    if x == 0 or not math.isfinite(x):
        return x
    return float(f"{x:.{digits}g}")


def spec_number(x: float) -> str:
    """A parameter value as written in a spec: 80.4, 1350, 0.000123 (no float noise)."""
    return f"{x:.12g}"
