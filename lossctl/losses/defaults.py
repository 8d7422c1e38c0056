"""The default losses of each task and prediction kind (the contract's defaults)."""

from __future__ import annotations


def default_losses(task: str, kind: str) -> list[str]:
    """The default loss keys of a task and prediction kind (the contract)."""
    if task == "regression":
        return ["mse", "rmse", "mae", "huber"]
    if task == "binary":
        if kind == "probability":
            return ["bce", "brier", "zero_one"]
        return ["bce_logits", "hinge", "zero_one:threshold=0"]
    if kind == "probability":
        return ["cross_entropy", "brier", "zero_one"]
    return ["softmax_cross_entropy", "multiclass_hinge", "zero_one"]
