"""Readers: a path (or ``-``) to a stream of Arrow table chunks.

Formats come from the suffix (``.csv``, ``.tsv``, ``.parquet``/``.pq``,
``.jsonl``/``.ndjson``, ``.feather``/``.arrow``), optionally compressed
(``.gz``, ``.bz2``, ``.xz``, ``.zst``); ``input_format`` overrides it. Every
format is streamed through pyarrow record batches, reading only the columns
asked for, so memory is bounded by the chunk size. Uncompressed CSV/TSV files
and Parquet files can also be cut into independent *parts* (byte ranges aligned
on line ends, or sets of row groups) that threads read in parallel.

Chunks are ``pyarrow.Table`` objects: numeric columns go to numpy without pandas;
``Chunk.frame`` gives a pandas DataFrame for the code paths that want one.
"""

from __future__ import annotations

import io
import itertools
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from lossctl.errors import InputError, UsageError

if TYPE_CHECKING:
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
BLOCK_SIZE = 4 << 20
#: Bytes read to look at the first rows (schema, task inference).
PROBE_BYTES = 1 << 20
#: Files smaller than this are read by one thread (parts would not pay off).
PARALLEL_MIN_BYTES = 32 << 20
#: Parquet files with fewer rows are read by one thread.
PARALLEL_MIN_ROWS = 1_000_000
#: Size of one CSV part read in parallel (bounds the memory of each reading thread).
PART_BYTES = 16 << 20


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
    """A block of rows: ``start`` is the 0-based index of its first row in its part."""

    table: pa.Table
    start: int

    def __len__(self) -> int:
        return int(self.table.num_rows)


@dataclass(frozen=True)
class Part:
    """An independently readable piece of a file: a byte range or a set of row groups."""

    index: int
    first: bool
    start: int = 0
    end: int = 0
    row_groups: tuple[int, ...] = ()
    rows: int = 0
    #: The file of a dataset this part is.
    file: int = 0


