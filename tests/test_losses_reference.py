"""Golden reference values: every built-in loss against the library it claims to match.

``../shared/LOSSES.md`` says which library each loss matches to 1e-9 relative. This
module turns each of those claims into a test:

* scikit-learn (a dev dependency) is called inside the tests on fixed random data,
  unweighted and with ``sample_weight``.
* PyTorch, Keras and optax are *not* imported (CI has none of them). Their values were
  computed once in a separate environment and are pasted below as literals; the comment
  above each literal gives the library, its version and the exact call, and the inputs
  are the literal arrays defined in this file, so every number can be reproduced.
* Losses without a library (pseudo_huber, smape) are checked against hand-worked
  values, with the working in the comment.

``test_every_loss_has_a_reference`` fails when a loss in the registry has no reference
test here, so a new loss cannot be added without one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from lossctl.errors import LossctlError
from lossctl.losses import BoundLoss, builtin_registry, layout_of

REG = builtin_registry()
RTOL = 1e-9  # the agreement LOSSES.md promises on float64 input
KERAS_F32_RTOL = 1e-6  # Keras as shipped computes in float32 (see KERAS_F32 below)
MACHINE_EPS = float(np.finfo(np.float64).eps)

# ---------------------------------------------------------------------------------------
# Coverage bookkeeping: each reference test declares which (name, task) it checks.
# ---------------------------------------------------------------------------------------

_COVERED: dict[tuple[str, str, str], list[str]] = {}


def covers(*keys: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Record that the decorated test checks these losses ("name", "name/task" or
    "name/task/kind" for a distribution loss such as quantile/regression/quantiles)."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        for key in keys:
            name, task, kind = [*key.split("/"), "", ""][:3]
            spec = REG.get(name, task or None, kind or None)
            slot = (spec.name, spec.task, layout_of(spec.prediction_kind))
            _COVERED.setdefault(slot, []).append(fn.__name__)
        return fn

    return deco


def loss(text: str, task: str | None = None, **params: Any) -> BoundLoss:
    """``loss("huber:delta=2")`` or ``loss("huber", delta=2)``; ``task`` for brier/zero_one."""
    return REG.loss(text, task=task, **params)


def approx(expected: float, rel: float = RTOL) -> Any:
    """pytest.approx with a relative tolerance only: its default abs=1e-12 would accept any
    tiny value (0.0 == pytest.approx(5e-17, rel=1e-12) is True)."""
    return pytest.approx(expected, rel=rel, abs=0.0)


def arr(x: Any) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


# ---------------------------------------------------------------------------------------
# Literal inputs of the torch / Keras / optax references. The generator converted them
# with torch.tensor(x, dtype=torch.float64), jnp.asarray(x, dtype=jnp.float64) (after
# jax.config.update("jax_enable_x64", True)) or np.asarray(x, dtype=np.float64); Keras
# got binary/regression inputs as columns, np.asarray(x)[:, None].
# ---------------------------------------------------------------------------------------

# residuals r = y_pred - y_true: 0.2 1.5 2.75 -0.125 -2.25 -9 1 2.5 1.2 -0.01
REG_TRUE = [0.1, -1.25, 2.0, 3.5, -0.75, 10.0, 0.0, 4.25, 0.7, -2.3]
REG_PRED = [0.3, 0.25, 4.75, 3.375, -3.0, 1.0, 1.0, 6.75, 1.9, -2.31]
REG_W = [1.0, 0.5, 2.0, 3.0, 0.25, 1.5, 0.0, 2.0, 0.7, 1.2]

# probabilities include exact 0 and 1, right (rows 4, 5) and wrong (rows 6, 7)
BIN_TRUE = [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0]
BIN_PROB = [0.9, 0.1, 0.35, 0.8, 1.0, 0.0, 0.0, 1.0, 0.5, 0.97]
BIN_SCORE = [2.0, -0.5, 0.3, 1.7, -3.0, 0.0, 0.95, -1.2, 1.0, -0.1]
# logits of +-40 and +-1e4, right and wrong
LOGIT_TRUE = [1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 1.0]
LOGIT = [2.5, -1.0, 0.3, 40.0, -40.0, 1e4, -1e4, 1e4, -1e4, 0.0]
SOFT_TRUE = [0.3, 0.7, 0.5, 0.0, 1.0, 0.25]
SOFT_LOGIT = [1.2, -0.4, 0.0, 3.0, -2.0, 7.5]
SOFT_PROB = [0.2, 0.6, 0.5, 0.95, 0.1, 0.999]
# log_cosh extremes: r = 1e4, -1e4, 1e-8, 0.5, -800
LC_TRUE = [0.0, 1e4, 0.0, 1.0, 800.0]
LC_PRED = [1e4, 0.0, 1e-8, 1.5, 0.0]

# rows 2 and 3 hold logits of +-1e4 (right and wrong); row 5 is uniform
MC_LOGIT_TRUE = [0, 2, 0, 2, 1, 1]
MC_LOGIT = [
    [2.0, 0.5, -1.0],
    [0.1, 0.2, 0.3],
    [1e4, 0.0, -1e4],
    [1e4, 0.0, -1e4],
    [-3.0, 4.0, 0.5],
    [0.0, 0.0, 0.0],
]
MC_SOFT = [  # soft / one-hot target probabilities, one row per MC_LOGIT row
    [0.7, 0.2, 0.1],
    [0.0, 0.5, 0.5],
    [1.0, 0.0, 0.0],
    [0.1, 0.1, 0.8],
    [0.3, 0.3, 0.4],
    [0.0, 0.0, 1.0],
]
KL_Q = [  # predicted probabilities, all > 0 (torch takes their log)
    [0.6, 0.3, 0.1],
    [0.2, 0.2, 0.6],
    [0.9, 0.05, 0.05],
    [0.25, 0.25, 0.5],
    [1 / 3, 1 / 3, 1 / 3],
    [0.1, 0.2, 0.7],
]
# row 0: true class 0, every other score negative (Crammer-Singer != Keras there)
MC_SCORE_TRUE = [0, 2, 0, 2, 0, 1]
MC_SCORE = [
    [0.5, -0.3, -2.0],
    [1.5, 0.2, 2.0],
    [0.3, 0.9, 0.1],
    [-1.0, 2.0, 1.5],
    [3.0, -1.0, 0.0],
    [0.2, 0.1, -0.4],
]


def onehot(labels: list[int], k: int = 3) -> np.ndarray:
    return np.eye(k)[labels]


# ---------------------------------------------------------------------------------------
# Random data for the scikit-learn references (computed inside the tests).
# ---------------------------------------------------------------------------------------

Data = tuple[np.ndarray, np.ndarray, np.ndarray]  # y_true, y_pred, sample_weight


@pytest.fixture(scope="module")
def reg_data() -> dict[str, Data]:
    """Regression inputs by domain, each with its own sample weights (some 0)."""
    rng = np.random.default_rng(20240611)
    n = 40

    def w() -> np.ndarray:
        out = rng.uniform(0.0, 3.0, n)
        out[[3, 17]] = 0.0
        return out

    y = rng.normal(0.0, 3.0, n)
    signed = (y, y + rng.standard_t(3, n), w())
    y_zero = signed[0].copy()
    y_zero[[0, 5]] = 0.0  # mape divides by max(|y|, eps) there, as sklearn does
    pos = rng.gamma(2.0, 1.5, n) + 0.05
    positive = (pos, pos * np.exp(rng.normal(0.0, 0.4, n)), w())
    counts = rng.poisson(2.0, n).astype(np.float64)
    counts[:3] = 0.0  # 0 log 0 = 0
    return {
        "signed": signed,
        "signed_zero_true": (y_zero, signed[1], signed[2]),
        "above_minus_1": (rng.uniform(-0.9, 20.0, n), rng.uniform(-0.9, 20.0, n), w()),
        "positive": positive,
        "counts": (counts, rng.gamma(2.0, 1.0, n) + 0.1, w()),
        "signed_true_positive_pred": (y, positive[1], w()),
    }


@pytest.fixture(scope="module")
def bin_data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    n = 40
    y = rng.integers(0, 2, n).astype(np.float64)
    p = rng.uniform(0.0, 1.0, n)
    y[:4] = [1.0, 0.0, 1.0, 0.0]
    p[:4] = [1.0, 0.0, 0.0, 1.0]  # exact 0/1, right and wrong: sklearn's clipping matters
    p[4] = 0.5  # on the zero_one threshold
    score = rng.normal(0.0, 1.5, n)
    score[5] = 0.0
    return {"y": y, "p": p, "score": score, "w": rng.uniform(0.0, 2.0, n)}


@pytest.fixture(scope="module")
def mc_data() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    n, k = 40, 4
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)  # every class present
    p = rng.dirichlet(np.ones(k), n)
    p[k] = np.eye(k)[y[k]]  # exactly one-hot and right
    p[k + 1] = np.eye(k)[(y[k + 1] + 1) % k]  # exactly one-hot and wrong: clipped log
    return {"y": y, "p": p, "score": rng.normal(0.0, 2.0, (n, k)), "w": rng.uniform(0, 2, n)}


# ---------------------------------------------------------------------------------------
# scikit-learn 1.9: regression
# ---------------------------------------------------------------------------------------

SKLEARN_REGRESSION = [
    # (lossctl spec, sklearn function, its keyword arguments, reg_data key)
    ("mse", skm.mean_squared_error, {}, "signed"),
    ("rmse", skm.root_mean_squared_error, {}, "signed"),
    ("mae", skm.mean_absolute_error, {}, "signed"),
    ("msle", skm.mean_squared_log_error, {}, "above_minus_1"),
    ("rmsle", skm.root_mean_squared_log_error, {}, "above_minus_1"),
    ("mape", skm.mean_absolute_percentage_error, {}, "positive"),
    ("mape", skm.mean_absolute_percentage_error, {}, "signed_zero_true"),
    ("quantile", skm.mean_pinball_loss, {}, "signed"),
    ("quantile:alpha=0.9", skm.mean_pinball_loss, {"alpha": 0.9}, "signed"),
    ("pinball:alpha=0.1", skm.mean_pinball_loss, {"alpha": 0.1}, "positive"),
    ("poisson_deviance", skm.mean_poisson_deviance, {}, "counts"),
    ("gamma_deviance", skm.mean_gamma_deviance, {}, "positive"),
    ("tweedie_deviance", skm.mean_tweedie_deviance, {}, "signed"),
    ("tweedie_deviance:power=-0.5", skm.mean_tweedie_deviance, {"power": -0.5},
     "signed_true_positive_pred"),
    ("tweedie_deviance:power=0", skm.mean_tweedie_deviance, {"power": 0}, "signed"),
    ("tweedie_deviance:power=1", skm.mean_tweedie_deviance, {"power": 1}, "counts"),
    ("tweedie_deviance:power=1.5", skm.mean_tweedie_deviance, {"power": 1.5}, "counts"),
    ("tweedie_deviance:power=2", skm.mean_tweedie_deviance, {"power": 2}, "positive"),
    ("tweedie_deviance:power=3", skm.mean_tweedie_deviance, {"power": 3}, "positive"),
]  # fmt: skip


@covers("mse", "rmse", "mae", "msle", "rmsle", "mape", "quantile", "poisson_deviance",
        "gamma_deviance", "tweedie_deviance")  # fmt: skip
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize(
    ("spec", "sk_fn", "kwargs", "key"),
    SKLEARN_REGRESSION,
    ids=[f"{s}-{k}" for s, _, _, k in SKLEARN_REGRESSION],
)
def test_regression_matches_sklearn(reg_data, spec, sk_fn, kwargs, key, weighted):
    y, p, w = reg_data[key]
    weight = w if weighted else None
    expected = sk_fn(y, p, sample_weight=weight, **kwargs)
    assert loss(spec).cost(y, p, weight) == approx(expected)


@covers("rmse")
def test_weighted_rmse_is_sqrt_of_weighted_mean(reg_data):
    # sklearn root_mean_squared_error(sample_weight=w) = sqrt(sum(w r²) / sum(w)),
    # not the weighted mean of |r|: the finalize step is applied to the weighted mean.
    y, p, w = reg_data["signed"]
    expected = skm.root_mean_squared_error(y, p, sample_weight=w)
    assert expected == approx(math.sqrt(np.average((p - y) ** 2, weights=w)), rel=1e-12)
    assert loss("rmse").cost(y, p, w) == approx(expected)
    assert loss("rmse").cost(y, p, w) == approx(math.sqrt(loss("mse").cost(y, p, w)))


# ---------------------------------------------------------------------------------------
# scikit-learn 1.9: binary classification
# ---------------------------------------------------------------------------------------


@covers("bce")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_bce_matches_sklearn_log_loss(bin_data, weighted):
    # sklearn clips to [eps, 1 - eps], eps = float64 machine epsilon: rows 0-3 hold
    # exact 0/1 probabilities (right and wrong), so the clipping is part of the value.
    y, p = bin_data["y"], bin_data["p"]
    w = bin_data["w"] if weighted else None
    expected = skm.log_loss(y, p, sample_weight=w)
    assert loss("bce").cost(y, p, w) == approx(expected)
    assert loss("log_loss").cost(y, p, w) == approx(expected)
    # a confident miss costs -log(eps) = 36.04, as in sklearn
    right, miss = -math.log1p(-MACHINE_EPS), -math.log(MACHINE_EPS)
    np.testing.assert_allclose(
        loss("bce").per_sample(y[:4], p[:4]), [right, right, miss, miss], rtol=1e-12
    )


@covers("hinge")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("signed", [False, True], ids=["labels01", "labels-1+1"])
def test_hinge_matches_sklearn(bin_data, weighted, signed):
    y, f = bin_data["y"], bin_data["score"]
    if signed:
        y = 2.0 * y - 1.0
    w = bin_data["w"] if weighted else None
    expected = skm.hinge_loss(y, f, sample_weight=w)
    assert loss("hinge").cost(y, f, w) == approx(expected)


@covers("brier/binary")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_binary_brier_matches_sklearn(bin_data, weighted):
    # sklearn brier_score_loss on a 1-D probability: mean of (p - y)² (scale_by_half
    # "auto" halves its two-column sum, which is the same number).
    y, p = bin_data["y"], bin_data["p"]
    w = bin_data["w"] if weighted else None
    expected = skm.brier_score_loss(y, p, sample_weight=w)
    assert loss("brier", task="binary").cost(y, p, w) == approx(expected)


@covers("zero_one/binary")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_binary_zero_one_matches_sklearn(bin_data, weighted):
    y, p, f = bin_data["y"], bin_data["p"], bin_data["score"]
    w = bin_data["w"] if weighted else None
    zero_one = loss("zero_one", task="binary")
    # sklearn zero_one_loss on the thresholded decisions (p >= 0.5 is positive; p[4] = 0.5)
    expected = skm.zero_one_loss(y, (p >= 0.5).astype(int), sample_weight=w)
    assert zero_one.cost(y, p, w) == approx(expected)
    # scores with threshold=0 (score[5] = 0 counts as positive)
    expected = skm.zero_one_loss(y, (f >= 0).astype(int), sample_weight=w)
    assert loss("zero_one:threshold=0", task="binary").cost(y, f, w) == approx(expected)


# ---------------------------------------------------------------------------------------
# scikit-learn 1.9: multiclass
# ---------------------------------------------------------------------------------------

LABELS4 = [0, 1, 2, 3]


@covers("cross_entropy")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_cross_entropy_matches_sklearn_log_loss(mc_data, weighted):
    # sklearn clips to [eps, 1 - eps]; lossctl to [eps, 1] (LOSSES.md). The only
    # difference is a true-class probability of exactly 1 (row 4): sklearn charges
    # -log(1 - eps) = 2.2e-16 there, lossctl 0, far below 1e-9 of the mean.
    y, p = mc_data["y"], mc_data["p"]
    w = mc_data["w"] if weighted else None
    expected = skm.log_loss(y, p, sample_weight=w, labels=LABELS4)
    ce = loss("cross_entropy")
    assert ce.cost(y.astype(float), p, w) == approx(expected)
    assert ce.cost(np.eye(4)[y], p, w) == approx(expected)  # one-hot target


@covers("multiclass_hinge")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_multiclass_hinge_matches_sklearn_crammer_singer(mc_data, weighted):
    y, s = mc_data["y"], mc_data["score"]
    w = mc_data["w"] if weighted else None
    expected = skm.hinge_loss(y, s, labels=LABELS4, sample_weight=w)
    assert loss("multiclass_hinge").cost(y, s, w) == approx(expected)
    # the sklearn call on the literal scores used for optax below
    assert skm.hinge_loss(MC_SCORE_TRUE, arr(MC_SCORE), labels=[0, 1, 2]) == approx(
        loss("multiclass_hinge").cost(arr(MC_SCORE_TRUE), arr(MC_SCORE))
    )


@covers("brier/multiclass")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_multiclass_brier_matches_sklearn(mc_data, weighted):
    # sklearn >= 1.7 brier_score_loss with (n, K) probabilities: mean over rows of
    # sum_k (p_k - y_k)², range [0, 2], *unscaled* when K >= 3 (scale_by_half="auto").
    y, p = mc_data["y"], mc_data["p"]
    w = mc_data["w"] if weighted else None
    expected = skm.brier_score_loss(y, p, labels=LABELS4, sample_weight=w)
    assert loss("brier", task="multiclass").cost(y, p, w) == approx(expected)


@covers("brier/multiclass")
def test_multiclass_brier_two_columns_is_halved_by_sklearn(bin_data):
    # Disagreement: with K = 2 probability columns sklearn 1.9's scale_by_half="auto"
    # halves the class sum (to match the binary Brier score); lossctl's multiclass brier
    # is always the class sum, like K >= 3. scale_by_half=False gives lossctl's number.
    y, p1 = bin_data["y"], bin_data["p"]
    p = np.column_stack([1.0 - p1, p1])
    ours = loss("brier", task="multiclass").cost(y, p)
    assert ours == approx(skm.brier_score_loss(y, p, scale_by_half=False))
    assert ours == approx(2.0 * skm.brier_score_loss(y, p))
    assert ours == approx(2.0 * loss("brier", task="binary").cost(y, p1))


@covers("zero_one/multiclass")
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_multiclass_zero_one_matches_sklearn(mc_data, weighted):
    y, p, s = mc_data["y"], mc_data["p"], mc_data["score"]
    w = mc_data["w"] if weighted else None
    zero_one = loss("zero_one", task="multiclass")
    for pred in (p, s):  # probabilities or scores: only the argmax matters
        expected = skm.zero_one_loss(y, pred.argmax(axis=1), sample_weight=w)
        assert zero_one.cost(y, pred, w) == approx(expected)


# ---------------------------------------------------------------------------------------
# Literal references from torch, optax and Keras.
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Golden:
    """One pasted library value: the reduced ``mean`` and/or its ``per_sample`` values."""

    id: str
    loss: str
    y_true: Any
    y_pred: Any
    mean: float | None = None
    per_sample: list[float] | None = None
    task: str | None = None
    rtol: float = RTOL

    def check(self) -> None:
        bound = loss(self.loss, task=self.task)
        y, p = arr(self.y_true), arr(self.y_pred)
        if self.per_sample is not None:
            np.testing.assert_allclose(bound.per_sample(y, p), self.per_sample, rtol=self.rtol)
        expected = self.mean if self.mean is not None else float(np.mean(self.per_sample))
        assert bound.cost(y, p) == approx(expected, rel=self.rtol)


def _ids(cases: list[Golden]) -> list[str]:
    return [c.id for c in cases]


# PyTorch 2.13.0+cpu, every input torch.tensor(x, dtype=torch.float64), F = torch.nn.functional,
# y = REG_TRUE, p = REG_PRED unless stated; "none" lists are reduction="none".
HUBER_D1_NONE = [0.019999999999999997, 1.0, 2.25, 0.0078125, 1.75, 8.5, 0.5, 2.0, 0.7,
                 5.0000000000002306e-05]  # fmt: skip
HUBER_D25_NONE = [0.019999999999999997, 1.125, 3.75, 0.0078125, 2.53125, 19.375, 0.5, 3.125,
                  0.72, 5.0000000000002306e-05]  # fmt: skip
TORCH = [
    # F.mse_loss(p, y, reduction="mean") / reduction="none"
    Golden("mse_loss", "mse", REG_TRUE, REG_PRED, mean=10.4620725, per_sample=[
        0.039999999999999994, 2.25, 7.5625, 0.015625, 5.0625, 81.0, 1.0, 6.25, 1.44,
        0.00010000000000000461]),
    # F.l1_loss(p, y, reduction="mean") / reduction="none"
    Golden("l1_loss", "l1", REG_TRUE, REG_PRED, mean=2.0535, per_sample=[
        0.19999999999999998, 1.5, 2.75, 0.125, 2.25, 9.0, 1.0, 2.5, 1.2, 0.010000000000000231]),
    # F.huber_loss(p, y, delta=1.0, reduction="mean") / reduction="none"
    Golden("huber_loss-delta1", "huber", REG_TRUE, REG_PRED, mean=1.6727862500000001,
           per_sample=HUBER_D1_NONE),
    # F.huber_loss(p, y, delta=2.5, reduction="mean") / reduction="none"
    Golden("huber_loss-delta2.5", "huber:delta=2.5", REG_TRUE, REG_PRED, mean=3.11541125,
           per_sample=HUBER_D25_NONE),
    # F.smooth_l1_loss(p, y, beta=1.0, reduction="mean")
    Golden("smooth_l1_loss-beta1", "smooth_l1", REG_TRUE, REG_PRED, mean=1.6727862500000001),
    # F.smooth_l1_loss(p, y, beta=0.5, reduction="mean")
    Golden("smooth_l1_loss-beta0.5", "smooth_l1:beta=0.5", REG_TRUE, REG_PRED,
           mean=1.8505724999999997),
    # F.smooth_l1_loss(p, y, beta=0.0, reduction="mean")  (torch: beta=0 is l1_loss)
    Golden("smooth_l1_loss-beta0", "smooth_l1:beta=0", REG_TRUE, REG_PRED, mean=2.0535),
    # F.binary_cross_entropy_with_logits(LOGIT, LOGIT_TRUE, reduction="mean"); per-sample
    # values: see test_bce_logits_extreme_logits (torch returns 0.0 for x=-40, y=0).
    Golden("binary_cross_entropy_with_logits", "bce_logits", LOGIT_TRUE, LOGIT,
           mean=2000.163965384684),
    # F.binary_cross_entropy_with_logits(SOFT_LOGIT, SOFT_TRUE, reduction="mean"/"none")
    Golden("binary_cross_entropy_with_logits-soft", "bce_logits", SOFT_TRUE, SOFT_LOGIT,
           mean=2.2317521990650007, per_sample=[
               1.1032824673380313, 0.7930152523999526, 0.6931471805599453, 3.048587351573742,
               2.1269280110429727, 5.625552931475361]),
    # F.binary_cross_entropy(SOFT_PROB, SOFT_TRUE, reduction="mean"/"none"): bce with soft
    # targets (sklearn's log_loss accepts only labels)
    Golden("binary_cross_entropy-soft", "bce", SOFT_TRUE, SOFT_PROB, mean=2.074004691212766,
           per_sample=[0.6390318596501768, 0.63246515619844, 0.6931471805599453,
                       2.99573227355399, 2.3025850929940455, 5.181066584319997]),
    # F.cross_entropy(MC_LOGIT, torch.tensor(MC_LOGIT_TRUE), reduction="mean"/"none")
    Golden("cross_entropy-index", "softmax_cross_entropy", MC_LOGIT_TRUE, MC_LOGIT,
           mean=3333.7287502688305, per_sample=[
               0.24131129665715703, 1.001942848229244, -0.0, 20000.0, 0.03063517942697495,
               1.0986122886681098]),
    # F.cross_entropy(MC_LOGIT, torch.tensor(MC_LOGIT_TRUE), label_smoothing=0.1,
    #                 reduction="mean"/"none")
    Golden("cross_entropy-index-ls0.1", "softmax_cross_entropy:label_smoothing=0.1",
           MC_LOGIT_TRUE, MC_LOGIT, mean=3333.8137502688305, per_sample=[
               0.391311296657157, 1.011942848229244, 1000.0, 19000.0, 0.38063517942697495,
               1.0986122886681098]),
    # F.cross_entropy(MC_LOGIT, MC_SOFT, reduction="mean"/"none")  (probability targets)
    Golden("cross_entropy-probs", "softmax_cross_entropy", MC_SOFT, MC_LOGIT,
           mean=2834.4204169354966, per_sample=[
               0.841311296657157, 1.051942848229244, -0.0, 17000.0, 3.530635179426975,
               1.0986122886681098]),
    # F.cross_entropy(MC_LOGIT, MC_SOFT, label_smoothing=0.1, reduction="mean")
    Golden("cross_entropy-probs-ls0.1", "softmax_cross_entropy:label_smoothing=0.1", MC_SOFT,
           MC_LOGIT, mean=2884.4362502688305),
    # cross_entropy on probabilities = torch cross_entropy of their log (softmax(log q) = q
    # for rows summing to 1): F.cross_entropy(KL_Q.log(), torch.tensor(MC_LOGIT_TRUE),
    # label_smoothing=0.1, reduction="mean"/"none")
    Golden("cross_entropy(log q)-ls0.1", "cross_entropy:label_smoothing=0.1", MC_LOGIT_TRUE,
           KL_Q, mean=0.8174212647869994, per_sample=[
               0.5936558454255907, 0.5840664430105313, 0.2980519661842373, 0.7393569925972749,
               1.0986122886681098, 1.590784052836253]),
    # F.cross_entropy(KL_Q.log(), MC_SOFT, reduction="mean")
    Golden("cross_entropy(log q)-soft", "cross_entropy", MC_SOFT, KL_Q,
           mean=0.7135311899729055),
    # F.cross_entropy(KL_Q.log(), MC_SOFT, label_smoothing=0.1, reduction="mean")
    Golden("cross_entropy(log q)-soft-ls0.1", "cross_entropy:label_smoothing=0.1", MC_SOFT,
           KL_Q, mean=0.7803679640348201),
    # F.kl_div(KL_Q.log(), MC_SOFT, reduction="batchmean"); per row:
    # F.kl_div(KL_Q.log(), MC_SOFT, reduction="none").sum(dim=1)
    Golden("kl_div-batchmean", "kl_div", MC_SOFT, KL_Q, mean=0.17638159528979172, per_sample=[
        0.026812454257447937, 0.3669845875401002, 0.10536051565782628, 0.19274475702175742,
        0.009712313322886135, 0.35667494393873245]),
    # F.kl_div(KL_Q.log(), F.one_hot(torch.tensor(MC_LOGIT_TRUE), 3).double(),
    #          reduction="batchmean")  (class-index target)
    Golden("kl_div-onehot", "kl_div", MC_LOGIT_TRUE, KL_Q, mean=0.7547015241419938),
]  # fmt: skip


@covers("mse", "mae", "huber", "smooth_l1", "bce_logits", "bce", "softmax_cross_entropy",
        "cross_entropy", "kl_div")  # fmt: skip
@pytest.mark.parametrize("case", TORCH, ids=_ids(TORCH))
def test_matches_torch(case: Golden):
    case.check()


# optax 0.2.8 (jax 0.10.2, jax.config.update("jax_enable_x64", True)), inputs
# jnp.asarray(x, dtype=jnp.float64); optax returns per-sample values, the cost is their mean.
OPTAX = [
    # optax.losses.huber_loss(p, y, delta=1.0)
    Golden("huber_loss-delta1", "huber", REG_TRUE, REG_PRED, per_sample=HUBER_D1_NONE),
    # optax.losses.huber_loss(p, y, delta=2.5)
    Golden("huber_loss-delta2.5", "huber:delta=2.5", REG_TRUE, REG_PRED,
           per_sample=HUBER_D25_NONE),
    # optax.losses.log_cosh(p, y)
    Golden("log_cosh", "log_cosh", REG_TRUE, REG_PRED, per_sample=[
        0.019868071840007273, 0.8554401710137968, 2.0609312627106253, 0.007792239318898386,
        1.5679005642886485, 8.306852834670034, 0.4337808304830272, 1.8135681679291729,
        0.5936889715940042, 4.999916668890769e-05]),
    # optax.losses.sigmoid_binary_cross_entropy(LOGIT, LOGIT_TRUE)
    Golden("sigmoid_binary_cross_entropy", "bce_logits", LOGIT_TRUE, LOGIT, per_sample=[
        0.07888973429254963, 0.3132616875182228, 0.554355244468527, 4.248354255291589e-18,
        4.248354255291589e-18, 0.0, 0.0, 10000.0, 10000.0, 0.6931471805599453]),
    # optax.losses.sigmoid_binary_cross_entropy(SOFT_LOGIT, SOFT_TRUE)
    Golden("sigmoid_binary_cross_entropy-soft", "bce_logits", SOFT_TRUE, SOFT_LOGIT,
           per_sample=[1.1032824673380313, 0.7930152523999525, 0.6931471805599453,
                       3.048587351573742, 2.1269280110429727, 5.625552931475361]),
    # optax.losses.softmax_cross_entropy(MC_LOGIT, jax.nn.one_hot(MC_LOGIT_TRUE, 3))
    Golden("softmax_cross_entropy-onehot", "softmax_cross_entropy", onehot(MC_LOGIT_TRUE),
           MC_LOGIT, per_sample=[0.24131129665715703, 1.001942848229244, -0.0, 20000.0,
                                 0.03063517942697495, 1.0986122886681098]),
    # optax.losses.softmax_cross_entropy_with_integer_labels(MC_LOGIT, MC_LOGIT_TRUE)
    Golden("softmax_cross_entropy_with_integer_labels", "softmax_cross_entropy",
           MC_LOGIT_TRUE, MC_LOGIT, per_sample=[0.24131129665715711, 1.001942848229244, 0.0,
                                                20000.0, 0.0306351794269748, 1.0986122886681098]),
    # optax.losses.softmax_cross_entropy(MC_LOGIT, MC_SOFT)
    Golden("softmax_cross_entropy-soft", "softmax_cross_entropy", MC_SOFT, MC_LOGIT,
           per_sample=[0.841311296657157, 1.051942848229244, -0.0, 17000.0, 3.530635179426975,
                       1.0986122886681098]),
    # optax.losses.multiclass_hinge_loss(MC_SCORE, MC_SCORE_TRUE)
    Golden("multiclass_hinge_loss", "multiclass_hinge", MC_SCORE_TRUE, MC_SCORE, per_sample=[
        0.19999999999999996, 0.5, 1.5999999999999999, 1.5, 0.0, 1.0999999999999999]),
]  # fmt: skip


@covers("huber", "log_cosh", "bce_logits", "softmax_cross_entropy", "multiclass_hinge")
@pytest.mark.parametrize("case", OPTAX, ids=_ids(OPTAX))
def test_matches_optax(case: Golden):
    case.check()


# Keras 3.15.1 in float64. On the torch and jax backends Keras's type promotion maps
# float64 to float32 (keras/src/backend/common/dtypes.py: BIT64_TO_BIT32_DTYPE, "aligned
# with JAX's default"), so even after keras.config.set_floatx("float64") every op of a loss
# runs in float32 and agreement is float32-level only (see KERAS_F32). These values were
# computed with that promotion switched off, which changes no formula:
#   os.environ["KERAS_BACKEND"] = "torch"; import keras
#   keras.config.set_floatx("float64")
#   keras.src.backend.common.dtypes.BIT64_TO_BIT32_DTYPE["float64"] = "float64"
# mean = keras.losses.X(**kw)(y[:, None], p[:, None]) (default "sum_over_batch_size"),
# per-sample = keras.losses.X(**kw, reduction=None)(y[:, None], p[:, None]).
KERAS_FOCAL_NONE = [0.0010536051565782623, 0.0010536051565782625, 0.44354984760069144,
                    1.0300402639578246, 0.0, 0.0, 16.11809565095832, 16.118095651484676,
                    0.17328679513998632, 2.7413286736237764e-05]  # fmt: skip
KERAS_FOCAL_BALANCED_NONE = [0.00026340128914456557, 0.0007902038674336969,
                             0.11088746190017286, 0.7725301979683684, 0.0, 0.0,
                             4.02952391273958, 12.088571738613506, 0.04332169878499658,
                             6.853321684059441e-06]  # fmt: skip
KERAS = [
    # keras.losses.Huber(delta=1.0)(REG_TRUE, REG_PRED)
    Golden("Huber-delta1", "huber", REG_TRUE, REG_PRED, mean=1.6727862500000001,
           per_sample=HUBER_D1_NONE),
    # keras.losses.Huber(delta=2.5)(REG_TRUE, REG_PRED)
    Golden("Huber-delta2.5", "huber:delta=2.5", REG_TRUE, REG_PRED, mean=3.11541125,
           per_sample=HUBER_D25_NONE),
    # keras.losses.LogCosh()(REG_TRUE, REG_PRED)  (row 3, r = -0.125, differs from optax in
    # the 14th digit: Keras's r + softplus(-2r) - log 2 cancels for small r)
    Golden("LogCosh", "log_cosh", REG_TRUE, REG_PRED, mean=1.5659873113014904, per_sample=[
        0.019868071840007273, 0.8554401710137968, 2.0609312627106253, 0.007792239318898275,
        1.5679005642886485, 8.306852834670034, 0.4337808304830272, 1.8135681679291729,
        0.5936889715940042, 4.999916668890769e-05]),
    # keras.losses.BinaryFocalCrossentropy(gamma=2.0)(BIN_TRUE, BIN_PROB)
    # (apply_class_balancing=False: Keras's alpha=0.25 default is not used); Keras clips
    # with keras.config.epsilon() = 1e-7, hence focal:eps=1e-7
    Golden("BinaryFocalCrossentropy-gamma2", "focal:gamma=2:eps=1e-7", BIN_TRUE, BIN_PROB,
           mean=3.38852028327414, per_sample=KERAS_FOCAL_NONE),
    # keras.losses.BinaryFocalCrossentropy(gamma=2.0, apply_class_balancing=True, alpha=0.25)
    Golden("BinaryFocalCrossentropy-gamma2-balanced0.25", "focal:alpha=0.25:eps=1e-7",
           BIN_TRUE, BIN_PROB, mean=1.7045895468484886, per_sample=KERAS_FOCAL_BALANCED_NONE),
    # keras.losses.Hinge()(BIN_TRUE, BIN_SCORE)  (Keras maps 0/1 labels to -1/+1)
    Golden("Hinge", "hinge", BIN_TRUE, BIN_SCORE, mean=1.0050000000000001, per_sample=[
        0.0, 0.5, 0.7, 2.7, 4.0, 1.0, 0.050000000000000044, 0.0, 0.0, 1.1]),
    # keras.losses.SquaredHinge()(BIN_TRUE, BIN_SCORE)
    Golden("SquaredHinge", "squared_hinge", BIN_TRUE, BIN_SCORE, mean=2.62425, per_sample=[
        0.0, 0.25, 0.48999999999999994, 7.290000000000001, 16.0, 1.0, 0.0025000000000000044,
        0.0, 0.0, 1.2100000000000002]),
    # keras.losses.CategoricalHinge()(np.eye(3)[MC_SCORE_TRUE], MC_SCORE)  (no [:, None])
    Golden("CategoricalHinge", "categorical_hinge", onehot(MC_SCORE_TRUE), MC_SCORE,
           mean=0.8666666666666667, per_sample=[0.5, 0.5, 1.6, 1.5, 0.0, 1.1]),
    # the same with class-index targets
    Golden("CategoricalHinge-index", "categorical_hinge", MC_SCORE_TRUE, MC_SCORE,
           mean=0.8666666666666667),
    # keras.losses.BinaryCrossentropy()(BIN_TRUE, BIN_PROB): clip to [1e-7, 1 - 1e-7]
    Golden("BinaryCrossentropy", "bce:eps=1e-7", BIN_TRUE, BIN_PROB, mean=3.582977895873609,
           per_sample=[0.10536051565782628, 0.10536051565782631, 1.0498221244986778,
                       1.6094379124341005, 1.0000000494736474e-07, 1.0000000500000033e-07,
                       16.11809565095832, 16.118095651484676, 0.6931471805599453,
                       0.030459207484708574]),
]  # fmt: skip


@covers("huber", "log_cosh", "focal", "hinge", "squared_hinge", "categorical_hinge", "bce")
@pytest.mark.parametrize("case", KERAS, ids=_ids(KERAS))
def test_matches_keras_float64(case: Golden):
    case.check()


# Keras 3.15.1 as shipped (KERAS_BACKEND=torch, float32 despite set_floatx("float64"), see
# above): float(keras.losses.X(**kw)(y[:, None], p[:, None])). Float32-level agreement only.
KERAS_F32 = [
    ("Huber-delta1", "huber", REG_TRUE, REG_PRED, 1.6727863550186157),
    ("Huber-delta2.5", "huber:delta=2.5", REG_TRUE, REG_PRED, 3.1154112815856934),
    ("LogCosh", "log_cosh", REG_TRUE, REG_PRED, 1.5659873485565186),
    ("BinaryFocalCrossentropy-gamma2", "focal:eps=1e-7", BIN_TRUE, BIN_PROB, 3.3885200023651123),
    ("BinaryFocalCrossentropy-gamma2-balanced0.25", "focal:alpha=0.25:eps=1e-7", BIN_TRUE,
     BIN_PROB, 1.7045894861221313),
    ("Hinge", "hinge", BIN_TRUE, BIN_SCORE, 1.0049999952316284),
    ("SquaredHinge", "squared_hinge", BIN_TRUE, BIN_SCORE, 2.6242499351501465),
    ("CategoricalHinge", "categorical_hinge", onehot(MC_SCORE_TRUE), MC_SCORE, 0.8666666150093079),
    ("BinaryCrossentropy", "bce:eps=1e-7", BIN_TRUE, BIN_PROB, 3.582977771759033),
]  # fmt: skip


@covers("huber", "log_cosh", "focal", "hinge", "squared_hinge", "categorical_hinge", "bce")
@pytest.mark.parametrize(("spec", "y", "p", "expected"), [c[1:] for c in KERAS_F32],
                         ids=[c[0] for c in KERAS_F32])  # fmt: skip
def test_matches_keras_float32_as_shipped(spec, y, p, expected):
    assert loss(spec).cost(arr(y), arr(p)) == approx(expected, rel=KERAS_F32_RTOL)


# ---------------------------------------------------------------------------------------
# Losses without a library: hand-worked values.
# ---------------------------------------------------------------------------------------


@covers("pseudo_huber")
@pytest.mark.parametrize(
    ("delta", "r", "expected"),
    [
        # delta² (sqrt(1 + (r/delta)²) - 1):
        (1.0, 3.0, 2.1622776601683795),  # sqrt(10) - 1 = 3.1622776601683795 - 1
        (1.0, -3.0, 2.1622776601683795),  # even in r
        (1.0, 0.5, 0.11803398874989485),  # sqrt(1.25) - 1 = 1.1180339887498949 - 1
        (2.0, 3.0, 3.2111025509279787),  # 4 (sqrt(1 + 2.25) - 1) = 2 sqrt(13) - 4
        (1.0, 1e-8, 5e-17),  # r²/2 - r⁴/8 + ... = 5e-17 (naive sqrt(1 + r²) - 1 gives 0)
        (1.0, 0.0, 0.0),
    ],
)
def test_pseudo_huber_hand_worked(delta, r, expected):
    got = loss("pseudo_huber", delta=delta).per_sample(arr([0.0]), arr([r]))  # y_true = 0
    np.testing.assert_allclose(got, [expected], rtol=1e-12)


@covers("smape")
def test_smape_hand_worked_m4_over_100():
    # M4 Competitor's Guide: sMAPE = (200 / n) sum |y - ŷ| / (|y| + |ŷ|), in percent;
    # lossctl's smape is that / 100, per sample 2|r| / (|y| + |ŷ|), 0 where both are 0.
    y = arr([100.0, 0.0, 1.0, -4.0, 0.0, 3.0])
    p = arr([110.0, 0.0, -1.0, -2.0, 5.0, 3.0])
    per_sample = [
        2 / 21,  # 2·10 / (100 + 110) = 0.09523809523809523
        0.0,  # both 0: defined as 0 (M4 leaves 0/0 undefined)
        2.0,  # 2·2 / (1 + 1): opposite signs hit the maximum 2
        2 / 3,  # 2·2 / (4 + 2)
        2.0,  # 2·5 / (0 + 5): a zero target costs the maximum
        0.0,
    ]
    smape = loss("smape")
    np.testing.assert_allclose(smape.per_sample(y, p), per_sample, rtol=1e-15)
    # mean = (2/21 + 2 + 2/3 + 2) / 6 = (100/21) / 6 = 50/63; M4 would print 79.365...%
    assert smape.cost(y, p) == approx(50 / 63, rel=1e-15)
    assert 100 * smape.cost(y, p) == approx(79.36507936507937, rel=1e-12)


# ---------------------------------------------------------------------------------------
# Where the libraries disagree: which convention lossctl follows, with the numbers.
# ---------------------------------------------------------------------------------------

MAPE_TRUE = [100.0, 4.0, 0.5, -2.0]
MAPE_PRED = [110.0, 3.0, 0.75, -2.5]


@covers("mape")
def test_mape_is_a_fraction_like_sklearn_not_percent_like_keras():
    y, p = arr(MAPE_TRUE), arr(MAPE_PRED)
    ours = loss("mape").cost(y, p)
    # |r|/|y| = 0.1, 0.25, 0.5, 0.25 -> mean 0.275
    assert ours == approx(0.275, rel=1e-15)
    assert ours == approx(skm.mean_absolute_percentage_error(y, p))
    # Keras 3.15.1 (float64 as above): keras.losses.MeanAbsolutePercentageError()(
    #   MAPE_TRUE[:, None], MAPE_PRED[:, None]) = 27.5, per sample [10.0, 25.0, 50.0, 25.0]:
    # percent. lossctl (and sklearn) report the fraction: 100 x lossctl = Keras.
    assert 100 * ours == approx(27.5, rel=1e-15)


@covers("focal")
def test_focal_alpha_unset_vs_set():
    # Keras's BinaryFocalCrossentropy has alpha=0.25 by default but ignores it unless
    # apply_class_balancing=True. lossctl: alpha unset = no alpha term (3.38852028327414,
    # Keras apply_class_balancing=False); alpha=0.25 = Keras apply_class_balancing=True,
    # alpha=0.25 (1.7045895468484886). So focal:alpha=0.25 is not what Keras's default
    # BinaryFocalCrossentropy() (alpha=0.25 shown, not applied) computes: about half on
    # this data.
    y, p = arr(BIN_TRUE), arr(BIN_PROB)
    unset = loss("focal:eps=1e-7").cost(y, p)
    set_ = loss("focal:alpha=0.25:eps=1e-7").cost(y, p)
    assert unset == approx(3.38852028327414)
    assert set_ == approx(1.7045895468484886)
    assert set_ / unset == approx(0.50305, rel=1e-4)
    # alpha_t = 0.25 for positives, 0.75 for negatives, per sample
    alpha_t = np.where(y == 1, 0.25, 0.75)
    np.testing.assert_allclose(
        loss("focal:alpha=0.25:eps=1e-7").per_sample(y, p),
        alpha_t * loss("focal:eps=1e-7").per_sample(y, p),
        rtol=1e-15,
    )
    # gamma=0 without alpha is plain bce
    np.testing.assert_allclose(
        loss("focal:gamma=0").per_sample(y, p), loss("bce").per_sample(y, p), rtol=1e-15
    )


@covers("bce")
def test_bce_default_eps_is_sklearns_not_keras():
    # The default eps is float64 machine epsilon (sklearn): a confident miss (rows 6 and 7
    # of BIN_PROB) costs -log(2.2e-16) = 36.04. Keras clips at 1e-7, where it costs 16.12:
    # sklearn log_loss(BIN_TRUE, BIN_PROB) = 7.56808942345274 vs Keras BinaryCrossentropy()
    # 3.582977895873609 (KERAS above); bce:eps=1e-7 reproduces Keras.
    y, p = arr(BIN_TRUE), arr(BIN_PROB)
    assert loss("bce").cost(y, p) == approx(skm.log_loss(y, p))
    assert loss("bce").cost(y, p) == approx(7.56808942345274)
    assert loss("bce:eps=1e-7").cost(y, p) == approx(3.582977895873609)


@covers("smooth_l1", "huber")
@pytest.mark.parametrize("beta", [0.5, 1.0, 2.5])
def test_smooth_l1_is_huber_over_beta(beta):
    # torch: smooth_l1_loss(beta) = huber_loss(delta=beta) / beta. With beta = 0.5 torch
    # gives 1.8505724999999997 (TORCH above), huber(delta=0.5) half of it: 0.92528625.
    # Only at beta = delta = 1 are the two numbers the same.
    y, p = arr(REG_TRUE), arr(REG_PRED)
    np.testing.assert_allclose(
        loss("smooth_l1", beta=beta).per_sample(y, p),
        loss("huber", delta=beta).per_sample(y, p) / beta,
        rtol=1e-15,
    )
    if beta == 0.5:
        assert loss("huber:delta=0.5").cost(y, p) == approx(1.8505724999999997 * 0.5)


@covers("smooth_l1")
def test_smooth_l1_beta_zero_is_mae():
    y, p = arr(REG_TRUE), arr(REG_PRED)
    np.testing.assert_array_equal(
        loss("smooth_l1:beta=0").per_sample(y, p), loss("mae").per_sample(y, p)
    )


@covers("categorical_hinge", "multiclass_hinge")
def test_categorical_hinge_vs_crammer_singer_when_other_scores_negative():
    # Row 0 of MC_SCORE: scores [0.5, -0.3, -2.0], true class 0.
    #   Crammer-Singer (sklearn hinge_loss, optax multiclass_hinge_loss):
    #     max(0, 1 - 0.5 + max(-0.3, -2.0)) = 0.2   (optax: 0.19999999999999996)
    #   Keras CategoricalHinge: neg = max((1 - y_k) s_k) = max(0, -0.3, -2.0) = 0 (the
    #     zeroed true class wins), max(0, 0 - 0.5 + 1) = 0.5
    # On every other row of MC_SCORE some wrong class scores >= 0 and the two agree.
    y, s = arr(MC_SCORE_TRUE), arr(MC_SCORE)
    cs = loss("multiclass_hinge").per_sample(y, s)
    ch = loss("categorical_hinge").per_sample(y, s)
    assert cs[0] == approx(0.2, rel=1e-12)
    assert ch[0] == approx(0.5, rel=1e-12)
    assert skm.hinge_loss([0], s[:1], labels=[0, 1, 2]) == approx(0.2, rel=1e-12)
    np.testing.assert_allclose(cs[1:], ch[1:], rtol=1e-15)


@covers("cross_entropy")
def test_cross_entropy_perfect_row_is_zero_sklearn_charges_eps():
    # lossctl clips to [eps, 1] (LOSSES.md): a true-class probability of exactly 1 costs 0.
    # sklearn log_loss clips to [eps, 1 - eps] and charges -log(1 - eps) = 2.22e-16.
    p = arr([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    y = arr([0, 1])
    assert loss("cross_entropy").cost(y, p) == 0.0
    assert skm.log_loss(y, p, labels=[0, 1, 2]) == approx(MACHINE_EPS, rel=1e-6)
    # binary bce clips to [eps, 1 - eps] like sklearn: the same 2.22e-16
    assert loss("bce").cost(arr([1, 0]), arr([1.0, 0.0])) == approx(
        skm.log_loss([1, 0], [1.0, 0.0])
    )


# ---------------------------------------------------------------------------------------
# Weighted aggregates: sum(w * l) / sum(w), sklearn's sample_weight convention.
# (sklearn-referenced losses are also checked weighted in the tests above.)
# ---------------------------------------------------------------------------------------


@covers("huber")
@pytest.mark.parametrize(
    ("spec", "torch_none"), [("huber", HUBER_D1_NONE), ("huber:delta=2.5", HUBER_D25_NONE)]
)
def test_weighted_huber_from_torch_per_sample(spec, torch_none):
    # torch's huber_loss has no weights: reference = np.average(torch reduction="none"
    # values, weights=REG_W); REG_W has a zero weight (row 6).
    expected = float(np.average(torch_none, weights=REG_W))
    assert loss(spec).cost(arr(REG_TRUE), arr(REG_PRED), arr(REG_W)) == approx(expected)


@covers("mse", "mae", "rmse")
@pytest.mark.parametrize(
    ("spec", "sk_fn"),
    [
        ("mse", skm.mean_squared_error),
        ("mae", skm.mean_absolute_error),
        ("rmse", skm.root_mean_squared_error),
    ],
)
def test_weighted_on_literal_data(spec, sk_fn):
    y, p, w = arr(REG_TRUE), arr(REG_PRED), arr(REG_W)
    assert loss(spec).cost(y, p, w) == approx(sk_fn(y, p, sample_weight=w))


@covers("bce", "cross_entropy")
def test_weighted_zero_weight_rows_do_not_count(bin_data, mc_data):
    # a zero weight removes the row: the weighted cost equals the cost without it,
    # even when that row is a confident miss (-log eps = 36)
    y, p = bin_data["y"], bin_data["p"]
    w = np.ones_like(y)
    w[2] = 0.0  # y = 1, p = 0
    assert loss("bce").cost(y, p, w) == approx(skm.log_loss(np.delete(y, 2), np.delete(p, 2)))
    yc, pc = mc_data["y"], mc_data["p"]
    wc = np.ones(len(yc))
    wc[5] = 0.0  # the one-hot wrong row
    assert loss("cross_entropy").cost(yc.astype(float), pc, wc) == approx(
        skm.log_loss(np.delete(yc, 5), np.delete(pc, 5, axis=0), labels=LABELS4)
    )


# ---------------------------------------------------------------------------------------
# Extreme values.
# ---------------------------------------------------------------------------------------


@covers("bce_logits")
def test_bce_logits_extreme_logits():
    # Exact for any finite logit: max(x, 0) - x y + log1p(exp(-|x|)).
    y = arr([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    x = arr([1e4, -1e4, 1e4, -1e4, 40.0, -40.0])
    got = loss("bce_logits").per_sample(y, x)
    np.testing.assert_array_equal(got[:4], [0.0, 0.0, 1e4, 1e4])  # exactly
    # log1p(exp(-40)) = 4.248354255291589e-18 (optax 0.2.8 sigmoid_binary_cross_entropy
    # gives it for both rows). torch 2.13.0 F.binary_cross_entropy_with_logits(
    # LOGIT, LOGIT_TRUE, reduction="none") gives 4.248354255291589e-18 for (x=40, y=1)
    # but 0.0 for (x=-40, y=0): torch loses the tiny loss of a confident right negative.
    np.testing.assert_allclose(got[4:], [4.248354255291589e-18] * 2, rtol=1e-15)


@covers("log_cosh")
def test_log_cosh_extremes():
    got = loss("log_cosh").per_sample(arr(LC_TRUE), arr(LC_PRED))
    assert np.isfinite(got).all()  # naive log(cosh(r)) overflows past |r| = 710
    log2 = math.log(2.0)
    np.testing.assert_allclose(got[[0, 1, 4]], [1e4 - log2, 1e4 - log2, 800 - log2], rtol=1e-15)
    # r = 1e-8: log cosh r = r²/2 - r⁴/12 + ... = 5e-17 to 17 digits. Keras 3.15.1 LogCosh
    # (float64 as above) and optax 0.2.8 log_cosh both return 1.1102230246251565e-16
    # here (eps/2: cancellation in r + softplus(-2r) - log 2 / logaddexp(r, -r) - log 2),
    # more than twice the true value; lossctl keeps full precision.
    assert got[2] == approx(5e-17, rel=1e-12)
    # the other rows agree with both libraries:
    # optax.losses.log_cosh(LC_PRED, LC_TRUE) and keras.losses.LogCosh(reduction=None)(
    #   LC_TRUE[:, None], LC_PRED[:, None]) (float64 as above) both give
    #   [9999.30685281944, 9999.30685281944, 1.1102230246251565e-16, 0.12011450695827752,
    #    799.3068528194401]
    np.testing.assert_allclose(
        got[[0, 1, 3, 4]],
        [9999.30685281944, 9999.30685281944, 0.12011450695827752, 799.3068528194401],
        rtol=RTOL,
    )


@covers("softmax_cross_entropy")
@pytest.mark.parametrize("ls", [0.0, 0.1])
def test_softmax_cross_entropy_extreme_logits(ls):
    x = arr([[1e4, 0.0, -1e4], [1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]])
    y = arr([0, 2, 1])
    got = loss("softmax_cross_entropy", label_smoothing=ls).per_sample(y, x)
    assert np.isfinite(got).all()
    if ls == 0:
        np.testing.assert_array_equal(got, [0.0, 2e4, 0.0])
    else:
        # torch 2.13.0 F.cross_entropy(MC_LOGIT, ..., label_smoothing=0.1) rows 2-3 above:
        # 0.1/3 (1e4 + 2e4) = 1000 and 0.9 x 2e4 + 0.1/3 (2e4 + 1e4) = 19000
        np.testing.assert_allclose(got[:2], [1000.0, 19000.0], rtol=1e-12)


@covers("pseudo_huber")
@pytest.mark.parametrize("delta", [1.0, 2.0])
def test_pseudo_huber_huge_residual_is_finite(delta):
    # delta² (sqrt(1 + (r/delta)²) - 1) ~ delta |r| for |r| >> delta; (r/delta)² would
    # overflow for r = 1e300, the implementation must not form it.
    got = loss("pseudo_huber", delta=delta).per_sample(arr([0.0, 0.0]), arr([1e300, -1e300]))
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, [delta * 1e300] * 2, rtol=1e-12)


# ---------------------------------------------------------------------------------------
# Several outputs or labels: multi-output regression and multilabel classification.
# ---------------------------------------------------------------------------------------


def _outputs_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = np.random.default_rng(21)
    y = g.normal(0.0, [1.0, 10.0, 100.0], (120, 3))
    return y, y + g.normal(0.0, [0.5, 4.0, 30.0], (120, 3)), g.uniform(0.2, 2.0, 120)


def test_multi_output_regression_matches_sklearn_multioutput():
    y, p, w = _outputs_data()
    names = ("a", "b", "c")
    for name, ref in (
        ("mse", skm.mean_squared_error),
        ("rmse", skm.root_mean_squared_error),
        ("mae", skm.mean_absolute_error),
    ):
        bound = REG.loss(name, outputs=names)
        assert bound.cost(y, p) == approx(ref(y, p))  # multioutput="uniform_average"
        assert bound.cost(y, p, w) == approx(ref(y, p, sample_weight=w))
        raw = ref(y, p, multioutput="raw_values")
        got = bound.per_output(y, p)
        single = REG.loss(name)
        assert [single.cost(y[:, j], p[:, j]) for j in range(3)] == pytest.approx(raw, rel=RTOL)
        assert got.shape == (120, 3)
    pin = REG.loss("quantile:alpha=0.8", outputs=names)
    assert pin.cost(y, p) == approx(skm.mean_pinball_loss(y, p, alpha=0.8))
    raw = skm.mean_pinball_loss(y, p, alpha=0.8, multioutput="raw_values")
    assert pin.per_output(y, p).mean(axis=0) == pytest.approx(raw, rel=RTOL)


def _labels_data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = np.random.default_rng(22)
    y = g.integers(0, 2, (150, 4)).astype(np.float64)
    logits = (2 * y - 1) * g.gamma(2.0, 1.0, (150, 4)) + g.normal(0, 1.5, (150, 4))
    return y, logits, 1 / (1 + np.exp(-logits))


@covers("subset_zero_one/multilabel")
def test_multilabel_hamming_and_subset_zero_one_match_sklearn():
    y, logits, prob = _labels_data()
    labels = ("w", "x", "y", "z")
    hamming = REG.loss("zero_one", "multilabel", outputs=labels)
    assert hamming.cost(y, prob) == approx(skm.hamming_loss(y, prob >= 0.5))
    subset = REG.loss("subset_zero_one", "multilabel")
    assert subset.cost(y, prob) == approx(skm.zero_one_loss(y, prob >= 0.5))
    on_logits = REG.loss("subset_zero_one:threshold=0", "multilabel")
    assert on_logits.cost(y, logits) == approx(skm.zero_one_loss(y, logits >= 0))


def test_multilabel_bce_matches_keras_and_torch_multilabel_soft_margin():
    y, logits, prob = _labels_data()
    labels = ("w", "x", "y", "z")
    # Keras BinaryCrossentropy on (n, K) (keras/src/backend/numpy/nn.py binary_crossentropy):
    # clip(output, 1e-7, 1 - 1e-7); -(y log p + (1 - y) log(1 - p)); mean over the last axis,
    # then over rows.
    p = np.clip(prob, 1e-7, 1 - 1e-7)
    keras = np.mean(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p)), axis=-1))
    assert REG.loss("bce:eps=1e-7", "multilabel", outputs=labels).cost(y, prob) == approx(keras)

    # torch.nn.functional.multilabel_soft_margin_loss(x, y) (torch 2.x, functional.py):
    # loss = -(y * logsigmoid(x) + (1 - y) * logsigmoid(-x)); loss.sum(dim=1) / C; mean.
    def logsigmoid(v: float) -> float:
        return -math.log1p(math.exp(-v)) if v > 0 else v - math.log1p(math.exp(v))

    rows = [
        sum(-(t * logsigmoid(x) + (1 - t) * logsigmoid(-x)) for t, x in zip(yr, xr, strict=True))
        / 4
        for yr, xr in zip(y, logits, strict=True)
    ]
    got = REG.loss("bce_logits", "multilabel", outputs=labels).cost(y, logits)
    assert got == approx(float(np.mean(rows)))


# ---------------------------------------------------------------------------------------
# Probabilistic regression: quantile sets, Gaussian, ensembles (scoringrules, properscoring,
# scikit-learn and utilsforecast are dev dependencies, called here).
# ---------------------------------------------------------------------------------------

LEVELS = np.array([0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95])


def _quantile_data(n: int = 300) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A target, sorted quantile forecasts at LEVELS (some rows miss their interval) and
    weights."""
    from scipy.stats import norm

    g = np.random.default_rng(11)
    mu = g.normal(10.0, 3.0, n)
    sigma = g.uniform(0.5, 2.0, n)
    y = mu + sigma * g.standard_t(4, n)
    q = mu[:, None] + sigma[:, None] * norm.ppf(LEVELS)[None, :]
    return y, q, g.uniform(0.1, 3.0, n)


