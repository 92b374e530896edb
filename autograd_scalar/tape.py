"""Define-then-run differentiation: the seed notebook's ``Tape``, and traced replay.

Two ways to build a computation once and run it many times, both driven by the rule
table (``registered()``), so no derivative is written here a second time.

**The tape.** The seed notebook's model, as a supported API: nodes are made on a
``Tape`` in the order they are computed; ``tape.forward()`` computes every ``output``,
``tape.backward()`` every ``gradient``. There is a node class for every primitive
(``Multiply``, ``Add``, ``Power``, ``Exp``, ``Tanh``, ...; ``Square`` squares), and a
subclass of ``CompNode`` written as the seed writes one works unchanged.

>>> t = Tape()
>>> a, b = ConstantNode(2, t), ConstantNode(3, t)
>>> f = Multiply(ConstantNode(5, t), Multiply(a, b, t), t)
>>> t.forward()
>>> t.backward()
>>> f.output, a.gradient, b.gradient
(30, 15, 10)

**Traced replay.** ``trace(f, *example_args)`` runs ordinary ``Value`` code once,
records its graph, and turns it into straight-line Python (``.source``) that computes
the value and the gradient with respect to every argument from plain numbers, with no
graph built. Decisions ``f`` takes on data (``x > 0``, ``bool(x)``, ``float(x)``)
become guards: a call that would take another path is traced afresh.

>>> g = trace(lambda x, y: x * y + y, 2.0, 3.0)
>>> g.value_and_grad(4.0, 5.0)
(25.0, (5.0, 5.0))
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import math
from collections.abc import Callable
from typing import Any, ClassVar

from . import _engine
from ._engine import Primitive, Value, _is_number
from ._rules import pow_, registered

__all__ = [
    "CompNode",
    "ConstantNode",
    "PrimitiveNode",
    "Square",
    "Tape",
    "Traced",
    "node_class",
    "trace",
]

# =====================================================================================
# The tape
# =====================================================================================


class Tape:
    """An ordered list of computation nodes: forward runs it, backward runs it reversed.

    Nodes add themselves when made, so the tape's order is the order of computation.
    ``forward`` and ``backward`` may be called any number of times, in any order.

    >>> t = Tape()
    >>> x = ConstantNode(3.0, t)
    >>> y = Square(x, t)
    >>> t.forward()
    >>> t.backward()
    >>> y.output, x.gradient
    (9.0, 6.0)
    """

    def __init__(self) -> None:
        self.computations: list[CompNode] = []

    def add(self, node: CompNode) -> None:
        """Append ``node`` (every ``CompNode`` calls this from its ``__init__``)."""
        if not isinstance(node, CompNode):
            raise TypeError(
                f"Tape.add() takes a CompNode, got {type(node).__name__}: {node!r}"
            )
        self.computations.append(node)

    def forward(self) -> None:
        """Compute every node's ``output``, inputs before the nodes made from them."""
        for node in self.computations:
            node.forward()

    def backward(self, output: CompNode | None = None) -> None:
        """Set every node's ``gradient`` to d(output)/d(node).

        All gradients are zeroed first, then ``output`` (default: the last node on the
        tape) is seeded with 1 and each node passes its gradient on to its inputs,
        consumers before the nodes they consume. Call ``forward`` first.
        """
        if not self.computations:
            raise ValueError("Tape.backward(): the tape is empty")
        if output is None:
            output = self.computations[-1]
        elif not any(node is output for node in self.computations):
            raise ValueError(f"Tape.backward(): {output!r} is not on this tape")
        for node in self.computations:
            node.set_gradient(0)
        output.set_gradient(1)
        # Iterate in reverse without reversing the list in place (the seed did, so a
        # second backward, or a forward after one, ran in the wrong order).
        for node in reversed(self.computations):
            node.backward()

    def __len__(self) -> int:
        return len(self.computations)

    def __iter__(self) -> Any:
        return iter(self.computations)


