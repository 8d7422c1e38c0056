"""lossctl beside the tools it is measured against: wall time, peak memory, ratios, verdicts.

Usage: python benchmarks/run.py [--rows 10000000] [--repeats 3] [--only A,B,...]

Generates the data if missing (benchmarks/make_data.py and the scripts named below),
then runs each target's commands alternately ``--repeats`` times, every run a fresh
process, and prints the median wall time, the peak RSS, the ratios each target is
stated in and a PASS/MISS line per target:

  A  lossctl eval big.csv (5 losses)   vs DuckDB SQL and the polars script: <= 1.0x DuckDB,
                                       <= 0.8x polars, peak memory <= DuckDB's
                                       (pandas + scikit-learn shown for reference; the
                                       costs checked against its one-pass numbers)
  B  lossctl eval big.parquet          vs pyarrow.parquet.read_table of the two columns: <= 1.1x
  C  --by with 1,000,000 groups        vs plain eval: <= 2x time, <= 2x memory; 10,000,000
                                       groups with bounded memory (benchmarks/groups.py)
  D  compare --test bootstrap, 4 losses vs one loss: <= 1.5x; vs scipy.stats.bootstrap: >= 10x
                                       (benchmarks/bootstrap.py)
  E  A with --per-sample out.parquet   vs A: <= 1.5x
  F  start-up                          --help, losses <= 0.15 s; eval on 442 rows <= 0.3 s;
                                       recommend on 442 rows <= 0.5 s; each also as a ratio
                                       to `python -c pass` (the issue's machine: 0.02 s)
  G  compare one file, 3 --pred columns reads the file once: bytes read (rchar) <= 1.25x
                                       those of eval on the same file
  API lossctl.evaluate(df) vs scikit-learn (benchmarks/api.py)

The package is byte-compiled first (``compileall``), as an installed wheel is: with
PYTHONDONTWRITEBYTECODE set, an editable install would otherwise compile every module
on every start.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

LOSSES = "mse,rmse,mae,huber,log_cosh"
PY = sys.executable
READ_TABLE = (
    "import pyarrow.parquet as pq, sys; pq.read_table(sys.argv[1], columns=['y_true', 'y_pred'])"
)
GNU_TIME = Path("/usr/bin/time")
Result = dict[str, dict[str, float | str]]


def lossctl_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("lossctl")
    return [str(exe)] if exe.exists() else [PY, "-m", "lossctl"]


def make(rows: int, out: Path) -> tuple[Path, Path]:
    """Generate the data in a child process (keeps this process small, see measure())."""
    subprocess.run([PY, str(HERE / "make_data.py"), "--rows", str(rows), "--out", str(out)],
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return out / f"big_{rows}.csv", out / f"big_{rows}.parquet"


def measure(cmd: list[str]) -> tuple[float, float, str, str]:
    """Wall seconds, peak RSS in MB, stdout and stderr of one fresh process.

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
        lines = text.strip().splitlines()
        rss = float(lines[-1]) if GNU_TIME.exists() else usage.ru_maxrss
        out.seek(0)
        return elapsed, rss / 1024, out.read().decode(), "\n".join(lines[:-1])


def run_set(named: dict[str, list[str]], repeats: int) -> Result:
    """Run the commands alternately; medians of time, max of RSS."""
    times: dict[str, list[float]] = {k: [] for k in named}
    rss: dict[str, float] = dict.fromkeys(named, 0.0)
    outs: dict[str, tuple[str, str]] = {}
    for _ in range(repeats):
        for name, cmd in named.items():
            t, m, o, e = measure(cmd)
            times[name].append(t)
            rss[name] = max(rss[name], m)
            outs[name] = (o, e)
    return {
        k: {"time": statistics.median(v), "rss": rss[k], "out": outs[k][0], "err": outs[k][1]}
        for k, v in times.items()
    }


def show(title: str, res: Result, base: str) -> None:
    print(f"\n{title}")
    head = ("command", "median s", "peak RSS MB", "time ratio", "RSS ratio")
    print("  {:34s} {:>9s} {:>12s} {:>11s} {:>10s}".format(*head))
    for name, r in res.items():
        tr = float(r["time"]) / float(res[base]["time"])
        mr = float(r["rss"]) / float(res[base]["rss"])
        print(f"  {name:34s} {float(r['time']):9.2f} {float(r['rss']):12.0f} {tr:11.2f} {mr:10.2f}")


