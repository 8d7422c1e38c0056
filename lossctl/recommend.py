"""``lossctl recommend``: which losses fit this file, and why (no printing here).

The command reads a prediction file once, *measures* a few facts about the data
and the errors, turns the facts into a ranked list of losses with reasons in
plain words, computes those losses side by side and says where they disagree
about which rows are worst. Everything a reason claims is a number in
:attr:`RecommendReport.facts`, so a reader can check it.

Facts describe the rows as they are in the file: sample weights enter the
costs, not the facts (a weighted kurtosis would answer another question).

Decision rules (the thresholds are module constants):

Regression, with ``r = y_pred - y_true`` and the robust SD ``s = 1.4826 * MAD(r)``
(the SD a Gaussian with the same MAD would have; outliers barely move it):

- *gross errors*: more than ``OUTLIER_SHARE`` (1%) of the residuals, and at least
  ``MIN_OUTLIERS`` (3) rows, lie beyond ``OUTLIER_SDS`` (3) robust SDs from the
  median residual (a Gaussian puts 0.27% there);
  *heavy tails*: excess kurtosis of the residuals above ``HEAVY_KURTOSIS`` (1;
  Gaussian 0, Laplace 3). Either one ranks ``huber`` first (with
  ``delta = 1.345 * s``, 3 significant digits), then ``mae``, and demotes ``mse``;
  otherwise ``mse`` is first, ``huber`` second (a safety net), ``mae`` third.
- *multiplicative errors*: the rank correlation of ``|r|`` with the target is at
  least ``MULTIPLICATIVE_CORR`` (0.3) and the target is >= 0: the absolute errors
  grow with the target, so absolute losses are demoted and relative ones
  (``mape``, or ``smape`` when some targets are smaller than the typical error)
  are added.
- *skewed non-negative target*: target skewness above ``SKEW`` (1) and ``y >= 0``:
  a deviance fits the shape: ``poisson_deviance`` for counts (non-negative
  integers), ``tweedie_deviance:power=1.5`` when at least ``ZERO_SHARE`` (5%) of
  the targets are exactly 0 and the rest continuous, ``gamma_deviance`` when every
  target is > 0; plus ``msle``. Deviances need predictions > 0 and are skipped
  (with a note) otherwise. When the target is skewed *and* the errors are
  multiplicative, the deviance is ranked first.

Binary (labels read from the raw column, so -1/+1 is seen before it becomes 0/1):

- probabilities: ``bce`` first (the proper scoring rule), ``brier`` second;
  when the model is *over-confident* (at least 3 rows give >= 90% to the wrong
  class and a calibrated model would make that many such mistakes with Poisson
  probability < 1%) or its probabilities are *extreme* (any wrong prediction is
  exactly 0 or 1, or at least ``EXTREME_SHARE`` (5%) of them are exactly 0 or 1)
  ``brier`` moves first: it is bounded, while bce lets those rows dominate.
- scores: -1/+1 labels (or a column named like a margin) mean margin scores:
  ``hinge`` first, then ``bce_logits`` and ``squared_hinge``; 0/1 labels (or a
  column named like a logit) mean logits: ``bce_logits`` first, then ``hinge``.
- imbalance: a positive share below ``IMBALANCE`` (10%) or above 90% adds
  ``focal:gamma=2`` (second, after the first-ranked loss) for probabilities.

Multiclass: ``cross_entropy`` (probabilities) or ``softmax_cross_entropy``
(scores, read as logits) first, ``brier`` second (first when over-confident, as
for binary), ``kl_div`` for soft targets, ``multiclass_hinge`` for scores; a
smallest/largest class-share ratio below ``CLASS_RATIO`` (0.2) adds a note on
class weights to the first loss.

Disagreement: for every pair of recommended losses, the overlap of their worst
rows (the top 1%, at least 5 rows) and the Spearman rank correlation of their
per-sample values; the pair with the least overlap is reported with rows one
loss ranks among its worst and the other does not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from lossctl.accumulate import Evaluation, per_sample_losses
from lossctl.errors import DomainError, InputError
from lossctl.losses import BoundLoss, Registry, builtin_registry
from lossctl.report import Columns, PluginFile

if TYPE_CHECKING:
    from lossctl.pipeline import EvalOptions

#: Robust SD = MAD_TO_SD * median absolute deviation (exact for a Gaussian).
MAD_TO_SD = 1.4826
#: Huber's tuning constant: delta = 1.345 robust SDs keeps 95% of mse's efficiency
#: on Gaussian noise while bounding the influence of outliers.
HUBER_K = 1.345
#: A residual this many robust SDs from the median counts as an outlier.
OUTLIER_SDS = 3.0
#: Share of a Gaussian beyond 3 SDs (two-sided): 2 * (1 - Phi(3)).
GAUSSIAN_BEYOND_3 = 0.0027
#: More than this share of outliers (and at least MIN_OUTLIERS rows) = gross errors.
OUTLIER_SHARE = 0.01
MIN_OUTLIERS = 3
#: Excess kurtosis above this = heavy tails (Gaussian 0, Laplace 3, Student t5 6).
HEAVY_KURTOSIS = 1.0
#: Skewness of the target above this = right-skewed (exponential 2, lognormal(0,1) 6.2).
SKEW = 1.0
#: Rank correlation of |residual| with the target at least this = multiplicative errors.
MULTIPLICATIVE_CORR = 0.3
#: At least this share of exact zeros (with a continuous positive part) = Tweedie.
ZERO_SHARE = 0.05
#: Tweedie power recommended for zero-inflated positive amounts (compound Poisson-Gamma).
TWEEDIE_POWER = 1.5
#: At least this share of probabilities exactly 0 or 1 = extreme probabilities.
EXTREME_SHARE = 0.05
#: Positive share below this (or above 1 - this) = imbalanced binary labels.
IMBALANCE = 0.10
#: Smallest / largest class share below this = imbalanced classes.
CLASS_RATIO = 0.2
#: A probability at least this high for one class = a confident prediction.
CONFIDENT = 0.9
#: Over-confidence: at least this many confident mistakes ...
MIN_CONFIDENT_MISTAKES = 3
#: ... and a Poisson tail probability below this under calibrated predictions.
OVERCONFIDENT_P = 0.01
#: The worst rows: this share of the rows, at least TOP_MIN rows.
TOP_SHARE = 0.01
TOP_MIN = 5
#: At most this many losses are recommended.
MAX_RECOMMENDATIONS = 5
#: Fewer rows than this: the facts are rough (a warning says so).
FEW_ROWS = 30
#: Row numbers shown per side of the least-agreeing pair.
SHOW_ROWS = 5
#: Two losses whose per-sample values have at least this rank correlation (and the
#: same worst rows) agree.
AGREE_CORR = 0.99
#: When two losses share their worst rows but not the order below, look this far down.
WIDE_SHARE = 0.10

FactValue = float | int | str | bool | None


# -- the report -------------------------------------------------------------------------------


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
    params: dict[str, float | None]
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


# -- the data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """The validated rows of a file, with what the raw target column showed.

    ``raw_labels`` (binary only) are the distinct target values as written in the
    file (``-1``, ``1``; ``B``, ``M``), before the validator maps them to 0/1.
    """

    source: str
    task: str
    kind: str
    columns: Columns
    y_true: np.ndarray
    y_pred: np.ndarray
    weight: np.ndarray | None
    rows: np.ndarray
    raw_labels: tuple[str, ...] = ()
    pos_label: str | None = None
    n_rows: int = 0
    n_dropped: int = 0
    warnings: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return int(self.rows.shape[0])


def read_sample(opts: EvalOptions) -> Sample:
    """Read and validate the whole file (``recommend`` is for files that fit in memory).

    Uses the eval pipeline for columns, task and validation, so input errors are
    exactly eval's; losses, gates and per-sample output in ``opts`` are ignored.
    """
    from lossctl.pipeline import prepare

    prepared = prepare(replace(opts, losses=(), max=(), per_sample=None, by=None, id=None))
    if opts.progress is not None:
        opts.progress.start(prepared.source.total_rows)
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]] = []
    raw: set[str | float | bool] = set()
    v = prepared.validator
    for arrays, chunk in prepared.arrays():
        if opts.progress is not None:
            opts.progress.advance(len(chunk))
        if prepared.task == "binary":
            raw |= _raw_values(chunk.table.column(prepared.columns.target[0]))
        if v.nan_count and v.nan == "raise":
            continue  # keep reading only to count the bad rows
        if len(arrays):
            blocks.append((arrays.y_true, arrays.y_pred, arrays.weight, arrays.rows))
    v.finish()
    if not blocks:
        raise InputError(
            f"no rows of {prepared.source.name} left to evaluate "
            f"({v.n_dropped} dropped by --nan omit)."
        )
    weight = None
    if prepared.columns.weight:
        weight = np.concatenate([b[2] for b in blocks if b[2] is not None])
        if float(weight.sum()) <= 0:
            raise InputError(
                f"column '{prepared.columns.weight}' of {prepared.source.name}: all weights "
                "are 0; at least one row needs a positive weight."
            )
    cm = prepared.columns
    return Sample(
        source=prepared.source.name,
        task=prepared.task,
        kind=prepared.kind,
        columns=Columns(cm.target, cm.pred, cm.weight, cm.classes),
        y_true=np.concatenate([b[0] for b in blocks]),
        y_pred=np.concatenate([b[1] for b in blocks]),
        weight=weight,
        rows=np.concatenate([b[3] for b in blocks]),
        raw_labels=_label_texts(raw),
        pos_label=opts.pos_label,
        n_rows=v.n_rows,
        n_dropped=v.n_dropped,
        warnings=tuple(v.warnings()),
    )


def _raw_values(col: Any) -> set[str | float | bool]:
    """Distinct non-null values of a raw Arrow column (numbers stay numbers)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    if pa.types.is_dictionary(col.type):
        col = pc.cast(col, col.type.value_type)
    out: set[str | float | bool] = set()
    for v in pc.unique(col).to_pylist():
        if v is None or (isinstance(v, float) and math.isnan(v)):
            continue
        if isinstance(v, str):
            v = v.strip()
            if not v:
                continue
        out.add(v)
    return out


