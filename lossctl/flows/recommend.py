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

- *quantile column*: a prediction column named like a quantile (``q90``, ``p90``,
  ``quantile_0.9``, ``q0.1``, ``quantile_10``; a number above 1 is a percent),
  ``median``, or a Nixtla interval bound (``model-lo-80`` = 0.1, ``model-hi-80`` =
  0.9) ranks ``quantile:alpha=LEVEL`` first (``mae``, then ``quantile:alpha=0.5``,
  for the median): mse, huber and mae target the mean or the median and would call a
  calibrated quantile bad. The coverage (share of rows with ``y <= pred``) is a fact,
  and a note says when it is further from the level than
  max(``COVERAGE_SE`` (3) binomial SEs, ``COVERAGE_MIN_GAP`` (1 point)). No bias
  notes for such a column: a quantile is meant to be off-centre.
- *gross errors*: more than ``OUTLIER_SHARE`` (1%) of the residuals, and at least
  ``MIN_OUTLIERS`` (3) rows, lie beyond ``OUTLIER_SDS`` (3) robust SDs from the
  median residual (a Gaussian puts 0.27% there);
  *heavy tails*: excess kurtosis of the residuals above ``HEAVY_KURTOSIS`` (1;
  Gaussian 0, Laplace 3). Either one ranks ``huber`` first (with
  ``delta = 1.345 * s``, 3 significant digits), then ``mae``, and demotes ``mse``;
  otherwise ``mse`` is first, ``huber`` second (a safety net), ``mae`` third. The
  residuals are said to "look Gaussian" only when, besides, the excess kurtosis is
  at least -1 and the residual skewness within +-``RESIDUAL_SKEW`` (0.5).
- *multiplicative errors*: the rank correlation of ``|r|`` with the target is at
  least ``MULTIPLICATIVE_CORR`` (0.3) and the target is >= 0: the absolute errors
  grow with the target, so absolute losses are demoted and relative ones
  (``mape``, or ``smape`` when some targets are smaller than the typical error)
  are added.