def verdict(label: str, ok: bool, text: str) -> None:
    print(f"  [{'PASS' if ok else 'MISS'}] {label}: {text}")


def t(res: Result, name: str) -> float:
    return float(res[name]["time"])


def rss(res: Result, name: str) -> float:
    return float(res[name]["rss"])


def target_a(lc: list[str], csv: Path, repeats: int) -> None:
    cmds = {
        "lossctl eval csv": [*lc, "eval", str(csv), "-l", LOSSES, "--json"],
        "duckdb": [PY, str(HERE / "peers" / "duckdb_script.py"), str(csv)],
        "polars": [PY, str(HERE / "peers" / "polars_script.py"), str(csv)],
        "pandas + sklearn (naive)": [PY, str(HERE / "peers" / "naive_pandas_sklearn.py"), str(csv)],
    }
    missing = [m for m in ("duckdb", "polars") if importlib.util.find_spec(m) is None]
    if missing:
        raise SystemExit(f"A needs {', '.join(missing)}: pip install -e '.[dev]'")
    a = run_set(cmds, repeats)
    show(f"A: five losses over a {csv.stat().st_size / 2**20:.0f} MB CSV", a, "duckdb")
    ta, td, tp = t(a, "lossctl eval csv"), t(a, "duckdb"), t(a, "polars")
    verdict("A vs DuckDB", ta <= td, f"{ta / td:.2f}x its time (target <= 1.0x)")
    verdict("A vs polars", ta <= 0.8 * tp, f"{ta / tp:.2f}x its time (target <= 0.8x)")
    ra, rd = rss(a, "lossctl eval csv"), rss(a, "duckdb")
    verdict("A memory vs DuckDB", ra <= rd, f"{ra:.0f} MB vs {rd:.0f} MB (target <= DuckDB's)")
    ours = json.loads(str(a["lossctl eval csv"]["out"]))["losses"]
    naive = [float(x) for x in str(a["pandas + sklearn (naive)"]["out"]).split()]
    rel = max(
        abs(ours[k]["cost"] - v) / abs(v) for k, v in zip(LOSSES.split(","), naive, strict=True)
    )
    verdict("A results vs one pass", rel <= 1e-12, f"max relative difference {rel:.1e}")


def target_b(lc: list[str], parquet: Path, repeats: int) -> None:
    b = run_set({
        "lossctl eval parquet": [*lc, "eval", str(parquet), "-l", LOSSES, "-q"],
        "pyarrow read_table (2 columns)": [PY, "-c", READ_TABLE, str(parquet)],
    }, repeats)  # fmt: skip
    show("B: Parquet", b, "pyarrow read_table (2 columns)")
    r = t(b, "lossctl eval parquet") / t(b, "pyarrow read_table (2 columns)")
    verdict("B vs read_table", r <= 1.1, f"{r:.2f}x (target <= 1.1x)")


def target_e(lc: list[str], csv: Path, repeats: int) -> None:
    with tempfile.TemporaryDirectory(dir=HERE / "data") as tmp:
        out = Path(tmp) / "per_sample.parquet"
        e = run_set({
            "lossctl eval csv": [*lc, "eval", str(csv), "-l", LOSSES, "-q"],
            "... --per-sample out.parquet": [*lc, "eval", str(csv), "-l", LOSSES, "-q",
                                             "--per-sample", str(out), "--force"],
        }, repeats)  # fmt: skip
        size = out.stat().st_size / 2**20
    show("E: per-sample output", e, "lossctl eval csv")
    r = t(e, "... --per-sample out.parquet") / t(e, "lossctl eval csv")
    verdict("E --per-sample", r <= 1.5, f"{r:.2f}x eval without it (target <= 1.5x); "
            f"the file {size:.0f} MB")  # fmt: skip


