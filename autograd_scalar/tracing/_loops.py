"""Loop detection: stretches of a trace where f repeated itself become loops.

A Python loop in f leaves the same structure in the trace once per iteration.
Written once instead of ``reps`` times, the code compiles in a fraction of the time,
and runs as fast. ``find_blocks`` finds such stretches in the builder's numbering;
``prepare_blocks`` makes each block's first iteration stand for all of them (loop
variables for what differs per iteration, values carried between iterations).
"""

from __future__ import annotations

from typing import Any

from .._engine import Primitive
from ._builder import Graph
from ._templates import _LIVE, _VARYING

_MIN_REPS = 3  # fewer repetitions are written out in full
_MIN_BLOCK = 48  # nor are fewer repeated nodes


class _Var:
    """An operand read from a loop variable.

    Either a constant that varies per iteration, or (``init >= 0``) a value carried
    from the previous iteration: node ``src`` of iteration 0 stands for it, and
    node ``init``, made before the loop, is its value in the first iteration.
    """

    __slots__ = ("init", "name", "src")

    def __init__(self, name: str, init: int = -1, src: int = -1) -> None:
        self.name = name
        self.init = init
        self.src = src


class _Block:
    """A stretch of the trace that repeats: ``reps`` iterations of ``length`` nodes.

    Iterations read the arguments, constants, their own nodes, the previous
    iteration's (``carried``) and nodes made before the loop, so one iteration's code
    runs in a loop; constants that differ per iteration come from the table
    ``consts``.
    """

    __slots__ = ("carried", "consts", "length", "number", "reps", "saved", "start")

    def __init__(self, number: int, start: int, length: int, reps: int) -> None:
        self.number = number
        self.start = start
        self.length = length
        self.reps = reps
        self.consts: list[list[Any]] = [[] for _ in range(reps)]
        self.saved: list[int] = []  # iteration 0's nodes kept for later code
        self.carried: list[_Var] = []  # values carried from iteration to iteration

    def iteration(self, order: list[Any], k: int) -> list[int]:
        first = self.start + k * self.length
        return order[first : first + self.length]


def find_blocks(graph: Graph) -> list[_Block]:
    """Stretches of ``graph.order`` where one iteration's structure repeats.

    Nodes of the same shape (``graph.shapes``) get the same number in ``sig``. A
    period L with sig[t] == sig[t + L] over a long run is a loop; it is kept if
    each iteration reads only its own nodes (and arguments and constants).
    Periods are tried by how much they would cover.
    """
    order = graph.order
    signatures = _Signatures(graph)
    sig = signatures.at(len(order))
    last: dict[int, int] = {}
    periods: dict[int, int] = {}
    for position, h in enumerate(sig):
        if h in last:
            d = position - last[h]
            periods[d] = periods.get(d, 0) + 1
        last[h] = position
    candidates = sorted(periods, key=lambda d: -periods[d] * d)[:4]
    position_of = {i: p for p, i in enumerate(order) if type(i) is int}
    claimed = bytearray(len(order))
    blocks: list[_Block] = []
    for length in candidates:
        if periods[length] < length * (_MIN_REPS - 1) or length < 2:
            continue
        if sum(claimed) > 0.9 * len(order):
            break  # nearly all of it is in loops already
        sig = signatures.at(2 * length)
        same = bytes(a == b for a, b in zip(sig, sig[length:], strict=False))
        t = same.find(1)
        while t >= 0:
            run_end = same.find(0, t)
            if run_end < 0:
                run_end = len(same)
            # positions t .. run_end + length - 1 repeat with period length
            block = _place_block(
                graph, t, run_end + length, length, position_of, claimed, len(blocks)
            )
            if block is not None:
                blocks.append(block)
            t = same.find(1, run_end)
    blocks.sort(key=lambda b: b.start)
    return blocks


