"""The compare flow: prepare every model, pair their per-sample losses, test, gate.

It does not print; the CLI renders the :class:`~lossctl.report.CompareReport`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from lossctl.core.gates import compare_failures, parse_max, result, worse_than_baseline
from lossctl.core.prepare import Prepared, prepare
from lossctl.engines.base import collect
from lossctl.errors import InputError, UsageError
from lossctl.flows.eval import dropped_warning
from lossctl.losses import split_specs
from lossctl.options import CompareOptions, EvalOptions, ReadingOptions
from lossctl.report import CompareReport, DataPrint

if TYPE_CHECKING:
    import numpy as np

    from lossctl.core.pairing import Collected
    from lossctl.inputs.frames import Frame
    from lossctl.losses import Registry

#: How compare drops rows with --nan omit.
ALL_MODELS = " (a row dropped for any model is dropped for all)"


#: The most --resamples a comparison takes (memory grows with the resamples, not the rows).
MAX_RESAMPLES = 1_000_000


@dataclass
class _ModelSpec:
    name: str
    path: str | Frame
    pred: list[str]


def _model_name(pattern: str) -> str:
    """A model's name from its --pred: the column, or a glob without its wildcard and the
    separator before it ('AutoETS-*' -> 'AutoETS')."""
    if not any(ch in pattern for ch in "*?["):
        return pattern
    head = pattern.split("*")[0].split("?")[0].split("[")[0].rstrip("-_. ")
    return head or pattern


def model_specs(opts: CompareOptions) -> list[_ModelSpec]:
    from pathlib import Path

    files = list(opts.files)
    if not files:
        raise UsageError("compare needs prediction files: two or more, or one with several --pred.")
    if len(files) == 1:
        if len(opts.pred) < 2:
            raise UsageError(
                f"compare needs at least two models: give two or more files, or pass --pred once "
                f"per model column of {files[0]} (e.g. --pred y_pred --pred y_pred_gbr)."
            )
        specs = [_ModelSpec(_model_name(p), files[0], [p]) for p in opts.pred]
    else:
        stems = [
            "stdin" if f == "-" else Path(f).name.split(".")[0] if isinstance(f, str) else str(f)
            for f in files
        ]
        if len(set(stems)) < len(stems):
            stems = [str(f) for f in files]
        specs = [_ModelSpec(s, f, list(opts.pred)) for s, f in zip(stems, files, strict=True)]
        if files.count("-") > 1:
            raise UsageError("standard input (-) can be only one of the compared files.")
    if opts.names:
        names = [n.strip() for item in opts.names for n in item.split(",") if n.strip()]
        if len(names) != len(specs):
            raise UsageError(f"--names gives {len(names)} names for {len(specs)} models.")
        for spec, name in zip(specs, names, strict=True):
            spec.name = name
    if len({s.name for s in specs}) < len(specs):
        raise UsageError("model names must be unique; pass --names a,b,c.")
    return specs


def prepare_models(
    opts: CompareOptions,
    specs: Sequence[_ModelSpec],
    registry: Registry,
    first_loss_only: bool = False,
) -> list[Prepared]:
    """Prepare each model's file as eval does. The first model decides the task and the
    (default) losses, or only the first of them; the other models follow it."""
    prepareds = _prepare_each(opts, specs, registry, first_loss_only)
    shared = {spec.path for spec in specs}
    path = next(iter(shared))
    if len(specs) < 2 or len(shared) > 1 or not isinstance(path, str) or path == "-":
        return prepareds
    if prepareds[0].is_dataset:
        return prepareds
    # One file, K prediction columns: read it once (the columns every model needs), and
    # prepare each model on that in-memory copy, which messages name as the file.
    from lossctl.inputs.frames import read_whole
    from lossctl.inputs.readers import Source

    source = prepareds[0].source
    assert isinstance(source, Source)  # not a dataset
    needed = [c for p in prepareds for c in p.columns.needed]
    text = [c for p in prepareds for c in p.columns.text]
    groups = [c for p in prepareds for c in (p.columns.by, p.columns.series) if c]
    frame = read_whole(
        source, list(dict.fromkeys(needed)), list(dict.fromkeys(text)),
        list(dict.fromkeys(groups)),
    )  # fmt: skip
    once = [_ModelSpec(spec.name, frame, spec.pred) for spec in specs]
    return _prepare_each(opts, once, registry, first_loss_only)


def _prepare_each(
    opts: CompareOptions,
    specs: Sequence[_ModelSpec],
    registry: Registry,
    first_loss_only: bool,
) -> list[Prepared]:
    task, keys = opts.task, list(split_specs(opts.losses))
    prepareds: list[Prepared] = []
    # Every reading option of compare reaches each model's prepare (--kind, --levels,
    # --series, --train, ...): the fields of ReadingOptions, by name.
    reading = {f.name: getattr(opts, f.name) for f in fields(ReadingOptions)}
    for spec in specs:
        # A file already read into memory has no sheet to choose any more.
        sheet = reading["sheet"] if isinstance(spec.path, str) else None
        prepared = prepare(EvalOptions(
            path=spec.path, losses=keys, max=opts.max, registry=registry,
            **(reading | {"pred": spec.pred, "task": task, "sheet": sheet}),
        ))  # fmt: skip
        if not prepareds:
            if first_loss_only:
                prepared.losses = prepared.losses[:1]
            task, keys = prepared.task, [loss.key for loss in prepared.losses]
        prepareds.append(prepared)
    return prepareds


def paired_rows(
    prepareds: Sequence[Prepared], names: Sequence[str], id_column: str | None, every: str = "every"
) -> tuple[list[Collected], np.ndarray]:
    """Every model's per-sample losses, aligned by ``id_column`` or by position, and the
    mask of the rows valid for all of them (none is an error)."""
    from lossctl.core.pairing import align_by_id, align_by_position, common_rows

    collected = [collect(p, name) for p, name in zip(prepareds, names, strict=True)]
    models = align_by_id(collected, id_column) if id_column else align_by_position(collected)
    keep = common_rows(models)
    if not keep.any():
        raise InputError(f"no row is valid for {every} model; nothing to compare.")
    if models[0].times is not None:  # --time: the tests see each series in time order
        order = time_order(models[0], keep)
        models, keep = [m.take(order) for m in models], keep[order]
    return models, keep


def time_order(model: Collected, keep: np.ndarray) -> np.ndarray:
    """Row order by series (when given) then time; the rows not compared go last."""
    import numpy as np

    used = np.flatnonzero(keep)
    assert model.times is not None
    keys = [np.unique(model.times[used], return_inverse=True)[1].reshape(-1)]
    if model.series is not None:
        keys.append(np.unique(model.series[used].astype(str), return_inverse=True)[1].reshape(-1))
    return np.concatenate([used[np.lexsort(keys)], np.flatnonzero(~keep)])


def run_compare(opts: CompareOptions) -> CompareReport:
    """Compare models on the same rows: the whole of ``lossctl compare`` minus printing."""
    from lossctl.core.pairing import compare_losses
    from lossctl.core.stats import check_test
    from lossctl.plugins import load_registry
    from lossctl.report import ModelInfo, TestInfo

    check_test(opts.test)
    if not 0 < opts.confidence < 1:
        raise UsageError(f"--confidence must be in (0, 1), got {opts.confidence}.")
    if not 1 <= opts.resamples <= MAX_RESAMPLES:
        raise UsageError(
            f"--resamples must be between 1 and {MAX_RESAMPLES:,}, got {opts.resamples:,} "
            "(each resample holds its own sums: the bound keeps memory bounded; 2000 gives "
            "p-values to 0.0005 and 10,000 is plenty for a 99% interval)."
        )
    if opts.seed < 0:
        raise UsageError(f"--seed must be an integer >= 0, got {opts.seed}.")
    if opts.tolerance < 0:
        raise UsageError(f"--tolerance must be >= 0, got {opts.tolerance}.")
    registry = opts.registry or load_registry()
    specs = model_specs(opts)
    baseline = opts.baseline or specs[0].name
    if baseline not in {s.name for s in specs}:
        raise UsageError(
            f"--baseline '{baseline}' is not one of the models: {', '.join(s.name for s in specs)}."
        )
    gates = parse_max(opts.max)
    prepareds = prepare_models(opts, specs, registry)
    task, kind, losses = prepareds[0].task, prepareds[0].kind, prepareds[0].losses
    names = [spec.name for spec in specs]
    if opts.engine == "dask":
        from lossctl.engines import dask_engine

        if not all(isinstance(spec.path, str) for spec in specs):
            raise UsageError(
                "the Dask engine reads files (paths or datasets); in-memory data run on the "
                "local engine (engine='local')."
            )
        special = [s.key for s in losses if s.spec.binned or s.spec.scaled is not None]
        if special:
            raise UsageError(
                f"compare of {', '.join(special)} on the dask engine is not available (their "
                "costs are not means of per-row values); use --engine local, or eval "
                "--engine dask for each model."
            )
        if len({spec.path for spec in specs}) > 1 or opts.id:
            raise UsageError(
                "compare on the dask engine pairs models inside one file or dataset: give "
                "each model's predictions as a --pred column of the same files (no --id), "
                "or use --engine local."
            )
        comparisons, n_rows, n_used = dask_engine.run_compare(
            prepareds, names, baseline, test=opts.test, confidence=opts.confidence,
            horizon=opts.horizon, scheduler=opts.scheduler,
        )  # fmt: skip
        columns = {name: p.columns.pred for name, p in zip(names, prepareds, strict=True)}
        sources = {name: p.source.name for name, p in zip(names, prepareds, strict=True)}
        prints = {name: DataPrint(n_used, None) for name in names}
    else:
        models, keep = paired_rows(prepareds, names, opts.id)
        comparisons = compare_losses(
            models, losses, baseline, test=opts.test, resamples=opts.resamples, seed=opts.seed,
            confidence=opts.confidence, horizon=opts.horizon, rows=keep, progress=opts.progress,
        )  # fmt: skip
        n_rows, n_used = models[0].n, int(keep.sum())
        columns = {m.name: m.columns for m in models}
        sources = {m.name: m.source for m in models}
        prints = {m.name: _data_print(m, keep) for m in models}
    failures = []
    if opts.fail_if_worse:
        failures += worse_than_baseline(comparisons, baseline, opts.tolerance)
    failures += compare_failures(gates, comparisons)
    gate_result = result(failures) if (opts.fail_if_worse or gates) else None
    return CompareReport(
        task=task,
        prediction_kind=kind,
        baseline=baseline,
        models={n: ModelInfo(n, sources[n], columns[n]) for n in names},
        aligned_by=opts.id or "row",
        n_rows=n_rows,
        n_used=n_used,
        n_dropped=n_rows - n_used,
        losses=comparisons,
        test=TestInfo(
            opts.test,
            opts.resamples if opts.test in ("bootstrap", "permutation") else None,
            opts.seed if opts.test in ("bootstrap", "permutation") else None,
            opts.confidence,
            opts.horizon if opts.test == "dm" else None,
        ),
        weight=opts.weight,
        gate=gate_result,
        warnings=(
            *dict.fromkeys(w for p in prepareds for w in p.validator.warnings()),
            *dropped_warning(n_rows - n_used, n_rows, ALL_MODELS),
            *_test_notes(opts),
            *prepareds[0].unused_note(),
        ),
        forecast=prepareds[0].forecast,
        signature=prepareds[0].signature(prints, _test_setup(opts)),
    )


def _test_setup(opts: CompareOptions) -> dict[str, object]:
    return {
        "method": opts.test,
        "resamples": opts.resamples,
        "seed": opts.seed,
        "confidence": opts.confidence,
        "horizon": opts.horizon,
    }


def _data_print(model: Collected, keep: np.ndarray) -> DataPrint:
    """A model's rows and fingerprint (of the rows it read; the compared rows are
    ``keep``, the same for every model)."""
    from lossctl.core.fingerprint import text

    fp = None if model.fingerprint is None else text(model.fingerprint)
    targets = None if model.targets_print is None else text(model.targets_print)
    return DataPrint(int(keep.sum()), fp, targets)


def _test_notes(opts: CompareOptions) -> tuple[str, ...]:
    """A suggestion of the Diebold-Mariano test for time-ordered rows."""
    if opts.time and opts.test not in ("dm", "none"):
        return (
            f"rows are in time order (--time {opts.time}): forecast errors are autocorrelated, "
            f"which --test {opts.test} assumes away; --test dm (Diebold-Mariano, --horizon H "
            "for H-step forecasts) allows for it.",
        )
    return ()
