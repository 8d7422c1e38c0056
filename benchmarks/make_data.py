"""Generate the synthetic regression files the benchmarks read (not committed).

Usage: python benchmarks/make_data.py [--rows 10000000] [--out benchmarks/data]

Writes ``big_{rows}.csv`` and ``big_{rows}.parquet`` with columns
``id, y_true, y_pred, segment`` from a fixed seed; existing files are kept.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

BLOCK = 1_000_000
SEGMENTS = np.array(["north", "south", "east", "west"])


def blocks(rows: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    for start in range(0, rows, BLOCK):
        n = min(BLOCK, rows - start)
        y = rng.normal(100.0, 25.0, n)
        noise = rng.standard_t(3, n) * 5.0  # heavy tails: outliers for the robust losses
        yield pa.table({
            "id": np.arange(start, start + n, dtype=np.int64),
            "y_true": y,
            "y_pred": y + noise,
            "segment": SEGMENTS[rng.integers(0, 4, n)],
        })  # fmt: skip


def make(rows: int, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    csv_path, pq_path = out / f"big_{rows}.csv", out / f"big_{rows}.parquet"
    if not csv_path.exists():
        tmp = csv_path.with_suffix(".tmp")
        with pcsv.CSVWriter(str(tmp), next(blocks(1)).schema) as w:
            for t in blocks(rows):
                w.write_table(t)
        tmp.rename(csv_path)
    if not pq_path.exists():
        tmp = pq_path.with_suffix(".tmp")
        with pq.ParquetWriter(str(tmp), next(blocks(1)).schema) as w:
            for t in blocks(rows):
                w.write_table(t)
        tmp.rename(pq_path)
    return csv_path, pq_path


def make_paired(rows: int, out: Path) -> Path:
    """``paired_{rows}.csv``: a target ``y`` and three models' predictions ``a, b, c``
    (fixed seed), for compare on one file with several --pred columns."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"paired_{rows}.csv"
    if path.exists():
        return path
    rng = np.random.default_rng(1)
    tmp = path.with_suffix(".tmp")
    writer = None
    for start in range(0, rows, BLOCK):
        n = min(BLOCK, rows - start)
        y = rng.gamma(2.0, 50.0, n)
        table = pa.table({
            "y": y,
            "a": y + rng.normal(0.0, 10.0, n),
            "b": y + rng.normal(0.5, 10.0, n),
            "c": y + rng.standard_t(4, n) * 8.0,
        })  # fmt: skip
        if writer is None:
            writer = pcsv.CSVWriter(str(tmp), table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    tmp.rename(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "data")
    args = parser.parse_args()
    for p in make(args.rows, args.out):
        print(p, f"{p.stat().st_size / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
