"""CLI: --version, losses, explain, errors and exit codes, plugins, config."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lossctl import __version__
from lossctl.cli import app
from lossctl.losses import BUILTIN
from tests.conftest import ROOT

EXAMPLE_PLUGIN = ROOT / "examples" / "my_losses.py"


def run(runner, *args: str):
    return runner.invoke(app, list(args))


def test_version(runner):
    res = run(runner, "--version")
    assert res.exit_code == 0
    assert res.stdout.strip() == f"lossctl {__version__}"


def test_help_lists_commands(runner):
    res = run(runner, "--help")
    assert res.exit_code == 0
    for cmd in ("losses", "explain"):
        assert cmd in res.stdout


def test_every_command_has_help(runner):
    from typer.main import get_command

    group = get_command(app)
    for name, cmd in group.commands.items():  # type: ignore[attr-defined]
        assert cmd.help and cmd.help.strip(), name
        for param in cmd.params:
            if param.name != "help" and getattr(param, "param_type_name", "") == "option":
                assert param.help, f"{name} {param.name}"
        res = run(runner, name, "--help")
        assert res.exit_code == 0, name


def test_losses_table_lists_every_loss(runner):
    res = run(runner, "losses")
    assert res.exit_code == 0
    for spec in BUILTIN:
        assert spec.name in res.stdout


def test_losses_json(runner):
    res = run(runner, "losses", "--json")
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc["schema_version"] == 1
    names = [(d["name"], d["task"]) for d in doc["losses"]]
    assert names == [(s.name, s.task) for s in BUILTIN]
    huber = next(d for d in doc["losses"] if d["name"] == "huber")
    assert huber["params"][0] == {
        "name": "delta",
        "default": 1.0,
        "range": "> 0",
        "low": 0.0,
        "high": None,
        "closed": "right",
        "help": huber["params"][0]["help"],
    }
    rmse = next(d for d in doc["losses"] if d["name"] == "rmse")
    assert rmse["finalize"] == "sqrt"


def test_losses_task_filter_and_formats(runner):
    res = run(runner, "losses", "--task", "binary", "--format", "csv")
    assert res.exit_code == 0
    rows = list(csv.reader(io.StringIO(res.stdout)))
    assert rows[0][:3] == ["name", "aliases", "task"]
    assert {row[2] for row in rows[1:]} == {"binary"}
    assert len(rows) == 1 + sum(s.task == "binary" for s in BUILTIN)
    md = run(runner, "losses", "--format", "markdown")
    assert md.stdout.startswith("| name |")
    tsv = run(runner, "losses", "--format", "tsv")
    assert "\t" in tsv.stdout.splitlines()[0]


@pytest.mark.parametrize("spec", BUILTIN, ids=lambda s: f"{s.name}-{s.task}")
def test_explain_every_loss(runner, spec):
    res = run(runner, "explain", spec.name, "--task", spec.task)
    assert res.exit_code == 0, res.output
    out = " ".join(res.stdout.split())
    for needle in ("Formula", "Cost", "Matches", "What it measures", "Use it when", "Watch out"):
        assert needle in out
    for p in spec.params:
        assert p.name in out


def test_explain_alias_and_json(runner):
    res = run(runner, "explain", "log_loss", "--json")
    doc = json.loads(res.stdout)
    assert [d["name"] for d in doc["losses"]] == ["bce"]
    assert "probabilities" in doc["losses"][0]["use_when"]


def test_explain_name_shared_by_two_tasks_shows_both(runner):
    res = run(runner, "explain", "brier")
    assert res.exit_code == 0
    assert "binary loss" in res.stdout and "multiclass loss" in res.stdout


def test_explain_markdown(runner):
    res = run(runner, "explain", "huber", "--format", "markdown")
    assert res.stdout.startswith("## `huber`")
    assert "| `delta` | 1 | > 0 |" in res.stdout


def test_unknown_loss_exit_2_with_suggestion(runner):
    res = run(runner, "explain", "hubr")
    assert res.exit_code == 2
    assert res.stderr.strip() == (
        "Error: unknown loss 'hubr'. Did you mean 'huber'? Run 'lossctl losses' to list them all."
    )
    assert res.stdout == ""


def test_bad_option_is_one_line_exit_2(runner):
    res = run(runner, "losses", "--frobnicate")
    assert res.exit_code == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("Error: No such option") and "--frobnicate" in lines[0]
    assert "lossctl losses --help" in lines[0]


def test_bad_choice_exit_2(runner):
    res = run(runner, "losses", "--task", "ranking")
    assert res.exit_code == 2
    assert "ranking" in res.stderr


def test_json_conflicts_with_other_format(runner):
    res = run(runner, "losses", "--json", "--format", "csv")
    assert res.exit_code == 2
    assert "--json conflicts with --format csv" in res.stderr


def test_internal_error_exit_3_and_debug_traceback(runner, monkeypatch):
    import lossctl.render.catalog as catalog

    def boom(specs):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(catalog, "losses_json", boom)
    res = run(runner, "losses", "--json")
    assert res.exit_code == 3
    assert "internal error (RuntimeError: kaboom)" in res.stderr
    assert "Traceback" not in res.stderr
    res = run(runner, "losses", "--json", "--debug")
    assert res.exit_code == 3
    assert "Traceback" in res.stderr


# --- plugins -----------------------------------------------------------------


def test_plugin_loss_is_listed_and_explained(runner):
    res = run(runner, "losses", "--plugin", str(EXAMPLE_PLUGIN))
    assert res.exit_code == 0
    assert "asymmetric_mse *" in res.stdout
    assert "custom loss from a plugin" in res.stdout
    res = run(runner, "explain", "asymmetric_mse", "--plugin", str(EXAMPLE_PLUGIN))
    assert res.exit_code == 0
    assert "stock-out" in " ".join(res.stdout.split())


def test_plugin_loss_computes_through_the_registry():
    import numpy as np

    from lossctl.plugins import load_registry

    reg = load_registry([EXAMPLE_PLUGIN])
    loss = reg.loss("asymmetric_mse:under=3")
    # r = [-1, 2]: 3 * 1 + 4 = 7 over 2 rows.
    assert loss.cost(np.array([1.0, 0.0]), np.array([0.0, 2.0])) == 3.5
    assert loss.spec.origin.startswith("plugin ")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "raise ImportError('no module named foo')",
            "failed to import: ImportError: no module named foo",
        ),
        ("X = 1", "defines no LOSSES"),
        ("LOSSES = [1]", "1 is not a lossctl LossSpec"),
        (
            """
            from lossctl.losses import LossSpec
            LOSSES = [LossSpec(name="x", fn=abs, task="ranking", prediction_kind="value",
                               formula="f", summary="s", explain="e", reference="r")]
            """,
            "invalid loss spec 'x': task must be one of regression, binary, multiclass",
        ),
        (
            """
            from lossctl.losses import LossSpec
            LOSSES = [LossSpec(name="mse", fn=abs, task="regression", prediction_kind="value",
                               formula="f", summary="s", explain="e", reference="r")]
            """,
            "loss name 'mse' (regression)",
        ),
    ],
)
def test_bad_plugin_is_exit_2_naming_the_file(runner, tmp_path, source, message):
    path = tmp_path / "bad_plugin.py"
    path.write_text(textwrap.dedent(source))
    res = run(runner, "losses", "--plugin", str(path))
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("Error: ")
    assert message in res.stderr
    if "mse" not in message:
        assert str(path) in res.stderr
    assert "Traceback" not in res.stderr


def test_missing_plugin_file(runner, tmp_path):
    res = run(runner, "losses", "--plugin", str(tmp_path / "nope.py"))
    assert res.exit_code == 2
    assert "plugin file" in res.stderr and "not found" in res.stderr


def test_entry_point_plugin(monkeypatch):
    from importlib import metadata

    import lossctl.plugins as plugins

    class FakeEP:
        name = "mine"
        value = "my_losses:LOSSES"

        def load(self):
            from lossctl.plugins import load_plugin_file

            return load_plugin_file(EXAMPLE_PLUGIN)

    monkeypatch.setattr(metadata, "entry_points", lambda group: [FakeEP()])
    reg = plugins.load_registry()
    assert reg.get("asymmetric_mse").origin == "entry point 'mine' (my_losses:LOSSES)"


# --- config --------------------------------------------------------------------


def test_config_plugin_and_format(runner, tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.lossctl]\nplugin = ["{EXAMPLE_PLUGIN.as_posix()}"]\nformat = "json"\n'
    )
    (tmp_path / ".git").mkdir()  # the repository root: configs up to here count
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)  # found in a parent directory of the same repository
    res = run(runner, "losses", "--task", "regression")
    assert res.exit_code == 0, res.output
    names = [d["name"] for d in json.loads(res.stdout)["losses"]]
    assert "asymmetric_mse" not in names  # losses lists --plugin files only
    res = run(runner, "eval", str(ROOT / "sample_data" / "diabetes_regression.csv"), "-l",
              "asymmetric_mse")  # fmt: skip
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["plugins"] == [str(EXAMPLE_PLUGIN)]
    # The command line wins over the config; --no-config ignores it.
    assert run(runner, "losses", "--format", "csv").stdout.startswith("name,")
    res = run(runner, "losses", "--no-config", "--format", "csv")
    assert "asymmetric_mse" not in res.stdout


def test_config_unknown_key_is_exit_2(runner, tmp_path, monkeypatch):
    (tmp_path / "lossctl.toml").write_text('lose = "mse"\n')
    monkeypatch.chdir(tmp_path)
    res = run(runner, "losses")
    assert res.exit_code == 2
    assert "unknown key 'lose'" in res.stderr and "lossctl.toml" in res.stderr


def test_explicit_config_file(runner, tmp_path):
    cfg = tmp_path / "ci.toml"
    cfg.write_text('format = "markdown"\n')
    res = run(runner, "losses", "--config", str(cfg))
    assert res.stdout.startswith("| name |")
    res = run(runner, "losses", "--config", str(tmp_path / "missing.toml"))
    assert res.exit_code == 2 and "not found" in res.stderr
    cfg.write_text("format = \n")
    res = run(runner, "losses", "--config", str(cfg))
    assert res.exit_code == 2 and "not valid TOML" in res.stderr


# --- the installed command --------------------------------------------------------


def _lossctl() -> list[str]:
    exe = Path(sys.executable).with_name("lossctl")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "lossctl"]


def test_installed_command_runs():
    res = subprocess.run(
        [*_lossctl(), "losses", "--json"], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0
    assert len(json.loads(res.stdout)["losses"]) == len(BUILTIN)
    res = subprocess.run(
        [*_lossctl(), "explain", "nope"], capture_output=True, text=True, check=False
    )
    assert res.returncode == 2
    assert res.stderr.startswith("Error: unknown loss 'nope'")
    assert "Traceback" not in res.stderr


def test_python_dash_m():
    res = subprocess.run(
        [sys.executable, "-m", "lossctl", "--version"], capture_output=True, text=True, check=False
    )
    assert res.returncode == 0 and res.stdout.strip() == f"lossctl {__version__}"


def test_help_does_not_import_numpy_or_pandas():
    code = (
        "import sys; from lossctl.cli import app; "
        "from typer.testing import CliRunner; CliRunner().invoke(app, ['--help']); "
        "print(sorted(m for m in ('numpy', 'pandas', 'pyarrow', 'scipy') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]"


def test_explain_without_a_name_is_a_guide(runner):
    res = run(runner, "explain")
    assert res.exit_code == 0
    text = " ".join(res.stdout.split())
    for needle in ("Loss and cost", "gradient", "huber", "hinge", "cross_entropy"):
        assert needle in text
    doc = json.loads(run(runner, "explain", "--json").stdout)
    assert doc["guide"][0]["title"] == "Loss and cost"