- *variance growth*: the rows sorted by prediction are cut into ``VARIANCE_BINS``
  (10) equal parts; the slope of log(mean r²) on log(mean prediction) is the power
  of the variance function (0 constant noise, 1 Poisson, 2 Gamma). At least
  ``VARIANCE_GROWS`` (0.5) means the errors grow with the level (predictions > 0,
  at least 100 rows, and the highest part's mean prediction at least 1.5 times the
  lowest's; else not measured). When the residuals show gross errors or heavy tails
  but residual / prediction^(power / 2) shows neither, the tails are the variance
  growth, not gross errors: the reasons say so and huber is not ranked first.
- *skewed non-negative target*: target skewness above ``SKEW`` (1) and ``y >= 0``:
  a deviance fits the shape: ``poisson_deviance`` for counts (non-negative
  integers), ``tweedie_deviance:power=1.5`` when at least ``ZERO_SHARE`` (5%) of
  the targets are exactly 0 and the rest continuous, ``gamma_deviance`` when every
  target is > 0; plus ``msle``. Deviances need predictions > 0 and are skipped
  (with a note) otherwise. ``poisson_deviance`` on counts is ranked first
  (``COUNT_PRIORITY``, above huber and mae): like mse it is minimised by the mean a
  count model predicts, and it weighs each squared error by the expected count; the
  Tweedie and Gamma deviances are ranked first when the errors are multiplicative
  or grow with the level, and below the absolute losses otherwise.
- *bias* is the mean residual, not the median: a note says the predictions are
  biased only when the mean residual is at least ``BIAS_SE`` (3) standard errors
  from 0 and subtracting it lowers mse by at least ``BIAS_GAIN`` (5%); it states
  what that shift does to every recommended loss, computed (lowers, raises, or
  leaves undefined: a deviance of a prediction shifted to <= 0), and what
  subtracting the median does to mae. A median residual more than ``MEDIAN_SDS``
  (0.5) robust SDs from 0 with no such bias, where subtracting the median lowers
  mae but raises mse, is a *mean forecast* of skewed errors (counts, amounts): a
  note says it is not a bias, with the numbers of that shift, and mae and huber
  (when the shift lowers huber) are demoted below mse, since they would prefer the
  model shifted towards the median.

Shift notes are computed unweighted, like the facts.

Binary (labels read from the raw column, so -1/+1 is seen before it becomes 0/1):

- probabilities: ``bce`` first (the proper scoring rule), ``brier`` second;
  when the model is *over-confident* (at least 3 rows give >= 90% to the wrong
  class and a calibrated model would make that many such mistakes with Poisson
  probability < 1%) or its probabilities are *extreme* (any wrong prediction is
  exactly 0 or 1, or at least ``EXTREME_SHARE`` (5%) of them are exactly 0 or 1)
  ``brier`` moves first: it is bounded, while bce lets those rows dominate.
- *calibrated on average*: the mean probability (or mean sigmoid of the scores) is
  within ``CALIBRATION_SE`` (3) standard errors of the base rate, the SE being
  sqrt(sum p(1 - p)) / n under calibration, and within 10% of the minority share
  (at least 0.005); otherwise the gap is stated in percentage points.
- scores: -1/+1 labels (or a column named like a margin) mean margin scores:
  ``hinge`` first, then ``bce_logits`` and ``squared_hinge``; 0/1 labels (or a
  column named like a logit) mean logits: ``bce_logits`` first, then ``hinge``.
- imbalance: a positive share below ``IMBALANCE`` (10%) or above 90% adds
  ``focal:gamma=2`` (second, after the first-ranked loss) for probabilities.

Multiclass: ``cross_entropy`` (probabilities) or ``softmax_cross_entropy``
(scores, read as logits) first, ``brier`` second (first when over-confident, as
for binary), ``kl_div`` for soft targets, ``multiclass_hinge`` for scores; a
smallest/largest class-share ratio below ``CLASS_RATIO`` (0.2) adds a note on
class weights to the first loss. Mean confidence and accuracy are "calibrated on
average" when within 0.02 and 3 standard errors (sqrt(sum conf(1 - conf)) / n).

Disagreement: for every pair of recommended losses, the overlap of their worst
rows (the top 1%, at least 5 rows) and the Spearman rank correlation of their
per-sample values; the pair with the least overlap is reported with rows one
loss ranks among its worst and the other does not.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from lossctl.core.accumulate import Evaluation, per_sample_losses
from lossctl.core.stats import MAD_TO_SD
from lossctl.errors import DomainError, InputError
from lossctl.losses import BoundLoss, Registry, builtin_registry
from lossctl.losses.binary import sigmoid
from lossctl.report import Columns, PluginFile

if TYPE_CHECKING:
    from lossctl.options import EvalOptions

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
#: A mean probability more standard errors than this from the base rate is not calibrated.
CALIBRATION_SE = 3.0
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
#: Bias: the mean residual is at least this many standard errors from 0 ...
BIAS_SE = 3.0
#: ... and subtracting it lowers mse by at least this share.
BIAS_GAIN = 0.05
#: A median residual this many robust SDs from 0 is far from 0.
MEDIAN_SDS = 0.5
#: Residual skewness beyond this (either sign): the residuals are not Gaussian-looking.
RESIDUAL_SKEW = 0.5
#: Squared residuals vs prediction: parts of the rows, fewest rows, least span of the
#: mean predictions (highest part / lowest part), and the power from which they grow.
VARIANCE_BINS = 10
VARIANCE_MIN_ROWS = 100
VARIANCE_SPAN = 1.5
VARIANCE_GROWS = 0.5
#: Priority of the deviance that fits a skewed target (above huber's 110).
COUNT_PRIORITY = 125.0
#: Priority of the loss a quantile column's name asks for (above everything).
QUANTILE_PRIORITY = 200.0
#: A quantile's coverage is far from its level beyond max(this many binomial SEs, ...
COVERAGE_SE = 3.0
#: ... this absolute gap).
COVERAGE_MIN_GAP = 0.01

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
    from lossctl.core.prepare import prepare
    from lossctl.engines.base import check_rows_left
    from lossctl.inputs.validate import distinct_values

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
            raw |= distinct_values(chunk.table.column(prepared.columns.target[0]))
        if v.nan_count and v.nan == "raise":
            continue  # keep reading only to count the bad rows
        if len(arrays):
            blocks.append((arrays.y_true, arrays.y_pred, arrays.weight, arrays.rows))
    v.finish()
    weight = None
    if prepared.columns.weight and blocks:
        weight = np.concatenate([b[2] for b in blocks if b[2] is not None])
    n_used = sum(len(b[0]) for b in blocks)
    check_rows_left(prepared, n_used, None if weight is None else float(weight.sum()))
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
    #: Called with the keys of the recommended losses, once ranked: adds the facts and
    #: notes that must be checked on exactly those losses.
    finish: Callable[[Sequence[str]], None] | None = None

    def fact(self, name: str, value: FactValue, meaning: str, unit: str = "number") -> None:
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        self.facts.append(Fact(name, value, meaning, unit))

    def add(self, key: str, priority: float, *reasons: str) -> None:
        self.candidates.append(_Candidate(key, priority, [r for r in reasons if r]))


# -- regression -------------------------------------------------------------------------------

#: "q90", "p90", "quantile_0.9", "q0.1", "quantile_10", "y_pred_q90", "pinball_0.9".
_QUANTILE_NAME = re.compile(
    r"(?:^|[^a-z])(?:quantile|pinball|percentile|q|p)[_\-]?(\d+(?:\.\d+)?|\.\d+)(?![\d.])"
)
#: Nixtla-style interval bounds: "AutoARIMA-lo-80", "model-hi-95", "yhat_lower_80".
_INTERVAL_NAME = re.compile(r"(?:^|[^a-z])(lo|hi|lower|upper)[_\-]?(\d+(?:\.\d+)?)(?![\d.])")
_MEDIAN_NAME = re.compile(r"(?:^|[^a-z])median(?:$|[^a-z])")


def _level(text: str) -> float | None:
    """A level written as a fraction (0.9) or, above 1, a percent (90); None outside (0, 1)."""
    value = float(text)
    if value > 1:
        value /= 100
    return value if 0 < value < 1 else None


def quantile_level(name: str) -> float | None:
    """The quantile a prediction column's name says it holds, else None.

    ``q90``, ``p90``, ``quantile_0.9``, ``q0.1``, ``quantile_10``, ``y_pred_q90`` give
    that level (a number above 1 is a percent); ``median`` gives 0.5; the bounds of a
    Nixtla prediction interval, ``model-lo-80`` / ``model-hi-80``, give (1 -+ 0.8) / 2
    = 0.1 / 0.9.
    """
    text = name.strip().lower()
    if _MEDIAN_NAME.search(text):
        return 0.5
    if m := _INTERVAL_NAME.search(text):
        c = _level(m.group(2))
        if c is None:
            return None
        return round((1 - c) / 2 if m.group(1) in ("lo", "lower") else (1 + c) / 2, 12)
    if m := _QUANTILE_NAME.search(text):
        return _level(m.group(1))
    return None


def _gaussian_top_share(q: float) -> float:
    """Share of E[r^2] carried by the q most extreme rows of Gaussian residuals.

    With c the two-sided (1 - q) quantile of |Z|: E[Z^2 1{|Z| > c}] = 2 c phi(c) + q.
    """
    from scipy.stats import norm

    if q >= 1:
        return 1.0
    c = float(norm.isf(q / 2))
    return float(min(1.0, 2 * c * norm.pdf(c) + q))


def _variance_growth(p: np.ndarray, sq: np.ndarray) -> tuple[float, float, float, float, float]:
    """How the squared residuals grow with the prediction.

    Rows sorted by prediction (stable) are cut into ``VARIANCE_BINS`` equal parts;
    the slope of log(mean squared residual) on log(mean prediction) over the parts
    is the power of the variance function: 0 constant noise, 1 Poisson, 2 Gamma.
    Returns (power, mean sq. residual and mean prediction of the lowest part, and of
    the highest); NaN where it cannot be measured (predictions <= 0, fewer than
    ``VARIANCE_MIN_ROWS`` rows, a prediction range below ``VARIANCE_SPAN``).
    """
    nan = math.nan
    if p.shape[0] < VARIANCE_MIN_ROWS or float(p.min()) <= 0:
        return nan, nan, nan, nan, nan
    parts = np.array_split(np.argsort(p, kind="stable"), VARIANCE_BINS)
    mp = np.array([p[i].mean() for i in parts])
    ms = np.array([sq[i].mean() for i in parts])
    if mp[-1] < VARIANCE_SPAN * mp[0] or not (ms > 0).all():
        return nan, float(ms[0]), float(mp[0]), float(ms[-1]), float(mp[-1])
    power = float(np.polyfit(np.log(mp), np.log(ms), 1)[0])
    return power, float(ms[0]), float(mp[0]), float(ms[-1]), float(mp[-1])


def _tails(z: np.ndarray) -> tuple[float, int, float]:
    """Share and count of values beyond 3 robust SDs from their median, and excess kurtosis."""
    from scipy.stats import kurtosis

    med = float(np.median(z))
    dev = np.abs(z - med)
    s = MAD_TO_SD * float(np.median(dev))
    count = int((dev > OUTLIER_SDS * s).sum()) if s > 0 else 0
    kurt = float(kurtosis(z)) if z.shape[0] >= 4 and float(z.std()) > 0 else math.nan
    return (count / z.shape[0] if s > 0 else math.nan), count, kurt


def _huber_mean(r: np.ndarray, delta: float) -> float:
    """Mean huber loss of residuals r: 0.5 r^2 within delta, delta (|r| - delta / 2) beyond."""
    a = np.abs(r)
    return float(np.mean(np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))))


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