def _label_texts(values: set[str | float | bool]) -> tuple[str, ...]:
    """Raw labels as sorted text: numbers numerically (``-1``, ``1``), text alphabetically."""
    if all(isinstance(v, bool) for v in values):
        return tuple(str(v).lower() for v in sorted(values))
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return tuple(f"{float(v):g}" for v in sorted(values))  # type: ignore[arg-type]
    return tuple(sorted(str(v) for v in values))


# -- small helpers ----------------------------------------------------------------------------


def pct(share: float) -> str:
    """A share as a percentage with 3 significant digits: 0.0523 -> '5.23%'."""
    return f"{100 * share:.3g}%"


def num(x: float) -> str:
    """A number with 3 significant digits for reasons (12345.6 -> '1.23e+04')."""
    return f"{x:.3g}"


def round_sig(x: float, digits: int = 3) -> float:
    """``x`` rounded to ``digits`` significant digits (1.4263 -> 1.43; 80.397 -> 80.4)."""
    if x == 0 or not math.isfinite(x):
        return x
    return float(f"{x:.{digits}g}")


def spec_number(x: float) -> str:
    """A parameter value as written in a spec: 80.4, 1350, 0.000123 (no float noise)."""
    return f"{x:.12g}"


def top_k(n: int) -> int:
    """How many worst rows to compare: 1% of the rows, at least 5 (at most all)."""
    return min(n, max(TOP_MIN, math.ceil(TOP_SHARE * n)))


def _worst(values: np.ndarray, k: int) -> np.ndarray:
    """Mask of the worst rows: the k largest values, plus rows tied with the k-th.

    A loss of 0 is never among the worst (hinge is 0 for every row beyond the
    margin: those rows are the best, not tied worst).
    """
    if values.size == 0:
        return np.zeros(0, dtype=bool)
    kth = np.partition(values, values.size - k)[values.size - k]
    mask = values >= kth
    if kth <= 0:
        mask &= values > 0
    return mask


def _ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks (1 = smallest; ties share their mean place) and ranks from the
    worst (1 = largest; ties share their best place), from one sort.

    The same numbers as ``scipy.stats.rankdata(values)`` and
    ``rankdata(-values, method="min")``, several times faster on millions of rows
    because ties are found after an unstable sort.
    """
    n = values.shape[0]
    order = np.argsort(values)
    sorted_values = values[order]
    starts_group = np.empty(n, dtype=bool)
    starts_group[:1] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=starts_group[1:])
    group = np.cumsum(starts_group) - 1
    starts = np.flatnonzero(starts_group)
    ends = np.append(starts[1:], n)  # one past the last position of each tie group
    average = np.empty(n, dtype=np.float64)
    average[order] = ((starts + ends + 1) / 2.0)[group]
    from_worst = np.empty(n, dtype=np.int64)
    from_worst[order] = (n - ends + 1)[group]
    return average, from_worst


def _spearman(ra: np.ndarray, rb: np.ndarray) -> float | None:
    """Spearman rank correlation from average ranks; None when one side is constant."""
    if np.ptp(ra) == 0 or np.ptp(rb) == 0:
        return None
    return float(np.corrcoef(ra, rb)[0, 1])


def _top_share(values: np.ndarray, weight: np.ndarray | None, k: int) -> float:
    """Share of the (weighted) loss sum carried by the k worst rows."""
    contrib = values if weight is None else values * weight
    total = float(contrib.sum())
    if total <= 0:
        return 0.0
    return float(contrib[_worst(values, k)].sum()) / total


def _overconfidence(conf: np.ndarray, wrong: np.ndarray) -> tuple[int, float, float]:
    """Confident mistakes, how many calibrated probabilities would give, and the tail p.

    Among rows predicted with probability >= CONFIDENT, a calibrated model is wrong
    with probability 1 - conf, so the expected number of confident mistakes is
    sum(1 - conf); the observed count is compared with a Poisson tail.
    """
    from scipy.stats import poisson

    confident = conf >= CONFIDENT
    observed = int((confident & wrong).sum())
    expected = float((1.0 - conf[confident]).sum())
    if observed == 0:
        p = 1.0
    elif expected <= 0:
        p = 0.0
    else:
        p = float(poisson.sf(observed - 1, expected))
    return observed, expected, p


@dataclass
class _Candidate:
    """A loss under consideration: higher priority ranks first (ties keep insertion order)."""

    key: str
    priority: float
    reasons: list[str] = field(default_factory=list)


@dataclass
class _Findings:
    """What a task's analysis found: facts, candidates, notes, and a quantity for agreement."""

    facts: list[Fact] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Families of losses that order rows by one quantity, and that quantity in words.
    monotone: dict[frozenset[str], str] = field(default_factory=dict)

    def fact(self, name: str, value: FactValue, meaning: str, unit: str = "number") -> None:
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        self.facts.append(Fact(name, value, meaning, unit))

    def add(self, key: str, priority: float, *reasons: str) -> None:
        self.candidates.append(_Candidate(key, priority, [r for r in reasons if r]))


