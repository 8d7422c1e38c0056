"""compare on forecasts (scaled losses over series) and on calibration errors.

The references are computed here: utilsforecast for the scaled costs, pandas for each
series' value and the series counts, numpy for the binned statistic.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from utilsforecast.losses import mase, rmsse

from tests.conftest import SAMPLE_DATA, ok_json, refused, run_lossctl

FC = SAMPLE_DATA / "macro_forecasts.csv"
TRAIN = SAMPLE_DATA / "macro_train.csv"
CAL = SAMPLE_DATA / "breast_cancer_calibration.csv"
PANEL = ("--series", "unique_id", "--time", "ds", "--train", TRAIN, "--season", "4")
MODELS = ("SeasonalNaive", "HoltWinters", "GBR")


def _pred(*models: str) -> list[str]:
    return [a for m in models for a in ("-p", m)]


@pytest.fixture(scope="module")
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    fc = pd.read_csv(FC, parse_dates=["ds"])
    train = pd.read_csv(TRAIN, parse_dates=["ds"])
    return fc, train


def test_costs_are_utilsforecast_means_over_series(tmp_path: Path, frames) -> None:
    fc, train = frames
    doc = ok_json(tmp_path, "compare", FC, *_pred(*MODELS), "-l", "mase,rmsse", *PANEL)
    for name, fn in (("mase", mase), ("rmsse", rmsse)):
        ref = fn(fc, models=list(MODELS), seasonality=4, train_df=train)
        for m in MODELS:
            assert doc["losses"][name]["costs"][m] == pytest.approx(ref[m].mean(), rel=1e-12)
    # The delta is the difference of those costs, whatever the test.
    v = doc["losses"]["mase"]["vs_baseline"]["HoltWinters"]
    costs = doc["losses"]["mase"]["costs"]
    assert v["delta"] == pytest.approx(costs["HoltWinters"] - costs["SeasonalNaive"], rel=1e-12)
    assert doc["forecast"] == {"series": "unique_id", "time": "ds", "train": str(TRAIN),
                               "season": 4}  # fmt: skip


def test_series_wins_are_counted_per_series(tmp_path: Path, frames) -> None:
    fc, train = frames
    doc = ok_json(tmp_path, "compare", FC, *_pred("SeasonalNaive", "GBR"), "-l", "mase", *PANEL)
    ref = mase(fc, models=["SeasonalNaive", "GBR"], seasonality=4, train_df=train)
    won = float((ref["GBR"] < ref["SeasonalNaive"]).sum())
    v = doc["losses"]["mase"]["vs_baseline"]["GBR"]
    assert (v["series_won"], v["n_series"]) == (won, 8)
    res = run_lossctl(tmp_path, "compare", FC, *_pred("SeasonalNaive", "GBR"), "-l", "mase",
                      *PANEL)  # fmt: skip
    assert f"lower mase on {won:g} of 8 series" in " ".join(res.stdout.split())


@pytest.mark.parametrize("test", ["bootstrap", "permutation", "ttest", "wilcoxon", "dm", "none"])
def test_every_test_runs_on_the_cost_over_series(tmp_path: Path, test: str) -> None:
    doc = ok_json(tmp_path, "compare", FC, *_pred("SeasonalNaive", "HoltWinters"), "-l",
                  "mase,rmsse", *PANEL, "--test", test)  # fmt: skip
    for key in ("mase", "rmsse"):
        c = doc["losses"][key]
        v = c["vs_baseline"]["HoltWinters"]
        assert v["delta"] == pytest.approx(c["costs"]["HoltWinters"] - c["costs"]["SeasonalNaive"])
        assert (v["p_value"] is None) == (test == "none")
    if test == "bootstrap":  # rmsse: rows resampled, each series' root recomputed
        ci = doc["losses"]["rmsse"]["vs_baseline"]["HoltWinters"]["ci"]
        assert ci is not None and ci[0] < ci[1]


def test_reweighted_rows_make_the_bootstrap_centre_on_the_cost_delta(tmp_path: Path) -> None:
    # A wide interval around a delta outside it would mean the rows were not reweighted.
    doc = ok_json(tmp_path, "compare", FC, *_pred("SeasonalNaive", "HoltWinters"), "-l", "mase",
                  *PANEL, "--resamples", "4000")  # fmt: skip
    v = doc["losses"]["mase"]["vs_baseline"]["HoltWinters"]
    assert v["ci"][0] < v["delta"] < v["ci"][1]


def test_time_order_suggests_dm(tmp_path: Path) -> None:
    res = run_lossctl(tmp_path, "compare", FC, *_pred("SeasonalNaive", "GBR"), "-l", "mase", *PANEL)
    assert res.returncode == 0, res.stderr
    assert "--test dm" in res.stderr
    quiet = run_lossctl(tmp_path, "compare", FC, *_pred("SeasonalNaive", "GBR"), "-l", "mase",
                        *PANEL, "--test", "dm")  # fmt: skip
    assert "--test dm" not in quiet.stderr


def test_shuffled_rows_give_the_same_dm_test(tmp_path: Path, frames) -> None:
    # With --time, rows are put in (series, time) order before the test: a shuffled file
    # gives the same Diebold-Mariano statistic as the sorted one.
    fc, _ = frames
    shuffled = tmp_path / "shuffled.csv"
    fc.sample(frac=1.0, random_state=3).to_csv(shuffled)  # with pandas' index column
    args = (*_pred("SeasonalNaive", "GBR"), "-l", "mase", *PANEL, "--test", "dm")
    a = ok_json(tmp_path, "compare", FC, *args)["losses"]["mase"]["vs_baseline"]["GBR"]
    b = ok_json(tmp_path, "compare", shuffled, *args)["losses"]["mase"]["vs_baseline"]["GBR"]
    assert b["p_value"] == pytest.approx(a["p_value"], rel=1e-12)
    assert b["delta"] == pytest.approx(a["delta"], rel=1e-12)


def test_two_forecast_files_must_hold_the_same_series(tmp_path: Path, frames) -> None:
    fc, _ = frames
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    fc.to_csv(a, index=False)
    other = fc.copy()
    other.loc[0, "unique_id"] = "unemp"  # same target values, another series
    other.loc[0, "y"] = fc.loc[0, "y"]
    other.to_csv(b, index=False)
    line = refused(tmp_path, "compare", a, b, "-p", "GBR", "-l", "mase", *PANEL)
    assert "series" in line and "differ" in line


def test_scaled_losses_on_dask_compare_are_refused(tmp_path: Path) -> None:
    line = refused(tmp_path, "compare", FC, *_pred("SeasonalNaive", "GBR"), "-l", "mase", *PANEL,
                   "--engine", "dask", "--scheduler", "tcp://127.0.0.1:1")  # fmt: skip
    assert "--engine local" in line


# -- calibration -------------------------------------------------------------------------


def _ece(y: np.ndarray, p: np.ndarray, bins: int, counts: np.ndarray | None = None) -> float:
    """ECE by hand: bin k holds k/B <= p < (k+1)/B, the last bin closed."""
    idx = np.minimum((p * bins).astype(int), bins - 1)
    edges = np.arange(bins + 1) / bins
    idx = np.where(p < edges[idx], idx - 1, idx)
    idx = np.where((idx < bins - 1) & (p >= edges[np.minimum(idx + 1, bins)]), idx + 1, idx)
    w = np.ones_like(p) if counts is None else counts
    n = np.bincount(idx, w, bins)
    gap = np.abs(np.bincount(idx, w * y, bins) - np.bincount(idx, w * p, bins))
    return float(gap[n > 0].sum() / n.sum())


def test_calibration_costs_and_bootstrap(tmp_path: Path) -> None:
    df = pd.read_csv(CAL)
    doc = ok_json(tmp_path, "compare", CAL, *_pred("naive_bayes", "naive_bayes_isotonic"),
                  "-l", "ece,ece:bins=10")  # fmt: skip
    y = df["y_true"].to_numpy(float)
    for key, bins in (("ece", 15), ("ece:bins=10", 10)):
        c = doc["losses"][key]
        for m in ("naive_bayes", "naive_bayes_isotonic"):
            assert c["costs"][m] == pytest.approx(_ece(y, df[m].to_numpy(), bins), rel=1e-12)
        v = c["vs_baseline"]["naive_bayes_isotonic"]
        assert v["win_rate"] is None  # no per-row losses to win on
        assert v["ci"][0] <= v["ci"][1] and 0 < v["p_value"] <= 1
    # The bootstrap is reproducible for a seed and moves with another.
    again = ok_json(tmp_path, "compare", CAL, *_pred("naive_bayes", "naive_bayes_isotonic"),
                    "-l", "ece,ece:bins=10")  # fmt: skip
    assert again["losses"] == doc["losses"]
    other = ok_json(tmp_path, "compare", CAL, *_pred("naive_bayes", "naive_bayes_isotonic"),
                    "-l", "ece", "--seed", "5")  # fmt: skip
    assert other["losses"]["ece"]["vs_baseline"] != doc["losses"]["ece"]["vs_baseline"]


def test_calibration_bootstrap_recomputes_the_binned_statistic(tmp_path: Path) -> None:
    # The same resampling by hand (numpy's generator, seed 0, counts of n draws) gives
    # the same interval: the statistic is recomputed per resample, not averaged per row.
    df = pd.read_csv(CAL)
    y = df["y_true"].to_numpy(float)
    a, b = df["naive_bayes"].to_numpy(), df["svm_sigmoid"].to_numpy()
    doc = ok_json(tmp_path, "compare", CAL, *_pred("naive_bayes", "svm_sigmoid"), "-l", "ece",
                  "--resamples", "300")  # fmt: skip
    rng = np.random.default_rng(0)
    n = len(y)
    deltas = []
    for _ in range(300):
        counts = np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
        deltas.append(_ece(y, b, 15, counts) - _ece(y, a, 15, counts))
    lo, hi = np.quantile(deltas, [0.025, 0.975])
    ci = doc["losses"]["ece"]["vs_baseline"]["svm_sigmoid"]["ci"]
    assert ci == [pytest.approx(lo, rel=1e-9), pytest.approx(hi, rel=1e-9)]


@pytest.mark.parametrize("test", ["permutation", "ttest", "wilcoxon", "dm"])
def test_calibration_takes_only_the_bootstrap(tmp_path: Path, test: str) -> None:
    line = refused(tmp_path, "compare", CAL, *_pred("naive_bayes", "svm_sigmoid"), "-l", "ece",
                   "--test", test)  # fmt: skip
    assert "--test bootstrap" in line and "ece" in line


def test_compare_passes_the_layout_options(tmp_path: Path) -> None:
    # --kind reaches every model's reading (an ensemble in two files).
    copy = tmp_path / "forest_b.csv"
    copy.write_bytes((SAMPLE_DATA / "diabetes_forest.csv").read_bytes())
    doc = ok_json(tmp_path, "compare", SAMPLE_DATA / "diabetes_forest.csv", copy, "-p", "tree_*",
                  "--kind", "ensemble")  # fmt: skip
    assert doc["prediction_kind"] == "ensemble"
    assert doc["losses"]["crps_ensemble"]["vs_baseline"]["forest_b"]["delta"] == 0.0
