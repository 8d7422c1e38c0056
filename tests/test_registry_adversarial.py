"""Every built-in loss, fed the files and arrays people really pass.

Registry-driven: each loss of the registry meets each layout of its task, as
pandas writes it (``to_csv`` with its index, ``to_parquet``, Feather), with the
targets in the representations found in the wild: ints, bools, text labels,
pandas Categoricals (dictionary-encoded in Parquet), -1/+1, floats, class
columns in a surprising order, class names, missing labels. Each run gives
the right answer (the Python API on the canonical float arrays, itself checked
against scikit-learn, PyTorch and Keras in test_losses_reference.py), or exit 2
with one ``Error:`` line; never exit 0 with another number, never exit 3.

To keep the run short, one ``lossctl eval -l a,b,c`` call evaluates every loss
of a case at once. When a loss refuses the data in that call (an error naming a
loss), the losses run one by one, so that each loss's own outcome is judged; an
error about the data itself (a column, a label, a row) holds for every loss.

The reference is always the API's ``cost()``, so a binned (not per-sample) loss
such as ``ece`` in LOSSES.md joins the matrix as it is; none is built in yet.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from lossctl.errors import LossctlError
from lossctl.losses import BoundLoss, LossSpec, builtin_registry
from lossctl.losses.spec import DISTRIBUTION_KINDS
from tests.conftest import valid_inputs

#: The point-prediction losses of one target: the layouts below are theirs (distribution
#: predictions and K paired columns have theirs in test_layouts_distribution.py and
#: test_layouts_paired.py; the scaled forecast errors, which need a history and series,
#: theirs in test_forecast.py).
SPECS = [
    s
    for s in builtin_registry()
    if s.prediction_kind not in DISTRIBUTION_KINDS and s.task != "multilabel" and not s.scaled
]
N = 40
#: The 0-based position of the row that gets the missing or foreign label: row 7.
BAD = 6
BAD_ROW = BAD + 1
#: Class names of the 4-class data, in label order (label i is NAMES[i]).
NAMES = ("cat", "dog", "emu", "fox")
#: Class columns in a surprising order (indices into the label order).
SHUFFLED = (2, 0, 3, 1)
K_LEX = 12


def _bound(spec: LossSpec) -> BoundLoss:
    return builtin_registry().loss(spec.name, spec.task)


def _reference(spec: LossSpec, y: np.ndarray, p: np.ndarray, w: Any = None) -> float:
    """The Python API on canonical float64 arrays: the right answer."""
    return _bound(spec).cost(np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64), w)


def _is_score(spec: LossSpec) -> bool:
    return spec.prediction_kind in ("logit", "score")


# -- canonical data -----------------------------------------------------------------------


def _first(task: str, score: bool = False) -> LossSpec:
    return next(s for s in SPECS if s.task == task and _is_score(s) == score)


def _data(task: str, score: bool = False, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Canonical (y, p): labels 0/1 or 0..K-1 as floats; every label present.

    Probabilities are valid input for every loss of a task (a probability is also
    a finite score or logit), so one file serves the whole task; ``score=True``
    gives scores outside [0, 1] for the score and logit losses.
    """
    spec = _first(task, score)
    if task != "multiclass" or k == 4:
        y, p = valid_inputs(spec, n=N, seed=3)
    else:
        rng = np.random.default_rng(5)
        y = np.concatenate([np.arange(k), rng.integers(0, k, N - k)]).astype(float)
        rng.shuffle(y)
        p = rng.normal(0, 3, (N, k)) if score else rng.dirichlet(np.ones(k), N)
    if task == "binary":
        assert 0 < y.sum() < N and y[BAD] in (0.0, 1.0)
    if task == "multiclass":
        assert len(np.unique(y)) == p.shape[1]
    return y, p


