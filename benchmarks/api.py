"""The Python API on an in-memory DataFrame: lossctl.evaluate(df) beside scikit-learn.

Usage: python benchmarks/api.py [--rows 10000000] [--runs 3]

  api-A  lossctl.evaluate(df, losses=["mse", "rmse", "mae", "mape", "msle"], target="y",
         pred="y_pred") on a --rows pandas DataFrame vs scikit-learn's
         mean_squared_error, root_mean_squared_error, mean_absolute_error,
         mean_absolute_percentage_error and mean_squared_log_error on the same frame's
         columns (``df["y"].to_numpy()``, ``df["y_pred"].to_numpy()``).
         Target: lossctl at least 3x faster (time ratio <= 1/3).
  api-C  the five costs agree to a relative 1e-9.
  api-M  the peak memory of the evaluation above the built DataFrame. lossctl converts the
         DataFrame to Arrow one block of rows at a time, so it must hold no copy of the
         float64 columns it reads beyond a few blocks. Target: lossctl's extra peak below a
         quarter of the two columns' size (40 MB of 160 MB at 10,000,000 rows; a copy of
         one whole column would be half of it). scikit-learn's is printed beside it.

The frame (fixed seed): ``y`` prices, log-normal around 160,000; ``y_pred`` the price
times a log-normal error factor (about 15%, 2% high on average); and columns the
evaluation must not touch: ``id`` (int64), ``region`` (categorical, 4 values) and a
float64 feature ``x`` (pandas keeps ``x``, ``y``, ``y_pred`` in one 2-D float block).

Each run is a fresh child process (``--child``) that imports the library, builds the
frame, calls the same function once on a 1,000-row frame (imports and registries loaded
on first use: reported, not timed), then times one call on the whole frame. Runs
alternate between the two; the table gives the median time of the call, the largest
extra peak and the process's own peak RSS. The extra peak is the high-water mark of
the process (VmHWM) during the call minus its RSS just before it: the mark is reset by
writing "5" to /proc/self/clear_refs (Linux), and where that does not work a thread
samples the RSS every millisecond. MB are 10^6 bytes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable

#: Five losses both lossctl and scikit-learn compute directly, and sklearn's function.
LOSSES = {
    "mse": "mean_squared_error",
    "rmse": "root_mean_squared_error",
    "mae": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error",
    "msle": "mean_squared_log_error",
}
TOOLS = ("lossctl", "scikit-learn")
WARM_ROWS = 1_000
SEED = 0
MB = 1e6
TIME_TARGET = 1 / 3
MEMORY_TARGET = 0.25  # of the two float64 columns' size
COST_TARGET = 1e-9


# -- the child: build the frame, time one call, measure its peak ------------------------


def build_frame(rows: int, seed: int = SEED) -> Any:
    """The DataFrame of the module's docstring."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    y = np.exp(rng.normal(12.0, 0.5, rows))
    x = np.log(y) + rng.normal(0.0, 0.3, rows)
    y_pred = y * np.exp(rng.normal(0.02, 0.15, rows))
    region = pd.Categorical.from_codes(rng.integers(0, 4, rows), ["north", "south", "east", "west"])
    return pd.DataFrame({
        "id": np.arange(rows, dtype=np.int64), "region": region, "x": x, "y": y, "y_pred": y_pred,
    })  # fmt: skip


def lossctl_costs(df: Any) -> dict[str, float]:
    import lossctl

    rep = lossctl.evaluate(df, losses=list(LOSSES), target="y", pred="y_pred")
    return {k: rep.cost(k) for k in LOSSES}


def sklearn_costs(df: Any) -> dict[str, float]:
    from sklearn import metrics

    y, p = df["y"].to_numpy(), df["y_pred"].to_numpy()
    return {k: float(getattr(metrics, fn)(y, p)) for k, fn in LOSSES.items()}


def _status() -> dict[str, int]:
    """VmRSS and VmHWM of this process, in bytes (empty where /proc is missing)."""
    out = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":")
                    out[key] = int(value.split()[0]) * 1024
    except OSError:
        pass
    return out


