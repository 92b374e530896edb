"""Traced replay over dask arrays on a local cluster, against the numpy path.

The workload is ``benchmarks.vectorized``'s: the value and both partial derivatives
of a 12-operation, 2-argument function, here at ``--points`` points (100,000,000 by
default), as dask arrays of ``--chunk`` points per chunk made on the workers
(uniform in [-2, 2)). Only sums of the results come back, so the client holds no
array. Measured:

- wall time on a ``LocalCluster`` of ``--workers`` processes, one thread each; the
  inputs are generated on the workers inside the timed run;
- the peak memory of the largest worker, as growth of its resident set over the
  run (after a warm-up on small chunks: imports, traces), against the bytes of one
  chunk of inputs and outputs (5 float64 arrays);
- the ratio to the single-process numpy path over ``--compare`` points (10,000,000
  by default), both on the same points (the numpy path's inputs made before its
  clock starts), medians of ``--repeats`` interleaved runs.

    python -m benchmarks.distributed [--quick] [--points N] [--chunk M]
                                     [--compare K] [--repeats R] [--out PATH]

The results go to stdout and, as the section between the markers below, to
``benchmarks/RESULTS.md`` (``--out``; not with ``--quick``, a smoke run).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import autograd_scalar as ag
from benchmarks.suite import RESULTS, machine
from benchmarks.vectorized import f

BEGIN = "<!-- python -m benchmarks.distributed -->"
END = "<!-- end of python -m benchmarks.distributed -->"
RATIO_GOAL = 1.2  # dask / numpy path, at --compare points
MEMORY_GOAL = 4.0  # the largest worker's peak growth / one chunk's inputs and outputs


class PeakMemory:
    """Samples the resident set of some processes every 5 ms, in a thread; keeps
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
            time.sleep(0.005)

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


@dataclass
class Run:
    """One timed run: seconds, the largest worker's growth (bytes), result sums."""

    seconds: float
    growth: int | None
    sums: list[float]


def run_cluster(client: Any, g: Any, points: int, chunk: int) -> Run:
    """The value and gradient over ``points`` on the cluster, summed there."""
    import dask.array as da

    memory = PeakMemory(list(client.run(os.getpid).values()))
    try:
        value, grads = g.value_and_grad(*inputs(da, points, chunk))
        start = time.perf_counter()
        sums = client.compute([value.sum(), *(a.sum() for a in grads)], sync=True)
        seconds = time.perf_counter() - start
    finally:
        growth = memory.stop()
    return Run(seconds, growth, [float(s) for s in sums])


def run_numpy(g: Any, xs: Any, ys: Any) -> Run:
    """The numpy path in this process over the same points."""
    start = time.perf_counter()
    value, grads = g.value_and_grad(xs, ys)
    seconds = time.perf_counter() - start
    sums = [float(value.sum()), *(float(a.sum()) for a in grads)]
    return Run(seconds, None, sums)


@dataclass
class Results:
    """Medians at the comparison size, and the one run at the full size."""

    numpy: list[Run]
    small: list[Run]
    large: Run | None
    load: tuple[float, float]  # the 1-minute load average before and after


