"""``lossctl recommend``: decisions on constructed data, the sample files, renderers, errors.

Every constructed file uses a fixed seed and a known truth (the noise scale, the
share of outliers or positives), so the tests check both the ranking and that the
facts behind it were measured correctly.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest

from lossctl.cli import app
from lossctl.flows.recommend.facts import top_k
from lossctl.flows.recommend.prose import pct, round_sig
from lossctl.losses import builtin_registry
from tests.conftest import SAMPLE_DATA, sample_args, sample_files

N = 2000


def write(tmp_path: Path, name: str, cols: dict[str, np.ndarray], fmt: str = "csv") -> Path:
    path = tmp_path / f"{name}.{fmt}"
    table = pa.table(cols)
    if fmt == "csv":
        pcsv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    return path


def _no_nan(token: str) -> None:
    raise AssertionError(f"JSON carries {token}")


def rec(runner, path: Path | str, *args: str) -> dict:
    res = runner.invoke(app, ["recommend", str(path), "--json", *args])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout, parse_constant=_no_nan)


def ranked(doc: dict) -> list[str]:
    return [r["loss"] for r in doc["recommendations"]]


def by_name(doc: dict, name: str) -> dict:
    return next(r for r in doc["recommendations"] if r["name"] == name)


# --- constructed data ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def rng_data() -> dict[str, dict[str, np.ndarray]]:
    """The constructed data sets, each from its own fixed seed."""
    sets: dict[str, dict[str, np.ndarray]] = {}
    rng = np.random.default_rng(1)
    y = rng.normal(50, 10, N)
    sets["clean"] = {"y_true": y, "y_pred": y + rng.normal(0, 2.0, N)}

    rng = np.random.default_rng(2)
    r = rng.normal(0, 2.0, N)
    bad = rng.choice(N, N // 20, replace=False)  # exactly 5% gross errors
    r[bad] = rng.choice([-1.0, 1.0], bad.size) * rng.uniform(20, 60, bad.size)
    sets["outliers"] = {"y_true": y, "y_pred": y + r}

    rng = np.random.default_rng(3)
    z = rng.normal(0, 2, N)
    p = 1 / (1 + np.exp(-z))
    yb = (rng.random(N) < p).astype(np.int64)  # labels drawn from p: calibrated
    sets["probabilities"] = {"y_true": yb, "prob": p}
    sets["margins"] = {"y_true": 2 * yb - 1, "score": 0.7 * z}
    sets["overconfident"] = {"y_true": yb, "prob": 1 / (1 + np.exp(-4 * z))}

    rng = np.random.default_rng(4)
    yr = np.zeros(N, dtype=np.int64)
    yr[rng.choice(N, N // 100, replace=False)] = 1  # exactly 1% positives
    zr = np.where(yr == 1, rng.normal(-1.0, 1.0, N), rng.normal(-6.0, 1.5, N))
    sets["rare"] = {"y_true": yr, "prob": 1 / (1 + np.exp(-zr))}

    rng = np.random.default_rng(5)
    yl = rng.lognormal(3, 1, N)
    sets["multiplicative"] = {"y_true": yl, "y_pred": yl * rng.lognormal(0, 0.3, N)}
    mu = rng.lognormal(1, 1, N)
    sets["counts"] = {"y_true": rng.poisson(mu).astype(np.int64), "y_pred": mu}
    amount = np.where(rng.random(N) < 0.3, 0.0, rng.gamma(2, 50, N))
    sets["zero_inflated"] = {
        "y_true": amount,
        "y_pred": np.maximum(amount, 1.0) * rng.lognormal(0, 0.3, N),
    }
    return sets


def test_clean_gaussian_residuals_rank_mse_first(runner, tmp_path, rng_data):
    data = rng_data["clean"]
    doc = rec(runner, write(tmp_path, "clean", data))
    assert doc["task"] == "regression" and doc["prediction_kind"] == "value"
    assert ranked(doc)[0] == "mse"
    assert ranked(doc)[1].startswith("huber:delta=") and ranked(doc)[2] == "mae"
    f = doc["facts"]
    assert f["outlier_share"] < 0.005  # Gaussian: 0.27%
    assert abs(f["residual_excess_kurtosis"]) < 0.5
    assert f["residual_robust_sd"] == pytest.approx(2.0, rel=0.08)
    # The costs are the real costs of the file.
    r = data["y_pred"] - data["y_true"]
    assert by_name(doc, "mse")["cost"] == pytest.approx(float(np.mean(r * r)), rel=1e-12)
    assert by_name(doc, "mae")["cost"] == pytest.approx(float(np.mean(np.abs(r))), rel=1e-12)
    assert "look Gaussian" in by_name(doc, "mse")["reasons"][0]
    # All three grow with |residual|: they agree on the worst rows.
    d = doc["disagreement"]
    assert d["least_agreement"]["top_overlap"] == 1.0
    assert d["least_agreement"]["rank_correlation"] == pytest.approx(1.0)
    assert d["least_agreement"]["rows_only_a"] == d["least_agreement"]["rows_only_b"] == []
    assert "agree on which rows are worst" in d["note"]
    assert d["top_k"] == 20 and set(d["top_share"]) == set(ranked(doc))


def test_gross_outliers_rank_huber_first_with_robust_delta(runner, tmp_path, rng_data):
    data = rng_data["outliers"]
    doc = rec(runner, write(tmp_path, "outliers", data, "parquet"))
    keys = ranked(doc)
    assert keys[0].startswith("huber:delta=") and keys[1] == "mae" and keys[2] == "mse"
    f = doc["facts"]
    assert f["outlier_share"] == pytest.approx(0.05, abs=0.006)
    assert f["outlier_count"] >= 90
    assert f["residual_excess_kurtosis"] > 5
    huber = doc["recommendations"][0]
    delta = huber["params"]["delta"]
    assert delta == f["huber_delta"] == round_sig(delta)  # 3 significant digits
    # The clean residuals have SD 2: delta is near 1.345 * 2, barely moved by the outliers.
    assert delta == pytest.approx(1.345 * 2.0, rel=0.12)
    assert huber["loss"] == f"huber:delta={delta:g}"
    y, p = data["y_true"], data["y_pred"]
    expected = builtin_registry().loss(huber["loss"], "regression").cost(y, p)
    assert huber["cost"] == pytest.approx(expected, rel=1e-12)
    assert pct(f["outlier_share"]) in huber["reasons"][0]
    # The worst 1% carry 36% of the mse (Gaussian: 8.45%): a large share, but not "mostly".
    mse_reason = by_name(doc, "mse")["reasons"][0]
    assert f"carry {pct(f['mse_top_share'])} of the mse" in mse_reason
    assert f["mse_top_share"] < 0.5 and "mostly" not in mse_reason
    assert doc["disagreement"]["top_share"]["mse"] > doc["disagreement"]["top_share"]["mae"]


def test_zero_one_probabilities_rank_bce_first(runner, tmp_path, rng_data):
    doc = rec(runner, write(tmp_path, "probs", rng_data["probabilities"]))
    assert doc["task"] == "binary" and doc["prediction_kind"] == "probability"
    assert ranked(doc) == ["bce", "brier"]  # balanced and calibrated: no focal
    f = doc["facts"]
    assert f["labels"] == "0/1"
    assert 0.4 < f["positive_share"] < 0.6
    assert f["mean_predicted"] == pytest.approx(f["positive_share"], abs=0.03)
    assert f["confident_mistakes_p"] > 0.01  # calibrated: the mistakes are as expected
    y, p = rng_data["probabilities"]["y_true"], rng_data["probabilities"]["prob"]
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert by_name(doc, "bce")["cost"] == pytest.approx(bce, rel=1e-9)
    assert "proper scoring rule" in by_name(doc, "bce")["reasons"][0]


def test_minus_one_one_labels_with_scores_rank_hinge_first(runner, tmp_path, rng_data):
    data = rng_data["margins"]
    doc = rec(runner, write(tmp_path, "margins", data))
    assert doc["prediction_kind"] == "score"
    assert ranked(doc)[:2] == ["hinge", "bce_logits"]
    f = doc["facts"]
    assert f["labels"] == "-1/1"  # seen in the raw column, before -1 becomes 0
    assert f["scores_read_as"] == "margin scores"
    t, s = data["y_true"], data["score"]
    assert f["misclassified_share"] == pytest.approx(float(np.mean(t * s < 0)), abs=1e-12)
    hinge = by_name(doc, "hinge")
    assert hinge["cost"] == pytest.approx(float(np.mean(np.maximum(0, 1 - t * s))), rel=1e-12)
    assert "-1/+1" in hinge["reasons"][0]


def test_same_scores_with_zero_one_labels_rank_bce_logits_first(runner, tmp_path, rng_data):
    data = dict(rng_data["margins"], y_true=(rng_data["margins"]["y_true"] + 1) // 2)
    doc = rec(runner, write(tmp_path, "logits", data))
    assert doc["facts"]["labels"] == "0/1" and doc["facts"]["scores_read_as"] == "logits"
    assert ranked(doc)[:2] == ["bce_logits", "hinge"]


def test_rare_positives_recommend_focal_with_the_share(runner, tmp_path, rng_data):
    doc = rec(runner, write(tmp_path, "rare", rng_data["rare"]))
    assert doc["facts"]["positive_share"] == 0.01
    assert doc["facts"]["positive_count"] == 20
    keys = ranked(doc)
    focal = [k for k in keys if k.startswith("focal")]
    assert focal and keys.index(focal[0]) in (0, 1)
    reason = by_name(doc, "focal")["reasons"][0]
    assert "1%" in reason and "20 of 2000" in reason
    assert by_name(doc, "focal")["params"]["gamma"] == 2.0
    # Focal puts almost all of its weight on the few hard rows.
    shares = doc["disagreement"]["top_share"]
    assert shares[focal[0]] > shares["bce"]


def test_overconfident_probabilities_put_brier_first(runner, tmp_path, rng_data):
    doc = rec(runner, write(tmp_path, "overconfident", rng_data["overconfident"]))
    f = doc["facts"]
    assert f["confident_mistakes"] > 3 * f["confident_mistakes_expected"]
    assert f["confident_mistakes_p"] < 1e-6
    assert ranked(doc)[:2] == ["brier", "bce"]
    assert "over-confident" in doc["recommendations"][0]["reasons"][0]


@pytest.mark.parametrize(
    ("name", "first", "facts"),
    [
        ("multiplicative", "gamma_deviance", {"target_integer": False}),
        ("counts", "poisson_deviance", {"target_integer": True}),
        ("zero_inflated", "tweedie_deviance:power=1.5", {"target_integer": False}),
    ],
)
def test_skewed_targets_with_growing_errors_rank_a_deviance_first(
    runner, tmp_path, rng_data, name, first, facts
):
    doc = rec(runner, write(tmp_path, name, rng_data[name]))
    f = doc["facts"]
    assert ranked(doc)[0] == first
    assert "msle" in ranked(doc)
    assert f["target_skew"] > 1 and f["error_target_correlation"] >= 0.3
    for key, value in facts.items():
        assert f[key] == value
    if name == "zero_inflated":
        assert f["target_zero_share"] == pytest.approx(0.3, abs=0.03)
    # Small targets make mape explode: smape is recommended, with a warning.
    assert f["small_target_share"] > 0
    smape = by_name(doc, "smape")
    assert "mape" not in ranked(doc)
    assert any(r.startswith("Warning:") for r in smape["reasons"])


def test_disagreement_names_rows_that_one_loss_ranks_worst(runner, tmp_path, rng_data):
    data = rng_data["multiplicative"]
    doc = rec(runner, write(tmp_path, "mult", data))
    d = doc["disagreement"]
    least = d["least_agreement"]
    a, b = least["losses"]
    assert least["top_overlap"] < 0.5 and least["rows_only_a"]
    assert min(p["top_overlap"] for p in d["pairs"]) == least["top_overlap"]
    # Recompute both losses and check the ranks the report gives for the named rows.
    reg = builtin_registry()
    y, p = data["y_true"], data["y_pred"]
    va = reg.loss(a, "regression").per_sample(y, p)
    vb = reg.loss(b, "regression").per_sample(y, p)
    for item in least["rows_only_a"]:
        i = item["row"] - 1
        assert item["rank_a"] == 1 + int(np.sum(va > va[i])) <= d["top_k"]
        assert item["rank_b"] == 1 + int(np.sum(vb > vb[i])) > d["top_k"]
    assert f"{least['rows_only_a'][0]['row']} (#" in d["note"]


def test_weights_enter_the_costs(runner, tmp_path, rng_data):
    data = dict(rng_data["clean"])
    w = np.random.default_rng(6).uniform(0, 3, N)
    doc = rec(runner, write(tmp_path, "weighted", {**data, "w": w}), "-w", "w")
    r = data["y_pred"] - data["y_true"]
    assert doc["columns"]["weight"] == "w"
    assert by_name(doc, "mse")["cost"] == pytest.approx(np.average(r * r, weights=w), rel=1e-12)


def test_multiclass_imbalance_and_confidence(runner, tmp_path):
    rng = np.random.default_rng(7)
    y = rng.choice(3, N, p=[0.9, 0.07, 0.03])
    logits = rng.normal(0, 1, (N, 3))
    logits[np.arange(N), y] += 2.5
    e = np.exp(logits)
    probs = e / e.sum(axis=1, keepdims=True)
    cols = {"y_true": y, **{f"prob_{c}": probs[:, i] for i, c in enumerate("abc")}}
    doc = rec(runner, write(tmp_path, "multi", cols))
    f = doc["facts"]
    assert doc["task"] == "multiclass" and f["n_classes"] == 3
    assert f["smallest_class"] == "c" and f["largest_class"] == "a"
    assert f["smallest_class_share"] == pytest.approx(np.mean(y == 2), abs=1e-12)
    # softmax(logits) ignores the 90/7/3 class priors: under-confident (mean confidence
    # 0.785, accuracy 0.92), so ece is added as the calibration diagnostic.
    assert ranked(doc) == ["cross_entropy", "brier", "ece"]
    assert any("imbalanced" in r for r in doc["recommendations"][0]["reasons"])


# --- sample files -------------------------------------------------------------------------

SAMPLES = {
    "breast_cancer_binary.csv": ("binary", "bce"),
    "breast_cancer_logits.csv": ("binary", "bce_logits"),
    "breast_cancer_scores.csv": ("binary", "hinge"),
    "diabetes_gbr.csv": ("regression", "mse"),
    "diabetes_regression.csv": ("regression", "mse"),
    "diabetes_ridge.csv": ("regression", "mse"),
    "randhie_poisson.csv": ("regression", "poisson_deviance"),
    "iris_multiclass_logits.csv": ("multiclass", "softmax_cross_entropy"),
    "wine_multiclass.csv": ("multiclass", "cross_entropy"),
    "diabetes_quantiles.csv": ("regression", "wis"),
    "diabetes_gaussian.csv": ("regression", "crps_gaussian"),
    "diabetes_forest.csv": ("regression", "crps_ensemble"),
    "linnerud_multioutput.csv": ("regression", "mse"),
    "digits_multilabel.csv": ("multilabel", "bce"),
    # naive_bayes is over-confident (28 rows give >= 90% to the wrong class): brier first.
    "breast_cancer_calibration.csv": ("binary", "brier"),
    # HoltWinters without --series: one pooled regression of a positive, skewed target
    # whose absolute errors grow with it (tests/test_recommend_forecast.py: with --series).
    "macro_forecasts.csv": ("regression", "gamma_deviance"),
}

#: Sample files with fewer than 100 rows: their row counts.
SMALL_SAMPLES = {"linnerud_multioutput.csv": 20, "macro_forecasts.csv": 64}


@pytest.mark.parametrize("path", sample_files("csv"), ids=lambda p: p.name)
def test_every_sample_file(runner, path):
    doc = rec(runner, *sample_args(path))
    task, first = SAMPLES[path.name]  # a new sample file needs an expectation here
    assert doc["command"] == "recommend" and doc["task"] == task
    assert ranked(doc)[0] == first
    assert doc["n_used"] == doc["n_rows"] >= SMALL_SAMPLES.get(path.name, 100)
    assert all(r["cost"] is not None and r["reasons"] for r in doc["recommendations"])
    assert [r["rank"] for r in doc["recommendations"]] == list(
        range(1, len(doc["recommendations"]) + 1)
    )


def test_parquet_gives_the_same_answer_as_csv(runner):
    a = rec(runner, SAMPLE_DATA / "breast_cancer_scores.csv")
    b = rec(runner, SAMPLE_DATA / "breast_cancer_scores.parquet")
    a.pop("source"), b.pop("source")
    assert a == b and a["facts"]["labels"] == "-1/1"


# --- output formats -----------------------------------------------------------------------


def flat(text: str) -> str:
    """Output with all whitespace runs made single spaces (undoes rich's wrapping)."""
    return " ".join(text.split())


def test_table_shows_ranking_reasons_facts_and_disagreement(runner, tmp_path, rng_data):
    path = write(tmp_path, "outliers", rng_data["outliers"])
    doc = rec(runner, path)
    res = runner.invoke(app, ["recommend", str(path)])
    assert res.exit_code == 0, res.output
    out = flat(res.stdout)
    first = doc["recommendations"][0]
    assert f"1 {first['loss']}" in out
    assert flat(first["reasons"][0]) in out
    assert "facts measured on this file" in out and "outlier_share" in out
    assert pct(doc["facts"]["outlier_share"]) in out
    assert flat(doc["disagreement"]["note"]) in out
    assert out.index("recommended losses") < out.index("facts") < out.index("which rows")


def test_markdown_lists_losses_with_reasons(runner):
    path = SAMPLE_DATA / "breast_cancer_binary.csv"
    doc = rec(runner, path)
    res = runner.invoke(app, ["recommend", str(path), "--format", "markdown"])
    assert res.exit_code == 0, res.output
    md = res.stdout
    assert md.startswith("**lossctl recommend**")
    assert "1. `bce` (cost 0.073837)" in md
    for r in doc["recommendations"]:
        for reason in r["reasons"]:
            assert f"   - {reason}" in md
    assert "| `positive_share` | 62.7% |" in md
    assert "**Which rows are worst.**" in md


def test_json_has_the_documented_keys_and_no_nan(runner, tmp_path):
    # Three rows: kurtosis is undefined, so a fact is NaN in the core and null in JSON.
    path = write(
        tmp_path, "tiny", {"y_true": np.array([1.0, 2, 3]), "y_pred": np.array([1.5, 2, 2])}
    )
    res = runner.invoke(app, ["recommend", str(path), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout, parse_constant=_no_nan)
    assert {
        "schema_version", "command", "source", "task", "prediction_kind", "facts",
        "recommendations", "disagreement",
    } <= set(doc)  # fmt: skip
    assert doc["schema_version"] == 1 and doc["source"].endswith("tiny.csv")
    assert doc["facts"]["residual_excess_kurtosis"] is None
    for r in doc["recommendations"]:
        assert set(r) == {"rank", "loss", "name", "params", "cost", "reasons"}
    assert "only 3 rows" in res.stderr


def test_quiet_prints_nothing(runner):
    res = runner.invoke(app, ["recommend", str(SAMPLE_DATA / "wine_multiclass.csv"), "-q"])
    assert res.exit_code == 0 and res.stdout == ""


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "nope"], "column 'nope' not found"),
        (["--format", "csv"], "recommend prints table, json, markdown"),
        (["--precision", "0"], "--precision must be between 1 and 17"),
    ],
)
def test_input_and_usage_errors_exit_2_with_one_line(runner, args, message):
    res = runner.invoke(app, ["recommend", str(SAMPLE_DATA / "diabetes_ridge.csv"), *args])
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]
    assert res.stdout == ""


