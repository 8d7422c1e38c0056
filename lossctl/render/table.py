"""Reports as rich tables for the terminal."""

from __future__ import annotations

from pathlib import Path

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from lossctl.render.numbers import fmt
from lossctl.report import CompareReport, Diagnostics, EvalReport, RecommendReport


def provenance_line(report: EvalReport | CompareReport | RecommendReport) -> str:
    """The config file and plugin files a result used ("" when none)."""
    parts = []
    if report.config:
        parts.append(f"config: {report.config}")
    if report.plugins:
        used = ", ".join(
            f"{p.path} (from {p.via if p.via.startswith('-') else Path(p.via).name})"
            for p in report.plugins
        )
        parts.append(f"plugins: {used}")
    return " · ".join(parts)


def eval_title(report: EvalReport) -> str:
    """Two lines: the file, task and rows; then the columns used; and a third naming
    the config file and plugins, when there are any."""
    rows = f"{report.n_used:,} rows"
    if report.n_dropped:
        rows += f" ({report.n_dropped:,} dropped)"
    cols = report.columns
    pred = ", ".join(cols.pred) if len(cols.pred) <= 3 else f"{cols.pred[0]} ... {cols.pred[-1]}"
    target = ", ".join(cols.target) if len(cols.target) <= 2 else f"{cols.target[0]}, ..."
    weight = f" · weight {cols.weight}" if cols.weight else ""
    if cols.spread is not None:
        pred += f" · {'var' if cols.spread_is_var else 'std'} {cols.spread}"
    if cols.levels:
        pred += f" · levels {', '.join(f'{v:g}' for v in cols.levels)}"
    if cols.pos_label is not None:
        target += f" · positive {cols.pos_label}"
    title = (
        f"{report.source} · {report.task} ({report.prediction_kind}) · {rows}\n"
        f"target {target} · pred {pred}{weight}"
    )
    extra = provenance_line(report)
    return f"{title}\n{extra}" if extra else title


def spread_note(report: EvalReport) -> str | None:
    """Why a finalized loss's std, min and max cells are empty, how a binned loss and a
    scaled loss come to their cost."""
    lines = []
    binned = [k for k, s in report.losses.items() if s.sum is None]
    if binned:
        lines.append(
            f"{', '.join(binned)}: binned calibration error{'s' if len(binned) > 1 else ''} "
            "(no per-sample values: the cost comes from the confidence bins)"
        )
    scaled = {k: s.series for k, s in report.losses.items() if s.series is not None}
    if scaled and report.forecast is not None:
        n = max(scaled.values())
        f = report.forecast
        rooted = [k for k in scaled if report.losses[k].std is None]
        root = (
            f"; {', '.join(rooted)}: the root of each series' mean (std/min/max left out)"
            if rooted
            else ""
        )
        lines.append(
            f"{', '.join(scaled)}: mean over {n:,} series (each counts once), scaled by the "
            f"seasonal naive error (season {f.season}) of the history {f.train}{root}"
        )
    keys = [
        k
        for k, s in report.losses.items()
        if s.std is None and s.min is None and s.sum is not None and s.series is None
    ]
    if keys:
        lines.append(_finalized_note(report, keys))
    return "\n".join(lines) if lines else None


def _finalized_note(report: EvalReport, keys: list[str]) -> str:
    names = ", ".join(keys)
    several = any(report.losses[k].outputs for k in keys)
    cost = (
        "the mean over the outputs of the square root of each output's mean per-sample value"
        if several
        else "the square root of the mean per-sample value"
    )
    return f"{names}: std/min/max left out; the cost is {cost}, so those would be in squared units"


