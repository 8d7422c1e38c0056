"""``lossctl recommend`` reports as a rich table, markdown or JSON (text only, no I/O).

All three show the same things in the same order: the ranked losses with their
costs and reasons, the facts the reasons rest on, then where the losses disagree.
A cost that was not computed (a scaled loss such as mase without ``--train``) is NaN
in the report: "-" in the table, "not computed" in markdown, null in JSON.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from lossctl.render.numbers import fmt
from lossctl.report import Columns, Disagreement, Fact, RecommendReport

if TYPE_CHECKING:
    from rich.console import RenderableType


#: Printed under the ranking: costs of different losses are not comparable.
COST_NOTE = (
    "Each cost is in its own loss's units: compare a cost across models, never across losses."
)


def fact_text(fact: Fact, precision: int = 6) -> str:
    """A fact's value for people: shares as percentages, booleans as yes/no."""
    v = fact.value
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, str):
        return v
    if fact.unit == "share":
        return f"{fmt(100 * float(v), min(precision, 3))}%"
    if fact.unit == "count":
        return f"{int(v):,}"
    return fmt(float(v), precision)


def cost_text(cost: float, precision: int = 6) -> str:
    """A recommendation's cost; "-" when it was not computed (NaN: a scaled loss without
    the history, whose reasons say what to pass)."""
    return "-" if math.isnan(cost) else fmt(cost, precision)


def title(report: RecommendReport) -> str:
    """Two lines: the file, task and rows; then the columns used; and a third naming
    the config file and plugins, when there are any."""
    from lossctl.render.table import provenance_line

    rows = f"{report.n_used:,} rows"
    if report.n_dropped:
        rows += f" ({report.n_dropped:,} dropped)"
    text = (
        f"{report.source} · {report.task} ({report.prediction_kind}) · {rows}\n"
        f"{_columns_text(report.columns)}"
    )
    extra = provenance_line(report)
    return f"{text}\n{extra}" if extra else text


def _columns_text(cols: Columns) -> str:
    pred = ", ".join(cols.pred) if len(cols.pred) <= 3 else f"{cols.pred[0]} ... {cols.pred[-1]}"
    target = ", ".join(cols.target) if len(cols.target) <= 2 else f"{cols.target[0]}, ..."
    weight = f" · weight {cols.weight}" if cols.weight else ""
    return f"target {target} · pred {pred}{weight}"


# -- table ------------------------------------------------------------------------------------


