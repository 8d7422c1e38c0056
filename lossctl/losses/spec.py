"""The data that describes a loss: :class:`Param`, :class:`Domain`, :class:`LossSpec`.

A loss is a pure numpy function ``fn(y_true, y_pred, **params) -> ndarray (n,)`` plus
one :class:`LossSpec`. Validation of parameters, domain checks on the data, help
text and ``explain`` all come from the spec, so adding a loss is one function and
one spec entry.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from lossctl._lazy import lazy

if TYPE_CHECKING:
    import numpy as np
else:
    np = lazy("numpy")  # imported when a loss first computes

from lossctl.errors import (
    DomainError,
    InputError,
    InternalError,
    Interrupted,
    LossctlError,
    PluginError,
    UsageError,
)

TASKS: tuple[str, ...] = ("regression", "binary", "multiclass", "multilabel")
#: Separates a loss key from an output's index in the keys of per-output accumulators.
OUTPUT_SEP = "\x1f"
#: Ends the key of a ratio loss's denominator accumulator (wape's sum of |y|).
DENOMINATOR = "\x1e"
#: Keys of a binned loss's per-row confidence and accuracy (they feed its bins).
CONFIDENCE_KEY = OUTPUT_SEP + "conf"
ACCURACY_KEY = OUTPUT_SEP + "acc"
#: What a scaled forecast error divides by: the mean |seasonal difference| of the
#: history (abs) or the mean squared one (squared).
SCALES: tuple[str, ...] = ("abs", "squared")
#: The norms of binned calibration errors.
CALIBRATION_NORMS: tuple[str, ...] = ("l1", "max", "l2")
#: Tasks of K paired target and prediction columns, scored output by output.
OUTPUT_TASKS: dict[str, str] = {"regression": "multi-output", "multilabel": "multilabel"}
PREDICTION_KINDS: tuple[str, ...] = (
    "value", "probability", "logit", "score", "quantiles", "gaussian", "ensemble",
)  # fmt: skip
#: Kinds whose prediction is a distribution in several columns: y_pred is (n, K) for
#: quantiles (one column per level) and ensembles (one per member), (n, 2) for gaussian
#: (mean and variance).
DISTRIBUTION_KINDS: tuple[str, ...] = ("quantiles", "gaussian", "ensemble")
FINALIZERS: dict[str, Callable[[float], float]] = {"sqrt": math.sqrt}
#: float64 machine epsilon (2.22e-16), the clip value scikit-learn uses.
MACHINE_EPS: float = sys.float_info.epsilon
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
#: How many offending row numbers a domain error shows.
SHOW_ROWS = 5

Closed = Literal["both", "left", "right", "neither"]
#: A bound parameter value: a number, a choice (``estimator=fair``), or None (unset).
ParamValue = float | str | None
LossFn = Callable[..., "np.ndarray"]


def _fmt(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class Param:
    """A numeric setting of a loss, with its default and valid range.

    ``closed`` says which ends of ``[low, high]`` are allowed. A ``default`` of
    ``None`` means the setting is off unless given (e.g. focal's ``alpha``);
    ``none`` or ``off`` on the command line turns such a setting off again.
    """

    name: str
    default: float | str | None
    low: float | None = None
    high: float | None = None
    closed: Closed = "both"
    help: str = ""
    #: A setting that is one of these words (``estimator``: standard or fair), not a number.
    choices: tuple[str, ...] = ()

    def range_text(self) -> str:
        """The valid range in words: ``> 0``, ``in [0, 1)``, ``any real number``."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        lo_ok = self.closed in ("both", "left")
        hi_ok = self.closed in ("both", "right")
        if self.low is not None and self.high is not None:
            left, right = "[" if lo_ok else "(", "]" if hi_ok else ")"
            return f"in {left}{_fmt(self.low)}, {_fmt(self.high)}{right}"
        if self.low is not None:
            return f"{'>=' if lo_ok else '>'} {_fmt(self.low)}"
        if self.high is not None:
            return f"{'<=' if hi_ok else '<'} {_fmt(self.high)}"
        return "any real number"

    def validate(self, value: Any, loss: str) -> ParamValue:
        """Parse and range-check a value; a :class:`UsageError` names the valid range."""
        if self.choices:
            word = str(value).strip().lower()
            if word not in self.choices:
                raise UsageError(
                    f"loss '{loss}': parameter '{self.name}' must be {self.range_text()}, "
                    f"got {value!r}."
                )
            return word
        if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "off")):
            if self.default is None:
                return None
            raise UsageError(
                f"loss '{loss}': parameter '{self.name}' needs a number {self.range_text()}."
            )
        if isinstance(value, bool):
            raise UsageError(
                f"loss '{loss}': parameter '{self.name}' must be a number, got {value!r}."
            )
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise UsageError(
                f"loss '{loss}': parameter '{self.name}' must be a number {self.range_text()}, "
                f"got {value!r}."
            ) from None
        lo_ok = self.closed in ("both", "left")
        hi_ok = self.closed in ("both", "right")
        bad = not math.isfinite(x)
        if self.low is not None:
            bad |= x < self.low or (x == self.low and not lo_ok)
        if self.high is not None:
            bad |= x > self.high or (x == self.high and not hi_ok)
        if bad:
            raise UsageError(
                f"loss '{loss}': parameter '{self.name}' must be {self.range_text()}, got {value}."
            )
        return x

    def default_text(self) -> str:
        if self.default is None:
            return "unset"
        return self.default if isinstance(self.default, str) else f"{self.default:.3g}"


