"""Reports as GitHub-flavoured markdown (PR comments, job summaries)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from lossctl.render.numbers import fmt
from lossctl.render.table import eval_title, provenance_line, spread_note
from lossctl.report import CompareReport, EvalReport


def images(paths: Sequence[str]) -> list[str]:
    """Markdown image lines for pictures written by ``lossctl plot --out``."""
    return [f"![{Path(p).stem}]({p})" for p in paths]


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def eval_markdown(report: EvalReport, precision: int = 6, embed: Sequence[str] = ()) -> str:
    lines = [f"**lossctl eval** · {eval_title(report).replace(chr(10), ' · ')}", ""]
    if report.baseline is not None:  # the PR comment's point first
        from lossctl.render.baseline import baseline_markdown

        heading = f"Against the baseline `{report.baseline.source}`:"
        lines += [baseline_markdown(report.baseline, precision, heading), ""]
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
    note = spread_note(report)
    if note:
        lines += ["", f"_{note}_"]
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
    lines += _outputs_lines(report, precision)
    if report.diagnostics is not None:
        d = report.diagnostics
        lines += ["", "Coverage:", "", "| quantile / interval | nominal | observed | mean width |"]
        lines.append("|---|---:|---:|---:|")
        for level, share in d.coverage.items():
            lines.append(_row([f"q{level:g}", f"{level:.3g}", fmt(share, 4), ""]))
        for c, i in d.intervals.items():
            lines.append(
                _row([f"{c:.0%} interval", f"{c:.3g}", fmt(i.coverage, 4), fmt(i.width, precision)])
            )
    if report.gate is not None:
        lines.append("")
        if report.gate.passed:
            lines.append("Gate: ✅ passed")
        from lossctl.render.baseline import failure_line

        for f in report.gate.failures:
            lines.append(f"Gate: ❌ {failure_line(f, precision, report.by)}")
    if report.signature is not None:
        from lossctl.render.verdict import signature_line

        lines += ["", f"<sub>{signature_line(report.signature)}</sub>"]
    if embed:
        lines += ["", *images(embed)]
    return "\n".join(lines) + "\n"


def _outputs_lines(report: EvalReport, precision: int) -> list[str]:
    """The cost of each output or label, per loss (multi-output, multilabel)."""
    keys = [k for k, st in report.losses.items() if st.outputs]
    if not keys:
        return []
    what = "label" if report.task == "multilabel" else "output"
    lines = ["", f"Cost per {what}:", "", _row([what, *[f"`{k}`" for k in keys]])]
    lines.append("|---|" + "---:|" * len(keys))
    for name in report.losses[keys[0]].outputs or {}:
        lines.append(
            _row([name, *(fmt((report.losses[k].outputs or {})[name], precision) for k in keys)])
        )
    return lines


def compare_markdown(report: CompareReport, precision: int = 6, embed: Sequence[str] = ()) -> str:
    from lossctl.render import verdict

    names = list(report.models)
    title = f"**lossctl compare** · {report.task} · {len(names)} models · {report.n_used} rows"
    extra = provenance_line(report)
    lines = [f"{title} · {extra}" if extra else title, ""]
    header = [f"{n} (baseline)" if n == report.baseline else n for n in names]
    lines.append(_row(["loss", *header]))
    lines.append("|---|" + "---:|" * len(names))
    for key, comp in report.losses.items():
        cells = []
        for name in names:
            c = fmt(comp.costs[name], precision)
            c = f"**{c}**" if comp.best == name else c
            if name != report.baseline:
                v = comp.vs_baseline[name]
                c += f" ({verdict.change(v, comp.costs[report.baseline], 3)}{verdict.mark(v)})"
            cells.append(c)
        lines.append(_row([f"`{key}`", *cells]))
    lines += ["", f"_{verdict.legend(report)}_", ""]
    lines += [f"- {line}" for line in verdict.verdicts(report)]
    if report.gate is not None:
        lines.append("")
        if report.gate.passed:
            lines.append("Gate: ✅ passed")
        for f in report.gate.failures:
            what = "significantly worse than the baseline" if f.kind == "worse" else "above max"
            lines.append(
                f"Gate: ❌ `{f.loss}` of {f.model} is {what}: {fmt(f.cost, precision)} > "
                f"{fmt(f.max, precision)}"
            )
    if report.signature is not None:
        from lossctl.render.verdict import signature_line

        lines += ["", f"<sub>{signature_line(report.signature)}</sub>"]
    if embed:
        lines += ["", *images(embed)]
    return "\n".join(lines) + "\n"
