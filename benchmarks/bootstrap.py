"""Paired bootstrap: lossctl vs scipy.stats.bootstrap on the same difference vector.

Usage: python benchmarks/bootstrap.py [--rows 1000000] [--resamples 2000] [--repeats 3]

Both compute a 95% percentile interval of the mean per-row loss difference of two
models over ``--rows`` paired rows with ``--resamples`` resamples. scipy is given
``batch`` so its index matrix fits in memory (its default holds resamples x rows
indices at once: 32 GB here). Runs alternate; the table shows medians, the ratio,
and each run's peak RSS (a fresh process per run).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
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
