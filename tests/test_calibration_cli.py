"""The binned calibration errors ece, mce and rmsce through the installed CLI.

Each cost is checked against ``lossctl.get_loss(...).cost`` on the same arrays read
with pandas and against a plain implementation written here: bin b of a confidence p
is ``floor(p * B)`` clipped to B - 1, then moved so that ``b / B <= p < (b + 1) / B``
holds for the floats ``b / B`` (1.0 is in the last bin); ece is the weighted mean gap
between accuracy and confidence over the bins, mce the largest gap of a non-empty bin,
rmsce the root of the weighted mean squared gap.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import lossctl
from tests.conftest import SAMPLE_DATA, in_parts, ok_json, refused, run_lossctl

NAMES = ("ece", "mce", "rmsce")
MODELS = ("naive_bayes", "naive_bayes_isotonic", "svm_sigmoid")
CALIBRATION = SAMPLE_DATA / "breast_cancer_calibration.csv"
WINE = SAMPLE_DATA / "wine_multiclass.csv"
#: Two computations of the same sums in another order.
REL = 1e-12


# -- the reference -----------------------------------------------------------------------------


def bin_of(p: float, bins: int) -> int:
    """floor(p * B) clipped to [0, B - 1], corrected where float rounding put it off."""
    b = min(max(math.floor(p * bins), 0), bins - 1)
    while b > 0 and p < b / bins:
        b -= 1
    while b < bins - 1 and p >= (b + 1) / bins:
        b += 1
    return b


def by_numpy(
    conf: np.ndarray, acc: np.ndarray, bins: int = 15, weight: np.ndarray | None = None
) -> dict[str, float]:
    w = np.ones_like(conf) if weight is None else np.asarray(weight, dtype=np.float64)
    idx = np.array([bin_of(float(p), bins) for p in conf], dtype=np.intp)
    total = np.bincount(idx, w, bins)
    mean_conf = np.bincount(idx, w * conf, bins)
    mean_acc = np.bincount(idx, w * acc, bins)
    full = total > 0
    gap = np.abs(mean_acc[full] / total[full] - mean_conf[full] / total[full])
    share = total[full] / total.sum()
    return {
        "ece": float(np.dot(share, gap)),
        "mce": float(gap.max()),
        "rmsce": float(np.sqrt(np.dot(share, gap * gap))),
    }


def by_api(
    task: str, y: np.ndarray, p: np.ndarray, bins: int = 15, weight: np.ndarray | None = None
) -> dict[str, float]:
    out = {}
    for name in NAMES:
        loss = lossctl.get_loss(f"{name}:bins={bins}", task=task)
        out[name] = float(loss.cost(y, p) if weight is None else loss.cost(y, p, weight=weight))
    return out


def binary_reference(
    df: pd.DataFrame, model: str, bins: int = 15, weight: str | None = None
) -> dict[str, float]:
    """The numpy reference, after checking that the API agrees with it."""
    y = df["y_true"].to_numpy(np.float64)
    p = df[model].to_numpy(np.float64)
    w = None if weight is None else df[weight].to_numpy(np.float64)
    ref = by_numpy(p, y, bins, w)
    api = by_api("binary", y, p, bins, w)
    for name in NAMES:
        assert api[name] == pytest.approx(ref[name], rel=REL, abs=1e-15), name
    return ref


def costs(doc: dict[str, Any], keys: tuple[str, ...] = NAMES) -> dict[str, float]:
    return {k: doc["losses"][k]["cost"] for k in keys}


def assert_costs(got: dict[str, float], expected: dict[str, float]) -> None:
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=REL, abs=1e-15), key


def user_csv(df: pd.DataFrame, path: Path, seed: int = 0) -> Path:
    """Rows shuffled, columns reversed, pandas' index written: as users write files."""
    df.sample(frac=1.0, random_state=seed)[list(reversed(df.columns))].to_csv(path)
    return path


@pytest.fixture(scope="module")
def calibration() -> pd.DataFrame:
    """The sample file with a group column and weights."""
    df = pd.read_csv(CALIBRATION)
    rng = np.random.default_rng(7)
    df["site"] = rng.choice(["north", "south", "east"], len(df))
    df["w"] = rng.uniform(0.0, 3.0, len(df))
    return df


# -- binary --------------------------------------------------------------------------------------


