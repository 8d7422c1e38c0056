"""Opening an input: one file (or standard input), or a dataset of many files.

The one entry point above :mod:`readers` (one file, streamed), :mod:`pandas_formats`
(one file read whole through pandas: Excel, Stata, SAS, SPSS, pickle) and
:mod:`datasets` (many), so that none of them imports the others' caller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lossctl.errors import LossctlError, UsageError
from lossctl.inputs.datasets import Dataset, is_dataset, open_dataset
from lossctl.inputs.frames import FRAME_CHUNK_SIZE
from lossctl.inputs.pandas_formats import open_pandas, pandas_format
from lossctl.inputs.readers import (
    DEFAULT_CHUNK_SIZE,
    KINDS,
    Source,
    detect_format,
    open_file,
    parse_delimiter,
)

if TYPE_CHECKING:
    from lossctl.inputs.frames import Frame


def open_source(
    path: str | Frame,
    input_format: str | None = None,
    chunk_size: int | None = None,
    delimiter: str | None = None,
    sheet: str | None = None,
) -> Source | Dataset:
    """Open a file (``-`` for stdin), or a dataset (a folder, a glob or a URL of parts).

    Returns a :class:`Source`, or a :class:`~lossctl.inputs.datasets.Dataset` with
    the same reading interface (``chunk_size`` None: the default of the kind of input);
    in-memory data (a :class:`~lossctl.inputs.frames.Frame`) and the files read whole
    through pandas open as a :class:`~lossctl.inputs.frames.FrameSource`. ``delimiter``
    (``--delimiter``) separates the fields of CSV/TSV input; ``sheet`` (``--sheet``) is
    the sheet of an Excel workbook to read.
    """
    if chunk_size is not None and chunk_size < 1:
        raise UsageError(f"--chunk-size must be >= 1, got {chunk_size}.")
    if not isinstance(path, str):
        if sheet is not None:
            raise UsageError(
                f"--sheet applies to an Excel workbook read from a file; {path.name} has no "
                "sheets: drop --sheet."
            )
        # In-memory blocks are small: their per-sample arrays stay in the CPU's cache.
        return path.open(FRAME_CHUNK_SIZE if chunk_size is None else chunk_size)
    delimiter = parse_delimiter(delimiter)
    if is_dataset(path):
        if sheet is not None:
            raise UsageError(
                f"--sheet applies to one Excel workbook, not to a dataset ({path}): pass "
                "the workbook as FILE."
            )
        return open_dataset(path, input_format, chunk_size or DEFAULT_CHUNK_SIZE, delimiter)
    kind = pandas_format(path, input_format)
    if kind is not None:  # read whole into memory: blocks as for in-memory data
        size = FRAME_CHUNK_SIZE if chunk_size is None else chunk_size
        return open_pandas(path, input_format, size, sheet=sheet, delimiter=delimiter)
    if sheet is not None:
        raise UsageError(_sheet_refused(path, input_format))
    return open_file(path, input_format, chunk_size or DEFAULT_CHUNK_SIZE, delimiter=delimiter)


def _sheet_refused(path: str, input_format: str | None) -> str:
    """--sheet with an input that is not an Excel workbook."""
    if path == "-":
        return (
            "--sheet applies to Excel workbooks, which lossctl reads from a file, not from "
            "standard input: pass the workbook's path, or drop --sheet."
        )
    try:
        fmt = detect_format(path, input_format).format
    except LossctlError:  # no known suffix
        return f"--sheet applies to Excel workbooks (.xlsx, .xls); drop it for {path}."
    what = KINDS.get(fmt, fmt.upper())
    return f"--sheet applies to Excel workbooks (.xlsx, .xls), but {path} is {what}; drop --sheet."
