"""The builder: one recorded run of f, numbered and classified for the emitters.

Nodes are numbered in a topological order: the arguments, then every node the guards
and the output depend on. A node that does not depend on an argument is a constant
(its traced value is written in). Each node that does gets a template (its forward
and backward terms as source, see ``_templates``); the builder also works out which
nodes a gradient reaches (``needs``) and which need a variable of their own
(``stored``): a node used once, in its consumer's forward only, is written inside
the consumer's expression.
"""

from __future__ import annotations

from typing import Any

from .._engine import Primitive, Value
from ._templates import _LIVE, _constant_key, _Names, _Template, _unkeyed

# A decision f took on data: (kind, x, y, result), as the engine's observer reports it.
Decision = tuple[str, Value, Any, Any]


class Graph:
    """One trace of f, numbered, with what the emitters need per node.

    ``order`` lists node numbers and decisions (guards) in the order the code runs
    them. ``operands[i]`` holds, per input of node i, a node number or a constant as
    a 1-tuple (the loop finder replaces some by loop variables). ``leaves`` maps the
    Values read that are not arguments (leaves, and nodes that depend on none) to
    the data written into the code (the staleness check).
    """

    def __init__(self, params: list[str], args: list[Value], names: _Names) -> None:
        self.names = names
        self.vector = names.numpy is not None
        self.params = params
        self.nargs = len(args)
        self.index: dict[Value, int] = {x: i for i, x in enumerate(args)}
        self.nodes: list[Value] = list(args)
        self.order: list[Any] = list(range(self.nargs))
        self.out_index = -1
        self.leaves: dict[Value, Any] = {}
        self.cache: dict[tuple[Any, ...], _Template] = {}
        # Per node, filled by classify(), needs() and stored():
        self.live: list[bool] = []
        self.operands: list[list[Any]] = []
        self.templates: list[_Template | None] = []
        self.patterns: list[tuple[Any, ...]] = []
        # Each node's shape, for finding stretches that repeat (see _loops): its
        # primitive and, per operand, the argument's number, how many nodes back it
        # was made (negative), or the type of a constant; and the farthest distance.
        self.shapes: list[Any] = []
        self.farthest: list[int] = []
        self.needs: list[bool] = []
        self.stored: list[bool] = []
        # Written by the emitters: each node's source, its precedence and depth.
        self.code: list[str] = []
        self.prec: list[int] = []
        self.depth: list[int] = []

    def template(
        self, op: Primitive, pattern: tuple[Any, ...], precs: tuple[int, ...] = ()
    ) -> _Template:
        """The template of ``op`` for a pattern of operands (made once, cached)."""
        key = (op, pattern, precs)
        template = self.cache.get(key)
        if template is None:
            template = _Template(op, _unkeyed(pattern), self.names, precs or None)
            self.cache[key] = template
        return template


def build(
    params: list[str],
    args: list[Value],
    out: Any,
    decisions: list[Decision],
    names: _Names,
) -> Graph:
    """Number and classify one run of f (``args`` its Values, ``out`` its result)."""
    graph = Graph(params, args, names)
    number(graph, out, decisions)
    classify(graph)
    mark_needs(graph)
    mark_stored(graph, decisions)
    return graph


def number(graph: Graph, out: Any, decisions: list[Decision]) -> None:
    """Number every node the guards and the output read, each after its inputs;
    each guard goes in as soon as what it reads is made."""
    for decision in decisions:
        _visit(graph, decision[1])
        _visit(graph, decision[2])
        graph.order.append(decision)
    _visit(graph, out)
    if type(out) is Value:
        graph.out_index = graph.index.get(out, -1)


