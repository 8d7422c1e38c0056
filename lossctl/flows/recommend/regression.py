"""The regression rules: what the residuals show, and the losses that fit them, with reasons."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from lossctl.flows.recommend.facts import _tails
from lossctl.flows.recommend.findings import _Findings
from lossctl.flows.recommend.prose import num, pct, spec_number
from lossctl.flows.recommend.residuals import _residual_facts, _Residuals
from lossctl.flows.recommend.sample import Sample
from lossctl.flows.recommend.shifts import _bias_note, _mean_forecast_note
from lossctl.flows.recommend.thresholds import (
    BIAS_GAIN,
    BIAS_SE,
    COUNT_PRIORITY,
    COVERAGE_MIN_GAP,
    COVERAGE_SE,
    GAUSSIAN_BEYOND_3,
    HEAVY_KURTOSIS,
    MEDIAN_SDS,
    MIN_OUTLIERS,
    MULTIPLICATIVE_CORR,
    OUTLIER_SHARE,
    QUANTILE_PRIORITY,
    RESIDUAL_SKEW,
    SKEW,
    TWEEDIE_POWER,
    VARIANCE_BINS,
    VARIANCE_GROWS,
    ZERO_SHARE,
)


def _regression(sample: Sample) -> _Findings:
    """Facts about the residuals and the target, then the regression losses that fit them."""
    out = _Findings()
    m = _Residuals(sample)
    v = _decide(m)
    _residual_facts(out, m)
    _scaled_facts(out, v)
    _absolute_losses(out, m, v)
    deviance_key = _deviance(out, m, v)
    _msle(out, m, v, deviance_key)
    if v.multiplicative:
        _percentage(out, m)
    if m.level is not None:
        _quantile_column(out, m.pred_name, m.level, m.coverage, m.n)

    def finish(keys: Sequence[str]) -> None:
        """Notes on a constant shift, checked on the losses actually recommended."""
        # mse decides the bias and mae the median shift: always state them.
        if v.biased:
            out.notes.append(_bias_note(m, keys, v.median_far))
        elif v.mean_forecast:
            out.notes.append(_mean_forecast_note(m, keys, v.skewed))

    out.finish = finish
    return out


# -- the findings -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Verdict:
    """What the rules find in the measurements (the module docstring states them)."""

    #: Gross errors (many rows beyond 3 robust SDs) and heavy tails (excess kurtosis).
    gross: bool
    heavy: bool
    #: Gross errors or heavy tails that the variance growth does not explain: huber leads.
    robust: bool
    #: The absolute errors grow with the target.
    multiplicative: bool
    #: A non-negative, right-skewed target.
    skewed: bool
    #: The squared errors grow with the prediction.
    growing: bool
    #: The residuals scaled by prediction^half, when growing: their tails (else NaN).
    half: float
    z_share: float
    z_kurt: float
    #: The tails of the residuals are the variance growth, not gross errors.
    explained: bool
    #: The mean residual is a bias worth a note.
    biased: bool
    #: The median residual is far from 0.
    median_far: bool
    #: Right on average but not in the median: a forecast of the mean of skewed errors.
    mean_forecast: bool


def _decide(m: _Residuals) -> _Verdict:
    """Apply the regression rules to the measurements."""
    gross = m.out_share > OUTLIER_SHARE and m.n_out >= MIN_OUTLIERS
    heavy = math.isfinite(m.kurt) and m.kurt > HEAVY_KURTOSIS
    robust = gross or heavy
    multiplicative = m.y_min >= 0 and math.isfinite(m.corr) and m.corr >= MULTIPLICATIVE_CORR
    skewed = m.y_min >= 0 and m.y_max > 0 and math.isfinite(m.y_skew) and m.y_skew > SKEW
    growing = math.isfinite(m.power) and m.power >= VARIANCE_GROWS and m.high_sq > m.low_sq
    # When the variance grows with the prediction, large residuals where the predictions
    # are large are expected: scaled by prediction^(power / 2) they may have no tails.
    half = min(max(m.power, 0.0), 2.0) / 2 if growing else math.nan
    z_share, z_count, z_kurt = _tails(m.r / m.p**half) if growing else (math.nan, 0, math.nan)
    scaled_tails = (z_share > OUTLIER_SHARE and z_count >= MIN_OUTLIERS) or (
        math.isfinite(z_kurt) and z_kurt > HEAVY_KURTOSIS
    )
    explained = robust and growing and math.isfinite(z_share) and not scaled_tails
    # Bias is the mean residual: claimed only when it is clearly not noise and removing
    # it lowers mse by at least BIAS_GAIN. A quantile forecast is meant to be off-centre.
    biased = (
        m.level is None
        and m.mean_r != 0
        and (m.se == 0 or abs(m.mean_r) >= BIAS_SE * m.se)
        and m.mse_gain >= BIAS_GAIN
    )
    median_far = m.level is None and m.sigma > 0 and abs(m.med) > MEDIAN_SDS * m.sigma
    # The mean is right but the median is not: a forecast of the mean of skewed errors.
    # The median-seeking losses (mae, huber) would prefer it shifted; mse would not.
    mean_forecast = (
        median_far and not biased and m.mae_median_shift < m.mae0 and m.mse_median_shift > m.mse0
    )
    return _Verdict(
        gross=gross,
        heavy=heavy,
        robust=robust and not explained,
        multiplicative=multiplicative,
        skewed=skewed,
        growing=growing,
        half=half,
        z_share=z_share,
        z_kurt=z_kurt,
        explained=explained,
        biased=biased,
        median_far=median_far,
        mean_forecast=mean_forecast,
    )


def _scaled_facts(out: _Findings, v: _Verdict) -> None:
    """The tails of the residuals scaled by the variance growth (measured when it grows)."""
    out.fact(
        "scaled_outlier_share", v.z_share,
        "share of residual / prediction^(variance_power / 2) beyond 3 robust SDs from their "
        "median (measured when the variance grows with the prediction)", "share",
    )  # fmt: skip
    out.fact(
        "scaled_excess_kurtosis", v.z_kurt,
        "excess kurtosis of residual / prediction^(variance_power / 2)",
    )  # fmt: skip


# -- the words shared by several reasons ------------------------------------------------------


def _evidence(m: _Residuals, v: _Verdict) -> str:
    """The shape of the residuals in words: the first reason of the first absolute loss."""
    tails = _tails_text(m)
    tails_first = f"{tails[0].upper()}{tails[1:]}"
    kurt = m.kurt
    kurt_text = f"their excess kurtosis is {num(kurt)} (Gaussian: 0)" if math.isfinite(kurt) else ""
    many = "a few gross errors" if m.out_share <= 5 * OUTLIER_SHARE else "many large errors"
    if m.sigma == 0:
        evidence = (
            "Every residual is the same (here "
            f"{num(m.med)}): there are no tails or outliers to measure, so mse, the default, "
            "will do; the ranking matters once the errors vary."
        )
    elif v.gross and v.heavy:
        evidence = f"{tails_first}, and {kurt_text}: {many}."
    elif v.gross:
        evidence = f"{tails_first}: {many}."
    elif v.heavy:
        evidence = f"The residuals have heavy tails: {kurt_text}, so large errors are common."
    elif math.isfinite(kurt) and kurt < -HEAVY_KURTOSIS:
        evidence = (
            f"The residuals have light tails, lighter than Gaussian noise: {tails}, and "
            f"{kurt_text}."
        )
    elif math.isfinite(m.r_skew) and abs(m.r_skew) > RESIDUAL_SKEW:
        evidence = (
            f"The residuals have no heavy tails but are skewed (skewness {num(m.r_skew)}; "
            f"Gaussian: 0): {tails}" + (f", and {kurt_text}." if kurt_text else ".")
        )
    else:
        evidence = f"The residuals look Gaussian: {tails}" + (
            f", and {kurt_text}." if kurt_text else "."
        )
    if v.explained:
        evidence = (
            tails_first + (f", and {kurt_text}" if kurt_text else "")
            + f"; but scaled by prediction^{num(v.half)} (the measured growth of the variance) "
            f"{pct(v.z_share)} of them lie beyond 3 robust SDs and their excess kurtosis is "
            f"{num(v.z_kurt)}: the large residuals are where the predictions are large, as the "
            "variance growth implies, not gross errors."
        )  # fmt: skip
    if v.robust and v.multiplicative and math.isfinite(m.rel_kurt) and m.rel_kurt < kurt:
        evidence += (
            " Part of this is the errors growing with the target: relative to the prediction "
            f"(residual / prediction) their excess kurtosis is {num(m.rel_kurt)}."
        )
    return evidence


def _tails_text(m: _Residuals) -> str:
    """How many residuals lie beyond 3 robust SDs, against Gaussian noise."""
    if m.n_out:
        return (
            f"{pct(m.out_share)} of the residuals ({m.n_out} rows) lie beyond 3 robust SDs from "
            f"the median, where Gaussian noise would put {pct(GAUSSIAN_BEYOND_3)}"
        )
    return (
        "no residual lies beyond 3 robust SDs from the median (Gaussian noise would put "
        f"{pct(GAUSSIAN_BEYOND_3)} there)"
    )


def _grow_text(m: _Residuals) -> str:
    """The absolute errors grow with the target, with the rank correlation."""
    return (
        f"the absolute errors grow with the target (rank correlation of |residual| with the "
        f"target: {num(m.corr)})"
    )


def _growth_text(m: _Residuals) -> str:
    """The squared errors grow with the prediction, with the numbers of both ends."""
    return (
        f"the squared errors grow with the prediction: the mean squared residual is "
        f"{num(m.low_sq)} in the {pct(1 / VARIANCE_BINS)} of rows with the lowest predictions "
        f"(mean {num(m.low_p)}) and {num(m.high_sq)} in the {pct(1 / VARIANCE_BINS)} with the "
        f"highest (mean {num(m.high_p)}), about prediction^{num(m.power)} (constant noise: ^0, "
        "Poisson: ^1, Gamma: ^2)"
    )


# -- mse, huber and mae -----------------------------------------------------------------------


@dataclass
class _Absolute:
    """The priorities of mse, huber and mae, and the reasons a mean forecast adds."""

    mse: float
    huber: float
    mae: float
    mse_reasons: list[str] = field(default_factory=list)
    huber_extra: str = ""
    mae_extra: str = ""


def _absolute_losses(out: _Findings, m: _Residuals, v: _Verdict) -> None:
    """mse, huber and mae, ordered by the tails; demoted when the errors are multiplicative."""
    a = _absolute_order(m, v)
    demote = 40.0 if v.multiplicative else 0.0
    if v.robust:
        _robust_first(out, m, v, a, demote)
    else:
        _mse_first(out, m, v, a, demote)
    if v.multiplicative:
        for c in out.candidates:
            c.reasons.append(
                f"Demoted: the errors grow with the target (rank correlation {num(m.corr)}), so "
                "this absolute loss weighs the rows with the largest targets most."
            )
    out.monotone[frozenset({"mse", "rmse", "mae", "huber"})] = "each grows with |residual|"


def _absolute_order(m: _Residuals, v: _Verdict) -> _Absolute:
    """huber first for tails, else mse; a mean forecast demotes the median-seeking losses."""
    if v.robust:
        a = _Absolute(huber=110.0, mae=100.0, mse=60.0)
    else:
        a = _Absolute(mse=100.0, huber=90.0, mae=50.0)
    if v.mean_forecast:
        side = "above" if m.med > 0 else "below"
        a.mse = max(a.mse, 75.0)
        a.mae -= 45
        a.mse_reasons.append(
            f"mse is minimised by the conditional mean, and these predictions are right on "
            f"average (mean residual {num(m.mean_r)}) though {side} most targets (median "
            f"residual {num(m.med)})."
        )
        a.mae_extra = _median_demotion(m, "mae", "the median", m.mae0, m.mae_median_shift)
        if m.huber_median_shift < m.huber0:
            a.huber -= 45
            a.huber_extra = _median_demotion(
                m, "huber", "a centre between the median and the mean", m.huber0,
                m.huber_median_shift,
            )  # fmt: skip
    return a


def _median_demotion(m: _Residuals, name: str, target: str, before: float, after: float) -> str:
    """Why a median-seeking loss is demoted below mse for a forecast of the mean."""
    direction = "lower" if m.med > 0 else "higher"
    return (
        f"Demoted: this model forecasts the mean (mean residual {num(m.mean_r)}), while "
        f"{name} is minimised by {target}. Subtracting the median residual {num(m.med)} "
        f"from every prediction would lower {name} from {num(before)} to {num(after)} "
        f"but raise mse from {num(m.mse0)} to {num(m.mse_median_shift)}{m.weighted}: "
        f"{name} prefers a model that predicts {direction} than the mean."
    )


def _huber(m: _Residuals) -> tuple[str, str]:
    """huber's key, and why its delta."""
    delta = spec_number(m.delta)
    if m.sigma > 0:
        scale = f"{num(m.sigma)}, from {m.sigma_source}, which outliers barely move"
        why = f"delta = {delta} is 1.345 × the robust SD of the residuals ({scale})"
    else:
        why = f"delta = {delta}, the default: the residuals have no spread"
    return f"huber:delta={delta}", why


