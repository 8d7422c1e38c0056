"""Options shared by several commands, and the config/plugin plumbing."""

from __future__ import annotations

from enum import Enum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

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


PluginOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--plugin",
        help="A Python file declaring custom losses (LOSSES = [LossSpec(...)]); repeatable.",
        show_default=False,
    ),
]
ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", help="Read option defaults from this TOML file.", show_default=False),
]
NoConfigOpt = Annotated[
    bool, typer.Option("--no-config", help="Ignore lossctl.toml and \\[tool.lossctl].")
]
FormatOpt = Annotated[
    OutputFormat | None,
    typer.Option("--format", "-f", help="Output format.", show_default="table"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Shorthand for --format json.")]


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
        nan, pos_label, input_format, chunk_size; absent ones keep their default.
        """
        return {key: self(key, value, READING_DEFAULTS[key]) for key, value in cli.items()}

    def precision(self, cli: int | None) -> int:
        """Significant digits for human output, validated."""
        from lossctl.errors import UsageError

        digits = int(self("precision", cli, 6))
        if not 1 <= digits <= 17:
            raise UsageError(f"--precision must be between 1 and 17, got {digits}.")
        return digits


#: Defaults of the reading options (as in lossctl.pipeline.EvalOptions).
READING_DEFAULTS: dict[str, Any] = {
    "target": [], "pred": [], "weight": None, "id": None, "by": None, "task": "auto",
    "nan": "raise", "pos_label": None, "input_format": None, "chunk_size": None,
}  # fmt: skip


def load_config(config: Path | None, no_config: bool) -> Config:
    from lossctl import config as cfg

    return cfg.load_config(Path.cwd(), explicit=config, disabled=no_config)


def registry(plugins: list[Path] | None, conf: Config) -> Registry:
    """Built-in losses, installed entry points, then config plugins, then --plugin files."""
    from lossctl.plugins import load_registry

    paths = [*conf.get("plugin", []), *(plugins or [])]
    return load_registry(paths)


def output_format(fmt: OutputFormat | None, as_json: bool, conf: Config) -> str:
    from lossctl.errors import UsageError

    if as_json:
        if fmt is not None and fmt is not OutputFormat.json:
            raise UsageError(f"--json conflicts with --format {fmt.value}; pass only one.")
        return "json"
    if fmt is not None:
        return fmt.value
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
