"""Process-wide CLI state (global flags) and the stdout/stderr consoles."""

from __future__ import annotations

import errno
import os
import sys
from functools import lru_cache
from typing import IO, TYPE_CHECKING, Any

from lossctl.errors import LossctlError

if TYPE_CHECKING:
    from rich.console import Console

debug: bool = False
no_color: bool = False


class OutputError(LossctlError):
    """Standard output cannot be written (closed, full, an I/O error)."""


def output_error(exc: OSError) -> OutputError:
    reason = exc.strerror or type(exc).__name__
    if exc.errno == errno.EBADF:
        reason = "it is closed"
    return OutputError(
        f"cannot write to standard output: {reason}. Redirect it to a file or a pipe "
        "that can take the output."
    )


class _Stdout:
    """The current sys.stdout, with write errors as :class:`OutputError` (exit 2)."""

    @property
    def _stream(self) -> IO[str]:
        return sys.stdout

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise output_error(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise output_error(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


#: The caller closed descriptor 1: writing to stdout is an error (see guard_streams).
_stdout_closed = False


def guard_streams() -> None:
    """Make the three standard streams safe to use, whatever the caller left open.

    A closed descriptor 0, 1 or 2 (``<&-``, ``>&-``, ``2>&-``) is re-opened on
    /dev/null, so a file lossctl opens can never take its number (and receive
    messages meant for a terminal). Reading a closed stdin then sees an empty
    input; writing to a closed stdout is an error; a closed stderr drops messages.
    """
    for fd, name in ((0, "stdin"), (1, "stdout"), (2, "stderr")):
        try:
            os.fstat(fd)
            closed = False
        except OSError:
            closed = True
        if closed:
            new = os.open(os.devnull, os.O_RDWR)
            if new != fd:  # a lower descriptor was closed too and took this one
                os.dup2(new, fd)
                os.close(new)
        if closed or getattr(sys, name) is None:
            mode = "r" if fd == 0 else "w"
            setattr(sys, name, open(fd, mode, closefd=False, encoding="utf-8"))  # noqa: SIM115
            if fd == 1:
                global _stdout_closed
                _stdout_closed = True


def check_stdout() -> None:
    """Raise :class:`OutputError` when stdout was closed by the caller."""
    if _stdout_closed:
        raise output_error(OSError(errno.EBADF, os.strerror(errno.EBADF)))


@lru_cache(maxsize=2)
def _console(stderr: bool, no_color: bool) -> Console:
    from rich.console import Console

    if stderr:
        return Console(stderr=True, no_color=no_color, highlight=False)
    return Console(file=_Stdout(), no_color=no_color, highlight=False)  # type: ignore[arg-type]


def out() -> Console:
    """Console on stdout (data)."""
    check_stdout()
    return _console(False, no_color)


def err() -> Console:
    """Console on stderr (errors, warnings, progress)."""
    return _console(True, no_color)


def _to_stderr(line: str) -> None:
    """A line on stderr; a closed or full stderr loses it but changes nothing else
    (the exit code still tells what happened)."""
    try:
        sys.stderr.write(line)
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass


def error(message: str) -> None:
    """One line ``Error: ...`` on stderr."""
    _to_stderr(f"Error: {message}\n")


def gate_failed(message: str) -> None:
    """One line per failed gate on stderr (exit code 1 follows)."""
    _to_stderr(f"Gate failed: {message}\n")


def warn(message: str) -> None:
    _to_stderr(f"Warning: {message}\n")


def write(text: str) -> None:
    """Plain text to stdout (JSON, CSV: no markup, no wrapping)."""
    check_stdout()
    out = _Stdout()
    out.write(text if text.endswith("\n") else text + "\n")
    out.flush()


def flush_stdout(quiet: bool = False) -> bool:
    """Flush stdout; errors are :class:`OutputError` (or, ``quiet``, a False return)."""
    try:
        _Stdout().flush()
    except (OutputError, ValueError, OSError):
        if not quiet:
            raise
        return False
    return True


def discard_stdout() -> None:
    """Point stdout at /dev/null: what is still buffered can no longer fail the exit."""
    try:
        fd = sys.stdout.fileno()
    except (OSError, ValueError, AttributeError):
        return  # not a real descriptor (a test runner's buffer)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def check_embed(images: list[str] | None, output: str) -> None:
    """--embed is for markdown output, and names images that exist."""
    if not images:
        return
    from lossctl.errors import UsageError

    if output != "markdown":
        raise UsageError("--embed adds images to markdown output; pass --format markdown too.")
    for image in images:
        if "://" not in image and not os.path.isfile(image):
            raise UsageError(
                f"--embed {image}: no such image; make it first with "
                f"'lossctl plot ... --out {image}', or fix the path."
            )