@pytest.mark.parametrize("bins", [15, 10, 7])
@pytest.mark.parametrize("model", MODELS)
def test_sample_file_equals_the_api_and_numpy(tmp_path: Path, model: str, bins: int) -> None:
    df = pd.read_csv(CALIBRATION)
    spec = ",".join(f"{n}:bins={bins}" if bins != 15 else n for n in NAMES)
    doc = ok_json(tmp_path, "eval", CALIBRATION, "-p", model, "-l", spec)
    keys = tuple(f"{n}:bins={bins}" if bins != 15 else n for n in NAMES)
    got = dict(zip(NAMES, costs(doc, keys).values(), strict=True))
    assert_costs(got, binary_reference(df, model, bins))
    assert doc["n_used"] == 569 and doc["task"] == "binary"
    for key in keys:
        assert doc["losses"][key]["params"] == {"bins": float(bins)}
        assert doc["losses"][key]["weight_sum"] == 569.0


def test_parquet_and_a_users_csv_equal_the_sample(tmp_path: Path) -> None:
    df = pd.read_csv(CALIBRATION)
    expected = binary_reference(df, "naive_bayes")
    path = user_csv(df, tmp_path / "mine.csv")
    for source in (SAMPLE_DATA / "breast_cancer_calibration.parquet", path):
        doc = ok_json(tmp_path, "eval", source, "-t", "y_true", "-p", "naive_bayes",
                      "-l", ",".join(NAMES))  # fmt: skip
        assert_costs(costs(doc), expected)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_confidence_on_a_bin_edge_is_in_the_upper_bin(tmp_path: Path, fmt: str) -> None:
    """15/22 * 22 rounds to 14.999...: floor puts it a bin too low; just below 0.9,
    p * 10 rounds up to 9.0: floor puts it a bin too high."""
    assert math.floor(15 / 22 * 22) == 14 and bin_of(15 / 22, 22) == 15
    below = float(np.nextafter(0.9, 0.0))
    assert math.floor(below * 10) == 9 and bin_of(below, 10) == 8
    rng = np.random.default_rng(3)
    edges = [k / b for b in (10, 22) for k in range(b + 1)]
    p = np.array([
        *edges, *np.nextafter(edges, 0.0), *np.nextafter(edges, 1.0), 15 / 22, below, 1.0, 0.0,
    ])  # fmt: skip
    p = np.clip(p, 0.0, 1.0)
    y = (rng.uniform(size=p.size) < p**1.3).astype(float)
    df = pd.DataFrame({"y_true": y, "prob": p})
    path = tmp_path / f"edges.{fmt}"
    if fmt == "csv":
        df.to_csv(path)
        assert np.array_equal(pd.read_csv(path)["prob"].to_numpy(), p)  # exact round trip
    else:
        df.to_parquet(path)
    for bins in (10, 22):
        keys = tuple(f"{n}:bins={bins}" for n in NAMES)
        doc = ok_json(tmp_path, "eval", path, "-p", "prob", "-l", ",".join(keys))
        expected = binary_reference(df, "prob", bins)
        assert_costs(dict(zip(NAMES, costs(doc, keys).values(), strict=True)), expected)
        # The correction matters here: a floor-only binning gives other numbers.
        naive = np.minimum(np.floor(p * bins).astype(int), bins - 1)
        assert (naive != np.array([bin_of(float(v), bins) for v in p])).any()


@pytest.mark.parametrize("chunk", [1, 7, 50, None], ids=["c1", "c7", "c50", "default"])
def test_equal_across_chunk_sizes(
    tmp_path: Path, calibration: pd.DataFrame, chunk: int | None
) -> None:
    path = user_csv(calibration, tmp_path / "cal.csv", 4)
    extra = () if chunk is None else ("--chunk-size", chunk)
    doc = ok_json(tmp_path, "eval", path, "-p", "svm_sigmoid", "-l", ",".join(NAMES), *extra)
    assert_costs(costs(doc), binary_reference(calibration, "svm_sigmoid"))


