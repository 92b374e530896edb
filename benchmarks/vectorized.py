"""Traced replay over numpy arrays, against per-point Value graphs and per-point replay.

The workload: the value and both partial derivatives of a two-argument function of a
dozen operations (below) at 1,000,000 points. Three ways:

- graph: build the Value graph at each point and run ``backward``;
- replay: ``g = autograd_scalar.trace(f, x0, y0)``, then ``g.value_and_grad(x, y)``
  point by point on plain floats;
- arrays: ``g.value_and_grad(xs, ys)`` once, with numpy arrays of all the points.

The two per-point ways are timed on a sample of the points (``--sample``) and scaled
per point to the full count; the output says so. Runs are interleaved, medians
reported, and a garbage collection runs untimed before each timed call.

    python -m benchmarks.vectorized [--points N] [--sample M] [--repeats R] [--cpu]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import autograd_scalar as ag


def f(x: Any, y: Any) -> Any:
    """Twelve operations, two of them branches (relu, abs)."""
    u = x * y + x.sin()
    v = (u.tanh() * y.exp() + (x * x + 1).log()) / (1 + abs(y))
    return v - (x - y).relu() * 0.5


def compare(
    runs: dict[str, Callable[[], Any]], repeats: int, clock: Callable[[], float]
) -> dict[str, float]:
    """Median seconds per call of each runner, interleaved, after a warm-up."""
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            gc.collect()
            start = clock()
            runs[name]()
            times[name].append(clock() - start)
    return {name: statistics.median(ts) for name, ts in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cpu", action="store_true", help="time CPU, not wall")
    args = parser.parse_args(argv)
    clock = time.process_time if args.cpu else time.perf_counter

    rng = np.random.default_rng(0)
    xs = rng.uniform(-2, 2, args.points)
    ys = rng.uniform(-2, 2, args.points)
    sample = [
        (float(a), float(b))
        for a, b in zip(xs[: args.sample], ys[: args.sample], strict=True)
    ]
    g = ag.trace(f, 0.5, -0.25)

    def graph() -> None:
        for a, b in sample:
            x, y = ag.Value(a), ag.Value(b)
            out = f(x, y)
            out.backward()

    def replay() -> None:
        vg = g.value_and_grad
        for a, b in sample:
            vg(a, b)

    def arrays() -> None:
        g.value_and_grad(xs, ys)

    # The arrays agree with the replay on the sample.
    value, (dx, dy) = g.value_and_grad(xs, ys)
    for k, (a, b) in enumerate(sample[:1000]):
        v, (gx, gy) = g.value_and_grad(a, b)
        assert np.allclose([value[k], dx[k], dy[k]], [v, gx, gy], rtol=1e-12), k

    t = compare(
        {"graph": graph, "replay": replay, "arrays": arrays}, args.repeats, clock
    )
    scale = args.points / args.sample
    per_point = {"graph": t["graph"] * scale, "replay": t["replay"] * scale}
    full = {**per_point, "arrays": t["arrays"]}
    kind = "CPU time" if args.cpu else "wall time"
    print(
        f"Python {sys.version.split()[0]}, numpy {np.__version__}, {kind}, "
        f"medians of {args.repeats} interleaved runs"
    )
    print(
        f"value and gradient of a 2-argument, 12-operation function at "
        f"{args.points:,} points; graph and replay timed on {args.sample:,} points "
        "and scaled per point"
    )
    print("| | time for all points | arrays are |\n|---|---|---|")
    for name, seconds in full.items():
        ratio = seconds / full["arrays"]
        note = "" if name == "arrays" else f"{ratio:.0f}x faster"
        print(f"| {name} | {seconds:.3f} s | {note} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
