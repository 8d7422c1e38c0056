"""Quality gates: ``--max KEY=VALUE`` (fail if a cost exceeds VALUE) and
``--max-group KEY=VALUE`` (fail if any group's cost exceeds VALUE)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lossctl.errors import UsageError
from lossctl.report import GateFailure, GateResult, LossComparison, LossStats


@dataclass(frozen=True)
class MaxGate:
    key: str
    value: float


def parse_max(items: Sequence[str], option: str = "--max") -> list[MaxGate]:
    """``["mse=0.5", "huber:delta=2=0.3"]`` -> gates (the value follows the last '=')."""
    gates = []
    for item in items:
        key, sep, value = item.rpartition("=")
        key = key.strip()
        if not sep or not key:
            raise UsageError(f"bad {option} '{item}'; expected KEY=VALUE, e.g. {option} mse=0.5.")
        try:
            v = float(value)
        except ValueError:
            raise UsageError(f"bad {option} '{item}': '{value}' is not a number.") from None
        if math.isnan(v):
            raise UsageError(f"bad {option} '{item}': the limit must be a number, not NaN.")
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


def check_max_group(
    gates: Sequence[MaxGate], groups: Mapping[str, Mapping[str, float | None]]
) -> list[GateFailure]:
    """--max-group: per gate, the groups whose cost is above the limit (a NaN or unknown
    cost fails too), worst first; one failure per gate, its cost the worst group's."""
    failures = []
    for gate in gates:
        above = []
        for name, costs in groups.items():
            c = costs.get(gate.key)
            if c is None or not c <= gate.value:
                above.append((name, math.nan if c is None else float(c)))
        if above:
            above.sort(key=lambda g: -math.inf if math.isnan(g[1]) else -g[1])
            worst = above[0][1]
            failures.append(
                GateFailure(gate.key, worst, gate.value, kind="max_group", groups=tuple(above))
            )
    return failures


def worse_than_baseline(
    comparisons: Mapping[str, LossComparison], baseline: str, tolerance: float
) -> list[GateFailure]:
    """compare --fail-if-worse: a model worse than the baseline by more than ``tolerance``
    (relative), unless the test says the difference is not significant."""
    failures = []
    for key, comp in comparisons.items():
        for name, v in comp.vs_baseline.items():
            worse = v.delta > 0 and (v.relative is None or v.relative > tolerance)
            if worse and v.significant is not False:
                allowed = comp.costs[baseline] * (1.0 + tolerance)
                failures.append(GateFailure(key, comp.costs[name], allowed, name, "worse"))
    return failures


def compare_failures(
    gates: Sequence[MaxGate], comparisons: Mapping[str, LossComparison]
) -> list[GateFailure]:
    """compare --max: every model's cost above its limit (a NaN cost fails too)."""
    return [
        GateFailure(gate.key, c, gate.value, name)
        for gate in gates
        for name, c in comparisons[gate.key].costs.items()
        if not c <= gate.value
    ]


def result(failures: Sequence[GateFailure]) -> GateResult:
    return GateResult(passed=not failures, failures=tuple(failures))
