"""The multiclass rules: class shares, confidence and target form; then the multiclass losses."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lossctl.flows.recommend.calibration import calibration_findings
from lossctl.flows.recommend.facts import _carried, _overconfidence
from lossctl.flows.recommend.findings import _Findings
from lossctl.flows.recommend.prose import num, pct
from lossctl.flows.recommend.sample import Sample
from lossctl.flows.recommend.thresholds import (
    CALIBRATION_SE,
    CLASS_RATIO,
    CONFIDENT,
    MIN_CONFIDENT_MISTAKES,
    OVERCONFIDENT_P,
)


@dataclass(frozen=True)
class _Classes:
    """What multiclass predictions show (scores are read through softmax)."""

    n: int
    k_cls: int
    classes: tuple[str, ...]
    #: "labels", "one-hot" or "soft"; the label per row (argmax of target columns).
    target_kind: str
    labels: np.ndarray
    #: Share of each class, and the smallest and largest class.
    shares: np.ndarray
    small: int
    large: int
    #: Probability of the top class per row, its mean, and the share of right top classes.
    conf: np.ndarray
    mean_conf: float
    accuracy: float
    #: Confident mistakes, how many calibrated probabilities would make, the Poisson tail.
    observed: int
    expected: float
    tail: float
    #: Shares of the cross-entropy and brier sums carried by the confident mistakes.
    ce_share: float
    brier_share: float


def _measure_classes(sample: Sample) -> _Classes:
    """Class shares, accuracy, confidence and what the confident mistakes carry."""
    y, p = sample.y_true, sample.y_pred
    n, k_cls = p.shape
    if y.ndim == 1:
        target_kind = "labels"
        labels = y.astype(np.intp)
        shares = np.bincount(labels, minlength=k_cls)[:k_cls] / n
    else:
        onehot = np.isin(y, (0.0, 1.0)).all() and np.allclose(y.sum(axis=1), 1.0)
        target_kind = "one-hot" if onehot else "soft"
        labels = np.argmax(y, axis=1)
        shares = y.mean(axis=0)
    if sample.kind == "probability":
        probs = p
    else:
        z = p - p.max(axis=1, keepdims=True)  # softmax, shifted so exp never overflows
        e = np.exp(z)
        probs = e / e.sum(axis=1, keepdims=True)
    wrong = np.argmax(probs, axis=1) != labels
    conf = probs.max(axis=1)
    observed, expected, tail = _overconfidence(conf, wrong)
    # What the confident mistakes carry of cross-entropy and brier (unweighted sums).
    target = y if y.ndim == 2 else np.eye(k_cls)[labels]
    eps = float(np.finfo(np.float64).eps)
    ce_values = -(target * np.log(np.clip(probs, eps, 1.0))).sum(axis=1)
    brier_values = ((probs - target) ** 2).sum(axis=1)
    conf_rows = (conf >= CONFIDENT) & wrong
    return _Classes(
        n=n,
        k_cls=k_cls,
        classes=tuple(sample.columns.classes) or tuple(str(i) for i in range(k_cls)),
        target_kind=target_kind,
        labels=labels,
        shares=shares,
        small=int(np.argmin(shares)),
        large=int(np.argmax(shares)),
        conf=conf,
        mean_conf=float(np.mean(conf)),
        accuracy=1 - float(np.mean(wrong)),
        observed=observed,
        expected=expected,
        tail=tail,
        ce_share=_carried(ce_values, conf_rows),
        brier_share=_carried(brier_values, conf_rows),
    )


def _multiclass(sample: Sample) -> _Findings:
    """Facts about the classes, confidence and target form; then the multiclass losses."""
    out = _Findings()
    m = _measure_classes(sample)
    _class_facts(out, m, sample.kind)
    small, large, shares = m.small, m.large, m.shares
    ratio = float(shares[small] / shares[large]) if shares[large] > 0 else 0.0
    imbalanced = ratio < CLASS_RATIO
    overconfident = m.observed >= MIN_CONFIDENT_MISTAKES and m.tail < OVERCONFIDENT_P
    first, ce_reason = _cross_entropy(sample, m.k_cls)
    calib = _calibration_text(m)
    if overconfident and sample.kind == "probability":
        out.add(
            "brier", 105,
            f"{m.observed} rows give >= 90% to a wrong class where calibrated probabilities "
            f"would make about {num(m.expected)} such mistakes (chance {num(m.tail)}): the "
            f"model is over-confident, and those rows carry {pct(m.ce_share)} of the "
            "cross-entropy.",
            "brier (the squared error of the probability vector) is bounded at 2 per row and "
            f"proper: the same rows carry {pct(m.brier_share)} of it.",
        )  # fmt: skip
        out.add(first, 80, ce_reason, calib)
    else:
        out.add(first, 100, ce_reason, calib)
        if sample.kind == "probability":
            out.add(
                "brier", 70,
                "The squared error of the probability vector: proper and bounded (at most 2 "
                f"per row), a check that a few confident mistakes ({m.observed} here, "
                f"calibrated: about {num(m.expected)}) do not drive the log loss.",
            )  # fmt: skip
    if sample.kind == "probability":
        calibration_findings(out, sample)
    if m.target_kind == "soft" and sample.kind == "probability":
        out.add(
            "kl_div", 90,
            "The targets are probability distributions, not one label per row: kl_div is "
            "0 when the prediction equals the target distribution and differs from "
            "cross_entropy only by the targets' own entropy, a constant.",
        )  # fmt: skip
    if sample.kind != "probability":
        margin_share = _multiclass_margin_share(sample.y_pred, m.labels)
        out.add(
            "multiclass_hinge", 80,
            "If the scores are margins (a multiclass SVM) rather than logits: zero when the "
            f"true class beats every other by at least 1 ({pct(margin_share)} of rows here), "
            "so only rows near or across a boundary count.",
        )  # fmt: skip
    if imbalanced:
        top = max(out.candidates, key=lambda c: c.priority)
        top.reasons.append(
            f"The classes are imbalanced: '{m.classes[small]}' has "
            f"{pct(float(shares[small]))} of the rows, '{m.classes[large]}' "
            f"{pct(float(shares[large]))}. The average cost mostly reflects the large "
            "classes; to give every class an equal say, pass -w with a weight of "
            "1 / (class share) per row."
        )
    return out


def _class_facts(out: _Findings, m: _Classes, kind: str) -> None:
    """The measured facts of multiclass predictions."""
    out.fact("n_used", m.n, "rows used", "count")
    out.fact("n_classes", m.k_cls, "classes (prediction columns)", "count")
    out.fact("target_kind", m.target_kind, "one label per row, or K target columns", "text")
    out.fact("smallest_class", m.classes[m.small], "class with the fewest rows", "text")
    out.fact("smallest_class_share", float(m.shares[m.small]), "its share of the rows", "share")
    out.fact("largest_class", m.classes[m.large], "class with the most rows", "text")
    out.fact("largest_class_share", float(m.shares[m.large]), "its share of the rows", "share")
    out.fact("accuracy", m.accuracy, "share of rows whose top class is right", "share")
    out.fact(
        "mean_confidence", m.mean_conf,
        "mean probability of the top class" + ("" if kind == "probability" else
                                              " (softmax of the scores)"),
    )  # fmt: skip
    out.fact("confident_mistakes", m.observed, "rows giving >= 90% to a wrong class", "count")
    out.fact(
        "confident_mistakes_expected", m.expected,
        "confident mistakes a calibrated model would make with these probabilities",
    )  # fmt: skip
    out.fact(
        "confident_mistakes_ce_share", m.ce_share,
        "share of the cross-entropy (sum) carried by the confident mistakes", "share",
    )  # fmt: skip
    out.fact(
        "confident_mistakes_brier_share", m.brier_share,
        "share of the brier score (sum) carried by the confident mistakes", "share",
    )  # fmt: skip


def _calibration_text(m: _Classes) -> str:
    """Mean confidence against accuracy, in words."""
    gap = m.mean_conf - m.accuracy
    # Calibrated: the accuracy's SD under calibration is sqrt(sum conf(1 - conf)) / n.
    conf_se = math.sqrt(float(np.sum(m.conf * (1 - m.conf)))) / m.n
    return f"Mean confidence {num(m.mean_conf)} vs accuracy {num(m.accuracy)}: " + (
        "calibrated on average."
        if abs(gap) < 0.02 and abs(gap) <= CALIBRATION_SE * conf_se
        else ("over-confident on average." if gap > 0 else "under-confident on average.")
    )


def _cross_entropy(sample: Sample, k_cls: int) -> tuple[str, str]:
    """The cross-entropy that fits the predictions (probabilities or logits), and why."""
    if sample.kind == "probability":
        return "cross_entropy", (
            f"{k_cls} classes with predicted probabilities: cross-entropy (multiclass log "
            "loss), -log of the probability given to the true class, is the proper scoring "
            "rule: lowest in expectation only for the true probabilities."
        )
    prefix = sample.columns.pred[0].lower()
    named = " (named as logits)" if prefix.startswith("logit") else ""
    return "softmax_cross_entropy", (
        f"{k_cls} unbounded scores per row{named}, read as logits: softmax_cross_entropy "
        "is cross-entropy on softmax(scores), computed stably with logsumexp."
    )


def _multiclass_margin_share(scores: np.ndarray, labels: np.ndarray) -> float:
    """Share of rows whose true-class score beats every other score by at least 1."""
    idx = np.arange(scores.shape[0])
    true = scores[idx, labels]
    others = scores.copy()
    others[idx, labels] = -np.inf
    return float(np.mean(true - others.max(axis=1) >= 1))
