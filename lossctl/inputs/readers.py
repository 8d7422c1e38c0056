"""Readers: a path (or ``-``) to a stream of Arrow table chunks.

Formats come from the suffix (``.csv``, ``.tsv``, ``.parquet``/``.pq``,
``.jsonl``/``.ndjson``, ``.feather``/``.arrow``), optionally compressed
(``.gz``, ``.bz2``, ``.xz``, ``.zst``); ``input_format`` overrides it. Every
format is streamed through pyarrow record batches, reading only the columns
asked for, so memory is bounded by the chunk size. Uncompressed CSV/TSV files
and Parquet files can also be cut into independent *parts* (byte ranges aligned
on line ends outside quoted values, or sets of row groups) that threads read in
parallel.

Standard input, pipes and FIFOs are *streams*: their first bytes are kept for the
schema and the first rows, then chained with the rest for one pass (CSV/JSONL
never held whole; Parquet/Feather, which need random access, up to
:data:`MAX_STREAM_BYTES`). Local files are read by Arrow's own file objects, so
no Arrow thread calls back into Python, and every reader is closed when its
stream of batches ends, fails or is abandoned.

Chunks are ``pyarrow.Table`` objects; numeric columns go to numpy without pandas
(:func:`lossctl.inputs.validate.numpy_view`).

The formats of :data:`PANDAS_FORMATS` (Excel, Stata, SAS, SPSS) and pickles are not
read here: :func:`lossctl.inputs.sources.open_source` reads them whole through pandas
(:mod:`lossctl.inputs.pandas_formats`); this module only names them.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import os
import re
import stat
import sys
from collections.abc import Callable, Generator, Iterator, Sequence
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
#: Formats pyarrow does not read, by suffix: read whole into memory through pandas
#: (:mod:`lossctl.inputs.pandas_formats`), never compressed, never from a stream.
PANDAS_FORMATS: dict[str, str] = {
    ".xlsx": "excel",
    ".xls": "excel",
    ".dta": "stata",
    ".sas7bdat": "sas",
    ".xpt": "sas",
    ".sav": "spss",
}
#: The --input-format values read through pandas: pickle only when named, never by suffix.
PANDAS_INPUT_FORMATS: tuple[str, ...] = ("excel", "stata", "sas", "spss", "pickle")
#: Suffixes of pickles, which are refused unless --input-format pickle names the format.
PICKLE_SUFFIXES: tuple[str, ...] = (".pkl", ".pickle")
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
#: The longest first line (a CSV header, a JSON line) looked for before giving up.
MAX_LINE_BYTES = 64 << 20
#: Parquet/Feather on a stream (stdin, a pipe) are read into memory whole, up to this size.
MAX_STREAM_BYTES = 2 << 30
#: The deepest nesting of objects and lists accepted in the first lines of a JSONL input.
MAX_JSON_DEPTH = 64
#: What a number is in a numeric column: pyarrow's float64 syntax (ASCII digits, a sign,
#: a decimal point, an exponent, inf/infinity/nan in any case), blanks around it allowed.
NUMBER = re.compile(
    r"[ \t\r\n]*[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)"
    r"[ \t\r\n]*",
    re.IGNORECASE,
)


#: Bytes looked at to tell what an input holds (magic numbers; text or binary).
SNIFF_BYTES = 4096
#: What a sniffed kind of bytes is called in messages (None: text).
KINDS: dict[str | None, str] = {
    "parquet": "Parquet",
    "feather": "Arrow IPC/Feather",
    "gzip": "gzip-compressed",
    "bz2": "bzip2-compressed",
    "xz": "xz-compressed",
    "zstd": "zstd-compressed",
    "zip": "a zip archive",
    "xlsx": "an Excel workbook",
    "xls": "an Excel .xls workbook (or another OLE2 compound file)",
    "utf-16": "UTF-16 text",
    "binary": "binary",
    None: "text",
}
#: Control bytes that text (CSV, TSV, JSON Lines) does not hold.
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")
#: Delimiters looked for when a header parses as a single column.
DELIMITERS = (",", ";", "\t", "|")


@dataclass(frozen=True)
class SourceFormat:
    format: str
    compression: str | None
    #: The field separator of CSV/TSV (``--delimiter``); None: ',' for CSV, tab for TSV.
    delimiter: str | None = None

    @property
    def separator(self) -> str:
        """The CSV/TSV field separator in effect."""
        if self.delimiter is not None:
            return self.delimiter
        return "\t" if self.format == "tsv" else ","

    def _replace_delimiter(self, delimiter: str | None) -> SourceFormat:
        return dataclasses.replace(self, delimiter=delimiter)


def _shown(delimiter: str) -> str:
    """A delimiter as the user would type it: ``';'``, ``tab``."""
    return "tab" if delimiter == "\t" else f"'{delimiter}'"


def _split(lines: list[str], delimiter: str) -> list[list[str]]:
    """The first lines of a CSV split into fields (quotes respected)."""
    import csv

    return list(csv.reader(lines, delimiter=delimiter, strict=False)) or [[]]


def sniff(head: bytes) -> str | None:
    """What the first bytes of an input are: a compression (``gzip``, ``bz2``, ``xz``,
    ``zstd``), ``parquet``, ``feather``, ``zip``, ``xlsx``, ``xls`` (an OLE2 compound
    file), ``utf-16``, ``binary``, or None for (UTF-8 or 8-bit) text.

    Every magic number is one that text cannot start with (a byte that is not
    valid UTF-8, or a control byte right after an ASCII tag).
    """
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        return "zstd"
    if re.match(rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)", head):
        return "bz2"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx" if b"xl/" in head else "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if head.startswith(b"PAR1") and _CONTROL.match(head, 4):
        return "parquet"
    if head.startswith(b"ARROW1\x00"):
        return "feather"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    for zeros, chars in ((head[1:64:2], head[0:64:2]), (head[0:64:2], head[1:64:2])):
        # UTF-16 without a byte-order mark: ASCII text with every other byte 0.
        if len(head) >= 8 and not zeros.strip(b"\x00") and _ascii_text(chars):
            return "utf-16"
    controls = len(_CONTROL.findall(head))
    if b"\x00" in head or controls > max(2, len(head) // 50):
        return "binary"
    return None


def _ascii_text(data: bytes) -> bool:
    return data.isascii() and _CONTROL.search(data) is None and b"\x7f" not in data


def parse_delimiter(value: str | None) -> str | None:
    """The one-character field separator of ``--delimiter`` (``\\t`` or ``tab``: a tab)."""
    if value is None:
        return None
    text = "\t" if value in ("\\t", "\t") or value.lower() == "tab" else value
    if (
        len(text) != 1
        or not text.isascii()
        or text.isalnum()
        or text in "\"'.+-\r\n"
        or (not text.isprintable() and text != "\t")
    ):
        raise UsageError(
            f"--delimiter must be one character that separates fields, such as ';', '|' or "
            "a tab ('\\t' or 'tab'), not a letter, digit, quote, '.', '+', '-' or line end; "
            f"got {value!r}."
        )
    return text


def input_formats() -> list[str]:
    """Every --input-format value, sorted."""
    return sorted({*FORMATS.values(), *PANDAS_INPUT_FORMATS})


def pickle_refused(path: str) -> UsageError:
    """The error for a pickle named by its suffix only (loading a pickle runs its code)."""
    return UsageError(
        f"{path} looks like a pickle, and pickle runs code when loaded: lossctl reads one "
        "only with --input-format pickle, which you should pass only for a file you trust."
    )


def detect_format(path: str, override: str | None = None) -> SourceFormat:
    """Format and compression from the suffix, or from ``override`` (``--input-format``).

    A pickle's suffix (``.pkl``, ``.pickle``) alone is refused: only ``--input-format
    pickle`` reads one.
    """
    name = path.lower()
    compression = None
    for suffix, codec in COMPRESSIONS.items():
        if name.endswith(suffix):
            compression = codec
            name = name[: -len(suffix)]
            break
    if override:
        if override not in input_formats():
            raise UsageError(
                f"unknown --input-format '{override}'; expected one of "
                f"{', '.join(input_formats())}."
            )
        return SourceFormat(override, compression)
    if path == "-":
        return SourceFormat("csv", None)
    suffix = Path(name).suffix
    if suffix in PICKLE_SUFFIXES:
        raise pickle_refused(path)
    if suffix in PANDAS_FORMATS:
        return SourceFormat(PANDAS_FORMATS[suffix], compression)
    if suffix not in FORMATS:
        raise InputError(
            f"cannot tell the format of {path} from its suffix '{suffix or '(none)'}'; "
            f"use one of {', '.join([*FORMATS, *PANDAS_FORMATS])} (the streamed ones "
            f"optionally + {', '.join(COMPRESSIONS)}) or pass --input-format."
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
    #: A stream (stdin, a pipe, a FIFO), decompressed, positioned after ``head``.
    stream: Any = field(default=None, repr=False)
    #: The first bytes of the (decompressed) input; all of a Parquet/Feather stream.
    head: bytes = field(default=b"", repr=False)
    #: True when ``head`` holds the whole input.
    head_is_all: bool = False
    #: Bytes per CSV/JSON block (larger than the default for a very long first line).
    block_size: int = BLOCK_SIZE
    #: Warnings of opening the input (a workbook's other sheets, a pickle), for the report.
    warnings: list[str] = field(default_factory=list)
    _streamed: bool = field(default=False, repr=False)

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        return "<stdin>" if self.path == "-" else self.path

    @property
    def rows_name(self) -> str:
        """The name in messages that give row numbers."""
        return self.name

    @property
    def rereadable(self) -> bool:
        """False for a stream, which is read once."""
        return self.stream is None

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
    ) -> Generator[Chunk, None, None]:
        """Stream ``columns`` as tables of at most ``chunk_size`` rows (of ``part``, or all).

        ``offset`` is the row index of the part's first row (for row numbers in messages).
        """
        start = offset
        batches = self._batches(list(columns), list(text), part, categories=list(categories))
        tables = _rechunk(batches, self.chunk_size)
        try:
            for table in tables:
                yield Chunk(table, start)
                start += table.num_rows
        finally:  # an abandoned stream closes its reader now
            tables.close()
            batches.close()

    def probe(self, columns: Sequence[str], text: Sequence[str] = ()) -> Chunk | None:
        """The first rows (about the first megabyte), to infer the task; None if no rows."""
        import pyarrow as pa

        batches = []
        stream = self._batches(list(columns), list(text), None, probe=True)
        try:
            for batch in stream:
                if batch.num_rows:
                    batches.append(batch)
                    break
        finally:
            stream.close()
        if not batches:
            return None
        if (
            self.total_rows is None
            and self.rereadable
            and self.fmt.format in ("csv", "tsv", "jsonl")
        ):
            # Rows in the file, estimated from the first block (for progress only).
            rows = batches[0].num_rows
            probed = max(1, min(self.size, len(self.probe_bytes())))
            self.total_rows = max(rows, int(self.size * rows / probed))
        return Chunk(pa.Table.from_batches(batches), 0)

    def parts(self, workers: int) -> list[Part] | None:
        """Pieces for parallel reading, or None when the file must be read in one pass."""
        if workers < 2 or not self.rereadable or self.fmt.compression is not None or self.fs:
            return None
        if self.fmt.format in ("csv", "tsv") and self.size >= PARALLEL_MIN_BYTES:
            # Parts of about PART_BYTES: each is read into memory whole while it is parsed.
            cuts = _csv_cuts(self.path, self.size, max(2, self.size // PART_BYTES), workers)
            if cuts is None:
                return None
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

            meta = pq.ParquetFile(self.open_seekable()).metadata
            return sum(meta.row_group(g).num_rows for g in range(part.row_groups[0]))
        if part.first or part.start == 0:
            return 0
        import pyarrow as pa
        import pyarrow.csv as pcsv

        # Rows, not lines: a quoted value may hold line ends.
        first = self.columns[0]
        read, parse, convert = _csv_options(
            self.fmt, [first], {first: pa.string()}, block_size=self.block_size
        )
        rows = 0
        with pa.memory_map(self.path) as mapped:
            prefix = pa.BufferReader(mapped.read_at(part.start, 0))
            reader = pcsv.open_csv(
                prefix, read_options=read, parse_options=parse, convert_options=convert
            )
            with _closing(reader):
                for batch in reader:
                    rows += batch.num_rows
        return rows

    # -- the bytes, for the format readers below ---------------------------------------

    def open_raw(self) -> Any:
        """The (decompressed) input from its first byte; a stream can be read once."""
        import pyarrow as pa

        if self.stream is not None:
            if self.head_is_all:
                return pa.BufferReader(self.head)
            if self._streamed:
                raise InputError(f"{self.name} is a stream and was already read; pass a file.")
            self._streamed = True
            return _Chained(self.head, self.stream)
        if self.fs is not None:
            return _decompress(self.fs.open(self.path, "rb"), self.fmt.compression, self.name)
        if self.fmt.compression in (None, "gzip", "bz2", "zstd"):
            return pa.input_stream(self.path, compression=self.fmt.compression)
        return _decompress(open(self.path, "rb"), self.fmt.compression, self.name)

    @property
    def native(self) -> bool:
        """True when Arrow reads the input without calling back into Python (threads are safe)."""
        return self.stream is None and self.fs is None and self.fmt.compression != "xz"

    def probe_bytes(self) -> bytes:
        """The whole lines of ``head`` (the first rows), for the schema and the probe."""
        if self.head_is_all:
            return self.head
        cut = self.head.rfind(b"\n") + 1
        return self.head[:cut] if cut else self.head

    def read_head(self, data: Any) -> None:
        """Read the first lines of ``data`` into ``head`` (a CSV header, a JSON line)."""
        kind = "header line" if self.fmt.format in ("csv", "tsv") else "first line"
        head, complete = _read_lines(data.read, self.name, kind)
        self.head = head
        self.head_is_all = complete
        first = head.find(b"\n")
        if first >= PROBE_BYTES // 4:
            self.block_size = max(BLOCK_SIZE, 1 << (4 * (first + 1)).bit_length())

    def check_delimiter(self) -> None:
        """A header that is one column but splits into several on another delimiter
        (``label;score``) is an error naming the delimiter to pass, never a silent
        switch (nor a "column not found" that lists 'label;score' as the one column).
        """
        import csv

        lines = self.probe_bytes().decode("utf-8", "replace").splitlines(keepends=True)[:6]
        used = self.fmt.separator
        try:
            if not lines or len(_split(lines, used)[0]) != 1:
                return
        except csv.Error:
            return
        found: list[tuple[str, list[list[str]]]] = []
        for d in DELIMITERS:
            if d == used:
                continue
            try:
                rows = _split(lines, d)
            except csv.Error:
                continue
            n = len(rows[0])
            if n >= 2 and all(len(r) == n for r in rows[1:] if r):
                found.append((d, rows))
        if not found:
            return
        default = self.fmt._replace_delimiter(None).separator
        fixes = []
        for d, _ in found:
            fix = f"--delimiter {_shown(d)}"
            if d == default:
                fix += " (or no --delimiter)"
            fixes.append(fix)
        header = lines[0].rstrip("\r\n")
        if len(header) > 60:
            header = header[:57] + "..."
        given = (
            f"--delimiter {_shown(used)}"
            if self.fmt.delimiter is not None
            else f"{self.fmt.format.upper()} ({_shown(used)}-separated)"
        )
        message = (
            f"{_what(self)} looks {' or '.join(_shown(d) for d, _ in found)}-separated "
            f"(header {header!r}) but reads as one column with {given}: pass "
            f"{' or '.join(fixes)}."
        )
        decimal = re.compile(r"\s*[+-]?[0-9]+,[0-9]+\s*")
        if any(d != "," and decimal.fullmatch(v) for d, rows in found for r in rows[1:] for v in r):
            message += (
                " Its numbers have decimal commas ('1,5'), which lossctl does not read as "
                "numbers: save the file with decimal points (e.g. pandas to_csv(decimal='.'))."
            )
        raise InputError(message)

    def _batches(
        self,
        columns: list[str],
        text: list[str],
        part: Part | None,
        probe: bool = False,
        categories: Sequence[str] = (),
    ) -> Generator[pa.RecordBatch, None, None]:
        fmt = self.fmt.format
        types = self.column_types(columns, text, categories if fmt in ("csv", "tsv") else ())
        try:
            if fmt in ("csv", "tsv"):
                yield from _csv_batches(self, columns, types, part, probe)
            elif fmt == "jsonl":
                yield from _jsonl_batches(self, columns, types, probe)
            elif fmt == "parquet":
                yield from _parquet_batches(
                    self.open_seekable(), columns, self.chunk_size, part, categories
                )
            else:
                yield from _feather_batches(self.open_seekable(), columns)
        except InputError:
            raise
        except Exception as exc:
            located = None
            if self.rereadable:
                located = self._locate_conversion_error(exc) or self._locate_parse_error(exc)
            raise (located or _read_error(exc, self.name, fmt)) from None

    def _locate_conversion_error(self, exc: Exception) -> InputError | None:
        """For 'CSV conversion error' in a later block: find the bad value and its row."""
        import re

        import pyarrow as pa

        m = re.search(r"CSV column #(\d+): (?:Row #\d+: )?CSV conversion error to (\w+)", str(exc))
        if m is None or self.fmt.format not in ("csv", "tsv"):
            return None
        index = int(m.group(1))
        if index >= len(self.columns):
            return None
        col = self.columns[index]
        import pyarrow.csv as pcsv

        read, parse, convert = _csv_options(
            self.fmt, [col], {col: pa.string()}, block_size=self.block_size,
            use_threads=self.native,
        )  # fmt: skip
        start = 0
        reader = pcsv.open_csv(
            self.open_raw(), read_options=read, parse_options=parse, convert_options=convert
        )
        with _closing(reader):
            for batch in reader:
                values = batch.column(0)
                bad = first_non_numeric(values)
                if bad is not None:
                    return bad_value_error(col, self.name, values[bad].as_py(), start + bad + 1)
                start += batch.num_rows
        return None

    def _locate_parse_error(self, exc: Exception) -> InputError | None:
        """For a row with too many or too few fields: find its row number."""
        if self.fmt.format not in ("csv", "tsv") or "Expected" not in str(exc):
            return None
        import pyarrow as pa
        import pyarrow.csv as pcsv

        found: list[Any] = []

        def invalid(row: Any) -> str:
            found.append(row)
            return "error"

        first = self.columns[0] if self.columns else None
        read, parse, convert = _csv_options(
            self.fmt, [first] if first else None, {first: pa.string()} if first else None,
            block_size=self.block_size, use_threads=False,
        )  # fmt: skip
        parse.invalid_row_handler = invalid
        data = self.open_raw()
        try:
            reader = pcsv.open_csv(
                data, read_options=read, parse_options=parse, convert_options=convert
            )
            with _closing(reader):
                for _ in reader:
                    pass
        except (pa.ArrowException, OSError):
            pass
        finally:
            data.close()
        if not found or found[0].number is None:
            return None
        bad = found[0]
        s = "" if bad.actual_columns == 1 else "s"
        return InputError(
            f"row {bad.number - 1} of {self.name} has {bad.actual_columns} field{s}, the header "
            f"{bad.expected_columns}; fix that row (a value holding the delimiter must be quoted)."
        )

    def open_seekable(self) -> Any:
        """A path or a seekable file for Parquet and Feather (a compressed or streamed
        input is read whole into memory, within the cap)."""
        import pyarrow as pa

        if self.stream is not None:
            return pa.BufferReader(self.head)  # read whole when opened (bounded)
        if self.fs is not None and self.fmt.compression is None:
            return self.fs.open(self.path, "rb")
        if self.fmt.compression is None:
            return self.path
        data = self.open_raw()
        try:
            return pa.BufferReader(_read_capped(data.read, self.name, self.fmt.format))
        finally:
            data.close()


def is_number(text: str) -> bool:
    """True for the text of a number: :data:`NUMBER` (``1_000``, ``1,000``, ``３`` are not)."""
    return NUMBER.fullmatch(text) is not None


def first_non_numeric(values: Any) -> int | None:
    """Index of the first non-empty string that is not a number (:data:`NUMBER`), or None."""
    for i, v in enumerate(values.to_pylist()):
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        if not isinstance(v, str) or not is_number(v):
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
    if isinstance(exc, UnicodeDecodeError) or "invalid UTF8" in text:
        return InputError(
            f"{name} is not UTF-8 text ({text}); save it as UTF-8 (e.g. iconv -f latin1 -t utf-8)."
        )
    if "straddl" in text or "Empty CSV file" in text:
        return InputError(
            f"cannot read {name}: a row (or a quoted value in it) is longer than "
            f"{MAX_LINE_BYTES >> 20} MB, or the input has no line ends; lossctl reads rows "
            f"of up to {MAX_LINE_BYTES >> 20} MB."
        )
    row = re.search(r"Row #(\d+): Expected (\d+) columns, got (\d+)", text)
    if row is not None:
        return InputError(
            f"row {int(row.group(1)) - 1} of {name} has {row.group(3)} fields, the header "
            f"{row.group(2)}; fix that row (a value holding the delimiter must be quoted)."
        )
    if isinstance(exc, (EOFError, OSError)) and fmt not in ("parquet", "feather"):
        return InputError(f"cannot read {name}: {text}; is the file truncated or corrupt?")
    hint = {
        "parquet": "is it a complete Parquet file? Check --input-format",
        "feather": "is it an Arrow IPC/Feather file? Check --input-format",
    }.get(fmt, f"is it valid {fmt.upper()}? Check --input-format")
    return InputError(f"cannot read {name} as {fmt}: {text}; {hint}.")


def _rechunk(batches: Iterator[pa.RecordBatch], size: int) -> Generator[pa.Table, None, None]:
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
    fmt: SourceFormat,
    columns: list[str] | None,
    types: dict[str, Any] | None = None,
    names: list[str] | None = None,
    block_size: int = BLOCK_SIZE,
    use_threads: bool = True,
) -> Any:
    """Reading options; quoted values may hold line ends (valid CSV)."""
    import pyarrow.csv as pcsv

    read = pcsv.ReadOptions(block_size=block_size, column_names=names, use_threads=use_threads)
    parse = pcsv.ParseOptions(delimiter=fmt.separator, newlines_in_values=True)
    convert = pcsv.ConvertOptions(
        include_columns=columns,
        column_types=types or {},
        strings_can_be_null=True,
    )
    return read, parse, convert


def _csv_batches(
    source: Source, columns: list[str], types: dict[str, Any], part: Part | None, probe: bool
) -> Iterator[pa.RecordBatch]:
    """The batches of a CSV input (or of one part, or of its first rows).

    A row longer than a block (a long quoted value) restarts the reading with larger
    blocks, after the rows already read, up to :data:`MAX_LINE_BYTES`.
    """
    import pyarrow as pa
    import pyarrow.csv as pcsv

    fmt = source.fmt
    block = _probe_block(source) if probe else source.block_size
    # Parts run one per thread already: pyarrow's own pool would only oversubscribe.
    threads = source.native and part is None and not probe
    rows = 0
    while True:
        if probe:
            data: Any = pa.BufferReader(source.probe_bytes())
            names = None
        elif part is None:
            data = source.open_raw()
            names = None
        else:
            # One byte range, read whole (a copy, not a memory map: a map's pages would
            # count in the resident memory); parts after the first have no header.
            with pa.OSFile(source.path) as f:
                data = pa.BufferReader(f.read_at(part.end - part.start, part.start))
            names = None if part.first else source.columns
        try:
            read, parse, convert = _csv_options(fmt, columns, types, names, block, threads)
            read.skip_rows_after_names = rows
            reader = pcsv.open_csv(
                data, read_options=read, parse_options=parse, convert_options=convert
            )
            with _closing(reader):
                for batch in reader:
                    rows += batch.num_rows
                    yield batch
            return
        except pa.ArrowInvalid as exc:
            again = source.rereadable or part is not None or probe
            if "straddl" not in str(exc) or block >= MAX_LINE_BYTES or not again:
                raise
            block *= 4
        finally:
            data.close()


def _jsonl_batches(
    source: Source, columns: list[str], types: dict[str, Any], probe: bool
) -> Iterator[pa.RecordBatch]:
    """Only the keys asked for are parsed into columns; other keys are skipped unparsed
    (so a deeply nested value elsewhere on a line is never built).
    """
    import pyarrow as pa
    import pyarrow.json as pjson

    fields = []
    for c in columns:
        t = types.get(c, source.types.get(c, pa.float64()))
        fields.append((c, pa.float64() if pa.types.is_null(t) else t))
    parse = pjson.ParseOptions(
        explicit_schema=pa.schema(fields), unexpected_field_behavior="ignore"
    )
    block = _probe_block(source) if probe else source.block_size
    data = pa.BufferReader(source.probe_bytes()) if probe else source.open_raw()
    try:
        reader = pjson.open_json(
            data,
            read_options=pjson.ReadOptions(block_size=block, use_threads=source.native),
            parse_options=parse,
        )
        with _closing(reader):
            for batch in reader:
                present = [c for c in columns if c in batch.schema.names]
                yield batch.select(present)
    finally:
        data.close()


def _parquet_batches(
    src: Any, columns: list[str], size: int, part: Part | None, categories: Sequence[str] = ()
) -> Iterator[pa.RecordBatch]:
    """Batches of a Parquet file; group columns (``categories``) of text come as dictionary
    arrays, decoded from the file's own dictionary pages: codes, without the strings."""
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(src, read_dictionary=[c for c in categories if c in columns] or None)
    groups = list(part.row_groups) if part is not None else None
    yield from pf.iter_batches(batch_size=min(size, 1 << 20), columns=columns, row_groups=groups)


