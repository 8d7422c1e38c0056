"""lossctl: evaluate, compare and explain loss functions on prediction files.

The Python API mirrors the command line::

    >>> import numpy as np, lossctl
    >>> huber = lossctl.get_loss("huber:delta=2")
    >>> huber.cost(np.array([0.0, 1.0]), np.array([0.5, 4.0]))
    1.0625
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from lossctl.losses import BoundLoss, LossSpec
    from lossctl.report import EvalReport

__all__ = ["LOSSES", "__version__", "evaluate", "get_loss"]


def evaluate(path: str, losses: str | Sequence[str] = (), **options: Any) -> EvalReport:
    """Evaluate a prediction file, as ``lossctl eval`` does, and return the report.

    ``options`` are :class:`lossctl.options.EvalOptions` fields: ``target``,
    ``pred``, ``weight``, ``by``, ``task``, ``nan``, ``chunk_size``, ``max``, ...
    """
    from lossctl.flows.eval import run_eval
    from lossctl.options import EvalOptions

    specs = [losses] if isinstance(losses, str) else list(losses)
    for key in ("target", "pred", "max"):
        if isinstance(options.get(key), str):
            options[key] = [options[key]]
    return run_eval(EvalOptions(path=str(path), losses=specs, **options))


def get_loss(spec: str, task: str | None = None, **params: Any) -> BoundLoss:
    """A loss with its parameters bound: ``get_loss("quantile:alpha=0.9")``.

    ``task`` chooses between losses that exist for several tasks (``brier``,
    ``zero_one``). Installed entry-point plugins are included.
    """
    from lossctl.plugins import load_registry

    return load_registry().loss(spec, task, **params)


def __getattr__(name: str) -> tuple[LossSpec, ...]:
    # LOSSES is built on first use so that ``import lossctl`` stays cheap.
    if name == "LOSSES":
        from lossctl.losses import BUILTIN

        return BUILTIN
    raise AttributeError(f"module 'lossctl' has no attribute {name!r}")
