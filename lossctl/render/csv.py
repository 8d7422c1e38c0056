"""Reports as CSV/TSV in long format: one row per (group, loss key)."""

from __future__ import annotations

import csv
import io

from lossctl.render.numbers import fmt
from lossctl.report import EvalReport, LossStats

EVAL_COLUMNS = ("group", "loss", "name", "cost", "std", "min", "max", "sum", "n")


def _cells(group: str, s: LossStats, precision: int) -> list[str]:
    return [
        group,
        s.key,
        s.name,
        fmt(s.cost, precision),
        fmt(s.std, precision),
        fmt(s.min, precision),
        fmt(s.max, precision),
        fmt(s.sum, precision),
        str(s.n),
    ]


def eval_delimited(report: EvalReport, delimiter: str = ",", precision: int = 6) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(EVAL_COLUMNS)
    for s in report.losses.values():
        w.writerow(_cells("", s, precision))
    for name, g in (report.groups or {}).items():
        for s in g.losses.values():
            w.writerow(_cells(name, s, precision))
    return buf.getvalue()
