"""The whole file read once: the validated rows and what the raw target column showed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from lossctl.report import Columns

if TYPE_CHECKING:
    from lossctl.options import EvalOptions


@dataclass(frozen=True)
class Sample:
    """The validated rows of a file, with what the raw target column showed.

    ``raw_labels`` (binary only) are the distinct target values as written in the
    file (``-1``, ``1``; ``B``, ``M``), before the validator maps them to 0/1.
    """

    source: str
    task: str
    kind: str
    columns: Columns
    y_true: np.ndarray
    y_pred: np.ndarray
    weight: np.ndarray | None
    rows: np.ndarray
    raw_labels: tuple[str, ...] = ()
    pos_label: str | None = None
    n_rows: int = 0
    n_dropped: int = 0
    warnings: tuple[str, ...] = ()
    #: Quantile levels of the prediction columns (a quantile set), in their order.
    levels: tuple[float, ...] = ()
    #: Names of K paired outputs or labels (multi-output regression, multilabel).
    outputs: tuple[str, ...] = ()

    @property
    def n(self) -> int:
        return int(self.rows.shape[0])


def read_sample(opts: EvalOptions) -> Sample:
    """Read and validate the whole file (``recommend`` is for files that fit in memory).

    Uses the eval pipeline for columns, task and validation, so input errors are
    exactly eval's; losses, gates and per-sample output in ``opts`` are ignored.
    """
    from lossctl.core.prepare import prepare
    from lossctl.engines.base import check_rows_left, compute_block
    from lossctl.inputs.validate import distinct_values

    prepared = prepare(replace(opts, losses=(), max=(), per_sample=None, by=None, id=None))
    if opts.progress is not None:
        opts.progress.start(prepared.source.total_rows)
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]] = []
    raw: set[str | float | bool] = set()
    v = prepared.validator
    for arrays, chunk in prepared.arrays():
        if opts.progress is not None:
            opts.progress.advance(len(chunk))
        if prepared.task == "binary":
            raw |= distinct_values(chunk.table.column(prepared.columns.target[0]))
        if v.nan_count and v.nan == "raise":
            continue  # keep reading only to count the bad rows
        if len(arrays):
            # The first default loss's domain check (bce, cross_entropy: a probability of
            # 1.3 is eval's error here too, before any fact is measured on it).
            compute_block(replace(prepared, losses=prepared.losses[:1]), arrays)
            blocks.append((arrays.y_true, arrays.y_pred, arrays.weight, arrays.rows))
    v.finish()
    weight = None
    if prepared.columns.weight and blocks:
        weight = np.concatenate([b[2] for b in blocks if b[2] is not None])
    n_used = sum(len(b[0]) for b in blocks)
    check_rows_left(prepared, n_used, None if weight is None else float(weight.sum()))
    cm = prepared.columns
    return Sample(
        source=prepared.source.name,
        task=prepared.task,
        kind=prepared.kind,
        columns=prepared.report_columns(positive=False),
        y_true=np.concatenate([b[0] for b in blocks]),
        y_pred=np.concatenate([b[1] for b in blocks]),
        weight=weight,
        rows=np.concatenate([b[3] for b in blocks]),
        raw_labels=_label_texts(raw),
        pos_label=opts.pos_label,
        n_rows=v.n_rows,
        n_dropped=v.n_dropped,
        warnings=tuple(v.warnings()),
        levels=cm.levels,
        outputs=cm.outputs if prepared.task in ("regression", "multilabel") else (),
    )


def _label_texts(values: set[str | float | bool]) -> tuple[str, ...]:
    """Raw labels as sorted text: numbers numerically (``-1``, ``1``), text alphabetically."""
    if all(isinstance(v, bool) for v in values):
        return tuple(str(v).lower() for v in sorted(values))
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return tuple(f"{float(v):g}" for v in sorted(values))  # type: ignore[arg-type]
    return tuple(sorted(str(v) for v in values))
