"""lossctl side by side with the scripts it replaces: wall time, peak memory, ratios.

Usage: python benchmarks/run.py [--rows 10000000] [--repeats 3] [--skip-huge]

Generates the data if missing (benchmarks/make_data.py), then runs each target's
commands alternately ``--repeats`` times, every run a fresh process, and prints
the median wall time and the peak RSS of each command and the ratios the targets
are stated in:

  A  lossctl eval big.csv (5 losses)      vs pandas.read_csv + scikit-learn, polars, DuckDB
  B  peak RSS of A                        vs the pandas script; a 50M-row CSV under 600 MB
  C  lossctl eval big.parquet             vs pandas.read_parquet(columns=[...]) alone
  D  lossctl --help / losses / explain    vs 0.3 s; eval on a 442-row file vs import pandas
  E  A with --per-sample out.parquet      vs A
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def make(rows: int, out: Path) -> tuple[Path, Path]:
    """Generate the data in a child process (keeps this process small, see measure())."""
    subprocess.run([PY, str(HERE / "make_data.py"), "--rows", str(rows), "--out", str(out)],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return out / f"big_{rows}.csv", out / f"big_{rows}.parquet"


LOSSES = "mse,rmse,mae,huber,log_cosh"
READ_PARQUET = "import pandas, sys; pandas.read_parquet(sys.argv[1], columns=['y_true', 'y_pred'])"
PY = sys.executable


def lossctl_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("lossctl")
    return [str(exe)] if exe.exists() else [PY, "-m", "lossctl"]


GNU_TIME = Path("/usr/bin/time")


def measure(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB, and stdout of one fresh process.

    The peak RSS comes from GNU time when present (a fork of this process would
    otherwise carry this process's own high-water mark into the child's figure).
    """
    wrapped = [str(GNU_TIME), "-f", "%M", *cmd] if GNU_TIME.exists() else cmd
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        err.seek(0)
        text = err.read().decode()
        if code != 0:
            raise SystemExit(f"failed ({code}): {' '.join(cmd)}\n{text}")
        rss = float(text.strip().splitlines()[-1]) if GNU_TIME.exists() else usage.ru_maxrss
        out.seek(0)
        return elapsed, rss / 1024, out.read().decode()


def run_set(named: dict[str, list[str]], repeats: int) -> dict[str, dict[str, float | str]]:
    """Run the commands alternately; medians of time, max of RSS."""
    times: dict[str, list[float]] = {k: [] for k in named}
    rss: dict[str, float] = dict.fromkeys(named, 0.0)
    outs: dict[str, str] = {}
    for _ in range(repeats):
        for name, cmd in named.items():
            t, m, o = measure(cmd)
            times[name].append(t)
            rss[name] = max(rss[name], m)
            outs[name] = o
    return {
        k: {"time": statistics.median(v), "rss": rss[k], "out": outs[k]} for k, v in times.items()
    }


def show(title: str, res: dict[str, dict[str, float | str]], base: str) -> None:
    print(f"\n{title}")
    head = ("command", "median s", "peak RSS MB", "time ratio", "RSS ratio")
    print("  {:28s} {:>9s} {:>12s} {:>11s} {:>10s}".format(*head))
    for name, r in res.items():
        tr = float(r["time"]) / float(res[base]["time"])
        mr = float(r["rss"]) / float(res[base]["rss"])
        print(f"  {name:28s} {float(r['time']):9.2f} {float(r['rss']):12.0f} {tr:11.2f} {mr:10.2f}")


