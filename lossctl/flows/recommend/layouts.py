"""Recommendations for the prediction layouts of several columns: quantile sets,
Gaussian and ensemble forecasts, K regression outputs and K labels.

Each measures its facts (coverage, standardised errors, members outside the target,
label prevalence, output scales) and ranks the losses of that layout, with reasons
that cite the facts.
"""

from __future__ import annotations

import math

import numpy as np

from lossctl.core.diagnostics import intervals
from lossctl.flows.recommend.findings import _Findings
from lossctl.flows.recommend.prose import num, pct
from lossctl.flows.recommend.sample import Sample

#: A share of rows this far from what a calibrated forecast gives is worth a note:
#: at least 3 binomial standard errors and 2 points.
COVERAGE_SES = 3.0
COVERAGE_GAP = 0.02
#: Members fewer than this: the fair CRPS ranks ensembles of unequal size fairly.
FEW_MEMBERS = 20
#: Outputs whose target scales differ more than this: a mean of costs is one output's.
SCALE_RATIO = 10.0


def _off(observed: float, nominal: float, n: int) -> bool:
    se = math.sqrt(nominal * (1 - nominal) / n) if n else 0.0
    return abs(observed - nominal) > max(COVERAGE_SES * se, COVERAGE_GAP)


def layout_findings(sample: Sample) -> _Findings:
    """The findings of a layout of several prediction columns."""
    if sample.kind == "quantiles":
        return _quantiles(sample)
    if sample.kind == "gaussian":
        return _gaussian(sample)
    if sample.kind == "ensemble":
        return _ensemble(sample)
    if sample.task == "multilabel":
        return _multilabel(sample)
    return _outputs(sample)


def _quantiles(sample: Sample) -> _Findings:
    out = _Findings()
    y, q, n = sample.y_true, sample.y_pred, sample.n
    levels = sample.levels
    out.fact("levels", ", ".join(f"{v:g}" for v in levels), "the quantile levels", "text")
    order = np.argsort(levels, kind="stable")
    crossing = int((np.diff(q[:, order], axis=1) < 0).any(axis=1).sum()) if len(levels) > 1 else 0
    out.fact("crossing_rows", crossing, "rows whose quantiles cross (a lower level above a "
             "higher one)", "count")  # fmt: skip
    misses = []
    for k, level in enumerate(levels):
        share = float(np.mean(y <= q[:, k]))
        out.fact(f"coverage_{level:g}", share, f"share of rows with y <= the {level:g} "
                 "quantile (ideally the level)", "share")  # fmt: skip
        if _off(share, level, n):
            misses.append(f"q{level:g} covers {pct(share)}")
    pairs = intervals(levels)
    has_median = any(abs(v - 0.5) <= 1e-9 for v in levels)
    symmetric = has_median and len(pairs) * 2 + 1 == len(levels)
    if symmetric:
        out.add(
            "wis", 100,
            f"The levels are a median and {len(pairs)} symmetric pair(s): the weighted "
            "interval score judges the whole set at once (the median's absolute error plus "
            "every central interval's width and misses), a proper score that approximates "
            "the CRPS; it equals 2 x the mean pinball loss.",
        )  # fmt: skip
    out.add(
        "quantile", 95 if not symmetric else 90,
        f"The mean pinball loss over the {len(levels)} levels: each column is scored at "
        "its own level, the way quantile regression is trained; it takes any set of levels.",
    )  # fmt: skip
    if pairs:
        c, lo, hi = pairs[0]
        inside = float(np.mean((q[:, lo] <= y) & (y <= q[:, hi])))
        out.fact(f"interval_coverage_{c:g}", inside, f"share of rows inside the {c:.0%} "
                 "central interval", "share")  # fmt: skip
        width = float(np.mean(q[:, hi] - q[:, lo]))
        out.fact(f"interval_width_{c:g}", width, f"mean width of the {c:.0%} interval")
        verdict = (
            "too narrow" if inside < c and _off(inside, c, n)
            else ("too wide" if _off(inside, c, n) else "about right")
        )  # fmt: skip
        key = "interval_score" if abs(c - 0.8) <= 1e-9 else f"interval_score:coverage={c:g}"
        out.add(
            key, 80,
            f"The {c:.0%} interval covers {pct(inside)} of the rows ({verdict}), mean width "
            f"{num(width)}: the interval score adds the width and 2/alpha = {num(2 / (1 - c))} "
            "per unit of each miss, so it shows what the coverage costs.",
        )  # fmt: skip
    if misses:
        out.notes.append(
            "Quantiles off their level: " + "; ".join(misses) + ". A proper score ranks "
            "such a model lower, but the coverage says which way to fix it."
        )
    if crossing:
        out.notes.append(
            f"{crossing} row(s) have crossing quantiles; scores use them as given. Sorting "
            "each row's quantiles never increases the pinball loss."
        )
    return out