def _grouped(y: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by label, positives (or the highest class) first: the first chunks
    and row groups see one label only."""
    order = np.argsort(-y, kind="stable")
    return y[order], p[order]


def _without_bad(a: np.ndarray) -> np.ndarray:
    return np.delete(a, BAD, axis=0)


def _with_nan(y: np.ndarray) -> np.ndarray:
    out = y.astype(np.float64).copy()
    out[BAD] = np.nan
    return out


# -- writing files the way people write them ----------------------------------------------


def _save(frame: pd.DataFrame, path: Path, row_group: int | None = None) -> str:
    """``row_group``: Parquet row groups of that many rows (read as parallel parts)."""
    if path.suffix == ".csv":
        frame.to_csv(path)  # with pandas' index: an unnamed first column
    elif path.suffix == ".parquet":
        frame.to_parquet(path, row_group_size=row_group)
    elif path.suffix == ".feather":
        frame.reset_index().to_feather(path)  # Feather needs a default index: keep it
    else:  # pragma: no cover
        raise AssertionError(path)
    return path.name


def _class_frame(
    target: Any, p: np.ndarray, names: tuple[str, ...], prefix: str, order: tuple[int, ...]
) -> pd.DataFrame:
    """Class columns in ``order``, the target column in the middle of them."""
    cols: dict[str, Any] = {}
    for j, i in enumerate(order):
        if j == len(order) // 2:
            cols["label"] = target
        cols[f"{prefix}{names[i]}"] = p[:, i]
    return pd.DataFrame(cols)


@dataclass(frozen=True)
class Written:
    """One file and how to evaluate it, with the canonical arrays of the rows used."""

    file: str
    args: tuple[str, ...] = ()
    y: np.ndarray | None = None  # None: no right answer, an error is due
    p: np.ndarray | None = None
    error_has: tuple[str, ...] = ()  # regexes the Error line must match
    pos_label: str | None = None  # columns.pos_label in the JSON


@dataclass(frozen=True)
class Case:
    id: str
    task: str
    #: ``value``: exit 0 with the reference; ``error``: exit 2, one Error line;
    #: ``either``: one of the two.
    expect: str
    write: Callable[[Path], Written]
    #: True: only the score and logit losses of the task, on scores outside [0, 1].
    scores: bool = False

    def specs(self) -> list[LossSpec]:
        return [s for s in SPECS if s.task == self.task and (not self.scores or _is_score(s))]


ROW = rf"\brows? {BAD_ROW}\b"

# -- regression ----------------------------------------------------------------------------


def _reg_float_csv(d: Path) -> Written:
    y, p = _data("regression")
    seg = np.where(np.arange(N) % 3 == 0, "north", "south")
    f = _save(pd.DataFrame({"y_pred": p, "segment": seg, "y_true": y}), d / "reg_float.csv")
    return Written(f, y=y, p=p)


def _reg_int_csv(d: Path) -> Written:
    y, p = _data("regression")
    yi, pi = np.ceil(y).astype(np.int64), np.ceil(p).astype(np.int64)
    f = _save(pd.DataFrame({"prediction": pi, "target": yi}), d / "reg_int.csv")
    return Written(f, y=yi, p=pi)


def _reg_float32_parquet(d: Path) -> Written:
    y, p = _data("regression")
    p32 = p.astype(np.float32)
    f = _save(pd.DataFrame({"pred": p32, "actual": y}), d / "reg_f32.parquet")
    return Written(f, y=y, p=p32.astype(np.float64))


def _reg_int_feather(d: Path) -> Written:
    y, p = _data("regression")
    yi = np.ceil(y).astype(np.int32)
    f = _save(pd.DataFrame({"y_hat": p, "observed": yi}), d / "reg_int.feather")
    return Written(f, y=yi, p=p)


def _reg_nan_csv(omit: bool) -> Callable[[Path], Written]:
    def write(d: Path) -> Written:
        y, p = _data("regression")
        name = f"reg_nan_{omit}.csv"
        f = _save(pd.DataFrame({"y_pred": p, "y_true": _with_nan(y)}), d / name)
        if omit:
            return Written(f, ("--nan", "omit"), _without_bad(y), _without_bad(p))
        return Written(f, error_has=(ROW, "y_true"))

    return write


def _reg_nullable_int_parquet(omit: bool) -> Callable[[Path], Written]:
    def write(d: Path) -> Written:
        y, p = _data("regression")
        yi = pd.array(np.ceil(y).astype(np.int64), dtype="Int64")
        yi[BAD] = pd.NA
        f = _save(pd.DataFrame({"y_pred": p, "y_true": yi}), d / f"reg_na_{omit}.parquet")
        if omit:
            return Written(f, ("--nan", "omit"), _without_bad(np.ceil(y)), _without_bad(p))
        return Written(f, error_has=(ROW, "y_true"))

    return write


def _reg_text_numbers_parquet(d: Path) -> Written:
    y, p = _data("regression")
    text = [repr(float(v)) for v in y]  # numbers kept as text: a string column
    f = _save(pd.DataFrame({"y_pred": p, "y_true": text}), d / "reg_text.parquet")
    return Written(f, y=y, p=p)


def _reg_categorical_parquet(d: Path) -> Written:
    y, p = _data("regression")
    yi = np.ceil(y).astype(np.int64)
    cat = pd.Categorical(yi, categories=sorted(set(yi.tolist()), reverse=True))
    f = _save(pd.DataFrame({"y_pred": p, "y_true": cat}), d / "reg_cat.parquet")
    return Written(f, y=yi, p=p)


def _reg_uint8_feather(d: Path) -> Written:
    y, p = _data("regression")
    yu, p32 = np.ceil(y).astype(np.uint8), p.astype(np.float32)
    f = _save(pd.DataFrame({"forecast": p32, "truth": yu}), d / "reg_u8.feather")
    return Written(f, y=yu, p=p32.astype(np.float64))


REGRESSION_CASES = [
    Case("reg-float-csv", "regression", "value", _reg_float_csv),
    Case("reg-int-csv", "regression", "value", _reg_int_csv),
    Case("reg-float32-parquet", "regression", "value", _reg_float32_parquet),
    Case("reg-int-feather", "regression", "value", _reg_int_feather),
    Case("reg-nan-csv", "regression", "error", _reg_nan_csv(False)),
    Case("reg-nan-omit-csv", "regression", "value", _reg_nan_csv(True)),
    Case("reg-na-int64-parquet", "regression", "error", _reg_nullable_int_parquet(False)),
    Case("reg-na-int64-omit-parquet", "regression", "value", _reg_nullable_int_parquet(True)),
    Case("reg-text-numbers-parquet", "regression", "either", _reg_text_numbers_parquet),
    Case("reg-categorical-int-parquet", "regression", "either", _reg_categorical_parquet),
    Case("reg-uint8-float32-feather", "regression", "value", _reg_uint8_feather),
]

# -- binary --------------------------------------------------------------------------------


def _bin(
    name: str,
    target: Callable[[np.ndarray], Any],
    *,
    args: tuple[str, ...] = (),
    flip: bool = False,
    pos_label: str | None = None,
    error_has: tuple[str, ...] | None = None,
    pred: Callable[[np.ndarray], Any] | None = None,
    score: bool = False,
    drop_bad: bool = False,
    grouped: bool = False,
    row_group: int | None = None,
) -> Callable[[Path], Written]:
    """A binary file: prediction first, then the target as ``target(y01)`` writes it.

    ``flip``: the positive label is the one canonical 0 stands for.
    ``drop_bad``: row BAD holds a missing label, dropped by ``--nan omit``.
    ``grouped``: rows sorted by label (see :func:`_grouped`).
    """

    def write(d: Path) -> Written:
        y, p = _data("binary", score)
        if grouped:
            y, p = _grouped(y, p)
        col = "score" if score else "prob"
        shown = pred(p) if pred is not None else p
        frame = pd.DataFrame({col: shown, "y_true": target(y)})
        f = _save(frame, d / name, row_group)
        if error_has is not None:
            return Written(f, args, error_has=error_has)
        p_ref = np.asarray(shown, dtype=np.float64)
        y_ref = 1.0 - y if flip else y
        if drop_bad:
            y_ref, p_ref = _without_bad(y_ref), _without_bad(p_ref)
        return Written(f, args, y_ref, p_ref, pos_label=pos_label)

    return write


def _words(a: str, b: str) -> Callable[[np.ndarray], Any]:
    """Text labels: ``a`` for 1, ``b`` for 0."""
    return lambda y: np.where(y == 1, a, b)


def _words_missing(a: str, b: str) -> Callable[[np.ndarray], Any]:
    def make(y: np.ndarray) -> Any:
        out = np.where(y == 1, a, b).astype(object)
        out[BAD] = None
        return out

    return make


def _categorical(categories: list[Any], a: Any, b: Any, missing: bool = False) -> Callable:
    """A pandas Categorical (int8 dictionary indices in Parquet), ``a`` for 1."""

    def make(y: np.ndarray) -> Any:
        values = np.where(y == 1, a, b).astype(object)
        if missing:
            values[BAD] = None
        return pd.Categorical(values, categories=categories)

    return make


def _nullable_bool(y: np.ndarray) -> Any:
    out = pd.array(y.astype(bool), dtype="boolean")
    out[BAD] = pd.NA
    return out


def _f32(p: np.ndarray) -> np.ndarray:
    return p.astype(np.float32)


def _bool_missing(y: np.ndarray) -> Any:
    out = y.astype(bool).astype(object)
    out[BAD] = None  # pandas writes an empty field: True, False and blanks
    return out


def _words_na(a: str, b: str) -> Callable[[np.ndarray], Any]:
    """Text labels with R's missing value: the text ``NA``."""

    def make(y: np.ndarray) -> Any:
        out = np.where(y == 1, a, b).astype(object)
        out[BAD] = "NA"
        return out

    return make


def _string_view(make: Callable[[np.ndarray], Any]) -> Callable[[np.ndarray], Any]:
    """The labels as Arrow ``string_view`` (what polars writes; pandas' ArrowDtype)."""
    return lambda y: pd.array(list(make(y)), dtype=pd.ArrowDtype(pa.string_view()))


BINARY_CASES = [
    Case("bin-int-csv", "binary", "value", _bin("b_int.csv", lambda y: y.astype(np.int64))),
    Case(
        "bin-int-pos0-csv",
        "binary",
        "value",
        _bin("b_int0.csv", lambda y: y.astype(int), args=("--pos-label", "0"), flip=True),
    ),
    Case(
        "bin-bool-csv",
        "binary",
        "value",
        _bin("b_bool.csv", lambda y: y.astype(bool), pos_label="true"),
    ),
    Case(
        "bin-bool-parquet",
        "binary",
        "value",
        _bin("b_bool.parquet", lambda y: y.astype(bool), pos_label="true"),
    ),
    Case(
        "bin-bool-feather",
        "binary",
        "value",
        _bin("b_bool.feather", lambda y: y.astype(bool), pos_label="true"),
    ),
    Case(
        "bin-yes-no-csv",
        "binary",
        "either",
        _bin("b_yes.csv", _words("yes", "no"), pos_label="yes"),
    ),
    Case(
        "bin-Yes-No-csv",
        "binary",
        "either",
        _bin("b_Yes.csv", _words("Yes", "No"), pos_label="Yes"),
    ),
    Case(
        "bin-yes-no-pos-no-csv",
        "binary",
        "value",
        _bin(
            "b_yes_no.csv",
            _words("yes", "no"),
            args=("--pos-label", "no"),
            flip=True,
            pos_label="no",
        ),
    ),
    Case(
        "bin-cat-dog-csv",
        "binary",
        "error",
        _bin("b_catdog.csv", _words("dog", "cat"), error_has=("--pos-label", "cat", "dog")),
    ),
    Case(
        "bin-cat-dog-pos-dog-csv",
        "binary",
        "value",
        _bin("b_dog.csv", _words("dog", "cat"), args=("--pos-label", "dog"), pos_label="dog"),
    ),
    Case(
        "bin-cat-dog-pos-cat-csv",
        "binary",
        "value",
        _bin(
            "b_cat.csv",
            _words("dog", "cat"),
            args=("--pos-label", "cat"),
            flip=True,
            pos_label="cat",
        ),
    ),
    Case("bin-minus-one-csv", "binary", "value", _bin("b_pm.csv", lambda y: 2 * y.astype(int) - 1)),
    Case(
        "bin-float-labels-csv",
        "binary",
        "value",
        _bin("b_float.csv", lambda y: y.astype(np.float64)),
    ),
    Case(
        "bin-float32-pred-parquet",
        "binary",
        "value",
        _bin("b_f32.parquet", lambda y: y.astype(np.int8), pred=_f32),
    ),
    Case(
        "bin-categorical-text-parquet",
        "binary",
        "error",
        _bin(
            "b_cat_text.parquet",
            _categorical(["dog", "cat"], "dog", "cat"),
            error_has=("--pos-label",),
        ),
    ),
    Case(
        "bin-categorical-text-pos-parquet",
        "binary",
        "value",
        _bin(
            "b_cat_text_pos.parquet",
            _categorical(["dog", "cat"], "dog", "cat"),
            args=("--pos-label", "dog"),
            pos_label="dog",
        ),
    ),
    Case(
        "bin-categorical-int-parquet",
        "binary",
        "value",
        _bin("b_cat_int.parquet", _categorical([1, 0], 1, 0)),  # codes are the opposite
    ),
    Case(
        "bin-categorical-int-feather",
        "binary",
        "value",
        _bin("b_cat_int.feather", _categorical([1, 0], 1, 0)),
    ),
    Case(
        "bin-nan-csv",
        "binary",
        "error",
        _bin("b_nan.csv", _with_nan, error_has=(ROW, "y_true")),
    ),
    Case(
        "bin-nan-omit-csv",
        "binary",
        "value",
        _bin("b_nan_omit.csv", _with_nan, args=("--nan", "omit"), drop_bad=True),
    ),
    Case(
        "bin-text-missing-omit-csv",
        "binary",
        "value",
        _bin(
            "b_text_na.csv",
            _words_missing("dog", "cat"),
            args=("--pos-label", "dog", "--nan", "omit"),
            pos_label="dog",
            drop_bad=True,
        ),
    ),
    Case(
        "bin-text-missing-csv",
        "binary",
        "error",
        _bin(
            "b_text_na_raise.csv",
            _words_missing("dog", "cat"),
            args=("--pos-label", "dog"),
            error_has=(ROW,),
        ),
    ),
    Case(
        "bin-nullable-bool-parquet",
        "binary",
        "error",
        _bin("b_na_bool.parquet", _nullable_bool, error_has=(ROW,)),
    ),
    Case(
        "bin-categorical-missing-omit-parquet",
        "binary",
        "value",
        _bin(
            "b_cat_na.parquet",
            _categorical(["dog", "cat"], "dog", "cat", missing=True),
            args=("--pos-label", "dog", "--nan", "omit"),
            pos_label="dog",
            drop_bad=True,
        ),
    ),
    Case(
        "bin-bool-pos-false-csv",
        "binary",
        "value",
        _bin(
            "b_bool_false.csv",
            lambda y: y.astype(bool),
            args=("--pos-label", "False"),
            flip=True,
            pos_label="False",
        ),
    ),
    Case(
        "bin-minus-one-pos-minus-one-csv",
        "binary",
        "value",
        _bin(
            "b_pm_neg.csv",
            lambda y: 2 * y.astype(int) - 1,
            args=("--pos-label", "-1"),
            flip=True,
            pos_label="-1",
        ),
    ),
    Case(
        "bin-one-two-labels-csv",  # R factors as codes: which one is positive?
        "binary",
        "error",
        _bin("b_12.csv", lambda y: y.astype(int) + 1, error_has=()),
    ),
    Case(
        "bin-one-two-pos-two-csv",
        "binary",
        "value",
        _bin("b_12_pos.csv", lambda y: y.astype(int) + 1, args=("--pos-label", "2"), pos_label="2"),
    ),
    Case(
        "bin-text-digits-pos-1-parquet",
        "binary",
        "value",
        _bin(
            "b_digits.parquet",
            _words("1", "0"),
            args=("--pos-label", "1"),
            pos_label="1",
        ),
    ),
    Case(
        "bin-categorical-yes-no-parquet",
        "binary",
        "either",
        _bin(
            "b_cat_yes.parquet",
            _categorical(["yes", "no"], "yes", "no"),
            pos_label="yes",
        ),
    ),
    Case(
        "bin-categorical-bool-parquet",
        "binary",
        "either",
        _bin("b_cat_bool.parquet", _categorical([True, False], True, False)),
    ),
    Case(
        "bin-bool-missing-omit-csv",
        "binary",
        "value",
        _bin("b_bool_na.csv", _bool_missing, args=("--nan", "omit"), drop_bad=True),
    ),
    Case(
        "bin-text-R-NA-omit-csv",
        "binary",
        "either",
        _bin(
            "b_r_na.csv",
            _words_na("dog", "cat"),
            args=("--pos-label", "dog", "--nan", "omit"),
            pos_label="dog",
            drop_bad=True,
        ),
    ),
    Case(
        "bin-grouped-text-chunks-csv",  # the first chunks hold only 'dog'
        "binary",
        "value",
        _bin(
            "b_grouped.csv",
            _words("dog", "cat"),
            args=("--pos-label", "cat", "--chunk-size", "7"),
            flip=True,
            pos_label="cat",
            grouped=True,
        ),
    ),
    Case(
        "bin-grouped-categorical-row-groups-parquet",
        "binary",
        "value",
        _bin(
            "b_grouped.parquet",
            _categorical(["cat", "dog"], "dog", "cat"),
            args=("--pos-label", "dog"),
            pos_label="dog",
            grouped=True,
            row_group=5,
        ),
    ),
    Case(
        "bin-string-view-feather",
        "binary",
        "value",
        _bin(
            "b_view.feather",
            _string_view(_words("dog", "cat")),
            args=("--pos-label", "dog"),
            pos_label="dog",
        ),
    ),
    # Scores outside [0, 1], for the score and logit losses.
    Case(
        "bin-scores-int-csv",
        "binary",
        "value",
        _bin("s_int.csv", lambda y: y.astype(int), score=True),
        scores=True,
    ),
    Case(
        "bin-scores-minus-one-float32-parquet",
        "binary",
        "value",
        _bin("s_pm.parquet", lambda y: 2 * y.astype(np.int8) - 1, pred=_f32, score=True),
        scores=True,
    ),
    Case(
        "bin-scores-cat-dog-pos-cat-csv",
        "binary",
        "value",
        _bin(
            "s_cat.csv",
            _words("dog", "cat"),
            args=("--pos-label", "cat"),
            flip=True,
            pos_label="cat",
            score=True,
        ),
        scores=True,
    ),
]

# -- multiclass ----------------------------------------------------------------------------


def _mc(
    name: str,
    target: Callable[[np.ndarray], Any],
    *,
    names: Callable[[int], tuple[str, ...]] = lambda k: tuple(str(i) for i in range(k)),
    prefix: str = "prob_",
    order: Callable[[int], tuple[int, ...]] = lambda k: SHUFFLED,
    args: tuple[str, ...] = (),
    error_has: tuple[str, ...] | None = None,
    pred: Callable[[np.ndarray], Any] | None = None,
    score: bool = False,
    k: int = 4,
    drop_bad: bool = False,
    grouped: bool = False,
    row_group: int | None = None,
) -> Callable[[Path], Written]:
    """A multiclass file: class columns ``prefix + names[i]`` in ``order``, the label
    column (``target(y_index)``) among them."""

    def write(d: Path) -> Written:
        y, p = _data("multiclass", score, k)
        if grouped:
            y, p = _grouped(y, p)
        shown = pred(p) if pred is not None else p
        frame = _class_frame(target(y), np.asarray(shown), names(k), prefix, order(k))
        f = _save(frame, d / name, row_group)
        if error_has is not None:
            return Written(f, args, error_has=error_has)
        y_ref, p_ref = y, np.asarray(shown, dtype=np.float64)
        if drop_bad:
            y_ref, p_ref = _without_bad(y_ref), _without_bad(p_ref)
        return Written(f, args, y_ref, p_ref)

    return write


def _class_names(y: np.ndarray) -> np.ndarray:
    return np.array(NAMES, dtype=object)[y.astype(int)]


def _class_names_missing(y: np.ndarray) -> np.ndarray:
    out = _class_names(y)
    out[BAD] = None
    return out


def _mc_categorical(categories: list[Any], text: bool, missing: bool = False) -> Callable:
    def make(y: np.ndarray) -> Any:
        values = _class_names(y) if text else y.astype(int).astype(object)
        if missing:
            values[BAD] = None
        return pd.Categorical(values, categories=categories)

    return make


def _foreign_label(value: Any, text: bool) -> Callable[[np.ndarray], Any]:
    def make(y: np.ndarray) -> Any:
        out = _class_names(y) if text else y.astype(np.int64).astype(object)
        out[BAD] = value
        return out if text else out.astype(np.int64)

    return make


def _lex(k: int) -> tuple[int, ...]:
    return tuple(sorted(range(k), key=str))  # 0, 1, 10, 11, 2, 3, ...


def _named(k: int) -> tuple[str, ...]:
    return NAMES[:k]


def _class_prefixed(k: int) -> tuple[str, ...]:
    return tuple(f"class_{i}" for i in range(k))


def _ints(y: np.ndarray) -> np.ndarray:
    return y.astype(np.int64)


def _one_based(k: int) -> tuple[str, ...]:
    return tuple(str(i + 1) for i in range(k))


MULTICLASS_CASES = [
    Case("mc-int-shuffled-csv", "multiclass", "value", _mc("m_int.csv", _ints)),
    Case(
        "mc-names-shuffled-csv",
        "multiclass",
        "value",
        _mc("m_names.csv", _class_names, names=_named),
    ),
    Case(
        "mc-names-feather",
        "multiclass",
        "value",
        _mc("m_names.feather", _class_names, names=_named),
    ),
    Case(
        "mc-categorical-names-parquet",
        "multiclass",
        "value",
        _mc(
            "m_cat_names.parquet",
            _mc_categorical(["fox", "emu", "dog", "cat"], text=True),
            names=_named,
        ),
    ),
    Case(
        "mc-categorical-int-parquet",
        "multiclass",
        "value",
        _mc("m_cat_int.parquet", _mc_categorical([3, 1, 0, 2], text=False)),
    ),
    Case(
        "mc-lexicographic-12-csv",
        "multiclass",
        "value",
        _mc("m_lex.csv", _ints, order=_lex, k=K_LEX),
    ),
    Case(
        "mc-prob-class-auto-csv",
        "multiclass",
        "value",
        _mc("m_pc.csv", _ints, names=_class_prefixed),
    ),
    Case(
        "mc-prob-class-glob-csv",
        "multiclass",
        "value",
        _mc("m_pc_glob.csv", _ints, names=_class_prefixed, args=("-p", "prob_class_*")),
    ),
    Case(
        "mc-prob-class-text-labels-csv",
        "multiclass",
        "value",
        _mc(
            "m_pc_text.csv",
            lambda y: np.array([f"class_{int(v)}" for v in y]),
            names=_class_prefixed,
        ),
    ),
    Case(
        "mc-float32-pred-parquet",
        "multiclass",
        "value",
        _mc("m_f32.parquet", lambda y: y.astype(np.int16), pred=_f32),
    ),
    Case(
        "mc-int-label-without-column-csv",
        "multiclass",
        "error",
        _mc("m_foreign_int.csv", _foreign_label(4, text=False), error_has=(r"\b4\b", ROW)),
    ),
    Case(
        "mc-name-label-without-column-csv",
        "multiclass",
        "error",
        _mc(
            "m_foreign_name.csv",
            _foreign_label("gnu", text=True),
            names=_named,
            error_has=("gnu", ROW),
        ),
    ),
    Case(
        "mc-nan-csv",
        "multiclass",
        "error",
        _mc("m_nan.csv", _with_nan, error_has=(ROW, "label")),
    ),
    Case(
        "mc-nan-omit-csv",  # labels written as 0.0, 1.0, ... by pandas
        "multiclass",
        "value",
        _mc("m_nan_omit.csv", _with_nan, args=("--nan", "omit"), drop_bad=True),
    ),
    Case(
        "mc-names-missing-omit-csv",
        "multiclass",
        "value",
        _mc(
            "m_names_na.csv",
            _class_names_missing,
            names=_named,
            args=("--nan", "omit"),
            drop_bad=True,
        ),
    ),
    Case(
        "mc-categorical-missing-parquet",
        "multiclass",
        "error",
        _mc(
            "m_cat_na.parquet",
            _mc_categorical(["fox", "emu", "dog", "cat"], True, True),
            names=_named,
            error_has=(ROW,),
        ),
    ),
    Case(
        "mc-one-based-labels-csv",  # labels 1..K, columns prob_1..prob_K
        "multiclass",
        "value",
        _mc("m_one.csv", lambda y: y.astype(np.int64) + 1, names=_one_based),
    ),
    Case(
        "mc-int-labels-classes-option-csv",
        "multiclass",
        "value",
        _mc("m_classes.csv", _ints, names=_named, args=("--classes", ",".join(NAMES))),
    ),
    Case(
        "mc-digit-text-labels-parquet",
        "multiclass",
        "value",
        _mc("m_digits.parquet", lambda y: y.astype(np.int64).astype(str)),
    ),
    Case(
        "mc-digit-text-labels-prob-class-parquet",
        "multiclass",
        "value",
        _mc("m_digits_pc.parquet", lambda y: y.astype(np.int64).astype(str), names=_class_prefixed),
    ),
    Case(
        "mc-categorical-unused-category-parquet",
        "multiclass",
        "either",
        _mc("m_cat_unused.parquet", _mc_categorical([4, 3, 2, 1, 0], text=False)),
    ),
    Case(
        "mc-categorical-names-feather",
        "multiclass",
        "value",
        _mc(
            "m_cat_names.feather",
            _mc_categorical(["fox", "emu", "dog", "cat"], text=True),
            names=_named,
        ),
    ),
    Case(
        "mc-grouped-names-row-groups-chunks-parquet",
        "multiclass",
        "value",
        _mc(
            "m_grouped.parquet",
            _class_names,
            names=_named,
            args=("--chunk-size", "3"),
            grouped=True,
            row_group=7,
        ),
    ),
    Case(
        "mc-string-view-names-parquet",
        "multiclass",
        "value",
        _mc("m_view.parquet", _string_view(_class_names), names=_named),
    ),
    # Scores and logits, for the score and logit losses.
    Case(
        "mc-scores-int-shuffled-csv",
        "multiclass",
        "value",
        _mc("ms_int.csv", _ints, prefix="logit_", score=True),
        scores=True,
    ),
    Case(
        "mc-scores-names-float32-parquet",
        "multiclass",
        "value",
        _mc(
            "ms_names.parquet",
            _class_names,
            names=_named,
            prefix="score_",
            pred=_f32,
            score=True,
        ),
        scores=True,
    ),
    Case(
        "mc-scores-lexicographic-12-csv",
        "multiclass",
        "value",
        _mc("ms_lex.csv", _ints, prefix="logit_", order=_lex, k=K_LEX, score=True),
        scores=True,
    ),
]

CASES = REGRESSION_CASES + BINARY_CASES + MULTICLASS_CASES

#: Known bugs: (case id, loss name or "*") -> reason. Each is xfail(strict=True).
KNOWN_BUGS: dict[tuple[str, str], str] = {}


# -- running the CLI -----------------------------------------------------------------------


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    args: tuple[str, ...]

    @property
    def doc(self) -> dict:
        return json.loads(self.stdout)


def _run(cwd: Path, *args: str) -> Outcome:
    env = dict(os.environ, NO_COLOR="1")
    res = subprocess.run(
        ["lossctl", *args], capture_output=True, text=True, cwd=cwd, timeout=120, env=env
    )
    return Outcome(res.returncode, res.stdout, res.stderr, args)


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Case], tuple[Written, dict]]:
    """``cli(case)`` -> (the file written, {loss name: Outcome}); each case runs once."""
    root = tmp_path_factory.mktemp("adversarial")
    cache: dict[str, tuple[Written, dict[str, Outcome]]] = {}

    def get(case: Case) -> tuple[Written, dict[str, Outcome]]:
        if case.id not in cache:
            d = root / case.id
            d.mkdir()
            written = case.write(d)
            names = [s.name for s in case.specs()]
            base = ("eval", written.file, *written.args, "--json")
            together = _run(d, *base, "-l", ",".join(names))
            outcomes = dict.fromkeys(names, together)
            if (
                together.returncode == 2
                and case.expect != "error"
                and len(names) > 1
                and "loss '" in together.stderr
            ):
                # One loss refused the data: judge each loss on its own.
                outcomes = {n: _run(d, *base, "-l", n) for n in names}
            cache[case.id] = (written, outcomes)
        return cache[case.id]

    return get


