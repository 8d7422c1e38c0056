"""Reports as JSON: sorted, stable keys, ``schema_version``, no NaN or Infinity."""

from __future__ import annotations

import json
from typing import Any

from lossctl.render.numbers import json_safe
from lossctl.report import (
    CompareReport,
    Diagnostics,
    DiffReport,
    EvalReport,
    ForecastSetup,
    GateResult,
    LossStats,
    RecommendReport,
    Signature,
)
from lossctl.version import __version__

SCHEMA_VERSION = 1


def loss_data(s: LossStats) -> dict[str, Any]:
    doc = {
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
    if s.outputs is not None:
        doc["outputs"] = dict(s.outputs)
    if s.series is not None:
        doc["series"] = s.series
    return doc


def signature_data(sig: Signature, models: bool = False) -> dict[str, Any]:
    """The signature: version, task, layout, losses with their parameters, columns, --nan,
    the data (rows and fingerprint; per model for compare) and compare's test."""
    data = {
        name: {"rows": d.rows, "fingerprint": d.fingerprint, "targets": d.targets}
        for name, d in sig.data.items()
    }
    doc: dict[str, Any] = {
        "lossctl_version": __version__,
        "task": sig.task,
        "prediction_kind": sig.kind,
        "losses": {k: {"name": name, "params": params} for k, (name, params) in sig.losses.items()},
        "columns": sig.columns,
        "nan": sig.nan,
        "data": data if models else next(iter(data.values())),
    }
    if sig.test is not None:
        doc["test"] = sig.test
    return doc


def forecast_data(f: ForecastSetup) -> dict[str, Any]:
    return {"series": f.series, "time": f.time, "train": f.train, "season": f.season}


def gate_data(gate: GateResult) -> dict[str, Any]:
    failures = []
    for f in gate.failures:
        item: dict[str, Any] = {"loss": f.loss, "cost": f.cost, "max": f.max, "kind": f.kind}
        if f.model is not None:
            item["model"] = f.model
        if f.kind == "max_group":
            item["groups"] = [{"group": g, "cost": c} for g, c in f.groups]
        if f.kind == "baseline":
            item["baseline"] = f.baseline
            item["group"] = f.group
            item["missing"] = f.missing
        failures.append(item)
    return {"passed": gate.passed, "failures": failures}


def file_header(command: str, report: Any) -> dict[str, Any]:
    """The keys every report on one input starts with (eval, recommend)."""
    cols = report.columns
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "lossctl_version": __version__,
        "command": command,
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
    }
    if cols.pos_label is not None:
        doc["columns"]["pos_label"] = cols.pos_label
    if cols.levels:
        doc["columns"]["levels"] = list(cols.levels)
    if cols.spread is not None:
        doc["columns"]["var" if cols.spread_is_var else "std"] = cols.spread
    return doc


def diagnostics_data(d: Diagnostics) -> dict[str, Any]:
    """``coverage`` {level: share with y <= q}, ``intervals`` {coverage: {coverage, width}};
    levels as keys are written as numbers ("0.1")."""
    return {
        "coverage": {f"{level:g}": share for level, share in d.coverage.items()},
        "intervals": {
            f"{c:g}": {"coverage": i.coverage, "width": i.width} for c, i in d.intervals.items()
        },
    }


def provenance_data(report: EvalReport | CompareReport | RecommendReport) -> dict[str, Any]:
    """``plugins`` (the plugin files loaded) and ``config`` (the config file read, or null)."""
    return {"plugins": [p.path for p in report.plugins], "config": report.config}


def eval_data(report: EvalReport) -> dict[str, Any]:
    cols = report.columns
    doc = file_header("eval", report)
    doc.update(provenance_data(report))
    doc["losses"] = {k: loss_data(v) for k, v in report.losses.items()}
    doc["warnings"] = list(report.warnings)
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
    if report.diagnostics is not None:
        doc["diagnostics"] = diagnostics_data(report.diagnostics)
    if report.forecast is not None:
        doc["forecast"] = forecast_data(report.forecast)
    if report.signature is not None:
        doc["signature"] = signature_data(report.signature)
    if report.baseline is not None:
        from lossctl.render.baseline import baseline_data

        doc["baseline"] = baseline_data(report.baseline)
    return doc


