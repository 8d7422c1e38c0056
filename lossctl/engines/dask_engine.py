"""The Dask engine: the same chunk step, mapped over parts on a Dask cluster.

``--engine dask`` sends :func:`lossctl.pipeline.evaluate_part` (validate ->
per-sample losses -> accumulators) to the workers, one task per part (a file of
a dataset, a byte range of a CSV file, row groups of a Parquet file), gathers
the accumulators and merges them in part order: there is no second
implementation of any loss. Without ``--scheduler`` (or DASK_SCHEDULER_ADDRESS)
a ``LocalCluster`` sized to the machine is started. Workers need lossctl installed
and must be able to read the paths (shared storage or an fsspec URL).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from lossctl.errors import InputError, LossctlError, UsageError

if TYPE_CHECKING:
    from lossctl.accumulate import Evaluation
    from lossctl.inputs.readers import Part
    from lossctl.pipeline import Prepared, Progress

#: Seconds to wait for a scheduler before giving up with an input error.
CONNECT_TIMEOUT = 5


def _require_dask() -> Any:
    try:
        import distributed
    except ImportError:
        raise UsageError(
            '--engine dask needs Dask: pip install "lossctl[dask]" (dask[dataframe] and '
            "distributed)."
        ) from None
    return distributed


@contextlib.contextmanager
def client(scheduler: str | None) -> Iterator[Any]:
    """A Dask client on ``scheduler``, or on a LocalCluster sized to this machine."""
    distributed = _require_dask()
    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        try:
            c = distributed.Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise UsageError(
                f"cannot reach the Dask scheduler at {address} within {CONNECT_TIMEOUT} s "
                f"({type(exc).__name__}); check --scheduler / DASK_SCHEDULER_ADDRESS, or "
                "drop it to start a local cluster."
            ) from None
        try:
            yield c
        finally:
            c.close()
        return
    import logging

    from lossctl.inputs.readers import cpu_workers

    cluster = distributed.LocalCluster(
        n_workers=cpu_workers(), threads_per_worker=1, processes=True,
        dashboard_address=None, host="127.0.0.1", silence_logs=logging.CRITICAL,
    )  # fmt: skip
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _ship_plugins(c: Any, prepared: Prepared) -> None:
    """Install the --plugin modules of the losses on every worker, under the same names.

    Tasks pickle a plugin loss by reference to its module, which exists only where
    the plugin file was loaded; the source text travels, so workers need no copy.
    """
    from lossctl.plugins import LOADED, install_source

    for name in {loss.spec.fn.__module__ for loss in prepared.losses}:
        if name in LOADED:
            path, source = LOADED[name]
            c.run(install_source, name, path, source)


@dataclass
class PartOutcome:
    evaluation: Evaluation
    n_rows: int
    n_dropped: int
    nan_count: int
    nan_labels: list[str]
    nan_columns: dict[str, int]
    unnormalised: int
    labels_seen: set[str]
    seen_zero: bool
    seen_minus_one: bool
    written: int


def _offset(prepared: Prepared, part: Part | None) -> int:
    return 0 if part is None else prepared.source.row_offset(part)


def _part_task(prepared: Prepared, part: Part | None, per_sample_dir: str | None) -> PartOutcome:
    """Run on a worker: one part, with exact row numbers in any message."""
    from lossctl.pipeline import evaluate_part

    try:
        result = evaluate_part(prepared, part, None, per_sample_dir is not None, exact=True)
    except LossctlError:
        offset = _offset(prepared, part)
        if offset == 0:
            raise
        # Row numbers inside a part start at 0: run it again counted from the file's start.
        evaluate_part(prepared, part, None, False, offset=offset, exact=True)
        raise
    v = result.validator
    labels = []
    if v.nan_count:
        offset = _offset(prepared, part)
        labels = [f"{v.source}:{r + offset}" if prepared.is_dataset else str(r + offset)
                  for r in v.nan_rows]  # fmt: skip
    written = 0
    if per_sample_dir is not None and result.blocks:
        written = _write_part(prepared, part, result.blocks, per_sample_dir)
    return PartOutcome(
        result.evaluation, v.n_rows, v.n_dropped, v.nan_count, labels, v.nan_columns,
        v.unnormalised_rows, v.labels_seen, v.seen_zero, v.seen_minus_one, written,
    )  # fmt: skip


def _write_part(prepared: Prepared, part: Part | None, blocks: list[Any], folder: str) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lossctl.pipeline import _arrow

    offset = 0 if prepared.is_dataset else _offset(prepared, part)
    tables = []
    for rows, table in blocks:
        if not prepared.columns.id and not prepared.is_dataset:
            table = table.set_column(0, "row", _arrow(rows + offset))
        tables.append(table)
    table = pa.concat_tables(tables)
    index = 0 if part is None else part.index
    pq.write_table(table, os.path.join(folder, f"part-{index:05d}.parquet"))
    return int(table.num_rows)


def parts_of(prepared: Prepared, workers: int) -> list[Part | None]:
    """The tasks: parts of the input, or the whole file (None) when it has no parts."""
    parts = prepared.source.parts(max(2, workers))
    return list(parts) if parts else [None]


def run_eval(
    prepared: Prepared,
    scheduler: str | None,
    progress: Progress | None = None,
    per_sample: str | None = None,
) -> Evaluation:
    """Evaluate ``prepared`` on Dask; the accumulators merge in part order."""
    from lossctl.accumulate import Evaluation

    if prepared.source.name == "<stdin>":
        raise UsageError("--engine dask reads files or datasets, not standard input.")
    folder = _per_sample_folder(per_sample, prepared.source.name)
    with client(scheduler) as c:
        _ship_plugins(c, prepared)
        workers = max(1, len(c.scheduler_info().get("workers", {})))
        parts = parts_of(prepared, workers)
        outcomes = _gather(c, [c.submit(_part_task, prepared, p, folder.tmp if folder else None,
                                        pure=False) for p in parts], progress)  # fmt: skip
    evaluation = Evaluation(prepared.losses)
    v = prepared.validator
    nan_labels: list[str] = []
    for o in outcomes:  # part order: deterministic merge
        evaluation = evaluation.merge(o.evaluation)
        v.n_rows += o.n_rows
        v.n_dropped += o.n_dropped
        v.nan_count += o.nan_count
        nan_labels += o.nan_labels
        for k, n in o.nan_columns.items():
            v.nan_columns[k] = v.nan_columns.get(k, 0) + n
        v.unnormalised_rows += o.unnormalised
        v.labels_seen |= o.labels_seen
        v.seen_zero |= o.seen_zero
        v.seen_minus_one |= o.seen_minus_one
    if v.seen_zero and v.seen_minus_one:
        if folder:
            folder.abort()
        raise InputError(
            f"column '{prepared.columns.target[0]}' of {prepared.source.name} mixes labels 0 "
            "and -1 across its parts; use 0/1 or -1/1."
        )
    if v.nan_count and v.nan == "raise":
        if folder:
            folder.abort()
        cols = ", ".join(f"'{c}' ({k})" for c, k in v.nan_columns.items())
        shown = ", ".join(nan_labels[:5]) + (", ..." if v.nan_count > 5 else "")
        raise InputError(
            f"{v.nan_count} rows of {prepared.source.name} have NaN, inf or empty values in "
            f"{cols}; first at rows {shown}. Fix them, or pass --nan omit to drop those rows."
        )
    if folder:
        folder.commit()
    return evaluation


def _gather(c: Any, futures: list[Any], progress: Progress | None) -> list[Any]:
    """Results in submission order; progress advances as parts finish; errors re-raised."""
    from distributed import as_completed

    index = {f.key: i for i, f in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    try:
        for future in as_completed(futures):
            if future.status == "error":
                raise future.exception()  # a LossctlError keeps its one-line message
            out = future.result()
            results[index[future.key]] = out
            if progress is not None:
                progress.advance(out.n_rows if hasattr(out, "n_rows") else 0)
    finally:
        for f in futures:
            f.cancel()
    return results


@dataclass
class _Folder:
    """The --per-sample dataset: parts are written to a temporary folder, renamed at the end."""

    path: str
    tmp: str

    def commit(self) -> None:
        import shutil

        if os.path.exists(self.path):
            shutil.rmtree(self.path) if os.path.isdir(self.path) else os.unlink(self.path)
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        import shutil

        shutil.rmtree(self.tmp, ignore_errors=True)


def _per_sample_folder(path: str | None, source: str) -> _Folder | None:
    if path is None:
        return None
    import tempfile

    if path == "-" or os.path.abspath(path) == os.path.abspath(source):
        raise UsageError(
            "--per-sample with --engine dask writes a folder of Parquet parts; give a new "
            "folder path (not -, not the input)."
        )
    parent = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(parent):
        raise UsageError(f"--per-sample {path}: folder {parent} does not exist.")
    return _Folder(path, tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", dir=parent))


# -- compare --------------------------------------------------------------------------------


def unsupported_test(test: str) -> UsageError:
    return UsageError(
        f"--test {test} needs every per-sample loss in one place, which the dask engine "
        "does not gather; use --test ttest, dm or none on Dask, or --engine local."
    )


@dataclass
class ComparePart:
    n_rows: int
    n_used: int
    costs: dict[str, dict[str, Any]]
    lags: dict[str, dict[str, Any]]
    wins: dict[str, dict[str, tuple[float, float]]]


def _compare_task(
    prepareds: list[Prepared], names: list[str], baseline: str, part: Part | None, horizon: int
) -> ComparePart:
    """Run on a worker: every model's per-sample losses on one part, reduced to sums."""
    from lossctl.accumulate import Accumulator
    from lossctl.compare import align_by_position, common_rows
    from lossctl.pipeline import collect
    from lossctl.stats import LagSums

    collected = []
    for prepared, name in zip(prepareds, names, strict=True):
        try:
            collected.append(collect(prepared, name, part))
        except LossctlError:
            offset = _offset(prepared, part)
            if offset:
                collect(prepared, name, part, offset)
            raise
    models = align_by_position(collected)
    keep = common_rows(models)
    by_name = {m.name: m for m in models}
    base = by_name[baseline]
    w = None if base.weight is None else base.weight[keep]
    costs: dict[str, dict[str, Any]] = {}
    lags: dict[str, dict[str, Any]] = {}
    wins: dict[str, dict[str, tuple[float, float]]] = {}
    for key in base.losses:
        a = base.losses[key][keep]
        costs[key] = {m.name: Accumulator.of(m.losses[key][keep], w) for m in models}
        lags[key], wins[key] = {}, {}
        for m in models:
            if m.name == baseline:
                continue
            b = m.losses[key][keep]
            lags[key][m.name] = LagSums.of(b - a, horizon)
            score = (b < a).astype(np.float64) + 0.5 * (b == a)
            wins[key][m.name] = (
                float(score.sum() if w is None else np.dot(w, score)),
                float(score.size if w is None else w.sum()),
            )
    return ComparePart(base.n, int(keep.sum()), costs, lags, wins)


