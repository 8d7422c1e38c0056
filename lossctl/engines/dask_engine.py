"""The Dask engine: the same chunk step, mapped over parts on a Dask cluster.

``--engine dask`` sends :func:`lossctl.engines.base.evaluate_part` (validate ->
per-sample losses -> accumulators) to the workers, one task per part (a file of
a dataset, a byte range of a CSV file, row groups of a Parquet file), gathers
the accumulators and merges them in part order: there is no second
implementation of any loss. Without a scheduler address (the CLI takes
``--scheduler`` or DASK_SCHEDULER_ADDRESS), a ``LocalCluster`` sized to the machine
is started. Workers need lossctl installed
and must be able to read the paths (shared storage or an fsspec URL).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lossctl.errors import InputError, LossctlError, UsageError
from lossctl.losses.spec import DENOMINATOR

if TYPE_CHECKING:
    import numpy as np

    from lossctl.core.accumulate import Evaluation
    from lossctl.core.prepare import Prepared
    from lossctl.inputs.readers import Part
    from lossctl.inputs.validate import Validator
    from lossctl.options import Progress

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
    address = scheduler
    if address:
        _check_address(address)
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

    from distributed.deploy.spec import SpecCluster

    from lossctl.inputs.readers import cpu_workers

    # Clusters of the caller's own (a notebook's LocalCluster) are left alone on failure.
    before = set(SpecCluster._instances)
    with _workers_without_stderr():
        try:
            cluster = distributed.LocalCluster(
                n_workers=cpu_workers(), threads_per_worker=1, processes=True,
                dashboard_address=None, host="127.0.0.1", silence_logs=logging.CRITICAL,
                preload=[_IGNORE_CTRL_C],
            )  # fmt: skip
        except BaseException:
            _drop_half_started_clusters(before)
            raise
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _check_address(address: str) -> None:
    """A scheduler address Dask can connect to: SCHEME://HOST:PORT (or HOST:PORT)."""
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        registry.get_backend(scheme)
        if scheme in ("tcp", "tls", "ws", "wss"):
            host, _ = parse_host_port(location)
            if not host:
                raise ValueError("no host")
    except (ValueError, TypeError) as exc:
        raise UsageError(
            f"--scheduler / DASK_SCHEDULER_ADDRESS '{address}' is not a Dask scheduler "
            f"address ({exc}); expected tcp://HOST:PORT, e.g. tcp://10.0.0.5:8786."
        ) from None


#: Run in each local worker process as it starts (a preload script): Ctrl-C in the
#: terminal reaches the whole process group, and the workers leave it to lossctl,
#: which shuts the cluster down.
_IGNORE_CTRL_C = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"


def _drop_half_started_clusters(before: set[Any]) -> None:
    """Close the LocalCluster whose start was interrupted (any cluster not in ``before``),
    quietly: else Dask's exit hook closes it, with an assertion error about workers still
    starting."""
    from distributed.deploy.spec import SpecCluster

    for cluster in list(SpecCluster._instances):
        if cluster in before:
            continue
        with contextlib.suppress(BaseException):
            cluster.close(timeout=2)
        SpecCluster._instances.discard(cluster)


@contextlib.contextmanager
def _workers_without_stderr() -> Iterator[None]:
    """Start local worker processes with their stderr on /dev/null.

    A Ctrl-C reaches the whole process group: each worker would print the traceback
    of its KeyboardInterrupt while lossctl shuts the cluster down. Their logs are
    silenced anyway, and a task's error comes back through its future.
    """
    import sys

    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield  # no stderr to protect
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


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
    #: The part's validator: its counts merge with :meth:`Validator.absorb`.
    validator: Validator
    #: The first rows with NaN values, as row numbers of the file (or FILE:ROW).
    nan_labels: list[str]
    written: int


def _offset(prepared: Prepared, part: Part | None) -> int:
    return 0 if part is None else prepared.source.row_offset(part)


def _part_task(prepared: Prepared, part: Part | None, per_sample_dir: str | None) -> PartOutcome:
    """Run on a worker: one part, with exact row numbers in any message."""
    from lossctl.engines.base import evaluate_part

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
    if v.clipped_rows:  # a row number of the file, not of the part
        v.clipped_first += _offset(prepared, part)
    labels = []
    if v.nan_count:
        offset = _offset(prepared, part)
        labels = [f"{v.source}:{r + offset}" if prepared.is_dataset else str(r + offset)
                  for r in v.nan_rows]  # fmt: skip
    written = 0
    if per_sample_dir is not None and result.blocks:
        try:
            written = _write_part(prepared, part, result.blocks, per_sample_dir)
        except OSError as exc:
            from lossctl.inputs.writers import write_error

            raise write_error(per_sample_dir, exc) from None
    return PartOutcome(result.evaluation, v, labels, written)


