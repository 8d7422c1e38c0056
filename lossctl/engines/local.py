"""The local engine: the chunk step of :mod:`lossctl.engines.base` on a thread pool
over the parts of an input, or in one sequential pass (exact row numbers, stdout)."""

from __future__ import annotations

import itertools
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from lossctl.core.accumulate import Evaluation
from lossctl.engines.base import (
    _Sequential,
    add_block,
    check_rows_left,
    compute_block,
    evaluate_part,
    per_sample_table,
    valid_blocks,
)
from lossctl.errors import LossctlError
from lossctl.inputs.writers import renumber

if TYPE_CHECKING:
    from lossctl.core.prepare import Prepared
    from lossctl.inputs.readers import Part
    from lossctl.options import Progress


def run_parallel(
    prepared: Prepared,
    parts: list[Part],
    workers: int,
    progress: Progress | None,
    writer: Any = None,
) -> Evaluation | None:
    """Evaluate the parts on a thread pool; None when the sequential pass must run instead.

    Results are consumed in file order (accumulators merge deterministically, the
    per-sample rows are written in order with their global row numbers); at most
    ``workers + 1`` parts are in flight, so memory stays bounded.
    """
    evaluation = Evaluation(prepared.losses)
    offset = 0
    pool = ThreadPoolExecutor(workers)
    try:
        pending: deque[Any] = deque()
        queue = iter(parts)
        for part in itertools.islice(queue, workers + 1):
            pending.append(pool.submit(evaluate_part, prepared, part, progress, writer is not None))
        while pending:
            try:
                done = pending.popleft().result()
            except (_Sequential, LossctlError):
                return None
            nxt = next(queue, None)
            if nxt is not None:
                pending.append(
                    pool.submit(evaluate_part, prepared, nxt, progress, writer is not None)
                )
            evaluation.update(done.evaluation)
            prepared.validator.absorb(done.validator, 0 if prepared.is_dataset else offset)
            for rows, table in done.blocks:
                if not prepared.columns.id and not prepared.is_dataset:
                    table = renumber(table, rows + offset)
                writer.write(table)  # a write error ends the run: a second pass would repeat it
            offset += done.validator.n_rows
    finally:
        # On an error or a signal the parts not started are dropped, not waited for.
        pool.shutdown(wait=True, cancel_futures=True)
    if prepared.validator.needs_exact_rows:
        return None
    prepared.validator.finish()  # what only every part together tells (--pos-label)
    return evaluation


def run_sequential(prepared: Prepared, writer: Any, progress: Progress | None) -> Evaluation:
    """One pass over the input; ``writer`` (None, a --per-sample file or the API's sink)
    receives the per-sample blocks, and is committed after the checks or aborted."""
    evaluation = Evaluation(prepared.losses)
    try:
        for arrays, chunk in valid_blocks(prepared, progress):
            values = compute_block(prepared, arrays)
            add_block(prepared, evaluation, arrays, values)
            if writer is not None:
                writer.write(per_sample_table(prepared, arrays, chunk, values))
        check_result(prepared, evaluation)
        if writer is not None:
            writer.commit()
            writer = None
    finally:
        if writer is not None:
            writer.abort()
    return evaluation


def check_result(prepared: Prepared, evaluation: Evaluation) -> None:
    total = None
    if prepared.columns.weight and evaluation.n_used:
        total = evaluation.weight_sum
    check_rows_left(prepared, evaluation.n_used, total)
    prepared.check_series(evaluation.series_labels())


def input_files(prepared: Prepared) -> list[str]:
    """The local files a dataset reads (none for one file or a remote dataset)."""
    ds = prepared.dataset
    if ds is None or ds.fs is not None:
        return []
    return list(ds.files)
