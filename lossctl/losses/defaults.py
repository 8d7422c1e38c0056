"""The default losses of each task and prediction kind (the contract's defaults)."""

from __future__ import annotations

from collections.abc import Sequence


def _near(levels: Sequence[float], level: float) -> bool:
    from lossctl.losses.probabilistic import LEVEL_TOLERANCE

    return any(abs(v - level) <= LEVEL_TOLERANCE for v in levels)


def quantile_defaults(levels: Sequence[float]) -> list[str]:
    """quantile; wis when the levels are a median and symmetric pairs; the interval score of
    the 80% interval, else of the widest central interval the levels hold."""
    out = ["quantile"]
    if _near(levels, 0.5) and all(_near(levels, 1.0 - v) for v in levels):
        out.append("wis")
    pairs = sorted(v for v in levels if v < 0.5 and _near(levels, 1.0 - v))
    if _near(pairs, 0.1):
        out.append("interval_score")
    elif pairs:
        out.append(f"interval_score:coverage={round(1.0 - 2.0 * pairs[0], 12):g}")
    return out


def default_losses(task: str, kind: str, levels: Sequence[float] = ()) -> list[str]:
    """The default loss keys of a task and prediction kind (the contract)."""
    if kind == "quantiles":
        return quantile_defaults(levels)
    if kind == "gaussian":
        return ["crps_gaussian", "gaussian_nll"]
    if kind == "ensemble":
        return ["crps_ensemble", "crps_ensemble:estimator=fair"]
    if task == "regression":
        return ["mse", "rmse", "mae", "huber"]
    if task == "binary":
        if kind == "probability":
            return ["bce", "brier", "zero_one"]
        return ["bce_logits", "hinge", "zero_one:threshold=0"]
    if task == "multilabel":
        if kind == "probability":
            return ["bce", "brier", "zero_one", "subset_zero_one"]
        return ["bce_logits", "hinge", "zero_one:threshold=0", "subset_zero_one:threshold=0"]
    if kind == "probability":
        return ["cross_entropy", "brier", "zero_one"]
    return ["softmax_cross_entropy", "multiclass_hinge", "zero_one"]