def _write_part(prepared: Prepared, part: Part | None, blocks: list[Any], folder: str) -> int:
    from lossctl.inputs.writers import renumber, write_parquet_part

    offset = 0 if prepared.is_dataset else _offset(prepared, part)
    tables = []
    for rows, table in blocks:
        if not prepared.columns.id and not prepared.is_dataset:
            table = renumber(table, rows + offset)
        tables.append(table)
    return write_parquet_part(folder, 0 if part is None else part.index, tables)


def parts_of(prepared: Prepared, workers: int) -> list[Part | None]:
    """The tasks: parts of the input, or the whole file (None) when it has no parts."""
    parts = prepared.source.parts(max(2, workers))
    return list(parts) if parts else [None]


def run_eval(
    prepared: Prepared,
    scheduler: str | None,
    progress: Progress | None = None,
    per_sample: str | None = None,
    force: bool = False,
    input_files: Sequence[str] = (),
) -> Evaluation:
    """Evaluate ``prepared`` on Dask; the accumulators merge in part order.

    ``per_sample`` names a new folder (or, with ``force``, one lossctl wrote) for the
    per-sample Parquet parts; the parts go to a temporary folder beside it, removed
    on any error or signal.
    """
    if prepared.source.name == "<stdin>":
        raise UsageError("--engine dask reads files or datasets, not standard input.")
    folder = _per_sample_folder(per_sample, prepared.source.name, force, input_files)
    try:
        evaluation = _evaluate(prepared, scheduler, progress, folder)
        if folder:
            folder.commit()
    finally:
        if folder:
            folder.abort()  # after a commit there is nothing left to remove
    return evaluation


def _evaluate(
    prepared: Prepared, scheduler: str | None, progress: Progress | None, folder: _Folder | None
) -> Evaluation:
    from lossctl.core.accumulate import Evaluation

    with client(scheduler) as c:
        _ship_plugins(c, prepared)
        workers = max(1, len(c.scheduler_info().get("workers", {})))
        parts = parts_of(prepared, workers)
        shared = _shared(c, prepared, len(parts))
        outcomes = _gather(c, [c.submit(_part_task, shared, p, folder.tmp if folder else None,
                                        pure=False) for p in parts], progress)  # fmt: skip
    evaluation = Evaluation(prepared.losses)
    v = prepared.validator
    nan_labels: list[str] = []
    for o in outcomes:  # part order: deterministic merge
        evaluation.update(o.evaluation)
        v.absorb(o.validator)
        nan_labels += o.nan_labels
    if v.seen_zero and v.seen_minus_one:
        raise InputError(
            f"column '{prepared.columns.target[0]}' of {prepared.source.name} mixes labels 0 "
            "and -1 across its parts; use 0/1 or -1/1."
        )
    # What only all the parts together tell: NaN rows to report, a --pos-label absent.
    v.finish(nan_labels)
    return evaluation


def _shared(c: Any, value: Any, tasks: int) -> Any:
    """``value`` sent to every worker once (a future the tasks take as their argument),
    not pickled into each of ``tasks`` tasks: the series scales of a panel of a million
    series are tens of megabytes."""
    if tasks < 2:
        return value
    return c.scatter(value, broadcast=True, hash=False)


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
    """The --per-sample dataset: parts are written to a temporary folder, which replaces
    the destination at the end (an existing destination only if lossctl wrote it)."""

    path: str
    final: Path
    tmp: str | None
    force: bool

    def commit(self) -> None:
        from lossctl.inputs.writers import check_folder_target, write_error

        assert self.tmp is not None
        if os.path.lexists(self.final):  # checked at the start; again, it may have changed
            check_folder_target(self.path, "", (), self.force)
        try:
            if not os.path.lexists(self.final):
                os.replace(self.tmp, self.final)
            else:
                # Swap: the old folder moves aside, the new one takes its name, then the
                # old one (only lossctl's parts and marker) is removed.
                old = tempfile.mkdtemp(prefix=f".{self.final.name}.old.", dir=self.final.parent)
                try:
                    os.replace(self.final, old)
                except BaseException:
                    os.rmdir(old)
                    raise
                try:
                    os.replace(self.tmp, self.final)
                except BaseException:
                    os.replace(old, self.final)
                    raise
                _remove_parts(old)
        except OSError as exc:
            raise write_error(self.path, exc) from None
        self.tmp = None

    def abort(self) -> None:
        if self.tmp is not None:
            _remove_parts(self.tmp)
            self.tmp = None


def _remove_parts(folder: str) -> None:
    """Remove a per-sample folder lossctl made: its parts and marker, then the folder
    (kept if anything else is in it)."""
    from lossctl.inputs.writers import MARKER, PART

    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.name == MARKER or PART.fullmatch(entry.name):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
        os.rmdir(folder)


