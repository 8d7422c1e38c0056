"""Binned calibration errors (``ece``, ``mce``, ``rmsce``): binary and multiclass.

They have no per-sample value. A block of rows becomes per-bin sums (weight,
weighted confidence, weighted accuracy), :func:`bin_sums`, which add up across
blocks, parts, groups and workers; :func:`calibration_error` turns the summed
bins into the cost. Bins are B equal-width intervals of the confidence,
``[0, 1/B), ..., [(B-1)/B, 1]``: a confidence equal to the float ``k/B`` is in
bin k, and 1.0 is in the last bin.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from lossctl._lazy import lazy

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")

from lossctl.errors import UsageError
from lossctl.losses.multiclass import make_check
from lossctl.losses.spec import Domain, LossSpec, Param

#: Rows of a bin-sum array: the weight, the weighted confidence and the weighted accuracy.
WEIGHT, CONFIDENCE, ACCURACY = range(3)
#: The norms of the three calibration errors.
NORMS = {"ece": "l1", "mce": "max", "rmsce": "l2"}


def edges(bins: int) -> np.ndarray:
    """The B + 1 bin edges, each the float nearest k/B."""
    return np.arange(bins + 1, dtype=np.float64) / bins


def bin_index(confidence: np.ndarray, bins: int) -> np.ndarray:
    """The bin of each confidence in [0, 1]: k with edges[k] <= c < edges[k + 1], the
    last bin closed. ``floor(c * B)`` is corrected by one where rounding put it off."""
    e = edges(bins)
    idx = np.floor(confidence * bins).astype(np.intp)
    np.clip(idx, 0, bins - 1, out=idx)
    idx -= (confidence < e[idx]).astype(np.intp)
    idx += ((confidence >= e[np.minimum(idx + 1, bins)]) & (idx < bins - 1)).astype(np.intp)
    return idx


def confidence_accuracy(
    y_true: np.ndarray, y_pred: np.ndarray, task: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the confidence and the accuracy it is held to.

    Binary: the probability of the positive class, and the target (1 for a positive).
    Multiclass: the top probability, and whether its class is the label (for target
    probability rows, the target's weight on that class).
    """
    if task == "binary":
        return y_pred, y_true
    top = np.argmax(y_pred, axis=1)
    rows = np.arange(y_pred.shape[0])
    conf = y_pred[rows, top]
    if y_true.ndim == 2:
        return conf, y_true[rows, top]
    return conf, (y_true.astype(np.intp) == top).astype(np.float64)


def bin_sums(
    confidence: np.ndarray,
    accuracy: np.ndarray,
    bins: int,
    weight: np.ndarray | None = None,
    codes: np.ndarray | None = None,
    groups: int = 1,
) -> np.ndarray:
    """The (3, B) sums of one block: weight, weighted confidence, weighted accuracy per
    bin; with group ``codes`` (0..groups-1 per row), a (groups, 3, B) array."""
    idx = bin_index(confidence, bins)
    if codes is not None:
        idx = codes * bins + idx
    size = groups * bins
    w = np.ones_like(confidence) if weight is None else weight
    out = np.stack([
        np.bincount(idx, w, size),
        np.bincount(idx, w * confidence, size),
        np.bincount(idx, w * accuracy, size),
    ])  # fmt: skip
    if codes is None:
        return out
    return out.reshape(3, groups, bins).transpose(1, 0, 2)


def calibration_error(sums: np.ndarray, norm: str) -> float:
    """ECE (``l1``), MCE (``max``) or RMSCE (``l2``) of summed bins (3, B); NaN without
    weight."""
    w = sums[WEIGHT]
    total = float(w.sum())
    if not total > 0:
        return math.nan
    full = w > 0
    gap = np.abs(sums[ACCURACY][full] - sums[CONFIDENCE][full]) / w[full]
    if norm == "max":
        return float(gap.max())
    share = w[full] / total
    if norm == "l2":
        return math.sqrt(float(np.dot(share, gap * gap)))
    return float(np.dot(share, gap))


