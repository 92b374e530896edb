"""This engine against micrograd and PyTorch, side by side in one process.

    python -m benchmarks [--quick] [--repeats N] [--out PATH]

Every engine runs every workload after a warm-up; the engines of a workload run
interleaved (the order alternates each round) and the table shows medians. A garbage
collection runs, untimed, before every timed call, so that no engine pays for
another's garbage (micrograd's closures put each of its nodes in a reference cycle, so
only the collector frees its graphs); inside a call the collector runs as the user has
it. PyTorch runs in a child process (see ``TorchWorker``), and so does the scaling
of the chain (see ``measure``). Memory is measured apart,
with tracemalloc, on a fresh graph of each engine.

Per-node figures divide by the node count of *this* engine's graph of the workload
(operations plus leaf Values), the same number for every engine, so a ratio of
per-node figures is the ratio of the totals for the same user code.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import importlib.util
import multiprocessing
import os
import platform
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from . import _workloads as w

RESULTS = Path(__file__).with_name("RESULTS.md")

# -------------------------------------------------------------------------------------
# Measuring
# -------------------------------------------------------------------------------------

Sample = tuple[float, float]  # seconds: forward, backward
Runner = Callable[[], Sample]
Clock = Callable[[], float]


def forward_backward(
    workload: Any, backward: Callable[[Any], None], clock: Clock
) -> Runner:
    """A runner timing ``workload.forward()`` and then backward from its root."""

    def run() -> Sample:
        gc.collect()
        start = clock()
        root = workload.forward()
        built = clock()
        backward(root)
        return built - start, clock() - built

    return run


def replay_runner(replay: Any, args: list[float], clock: Clock) -> Runner:
    """A runner timing ``replay(*args)``, then ``replay.value_and_grad(*args)``.

    The second number is the whole replayed step; the table derives backward as the
    difference of the medians.
    """

    def run() -> Sample:
        gc.collect()
        start = clock()
        replay(*args)
        forward = clock()
        replay.value_and_grad(*args)
        return forward - start, clock() - forward

    return run


def interleaved(
    runners: dict[str, Runner], repeats: int, warmup: int
) -> dict[str, list[Sample]]:
    """Samples of every runner, after a warm-up, the order alternating each round."""
    for run in runners.values():
        for _ in range(warmup):
            run()
    samples: dict[str, list[Sample]] = {name: [] for name in runners}
    names = list(runners)
    for r in range(repeats):
        for name in names if r % 2 == 0 else reversed(names):
            samples[name].append(runners[name]())
    return samples


def graph_bytes(
    make: Callable[[], Any], backward: Callable[[Any], None]
) -> tuple[int, int]:
    """Bytes a fresh graph (leaves included) holds after forward and after backward."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        workload = make()
        root = workload.forward()
        gc.collect()
        after_forward = tracemalloc.get_traced_memory()[0] - base
        backward(root)
        gc.collect()
        after_backward = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    del root, workload
    gc.collect()
    return after_forward, after_backward


# -------------------------------------------------------------------------------------
# Results
# -------------------------------------------------------------------------------------


@dataclass
class Row:
    """One engine on one workload: medians in seconds, bytes, node counts."""

    workload: str
    engine: str
    nodes: int  # the common denominator: nodes of this engine's Value graph
    own_nodes: int | None  # nodes of the engine's own graph
    forward: float
    backward: float
    total: float
    memory: tuple[float, float] | None = None  # bytes per node after fwd, after bwd

    def ns(self, seconds: float) -> float:
        return seconds / self.nodes * 1e9

    def bytes_per_node(self, which: int) -> float | None:
        return None if self.memory is None else self.memory[which]


def row_from(
    workload: str,
    engine: str,
    nodes: int,
    own_nodes: int | None,
    samples: list[Sample],
    *,
    replay: bool = False,
) -> Row:
    """Medians of the samples; for a replay, the second number is the whole step."""
    fwd = statistics.median(s[0] for s in samples)
    if replay:
        total = statistics.median(s[1] for s in samples)
        bwd = total - fwd
    else:
        bwd = statistics.median(s[1] for s in samples)
        total = statistics.median(s[0] + s[1] for s in samples)
    return Row(workload, engine, nodes, own_nodes, fwd, bwd, total)