def verdict(label: str, ok: bool, text: str) -> None:
    print(f"  [{'PASS' if ok else 'MISS'}] {label}: {text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-huge", action="store_true", help="skip the 50M-row run of B")
    args = parser.parse_args()
    data = HERE / "data"
    csv, parquet = make(args.rows, data)
    lc = lossctl_cmd()
    print(
        f"data: {csv.name} ({csv.stat().st_size / 2**20:.0f} MB), "
        f"{parquet.name} ({parquet.stat().st_size / 2**20:.0f} MB); {os.cpu_count()} CPUs; "
        f"{args.repeats} runs each, alternating"
    )

    # A and B
    cmds = {
        "lossctl eval csv": [*lc, "eval", str(csv), "-l", LOSSES, "--json"],
        "pandas + sklearn (naive)": [PY, str(HERE / "peers" / "naive_pandas_sklearn.py"), str(csv)],
    }
    if importlib.util.find_spec("polars"):
        cmds["polars"] = [PY, str(HERE / "peers" / "polars_script.py"), str(csv)]
    if importlib.util.find_spec("duckdb"):
        cmds["duckdb"] = [PY, str(HERE / "peers" / "duckdb_script.py"), str(csv)]
    a = run_set(cmds, args.repeats)
    show(f"A/B: five losses over {args.rows:,} CSV rows", a, "pandas + sklearn (naive)")
    ta, tn = float(a["lossctl eval csv"]["time"]), float(a["pandas + sklearn (naive)"]["time"])
    verdict("A vs naive", ta <= 0.6 * tn, f"{ta / tn:.2f}x (target <= 0.6x)")
    if "polars" in a:
        tp = float(a["polars"]["time"])
        verdict("A vs polars", ta <= 1.25 * tp, f"{ta / tp:.2f}x (target <= 1.25x)")
    if "duckdb" in a:
        td = float(a["duckdb"]["time"])
        print(f"  (DuckDB, the fastest peer: lossctl takes {ta / td:.2f}x its time)")
    ra, rn = float(a["lossctl eval csv"]["rss"]), float(a["pandas + sklearn (naive)"]["rss"])
    verdict("B RSS vs naive", ra <= 0.25 * rn, f"{ra / rn:.2f}x (target <= 0.25x)")
    # Equal to one-pass results (the naive script computes each number in one pass).
    ours = json.loads(str(a["lossctl eval csv"]["out"]))["losses"]
    naive = [float(x) for x in str(a["pandas + sklearn (naive)"]["out"]).split()]
    rel = max(
        abs(ours[k]["cost"] - v) / abs(v) for k, v in zip(LOSSES.split(","), naive, strict=True)
    )
    verdict(
        "results vs one pass", rel <= 1e-12, f"max relative difference {rel:.1e} (target <= 1e-12)"
    )

    if not args.skip_huge:
        huge_csv, _ = make(50_000_000, data)
        h = run_set({"lossctl eval 50M csv": [*lc, "eval", str(huge_csv), "-l", LOSSES, "-q"]}, 1)
        t, m = float(h["lossctl eval 50M csv"]["time"]), float(h["lossctl eval 50M csv"]["rss"])
        verdict("B 50M rows", m < 600, f"peak RSS {m:.0f} MB in {t:.1f} s (target < 600 MB)")

    # C
    c = run_set({
        "lossctl eval parquet": [*lc, "eval", str(parquet), "-l", LOSSES, "-q"],
        "pandas.read_parquet only": [PY, "-c", READ_PARQUET, str(parquet)],
    }, args.repeats)  # fmt: skip
    show("C: Parquet", c, "pandas.read_parquet only")
    tc = float(c["lossctl eval parquet"]["time"]) / float(c["pandas.read_parquet only"]["time"])
    verdict("C vs read_parquet", tc <= 1.5, f"{tc:.2f}x (target <= 1.5x)")

    # D
    small = ROOT / "sample_data" / "diabetes_regression.csv"
    d = run_set({
        "lossctl --help": [*lc, "--help"],
        "lossctl losses": [*lc, "losses"],
        "lossctl explain mse": [*lc, "explain", "mse"],
        "lossctl eval 442 rows": [*lc, "eval", str(small), "-q"],
        "python -c 'import pandas'": [PY, "-c", "import pandas"],
    }, max(args.repeats, 5))  # fmt: skip
    show("D: start-up", d, "python -c 'import pandas'")
    for name in ("lossctl --help", "lossctl losses", "lossctl explain mse"):
        t = float(d[name]["time"])
        verdict(f"D {name}", t <= 0.3, f"{t:.2f} s (target <= 0.3 s)")
    te = float(d["lossctl eval 442 rows"]["time"]) / float(d["python -c 'import pandas'"]["time"])
    verdict("D eval small vs import pandas", te <= 1.3, f"{te:.2f}x (target <= 1.3x)")

    # E
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "per_sample.parquet"
        e = run_set({
            "lossctl eval csv": [*lc, "eval", str(csv), "-l", LOSSES, "-q"],
            "... --per-sample out.parquet": [*lc, "eval", str(csv), "-l", LOSSES, "-q",
                                             "--per-sample", str(out), "--force"],
        }, args.repeats)  # fmt: skip
    show("E: per-sample output", e, "lossctl eval csv")
    t0, t1 = float(e["lossctl eval csv"]["time"]), float(e["... --per-sample out.parquet"]["time"])
    verdict(
        "E per-sample",
        t1 <= 1.5 * t0,
        f"{t1 / t0:.2f}x of A's time (target <= 1.5x); "
        f"peak RSS {float(e['... --per-sample out.parquet']['rss']):.0f} MB",
    )

    # The Python API on a pandas DataFrame (benchmarks/api.py)
    from api import api_lines

    print(f"\nAPI: lossctl.evaluate(df) on {args.rows:,} rows vs scikit-learn")
    for line in api_lines(args.rows, args.repeats):
        print(f"  {line}")


if __name__ == "__main__":
    main()
