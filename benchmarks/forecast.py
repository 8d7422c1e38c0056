"""Scaled forecast errors over a panel: lossctl beside utilsforecast, in one run.

Usage: python benchmarks/forecast.py [--series 10000] [--history 1000] [--horizon 100]
                                     [--repeats 3]

  I  mase + rmsse (season 7) over a panel of --series daily series: --series x --horizon
     forecast rows (forecast_*.parquet: unique_id, ds, y, model) scaled by --series x
     --history history rows (train_*.parquet: unique_id, ds, y)
       lossctl eval FORECASTS -p model -l mase,rmsse --series unique_id --time ds
                    --train HISTORY --season 7 --json
     vs pandas.read_parquet of both files + utilsforecast.losses.mase and .rmsse (the
     pandas usage of its docs), each averaged over the ids, and vs pyarrow.parquet
     read_table of the same columns alone (the floor of any reader).
     Target: at least 2x faster than utilsforecast (<= 0.5x its time), bounded memory;
     both peaks are printed, and lossctl's mase and rmsse must equal utilsforecast's
     to a relative 1e-9.

y is a seasonal random walk (y_t = y_{t-7} + noise) times a per-series scale
10**uniform(0, 4); model = y + noise of the size of the series' step. Rows are sorted by
series, then time (Nixtla's usual layout, and the order lossctl streams the history
in; out of order it reads the history whole and sorts it). Row groups of 1,000,000 rows.

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
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import PY, lossctl_cmd, run_set, show, verdict

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SEASON = 7
BLOCK = 1_000_000
START = np.datetime64("2000-01-01", "ns")
DAY = np.timedelta64(1, "D").astype("timedelta64[ns]")

UTILSFORECAST_PEER = """
import sys, pandas as pd
from utilsforecast.losses import mase, rmsse
df = pd.read_parquet(sys.argv[1])
train_df = pd.read_parquet(sys.argv[2])
kw = dict(models=["model"], seasonality=7, train_df=train_df, id_col="unique_id",
          time_col="ds", target_col="y")
