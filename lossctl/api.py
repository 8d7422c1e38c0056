"""The Python API: :func:`evaluate`, :func:`compare`, :func:`recommend` and
:func:`per_sample` on a path or in-memory data, with reports for notebooks and scripts.

Every function builds the same options the CLI builds and runs the same flow
(:mod:`lossctl.flows`): in-memory data skip the file readers only
(:mod:`lossctl.inputs.frames`), so validation, layouts, accumulators and statistics
are the CLI's, and ``report.to_dict()`` is the ``--json`` object of the same run.

The library never prints, exits or reads the environment. A run's warnings are in
``report.warnings`` and are also issued as :class:`LossctlWarning` through
:mod:`warnings` (filter them like any Python warning). This module imports only the
standard library at import time: ``import lossctl`` stays cheap.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

from lossctl.errors import UsageError
from lossctl.options import CONFIDENCE, HORIZON, RESAMPLES, SEED, TEST

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from lossctl import report as results
    from lossctl.inputs.frames import Frame
    from lossctl.losses import Registry
    from lossctl.options import Progress

#: What a data argument may be: a path (str or os.PathLike, ``-`` for stdin), a pandas
#: or polars DataFrame, a pyarrow Table, RecordBatch or RecordBatchReader, an object with
#: ``__arrow_c_stream__`` (a DuckDB relation), or a dict of column name -> array-like.
Data: TypeAlias = Any
#: Losses: a list of specs, or one string of comma-separated specs ("mse,huber:delta=2").
Losses: TypeAlias = str | Sequence[str]
#: Columns: one name, or a list of names (globs such as "prob_*" work).
ColumnsArg: TypeAlias = str | Sequence[str] | None
#: --max: {"mse": 0.5}, ["mse=0.5"], or "mse=0.5".
Gates: TypeAlias = Mapping[str, float] | Sequence[str] | str | None


class LossctlWarning(UserWarning):
    """A warning of a run (the CLI prints it on stderr as ``warning: ...``)."""


# -- the reports --------------------------------------------------------------------------


class _Report:
    """A frozen result of :mod:`lossctl.report` with conversions; its fields (``losses``,
    ``warnings``, ``task``, ...) read through as attributes."""

    def __init__(self, result: Any) -> None:
        self._result = result

    @property
    def result(self) -> Any:
        """The underlying frozen result (:mod:`lossctl.report`)."""
        return self._result

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._result, name)

    def to_dict(self) -> dict[str, Any]:
        """The object ``lossctl <command> --json`` prints, exactly (NaN as None)."""
        import json

        return json.loads(self.to_json())  # type: ignore[no-any-return]

    def to_json(self) -> str:
        """The text ``lossctl <command> --json`` prints."""
        raise NotImplementedError

    def _renderable(self, precision: int) -> Any:
        raise NotImplementedError

    def to_text(self, precision: int = 6, width: int = 100) -> str:
        """The terminal table, as plain text."""
        import io

        from rich.console import Console

        out = io.StringIO()
        # _environ={}: the rendering does not depend on COLUMNS, NO_COLOR, TERM, ...
        console = Console(
            file=out, width=width, color_system=None, force_terminal=False, _environ={}
        )
        console.print(self._renderable(precision))
        for w in self._warnings():
            console.print(f"warning: {w}", markup=False, highlight=False)
        return out.getvalue().rstrip() + "\n"

    def _warnings(self) -> tuple[str, ...]:
        return tuple(self._result.warnings)

    def __repr__(self) -> str:
        return self.to_text()

    def _repr_html_(self) -> str:
        """The terminal table for Jupyter, with its marks and colours (HTML)."""
        import io

        from rich.console import Console

        console = Console(
            file=io.StringIO(), width=110, record=True, force_terminal=True,
            color_system="truecolor", _environ={},
        )  # fmt: skip
        console.print(self._renderable(6))
        for w in self._warnings():
            console.print("[yellow]warning:[/] ", w, sep="", highlight=False)
        return console.export_html(
            inline_styles=True,
            code_format=(
                '<pre class="lossctl-report" style="font-family: Menlo, \'DejaVu Sans Mono\', '
                'consolas, monospace; line-height: 1.25">{code}</pre>'
            ),
        )


class EvalReport(_Report):
    """The result of :func:`evaluate` (``lossctl eval``)."""

    def to_json(self) -> str:
        from lossctl.render import json as rjson

        return rjson.eval_json(self._result)

    def _renderable(self, precision: int) -> Any:
        from rich.console import Group

        from lossctl.render import table as rtable

        parts = [rtable.eval_table(self._result, precision)]
        if self._result.baseline is not None:
            from lossctl.render.baseline import baseline_table

            parts.append(baseline_table(self._result.baseline, precision))
        return Group(*parts)

    @property
    def passed(self) -> bool:
        """False when a --max, --max-group or --baseline gate failed (the CLI's exit 1)."""
        gate = self._result.gate
        return gate is None or bool(gate.passed)

    def cost(self, key: str, group: str | None = None) -> float:
        """The cost of loss ``key`` (a key of ``losses``: "mse", "huber:delta=2"), overall
        or of one ``by`` group."""
        losses = self._result.losses
        if group is not None:
            groups = self._result.groups
            if groups is None:
                raise UsageError(f"cost of group '{group}': this report has no by= groups.")
            if str(group) not in groups:
                raise UsageError(
                    f"no group '{group}' in by={self._result.by}; groups: {_listed(groups)}."
                )
            losses = groups[str(group)].losses
        return float(_pick(losses, key).cost)

    def to_frame(self, groups: bool | None = None) -> pd.DataFrame:
        """A pandas DataFrame of the costs: one row per loss (index ``loss``); with
        ``by=`` one row per group and loss (index ``group, loss``). ``groups=False``
        gives the overall rows of a grouped report."""
        import pandas as pd

        r = self._result
        grouped = r.groups is not None if groups is None else groups
        if grouped and r.groups is None:
            raise UsageError("to_frame(groups=True): this report has no by= groups.")
        rows = []
        if grouped:
            for g, gs in r.groups.items():
                rows += [{"group": g, **_loss_row(s)} for s in gs.losses.values()]
            frame = pd.DataFrame(rows, columns=["group", *_LOSS_COLUMNS])
            return frame.set_index(["group", "loss"])
        rows = [_loss_row(s) for s in r.losses.values()]
        return pd.DataFrame(rows, columns=_LOSS_COLUMNS).set_index("loss")


_LOSS_COLUMNS = ["loss", "name", "cost", "n", "weight_sum", "sum", "std", "min", "max"]


def _loss_row(s: results.LossStats) -> dict[str, Any]:
    def num(x: float | None) -> float:
        return float("nan") if x is None else float(x)

    return {
        "loss": s.key, "name": s.name, "cost": float(s.cost), "n": int(s.n),
        "weight_sum": float(s.weight_sum), "sum": num(s.sum), "std": num(s.std),
        "min": num(s.min), "max": num(s.max),
    }  # fmt: skip


def _pick(items: Mapping[str, Any], key: str) -> Any:
    if key in items:
        return items[key]
    by_name = [v for v in items.values() if getattr(v, "name", None) == key]
    if len(by_name) == 1:
        return by_name[0]
    raise UsageError(f"no loss '{key}' in this report; losses: {_listed(items)}.")


def _listed(items: Iterable[str], most: int = 10) -> str:
    names = list(items)
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


class CompareReport(_Report):
    """The result of :func:`compare` (``lossctl compare``)."""

    def to_json(self) -> str:
        from lossctl.render import json as rjson

        return rjson.compare_json(self._result)

    def _renderable(self, precision: int) -> Any:
        from lossctl.render import table as rtable

        return rtable.compare_table(self._result, precision)

    @property
    def passed(self) -> bool:
        """False when --max or --fail-if-worse failed (the CLI's exit 1)."""
        gate = self._result.gate
        return gate is None or bool(gate.passed)

    def cost(self, key: str, model: str | None = None) -> float:
        """The cost of loss ``key`` for ``model`` (by default the baseline model)."""
        comp = _pick(self._result.losses, key)
        name = self._result.baseline if model is None else model
        if name not in comp.costs:
            raise UsageError(f"no model '{name}'; models: {_listed(comp.costs)}.")
        return float(comp.costs[name])

    def to_frame(self) -> pd.DataFrame:
        """One row per loss and model (index ``loss, model``): the cost, whether it is the
        best, and against the baseline the delta, relative change, interval, p-values,
        significance and win rate (NaN / None for the baseline itself)."""
        import pandas as pd

        rows = []
        for comp in self._result.losses.values():
            for model, cost in comp.costs.items():
                v = comp.vs_baseline.get(model)
                ci = v.ci if v is not None and v.ci is not None else (None, None)
                rows.append({
                    "loss": comp.key, "model": model, "cost": float(cost),
                    "best": model == comp.best,
                    "delta": _nan(v and v.delta), "relative": _nan(v and v.relative),
                    "ci_low": _nan(ci[0]), "ci_high": _nan(ci[1]),
                    "p_value": _nan(v and v.p_value),
                    "p_value_adjusted": _nan(v and v.p_value_adjusted),
                    "significant": None if v is None else v.significant,
                    "win_rate": _nan(v and v.win_rate),
                })  # fmt: skip
        columns = ["loss", "model", "cost", "best", "delta", "relative", "ci_low", "ci_high",
                   "p_value", "p_value_adjusted", "significant", "win_rate"]  # fmt: skip
        return pd.DataFrame(rows, columns=columns).set_index(["loss", "model"])


def _nan(x: float | None) -> float:
    return float("nan") if x is None else float(x)


class RecommendReport(_Report):
    """The result of :func:`recommend` (``lossctl recommend``)."""

    def to_json(self) -> str:
        from lossctl.render.recommend import recommend_json

        return recommend_json(self._result)

    def _renderable(self, precision: int) -> Any:
        from lossctl.render.recommend import recommend_table

        return recommend_table(self._result, precision)

    def _warnings(self) -> tuple[str, ...]:
        return _recommend_warnings(self._result)

    def cost(self, key: str) -> float:
        """The cost of recommended loss ``key`` on the data (NaN when it needs more, such
        as mase without ``train=``)."""
        return float(_pick({r.key: r for r in self._result.recommendations}, key).cost)

    def to_frame(self) -> pd.DataFrame:
        """One row per recommended loss (index ``rank``): key, name, cost and reasons."""
        import pandas as pd

        rows = [
            {"rank": r.rank, "loss": r.key, "name": r.name, "cost": float(r.cost),
             "reasons": " ".join(r.reasons)}
            for r in self._result.recommendations
        ]  # fmt: skip
        return pd.DataFrame(rows, columns=["rank", "loss", "name", "cost", "reasons"]).set_index(
            "rank"
        )


def _recommend_warnings(r: results.RecommendReport) -> tuple[str, ...]:
    dropped = (f"--nan omit dropped {r.n_dropped} of {r.n_rows} rows.",) if r.n_dropped else ()
    return (*r.warnings, *dropped)


# -- turning keyword arguments into the CLI's options ---------------------------------------


def _data(data: Data, name: str | None) -> str | Frame:
    """A path as the CLI takes it, or in-memory data as a Frame."""
    if isinstance(data, (str, os.PathLike)):
        return os.fspath(data)  # type: ignore[return-value]
    from lossctl.inputs.frames import as_frame

    return as_frame(data, name)


def _names(value: ColumnsArg, option: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping) or not isinstance(value, Iterable):
        raise UsageError(f"{option}= takes a column name or a list of names, got {value!r}.")
    return [str(v) for v in value]


def _specs(losses: Losses | None) -> list[str]:
    if losses is None:
        return []
    if isinstance(losses, str):
        return [losses]
    return [str(s) for s in losses]


def _gates(value: Gates, option: str) -> list[str]:
    """{"mse": 0.5} or ["mse=0.5"] (or "mse=0.5") as the CLI's KEY=VALUE items."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        out = []
        for key, v in value.items():
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                raise UsageError(f"{option}= {{'{key}': {v!r}}}: the value must be a number.")
            out.append(f"{key}={v}")
        return out
    return [str(v) for v in value]


def _tolerances(value: Any) -> list[str]:
    """eval's tolerance: "2%", 0.5 (absolute), {"mae": "5%"} or a list of those."""
    if value is None:
        return []
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [str(value)]
    if isinstance(value, Mapping):
        return [f"{k}={v}" for k, v in value.items()]
    return [str(v) for v in value]


def _reading(given: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of :class:`~lossctl.options.ReadingOptions` among a function's arguments
    (``locals()``), checked and normalised as the CLI's options are."""
    from dataclasses import fields

    from lossctl.config import parse_classes, parse_levels
    from lossctl.options import ReadingOptions

    out = {f.name: given[f.name] for f in fields(ReadingOptions) if f.name in given}
    if out.get("delimiter") is not None:
        from lossctl.inputs.readers import parse_delimiter

        out["delimiter"] = parse_delimiter(out["delimiter"])
    sheet = out.get("sheet")
    if sheet is not None:
        if isinstance(sheet, bool) or not isinstance(sheet, (str, int)) or sheet == "":
            raise UsageError(f"sheet must be a sheet's name or its 0-based index, got {sheet!r}.")
        if isinstance(sheet, int) and sheet < 0:
            raise UsageError(f"sheet must be a 0-based index (>= 0) or a name, got {sheet}.")
        out["sheet"] = str(sheet)
    chunk = out.get("chunk_size")
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, int)):
        raise UsageError(f"chunk_size must be a whole number of rows, got {chunk!r}.")
    season = out.get("season", 1)
    if isinstance(season, bool) or not isinstance(season, int):
        raise UsageError(f"season must be a whole number (the season length m), got {season!r}.")
    out["target"] = _names(out.get("target"), "target")
    out["pred"] = _names(out.get("pred"), "pred")
    if out.get("pos_label") is not None:
        out["pos_label"] = str(out["pos_label"])
    out["classes"] = parse_classes(out.get("classes"), "classes")
    out["levels"] = parse_levels(out.get("levels"), "levels")
    if out.get("train") is not None:
        out["train"] = _data(out["train"], "the train history")
    return out