def run_compare(
    prepareds: list[Prepared],
    names: list[str],
    baseline: str,
    *,
    test: str,
    confidence: float,
    horizon: int,
    scheduler: str | None,
) -> tuple[dict[str, Any], int, int]:
    """Compare models of one file or dataset on Dask: the t and DM tests from merged sums."""
    from lossctl.accumulate import Accumulator
    from lossctl.compare import assemble
    from lossctl.losses.spec import FINALIZERS
    from lossctl.stats import LagSums, TestResult

    if test not in ("ttest", "dm", "none"):
        raise unsupported_test(test)
    first = prepareds[0]
    if first.columns.weight and test != "none":
        raise UsageError(
            f"--test {test} does not support sample weights; use --test none on Dask, or "
            "--engine local with --test bootstrap."
        )
    with client(scheduler) as c:
        for p in prepareds:
            _ship_plugins(c, p)
        workers = max(1, len(c.scheduler_info().get("workers", {})))
        parts = parts_of(first, workers)
        futures = [c.submit(_compare_task, prepareds, names, baseline, p, horizon, pure=False)
                   for p in parts]  # fmt: skip
        outcomes = _gather(c, futures, None)
    n_rows = sum(o.n_rows for o in outcomes)
    n_used = sum(o.n_used for o in outcomes)
    if n_used == 0:
        raise InputError("no row is valid for every model; nothing to compare.")
    out: dict[str, Any] = {}
    for loss in first.losses:
        key = loss.key
        finalize = FINALIZERS[loss.spec.finalize] if loss.spec.finalize else None
        accs = {n: Accumulator() for n in names}
        lag = {n: LagSums.empty(horizon) for n in names if n != baseline}
        win = {n: (0.0, 0.0) for n in names if n != baseline}
        for o in outcomes:  # part order: the lagged sums need it
            for n in names:
                accs[n] = accs[n] + o.costs[key][n]
            for n in lag:
                lag[n] = lag[n].merge(o.lags[key][n])
                win[n] = (win[n][0] + o.wins[key][n][0], win[n][1] + o.wins[key][n][1])
        costs = {}
        for n, acc in accs.items():
            mean = acc.weighted_sum / acc.weight_sum
            costs[n] = finalize(mean) if finalize else mean
        results = {}
        for n, sums in lag.items():
            delta = costs[n] - costs[baseline]
            if test == "none":
                results[n] = TestResult(delta, None, None)
                continue
            if test == "ttest":
                p_value, ci = sums.ttest(confidence)
            else:
                p_value, ci = sums.diebold_mariano(confidence)
            results[n] = TestResult(delta, ci if finalize is None else None, p_value)
        wins = {n: s / t if t else 0.5 for n, (s, t) in win.items()}
        out[key] = assemble(loss, costs, baseline, results, wins, confidence, test)
    return out, n_rows, n_used
