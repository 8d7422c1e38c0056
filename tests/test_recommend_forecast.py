"""``lossctl recommend`` on forecast panels (``--series``, ``--train``) and on the
calibration of probabilities: every number a reason states is recomputed here by hand
(pandas, numpy) or taken from ``lossctl eval``, and the rankings follow the rules of
:mod:`lossctl.flows.recommend.panel` and :mod:`lossctl.flows.recommend.calibration`."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SAMPLE_DATA, run_lossctl

FORECASTS = SAMPLE_DATA / "macro_forecasts.csv"
HISTORY = SAMPLE_DATA / "macro_train.csv"
CALIBRATION = SAMPLE_DATA / "breast_cancer_calibration.csv"
PANEL = ("--series", "unique_id", "--time", "ds")
WITH_HISTORY = (*PANEL, "--train", HISTORY, "--season", "4")


def _no_nan(token: str) -> None:
    raise AssertionError(f"JSON carries {token}")


def run_json(tmp_path: Path, *args: object) -> tuple[dict, str]:
    """The strict JSON (no NaN) and the stderr of a run that succeeded."""
    res = run_lossctl(tmp_path, *args, "--json")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    return json.loads(res.stdout, parse_constant=_no_nan), res.stderr


def rec(tmp_path: Path, *args: object) -> dict:
    return run_json(tmp_path, "recommend", *args)[0]


def keys(doc: dict) -> list[str]:
    return [r["loss"] for r in doc["recommendations"]]


def by_key(doc: dict, key: str) -> dict:
    return next(r for r in doc["recommendations"] if r["loss"] == key)


def text(doc: dict, key: str) -> str:
    return " ".join(by_key(doc, key)["reasons"])


def eval_costs(tmp_path: Path, *args: object) -> dict[str, float]:
    doc = run_json(tmp_path, "eval", *args)[0]
    return {k: v["cost"] for k, v in doc["losses"].items()}


def size(x: float) -> str:
    """How the reasons write a scale or ratio: 3 significant digits, thousands grouped."""
    rounded = float(f"{x:.3g}")
    return f"{rounded:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def pct(share: float) -> str:
    return f"{100 * share:.3g}%"


# --- the panel --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def macro() -> pd.DataFrame:
    return pd.read_csv(FORECASTS)


def series_scales(frame: pd.DataFrame) -> pd.Series:
    """Each series' mean |y| in the forecast file."""
    return frame.groupby("unique_id")["y"].apply(lambda y: y.abs().mean())


def history_scales(season: int) -> pd.DataFrame:
    """Each series' mean |y_t - y_(t-m)| and mean (y_t - y_(t-m))^2 over its history."""
    hist = pd.read_csv(HISTORY).sort_values(["unique_id", "ds"])
    d = hist.groupby("unique_id")["y"].diff(season)
    hist = hist.assign(abs=d.abs(), sq=d * d)
    return hist.groupby("unique_id")[["abs", "sq"]].mean()