def _warn(messages: Iterable[str]) -> None:
    for w in messages:
        warnings.warn(w, LossctlWarning, stacklevel=3)


# -- the functions ------------------------------------------------------------------------


def evaluate(
    data: Data,
    losses: Losses | None = None,
    *,
    target: ColumnsArg = None,
    pred: ColumnsArg = None,
    weight: str | None = None,
    by: str | None = None,
    id: str | None = None,
    task: str = "auto",
    kind: str = "auto",
    nan: Literal["raise", "omit"] = "raise",
    pos_label: object = None,
    classes: str | Sequence[str] | None = None,
    levels: str | Sequence[float] | None = None,
    std: str | None = None,
    var: str | None = None,
    series: str | None = None,
    time: str | None = None,
    train: Data | None = None,
    season: int = 1,
    max: Gates = None,
    max_group: Gates = None,
    baseline: str | os.PathLike[str] | None = None,
    tolerance: Any = None,
    allow_missing: bool = False,
    per_sample: str | os.PathLike[str] | None = None,
    force: bool = False,
    input_format: str | None = None,
    sheet: str | int | None = None,
    delimiter: str | None = None,
    chunk_size: int | None = None,
    workers: int | None = None,
    engine: Literal["local", "dask"] = "local",
    scheduler: str | None = None,
    registry: Registry | None = None,
    progress: Progress | None = None,
    name: str | None = None,
) -> EvalReport:
    """Evaluate predictions, as ``lossctl eval`` does, and return the report.

    ``data`` is a path or in-memory data (see :data:`Data`); the keyword arguments are
    the CLI's options (``max={"mse": 0.5}`` or ``["mse=0.5"]``; ``baseline`` is a saved
    ``eval --json`` file, ``tolerance`` "2%", an absolute number, or per key
    ``{"mae": "5%"}``). ``name`` is what messages and the report call in-memory data.
    ``progress`` (a :class:`lossctl.options.Progress`) hears of the rows read.
    ``sheet`` is the sheet of an Excel workbook: a name, or a 0-based index when no sheet
    has that name (default: the first sheet).
    """
    from lossctl.flows.eval import evaluate as run
    from lossctl.options import EvalOptions
    from lossctl.version import __version__

    opts = EvalOptions(
        path=_data(data, name),
        losses=_specs(losses),
        **_reading(locals()),
        by=by,
        max=_gates(max, "max"),
        max_group=_gates(max_group, "max_group"),
        baseline=None if baseline is None else os.fspath(baseline),
        tolerance=_tolerances(tolerance),
        allow_missing=allow_missing,
        per_sample=None if per_sample is None else os.fspath(per_sample),
        force=force,
        registry=registry,
        workers=workers,
        engine=engine,
        scheduler=scheduler,
        progress=progress,
    )
    report = EvalReport(run(opts, __version__))
    _warn(report.warnings)
    return report


