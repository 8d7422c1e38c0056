"""Error hierarchy and exit codes.

Every error a user can cause is a :class:`LossctlError`; its message says what
went wrong, where, and the fix. The CLI turns these into exit code 2; anything
else escaping the core is a bug (exit code 3).
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes (the contract in the README)."""

    OK = 0
    GATE_FAILED = 1
    USAGE_OR_INPUT = 2
    INTERNAL = 3


class LossctlError(Exception):
    """Base class of all errors caused by the user's input or options."""

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
        self, column: str | None = None, source: str | None = None, offset: int = 1
    ) -> str:
        """The one-line message, naming the column and file when known.

        Row numbers count data rows from 1 (the header is not counted); ``offset``
        is the number of the first checked row.
        """
        where = f"column '{column}'" if column else self.role
        if source:
            where += f" of {source}"
        shown = ", ".join(str(r + offset) for r in self.rows)
        more = ", ..." if self.count > len(self.rows) else ""
        first = ""
        if self.values:
            first = f" (first value: {self.values[0]!r})"
        plural = "s" if self.count != 1 else ""
        msg = (
            f"loss '{self.loss}': {where} must be {self.expected}; "
            f"{self.count} bad row{plural} (row{plural} {shown}{more}){first}."
        )
        if self.fix:
            msg += f" {self.fix}"
        return msg


class PluginError(UsageError):
    """A custom-loss plugin failed to import or declared an invalid spec."""


class InternalError(Exception):
    """A bug in lossctl (never raised for bad input)."""

    exit_code: ExitCode = ExitCode.INTERNAL
