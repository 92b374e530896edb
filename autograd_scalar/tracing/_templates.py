"""The namespace of generated code, and source templates for one primitive each.

A template is a primitive's forward and its backward terms written as source with
holes ("{1}", "{2}" for the operands, "{0}" for the output, "{g}" for the gradient
flowing in), made once per pattern of operands by symbolic evaluation of the rule
table (``_symbolic``). The emitters fill the holes with each node's operands.
"""

from __future__ import annotations

from typing import Any

from .._engine import Primitive
from .._symbolic import (
    _ATOM,
    _CONDITIONAL,
    _PRODUCT,
    Names,
    _code,
    _explore,
    _Opaque,
    _scaled,
    _Slot,
)
from . import vectorized


class _GuardFailed(Exception):  # noqa: N818 -- internal control flow
    """A guard of a trace does not hold: this call takes another path through f."""


class _Names(Names):
    """The namespace of one trace's generated code.

    With ``numpy`` (the module), the code is for arrays: conditionals become
    ``_where(c, a, b)`` and functions are bound in their array forms.
    """

    def __init__(self, numpy: Any = None) -> None:
        super().__init__({"_GuardFailed": _GuardFailed})
        self.numpy = numpy
        if numpy is not None:
            self.namespace.update(_where=numpy.where, _trunc=numpy.trunc)

    def literal(self, x: Any) -> str:
        if self.numpy is not None:
            x = _float_unless_int(x)  # a Fraction would make numpy compute on objects
        return super().literal(x)

    def forward(self, primitive: Primitive) -> str:
        """The name of the primitive's forward (on arrays, its numpy form)."""
        if self.numpy is None:
            return self.bind(primitive.fn, "_f")
        return self.bind(vectorized.array_function(primitive, -1, self.numpy), "_f")

    def partial(self, primitive: Primitive, k: int) -> str:
        """The name of partial ``k`` of a primitive, where the placeholders could not
        express it."""
        if self.numpy is None:
            return self.bind(primitive.partials[k], "_p")
        return self.bind(vectorized.array_function(primitive, k, self.numpy), "_p")

    def conditional(self, condition: str, yes: str, no: str) -> tuple[str, int]:
        """``yes if condition else no`` (sources of precedence fit for that)."""
        if self.numpy is None:
            return f"{yes} if {condition} else {no}", _CONDITIONAL
        return f"_where({condition}, {yes}, {no})", _ATOM


_LIVE: Any = object()  # in a pattern: an operand that depends on the arguments
_VARYING: Any = object()  # in a pattern: a constant read from a loop variable


class _Template:
    """Source templates for one primitive applied to a pattern of operands.

    ``forward`` computes the output from "{1}", "{2}"... (of precedences ``precs``);
    ``terms[k]`` is the contribution ``{g} * d(output)/d(input k)`` to input k's
    gradient, with "{0}" the output, or None if it is identically zero. ``uses``
    counts how often each operand (0 = the output) appears in the backward terms,
    ``uses_forward`` in the forward.
    """

    __slots__ = ("forward", "prec", "terms", "uses", "uses_forward")

    def __init__(
        self,
        primitive: Primitive,
        pattern: tuple[Any, ...],
        names: _Names,
        precs: tuple[int, ...] | None = None,
    ) -> None:
        n = primitive.arity
        if precs is None:
            precs = (_ATOM,) * n
        args: list[Any] = [
            _Slot(k + 1, p) if c is _LIVE or c is _VARYING else c
            for k, (c, p) in enumerate(zip(pattern, precs, strict=True))
        ]
        self.forward, self.prec = _forward_code(primitive, args, names)
        args = [
            _Slot(k + 1) if c is _LIVE or c is _VARYING else c
            for k, c in enumerate(pattern)
        ]
        self.terms: list[tuple[str, int] | None] = [
            _term_code(primitive, k, args, names) if pattern[k] is _LIVE else None
            for k in range(n)
        ]
        body = " ".join(t[0] for t in self.terms if t)
        self.uses = [body.count(f"{{{k}}}") for k in range(n + 1)]
        self.uses_forward = [self.forward.count(f"{{{k}}}") for k in range(n + 1)]


def _forward_code(
    primitive: Primitive, args: list[Any], names: _Names
) -> tuple[str, int]:
    """The forward as an expression, or a call of the primitive's own function."""
    try:
        tree = _explore(primitive.fn, args, names, [])
        if (
            tree[0] == "if"
            and names.numpy is not None
            and vectorized.has_numpy_form(primitive)
        ):
            raise _Opaque  # on arrays, one call beats a nest of _where's
        return _code(tree, names)
    except _Opaque:
        fn = names.forward(primitive)
        operands = ", ".join(_slot_code(a, names) for a in args)
        return f"{fn}({operands})", _ATOM


def _term_code(
    primitive: Primitive, k: int, args: list[Any], names: _Names
) -> tuple[str, int] | None:
    """``{g}`` times partial ``k``, as an expression, or a call of the partial."""
    try:
        return _scaled(
            _explore(primitive.partials[k], [_Slot(0), *args], names, []), names
        )
    except _Opaque:
        p = names.partial(primitive, k)
        operands = ", ".join(["{0}", *(_slot_code(a, names) for a in args)])
        return f"{{g}} * {p}({operands})", _PRODUCT


def _slot_code(a: Any, names: _Names) -> str:
    return a.code if type(a) is _Slot else names.literal(a)


def _float_unless_int(x: Any) -> Any:
    return x if type(x) is int or type(x) is float else float(x)


def _constant_key(data: Any) -> tuple[Any, ...]:
    """A constant operand, as part of a template's cache key (exact: -0.0 != 0.0)."""
    return (type(data), data, data == 0 and repr(data))


def _unkeyed(pattern: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(c if c is _LIVE or c is _VARYING else c[1] for c in pattern)
