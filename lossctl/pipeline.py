"""The eval flow: file -> chunks -> columns + task -> arrays -> losses -> report.

This module wires the pieces; it does not print. The CLI and the Python API
(:func:`lossctl.evaluate`) both call :func:`run_eval`.
"""

from __future__ import annotations

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
    first: Any  # the first chunk, already read

    def arrays(self) -> Iterator[tuple[Arrays, pd.DataFrame]]:
        """Validated blocks with their raw frame, the first chunk included."""
        chunks = self.source.chunks(self.columns.needed)
        for chunk in _prepend(self.first, chunks):
            yield self.validator.convert(chunk.frame, chunk.start), chunk.frame


def _prepend(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    if first is not None:
        yield first
    for item in rest:
        if first is not None and item.start == first.start:
            continue
        yield item


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
    chunks = source.chunks(columns.needed)
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
    return Prepared(source, columns, task, kind, losses, validator, first)


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