def per_sample(
    data: Data,
    losses: Losses | None = None,
    *,
    target: ColumnsArg = None,
    pred: ColumnsArg = None,
    weight: str | None = None,
    by: str | None = None,
    id: str | None = None,
    task: str = "auto",
    kind: str = "auto",
    nan: Literal["raise", "omit"] = "raise",
    pos_label: object = None,
    classes: str | Sequence[str] | None = None,
    levels: str | Sequence[float] | None = None,
    std: str | None = None,
    var: str | None = None,
    series: str | None = None,
    time: str | None = None,
    train: Data | None = None,
    season: int = 1,
    input_format: str | None = None,
    sheet: str | int | None = None,
    delimiter: str | None = None,
    chunk_size: int | None = None,
    workers: int | None = None,
    registry: Registry | None = None,
    progress: Progress | None = None,
    name: str | None = None,
    as_numpy: bool = False,
) -> pd.DataFrame | dict[str, np.ndarray]:
    """The per-sample losses, one column per loss, as ``eval --per-sample`` writes them.

    A pandas DataFrame on the input's index: a DataFrame's own index (a string or
    shuffled index too), else the row positions 0..n-1; with ``nan="omit"`` the
    dropped rows are left out. ``as_numpy=True`` returns a dict of loss key -> float64
    array instead (and ``"row"``: the 0-based positions of the rows), without pandas.
    Losses whose cost is not a mean of per-sample values (rmse, ece) have no column
    (a warning says so, as in the CLI).
    """
    from lossctl.flows.eval import run_eval
    from lossctl.options import EvalOptions

    source = _data(data, name)
    opts = EvalOptions(
        path=source,
        losses=_specs(losses),
        **_reading(locals()),
        by=by,
        per_sample=None,
        registry=registry,
        workers=workers,
        progress=progress,
    )
    sink = _Collected()
    report = run_eval(opts, sink=sink)
    _warn(report.warnings)
    keys = [k for k in report.losses if k in sink.columns()]
    table = sink.table()
    from lossctl.inputs.writers import ROW_COLUMN

    rows = table.column(ROW_COLUMN).to_numpy() - 1 if id is None else None
    if as_numpy:
        out = {k: table.column(k).to_numpy() for k in keys}
        if rows is not None:
            out["row"] = rows
        return out
    import pandas as pd

    values = {k: table.column(k).to_numpy() for k in keys}
    if id is not None:
        index = pd.Index(table.column(id).to_pandas(), name=id)
    else:
        frame_index = None if isinstance(source, str) else source.index  # a path: positions
        assert rows is not None
        index = frame_index[rows] if frame_index is not None else pd.Index(rows)
    return pd.DataFrame(values, index=index)


