"""Reports as GitHub-flavoured markdown (PR comments, job summaries)."""

from __future__ import annotations

from lossctl.render.numbers import fmt
from lossctl.render.table import eval_title
from lossctl.report import EvalReport


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def eval_markdown(report: EvalReport, precision: int = 6) -> str:
    lines = [f"**lossctl eval** · {eval_title(report).replace(chr(10), ' · ')}", ""]
    lines.append(_row(["loss", "cost", "std", "min", "max"]))
    lines.append("|---|---:|---:|---:|---:|")
    failed = {f.loss for f in report.gate.failures} if report.gate else set()
    for key, s in report.losses.items():
        cost = fmt(s.cost, precision)
        lines.append(
            _row(
                [
                    f"`{key}`",
                    f"**{cost}** ❌" if key in failed else cost,
                    fmt(s.std, precision),
                    fmt(s.min, precision),
                    fmt(s.max, precision),
                ]
            )
        )
    if report.groups:
        keys = list(report.losses)
        lines += ["", f"Cost by `{report.by}`:", ""]
        lines.append(_row([report.by or "group", "rows", *[f"`{k}`" for k in keys]]))
        lines.append("|---|---:|" + "---:|" * len(keys))
        for name, g in report.groups.items():
            lines.append(
                _row([name, str(g.n_used), *(fmt(g.losses[k].cost, precision) for k in keys)])
            )
        lines.append(
            _row(
                [
                    "**overall**",
                    str(report.n_used),
                    *(fmt(report.losses[k].cost, precision) for k in keys),
                ]
            )
        )
    if report.gate is not None:
        lines.append("")
        if report.gate.passed:
            lines.append("Gate: ✅ passed")
        for f in report.gate.failures:
            lines.append(
                f"Gate: ❌ `{f.loss}` = {fmt(f.cost, precision)} > max {fmt(f.max, precision)}"
            )
    return "\n".join(lines) + "\n"
