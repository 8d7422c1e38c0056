"""Readers: a path (or ``-``) to a stream of pandas DataFrame chunks.

Formats come from the suffix (``.csv``, ``.tsv``, ``.parquet``/``.pq``,
``.jsonl``/``.ndjson``, ``.feather``/``.arrow``), optionally compressed
(``.gz``, ``.bz2``, ``.xz``, ``.zst``); ``input_format`` overrides it. CSV/TSV,
JSON Lines, Parquet and Feather are streamed through pyarrow record batches,
reading only the columns asked for, so memory is bounded by the chunk size.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from lossctl.errors import InputError, UsageError

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".feather": "feather",
    ".arrow": "feather",
    ".ipc": "feather",
}
COMPRESSIONS: dict[str, str] = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zst": "zstd"}
DEFAULT_CHUNK_SIZE = 1_000_000
#: Bytes pyarrow's CSV/JSON readers parse per block (batches are then re-chunked).
BLOCK_SIZE = 16 << 20


@dataclass(frozen=True)
class SourceFormat:
    format: str
    compression: str | None


def detect_format(path: str, override: str | None = None) -> SourceFormat:
    """Format and compression from the suffix, or from ``override`` (``--input-format``)."""
    name = path.lower()
    compression = None
    for suffix, codec in COMPRESSIONS.items():
        if name.endswith(suffix):
            compression = codec
            name = name[: -len(suffix)]
            break
    if override:
        if override not in set(FORMATS.values()):
            raise UsageError(
                f"unknown --input-format '{override}'; expected one of "
                f"{', '.join(sorted(set(FORMATS.values())))}."
            )
        return SourceFormat(override, compression)
    if path == "-":
        return SourceFormat("csv", None)
    suffix = Path(name).suffix
    if suffix not in FORMATS:
        raise InputError(
            f"cannot tell the format of {path} from its suffix '{suffix or '(none)'}'; "
            f"use one of {', '.join(FORMATS)} (optionally + {', '.join(COMPRESSIONS)}) "
            "or pass --input-format."
        )
    return SourceFormat(FORMATS[suffix], compression)


@dataclass
class Chunk:
    """A block of rows: ``start`` is the 0-based index of its first row in the file."""

    frame: pd.DataFrame
    start: int


@dataclass
class Source:
    """An opened input: its display name, format and column names."""

    path: str
    fmt: SourceFormat
    columns: list[str]
    chunk_size: int = DEFAULT_CHUNK_SIZE
    int_columns: list[str] = field(default_factory=list)
    _stdin_cache: bytes | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return "<stdin>" if self.path == "-" else self.path

    def chunks(self, columns: Sequence[str], text: Sequence[str] = ()) -> Iterator[Chunk]:
        """Stream the given columns as DataFrame chunks of at most ``chunk_size`` rows.

        ``text`` columns (ids, groups) are read from CSV as strings, as written.
        """
        start = 0
        for batch in _rechunk(self._batches(list(columns), list(text)), self.chunk_size):
            frame = batch.to_pandas()
            yield Chunk(frame, start)
            start += len(frame)

    # -- format specific ------------------------------------------------------

    def _raw(self) -> IO[bytes]:
        """A binary stream of the (decompressed) input."""
        if self.path == "-":
            if self._stdin_cache is None:
                raise InputError("standard input was already consumed.")
            data: IO[bytes] = io.BytesIO(self._stdin_cache)
        else:
            data = open(self.path, "rb")  # noqa: SIM115 - closed by the caller's reader
        return _decompress(data, self.fmt.compression, self.name)

    def _batches(self, columns: list[str], text: list[str]) -> Iterator[pa.RecordBatch]:
        fmt = self.fmt.format
        try:
            if fmt in ("csv", "tsv"):
                floats = [c for c in self.int_columns if c not in text]
                yield from _csv_batches(self._raw(), fmt, columns, floats, text)
            elif fmt == "jsonl":
                yield from _jsonl_batches(self._raw(), columns, self.int_columns)
            elif fmt == "parquet":
                yield from _parquet_batches(self._seekable(), columns, self.chunk_size)
            else:
                yield from _feather_batches(self._seekable(), columns)
        except InputError:
            raise
        except Exception as exc:
            located = self._locate_conversion_error(exc, columns)
            raise (located or _read_error(exc, self.name, fmt)) from None

    def _locate_conversion_error(self, exc: Exception, columns: list[str]) -> InputError | None:
        """For 'CSV conversion error' in a later block: find the bad value and its row."""
        import re

        import pyarrow as pa

        m = re.search(r"CSV column #(\d+): CSV conversion error to (\w+)", str(exc))
        if m is None or self.fmt.format not in ("csv", "tsv"):
            return None
        col = self.columns[int(m.group(1))] if int(m.group(1)) < len(self.columns) else None
        if col is None:
            return None
        import pandas as pd
        import pyarrow.csv as pcsv

        read, parse, convert = _csv_options(self.fmt.format, [col], {col: pa.string()})
        reader = pcsv.open_csv(
            self._raw(), read_options=read, parse_options=parse, convert_options=convert
        )
        start = 0
        for batch in reader:
            text = batch.column(0).to_pandas()
            numbers = pd.to_numeric(text, errors="coerce")
            bad = numbers.isna() & text.notna() & (text.str.strip() != "")
            if bad.any():
                pos = int(bad.to_numpy().argmax())
                return bad_value_error(col, self.name, text.iloc[pos], start + pos + 1)
            start += len(text)
        return None

    def _seekable(self) -> Any:
        if self.path != "-" and self.fmt.compression is None:
            return self.path
        return io.BytesIO(self._raw().read())  # stdin/compressed Parquet: read whole


def bad_value_error(column: str, source: str, value: object, row: int) -> InputError:
    """The error for a non-numeric value in a numeric column."""
    return InputError(
        f"column '{column}' of {source} must be numeric; found {value!r} at row {row}. "
        "Fix the value, or pick another column."
    )


def _decompress(data: IO[bytes], codec: str | None, name: str) -> Any:
    if codec is None:
        return data
    if codec == "gzip":
        import gzip

        return gzip.GzipFile(fileobj=data)
    if codec == "bz2":
        import bz2

        return bz2.BZ2File(data)
    if codec == "xz":
        import lzma

        return lzma.LZMAFile(data)
    import pyarrow as pa

    try:
        return pa.CompressedInputStream(pa.PythonFile(data, mode="r"), "zstd")
    except Exception as exc:
        raise InputError(f"cannot read zstd-compressed {name}: {exc}") from None


def _read_error(exc: Exception, name: str, fmt: str) -> InputError:
    """Turn a reader exception into a one-line input error."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = text.rstrip(".")
    if isinstance(exc, FileNotFoundError):
        return InputError(f"file {name} not found; check the path.")
    if isinstance(exc, (IsADirectoryError, PermissionError)):
        return InputError(f"cannot read {name}: {exc.strerror}.")
    if isinstance(exc, (EOFError, OSError)) and fmt not in ("parquet", "feather"):
        return InputError(f"cannot read {name}: {text}; is the file truncated or corrupt?")
    hint = {
        "parquet": "is it a complete Parquet file? Check --input-format",
        "feather": "is it an Arrow IPC/Feather file? Check --input-format",
    }.get(fmt, f"is it valid {fmt.upper()}? Check --input-format")
    return InputError(f"cannot read {name} as {fmt}: {text}; {hint}.")


