"""In-memory data as a source: a pandas or polars DataFrame, a pyarrow Table or stream of
record batches, any object with the Arrow PyCapsule stream interface, or a dict of arrays.

:func:`as_frame` turns the object into a :class:`Frame`; :meth:`Frame.open` gives a
:class:`FrameSource`, which has the reading interface of a file's
:class:`~lossctl.inputs.readers.Source`: the same columns, probe, chunks and parts
reach the same validation, layouts and accumulators. Nothing is copied whole: a pandas
DataFrame is converted to Arrow one block of rows at a time, an Arrow table is sliced
(zero-copy), and a stream is read once, block by block.

Types are brought to what the file readers give: decimals become float64, large and
view strings become strings, dictionary columns are decoded unless they are group
columns (``--by``, ``--series``), and NaN in a pandas or numpy float column is a
missing value, as an empty CSV cell is.
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lossctl.errors import InputError, UsageError
from lossctl.inputs.readers import (
    PARALLEL_MIN_ROWS,
    Chunk,
    Part,
    Source,
    SourceFormat,
)

if TYPE_CHECKING:
    import pyarrow as pa

#: The format name of in-memory sources (never a file suffix).
MEMORY = "memory"
#: Rows per part when an in-memory table is evaluated on several threads.
PART_ROWS = 1 << 20
#: Rows per block of in-memory data (``chunk_size`` unset): a block's per-sample arrays
#: (512 KB each) stay in the CPU's cache, and no more than a few blocks are in memory.
FRAME_CHUNK_SIZE = 1 << 16

#: What each kind of input is called in messages; rows are counted from 1 as in a file.
NAMES = {
    "pandas": "the DataFrame",
    "polars": "the polars DataFrame",
    "arrow": "the Arrow table",
    "stream": "the Arrow stream",
    "dict": "the dict of arrays",
}
#: Said once after the name in messages that give row numbers.
ROWS_FROM_ONE = " (rows counted from 1)"


def _loaded(module: str, name: str) -> type | None:
    """The class ``module.name`` if ``module`` is already imported (data of a library that
    was never imported cannot be one of its objects, so checking imports nothing)."""
    mod = sys.modules.get(module)
    return getattr(mod, name, None) if mod is not None else None


def is_table(data: object) -> bool:
    """True for a table :func:`as_frame` reads (not a column, not a dict)."""
    for module, names in (("pandas", ("DataFrame",)), ("polars", ("DataFrame", "LazyFrame"))):
        for n in names:
            cls = _loaded(module, n)
            if cls is not None and isinstance(data, cls):
                return True
    pa = sys.modules.get("pyarrow")
    if pa is not None:
        if isinstance(data, (pa.Array, pa.ChunkedArray)):
            return False
        if isinstance(data, (pa.Table, pa.RecordBatch, pa.RecordBatchReader)):
            return True
    return hasattr(data, "__arrow_c_stream__") and not hasattr(data, "dtype")


@dataclass(eq=False)
class Frame:
    """In-memory data, ready to open as a source (any number of times, except a stream)."""

    kind: str
    columns: list[str]
    #: A pyarrow Table (arrow, polars, dict), or None for pandas and streams.
    table: Any = field(default=None, repr=False)
    #: The pandas DataFrame and, per column name, its position in ``df.columns``.
    df: Any = field(default=None, repr=False)
    positions: dict[str, int] = field(default_factory=dict, repr=False)
    #: numpy views of the DataFrame's numeric columns (made on first read, never copies).
    numeric: dict[str, Any] = field(default_factory=dict, repr=False)
    #: A pyarrow RecordBatchReader (read once).
    stream: Any = field(default=None, repr=False)
    #: The name messages and reports use (``name=`` overrides the default).
    label: str = ""
    #: A file read whole into this DataFrame (:mod:`lossctl.inputs.pandas_formats`):
    #: ``label`` is its path, and messages name it as a file's (rows counted from 1).
    file: bool = False
    _opened: bool = field(default=False, repr=False)

    @property
    def name(self) -> str:
        return self.label or NAMES[self.kind]

    @property
    def rows(self) -> int | None:
        if self.df is not None:
            return len(self.df)
        return None if self.table is None else int(self.table.num_rows)

    @property
    def index(self) -> Any:
        """The pandas index of a DataFrame (None for other inputs)."""
        return None if self.df is None else self.df.index

    def __str__(self) -> str:
        return self.name

    def open(self, chunk_size: int) -> FrameSource:
        """A source reading this data; a stream can be opened once."""
        if self.stream is not None and self._opened:
            raise self._read_twice()
        self._opened = True
        types = {}
        schema = self.table.schema if self.table is not None else None
        if self.stream is not None:
            schema = self.stream.schema
        if schema is not None:
            types = {f.name: f.type for f in schema}
        return FrameSource(
            path=self.name,
            fmt=SourceFormat(MEMORY, None),
            columns=list(self.columns),
            chunk_size=chunk_size,
            types=types,
            total_rows=self.rows,
            label=self.name,
            frame=self,
        )

    def _read_twice(self) -> UsageError:
        return UsageError(
            f"{self.name} is a stream of record batches and was already read; pass a "
            "pyarrow Table (or call .read_all() on the reader) to use it twice."
        )

    def materialized(self) -> Frame:
        """This data readable many times: a stream is read whole into a table."""
        if self.stream is None:
            return self
        if self._opened:
            raise self._read_twice()
        table = self.stream.read_all()
        return Frame("arrow", self.columns, table=table, label=self.label or NAMES["stream"])


@dataclass
class FrameSource(Source):
    """A :class:`~lossctl.inputs.readers.Source` over in-memory data."""

    frame: Frame | None = field(default=None, repr=False)
    #: Blocks of a stream read by the probe, given again first by the one full read.
    _head: list[Any] = field(default_factory=list, repr=False)
    _rest: Iterator[Any] | None = field(default=None, repr=False)
    _read: bool = field(default=False, repr=False)

    @property
    def rereadable(self) -> bool:
        return self.frame is None or self.frame.stream is None

    @property
    def rows_name(self) -> str:
        if self.frame is not None and self.frame.file:
            return self.name  # a file's data rows are counted from 1 in every message
        return self.name + ROWS_FROM_ONE

    @property
    def no_rows(self) -> str:
        """The message for data without rows."""
        if self.frame is not None and self.frame.stream is not None:
            return (
                f"{self.name} has no rows: a stream of record batches is read once; was it "
                "read already? Pass a pyarrow Table to evaluate the same data twice."
            )
        return f"{self.name} has columns but no rows."

    @property
    def native(self) -> bool:
        return True

    def parts(self, workers: int) -> list[Part] | None:
        """Row ranges of a table or DataFrame, for parallel evaluation."""
        rows = self.total_rows or 0
        if workers < 2 or not self.rereadable or rows < PARALLEL_MIN_ROWS:
            return None
        size = max(PART_ROWS, -(-rows // (4 * workers)))
        starts = list(range(0, rows, size))
        return [
            Part(i, i == 0, start=s, end=min(rows, s + size), rows=min(rows, s + size) - s)
            for i, s in enumerate(starts)
        ]

    def row_offset(self, part: Part) -> int:
        return part.start

    def probe(self, columns: Sequence[str], text: Sequence[str] = ()) -> Chunk | None:
        import pyarrow as pa

        size = min(self.chunk_size, 65_536)
        if self.frame is not None and self.frame.stream is not None:
            batch = self._first_stream_batch()
            if batch is None:
                return None
            return Chunk(pa.Table.from_batches([_normal(batch.select(list(columns)), ())]), 0)
        rows = self.frame.rows if self.frame is not None else 0
        for batch in self._blocks(list(columns), 0, min(size, rows or 0), ()):
            return Chunk(pa.Table.from_batches([batch]), 0)
        return None

    def _first_stream_batch(self) -> Any:
        assert self.frame is not None
        if self._head:
            return self._head[0]
        if self._rest is None:
            self._rest = iter(self.frame.stream)
        for batch in self._rest:
            if batch.num_rows:
                self._head.append(batch)
                return batch
        return None

    def _batches(
        self,
        columns: list[str],
        text: list[str],
        part: Part | None,
        probe: bool = False,
        categories: Sequence[str] = (),
    ) -> Generator[pa.RecordBatch, None, None]:
        frame = self.frame
        assert frame is not None
        if frame.stream is not None:
            if self._read:
                raise UsageError(
                    f"{frame.name} is a stream of record batches and was already read; pass "
                    "a pyarrow Table to read it twice."
                )
            self._read = True
            if self._rest is None:
                self._rest = iter(frame.stream)
            head, self._head = self._head, []
            try:
                for batch in [*head, *self._rest]:
                    if batch.num_rows:
                        yield _normal(batch.select(columns), categories)
            except InputError:
                raise
            except Exception as exc:  # the producer of the stream failed
                raise InputError(f"reading {frame.name} failed: {exc}") from None
            return
        start, end = (0, frame.rows or 0) if part is None else (part.start, part.end)
        yield from self._blocks(columns, start, end, categories)

    def _blocks(
        self, columns: list[str], start: int, end: int, categories: Sequence[str]
    ) -> Iterator[pa.RecordBatch]:
        frame = self.frame
        assert frame is not None
        step = max(1, self.chunk_size)
        for a in range(start, end, step):
            b = min(end, a + step)
            if frame.df is not None:
                yield _pandas_block(frame, columns, a, b, categories)
            else:
                for batch in frame.table.select(columns).slice(a, b - a).to_batches():
                    yield _normal(batch, categories)


def _pandas_block(
    frame: Frame, columns: Sequence[str], start: int, end: int, categories: Sequence[str]
) -> pa.RecordBatch:
    """Rows start..end of the DataFrame's ``columns`` as a record batch (a copy of one
    block only)."""
    import pyarrow as pa

    arrays = []
    for c in columns:
        view = _numeric_view(frame, c)
        if view is not None:  # zero-copy: Arrow wraps the numpy slice (NaN stays NaN)
            arrays.append(pa.array(view[start:end]))
            continue
        series = _column(frame, c)[start:end]
        try:
            arrays.append(pa.Array.from_pandas(series))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            fix = (
                "give the column one type of value (numbers, or text for labels)"
                if frame.file
                else f"convert it with df['{c}'].astype(float) (or .astype(str) for labels)"
            )
            raise InputError(
                f"column '{c}' of {frame.name} holds values Arrow cannot read as one type "
                f"(rows {start + 1}-{end}: {str(exc).splitlines()[0]}); {fix}."
            ) from None
    return _normal(pa.RecordBatch.from_arrays(arrays, names=list(columns)), categories)


def _column(frame: Frame, column: str) -> Any:
    """A column of the DataFrame as a pandas Series or Index: a level of its index when
    ``positions`` gives it as -(level + 1)."""
    pos = frame.positions[column]
    if pos < 0:
        return frame.df.index.get_level_values(-pos - 1)
    return frame.df.iloc[:, pos]


def _numeric_view(frame: Frame, column: str) -> Any:
    """The numpy array of a float or integer column of plain numpy dtype (a view of the
    DataFrame's own memory), or None for other columns (text, categorical, nullable)."""
    if column in frame.numeric:
        return frame.numeric[column]
    import numpy as np

    series = _column(frame, column)
    dtype = series.dtype
    view = None
    if isinstance(dtype, np.dtype) and dtype.kind in "fiu" and dtype.itemsize >= 4:
        view = series.to_numpy(copy=False)
    frame.numeric[column] = view
    return view


def _normal(batch: pa.RecordBatch, categories: Sequence[str]) -> pa.RecordBatch:
    """The types a file reader would give: float64 for decimals, strings for large and
    view strings, dictionaries only for group columns (``categories``)."""
    import pyarrow as pa

    arrays = []
    changed = False
    for name, arr in zip(batch.schema.names, batch.columns, strict=True):
        new = _normal_array(arr, name in categories)
        changed |= new is not arr
        arrays.append(new)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names) if changed else batch


