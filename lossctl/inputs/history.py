"""Reading the in-sample history of a forecast panel (``--train``): its series, time and
target columns only, chunk by chunk, with the same readers as every prediction file."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from lossctl.errors import InputError, UsageError
from lossctl.inputs.columns import missing_column
from lossctl.inputs.sources import open_source
from lossctl.inputs.validate import group_codes, time_key, time_text_note, to_float

if TYPE_CHECKING:
    from lossctl.inputs.frames import Frame

#: The series label of a history read without --series: the whole file is one series.
ONE_SERIES = "(all rows)"


@dataclass(frozen=True)
class HistoryChunk:
    codes: np.ndarray
    labels: Sequence[str]
    y: np.ndarray
    times: np.ndarray | None
    rows: np.ndarray


@dataclass
class History:
    """The history file and what reading it found (rows dropped, notes)."""

    #: A file, ``-``, a dataset, or in-memory data (a Frame, from the Python API).
    path: str | Frame
    target: str
    series: str | None = None
    time: str | None = None
    nan: str = "raise"
    chunk_size: int | None = None
    delimiter: str | None = None
    name: str = ""
    dropped: int = 0
    notes: list[str] = field(default_factory=list)
    #: The Arrow type of the --time column as the file has it (to show a time as written).
    time_type: Any = None
    #: False for standard input, which is read once (it cannot be read again to sort it).
    rereadable: bool = True
    #: (rows before it, label) of each file read: a dataset's rows are numbered across its
    #: files in :class:`HistoryChunk`, and messages name the file and the row inside it.
    files: list[tuple[int, str]] = field(default_factory=list)

    def chunks(self) -> Generator[HistoryChunk, None, None]:
        """Every chunk of the history, in file order; an empty or unusable value is an
        error naming the file, column and row (or, under --nan omit, a dropped row)."""
        from lossctl.inputs.datasets import Dataset
        from lossctl.inputs.readers import DEFAULT_CHUNK_SIZE

        size = DEFAULT_CHUNK_SIZE if self.chunk_size is None else self.chunk_size
        source = open_source(self.path, None, size, delimiter=self.delimiter)
        self.name = source.name
        self.notes.extend(getattr(source, "warnings", ()))
        self.rereadable = getattr(source, "rereadable", True)  # a dataset: files, re-read
        self.files, self.time_type = [], None
        for opt, col in (
            ("--series", self.series),
            ("--time", self.time),
            ("--target", self.target),
        ):
            if col is not None and col not in source.columns:
                raise missing_column(col, source.columns, f"the history {source.name}", opt)
        needed = [c for c in dict.fromkeys((self.series, self.time, self.target)) if c]
        text = [self.series] if self.series else []
        ds = source if isinstance(source, Dataset) else None
        pieces = [None] if ds is None else ds.parts(1)
        seen_text = False
        #: Under --nan raise: (count, first row, file) of the rows without a value; the
        #: rest is read only to count them, as for the predictions.
        bad_rows: tuple[int, int, str] | None = None
        offset = 0
        for piece in pieces:
            label = source.name if ds is None or piece is None else ds.label(piece.file)
            where = f"the history {label}"
            self.files.append((offset, label))
            stream = source.chunks(needed, text, piece, text)
            read = 0
            try:
                for chunk in stream:
                    table = chunk.table
                    n = table.num_rows
                    read = chunk.start + n
                    rows = np.arange(chunk.start + 1, chunk.start + n + 1)
                    y = to_float(table.column(self.target), self.target, where, chunk.start)
                    bad = ~np.isfinite(y)
                    if bad.any() and self.nan != "omit":
                        count = int(bad.sum())
                        if bad_rows is None:
                            bad_rows = (count, int(rows[np.argmax(bad)]), where)
                        else:
                            bad_rows = (bad_rows[0] + count, *bad_rows[1:])
                    if bad_rows is not None:
                        continue
                    labels: Sequence[str]
                    if self.series:
                        groups = group_codes(table.column(self.series))
                        codes, labels = groups.codes, groups.labels
                    else:
                        codes, labels = np.zeros(n, dtype=np.intp), [ONE_SERIES]
                    times = None
                    if self.time:
                        column = self._same_time_type(table.column(self.time), where)
                        times = time_key(column, self.time, where, chunk.start)
                        seen_text = seen_text or times.dtype.kind == "O"
                    if bad.any():  # --nan omit
                        keep = ~bad
                        self.dropped += int(bad.sum())
                        codes, y, rows = codes[keep], y[keep], rows[keep]
                        times = None if times is None else times[keep]
                    yield HistoryChunk(codes, labels, y, times, rows + offset)
            finally:
                stream.close()
            offset += read
        if bad_rows is not None:
            count, first, where = bad_rows
            raise InputError(
                f"column '{self.target}' of {where} has {count} NaN, inf or empty "
                f"value{'s' if count != 1 else ''} (first at row {first}); the scale needs "
                "every history value: fix them, or pass --nan omit to drop those rows."
            )
        if seen_text and self.time:
            # In-memory data is named "the train history" already (not a file name).
            name = source.name
            where = name if name.startswith("the ") else f"the history {name}"
            self.notes.append(time_text_note(self.time, where))
        if self.dropped:
            self.notes.append(
                f"--nan omit dropped {self.dropped} history row(s) of {source.name} with NaN, "
                "inf or empty values; the seasonal differences skip over them."
            )

    def _same_time_type(self, column: Any, where: str) -> Any:
        """The --time column in the type of the first file's: the keys of a date in
        timestamp[ns] and in timestamp[us] differ 1000-fold, so a dataset whose files were
        written with different units is brought to one (an error if it cannot be)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.time_type is None:
            self.time_type = column.type
        if column.type == self.time_type:
            return column
        try:
            return pc.cast(column, self.time_type)  # safe: no overflow, no truncation
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            raise InputError(
                f"column '{self.time}' of {where} holds {column.type}, but {self.time_type} in "
                f"{self.files[0][1]}; every file of the history needs its --time column in "
                "one type (write the files alike)."
            ) from None

    def show_rows(self, a: int, b: int) -> str:
        """Two rows of :class:`HistoryChunk` (numbered across the files of a dataset) as
        the message names them: "rows 6 and 145", or with the files they are in."""
        if len(self.files) <= 1:
            return f"rows {a} and {b}"
        (fa, ra), (fb, rb) = self._locate(a), self._locate(b)
        if fa == fb:
            return f"rows {ra} and {rb} of {fa}"
        return f"row {ra} of {fa} and row {rb} of {fb}"

    def _locate(self, row: int) -> tuple[str, int]:
        import bisect

        i = bisect.bisect_right([start for start, _ in self.files], row - 1) - 1
        start, label = self.files[max(i, 0)]
        return label, row - start

    def show_time(self, key: object) -> str:
        """A time key of :func:`time_key` as the file wrote it: a date, not its count of
        days (or microseconds) since 1970; a whole number read as float64 without ".0"."""
        import pyarrow as pa

        t = self.time_type
        if t is not None and pa.types.is_dictionary(t):
            t = t.value_type
        if t is not None and pa.types.is_temporal(t):
            width = pa.int64() if t.bit_width == 64 else pa.int32()
            try:
                return str(pa.scalar(int(key), width).cast(t).as_py())  # type: ignore[call-overload]
            except (pa.ArrowException, ValueError, OverflowError):
                return str(key)
        if isinstance(key, float | np.floating) and float(key).is_integer():
            return str(int(key))
        return str(key)


def check_season(season: int) -> int:
    """--season is a whole number >= 1."""
    if isinstance(season, bool) or int(season) != season or season < 1:
        raise UsageError(f"--season must be a whole number >= 1, got {season}.")
    return int(season)