class CompNode:
    """A node of a ``Tape``: subclass it and write ``forward`` and ``backward``.

    ``forward`` sets ``self.output`` from the inputs' outputs; ``backward`` passes
    ``self.gradient`` times each local derivative to the inputs with
    ``add_gradient``. Set the inputs before calling ``super().__init__(tape)``.

    >>> class Cube(CompNode):
    ...     def __init__(self, x, tape):
    ...         self.x = x
    ...         super().__init__(tape)
    ...     def forward(self):
    ...         self.output = self.x.output**3
    ...     def backward(self):
    ...         self.x.add_gradient(3 * self.x.output**2 * self.gradient)
    >>> t = Tape()
    >>> x = ConstantNode(2, t)
    >>> y = Cube(x, t)
    >>> t.forward(); t.backward()
    >>> y.output, x.gradient
    (8, 12)
    """

    output: Any
    gradient: Any

    def __init__(self, tape: Tape) -> None:
        if not isinstance(tape, Tape):
            raise TypeError(
                f"{type(self).__name__}() takes a Tape last, "
                f"got {type(tape).__name__}: {tape!r}"
            )
        self.gradient = 0
        tape.add(self)

    def forward(self) -> None:
        """Compute ``self.output`` from the inputs' outputs."""

    def backward(self) -> None:
        """Pass ``self.gradient`` on: call ``add_gradient`` on each input."""

    def set_gradient(self, gradient: Any) -> None:
        """Set ``self.gradient`` (the tape zeroes and seeds gradients with this)."""
        self.gradient = gradient

    def add_gradient(self, gradient: Any) -> None:
        """Add a consumer's contribution to ``self.gradient``."""
        self.gradient += gradient


class ConstantNode(CompNode):
    """An input of the tape: ``value`` can be changed, then ``tape.forward()`` again.

    >>> t = Tape()
    >>> x = ConstantNode(2.0, t)
    >>> y = Exp(x, t)
    >>> x.value = 0.0
    >>> t.forward()
    >>> y.output
    1.0
    """

    def __init__(self, value: Any, tape: Tape) -> None:
        self.value = value
        super().__init__(tape)

    def forward(self) -> None:
        self.output = self.value

    def __repr__(self) -> str:
        return f"ConstantNode({self.value!r})"


class PrimitiveNode(CompNode):
    """A node applying one primitive of the rule table; one subclass per primitive.

    Inputs are nodes or plain numbers (constants, which get no gradient). The forward
    is the primitive's forward; ``backward`` evaluates its partials from the table.
    Unary nodes name their input ``x``, binary ones ``left`` and ``right``; all have
    ``inputs``.

    >>> t = Tape()
    >>> x = ConstantNode(0.0, t)
    >>> y = Add(Sigmoid(x, t), 1, t)
    >>> t.forward(); t.backward()
    >>> y.output, x.gradient
    (1.5, 0.25)
    """

    primitive: ClassVar[Primitive]
    inputs: tuple[Any, ...]

    def __init__(self, *inputs_then_tape: Any) -> None:
        *inputs, tape = inputs_then_tape if inputs_then_tape else (None,)
        name = type(self).__name__
        arity = self.primitive.arity
        if len(inputs) != arity:
            raise TypeError(
                f"{name}() takes {arity} input(s) and a Tape, "
                f"got {len(inputs_then_tape)} argument(s)"
            )
        for x in inputs:
            if not isinstance(x, CompNode) and not _is_number(x):
                raise TypeError(
                    f"{name}() takes nodes or numbers, got {type(x).__name__}: {x!r}"
                )
        self.inputs = tuple(inputs)
        if arity == 1:
            self.x = inputs[0]
        elif arity == 2:
            self.left, self.right = inputs
        super().__init__(tape)

    def _datas(self) -> list[Any]:
        return [x.output if isinstance(x, CompNode) else x for x in self.inputs]

    def forward(self) -> None:
        self.output = self.primitive.forward(self.inputs, self._datas())

    def backward(self) -> None:
        datas = self._datas()
        for x, partial in zip(self.inputs, self.primitive.partials, strict=True):
            if isinstance(x, CompNode):
                x.add_gradient(partial(self.output, *datas) * self.gradient)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} node>"


