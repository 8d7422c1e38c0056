"""Registry-driven tests: every property here holds for every loss in the catalogue.

Like scikit-learn's ``metrics/tests/test_common.py``: a loss added to the registry
is tested here without writing a line.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from lossctl.errors import DomainError, PluginError, UsageError
from lossctl.losses import BUILTIN, LossSpec, Param, builtin_registry, parse_spec, split_specs
from tests.conftest import bind, bind_for_tests, perfect_prediction, spec_id, valid_inputs

SPECS = {spec_id(s): s for s in BUILTIN}
ids = list(SPECS)
specs = list(SPECS.values())
assert len(SPECS) == len(BUILTIN)


#: Negative log-likelihoods without the terms of the data alone: they can be below 0
#: (poisson_nll's y log(rate) exceeds the rate; a Gaussian density above 1).
LOG_LIKELIHOODS = {"poisson_nll", "gaussian_nll"}


def bound(spec: LossSpec):
    return bind(spec)


#: Losses with a per-sample value: every loss but the binned calibration errors (ece),
#: whose cost comes from the bins of all rows (tested in test_calibration_reference.py).
PER_SAMPLE = [s for s in specs if not s.binned]
PER_SAMPLE_IDS = [spec_id(s) for s in PER_SAMPLE]


def values(spec: LossSpec, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """The per-sample losses (a scaled loss with one scale for every row)."""
    return bind_for_tests(spec).per_sample(y, p)


def cost(spec: LossSpec, y: np.ndarray, p: np.ndarray, weight: object = None) -> float:
    return bind_for_tests(spec).cost(y, p, weight)


def test_catalogue_is_complete():
    # Every loss of the catalogue (LOSSES.md) is registered, for the right task.
    expected = {
        "regression": {
            "mse",
            "rmse",
            "mae",
            "huber",
            "smooth_l1",
            "pseudo_huber",
            "log_cosh",
            "msle",
            "rmsle",
            "mape",
            "smape",
            "quantile",
            "poisson_deviance",
            "gamma_deviance",
            "tweedie_deviance",
            "poisson_nll",
            "wape",
            "interval_score",
            "wis",
            "gaussian_nll",
            "crps_gaussian",
            "crps_ensemble",
            "mase",
            "msse",
            "rmsse",
        },
        "multilabel": {"subset_zero_one"},
        "binary": {
            "bce",
            "bce_logits",
            "focal",
            "hinge",
            "squared_hinge",
            "brier",
            "zero_one",
            "ece",
            "mce",
            "rmsce",
        },
        "multiclass": {
            "cross_entropy",
            "softmax_cross_entropy",
            "kl_div",
            "multiclass_hinge",
            "categorical_hinge",
            "brier",
            "zero_one",
            "ece",
            "mce",
            "rmsce",
        },
    }
    for task, names in expected.items():
        assert {s.name for s in BUILTIN if s.task == task} == names


@pytest.mark.parametrize("spec", PER_SAMPLE, ids=PER_SAMPLE_IDS)
def test_shape_dtype_and_finite(spec: LossSpec):
    y, p = valid_inputs(spec)
    out = values(spec, y, p)
    assert out.shape == (50,)
    assert out.dtype == np.float64
    assert np.isfinite(out).all()
    if spec.name not in LOG_LIKELIHOODS:
        assert (out >= 0).all(), "every other loss in the catalogue is non-negative"


@pytest.mark.parametrize("spec", specs, ids=ids)
def test_inputs_not_modified(spec: LossSpec):
    y, p = valid_inputs(spec)
    y0, p0 = y.copy(), p.copy()
    if spec.binned:
        cost(spec, y, p)
    else:
        values(spec, y, p)
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(p, p0)


@pytest.mark.parametrize("spec", [s for s in specs if s.zero_at_perfect], ids=lambda s: s.name)
def test_zero_at_perfect_prediction(spec: LossSpec):
    y, _ = valid_inputs(spec)
    out = values(spec, y, perfect_prediction(spec, y))
    # Clipped logs leave at most -log(1 - eps) ~ 2.2e-16 per sample.
    np.testing.assert_allclose(out, 0.0, atol=1e-12)


@pytest.mark.parametrize("spec", specs, ids=ids)
def test_order_invariance(spec: LossSpec):
    y, p = valid_inputs(spec)
    perm = np.random.default_rng(1).permutation(len(y))
    if not spec.binned:
        np.testing.assert_allclose(values(spec, y[perm], p[perm]), values(spec, y, p)[perm])
    assert cost(spec, y[perm], p[perm]) == pytest.approx(cost(spec, y, p), rel=1e-12)


@pytest.mark.parametrize("spec", specs, ids=ids)
def test_unit_weights_equal_unweighted(spec: LossSpec):
    y, p = valid_inputs(spec)
    assert cost(spec, y, p, weight=np.full(len(y), 3.0)) == pytest.approx(cost(spec, y, p))


@pytest.mark.parametrize("spec", specs, ids=ids)
def test_nan_prediction_is_a_domain_error_naming_the_loss(spec: LossSpec):
    y, p = valid_inputs(spec)
    p = p.copy()
    p[3] = np.nan
    with pytest.raises(DomainError) as exc:
        cost(spec, y, p) if spec.binned else values(spec, y, p)
    assert exc.value.loss == spec.name
    assert exc.value.role == "y_pred"
    assert exc.value.rows == (3,)
    assert f"loss '{spec.name}'" in str(exc.value)
    assert "row 4" in str(exc.value)  # rows count from 1


@pytest.mark.parametrize("spec", specs, ids=ids)
def test_every_loss_has_help_text(spec: LossSpec):
    for text in (
        spec.formula,
        spec.summary,
        spec.explain,
        spec.use_when,
        spec.watch_out,
        spec.reference,
    ):
        assert text.strip()
    for p in spec.params:
        assert p.help.strip()
    for other in spec.see_also:
        assert other in builtin_registry(), f"{spec.name}: see_also names unknown '{other}'"


@pytest.mark.parametrize("spec", specs, ids=ids)
def test_params_defaults_resolve_and_out_of_range_is_usage_error(spec: LossSpec):
    assert set(spec.resolve_params({})) == {p.name for p in spec.params}
    for p in spec.params:
        if p.low is not None:
            with pytest.raises(UsageError, match=f"parameter '{p.name}' must be"):
                spec.resolve_params({p.name: p.low - 1.0})
    with pytest.raises(UsageError, match="has no parameter 'bogus'"):
        spec.resolve_params({"bogus": "1"})


# Domain violations per loss: (spec text, task, y_true, y_pred, role, bad row).
DOMAIN_CASES = [
    ("msle", None, [1.0, 2.0, -1.0], [1.0, 1.0, 1.0], "y_true", 2),
    ("rmsle", None, [1.0, 2.0, 3.0], [1.0, -2.0, 1.0], "y_pred", 1),
    ("poisson_deviance", None, [1.0, -1.0, 3.0], [1.0, 1.0, 1.0], "y_true", 1),
    ("poisson_deviance", None, [1.0, 1.0, 3.0], [1.0, 0.0, 1.0], "y_pred", 1),
    ("gamma_deviance", None, [0.0, 1.0, 3.0], [1.0, 1.0, 1.0], "y_true", 0),
    ("tweedie_deviance:power=1.5", None, [1.0, 1.0, 3.0], [1.0, 1.0, -1.0], "y_pred", 2),
    ("tweedie_deviance:power=3", None, [1.0, 0.0, 3.0], [1.0, 1.0, 1.0], "y_true", 1),
    ("bce", None, [0.0, 1.0, 1.0], [0.2, 1.3, 0.5], "y_pred", 1),
    ("bce", None, [0.0, 2.0, 1.0], [0.2, 0.3, 0.5], "y_true", 1),
    ("focal", None, [0.0, 1.0, 1.0], [-0.1, 0.3, 0.5], "y_pred", 0),
    ("brier", "binary", [0.0, 1.0, 1.0], [0.1, 0.3, 1.5], "y_pred", 2),
    ("hinge", None, [0.0, 1.0, -1.0], [0.1, 0.3, 1.5], "y_true", 0),
    ("hinge", None, [2.0, 1.0, -1.0], [0.1, 0.3, 1.5], "y_true", 0),
    ("zero_one", "binary", [1.0, 0.5, 0.0], [0.1, 0.3, 0.5], "y_true", 1),
]


@pytest.mark.parametrize(("text", "task", "y", "p", "role", "row"), DOMAIN_CASES)
def test_domain_violation(text, task, y, p, role, row):
    loss = builtin_registry().loss(text, task)
    with pytest.raises(DomainError) as exc:
        loss.per_sample(np.array(y), np.array(p))
    assert exc.value.role == role
    assert exc.value.rows[0] == row
    assert exc.value.count == 1
    assert exc.value.loss == loss.name


MC_DOMAIN_CASES = [
    ("cross_entropy", [0, 1, 3], [[0.5, 0.5, 0.0]] * 3, "y_true", "class index in 0..2"),
    (
        "cross_entropy",
        [0, 1, 2],
        [[0.5, 0.5, 0.0], [1.2, -0.2, 0.0], [0, 0, 1]],
        "y_pred",
        "probabilities in [0, 1]",
    ),
    ("kl_div", [0, 1.5, 2], [[0.5, 0.5, 0.0]] * 3, "y_true", "class index"),
    (
        "multiclass_hinge",
        [[0.5, 0.5, 0], [1, 0, 0], [0, 0, 1]],
        [[1.0, 2.0, 3.0]] * 3,
        "y_true",
        "one-hot",
    ),
    ("zero_one", [[0.5, 0.5, 0], [1, 0, 0], [0, 0, 1]], [[1.0, 2.0, 3.0]] * 3, "y_true", "one-hot"),
]


@pytest.mark.parametrize(("name", "y", "p", "role", "words"), MC_DOMAIN_CASES)
def test_multiclass_domain_violation(name, y, p, role, words):
    loss = builtin_registry().loss(name, "multiclass")
    with pytest.raises(DomainError, match=re.escape(words)) as exc:
        loss.per_sample(np.array(y, dtype=float), np.array(p, dtype=float))
    assert exc.value.role == role


def test_multiclass_needs_k_columns():
    loss = builtin_registry().loss("cross_entropy")
    with pytest.raises(DomainError, match="K >= 2"):
        loss.per_sample(np.array([0.0, 1.0]), np.array([0.3, 0.7]))


def test_multiclass_labels_equal_onehot_targets():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 40)
    onehot = np.eye(3)[y]
    probs = rng.dirichlet(np.ones(3), 40)
    logits = rng.normal(0, 2, (40, 3))
    reg = builtin_registry()
    for name, pred in [
        ("cross_entropy", probs),
        ("softmax_cross_entropy", logits),
        ("kl_div", probs),
        ("multiclass_hinge", logits),
        ("categorical_hinge", logits),
        ("brier", probs),
        ("zero_one", probs),
    ]:
        loss = reg.loss(name, "multiclass")
        np.testing.assert_allclose(
            loss.per_sample(y.astype(float), pred),
            loss.per_sample(onehot, pred),
            rtol=1e-14,
            err_msg=name,
        )


# --- spec parsing and lookup -------------------------------------------------


def test_parse_spec_with_params():
    parsed = parse_spec("huber:delta=2")
    assert (parsed.key, parsed.name, parsed.params) == ("huber:delta=2", "huber", (("delta", "2"),))
    loss = builtin_registry().bind(parsed)
    assert loss.key == "huber:delta=2"
    assert loss.params == {"delta": 2.0}
    two = builtin_registry().loss("focal:gamma=1:alpha=0.25")
    assert two.params["gamma"] == 1.0 and two.params["alpha"] == 0.25


def test_split_specs_comma_lists_and_repeats():
    assert split_specs(["mse,huber:delta=2", "quantile:alpha=0.9", "mse", " mae "]) == [
        "mse",
        "huber:delta=2",
        "quantile:alpha=0.9",
        "mae",
    ]
    # The same loss twice with other params is two keys.
    assert split_specs(["huber", "huber:delta=2"]) == ["huber", "huber:delta=2"]


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("l2", "mse"),
        ("l1", "mae"),
        ("pinball", "quantile"),
        ("log_loss", "bce"),
        ("binary_cross_entropy", "bce"),
        ("sigmoid_cross_entropy", "bce_logits"),
        ("sparse_categorical_cross_entropy", "cross_entropy"),
        ("categorical_cross_entropy", "cross_entropy"),
        ("cross_entropy_logits", "softmax_cross_entropy"),
        ("LOG-LOSS", "bce"),
    ],
)
def test_aliases(alias, name):
    assert builtin_registry().get(alias).name == name


def test_unknown_loss_suggests_close_names():
    with pytest.raises(UsageError, match=r"unknown loss 'hubber'\. Did you mean 'huber'"):
        builtin_registry().get("hubber")
    with pytest.raises(UsageError, match="lossctl losses"):
        builtin_registry().get("xyzzy")


def test_unknown_and_out_of_range_params_state_the_valid_range():
    reg = builtin_registry()
    with pytest.raises(UsageError, match=r"'delta' must be > 0, got 0"):
        reg.loss("huber:delta=0")
    with pytest.raises(UsageError, match=r"'alpha' must be in \(0, 1\), got 1.5"):
        reg.loss("quantile:alpha=1.5")
    with pytest.raises(UsageError, match="has no parameter 'alpha'; its parameters: delta"):
        reg.loss("huber:alpha=1")
    with pytest.raises(UsageError, match="must be a number"):
        reg.loss("huber:delta=big")
    with pytest.raises(UsageError, match="expected key=value"):
        reg.loss("huber:delta")
    with pytest.raises(UsageError, match="0 < power < 1"):
        reg.loss("tweedie_deviance:power=0.5")
    with pytest.raises(UsageError, match="given twice"):
        reg.loss("huber:delta=1:delta=2")


def test_optional_param_can_be_unset_again():
    loss = builtin_registry().loss("focal:alpha=none")
    assert loss.params["alpha"] is None


def test_same_name_in_two_tasks_needs_a_task():
    reg = builtin_registry()
    with pytest.raises(UsageError, match="exists for binary and multiclass"):
        reg.get("brier")
    assert reg.get("brier", "multiclass").task == "multiclass"
    with pytest.raises(UsageError, match="is for regression tasks, not binary"):
        reg.get("mse", "binary")


def test_mixing_tasks_is_a_usage_error():
    reg = builtin_registry()
    assert reg.tasks_of([parse_spec("mse"), parse_spec("huber")]) == {"regression"}
    # A binary loss also applies label by label to a multilabel task.
    both = {"binary", "multiclass", "multilabel"}
    assert reg.tasks_of([parse_spec("brier"), parse_spec("zero_one")]) == both
    assert reg.tasks_of([parse_spec("brier"), parse_spec("bce")]) == {"binary", "multilabel"}
    assert reg.tasks_of([parse_spec("subset_zero_one"), parse_spec("bce")]) == {"multilabel"}
    with pytest.raises(UsageError, match="cannot be mixed"):
        reg.tasks_of([parse_spec("mse"), parse_spec("bce")])


def test_finalize_applies_to_the_mean_not_per_sample():
    y = np.array([0.0, 0.0, 0.0, 0.0])
    p = np.array([1.0, 1.0, 1.0, 3.0])
    reg = builtin_registry()
    np.testing.assert_array_equal(reg.loss("rmse").per_sample(y, p), [1, 1, 1, 9])
    assert reg.loss("rmse").cost(y, p) == pytest.approx(np.sqrt(3.0))


def test_invalid_spec_is_rejected_with_reasons():
    with pytest.raises(PluginError, match="task must be one of") as exc:
        LossSpec(
            name="Bad Name",
            fn=lambda y, p: y,
            task="ranking",
            prediction_kind="value",
            formula="x",
            summary="x",
            explain="x",
            reference="x",
        )
    assert "name must match" in str(exc.value)
    with pytest.raises(PluginError, match="default of 'k'"):
        LossSpec(
            name="ok",
            fn=lambda y, p, k=5: y,
            task="regression",
            prediction_kind="value",
            formula="x",
            summary="x",
            explain="x",
            reference="x",
            params=(Param("k", 5.0, low=0, high=1, help="h"),),
        )


def test_weights_validation():
    loss = builtin_registry().loss("mse")
    y = np.zeros(3)
    with pytest.raises(DomainError, match="weight must be finite and >= 0"):
        loss.cost(y, y, weight=np.array([1.0, -1.0, 1.0]))
    with pytest.raises(DomainError, match="not all 0"):
        loss.cost(y, y, weight=np.zeros(3))
