"""Frozen results: the contract between the evaluation core and the renderers.

Floats are kept at full precision; rounding and colour happen only in the
human renderers, and JSON is built from these objects, never from a table.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LossStats:
    """Aggregate of one loss key: the cost and the distribution of per-sample values.

    ``std``, ``min`` and ``max`` are None for a finalized loss (rmse, rmsle): its
    per-sample values are in other units than its cost (squared errors), so their
    spread would mislead. ``sum`` is always of the per-sample values.
    """

    key: str
    name: str
    params: dict[str, float | None]
    cost: float
    sum: float
    std: float | None
    min: float | None
    max: float | None
    n: int
    weight_sum: float


@dataclass(frozen=True)
class GroupStats:
    name: str
    n_used: int
    losses: dict[str, LossStats]


@dataclass(frozen=True)
class GateFailure:
    """A failed gate: ``kind`` "max" (--max) or "worse" (--fail-if-worse, where ``max``
    is the baseline cost times 1 + tolerance)."""

    loss: str
    cost: float
    max: float
    model: str | None = None
    kind: str = "max"


@dataclass(frozen=True)
class GateResult:
    passed: bool
    failures: tuple[GateFailure, ...] = ()


@dataclass(frozen=True)
class Columns:
    target: tuple[str, ...]
    pred: tuple[str, ...]
    weight: str | None
    classes: tuple[str, ...] = ()
    #: The positive label of a binary target (given or chosen), else None.
    pos_label: str | None = None


@dataclass(frozen=True)
class PluginFile:
    """A plugin file a result used, and where it was named (a config file or ``--plugin``)."""

    path: str
    via: str


@dataclass(frozen=True)
class EvalReport:
    """The result of ``lossctl eval``."""

    source: str
    task: str
    prediction_kind: str
    columns: Columns
    n_rows: int
    n_used: int
    n_dropped: int
    losses: dict[str, LossStats]
    groups: dict[str, GroupStats] | None = None
    by: str | None = None
    gate: GateResult | None = None
    warnings: tuple[str, ...] = ()
    #: Plugin files loaded, and the config file read (None: none).
    plugins: tuple[PluginFile, ...] = ()
    config: str | None = None


@dataclass(frozen=True)
class Versus:
    """One candidate against the baseline on one loss key."""

    delta: float
    relative: float | None
    ci: tuple[float, float] | None
    p_value: float | None
    p_value_adjusted: float | None
    significant: bool | None
    win_rate: float


@dataclass(frozen=True)
class LossComparison:
    key: str
    name: str
    params: dict[str, float | None]
    costs: dict[str, float]
    best: str
    vs_baseline: dict[str, Versus]
    test: str


@dataclass(frozen=True)
class ModelInfo:
    name: str
    source: str
    column: tuple[str, ...]


@dataclass(frozen=True)
class TestInfo:
    method: str
    resamples: int | None
    seed: int | None
    confidence: float
    horizon: int | None = None


@dataclass(frozen=True)
class CompareReport:
    """The result of ``lossctl compare``."""

    task: str
    prediction_kind: str
    baseline: str
    models: dict[str, ModelInfo]
    aligned_by: str
    n_rows: int
    n_used: int
    n_dropped: int
    losses: dict[str, LossComparison]
    test: TestInfo
    weight: str | None = None
    gate: GateResult | None = None
    warnings: tuple[str, ...] = ()
    #: Plugin files loaded, and the config file read (None: none).
    plugins: tuple[PluginFile, ...] = ()
    config: str | None = None