@dataclass
class Target:
    """A goal stated as a ratio, and what one run measured."""

    name: str
    goal: str
    measured: str
    passed: bool | None  # None: could not be measured in this run


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    scaling: list[tuple[int, float]] = field(default_factory=list)  # nodes, ns/node
    prepare: float | None = None  # seconds to trace and prepare the replay
    targets: list[Target] = field(default_factory=list)

    def find(self, workload: str, engine: str) -> Row | None:
        for row in self.rows:
            if row.workload == workload and row.engine == engine:
                return row
        return None


# -------------------------------------------------------------------------------------
# The suite
# -------------------------------------------------------------------------------------

OURS = "autograd_scalar"
MICROGRAD = "micrograd"
TORCH = "torch 0-dim"
REPLAY = "autograd_scalar traced replay"
BATCHED = "torch batched tensors"
CHAIN, SUM, DEMO = "chain", "sum of products", "demo step"


@dataclass(frozen=True)
class Plan:
    """What to run: the sizes, the repeats, and the clock."""

    chain: int
    terms: int
    points: int
    small: int  # the chain lengths compared for linearity
    large: int
    repeats: int = 7
    warmup: int = 2
    # The wall clock, or with --cpu the process's CPU time: on a shared machine the
    # latter does not count the time other processes hold the cores.
    clock: Clock = time.perf_counter
    # With --assigned, run as a program that has assigned a Value's data (a training
    # loop): from then on every node carries the time it was made.
    assigned: bool = False


def assign_once(plan: Plan) -> None:
    """Assign one Value's data if the plan says so (in each process that measures)."""
    if plan.assigned:
        import autograd_scalar

        autograd_scalar.Value(0.0).data = 1.0


MEMORY_CHAIN = 20_000  # the longest chain whose memory is measured
FULL = Plan(100_000, 20_000, 100, 10_000, 1_000_000)
QUICK = Plan(300, 100, 4, 100, 1_000, repeats=1, warmup=1)


def available(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def engines() -> list[w.Engine]:
    """The engines run in this process: this one, and micrograd where installed."""
    found = [w.ours()]
    if available("micrograd"):
        found.append(w.micrograd())
    return found


def workload(name: str, engine: w.Engine, plan: Plan) -> Any:
    """A fresh instance of the named workload on an engine."""
    if name == CHAIN:
        return w.Chain(engine, plan.chain)
    if name == SUM:
        return w.SumOfProducts(engine, plan.terms)
    return w.DemoStep(engine, plan.points)


class TorchWorker:
    """PyTorch's rows, timed in a process of their own and driven from this one.

    Importing torch puts some 160k objects in the heap, and every full garbage
    collection traverses them all: in one process, the one full collection that
    building a 100k-node chain of Values triggers cost this engine ~800 ns per node,
    half its time, though a user of this engine has no torch loaded. So PyTorch
    runs in a child process; the engines still run interleaved, run by run.
    """

    def __init__(self, plan: Plan, names: tuple[str, ...]) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve_torch, args=(child, plan, names), daemon=True
        )
        self._process.start()
        child.close()  # so that recv() fails if the child dies

    def ask(self, kind: str, name: str) -> Any:
        self._conn.send((kind, name))
        return self._conn.recv()

    def runner(self, name: str) -> Runner:
        """Time one forward and backward of the named workload in the child."""
        return partial(self.ask, "run", name)

    def close(self) -> None:
        self._conn.send(None)
        self._process.join()


def _serve_torch(conn: Connection, plan: Plan, names: tuple[str, ...]) -> None:
    import torch

    # Both pure-Python engines use one core; at these sizes (at most 100 x 16)
    # PyTorch splits no work across threads, so a second one only adds noise.
    torch.set_num_threads(1)
    engine = w.torch_scalar()
    workloads = {
        name: w.BatchedDemoStep(plan.points)
        if name == BATCHED
        else workload(name, engine, plan)
        for name in names
    }
    runners = {
        name: forward_backward(wl, engine.backward, plan.clock)
        for name, wl in workloads.items()
    }
    while (request := conn.recv()) is not None:
        kind, name = request
        if kind == "run":
            conn.send(runners[name]())
        else:
            conn.send(own_nodes(engine, workloads[name]))