def recommend_table(report: RecommendReport, precision: int = 6) -> RenderableType:
    """The ranking (#, loss, cost, why), the measured facts, and the disagreement note."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[RenderableType] = [Text(title(report) + "\n", style="bold")]
    ranking = Table(
        title="recommended losses", title_justify="left", box=box.SIMPLE_HEAVY, expand=True
    )
    ranking.add_column("#", justify="right", no_wrap=True)
    ranking.add_column("loss", style="bold cyan", no_wrap=True)
    ranking.add_column("cost", justify="right", style="bold", no_wrap=True)
    ranking.add_column("why", ratio=1)
    for rec in report.recommendations:
        cost = cost_text(rec.cost, precision)
        ranking.add_row(str(rec.rank), rec.key, cost, " ".join(rec.reasons))
    parts += [ranking, Text(COST_NOTE + "\n", style="dim")]

    facts = Table(title="facts measured on this file", title_justify="left", box=box.SIMPLE)
    facts.add_column("fact", style="bold", no_wrap=True)
    facts.add_column("value", justify="right", no_wrap=True)
    facts.add_column("meaning", style="dim", ratio=1)
    for f in report.facts:
        facts.add_row(f.name, fact_text(f, precision), f.meaning)
    parts.append(facts)

    if report.disagreement is not None:
        parts.append(Text("which rows are worst", style="bold"))
        parts.append(Text(report.disagreement.note))
        if any(p.top_overlap < 1 for p in report.disagreement.pairs):
            parts.append(Text(_pairs_text(report.disagreement), style="dim"))
    for note in report.notes:
        parts.append(Text(f"Note: {note}"))
    return Group(*parts)


def _pairs_text(d: Disagreement) -> str:
    items = []
    for p in d.pairs:
        corr = "-" if p.rank_correlation is None else f"{p.rank_correlation:.3f}"
        items.append(
            f"{p.a} ~ {p.b}: worst-{d.top_k} overlap {p.top_overlap:.0%}, rank corr {corr}"
        )
    return "; ".join(items)


# -- markdown ---------------------------------------------------------------------------------


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def recommend_markdown(report: RecommendReport, precision: int = 6) -> str:
    """GitHub-flavoured markdown: a numbered list, a facts table and the disagreement."""
    lines = [f"**lossctl recommend** · {title(report).replace(chr(10), ' · ')}", ""]
    for rec in report.recommendations:
        cost = "not computed" if math.isnan(rec.cost) else fmt(rec.cost, precision)
        lines.append(f"{rec.rank}. `{rec.key}` (cost {cost})")
        for reason in rec.reasons:
            lines.append(f"   - {reason}")
    lines += ["", f"_{COST_NOTE}_", "", "| fact | value | meaning |", "|---|---:|---|"]
    for f in report.facts:
        lines.append(f"| `{f.name}` | {_md(fact_text(f, precision))} | {_md(f.meaning)} |")
    if report.disagreement is not None:
        d = report.disagreement
        lines += ["", "**Which rows are worst.** " + d.note, ""]
        lines += ["| losses | worst-rows overlap | rank correlation |", "|---|---:|---:|"]
        for p in d.pairs:
            corr = "-" if p.rank_correlation is None else f"{p.rank_correlation:.3f}"
            lines.append(f"| `{p.a}` ~ `{p.b}` | {p.top_overlap:.0%} | {corr} |")
    if report.notes:
        lines.append("")
        lines += [f"> Note: {note}" for note in report.notes]
    return "\n".join(lines) + "\n"


# -- JSON -------------------------------------------------------------------------------------


def recommend_data(report: RecommendReport) -> dict[str, Any]:
    """The report as plain data (floats at full precision; NaN is removed by ``dumps``)."""
    from lossctl.render.json import file_header, provenance_data

    doc: dict[str, Any] = file_header("recommend", report)
    doc |= provenance_data(report)
    doc |= {
        "facts": {f.name: f.value for f in report.facts},
        "recommendations": [
            {
                "rank": r.rank,
                "loss": r.key,
                "name": r.name,
                "params": r.params,
                "cost": r.cost,
                "reasons": list(r.reasons),
            }
            for r in report.recommendations
        ],
        "disagreement": _disagreement_data(report.disagreement),
        "notes": list(report.notes),
        "warnings": list(report.warnings),
    }
    if report.columns.classes:
        doc["columns"]["classes"] = list(report.columns.classes)
    return doc


def _disagreement_data(d: Disagreement | None) -> dict[str, Any] | None:
    if d is None:
        return None

    def rows(items: tuple[Any, ...]) -> list[dict[str, int]]:
        return [{"row": r.row, "rank_a": r.rank_a, "rank_b": r.rank_b} for r in items]

    return {
        "top_k": d.top_k,
        "window": d.window,
        "pairs": [
            {
                "losses": [p.a, p.b],
                "top_overlap": p.top_overlap,
                "rank_correlation": p.rank_correlation,
            }
            for p in d.pairs
        ],
        "least_agreement": {
            "losses": [d.least.a, d.least.b],
            "top_overlap": d.least.top_overlap,
            "rank_correlation": d.least.rank_correlation,
            "rows_only_a": rows(d.rows_only_a),
            "rows_only_b": rows(d.rows_only_b),
        },
        "top_share": d.top_share,
        "note": d.note,
    }


def recommend_json(report: RecommendReport) -> str:
    """Sorted, stable keys; no NaN or Infinity (null instead)."""
    from lossctl.render.json import dumps

    return dumps(recommend_data(report))