@dataclass(frozen=True)
class Domain:
    """Valid values of one input of a loss: an interval, optionally a finite set.

    ``text`` is how the values are described in errors ("> -1", "0 or 1").
    """

    text: str = "finite"
    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    values: tuple[float, ...] | None = None
    fix: str = ""

    def ok(self, a: np.ndarray) -> np.ndarray:
        """Boolean mask (per row) of the values inside the domain; NaN and inf are outside."""
        with np.errstate(invalid="ignore"):
            good = np.isfinite(a)
            if self.values is not None:
                good &= np.isin(a, np.asarray(self.values, dtype=np.float64))
            if self.low > -math.inf:
                good &= (a > self.low) if self.low_open else (a >= self.low)
            if self.high < math.inf:
                good &= (a < self.high) if self.high_open else (a <= self.high)
        if good.ndim > 1:
            good = good.all(axis=tuple(range(1, good.ndim)))
        return good


FINITE = Domain()


def describe(exc: BaseException) -> str:
    """``Type: message`` of an exception, on one line."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def from_user(exc: BaseException) -> bool:
    """True when ``exc`` is the user stopping lossctl (a signal), not raised by code.

    The CLI turns signals into :class:`Interrupted`; without its handlers (the Python
    API), Ctrl-C raises a plain KeyboardInterrupt in the main thread.
    """
    if isinstance(exc, Interrupted):
        return True
    if isinstance(exc, KeyboardInterrupt):
        import signal
        import threading

        return (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        )
    return False


def read_only(a: np.ndarray) -> np.ndarray:
    """A view of ``a`` that cannot be written through (the caller's array is untouched)."""
    v = a.view()
    v.flags.writeable = False
    return v


def check_mask(
    loss: str, role: str, values: np.ndarray, good: np.ndarray, expected: str, fix: str = ""
) -> None:
    """Raise a :class:`DomainError` for the rows where ``good`` is False."""
    if good.all():
        return
    bad = np.flatnonzero(~good)
    first = values[bad[0]]
    shown = float(first) if np.ndim(first) == 0 else tuple(float(v) for v in np.ravel(first))
    raise DomainError(
        loss,
        role,
        expected,
        count=int(bad.size),
        rows=tuple(int(i) for i in bad[:SHOW_ROWS]),
        values=(shown,) if isinstance(shown, float) else (),
        fix=fix,
    )


def check_domain(loss: str, role: str, a: np.ndarray, domain: Domain) -> None:
    """Check one input against its :class:`Domain`."""
    check_mask(loss, role, a, domain.ok(a), domain.text, domain.fix)


@dataclass(frozen=True)
class LossSpec:
    """Everything lossctl knows about one loss.

    Attributes:
        name: the canonical name (lowercase, ``[a-z][a-z0-9_]*``).
        fn: ``fn(y_true, y_pred, **params) -> ndarray (n,)``, elementwise, no reduction.
        task: ``regression``, ``binary`` or ``multiclass``.
        prediction_kind: ``value``, ``probability``, ``logit`` or ``score``.
        formula: the per-sample formula in plain text.
        summary: one line for ``lossctl losses``.
        explain: what the loss measures, for ``lossctl explain``.
        reference: the libraries whose definition it matches.
        use_when: when to choose it.
        watch_out: its pitfalls (outliers, imbalance, probabilities vs logits, ...).
        see_also: related losses by name.
        aliases: other names accepted on the command line.
        params: the settings, with defaults and ranges.
        finalize: name of the step applied to the weighted mean (``"sqrt"`` for RMSE).
        robust_to_outliers: True when a single huge error cannot dominate the cost.
        y_true_domain, y_pred_domain: valid values (checked before ``fn`` runs).
        check: extra validation ``check(name, y_true, y_pred, params)`` raising DomainError.
        check_params: extra parameter validation raising UsageError.
        zero_at_perfect: ``fn(y, y) == 0`` holds (used by the registry-driven tests).
        origin: ``"builtin"`` or where a plugin loss came from.
    """

    name: str
    fn: LossFn
    task: str
    prediction_kind: str
    formula: str
    summary: str
    explain: str
    reference: str
    use_when: str = ""
    watch_out: str = ""
    see_also: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    finalize: str | None = None
    robust_to_outliers: bool = False
    y_true_domain: Domain = FINITE
    y_pred_domain: Domain = FINITE
    check: Callable[[str, np.ndarray, np.ndarray, Mapping[str, ParamValue]], None] | None = None
    check_params: Callable[[str, Mapping[str, ParamValue]], None] | None = None
    zero_at_perfect: bool = True
    #: A loss whose cost is a ratio of sums, sum(w*l) / sum(w*d) (wape: d = |y_true|):
    #: ``denominator(y_true) -> d`` per sample; None for a weighted mean.
    denominator: Callable[[np.ndarray], np.ndarray] | None = None
    #: The loss divides by the target row by row (mape): zero targets are warned about.
    divides_by_target: bool = False
    #: (fn, factor): the per-sample values are ``factor`` x those of ``fn`` without params
    #: (wis is 2 x the mean pinball), so a block that computes both computes ``fn`` once.
    multiple_of: tuple[LossFn, float] | None = None
    #: A scaled forecast error (mase): ``fn`` is the plain error, divided row by row by
    #: the series' scale of this kind (see :data:`SCALES`); the cost is the mean over
    #: series of each series' (finalized) mean.
    scaled: str | None = None
    #: A binned calibration error (ece): the norm over the confidence bins (see
    #: :data:`CALIBRATION_NORMS`); no per-sample value, the cost comes from bin sums.
    calibration: str | None = None
    origin: str = field(default="builtin", compare=False)

    def __post_init__(self) -> None:
        problems = spec_problems(self)
        if problems:
            raise PluginError(f"invalid loss spec '{self.name}': {'; '.join(problems)}.")

    @property
    def builtin(self) -> bool:
        return self.origin == "builtin"

    def run(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Call one of this spec's functions (``what``: fn, check, check_params).

        A plugin's exception (SystemExit and KeyboardInterrupt included, but not a
        signal from the user) becomes a :class:`PluginError` naming the loss and where
        it came from; its DomainErrors pass unchanged. A built-in's exception is a bug
        and propagates as it is.
        """
        if self.builtin:
            return fn(*args, **kwargs)
        try:
            return fn(*args, **kwargs)
        except DomainError:
            raise
        except LossctlError as exc:
            raise PluginError(f"loss '{self.name}' from {self.origin}: {exc}") from None
        except BaseException as exc:
            if from_user(exc):
                raise
            where = "" if what == "fn" else f" in its {what} function"
            raise PluginError(
                f"loss '{self.name}' from {self.origin} raised {describe(exc)}{where}; "
                "fix the plugin or leave the loss out."
            ) from None

    def output(self, result: object, n: int, finite_rows: np.ndarray | None) -> np.ndarray:
        """``fn``'s result as float64 (n,), checked: real numbers of that shape and, for
        a plugin, finite where the inputs are (``finite_rows``; None: every row).

        A plugin's result that is a view (of its inputs, say) is copied.
        """
        try:
            arr = np.asarray(result)
            kind = arr.dtype.kind
        except Exception:  # ragged sequences and other objects numpy cannot hold
            arr, kind = np.asarray(None), "O"
        problem = ""
        if kind not in "biuf":
            problem = f"values that are not real numbers (dtype {arr.dtype})"
        elif arr.shape != (n,):
            problem = f"shape {arr.shape}, expected ({n},): one value per row"
        if problem:
            if self.builtin:
                raise InternalError(f"built-in loss '{self.name}' returned {problem}.")
            raise PluginError(
                f"loss '{self.name}' from {self.origin} returned {problem}; fix the plugin."
            )
        if self.builtin:
            return np.asarray(arr, dtype=np.float64)
        own = arr.flags.owndata and arr.flags.writeable
        values = np.array(arr, dtype=np.float64, copy=not own or None)
        with np.errstate(all="ignore"):  # fast path: any NaN or inf makes the sum non-finite
            if np.isfinite(values.sum()):
                return values
        bad = ~np.isfinite(values)
        if finite_rows is not None:
            bad &= finite_rows
        if bad.any():
            count = int(bad.sum())
            first = float(values[np.flatnonzero(bad)[0]])
            plural = "s" if count != 1 else ""
            raise PluginError(
                f"loss '{self.name}' from {self.origin} returned {count} non-finite "
                f"value{plural} (first: {first}) for finite inputs; fix the plugin."
            )
        return values

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    @property
    def binned(self) -> bool:
        """A calibration error computed from bins, with no per-sample value."""
        return self.calibration is not None

    @property
    def cost_text(self) -> str:
        """How the per-sample values become the cost."""
        mean = "weighted mean of the per-sample values: sum(w*l) / sum(w)"
        if self.calibration is not None:
            return "from the confidence bins of all rows (no per-sample value)"
        if self.scaled is not None:
            each = "the square root of its mean" if self.finalize else "its weighted mean"
            return f"mean over series of each series' value ({each})"
        if self.denominator is not None:
            what = (self.denominator.__doc__ or "").strip().rstrip(".") or "its denominator"
            return f"a ratio of sums, sum(w*l) / sum(w*d), d = {what}"
        if self.finalize == "sqrt":
            return f"square root of the {mean}"
        return mean

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def resolve_params(self, given: Mapping[str, Any]) -> dict[str, ParamValue]:
        """Defaults overlaid with ``given``, each validated; unknown names are a UsageError."""
        known = {p.name: p for p in self.params}
        for key in given:
            if key not in known:
                valid = ", ".join(known) if known else "none"
                raise UsageError(
                    f"loss '{self.name}' has no parameter '{key}'; its parameters: {valid}."
                )
        out = {
            p.name: p.validate(given[p.name], self.name) if p.name in given else p.default
            for p in self.params
        }
        if self.check_params is not None:
            self.run("check_params", self.check_params, self.name, out)
        return out


def spec_problems(spec: LossSpec) -> list[str]:
    """What is wrong with a spec (empty when it is valid); used for plugins too."""
    problems: list[str] = []
    if not isinstance(spec.name, str) or not _NAME_RE.match(spec.name):
        problems.append("name must match [a-z][a-z0-9_]*")
    for alias in spec.aliases:
        if not isinstance(alias, str) or not _NAME_RE.match(alias):
            problems.append(f"alias {alias!r} must match [a-z][a-z0-9_]*")
    if not callable(spec.fn):
        problems.append("fn must be callable")
    if spec.task not in TASKS:
        problems.append(f"task must be one of {', '.join(TASKS)}, got {spec.task!r}")
    if spec.prediction_kind not in PREDICTION_KINDS:
        problems.append(
            f"prediction_kind must be one of {', '.join(PREDICTION_KINDS)}, "
            f"got {spec.prediction_kind!r}"
        )
    if spec.finalize is not None and spec.finalize not in FINALIZERS:
        problems.append(f"finalize must be None or one of {', '.join(FINALIZERS)}")
    if spec.scaled is not None and spec.scaled not in SCALES:
        problems.append(f"scaled must be None or one of {', '.join(SCALES)}")
    if spec.calibration is not None and spec.calibration not in CALIBRATION_NORMS:
        problems.append(f"calibration must be None or one of {', '.join(CALIBRATION_NORMS)}")
    for attr in ("formula", "summary", "explain", "reference"):
        value = getattr(spec, attr)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{attr} must be a non-empty string")
    seen: set[str] = set()
    for p in spec.params:
        if not isinstance(p, Param):
            problems.append(f"params must be Param objects, got {p!r}")
            continue
        if p.name in seen:
            problems.append(f"parameter '{p.name}' is declared twice")
        seen.add(p.name)
        if p.default is not None:
            try:
                p.validate(p.default, spec.name if isinstance(spec.name, str) else "?")
            except UsageError:
                problems.append(f"default of '{p.name}' ({p.default}) is outside {p.range_text()}")
        if not p.help:
            problems.append(f"parameter '{p.name}' needs help text")
    return problems


#: Values up to this size are summed as they are; above it, scaled by a power of two.
SCALE_ABOVE: float = 2.0**200


def power_scale(x: float) -> float:
    """1.0 for ``x`` up to :data:`SCALE_ABOVE`, else a power of two ``s`` with
    ``x / s`` in [1, 2): dividing by it is exact and keeps sums of squares finite."""
    if not x > SCALE_ABOVE or math.isinf(x):  # NaN and inf stay unscaled
        return 1.0
    return math.ldexp(1.0, math.frexp(x)[1] - 1)


def numbers(loss: str, role: str, values: object) -> np.ndarray:
    """``values`` as a float64 array; strings, objects and ragged rows are a UsageError."""
    try:
        arr = np.asarray(values)
        if arr.dtype.kind == "O":
            arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise UsageError(
            f"loss '{loss}': {role} must be numbers in a rectangular array; "
            "convert it to a numeric numpy array first."
        ) from None
    if arr.dtype.kind not in "biuf":
        first = arr.flat[0] if arr.size else None
        raise UsageError(
            f"loss '{loss}': {role} must be numbers, got dtype {arr.dtype} (first value "
            f"{first!r}); map labels to numbers first (e.g. 1 for the positive class, 0 else)."
        )
    if arr.ndim == 0:
        raise UsageError(f"loss '{loss}': {role} must be an array with one value per row.")
    return np.asarray(arr, dtype=np.float64)


def _finite_rows(a: np.ndarray) -> np.ndarray:
    good = np.isfinite(a)
    return good.all(axis=tuple(range(1, good.ndim))) if good.ndim > 1 else good


@dataclass(frozen=True)
class BoundLoss:
    """A loss with its parameters resolved: what ``-l huber:delta=2`` becomes.

    ``key`` is the spec text exactly as given (the key of the JSON output).
    """

    spec: LossSpec
    params: Mapping[str, ParamValue]
    key: str
    #: The quantile levels of the prediction columns (kind ``quantiles``), in their order.
    levels: tuple[float, ...] = ()
    #: The names of K outputs (multi-output regression) or labels (multilabel): y_true and
    #: y_pred are (n, K), the loss is applied column by column and the per-sample value is
    #: the mean over the K columns.
    outputs: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def output_keys(self) -> tuple[str, ...]:
        """The accumulator keys of the K outputs: ``KEY`` + :data:`OUTPUT_SEP` + index."""
        return tuple(f"{self.key}{OUTPUT_SEP}{j}" for j in range(len(self.outputs)))

    @property
    def accumulator_keys(self) -> tuple[str, ...]:
        """Every accumulator the loss needs: its key, its outputs', and for a ratio loss the
        denominators' (each key + :data:`DENOMINATOR`)."""
        if self.spec.binned:
            return ()
        keys = (self.key, *self.output_keys)
        if self.spec.denominator is None:
            return keys
        return (*keys, *(k + DENOMINATOR for k in keys))

    def denominators(self, y_true: np.ndarray) -> np.ndarray:
        """The per-sample denominators of a ratio loss: (n,), or (n, K) on K outputs."""
        assert self.spec.denominator is not None
        return np.asarray(self.spec.denominator(y_true), dtype=np.float64)

    def check(self, y_true: np.ndarray, y_pred: np.ndarray, finite: bool = False) -> None:
        """Raise :class:`DomainError` when an input lies outside the loss's domain.

        ``finite=True`` says the caller already checked every value is finite, so
        domains that ask for nothing more are skipped.
        """
        spec = self.spec
        if spec.task != "multiclass":
            for role, arr, domain in (
                ("y_true", y_true, spec.y_true_domain),
                ("y_pred", y_pred, spec.y_pred_domain),
            ):
                if not (finite and domain == FINITE):
                    check_domain(spec.name, role, arr, domain)
        if spec.check is not None:
            params = dict(self.params)
            spec.run("check", spec.check, spec.name, read_only(y_true), read_only(y_pred), params)

    def inputs(self, y_true: object, y_pred: object) -> tuple[np.ndarray, np.ndarray]:
        """``y_true`` and ``y_pred`` as float64 arrays of the shapes the loss takes.

        A trailing axis of size 1 (Keras' ``predict`` gives (n, 1)) is dropped where
        the loss takes one value per row; any other mismatch is a :class:`UsageError`
        naming both shapes, never a broadcast.
        """
        t = numbers(self.name, "y_true", y_true)
        p = numbers(self.name, "y_pred", y_pred)
        if self.spec.prediction_kind in DISTRIBUTION_KINDS:
            return self._distribution_inputs(t, p)
        if self.spec.task == "multilabel":
            if t.ndim != 2 or t.shape != p.shape:
                raise UsageError(
                    f"loss '{self.name}': y_true has shape {t.shape} but y_pred has shape "
                    f"{p.shape}; expected both (n, K), one column per label."
                )
            return t, p
        multiclass = self.spec.task == "multiclass"
        if not multiclass and p.ndim == 2 and p.shape[1] == 1:
            p = p[:, 0]
        if t.ndim == 2 and t.shape[1] == 1 and (not multiclass or p.ndim != 2 or p.shape[1] > 1):
            t = t[:, 0]
        if multiclass and p.ndim != 2:
            raise DomainError(
                self.name,
                "y_pred",
                f"an (n, K) array with K >= 2 class columns (y_pred has shape {p.shape}, "
                f"y_true {t.shape})",
                count=0,
                rows=(),
            )
        if multiclass:
            ok = p.ndim == 2 and (t.ndim == 1 or t.shape == p.shape) and t.shape[0] == p.shape[0]
            expected = "y_true (n,) class indices or (n, K) like y_pred, y_pred (n, K)"
        else:
            ok = p.ndim == 1 and t.shape == p.shape
            expected = "y_true and y_pred of shape (n,) (or (n, 1))"
        if not ok:
            raise UsageError(
                f"loss '{self.name}': y_true has shape {t.shape} but y_pred has shape "
                f"{p.shape}; expected {expected}."
            )
        return t, p

    def check_levels(self) -> None:
        """The levels fit the loss (``interval_score`` finds its two, ``wis`` its median
        and pairs): a :class:`UsageError` before any row is read."""
        levels = self.levels
        if not levels:
            raise UsageError(
                f"loss '{self.name}' scores quantile predictions and needs their levels: "
                "--levels (or column names that give them) on the command line, "
                f"get_loss('{self.name}', levels=[0.1, 0.5, 0.9]) in Python."
            )
        if len(set(levels)) < len(levels) or not all(0.0 < v < 1.0 for v in levels):
            raise UsageError(
                f"quantile levels must be distinct and in (0, 1); got "
                f"{', '.join(f'{v:g}' for v in levels)}."
            )
        empty = np.empty(0)
        self.per_sample(empty, np.empty((0, len(levels))))

    def _distribution_inputs(self, t: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """y_true (n,) and y_pred (n, K): K quantile levels, K = 2 (mean, variance) for a
        Gaussian, K members of an ensemble."""
        kind = self.spec.prediction_kind
        if t.ndim == 2 and t.shape[1] == 1:
            t = t[:, 0]
        if kind == "quantiles" and not self.levels:
            raise UsageError(
                f"loss '{self.name}' scores quantile predictions and needs their levels: "
                f"get_loss('{self.name}', levels=[0.1, 0.5, 0.9]), one per column of y_pred."
            )
        columns = {
            "quantiles": (len(self.levels), f"{len(self.levels)} (one per level)"),
            "gaussian": (2, "2 (the mean and the variance)"),
        }.get(kind)
        ok = t.ndim == 1 and p.ndim == 2 and p.shape[0] == t.shape[0]
        if ok and columns is not None:
            ok = p.shape[1] == columns[0]
        if not ok:
            width = "M (one per member)" if columns is None else columns[1]
            raise UsageError(
                f"loss '{self.name}': y_true has shape {t.shape} but y_pred has shape "
                f"{p.shape}; expected y_true (n,) and y_pred (n, {width})."
            )
        return t, p

    def per_sample(
        self,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        *,
        check: bool = True,
        finite: bool = False,
        scale: object = None,
    ) -> np.ndarray:
        """The per-sample losses as float64 (n,); inputs are validated unless ``check=False``.

        ``finite=True``: the caller guarantees finite inputs (skips that check). A
        per-sample value that overflows float64 for finite inputs is an
        :class:`InputError` naming the loss. A scaled forecast error (mase) divides by
        ``scale``: each row's series scale (mean |y_t - y_{t-m}| of the history for
        mase, the mean squared difference for msse and rmsse), one number or one per row.
        """
        if self.spec.scaled is not None:
            return self._scaled(y_true, y_pred, scale, check=check, finite=finite)
        if scale is not None:
            raise UsageError(f"loss '{self.name}' is not a scaled error; it takes no scale.")
        if self.outputs:
            return self.per_output(y_true, y_pred, check=check, finite=finite).mean(axis=1)
        y_true, y_pred = self.inputs(y_true, y_pred)
        if check:
            self.check(y_true, y_pred, finite)
        kwargs: dict[str, Any] = {k: v for k, v in self.params.items()}
        spec = self.spec
        if spec.prediction_kind == "quantiles":
            kwargs["levels"] = np.asarray(self.levels, dtype=np.float64)
        result = spec.run("fn", spec.fn, read_only(y_true), read_only(y_pred), **kwargs)
        finite_rows = None
        if not finite and not spec.builtin:
            finite_rows = _finite_rows(y_true) & _finite_rows(y_pred)
        values = spec.output(result, y_true.shape[0], finite_rows)
        if spec.builtin:
            self._check_overflow(values, y_true, y_pred, finite)
        return values

    def _scaled(
        self, y_true: np.ndarray, y_pred: np.ndarray, scale: object, check: bool, finite: bool
    ) -> np.ndarray:
        if scale is None:
            raise UsageError(
                f"loss '{self.name}' divides by each series' scale from its history: on the "
                "command line pass --series, --train and --season; in Python, "
                f"per_sample(y_true, y_pred, scale=s) with s the mean {self.scale_text} of "
                "the history."
            )
        if self.outputs:
            raise UsageError(
                f"loss '{self.name}' scores one target column per series; it does not apply "
                "to several outputs."
            )
        plain = replace(self, spec=replace(self.spec, scaled=None))
        values = plain.per_sample(y_true, y_pred, check=check, finite=finite)
        given = np.asarray(scale)
        one = given.ndim == 0  # one number for every row
        s = numbers(self.name, "scale", given.reshape(1) if one else given)
        if one:
            s = s[0]
        if s.ndim == 2 and s.shape[1] == 1:
            s = s[:, 0]
        if s.ndim > 1 or (s.ndim == 1 and s.shape != values.shape):
            raise UsageError(
                f"loss '{self.name}': scale has shape {s.shape}; expected one number, or one "
                f"per row ({values.shape[0]},)."
            )
        if check:
            every = np.broadcast_to(s, values.shape)
            good = np.isfinite(every) & (every > 0)
            check_mask(self.name, "scale", every, good,
                       "finite and > 0 (a constant history has no scale)")  # fmt: skip
        return values / s

    @property
    def scale_text(self) -> str:
        """What a scaled error divides by, in words."""
        if self.spec.scaled == "abs":
            return "|y_t - y_{t-m}|"
        return "(y_t - y_{t-m})²"

    def per_output(
        self, y_true: object, y_pred: object, *, check: bool = True, finite: bool = False
    ) -> np.ndarray:
        """The per-sample losses of each of the K outputs: an (n, K) array. A domain error
        names the output's role as ``y_true:k`` / ``y_pred:k``."""
        t = numbers(self.name, "y_true", y_true)
        p = numbers(self.name, "y_pred", y_pred)
        k = len(self.outputs)
        if t.ndim != 2 or t.shape != p.shape or t.shape[1] != k:
            raise UsageError(
                f"loss '{self.name}' on {k} outputs ({', '.join(self.outputs[:4])}): y_true has "
                f"shape {t.shape} and y_pred {p.shape}; expected both (n, {k})."
            )
        single = replace(self, outputs=())
        out = np.empty(t.shape)
        for j in range(k):
            try:
                out[:, j] = single.per_sample(t[:, j], p[:, j], check=check, finite=finite)
            except DomainError as exc:
                exc.role = f"{exc.role}:{j}"
                raise
        return out

    def _check_overflow(
        self, values: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, finite: bool
    ) -> None:
        """Raise an :class:`InputError` when a per-sample value is not finite although
        its inputs are (the loss overflows float64)."""
        with np.errstate(all="ignore"):  # fast path: a finite sum means finite values
            if np.isfinite(values.sum()):
                return
            bad = ~np.isfinite(values)
            if not finite:
                bad &= _finite_rows(y_true) & _finite_rows(y_pred)
            if not bad.any():
                return
            if self.spec.task == "regression" and self.spec.prediction_kind == "value":
                r = np.abs(np.subtract(y_pred[bad], y_true[bad], dtype=np.float64))
                top = float(r.max())
                what = (
                    f"residuals up to {top:g}" if math.isfinite(top) else "residuals beyond 1.8e308"
                )
            else:
                top = float(np.abs(y_pred[bad]).max())
                what = f"predictions up to {top:g}"
        count = int(bad.sum())
        plural = "s" if count != 1 else ""
        raise InputError(
            f"the per-sample {self.name} overflows float64 ({what}, {count} row{plural}); "
            "scale the target and predictions."
        )

    @property
    def finalizer(self) -> Callable[[float], float] | None:
        """The finalize step as a function (``math.sqrt`` for RMSE), or None."""
        return None if self.spec.finalize is None else FINALIZERS[self.spec.finalize]

    def finalize(self, mean: float) -> float:
        """Apply the spec's finalize step (sqrt for RMSE) to a weighted mean."""
        if self.spec.finalize is None:
            return mean
        return FINALIZERS[self.spec.finalize](mean)

    def cost(
        self,
        y_true: np.ndarray,
        y_pred: np.ndarray,
        weight: np.ndarray | None = None,
        *,
        scale: object = None,
        series: object = None,
    ) -> float:
        """The cost: finalize(sum(w*l) / sum(w)), the scikit-learn convention.

        Values and weights near the float64 limit are scaled by powers of two first,
        so their sums cannot overflow. On K outputs, the mean of the K outputs' costs
        (each finalized: rmse is the mean of per-output RMSEs, scikit-learn's
        ``uniform_average``).

        A binned calibration error (ece) comes from the bins of all rows. A scaled
        forecast error (mase) divides by ``scale`` (see :meth:`per_sample`) and, with
        ``series`` (one label per row), is the mean over series of each series' cost.
        """
        if self.spec.binned:
            return self._binned_cost(y_true, y_pred, weight)
        if self.spec.scaled is not None:
            return self._series_cost(y_true, y_pred, weight, scale, series)
        if self.outputs:
            values = self.per_output(y_true, y_pred)
            den = self._denominators(y_true, values.shape)
            return float(
                np.mean([
                    self._cost(values[:, j], weight, None if den is None else den[:, j])
                    for j in range(values.shape[1])
                ])
            )  # fmt: skip
        values = self.per_sample(y_true, y_pred)
        return self._cost(values, weight, self._denominators(y_true, values.shape))

    def _denominators(self, y_true: object, shape: tuple[int, ...]) -> np.ndarray | None:
        if self.spec.denominator is None:
            return None
        return self.denominators(numbers(self.name, "y_true", y_true).reshape(shape))

    def _cost(
        self, losses: np.ndarray, weight: np.ndarray | None, den: np.ndarray | None = None
    ) -> float:
        if den is not None:
            top = self._cost(losses, weight)
            bottom = self._cost(den, weight)
            if not bottom > 0:
                raise DomainError(
                    self.name, "y_true", "not all 0 (the cost divides by the sum of |y_true|)",
                    count=den.size, rows=(),
                )  # fmt: skip
            return top / bottom
        n = losses.shape[0]
        if n == 0:
            raise UsageError(f"loss '{self.name}': no rows to evaluate.")
        scale = power_scale(float(np.max(np.abs(losses))))
        scaled = losses / scale if scale != 1.0 else losses
        if weight is None:
            return self.finalize(float(np.mean(scaled)) * scale)
        w = self._weights(weight, n)
        assert w is not None
        w = w / power_scale(float(w.max()))
        total = float(w.sum())
        return self.finalize(float(np.dot(w, scaled) / total) * scale)

    def _weights(self, weight: object, n: int) -> np.ndarray | None:
        """Sample weights as float64 (n,), checked (finite, >= 0, not all 0)."""
        if weight is None:
            return None
        w = numbers(self.name, "weight", weight)
        if w.ndim == 2 and w.shape[1] == 1:
            w = w[:, 0]
        if w.shape != (n,):
            raise UsageError(
                f"loss '{self.name}': weight has shape {w.shape} but there are {n} rows; "
                f"expected ({n},)."
            )
        check_mask(self.name, "weight", w, np.isfinite(w) & (w >= 0), "finite and >= 0")
        if not float((w / power_scale(float(w.max()))).sum()) > 0:
            raise DomainError(self.name, "weight", "not all 0", count=w.size, rows=())
        return w

    def _binned_cost(self, y_true: object, y_pred: object, weight: object) -> float:
        from lossctl.losses import binning as calibration

        t, p = self.inputs(y_true, y_pred)
        self.check(t, p)
        if t.shape[0] == 0:
            raise UsageError(f"loss '{self.name}': no rows to evaluate.")
        w = self._weights(weight, t.shape[0])
        conf, acc = calibration.confidence_accuracy(t, p, self.spec.task)
        sums = calibration.bin_sums(conf, acc, self.bins, w)
        assert self.spec.calibration is not None
        return calibration.calibration_error(sums, self.spec.calibration)

    @property
    def bins(self) -> int:
        """The number of confidence bins of a binned loss."""
        return int(self.params["bins"])  # type: ignore[arg-type]

    def _series_cost(
        self, y_true: object, y_pred: object, weight: object, scale: object, series: object
    ) -> float:
        values = self.per_sample(y_true, y_pred, scale=scale)  # type: ignore[arg-type]
        n = values.shape[0]
        if n == 0:
            raise UsageError(f"loss '{self.name}': no rows to evaluate.")
        w = self._weights(weight, n)
        if series is None:
            codes = np.zeros(n, dtype=np.intp)
        else:
            labels = np.asarray(series)
            if labels.shape != (n,):
                raise UsageError(
                    f"loss '{self.name}': series has shape {labels.shape} but there are {n} "
                    f"rows; expected one label per row ({n},)."
                )
            codes = np.unique(labels, return_inverse=True)[1].reshape(n)
        ws = np.bincount(codes, None if w is None else w)
        sums = np.bincount(codes, values if w is None else w * values)
        present = ws > 0
        per_series = sums[present] / ws[present]
        if self.spec.finalize is not None:
            per_series = np.sqrt(per_series)
        return float(np.mean(per_series))
