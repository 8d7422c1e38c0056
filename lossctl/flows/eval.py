"""The eval flow: prepare -> an engine -> the report. It does not print.

The CLI and the Python API (:func:`lossctl.evaluate`) both call :func:`run_eval`.
Large uncompressed CSV and Parquet files are read in parallel parts (byte ranges /
row groups), each evaluated into its own accumulators that are then merged in
file order; any problem in a part re-runs the file in one sequential pass, so
error messages always carry exact row numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from lossctl.core.accumulate import Evaluation
from lossctl.core.gates import MaxGate, check_max, check_max_group, result
from lossctl.core.prepare import Prepared, prepare
from lossctl.engines.local import check_result, input_files, run_parallel, run_sequential
from lossctl.errors import UsageError
from lossctl.options import EvalOptions
from lossctl.report import DataPrint, EvalReport

#: More --by groups than this is rarely the column meant: a warning says so.
MANY_GROUPS = 10_000


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
    binned = [loss.key for loss in prepared.losses if loss.spec.binned]
    if per_sample and binned:
        out.append(
            f"--per-sample has no column for {', '.join(binned)}: a binned calibration error "
            "has no per-sample value (its cost comes from the bins of all rows)."
        )
    return out


def build_report(
    prepared: Prepared,
    evaluation: Evaluation,
    gates: Sequence[MaxGate],
    per_sample: str | None = None,
) -> EvalReport:
    losses = evaluation.loss_stats()
    cm = prepared.columns
    groups = evaluation.group_stats() if cm.by else None
    failures = check_max(gates, losses)
    if prepared.group_gates and groups is not None:
        costs = {g: {k: s.cost for k, s in gs.losses.items()} for g, gs in groups.items()}
        failures += check_max_group(prepared.group_gates, costs)
    gate = result(failures) if gates or prepared.group_gates else None
    from lossctl.core import diagnostics, fingerprint

    return EvalReport(
        source=prepared.source.name,
        task=prepared.task,
        prediction_kind=prepared.kind,
        columns=prepared.report_columns(),
        n_rows=prepared.validator.n_rows,
        n_used=evaluation.n_used,
        n_dropped=prepared.validator.n_dropped,
        losses=losses,
        groups=groups,
        by=cm.by,
        gate=gate,
        warnings=(
            *prepared.validator.warnings(),
            *dropped_warning(prepared.validator.n_dropped, prepared.validator.n_rows),
            *_report_notes(prepared, evaluation, per_sample),
            *prepared.unused_note(),
        ),
        diagnostics=diagnostics.report(cm, evaluation.extra),
        forecast=prepared.forecast,
        signature=prepared.signature(
            {
                "": DataPrint(
                    evaluation.n_used,
                    fingerprint.text(evaluation.fingerprint),
                    fingerprint.text(evaluation.targets_print),
                )
            }
        ),
    )
