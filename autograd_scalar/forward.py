"""Forward mode: dual numbers and ``jvp``.

A ``Dual`` carries a value (its primal) and a derivative along one direction (its
tangent). Every primitive applied to one propagates the tangent by the chain rule,
with the local partials of the rule table evaluated on the primals:

    f(x + t ε) = f(x) + f'(x) t ε        (ε² = 0)

so one forward run of a function on duals gives its value and its directional
derivative. The rule table is not rewritten: ``Primitive.__call__`` hands a dual
operand to ``Dual.__apply_primitive__``, and the partials, written over the
polymorphic functions, work on duals, Values and numbers alike.

A tangent that is exactly zero (a plain number) contributes nothing: its partial is
not even evaluated, so an input held fixed never brings in the inf or nan of its
partial (JAX's symbolic zeros).

Primals and tangents may themselves be duals or Values, so forward mode nests in
itself and in reverse mode; and reverse mode nests in it: a function that calls
``grad`` or ``backward`` runs its reverse pass on Values carrying duals (forward
over reverse; see ``_engine._Carrier``). Each ``jvp`` call tags its duals with a
fresh number; an operation on duals of several tags differentiates along the
newest (innermost) one and treats the others as constants, so nested calls never
confuse their perturbations:

>>> jvp(lambda x: x * jvp(lambda y: x + y, (1.0,), (1.0,))[1], (2.0,), (1.0,))
(2.0, 1.0)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ._engine import Primitive, Value, _is_number, _plain
from ._rules import _bind

__all__ = ["Dual", "jvp"]

if TYPE_CHECKING:
    # Dual's operators are bound below from the operator table; for type checkers
    # they are declared in the stub generated from it.
    from ._methods import DualMethods as _DualMethods
else:
    _DualMethods = object

_tags = itertools.count(1)  # inner jvp calls start later, so get larger tags


def _number(x: Any) -> Any:
    """The plain number inside a dual or a Value (of any depth), or a number."""
    while True:
        if isinstance(x, Dual):
            x = x.primal
        elif isinstance(x, Value):
            x = x.data  # a dual, when the Value carries one (forward over reverse)
        else:
            return x


def _is_operand(x: Any) -> bool:
    return isinstance(x, Dual | Value) or _is_number(x)


class Dual(_DualMethods):
    """A number with a tangent along the perturbation of one ``jvp`` call.

    Arithmetic (``+ - * / **``, unary ``-``, ``abs``) with numbers, Values and duals
    on either side, and every function of the package, give duals. Comparisons look
    at the plain number inside, so code that branches on values still works.

    >>> import autograd_scalar as ag
    >>> y = ag.sin(Dual(0.0, 1.0, tag=0)) * 2
    >>> y.primal, y.tangent
    (0.0, 2.0)

    Attributes:
        primal: the value (a number, a Value, or a dual of an outer ``jvp``).
        tangent: its derivative along this dual's perturbation.
        tag: which ``jvp`` call's perturbation ``tangent`` measures.
    """

    __slots__ = ("primal", "tag", "tangent")

    def __init__(self, primal: Any, tangent: Any, tag: int) -> None:
        self.primal = _plain(primal)  # a numpy scalar as the Python number
        self.tangent = _plain(tangent)
        self.tag = tag

    def __repr__(self) -> str:
        return f"Dual(primal={self.primal!r}, tangent={self.tangent!r}, tag={self.tag})"

    @classmethod
    def __apply_primitive__(cls, prim: Primitive, args: tuple[Any, ...]) -> Dual:
        """Apply ``prim`` to ``args``, some of them duals: the forward chain rule."""
        tag = max(x.tag for x in args if isinstance(x, Dual))
        primals = [
            x.primal if isinstance(x, Dual) and x.tag == tag else _plain(x)
            for x in args
        ]
        ans = prim(*primals)
        tangent: Any = None
        zero: Any = None
        for x, partial in zip(args, prim.partials, strict=True):
            if isinstance(x, Dual) and x.tag == tag:
                if _is_number(x.tangent) and x.tangent == 0:
                    # A symbolic zero (JAX's): it contributes nothing, so the partial
                    # is not even evaluated. partial * 0 would be nan where the
                    # partial is inf or nan (sqrt at 0, d/dy x**y at x < 0), although
                    # the input does not move. Only a plain 0 is skipped: a tangent
                    # that is a Value or a dual may be 0 here and move elsewhere.
                    zero = x.tangent if zero is None else zero
                    continue
                term = partial(ans, *primals) * x.tangent
                tangent = term if tangent is None else tangent + term
        return cls(ans, zero if tangent is None else tangent, tag)

    # Comparisons look at the number inside; a dual is unhashable, as it compares
    # equal to numbers.
    def __eq__(self, other: object) -> bool:
        return bool(_number(self) == _number(other))

    def __ne__(self, other: object) -> bool:
        return bool(_number(self) != _number(other))

    __hash__ = None  # type: ignore[assignment]  # equal to numbers: unhashable

    def __lt__(self, other: Any) -> bool:
        return bool(_number(self) < _number(other))

    def __le__(self, other: Any) -> bool:
        return bool(_number(self) <= _number(other))

    def __gt__(self, other: Any) -> bool:
        return bool(_number(self) > _number(other))

    def __ge__(self, other: Any) -> bool:
        return bool(_number(self) >= _number(other))

    def __float__(self) -> float:
        return float(_number(self))

    def __bool__(self) -> bool:
        return bool(_number(self))

    def __pos__(self) -> Dual:
        return self


def _operator(prim: Primitive, reflected: bool) -> Callable[..., Any]:
    """``prim`` as an operator of Dual; ``NotImplemented`` for a foreign type."""
    if prim.arity == 1:

        def unary(self: Dual) -> Any:
            return prim(self)

        return unary
    if reflected:

        def rop(self: Dual, other: Any) -> Any:
            return prim(other, self) if _is_operand(other) else NotImplemented

        return rop

    def op(self: Dual, other: Any) -> Any:
        return prim(self, other) if _is_operand(other) else NotImplemented

    return op


_bind(Dual, _operator)


def _carries(x: Any, tag: int) -> bool:
    """Whether ``x`` is a dual tagged ``tag``, or a Value carrying one."""
    if isinstance(x, Value):
        x = x.data
    return isinstance(x, Dual) and x.tag == tag


def _split(out: Any, tag: int) -> tuple[Any, Any]:
    """(value, tangent) of one output of a ``jvp`` call tagged ``tag``."""
    if _carries(out, tag) and isinstance(out, Value):
        # A Value carrying the dual (f ran a reverse pass on Values carrying duals,
        # as grad does on a function closing over a Value): the dual's parts.
        return _split(out.data, tag)
    if isinstance(out, Dual) and out.tag == tag:
        # A reverse pass inside f (forward over reverse) can leave the perturbation
        # in the parts too: p + t e with p = p' + t' e is p' + (t' + t) e, and the e
        # in t drops out (e * e = 0).
        primal, tangent = out.primal, out.tangent
        if _carries(tangent, tag):
            tangent = _split(tangent, tag)[0]
        if _carries(primal, tag):
            primal, inner = _split(primal, tag)
            tangent = inner + tangent
        return primal, tangent
    if _is_operand(out):
        return out, _number(out) ** 0 * 0  # does not depend on the perturbation
    raise TypeError(
        f"jvp: the function must return a scalar or a sequence of scalars, "
        f"got {type(out).__name__}: {out!r}"
    )


def jvp(
    f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]
) -> tuple[Any, Any]:
    """``f(*primals)`` and its derivative along ``tangents``, by forward mode.

    One run of ``f`` on dual numbers: no finite differences, no reverse pass. ``f``
    returns a scalar or a sequence of scalars (then both results are lists).
    Primals and tangents may be numbers, Values or duals (``jvp`` nests).

    >>> import autograd_scalar as ag
    >>> jvp(lambda x, y: x * ag.sin(y), (2.0, 0.0), (1.0, 1.0))
    (0.0, 2.0)
    """
    for name, seq in (("primals", primals), ("tangents", tangents)):
        if not isinstance(seq, Sequence) or isinstance(seq, str):
            raise TypeError(
                f"jvp: {name} must be a tuple or list, got {type(seq).__name__}: "
                f"{seq!r}"
            )
        for i, x in enumerate(seq):
            if not _is_operand(x):
                raise TypeError(
                    f"jvp: {name}[{i}] must be a number, a Value or a Dual, "
                    f"got {type(x).__name__}: {x!r}"
                )
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    tag = next(_tags)
    out = f(*(Dual(p, t, tag) for p, t in zip(primals, tangents, strict=True)))
    if isinstance(out, Sequence) and not isinstance(out, str):
        pairs = [_split(o, tag) for o in out]
        return [p for p, _ in pairs], [t for _, t in pairs]
    return _split(out, tag)
