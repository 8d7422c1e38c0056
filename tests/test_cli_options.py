"""Command-line behaviour that misled users: help printed twice, repeated options kept
silently, messages naming files out of order, warnings that reached only stderr, and
numpy's own warning lines. Each case failed before it was fixed."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_DATA

REG = str(SAMPLE_DATA / "diabetes_regression.csv")


def lossctl(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["lossctl", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)  # fmt: skip


@pytest.mark.parametrize("args", [[], ["plot"]], ids=["lossctl", "lossctl plot"])
def test_help_without_a_command_is_printed_once(args: list[str]) -> None:
    res = lossctl(*args)
    assert res.returncode == 2
    assert (res.stdout + res.stderr).count("Usage:") == 1


@pytest.mark.parametrize(
    "args, suggestion",
    [(["evl", REG], "'eval'"), (["plot", "curvs"], "'curves'"), (["los"], "'losses'")],
)
def test_a_mistyped_command_is_suggested_once(args: list[str], suggestion: str) -> None:
    """click and typer both added "Did you mean ...?" to the same message."""
    res = lossctl(*args)
    assert res.returncode == 2
    assert res.stderr.count("Did you mean") == 1, res.stderr
    assert f"Did you mean {suggestion}?" in res.stderr


def test_commands_are_built_when_looked_up() -> None:
    """`lossctl losses` builds only its own command: eval's, compare's and plot's modules
    (and their typer signatures) are not loaded."""
    import sys

    code = (
        "import sys, typer.main\n"
        "from lossctl.cli import app\n"
        "group = typer.main.get_command(app)\n"
        "assert list(group.commands) == ['eval', 'compare', 'diff', 'losses', 'explain', "
        "'recommend', 'plot']\n"
        "group.commands['losses']\n"
        "print(sorted(m for m in sys.modules if m.startswith('lossctl.cli.')))\n"
        "group.commands.items()\n"
        "print(sorted(m for m in sys.modules if m.startswith('lossctl.cli.')))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    first, after = res.stdout.splitlines()
    assert "lossctl.cli.catalog" in first
    assert not {"lossctl.cli.evaluate", "lossctl.cli.compare", "lossctl.cli.plot"} & set(
        ast.literal_eval(first)
    )
    assert {"lossctl.cli.evaluate", "lossctl.cli.compare", "lossctl.cli.plot"} <= set(
        ast.literal_eval(after)
    )


@pytest.mark.parametrize(
    "args, option",
    [
        (["eval", REG, "--by", "sex", "--by", "age"], "--by"),
        (["eval", REG, "--id=a", "--id", "b"], "--id"),
        (["eval", REG, "-w", "age", "--weight", "bmi"], "--weight"),
        (["compare", REG, "-p", "y_pred", "-p", "y_pred", "--seed", "1", "--seed", "2"],
         "--seed"),
        (["plot", "curves", "--width", "50", "--width", "60"], "--width"),
    ],
)  # fmt: skip
def test_an_option_of_one_value_given_twice_is_refused(args: list[str], option: str) -> None:
    res = lossctl(*args)
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith(f"Error: {option} takes one value, given 2 times")
    assert res.stderr.count("\n") == 1


def test_repeatable_options_still_repeat() -> None:
    res = lossctl("eval", REG, "-l", "mse", "-l", "mae", "--max", "mse=1e9", "--max",
                  "mae=1e9", "--json")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert set(json.loads(res.stdout)["losses"]) == {"mse", "mae"}


def test_differing_targets_are_named_in_command_line_order(tmp_path: Path) -> None:
    a = tmp_path / "a.csv"
    b = tmp_path / "b.csv"
    a.write_text("y_true,y_pred\n1,1\n2,2\n7930,3\n")
    b.write_text("y_true,y_pred\n1,1\n2,2\n11014.3,3\n")
    res = lossctl("compare", str(a), str(b), "--test", "none")
    assert res.returncode == 2
    assert f"targets of {a} and {b} first differ at row 3 (7930 vs 11014.3)" in res.stderr


def test_numpy_warnings_do_not_reach_stderr(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("y_true,y_pred\n1,1e308\n2,-1e308\n3,3\n")
    res = lossctl("eval", str(path), "-l", "mae")
    assert "RuntimeWarning" not in res.stderr and ".py:" not in res.stderr


def test_every_warning_printed_is_in_json(tmp_path: Path) -> None:
    path = tmp_path / "nan.csv"
    path.write_text("y_true,y_pred,b\n1,2,3\n2,,3\n3,3,4\n4,5,5\n")
    res = lossctl("eval", str(path), "-p", "y_pred", "--nan", "omit", "-l", "mse")
    assert res.stderr == "Warning: --nan omit dropped 1 of 4 rows.\n"
    res = lossctl("eval", str(path), "-p", "y_pred", "--nan", "omit", "-l", "mse", "--json")
    assert json.loads(res.stdout)["warnings"] == ["--nan omit dropped 1 of 4 rows."]
    res = lossctl("compare", str(path), "-p", "y_pred", "-p", "b", "--nan", "omit",
                  "--test", "none", "--json")  # fmt: skip
    (warning,) = json.loads(res.stdout)["warnings"]
    assert warning.startswith("--nan omit dropped 1 of 4 rows")
    assert res.stderr == f"Warning: {warning}\n"


@pytest.mark.parametrize("args", [["--help"], ["eval", "--help"], ["plot", "curves", "-h"], []])
def test_help_does_not_import_markdown_or_pygments(args: list[str]) -> None:
    """typer's help renderer imports rich.markdown and rich.traceback (markdown-it,
    pygments: most of the time of --help) for features lossctl turns off."""
    import sys

    cmd = [sys.executable, "-X", "importtime", "-m", "lossctl", *args]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == (2 if not args else 0), res.stderr[-500:]
    assert "Usage:" in res.stdout + res.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in res.stderr.splitlines()}
    assert "typer.rich_utils" in imported  # the help was rendered by typer's rich renderer
    assert not {m for m in imported if m.split(".")[0] in ("markdown_it", "pygments")}
    assert "rich.markdown" not in imported


def test_eval_of_a_small_float_file_imports_only_what_it_needs() -> None:
    """Start-up of `lossctl eval small.csv -q`: no pandas, scipy, rich (nothing to print),
    numpy.ma (np.unique imports it) or pyarrow.compute (a float column needs no cast)."""
    import sys

    cmd = [sys.executable, "-X", "importtime", "-m", "lossctl", "eval", REG, "-q"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-500:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in res.stderr.splitlines()}
    assert {"numpy", "pyarrow", "pyarrow.csv"} <= imported
    heavy = {"pandas", "scipy", "rich", "numpy.ma", "pyarrow.compute", "pyarrow.dataset"}
    assert heavy & imported == set()
