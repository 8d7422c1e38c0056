"""Preparing a run: open the source, decide the columns, task and losses, build the validator.

:func:`prepare` is the one place a prediction file is opened for eval, compare,
recommend and plot; :class:`Prepared` carries what it decided to the engines,
and :meth:`Prepared.arrays` is the one whole-file (or one-part) read of validated blocks.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lossctl.core.gates import MaxGate, parse_max
from lossctl.errors import InputError, UsageError
from lossctl.losses import BoundLoss, parse_spec, split_specs
from lossctl.options import EvalOptions
from lossctl.report import Columns, DataPrint, ForecastSetup, Signature

if TYPE_CHECKING:
    import numpy as np

    from lossctl.core.forecast import SeriesScales
    from lossctl.inputs.columns import ColumnMap
    from lossctl.inputs.datasets import Dataset
    from lossctl.inputs.readers import Chunk, Part, Source
    from lossctl.inputs.validate import Arrays, Validator


@dataclass
class Prepared:
    """An opened source with its columns, task, losses and validator decided."""

    #: One file, or a dataset of many, with the same reading interface.
    source: Source | Dataset
    columns: ColumnMap
    task: str
    kind: str
    losses: list[BoundLoss]
    validator: Validator
    #: The --max gates, parsed once.
    gates: list[MaxGate] = field(default_factory=list)
    #: The --max-group gates.
    group_gates: list[MaxGate] = field(default_factory=list)
    #: Each series' scale from the --train history (when a scaled loss is evaluated).
    scales: SeriesScales | None = None
    #: The series, time, history and season the scales came from.
    forecast: ForecastSetup | None = None
    #: --train, --series, --season given with no scaled loss to use them.
    unused_forecast_options: list[str] = field(default_factory=list)
    #: Group columns read as text, not as dictionaries (mostly distinct in the first rows).
    text_groups: tuple[str, ...] = ()

    def signature(
        self, data: dict[str, DataPrint], test: dict[str, object] | None = None
    ) -> Signature:
        """The signature of a result computed from this preparation (see
        :class:`~lossctl.report.Signature`)."""
        cm = self.columns
        columns: dict[str, object] = {
            "target": list(cm.target), "pred": list(cm.predictions), "weight": cm.weight,
        }  # fmt: skip
        for name, value in (("levels", list(cm.levels)), ("series", cm.series),
                            ("time", cm.time), ("by", cm.by)):  # fmt: skip
            if value:
                columns[name] = value
        if self.forecast is not None:
            columns["train"] = self.forecast.train
            columns["season"] = self.forecast.season
        losses = {loss.key: (loss.name, dict(loss.params)) for loss in self.losses}
        return Signature(self.task, self.kind, losses, columns, self.validator.nan, data, test)

    def unused_note(self) -> tuple[str, ...]:
        """The warning for forecast options no loss uses (eval and compare print it;
        recommend uses --series itself)."""
        unused = self.unused_forecast_options
        if not unused:
            return ()
        return (
            f"{' and '.join(unused)} only matter{'s' if len(unused) == 1 else ''} for the "
            "scaled losses (mase, msse, rmsse), and none is evaluated; ignored.",
        )

    def series_of(self, arrays: Arrays) -> tuple[np.ndarray, Sequence[str]] | None:
        """The series codes and labels of a block (one series without --series), or None
        when no scaled loss is evaluated."""
        if self.scales is None:
            return None
        if arrays.series is not None:
            return arrays.series.codes, arrays.series.labels
        import numpy as np

        from lossctl.inputs.history import ONE_SERIES

        return np.zeros(len(arrays), dtype=np.intp), [ONE_SERIES]

    def row_scales(self, arrays: Arrays) -> dict[str, np.ndarray] | None:
        """Each row's series scales by kind, for the scaled losses (None without them)."""
        series = self.series_of(arrays)
        if series is None or self.scales is None:
            return None
        return self.scales.rows(*series)

    def check_series(self, seen: list[str]) -> None:
        """Every series evaluated has a usable scale (after the whole pass)."""
        if self.scales is not None:
            kinds = [s.spec.scaled for s in self.losses if s.spec.scaled is not None]
            self.scales.check(seen, self.source.name, kinds)

    def arrays(
        self, part: Part | None = None, validator: Validator | None = None, offset: int = 0
    ) -> Iterator[tuple[Arrays, Chunk]]:
        """Validated blocks with their raw chunk, in file order (of one part, or all).

        For a dataset every file is read in turn and messages name the file.
        """
        v = validator or self.validator
        cm = self.columns
        groups = [c for c in dict.fromkeys((cm.by, cm.series)) if c and c not in self.text_groups]
        ds = self.dataset
        parts: list[Part] | list[Part | None] = (
            ds.parts(1) if ds is not None and part is None else [part]
        )
        for p in parts:
            if ds is not None and p is not None:
                v.reading(ds.label(p.file))
            chunks = self.source.chunks(cm.needed, cm.text, p, groups, offset)
            try:
                for chunk in chunks:
                    yield v.convert(chunk.table, chunk.start), chunk
            finally:
                chunks.close()  # the reader stops now, not when garbage is collected

    @property
    def dataset(self) -> Dataset | None:
        """The source when it is a dataset of many files, else None."""
        from lossctl.inputs.datasets import Dataset

        return self.source if isinstance(self.source, Dataset) else None

    @property
    def is_dataset(self) -> bool:
        return self.dataset is not None

    def report_columns(self, positive: bool = True) -> Columns:
        """The columns as the reports show them (with the binary positive label, unless
        ``positive=False``)."""
        cm = self.columns
        pos = self.validator.positive if positive else None
        return Columns(cm.target, cm.pred, cm.weight, cm.classes, pos, cm.levels, cm.spread,
                       cm.spread_is_var)  # fmt: skip

    @property
    def unrooted(self) -> tuple[str, ...]:
        """Keys of finalized losses (rmse): their per-sample values are in squared units,
        so --per-sample leaves them out."""
        return tuple(loss.key for loss in self.losses if loss.spec.finalize is not None)