def test_nan_rows_are_an_input_error_unless_omitted(runner, tmp_path, rng_data):
    data = {k: v.astype(float).copy() for k, v in rng_data["clean"].items()}
    data["y_pred"][[4, 9]] = math.nan
    path = write(tmp_path, "nan", data)
    res = runner.invoke(app, ["recommend", str(path)])
    assert res.exit_code == 2 and "first at rows 5, 10" in res.stderr
    doc = rec(runner, path, "--nan", "omit")
    assert doc["n_dropped"] == 2 and doc["n_used"] == N - 2


@pytest.mark.parametrize(
    "prob",
    [[0.1, 1.3, 0.8, 0.2], [0.2, 1.3, 0.1, 0.9]],  # the second reached a sqrt of < 0 (exit 3)
)
def test_probability_out_of_range_names_the_rows(runner, tmp_path, prob):
    path = write(tmp_path, "bad", {"y_true": np.array([0, 1, 1, 0]), "prob": np.array(prob)})
    res = runner.invoke(app, ["recommend", str(path)])
    assert res.exit_code == 2
    assert res.stderr.startswith("Error: loss 'bce': column 'prob'") and "row 2" in res.stderr


# --- helpers ------------------------------------------------------------------------------


def test_helpers():
    assert round_sig(80.397) == 80.4 and round_sig(1345.6) == 1350.0 and round_sig(0) == 0
    assert pct(0.0523) == "5.23%" and pct(0.01) == "1%"
    assert top_k(442) == 5 and top_k(2000) == 20 and top_k(3) == 3


