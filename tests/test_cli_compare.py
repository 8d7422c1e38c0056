"""``lossctl compare``: inputs, pairing, statistics in the output, gates and errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from lossctl.cli import app
from tests.conftest import SAMPLE_DATA

RIDGE = SAMPLE_DATA / "diabetes_ridge.csv"
GBR = SAMPLE_DATA / "diabetes_gbr.csv"
REG = SAMPLE_DATA / "diabetes_regression.csv"
BIN = SAMPLE_DATA / "breast_cancer_binary.csv"


def cmp(runner, *args):
    return runner.invoke(app, ["compare", *map(str, args)])


def cmp_json(runner, *args) -> dict:
    res = cmp(runner, *args, "--json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_two_files_json_contract(runner):
    doc = cmp_json(runner, RIDGE, GBR, "--resamples", "500")
    assert doc["command"] == "compare" and doc["schema_version"] == 1
    assert doc["baseline"] == "diabetes_ridge"
    assert doc["models"] == {
        "diabetes_ridge": {"source": str(RIDGE), "column": "y_pred"},
        "diabetes_gbr": {"source": str(GBR), "column": "y_pred"},
    }
    assert doc["aligned_by"] == "row"
    assert doc["test"] == {
        "method": "bootstrap",
        "resamples": 500,
        "seed": 0,
        "confidence": 0.95,
        "horizon": None,
    }
    ridge, gbr = pd.read_csv(RIDGE), pd.read_csv(GBR)
    mse = doc["losses"]["mse"]
    assert mse["costs"]["diabetes_ridge"] == pytest.approx(
        metrics.mean_squared_error(ridge.y_true, ridge.y_pred), rel=1e-12
    )
    assert mse["best"] == "diabetes_ridge"
    v = mse["vs_baseline"]["diabetes_gbr"]
    assert set(v) == {
        "delta",
        "relative",
        "ci",
        "p_value",
        "p_value_adjusted",
        "significant",
        "win_rate",
    }
    assert v["delta"] == pytest.approx(
        mse["costs"]["diabetes_gbr"] - mse["costs"]["diabetes_ridge"]
    )
    assert v["relative"] == pytest.approx(v["delta"] / mse["costs"]["diabetes_ridge"])
    assert v["ci"][0] <= v["delta"] <= v["ci"][1]
    assert v["p_value_adjusted"] == v["p_value"]  # one candidate: nothing to adjust
    err_r, err_g = (ridge.y_pred - ridge.y_true) ** 2, (gbr.y_pred - gbr.y_true) ** 2
    assert v["win_rate"] == pytest.approx(np.mean(err_g < err_r) + 0.5 * np.mean(err_g == err_r))
    rmse = doc["losses"]["rmse"]["vs_baseline"]["diabetes_gbr"]
    assert rmse["delta"] == pytest.approx(
        metrics.root_mean_squared_error(gbr.y_true, gbr.y_pred)
        - metrics.root_mean_squared_error(ridge.y_true, ridge.y_pred),
        rel=1e-12,
    )


def test_identical_models_not_significant(runner):
    doc = cmp_json(runner, REG, "--pred", "y_pred", "--pred", "y_pred", "--names", "a,b")
    for comp in doc["losses"].values():
        v = comp["vs_baseline"]["b"]
        assert v["ci"][0] <= 0 <= v["ci"][1]
        assert v["significant"] is False and v["p_value"] == 1.0 and v["win_rate"] == 0.5


def test_clearly_worse_noisy_copy_is_significant_with_the_right_sign(runner, tmp_path):
    df = pd.read_csv(REG)
    df["noisy"] = df.y_pred + np.random.default_rng(0).normal(0, 40, len(df))
    path = tmp_path / "noisy.parquet"
    df.to_parquet(path)
    doc = cmp_json(runner, path, "-p", "y_pred", "-p", "noisy", "-l", "mse,mae")
    for comp in doc["losses"].values():
        v = comp["vs_baseline"]["noisy"]
        assert v["significant"] is True and v["delta"] > 0 and v["ci"][0] > 0
        assert v["win_rate"] < 0.5
    # As the baseline, the better model is named best and the other significantly better.
    doc = cmp_json(runner, path, "-p", "y_pred", "-p", "noisy", "-l", "mse", "--baseline", "noisy")
    v = doc["losses"]["mse"]["vs_baseline"]["y_pred"]
    assert doc["losses"]["mse"]["best"] == "y_pred" and v["delta"] < 0 and v["significant"]


def test_same_seed_same_output_and_seed_recorded(runner):
    args = [RIDGE, GBR, "--resamples", "300", "--seed", "42"]
    assert cmp(runner, *args, "--json").stdout == cmp(runner, *args, "--json").stdout
    other = cmp_json(runner, RIDGE, GBR, "--resamples", "300", "--seed", "43")
    assert other["test"]["seed"] == 43
    table = cmp(runner, *args).stdout
    assert "paired bootstrap, 300 resamples, seed 42" in " ".join(table.split())


def test_three_models_holm_adjusted(runner, tmp_path):
    df = pd.read_csv(REG)
    df["copy"] = df.y_pred + 1e-9
    path = tmp_path / "three.csv"
    df.to_csv(path, index=False)
    doc = cmp_json(
        runner,
        path,
        "-p",
        "y_pred",
        "-p",
        "y_pred_gbr",
        "-p",
        "copy",
        "-l",
        "mse",
        "--test",
        "ttest",
    )
    vs = doc["losses"]["mse"]["vs_baseline"]
    ps = [vs["y_pred_gbr"]["p_value"], vs["copy"]["p_value"]]
    lo, hi = sorted(ps)
    expected = {p: (min(1, 2 * lo) if p == lo else max(min(1, 2 * lo), hi)) for p in ps}
    for name in ("y_pred_gbr", "copy"):
        assert vs[name]["p_value_adjusted"] == pytest.approx(expected[vs[name]["p_value"]])
        assert vs[name]["significant"] == (vs[name]["p_value_adjusted"] < 0.05)
    assert "Holm-adjusted over 2 candidates" in " ".join(
        cmp(runner, path, "-p", "y_pred", "-p", "y_pred_gbr", "-p", "copy").stdout.split()
    )


@pytest.mark.parametrize("test", ["permutation", "ttest", "wilcoxon", "dm", "none"])
def test_other_tests_run(runner, test):
    doc = cmp_json(runner, RIDGE, GBR, "--test", test, "--resamples", "200", "-l", "mse,mae")
    assert doc["test"]["method"] == test
    v = doc["losses"]["mse"]["vs_baseline"]["diabetes_gbr"]
    if test == "none":
        assert v["p_value"] is None and v["significant"] is None
    else:
        assert 0 < v["p_value"] <= 1


def test_ttest_p_value_equals_scipy(runner):
    from scipy import stats as sps

    ridge, gbr = pd.read_csv(RIDGE), pd.read_csv(GBR)
    doc = cmp_json(runner, RIDGE, GBR, "--test", "ttest", "-l", "mae")
    v = doc["losses"]["mae"]["vs_baseline"]["diabetes_gbr"]
    ref = sps.ttest_rel((gbr.y_pred - gbr.y_true).abs(), (ridge.y_pred - ridge.y_true).abs())
    assert v["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)


def test_mcnemar_for_zero_one(runner):
    doc = cmp_json(
        runner, BIN, "-p", "prob", "-p", "prob_rf", "-l", "zero_one", "--test", "mcnemar"
    )
    assert 0 < doc["losses"]["zero_one"]["vs_baseline"]["prob_rf"]["p_value"] <= 1
    res = cmp(runner, BIN, "-p", "prob", "-p", "prob_rf", "-l", "bce", "--test", "mcnemar")
    assert res.exit_code == 2 and "mcnemar is for the zero_one loss" in res.stderr


def test_align_by_id_with_shuffled_rows_equals_by_position(runner, tmp_path):
    gbr = pd.read_csv(GBR).sample(frac=1.0, random_state=3)
    shuffled = tmp_path / "diabetes_gbr.parquet"
    gbr.to_parquet(shuffled)
    by_id = cmp_json(runner, RIDGE, shuffled, "--id", "id", "--resamples", "300")
    by_pos = cmp_json(runner, RIDGE, GBR, "--resamples", "300")
    assert by_id["aligned_by"] == "id"
    for key in by_pos["losses"]:
        a, b = by_id["losses"][key], by_pos["losses"][key]
        assert a["costs"]["diabetes_gbr"] == pytest.approx(b["costs"]["diabetes_gbr"], rel=1e-12)
        assert a["vs_baseline"] == b["vs_baseline"]


def test_nan_omit_drops_a_row_for_all_models(runner, tmp_path):
    df = pd.read_csv(REG)
    df.loc[[3, 10], "y_pred_gbr"] = np.nan
    df.loc[[10, 20], "y_pred"] = np.nan
    path = tmp_path / "nan.csv"
    df.to_csv(path, index=False)
    res = cmp(runner, path, "-p", "y_pred", "-p", "y_pred_gbr", "--nan", "omit", "-l", "mse")
    assert res.exit_code == 0
    assert "dropped 3 of 442 rows" in res.stderr
    doc = cmp_json(runner, path, "-p", "y_pred", "-p", "y_pred_gbr", "--nan", "omit", "-l", "mse")
    keep = df.y_pred.notna() & df.y_pred_gbr.notna()
    assert doc["n_used"] == 439 and doc["n_dropped"] == 3
    assert doc["losses"]["mse"]["costs"]["y_pred"] == pytest.approx(
        metrics.mean_squared_error(df.y_true[keep], df.y_pred[keep]), rel=1e-12
    )
    res = cmp(runner, path, "-p", "y_pred", "-p", "y_pred_gbr")
    assert res.exit_code == 2 and "--nan omit" in res.stderr


def test_multiclass_models_by_glob(runner, tmp_path):
    df = pd.read_csv(SAMPLE_DATA / "wine_multiclass.csv")
    for c in ("class_0", "class_1", "class_2"):
        df[f"b_prob_{c}"] = df[f"prob_{c}"] * 0.8 + 0.2 / 3
    df = df.rename(columns={f"prob_{c}": f"a_prob_{c}" for c in ("class_0", "class_1", "class_2")})
    path = tmp_path / "two.csv"
    df.to_csv(path, index=False)
    doc = cmp_json(runner, path, "-p", "a_prob_*", "-p", "b_prob_*", "--names", "a,b")
    assert doc["task"] == "multiclass"
    assert doc["models"]["a"]["column"] == ["a_prob_class_0", "a_prob_class_1", "a_prob_class_2"]
    assert doc["losses"]["cross_entropy"]["vs_baseline"]["b"]["delta"] > 0


def test_outputs_markdown_csv_and_table(runner):
    md = cmp(runner, RIDGE, GBR, "--format", "markdown", "--resamples", "200").stdout
    assert md.startswith("**lossctl compare**")
    assert "diabetes_gbr vs diabetes_ridge: worse on mse" in md
    rows = cmp(runner, RIDGE, GBR, "--format", "csv", "--resamples", "200", "-l", "mse").stdout
    lines = rows.splitlines()
    assert lines[0].startswith("loss,model,baseline,cost,delta,relative,ci_low,ci_high,p_value")
    assert len(lines) == 3 and lines[1].startswith("mse,diabetes_ridge,true,")
    table = " ".join(cmp(runner, RIDGE, GBR, "--resamples", "200").stdout.split())
    assert "(baseline)" in table and "lower is better" in table and "* = significant" in table


def test_fail_if_worse_and_tolerance(runner):
    res = cmp(runner, RIDGE, GBR, "--fail-if-worse", "-l", "mse", "--resamples", "500", "--json")
    assert res.exit_code == 1
    doc = json.loads(res.stdout)
    f = doc["gate"]["failures"][0]
    assert f["loss"] == "mse" and f["model"] == "diabetes_gbr" and f["kind"] == "worse"
    assert "diabetes_gbr is significantly worse than diabetes_ridge on mse" in res.stderr
    ok = cmp(runner, RIDGE, GBR, "--fail-if-worse", "--tolerance", "0.2", "-l", "mse", "-q")
    assert ok.exit_code == 0 and ok.stdout == ""
    better = cmp(runner, GBR, RIDGE, "--fail-if-worse", "-l", "mse", "-q")
    assert better.exit_code == 0


def test_max_gate_on_every_model(runner):
    res = cmp(runner, RIDGE, GBR, "--max", "rmse=56", "-l", "rmse", "-q")
    assert res.exit_code == 1
    assert res.stderr.strip() == "Gate failed: rmse of diabetes_gbr = 58.023 > max 56"


BAD = [
    (["{reg}"], "compare needs at least two models"),
    (["{reg}", "-p", "y_pred"], "compare needs at least two models"),
    (["{ridge}", "{short}"], "has 441 rows but"),
    (["{ridge}", "{changed}"], "first differ at row 5"),
    (["{ridge}", "{dup}", "--id", "id"], "must be unique"),
    (["{ridge}", "{missing}", "--id", "id"], "ids of"),
    (["{ridge}", "{gbr}", "--baseline", "nope"], "--baseline 'nope'"),
    (["{ridge}", "{gbr}", "--names", "a"], "--names gives 1 names for 2 models"),
    (["{ridge}", "{gbr}", "--confidence", "1.5"], "--confidence must be in (0, 1)"),
    (["{ridge}", "{gbr}", "--test", "magic"], "magic"),
    (["{ridge}", "{gbr}", "-w", "id", "--test", "ttest"], "does not support sample weights"),
]


@pytest.mark.parametrize(("args", "message"), BAD)
def test_bad_input_exit_2(runner, tmp_path, args, message):
    ridge = pd.read_csv(RIDGE)
    paths = {"reg": REG, "ridge": RIDGE, "gbr": GBR}
    for name, frame in {
        "short": ridge.iloc[:-1],
        "changed": ridge.assign(y_true=ridge.y_true.where(ridge.index != 4, -1.0)),
        "dup": ridge.assign(id=ridge.id.where(ridge.index != 7, 3)),
        "missing": ridge.assign(id=ridge.id + 1000 * (ridge.index < 3)),
    }.items():
        paths[name] = tmp_path / f"{name}.csv"
        frame.to_csv(paths[name], index=False)
    res = cmp(runner, *[a.format(**paths) for a in args])
    assert res.exit_code == 2, res.output
    assert len(res.stderr.splitlines()) == 1 and res.stderr.startswith("Error: ")
    assert message in res.stderr


def test_bootstrap_progress_bar_on_a_terminal(runner, monkeypatch):
    # A terminal on stderr (faked: the runner captures it) shows the bootstrap's bar, at
    # once here (no delay); the numbers are those of a run without it; --json and -q
    # show none, as for eval's reading bar.
    import io
    import types

    from rich.console import Console

    from lossctl.cli import progress, state

    screen = io.StringIO()
    monkeypatch.setattr(state, "err", lambda: Console(file=screen, force_terminal=True, width=100))
    monkeypatch.setattr(progress, "DELAY", 0.0)
    base = [RIDGE, GBR, "-l", "mse,rmse,mae", "--resamples", "400"]
    digits = ["--format", "csv", "--precision", "17"]

    def run(*args, terminal=True):
        screen.seek(0)
        screen.truncate()
        stderr = types.SimpleNamespace(isatty=lambda: terminal)
        monkeypatch.setattr(progress, "sys", types.SimpleNamespace(stderr=stderr))
        res = cmp(runner, *args)
        assert res.exit_code == 0, res.output
        return res.stdout, screen.getvalue()

    shown, bar = run(*base, *digits)
    assert "bootstrap" in bar and "%" in bar
    plain, nothing = run(*base, *digits, terminal=False)
    assert nothing == "" and plain == shown
    for extra in (["--json"], ["-q"]):
        assert run(*base, *extra)[1] == ""


def test_bootstrap_progress_hears_of_every_draw():
    # The total announced is every bootstrap's draws: the shared draws of bce and the
    # binned ece's own (its statistic is recomputed per resample).
    from lossctl.flows.compare import run_compare
    from lossctl.options import CompareOptions, Progress

    class Recorder(Progress):
        def __init__(self):
            self.total, self.done = None, 0

        def start(self, total_rows):
            self.total = total_rows

        def advance(self, rows):
            self.done += rows

    cal = SAMPLE_DATA / "breast_cancer_calibration.csv"
    rec = Recorder()
    report = run_compare(CompareOptions(
        files=[str(cal)], pred=["naive_bayes", "naive_bayes_isotonic"], losses=["bce", "ece"],
        resamples=50, progress=rec,
    ))  # fmt: skip
    assert rec.total == rec.done == 2 * report.n_used * 50
