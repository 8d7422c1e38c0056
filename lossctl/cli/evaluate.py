"""``lossctl eval``: one prediction file to per-sample losses and aggregate costs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lossctl.cli import state
from lossctl.cli.common import (
    ClassesOpt,
    ConfigOpt,
    DelimiterOpt,
    EngineOpt,
    FormatOpt,
    JsonOpt,
    KindOpt,
    LevelsOpt,
    NoConfigOpt,
    NoPluginsOpt,
    PluginOpt,
    SchedulerOpt,
    SeasonOpt,
    SeriesOpt,
    Settings,
    StdOpt,
    TimeOpt,
    TrainOpt,
    VarOpt,
    load_config,
    output_format,
    provenance,
    registry,
)
from lossctl.cli.options import (
    DATA,
    OUTPUT,
    AllowMissingOpt,
    ChunkOpt,
    EmbedOpt,
    InputFormatOpt,
    LossOpt,
    MaxGroupOpt,
    MaxOpt,
    NanOpt,
    PosLabelOpt,
    PrecisionOpt,
    PredOpt,
    QuietOpt,
    SheetOpt,
    TargetOpt,
    TaskOpt,
    ToleranceOpt,
    WeightOpt,
)

if TYPE_CHECKING:
    from lossctl.report import EvalReport


def eval_command(
    file: Annotated[str, typer.Argument(metavar="FILE", help="Prediction file, or - for stdin.")],
    loss: LossOpt = None,
    target: TargetOpt = None,
    pred: PredOpt = None,
    weight: WeightOpt = None,
    task: TaskOpt = None,
    nan: NanOpt = None,
    pos_label: PosLabelOpt = None,
    classes: ClassesOpt = None,
    kind: KindOpt = None,
    levels: LevelsOpt = None,
    std: StdOpt = None,
    var: VarOpt = None,
    series: SeriesOpt = None,
    time: TimeOpt = None,
    train: TrainOpt = None,
    season: SeasonOpt = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            metavar="COL",
            show_default=False,
            rich_help_panel=DATA,
            help="Results per group of this column, plus the overall row.",
        ),
    ] = None,
    id_col: Annotated[
        str | None,
        typer.Option(
            "--id",
            metavar="COL",
            show_default=False,
            rich_help_panel=DATA,
            help="Row-id column (names rows in --per-sample).",
        ),
    ] = None,
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    sheet: SheetOpt = None,
    chunk_size: ChunkOpt = None,
    format_option: FormatOpt = None,
    as_json: JsonOpt = False,
    precision: PrecisionOpt = None,
    quiet: QuietOpt = False,
    per_sample: Annotated[
        str | None,
        typer.Option(
            "--per-sample",
            metavar="PATH",
            show_default=False,
            rich_help_panel=OUTPUT,
            help="Write one row per input row with each loss (.csv/.tsv/.parquet, - for "
            "stdout); rows are numbered from 1 (row_1based); rmse/rmsle have no column.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            rich_help_panel=OUTPUT,
            help="Replace an existing --per-sample file (or a per-sample folder lossctl wrote); "
            "never the input.",
        ),
    ] = False,
    max_: MaxOpt = None,
    max_group: MaxGroupOpt = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            metavar="FILE",
            show_default=False,
            rich_help_panel="Gates",
            help="A saved 'lossctl eval --json' result: fail (exit 1) if a loss got worse "
            "than it by more than --tolerance (overall, and per --by group).",
        ),
    ] = None,
    tolerance: ToleranceOpt = None,
    allow_missing: AllowMissingOpt = False,
    embed: EmbedOpt = None,
    engine: EngineOpt = None,
    scheduler: SchedulerOpt = None,
    plugin: PluginOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    no_plugins: NoPluginsOpt = False,
) -> int:
    """Evaluate one prediction file: per-sample losses and the aggregate cost of each loss."""
    from lossctl import __version__
    from lossctl.errors import ExitCode, UsageError
    from lossctl.flows.eval import evaluate
    from lossctl.options import EvalOptions

    conf = load_config(config, no_config, no_plugins)
    settings = Settings(conf)
    output = output_format(format_option, as_json, conf)
    state.check_embed(embed, output)
    digits = settings.precision(precision)
    if per_sample == "-" and output != "table" and not quiet:
        raise UsageError("--per-sample - writes CSV to stdout; add --quiet, or write to a file.")
    opts = EvalOptions(
        path=file,
        losses=settings("loss", loss, []),
        **settings.reading(
            target=target,
            pred=pred,
            weight=weight,
            id=id_col,
            by=by,
            task=task,
            nan=nan,
            pos_label=pos_label,
            classes=classes,
            kind=kind,
            levels=levels,
            std=std,
            var=var,
            series=series,
            time=time,
            train=train,
            season=season,
            input_format=input_format,
            delimiter=delimiter,
            sheet=sheet,
            chunk_size=chunk_size,
        ),
        max=settings("max", max_, []),
        baseline=settings("baseline", baseline),
        tolerance=settings("tolerance", tolerance, []),
        allow_missing=allow_missing or bool(settings("allow_missing", None, False)),
        per_sample=per_sample,
        force=force,
        registry=registry(plugin, conf),
        engine=str(settings("engine", engine, "local")),
        scheduler=settings.scheduler(scheduler),
    )
    # --max-group needs --by; from a config file it applies to the runs that have groups.
    opts.max_group = max_group or (settings("max_group", None, []) if opts.by else [])
    from lossctl.cli.progress import progress_for

    with progress_for(file, quiet, output) as opts.progress:
        report = evaluate(opts, __version__)
    report = replace(report, **provenance(plugin, conf))
    if per_sample == "-":
        quiet = True  # stdout carries the per-sample rows
    if not quiet:
        for w in report.warnings:
            state.warn(w)
        _print(report, output, digits, embed or [])
    if report.gate is not None and not report.gate.passed:
        from lossctl.render.baseline import failure_line  # rich: only when a gate failed

        for f in report.gate.failures:
            state.gate_failed(failure_line(f, digits, report.by))
        return int(ExitCode.GATE_FAILED)
    return 0


def _print(report: EvalReport, output: str, digits: int, embed: Sequence[str] = ()) -> None:
    from lossctl.render import csv as rcsv
    from lossctl.render import json as rjson
    from lossctl.render import markdown as rmd
    from lossctl.render import table as rtable

    if output == "json":
        state.write(rjson.eval_json(report))
    elif output == "markdown":
        state.write(rmd.eval_markdown(report, digits, embed))
    elif output in ("csv", "tsv"):
        state.write(rcsv.eval_delimited(report, "," if output == "csv" else "\t", digits))
    else:
        state.out().print(rtable.eval_table(report, digits))
        if report.baseline is not None:
            from lossctl.render.baseline import baseline_table

            state.out().print(baseline_table(report.baseline, digits))


__all__ = ["Path", "eval_command"]
