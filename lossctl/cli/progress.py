"""A rich progress bar on stderr for work that takes more than about a second: reading
an input, or compare's bootstrap."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

from lossctl.options import Progress

#: Seconds before the bar appears: quick runs never show one.
DELAY = 1.0


class RichProgress(Progress):
    """Rows read so far against the (estimated) total; appears only after DELAY seconds.
    Without a ``unit`` it shows the share done (the bootstrap's draws: billions of them)."""

    def __init__(self, description: str, unit: str | None = "rows") -> None:
        self.description = description
        self.unit = unit
        self.total: int | None = None
        self.done = 0
        self.t0 = time.monotonic()
        self.lock = threading.Lock()
        self.bar: Any = None
        self.task: Any = None

    def start(self, total_rows: int | None) -> None:
        self.total = total_rows
        self.t0 = time.monotonic()

    def advance(self, rows: int) -> None:
        with self.lock:
            self.done += rows
            if self.bar is None:
                if time.monotonic() - self.t0 < DELAY:
                    return
                self._open()
            total = max(self.total or 0, self.done)
            self.bar.update(self.task, completed=self.done, total=total)

    def _open(self) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            ProgressColumn,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import (
            Progress as Bar,
        )

        from lossctl.cli import state

        done: list[ProgressColumn] = (
            [MofNCompleteColumn(), TextColumn(self.unit)] if self.unit else [TaskProgressColumn()]
        )
        self.bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            *done,
            TimeRemainingColumn(),
            console=state.err(),
            transient=True,
        )
        self.bar.start()
        self.task = self.bar.add_task(self.description, total=self.total)

    def close(self) -> None:
        with self.lock:
            if self.bar is not None:
                self.bar.stop()
                self.bar = None


@contextlib.contextmanager
def progress_for(path: str, quiet: bool, output: str) -> Iterator[RichProgress | None]:
    """A progress bar while reading, when stderr is a terminal and the output is for a person."""
    from pathlib import Path

    with progress_bar(f"reading {Path(path).name}", quiet, output) as bar:
        yield bar


@contextlib.contextmanager
def progress_bar(
    description: str, quiet: bool, output: str, unit: str | None = "rows"
) -> Iterator[RichProgress | None]:
    """A progress bar, when stderr is a terminal and the output is for a person (not -q,
    not --json); None otherwise."""
    if quiet or output == "json" or not sys.stderr.isatty():
        yield None
        return
    bar = RichProgress(description, unit)
    try:
        yield bar
    finally:
        bar.close()