a = mase(df, **kw)["model"].mean()
b = rmsse(df, **kw)["model"].mean()
print(repr(float(a)), repr(float(b)))
"""

READ_PEER = """
import sys, pyarrow.parquet as pq
pq.read_table(sys.argv[1], columns=["unique_id", "ds", "y", "model"])
pq.read_table(sys.argv[2], columns=["unique_id", "ds", "y"])
"""


def make_panel(series: int, history: int, horizon: int) -> tuple[Path, Path]:
    """The forecast and history files, sorted by series then time."""
    tag = f"{series}x{history}+{horizon}"
    fc, train = DATA / f"forecast_{tag}.parquet", DATA / f"train_{tag}.parquet"
    if fc.exists() and train.exists():
        return fc, train
    rng = np.random.default_rng(3)
    length = history + horizon
    lanes = -(-length // SEASON)  # values per seasonal position, rounded up
    per_block = max(1, BLOCK // history)  # series per history row group
    ids = np.array([f"id{k:05d}" for k in range(series)])
    days = START + DAY * np.arange(length)
    tmp_fc, tmp_train = fc.with_suffix(".tmp"), train.with_suffix(".tmp")
    train_writer = None
    forecast_parts = []
    for first in range(0, series, per_block):
        n = min(per_block, series - first)
        scale = 10.0 ** rng.uniform(0.0, 4.0, n)
        steps = rng.normal(0.0, 1.0, (n, lanes, SEASON))
        steps[:, 0, :] = 10.0 + rng.normal(0.0, 3.0, (n, SEASON))  # the first week
        y = (np.cumsum(steps, axis=1).reshape(n, -1)[:, :length]) * scale[:, None]
        model = y[:, history:] + rng.normal(0.0, 1.0, (n, horizon)) * scale[:, None]
        block_ids = ids[first : first + n]
        past = pa.table({
            "unique_id": pa.array(np.repeat(block_ids, history)),
            "ds": pa.array(np.tile(days[:history], n)),
            "y": pa.array(y[:, :history].ravel()),
        })  # fmt: skip
        train_writer = train_writer or pq.ParquetWriter(tmp_train, past.schema)
        train_writer.write_table(past, row_group_size=BLOCK)
        forecast_parts.append(pa.table({
            "unique_id": pa.array(np.repeat(block_ids, horizon)),
            "ds": pa.array(np.tile(days[history:], n)),
            "y": pa.array(y[:, history:].ravel()),
            "model": pa.array(model.ravel()),
        }))  # fmt: skip
    assert train_writer is not None
    train_writer.close()
    pq.write_table(pa.concat_tables(forecast_parts), tmp_fc, row_group_size=BLOCK)
    tmp_fc.rename(fc)
    tmp_train.rename(train)
    return fc, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--history", type=int, default=1_000)
    parser.add_argument("--horizon", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    lc = lossctl_cmd()
    fc, train = make_panel(args.series, args.history, args.horizon)
    mb = {p: p.stat().st_size / 1e6 for p in (fc, train)}
    groups = {p: pq.ParquetFile(p).metadata.num_row_groups for p in (fc, train)}
    print(f"data: {fc.name} ({args.series * args.horizon:,} rows, {mb[fc]:.0f} MB, "
          f"{groups[fc]} row groups), {train.name} ({args.series * args.history:,} rows, "
          f"{mb[train]:.0f} MB, {groups[train]} row groups); sorted by series, then time; "
          f"{args.repeats} runs each, alternating")  # fmt: skip

    i = run_set({
        "lossctl eval mase,rmsse": [*lc, "eval", str(fc), "-p", "model", "-l", "mase,rmsse",
                                    "--series", "unique_id", "--time", "ds", "--train",
                                    str(train), "--season", str(SEASON), "--json"],
        "pandas + utilsforecast": [PY, "-c", UTILSFORECAST_PEER, str(fc), str(train)],
        "pyarrow read_table only": [PY, "-c", READ_PEER, str(fc), str(train)],
    }, args.repeats)  # fmt: skip
    show(f"I: mase + rmsse, {args.series:,} series, {args.series * args.horizon:,} forecast "
         f"rows, {args.series * args.history:,} history rows", i,
         "pandas + utilsforecast")  # fmt: skip

    report = json.loads(str(i["lossctl eval mase,rmsse"]["out"]))
    ours = {k: report["losses"][k]["cost"] for k in ("mase", "rmsse")}
    peer = [float(x) for x in str(i["pandas + utilsforecast"]["out"]).split()]
    theirs = dict(zip(("mase", "rmsse"), peer, strict=True))
    if report["warnings"]:  # e.g. the history was not in order and was sorted in memory
        print("  lossctl warned: " + "; ".join(map(str, report["warnings"])))
    for k in ("mase", "rmsse"):
        rel = abs(ours[k] - theirs[k]) / abs(theirs[k])
        print(f"  {k}: lossctl {ours[k]!r}, utilsforecast {theirs[k]!r}")
        verdict(f"I {k} same value as utilsforecast", rel <= 1e-9, f"relative difference {rel:.1e}")
        if not rel <= 1e-9:
            raise SystemExit(f"lossctl's {k} differs from utilsforecast's: {rel:.1e} > 1e-9")

    t = {k: float(r["time"]) for k, r in i.items()}
    m = {k: float(r["rss"]) for k, r in i.items()}
    ratio = t["lossctl eval mase,rmsse"] / t["pandas + utilsforecast"]
    verdict("I mase+rmsse panel", ratio <= 0.5,
            f"lossctl/utilsforecast = {ratio:.2f} (target <= 0.5); peak MB lossctl "
            f"{m['lossctl eval mase,rmsse']:.0f} vs utilsforecast "
            f"{m['pandas + utilsforecast']:.0f} "
            f"(read only {m['pyarrow read_table only']:.0f})")  # fmt: skip
    floor = t["lossctl eval mase,rmsse"] / t["pyarrow read_table only"]
    print(f"  (lossctl takes {floor:.2f}x the time of reading the columns with pyarrow)")


if __name__ == "__main__":
    main()