def _robust_first(out: _Findings, m: _Residuals, v: _Verdict, a: _Absolute, demote: float) -> None:
    """Gross errors or heavy tails: huber, mae, then mse as a reference."""
    huber_key, delta_text = _huber(m)
    mostly = ", so it mostly measures them." if m.mse_top >= 0.5 else "."
    out.add(
        huber_key, a.huber - demote,
        _evidence(m, v),
        "Huber squares residuals up to delta and counts larger ones linearly, so those "
        f"rows cannot take over the cost. {delta_text}: the classic choice, 95% as "
        "efficient as mse if the noise were Gaussian.",
        a.huber_extra,
    )  # fmt: skip
    out.add(
        "mae", a.mae - demote,
        "Every unit of error costs the same, so no residual can dominate; it targets "
        "the conditional median, which a few outliers barely move. Simpler than huber "
        "(no delta), but its gradient never shrinks, so training settles less smoothly.",
        a.mae_extra,
    )  # fmt: skip
    out.add(
        "mse", a.mse - demote,
        *a.mse_reasons,
        f"Kept as a reference: squaring lets the largest residuals dominate; here the "
        f"worst {m.k} rows carry {pct(m.mse_top)} of the mse (Gaussian noise: about "
        f"{pct(m.gauss_top)}){mostly}",
    )  # fmt: skip


