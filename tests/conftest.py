"""Shared fixtures: the registry, sample inputs per task, a CLI runner."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from lossctl.losses import LossSpec, builtin_registry

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = ROOT / "sample_data"


def close(expected: float | None, rel: float = 1e-12) -> object:
    """``pytest.approx(expected)``, or None itself (a statistic a loss leaves out)."""
    return None if expected is None else pytest.approx(expected, rel=rel)


def run_lossctl(tmp_path: Path, *args: object) -> subprocess.CompletedProcess[str]:
    """The installed ``lossctl`` run in ``tmp_path``."""
    return subprocess.run(
        ["lossctl", *map(str, args)], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )


def ok_json(tmp_path: Path, *args: object) -> dict:
    """The JSON of a run that succeeded without a traceback."""
    res = run_lossctl(tmp_path, *args, "--json")
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    return json.loads(res.stdout)


def refused(tmp_path: Path, *args: object) -> str:
    """The one ``Error:`` line of a run that exited 2 cleanly."""
    res = run_lossctl(tmp_path, *args)
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert "Traceback" not in res.stderr
    lines = [line for line in res.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, res.stderr
    return lines[0]


@pytest.fixture(scope="session")
def registry():
    return builtin_registry()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def valid_inputs(spec: LossSpec, n: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Inputs inside the domain of ``spec``: (y_true, y_pred) of n rows."""
    rng = np.random.default_rng(seed)
    if spec.task == "regression":
        y = rng.gamma(2.0, 2.0, n) + 0.1  # positive: valid for msle and the deviances too
        p = y * np.exp(rng.normal(0, 0.3, n))
        return y, p
    if spec.task == "binary":
        y = rng.integers(0, 2, n).astype(float)
        if spec.prediction_kind == "probability":
            return y, rng.uniform(0, 1, n)
        return y, rng.normal(0, 3, n)
    k = 4
    y = rng.integers(0, k, n).astype(float)
    if spec.prediction_kind == "probability":
        p = rng.dirichlet(np.ones(k), n)
        return y, p
    return y, rng.normal(0, 3, (n, k))


def perfect_prediction(spec: LossSpec, y: np.ndarray) -> np.ndarray:
    """The prediction equal to the truth, in the spec's prediction space."""
    if spec.task == "multiclass":
        out = np.zeros((y.shape[0], 4))
        out[np.arange(y.shape[0]), y.astype(int)] = 1.0
        return out
    return y.copy()