def _gaussian(sample: Sample) -> _Findings:
    out = _Findings()
    mean, var = sample.y_pred[:, 0], sample.y_pred[:, 1]
    sd = np.sqrt(var)
    ok = sd > 0
    z = (sample.y_true[ok] - mean[ok]) / sd[ok]
    beyond = float(np.mean(np.abs(z) > 3)) if z.size else float("nan")
    z2 = float(np.mean(z * z)) if z.size else float("nan")
    out.fact("beyond_3_sd", beyond, "share of rows more than 3 predicted SDs from the mean "
             "(a normal: 0.27%)", "share")  # fmt: skip
    out.fact("mean_z_squared", z2, "mean squared standardised error (1 when the variance "
             "is honest; above 1: overconfident)")  # fmt: skip
    heavy = beyond > 0.01
    honest = 0.8 <= z2 <= 1.25
    out.add(
        "crps_gaussian", 100,
        "The CRPS is in the target's units and is the absolute error when the spread is "
        "0, so it compares with mae and grows only linearly with a miss.",
    )  # fmt: skip
    state = "honest" if honest else ("too small" if z2 > 1 else "too large")
    out.add(
        "gaussian_nll", 70 if heavy else 90,
        f"The log score rewards an honest variance row by row; here the mean squared "
        f"standardised error is {num(z2)} (1 is honest: the variance looks {state}).",
        (
            f"{pct(beyond)} of rows lie beyond 3 SDs (a normal: 0.27%): the log score grows "
            "with their squared distance, and those rows dominate it."
            if heavy
            else ""
        ),
    )  # fmt: skip
    return out


def _ensemble(sample: Sample) -> _Findings:
    out = _Findings()
    x, y = sample.y_pred, sample.y_true
    m = x.shape[1]
    outside = float(np.mean((y < x.min(axis=1)) | (y > x.max(axis=1))))
    expected = 2.0 / (m + 1)
    out.fact("members", m, "ensemble members (prediction columns)", "count")
    out.fact("outside_members", outside, "share of rows whose target is outside every "
             f"member (a calibrated ensemble of {m}: {pct(expected)})", "share")  # fmt: skip
    spread = "too little spread" if outside > expected + COVERAGE_GAP else "a plausible spread"
    standard = "crps_ensemble"
    fair = "crps_ensemble:estimator=fair"
    few = m < FEW_MEMBERS
    size = (
        f"With only {m} members the standard CRPS favours too little spread; "
        if few
        else f"With {m} members the two estimators differ little; "
    )
    out.add(
        fair, 100 if few else 90,
        size + "the fair estimator is unbiased for the distribution the members are drawn "
        "from, so ensembles of different sizes rank fairly.",
    )  # fmt: skip
    out.add(
        standard, 90 if few else 100,
        f"The CRPS of the ensemble as it is: {pct(outside)} of targets fall outside all "
        f"members (calibrated: about {pct(expected)}), {spread}.",
    )  # fmt: skip
    return out


def _multilabel(sample: Sample) -> _Findings:
    out = _Findings()
    y = sample.y_true
    k = y.shape[1]
    prevalence = y.mean(axis=0)
    out.fact("labels", k, "labels (target columns)", "count")
    out.fact("rarest_label_share", float(prevalence.min()), "share of rows with the "
             f"rarest label ('{sample.outputs[int(prevalence.argmin())]}')", "share")  # fmt: skip
    out.fact("labels_per_row", float(y.sum(axis=1).mean()), "mean number of labels a row has")
    probability = sample.kind == "probability"
    first = "bce" if probability else "bce_logits"
    out.add(first, 100, "The log loss of each label, averaged over the labels: proper, and "
            "the loss multilabel networks train on (Keras, torch).")  # fmt: skip
    if probability:
        out.add("brier", 80, "The squared error of each label's probability: proper and "
                "bounded, so one confident mistake cannot dominate.")  # fmt: skip
    thr = "" if probability else ":threshold=0"
    out.add(f"zero_one{thr}", 70, "zero_one on K labels is the Hamming loss: the share of "
            "the n x K single decisions that are wrong.")  # fmt: skip
    out.add(f"subset_zero_one{thr}", 60, f"The share of rows with any of the {k} labels "
            "wrong (1 - exact match): harsh as K grows, but what counts when only a "
            "wholly right set is usable.")  # fmt: skip
    return out


def _outputs(sample: Sample) -> _Findings:
    out = _Findings()
    y = sample.y_true
    scales = y.std(axis=0)
    k = y.shape[1]
    out.fact("outputs", k, "regression outputs (target columns)", "count")
    big, small = int(scales.argmax()), int(scales.argmin())
    ratio = float(scales[big] / scales[small]) if scales[small] > 0 else float("inf")
    out.fact("scale_ratio", ratio, f"largest over smallest target SD ('{sample.outputs[big]}' "
             f"over '{sample.outputs[small]}')")  # fmt: skip
    uneven = ratio > SCALE_RATIO
    out.add("mse", 90 if uneven else 100, "The mean of the per-output mean squared errors "
            "(scikit-learn's uniform average); JSON holds each output's.")  # fmt: skip
    out.add("mae", 80, "The per-output absolute error, averaged: robust to a few large "
            "misses in any output.")  # fmt: skip
    if uneven:
        out.add(
            "wape", 110,
            f"The outputs' scales differ {num(ratio)}-fold: a mean of absolute costs is "
            f"mostly '{sample.outputs[big]}'; wape divides each output by its own total, so "
            "every output weighs alike.",
        )  # fmt: skip
    return out