def _error_line(out: Outcome) -> str:
    lines = [x for x in out.stderr.splitlines() if x.startswith("Error:")]
    assert len(lines) == 1, f"expected one Error line: {out.args}\n{out.stderr}"
    return lines[0]


def _check(spec: LossSpec, case: Case, written: Written, out: Outcome) -> None:
    where = f"lossctl {' '.join(out.args)}"
    assert out.returncode != 3, f"internal error: {where}\n{out.stderr}"
    assert "Traceback" not in out.stderr, f"{where}\n{out.stderr}"
    if out.returncode == 0:
        assert case.expect != "error", f"exit 0 where an error is due: {where}\n{out.stdout}"
        assert written.y is not None and written.p is not None
        doc = out.doc
        expected = _reference(spec, written.y, written.p)
        got = doc["losses"][spec.name]["cost"]
        assert got is not None and math.isfinite(got), (where, got)
        assert got == pytest.approx(expected, rel=1e-9), f"{where}: {got} != {expected}"
        assert doc["n_used"] == len(written.y), where
        assert doc["task"] == spec.task, where
        if written.pos_label is not None:
            assert doc["columns"].get("pos_label") == written.pos_label, (where, doc["columns"])
        return
    assert out.returncode == 2, f"exit {out.returncode}: {where}\n{out.stderr}"
    assert case.expect != "value", f"refused where a value is due: {where}\n{out.stderr}"
    line = _error_line(out)
    for pattern in written.error_has:
        assert re.search(pattern, line), f"{pattern!r} not in {line!r}"


