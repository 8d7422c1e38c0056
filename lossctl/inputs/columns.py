"""Which columns hold the target, the prediction(s), the weights, ids and groups.

Explicit options win; otherwise the names listed in the contract are tried
case-insensitively, first match wins. Multiclass predictions are two or more
columns sharing a known prefix (``prob_``, ``logit_``, ...); the class name is
the rest of the column name.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from lossctl.errors import InputError, UsageError

TARGET_NAMES = ("y_true", "target", "label", "y", "actual", "truth", "ground_truth", "observed")
PRED_NAMES = (
    "y_pred", "prediction", "pred", "predicted", "y_hat", "yhat", "score", "forecast",
    "prob", "probability", "proba", "logit", "output",
)  # fmt: skip
MULTICLASS_PREFIXES = ("prob_", "proba_", "p_", "pred_", "score_", "logit_")
#: --kind values; ``auto`` decides from the options, the column names and the data.
KINDS = ("auto", "value", "probability", "logit", "quantiles", "gaussian", "ensemble")
#: Kinds of one target whose prediction is a distribution in several columns.
LAYOUT_KINDS = ("quantiles", "gaussian", "ensemble")

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


@dataclass(frozen=True)
class ColumnMap:
    """The resolved roles of columns.

    ``target`` is one label/value column or K target-probability columns; ``pred``
    one column or K class columns; ``classes`` the K class names (multiclass only).
    """

    target: tuple[str, ...]
    pred: tuple[str, ...]
    classes: tuple[str, ...] = ()
    weight: str | None = None
    id: str | None = None
    by: str | None = None
    #: ``--classes`` gave the class of each label index: ``pred`` is in label order.
    ordered: bool = False
    #: The layout of a distribution prediction of one target (``quantiles``, ``gaussian``,
    #: ``ensemble``), or "" (a value, a binary score or K class columns).
    kind: str = ""
    #: Quantile levels of the ``pred`` columns, in their order (kind ``quantiles``).
    levels: tuple[float, ...] = ()
    #: The standard deviation (or, with ``spread_is_var``, variance) column of a Gaussian.
    spread: str | None = None
    spread_is_var: bool = False
    #: The quantile layout was read from the column names alone (``--kind auto``).
    named_levels: bool = False
    #: K paired target and prediction columns: the name of each pair (what a glob's ``*``
    #: matched, else the target column's name), in ``target`` order.
    outputs: tuple[str, ...] = ()
    #: The series of a forecast panel (``--series``) and its time column (``--time``).
    series: str | None = None
    time: str | None = None

    @property
    def multiclass(self) -> bool:
        return len(self.pred) > 1 and not self.kind

    @property
    def predictions(self) -> tuple[str, ...]:
        """Every column of the prediction: ``pred`` and a Gaussian's spread column."""
        return (*self.pred, self.spread) if self.spread else self.pred

    @property
    def text(self) -> list[str]:
        """Columns read as text: ids and groups (``007`` stays ``007``)."""
        own = (*self.target, *self.predictions)
        return [c for c in dict.fromkeys((self.id, self.by, self.series)) if c and c not in own]

    @property
    def needed(self) -> list[str]:
        """Every column to read, each once, in a stable order."""
        cols = [*self.target, *self.predictions, self.weight, self.id, self.by, self.series,
                self.time]  # fmt: skip
        return list(dict.fromkeys(c for c in cols if c))


def _available(columns: Sequence[str]) -> str:
    shown = ", ".join(c if c.strip() else f"{c!r} (unnamed)" for c in columns[:20])
    return shown + (f", ... ({len(columns)} columns)" if len(columns) > 20 else "")


