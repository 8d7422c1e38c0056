"""Multilabel losses that look at a row's K labels together (every binary loss also
applies label by label, with the mean over the labels as the per-sample value).

``fn(y_true (n, K) of 0/1, y_pred (n, K), **params) -> ndarray (n,)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lossctl._lazy import lazy

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")  # imported when a loss first computes

from lossctl.losses.spec import Domain, LossSpec, Param


def subset_zero_one(
    y_true: np.ndarray, y_pred: np.ndarray, *, threshold: float = 0.5
) -> np.ndarray:
    """1 if any of the K labels is wrong, else 0. Ref: sklearn ``zero_one_loss`` on a
    label-indicator matrix (subset accuracy)."""
    return ((y_pred >= threshold) != (y_true > 0)).any(axis=1).astype(np.float64)


MULTILABEL: tuple[LossSpec, ...] = (
    LossSpec(
        name="subset_zero_one",
        fn=subset_zero_one,
        task="multilabel",
        prediction_kind="probability",
        params=(
            Param(
                "threshold",
                0.5,
                help="Predict a label when its prediction is >= threshold (0 for logits).",
            ),
        ),
        formula="1 if any label's decision (p_k >= threshold) differs from y_k else 0",
        summary="Subset 0-1 loss: the share of rows with any label wrong (1 - exact match).",
        explain=(
            "A row counts as an error unless every one of its K labels is decided right, "
            "so the cost is 1 - subset accuracy. zero_one on multilabel data is the Hamming "
            "loss instead: the share of the K x n single decisions that are wrong. Hamming "
            "gives credit for each right label; subset 0-1 only for an entirely right row, "
            "and grows quickly with K (10 labels each right 95% of the time leave only 60% "
            "of rows right)."
        ),
        use_when="Multilabel outputs that are only useful when the whole set is right.",
        watch_out=(
            "Harsh and coarse with many labels; report zero_one (Hamming) and a proper "
            "score such as bce beside it."
        ),
        see_also=("zero_one", "bce", "brier"),
        y_true_domain=Domain("0 or 1", values=(0.0, 1.0), fix="Multilabel targets are 0/1."),
        robust_to_outliers=True,
        reference="sklearn zero_one_loss on a label-indicator matrix",
    ),
)
