"""Opening an input: one file (or standard input), or a dataset of many files.

The one entry point above :mod:`readers` (one file) and :mod:`datasets` (many), so
that neither imports the other's caller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lossctl.errors import UsageError
from lossctl.inputs.datasets import Dataset, is_dataset, open_dataset
from lossctl.inputs.readers import DEFAULT_CHUNK_SIZE, Source, open_file, parse_delimiter

if TYPE_CHECKING:
    from lossctl.inputs.frames import Frame


def open_source(
    path: str | Frame,
    input_format: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    delimiter: str | None = None,
) -> Source | Dataset:
    """Open a file (``-`` for stdin), or a dataset (a folder, a glob or a URL of parts).

    Returns a :class:`Source`, or a :class:`~lossctl.inputs.datasets.Dataset` with
    the same reading interface; in-memory data (a :class:`~lossctl.inputs.frames.Frame`)
    opens as a :class:`~lossctl.inputs.frames.FrameSource`. ``delimiter``
    (``--delimiter``) separates the fields of CSV/TSV input.
    """
    if chunk_size < 1:
        raise UsageError(f"--chunk-size must be >= 1, got {chunk_size}.")
    if not isinstance(path, str):
        return path.open(chunk_size)
    delimiter = parse_delimiter(delimiter)
    if is_dataset(path):
        return open_dataset(path, input_format, chunk_size, delimiter)
    return open_file(path, input_format, chunk_size, delimiter=delimiter)
