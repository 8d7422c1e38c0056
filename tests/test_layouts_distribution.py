"""Distribution predictions of one target: quantile sets, Gaussian mean + spread, ensembles.

The installed command on files made as people make them (pandas ``to_csv`` with its
index, columns in a surprising order, Nixtla's interval names), every number checked
against scikit-learn, scoringrules, properscoring, utilsforecast or numpy by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.metrics import mean_pinball_loss

from tests.conftest import SAMPLE_DATA, ok_json, refused, run_lossctl

REL = 1e-12
LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)


def _name(level: float) -> str:
    return f"q{100 * level:02.0f}"  # q05, q25, ...


def _quantile_frame(n: int = 400, seed: int = 3) -> pd.DataFrame:
    """A heavy-tailed target and normal quantile forecasts, columns in a surprising order,
    some rows crossing (q75 below q25)."""
    g = np.random.default_rng(seed)
    mu = g.normal(50.0, 10.0, n)
    sd = g.uniform(2.0, 8.0, n)
    cols = {_name(a): mu + sd * norm.ppf(a) for a in LEVELS}
    cols["q75"][:7] = cols["q25"][:7] - 1.0  # crossing rows 1..7
    frame = pd.DataFrame({"segment": g.choice(["north", "south"], n), **cols})
    frame.insert(2, "y", mu + sd * g.standard_t(3, n))
    frame["w"] = g.uniform(0.5, 2.0, n)
    return frame[["q95", "segment", "q50", "y", "q05", "w", "q75", "q25"]]


def _q(frame: pd.DataFrame) -> np.ndarray:
    return frame[[_name(a) for a in LEVELS]].to_numpy()


def _pinball(frame: pd.DataFrame, weight: np.ndarray | None = None) -> float:
    q = _q(frame)
    return float(
        np.mean(
            [
                mean_pinball_loss(frame.y, q[:, k], alpha=a, sample_weight=weight)
                for k, a in enumerate(LEVELS)
            ]
        )
    )


@pytest.fixture
def quantile_csv(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    frame = _quantile_frame()
    path = tmp_path / "fc.csv"
    frame.to_csv(path)  # with its index, as pandas writes by default
    return path, frame


def test_quantile_columns_read_from_their_names(tmp_path, quantile_csv):
    path, frame = quantile_csv
    doc = ok_json(tmp_path, "eval", path, "-t", "y")
    assert doc["prediction_kind"] == "quantiles"
    assert doc["columns"]["pred"] == ["q95", "q50", "q05", "q75", "q25"]  # file order
    assert doc["columns"]["levels"] == [0.95, 0.5, 0.05, 0.75, 0.25]
    losses = doc["losses"]
    assert set(losses) == {"quantile", "wis", "interval_score:coverage=0.9"}
    assert losses["quantile"]["cost"] == pytest.approx(_pinball(frame), rel=REL)
    # WIS = 2 x the mean pinball over the 2K + 1 levels.
    assert losses["wis"]["cost"] == pytest.approx(2 * _pinball(frame), rel=REL)
    import scoringrules as sr

    ref = sr.interval_score(frame.y, frame.q05, frame.q95, 0.1, backend="numpy")
    assert losses["interval_score:coverage=0.9"]["cost"] == pytest.approx(ref.mean(), rel=REL)
    # Coverage per level: the share of rows with y <= q (pandas by hand).
    cov = doc["diagnostics"]["coverage"]
    for a in LEVELS:
        assert cov[f"{a:g}"] == pytest.approx((frame.y <= frame[_name(a)]).mean())
    inner = doc["diagnostics"]["intervals"]["0.5"]
    inside = (frame.q25 <= frame.y) & (frame.y <= frame.q75)
    assert inner["coverage"] == pytest.approx(inside.mean(), rel=REL)
    assert inner["width"] == pytest.approx((frame.q75 - frame.q25).mean(), rel=REL)
    assert set(doc["diagnostics"]["intervals"]) == {"0.9", "0.5"}
    # The crossing rows are counted, named, and scored as given.
    crossing = [w for w in doc["warnings"] if "crossing quantiles" in w]
    assert crossing and crossing[0].startswith("7 row(s)") and "first at row 1 " in crossing[0]


def test_weights_groups_chunks_and_parallel_parts_agree(tmp_path, quantile_csv):
    path, frame = quantile_csv
    base = ["eval", path, "-t", "y", "-w", "w", "--by", "segment", "-l", "quantile,wis"]
    one = ok_json(tmp_path, *base)
    w = frame.w.to_numpy()
    assert one["losses"]["quantile"]["cost"] == pytest.approx(_pinball(frame, w), rel=REL)
    north = frame[frame.segment == "north"]
    got = one["groups"]["north"]["losses"]["quantile"]["cost"]
    assert got == pytest.approx(_pinball(north, north.w.to_numpy()), rel=REL)
    cov = one["diagnostics"]["coverage"]["0.5"]
    assert cov == pytest.approx(float(np.average(frame.y <= frame.q50, weights=w)), rel=REL)
    chunked = ok_json(tmp_path, *base, "--chunk-size", "7")
    for key in ("quantile", "wis"):
        assert chunked["losses"][key]["cost"] == pytest.approx(one["losses"][key]["cost"], rel=REL)
    assert chunked["diagnostics"]["coverage"] == pytest.approx(
        one["diagnostics"]["coverage"], rel=REL
    )
    assert chunked["warnings"] == one["warnings"]


def test_parallel_parts_equal_one_pass_with_crossing_row_numbers(tmp_path):
    frame = pd.concat([_quantile_frame(20_000, seed=s) for s in (1, 2)], ignore_index=True)
    frame.loc[30_000, "q75"] = frame.loc[30_000, "q25"] - 5.0  # a crossing row far in
    path = tmp_path / "big.csv"
    frame.to_csv(path, index=False)
    one = ok_json(tmp_path, "eval", path, "-t", "y", "--chunk-size", "5000")
    parts = run_lossctl(tmp_path, "eval", path, "-t", "y", "--json")
    assert parts.returncode == 0, parts.stderr
    import json

    doc = json.loads(parts.stdout)
    for key, stats in one["losses"].items():
        assert doc["losses"][key]["cost"] == pytest.approx(stats["cost"], rel=1e-12)
    assert doc["warnings"] == one["warnings"]
    # Rows 1-7 of each half, and row 30,001: 15 crossing rows, the first at row 1.
    assert one["warnings"][0].startswith("15 row(s) have crossing quantiles")
    assert "first at row 1 of" in one["warnings"][0]


def test_nixtla_interval_columns_and_utilsforecast(tmp_path):
    from utilsforecast.losses import coverage, winkler_score

    g = np.random.default_rng(4)
    n = 300
    mu = g.normal(100, 20, n)
    y = mu + g.normal(0, 10, n)
    frame = pd.DataFrame(
        {
            "unique_id": "store_1",
            "ds": pd.date_range("2024-01-01", periods=n, freq="D"),
            "y": y,
            "AutoETS": mu,
            "AutoETS-lo-80": mu - 12.8,
            "AutoETS-hi-80": mu + 12.8,
            "AutoETS-lo-95": mu - 19.6,
            "AutoETS-hi-95": mu + 19.6,
        }
    )
    path = tmp_path / "nixtla.csv"
    frame.to_csv(path, index=False)
    doc = ok_json(tmp_path, "eval", path, "-p", "AutoETS-*", "-l", "interval_score")
    assert doc["columns"]["levels"] == [0.1, 0.9, 0.025, 0.975]
    got = winkler_score(frame, ["AutoETS"], level=80)
    assert doc["losses"]["interval_score"]["cost"] == pytest.approx(got["AutoETS"].iloc[0])
    cover = coverage(frame, ["AutoETS"], level=95)
    assert doc["diagnostics"]["intervals"]["0.95"]["coverage"] == pytest.approx(
        cover["AutoETS"].iloc[0]
    )
    # Detected without --pred: the mean column AutoETS names no level, so it is left out.
    auto = ok_json(tmp_path, "eval", path, "-l", "interval_score:coverage=0.95")
    assert auto["columns"]["pred"] == ["AutoETS-lo-80", "AutoETS-hi-80", "AutoETS-lo-95",
                                       "AutoETS-hi-95"]  # fmt: skip


def test_levels_option_for_unnamed_columns_and_its_errors(tmp_path):
    frame = _quantile_frame().rename(columns={"q05": "a", "q50": "b", "q95": "c"})
    path = tmp_path / "plain.csv"
    frame.to_csv(path, index=False)
    doc = ok_json(tmp_path, "eval", path, "-t", "y", "-p", "a", "-p", "b", "-p", "c",
                  "--levels", "0.05,0.5,0.95", "-l", "quantile")  # fmt: skip
    q = frame[["a", "b", "c"]].to_numpy()
    ref = np.mean([mean_pinball_loss(frame.y, q[:, k], alpha=a) for k, a in
                   enumerate((0.05, 0.5, 0.95))])  # fmt: skip
    assert doc["losses"]["quantile"]["cost"] == pytest.approx(ref, rel=REL)
    line = refused(tmp_path, "eval", path, "-t", "y", "-p", "a", "-p", "b", "--levels", "0.1")
    assert "--levels gives 1 levels for 2 prediction columns" in line
    line = refused(tmp_path, "eval", path, "-t", "y", "-p", "a", "-p", "b", "--kind", "quantiles")
    assert "cannot read a quantile level from the name of column 'a'" in line
    line = refused(tmp_path, "eval", path, "-t", "y", "-p", "a", "-p", "b", "--levels", "10,90")
    assert "level 10 is outside (0, 1)" in line
    line = refused(tmp_path, "eval", path, "-t", "y", "-p", "a", "-p", "b", "-p", "c",
                   "--levels", "0.05,0.5,0.95", "-l", "interval_score")  # fmt: skip
    assert "needs the quantile levels 0.1 and 0.9" in line and "coverage=C" in line
    line = refused(tmp_path, "eval", path, "-t", "y", "-p", "a", "-p", "b",
                   "--levels", "0.05,0.5", "-l", "wis")  # fmt: skip
    assert "level 0.05 has no partner 0.95" in line


def test_two_models_quantile_columns_are_not_merged(tmp_path):
    frame = _quantile_frame()
    frame = frame.rename(columns={"q05": "A-q05", "q95": "A-q95"})
    frame["B-q05"], frame["B-q95"] = frame["A-q05"] - 1, frame["A-q95"] + 1
    path = tmp_path / "two.csv"
    frame.drop(columns=["q25", "q50", "q75"]).to_csv(path, index=False)
    line = refused(tmp_path, "eval", path, "-t", "y")
    assert "quantile columns of several models" in line and "'A-*'" in line and "'B-*'" in line
    line = refused(tmp_path, "eval", path, "-t", "y", "-p", "*-q05")
    assert "both give level 0.05: two models?" in line
    doc = ok_json(tmp_path, "eval", path, "-t", "y", "-p", "B-*", "-l", "quantile")
    assert doc["columns"]["pred"] == ["B-q05", "B-q95"]


def test_class_probability_names_that_read_as_levels_are_refused(tmp_path):
    g = np.random.default_rng(0)
    probs = g.dirichlet(np.ones(3), 200)
    frame = pd.DataFrame({"label": g.choice([10, 50, 90], 200)})
    for k, c in enumerate((10, 50, 90)):
        frame[f"p_{c}"] = probs[:, k]
    path = tmp_path / "classes.csv"
    frame.to_csv(path, index=False)
    line = refused(tmp_path, "eval", path)
    assert "read as quantiles (levels 0.1, 0.5, 0.9)" in line and "classes 10, 50, 90" in line
    assert "--kind quantiles, or --task multiclass" in line
    doc = ok_json(tmp_path, "eval", path, "--task", "multiclass")
    assert doc["task"] == "multiclass"


@pytest.fixture
def gaussian_csv(tmp_path: Path) -> tuple[Path, pd.DataFrame]:
    g = np.random.default_rng(9)
    n = 300
    mean = g.normal(0, 5, n)
    sd = g.uniform(0.5, 4.0, n)
    frame = pd.DataFrame({"sigma": sd, "y": mean + sd * g.normal(0, 1.2, n), "mu": mean})
    frame["variance"] = sd**2
    path = tmp_path / "gp.csv"
    frame.to_csv(path)
    return path, frame


def test_gaussian_mean_and_std_or_var(tmp_path, gaussian_csv):
    import properscoring as ps
    import scoringrules as sr

    path, frame = gaussian_csv
    doc = ok_json(tmp_path, "eval", path, "-t", "y", "-p", "mu", "--std", "sigma")
    assert doc["prediction_kind"] == "gaussian" and doc["columns"]["std"] == "sigma"
    crps = ps.crps_gaussian(frame.y, frame.mu, frame.sigma).mean()
    assert doc["losses"]["crps_gaussian"]["cost"] == pytest.approx(crps, rel=1e-10)
    logs = sr.logs_normal(frame.y.to_numpy(), frame.mu.to_numpy(), frame.sigma.to_numpy(),
                          backend="numpy").mean()  # fmt: skip
    assert doc["losses"]["gaussian_nll"]["cost"] == pytest.approx(logs, rel=1e-10)
    by_var = ok_json(tmp_path, "eval", path, "-t", "y", "-p", "mu", "--var", "variance")
    assert by_var["columns"]["var"] == "variance"
    for key in ("crps_gaussian", "gaussian_nll"):
        assert by_var["losses"][key]["cost"] == pytest.approx(doc["losses"][key]["cost"], rel=1e-12)


def test_gaussian_bad_spreads_are_refused(tmp_path, gaussian_csv):
    path, frame = gaussian_csv
    frame.loc[[4, 9], "sigma"] = [0.0, -1.0]
    frame.loc[7, "variance"] = -0.5
    bad = tmp_path / "bad.csv"
    frame.to_csv(bad)
    line = refused(tmp_path, "eval", bad, "-t", "y", "-p", "mu", "--std", "sigma")
    assert "column 'sigma'" in line and "2 standard deviation(s) <= 0 (rows 5, 10)" in line
    assert "--var" in line
    line = refused(tmp_path, "eval", bad, "-t", "y", "-p", "mu", "--var", "variance")
    assert "1 variance(s) < 0 (row 8)" in line
    line = refused(tmp_path, "eval", path, "-t", "y", "-p", "mu", "--std", "sigma",
                   "--var", "variance")  # fmt: skip
    assert "--std and --var both given" in line
    line = refused(tmp_path, "eval", path, "-t", "y", "-p", "mu", "--kind", "gaussian")
    assert "--kind gaussian needs the spread column" in line
    line = refused(tmp_path, "eval", path, "-t", "y", "-p", "mu", "--std", "sd")
    assert "column 'sd' not found" in line and "--std" in line
    line = refused(tmp_path, "eval", path, "-t", "y", "-p", "mu", "-l", "mse", "--std", "sigma")
    assert "loss 'mse' scores a point prediction" in line and "crps_gaussian" in line


def test_ensemble_members_and_the_fair_estimator(tmp_path):
    import properscoring as ps
    import scoringrules as sr

    g = np.random.default_rng(12)
    n, m = 250, 6
    centre = g.normal(10, 3, n)
    members = centre[:, None] + g.normal(0, 2, (n, m))
    frame = pd.DataFrame({f"member_{k}": members[:, k] for k in range(m)})
    frame.insert(3, "observed", centre + g.normal(0, 2.5, n))
    frame.loc[5, "member_2"] = np.nan
    path = tmp_path / "ens.csv"
    frame.to_csv(path)
    line = refused(tmp_path, "eval", path, "-p", "member_*", "--kind", "ensemble")
    assert "1 row of" in line and "--nan omit" in line
    doc = ok_json(tmp_path, "eval", path, "-p", "member_*", "--kind", "ensemble", "--nan", "omit")
    keep = ~frame.isna().any(axis=1).to_numpy()
    y = frame.observed.to_numpy()[keep]
    x = frame[[f"member_{k}" for k in range(m)]].to_numpy()[keep]
    assert doc["n_used"] == n - 1
    assert doc["losses"]["crps_ensemble"]["cost"] == pytest.approx(
        ps.crps_ensemble(y, x).mean(), rel=1e-10
    )
    fair = sr.crps_ensemble(y, x, estimator="fair", backend="numpy").mean()
    assert doc["losses"]["crps_ensemble:estimator=fair"]["cost"] == pytest.approx(fair, rel=1e-10)
    # Without --kind ensemble the member columns are several models, never guessed.
    line = refused(tmp_path, "eval", path, "-p", "member_*")
    assert "6 prediction columns" in line and "compare" in line
    line = refused(tmp_path, "eval", path, "-p", "member_1", "--kind", "ensemble")
    assert "an ensemble needs two or more member columns" in line


def test_per_sample_rows_and_gates_on_a_quantile_set(tmp_path, quantile_csv):
    path, frame = quantile_csv
    out = tmp_path / "rows.csv"
    res = run_lossctl(tmp_path, "eval", path, "-t", "y", "-l", "quantile,wis",
                      "--per-sample", out, "--max", "wis=1")  # fmt: skip
    assert res.returncode == 1 and "wis" in res.stderr  # the gate failed, output still written
    rows = pd.read_csv(out)
    assert list(rows.columns[:2]) == ["row_1based", "y"]
    q = _q(frame)
    r = q - frame.y.to_numpy()[:, None]
    pin = np.maximum(-np.array(LEVELS) * r, (1 - np.array(LEVELS)) * r).mean(axis=1)
    np.testing.assert_allclose(rows["quantile"], pin, rtol=1e-12)
    np.testing.assert_allclose(rows["wis"], 2 * pin, rtol=1e-12)


def test_poisson_nll_on_the_randhie_counts(tmp_path):
    frame = pd.read_csv(SAMPLE_DATA / "randhie_poisson.csv")
    doc = ok_json(tmp_path, "eval", SAMPLE_DATA / "randhie_poisson.csv",
                  "-l", "poisson_nll,poisson_nll:log_input=1")  # fmt: skip
    y, rate = frame.y_true.to_numpy(float), frame.y_pred.to_numpy()
    # torch.nn.functional.poisson_nll_loss(rate, y, log_input=False), by hand:
    assert doc["losses"]["poisson_nll"]["cost"] == pytest.approx(
        np.mean(rate - y * np.log(rate + 1e-8)), rel=1e-12
    )
    assert doc["losses"]["poisson_nll:log_input=1"]["cost"] == pytest.approx(
        np.mean(np.exp(rate) - y * rate), rel=1e-12
    )


@pytest.mark.parametrize(
    ("name", "options", "keys"),
    [
        ("diabetes_quantiles", (), {"quantile", "wis", "interval_score"}),
        ("diabetes_gaussian", ("-p", "mean", "--std", "std"), {"crps_gaussian", "gaussian_nll"}),
        (
            "diabetes_forest",
            ("-p", "tree_*", "--kind", "ensemble"),
            {"crps_ensemble", "crps_ensemble:estimator=fair"},
        ),
    ],
)
def test_sample_files_csv_and_parquet_agree(tmp_path, name, options, keys):
    a = ok_json(tmp_path, "eval", SAMPLE_DATA / f"{name}.csv", *options)
    b = ok_json(tmp_path, "eval", SAMPLE_DATA / f"{name}.parquet", *options)
    assert set(a["losses"]) == keys
    for key in keys:
        assert b["losses"][key]["cost"] == pytest.approx(a["losses"][key]["cost"], rel=1e-12)


def test_compare_two_models_quantile_columns_in_one_nixtla_file(tmp_path):
    g = np.random.default_rng(1)
    n = 300
    mu = g.normal(100, 20, n)
    frame = pd.DataFrame({"unique_id": "s", "ds": np.arange(n), "y": mu + g.normal(0, 10, n)})
    for model, spread in (("AutoETS", 10), ("Naive", 18)):
        frame[model] = mu + g.normal(0, 3, n)
        frame[f"{model}-lo-80"] = frame[model] - 1.28 * spread
        frame[f"{model}-hi-80"] = frame[model] + 1.28 * spread
    path = tmp_path / "cv.csv"
    frame.to_csv(path, index=False)
    doc = ok_json(tmp_path, "compare", path, "-p", "AutoETS-*", "-p", "Naive-*")
    assert set(doc["models"]) == {"AutoETS", "Naive"}
    assert doc["models"]["Naive"]["column"] == ["Naive-lo-80", "Naive-hi-80"]
    from utilsforecast.losses import winkler_score

    ref = winkler_score(frame, ["AutoETS", "Naive"], level=80)
    costs = doc["losses"]["interval_score"]["costs"]
    assert costs["AutoETS"] == pytest.approx(ref["AutoETS"].iloc[0], rel=1e-12)
    assert costs["Naive"] == pytest.approx(ref["Naive"].iloc[0], rel=1e-12)
    vs = doc["losses"]["quantile"]["vs_baseline"]["Naive"]
    assert vs["significant"] is True and vs["delta"] > 0


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("diabetes_quantiles", ()),
        ("diabetes_gaussian", ("-p", "mean", "--std", "std")),
        ("diabetes_forest", ("-p", "tree_*", "--kind", "ensemble")),
    ],
)
def test_coverage_plot_of_each_distribution_layout(tmp_path, name, options):
    pytest.importorskip("matplotlib")
    out = tmp_path / f"{name}.png"
    res = run_lossctl(tmp_path, "plot", "residuals", SAMPLE_DATA / f"{name}.csv", *options,
                      "--out", out)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = run_lossctl(tmp_path, "plot", "residuals", SAMPLE_DATA / f"{name}.csv", *options,
                       "--width", "70", "--height", "12")  # fmt: skip
    assert "coverage (line: calibrated)" in text.stdout and "targets outside" in text.stdout


def test_coverage_numbers_by_hand():
    from lossctl.options import EvalOptions
    from lossctl.plot import data

    frame = pd.read_csv(SAMPLE_DATA / "diabetes_gaussian.csv")
    sample = data.read_sample(EvalOptions(path=str(SAMPLE_DATA / "diabetes_gaussian.csv"),
                                          pred=["mean"], std="std"))  # fmt: skip
    cov = data.coverage(sample)
    z = np.abs(frame.y_true - frame["mean"]) / frame["std"]
    for c, observed in zip(cov.nominal, cov.observed, strict=True):
        assert observed == pytest.approx((z <= norm.ppf(0.5 + c / 2)).mean())
    quantiles = pd.read_csv(SAMPLE_DATA / "diabetes_quantiles.csv")
    sample = data.read_sample(EvalOptions(path=str(SAMPLE_DATA / "diabetes_quantiles.csv")))
    cov = data.coverage(sample)
    assert cov.nominal.tolist() == pytest.approx([0.5, 0.8])
    inside = (quantiles.q10 <= quantiles.y_true) & (quantiles.y_true <= quantiles.q90)
    assert cov.observed[-1] == pytest.approx(inside.mean())


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("diabetes_gaussian", ("-p", "mean", "--std", "std")),
        ("diabetes_forest", ("-p", "tree_*", "--kind", "ensemble")),
    ],
)
def test_chunks_equal_one_pass(tmp_path, name, options):
    one = ok_json(tmp_path, "eval", SAMPLE_DATA / f"{name}.csv", *options)
    chunked = ok_json(tmp_path, "eval", SAMPLE_DATA / f"{name}.csv", *options,
                      "--chunk-size", "41")  # fmt: skip
    for key, stats in one["losses"].items():
        for stat in ("cost", "std", "min", "max"):
            assert chunked["losses"][key][stat] == pytest.approx(stats[stat], rel=1e-12)


def test_numbered_columns_of_a_value_target_name_the_distribution_options(tmp_path):
    frame = _quantile_frame().rename(columns={"q05": "pred_0.05", "q50": "pred_0.5"})
    frame["y"] = frame["y"] + 0.25  # a continuous target: not class labels
    path = tmp_path / "numbered.csv"
    frame[["y", "pred_0.05", "pred_0.5"]].to_csv(path, index=False)
    line = refused(tmp_path, "eval", path, "-t", "y")
    assert "lossctl compare" in line and "--kind quantiles --levels" in line
    doc = ok_json(tmp_path, "eval", path, "-t", "y", "-p", "pred_*", "--kind", "quantiles",
                  "--levels", "0.05,0.5", "-l", "quantile")  # fmt: skip
    q = frame[["pred_0.05", "pred_0.5"]].to_numpy()
    ref = np.mean([mean_pinball_loss(frame.y, q[:, k], alpha=a) for k, a in
                   enumerate((0.05, 0.5))])  # fmt: skip
    assert doc["losses"]["quantile"]["cost"] == pytest.approx(ref, rel=REL)
