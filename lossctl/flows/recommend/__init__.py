"""``lossctl recommend``: which losses fit this file, and why (no printing here).

The command reads a prediction file once, *measures* a few facts about the data
and the errors, turns the facts into a ranked list of losses with reasons in
plain words, computes those losses side by side and says where they disagree
about which rows are worst. Everything a reason claims is a number in
:attr:`RecommendReport.facts`, so a reader can check it.

Facts describe the rows as they are in the file: sample weights enter the
costs, not the facts (a weighted kurtosis would answer another question).

Decision rules (the thresholds are constants of :mod:`.thresholds`):

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

Calibration (binary and multiclass probabilities, :mod:`.calibration`): ECE with
``ECE_BINS`` (15) bins, as ``lossctl eval -l ece``; ``ece`` is added as a diagnostic
(``ECE_PRIORITY``, after the proper scores: ECE is not proper) when it is more than
``ECE_SE`` (3) SDs above the ECE calibrated probabilities would show by chance, at
least ``ECE_SHARE`` (10%) of sqrt(brier) (which bounds it) and at least ``ECE_MIN``
(0.01).

Forecast panels (``--series``, :mod:`.panel`): ``mase`` and ``rmsse`` rank first
(``PANEL_PRIORITY``), ``rmsse`` ahead when the series are intermittent (targets >= 0,
at least ``ZERO_SHARE`` (5%) exactly 0), with the ratio of the series' scales (mean
|y|) and the series that carry most of the pooled error. Their costs need the
history (``--train``): without it the cost is NaN (null in JSON, "-" in the table)
and a reason says so. Without ``--series``, a series-id-like column next to a time
column gets a note suggesting ``--series``.

Disagreement: for every pair of recommended losses, the overlap of their worst
rows (the top 1%, at least 5 rows) and the Spearman rank correlation of their
per-sample values; the pair with the least overlap is reported with rows one
loss ranks among its worst and the other does not. A binned loss (ece) has no
per-sample value and a scaled loss without scales none either: they are left out.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from lossctl.core.accumulate import Evaluation, per_sample_losses
from lossctl.errors import DomainError, InputError
from lossctl.flows.recommend.binary import _binary
from lossctl.flows.recommend.disagreement import _disagreement
from lossctl.flows.recommend.layouts import layout_findings
from lossctl.flows.recommend.multiclass import _multiclass
from lossctl.flows.recommend.panel import panel_findings, series_hint_note
from lossctl.flows.recommend.regression import _regression
from lossctl.flows.recommend.sample import Sample, read_sample
from lossctl.flows.recommend.thresholds import FEW_ROWS, MAX_RECOMMENDATIONS
from lossctl.losses import BoundLoss, Registry, builtin_registry
from lossctl.report import Recommendation, RecommendReport

if TYPE_CHECKING:
    from lossctl.options import EvalOptions


def recommend(sample: Sample, registry: Registry | None = None) -> RecommendReport:
    """Measure the facts of ``sample``, rank the losses that fit, compute them and compare.

    Domain errors of a recommended loss (a probability of 1.3) are input errors
    naming the column and rows, exactly as in ``lossctl eval``.
    """
    reg = registry or builtin_registry()
    if sample.kind in ("quantiles", "gaussian", "ensemble") or sample.outputs:
        found = layout_findings(sample)
    elif sample.task == "regression":
        found = _regression(sample)
    elif sample.task == "binary":
        found = _binary(sample)
    else:
        found = _multiclass(sample)
    if sample.panel is not None:
        panel_findings(found, sample)
    elif sample.series_hint is not None:
        found.notes.append(series_hint_note(sample.series_hint))
    ranked = sorted(found.candidates, key=lambda c: -c.priority)[:MAX_RECOMMENDATIONS]
    losses: list[BoundLoss] = [
        reg.loss(c.key, sample.task, kind=sample.kind, levels=sample.levels, outputs=sample.outputs)
        for c in ranked
    ]
    if found.finish is not None:
        # The shift notes pool every row: a scaled loss (mase) is a mean over series.
        found.finish([loss.key for loss in losses if loss.spec.scaled is None])
    panel = sample.panel
    scales = None if panel is None else panel.scales
    # A scaled loss without the history's scales has no cost (NaN: null in JSON); its
    # reasons say what to pass.
    computed = [loss for loss in losses if loss.spec.scaled is None or scales is not None]
    try:
        values = per_sample_losses(computed, sample.y_true, sample.y_pred, scales)
    except DomainError as exc:
        from lossctl.engines.base import column_of

        column = column_of(exc.role, sample.columns)
        raise InputError(
            exc.describe(column=column, source=sample.source, row_numbers=sample.rows.tolist())
        ) from None
    evaluation = Evaluation(computed)
    series = None if panel is None else (panel.codes, list(panel.labels))
    evaluation.add(values, sample.weight, series=series)
    stats = evaluation.loss_stats()
    recs = tuple(
        Recommendation(
            rank=i + 1,
            key=loss.key,
            name=loss.name,
            params=dict(loss.params),
            cost=stats[loss.key].cost if loss.key in stats else math.nan,
            reasons=tuple(c.reasons),
        )
        for i, (c, loss) in enumerate(zip(ranked, losses, strict=True))
    )
    names = {loss.key: loss.name for loss in losses}
    # A binned loss (ece) has no per-sample values to compare rows by.
    per_row = [loss.key for loss in computed if not loss.spec.binned]
    disagreement = _disagreement(per_row, values, sample.rows, sample.weight, found.monotone, names)
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


__all__ = ["Sample", "read_sample", "recommend", "run_recommend"]
