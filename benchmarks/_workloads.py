"""Workloads written once and run on any engine with micrograd's Value interface.

An engine here is a ``Value`` class whose instances support ``+``, ``*``, ``.relu()``,
``.tanh()``, ``.backward()``, ``.data`` and ``.grad``. micrograd's pip release has no
``tanh``; ``micrograd_value()`` adds one written in micrograd's own style.
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Any


def micrograd_value() -> Any:
    """micrograd's Value, with ``tanh`` added the way micrograd writes its ops."""
    from micrograd.engine import Value

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
        t = math.pi * k / ((n - half if outer else half) - 1)
        x, y = (
            (math.cos(t), math.sin(t))
            if outer
            else (1 - math.cos(t), 0.5 - math.sin(t))
        )
        xs.append([x + rng.gauss(0, noise), y + rng.gauss(0, noise)])
        ys.append(-1 if outer else 1)
    return xs, ys


def mlp_weights(sizes: list[int], seed: int = 1337) -> list[list[list[float]]]:
    """Weights per layer per neuron; the last entry of each neuron is its bias."""
    rng = random.Random(seed)
    return [
        [[rng.uniform(-1, 1) for _ in range(nin)] + [0.0] for _ in range(nout)]
        for nin, nout in itertools.pairwise(sizes)
    ]


class DemoStep:
    """micrograd's demo step: MLP 2-16-16-1 over two moons, max-margin loss + L2."""

    def __init__(self, value: Any, n: int = 100) -> None:
        self.value = value
        self.xs, self.ys = moons(n)
        self.layers = [
            [[value(w) for w in neuron] for neuron in layer]
            for layer in mlp_weights([2, 16, 16, 1])
        ]
        self.params = [p for layer in self.layers for neuron in layer for p in neuron]

    def model(self, x: list[Any]) -> Any:
        for i, layer in enumerate(self.layers):
            last = i == len(self.layers) - 1
            out = []
            for neuron in layer:
                act = neuron[-1]
                for wi, xi in zip(neuron, x, strict=False):  # the bias is last
                    act = act + wi * xi
                out.append(act if last else act.relu())
            x = out
        return x[0]

    def loss(self) -> Any:
        value = self.value
        inputs = [[value(a), value(b)] for a, b in self.xs]
        scores = [self.model(x) for x in inputs]
        losses = [(1 + -yi * si).relu() for yi, si in zip(self.ys, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = 1e-4 * sum(p * p for p in self.params)
        return data_loss + reg_loss

    def __call__(self) -> Any:
        for p in self.params:
            p.grad = 0
        total = self.loss()
        total.backward()
        return total


def chain(value: Any, nodes: int) -> Any:
    """``y = tanh(y*a + b)`` repeated: three nodes a step."""
    a, b = value(0.5), value(0.1)
    y = value(0.3)
    for _ in range(nodes // 3):
        y = (y * a + b).tanh()
    y.backward()
    return y