def _feather_batches(src: Any, columns: list[str]) -> Iterator[pa.RecordBatch]:
    import pyarrow as pa

    reader = pa.ipc.open_file(src)
    for i in range(reader.num_record_batches):
        yield reader.get_batch(i).select(columns)


def read_schema(source: Source) -> pa.Schema:
    """The schema of a source (names and inferred types), reading as little as possible."""
    import pyarrow as pa

    fmt = source.fmt.format
    if fmt in ("csv", "tsv", "jsonl") and not source.head:
        data = source.open_raw()
        try:
            source.read_head(data)
        finally:
            data.close()
    block = _probe_block(source)
    if fmt in ("csv", "tsv"):
        import pyarrow.csv as pcsv

        source.check_delimiter()
        read, parse, _ = _csv_options(source.fmt, None, block_size=block, use_threads=False)
        reader = pcsv.open_csv(
            pa.BufferReader(source.probe_bytes()), read_options=read, parse_options=parse
        )
        with _closing(reader):
            return reader.schema
    if fmt == "jsonl":
        import pyarrow.json as pjson

        probe = source.probe_bytes()
        depth = _json_depth(probe)
        if depth > MAX_JSON_DEPTH:
            raise InputError(
                f"{source.name} nests objects or lists {depth} deep in its first lines; "
                f"lossctl reads at most {MAX_JSON_DEPTH} levels: flatten the records (the "
                "target and prediction as top-level keys)."
            )
        reader = pjson.open_json(
            pa.BufferReader(probe),
            read_options=pjson.ReadOptions(block_size=block, use_threads=False),
        )
        with _closing(reader):
            return reader.schema
    if fmt == "parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(source.open_seekable())
        source.total_rows = pf.metadata.num_rows
        return pf.schema_arrow
    reader = pa.ipc.open_file(source.open_seekable())
    source.total_rows = sum(reader.get_batch(i).num_rows for i in range(reader.num_record_batches))
    return reader.schema


