"""``lossctl recommend``: suggest losses for one prediction file, with the measured reasons.

Only wiring: options (shared with ``eval``) -> :func:`lossctl.flows.recommend.run_recommend`
-> a renderer in :mod:`lossctl.render.recommend`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated

import typer

from lossctl.cli import state
from lossctl.cli.common import (
    ClassesOpt,
    ConfigOpt,
    DelimiterOpt,
    FormatOpt,
    JsonOpt,
    KindOpt,
    LevelsOpt,
    NoConfigOpt,
    NoPluginsOpt,
    PluginOpt,
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
    ChunkOpt,
    InputFormatOpt,
    NanOpt,
    PosLabelOpt,
    PrecisionOpt,
    PredOpt,
    QuietOpt,
    SheetOpt,
    TargetOpt,
    TaskOpt,
    WeightOpt,
)

#: Output formats recommend supports (csv/tsv have no place for the reasons).
FORMATS = ("table", "json", "markdown")

if TYPE_CHECKING:
    from lossctl.report import RecommendReport


def recommend_command(
    file: Annotated[str, typer.Argument(metavar="FILE", help="Prediction file, or - for stdin.")],
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
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    sheet: SheetOpt = None,
    chunk_size: ChunkOpt = None,
    format_option: FormatOpt = None,
    as_json: JsonOpt = False,
    precision: PrecisionOpt = None,
    quiet: QuietOpt = False,
    plugin: PluginOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    no_plugins: NoPluginsOpt = False,
) -> int:
    """Suggest losses for this data, with the reasons.

    Measures the residuals (outliers, tails, skew) or the labels (imbalance, calibration).
    Ranks the losses that fit, computes them, and shows which rows each finds worst.
    """
    from lossctl.errors import UsageError
    from lossctl.flows.recommend import run_recommend
    from lossctl.options import EvalOptions

    conf = load_config(config, no_config, no_plugins)
    settings = Settings(conf)
    output = output_format(format_option, as_json, conf)
    if output not in FORMATS:
        if format_option is not None:
            raise UsageError(
                f"recommend prints {', '.join(FORMATS)}, not {output}; pass --format table, "
                "json or markdown."
            )
        output = "table"  # a csv/tsv default in the config file is meant for eval and compare
    digits = settings.precision(precision)
    opts = EvalOptions(
        path=file,
        **settings.reading(
            target=target,
            pred=pred,
            weight=weight,
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
        registry=registry(plugin, conf),
    )
    from lossctl.cli.progress import progress_for

    with progress_for(file, quiet, output) as opts.progress:
        report = replace(run_recommend(opts), **provenance(plugin, conf))
    if quiet:
        return 0
    for w in report.warnings:
        state.warn(w)
    if report.n_dropped:
        state.warn(f"--nan omit dropped {report.n_dropped} of {report.n_rows} rows.")
    _print(report, output, digits)
    return 0


def _print(report: RecommendReport, output: str, digits: int) -> None:
    from lossctl.render import recommend as render

    if output == "json":
        state.write(render.recommend_json(report))
    elif output == "markdown":
        state.write(render.recommend_markdown(report, digits))
    else:
        state.out().print(render.recommend_table(report, digits))


__all__ = ["recommend_command"]
