"""The chunk step every engine runs: one part of an input to accumulators (and the
per-sample rows), and compare's whole-model read. Engines (local threads in
:mod:`lossctl.engines.local`, Dask in :mod:`lossctl.engines.dask_engine`) import this
module; it imports neither of them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from lossctl.core.accumulate import Evaluation, per_sample_losses
from lossctl.errors import DomainError, InputError
from lossctl.losses.spec import OUTPUT_SEP

if TYPE_CHECKING:
    import pyarrow as pa

    from lossctl.core.pairing import Collected
    from lossctl.core.prepare import Prepared
    from lossctl.inputs.columns import ColumnMap
    from lossctl.inputs.readers import Chunk, Part
    from lossctl.inputs.validate import Arrays, Validator
    from lossctl.options import Progress
    from lossctl.report import Columns


def valid_blocks(
    prepared: Prepared, progress: Progress | None = None
) -> Iterator[tuple[Arrays, Chunk]]:
    """The whole input in one pass, as the blocks that have rows to use, in file order.

    Once a row with NaN is seen under ``--nan raise`` the rest is read only to count
    such rows; at the end :meth:`Validator.finish` raises what only every row tells
    (the NaN count, a ``--pos-label`` absent from the data).
    """
    v = prepared.validator
    for arrays, chunk in prepared.arrays():
        if progress is not None:
            progress.advance(len(chunk))
        if v.nan_count and v.nan == "raise":
            continue
        if len(arrays):
            yield arrays, chunk
    v.finish()


def check_rows_left(
    prepared: Prepared, n_used: int, weight_sum: float | None, what: str = "evaluate"
) -> None:
    """No rows left after ``--nan omit``, or only zero weights: one error for every flow."""
    name = prepared.source.name
    if n_used == 0:
        raise InputError(
            f"no rows of {name} left to {what} ({prepared.validator.n_dropped} dropped by "
            "--nan omit)."
        )
    if prepared.columns.weight and weight_sum is not None and not weight_sum > 0:
        raise InputError(
            f"column '{prepared.columns.weight}' of {name}: all weights are 0; at least one "
            "row needs a positive weight."
        )


def column_of(role: str, columns: ColumnMap | Columns) -> str:
    """The column(s) behind a role of a domain error, for the message."""
    role, _, output = role.partition(":")  # "y_true:2": the third output's column
    if role == "y_true":
        cols = columns.target
    elif role == "y_pred":
        cols = columns.pred
    else:
        cols = (columns.weight or "weight",)
    if output and role in ("y_true", "y_pred") and int(output) < len(cols):
        cols = (cols[int(output)],)
    return ", ".join(cols) if len(cols) <= 3 else f"{cols[0]}, ..., {cols[-1]}"


def compute_block(
    prepared: Prepared, arrays: Arrays, source: str | None = None
) -> dict[str, np.ndarray]:
    """Per-sample losses of one block; domain errors name the file, column and rows."""
    try:
        return per_sample_losses(
            prepared.losses, arrays.y_true, arrays.y_pred, prepared.row_scales(arrays)
        )
    except DomainError as exc:
        raise InputError(
            exc.describe(
                column=column_of(exc.role, prepared.columns),
                source=source or prepared.validator.source,
                row_numbers=arrays.rows.tolist(),
            )
        ) from None


def per_sample_table(
    prepared: Prepared,
    arrays: Arrays,
    chunk: Chunk,
    values: dict[str, np.ndarray],
    file_label: str | None = None,
) -> pa.Table:
    """The --per-sample rows of a block: row or id, target(s), prediction(s), group, losses
    (finalized losses left out: their per-sample values are squared)."""
    from lossctl.inputs.writers import per_sample_rows

    cm = prepared.columns
    label = (file_label or prepared.validator.source) if prepared.is_dataset else None
    kept = {k: v for k, v in values.items() if k not in prepared.unrooted and OUTPUT_SEP not in k}
    return per_sample_rows(
        chunk.table,
        arrays.keep,
        arrays.rows,
        (*cm.target, *cm.predictions, cm.by),
        kept,
        cm.id,
        label,
    )


@dataclass
class _PartResult:
    evaluation: Evaluation
    validator: Validator
    #: --per-sample blocks of the part: (row numbers local to the part, table without row).
    blocks: list[tuple[np.ndarray, pa.Table]]


def evaluate_part(
    prepared: Prepared,
    part: Part | None,
    progress: Progress | None = None,
    per_sample: bool = False,
    offset: int = 0,
    exact: bool = False,
) -> _PartResult:
    """The chunk step over one part: validate, per-sample losses, accumulators.

    Every engine runs this same function. ``exact=False`` (local threads) stops at
    the first sign of an error, for the sequential pass to report; ``exact=True``
    (distributed) reports errors itself, with row numbers from ``offset``.
    """
    validator = prepared.validator.fresh()
    evaluation = Evaluation(prepared.losses)
    blocks = []
    for arrays, chunk in prepared.arrays(part, validator, offset):
        if progress is not None:
            progress.advance(len(chunk))
        if validator.needs_exact_rows and not exact:
            raise _Sequential()
        if len(arrays):
            if exact:
                values = compute_block(prepared, arrays, validator.source)
            else:
                values = per_sample_losses(
                    prepared.losses, arrays.y_true, arrays.y_pred, prepared.row_scales(arrays)
                )
            add_block(prepared, evaluation, arrays, values)
            if per_sample:
                table = per_sample_table(prepared, arrays, chunk, values, validator.source)
                blocks.append((arrays.rows, table))
    return _PartResult(evaluation, validator, blocks)


def add_block(
    prepared: Prepared, evaluation: Evaluation, arrays: Arrays, values: dict[str, np.ndarray]
) -> None:
    """Add a block's per-sample losses (overall and per group) and its diagnostics."""
    from lossctl.core import diagnostics, fingerprint

    order = None if arrays.groups is None else arrays.groups.order
    evaluation.add(values, arrays.weight, _groups(arrays), prepared.series_of(arrays), order)
    evaluation.fingerprint, evaluation.targets_print = fingerprint.add(
        (evaluation.fingerprint, evaluation.targets_print),
        arrays.y_true, arrays.y_pred, arrays.weight,
    )  # fmt: skip
    extra = diagnostics.sums(prepared.columns, arrays.y_true, arrays.y_pred, arrays.weight)
    if extra:
        evaluation.add_extra(extra)