def _per_sample_folder(
    path: str | None, source: str, force: bool = False, input_files: Sequence[str] = ()
) -> _Folder | None:
    if path is None:
        return None
    from lossctl.inputs.writers import MARKER, check_folder_target, new_mode, write_error

    final = check_folder_target(path, source, input_files, force)
    try:
        tmp = tempfile.mkdtemp(prefix=f".{final.name}.", dir=final.parent)
    except OSError as exc:
        raise write_error(path, exc) from None
    folder = _Folder(path, final, tmp, force)
    try:
        os.chmod(tmp, new_mode(0o777))  # mkdtemp made it 0700; a new folder gets the umask
        with open(os.path.join(tmp, MARKER), "w", encoding="utf-8") as marker:
            marker.write("A per-sample folder written by lossctl; --force may replace it.\n")
    except OSError as exc:
        folder.abort()
        raise write_error(path, exc) from None
    except BaseException:
        folder.abort()
        raise
    return folder


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
    from lossctl.core.accumulate import Accumulator
    from lossctl.core.pairing import align_by_position, common_rows
    from lossctl.core.stats import LagSums, win_sums
    from lossctl.engines.base import collect

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
    for loss in prepareds[0].losses:
        key = loss.key
        # Every accumulator the cost needs: the outputs' and a ratio's denominators too.
        for k in loss.accumulator_keys:
            costs[k] = {m.name: Accumulator.of(_column(loss, m, k)[keep], w) for m in models}
        a = base.losses[key][keep]
        lags[key], wins[key] = {}, {}
        for m in models:
            if m.name == baseline:
                continue
            b = m.losses[key][keep]
            lags[key][m.name] = LagSums.of(b - a, horizon)
            wins[key][m.name] = win_sums(a, b, w)
    return ComparePart(base.n, int(keep.sum()), costs, lags, wins)


def _column(loss: Any, model: Any, key: str) -> np.ndarray:
    """A model's per-sample values under an accumulator key: a loss or output key, or a
    ratio loss's denominators (from the targets)."""
    if not key.endswith(DENOMINATOR):
        return model.losses[key]
    den = loss.denominators(model.y_true)
    if not loss.outputs:
        return den
    base = key.removesuffix(DENOMINATOR)
    if base == loss.key:
        return den.mean(axis=1)
    return den[:, loss.output_keys.index(base)]


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
    from lossctl.core.accumulate import Accumulator, loss_stats
    from lossctl.core.pairing import assemble
    from lossctl.core.stats import MERGEABLE_TESTS, LagSums, check_weighted

    if test not in MERGEABLE_TESTS:
        raise unsupported_test(test)
    first = prepareds[0]
    for loss in first.losses:
        if loss.outputs and loss.spec.denominator is not None and test != "none":
            raise UsageError(
                f"--test {test} on '{loss.key}' over {len(loss.outputs)} outputs weighs each "
                "output's differences by its total, known only after a full pass: use "
                "--engine local, or --test none on Dask."
            )
    check_weighted(test, bool(first.columns.weight),
                   "use --test none on Dask, or --engine local with --test bootstrap")  # fmt: skip
    with client(scheduler) as c:
        for p in prepareds:
            _ship_plugins(c, p)
        workers = max(1, len(c.scheduler_info().get("workers", {})))
        parts = parts_of(first, workers)
        shared = _shared(c, prepareds, len(parts))
        futures = [c.submit(_compare_task, shared, names, baseline, p, horizon, pure=False)
                   for p in parts]  # fmt: skip
        outcomes = _gather(c, futures, None)
    n_rows = sum(o.n_rows for o in outcomes)
    n_used = sum(o.n_used for o in outcomes)
    if n_used == 0:
        raise InputError("no row is valid for every model; nothing to compare.")
    from lossctl.core.stats import require_rows

    require_rows(test, n_used)
    out: dict[str, Any] = {}
    for loss in first.losses:
        key = loss.key
        accs = {n: {k: Accumulator() for k in loss.accumulator_keys} for n in names}
        lag = {n: LagSums.empty(horizon) for n in names if n != baseline}
        win = {n: (0.0, 0.0) for n in names if n != baseline}
        for o in outcomes:  # part order: the lagged sums need it
            for n in names:
                for k in loss.accumulator_keys:
                    accs[n][k] = accs[n][k] + o.costs[k][n]
            for n in lag:
                lag[n] = lag[n].merge(o.lags[key][n])
                win[n] = (win[n][0] + o.wins[key][n][0], win[n][1] + o.wins[key][n][1])
        costs = {n: loss_stats(loss, accs[n]).cost for n in names}
        # The interval is of the mean per-sample difference: not in the cost's units for
        # a finalized loss, a ratio (wape) or the mean of K finalized outputs.
        finalized = loss.spec.finalize is not None or loss.spec.denominator is not None
        results = {
            n: sums.test(test, costs[n] - costs[baseline], finalized, confidence)
            for n, sums in lag.items()
        }
        wins = {n: s / t if t else 0.5 for n, (s, t) in win.items()}
        out[key] = assemble(loss, costs, baseline, results, wins, confidence, test)
    return out, n_rows, n_used