def measure(plan: Plan) -> Results:
    """Run every workload on every engine; the targets are evaluated afterwards."""
    results = Results()
    assign_once(plan)
    found = engines()
    # Batched tensors get a process of their own too: right after a 0-dim step had
    # freed its graph, a batched step took 20x longer than in a loop of its own.
    torch = batched = None
    if available("torch"):
        torch = TorchWorker(plan, (CHAIN, SUM, DEMO))
        batched = TorchWorker(plan, (BATCHED,))
    clock = time.perf_counter()
    for name in (CHAIN, SUM, DEMO):
        progress(name, clock)
        workloads = {e.name: workload(name, e, plan) for e in found}
        nodes = found[0].count(workloads[OURS].forward())
        runners = {
            e.name: forward_backward(workloads[e.name], e.backward, plan.clock)
            for e in found
        }
        if torch is not None:
            runners[TORCH] = torch.runner(name)
        replay: Any = None
        if name == DEMO:
            if batched is not None:
                runners[BATCHED] = batched.runner(BATCHED)
            replay = add_replay(runners, plan, results)
        samples = interleaved(runners, plan.repeats, plan.warmup)
        # micrograd's recursive backward is quadratic in depth under tracemalloc:
        # memory is measured on a shorter chain (its bytes per node are the same).
        small = replace(plan, chain=min(plan.chain, MEMORY_CHAIN))
        small_nodes = found[0].count(workload(name, found[0], small).forward())
        for e in found:
            own = own_nodes(e, workloads[e.name])
            row = row_from(name, e.name, nodes, own, samples[e.name])
            progress(f"{name}: memory of {e.name}", clock)
            held = graph_bytes(partial(workload, name, e, small), e.backward)
            row.memory = (held[0] / small_nodes, held[1] / small_nodes)
            results.rows.append(row)
        if torch is not None:
            own = torch.ask("count", name)
            results.rows.append(row_from(name, TORCH, nodes, own, samples[TORCH]))
        if BATCHED in samples:
            results.rows.append(row_from(name, BATCHED, nodes, None, samples[BATCHED]))
        if replay is not None:
            results.rows.append(
                row_from(name, REPLAY, nodes, None, samples[REPLAY], replay=True)
            )
    for worker in (torch, batched):
        if worker is not None:
            worker.close()
    progress("scaling of the chain", clock)
    # In a fresh process: after the workloads above (micrograd's graphs hold some
    # seven objects a node), the allocator's memory is scattered, and the
    # 1M-node chain, whose cost is mostly the collector walking memory, ran ~13%
    # slower here than in a process of its own, as a user's job would run it.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        results.scaling = pool.submit(scaling, plan).result()
    progress("done", clock)
    return results


def progress(what: str, since: float) -> None:
    print(f"[{time.perf_counter() - since:5.0f} s] {what}", file=sys.stderr, flush=True)


def own_nodes(engine: w.Engine, workload: Any) -> int:
    """How many nodes the engine's own graph of the workload holds.

    The graph is then freed from its root down, one node at a time: PyTorch frees a
    graph that has been walked recursively, and overflows the C stack on a chain of
    some 50k nodes.
    """
    root = workload.forward()
    engine.backward(root)
    nodes = engine.graph(root)
    del root
    count = len(nodes)
    nodes.reverse()
    while nodes:
        nodes.pop()
    return count


def add_replay(runners: dict[str, Runner], plan: Plan, results: Results) -> Any:
    """Add traced replay to the demo step's runners.

    Also measures what tracing and preparing the replay costs (median of three).
    Returns the replay.
    """
    traced = w.TracedDemoStep(plan.points)
    traced.prepare()  # warm up
    costs = []
    for _ in range(3):
        gc.collect()
        start = plan.clock()
        replay = traced.prepare()
        costs.append(plan.clock() - start)
    results.prepare = statistics.median(costs)
    runners[REPLAY] = replay_runner(replay, traced.params, plan.clock)
    return replay


def scaling(plan: Plan) -> list[tuple[int, float]]:
    """ns per node, forward and backward, of this engine's chain at two lengths."""
    assign_once(plan)
    engine = w.ours()
    lengths = (plan.small, plan.large)
    runners = {
        str(n): forward_backward(w.Chain(engine, n), engine.backward, plan.clock)
        for n in lengths
    }
    samples = interleaved(runners, max(plan.repeats - 2, 1), 1)
    out = []
    for n in lengths:
        chain = w.Chain(engine, n)
        nodes = engine.count(chain.forward())
        total = statistics.median(f + b for f, b in samples[str(n)])
        out.append((nodes, total / nodes * 1e9))
    return out


