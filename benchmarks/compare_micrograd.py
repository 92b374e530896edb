"""This engine against micrograd, side by side in one process.

Each workload runs on both engines, interleaved (the order alternates each round),
after warming both up; a garbage collection runs untimed before every timed call so
that neither engine pays for the other's garbage. Reports medians and the ratio.

    python benchmarks/compare_micrograd.py [--repeats N]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from _workloads import DemoStep, chain, micrograd_value

import autograd_scalar


def timed(
    f: Callable[[], Any], clock: Callable[[], float] = time.perf_counter
) -> float:
    gc.collect()
    start = clock()
    f()
    return clock() - start


def compare(
    runs: dict[str, Callable[[], Any]],
    repeats: int,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, float]:
    """Median seconds per call of each runner, interleaved, after a warm-up."""
    for f in runs.values():
        for _ in range(3):
            f()
    times: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            times[name].append(timed(runs[name], clock))
    return {name: statistics.median(ts) for name, ts in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--chain", type=int, default=60_000, help="chain nodes")
    args = parser.parse_args(argv)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * args.chain))  # micrograd
    ours, theirs = autograd_scalar.Value, micrograd_value()
    workloads = {
        f"chain of {args.chain:,} nodes": {
            "autograd_scalar": lambda: chain(ours, args.chain),
            "micrograd": lambda: chain(theirs, args.chain),
        },
        "demo step (MLP 2-16-16-1, 100 points)": {
            "autograd_scalar": DemoStep(ours),
            "micrograd": DemoStep(theirs),
        },
    }
    print(
        f"Python {sys.version.split()[0]}, medians of {args.repeats} interleaved runs"
    )
    print("| workload | autograd_scalar | micrograd | speed-up |\n|---|---|---|---|")
    for name, runs in workloads.items():
        t = compare(runs, args.repeats)
        a, m = t["autograd_scalar"], t["micrograd"]
        print(f"| {name} | {a * 1e3:.1f} ms | {m * 1e3:.1f} ms | {m / a:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
