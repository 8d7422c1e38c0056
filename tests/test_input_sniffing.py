"""What arrives is looked at before it is parsed: compressed, Parquet and Feather bytes
on standard input are read as what they are; bytes that contradict a file's suffix or
--input-format, binary garbage, zip archives and workbooks are one clear error; a
header that reads as one column but splits on ';', tab or '|' names the --delimiter to
pass. Each test runs the installed ``lossctl`` in a child process."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest


def run(
    *args: str, cwd: Path, input: bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["lossctl", *args], input=input, capture_output=True, cwd=cwd,
                          timeout=timeout)  # fmt: skip


def one_error(res: subprocess.CompletedProcess[bytes]) -> str:
    """The single ``Error:`` line of a run that exited 2 cleanly."""
    err = res.stderr.decode()
    assert res.returncode == 2, (res.returncode, err[-2000:])
    assert "Traceback" not in err and "internal error" not in err, err[-2000:]
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), err[-2000:]
    return lines[0]


def costs(res: subprocess.CompletedProcess[bytes]) -> dict[str, float]:
    assert res.returncode == 0, res.stderr.decode()[-2000:]
    doc = json.loads(res.stdout)
    return {k: float(v["cost"]) for k, v in doc["losses"].items()}


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    y = rng.normal(10, 3, 300)
    return pd.DataFrame({"label": y, "score": y + rng.normal(0, 1.5, 300)})


def numpy_mse(df: pd.DataFrame) -> float:
    """The reference, by hand."""
    return float(np.mean((df["label"].to_numpy() - df["score"].to_numpy()) ** 2))


def csv_bytes(df: pd.DataFrame, sep: str = ",") -> bytes:
    return df.to_csv(sep=sep, index=False).encode()


EVAL = ("eval", "-t", "label", "-p", "score", "-l", "mse,mae", "--json")


# -- standard input: compressed, Parquet and Feather bytes ------------------------------


@pytest.mark.parametrize("codec", ["gzip", "bz2", "xz", "zstd"])
def test_compressed_csv_on_stdin_is_decompressed(
    tmp_path: Path, frame: pd.DataFrame, codec: str
) -> None:
    raw = csv_bytes(frame)
    packed = {
        "gzip": gzip.compress,
        "bz2": bz2.compress,
        "xz": lzma.compress,
        "zstd": lambda b: pa.compress(b, "zstd", asbytes=True),
    }[codec](raw)
    (tmp_path / "plain.csv").write_bytes(raw)
    plain = costs(run(*EVAL, "plain.csv", cwd=tmp_path))
    got = costs(run(*EVAL, "-", cwd=tmp_path, input=packed))
    assert got == plain
    assert got["mse"] == pytest.approx(numpy_mse(frame), rel=1e-12)


def test_gzip_csv_through_process_substitution(tmp_path: Path, frame: pd.DataFrame) -> None:
    (tmp_path / "p.csv.gz").write_bytes(gzip.compress(csv_bytes(frame)))
    res = subprocess.run(
        ["bash", "-c", "lossctl eval <(cat p.csv.gz) -t label -p score -l mse --json"],
        capture_output=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert costs(res)["mse"] == pytest.approx(numpy_mse(frame), rel=1e-12)


@pytest.mark.parametrize("kind", ["parquet", "feather", "gzip-parquet"])
def test_parquet_and_feather_bytes_on_stdin_are_read(
    tmp_path: Path, frame: pd.DataFrame, kind: str
) -> None:
    buf = io.BytesIO()
    if kind == "feather":
        frame.to_feather(buf)
    else:
        frame.to_parquet(buf)
    data = gzip.compress(buf.getvalue()) if kind.startswith("gzip") else buf.getvalue()
    got = costs(run(*EVAL, "-", cwd=tmp_path, input=data))
    assert got["mse"] == pytest.approx(numpy_mse(frame), rel=1e-12)


def test_parquet_bytes_on_stdin_contradicting_input_format(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    buf = io.BytesIO()
    frame.to_parquet(buf)
    msg = one_error(run(*EVAL, "-", "--input-format", "csv", cwd=tmp_path, input=buf.getvalue()))
    assert "standard input holds Parquet bytes" in msg
    assert "pass --input-format parquet" in msg
    msg = one_error(run(*EVAL, "-", "--input-format", "parquet", cwd=tmp_path,
                        input=csv_bytes(frame)))  # fmt: skip
    assert "holds text, not Parquet bytes" in msg and "--input-format csv" in msg
    assert msg.startswith("Error: cannot read standard input as Parquet")


# -- files whose bytes contradict their suffix ------------------------------------------


def test_parquet_bytes_under_a_csv_name(tmp_path: Path, frame: pd.DataFrame) -> None:
    frame.to_parquet(tmp_path / "x.csv")
    msg = one_error(run(*EVAL, "x.csv", cwd=tmp_path))
    assert "x.csv holds Parquet bytes despite its suffix '.csv'" in msg
    assert "pass --input-format parquet" in msg
    got = costs(run(*EVAL, "x.csv", "--input-format", "parquet", cwd=tmp_path))
    assert got["mse"] == pytest.approx(numpy_mse(frame), rel=1e-12)


def test_gzip_bytes_under_a_plain_name_and_plain_bytes_under_gz(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    (tmp_path / "g.csv").write_bytes(gzip.compress(csv_bytes(frame)))
    msg = one_error(run(*EVAL, "g.csv", cwd=tmp_path))
    assert "g.csv holds gzip-compressed bytes despite its suffix '.csv'" in msg
    assert "rename it to g.csv.gz" in msg
    (tmp_path / "t.csv.gz").write_bytes(csv_bytes(frame))
    msg = one_error(run(*EVAL, "t.csv.gz", cwd=tmp_path))
    assert "t.csv.gz is not gzip-compressed despite its suffix '.gz'" in msg
    assert "(its bytes are text)" in msg and "remove '.gz'" in msg
    (tmp_path / "b.csv.gz").write_bytes(bz2.compress(csv_bytes(frame)))
    assert "rename it to b.csv.bz2" in one_error(run(*EVAL, "b.csv.gz", cwd=tmp_path))


def test_binary_garbage_is_not_a_csv_parse_error(tmp_path: Path) -> None:
    garbage = np.random.default_rng(0).bytes(5000)
    (tmp_path / "junk.csv").write_bytes(garbage)
    for res in (run(*EVAL, "junk.csv", cwd=tmp_path), run(*EVAL, "-", cwd=tmp_path,
                                                          input=garbage)):  # fmt: skip
        msg = one_error(res)
        assert "is not text (its first bytes are" in msg
        assert "CSV parse error" not in msg and "Expected" not in msg


def test_zip_archives_and_workbooks_are_named(tmp_path: Path, frame: pd.DataFrame) -> None:
    with zipfile.ZipFile(tmp_path / "a.csv", "w") as z:
        z.writestr("a.csv", csv_bytes(frame))
    msg = one_error(run(*EVAL, "a.csv", cwd=tmp_path))
    assert "a.csv is a zip archive" in msg and "unzip it" in msg
    book = io.BytesIO()
    with zipfile.ZipFile(book, "w") as z:  # the layout of an .xlsx file
        z.writestr("xl/workbook.xml", "<workbook/>")
    msg = one_error(run(*EVAL, "-", cwd=tmp_path, input=book.getvalue()))
    assert "standard input is an Excel workbook" in msg and "as CSV" in msg


def test_utf16_text_is_named(tmp_path: Path, frame: pd.DataFrame) -> None:
    (tmp_path / "u.csv").write_bytes(frame.to_csv(index=False).encode("utf-16"))
    msg = one_error(run(*EVAL, "u.csv", cwd=tmp_path))
    assert "u.csv is UTF-16 text" in msg and "iconv" in msg


# -- delimiters ---------------------------------------------------------------------------


def test_semicolon_csv_names_the_delimiter_then_reads_with_it(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    frame.to_csv(tmp_path / "comma.csv", index=False)
    frame.to_csv(tmp_path / "semi.csv", sep=";", index=False)
    msg = one_error(run(*EVAL, "semi.csv", cwd=tmp_path))
    assert "semi.csv looks ';'-separated (header 'label;score')" in msg
    assert "pass --delimiter ';'" in msg
    # Without -t/-p: the "column not found ... available: label;score" path.
    msg = one_error(run("eval", "semi.csv", cwd=tmp_path))
    assert "pass --delimiter ';'" in msg and "available" not in msg
    msg = one_error(run(*EVAL, "-", cwd=tmp_path, input=(tmp_path / "semi.csv").read_bytes()))
    assert "standard input looks ';'-separated" in msg
    comma = costs(run(*EVAL, "comma.csv", cwd=tmp_path))
    semi = costs(run(*EVAL, "semi.csv", "--delimiter", ";", cwd=tmp_path))
    assert semi == comma
    assert semi["mse"] == pytest.approx(numpy_mse(frame), rel=1e-12)
    semi = costs(run(*EVAL, "-", "--delimiter", ";", cwd=tmp_path,
                     input=gzip.compress((tmp_path / "semi.csv").read_bytes())))  # fmt: skip
    assert semi == comma


@pytest.mark.parametrize(
    "sep, option, shown",
    [("|", "|", "'|'"), ("\t", "\\t", "tab"), ("\t", "tab", "tab"), ("\t", "\t", "tab")],
)
def test_pipe_and_tab_delimiters(
    tmp_path: Path, frame: pd.DataFrame, sep: str, option: str, shown: str
) -> None:
    frame.to_csv(tmp_path / "d.csv", sep=sep, index=False)
    msg = one_error(run(*EVAL, "d.csv", cwd=tmp_path))
    assert f"looks {shown}-separated" in msg and f"pass --delimiter {shown}" in msg
    got = costs(run(*EVAL, "d.csv", "--delimiter", option, cwd=tmp_path))
    assert got["mse"] == pytest.approx(numpy_mse(frame), rel=1e-12)


def test_a_wrong_delimiter_names_the_right_one(tmp_path: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(tmp_path / "c.csv", index=False)
    msg = one_error(run(*EVAL, "c.csv", "--delimiter", ";", cwd=tmp_path))
    assert "looks ','-separated" in msg and "--delimiter ',' (or no --delimiter)" in msg


def test_decimal_commas_are_mentioned(tmp_path: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(tmp_path / "de.csv", sep=";", decimal=",", index=False)
    msg = one_error(run(*EVAL, "de.csv", cwd=tmp_path))
    assert "pass --delimiter ';'" in msg and "decimal commas" in msg


@pytest.mark.parametrize("value", ["ab", "", "1", "x", '"', ".", "-", "\n", "é"])
def test_bad_delimiter_values_are_usage_errors(
    tmp_path: Path, frame: pd.DataFrame, value: str
) -> None:
    frame.to_csv(tmp_path / "c.csv", index=False)
    msg = one_error(run(*EVAL, "c.csv", "--delimiter", value, cwd=tmp_path))
    assert msg.startswith("Error: --delimiter must be one character")


def test_delimiter_with_a_format_without_one_is_a_conflict(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    frame.to_parquet(tmp_path / "x.parquet")
    msg = one_error(run(*EVAL, "x.parquet", "--delimiter", ";", cwd=tmp_path))
    assert "--delimiter ';' applies to CSV and TSV input, but x.parquet is Parquet" in msg
    frame.to_json(tmp_path / "x.jsonl", orient="records", lines=True)
    msg = one_error(run(*EVAL, "x.jsonl", "--delimiter", ";", cwd=tmp_path))
    assert "drop --delimiter" in msg


def test_delimiter_reaches_datasets_compare_recommend_plot_and_config(
    tmp_path: Path, frame: pd.DataFrame
) -> None:
    folder = tmp_path / "parts"
    folder.mkdir()
    frame.iloc[:150].to_csv(folder / "a.csv", sep=";", index=False)
    frame.iloc[150:].to_csv(folder / "b.csv", sep=";", index=False)
    assert "pass --delimiter ';'" in one_error(run(*EVAL, "parts", cwd=tmp_path))
    got = costs(run(*EVAL, "parts", "--delimiter", ";", cwd=tmp_path))
    assert got["mse"] == pytest.approx(numpy_mse(frame), rel=1e-12)
    frame.to_csv(tmp_path / "s.csv", sep=";", index=False)
    other = frame.assign(score=frame["label"] + 0.5)
    other.to_csv(tmp_path / "o.csv", sep=";", index=False)
    res = run("compare", "s.csv", "o.csv", "-t", "label", "-p", "score", "-l", "mse",
              "--test", "none", "--json", "--delimiter", ";", cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()
    doc = json.loads(res.stdout)["losses"]["mse"]["costs"]
    assert doc["s"] == pytest.approx(numpy_mse(frame), rel=1e-12)
    assert doc["o"] == pytest.approx(numpy_mse(other), rel=1e-12)
    res = run("plot", "compare", "s.csv", "o.csv", "-t", "label", "-p", "score", "-l", "mse",
              "--resamples", "50", "--delimiter", ";", cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()
    res = run("recommend", "s.csv", "-t", "label", "-p", "score", "--json", "--delimiter", ";",
              cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr.decode()
    for cmd in (["dist", "-l", "mse"], ["residuals"]):
        res = run("plot", *cmd, "s.csv", "-t", "label", "-p", "score", "--delimiter", ";",
                  cwd=tmp_path)  # fmt: skip
        assert res.returncode == 0, res.stderr.decode()
    (tmp_path / "lossctl.toml").write_text('delimiter = ";"\n')
    got = costs(run(*EVAL, "s.csv", cwd=tmp_path))
    assert got["mse"] == pytest.approx(numpy_mse(frame), rel=1e-12)
    (tmp_path / "lossctl.toml").write_text('delimiter = "tab"\n')
    msg = one_error(run(*EVAL, "s.csv", cwd=tmp_path))
    assert "with --delimiter tab" in msg and "pass --delimiter ';'" in msg
    os.remove(tmp_path / "lossctl.toml")
