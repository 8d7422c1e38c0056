"""Reports as JSON: sorted, stable keys, ``schema_version``, no NaN or Infinity."""

from __future__ import annotations

import json
from typing import Any

from lossctl import __version__
from lossctl.render.numbers import json_safe
from lossctl.report import EvalReport, GateResult, LossStats

SCHEMA_VERSION = 1


def loss_data(s: LossStats) -> dict[str, Any]:
    return {
        "name": s.name,
        "params": s.params,
        "cost": s.cost,
        "sum": s.sum,
        "std": s.std,
        "min": s.min,
        "max": s.max,
        "n": s.n,
        "weight_sum": s.weight_sum,
    }


def gate_data(gate: GateResult) -> dict[str, Any]:
    failures = []
    for f in gate.failures:
        item: dict[str, Any] = {"loss": f.loss, "cost": f.cost, "max": f.max}
        if f.model is not None:
            item["model"] = f.model
        failures.append(item)
    return {"passed": gate.passed, "failures": failures}


def eval_data(report: EvalReport) -> dict[str, Any]:
    cols = report.columns
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "lossctl_version": __version__,
        "command": "eval",
        "source": report.source,
        "task": report.task,
        "prediction_kind": report.prediction_kind,
        "columns": {
            "target": cols.target[0] if len(cols.target) == 1 else list(cols.target),
            "pred": list(cols.pred),
            "weight": cols.weight,
        },
        "n_rows": report.n_rows,
        "n_used": report.n_used,
        "n_dropped": report.n_dropped,
        "losses": {k: loss_data(v) for k, v in report.losses.items()},
        "warnings": list(report.warnings),
    }
    if cols.classes:
        doc["columns"]["classes"] = list(cols.classes)
    if report.groups is not None:
        doc["by"] = report.by
        doc["groups"] = {
            g: {"n_used": gs.n_used, "losses": {k: loss_data(v) for k, v in gs.losses.items()}}
            for g, gs in report.groups.items()
        }
    if report.gate is not None:
        doc["gate"] = gate_data(report.gate)
    return doc


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(json_safe(doc), indent=2, sort_keys=True, allow_nan=False)


def eval_json(report: EvalReport) -> str:
    return dumps(eval_data(report))
