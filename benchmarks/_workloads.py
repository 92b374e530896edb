"""The engines and the workloads, each written once.

An ``Engine`` adapts a scalar autodiff class with micrograd's interface (``+``, ``*``,
``.relu()``, ``.tanh()``, ``.grad``) to the suite: how to make a differentiable leaf,
how to run backward, how to read a gradient and how to count the nodes of a graph.
The workloads are written once against that interface, so every engine runs the same
user code. micrograd's pip release has no ``tanh``; ``micrograd_value()`` adds one
written the way micrograd writes its operations.

A workload is an object with ``forward()`` (build the graph, return its root) and
``leaves`` (the Values its gradients are read from, for the smoke tests).
"""

from __future__ import annotations

import itertools
import math
import random
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MLP_SIZES = (2, 16, 16, 1)


# -------------------------------------------------------------------------------------
# Engines
# -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Engine:
    """One scalar engine, as the suite drives it."""

    name: str
    leaf: Callable[[float], Any]  # a differentiable scalar holding a float
    parents: Callable[[Any], Iterable[Any]]  # the graph nodes a node was made from
    backward: Callable[[Any], None]
    grad: Callable[[Any], float]  # a leaf's gradient, as a float
    zero_grad: Callable[[Any], None]  # reset one leaf's gradient

    def graph(self, root: Any) -> list[Any]:
        """Every node of root's graph in this engine's terms, each once, root first."""
        nodes = [root]
        seen = {id(root)}
        for node in nodes:  # grows as it goes: a breadth-first walk
            for parent in self.parents(node):
                if id(parent) not in seen:
                    seen.add(id(parent))
                    nodes.append(parent)
        return nodes

    def count(self, root: Any) -> int:
        """How many nodes (operations and leaves) this engine's graph of root holds."""
        return len(self.graph(root))


def _set_grad_zero(x: Any) -> None:
    x.grad = 0


def ours() -> Engine:
    """autograd_scalar's Value."""
    from autograd_scalar import Value

    return Engine(
        name="autograd_scalar",
        leaf=Value,
        parents=lambda v: v.parents,
        backward=lambda root: root.backward(),
        grad=lambda v: float(v.grad),
        zero_grad=_set_grad_zero,
    )


def micrograd_value() -> Any:
    """micrograd's Value, with ``tanh`` added the way micrograd writes its ops."""
    from micrograd.engine import Value  # type: ignore[import-untyped]

    if not hasattr(Value, "tanh"):

        def tanh(self: Any) -> Any:
            t = math.tanh(self.data)
            out = Value(t, (self,), "tanh")

            def _backward() -> None:
                self.grad += (1 - t * t) * out.grad

            out._backward = _backward
            return out

        Value.tanh = tanh
    return Value


def _micrograd_backward(root: Any) -> None:
    # micrograd sorts the graph recursively, one Python frame per node of the longest
    # path. The limit is raised only here: raised for good, it would let other deep
    # C-level recursions (PyTorch freeing a long graph) overflow the C stack.
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 2_000_000))
    try:
        root.backward()
    finally:
        sys.setrecursionlimit(limit)


def micrograd() -> Engine:
    """micrograd's Value (pip release 0.1.0, plus ``tanh``)."""
    return Engine(
        name="micrograd",
        leaf=micrograd_value(),
        parents=lambda v: v._prev,
        backward=_micrograd_backward,
        grad=lambda v: float(v.grad),
        zero_grad=_set_grad_zero,
    )


def torch_scalar() -> Engine:
    """PyTorch with every scalar a 0-dim float64 tensor that requires grad.

    Its graph is the autograd graph: one node per operation (``grad_fn``) plus one
    ``AccumulateGrad`` per leaf.
    """
    import torch

    def leaf(x: float) -> Any:
        return torch.tensor(x, dtype=torch.float64, requires_grad=True)

    def parents(node: Any) -> Iterable[Any]:
        fn = node if not isinstance(node, torch.Tensor) else node.grad_fn
        if fn is None:
            return ()
        return [f for f, _ in fn.next_functions if f is not None]

    def clear(x: Any) -> None:
        x.grad = None

    return Engine(
        name="torch 0-dim",
        leaf=leaf,
        parents=parents,
        backward=lambda root: root.backward(),
        grad=lambda t: 0.0 if t.grad is None else float(t.grad),
        zero_grad=clear,
    )


# -------------------------------------------------------------------------------------
# Workloads on any engine
# -------------------------------------------------------------------------------------