# -- regression -------------------------------------------------------------------------------


def _regression(sample: Sample) -> _Findings:
    """Facts about the residuals and the target, then the regression losses that fit them."""
    from scipy.stats import kurtosis, skew

    out = _Findings()
    y, p = sample.y_true, sample.y_pred
    n = sample.n
    r = p - y
    med = float(np.median(r))
    dev = np.abs(r - med)
    sigma = MAD_TO_SD * float(np.median(dev))
    sigma_source = "1.4826 × MAD"
    if sigma == 0 and dev.any():
        # More than half the residuals equal the median: the MAD is 0. The mean
        # absolute deviation times sqrt(pi/2) is the SD for Gaussian data, too.
        sigma = math.sqrt(math.pi / 2) * float(dev.mean())
        sigma_source = "1.2533 × mean absolute deviation (the MAD is 0)"
    sd = float(r.std())
    outliers = dev > OUTLIER_SDS * sigma if sigma > 0 else np.zeros(n, dtype=bool)
    n_out = int(outliers.sum())
    out_share = n_out / n
    kurt = float(kurtosis(r)) if n >= 4 and sd > 0 else math.nan
    y_skew = float(skew(y)) if n >= 3 and float(np.ptp(y)) > 0 else math.nan
    abs_r = np.abs(r)
    corr = math.nan
    if n >= 3 and np.ptp(abs_r) > 0 and np.ptp(y) > 0:
        rho = _spearman(_ranks(abs_r)[0], _ranks(y)[0])
        corr = math.nan if rho is None else rho
    y_min, y_max, p_min = float(y.min()), float(y.max()), float(p.min())
    integers = bool(np.all(y == np.round(y)))
    zero_share = float(np.mean(y == 0))
    med_abs = float(np.median(abs_r))
    nonzero = y != 0
    rel = float(np.median(abs_r[nonzero] / np.abs(y[nonzero]))) if nonzero.any() else math.nan
    small = np.abs(y) < med_abs
    small_share = float(small.mean())
    delta = round_sig(HUBER_K * sigma) if sigma > 0 else 1.0
    k = top_k(n)
    sq = r * r
    mse_top = _top_share(sq, sample.weight, k)

    out.fact("n_used", n, "rows used", "count")
    out.fact(
        "residual_median", med,
        "median residual (prediction - target): a systematic bias if far from 0",
    )  # fmt: skip
    out.fact(
        "residual_robust_sd", sigma,
        f"robust SD of the residuals ({sigma_source}): their SD if they were Gaussian, "
        "barely moved by outliers",
    )  # fmt: skip
    out.fact(
        "residual_sd", sd, "plain SD of the residuals; far above the robust SD = a few huge errors"
    )
    out.fact(
        "outlier_share", out_share,
        "share of residuals beyond 3 robust SDs from the median (Gaussian: 0.27%)", "share",
    )  # fmt: skip
    out.fact("outlier_count", n_out, "rows beyond 3 robust SDs", "count")
    out.fact(
        "residual_excess_kurtosis", kurt,
        "tail heaviness of the residuals (Gaussian 0, Laplace 3)",
    )  # fmt: skip
    out.fact("target_min", y_min, "smallest target")
    out.fact("target_max", y_max, "largest target")
    out.fact("target_skew", y_skew, "skewness of the target (0 symmetric, > 1 right-skewed)")
    out.fact("target_integer", integers, "every target is a whole number (counts?)", "text")
    out.fact("target_zero_share", zero_share, "share of targets exactly 0", "share")
    out.fact("prediction_min", p_min, "smallest prediction (deviances need > 0)")
    out.fact(
        "error_target_correlation", corr,
        "rank correlation of |residual| with the target (>= 0.3: errors grow with it)",
    )  # fmt: skip
    out.fact("abs_error_median", med_abs, "median |residual|: the typical error")
    out.fact(
        "relative_error_median", rel,
        "median |residual| / |target| (rows with target 0 left out)", "share",
    )  # fmt: skip
    out.fact(
        "small_target_share", small_share,
        "share of rows whose |target| is below the typical error (mape explodes there)", "share",
    )  # fmt: skip
    out.fact(
        "mse_top_share", mse_top,
        f"share of the mse carried by the worst {k} rows ({pct(k / n)} of the rows)", "share",
    )  # fmt: skip
    out.fact("huber_delta", delta, "suggested huber delta: 1.345 × robust SD, 3 digits")

    gross = out_share > OUTLIER_SHARE and n_out >= MIN_OUTLIERS
    heavy = math.isfinite(kurt) and kurt > HEAVY_KURTOSIS
    robust = gross or heavy
    multiplicative = y_min >= 0 and math.isfinite(corr) and corr >= MULTIPLICATIVE_CORR
    skewed = y_min >= 0 and y_max > 0 and math.isfinite(y_skew) and y_skew > SKEW

    # Plain-words evidence shared by several reasons.
    if n_out:
        tails = (
            f"{pct(out_share)} of the residuals ({n_out} rows) lie beyond 3 robust SDs from "
            f"the median, where Gaussian noise would put {pct(GAUSSIAN_BEYOND_3)}"
        )
    else:
        tails = (
            "no residual lies beyond 3 robust SDs from the median (Gaussian noise would put "
            f"{pct(GAUSSIAN_BEYOND_3)} there)"
        )
    kurt_text = f"their excess kurtosis is {num(kurt)} (Gaussian: 0)" if math.isfinite(kurt) else ""
    many = "a few gross errors" if out_share <= 5 * OUTLIER_SHARE else "many large errors"
    if sigma == 0:
        evidence = (
            "Every residual is the same (here "
            f"{num(med)}): there are no tails or outliers to measure, so mse, the default, "
            "will do; the ranking matters once the errors vary."
        )
    elif gross and heavy:
        evidence = f"{tails[0].upper()}{tails[1:]}, and {kurt_text}: {many}."
    elif gross:
        evidence = f"{tails[0].upper()}{tails[1:]}: {many}."
    elif heavy:
        evidence = f"The residuals have heavy tails: {kurt_text}, so large errors are common."
    else:
        evidence = f"The residuals look Gaussian: {tails}" + (
            f", and {kurt_text}." if kurt_text else "."
        )
    if robust and multiplicative:
        evidence += " Part of this is the errors growing with the target (see the relative losses)."
    scale = f"{num(sigma)}, from {sigma_source}, which outliers barely move"
    if sigma > 0:
        delta_text = (
            f"delta = {spec_number(delta)} is 1.345 × the robust SD of the residuals ({scale})"
        )
    else:
        delta_text = f"delta = {spec_number(delta)}, the default: the residuals have no spread"
    huber_key = f"huber:delta={spec_number(delta)}"
    grow = (
        f"the absolute errors grow with the target (rank correlation of |residual| with the "
        f"target: {num(corr)})"
    )

    # The absolute-error family.
    demote = 40.0 if multiplicative else 0.0
    if robust:
        out.add(
            huber_key, 110 - demote,
            evidence,
            "Huber squares residuals up to delta and counts larger ones linearly, so those "
            f"rows cannot take over the cost. {delta_text}: the classic choice, 95% as "
            "efficient as mse if the noise were Gaussian.",
        )  # fmt: skip
        out.add(
            "mae", 100 - demote,
            "Every unit of error costs the same, so no residual can dominate; it targets "
            "the conditional median, which a few outliers barely move. Simpler than huber "
            "(no delta), but its gradient never shrinks, so training settles less smoothly.",
        )  # fmt: skip
        out.add(
            "mse", 60 - demote,
            f"Kept as a reference: squaring lets the largest residuals dominate; here the "
            f"worst {k} rows carry {pct(mse_top)} of the mse, so it mostly measures them.",
        )  # fmt: skip
    else:
        out.add(
            "mse", 100 - demote,
            evidence,
            "For Gaussian noise mse is the maximum-likelihood loss: it targets the conditional "
            "mean and uses every residual fully. rmse ranks models the same way, in the "
            "target's units.",
        )  # fmt: skip
        out.add(
            huber_key, 90 - demote,
            f"A safety net: {delta_text}. Below delta huber is mse / 2, so it ranks models "
            "like mse here, but a future batch of outliers could not dominate it.",
        )  # fmt: skip
        out.add(
            "mae", 50 - demote,
            f"The typical error in the target's units (median |residual| {num(med_abs)}); it "
            "targets the median. With Gaussian residuals it is less efficient than mse: "
            "prefer it when an error's cost grows linearly with its size.",
        )  # fmt: skip
    if multiplicative:
        for c in out.candidates:
            c.reasons.append(
                f"Demoted: the errors grow with the target (rank correlation {num(corr)}), so "
                "this absolute loss is dominated by the rows with the largest targets."
            )
    out.monotone[frozenset({"mse", "rmse", "mae", "huber"})] = "each grows with |residual|"
    if (sigma > 0 and abs(med) > 0.5 * sigma) or (sigma == 0 and med != 0):
        sds = f", {num(abs(med) / sigma)} robust SDs from 0" if sigma > 0 else ""
        out.notes.append(
            f"The predictions are biased: the median residual is {num(med)}{sds}. Every "
            "loss above counts that bias; removing it (a constant shift) lowers them all."
        )

    # Relative losses: the target's shape and how the errors scale.
    rel_priority = 120.0 if (skewed and multiplicative) else 70.0
    shape = (
        f"The target is non-negative and right-skewed (skewness {num(y_skew)}, "
        f"from {num(y_min)} to {num(y_max)})"
    )
    why_now = (
        f", and {grow}."
        if multiplicative
        else (
            ". The errors do not grow with the target, so rank it below the absolute losses "
            "unless relative error is what matters to you."
        )
    )
    if skewed:
        if p_min <= 0:
            out.notes.append(
                f"The target is non-negative and skewed, but some predictions are <= 0 "
                f"(min {num(p_min)}), so the Poisson, Gamma and Tweedie deviances cannot be "
                "computed; a model with a log link (exp output) predicts positive values."
            )
        elif integers:
            out.add(
                "poisson_deviance", rel_priority,
                f"{shape}, and every target is a whole number: counts{why_now}",
                "The Poisson deviance assumes the variance grows like the mean, as it does "
                "for counts, so a miss by 5 costs more at an expected count of 2 than of 200. "
                "It accepts zero targets and needs predictions > 0 (they are).",
            )  # fmt: skip
        elif zero_share >= ZERO_SHARE:
            out.add(
                f"tweedie_deviance:power={spec_number(TWEEDIE_POWER)}", rel_priority,
                f"{shape}; {pct(zero_share)} of the targets are exactly 0 and the rest are "
                f"positive amounts{why_now}",
                "A spike at zero plus a skewed positive part (claims, rainfall, sales) is "
                "what the Tweedie deviance with power between 1 and 2 models: a compound "
                f"Poisson-Gamma. power={spec_number(TWEEDIE_POWER)} is the usual start "
                "(tune it between 1.1 and 1.9); it needs predictions > 0 (they are).",
            )  # fmt: skip
        elif y_min > 0:
            out.add(
                "gamma_deviance", rel_priority,
                f"{shape}, strictly positive and continuous{why_now}",
                "The Gamma deviance depends only on the ratio prediction / target, so a "
                "10% miss costs the same at 10 as at 1000: the natural loss when the noise "
                "is multiplicative. It needs targets and predictions > 0 (they are).",
            )  # fmt: skip
        else:
            out.add(
                f"tweedie_deviance:power={spec_number(TWEEDIE_POWER)}", rel_priority,
                f"{shape} with a few exact zeros ({pct(zero_share)}), so the Gamma deviance "
                f"(targets > 0) does not apply{why_now}",
                f"The Tweedie deviance with power={spec_number(TWEEDIE_POWER)} accepts zero "
                "targets and treats errors relatively, like the Gamma deviance does.",
            )  # fmt: skip
    if (skewed or multiplicative) and y_min > -1 and p_min > -1:
        deviance = any(c.key.endswith("deviance") or "deviance:" in c.key for c in out.candidates)
        if deviance:
            evidence_msle = "A simpler relative loss than the deviance above, on the same evidence."
        elif skewed:
            evidence_msle = f"{shape}{why_now}"
        else:
            evidence_msle = f"The target is non-negative and {grow}."
        out.add(
            "msle", rel_priority - 5,
            evidence_msle,
            "msle squares the difference of log(1 + value), so it counts errors relative to "
            "the size of the target and the largest targets do not dominate; it accepts "
            "zeros, and under-predictions cost a little more than over-predictions.",
        )  # fmt: skip
    if multiplicative:
        typical = (
            f"The typical error is {pct(rel)} of the target and {grow}: a percentage is the "
            "natural unit."
        )
        if small.any():
            out.add(
                "smape", 95,
                typical,
                f"Warning: {pct(small_share)} of the targets ({int(small.sum())} rows) are "
                f"smaller than the typical error ({num(med_abs)}); there mape's |residual| / "
                "|target| explodes (up to 1 / 2.2e-16 at exactly 0). smape divides by "
                "(|target| + |prediction|) / 2 and stays in [0, 2], so it is the safer "
                "percentage loss here.",
            )  # fmt: skip
        else:
            out.add(
                "mape", 95,
                typical,
                "mape is |residual| / |target|: easy to explain. Beware that an "
                "over-prediction can cost more than 100% while an under-prediction of a "
                "positive target costs at most 100%, so it favours models that predict low.",
            )  # fmt: skip
    return out


