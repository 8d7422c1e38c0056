"""The calibration check of predicted probabilities (binary and multiclass): ECE, and
whether it is large enough to recommend ``ece`` as a diagnostic.

ECE is measured as ``lossctl eval -l ece`` computes it (``ECE_BINS`` (15) equal-width
bins; binary: of the probability of the positive class against the share of
positives, multiclass: of the top probability against the share whose top class is
right), unweighted like every fact.

*Miscalibrated* means all three of:

- *not chance*: ECE is more than ``ECE_SE`` (3) SDs above the ECE calibrated
  probabilities would show by chance. Under calibration a bin's accuracy minus its
  mean confidence has mean 0 and variance sum c_i (1 - c_i) / n_b² (a sum of
  Bernoulli(c_i)); its absolute value has mean sqrt(2 / pi) sd_b and variance
  (1 - 2 / pi) sd_b² (normal approximation), and ECE weighs the bins by n_b / N. Few
  rows make ECE large by chance alone (it is biased upwards): this keeps that from
  being called miscalibration.
- *large against the error*: ECE is at least ``ECE_SHARE`` (10%) of sqrt(brier). By
  Jensen's inequality ECE <= RMSCE <= sqrt(brier) (the mean of a bin's gaps squared
  is at most the mean of the squared errors; for multiclass the top class's squared
  error is one term of brier's sum), so ECE / sqrt(brier), in [0, 1], is how much of
  the room brier leaves is taken by a systematic gap between confidence and accuracy;
  a tenth is the least worth a separate diagnostic.
- *large on its own*: ECE is at least ``ECE_MIN`` (one percentage point), so a
  near-perfect classifier on millions of rows is not flagged for a 0.1-point gap.

Then ``ece`` is recommended as a diagnostic (``ECE_PRIORITY``: after bce or
cross_entropy and brier): it is not a proper scoring rule (a constant prediction
at the base rate has ECE 0), so it never ranks first. The direction is read from
the top-label confidence: *over-confident* when the mean confidence exceeds the
accuracy by at least half the ECE, *under-confident* when it falls short by as much;
binary probabilities that are neither but whose mean is off the base rate by half
the ECE over- or under-predict the positive class; else "miscalibrated".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lossctl.flows.recommend.findings import _Findings
from lossctl.flows.recommend.prose import num, pct
from lossctl.flows.recommend.sample import Sample
from lossctl.flows.recommend.thresholds import (
    CONFIDENT,
    ECE_BINS,
    ECE_MIN,
    ECE_PRIORITY,
    ECE_SE,
    ECE_SHARE,
)

#: Confidence thresholds for the over-confidence sentence, the highest first, and the
#: fewest rows above one for it to be quoted.
_HIGH = (0.99, CONFIDENT)
_MIN_ROWS = 10


@dataclass(frozen=True)
class _Calibration:
    """What the bins show (see the module)."""

    ece: float
    #: The ECE calibrated probabilities would show by chance: mean and SD.
    expected: float
    sd: float
    brier: float
    #: ECE / sqrt(brier), in [0, 1].
    share: float
    #: Mean top-label confidence minus accuracy; mean probability minus base rate (binary).
    confidence_gap: float
    rate_gap: float
    miscalibrated: bool
    direction: str
    evidence: str


def measure_calibration(sample: Sample) -> _Calibration:
    """ECE with ``ECE_BINS`` bins, its chance level, and the rule's verdict."""
    from lossctl.losses.calibration import (
        ACCURACY,
        CONFIDENCE,
        WEIGHT,
        bin_index,
        bin_sums,
        calibration_error,
        confidence_accuracy,
    )

    y, p, task = sample.y_true, sample.y_pred, sample.task
    conf, acc = confidence_accuracy(y, p, task)
    sums = bin_sums(conf, acc, ECE_BINS)
    ece = calibration_error(sums, "l1")
    n = conf.shape[0]
    count = sums[WEIGHT]
    full = count > 0
    var = np.bincount(bin_index(conf, ECE_BINS), conf * (1 - conf), ECE_BINS)
    sd_bin = np.sqrt(var[full]) / count[full]
    share_bin = count[full] / n
    expected = float(np.dot(share_bin, sd_bin)) * math.sqrt(2 / math.pi)
    sd = math.sqrt(float(np.dot(share_bin**2, sd_bin**2)) * (1 - 2 / math.pi))
    brier = _brier(y, p, task)
    share = ece / math.sqrt(brier) if brier > 0 else math.nan
    top, right = _top_label(y, p, task)
    confidence_gap = float(np.mean(top) - np.mean(right))
    rate_gap = float(np.mean(p) - np.mean(y)) if task == "binary" else math.nan
    miscalibrated = (
        math.isfinite(ece)
        and ece > expected + ECE_SE * sd
        and math.isfinite(share)
        and share >= ECE_SHARE
        and ece >= ECE_MIN
    )
    direction = _direction(ece, confidence_gap, rate_gap)
    gaps = (sums[ACCURACY][full] - sums[CONFIDENCE][full]) / count[full]
    worst = int(np.flatnonzero(full)[np.argmax(share_bin * np.abs(gaps))]) if full.any() else -1
    evidence = _evidence(task, direction, top, right, sums, worst)
    return _Calibration(
        ece, expected, sd, brier, share, confidence_gap, rate_gap, miscalibrated, direction,
        evidence,
    )  # fmt: skip


