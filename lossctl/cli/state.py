"""Process-wide CLI state (global flags) and the stdout/stderr consoles."""

from __future__ import annotations

import sys
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

debug: bool = False
no_color: bool = False


@lru_cache(maxsize=2)
def _console(stderr: bool, no_color: bool) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, no_color=no_color, highlight=False)


def out() -> Console:
    """Console on stdout (data)."""
    return _console(False, no_color)


def err() -> Console:
    """Console on stderr (errors, warnings, progress)."""
    return _console(True, no_color)


def error(message: str) -> None:
    """One line ``Error: ...`` on stderr."""
    sys.stderr.write(f"Error: {message}\n")
    sys.stderr.flush()


def gate_failed(message: str) -> None:
    """One line per failed gate on stderr (exit code 1 follows)."""
    sys.stderr.write(f"Gate failed: {message}\n")
    sys.stderr.flush()


def warn(message: str) -> None:
    sys.stderr.write(f"Warning: {message}\n")
    sys.stderr.flush()


def write(text: str) -> None:
    """Plain text to stdout (JSON, CSV: no markup, no wrapping)."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()