# -- binary -----------------------------------------------------------------------------------

_MARGIN_HINTS = ("margin", "decision", "svm", "hinge")
_LOGIT_HINTS = ("logit", "log_odds", "logodds")


def _binary(sample: Sample) -> _Findings:
    """Facts about labels, predictions, imbalance and calibration; then the binary losses."""
    out = _Findings()
    y = sample.y_true
    n = sample.n
    labels = "/".join(sample.raw_labels)
    pm1 = "-1" in sample.raw_labels
    if sample.pos_label is not None:
        labels += f" (positive: {sample.pos_label})"
    share = float(np.mean(y))
    n_pos = int(np.sum(y >= 0.5))
    imbalanced = share < IMBALANCE or share > 1 - IMBALANCE
    minority = "positive" if share < 0.5 else "negative"
    minority_share = min(share, 1 - share)
    out.fact("n_used", n, "rows used", "count")
    out.fact("labels", labels, "target values as written in the file", "text")
    out.fact("positive_share", share, "share of positive labels (the base rate)", "share")
    out.fact("positive_count", n_pos, "rows with a positive label", "count")
    imbalance_text = (
        f"Only {pct(minority_share)} of the labels are {minority} "
        f"({n_pos if minority == 'positive' else n - n_pos} of {n} rows)"
    )
    if sample.kind == "probability":
        _binary_probabilities(sample, out, share, imbalanced, imbalance_text, pm1)
    else:
        _binary_scores(sample, out, share, imbalanced, imbalance_text, pm1)
    out.monotone[frozenset({"bce", "brier", "focal"})] = (
        "each falls as the probability given to the true label rises"
    )
    out.monotone[frozenset({"hinge", "squared_hinge", "bce_logits"})] = (
        "each falls as the margin label × score rises"
    )
    return out


