"""Datasets: a folder, a glob or a URL of many files read as one table.

``preds/`` (every CSV/Parquet/... file below it), ``'preds/*.parquet'``,
``'preds/date=*/part-*.parquet'`` or ``s3://bucket/preds/`` (any fsspec URL, when
the matching fsspec backend is installed). Hive-style folders (``date=2024-01-01``)
become columns, usable with ``--by``. Each file is one part: engines read parts
in parallel and merge their accumulators in file order; messages name the file
and the row inside it.
"""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lossctl.errors import InputError, UsageError
from lossctl.inputs.readers import (
    COMPRESSIONS,
    FORMATS,
    PANDAS_FORMATS,
    PANDAS_INPUT_FORMATS,
    Chunk,
    Part,
    Source,
    open_file,
)

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_HIVE = re.compile(r"^([^=/]+)=([^/]*)$")
#: fsspec protocol -> the package that provides it (for the install hint).
#: The most files a dataset may have (listing stops there).
MAX_FILES = 100_000
BACKENDS = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs",
            "abfs": "adlfs", "abfss": "adlfs", "http": "aiohttp", "https": "aiohttp"}  # fmt: skip


def is_dataset(path: str) -> bool:
    """A folder, a glob pattern or a URL (anything but one local file or stdin).

    A path that exists is a path, even with glob characters in its name (``a[1].csv``).
    """
    if path == "-":
        return False
    if os.path.lexists(path):
        return os.path.isdir(path)
    if _URL.match(path):
        return True
    return any(ch in path for ch in "*?[")


def _suffix(name: str) -> str:
    """The format suffix of a file name, after any compression suffix."""
    low = name.lower()
    for suffix in COMPRESSIONS:
        if low.endswith(suffix):
            low = low[: -len(suffix)]
    return Path(low).suffix


def _known(name: str) -> bool:
    return _suffix(name) in FORMATS


def _whole_files_refused(path: str, what: str) -> UsageError:
    """A dataset of files that are read whole through pandas (Excel, Stata, ...)."""
    return UsageError(
        f"a dataset of {what} files is not supported ({path}); lossctl reads such a file "
        "whole, one at a time: pass each file as FILE (compare takes several), or save "
        "them as CSV or Parquet to read them as one dataset."
    )


def _filesystem(url: str) -> tuple[Any, str]:
    protocol = url.split("://", 1)[0].lower()
    try:
        import fsspec
    except ImportError:
        raise UsageError(
            f"reading {protocol}:// URLs needs fsspec and its {protocol} backend: "
            f"pip install fsspec {BACKENDS.get(protocol, '')}".rstrip()
            + "."
        ) from None
    try:
        return fsspec.core.url_to_fs(url)  # type: ignore[no-any-return]
    except ImportError:
        package = BACKENDS.get(protocol, f"the fsspec backend for {protocol}://")
        raise UsageError(
            f"reading {protocol}:// URLs needs {package}: pip install {package}."
        ) from None
    except ValueError as exc:
        raise UsageError(f"cannot read {url}: {exc}.") from None


@dataclass
class Dataset:
    """Many files read as one table, with the interface of :class:`Source`."""

    path: str
    files: list[str]
    partitions: list[dict[str, str]]
    first: Source
    fs: Any = None
    root: str = ""
    input_format: str | None = None
    chunk_size: int = 1_000_000
    #: The field separator of CSV/TSV files (``--delimiter``); None: by format.
    delimiter: str | None = None
    columns: list[str] = field(default_factory=list)
    types: dict[str, Any] = field(default_factory=dict)
    total_rows: int | None = None

    @property
    def name(self) -> str:
        return self.path

    @property
    def partition_keys(self) -> list[str]:
        return list(self.partitions[0]) if self.partitions else []

    def label(self, i: int) -> str:
        """How messages name part ``i``."""
        f = self.files[i]
        return f if self.fs is None else f"{self.fs.unstrip_protocol(f)}"

    def source(self, i: int) -> Source:
        if i == 0:
            return self.first
        src = open_file(
            self.files[i], self.input_format, self.chunk_size, self.fs, self.label(i),
            delimiter=self.delimiter,
        )  # fmt: skip
        missing = [c for c in self.first.columns if c not in src.columns]
        if missing:
            raise InputError(
                f"{self.label(i)} lacks column '{missing[0]}' that {self.label(0)} has; every "
                "file of a dataset needs the same columns."
            )
        return src

    def parts(self, workers: int) -> list[Part]:
        return [Part(i, True, file=i) for i in range(len(self.files))]

    def row_offset(self, part: Part) -> int:
        return 0  # rows are counted inside each file

    def _with_partitions(self, chunk: Chunk, i: int, columns: Sequence[str]) -> Chunk:
        import pyarrow as pa

        table = chunk.table
        for key, value in self.partitions[i].items():
            if key in columns and key not in table.column_names:
                table = table.append_column(key, pa.array([value] * table.num_rows, pa.string()))
        return Chunk(table.select([c for c in columns if c in table.column_names]), chunk.start)

    def chunks(
        self,
        columns: Sequence[str],
        text: Sequence[str] = (),
        part: Part | None = None,
        categories: Sequence[str] = (),
        offset: int = 0,
    ) -> Generator[Chunk, None, None]:
        """Chunks of one file (``part``) or of every file in order (rows counted per file)."""
        indices = [part.file] if part is not None else range(len(self.files))
        keys = set(self.partition_keys)
        file_columns = [c for c in columns if c not in keys]
        for i in indices:
            src = self.source(i)
            chunks = src.chunks(file_columns, text, None, categories)
            try:
                for chunk in chunks:
                    yield self._with_partitions(chunk, i, columns)
            finally:
                chunks.close()

    def probe(self, columns: Sequence[str], text: Sequence[str] = ()) -> Chunk | None:
        keys = set(self.partition_keys)
        chunk = self.first.probe([c for c in columns if c not in keys], text)
        if chunk is None:
            return None
        self.total_rows = self.first.total_rows and self.first.total_rows * len(self.files)
        return self._with_partitions(chunk, 0, columns)


