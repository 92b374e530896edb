"""Hypothesis strategies for Values and for random differentiable expressions.

This is the only module of the package that imports hypothesis; install it with
``pip install 'autograd_scalar[testing]'``. With that extra installed,
``st.from_type(Value)`` works in any project: hypothesis finds ``values()`` through
its plugin entry point.

>>> from hypothesis import given
>>> from autograd_scalar.testing import check_grad
>>> @given(expressions(max_inputs=2))
... def test_gradients(case):
...     f, args = case
...     assert check_grad(f, *args)
>>> test_gradients()
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from hypothesis import reject
from hypothesis import strategies as st

from .._engine import Primitive, Value
from .._rules import _OPERATORS, _is_call, registered

__all__ = ["Constant", "Expression", "Node", "expressions", "values"]


def values(
    min_value: float | None = None, max_value: float | None = None
) -> st.SearchStrategy[Value]:
    """Leaf Values holding a finite float in ``[min_value, max_value]``.

    Without bounds, any finite float. Shrinks towards ``Value(0.0)``, or when 0 is
    out of range towards the simplest float in it (small integers first).

    >>> from hypothesis import given
    >>> @given(values(min_value=-2, max_value=2))
    ... def test_square(x):
    ...     (x * x).backward()
    ...     assert x.grad == 2 * x.data
    >>> test_square()
    """
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False).map(
        Value
    )


# -------------------------------------------------------------------------------------
# Expressions
# -------------------------------------------------------------------------------------


class Constant(NamedTuple):
    """A plain-number operand of a node (the ``2`` in ``x0 * 2``).

    >>> import autograd_scalar as ag
    >>> Expression(1, [Node(ag.registered()["mul"], (0, Constant(2)))])
    lambda x0: x0 * 2
    """

    value: int


class Node(NamedTuple):
    """One operation of an ``Expression``: a primitive applied to earlier slots.

    An operand is an ``int``, the slot it reads (inputs are slots ``0 .. arity-1``,
    node ``k`` is slot ``arity + k``), or a ``Constant``.

    >>> import autograd_scalar as ag
    >>> exp, atan2 = ag.registered()["exp"], ag.registered()["atan2"]
    >>> Expression(2, [Node(exp, (1,)), Node(atan2, (0, 2))])  # x1 is slot 1
    lambda x0, x1: atan2(x0, exp(x1))
    """

    primitive: Primitive
    operands: tuple[int | Constant, ...]


# Built-in primitives that Python's operators reach: an expression applies them
# through the operator, so it tests the operator route and works on any number type
# that has the operators (Fractions, sympy symbols) as well as on Values.
_INFIX: dict[str, tuple[Callable[[Any, Any], Any], str]] = {
    op.primitive.name: (op.apply, op.symbol)
    for op in _OPERATORS
    if op.primitive.arity == 2 and not _is_call(op)
}
_PREFIX: dict[str, tuple[Callable[[Any], Any], str]] = {
    op.primitive.name: (op.apply, op.symbol)
    for op in _OPERATORS
    if op.primitive.arity == 1 and not _is_call(op)
}
# Those called like a function: abs(x), round(x, 2), math.floor(x).
_CALLS: dict[str, tuple[Callable[..., Any], str]] = {
    op.primitive.name: (op.apply, op.symbol) for op in _OPERATORS if _is_call(op)
}
# Those written as a sign (-x).
_SIGNS = set(_PREFIX)


class Expression:
    """A function of ``arity`` inputs built from primitives, as ``expressions()`` draws.

    ``nodes`` are applied in order; each reads inputs (slots ``0 .. arity-1``),
    earlier nodes (node ``k`` is slot ``arity + k``) or constants, and the last one
    is the output. Nodes may share operands, so the function is a DAG with shared
    subexpressions; nodes the output does not read are dropped. Call it on numbers
    or Values like the function it stands for; its repr is that function as Python
    source, in the package's names:

    >>> import autograd_scalar as ag
    >>> mul, sin = ag.registered()["mul"], ag.registered()["sin"]
    >>> f = Expression(1, [Node(sin, (0,)), Node(mul, (1, 1))])
    >>> f
    lambda x0: (t0 := sin(x0)) * t0
    >>> f(0.5) == ag.sin(0.5) ** 2
    True
    """

    __slots__ = ("arity", "nodes")

    def __init__(self, arity: int, nodes: Iterable[Node]) -> None:
        self.arity = arity
        self.nodes = _reaching_output(arity, tuple(nodes))

    def __len__(self) -> int:
        return len(self.nodes)

    def __call__(self, *args: Any) -> Any:
        return self.trace(*args)[-1]

    def trace(
        self, *args: Any, functions: Mapping[str, Callable[..., Any]] | None = None
    ) -> list[Any]:
        """Every slot's value: the inputs, then each node's.

        ``functions`` maps primitive names to stand-ins (to replay the expression in
        another library); a primitive not in it is applied as itself.

        >>> import autograd_scalar as ag
        >>> f = Expression(1, [Node(ag.registered()["exp"], (0,))])
        >>> f.trace(0.0)
        [0.0, 1.0]
        """
        if len(args) != self.arity:
            raise TypeError(f"{self!r} takes {self.arity} argument(s), got {len(args)}")
        slots: list[Any] = list(args)
        for node in self.nodes:
            xs = [
                a.value if isinstance(a, Constant) else slots[a] for a in node.operands
            ]
            slots.append(_apply(node.primitive, xs, functions))
        return slots

    def subexpression(self, k: int) -> Expression:
        """The expression whose output is node ``k`` (negative ``k`` counts back).

        >>> import autograd_scalar as ag
        >>> exp, neg = ag.registered()["exp"], ag.registered()["neg"]
        >>> Expression(1, [Node(exp, (0,)), Node(neg, (1,))]).subexpression(0)
        lambda x0: exp(x0)
        """
        return Expression(self.arity, self.nodes[: range(len(self.nodes))[k] + 1])

    def __repr__(self) -> str:
        names = ", ".join(f"x{i}" for i in range(self.arity))
        return f"lambda {names}: {''.join(self._source())}"

    __str__ = __repr__

    def _source(self) -> list[str]:
        """The output as Python source, a left-to-right depth-first walk.

        A node used more than once is written ``(tK := ...)`` where Python first
        evaluates it and ``tK`` afterwards, so the source computes each node once.
        """
        uses = [0] * len(self.nodes)
        for node in self.nodes:
            for a in node.operands:
                if not isinstance(a, Constant) and a >= self.arity:
                    uses[a - self.arity] += 1
        names: dict[int, str] = {}
        out: list[str] = []
        # The stack holds text to emit and (slot, parenthesize) pairs to expand.
        stack: list[str | tuple[int, bool]] = [
            (len(self.nodes) - 1 + self.arity, False)
        ]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                out.append(item)
                continue
            slot, nested = item
            if slot < self.arity:
                out.append(f"x{slot}")
                continue
            k = slot - self.arity
            if k in names:
                out.append(names[k])
                continue
            parts = self._node_parts(self.nodes[k])
            if uses[k] > 1:
                names[k] = f"t{len(names)}"
                parts = [f"({names[k]} := ", *parts, ")"]
            elif nested and self.nodes[k].primitive.name in (*_INFIX, *_SIGNS):
                parts = ["(", *parts, ")"]
            stack.extend(reversed(parts))
        return out

    def _node_parts(self, node: Node) -> list[str | tuple[int, bool]]:
        def operand(a: int | Constant) -> str | tuple[int, bool]:
            if isinstance(a, Constant):
                return f"({a.value!r})" if a.value < 0 else repr(a.value)
            return (a, True)

        name = node.primitive.name
        ops = [operand(a) for a in node.operands]
        if name in _INFIX:
            return [ops[0], f" {_INFIX[name][1]} ", ops[1]]
        if name in _SIGNS:
            return [_PREFIX[name][1], ops[0]]
        called = _CALLS[name][1] if name in _CALLS else name
        parts: list[str | tuple[int, bool]] = [f"{called}("]
        for i, op in enumerate(ops):
            if i > 0:
                parts.append(", ")
            parts.append(op if isinstance(op, str) else (op[0], False))
        return [*parts, ")"]


def _reaching_output(arity: int, nodes: tuple[Node, ...]) -> tuple[Node, ...]:
    """The nodes the output (the last node) reads, renumbered; the rest dropped."""
    if not nodes:
        raise ValueError("Expression: needs at least one node")
    for k, node in enumerate(nodes):
        if len(node.operands) != node.primitive.arity or any(
            not isinstance(a, Constant) and not 0 <= a < arity + k
            for a in node.operands
        ):
            raise ValueError(f"Expression: node {k} has bad operands: {node!r}")
    live = [False] * len(nodes)
    live[-1] = True
    for k in reversed(range(len(nodes))):
        if live[k]:
            for a in nodes[k].operands:
                if not isinstance(a, Constant) and a >= arity:
                    live[a - arity] = True
    slot = list(range(arity))  # old slot -> new slot
    kept: list[Node] = []
    for node, keep in zip(nodes, live, strict=True):
        slot.append(arity + len(kept))
        if keep:
            operands = tuple(
                a if isinstance(a, Constant) else slot[a] for a in node.operands
            )
            kept.append(Node(node.primitive, operands))
    return tuple(kept)


def _apply(
    prim: Primitive,
    xs: Sequence[Any],
    functions: Mapping[str, Callable[..., Any]] | None,
) -> Any:
    name = prim.name
    if functions is not None and name in functions:
        return functions[name](*xs)
    if name in _INFIX:
        return _INFIX[name][0](*xs)
    if name in _PREFIX:
        return _PREFIX[name][0](*xs)
    if name in _CALLS:
        return _CALLS[name][0](*xs)
    return prim(*xs)


# -- Where an expression is safe to check --------------------------------------------

_BOUND = 50.0
"""Largest magnitude allowed for a node's value, a local partial, or a sensitivity.