def test_panel_with_history_ranks_mase_then_rmsse_with_the_numbers(tmp_path, macro):
    doc = rec(tmp_path, FORECASTS, "-p", "HoltWinters", *WITH_HISTORY)
    assert keys(doc)[:2] == ["mase", "rmsse"]
    f = doc["facts"]
    scales = series_scales(macro)
    ratio = scales.max() / scales.min()
    assert f["series_count"] == 8 and f["series_column"] == "unique_id"
    assert f["series_scale_ratio"] == pytest.approx(ratio, rel=1e-12)
    assert (f["series_largest"], f["series_smallest"]) == (scales.idxmax(), scales.idxmin())
    first = by_key(doc, "mase")["reasons"][0]
    assert f"differ {size(ratio)}-fold" in first  # "13,000-fold"
    assert f["series_largest_scale"] == pytest.approx(scales.max(), rel=1e-12)
    assert f["series_smallest_scale"] == pytest.approx(scales.min(), rel=1e-12)
    # (the facts' own values: 1.015 is on a rounding edge, 1.0149999... in one sum order)
    assert f"{size(f['series_largest_scale'])} in '{scales.idxmax()}'" in first  # 13,200
    assert f"{size(f['series_smallest_scale'])} in '{scales.idxmin()}'" in first
    # The series carrying most of the pooled absolute error, recomputed.
    err = (macro.HoltWinters - macro.y).abs().groupby(macro.unique_id).sum()
    share = err.sort_values(ascending=False).cumsum() / err.sum()
    top = list(share.index[: int((share < 0.5).sum()) + 1])
    assert top == ["realgdp", "realinv"]
    assert f"'realgdp' and 'realinv' carry {pct(share.iloc[1])} of the absolute error" in first
    # The costs: by hand from the history, and as lossctl eval computes them.
    h = history_scales(4)
    r = (macro.HoltWinters - macro.y).to_numpy()
    ids = macro.unique_id.to_numpy()
    mase = pd.Series(np.abs(r) / h["abs"].loc[ids].to_numpy()).groupby(ids).mean()
    rmsse = np.sqrt(pd.Series(r * r / h["sq"].loc[ids].to_numpy()).groupby(ids).mean())
    assert by_key(doc, "mase")["cost"] == pytest.approx(mase.mean(), rel=1e-9)
    assert by_key(doc, "rmsse")["cost"] == pytest.approx(rmsse.mean(), rel=1e-9)
    costs = eval_costs(tmp_path, FORECASTS, "-p", "HoltWinters", "-l", "mase,rmsse", *WITH_HISTORY)
    assert by_key(doc, "mase")["cost"] == pytest.approx(costs["mase"], rel=1e-12)
    assert by_key(doc, "rmsse")["cost"] == pytest.approx(costs["rmsse"], rel=1e-12)
    below = int((mase < 1).sum())
    series = "series has" if below == 1 else "series have"
    assert f"Here {below} of 8 {series} MASE below 1" in text(doc, "mase")
    assert f"the worst is '{mase.idxmax()}'" in text(doc, "mase")
    assert "M5" in text(doc, "rmsse") and "none are here" in text(doc, "rmsse")
    assert f["season"] == 4 and f["history"].endswith("macro_train.csv")
    assert all(r["cost"] is not None for r in doc["recommendations"])
    assert doc["warnings"] == []


@pytest.mark.parametrize("model", ["SeasonalNaive", "GBR"])
def test_every_model_of_the_panel_ranks_mase_first(tmp_path, model):
    doc = rec(tmp_path, FORECASTS, "-p", model, *WITH_HISTORY)
    assert keys(doc)[:2] == ["mase", "rmsse"]
    costs = eval_costs(tmp_path, FORECASTS, "-p", model, "-l", "mase", *WITH_HISTORY)
    assert by_key(doc, "mase")["cost"] == pytest.approx(costs["mase"], rel=1e-12)


