"""The signature of every eval and compare result, and the fingerprint of its data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from lossctl.core.fingerprint import block_sum, text
from tests.conftest import SAMPLE_DATA, in_parts, ok_json, run_lossctl

REG = SAMPLE_DATA / "diabetes_regression.csv"


def _print(doc: dict) -> dict:
    return doc["signature"]["data"]


def test_eval_signature_holds_what_the_result_was_made_with(tmp_path: Path) -> None:
    doc = ok_json(tmp_path, "eval", REG, "-l", "mse,huber:delta=2,quantile", "--nan", "omit")
    sig = doc["signature"]
    assert sig["lossctl_version"] == doc["lossctl_version"]
    assert (sig["task"], sig["prediction_kind"], sig["nan"]) == ("regression", "value", "omit")
    assert sig["losses"] == {
        "mse": {"name": "mse", "params": {}},
        "huber:delta=2": {"name": "huber", "params": {"delta": 2.0}},
        "quantile": {"name": "quantile", "params": {"alpha": 0.5}},  # resolved default
    }
    assert sig["columns"] == {"target": ["y_true"], "pred": ["y_pred"], "weight": None}
    assert sig["data"]["rows"] == 442 and len(sig["data"]["fingerprint"]) == 16


def test_fingerprint_is_the_sum_of_row_hashes(tmp_path: Path) -> None:
    df = pd.read_csv(REG)
    expected = text(block_sum(df["y_true"].to_numpy(float), df["y_pred"].to_numpy(float)))
    assert _print(ok_json(tmp_path, "eval", REG))["fingerprint"] == expected


def test_fingerprint_does_not_depend_on_how_the_data_are_read(tmp_path: Path) -> None:
    base = _print(ok_json(tmp_path, "eval", REG))
    shuffled = tmp_path / "shuffled.csv"
    pd.read_csv(REG).sample(frac=1.0, random_state=1).to_csv(shuffled)  # with the index
    for args in (
        (REG, "--chunk-size", "7"),
        (SAMPLE_DATA / "diabetes_regression.parquet",),
        (shuffled,),
    ):
        assert _print(ok_json(tmp_path, "eval", *args)) == base, args
    assert _print(in_parts(tmp_path, 2000, "eval", REG)) == base


def test_fingerprint_on_dask_equals_local(tmp_path: Path, scheduler: str) -> None:
    local = _print(ok_json(tmp_path, "eval", REG))
    dask = _print(ok_json(tmp_path, "eval", REG, "--engine", "dask", "--scheduler", scheduler))
    assert dask == local


def test_fingerprint_changes_with_the_data(tmp_path: Path) -> None:
    df = pd.read_csv(REG)
    base = _print(ok_json(tmp_path, "eval", REG))["fingerprint"]
    changed = df.copy()
    changed.loc[100, "y_pred"] = np.nextafter(changed.loc[100, "y_pred"], np.inf)
    changed.to_csv(tmp_path / "one_ulp.csv", index=False)
    dropped = df.drop(index=5)
    dropped.to_csv(tmp_path / "dropped.csv", index=False)
    swapped = df.rename(columns={"y_true": "y_pred", "y_pred": "y_true"})
    swapped.to_csv(tmp_path / "swapped.csv", index=False)
    for name in ("one_ulp.csv", "dropped.csv", "swapped.csv"):
        assert _print(ok_json(tmp_path, "eval", tmp_path / name))["fingerprint"] != base, name


def test_weights_are_part_of_the_data(tmp_path: Path) -> None:
    df = pd.read_csv(REG)
    df["w"] = 1.0
    df.to_csv(tmp_path / "w.csv", index=False)
    plain = _print(ok_json(tmp_path, "eval", tmp_path / "w.csv"))
    weighted = _print(ok_json(tmp_path, "eval", tmp_path / "w.csv", "-w", "w"))
    assert plain != weighted
    assert (
        ok_json(tmp_path, "eval", tmp_path / "w.csv", "-w", "w")["signature"]["columns"]["weight"]
        == "w"
    )


def test_compare_signature_has_the_test_and_each_model(tmp_path: Path) -> None:
    ridge, gbr = SAMPLE_DATA / "diabetes_ridge.csv", SAMPLE_DATA / "diabetes_gbr.csv"
    doc = ok_json(tmp_path, "compare", ridge, gbr, "--resamples", "500", "--seed", "3")
    sig = doc["signature"]
    assert sig["test"] == {"method": "bootstrap", "resamples": 500, "seed": 3,
                           "confidence": 0.95, "horizon": 1}  # fmt: skip
    assert set(sig["data"]) == {"diabetes_ridge", "diabetes_gbr"}
    for name, path in (("diabetes_ridge", ridge), ("diabetes_gbr", gbr)):
        assert sig["data"][name] == _print(ok_json(tmp_path, "eval", path))


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_human_formats_print_the_signature_in_one_line(tmp_path: Path, fmt: str) -> None:
    res = run_lossctl(tmp_path, "eval", REG, "-l", "mse,huber:delta=2", "--format", fmt)
    assert res.returncode == 0, res.stderr
    flat = " ".join(res.stdout.split())
    fp = _print(ok_json(tmp_path, "eval", REG))["fingerprint"]
    assert "signature: lossctl" in flat and "mse, huber:delta=2" in flat and fp in flat
    assert "regression/value" in flat and "nan=raise" in flat and "442 rows" in flat


def test_targets_fingerprint_tells_the_same_data_from_other_data(tmp_path: Path) -> None:
    ridge = _print(ok_json(tmp_path, "eval", SAMPLE_DATA / "diabetes_ridge.csv"))
    gbr = _print(ok_json(tmp_path, "eval", SAMPLE_DATA / "diabetes_gbr.csv"))
    # Two models on the same rows: the same targets, other predictions.
    assert ridge["targets"] == gbr["targets"] and ridge["fingerprint"] != gbr["fingerprint"]
    base = tmp_path / "base.json"
    base.write_text(run_lossctl(tmp_path, "eval", SAMPLE_DATA / "diabetes_ridge.csv",
                                "--json").stdout)  # fmt: skip
    same = run_lossctl(tmp_path, "eval", SAMPLE_DATA / "diabetes_gbr.csv", "--baseline", base,
                       "--tolerance", "50%")  # fmt: skip
    assert same.returncode == 0 and "different data" not in same.stderr
    df = pd.read_csv(SAMPLE_DATA / "diabetes_gbr.csv")
    df.loc[0, "y_true"] += 1.0
    df.to_csv(tmp_path / "other.csv", index=False)
    other = run_lossctl(tmp_path, "eval", tmp_path / "other.csv", "--baseline", base,
                        "--tolerance", "50%", "--json")  # fmt: skip
    warning = [w for w in json.loads(other.stdout)["warnings"] if "different data" in w]
    assert len(warning) == 1 and ridge["targets"] in warning[0]