def test_exact_zero_one_probabilities_put_brier_first(runner):
    # prob_rf holds random-forest vote shares: 35% of them exactly 0 or 1.
    doc = rec(runner, SAMPLE_DATA / "breast_cancer_binary.csv", "--pred", "prob_rf")
    assert doc["facts"]["extreme_share"] == pytest.approx(199 / 569)
    assert doc["facts"]["certain_mistakes"] == 0
    assert ranked(doc) == ["brier", "bce"]
    assert "exactly 0 or 1" in doc["recommendations"][0]["reasons"][0]


def test_perfect_and_shifted_predictions(runner, tmp_path):
    y = np.arange(1.0, 41.0)
    doc = rec(runner, write(tmp_path, "perfect", {"y_true": y, "y_pred": y}))
    assert ranked(doc)[0] == "mse" and doc["disagreement"] is None  # every loss is 0
    assert "Every residual is the same" in doc["recommendations"][0]["reasons"][0]
    assert all(r["cost"] == 0 for r in doc["recommendations"])
    doc = rec(runner, write(tmp_path, "shifted", {"y_true": y, "y_pred": y + 2}))
    assert doc["facts"]["residual_median"] == 2
    assert any("biased" in note for note in doc["notes"])


def test_ranks_match_scipy():
    from scipy.stats import rankdata

    from lossctl.flows.recommend.facts import _ranks

    v = np.random.default_rng(8).integers(0, 50, 500).astype(float)  # many ties
    average, from_worst = _ranks(v)
    np.testing.assert_array_equal(average, rankdata(v))
    np.testing.assert_array_equal(from_worst, rankdata(-v, method="min"))