def _binary_probabilities(
    sample: Sample, out: _Findings, share: float, imbalanced: bool, imbalance_text: str,
    pm1: bool,
) -> None:  # fmt: skip
    y, p = sample.y_true, sample.y_pred
    n = sample.n
    mean_p = float(np.mean(p))
    conf = np.maximum(p, 1 - p)
    wrong = (p >= 0.5) != (y >= 0.5)
    accuracy = 1 - float(np.mean(wrong))
    observed, expected, tail = _overconfidence(conf, wrong)
    certain_wrong = int((((p == 0) | (p == 1)) & wrong).sum())
    extreme = float(np.mean((p == 0) | (p == 1)))
    p_true = np.where(y >= 0.5, p, 1 - p)
    bce_values = -np.log(np.clip(p_true, np.finfo(np.float64).eps, 1.0))
    k = top_k(n)
    bce_top = _top_share(bce_values, sample.weight, k)
    conf_rows = (conf >= CONFIDENT) & wrong
    bce_total = float(bce_values.sum())
    mistakes_share = float(bce_values[conf_rows].sum()) / bce_total if bce_total > 0 else 0.0
    overconfident = observed >= MIN_CONFIDENT_MISTAKES and tail < OVERCONFIDENT_P
    fragile = certain_wrong > 0 or extreme >= EXTREME_SHARE

    out.fact("mean_predicted", mean_p, "mean predicted probability (compare with the base rate)")
    out.fact("accuracy", accuracy, "share of rows on the right side of 0.5", "share")
    out.fact(
        "confident_mistakes", observed,
        "rows giving >= 90% to the wrong class", "count",
    )  # fmt: skip
    out.fact(
        "confident_mistakes_expected", expected,
        "confident mistakes a calibrated model would make with these probabilities",
    )  # fmt: skip
    out.fact(
        "confident_mistakes_p", tail,
        "chance of that many confident mistakes if the probabilities were calibrated",
    )  # fmt: skip
    out.fact("extreme_share", extreme, "share of predictions exactly 0 or 1", "share")
    out.fact("certain_mistakes", certain_wrong, "wrong predictions of exactly 0 or 1", "count")
    out.fact(
        "bce_top_share", bce_top,
        f"share of the log loss carried by the worst {k} rows", "share",
    )  # fmt: skip

    gap = mean_p - share
    if _calibrated(mean_p, share):
        calib = (
            f"Mean predicted probability {num(mean_p)} vs base rate {num(share)}: calibrated "
            "on average (a check bce rewards)."
        )
    else:
        side = "over" if gap > 0 else "under"
        calib = (
            f"Mean predicted probability {num(mean_p)} vs base rate {num(share)}: the model "
            f"{side}-predicts the positive class by {num(abs(gap) * 100)} percentage points on "
            "average, which bce and brier both charge for."
        )
    labels_note = " The labels -1/+1 are read as 0/1." if pm1 else ""
    if certain_wrong:
        over_text = (
            f"{certain_wrong} wrong prediction(s) are exactly 0 or 1: bce there is "
            "-log(2.2e-16) = 36 per row after the clip (infinite without it), so those rows "
            "alone can decide the log loss."
        )
    elif fragile and not overconfident:
        over_text = (
            f"{pct(extreme)} of the predictions are exactly 0 or 1 (vote shares, or clipped "
            "outputs): none is wrong here, but a single future mistake among them costs bce "
            "-log(2.2e-16) = 36 (infinite without the clip), so the log loss of such a model "
            "is fragile."
        )
    else:
        over_text = (
            f"{observed} rows give >= 90% to the wrong class where calibrated probabilities "
            f"would make about {num(expected)} such mistakes (chance {num(tail)}): the model "
            f"is over-confident, and those rows carry {pct(mistakes_share)} of the log loss."
        )
    bce_reason = (
        "The predictions are probabilities and the labels binary: cross-entropy (log loss) "
        "is the standard proper scoring rule, lowest in expectation only when the "
        "probabilities are the true ones, so it rewards calibration as well as ranking."
        + labels_note
    )
    if overconfident or fragile:
        out.add(
            "brier", 105,
            over_text,
            "brier, the squared error of the probability, costs at most 1 per row (bce up to "
            "36) and is also proper, so it judges probability quality without letting those "
            "rows dominate.",
        )  # fmt: skip
        out.add(
            "bce", 80,
            bce_reason,
            "Ranked after brier here: it punishes confident mistakes without bound, and "
            f"the worst {top_k(n)} rows carry {pct(bce_top)} of it. Keep it if you want "
            "over-confidence punished hard.",
            calib,
        )  # fmt: skip
    else:
        out.add("bce", 100, bce_reason, calib)
        out.add(
            "brier", 70,
            "The squared error of the probability: proper like bce but bounded (at most 1 per "
            "row, where bce can reach 36), so one confident mistake cannot dominate it. "
            f"Here {observed} rows give >= 90% to the wrong class (a calibrated model: about "
            f"{num(expected)}), and the worst {top_k(n)} rows carry {pct(bce_top)} of bce.",
        )  # fmt: skip
    if imbalanced:
        out.add(
            "focal:gamma=2", 90,
            f"{imbalance_text}: most rows are easy majority-class rows, and their many "
            "small losses fill the average of bce.",
            "focal multiplies each row's cross-entropy by (1 - p_true)^2, so a row predicted "
            "right with 90% counts 100 times less and the cost concentrates on the hard, "
            "rare rows. It is not a proper scoring rule: judge calibration with bce or "
            "brier; add alpha (e.g. focal:gamma=2:alpha=0.25) to also re-weight the classes.",
        )  # fmt: skip


