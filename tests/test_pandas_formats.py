"""Formats read whole through pandas: Excel, Stata, SAS, SPSS and pickles.

Each format round-trips real sample predictions: the DataFrame of a sample CSV is
written by its format's own writer, and ``lossctl eval FILE --json`` must give the
losses of ``lossctl eval the.csv --json``, every statistic to 1e-12 relative. Stata,
SPSS, SAS XPORT and pickles store float64 exactly; openpyxl writes each number with 16
significant digits, so a workbook is compared exactly with the CSV of those rounded
values, and cost by cost with the original CSV. pandas cannot write ``.sas7bdat`` (nor
``.xls``): those are read by the same pandas readers as ``.xpt`` (and ``.xlsx``), and
only their error paths are checked here.

Then the errors: each is exit 2 with one ``Error:`` line naming the file, never a
traceback.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import pickle
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from lossctl.cli import app
from tests.conftest import SAMPLE_DATA, run_lossctl

REG = SAMPLE_DATA / "diabetes_regression.csv"
BINARY = SAMPLE_DATA / "breast_cancer_binary.csv"
WINE = SAMPLE_DATA / "wine_multiclass.csv"
PICKLE_WARNING = (
    "pickle runs code when loaded: read {} only because --input-format pickle was given"
)


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _frames() -> dict[str, tuple[pd.DataFrame, tuple[str, ...]]]:
    """The sample DataFrames (regression; binary with text labels; multiclass with text
    labels) and the options each needs."""
    text = pd.read_csv(BINARY)
    text["y_true"] = np.where(text["y_true"] == 1, "malignant", "benign")
    return {
        "regression": (pd.read_csv(REG), ()),
        "binary-text": (text, ("--pos-label", "malignant")),
        "multiclass": (pd.read_csv(WINE), ()),
    }


def _short_names(df: pd.DataFrame) -> pd.DataFrame:
    """The columns under names of at most 8 characters (SAS XPORT version 5, which pandas
    reads); multiclass columns keep naming their class (p_c0 for the label c0)."""
    out = df.rename(columns={"y_pred_gbr": "gbr"})
    if "prob_class_0" in out:
        out = out.rename(columns=lambda c: c.replace("prob_class_", "p_c"))
        out["y_true"] = out["y_true"].str.replace("class_", "c")
    return out


def _excel_rounded(df: pd.DataFrame) -> pd.DataFrame:
    """The values as openpyxl stores them: each float with 16 significant digits."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype.kind == "f":
            out[c] = out[c].map(lambda v: float(f"{v:.16g}"))
    return out


def _write_xport(df: pd.DataFrame, path: Path) -> None:
    import pyreadstat

    pyreadstat.write_xport(_short_names(df), str(path), file_format_version=5)


def _write_sav(df: pd.DataFrame, path: Path) -> None:
    import pyreadstat

    pyreadstat.write_sav(df, str(path))


#: suffix -> (the module its writer or reader needs, the writer, extra options).
WRITERS: dict[str, tuple[str | None, Callable[[pd.DataFrame, Path], None], tuple[str, ...]]] = {
    # to_excel and to_stata write the index as a first column: just one more column.
    "xlsx": ("openpyxl", lambda df, p: df.to_excel(p), ()),
    "dta": (None, lambda df, p: df.to_stata(p), ()),
    "sav": ("pyreadstat", _write_sav, ()),
    "xpt": ("pyreadstat", _write_xport, ()),
    "pkl": (None, lambda df, p: df.to_pickle(p), ("--input-format", "pickle")),
}
REASONS = {
    "openpyxl": "Excel needs openpyxl (pip install 'lossctl[excel]')",
    "pyreadstat": "SPSS needs pyreadstat, and so does writing .xpt files "
    "(pip install 'lossctl[stats-formats]')",
}
CASES = [(suffix, frame) for suffix in WRITERS for frame in _frames()]


def _run_all(cwd: Path, commands: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    """The installed lossctl on each command, two at a time."""
    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(lambda args: run_lossctl(cwd, *args), commands))


