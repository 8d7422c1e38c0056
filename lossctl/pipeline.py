"""The eval flow: file -> chunks -> columns + task -> arrays -> losses -> report.

This module wires the pieces; it does not print. The CLI and the Python API
(:func:`lossctl.evaluate`) both call :func:`run_eval`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from lossctl.accumulate import Evaluation, per_sample_losses
from lossctl.errors import DomainError, InputError, UsageError
from lossctl.gates import check_max, parse_max, result
from lossctl.losses import BoundLoss, Registry, parse_spec, split_specs
from lossctl.report import Columns, EvalReport

if TYPE_CHECKING:
    import pandas as pd

    from lossctl.inputs.columns import ColumnMap
    from lossctl.inputs.readers import Source
    from lossctl.inputs.validate import Arrays, Validator


@dataclass
class EvalOptions:
    """Everything ``lossctl eval`` takes, with the contract's defaults."""

    path: str
    losses: Sequence[str] = ()
    target: Sequence[str] = ()
    pred: Sequence[str] = ()
    weight: str | None = None
    id: str | None = None
    by: str | None = None
    task: str = "auto"
    nan: str = "raise"
    pos_label: str | None = None
    input_format: str | None = None
    chunk_size: int | None = None
    max: Sequence[str] = ()
    per_sample: str | None = None
    registry: Registry | None = None
    progress: Callable[[int], None] | None = field(default=None, repr=False)


@dataclass
class Prepared:
    """An opened source with its columns, task, losses and validator decided."""

    source: Source
    columns: ColumnMap
    task: str
    kind: str
    losses: list[BoundLoss]
    validator: Validator
    first: Any  # the first chunk, already read to decide the task
    rest: Iterator[Any]  # the chunks after it (one pass: arrays() can run once)

    def arrays(self) -> Iterator[tuple[Arrays, pd.DataFrame]]:
        """Validated blocks with their raw frame, the first chunk included."""
        for chunk in itertools.chain([self.first], self.rest):
            yield self.validator.convert(chunk.frame, chunk.start), chunk.frame


def bind_losses(registry: Registry, specs: Sequence[str], task: str) -> list[BoundLoss]:
    return [registry.bind(parse_spec(s), task) for s in specs]


def prepare(opts: EvalOptions) -> Prepared:
    """Open the file, resolve columns, decide the task and bind the losses."""
    from lossctl.inputs.columns import resolve_columns
    from lossctl.inputs.readers import DEFAULT_CHUNK_SIZE, open_source
    from lossctl.inputs.validate import Validator, default_losses, infer_task, prediction_kind
    from lossctl.plugins import load_registry

    if opts.nan not in ("raise", "omit"):
        raise UsageError(f"--nan must be raise or omit, got '{opts.nan}'.")
    registry = opts.registry or load_registry()
    specs = split_specs(opts.losses)
    gates = parse_max(opts.max)
    parsed = [parse_spec(s) for s in specs]
    loss_tasks = registry.tasks_of(parsed) if parsed else set()
    # Losses named only in a gate are evaluated too.
    gate_only = [g.key for g in gates if g.key not in specs]

    source = open_source(opts.path, opts.input_format, opts.chunk_size or DEFAULT_CHUNK_SIZE)
    columns = resolve_columns(
        source.columns,
        source.name,
        target=opts.target,
        pred=opts.pred,
        weight=opts.weight,
        id=opts.id,
        by=opts.by,
    )
    chunks = source.chunks(columns.needed, columns.text)
    first = next(chunks, None)
    if first is None:
        raise InputError(f"{source.name} has a header but no data rows.")
    task = infer_task(first.frame, columns, loss_tasks, opts.task, opts.pos_label)
    if task == "multiclass" and not columns.multiclass:
        raise InputError(
            f"a multiclass task needs one prediction column per class in {source.name}; "
            "pass them with --pred (a glob such as 'prob_*' works)."
        )
    kind = prediction_kind(first.frame, columns, task)
    if not specs:
        specs = default_losses(task, kind)
    specs = [*specs, *(k for k in gate_only if k not in specs)]
    losses = bind_losses(registry, specs, task)
    validator = Validator(columns, task, source.name, opts.nan, opts.pos_label)
    return Prepared(source, columns, task, kind, losses, validator, first, chunks)