# -------------------------------------------------------------------------------------
# Targets
# -------------------------------------------------------------------------------------


def targets(results: Results) -> list[Target]:
    """The goals of the suite as ratios of this run's medians."""

    def total(workload: str, engine: str) -> float | None:
        row = results.find(workload, engine)
        return None if row is None else row.total

    def target(name: str, goal: str, value: float | None, passed: bool) -> Target:
        if value is None:
            return Target(name, goal, "— (not available)", None)
        unit = "x" if goal.endswith(("faster", "slower")) else ""
        return Target(name, goal, f"{value:.2f}{unit}", passed)

    out: list[Target] = []
    for workload in (CHAIN, DEMO):
        for peer, goal in ((MICROGRAD, 5), (TORCH, 10)):
            speedup = _ratio(total(workload, peer), total(workload, OURS))
            out.append(
                target(
                    f"{workload}: fwd+bwd per node vs {peer}",
                    f">= {goal}x faster",
                    speedup,
                    speedup is not None and speedup >= goal,
                )
            )
    for workload in (CHAIN, SUM, DEMO):
        ours, theirs = results.find(workload, OURS), results.find(workload, MICROGRAD)
        name = f"{workload}: bytes per node vs micrograd (after fwd / after bwd)"
        if ours is None or theirs is None or not (ours.memory and theirs.memory):
            out.append(target(name, "<= 1/5", None, False))
            continue
        shares = [theirs.memory[i] / ours.memory[i] for i in (0, 1)]
        shown = " / ".join(f"1/{r:.1f}" for r in shares)
        out.append(Target(name, "<= 1/5", shown, min(shares) >= 5))
    (small, at_small), (large, at_large) = results.scaling
    growth = at_large / at_small
    out.append(
        target(
            f"chain: ns per node at {large:,} nodes / at {small:,}",
            "<= 2",
            growth,
            growth <= 2,
        )
    )
    rebuilt, replay = total(DEMO, OURS), total(DEMO, REPLAY)
    speedup = _ratio(rebuilt, replay)
    slower = _ratio(replay, total(DEMO, BATCHED))
    steps = _ratio(results.prepare, rebuilt)
    out += [
        target(
            "demo step: replay vs rebuilding the Value graph",
            ">= 15x faster",
            speedup,
            speedup is not None and speedup >= 15,
        ),
        target(
            "demo step: replay vs torch batched tensors",
            "<= 3x slower",
            slower,
            slower is not None and slower <= 3,
        ),
        target(
            "demo step: trace + prepare, in rebuilt steps",
            "<= 10",
            steps,
            steps is not None and steps <= 10,
        ),
    ]
    return out


def _ratio(x: float | None, y: float | None) -> float | None:
    return None if x is None or y is None else x / y


# -------------------------------------------------------------------------------------
# Reporting
# -------------------------------------------------------------------------------------


def machine() -> str:
    """Python, CPU model and core count, and the peers' versions."""
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    parts = [
        f"{platform.python_implementation()} {platform.python_version()}",
        f"{cpu}, {os.cpu_count()} cores, {platform.system()}",
    ]
    for package in ("micrograd", "torch"):
        if available(package):
            version = importlib.metadata.version(package)
            where = " (1 thread, in a process of its own)" * (package == "torch")
            parts.append(f"{package} {version}{where}")
    return "; ".join(parts)


def other_sections(path: Path) -> str:
    """The sections other benchmarks wrote into ``path`` (each opens with a marker
    ``<!-- python -m benchmarks.<name> -->``), kept when the suite rewrites it."""
    text = path.read_text() if path.exists() else ""
    start = text.find("<!-- python -m benchmarks.")
    return "" if start < 0 else "\n" + text[start:]


def _num(x: float | None, digits: int = 0) -> str:
    return "—" if x is None else f"{x:,.{digits}f}"