def _frame(y: np.ndarray, columns: dict[str, np.ndarray]) -> Any:
    import pandas as pd

    return pd.DataFrame({"unique_id": "s", "ds": np.arange(y.size), "y": y, **columns})


@covers("quantile/regression/quantiles")
def test_quantile_set_is_the_mean_pinball_over_levels():
    y, q, w = _quantile_data()
    bound = REG.loss("quantile", levels=LEVELS)
    ref = np.mean([skm.mean_pinball_loss(y, q[:, k], alpha=a) for k, a in enumerate(LEVELS)])
    assert bound.cost(y, q) == approx(ref)
    ref_w = np.mean(
        [skm.mean_pinball_loss(y, q[:, k], alpha=a, sample_weight=w) for k, a in enumerate(LEVELS)]
    )
    assert bound.cost(y, q, w) == approx(ref_w)
    # utilsforecast mqloss: the same mean over levels (one series).
    from utilsforecast.losses import mqloss

    cols = {f"m-q{k}": q[:, k] for k in range(LEVELS.size)}
    got = mqloss(_frame(y, cols), {"m": list(cols)}, quantiles=LEVELS)
    assert bound.cost(y, q) == approx(float(got["m"].iloc[0]))
    # The columns in another order, with their levels: the same number.
    order = np.array([3, 0, 6, 1, 5, 2, 4])
    assert REG.loss("quantile", levels=LEVELS[order]).cost(y, q[:, order]) == approx(ref)


