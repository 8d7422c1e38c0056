"""The evaluation core: accumulators merge exactly; streaming equals one pass."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lossctl
from lossctl.core.accumulate import Accumulator, Evaluation
from lossctl.losses import builtin_registry
from tests.conftest import close

values = arrays(np.float64, st.integers(1, 200), elements=st.floats(0, 1e6))


@given(v=values, cut=st.integers(0, 200), seed=st.integers(0, 1000))
def test_accumulator_merge_equals_one_pass(v, cut, seed):
    w = np.random.default_rng(seed).uniform(0.1, 2, v.shape[0])
    cut = min(cut, v.shape[0])
    whole = Accumulator.of(v, w)
    merged = Accumulator.of(v[:cut], w[:cut]) + Accumulator.of(v[cut:], w[cut:])
    assert merged.n == whole.n
    assert merged.weighted_sum == pytest.approx(whole.weighted_sum, rel=1e-12)
    assert merged.m2 == pytest.approx(whole.m2, rel=1e-9, abs=1e-6)
    assert merged.min == whole.min and merged.max == whole.max
    # The weighted std is the numpy one.
    mean = np.average(v, weights=w)
    assert np.sqrt(whole.m2 / whole.weight_sum) == pytest.approx(
        np.sqrt(np.average((v - mean) ** 2, weights=w)), rel=1e-9, abs=1e-9
    )


def test_evaluation_merge_is_associative():
    rng = np.random.default_rng(0)
    loss = builtin_registry().loss("mse")
    parts = [rng.uniform(0, 5, 50) for _ in range(3)]
    groups = [rng.choice(["a", "b"], 50) for _ in range(3)]
    evs = []
    for p, g in zip(parts, groups, strict=True):
        e = Evaluation([loss])
        labels, codes = np.unique(g, return_inverse=True)
        e.add({"mse": p}, None, (codes, list(labels)))
        evs.append(e)
    left = evs[0].merge(evs[1]).merge(evs[2])
    right = evs[0].merge(evs[1].merge(evs[2]))
    one = Evaluation([loss])
    labels, codes = np.unique(np.concatenate(groups), return_inverse=True)
    one.add({"mse": np.concatenate(parts)}, None, (codes, list(labels)))
    for e in (left, right):
        assert e.loss_stats()["mse"].cost == pytest.approx(one.loss_stats()["mse"].cost, rel=1e-13)
        for g in ("a", "b"):
            assert e.group_stats()[g].losses["mse"].cost == pytest.approx(
                one.group_stats()[g].losses["mse"].cost, rel=1e-13
            )
            assert e.group_stats()[g].n_used == one.group_stats()[g].n_used


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    rng = np.random.default_rng(7)
    n = 523
    y = rng.gamma(2, 3, n)
    df = pd.DataFrame(
        {
            "y_true": y,
            "y_pred": y * np.exp(rng.normal(0, 0.4, n)),
            "w": rng.uniform(0, 2, n),
            "g": rng.choice(["x", "y", "z"], n),
        }
    )
    path = tmp_path_factory.mktemp("core") / "d.parquet"
    df.to_parquet(path)
    return str(path)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chunk=st.integers(1, 600))
def test_streaming_over_any_chunk_size_equals_one_pass(data_file, chunk):
    losses = ["mse", "rmse", "mae", "huber:delta=2", "log_cosh", "msle", "rmsle"]
    one = lossctl.evaluate(data_file, losses, weight="w", by="g")
    got = lossctl.evaluate(data_file, losses, weight="w", by="g", chunk_size=chunk)
    for key, s in one.losses.items():
        for stat in ("cost", "sum", "std", "min", "max"):
            assert getattr(got.losses[key], stat) == close(getattr(s, stat))
    assert got.groups is not None and one.groups is not None
    for g, gs in one.groups.items():
        for key, s in gs.losses.items():
            assert got.groups[g].losses[key].cost == pytest.approx(s.cost, rel=1e-12)


def test_python_api_evaluate(data_file):
    df = pd.read_parquet(data_file)
    report = lossctl.evaluate(data_file, "mse", weight="w")
    assert report.losses["mse"].cost == pytest.approx(
        np.average((df.y_pred - df.y_true) ** 2, weights=df.w), rel=1e-12
    )
    assert report.task == "regression" and report.n_used == len(df)