def _normal_array(arr: Any, group: bool) -> Any:
    import pyarrow as pa

    t = arr.type
    if pa.types.is_dictionary(t):
        if group and _is_text(t.value_type):
            if t.index_type == pa.int32() and t.value_type == pa.string():
                return arr
            return arr.cast(pa.dictionary(pa.int32(), pa.string()))
        arr = arr.dictionary_decode()
        t = arr.type
    if pa.types.is_decimal(t) or pa.types.is_float16(t):
        return arr.cast(pa.float64())
    if _is_text(t) and t != pa.string():
        return arr.cast(pa.string())
    return arr


def _is_text(t: Any) -> bool:
    import pyarrow as pa

    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))


# -- turning the user's object into a Frame ----------------------------------------------


def as_frame(data: object, name: str | None = None) -> Frame:
    """``data`` (see the module) as a :class:`Frame`; anything else is a UsageError."""
    pd_frame = _loaded("pandas", "DataFrame")
    if pd_frame is not None and isinstance(data, pd_frame):
        return _pandas_frame(data, name)
    pd_series = _loaded("pandas", "Series")
    if pd_series is not None and isinstance(data, pd_series):
        raise UsageError(
            "pass a DataFrame with the target and prediction columns, not one Series "
            "(e.g. pd.DataFrame({'y': y_true, 'y_pred': y_pred}))."
        )
    for cls in ("DataFrame", "LazyFrame"):
        pl_cls = _loaded("polars", cls)
        if pl_cls is not None and isinstance(data, pl_cls):
            frame: Any = data
            if cls == "LazyFrame":
                frame = frame.collect()
            return _arrow_frame(frame.to_arrow(), "polars", name)
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return _arrow_frame(data, "arrow", name)
    if isinstance(data, pa.RecordBatch):
        return _arrow_frame(pa.Table.from_batches([data]), "arrow", name)
    if isinstance(data, pa.RecordBatchReader):
        return _stream_frame(data, name)
    if isinstance(data, Mapping):
        return _dict_frame(data, name)
    if hasattr(data, "__arrow_c_stream__"):
        try:
            reader = pa.RecordBatchReader.from_stream(data)
        except Exception as exc:
            raise UsageError(
                f"cannot read {type(data).__name__} as an Arrow stream: {exc}"
            ) from None
        return _stream_frame(reader, name)
    if isinstance(data, (list, tuple)):
        raise UsageError(
            f"a {type(data).__name__} of {len(data)} items is not one table; evaluate takes a "
            "path, a DataFrame, an Arrow table or a dict of arrays (compare takes a list "
            "of those)."
        )
    raise UsageError(
        f"cannot read a {type(data).__module__}.{type(data).__qualname__}: pass a path, a "
        "pandas or polars DataFrame, a pyarrow Table or RecordBatchReader, an object with "
        "__arrow_c_stream__ (a DuckDB relation), or a dict of arrays."
    )


