"""Readers under hostile inputs: every run ends with a result or one ``Error:`` line.

Each test runs the installed ``lossctl`` command in a child process, so aborts,
crashes, hangs and memory growth show up as exit codes, timeouts and rlimits.
"""

from __future__ import annotations

import gzip
import io
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lossctl.errors import InputError

COMMENT = '"reviewer said: fine\nscore 3,4 ok\nbye"'


def run(
    *args: str,
    cwd: Path,
    timeout: float = 60,
    preexec_fn: Callable[[], None] | None = None,
    **kw: Any,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["lossctl", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, preexec_fn=preexec_fn, **kw)  # fmt: skip


def one_error(res: subprocess.CompletedProcess[str]) -> str:
    """The single ``Error:`` line of a run that exited 2 cleanly."""
    assert res.returncode == 2, (res.returncode, res.stderr[-2000:])
    assert "Traceback" not in res.stderr
    assert "internal error" not in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), res.stderr[-2000:]
    return lines[0]


def mse_of(res: subprocess.CompletedProcess[str]) -> float:
    import json

    assert res.returncode == 0, res.stderr[-2000:]
    doc = json.loads(res.stdout)
    return float(doc["losses"]["mse"]["cost"])


def write_regression(path: Path, n: int, extra: str = "", seed: int = 0) -> np.ndarray:
    """A regression CSV of n rows (y_true,y_pred[,comment]); returns the squared errors."""
    rng = np.random.default_rng(seed)
    y = np.round(rng.random(n), 4)
    p = np.round(rng.random(n), 4)
    header = "y_true,y_pred" + (",comment" if extra else "")
    tail = f",{extra}" if extra else ""
    lines = [header] + [f"{a},{b}{tail}" for a, b in zip(y.tolist(), p.tolist(), strict=True)]
    path.write_text("\n".join(lines) + "\n")
    return (y - p) ** 2


def as_nobody() -> None:
    os.setgid(65534)
    os.setuid(65534)


def can_drop_privileges() -> bool:
    """True when a child can run lossctl as nobody (root only; the install must be readable)."""
    if os.geteuid() != 0:
        return False
    try:
        res = subprocess.run(["lossctl", "--version"], preexec_fn=as_nobody, capture_output=True,
                             cwd="/", timeout=60)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return res.returncode == 0


# -- 1. no abort or hang at exit; quoted line ends ------------------------------------------


def test_quoted_multiline_values_are_read_right_every_time(tmp_path: Path) -> None:
    # Before: "CSV parser got out of sync", and in 20 runs some exits aborted (134)
    # in PyGILState_Release or hung in arrow::ThreadPool::Shutdown.
    import pandas as pd

    path = tmp_path / "notes.csv"
    write_regression(path, 640_000, COMMENT)
    assert path.stat().st_size > 32 << 20  # large enough to be read in parallel parts
    frame = pd.read_csv(path)
    assert len(frame) == 640_000
    expected = float(((frame.y_true - frame.y_pred) ** 2).mean())

    def once(_: int) -> subprocess.CompletedProcess[str]:
        return run("eval", "notes.csv", "--json", "-l", "mse", cwd=tmp_path)

    with ThreadPoolExecutor(2) as pool:  # two at a time: the aborts showed under load
        results = list(pool.map(once, range(20)))
    for res in results:
        assert res.returncode == 0, (res.returncode, res.stderr[-1000:])
        assert mse_of(res) == pytest.approx(expected, rel=1e-12)


def test_error_late_in_a_large_csv_exits_cleanly_every_time(tmp_path: Path) -> None:
    # An error while Arrow's reading threads are busy with later blocks.
    path = tmp_path / "late.csv"
    write_regression(path, 200_000, COMMENT)
    with path.open("a") as f:
        f.write("0.5,0.5,x,too many\n")

    def once(_: int) -> subprocess.CompletedProcess[str]:
        return run("eval", "late.csv", cwd=tmp_path)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(once, range(6)))
    for res in results:
        msg = one_error(res)
        assert "row 200001" in msg and "4 fields" in msg


def test_quoted_line_ends_do_not_make_rows_in_parallel_parts(tmp_path: Path) -> None:
    # A quoted value whose lines look like rows: a cut inside it must not read them as rows.
    path = tmp_path / "tricky.csv"
    write_regression(path, 700_000, '"a\n9,9,b\n9,9"')
    import pandas as pd

    frame = pd.read_csv(path)
    expected = float(((frame.y_true - frame.y_pred) ** 2).mean())
    res = run("eval", "tricky.csv", "--json", "-l", "mse", cwd=tmp_path)
    assert mse_of(res) == pytest.approx(expected, rel=1e-12)
    assert '"n_rows": 700000' in res.stdout


