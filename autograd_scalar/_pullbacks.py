"""Generated pullbacks: each primitive's chain rule as straight-line Python.

A first-order ``backward`` calls one pullback per node, so each primitive gets its
own, written from its partial functions by symbolic evaluation (``_symbolic``): a
partial that arithmetic on placeholders can express is written inline (tanh's
``1 - ans * ans``, relu's ``1 if x > 0 else 0``), a constant one is not evaluated
at all (add's 1 passes ``g`` on as it is), and an opaque one is called. An
operand's first contribution is stored rather than added to its zero. Each pullback
comes with its *walk*, the same chain rule run down a chain of nodes without a sort
(see ``_engine._backward_chain``).

The code is made the first time a backward runs through the primitive (importing
the package generates nothing) and is registered with ``linecache``, so tracebacks
and debuggers show it. ``_engine.pullback`` is the plain reference it must agree
with; it alone serves beyond two operands.
"""

from __future__ import annotations

import weakref
from typing import Any

from . import _engine
from ._engine import _FRESH, _SPLIT, Primitive, Value, _Pullback, _Walk
from ._symbolic import _ATOM, Names, _code, _explore, _Opaque, _prec, _Slot

__all__ = ["generate"]


class _Names(Names):
    """The namespace of one generated pullback: the objects it reads, by name."""

    def __init__(self) -> None:
        super().__init__({"_Value": Value, "_fresh": _FRESH, "_SPLIT": _SPLIT})

    def call(self, function: Any) -> str:
        """A helper the placeholders cannot see into, called by name."""
        return self.bind(function, "_h")


def _steps(
    op: Primitive, names: _Names, inputs: list[str]
) -> list[tuple[str, set[str]]]:
    """Per operand: the source of its contribution ``d/d(input) * _g``, and the
    names (``ans`` and inputs) that source reads."""
    slots = [_Slot(k) for k in range(op.arity + 1)]
    fill = ["ans", *inputs]
    steps: list[tuple[str, set[str]]] = []
    for partial in op.partials:
        try:
            tree = _explore(partial, list(slots), names, [])
        except _Opaque:
            tree = ("call",)
        if tree[0] == "number" and type(tree[1]) in (int, float) and tree[1] == 1:
            steps.append(("_g", set()))  # a 1 passes g on as it is
            continue
        if tree[0] == "number":
            source, prec = names.literal(tree[1]), _prec(names.literal(tree[1]))
        elif tree[0] == "call":
            slot_list = ", ".join(f"{{{k}}}" for k in range(op.arity + 1))
            source = f"{names.call(partial)}({slot_list})"
            prec = _ATOM
        else:
            source, prec = _code(tree, names)
        read = {name for k, name in enumerate(fill) if f"{{{k}}}" in source}
        source = source.format(*fill)
        code = source if prec >= _ATOM else f"({source})"
        steps.append((f"{code} * _g", read))
    return steps


