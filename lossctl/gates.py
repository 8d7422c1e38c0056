"""Quality gates: ``--max KEY=VALUE`` (fail if a cost exceeds VALUE)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lossctl.errors import UsageError
from lossctl.report import GateFailure, GateResult, LossStats


@dataclass(frozen=True)
class MaxGate:
    key: str
    value: float


def parse_max(items: Sequence[str]) -> list[MaxGate]:
    """``["mse=0.5", "huber:delta=2=0.3"]`` -> gates (the value follows the last '=')."""
    gates = []
    for item in items:
        key, sep, value = item.rpartition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"bad --max '{item}'; expected KEY=VALUE, e.g. --max mse=0.5.")
        try:
            v = float(value)
        except ValueError:
            raise UsageError(f"bad --max '{item}': '{value}' is not a number.") from None
        if math.isnan(v):
            raise UsageError(f"bad --max '{item}': the limit must be a number, not NaN.")
        gates.append(MaxGate(key, v))
    return gates


def check_max(
    gates: Sequence[MaxGate], losses: Mapping[str, LossStats], model: str | None = None
) -> list[GateFailure]:
    """The gates that fail: a cost above its limit (a NaN cost fails too)."""
    failures = []
    for gate in gates:
        stats = losses[gate.key]
        if not stats.cost <= gate.value:
            failures.append(GateFailure(gate.key, stats.cost, gate.value, model))
    return failures


def result(failures: Sequence[GateFailure]) -> GateResult:
    return GateResult(passed=not failures, failures=tuple(failures))
