"""Reports as CSV/TSV in long format: one row per (group, loss key); on K outputs or
labels also one row per output, its loss written ``KEY[OUTPUT]`` with the cost only."""

from __future__ import annotations

import csv
import io

from lossctl.render.numbers import fmt
from lossctl.report import CompareReport, EvalReport, LossStats

EVAL_COLUMNS = ("group", "loss", "name", "cost", "std", "min", "max", "sum", "n")


def _cells(group: str, s: LossStats, precision: int) -> list[str]:
    return [
        group,
        s.key,
        s.name,
        fmt(s.cost, precision),
        *("" if v is None else fmt(v, precision) for v in (s.std, s.min, s.max)),
        fmt(s.sum, precision),
        str(s.n),
    ]


def eval_delimited(report: EvalReport, delimiter: str = ",", precision: int = 6) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(EVAL_COLUMNS)
    for group, losses in (("", report.losses), *((n, g.losses) for n, g in
                                                     (report.groups or {}).items())):  # fmt: skip
        for s in losses.values():
            w.writerow(_cells(group, s, precision))
            for output, cost in (s.outputs or {}).items():
                w.writerow([group, f"{s.key}[{output}]", s.name, fmt(cost, precision)] + [""] * 5)
    return buf.getvalue()


COMPARE_COLUMNS = (
    "loss", "model", "baseline", "cost", "delta", "relative", "ci_low", "ci_high", "p_value",
    "p_value_adjusted", "significant", "win_rate",
)  # fmt: skip


def compare_delimited(report: CompareReport, delimiter: str = ",", precision: int = 6) -> str:
    """Long format: one row per (loss, model)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(COMPARE_COLUMNS)
    for key, comp in report.losses.items():
        for name, c in comp.costs.items():
            v = comp.vs_baseline.get(name)
            if v is None:
                w.writerow([key, name, "true", fmt(c, precision)] + [""] * 8)
                continue
            ci = v.ci or (None, None)
            w.writerow([
                key, name, "false", fmt(c, precision), fmt(v.delta, precision),
                fmt(v.relative, precision) if v.relative is not None else "",
                fmt(ci[0], precision) if ci[0] is not None else "",
                fmt(ci[1], precision) if ci[1] is not None else "",
                fmt(v.p_value, precision) if v.p_value is not None else "",
                fmt(v.p_value_adjusted, precision) if v.p_value_adjusted is not None else "",
                "" if v.significant is None else str(v.significant).lower(),
                fmt(v.win_rate, precision),
            ])  # fmt: skip
    return buf.getvalue()
