"""Shared fixtures: the registry, sample inputs per task, a CLI runner."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from lossctl.losses import BoundLoss, LossSpec, builtin_registry
from lossctl.losses.spec import DISTRIBUTION_KINDS

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = ROOT / "sample_data"
#: Options a sample file needs (layouts that are never detected from names alone).
SAMPLE_OPTIONS: dict[str, tuple[str, ...]] = {
    "diabetes_gaussian": ("-p", "mean", "--std", "std"),
    "diabetes_forest": ("-p", "tree_*", "--kind", "ensemble"),
    "linnerud_multioutput": ("-t", "y_*", "-p", "pred_*"),
    "digits_multilabel": ("-t", "is_*", "-p", "prob_*"),
    "macro_forecasts": ("-p", "HoltWinters"),
    "breast_cancer_calibration": ("-p", "naive_bayes"),
}


def sample_files(suffix: str) -> list[Path]:
    """The sample prediction files of one format (a forecast's history, ``*_train``, holds
    no predictions)."""
    return sorted(p for p in SAMPLE_DATA.glob(f"*.{suffix}") if not p.stem.endswith("_train"))


def sample_args(path: Path) -> tuple[str, ...]:
    """The file and the options it needs."""
    return (str(path), *SAMPLE_OPTIONS.get(path.stem, ()))


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


#: The quantile levels of the registry-driven tests' quantile predictions.
TEST_LEVELS = (0.1, 0.25, 0.5, 0.75, 0.9)


def bind(spec: LossSpec) -> BoundLoss:
    """A spec bound with its defaults (and :data:`TEST_LEVELS` for a quantile set)."""
    levels = TEST_LEVELS if spec.prediction_kind == "quantiles" else ()
    return builtin_registry().loss(spec.name, spec.task, kind=spec.prediction_kind, levels=levels)


#: The scale a scaled forecast error (mase) divides by in the registry-driven tests: one
#: number for every row (histories are tested in test_forecast.py).
SCALE = 2.0


class OneScale:
    """A scaled loss with :data:`SCALE` for every row: the interface of a BoundLoss for
    tests that call ``cost`` and ``per_sample`` on every loss of the registry."""

    def __init__(self, loss: BoundLoss) -> None:
        self.loss = loss

    def cost(self, y: object, p: object, weight: object = None) -> float:
        return self.loss.cost(y, p, weight, scale=SCALE)  # type: ignore[arg-type]

    def per_sample(self, y: object, p: object, **kw: object) -> np.ndarray:
        return self.loss.per_sample(y, p, scale=SCALE, **kw)  # type: ignore[arg-type]


def bind_for_tests(spec: LossSpec) -> BoundLoss | OneScale:
    """:func:`bind`, with one scale for a scaled loss."""
    loss = bind(spec)
    return OneScale(loss) if spec.scaled else loss


def spec_id(spec: LossSpec) -> str:
    """``mse[regression]``; ``quantile[regression/quantiles]`` for a distribution loss."""
    kind = spec.prediction_kind
    return (
        f"{spec.name}[{spec.task}/{kind}]"
        if kind in DISTRIBUTION_KINDS
        else (f"{spec.name}[{spec.task}]")
    )


def valid_inputs(spec: LossSpec, n: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Inputs inside the domain of ``spec``: (y_true, y_pred) of n rows."""
    rng = np.random.default_rng(seed)
    kind = spec.prediction_kind
    if kind in DISTRIBUTION_KINDS:
        y = rng.normal(5.0, 2.0, n)
        centre = y + rng.normal(0.0, 1.0, n)
        if kind == "gaussian":
            return y, np.column_stack([centre, rng.uniform(0.2, 3.0, n)])
        if kind == "quantiles":
            z = np.array([-1.28155, -0.67449, 0.0, 0.67449, 1.28155])  # normal at TEST_LEVELS
            return y, centre[:, None] + rng.uniform(0.5, 2.0, (n, 1)) * z
        return y, centre[:, None] + rng.normal(0.0, 1.5, (n, 7))
    if spec.task == "multilabel":
        return rng.integers(0, 2, (n, 4)).astype(float), rng.uniform(0, 1, (n, 4))
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
    if spec.task == "multilabel":
        return y.copy()
    if spec.task == "multiclass":
        out = np.zeros((y.shape[0], 4))
        out[np.arange(y.shape[0]), y.astype(int)] = 1.0
        return out
    return y.copy()


#: Runs the CLI with CSV byte ranges of ``argv[1]`` bytes and Parquet row groups read as
#: parallel parts (the thresholds are lowered in the process), and says on stderr whether
#: the parts were merged or the run fell back to one sequential pass.
SMALL_PARTS = """
import sys
from lossctl.inputs import readers
readers.PARALLEL_MIN_BYTES = 0
readers.PARALLEL_MIN_ROWS = 0
readers.PART_BYTES = int(sys.argv.pop(1))
import lossctl.flows.eval as flow
real = flow.run_parallel
def spy(prepared, parts, *args, **kwargs):
    out = real(prepared, parts, *args, **kwargs)
    state = "merged" if out is not None else "fell back"
    sys.stderr.write(f"PARALLEL {len(parts)} parts {state}\\n")
    return out
flow.run_parallel = spy
from lossctl.cli import main
main()
"""


def in_parts(tmp_path: Path, part_bytes: int, *args: object) -> dict[str, Any]:
    """The JSON of a run whose input was read in parallel parts (and merged)."""
    res = subprocess.run(
        [sys.executable, "-c", SMALL_PARTS, str(part_bytes), *map(str, args), "--json"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "Traceback" not in res.stderr
    parallel = [line for line in res.stderr.splitlines() if line.startswith("PARALLEL")]
    assert len(parallel) == 1 and parallel[0].endswith(" parts merged"), res.stderr
    assert int(parallel[0].split()[1]) > 2, res.stderr
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """An in-process Dask cluster of two worker processes (skipped without distributed)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=logging.CRITICAL,
    )  # fmt: skip
    yield cluster.scheduler_address
    cluster.close()
