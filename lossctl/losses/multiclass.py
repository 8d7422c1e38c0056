"""Multiclass losses: K prediction columns, one per class.

``y_pred`` is an (n, K) array. ``y_true`` is either (n,) class indices 0..K-1
or (n, K) target probabilities (one-hot or soft). Probability rows that do not
sum to 1 are used as given (never renormalised); the evaluation core warns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from lossctl._lazy import lazy

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")  # imported when a loss first computes

from lossctl.errors import DomainError
from lossctl.losses.spec import MACHINE_EPS, LossSpec, Param, ParamValue, check_mask

_EPS = Param(
    "eps",
    MACHINE_EPS,
    low=0.0,
    high=0.5,
    closed="neither",
    help="Probabilities are clipped to [eps, 1] inside log.",
)
_SMOOTH = Param(
    "label_smoothing",
    0.0,
    low=0.0,
    high=1.0,
    closed="left",
    help="Mix the targets with the uniform distribution: y <- y (1 - ls) + ls / K.",
)


def _onehot(y_true: np.ndarray, k: int) -> np.ndarray:
    """(n,) class indices -> (n, K) one-hot; (n, K) targets pass through."""
    if y_true.ndim == 2:
        return y_true
    out = np.zeros((y_true.shape[0], k))
    out[np.arange(y_true.shape[0]), y_true.astype(np.intp)] = 1.0
    return out


def _labels(y_true: np.ndarray) -> np.ndarray:
    """Class indices from (n,) labels or (n, K) one-hot rows."""
    if y_true.ndim == 2:
        return np.argmax(y_true, axis=1)
    return y_true.astype(np.intp)


def _smooth(y: np.ndarray, ls: float) -> np.ndarray:
    return y * (1.0 - ls) + ls / y.shape[1] if ls else y


def cross_entropy(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    eps: float = MACHINE_EPS,
    label_smoothing: float = 0.0,
) -> np.ndarray:
    """-Σ_k y_k log clip(p_k, eps, 1). Ref: sklearn ``log_loss`` (multiclass)."""
    n = y_pred.shape[0]
    if y_true.ndim == 1 and not label_smoothing:
        # Class indices: gather the one probability that matters, no (n, K) temporary.
        p = y_pred[np.arange(n), y_true.astype(np.intp)]
        return -np.log(np.clip(p, eps, 1.0))
    y = _smooth(_onehot(y_true, y_pred.shape[1]), label_smoothing)
    logp = np.log(np.clip(y_pred, eps, 1.0))  # clip: p = 0 for a true class costs -log(eps)
    return -np.einsum("ij,ij->i", y, logp)


def _log_softmax(x: np.ndarray) -> np.ndarray:
    # log-sum-exp trick: subtract the row max so exp never overflows (logits of 1e4 are fine).
    m = np.max(x, axis=1, keepdims=True)
    z = x - m
    return z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))


def softmax_cross_entropy(
    y_true: np.ndarray, y_pred: np.ndarray, *, label_smoothing: float = 0.0
) -> np.ndarray:
    """logsumexp(x) - Σ_k y_k x_k. Ref: torch ``cross_entropy``, optax ``softmax_cross_entropy``."""
    logp = _log_softmax(y_pred)
    if y_true.ndim == 1 and not label_smoothing:
        return -logp[np.arange(y_pred.shape[0]), y_true.astype(np.intp)]
    y = _smooth(_onehot(y_true, y_pred.shape[1]), label_smoothing)
    return -np.einsum("ij,ij->i", y, logp)


def kl_div(y_true: np.ndarray, y_pred: np.ndarray, *, eps: float = MACHINE_EPS) -> np.ndarray:
    """Σ_k y_k (log y_k - log clip(q_k, eps, 1)), 0 where y_k = 0. Ref: torch ``kl_div``."""
    y = _onehot(y_true, y_pred.shape[1])
    logq = np.log(np.clip(y_pred, eps, 1.0))
    logy = np.zeros_like(y)
    np.log(y, out=logy, where=y > 0)  # 0 log 0 := 0, as torch's xlogy
    return np.einsum("ij,ij->i", y, logy - logq)


def multiclass_hinge(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Crammer-Singer max(0, 1 - s_y + max_{j != y} s_j). Ref: sklearn ``hinge_loss``."""
    n = y_pred.shape[0]
    idx = _labels(y_true)
    rows = np.arange(n)
    s_true = y_pred[rows, idx]
    others = y_pred.copy()
    others[rows, idx] = -np.inf  # exclude the true class from the max
    return np.maximum(0.0, 1.0 - s_true + others.max(axis=1))


