"""``lossctl eval``: one prediction file to per-sample losses and aggregate costs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from enum import StrEnum
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
    NoConfigOpt,
    NoPluginsOpt,
    PluginOpt,
    SchedulerOpt,
    Settings,
    TaskChoice,
    load_config,
    output_format,
    provenance,
    registry,
)

DATA = "Data"
OUTPUT = "Output"
GATES = "Gates"

if TYPE_CHECKING:
    from lossctl.report import EvalReport


class NanChoice(StrEnum):
    raise_ = "raise"
    omit = "omit"


class InputFormat(StrEnum):
    csv = "csv"
    tsv = "tsv"
    parquet = "parquet"
    jsonl = "jsonl"
    feather = "feather"


LossOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--loss",
        "-l",
        metavar="SPEC",
        show_default=False,
        rich_help_panel=DATA,
        help="Loss NAME[:key=value...]; repeatable or comma list (default: by task).",
    ),
]
TargetOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--target",
        "-t",
        metavar="COL",
        show_default=False,
        rich_help_panel=DATA,
        help="True-value column (or K target-probability columns / a glob).",
    ),
]
PredOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--pred",
        "-p",
        metavar="COL",
        show_default=False,
        rich_help_panel=DATA,
        help="Prediction column; repeat or glob ('prob_*') for K class columns.",
    ),
]
WeightOpt = Annotated[
    str | None,
    typer.Option(
        "--weight",
        "-w",
        metavar="COL",
        show_default=False,
        rich_help_panel=DATA,
        help="Sample-weight column (finite, >= 0, not all 0).",
    ),
]
TaskOpt = Annotated[
    TaskChoice | None,
    typer.Option(
        "--task",
        show_default="auto",
        rich_help_panel=DATA,
        help="Task; auto decides from the losses, then the data.",
    ),
]
NanOpt = Annotated[
    NanChoice | None,
    typer.Option(
        "--nan",
        show_default="raise",
        rich_help_panel=DATA,
        help="Rows with NaN/inf/empty used values: raise an error, or omit them.",
    ),
]
PosLabelOpt = Annotated[
    str | None,
    typer.Option(
        "--pos-label",
        metavar="LABEL",
        show_default=False,
        rich_help_panel=DATA,
        help="Binary target with two text labels: the positive one.",
    ),
]
InputFormatOpt = Annotated[
    InputFormat | None,
    typer.Option(
        "--input-format",
        show_default=False,
        rich_help_panel=DATA,
        help="Override the format from the suffix (stdin and pipes are sniffed: Parquet, "
        "Feather and compressed bytes are recognised; plain text is CSV).",
    ),
]
ChunkOpt = Annotated[
    int | None,
    typer.Option(
        "--chunk-size",
        metavar="N",
        show_default="1000000",
        rich_help_panel=DATA,
        help="Rows per chunk when streaming.",
    ),
]
PrecisionOpt = Annotated[
    int | None,
    typer.Option(
        "--precision",
        metavar="N",
        show_default="6",
        rich_help_panel=OUTPUT,
        help="Significant digits in table/markdown/csv (JSON: full precision).",
    ),
]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet",
        "-q",
        rich_help_panel=OUTPUT,
        help="Print nothing on success; errors and gate failures still go to stderr.",
    ),
]
EmbedOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--embed",
        metavar="IMAGE",
        show_default=False,
        rich_help_panel=OUTPUT,
        help="With --format markdown: show this image (from lossctl plot --out) "
        "below the table; repeatable.",
    ),
]
MaxOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--max",
        metavar="KEY=VALUE",
        show_default=False,
        rich_help_panel=GATES,
        help="Fail (exit 1) if the overall cost of loss KEY exceeds VALUE (with --by, groups "
        "are not gated); repeatable.",
    ),
]


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
    chunk_size: ChunkOpt = None,
    fmt: FormatOpt = None,
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
    embed: EmbedOpt = None,
    engine: EngineOpt = None,
    scheduler: SchedulerOpt = None,
    plugin: PluginOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    no_plugins: NoPluginsOpt = False,
) -> int:
    """Evaluate one prediction file: per-sample losses and the aggregate cost of each loss."""
    from lossctl.errors import ExitCode, UsageError
    from lossctl.pipeline import EvalOptions, run_eval
    from lossctl.render.numbers import fmt as fmt_num

    conf = load_config(config, no_config, no_plugins)
    settings = Settings(conf)
    kind = output_format(fmt, as_json, conf)
    state.check_embed(embed, kind)
    digits = settings.precision(precision)
    if per_sample == "-" and kind != "table" and not quiet:
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
            input_format=input_format,
            delimiter=delimiter,
            chunk_size=chunk_size,
        ),
        max=settings("max", max_, []),
        per_sample=per_sample,
        force=force,
        registry=registry(plugin, conf),
        engine=str(settings("engine", engine, "local")),
        scheduler=settings.scheduler(scheduler),
    )
    from lossctl.cli.progress import progress_for

    with progress_for(file, quiet, kind) as opts.progress:
        report = run_eval(opts)
    report = replace(report, **provenance(plugin, conf))
    if per_sample == "-":
        quiet = True  # stdout carries the per-sample rows
    if not quiet:
        for w in report.warnings:
            state.warn(w)
        _print(report, kind, digits, embed or [])
    if report.gate is not None and not report.gate.passed:
        for f in report.gate.failures:
            state.gate_failed(
                f"{f.loss} = {fmt_num(f.cost, digits)} > max {fmt_num(f.max, digits)}"
            )
        return int(ExitCode.GATE_FAILED)
    return 0


def _print(report: EvalReport, kind: str, digits: int, embed: Sequence[str] = ()) -> None:
    from lossctl.render import csv as rcsv
    from lossctl.render import json as rjson
    from lossctl.render import markdown as rmd
    from lossctl.render import table as rtable

    if kind == "json":
        state.write(rjson.eval_json(report))
    elif kind == "markdown":
        state.write(rmd.eval_markdown(report, digits, embed))
    elif kind in ("csv", "tsv"):
        state.write(rcsv.eval_delimited(report, "," if kind == "csv" else "\t", digits))
    else:
        state.out().print(rtable.eval_table(report, digits))


__all__ = ["Path", "eval_command"]