def test_by_groups_and_weights(tmp_path: Path, calibration: pd.DataFrame) -> None:
    path = user_csv(calibration, tmp_path / "cal.csv", 5)
    args = ("eval", path, "-p", "naive_bayes", "-l", ",".join(NAMES), "--by", "site")
    for weight in (None, "w"):
        extra = () if weight is None else ("-w", weight)
        doc = ok_json(tmp_path, *args, *extra, "--chunk-size", 40)
        assert_costs(costs(doc), binary_reference(calibration, "naive_bayes", weight=weight))
        assert set(doc["groups"]) == {"east", "north", "south"}
        for site, rows in calibration.groupby("site"):
            group = doc["groups"][site]
            assert group["n_used"] == len(rows)
            expected = binary_reference(rows, "naive_bayes", weight=weight)
            assert_costs({k: group["losses"][k]["cost"] for k in NAMES}, expected)
            if weight is not None:
                assert group["losses"]["ece"]["weight_sum"] == pytest.approx(rows["w"].sum())
    # Weights change the numbers (else the test above would not tell); mce's worst bin
    # holds one row here, whose gap no weight changes.
    plain = binary_reference(calibration, "naive_bayes")
    weighted = binary_reference(calibration, "naive_bayes", weight="w")
    assert all(abs(plain[k] - weighted[k]) > 1e-6 for k in ("ece", "rmsce"))


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_parallel_parts_equal_one_pass(tmp_path: Path, calibration: pd.DataFrame, fmt: str) -> None:
    if fmt == "csv":
        path = user_csv(calibration, tmp_path / "cal.csv", 6)
    else:
        path = tmp_path / "cal.parquet"
        frame = calibration.assign(site=calibration["site"].astype("category"))
        frame.to_parquet(path, row_group_size=60)
    args = ("eval", path, "-p", "naive_bayes_isotonic", "-l", ",".join(NAMES), "-w", "w",
            "--by", "site")  # fmt: skip
    one = ok_json(tmp_path, *args)
    many = in_parts(tmp_path, 4000, *args, "--chunk-size", 25)
    assert_costs(costs(many), costs(one))
    assert_costs(costs(many), binary_reference(calibration, "naive_bayes_isotonic", weight="w"))
    for g, group in one["groups"].items():
        assert_costs({k: many["groups"][g]["losses"][k]["cost"] for k in NAMES},
                     {k: group["losses"][k]["cost"] for k in NAMES})  # fmt: skip


def test_dask_equals_local(tmp_path: Path, scheduler: str, calibration: pd.DataFrame) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    for i in range(4):
        calibration.iloc[i::4].to_parquet(folder / f"part-{i}.parquet")
    single = user_csv(calibration, tmp_path / "cal.csv", 8)
    dask = ("--engine", "dask", "--scheduler", scheduler)
    for path in (folder, single):
        args = ("eval", path, "-p", "naive_bayes", "-l", ",".join(NAMES), "-w", "w",
                "--by", "site", "--chunk-size", 30)  # fmt: skip
        local = ok_json(tmp_path, *args)
        remote = ok_json(tmp_path, *args, *dask)
        assert remote["n_used"] == local["n_used"] == 569
        assert_costs(costs(remote), costs(local))
        assert_costs(costs(remote), binary_reference(calibration, "naive_bayes", weight="w"))
        for g, group in local["groups"].items():
            assert_costs({k: remote["groups"][g]["losses"][k]["cost"] for k in NAMES},
                         {k: group["losses"][k]["cost"] for k in NAMES})  # fmt: skip


def test_text_labels_with_pos_label(tmp_path: Path) -> None:
    df = pd.read_csv(CALIBRATION)
    text = df.assign(y_true=np.where(df["y_true"] == 1, "benign", "malignant"))
    path = user_csv(text, tmp_path / "labels.csv", 9)
    doc = ok_json(tmp_path, "eval", path, "-t", "y_true", "-p", "naive_bayes",
                  "-l", ",".join(NAMES), "--pos-label", "benign")  # fmt: skip
    assert doc["columns"]["pos_label"] == "benign"
    assert_costs(costs(doc), binary_reference(df, "naive_bayes"))


# -- multiclass ---------------------------------------------------------------------------------