def categorical_hinge(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """max(0, max_k((1-y_k) s_k) - Σ_k y_k s_k + 1). Ref: Keras ``CategoricalHinge``."""
    y = _onehot(y_true, y_pred.shape[1])
    pos = np.einsum("ij,ij->i", y, y_pred)
    neg = np.max((1.0 - y) * y_pred, axis=1)  # true class enters as 0, not excluded
    return np.maximum(0.0, neg - pos + 1.0)


def brier_multiclass(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Σ_k (p_k - y_k)². Ref: sklearn ``brier_score_loss`` (multiclass, 1.7+)."""
    d = y_pred - _onehot(y_true, y_pred.shape[1])
    return np.einsum("ij,ij->i", d, d)


def zero_one_multiclass(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """1 if argmax_k p_k != y else 0 (ties: first class). Ref: sklearn ``zero_one_loss``."""
    return (np.argmax(y_pred, axis=1) != _labels(y_true)).astype(np.float64)


class MulticlassCheck:
    """Domain check of a multiclass loss (a class, so specs pickle for Dask workers).

    ``probabilities``: predictions must lie in [0, 1]. ``labels_only``: a 2-D target
    must be one-hot (the loss needs a single true class).
    """

    def __init__(self, probabilities: bool, labels_only: bool) -> None:
        self.probabilities = probabilities
        self.labels_only = labels_only

    def __call__(
        self, name: str, y_true: np.ndarray, y_pred: np.ndarray, params: Mapping[str, ParamValue]
    ) -> None:
        if y_pred.ndim != 2 or y_pred.shape[1] < 2:
            raise DomainError(
                name, "y_pred", "an (n, K) array with K >= 2 class columns", count=0, rows=()
            )
        k = y_pred.shape[1]
        check_mask(name, "y_pred", y_pred, np.isfinite(y_pred).all(axis=1), "finite")
        if self.probabilities:
            ok = np.asarray(((y_pred >= 0) & (y_pred <= 1)).all(axis=1))
            check_mask(
                name,
                "y_pred",
                y_pred,
                ok,
                "probabilities in [0, 1]",
                "If these are logits or scores, use softmax_cross_entropy or multiclass_hinge.",
            )
        if y_true.ndim == 1:
            ok = np.isfinite(y_true) & (y_true >= 0) & (y_true < k) & (y_true == np.floor(y_true))
            check_mask(name, "y_true", y_true, ok, f"a class index in 0..{k - 1}")
            return
        if y_true.shape != y_pred.shape:
            raise DomainError(
                name, "y_true", f"(n, {k}) target probabilities, one column per class",
                count=0, rows=(),
            )  # fmt: skip
        ok = (np.isfinite(y_true) & (y_true >= 0) & (y_true <= 1)).all(axis=1)
        check_mask(name, "y_true", y_true, ok, "target probabilities in [0, 1]")
        if self.labels_only:
            onehot = ((y_true == 0) | (y_true == 1)).all(axis=1) & (y_true.sum(axis=1) == 1)
            check_mask(name, "y_true", y_true, onehot, "one-hot (this loss needs one true class)")


def make_check(probabilities: bool, labels_only: bool) -> MulticlassCheck:
    """The domain check of a multiclass loss."""
    return MulticlassCheck(probabilities, labels_only)


MULTICLASS: tuple[LossSpec, ...] = (
    LossSpec(
        name="cross_entropy",
        aliases=("categorical_cross_entropy", "sparse_categorical_cross_entropy"),
        fn=cross_entropy,
        task="multiclass",
        prediction_kind="probability",
        params=(_EPS, _SMOOTH),
        formula="-sum_k y_k log clip(p_k, eps, 1); label smoothing: y <- y(1 - ls) + ls/K",
        summary="Categorical cross-entropy (log loss) of class probabilities.",
        explain=(
            "The negative log of the probability the model gave to the true class (with "
            "one-hot targets), or the cross-entropy between target and predicted "
            "distributions (with soft targets). It is what softmax classifiers minimise. "
            "Guessing uniformly over K classes costs log K (1.10 for 3 classes), a "
            "useful baseline to read the cost against. Class indices (sparse), class "
            "names and one-hot/soft target columns are all accepted."
        ),
        use_when="The model outputs a probability per class (after the softmax).",
        watch_out=(
            "Unbounded for confident mistakes. With logits use softmax_cross_entropy. Rows "
            "that do not sum to 1 are reported, never silently renormalised. Frequent "
            "classes dominate the cost under imbalance."
        ),
        see_also=("softmax_cross_entropy", "kl_div", "brier"),
        check=make_check(probabilities=True, labels_only=False),
        reference="sklearn log_loss (multiclass)",
    ),
    LossSpec(
        name="softmax_cross_entropy",
        aliases=("cross_entropy_logits",),
        fn=softmax_cross_entropy,
        task="multiclass",
        prediction_kind="logit",
        params=(_SMOOTH,),
        formula="logsumexp(x) - sum_k y_k x_k, x = logits",
        summary="Cross-entropy computed from logits, stable for any finite logit.",
        explain=(
            "Cross-entropy of softmax(x) computed directly from the logits with the "
            "log-sum-exp trick, so logits of 10,000 neither overflow nor lose the tiny "
            "losses of confident right answers. This is torch's cross_entropy."
        ),
        use_when="The model outputs one raw score (logit) per class.",
        watch_out="Feeding probabilities here treats them as logits and gives wrong numbers.",
        see_also=("cross_entropy", "multiclass_hinge"),
        check=make_check(probabilities=False, labels_only=False),
        zero_at_perfect=False,
        reference="torch cross_entropy; optax softmax_cross_entropy",
    ),
    LossSpec(
        name="kl_div",
        fn=kl_div,
        task="multiclass",
        prediction_kind="probability",
        params=(_EPS,),
        formula="sum_k y_k (log y_k - log clip(q_k, eps, 1)), 0 where y_k = 0",
        summary="Kullback-Leibler divergence from the target to the predicted distribution.",
        explain=(
            "How many nats of information are lost when the predicted distribution q is "
            "used in place of the target distribution y. It equals cross-entropy minus the "
            "target's own entropy, so with one-hot targets it is the cross-entropy; with "
            "soft targets (distillation, label distributions) it is 0 exactly when q = y. "
            "Always >= 0."
        ),
        use_when="Soft target distributions: knowledge distillation, calibrated labels, VAEs.",
        watch_out=(
            "Asymmetric: KL(y || q) is not KL(q || y). A q of 0 where y > 0 costs -log(eps)."
        ),
        see_also=("cross_entropy",),
        check=make_check(probabilities=True, labels_only=False),
        reference="torch kl_div(log q, y, reduction='batchmean'), per row",
    ),
    LossSpec(
        name="multiclass_hinge",
        fn=multiclass_hinge,
        task="multiclass",
        prediction_kind="score",
        formula="max(0, 1 - s_y + max_{j != y} s_j) (Crammer-Singer)",
        summary="Crammer-Singer multiclass hinge: the true class must win by a margin of 1.",
        explain=(
            "The multiclass SVM loss: zero when the true class's score beats every other "
            "class's score by at least 1, otherwise the shortfall. Like binary hinge it "
            "ignores examples that are comfortably right."
        ),
        use_when="Multiclass margin classifiers (multiclass SVMs) scoring raw per-class outputs.",
        watch_out=(
            "Needs one true class per row (labels or one-hot). Differs from Keras's "
            "categorical_hinge when all other scores are negative."
        ),
        see_also=("categorical_hinge", "hinge"),
        check=make_check(probabilities=False, labels_only=True),
        zero_at_perfect=False,
        robust_to_outliers=True,
        reference="sklearn hinge_loss (multiclass); optax multiclass_hinge_loss",
    ),
    LossSpec(
        name="categorical_hinge",
        fn=categorical_hinge,
        task="multiclass",
        prediction_kind="score",
        formula="max(0, max_k((1 - y_k) s_k) - sum_k y_k s_k + 1)",
        summary="Keras's categorical hinge (not Crammer-Singer when other scores are < 0).",
        explain=(
            "Keras's multiclass hinge: the best wrong-class score is taken after zeroing "
            "the true class's entry, so when every other score is negative the comparison "
            "is against 0, not against the best other class. Equal to multiclass_hinge "
            "whenever some wrong class scores >= 0."
        ),
        use_when="Reproducing a Keras model's CategoricalHinge numbers.",
        watch_out="Not the textbook Crammer-Singer loss; prefer multiclass_hinge otherwise.",
        see_also=("multiclass_hinge",),
        check=make_check(probabilities=False, labels_only=False),
        zero_at_perfect=False,
        robust_to_outliers=True,
        reference="Keras CategoricalHinge",
    ),
    LossSpec(
        name="brier",
        fn=brier_multiclass,
        task="multiclass",
        prediction_kind="probability",
        formula="sum_k (p_k - y_k)²",
        summary="Multiclass Brier score: squared error of the probability vector.",
        explain=(
            "The squared distance between the predicted probability vector and the one-hot "
            "(or soft) target, summed over classes: in [0, 2]. A proper, bounded scoring "
            "rule, less dominated by a few confident mistakes than cross-entropy."
        ),
        use_when="Judging multiclass probability quality with a bounded score.",
        watch_out=(
            "Small differences among tiny probabilities barely move it. With K = 2 class "
            "columns it is twice the binary Brier score (scikit-learn halves it by default "
            "for two classes)."
        ),
        see_also=("cross_entropy", "zero_one"),
        check=make_check(probabilities=True, labels_only=False),
        robust_to_outliers=True,
        reference="sklearn brier_score_loss (multiclass, 1.7+)",
    ),
    LossSpec(
        name="zero_one",
        fn=zero_one_multiclass,
        task="multiclass",
        prediction_kind="probability",
        formula="1 if argmax_k p_k != y else 0",
        summary="0-1 loss: the error rate of the arg-max class.",
        explain=(
            "The share of rows whose highest-scoring class is not the true class: "
            "1 - accuracy. Works on probabilities, logits or scores alike, since only the "
            "arg-max matters."
        ),
        use_when="Reporting the error rate of the predicted classes.",
        watch_out="Ignores confidence; misleading under imbalance. Ties go to the first class.",
        see_also=("cross_entropy", "brier"),
        check=make_check(probabilities=False, labels_only=True),
        robust_to_outliers=True,
        reference="sklearn zero_one_loss",
    ),
)