# The seed's words where CamelCase of the primitive's name is not the seed's word.
_CLASS_NAMES = {
    "sub": "Subtract",
    "mul": "Multiply",
    "truediv": "Divide",
    "pow": "Power",
    "neg": "Negate",
}
_NODE_CLASSES: dict[Primitive, type[PrimitiveNode]] = {}


def _class_name(primitive_name: str) -> str:
    if primitive_name in _CLASS_NAMES:
        return _CLASS_NAMES[primitive_name]
    return "".join(part[:1].upper() + part[1:] for part in primitive_name.split("_"))


def node_class(primitive: Primitive | str) -> type[PrimitiveNode]:
    """The tape node class of a primitive (given itself or its registered name).

    Built-in primitives' classes are this module's attributes (``Multiply``...); a
    user primitive's class is found here or as ``tape.<CamelCaseName>``.

    >>> import autograd_scalar as ag
    >>> _ = ag.primitive(lambda x: x**3, lambda x: 3 * x**2, name="cube")
    >>> node_class("cube").__name__
    'Cube'
    """
    if isinstance(primitive, str):
        table = registered()
        if primitive not in table:
            raise ValueError(f"node_class(): no primitive named {primitive!r}")
        primitive = table[primitive]
    if not isinstance(primitive, Primitive):
        raise TypeError(
            f"node_class() takes a Primitive or its name, got {primitive!r}"
        )
    cls = _NODE_CLASSES.get(primitive)
    if cls is None:
        name = _class_name(primitive.name)
        doc = f"A tape node applying ``{primitive.name}`` (rule table)."
        namespace = {"primitive": primitive, "__doc__": doc, "__module__": __name__}
        cls = type(name, (PrimitiveNode,), namespace)
        _NODE_CLASSES[primitive] = cls
    return cls


for _primitive in registered().values():
    globals()[_class_name(_primitive.name)] = node_class(_primitive)
__all__ += sorted(_class_name(name) for name in registered())


def __getattr__(name: str) -> type[PrimitiveNode]:
    """The node class of a primitive registered after import (``tape.Cube``)."""
    for primitive in registered().values():
        if _class_name(primitive.name) == name:
            return node_class(primitive)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Square(node_class(pow_)):  # type: ignore[misc]
    """The seed's ``Square(x, tape)``: x**2, differentiated by the table's pow rule.

    >>> t = Tape()
    >>> x = ConstantNode(3, t)
    >>> y = Square(x, t)
    >>> t.forward(); t.backward()
    >>> y.output, x.gradient
    (9, 6)
    """

    def __init__(self, x: CompNode, tape: Tape) -> None:
        super().__init__(x, 2, tape)
        self.x = x


# =====================================================================================
# Symbolic evaluation of the rule table
#
# Each primitive's forward and partials are run once on placeholders that build
# Python source instead of numbers, e.g. mul's partials give "{2}" and "{1}", tanh's
# "1 - {0} * {0}" ({0} is the output, {1}, {2}... the inputs). A decision on a
# placeholder (relu's ``x > 0``) forks: both branches are explored and joined as
# "a if cond else b". Anything a placeholder cannot express (math.exp, int(x),
# isinstance on the result...) makes the rule opaque, and the generated code calls
# the rule's own function instead. So every derivative still comes from the table.
#
# Source is printed with only the parentheses Python's precedence needs: they are
# half the tokens otherwise, and compiling a trace is dominated by tokens.
# =====================================================================================

# Python's operator precedence, as used here (higher binds tighter).
_ATOM, _POWER, _UNARY, _PRODUCT, _SUM, _COMPARE, _CONDITIONAL = 16, 15, 14, 13, 12, 7, 3