def _mse_first(out: _Findings, m: _Residuals, v: _Verdict, a: _Absolute, demote: float) -> None:
    """No gross errors or heavy tails: mse, huber as a safety net, mae."""
    huber_key, delta_text = _huber(m)
    out.add(
        "mse", a.mse - demote,
        _evidence(m, v),
        *a.mse_reasons,
        "For Gaussian noise mse is the maximum-likelihood loss: it targets the conditional "
        "mean and uses every residual fully. rmse ranks models the same way, in the "
        "target's units.",
    )  # fmt: skip
    out.add(
        huber_key, a.huber - demote,
        f"A safety net: {delta_text}. Below delta huber is mse / 2, and {pct(m.within)} of "
        "the residuals here are within delta; a future batch of outliers could not "
        "dominate it.",
        a.huber_extra,
    )  # fmt: skip
    out.add(
        "mae", a.mae - demote,
        f"The typical error in the target's units (median |residual| {num(m.med_abs)}); it "
        "targets the median. With Gaussian residuals it is less efficient than mse: "
        "prefer it when an error's cost grows linearly with its size.",
        a.mae_extra,
    )  # fmt: skip


# -- relative losses: the target's shape and how the errors scale ------------------------------


def _shape_text(m: _Residuals) -> str:
    """The target is non-negative and right-skewed, with its skewness and range."""
    return (
        f"The target is non-negative and right-skewed (skewness {num(m.y_skew)}, "
        f"from {num(m.y_min)} to {num(m.y_max)})"
    )