def measure(args: argparse.Namespace) -> Results:
    """Start the cluster, warm it up, and run the numpy path and the cluster."""
    import dask.array as da
    import distributed

    g = ag.trace(f, 0.5, -0.25)
    load_before = os.getloadavg()[0]
    xs, ys = (a.compute() for a in inputs(da, args.compare, args.chunk))
    g.value_and_grad(xs[:1000], ys[:1000])  # the numpy path's array trace
    with (
        distributed.LocalCluster(
            n_workers=args.workers,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
            memory_limit=0,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # Warm up: each worker imports numpy and traces on a few small chunks.
        value, grads = g.value_and_grad(*inputs(da, 4 * args.workers * 1000, 1000))
        client.compute([value.sum(), *(a.sum() for a in grads)], sync=True)
        numpy_runs, small = [], []
        for r in range(args.repeats):  # interleaved, the order alternating
            for which in ("numpy", "dask") if r % 2 == 0 else ("dask", "numpy"):
                if which == "numpy":
                    numpy_runs.append(run_numpy(g, xs, ys))
                else:
                    small.append(run_cluster(client, g, args.compare, args.chunk))
        del xs, ys
        large = None
        if args.points != args.compare:
            large = run_cluster(client, g, args.points, args.chunk)
    for run in small:  # the same points: the same numbers, to rounding
        if not np.allclose(run.sums, numpy_runs[0].sums, rtol=1e-9):
            raise AssertionError(f"sums differ: {run.sums} vs {numpy_runs[0].sums}")
    return Results(numpy_runs, small, large, (load_before, os.getloadavg()[0]))


def render(args: argparse.Namespace, results: Results, command: str) -> str:
    """The section of RESULTS.md: machine, command, the runs, the targets."""
    import dask
    import distributed

    chunk_bytes = 5 * 8 * args.chunk  # 2 input and 3 output float64 arrays
    t_numpy = statistics.median(r.seconds for r in results.numpy)
    t_small = statistics.median(r.seconds for r in results.small)
    grow_small = max(r.growth or 0 for r in results.small)
    rows = [
        ("numpy path, one process", args.compare, t_numpy, None),
        (f"dask, {args.workers} workers", args.compare, t_small, grow_small),
    ]
    if results.large is not None:
        rows.append(
            (
                f"dask, {args.workers} workers",
                args.points,
                results.large.seconds,
                results.large.growth,
            )
        )
    lines = [
        BEGIN,
        "## Distributed: traced replay over dask arrays",
        "",
        f"Machine: {machine()}; numpy {np.__version__}, dask {dask.__version__}, "
        f"distributed {distributed.__version__}; load average "
        f"{results.load[0]:.2f} before, {results.load[1]:.2f} after.  ",
        f"Command: `{command}`; wall clock; a `LocalCluster` of {args.workers} "
        f"processes, 1 thread each; chunks of {args.chunk:,} points "
        f"({chunk_bytes / 1e6:,.0f} MB of inputs and outputs); at "
        f"{args.compare:,} points medians of {args.repeats} interleaved runs, at "
        f"{args.points:,} one run.",
        "",
        "| run | points | wall time | ns/point | largest worker's peak growth "
        "| vs one chunk's inputs and outputs |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for name, points, seconds, growth in rows:
        memory = ("—", "—")
        if growth is not None:
            memory = (f"{growth / 1e6:,.0f} MB", f"{growth / chunk_bytes:.1f}x")
        lines.append(
            f"| {name} | {points:,} | {seconds:.2f} s | {seconds / points * 1e9:.0f} "
            f"| {memory[0]} | {memory[1]} |"
        )
    ratio = t_small / t_numpy
    worst = max(
        grow_small, results.large.growth or 0 if results.large is not None else 0
    )
    lines += [
        "",
        "| target | goal | measured | result |",
        "|---|---|---|---|",
        f"| dask vs the numpy path at {args.compare:,} points | <= {RATIO_GOAL}x "
        f"| {ratio:.2f}x | {_verdict(ratio <= RATIO_GOAL)} |",
        f"| largest worker's peak growth vs one chunk's inputs and outputs "
        f"| <= {MEMORY_GOAL:.0f}x | {worst / chunk_bytes:.1f}x "
        f"| {_verdict(worst <= MEMORY_GOAL * chunk_bytes)} |",
        "",
        "The inputs are made on the workers inside the timed run (the numpy path's "
        "before its clock starts), and only the sums of the value and the gradients "
        "come back. Memory is the growth of each worker's resident set over the run, "
        "sampled every 5 ms, after a warm-up on small chunks (imports, traces).",
        END,
    ]
    return "\n".join(lines) + "\n"


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "**FAIL**"


def write_section(path: Path, section: str) -> None:
    """Put ``section`` in ``path`` in place of the one it holds, or at its end."""
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section.rstrip("\n") + rest.split(END, 1)[1]
    else:
        text = (text.rstrip("\n") + "\n\n" if text else "") + section
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.distributed", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: a smoke test, no file"
    )
    parser.add_argument("--points", type=int, help="points of the big run (1e8)")
    parser.add_argument("--chunk", type=int, help="points per chunk (1e6)")
    parser.add_argument("--compare", type=int, help="points against numpy (1e7)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, help="runs at --compare points (3)")
    parser.add_argument(
        "--out",
        type=Path,
        help=f"write the section into this file (default: {RESULTS.name} "
        "unless --quick)",
    )
    args = parser.parse_args(argv)
    command = " ".join(["python -m benchmarks.distributed", *(argv or sys.argv[1:])])
    sizes = (40_000, 5_000, 20_000, 1) if args.quick else (10**8, 10**6, 10**7, 3)
    for name, default in zip(
        ("points", "chunk", "compare", "repeats"), sizes, strict=True
    ):
        if getattr(args, name) is None:
            setattr(args, name, default)
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    results = measure(args)
    section = render(args, results, command)
    print(section)
    out = args.out if args.out is not None else (None if args.quick else RESULTS)
    if out is not None:
        write_section(out, section)
    return 0


if __name__ == "__main__":  # not when a worker process imports this module
    raise SystemExit(main())
