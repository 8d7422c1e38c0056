"""Faults around the command, run as a user's shell would: full and closed standard
streams, signals, options at their limits. Every case ends with exit 2 and one
``Error:`` line (or 128 + N for a signal), never a traceback or an abort.

Each case reproduced a failure of an earlier version (an internal error, an abort,
a wrong exit code, or memory without bound) before it was fixed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SAMPLE_DATA

REG = str(SAMPLE_DATA / "diabetes_ridge.csv")
GBR = str(SAMPLE_DATA / "diabetes_gbr.csv")
BIN = str(SAMPLE_DATA / "breast_cancer_binary.csv")


def lossctl(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    if "stdout" not in kw and "stderr" not in kw:
        kw["capture_output"] = True
    return subprocess.run(["lossctl", *args], text=True, timeout=120, **kw)  # type: ignore[call-overload]


def one_error(res: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """The run failed with ``code`` and exactly one ``Error:`` line, no traceback."""
    assert res.returncode == code, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr and "Fatal Python error" not in res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, res.stderr
    return errors[0]


# -- full and closed standard streams ------------------------------------------------------


FULL_STDOUT_COMMANDS = [
    ["eval", REG],
    ["eval", REG, "--json"],
    ["eval", REG, "--format", "markdown"],
    ["eval", REG, "--format", "csv"],
    ["compare", REG, GBR, "--resamples", "50"],
    ["compare", REG, GBR, "--resamples", "50", "--json"],
    ["recommend", REG],
    ["recommend", REG, "--json"],
    ["plot", "curves", "-l", "mse,mae", "--width", "60"],
    ["plot", "dist", REG, "--width", "60"],
    ["losses"],
    ["losses", "--format", "json"],
    ["explain", "huber"],
]


@pytest.mark.parametrize("args", FULL_STDOUT_COMMANDS, ids=lambda a: " ".join(a[:3]))
def test_full_stdout_is_an_input_error(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        res = lossctl(*args, stdout=full, stderr=subprocess.PIPE)
    line = one_error(res)
    assert "cannot write to standard output" in line and "No space left" in line


@pytest.mark.parametrize("args", [["eval", REG], ["eval", REG, "--json"], ["losses"]])
def test_closed_stdout_is_an_input_error(args: list[str]) -> None:
    res = lossctl(*args, stdout=None, stderr=subprocess.PIPE, preexec_fn=lambda: os.close(1))
    assert "standard output" in one_error(res)


def test_closed_stderr_keeps_the_exit_code() -> None:
    # Before: a missing file with stderr closed exited 1, the gate-failed code.
    res = lossctl("eval", "missing.csv", stdout=subprocess.PIPE, preexec_fn=lambda: os.close(2))
    assert res.returncode == 2
    res = lossctl("eval", REG, "-q", stdout=subprocess.PIPE, preexec_fn=lambda: os.close(2))
    assert res.returncode == 0


def test_closed_stdin_is_an_empty_input() -> None:
    res = lossctl("eval", "-", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                  preexec_fn=lambda: os.close(0))  # fmt: skip
    assert "standard input is empty" in one_error(res)


def test_quiet_run_into_a_full_stdout_succeeds_every_time() -> None:
    # Nothing is written with -q, so nothing can fail; exits must be clean (no abort at exit).
    for _ in range(5):
        with open("/dev/full", "w") as full:
            res = lossctl("eval", REG, "-q", stdout=full, stderr=subprocess.PIPE)
        assert res.returncode == 0, res.stderr
        assert res.stderr == ""


# -- options at their limits ----------------------------------------------------------------


def test_resamples_are_bounded() -> None:
    # Before: the kernel killed the process at 24 GB.
    res = lossctl("compare", REG, GBR, "--resamples", "2000000000")
    assert "--resamples must be between 1 and 1,000,000" in one_error(res)
    res = lossctl("compare", REG, GBR, "--resamples", "0")
    assert "--resamples" in one_error(res)


def test_negative_seed_is_a_usage_error() -> None:
    res = lossctl("compare", REG, GBR, "--seed", "-1")
    assert "--seed must be an integer >= 0" in one_error(res)


@pytest.fixture
def one_row(tmp_path: Path) -> Path:
    path = tmp_path / "one.csv"
    path.write_text("y_true,a,b\n3.0,2.5,4.0\n")
    return path


@pytest.mark.parametrize("test", ["bootstrap", "permutation", "ttest", "wilcoxon", "dm"])
def test_one_paired_row_is_not_evidence(one_row: Path, test: str) -> None:
    # Before: permutation was an internal error, bootstrap and ttest called one row
    # a significant difference (p = 0.001 and p = 0).
    res = lossctl("compare", str(one_row), "-p", "a", "-p", "b", "--test", test, "-l", "mse")
    assert "needs at least 2 paired rows, got 1" in one_error(res)


def test_one_paired_row_with_no_test_gives_the_costs(one_row: Path) -> None:
    import json

    res = lossctl("compare", str(one_row), "-p", "a", "-p", "b", "--test", "none", "-l", "mse",
                  "--json")  # fmt: skip
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)["losses"]["mse"]
    assert out["costs"] == {"a": 0.25, "b": 1.0}
    assert out["vs_baseline"]["b"]["p_value"] is None


@pytest.mark.parametrize("width", ["0", "-3"])
def test_plot_width_must_be_positive(width: str) -> None:
    res = lossctl("plot", "curves", "--width", width)
    assert "--width must be a positive number" in one_error(res)


def test_chunk_size_zero_is_refused(tmp_path: Path) -> None:
    # Before: 0 fell back to the default chunk size silently (-5 was refused).
    assert "--chunk-size must be >= 1" in one_error(lossctl("eval", REG, "--chunk-size", "0"))
    (tmp_path / ".git").mkdir()
    (tmp_path / "lossctl.toml").write_text("chunk_size = 0\n")
    assert "chunk-size must be >= 1" in one_error(lossctl("eval", REG, cwd=tmp_path))


@pytest.mark.parametrize("value", ["", ",", " "])
def test_an_empty_loss_list_is_refused(value: str) -> None:
    # Before: -l '' silently fell back to the default losses.
    assert "names no loss" in one_error(lossctl("eval", REG, "-l", value))


def test_embed_needs_markdown_and_an_existing_image(tmp_path: Path) -> None:
    res = lossctl("eval", REG, "--format", "markdown", "--embed", str(tmp_path / "none.png"))
    assert "no such image" in one_error(res)
    res = lossctl("eval", REG, "--embed", "docs/images/dist.png")
    assert "pass --format markdown" in one_error(res)
    res = lossctl("compare", REG, GBR, "--format", "markdown", "--embed", "nowhere.svg")
    assert "no such image" in one_error(res)


# -- signals ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def slow_compare(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A comparison that takes a few seconds: 400k paired rows, many resamples."""
    path = tmp_path_factory.mktemp("signals") / "pair.csv"
    rng = np.random.default_rng(0)
    y = rng.normal(size=400_000)
    a = y + rng.normal(size=y.size)
    b = y + rng.normal(size=y.size)
    np.savetxt(path, np.column_stack([y, a, b]), delimiter=",", header="y_true,a,b",
               comments="", fmt="%.6f")  # fmt: skip
    return path


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_signals_end_the_run_with_128_plus_n(slow_compare: Path, sig: signal.Signals) -> None:
    proc = subprocess.Popen(
        ["lossctl", "compare", str(slow_compare), "-p", "a", "-p", "b", "--resamples",
         "200000", "-l", "mse,mae"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(2.5)  # past start-up and reading: inside the bootstrap
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert err.strip().splitlines() == [f"Error: interrupted by {sig.name}."]
    assert "Traceback" not in err


def test_an_ignored_hangup_stays_ignored(slow_compare: Path) -> None:
    """`nohup lossctl ...`: SIGHUP was ignored by the parent, so the run goes on (and a
    SIGTERM afterwards still ends it, so the run was really in progress)."""
    proc = subprocess.Popen(
        ["lossctl", "compare", str(slow_compare), "-p", "a", "-p", "b", "--resamples",
         "200000", "-l", "mse"],
        preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    time.sleep(2.5)  # inside the bootstrap
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGHUP)
    time.sleep(1.0)
    assert proc.poll() is None, proc.communicate()  # the hangup was ignored
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, err


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip("fault injection relies on Linux devices")


# -- concurrent writers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("writers")
    rng = np.random.default_rng(1)
    paths = []
    for name, n in (("a.csv", 300_000), ("b.csv", 200_000)):
        y = rng.normal(size=n)
        path = folder / name
        np.savetxt(path, np.column_stack([y, y + rng.normal(size=n)]), delimiter=",",
                   header="y_true,y_pred", comments="", fmt="%.6f")  # fmt: skip
        paths.append(path)
    return paths[0], paths[1]


@pytest.mark.parametrize("force", [True, False])
def test_concurrent_writers_leave_one_whole_file(
    tmp_path: Path, two_inputs: tuple[Path, Path], force: bool
) -> None:
    """Two runs writing the same --per-sample file at once: the file is one run's
    output, whole; a run that finds the other's file in place without --force
    keeps it and says so; no temporary file is left."""
    out = tmp_path / "out.csv"
    extra = ["--force"] if force else []
    for _ in range(3):
        out.unlink(missing_ok=True)
        procs = [
            subprocess.Popen(["lossctl", "eval", str(src), "-l", "mae", "-q", "--per-sample",
                              str(out), *extra], stderr=subprocess.PIPE, text=True)
            for src in two_inputs
        ]  # fmt: skip
        results = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
        assert any(code == 0 for code, _ in results), results
        for code, err in results:
            assert code == 0 or (not force and code == 2 and "exists" in err), (code, err)
        lines = out.read_text().splitlines()
        assert lines[0] == '"row_1based","y_true","y_pred","mae"'
        assert len(lines) - 1 in (300_000, 200_000)
        assert lines[-1].count(",") == 3
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_exits_are_clean_every_time(tmp_path: Path) -> None:
    """Arrow's reader threads could abort the interpreter's exit (exit 134, "terminate
    called without an active exception"): one run in 30 on JSON Lines from
    standard input. Forty runs, two at a time, all clean."""
    path = tmp_path / "s.jsonl"
    path.write_text('{"y_true": 1, "y_pred": 1.5}\n{"y_true": 2, "y_pred": 2.5}\n')
    for _ in range(20):
        procs = []
        for _ in range(2):
            with open(path) as stdin:
                procs.append(subprocess.Popen(
                    ["lossctl", "eval", "-", "--input-format", "jsonl", "-q"], stdin=stdin,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                ))  # fmt: skip
        for p in procs:
            _, err = p.communicate(timeout=60)
            assert p.returncode == 0 and err == "", (p.returncode, err)


def test_one_paired_row_is_not_evidence_on_dask(one_row: Path) -> None:
    pytest.importorskip("distributed")
    res = lossctl("compare", str(one_row), "-p", "a", "-p", "b", "--test", "ttest", "-l", "mse",
                  "--engine", "dask")  # fmt: skip
    assert "needs at least 2 paired rows, got 1" in one_error(res)
