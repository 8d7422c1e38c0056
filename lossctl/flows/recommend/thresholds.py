"""The thresholds of the recommend rules, which :mod:`lossctl.flows.recommend` documents."""

from __future__ import annotations

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
#: Priority of mase and rmsse on a forecast panel (--series): above every regression
#: loss but a quantile column's own loss.
PANEL_PRIORITY = 150.0
#: Series whose mean |target| differs more than this: a plain loss across them is
#: mostly the largest series' (the same ratio as for K regression outputs).
SERIES_SCALE_RATIO = 10.0
#: The bins of the calibration check (ece's default).
ECE_BINS = 15
#: Miscalibrated: ECE more than this many SDs above what calibrated probabilities give
#: by chance (the same 3 as the other calibration checks) ...
ECE_SE = 3.0
#: ... at least this share of sqrt(brier), which bounds it (ECE <= RMSCE <= sqrt(brier)) ...
ECE_SHARE = 0.1
#: ... and at least this much (one percentage point) on its own.
ECE_MIN = 0.01
#: Priority of ece, a diagnostic: below the proper scores it is read beside.
ECE_PRIORITY = 60.0
