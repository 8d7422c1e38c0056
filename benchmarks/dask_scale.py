"""Scale check: a partitioned Parquet dataset on the Dask engine vs the local engine.

Usage: python benchmarks/dask_scale.py [--rows 100000000] [--files 100] [--workers 2]

Generates (once) ``benchmarks/data/dataset_{rows}/date=.../part-N.parquet`` with the
columns of make_data.py, starts a ``distributed.LocalCluster`` with ``--workers``
single-threaded worker processes, and times

    lossctl eval DATASET -l mse,rmse,mae,huber,log_cosh --by date --engine dask --scheduler ...
    lossctl eval DATASET -l mse,rmse,mae,huber,log_cosh --by date               (local engine)

printing wall time, rows per second (in total and per worker), the peak RSS of each
Dask worker process and of the local run, and whether the two reports agree.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOSSES = "mse,rmse,mae,huber,log_cosh"


def generate(rows: int, files: int) -> Path:
    """The dataset, written by a child process (keeps this process small)."""
    root = HERE / "data" / f"dataset_{rows}"
    if (root / "_DONE").exists():
        return root
    code = f"""
import sys
from pathlib import Path
sys.path.insert(0, {str(HERE)!r})
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
root = Path({str(root)!r})
rows, files = {rows}, {files}
per_file = rows // files
rng = np.random.default_rng(1)
segments = np.array(["north", "south", "east", "west"])
for i in range(files):
    n = per_file if i < files - 1 else rows - per_file * (files - 1)
    y = rng.normal(100.0, 25.0, n)
    table = pa.table({{
        "id": np.arange(i * per_file, i * per_file + n, dtype=np.int64),
        "y_true": y,
        "y_pred": y + rng.standard_t(3, n) * 5.0,
        "segment": segments[rng.integers(0, 4, n)],
    }})
    folder = root / f"date=2026-{{1 + i // 28:02d}}-{{1 + i % 28:02d}}"
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / f"part-{{i:05d}}.parquet")
(root / "_DONE").write_text("")
"""
    subprocess.run([sys.executable, "-c", code], check=True)
    return root


def lossctl() -> list[str]:
    exe = Path(sys.executable).with_name("lossctl")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "lossctl"]


def timed(cmd: list[str]) -> tuple[float, float, dict]:
    """Wall seconds, peak RSS (MB, via GNU time) and the JSON report of one run."""
    gnu = Path("/usr/bin/time")
    full = [str(gnu), "-f", "%M", *cmd] if gnu.exists() else cmd
    t0 = time.perf_counter()
    res = subprocess.run(full, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - t0
    rss = float(res.stderr.strip().splitlines()[-1]) / 1024 if gnu.exists() else float("nan")
    return elapsed, rss, json.loads(res.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000_000)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    root = generate(args.rows, args.files)
    size = sum(p.stat().st_size for p in root.rglob("*.parquet")) / 2**20
    print(f"dataset: {root} ({args.files} files, {args.rows:,} rows, {size:.0f} MB)")
    cmd = [*lossctl(), "eval", str(root), "-l", LOSSES, "--by", "date", "--json"]

    cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)  # fmt: skip
    client = Client(cluster)
    try:
        t_dask, _, dask_doc = timed([*cmd, "--engine", "dask", "--scheduler",
                                     cluster.scheduler_address])  # fmt: skip
        import resource

        peaks = client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    finally:
        client.close()
        cluster.close()
    t_local, rss_local, local_doc = timed(cmd)

    worst = max(
        abs(dask_doc["losses"][k]["cost"] - v["cost"]) / abs(v["cost"])
        for k, v in local_doc["losses"].items()
    )
    print(f"  dask  ({args.workers} workers): {t_dask:7.1f} s  "
          f"{args.rows / t_dask / 1e6:6.1f} M rows/s  "
          f"({args.rows / t_dask / args.workers / 1e6:.1f} M rows/s per worker); "
          f"peak RSS per worker: {', '.join(f'{v:.0f} MB' for v in peaks.values())}")  # fmt: skip
    print(f"  local (threads):     {t_local:7.1f} s  {args.rows / t_local / 1e6:6.1f} M rows/s; "
          f"peak RSS {rss_local:.0f} MB")  # fmt: skip
    print(
        f"  same costs: max relative difference {worst:.1e}; "
        f"{len(local_doc['groups'])} groups by date"
    )


if __name__ == "__main__":
    main()
