"""The loss catalogue (``lossctl losses``) and one loss (``lossctl explain``) as text."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from lossctl.losses.spec import LossSpec, Param

SCHEMA_VERSION = 1
COLUMNS = ("name", "aliases", "task", "prediction", "params", "robust", "summary")


def param_data(p: Param) -> dict[str, Any]:
    return {
        "name": p.name,
        "default": p.default,
        "range": p.range_text(),
        "low": p.low,
        "high": p.high,
        "closed": p.closed,
        "help": p.help,
    }


def spec_data(spec: LossSpec) -> dict[str, Any]:
    """Everything about a spec as JSON-ready data (the ``losses --json`` element)."""
    return {
        "name": spec.name,
        "aliases": list(spec.aliases),
        "task": spec.task,
        "prediction_kind": spec.prediction_kind,
        "params": [param_data(p) for p in spec.params],
        "formula": spec.formula,
        "summary": spec.summary,
        "explain": spec.explain,
        "use_when": spec.use_when,
        "watch_out": spec.watch_out,
        "see_also": list(spec.see_also),
        "cost": spec.cost_text,
        "finalize": spec.finalize,
        "robust_to_outliers": spec.robust_to_outliers,
        "reference": spec.reference,
        "origin": spec.origin,
    }


def _params_short(spec: LossSpec) -> str:
    return ", ".join(f"{p.name}={p.default_text()}" for p in spec.params)


def _flat_row(spec: LossSpec) -> list[str]:
    return [
        spec.name,
        ", ".join(spec.aliases),
        spec.task,
        spec.prediction_kind,
        _params_short(spec),
        "yes" if spec.robust_to_outliers else "no",
        spec.summary,
    ]


def losses_table(specs: Sequence[LossSpec]) -> RenderableType:
    """One table per task: name, prediction kind, parameters, summary (aliases after it)."""
    tables: list[RenderableType] = []
    for task in dict.fromkeys(s.task for s in specs):
        table = Table(
            title=f"{task} losses",
            title_justify="left",
            title_style="bold",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        table.add_column("name", style="bold cyan", no_wrap=True)
        table.add_column("prediction", no_wrap=True)
        table.add_column("params (default)", max_width=18)
        table.add_column("summary", ratio=1, min_width=24)
        for spec in (s for s in specs if s.task == task):
            name = spec.name + (" *" if spec.origin != "builtin" else "")
            summary = Text(spec.summary)
            if spec.aliases:
                summary.append(f" Also: {', '.join(spec.aliases)}.", style="dim")
            params = "\n".join(f"{p.name}={p.default_text()}" for p in spec.params)
            table.add_row(name, spec.prediction_kind, params, summary)
        tables.append(table)
    if any(s.origin != "builtin" for s in specs):
        tables.append(Text("* custom loss from a plugin", style="dim"))
    return Group(*tables)


def losses_json(specs: Sequence[LossSpec]) -> str:
    doc = {"schema_version": SCHEMA_VERSION, "losses": [spec_data(s) for s in specs]}
    return json.dumps(doc, indent=2, sort_keys=True)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def losses_markdown(specs: Sequence[LossSpec]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for spec in specs:
        row = _flat_row(spec)
        row[0] = f"`{row[0]}`"
        lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
    return "\n".join(lines) + "\n"


def losses_delimited(specs: Sequence[LossSpec], delimiter: str) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(COLUMNS)
    for spec in specs:
        writer.writerow(_flat_row(spec))
    return buf.getvalue()


def _section(title: str, body: str) -> list[RenderableType]:
    if not body:
        return []
    return [Text(title, style="bold"), Padding(Text(body), (0, 0, 1, 2))]


def explain_renderable(spec: LossSpec) -> RenderableType:
    """The ``explain`` page of one loss for the terminal."""
    head = Text()
    head.append(spec.name, style="bold cyan")
    if spec.aliases:
        head.append(f"  (aliases: {', '.join(spec.aliases)})", style="dim")
    head.append(f"\n{spec.task} loss on a predicted {spec.prediction_kind}", style="italic")
    if spec.origin != "builtin":
        head.append(f"  [custom: {spec.origin}]", style="magenta")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    facts.add_row("Formula", spec.formula)
    facts.add_row("Cost", spec.cost_text)
    facts.add_row("Outliers", "robust" if spec.robust_to_outliers else "sensitive")
    facts.add_row("Matches", spec.reference)
    parts: list[RenderableType] = [head, Text(spec.summary), Text(""), facts, Text("")]
    if spec.params:
        ptable = Table(title="Parameters", title_justify="left", title_style="bold")
        ptable.add_column("name", style="cyan")
        ptable.add_column("default")
        ptable.add_column("valid")
        ptable.add_column("meaning")
        for p in spec.params:
            ptable.add_row(p.name, p.default_text(), p.range_text(), p.help)
        parts += [
            ptable,
            Text(f"Set them as {spec.name}:{spec.params[0].name}=VALUE", style="dim"),
            Text(""),
        ]
    parts += _section("What it measures", spec.explain)
    parts += _section("Use it when", spec.use_when)
    parts += _section("Watch out", spec.watch_out)
    if spec.see_also:
        parts.append(Text(f"See also: {', '.join(spec.see_also)}", style="dim"))
    return Group(*parts)


def explain_markdown(spec: LossSpec) -> str:
    out = [f"## `{spec.name}`", ""]
    if spec.aliases:
        out += [f"Aliases: {', '.join(f'`{a}`' for a in spec.aliases)}", ""]
    out += [
        f"*{spec.task} loss on a predicted {spec.prediction_kind}.* {spec.summary}",
        "",
        f"- **Formula:** `{spec.formula}`",
        f"- **Cost:** {spec.cost_text}",
        f"- **Outliers:** {'robust' if spec.robust_to_outliers else 'sensitive'}",
        f"- **Matches:** {spec.reference}",
        "",
    ]
    if spec.params:
        out += ["| parameter | default | valid | meaning |", "|---|---|---|---|"]
        out += [
            f"| `{p.name}` | {p.default_text()} | {p.range_text()} | {_md_cell(p.help)} |"
            for p in spec.params
        ]
        out.append("")
    for title, body in (
        ("What it measures", spec.explain),
        ("Use it when", spec.use_when),
        ("Watch out", spec.watch_out),
    ):
        if body:
            out += [f"**{title}.** {body}", ""]
    if spec.see_also:
        out += [f"See also: {', '.join(f'`{s}`' for s in spec.see_also)}", ""]
    return "\n".join(out)


def explain_json(specs: Sequence[LossSpec]) -> str:
    doc = {"schema_version": SCHEMA_VERSION, "losses": [spec_data(s) for s in specs]}
    return json.dumps(doc, indent=2, sort_keys=True)


def guide_renderable() -> RenderableType:
    from lossctl.losses.guide import GUIDE

    parts: list[RenderableType] = [Text("Choosing a loss", style="bold cyan"), Text("")]
    for title, body in GUIDE:
        parts += _section(title, body)
    return Group(*parts)


def guide_markdown() -> str:
    from lossctl.losses.guide import GUIDE

    return "\n".join(f"**{title}.** {body}\n" for title, body in GUIDE)


def guide_json() -> str:
    from lossctl.losses.guide import GUIDE

    doc = {"schema_version": SCHEMA_VERSION, "guide": [{"title": t, "text": b} for t, b in GUIDE]}
    return json.dumps(doc, indent=2, sort_keys=True)