def _column_of(role: str, columns: ColumnMap) -> str:
    cols = (
        columns.target
        if role == "y_true"
        else columns.pred
        if role == "y_pred"
        else ((columns.weight or "weight"),)
    )
    return ", ".join(cols) if len(cols) <= 3 else f"{cols[0]}, ..., {cols[-1]}"


def compute_block(prepared: Prepared, arrays: Arrays) -> dict[str, np.ndarray]:
    """Per-sample losses of one block; domain errors name the file, column and rows."""
    try:
        return per_sample_losses(prepared.losses, arrays.y_true, arrays.y_pred)
    except DomainError as exc:
        raise InputError(
            exc.describe(
                column=_column_of(exc.role, prepared.columns),
                source=prepared.source.name,
                row_numbers=arrays.rows.tolist(),
            )
        ) from None


def per_sample_frame(
    prepared: Prepared, arrays: Arrays, raw: pd.DataFrame, values: dict[str, np.ndarray]
) -> pd.DataFrame:
    """The --per-sample rows of a block: row or id, target(s), prediction(s), losses."""
    import pandas as pd

    cm = prepared.columns
    base = raw if arrays.keep is None else raw[arrays.keep]
    data: dict[str, Any] = {}
    data[cm.id or "row"] = base[cm.id].to_numpy() if cm.id else arrays.rows
    for c in (*cm.target, *cm.pred, cm.by):
        if c and c not in data:
            data[c] = base[c].to_numpy()
    data.update(values)
    return pd.DataFrame(data)


def run_eval(opts: EvalOptions) -> EvalReport:
    """Evaluate one prediction file: the whole of ``lossctl eval`` minus printing."""
    prepared = prepare(opts)
    evaluation = Evaluation(prepared.losses)
    writer = None
    if opts.per_sample:
        from lossctl.inputs.writers import PerSampleWriter

        writer = PerSampleWriter(opts.per_sample, opts.path)
    try:
        for arrays, raw in prepared.arrays():
            if opts.progress is not None:
                opts.progress(len(raw))
            if prepared.validator.nan_count and opts.nan == "raise":
                continue  # keep reading only to count the bad rows
            if len(arrays) == 0:
                continue
            values = compute_block(prepared, arrays)
            evaluation.add(values, arrays.weight, arrays.groups)
            if writer is not None:
                writer.write(per_sample_frame(prepared, arrays, raw, values))
        prepared.validator.finish()
        if evaluation.n_used == 0:
            raise InputError(
                f"no rows of {prepared.source.name} left to evaluate "
                f"({prepared.validator.n_dropped} dropped by --nan omit)."
            )
        if prepared.columns.weight:
            total = next(iter(evaluation.overall.values())).weight_sum
            if total <= 0:
                raise InputError(
                    f"column '{prepared.columns.weight}' of {prepared.source.name}: all weights "
                    "are 0; at least one row needs a positive weight."
                )
        if writer is not None:
            writer.commit()
            writer = None
    finally:
        if writer is not None:
            writer.abort()
    return build_report(prepared, evaluation, parse_max(opts.max))


def build_report(prepared: Prepared, evaluation: Evaluation, gates: Sequence[Any]) -> EvalReport:
    losses = evaluation.loss_stats()
    gate = result(check_max(gates, losses)) if gates else None
    cm = prepared.columns
    return EvalReport(
        source=prepared.source.name,
        task=prepared.task,
        prediction_kind=prepared.kind,
        columns=Columns(cm.target, cm.pred, cm.weight, cm.classes),
        n_rows=prepared.validator.n_rows,
        n_used=evaluation.n_used,
        n_dropped=prepared.validator.n_dropped,
        losses=losses,
        groups=evaluation.group_stats() if cm.by else None,
        by=cm.by,
        gate=gate,
        warnings=tuple(prepared.validator.warnings()),
    )