def _column_names(labels: Sequence[object], what: str) -> list[str]:
    names = [str(c) for c in labels]
    seen: dict[str, object] = {}
    for label, n in zip(labels, names, strict=True):
        if n in seen:
            raise InputError(
                f"{what} has two columns named '{n}' ({seen[n]!r} and {label!r}); rename one."
            )
        seen[n] = label
    return names


def _pandas_frame(df: Any, name: str | None) -> Frame:
    labels = list(df.columns)
    if any(isinstance(c, tuple) for c in labels):
        raise UsageError(
            f"{name or NAMES['pandas']} has MultiIndex columns; flatten them first "
            "(df.columns = ['_'.join(map(str, c)) for c in df.columns])."
        )
    names = _column_names(labels, name or NAMES["pandas"])
    positions = {n: i for i, n in enumerate(names)}
    # A named index is a column too, as pandas' to_csv writes it (df.set_index("id")).
    for level, index_name in enumerate(df.index.names):
        if index_name is not None and str(index_name) not in positions:
            positions[str(index_name)] = -(level + 1)
            names.append(str(index_name))
    return Frame("pandas", names, df=df, positions=positions, label=name or "")


def _arrow_frame(table: pa.Table, kind: str, name: str | None) -> Frame:
    names = _column_names(table.schema.names, name or NAMES[kind])
    return Frame(kind, names, table=table, label=name or "")


