"""From DataFrame chunks to float64 arrays: every check on the data lives here.

A :class:`Validator` is built from the first chunk (which also decides the task
and, for the default losses, whether predictions are probabilities or scores)
and then converts every chunk: targets to 0/1 or class indices, predictions to
float64 (n,) or (n, K), weights, groups and ids; non-finite values are counted
(``--nan raise``) or dropped (``--nan omit``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from lossctl.errors import InputError, UsageError
from lossctl.inputs.columns import ColumnMap
from lossctl.inputs.readers import bad_value_error

if TYPE_CHECKING:
    import pandas as pd

#: How many row numbers an error shows.
SHOW_ROWS = 5
_TRUE = {"true", "t", "yes", "y"}
_FALSE = {"false", "f", "no", "n"}


@dataclass
class Arrays:
    """One validated chunk. ``rows`` are the 1-based row numbers of the rows kept."""

    y_true: np.ndarray
    y_pred: np.ndarray
    weight: np.ndarray | None
    rows: np.ndarray
    groups: np.ndarray | None = None
    ids: np.ndarray | None = None
    #: Rows of the chunk that were kept (None: all of them).
    keep: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.rows.shape[0])


def _rows_text(rows: np.ndarray, total: int | None = None) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:SHOW_ROWS])
    return shown + (", ..." if (total if total is not None else len(rows)) > SHOW_ROWS else "")


def _is_numeric(s: pd.Series) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_numeric_dtype(s)) and not pd.api.types.is_bool_dtype(s)


def _is_bool(s: pd.Series) -> bool:
    import pandas as pd

    return bool(pd.api.types.is_bool_dtype(s))


def to_float(s: pd.Series, column: str, source: str, start: int) -> np.ndarray:
    """A column as float64; a non-numeric value is an error naming its row and the fix."""
    import pandas as pd

    if _is_numeric(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    if _is_bool(s):
        return s.to_numpy(dtype=np.float64, na_value=np.nan)
    converted = pd.to_numeric(s, errors="coerce")
    bad = converted.isna() & s.notna() & (s.astype("string").str.strip() != "")
    if bad.any():
        pos = int(bad.to_numpy().argmax())
        raise bad_value_error(column, source, s.iloc[pos], start + pos + 1)
    return converted.to_numpy(dtype=np.float64, na_value=np.nan)


@dataclass
class Validator:
    """Converts chunks for one resolved column map and task."""

    columns: ColumnMap
    task: str
    source: str
    nan: str = "raise"
    pos_label: str | None = None
    n_rows: int = 0
    n_dropped: int = 0
    nan_rows: list[int] = field(default_factory=list)
    nan_count: int = 0
    nan_columns: dict[str, int] = field(default_factory=dict)
    labels_seen: set[str] = field(default_factory=set)
    unnormalised_rows: int = 0
    seen_zero: bool = False
    seen_minus_one: bool = False

    # -- target conversion -------------------------------------------------------

    def _binary_target(self, s: pd.Series, start: int) -> np.ndarray:
        col = self.columns.target[0]
        if _is_bool(s) or _is_numeric(s):
            y = s.to_numpy(dtype=np.float64, na_value=np.nan)
            neg = y == -1
            self.seen_minus_one |= bool(neg.any())
            self.seen_zero |= bool((y == 0).any())
            if self.seen_minus_one and self.seen_zero:
                raise InputError(
                    f"column '{col}' of {self.source} mixes labels 0 and -1 (in the rows up to "
                    f"{start + len(y)}); use 0/1 or -1/1."
                )
            if neg.any():
                y = np.where(neg, 0.0, y)  # -1/+1 labels -> 0/1 (hinge maps back to signs)
            if self.pos_label is not None:
                try:
                    pos = float(self.pos_label)
                except ValueError:
                    raise UsageError(
                        f"--pos-label '{self.pos_label}' is not a value of the numeric column "
                        f"'{col}'."
                    ) from None
                y = np.where(np.isnan(y), np.nan, (y == pos).astype(np.float64))
            return y
        text = s.astype("string").str.strip()
        values = set(text.dropna().unique().tolist())
        self.labels_seen |= values
        if self.pos_label is not None:
            if len(self.labels_seen) > 2:
                raise InputError(
                    f"column '{col}' of {self.source} has more than two labels "
                    f"({', '.join(sorted(self.labels_seen)[:6])}); a binary target needs two."
                )
            out = (text == self.pos_label).to_numpy(dtype=np.float64, na_value=np.nan)
            out[text.isna().to_numpy()] = np.nan
            return out
        lower = {v.lower() for v in self.labels_seen}
        if lower <= _TRUE | _FALSE:
            low = text.str.lower()
            out = low.isin(_TRUE).to_numpy(dtype=np.float64, na_value=np.nan)
            out[text.isna().to_numpy()] = np.nan
            return out
        labels = ", ".join(repr(v) for v in sorted(self.labels_seen)[:6])
        raise InputError(
            f"column '{col}' of {self.source} holds text labels ({labels}); "
            "pass --pos-label LABEL to say which one is the positive class."
        )

    def _multiclass_target(self, frame: pd.DataFrame, start: int) -> np.ndarray:
        cols = self.columns.target
        k = len(self.columns.pred)
        if len(cols) > 1:
            return np.column_stack([to_float(frame[c], c, self.source, start) for c in cols])
        col = cols[0]
        s = frame[col]
        if _is_numeric(s):  # class indices 0..K-1 (the losses check the range)
            return s.to_numpy(dtype=np.float64, na_value=np.nan)
        text = s.astype("string").str.strip()
        # A label may be the class name ('class_0') or the whole column name ('prob_class_0').
        index = {name: i for i, name in enumerate(self.columns.pred)}
        index.update({name: i for i, name in enumerate(self.columns.classes)})
        mapped = text.map(index)
        unknown = mapped.isna() & text.notna()
        if unknown.any():
            pos = np.flatnonzero(unknown.to_numpy())
            raise InputError(
                f"column '{col}' of {self.source} has label {text.iloc[pos[0]]!r} at row "
                f"{start + pos[0] + 1}, which is not one of the {k} classes "
                f"({', '.join(self.columns.classes)}) of the prediction columns; "
                "labels must be class indices 0..K-1 or class names."
            )
        return mapped.to_numpy(dtype=np.float64, na_value=np.nan)

    # -- a chunk ------------------------------------------------------------------------

    def convert(self, frame: pd.DataFrame, start: int) -> Arrays:
        """Validate and convert one chunk starting at 0-based row ``start``."""
        cm = self.columns
        n = len(frame)
        self.n_rows += n
        if self.task == "binary":
            y_true = self._binary_target(frame[cm.target[0]], start)
        elif self.task == "multiclass":
            y_true = self._multiclass_target(frame, start)
        else:
            y_true = to_float(frame[cm.target[0]], cm.target[0], self.source, start)
        preds = [to_float(frame[c], c, self.source, start) for c in cm.pred]
        y_pred = np.column_stack(preds) if self.task == "multiclass" else preds[0]
        if self.task != "multiclass" and len(preds) > 1:
            raise InputError(
                f"{len(preds)} prediction columns given for a {self.task} task; "
                "pass one --pred column (or --task multiclass)."
            )
        weight = to_float(frame[cm.weight], cm.weight, self.source, start) if cm.weight else None

        # Non-finite values in any used column: count (raise) or drop (omit).
        bad = _row_not_finite(y_true) | _row_not_finite(y_pred)
        if weight is not None:
            bad |= ~np.isfinite(weight)
        rows = np.arange(start + 1, start + n + 1)
        if bad.any():
            where = np.flatnonzero(bad)
            self.nan_count += where.size
            if len(self.nan_rows) < SHOW_ROWS:
                self.nan_rows.extend((rows[where[:SHOW_ROWS]]).tolist())
            used: list[tuple[tuple[str, ...], np.ndarray]] = [
                (cm.target, y_true),
                (cm.pred, y_pred),
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
        else:
            keep = None

        if weight is not None and (weight < 0).any():
            pos = np.flatnonzero(weight < 0)
            raise InputError(
                f"column '{cm.weight}' of {self.source} has {len(pos)} negative weight"
                f"{'s' if len(pos) > 1 else ''} (row{'s' if len(pos) > 1 else ''} "
                f"{_rows_text(rows[pos])}); weights must be finite and >= 0."
            )
        if self.task == "multiclass" and y_pred.shape[0]:
            sums = y_pred.sum(axis=1)
            if ((y_pred >= 0) & (y_pred <= 1)).all():
                self.unnormalised_rows += int((np.abs(sums - 1.0) > 1e-6).sum())

        groups = ids = None
        if cm.by:
            g = frame[cm.by]
            groups = g.astype("string").fillna("<null>").to_numpy(dtype=object)
            if keep is not None:
                groups = groups[keep]
        if cm.id:
            ids = frame[cm.id].to_numpy()
            if keep is not None:
                ids = ids[keep]
        return Arrays(y_true, y_pred, weight, rows, groups, ids, keep)

    def finish(self) -> None:
        """Raise the --nan raise error once every chunk has been counted."""
        if self.nan_count and self.nan == "raise":
            cols = ", ".join(f"'{c}' ({k})" for c, k in self.nan_columns.items())
            first = _rows_text(np.array(self.nan_rows), self.nan_count)
            raise InputError(
                f"{self.nan_count} row{'s' if self.nan_count > 1 else ''} of {self.source} "
                f"have NaN, inf or empty values in {cols}; first at row"
                f"{'s' if self.nan_count > 1 else ''} {first}. "
                "Fix them, or pass --nan omit to drop those rows."
            )

    def warnings(self) -> list[str]:
        out = []
        if self.unnormalised_rows:
            out.append(
                f"{self.unnormalised_rows} probability row(s) do not sum to 1 (tolerance 1e-6); "
                "used as given, not renormalised."
            )
        return out


def _row_not_finite(a: np.ndarray) -> np.ndarray:
    bad = ~np.isfinite(a)
    return bad.any(axis=1) if bad.ndim > 1 else bad


# -- task inference --------------------------------------------------------------------


def infer_task(
    frame: pd.DataFrame, columns: ColumnMap, loss_tasks: set[str], task: str, pos_label: str | None
) -> str:
    """The task: from --task, else from the losses, else from the data (first chunk)."""
    if task != "auto":
        if loss_tasks and task not in loss_tasks:
            raise UsageError(
                f"--task {task} does not fit the losses given (they are for "
                f"{', '.join(sorted(loss_tasks))})."
            )
        return task
    if len(loss_tasks) == 1:
        return next(iter(loss_tasks))
    if columns.multiclass or len(columns.target) > 1:
        guess = "multiclass"
    else:
        s = frame[columns.target[0]]
        guess = "regression"
        if _is_bool(s) or pos_label is not None:
            guess = "binary"
        elif _is_numeric(s):
            values = set(np.unique(s.dropna().to_numpy(dtype=np.float64)).tolist())
            if values and (values <= {0.0, 1.0} or values <= {-1.0, 1.0}):
                guess = "binary"
        else:
            labels = {v.lower() for v in s.dropna().astype(str).str.strip().unique()}
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


def prediction_kind(frame: pd.DataFrame, columns: ColumnMap, task: str) -> str:
    """``probability`` if every prediction in the first chunk is in [0, 1], else ``score``.

    Regression predictions are ``value``.
    """
    import pandas as pd

    if task == "regression":
        return "value"
    if all(c.lower().startswith(("prob", "p_")) for c in columns.pred):
        # Named as probabilities: values outside [0, 1] are then an error, not logits.
        return "probability"
    values = frame[list(columns.pred)]
    try:
        arr = values.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        return "probability"
    arr = arr[np.isfinite(arr)]
    if arr.size and ((arr < 0) | (arr > 1)).any():
        return "score"
    return "probability"


def default_losses(task: str, kind: str) -> list[str]:
    """The default loss keys of a task and prediction kind (the contract)."""
    if task == "regression":
        return ["mse", "rmse", "mae", "huber"]
    if task == "binary":
        if kind == "probability":
            return ["bce", "brier", "zero_one"]
        return ["bce_logits", "hinge", "zero_one:threshold=0"]
    if kind == "probability":
        return ["cross_entropy", "brier", "zero_one"]
    return ["softmax_cross_entropy", "multiclass_hinge", "zero_one"]
