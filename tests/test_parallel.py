"""Parallel reading (CSV byte ranges, Parquet row groups) equals one sequential pass."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lossctl
from lossctl.cli import app
from lossctl.errors import InputError
from lossctl.inputs import readers, sources
from tests.conftest import SAMPLE_DATA, close

LOSSES = ["mse", "rmse", "mae", "huber:delta=20", "log_cosh"]


@pytest.fixture
def small_parts(monkeypatch):
    """Make even small files split into many parts."""
    monkeypatch.setattr(readers, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(readers, "PART_BYTES", 1500)
    monkeypatch.setattr(readers, "PARALLEL_MIN_ROWS", 0)


@pytest.fixture
def data(tmp_path):
    rng = np.random.default_rng(0)
    n = 3000
    y = rng.gamma(2, 10, n)
    df = pd.DataFrame({
        "id": np.arange(n),
        "y_true": y,
        "y_pred": y + rng.normal(0, 5, n),
        "w": rng.uniform(0, 2, n),
        "g": rng.choice(["a", "b", "c"], n),
    })  # fmt: skip
    csv = tmp_path / "d.csv"
    df.to_csv(csv, index=False)
    parquet = tmp_path / "d.parquet"
    pq.write_table(pa.Table.from_pandas(df, preserve_index=False), parquet, row_group_size=250)
    return df, csv, parquet


def assert_same(a, b):
    assert a.n_used == b.n_used and a.n_rows == b.n_rows and a.n_dropped == b.n_dropped
    for key, s in a.losses.items():
        for stat in ("cost", "sum", "std", "min", "max"):
            assert getattr(b.losses[key], stat) == close(getattr(s, stat))
    for g, gs in (a.groups or {}).items():
        assert b.groups[g].n_used == gs.n_used
        for key, s in gs.losses.items():
            assert b.groups[g].losses[key].cost == pytest.approx(s.cost, rel=1e-12)


@pytest.mark.parametrize("which", ["csv", "parquet"])
def test_parts_equal_one_pass(small_parts, data, which):
    df, csv, parquet = data
    path = str(csv if which == "csv" else parquet)
    source = sources.open_source(path)
    assert len(source.parts(2)) > 2
    one = lossctl.evaluate(path, LOSSES, weight="w", by="g", workers=1)
    many = lossctl.evaluate(path, LOSSES, weight="w", by="g", workers=2)
    assert_same(one, many)
    assert one.losses["mse"].cost == pytest.approx(
        np.average((df.y_pred - df.y_true) ** 2, weights=df.w), rel=1e-12
    )


def test_csv_parts_cover_every_line_once(small_parts, data):
    _, csv, _ = data
    source = sources.open_source(str(csv))
    parts = source.parts(2)
    assert parts[0].start == 0 and parts[-1].end == csv.stat().st_size
    assert all(a.end == b.start for a, b in itertools.pairwise(parts))
    ids = []
    for part in parts:
        for chunk in source.chunks(["id"], ["id"], part):
            ids += chunk.table.column("id").to_pylist()
    assert ids == [str(i) for i in range(3000)]


def test_per_sample_in_parallel_keeps_order_and_row_numbers(small_parts, data, tmp_path):
    df, csv, _ = data
    out = tmp_path / "per.parquet"
    lossctl.evaluate(str(csv), ["mae"], per_sample=str(out), workers=2)
    got = pd.read_parquet(out)
    assert got["row_1based"].tolist() == list(range(1, 3001))
    np.testing.assert_allclose(got["mae"], (df.y_pred - df.y_true).abs(), rtol=1e-15)


def test_errors_in_a_part_give_exact_rows(small_parts, tmp_path, data):
    df, _, _ = data
    bad = df.copy().astype({"y_pred": object})
    bad.loc[2500, "y_pred"] = "oops"
    bad.loc[[1200, 2700], "y_true"] = np.nan
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(InputError, match="found 'oops' at row 2501"):
        lossctl.evaluate(str(path), ["mse"], workers=2)
    bad.loc[2500, "y_pred"] = 1.0
    bad.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"2 rows of .* first at rows 1201, 2701\."):
        lossctl.evaluate(str(path), ["mse"], workers=2)
    report = lossctl.evaluate(str(path), ["mse"], nan="omit", workers=2)
    assert report.n_dropped == 2 and report.n_used == 2998


def test_eval_of_a_small_file_never_imports_pandas_or_scipy():
    code = (
        "import sys; from typer.testing import CliRunner; from lossctl.cli import app; "
        f"r = CliRunner().invoke(app, ['eval', r'{SAMPLE_DATA / 'diabetes_regression.csv'}', "
        "'--by', 'sex', '--json']); assert r.exit_code == 0, r.output; "
        "print(sorted(m for m in ('pandas', 'scipy', 'sklearn') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "[]"


def test_losses_and_explain_never_import_numpy():
    code = (
        "import sys; from typer.testing import CliRunner; from lossctl.cli import app; "
        "CliRunner().invoke(app, ['losses']); CliRunner().invoke(app, ['explain', 'mse']); "
        "print('numpy' in sys.modules)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == "False"


def test_progress_is_reported(small_parts, data):
    _, csv, _ = data

    class Recorder(lossctl.options.Progress):
        def __init__(self):
            self.total, self.rows = None, 0

        def start(self, total):
            self.total = total

        def advance(self, rows):
            self.rows += rows

    rec = Recorder()
    lossctl.evaluate(str(csv), ["mse"], progress=rec)
    assert rec.rows == 3000 and rec.total is not None and rec.total > 0


def test_no_progress_bar_in_pipes_or_json(runner, data):
    _, csv, _ = data
    res = runner.invoke(app, ["eval", str(csv), "--json"])
    assert res.exit_code == 0
    json.loads(res.stdout)
    assert res.stderr == ""
