"""The Python API and the accumulators on the inputs people really pass.

Shapes such as Keras' (n, 1) predictions, string labels, and values near the
float64 limits: the right answer, or a LossctlError, never a broadcast or NaN.
"""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

import lossctl
from lossctl.core.accumulate import Accumulator, Evaluation
from lossctl.errors import LossctlError
from lossctl.losses import BoundLoss, LossSpec, builtin_registry
from lossctl.losses.spec import DISTRIBUTION_KINDS
from tests.conftest import OneScale, bind_for_tests, valid_inputs

SPECS = list(builtin_registry())


def _bound(spec: LossSpec) -> BoundLoss | OneScale:
    return bind_for_tests(spec)


def _columns(spec: LossSpec) -> bool:
    """y_pred is (n, K): K classes, quantile levels, Gaussian parameters or members."""
    return spec.task in ("multiclass", "multilabel") or spec.prediction_kind in DISTRIBUTION_KINDS


# -- shapes and dtypes in the Python API -----------------------------------------------


def test_mse_column_vector_prediction_is_not_broadcast() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    p = np.array([1.5, 1.0, 3.5, 5.0])
    mse = lossctl.get_loss("mse")
    expected = float(np.mean((p - y) ** 2))
    assert mse.cost(y, p.reshape(-1, 1)) == pytest.approx(expected)
    assert mse.cost(y.reshape(-1, 1), p) == pytest.approx(expected)
    assert mse.per_sample(y, p.reshape(-1, 1)).shape == (4,)


@pytest.mark.parametrize(
    "spec",
    [s for s in SPECS if s.task != "multilabel"],  # y_true is (n, K) there: nothing to squeeze
    ids=lambda s: f"{s.task}-{s.name}-{s.prediction_kind}",
)
def test_every_loss_squeezes_a_trailing_singleton_axis(spec: LossSpec) -> None:
    loss = _bound(spec)
    y, p = valid_inputs(spec, n=20)
    expected = loss.cost(y, p)
    if _columns(spec):
        got = loss.cost(y.reshape(-1, 1), p)  # sparse labels (or the target) as a column
    else:
        got = loss.cost(y, p.reshape(-1, 1))
        assert loss.cost(y.reshape(-1, 1), p.reshape(-1, 1)) == pytest.approx(expected)
    assert got == pytest.approx(expected)
    if spec.binned:  # no per-sample value: refused, as the loss says
        with pytest.raises(LossctlError, match="per-sample"):
            loss.per_sample(y.reshape(-1, 1), p)
    else:
        assert loss.per_sample(y.reshape(-1, 1), p).shape == (20,)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: f"{s.task}-{s.name}-{s.prediction_kind}")
def test_every_loss_refuses_mismatched_shapes(spec: LossSpec) -> None:
    loss = _bound(spec)
    y, p = valid_inputs(spec, n=20)
    bad_pred = np.stack([p, p], axis=-1) if not _columns(spec) else p[:, :, None]
    with pytest.raises(LossctlError, match=r"shape") as info:
        loss.cost(y, bad_pred)
    assert str(bad_pred.shape) in str(info.value)
    with pytest.raises(LossctlError):
        loss.cost(y[:10], p)
    with pytest.raises(LossctlError):
        loss.cost(y, p, weight=np.ones((20, 2)))


def test_string_labels_raise_a_lossctl_error() -> None:
    bce = lossctl.get_loss("bce")
    with pytest.raises(LossctlError, match="y_true"):
        bce.cost(["yes", "no"], [0.8, 0.3])
    with pytest.raises(LossctlError, match="y_pred"):
        bce.per_sample([1, 0], ["a", "b"])
    with pytest.raises(LossctlError, match="weight"):
        bce.cost([1, 0], [0.8, 0.3], weight=["x", "y"])
    with pytest.raises(LossctlError):
        lossctl.get_loss("mse").cost([1.0, [2.0, 3.0]], [1.0, 2.0])


def test_bool_and_int_labels_work() -> None:
    bce = lossctl.get_loss("bce")
    a = bce.cost(np.array([True, False]), np.array([0.8, 0.3]))
    b = bce.cost([1, 0], [0.8, 0.3])
    assert a == pytest.approx(b) == pytest.approx(-(math.log(0.8) + math.log(0.7)) / 2)


# -- overflow ------------------------------------------------------------------------------


def _mae_values() -> np.ndarray:
    return np.array([2e200, 2e200, 0.0, 0.0])


