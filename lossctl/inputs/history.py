"""Reading the in-sample history of a forecast panel (``--train``): its series, time and
target columns only, chunk by chunk, with the same readers as every prediction file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from lossctl.errors import InputError, UsageError
from lossctl.inputs.columns import missing_column
from lossctl.inputs.sources import open_source
from lossctl.inputs.validate import group_codes, time_key, time_text_note, to_float

#: The series label of a history read without --series: the whole file is one series.
ONE_SERIES = "(all rows)"


@dataclass(frozen=True)
class HistoryChunk:
    codes: np.ndarray
    labels: list[str]
    y: np.ndarray
    times: np.ndarray | None
    rows: np.ndarray


@dataclass
class History:
    """The history file and what reading it found (rows dropped, notes)."""

    path: str
    target: str
    series: str | None = None
    time: str | None = None
    nan: str = "raise"
    chunk_size: int | None = None
    delimiter: str | None = None
    name: str = ""
    dropped: int = 0
    notes: list[str] = field(default_factory=list)

    def chunks(self) -> Iterator[HistoryChunk]:
        """Every chunk of the history, in file order; an empty or unusable value is an
        error naming the file, column and row (or, under --nan omit, a dropped row)."""
        from lossctl.inputs.readers import DEFAULT_CHUNK_SIZE

        size = DEFAULT_CHUNK_SIZE if self.chunk_size is None else self.chunk_size
        source = open_source(self.path, None, size, delimiter=self.delimiter)
        self.name = source.name
        for opt, col in (
            ("--series", self.series),
            ("--time", self.time),
            ("--target", self.target),
        ):
            if col is not None and col not in source.columns:
                raise missing_column(col, source.columns, f"the history {source.name}", opt)
        needed = [c for c in dict.fromkeys((self.series, self.time, self.target)) if c]
        text = [self.series] if self.series else []
        stream = source.chunks(needed, text, None, text)
        seen_text = False
        try:
            for chunk in stream:
                table = chunk.table
                n = table.num_rows
                rows = np.arange(chunk.start + 1, chunk.start + n + 1)
                y = to_float(table.column(self.target), self.target, source.name, chunk.start)
                bad = ~np.isfinite(y)
                if self.series:
                    groups = group_codes(table.column(self.series))
                    codes, labels = groups.codes, groups.labels
                else:
                    codes, labels = np.zeros(n, dtype=np.intp), [ONE_SERIES]
                times = None
                if self.time:
                    times = time_key(table.column(self.time), self.time, source.name, chunk.start)
                    seen_text = seen_text or times.dtype.kind == "O"
                if bad.any():
                    if self.nan != "omit":
                        count = int(bad.sum())
                        raise InputError(
                            f"column '{self.target}' of the history {source.name} has "
                            f"{count} NaN, inf or empty value{'s' if count != 1 else ''} (first "
                            f"at row {int(rows[np.argmax(bad)])}); the scale needs every "
                            "history value: fix them, or pass --nan omit to drop those rows."
                        )
                    keep = ~bad
                    self.dropped += int(bad.sum())
                    codes, y, rows = codes[keep], y[keep], rows[keep]
                    times = None if times is None else times[keep]
                yield HistoryChunk(codes, labels, y, times, rows)
        finally:
            stream.close()
        if seen_text and self.time:
            self.notes.append(time_text_note(self.time, f"the history {source.name}"))
        if self.dropped:
            self.notes.append(
                f"--nan omit dropped {self.dropped} history row(s) of {source.name} with NaN, "
                "inf or empty values; the seasonal differences skip over them."
            )


def check_season(season: int) -> int:
    """--season is a whole number >= 1."""
    if isinstance(season, bool) or int(season) != season or season < 1:
        raise UsageError(f"--season must be a whole number >= 1, got {season}.")
    return int(season)
