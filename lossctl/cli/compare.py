"""``lossctl compare``: is model B really better than model A?"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from lossctl import options as defaults
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
    GATES,
    MODELS,
    STATS,
    ChunkOpt,
    ConfidenceOpt,
    EmbedOpt,
    InputFormatOpt,
    LossOpt,
    MaxOpt,
    ModelPredOpt,
    NamesOpt,
    NanOpt,
    PairIdOpt,
    PosLabelOpt,
    PrecisionOpt,
    QuietOpt,
    ResamplesOpt,
    SeedOpt,
    SheetOpt,
    TargetOpt,
    TaskOpt,
    TestChoice,
    WeightOpt,
)

if TYPE_CHECKING:
    from lossctl.report import CompareReport


def compare_command(
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE...",
            help="Prediction files (one per model), or one file "
            "with a --pred per model; - for stdin.",
        ),
    ],
    pred: ModelPredOpt = None,
    names: NamesOpt = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            metavar="NAME",
            show_default="first model",
            rich_help_panel=MODELS,
            help="The model the others are compared with.",
        ),
    ] = None,
    id_col: PairIdOpt = None,
    loss: LossOpt = None,
    target: TargetOpt = None,
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
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    sheet: SheetOpt = None,
    chunk_size: ChunkOpt = None,
    test: Annotated[
        TestChoice | None,
        typer.Option(
            "--test",
            show_default=defaults.TEST,
            rich_help_panel=STATS,
            help="Paired test of each candidate against the baseline.",
        ),
    ] = None,
    resamples: ResamplesOpt = None,
    seed: SeedOpt = None,
    confidence: ConfidenceOpt = None,
    horizon: Annotated[
        int | None,
        typer.Option(
            "--horizon",
            metavar="H",
            show_default=str(defaults.HORIZON),
            rich_help_panel=STATS,
            help="Forecast horizon of the Diebold-Mariano test.",
        ),
    ] = None,
    format_option: FormatOpt = None,
    as_json: JsonOpt = False,
    precision: PrecisionOpt = None,
    quiet: QuietOpt = False,
    fail_if_worse: Annotated[
        bool,
        typer.Option(
            "--fail-if-worse",
            rich_help_panel=GATES,
            help="Exit 1 if a candidate is significantly worse than the baseline.",
        ),
    ] = False,
    tolerance: Annotated[
        str | None,
        typer.Option(
            "--tolerance",
            metavar="N%|FRACTION",
            show_default="0",
            rich_help_panel=GATES,
            help="Relative worsening allowed by --fail-if-worse: N% or a fraction (1% = 0.01).",
        ),
    ] = None,
    max_: MaxOpt = None,
    embed: EmbedOpt = None,
    engine: EngineOpt = None,
    scheduler: SchedulerOpt = None,
    plugin: PluginOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    no_plugins: NoPluginsOpt = False,
) -> int:
    """Compare models on the same rows, with paired significance tests against a baseline."""
    from lossctl.core.baseline import parse_compare_tolerance
    from lossctl.errors import ExitCode
    from lossctl.flows.compare import run_compare
    from lossctl.options import CompareOptions
    from lossctl.render import verdict
    from lossctl.render.numbers import fmt as fmt_num

    conf = load_config(config, no_config, no_plugins)
    settings = Settings(conf)
    output = output_format(format_option, as_json, conf)
    state.check_embed(embed, output)
    digits = settings.precision(precision)
    opts = CompareOptions(
        files=files,
        names=names or [],
        baseline=settings("baseline", baseline),
        losses=settings("loss", loss, []),
        **settings.reading(
            target=target,
            pred=pred,
            weight=weight,
            id=id_col,
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
        test=str(settings("test", test, defaults.TEST)),
        resamples=int(settings("resamples", resamples, defaults.RESAMPLES)),
        seed=int(settings("seed", seed, defaults.SEED)),
        confidence=float(settings("confidence", confidence, defaults.CONFIDENCE)),
        horizon=int(settings("horizon", horizon, defaults.HORIZON)),
        fail_if_worse=fail_if_worse,
        tolerance=parse_compare_tolerance(settings("tolerance", tolerance, "0")),
        max=settings("max", max_, []),
        registry=registry(plugin, conf),
        engine=str(settings("engine", engine, "local")),
        scheduler=settings.scheduler(scheduler),
    )
    from lossctl.cli.progress import progress_bar

    with progress_bar("bootstrap", quiet, output, unit=None) as opts.progress:
        report = run_compare(opts)
    report = replace(report, **provenance(plugin, conf))
    if not quiet:
        for w in report.warnings:
            state.warn(w)
        _print(report, output, digits, embed or [])
    if report.gate is not None and not report.gate.passed:
        for f in report.gate.failures:
            if f.kind == "worse":
                comp = report.losses[f.loss]
                v = comp.vs_baseline[str(f.model)]
                base = fmt_num(comp.costs[report.baseline], digits)
                state.gate_failed(
                    f"{f.model} is significantly worse than {report.baseline} on {f.loss}: "
                    f"{fmt_num(f.cost, digits)} vs {base} "
                    f"({verdict.pct(v.relative)}, tolerance {verdict.pct(opts.tolerance)})"
                )
            else:
                state.gate_failed(
                    f"{f.loss} of {f.model} = {fmt_num(f.cost, digits)} "
                    f"> max {fmt_num(f.max, digits)}"
                )
        return int(ExitCode.GATE_FAILED)
    return 0


def _print(report: CompareReport, output: str, digits: int, embed: Sequence[str] = ()) -> None:
    from lossctl.render import csv as rcsv
    from lossctl.render import json as rjson
    from lossctl.render import markdown as rmd
    from lossctl.render import table as rtable

    if output == "json":
        state.write(rjson.compare_json(report))
    elif output == "markdown":
        state.write(rmd.compare_markdown(report, digits, embed))
    elif output in ("csv", "tsv"):
        state.write(rcsv.compare_delimited(report, "," if output == "csv" else "\t", digits))
    else:
        state.out().print(rtable.compare_table(report, digits))