class _Opaque(BaseException):
    """The rule cannot be written as an expression: call it at replay time."""


class _Fork(BaseException):
    """A decision on a placeholder that this run has not been told the outcome of."""

    def __init__(self, condition: _Sym) -> None:
        self.condition = condition


_MAX_DECISIONS = 6  # per rule: at most 2**6 paths are explored


class _Names:
    """The namespace of one piece of generated code: objects bound to fresh names."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {"_GuardFailed": _GuardFailed}
        self._names: dict[int, str] = {}

    def bind(self, obj: Any, prefix: str = "_k") -> str:
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
        kind = type(x)
        if kind is int or (kind is float and math.isfinite(x)):
            return repr(x)
        return self.bind(x)


def _prec(code: str) -> int:
    """The precedence of a name or literal: a leading minus makes it a unary minus."""
    return _UNARY if code[0] == "-" else _ATOM


def _wrap(code: str, prec: int, needed: int) -> str:
    return code if prec >= needed else f"({code})"


class _Run:
    """One symbolic run of a rule: the decisions it is told to take, in order."""

    def __init__(self, path: list[bool], names: _Names) -> None:
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
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, code: str, prec: int, run: _Run) -> None:
        self.code = code
        self.prec = prec
        self.run = run

    def _operand(self, y: Any) -> tuple[str, int]:
        if type(y) is _Sym:
            return y.code, y.prec
        if _is_number(y) and not isinstance(y, Value | bool):
            code = self.run.names.literal(y)
            return code, _prec(code)
        raise _Opaque

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

    def __eq__(self, y: Any) -> _Sym:  # type: ignore[override]
        return self._compare(y, "==")

    def __ne__(self, y: Any) -> _Sym:  # type: ignore[override]
        return self._compare(y, "!=")

    def __neg__(self) -> _Sym:
        return _Sym(f"-{_wrap(self.code, self.prec, _UNARY)}", _UNARY, self.run)

    def __pos__(self) -> _Sym:
        return self

    def __abs__(self) -> _Sym:
        return _Sym(f"abs({self.code})", _ATOM, self.run)

    def __bool__(self) -> bool:
        return self.run.decide(self)

    def _opaque(self, *args: Any) -> Any:
        raise _Opaque

    __float__ = __int__ = __index__ = __complex__ = _opaque
    __round__ = __trunc__ = __floor__ = __ceil__ = _opaque


# A rule's symbolic result, a tree: ("code", source, precedence), ("number", n), or
# ("if", condition source, if-true tree, if-false tree).
_Tree = tuple[Any, ...]


def _explore(
    rule: Callable[..., Any], args: list[Any], names: _Names, path: list[bool]
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


def _code(tree: _Tree, names: _Names) -> tuple[str, int]:
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
    a, b = _wrap(a, pa, _CONDITIONAL + 1), _wrap(b, pb, _CONDITIONAL)
    return f"{a} if {condition} else {b}", _CONDITIONAL


def _scaled(tree: _Tree, names: _Names) -> tuple[str, int] | None:
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
    return f"{a_code} if {condition} else {b_code}", _CONDITIONAL


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
            _Slot(k + 1, p) if c is _LIVE else c
            for k, (c, p) in enumerate(zip(pattern, precs, strict=True))
        ]
        try:
            self.forward, self.prec = _code(
                _explore(primitive.fn, args, names, []), names
            )
        except _Opaque:
            fn = names.bind(primitive.fn, "_f")
            operands = ", ".join(_slot_code(a, names) for a in args)
            self.forward, self.prec = f"{fn}({operands})", _ATOM
        self.terms: list[tuple[str, int] | None] = []
        args = [_Slot(k + 1) if c is _LIVE else c for k, c in enumerate(pattern)]
        for k, partial in enumerate(primitive.partials):
            if pattern[k] is not _LIVE:
                self.terms.append(None)
                continue
            try:
                term = _scaled(_explore(partial, [_Slot(0), *args], names, []), names)
            except _Opaque:
                p = names.bind(partial, "_p")
                operands = ", ".join(["{0}", *(_slot_code(a, names) for a in args)])
                term = f"{{g}} * {p}({operands})", _PRODUCT
            self.terms.append(term)
        body = " ".join(t[0] for t in self.terms if t)
        self.uses = [body.count(f"{{{k}}}") for k in range(n + 1)]
        self.uses_forward = [self.forward.count(f"{{{k}}}") for k in range(n + 1)]


def _slot_code(a: Any, names: _Names) -> str:
    return a.code if type(a) is _Slot else names.literal(a)


_LIVE: Any = object()  # in a pattern: an operand that depends on the arguments


# =====================================================================================
# Tracing and replay
# =====================================================================================


class _GuardFailed(Exception):  # noqa: N818 -- internal control flow
    """A guard of a trace does not hold: this call takes another path through f."""


_GUARD_FAILS = {
    True: "if not ({}): raise _GuardFailed",
    False: "if {}: raise _GuardFailed",
}
_TERMS_PER_LINE = 48  # a sum of more terms is split over lines (compiler recursion)
_MAX_DEPTH = 24  # deeper expressions are stored in a variable (compiler recursion)


def _parameter_names(f: Callable[..., Any], n: int) -> list[str]:
    """f's positional parameter names where usable as locals, else x0, x1, ..."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for i in range(n):
        name = params[i].name if i < len(params) else ""
        kind = params[i].kind if i < len(params) else None
        usable = (
            name.isidentifier()
            and not keyword.iskeyword(name)
            and not name.startswith("_")
            and not (name[:1] in "vgd" and name[1:].isdigit())
            and not hasattr(builtins, name)  # the code calls abs(), float(), int()
            and kind
            in (
                inspect.Parameter.POSITIONAL_ONLY,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
            )
        )
        names.append(name if usable and name not in names else f"x{i}")
    return names


