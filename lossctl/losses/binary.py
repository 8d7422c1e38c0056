"""Binary classification losses: target 0/1 (hinge family also -1/+1).

The prediction is a probability of the positive class, a logit, or a raw score,
as each spec's ``prediction_kind`` says. Probabilities are clipped to
``[eps, 1 - eps]`` only inside a logarithm; a probability outside [0, 1] is an
input error, never clipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from lossctl._lazy import lazy

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")  # imported when a loss first computes

from lossctl.losses.spec import MACHINE_EPS, Domain, LossSpec, Param, ParamValue, check_mask

_PROB = Domain(
    "a probability in [0, 1]",
    low=0.0,
    high=1.0,
    fix="If these are logits or margin scores, use bce_logits or hinge instead.",
)
_SOFT_LABEL = Domain(
    "in [0, 1] (0/1 labels or soft targets)",
    low=0.0,
    high=1.0,
    fix="Map the labels to 0/1 (e.g. -1 -> 0).",
)
_SIGNED_LABEL = Domain(
    "a label in {-1, 0, 1}", values=(-1.0, 0.0, 1.0), fix="Use labels 0/1 or -1/1."
)
_EPS = Param(
    "eps",
    MACHINE_EPS,
    low=0.0,
    high=0.5,
    closed="neither",
    help="Probabilities are clipped to [eps, 1 - eps] inside log (1e-7 reproduces Keras).",
)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)) without overflow: exp(-|x|) never overflows, so x >= 0 takes
    1 / (1 + e^-x) and x < 0 takes e^x / (1 + e^x)."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _log_clipped(p: np.ndarray, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """log(p) and log(1 - p) with p clipped to [eps, 1 - eps] (sklearn's guard for p in {0, 1})."""
    q = np.clip(p, eps, 1.0 - eps)
    return np.log(q), np.log1p(-q)  # log1p(-q): exact 1 - q for small q


def bce(y_true: np.ndarray, y_pred: np.ndarray, *, eps: float = MACHINE_EPS) -> np.ndarray:
    """-[y log p + (1-y) log(1-p)]. Ref: sklearn ``log_loss``."""
    log_p, log_1mp = _log_clipped(y_pred, eps)
    return -(y_true * log_p + (1.0 - y_true) * log_1mp)


def bce_logits(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """max(x, 0) - x·y + log1p(exp(-|x|)). Ref: torch ``binary_cross_entropy_with_logits``."""
    x = y_pred
    # Stable softplus: log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)); exp never overflows,
    # so logits of ±1e4 give exact losses (0 or |x|) instead of inf or nan.
    return np.maximum(x, 0.0) - x * y_true + np.log1p(np.exp(-np.abs(x)))


def focal(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    *,
    gamma: float = 2.0,
    alpha: float | None = None,
    eps: float = MACHINE_EPS,
) -> np.ndarray:
    """-α_t (1 - p_t)^γ log p_t. Ref: Keras ``BinaryFocalCrossentropy`` (Lin et al. 2017)."""
    # Keras's form: focal factor (1 - p_t)^γ from the unclipped p, times the clipped bce;
    # p_t = y p + (1-y)(1-p) also handles soft targets.
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    out = np.power(1.0 - p_t, gamma) * bce(y_true, y_pred, eps=eps)
    if alpha is not None:
        out *= y_true * alpha + (1.0 - y_true) * (1.0 - alpha)
    return out


def _signs(y_true: np.ndarray) -> np.ndarray:
    """Labels {0, 1} or {-1, 1} as signs t in {-1, +1}."""
    return np.where(y_true > 0, 1.0, -1.0)


def hinge(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """max(0, 1 - t·f). Ref: sklearn ``hinge_loss`` (binary), Keras ``Hinge``."""
    return np.maximum(0.0, 1.0 - _signs(y_true) * y_pred)


def squared_hinge(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """max(0, 1 - t·f)². Ref: Keras ``SquaredHinge``."""
    h = hinge(y_true, y_pred)
    return np.square(h, out=h)


def brier(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """(p - y)². Ref: sklearn ``brier_score_loss``."""
    d = np.subtract(y_pred, y_true)
    return np.square(d, out=d)


def zero_one(y_true: np.ndarray, y_pred: np.ndarray, *, threshold: float = 0.5) -> np.ndarray:
    """1 if (p >= threshold) != y else 0. Ref: sklearn ``zero_one_loss``."""
    return ((y_pred >= threshold) != (y_true > 0)).astype(np.float64)


def _signed_labels_check(
    name: str, y_true: np.ndarray, y_pred: np.ndarray, params: Mapping[str, ParamValue]
) -> None:
    """Labels are {0, 1} or {-1, 1}: 0 and -1 together are ambiguous."""
    has_zero = y_true == 0
    if has_zero.any() and (y_true == -1).any():
        check_mask(
            name,
            "y_true",
            y_true,
            ~has_zero,
            "labels 0/1 or -1/1, not both 0 and -1",
            "Map the negative class to one value.",
        )


BINARY: tuple[LossSpec, ...] = (
    LossSpec(
        name="bce",
        aliases=("log_loss", "binary_cross_entropy"),
        fn=bce,
        task="binary",
        prediction_kind="probability",
        params=(_EPS,),
        formula="-[y log p + (1 - y) log(1 - p)], p clipped to [eps, 1 - eps]",
        summary="Binary cross-entropy (log loss) of predicted probabilities: the standard.",
        explain=(
            "The negative log-likelihood of the labels under the predicted probabilities: "
            "the 'surprise' of the true outcome. A confident right answer costs almost 0, "
            "a hesitant one (p = 0.5) costs log 2 = 0.693, and a confident wrong answer "
            "costs without bound (p = 0.001 for a positive costs 6.9). It measures how good "
            "the probabilities are, not only the decisions, and it is what logistic "
            "regression and sigmoid output layers minimise. Soft targets in [0, 1] are allowed."
        ),
        use_when="The model outputs probabilities of the positive class (after the sigmoid).",
        watch_out=(
            "A probability of exactly 0 or 1 on the wrong side costs -log(eps) ~ 36; clipping "
            "hides, but does not excuse, over-confidence. If the column holds logits, use "
            "bce_logits (passing logits here is an error). Under heavy class imbalance the "
            "cost is dominated by the majority class: consider focal or weights."
        ),
        see_also=("bce_logits", "focal", "brier"),
        y_true_domain=_SOFT_LABEL,
        y_pred_domain=_PROB,
        reference="sklearn log_loss (eps = float64 machine epsilon); eps=1e-7 reproduces Keras",
    ),
    LossSpec(
        name="bce_logits",
        aliases=("sigmoid_cross_entropy",),
        fn=bce_logits,
        task="binary",
        prediction_kind="logit",
        formula="max(x, 0) - x y + log1p(exp(-|x|)), x = logit",
        summary="Binary cross-entropy computed from logits, exact for any finite logit.",
        explain=(
            "The same quantity as bce, computed from the logit x (the raw output before the "
            "sigmoid) with the log-sum-exp trick. No probability is ever formed, so there "
            "is nothing to clip: a logit of 40 (p = 1 - 4e-18) still gets its exact, tiny "
            "loss, and a logit of -10,000 on a positive costs exactly 10,000."
        ),
        use_when="The model outputs logits (a logistic model's decision_function, a linear layer).",
        watch_out=(
            "Feeding probabilities here treats them as logits (p = 0.9 becomes sigmoid(0.9) = "
            "0.71): check the column really holds logits."
        ),
        see_also=("bce", "hinge"),
        y_true_domain=_SOFT_LABEL,
        zero_at_perfect=False,
        reference="torch binary_cross_entropy_with_logits; optax sigmoid_binary_cross_entropy",
    ),
    LossSpec(
        name="focal",
        fn=focal,
        task="binary",
        prediction_kind="probability",
        params=(
            Param("gamma", 2.0, low=0.0, help="Focusing strength; 0 gives bce (times alpha_t)."),
            Param(
                "alpha",
                None,
                low=0.0,
                high=1.0,
                help="Weight of the positive class; unset = no class balancing.",
            ),
            _EPS,
        ),
        formula="-alpha_t (1 - p_t)^gamma log p_t, p_t = p if y = 1 else 1 - p",
        summary="Focal loss: cross-entropy that down-weights easy examples (imbalance).",
        explain=(
            "Cross-entropy multiplied by (1 - p_t)^gamma, where p_t is the probability given "
            "to the true class. Well-classified examples (p_t near 1) contribute almost "
            "nothing, so the cost concentrates on the hard, misclassified ones; with "
            "gamma = 2 an example at p_t = 0.9 counts 100 times less than under bce. "
            "Optional alpha re-weights the positive class (alpha) against the negative "
            "(1 - alpha). Introduced for dense object detection, where easy background "
            "examples outnumber objects by 1000:1."
        ),
        use_when="Strong class imbalance with many easy negatives (rare-event detection).",
        watch_out=(
            "Not a proper scoring rule for gamma > 0: a lower focal loss does not mean better "
            "calibrated probabilities; check brier or bce too. Keras uses alpha = 0.25 only "
            "with apply_class_balancing=True; lossctl applies alpha only when you set it."
        ),
        see_also=("bce", "brier"),
        y_true_domain=_SOFT_LABEL,
        y_pred_domain=_PROB,
        reference="Keras BinaryFocalCrossentropy (alpha unset = apply_class_balancing=False)",
    ),
    LossSpec(
        name="hinge",
        fn=hinge,
        task="binary",
        prediction_kind="score",
        formula="max(0, 1 - t f), t in {-1, +1} (labels 0/1 map to -1/+1)",
        summary="Hinge loss of margin scores: the SVM loss.",
        explain=(
            "Zero when the score has the right sign with a margin of at least 1 (t f >= 1), "
            "and growing linearly as the score falls short of that margin or lands on the "
            "wrong side. Examples classified correctly with room to spare cost nothing, so "
            "it cares only about points near or across the decision boundary: the idea "
            "behind the maximum-margin classifier (SVM)."
        ),
        use_when="Margin classifiers (SVMs, linear models trained with hinge) scoring raw f(x).",
        watch_out=(
            "Expects scores, not probabilities: a probability of 0.9 for the positive class "
            "still costs 0.1. It says nothing about calibration. Labels may be 0/1 or -1/1."
        ),
        see_also=("squared_hinge", "bce_logits", "zero_one"),
        y_true_domain=_SIGNED_LABEL,
        check=_signed_labels_check,
        zero_at_perfect=False,
        reference="sklearn hinge_loss (binary); Keras Hinge",
    ),
    LossSpec(
        name="squared_hinge",
        fn=squared_hinge,
        task="binary",
        prediction_kind="score",
        formula="max(0, 1 - t f)²",
        summary="Squared hinge: smooth margin loss that punishes large violations more.",
        explain=(
            "The hinge loss squared: still zero beyond the margin, but differentiable at it "
            "and quadratic for violations, so badly misclassified points weigh more. It is "
            "the default loss of scikit-learn's LinearSVC."
        ),
        use_when="Margin classifiers where a smooth loss or a stronger push on errors is wanted.",
        watch_out="More sensitive to mislabelled points than hinge. Expects scores.",
        see_also=("hinge",),
        y_true_domain=_SIGNED_LABEL,
        check=_signed_labels_check,
        zero_at_perfect=False,
        reference="Keras SquaredHinge",
    ),
    LossSpec(
        name="brier",
        fn=brier,
        task="binary",
        prediction_kind="probability",
        formula="(p - y)²",
        summary="Brier score: squared error of probabilities; bounded, calibration-aware.",
        explain=(
            "The mean squared difference between the predicted probability and the 0/1 "
            "outcome. A proper scoring rule like log loss, but bounded in [0, 1]: a confident "
            "wrong answer costs at most 1 instead of infinity, so it is less swayed by a few "
            "over-confident mistakes. Always predicting the base rate b scores b(1 - b)."
        ),
        use_when="Judging probability quality (calibration and sharpness) robustly.",
        watch_out=(
            "Less sensitive than log loss to differences among very small probabilities "
            "(0.01 vs 0.0001), which matter for rare events."
        ),
        see_also=("bce", "zero_one"),
        y_true_domain=_SOFT_LABEL,
        y_pred_domain=_PROB,
        robust_to_outliers=True,
        reference="sklearn brier_score_loss (binary)",
    ),
    LossSpec(
        name="zero_one",
        fn=zero_one,
        task="binary",
        prediction_kind="probability",
        params=(
            Param(
                "threshold",
                0.5,
                help="Predict positive when the prediction is >= threshold (0 for scores).",
            ),
        ),
        formula="1 if (p >= threshold) != y else 0",
        summary="0-1 loss: the error rate (1 - accuracy) at a threshold.",
        explain=(
            "Counts wrong decisions: the cost is the misclassification rate, 1 - accuracy. "
            "It is what is often finally cared about, but it is flat almost everywhere, so "
            "it cannot be trained on directly and it ignores how confident a prediction "
            "was. With threshold=0 it scores logits or margin scores."
        ),
        use_when="Reporting the error rate of the decisions a model would make.",
        watch_out=(
            "Blind to confidence and calibration; misleading under class imbalance (always "
            "predicting the majority class of a 99:1 problem scores 0.01)."
        ),
        see_also=("bce", "brier", "hinge"),
        y_true_domain=_SIGNED_LABEL,
        check=_signed_labels_check,
        robust_to_outliers=True,
        reference="sklearn zero_one_loss",
    ),
)
