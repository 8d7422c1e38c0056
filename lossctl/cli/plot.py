"""``lossctl plot``: loss curves, per-sample loss distributions, residuals, model comparisons,
reliability diagrams.

Plots are drawn in the terminal (unicode, to the terminal's width or ``--width``),
or written as PNG/SVG with ``--out`` (matplotlib, imported only then). This module
only wires options to :mod:`lossctl.plot`; nothing heavy is imported at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from lossctl import options as defaults
from lossctl.cli import state
from lossctl.cli.common import (
    ClassesOpt,
    ConfigOpt,
    DelimiterOpt,
    KindOpt,
    LevelsOpt,
    NoConfigOpt,
    NoPluginsOpt,
    PluginOpt,
    Settings,
    StdOpt,
    VarOpt,
    load_config,
    registry,
)
from lossctl.cli.options import (
    DATA,
    ChunkOpt,
    ConfidenceOpt,
    InputFormat,
    InputFormatOpt,
    ModelPredOpt,
    NamesOpt,
    NanChoice,
    NanOpt,
    PairIdOpt,
    PosLabelOpt,
    PredOpt,
    ResamplesOpt,
    SeedOpt,
    SheetOpt,
    TargetOpt,
    TaskOpt,
    WeightOpt,
)

if TYPE_CHECKING:
    from pathlib import Path

    from lossctl.cli.common import TaskChoice
    from lossctl.cli.options import InputFormat, NanChoice
    from lossctl.config import Config
    from lossctl.options import EvalOptions
    from lossctl.plot.data import Sample
    from lossctl.plot.figure import Figure

PLOT = "Plot"
#: Confidence bins of ``plot reliability`` (ece's default; lossctl.plot.data has the same).
RELIABILITY_BINS = 15
#: Rows of a panel's plot area in the terminal: one panel, or each of two.
HEIGHT_ONE = 16
HEIGHT_TWO = 11

plot_app = typer.Typer(
    help="Loss curves, per-sample loss distributions, residuals, model comparisons and "
    "reliability diagrams: in the terminal, or as an image with --out plot.png|.svg.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

WidthOpt = Annotated[
    int | None,
    typer.Option(
        "--width",
        metavar="N",
        show_default="terminal width",
        rich_help_panel=PLOT,
        help="Width of the terminal plot in characters.",
    ),
]
HeightOpt = Annotated[
    int | None,
    typer.Option(
        "--height",
        metavar="N",
        show_default=f"{HEIGHT_ONE}, or {HEIGHT_TWO} per panel",
        rich_help_panel=PLOT,
        help="Rows of each panel's plot area in the terminal.",
    ),
]
OutOpt = Annotated[
    str | None,
    typer.Option(
        "--out",
        "-o",
        metavar="PATH",
        show_default=False,
        rich_help_panel=PLOT,
        help='Write an image instead: .png or .svg (needs pip install "lossctl\\[plot]").',
    ),
]
CurveLossOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--loss",
        "-l",
        metavar="SPEC",
        show_default="mse,mae,huber,log_cosh",
        rich_help_panel=DATA,
        help="Losses NAME[:key=value...] of one task; repeatable or comma list.",
    ),
]
OneLossOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--loss",
        "-l",
        metavar="SPEC",
        show_default="the task's first: mse, bce, ...",
        rich_help_panel=DATA,
        help="The loss to plot, NAME[:key=value...].",
    ),
]
ByOpt = Annotated[
    str | None,
    typer.Option(
        "--by",
        metavar="COL",
        show_default=False,
        rich_help_panel=DATA,
        help="One series per group of this column.",
    ),
]
ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        rich_help_panel=PLOT,
        help="Replace an existing --out file (never an input).",
    ),
]
ShareOpt = Annotated[
    float | None,
    typer.Option(
        "--share",
        metavar="S",
        show_default="0.5",
        rich_help_panel=PLOT,
        help="Highlight the fewest rows that carry this share of the cost.",
    ),
]


def _start(out: str | None, inputs: list[str], force: bool = False) -> None:
    """Check --out before any data is read: suffix, input file, matplotlib present."""
    if out is not None:
        from lossctl.plot import image

        image.check_target(out, inputs, force)
        image.require_matplotlib()


def _show(
    figure: Figure,
    out: str | None,
    width: int | None,
    height: int | None,
    inputs: list[str],
    force: bool = False,
) -> None:
    if out is not None:
        from lossctl.plot import image

        image.save(figure, out, inputs, force)
        return
    from lossctl.plot import terminal

    if width is None:
        width = state.out().width
    if height is None:  # panels stacked on a shared axis: the first one's height
        height = HEIGHT_ONE if len(figure.panels) == 1 or figure.column else HEIGHT_TWO
    text = terminal.render(figure, width, height)
    state.out().print(text, soft_wrap=True, crop=False)


def _one_loss(cli: list[str] | None, conf: Config) -> list[str]:
    """The loss to plot: -l (exactly one), else the first configured loss, else the default."""
    from lossctl.losses import split_specs

    if cli:
        return split_specs(cli)  # more than one is refused by the plot
    configured = conf.get("loss")
    if isinstance(configured, str):
        configured = [configured]
    return split_specs(configured or [])[:1]


def _check_one(keys: list[str], what: str) -> None:
    from lossctl.errors import UsageError

    if len(keys) > 1:
        raise UsageError(
            f"plot {what} draws one loss; got {len(keys)} ({', '.join(keys)}). Pass a single -l."
        )


def _parse_range(text: str | None) -> tuple[float, float] | None:
    from lossctl.errors import UsageError

    if text is None:
        return None
    parts = text.split(",")
    try:
        lo, hi = (float(p) for p in parts)
    except ValueError:
        raise UsageError(f"--range must be LOW,HIGH (e.g. --range=-3,3), got '{text}'.") from None
    if not lo < hi:
        raise UsageError(f"--range must have LOW < HIGH, got '{text}'.")
    return lo, hi


def _eval_options(
    file: str,
    keys: list[str],
    conf: Config,
    plugin: list[Path] | None,
    *,
    target: list[str] | None,
    pred: list[str] | None,
    weight: str | None,
    task: TaskChoice | None,
    nan: NanChoice | None,
    pos_label: str | None,
    input_format: InputFormat | None,
    chunk_size: int | None,
    delimiter: str | None = None,
    sheet: str | None = None,
    classes: str | None = None,
    by: str | None = None,
    layout: dict[str, str | None] | None = None,
) -> EvalOptions:
    """The eval options of a plot of one file: command line first, then the config."""
    from lossctl.options import EvalOptions

    settings = Settings(conf)
    return EvalOptions(
        path=file,
        losses=keys,
        by=by,
        **settings.reading(
            target=target,
            pred=pred,
            weight=weight,
            task=task,
            nan=nan,
            pos_label=pos_label,
            classes=classes,
            input_format=input_format,
            delimiter=delimiter,
            sheet=sheet,
            chunk_size=chunk_size,
            **(layout or dict.fromkeys(("kind", "levels", "std", "var"))),
        ),
        registry=registry(plugin, conf),
    )


def _warn(sample: Sample, out: str | None) -> None:
    """Reading warnings on stderr (rows dropped: the plot's caption says so too)."""
    for w in sample.warnings:
        state.warn(w)
    if sample.n_dropped and out is not None:
        state.warn(f"--nan omit dropped {sample.n_dropped} of {sample.n_rows} rows.")


@plot_app.command("curves")
def curves_command(
    loss: CurveLossOpt = None,
    task: TaskOpt = None,
    range_: Annotated[
        str | None,
        typer.Option(
            "--range",
            metavar="LOW,HIGH",
            show_default="-3,3 (wider for large delta/beta); 0,1 for probabilities",
            rich_help_panel=PLOT,
            help="x range: residual, probability or score (write --range=-3,3).",
        ),
    ] = None,
    y_true: Annotated[
        float,
        typer.Option(
            "--y-true",
            metavar="Y",
            rich_help_panel=PLOT,
            help="True value at which target-dependent losses (msle, mape, deviances) are drawn.",
        ),
    ] = 1.0,
    width: WidthOpt = None,
    height: HeightOpt = None,
    out: OutOpt = None,
    force: ForceOpt = False,
    plugin: PluginOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    no_plugins: NoPluginsOpt = False,
) -> int:
    """Loss as a function of the residual, the predicted probability or the margin score.

    Regression losses against the residual y_pred - y_true; binary probability
    losses (bce, brier, focal) against p for true labels 1 and 0; margin losses
    (hinge, squared_hinge, bce_logits) against the score for a true label +1.
    The values come from the loss functions themselves.

    Example: lossctl plot curves -l mse,mae,huber,log_cosh
    """
    from lossctl.plot import build, data

    _start(out, [], force)
    conf = load_config(config, no_config, no_plugins)
    settings = Settings(conf)
    keys = settings("loss", loss, [])
    result = data.loss_curves(
        keys,  # type: ignore[arg-type]
        registry(plugin, conf),
        task=settings("task", task, "auto"),
        x_range=_parse_range(range_),
        y_true=y_true,
    )
    _show(build.curves_figure(result), out, width, height, [], force)
    return 0


@plot_app.command("dist")
def dist_command(
    file: Annotated[str, typer.Argument(metavar="FILE", help="Prediction file, or - for stdin.")],
    loss: OneLossOpt = None,
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
    by: ByOpt = None,
    log: Annotated[
        bool,
        typer.Option(
            "--log", rich_help_panel=PLOT, help="Log-scaled x axis and bins (for heavy tails)."
        ),
    ] = False,
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    sheet: SheetOpt = None,
    chunk_size: ChunkOpt = None,
    width: WidthOpt = None,
    height: HeightOpt = None,
    out: OutOpt = None,
    force: ForceOpt = False,
    plugin: PluginOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    no_plugins: NoPluginsOpt = False,
) -> int:
    """Distribution of per-sample losses, with the mean (= the cost) and median marked.

    A histogram of one loss's per-sample values (--log for heavy tails); --by
    draws one series per group.

    Example: lossctl plot dist preds.csv -l huber:delta=20 --log
    """
    from lossctl.plot import build, data

    _start(out, [file], force)
    conf = load_config(config, no_config, no_plugins)
    settings = Settings(conf)
    keys = _one_loss(loss, conf)
    _check_one(keys, "dist")
    opts = _eval_options(
        file,
        keys,
        conf,
        plugin,
        target=target,
        pred=pred,
        weight=weight,
        task=task,
        nan=nan,
        pos_label=pos_label,
        classes=classes,
        input_format=input_format,
        delimiter=delimiter,
        sheet=sheet,
        chunk_size=chunk_size,
        by=settings("by", by),
        layout={"kind": kind, "levels": levels, "std": std, "var": var},
    )
    sample = data.read_sample(opts)
    _warn(sample, out)
    dist = data.loss_distribution(sample, sample.losses[0].key, log=log)
    _show(build.dist_figure(dist), out, width, height, [file], force)
    return 0


@plot_app.command("residuals")
def residuals_command(
    file: Annotated[str, typer.Argument(metavar="FILE", help="Prediction file, or - for stdin.")],
    loss: Annotated[
        list[str] | None,
        typer.Option(
            "--loss",
            "-l",
            metavar="SPEC",
            show_default="mse (bce for probabilities)",
            rich_help_panel=DATA,
            help="The loss whose cost the highlighted rows dominate.",
        ),
    ] = None,
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
    share: ShareOpt = None,
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    sheet: SheetOpt = None,
    chunk_size: ChunkOpt = None,
    width: WidthOpt = None,
    height: HeightOpt = None,
    out: OutOpt = None,
    force: ForceOpt = False,
    plugin: PluginOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    no_plugins: NoPluginsOpt = False,
) -> int:
    """Predicted vs true and the residuals, highlighting the rows that dominate the cost.

    The highlighted rows are the fewest that carry --share (half) of the cost of
    the loss (mse by default). Binary probabilities (or logits) get a reliability
    view instead: observed frequency per probability bin.

    Example: lossctl plot residuals preds.csv
    """
    from lossctl.losses import split_specs
    from lossctl.plot import build, data

    _start(out, [file], force)
    conf = load_config(config, no_config, no_plugins)
    keys = split_specs(loss or [])
    _check_one(keys, "residuals")
    opts = _eval_options(
        file,
        keys,
        conf,
        plugin,
        target=target,
        pred=pred,
        weight=weight,
        task=task,
        nan=nan,
        pos_label=pos_label,
        classes=classes,
        input_format=input_format,
        delimiter=delimiter,
        sheet=sheet,
        chunk_size=chunk_size,
        layout={"kind": kind, "levels": levels, "std": std, "var": var},
    )
    sample = data.read_sample(opts)
    _warn(sample, out)
    if sample.kind in ("quantiles", "gaussian", "ensemble"):
        _show(build.coverage_figure(data.coverage(sample)), out, width, height, [file], force)
        return 0
    result = data.residuals(sample, sample.losses[0].key, share=0.5 if share is None else share)
    _show(build.residuals_figure(result), out, width, height, [file], force)
    return 0


@plot_app.command("compare")
def compare_command(
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="A [B]",
            help="Two prediction files (A = baseline, B = candidate), or one file with two --pred.",
        ),
    ],
    pred: ModelPredOpt = None,
    names: NamesOpt = None,
    id_col: PairIdOpt = None,
    loss: OneLossOpt = None,
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
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    sheet: SheetOpt = None,
    chunk_size: ChunkOpt = None,
    resamples: ResamplesOpt = None,
    seed: SeedOpt = None,
    confidence: ConfidenceOpt = None,
    width: WidthOpt = None,
    height: HeightOpt = None,
    out: OutOpt = None,
    force: ForceOpt = False,
    plugin: PluginOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    no_plugins: NoPluginsOpt = False,
) -> int:
    """Per-sample loss of model B vs model A, and the bootstrap of the cost difference.

    Left: each row's loss under A and B on log axes (who wins on how many rows).
    Right: the paired bootstrap distribution of cost(B) - cost(A), with 0, the
    observed difference and its interval marked.

    Example: lossctl plot compare ridge.csv gbr.csv -l mae
    """
    from lossctl.options import CompareOptions
    from lossctl.plot import build, data

    _start(out, [f for f in files if f != "-"], force)
    conf = load_config(config, no_config, no_plugins)
    settings = Settings(conf)
    keys = _one_loss(loss, conf)
    _check_one(keys, "compare")
    opts = CompareOptions(
        files=files,
        names=names or [],
        losses=keys,
        **settings.reading(
            target=target,
            pred=pred,
            weight=weight,
            id=id_col,
            task=task,
            nan=nan,
            pos_label=pos_label,
            classes=classes,
            input_format=input_format,
            delimiter=delimiter,
            sheet=sheet,
            chunk_size=chunk_size,
            kind=kind,
            levels=levels,
            std=std,
            var=var,
        ),
        registry=registry(plugin, conf),
    )
    pair = data.read_pair(opts)
    if pair.n < pair.n_rows and out is not None:
        state.warn(f"--nan omit dropped {pair.n_rows - pair.n} of {pair.n_rows} rows.")
    result = data.compare_pair(
        pair,
        resamples=int(settings("resamples", resamples, defaults.RESAMPLES)),
        seed=int(settings("seed", seed, defaults.SEED)),
        confidence=float(settings("confidence", confidence, defaults.CONFIDENCE)),
    )
    inputs = [f for f in files if f != "-"]
    _show(build.compare_figure(result), out, width, height, inputs, force)
    return 0


