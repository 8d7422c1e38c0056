"""Distribution forecasts: lossctl beside scoringrules and properscoring, in one run.

Usage: python benchmarks/probabilistic.py [--members-rows 1000000] [--quantile-rows 10000000]
                                          [--repeats 3] [--skip-properscoring]

  F  crps_ensemble, 1,000,000 rows x 50 members (Parquet)
       vs the same file read by pyarrow and scored by scoringrules (numpy backend, its
       default "qd" estimator, in blocks of 100,000 rows: its "nrg" estimator builds an
       n x M x M array, 20 GB here) and by properscoring
  G  the 5-level quantile set (quantile = mean pinball, wis, interval_score),
     10,000,000 rows (CSV) vs pandas.read_csv + scoringrules' quantile_score per level
  H  F and G against lossctl eval on a single-column file of the same byte size
     (target: within 1.5x)

Every command is a fresh process, run alternately; medians of wall time, peak RSS.
The data are generated once into benchmarks/data (not committed).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import PY, lossctl_cmd, run_set, show, verdict

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
Z = (-1.6448536269514722, -0.6744897501960817, 0.0, 0.6744897501960817, 1.6448536269514722)
BLOCK = 1_000_000

ENSEMBLE_PEER = """
import sys, numpy as np, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1])
y = t.column("y_true").to_numpy()
x = np.column_stack([t.column(c).to_numpy() for c in t.column_names if c.startswith("m")])
if sys.argv[2] == "scoringrules":
    import scoringrules as sr
    v = np.concatenate([sr.crps_ensemble(y[i:i + 100_000], x[i:i + 100_000], backend="numpy")
                        for i in range(0, y.size, 100_000)])
else:
    import properscoring as ps
    v = np.concatenate([ps.crps_ensemble(y[i:i + 100_000], x[i:i + 100_000])
                        for i in range(0, y.size, 100_000)])
print(repr(float(v.mean())))
"""

QUANTILE_PEER = """
import sys, numpy as np, pandas as pd, scoringrules as sr
levels = (0.05, 0.25, 0.5, 0.75, 0.95)
d = pd.read_csv(sys.argv[1], engine="pyarrow")
y = d["y_true"].to_numpy()
q = d[[f"q{round(100 * a):02d}" for a in levels]].to_numpy()
pin = np.mean([sr.quantile_score(y, q[:, k], a, backend="numpy").mean()
               for k, a in enumerate(levels)])
