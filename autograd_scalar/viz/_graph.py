"""The graph as every view shows it: its nodes in reading order, one name each.

Every node gets one display name, shared by drawings, explanations and the stepper:
its ``label`` (an ``nn`` parameter's is where it lives, ``L1.N3.w0``), or for an
unlabeled node its operation and its number among the nodes of that operation in
reading order (``mul#2``; ``leaf#0`` for a leaf).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .._engine import Value

FILL = {"leaf": "#e8f0fe", "root": "#fff4cc", "interior": "#ffffff"}


def reading_order(root: Value) -> list[Value]:
    """Every Value below ``root`` (itself and leaves included), inputs first.

    The order a reader meets the nodes in the code: operands left to right, so that
    ``mul#0`` is the first product written. (The engine's ``toposort`` follows the
    backward pass instead; ``backward_steps`` uses that one.)
    """
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value, got {type(root).__name__}: {root!r}")
    done: set[Value] = set()
    order: list[Value] = []
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in done:
            continue
        done.add(node)
        stack.append((node, True))
        for x in reversed(node._inputs()):
            if isinstance(x, Value) and x not in done:
                stack.append((x, False))
    return order


class Names:
    """Each node's display name: its label, or its op and its number among the
    nodes of that op in reading order (``mul#2``: the third product). Labels are
    read on demand, so naming the few nodes a summary draws stays cheap.
    """

    def __init__(self, order: Iterable[Value]) -> None:
        self._number: dict[Value, int] = {}
        counts: dict[str, int] = {}
        for node in order:
            op = node.op
            k = counts.get(op, 0)
            counts[op] = k + 1
            self._number[node] = k

    def __getitem__(self, node: Value) -> str:
        number = self._number[node]  # a KeyError for a node not in the graph
        return node.label or f"{node.op or 'leaf'}#{number}"

    def get(self, node: Value, default: str) -> str:
        return self[node] if node in self._number else default


def names(order: Iterable[Value]) -> Names:
    """The display names of the nodes of ``order`` (see ``Names``)."""
    return Names(order)


def show(x: Any, digits: int = 6) -> str:
    """A number for display: exact types in full, floats to ``digits`` digits."""
    if isinstance(x, Value):
        x = x.data
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


def kind(node: Value, root: Value) -> str:
    """``"root"``, ``"leaf"`` or ``"interior"``: what the node's fill colour says."""
    return "root" if node is root else "leaf" if node._op is None else "interior"


def value_lines(node: Value, name: str) -> list[str]:
    """The text of a Value's box: its name, data and grad."""
    return [name, f"data {show(node.data)}", f"grad {show(node.grad)}"]
