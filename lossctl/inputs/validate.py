"""From Arrow chunks to float64 arrays: every check on the data lives here.

A :class:`Validator` converts each chunk for one resolved column map and task:
targets to 0/1 or class indices, predictions to float64 (n,) or (n, K),
weights, group codes and ids; non-finite values are counted (``--nan raise``)
or dropped (``--nan omit``). Numeric columns go from Arrow to numpy directly;
pandas is never needed on this path.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from lossctl.errors import InputError, UsageError
from lossctl.inputs.columns import MULTICLASS_PREFIXES, ColumnMap, class_names, class_numbers
from lossctl.inputs.readers import NUMBER, bad_value_error

if TYPE_CHECKING:
    import pyarrow as pa

    from lossctl.inputs.labels import Labels

#: How many row numbers an error shows.
SHOW_ROWS = 5
#: Probabilities this far outside [0, 1] are float rounding: clipped, with a warning.
PROB_TOLERANCE = 1e-9
#: Integers beyond this magnitude have no exact float64 (2**53).
EXACT_INT = 2**53
_TRUE = {"true", "t", "yes", "y"}
_FALSE = {"false", "f", "no", "n"}
NULL_GROUP = "<null>"


@dataclass
class Groups:
    """Group membership of a block: integer codes into ``labels`` (distinct)."""

    codes: np.ndarray
    labels: Labels
    #: An order of the rows that puts each group's rows together, when grouping found
    #: one (then the block need not be sorted by code again).
    order: np.ndarray | None = None

    def take(self, keep: np.ndarray) -> Groups:
        return Groups(self.codes[keep], self.labels)


@dataclass
class Arrays:
    """One validated block. ``rows`` are the 1-based row numbers of the rows kept."""

    y_true: np.ndarray
    y_pred: np.ndarray
    weight: np.ndarray | None
    rows: np.ndarray
    groups: Groups | None = None
    ids: np.ndarray | None = None
    #: Rows of the chunk that were kept (None: all of them).
    keep: np.ndarray | None = None
    #: The series of each row (``--series``) and its time key (``--time``, sortable).
    series: Groups | None = None
    times: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.rows.shape[0])


def _number_text(v: float) -> str:
    """A numeric label as text: ``1`` for 1.0, ``0.5`` for 0.5."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _class_list(classes: tuple[str, ...], numbers: tuple[int, ...]) -> str:
    """``0=setosa, 1=versicolor, ...``: which label each class column stands for."""
    pairs = [f"{n}={c}" for n, c in zip(numbers, classes, strict=True)]
    return ", ".join(pairs[:12]) + (", ..." if len(pairs) > 12 else "")


def _rows_text(rows: np.ndarray, total: int | None = None) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:SHOW_ROWS])
    return shown + (", ..." if (total if total is not None else len(rows)) > SHOW_ROWS else "")


def _kind(t: pa.DataType) -> str:
    """'number', 'bool', 'text', 'null' or 'other' for an Arrow type."""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return _kind(t.value_type)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "text"
    if pa.types.is_null(t):
        return "null"
    return "other"


def type_error(column: str, source: str, t: pa.DataType) -> InputError:
    """The error for a column whose Arrow type holds no numbers or labels."""
    import pyarrow as pa

    where = f"column '{column}'" + (f" of {source}" if source else "")
    if pa.types.is_temporal(t):
        what = f"holds dates or timestamps ({t})"
        fix = "it must be numeric: convert it (e.g. to seconds or days), or pick another column."
    elif pa.types.is_nested(t):
        what = f"holds lists or structs ({t}), one value per row is needed"
        fix = "give each value its own column (--pred 'prob_*' for class scores)."
    else:
        what = f"has type {t}, not numbers"
        fix = "pick another column."
    return InputError(f"{where} {what}; {fix}")


def _decoded(col: Any) -> Any:
    import pyarrow as pa

    # Casts with the column's own method: pyarrow.compute (80 ms to import) only
    # where a kernel is needed.
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    if pa.types.is_string_view(col.type):  # polars' text type: few kernels take it
        col = col.cast(pa.string())
    return col


def numpy_view(col: Any, dtype: Any) -> np.ndarray:
    """A fixed-width Arrow column (Array or ChunkedArray, no nulls) as numpy.

    Reads the data buffers directly: pyarrow's ``to_numpy`` would import pandas
    (0.3 s of start-up). One chunk is a zero-copy, read-only view.
    """
    chunks = col.chunks if hasattr(col, "chunks") else [col]
    width = np.dtype(dtype).itemsize
    parts = [
        np.frombuffer(a.buffers()[1], dtype=dtype, count=len(a), offset=a.offset * width)
        for a in chunks
        if len(a)
    ]
    if not parts:
        return np.empty(0, dtype=dtype)
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _float64(col: Any) -> np.ndarray:
    """A float64 Arrow column as numpy, nulls as NaN."""
    import pyarrow as pa

    if col.null_count:
        import pyarrow.compute as pc

        col = pc.fill_null(col, pa.scalar(float("nan"), pa.float64()))
    return numpy_view(col, np.float64)


def to_float(col: Any, column: str, source: str, start: int) -> np.ndarray:
    """An Arrow column as float64 (nulls as NaN); non-numeric text is an error naming its row."""
    import pyarrow as pa

    col = _decoded(col)
    kind = _kind(col.type)
    if pa.types.is_float64(col.type):
        return _float64(col)
    import pyarrow.compute as pc  # not before: 80 ms of import a float column never needs

    if pa.types.is_integer(col.type) and col.type.bit_width >= 64:
        _check_exact(col, column, source, start)
    if kind in ("number", "bool", "null"):
        return _float64(pc.cast(col, pa.float64()))
    if kind == "text":
        try:
            return _float64(pc.cast(col, pa.float64()))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            values = col.combine_chunks() if hasattr(col, "combine_chunks") else col
            # Blanks are missing; the rest must be numbers (readers.NUMBER).
            trimmed = pc.utf8_trim_whitespace(values)
            blank = pc.equal(trimmed, "")
            trimmed = pc.if_else(blank, pa.scalar(None, pa.string()), trimmed)
            ok = pc.match_substring_regex(trimmed, f"^(?:{NUMBER.pattern})$", ignore_case=True)
            bad = pc.and_kleene(pc.is_valid(trimmed), pc.invert(ok))
            if pc.any(bad).as_py():
                i = int(pc.index(bad, True).as_py())
                raise bad_value_error(column, source, values[i].as_py(), start + i + 1) from None
            return _float64(pc.cast(trimmed, pa.float64()))
    raise type_error(column, source, col.type)