def target_f(lc: list[str], repeats: int) -> None:
    small = ROOT / "sample_data" / "diabetes_regression.csv"
    f = run_set({
        "python -c pass": [PY, "-c", "pass"],
        "lossctl --help": [*lc, "--help"],
        "lossctl losses": [*lc, "losses"],
        "lossctl eval (442 rows)": [*lc, "eval", str(small), "-q"],
        "lossctl recommend (442 rows)": [*lc, "recommend", str(small)],
    }, max(repeats, 5))  # fmt: skip
    show("F: start-up", f, "python -c pass")
    base = t(f, "python -c pass")
    targets = {"lossctl --help": 0.15, "lossctl losses": 0.15,
               "lossctl eval (442 rows)": 0.3, "lossctl recommend (442 rows)": 0.5}  # fmt: skip
    for name, target in targets.items():
        s = t(f, name)
        verdict(f"F {name}", s <= target, f"{s:.2f} s (target <= {target} s); "
                f"{s / base:.1f}x python -c pass here ({base:.3f} s), the issue's "
                f"target {target / 0.02:.1f}x of its 0.02 s")  # fmt: skip


#: Runs lossctl in this process and prints the bytes it read (/proc/self/io rchar) on
#: stderr just before the process ends (the CLI ends with os._exit).
READ_BYTES = textwrap.dedent(
    """
    import os, sys
    from lossctl.cli import main
    real_exit = os._exit
    def report(code):
        io = dict(line.split(": ") for line in open("/proc/self/io").read().splitlines())
        sys.stderr.write("rchar " + io["rchar"] + "\\n"); sys.stderr.flush(); real_exit(code)
    os._exit = report
    sys.argv = ["lossctl", *sys.argv[1:]]
    try:
        main()
    except SystemExit as exc:  # the exit without pyarrow loaded: keep its code
        report(exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1)
    report(0)
    """
)


def target_g(paired: Path, repeats: int) -> None:
    run = [PY, "-c", READ_BYTES]
    g = run_set({
        "eval --pred a": [*run, "eval", str(paired), "-t", "y", "--pred", "a", "-l", "mse", "-q"],
        "compare --pred a --pred b --pred c": [
            *run, "compare", str(paired), "-t", "y", "--pred", "a", "--pred", "b",
            "--pred", "c", "-l", "mse", "--test", "none", "-q"],
    }, repeats)  # fmt: skip
    show(f"G: compare on one file ({paired.stat().st_size / 2**20:.0f} MB)", g, "eval --pred a")

    def read(name: str) -> float:
        lines = [x for x in str(g[name]["err"]).splitlines() if x.startswith("rchar ")]
        return float(lines[-1].split()[1])

    ev, cp = read("eval --pred a"), read("compare --pred a --pred b --pred c")
    size = paired.stat().st_size
    verdict("G reads once", cp <= 1.25 * ev, f"compare read {cp / size:.2f}x the file's bytes, "
            f"eval {ev / size:.2f}x (target: compare <= 1.25x eval's)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", default="A,B,C,D,E,F,G,API", help="targets to run")
    args = parser.parse_args()
    only = {x.strip().upper() for x in args.only.split(",")}
    compileall.compile_dir(str(ROOT / "lossctl"), quiet=1)
    data = HERE / "data"
    csv, parquet = make(args.rows, data)
    lc = lossctl_cmd()
    print(
        f"data: {csv.name} ({csv.stat().st_size / 2**20:.0f} MB), "
        f"{parquet.name} ({parquet.stat().st_size / 2**20:.0f} MB); {os.cpu_count()} CPUs; "
        f"{args.repeats} runs each, alternating; load average {os.getloadavg()[0]:.2f}"
    )
    if "A" in only:
        target_a(lc, csv, args.repeats)
    if "B" in only:
        target_b(lc, parquet, args.repeats)
    if "C" in only:
        from groups import target_c_lines

        print("\nC: --by with many groups (benchmarks/groups.py)")
        for line in target_c_lines(lc, args.repeats):
            print(f"  {line}")
    if "D" in only:
        from bootstrap import target_d_lines

        print("\nD: compare --test bootstrap (benchmarks/bootstrap.py)")
        for line in target_d_lines(2_000_000, 1):  # scipy alone takes minutes a run
            print(f"  {line}")
    if "E" in only:
        target_e(lc, csv, args.repeats)
    if "F" in only:
        target_f(lc, args.repeats)
    if "G" in only:
        from make_data import make_paired

        target_g(make_paired(2_000_000, data), args.repeats)
    if "API" in only:
        from api import api_lines

        print(f"\nAPI: lossctl.evaluate(df) on {args.rows:,} rows vs scikit-learn")
        for line in api_lines(args.rows, args.repeats):
            print(f"  {line}")


if __name__ == "__main__":
    main()