def _stream_frame(reader: pa.RecordBatchReader, name: str | None) -> Frame:
    names = _column_names(reader.schema.names, name or NAMES["stream"])
    return Frame("stream", names, stream=reader, label=name or "")


def _dict_frame(data: Mapping[Any, Any], name: str | None) -> Frame:
    """A dict of columns: numpy arrays, lists, pandas or polars Series, Arrow arrays.
    A column of shape (n, 1) is squeezed; columns of different lengths are an error."""
    import numpy as np
    import pyarrow as pa

    what = name or NAMES["dict"]
    if not data:
        raise UsageError(f"{what} is empty; it needs a target and a prediction column.")
    arrays: dict[str, Any] = {}
    for key, value in data.items():
        col = str(key)
        if col in arrays:
            raise InputError(f"{what} has two columns named '{col}'; rename one.")
        arrays[col] = _dict_column(col, value, what, np, pa)
    lengths = {c: len(a) for c, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"'{c}' {n}" for c, n in lengths.items())
        raise InputError(f"the columns of {what} differ in length ({shown}); give equal lengths.")
    return _arrow_frame(pa.table(arrays), "dict", name)


def _dict_column(col: str, value: Any, what: str, np: Any, pa: Any) -> Any:
    if isinstance(value, (pa.Array, pa.ChunkedArray)):
        return value
    if hasattr(value, "to_arrow") and type(value).__module__.startswith("polars"):
        return value.to_arrow()  # type: ignore[union-attr]
    pd_series = _loaded("pandas", "Series")
    if pd_series is not None and isinstance(value, pd_series):
        return pa.Array.from_pandas(value)
    arr = np.asarray(value)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InputError(
            f"column '{col}' of {what} has shape {arr.shape}; each column is one value per "
            f"row. Give a class-probability matrix one column per class, e.g. "
            f"{{f'p_{{k}}': proba[:, k] for k in range(proba.shape[1])}}."
        )
    try:
        return (
            pa.array(arr, from_pandas=True)
            if arr.dtype.kind != "O"
            else pa.array(list(arr), from_pandas=True)
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise InputError(
            f"column '{col}' of {what} mixes types Arrow cannot hold in one column "
            f"({str(exc).splitlines()[0]}); give numbers, or strings for labels."
        ) from None


def read_whole(
    source: Source, columns: Sequence[str], text: Sequence[str], categories: Sequence[str]
) -> Frame:
    """The ``columns`` of a file read once, whole, as in-memory data that messages still
    name as the file (rows counted from 1, as in the file): compare reads a file with K
    prediction columns once, not once per model."""
    import pyarrow as pa

    chunks = source.chunks(list(columns), list(text), None, list(categories))
    try:
        tables = [chunk.table for chunk in chunks]
    finally:
        chunks.close()
    table = pa.concat_tables(tables) if tables else pa.table({c: [] for c in columns})
    return Frame("arrow", list(source.columns), table=table, label=source.name, file=True)
