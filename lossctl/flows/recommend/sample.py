"""The whole file read once: the validated rows and what the raw target column showed.

With ``--series`` the rows also carry their series, and with ``--train`` each row's
series scales from the history (what ``mase`` and ``rmsse`` divide by), read exactly
as ``lossctl eval`` reads them. Without ``--series``, a column that looks like a series
id next to a time column is remembered as a hint (:class:`SeriesHint`), never used.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from lossctl.report import Columns

if TYPE_CHECKING:
    from lossctl.core.prepare import Prepared
    from lossctl.options import EvalOptions

#: Column names (case-insensitive) that say "series id" in a forecast panel (Nixtla's
#: ``unique_id``), and names that say "time" (Nixtla's ``ds``).
SERIES_NAMES = ("unique_id", "series", "series_id", "id", "item_id")
TIME_NAMES = ("ds", "date", "time", "timestamp", "datetime")
#: The scale kinds the recommended scaled losses divide by (mase: abs; rmsse: squared).
SCALE_KINDS = ("abs", "squared")


@dataclass(frozen=True)
class Panel:
    """The series of a forecast panel (``--series``), row by row.

    ``codes`` index ``labels`` (one per row of the sample); ``scales`` hold each row's
    series scale by kind (``abs``, ``squared``), from ``--train``; None without it.
    """

    column: str
    codes: np.ndarray
    labels: tuple[str, ...]
    season: int
    history: str | None = None
    scales: dict[str, np.ndarray] | None = None


@dataclass(frozen=True)
class SeriesHint:
    """A column that looks like a series id, next to a time column, without --series.

    ``distinct`` values over ``rows`` first rows (``whole``: every row of the file), and
    the mean |target| of the series with the largest and the smallest one (NaN when not
    measured).
    """

    column: str
    time: str
    distinct: int
    rows: int
    whole: bool
    big: str = ""
    big_scale: float = float("nan")
    small: str = ""
    small_scale: float = float("nan")


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
    #: The series of a forecast panel (``--series``), and its scales (``--train``).
    panel: Panel | None = None
    #: Without --series: a column that looks like one (for a note, never used).
    series_hint: SeriesHint | None = None

    @property
    def n(self) -> int:
        return int(self.rows.shape[0])


def read_sample(opts: EvalOptions) -> Sample:
    """Read and validate the whole file (``recommend`` is for files that fit in memory).

    Uses the eval pipeline for columns, task and validation, so input errors are
    exactly eval's; losses, gates and per-sample output in ``opts`` are ignored. With
    ``--series`` the series column is read too, and ``--train`` is read here (not by
    :func:`~lossctl.core.prepare.prepare`, which reads a history only for the scaled
    losses it is asked to evaluate, and recommend decides its losses after reading).
    """
    from lossctl.core.prepare import prepare
    from lossctl.engines.base import check_rows_left, compute_block
    from lossctl.inputs.history import check_season
    from lossctl.inputs.validate import distinct_values

    season = check_season(opts.season)
    base = replace(opts, losses=(), max=(), per_sample=None, by=None, id=None)
    if opts.series:
        base = replace(base, train=None, season=1)  # the history is read below
    prepared = prepare(base)
    if opts.progress is not None:
        opts.progress.start(prepared.source.total_rows)
    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]] = []
    series_codes: list[np.ndarray] = []
    known: dict[str, int] = {}
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
            if arrays.series is not None:
                # Each chunk has its own labels: codes into the labels of the whole file.
                g = arrays.series
                remap = np.array([known.setdefault(x, len(known)) for x in g.labels], np.intp)
                series_codes.append(remap[g.codes] if g.codes.size else g.codes)
    v.finish()
    weight = None
    if prepared.columns.weight and blocks:
        weight = np.concatenate([b[2] for b in blocks if b[2] is not None])
    n_used = sum(len(b[0]) for b in blocks)
    check_rows_left(prepared, n_used, None if weight is None else float(weight.sum()))
    cm = prepared.columns
    warnings = list(v.warnings())
    if not opts.series:  # with --series, recommend uses them itself
        warnings.extend(prepared.unused_note())
    panel = None
    if opts.series:
        codes = np.concatenate(series_codes) if series_codes else np.zeros(0, np.intp)
        panel = _panel(prepared, opts, season, codes, tuple(known), warnings)
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
        warnings=tuple(warnings),
        levels=cm.levels,
        outputs=cm.outputs if prepared.task in ("regression", "multilabel") else (),
        panel=panel,
        series_hint=None if opts.series else _series_hint(prepared, v.n_rows),
    )


def panel_applies(task: str, kind: str, targets: int) -> bool:
    """Whether mase and rmsse can score these predictions: a point forecast of one target."""
    return task == "regression" and kind == "value" and targets == 1


def _panel(
    prepared: Prepared,
    opts: EvalOptions,
    season: int,
    codes: np.ndarray,
    labels: tuple[str, ...],
    warnings: list[str],
) -> Panel:
    """The series of every row and, with --train, each row's scales from the history.

    The history is read as ``lossctl eval`` reads it (:func:`read_scales`), and a series
    of the file without a usable scale is eval's error, naming the series.
    """
    from lossctl.core.forecast import read_scales
    from lossctl.inputs.history import History

    assert opts.series is not None
    cm = prepared.columns
    if not opts.train or not panel_applies(prepared.task, prepared.kind, len(cm.target)):
        return Panel(opts.series, codes, labels, season)
    history = History(
        opts.train, cm.target[0], opts.series, opts.time, opts.nan, opts.chunk_size,
        opts.delimiter,
    )  # fmt: skip
    scales = read_scales(history, season)
    seen = sorted({labels[c] for c in np.unique(codes)})
    scales.check(seen, prepared.source.name, SCALE_KINDS)
    warnings.extend(history.notes)
    return Panel(opts.series, codes, labels, season, history.name, scales.rows(codes, list(labels)))


def _series_hint(prepared: Prepared, n_rows: int) -> SeriesHint | None:
    """A series-id-like column of repeated values next to a time-like column, from the
    first rows (None when there is none, or the file cannot be probed again)."""
    from lossctl.errors import InputError
    from lossctl.inputs.validate import group_codes, to_float

    cm = prepared.columns
    used = {*cm.target, *cm.predictions, cm.weight}
    names = {c.lower(): c for c in prepared.source.columns if c not in used}
    series = next((names[n] for n in SERIES_NAMES if n in names), None)
    time = next((names[n] for n in TIME_NAMES if n in names), None)
    if series is None or time is None or len(cm.target) != 1:
        return None
    try:
        probe = prepared.source.probe([series, cm.target[0]], [series])
    except InputError:
        return None
    if probe is None:
        return None
    table = probe.table
    groups = group_codes(table.column(series))
    rows = table.num_rows
    distinct = int(np.unique(groups.codes).size)
    if distinct < 2 or 2 * distinct > rows:  # one series, or mostly unique values: no panel
        return None
    hint = SeriesHint(series, time, distinct, rows, rows >= n_rows)
    try:
        y = to_float(table.column(cm.target[0]), cm.target[0], prepared.source.name, 0)
    except InputError:
        return hint
    ok = np.isfinite(y)
    total = np.bincount(groups.codes[ok], np.abs(y[ok]), len(groups.labels))
    count = np.bincount(groups.codes[ok], minlength=len(groups.labels))
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    usable = np.flatnonzero(np.isfinite(scale) & (scale > 0))
    if usable.size < 2:
        return hint
    big = int(usable[np.argmax(scale[usable])])
    small = int(usable[np.argmin(scale[usable])])
    return replace(
        hint, big=groups.labels[big], big_scale=float(scale[big]),
        small=groups.labels[small], small_scale=float(scale[small]),
    )  # fmt: skip


def _label_texts(values: set[str | float | bool]) -> tuple[str, ...]:
    """Raw labels as sorted text: numbers numerically (``-1``, ``1``), text alphabetically."""
    if all(isinstance(v, bool) for v in values):
        return tuple(str(v).lower() for v in sorted(values))
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return tuple(f"{float(v):g}" for v in sorted(values))  # type: ignore[arg-type]
    return tuple(sorted(str(v) for v in values))
