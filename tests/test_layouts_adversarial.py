"""Classification layouts as people really write them: class columns in any order,
positive labels that are not in the data, probabilities a rounding error outside
[0, 1], multi-hot targets. Each gives the right number or exit 2 with one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from tests.conftest import ok_json, refused, run_lossctl

run = run_lossctl


def softmax_rows(rng: np.random.Generator, y: np.ndarray, k: int) -> np.ndarray:
    logits = rng.normal(0, 1, (len(y), k))
    logits[np.arange(len(y)), y] += 3.0
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


# -- class columns mapped by name ------------------------------------------------------


def test_integer_labels_match_class_columns_by_name_not_position(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    k = 12
    y = rng.integers(0, k, 300)
    p = softmax_rows(rng, y, k)
    expected = metrics.log_loss(y, p, labels=list(range(k)))
    frame = pd.DataFrame({"label": y})
    for i in sorted(range(k), key=str):  # prob_0, prob_1, prob_10, prob_11, prob_2, ...
        frame[f"prob_{i}"] = p[:, i]
    frame.to_csv(tmp_path / "lex.csv")  # with pandas' index column
    doc = ok_json(tmp_path, "eval", "lex.csv", "-l", "cross_entropy")
    assert doc["losses"]["cross_entropy"]["cost"] == pytest.approx(expected, rel=1e-9)
    # The class of each prediction column, in column order.
    assert doc["columns"]["classes"] == [str(i) for i in sorted(range(k), key=str)]
    assert doc["columns"]["pred"] == [f"prob_{i}" for i in sorted(range(k), key=str)]


def test_class_prefixed_columns_in_surprising_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 200)
    p = softmax_rows(rng, y, 3)
    expected = metrics.log_loss(y, p, labels=[0, 1, 2])
    frame = pd.DataFrame(
        {"prob_class_2": p[:, 2], "target": y, "prob_class_0": p[:, 0], "prob_class_1": p[:, 1]}
    )
    frame.to_csv(tmp_path / "c.csv")
    doc = ok_json(tmp_path, "eval", "c.csv", "-p", "prob_class_*", "-l", "cross_entropy")
    assert doc["losses"]["cross_entropy"]["cost"] == pytest.approx(expected, rel=1e-9)
    assert doc["columns"]["classes"] == ["2", "0", "1"]  # what the star matched
    # Text labels that name the classes give the same number.
    frame["target"] = [f"class_{v}" for v in y]
    frame.to_csv(tmp_path / "t.csv", index=False)
    doc = ok_json(tmp_path, "eval", "t.csv", "-p", "prob_class_*", "-l", "cross_entropy")
    assert doc["losses"]["cross_entropy"]["cost"] == pytest.approx(expected, rel=1e-9)


def test_integer_label_without_class_column_is_refused(tmp_path: Path) -> None:
    frame = {"label": [0, 1, 7], "prob_0": [0.8, 0.1, 0.5], "prob_1": [0.2, 0.9, 0.5]}
    pd.DataFrame(frame).to_csv(tmp_path / "m.csv", index=False)
    line = refused(tmp_path, "eval", "m.csv", "--task", "multiclass")
    assert "'label'" in line and "row 3" in line and "7" in line


def test_integer_labels_with_named_classes_warn_with_the_mapping(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 100)
    p = softmax_rows(rng, y, 3)
    pd.DataFrame(
        {"label": y, "prob_setosa": p[:, 0], "prob_versicolor": p[:, 1], "prob_virginica": p[:, 2]}
    ).to_csv(tmp_path / "iris.csv", index=False)
    res = run(tmp_path, "eval", "iris.csv", "-l", "cross_entropy", "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["losses"]["cross_entropy"]["cost"] == pytest.approx(metrics.log_loss(y, p))
    warned = [w for w in doc["warnings"] if "0=setosa" in w]
    assert warned and "1=versicolor" in warned[0] and "2=virginica" in warned[0]
    assert "0=setosa" in res.stderr


# -- --pos-label -----------------------------------------------------------------------


def _cat_dog(tmp_path: Path) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    p = np.clip(0.5 + (y - 0.5) * rng.uniform(0, 0.8, 200), 0.01, 0.99)
    pd.DataFrame({"label": np.where(y == 1, "dog", "cat"), "prob": p}).to_csv(
        tmp_path / "pets.csv", index=False
    )
    pd.DataFrame({"label": np.where(y == 1, "dog", "cat"), "prob": 1 - p}).to_csv(
        tmp_path / "pets2.csv", index=False
    )
    pd.DataFrame({"label": y, "prob": p}).to_csv(tmp_path / "num.csv", index=False)
    return y, p


def test_pos_label_not_in_data_is_refused(tmp_path: Path) -> None:
    _cat_dog(tmp_path)
    line = refused(tmp_path, "eval", "pets.csv", "--pos-label", "Dog")
    assert "'Dog'" in line and "'cat'" in line and "'dog'" in line
    line = refused(tmp_path, "eval", "num.csv", "--pos-label", "5")
    assert "'5'" in line and "0" in line and "1" in line
    line = refused(tmp_path, "compare", "pets.csv", "pets2.csv", "--pos-label", "Dog")
    assert "'Dog'" in line and "'dog'" in line


def test_pos_label_shown_in_header_and_json(tmp_path: Path) -> None:
    y, p = _cat_dog(tmp_path)
    doc = ok_json(tmp_path, "eval", "pets.csv", "--pos-label", "dog", "-l", "bce")
    assert doc["columns"]["pos_label"] == "dog"
    assert doc["losses"]["bce"]["cost"] == pytest.approx(metrics.log_loss(y, p))
    doc = ok_json(tmp_path, "eval", "num.csv", "-l", "bce")
    assert doc["columns"]["pos_label"] == "1"
    res = run(tmp_path, "eval", "pets.csv", "--pos-label", "dog")
    assert res.returncode == 0 and "positive dog" in res.stdout, res.stdout
    pd.DataFrame({"label": ["yes", "no", "yes"], "prob": [0.9, 0.2, 0.6]}).to_csv(
        tmp_path / "yn.csv", index=False
    )
    assert ok_json(tmp_path, "eval", "yn.csv")["columns"]["pos_label"] == "yes"


def test_pos_label_on_minus_one_labels_and_more_than_two_values(tmp_path: Path) -> None:
    pd.DataFrame({"label": [-1, 1, -1, 1], "prob": [0.8, 0.3, 0.6, 0.1]}).to_csv(
        tmp_path / "pm.csv", index=False
    )
    doc = ok_json(tmp_path, "eval", "pm.csv", "--pos-label", "-1", "-l", "bce")
    assert doc["losses"]["bce"]["cost"] == pytest.approx(
        metrics.log_loss([1, 0, 1, 0], [0.8, 0.3, 0.6, 0.1])
    )
    assert doc["columns"]["pos_label"] == "-1"
    pd.DataFrame({"label": [0, 1, 2, 1], "prob": [0.8, 0.3, 0.6, 0.1]}).to_csv(
        tmp_path / "three.csv", index=False
    )
    line = refused(tmp_path, "eval", "three.csv", "--pos-label", "2")
    assert "more than two labels" in line


# -- probabilities a rounding error outside [0, 1] -------------------------------------


def test_probability_a_rounding_error_above_one_stays_a_probability(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 100)
    p = rng.uniform(0.05, 0.95, 100)
    p[[3, 40]] = 1.0000000001
    pd.DataFrame({"y_true": y, "score": p}).to_csv(tmp_path / "b.csv", index=False)
    res = run(tmp_path, "eval", "b.csv", "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["prediction_kind"] == "probability"
    assert list(doc["losses"]) == ["bce", "brier", "zero_one"]
    expected = metrics.log_loss(y, np.clip(p, 0, 1))
    assert doc["losses"]["bce"]["cost"] == pytest.approx(expected, rel=1e-6)
    warned = [w for w in doc["warnings"] if "clipped" in w]
    assert warned and "2 " in warned[0]
    assert "clipped" in res.stderr
    # Clearly outside [0, 1]: scores, as before.
    p[3] = 1.5
    pd.DataFrame({"y_true": y, "score": p}).to_csv(tmp_path / "s.csv", index=False)
    assert ok_json(tmp_path, "eval", "s.csv")["prediction_kind"] == "score"


def test_prob_named_column_and_multiclass_rows_within_tolerance(tmp_path: Path) -> None:
    y = np.array([0, 1, 1, 0])
    p = np.array([-1e-10, 1.0000000001, 0.7, 0.2])
    pd.DataFrame({"y_true": y, "prob": p}).to_csv(tmp_path / "b.csv", index=False)
    doc = ok_json(tmp_path, "eval", "b.csv", "-l", "brier")
    assert doc["losses"]["brier"]["cost"] == pytest.approx(
        metrics.brier_score_loss(y, np.clip(p, 0, 1))
    )
    assert any("clipped" in w for w in doc["warnings"])
    probs = np.array([[1.0000000001, 0.0, -1e-10], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    frame = pd.DataFrame({"label": [0, 1, 2]})
    for i in range(3):
        frame[f"score_{i}"] = probs[:, i]
    frame.to_csv(tmp_path / "m.csv", index=False)
    doc = ok_json(tmp_path, "eval", "m.csv")
    assert doc["prediction_kind"] == "probability"
    assert doc["losses"]["cross_entropy"]["cost"] == pytest.approx(
        metrics.log_loss([0, 1, 2], np.clip(probs, 0, 1)), rel=1e-6
    )
    assert any("clipped" in w for w in doc["warnings"])


# -- multi-hot targets -----------------------------------------------------------------


def test_multi_hot_targets_are_refused_as_multilabel(tmp_path: Path) -> None:
    n = np.arange(1, 13)
    frame = pd.DataFrame(
        {
            "is_even": (n % 2 == 0).astype(int),
            "is_big": (n > 6).astype(int),
            "is_prime": np.isin(n, [2, 3, 5, 7, 11]).astype(int),
        }
    )
    for c in list(frame.columns):
        frame[f"{c}_prob"] = np.clip(frame[c] * 0.8 + 0.1, 0, 1)
    frame.to_csv(tmp_path / "ml.csv", index=False)
    args = ["-t", "is_even", "-t", "is_big", "-t", "is_prime", "-p", "*_prob"]
    line = refused(tmp_path, "eval", "ml.csv", *args, "-l", "cross_entropy")
    assert "multilabel" in line and "row 1" in line
    # One-hot rows are a distribution: accepted.
    onehot = pd.DataFrame({"t_a": [1, 0, 0], "t_b": [0, 1, 0], "t_c": [0, 0, 1]})
    for c in ("a", "b", "c"):
        onehot[f"prob_{c}"] = [0.7 if v else 0.15 for v in onehot[f"t_{c}"]]
    onehot.to_csv(tmp_path / "oh.csv", index=False)
    doc = ok_json(tmp_path, "eval", "oh.csv", "-t", "t_*", "-p", "prob_*", "-l", "cross_entropy")
    assert doc["losses"]["cross_entropy"]["cost"] == pytest.approx(-np.log(0.7))


def test_target_columns_given_in_order_stay_paired_with_their_predictions(
    tmp_path: Path,
) -> None:
    t = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6]])
    p = np.array([[0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.1, 0.3, 0.6]])
    frame = pd.DataFrame({"soft_a": t[:, 0], "soft_b": t[:, 1], "soft_c": t[:, 2]})
    for i, name in enumerate(["prob_2", "prob_0", "prob_1"]):  # paired with soft_a, b, c
        frame[name] = p[:, i]
    frame.to_csv(tmp_path / "soft.csv", index=False)
    args = ["-t", "soft_a", "-t", "soft_b", "-t", "soft_c"]
    args += ["-p", "prob_2", "-p", "prob_0", "-p", "prob_1", "-l", "cross_entropy"]
    doc = ok_json(tmp_path, "eval", "soft.csv", *args)
    expected = float(np.mean(-(t * np.log(p)).sum(axis=1)))
    assert doc["losses"]["cross_entropy"]["cost"] == pytest.approx(expected)