def test_panel_without_history_recommends_them_with_no_cost(tmp_path):
    res = run_lossctl(tmp_path, "recommend", FORECASTS, "-p", "HoltWinters", *PANEL, "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout, parse_constant=_no_nan)  # a NaN cost is null, never NaN
    assert keys(doc)[:2] == ["mase", "rmsse"]
    for key in ("mase", "rmsse"):
        assert by_key(doc, key)["cost"] is None
        assert "needs --train (the history) to compute" in text(doc, key)
    # The documented exception: only a scaled loss without the history has no cost.
    assert all(r["cost"] is not None for r in doc["recommendations"][2:])
    assert doc["facts"]["history"] is None
    # recommend uses --series: no warning that it is ignored.
    assert "ignored" not in res.stderr and doc["warnings"] == []
    table = run_lossctl(tmp_path, "recommend", FORECASTS, "-p", "HoltWinters", *PANEL)
    assert table.returncode == 0 and "nan" not in table.stdout
    md = run_lossctl(tmp_path, "recommend", FORECASTS, "-p", "HoltWinters", *PANEL,
                     "--format", "markdown")  # fmt: skip
    assert "1. `mase` (cost not computed)" in md.stdout


def test_a_history_without_a_series_is_an_error_naming_it(tmp_path):
    short = tmp_path / "train.csv"
    hist = pd.read_csv(HISTORY)
    hist[hist.unique_id != "unemp"].to_csv(short, index=False)
    res = run_lossctl(tmp_path, "recommend", FORECASTS, "-p", "GBR", *PANEL, "--train", short)
    assert res.returncode == 2
    assert "'unemp' (not in the history)" in res.stderr and "Traceback" not in res.stderr


def write_panel(
    tmp_path: Path, name: str, rates: dict[str, float], zeros: bool, seed: int
) -> tuple[Path, Path]:
    """A Nixtla-like panel (unique_id, ds, y, model) and its history: Poisson counts
    (intermittent when the rates are small) or Gaussian levels."""
    rng = np.random.default_rng(seed)
    hist, fc = [], []
    for sid, rate in rates.items():
        n = 72
        y = rng.poisson(rate, n).astype(float) if zeros else rate + rng.normal(0, rate / 10, n)
        ds = pd.date_range("2020-01-01", periods=n, freq="W")
        hist.append(pd.DataFrame({"unique_id": sid, "ds": ds[:60], "y": y[:60]}))
        pred = np.full(12, y[:60].mean())
        fc.append(pd.DataFrame({"unique_id": sid, "ds": ds[60:], "y": y[60:], "model": pred}))
    train, forecasts = tmp_path / f"{name}_train.csv", tmp_path / f"{name}.csv"
    pd.concat(hist).to_csv(train, index=False)
    pd.concat(fc).to_csv(forecasts, index=False)
    return forecasts, train


def test_intermittent_series_rank_rmsse_first(tmp_path):
    forecasts, train = write_panel(
        tmp_path, "sales", {"a": 0.3, "b": 0.6, "c": 1.0, "d": 0.2}, zeros=True, seed=3
    )
    frame = pd.read_csv(forecasts)
    zero_share = float((frame.y == 0).mean())
    assert zero_share >= 0.05
    args = (forecasts, "-p", "model", *PANEL, "--train", train)
    doc = rec(tmp_path, *args)
    assert keys(doc)[:2] == ["rmsse", "mase"]
    reasons = text(doc, "rmsse")
    assert f"{pct(zero_share)} of the targets are exactly 0" in reasons
    assert "intermittent" in reasons and "rewards forecasting nothing" in reasons
    assert "Ranked after rmsse" in text(doc, "mase")
    costs = eval_costs(tmp_path, *args, "-l", "mase,rmsse")
    assert by_key(doc, "rmsse")["cost"] == pytest.approx(costs["rmsse"], rel=1e-12)
    assert by_key(doc, "mase")["cost"] == pytest.approx(costs["mase"], rel=1e-12)


def test_series_of_alike_scales_still_rank_mase_first_and_say_so(tmp_path):
    forecasts, train = write_panel(
        tmp_path, "levels", {"a": 100.0, "b": 150.0, "c": 120.0}, zeros=False, seed=4
    )
    doc = rec(tmp_path, forecasts, "-p", "model", *PANEL, "--train", train)
    assert keys(doc)[:2] == ["mase", "rmsse"]
    ratio = series_scales(pd.read_csv(forecasts)).pipe(lambda s: s.max() / s.min())
    assert doc["facts"]["series_scale_ratio"] == pytest.approx(ratio, rel=1e-12)
    assert f"are alike (within {size(ratio)}-fold" in text(doc, "mase")
    # No pooled-error sentence on the absolute losses: the scales are alike.
    assert not any("pools their errors" in " ".join(r["reasons"]) for r in doc["recommendations"])


def test_series_on_a_classifier_is_a_note_not_a_ranking(tmp_path):
    rng = np.random.default_rng(5)
    p = rng.uniform(0, 1, 400)
    frame = pd.DataFrame({
        "store": rng.choice(["s1", "s2"], 400), "y_true": (rng.random(400) < p).astype(int),
        "prob": p,
    })  # fmt: skip
    path = tmp_path / "stores.csv"
    frame.to_csv(path, index=False)
    doc = rec(tmp_path, path, "--series", "store")
    assert keys(doc)[0] == "bce" and "mase" not in keys(doc)
    assert any("--series store" in n and "not used for the ranking" in n for n in doc["notes"])


# --- the suggestion of --series ---------------------------------------------------------------


def test_a_panel_without_series_gets_a_note_suggesting_it(tmp_path, macro):
    doc = rec(tmp_path, FORECASTS, "-p", "HoltWinters")
    assert doc["task"] == "regression" and "mase" not in keys(doc)
    note = next(n for n in doc["notes"] if n.startswith("This looks like a forecast panel"))
    assert "'unique_id' repeats 8 values over the file" in note and "'ds' looks like time" in note
    assert "--series unique_id --time ds" in note and "not used unless you say so" in note
    scales = series_scales(macro)
    assert f"{size(scales.max() / scales.min())}-fold" in note
    assert "series_column" not in doc["facts"]  # never used silently


def test_a_nixtla_like_parquet_file_gets_the_note_and_others_do_not(tmp_path):
    forecasts, _ = write_panel(tmp_path, "nixtla", {"x": 10.0, "y": 900.0}, zeros=False, seed=6)
    frame = pd.read_csv(forecasts)
    parquet = tmp_path / "nixtla.parquet"
    frame.to_parquet(parquet)
    doc = rec(tmp_path, parquet, "-p", "model")
    assert any("--series unique_id --time ds" in n for n in doc["notes"])
    # No time column, or an id on every row: not a panel, no note.
    no_time = tmp_path / "no_time.csv"
    frame.drop(columns="ds").to_csv(no_time, index=False)
    unique = tmp_path / "unique.csv"
    frame.assign(unique_id=[f"r{i}" for i in range(len(frame))]).to_csv(unique, index=False)
    for path in (no_time, unique):
        doc = rec(tmp_path, path, "-p", "model")
        assert not any("forecast panel" in n for n in doc["notes"]), path.name


# --- calibration ------------------------------------------------------------------------------


def ece_by_hand(y: np.ndarray, p: np.ndarray, bins: int = 15) -> float:
    """ECE of binary probabilities: equal-width bins of p against the share of positives."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        rows = idx == b
        if rows.any():
            total += rows.mean() * abs(y[rows].mean() - p[rows].mean())
    return total


def test_an_over_confident_classifier_gets_ece_as_a_diagnostic(tmp_path):
    frame = pd.read_csv(CALIBRATION)
    y, p = frame.y_true.to_numpy(float), frame.naive_bayes.to_numpy()
    doc = rec(tmp_path, CALIBRATION, "-p", "naive_bayes")
    f = doc["facts"]
    ece = eval_costs(tmp_path, CALIBRATION, "-p", "naive_bayes", "-l", "ece")["ece"]
    assert f["ece"] == pytest.approx(ece, rel=1e-12)
    assert f["ece"] == pytest.approx(ece_by_hand(y, p), rel=1e-6)
    assert f["miscalibrated"] is True
    # A diagnostic next to the proper scores, never first.
    assert keys(doc)[:2] == ["brier", "bce"] and "ece" in keys(doc)
    assert by_key(doc, "ece")["cost"] == pytest.approx(ece, rel=1e-12)
    reasons = text(doc, "ece")
    assert f"naive_bayes is over-confident: ECE {ece:.3g} (15 bins)" in reasons  # 0.0603
    conf = np.maximum(p, 1 - p)
    right = (p >= 0.5) == (y >= 0.5)
    high = conf >= 0.99
    assert f"among the {int(high.sum())} rows given at least 99% to one class" in reasons
    assert f"only {pct(right[high].mean())} are right" in reasons
    assert "not a proper scoring rule" in reasons and "constant prediction" in reasons
    brier = float(np.mean((p - y) ** 2))
    assert f["ece_share_of_rms_error"] == pytest.approx(ece / math.sqrt(brier), rel=1e-9)
    assert f["confidence_minus_accuracy"] == pytest.approx(conf.mean() - right.mean(), rel=1e-9)


def test_the_chance_level_of_ece_matches_a_simulation(tmp_path):
    # The rule compares ECE with what calibrated probabilities give by chance: draw the
    # labels from the probabilities themselves and measure ECE by hand.
    p = pd.read_csv(CALIBRATION).naive_bayes_isotonic.to_numpy()
    doc = rec(tmp_path, CALIBRATION, "-p", "naive_bayes_isotonic")
    rng = np.random.default_rng(0)
    sims = np.array([ece_by_hand((rng.random(p.size) < p).astype(float), p) for _ in range(400)])
    f = doc["facts"]
    assert f["ece_if_calibrated"] == pytest.approx(sims.mean(), rel=0.1)
    assert f["ece_if_calibrated_sd"] == pytest.approx(sims.std(), rel=0.25)


@pytest.mark.parametrize("column", ["naive_bayes_isotonic", "svm_sigmoid"])
def test_calibrated_classifiers_get_no_calibration_finding(tmp_path, column):
    doc = rec(tmp_path, CALIBRATION, "-p", column)
    f = doc["facts"]
    ece = eval_costs(tmp_path, CALIBRATION, "-p", column, "-l", "ece")["ece"]
    assert f["ece"] == pytest.approx(ece, rel=1e-12)
    # Within chance: at most 3 SDs above what calibrated probabilities would show.
    assert f["ece"] <= f["ece_if_calibrated"] + 3 * f["ece_if_calibrated_sd"]
    assert f["miscalibrated"] is False and "ece" not in keys(doc)


def write_multiclass(tmp_path: Path, name: str, sharpen: float) -> Path:
    """Labels drawn from softmax(z); predictions softmax(sharpen * z) (1: calibrated)."""
    rng = np.random.default_rng(9)
    n = 3000
    z = rng.normal(0, 1.5, (n, 3))
    truth = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    y = (rng.random(n)[:, None] > np.cumsum(truth, axis=1)).sum(axis=1)
    e = np.exp(sharpen * z)
    probs = e / e.sum(axis=1, keepdims=True)
    path = tmp_path / f"{name}.csv"
    frame = pd.DataFrame({"y_true": y, **{f"prob_{i}": probs[:, i] for i in range(3)}})
    frame.to_csv(path, index=False)
    return path


def test_multiclass_calibration(tmp_path):
    calibrated = write_multiclass(tmp_path, "calibrated", 1.0)
    doc = rec(tmp_path, calibrated, "--classes", "0,1,2")
    assert doc["facts"]["miscalibrated"] is False and "ece" not in keys(doc)
    sharp = write_multiclass(tmp_path, "sharp", 3.0)
    doc = rec(tmp_path, sharp, "--classes", "0,1,2")
    ece = eval_costs(tmp_path, sharp, "--classes", "0,1,2", "-l", "ece")["ece"]
    assert doc["facts"]["ece"] == pytest.approx(ece, rel=1e-12)
    assert keys(doc)[0] in ("brier", "cross_entropy") and "ece" in keys(doc)
    assert f"the model is over-confident: ECE {ece:.3g} (15 bins)" in text(doc, "ece")


# --- explain ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loss", "phrases"),
    [
        ("mase", ("below 1", "beats the seasonal naive in-sample", "in-sample")),
        ("msse", ("seasonal naive", "rmsse")),
        ("rmsse", ("M5", "intermittent", "the median is 0", "target the mean")),
        ("ece", ("Not a proper scoring rule", "a constant prediction at the base rate has "
                 "ECE 0", "depends on the binning")),
        ("mce", ("largest gap", "Not a proper scoring rule")),
        ("rmsce", ("Root-mean-square", "depends on the binning")),
    ],
)  # fmt: skip
def test_explain_covers_the_key_points(tmp_path, loss, phrases):
    res = run_lossctl(tmp_path, "explain", loss)
    assert res.returncode == 0, res.stderr
    flat = " ".join(res.stdout.split())
    for phrase in phrases:
        assert phrase in flat, phrase