class _Program:
    """One trace of f, turned into straight-line source and compiled.

    Nodes are numbered in a topological order: the arguments, then every node the
    guards and the output depend on. A node that does not depend on an argument is a
    constant (its traced value is written in). A node used once, in its consumer's
    forward only, is written inside the consumer's expression; the others get a
    variable ``v<i>``. The backward sums, for each node, the terms its consumers
    contribute (from ``_Template``), consumers first; a gradient that is just one
    other gradient is not copied. Nodes no gradient reaches are skipped.
    """

    def __init__(
        self,
        params: list[str],
        args: list[Value],
        out: Any,
        decisions: list[tuple[str, Value, Any, Any]],
    ) -> None:
        self.names = names = _Names()
        literal = names.literal
        nargs = len(args)
        index: dict[Value, int] = {x: i for i, x in enumerate(args)}
        nodes: list[Value] = list(args)
        order: list[Any] = list(range(nargs))  # node numbers and guards, in order

        def visit(root: Any) -> None:
            if type(root) is not Value or root._op is None or root in index:
                return
            for node in _engine._interior_toposort(root):
                if node not in index:
                    index[node] = len(nodes)
                    order.append(len(nodes))
                    nodes.append(node)

        for decision in decisions:
            visit(decision[1])
            visit(decision[2])
            order.append(decision)
        visit(out)
        out_index = index.get(out, -1) if type(out) is Value else -1

        # -- which nodes depend on the arguments, with which templates -------------
        # An operand is a node's number, or a constant as a 1-tuple.
        n = len(nodes)
        live = [False] * n
        live[:nargs] = [True] * nargs
        operands: list[list[Any]] = [[] for _ in range(n)]
        templates: list[_Template | None] = [None] * n
        patterns: list[tuple[Any, ...]] = [()] * n
        cache: dict[tuple[Any, ...], _Template] = {}
        value = Value
        for i in range(nargs, n):
            node = nodes[i]
            ops = [
                (x,)
                if type(x) is not value
                else (x.data,)
                if x._op is None and x not in index
                else index[x]
                for x in node._inputs()
            ]
            operands[i] = ops
            pattern = tuple(
                _LIVE if type(j) is int and live[j] else _key(j, nodes) for j in ops
            )
            if _LIVE not in pattern:
                continue  # depends on no argument: a constant
            live[i] = True
            key = (node._op, pattern)
            template = cache.get(key)
            if template is None:
                template = _Template(node._op, _unkeyed(pattern), names)  # type: ignore[arg-type]
                cache[key] = template
            templates[i] = template
            patterns[i] = key

        # -- which nodes a gradient reaches, which need a variable ------------------
        needs = [False] * n
        if out_index >= 0 and live[out_index]:
            needs[out_index] = True
            for i in range(n - 1, nargs - 1, -1):
                if needs[i] and templates[i] is not None:
                    for j in operands[i]:
                        if type(j) is int and live[j]:
                            needs[j] = True
        uses = [0] * n  # how often each node appears in forward expressions
        stored = [False] * n
        for i in range(nargs, n):
            template = templates[i]
            if template is None:
                continue
            for k, j in enumerate(operands[i], start=1):
                if type(j) is int:
                    uses[j] += template.uses_forward[k]
                    if needs[i] and template.uses[k]:
                        stored[j] = True
            if needs[i] and template.uses[0]:
                stored[i] = True
        for decision in decisions:
            for x in decision[1:3]:
                if type(x) is value and x in index:
                    stored[index[x]] = True
        if out_index >= 0:
            stored[out_index] = True

        # -- forward -----------------------------------------------------------------
        code: list[str] = list(params) + [""] * (n - nargs)
        prec = [_ATOM] * n
        depth = [0] * n
        lines: list[str] = []
        emit = lines.append
        for i in order:
            if type(i) is not int:
                emit(self._guard(i, index, live, code))
                continue
            if i < nargs:
                continue
            template = templates[i]
            if template is None:
                code[i] = literal(nodes[i].data)
                prec[i] = _prec(code[i])
                continue
            texts = [""]
            d = 0
            inlined = False
            for j in operands[i]:
                if type(j) is int:
                    texts.append(code[j])
                    if prec[j] != _ATOM:
                        inlined = True
                    if depth[j] > d:
                        d = depth[j]
                else:
                    texts.append("")
            if inlined:  # the template for these operands' precedences
                precs = tuple(prec[j] if type(j) is int else _ATOM for j in operands[i])
                key = (*patterns[i], precs)
                template = cache.get(key)
                if template is None:
                    op = nodes[i]._op
                    pattern = _unkeyed(patterns[i][1])
                    template = _Template(op, pattern, names, precs)  # type: ignore[arg-type]
                    cache[key] = template
            text = template.forward.format(*texts)
            if stored[i] or uses[i] != 1 or d >= _MAX_DEPTH:
                emit(f"v{i} = {text}")
                code[i] = f"v{i}"
            else:
                code[i] = text
                prec[i] = template.prec
                depth[i] = d + 1
        forward_lines = lines
        result = code[out_index] if out_index >= 0 else literal(out)

        # -- backward ----------------------------------------------------------------
        lines = []
        emit = lines.append
        contributions: dict[int, list[str]] = {}
        grads = ["0"] * nargs
        if out_index >= 0 and needs[out_index]:
            seed = literal(nodes[out_index].data ** 0)
            for i in reversed(order):
                if type(i) is not int or not needs[i]:
                    continue
                if i == out_index:
                    g = seed
                else:
                    terms = contributions.pop(i, None)
                    if not terms:
                        continue  # no gradient reaches this node
                    if len(terms) == 1 and (
                        terms[0].isidentifier() or terms[0] == seed
                    ):
                        g = terms[0]
                    else:
                        g = f"d{i}" if i < nargs else f"g{i}"
                        for start in range(0, len(terms), _TERMS_PER_LINE):
                            chunk = " + ".join(terms[start : start + _TERMS_PER_LINE])
                            emit(f"{g} {'+=' if start else '='} {chunk}")
                if i < nargs:
                    grads[i] = g
                    continue
                template = templates[i]
                assert template is not None
                texts = [code[i]]
                texts += [code[j] if type(j) is int else "" for j in operands[i]]
                for j, term in zip(operands[i], template.terms, strict=True):
                    if term is not None and type(j) is int and needs[j]:
                        text = term[0].format(*texts, g=g)
                        if term[1] < _PRODUCT:
                            text = f"({text})"
                        contributions.setdefault(j, []).append(text)
        backward_lines = lines

        signature = ", ".join(params)
        grads_tuple = ", ".join(grads) + ("," if nargs == 1 else "")
        self.source = "\n    ".join(
            [
                f"def value_and_grad({signature}):",
                "# forward",
                *forward_lines,
                "# backward",
                *backward_lines,
                f"return {result}, ({grads_tuple})\n",
            ]
        )
        self.forward_source = "\n    ".join(
            [f"def value({signature}):", *forward_lines, f"return {result}\n"]
        )
        self.value_and_grad: Callable[..., Any] = self._compile(
            self.source, "value_and_grad"
        )
        self._value: Callable[..., Any] | None = None

    def value(self, *args: Any) -> Any:
        if self._value is None:  # compiled on first use: many callers never need it
            self._value = self._compile(self.forward_source, "value")
        return self._value(*args)

    def _compile(self, source: str, name: str) -> Callable[..., Any]:
        namespace = dict(self.names.namespace)
        exec(compile(source, f"<trace {name}>", "exec"), namespace)
        return namespace[name]  # type: ignore[no-any-return]

    def _guard(
        self,
        decision: tuple[str, Value, Any, Any],
        index: dict[Value, int],
        live: list[bool],
        code: list[str],
    ) -> str:
        """The check that a recorded decision comes out the same (or "" if fixed)."""
        kind, x, y, result = decision

        def operand(z: Any) -> tuple[str, bool]:
            if type(z) is Value:
                i = index.get(z, -1)
                if i >= 0 and live[i]:
                    return code[i], True
                return self.names.literal(z.data), False
            return self.names.literal(z), False

        a, a_live = operand(x)
        if kind in ("float", "int"):
            if not a_live:
                return ""
            expected = self.names.literal(result)
            return f"if {kind}({a}) != {expected}: raise _GuardFailed"
        if kind == "bool":
            return _GUARD_FAILS[bool(result)].format(a) if a_live else ""
        b, b_live = operand(y)
        if not (a_live or b_live):
            return ""
        return _GUARD_FAILS[bool(result)].format(f"{a} {kind} {b}")


