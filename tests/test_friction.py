"""Friction that misleads: each case gives the right number with a warning that says
what lossctl assumed, or exit 2 with one line that points at the fix. The files are
made as people make them (pandas ``to_csv`` with its index)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from tests.conftest import SAMPLE_DATA, ok_json, refused, run_lossctl

run = run_lossctl


# -- rmse: no per-sample spread in squared units ----------------------------------------


def test_rmse_row_has_no_squared_std_min_max(tmp_path: Path) -> None:
    df = pd.read_csv(SAMPLE_DATA / "diabetes_regression.csv")
    doc = ok_json(tmp_path, "eval", SAMPLE_DATA / "diabetes_regression.csv", "-l", "rmse,mse")
    rmse = doc["losses"]["rmse"]
    expected = metrics.root_mean_squared_error(df["y_true"], df["y_pred"])
    assert rmse["cost"] == pytest.approx(expected, rel=1e-12)
    assert rmse["std"] is None and rmse["min"] is None and rmse["max"] is None
    # The mse row keeps its spread; the sum is of the per-sample values (squared errors).
    sq = (df["y_pred"] - df["y_true"]) ** 2
    assert doc["losses"]["mse"]["max"] == pytest.approx(sq.max(), rel=1e-12)
    assert rmse["sum"] == pytest.approx(sq.sum(), rel=1e-12)
    table = run(tmp_path, "eval", SAMPLE_DATA / "diabetes_regression.csv", "-l", "rmse,mse")
    assert "rmse: std/min/max left out; the cost is the square root" in " ".join(
        table.stdout.split()
    )
    csv = run(tmp_path, "eval", SAMPLE_DATA / "diabetes_regression.csv", "-l", "rmse", "-f", "csv")
    assert csv.stdout.splitlines()[1].startswith(",rmse,rmse,54.6903,,,,")


# -- predictions that are labels ----------------------------------------------------------


def test_hard_binary_predictions_warn_that_they_look_like_labels(tmp_path: Path) -> None:
    df = pd.read_csv(SAMPLE_DATA / "breast_cancer_binary.csv")
    hard = (df["prob"] >= 0.5).astype(int)  # predict() instead of predict_proba()
    pd.DataFrame({"y_true": df["y_true"], "y_pred": hard}).to_csv(tmp_path / "hard.csv")
    doc = ok_json(tmp_path, "eval", "hard.csv")
    assert doc["task"] == "binary" and doc["prediction_kind"] == "probability"
    assert doc["losses"]["zero_one"]["cost"] == pytest.approx(
        1 - metrics.accuracy_score(df["y_true"], hard)
    )
    [warning] = [w for w in doc["warnings"] if "exactly 0 or 1" in w]
    assert "look like class labels (predict())" in warning and "bce" in warning
    res = run(tmp_path, "eval", "hard.csv")
    assert "Warning: every prediction in 'y_pred' is exactly 0 or 1" in res.stderr
    # Probabilities with some 0 and 1 among them are not labels.
    soft = df[["y_true", "prob"]].copy()
    soft.loc[:5, "prob"] = soft.loc[:5, "y_true"]
    soft.to_csv(tmp_path / "soft.csv")
    assert not [w for w in ok_json(tmp_path, "eval", "soft.csv")["warnings"] if "exactly" in w]


def test_one_hot_multiclass_predictions_warn(tmp_path: Path) -> None:
    df = pd.read_csv(SAMPLE_DATA / "wine_multiclass.csv")
    probs = df.filter(like="prob_")
    onehot = pd.get_dummies(probs.to_numpy().argmax(axis=1)).astype(float)
    onehot.columns = probs.columns
    frame = pd.concat([df[["y_true"]], onehot], axis=1)
    frame.to_csv(tmp_path / "onehot.csv")
    doc = ok_json(tmp_path, "eval", "onehot.csv", "-t", "y_true", "-p", "prob_*")
    assert any("exactly 0 or 1" in w and "cross_entropy" in w for w in doc["warnings"])


def test_class_index_predictions_scored_as_regression_say_so(tmp_path: Path) -> None:
    df = pd.read_csv(SAMPLE_DATA / "wine_multiclass.csv")
    probs = df.filter(like="prob_")
    classes = [c.removeprefix("prob_") for c in probs.columns]
    codes = df["y_true"].map({c: i for i, c in enumerate(classes)})  # LabelEncoder's codes
    frame = pd.DataFrame({"y_true": codes, "y_pred": probs.to_numpy().argmax(axis=1)})
    frame.to_csv(tmp_path / "labels.csv")
    doc = ok_json(tmp_path, "eval", "labels.csv")
    assert doc["task"] == "regression"
    [warning] = [w for w in doc["warnings"] if "scored as regression" in w]
    assert "same 3 integers (0, 1, 2)" in warning and "--pred 'prob_*'" in warning
    # Counts with many distinct values are not class labels: no warning.
    rng = np.random.default_rng(0)
    y = rng.poisson(30, 500)
    pd.DataFrame({"y_true": y, "y_pred": y + rng.integers(-3, 4, 500)}).to_csv(tmp_path / "c.csv")
    assert ok_json(tmp_path, "eval", "c.csv")["warnings"] == []


# -- several prediction columns: two models, most likely -----------------------------------


@pytest.mark.parametrize(
    "extra", [(), ("--task", "regression"), ("-l", "mse")], ids=["auto", "task", "loss"]
)
def test_two_forecast_columns_point_at_compare(tmp_path: Path, extra: tuple[str, ...]) -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(100, 10, 60)
    frame = pd.DataFrame(
        {"y": y, "Naive": y + rng.normal(0, 3, 60), "Holt": y + rng.normal(0, 2, 60)}
    )
    frame.to_csv(tmp_path / "fc.csv")
    line = refused(tmp_path, "eval", "fc.csv", "-t", "y", "-p", "Naive", "-p", "Holt", *extra)
    assert "2 prediction columns (Naive, Holt) for the regression target 'y'" in line
    assert "'lossctl compare fc.csv -t y -p Naive -p Holt'" in line
    assert "softmax" not in line and "class column" not in line.split("eval takes")[0]


def test_comma_list_in_pred_says_repeat_the_option(tmp_path: Path) -> None:
    frame = pd.DataFrame({"y": [1.0, 2.0], "a": [1.0, 2.5], "b": [0.5, 2.0]})
    frame.to_csv(tmp_path / "f.csv")
    line = refused(tmp_path, "eval", "f.csv", "-t", "y", "-p", "a,b")
    assert line == (
        "Error: column 'a,b' not found in f.csv. --pred takes one column; repeat it: "
        "--pred a --pred b."
    )


def test_unnamed_index_column_is_shown_as_such(tmp_path: Path) -> None:
    pd.DataFrame({"truth_value": [1.0, 2.0], "yp": [1.0, 2.5]}).to_csv(tmp_path / "f.csv")
    line = refused(tmp_path, "eval", "f.csv")
    assert "available: '' (unnamed), truth_value, yp" in line


# -- mape on zero targets ----------------------------------------------------------------


def test_mape_on_zero_targets_warns_with_the_count(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    y = rng.poisson(2, 400).astype(float)
    p = y + rng.normal(0, 0.5, 400)
    pd.DataFrame({"y_true": y, "y_pred": p}).to_csv(tmp_path / "z.csv")
    doc = ok_json(tmp_path, "eval", "z.csv", "-l", "mape,mae")
    expected = metrics.mean_absolute_percentage_error(y, p)
    assert doc["losses"]["mape"]["cost"] == pytest.approx(expected, rel=1e-12)
    zeros = int((y == 0).sum())
    [warning] = [w for w in doc["warnings"] if "are 0" in w]
    assert warning.startswith(f"{zeros} target(s) in 'y_true' are 0: mape divides")
    assert ok_json(tmp_path, "eval", "z.csv", "-l", "mae")["warnings"] == []


# -- --classes -----------------------------------------------------------------------------


def test_classes_maps_integer_labels_to_named_columns(tmp_path: Path) -> None:
    df = pd.read_csv(SAMPLE_DATA / "iris_multiclass_logits.csv")  # labels 0, 1, 2
    # Columns in a surprising order: versicolor first.
    frame = df[["y_true", "logit_versicolor", "logit_virginica", "logit_setosa"]]
    frame.to_csv(tmp_path / "iris.csv")
    logits = df[["logit_setosa", "logit_versicolor", "logit_virginica"]].to_numpy()
    z = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    expected = metrics.log_loss(df["y_true"], probs, labels=[0, 1, 2])
    args = ("eval", "iris.csv", "-p", "logit_*", "-l", "softmax_cross_entropy")
    doc = ok_json(tmp_path, *args, "--classes", "setosa,versicolor,virginica")
    assert doc["losses"]["softmax_cross_entropy"]["cost"] == pytest.approx(expected, rel=1e-9)
    assert doc["warnings"] == []
    assert doc["columns"]["classes"] == ["setosa", "versicolor", "virginica"]
    # Without --classes: the column order, with a warning that prints it and names --classes.
    doc = ok_json(tmp_path, *args)
    assert doc["losses"]["softmax_cross_entropy"]["cost"] != pytest.approx(expected, rel=1e-3)
    [warning] = doc["warnings"]
    assert "0=versicolor, 1=virginica, 2=setosa" in warning and "--classes" in warning
    line = refused(tmp_path, *args, "--classes", "setosa,versicolor,rose")
    assert "--classes name 'rose' matches no class column" in line
    line = refused(tmp_path, *args, "--classes", "setosa,versicolor")
    assert "--classes names 2 classes but there are 3 class columns" in line


# -- many groups -------------------------------------------------------------------------


def test_by_on_an_id_like_column_warns(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 10_500
    y = rng.normal(0, 1, n)
    frame = pd.DataFrame({"order_id": np.arange(n), "y_true": y, "y_pred": y + 0.1})
    frame.to_parquet(tmp_path / "orders.parquet")
    doc = ok_json(tmp_path, "eval", "orders.parquet", "--by", "order_id", "-l", "mae")
    assert len(doc["groups"]) == n
    assert doc["warnings"] == [
        "--by order_id made 10,500 groups (more than 10,000); a table that long is rarely what "
        "is meant: check the column, or read the groups from --json."
    ]


# -- per-sample output -----------------------------------------------------------------


def test_per_sample_leaves_out_rmse_and_says_so(tmp_path: Path) -> None:
    src = SAMPLE_DATA / "diabetes_regression.csv"
    res = run(tmp_path, "eval", src, "--per-sample", "out.csv")
    assert res.returncode == 0, res.stderr
    got = pd.read_csv(tmp_path / "out.csv")
    assert list(got.columns) == ["row_1based", "y_true", "y_pred", "mse", "mae", "huber"]
    assert got["row_1based"].tolist() == list(range(1, 443))
    assert "Warning: --per-sample has no column for rmse" in res.stderr


def test_per_sample_ids_keep_their_type(tmp_path: Path) -> None:
    ids = [1711, 1712, 1713, 17]
    frame = pd.DataFrame(
        {
            "patient": ids,
            "code": ["007", "010", "7", "8"],
            "y_true": [1.0, 2.0, 3.0, 4.0],
            "y_pred": [1.5, 2.0, 2.0, 4.5],
        }
    )
    frame.to_csv(tmp_path / "ids.csv", index=False)
    run(tmp_path, "eval", "ids.csv", "--id", "patient", "-l", "mae", "--per-sample", "o.parquet")
    got = pd.read_parquet(tmp_path / "o.parquet")
    assert got["patient"].dtype == np.int64 and got["patient"].tolist() == ids
    assert got["mae"].tolist() == [0.5, 0.0, 1.0, 0.5]
    run(tmp_path, "eval", "ids.csv", "--id", "code", "-l", "mae", "--per-sample", "c.parquet")
    assert pd.read_parquet(tmp_path / "c.parquet")["code"].tolist() == ["007", "010", "7", "8"]
    res = run(tmp_path, "eval", "ids.csv", "--id", "code", "-l", "mae", "--per-sample", "-", "-q")
    assert res.stdout.splitlines()[1] == '"007",1,1.5,0.5'  # the text as it is in the file
    # Integer ids with gaps (pandas writes them as 1711.0) become integers again.
    gaps = frame.assign(patient=[1711, None, 1713, 17])
    gaps.to_csv(tmp_path / "gaps.csv", index=False)
    run(tmp_path, "eval", "gaps.csv", "--id", "patient", "-l", "mae", "--per-sample", "g.parquet")
    import pyarrow.parquet as pq

    got_ids = pq.read_table(tmp_path / "g.parquet").column("patient")
    assert str(got_ids.type) == "int64" and got_ids.to_pylist() == [1711, None, 1713, 17]