@covers("interval_score/regression/quantiles")
def test_interval_score_matches_scoringrules_and_utilsforecast_winkler():
    import scoringrules as sr
    from utilsforecast.losses import winkler_score

    y, q, w = _quantile_data()
    for coverage, lo, hi in ((0.8, 1, 5), (0.9, 0, 6), (0.5, 2, 4)):
        bound = REG.loss(f"interval_score:coverage={coverage}", levels=LEVELS)
        ref = sr.interval_score(y, q[:, lo], q[:, hi], 1 - coverage, backend="numpy")
        assert np.allclose(bound.per_sample(y, q), ref, rtol=RTOL, atol=0)
        assert bound.cost(y, q, w) == approx(float(np.average(ref, weights=w)))
        level = round(100 * coverage)
        frame = _frame(y, {f"m-lo-{level}": q[:, lo], f"m-hi-{level}": q[:, hi]})
        got = winkler_score(frame, ["m"], level=level)
        assert bound.cost(y, q) == approx(float(got["m"].iloc[0]))
    assert (ref > 0).all()


@covers("wis/regression/quantiles")
def test_wis_by_its_formula_from_scoringrules_interval_score_and_by_pinball():
    import scoringrules as sr

    y, q, w = _quantile_data()
    bound = REG.loss("wis", levels=LEVELS)
    # WIS = [0.5 |y - m| + sum_k (alpha_k / 2) IS_alpha_k] / (K + 0.5), K = 3 intervals.
    total = 0.5 * np.abs(y - q[:, 3])
    for lo, hi in ((0, 6), (1, 5), (2, 4)):
        alpha = 2 * LEVELS[lo]
        total += alpha / 2 * sr.interval_score(y, q[:, lo], q[:, hi], alpha, backend="numpy")
    ref = total / 3.5
    assert np.allclose(bound.per_sample(y, q), ref, rtol=RTOL, atol=0)
    assert bound.cost(y, q, w) == approx(float(np.average(ref, weights=w)))
    # The identity: WIS = 2 x the mean pinball loss over the 2K + 1 levels.
    pin = np.mean([skm.mean_pinball_loss(y, q[:, k], alpha=a) for k, a in enumerate(LEVELS)])
    assert bound.cost(y, q) == approx(2 * pin)
    # scoringrules 0.10's numpy weighted_interval_score adds the median itself instead of
    # |y - m| (LOSSES.md): it must NOT agree, or the reference above is not the one meant.
    wrong = sr.weighted_interval_score(
        y, q[:, 3], q[:, [0, 1, 2]], q[:, [6, 5, 4]], 2 * LEVELS[:3], backend="numpy"
    )
    assert not np.allclose(wrong, ref)


