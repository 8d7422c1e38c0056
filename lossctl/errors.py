"""Error hierarchy and exit codes.

Every error a user can cause is a :class:`LossctlError`; its message says what
went wrong, where, and the fix. The CLI turns these into exit code 2; anything
else escaping the core is a bug (exit code 3).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes (the contract in the README)."""

    OK = 0
    GATE_FAILED = 1
    USAGE_OR_INPUT = 2
    INTERNAL = 3
    #: 128 + SIGINT; SIGTERM and SIGHUP give 128 + their number (see :class:`Interrupted`).
    INTERRUPTED = 130


class LossctlError(ValueError):
    """Base class of all errors caused by the user's input or options.

    A :class:`ValueError` too, so code that catches bad values catches these.
    """

    exit_code: ExitCode = ExitCode.USAGE_OR_INPUT


class UsageError(LossctlError):
    """A bad option or argument: unknown loss, bad parameter, conflicting flags."""


class InputError(LossctlError):
    """A problem with the data: unreadable file, missing column, invalid values."""


class DomainError(InputError):
    """Values outside the domain of a loss (a probability of 1.3, y_pred <= -1 for msle).

    ``rows`` holds the 0-based positions of the first offending values within the
    arrays that were checked; readers add their offset to turn them into row numbers.
    """

    def __init__(
        self,
        loss: str,
        role: str,
        expected: str,
        count: int,
        rows: tuple[int, ...],
        values: tuple[float, ...] = (),
        fix: str = "",
    ) -> None:
        self.loss = loss
        self.role = role
        self.expected = expected
        self.count = count
        self.rows = rows
        self.values = values
        self.fix = fix
        super().__init__(self.describe())

    def describe(
        self,
        column: str | None = None,
        source: str | None = None,
        row_numbers: Sequence[int] | None = None,
    ) -> str:
        """The one-line message, naming the column and file when known.

        ``row_numbers`` maps the checked positions to the row numbers shown (data
        rows counted from 1, header not counted); by default position + 1.
        """
        where = f"column '{column}'" if column else self.role
        if source:
            where += f" of {source}"
        numbers = [row_numbers[r] if row_numbers is not None else r + 1 for r in self.rows]
        shown = ", ".join(str(int(r)) for r in numbers)
        more = ", ..." if self.count > len(self.rows) else ""
        first = f" (first value: {self.values[0]!r})" if self.values else ""
        plural = "s" if self.count != 1 else ""
        where_rows = f" (row{plural} {shown}{more})" if shown else ""
        msg = f"loss '{self.loss}': {where} must be {self.expected}"
        msg += f"; {self.count} bad row{plural}{where_rows}{first}." if self.count else "."
        if self.fix:
            msg += f" {self.fix}"
        return msg


class PluginError(UsageError):
    """A custom-loss plugin failed to import or declared an invalid spec."""


class Interrupted(KeyboardInterrupt):
    """SIGINT, SIGTERM or SIGHUP arrived: unwind (``finally`` blocks remove temporary
    files), then exit with 128 + the signal number.

    A subclass of :class:`KeyboardInterrupt`, so code that cleans up on Ctrl-C
    cleans up on the other signals too.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signum)

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class InternalError(Exception):
    """A bug in lossctl (never raised for bad input)."""

    exit_code: ExitCode = ExitCode.INTERNAL