def _rechunk(batches: Iterator[pa.RecordBatch], size: int) -> Iterator[pa.Table]:
    """Regroup record batches into tables of exactly ``size`` rows (the last may be shorter)."""
    import pyarrow as pa

    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        if batch.num_rows == 0:
            continue
        pending.append(batch)
        rows += batch.num_rows
        while rows >= size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, size)
            rest = table.slice(size)
            pending = rest.to_batches() if rest.num_rows else []
            rows -= size
    if rows:
        yield pa.Table.from_batches(pending)


def _csv_options(fmt: str, columns: list[str] | None, types: dict[str, Any] | None = None) -> Any:
    import pyarrow.csv as pcsv

    read = pcsv.ReadOptions(block_size=BLOCK_SIZE)
    parse = pcsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",")
    convert = pcsv.ConvertOptions(
        include_columns=columns,
        column_types=types or {},
        strings_can_be_null=True,
    )
    return read, parse, convert


def _csv_batches(
    data: IO[bytes],
    fmt: str,
    columns: list[str],
    float_columns: Sequence[str],
    text_columns: Sequence[str] = (),
) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    # Type inference looks at the first block only: a column of integers there and
    # "2.5" later would fail mid-stream, so integer columns are read as float64
    # (labels stay exact: float64 holds integers up to 2**53).
    types = {c: pa.float64() for c in float_columns if c in columns}
    types.update({c: pa.string() for c in text_columns if c in columns})
    read, parse, convert = _csv_options(fmt, columns, types)
    yield from pcsv.open_csv(data, read_options=read, parse_options=parse, convert_options=convert)


