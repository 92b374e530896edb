"""Symbolic evaluation of the rule table: a rule, run on placeholders, gives source.

Each primitive's forward and partials are run once on placeholders that build Python
source instead of numbers, e.g. mul's partials give "{2}" and "{1}", tanh's
"1 - {0} * {0}" ({0} is the output, {1}, {2}... the inputs). A decision on a
placeholder (relu's ``x > 0``) forks: both branches are explored and joined as
"a if cond else b". Anything a placeholder cannot express (math.exp, int(x),
isinstance on the result...) makes the rule opaque, and the generated code calls the
rule's own function instead. So every derivative still comes from the table. Both
the engine's generated pullbacks (``_pullbacks``) and traced replay write their code
this way.

Source is printed with only the parentheses Python's precedence needs: they are half
the tokens otherwise, and compiling a trace is dominated by tokens.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, TypeVar

from ._engine import Primitive, Value, _is_number

# Python's operator precedence, as used here (higher binds tighter).
_ATOM, _POWER, _UNARY, _PRODUCT, _SUM, _COMPARE, _CONDITIONAL = 16, 15, 14, 13, 12, 7, 3


class Names:
    """The namespace of one piece of generated code: the objects it reads, each
    bound to a fresh name. Generated pullbacks and traced replay write into one each.
    """

    def __init__(self, namespace: dict[str, Any]) -> None:
        self.namespace = namespace
        self._names: dict[int, str] = {}

    def bind(self, obj: Any, prefix: str = "_k") -> str:
        """The name ``obj`` has in the generated code (bound on first use)."""
        name = self._names.get(id(obj))
        if name is None:
            name = f"{prefix}{len(self._names)}"
            self._names[id(obj)] = name
            self.namespace[name] = obj
        return name

    def literal(self, x: Any) -> str:
        """Source for a constant: a literal for ints and finite floats, else a name.

        A negative literal is a unary minus (precedence ``_UNARY``), see ``_prec``.
        """
        if type(x) is int or (type(x) is float and math.isfinite(x)):
            return repr(x)
        return self.bind(x)

    def forward(self, primitive: Primitive) -> str:
        """A primitive called on numbers (sin's partial calls cos): its forward."""
        return self.bind(primitive.fn, "_f")

    def conditional(self, condition: str, yes: str, no: str) -> tuple[str, int]:
        """``yes if condition else no`` (sources of precedence fit for that)."""
        return f"{yes} if {condition} else {no}", _CONDITIONAL


class _Opaque(BaseException):
    """The rule cannot be written as an expression: call it at replay time."""


class _Fork(BaseException):
    """A decision on a placeholder that this run has not been told the outcome of."""

    def __init__(self, condition: _Sym) -> None:
        self.condition = condition


_MAX_DECISIONS = 6  # per rule: at most 2**6 paths are explored


def _prec(code: str) -> int:
    """The precedence of a name or literal: a leading minus makes it a unary minus."""
    return _UNARY if code[0] == "-" else _ATOM


def _wrap(code: str, prec: int, needed: int) -> str:
    return code if prec >= needed else f"({code})"


class _Run:
    """One symbolic run of a rule: the decisions it is told to take, in order."""

    def __init__(self, path: list[bool], names: Names) -> None:
        self.path = path
        self.taken = 0
        self.names = names

    def decide(self, condition: _Sym) -> bool:
        i = self.taken
        self.taken += 1
        if i < len(self.path):
            return self.path[i]
        if i >= _MAX_DECISIONS:
            raise _Opaque
        raise _Fork(condition)


class _Sym:
    """A placeholder number: arithmetic on it builds source code of some precedence."""

    __slots__ = ("code", "prec", "run")
    __hash__ = None  # type: ignore[assignment]  # == builds source: unhashable

    def __init__(self, code: str, prec: int, run: _Run) -> None:
        self.code = code
        self.prec = prec
        self.run = run

    def _operand(self, y: Any) -> tuple[str, int]:
        return _source(y, self.run.names)

    def _infix(self, x: Any, y: Any, op: str, prec: int, right: int) -> _Sym:
        """``x op y`` where x needs precedence ``prec`` (left-associative) or more
        and y needs ``right`` or more."""
        a, pa = self._operand(x)
        b, pb = self._operand(y)
        return _Sym(f"{_wrap(a, pa, prec)} {op} {_wrap(b, pb, right)}", prec, self.run)

    def __add__(self, y: Any) -> _Sym:
        return self._infix(self, y, "+", _SUM, _PRODUCT)

    def __radd__(self, y: Any) -> _Sym:
        return self._infix(y, self, "+", _SUM, _PRODUCT)

    def __sub__(self, y: Any) -> _Sym:
        return self._infix(self, y, "-", _SUM, _PRODUCT)

    def __rsub__(self, y: Any) -> _Sym:
        return self._infix(y, self, "-", _SUM, _PRODUCT)

    def __mul__(self, y: Any) -> _Sym:
        return self._infix(self, y, "*", _PRODUCT, _UNARY)

    def __rmul__(self, y: Any) -> _Sym:
        return self._infix(y, self, "*", _PRODUCT, _UNARY)

    def __truediv__(self, y: Any) -> _Sym:
        return self._infix(self, y, "/", _PRODUCT, _UNARY)

    def __rtruediv__(self, y: Any) -> _Sym:
        return self._infix(y, self, "/", _PRODUCT, _UNARY)

    def __pow__(self, y: Any) -> _Sym:
        s = self._infix(self, y, "**", _ATOM, _UNARY)  # right-associative
        s.prec = _POWER
        return s

    def __rpow__(self, y: Any) -> _Sym:
        s = self._infix(y, self, "**", _ATOM, _UNARY)
        s.prec = _POWER
        return s

    def _compare(self, y: Any, op: str) -> _Sym:
        # Both sides above comparison: Python would chain "a < b < c".
        s = self._infix(self, y, op, _COMPARE + 1, _COMPARE + 1)
        s.prec = _COMPARE
        return s

    def __lt__(self, y: Any) -> _Sym:
        return self._compare(y, "<")

    def __le__(self, y: Any) -> _Sym:
        return self._compare(y, "<=")

    def __gt__(self, y: Any) -> _Sym:
        return self._compare(y, ">")

    def __ge__(self, y: Any) -> _Sym:
        return self._compare(y, ">=")

    def __eq__(self, y: Any) -> _Sym:  # type: ignore[override]  # builds source
        return self._compare(y, "==")

    def __ne__(self, y: Any) -> _Sym:  # type: ignore[override]  # builds source
        return self._compare(y, "!=")

    def __neg__(self) -> _Sym:
        return _Sym(f"-{_wrap(self.code, self.prec, _UNARY)}", _UNARY, self.run)

    def __pos__(self) -> _Sym:
        return self

    def __abs__(self) -> _Sym:
        return _Sym(f"abs({self.code})", _ATOM, self.run)

    def __bool__(self) -> bool:
        return self.run.decide(self)

    @staticmethod
    def __apply_primitive__(primitive: Primitive, args: tuple[Any, ...]) -> _Sym:
        """A primitive applied to a placeholder (sin's rule calls cos): a call."""
        run = next(x.run for x in args if type(x) is _Sym)
        operands = ", ".join(_source(x, run.names)[0] for x in args)
        return _Sym(f"{run.names.forward(primitive)}({operands})", _ATOM, run)

    def _opaque(self, *args: Any) -> Any:
        raise _Opaque

    __float__ = __int__ = __index__ = __complex__ = _opaque
    __round__ = __trunc__ = __floor__ = __ceil__ = _opaque


_F = TypeVar("_F", bound=Callable[..., Any])


def called(function: _F) -> _F:
    """Mark a helper that symbolic evaluation must not look into: code calls it.

    For a helper that inspects its operands' types (``type(y) is int`` cannot be
    decided on a placeholder): on numbers it runs as it is; applied to a placeholder
    it becomes a call by name in the generated code where the namespace can call
    functions (it has a ``call`` method); elsewhere it is evaluated symbolically
    like any code.
    """

    @functools.wraps(function)
    def helper(*args: Any) -> Any:
        run = next((x.run for x in args if type(x) is _Sym), None)
        call = None if run is None else getattr(run.names, "call", None)
        if run is None or call is None:
            return function(*args)
        operands = ", ".join(_source(x, run.names)[0] for x in args)
        return _Sym(f"{call(function)}({operands})", _ATOM, run)

    return helper  # type: ignore[return-value]  # same signature, wrapped


def _source(y: Any, names: Names) -> tuple[str, int]:
    """Source for a placeholder or a plain number, and its precedence."""
    if type(y) is _Sym:
        return y.code, y.prec
    if _is_number(y) and not isinstance(y, Value | bool):
        code = names.literal(y)
        return code, _prec(code)
    raise _Opaque


# A rule's symbolic result, a tree: ("code", source, precedence), ("number", n), or
# ("if", condition source, if-true tree, if-false tree).
_Tree = tuple[Any, ...]


def _explore(
    rule: Callable[..., Any], args: list[Any], names: Names, path: list[bool]
) -> _Tree:
    """The expression tree of ``rule(*args)``; ``_Slot`` args become placeholders."""
    run = _Run(path, names)
    symbolic = [_Sym(x.code, x.prec, run) if type(x) is _Slot else x for x in args]
    try:
        result = rule(*symbolic)
    except _Fork as fork:
        condition = _wrap(fork.condition.code, fork.condition.prec, _CONDITIONAL + 1)
        return (
            "if",
            condition,
            _explore(rule, args, names, [*path, True]),
            _explore(rule, args, names, [*path, False]),
        )
    except Exception:
        raise _Opaque from None
    if type(result) is _Sym:
        return ("code", result.code, result.prec)
    if _is_number(result) and not isinstance(result, Value):
        return ("number", result)
    raise _Opaque


class _Slot:
    """Where an operand goes in a template ("{k}"), and the precedence of its source."""

    def __init__(self, k: int, prec: int = _ATOM) -> None:
        self.code = f"{{{k}}}"
        self.prec = prec


def _code(tree: _Tree, names: Names) -> tuple[str, int]:
    """Source computing a tree's value, and its precedence."""
    if tree[0] == "code":
        return tree[1], tree[2]
    if tree[0] == "number":
        code = names.literal(tree[1])
        return code, _prec(code)
    _, condition, yes, no = tree
    (a, pa), (b, pb) = _code(yes, names), _code(no, names)
    if a == b:
        return a, pa
    return names.conditional(
        condition, _wrap(a, pa, _CONDITIONAL + 1), _wrap(b, pb, _CONDITIONAL)
    )


def _scaled(tree: _Tree, names: Names) -> tuple[str, int] | None:
    """Source for ``{g} * tree`` and its precedence, or None where it is zero."""
    if tree[0] == "code":
        return "{g} * " + _wrap(tree[1], tree[2], _UNARY), _PRODUCT
    if tree[0] == "number":
        c = tree[1]
        if type(c) in (int, float):
            if c == 0:
                return None
            if c == 1:
                return "{g}", _ATOM
            if c == -1:
                return "-{g}", _UNARY
        return "{g} * " + _wrap(
            names.literal(c), _prec(names.literal(c)), _UNARY
        ), _PRODUCT
    _, condition, yes, no = tree
    a, b = _scaled(yes, names), _scaled(no, names)
    if a == b:
        return a
    a_code = _wrap(*a, _CONDITIONAL + 1) if a else "0"
    b_code = _wrap(*b, _CONDITIONAL) if b else "0"
    return names.conditional(condition, a_code, b_code)