def _binary_scores(
    sample: Sample, out: _Findings, share: float, imbalanced: bool, imbalance_text: str,
    pm1: bool,
) -> None:  # fmt: skip
    y, f = sample.y_true, sample.y_pred
    t = 2 * (y >= 0.5) - 1.0
    margin = t * f
    beyond = float(np.mean(margin >= 1))
    inside = float(np.mean((margin < 1) & (margin >= 0)))
    misclassified = float(np.mean(margin < 0))
    mean_sigmoid = float(np.mean(_sigmoid(f)))
    name = sample.columns.pred[0].lower()
    hint_margin = any(h in name for h in _MARGIN_HINTS)
    hint_logit = any(h in name for h in _LOGIT_HINTS)
    margins = (pm1 or hint_margin) and not hint_logit
    read_as = "margin scores" if margins else "logits"
    out.fact("score_min", float(f.min()), "smallest score")
    out.fact("score_max", float(f.max()), "largest score")
    out.fact(
        "scores_read_as", read_as, "from the labels (-1/1: margins) and the column name", "text"
    )
    out.fact(
        "beyond_margin_share", beyond, "rows right beyond the margin (label × score >= 1)", "share"
    )
    out.fact(
        "inside_margin_share",
        inside,
        "rows right but inside the margin (0 <= label × score < 1)",
        "share",
    )
    out.fact(
        "misclassified_share", misclassified, "rows on the wrong side (label × score < 0)", "share"
    )
    out.fact(
        "mean_sigmoid",
        mean_sigmoid,
        "mean sigmoid(score): near the base rate if the scores are logits",
    )

    why_kind = []
    if pm1:
        why_kind.append("the labels are -1/+1")
    elif sample.raw_labels:
        why_kind.append(f"the labels are {'/'.join(sample.raw_labels)}")
    if hint_margin or hint_logit:
        why_kind.append(f"the column is named '{sample.columns.pred[0]}'")
    basis = " and ".join(why_kind)
    span = f"unbounded scores (from {num(float(f.min()))} to {num(float(f.max()))})"
    hinge_text = (
        f"hinge max(0, 1 - label × score) is zero for the {pct(beyond)} of rows right beyond "
        f"the margin and grows linearly for the {pct(inside)} inside it and the "
        f"{pct(misclassified)} misclassified, so only the rows near or across the decision "
        "boundary count."
    )
    logit_text = (
        f"bce_logits is the log loss computed from the logits directly, exact even where "
        "sigmoid rounds to 0 or 1. Mean sigmoid(score) is "
        f"{num(mean_sigmoid)} vs base rate {num(share)}: "
        + (
            "consistent with log-odds."
            if _calibrated(mean_sigmoid, share)
            else "apart, so the scores may not be calibrated log-odds."
        )
    )
    if margins:
        out.add(
            "hinge", 100,
            f"The predictions are {span} and {basis}: the convention of margin "
            "classifiers (SVMs), whose loss is hinge.",
            hinge_text,
        )  # fmt: skip
        out.add("bce_logits", 90, "If the scores are log-odds (a logistic model): " + logit_text)
        out.add(
            "squared_hinge", 60,
            "hinge squared: margin violations cost quadratically, smooth where hinge has a "
            f"kink, and more sensitive to the {pct(misclassified)} badly misclassified rows.",
        )  # fmt: skip
    else:
        out.add(
            "bce_logits", 100,
            f"The predictions are {span}" + (f" and {basis}" if basis else "")
            + ": read as logits (log-odds) of a probabilistic classifier. " + logit_text,
        )  # fmt: skip
        out.add(
            "hinge", 80,
            "If the scores are SVM margins rather than log-odds (labels 0/1 are read as "
            f"-1/+1): {hinge_text}",
        )  # fmt: skip
    if imbalanced:
        first = max(out.candidates, key=lambda c: c.priority)
        first.reasons.append(
            f"{imbalance_text}: the average is dominated by the majority class. focal needs "
            "probabilities (apply sigmoid to logits first); with scores, class weights "
            "(-w, e.g. 1 / class share) give both classes an equal say."
        )


def _calibrated(mean_p: float, base_rate: float) -> bool:
    """Mean predicted probability close to the base rate: within 10% of the minority share.

    Relative, because a mean of 0.017 against a base rate of 0.010 is a large miss
    for a rare event even though the absolute gap is below one point; at least 0.005
    so sampling noise in small files does not count as a miss.
    """
    return abs(mean_p - base_rate) <= max(0.005, 0.1 * min(base_rate, 1 - base_rate))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), computed without overflow for large |x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


# -- multiclass -------------------------------------------------------------------------------