def eval_table(report: EvalReport, precision: int = 6) -> RenderableType:
    table = Table(box=box.SIMPLE_HEAVY)
    table.add_column("loss", style="bold cyan", no_wrap=True)
    for col in ("cost", "std", "min", "max"):
        table.add_column(col, justify="right", style="bold" if col == "cost" else None)
    failed = {f.loss for f in report.gate.failures} if report.gate else set()
    for key, s in report.losses.items():
        cost = Text(fmt(s.cost, precision), style="bold red" if key in failed else "bold")
        table.add_row(
            key, cost, fmt(s.std, precision), fmt(s.min, precision), fmt(s.max, precision)
        )
    parts: list[RenderableType] = [Text(eval_title(report), style="bold"), table]
    note = spread_note(report)
    if note:
        parts.append(Text(note + ("\n" if report.groups else ""), style="dim"))
    if report.groups:
        gt = Table(title=f"cost by {report.by}", title_justify="left", box=box.SIMPLE_HEAVY)
        gt.add_column(report.by or "group", style="bold", no_wrap=True)
        gt.add_column("rows", justify="right")
        for key in report.losses:
            gt.add_column(key, justify="right")
        for name, g in report.groups.items():
            gt.add_row(
                name, f"{g.n_used:,}", *(fmt(g.losses[k].cost, precision) for k in report.losses)
            )
        gt.add_section()
        gt.add_row(
            "overall",
            f"{report.n_used:,}",
            *(fmt(s.cost, precision) for s in report.losses.values()),
            style="bold",
        )
        parts.append(gt)
    per_output = outputs_table(report, precision)
    if per_output is not None:
        parts.append(per_output)
    if report.diagnostics is not None:
        parts.append(diagnostics_table(report.diagnostics, precision))
    if report.signature is not None:
        from lossctl.render.verdict import signature_line

        parts.append(Text(signature_line(report.signature), style="dim"))
    if report.gate is not None and report.gate.passed:
        parts.append(Text("gates passed", style="green"))
    return Group(*parts)


def outputs_table(report: EvalReport, precision: int = 6) -> RenderableType | None:
    """The cost of each output (multi-output) or label (multilabel), per loss."""
    keys = [k for k, s in report.losses.items() if s.outputs]
    if not keys:
        return None
    what = "label" if report.task == "multilabel" else "output"
    table = Table(title=f"cost per {what}", title_justify="left", box=box.SIMPLE_HEAVY)
    table.add_column(what, style="bold", no_wrap=True)
    for key in keys:
        table.add_column(key, justify="right")
    names = list(report.losses[keys[0]].outputs or {})
    for name in names:
        table.add_row(name, *(fmt((report.losses[k].outputs or {})[name], precision) for k in keys))
    table.add_section()
    table.add_row("mean", *(fmt(report.losses[k].cost, precision) for k in keys), style="bold")
    return table


def diagnostics_table(d: Diagnostics, precision: int = 6) -> RenderableType:
    """Coverage per level (observed vs nominal), then each central interval's coverage and
    mean width."""
    table = Table(title="coverage", title_justify="left", box=box.SIMPLE_HEAVY)
    table.add_column("quantile / interval", style="bold", no_wrap=True)
    table.add_column("nominal", justify="right")
    table.add_column("observed", justify="right")
    table.add_column("mean width", justify="right")
    for level, share in d.coverage.items():
        table.add_row(f"q{level:g}", f"{level:.3g}", fmt(share, 4), "")
    if d.intervals:
        table.add_section()
    for c, i in d.intervals.items():
        table.add_row(f"{c:.0%} interval", f"{c:.3g}", fmt(i.coverage, 4), fmt(i.width, precision))
    return table


def compare_table(report: CompareReport, precision: int = 6) -> RenderableType:
    from lossctl.render import verdict

    names = list(report.models)
    title = Text(
        f"lossctl compare · {report.task} · {len(names)} models · {report.n_used:,} rows",
        style="bold",
    )
    table = Table(box=box.SIMPLE_HEAVY)
    table.add_column("loss", style="bold cyan", no_wrap=True)
    for name in names:
        label = f"{name}\n(baseline)" if name == report.baseline else name
        table.add_column(label, justify="right")
    for key, comp in report.losses.items():
        cells: list[Text] = []
        base_cost = comp.costs[report.baseline]
        for name in names:
            cell = Text(
                fmt(comp.costs[name], precision), style="bold green" if comp.best == name else ""
            )
            if name != report.baseline:
                v = comp.vs_baseline[name]
                style = (
                    "red"
                    if v.significant and v.delta > 0
                    else ("green" if v.significant and v.delta < 0 else "dim")
                )
                cell.append(
                    f"\n{verdict.change(v, base_cost, 3)} {verdict.mark(v)}".rstrip(), style=style
                )
            cells.append(cell)
        table.add_row(key, *cells)
    extra = provenance_line(report)
    if extra:
        title.append(f"\n{extra}", style="")
    parts: list[RenderableType] = [title, table, Text(verdict.legend(report), style="dim")]
    parts += [Text(line) for line in verdict.verdicts(report)]
    if report.signature is not None:
        parts.append(Text(verdict.signature_line(report.signature), style="dim"))
    return Group(*parts)