# -- compare -------------------------------------------------------------------------------


@dataclass
class CompareOptions:
    """Everything ``lossctl compare`` takes, with the contract's defaults."""

    files: Sequence[str]
    names: Sequence[str] = ()
    baseline: str | None = None
    losses: Sequence[str] = ()
    target: Sequence[str] = ()
    pred: Sequence[str] = ()
    weight: str | None = None
    id: str | None = None
    task: str = "auto"
    nan: str = "raise"
    pos_label: str | None = None
    input_format: str | None = None
    chunk_size: int | None = None
    test: str = "bootstrap"
    resamples: int = 2000
    seed: int = 0
    confidence: float = 0.95
    horizon: int = 1
    fail_if_worse: bool = False
    tolerance: float = 0.0
    max: Sequence[str] = ()
    registry: Registry | None = None


@dataclass
class _ModelSpec:
    name: str
    path: str
    pred: list[str]


def _model_specs(opts: CompareOptions) -> list[_ModelSpec]:
    from pathlib import Path

    files = list(opts.files)
    if not files:
        raise UsageError("compare needs prediction files: two or more, or one with several --pred.")
    if len(files) == 1:
        if len(opts.pred) < 2:
            raise UsageError(
                f"compare needs at least two models: give two or more files, or pass --pred once "
                f"per model column of {files[0]} (e.g. --pred y_pred --pred y_pred_gbr)."
            )
        specs = [_ModelSpec(p, files[0], [p]) for p in opts.pred]
    else:
        stems = [Path(f).name.split(".")[0] if f != "-" else "stdin" for f in files]
        if len(set(stems)) < len(stems):
            stems = [f for f in files]
        specs = [_ModelSpec(s, f, list(opts.pred)) for s, f in zip(stems, files, strict=True)]
        if files.count("-") > 1:
            raise UsageError("standard input (-) can be only one of the compared files.")
    if opts.names:
        names = [n.strip() for item in opts.names for n in item.split(",") if n.strip()]
        if len(names) != len(specs):
            raise UsageError(f"--names gives {len(names)} names for {len(specs)} models.")
        for spec, name in zip(specs, names, strict=True):
            spec.name = name
    if len({s.name for s in specs}) < len(specs):
        raise UsageError("model names must be unique; pass --names a,b,c.")
    return specs


def _collect(prepared: Prepared, name: str, path: str) -> Any:
    """Read a whole model: per-sample losses over every row, NaN where a row was dropped."""
    from lossctl.compare import Collected

    chunks: dict[str, list[np.ndarray]] = {loss.key: [] for loss in prepared.losses}
    y_parts: list[np.ndarray] = []
    valid_parts: list[np.ndarray] = []
    w_parts: list[np.ndarray] = []
    id_parts: list[np.ndarray] = []
    cm = prepared.columns
    for arrays, raw in prepared.arrays():
        n = len(raw)
        keep = np.ones(n, dtype=bool) if arrays.keep is None else arrays.keep
        valid_parts.append(keep)
        if prepared.validator.nan_count and prepared.validator.nan == "raise":
            continue
        shape = (n, *arrays.y_true.shape[1:])
        y = np.full(shape, np.nan)
        y[keep] = arrays.y_true
        y_parts.append(y)
        if cm.weight:
            w = np.full(n, np.nan)
            w[keep] = arrays.weight
            w_parts.append(w)
        if cm.id:
            id_parts.append(raw[cm.id].to_numpy())
        values = compute_block(prepared, arrays) if len(arrays) else {}
        for key in chunks:
            full = np.full(n, np.nan)
            if values:
                full[keep] = values[key]
            chunks[key].append(full)
    prepared.validator.finish()
    return Collected(
        name=name,
        source=prepared.source.name,
        columns=cm.pred,
        y_true=np.concatenate(y_parts),
        valid=np.concatenate(valid_parts),
        losses={k: np.concatenate(v) for k, v in chunks.items()},
        weight=np.concatenate(w_parts) if cm.weight else None,
        ids=np.concatenate(id_parts) if cm.id else None,
    )


