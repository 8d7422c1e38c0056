"""The binary rules: labels, imbalance, calibration and confidence; then the binary losses."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lossctl.flows.recommend.calibration import calibration_findings
from lossctl.flows.recommend.facts import _carried, _overconfidence, _top_share, top_k
from lossctl.flows.recommend.findings import _Findings
from lossctl.flows.recommend.prose import num, pct
from lossctl.flows.recommend.sample import Sample
from lossctl.flows.recommend.thresholds import (
    CALIBRATION_SE,
    CONFIDENT,
    EXTREME_SHARE,
    IMBALANCE,
    MIN_CONFIDENT_MISTAKES,
    OVERCONFIDENT_P,
)
from lossctl.losses.binary import sigmoid

#: Words in a score column's name that say margins (SVM) or logits.
_MARGIN_HINTS = ("margin", "decision", "svm", "hinge")
_LOGIT_HINTS = ("logit", "log_odds", "logodds")


def _binary(sample: Sample) -> _Findings:
    """Facts about labels, predictions, imbalance and calibration; then the binary losses."""
    out = _Findings()
    y = sample.y_true
    n = sample.n
    labels = "/".join(sample.raw_labels)
    pm1 = "-1" in sample.raw_labels
    if sample.pos_label is not None:
        labels += f" (positive: {sample.pos_label})"
    share = float(np.mean(y))
    n_pos = int(np.sum(y >= 0.5))
    imbalanced = share < IMBALANCE or share > 1 - IMBALANCE
    minority = "positive" if share < 0.5 else "negative"
    minority_share = min(share, 1 - share)
    out.fact("n_used", n, "rows used", "count")
    out.fact("labels", labels, "target values as written in the file", "text")
    out.fact("positive_share", share, "share of positive labels (the base rate)", "share")
    out.fact("positive_count", n_pos, "rows with a positive label", "count")
    imbalance_text = (
        f"Only {pct(minority_share)} of the labels are {minority} "
        f"({n_pos if minority == 'positive' else n - n_pos} of {n} rows)"
    )
    if sample.kind == "probability":
        _binary_probabilities(sample, out, share, imbalanced, imbalance_text, pm1)
    else:
        _binary_scores(sample, out, share, imbalanced, imbalance_text, pm1)
    out.monotone[frozenset({"bce", "brier", "focal"})] = (
        "each falls as the probability given to the true label rises"
    )
    out.monotone[frozenset({"hinge", "squared_hinge", "bce_logits"})] = (
        "each falls as the margin label × score rises"
    )
    return out


def _calibrated(mean_p: float, base_rate: float, probs: np.ndarray) -> bool:
    """Mean predicted probability close to the base rate, in both senses:

    - within ``CALIBRATION_SE`` (3) standard errors of what calibrated probabilities
      give (the base rate's SD under calibration is sqrt(sum p(1-p)) / n), so a gap
      the data shows clearly is never called calibrated; and
    - within 10% of the minority share (at least 0.005): relative, because a mean of
      0.017 against a base rate of 0.010 is a large miss for a rare event even though
      the absolute gap is below one point.
    """
    n = probs.shape[0]
    se = math.sqrt(float(np.sum(probs * (1 - probs)))) / n if n else 0.0
    practical = max(0.005, 0.1 * min(base_rate, 1 - base_rate))
    return abs(mean_p - base_rate) <= min(CALIBRATION_SE * se, practical)


# -- probabilities ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Probabilities:
    """What binary probabilities show; the shares are of unweighted sums."""

    mean_p: float
    accuracy: float
    #: Confident mistakes, how many calibrated probabilities would make, the Poisson tail.
    observed: int
    expected: float
    tail: float
    #: Wrong predictions of exactly 0 or 1, and the share of predictions exactly 0 or 1.
    certain_wrong: int
    extreme: float
    #: The worst rows compared, and the share of the log loss they carry.
    k: int
    bce_top: float
    #: Shares of bce and brier carried by the confident mistakes, and by the certain ones.
    mistakes_share: float
    mistakes_brier: float
    certain_share: float
    certain_brier: float
    #: Rows of the majority class predicted right with >= 90%, and their share of bce.
    majority_name: str
    easy_share: float
    easy_bce: float


def _measure_probabilities(sample: Sample, share: float) -> _Probabilities:
    """Accuracy, confident and certain mistakes, and what they carry of bce and brier."""
    y, p = sample.y_true, sample.y_pred
    conf = np.maximum(p, 1 - p)
    wrong = (p >= 0.5) != (y >= 0.5)
    observed, expected, tail = _overconfidence(conf, wrong)
    exact = (p == 0) | (p == 1)
    p_true = np.where(y >= 0.5, p, 1 - p)
    bce_values = -np.log(np.clip(p_true, np.finfo(np.float64).eps, 1.0))
    brier_values = (p - y) ** 2
    k = top_k(sample.n)
    conf_rows = (conf >= CONFIDENT) & wrong
    certain_rows = exact & wrong
    majority = 0 if share < 0.5 else 1
    easy = ((y >= 0.5) == bool(majority)) & (p_true >= CONFIDENT)
    return _Probabilities(
        mean_p=float(np.mean(p)),
        accuracy=1 - float(np.mean(wrong)),
        observed=observed,
        expected=expected,
        tail=tail,
        certain_wrong=int(certain_rows.sum()),
        extreme=float(np.mean(exact)),
        k=k,
        bce_top=_top_share(bce_values, sample.weight, k),
        mistakes_share=_carried(bce_values, conf_rows),
        mistakes_brier=_carried(brier_values, conf_rows),
        certain_share=_carried(bce_values, certain_rows),
        certain_brier=_carried(brier_values, certain_rows),
        majority_name="negative" if majority == 0 else "positive",
        easy_share=float(np.mean(easy)),
        easy_bce=_carried(bce_values, easy),
    )


def _binary_probabilities(
    sample: Sample, out: _Findings, share: float, imbalanced: bool, imbalance_text: str,
    pm1: bool,
) -> None:  # fmt: skip
    """bce first, brier first when over-confident or extreme; focal for imbalance."""
    m = _measure_probabilities(sample, share)
    _probability_facts(out, m)
    overconfident = m.observed >= MIN_CONFIDENT_MISTAKES and m.tail < OVERCONFIDENT_P
    fragile = m.certain_wrong > 0 or m.extreme >= EXTREME_SHARE
    calib = _calibration_text(m.mean_p, share, sample.y_pred)
    labels_note = " The labels -1/+1 are read as 0/1." if pm1 else ""
    bce_reason = (
        "The predictions are probabilities and the labels binary: cross-entropy (log loss) "
        "is the standard proper scoring rule, lowest in expectation only when the "
        "probabilities are the true ones, so it rewards calibration as well as ranking."
        + labels_note
    )
    if overconfident or fragile:
        over_text, brier_text = _confidence_texts(m, overconfident, fragile)
        out.add(
            "brier", 105,
            over_text,
            "brier, the squared error of the probability, costs at most 1 per row (bce up to "
            f"36) and is also proper: {brier_text}",
        )  # fmt: skip
        out.add(
            "bce", 80,
            bce_reason,
            "Ranked after brier here: it punishes confident mistakes without bound, and "
            f"the worst {m.k} rows carry {pct(m.bce_top)} of it. Keep it if you want "
            "over-confidence punished hard.",
            calib,
        )  # fmt: skip
    else:
        out.add("bce", 100, bce_reason, calib)
        out.add(
            "brier", 70,
            "The squared error of the probability: proper like bce but bounded (at most 1 per "
            "row, where bce can reach 36), so one confident mistake cannot dominate it. "
            f"Here {m.observed} rows give >= 90% to the wrong class (a calibrated model: about "
            f"{num(m.expected)}), and the worst {m.k} rows carry {pct(m.bce_top)} of bce.",
        )  # fmt: skip
    calibration_findings(out, sample)
    if imbalanced:
        out.add(
            "focal:gamma=2", 90,
            f"{imbalance_text}; {pct(m.easy_share)} of the rows are {m.majority_name} rows "
            "predicted right with >= 90%, and their many small losses make up "
            f"{pct(m.easy_bce)} of the bce sum.",
            "focal multiplies each row's cross-entropy by (1 - p_true)^2, so a row predicted "
            "right with 90% counts 100 times less and the cost concentrates on the hard, "
            "rare rows. It is not a proper scoring rule: judge calibration with bce or "
            "brier; add alpha (e.g. focal:gamma=2:alpha=0.25) to also re-weight the classes.",
        )  # fmt: skip


def _probability_facts(out: _Findings, m: _Probabilities) -> None:
    """The measured facts of binary probabilities."""
    out.fact("mean_predicted", m.mean_p, "mean predicted probability (compare with the base rate)")
    out.fact("accuracy", m.accuracy, "share of rows on the right side of 0.5", "share")
    out.fact(
        "confident_mistakes", m.observed,
        "rows giving >= 90% to the wrong class", "count",
    )  # fmt: skip
    out.fact(
        "confident_mistakes_expected", m.expected,
        "confident mistakes a calibrated model would make with these probabilities",
    )  # fmt: skip
    out.fact(
        "confident_mistakes_p", m.tail,
        "chance of that many confident mistakes if the probabilities were calibrated",
    )  # fmt: skip
    out.fact("extreme_share", m.extreme, "share of predictions exactly 0 or 1", "share")
    out.fact("certain_mistakes", m.certain_wrong, "wrong predictions of exactly 0 or 1", "count")
    out.fact(
        "bce_top_share", m.bce_top,
        f"share of the log loss carried by the worst {m.k} rows", "share",
    )  # fmt: skip
    out.fact(
        "confident_mistakes_bce_share", m.mistakes_share,
        "share of the log loss (sum) carried by the confident mistakes", "share",
    )  # fmt: skip
    out.fact(
        "confident_mistakes_brier_share", m.mistakes_brier,
        "share of the brier score (sum) carried by the confident mistakes", "share",
    )  # fmt: skip
    out.fact(
        "certain_mistakes_bce_share", m.certain_share,
        "share of the log loss (sum) carried by the wrong predictions of exactly 0 or 1", "share",
    )  # fmt: skip
    out.fact(
        "certain_mistakes_brier_share", m.certain_brier,
        "share of the brier score (sum) carried by those rows", "share",
    )  # fmt: skip
    out.fact(
        "easy_majority_share", m.easy_share,
        "share of rows of the majority class predicted right with >= 90%", "share",
    )  # fmt: skip
    out.fact(
        "easy_majority_bce_share", m.easy_bce,
        "share of the log loss (sum) those rows carry", "share",
    )  # fmt: skip


def _calibration_text(mean_p: float, share: float, probs: np.ndarray) -> str:
    """The mean predicted probability against the base rate, in words."""
    if _calibrated(mean_p, share, probs):
        return (
            f"Mean predicted probability {num(mean_p)} vs base rate {num(share)}: calibrated "
            "on average (a check bce rewards)."
        )
    gap = mean_p - share
    side = "over" if gap > 0 else "under"
    return (
        f"Mean predicted probability {num(mean_p)} vs base rate {num(share)}: the model "
        f"{side}-predicts the positive class by {num(abs(gap) * 100)} percentage points on "
        "average, which bce and brier both charge for."
    )


def _confidence_texts(m: _Probabilities, overconfident: bool, fragile: bool) -> tuple[str, str]:
    """Why brier leads (certain mistakes, fragile 0/1 predictions, or over-confidence), and
    what those rows carry of brier."""
    if m.certain_wrong:
        over_text = (
            f"{m.certain_wrong} wrong prediction(s) are exactly 0 or 1: bce there is "
            "-log(2.2e-16) = 36 per row after the clip (infinite without it), so those rows "
            f"carry {pct(m.certain_share)} of the log loss."
        )
        return over_text, f"those rows carry {pct(m.certain_brier)} of it."
    if fragile and not overconfident:
        over_text = (
            f"{pct(m.extreme)} of the predictions are exactly 0 or 1 (vote shares, or clipped "
            "outputs): none is wrong here, but a single future mistake among them costs bce "
            "-log(2.2e-16) = 36 (infinite without the clip), so the log loss of such a model "
            "is fragile."
        )
        return over_text, "one such mistake would cost it at most 1."
    over_text = (
        f"{m.observed} rows give >= 90% to the wrong class where calibrated probabilities "
        f"would make about {num(m.expected)} such mistakes (chance {num(m.tail)}): the model "
        f"is over-confident, and those rows carry {pct(m.mistakes_share)} of the log loss."
    )
    return over_text, f"those rows carry {pct(m.mistakes_brier)} of it."


# -- scores -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Margins:
    """Where scores put the rows against the margin (label × score, labels as -1/+1)."""

    beyond: float
    inside: float
    misclassified: float
    mean_sigmoid: float


def _measure_margins(y: np.ndarray, f: np.ndarray) -> _Margins:
    """Shares of rows beyond, inside and across the margin; the mean sigmoid."""
    t = 2 * (y >= 0.5) - 1.0
    margin = t * f
    return _Margins(
        beyond=float(np.mean(margin >= 1)),
        inside=float(np.mean((margin < 1) & (margin >= 0))),
        misclassified=float(np.mean(margin < 0)),
        mean_sigmoid=float(np.mean(sigmoid(f))),
    )


def _binary_scores(
    sample: Sample, out: _Findings, share: float, imbalanced: bool, imbalance_text: str,
    pm1: bool,
) -> None:  # fmt: skip
    """Margin scores: hinge first; logits: bce_logits first (from the labels and the name)."""
    f = sample.y_pred
    m = _measure_margins(sample.y_true, f)
    name = sample.columns.pred[0].lower()
    hint_margin = any(h in name for h in _MARGIN_HINTS)
    hint_logit = any(h in name for h in _LOGIT_HINTS)
    margins = (pm1 or hint_margin) and not hint_logit
    _score_facts(out, f, "margin scores" if margins else "logits", m)
    basis = _basis(sample, pm1, hint_margin or hint_logit)
    span = f"unbounded scores (from {num(float(f.min()))} to {num(float(f.max()))})"
    hinge_text = (
        f"hinge max(0, 1 - label × score) is zero for the {pct(m.beyond)} of rows right beyond "
        f"the margin and grows linearly for the {pct(m.inside)} inside it and the "
        f"{pct(m.misclassified)} misclassified, so only the rows near or across the decision "
        "boundary count."
    )
    logit_text = (
        f"bce_logits is the log loss computed from the logits directly, exact even where "
        "sigmoid rounds to 0 or 1. Mean sigmoid(score) is "
        f"{num(m.mean_sigmoid)} vs base rate {num(share)}: "
        + (
            "consistent with log-odds."
            if _calibrated(m.mean_sigmoid, share, sigmoid(f))
            else "apart, so the scores may not be calibrated log-odds."
        )
    )
    if margins:
        out.add(
            "hinge", 100,
            f"The predictions are {span} and {basis}: the convention of margin "
            "classifiers (SVMs), whose loss is hinge.",
            hinge_text,
        )  # fmt: skip
        out.add("bce_logits", 90, "If the scores are log-odds (a logistic model): " + logit_text)
        out.add(
            "squared_hinge", 60,
            "hinge squared: margin violations cost quadratically, smooth where hinge has a "
            f"kink, and more sensitive to the {pct(m.misclassified)} badly misclassified rows.",
        )  # fmt: skip
    else:
        out.add(
            "bce_logits", 100,
            f"The predictions are {span}" + (f" and {basis}" if basis else "")
            + ": read as logits (log-odds) of a probabilistic classifier. " + logit_text,
        )  # fmt: skip
        out.add(
            "hinge", 80,
            "If the scores are SVM margins rather than log-odds (labels 0/1 are read as "
            f"-1/+1): {hinge_text}",
        )  # fmt: skip
    if imbalanced:
        first = max(out.candidates, key=lambda c: c.priority)
        first.reasons.append(
            f"{imbalance_text}: the average is dominated by the majority class. focal needs "
            "probabilities (apply sigmoid to logits first); with scores, class weights "
            "(-w, e.g. 1 / class share) give both classes an equal say."
        )


def _score_facts(out: _Findings, f: np.ndarray, read_as: str, m: _Margins) -> None:
    """The measured facts of binary scores."""
    out.fact("score_min", float(f.min()), "smallest score")
    out.fact("score_max", float(f.max()), "largest score")
    out.fact(
        "scores_read_as", read_as, "from the labels (-1/1: margins) and the column name", "text"
    )
    out.fact(
        "beyond_margin_share",
        m.beyond,
        "rows right beyond the margin (label × score >= 1)",
        "share",
    )
    out.fact(
        "inside_margin_share",
        m.inside,
        "rows right but inside the margin (0 <= label × score < 1)",
        "share",
    )
    out.fact(
        "misclassified_share",
        m.misclassified,
        "rows on the wrong side (label × score < 0)",
        "share",
    )
    out.fact(
        "mean_sigmoid",
        m.mean_sigmoid,
        "mean sigmoid(score): near the base rate if the scores are logits",
    )


def _basis(sample: Sample, pm1: bool, hinted: bool) -> str:
    """Why the scores are read as they are: the labels, the column's name ("" for neither)."""
    why_kind = []
    if pm1:
        why_kind.append("the labels are -1/+1")
    elif sample.raw_labels:
        why_kind.append(f"the labels are {'/'.join(sample.raw_labels)}")
    if hinted:
        why_kind.append(f"the column is named '{sample.columns.pred[0]}'")
    return " and ".join(why_kind)
