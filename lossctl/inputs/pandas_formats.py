"""Formats pyarrow does not read, read whole into memory through pandas.

Excel workbooks (``.xlsx`` with openpyxl, ``.xls`` with xlrd: one sheet, ``--sheet``),
Stata (``.dta``), SAS (``.sas7bdat``, ``.xpt``), SPSS (``.sav``, with pyreadstat) and
pickled pandas DataFrames (only with ``--input-format pickle``: loading a pickle runs
its code, so a ``.pkl`` suffix alone is refused). The packages are optional extras
(``lossctl[excel]``, ``lossctl[stats-formats]``); a missing one is a usage error that
names the extra.

The file is read into one DataFrame, which is then opened as in-memory data
(:func:`lossctl.inputs.frames.as_frame`): the same columns, validation, layouts and
engines as every other input, with messages that name the file and count its data
rows from 1, as a CSV's. pandas' types are kept: value labels (Stata, SPSS) come as
categorical columns, which are decoded to their labels; text labels as strings. A
column of an Excel sheet that mixes text and numbers is read as text, as a CSV column
would be, so that a stray value is reported where it is.

None of these formats is read from a stream (standard input, a pipe) or compressed
(``.xlsx.gz``), nor as a dataset of many files.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import stat
import warnings
from pathlib import Path
from typing import Any

from lossctl.errors import InputError, UsageError
from lossctl.inputs.frames import FrameSource, as_frame
from lossctl.inputs.readers import (
    COMPRESSIONS,
    KINDS,
    PANDAS_FORMATS,
    PANDAS_INPUT_FORMATS,
    PICKLE_SUFFIXES,
    SNIFF_BYTES,
    SourceFormat,
    detect_format,
    pickle_refused,
    sniff,
    stat_path,
)

#: What each format is called in messages.
LABELS = {
    "excel": "an Excel workbook",
    "stata": "a Stata file",
    "sas": "a SAS file",
    "spss": "an SPSS file",
    "pickle": "a pickle",
}
#: The optional package each reader needs beyond pandas, and the extra that installs it.
EXTRAS = {"openpyxl": "excel", "xlrd": "excel", "pyreadstat": "stats-formats"}
#: Sheets named in the warning about a workbook's other sheets (then "and N more").
SHOWN_SHEETS = 10

_SAS7BDAT = b"\x00" * 12 + bytes.fromhex("c2ea8160b31411cfbd92080009c7318c181f1011")
_OLE2 = bytes.fromhex("d0cf11e0a1b11ae1")
#: The first byte of the Stata formats before 117 (whose files start with ``<stata_dta>``).
_OLD_STATA = frozenset({102, 103, 104, 105, 108, 110, 111, 113, 114, 115})
#: pandas' XPORT reader decodes a stored zero (all bytes 0) as 16**-65, the smallest
#: IBM float (pandas-dev/pandas#50670); no real value is that small.
_XPORT_ZERO = 2.0**-260


def pandas_format(path: str, input_format: str | None) -> str | None:
    """The format read through pandas of an input (``--input-format`` or the suffix),
    or None for the formats streamed by :mod:`lossctl.inputs.readers`. A pickle's
    suffix without ``--input-format pickle`` is refused."""
    if input_format:
        return input_format if input_format in PANDAS_INPUT_FORMATS else None
    if path == "-":
        return None
    name = path.lower()
    for suffix in COMPRESSIONS:
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    suffix = Path(name).suffix
    if suffix in PICKLE_SUFFIXES:
        raise pickle_refused(path)
    return PANDAS_FORMATS.get(suffix)


def open_pandas(
    path: str,
    input_format: str | None,
    chunk_size: int,
    *,
    sheet: str | None = None,
    delimiter: str | None = None,
) -> FrameSource:
    """Read ``path`` whole with pandas and open it as a source (see the module)."""
    fmt = detect_format(path, input_format)
    kind = fmt.format
    label = LABELS[kind]
    if path == "-":
        raise UsageError(
            f"--input-format {kind} reads {label} from a file, not from standard input: "
            "pass the file's path."
        )
    if fmt.compression is not None:
        suffix = next(s for s, c in COMPRESSIONS.items() if c == fmt.compression)
        raise UsageError(
            f"{path} is {label} compressed with {fmt.compression} ('{suffix}'), which lossctl "
            f"does not read: decompress it and pass the file without '{suffix}'."
        )
    if delimiter is not None:
        raise UsageError(
            f"--delimiter applies to CSV and TSV input, but {path} is {label}; drop --delimiter."
        )
    if sheet is not None and kind != "excel":
        raise UsageError(
            f"--sheet applies to Excel workbooks (.xlsx, .xls), but {path} is {label}; "
            "drop --sheet."
        )
    size, head = _first_bytes(path, label)
    content = _content(head)
    _check_content(path, kind, content, head, input_format is not None)
    if content == "zip":
        _check_workbook_zip(path)  # before openpyxl is needed: .xlsb, .ods, other zips
    notes: list[str] = []
    if kind == "pickle":
        notes.append(
            f"pickle runs code when loaded: read {path} only because --input-format pickle "
            "was given"
        )
    df, where, hint, found = _read(path, kind, content, sheet)
    notes += found
    df = _checked(df, path, where, hint)
    frame = as_frame(df, name=path)
    frame.file = True
    source = frame.open(chunk_size)
    source.fmt = SourceFormat(kind, None)
    source.size = size
    source.warnings = notes
    return source


# -- the file's bytes --------------------------------------------------------------------


def _first_bytes(path: str, label: str) -> tuple[int, bytes]:
    """The size and first bytes of a regular, non-empty file."""
    info = stat_path(path)
    if not stat.S_ISREG(info.st_mode):
        raise UsageError(
            f"{path} is not a regular file (a pipe?); lossctl reads {label} from a file "
            "only: save it and pass the file's path."
        )
    if info.st_size == 0:
        raise InputError(f"file {path} is empty; it needs a header and data rows.")
    try:
        with open(path, "rb") as f:
            return info.st_size, f.read(SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}; check its permissions.") from None


def _content(head: bytes) -> str | None:
    """What the first bytes are: ``zip`` (an .xlsx workbook, or another zip archive),
    ``xls`` (an OLE2 compound file), ``stata``, ``sas7bdat``, ``xport``, ``spss``, or
    None (a pickle has no magic number to check)."""
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(_OLE2):
        return "xls"
    if head.startswith(b"<stata_dta>") or (
        len(head) > 2 and head[0] in _OLD_STATA and head[1] in (1, 2) and head[2] == 1
    ):
        return "stata"
    if head.startswith(_SAS7BDAT):
        return "sas7bdat"
    if head.startswith(b"HEADER RECORD*******LIB"):
        return "xport"
    if head[:4] in (b"$FL2", b"$FL3"):
        return "spss"
    return None


#: The format each kind of content is read as.
_FORMAT_OF = {"zip": "excel", "xls": "excel", "stata": "stata", "sas7bdat": "sas",
              "xport": "sas", "spss": "spss"}  # fmt: skip


def _check_content(path: str, kind: str, content: str | None, head: bytes, named: bool) -> None:
    """Bytes that are not the format the suffix or --input-format says: an error naming
    what they are and the fix."""
    if kind == "pickle" or _FORMAT_OF.get(content or "") == kind:
        return
    said = "--input-format says" if named else f"its suffix '{Path(path).suffix}' says"
    other = _FORMAT_OF.get(content or "")
    if other is not None:
        raise InputError(
            f"{path} is {LABELS[other]}, not {LABELS[kind]} as {said}; pass --input-format {other}."
        )
    raw = sniff(head)
    if raw is None:
        fix = "it holds text: pass --input-format csv (or tsv, jsonl)"
    elif raw in ("parquet", "feather"):
        fix = f"it holds {KINDS[raw]} bytes: pass --input-format {raw}"
    elif raw in set(COMPRESSIONS.values()):
        fix = f"it is {KINDS[raw]}: decompress it first"
    else:
        fix = f"its first bytes are {' '.join(f'{b:02x}' for b in head[:8])}"
    raise InputError(f"{path} is not {LABELS[kind]} as {said}; {fix}.")


# -- reading -----------------------------------------------------------------------------


def _missing(module: str, suffix: str) -> UsageError:
    return UsageError(
        f"reading {suffix} files needs {module}: pip install 'lossctl[{EXTRAS[module]}]'"
    )


def _require(module: str, suffix: str) -> None:
    """The reader's optional package, or a usage error naming the extra that installs it."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if found:
        try:
            importlib.import_module(module)  # installed but broken is missing too
        except ImportError:
            found = False
    if not found:
        raise _missing(module, suffix)