def test_multiclass_wine_with_detected_probability_columns(tmp_path: Path) -> None:
    df = pd.read_csv(WINE)
    cols = [c for c in df.columns if c.startswith("prob_")]
    probs = df[cols].to_numpy(np.float64)
    labels = df["y_true"].map({c.removeprefix("prob_"): i for i, c in enumerate(cols)})
    y = labels.to_numpy(np.intp)
    top = probs.argmax(axis=1)
    expected = by_numpy(probs.max(axis=1), (top == y).astype(float))
    api = by_api("multiclass", y, probs)
    assert_costs(api, expected)
    rng = np.random.default_rng(2)
    w = rng.uniform(0.5, 2.0, len(df))
    path = user_csv(df.assign(w=w), tmp_path / "wine.csv", 3)
    for source in (WINE, path):
        doc = ok_json(tmp_path, "eval", source, "-l", ",".join(NAMES))
        assert doc["task"] == "multiclass"
        assert sorted(doc["columns"]["pred"]) == cols  # in the file's order
        assert_costs(costs(doc), expected)
    weighted = ok_json(tmp_path, "eval", path, "-p", "prob_*", "-l", ",".join(NAMES), "-w", "w")
    assert_costs(costs(weighted), by_numpy(probs.max(axis=1), (top == y).astype(float), 15, w))
    assert_costs(costs(weighted), by_api("multiclass", y, probs, 15, w))
    # Per group: the bins of the group's rows only.
    grouped = ok_json(tmp_path, "eval", path, "-l", ",".join(NAMES), "--by", "y_true",
                      "--chunk-size", 16)  # fmt: skip
    for label, rows in df.groupby("y_true"):
        sel = (df["y_true"] == label).to_numpy()
        expected = by_numpy(probs[sel].max(axis=1), (top[sel] == y[sel]).astype(float))
        losses = grouped["groups"][label]["losses"]
        assert_costs({k: losses[k]["cost"] for k in NAMES}, expected)
        assert grouped["groups"][label]["n_used"] == len(rows)


# -- per-sample ---------------------------------------------------------------------------------


def test_per_sample_leaves_binned_losses_out_with_one_warning(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    args = ("eval", CALIBRATION, "-p", "naive_bayes", "-l", "ece,mce,rmsce,brier",
            "--per-sample", out, "--json")  # fmt: skip
    res = run_lossctl(tmp_path, *args)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    notes = [w for w in doc["warnings"] if "binned" in w]
    assert notes == [
        "--per-sample has no column for ece, mce, rmsce: a binned calibration error has no "
        "per-sample value (its cost comes from the bins of all rows)."
    ]
    assert res.stderr.count("binned calibration error has no per-sample value") == 1
    rows = pd.read_csv(out)
    assert len(rows) == 569
    assert "brier" in rows.columns
    assert not {"ece", "mce", "rmsce"} & set(rows.columns)
    df = pd.read_csv(CALIBRATION)
    assert np.allclose(rows["brier"], (df["naive_bayes"] - df["y_true"]) ** 2, rtol=1e-12)
    for key in NAMES:
        stats = doc["losses"][key]
        assert [stats[s] for s in ("sum", "std", "min", "max")] == [None, None, None, None]
        assert stats["cost"] == pytest.approx(binary_reference(df, "naive_bayes")[key])
    # Without --per-sample there is no such warning, and the statistics are null too.
    plain = ok_json(tmp_path, "eval", CALIBRATION, "-p", "naive_bayes", "-l", "ece")
    assert plain["warnings"] == []
    assert [plain["losses"]["ece"][s] for s in ("sum", "std", "min", "max")] == [None] * 4


# -- errors -------------------------------------------------------------------------------------


def test_multiclass_logits_are_refused(tmp_path: Path) -> None:
    msg = refused(tmp_path, "eval", SAMPLE_DATA / "iris_multiclass_logits.csv", "-l", "ece")
    assert "loss 'ece'" in msg and "probabilities in [0, 1]" in msg
    assert "iris_multiclass_logits.csv" in msg


def test_binary_scores_outside_zero_one_are_refused(tmp_path: Path) -> None:
    msg = refused(tmp_path, "eval", SAMPLE_DATA / "breast_cancer_scores.csv", "-l", "ece")
    assert "loss 'ece'" in msg and "column 'score'" in msg
    assert "a probability in [0, 1]" in msg and "sigmoid" in msg
    df = pd.read_csv(CALIBRATION)
    df.loc[10, "svm_sigmoid"] = 1.5  # one value out of range in a probability column
    path = user_csv(df, tmp_path / "one_bad.csv")
    msg = refused(tmp_path, "eval", path, "-p", "svm_sigmoid", "-l", "mce")
    assert "loss 'mce'" in msg and "column 'svm_sigmoid'" in msg and "1.5" in msg


@pytest.mark.parametrize(
    "spec, words",
    [
        ("ece:bins=0", "must be in [1, 10000], got 0"),
        ("ece:bins=2.5", "must be a whole number, got 2.5"),
        ("rmsce:bins=-3", "got -3"),
    ],
)
def test_bad_bins_are_refused(tmp_path: Path, spec: str, words: str) -> None:
    msg = refused(tmp_path, "eval", CALIBRATION, "-p", "naive_bayes", "-l", spec)
    assert "parameter 'bins'" in msg and words in msg