# -- 2. deep JSON -------------------------------------------------------------------------


def test_deeply_nested_jsonl_is_an_input_error(tmp_path: Path) -> None:
    # Before: a segmentation fault (exit 139).
    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "deep.jsonl").write_text('{"y_true": 1, "y_pred": 2, "x": ' + deep + "}\n")
    assert "nests objects or lists" in one_error(run("eval", "deep.jsonl", cwd=tmp_path))
    (tmp_path / "deep2.jsonl").write_text('{"y_true": ' + deep + ', "y_pred": 2}\n')
    assert "nests objects or lists" in one_error(run("eval", "deep2.jsonl", cwd=tmp_path))


def test_deep_value_later_in_an_unused_key_is_skipped(tmp_path: Path) -> None:
    rows = [f'{{"y_true": {i % 7}, "y_pred": {i % 5}, "x": 1}}' for i in range(150_000)]
    rows.append('{"y_true": 1, "y_pred": 1, "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    (tmp_path / "late.jsonl").write_text("\n".join(rows) + "\n")
    res = run("eval", "late.jsonl", "--json", "-l", "mse", cwd=tmp_path)
    y = np.array([i % 7 for i in range(150_000)] + [1.0])
    p = np.array([i % 5 for i in range(150_000)] + [1.0])
    assert mse_of(res) == pytest.approx(float(((y - p) ** 2).mean()))


# -- 3. streams ---------------------------------------------------------------------------


def limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def test_dev_zero_on_stdin_ends_quickly_in_bounded_memory(tmp_path: Path) -> None:
    # Before: stdin was read whole, to a MemoryError at 5.3 GB. Now its first bytes say
    # it is not text.
    for extra in ([], ["--input-format", "jsonl"]):
        with open("/dev/zero", "rb") as zero:
            res = run("eval", "-", *extra, cwd=tmp_path, timeout=60, stdin=zero,
                      preexec_fn=limit_memory)  # fmt: skip
        assert "standard input is not text (its first bytes are 00 00" in one_error(res)


ENDLESS_LINE = "import sys\nwhile True:\n    sys.stdout.write('a' * 65536)\n"


@pytest.mark.parametrize(
    ("extra", "message"),
    [([], "header line of <stdin> is longer than 64 MB"),
     (["--input-format", "jsonl"], "first line of <stdin> is longer than 64 MB")],
)  # fmt: skip
def test_an_endless_text_line_on_stdin_ends_in_bounded_memory(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", ENDLESS_LINE], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    try:
        res = run("eval", "-", *extra, cwd=tmp_path, timeout=60, stdin=writer.stdout,
                  preexec_fn=limit_memory)  # fmt: skip
    finally:
        writer.kill()
        writer.wait()
    assert message in one_error(res)


def test_stdin_csv_is_streamed(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    sq = write_regression(path, 600_000)  # several blocks past the first bytes
    with path.open("rb") as f:
        res = run("eval", "-", "--json", "-l", "mse", cwd=tmp_path, stdin=f)
    assert mse_of(res) == pytest.approx(float(sq.mean()), rel=1e-12)
    with path.open("rb") as f:
        res = run("eval", "-", "--input-format", "jsonl", cwd=tmp_path, stdin=f)
    one_error(res)


def test_stdin_parquet_has_a_size_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    from lossctl.inputs import readers

    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    pq.write_table(pa.table({"y_true": rng.random(1000), "y_pred": rng.random(1000)}), buf)

    class Stdin:
        buffer = io.BytesIO(buf.getvalue())

    monkeypatch.setattr(sys, "stdin", Stdin)
    monkeypatch.setattr(readers, "MAX_STREAM_BYTES", 1000)
    with pytest.raises(InputError, match=r"larger than .* save it to a file"):
        readers.open_file("-", "parquet")
    monkeypatch.setattr(readers, "MAX_STREAM_BYTES", 1 << 30)
    Stdin.buffer = io.BytesIO(buf.getvalue())
    assert readers.open_file("-", "parquet").columns == ["y_true", "y_pred"]


def test_fifo_and_process_substitution_are_streams(tmp_path: Path) -> None:
    # Before: "file ... is empty" (a pipe's size is 0).
    path = tmp_path / "r.csv"
    sq = write_regression(path, 1000)
    res = subprocess.run(["bash", "-c", "lossctl eval <(cat r.csv) --json -l mse"],
                         capture_output=True, text=True, cwd=tmp_path, timeout=60)  # fmt: skip
    assert mse_of(res) == pytest.approx(float(sq.mean()))
    os.mkfifo(tmp_path / "pipe.csv")
    writer = subprocess.Popen(["bash", "-c", "cat r.csv > pipe.csv"], cwd=tmp_path)
    try:
        res = run("eval", "pipe.csv", "--json", "-l", "mse", cwd=tmp_path)
    finally:
        writer.wait(timeout=30)
    assert mse_of(res) == pytest.approx(float(sq.mean()))


def test_closed_stdin_is_an_input_error(tmp_path: Path) -> None:
    res = run("eval", "-", cwd=tmp_path, preexec_fn=lambda: os.close(0))
    assert "standard input is empty" in one_error(res)


# -- 4. exit 3 that are input errors --------------------------------------------------------


def test_list_columns_are_refused(tmp_path: Path) -> None:
    pq.write_table(
        pa.table({
            "y_true": pa.array([[1.0], [2.0]], pa.list_(pa.float64())),
            "y_pred": [1.0, 2.0],
        }),
        tmp_path / "list.parquet",
    )  # fmt: skip
    msg = one_error(run("eval", "list.parquet", cwd=tmp_path))
    assert "'y_true'" in msg and "list" in msg
    pq.write_table(
        pa.table({
            "y_true": [1.0, 2.0],
            "y_pred": pa.array([[1.0], [2.0]], pa.list_(pa.float64(), 1)),
        }),
        tmp_path / "fixed.parquet",
    )  # fmt: skip
    msg = one_error(run("eval", "fixed.parquet", cwd=tmp_path))
    assert "'y_pred'" in msg and "list" in msg


def test_integers_beyond_2_53(tmp_path: Path) -> None:
    big = 2**53 + 1
    pq.write_table(pa.table({"y_true": pa.array([1, big], pa.int64()), "y_pred": [1.0, 2.0]}),
                   tmp_path / "big.parquet")  # fmt: skip
    msg = one_error(run("eval", "big.parquet", cwd=tmp_path))
    assert "'y_true'" in msg and "row 2" in msg and "2**53" in msg
    top = 2**64 - 1
    pq.write_table(pa.table({"y_true": [1.0, 2.0], "y_pred": pa.array([1, top], pa.uint64())}),
                   tmp_path / "u.parquet")  # fmt: skip
    msg = one_error(run("eval", "u.parquet", cwd=tmp_path))
    assert "'y_pred'" in msg and "row 2" in msg
    # In text (CSV), digits are a decimal number read to the nearest float64, like 0.1.
    (tmp_path / "big.csv").write_text(f"y_true,y_pred\n1,1\n{big},{big}\n")
    res = run("eval", "big.csv", "--json", "-l", "mse", cwd=tmp_path)
    assert mse_of(res) == 0.0


def test_latin1_header_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "l1.csv").write_bytes("y_true,y_pr\xe9d\n1,2\n".encode("latin-1"))
    msg = one_error(run("eval", "l1.csv", "-p", "y_pred", cwd=tmp_path))
    assert "UTF-8" in msg


def test_timestamp_target_says_timestamp(tmp_path: Path) -> None:
    (tmp_path / "ts.csv").write_text("y_true,y_pred\n2024-01-01,1\n2024-01-02,2\n")
    msg = one_error(run("eval", "ts.csv", "--task", "regression", cwd=tmp_path))
    assert "timestamp" in msg and "'y_true'" in msg


@pytest.mark.skipif(not can_drop_privileges(), reason="needs root to run a child as nobody")
def test_permission_errors_are_input_errors(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    (tmp_path / "r.csv").write_text("y_true,y_pred\n1,2\n")
    (tmp_path / "r.csv").chmod(0o600)
    msg = one_error(run("eval", "r.csv", cwd=tmp_path, preexec_fn=as_nobody))
    assert "r.csv" in msg and "ermission" in msg
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.csv").write_text("y_true,y_pred\n1,2\n")
    folder.chmod(0o700)
    msg = one_error(run("eval", "parts", cwd=tmp_path, preexec_fn=as_nobody))
    assert "parts" in msg and "ermission" in msg
    folder.chmod(0o755)
    (folder / "a.csv").chmod(0o600)
    msg = one_error(run("eval", "parts", cwd=tmp_path, preexec_fn=as_nobody))
    assert "a.csv" in msg and "ermission" in msg


def test_permission_errors_in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The same cases where a child cannot drop root: the OS errors are simulated.
    from lossctl.inputs import datasets, readers, sources

    (tmp_path / "r.csv").write_text("y_true,y_pred\n1,2\n")
    folder = tmp_path / "parts"
    folder.mkdir()
    (folder / "a.csv").write_text("y_true,y_pred\n1,2\n")

    def denied(path: Any, *args: Any, **kw: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(path))

    with monkeypatch.context() as m:
        m.setattr(readers, "open", denied, raising=False)
        with pytest.raises(InputError, match=r"cannot read .*r\.csv: Permission denied"):
            sources.open_source(str(tmp_path / "r.csv"))
        with pytest.raises(InputError, match=r"cannot read .*a\.csv: Permission denied"):
            sources.open_source(str(folder))
    with monkeypatch.context() as m:
        m.setattr(os, "scandir", denied)
        with pytest.raises(InputError, match=r"cannot list the folder .*parts: Permission"):
            datasets.open_dataset(str(folder), None, 1000)


def test_memory_url_without_a_path(tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    one_error(run("eval", "memory://", cwd=tmp_path))


# -- 5. paths, rows, long values, numbers ---------------------------------------------------


def test_a_path_that_exists_is_not_a_glob(tmp_path: Path) -> None:
    sq = write_regression(tmp_path / "a[1].csv", 100)
    res = run("eval", "a[1].csv", "--json", "-l", "mse", cwd=tmp_path)
    assert mse_of(res) == pytest.approx(float(sq.mean()))
    msg = one_error(run("eval", "b[1].csv", cwd=tmp_path))
    assert "a path that exists is always read as a path" in msg


def test_ragged_row_names_its_row(tmp_path: Path) -> None:
    (tmp_path / "rag.csv").write_text("y_true,y_pred\n1,2\n3,4\n5,6,7\n")
    msg = one_error(run("eval", "rag.csv", cwd=tmp_path))
    assert "row 3" in msg and "3 fields" in msg
    (tmp_path / "short.csv").write_text("y_true,y_pred,w\n1,2,1\n3\n")
    msg = one_error(run("eval", "short.csv", cwd=tmp_path))
    assert "row 2" in msg and "1 field" in msg


def test_long_quoted_value_and_long_header(tmp_path: Path) -> None:
    long = "x" * (6 << 20)
    (tmp_path / "q.csv").write_text(f'y_true,y_pred,c\n1,2,"{long}"\n3,5,z\n')
    res = run("eval", "q.csv", "--json", "-l", "mse", cwd=tmp_path)
    assert mse_of(res) == pytest.approx(2.5)
    # Beyond the first rows too: the reading restarts with larger blocks.
    rows = "".join(f"{i % 3},{i % 2},z\n" for i in range(50_000))
    (tmp_path / "q2.csv").write_text(f'y_true,y_pred,c\n{rows}1,2,"{long}"\n3,5,z\n')
    y = np.array([i % 3 for i in range(50_000)] + [1, 3])
    p = np.array([i % 2 for i in range(50_000)] + [2, 5])
    res = run("eval", "q2.csv", "--json", "-l", "mse", cwd=tmp_path)
    assert mse_of(res) == pytest.approx(float(((y - p) ** 2).mean()))
    (tmp_path / "h.csv").write_text(f"y_true,y_pred,{'c' * (6 << 20)}\n1,2,\n3,5,z\n")
    res = run("eval", "h.csv", "--json", "-l", "mse", cwd=tmp_path)
    assert mse_of(res) == pytest.approx(2.5)
    (tmp_path / "hh.csv").write_text("y" * (100 << 20) + "\n1\n")
    msg = one_error(run("eval", "hh.csv", cwd=tmp_path))
    assert "longer than 64 MB" in msg


@pytest.mark.parametrize("value", ["1_000", "\uff13", "1,000", "0x10", "1d"])
def test_numbers_follow_one_rule(tmp_path: Path, value: str) -> None:
    # Before: 1_000 and a fullwidth 3 were numbers (Python's float()), 1,000 was not.
    (tmp_path / "n.csv").write_text(f'y_true,y_pred\n1,2\n"{value}",3\n')
    msg = one_error(run("eval", "n.csv", "--task", "regression", cwd=tmp_path))
    assert "must be numeric" in msg and "row 2" in msg


@pytest.mark.parametrize("value", [" 7 ", "+7", "7.", ".7e1", "7E0"])
def test_numbers_that_are_numbers(tmp_path: Path, value: str) -> None:
    (tmp_path / "n.csv").write_text(f'y_true,y_pred\n1,2\n"{value}",7\n')
    res = run("eval", "n.csv", "--json", "-l", "mse", cwd=tmp_path)
    assert mse_of(res) == pytest.approx(0.5 if float(value) == 7 else 0.0)


def test_gzip_and_stdin_gzip(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    sq = write_regression(path, 5000)
    (tmp_path / "r.csv.gz").write_bytes(gzip.compress(path.read_bytes()))
    res = run("eval", "r.csv.gz", "--json", "-l", "mse", cwd=tmp_path)
    assert mse_of(res) == pytest.approx(float(sq.mean()))