def no_per_sample(y_true: np.ndarray, y_pred: np.ndarray, *, bins: float = 15) -> np.ndarray:
    """Binned: there is no per-sample value (the cost comes from bin sums)."""
    raise UsageError(
        "a binned calibration error has no per-sample value; its cost comes from the bins "
        "of all rows (loss.cost(y_true, y_pred))."
    )


def _check_bins(name: str, params: object) -> None:
    bins = params["bins"]  # type: ignore[index]
    if float(bins) != int(bins):
        raise UsageError(f"loss '{name}': parameter 'bins' must be a whole number, got {bins:g}.")


_BINS = Param("bins", 15.0, low=1.0, high=10_000.0, help="number of equal-width confidence bins")
_PROB = Domain(
    "a probability in [0, 1]",
    low=0.0,
    high=1.0,
    fix="Calibration is of probabilities: apply the sigmoid (softmax) to logits first.",
)
_LABEL = Domain("0 or 1", values=(0.0, 1.0), fix="Map the labels to 0/1.")

_TEXT = {
    "ece": (
        "sum_b (n_b / N) |acc_b - conf_b|",
        "Expected calibration error: the weighted mean gap between accuracy and confidence "
        "over confidence bins.",
    ),
    "mce": (
        "max_b |acc_b - conf_b| over non-empty bins",
        "Maximum calibration error: the largest gap between accuracy and confidence in any "
        "non-empty bin.",
    ),
    "rmsce": (
        "sqrt(sum_b (n_b / N) (acc_b - conf_b)²)",
        "Root-mean-square calibration error over confidence bins.",
    ),
}
_EXPLAIN = (
    "Says whether the probabilities mean what they say: among the rows predicted at 70%, "
    "are 70% right? The confidences are cut into B equal-width bins, [0, 1/B), ..., "
    "[(B-1)/B, 1]; in each bin the mean confidence is set against the accuracy (binary: "
    "the share of positives; multiclass: the share whose top class is the label). "
    "ece weighs each bin's gap by its share of the rows, mce takes the largest gap, "
    "rmsce the root of the weighted mean squared gap. Sample weights replace the counts."
)
_WATCH = (
    "Not a proper scoring rule: a constant prediction at the base rate has ECE 0 and is "
    "useless, so read it beside brier or bce, which also reward sharpness. It depends on "
    "the binning (bins=10 and bins=15 give different numbers, and few rows per bin make "
    "it noisy and biased upwards); report the bins with it. No per-sample value: "
    "--per-sample leaves it out and compare tests it by paired bootstrap only."
)
_REFERENCE = {
    "binary": "torchmetrics binary_calibration_error (norm l1 / max / l2)",
    "multiclass": "torchmetrics multiclass_calibration_error (norm l1 / max / l2)",
}


def _spec(name: str, task: str) -> LossSpec:
    formula, summary = _TEXT[name]
    kind = "the probability of the positive class" if task == "binary" else "the top probability"
    return LossSpec(
        name=name,
        fn=no_per_sample,
        task=task,
        prediction_kind="probability",
        params=(_BINS,),
        formula=f"{formula}; conf = {kind}",
        summary=summary,
        explain=_EXPLAIN,
        use_when=(
            "You need to know whether predicted probabilities can be taken at face value "
            "(risk scores, thresholds chosen from probabilities, decisions by expected cost)."
        ),
        watch_out=_WATCH,
        see_also=tuple(n for n in ("ece", "mce", "rmsce", "brier", "bce") if n != name),
        robust_to_outliers=True,
        y_true_domain=_LABEL if task == "binary" else Domain(),
        y_pred_domain=_PROB if task == "binary" else Domain(),
        check=None if task == "binary" else make_check(probabilities=True, labels_only=False),
        check_params=_check_bins,
        zero_at_perfect=False,
        calibration=NORMS[name],
        reference=_REFERENCE[task],
    )


CALIBRATION: tuple[LossSpec, ...] = tuple(
    _spec(name, task) for task in ("binary", "multiclass") for name in NORMS
)
