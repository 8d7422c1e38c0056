"""Number formatting shared by the human renderers."""

from __future__ import annotations

import math
from typing import Any


def fmt(x: float | None, precision: int = 6) -> str:
    """``precision`` significant digits; 1.48e-05 stays 1.48e-05, never 0."""
    if x is None:
        return "-"
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{precision}g}"


def json_safe(value: Any) -> Any:
    """Replace NaN and +-inf by None, recursively: JSON never carries them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value