def _gaussian_data(n: int = 250) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    g = np.random.default_rng(5)
    mean = g.normal(0.0, 2.0, n)
    sd = g.uniform(0.2, 3.0, n)
    y = mean + sd * g.normal(0.0, 1.3, n)
    return y, mean, sd, g.uniform(0.5, 2.0, n)


def _torch_gaussian_nll(y: float, mean: float, var: float, full: bool, eps: float) -> float:
    """torch.nn.functional.gaussian_nll_loss (torch 2.x, functional.py) per element,
    transcribed: ``var = var.clone(); var.clamp_(min=eps); loss = 0.5 * (torch.log(var) +
    (input - target) ** 2 / var); if full: loss += 0.5 * math.log(2 * math.pi)``."""
    v = max(var, eps)
    loss = 0.5 * (math.log(v) + (mean - y) ** 2 / v)
    return loss + 0.5 * math.log(2 * math.pi) if full else loss


@covers("gaussian_nll/regression/gaussian")
def test_gaussian_nll_matches_torch_and_scoringrules_logs_normal():
    import scoringrules as sr

    y, mean, sd, w = _gaussian_data()
    pred = np.column_stack([mean, sd**2])
    for full in (0, 1):
        bound = REG.loss(f"gaussian_nll:full={full}")
        ref = [
            _torch_gaussian_nll(a, b, c, bool(full), 1e-6)
            for a, b, c in zip(y, mean, sd**2, strict=True)
        ]
        assert bound.cost(y, pred) == approx(float(np.mean(ref)))
    # full=1 is the log score: minus the normal log density (scoringrules logs_normal).
    ref = sr.logs_normal(y, mean, sd, backend="numpy")
    assert np.allclose(REG.loss("gaussian_nll").per_sample(y, pred), ref, rtol=RTOL, atol=0)
    assert REG.loss("gaussian_nll").cost(y, pred, w) == approx(float(np.average(ref, weights=w)))
    # eps: a variance below it is raised to it (torch's clamp), here var = 0 and 1e-9.
    tiny = np.array([[0.5, 0.0], [0.25, 1e-9]])
    ref = [_torch_gaussian_nll(1.0, m, v, False, 1e-3) for m, v in tiny]
    got = REG.loss("gaussian_nll:full=0:eps=1e-3").per_sample(np.array([1.0, 1.0]), tiny)
    assert got.tolist() == pytest.approx(ref, rel=RTOL, abs=0)