def _level_text(m: _Residuals, v: _Verdict) -> str:
    """How the errors scale with the level, ending the sentence on the target's shape."""
    if v.multiplicative:
        return f", and {_grow_text(m)}."
    if v.growing:
        return f", and {_growth_text(m)}."
    growth = (
        f"; power of the squared errors on the prediction: {num(m.power)}"
        if (math.isfinite(m.power))
        else ""
    )
    return (
        f". The errors do not grow with the level (rank correlation of |residual| with "
        f"the target {num(m.corr)}{growth}), so it is not ranked first unless relative "
        "error is what matters to you."
    )


def _deviance(out: _Findings, m: _Residuals, v: _Verdict) -> str:
    """The deviance that fits a skewed non-negative target; its key ("" when none)."""
    if not v.skewed:
        return ""
    lead = v.multiplicative or v.growing
    shape, level_text = _shape_text(m), _level_text(m, v)
    tweedie = f"tweedie_deviance:power={spec_number(TWEEDIE_POWER)}"
    if m.p_min <= 0:
        out.notes.append(
            f"The target is non-negative and skewed, but some predictions are <= 0 "
            f"(min {num(m.p_min)}), so the Poisson, Gamma and Tweedie deviances cannot be "
            "computed; a model with a log link (exp output) predicts positive values."
        )
        return ""
    if m.integers:
        _poisson(out, m, v)
        return "poisson_deviance"
    if m.zero_share >= ZERO_SHARE:
        out.add(
            tweedie, COUNT_PRIORITY if lead else 70.0,
            f"{shape}; {pct(m.zero_share)} of the targets are exactly 0 and the rest are "
            f"positive amounts{level_text}",
            "A spike at zero plus a skewed positive part (claims, rainfall, sales) is "
            "what the Tweedie deviance with power between 1 and 2 models: a compound "
            f"Poisson-Gamma. power={spec_number(TWEEDIE_POWER)} is the usual start "
            "(tune it between 1.1 and 1.9); it needs predictions > 0 (they are).",
        )  # fmt: skip
        return tweedie
    if m.y_min > 0:
        out.add(
            "gamma_deviance", COUNT_PRIORITY if lead else 70.0,
            f"{shape}, strictly positive and continuous{level_text}",
            "The Gamma deviance depends only on the ratio prediction / target, so a "
            "10% miss costs the same at 10 as at 1000: the natural loss when the noise "
            "is multiplicative. It needs targets and predictions > 0 (they are).",
        )  # fmt: skip
        return "gamma_deviance"
    out.add(
        tweedie, COUNT_PRIORITY if lead else 70.0,
        f"{shape} with a few exact zeros ({pct(m.zero_share)}), so the Gamma deviance "
        f"(targets > 0) does not apply{level_text}",
        f"The Tweedie deviance with power={spec_number(TWEEDIE_POWER)} accepts zero "
        "targets and treats errors relatively, like the Gamma deviance does.",
    )  # fmt: skip
    return tweedie