def _branch(
    steps: list[tuple[str, set[str]]],
    inputs: list[str],
    values: list[str],
    sources: list[str],
    walk: bool,
) -> list[str]:
    """One pattern of operands: ``values`` are those that are Values (_a, _b),
    ``sources`` where each input's number is read from."""
    ks = [0 if v == "_a" else 1 for v in values]
    used = set().union(*(steps[k][1] for k in ks))
    lines = [
        f"{name} = {source}"
        for name, source in zip(inputs, sources, strict=True)
        if name in used
    ]
    if walk:  # the operand to visit next: interior, not yet visited
        pending = "{0}._op is not None and {0}.grad is not _zero"
        first = values[0]
        lines.append(f"_n = {first} if {pending.format(first)} else None")
        if len(values) > 1:
            lines += [
                f"if _b is not _a and {pending.format('_b')}:",
                "    if _n is not None:",
                "        return _SPLIT",
                "    _n = _b",
            ]
        lines += [
            "if _n is not None:",
            "    if _n.grad is not _fresh:  # kept, to be put back if the pass fails",
            "        _zero.saved[_n] = _n.grad",
            "    _n.grad = _zero",
        ]
    for k, operand in zip(ks, values, strict=True):
        # A leaf's sum is kept in its unused _a slot (starting from its grad) and
        # becomes its grad when the whole pass has run (_engine._commit): a pass
        # that fails leaves every leaf's grad as it was.
        lines += [
            f"_s = {steps[k][0]}",
            f"if {operand}._op is None:",
            f"    _o = {operand}._a",
            "    if _o is None:",
            f"        _zero.touched.append({operand})",
            f"        _o = {operand}.grad",
            f"        {operand}._a = _s if _o is _fresh else _o + _s",
            "    else:",
            f"        {operand}._a = _o + _s",
            "else:",
            f"    _o = {operand}.grad",
            f"    {operand}.grad = _s if _o is _zero or _o is _fresh else _o + _s",
        ]
    if walk:
        lines.append("return _n")
    return lines


def _function(
    op: Primitive, steps: list[tuple[str, set[str]]], inputs: list[str], walk: bool
) -> list[str]:
    """The lines of the pullback (or, with ``walk``, the walk) of ``op``."""
    lines = (
        ["def walk(_node, _zero):", "    _g = _node.grad"]
        if walk
        else ["def pullback(_node, _g, _zero):"]
    )
    lines.append("    _a = _node._a")
    if any("ans" in read for _, read in steps):
        lines.append("    ans = _node._d")

    def indent(block: list[str], depth: int) -> list[str]:
        return [" " * depth + line for line in block]

    if op.arity == 1:
        return lines + indent(_branch(steps, inputs, ["_a"], ["_a._d"], walk), 4)
    is_value = "type({0}) is _Value or isinstance({0}, _Value)"
    both = _branch(steps, inputs, ["_a", "_b"], ["_a._d", "_b._d"], walk)
    only_b = _branch(steps, inputs, ["_b"], ["_a", "_b._d"], walk)
    only_a = _branch(steps, inputs, ["_a"], ["_a._d", "_b"], walk)
    return [
        *lines,
        "    _b = _node._b",
        f"    if {is_value.format('_b')}:",
        f"        if {is_value.format('_a')}:",
        *indent(both, 12),
        "        else:",
        *indent(only_b, 12),
        "    else:",
        *indent(only_a, 8),
    ]


def _forget(file: str, entry: tuple[Any, ...]) -> None:
    """Drop a collected primitive's source from ``linecache`` (unless replaced)."""
    import linecache

    if linecache.cache.get(file) is entry:
        del linecache.cache[file]


def generate(op: Primitive) -> tuple[_Pullback, _Walk]:
    """Write and compile ``op``'s pullback and walk (the reference beyond two inputs).

    >>> import autograd_scalar as ag
    >>> import linecache
    >>> pullback, walk = generate(ag.registered()["tanh"])
    >>> print(linecache.getline("<pullback of tanh>", 4).strip())
    _s = (1 - ans * ans) * _g
    """
    if op.arity > 2:
        return _engine._reference_pair(op)
    inputs = ["x", "y"][: op.arity]
    names = _Names()
    steps = _steps(op, names, inputs)
    source = "\n".join(
        _function(op, steps, inputs, False) + _function(op, steps, inputs, True)
    )
    import linecache  # here, not at the top: importing the package generates nothing

    file = f"<pullback of {op.name}>"
    # Registered, so that a traceback through a rule shows the line that failed;
    # forgotten with the primitive (a user primitive can be collected).
    entry = (len(source), None, source.splitlines(True), file)
    linecache.cache[file] = entry
    weakref.finalize(op, _forget, file, entry)
    scope = dict(names.namespace)
    exec(compile(source, file, "exec"), scope)
    return scope["pullback"], scope["walk"]