@covers("crps_gaussian/regression/gaussian")
def test_crps_gaussian_matches_properscoring_and_scoringrules():
    import properscoring as ps
    import scoringrules as sr

    y, mean, sd, w = _gaussian_data()
    pred = np.column_stack([mean, sd**2])
    bound = REG.loss("crps_gaussian")
    got = bound.per_sample(y, pred)
    assert np.allclose(got, ps.crps_gaussian(y, mean, sd), rtol=RTOL, atol=0)
    ref = sr.crps_normal(y, mean, sd, backend="numpy")
    assert np.allclose(got, ref, rtol=RTOL, atol=0)
    assert bound.cost(y, pred, w) == approx(float(np.average(ref, weights=w)))
    # sigma = 0 is a point forecast: the CRPS is the absolute error (the limit).
    point = bound.per_sample(np.array([1.0, -2.0]), np.array([[3.0, 0.0], [-2.5, 0.0]]))
    assert point.tolist() == [2.0, 0.5]


def _ensemble_data(n: int = 200, m: int = 9) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = np.random.default_rng(8)
    centre = g.normal(5.0, 2.0, n)
    members = centre[:, None] + g.normal(0.0, 1.0, (n, m)) * g.uniform(0.3, 2.0, (n, 1))
    members[:5, 3] = members[:5, 2]  # tied members
    return centre + g.normal(0.0, 1.5, n), members, g.uniform(0.5, 2.0, n)


