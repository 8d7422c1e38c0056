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
    chunk_size: int | None = None,
    delimiter: str | None = None,
) -> Source | Dataset:
    """Open a file (``-`` for stdin), or a dataset (a folder, a glob or a URL of parts).

    Returns a :class:`Source`, or a :class:`~lossctl.inputs.datasets.Dataset` with
    the same reading interface (``chunk_size`` None: the default of the kind of input);
    in-memory data (a :class:`~lossctl.inputs.frames.Frame`)
    opens as a :class:`~lossctl.inputs.frames.FrameSource`. ``delimiter``
    (``--delimiter``) separates the fields of CSV/TSV input.
    """
    if chunk_size is not None and chunk_size < 1:
        raise UsageError(f"--chunk-size must be >= 1, got {chunk_size}.")
    if not isinstance(path, str):
        from lossctl.inputs.frames import FRAME_CHUNK_SIZE

        # In-memory blocks are small: their per-sample arrays stay in the CPU's cache.
        return path.open(FRAME_CHUNK_SIZE if chunk_size is None else chunk_size)
    if chunk_size is None:
        chunk_size = DEFAULT_CHUNK_SIZE
    delimiter = parse_delimiter(delimiter)
    if is_dataset(path):
        return open_dataset(path, input_format, chunk_size, delimiter)
    return open_file(path, input_format, chunk_size, delimiter=delimiter)