def test_config_defaults_apply_and_a_csv_format_falls_back_to_table(runner, tmp_path, rng_data):
    path = write(
        tmp_path,
        "cfg",
        {"truth": rng_data["clean"]["y_true"], "guess": rng_data["clean"]["y_pred"]},
    )
    conf = tmp_path / "lossctl.toml"
    conf.write_text('target = "truth"\npred = "guess"\nformat = "csv"\n')
    res = runner.invoke(app, ["recommend", str(path), "--config", str(conf)])
    assert res.exit_code == 0, res.output
    assert "recommended losses" in res.stdout and "target truth · pred guess" in res.stdout
    res = runner.invoke(app, ["recommend", str(path), "--no-config"])
    assert res.exit_code == 2 and "no prediction column found" in res.stderr


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("q90", 0.9), ("p90", 0.9), ("Q90", 0.9), ("quantile_0.9", 0.9), ("q0.1", 0.1),
        ("quantile_10", 0.1), ("y_pred_q90", 0.9), ("p_90", 0.9), ("q50", 0.5),
        ("median", 0.5), ("AutoARIMA-lo-80", 0.1), ("model-hi-80", 0.9),
        ("yhat_lower_95", 0.025), ("y_pred", None), ("pred_v2", None), ("prob", None),
        ("temp2", None), ("q1", None), ("q100", None), ("quantile", None),
    ],
)  # fmt: skip
def test_quantile_level_from_the_column_name(name, level):
    from lossctl.inputs.columns import quantile_level

    assert quantile_level(name) == level