@covers("crps_ensemble/regression/ensemble")
def test_crps_ensemble_matches_properscoring_and_scoringrules_both_estimators():
    import properscoring as ps
    import scoringrules as sr

    y, x, w = _ensemble_data()
    standard = REG.loss("crps_ensemble").per_sample(y, x)
    assert np.allclose(standard, ps.crps_ensemble(y, x), rtol=RTOL, atol=0)
    ref = sr.crps_ensemble(y, x, estimator="nrg", backend="numpy")
    assert np.allclose(standard, ref, rtol=RTOL, atol=0)
    fair = REG.loss("crps_ensemble:estimator=fair")
    ref_fair = sr.crps_ensemble(y, x, estimator="fair", backend="numpy")
    assert np.allclose(fair.per_sample(y, x), ref_fair, rtol=RTOL, atol=0)
    assert fair.cost(y, x, w) == approx(float(np.average(ref_fair, weights=w)))
    # The members in any order give the same score (the loss sorts them).
    shuffled = np.random.default_rng(1).permuted(x, axis=1)
    assert np.allclose(REG.loss("crps_ensemble").per_sample(y, shuffled), standard, rtol=1e-12)
    # Hand-worked: members 1, 3 and target 2: (1/2)(1 + 1) - (|1 - 3| + |3 - 1|) / (2 * 4)
    # = 1 - 0.5 = 0.5 (standard); fair divides the pairs by 2 * 2 * 1: 1 - 1 = 0.
    pair = np.array([[1.0, 3.0]])
    assert REG.loss("crps_ensemble").per_sample(np.array([2.0]), pair).tolist() == [0.5]
    assert fair.per_sample(np.array([2.0]), pair).tolist() == [0.0]


