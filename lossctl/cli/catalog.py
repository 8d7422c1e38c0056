"""``lossctl losses`` and ``lossctl explain``: the catalogue and what each loss is for."""

from __future__ import annotations

from typing import Annotated

import typer

from lossctl.cli import state
from lossctl.cli.common import (
    ConfigOpt,
    FormatOpt,
    JsonOpt,
    NoConfigOpt,
    NoPluginsOpt,
    PluginOpt,
    TaskChoice,
    load_config,
    output_format,
    registry,
)


def losses(
    task: Annotated[
        TaskChoice | None,
        typer.Option("--task", help="Only the losses of this task.", show_default=False),
    ] = None,
    format_option: FormatOpt = None,
    as_json: JsonOpt = False,
    plugin: PluginOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    no_plugins: NoPluginsOpt = False,
) -> None:
    """List the loss catalogue: names, aliases, task, prediction kind, parameters."""
    from lossctl.render import catalog as render

    conf = load_config(config, no_config, no_plugins)
    reg = registry(plugin, conf, computes=False)
    specs = [s for s in reg if task in (None, TaskChoice.auto) or s.task == task.value]
    output = output_format(format_option, as_json, conf)
    if output == "json":
        state.write(render.losses_json(specs))
    elif output == "markdown":
        state.write(render.losses_markdown(specs))
    elif output in ("csv", "tsv"):
        state.write(render.losses_delimited(specs, "," if output == "csv" else "\t"))
    else:
        state.out().print(render.losses_table(specs))
        state.out().print("Details of one loss: lossctl explain NAME", style="dim")


def explain(
    name: Annotated[
        str | None,
        typer.Argument(help="A loss name or alias, e.g. huber or log_loss; none for a guide."),
    ] = None,
    task: Annotated[
        TaskChoice | None,
        typer.Option(
            "--task", help="For names used by several tasks (brier, zero_one).", show_default=False
        ),
    ] = None,
    format_option: FormatOpt = None,
    as_json: JsonOpt = False,
    plugin: PluginOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    no_plugins: NoPluginsOpt = False,
) -> None:
    """Explain a loss: formula, parameters, what it measures, when to use it, pitfalls.

    Without a name: how to choose a loss.
    """
    from lossctl.errors import UsageError
    from lossctl.losses import parse_spec
    from lossctl.render import catalog as render

    conf = load_config(config, no_config, no_plugins)
    if name is None:
        output = output_format(format_option, as_json, conf)
        if output == "json":
            state.write(render.guide_json())
        elif output == "markdown":
            state.write(render.guide_markdown())
        else:
            state.out().print(render.guide_renderable())
        return
    reg = registry(plugin, conf, computes=False)
    parsed = parse_spec(name)
    specs = list(reg.candidates(parsed.name))
    if task not in (None, TaskChoice.auto):
        specs = [reg.get(parsed.name, task.value)]
    output = output_format(format_option, as_json, conf)
    if output == "json":
        state.write(render.explain_json(specs))
    elif output == "markdown":
        state.write("\n".join(render.explain_markdown(s) for s in specs))
    elif output in ("csv", "tsv"):
        raise UsageError("explain prints prose; use --format table, markdown or json.")
    else:
        for i, spec in enumerate(specs):
            if i:
                state.out().rule()
            state.out().print(render.explain_renderable(spec))
