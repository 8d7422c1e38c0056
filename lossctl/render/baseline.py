"""A run against its baseline (``eval --baseline``, ``diff``): table, markdown, JSON, and
the ``Gate failed:`` lines of every gate kind."""

from __future__ import annotations

import math
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from lossctl.render.numbers import fmt
from lossctl.report import BaselineComparison, BaselineDelta, GateFailure

#: --max-group failures name this many groups, then "and N more".
SHOWN_GROUPS = 10


def _signed(x: float | None, precision: int) -> str:
    if x is None:
        return "-"
    return ("+" if x > 0 else "") + fmt(x, precision)


def _pct(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:+.2%}"


def _allowed(d: BaselineDelta, precision: int) -> str:
    return "-" if d.allowed is None else "+" + fmt(d.allowed, precision)


def _rows(comp: BaselineComparison) -> list[tuple[str | None, str, BaselineDelta]]:
    """(group, key, delta): the overall keys, then each group's."""
    rows: list[tuple[str | None, str, BaselineDelta]] = [
        (None, k, d) for k, d in comp.losses.items()
    ]
    for g, per in (comp.groups or {}).items():
        rows += [(g, k, d) for k, d in per.items()]
    return rows


def failed_count(comp: BaselineComparison) -> int:
    missing = 0 if comp.allow_missing else len(comp.missing)
    return sum(1 for _, _, d in _rows(comp) if not d.passed) + missing


def _status(d: BaselineDelta) -> str:
    if not d.passed:
        return "FAIL"
    if d.delta is None:
        return "ok"
    return "worse" if d.delta > 0 else ("better" if d.delta < 0 else "same")


def baseline_table(comp: BaselineComparison, precision: int = 6, title: str = "") -> RenderableType:
    """baseline, current, change, relative change and the allowed increase per key (and
    per group), coloured: green better, yellow worse within the tolerance, red failed."""
    grouped = comp.groups is not None
    table = Table(
        title=title or f"against baseline {comp.source}", title_justify="left", box=box.SIMPLE_HEAVY
    )
    table.add_column("loss", style="bold cyan", no_wrap=True)
    if grouped:
        table.add_column(comp.by or "group", no_wrap=True)
    for col in ("baseline", "current", "change", "relative", "allowed", ""):
        table.add_column(col, justify="right" if col else "left")
    last_group: str | None = None
    for group, key, d in _rows(comp):
        if grouped and group != last_group:
            table.add_section()
            last_group = group
        status = _status(d)
        style = {"FAIL": "bold red", "worse": "yellow", "better": "green"}.get(status, "")
        cells: list[str | Text] = [
            fmt(d.baseline, precision),
            Text(fmt(d.current, precision), style="bold"),
            Text(_signed(d.delta, precision), style=style),
            Text(_pct(d.relative), style=style),
            _allowed(d, precision),
            Text("✗ FAIL" if status == "FAIL" else status, style=style),
        ]
        table.add_row(key, *([group or "overall"] if grouped else []), *cells)
    for key in comp.missing:
        mark = Text("missing", style="dim" if comp.allow_missing else "bold red")
        table.add_row(key, *(["overall"] if grouped else []), "", "-", "", "", "", mark)
    parts: list[RenderableType] = [table]
    notes = []
    if comp.new:
        notes.append(f"new in this run (no baseline): {', '.join(comp.new)}")
    if comp.groups_missing:
        notes.append(f"groups only in the baseline: {', '.join(comp.groups_missing)}")
    if comp.groups_new:
        notes.append(f"groups only in this run: {', '.join(comp.groups_new)}")
    tol = ", ".join(f"{k} {v}" if k != "*" else v for k, v in (comp.tolerances or {}).items())
    notes.append(f"tolerance {tol}")
    parts.append(Text("\n".join(notes), style="dim"))
    failed = failed_count(comp)
    parts.append(
        Text(f"{failed} worse than the baseline beyond the tolerance", style="bold red")
        if failed
        else Text("no loss worse than the baseline beyond the tolerance", style="green")
    )
    return Group(*parts)


