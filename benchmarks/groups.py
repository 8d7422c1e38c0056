"""``lossctl eval --by`` with a million groups beside the same evaluation without groups.

Usage: python benchmarks/groups.py [--repeats 3]  (benchmarks/run.py: target_c_lines)

  C  ``lossctl eval by_1000000.csv --by grp -l mse,mae -q`` (10,000,000 rows, 1,000,000
     distinct groups, about 10 rows each) vs ``lossctl eval by_1000000.csv -l mse,mae -q``.
     Target: at most 2x the time and 2x the peak RSS of the evaluation without groups.

The file (fixed seed, made if missing, not committed) has the columns ``y_true``,
``y_pred`` (y_true plus a normal error) and ``grp`` (``id0`` ... ``id999999``, drawn
uniformly: in file order, not sorted). Every run is a fresh process, the two commands
alternate, the time is the median and the peak RSS (GNU time's %M) the largest.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
GNU_TIME = Path("/usr/bin/time")
ROWS = 10_000_000
GROUPS = 1_000_000
LOSSES = "mse,mae"


def data_path(groups: int = GROUPS) -> Path:
    return HERE / "data" / f"by_{groups}.csv"


def make(path: Path, rows: int = ROWS, groups: int = GROUPS, seed: int = 0) -> None:
    """Write the file, a million rows at a time (in this process: call it in a child)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    schema = pa.schema([("y_true", pa.float64()), ("y_pred", pa.float64()), ("grp", pa.string())])
    with pcsv.CSVWriter(str(tmp), schema) as out:
        for start in range(0, rows, 1_000_000):
            n = min(1_000_000, rows - start)
            y = rng.normal(0.0, 1.0, n)
            ids = pc.cast(pa.array(rng.integers(0, groups, n)), pa.string())
            grp = pc.binary_join_element_wise("id", ids, "")
            out.write_table(pa.table({"y_true": y, "y_pred": y + rng.normal(0, 1, n), "grp": grp}))
    tmp.replace(path)


def _measure(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh process."""
    wrapped = [str(GNU_TIME), "-f", "%M", *cmd] if GNU_TIME.exists() else cmd
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        err.seek(0)
        text = err.read().decode()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"failed ({code}): {' '.join(cmd)}\n{text}")
    kb = float(text.strip().splitlines()[-1]) if GNU_TIME.exists() else float(usage.ru_maxrss)
    return elapsed, kb / 1024


def target_c_lines(lossctl_cmd: list[str], repeats: int) -> list[str]:
    """Target C's result lines: the data made if missing, then ``repeats`` runs of each
    command, alternating."""
    path = data_path()
    if not path.exists():  # in a child: this process stays small
        subprocess.run([PY, str(Path(__file__).resolve()), "--make", str(path)], check=True)
    plain = [*lossctl_cmd, "eval", str(path), "-l", LOSSES, "-q"]
    by = [*plain, "--by", "grp"]
    runs: dict[str, list[tuple[float, float]]] = {"plain": [], "by": []}
    for _ in range(repeats):
        runs["plain"].append(_measure(plain))
        runs["by"].append(_measure(by))
    t = {k: statistics.median(r[0] for r in v) for k, v in runs.items()}
    m = {k: max(r[1] for r in v) for k, v in runs.items()}
    tr, mr = t["by"] / t["plain"], m["by"] / m["plain"]
    ok = tr <= 2 and mr <= 2
    return [
        f"plain eval: {t['plain']:.2f} s, {m['plain']:.0f} MB; --by grp: {t['by']:.2f} s, "
        f"{m['by']:.0f} MB (median of {repeats}, peak RSS; {path.name}, {GROUPS:,} groups)",
        f"[{'PASS' if ok else 'MISS'}] C --by {GROUPS:,} groups: {tr:.1f}x plain eval time "
        f"(target <= 2x), {mr:.1f}x memory (target <= 2x)",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--make", metavar="PATH", help="only write the data file to PATH")
    args = parser.parse_args()
    if args.make:
        make(Path(args.make))
        return
    exe = Path(PY).with_name("lossctl")
    cmd = [str(exe)] if exe.exists() else [PY, "-m", "lossctl"]
    for line in target_c_lines(cmd, args.repeats):
        print(line)


if __name__ == "__main__":
    main()
