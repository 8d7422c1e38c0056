"""Words and cells shared by the human renderers of a comparison."""

from __future__ import annotations

from lossctl.render.numbers import fmt
from lossctl.report import CompareReport, Signature, Versus
from lossctl.version import __version__

TEST_NAMES = {
    "bootstrap": "paired bootstrap",
    "permutation": "paired sign-flip permutation test",
    "ttest": "paired t-test",
    "wilcoxon": "Wilcoxon signed-rank test",
    "dm": "Diebold-Mariano test (HLN-corrected)",
    "mcnemar": "exact McNemar test",
    "none": "no test",
}


def pct(x: float | None) -> str:
    if x is None:
        return "n/a"
    return f"{x * 100:+.3g}%"


def change(v: Versus, base_cost: float, precision: int) -> str:
    """'+6.09% [+1.2%, +11%]' (relative to the baseline cost), or the absolute delta."""
    if v.relative is not None and base_cost:
        text = pct(v.relative)
        if v.ci is not None:
            text += f" [{pct(v.ci[0] / base_cost)}, {pct(v.ci[1] / base_cost)}]"
        return text
    text = f"{v.delta:+.{precision}g}"
    if v.ci is not None:
        text += f" [{v.ci[0]:+.{precision}g}, {v.ci[1]:+.{precision}g}]"
    return text


def mark(v: Versus) -> str:
    return "*" if v.significant else ""


def legend(report: CompareReport) -> str:
    t = report.test
    alpha = 1 - t.confidence
    n_cand = len(report.models) - 1
    parts = [f"Change of each cost vs the baseline '{report.baseline}' (lower is better)"]
    if t.method == "none":
        parts.append("no significance test (--test none)")
    else:
        how = TEST_NAMES[t.method]
        if t.resamples is not None:
            how += f", {t.resamples} resamples, seed {t.seed}"
        if t.horizon is not None:
            how += f", horizon {t.horizon}"
        interval = (
            f"[..] = {t.confidence:.0%} interval of the change; "
            if t.method in ("bootstrap", "ttest", "dm")
            else ""
        )
        holm = f", Holm-adjusted over {n_cand} candidates" if n_cand > 1 else ""
        parts.append(f"{interval}* = significant at {alpha:.3g}{holm} ({how})")
    parts.append(f"{report.n_used:,} paired rows (aligned by {report.aligned_by})")
    return "; ".join(parts) + "."


def verdicts(report: CompareReport) -> list[str]:
    """One sentence per candidate: where it is significantly better or worse."""
    out = []
    for name in report.models:
        if name == report.baseline:
            continue
        better, worse, same = [], [], []
        for key, comp in report.losses.items():
            v = comp.vs_baseline[name]
            p = "" if v.p_value_adjusted is None else f", p={v.p_value_adjusted:.2g}"
            item = f"{key} ({pct(v.relative) if v.relative is not None else fmt(v.delta, 3)}{p})"
            if v.significant and v.delta < 0:
                better.append(item)
            elif v.significant and v.delta > 0:
                worse.append(item)
            else:
                same.append(key)
        bits = []
        if better:
            bits.append("better on " + ", ".join(better))
        if worse:
            bits.append("worse on " + ", ".join(worse))
        if same:
            word = (
                "no significant difference on " if report.test.method != "none" else "untested on "
            )
            bits.append(word + ", ".join(same))
        for key, comp in report.losses.items():
            v = comp.vs_baseline[name]
            if v.n_series is not None and v.series_won is not None:
                bits.append(f"lower {key} on {v.series_won:g} of {v.n_series} series")
        out.append(f"{name} vs {report.baseline}: " + "; ".join(bits) + ".")
    return out


def signature_line(sig: Signature) -> str:
    """The signature in one short line: version, task/layout, losses with their parameters,
    --nan, rows and the data's fingerprint (per model for compare), compare's test."""
    losses = ", ".join(name + _params_text(params) for name, params in sig.losses.values())
    parts = [f"lossctl {__version__}", f"{sig.task}/{sig.kind}", losses, f"nan={sig.nan}"]
    if sig.test is not None:
        t = sig.test
        test = str(t["method"])
        if t["method"] in ("bootstrap", "permutation"):
            test += f" {t['resamples']} seed {t['seed']}"
        parts.append(test)
    rows = {d.rows for d in sig.data.values()}
    parts.append(f"{next(iter(rows)):,} rows" if len(rows) == 1 else "rows differ")
    prints = [
        f"{name} {d.fingerprint}" if name else str(d.fingerprint)
        for name, d in sig.data.items()
        if d.fingerprint is not None
    ]
    if prints:
        parts.append("data " + ", ".join(prints))
    return "signature: " + " · ".join(parts)


def _params_text(params: dict[str, float | str | None]) -> str:
    """``:delta=2:alpha=0.5`` (settings that are unset left out)."""
    out = ""
    for k, v in params.items():
        if v is not None:
            out += f":{k}={v:g}" if isinstance(v, float) else f":{k}={v}"
    return out