class Chain:
    """``y = tanh(y*a + b)`` repeated: three operations a step, one long path."""

    def __init__(self, engine: Engine, nodes: int) -> None:
        self.engine = engine
        self.steps = max(1, (nodes - 3) // 3)
        self.leaves: tuple[Any, ...] = ()

    def forward(self) -> Any:
        leaf = self.engine.leaf
        a, b, y = leaf(0.5), leaf(0.1), leaf(0.3)
        self.leaves = (a, b, y)
        for _ in range(self.steps):
            y = (y * a + b).tanh()
        return y


class SumOfProducts:
    """``x0*w0 + x1*w1 + ...``: a dot product of two lists of leaves."""

    def __init__(self, engine: Engine, terms: int, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.xs = [engine.leaf(rng.uniform(-1, 1)) for _ in range(terms)]
        self.ws = [engine.leaf(rng.uniform(-1, 1)) for _ in range(terms)]

    @property
    def leaves(self) -> list[Any]:
        # Made on demand: a list kept here would count in the graph's memory.
        return self.xs + self.ws

    def forward(self) -> Any:
        xs, ws = self.xs, self.ws
        total = xs[0] * ws[0]
        for i in range(1, len(xs)):
            total = total + xs[i] * ws[i]
        return total


def moons(
    n: int = 100, noise: float = 0.1, seed: int = 1
) -> tuple[list[list[float]], list[int]]:
    """Two interleaving half circles with labels -1 and +1 (as in micrograd's demo)."""
    rng = random.Random(seed)
    half = n // 2
    xs: list[list[float]] = []
    ys: list[int] = []
    for i in range(n):
        outer = i < n - half
        k = i if outer else i - (n - half)
        t = math.pi * k / max(1, (n - half if outer else half) - 1)
        x, y = (
            (math.cos(t), math.sin(t))
            if outer
            else (1 - math.cos(t), 0.5 - math.sin(t))
        )
        xs.append([x + rng.gauss(0, noise), y + rng.gauss(0, noise)])
        ys.append(-1 if outer else 1)
    return xs, ys


def mlp_weights(sizes: Sequence[int] = MLP_SIZES, seed: int = 1337) -> list[float]:
    """The MLP's parameters, flat: per layer, per neuron, its weights then its bias."""
    rng = random.Random(seed)
    flat: list[float] = []
    for nin, nout in itertools.pairwise(sizes):
        for _ in range(nout):
            flat += [rng.uniform(-1, 1) for _ in range(nin)] + [0.0]
    return flat


def mlp_loss(
    params: Sequence[Any],
    xs: Sequence[Sequence[Any]],
    ys: Sequence[int],
    sizes: Sequence[int] = MLP_SIZES,
) -> Any:
    """micrograd's demo loss: max-margin over the points plus 1e-4 L2 on the params.

    ``params`` is the flat list of ``mlp_weights``; hidden layers use relu, the last
    layer is linear; each neuron is ``b + w0*x0 + w1*x1 + ...`` in that order.
    """
    scores = []
    for x in xs:
        k = 0
        for layer, (nin, nout) in enumerate(itertools.pairwise(sizes)):
            out = []
            for _ in range(nout):
                act = params[k + nin]  # the bias
                for i in range(nin):
                    act = act + params[k + i] * x[i]
                out.append(act if layer == len(sizes) - 2 else act.relu())
                k += nin + 1
            x = out
        scores.append(x[0])
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores, strict=True)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in params)
    return data_loss + reg_loss


class DemoStep:
    """micrograd's demo step: MLP 2-16-16-1 over two moons, forward and loss.

    The inputs are made leaves of the engine on every step, as micrograd's demo does.
    """

    def __init__(self, engine: Engine, points: int = 100) -> None:
        self.engine = engine
        self.xs, self.ys = moons(points)
        self.leaves = [engine.leaf(w) for w in mlp_weights()]

    def forward(self) -> Any:
        leaf, zero_grad = self.engine.leaf, self.engine.zero_grad
        for p in self.leaves:
            zero_grad(p)
        inputs = [[leaf(a), leaf(b)] for a, b in self.xs]
        return mlp_loss(self.leaves, inputs, self.ys)


# -------------------------------------------------------------------------------------
# The same step, by the means a user would pick instead
# -------------------------------------------------------------------------------------


class TracedDemoStep:
    """The demo step by traced replay: ``autograd_scalar.trace`` of ``mlp_loss``.

    The 337 parameters are the traced function's arguments; the points are constants.
    ``step()`` replays forward and backward and returns ``(loss, grads)``.
    """

    def __init__(self, points: int = 100) -> None:
        import autograd_scalar

        self.trace = autograd_scalar.trace
        xs, self.ys = moons(points)
        self.xs: list[list[float]] = xs
        self.params = mlp_weights()

    def loss(self, *params: Any) -> Any:
        return mlp_loss(params, self.xs, self.ys)

    def prepare(self) -> Any:
        """Trace the step and run it once: what a user pays before the first replay."""
        replay = self.trace(self.loss, *self.params)
        replay.value_and_grad(*self.params)
        return replay


class BatchedDemoStep:
    """The demo step in PyTorch with batched float64 tensors (what a user would pick).

    ``forward()`` returns the loss; its gradients land on ``leaves`` (W1, b1, W2, ...).
    """

    def __init__(self, points: int = 100) -> None:
        import torch

        self.torch = torch
        xs, ys = moons(points)
        self.x = torch.tensor(xs, dtype=torch.float64)
        self.y = torch.tensor(ys, dtype=torch.float64).unsqueeze(1)
        flat = mlp_weights()
        self.leaves = []
        k = 0
        for nin, nout in itertools.pairwise(MLP_SIZES):
            rows = [
                flat[k + j * (nin + 1) : k + (j + 1) * (nin + 1)] for j in range(nout)
            ]
            k += nout * (nin + 1)
            weights = torch.tensor([r[:nin] for r in rows], dtype=torch.float64).T
            bias = torch.tensor([r[nin] for r in rows], dtype=torch.float64)
            self.leaves += [weights.requires_grad_(), bias.requires_grad_()]

    def forward(self) -> Any:
        for p in self.leaves:
            p.grad = None
        h = self.x
        layers = len(self.leaves) // 2
        for i in range(layers):
            h = h @ self.leaves[2 * i] + self.leaves[2 * i + 1]
            if i < layers - 1:
                h = h.relu()
        data_loss = (1 - self.y * h).relu().mean()
        reg_loss = 1e-4 * sum((p * p).sum() for p in self.leaves)
        return data_loss + reg_loss

    def flat_grads(self) -> list[float]:
        """The gradients in ``mlp_weights`` order: per neuron, its weights then bias."""
        flat: list[float] = []
        for weights, bias in zip(self.leaves[::2], self.leaves[1::2], strict=True):
            dw: Any = weights.grad
            db: Any = bias.grad
            for j in range(weights.shape[1]):
                flat += [*dw[:, j].tolist(), float(db[j])]
        return flat