def prepare(opts: EvalOptions) -> Prepared:
    """Open the file, resolve columns, decide the task (from the first rows), bind losses."""
    from lossctl.inputs.columns import resolve_columns
    from lossctl.inputs.sources import open_source
    from lossctl.inputs.validate import (
        Validator,
        class_label_note,
        infer_task,
        mostly_distinct,
        one_hot_note,
        prediction_kind,
    )
    from lossctl.losses.defaults import default_losses
    from lossctl.plugins import load_registry

    if opts.nan not in ("raise", "omit"):
        raise UsageError(f"--nan must be raise or omit, got '{opts.nan}'.")
    registry = opts.registry or load_registry()
    specs = split_specs(opts.losses)
    gates = parse_max(opts.max)
    group_gates = parse_max(getattr(opts, "max_group", ()), "--max-group")
    if group_gates and not opts.by:
        raise UsageError(
            "--max-group gates the cost of each group: add --by COL (or use --max for the "
            "overall cost)."
        )
    parsed = [parse_spec(s) for s in specs]
    loss_tasks = registry.tasks_of(parsed) if parsed else set()
    source = open_source(
        opts.path, opts.input_format, opts.chunk_size, delimiter=opts.delimiter,
        sheet=opts.sheet,
    )  # fmt: skip
    columns = resolve_columns(
        source.columns, source.name, target=opts.target, pred=opts.pred,
        weight=opts.weight, id=opts.id, by=opts.by, class_order=opts.classes,
        kind=opts.kind, levels=opts.levels, std=opts.std, var=opts.var,
        series=opts.series, time=opts.time, names_give_levels=opts.task in ("auto", "regression")
        and (not loss_tasks or "regression" in loss_tasks),
    )  # fmt: skip
    probe = source.probe(columns.needed, columns.text)
    if probe is None:
        raise InputError(
            getattr(source, "no_rows", f"{source.name} has a header but no data rows.")
        )
    task = infer_task(probe.table, columns, loss_tasks, opts.task, opts.pos_label, source.name)
    if task == "multiclass" and not columns.multiclass:
        raise InputError(
            f"a multiclass task needs one prediction column per class in {source.name}; "
            "pass them with --pred (a glob such as 'prob_*' works)."
        )
    kind = _point_kind(opts.kind, task, prediction_kind(probe.table, columns, task))
    if not specs:
        specs = default_losses(task, kind, columns.levels)
    # Losses named only in a gate are evaluated too.
    specs = [*specs, *(g.key for g in [*gates, *group_gates] if g.key not in specs)]
    outputs = columns.outputs if task in ("regression", "multilabel") else ()
    losses = [
        registry.bind(parse_spec(s), task, kind, columns.levels, outputs)
        for s in dict.fromkeys(specs)
    ]
    # In-memory data: messages say that rows are counted from 1 (as in a file).
    rows_name = getattr(source, "rows_name", source.name)
    validator = Validator(
        columns, task, rows_name, opts.nan, opts.pos_label, kind=kind,
        divides_by_target=tuple(s.key for s in losses if s.spec.divides_by_target),
    )  # fmt: skip
    # Warnings of opening the input (a workbook's other sheets, a pickle read) come first.
    validator.notes.extend(getattr(source, "warnings", ()))
    if opts.task == "auto":
        read = {"regression": class_label_note, "multiclass": one_hot_note}.get(task)
        note = read(probe.table, columns) if read else None
        if note:
            validator.notes.append(note)
    if opts.classes and task != "multiclass":
        raise UsageError(f"--classes is for multiclass class columns; this is a {task} task.")
    prepared = Prepared(source, columns, task, kind, losses, validator, gates, group_gates)
    prepared.text_groups = mostly_distinct(probe.table, (columns.by, columns.series))
    _read_history(prepared, opts)
    return prepared