def _regression(sample: Sample) -> _Findings:
    """Facts about the residuals and the target, then the regression losses that fit them."""
    from scipy.stats import kurtosis, skew

    out = _Findings()
    y, p = sample.y_true, sample.y_pred
    n = sample.n
    r = p - y
    med = float(np.median(r))
    mean_r = float(np.mean(r))
    dev = np.abs(r - med)
    sigma = MAD_TO_SD * float(np.median(dev))
    sigma_source = "1.4826 × MAD"
    if sigma == 0 and dev.any():
        # More than half the residuals equal the median: the MAD is 0. The mean
        # absolute deviation times sqrt(pi/2) is the SD for Gaussian data, too.
        sigma = math.sqrt(math.pi / 2) * float(dev.mean())
        sigma_source = "1.2533 × mean absolute deviation (the MAD is 0)"
    sd = float(r.std())
    se = sd / math.sqrt(n)
    outliers = dev > OUTLIER_SDS * sigma if sigma > 0 else np.zeros(n, dtype=bool)
    n_out = int(outliers.sum())
    out_share = n_out / n
    kurt = float(kurtosis(r)) if n >= 4 and sd > 0 else math.nan
    r_skew = float(skew(r)) if n >= 3 and sd > 0 else math.nan
    y_skew = float(skew(y)) if n >= 3 and float(np.ptp(y)) > 0 else math.nan
    abs_r = np.abs(r)
    corr = math.nan
    if n >= 3 and np.ptp(abs_r) > 0 and np.ptp(y) > 0:
        rho = _spearman(_ranks(abs_r)[0], _ranks(y)[0])
        corr = math.nan if rho is None else rho
    y_min, y_max, p_min = float(y.min()), float(y.max()), float(p.min())
    y_mean, y_median = float(np.mean(y)), float(np.median(y))
    integers = bool(np.all(y == np.round(y)))
    zero_share = float(np.mean(y == 0))
    med_abs = float(np.median(abs_r))
    nonzero = y != 0
    rel = float(np.median(abs_r[nonzero] / np.abs(y[nonzero]))) if nonzero.any() else math.nan
    small = np.abs(y) < med_abs
    small_share = float(small.mean())
    delta = round_sig(HUBER_K * sigma) if sigma > 0 else 1.0
    within = float(np.mean(abs_r <= delta))
    k = top_k(n)
    sq = r * r
    mse_top = _top_share(sq, sample.weight, k)
    gauss_top = _gaussian_top_share(k / n)
    power, low_sq, low_p, high_sq, high_p = _variance_growth(p, sq)
    rel_kurt = math.nan
    if p_min > 0 and n >= 4:
        ratio = r / p
        if float(ratio.std()) > 0:
            rel_kurt = float(kurtosis(ratio))
    # What a constant shift does: by the mean residual (the shift that minimises mse)
    # and by the median residual (the one that minimises mae). Unweighted, like the facts.
    mse0 = float(np.mean(sq))
    mae0 = float(np.mean(abs_r))
    mse_mean_shift = float(np.mean((r - mean_r) ** 2))
    mae_median_shift = float(np.mean(np.abs(r - med)))
    mse_median_shift = float(np.mean((r - med) ** 2))
    huber0 = _huber_mean(r, delta)
    huber_median_shift = _huber_mean(r - med, delta)
    over_share = float(np.mean(r > 0))
    pred_name = sample.columns.pred[0] if sample.columns.pred else ""
    weighted = " (unweighted, like every fact)" if sample.weight is not None else ""
    level = quantile_level(pred_name)
    coverage = float(np.mean(y <= p)) if level is not None else math.nan

    out.fact("n_used", n, "rows used", "count")
    out.fact(
        "residual_median", med,
        "median residual (prediction - target): the typical row's error; not the bias "
        "(residual_mean is), and far from 0 for a mean forecast of a skewed target",
    )  # fmt: skip
    out.fact(
        "residual_mean", mean_r,
        "mean residual (prediction - target): the bias; subtracting it minimises mse",
    )  # fmt: skip
    out.fact("residual_mean_se", se, "standard error of the mean residual: SD / sqrt(rows)")
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
    out.fact("residual_skew", r_skew, "skewness of the residuals (Gaussian 0)")
    out.fact(
        "relative_residual_excess_kurtosis", rel_kurt,
        "excess kurtosis of residual / prediction (predictions > 0 only)",
    )  # fmt: skip
    out.fact("target_min", y_min, "smallest target")
    out.fact("target_max", y_max, "largest target")
    out.fact("target_mean", y_mean, "mean target")
    out.fact("target_median", y_median, "median target (below the mean when right-skewed)")
    out.fact("target_skew", y_skew, "skewness of the target (0 symmetric, > 1 right-skewed)")
    out.fact("target_integer", integers, "every target is a whole number (counts?)", "text")
    out.fact("target_zero_share", zero_share, "share of targets exactly 0", "share")
    out.fact("prediction_min", p_min, "smallest prediction (deviances need > 0)")
    out.fact(
        "over_prediction_share", over_share, "share of predictions above their target", "share"
    )
    out.fact(
        "error_target_correlation", corr,
        "rank correlation of |residual| with the target (>= 0.3: errors grow with it)",
    )  # fmt: skip
    out.fact(
        "variance_power", power,
        f"slope of log(mean squared residual) on log(mean prediction) over {VARIANCE_BINS} "
        "equal parts of the rows sorted by prediction: 0 constant noise, 1 Poisson, 2 Gamma",
    )  # fmt: skip
    out.fact(
        "variance_low_sq_error", low_sq,
        f"mean squared residual of the 1/{VARIANCE_BINS} of rows with the lowest predictions",
    )  # fmt: skip
    out.fact("variance_low_prediction", low_p, "their mean prediction")
    out.fact(
        "variance_high_sq_error", high_sq,
        f"mean squared residual of the 1/{VARIANCE_BINS} of rows with the highest predictions",
    )  # fmt: skip
    out.fact("variance_high_prediction", high_p, "their mean prediction")
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
    out.fact(
        "mse_top_share_gaussian", gauss_top,
        f"the same share for Gaussian residuals (the worst {pct(k / n)} of the rows)", "share",
    )  # fmt: skip
    out.fact("huber_delta", delta, "suggested huber delta: 1.345 × robust SD, 3 digits")
    out.fact(
        "huber_within_delta_share", within,
        "share of residuals with |residual| <= delta (where huber is mse / 2)", "share",
    )  # fmt: skip
    out.fact(
        "mse_after_mean_shift", mse_mean_shift,
        "unweighted mse after subtracting the mean residual from every prediction",
    )  # fmt: skip
    out.fact(
        "mae_after_median_shift", mae_median_shift,
        "unweighted mae after subtracting the median residual from every prediction",
    )  # fmt: skip
    out.fact(
        "mse_after_median_shift", mse_median_shift,
        "unweighted mse after subtracting the median residual from every prediction",
    )  # fmt: skip
    out.fact(
        "quantile_level", level,
        "the quantile the prediction column's name says it holds (q90 = 0.9)",
    )  # fmt: skip
    out.fact(
        "quantile_coverage", coverage,
        "share of rows with target <= prediction (a calibrated quantile: its level)", "share",
    )  # fmt: skip

    gross = out_share > OUTLIER_SHARE and n_out >= MIN_OUTLIERS
    heavy = math.isfinite(kurt) and kurt > HEAVY_KURTOSIS
    robust = gross or heavy
    multiplicative = y_min >= 0 and math.isfinite(corr) and corr >= MULTIPLICATIVE_CORR
    skewed = y_min >= 0 and y_max > 0 and math.isfinite(y_skew) and y_skew > SKEW
    growing = math.isfinite(power) and power >= VARIANCE_GROWS and high_sq > low_sq
    # When the variance grows with the prediction, large residuals where the predictions
    # are large are expected: scaled by prediction^(power / 2) they may have no tails.
    half = min(max(power, 0.0), 2.0) / 2 if growing else math.nan
    z_share, z_count, z_kurt = _tails(r / p**half) if growing else (math.nan, 0, math.nan)
    out.fact(
        "scaled_outlier_share", z_share,
        "share of residual / prediction^(variance_power / 2) beyond 3 robust SDs from their "
        "median (measured when the variance grows with the prediction)", "share",
    )  # fmt: skip
    out.fact(
        "scaled_excess_kurtosis", z_kurt,
        "excess kurtosis of residual / prediction^(variance_power / 2)",
    )  # fmt: skip
    scaled_tails = (z_share > OUTLIER_SHARE and z_count >= MIN_OUTLIERS) or (
        math.isfinite(z_kurt) and z_kurt > HEAVY_KURTOSIS
    )
    explained = robust and growing and math.isfinite(z_share) and not scaled_tails
    robust = robust and not explained
    # Bias is the mean residual: claimed only when it is clearly not noise and removing
    # it lowers mse by at least BIAS_GAIN. A quantile forecast is meant to be off-centre.
    mse_gain = (mse0 - mse_mean_shift) / mse0 if mse0 > 0 else 0.0
    biased = (
        level is None
        and mean_r != 0
        and (se == 0 or abs(mean_r) >= BIAS_SE * se)
        and mse_gain >= BIAS_GAIN
    )
    median_far = level is None and sigma > 0 and abs(med) > MEDIAN_SDS * sigma
    # The mean is right but the median is not: a forecast of the mean of skewed errors.
    # The median-seeking losses (mae, huber) would prefer it shifted; mse would not.
    mean_forecast = (
        median_far and not biased and mae_median_shift < mae0 and mse_median_shift > mse0
    )

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
    elif math.isfinite(kurt) and kurt < -HEAVY_KURTOSIS:
        evidence = (
            f"The residuals have light tails, lighter than Gaussian noise: {tails}, and "
            f"{kurt_text}."
        )
    elif math.isfinite(r_skew) and abs(r_skew) > RESIDUAL_SKEW:
        evidence = (
            f"The residuals have no heavy tails but are skewed (skewness {num(r_skew)}; "
            f"Gaussian: 0): {tails}" + (f", and {kurt_text}." if kurt_text else ".")
        )
    else:
        evidence = f"The residuals look Gaussian: {tails}" + (
            f", and {kurt_text}." if kurt_text else "."
        )
    if explained:
        evidence = (
            f"{tails[0].upper()}{tails[1:]}" + (f", and {kurt_text}" if kurt_text else "")
            + f"; but scaled by prediction^{num(half)} (the measured growth of the variance) "
            f"{pct(z_share)} of them lie beyond 3 robust SDs and their excess kurtosis is "
            f"{num(z_kurt)}: the large residuals are where the predictions are large, as the "
            "variance growth implies, not gross errors."
        )  # fmt: skip
    if robust and multiplicative and math.isfinite(rel_kurt) and rel_kurt < kurt:
        evidence += (
            " Part of this is the errors growing with the target: relative to the prediction "
            f"(residual / prediction) their excess kurtosis is {num(rel_kurt)}."
        )
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
    growth_text = (
        f"the squared errors grow with the prediction: the mean squared residual is "
        f"{num(low_sq)} in the {pct(1 / VARIANCE_BINS)} of rows with the lowest predictions "
        f"(mean {num(low_p)}) and {num(high_sq)} in the {pct(1 / VARIANCE_BINS)} with the "
        f"highest (mean {num(high_p)}), about prediction^{num(power)} (constant noise: ^0, "
        "Poisson: ^1, Gamma: ^2)"
    )
    direction = "lower" if med > 0 else "higher"

    # The absolute-error family.
    demote = 40.0 if multiplicative else 0.0
    if robust:
        p_huber, p_mae, p_mse = 110.0, 100.0, 60.0
    else:
        p_mse, p_huber, p_mae = 100.0, 90.0, 50.0
    mse_reasons: list[str] = []
    huber_extra = mae_extra = ""
    side = "above" if med > 0 else "below"
    if mean_forecast:
        p_mse = max(p_mse, 75.0)
        p_mae -= 45
        mse_reasons.append(
            f"mse is minimised by the conditional mean, and these predictions are right on "
            f"average (mean residual {num(mean_r)}) though {side} most targets (median "
            f"residual {num(med)})."
        )

        def demoted(name: str, target: str, before: float, after: float) -> str:
            return (
                f"Demoted: this model forecasts the mean (mean residual {num(mean_r)}), while "
                f"{name} is minimised by {target}. Subtracting the median residual {num(med)} "
                f"from every prediction would lower {name} from {num(before)} to {num(after)} "
                f"but raise mse from {num(mse0)} to {num(mse_median_shift)}{weighted}: "
                f"{name} prefers a model that predicts {direction} than the mean."
            )

        mae_extra = demoted("mae", "the median", mae0, mae_median_shift)
        if huber_median_shift < huber0:
            p_huber -= 45
            huber_extra = demoted(
                "huber", "a centre between the median and the mean", huber0, huber_median_shift
            )
    if robust:
        mostly = ", so it mostly measures them." if mse_top >= 0.5 else "."
        out.add(
            huber_key, p_huber - demote,
            evidence,
            "Huber squares residuals up to delta and counts larger ones linearly, so those "
            f"rows cannot take over the cost. {delta_text}: the classic choice, 95% as "
            "efficient as mse if the noise were Gaussian.",
            huber_extra,
        )  # fmt: skip
        out.add(
            "mae", p_mae - demote,
            "Every unit of error costs the same, so no residual can dominate; it targets "
            "the conditional median, which a few outliers barely move. Simpler than huber "
            "(no delta), but its gradient never shrinks, so training settles less smoothly.",
            mae_extra,
        )  # fmt: skip
        out.add(
            "mse", p_mse - demote,
            *mse_reasons,
            f"Kept as a reference: squaring lets the largest residuals dominate; here the "
            f"worst {k} rows carry {pct(mse_top)} of the mse (Gaussian noise: about "
            f"{pct(gauss_top)}){mostly}",
        )  # fmt: skip
    else:
        out.add(
            "mse", p_mse - demote,
            evidence,
            *mse_reasons,
            "For Gaussian noise mse is the maximum-likelihood loss: it targets the conditional "
            "mean and uses every residual fully. rmse ranks models the same way, in the "
            "target's units.",
        )  # fmt: skip
        out.add(
            huber_key, p_huber - demote,
            f"A safety net: {delta_text}. Below delta huber is mse / 2, and {pct(within)} of "
            "the residuals here are within delta; a future batch of outliers could not "
            "dominate it.",
            huber_extra,
        )  # fmt: skip
        out.add(
            "mae", p_mae - demote,
            f"The typical error in the target's units (median |residual| {num(med_abs)}); it "
            "targets the median. With Gaussian residuals it is less efficient than mse: "
            "prefer it when an error's cost grows linearly with its size.",
            mae_extra,
        )  # fmt: skip
    if multiplicative:
        for c in out.candidates:
            c.reasons.append(
                f"Demoted: the errors grow with the target (rank correlation {num(corr)}), so "
                "this absolute loss weighs the rows with the largest targets most."
            )
    out.monotone[frozenset({"mse", "rmse", "mae", "huber"})] = "each grows with |residual|"

    # Relative losses: the target's shape and how the errors scale.
    shape = (
        f"The target is non-negative and right-skewed (skewness {num(y_skew)}, "
        f"from {num(y_min)} to {num(y_max)})"
    )
    if multiplicative:
        level_text = f", and {grow}."
    elif growing:
        level_text = f", and {growth_text}."
    else:
        growth = (
            f"; power of the squared errors on the prediction: {num(power)}"
            if (math.isfinite(power))
            else ""
        )
        level_text = (
            f". The errors do not grow with the level (rank correlation of |residual| with "
            f"the target {num(corr)}{growth}), so it is not ranked first unless relative "
            "error is what matters to you."
        )
    deviance_key = ""
    if skewed:
        lead = multiplicative or growing
        if p_min <= 0:
            out.notes.append(
                f"The target is non-negative and skewed, but some predictions are <= 0 "
                f"(min {num(p_min)}), so the Poisson, Gamma and Tweedie deviances cannot be "
                "computed; a model with a log link (exp output) predicts positive values."
            )
        elif integers:
            deviance_key = "poisson_deviance"
            if multiplicative or growing:
                count_text = f", and {growth_text if growing else grow}."
            elif math.isfinite(power):
                count_text = (
                    f". The squared errors do not grow with the prediction here (about "
                    f"prediction^{num(power)}), as they would for Poisson noise."
                )
            else:
                count_text = "."
            median_text = (
                f"; this target's median ({num(y_median)}) is below its mean ({num(y_mean)})"
                if y_median < y_mean
                else ""
            )
            out.add(
                deviance_key, COUNT_PRIORITY,
                f"{shape}, and every target is a whole number ({pct(zero_share)} zeros): "
                f"counts{count_text}",
                "The Poisson deviance is minimised by the conditional mean, like mse, and near "
                "the truth it is about (target - prediction)² / prediction: each squared error "
                "is weighed by the expected count, as Poisson noise (variance = mean) asks, so "
                "a miss by 5 costs more at an expected count of 2 than of 200. It accepts zero "
                "targets and needs predictions > 0 (they are).",
                "Ranked above huber and mae: mae is minimised by the median and huber by a "
                "centre between the median and the mean, not by the mean a count model "
                f"predicts{median_text}.",
            )  # fmt: skip
        elif zero_share >= ZERO_SHARE:
            deviance_key = f"tweedie_deviance:power={spec_number(TWEEDIE_POWER)}"
            out.add(
                deviance_key, COUNT_PRIORITY if lead else 70.0,
                f"{shape}; {pct(zero_share)} of the targets are exactly 0 and the rest are "
                f"positive amounts{level_text}",
                "A spike at zero plus a skewed positive part (claims, rainfall, sales) is "
                "what the Tweedie deviance with power between 1 and 2 models: a compound "
                f"Poisson-Gamma. power={spec_number(TWEEDIE_POWER)} is the usual start "
                "(tune it between 1.1 and 1.9); it needs predictions > 0 (they are).",
            )  # fmt: skip
        elif y_min > 0:
            deviance_key = "gamma_deviance"
            out.add(
                deviance_key, COUNT_PRIORITY if lead else 70.0,
                f"{shape}, strictly positive and continuous{level_text}",
                "The Gamma deviance depends only on the ratio prediction / target, so a "
                "10% miss costs the same at 10 as at 1000: the natural loss when the noise "
                "is multiplicative. It needs targets and predictions > 0 (they are).",
            )  # fmt: skip
        else:
            deviance_key = f"tweedie_deviance:power={spec_number(TWEEDIE_POWER)}"
            out.add(
                deviance_key, COUNT_PRIORITY if lead else 70.0,
                f"{shape} with a few exact zeros ({pct(zero_share)}), so the Gamma deviance "
                f"(targets > 0) does not apply{level_text}",
                f"The Tweedie deviance with power={spec_number(TWEEDIE_POWER)} accepts zero "
                "targets and treats errors relatively, like the Gamma deviance does.",
            )  # fmt: skip
    if (skewed or multiplicative) and y_min > -1 and p_min > -1:
        if deviance_key:
            evidence_msle = f"A simpler relative loss than {deviance_key}, on the same evidence."
        elif skewed:
            evidence_msle = f"{shape}{level_text}"
        else:
            evidence_msle = f"The target is non-negative and {grow}."
        out.add(
            "msle", 115.0 if multiplicative else 65.0,
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
                "positive target by a non-negative prediction costs at most 100%, so it "
                "favours models that predict low.",
            )  # fmt: skip

    if level is not None:
        _quantile_column(out, pred_name, level, coverage, n)

    def finish(keys: Sequence[str]) -> None:
        """Notes on a constant shift, checked on the losses actually recommended."""
        # mse decides the bias and mae the median shift: always state them.
        if biased:
            costs = _shifted_costs(["mse", *(k for k in keys if k != "mse")], y, p, mean_r)
            how = f"{num(abs(mean_r) / se)} standard errors from 0" if se > 0 else "on every row"
            note = (
                f"The predictions are biased: the mean residual (prediction - target) is "
                f"{num(mean_r)}, {how}. "
                + _shift_sentences(f"Subtracting it from every prediction{weighted}", costs)
            )
            undefined = [key for key, (_, after, _) in costs.items() if after is None]
            mean_p = float(np.mean(p))
            if undefined and p_min > 0 and y_mean > 0 and mean_p > 0:
                # A scale keeps positive predictions positive: check what it does.
                factor = y_mean / mean_p
                scaled = _shifted_costs(undefined, y, p * factor, 0.0)
                done = {key: (costs[key][0], after) for key, (_, after, _) in scaled.items()}
                if all(after is not None for _, after in done.values()):
                    texts = []
                    for key, (before, after) in done.items():
                        assert after is not None
                        verb = "lowers" if after < before else "raises"
                        texts.append(f"{verb} {key} from {num(before)} to {num(after)}")
                    note += (
                        " Multiplying every prediction by mean(target) / mean(prediction) = "
                        f"{num(factor)} instead keeps them > 0 and " + " and ".join(texts) + "."
                    )
            mae_mean = costs["mae"][1] if "mae" in costs else None
            if (
                median_far
                and mae_mean is not None
                and mae_median_shift < (1 - BIAS_GAIN) * mae_mean
            ):
                note += (
                    f" Subtracting the median residual {num(med)} instead lowers mae from "
                    f"{num(mae0)} to {num(mae_median_shift)}."
                )
            out.notes.append(note)
        elif mean_forecast:
            named = ["mae", "mse"]
            costs = _shifted_costs([*named, *(k for k in keys if k not in named)], y, p, med)
            side_share = over_share if med > 0 else float(np.mean(r < 0))
            skew_text = ""
            if skewed and med > 0 and y_median < y_mean:
                skew_text = (
                    f"; the target is right-skewed (skewness {num(y_skew)}; median "
                    f"{num(y_median)}, mean {num(y_mean)}), so a forecast of the mean lies "
                    "above most targets"
                )
            t_text = f", {num(abs(mean_r) / se)} standard errors" if se > 0 else ""
            out.notes.append(
                f"Not a bias: the median residual is {num(med)} "
                f"({num(abs(med) / sigma)} robust SDs from 0), but the mean residual is "
                f"{num(mean_r)}{t_text}, and removing it would lower mse by only "
                f"{pct(mse_gain)}. {pct(side_share)} of the predictions are {side} their "
                f"target, yet they are right on average{skew_text}. "
                + _shift_sentences(
                    f"Subtracting the median residual from every prediction{weighted}", costs
                )
                + " The losses it lowers would rank a forecast of the median above this "
                "forecast of the mean."
            )

    out.finish = finish
    return out