def _jsonl_batches(
    data: IO[bytes], columns: list[str], float_columns: Sequence[str]
) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa
    import pyarrow.json as pjson

    # As for CSV: integers seen in the first block are read as float64 throughout.
    schema = pa.schema([(c, pa.float64()) for c in float_columns if c in columns])
    parse = pjson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
    reader = pjson.open_json(
        data, read_options=pjson.ReadOptions(block_size=BLOCK_SIZE), parse_options=parse
    )
    for batch in reader:
        present = [c for c in columns if c in batch.schema.names]
        yield batch.select(present)


def _parquet_batches(src: Any, columns: list[str], size: int) -> Iterator[pa.RecordBatch]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(src)
    yield from pf.iter_batches(batch_size=min(size, 1 << 20), columns=columns)


def _feather_batches(src: Any, columns: list[str]) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa

    reader = pa.ipc.open_file(src)
    for i in range(reader.num_record_batches):
        yield reader.get_batch(i).select(columns)


def read_schema(source: Source) -> pa.Schema:
    """The schema of a source (names and inferred types), reading as little as possible."""
    fmt = source.fmt.format
    if fmt in ("csv", "tsv"):
        import pyarrow.csv as pcsv

        read, parse, _ = _csv_options(fmt, None)
        with source._raw() as data:
            return pcsv.open_csv(data, read_options=read, parse_options=parse).schema
    if fmt == "jsonl":
        import pyarrow.json as pjson

        reader = pjson.open_json(
            source._raw(), read_options=pjson.ReadOptions(block_size=BLOCK_SIZE)
        )
        return reader.schema
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(source._seekable()).schema_arrow
    import pyarrow as pa

    return pa.ipc.open_file(source._seekable()).schema


def open_source(
    path: str,
    input_format: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Source:
    """Open a file (or ``-`` for stdin): detect its format and read its column names."""
    if chunk_size < 1:
        raise UsageError(f"--chunk-size must be >= 1, got {chunk_size}.")
    fmt = detect_format(path, input_format)
    stdin = None
    if path == "-":
        stdin = sys.stdin.buffer.read()
        if not stdin.strip():
            raise InputError("standard input is empty; pipe a file into lossctl or pass a path.")
    else:
        p = Path(path)
        if not p.exists():
            raise InputError(f"file {path} not found; check the path.")
        if p.is_dir():
            raise InputError(f"{path} is a directory; pass a file.")
        if p.stat().st_size == 0:
            raise InputError(f"file {path} is empty; it needs a header and data rows.")
    source = Source(path, fmt, [], chunk_size, _stdin_cache=stdin)
    try:
        import pyarrow as pa

        schema = read_schema(source)
        source.columns = list(schema.names)
        source.int_columns = [f.name for f in schema if pa.types.is_integer(f.type)]
    except InputError:
        raise
    except Exception as exc:
        raise _read_error(exc, source.name, fmt.format) from None
    if not source.columns:
        raise InputError(f"{source.name} has no columns; it needs a header and data rows.")
    return source
