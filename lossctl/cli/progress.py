"""A rich progress bar on stderr for inputs that take more than about a second."""

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
    """Rows read so far against the (estimated) total; appears only after DELAY seconds."""

    def __init__(self, description: str) -> None:
        self.description = description
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
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import (
            Progress as Bar,
        )

        from lossctl.cli import state

        self.bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("rows"),
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
    if quiet or output == "json" or not sys.stderr.isatty():
        yield None
        return
    from pathlib import Path

    bar = RichProgress(f"reading {Path(path).name}")
    try:
        yield bar
    finally:
        bar.close()