def _quantile_column(out: _Findings, name: str, level: float, coverage: float, n: int) -> None:
    """A prediction column named as a quantile: the pinball loss at that level leads."""
    qkey = f"quantile:alpha={spec_number(level)}"
    covered = (
        f"{pct(coverage)} of the targets are at or below the predictions; a calibrated "
        f"{spec_number(level)} quantile has {pct(level)} there."
    )
    tol = max(COVERAGE_MIN_GAP, COVERAGE_SE * math.sqrt(level * (1 - level) / n))
    if level == 0.5:
        mae = next(c for c in out.candidates if c.key == "mae")
        mae.priority = QUANTILE_PRIORITY
        mae.reasons.insert(
            0,
            f"The column '{name}' is named as the median: mae is minimised by the conditional "
            f"median, so it scores exactly what the column claims to be. {covered}",
        )
        out.add(
            qkey, QUANTILE_PRIORITY - 10,
            "The pinball loss at alpha=0.5 is half the mae: the same ranking of models, on "
            "the scale used for the other quantiles of a forecast.",
        )  # fmt: skip
        out.monotone[frozenset({"mse", "rmse", "mae", "huber", "quantile"})] = (
            "each grows with |residual|"
        )
    else:
        out.add(
            qkey, QUANTILE_PRIORITY,
            f"The column '{name}' is named as the {spec_number(level)} quantile: the pinball "
            f"loss with alpha={spec_number(level)} charges {spec_number(level)} per unit of "
            f"under-prediction and {spec_number(round(1 - level, 12))} per unit of "
            f"over-prediction, so it is minimised by the {spec_number(level)} quantile of "
            "the target and scores exactly what the column claims to be. mse, huber and mae "
            "target the mean or the median and would call a well-calibrated quantile bad. "
            + covered,
        )  # fmt: skip
    leader = "mae" if level == 0.5 else qkey
    for c in out.candidates:
        if c.key not in (leader, qkey):
            c.reasons.append(
                f"Ranked below {leader}: the column is named as the {spec_number(level)} "
                "quantile, which this loss does not target."
            )
    if abs(coverage - level) > tol:
        side = "low" if coverage < level else "high"
        out.notes.append(
            f"The '{name}' predictions are at or above {pct(coverage)} of the targets, far "
            f"from the {pct(level)} a calibrated {spec_number(level)} quantile would cover "
            f"(tolerance {pct(tol)}): they are too {side} for that level."
        )


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
    brier_values = (p - y) ** 2
    brier_total = float(brier_values.sum())
    certain_rows = ((p == 0) | (p == 1)) & wrong

    def carried(values: np.ndarray, total: float, rows: np.ndarray) -> float:
        return float(values[rows].sum()) / total if total > 0 else 0.0

    mistakes_share = carried(bce_values, bce_total, conf_rows)
    mistakes_brier = carried(brier_values, brier_total, conf_rows)
    certain_share = carried(bce_values, bce_total, certain_rows)
    certain_brier = carried(brier_values, brier_total, certain_rows)
    overconfident = observed >= MIN_CONFIDENT_MISTAKES and tail < OVERCONFIDENT_P
    fragile = certain_wrong > 0 or extreme >= EXTREME_SHARE
    majority = 0 if share < 0.5 else 1
    majority_name = "negative" if majority == 0 else "positive"
    easy = ((y >= 0.5) == bool(majority)) & (p_true >= CONFIDENT)
    easy_share = float(np.mean(easy))
    easy_bce = float(bce_values[easy].sum()) / bce_total if bce_total > 0 else 0.0

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
    out.fact(
        "confident_mistakes_bce_share", mistakes_share,
        "share of the log loss (sum) carried by the confident mistakes", "share",
    )  # fmt: skip
    out.fact(
        "confident_mistakes_brier_share", mistakes_brier,
        "share of the brier score (sum) carried by the confident mistakes", "share",
    )  # fmt: skip
    out.fact(
        "certain_mistakes_bce_share", certain_share,
        "share of the log loss (sum) carried by the wrong predictions of exactly 0 or 1", "share",
    )  # fmt: skip
    out.fact(
        "certain_mistakes_brier_share", certain_brier,
        "share of the brier score (sum) carried by those rows", "share",
    )  # fmt: skip
    out.fact(
        "easy_majority_share", easy_share,
        "share of rows of the majority class predicted right with >= 90%", "share",
    )  # fmt: skip
    out.fact(
        "easy_majority_bce_share", easy_bce,
        "share of the log loss (sum) those rows carry", "share",
    )  # fmt: skip

    gap = mean_p - share
    if _calibrated(mean_p, share, p):
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
            f"carry {pct(certain_share)} of the log loss."
        )
        brier_text = f"those rows carry {pct(certain_brier)} of it."
    elif fragile and not overconfident:
        over_text = (
            f"{pct(extreme)} of the predictions are exactly 0 or 1 (vote shares, or clipped "
            "outputs): none is wrong here, but a single future mistake among them costs bce "
            "-log(2.2e-16) = 36 (infinite without the clip), so the log loss of such a model "
            "is fragile."
        )
        brier_text = "one such mistake would cost it at most 1."
    else:
        over_text = (
            f"{observed} rows give >= 90% to the wrong class where calibrated probabilities "
            f"would make about {num(expected)} such mistakes (chance {num(tail)}): the model "
            f"is over-confident, and those rows carry {pct(mistakes_share)} of the log loss."
        )
        brier_text = f"those rows carry {pct(mistakes_brier)} of it."
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
            f"36) and is also proper: {brier_text}",
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
            f"{imbalance_text}; {pct(easy_share)} of the rows are {majority_name} rows "
            "predicted right with >= 90%, and their many small losses make up "
            f"{pct(easy_bce)} of the bce sum.",
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
    mean_sigmoid = float(np.mean(sigmoid(f)))
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
            if _calibrated(mean_sigmoid, share, sigmoid(f))
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


