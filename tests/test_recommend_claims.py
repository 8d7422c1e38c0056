"""Every kind of claim ``lossctl recommend`` prints, where it is false and where it is true.

Each file is written with pandas ``to_csv`` (index included, as people do) and given to
the installed ``lossctl recommend FILE --json``, run as a subprocess. For each claim
kind one test checks that the claim is absent on data where it would be false, and
that on data where it is true it appears with numbers equal to numbers computed here
independently (numpy, scipy, scikit-learn), written the way recommend writes them:
3 significant digits, shares as percentages.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from functools import cache
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import (
    mean_absolute_error,
    mean_pinball_loss,
    mean_poisson_deviance,
    mean_squared_error,
    mean_squared_log_error,
)

from tests.conftest import SAMPLE_DATA

LOSSCTL = shutil.which("lossctl")
N = 2000
ROBUST = 1.4826  # robust SD = 1.4826 * MAD, as documented


def g3(x: float) -> str:
    """A number as recommend writes it: 3 significant digits."""
    return f"{x:.3g}"


def pc(share: float) -> str:
    """A share as recommend writes it: a percentage, 3 significant digits."""
    return f"{100 * share:.3g}%"


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def huber(r: np.ndarray, delta: float) -> float:
    a = np.abs(r)
    return float(np.mean(np.where(a <= delta, 0.5 * r * r, delta * (a - delta / 2))))


def robust_tails(r: np.ndarray) -> tuple[float, int, float]:
    """Robust SD, and count of residuals beyond 3 robust SDs from the median."""
    med = np.median(r)
    s = ROBUST * np.median(np.abs(r - med))
    return s, int(np.sum(np.abs(r - med) > 3 * s)), med


# --- the data sets (each from its own seed) -------------------------------------------------


def _regression(seed: int, noise: Callable[[np.random.Generator], np.ndarray]) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.normal(50, 10, N)
    return pd.DataFrame({"y_true": y, "y_pred": y + noise(rng)})


def _outliers(rng: np.random.Generator) -> np.ndarray:
    r = rng.normal(0, 2, N)
    bad = rng.choice(N, N // 20, replace=False)  # 5% gross errors
    r[bad] = rng.choice([-1.0, 1.0], bad.size) * rng.uniform(20, 60, bad.size)
    return r


def _spikes(rng: np.random.Generator) -> np.ndarray:
    r = rng.normal(0, 2, N)
    bad = rng.choice(N, 8, replace=False)  # 0.4%: heavy tails, but not 1% of the rows
    r[bad] = rng.choice([-1.0, 1.0], 8) * rng.uniform(30, 50, 8)
    return r


def _counts(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mu = rng.lognormal(2, 0.7, N)
    return rng.poisson(mu).astype(np.int64), mu


@cache
def dataset(name: str) -> pd.DataFrame:
    """The data set called ``name`` (a fresh copy per call is not needed: never mutated)."""
    if name == "gauss":
        return _regression(10, lambda rng: rng.normal(0, 2, N))
    if name == "outliers":
        return _regression(11, _outliers)
    if name == "spikes":
        return _regression(12, _spikes)
    if name == "uniform":
        return _regression(13, lambda rng: rng.uniform(-3, 3, N))
    if name == "skewed_residuals":  # chi2(16): skewness 0.71, excess kurtosis 0.75
        return _regression(14, lambda rng: (rng.chisquare(16, N) - 16) / np.sqrt(32) * 2)
    if name == "biased":
        df = _regression(15, lambda rng: rng.normal(1.5, 2, N))
        df["w"] = np.random.default_rng(115).uniform(0, 2, N)
        return df
    if name == "small_bias":  # mean residual 0.2: many SEs from 0, but mse drops ~1% only
        return _regression(16, lambda rng: rng.normal(0.2, 2, N))
    if name == "constant":
        y = np.arange(1.0, 41.0)
        return pd.DataFrame({"y_true": y, "y_pred": y + 2})
    if name == "tiny":
        y = np.arange(1.0, 21.0)
        return pd.DataFrame({"y_true": y, "y_pred": y + np.random.default_rng(17).normal(0, 1, 20)})
    if name == "multiplicative":
        rng = np.random.default_rng(18)
        y = rng.lognormal(3, 1, N)
        return pd.DataFrame({"y_true": y, "y_pred": y * rng.lognormal(0, 0.3, N)})
    if name == "mape":  # multiplicative, no target below the typical error
        rng = np.random.default_rng(19)
        y = rng.lognormal(3, 0.3, N)
        return pd.DataFrame({"y_true": y, "y_pred": y * rng.lognormal(0, 0.1, N)})
    if name == "counts":  # Poisson counts, predicted by their true mean
        y, mu = _counts(20)
        return pd.DataFrame({"y_true": y, "y_pred": mu})
    if name == "counts_double":  # the same counts, predicted twice too high
        y, mu = _counts(20)
        return pd.DataFrame({"y_true": y, "y_pred": 2 * mu})
    if name == "skewed_additive":  # skewed positive target, constant noise
        rng = np.random.default_rng(21)
        y = rng.gamma(2, 50, N) + 20
        return pd.DataFrame({"y_true": y, "y_pred": y + rng.normal(0, 3, N)})
    if name == "negative_predictions":
        rng = np.random.default_rng(22)
        y = rng.lognormal(1, 1, N)
        return pd.DataFrame({"y_true": y, "y_pred": y + rng.normal(0, 1, N)})
    if name == "zero_inflated":
        rng = np.random.default_rng(23)
        amount = np.where(rng.random(N) < 0.3, 0.0, rng.gamma(2, 50, N))
        pred = np.maximum(amount, 1.0) * rng.lognormal(0, 0.3, N)
        return pd.DataFrame({"y_true": amount, "y_pred": pred})
    if name == "randhie":
        return pd.read_csv(SAMPLE_DATA / "randhie_poisson.csv")
    if name == "quantiles":
        rng = np.random.default_rng(24)
        mu = rng.uniform(20, 80, N)
        y = mu + rng.normal(0, 10, N)
        z90 = 10 * stats.norm.ppf(0.9)
        cols = {"y_true": y, "y_pred": mu, "pred_v2": mu + z90, "median": mu}
        for col in ("q90", "model-hi-80"):
            cols[col] = mu + z90  # calibrated 0.9 quantiles
        for col in ("quantile_0.1", "q0.1", "quantile_10", "model-lo-80"):
            cols[col] = mu - z90  # calibrated 0.1 quantiles
        cols["p90"] = mu + 5  # called a 0.9 quantile, but covers about 69%
        return pd.DataFrame(cols)
    if name == "binary":
        rng = np.random.default_rng(30)
        z = rng.normal(0, 2, N)
        p = sigmoid(z)
        y = (rng.random(N) < p).astype(np.int64)  # drawn from p: calibrated
        right = (p >= 0.5) == (y == 1)
        extreme = p.copy()
        sure = right & (np.maximum(p, 1 - p) > 0.95)
        extreme[sure] = np.round(p[sure])  # exact 0/1, all of them right
        certain = p.copy()
        certain[:10] = 1 - y[:10]  # ten wrong predictions of exactly 0 or 1
        return pd.DataFrame(
            {
                "y_true": y,
                "y_pm": 2 * y - 1,
                "prob": p,
                "prob_over": sigmoid(4 * z),
                "prob_high": 0.8 * p + 0.15,
                "prob_extreme": extreme,
                "prob_certain": certain,
                "logit": z,
                "logit_shifted": z + 2,
                "score": 0.7 * z,
                "margin": 0.7 * z,
            }
        )
    if name == "rare":
        rng = np.random.default_rng(31)
        y = np.zeros(N, dtype=np.int64)
        y[rng.choice(N, N // 100, replace=False)] = 1  # exactly 1% positives
        z = np.where(y == 1, rng.normal(-1.0, 1.0, N), rng.normal(-6.0, 1.5, N))
        return pd.DataFrame({"y_true": y, "prob": sigmoid(z)})
    if name.startswith("multi"):
        rng = np.random.default_rng(40)
        shares = [0.9, 0.07, 0.03] if name == "multi_imbalanced" else [0.5, 0.3, 0.2]
        logits = rng.normal(0, 1, (N, 3)) + np.log(shares)
        scale = 4.0 if name == "multi_over" else 1.0
        probs = softmax(logits)
        y = np.array([rng.choice(3, p=row) for row in probs])  # drawn from probs: calibrated
        shown = softmax(scale * logits)
        if name == "multi_soft":
            target = softmax(logits + rng.normal(0, 0.3, (N, 3)))
            cols = {f"y_{c}": target[:, i] for i, c in enumerate("abc")}
        else:
            cols = {"y_true": y}
        prefix = {"multi_logits": "logit_", "multi_scores": "score_"}.get(name, "prob_")
        values = logits if prefix != "prob_" else shown
        return pd.DataFrame(cols | {f"{prefix}{c}": values[:, i] for i, c in enumerate("abc")})
    raise KeyError(name)


# --- running lossctl --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Callable[..., dict]:
    """run(name, *args) -> the JSON report of ``lossctl recommend`` on data set ``name``."""
    assert LOSSCTL, "the lossctl command is not installed"
    folder = tmp_path_factory.mktemp("claims")
    done: dict[tuple[str, ...], dict] = {}

    def go(name: str, *args: str) -> dict:
        key = (name, *args)
        if key not in done:
            path = folder / f"{name}.csv"
            if not path.exists():
                dataset(name).to_csv(path)  # with the index column, as people do
            res = subprocess.run(
                [LOSSCTL, "recommend", str(path), "--json", *args],
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert res.returncode == 0, res.stderr
            doc = json.loads(res.stdout)
            doc["_stderr"] = res.stderr
            done[key] = doc
        return done[key]

    return go


def ranked(doc: dict) -> list[str]:
    return [r["loss"] for r in doc["recommendations"]]


def reasons(doc: dict, name: str) -> str:
    """The reasons of the recommended loss called ``name`` (or with that key), as one text."""
    rec = next(r for r in doc["recommendations"] if name in (r["name"], r["loss"]))
    return " ".join(rec["reasons"])


def text(doc: dict) -> str:
    """Everything recommend says in words: reasons, notes, the disagreement note."""
    parts = [" ".join(r["reasons"]) for r in doc["recommendations"]] + doc["notes"]
    if doc["disagreement"]:
        parts.append(doc["disagreement"]["note"])
    return " ".join(parts)


def residuals(name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    df = dataset(name)
    y, p = df["y_true"].to_numpy(float), df["y_pred"].to_numpy(float)
    return y, p, p - y


# --- regression: the shape of the residuals ---------------------------------------------------


def test_look_gaussian_only_when_they_do(run):
    _, _, r = residuals("gauss")
    doc = run("gauss")
    _, count, _ = robust_tails(r)
    first = doc["recommendations"][0]
    assert first["loss"] == "mse"
    assert first["reasons"][0].startswith("The residuals look Gaussian: ")
    assert (
        f"{pc(count / N)} of the residuals ({count} rows) lie beyond 3 robust SDs"
        in (first["reasons"][0])
    )
    assert f"excess kurtosis is {g3(stats.kurtosis(r))} (Gaussian: 0)" in first["reasons"][0]
    for name in ("outliers", "spikes", "uniform", "skewed_residuals"):
        assert "look Gaussian" not in text(run(name)), name


def test_gross_errors(run):
    _, _, r = residuals("outliers")
    doc = run("outliers")
    s, count, _ = robust_tails(r)
    assert ranked(doc)[0].startswith("huber:delta=")
    first = doc["recommendations"][0]["reasons"][0]
    assert first.startswith(f"{pc(count / N)} of the residuals ({count} rows) lie beyond 3 robust")
    assert f"excess kurtosis is {g3(stats.kurtosis(r))}" in first
    assert first.endswith("many large errors.") == (count / N > 0.05)
    delta = float(g3(1.345 * s))
    assert ranked(doc)[0] == f"huber:delta={delta:g}"
    assert f"robust SD of the residuals ({g3(s)}," in reasons(doc, "huber")
    # False: Gaussian residuals have no gross errors, and huber is not first.
    gauss = run("gauss")
    assert not ranked(gauss)[0].startswith("huber")
    assert "gross errors" not in text(gauss) and "many large errors" not in text(gauss)


def test_heavy_tails(run):
    _, _, r = residuals("spikes")
    doc = run("spikes")
    _, count, _ = robust_tails(r)
    assert count / N <= 0.01  # not gross errors: the claim is the kurtosis
    assert doc["recommendations"][0]["reasons"][0] == (
        f"The residuals have heavy tails: their excess kurtosis is {g3(stats.kurtosis(r))} "
        "(Gaussian: 0), so large errors are common."
    )
    assert "heavy tails" not in text(run("gauss"))


def test_light_tails(run):
    _, _, r = residuals("uniform")
    doc = run("uniform")
    assert ranked(doc)[0] == "mse"
    first = doc["recommendations"][0]["reasons"][0]
    assert first.startswith("The residuals have light tails, lighter than Gaussian noise")
    assert f"excess kurtosis is {g3(stats.kurtosis(r))}" in first
    assert stats.kurtosis(r) < -1
    assert "light tails" not in text(run("gauss"))


def test_skewed_residuals(run):
    _, _, r = residuals("skewed_residuals")
    doc = run("skewed_residuals")
    assert abs(stats.kurtosis(r)) <= 1 and stats.skew(r) > 0.5
    first = doc["recommendations"][0]["reasons"][0]
    assert first.startswith(
        f"The residuals have no heavy tails but are skewed (skewness {g3(stats.skew(r))};"
    )
    assert "are skewed" not in text(run("gauss"))


def test_mse_top_share_and_mostly(run):
    for name, mostly in (("outliers", False), ("spikes", True)):
        _, _, r = residuals(name)
        k = 20  # 1% of 2000 rows
        share = float(np.sort(r * r)[-k:].sum() / np.sum(r * r))
        assert (share >= 0.5) == mostly, name
        c = stats.norm.isf(k / N / 2)
        gaussian = 2 * c * stats.norm.pdf(c) + k / N
        mse = reasons(run(name), "mse")
        assert f"the worst {k} rows carry {pc(share)} of the mse (Gaussian noise: about " in mse
        assert f"about {pc(gaussian)})" in mse
        assert ("mostly measures them" in mse) == mostly, name


def test_huber_safety_net_and_mae_numbers(run):
    _, _, r = residuals("gauss")
    doc = run("gauss")
    s, _, _ = robust_tails(r)
    delta = float(g3(1.345 * s))
    within = float(np.mean(np.abs(r) <= delta))
    assert f"and {pc(within)} of the residuals here are within delta" in reasons(doc, "huber")
    assert f"(median |residual| {g3(np.median(np.abs(r)))})" in reasons(doc, "mae")


def test_every_residual_the_same(run):
    doc = run("constant")
    assert doc["recommendations"][0]["reasons"][0].startswith(
        "Every residual is the same (here 2):"
    )
    assert "Every residual is the same" not in text(run("gauss"))


def test_few_rows_warning(run):
    assert "only 20 rows" in run("tiny")["_stderr"]
    assert "only" not in run("gauss")["_stderr"]


# --- regression: bias ----------------------------------------------------------------------


def bias_note(doc: dict) -> str | None:
    return next((n for n in doc["notes"] if "biased" in n), None)


def test_bias_is_the_mean_residual_and_its_shift_is_computed(run):
    df = dataset("biased")
    y, p = df["y_true"].to_numpy(), df["y_pred"].to_numpy()
    r = p - y
    m, se = r.mean(), r.std() / np.sqrt(N)
    note = bias_note(run("biased", "-w", "w"))
    assert note is not None
    assert note.startswith(
        f"The predictions are biased: the mean residual (prediction - target) is {g3(m)}, "
        f"{g3(abs(m) / se)} standard errors from 0."
    )
    shifted = p - m
    s, _, _ = robust_tails(r)
    delta = float(g3(1.345 * s))
    # Unweighted, like every fact, and said so.
    assert "Subtracting it from every prediction (unweighted, like every fact) lowers " in note
    assert (
        f"mse from {g3(mean_squared_error(y, p))} to {g3(mean_squared_error(y, shifted))}" in note
    )
    assert f"huber:delta={delta:g} from {g3(huber(r, delta))} to {g3(huber(r - m, delta))}" in note
    assert f"mae from {g3(mean_absolute_error(y, p))} to {g3(mean_absolute_error(y, shifted))}" in (
        note
    )
    assert "lowers them all" not in note and "raises" not in note


def test_no_bias_claim_where_the_mean_residual_is_not_a_bias(run):
    # A mean residual of 0.2 is many SEs from 0, but removing it lowers mse by ~1% only.
    _, _, r = residuals("small_bias")
    assert abs(r.mean()) > 3 * r.std() / np.sqrt(N)
    assert r.mean() ** 2 / np.mean(r * r) < 0.05
    for name in ("small_bias", "gauss", "counts", "randhie"):
        assert bias_note(run(name)) is None, name
    # A q90 column sits above the targets by design: no bias claim either.
    assert bias_note(run("quantiles", "--pred", "q90")) is None


def test_bias_on_every_row(run):
    note = bias_note(run("constant"))
    assert note is not None
    assert "the mean residual (prediction - target) is 2, on every row." in note
    assert "lowers mse from 4 to 0" in note


def test_a_shift_that_leaves_a_deviance_undefined_says_so(run):
    df = dataset("counts_double")
    y, p = df["y_true"].to_numpy(float), df["y_pred"].to_numpy()
    m = float(np.mean(p - y))
    doc = run("counts_double")
    note = bias_note(doc)
    assert note is not None and "poisson_deviance" in ranked(doc)
    bad = int(np.sum(p - m <= 0))
    assert bad > 0
    assert (
        f"The shift leaves poisson_deviance undefined: {bad} shifted predictions would not be > 0."
    ) in note
    assert f"msle undefined: {int(np.sum(p - m <= -1))} shifted predictions" in note
    # The scale the note offers instead, checked with scikit-learn.
    factor = y.mean() / p.mean()
    before, after = mean_poisson_deviance(y, p), mean_poisson_deviance(y, p * factor)
    assert f"mean(target) / mean(prediction) = {g3(factor)} instead keeps them > 0" in note
    assert f"lowers poisson_deviance from {g3(before)} to {g3(after)}" in note
    assert "poisson_deviance from" not in note.split("instead")[0]  # not in the shift's list
    assert "undefined" not in (bias_note(run("biased", "-w", "w")) or "")


# --- regression: counts and the mean-vs-median note (randhie) ------------------------------


def test_randhie_counts_rank_poisson_first_and_the_median_residual_is_not_called_bias(run):
    df = dataset("randhie")
    y, p = df["y_true"].to_numpy(float), df["y_pred"].to_numpy()
    r = p - y
    doc = run("randhie")
    keys = ranked(doc)
    assert keys[:3] == ["poisson_deviance", "mse", keys[2]] and keys[2].startswith("huber")
    assert keys.index("poisson_deviance") < keys.index("mae")
    f = doc["facts"]
    assert f["residual_mean"] == pytest.approx(r.mean(), rel=1e-9)
    assert f["residual_median"] == pytest.approx(np.median(r), rel=1e-12)
    assert abs(r.mean()) < 0.01 and np.median(r) > 1  # mean ~0, median 1.22
    s, _, med = robust_tails(r)
    m, se = r.mean(), r.std() / np.sqrt(len(r))
    note = next(n for n in doc["notes"] if n.startswith("Not a bias:"))
    assert note.startswith(
        f"Not a bias: the median residual is {g3(med)} ({g3(abs(med) / s)} robust SDs from 0), "
        f"but the mean residual is {g3(m)}, {g3(abs(m) / se)} standard errors"
    )
    gain = m**2 / np.mean(r * r)
    assert f"lower mse by only {pc(gain)}." in note
    assert f"{pc(np.mean(r > 0))} of the predictions are above their target" in note
    assert f"(skewness {g3(stats.skew(y))}; median {g3(np.median(y))}, mean {g3(y.mean())})" in note
    q = p - med
    delta = float(keys[2].split("=")[1])
    assert (
        f"lowers mae from {g3(mean_absolute_error(y, p))} to {g3(mean_absolute_error(y, q))}"
        in (note)
    )
    assert f"{keys[2]} from {g3(huber(r, delta))} to {g3(huber(q - y, delta))}" in note
    msle_after = mean_squared_log_error(y, np.maximum(q, 0)) if q.min() > -1 else None
    assert msle_after is not None
    assert f"msle from {g3(mean_squared_log_error(y, p))} to {g3(msle_after)}" in note
    assert (
        f"but raises mse from {g3(mean_squared_error(y, p))} to {g3(mean_squared_error(y, q))}"
        in (note)
    )
    bad = int(np.sum(q <= 0))
    assert f"The shift leaves poisson_deviance undefined: {bad} shifted predictions" in note
    assert mean_squared_error(y, q) > mean_squared_error(y, p)  # the shift raises mse
    # mae is demoted with the same numbers.
    assert (
        f"would lower mae from {g3(mean_absolute_error(y, p))} to "
        f"{g3(mean_absolute_error(y, q))} but raise mse from {g3(mean_squared_error(y, p))}"
    ) in reasons(doc, "mae")
    # The cost of the deviance is scikit-learn's.
    assert doc["recommendations"][0]["cost"] == pytest.approx(mean_poisson_deviance(y, p), rel=1e-9)


def test_mean_forecast_note_only_where_the_median_residual_is_far(run):
    for name in ("gauss", "counts", "biased", "small_bias"):
        _, _, r = residuals(name)
        s, _, med = robust_tails(r)
        doc = run(name, *(("-w", "w") if name == "biased" else ()))
        far = abs(med) > 0.5 * s
        assert not (far and name != "biased"), name  # none of these is a mean forecast
        assert not any(n.startswith("Not a bias") for n in doc["notes"]), name
        assert "Demoted: this model forecasts the mean" not in text(doc), name


def test_poisson_counts_and_variance_growth(run):
    y, p, r = residuals("counts")
    doc = run("counts")
    assert ranked(doc)[0] == "poisson_deviance"
    poisson = reasons(doc, "poisson_deviance")
    assert (
        f"right-skewed (skewness {g3(stats.skew(y))}, from 0 to {g3(y.max())}), and every "
        f"target is a whole number ({pc(np.mean(y == 0))} zeros): counts"
    ) in poisson
    order = np.argsort(p, kind="stable")
    parts = np.array_split(order, 10)
    mp = np.array([p[i].mean() for i in parts])
    ms = np.array([(r[i] ** 2).mean() for i in parts])
    power = np.polyfit(np.log(mp), np.log(ms), 1)[0]
    assert power > 0.5
    assert (
        f"the squared errors grow with the prediction: the mean squared residual is {g3(ms[0])} "
        f"in the 10% of rows with the lowest predictions (mean {g3(mp[0])}) and {g3(ms[-1])} in "
        f"the 10% with the highest (mean {g3(mp[-1])}), about prediction^{g3(power)}"
    ) in poisson
    assert f"this target's median ({g3(np.median(y))}) is below its mean ({g3(y.mean())})" in (
        poisson
    )
    # The raw residuals look gross, but scaled by the variance growth they do not.
    _, count, _ = robust_tails(r)
    z = r / p ** (power / 2)
    _, zcount, _ = robust_tails(z)
    assert count / N > 0.01 and zcount / N <= 0.01 and stats.kurtosis(z) <= 1
    mse = reasons(doc, "mse")
    assert not ranked(doc)[0].startswith("huber")
    assert ranked(doc).index("mse") < ranked(doc).index(
        next(k for k in ranked(doc) if "huber" in k)
    )
    assert (
        f"but scaled by prediction^{g3(power / 2)} (the measured growth of the variance) "
        f"{pc(zcount / N)} of them lie beyond 3 robust SDs and their excess kurtosis is "
        f"{g3(stats.kurtosis(z))}"
    ) in mse
    # False: randhie's scaled residuals are still heavy-tailed (over-dispersed counts).
    randhie = run("randhie")
    assert "not gross errors" not in text(randhie)
    assert "many large errors" in reasons(randhie, "huber")
    # False: no growth claim where the noise is constant.
    assert "the squared errors grow with the prediction" not in text(run("skewed_additive"))


def test_skewed_target_with_constant_noise_keeps_the_deviance_below(run):
    y, p, r = residuals("skewed_additive")
    doc = run("skewed_additive")
    keys = ranked(doc)
    assert keys[0] == "mse" and keys.index("gamma_deviance") > 0
    rho = stats.spearmanr(np.abs(r), y)[0]
    parts = np.array_split(np.argsort(p, kind="stable"), 10)
    mp = np.array([p[i].mean() for i in parts])
    ms = np.array([(r[i] ** 2).mean() for i in parts])
    power = np.polyfit(np.log(mp), np.log(ms), 1)[0]
    assert abs(rho) < 0.3 and power < 0.5
    assert (
        f"The errors do not grow with the level (rank correlation of |residual| with the target "
        f"{g3(rho)}; power of the squared errors on the prediction: {g3(power)})"
    ) in reasons(doc, "gamma_deviance")
    # Not skewed: no deviance, no skew claim.
    gauss = run("gauss")
    assert "deviance" not in " ".join(ranked(gauss)) and "right-skewed" not in text(gauss)


def test_deviances_skipped_when_predictions_are_not_positive(run):
    _, p, _ = residuals("negative_predictions")
    doc = run("negative_predictions")
    assert p.min() <= 0
    assert any(
        f"some predictions are <= 0 (min {g3(p.min())}), so the Poisson, Gamma and Tweedie" in n
        for n in doc["notes"]
    )
    assert not any("deviance" in key for key in ranked(doc))
    assert not any("predictions are <= 0" in n for n in run("counts")["notes"])


def test_zero_inflated_amounts_rank_tweedie_first(run):
    y, _, _ = residuals("zero_inflated")
    doc = run("zero_inflated")
    assert ranked(doc)[0] == "tweedie_deviance:power=1.5"
    assert f"; {pc(np.mean(y == 0))} of the targets are exactly 0" in reasons(
        doc, "tweedie_deviance:power=1.5"
    )


# --- regression: multiplicative errors -------------------------------------------------------


def test_multiplicative_errors(run):
    y, p, r = residuals("multiplicative")
    doc = run("multiplicative")
    rho = stats.spearmanr(np.abs(r), y)[0]
    assert ranked(doc)[0] == "gamma_deviance"
    grow = "the absolute errors grow with the target (rank correlation of |residual| with the "
    assert f"{grow}target: {g3(rho)})" in reasons(doc, "gamma_deviance")
    assert f"Demoted: the errors grow with the target (rank correlation {g3(rho)})" in reasons(
        doc, "mae"
    )
    # "Part of this is the errors growing": the relative residuals have lighter tails.
    rel = stats.kurtosis(r / p)
    assert rel < stats.kurtosis(r)
    assert f"(residual / prediction) their excess kurtosis is {g3(rel)}." in text(doc)
    # smape, with the share of targets smaller than the typical error.
    typical = np.median(np.abs(r))
    small = np.abs(y) < typical
    assert (
        f"Warning: {pc(small.mean())} of the targets ({int(small.sum())} rows) are smaller than "
        f"the typical error ({g3(typical)})"
    ) in reasons(doc, "smape")
    for name in ("gauss", "randhie", "skewed_additive"):
        y, _, r = residuals(name)
        assert stats.spearmanr(np.abs(r), y)[0] < 0.3, name  # no growth with the target
        other = run(name)
        assert "grow with the target" not in text(other), name
        assert not {"mape", "smape"} & set(ranked(other)), name


def test_mape_when_no_target_is_below_the_typical_error(run):
    y, _, r = residuals("mape")
    doc = run("mape")
    assert "mape" in ranked(doc) and "smape" not in ranked(doc)
    rel = np.median(np.abs(r) / np.abs(y))
    assert f"The typical error is {pc(rel)} of the target" in reasons(doc, "mape")


# --- regression: quantile columns ------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "level"),
    [
        ("q90", 0.9),
        ("model-hi-80", 0.9),
        ("quantile_0.1", 0.1),
        ("q0.1", 0.1),
        ("quantile_10", 0.1),
        ("model-lo-80", 0.1),
    ],
)
def test_quantile_columns_rank_the_pinball_loss_first(run, column, level):
    df = dataset("quantiles")
    y, q = df["y_true"].to_numpy(), df[column].to_numpy()
    doc = run("quantiles", "--pred", column)
    first = doc["recommendations"][0]
    assert first["loss"] == f"quantile:alpha={level:g}" and first["params"] == {"alpha": level}
    assert not ranked(doc)[0].startswith("huber")
    assert first["cost"] == pytest.approx(mean_pinball_loss(y, q, alpha=level), rel=1e-9)
    coverage = float(np.mean(y <= q))
    assert doc["facts"]["quantile_level"] == level
    assert doc["facts"]["quantile_coverage"] == pytest.approx(coverage, abs=1e-12)
    reason = first["reasons"][0]
    assert reason.startswith(f"The column '{column}' is named as the {level:g} quantile")
    assert "would call a well-calibrated quantile bad" in reason
    assert f"{pc(coverage)} of the targets are at or below the predictions" in reason
    assert abs(coverage - level) < 0.02  # calibrated: no note
    assert not any("far from" in n for n in doc["notes"])


def test_quantile_coverage_far_from_the_level_is_noted(run):
    df = dataset("quantiles")
    y, q = df["y_true"].to_numpy(), df["p90"].to_numpy()
    coverage = float(np.mean(y <= q))
    doc = run("quantiles", "--pred", "p90")
    assert ranked(doc)[0] == "quantile:alpha=0.9"
    tol = max(0.01, 3 * np.sqrt(0.9 * 0.1 / N))
    assert (
        f"The 'p90' predictions are at or above {pc(coverage)} of the targets, far from the 90% "
        f"a calibrated 0.9 quantile would cover (tolerance {pc(tol)}): they are too low"
    ) in " ".join(doc["notes"])


def test_median_column_ranks_mae_then_the_half_pinball(run):
    df = dataset("quantiles")
    y, q = df["y_true"].to_numpy(), df["median"].to_numpy()
    doc = run("quantiles", "--pred", "median")
    assert ranked(doc)[:2] == ["mae", "quantile:alpha=0.5"]
    assert doc["recommendations"][0]["reasons"][0].startswith(
        "The column 'median' is named as the median"
    )
    assert f"{pc(np.mean(y <= q))} of the targets" in doc["recommendations"][0]["reasons"][0]


@pytest.mark.parametrize("column", ["y_pred", "pred_v2"])
def test_columns_not_named_as_quantiles(run, column):
    doc = run("quantiles", "--pred", column)
    assert not any(k.startswith("quantile") for k in ranked(doc))
    assert doc["facts"]["quantile_level"] is None and "quantile" not in text(doc)


# --- binary ----------------------------------------------------------------------------------


def binary(column: str, target: str = "y_true") -> tuple[np.ndarray, np.ndarray]:
    df = dataset("binary")
    return df[target].to_numpy(), df[column].to_numpy()


def test_calibrated_on_average_or_not(run):
    y, p = binary("prob")
    doc = run("binary", "--pred", "prob")
    se = np.sqrt(np.sum(p * (1 - p))) / N  # the base rate's SD if p is calibrated
    assert abs(p.mean() - y.mean()) <= min(3 * se, 0.1 * min(y.mean(), 1 - y.mean()))
    assert (
        f"Mean predicted probability {g3(p.mean())} vs base rate {g3(y.mean())}: calibrated "
        "on average"
    ) in reasons(doc, "bce")
    y, p = binary("prob_high")
    doc = run("binary", "--pred", "prob_high")
    gap = p.mean() - y.mean()
    # 4.8 points: inside 10% of the minority share (5.1 points), but 4 SEs from calibrated.
    assert abs(gap) < 0.1 * min(y.mean(), 1 - y.mean())
    assert abs(gap) > 3 * np.sqrt(np.sum(p * (1 - p))) / N
    assert "calibrated on average" not in text(doc)
    assert f"over-predicts the positive class by {g3(gap * 100)} percentage points" in text(doc)


def test_overconfident_binary(run):
    y, p = binary("prob_over")
    doc = run("binary", "--pred", "prob_over")
    conf = np.maximum(p, 1 - p)
    wrong = (p >= 0.5) != (y == 1)
    rows = (conf >= 0.9) & wrong
    expected = float((1 - conf[conf >= 0.9]).sum())
    chance = stats.poisson.sf(rows.sum() - 1, expected)
    bce = -np.log(np.clip(np.where(y == 1, p, 1 - p), np.finfo(float).eps, 1))
    brier = (p - y) ** 2
    assert ranked(doc)[:2] == ["brier", "bce"]
    assert (
        f"{rows.sum()} rows give >= 90% to the wrong class where calibrated probabilities would "
        f"make about {g3(expected)} such mistakes (chance {g3(chance)}): the model is "
        f"over-confident, and those rows carry {pc(bce[rows].sum() / bce.sum())} of the log loss."
    ) in reasons(doc, "brier")
    assert f"those rows carry {pc(brier[rows].sum() / brier.sum())} of it." in reasons(doc, "brier")
    calibrated = run("binary", "--pred", "prob")
    assert ranked(calibrated)[0] == "bce" and "over-confident" not in text(calibrated)


def test_exact_zero_one_predictions(run):
    y, p = binary("prob_certain")
    doc = run("binary", "--pred", "prob_certain")
    certain = ((p == 0) | (p == 1)) & ((p >= 0.5) != (y == 1))
    bce = -np.log(np.clip(np.where(y == 1, p, 1 - p), np.finfo(float).eps, 1))
    brier = (p - y) ** 2
    assert ranked(doc)[0] == "brier"
    assert (
        f"{certain.sum()} wrong prediction(s) are exactly 0 or 1: bce there is -log(2.2e-16) = 36"
    ) in reasons(doc, "brier")
    assert f"carry {pc(bce[certain].sum() / bce.sum())} of the log loss" in reasons(doc, "brier")
    assert f"those rows carry {pc(brier[certain].sum() / brier.sum())} of it" in reasons(
        doc, "brier"
    )
    y, p = binary("prob_extreme")
    doc = run("binary", "--pred", "prob_extreme")
    extreme = np.mean((p == 0) | (p == 1))
    assert extreme >= 0.05
    assert f"{pc(extreme)} of the predictions are exactly 0 or 1" in reasons(doc, "brier")
    assert "none is wrong here" in reasons(doc, "brier")
    assert "wrong prediction(s) are exactly" not in text(doc)
    assert "exactly 0 or 1" not in text(run("binary", "--pred", "prob"))


def test_imbalanced_labels_add_focal(run):
    df = dataset("rare")
    y, p = df["y_true"].to_numpy(), df["prob"].to_numpy()
    doc = run("rare")
    focal = reasons(doc, "focal")
    assert focal.startswith("Only 1% of the labels are positive (20 of 2000 rows)")
    easy = (y == 0) & (1 - p >= 0.9)
    bce = -np.log(np.clip(np.where(y == 1, p, 1 - p), np.finfo(float).eps, 1))
    assert (
        f"{pc(easy.mean())} of the rows are negative rows predicted right with >= 90%, and their "
        f"many small losses make up {pc(bce[easy].sum() / bce.sum())} of the bce sum."
    ) in focal
    assert "focal" not in " ".join(ranked(run("binary", "--pred", "prob")))


def test_minus_one_one_labels_read_as_zero_one(run):
    doc = run("binary", "--target", "y_pm", "--pred", "prob")
    assert "The labels -1/+1 are read as 0/1." in reasons(doc, "bce")
    assert "-1/+1" not in text(run("binary", "--pred", "prob"))


def test_margins_or_logits(run):
    t, s = binary("score", "y_pm")
    doc = run("binary", "--target", "y_pm", "--pred", "score")
    margin = t * s
    assert ranked(doc)[:2] == ["hinge", "bce_logits"]
    hinge = reasons(doc, "hinge")
    assert "and the labels are -1/+1: the convention of margin classifiers" in hinge
    assert (
        f"zero for the {pc(np.mean(margin >= 1))} of rows right beyond the margin and grows "
        f"linearly for the {pc(np.mean((margin >= 0) & (margin < 1)))} inside it and the "
        f"{pc(np.mean(margin < 0))} misclassified"
    ) in hinge
    # The same scores with 0/1 labels are read as logits; the name 'margin' reads as margins.
    zero_one = run("binary", "--pred", "score")
    assert ranked(zero_one)[0] == "bce_logits" and "-1/+1 labels" not in text(zero_one)
    named = run("binary", "--pred", "margin")
    assert ranked(named)[0] == "hinge"
    assert "the column is named 'margin'" in reasons(named, "hinge")
    assert "the column is named" not in text(zero_one)


def test_logits_consistent_with_log_odds_or_apart(run):
    y, z = binary("logit")
    doc = run("binary", "--pred", "logit")
    assert (
        f"Mean sigmoid(score) is {g3(sigmoid(z).mean())} vs base rate {g3(y.mean())}: "
        "consistent with log-odds."
    ) in reasons(doc, "bce_logits")
    y, z = binary("logit_shifted")
    doc = run("binary", "--pred", "logit_shifted")
    assert f"Mean sigmoid(score) is {g3(sigmoid(z).mean())}" in reasons(doc, "bce_logits")
    assert "apart, so the scores may not be calibrated log-odds" in reasons(doc, "bce_logits")
    assert "consistent with log-odds" not in text(doc)


# --- multiclass ------------------------------------------------------------------------------


def multiclass(name: str, prefix: str = "prob_") -> tuple[np.ndarray, np.ndarray]:
    df = dataset(name)
    return df["y_true"].to_numpy(), df[[f"{prefix}{c}" for c in "abc"]].to_numpy()


def test_multiclass_calibration_on_average(run):
    y, p = multiclass("multi")
    doc = run("multi")
    acc = 1 - np.mean(p.argmax(axis=1) != y)
    conf = p.max(axis=1).mean()
    se = np.sqrt(np.sum(p.max(axis=1) * (1 - p.max(axis=1)))) / N
    assert abs(conf - acc) < min(0.02, 3 * se)
    assert f"Mean confidence {g3(conf)} vs accuracy {g3(acc)}: calibrated on average." in (
        reasons(doc, "cross_entropy")
    )
    assert "over-confident" not in text(doc) and ranked(doc)[0] == "cross_entropy"


def test_multiclass_overconfident(run):
    y, p = multiclass("multi_over")
    doc = run("multi_over")
    conf = p.max(axis=1)
    wrong = p.argmax(axis=1) != y
    rows = (conf >= 0.9) & wrong
    expected = float((1 - conf[conf >= 0.9]).sum())
    chance = stats.poisson.sf(rows.sum() - 1, expected)
    onehot = np.eye(3)[y]
    ce = -np.log(np.clip(p[np.arange(N), y], np.finfo(float).eps, 1))
    brier = ((p - onehot) ** 2).sum(axis=1)
    assert ranked(doc)[:2] == ["brier", "cross_entropy"]
    assert (
        f"{rows.sum()} rows give >= 90% to a wrong class where calibrated probabilities would "
        f"make about {g3(expected)} such mistakes (chance {g3(chance)}): the model is "
        f"over-confident, and those rows carry {pc(ce[rows].sum() / ce.sum())} of the "
        "cross-entropy."
    ) in reasons(doc, "brier")
    assert f"the same rows carry {pc(brier[rows].sum() / brier.sum())} of it." in reasons(
        doc, "brier"
    )
    acc, mean_conf = 1 - wrong.mean(), conf.mean()
    assert f"Mean confidence {g3(mean_conf)} vs accuracy {g3(acc)}: over-confident" in text(doc)


def test_multiclass_imbalance_note(run):
    y, _ = multiclass("multi_imbalanced")
    shares = np.bincount(y, minlength=3) / N
    doc = run("multi_imbalanced")
    assert shares.min() / shares.max() < 0.2
    small, large = "abc"[shares.argmin()], "abc"[shares.argmax()]
    assert (
        f"The classes are imbalanced: '{small}' has {pc(shares.min())} of the rows, '{large}' "
        f"{pc(shares.max())}."
    ) in text(doc)
    y, _ = multiclass("multi")
    shares = np.bincount(y, minlength=3) / N
    assert shares.min() / shares.max() >= 0.2 and "imbalanced" not in text(run("multi"))


def test_multiclass_scores(run):
    y, s = multiclass("multi_logits", "logit_")
    doc = run("multi_logits")
    assert ranked(doc)[0] == "softmax_cross_entropy"
    assert "(named as logits)" in reasons(doc, "softmax_cross_entropy")
    true = s[np.arange(N), y]
    others = np.where(np.eye(3)[y] == 1, -np.inf, s).max(axis=1)
    share = np.mean(true - others >= 1)
    assert f"at least 1 ({pc(share)} of rows here)" in reasons(doc, "multiclass_hinge")
    assert "named as logits" not in text(run("multi_scores"))


def test_soft_targets_add_kl_div(run):
    doc = run("multi_soft", "--target", "y_*", "--pred", "prob_*")
    assert doc["facts"]["target_kind"] == "soft" and "kl_div" in ranked(doc)
    assert "The targets are probability distributions" in reasons(doc, "kl_div")
    assert "kl_div" not in ranked(run("multi"))


# --- which rows are worst --------------------------------------------------------------------


def per_sample(key: str, y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Per-sample values of the regression losses recommend ranks, from their formulas."""
    r = p - y
    name, _, param = key.partition(":")
    if name == "mse":
        return r * r
    if name == "mae":
        return np.abs(r)
    if name == "huber":
        d = float(param.split("=")[1])
        return np.where(np.abs(r) <= d, 0.5 * r * r, d * (np.abs(r) - d / 2))
    if name == "msle":
        return (np.log1p(p) - np.log1p(y)) ** 2
    if name == "smape":
        den = np.abs(y) + np.abs(p)
        return np.where(den == 0, 0.0, 2 * np.abs(r) / np.where(den == 0, 1, den))
    if name == "mape":
        return np.abs(r) / np.maximum(np.abs(y), np.finfo(float).eps)
    if name == "gamma_deviance":
        return 2 * (np.log(p / y) + y / p - 1)
    raise KeyError(key)


