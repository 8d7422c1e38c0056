"""A custom-loss plugin for lossctl: an asymmetric squared error.

Use it with ``lossctl --plugin examples/my_losses.py ...`` (or ``plugin = [...]`` in
``[tool.lossctl]``); a package can ship the same ``LOSSES`` through the
``lossctl.losses`` entry-point group.
"""

from __future__ import annotations

import numpy as np

from lossctl.losses import LossSpec, Param


def asymmetric_mse(y_true: np.ndarray, y_pred: np.ndarray, *, under: float = 2.0) -> np.ndarray:
    """r² for over-prediction, ``under`` * r² for under-prediction (r = y_pred - y_true)."""
    r = y_pred - y_true
    return np.where(r < 0, under, 1.0) * r * r


LOSSES = [
    LossSpec(
        name="asymmetric_mse",
        fn=asymmetric_mse,
        task="regression",
        prediction_kind="value",
        params=(
            Param(
                "under",
                2.0,
                low=0.0,
                closed="neither",
                help="Cost multiplier of under-prediction (stock-outs).",
            ),
        ),
        formula="under * r² if r < 0 else r², r = y_pred - y_true",
        summary="Squared error that punishes under-prediction more (demand forecasts).",
        explain=(
            "Squared error where predicting too little costs `under` times as much as "
            "predicting too much by the same amount: a stock-out loses a sale, surplus "
            "stock only costs storage."
        ),
        use_when="Under- and over-prediction have different, known costs.",
        watch_out="The optimum is above the conditional mean; compare models at the same `under`.",
        reference="custom (no library reference)",
    ),
]