def _brier(y: np.ndarray, p: np.ndarray, task: str) -> float:
    """brier as ``lossctl eval`` computes it (multiclass: the squared error of the vector)."""
    if task == "binary":
        return float(np.mean((p - y) ** 2))
    target = y if y.ndim == 2 else np.eye(p.shape[1])[y.astype(np.intp)]
    return float(np.mean(((p - target) ** 2).sum(axis=1)))


def _top_label(y: np.ndarray, p: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Each row's confidence in its predicted class, and whether that class is right."""
    if task == "binary":
        return np.maximum(p, 1 - p), ((p >= 0.5) == (y >= 0.5)).astype(np.float64)
    top = np.argmax(p, axis=1)
    rows = np.arange(p.shape[0])
    labels = np.argmax(y, axis=1) if y.ndim == 2 else y.astype(np.intp)
    return p[rows, top], (labels == top).astype(np.float64)


def _direction(ece: float, confidence_gap: float, rate_gap: float) -> str:
    half = 0.5 * ece
    if confidence_gap >= half:
        return "over-confident"
    if confidence_gap <= -half:
        return "under-confident"
    if math.isfinite(rate_gap) and abs(rate_gap) >= half:
        side = "over" if rate_gap > 0 else "under"
        return f"{side}-predicts the positive class"
    return "miscalibrated"


def _evidence(
    task: str, direction: str, top: np.ndarray, right: np.ndarray, sums: np.ndarray, worst: int
) -> str:
    """One sentence of numbers behind the verdict: the most confident rows' accuracy
    (over-confident), else the bin that contributes most to ECE."""
    if direction == "over-confident":
        for level in _HIGH:
            rows = top >= level
            if int(rows.sum()) >= _MIN_ROWS and float(right[rows].mean()) < level:
                return (
                    f"among the {int(rows.sum())} rows given at least {pct(level)} to one "
                    f"class (mean {_high(float(top[rows].mean()))}), only "
                    f"{pct(float(right[rows].mean()))} are right"
                )
    if worst < 0:
        return ""
    from lossctl.losses.calibration import ACCURACY, CONFIDENCE, WEIGHT

    n_b = float(sums[WEIGHT][worst])
    lo, hi = worst / ECE_BINS, (worst + 1) / ECE_BINS
    close = "]" if worst == ECE_BINS - 1 else ")"
    conf_b = float(sums[CONFIDENCE][worst]) / n_b
    acc_b = float(sums[ACCURACY][worst]) / n_b
    what = "are positive" if task == "binary" else "are right"
    said = "probability" if task == "binary" else "top probability"
    return (
        f"the bin that adds most to it, {said} in [{num(lo)}, {num(hi)}{close}, holds "
        f"{int(n_b)} rows at mean {num(conf_b)}, of which {pct(acc_b)} {what}"
    )


def _high(share: float) -> str:
    """A confidence near 1 with the digits that tell it from 1: 0.99993 -> '99.99%'."""
    text = f"{100 * share:.2f}%"
    return "above 99.99%" if text == "100.00%" and share < 1 else text


def calibration_findings(out: _Findings, sample: Sample) -> None:
    """The calibration facts; ``ece`` as a diagnostic when the probabilities are
    miscalibrated (the module's rule), with the numbers."""
    m = measure_calibration(sample)
    out.fact(
        "ece", m.ece,
        f"expected calibration error, {ECE_BINS} equal-width bins (lossctl eval -l ece)",
    )  # fmt: skip
    out.fact(
        "ece_if_calibrated", m.expected,
        "the ECE calibrated probabilities would show by chance with these rows",
    )  # fmt: skip
    out.fact("ece_if_calibrated_sd", m.sd, "its standard deviation")
    out.fact(
        "ece_share_of_rms_error", m.share,
        "ECE / sqrt(brier): sqrt(brier) bounds ECE, so this is the share of that bound taken "
        "by the gap between confidence and accuracy", "share",
    )  # fmt: skip
    out.fact(
        "confidence_minus_accuracy", m.confidence_gap,
        "mean confidence in the predicted class minus the share right (> 0: over-confident)",
    )  # fmt: skip
    out.fact("miscalibrated", m.miscalibrated, "ECE is clearly above chance and large", "text")
    if not m.miscalibrated:
        return
    pred = sample.columns.pred[0] if len(sample.columns.pred) == 1 else "the model"
    evidence = f"; {m.evidence}" if m.evidence else ""
    out.add(
        "ece", ECE_PRIORITY,
        f"{pred} is {m.direction}: ECE {num(m.ece)} ({ECE_BINS} bins), where calibrated "
        f"probabilities would show about {num(m.expected)} (SD {num(m.sd)}) by chance"
        f"{evidence}. That is {pct(m.share)} of sqrt(brier) = {num(math.sqrt(m.brier))}, "
        "which bounds it.",
        "A diagnostic beside the loss, not the loss: ECE is not a proper scoring rule (a "
        "constant prediction at the base rate has ECE 0) and it depends on the binning, "
        "so choose models by the proper score above and report ECE, with its bins, to show "
        "whether the probabilities can be taken at face value. Recalibrating on held-out "
        "rows (isotonic or Platt scaling) targets it.",
    )  # fmt: skip