def render(results: Results, plan: Plan, command: str) -> str:
    """The results as Markdown: machine, command, tables, targets."""
    clock = "process CPU time" if plan.clock is time.process_time else "wall clock"
    lines = [
        "# Benchmark results",
        "",
        f"Machine: {machine()}.  ",
        f"Command: `{command}`; medians of {plan.repeats} interleaved runs after "
        f"{plan.warmup} warm-up runs per engine, timed by {clock}.",
        "",
        "| workload | engine | graph nodes | fwd ns/node | bwd ns/node "
        "| fwd+bwd ns/node | time vs autograd_scalar | bytes/node after fwd "
        "| bytes/node after bwd |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for row in results.rows:
        ours = results.find(row.workload, OURS)
        assert ours is not None
        label = {
            CHAIN: f"chain `y = tanh(y*a + b)`, {row.nodes:,} nodes",
            SUM: f"sum of {plan.terms:,} products, {row.nodes:,} nodes",
            DEMO: f"demo step, {row.nodes:,} nodes",
        }[row.workload]
        lines.append(
            f"| {label} | {row.engine} | {_num(row.own_nodes)} "
            f"| {_num(row.ns(row.forward))} | {_num(row.ns(row.backward))} "
            f"| {_num(row.ns(row.total))} | {row.total / ours.total:.2f}x "
            f"| {_num(row.bytes_per_node(0))} | {_num(row.bytes_per_node(1))} |"
        )
    lines += ["", "| target | goal | measured | result |", "|---|---|---|---|"]
    for t in results.targets:
        verdict = {True: "PASS", False: "**FAIL**", None: "not measured"}[t.passed]
        lines.append(f"| {t.name} | {t.goal} | {t.measured} | {verdict} |")
    (small, at_small), (large, at_large) = results.scaling
    lines += [
        "",
        f"Scaling (autograd_scalar, chain, fwd+bwd): {at_small:,.0f} ns/node at "
        f"{small:,} nodes, {at_large:,.0f} ns/node at {large:,} nodes.",
    ]
    if results.prepare is not None:
        lines.append(
            f"Tracing and preparing the demo-step replay (with its first call): "
            f"{results.prepare * 1e3:,.1f} ms."
        )
    else:
        lines.append(
            "Traced replay: `autograd_scalar.trace` is not available in this build; "
            "its rows and targets are left out."
        )
    lines += [
        "",
        "Per-node figures divide by the nodes of autograd_scalar's graph of the "
        "workload (operations plus leaf Values), the same for every engine; "
        "*graph nodes* is each engine's own count (micrograd makes a leaf for every "
        "number constant; PyTorch counts one autograd node per operation plus one per "
        "leaf). Replay and batched rows are per node of the Value graph they replace; "
        "the replay's backward is its whole step minus its forward. Memory is "
        "tracemalloc's count of Python allocations held by a fresh graph, leaves "
        f"included (a chain of at most {MEMORY_CHAIN:,} nodes); PyTorch's allocator "
        "is invisible to it (—). Freeing a graph is not timed. PyTorch runs in a "
        "process of its own, so that its ~160k objects do not slow the other engines' "
        "garbage collections; the scaling of the chain is measured in a fresh "
        "process too.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: a smoke test, no measurement"
    )
    parser.add_argument("--repeats", type=int, help="timed runs per engine (7)")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="time the process's CPU, not the wall clock (for a busy, shared machine)",
    )
    parser.add_argument(
        "--assigned",
        action="store_true",
        help="first assign a Value's data, as a training loop does (see the guide)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help=f"write the Markdown table here (default: {RESULTS.name} unless --quick)",
    )
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    command = "python -m benchmarks" + " --quick" * args.quick
    if args.repeats is not None:
        if args.repeats < 1:
            parser.error(f"--repeats must be at least 1, got {args.repeats}")
        plan = replace(plan, repeats=args.repeats)
        command += f" --repeats {args.repeats}"
    if args.cpu:
        plan = replace(plan, clock=time.process_time)
        command += " --cpu"
    if args.assigned:
        plan = replace(plan, assigned=True)
        command += " --assigned"
    results = measure(plan)
    results.targets = targets(results)
    table = render(results, plan, command)
    print(table)
    out = args.out if args.out is not None else (None if args.quick else RESULTS)
    if out is not None:
        out.write_text(table + other_sections(out))
    return 0