def open_file(
    path: str,
    input_format: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    fs: Any = None,
    label: str | None = None,
    delimiter: str | None = None,
) -> Source:
    """Open one file (or ``-``, a pipe, a FIFO): detect its format and read its schema.

    The first bytes of a local file or a stream are looked at (:func:`sniff`): bytes
    that contradict the name or ``--input-format`` are an error naming both; on a
    stream without a suffix (stdin, ``<(...)``), compressed bytes are decompressed
    and Parquet/Feather bytes read as such, since their magic numbers are unambiguous.
    """
    delimiter = parse_delimiter(delimiter)
    stream = None
    size = 0
    # Where the format comes from: --input-format, the name's suffix, or nowhere.
    origin = "option" if input_format else "suffix" if _has_format_suffix(path) else "default"
    if path == "-":
        stream = _stdin()
    elif fs is not None:
        size = int(fs.size(path))
        if size == 0:
            raise InputError(f"file {label or path} is empty; it needs a header and data rows.")
    else:
        info = stat_path(path)
        if not stat.S_ISREG(info.st_mode):  # a pipe, a FIFO, <(...): read it as a stream
            if input_format is None and not _has_format_suffix(path):
                input_format = "csv"
            try:
                stream = open(path, "rb")  # noqa: SIM115 - closed at exit with the process
            except OSError as exc:
                raise InputError(f"cannot read {path}: {exc.strerror}.") from None
        else:
            size = info.st_size
            if size == 0:
                raise InputError(f"file {label or path} is empty; it needs a header and data rows.")
            try:
                with open(path, "rb"):
                    pass
            except OSError as exc:
                raise InputError(
                    f"cannot read {label or path}: {exc.strerror}; check its permissions."
                ) from None
    fmt = dataclasses.replace(detect_format(path, input_format), delimiter=delimiter)
    if fmt.format in PANDAS_INPUT_FORMATS:  # open_source reads these through pandas
        raise UsageError(
            f"{label or path} is {fmt.format}, which is read whole through pandas, one file "
            "at a time: pass it as FILE (not in a dataset, nor as a stream)."
        )
    source = Source(path, fmt, [], chunk_size, size=size, fs=fs, label=label)
    try:
        if stream is not None:
            _open_stream(source, stream, origin)
        elif fs is None:
            _sniff_file(source, origin)
        _check_delimiter_format(source)
        schema = read_schema(source)
    except (InputError, UsageError):
        raise
    except Exception as exc:
        located = source._locate_parse_error(exc) if source.rereadable else None
        raise (located or _read_error(exc, source.name, source.fmt.format)) from None
    try:
        source.columns = list(schema.names)
    except UnicodeDecodeError as exc:
        raise _read_error(exc, f"the header of {source.name}", source.fmt.format) from None
    source.types = {f.name: f.type for f in schema}
    if not source.columns:
        raise InputError(f"{source.name} has no columns; it needs a header and data rows.")
    return source