class _Sequential(Exception):
    """A part found something only a sequential pass can report exactly."""


def _groups(arrays: Arrays) -> tuple[np.ndarray, Sequence[str]] | None:
    return None if arrays.groups is None else (arrays.groups.codes, arrays.groups.labels)


def collect(prepared: Prepared, name: str, part: Part | None = None, offset: int = 0) -> Collected:
    """Read a model (or one part of it): per-sample losses over every row, NaN where dropped
    (a binned loss's confidence and accuracy; with --series, each row's series and time)."""
    from lossctl.core.pairing import Collected
    from lossctl.inputs.validate import text_values
    from lossctl.losses.spec import ACCURACY_KEY, CONFIDENCE_KEY

    chunks: dict[str, list[np.ndarray]] = {
        key: []
        for loss in prepared.losses
        for key in (
            (loss.key + CONFIDENCE_KEY, loss.key + ACCURACY_KEY)
            if loss.spec.binned
            else (loss.key, *loss.output_keys)
        )
    }
    y_parts: list[np.ndarray] = []
    valid_parts: list[np.ndarray] = []
    w_parts: list[np.ndarray] = []
    id_parts: list[np.ndarray] = []
    series_parts: list[np.ndarray] = []
    time_parts: list[np.ndarray] = []
    cm = prepared.columns
    from lossctl.core import fingerprint

    data_print = targets_print = 0
    for arrays, chunk in prepared.arrays(part, None, offset):
        n = len(chunk)
        keep = np.ones(n, dtype=bool) if arrays.keep is None else arrays.keep
        valid_parts.append(keep)
        if prepared.validator.nan_count and prepared.validator.nan == "raise":
            continue
        y = np.full((n, *arrays.y_true.shape[1:]), np.nan)
        y[keep] = arrays.y_true
        y_parts.append(y)
        if cm.weight:
            w = np.full(n, np.nan)
            w[keep] = arrays.weight
            w_parts.append(w)
        if cm.id:  # every row's id, dropped rows too: alignment needs them all
            id_parts.append(text_values(chunk.table.column(cm.id)))
        series = prepared.series_of(arrays)
        if series is not None:
            labels = np.full(n, None, dtype=object)
            labels[keep] = np.asarray(series[1], dtype=object)[series[0]]
            series_parts.append(labels)
        if arrays.times is not None:
            times = np.full(n, None, dtype=object)
            times[keep] = arrays.times
            time_parts.append(times)
        values = compute_block(prepared, arrays) if len(arrays) else {}
        data_print, targets_print = fingerprint.add(
            (data_print, targets_print), arrays.y_true, arrays.y_pred, arrays.weight
        )
        for key in chunks:
            full = np.full(n, np.nan)
            if values:
                full[keep] = values[key]
            chunks[key].append(full)
    prepared.validator.finish()
    valid = np.concatenate(valid_parts)
    series_rows = np.concatenate(series_parts) if series_parts else None
    if series_rows is not None:
        prepared.check_series(sorted(set(series_rows[valid].tolist())))
    return Collected(
        name=name,
        source=prepared.source.name,
        columns=cm.pred,
        y_true=np.concatenate(y_parts),
        valid=valid,
        losses={k: np.concatenate(v) for k, v in chunks.items()},
        weight=np.concatenate(w_parts) if cm.weight else None,
        ids=np.concatenate(id_parts) if cm.id else None,
        series=series_rows,
        times=np.concatenate(time_parts) if time_parts else None,
        fingerprint=data_print,
        targets_print=targets_print,
    )