def _unlistable(exc: OSError) -> None:
    name = exc.filename or "a folder"
    hint = "; check its permissions" if isinstance(exc, PermissionError) else ""
    raise InputError(f"cannot list the folder {name}: {exc.strerror}{hint}.")


def _too_many(path: str) -> InputError:
    return InputError(
        f"{path} holds more than {MAX_FILES:,} files; point lossctl at a smaller folder or a "
        "narrower glob."
    )


def _list_local(path: str) -> tuple[list[str], str]:
    if os.path.isdir(path):
        root = path
        found = []
        for folder, dirs, names in os.walk(path, onerror=_unlistable):
            dirs.sort()
            for name in names:
                full = os.path.join(folder, name)
                if os.path.isfile(full):
                    found.append(full)
            if len(found) > MAX_FILES:
                raise _too_many(path)
        found.sort(key=lambda f: Path(f).parts)
    else:
        root = path.split("*")[0].split("?")[0].split("[")[0]
        root = root if root.endswith(os.sep) else os.path.dirname(root)
        found = []
        for f in glob.iglob(path, recursive=True):
            if os.path.isfile(f):
                found.append(f)
            if len(found) > MAX_FILES:
                raise _too_many(path)
        found.sort()
    return found, root


def _list_remote(fs: Any, path: str) -> tuple[list[str], str]:
    if any(ch in path for ch in "*?["):
        found = sorted(fs.glob(path))
        root = path.split("*")[0].rsplit("/", 1)[0]
    elif fs.isdir(path):
        found = sorted(fs.find(path))
        root = path
    else:
        found, root = [path], path.rsplit("/", 1)[0]
    return [f for f in found if not fs.isdir(f)], root


def _hive(root: str, file: str) -> dict[str, str]:
    rel = os.path.relpath(file, root) if root else file
    parts = rel.replace("\\", "/").split("/")[:-1]
    return {m.group(1): m.group(2) for p in parts if (m := _HIVE.match(p))}


def open_dataset(
    path: str, input_format: str | None, chunk_size: int, delimiter: str | None = None
) -> Dataset:
    """List the files of a dataset and read the first one's schema (``delimiter``: the
    field separator of its CSV/TSV files)."""
    if input_format in PANDAS_INPUT_FORMATS:
        raise _whole_files_refused(path, input_format)
    fs = None
    if _URL.match(path) and not path.startswith("file://"):
        fs, target = _filesystem(path)
        found, root = _list_remote(fs, target)
    else:
        target = path[len("file://") :] if path.startswith("file://") else path
        try:
            found, root = _list_local(target)
        except OSError as exc:
            raise InputError(f"cannot list {path}: {exc.strerror or exc}.") from None
    hidden = re.compile(r"(^|/)[._]")  # _SUCCESS, .crc and other non-data files
    files = [f for f in found if _known(f) and not hidden.search(os.path.relpath(f, root or "."))]
    if input_format:
        files = [f for f in found if not hidden.search(os.path.relpath(f, root or "."))]
    if not files:
        whole = sorted({_suffix(f) for f in found if _suffix(f) in PANDAS_FORMATS})
        if whole:
            raise _whole_files_refused(path, ", ".join(whole))
        literal = "" if _URL.match(path) else " (a path that exists is always read as a path)"
        raise InputError(
            f"no data files found at {path}; a dataset is a folder or glob of "
            f"{', '.join(sorted(set(FORMATS.values())))} files{literal}."
        )
    partitions = [_hive(root, f) for f in files]
    keys = [set(p) for p in partitions]
    if any(k != keys[0] for k in keys):
        raise InputError(f"the files of {path} do not share the same hive partition folders.")
    label = files[0] if fs is None else fs.unstrip_protocol(files[0])
    first = open_file(files[0], input_format, chunk_size, fs, label, delimiter=delimiter)
    ds = Dataset(path, files, partitions, first, fs, root, input_format, chunk_size, delimiter)
    ds.columns = first.columns + [k for k in partitions[0] if k not in first.columns]
    ds.types = dict(first.types)
    return ds
