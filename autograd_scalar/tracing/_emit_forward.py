"""The forward emitter: a numbered trace (``_builder``) as straight-line source.

Each node that depends on the arguments is its template's forward with its
operands' source filled in; a node with a variable (``stored``) is assigned to
``v<i>``, the others are written inside their consumer. Each recorded decision
becomes a guard: over numbers a failed guard raises ``_GuardFailed``; over arrays
it clears the points where it fails in the mask ``_ok``.
"""

from __future__ import annotations

from typing import Any

from .._engine import Primitive, Value
from .._symbolic import _ATOM, _prec
from ._builder import Decision, Graph
from ._loops import _Block, _Var, const_names, saved_names
from ._templates import _float_unless_int

_MAX_DEPTH = 24  # deeper expressions are stored in a variable (compiler recursion)

_GUARD_FAILS = {
    True: "if not ({}): raise _GuardFailed",
    False: "if {}: raise _GuardFailed",
}


def emit_forward(graph: Graph, blocks: list[_Block]) -> list[str]:
    """The forward's lines; ``graph.code`` then holds every node's source."""
    order = graph.order
    n = len(graph.nodes)
    graph.code = [*graph.params, *[""] * (n - graph.nargs)]
    graph.prec = [_ATOM] * n
    graph.depth = [0] * n
    lines: list[str] = []
    starts = {block.start: block for block in blocks}
    position = 0
    while position < len(order):
        block = starts.get(position)
        if block is not None:
            _forward_block(graph, block, lines)
            position += block.length * block.reps
            continue
        i = order[position]
        position += 1
        if type(i) is not int:
            lines.append(_guard(graph, i))
        elif i >= graph.nargs:
            _forward_node(graph, i, lines)
    return lines


def _forward_node(graph: Graph, i: int, lines: list[str]) -> None:
    code, prec, depth = graph.code, graph.prec, graph.depth
    if not graph.live[i]:
        code[i] = graph.names.literal(graph.nodes[i].data)
        prec[i] = _prec(code[i])
        return
    template = graph.templates[i]
    assert template is not None
    texts = [""]
    d = 0
    inlined = False
    for j in graph.operands[i]:
        if type(j) is int:
            texts.append(code[j])
            if prec[j] != _ATOM:
                inlined = True
            d = max(d, depth[j])
        else:
            texts.append(j.name if type(j) is _Var else "")
    if inlined:  # the template for these operands' precedences
        precs = tuple(prec[j] if type(j) is int else _ATOM for j in graph.operands[i])
        op: Primitive = graph.nodes[i]._op  # type: ignore[assignment]
        template = graph.template(op, graph.patterns[i], precs)
    text = template.forward.format(*texts)
    if graph.stored[i] or d >= _MAX_DEPTH:
        lines.append(f"v{i} = {text}")
        code[i] = f"v{i}"
    else:
        code[i] = text
        prec[i] = template.prec
        depth[i] = d + 1


def _forward_block(graph: Graph, block: _Block, lines: list[str]) -> None:
    """One iteration's code in a loop; the table of per-iteration constants."""
    b = block.number
    body: list[str] = []
    first = block.iteration(graph.order, 0)
    for i in first:
        _forward_node(graph, i, body)
    consts = const_names(block, graph.order, graph.operands)
    if consts:
        table = [tuple(c) for c in block.consts]
        if graph.vector:  # no Fractions in array code
            table = [tuple(map(_float_unless_int, c)) for c in table]
        graph.names.namespace[f"C{b}"] = table
        lines.append(f"for {', '.join(consts)}, in C{b}:")
    else:
        lines.append(f"for _ in range({block.reps}):")
    saved = ", ".join(saved_names(block))
    lines.insert(len(lines) - 1, f"S{b} = []")
    for carried in block.carried:
        lines.insert(len(lines) - 1, f"{carried.name} = {graph.code[carried.init]}")
    lines.extend(f"    {line}" for line in body)
    lines.append(f"    S{b}.append(({saved},))")
    lines.extend(f"    {c.name} = v{c.src}" for c in block.carried)
    # After the loop, a node of iteration k is read from what was saved.
    where = {i: p for p, i in enumerate(first)}
    for k in range(block.reps):
        iteration = block.iteration(graph.order, k)
        for m, i in enumerate(block.saved):
            j = iteration[where[i]]
            graph.code[j] = f"S{b}[{k}][{m}]"
            graph.prec[j] = _ATOM
            graph.depth[j] = 0


def _operand(graph: Graph, z: Any) -> tuple[str, bool]:
    """Source for what a decision read, and whether it depends on the arguments."""
    if type(z) is Value:
        i = graph.index.get(z, -1)
        if i >= 0 and graph.live[i]:
            return graph.code[i], True
        if i < 0:
            graph.leaves[z] = z.data
        return graph.names.literal(z.data), False
    return graph.names.literal(z), False


def _guard(graph: Graph, decision: Decision) -> str:
    """The check that a recorded decision comes out the same (or "" if fixed)."""
    kind, x, y, result = decision
    a, a_live = _operand(graph, x)
    if kind in ("float", "int"):
        if not a_live:
            return ""
        expected = graph.names.literal(result)
        if graph.vector:
            a = f"_trunc({a})" if kind == "int" else a
            return f"_ok = _ok & ({a} == {expected})"
        return f"if {kind}({a}) != {expected}: raise _GuardFailed"
    if kind == "bool":
        if not a_live:
            return ""
        if graph.vector:
            return f"_ok = _ok & ({a} {'!=' if result else '=='} 0)"
        return _GUARD_FAILS[bool(result)].format(a)
    b, b_live = _operand(graph, y)
    if not (a_live or b_live):
        return ""
    if graph.vector:
        holds = f"({a} {kind} {b})" if result else f"~({a} {kind} {b})"
        return f"_ok = _ok & {holds}"
    return _GUARD_FAILS[bool(result)].format(f"{a} {kind} {b}")