@dataclass
class Source:
    """An opened input: its display name, format, schema and reading options."""

    path: str
    fmt: SourceFormat
    columns: list[str]
    chunk_size: int = DEFAULT_CHUNK_SIZE
    types: dict[str, Any] = field(default_factory=dict)
    size: int = 0
    total_rows: int | None = None
    #: An fsspec filesystem for remote files (s3://, gs://, memory://); None: local.
    fs: Any = field(default=None, repr=False)
    #: Shown in messages instead of the path (a dataset's part file).
    label: str | None = None
    _stdin_cache: bytes | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        return "<stdin>" if self.path == "-" else self.path

    # -- reading --------------------------------------------------------------------

    def column_types(
        self, columns: Sequence[str], text: Sequence[str], categories: Sequence[str] = ()
    ) -> dict[str, Any]:
        """Types forced on CSV/JSON columns: numbers as float64, ids as text, groups as
        dictionary-encoded text (parsed straight into codes: fast and small).

        Type inference looks at the first block only: integers there and "2.5"
        later would fail mid-stream, so every numeric column used is float64 from
        the start (labels stay exact: float64 holds integers up to 2**53).
        """
        import pyarrow as pa

        out: dict[str, Any] = {}
        for c in columns:
            if c in categories:
                out[c] = pa.dictionary(pa.int32(), pa.string())
            elif c in text:
                out[c] = pa.string()
            elif c in self.types and (
                pa.types.is_integer(self.types[c]) or pa.types.is_floating(self.types[c])
            ):
                out[c] = pa.float64()
        return out

    def chunks(
        self,
        columns: Sequence[str],
        text: Sequence[str] = (),
        part: Part | None = None,
        categories: Sequence[str] = (),
        offset: int = 0,
    ) -> Iterator[Chunk]:
        """Stream ``columns`` as tables of at most ``chunk_size`` rows (of ``part``, or all).

        ``offset`` is the row index of the part's first row (for row numbers in messages).
        """
        start = offset
        batches = self._batches(list(columns), list(text), part, categories=list(categories))
        for table in _rechunk(batches, self.chunk_size):
            yield Chunk(table, start)
            start += table.num_rows

    def probe(self, columns: Sequence[str], text: Sequence[str] = ()) -> Chunk | None:
        """The first rows (about the first megabyte), to infer the task; None if no rows."""
        import pyarrow as pa

        batches = []
        for batch in self._batches(list(columns), list(text), None, probe=True):
            if batch.num_rows:
                batches.append(batch)
                break
        if not batches:
            return None
        if self.total_rows is None and self.fmt.format in ("csv", "tsv", "jsonl"):
            # Rows in the file, estimated from the first block (for progress only).
            rows = batches[0].num_rows
            self.total_rows = max(rows, int(self.size * rows / min(self.size, PROBE_BYTES)))
        return Chunk(pa.Table.from_batches(batches), 0)

    def parts(self, workers: int) -> list[Part] | None:
        """Pieces for parallel reading, or None when the file must be read in one pass."""
        if workers < 2 or self.path == "-" or self.fmt.compression is not None or self.fs:
            return None
        if self.fmt.format in ("csv", "tsv") and self.size >= PARALLEL_MIN_BYTES:
            # Parts of about PART_BYTES: each is read into memory whole while it is parsed.
            count = max(2, self.size // PART_BYTES)
            with open(self.path, "rb") as f:
                f.readline()  # the header
                header_end = f.tell()
                cuts = [0]
                for i in range(1, count):
                    f.seek(max(header_end, self.size * i // count))
                    f.readline()  # move to the start of the next line
                    pos = f.tell()
                    if pos > cuts[-1] and pos < self.size:
                        cuts.append(pos)
            cuts.append(self.size)
            pairs = enumerate(itertools.pairwise(cuts))
            return [Part(i, i == 0, start, end) for i, (start, end) in pairs]
        if self.fmt.format == "parquet":
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(self.path).metadata
            if meta.num_row_groups < 2 or meta.num_rows < PARALLEL_MIN_ROWS:
                return None
            groups = list(range(meta.num_row_groups))
            n = min(len(groups), 4 * workers)
            split = [groups[i::n] for i in range(n)]
            split = [sorted(s) for s in split if s]
            split.sort(key=lambda s: s[0])
            return [
                Part(i, i == 0, row_groups=tuple(s),
                     rows=sum(meta.row_group(g).num_rows for g in s))
                for i, s in enumerate(split)
            ]  # fmt: skip
        return None

    def row_offset(self, part: Part) -> int:
        """Rows of the file before ``part`` (exact row numbers in a part's messages).

        Parquet: from the metadata. CSV: the lines before the part's first byte are
        counted, which reads the file up to there (used only on the error path).
        """
        if part.row_groups:
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(self._seekable()).metadata
            return sum(meta.row_group(g).num_rows for g in range(part.row_groups[0]))
        if part.first or part.start == 0:
            return 0
        lines = 0
        with open(self.path, "rb") as f:
            left = part.start
            while left > 0:
                block = f.read(min(left, 1 << 24))
                if not block:
                    break
                lines += block.count(b"\n")
                left -= len(block)
        return lines - 1  # the header line is not a row

    # -- format specific ----------------------------------------------------------------

    def _raw(self) -> IO[bytes]:
        """A binary stream of the (decompressed) input."""
        if self.path == "-":
            if self._stdin_cache is None:
                raise InputError("standard input was already consumed.")
            data: IO[bytes] = io.BytesIO(self._stdin_cache)
        elif self.fs is not None:
            data = self.fs.open(self.path, "rb")
        else:
            data = open(self.path, "rb")  # noqa: SIM115 - closed by the reader
        return _decompress(data, self.fmt.compression, self.name)

    def _batches(
        self,
        columns: list[str],
        text: list[str],
        part: Part | None,
        probe: bool = False,
        categories: Sequence[str] = (),
    ) -> Iterator[pa.RecordBatch]:
        fmt = self.fmt.format
        types = self.column_types(columns, text, categories if fmt in ("csv", "tsv") else ())
        try:
            if fmt in ("csv", "tsv"):
                yield from _csv_batches(self, columns, types, part, probe)
            elif fmt == "jsonl":
                yield from _jsonl_batches(self._raw(), columns, types, probe)
            elif fmt == "parquet":
                yield from _parquet_batches(self._seekable(), columns, self.chunk_size, part)
            else:
                yield from _feather_batches(self._seekable(), columns)
        except InputError:
            raise
        except Exception as exc:
            located = self._locate_conversion_error(exc)
            raise (located or _read_error(exc, self.name, fmt)) from None

    def _locate_conversion_error(self, exc: Exception) -> InputError | None:
        """For 'CSV conversion error' in a later block: find the bad value and its row."""
        import re

        import pyarrow as pa

        m = re.search(r"CSV column #(\d+): CSV conversion error to (\w+)", str(exc))
        if m is None or self.fmt.format not in ("csv", "tsv"):
            return None
        index = int(m.group(1))
        if index >= len(self.columns):
            return None
        col = self.columns[index]
        import pyarrow.csv as pcsv

        read, parse, convert = _csv_options(self.fmt.format, [col], {col: pa.string()})
        reader = pcsv.open_csv(
            self._raw(), read_options=read, parse_options=parse, convert_options=convert
        )
        start = 0
        for batch in reader:
            values = batch.column(0)
            bad = first_non_numeric(values)
            if bad is not None:
                return bad_value_error(col, self.name, values[bad].as_py(), start + bad + 1)
            start += batch.num_rows
        return None

    def _seekable(self) -> Any:
        if self.fs is not None and self.fmt.compression is None:
            return self.fs.open(self.path, "rb")
        if self.path != "-" and self.fmt.compression is None:
            return self.path
        return io.BytesIO(self._raw().read())  # stdin/compressed Parquet: read whole


def first_non_numeric(values: Any) -> int | None:
    """Index of the first non-empty string that is not a number, or None."""
    for i, v in enumerate(values.to_pylist()):
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        try:
            float(v)
        except (TypeError, ValueError):
            return i
    return None


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


def _csv_options(
    fmt: str,
    columns: list[str] | None,
    types: dict[str, Any] | None = None,
    names: list[str] | None = None,
    block_size: int = BLOCK_SIZE,
    use_threads: bool = True,
) -> Any:
    import pyarrow.csv as pcsv

    read = pcsv.ReadOptions(block_size=block_size, column_names=names, use_threads=use_threads)
    parse = pcsv.ParseOptions(delimiter="\t" if fmt == "tsv" else ",")
    convert = pcsv.ConvertOptions(
        include_columns=columns,
        column_types=types or {},
        strings_can_be_null=True,
    )
    return read, parse, convert


def _csv_batches(
    source: Source, columns: list[str], types: dict[str, Any], part: Part | None, probe: bool
) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    fmt = source.fmt.format
    block = PROBE_BYTES if probe else BLOCK_SIZE
    if part is None:
        data: Any = source._raw()
        names = None
    else:
        # One byte range, read whole (a copy, not a memory map: a map's pages would
        # count in the resident memory); parts after the first have no header.
        with pa.OSFile(source.path) as f:
            data = pa.BufferReader(f.read_at(part.end - part.start, part.start))
        names = None if part.first else source.columns
    # Parts run one per thread already: pyarrow's own pool would only oversubscribe.
    read, parse, convert = _csv_options(fmt, columns, types, names, block, part is None)
    yield from pcsv.open_csv(data, read_options=read, parse_options=parse, convert_options=convert)


def _jsonl_batches(
    data: IO[bytes], columns: list[str], types: dict[str, Any], probe: bool
) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa
    import pyarrow.json as pjson

    schema = pa.schema(list(types.items()))
    parse = pjson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="infer")
    block = PROBE_BYTES if probe else BLOCK_SIZE
    reader = pjson.open_json(data, read_options=pjson.ReadOptions(block_size=block),
                             parse_options=parse)  # fmt: skip
    for batch in reader:
        present = [c for c in columns if c in batch.schema.names]
        yield batch.select(present)


def _parquet_batches(
    src: Any, columns: list[str], size: int, part: Part | None
) -> Iterator[pa.RecordBatch]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(src)
    groups = list(part.row_groups) if part is not None else None
    yield from pf.iter_batches(batch_size=min(size, 1 << 20), columns=columns, row_groups=groups)


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

        read, parse, _ = _csv_options(fmt, None, block_size=PROBE_BYTES)
        with source._raw() as data:
            return pcsv.open_csv(data, read_options=read, parse_options=parse).schema
    if fmt == "jsonl":
        import pyarrow.json as pjson

        reader = pjson.open_json(
            source._raw(), read_options=pjson.ReadOptions(block_size=PROBE_BYTES)
        )
        return reader.schema
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(source._seekable())
        source.total_rows = pf.metadata.num_rows
        return pf.schema_arrow
    import pyarrow as pa

    reader = pa.ipc.open_file(source._seekable())
    source.total_rows = sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))
    return reader.schema