def _pair_id(spec: LossSpec, case: Case) -> str:
    return f"{case.id}-{spec.name}"


def _params() -> list[Any]:
    out = []
    for case in CASES:
        for spec in case.specs():
            reason = KNOWN_BUGS.get((case.id, spec.name)) or KNOWN_BUGS.get((case.id, "*"))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(spec, case, marks=marks, id=_pair_id(spec, case)))
    return out


@pytest.mark.parametrize(("spec", "case"), _params())
def test_cli_layouts_and_dtypes(spec: LossSpec, case: Case, cli: Callable) -> None:
    written, outcomes = cli(case)
    _check(spec, case, written, outcomes[spec.name])


def test_every_builtin_loss_is_covered() -> None:
    covered = {(s.name, s.task) for c in CASES for s in c.specs()}
    assert covered == {(s.name, s.task) for s in SPECS}
    for spec in SPECS:
        n = sum(spec in c.specs() for c in CASES)
        assert n >= 8, (spec.name, n)


# -- the Python API on what people pass ----------------------------------------------------


@dataclass(frozen=True)
class ApiInput:
    y: Any
    p: Any
    #: value | error | either; y_ref/p_ref the canonical arrays of the right answer.
    expect: str
    y_ref: np.ndarray | None = None
    p_ref: np.ndarray | None = None
    weight: Any = None
    w_ref: np.ndarray | None = None


