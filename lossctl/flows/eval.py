"""The eval flow: prepare -> an engine -> the report. It does not print.

The CLI and the Python API (:func:`lossctl.evaluate`) both call :func:`run_eval`.
Large uncompressed CSV and Parquet files are read in parallel parts (byte ranges /
row groups), each evaluated into its own accumulators that are then merged in
file order; any problem in a part re-runs the file in one sequential pass, so
error messages always carry exact row numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lossctl.core.accumulate import Evaluation
from lossctl.core.gates import MaxGate, check_max, check_max_group, result
from lossctl.core.prepare import Prepared, prepare
from lossctl.engines.local import check_result, input_files, run_parallel, run_sequential
from lossctl.errors import UsageError
from lossctl.options import EvalOptions
from lossctl.report import DataPrint, EvalReport

#: More --by groups than this is rarely the column meant: a warning says so.
MANY_GROUPS = 10_000


def evaluate(opts: EvalOptions, version: str) -> EvalReport:
    """``lossctl eval`` with ``--baseline``: a bad baseline or tolerance costs no read of
    the data; the report carries the comparison with the saved result."""
    saved = None
    if opts.baseline is not None:
        from lossctl.core.baseline import parse_tolerances
        from lossctl.flows.baseline import read_saved

        parse_tolerances(opts.tolerance)
        saved = read_saved(opts.baseline, "--baseline")
    elif opts.tolerance or opts.allow_missing:
        raise UsageError(
            "--tolerance and --allow-missing are for --baseline FILE (a saved "
            "'lossctl eval --json'); add it, or drop them."
        )
    report = run_eval(opts)
    if saved is None:
        return report
    from lossctl.flows.baseline import check_eval

    return check_eval(report, saved, opts.tolerance, opts.allow_missing, version)


def run_eval(opts: EvalOptions, sink: Any = None) -> EvalReport:
    """Evaluate one prediction file: the whole of ``lossctl eval`` minus printing.

    ``sink`` (the Python API's ``per_sample``) receives the per-sample blocks instead of
    a ``--per-sample`` file: an object with ``write(table)``, ``commit()`` and ``abort()``.
    """
    from lossctl.inputs.readers import cpu_workers

    if opts.engine == "dask" and not isinstance(opts.path, str):
        raise UsageError(
            "the Dask engine reads files (a path or a dataset); in-memory data run on the "
            "local engine (engine='local')."
        )
    if sink is not None and opts.engine != "local":
        raise UsageError("per-sample values in memory need the local engine (engine='local').")
    if opts.per_sample and not isinstance(opts.path, str):
        raise UsageError(
            "per_sample= writes a file from a file's rows; for in-memory data call "
            "lossctl.per_sample(data, ...), which returns them."
        )
    if opts.per_sample:  # before reading: a refused target costs nothing
        from lossctl.inputs import writers

        check = writers.check_folder_target if opts.engine == "dask" else writers.check_file_target
        check(opts.per_sample, str(opts.path), (), opts.force)
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
            writer = sink if sink is not None else _writer(opts, prepared)
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
        if sink is not None:
            sink.abort()  # the blocks of the parallel attempt, dropped
        writer = sink if sink is not None else _writer(opts, prepared)
        evaluation = run_sequential(prepared, writer, opts.progress)
    # The per-sample notes (losses without a column) hold for the API's sink too.
    per_sample = opts.per_sample or ("memory" if sink is not None else None)
    return build_report(prepared, evaluation, prepared.gates, per_sample)


def _writer(opts: EvalOptions, prepared: Prepared) -> Any:
    """The --per-sample file writer (None without --per-sample)."""
    if not opts.per_sample:
        return None
    from lossctl.inputs.writers import PerSampleWriter

    path = opts.path if isinstance(opts.path, str) else ""
    return PerSampleWriter(
        opts.per_sample, path, opts.force, input_files(prepared), prepared.columns.id
    )


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
