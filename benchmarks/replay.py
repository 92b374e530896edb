"""Traced replay against rebuilding the Value graph, and against batched PyTorch.

The workload is micrograd's demo step (MLP 2-16-16-1 over 100 two-moons points,
max-margin loss + 1e-4 L2, forward and backward) as a function of all 337
parameters. Three ways to get its value and gradient:

- rebuild: build the Value graph anew and run ``backward`` (what a training loop on
  Values does every step);
- replay: ``autograd_scalar.trace`` once, then ``g.value_and_grad(*params)``;
- torch (if installed): the same step on batched tensors (float64, CPU).

Runs are interleaved, medians reported, as in ``compare_micrograd.py``.

    python benchmarks/replay.py [--repeats N] [--cpu]

Tracing is timed side by side with rebuilding too. ``--cpu`` times with the process's
CPU time instead of the wall clock, so that other processes on a busy machine do not
count.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from _workloads import DemoStep, mlp_weights, moons
from compare_micrograd import compare

import autograd_scalar as ag

SIZES = [2, 16, 16, 1]


def demo_loss(step: DemoStep) -> Any:
    """The demo step's loss as a function of its 337 parameters (Values)."""

    def loss(*params: Any) -> Any:
        it = iter(params)
        step.layers = [
            [[next(it) for _ in neuron] for neuron in layer] for layer in step.layers
        ]
        step.params = list(params)
        return step.loss()

    return loss


def torch_step() -> Any:
    """The same step on batched float64 tensors; None if torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)  # like the others: one core (tiny tensors gain nothing)
    xs, ys = moons()
    x = torch.tensor(xs, dtype=torch.float64)
    y = torch.tensor(ys, dtype=torch.float64)
    layers = [
        (
            torch.tensor([n[:-1] for n in layer], dtype=torch.float64).requires_grad_(),
            torch.tensor([n[-1] for n in layer], dtype=torch.float64).requires_grad_(),
        )
        for layer in mlp_weights(SIZES)
    ]

    def step() -> Any:
        for w, b in layers:
            w.grad = b.grad = None
        h = x
        for i, (w, b) in enumerate(layers):
            h = h @ w.T + b
            if i < len(layers) - 1:
                h = h.relu()
        scores = h[:, 0]
        loss = (1 - y * scores).relu().mean() + 1e-4 * sum(
            (w * w).sum() + (b * b).sum() for w, b in layers
        )
        loss.backward()
        return loss

    return step


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--cpu", action="store_true", help="time CPU, not wall")
    args = parser.parse_args(argv)
    clock = time.process_time if args.cpu else time.perf_counter

    rebuild = DemoStep(ag.Value)
    params = [p.data for p in rebuild.params]
    loss = demo_loss(DemoStep(ag.Value))

    g = ag.trace(loss, *params)
    value, grads = g.value_and_grad(*params)
    reference = rebuild()
    worst = max(
        abs(a - p.grad) / max(1.0, abs(p.grad))
        for a, p in zip(grads, rebuild.params, strict=True)
    )
    assert abs(value - reference.data) < 1e-12 and worst < 1e-12, worst

    runs = {"rebuild": rebuild, "replay": lambda: g.value_and_grad(*params)}
    step = torch_step()
    if step is not None:
        runs["torch"] = step
    t = compare(runs, args.repeats, clock)
    tracing = {"rebuild": rebuild, "trace": lambda: ag.trace(loss, *params)}
    traced = compare(tracing, max(3, args.repeats // 2), clock)
    kind = "CPU time" if args.cpu else "wall time"
    print(
        f"Python {sys.version.split()[0]}, {kind}, "
        f"medians of {args.repeats} interleaved runs"
    )
    print(f"demo step: {len(params)} parameters, {len(g.source.splitlines())} lines")
    print("| | time per step | vs rebuild |\n|---|---|---|")
    for name, seconds in t.items():
        ratio = t["rebuild"] / seconds
        print(f"| {name} | {seconds * 1e3:.2f} ms | {ratio:.1f}x faster |")
    print(
        f"| trace + compile (once) | {traced['trace'] * 1e3:.0f} ms | "
        f"= {traced['trace'] / traced['rebuild']:.1f} rebuilt steps "
        "(timed side by side) |"
    )
    if step is not None:
        print(f"replay / torch: {t['replay'] / t['torch']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