print(repr(float(pin)))
"""


def make_ensemble(rows: int, members: int) -> tuple[Path, Path]:
    """The ensemble file and a two-column file of about the same size."""
    path = DATA / f"ensemble_{rows}x{members}.parquet"
    point = DATA / f"point_like_ensemble_{rows}x{members}.parquet"
    rng = np.random.default_rng(0)
    if not path.exists():
        writer = None
        for start in range(0, rows, BLOCK // 4):
            n = min(BLOCK // 4, rows - start)
            centre = rng.normal(10.0, 3.0, n)
            cols = {"y_true": centre + rng.normal(0.0, 2.0, n)}
            noise = rng.normal(0.0, 2.0, (n, members))
            cols.update({f"m{k:02d}": centre + noise[:, k] for k in range(members)})
            table = pa.table(cols)
            writer = writer or pq.ParquetWriter(path, table.schema)
            writer.write_table(table)
        assert writer is not None
        writer.close()
    if not point.exists():
        _point_file(point, path.stat().st_size, parquet=True)
    return path, point


def make_quantiles(rows: int) -> tuple[Path, Path]:
    path = DATA / f"quantiles_{rows}.csv"
    point = DATA / f"point_like_quantiles_{rows}.csv"
    rng = np.random.default_rng(1)
    if not path.exists():
        with pa.OSFile(str(path), "wb") as sink:
            writer = None
            for start in range(0, rows, BLOCK):
                n = min(BLOCK, rows - start)
                mu = rng.normal(100.0, 20.0, n)
                sd = rng.uniform(2.0, 8.0, n)
                cols = {"y_true": mu + sd * rng.standard_t(4, n)}
                for a, z in zip(LEVELS, Z, strict=True):
                    cols[f"q{round(100 * a):02d}"] = mu + sd * z
                table = pa.table(cols)
                writer = writer or pcsv.CSVWriter(sink, table.schema)
                writer.write_table(table)
            assert writer is not None
            writer.close()
    if not point.exists():
        _point_file(point, path.stat().st_size, parquet=False)
    return path, point


def _point_file(path: Path, size: int, parquet: bool) -> None:
    """y_true, y_pred rows until the file is about ``size`` bytes."""
    rng = np.random.default_rng(2)
    per_row = 16 if parquet else 38  # float64 pairs; CSV text of two 17-digit floats
    rows = max(BLOCK, size // per_row)
    y = rng.normal(100.0, 25.0, rows)
    table = pa.table({"y_true": y, "y_pred": y + rng.normal(0.0, 5.0, rows)})
    if parquet:
        pq.write_table(table, path)
    else:
        pcsv.write_csv(table, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members-rows", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--quantile-rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-properscoring", action="store_true", help="it takes ~50 s")
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    lc = lossctl_cmd()
    ens, ens_point = make_ensemble(args.members_rows, args.members)
    qs, qs_point = make_quantiles(args.quantile_rows)
    mb = {p: p.stat().st_size / 1e6 for p in (ens, ens_point, qs, qs_point)}
    print(f"data: {ens.name} ({mb[ens]:.0f} MB), {ens_point.name} ({mb[ens_point]:.0f} MB), "
          f"{qs.name} ({mb[qs]:.0f} MB), {qs_point.name} ({mb[qs_point]:.0f} MB)")  # fmt: skip

    cmds = {
        "lossctl crps_ensemble": [*lc, "eval", str(ens), "-p", "m*", "--kind", "ensemble",
                                  "-l", "crps_ensemble", "--json"],
        "lossctl mae, same bytes": [*lc, "eval", str(ens_point), "-l", "mae", "-q"],
        "pyarrow + scoringrules": [PY, "-c", ENSEMBLE_PEER, str(ens), "scoringrules"],
    }  # fmt: skip
    if not args.skip_properscoring:
        cmds["pyarrow + properscoring"] = [PY, "-c", ENSEMBLE_PEER, str(ens), "properscoring"]
    f = run_set(cmds, args.repeats)
    show(f"F: crps_ensemble, {args.members_rows:,} rows x {args.members} members", f,
         "pyarrow + scoringrules")  # fmt: skip
    ours = json.loads(str(f["lossctl crps_ensemble"]["out"]))["losses"]["crps_ensemble"]["cost"]
    theirs = float(str(f["pyarrow + scoringrules"]["out"]))
    rel = abs(ours - theirs) / abs(theirs)
    verdict("F same value as scoringrules", rel <= 1e-9, f"relative difference {rel:.1e}")
    ratio = float(f["lossctl crps_ensemble"]["time"]) / float(f["pyarrow + scoringrules"]["time"])
    verdict("F vs scoringrules", ratio <= 1.0, f"{ratio:.2f}x (target <= 1x)")
    same = float(f["lossctl crps_ensemble"]["time"]) / float(f["lossctl mae, same bytes"]["time"])
    verdict("H ensemble vs one column of the same bytes", same <= 1.5, f"{same:.2f}x (<= 1.5x)")

    g = run_set({
        "lossctl quantile set": [*lc, "eval", str(qs), "-l", "quantile,wis,interval_score:"
                                 "coverage=0.9", "--json"],
        "lossctl mae, same bytes": [*lc, "eval", str(qs_point), "-l", "mae", "-q"],
        "pandas + scoringrules": [PY, "-c", QUANTILE_PEER, str(qs)],
    }, args.repeats)  # fmt: skip
    show(f"G: 5-level quantile set, {args.quantile_rows:,} rows", g, "pandas + scoringrules")
    ours = json.loads(str(g["lossctl quantile set"]["out"]))["losses"]["quantile"]["cost"]
    theirs = float(str(g["pandas + scoringrules"]["out"]))
    rel = abs(ours - theirs) / abs(theirs)
    verdict("G same mean pinball as scoringrules", rel <= 1e-9, f"relative difference {rel:.1e}")
    ratio = float(g["lossctl quantile set"]["time"]) / float(g["pandas + scoringrules"]["time"])
    verdict("G vs scoringrules", ratio <= 1.0, f"{ratio:.2f}x (three losses vs one; <= 1x)")
    same = float(g["lossctl quantile set"]["time"]) / float(g["lossctl mae, same bytes"]["time"])
    verdict("H quantile set vs one column of the same bytes", same <= 1.5, f"{same:.2f}x")


if __name__ == "__main__":
    main()
