"""--classes and --delimiter reach the options every data command builds (eval,
compare, recommend, plot), from the command line or the config file; bad values are
exit 2. Only the plumbing: what --classes means is tested where it is implemented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from lossctl.cli import app
from lossctl.errors import UsageError
from tests.conftest import SAMPLE_DATA

REG = str(SAMPLE_DATA / "diabetes_regression.csv")
RIDGE = str(SAMPLE_DATA / "diabetes_ridge.csv")
GBR = str(SAMPLE_DATA / "diabetes_gbr.csv")


class Caught(UsageError):
    """Raised by the stand-ins once they have the options (exit 2, no work done)."""


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Options handed to the engine by each command, recorded instead of run."""
    got: list[Any] = []

    def record(opts: Any, *args: Any, **kw: Any) -> Any:
        got.append(opts)
        raise Caught("stop")

    monkeypatch.setattr("lossctl.flows.eval.run_eval", record)
    monkeypatch.setattr("lossctl.flows.compare.run_compare", record)
    monkeypatch.setattr("lossctl.flows.recommend.run_recommend", record)
    monkeypatch.setattr("lossctl.plot.data.read_sample", record)
    monkeypatch.setattr("lossctl.plot.data.read_pair", record)
    return got


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--no-config"])


COMMANDS = [
    ["eval", REG],
    ["compare", RIDGE, GBR],
    ["recommend", REG],
    ["plot", "dist", REG, "-l", "mse"],
    ["plot", "residuals", REG],
    ["plot", "compare", RIDGE, GBR, "-l", "mse"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_classes_and_delimiter_reach_the_options(seen: list[Any], command: list[str]) -> None:
    res = invoke(*command, "--classes", " setosa, versicolor ,virginica", "--delimiter", "tab")
    assert res.exit_code == 2 and "stop" in res.stderr, res.output
    (opts,) = seen
    assert opts.classes == ("setosa", "versicolor", "virginica")
    assert opts.delimiter == "\t"


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_defaults_are_empty(seen: list[Any], command: list[str]) -> None:
    invoke(*command)
    (opts,) = seen
    assert opts.classes == () and opts.delimiter is None


@pytest.mark.parametrize(
    "value, message",
    [
        ("a,,b", "--classes has an empty class name ('a,,b')"),
        ("a,b,", "--classes has an empty class name"),
        ("", "--classes has an empty class name"),
        (" , ", "--classes has an empty class name"),
        ("a,b,a", "--classes names class 'a' twice"),
        ("a, b ,b", "--classes names class 'b' twice"),
    ],
)
def test_bad_classes_are_exit_2(seen: list[Any], value: str, message: str) -> None:
    for command in COMMANDS:
        res = invoke(*command, "--classes", value)
        assert res.exit_code == 2, res.output
        lines = res.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"Error: {message}"), res.stderr
    assert seen == []


def test_classes_given_twice_is_refused(seen: list[Any]) -> None:
    res = invoke("eval", REG, "--classes", "a,b", "--classes", "c,d")
    assert res.exit_code == 2 and "--classes takes one value, given 2 times" in res.stderr


@pytest.mark.parametrize("value", ["ab", "", "7", "q", '"', "\n"])
def test_bad_delimiters_are_exit_2_before_reading(seen: list[Any], value: str) -> None:
    res = invoke("eval", REG, "--delimiter", value)
    assert res.exit_code == 2
    assert res.stderr.startswith("Error: --delimiter must be one character"), res.stderr
    assert seen == []


def test_compare_and_plot_pass_them_to_each_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-model EvalOptions that compare and plot compare build carry both."""
    from lossctl.core import prepare as preparing
    from lossctl.flows import compare
    from lossctl.options import CompareOptions, EvalOptions
    from lossctl.plot import data

    got: list[EvalOptions] = []

    def prepare(opts: EvalOptions) -> Any:
        got.append(opts)
        raise Caught("stop")

    monkeypatch.setattr(compare, "prepare", prepare)
    monkeypatch.setattr(preparing, "prepare", prepare)  # plot imports it when called
    both = {"classes": ("a", "b", "c"), "delimiter": ";"}
    with pytest.raises(Caught):
        compare.run_compare(CompareOptions(files=[RIDGE, GBR], **both))  # type: ignore[arg-type]
    with pytest.raises(Caught):
        data.read_pair(CompareOptions(files=[RIDGE, GBR], **both))  # type: ignore[arg-type]
    assert [(o.classes, o.delimiter) for o in got] == [(("a", "b", "c"), ";")] * 2


def test_config_keys(seen: list[Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    conf = tmp_path / "lossctl.toml"
    conf.write_text('classes = ["x", "y"]\ndelimiter = "|"\n')
    res = CliRunner().invoke(app, ["eval", REG])
    assert res.exit_code == 2 and "stop" in res.stderr, res.output
    assert seen[-1].classes == ("x", "y") and seen[-1].delimiter == "|"
    conf.write_text('classes = "x, y ,z"\ndelimiter = "\\t"\n')
    CliRunner().invoke(app, ["eval", REG])
    assert seen[-1].classes == ("x", "y", "z") and seen[-1].delimiter == "\t"
    # The command line wins.
    CliRunner().invoke(app, ["eval", REG, "--classes", "p,q", "--delimiter", ";"])
    assert seen[-1].classes == ("p", "q") and seen[-1].delimiter == ";"
    n = len(seen)
    conf.write_text('classes = ["x", "x"]\n')
    res = CliRunner().invoke(app, ["eval", REG])
    assert res.exit_code == 2
    assert res.stderr.startswith(f"Error: 'classes' in {conf} names class 'x' twice")
    conf.write_text("classes = 3\n")
    res = CliRunner().invoke(app, ["eval", REG])
    assert res.exit_code == 2 and "key 'classes'" in res.stderr
    conf.write_text('delimiter = "::"\n')
    res = CliRunner().invoke(app, ["eval", REG])
    assert res.exit_code == 2 and "--delimiter must be one character" in res.stderr
    assert len(seen) == n


def test_config_keys_are_the_option_fields_and_long_options() -> None:
    """The keys of lossctl.toml derive from lossctl.options (one home of the options):
    the table below is 0.1's (which users' config files rely on) and the layout keys of
    0.2 (kind, levels, std, var); each key is a long option of eval or compare."""
    import typer.main

    from lossctl.config import KEYS

    assert KEYS == {
        "loss": "list", "target": "list", "pred": "list", "weight": "str", "id": "str",
        "by": "str", "task": "str", "nan": "str", "format": "str", "precision": "int",
        "max": "list", "plugin": "list", "input_format": "str", "delimiter": "str",
        "classes": "names", "chunk_size": "int", "test": "str", "resamples": "int",
        "seed": "int", "confidence": "float", "baseline": "str",
        # Baselines: tolerance is eval's N% / N / KEY=... list and compare's one number.
        "tolerance": "tolerances", "allow_missing": "bool", "max_group": "list",
        "horizon": "int", "pos_label": "str", "engine": "str", "scheduler": "str",
        "kind": "str", "levels": "numbers", "std": "str", "var": "str",
        # Forecasts (--train is an input of one run: not a config key).
        "series": "str", "time": "str", "season": "int",
    }  # fmt: skip
    group = typer.main.get_command(app)
    long_options = {
        opt
        for name in ("eval", "compare")
        for param in group.commands[name].params  # type: ignore[attr-defined]
        for opt in param.opts
        if opt.startswith("--")
    }
    assert {"--" + k.replace("_", "-") for k in KEYS} - long_options == set()
