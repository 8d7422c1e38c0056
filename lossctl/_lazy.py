"""A module imported on first attribute access (keeps ``lossctl losses`` fast).

The loss catalogue is data plus numpy functions; listing or explaining it needs no
numpy. ``np = lazy("numpy")`` gives a stand-in that imports numpy the first time a
loss actually computes something.
"""

from __future__ import annotations

import importlib
import types
from typing import Any


class _LazyModule(types.ModuleType):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.__dict__["_lazy_target"] = name

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # Pickled (by cloudpickle, for Dask workers) as the real module.
        return (importlib.import_module, (self.__dict__["_lazy_target"],))

    def __getattr__(self, attr: str) -> Any:
        module = importlib.import_module(self.__dict__["_lazy_target"])
        self.__dict__.update(module.__dict__)  # later look-ups are plain dict hits
        return getattr(module, attr)


def lazy(name: str) -> Any:
    """A stand-in for module ``name`` that imports it when first used."""
    return _LazyModule(name)