def worst(values: np.ndarray, k: int) -> np.ndarray:
    """The k largest values and ties with the k-th, never a value of 0."""
    kth = np.sort(values)[-k]
    return (values >= kth) & (values > 0)


def test_losses_that_agree(run):
    y, p, _ = residuals("gauss")
    doc = run("gauss")
    note = doc["disagreement"]["note"]
    keys = ranked(doc)
    assert note.startswith(
        f"The {len(keys)} losses agree on which rows are worst: each grows with |residual|."
    )
    shares = []
    for key in keys:
        v = per_sample(key, y, p)
        shares.append(f"{pc(v[worst(v, 20)].sum() / v.sum())} of {key}")
    assert "The worst 20 rows carry " + ", ".join(shares) + ":" in note
    assert "disagree most" not in note


def test_losses_that_disagree(run):
    y, p, _ = residuals("multiplicative")
    doc = run("multiplicative")
    d = doc["disagreement"]
    keys = ranked(doc)
    values = {key: per_sample(key, y, p) for key in keys}
    overlaps = {}
    for a, b in combinations(keys, 2):
        wa, wb = worst(values[a], 20), worst(values[b], 20)
        overlaps[(a, b)] = ((wa & wb).sum(), min(wa.sum(), wb.sum()))
    a, b = d["least_agreement"]["losses"]
    shared, size = overlaps[(a, b)]
    assert shared / size == min(s / z for s, z in overlaps.values())
    rho = stats.spearmanr(values[a], values[b])[0]
    assert d["note"].startswith(
        f"{a} and {b} disagree most: they share {shared} of their {size} worst rows "
        f"(rank correlation {g3(rho)})."
    )
    # The rows named: their rank under each loss (1 = worst), recomputed.
    for item in d["least_agreement"]["rows_only_a"]:
        i = item["row"] - 1
        assert item["rank_a"] == 1 + np.sum(values[a] > values[a][i]) <= 20
        assert item["rank_b"] == 1 + np.sum(values[b] > values[b][i]) > 20
        assert f"{item['row']} (#{item['rank_a']} vs #{item['rank_b']})" in d["note"]
    assert "agree on which rows are worst" not in d["note"]


def test_the_helpers_here_match_scipy():
    """The independent helpers above, checked once against their definitions."""
    r = np.random.default_rng(0).normal(0, 1, 1000)
    s, _, _ = robust_tails(r)
    assert s == pytest.approx(stats.median_abs_deviation(r, scale="normal"), rel=1e-4)
    assert [g3(19.014), pc(0.0523), pc(0.01)] == ["19", "5.23%", "1%"]


def test_sample_csv_has_the_documented_columns():
    df = pd.read_csv(SAMPLE_DATA / "randhie_poisson.csv")
    assert list(df.columns) == ["id", "y_true", "y_pred", "health"]
    assert len(df) == 20190 and df["y_pred"].min() > 0
    assert set(df["health"]) == {"excellent", "good", "fair", "poor"}
    assert Path(SAMPLE_DATA / "randhie_poisson.parquet").exists()