def open_source(
    path: str,
    input_format: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> Any:
    """Open a file (``-`` for stdin), or a dataset (a folder, a glob or a URL of parts).

    Returns a :class:`Source`, or a :class:`~lossctl.inputs.datasets.Dataset` with
    the same reading interface.
    """
    if chunk_size < 1:
        raise UsageError(f"--chunk-size must be >= 1, got {chunk_size}.")
    from lossctl.inputs import datasets

    if datasets.is_dataset(path):
        return datasets.open_dataset(path, input_format, chunk_size)
    return open_file(path, input_format, chunk_size)


def open_file(
    path: str,
    input_format: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    fs: Any = None,
    label: str | None = None,
) -> Source:
    """Open one file: detect its format and read its schema."""
    fmt = detect_format(path, input_format)
    stdin = None
    size = 0
    if path == "-":
        stdin = sys.stdin.buffer.read()
        if not stdin.strip():
            raise InputError("standard input is empty; pipe a file into lossctl or pass a path.")
        size = len(stdin)
    elif fs is not None:
        size = int(fs.size(path))
        if size == 0:
            raise InputError(f"file {label or path} is empty; it needs a header and data rows.")
    else:
        p = Path(path)
        if not p.exists():
            raise InputError(f"file {path} not found; check the path.")
        if p.is_dir():
            raise InputError(f"{path} is a directory; pass a file.")
        size = p.stat().st_size
        if size == 0:
            raise InputError(f"file {label or path} is empty; it needs a header and data rows.")
    source = Source(path, fmt, [], chunk_size, size=size, fs=fs, label=label, _stdin_cache=stdin)
    try:
        schema = read_schema(source)
    except InputError:
        raise
    except Exception as exc:
        raise _read_error(exc, source.name, fmt.format) from None
    source.columns = list(schema.names)
    source.types = {f.name: f.type for f in schema}
    if not source.columns:
        raise InputError(f"{source.name} has no columns; it needs a header and data rows.")
    return source


def cpu_workers() -> int:
    """Threads for parallel reading: the CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1