def run_compare(opts: CompareOptions) -> Any:
    """Compare models on the same rows: the whole of ``lossctl compare`` minus printing."""
    from lossctl.compare import align_by_id, align_by_position, common_rows, compare_losses
    from lossctl.plugins import load_registry
    from lossctl.report import CompareReport, GateFailure, ModelInfo, TestInfo
    from lossctl.stats import TESTS

    if opts.test not in TESTS:
        raise UsageError(f"unknown --test '{opts.test}'; expected one of {', '.join(TESTS)}.")
    if not 0 < opts.confidence < 1:
        raise UsageError(f"--confidence must be in (0, 1), got {opts.confidence}.")
    if opts.resamples < 1:
        raise UsageError(f"--resamples must be >= 1, got {opts.resamples}.")
    if opts.tolerance < 0:
        raise UsageError(f"--tolerance must be >= 0, got {opts.tolerance}.")
    registry = opts.registry or load_registry()
    specs = _model_specs(opts)
    baseline = opts.baseline or specs[0].name
    if baseline not in {s.name for s in specs}:
        raise UsageError(
            f"--baseline '{baseline}' is not one of the models: {', '.join(s.name for s in specs)}."
        )
    gates = parse_max(opts.max)
    collected = []
    task, kind, loss_specs = opts.task, "", list(split_specs(opts.losses))
    losses: list[BoundLoss] = []
    for spec in specs:
        prepared = prepare(EvalOptions(
            path=spec.path, losses=loss_specs, target=opts.target, pred=spec.pred,
            weight=opts.weight, id=opts.id, task=task, nan=opts.nan, pos_label=opts.pos_label,
            input_format=opts.input_format, chunk_size=opts.chunk_size,
            max=opts.max, registry=registry,
        ))  # fmt: skip
        if not losses:
            # The first model decides the task and the default losses; the others follow.
            task, kind, losses = prepared.task, prepared.kind, prepared.losses
            loss_specs = [loss.key for loss in losses]
        collected.append(_collect(prepared, spec.name, spec.path))
    models = align_by_id(collected, opts.id) if opts.id else align_by_position(collected)
    keep = common_rows(models)
    if not keep.any():
        raise InputError("no row is valid for every model; nothing to compare.")
    comparisons = compare_losses(
        models, losses, baseline, test=opts.test, resamples=opts.resamples, seed=opts.seed,
        confidence=opts.confidence, horizon=opts.horizon, rows=keep,
    )  # fmt: skip
    failures: list[GateFailure] = []
    if opts.fail_if_worse:
        for key, comp in comparisons.items():
            for name, v in comp.vs_baseline.items():
                worse = v.delta > 0 and (v.relative is None or v.relative > opts.tolerance)
                if worse and v.significant is not False:
                    allowed = comp.costs[baseline] * (1.0 + opts.tolerance)
                    failures.append(GateFailure(key, comp.costs[name], allowed, name, "worse"))
    for gate in gates:
        comp = comparisons[gate.key]
        for name, c in comp.costs.items():
            if not c <= gate.value:
                failures.append(GateFailure(gate.key, c, gate.value, name))
    gate_result = result(failures) if (opts.fail_if_worse or gates) else None
    n_rows = models[0].n
    return CompareReport(
        task=task,
        prediction_kind=kind,
        baseline=baseline,
        models={m.name: ModelInfo(m.name, m.source, m.columns) for m in models},
        aligned_by=opts.id or "row",
        n_rows=n_rows,
        n_used=int(keep.sum()),
        n_dropped=n_rows - int(keep.sum()),
        losses=comparisons,
        test=TestInfo(
            opts.test,
            opts.resamples if opts.test in ("bootstrap", "permutation") else None,
            opts.seed if opts.test in ("bootstrap", "permutation") else None,
            opts.confidence,
            opts.horizon if opts.test == "dm" else None,
        ),
        weight=opts.weight,
        gate=gate_result,
    )