def _calibrated(mean_p: float, base_rate: float, probs: np.ndarray) -> bool:
    """Mean predicted probability close to the base rate, in both senses:

    - within ``CALIBRATION_SE`` (3) standard errors of what calibrated probabilities
      give (the base rate's SD under calibration is sqrt(sum p(1-p)) / n), so a gap
      the data shows clearly is never called calibrated; and
    - within 10% of the minority share (at least 0.005): relative, because a mean of
      0.017 against a base rate of 0.010 is a large miss for a rare event even though
      the absolute gap is below one point.
    """
    n = probs.shape[0]
    se = math.sqrt(float(np.sum(probs * (1 - probs)))) / n if n else 0.0
    practical = max(0.005, 0.1 * min(base_rate, 1 - base_rate))
    return abs(mean_p - base_rate) <= min(CALIBRATION_SE * se, practical)


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
    # What the confident mistakes carry of cross-entropy and brier (unweighted sums).
    target = y if y.ndim == 2 else np.eye(k_cls)[labels]
    eps = float(np.finfo(np.float64).eps)
    ce_values = -(target * np.log(np.clip(probs, eps, 1.0))).sum(axis=1)
    brier_values = ((probs - target) ** 2).sum(axis=1)
    conf_rows = (conf >= CONFIDENT) & wrong
    ce_total, brier_total = float(ce_values.sum()), float(brier_values.sum())
    ce_share = float(ce_values[conf_rows].sum()) / ce_total if ce_total > 0 else 0.0
    brier_share = float(brier_values[conf_rows].sum()) / brier_total if brier_total > 0 else 0.0

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
    out.fact(
        "confident_mistakes_ce_share", ce_share,
        "share of the cross-entropy (sum) carried by the confident mistakes", "share",
    )  # fmt: skip
    out.fact(
        "confident_mistakes_brier_share", brier_share,
        "share of the brier score (sum) carried by the confident mistakes", "share",
    )  # fmt: skip

    gap = mean_conf - accuracy
    # Calibrated: the accuracy's SD under calibration is sqrt(sum conf(1 - conf)) / n.
    conf_se = math.sqrt(float(np.sum(conf * (1 - conf)))) / n
    calib = f"Mean confidence {num(mean_conf)} vs accuracy {num(accuracy)}: " + (
        "calibrated on average."
        if abs(gap) < 0.02 and abs(gap) <= CALIBRATION_SE * conf_se
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
            f"is over-confident, and those rows carry {pct(ce_share)} of the cross-entropy.",
            "brier (the squared error of the probability vector) is bounded at 2 per row and "
            f"proper: the same rows carry {pct(brier_share)} of it.",
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
    if found.finish is not None:
        found.finish([loss.key for loss in losses])
    try:
        values = per_sample_losses(losses, sample.y_true, sample.y_pred)
    except DomainError as exc:
        from lossctl.engines.base import column_of

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
