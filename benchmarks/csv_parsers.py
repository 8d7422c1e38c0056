"""The CSV parsers lossctl could use, reading the two columns of the benchmark CSV and
summing squared differences (parse + the least work), each in a fresh process.

Usage: python benchmarks/csv_parsers.py [--rows 10000000] [--repeats 3]

  lossctl reader   lossctl's own reader: pyarrow's streaming CSV reader over byte-range
                   parts, one per thread (lossctl.inputs.readers), with its imports
  pyarrow parts    the same pyarrow calls without lossctl (no validation, no imports)
  polars batches   polars.scan_csv(...).select(2 columns).collect_batches()
  duckdb batches   DuckDB read_csv -> Arrow record batches

Each child prints its import time of the parser; the table shows the median wall time
of the whole process and its peak RSS. This is the measurement behind keeping pyarrow
as the one CSV parser (see the README's performance section).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import PY, make, run_set, show  # noqa: E402

CHILDREN = {
    "lossctl reader": """
        from concurrent.futures import ThreadPoolExecutor
        from lossctl.inputs.readers import open_file
        import numpy as np
        source = open_file(path)
        def part_sum(part):
            total = 0.0
            for chunk in source.chunks(["y_true", "y_pred"], part=part):
                t = chunk.table
                d = t.column(1).to_numpy() - t.column(0).to_numpy()
                total += float(np.square(d).sum())  # not np.dot: BLAS threads would compete
            return total
        parts = source.parts(2)
        with ThreadPoolExecutor(2) as pool:
            print(sum(pool.map(part_sum, parts)))
    """,
    "pyarrow parts": """
        import os
        from concurrent.futures import ThreadPoolExecutor
        import numpy as np
        import pyarrow as pa, pyarrow.csv as pcsv
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            header = f.readline()
            names = [n.strip('"') for n in header.decode().strip().split(",")]
            cuts = [0]
            for i in range(1, 32):  # line ends (the file has no quoted line ends)
                f.seek(size * i // 32); f.readline(); cuts.append(f.tell())
        cuts.append(size)
        types = {"y_true": pa.float64(), "y_pred": pa.float64()}
        def part_sum(i):
            with pa.OSFile(path) as f:
                data = pa.BufferReader(f.read_at(cuts[i + 1] - cuts[i], cuts[i]))
            reader = pcsv.open_csv(
                data,
                read_options=pcsv.ReadOptions(block_size=4 << 20, use_threads=False,
                                              column_names=None if i == 0 else names),
                parse_options=pcsv.ParseOptions(newlines_in_values=True),
                convert_options=pcsv.ConvertOptions(include_columns=["y_true", "y_pred"],
                                                    column_types=types),
            )
            total = 0.0
            for b in reader:
                d = b.column(1).to_numpy() - b.column(0).to_numpy()
                total += float(np.square(d).sum())  # not np.dot: BLAS threads would compete
            return total
        with ThreadPoolExecutor(2) as pool:
            print(sum(pool.map(part_sum, range(len(cuts) - 1))))
    """,
    "polars batches": """
        import numpy as np
        import polars as pl
        total = 0.0
        lazy = pl.scan_csv(path).select(["y_true", "y_pred"])
        for df in lazy.collect_batches():
            d = df["y_pred"].to_numpy() - df["y_true"].to_numpy()
            total += float(np.square(d).sum())  # not np.dot: BLAS threads would compete
        print(total)
    """,
    "duckdb batches": """
        import numpy as np
        import duckdb
        total = 0.0
        rel = duckdb.sql(f"SELECT y_true, y_pred FROM read_csv('{path}')")
        for b in rel.fetch_record_batch(1 << 16):
            d = b.column(1).to_numpy() - b.column(0).to_numpy()
            total += float(np.square(d).sum())  # not np.dot: BLAS threads would compete
        print(total)
    """,
}

PRELUDE = "import sys, time\nt0 = time.perf_counter()\npath = sys.argv[1]\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    csv, _ = make(args.rows, HERE / "data")
    cmds = {
        name: [PY, "-c", PRELUDE + textwrap.dedent(code), str(csv)]
        for name, code in CHILDREN.items()
    }
    res = run_set(cmds, args.repeats)
    show(f"CSV parsers, 2 columns of {csv.name}", res, "lossctl reader")
    sums = {name: float(str(r["out"]).split()[-1]) for name, r in res.items()}
    spread = max(sums.values()) / min(sums.values()) - 1
    print(f"  (the sums agree to {spread:.1e})")


if __name__ == "__main__":
    main()