def _check_exact(col: Any, column: str, source: str, start: int) -> None:
    """64-bit integers must fit float64 exactly (|v| <= 2**53): labels and counts beyond
    that would silently change value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_unsigned_integer(col.type):
        beyond = pc.greater(col, pa.scalar(EXACT_INT, col.type))
    else:
        limit = pa.scalar(EXACT_INT, pa.int64())
        beyond = pc.or_(pc.greater(col, limit), pc.less(col, pa.scalar(-EXACT_INT, pa.int64())))
    if not pc.any(beyond).as_py():
        return
    beyond = beyond.combine_chunks() if hasattr(beyond, "combine_chunks") else beyond
    i = int(pc.index(beyond, True).as_py())
    value = col[i].as_py() if not hasattr(col, "chunks") else col.combine_chunks()[i].as_py()
    raise InputError(
        f"column '{column}' of {source} has the integer {value} at row {start + i + 1}, beyond "
        "2**53: float64 cannot hold it exactly. Store it as a floating-point number if an "
        "approximate value is meant, or pick another column."
    )


def to_text(col: Any, column: str = "", source: str = "") -> Any:
    """An Arrow column as stripped strings (nulls stay null); lists and structs are errors."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = _decoded(col)
    if _kind(col.type) != "text":
        try:
            col = pc.cast(col, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise type_error(column or "?", source, col.type) from None
    return pc.utf8_trim_whitespace(col)


def label_floats(col: Any, name: str, source: str, start: int) -> np.ndarray:
    """One multilabel column as 0/1: numbers and booleans as they are, text words
    true/false, yes/no, t/f, y/n (any case) as 1/0; other text is an error."""
    col = _decoded(col)
    if _kind(col.type) != "text":
        return to_float(col, name, source, start)
    words = [None if v is None else str(v).strip().lower() for v in to_text(col).to_pylist()]
    out = np.empty(len(words))
    for i, w in enumerate(words):
        if w is None or w == "":
            out[i] = np.nan
        elif w in _TRUE:
            out[i] = 1.0
        elif w in _FALSE:
            out[i] = 0.0
        else:
            try:
                out[i] = float(w)
            except ValueError:
                raise InputError(
                    f"column '{name}' of {source} has {w!r} at row {start + i + 1}; "
                    "multilabel targets are 0/1, true/false or yes/no, one column per label."
                ) from None
    return out


def _unique_text(col: Any) -> set[str]:
    import pyarrow.compute as pc

    return {v for v in pc.unique(col).to_pylist() if v is not None}


def map_labels(text: Any, mapping: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Text labels to numbers via ``mapping``: (values with NaN for nulls, unknown-label mask).

    Dictionary-encodes the column, so the Python look-up runs once per distinct label.
    """
    import pyarrow.compute as pc

    text = text.combine_chunks() if hasattr(text, "combine_chunks") else text
    encoded = pc.dictionary_encode(text, null_encoding="encode")
    codes = numpy_view(encoded.indices, np.int32)
    labels = encoded.dictionary.to_pylist()
    lookup = np.array([np.nan if v is None else mapping.get(v, np.nan) for v in labels])
    unknown_label = np.array([v is not None and v not in mapping for v in labels], dtype=bool)
    if not labels:
        return np.full(len(codes), np.nan), np.zeros(len(codes), dtype=bool)
    return lookup[codes], unknown_label[codes]


@dataclass
class Validator:
    """Converts chunks for one resolved column map and task."""

    columns: ColumnMap
    task: str
    source: str
    nan: str = "raise"
    pos_label: str | None = None
    #: ``probability``: predictions within PROB_TOLERANCE outside [0, 1] are clipped.
    kind: str = ""
    n_rows: int = 0
    n_dropped: int = 0
    nan_rows: list[int] = field(default_factory=list)
    nan_count: int = 0
    nan_columns: dict[str, int] = field(default_factory=dict)
    labels_seen: set[str] = field(default_factory=set)
    unnormalised_rows: int = 0
    seen_zero: bool = False
    seen_minus_one: bool = False
    positional_classes: bool = False
    bool_target: bool = False
    clipped_rows: int = 0
    clipped_first: int = 0
    clipped_file: str = ""
    #: Rows whose predicted probabilities are all exactly 0 or 1, of ``pred_rows``.
    hard_rows: int = 0
    pred_rows: int = 0
    #: Loss keys that divide by the target (mape): zero targets are counted for them.
    divides_by_target: tuple[str, ...] = ()
    zero_targets: int = 0
    #: Warnings decided before reading (from the first rows), kept in order.
    notes: list[str] = field(default_factory=list)
    #: Rows whose quantiles cross (a lower level above a higher one), the first of them.
    crossing_rows: int = 0
    crossing_first: int = 0
    crossing_file: str = ""
    #: The --time column holds text: rows are ordered by it as text.
    time_text: bool = False

    def fresh(self) -> Validator:
        """A validator with the same settings and no state (for a parallel part, or a
        sequential pass again); the notes decided before reading are kept."""
        return Validator(
            self.columns, self.task, self.source, self.nan, self.pos_label, kind=self.kind,
            divides_by_target=self.divides_by_target, notes=list(self.notes),
        )  # fmt: skip

    def reading(self, source: str) -> None:
        """Name ``source`` in messages from now on (each file of a dataset in turn)."""
        self.source = source

    def absorb(self, other: Validator, offset: int = 0) -> None:
        """Add the counts of another part's validator (parts in file order); ``offset``
        is the number of the part's first row in its file, less one."""
        self.n_rows += other.n_rows
        self.n_dropped += other.n_dropped
        self.nan_count += other.nan_count
        for k, v in other.nan_columns.items():
            self.nan_columns[k] = self.nan_columns.get(k, 0) + v
        self.labels_seen |= other.labels_seen
        self.unnormalised_rows += other.unnormalised_rows
        self.seen_zero |= other.seen_zero
        self.seen_minus_one |= other.seen_minus_one
        self.positional_classes |= other.positional_classes
        self.bool_target |= other.bool_target
        if other.clipped_rows and not self.clipped_rows:
            self.clipped_first = other.clipped_first + offset
            self.clipped_file = other.clipped_file
        self.clipped_rows += other.clipped_rows
        self.hard_rows += other.hard_rows
        self.pred_rows += other.pred_rows
        self.zero_targets += other.zero_targets
        if other.crossing_rows and not self.crossing_rows:
            self.crossing_first = other.crossing_first + offset
            self.crossing_file = other.crossing_file
        self.crossing_rows += other.crossing_rows

    @property
    def needs_exact_rows(self) -> bool:
        """State that only a sequential pass can report with the right row numbers."""
        mixed_signs = self.seen_zero and self.seen_minus_one
        too_many_labels = self.pos_label is not None and len(self.labels_seen) > 2
        return bool(self.nan_count and self.nan == "raise") or mixed_signs or too_many_labels

    # -- target conversion -------------------------------------------------------

    def _binary_target(self, col: Any, start: int) -> np.ndarray:

        name = self.columns.target[0]
        col = _decoded(col)
        if _kind(col.type) in ("number", "bool", "null"):
            self.bool_target = _kind(col.type) == "bool"
            y = to_float(col, name, self.source, start)
            if len(self.labels_seen) <= 2:
                values = np.unique(y[np.isfinite(y)])[:3]
                if self.bool_target:
                    self.labels_seen |= {"true" if v else "false" for v in values}
                else:
                    self.labels_seen |= {_number_text(v) for v in values}
            raw = y
            neg = y == -1
            self.seen_minus_one |= bool(neg.any())
            self.seen_zero |= bool((y == 0).any())
            if self.seen_minus_one and self.seen_zero:
                raise InputError(
                    f"column '{name}' of {self.source} mixes labels 0 and -1 (in the rows up to "
                    f"{start + len(y)}); use 0/1 or -1/1."
                )
            if neg.any():
                y = np.where(neg, 0.0, y)  # -1/+1 labels -> 0/1 (hinge maps back to signs)
            if self.pos_label is not None:
                word = self.pos_label.strip().lower()
                try:
                    pos = float(word in _TRUE) if self.bool_target else float(self.pos_label)
                except ValueError:
                    raise self._pos_label_error() from None
                if self.bool_target and word not in _TRUE | _FALSE:
                    raise self._pos_label_error()
                if len(self.labels_seen) > 2:
                    raise InputError(self._too_many_labels(name))
                y = np.where(np.isnan(raw), np.nan, (raw == pos).astype(np.float64))
            return y
        if _kind(col.type) == "other":
            raise type_error(name, self.source, col.type)
        text = to_text(col, name, self.source)
        self.labels_seen |= _unique_text(text)
        if self.pos_label is not None:
            if len(self.labels_seen) > 2:
                raise InputError(self._too_many_labels(name))
            y, _ = map_labels(text, {v: float(v == self.pos_label) for v in self.labels_seen})
            return y
        if {v.lower() for v in self.labels_seen} <= _TRUE | _FALSE:
            y, _ = map_labels(text, {v: float(v.lower() in _TRUE) for v in self.labels_seen})
            return y
        labels = ", ".join(repr(v) for v in sorted(self.labels_seen)[:6])
        raise InputError(
            f"column '{name}' of {self.source} holds text labels ({labels}); "
            "pass --pos-label LABEL to say which one is the positive class."
        )

    def _paired_targets(self, table: pa.Table, start: int) -> np.ndarray:
        """K target columns of a multi-output regression or a multilabel task: (n, K);
        multilabel targets are 0/1 (or booleans)."""
        cols = self.columns.target
        read = label_floats if self.task == "multilabel" else to_float
        y = np.column_stack([read(table.column(c), c, self.source, start) for c in cols])
        if self.task == "multilabel":
            with np.errstate(invalid="ignore"):
                bad = np.isfinite(y) & (y != 0) & (y != 1)
            if bad.any():
                i, j = (int(v[0]) for v in np.nonzero(bad))
                raise InputError(
                    f"column '{cols[j]}' of {self.source} has {_number_text(float(y[i, j]))} at "
                    f"row {start + i + 1}; multilabel targets are 0/1 (or true/false), one "
                    "column per label. For K outputs of a regression pass --task regression."
                )
        return y

    def _check_one_hot(self, y: np.ndarray, start: int) -> None:
        """K target columns of 0/1 are a distribution only when each row has one 1."""
        hard = ((y == 0) | (y == 1)).all(axis=1)
        bad = hard & (y.sum(axis=1) != 1)
        if not bad.any():
            return
        where = np.flatnonzero(bad)
        cols = self.columns.target
        named = ", ".join(cols[:4]) + (", ..." if len(cols) > 4 else "")
        raise InputError(
            f"target columns {named} of {self.source} hold 0/1 values whose rows do not sum "
            f"to 1 (first at row {start + int(where[0]) + 1}): they look multilabel; pass "
            "--task multilabel with binary losses (bce, zero_one), or a multiclass target "
            "with exactly one 1 per row (or one label column)."
        )

    def _too_many_labels(self, name: str) -> str:
        return (
            f"column '{name}' of {self.source} has more than two labels "
            f"({', '.join(sorted(self.labels_seen)[:6])}); a binary target with --pos-label "
            "needs two (use --task multiclass with one column per class)."
        )

    @property
    def positive(self) -> str | None:
        """The positive label of a binary target: --pos-label, else the one chosen."""
        if self.task != "binary":
            return None
        if self.pos_label is not None:
            return self.pos_label
        if self.bool_target:
            return "true"
        text = sorted(v for v in self.labels_seen if v.lower() in _TRUE)
        if text:
            return "/".join(text)
        return "1"

    def _check_pos_label(self) -> None:
        """--pos-label must be one of the labels present."""
        if self.task != "binary" or self.pos_label is None or not self.labels_seen:
            return
        present = self.labels_seen
        if self.pos_label in present:
            return
        try:
            if _number_text(float(self.pos_label)) in present:
                return
        except ValueError:
            pass
        word = self.pos_label.strip().lower()
        as_bool = ("true" if word in _TRUE else "false") if word in _TRUE | _FALSE else None
        if self.bool_target and as_bool in present:
            return
        raise self._pos_label_error()

    def _pos_label_error(self) -> UsageError:
        shown = ", ".join(repr(v) for v in sorted(self.labels_seen)[:6])
        return UsageError(
            f"--pos-label '{self.pos_label}' is not a label of column "
            f"'{self.columns.target[0]}' of {self.source}; the labels present are {shown}. "
            "Pass one of them."
        )

    def _multiclass_target(self, table: pa.Table, start: int) -> np.ndarray:

        cols = self.columns.target
        k = len(self.columns.pred)
        if len(cols) > 1:
            y = np.column_stack([to_float(table.column(c), c, self.source, start) for c in cols])
            self._check_one_hot(y, start)
            return y
        name = cols[0]
        col = _decoded(table.column(name))
        if _kind(col.type) in ("number", "bool", "null"):
            return self._class_indices(to_float(col, name, self.source, start), start)
        if _kind(col.type) == "other":
            raise type_error(name, self.source, col.type)
        text = to_text(col, name, self.source)
        # A label may be the class name ('class_0') or the whole column name ('prob_class_0').
        index = {name: float(i) for i, name in enumerate(self.columns.pred)}
        index.update({name: float(i) for i, name in enumerate(class_names(self.columns.pred))})
        index.update({name: float(i) for i, name in enumerate(self.columns.classes)})
        numbers = class_numbers(self.columns.classes)
        if numbers is not None and not self.columns.ordered:  # labels '0', '1' as text
            for i, number in enumerate(numbers):
                index.setdefault(str(number), float(i))
        elif self.columns.ordered:  # --classes: label i is column i, '0' as text too
            for i in range(k):
                index.setdefault(str(i), float(i))
        pos, unknown = map_labels(text, index)
        if unknown.any():
            i = int(np.argmax(unknown))
            raise InputError(
                f"column '{name}' of {self.source} has label {text[i].as_py()!r} at row "
                f"{start + i + 1}, which is not one of the {k} classes "
                f"({', '.join(self.columns.classes)}) of the prediction columns; "
                "labels must be class indices 0..K-1 or class names."
            )
        return pos

    def _class_indices(self, y: np.ndarray, start: int) -> np.ndarray:
        """Integer labels as column positions: label v is the class column named (or
        ending in) v; with other class names, the column order (and a warning)."""
        classes = self.columns.classes
        numbers = class_numbers(classes)
        if self.columns.ordered:  # --classes: the columns are in label order
            numbers = tuple(range(len(classes)))
        elif numbers is None:
            self.positional_classes = True
            numbers = tuple(range(len(classes)))
        lookup = np.array(numbers, dtype=np.float64)
        order = np.argsort(lookup)
        at = np.searchsorted(lookup[order], y)
        at = np.minimum(at, len(lookup) - 1)
        found = lookup[order][at] == y
        unknown = ~found & ~np.isnan(y)
        if unknown.any():
            i = int(np.argmax(unknown))
            value = y[i]
            shown = int(value) if float(value).is_integer() else value
            raise InputError(
                f"column '{self.columns.target[0]}' of {self.source} has label {shown} at row "
                f"{start + i + 1}, which has no class column (classes: "
                f"{_class_list(classes, numbers)}); give one prediction column per class."
            )
        return np.where(found, order[at].astype(np.float64), np.nan)

    def _clip_rounding(self, y_pred: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Probabilities a float rounding error outside [0, 1] (at most PROB_TOLERANCE),
        clipped into it and counted; values further out are left for the loss to refuse."""
        near = ((y_pred < 0) & (y_pred >= -PROB_TOLERANCE)) | (
            (y_pred > 1) & (y_pred <= 1 + PROB_TOLERANCE)
        )
        if not near.any():
            return y_pred
        hit = near.any(axis=1) if near.ndim > 1 else near
        if not self.clipped_rows:
            self.clipped_first = int(rows[np.argmax(hit)])
            self.clipped_file = self.source
        self.clipped_rows += int(hit.sum())
        return np.where(near, np.clip(y_pred, 0.0, 1.0), y_pred)

    # -- a chunk ------------------------------------------------------------------------

    def convert(self, table: pa.Table, start: int) -> Arrays:
        """Validate and convert one chunk starting at 0-based row ``start``."""
        cm = self.columns
        n = table.num_rows
        self.n_rows += n
        if self.task == "binary":
            y_true = self._binary_target(table.column(cm.target[0]), start)
        elif self.task == "multiclass":
            y_true = self._multiclass_target(table, start)
        elif len(cm.target) > 1:
            y_true = self._paired_targets(table, start)
        else:
            y_true = to_float(table.column(cm.target[0]), cm.target[0], self.source, start)
        paired = len(cm.target) > 1
        if self.task != "multiclass" and len(cm.pred) > 1 and not cm.kind and not paired:
            raise several_predictions(cm, self.task, self.source)
        preds = [to_float(table.column(c), c, self.source, start) for c in cm.predictions]
        columns = self.task == "multiclass" or paired or cm.kind in ("quantiles", "ensemble")
        if cm.kind in ("quantiles", "ensemble"):
            # One member (level) after another: (n, K) in Fortran order, a copy per column
            # instead of a strided scatter; the distribution losses read it either way.
            y_pred = np.stack(preds).T
        else:
            y_pred = np.column_stack(preds) if columns else preds[0]
        if cm.kind == "gaussian":
            y_pred = self._gaussian(preds[0], preds[1], start)
        weight = None
        if cm.weight:
            weight = to_float(table.column(cm.weight), cm.weight, self.source, start)

        # Non-finite values in any used column: count (raise) or drop (omit).
        bad = _row_not_finite(y_true) | _row_not_finite(y_pred)
        if weight is not None:
            bad |= ~np.isfinite(weight)
        rows = np.arange(start + 1, start + n + 1)
        keep = None
        if bad.any():
            where = np.flatnonzero(bad)
            self.nan_count += where.size
            if len(self.nan_rows) < SHOW_ROWS:
                self.nan_rows.extend(rows[where[:SHOW_ROWS]].tolist())
            used: list[tuple[tuple[str, ...], np.ndarray]] = [
                (cm.target, y_true),
                (cm.predictions, y_pred),
            ]
            if cm.weight and weight is not None:
                used.append(((cm.weight,), weight))
            for c, arr in used:
                hits = int(_row_not_finite(arr).sum())
                if hits:
                    key = ", ".join(c) if len(c) <= 2 else f"{c[0]}, ..."
                    self.nan_columns[key] = self.nan_columns.get(key, 0) + hits
            keep = ~bad
            y_true, y_pred, rows = y_true[keep], y_pred[keep], rows[keep]
            if weight is not None:
                weight = weight[keep]
            self.n_dropped += int(where.size)

        if weight is not None and (weight < 0).any():
            pos = np.flatnonzero(weight < 0)
            s = "s" if len(pos) > 1 else ""
            raise InputError(
                f"column '{cm.weight}' of {self.source} has {len(pos)} negative weight{s} "
                f"(row{s} {_rows_text(rows[pos])}); weights must be finite and >= 0."
            )
        if self.kind == "probability" and self.task in ("binary", "multiclass", "multilabel"):
            y_pred = self._clip_rounding(y_pred, rows)
            hard = (y_pred == 0) | (y_pred == 1)
            self.hard_rows += int((hard.all(axis=1) if hard.ndim > 1 else hard).sum())
            self.pred_rows += int(y_pred.shape[0])
        if self.divides_by_target:
            self.zero_targets += int(np.count_nonzero(y_true == 0))
        if cm.kind == "quantiles" and y_pred.shape[0] and len(cm.levels) > 1:
            increasing = all(a < b for a, b in zip(cm.levels, cm.levels[1:], strict=False))
            ordered = y_pred if increasing else y_pred[:, np.argsort(cm.levels, kind="stable")]
            crossing = (ordered[:, 1:] < ordered[:, :-1]).any(axis=1)
            if crossing.any():
                if not self.crossing_rows:
                    self.crossing_first = int(rows[np.argmax(crossing)])
                    self.crossing_file = self.source
                self.crossing_rows += int(crossing.sum())
        probs = self.task == "multiclass" and ((y_pred >= 0) & (y_pred <= 1)).all()
        if probs and y_pred.shape[0]:
            sums = y_pred.sum(axis=1)
            self.unnormalised_rows += int((np.abs(sums - 1.0) > 1e-6).sum())

        groups = None
        if cm.by:
            groups = group_codes(table.column(cm.by))
            if keep is not None:
                groups = groups.take(keep)
        ids = None
        if cm.id:
            ids = text_values(table.column(cm.id))
            if keep is not None:
                ids = ids[keep]
        series = times = None
        if cm.series:
            series = group_codes(table.column(cm.series))
            if keep is not None:
                series = series.take(keep)
        if cm.time:
            times = time_key(table.column(cm.time), cm.time, self.source, start)
            self.time_text = self.time_text or times.dtype.kind == "O"
            if keep is not None:
                times = times[keep]
        return Arrays(y_true, y_pred, weight, rows, groups, ids, keep, series, times)

    def _gaussian(self, mean: np.ndarray, spread: np.ndarray, start: int) -> np.ndarray:
        """(n, 2): the mean and the variance (--var as given, --std squared). A standard
        deviation must be > 0, a variance >= 0 (NaN and inf follow --nan)."""
        cm = self.columns
        is_var = cm.spread_is_var
        with np.errstate(invalid="ignore"):
            bad = np.isfinite(spread) & ((spread < 0) if is_var else (spread <= 0))
        if bad.any():
            self._bad_spread(np.flatnonzero(bad) + start + 1)
        return np.column_stack([mean, spread if is_var else spread * spread])

    def _bad_spread(self, rows: np.ndarray) -> None:
        cm = self.columns
        is_var = cm.spread_is_var
        where = rows
        what, rule = ("variance", "< 0") if is_var else ("standard deviation", "<= 0")
        raise InputError(
            f"column '{cm.spread}' of {self.source} has {where.size} {what}(s) {rule} (row"
            f"{'s' if where.size > 1 else ''} {_rows_text(where)}); a Gaussian needs "
            + (
                "a variance >= 0."
                if is_var
                else "a standard deviation > 0: fix them, or pass "
                "--var if the column holds variances (0 is allowed there)."
            )
        )

    def finish(self, row_labels: Sequence[str] | None = None) -> None:
        """Raise the --nan raise error, or a --pos-label not present, once every chunk has
        been counted. ``row_labels`` name the first bad rows when parts were counted
        apart (``FILE:ROW`` on a dataset); by default they are :attr:`nan_rows`."""
        self._check_pos_label()
        if self.nan_count and self.nan == "raise":
            cols = ", ".join(f"'{c}' ({k})" for c, k in self.nan_columns.items())
            if row_labels is None:
                first = _rows_text(np.array(self.nan_rows), self.nan_count)
            else:
                more = ", ..." if self.nan_count > SHOW_ROWS else ""
                first = ", ".join(row_labels[:SHOW_ROWS]) + more
            many = self.nan_count > 1
            raise InputError(
                f"{self.nan_count} row{'s' if many else ''} of {self.source} "
                f"{'have' if many else 'has'} NaN, inf or empty values in {cols}; first at "
                f"row{'s' if many else ''} "
                f"{first}. Fix them, or pass --nan omit to drop those rows."
            )

    def warnings(self) -> list[str]:
        out = list(self.notes)
        if self.time_text:
            out.append(time_text_note(self.columns.time or "", self.source))
        if self.crossing_rows:
            out.append(
                f"{self.crossing_rows} row(s) have crossing quantiles (a lower level above a "
                f"higher one; first at row {self.crossing_first} of {self.crossing_file}); "
                "scored as given, not re-sorted."
            )
        if self.clipped_rows:
            pred = self.columns.pred
            cols = ", ".join(pred[:3]) + (", ..." if len(pred) > 3 else "")
            out.append(
                f"{self.clipped_rows} row(s) of {cols} have probabilities within "
                f"{PROB_TOLERANCE:g} outside [0, 1] (float rounding; first at row "
                f"{self.clipped_first} of {self.clipped_file}); clipped into [0, 1]."
            )
        if self.positional_classes:
            classes = self.columns.classes
            out.append(
                f"integer labels of '{self.columns.target[0]}' matched to the class columns by "
                f"their order: {_class_list(classes, tuple(range(len(classes))))}; pass "
                "--classes NAME,NAME,... (the class of label 0, 1, ...) if that is not the "
                "mapping."
            )
        if self.pred_rows and self.hard_rows == self.pred_rows:
            pred = self.columns.pred
            cols = f"'{pred[0]}'" if len(pred) == 1 else f"{pred[0]}, ..., {pred[-1]}"
            loss = "bce" if self.task == "binary" else "cross_entropy"
            out.append(
                f"every prediction in {cols} is exactly 0 or 1: these look like class labels "
                "(predict()) rather than probabilities (predict_proba()); a log loss such as "
                f"{loss} then counts each miss at its clipping limit. Pass probabilities, or "
                "use zero_one for the error rate."
            )
        if self.zero_targets:
            keys = ", ".join(self.divides_by_target)
            out.append(
                f"{self.zero_targets} target(s) in '{self.columns.target[0]}' are 0: {keys} "
                "divides by max(|target|, 2.2e-16) there, so each such row adds about "
                "|error| / 2.2e-16 and they dominate the cost; use smape or mae for targets "
                "with zeros."
            )
        if self.unnormalised_rows:
            out.append(
                f"{self.unnormalised_rows} probability row(s) do not sum to 1 (tolerance 1e-6); "
                "used as given, not renormalised."
            )
        return out


def time_text_note(column: str, source: str) -> str:
    """The warning for a --time column of text."""
    return (
        f"the --time column '{column}' of {source} holds text: rows are ordered by it as "
        "text, which is time order for ISO dates (2024-01-31) but not for 31/01/2024; "
        "write dates as ISO or numbers."
    )


def time_key(col: Any, column: str, source: str, start: int) -> np.ndarray:
    """A time column as a sortable numpy array: dates and timestamps as int64 (their
    unit), integers as int64, floats as float64, text as an object array of strings.
    An empty time is an error naming its row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = _decoded(col)
    if col.null_count:
        valid = _validity(col.combine_chunks() if hasattr(col, "combine_chunks") else col)
        row = start + int(np.argmin(valid)) + 1
        raise InputError(
            f"column '{column}' of {source} has an empty time at row {row}; every row of a "
            "series needs its time (--time)."
        )
    t = col.type
    if pa.types.is_temporal(t):
        width = pa.int64() if t.bit_width == 64 else pa.int32()
        return numpy_view(pc.cast(col, width), np.int64 if t.bit_width == 64 else np.int32).astype(
            np.int64
        )
    if pa.types.is_integer(t):
        return numpy_view(pc.cast(col, pa.int64()), np.int64)
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        values = _float64(pc.cast(col, pa.float64()))
        if not np.isfinite(values).all():
            row = start + int(np.argmin(np.isfinite(values))) + 1
            raise InputError(
                f"column '{column}' of {source} has a time of {values[row - start - 1]} at "
                f"row {row}; times must be finite."
            )
        return values
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return np.array(col.to_pylist(), dtype=object)
    raise InputError(
        f"column '{column}' of {source} has type {t}, which is not a time; --time needs "
        "dates, timestamps, numbers or text that sorts in time order."
    )


def text_values(col: Any) -> np.ndarray:
    """A column as an object array of stripped strings (None for nulls)."""
    return np.array(to_text(col).to_pylist(), dtype=object)


def group_codes(col: Any) -> Groups:
    """Integer codes and labels of a group column (nulls form the group '<null>').

    Labels are stripped (labels equal after stripping are one group) and stay arrays
    (:class:`~lossctl.inputs.labels.Labels`): no Python string per label or row. Text is
    grouped by hashing its rows (:func:`~lossctl.inputs.labels.group_rows`); a
    dictionary column by its dictionary.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    from lossctl.inputs.labels import LabelIndex, Labels, group_rows

    if not pa.types.is_dictionary(col.type):
        text = to_text(col)  # stripped as str.strip does (the same whitespace)
        text = text.combine_chunks() if hasattr(text, "combine_chunks") else text
        if text.null_count:
            text = pc.fill_null(text, NULL_GROUP)
        codes, labels, order = group_rows(Labels.from_arrow(text))
        return Groups(codes, labels, order)
    if hasattr(col, "unify_dictionaries"):
        col = col.unify_dictionaries()  # one dictionary for every batch of the chunk
    chunks = col.chunks if hasattr(col, "chunks") else [col]
    if not chunks:
        return Groups(np.empty(0, dtype=np.intp), Labels.of([]))
    labels = _dictionary_labels(chunks[0].dictionary)
    # The index type is whatever the writer chose: pandas Categoricals of few categories
    # are int8 or int16 in Parquet and Feather, pyarrow's own encoding is int32.
    codes = np.concatenate(
        [numpy_view(c.indices, _index_dtype(c.indices.type)) for c in chunks]
    ).astype(np.intp)
    nulls = sum(c.null_count for c in chunks)
    if nulls:  # null entries of a dictionary column: a group of their own
        valid = np.concatenate([_validity(c) for c in chunks])
        codes = np.where(valid, codes, len(labels))
        labels = Labels.concat([labels, Labels.of([NULL_GROUP])])
    ranked = np.sort(labels.hashes)
    if (ranked[1:] == ranked[:-1]).any():  # labels equal after stripping (or one hash)
        index = LabelIndex()
        codes = index.slots(labels)[codes]
        labels = index.labels
    labels.distinct = True
    return Groups(codes, labels)


def mostly_distinct(table: pa.Table, columns: Sequence[str | None]) -> tuple[str, ...]:
    """The group columns of ``columns`` whose values in ``table`` (the first rows) are
    mostly distinct: read as text rather than as dictionaries, a reader's dictionary of
    a million labels costs more than :func:`group_codes` grouping the text. (A column
    that is a dictionary already stays one.)"""
    import pyarrow as pa

    out = []
    for c in dict.fromkeys(columns):
        if not c or c not in table.column_names:
            continue
        col = table.column(c)
        if pa.types.is_dictionary(col.type):
            continue
        import pyarrow.compute as pc  # only with a group column (80 ms of import)

        try:
            distinct = pc.count_distinct(col).as_py()
        except pa.ArrowNotImplementedError:  # not a type of labels: an error later
            continue
        if 2 * distinct > table.num_rows:
            out.append(c)
    return tuple(out)


def _dictionary_labels(dictionary: Any) -> Labels:
    """The labels of a dictionary's values: stripped text, '<null>' for a null."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from lossctl.inputs.labels import Labels

    t = dictionary.type
    if not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t)):
        values = dictionary.to_pylist()  # numbers, dates: as str() writes them
        return Labels.of([NULL_GROUP if v is None else str(v).strip() for v in values])
    if pa.types.is_string_view(t):
        dictionary = pc.cast(dictionary, pa.string())
    dictionary = pc.utf8_trim_whitespace(dictionary)  # the whitespace of str.strip
    if dictionary.null_count:
        dictionary = pc.fill_null(dictionary, NULL_GROUP)
    return Labels.from_arrow(dictionary)


def _index_dtype(t: Any) -> np.dtype[Any]:
    """The numpy dtype of an Arrow integer type (dictionary indices)."""
    import pyarrow as pa

    if not pa.types.is_integer(t):
        raise InputError(f"a dictionary column with {t} indices cannot be read as groups.")
    signed = pa.types.is_signed_integer(t)
    return np.dtype(f"{'i' if signed else 'u'}{t.bit_width // 8}")


def _validity(a: Any) -> np.ndarray:
    import pyarrow.compute as pc

    return numpy_view(pc.cast(pc.is_valid(a), "int8"), np.int8).astype(bool)


def _row_not_finite(a: np.ndarray) -> np.ndarray:
    bad = ~np.isfinite(a)
    return bad.any(axis=1) if bad.ndim > 1 else bad


# -- task inference --------------------------------------------------------------------


def several_predictions(columns: ColumnMap, task: str, source: str) -> InputError:
    """K prediction columns for one value target: two models, most likely."""
    pred = columns.pred
    target = columns.target[0]
    named = ", ".join(pred[:4]) + (", ..." if len(pred) > 4 else "")
    where = f" of {source}" if source else ""
    models = " ".join(f"-p {c}" for c in pred[:3]) + (" ..." if len(pred) > 3 else "")
    return InputError(
        f"{len(pred)} prediction columns ({named}) for the {task} target '{target}'{where}: "
        f"eval scores one model; to compare these, run 'lossctl compare {source or 'FILE'} "
        f"-t {target} {models}'. eval takes one prediction column per target, or K class "
        "columns for a multiclass label" + _distribution_hint(pred) + "."
    )


_TRAILING_NUMBER = re.compile(r"(\d+(?:\.\d+)?|\.\d+)$")


def _distribution_hint(pred: Sequence[str]) -> str:
    """When every column ends in a number (pred_0.1, member_3), the other two readings."""
    if not all(_TRAILING_NUMBER.search(c) for c in pred):
        return ""
    return (
        "; if they are one model's quantiles, pass --kind quantiles --levels (one per "
        "column), or --kind ensemble for its members"
    )


def _class_label_columns(table: pa.Table, columns: ColumnMap) -> tuple[np.ndarray, np.ndarray]:
    target, pred = columns.target[0], columns.pred[0]
    y = to_float(table.column(target), target, "", 0)
    p = to_float(table.column(pred), pred, "", 0)
    ok = np.isfinite(y) & np.isfinite(p)
    return y[ok], p[ok]


#: Fewest distinct integer labels for a target to look like a class label column.
MIN_CLASS_LABELS = 3
#: Most distinct values of a target read as class labels (more are counts or values).
MAX_CLASS_LABELS = 50


def _distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values: ``np.unique`` without its import of numpy.ma (20 ms
    of a small file's run)."""
    out = np.sort(values)
    if out.size:
        keep = np.empty(out.size, dtype=bool)
        keep[0] = True
        np.not_equal(out[1:], out[:-1], out=keep[1:])
        keep[1:] &= ~(np.isnan(out[1:]) & np.isnan(out[:-1]))  # one NaN, as np.unique
        out = out[keep]
    return out


def class_label_note(table: pa.Table, columns: ColumnMap) -> str | None:
    """A warning when a regression target and its one prediction column both hold the
    same few integers (class indices from ``predict()``): they are scored as values."""
    if len(columns.target) != 1 or len(columns.pred) != 1:
        return None
    for c in (*columns.target, *columns.pred):
        if _kind(_decoded(table.column(c)).type) != "number":
            return None
    try:
        y, p = _class_label_columns(table, columns)
    except InputError:
        return None
    labels = _distinct(y)
    if not MIN_CLASS_LABELS <= labels.size <= MAX_CLASS_LABELS or not y.size:
        return None
    integers = bool((labels == np.round(labels)).all() and (p == np.round(p)).all())
    if not integers or not set(_distinct(p).tolist()) <= set(labels.tolist()):
        return None
    shown = ", ".join(_number_text(v) for v in labels[:6]) + (", ..." if labels.size > 6 else "")
    return (
        f"'{columns.target[0]}' and '{columns.pred[0]}' both hold the same {labels.size} "
        f"integers ({shown}): scored as regression values. If they are class labels, pass "
        "the K class probability columns (--pred 'prob_*'), or --task regression to "
        "confirm values."
    )


def _continuous(table: pa.Table, columns: ColumnMap) -> bool:
    """A numeric target whose first rows hold a value that is not a whole number."""
    col = _decoded(table.column(columns.target[0]))
    if _kind(col.type) != "number":
        return False
    y = to_float(col, columns.target[0], "", 0)
    y = y[np.isfinite(y)]
    return bool(y.size) and bool((y != np.round(y)).any())


def infer_task(
    table: pa.Table,
    columns: ColumnMap,
    loss_tasks: set[str],
    task: str,
    pos_label: str | None,
    source: str = "",
) -> str:
    """The task: from --task, else from the losses, else from the data (the first rows)."""
    if columns.kind:
        return _distribution_task(table, columns, loss_tasks, task, source)
    if len(columns.target) > 1:
        return _paired_task(table, columns, loss_tasks, task, source)
    loss_tasks = loss_tasks - {"multilabel"}  # one target: a binary loss is binary
    if task == "multilabel":
        raise UsageError(
            "--task multilabel needs one target column per label: -t 'label_*' -p 'prob_*' "
            "(or repeated -t and -p)."
        )
    if task != "auto":
        _check_fits(task, loss_tasks)
        if task in ("regression", "binary") and len(columns.pred) > 1:
            raise several_predictions(columns, task, source)
        return task
    if len(loss_tasks) == 1:
        task = next(iter(loss_tasks))
        if task == "regression" and len(columns.pred) > 1 and len(columns.target) == 1:
            raise several_predictions(columns, task, source)
        return task
    if columns.multiclass and len(columns.target) == 1 and _continuous(table, columns):
        raise several_predictions(columns, "regression", source)
    if columns.multiclass or len(columns.target) > 1:
        guess = "multiclass"
    else:
        col = _decoded(table.column(columns.target[0]))
        kind = _kind(col.type)
        guess = "regression"
        if kind == "bool" or pos_label is not None:
            guess = "binary"
        elif kind in ("number", "null"):
            y = to_float(col, columns.target[0], "", 0)
            # A set, not np.unique (see _distinct).
            values = set(y[np.isfinite(y)].tolist())
            if values and (values <= {0.0, 1.0} or values <= {-1.0, 1.0}):
                guess = "binary"
        elif kind == "other":
            raise type_error(columns.target[0], "", col.type)
        else:
            labels = {v.lower() for v in _unique_text(to_text(col))}
            if labels <= _TRUE | _FALSE or len(labels) == 2:
                guess = "binary"
            else:
                raise InputError(
                    f"target column '{columns.target[0]}' holds text with {len(labels)} "
                    "distinct values and there is one prediction column; pass --task, "
                    "--pos-label for two labels, or the K class columns with --pred."
                )
    if loss_tasks and guess not in loss_tasks:
        return sorted(loss_tasks)[0] if len(loss_tasks) == 1 else guess
    return guess


def one_hot_note(table: pa.Table, columns: ColumnMap) -> str | None:
    """K target columns of 0/1 with one 1 per row are a multiclass one-hot target; when
    the predictions do not sum to 1 per row (independent labels' would not), a warning
    says so and names the option for the other reading."""
    if len(columns.target) < 2:
        return None
    try:
        y = np.column_stack([to_float(table.column(c), c, "", 0) for c in columns.target])
        p = np.column_stack([to_float(table.column(c), c, "", 0) for c in columns.pred])
    except InputError:
        return None
    ok = np.isfinite(y).all(axis=1) & np.isfinite(p).all(axis=1)
    y, p = y[ok], p[ok]
    if not y.size or not ((y == 0) | (y == 1)).all():
        return None
    if (np.abs(p.sum(axis=1) - 1.0) <= 1e-6).all():
        return None
    named = ", ".join(columns.target[:4]) + (", ..." if len(columns.target) > 4 else "")
    return (
        f"target columns {named} hold one 1 per row: read as a multiclass one-hot target, "
        "but the predictions do not sum to 1 per row, as independent labels' would not; "
        "pass --task multilabel if each label is a yes/no of its own."
    )


def _check_fits(task: str, loss_tasks: set[str]) -> None:
    """--task must be one the losses given are for."""
    if loss_tasks and task not in loss_tasks:
        raise UsageError(
            f"--task {task} does not fit the losses given (they are for "
            f"{', '.join(sorted(loss_tasks))})."
        )


#: Tasks of K paired target columns.
PAIRED_TASKS = ("multiclass", "multilabel", "regression")


def _paired_task(
    table: pa.Table, columns: ColumnMap, loss_tasks: set[str], task: str, source: str
) -> str:
    """K target columns with K prediction columns: target probabilities of K classes (rows
    of 0/1 with one 1, or summing to 1), K labels of 0/1 (multilabel), or K outputs of a
    regression; --task or the losses decide first."""
    named = ", ".join(columns.target[:4]) + (", ..." if len(columns.target) > 4 else "")
    if task != "auto":
        if task not in PAIRED_TASKS:
            raise UsageError(
                f"--task {task} takes one target column; {source} pairs {len(columns.target)} "
                f"({named}): pass --task multilabel, multiclass or regression."
            )
        _check_fits(task, loss_tasks)
        return task
    fits = loss_tasks & set(PAIRED_TASKS)
    if loss_tasks and not fits:
        raise UsageError(
            f"the losses given are for {', '.join(sorted(loss_tasks))} tasks, which take one "
            f"target column; {source} pairs {len(columns.target)} ({named})."
        )
    if len(fits) == 1:
        return next(iter(fits))
    y = np.column_stack([label_floats(table.column(c), c, source, 0) for c in columns.target])
    y = y[np.isfinite(y).all(axis=1)]
    binary = bool(((y == 0) | (y == 1)).all())
    sums_one = bool(y.size) and bool((np.abs(y.sum(axis=1) - 1.0) <= 1e-6).all())
    if sums_one and bool(((y >= 0) & (y <= 1)).all()):
        guess = "multiclass"
    elif binary:
        guess = "multilabel"
    else:
        guess = "regression"
    if fits and guess not in fits:
        return sorted(fits)[0]
    return guess


def _distribution_task(
    table: pa.Table, columns: ColumnMap, loss_tasks: set[str], task: str, source: str
) -> str:
    """A quantile set, Gaussian or ensemble prediction is of a regression target."""
    what = {"quantiles": "quantile", "gaussian": "Gaussian", "ensemble": "ensemble"}[columns.kind]
    if task not in ("auto", "regression"):
        raise UsageError(f"--task {task} does not fit {what} predictions, which forecast a value.")
    if loss_tasks and "regression" not in loss_tasks:
        raise UsageError(
            f"the losses given are for {', '.join(sorted(loss_tasks))} tasks; {what} "
            "predictions of a value take regression losses (lossctl losses lists them)."
        )
    names = [c.lower() for c in columns.pred]
    prefix = next((p for p in MULTICLASS_PREFIXES if all(n.startswith(p) for n in names)), None)
    if columns.named_levels and task == "auto" and prefix:
        col = _decoded(table.column(columns.target[0]))
        if _kind(col.type) in ("number", "null") and not _continuous(table, columns):
            classes = ", ".join(c[len(prefix) :] for c in columns.pred[:4])
            levels = ", ".join(f"{v:g}" for v in columns.levels[:4])
            raise InputError(
                f"columns {', '.join(columns.pred[:4])} of {source} read as quantiles (levels "
                f"{levels}) or as class probabilities (classes {classes}) of the whole-number "
                f"target '{columns.target[0]}'; pass --kind quantiles, or --task multiclass."
            )
    return "regression"


def prediction_kind(table: pa.Table, columns: ColumnMap, task: str) -> str:
    """``probability`` if every prediction in the first rows is in [0, 1] (give or take
    PROB_TOLERANCE, float rounding), else ``score``.

    Regression predictions are ``value``; columns named as probabilities (``prob*``,
    ``p_*``) are probabilities whatever their values (then an error, not logits).
    """
    if columns.kind:
        return columns.kind
    if task == "regression":
        return "value"
    if all(c.lower().startswith(("prob", "p_")) for c in columns.pred):
        return "probability"
    for c in columns.pred:
        try:
            v = to_float(table.column(c), c, "", 0)
        except InputError:
            return "probability"
        v = v[np.isfinite(v)]
        if v.size and ((v < -PROB_TOLERANCE) | (v > 1 + PROB_TOLERANCE)).any():
            return "score"
    return "probability"


def distinct_values(col: Any) -> set[str | float | bool]:
    """Distinct non-null, non-blank values of a raw Arrow column (numbers stay numbers,
    text is stripped): the labels as the file holds them."""
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
