"""The per-sample output: one row per input row, written atomically.

Rows go to a temporary file beside the destination, renamed over it only when
everything was written, so a failure never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from lossctl.errors import UsageError

if TYPE_CHECKING:
    import pyarrow as pa

WRITE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


def output_format(path: str) -> str:
    if path == "-":
        return "csv"
    fmt = WRITE_FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise UsageError(
            f"cannot tell the format of --per-sample {path}; use a .csv, .tsv or .parquet "
            "suffix, or - for CSV on stdout."
        )
    return fmt


def same_file(a: str, b: str) -> bool:
    if a == "-" or b == "-":
        return False
    pa, pb = Path(a), Path(b)
    try:
        return pa.resolve() == pb.resolve() or (pb.exists() and pa.exists() and pa.samefile(pb))
    except OSError:
        return False


class PerSampleWriter:
    """Streams Arrow table blocks to CSV/TSV/Parquet (or CSV on stdout)."""

    def __init__(self, path: str, input_path: str) -> None:
        self.path = path
        self.fmt = output_format(path)
        if same_file(path, input_path):
            raise UsageError(
                f"--per-sample {path} is the input file; lossctl never overwrites its input. "
                "Choose another path."
            )
        self._tmp: str | None = None
        self._handle: Any = None
        self._writer: Any = None
        if path != "-":
            folder = Path(path).resolve().parent
            if not folder.is_dir():
                raise UsageError(f"--per-sample {path}: folder {folder} does not exist.")
            fd, self._tmp = tempfile.mkstemp(prefix=f".{Path(path).name}.", dir=folder)
            os.close(fd)

    def write(self, table: pa.Table) -> None:
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            if self._writer is None:
                import pyarrow as pa

                # Dictionary pages only for text columns: on float columns they cost 5x
                # the write time for no saving.
                text = [f.name for f in table.schema if not pa.types.is_floating(f.type)
                        and not pa.types.is_integer(f.type)]  # fmt: skip
                self._writer = pq.ParquetWriter(self._tmp, table.schema, use_dictionary=text)
            self._writer.write_table(table)
            return
        import pyarrow.csv as pcsv

        if self._writer is None:
            sink = sys.stdout.buffer if self.path == "-" else self._tmp
            options = pcsv.WriteOptions(delimiter="\t" if self.fmt == "tsv" else ",")
            self._writer = pcsv.CSVWriter(sink, table.schema, write_options=options)
        self._writer.write_table(table)

    def commit(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self.path == "-":
            sys.stdout.flush()
            return
        assert self._tmp is not None
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self._tmp, 0o666 & ~umask)  # mkstemp made it 0600; a new file gets the umask
        os.replace(self._tmp, self.path)
        self._tmp = None

    def abort(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):  # already failing; the temp file goes anyway
                self._writer.close()
            self._writer = None
        if self._tmp is not None and os.path.exists(self._tmp):
            os.unlink(self._tmp)
        self._tmp = None

    def __enter__(self) -> PerSampleWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()