def test_moments_and_poisson_tail_match_scipy():
    """recommend's own skewness, excess kurtosis and Poisson tail (it does not import
    scipy.stats, see the next test) against scipy.stats at 1e-12."""
    from scipy import stats

    from lossctl.flows.recommend.facts import excess_kurtosis, poisson_tail, skewness

    rng = np.random.default_rng(7)
    samples = [
        rng.normal(size=10),
        rng.gamma(2.0, size=1000),
        rng.standard_t(3, size=100_000) + 1e6,  # a large mean: the centring matters
        np.array([1.0, 2.0, 2.0, 9.0]),
    ]
    for x in samples:
        assert skewness(x) == pytest.approx(float(stats.skew(x)), rel=1e-12)
        assert excess_kurtosis(x) == pytest.approx(float(stats.kurtosis(x)), rel=1e-12)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        flat = np.array([1.0, 1.0, 1.0, 1.0 + 1e-16])
        assert math.isnan(float(stats.skew(flat))) and math.isnan(skewness(flat))
    assert math.isnan(excess_kurtosis(np.full(5, 3.0)))
    for k in (1, 2, 3, 7, 50, 400, 5000):
        for mu in (1e-3, 0.5, 1.0, 4.5, 9.9, 10.0, 11.0, 30.0, 399.0, 401.0, 5100.0):
            expected = float(stats.poisson.sf(k - 1, mu))
            assert poisson_tail(k, mu) == pytest.approx(expected, rel=1e-11, abs=1e-300)


@pytest.mark.parametrize("name", ["diabetes_regression.csv", "breast_cancer_binary.csv"])
def test_recommend_does_not_import_scipy(name):
    """scipy.stats costs about 0.5 s of import: recommend on a small file needs none."""
    import subprocess
    import sys

    path = str(SAMPLE_DATA / name)
    cmd = [sys.executable, "-X", "importtime", "-m", "lossctl", "recommend", path, "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["recommendations"]
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()]
    assert "numpy" in imported  # the import log is there
    assert [m for m in imported if m.startswith("scipy")] == []