def _poisson(out: _Findings, m: _Residuals, v: _Verdict) -> None:
    """Skewed counts: the Poisson deviance, ranked first."""
    if v.multiplicative or v.growing:
        count_text = f", and {_growth_text(m) if v.growing else _grow_text(m)}."
    elif math.isfinite(m.power):
        count_text = (
            f". The squared errors do not grow with the prediction here (about "
            f"prediction^{num(m.power)}), as they would for Poisson noise."
        )
    else:
        count_text = "."
    median_text = (
        f"; this target's median ({num(m.y_median)}) is below its mean ({num(m.y_mean)})"
        if m.y_median < m.y_mean
        else ""
    )
    out.add(
        "poisson_deviance", COUNT_PRIORITY,
        f"{_shape_text(m)}, and every target is a whole number ({pct(m.zero_share)} zeros): "
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


def _msle(out: _Findings, m: _Residuals, v: _Verdict, deviance_key: str) -> None:
    """msle, the simple relative loss, for a skewed target or multiplicative errors."""
    if not ((v.skewed or v.multiplicative) and m.y_min > -1 and m.p_min > -1):
        return
    if deviance_key:
        evidence_msle = f"A simpler relative loss than {deviance_key}, on the same evidence."
    elif v.skewed:
        evidence_msle = f"{_shape_text(m)}{_level_text(m, v)}"
    else:
        evidence_msle = f"The target is non-negative and {_grow_text(m)}."
    out.add(
        "msle", 115.0 if v.multiplicative else 65.0,
        evidence_msle,
        "msle squares the difference of log(1 + value), so it counts errors relative to "
        "the size of the target and the largest targets do not dominate; it accepts "
        "zeros, and under-predictions cost a little more than over-predictions.",
    )  # fmt: skip


def _percentage(out: _Findings, m: _Residuals) -> None:
    """Multiplicative errors: a percentage loss, smape when some targets are tiny."""
    typical = (
        f"The typical error is {pct(m.rel)} of the target and {_grow_text(m)}: a percentage "
        "is the natural unit."
    )
    if m.small.any():
        out.add(
            "smape", 95,
            typical,
            f"Warning: {pct(m.small_share)} of the targets ({int(m.small.sum())} rows) are "
            f"smaller than the typical error ({num(m.med_abs)}); there mape's |residual| / "
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


# -- a quantile column ------------------------------------------------------------------------


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