def _reset_peak() -> bool:
    """Reset the high-water mark to the current RSS; False where it did not work."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        return False
    s = _status()
    return bool(s) and s["VmHWM"] <= s["VmRSS"] + (4 << 20)


class _Sampler(threading.Thread):
    """The largest RSS seen, sampled every ``interval`` seconds until stop()."""

    def __init__(self, interval: float = 0.001) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak = 0
        self._stop_event = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")

    def run(self) -> None:
        with open("/proc/self/statm") as f:
            while not self._stop_event.is_set():
                f.seek(0)
                self.peak = max(self.peak, int(f.read().split()[1]) * self._page)
                time.sleep(self.interval)

    def stop(self) -> int:
        self._stop_event.set()
        self.join()
        return self.peak


def child(tool: str, rows: int) -> dict[str, Any]:
    """One measured run of ``tool`` (a fresh process)."""
    import gc
    import resource

    sys.path.insert(0, str(ROOT))  # this checkout's lossctl, not an installed one
    t0 = time.perf_counter()
    if tool == "lossctl":
        import lossctl  # noqa: F401

        fn = lossctl_costs
    else:
        import sklearn.metrics  # noqa: F401

        fn = sklearn_costs
    imported = time.perf_counter() - t0
    block_rows = 0
    if tool == "lossctl":
        from lossctl.inputs.readers import DEFAULT_CHUNK_SIZE

        block_rows = DEFAULT_CHUNK_SIZE
    warm = build_frame(WARM_ROWS, seed=SEED + 1)
    t0 = time.perf_counter()
    fn(warm)
    first = time.perf_counter() - t0
    del warm
    before = _status().get("VmRSS", 0)
    df = build_frame(rows)
    gc.collect()
    base = _status().get("VmRSS", 0)
    sampler = None
    method = "clear_refs"
    if not _reset_peak():
        method = "sampled"
        sampler = _Sampler()
        sampler.start()
    t0 = time.perf_counter()
    costs = fn(df)
    seconds = time.perf_counter() - t0
    peak = sampler.stop() if sampler is not None else _status().get("VmHWM", 0)
    return {
        "tool": tool,
        "seconds": seconds,
        "import_seconds": imported,
        "first_call_seconds": first,
        "costs": costs,
        "frame_bytes": int(df.memory_usage(deep=True).sum()),
        "columns_bytes": int(df["y"].nbytes + df["y_pred"].nbytes),
        "frame_rss_bytes": base - before,
        "extra_peak_bytes": max(0, peak - base),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "peak_method": method,
        "block_rows": block_rows,
    }


# -- the parent: alternate the children, medians, verdicts -------------------------------


@dataclass
class ApiResult:
    rows: int
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: The 1-minute load average before and after the runs (other work inflates times).
    load: tuple[float, float] = (0.0, 0.0)

    def median(self, tool: str, key: str = "seconds") -> float:
        return float(statistics.median(r[key] for r in self.runs[tool]))

    def most(self, tool: str, key: str) -> float:
        return float(max(r[key] for r in self.runs[tool]))

    def costs(self, tool: str) -> dict[str, float]:
        return dict(self.runs[tool][-1]["costs"])


def run_child(tool: str, rows: int) -> dict[str, Any]:
    cmd = [PY, str(Path(__file__).resolve()), "--child", tool, "--rows", str(rows)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def measure_api(rows: int = 10_000_000, runs: int = 3) -> ApiResult:
    """``runs`` runs of each tool, alternating, each a fresh child process."""
    res = ApiResult(rows, {t: [] for t in TOOLS})
    before = os.getloadavg()[0]
    for _ in range(runs):
        for tool in TOOLS:
            res.runs[tool].append(run_child(tool, rows))
    res.load = (before, os.getloadavg()[0])
    return res


def _rows_label(rows: int) -> str:
    return f"{rows / 1e6:g}M" if rows >= 1_000_000 else f"{rows:,}"


def _mb(n: float) -> str:
    return f"{n / MB:.0f} MB"


def detail_lines(res: ApiResult) -> list[str]:
    """The table of both tools and the costs side by side."""
    first = res.runs["lossctl"][0]
    runs = len(res.runs["lossctl"])
    out = [
        f"data: pandas DataFrame of {res.rows:,} rows, {_mb(first['frame_bytes'])} "
        f"(+{_mb(first['frame_rss_bytes'])} RSS to build); y, y_pred float64 "
        f"{_mb(first['columns_bytes'])}; {os.cpu_count()} CPUs; "
        f"{runs} run{'s' if runs != 1 else ''} each, alternating; peak by {first['peak_method']}; "
        f"load average {res.load[0]:.2f} before, {res.load[1]:.2f} after",
        "  {:14s} {:>9s} {:>18s} {:>10s} {:>11s} {:>14s} {:>12s}".format(
            "tool", "median s", "runs s", "import s", "1st call s", "extra peak MB",
            "peak RSS MB",
        ),
    ]  # fmt: skip
    for tool in TOOLS:
        each = " ".join(f"{r['seconds']:.2f}" for r in res.runs[tool])
        out.append(
            f"  {tool:14s} {res.median(tool):9.2f} {each:>18s} "
            f"{res.median(tool, 'import_seconds'):10.2f} "
            f"{res.median(tool, 'first_call_seconds'):11.2f} "
            f"{res.most(tool, 'extra_peak_bytes') / MB:14.0f} "
            f"{res.most(tool, 'peak_rss_bytes') / MB:12.0f}"
        )
    ours, theirs = res.costs("lossctl"), res.costs("scikit-learn")
    for k, fn in LOSSES.items():
        rel = abs(ours[k] - theirs[k]) / abs(theirs[k])
        out.append(f"  {k:5s} lossctl {ours[k]!r:24s} sklearn {fn} {theirs[k]!r} (rel {rel:.1e})")
    return out


def verdict_lines(res: ApiResult) -> list[str]:
    """The api-A, api-C and api-M lines: measured value, target, PASS or MISS."""

    def mark(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    t_ours, t_theirs = res.median("lossctl"), res.median("scikit-learn")
    ratio = t_ours / t_theirs
    ours, theirs = res.costs("lossctl"), res.costs("scikit-learn")
    rel = max(abs(ours[k] - theirs[k]) / abs(theirs[k]) for k in LOSSES)
    first = res.runs["lossctl"][0]
    extra = res.most("lossctl", "extra_peak_bytes")
    cols = res.most("lossctl", "columns_bytes")
    block = min(res.rows, first["block_rows"]) * 2 * 8  # lossctl's chunk of the two columns
    sk_extra = res.most("scikit-learn", "extra_peak_bytes")
    return [
        f"api-A  lossctl.evaluate(df) {_rows_label(res.rows)} rows, {len(LOSSES)} losses: "
        f"{t_ours:.2f} s vs scikit-learn {t_theirs:.2f} s  ratio {ratio:.2f}  "
        f"target <= {TIME_TARGET:.3f}  {mark(ratio <= TIME_TARGET)}",
        f"api-C  costs vs scikit-learn ({', '.join(LOSSES)}): max relative difference "
        f"{rel:.1e}  target <= {COST_TARGET:.0e}  {mark(rel <= COST_TARGET)}",
        f"api-M  extra peak memory {_mb(extra)} (columns {_mb(cols)}; {extra / block:.1f} "
        f"blocks of {_mb(block)}; scikit-learn {_mb(sk_extra)})  target < "
        f"{_mb(MEMORY_TARGET * cols)} (1/4 of the columns)  "
        f"{mark(extra < MEMORY_TARGET * cols)}",
    ]


def api_lines(rows: int = 10_000_000, runs: int = 3) -> list[str]:
    """Measure, and the verdict lines (for benchmarks/run.py and the like)."""
    return verdict_lines(measure_api(rows, runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=TOOLS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.rows)))
        return
    res = measure_api(args.rows, args.runs)
    for line in detail_lines(res) + verdict_lines(res):
        print(line)


if __name__ == "__main__":
    main()
