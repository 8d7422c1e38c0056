"""Paired bootstrap: lossctl vs scipy.stats.bootstrap on the same difference vector.

Usage: python benchmarks/bootstrap.py [--rows 1000000] [--resamples 2000] [--repeats 3]
       python benchmarks/bootstrap.py --target-d [--rows 2000000] [--repeats 3]

Both compute a 95% percentile interval of the mean per-row loss difference of two
models over ``--rows`` paired rows with ``--resamples`` resamples. scipy is given
``batch`` so its index matrix fits in memory (its default holds resamples x rows
indices at once: 32 GB here). Runs alternate; the table shows medians, the ratio,
and each run's peak RSS (a fresh process per run).

``--target-d`` (:func:`target_d_lines`, also run by ``benchmarks/run.py``) times whole
commands instead, each a fresh process: ``lossctl compare`` with ``--test bootstrap``
(2000 resamples) on a file of ``--rows`` paired rows with four losses and with one, and
a script that reads the same file and runs ``scipy.stats.bootstrap`` on the one loss's
per-row differences.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    import numpy as np
    which, rows, resamples = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rng = np.random.default_rng(0)
    a = rng.gamma(2.0, 1.0, rows)           # per-row losses of the baseline
    b = a + rng.normal(0.01, 0.5, rows)     # per-row losses of the candidate
    t0 = time.perf_counter()
    if which == "lossctl":
        from lossctl.core import stats
        r = stats.bootstrap(a, b, resamples=resamples, seed=0)
        lo, hi = r.ci
    else:
        from scipy import stats as sps
        res = sps.bootstrap((b - a,), np.mean, n_resamples=resamples, batch=50,
                            method="percentile", rng=np.random.default_rng(0))
        lo, hi = res.confidence_interval.low, res.confidence_interval.high
    elapsed = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": elapsed, "rss": rss, "ci": [float(lo), float(hi)]}))
    """
)


def run(which: str, rows: int, resamples: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, which, str(rows), str(resamples)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout)


#: Target D: the losses of the four-loss run, the resamples (lossctl's default).
LOSSES_D = "mse,mae,huber,log_cosh"
RESAMPLES_D = 2000

MAKE_PAIRED = textwrap.dedent(
    """
    import sys
    import numpy as np, pyarrow as pa, pyarrow.parquet as pq
    rows, out = int(sys.argv[1]), sys.argv[2]
    rng = np.random.default_rng(0)
    y = rng.normal(size=rows)
    a = y + rng.normal(size=rows)               # the baseline's predictions
    b = y + rng.normal(0.01, 1.0, size=rows)    # the candidate's
    pq.write_table(pa.table({"y": y, "a": a, "b": b}), out)
    """
)

#: scipy on target D's statistic: the file read, the mse difference per row, the paired
#: bootstrap of its mean (percentile interval, like lossctl's).
SCIPY_D = textwrap.dedent(
    """
    import sys
    import numpy as np, pyarrow.parquet as pq
    from scipy import stats
    path, resamples = sys.argv[1], int(sys.argv[2])
    t = pq.read_table(path, columns=["y", "a", "b"])
    y, a, b = (t.column(c).to_numpy() for c in ("y", "a", "b"))
    d = (b - y) ** 2 - (a - y) ** 2
    res = stats.bootstrap((d,), np.mean, n_resamples=resamples, method="percentile",
                          batch=max(1, 10**8 // d.size), rng=np.random.default_rng(0))
    print(res.confidence_interval.low, res.confidence_interval.high)
    """
)


def lossctl_cmd() -> list[str]:
    """The installed ``lossctl``, else ``python -m lossctl``."""
    exe = Path(sys.executable).with_name("lossctl")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "lossctl"]


def paired_file(rows: int, folder: Path) -> Path:
    """A Parquet file of ``rows`` rows (y, a, b), made once (in a child process)."""
    path = folder / f"paired_{rows}.parquet"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(".tmp")
        subprocess.run([sys.executable, "-c", MAKE_PAIRED, str(rows), str(part)], check=True)
        part.replace(path)
    return path


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system, every thread) seconds of one fresh process, which must
    succeed. On a shared machine the CPU seconds vary less than the wall time."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return elapsed, usage.ru_utime + usage.ru_stime


def target_d_lines(rows: int, repeats: int) -> list[str]:
    """Target D of the performance issue, one verdict a line: ``compare --test bootstrap``
    with four losses in at most 1.5 times the time of one, and at least 10 times faster
    than ``scipy.stats.bootstrap`` on the one loss. Median wall times of ``repeats``
    alternating runs, each a fresh process (reading the file included on both sides)."""
    path = paired_file(rows, HERE / "data")
    base = [*lossctl_cmd(), "compare", str(path), "-p", "a", "-p", "b", "-t", "y",
            "--test", "bootstrap", "--resamples", str(RESAMPLES_D), "-q"]  # fmt: skip
    cmds = {
        "one": [*base, "-l", "mse"],
        "four": [*base, "-l", LOSSES_D],
        "scipy": [sys.executable, "-c", SCIPY_D, str(path), str(RESAMPLES_D)],
    }
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in cmds}
    for _ in range(repeats):
        for name, cmd in cmds.items():
            runs[name].append(timed(cmd))
    wall = {k: statistics.median(t for t, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
    ratio, speed = wall["four"] / wall["one"], wall["scipy"] / wall["one"]
    return [
        f"[{'PASS' if ratio <= 1.5 else 'MISS'}] D four losses vs one: {ratio:.2f}x "
        f"(target <= 1.5x); {wall['four']:.1f} s vs {wall['one']:.1f} s wall, CPU "
        f"{cpu['four'] / cpu['one']:.2f}x; {rows:,} rows, {RESAMPLES_D} resamples, "
        f"median of {repeats}",
        f"[{'PASS' if speed >= 10 else 'MISS'}] D vs scipy.stats.bootstrap: {speed:.1f}x "
        f"faster (target >= 10x); {wall['one']:.1f} s vs {wall['scipy']:.1f} s wall, CPU "
        f"{cpu['scipy'] / cpu['one']:.1f}x",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=None, help="1,000,000 (--target-d: 2,000,000)")
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--target-d", action="store_true", help="time target D's commands")
    args = parser.parse_args()
    if args.target_d:
        for line in target_d_lines(args.rows or 2_000_000, args.repeats):
            print(line)
        return
    args.rows = args.rows or 1_000_000
    results: dict[str, list[dict]] = {"lossctl": [], "scipy": []}
    for _ in range(args.repeats):
        for which in ("lossctl", "scipy"):
            results[which].append(run(which, args.rows, args.resamples))
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in results.items()}
    rss = {k: max(r["rss"] for r in v) for k, v in results.items()}
    print(
        f"paired bootstrap, {args.rows:,} rows, {args.resamples} resamples, "
        f"{args.repeats} runs each (median wall time of the bootstrap call)"
    )
    print(f"{'tool':10s} {'median s':>10s} {'peak RSS MB':>12s}  95% interval")
    for k in results:
        ci = results[k][0]["ci"]
        print(f"{k:10s} {med[k]:10.2f} {rss[k] / 2**20:12.0f}  [{ci[0]:.5f}, {ci[1]:.5f}]")
    print(f"speed-up (scipy / lossctl): {med['scipy'] / med['lossctl']:.1f}x")


if __name__ == "__main__":
    main()