def _doc(res: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def reference(*args: object) -> dict[str, Any]:
    """The JSON of a CSV's run, in this process (the same code; no process to start)."""
    res = CliRunner().invoke(app, [*map(str, args), "--json", "--no-config"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pandas_formats")


@pytest.fixture(scope="module")
def round_trips(folder: Path) -> dict[tuple[str, str], tuple[dict[str, Any], str]]:
    """(suffix, frame) -> (the JSON of eval on the file, its stderr); ("csv", frame) and
    ("xlsx-csv", frame) are the references: the CSV, and the CSV of Excel's rounding."""
    commands: list[list[str]] = []
    keys: list[tuple[str, str]] = []
    out: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
    for name, (df, options) in _frames().items():
        for key, data in (("csv", df), ("xlsx-csv", _excel_rounded(df))):
            data.to_csv(folder / f"{name}.{key}.csv", index=False)
            out[(key, name)] = (reference("eval", folder / f"{name}.{key}.csv", *options), "")
        for suffix, (module, write, extra) in WRITERS.items():
            if module is not None and not _has(module):
                continue
            write(df, folder / f"{name}.{suffix}")
            commands.append(["eval", f"{name}.{suffix}", *options, *extra, "--json"])
            keys.append((suffix, name))
    results = _run_all(folder, commands)
    return out | {k: (_doc(r), r.stderr) for k, r in zip(keys, results, strict=True)}


def _flat(losses: dict[str, Any]) -> dict[str, Any]:
    """Every statistic of every loss, as (key, stat) -> value (params flattened too)."""
    out: dict[str, Any] = {}
    for key, stats in losses.items():
        for stat, value in stats.items():
            if isinstance(value, dict):
                out.update({(key, stat, k): v for k, v in value.items()})
            else:
                out[(key, stat)] = value
    return out


def assert_same_losses(got: dict[str, Any], expected: dict[str, Any]) -> None:
    got_flat, want = _flat(got), _flat(expected)
    assert got_flat.keys() == want.keys()
    for k, v in want.items():
        if isinstance(v, float):
            assert got_flat[k] == pytest.approx(v, rel=1e-12, abs=0.0), k
        else:
            assert got_flat[k] == v, k


def costs(doc: dict[str, Any]) -> dict[str, float]:
    return {k: v["cost"] for k, v in doc["losses"].items()}


def _skip_without(suffix: str) -> None:
    module = WRITERS[suffix][0]
    if module is not None:
        pytest.importorskip(module, reason=REASONS[module])


# -- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix, frame", CASES, ids=[f"{s}-{f}" for s, f in CASES])
def test_round_trip_gives_the_csv_losses(
    round_trips: dict[tuple[str, str], tuple[dict[str, Any], str]],
    folder: Path,
    suffix: str,
    frame: str,
) -> None:
    _skip_without(suffix)
    got, stderr = round_trips[(suffix, frame)]
    want, _ = round_trips[("xlsx-csv" if suffix == "xlsx" else "csv", frame)]
    csv, _ = round_trips[("csv", frame)]
    assert_same_losses(got["losses"], want["losses"])
    assert costs(got) == pytest.approx(costs(csv), rel=1e-12)
    assert (got["task"], got["n_rows"], got["prediction_kind"]) == (
        csv["task"], csv["n_rows"], csv["prediction_kind"],
    )  # fmt: skip
    assert got["source"] == f"{frame}.{suffix}"
    if suffix != "xpt":  # XPORT names are shortened
        assert got["columns"] == csv["columns"]
    if suffix == "pkl":
        assert got["warnings"] == [PICKLE_WARNING.format(f"{frame}.pkl")]
        assert f"Warning: {PICKLE_WARNING.format(f'{frame}.pkl')}" in stderr
    else:
        assert got["warnings"] == csv["warnings"]
    if suffix in ("xlsx", "dta"):  # the index, written as a column, got no role
        read = pd.read_excel if suffix == "xlsx" else pd.read_stata
        index = "Unnamed: 0" if suffix == "xlsx" else "index"
        assert read(folder / f"{frame}.{suffix}").columns[0] == index
        assert index not in str(got["columns"])


def test_xport_zeros_are_zeros(folder: Path) -> None:
    """pandas' XPORT reader decodes a stored 0 as 5.4e-79 (pandas-dev/pandas#50670): 0/1
    labels must still read as 0 and 1."""
    pytest.importorskip("pyreadstat", reason=REASONS["pyreadstat"])
    _write_xport(pd.read_csv(BINARY), folder / "zeros.xpt")
    got = _doc(run_lossctl(folder, "eval", "zeros.xpt", "--json"))
    want = reference("eval", BINARY)
    assert want["task"] == got["task"] == "binary"
    assert_same_losses(got["losses"], want["losses"])


def test_value_labels_index_column_order_and_groups(folder: Path) -> None:
    """Stata and SPSS value labels (categorical columns) read as their labels, also as a
    --by group; a named string index and columns in a surprising order in a workbook."""
    wine = pd.read_csv(WINE)
    labelled = wine.assign(y_true=wine["y_true"].astype("category"))
    labelled.to_stata(folder / "labels.dta", write_index=False)
    assert isinstance(pd.read_stata(folder / "labels.dta")["y_true"].dtype, pd.CategoricalDtype)
    reg = pd.read_csv(REG)
    reg.assign(sex=reg["sex"].astype("category")).to_stata(folder / "groups.dta")
    assert isinstance(pd.read_stata(folder / "groups.dta")["sex"].dtype, pd.CategoricalDtype)
    commands = [["eval", "labels.dta", "--json"], ["eval", "groups.dta", "--by", "sex", "--json"]]
    if _has("pyreadstat"):
        import pyreadstat

        codes = {f"class_{k}": k for k in range(3)}
        coded = wine.assign(y_true=wine["y_true"].map(codes))
        pyreadstat.write_sav(
            coded, str(folder / "labels.sav"),
            variable_value_labels={"y_true": {k: c for c, k in codes.items()}},
        )  # fmt: skip
        read = pd.read_spss(folder / "labels.sav")
        assert isinstance(read["y_true"].dtype, pd.CategoricalDtype)
        commands.append(["eval", "labels.sav", "--json"])
    if _has("openpyxl"):
        odd = _excel_rounded(reg)[["sex", "y_pred", "y_pred_gbr", "y_true", "id"]]
        odd.index = pd.Index([f"r{i}" for i in range(len(odd))], name="row")
        odd.to_excel(folder / "odd.xlsx")
        odd.to_csv(folder / "odd.csv", index=False)
        commands.append(["eval", "odd.xlsx", "--json"])
    docs = [_doc(r) for r in _run_all(folder, commands)]
    wine_doc, reg_doc = reference("eval", WINE), reference("eval", REG, "--by", "sex")
    labels, groups = docs[:2]
    assert_same_losses(labels["losses"], wine_doc["losses"])
    assert labels["task"] == "multiclass"
    assert groups["groups"].keys() == reg_doc["groups"].keys() == {"sex_1", "sex_2"}
    for g in reg_doc["groups"]:
        assert_same_losses(groups["groups"][g]["losses"], reg_doc["groups"][g]["losses"])
    rest = docs[2:]
    if _has("pyreadstat"):
        assert_same_losses(rest.pop(0)["losses"], wine_doc["losses"])
    if _has("openpyxl"):
        (odd_doc,) = rest
        odd_csv = reference("eval", folder / "odd.csv")
        assert_same_losses(odd_doc["losses"], odd_csv["losses"])
        assert odd_doc["columns"]["target"] == "y_true"
        assert odd_doc["columns"]["pred"] == ["y_pred"]


# -- workbooks with several sheets ------------------------------------------------------


@pytest.fixture(scope="module")
def workbook(folder: Path) -> Path:
    pytest.importorskip("openpyxl", reason=REASONS["openpyxl"])
    path = folder / "book.xlsx"
    with pd.ExcelWriter(path) as book:
        pd.read_csv(REG).to_excel(book, sheet_name="reg", index=False)
        pd.read_csv(WINE).to_excel(book, sheet_name="wine", index=False)
        pd.read_csv(REG).head(0).to_excel(book, sheet_name="empty", index=False)
        pd.DataFrame({"a": [1.0]}).to_excel(book, sheet_name="1", index=False)
    return path


def invoke(*args: object, input: bytes | None = None) -> Any:
    return CliRunner().invoke(app, [*map(str, args), "--no-config"], input=input)


def error_of(*args: object, input: bytes | None = None) -> str:
    """The one ``Error:`` line of an in-process run that exited 2."""
    res = invoke(*args, input=input)
    assert res.exit_code == 2, res.output
    assert "Traceback" not in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, res.stderr
    return lines[0]


def test_several_sheets_warn_and_sheet_chooses(workbook: Path) -> None:
    first, named, numbered = _run_all(workbook.parent, [
        ["eval", workbook.name, "--json"],
        ["eval", workbook.name, "--sheet", "reg", "--json"],
        ["eval", workbook.name, "--sheet", "wine", "--json"],
    ])  # fmt: skip
    warning = (
        "book.xlsx has sheets reg, wine, empty, 1; read 'reg' (the first): pass --sheet "
        "NAME to choose"
    )
    doc = _doc(first)
    assert doc["warnings"] == [warning]
    assert f"Warning: {warning}" in first.stderr
    assert _doc(named)["warnings"] == [] and "Warning" not in named.stderr
    assert costs(_doc(named)) == costs(doc)
    assert_same_losses(_doc(numbered)["losses"], reference("eval", WINE)["losses"])
    # A whole number is a 0-based index only when no sheet has that name: sheet "1" is
    # the one named "1" (one column: no target), "2" the third sheet (empty).
    assert "available: a." in error_of("eval", workbook, "--sheet", "1")
    msg = error_of("eval", workbook, "--sheet", "2")
    assert msg == (
        f"Error: sheet 'empty' of {workbook} has a header but no data rows (its other "
        "sheets: reg, wine, 1; --sheet NAME reads one)."
    )


def test_a_missing_sheet_lists_the_sheets(workbook: Path) -> None:
    msg = error_of("eval", workbook, "--sheet", "q3")
    assert msg == (
        f"Error: {workbook} has no sheet 'q3'; its sheets are reg, wine, empty, 1: pass "
        "--sheet with one of them."
    )
    assert "nor sheet number 9" in error_of("eval", workbook, "--sheet", "9")


@pytest.mark.parametrize(
    "command, files",
    [(["eval"], 1), (["compare", "--names", "a,b"], 2), (["recommend"], 1),
     (["plot", "dist", "-l", "mse"], 1), (["plot", "residuals"], 1),
     (["plot", "compare", "--names", "a,b", "-l", "mse"], 2), (["plot", "reliability"], 1)],
    ids=lambda c: " ".join(c[:2]) if isinstance(c, list) else str(c),
)  # fmt: skip
def test_every_data_command_takes_sheet(workbook: Path, command: list[str], files: int) -> None:
    """--sheet reaches the reading of every data command (a missing sheet says so)."""
    args = [*command[: 2 if command[0] == "plot" else 1], *[workbook] * files]
    msg = error_of(*args, *command[len(args) - files :], "--sheet", "nope")
    assert f"{workbook} has no sheet 'nope'" in msg


def test_the_api_takes_sheet(workbook: Path) -> None:
    import lossctl

    wine = lossctl.evaluate(str(workbook), sheet="wine")
    assert wine.task == "multiclass" and wine.warnings == ()
    by_name = lossctl.evaluate(str(workbook), sheet="reg")
    by_index = lossctl.evaluate(workbook, sheet=0)  # no sheet is named "0"
    assert by_name.task == by_index.task == "regression"
    assert by_name.to_dict()["losses"] == by_index.to_dict()["losses"]
    with pytest.warns(lossctl.LossctlWarning, match="has sheets reg, wine"):
        first = lossctl.evaluate(str(workbook))
    assert first.to_dict()["losses"] == by_name.to_dict()["losses"]
    rows = lossctl.per_sample(str(workbook), "mse", sheet="reg")
    assert len(rows) == 442 and list(rows.index[:2]) == [0, 1]
    with pytest.raises(lossctl.UsageError, match="sheet must be"):
        lossctl.evaluate(str(workbook), sheet=True)
    with pytest.raises(lossctl.UsageError, match="the DataFrame has no sheets"):
        lossctl.evaluate(pd.read_csv(REG), sheet="reg")


# -- errors -------------------------------------------------------------------------------


def test_sheet_with_input_that_is_no_workbook() -> None:
    assert error_of("eval", REG, "--sheet", "a") == (
        f"Error: --sheet applies to Excel workbooks (.xlsx, .xls), but {REG} is CSV; drop --sheet."
    )
    assert "from a file, not from standard input" in error_of("eval", "-", "--sheet", "a")


def test_pickles_need_input_format_pickle(tmp_path: Path) -> None:
    df = pd.read_csv(REG)
    for name in ("preds.pkl", "preds.pickle", "preds.pkl.gz"):
        df.to_pickle(tmp_path / name, compression=None)
        msg = error_of("eval", tmp_path / name)
        assert "pickle runs code when loaded" in msg and "--input-format pickle" in msg
        assert "only for a file you trust" in msg
    (tmp_path / "list.pkl").write_bytes(pickle.dumps([1, 2, 3]))
    msg = error_of("eval", tmp_path / "list.pkl", "--input-format", "pickle")
    assert msg == (
        f"Error: {tmp_path / 'list.pkl'} holds a list, not a pandas DataFrame; lossctl reads "
        "a pickled DataFrame (df.to_pickle(path)) with the target and prediction columns."
    )
    df["y_true"].to_pickle(tmp_path / "series.pkl")
    assert "holds a pandas Series" in error_of(
        "eval", tmp_path / "series.pkl", "--input-format", "pickle"
    )
    (tmp_path / "text.pkl").write_text("y_true,y_pred\n1,2\n")
    msg = error_of("eval", tmp_path / "text.pkl", "--input-format", "pickle")
    assert msg.startswith(f"Error: cannot read {tmp_path / 'text.pkl'} as a pickle: ")


def test_a_config_file_cannot_choose_pickle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    pd.read_csv(REG).to_pickle(tmp_path / "p.bin")
    (tmp_path / "lossctl.toml").write_text('input_format = "pickle"\n')
    res = CliRunner().invoke(app, ["eval", "p.bin"])
    assert res.exit_code == 2
    assert "only --input-format pickle on the command line reads one" in res.stderr
    (tmp_path / "lossctl.toml").write_text('sheet = "a"\n')  # a sheet belongs to one file
    res = CliRunner().invoke(app, ["eval", "p.bin"])
    assert res.exit_code == 2 and "unknown key 'sheet'" in res.stderr


def test_stdin_and_compressed_files_are_refused(tmp_path: Path) -> None:
    msg = error_of("eval", "-", "--input-format", "stata", input=b"x")
    assert msg == (
        "Error: --input-format stata reads a Stata file from a file, not from standard "
        "input: pass the file's path."
    )
    pd.read_csv(REG).to_stata(tmp_path / "d.dta")
    (tmp_path / "d.dta.gz").write_bytes(gzip.compress((tmp_path / "d.dta").read_bytes()))
    msg = error_of("eval", tmp_path / "d.dta.gz")
    assert "compressed with gzip ('.gz'), which lossctl does not read: decompress it" in msg


def test_workbook_bytes_elsewhere_are_named(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl", reason=REASONS["openpyxl"])
    pd.read_csv(REG).to_excel(tmp_path / "book.xlsx", index=False)
    data = (tmp_path / "book.xlsx").read_bytes()
    (tmp_path / "book.csv").write_bytes(data)
    assert error_of("eval", tmp_path / "book.csv") == (
        f"Error: {tmp_path / 'book.csv'} is an Excel workbook (.xlsx) despite its suffix "
        "'.csv'; rename it to book.xlsx, or pass --input-format excel."
    )
    res = invoke("eval", tmp_path / "book.csv", "--input-format", "excel", "-l", "mse")
    assert res.exit_code == 0, res.output
    assert error_of("eval", tmp_path / "book.xlsx", "--input-format", "csv") == (
        f"Error: {tmp_path / 'book.xlsx'} is an Excel workbook (.xlsx), not csv as "
        "--input-format says; pass --input-format excel."
    )
    msg = error_of("eval", "-", input=data)
    assert "standard input is an Excel workbook (.xlsx)" in msg and "workbook's path" in msg
    (tmp_path / "gz.xlsx.gz").write_bytes(gzip.compress(data))
    assert "decompress it" in error_of("eval", tmp_path / "gz.xlsx.gz")


@pytest.fixture
def sheets(tmp_path: Path) -> Iterator[Path]:
    openpyxl = pytest.importorskip("openpyxl", reason=REASONS["openpyxl"])
    for name, rows in {
        "empty": [],
        "header": [["y_true", "y_pred"]],
        "numbers": [[1.5, 2.5], [1, 2]],
        "blank": [[None, None], ["y_true", "y_pred"], [1, 2]],
        "mixed": [["y_true", "y_pred"], [1, 2], [3, "abc"]],
    }.items():
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        book.save(tmp_path / f"{name}.xlsx")
    yield tmp_path


@pytest.mark.parametrize(
    "name, message",
    [
        ("empty", "sheet 'Sheet' of {} is empty; it needs a header row and data rows."),
        ("header", "sheet 'Sheet' of {} has a header but no data rows."),
        ("numbers", "sheet 'Sheet' of {} has no header row: its first row holds values "
                    "(1.5, 2.5), not column names; put the column names (e.g. y_true, y_pred) "
                    "in the first row."),
        ("blank", "sheet 'Sheet' of {} has no header row: its first row is empty;"),
        # Text among numbers is read as text, and named where it is (as in a CSV).
        ("mixed", "column 'y_pred' of {} must be numeric; found 'abc' at row 2."),
    ],
)  # fmt: skip
def test_bad_sheets(sheets: Path, name: str, message: str) -> None:
    path = sheets / f"{name}.xlsx"
    assert error_of("eval", path, "-l", "mse").startswith("Error: " + message.format(path))


def test_corrupt_and_wrong_files(tmp_path: Path) -> None:
    stata = tmp_path / "d.dta"
    pd.read_csv(REG).to_stata(stata)
    cut = tmp_path / "cut.dta"
    cut.write_bytes(stata.read_bytes()[:2000])
    assert error_of("eval", cut).startswith(f"Error: cannot read {cut} as a Stata file: ")
    text = tmp_path / "text.sav"
    text.write_bytes(REG.read_bytes())
    assert error_of("eval", text) == (
        f"Error: {text} is not an SPSS file as its suffix '.sav' says; it holds text: pass "
        "--input-format csv (or tsv, jsonl)."
    )
    assert error_of("eval", stata, "--input-format", "excel") == (
        f"Error: {stata} is a Stata file, not an Excel workbook as --input-format says; "
        "pass --input-format stata."
    )
    sas = tmp_path / "x.sas7bdat"  # the magic number, then nothing a reader can use
    sas.write_bytes(b"\x00" * 12 + bytes.fromhex("c2ea8160b31411cfbd92080009c7318c181f1011")
                    + b"\x01" * 2000)  # fmt: skip
    assert error_of("eval", sas).startswith(f"Error: cannot read {sas} as a SAS file: ")
    xls = tmp_path / "x.xls"  # an OLE2 compound file's magic number, then zeros
    xls.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 600)
    if _has("xlrd"):
        assert error_of("eval", xls).startswith(f"Error: cannot read {xls} as an Excel workbook")
    archive = tmp_path / "z.xlsx"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("preds.csv", "y_true,y_pred\n1,2\n")
    assert "is a zip archive, not an Excel workbook" in error_of("eval", archive)
    assert "--delimiter applies to CSV and TSV input" in error_of("eval", stata, "--delimiter", ";")


def test_a_dataset_of_workbooks_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl", reason=REASONS["openpyxl"])
    (tmp_path / "parts").mkdir()
    for name in ("a.xlsx", "b.xlsx"):
        pd.read_csv(REG).to_excel(tmp_path / "parts" / name)
    for target in (tmp_path / "parts", f"{tmp_path}/parts/*.xlsx"):
        msg = error_of("eval", target)
        assert msg.startswith("Error: a dataset of .xlsx files is not supported")
    assert "a dataset of excel files" in error_of(
        "eval", tmp_path / "parts", "--input-format", "excel"
    )


def test_a_missing_package_names_the_extra(tmp_path: Path) -> None:
    """A package that cannot be imported (here: a module that raises ImportError shadows
    it) is exit 2 naming the extra that installs it."""
    blocked = tmp_path / "blocked"
    blocked.mkdir()
    for module in ("openpyxl", "xlrd", "pyreadstat"):
        (blocked / f"{module}.py").write_text('raise ImportError("blocked")\n')
    df = pd.read_csv(REG)
    commands = {
        "reading .xls files needs xlrd: pip install 'lossctl[excel]'": "x.xls",
        "reading .sav files needs pyreadstat: pip install 'lossctl[stats-formats]'": "x.sav",
    }
    (tmp_path / "x.xls").write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00" * 600)
    (tmp_path / "x.sav").write_bytes(b"$FL2@(#) SPSS DATA FILE" + b"\x00" * 600)
    if _has("openpyxl"):
        df.to_excel(tmp_path / "x.xlsx")
        commands["reading .xlsx files needs openpyxl: pip install 'lossctl[excel]'"] = "x.xlsx"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(blocked), *filter(None, [os.environ.get("PYTHONPATH")])]
    )}  # fmt: skip

    def run(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["lossctl", "eval", name], capture_output=True, text=True,
                              cwd=tmp_path, env=env, timeout=60)  # fmt: skip

    with ThreadPoolExecutor(2) as pool:
        results = dict(zip(commands, pool.map(run, commands.values()), strict=True))
    for message, res in results.items():
        assert res.returncode == 2, res.stderr
        assert res.stderr.strip() == f"Error: {message}"