class _Signatures:
    """A number per position of ``order``, equal for nodes of the same shape."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.ids: dict[Any, int] = {}
        self.sig: list[int] = []
        self.far: list[tuple[int, int]] = []  # (farthest, position), sorted
        shapes, nargs, farthest = graph.shapes, graph.nargs, graph.farthest
        for position, i in enumerate(graph.order):
            if type(i) is not int or i < nargs:
                key: Any = position  # unique: guards and arguments never repeat
            else:
                key = shapes[i]  # None for a constant
                if farthest[i] < 0:
                    self.far.append((farthest[i], position))
            self.sig.append(self.ids.setdefault(key, len(self.ids)))
        self.far.sort()

    def at(self, horizon: int) -> list[int]:
        """The signatures where an operand made more than ``horizon`` nodes back
        counts by its number, not its distance: a value made before a loop and read
        in every iteration."""
        shapes, order, ids = self.graph.shapes, self.graph.order, self.ids
        sig = list(self.sig)
        for far, position in self.far:
            if far >= -horizon:
                break
            i = order[position]
            key = tuple(
                ("made", i + d) if type(d) is int and d < -horizon else d
                for d in shapes[i]
            )
            sig[position] = ids.setdefault(key, len(ids))
        return sig


def _place_block(
    graph: Graph,
    run_start: int,
    span_end: int,
    length: int,
    position_of: dict[int, int],
    claimed: bytearray,
    number: int,
) -> _Block | None:
    order, operands, live = graph.order, graph.operands, graph.live
    out = graph.out_index
    for phase in range(min(length, span_end - run_start)):
        start = run_start + phase
        reps = (span_end - start) // length
        end = start + reps * length
        if out >= 0 and start <= position_of.get(out, -1):
            reps = min(reps, (position_of[out] - start) // length)
            end = start + reps * length
        if reps < _MIN_REPS or length * reps < _MIN_BLOCK:
            return None
        if any(claimed[start:end]):
            continue
        # An iteration reads its own nodes, the previous iteration's, or
        # nodes made before the loop (read by number: more than 2L back).
        previous = order[start] - length
        if all(
            type(j) is not int
            or not live[j]
            or j < graph.nargs
            or j >= previous
            or i - j > 2 * length
            for i in order[start : start + length]
            for j in operands[i]
        ):
            claimed[start:end] = b"\x01" * (end - start)
            return _Block(number, start, length, reps)
    return None


def prepare_blocks(graph: Graph, blocks: list[_Block]) -> None:
    """Make iteration 0 stand for all: union of needs, variables per constant."""
    order, operands, live, stored = (
        graph.order,
        graph.operands,
        graph.live,
        graph.stored,
    )
    inside: set[int] = set()
    for block in blocks:
        inside.update(order[block.start : block.start + block.length * block.reps])
    # A node read after its block ends must be kept from its iteration.
    for i in range(graph.nargs, len(graph.nodes)):
        if live[i] and i not in inside:
            for j in operands[i]:
                if type(j) is int and j in inside:
                    stored[j] = True
    for block in blocks:
        iterations = [block.iteration(order, k) for k in range(block.reps)]
        _carry(graph, block, iterations[0])
        for p, i in enumerate(iterations[0]):
            if live[i]:
                _merge_iterations(graph, block, [it[p] for it in iterations])
        block.saved = [i for i in iterations[0] if live[i] and stored[i]]


def _carry(graph: Graph, block: _Block, first: list[int]) -> None:
    """Operands of iteration 0 read from just before it become carried values."""
    operands, live = graph.operands, graph.live
    previous = max(graph.nargs, first[0] - block.length)
    for i in first:
        for m, j in enumerate(operands[i]):
            if type(j) is int and live[j] and previous <= j < first[0]:
                carried = _Var(f"r{i}_{m}", init=j, src=j + block.length)
                operands[i][m] = carried
                block.carried.append(carried)
                graph.stored[carried.src] = True


def _merge_iterations(graph: Graph, block: _Block, same: list[int]) -> None:
    """Node ``same[0]`` stands for ``same`` (one per iteration): it needs a gradient
    or a variable if any does, and a constant that differs is a loop variable."""
    i = same[0]
    operands = graph.operands
    graph.needs[i] = any(graph.needs[j] for j in same)
    graph.stored[i] = any(graph.stored[j] for j in same)
    pattern = list(graph.patterns[i])
    for m in range(len(operands[i])):
        if pattern[m] is _LIVE:
            continue
        keys = [graph.patterns[it][m] for it in same]
        if any(key != keys[0] for key in keys):
            pattern[m] = _VARYING
            operands[i][m] = _Var(f"c{i}_{m}")
            for k, key in enumerate(keys):
                block.consts[k].append(key[1])
    if _VARYING in pattern:
        graph.patterns[i] = tuple(pattern)
        op: Primitive = graph.nodes[i]._op  # type: ignore[assignment]
        graph.templates[i] = graph.template(op, tuple(pattern))


def saved_names(block: _Block) -> list[str]:
    """What one iteration saves for later: its kept nodes, then carried values."""
    return [f"v{i}" for i in block.saved] + [c.name for c in block.carried]


def const_names(
    block: _Block, order: list[Any], operands: list[list[Any]]
) -> list[str]:
    """The loop variables holding one iteration's constants, in table order."""
    first = block.iteration(order, 0)
    return [
        j.name for i in first for j in operands[i] if type(j) is _Var and j.init < 0
    ]
