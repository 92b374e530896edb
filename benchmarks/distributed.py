"""Traced replay over dask arrays on a local cluster, against the numpy path.

The workload is ``benchmarks.vectorized``'s: the value and both partial derivatives
of a 12-operation, 2-argument function, here at ``--points`` points (100,000,000 by
default), as dask arrays of ``--chunk`` points per chunk made on the workers
(uniform in [-2, 2)). Only sums of the results come back, so the client holds no
array. Reported:

- wall time on a ``LocalCluster`` of ``--workers`` processes, one thread each;
- the peak memory of the largest worker, as growth of its resident set over the
  run (after a warm-up on small chunks: imports, traces), against the bytes of one
  chunk of inputs and outputs (5 arrays);
- the ratio to the single-process numpy path over ``--compare`` points (10,000,000
  by default), both timed on the same points.

    python -m benchmarks.distributed [--points N] [--chunk M] [--compare K]

A smoke run: ``--points 2000000 --chunk 250000 --compare 2000000``.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from typing import Any

import numpy as np

import autograd_scalar as ag
from benchmarks.vectorized import f


class PeakMemory:
    """Samples the resident set of some processes every 10 ms, in a thread; keeps
    the growth of each over its first sample (ru_maxrss would not do: a forked
    worker inherits its parent's peak)."""

    def __init__(self, pids: list[int]) -> None:
        import psutil

        self.processes = [psutil.Process(pid) for pid in pids]
        self.start = [p.memory_info().rss for p in self.processes]
        self.peak = list(self.start)
        self.running = True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while self.running:
            for k, p in enumerate(self.processes):
                self.peak[k] = max(self.peak[k], p.memory_info().rss)
            time.sleep(0.01)

    def stop(self) -> int:
        """The largest growth of one process, in bytes."""
        self.running = False
        self.thread.join()
        return max(p - s for p, s in zip(self.peak, self.start, strict=True))


def inputs(da: Any, points: int, chunk: int) -> tuple[Any, Any]:
    """Two dask arrays of uniform points in [-2, 2), made chunk by chunk."""
    state = da.random.RandomState(0)
    xs = state.uniform(-2, 2, points, chunks=chunk)
    ys = state.uniform(-2, 2, points, chunks=chunk)
    return xs, ys


def run_cluster(
    g: Any, points: int, chunk: int, workers: int
) -> tuple[float, int, list[float]]:
    """Seconds, the largest worker's peak memory growth, and the result sums."""
    import dask.array as da
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=workers,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            memory_limit=0,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # Warm up: each worker imports numpy and traces on a few small chunks.
        value, grads = g.value_and_grad(*inputs(da, 4 * workers * 1000, 1000))
        client.compute([value.sum(), *(a.sum() for a in grads)], sync=True)
        memory = PeakMemory(list(client.run(os.getpid).values()))
        xs, ys = inputs(da, points, chunk)
        value, grads = g.value_and_grad(xs, ys)
        start = time.perf_counter()
        sums = client.compute([value.sum(), *(a.sum() for a in grads)], sync=True)
        seconds = time.perf_counter() - start
        growth = memory.stop()
    return seconds, growth, [float(s) for s in sums]


def run_numpy(g: Any, points: int, chunk: int) -> tuple[float, list[float]]:
    """Seconds of the numpy path in this process over the same points, and sums."""
    import dask.array as da

    xs, ys = (a.compute() for a in inputs(da, points, chunk))
    g.value_and_grad(xs[:1000], ys[:1000])  # the array trace, made once
    start = time.perf_counter()
    value, grads = g.value_and_grad(xs, ys)
    seconds = time.perf_counter() - start
    return seconds, [float(value.sum()), *(float(a.sum()) for a in grads)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000_000)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--compare", type=int, default=10_000_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    import dask
    import distributed

    g = ag.trace(f, 0.5, -0.25)
    chunk_bytes = 5 * 8 * args.chunk  # 2 input and 3 output float64 arrays
    print(
        f"Python {sys.version.split()[0]}, numpy {np.__version__}, dask "
        f"{dask.__version__}, distributed {distributed.__version__}; wall time; "
        f"LocalCluster of {args.workers} processes, 1 thread each; chunks of "
        f"{args.chunk:,} points ({chunk_bytes / 1e6:.0f} MB of inputs and outputs)"
    )
    print("| run | points | time | largest worker's peak growth |\n|---|---|---|---|")
    t_np, sums_np = run_numpy(g, args.compare, args.chunk)
    t_small, grow_small, sums_small = run_cluster(
        g, args.compare, args.chunk, args.workers
    )
    assert np.allclose(sums_small, sums_np, rtol=1e-9), (sums_small, sums_np)
    print(f"| numpy, one process | {args.compare:,} | {t_np:.2f} s | — |")
    for points, seconds, growth in [(args.compare, t_small, grow_small)] + (
        [(args.points, *run_cluster(g, args.points, args.chunk, args.workers)[:2])]
        if args.points != args.compare
        else []
    ):
        print(
            f"| dask, {args.workers} workers | {points:,} | {seconds:.2f} s | "
            f"{growth / 1e6:.0f} MB = {growth / chunk_bytes:.1f}x a chunk |"
        )
    print(f"dask / numpy over {args.compare:,} points: {t_small / t_np:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
