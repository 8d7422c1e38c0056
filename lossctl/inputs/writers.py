"""The per-sample output: one row per input row, written atomically, never over the input.

Rows go to a temporary file beside the destination, renamed over it only when
everything was written, so a failure never leaves a half-written file. A symbolic
link is followed: the file it points to is written, the link is kept. An existing
file is replaced only with ``force``; the input, in any of its forms (a file,
standard input, the files and folders of a dataset), never.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import re
import stat
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np

from lossctl.errors import InputError, UsageError

if TYPE_CHECKING:
    import pyarrow as pa

WRITE_FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}
#: The file that marks a per-sample folder as lossctl's: only such a folder is replaced.
MARKER = ".lossctl-per-sample"
#: Text a whole number is written as (``1711``, ``-3``, ``1711.0`` from a pandas column
#: with gaps); ``007`` keeps its zeros and stays text.
_WHOLE = r"^[+-]?(?:0|[1-9][0-9]*)(?:\.0*)?$"
#: The Parquet parts of a per-sample folder.
PART = re.compile(r"part-\d{5,}\.parquet")
_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_STDIN = "the file on standard input"


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


def write_error(path: str, exc: OSError, option: str = "--per-sample") -> InputError:
    """An OS error writing ``path``, in one line: the path, the reason and what to do."""
    code = exc.errno or 0
    reason = os.strerror(code) if code else str(exc) or type(exc).__name__
    fix = {
        errno.ENOSPC: "free some space or write to another disk",
        errno.EDQUOT: "free some space or write to another disk",
        errno.EFBIG: "the file size limit is reached (ulimit -f, or the filesystem's); "
        "write Parquet, which is smaller, or raise the limit",
        errno.EROFS: "write to a folder on a writable disk",
        errno.EACCES: "write to a folder you may write to",
        errno.EPERM: "write to a folder you may write to",
    }.get(code, "choose another path")
    where = "(standard output)" if path == "-" else path
    return InputError(f"cannot write {option} {where}: {reason}; {fix}.")


def _stat(path: str | Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (OSError, ValueError):
        return None


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _input_locations(
    input_path: str, input_files: Sequence[str]
) -> tuple[list[tuple[str, os.stat_result]], list[Path]]:
    """The local files (name, stat) and folders (resolved) that ``input_path`` reads.

    ``input_files`` adds files already listed (a dataset's); a glob is expanded here
    too, so the check needs no listing.
    """
    files: list[tuple[str, os.stat_result]] = []
    names: list[str] = list(input_files)
    if input_path == "-":
        with contextlib.suppress(OSError):
            piped = os.fstat(0)
            if stat.S_ISREG(piped.st_mode):
                files.append((_STDIN, piped))
    else:
        local = input_path[len("file://") :] if input_path.startswith("file://") else input_path
        if not _URL.match(local):
            names.append(local)
            if any(ch in local for ch in "*?["):
                names += glob.glob(local, recursive=True)
    folders: list[Path] = []
    for name in names:
        st = _stat(name)
        if st is None:
            continue
        if stat.S_ISDIR(st.st_mode):
            folders.append(Path(name).resolve())
        else:
            files.append((name, st))
    return files, folders


def refuse_input(
    path: str,
    final: Path,
    input_path: str,
    input_files: Sequence[str] = (),
    folder: bool = False,
    option: str = "--per-sample",
) -> None:
    """Raise when writing ``final`` (the resolved --per-sample ``path``) would replace the
    input or write into it; a ``folder`` target may not hold the input either."""
    files, folders = _input_locations(input_path, input_files)
    target = _stat(final)
    for name, st in files:
        if target is not None and os.path.samestat(target, st):
            if name in (_STDIN, input_path):
                what = name if name == _STDIN else "the input file"
            else:
                what = f"{name}, a file of the input {input_path}"
            raise UsageError(
                f"{option} {path} is {what}; lossctl never overwrites its input. "
                "Choose another path."
            )
        if folder and name != _STDIN and _inside(Path(name).resolve(), final):
            raise UsageError(
                f"{option} {path} holds the input file {name}; lossctl never replaces "
                "its input. Choose a new folder path."
            )
    for root in folders:
        if _inside(final, root) or (folder and _inside(root, final)):
            where = "is inside" if _inside(final, root) else "holds"
            raise UsageError(
                f"{option} {path} {where} the input folder {root}; lossctl never writes "
                "into its input. Choose a path outside it."
            )


def check_file_target(
    path: str,
    input_path: str,
    input_files: Sequence[str] = (),
    force: bool = False,
    option: str = "--per-sample",
) -> Path | None:
    """The resolved destination of ``--per-sample path`` (or of another ``option``'s
    output file; None for stdout), after the checks: not the input, not a folder, an
    existing file only with ``force``."""
    if path == "-":
        return None
    if option == "--per-sample":
        output_format(path)
    final = Path(path).resolve()
    refuse_input(path, final, input_path, input_files, option=option)
    st = _stat(final)
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{option} {path} is a folder; give the path of a file to write.")
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{option} {path} exists and is not a regular file; choose another path.")
    if st is not None and not force:
        raise UsageError(
            f"{option} {path} exists; pass --force to replace it, or choose a new path."
        )
    if not final.parent.is_dir():
        raise UsageError(f"{option} {path}: folder {final.parent} does not exist.")
    return final


def owned_folder(folder: Path) -> str | None:
    """None when ``folder`` holds only what lossctl writes (its marker and Parquet
    parts, or nothing), else the name of the first other entry."""
    entries = list(os.scandir(folder))
    names = {e.name for e in entries}
    for e in entries:
        if not ((e.name == MARKER or PART.fullmatch(e.name)) and e.is_file(follow_symlinks=False)):
            return e.name
    if names and MARKER not in names:
        return sorted(names)[0]
    return None


def check_folder_target(
    path: str, input_path: str, input_files: Sequence[str] = (), force: bool = False
) -> Path:
    """The resolved destination of a per-sample folder, after the checks: not the input,
    not holding it, not the working directory; an existing folder only with ``force``
    and only when it is one lossctl wrote."""
    if path == "-":
        raise UsageError(
            "--per-sample with --engine dask writes a folder of Parquet parts; give a new "
            "folder path (not -, not the input)."
        )
    final = Path(path).resolve()
    refuse_input(path, final, input_path, input_files, folder=True)
    if _inside(Path.cwd().resolve(), final):
        raise UsageError(
            f"--per-sample {path} is the working directory or holds it; give a new folder path."
        )
    st = _stat(final)
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise UsageError(
            f"--per-sample {path} exists and is not a folder; --engine dask writes a folder "
            "of Parquet parts: choose a new path."
        )
    if st is not None and not force:
        raise UsageError(
            f"--per-sample {path} exists; pass --force to replace it (a folder lossctl wrote), "
            "or choose a new path."
        )
    if st is not None:
        try:
            other = owned_folder(final)
        except OSError as exc:
            raise write_error(path, exc) from None
        if other is not None:
            raise UsageError(
                f"--per-sample {path} holds {other}, which lossctl did not write; lossctl "
                "replaces only a folder it made. Choose a new path."
            )
    if not final.parent.is_dir():
        raise UsageError(f"--per-sample {path}: folder {final.parent} does not exist.")
    return final


def new_mode(mode: int) -> int:
    """``mode`` less the process umask: the mode a newly created file or folder gets."""
    umask = os.umask(0)
    os.umask(umask)
    return mode & ~umask


class PerSampleWriter:
    """Streams Arrow table blocks to CSV/TSV/Parquet (or CSV on stdout)."""

    def __init__(
        self,
        path: str,
        input_path: str,
        force: bool = False,
        input_files: Sequence[str] = (),
        id_column: str | None = None,
    ) -> None:
        self.path = path
        self.fmt = output_format(path)
        #: The --id column: text ids that are all whole numbers become integers in Parquet.
        self.id_column = id_column
        self._id_whole = False
        self.force = force
        self._final = check_file_target(path, input_path, input_files, force)
        self._tmp: str | None = None
        self._writer: Any = None
        if self._final is not None:
            try:
                fd, self._tmp = tempfile.mkstemp(
                    prefix=f".{self._final.name}.", dir=self._final.parent
                )
            except OSError as exc:
                raise write_error(path, exc) from None
            os.close(fd)

    def write(self, table: pa.Table) -> None:
        try:
            self._write(table)
        except BrokenPipeError:
            raise  # the reader of stdout left: the CLI stops quietly
        except OSError as exc:
            raise write_error(self.path, exc) from None

    def _whole_ids(self, table: pa.Table, first: bool) -> pa.Table:
        """Text ids that are whole numbers (a CSV's ids are read as text, to keep ``007``)
        as int64, decided on the first block and kept for every later one."""
        import pyarrow as pa
        import pyarrow.compute as pc

        c = self.id_column
        if c is None or c not in table.column_names:
            return table
        col = table.column(c)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            return table
        ints = None
        if pc.all(pc.match_substring_regex(col, _WHOLE)).as_py() is not False:  # nulls allowed
            with contextlib.suppress(pa.ArrowInvalid):  # beyond int64: stays text
                ints = pc.cast(pc.replace_substring_regex(col, r"\.0*$", ""), pa.int64())
        if first:  # the first block decides, and needs at least one id
            self._id_whole = ints is not None and col.null_count < len(col)
        if not self._id_whole:
            return table
        if ints is None:
            raise InputError(
                f"--per-sample {self.path}: the --id column '{c}' holds whole numbers in its "
                "first rows (written as integers) but not in a later block; write the "
                "per-sample rows to a .csv file, which keeps ids as they are."
            )
        return table.set_column(table.column_names.index(c), c, ints)

    def _write(self, table: pa.Table) -> None:
        if self.fmt == "parquet":
            import pyarrow.parquet as pq

            table = self._whole_ids(table, self._writer is None)
            if self._writer is None:
                import pyarrow as pa

                # Dictionary pages and compression only for text columns: on float
                # columns (losses, values) they cost time for no saving (snappy: a third
                # of the write's CPU, for 7% of the size). Integers (row numbers, ids)
                # are delta-encoded: a run of row numbers takes almost no space.
                schema = table.schema
                ints = [f.name for f in schema if pa.types.is_integer(f.type)]
                text = [f.name for f in schema if not pa.types.is_floating(f.type)
                        and f.name not in ints]  # fmt: skip
                self._writer = pq.ParquetWriter(
                    self._tmp,
                    schema,
                    use_dictionary=text,
                    compression={f.name: "snappy" if f.name in text else "none" for f in schema},
                    column_encoding=dict.fromkeys(ints, "DELTA_BINARY_PACKED"),
                )
            self._writer.write_table(table)
            return
        import pyarrow.csv as pcsv

        if self._writer is None:
            sink = sys.stdout.buffer if self.path == "-" else self._tmp
            options = pcsv.WriteOptions(delimiter="\t" if self.fmt == "tsv" else ",")
            self._writer = pcsv.CSVWriter(sink, table.schema, write_options=options)
        self._writer.write_table(table)

    def commit(self) -> None:
        """Finish the file and rename it over the destination (on error: nothing changes;
        :meth:`abort` removes the temporary file)."""
        try:
            if self._writer is not None:
                writer, self._writer = self._writer, None
                writer.close()
            if self._final is None:
                sys.stdout.flush()
                return
            assert self._tmp is not None
            os.chmod(self._tmp, new_mode(0o666))  # mkstemp made it 0600
            if not self.force and os.path.lexists(self._final):
                raise UsageError(
                    f"--per-sample {self.path} exists (it appeared while lossctl ran); pass "
                    "--force to replace it, or choose a new path."
                )
            os.replace(self._tmp, self._final)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise write_error(self.path, exc) from None
        self._tmp = None

    def abort(self) -> None:
        if self._writer is not None:
            writer, self._writer = self._writer, None
            with contextlib.suppress(Exception):  # already failing; the temp file goes anyway
                writer.close()
        if self._tmp is not None:
            with contextlib.suppress(OSError):
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


#: The per-sample column of row numbers (without --id): 1-based, the header not
#: counted, as in every message that names a row.
ROW_COLUMN = "row_1based"


def to_arrow(values: np.ndarray) -> pa.Array:
    """A float64 or int64 numpy array as an Arrow array over the same memory (no pandas)."""
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    kind = {np.dtype(np.float64): pa.float64(), np.dtype(np.int64): pa.int64()}[values.dtype]
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def per_sample_rows(
    table: pa.Table,
    keep: np.ndarray | None,
    rows: np.ndarray,
    columns: Sequence[str | None],
    values: dict[str, np.ndarray],
    id_column: str | None = None,
    file_label: str | None = None,
) -> pa.Table:
    """The --per-sample rows of a block: the row number (or the id), the file (of a
    dataset), the input ``columns`` as they are, then one column per loss in ``values``.
    ``keep`` selects the rows of ``table`` that were used (None: all)."""
    import pyarrow as pa

    if keep is not None:
        table = table.take(to_arrow(np.flatnonzero(keep).astype(np.int64)))
    data: dict[str, Any] = {}
    data[id_column or ROW_COLUMN] = table.column(id_column) if id_column else to_arrow(rows)
    if file_label is not None:  # rows are counted per file: say which
        data["file"] = pa.array([file_label] * len(table), pa.string())
    for c in columns:
        if c and c not in data:
            data[c] = table.column(c)
    for key, v in values.items():
        data[key] = to_arrow(v)
    return pa.table(data)


def renumber(table: pa.Table, rows: np.ndarray) -> pa.Table:
    """A per-sample block with its row numbers replaced (rows counted in a part, made
    rows of the file)."""
    return table.set_column(0, ROW_COLUMN, to_arrow(rows))


def write_parquet_part(folder: str, index: int, tables: Sequence[pa.Table]) -> int:
    """One Parquet part file of a per-sample dataset folder; the number of rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.concat_tables(tables)
    pq.write_table(table, os.path.join(folder, f"part-{index:05d}.parquet"))
    return int(table.num_rows)


def concat(tables: Sequence[pa.Table]) -> pa.Table:
    """The blocks as one table (an empty table for none)."""
    import pyarrow as pa

    return pa.concat_tables(tables) if tables else pa.table({})