def _key(j: Any, nodes: list[Value]) -> Any:
    """A constant operand, as part of a template's cache key (exact: -0.0 != 0.0)."""
    data = nodes[j].data if type(j) is int else j[0]
    return (type(data), repr(data), data)


def _unkeyed(pattern: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(c if c is _LIVE else c[2] for c in pattern)


class Traced:
    """A function traced by ``trace``: call it with numbers, or ask for gradients.

    Holds up to ``max_traces`` traces of f, one per path f took through its
    data-dependent decisions; a call whose guards fail on every trace traces f again
    at its arguments. If replay raises (say ``log`` of a negative number) or gives a
    complex number, f runs on Values instead, so errors are f's own.
    """

    def __init__(
        self, f: Callable[..., Any], example_args: tuple[Any, ...], max_traces: int = 8
    ) -> None:
        if not callable(f):
            raise TypeError(f"trace() takes a function, got {type(f).__name__}: {f!r}")
        self.f = f
        self.max_traces = max_traces
        self.ntraces = 0
        self._params = _parameter_names(f, len(example_args))
        self._programs: list[_Program] = []
        self._trace(self._check(example_args))

    @property
    def source(self) -> str:
        """Python source of the latest trace's forward and backward."""
        return self._programs[0].source

    def __call__(self, *args: Any) -> Any:
        """f's value at ``args`` (plain numbers)."""
        args = self._check(args)
        for program in self._programs:
            try:
                value = program.value(*args)
            except _GuardFailed:
                continue
            except (ArithmeticError, ValueError, TypeError):
                break
            if not isinstance(value, complex):
                return value
            break
        return self._trace(args)[0]

    def value_and_grad(self, *args: Any) -> tuple[Any, tuple[Any, ...]]:
        """``(f(*args), (df/dargs[0], df/dargs[1], ...))`` at plain numbers."""
        args = self._check(args)
        for program in self._programs:
            try:
                result: tuple[Any, tuple[Any, ...]] = program.value_and_grad(*args)
            except _GuardFailed:
                continue
            except (ArithmeticError, ValueError, TypeError):
                break
            if not isinstance(result[0], complex):
                return result
            break
        return self._trace(args)

    def _check(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        name = getattr(self.f, "__name__", "f")
        if len(args) != len(self._params):
            raise TypeError(
                f"traced {name}() takes {len(self._params)} argument(s), "
                f"got {len(args)}"
            )
        for i, x in enumerate(args):
            if not _is_number(x) or isinstance(x, Value):
                raise TypeError(
                    f"traced {name}() takes numbers, got {type(x).__name__} "
                    f"for argument {i}: {x!r}"
                )
        return args

    def _trace(self, args: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
        """Run f on Values at ``args``; keep the trace; return its value and grads."""
        xs = [Value(a, label=p) for a, p in zip(args, self._params, strict=True)]
        decisions: list[tuple[str, Value, Any, Any]] = []

        def observe(kind: str, x: Value, y: Any, result: Any) -> None:
            decisions.append((kind, x, y, result))

        token = _engine._OBSERVER.set(observe)
        try:
            with _engine.enable_grad():
                out = self.f(*xs)
        finally:
            _engine._OBSERVER.reset(token)
        if not (isinstance(out, Value) or _is_number(out)):
            name = getattr(self.f, "__name__", "f")
            raise TypeError(
                f"trace: {name}() must return a Value or a number, "
                f"got {type(out).__name__}: {out!r}"
            )
        program = _Program(self._params, xs, out, decisions)
        self.ntraces += 1
        self._programs.insert(0, program)
        del self._programs[self.max_traces :]
        # The trace's own numbers at its own arguments, where no guard can fail.
        try:
            result: tuple[Any, tuple[Any, ...]] = program.value_and_grad(*args)
            if not isinstance(result[0], complex):
                return result
        except (ArithmeticError, ValueError, TypeError):
            pass
        if not isinstance(out, Value):
            return out, tuple(0 for _ in xs)
        out.backward()  # the engine's own numbers (and errors)
        return out.data, tuple(x.grad for x in xs)


def trace(f: Callable[..., Any], *example_args: Any) -> Traced:
    """Trace ``f`` (a function of Values) at ``example_args`` for fast replay.

    ``f`` runs once on Values; its graph becomes straight-line Python over plain
    numbers (``.source``). Call the result with numbers for f's value, or
    ``.value_and_grad(*args)`` for the value and the gradient with respect to every
    argument. Comparisons of Values and ``bool``/``float``/``int`` of a Value made
    while tracing become guards: where f would decide otherwise, it is traced again.
    Constants made inside f (``Value(3.0)``) are written into the trace.

    >>> def h(x):
    ...     return x * x if x > 0 else -3 * x
    >>> g = trace(h, 1.0)
    >>> g.value_and_grad(-2.0)
    (6.0, (-3.0,))
    >>> g(3.0), g.ntraces
    (9.0, 2)
    """
    return Traced(f, example_args)
