"""The README stays honest: its catalogue, commands and test command match the code."""

from __future__ import annotations

import re
import shlex

import pytest

from lossctl.cli import app
from lossctl.losses import BUILTIN
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_catalogue_lists_every_loss_with_its_reference():
    for spec in BUILTIN:
        assert re.search(
            rf"\| `{spec.name}`[^\n]*\| {spec.task} \|[^\n]*{re.escape(spec.reference)}", README
        ), spec.name


def test_there_are_commands_to_check():
    assert len(COMMANDS) >= 2


def test_ci_runs_the_readme_test_command():
    assert "python3 -m pytest -q" in README
    assert "python3 -m pytest -q" in (ROOT / ".ci" / "run").read_text()


COMMANDS = [
    line[line.index("lossctl ") :].strip()
    for line in README.splitlines()
    if any(f"lossctl {cmd} sample_data/" in line for cmd in ("eval", "compare", "recommend"))
    # The CI workflows' steps need the file an earlier step wrote: tests/test_baseline.py
    # runs them in order, as the CI jobs do.
    and "baseline.json" not in line
]


@pytest.mark.parametrize("line", COMMANDS)
def test_readme_commands_on_sample_data_run(runner, line, monkeypatch):
    monkeypatch.chdir(ROOT)
    args = shlex.split(line.split("|")[0].split("#")[0])[1:]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