def _multiclass(sample: Sample) -> _Findings:
    """Facts about the classes, confidence and target form; then the multiclass losses."""
    out = _Findings()
    y, p = sample.y_true, sample.y_pred
    n, k_cls = p.shape
    classes = list(sample.columns.classes) or [str(i) for i in range(k_cls)]
    if y.ndim == 1:
        target_kind = "labels"
        labels = y.astype(np.intp)
        shares = np.bincount(labels, minlength=k_cls)[:k_cls] / n
    else:
        onehot = np.isin(y, (0.0, 1.0)).all() and np.allclose(y.sum(axis=1), 1.0)
        target_kind = "one-hot" if onehot else "soft"
        labels = np.argmax(y, axis=1)
        shares = y.mean(axis=0)
    if sample.kind == "probability":
        probs = p
    else:
        z = p - p.max(axis=1, keepdims=True)  # softmax, shifted so exp never overflows
        e = np.exp(z)
        probs = e / e.sum(axis=1, keepdims=True)
    pred = np.argmax(probs, axis=1)
    wrong = pred != labels
    conf = probs.max(axis=1)
    accuracy = 1 - float(np.mean(wrong))
    mean_conf = float(np.mean(conf))
    observed, expected, tail = _overconfidence(conf, wrong)
    small, large = int(np.argmin(shares)), int(np.argmax(shares))
    ratio = float(shares[small] / shares[large]) if shares[large] > 0 else 0.0
    imbalanced = ratio < CLASS_RATIO
    overconfident = observed >= MIN_CONFIDENT_MISTAKES and tail < OVERCONFIDENT_P

    out.fact("n_used", n, "rows used", "count")
    out.fact("n_classes", k_cls, "classes (prediction columns)", "count")
    out.fact("target_kind", target_kind, "one label per row, or K target columns", "text")
    out.fact("smallest_class", classes[small], "class with the fewest rows", "text")
    out.fact("smallest_class_share", float(shares[small]), "its share of the rows", "share")
    out.fact("largest_class", classes[large], "class with the most rows", "text")
    out.fact("largest_class_share", float(shares[large]), "its share of the rows", "share")
    out.fact("accuracy", accuracy, "share of rows whose top class is right", "share")
    out.fact(
        "mean_confidence", mean_conf,
        "mean probability of the top class" + ("" if sample.kind == "probability" else
                                              " (softmax of the scores)"),
    )  # fmt: skip
    out.fact("confident_mistakes", observed, "rows giving >= 90% to a wrong class", "count")
    out.fact(
        "confident_mistakes_expected", expected,
        "confident mistakes a calibrated model would make with these probabilities",
    )  # fmt: skip

    gap = mean_conf - accuracy
    calib = f"Mean confidence {num(mean_conf)} vs accuracy {num(accuracy)}: " + (
        "calibrated on average."
        if abs(gap) < 0.02
        else ("over-confident on average." if gap > 0 else "under-confident on average.")
    )
    if sample.kind == "probability":
        first = "cross_entropy"
        ce_reason = (
            f"{k_cls} classes with predicted probabilities: cross-entropy (multiclass log "
            "loss), -log of the probability given to the true class, is the proper scoring "
            "rule: lowest in expectation only for the true probabilities."
        )
    else:
        first = "softmax_cross_entropy"
        prefix = sample.columns.pred[0].lower()
        named = " (named as logits)" if prefix.startswith("logit") else ""
        ce_reason = (
            f"{k_cls} unbounded scores per row{named}, read as logits: softmax_cross_entropy "
            "is cross-entropy on softmax(scores), computed stably with logsumexp."
        )
    if overconfident and sample.kind == "probability":
        out.add(
            "brier", 105,
            f"{observed} rows give >= 90% to a wrong class where calibrated probabilities "
            f"would make about {num(expected)} such mistakes (chance {num(tail)}): the model "
            "is over-confident.",
            "brier (the squared error of the probability vector) is bounded at 2 per row and "
            "proper, so those rows cannot dominate it the way they dominate cross-entropy.",
        )  # fmt: skip
        out.add(first, 80, ce_reason, calib)
    else:
        out.add(first, 100, ce_reason, calib)
        if sample.kind == "probability":
            out.add(
                "brier", 70,
                "The squared error of the probability vector: proper and bounded (at most 2 "
                f"per row), a check that a few confident mistakes ({observed} here, "
                f"calibrated: about {num(expected)}) do not drive the log loss.",
            )  # fmt: skip
    if target_kind == "soft" and sample.kind == "probability":
        out.add(
            "kl_div", 90,
            "The targets are probability distributions, not one label per row: kl_div is "
            "0 when the prediction equals the target distribution and differs from "
            "cross_entropy only by the targets' own entropy, a constant.",
        )  # fmt: skip
    if sample.kind != "probability":
        margin_share = _multiclass_margin_share(p, labels)
        out.add(
            "multiclass_hinge", 80,
            "If the scores are margins (a multiclass SVM) rather than logits: zero when the "
            f"true class beats every other by at least 1 ({pct(margin_share)} of rows here), "
            "so only rows near or across a boundary count.",
        )  # fmt: skip
    if imbalanced:
        top = max(out.candidates, key=lambda c: c.priority)
        top.reasons.append(
            f"The classes are imbalanced: '{classes[small]}' has {pct(float(shares[small]))} "
            f"of the rows, '{classes[large]}' {pct(float(shares[large]))}. The average cost "
            "mostly reflects the large classes; to give every class an equal say, pass -w "
            "with a weight of 1 / (class share) per row."
        )
    return out


def _multiclass_margin_share(scores: np.ndarray, labels: np.ndarray) -> float:
    """Share of rows whose true-class score beats every other score by at least 1."""
    idx = np.arange(scores.shape[0])
    true = scores[idx, labels]
    others = scores.copy()
    others[idx, labels] = -np.inf
    return float(np.mean(true - others.max(axis=1) >= 1))


# -- costs and disagreement -------------------------------------------------------------------