def missing_column(name: str, columns: Sequence[str], source: str, option: str) -> InputError:
    close = difflib.get_close_matches(name, columns, n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    parts = [p.strip() for p in name.split(",")]
    if len(parts) > 1 and all(p in columns for p in parts):
        flag = option.split("/")[0]
        hint = f" {option} takes one column; repeat it: {' '.join(f'{flag} {p}' for p in parts)}."
        return InputError(f"column '{name}' not found in {source}.{hint}")
    return InputError(
        f"column '{name}' not found in {source}; available: {_available(columns)}.{hint} "
        f"Pass {option} with one of them."
    )


def expand(patterns: Sequence[str], columns: Sequence[str], source: str, option: str) -> list[str]:
    """Column names from names or globs (``'prob_*'``), in file order for globs."""
    out: list[str] = []
    for pat in patterns:
        if any(ch in pat for ch in "*?["):
            hits = [c for c in columns if fnmatch.fnmatchcase(c, pat)]
            if not hits:
                raise InputError(
                    f"no column of {source} matches {option} '{pat}'; "
                    f"available: {_available(columns)}."
                )
            out.extend(h for h in hits if h not in out)
        elif pat in columns:
            if pat not in out:
                out.append(pat)
        else:
            raise missing_column(pat, columns, source, option)
    return out


def class_names(pred: Sequence[str]) -> tuple[str, ...]:
    """Class names of K prediction columns: the rest of the name after the shared prefix.

    A known prefix (``prob_``, ``logit_``, ...) is removed as a whole, so
    ``prob_class_0`` names class ``class_0``; otherwise the common prefix is cut at
    its last separator (``a_prob_x``, ``a_prob_y`` -> ``x``, ``y``).
    """
    if len(pred) < 2:
        return ()
    lower = [c.lower() for c in pred]
    prefix = ""
    for known in MULTICLASS_PREFIXES:
        if all(c.startswith(known) for c in lower):
            prefix = known
    if not prefix:
        common = os.path.commonprefix(list(pred))  # noqa: RUF071 - a string prefix is meant
        cut = max(common.rfind("_"), common.rfind("-"), common.rfind("."))
        prefix = common[: cut + 1] if cut >= 0 else ""
    names = tuple(c[len(prefix) :] or c for c in pred)
    return names if len(set(names)) == len(names) else tuple(pred)


_TRAILING_INT = re.compile(r"(?:^|\D)(\d+)$")


def class_numbers(classes: Sequence[str]) -> tuple[int, ...] | None:
    """The integer each class name is or ends in (``10``, ``class_10``), if every name has
    one and they differ; else None."""
    found = [_TRAILING_INT.search(c) for c in classes]
    if not classes or not all(found):
        return None
    numbers = tuple(int(m.group(1)) for m in found if m)
    return numbers if len(set(numbers)) == len(numbers) else None


def _detect_one(names: Sequence[str], columns: Sequence[str], exclude: set[str]) -> str | None:
    lower: dict[str, list[str]] = {}
    for c in columns:
        if c not in exclude:
            lower.setdefault(c.lower(), []).append(c)
    for name in names:
        hits = lower.get(name)
        if hits:
            if len(hits) > 1:
                raise InputError(
                    f"columns {', '.join(repr(h) for h in hits)} differ only in case; "
                    "pass the one to use explicitly."
                )
            return hits[0]
    return None


def _multiclass_groups(columns: Sequence[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for c in columns:
        low = c.lower()
        for prefix in MULTICLASS_PREFIXES:
            if low.startswith(prefix) and len(c) > len(prefix):
                groups.setdefault(prefix, []).append(c)
                break
    return {k: v for k, v in groups.items() if len(v) >= 2}


def resolve_columns(
    columns: Sequence[str],
    source: str,
    *,
    target: Sequence[str] = (),
    pred: Sequence[str] = (),
    weight: str | None = None,
    id: str | None = None,
    by: str | None = None,
    class_order: Sequence[str] = (),
    kind: str = "auto",
    levels: Sequence[float] = (),
    std: str | None = None,
    var: str | None = None,
    names_give_levels: bool = True,
    series: str | None = None,
    time: str | None = None,
) -> ColumnMap:
    """Resolve every role, from options first and detection second.

    ``class_order`` (``--classes``) names the class of label 0, 1, ...: the class columns
    are put in that order, each found by its class name. ``kind``, ``levels``, ``std`` and
    ``var`` (``--kind``, ``--levels``, ``--std``, ``--var``) decide the layout of a
    distribution prediction (:func:`layout`); ``names_give_levels=False`` (a classifier's
    task or losses) stops column names alone from making a quantile set.
    """
    cols = list(columns)
    if kind not in KINDS:
        raise UsageError(f"unknown --kind '{kind}'; expected one of {', '.join(KINDS)}.")
    for opt, name in (("--weight", weight), ("--id", id), ("--by", by), ("--std", std),
                      ("--var", var), ("--series", series), ("--time", time)):  # fmt: skip
        if name is not None and name not in cols:
            raise missing_column(name, cols, source, opt)

    if pred:
        pred_cols = expand(pred, cols, source, "--pred")
    else:
        groups = _multiclass_groups(cols)
        single = _detect_one(PRED_NAMES, cols, {c for c in (std, var) if c})
        taken = {c for g in groups.values() for c in g} | {weight, id, by, std, var, series, time}
        quantiles: dict[str, list[str]] = {}
        if not (std or var) and (kind == "quantiles" or (kind == "auto" and names_give_levels)):
            quantiles = _quantile_groups([c for c in cols if c not in taken])
        if len(quantiles) > 1 and not single and not groups:
            options = ", ".join(_group_text(stem, g) for stem, g in quantiles.items())
            raise InputError(
                f"quantile columns of several models in {source}: {options}; pass --pred "
                "with one model's columns for eval, or one --pred per model for compare."
            )
        groups.update(quantiles)
        if len(groups) > 1 or (groups and single):
            shown = [_group_text(p, g) for p, g in groups.items()]
            if single:
                shown.append(f"'{single}'")
            raise InputError(
                f"several prediction columns in {source}: {', '.join(shown)}; "
                "pass --pred to choose (a name, or a glob such as --pred 'prob_*')."
            )
        if groups:
            pred_cols = next(iter(groups.values()))
        elif single:
            pred_cols = [single]
        else:
            raise InputError(
                f"no prediction column found in {source}; looked for "
                f"{', '.join(PRED_NAMES)} or a prefix {', '.join(MULTICLASS_PREFIXES)}; "
                f"available: {_available(cols)}. Pass --pred COLUMN."
            )

    classes = class_names(pred_cols)
    if len(pred) == 1 and pred[0].count("*") == 1 and not any(ch in pred[0] for ch in "?["):
        # --pred 'a_prob_*': the class is what the star matched.
        head, tail = pred[0].split("*")
        matched = tuple(c[len(head) : len(c) - len(tail)] for c in pred_cols)
        if len(pred_cols) > 1 and all(matched) and len(set(matched)) == len(matched):
            classes = matched
    if target:
        target_cols = expand(target, cols, source, "--target")
    else:
        found = _detect_one(TARGET_NAMES, cols, {*pred_cols, *(c for c in (series, time) if c)})
        if found is None:
            raise InputError(
                f"no target column found in {source}; looked for {', '.join(TARGET_NAMES)}; "
                f"available: {_available(cols)}. Pass --target COLUMN."
            )
        target_cols = [found]
    outputs: tuple[str, ...] = ()
    if len(target_cols) > 1:
        if len(target_cols) != len(pred_cols):
            raise InputError(
                f"{len(target_cols)} target columns but {len(pred_cols)} prediction columns "
                f"in {source}; give one target column, or one prediction column per target "
                "(multi-output, multilabel) or per class (target probabilities)."
            )
        pred_cols, classes, outputs = _pair_targets(
            target, pred, target_cols, pred_cols, classes, source
        )
    overlap = set(target_cols) & set(pred_cols)
    if overlap:
        raise InputError(
            f"column '{sorted(overlap)[0]}' of {source} is both target and prediction; "
            "pass --target and --pred."
        )
    if class_order:
        pred_cols, classes = _in_label_order(list(class_order), pred_cols, classes, source)
    for opt, name in (("--series", series), ("--time", time)):
        if name is not None and name in (*target_cols, *pred_cols):
            raise UsageError(
                f"column '{name}' of {source} is both {opt} and a target or prediction column; "
                f"pass {opt} another column."
            )
    cm = ColumnMap(
        tuple(target_cols), tuple(pred_cols), classes, weight, id, by, ordered=bool(class_order),
        outputs=outputs, series=series, time=time,
    )  # fmt: skip
    return layout(cm, source, kind, levels, std, var, names_give_levels)


def _star_keys(patterns: Sequence[str], cols: Sequence[str]) -> list[str] | None:
    """What the ``*`` of a single glob matched in each column (``y_*`` -> 'a' of 'y_a')."""
    if len(patterns) != 1 or patterns[0].count("*") != 1 or any(c in patterns[0] for c in "?["):
        return None
    head, tail = patterns[0].split("*")
    return [c[len(head) : len(c) - len(tail)] for c in cols]


def _pair_targets(
    target: Sequence[str],
    pred: Sequence[str],
    target_cols: list[str],
    pred_cols: list[str],
    classes: tuple[str, ...],
    source: str,
) -> tuple[list[str], tuple[str, ...], tuple[str, ...]]:
    """The K prediction columns (and their class names) in the order of the K target columns
    they pair with, and the name of each pair. Explicit lists on both sides pair in the
    order given; otherwise by key (what a glob's ``*`` matched, or the column / class name),
    never by position: a key on one side only is an error naming it. The targets keep their
    order, so every model of a comparison sees them alike."""
    t_glob = any(ch in t for t in target for ch in "*?[")
    p_glob = any(ch in p for p in pred for ch in "*?[")
    if target and pred and not t_glob and not p_glob:
        return pred_cols, classes, tuple(target_cols)
    p_keys = _star_keys(pred, pred_cols) or list(classes or pred_cols)
    choices = [k for k in (_star_keys(target, target_cols), target_cols, class_names(target_cols))
               if k]  # fmt: skip
    for t_keys in choices:
        if sorted(t_keys) == sorted(p_keys) and len(set(t_keys)) == len(t_keys):
            index = {k: i for i, k in enumerate(p_keys)}
            order = [index[k] for k in t_keys]
            named = tuple(classes[i] for i in order) if classes else classes
            return [pred_cols[i] for i in order], named, tuple(str(k) for k in t_keys)
    t_keys = list(choices[0])
    only_t = [k for k in t_keys if k not in p_keys]
    only_p = [k for k in p_keys if k not in t_keys]
    side = (
        f"'{only_t[0]}' is a target key with no prediction column"
        if only_t
        else f"'{only_p[0]}' is a prediction key with no target column"
    )
    raise InputError(
        f"cannot pair the {len(target_cols)} target columns of {source} with its prediction "
        f"columns by name: {side} (target keys {', '.join(map(str, t_keys[:5]))}; prediction "
        f"keys {', '.join(map(str, p_keys[:5]))}). Name them alike (-t 'y_*' -p 'pred_*' pairs "
        "y_a with pred_a), or give both lists in order (-t a -t b -p pa -p pb)."
    )


def _group_text(prefix: str, columns: Sequence[str]) -> str:
    """'prob_*' (3 columns), or the columns themselves when they share no prefix."""
    if prefix:
        return f"'{prefix}*' ({len(columns)} columns)"
    return ", ".join(f"'{c}'" for c in columns[:4]) + (", ..." if len(columns) > 4 else "")


def _quantile_stem(name: str) -> str:
    """The model part of a quantile column's name: 'AutoETS-' of 'AutoETS-lo-80', '' of q10."""
    text = name.lower()
    for pattern in (_MEDIAN_NAME, _INTERVAL_NAME, _QUANTILE_NAME):
        if m := pattern.search(text):
            start = m.start()
            if not m.group(0)[0].isalpha():  # the separator before the keyword
                start += 1
            return name[:start]
    return name


def _quantile_groups(columns: Sequence[str]) -> dict[str, list[str]]:
    """Columns whose names give quantile levels, by model stem; groups of two or more."""
    found: dict[str, list[str]] = {}
    for c in columns:
        if quantile_level(c) is not None:
            found.setdefault(_quantile_stem(c), []).append(c)
    return {k: v for k, v in found.items() if len(v) >= 2}


def _levels_text(levels: Sequence[float]) -> str:
    return ", ".join(f"{v:g}" for v in levels)


def layout(
    cm: ColumnMap,
    source: str,
    kind: str = "auto",
    levels: Sequence[float] = (),
    std: str | None = None,
    var: str | None = None,
    names_give_levels: bool = True,
    series: str | None = None,
    time: str | None = None,
) -> ColumnMap:
    """The layout of one target's distribution prediction, decided from the options and
    the column names (CLI.md "Prediction layouts"), never by guessing: a mean with
    --std/--var is Gaussian; --kind ensemble names members; --levels, --kind quantiles,
    or K >= 2 columns whose names all give levels are a quantile set."""
    pred = cm.pred
    several_targets = len(cm.target) > 1
    if std and var:
        raise UsageError(
            "--std and --var both given; a Gaussian prediction has one spread column: pass one."
        )
    spread = std or var
    if spread:
        if kind not in ("auto", "gaussian"):
            raise UsageError(
                f"--std/--var describe a Gaussian prediction; --kind {kind} conflicts."
            )
        if len(pred) != 1 or several_targets:
            raise InputError(
                f"a Gaussian prediction is one mean column (--pred) with --std or --var; "
                f"{source} gives {len(cm.target)} target and {len(pred)} prediction columns "
                f"({', '.join(pred[:4])}). Pass --pred MEAN."
            )
        if spread in (*cm.target, *pred):
            raise InputError(
                f"column '{spread}' of {source} cannot be both the spread and "
                "the target or mean; pass --std/--var with the spread column."
            )
        return replace(cm, kind="gaussian", spread=spread, spread_is_var=var is not None)
    if kind == "gaussian":
        raise UsageError(
            "--kind gaussian needs the spread column: --std COL or --var COL (the mean is --pred)."
        )
    if kind == "ensemble":
        if several_targets:
            raise InputError(
                f"an ensemble forecasts one target; {source} gives "
                f"{len(cm.target)} target columns. Pass --target."
            )
        if len(pred) < 2:
            raise InputError(
                f"an ensemble needs two or more member columns; {source} gives one ('{pred[0]}'). "
                "Pass the members with --pred 'member_*' (a glob) or one --pred per member."
            )
        return replace(cm, kind="ensemble", classes=())
    if levels and kind not in ("auto", "quantiles"):
        raise UsageError(f"--levels describes quantile columns; --kind {kind} conflicts.")
    named = [quantile_level(c) for c in pred]
    by_names = (
        kind == "auto" and names_give_levels and not several_targets and len(pred) >= 2
        and None not in named
    )  # fmt: skip
    if not (levels or kind == "quantiles" or by_names):
        return cm
    if several_targets:
        raise InputError(
            f"a quantile forecast is of one target; {source} gives "
            f"{len(cm.target)} target columns. Pass --target."
        )
    if levels:
        if len(levels) != len(pred):
            raise UsageError(
                f"--levels gives {len(levels)} levels for {len(pred)} prediction columns "
                f"({', '.join(pred[:6])}{', ...' if len(pred) > 6 else ''}); give one per column, "
                "in their order."
            )
        found = tuple(float(v) for v in levels)
    else:
        missing = [c for c, v in zip(pred, named, strict=True) if v is None]
        if missing:
            raise InputError(
                f"cannot read a quantile level from the name of column '{missing[0]}' of "
                f"{source}; name the columns q10, q50, q90 (or MODEL-lo-80 / MODEL-hi-80), "
                "or pass --levels 0.1,0.5,0.9 in the columns' order."
            )
        found = tuple(v for v in named if v is not None)
    bad = [v for v in found if not 0 < v < 1]
    if bad:
        raise UsageError(f"quantile levels must be in (0, 1); got {_levels_text(bad)}.")
    for i, v in enumerate(found):
        twin = next((j for j in range(i) if abs(found[j] - v) <= 1e-9), None)
        if twin is not None:
            raise InputError(
                f"columns '{pred[twin]}' and '{pred[i]}' of {source} both give level {v:g}: "
                "two models? Pass --pred with one model's columns (e.g. 'MODEL-*'), or "
                "compare them with one --pred per model."
            )
    return replace(cm, kind="quantiles", levels=found, classes=(), named_levels=by_names)


def _in_label_order(
    given: list[str], pred: list[str], names: tuple[str, ...], source: str
) -> tuple[list[str], tuple[str, ...]]:
    """The class columns reordered so that column i is the class ``given[i]`` names."""
    if len(pred) < 2:
        raise InputError(
            f"--classes names {len(given)} classes but there is one prediction column in "
            f"{source}; --classes is for K class columns (--pred 'prob_*')."
        )
    if len(given) != len(pred):
        raise InputError(
            f"--classes names {len(given)} classes but there are {len(pred)} class columns in "
            f"{source} ({', '.join(pred[:6])}{', ...' if len(pred) > 6 else ''}); give one "
            "name per column."
        )
    by_name = {n: c for n, c in zip(names, pred, strict=True)}
    by_name.update({c: c for c in pred})
    missing = [g for g in given if g not in by_name]
    if missing:
        raise InputError(
            f"--classes name '{missing[0]}' matches no class column of {source}; the class "
            f"columns are {', '.join(pred[:6])}{', ...' if len(pred) > 6 else ''} (classes "
            f"{', '.join(names[:6])}{', ...' if len(names) > 6 else ''})."
        )
    ordered = [by_name[g] for g in given]
    if len(set(ordered)) < len(ordered):
        raise InputError(f"--classes names the same class column twice ({', '.join(given)}).")
    index = {c: i for i, c in enumerate(pred)}
    return ordered, tuple(names[index[c]] for c in ordered)
