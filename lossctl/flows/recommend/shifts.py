"""The notes on a constant shift of regression predictions: a bias, or a mean forecast.

Computed on the losses actually recommended, unweighted like the facts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from lossctl.errors import DomainError
from lossctl.flows.recommend.prose import num, pct
from lossctl.flows.recommend.residuals import _Residuals
from lossctl.flows.recommend.thresholds import BIAS_GAIN
from lossctl.losses import builtin_registry


def _shifted_costs(
    keys: Sequence[str], y: np.ndarray, p: np.ndarray, shift: float
) -> dict[str, tuple[float, float | None, str]]:
    """Per loss key: (unweighted cost, cost at p - shift or None, why it is None)."""
    reg = builtin_registry()
    out: dict[str, tuple[float, float | None, str]] = {}
    for key in keys:
        loss = reg.loss(key, "regression")
        before = loss.cost(y, p)
        try:
            out[key] = (before, loss.cost(y, p - shift), "")
        except DomainError as exc:
            s = "s" if exc.count != 1 else ""
            out[key] = (
                before,
                None,
                f"The shift leaves {key} undefined: {exc.count} shifted prediction{s} "
                f"would not be {exc.expected}",
            )
    return out


def _shift_sentences(subject: str, costs: dict[str, tuple[float, float | None, str]]) -> str:
    """'{subject} lowers mse from 4 to 1.2 and mae from 2 to 1.1, but raises X from 3 to 4.'
    plus a sentence per loss the shifted predictions leave undefined."""
    defined = [(k, a, b) for k, (a, b, _) in costs.items() if b is not None]
    lowered = [(k, a, b) for k, a, b in defined if b < a]
    raised = [(k, a, b) for k, a, b in defined if b > a]
    same = [k for k, a, b in defined if b == a]
    undefined = [why for _, (_, b, why) in costs.items() if b is None]

    def listed(items: list[tuple[str, float, float]]) -> str:
        texts = [f"{k} from {num(a)} to {num(b)}" for k, a, b in items]
        return texts[0] if len(texts) == 1 else ", ".join(texts[:-1]) + " and " + texts[-1]

    parts = []
    if lowered:
        parts.append(f"lowers {listed(lowered)}")
    if raised:
        parts.append(("but " if lowered else "") + f"raises {listed(raised)}")
    if same:
        parts.append(f"leaves {', '.join(same)} unchanged")
    text = f"{subject} {', '.join(parts)}." if parts else ""
    for why in undefined:
        text += f" {why}."
    return text.strip()


def _bias_note(m: _Residuals, keys: Sequence[str], median_far: bool) -> str:
    """The predictions are biased: what subtracting the mean residual does to every loss."""
    costs = _shifted_costs(["mse", *(k for k in keys if k != "mse")], m.y, m.p, m.mean_r)
    se = m.se
    how = f"{num(abs(m.mean_r) / se)} standard errors from 0" if se > 0 else "on every row"
    note = (
        f"The predictions are biased: the mean residual (prediction - target) is "
        f"{num(m.mean_r)}, {how}. "
        + _shift_sentences(f"Subtracting it from every prediction{m.weighted}", costs)
    )
    note += _scale_sentence(m, costs)
    mae_mean = costs["mae"][1] if "mae" in costs else None
    if median_far and mae_mean is not None and m.mae_median_shift < (1 - BIAS_GAIN) * mae_mean:
        note += (
            f" Subtracting the median residual {num(m.med)} instead lowers mae from "
            f"{num(m.mae0)} to {num(m.mae_median_shift)}."
        )
    return note


def _scale_sentence(m: _Residuals, costs: dict[str, tuple[float, float | None, str]]) -> str:
    """What a scale does to the losses the shift leaves undefined ("" when it does not help)."""
    undefined = [key for key, (_, after, _) in costs.items() if after is None]
    mean_p = float(np.mean(m.p))
    if not (undefined and m.p_min > 0 and m.y_mean > 0 and mean_p > 0):
        return ""
    # A scale keeps positive predictions positive: check what it does.
    factor = m.y_mean / mean_p
    scaled = _shifted_costs(undefined, m.y, m.p * factor, 0.0)
    done = {key: (costs[key][0], after) for key, (_, after, _) in scaled.items()}
    if not all(after is not None for _, after in done.values()):
        return ""
    texts = []
    for key, (before, after) in done.items():
        assert after is not None
        verb = "lowers" if after < before else "raises"
        texts.append(f"{verb} {key} from {num(before)} to {num(after)}")
    return (
        " Multiplying every prediction by mean(target) / mean(prediction) = "
        f"{num(factor)} instead keeps them > 0 and " + " and ".join(texts) + "."
    )


def _mean_forecast_note(m: _Residuals, keys: Sequence[str], skewed: bool) -> str:
    """Not a bias: a forecast of the mean of skewed errors, and what the median shift does."""
    named = ["mae", "mse"]
    med = m.med
    costs = _shifted_costs([*named, *(k for k in keys if k not in named)], m.y, m.p, med)
    side = "above" if med > 0 else "below"
    side_share = m.over_share if med > 0 else float(np.mean(m.r < 0))
    skew_text = ""
    if skewed and med > 0 and m.y_median < m.y_mean:
        skew_text = (
            f"; the target is right-skewed (skewness {num(m.y_skew)}; median "
            f"{num(m.y_median)}, mean {num(m.y_mean)}), so a forecast of the mean lies "
            "above most targets"
        )
    t_text = f", {num(abs(m.mean_r) / m.se)} standard errors" if m.se > 0 else ""
    return (
        f"Not a bias: the median residual is {num(med)} "
        f"({num(abs(med) / m.sigma)} robust SDs from 0), but the mean residual is "
        f"{num(m.mean_r)}{t_text}, and removing it would lower mse by only "
        f"{pct(m.mse_gain)}. {pct(side_share)} of the predictions are {side} their "
        f"target, yet they are right on average{skew_text}. "
        + _shift_sentences(
            f"Subtracting the median residual from every prediction{m.weighted}", costs
        )
        + " The losses it lowers would rank a forecast of the median above this "
        "forecast of the mean."
    )
