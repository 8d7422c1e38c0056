"""``lossctl diff OLD.json NEW.json``: two saved eval results compared, as
``eval --baseline`` compares a run with a saved one (no data is read)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from lossctl.cli import state
from lossctl.cli.common import ConfigOpt, FormatOpt, JsonOpt, NoConfigOpt, Settings, load_config
from lossctl.cli.options import (
    AllowMissingOpt,
    MaxGroupOpt,
    PrecisionOpt,
    QuietOpt,
    ToleranceOpt,
)

if TYPE_CHECKING:
    from lossctl.report import DiffReport


def diff_command(
    old: Annotated[
        str, typer.Argument(metavar="OLD.json", help="The baseline: a 'lossctl eval --json'.")
    ],
    new: Annotated[
        str, typer.Argument(metavar="NEW.json", help="The candidate: a 'lossctl eval --json'.")
    ],
    tolerance: ToleranceOpt = None,
    allow_missing: AllowMissingOpt = False,
    max_group: MaxGroupOpt = None,
    format_option: FormatOpt = None,
    as_json: JsonOpt = False,
    precision: PrecisionOpt = None,
    quiet: QuietOpt = False,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
) -> int:
    """Compare two saved 'lossctl eval --json' results: exit 1 if a loss got worse than
    the baseline (OLD) by more than --tolerance."""
    from lossctl.cli.common import output_format
    from lossctl.errors import ExitCode, UsageError
    from lossctl.flows.baseline import run_diff
    from lossctl.render.baseline import failure_line

    conf = load_config(config, no_config)
    settings = Settings(conf)
    output = output_format(format_option, as_json, conf)
    if output in ("csv", "tsv"):
        raise UsageError(f"diff writes table, json or markdown, not {output}.")
    digits = settings.precision(precision)
    report = run_diff(
        old,
        new,
        settings("tolerance", tolerance, []),
        allow_missing or bool(settings("allow_missing", None, False)),
        max_group or settings("max_group", None, []),
        require_groups=bool(max_group),
    )
    if not quiet:
        for w in report.warnings:
            state.warn(w)
        _print(report, output, digits)
    if not report.gate.passed:
        for f in report.gate.failures:
            state.gate_failed(failure_line(f, digits, report.comparison.by))
        return int(ExitCode.GATE_FAILED)
    return 0


def _print(report: DiffReport, output: str, digits: int) -> None:
    from lossctl.render import baseline as rbase
    from lossctl.render import json as rjson

    if output == "json":
        state.write(rjson.diff_json(report))
        return
    gate = [f for f in report.gate.failures if f.kind == "max_group"]
    if output == "markdown":
        heading = f"**lossctl diff** · `{report.new}` against the baseline `{report.old}`"
        text = rbase.baseline_markdown(report.comparison, digits, heading)
        if gate:
            text += "\n" + "\n".join(
                f"Gate: ❌ {rbase.failure_line(f, digits, report.comparison.by)}" for f in gate
            )
        state.write(text)
    else:
        title = f"lossctl diff · {report.new} against the baseline {report.old}"
        state.out().print(rbase.baseline_table(report.comparison, digits, title))


__all__ = ["Path", "diff_command"]
