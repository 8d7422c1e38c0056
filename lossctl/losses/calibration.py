"""Binned calibration errors (``ece``, ``mce``, ``rmsce``): binary and multiclass.

They have no per-sample value. A block of rows becomes per-bin sums (weight,
weighted confidence, weighted accuracy), :func:`bin_sums`, which add up across
blocks, parts, groups and workers; :func:`calibration_error` turns the summed
bins into the cost. Bins are B equal-width intervals of the confidence,
``[0, 1/B), ..., [(B-1)/B, 1]``: a confidence equal to the float ``k/B`` is in
bin k, and 1.0 is in the last bin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lossctl._lazy import lazy

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")

from lossctl.errors import UsageError
from lossctl.losses.binning import (  # noqa: F401  (the binning is part of this module's API)
    ACCURACY,
    CONFIDENCE,
    WEIGHT,
    bin_index,
    bin_sums,
    calibration_error,
    confidence_accuracy,
    edges,
)
from lossctl.losses.multiclass import make_check
from lossctl.losses.spec import Domain, LossSpec, Param

#: The norms of the three calibration errors.
NORMS = {"ece": "l1", "mce": "max", "rmsce": "l2"}


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
    "useless, so read it beside brier or bce, which also reward sharpness, and never "
    "choose a model by it alone. It depends on the binning (bins=10 and bins=15, the "
    "default, give different numbers, and few rows per bin make it noisy and biased "
    "upwards: even calibrated probabilities show an ECE above 0); report the bins with "
    "it. No per-sample value: "
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