def _read(
    path: str, kind: str, content: str | None, sheet: str | None
) -> tuple[Any, str, str, list[str]]:
    """The file's DataFrame (or, for a pickle, whatever it holds), the name of what was
    read in messages (a sheet of a workbook, else the path), a hint for messages about
    it (the other sheets) and warnings."""
    module, suffix = {
        "zip": ("openpyxl", ".xlsx"),
        "xls": ("xlrd", ".xls"),
        "spss": ("pyreadstat", ".sav"),
    }.get(content or "", (None, ""))
    if module is not None:
        _require(module, suffix)
    try:
        with warnings.catch_warnings():
            # openpyxl's "no default style" and pandas' future-default warnings are no
            # concern of the user's: the data is what it is.
            warnings.simplefilter("ignore")
            if kind == "excel":
                return _read_excel(path, content, sheet)
            return _read_other(path, kind, content), path, "", []
    except (InputError, UsageError):
        raise
    except ImportError as exc:
        if module is not None:
            raise _missing(module, suffix) from None
        raise InputError(f"cannot read {path} as {LABELS[kind]}: {_first_line(exc)}.") from None
    except MemoryError:
        raise InputError(
            f"{path} is too large to read into memory; {LABELS[kind]} is read whole: save "
            "it as Parquet or CSV, which lossctl streams."
        ) from None
    except Exception as exc:
        raise InputError(
            f"cannot read {path} as {LABELS[kind]}: {_first_line(exc)}; is the file "
            "complete and not corrupt? Check --input-format."
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__).rstrip(".")