class _Collected:
    """The per-sample blocks of a run, kept in memory (the writer of :func:`per_sample`)."""

    def __init__(self) -> None:
        self._tables: list[Any] = []

    def write(self, table: Any) -> None:
        self._tables.append(table)

    def commit(self) -> None:
        pass

    def abort(self) -> None:
        self._tables = []

    def columns(self) -> list[str]:
        return list(self._tables[0].schema.names) if self._tables else []

    def table(self) -> Any:
        from lossctl.inputs.writers import concat

        return concat(self._tables)


def compare(
    data: Data | Mapping[str, Data] | Sequence[Data],
    losses: Losses | None = None,
    *,
    names: Sequence[str] | str | None = None,
    baseline: str | None = None,
    target: ColumnsArg = None,
    pred: ColumnsArg = None,
    weight: str | None = None,
    id: str | None = None,
    task: str = "auto",
    kind: str = "auto",
    nan: Literal["raise", "omit"] = "raise",
    pos_label: object = None,
    classes: str | Sequence[str] | None = None,
    levels: str | Sequence[float] | None = None,
    std: str | None = None,
    var: str | None = None,
    series: str | None = None,
    time: str | None = None,
    train: Data | None = None,
    season: int = 1,
    test: str = TEST,
    resamples: int = RESAMPLES,
    seed: int = SEED,
    confidence: float = CONFIDENCE,
    horizon: int = HORIZON,
    fail_if_worse: bool = False,
    tolerance: float | str = 0.0,
    max: Gates = None,
    input_format: str | None = None,
    sheet: str | int | None = None,
    delimiter: str | None = None,
    chunk_size: int | None = None,
    engine: Literal["local", "dask"] = "local",
    scheduler: str | None = None,
    registry: Registry | None = None,
    progress: Progress | None = None,
) -> CompareReport:
    """Compare models on the same rows, as ``lossctl compare`` does.

    ``data`` is a dict of model name -> data, a list of data (paths or in-memory), or
    one data with several ``pred`` columns (``compare(df, pred=["ridge", "gbr"])``).
    The first model is the baseline unless ``baseline`` names another. ``tolerance``
    is a fraction or "N%". ``progress`` (a :class:`lossctl.options.Progress`) hears of
    the bootstrap's draws.
    """
    from lossctl.core.baseline import parse_compare_tolerance
    from lossctl.flows.compare import run_compare
    from lossctl.options import CompareOptions

    files, given = _models(data)
    model_names = list(given) if names is None else _names(names, "names")
    opts = CompareOptions(
        files=files,
        names=model_names,
        baseline=baseline,
        losses=_specs(losses),
        **_reading(locals()),
        test=test,
        resamples=_whole(resamples, "resamples"),
        seed=_whole(seed, "seed"),
        confidence=float(confidence),
        horizon=_whole(horizon, "horizon"),
        fail_if_worse=fail_if_worse,
        tolerance=parse_compare_tolerance(tolerance),
        max=_gates(max, "max"),
        registry=registry,
        engine=engine,
        scheduler=scheduler,
        progress=progress,
    )
    report = CompareReport(run_compare(opts))
    _warn(report.warnings)
    return report