Finite differences lose about ``2**-52 * |value| * sensitivity / step`` to rounding;
with ``check_grad``'s step of 1e-6 this bound keeps that well under its ``atol``.
"""
_PROBE = 1e-3
"""Relative distance of the probes around a point: a thousand ``check_grad`` steps."""
_JUMP = 0.5
"""Largest change of a local partial between a point and a probe.

Smooth partials change by about ``second derivative * probe distance``; every kink
of the rule table (relu, abs, maximum, minimum, hypot) jumps by at least 1.
"""


class _Local(NamedTuple):
    inputs: tuple[float, ...]  # the operands that are slots, as plain numbers
    value: float
    partials: tuple[float, ...]  # d value / d each of those operands


def _locals(expr: Expression, args: Sequence[float]) -> list[_Local] | None:
    """Each node's operands, value and partials at ``args``; None if any is unsafe.

    Unsafe: outside a primitive's ``domain``, an error, or a value or partial that
    is not finite or exceeds ``_BOUND``.
    """
    slots: list[float] = list(args)
    found: list[_Local] = []
    for node in expr.nodes:
        prim = node.primitive
        xs = [a.value if isinstance(a, Constant) else slots[a] for a in node.operands]
        varying = [
            i for i, a in enumerate(node.operands) if not isinstance(a, Constant)
        ]
        try:
            if prim.domain is not None and not prim.domain(*xs):
                return None
            value = float(prim.fn(*xs))
            partials = tuple(float(prim.partials[i](value, *xs)) for i in varying)
        except (ArithmeticError, ValueError, TypeError):
            return None
        if not all(math.isfinite(v) and abs(v) <= _BOUND for v in (value, *partials)):
            return None
        slots.append(value)
        found.append(_Local(tuple(xs[i] for i in varying), value, partials))
    return found


def _sensitivities_bounded(expr: Expression, found: list[_Local]) -> bool:
    """Whether |d output / d slot|, summed over paths in absolute value, stays bounded.

    This bounds how much rounding in any node can move the output.
    """
    sens = [0.0] * (expr.arity + len(expr.nodes))
    sens[-1] = 1.0
    for k in reversed(range(len(expr.nodes))):
        s = sens[expr.arity + k]
        slots = [a for a in expr.nodes[k].operands if not isinstance(a, Constant)]
        for a, d in zip(slots, found[k].partials, strict=True):
            sens[a] += abs(d) * s
    return max(sens) <= _BOUND


def _safe(expr: Expression, args: Sequence[float]) -> bool:
    """Whether ``check_grad(expr, *args)`` must hold: smooth, bounded, far from kinks.

    Every node must be safe (see ``_locals``) at ``args`` and at probes a
    ``_PROBE``-relative step away along each input; between the point and each probe
    no partial may jump (a kink crossed) and no value may move faster than
    ``_BOUND`` allows (a jump, such as atan2's branch cut, crossed).
    """
    here = _locals(expr, args)
    if here is None or not _sensitivities_bounded(expr, here):
        return False
    for i, a in enumerate(args):
        for sign in (-1, 1):
            moved = list(args)
            moved[i] = a + sign * _PROBE * max(1.0, abs(a))
            there = _locals(expr, moved)
            if there is None:
                return False
            for p, q in zip(here, there, strict=True):
                shift = sum(abs(x - y) for x, y in zip(p.inputs, q.inputs, strict=True))
                if abs(p.value - q.value) > _BOUND * shift + 1e-12 or any(
                    abs(d - e) > _JUMP
                    for d, e in zip(p.partials, q.partials, strict=True)
                ):
                    return False
    return True


_ATTEMPTS = 4  # points tried per drawn expression before rejecting it


@st.composite
def _expressions(
    draw: st.DrawFn,
    max_inputs: int,
    max_ops: int,
    primitives: Sequence[str | Primitive] | None,
    min_value: float,
    max_value: float,
) -> tuple[Expression, tuple[float, ...]]:
    table = registered()  # at draw time: user primitives registered by now count
    if primitives is None:  # every public one (an underscored name is internal)
        pool = [p for p in table.values() if not p.name.startswith("_")]
    else:
        pool = [table[p] if isinstance(p, str) else p for p in primitives]
    arity = draw(st.integers(1, max_inputs))
    nodes = []
    unread: list[int] = []  # slots of nodes that no later node reads yet
    for k in range(draw(st.integers(1, max_ops))):
        prim = draw(st.sampled_from(pool))
        n_slots = arity + k
        operands: list[int | Constant] = []
        for i in range(prim.arity):
            kind = draw(st.integers(0, 5))
            if kind == 5 and i > 0:
                # A constant, but never for every operand: a node of constants only
                # would be a constant itself.
                operands.append(Constant(draw(st.integers(-3, 3))))
                continue
            if kind <= 2:
                # The newest node nothing reads yet (so few nodes go unused), or the
                # newest slot: shrinks towards a chain, each node reading the last.
                slot = unread.pop() if unread else n_slots - 1
            elif kind == 3:
                slot = draw(st.integers(0, arity - 1))
            else:  # any slot, counted back from the newest: shared operands
                slot = n_slots - 1 - draw(st.integers(0, n_slots - 1))
            if slot in unread:
                unread.remove(slot)
            operands.append(slot)
        unread.append(n_slots)
        if prim.arity > 1 and draw(st.booleans()):
            operands.reverse()  # the constant (if any) on the left: 2 - x, 2 ** x
        nodes.append(Node(prim, tuple(operands)))
    expr = Expression(arity, nodes)
    point = st.tuples(
        *[
            st.floats(
                min_value,
                max_value,
                allow_nan=False,
                allow_infinity=False,
                allow_subnormal=False,
            )
            for _ in range(arity)
        ]
    )
    for _ in range(_ATTEMPTS):
        args = draw(point)
        if _safe(expr, args):
            return expr, args
    reject()


def expressions(
    max_inputs: int = 3,
    max_ops: int = 8,
    *,
    primitives: Iterable[str | Primitive] | None = None,
    min_value: float = -4.0,
    max_value: float = 4.0,
) -> st.SearchStrategy[tuple[Expression, tuple[float, ...]]]:
    """Random differentiable functions ``f`` with a point ``args`` to check them at.

    Generates pairs ``(f, args)``: ``f`` an ``Expression`` (a callable whose repr is
    its source) of 1 to ``max_inputs`` inputs and 1 to ``max_ops`` operations, each
    a primitive applied to earlier results, inputs or small integer constants, so
    subexpressions are shared (a DAG, not only a tree). The primitives are drawn
    from ``primitives`` (names or Primitives), by default every primitive in
    ``registered()`` when the example is drawn: built-in and user-defined.

    ``args`` are floats in ``[min_value, max_value]`` where ``check_grad(f, *args)``
    (and its ``order=2``) must hold: every operation is inside its primitive's
    ``domain``, values, local derivatives and their products along paths stay below
    50 in magnitude, and no kink, jump or domain edge lies within a thousand
    finite-difference steps of the point along any input. Expressions that admit no
    such point are rejected.

    Shrinks towards fewer inputs and operations, towards the first primitives of
    the pool (``add`` for the built-ins), towards each operation reading the one
    before it, and towards simple points (0, then small integers).

    >>> import autograd_scalar as ag
    >>> from hypothesis import given
    >>> @given(expressions(primitives=["mul", "sin", "exp"]))
    ... def test_runs(case):
    ...     f, args = case
    ...     out = f(*[ag.Value(a) for a in args])
    ...     assert out.data == f(*args)
    >>> test_runs()
    """
    if not (isinstance(max_inputs, int) and isinstance(max_ops, int)):
        raise TypeError(
            f"expressions: max_inputs and max_ops must be ints, "
            f"got {max_inputs!r} and {max_ops!r}"
        )
    if max_inputs < 1 or max_ops < 1:
        raise ValueError(
            f"expressions: max_inputs and max_ops must be at least 1, "
            f"got {max_inputs} and {max_ops}"
        )
    if not min_value < max_value:
        raise ValueError(
            f"expressions: need min_value < max_value, got {min_value} and {max_value}"
        )
    chosen = None if primitives is None else tuple(primitives)
    if chosen is not None:
        table = registered()
        unknown = [p for p in chosen if isinstance(p, str) and p not in table]
        if unknown or not chosen:
            raise ValueError(
                f"expressions: no primitive named {unknown[0]!r}"
                if unknown
                else "expressions: primitives is empty"
            )
    return _expressions(max_inputs, max_ops, chosen, min_value, max_value)
