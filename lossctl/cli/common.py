"""Options shared by several commands, and the config/plugin plumbing."""

from __future__ import annotations

from enum import Enum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from lossctl.config import parse_classes, parse_levels

if TYPE_CHECKING:
    from lossctl.config import Config
    from lossctl.losses import Registry


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"
    csv = "csv"
    tsv = "tsv"


class TaskChoice(StrEnum):
    auto = "auto"
    regression = "regression"
    binary = "binary"
    multiclass = "multiclass"
    multilabel = "multilabel"


PluginOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--plugin",
        help="A Python file declaring custom losses (LOSSES = [LossSpec(...)]); repeatable.",
        show_default=False,
    ),
]
NoPluginsOpt = Annotated[
    bool,
    typer.Option(
        "--no-plugins",
        help="Load no plugin named by the config file and no installed (entry-point) plugin.",
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Read option defaults from this TOML file (default: the nearest lossctl.toml "
        "or \\[tool.lossctl], up to the repository root).",
        show_default=False,
    ),
]
NoConfigOpt = Annotated[
    bool, typer.Option("--no-config", help="Ignore lossctl.toml and \\[tool.lossctl].")
]
FormatOpt = Annotated[
    OutputFormat | None,
    typer.Option("--format", "-f", help="Output format.", show_default="table"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Shorthand for --format json.")]
DelimiterOpt = Annotated[
    str | None,
    typer.Option(
        "--delimiter",
        metavar="CHAR",
        show_default="',' (tab for .tsv)",
        rich_help_panel="Data",
        help="Field separator of CSV/TSV input: one character, e.g. ';' or '|' ('\\t' or "
        "tab for a tab).",
    ),
]
ClassesOpt = Annotated[
    str | None,
    typer.Option(
        "--classes",
        metavar="A,B,C",
        show_default=False,
        rich_help_panel="Data",
        help="Class names of the K class columns in label order, when labels are indices 0..K-1.",
    ),
]

KindOpt = Annotated[
    str | None,
    typer.Option(
        "--kind",
        metavar="KIND",
        show_default="auto",
        rich_help_panel="Data",
        help="What the prediction columns hold: auto, value, probability, logit, quantiles, "
        "gaussian or ensemble.",
    ),
]
LevelsOpt = Annotated[
    str | None,
    typer.Option(
        "--levels",
        metavar="0.1,0.5,0.9",
        show_default=False,
        rich_help_panel="Data",
        help="Quantile levels of the -p columns in their order (else read from the names).",
    ),
]
StdOpt = Annotated[
    str | None,
    typer.Option(
        "--std",
        metavar="COL",
        show_default=False,
        rich_help_panel="Data",
        help="Predicted standard deviation column of a Gaussian prediction (-p is the mean).",
    ),
]
SeriesOpt = Annotated[
    str | None,
    typer.Option(
        "--series",
        metavar="COL",
        show_default=False,
        rich_help_panel="Forecasts",
        help="The series column of a forecast panel (mase, msse, rmsse average over series).",
    ),
]
TimeOpt = Annotated[
    str | None,
    typer.Option(
        "--time",
        metavar="COL",
        show_default=False,
        rich_help_panel="Forecasts",
        help="The time column: rows of a series are put in its order (else file order).",
    ),
]
TrainOpt = Annotated[
    str | None,
    typer.Option(
        "--train",
        metavar="FILE",
        show_default=False,
        rich_help_panel="Forecasts",
        help="The in-sample history (same series, time and target columns) the scaled "
        "losses divide by.",
    ),
]
SeasonOpt = Annotated[
    int | None,
    typer.Option(
        "--season",
        metavar="M",
        show_default="1",
        rich_help_panel="Forecasts",
        help="Seasonal period m of the naive forecast y_t = y_{t-m} that scales mase/rmsse.",
    ),
]
VarOpt = Annotated[
    str | None,
    typer.Option(
        "--var",
        metavar="COL",
        show_default=False,
        rich_help_panel="Data",
        help="Predicted variance column of a Gaussian prediction (-p is the mean).",
    ),
]


class Settings:
    """Option values: the command line over the config file over the defaults."""

    def __init__(self, conf: Config) -> None:
        self.conf = conf

    def __call__(self, key: str, cli: Any, default: Any = None) -> Any:
        if isinstance(cli, Enum):
            cli = cli.value
        if cli is None or cli == []:
            value = self.conf.get(key)
            return default if value is None else value
        return cli

    def reading(self, **cli: Any) -> dict[str, Any]:
        """How to read the input (the fields of EvalOptions every data command shares).

        Keys are option names without dashes: target, pred, weight, id, by, task,
        nan, pos_label, input_format, delimiter, sheet, classes, chunk_size; absent ones
        keep their default. ``delimiter`` is checked and normalised (``tab`` is a tab),
        ``classes`` split into a tuple of names. A config file cannot make pickle the
        input format: loading a pickle runs its code, so only the command line says so.
        """
        out = {key: self(key, value, READING_DEFAULTS[key]) for key, value in cli.items()}
        if out.get("input_format") == "pickle" and cli.get("input_format") is None:
            from lossctl.errors import UsageError

            raise UsageError(
                f"input_format = 'pickle' in {self.conf.path} is refused: pickle runs code "
                "when loaded, so only --input-format pickle on the command line reads one."
            )
        if out.get("delimiter") is not None:
            from lossctl.inputs.readers import parse_delimiter

            out["delimiter"] = parse_delimiter(str(out["delimiter"]))
        if "classes" in out:
            where = "--classes" if cli["classes"] is not None else f"'classes' in {self.conf.path}"
            out["classes"] = parse_classes(out["classes"], where)
        if "levels" in out:
            where = "--levels" if cli["levels"] is not None else f"'levels' in {self.conf.path}"
            out["levels"] = parse_levels(out["levels"], where)
        return out

    def scheduler(self, cli: str | None) -> str | None:
        """The Dask scheduler: --scheduler, the config, else DASK_SCHEDULER_ADDRESS (the
        CLI reads the environment; the engine takes only what it is given)."""
        import os

        return self("scheduler", cli) or os.environ.get("DASK_SCHEDULER_ADDRESS") or None

    def precision(self, cli: int | None) -> int:
        """Significant digits for human output, validated."""
        from lossctl.errors import UsageError

        digits = int(self("precision", cli, 6))
        if not 1 <= digits <= 17:
            raise UsageError(f"--precision must be between 1 and 17, got {digits}.")
        return digits


#: The options every data command shares to read its input.
READING_KEYS = (
    "target", "pred", "weight", "id", "by", "task", "nan", "pos_label", "input_format",
    "delimiter", "sheet", "classes", "chunk_size", "kind", "levels", "std", "var", "series",
    "time", "train", "season",
)  # fmt: skip


def _reading_defaults() -> dict[str, Any]:
    """The defaults of :data:`READING_KEYS`, read from :class:`lossctl.options.EvalOptions`."""
    from dataclasses import MISSING, fields

    from lossctl.options import EvalOptions

    found = {f.name: f.default for f in fields(EvalOptions) if f.default is not MISSING}
    return {key: found[key] for key in READING_KEYS}


#: Defaults of the reading options: EvalOptions' own.
READING_DEFAULTS: dict[str, Any] = _reading_defaults()


def load_config(config: Path | None, no_config: bool, no_plugins: bool = False) -> Config:
    from lossctl import config as cfg

    return cfg.load_config(Path.cwd(), explicit=config, disabled=no_config, plugins_off=no_plugins)


def plugin_files(
    plugins: list[Path] | None, conf: Config, computes: bool = True
) -> list[tuple[Path, str]]:
    """The plugin files to load, each with where it was named (the config file or
    ``--plugin``), without repeats.

    Commands that only describe losses (``computes=False``: losses, explain) skip
    the config's plugins; ``--no-plugins`` skips them everywhere.
    """
    named: list[tuple[Path, str]] = []
    if computes and not conf.plugins_off:
        named += [(Path(p), str(conf.path)) for p in conf.get("plugin", [])]
    named += [(p, "--plugin") for p in plugins or []]
    out: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for path, via in named:
        key = path.resolve()
        if key not in seen:
            seen.add(key)
            out.append((path, via))
    return out


def registry(plugins: list[Path] | None, conf: Config, computes: bool = True) -> Registry:
    """Built-in losses, installed entry points, then config plugins, then --plugin files."""
    from lossctl.plugins import load_registry

    paths = [path for path, _ in plugin_files(plugins, conf, computes)]
    return load_registry(paths, entry_points=not conf.plugins_off)


def provenance(plugins: list[Path] | None, conf: Config) -> dict[str, Any]:
    """The report fields saying which config file and plugin files a result used."""
    from lossctl.report import PluginFile

    used = tuple(PluginFile(str(p.resolve()), via) for p, via in plugin_files(plugins, conf))
    return {"plugins": used, "config": str(conf.path) if conf.path else None}


def output_format(format_option: OutputFormat | None, as_json: bool, conf: Config) -> str:
    from lossctl.errors import UsageError

    if as_json:
        if format_option is not None and format_option is not OutputFormat.json:
            raise UsageError(
                f"--json conflicts with --format {format_option.value}; pass only one."
            )
        return "json"
    if format_option is not None:
        return format_option.value
    value = conf.get("format", "table")
    if value not in OutputFormat.__members__:
        raise UsageError(
            f"format '{value}' in {conf.path} is not one of {', '.join(OutputFormat.__members__)}."
        )
    return str(value)


class EngineChoice(StrEnum):
    local = "local"
    dask = "dask"


EngineOpt = Annotated[
    EngineChoice | None,
    typer.Option(
        "--engine",
        show_default="local",
        rich_help_panel="Engine",
        help="local (threads on this machine) or dask (a Dask cluster).",
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        show_default=False,
        rich_help_panel="Engine",
        help="Dask scheduler address (or DASK_SCHEDULER_ADDRESS); none: a local cluster.",
    ),
]