def test_accumulator_huge_values_give_finite_std() -> None:
    v = _mae_values()
    acc = Accumulator.of(v)
    loss = lossctl.get_loss("mae")
    stats = acc.stats(loss)
    assert stats.cost == pytest.approx(1e200)
    assert stats.std == pytest.approx(1e200)
    merged = Accumulator()
    for x in v:
        merged = merged + Accumulator.of(np.array([x]))
    s2 = merged.stats(loss)
    assert s2.cost == pytest.approx(1e200) and s2.std == pytest.approx(1e200)


def test_accumulator_huge_weights_give_the_weighted_mean() -> None:
    v = np.array([1.0, 3.0, 10.0, 20.0])
    w = np.array([1e308, 1e308, 1.0, 1.0])
    loss = lossctl.get_loss("mae")
    one = Accumulator.of(v, w).stats(loss)
    assert one.cost == pytest.approx(2.0) and one.std == pytest.approx(1.0)
    merged = Accumulator()
    for i in range(4):
        merged = merged + Accumulator.of(v[i : i + 1], w[i : i + 1])
    two = merged.stats(loss)
    assert two.cost == pytest.approx(2.0) and two.std == pytest.approx(1.0)
    assert loss.cost(np.zeros(4), v, weight=w) == pytest.approx(2.0)


def test_group_table_huge_values_and_weights() -> None:
    loss = lossctl.get_loss("mae")
    ev = Evaluation([loss])
    v = np.array([2e200, 0.0, 1.0, 3.0, 2e200, 0.0])
    w = np.array([1.0, 1.0, 1e308, 1e308, 1.0, 1.0])
    codes = np.array([0, 0, 1, 1, 0, 0])
    for i in range(0, 6, 2):
        ev.add({loss.key: v[i : i + 2]}, w[i : i + 2], (codes[i : i + 2], ["a", "b"]))
    groups = ev.group_stats()
    a, b = groups["a"].losses[loss.key], groups["b"].losses[loss.key]
    assert a.cost == pytest.approx(1e200) and a.std == pytest.approx(1e200)
    assert b.cost == pytest.approx(2.0) and b.std == pytest.approx(1.0)
    overall = ev.loss_stats()[loss.key]
    assert math.isfinite(overall.cost) and math.isfinite(overall.std)


def test_api_cost_of_huge_values_is_finite() -> None:
    mae = lossctl.get_loss("mae")
    assert mae.cost(np.zeros(2), np.array([1.5e308, 1.5e308])) == pytest.approx(1.5e308)
    with pytest.raises(LossctlError, match="overflows float64"):
        lossctl.get_loss("mse").cost(np.zeros(2), np.array([2e200, -2e200]))


def _lossctl(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["lossctl", *args], capture_output=True, text=True, cwd=tmp_path)


def _json(proc: subprocess.CompletedProcess[str]) -> dict:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout)


def _error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [x for x in proc.stderr.splitlines() if x.startswith("Error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


@pytest.mark.parametrize("chunk", [None, "1"])
def test_cli_huge_weights_give_the_weighted_cost(tmp_path: Path, chunk: str | None) -> None:
    (tmp_path / "w.csv").write_text("y,pred,w\n0,1,1e308\n0,3,1e308\n0,10,1\n0,20,1\n")
    extra = ["--chunk-size", chunk] if chunk else []
    out = _json(_lossctl(tmp_path, "eval", "w.csv", "-w", "w", "-l", "mae", "--json", *extra))
    stats = out["losses"]["mae"]
    assert stats["cost"] == pytest.approx(2.0)
    assert stats["std"] == pytest.approx(1.0)


@pytest.mark.parametrize("chunk", [None, "1"])
@pytest.mark.parametrize("name", ["mae", "huber", "log_cosh"])
def test_cli_huge_residuals_give_finite_std(tmp_path: Path, chunk: str | None, name: str) -> None:
    (tmp_path / "r.csv").write_text("y,pred\n0,2e200\n0,-2e200\n5,5\n7,7\n")
    extra = ["--chunk-size", chunk] if chunk else []
    out = _json(_lossctl(tmp_path, "eval", "r.csv", "-l", name, "--json", *extra))
    stats = out["losses"][name]
    assert stats["cost"] == pytest.approx(1e200)
    assert stats["std"] == pytest.approx(1e200)


@pytest.mark.parametrize("chunk", [None, "1"])
def test_cli_mse_overflow_is_an_error(tmp_path: Path, chunk: str | None) -> None:
    (tmp_path / "r.csv").write_text("y,pred\n0,2e200\n0,-2e200\n5,5\n7,7\n")
    extra = ["--chunk-size", chunk] if chunk else []
    line = _error(_lossctl(tmp_path, "eval", "r.csv", "-l", "mse", *extra))
    assert "mse" in line and "overflows float64" in line and "2e+200" in line
