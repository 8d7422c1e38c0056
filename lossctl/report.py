"""Frozen results: the contract between the evaluation core and the renderers.

Floats are kept at full precision; rounding and colour happen only in the
human renderers, and JSON is built from these objects, never from a table.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    params: dict[str, float | str | None]
    cost: float
    #: None for a binned loss (ece): it has no per-sample values.
    sum: float | None
    std: float | None
    min: float | None
    max: float | None
    n: int
    weight_sum: float
    #: The cost of each of K outputs or labels, by name (the cost above is their mean).
    outputs: dict[str, float] | None = None
    #: A scaled loss (mase): how many series its cost is the mean over.
    series: int | None = None

    @classmethod
    def quick(
        cls, key: str, name: str, params: dict[str, float | str | None], cost: float,
        sum: float | None, std: float | None, min: float | None, max: float | None, n: int,
        weight_sum: float,
    ) -> LossStats:  # fmt: skip
        """The same object as the constructor's, made 3-4x faster (no frozen ``__setattr__``
        per field): the statistics of a million groups are made this way."""
        made = object.__new__(cls)
        made.__dict__.update(
            key=key, name=name, params=params, cost=cost, sum=sum, std=std, min=min, max=max,
            n=n, weight_sum=weight_sum, outputs=None, series=None,
        )  # fmt: skip
        return made


@dataclass(frozen=True)
class ForecastSetup:
    """How the scaled losses were scaled: the series and time columns, the history file
    and the season m."""

    series: str | None
    time: str | None
    train: str
    season: int


@dataclass(frozen=True)
class DataPrint:
    """The rows a result was computed on: how many, and their fingerprint (16 hex digits,
    independent of chunking and row order; None where the engine does not compute it)."""

    rows: int
    fingerprint: str | None
    #: The fingerprint of the targets and weights alone: equal for two models scored on
    #: the same data.
    targets: str | None = None


@dataclass(frozen=True)
class Signature:
    """What a result was computed with, so that two results can be told comparable: the
    losses with their resolved parameters, task, layout, columns, --nan policy, the data
    (per model for compare) and, for compare, the test. The renderers add the version."""

    task: str
    kind: str
    losses: dict[str, tuple[str, dict[str, float | str | None]]]
    columns: dict[str, object]
    nan: str
    data: dict[str, DataPrint]
    test: dict[str, object] | None = None


@dataclass(frozen=True)
class GroupStats:
    name: str
    n_used: int
    losses: dict[str, LossStats]


@dataclass(frozen=True)
class GateFailure:
    """A failed gate: ``kind`` "max" (--max), "worse" (--fail-if-worse, where ``max``
    is the baseline cost times 1 + tolerance), "max_group" (--max-group: ``cost`` is the
    worst group's, ``groups`` every group above ``max``, worst first) or "baseline"
    (--baseline, diff: ``max`` is the baseline's cost plus the allowed increase; in
    ``group`` when it is a group's cost; ``missing`` when the key is not in this run)."""

    loss: str
    cost: float
    max: float
    model: str | None = None
    kind: str = "max"
    group: str | None = None
    groups: tuple[tuple[str, float], ...] = ()
    baseline: float | None = None
    missing: bool = False


@dataclass(frozen=True)
class BaselineDelta:
    """One loss key against the saved baseline. ``relative`` is None when the baseline's
    cost is 0 or unknown; ``allowed`` is the increase the tolerance allows, in cost units;
    a cost that is unknown (NaN in the run, null in JSON) has no delta."""

    baseline: float | None
    current: float | None
    delta: float | None
    relative: float | None
    allowed: float | None
    passed: bool


@dataclass(frozen=True)
class BaselineComparison:
    """A run against a saved ``eval --json`` result (--baseline, diff).

    ``missing``: keys of the baseline not in this run; ``new``: keys only in this run;
    ``groups``: per group in both runs (None unless both have groups), with the groups
    of one run only in ``groups_missing`` / ``groups_new``. ``tolerances``: key ("*"
    for every key) -> the tolerance as given (``2%``, ``0.5``).
    """

    source: str
    losses: dict[str, BaselineDelta]
    groups: dict[str, dict[str, BaselineDelta]] | None
    missing: tuple[str, ...] = ()
    new: tuple[str, ...] = ()
    groups_missing: tuple[str, ...] = ()
    groups_new: tuple[str, ...] = ()
    by: str | None = None
    tolerances: dict[str, str] | None = None
    allow_missing: bool = False


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
    #: Quantile levels of the ``pred`` columns (a quantile set), in their order.
    levels: tuple[float, ...] = ()
    #: A Gaussian prediction's standard deviation (or, ``spread_is_var``, variance) column.
    spread: str | None = None
    spread_is_var: bool = False


@dataclass(frozen=True)
class IntervalStats:
    """A central prediction interval: the share of targets inside it, and its mean width."""

    coverage: float
    width: float


@dataclass(frozen=True)
class Diagnostics:
    """How a quantile forecast's levels and intervals hold up (weighted by ``--weight``).

    ``coverage``: level -> share of rows with y <= the quantile (ideally the level);
    ``intervals``: nominal coverage -> :class:`IntervalStats`, for each symmetric pair.
    """

    coverage: dict[float, float]
    intervals: dict[float, IntervalStats]


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
    groups: Mapping[str, GroupStats] | None = None
    by: str | None = None
    gate: GateResult | None = None
    warnings: tuple[str, ...] = ()
    #: Plugin files loaded, and the config file read (None: none).
    plugins: tuple[PluginFile, ...] = ()
    config: str | None = None
    diagnostics: Diagnostics | None = None
    forecast: ForecastSetup | None = None
    signature: Signature | None = None
    #: --baseline: this run against the saved result.
    baseline: BaselineComparison | None = None


@dataclass(frozen=True)
class DiffReport:
    """The result of ``lossctl diff OLD NEW``: two saved eval results compared."""

    old: str
    new: str
    comparison: BaselineComparison
    gate: GateResult
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Versus:
    """One candidate against the baseline on one loss key."""

    delta: float
    relative: float | None
    ci: tuple[float, float] | None
    p_value: float | None
    p_value_adjusted: float | None
    significant: bool | None
    #: None for a binned loss (ece): it has no per-row loss to win on.
    win_rate: float | None
    #: Scaled losses (mase): on how many series the candidate's value is lower (ties count
    #: half), of how many.
    series_won: float | None = None
    n_series: int | None = None


@dataclass(frozen=True)
class LossComparison:
    key: str
    name: str
    params: dict[str, float | str | None]
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
    forecast: ForecastSetup | None = None
    signature: Signature | None = None


#: The value of a recommend :class:`Fact` (None: not measured, or not finite).
FactValue = float | int | str | bool | None


@dataclass(frozen=True)
class Fact:
    """One measured number, with what it means.

    ``unit`` tells renderers how to show ``value``: ``share`` (a fraction shown as a
    percentage), ``count``, ``number`` or ``text``.
    """

    name: str
    value: FactValue
    meaning: str
    unit: str = "number"


@dataclass(frozen=True)
class Recommendation:
    """A recommended loss: its rank, spec key, cost on this file and the reasons."""

    rank: int
    key: str
    name: str
    params: dict[str, float | str | None]
    cost: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class RowRank:
    """A row (1-based row number) and its rank under two losses (1 = worst)."""

    row: int
    rank_a: int
    rank_b: int


@dataclass(frozen=True)
class PairAgreement:
    """How much two losses agree on the worst rows.

    ``top_overlap``: shared share of their worst rows (1 = the same rows);
    ``rank_correlation``: Spearman correlation of their per-sample values (None
    when a loss is constant).
    """

    a: str
    b: str
    top_overlap: float
    rank_correlation: float | None


@dataclass(frozen=True)
class Disagreement:
    """Which recommended losses disagree about the worst rows.

    ``top_k``: how many worst rows are compared; ``pairs``: every pair;
    ``least``: the pair with the least agreement; ``rows_only_a`` / ``rows_only_b``:
    rows among the ``window`` worst under one loss of ``least`` but not the other
    (``window`` is ``top_k``, widened to 10% of the rows when the two share all
    their ``top_k`` worst rows but order the rest differently);
    ``top_share``: per loss, the share of its cost carried by its worst rows;
    ``note``: the finding in words.
    """

    top_k: int
    window: int
    pairs: tuple[PairAgreement, ...]
    least: PairAgreement
    rows_only_a: tuple[RowRank, ...]
    rows_only_b: tuple[RowRank, ...]
    top_share: dict[str, float]
    note: str


@dataclass(frozen=True)
class RecommendReport:
    """Everything ``lossctl recommend`` shows; renderers turn it into text."""

    source: str
    task: str
    prediction_kind: str
    columns: Columns
    n_rows: int
    n_used: int
    n_dropped: int
    facts: tuple[Fact, ...]
    recommendations: tuple[Recommendation, ...]
    disagreement: Disagreement | None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: Plugin files loaded, and the config file read (None: none).
    plugins: tuple[PluginFile, ...] = ()
    config: str | None = None

    def fact(self, name: str) -> FactValue:
        """The value of a fact by name (KeyError when it was not measured)."""
        for f in self.facts:
            if f.name == name:
                return f.value
        raise KeyError(name)