def _md(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def _arrow(d: BaselineDelta) -> str:
    if d.delta is None:
        return ""
    return "▲ " if d.delta > 0 else ("▼ " if d.delta < 0 else "= ")


def baseline_markdown(comp: BaselineComparison, precision: int = 6, heading: str = "") -> str:
    """A PR comment: the verdict, then a table with the failures first (▲ worse, ▼
    better), then the keys and groups of one run only."""
    failed = failed_count(comp)
    verdict = (
        f"❌ {failed} worse than the baseline beyond the tolerance"
        if failed
        else "✅ no loss worse than the baseline beyond the tolerance"
    )
    tol = ", ".join(f"`{k}` {v}" if k != "*" else v for k, v in (comp.tolerances or {}).items())
    lines = [heading or f"**lossctl baseline** · against `{comp.source}`", "", verdict, ""]
    grouped = comp.groups is not None
    header = ["", "loss", *([comp.by or "group"] if grouped else []), "baseline", "current"]
    lines.append(_md([*header, "change", "relative", "allowed"]))
    lines.append("|---|---|" + ("---|" if grouped else "") + "---:|" * 5)
    rows = _rows(comp)
    missing_rows = [] if comp.allow_missing else list(comp.missing)
    ordered = [r for r in rows if not r[2].passed] + [r for r in rows if r[2].passed]
    for key in missing_rows:
        lines.append(
            _md(["❌", f"`{key}`", *(["overall"] if grouped else []), "", "missing", "", "", ""])
        )
    for group, key, d in ordered:
        better = d.delta is not None and d.delta <= 0
        lines.append(
            _md(
                [
                    "❌" if not d.passed else ("✅" if better else ""),
                    f"`{key}`",
                    *([group or "**overall**"] if grouped else []),
                    fmt(d.baseline, precision),
                    f"**{fmt(d.current, precision)}**",
                    f"{_arrow(d)}{_signed(d.delta, precision)}",
                    _pct(d.relative),
                    _allowed(d, precision),
                ]
            )
        )
    extra = []
    if comp.allow_missing and comp.missing:
        extra.append(f"- missing in this run (allowed): {', '.join(comp.missing)}")
    if comp.new:
        extra.append(f"- new in this run (no baseline): {', '.join(comp.new)}")
    if comp.groups_missing:
        extra.append(f"- groups only in the baseline: {', '.join(comp.groups_missing)}")
    if comp.groups_new:
        extra.append(f"- groups only in this run: {', '.join(comp.groups_new)}")
    lines += ["", f"_tolerance {tol}; ▲ worse, ▼ better (lower is better)_"]
    if extra:
        lines += ["", *extra]
    return "\n".join(lines) + "\n"


def _delta_data(d: BaselineDelta) -> dict[str, Any]:
    return {
        "baseline": d.baseline,
        "current": d.current,
        "delta": d.delta,
        "relative": d.relative,
        "allowed": d.allowed,
        "passed": d.passed,
    }


def baseline_data(comp: BaselineComparison) -> dict[str, Any]:
    """The ``baseline`` key of eval JSON (and of diff JSON)."""
    return {
        "source": comp.source,
        "losses": {k: _delta_data(d) for k, d in comp.losses.items()},
        "groups": (
            {g: {k: _delta_data(d) for k, d in per.items()} for g, per in comp.groups.items()}
            if comp.groups is not None
            else None
        ),
        "by": comp.by,
        "missing": list(comp.missing),
        "new": list(comp.new),
        "groups_missing": list(comp.groups_missing),
        "groups_new": list(comp.groups_new),
        "tolerance": dict(comp.tolerances or {}),
        "allow_missing": comp.allow_missing,
    }


def failure_line(f: GateFailure, precision: int = 6, by: str | None = None) -> str:
    """The text after ``Gate failed:`` for one failure of eval or diff."""
    if f.kind == "max_group":
        n = len(f.groups)
        shown = ", ".join(f"{g} = {fmt(c, precision)}" for g, c in f.groups[:SHOWN_GROUPS])
        more = f" and {n - SHOWN_GROUPS} more" if n > SHOWN_GROUPS else ""
        where = f" of {by}" if by else ""
        return (
            f"{f.loss} > max {fmt(f.max, precision)} in {n} group{'s' if n != 1 else ''}"
            f"{where}: {shown}{more}"
        )
    if f.kind == "baseline":
        if f.missing:
            return (
                f"{f.loss} is in the baseline (cost {fmt(f.baseline, precision)}) but not in "
                f"this run; evaluate it (-l {f.loss}), or pass --allow-missing."
            )
        where = f" in {by or 'group'} {f.group}" if f.group is not None else ""
        if math.isnan(f.cost):
            return (
                f"{f.loss}{where} has no cost (NaN) in this run; baseline "
                f"{fmt(f.baseline, precision)}."
            )
        base = f.baseline if f.baseline is not None else math.nan
        change = f.cost - base
        allowed = f.max - base
        rel = f" ({_pct(change / abs(base))})" if base else ""
        return (
            f"{f.loss}{where} = {fmt(f.cost, precision)} vs baseline {fmt(base, precision)}: "
            f"{_signed(change, precision)}{rel}, allowed +{fmt(allowed, precision)}"
        )
    return f"{f.loss} = {fmt(f.cost, precision)} > max {fmt(f.max, precision)}"
