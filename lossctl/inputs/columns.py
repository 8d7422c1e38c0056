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
from dataclasses import dataclass

from lossctl.errors import InputError

TARGET_NAMES = ("y_true", "target", "label", "y", "actual", "truth", "ground_truth", "observed")
PRED_NAMES = (
    "y_pred", "prediction", "pred", "predicted", "y_hat", "yhat", "score", "forecast",
    "prob", "probability", "proba", "logit", "output",
)  # fmt: skip
MULTICLASS_PREFIXES = ("prob_", "proba_", "p_", "pred_", "score_", "logit_")


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

    @property
    def multiclass(self) -> bool:
        return len(self.pred) > 1

    @property
    def text(self) -> list[str]:
        """Columns read as text: ids and groups (``007`` stays ``007``)."""
        return [c for c in (self.id, self.by) if c and c not in (*self.target, *self.pred)]

    @property
    def needed(self) -> list[str]:
        """Every column to read, each once, in a stable order."""
        cols = [*self.target, *self.pred, self.weight, self.id, self.by]
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
) -> ColumnMap:
    """Resolve every role, from options first and detection second.

    ``class_order`` (``--classes``) names the class of label 0, 1, ...: the class columns
    are put in that order, each found by its class name.
    """
    cols = list(columns)
    for opt, name in (("--weight", weight), ("--id", id), ("--by", by)):
        if name is not None and name not in cols:
            raise missing_column(name, cols, source, opt)

    if pred:
        pred_cols = expand(pred, cols, source, "--pred")
    else:
        groups = _multiclass_groups(cols)
        single = _detect_one(PRED_NAMES, cols, set())
        if len(groups) > 1 or (groups and single):
            options = [f"'{p}*' ({len(g)} columns)" for p, g in groups.items()]
            if single:
                options.append(f"'{single}'")
            raise InputError(
                f"several prediction columns in {source}: {', '.join(options)}; "
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
        found = _detect_one(TARGET_NAMES, cols, set(pred_cols))
        if found is None:
            raise InputError(
                f"no target column found in {source}; looked for {', '.join(TARGET_NAMES)}; "
                f"available: {_available(cols)}. Pass --target COLUMN."
            )
        target_cols = [found]
    if len(target_cols) > 1:
        if len(target_cols) != len(pred_cols):
            raise InputError(
                f"{len(target_cols)} target columns but {len(pred_cols)} prediction columns "
                f"in {source}; give one target column, or one target-probability column per "
                "class."
            )
        # Pair target-probability columns with prediction columns by class name.
        tnames = class_names(target_cols)
        if set(tnames) == set(classes):
            order = {name: i for i, name in enumerate(tnames)}
            target_cols = [target_cols[order[c]] for c in classes]
    overlap = set(target_cols) & set(pred_cols)
    if overlap:
        raise InputError(
            f"column '{sorted(overlap)[0]}' of {source} is both target and prediction; "
            "pass --target and --pred."
        )
    if class_order:
        pred_cols, classes = _in_label_order(list(class_order), pred_cols, classes, source)
    return ColumnMap(
        tuple(target_cols), tuple(pred_cols), classes, weight, id, by, ordered=bool(class_order)
    )


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