def _torch_poisson_nll(y: float, x: float, log_input: bool, full: bool, eps: float) -> float:
    """torch.nn.functional.poisson_nll_loss (torch 2.x, aten Loss.cpp) per element,
    transcribed: ``loss = exp(input) - target * input`` if log_input else ``input - target *
    log(input + eps)``; full adds ``target * log(target) - target + 0.5 * log(2 * pi *
    target)`` where target > 1."""
    loss = math.exp(x) - y * x if log_input else x - y * math.log(x + eps)
    if full and y > 1:
        loss += y * math.log(y) - y + 0.5 * math.log(2 * math.pi * y)
    return loss


@covers("wape")
def test_wape_is_a_ratio_of_sums_as_utilsforecast():
    import pandas as pd
    from utilsforecast.losses import wape

    g = np.random.default_rng(30)
    y = g.gamma(1.0, 5.0, 200)
    y[:20] = 0.0  # zeros: fine for a ratio of sums
    p = y + g.normal(0.0, 2.0, 200)
    w = g.uniform(0.1, 2.0, 200)
    bound = REG.loss("wape")
    frame = pd.DataFrame({"unique_id": "a", "ds": np.arange(200), "y": y, "m": p})
    assert bound.cost(y, p) == approx(float(wape(frame, ["m"])["m"].iloc[0]))
    # Hand-worked: sum(w |r|) / sum(w |y|), not the mean of ratios.
    assert bound.cost(y, p, w) == approx(float(np.sum(w * np.abs(p - y)) / np.sum(w * y)))
    assert bound.cost(np.array([1.0, 3.0]), np.array([2.0, 3.0])) == approx(0.25)
    assert bound.per_sample(y, p).tolist() == pytest.approx(np.abs(p - y).tolist(), rel=RTOL)
    with pytest.raises(LossctlError, match="not all 0"):
        bound.cost(np.zeros(3), np.ones(3))


