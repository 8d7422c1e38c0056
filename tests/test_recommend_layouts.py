"""recommend on the layouts of several prediction columns: every fact it states is
checked against the data by hand (pandas, numpy), and the ranking follows the facts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SAMPLE_DATA, run_lossctl


def rec(tmp_path, *args: object) -> dict:
    res = run_lossctl(tmp_path, "recommend", *args, "--json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def facts(doc: dict) -> dict:
    return doc["facts"]


def keys(doc: dict) -> list[str]:
    return [r["loss"] for r in doc["recommendations"]]


def test_quantile_set_facts_and_ranking(tmp_path):
    frame = pd.read_csv(SAMPLE_DATA / "diabetes_quantiles.csv")
    doc = rec(tmp_path, SAMPLE_DATA / "diabetes_quantiles.csv")
    f = facts(doc)
    for name in ("q10", "q25", "q50", "q75", "q90"):
        level = int(name[1:]) / 100
        assert f[f"coverage_{level:g}"] == pytest.approx((frame.y_true <= frame[name]).mean())
    inside = ((frame.q10 <= frame.y_true) & (frame.y_true <= frame.q90)).mean()
    assert f["interval_coverage_0.8"] == pytest.approx(inside)
    q = frame[["q10", "q25", "q50", "q75", "q90"]].to_numpy()
    assert f["crossing_rows"] == int((np.diff(q, axis=1) < 0).any(axis=1).sum())
    assert keys(doc) == ["wis", "quantile", "interval_score"]
    reason = doc["recommendations"][2]["reasons"][0]
    assert f"covers {100 * inside:.3g}% of the rows (too narrow)" in reason
    assert any("crossing quantiles" in n for n in doc["notes"])


def test_levels_without_a_median_put_quantile_first(tmp_path):
    frame = pd.read_csv(SAMPLE_DATA / "diabetes_quantiles.csv").drop(columns=["q50"])
    path = tmp_path / "q.csv"
    frame.to_csv(path, index=False)
    doc = rec(tmp_path, path)
    assert keys(doc)[0] == "quantile" and "wis" not in keys(doc)
    assert "interval_score" in keys(doc)


def test_gaussian_facts_follow_the_standardised_errors(tmp_path):
    frame = pd.read_csv(SAMPLE_DATA / "diabetes_gaussian.csv")
    doc = rec(tmp_path, SAMPLE_DATA / "diabetes_gaussian.csv", "-p", "mean", "--std", "std")
    z = (frame.y_true - frame["mean"]) / frame["std"]
    f = facts(doc)
    assert f["mean_z_squared"] == pytest.approx((z**2).mean())
    assert f["beyond_3_sd"] == pytest.approx((z.abs() > 3).mean())
    assert keys(doc) == ["crps_gaussian", "gaussian_nll"]
    # An overconfident model (std halved): the reason says the variance looks too small.
    frame["std"] = frame["std"] / 4
    path = tmp_path / "narrow.csv"
    frame.to_csv(path, index=False)
    doc = rec(tmp_path, path, "-p", "mean", "--std", "std")
    nll = next(r for r in doc["recommendations"] if r["loss"] == "gaussian_nll")
    assert "the variance looks too small" in nll["reasons"][0]
    assert "beyond 3 SDs" in nll["reasons"][1]


def test_ensemble_size_decides_the_estimator(tmp_path):
    frame = pd.read_csv(SAMPLE_DATA / "diabetes_forest.csv")
    x = frame.filter(like="tree_").to_numpy()
    doc = rec(tmp_path, SAMPLE_DATA / "diabetes_forest.csv", "-p", "tree_*", "--kind",
              "ensemble")  # fmt: skip
    outside = ((frame.y_true < x.min(1)) | (frame.y_true > x.max(1))).mean()
    assert facts(doc)["outside_members"] == pytest.approx(outside)
    assert keys(doc)[0] == "crps_ensemble"  # 20 members
    small = frame[["y_true", "tree_00", "tree_01", "tree_02", "tree_03", "tree_04"]]
    path = tmp_path / "five.csv"
    small.to_csv(path, index=False)
    doc = rec(tmp_path, path, "-p", "tree_*", "--kind", "ensemble")
    assert keys(doc)[0] == "crps_ensemble:estimator=fair"


def test_multilabel_and_multi_output(tmp_path):
    doc = rec(tmp_path, SAMPLE_DATA / "digits_multilabel.csv", "-t", "is_*", "-p", "prob_*")
    assert keys(doc) == ["bce", "brier", "zero_one", "subset_zero_one"]
    frame = pd.read_csv(SAMPLE_DATA / "digits_multilabel.csv")
    labels = frame.filter(like="is_").astype(float)
    assert facts(doc)["rarest_label_share"] == pytest.approx(labels.mean().min())
    lin = pd.read_csv(SAMPLE_DATA / "linnerud_multioutput.csv")
    lin["y_Pulse"] = lin["y_Pulse"] * 1000  # one output on another scale
    path = tmp_path / "scaled.csv"
    lin.to_csv(path, index=False)
    doc = rec(tmp_path, path, "-t", "y_*", "-p", "pred_*")
    assert facts(doc)["scale_ratio"] > 10 and keys(doc)[0] == "wape"