def _read_history(prepared: Prepared, opts: EvalOptions) -> None:
    """The series scales from --train when a scaled loss (mase) is evaluated; --train,
    --season or --series that no loss uses is a warning."""
    from lossctl.core.forecast import read_scales
    from lossctl.inputs.history import History, check_season

    season = check_season(opts.season)
    scaled = [s.key for s in prepared.losses if s.spec.scaled is not None]
    unused = [o for o, v in (("--train", opts.train), ("--series", opts.series),
                             ("--season", season != 1)) if v]  # fmt: skip
    if not scaled:
        prepared.unused_forecast_options = unused
        return
    if not opts.train:
        raise UsageError(
            f"{', '.join(scaled)} divide{'s' if len(scaled) == 1 else ''} by each series' "
            "error of the seasonal naive forecast on its history: pass --train FILE (the "
            "history, with the same series, time and target columns), --series COL and "
            "--season M."
        )
    if len(prepared.columns.target) != 1:
        raise UsageError(f"{', '.join(scaled)} score one target column per series.")
    if opts.train == "-" and opts.path == "-":
        raise UsageError(
            "the forecasts and the --train history cannot both come from standard input; "
            "pass one of them as a file."
        )
    history = History(
        opts.train, prepared.columns.target[0], opts.series, opts.time, opts.nan,
        opts.chunk_size, opts.delimiter,
    )  # fmt: skip
    prepared.scales = read_scales(history, season)
    prepared.forecast = ForecastSetup(opts.series, opts.time, history.name, season)
    prepared.validator.notes.extend(history.notes)


def _point_kind(given: str, task: str, inferred: str) -> str:
    """``--kind value``, ``probability`` or ``logit`` over the kind read from the first rows;
    one that does not fit the task is a usage error."""
    if given in ("auto", "quantiles", "gaussian", "ensemble"):
        return inferred
    if given == "value":
        if task != "regression":
            raise UsageError(
                f"--kind value is a regression prediction; this is a {task} task (pass "
                "--task regression to score the labels as values)."
            )
        return "value"
    if task == "regression":
        raise UsageError(
            f"--kind {given} is for classifiers; this is a regression task (pass --task "
            "binary or multiclass)."
        )
    return "probability" if given == "probability" else "score"
