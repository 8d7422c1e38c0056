"""Scaled forecast errors (``mase``, ``msse``, ``rmsse``): errors divided by each series'
in-sample seasonal-naive error, and a cost in which every series counts once.

The per-sample function is the plain error (|r| or r²); the evaluation core divides it
by the row's series scale (``scaled``: ``abs`` for the mean |y_t - y_{t-m}| of the
history, ``squared`` for the mean (y_t - y_{t-m})²) and averages per series first.
"""

from __future__ import annotations

from lossctl.losses.regression import mae, mse
from lossctl.losses.spec import LossSpec

_USE = (
    "Comparing forecasters over a panel of series of different scales (sales of many "
    "products, the M4/M5 competitions): every series counts once and a value below 1 "
    "beats the seasonal naive forecast's in-sample error."
)
_NEEDS = (
    " Needs --series, --train (the history) and --season; a series whose history is "
    "constant (a zero scale) or too short has no scale and is an error."
)

FORECAST: tuple[LossSpec, ...] = (
    LossSpec(
        name="mase",
        fn=mae,
        task="regression",
        prediction_kind="value",
        scaled="abs",
        formula="|r| / s, s = mean |y_t - y_{t-m}| over the series' history",
        summary="Mean absolute scaled error: MAE over the seasonal naive's in-sample MAE.",
        explain=(
            "The absolute error of each forecast divided by the series' scale, the mean "
            "absolute error the seasonal naive forecast (y_t predicted by y_{t-m}, m = "
            "--season) makes on the history in --train. A series' MASE below 1 means the "
            "model's errors on the horizon are smaller than the seasonal naive's in-sample "
            "errors: it beats the seasonal naive in-sample. The cost is the mean of the "
            "series' MASEs, so a series of sales in millions and one in units count the "
            "same, where a plain MAE across them is the big series' MAE."
        ),
        use_when=_USE,
        watch_out=(
            "The scale is in-sample, each value predicted from the one m periods before: "
            "on horizons longer than m even a good model can exceed 1, and below 1 is not "
            "the same as beating the seasonal naive forecast of the same horizon. A "
            "near-constant history gives a tiny scale and a huge MASE for that series." + _NEEDS
        ),
        see_also=("rmsse", "msse", "mae", "smape", "wape"),
        robust_to_outliers=True,
        reference="utilsforecast mase (seasonality m), mean over series; M4 competition",
    ),
    LossSpec(
        name="msse",
        fn=mse,
        task="regression",
        prediction_kind="value",
        scaled="squared",
        formula="r² / s², s² = mean (y_t - y_{t-m})² over the series' history",
        summary="Mean squared scaled error: MSE over the seasonal naive's in-sample MSE.",
        explain=(
            "The squared error of each forecast divided by the mean squared error of the "
            "seasonal naive forecast on the series' history; the cost is the mean over "
            "series of each series' MSSE. Its square root per series is rmsse."
        ),
        use_when=_USE,
        watch_out="Squared: one bad forecast dominates its series." + _NEEDS,
        see_also=("rmsse", "mase", "mse"),
        reference="utilsforecast msse (seasonality m), mean over series",
    ),
    LossSpec(
        name="rmsse",
        fn=mse,
        task="regression",
        prediction_kind="value",
        scaled="squared",
        finalize="sqrt",
        formula="sqrt(mean over the series' rows of r² / s²), s² as msse",
        summary="Root mean squared scaled error, per series, averaged over series (M5).",
        explain=(
            "The square root of each series' MSSE, then the mean over series. The M5 "
            "competition chose it because it is scale-free like MASE but squared errors "
            "target the mean rather than the median: most M5 sales series are intermittent "
            "(mostly zeros), where the median is 0 and an absolute error such as MASE "
            "rewards forecasting nothing, while the mean is what stock is planned for. Like "
            "MASE it stays defined where the target is 0, where percentage errors divide "
            "by zero."
        ),
        use_when=_USE + " Prefer it to mase when the forecast targets the mean.",
        watch_out=(
            "The square root is per series, so the cost is not the root of the mean msse. "
            "M5 weighted series by their sales; lossctl gives every series the same weight."
            + _NEEDS
        ),
        see_also=("msse", "mase", "rmse"),
        reference="utilsforecast rmsse (seasonality m), mean over series; M5 competition",
    ),
)