@plot_app.command("reliability")
def reliability_command(
    files: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE...",
            help="Prediction files (one model each), or one file with one --pred per model.",
        ),
    ],
    pred: ModelPredOpt = None,
    names: NamesOpt = None,
    target: TargetOpt = None,
    weight: WeightOpt = None,
    task: TaskOpt = None,
    nan: NanOpt = None,
    pos_label: PosLabelOpt = None,
    classes: ClassesOpt = None,
    bins: Annotated[
        int | None,
        typer.Option(
            "--bins",
            metavar="N",
            show_default=str(RELIABILITY_BINS),
            rich_help_panel=PLOT,
            help="Equal-width confidence bins of [0, 1] (as ece:bins=N).",
        ),
    ] = None,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            metavar="COL",
            show_default=False,
            rich_help_panel=DATA,
            help="One curve (and histogram) per group of this column.",
        ),
    ] = None,
    input_format: InputFormatOpt = None,
    delimiter: DelimiterOpt = None,
    sheet: SheetOpt = None,
    chunk_size: ChunkOpt = None,
    width: WidthOpt = None,
    height: HeightOpt = None,
    out: OutOpt = None,
    force: ForceOpt = False,
    plugin: PluginOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    no_plugins: NoPluginsOpt = False,
) -> int:
    """Reliability diagram of binary or multiclass probabilities, with each model's ECE.

    Accuracy against mean confidence in each non-empty bin of --bins equal-width
    confidence bins (binary: the predicted probability and the share of positives;
    multiclass: the top probability and the share whose top class is the label),
    the diagonal of perfect calibration, and under it the histogram of the
    confidences in the same bins. The legend gives each model's ECE, the ece of
    'lossctl eval -l ece:bins=N'. Files are read streaming; --by draws one curve
    per group. --height sets the diagram's rows (the histogram gets fewer).

    Example: lossctl plot reliability preds.csv -p naive_bayes -p naive_bayes_isotonic
    """
    from lossctl.options import CompareOptions
    from lossctl.plot import build, data

    inputs = [f for f in files if f != "-"]
    _start(out, inputs, force)
    n_bins = data.check_bins(RELIABILITY_BINS if bins is None else bins)
    conf = load_config(config, no_config, no_plugins)
    settings = Settings(conf)
    opts = CompareOptions(
        files=files,
        names=names or [],
        **settings.reading(
            target=target,
            pred=pred,
            weight=weight,
            task=task,
            nan=nan,
            pos_label=pos_label,
            classes=classes,
            input_format=input_format,
            delimiter=delimiter,
            sheet=sheet,
            chunk_size=chunk_size,
        ),
        registry=registry(plugin, conf),
    )
    result = data.read_reliability(opts, n_bins, by=settings("by", by))
    for w in result.warnings:
        state.warn(w)
    dropped = [m for m in result.models if m.n_dropped]
    if dropped and out is not None:
        for m in dropped:
            state.warn(f"{m.name}: --nan omit dropped {m.n_dropped} of {m.n_rows} rows.")
    _show(build.reliability_figure(result), out, width, height, inputs, force)
    return 0