def _visit(graph: Graph, root: Any) -> None:
    """Number root's interior nodes not numbered yet, each after its inputs.

    Not ``_engine.toposort``: this walk stops at nodes already numbered, so a guard
    per iteration of a long loop costs its own new nodes, not the whole graph again.
    """
    index, order, nodes = graph.index, graph.order, graph.nodes
    if type(root) is not Value or root._op is None or root in index:
        return
    value = Value
    stack: list[tuple[Value, bool]] = [(root, False)]
    push, pop = stack.append, stack.pop
    while stack:
        node, inputs_done = pop()
        if inputs_done:
            if node not in index:
                index[node] = len(nodes)
                order.append(len(nodes))
                nodes.append(node)
        elif node not in index:
            push((node, True))
            for x in node._inputs():
                if type(x) is value and x._op is not None and x not in index:
                    push((x, False))


def classify(graph: Graph) -> None:
    """Which nodes depend on the arguments, their operands, templates and shapes.

    An operand is a node's number, or a constant as a 1-tuple. A node's pattern
    (its template's key) has ``_LIVE`` for an operand that depends on the arguments
    and the constant's key for the others.
    """
    n, nargs, nodes = len(graph.nodes), graph.nargs, graph.nodes
    graph.live = live = [True] * nargs + [False] * (n - nargs)
    operands: list[list[Any]] = [[] for _ in range(n)]
    templates: list[_Template | None] = [None] * n
    graph.operands, graph.templates = operands, templates
    graph.patterns = [()] * n
    graph.shapes = [None] * n
    graph.farthest = [0] * n
    get, leaves, value, live_mark = graph.index.get, graph.leaves, Value, _LIVE
    for i in range(nargs, n):
        node = nodes[i]
        ops: list[Any] = []
        pattern: list[Any] = []
        shape: list[Any] = [node._op]
        far = 0
        for x in node._inputs():
            j = get(x) if type(x) is value else None
            if j is not None and live[j]:
                ops.append(j)
                pattern.append(live_mark)
                if j < nargs:
                    shape.append(j)
                else:
                    shape.append(j - i)
                    if j - i < far:
                        far = j - i
                continue
            if j is None:  # a number, or a leaf f made or closes over
                if type(x) is value:
                    data = leaves[x] = x.data
                else:
                    data = x
                ops.append((data,))
            else:  # a node that depends on no argument: its number is checked too
                data = leaves[nodes[j]] = nodes[j].data
                ops.append(j)
            pattern.append(_constant_key(data))
            shape.append(type(data))
        operands[i] = ops
        if live_mark not in pattern:
            continue  # depends on no argument: a constant
        live[i] = True
        graph.patterns[i] = key = tuple(pattern)
        templates[i] = graph.template(node._op, key)  # type: ignore[arg-type]
        graph.shapes[i] = tuple(shape)
        graph.farthest[i] = far


def mark_needs(graph: Graph) -> None:
    """Which nodes a gradient reaches: those the output depends on, through live
    operands."""
    n, out = len(graph.nodes), graph.out_index
    graph.needs = needs = [False] * n
    if out < 0 or not graph.live[out]:
        return
    needs[out] = True
    live, operands, templates = graph.live, graph.operands, graph.templates
    for i in range(n - 1, graph.nargs - 1, -1):
        if needs[i] and templates[i] is not None:
            for j in operands[i]:
                if type(j) is int and live[j]:
                    needs[j] = True


def mark_stored(graph: Graph, decisions: list[Decision]) -> None:
    """Which nodes get a variable: read twice, by the backward, a guard, or the
    output; the others are written inside their consumer's expression."""
    n = len(graph.nodes)
    needs = graph.needs
    uses = [0] * n  # how often each node appears in forward expressions
    graph.stored = stored = [False] * n
    for i in range(graph.nargs, n):
        template = graph.templates[i]
        if template is None:
            continue
        for k, j in enumerate(graph.operands[i], start=1):
            if type(j) is int:
                uses[j] += template.uses_forward[k]
                if needs[i] and template.uses[k]:
                    stored[j] = True
        if needs[i] and template.uses[0]:
            stored[i] = True
    for i in range(n):
        if uses[i] > 1:
            stored[i] = True
    for decision in decisions:
        for x in decision[1:3]:
            if type(x) is Value and x in graph.index:
                stored[graph.index[x]] = True
    if graph.out_index >= 0:
        stored[graph.out_index] = True
