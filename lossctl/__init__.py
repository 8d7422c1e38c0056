"""lossctl: evaluate, compare and explain loss functions on prediction files and
DataFrames.

The Python API mirrors the command line::

    >>> import numpy as np, lossctl
    >>> huber = lossctl.get_loss("huber:delta=2")
    >>> huber.cost(np.array([0.0, 1.0]), np.array([0.5, 4.0]))
    1.0625

:func:`evaluate`, :func:`compare`, :func:`recommend` and :func:`per_sample` take a path,
a pandas or polars DataFrame, a pyarrow Table or a dict of arrays (see
:mod:`lossctl.api`). ``import lossctl`` imports no numpy, pyarrow, pandas or scipy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lossctl.errors import DomainError, InputError, LossctlError, UsageError
from lossctl.version import __version__

if TYPE_CHECKING:
    from lossctl.api import (
        CompareReport,
        EvalReport,
        LossctlWarning,
        RecommendReport,
        compare,
        evaluate,
        per_sample,
        recommend,
    )
    from lossctl.losses import BoundLoss

#: Loaded on first use (:func:`__getattr__`), so that the CLI's start-up does not pay.
_API = frozenset({
    "CompareReport", "EvalReport", "LossctlWarning", "RecommendReport", "compare", "evaluate",
    "per_sample", "recommend",
})  # fmt: skip

__all__ = [
    "LOSSES", "CompareReport", "DomainError", "EvalReport", "InputError", "LossctlError",
    "LossctlWarning", "RecommendReport", "UsageError", "__version__", "compare", "evaluate",
    "get_loss", "per_sample", "recommend",
]  # fmt: skip


def get_loss(spec: str, task: str | None = None, **params: Any) -> BoundLoss:
    """A loss with its parameters bound: ``get_loss("quantile:alpha=0.9")``.

    ``task`` chooses between losses that exist for several tasks (``brier``,
    ``zero_one``). Installed entry-point plugins are included. ``cost(y_true, y_pred)``
    and ``per_sample(y_true, y_pred)`` take array-likes (lists, numpy arrays of any
    numeric dtype, pandas or polars Series).
    """
    from lossctl.plugins import load_registry

    return load_registry().loss(spec, task, **params)


def __getattr__(name: str) -> Any:
    # The API and LOSSES are loaded on first use so that ``import lossctl`` stays cheap.
    if name in _API:
        from lossctl import api

        return getattr(api, name)
    if name == "LOSSES":
        from lossctl.losses import BUILTIN

        return BUILTIN
    raise AttributeError(f"module 'lossctl' has no attribute {name!r}")