def _disagreement(
    keys: Sequence[str],
    values: dict[str, np.ndarray],
    rows: np.ndarray,
    weight: np.ndarray | None,
    monotone: dict[frozenset[str], str],
    names: dict[str, str],
) -> Disagreement | None:
    """Compare the worst rows of every pair of losses; describe the least-agreeing pair."""
    # Losses with identical per-sample values (mse and rmse) would be a trivial pair, and
    # a loss that is 0 on every row (perfect predictions) has no worst rows to compare.
    distinct: list[str] = []
    for key in keys:
        if not values[key].any():
            continue
        if not any(np.array_equal(values[key], values[d]) for d in distinct):
            distinct.append(key)
    if len(distinct) < 2:
        return None
    n = rows.shape[0]
    k = top_k(n)
    worst = {key: _worst(values[key], k) for key in distinct}
    # Ranks from the worst (1; ties share the best place) for the row lists, and
    # average ranks (ties share the mean place) for Spearman's correlation.
    both = {key: _ranks(values[key]) for key in distinct}
    ranks = {key: r[1] for key, r in both.items()}
    average = {key: r[0] for key, r in both.items()}
    pairs: list[PairAgreement] = []
    for i, a in enumerate(distinct):
        for b in distinct[i + 1 :]:
            wa, wb = worst[a], worst[b]
            smaller = min(int(wa.sum()), int(wb.sum()))
            overlap = float((wa & wb).sum()) / smaller if smaller else 1.0
            pairs.append(PairAgreement(a, b, overlap, _spearman(average[a], average[b])))

    def disagreement_of(pair: PairAgreement) -> tuple[float, float]:
        corr = pair.rank_correlation
        return (pair.top_overlap, corr if corr is not None else 1.0)

    least = min(pairs, key=disagreement_of)

    def only(x: str, y: str, masks: dict[str, np.ndarray]) -> tuple[RowRank, ...]:
        """Rows among x's worst that y ranks below its worst (not merely tied at 0)."""
        size = int(masks[y].sum())
        idx = np.flatnonzero(masks[x] & ~masks[y] & (ranks[y] > size))
        idx = idx[np.argsort(ranks[x][idx], kind="stable")][:SHOW_ROWS]
        return tuple(RowRank(int(rows[i]), int(ranks[x][i]), int(ranks[y][i])) for i in idx)

    corr = least.rank_correlation
    only_a, only_b = only(least.a, least.b, worst), only(least.b, least.a, worst)
    window = k
    if not only_a and not only_b and corr is not None and corr < AGREE_CORR:
        # Same worst rows, a different order below them: look a little further down.
        window = min(n, max(2 * k, math.ceil(WIDE_SHARE * n)))
        wide = {key: _worst(values[key], window) for key in (least.a, least.b)}
        only_a, only_b = only(least.a, least.b, wide), only(least.b, least.a, wide)
    agree = not only_a and not only_b
    shares = {key: _top_share(values[key], weight, k) for key in distinct}
    weigh = (
        f"The worst {k} rows carry "
        + ", ".join(f"{pct(shares[key])} of {key}" for key in distinct)
        + ": the larger the share, the more a handful of rows decides that loss."
    )
    if agree:
        family = {names[key] for key in distinct}
        why = next((f": {q}" for fam, q in monotone.items() if family <= fam), "")
        lowest = min(
            (p.rank_correlation for p in pairs if p.rank_correlation is not None), default=None
        )
        note = f"The {len(distinct)} losses agree on which rows are worst{why}."
        if lowest is not None and lowest < AGREE_CORR:
            tied = [key for key in distinct if float(np.mean(values[key] == 0)) > WIDE_SHARE]
            because = (
                f", where {' and '.join(tied)} give{'s' if len(tied) == 1 else ''} many rows "
                "the same loss of 0"
                if tied
                else ""
            )
            note += (
                f" Their rank correlation is lower ({num(lowest)}) only among the better "
                f"rows{because}."
            )
        note += f" They differ in how much the worst rows weigh. {weigh}"
    else:
        shared = int((worst[least.a] & worst[least.b]).sum())
        size = min(int(worst[least.a].sum()), int(worst[least.b].sum()))
        corr_text = f"rank correlation {num(corr)}" if corr is not None else "one is constant"
        if shared == size:
            head = (
                f"{least.a} and {least.b} agree least: they share all {size} of their worst "
                f"rows but order the other rows differently ({corr_text})."
            )
        else:
            head = (
                f"{least.a} and {least.b} disagree most: they share {shared} of their {size} "
                f"worst rows ({corr_text})."
            )
        parts = [head]
        scope = "the worst" if window == k else f"the worst {window}"
        if only_a:
            parts.append(_rows_sentence(only_a, least.a, least.b, scope))
        if only_b:
            parts.append(_rows_sentence(only_b, least.b, least.a, scope))
        if only_a or only_b:
            parts.append("Look at those rows: choosing a loss is choosing which mistakes matter.")
        parts.append(weigh)
        note = " ".join(parts)
    return Disagreement(k, window, tuple(pairs), least, only_a, only_b, shares, note)


def _rows_sentence(items: Sequence[RowRank], a: str, b: str, scope: str) -> str:
    """'Rows 12 (#1 vs #310), 40 (#3 vs #95) are among the worst under a but not under b.'"""
    listed = ", ".join(f"{r.row} (#{r.rank_a} vs #{r.rank_b})" for r in items)
    s, verb = ("s", "are") if len(items) > 1 else ("", "is")
    return f"Row{s} {listed} {verb} among {scope} under {a} but not under {b}."


def recommend(sample: Sample, registry: Registry | None = None) -> RecommendReport:
    """Measure the facts of ``sample``, rank the losses that fit, compute them and compare.

    Domain errors of a recommended loss (a probability of 1.3) are input errors
    naming the column and rows, exactly as in ``lossctl eval``.
    """
    reg = registry or builtin_registry()
    if sample.task == "regression":
        found = _regression(sample)
    elif sample.task == "binary":
        found = _binary(sample)
    else:
        found = _multiclass(sample)
    ranked = sorted(found.candidates, key=lambda c: -c.priority)[:MAX_RECOMMENDATIONS]
    losses: list[BoundLoss] = [reg.loss(c.key, sample.task) for c in ranked]
    try:
        values = per_sample_losses(losses, sample.y_true, sample.y_pred)
    except DomainError as exc:
        from lossctl.pipeline import column_of

        column = column_of(exc.role, sample.columns)
        raise InputError(
            exc.describe(column=column, source=sample.source, row_numbers=sample.rows.tolist())
        ) from None
    evaluation = Evaluation(losses)
    evaluation.add(values, sample.weight)
    stats = evaluation.loss_stats()
    recs = tuple(
        Recommendation(
            rank=i + 1,
            key=loss.key,
            name=loss.name,
            params=dict(loss.params),
            cost=stats[loss.key].cost,
            reasons=tuple(c.reasons),
        )
        for i, (c, loss) in enumerate(zip(ranked, losses, strict=True))
    )
    names = {loss.key: loss.name for loss in losses}
    disagreement = _disagreement(
        [loss.key for loss in losses], values, sample.rows, sample.weight, found.monotone, names
    )
    warnings = list(sample.warnings)
    if sample.n < FEW_ROWS:
        warnings.append(
            f"only {sample.n} rows: the measured facts (tails, skewness, shares) are rough; "
            "treat the ranking as a starting point."
        )
    return RecommendReport(
        source=sample.source,
        task=sample.task,
        prediction_kind=sample.kind,
        columns=sample.columns,
        n_rows=sample.n_rows or sample.n,
        n_used=sample.n,
        n_dropped=sample.n_dropped,
        facts=tuple(found.facts),
        recommendations=recs,
        disagreement=disagreement,
        notes=tuple(found.notes),
        warnings=tuple(warnings),
    )


def run_recommend(opts: EvalOptions) -> RecommendReport:
    """The whole of ``lossctl recommend`` minus printing: read the file, then recommend."""
    return recommend(read_sample(opts), opts.registry)


__all__ = [
    "Disagreement",
    "Fact",
    "PairAgreement",
    "RecommendReport",
    "Recommendation",
    "RowRank",
    "Sample",
    "read_sample",
    "recommend",
    "run_recommend",
]