def _api_data(spec: LossSpec) -> tuple[np.ndarray, np.ndarray]:
    return valid_inputs(spec, n=24, seed=11)


def _api_input(spec: LossSpec, form: str) -> ApiInput:
    y, p = _api_data(spec)
    labels = spec.task != "regression"
    multi = spec.task == "multiclass"
    if form == "series":
        index = pd.RangeIndex(100, 100 + len(y))  # not 0..n-1: positions must count
        pp = pd.DataFrame(p, index=index) if multi else pd.Series(p, index=index)
        return ApiInput(pd.Series(y, index=index), pp, "value", y, p)
    if form == "list":
        return ApiInput(y.tolist(), p.tolist(), "value", y, p)
    if form == "int":
        if labels:
            return ApiInput(y.astype(np.int64), p, "value", y, p)
        yi, pi = np.ceil(y).astype(np.int64), np.ceil(p).astype(np.int32)
        return ApiInput(yi, pi, "value", yi.astype(float), pi.astype(float))
    if form == "bool":
        yb = y.astype(bool) if spec.task == "binary" else (y > np.median(y))
        return ApiInput(yb, p, "value" if spec.task == "binary" else "either", yb * 1.0, p)
    if form == "categorical":
        values = y.astype(np.int64) if labels else y
        cat = pd.Categorical(values, categories=sorted(set(values.tolist()), reverse=True))
        return ApiInput(cat, p, "either", values.astype(float), p)
    if form == "categorical-series":
        values = y.astype(np.int64) if labels else y
        cat = pd.Series(pd.Categorical(values, categories=sorted(set(values), reverse=True)))
        return ApiInput(cat, p, "either", values.astype(float), p)
    if form == "categorical-text":
        codes = y.astype(int) if labels else np.arange(len(y)) % 2
        text = np.array(["cat", "dog", "emu", "fox"])[codes]
        return ApiInput(pd.Categorical(text), p, "error")
    if form == "nullable":
        dtype = "Float64" if not labels else "Int64"
        values = y if not labels else y.astype(np.int64)
        return ApiInput(pd.Series(values, dtype=dtype), p, "either", y, p)
    if form == "nullable-na":
        dtype = "Float64" if not labels else "Int64"
        values = pd.array(y if not labels else y.astype(np.int64), dtype=dtype)
        values[3] = pd.NA
        return ApiInput(pd.Series(values), p, "error")
    if form == "nan-label":
        yn = y.copy()
        yn[3] = np.nan
        return ApiInput(yn, p, "error")
    if form == "float32":
        p32 = p.astype(np.float32)
        return ApiInput(y, p32, "value", y, p32.astype(np.float64))
    if form == "dataframe-column":
        if multi:
            return ApiInput(pd.DataFrame({"y": y}), pd.DataFrame(p), "value", y, p)
        return ApiInput(y, pd.DataFrame({"pred": p}), "value", y, p)
    if form == "weight-series":
        w = np.arange(len(y)) % 3
        return ApiInput(y, p, "value", y, p, weight=pd.Series(w), w_ref=w.astype(float))
    if form == "minus-one":  # binary -1/+1 labels
        return ApiInput(pd.Series(2 * y.astype(np.int64) - 1), p, "either", y, p)
    if form == "one-hot-bool":  # multiclass (n, K) targets
        onehot = np.eye(p.shape[1], dtype=bool)[y.astype(int)]
        return ApiInput(pd.DataFrame(onehot), pd.DataFrame(p), "value", y, p)
    if form == "label-out-of-range":
        bad = y.astype(np.int64)
        bad[3] = 2 if spec.task == "binary" else p.shape[1]  # no such class
        return ApiInput(bad, p, "error")
    if form == "label-minus-one":  # numpy would index the last class
        bad = y.astype(np.int64)
        bad[3] = -1
        return ApiInput(bad, p, "error")
    if form == "label-fraction":
        bad = y.copy()
        bad[3] = 1.5
        return ApiInput(bad, p, "error")
    raise AssertionError(form)