def _whole(value: object, option: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise UsageError(f"{option} must be a whole number, got {value!r}.")
    return value


def _models(data: Any) -> tuple[list[str | Frame], list[str]]:
    """compare's models: their paths or in-memory data, and the names a dict gives
    (none for a list: the CLI's names, from the file names, or model_1, model_2, ...)."""
    if isinstance(data, Mapping) and data and all(_is_data(v) for v in data.values()):
        items = [(str(k), v) for k, v in data.items()]
    elif isinstance(data, (list, tuple)):
        items = [(None, v) for v in data]  # type: ignore[misc]
    else:
        frame = _data(data, None)
        if not isinstance(frame, str):
            frame = frame.materialized()  # one input for several --pred: read more than once
        return [frame], []
    files: list[str | Frame] = []
    named = all(k is not None for k, _ in items)
    default = (
        []
        if named or all(isinstance(v, (str, os.PathLike)) for _, v in items)
        else [f"model_{i + 1}" for i in range(len(items))]
    )
    for i, (key, value) in enumerate(items):
        label = key if key is not None else (default[i] if default else None)
        frame = _data(value, None if label is None else f"model '{label}'")
        files.append(frame if isinstance(frame, str) else frame.materialized())
    names = [str(k) for k, _ in items] if named else default
    return files, names


def _is_data(value: object) -> bool:
    """A dict whose values are tables or paths is compare's {name: data}; a dict whose
    values are columns (arrays, lists, Series) is one input."""
    if isinstance(value, (str, os.PathLike, Mapping)):
        return True
    if hasattr(value, "dtype") or isinstance(value, (list, tuple)):  # numpy, pandas, polars
        return False
    from lossctl.inputs.frames import is_table

    return is_table(value)


def recommend(
    data: Data,
    *,
    target: ColumnsArg = None,
    pred: ColumnsArg = None,
    weight: str | None = None,
    task: str = "auto",
    kind: str = "auto",
    nan: Literal["raise", "omit"] = "raise",
    pos_label: object = None,
    classes: str | Sequence[str] | None = None,
    levels: str | Sequence[float] | None = None,
    std: str | None = None,
    var: str | None = None,
    series: str | None = None,
    time: str | None = None,
    train: Data | None = None,
    season: int = 1,
    input_format: str | None = None,
    sheet: str | int | None = None,
    delimiter: str | None = None,
    chunk_size: int | None = None,
    registry: Registry | None = None,
    progress: Progress | None = None,
    name: str | None = None,
) -> RecommendReport:
    """Suggest losses for the predictions, with the measured reasons, as ``lossctl
    recommend`` does."""
    from lossctl.flows.recommend import run_recommend
    from lossctl.options import EvalOptions

    opts = EvalOptions(
        path=_data(data, name),
        **_reading(locals()),
        registry=registry,
        progress=progress,
    )
    report = RecommendReport(run_recommend(opts))
    _warn(_recommend_warnings(report.result))
    return report


__all__ = [
    "CompareReport", "EvalReport", "LossctlWarning", "RecommendReport", "compare",
    "evaluate", "per_sample", "recommend",
]  # fmt: skip
