"""Generate the sample prediction files shipped in ``sample_data/``.

Every file holds real out-of-fold predictions of scikit-learn models on a
dataset bundled with scikit-learn, so no network access is needed; the
exceptions use data that statsmodels ships (statsmodels is needed for those files
only, and only by this script): ``randhie_poisson``, a statsmodels Poisson GLM on
the RAND Health Insurance Experiment doctor-visit counts, and the forecasting
panel ``macro_train`` / ``macro_forecasts``, three forecasters on the last 8
quarters of US macroeconomic series (a hold-out horizon, not cross-validation).
All randomness is pinned (``random_state`` everywhere) and the script is
deterministic: running it twice writes byte-identical CSV files.

Each table is written next to this script as both ``<name>.csv`` and
``<name>.parquet``.

Usage::

    python sample_data/make_samples.py            # every file
    python sample_data/make_samples.py randhie    # only the named groups
    python sample_data/make_samples.py forecast calibration
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
    load_linnerud,
    load_wine,
)
from sklearn.ensemble import (
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_predict
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

OUT_DIR = Path(__file__).parent
N_SPLITS = 5
SEED = 0
SUM_TOL = 1e-9


def kfold() -> KFold:
    """Return the shuffled K-fold splitter used for regression."""
    return KFold(n_splits=N_SPLITS, shuffle=True, random_state=SEED)


def stratified_kfold() -> StratifiedKFold:
    """Return the shuffled stratified K-fold splitter used for classification."""
    return StratifiedKFold(n_splits=N_SPLITS, shuffle=True, random_state=SEED)


def logistic_pipeline() -> Pipeline:
    """Return a standardized logistic regression (multinomial for >2 classes)."""
    return make_pipeline(
        StandardScaler(),
        LogisticRegression(max_iter=1000, random_state=SEED),
    )


def oof(
    estimator: BaseEstimator,
    x: np.ndarray,
    y: np.ndarray,
    cv: KFold | StratifiedKFold,
    method: str = "predict",
) -> np.ndarray:
    """Return out-of-fold predictions of ``estimator`` using ``method``."""
    return np.asarray(cross_val_predict(estimator, x, y, cv=cv, method=method))


def write(df: pd.DataFrame, name: str) -> None:
    """Write ``df`` as ``<name>.csv`` and ``<name>.parquet`` next to this script."""
    df.to_csv(OUT_DIR / f"{name}.csv", index=False, float_format=None, lineterminator="\n")
    df.to_parquet(OUT_DIR / f"{name}.parquet", index=False, engine="pyarrow")
    print(f"wrote {name}.csv / {name}.parquet ({len(df)} rows, {len(df.columns)} columns)")


def check_probabilities(probs: np.ndarray, name: str) -> None:
    """Assert that ``probs`` lie in [0, 1] (and rows sum to 1 if 2-D)."""
    assert np.all(np.isfinite(probs)), f"{name}: non-finite probability"
    assert probs.min() >= 0.0 and probs.max() <= 1.0, f"{name}: probability outside [0, 1]"
    if probs.ndim == 2:
        row_err = np.abs(probs.sum(axis=1) - 1.0).max()
        assert row_err <= SUM_TOL, f"{name}: row sums deviate from 1 by {row_err}"


def make_diabetes() -> dict[str, float]:
    """Write the diabetes regression files; return RMSE per model."""
    data = load_diabetes(scaled=False)
    x, y = data.data, data.target
    sex_idx = list(data.feature_names).index("sex")
    sex_codes = x[:, sex_idx]
    assert set(np.unique(sex_codes)) == {1.0, 2.0}
    # Which code is which sex is not documented, so keep the raw code.
    sex = np.where(sex_codes == 1.0, "sex_1", "sex_2")

    ridge = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
    gbr = GradientBoostingRegressor(random_state=SEED)
    y_ridge = oof(ridge, x, y, kfold())
    y_gbr = oof(gbr, x, y, kfold())

    ids = np.arange(len(y))
    write(
        pd.DataFrame({"id": ids, "y_true": y, "y_pred": y_ridge, "y_pred_gbr": y_gbr, "sex": sex}),
        "diabetes_regression",
    )
    write(pd.DataFrame({"id": ids, "y_true": y, "y_pred": y_ridge}), "diabetes_ridge")
    write(pd.DataFrame({"id": ids, "y_true": y, "y_pred": y_gbr}), "diabetes_gbr")

    def rmse(pred: np.ndarray) -> float:
        return float(np.sqrt(np.mean((y - pred) ** 2)))

    return {"diabetes ridge RMSE": rmse(y_ridge), "diabetes gbr RMSE": rmse(y_gbr)}


def make_breast_cancer() -> dict[str, float]:
    """Write the breast cancer binary files; return accuracy per model."""
    data = load_breast_cancer()
    x, y = data.data, data.target  # 1 = benign, 0 = malignant
    ids = np.arange(len(y))

    logreg = logistic_pipeline()
    prob = oof(logreg, x, y, stratified_kfold(), "predict_proba")[:, 1]
    logit = oof(logreg, x, y, stratified_kfold(), "decision_function")
    rf = RandomForestClassifier(n_estimators=200, random_state=SEED)
    prob_rf = oof(rf, x, y, stratified_kfold(), "predict_proba")[:, 1]
    check_probabilities(prob, "breast_cancer prob")
    check_probabilities(prob_rf, "breast_cancer prob_rf")
    # Probabilities and logits come from the same fitted folds.
    assert np.allclose(prob, 1.0 / (1.0 + np.exp(-logit)), rtol=0, atol=1e-9)

    y_pm = np.where(y == 1, 1, -1)
    svc = make_pipeline(StandardScaler(), LinearSVC(random_state=SEED))
    score = oof(svc, x, y_pm, stratified_kfold(), "decision_function")

    write(
        pd.DataFrame({"id": ids, "y_true": y, "prob": prob, "prob_rf": prob_rf}),
        "breast_cancer_binary",
    )
    write(pd.DataFrame({"id": ids, "y_true": y_pm, "score": score}), "breast_cancer_scores")
    write(pd.DataFrame({"id": ids, "y_true": y, "logit": logit}), "breast_cancer_logits")

    return {
        "breast_cancer logreg accuracy": float(np.mean((prob >= 0.5) == y)),
        "breast_cancer rf accuracy": float(np.mean((prob_rf >= 0.5) == y)),
        "breast_cancer linear svc accuracy": float(np.mean(np.where(score >= 0, 1, -1) == y_pm)),
    }


def make_wine() -> dict[str, float]:
    """Write the wine multiclass probability file; return accuracy."""
    data = load_wine()
    x, y = data.data, data.target
    names = [str(n) for n in data.target_names]
    probs = oof(logistic_pipeline(), x, y, stratified_kfold(), "predict_proba")
    check_probabilities(probs, "wine")

    df = pd.DataFrame({"id": np.arange(len(y)), "y_true": np.asarray(names, dtype=object)[y]})
    for k, name in enumerate(names):
        df[f"prob_{name}"] = probs[:, k]
    write(df, "wine_multiclass")
    return {"wine logreg accuracy": float(np.mean(probs.argmax(axis=1) == y))}


def make_iris() -> dict[str, float]:
    """Write the iris multiclass logit file; return accuracy."""
    data = load_iris()
    x, y = data.data, data.target
    logits = oof(logistic_pipeline(), x, y, stratified_kfold(), "decision_function")
    assert logits.shape == (len(y), 3)

    df = pd.DataFrame({"id": np.arange(len(y)), "y_true": y})
    for k, name in enumerate(data.target_names):
        df[f"logit_{name}"] = logits[:, k]
    write(df, "iris_multiclass_logits")
    return {"iris logreg accuracy": float(np.mean(logits.argmax(axis=1) == y))}


#: Quantile levels of the quantile-regression sample (a median and two symmetric pairs).
QUANTILE_LEVELS = (0.1, 0.25, 0.5, 0.75, 0.9)
#: Trees of the random-forest ensemble sample (each tree's prediction is one member).
FOREST_TREES = 20


def make_probabilistic() -> dict[str, float]:
    """Write the diabetes distribution forecasts: quantiles, Gaussian, ensemble.

    Out-of-fold, same folds as diabetes_regression:
    - ``diabetes_quantiles``: one ``GradientBoostingRegressor(loss="quantile",
      alpha=level)`` per level of QUANTILE_LEVELS (columns q10, q25, q50, q75, q90);
    - ``diabetes_gaussian``: ``GaussianProcessRegressor`` (constant x RBF + white noise
      kernel, normalize_y) on standardized features, ``predict(return_std=True)``:
      the predictive mean and standard deviation (noise included);
    - ``diabetes_forest``: each of the FOREST_TREES trees of a
      ``RandomForestRegressor(min_samples_leaf=5)`` as one ensemble member.
    """
    data = load_diabetes(scaled=False)
    x, y = data.data, data.target
    ids = np.arange(len(y))
    quantiles = {
        f"q{round(100 * level)}": oof(
            GradientBoostingRegressor(loss="quantile", alpha=level, random_state=SEED),
            x,
            y,
            kfold(),
        )
        for level in QUANTILE_LEVELS
    }
    write(pd.DataFrame({"id": ids, "y_true": y, **quantiles}), "diabetes_quantiles")

    mean = np.empty(len(y))
    std = np.empty(len(y))
    members = np.empty((len(y), FOREST_TREES))
    kernel = ConstantKernel(1.0) * RBF(length_scale=np.full(x.shape[1], 3.0)) + WhiteKernel(0.5)
    for train, test in kfold().split(x):
        scaler = StandardScaler().fit(x[train])
        gp = GaussianProcessRegressor(kernel=kernel, normalize_y=True, random_state=SEED)
        gp.fit(scaler.transform(x[train]), y[train])
        mean[test], std[test] = gp.predict(scaler.transform(x[test]), return_std=True)
        forest = RandomForestRegressor(
            n_estimators=FOREST_TREES, min_samples_leaf=5, random_state=SEED
        ).fit(x[train], y[train])
        for k, tree in enumerate(forest.estimators_):
            members[test, k] = tree.predict(x[test])
    assert std.min() > 0, "diabetes_gaussian: a standard deviation <= 0"
    write(pd.DataFrame({"id": ids, "y_true": y, "mean": mean, "std": std}), "diabetes_gaussian")
    trees = {f"tree_{k:02d}": members[:, k] for k in range(FOREST_TREES)}
    write(pd.DataFrame({"id": ids, "y_true": y, **trees}), "diabetes_forest")
    inside = (quantiles["q10"] <= y) & (y <= quantiles["q90"])
    return {
        "diabetes quantile GBR q10-q90 coverage": float(inside.mean()),
        "diabetes GP mean RMSE": float(np.sqrt(np.mean((mean - y) ** 2))),
        "diabetes GP mean std": float(std.mean()),
        "diabetes forest mean-of-trees RMSE": float(np.sqrt(np.mean((members.mean(1) - y) ** 2))),
    }


#: The labels of the multilabel digits sample: properties of the digit drawn.
DIGIT_LABELS = {
    "even": lambda d: d % 2 == 0,
    "big": lambda d: d >= 5,
    "prime": lambda d: np.isin(d, [2, 3, 5, 7]),
    "round": lambda d: np.isin(d, [0, 6, 8, 9]),
}


def make_several() -> dict[str, float]:
    """Write the files of several outputs or labels.

    - ``linnerud_multioutput``: the three physiological targets of linnerud (Weight,
      Waist, Pulse) from the three exercises, out-of-fold ``RidgeCV`` (one multi-output
      model), 5 folds; columns y_<target> and pred_<target> in a shuffled order.
    - ``digits_multilabel``: four 0/1 properties of the digit in each 8x8 image (even,
      >= 5, prime, drawn with a loop), one out-of-fold ``LogisticRegression`` per label
      on the pixels; targets is_<label> (booleans), predictions prob_<label>.
    """
    lin = load_linnerud()
    x, y = lin.data, lin.target
    pred = oof(make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13))), x, y,
               kfold())  # fmt: skip
    cols: dict[str, np.ndarray] = {"id": np.arange(len(y))}
    for k, name in enumerate(lin.target_names):
        cols[f"y_{name}"] = y[:, k]
    for k, name in reversed(list(enumerate(lin.target_names))):  # another order than y_
        cols[f"pred_{name}"] = pred[:, k]
    write(pd.DataFrame(cols), "linnerud_multioutput")

    digits = load_digits()
    px, d = digits.data / 16.0, digits.target
    out: dict[str, np.ndarray] = {"id": np.arange(len(d))}
    probs = {}
    for name, rule in DIGIT_LABELS.items():
        label = rule(d).astype(bool)
        out[f"is_{name}"] = label
        probs[f"prob_{name}"] = oof(logistic_pipeline(), px, label.astype(int), stratified_kfold(),
                                    method="predict_proba")[:, 1]  # fmt: skip
    write(pd.DataFrame({**out, **probs}), "digits_multilabel")
    labels = np.column_stack([out[f"is_{n}"] for n in DIGIT_LABELS])
    guess = np.column_stack([probs[f"prob_{n}"] for n in DIGIT_LABELS]) >= 0.5
    return {
        "linnerud RidgeCV RMSE (mean of outputs)": float(
            np.mean(np.sqrt(np.mean((pred - y) ** 2, axis=0)))
        ),
        "digits labels Hamming loss": float(np.mean(labels != guess)),
        "digits labels subset accuracy": float(np.mean((labels == guess).all(axis=1))),
    }


#: Self-rated health in randhie: three dummies, "excellent" the omitted category.
RANDHIE_HEALTH = {"hlthg": "good", "hlthf": "fair", "hlthp": "poor"}


def make_randhie() -> dict[str, float]:
    """Write the randhie count file: out-of-fold Poisson GLM predictions of doctor visits.

    The RAND Health Insurance Experiment data that statsmodels ships (20,190
    person-years); the target ``mdvis`` is the number of outpatient visits to a
    doctor, a skewed count with many zeros. The model is statsmodels'
    ``GLM(family=Poisson())`` (log link, so every prediction is > 0) on all nine
    covariates plus an intercept, fitted on 4 folds and predicting the fifth.
    """
    try:
        import statsmodels.api as sm
    except ImportError:
        raise RuntimeError(
            "randhie_poisson needs statsmodels, which only this script uses: "
            "pip install statsmodels"
        ) from None
    data = sm.datasets.randhie.load_pandas().data
    y = data["mdvis"].to_numpy(dtype=np.int64)
    exog = data.drop(columns="mdvis")
    x = sm.add_constant(exog.to_numpy(dtype=np.float64), has_constant="add")
    pred = np.empty(len(y), dtype=np.float64)
    for train, test in kfold().split(x):
        fit = sm.GLM(y[train], x[train], family=sm.families.Poisson()).fit()
        pred[test] = fit.predict(x[test])
    assert np.all(np.isfinite(pred)) and pred.min() > 0, "randhie: a prediction <= 0"
    dummies = exog[list(RANDHIE_HEALTH)].to_numpy()
    assert dummies.sum(axis=1).max() <= 1, "randhie: two health categories on one row"
    health = np.full(len(y), "excellent", dtype=object)
    for col, name in RANDHIE_HEALTH.items():
        health[exog[col].to_numpy() == 1] = name

    write(
        pd.DataFrame({"id": np.arange(len(y)), "y_true": y, "y_pred": pred, "health": health}),
        "randhie_poisson",
    )
    r = pred - y
    dev = 2 * (np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / pred), 0.0) - y + pred)
    return {
        "randhie poisson GLM RMSE": float(np.sqrt(np.mean(r * r))),
        "randhie poisson GLM MAE": float(np.mean(np.abs(r))),
        "randhie poisson GLM mean Poisson deviance": float(np.mean(dev)),
    }


#: The macrodata series of the forecasting panel and the quarter each one starts in
#: (staggered, so the panel is ragged: 203 down to 83 quarters); all end in 2009Q3.
MACRO_SERIES = {
    "realgdp": "1959-01-01",
    "realcons": "1962-01-01",
    "realinv": "1965-01-01",
    "realgovt": "1969-01-01",
    "cpi": "1974-01-01",
    "m1": "1979-01-01",
    "unemp": "1984-01-01",
    "tbilrate": "1989-01-01",
}
#: Quarters held out at the end of every series: the forecast horizon.
HORIZON = 8
#: Season length of the quarterly data (the seasonal naive repeats the last year).
SEASON = 4
#: How many lagged first differences the gradient-boosting forecaster sees.
GBR_LAGS = 8


def seasonal_naive(history: np.ndarray, horizon: int, season: int = SEASON) -> np.ndarray:
    """Repeat the last ``season`` observations of ``history`` over ``horizon`` steps."""
    return np.tile(history[-season:], -(-horizon // season))[:horizon]


def gbr_recursive(history: np.ndarray, horizon: int, lags: int = GBR_LAGS) -> np.ndarray:
    """Forecast ``horizon`` steps with a GBR on the last ``lags`` first differences.

    ``GradientBoostingRegressor(random_state=0)`` learns the next first difference of
    the series from the ``lags`` before it; the forecast is recursive (each predicted
    difference is fed back as a lag) and cumulated onto the last observed value, so
    the trees, which cannot extrapolate a level, can still follow a trend.
    """
    diff = np.diff(history)
    x = np.lib.stride_tricks.sliding_window_view(diff[:-1], lags)
    model = GradientBoostingRegressor(random_state=SEED).fit(x, diff[lags:])
    window = list(diff[-lags:])
    level = float(history[-1])
    out = np.empty(horizon)
    for h in range(horizon):
        step = float(model.predict(np.asarray(window[-lags:])[None, :])[0])
        window.append(step)
        level += step
        out[h] = level
    return out


def make_forecast() -> dict[str, float]:
    """Write the forecasting panel: training history and 8-quarter forecasts.

    statsmodels' ``macrodata`` (quarterly US macroeconomic series, 1959Q1-2009Q3):
    the series of MACRO_SERIES, each from its own start quarter to 2009Q3, in
    Nixtla's long layout (``unique_id``, ``ds`` = the quarter's first day, ``y``).
    The last HORIZON quarters of every series are held out; on the history before
    them, per series:

    - ``SeasonalNaive``: the last SEASON observed quarters, repeated;
    - ``HoltWinters``: statsmodels ``ExponentialSmoothing`` with an additive damped
      trend and no seasonal component (the series are seasonally adjusted), estimated
      initial states, ``fit()`` defaults (deterministic; ConvergenceWarning silenced);
    - ``GBR``: see ``gbr_recursive``.

    ``macro_train`` holds the history, ``macro_forecasts`` the horizon with the actual
    ``y`` and the three forecasts; both sorted by ``unique_id`` then ``ds``.
    """
    try:
        from statsmodels.datasets import macrodata
        from statsmodels.tools.sm_exceptions import ConvergenceWarning
        from statsmodels.tsa.holtwinters import ExponentialSmoothing
    except ImportError:
        raise RuntimeError(
            "macro_train / macro_forecasts need statsmodels, which only this script uses: "
            "pip install statsmodels"
        ) from None
    data = macrodata.load_pandas().data
    ds = pd.to_datetime(
        pd.DataFrame({"year": data["year"], "month": 3 * data["quarter"] - 2, "day": 1}).astype(int)
    ).astype("datetime64[ns]")
    train_parts, forecast_parts = [], []
    mase: dict[str, list[float]] = {"SeasonalNaive": [], "HoltWinters": [], "GBR": []}
    for uid, start in sorted(MACRO_SERIES.items()):
        keep = (ds >= pd.Timestamp(start)).to_numpy()
        y = data.loc[keep, uid].to_numpy(dtype=np.float64)
        dates = ds[keep].to_numpy()
        history, actual = y[:-HORIZON], y[-HORIZON:]
        for lag in (1, SEASON):
            scale = np.mean(np.abs(history[lag:] - history[:-lag]))
            assert scale > 0, f"{uid}: constant history at lag {lag}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            hw = ExponentialSmoothing(
                history, trend="add", damped_trend=True, initialization_method="estimated"
            ).fit()
        preds = {
            "SeasonalNaive": seasonal_naive(history, HORIZON),
            "HoltWinters": np.asarray(hw.forecast(HORIZON), dtype=np.float64),
            "GBR": gbr_recursive(history, HORIZON),
        }
        scale = np.mean(np.abs(history[SEASON:] - history[:-SEASON]))
        for model, pred in preds.items():
            assert pred.shape == (HORIZON,) and np.all(np.isfinite(pred)), f"{uid} {model}"
            mase[model].append(float(np.mean(np.abs(actual - pred)) / scale))
        n = len(history)
        train_parts.append(pd.DataFrame({"unique_id": uid, "ds": dates[:n], "y": history}))
        forecast_parts.append(
            pd.DataFrame({"unique_id": uid, "ds": dates[n:], "y": actual, **preds})
        )
    write(pd.concat(train_parts, ignore_index=True), "macro_train")
    write(pd.concat(forecast_parts, ignore_index=True), "macro_forecasts")
    return {f"macro {model} mean MASE (season 4)": float(np.mean(v)) for model, v in mase.items()}


def make_calibration() -> dict[str, float]:
    """Write the breast cancer calibration file: over-confident vs calibrated P(benign).

    Out-of-fold (same stratified folds as breast_cancer_binary) probabilities of class
    1 (benign) from ``GaussianNB`` on the raw features (``naive_bayes``), the same model
    wrapped in ``CalibratedClassifierCV(method="isotonic", cv=5)``
    (``naive_bayes_isotonic``: the average of five isotonic-calibrated copies), and a
    ``LinearSVC`` on standardized features with Platt scaling,
    ``CalibratedClassifierCV(method="sigmoid", cv=5, ensemble=False)`` (``svm_sigmoid``:
    one sigmoid fitted on the cross-validated margins, on top of one SVC refitted on
    the whole training part; the default ensemble of five is visibly under-confident
    here). The inner ``cv=5`` splits each training part into unshuffled stratified
    folds.
    """
    data = load_breast_cancer()
    x, y = data.data, data.target  # 1 = benign, 0 = malignant
    models = {
        "naive_bayes": GaussianNB(),
        "naive_bayes_isotonic": CalibratedClassifierCV(
            GaussianNB(), method="isotonic", cv=N_SPLITS
        ),
        "svm_sigmoid": CalibratedClassifierCV(
            make_pipeline(StandardScaler(), LinearSVC(random_state=SEED)),
            method="sigmoid",
            cv=N_SPLITS,
            ensemble=False,
        ),
    }
    probs = {}
    for name, model in models.items():
        probs[name] = oof(model, x, y, stratified_kfold(), "predict_proba")[:, 1]
        check_probabilities(probs[name], f"breast_cancer_calibration {name}")
    write(pd.DataFrame({"y_true": y, **probs}), "breast_cancer_calibration")
    return {
        f"breast_cancer_calibration {name} Brier": float(np.mean((p - y) ** 2))
        for name, p in probs.items()
    }


#: The sample groups by name, in the order main() writes them.
MAKERS: dict[str, Callable[[], dict[str, float]]] = {
    "diabetes": make_diabetes,
    "breast_cancer": make_breast_cancer,
    "wine": make_wine,
    "iris": make_iris,
    "randhie": make_randhie,
    "probabilistic": make_probabilistic,
    "several": make_several,
    "forecast": make_forecast,
    "calibration": make_calibration,
}


def main(argv: list[str] | None = None) -> None:
    """Generate the sample files (all, or the named groups) and print quick quality numbers."""
    names = list(sys.argv[1:] if argv is None else argv) or list(MAKERS)
    unknown = [name for name in names if name not in MAKERS]
    if unknown:
        raise SystemExit(f"unknown sample group(s) {unknown}; choose from {list(MAKERS)}")
    metrics: dict[str, float] = {}
    for name in names:
        try:
            metrics.update(MAKERS[name]())
        except RuntimeError as exc:  # an optional dependency is missing
            print(f"skipped {name}: {exc}", file=sys.stderr)
    for key, value in metrics.items():
        print(f"{key}: {value:.4f}")


if __name__ == "__main__":
    main()
