"""Property tests (hypothesis): identities and bounds that relate the losses."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lossctl.losses import builtin_registry

REG = builtin_registry()
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
vec = arrays(np.float64, st.integers(1, 30), elements=finite)
deltas = st.floats(1e-3, 1e3)


def ps(text: str, y: np.ndarray, p: np.ndarray, task: str | None = None) -> np.ndarray:
    return REG.loss(text, task).per_sample(y, p)


@given(r=vec, delta=deltas)
def test_huber_bounds(r, delta):
    y = np.zeros_like(r)
    h = ps(f"huber:delta={delta!r}", y, r)
    a = np.abs(r)
    # 0.5 min(r², δ|r|) <= huber <= 0.5 r² (equal below delta), and huber <= δ|r|.
    assert np.all(h <= 0.5 * r * r * (1 + 1e-12) + 1e-300)
    assert np.all(h >= 0.5 * np.minimum(r * r, delta * a) * (1 - 1e-12))
    assert np.all(h <= delta * a * (1 + 1e-12))
    far = a > 10 * delta  # linear regime: exactly δ(|r| - δ/2)
    np.testing.assert_allclose(h[far], delta * (a[far] - delta / 2), rtol=1e-12)


@given(r=vec, beta=deltas)
def test_smooth_l1_is_huber_over_beta(r, beta):
    y = np.zeros_like(r)
    np.testing.assert_allclose(
        ps(f"smooth_l1:beta={beta!r}", y, r),
        ps(f"huber:delta={beta!r}", y, r) / beta,
        rtol=1e-9,
        atol=1e-300,
    )


@given(r=vec, delta=deltas)
def test_pseudo_huber_between_bounds(r, delta):
    y = np.zeros_like(r)
    ph = ps(f"pseudo_huber:delta={delta!r}", y, r)
    assert np.all(ph >= 0)
    assert np.all(ph <= 0.5 * r * r * (1 + 1e-12) + 1e-300)  # sqrt(1+x²)-1 <= x²/2
    assert np.all(ph <= delta * np.abs(r) * (1 + 1e-12))


@given(r=vec)
def test_log_cosh_between_linear_and_quadratic(r):
    y = np.zeros_like(r)
    lc = ps("log_cosh", y, r)
    a = np.abs(r)
    assert np.all(np.isfinite(lc))
    assert np.all(lc <= 0.5 * r * r * (1 + 1e-12) + 1e-300)
    assert np.all(lc >= (a - np.log(2)) - 1e-9 * np.maximum(a, 1))


@given(r=vec)
def test_quantile_at_median_is_half_mae(r):
    y = np.zeros_like(r)
    np.testing.assert_allclose(ps("quantile:alpha=0.5", y, r), 0.5 * np.abs(r), rtol=1e-15)


@given(
    x=arrays(np.float64, st.integers(1, 30), elements=st.floats(-15, 15)),
    y=arrays(np.float64, 30, elements=st.sampled_from([0.0, 1.0])),
)
def test_bce_logits_equals_bce_of_sigmoid(x, y):
    y = y[: len(x)]
    p = 1.0 / (1.0 + np.exp(-x))
    np.testing.assert_allclose(ps("bce_logits", y, x), ps("bce", y, p), rtol=1e-6, atol=1e-12)


@given(
    p=arrays(np.float64, 20, elements=st.floats(0, 1)),
    y=arrays(np.float64, 20, elements=st.sampled_from([0.0, 1.0])),
)
def test_focal_with_gamma_zero_is_bce(p, y):
    np.testing.assert_allclose(ps("focal:gamma=0", y, p), ps("bce", y, p), rtol=1e-12)
    assert np.all(ps("focal:gamma=2", y, p) <= ps("bce", y, p) * (1 + 1e-12))


@settings(max_examples=50)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 6))
def test_kl_div_non_negative_and_zero_at_equality(seed, k):
    rng = np.random.default_rng(seed)
    y = rng.dirichlet(np.ones(k), 10)
    q = rng.dirichlet(np.ones(k), 10)
    assert np.all(ps("kl_div", y, q) >= -1e-12)
    np.testing.assert_allclose(ps("kl_div", y, y), 0.0, atol=1e-12)


@settings(max_examples=50)
@given(seed=st.integers(0, 2**32 - 1), k=st.integers(2, 6))
def test_softmax_cross_entropy_is_cross_entropy_of_softmax(seed, k):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 3, (10, k))
    y = rng.integers(0, k, 10).astype(float)
    prob = np.exp(x - x.max(axis=1, keepdims=True))
    prob /= prob.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(
        ps("softmax_cross_entropy", y, x), ps("cross_entropy", y, prob), rtol=1e-9
    )


@settings(max_examples=50)
@given(seed=st.integers(0, 2**32 - 1))
def test_categorical_hinge_equals_crammer_singer_when_a_wrong_score_is_non_negative(seed):
    rng = np.random.default_rng(seed)
    s = rng.normal(0, 2, (20, 3))
    y = rng.integers(0, 3, 20)
    wrong = s.copy()
    wrong[np.arange(20), y] = -np.inf
    keep = wrong.max(axis=1) >= 0
    yf = y.astype(float)
    np.testing.assert_allclose(
        ps("categorical_hinge", yf, s)[keep], ps("multiclass_hinge", yf, s)[keep], rtol=1e-12
    )


@given(
    y=arrays(np.float64, 20, elements=st.floats(0.01, 100)),
    p=arrays(np.float64, 20, elements=st.floats(0.01, 100)),
)
def test_tweedie_special_powers(y, p):
    np.testing.assert_allclose(ps("tweedie_deviance:power=0", y, p), ps("mse", y, p))
    np.testing.assert_allclose(ps("tweedie_deviance:power=1", y, p), ps("poisson_deviance", y, p))
    np.testing.assert_allclose(ps("tweedie_deviance:power=2", y, p), ps("gamma_deviance", y, p))
    # Continuity: power 1 + 1e-7 is close to Poisson.
    np.testing.assert_allclose(
        ps("tweedie_deviance:power=1.0000001", y, p),
        ps("poisson_deviance", y, p),
        rtol=1e-4,
        atol=1e-5,
    )