#: Forms only for some tasks.
API_FORM_TASKS = {
    "minus-one": ("binary",),
    "one-hot-bool": ("multiclass",),
    "label-out-of-range": ("binary", "multiclass"),
    "label-minus-one": ("multiclass",),
    "label-fraction": ("multiclass",),
}

API_FORMS = [
    "series",
    "list",
    "int",
    "bool",
    "categorical",
    "categorical-series",
    "categorical-text",
    "nullable",
    "nullable-na",
    "nan-label",
    "float32",
    "dataframe-column",
    "weight-series",
    *API_FORM_TASKS,
]

#: Known API bugs: (form, loss name or "*", task or "*") -> reason.
KNOWN_API_BUGS: dict[tuple[str, str, str], str] = {}


def _api_params() -> list[Any]:
    out = []
    for form in API_FORMS:
        for spec in SPECS:
            if spec.task not in API_FORM_TASKS.get(form, (spec.task,)):
                continue
            reason = next(
                (
                    r
                    for (f, name, task), r in KNOWN_API_BUGS.items()
                    if f == form and name in (spec.name, "*") and task in (spec.task, "*")
                ),
                None,
            )
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(spec, form, marks=marks, id=f"{form}-{spec.task}-{spec.name}"))
    return out


@pytest.mark.parametrize(("spec", "form"), _api_params())
def test_api_cost_on_what_people_pass(spec: LossSpec, form: str) -> None:
    case = _api_input(spec, form)
    loss = _bound(spec)
    try:
        got = loss.cost(case.y, case.p, case.weight)
    except LossctlError as exc:
        assert case.expect != "value", f"{form}: refused where a value is due: {exc}"
        assert str(exc).strip()
        return
    # Anything but a LossctlError (a raw numpy or pandas exception) fails the test.
    assert case.expect != "error", f"{form}: {got} where a LossctlError is due"
    assert case.y_ref is not None and case.p_ref is not None
    expected = _reference(spec, case.y_ref, case.p_ref, case.w_ref)
    assert math.isfinite(got)
    assert got == pytest.approx(expected, rel=1e-9), f"{form}: {got} != {expected}"