def _read_excel(
    path: str, content: str | None, sheet: str | None
) -> tuple[Any, str, str, list[str]]:
    import pandas as pd

    book = pd.ExcelFile(path, engine="openpyxl" if content == "zip" else "xlrd")
    try:
        names = [str(n) for n in book.sheet_names]
        chosen, notes = _choose_sheet(path, names, sheet)
        df = book.parse(sheet_name=chosen)
    finally:
        book.close()
    where = f"sheet '{chosen}' of {path}"
    others = [n for n in names if n != chosen]
    hint = f" (its other sheets: {_listed(others)}; --sheet NAME reads one)" if others else ""
    _check_header(df, where, hint)
    return df, where, hint, notes


def _check_workbook_zip(path: str) -> None:
    """A zip archive that is not an .xlsx workbook: say what it is."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as z:
            names = set(z.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(
            f"cannot read {path} as an Excel workbook: {_first_line(exc)}; is the file "
            "complete and not corrupt?"
        ) from None
    if "xl/workbook.xml" in names:
        return
    if "xl/workbook.bin" in names:
        raise InputError(
            f"{path} is an Excel binary workbook (.xlsb), which lossctl does not read; save "
            "it as .xlsx (or the sheet as CSV) and pass that file."
        )
    if "content.xml" in names and "mimetype" in names:
        raise InputError(
            f"{path} is an OpenDocument spreadsheet (.ods), which lossctl does not read; "
            "save it as .xlsx (or the sheet as CSV) and pass that file."
        )
    raise InputError(
        f"{path} is a zip archive, not an Excel workbook; unzip it and pass the file inside."
    )


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:SHOWN_SHEETS])
    more = len(names) - SHOWN_SHEETS
    return shown + (f" and {more} more" if more > 0 else "")


def _choose_sheet(path: str, names: list[str], sheet: str | None) -> tuple[str, list[str]]:
    """The sheet to read: ``--sheet`` (a name, else a 0-based index), else the first one
    (with a warning when there are others)."""
    if not names:
        raise InputError(f"{path} has no sheets; it needs one with a header and data rows.")
    if sheet is None:
        notes = []
        if len(names) > 1:
            notes.append(
                f"{path} has sheets {_listed(names)}; read '{names[0]}' (the first): pass "
                "--sheet NAME to choose"
            )
        return names[0], notes
    if sheet in names:
        return sheet, []
    if re.fullmatch(r"[0-9]+", sheet.strip()) and int(sheet) < len(names):
        return names[int(sheet)], []
    index = f" (nor sheet number {int(sheet)}, counted from 0)" if sheet.strip().isdigit() else ""
    raise UsageError(
        f"{path} has no sheet '{sheet}'{index}; its sheets are {_listed(names)}: pass "
        "--sheet with one of them."
    )


def _check_header(df: Any, where: str, hint: str) -> None:
    """The first row of a sheet must name the columns: one of numbers or blanks is data."""
    labels = list(df.columns)
    if not labels:
        return  # an empty sheet: said by _checked
    blank = [isinstance(c, str) and re.fullmatch(r"Unnamed: \d+", c) is not None for c in labels]
    named = [isinstance(c, str) and not b for c, b in zip(labels, blank, strict=True)]
    if any(named):
        return
    if all(blank):
        what = "its first row is empty"
    else:
        values = ", ".join(str(c) for c, b in zip(labels, blank, strict=True) if not b)
        if len(values) > 60:
            values = values[:57] + "..."
        what = f"its first row holds values ({values}), not column names"
    raise InputError(
        f"{where} has no header row: {what}; put the column names (e.g. y_true, y_pred) in "
        f"the first row{hint}."
    )


def _read_other(path: str, kind: str, content: str | None) -> Any:
    import pandas as pd

    if kind == "stata":
        return pd.read_stata(path)
    if kind == "spss":
        return pd.read_spss(path, convert_categoricals=True)
    if kind == "pickle":
        return pd.read_pickle(path, compression=None)
    if content == "xport":
        with open(path, "rb") as f:
            if f.read(48).startswith(b"HEADER RECORD*******LIBV8"):
                raise InputError(
                    f"{path} is a SAS transport file of version 8, which pandas does not "
                    "read; save it as version 5 (.xpt) or as .sas7bdat."
                )
        try:
            df = pd.read_sas(path, format="xport", encoding="utf-8")
        except UnicodeDecodeError:  # XPORT records no encoding: UTF-8, else Latin-1
            df = pd.read_sas(path, format="xport", encoding="latin-1")
        for i in range(df.shape[1]):
            col = df.iloc[:, i]
            if col.dtype.kind == "f":
                df.isetitem(i, col.mask(col.abs() == _XPORT_ZERO, 0.0))
        return df
    return pd.read_sas(path, format="sas7bdat", encoding="infer")


# -- the DataFrame -----------------------------------------------------------------------


def _checked(df: Any, path: str, where: str, hint: str) -> Any:
    """The DataFrame to read: one with columns and rows; text and numbers mixed in a
    column (an Excel column with a stray cell) become text, as in a CSV."""
    import pandas as pd

    if not isinstance(df, pd.DataFrame):
        cls = type(df)
        name = cls.__qualname__
        if isinstance(df, pd.Series):
            name = "pandas Series"
        elif cls.__module__ != "builtins":
            name = f"{cls.__module__}.{name}"
        article = "an" if name[:1].lower() in "aeiou" else "a"
        raise InputError(
            f"{path} holds {article} {name}, not a pandas DataFrame; lossctl reads a pickled "
            "DataFrame (df.to_pickle(path)) with the target and prediction columns."
        )
    if df.shape[1] == 0:
        raise InputError(f"{where} is empty; it needs a header row and data rows{hint}.")
    if len(df) == 0:
        raise InputError(f"{where} has a header but no data rows{hint}.")
    for i in range(df.shape[1]):
        col = df.iloc[:, i]
        if col.dtype == object:
            kinds = {type(v) for v in col if not _no_value(v)}
            if str in kinds and len(kinds) > 1:
                df.isetitem(i, col.map(lambda v: v if _no_value(v) else str(v)))
    return df


def _no_value(value: object) -> bool:
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and value != value
