"""K target columns paired with K prediction columns: multi-output regression and
multilabel classification, through the installed command, checked against scikit-learn.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from tests.conftest import SAMPLE_DATA, ok_json, refused, run_lossctl

REL = 1e-12
LIN = SAMPLE_DATA / "linnerud_multioutput.csv"
DIGITS = SAMPLE_DATA / "digits_multilabel.csv"
OUTPUTS = ("Weight", "Waist", "Pulse")
LABELS = ("even", "big", "prime", "round")


def _lin() -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    frame = pd.read_csv(LIN)
    y = frame[[f"y_{n}" for n in OUTPUTS]].to_numpy()
    p = frame[[f"pred_{n}" for n in OUTPUTS]].to_numpy()
    return y, p, frame


def test_multi_output_pairs_by_the_glob_key_and_matches_sklearn(tmp_path):
    y, p, _ = _lin()
    doc = ok_json(tmp_path, "eval", LIN, "-t", "y_*", "-p", "pred_*")
    assert doc["task"] == "regression"
    # pred_* are in another order in the file: paired by what * matched, not by position.
    assert doc["columns"]["target"] == ["y_Weight", "y_Waist", "y_Pulse"]
    assert doc["columns"]["pred"] == ["pred_Weight", "pred_Waist", "pred_Pulse"]
    for key, ref in (
        ("mse", skm.mean_squared_error),
        ("rmse", skm.root_mean_squared_error),
        ("mae", skm.mean_absolute_error),
    ):
        stats = doc["losses"][key]
        assert stats["cost"] == pytest.approx(ref(y, p), rel=REL)  # uniform_average
        raw = ref(y, p, multioutput="raw_values")
        assert stats["outputs"] == pytest.approx(dict(zip(OUTPUTS, raw, strict=True)), rel=REL)


def test_explicit_lists_pair_in_the_order_given(tmp_path):
    y, p, _ = _lin()
    args = ["-t", "y_Weight", "-t", "y_Waist", "-p", "pred_Waist", "-p", "pred_Weight"]
    doc = ok_json(tmp_path, "eval", LIN, *args, "-l", "mae")
    crossed = np.column_stack([p[:, 1], p[:, 0]])  # Weight with pred_Waist, as asked
    ref = skm.mean_absolute_error(y[:, :2], crossed)
    assert doc["losses"]["mae"]["cost"] == pytest.approx(ref, rel=REL)
    raw = skm.mean_absolute_error(y[:, :2], crossed, multioutput="raw_values")
    assert doc["losses"]["mae"]["outputs"] == pytest.approx(
        {"y_Weight": raw[0], "y_Waist": raw[1]}, rel=REL
    )


def test_a_key_on_one_side_only_is_refused(tmp_path):
    frame = pd.read_csv(LIN).drop(columns=["pred_Pulse"])
    frame["pred_Chins"] = 1.0
    path = tmp_path / "lin.csv"
    frame.to_csv(path, index=False)
    line = refused(tmp_path, "eval", path, "-t", "y_*", "-p", "pred_*")
    assert "cannot pair" in line and "'Pulse' is a target key with no prediction column" in line
    line = refused(tmp_path, "eval", path, "-t", "y_*", "-p", "pred_W*")
    assert "3 target columns but 2 prediction columns" in line


def test_weights_groups_chunks_and_nan_rows(tmp_path):
    y, p, frame = _lin()
    g = np.random.default_rng(0)
    frame["w"] = g.uniform(0.5, 2.0, len(frame))
    frame["team"] = np.where(np.arange(len(frame)) % 2, "odd", "even")
    frame.loc[3, "pred_Waist"] = np.nan
    path = tmp_path / "lin.csv"
    frame.to_csv(path)
    line = refused(tmp_path, "eval", path, "-t", "y_*", "-p", "pred_*")
    assert "1 row of" in line and "row 4" in line
    base = ["eval", path, "-t", "y_*", "-p", "pred_*", "-w", "w", "--by", "team", "--nan", "omit"]
    doc = ok_json(tmp_path, *base, "-l", "rmse,mae")
    keep = np.arange(len(frame)) != 3
    w = frame.w.to_numpy()
    assert doc["n_used"] == 19
    ref = skm.root_mean_squared_error(y[keep], p[keep], sample_weight=w[keep])
    assert doc["losses"]["rmse"]["cost"] == pytest.approx(ref, rel=REL)
    odd = keep & (frame.team == "odd").to_numpy()
    ref = skm.root_mean_squared_error(y[odd], p[odd], sample_weight=w[odd])
    assert doc["groups"]["odd"]["losses"]["rmse"]["cost"] == pytest.approx(ref, rel=REL)
    chunked = ok_json(tmp_path, *base, "-l", "rmse,mae", "--chunk-size", "3")
    for key in ("rmse", "mae"):
        assert chunked["losses"][key]["outputs"] == pytest.approx(
            doc["losses"][key]["outputs"], rel=REL
        )


def _digits() -> tuple[np.ndarray, np.ndarray]:
    frame = pd.read_csv(DIGITS)
    y = frame[[f"is_{n}" for n in LABELS]].to_numpy().astype(float)
    return y, frame[[f"prob_{n}" for n in LABELS]].to_numpy()


def test_multilabel_defaults_match_sklearn(tmp_path):
    y, p = _digits()
    doc = ok_json(tmp_path, "eval", DIGITS, "-t", "is_*", "-p", "prob_*")
    assert doc["task"] == "multilabel" and doc["prediction_kind"] == "probability"
    losses = doc["losses"]
    assert losses["zero_one"]["cost"] == pytest.approx(skm.hamming_loss(y, p >= 0.5), rel=REL)
    assert losses["subset_zero_one"]["cost"] == pytest.approx(
        skm.zero_one_loss(y, p >= 0.5), rel=REL
    )
    per_label = [skm.log_loss(y[:, k], p[:, k]) for k in range(4)]
    assert losses["bce"]["outputs"] == pytest.approx(dict(zip(LABELS, per_label, strict=True)))
    assert losses["bce"]["cost"] == pytest.approx(np.mean(per_label), rel=1e-12)
    briers = [skm.brier_score_loss(y[:, k], p[:, k]) for k in range(4)]
    assert losses["brier"]["cost"] == pytest.approx(np.mean(briers), rel=1e-12)
    assert "outputs" not in losses["subset_zero_one"]


def test_multilabel_parallel_parts_and_per_sample_rows(tmp_path):
    frame = pd.concat([pd.read_csv(DIGITS)] * 40, ignore_index=True)  # 71,880 rows
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    one = ok_json(tmp_path, "eval", path, "-t", "is_*", "-p", "prob_*", "--chunk-size", "10000")
    res = run_lossctl(tmp_path, "eval", path, "-t", "is_*", "-p", "prob_*", "--json")
    doc = json.loads(res.stdout)
    for key, stats in one["losses"].items():
        assert doc["losses"][key]["cost"] == pytest.approx(stats["cost"], rel=1e-12)
    out = tmp_path / "rows.parquet"
    res = run_lossctl(tmp_path, "eval", DIGITS, "-t", "is_*", "-p", "prob_*", "-l", "brier",
                      "--per-sample", out)  # fmt: skip
    assert res.returncode == 0, res.stderr
    rows = pd.read_parquet(out)
    y, p = _digits()
    np.testing.assert_allclose(rows["brier"], ((p - y) ** 2).mean(axis=1), rtol=1e-12)
    assert not any("\x1f" in c for c in rows.columns)


def test_multilabel_targets_must_be_0_1(tmp_path):
    frame = pd.read_csv(DIGITS)
    frame["is_big"] = frame["is_big"].astype(int)
    frame.loc[6, "is_big"] = 2
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    line = refused(tmp_path, "eval", path, "-t", "is_*", "-p", "prob_*", "--task", "multilabel")
    assert "column 'is_big'" in line and "has 2 at row 7" in line and "0/1" in line
    # Without --task, targets that are not all 0/1 are K regression outputs.
    doc = ok_json(tmp_path, "eval", path, "-t", "is_*", "-p", "prob_*")
    assert doc["task"] == "regression"


def test_one_hot_targets_stay_multiclass_unless_told(tmp_path):
    g = np.random.default_rng(3)
    label = g.integers(0, 3, 300)
    frame = pd.DataFrame({f"t_{c}": (label == k).astype(int) for k, c in enumerate("abc")})
    probs = g.dirichlet(np.ones(3), 300)
    for k, c in enumerate("abc"):
        frame[f"prob_{c}"] = probs[:, k]
    path = tmp_path / "onehot.csv"
    frame.to_csv(path, index=False)
    doc = ok_json(tmp_path, "eval", path, "-t", "t_*")
    assert doc["task"] == "multiclass" and not any("one-hot" in w for w in doc["warnings"])
    # Predictions that do not sum to 1 per row: still multiclass, with a warning that says
    # how to read the columns as independent labels.
    loose = frame.copy()
    loose[["prob_a", "prob_b", "prob_c"]] = g.uniform(0, 1, (300, 3))
    loose_path = tmp_path / "loose.csv"
    loose.to_csv(loose_path, index=False)
    warned = ok_json(tmp_path, "eval", loose_path, "-t", "t_*", "-l", "brier")
    assert warned["task"] == "multiclass"
    assert any("one-hot" in w and "--task multilabel" in w for w in warned["warnings"])
    doc = ok_json(tmp_path, "eval", path, "-t", "t_*", "--task", "multilabel", "-l", "zero_one")
    y = frame[["t_a", "t_b", "t_c"]].to_numpy()
    assert doc["losses"]["zero_one"]["cost"] == pytest.approx(
        skm.hamming_loss(y, probs >= 0.5), rel=REL
    )


# -- compare ---------------------------------------------------------------------------


def _two_linnerud_models(tmp_path) -> tuple[str, str, np.ndarray, np.ndarray, np.ndarray]:
    """The RidgeCV sample and a second model (the training mean, a baseline every
    forecaster knows), as two files of the same rows."""
    y, p, frame = _lin()
    other = frame.copy()
    for j, n in enumerate(OUTPUTS):
        other[f"pred_{n}"] = y[:, j].mean() + 0.1 * (p[:, j] - p[:, j].mean())
    a, b = tmp_path / "ridge.csv", tmp_path / "flat.csv"
    frame.to_csv(a, index=False)
    other.to_csv(b, index=False)
    q = other[[f"pred_{n}" for n in OUTPUTS]].to_numpy()
    return str(a), str(b), y, p, q


def test_compare_multi_output_rmse_is_the_mean_of_per_output_rmses(tmp_path):
    a, b, y, p, q = _two_linnerud_models(tmp_path)
    args = ["compare", a, b, "-t", "y_*", "-p", "pred_*", "-l", "rmse,mae,wape"]
    doc = ok_json(tmp_path, *args)
    costs = doc["losses"]["rmse"]["costs"]
    assert costs["ridge"] == pytest.approx(skm.root_mean_squared_error(y, p), rel=REL)
    assert costs["flat"] == pytest.approx(skm.root_mean_squared_error(y, q), rel=REL)
    vs = doc["losses"]["rmse"]["vs_baseline"]["flat"]
    assert vs["delta"] == pytest.approx(costs["flat"] - costs["ridge"], rel=1e-12)
    assert vs["ci"] is not None and vs["ci"][0] <= vs["delta"] <= vs["ci"][1]
    # wape on K outputs: the mean of each output's sum |r| / sum |y|.
    ref = np.mean(np.abs(q - y).sum(axis=0) / np.abs(y).sum(axis=0))
    assert doc["losses"]["wape"]["costs"]["flat"] == pytest.approx(ref, rel=REL)
    evaluated = ok_json(tmp_path, "eval", b, "-t", "y_*", "-p", "pred_*", "-l", "rmse,mae,wape")
    for key in ("rmse", "mae", "wape"):
        assert doc["losses"][key]["costs"]["flat"] == pytest.approx(
            evaluated["losses"][key]["cost"], rel=1e-12
        )
    t = ok_json(tmp_path, *args, "--test", "ttest")["losses"]["rmse"]["vs_baseline"]["flat"]
    assert t["ci"] is None and 0 < t["p_value"] < 1
    line = refused(tmp_path, *args, "--test", "permutation")
    assert "--test permutation on 'rmse' over 3 outputs" in line and "bootstrap" in line


def test_compare_multilabel_models(tmp_path):
    frame = pd.read_csv(DIGITS)
    worse = frame.copy()
    for n in LABELS:
        worse[f"prob_{n}"] = 0.5 * frame[f"prob_{n}"] + 0.25
    a, b = tmp_path / "logreg.csv", tmp_path / "shrunk.csv"
    frame.to_csv(a, index=False)
    worse.to_csv(b, index=False)
    doc = ok_json(tmp_path, "compare", a, b, "-t", "is_*", "-p", "prob_*")
    assert doc["task"] == "multilabel"
    y, _ = _digits()
    q = worse[[f"prob_{n}" for n in LABELS]].to_numpy()
    ref = np.mean([skm.log_loss(y[:, k], q[:, k]) for k in range(4)])
    assert doc["losses"]["bce"]["costs"]["shrunk"] == pytest.approx(ref, rel=1e-12)
    assert doc["losses"]["bce"]["vs_baseline"]["shrunk"]["significant"] is True


def test_a_domain_error_names_the_output_column(tmp_path):
    frame = pd.read_csv(LIN)
    frame.loc[4, "pred_Waist"] = -2.0  # msle needs predictions > -1
    path = tmp_path / "neg.csv"
    frame.to_csv(path, index=False)
    line = refused(tmp_path, "eval", path, "-t", "y_*", "-p", "pred_*", "-l", "msle")
    assert "column 'pred_Waist'" in line and "row 5" in line


def test_per_output_costs_in_csv_and_markdown(tmp_path):
    y, p, _ = _lin()
    res = run_lossctl(tmp_path, "eval", LIN, "-t", "y_*", "-p", "pred_*", "-l", "rmse",
                      "--format", "csv")  # fmt: skip
    rows = pd.read_csv(__import__("io").StringIO(res.stdout))
    raw = skm.root_mean_squared_error(y, p, multioutput="raw_values")
    by_loss = dict(zip(rows["loss"], rows["cost"], strict=True))
    for name, value in zip(OUTPUTS, raw, strict=True):
        assert by_loss[f"rmse[{name}]"] == pytest.approx(value, rel=1e-5)  # 6 digits
    md = run_lossctl(tmp_path, "eval", DIGITS, "-t", "is_*", "-p", "prob_*", "--format",
                     "markdown").stdout  # fmt: skip
    assert "Cost per label:" in md and "| even |" in md
    line = refused(tmp_path, "plot", "residuals", LIN, "-t", "y_*", "-p", "pred_*")
    assert "plot residuals draws one output" in line


def test_chunks_equal_one_pass_on_k_outputs(tmp_path):
    one = ok_json(tmp_path, "eval", DIGITS, "-t", "is_*", "-p", "prob_*")
    chunked = ok_json(tmp_path, "eval", DIGITS, "-t", "is_*", "-p", "prob_*", "--chunk-size", "97")
    for key, stats in one["losses"].items():
        assert chunked["losses"][key]["cost"] == pytest.approx(stats["cost"], rel=1e-12)
        assert chunked["losses"][key].get("outputs") == pytest.approx(stats.get("outputs"))


def test_multilabel_reliability_plot_pools_the_labels(tmp_path):
    from lossctl.options import EvalOptions
    from lossctl.plot import data

    sample = data.read_sample(EvalOptions(path=str(DIGITS), target=["is_*"], pred=["prob_*"]))
    rel = data.residuals(sample)
    y, p = _digits()
    assert rel.p.size == y.size and rel.per_row == 4
    # The 0.9-1.0 bin: the share of label 1 among every label predicted there.
    top = p >= 0.9
    assert rel.bin_freq[-1] == pytest.approx(y[top].mean())
    text = run_lossctl(tmp_path, "plot", "residuals", DIGITS, "-t", "is_*", "-p", "prob_*",
                       "--width", "70", "--height", "12")  # fmt: skip
    assert text.returncode == 0 and "(all 4 labels)" in text.stdout


def test_multilabel_labels_as_text_and_categoricals(tmp_path):
    frame = pd.read_csv(DIGITS)
    frame["is_big"] = pd.Categorical(np.where(frame["is_big"], "Yes", "no"))
    frame["is_even"] = np.where(frame["is_even"], "true", "false")
    path = tmp_path / "text.parquet"
    frame.to_parquet(path)
    doc = ok_json(tmp_path, "eval", path, "-t", "is_*", "-p", "prob_*", "-l", "zero_one")
    y, p = _digits()
    assert doc["task"] == "multilabel"
    assert doc["losses"]["zero_one"]["cost"] == pytest.approx(
        skm.hamming_loss(y, p >= 0.5), rel=REL
    )
    frame["is_big"] = frame["is_big"].astype(str).replace({"no": "maybe"})
    frame.to_parquet(path)
    line = refused(tmp_path, "eval", path, "-t", "is_*", "-p", "prob_*", "--task", "multilabel")
    assert "'maybe'" in line and "column 'is_big'" in line and "true/false or yes/no" in line