@covers("poisson_nll")
def test_poisson_nll_matches_torch_and_keras_poisson():
    g = np.random.default_rng(2)
    rate = g.gamma(2.0, 2.0, 200)
    y = g.poisson(rate).astype(np.float64)
    rate[:3] = 0.0  # a zero rate: eps keeps the log finite
    for log_input, full in ((0, 0), (0, 1), (1, 0), (1, 1)):
        x = np.log(rate + 0.5) if log_input else rate
        bound = REG.loss(f"poisson_nll:log_input={log_input}:full={full}")
        ref = [
            _torch_poisson_nll(a, b, bool(log_input), bool(full), 1e-8)
            for a, b in zip(y, x, strict=True)
        ]
        assert bound.cost(y, x) == approx(float(np.mean(ref)))
    # Keras Poisson (keras/src/losses/losses.py): mean(y_pred - y_true * log(y_pred + eps)),
    # eps = backend.epsilon() = 1e-7.
    keras = np.mean(rate - y * np.log(rate + 1e-7))
    assert REG.loss("poisson_nll:eps=1e-7").cost(y, rate) == approx(float(keras))


# ---------------------------------------------------------------------------------------
# Scaled forecast errors: utilsforecast, called here on a ragged panel (the history read
# from --train end to end is tested in tests/test_forecast.py).
# ---------------------------------------------------------------------------------------


def _panel(season: int) -> tuple[Any, Any, np.ndarray, np.ndarray]:
    """A ragged 5-series panel (forecasts, history as pandas) and each forecast row's
    scales (mean |seasonal difference| and mean squared one of its series' history)."""
    import pandas as pd

    rng = np.random.default_rng(11)
    fc, hist, s_abs, s_sq = [], [], [], []
    for i, (length, horizon) in enumerate([(9, 3), (25, 1), (14, 6), (40, 2), (6, 4)]):
        y = np.cumsum(rng.normal(size=length + horizon)) * 10.0**i + 3.0 * 10.0**i
        d = y[season:length] - y[: length - season]
        for t in range(length):
            hist.append((f"s{i}", t, y[t]))
        for t in range(length, length + horizon):
            fc.append((f"s{i}", t, y[t], y[t] + rng.normal() * 10.0**i))
            s_abs.append(np.mean(np.abs(d)))
            s_sq.append(np.mean(d * d))
    return (
        pd.DataFrame(fc, columns=["unique_id", "ds", "y", "m"]),
        pd.DataFrame(hist, columns=["unique_id", "ds", "y"]),
        np.array(s_abs),
        np.array(s_sq),
    )


@covers("mase", "msse", "rmsse")
@pytest.mark.parametrize("season", [1, 3])
def test_scaled_errors_match_utilsforecast(season):
    from utilsforecast import losses as ufl

    fc, hist, s_abs, s_sq = _panel(season)
    for name, scale in (("mase", s_abs), ("msse", s_sq), ("rmsse", s_sq)):
        ref = getattr(ufl, name)(fc, models=["m"], seasonality=season, train_df=hist)
        expected = float(ref["m"].mean())  # utilsforecast: one value per id; their mean
        got = REG.loss(name).cost(fc["y"], fc["m"], scale=scale, series=fc["unique_id"])
        assert got == approx(expected), name


# ---------------------------------------------------------------------------------------
# Calibration errors: torchmetrics literals (float64) in tests/test_calibration_reference.py,
# checked again here so that this file's coverage bookkeeping sees them.
# ---------------------------------------------------------------------------------------


@covers("ece/binary", "mce/binary", "rmsce/binary", "ece/multiclass", "mce/multiclass",
        "rmsce/multiclass")  # fmt: skip
def test_calibration_errors_match_torchmetrics():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name("test_calibration_reference.py")
    spec = importlib.util.spec_from_file_location("calibration_reference", path)
    assert spec is not None and spec.loader is not None
    ref = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ref)
    names = {"l1": "ece", "max": "mce", "l2": "rmsce"}
    checked = 0
    for (bins, norm), value in ref.TORCH_BINARY.items():
        got = REG.loss(f"{names[norm]}:bins={bins}", "binary").cost(ref.Y, ref.P)
        assert got == approx(value), (bins, norm)
        checked += 1
    for (bins, norm), value in ref.TORCH_MULTICLASS_F64.items():
        got = REG.loss(f"{names[norm]}:bins={bins}", "multiclass").cost(ref.L, ref.PR)
        assert got == approx(value), (bins, norm)
        checked += 1
    assert checked == 18


# ---------------------------------------------------------------------------------------
# Completeness: every loss in the registry has a reference test above.
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec", list(REG), ids=[f"{s.name}/{s.task}/{s.prediction_kind}" for s in REG]
)
def test_every_loss_has_a_reference(spec):
    assert (spec.name, spec.task, layout_of(spec.prediction_kind)) in _COVERED, (
        f"loss '{spec.name}' ({spec.task}) has no reference test in "
        "tests/test_losses_reference.py: add one (library value or hand-worked, with its source)."
    )


def test_reference_bookkeeping_names_real_losses():
    assert set(_COVERED) <= {(s.name, s.task, layout_of(s.prediction_kind)) for s in REG}
