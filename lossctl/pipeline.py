"""The eval and compare flows: file -> chunks -> columns + task -> arrays -> losses -> report.

This module wires the pieces; it does not print. The CLI and the Python API
(:func:`lossctl.evaluate`) both call :func:`run_eval`. Large uncompressed CSV and
Parquet files are read in parallel parts (byte ranges / row groups), each
evaluated into its own accumulators that are then merged in file order; any
problem in a part re-runs the file in one sequential pass, so error messages
always carry exact row numbers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lossctl.accumulate import Evaluation
from lossctl.engines.base import (
    collect,
)
from lossctl.engines.local import check_result, input_files, run_parallel, run_sequential
from lossctl.errors import InputError, UsageError
from lossctl.gates import MaxGate, check_max, parse_max, result
from lossctl.losses import BoundLoss, parse_spec, split_specs
from lossctl.options import CompareOptions, EvalOptions, Progress
from lossctl.report import Columns, CompareReport, EvalReport

if TYPE_CHECKING:
    from lossctl.inputs.columns import ColumnMap
    from lossctl.inputs.datasets import Dataset
    from lossctl.inputs.readers import Chunk, Part, Source
    from lossctl.inputs.validate import Arrays, Validator

#: Losses that divide by the target: zero targets are counted and warned about.
DIVIDES_BY_TARGET = frozenset({"mape"})
#: More --by groups than this is rarely the column meant: a warning says so.
MANY_GROUPS = 10_000


@dataclass
class Prepared:
    """An opened source with its columns, task, losses and validator decided."""

    #: One file, or a dataset of many, with the same reading interface.
    source: Source | Dataset
    columns: ColumnMap
    task: str
    kind: str
    losses: list[BoundLoss]
    validator: Validator
    #: The --max gates, parsed once.
    gates: list[MaxGate] = field(default_factory=list)

    def arrays(
        self, part: Part | None = None, validator: Validator | None = None, offset: int = 0
    ) -> Iterator[tuple[Arrays, Chunk]]:
        """Validated blocks with their raw chunk, in file order (of one part, or all).

        For a dataset every file is read in turn and messages name the file.
        """
        v = validator or self.validator
        cm = self.columns
        groups = [cm.by] if cm.by else []
        ds = self.dataset
        parts: list[Part] | list[Part | None] = (
            ds.parts(1) if ds is not None and part is None else [part]
        )
        for p in parts:
            if ds is not None and p is not None:
                v.source = ds.label(p.file)
            chunks = self.source.chunks(cm.needed, cm.text, p, groups, offset)
            try:
                for chunk in chunks:
                    yield v.convert(chunk.table, chunk.start), chunk
            finally:
                chunks.close()  # the reader stops now, not when garbage is collected

    @property
    def dataset(self) -> Dataset | None:
        """The source when it is a dataset of many files, else None."""
        from lossctl.inputs.datasets import Dataset

        return self.source if isinstance(self.source, Dataset) else None

    @property
    def is_dataset(self) -> bool:
        return self.dataset is not None

    @property
    def unrooted(self) -> tuple[str, ...]:
        """Keys of finalized losses (rmse): their per-sample values are in squared units,
        so --per-sample leaves them out."""
        return tuple(loss.key for loss in self.losses if loss.spec.finalize is not None)


def prepare(opts: EvalOptions) -> Prepared:
    """Open the file, resolve columns, decide the task (from the first rows), bind losses."""
    from lossctl.inputs.columns import resolve_columns
    from lossctl.inputs.readers import DEFAULT_CHUNK_SIZE
    from lossctl.inputs.sources import open_source
    from lossctl.inputs.validate import (
        Validator,
        class_label_note,
        infer_task,
        prediction_kind,
    )
    from lossctl.losses.defaults import default_losses
    from lossctl.plugins import load_registry

    if opts.nan not in ("raise", "omit"):
        raise UsageError(f"--nan must be raise or omit, got '{opts.nan}'.")
    registry = opts.registry or load_registry()
    specs = split_specs(opts.losses)
    gates = parse_max(opts.max)
    parsed = [parse_spec(s) for s in specs]
    loss_tasks = registry.tasks_of(parsed) if parsed else set()
    chunk = DEFAULT_CHUNK_SIZE if opts.chunk_size is None else opts.chunk_size
    source = open_source(opts.path, opts.input_format, chunk, delimiter=opts.delimiter)
    columns = resolve_columns(
        source.columns, source.name, target=opts.target, pred=opts.pred,
        weight=opts.weight, id=opts.id, by=opts.by, class_order=opts.classes,
    )  # fmt: skip
    probe = source.probe(columns.needed, columns.text)
    if probe is None:
        raise InputError(f"{source.name} has a header but no data rows.")
    task = infer_task(probe.table, columns, loss_tasks, opts.task, opts.pos_label, source.name)
    if task == "multiclass" and not columns.multiclass:
        raise InputError(
            f"a multiclass task needs one prediction column per class in {source.name}; "
            "pass them with --pred (a glob such as 'prob_*' works)."
        )
    kind = prediction_kind(probe.table, columns, task)
    if not specs:
        specs = default_losses(task, kind)
    # Losses named only in a gate are evaluated too.
    specs = [*specs, *(g.key for g in gates if g.key not in specs)]
    losses = [registry.bind(parse_spec(s), task) for s in dict.fromkeys(specs)]
    validator = Validator(
        columns, task, source.name, opts.nan, opts.pos_label, kind=kind,
        divides_by_target=tuple(s.key for s in losses if s.name in DIVIDES_BY_TARGET),
    )  # fmt: skip
    if task == "regression" and opts.task == "auto":
        note = class_label_note(probe.table, columns)
        if note:
            validator.notes.append(note)
    if opts.classes and task != "multiclass":
        raise UsageError(f"--classes is for multiclass class columns; this is a {task} task.")
    return Prepared(source, columns, task, kind, losses, validator, gates)


def run_eval(opts: EvalOptions) -> EvalReport:
    """Evaluate one prediction file: the whole of ``lossctl eval`` minus printing."""
    from lossctl.inputs.readers import cpu_workers

    if opts.per_sample:  # before reading: a refused target costs nothing
        from lossctl.inputs import writers

        check = writers.check_folder_target if opts.engine == "dask" else writers.check_file_target
        check(opts.per_sample, opts.path, (), opts.force)
    prepared = prepare(opts)
    if opts.progress is not None:
        opts.progress.start(prepared.source.total_rows)
    if opts.engine == "dask":
        from lossctl.engines import dask_engine

        distributed = dask_engine.run_eval(
            prepared, opts.scheduler, opts.progress, opts.per_sample, opts.force,
            input_files(prepared),
        )  # fmt: skip
        check_result(prepared, distributed)
        return build_report(prepared, distributed, prepared.gates, opts.per_sample)
    if opts.engine != "local":
        raise UsageError(f"unknown --engine '{opts.engine}'; expected local or dask.")
    workers = opts.workers if opts.workers is not None else cpu_workers()
    evaluation: Evaluation | None = None
    # Rows streamed to stdout cannot be taken back if a part fails: one pass for those.
    parts = None if opts.per_sample == "-" else prepared.source.parts(workers)
    if parts:
        writer = None
        try:
            if opts.per_sample:
                from lossctl.inputs.writers import PerSampleWriter

                writer = PerSampleWriter(
                    opts.per_sample,
                    opts.path,
                    opts.force,
                    input_files(prepared),
                    prepared.columns.id,
                )
            evaluation = run_parallel(prepared, parts, workers, opts.progress, writer)
            if evaluation is not None:
                check_result(prepared, evaluation)
                if writer is not None:
                    writer.commit()
                    writer = None
            else:  # start again in one pass, for exact row numbers in the message
                prepared.validator = prepared.validator.fresh()
        finally:
            if writer is not None:
                writer.abort()
    if evaluation is None:
        evaluation = run_sequential(prepared, opts.per_sample, opts.path, opts.progress, opts.force)
    return build_report(prepared, evaluation, prepared.gates, opts.per_sample)


#: How compare drops rows with --nan omit.
ALL_MODELS = " (a row dropped for any model is dropped for all)"


def dropped_warning(dropped: int, rows: int, note: str = "") -> tuple[str, ...]:
    """The --nan omit warning (printed on stderr and listed in JSON ``warnings``)."""
    return (f"--nan omit dropped {dropped} of {rows} rows{note}.",) if dropped else ()


def _report_notes(prepared: Prepared, evaluation: Evaluation, per_sample: str | None) -> list[str]:
    """Warnings about the run itself: many groups, losses --per-sample leaves out."""
    out = []
    groups = evaluation.n_groups if prepared.columns.by else 0
    if groups > MANY_GROUPS:
        out.append(
            f"--by {prepared.columns.by} made {groups:,} groups (more than {MANY_GROUPS:,}); "
            "a table that long is rarely what is meant: check the column, or read the "
            "groups from --json."
        )
    if per_sample and prepared.unrooted:
        keys = ", ".join(prepared.unrooted)
        out.append(
            f"--per-sample has no column for {keys}: its per-sample values are squared "
            "errors (the cost is the square root of their mean); add -l mse (or msle for "
            "rmsle) to write them."
        )
    return out


def build_report(
    prepared: Prepared,
    evaluation: Evaluation,
    gates: Sequence[MaxGate],
    per_sample: str | None = None,
) -> EvalReport:
    losses = evaluation.loss_stats()
    gate = result(check_max(gates, losses)) if gates else None
    cm = prepared.columns
    return EvalReport(
        source=prepared.source.name,
        task=prepared.task,
        prediction_kind=prepared.kind,
        columns=Columns(cm.target, cm.pred, cm.weight, cm.classes, prepared.validator.positive),
        n_rows=prepared.validator.n_rows,
        n_used=evaluation.n_used,
        n_dropped=prepared.validator.n_dropped,
        losses=losses,
        groups=evaluation.group_stats() if cm.by else None,
        by=cm.by,
        gate=gate,
        warnings=(
            *prepared.validator.warnings(),
            *dropped_warning(prepared.validator.n_dropped, prepared.validator.n_rows),
            *_report_notes(prepared, evaluation, per_sample),
        ),
    )


# -- compare -------------------------------------------------------------------------------


#: The most --resamples a comparison takes (memory grows with the resamples, not the rows).
MAX_RESAMPLES = 1_000_000


@dataclass
class _ModelSpec:
    name: str
    path: str
    pred: list[str]


def model_specs(opts: CompareOptions) -> list[_ModelSpec]:
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


def run_compare(opts: CompareOptions) -> CompareReport:
    """Compare models on the same rows: the whole of ``lossctl compare`` minus printing."""
    from lossctl.compare import align_by_id, align_by_position, common_rows, compare_losses
    from lossctl.plugins import load_registry
    from lossctl.report import GateFailure, ModelInfo, TestInfo
    from lossctl.stats import check_test

    check_test(opts.test)
    if not 0 < opts.confidence < 1:
        raise UsageError(f"--confidence must be in (0, 1), got {opts.confidence}.")
    if not 1 <= opts.resamples <= MAX_RESAMPLES:
        raise UsageError(
            f"--resamples must be between 1 and {MAX_RESAMPLES:,}, got {opts.resamples:,} "
            "(each resample holds its own sums: the bound keeps memory bounded; 2000 gives "
            "p-values to 0.0005 and 10,000 is plenty for a 99% interval)."
        )
    if opts.seed < 0:
        raise UsageError(f"--seed must be an integer >= 0, got {opts.seed}.")
    if opts.tolerance < 0:
        raise UsageError(f"--tolerance must be >= 0, got {opts.tolerance}.")
    registry = opts.registry or load_registry()
    specs = model_specs(opts)
    baseline = opts.baseline or specs[0].name
    if baseline not in {s.name for s in specs}:
        raise UsageError(
            f"--baseline '{baseline}' is not one of the models: {', '.join(s.name for s in specs)}."
        )
    gates = parse_max(opts.max)
    collected = []
    task, kind, loss_specs = opts.task, "", list(split_specs(opts.losses))
    losses: list[BoundLoss] = []
    prepareds: list[Prepared] = []
    for spec in specs:
        prepared = prepare(EvalOptions(
            path=spec.path, losses=loss_specs, target=opts.target, pred=spec.pred,
            weight=opts.weight, id=opts.id, task=task, nan=opts.nan, pos_label=opts.pos_label,
            classes=opts.classes, input_format=opts.input_format, delimiter=opts.delimiter,
            chunk_size=opts.chunk_size,
            max=opts.max, registry=registry,
        ))  # fmt: skip
        if not losses:
            # The first model decides the task and the default losses; the others follow.
            task, kind, losses = prepared.task, prepared.kind, prepared.losses
            loss_specs = [loss.key for loss in losses]
        prepareds.append(prepared)
    names = [spec.name for spec in specs]
    if opts.engine == "dask":
        from lossctl.engines import dask_engine

        if len({spec.path for spec in specs}) > 1 or opts.id:
            raise UsageError(
                "compare on the dask engine pairs models inside one file or dataset: give "
                "each model's predictions as a --pred column of the same files (no --id), "
                "or use --engine local."
            )
        comparisons, n_rows, n_used = dask_engine.run_compare(
            prepareds, names, baseline, test=opts.test, confidence=opts.confidence,
            horizon=opts.horizon, scheduler=opts.scheduler,
        )  # fmt: skip
        columns = {name: p.columns.pred for name, p in zip(names, prepareds, strict=True)}
        sources = {name: p.source.name for name, p in zip(names, prepareds, strict=True)}
    else:
        collected = [collect(p, name) for p, name in zip(prepareds, names, strict=True)]
        models = align_by_id(collected, opts.id) if opts.id else align_by_position(collected)
        keep = common_rows(models)
        if not keep.any():
            raise InputError("no row is valid for every model; nothing to compare.")
        comparisons = compare_losses(
            models, losses, baseline, test=opts.test, resamples=opts.resamples, seed=opts.seed,
            confidence=opts.confidence, horizon=opts.horizon, rows=keep,
        )  # fmt: skip
        n_rows, n_used = models[0].n, int(keep.sum())
        columns = {m.name: m.columns for m in models}
        sources = {m.name: m.source for m in models}
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
    return CompareReport(
        task=task,
        prediction_kind=kind,
        baseline=baseline,
        models={n: ModelInfo(n, sources[n], columns[n]) for n in names},
        aligned_by=opts.id or "row",
        n_rows=n_rows,
        n_used=n_used,
        n_dropped=n_rows - n_used,
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
        warnings=(
            *dict.fromkeys(w for p in prepareds for w in p.validator.warnings()),
            *dropped_warning(n_rows - n_used, n_rows, ALL_MODELS),
        ),
    )


#: The flows' public names; the options and Progress are re-exported from lossctl.options.
__all__ = [
    "CompareOptions",
    "EvalOptions",
    "Prepared",
    "Progress",
    "build_report",
    "collect",
    "model_specs",
    "prepare",
    "run_compare",
    "run_eval",
]
