"""--by and --id on every column type a Parquet or Feather file can hold.

pandas Categoricals of few categories are stored with int8 or int16 dictionary
indices, which were read as int32 ("buffer is smaller than requested size", exit 3).
Each group's cost is checked against pandas' groupby on the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

N = 240


def _table() -> pa.Table:
    rng = np.random.default_rng(5)
    y = rng.normal(size=N)
    g = rng.integers(0, 3, N)
    names = np.array(["north", "south", "east"])[g]
    day = [dt.date(2026, 1, 1) + dt.timedelta(days=int(v)) for v in g]
    return pa.table({
        "y_true": y,
        "y_pred": y + rng.normal(size=N),
        "cat_int8": pa.DictionaryArray.from_arrays(pa.array(g, pa.int8()), ["n", "s", "e"]),
        "cat_int16": pa.DictionaryArray.from_arrays(pa.array(g, pa.int16()), ["n", "s", "e"]),
        "cat_uint8": pa.DictionaryArray.from_arrays(pa.array(g, pa.uint8()), ["n", "s", "e"]),
        "bool": pa.array(g == 1),
        "int8": pa.array(g, pa.int8()),
        "int16": pa.array(g, pa.int16()),
        "int32": pa.array(g, pa.int32()),
        "int64": pa.array(g, pa.int64()),
        "uint32": pa.array(g, pa.uint32()),
        "float": pa.array(g.astype(float) + 0.5),
        "string": pa.array(names),
        "large_string": pa.array(names, pa.large_string()),
        "date": pa.array(day, pa.date32()),
        "timestamp": pa.array([dt.datetime(2026, 1, 1, int(v)) for v in g], pa.timestamp("ms")),
        "row_id": pa.array(np.arange(N), pa.int64()),
    })  # fmt: skip


GROUP_COLUMNS = [c for c in _table().column_names if c not in ("y_true", "y_pred", "row_id")]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("types")
    table = _table()
    pq.write_table(table, folder / "t.parquet")
    feather.write_feather(table, folder / "t.feather")
    # A real pandas Categorical, as `df.to_parquet` writes it.
    frame = table.select(["y_true", "y_pred", "string"]).to_pandas()
    frame["region"] = frame["string"].astype("category")
    frame.to_parquet(folder / "pandas.parquet")
    return {"parquet": folder / "t.parquet", "feather": folder / "t.feather",
            "pandas": folder / "pandas.parquet"}  # fmt: skip


def _costs_by(path: Path, by: str) -> dict[str, float]:
    res = subprocess.run(["lossctl", "eval", str(path), "-l", "mse", "--by", by, "--json"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert res.returncode == 0, res.stderr
    return {g: v["losses"]["mse"]["cost"] for g, v in json.loads(res.stdout)["groups"].items()}


def _expected(by: str) -> list[float]:
    frame = _table().to_pandas()
    err = (frame["y_true"] - frame["y_pred"]) ** 2
    return sorted(err.groupby(frame[by].astype(str), observed=True).mean().tolist())


@pytest.mark.parametrize("fmt", ["parquet", "feather"])
@pytest.mark.parametrize("by", GROUP_COLUMNS)
def test_by_on_every_column_type(files: dict[str, Path], fmt: str, by: str) -> None:
    got = _costs_by(files[fmt], by)
    want = _expected(by)
    assert len(got) == len(want) == (2 if by == "bool" else 3)
    assert sorted(got.values()) == pytest.approx(want, rel=1e-12)


def test_by_on_a_pandas_categorical(files: dict[str, Path]) -> None:
    got = _costs_by(files["pandas"], "region")
    assert set(got) == {"north", "south", "east"}
    frame = pd.read_parquet(files["pandas"])
    err = (frame["y_true"] - frame["y_pred"]) ** 2
    want = err.groupby(frame["region"], observed=True).mean()
    for name, cost in got.items():
        assert cost == pytest.approx(want[name], rel=1e-12)


@pytest.mark.parametrize("fmt", ["parquet", "feather"])
@pytest.mark.parametrize("column", ["row_id", "string", "cat_int8", "date", "timestamp"])
def test_id_on_column_types(tmp_path: Path, files: dict[str, Path], fmt: str, column: str) -> None:
    out = tmp_path / "out.parquet"
    res = subprocess.run(["lossctl", "eval", str(files[fmt]), "-l", "mse", "--id", column,
                          "--per-sample", str(out), "-q"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert res.returncode == 0, res.stderr
    written = pq.read_table(out)
    assert written.num_rows == N and column in written.column_names