def diff_data(report: DiffReport) -> dict[str, Any]:
    """``lossctl diff``: the ``baseline`` block eval --baseline writes, with the gate."""
    from lossctl.render.baseline import baseline_data

    return {
        "schema_version": SCHEMA_VERSION,
        "lossctl_version": __version__,
        "command": "diff",
        "old": report.old,
        "new": report.new,
        "baseline": baseline_data(report.comparison),
        "gate": gate_data(report.gate),
        "warnings": list(report.warnings),
    }


def diff_json(report: DiffReport) -> str:
    return dumps(diff_data(report))


#: A result with more groups than this has one line per group: Python's indenting JSON
#: encoder is written in Python (a million groups would take minutes), its compact one in
#: C. The object is the same.
MANY_GROUPS = 2000
_GROUPS = "\x00groups\x00"


def dumps(doc: dict[str, Any]) -> str:
    groups = doc.get("groups")
    if not isinstance(groups, dict) or len(groups) <= MANY_GROUPS:
        return json.dumps(json_safe(doc), indent=2, sort_keys=True, allow_nan=False)
    text = json.dumps(json_safe({**doc, "groups": _GROUPS}), indent=2, sort_keys=True,
                      allow_nan=False)  # fmt: skip
    fast = json.JSONEncoder(sort_keys=True, allow_nan=True, separators=(", ", ": "))
    lines = []
    for g in sorted(groups):
        body = fast.encode(groups[g])
        if "NaN" in body or "Infinity" in body:  # a NaN cost (or such text): make it null
            body = json.dumps(json_safe(groups[g]), sort_keys=True, allow_nan=False,
                              separators=(", ", ": "))  # fmt: skip
        lines.append(f"    {json.dumps(g)}: {body}")
    return text.replace(json.dumps(_GROUPS), "{\n" + ",\n".join(lines) + "\n  }", 1)


def eval_json(report: EvalReport) -> str:
    return dumps(eval_data(report))


def compare_data(report: CompareReport) -> dict[str, Any]:
    losses: dict[str, Any] = {}
    for key, c in report.losses.items():
        losses[key] = {
            "name": c.name,
            "params": c.params,
            "costs": c.costs,
            "best": c.best,
            "vs_baseline": {
                name: {
                    "delta": v.delta,
                    "relative": v.relative,
                    "ci": list(v.ci) if v.ci is not None else None,
                    "p_value": v.p_value,
                    "p_value_adjusted": v.p_value_adjusted,
                    "significant": v.significant,
                    "win_rate": v.win_rate,
                    **(
                        {"series_won": v.series_won, "n_series": v.n_series}
                        if v.n_series is not None
                        else {}
                    ),
                }
                for name, v in c.vs_baseline.items()
            },
        }
    t = report.test
    doc: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "lossctl_version": __version__,
        "command": "compare",
        "task": report.task,
        "prediction_kind": report.prediction_kind,
        "baseline": report.baseline,
        "models": {
            name: {
                "source": m.source,
                "column": m.column[0] if len(m.column) == 1 else list(m.column),
            }
            for name, m in report.models.items()
        },
        "aligned_by": report.aligned_by,
        "weight": report.weight,
        "n_rows": report.n_rows,
        "n_used": report.n_used,
        "n_dropped": report.n_dropped,
        "test": {
            "method": t.method,
            "resamples": t.resamples,
            "seed": t.seed,
            "confidence": t.confidence,
            "horizon": t.horizon,
        },
        "losses": losses,
        "warnings": list(report.warnings),
        **provenance_data(report),
    }
    if report.gate is not None:
        doc["gate"] = gate_data(report.gate)
    if report.forecast is not None:
        doc["forecast"] = forecast_data(report.forecast)
    if report.signature is not None:
        doc["signature"] = signature_data(report.signature, models=True)
    return doc


def compare_json(report: CompareReport) -> str:
    return dumps(compare_data(report))