def stat_path(path: str) -> os.stat_result:
    """``os.stat`` of an input that is not a directory; a missing or unreadable path is an
    error saying so."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"file {path} not found; check the path.") from None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}; check the path.") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path} is a directory; pass a file.")
    return info


def _probe_block(source: Source) -> int:
    """One block for the first lines: their rows are parsed together, whatever their length."""
    return max(PROBE_BYTES, len(source.probe_bytes()) + 1)


def _has_format_suffix(path: str) -> bool:
    name = path.lower()
    for suffix in COMPRESSIONS:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return Path(name).suffix in FORMATS


def _stdin() -> Any:
    """The binary standard input; an error when it is closed."""
    stdin = sys.stdin
    buffer = getattr(stdin, "buffer", None) if stdin is not None else None
    if buffer is None:
        raise InputError(
            "standard input is empty (it is closed); pipe a file into lossctl or pass a path."
        )
    return buffer


def _check_delimiter_format(source: Source) -> None:
    """--delimiter with a format that has no delimiter is a usage error naming both."""
    fmt = source.fmt
    if fmt.delimiter is None or fmt.format in ("csv", "tsv"):
        return
    what = "standard input" if source.path == "-" else source.name
    raise UsageError(
        f"--delimiter {_shown(fmt.delimiter)} applies to CSV and TSV input, but {what} is "
        f"{KINDS.get(fmt.format, fmt.format.upper())}; drop --delimiter."
    )


def _what(source: Source) -> str:
    return "standard input" if source.path == "-" else source.name


def _suffix_of(path: str) -> str:
    """The format and compression suffixes of a name, e.g. ``.csv.gz``."""
    name = path.lower()
    tail = ""
    for suffix in COMPRESSIONS:
        if name.endswith(suffix):
            name, tail = name[: -len(suffix)], suffix
            break
    return Path(name).suffix + tail


def _hexdump(head: bytes) -> str:
    return " ".join(f"{b:02x}" for b in head[:8])


def _settle_compression(source: Source, raw: str | None, origin: str) -> None:
    """Check the compression of the name against the first bytes (``raw``: :func:`sniff`).

    Compressed bytes under a name without a suffix (stdin, ``<(...)``) are decompressed;
    under a name whose suffix says otherwise they are an error naming both.
    """
    codec = source.fmt.compression
    what = _what(source)
    codecs = set(COMPRESSIONS.values())
    if codec is None:
        if raw not in codecs:
            return
        if origin == "default" or not _has_format_suffix(source.path):
            source.fmt = dataclasses.replace(source.fmt, compression=raw)
            return
        suffix = next(s for s, c in COMPRESSIONS.items() if c == raw)
        raise InputError(
            f"{what} holds {KINDS[raw]} bytes despite its suffix '{_suffix_of(source.path)}'; "
            f"rename it to {Path(source.path).name}{suffix} (lossctl then decompresses it), "
            "or decompress it first."
        )
    if raw == codec:
        return
    suffix = next(s for s, c in COMPRESSIONS.items() if c == codec)
    if raw in codecs:
        other = next(s for s, c in COMPRESSIONS.items() if c == raw)
        fix = f"rename it to {Path(source.path).name[: -len(suffix)]}{other}"
    else:
        fix = f"remove '{suffix}' from its name"
    raise InputError(
        f"{what} is not {KINDS[codec]} despite its suffix '{suffix}' (its bytes are "
        f"{KINDS[raw]}); {fix}."
    )


def _settle_format(
    source: Source, inner: str | None, head: bytes, origin: str, stream: bool = False
) -> None:
    """Check the format against the first (decompressed) bytes (``inner``: :func:`sniff`).

    On a stream whose format comes from nowhere (stdin without --input-format),
    Parquet and Feather bytes switch the format; anywhere else, bytes that are not
    what the suffix or --input-format says are an error that names both and the fix
    (``stream``: the input is standard input or a pipe, which a workbook cannot be).
    """
    fmt = source.fmt.format
    what = _what(source)
    if inner in ("xlsx", "xls"):
        raise _workbook_error(source, inner, origin, stream)
    if inner == "zip":
        raise InputError(
            f"{what} is a zip archive, which lossctl does not read; unzip it and pass the "
            "file inside."
        )
    if inner in set(COMPRESSIONS.values()):
        raise InputError(
            f"{what} holds {KINDS[inner]} bytes inside its {KINDS[source.fmt.compression]} "
            "compression; decompress it once, then pass the result."
        )
    if inner in ("parquet", "feather"):
        if inner == fmt:
            return
        if origin == "default":
            source.fmt = dataclasses.replace(source.fmt, format=inner)
            return
        if origin == "suffix":
            said = f"despite its suffix '{_suffix_of(source.path)}'"
        else:
            said = f"not {fmt} as --input-format says"
        raise InputError(f"{what} holds {KINDS[inner]} bytes {said}; pass --input-format {inner}.")
    if fmt in ("parquet", "feather"):
        if inner in (None, "utf-16") and head.strip():
            said = (
                f"despite its suffix '{_suffix_of(source.path)}'"
                if origin == "suffix"
                else "but --input-format says " + fmt
            )
            raise InputError(
                f"cannot read {what} as {KINDS[fmt]}: it holds text, not {KINDS[fmt]} bytes, "
                f"{said}; pass --input-format csv (or tsv, jsonl)."
            )
        return
    # CSV, TSV, JSON Lines: text.
    if inner == "utf-16":
        raise InputError(
            f"{what} is UTF-16 text; lossctl reads UTF-8: convert it (iconv -f UTF-16 -t "
            "UTF-8) and pass the result."
        )
    if inner == "binary":
        raise InputError(
            f"{what} is not text (its first bytes are {_hexdump(head)}), so it is not "
            f"{fmt.upper()}; lossctl reads CSV, TSV and JSON Lines text, Parquet and Feather: "
            "check that it is the file you meant, or pass --input-format."
        )


def _workbook_error(source: Source, inner: str, origin: str, stream: bool) -> InputError:
    """An Excel workbook read as another format: the fix is the name or --input-format
    (a stream cannot be read as a workbook: its path can)."""
    ext = "." + inner
    if stream:
        return InputError(
            f"{_what(source)} is an Excel workbook ({ext}), which lossctl reads from a file, "
            "not a stream: pass the workbook's path (or save the sheet as CSV and pipe that)."
        )
    if source.fmt.compression is not None:
        return InputError(
            f"{source.name} holds an Excel workbook ({ext}) inside its "
            f"{KINDS[source.fmt.compression]} compression, which lossctl does not read: "
            f"decompress it and pass the {ext} file."
        )
    if origin == "suffix":
        return InputError(
            f"{source.name} is an Excel workbook ({ext}) despite its suffix "
            f"'{_suffix_of(source.path)}'; rename it to {Path(source.path).stem}{ext}, or "
            "pass --input-format excel."
        )
    return InputError(
        f"{source.name} is an Excel workbook ({ext}), not {source.fmt.format} as "
        "--input-format says; pass --input-format excel."
    )


def _sniff_file(source: Source, origin: str) -> None:
    """Look at the first bytes of a local file (and, when compressed, at its first
    decompressed bytes) before reading it."""
    with open(source.path, "rb") as f:
        raw = f.read(SNIFF_BYTES)
    _settle_compression(source, sniff(raw), origin)
    codec = source.fmt.compression
    if codec is None:
        _settle_format(source, sniff(raw), raw, origin)
        return
    try:
        with open(source.path, "rb") as f:
            data = _decompress(f, codec, source.name)
            try:
                head = data.read(SNIFF_BYTES)
            finally:
                data.close()
    except Exception:  # a corrupt stream: reading it says so, in the usual words
        return
    _settle_format(source, sniff(head), head, origin)


def _peek(stream: Any, n: int) -> tuple[bytes, Any]:
    """The first ``n`` bytes of a stream, and the stream that still starts with them."""
    head = stream.read(n) or b""
    return head, io.BufferedReader(_Chained(head, stream), buffer_size=1 << 20)


def _open_stream(source: Source, raw: Any, origin: str = "default") -> None:
    """Read a stream's first lines (or all of a Parquet/Feather stream) into ``source.head``.

    Its first bytes decide (:func:`sniff`): compressed bytes are decompressed when the
    name has no suffix; Parquet/Feather bytes are read as such when nothing named the
    format (see :func:`_settle_format`).
    """
    name = source.name
    first, raw = _peek(raw, SNIFF_BYTES)
    _settle_compression(source, sniff(first), origin)
    stream = _decompress(raw, source.fmt.compression, name)
    if source.fmt.compression is not None:
        try:
            first, stream = _peek(stream, SNIFF_BYTES)
        except Exception as exc:
            raise _read_error(exc, name, source.fmt.format) from None
    _settle_format(source, sniff(first), first, origin, stream=True)
    source.stream = stream
    if source.fmt.format in ("parquet", "feather"):
        source.head = _read_capped(stream.read, name, source.fmt.format)
        source.head_is_all = True
    else:
        source.read_head(stream)
    if not source.head.strip():
        what = "standard input" if source.path == "-" else name
        raise InputError(f"{what} is empty; pipe a file into lossctl or pass a path.")
    source.size = len(source.head)


def _read_lines(read: Callable[[int], bytes], name: str, kind: str) -> tuple[bytes, bool]:
    """The first bytes of an input: at least two whole lines (or all of it), and whether
    that is all of it. A first line longer than :data:`MAX_LINE_BYTES` is an error.
    """
    parts = [read(PROBE_BYTES)]
    total = len(parts[0])
    lines = parts[0].count(b"\n")
    complete = total < PROBE_BYTES
    while lines < 2 and not complete:
        if total >= MAX_LINE_BYTES:
            if lines == 0:
                raise InputError(
                    f"the {kind} of {name} is longer than {MAX_LINE_BYTES >> 20} MB (no line "
                    "end found); is it a text file with one record per line? Check "
                    "--input-format."
                )
            break
        more = read(max(PROBE_BYTES, total))
        if not more:
            complete = True
            break
        parts.append(more)
        total += len(more)
        lines += more.count(b"\n")
    return b"".join(parts), complete


def _read_capped(read: Callable[[int], bytes], name: str, fmt: str) -> bytes:
    """All of a stream that must be held in memory, up to :data:`MAX_STREAM_BYTES`."""
    parts: list[bytes] = []
    total = 0
    while True:
        block = read(16 << 20)
        if not block:
            return b"".join(parts)
        total += len(block)
        if total > MAX_STREAM_BYTES:
            raise InputError(
                f"{name} is a {fmt} stream larger than {MAX_STREAM_BYTES >> 30} GiB; a {fmt} "
                "stream (standard input, a pipe, a compressed file) is read into memory "
                "whole: save it to a file and pass its path."
            )
        parts.append(block)


def _json_depth(data: bytes) -> int:
    """The deepest nesting of brackets in any line of ``data`` (an upper bound: brackets
    inside strings count too)."""
    import numpy as np

    a = np.frombuffer(data, dtype=np.uint8)
    if not a.size:
        return 0
    step = ((a == ord("{")) | (a == ord("["))).astype(np.int32)
    step -= ((a == ord("}")) | (a == ord("]"))).astype(np.int32)
    depth = np.cumsum(step)
    starts = np.where(a == ord("\n"), np.arange(a.size), -1)
    starts = np.maximum.accumulate(starts)
    base = np.where(starts >= 0, depth[np.maximum(starts, 0)], 0)
    return int((depth - base).max())


def _csv_cuts(path: str, size: int, count: int, workers: int) -> list[int] | None:
    """Byte offsets cutting a CSV file into ``count`` parts at line ends outside quoted
    values (an even number of quote characters before the cut); None if there is none.

    The quotes are counted in segments by ``workers`` threads (numpy releases the GIL).
    """
    from concurrent.futures import ThreadPoolExecutor

    with open(path, "rb") as f:
        header = f.readline(MAX_LINE_BYTES)
    header_end = len(header)
    targets = sorted({max(header_end, size * i // count) for i in range(1, count)})
    bounds = [0, *targets, size]
    with ThreadPoolExecutor(max(1, workers)) as pool:
        segments = itertools.pairwise(bounds)
        counts = list(pool.map(lambda r: _count_quotes(path, *r), segments))
    cuts = [0]
    quotes = 0
    with open(path, "rb") as f:
        for target, segment in zip(targets, counts, strict=False):
            quotes += segment  # quotes before ``target``
            f.seek(target)
            pos = target
            here = quotes
            while True:  # to the end of a line, outside quotes
                line = f.readline(PART_BYTES)
                if not line or pos - target > PART_BYTES:
                    # No line end outside quotes near here (a stray quote?): one pass.
                    return None
                here += line.count(b'"')
                pos += len(line)
                if line.endswith(b"\n") and here % 2 == 0:
                    break
            if cuts[-1] < pos < size:
                cuts.append(pos)
    return [*cuts, size] if len(cuts) > 1 else None


def _count_quotes(path: str, start: int, end: int) -> int:
    """Quote characters in ``path[start:end]``.

    Read 256 KiB at a time, so the buffer and the comparison's mask stay in the CPU
    cache: three times faster than 4 MiB pieces.
    """
    import numpy as np

    total = 0
    size = min(256 << 10, max(1, end - start))
    buf = bytearray(size)
    view = np.frombuffer(buf, dtype=np.uint8)
    mask = np.empty(size, dtype=bool)
    with open(path, "rb", buffering=0) as f:
        f.seek(start)
        left = end - start
        while left > 0:
            n = f.readinto(memoryview(buf)[: min(left, size)])
            if not n:
                break
            np.equal(view[:n], ord('"'), out=mask[:n])
            total += int(np.count_nonzero(mask[:n]))
            left -= n
    return total


class _closing:
    """Close an Arrow reader on leaving the block, whatever the exit."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader

    def __enter__(self) -> Any:
        return self.reader

    def __exit__(self, *exc: object) -> None:
        close = getattr(self.reader, "close", None)
        if close is not None:
            close()


class _Chained(io.RawIOBase):
    """``head`` followed by the rest of ``stream``: a stream read once, front to back."""

    def __init__(self, head: bytes, stream: Any) -> None:
        self._head = memoryview(head)
        self._pos = 0
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._pos < len(self._head):
            n = min(len(view), len(self._head) - self._pos)
            view[:n] = self._head[self._pos : self._pos + n]
            self._pos += n
            return n
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)


def cpu_workers() -> int:
    """Threads for parallel reading: the CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1
