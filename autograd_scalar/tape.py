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
records its graph, and turns it into Python source (``.source``: straight-line code,
with a loop where ``f`` repeated itself) that computes the value and the gradient with
respect to every argument from plain numbers, with no graph built. Decisions ``f``
takes on data (``x > 0``, ``bool(x)``, ``float(x)``) become guards: a call that would
take another path is traced afresh.

>>> g = trace(lambda x, y: x * y + y, 2.0, 3.0)
>>> g.value_and_grad(4.0, 5.0)
(25.0, (5.0, 5.0))

With numpy arrays for arguments, the same trace runs once over all the points (see
``trace``); numpy is imported only then.
"""

from __future__ import annotations

import builtins
import gc
import inspect
import keyword
import math
import operator
import re
import weakref
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from . import _engine
from ._engine import Primitive, Value, _is_number
from ._rules import _pow as pow_
from ._rules import registered
from ._symbolic import (
    _ATOM,
    _CONDITIONAL,
    _PRODUCT,
    _code,
    _explore,
    _Opaque,
    _prec,
    _scaled,
    _Slot,
)

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

    def __iter__(self) -> Iterator[CompNode]:
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
# Weak values: a class lives while it is used (by its nodes, this module's globals,
# the user), and takes its primitive along when freed: a user primitive redefined
# under its name (a notebook rerun) is not kept forever. A class made again for a
# freed one cannot be told apart, as nothing holds the old one.
_NODE_CLASSES: weakref.WeakValueDictionary[Primitive, type[PrimitiveNode]] = (
    weakref.WeakValueDictionary()
)


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
# Generated code: the namespace, array forms, templates
# =====================================================================================


class _Names:
    """The namespace of one piece of generated code: objects bound to fresh names.

    With ``numpy`` (the module), the code is for arrays: conditionals become
    ``_where(c, a, b)`` and functions are bound in their array forms.
    """

    def __init__(self, numpy: Any = None) -> None:
        self.namespace: dict[str, Any] = {"_GuardFailed": _GuardFailed}
        self._names: dict[int, str] = {}
        self.numpy = numpy
        if numpy is not None:
            self.namespace.update(_where=numpy.where, _trunc=numpy.trunc)

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
        if self.numpy is not None:
            x = _float_unless_int(x)  # a Fraction would make numpy compute on objects
        kind = type(x)
        if kind is int or (kind is float and math.isfinite(x)):
            return repr(x)
        return self.bind(x)

    def forward(self, primitive: Primitive) -> str:
        """The name of the primitive's forward (on arrays, its ``numpy`` form)."""
        if self.numpy is None:
            return self.bind(primitive.fn, "_f")
        return self.bind(_array_function(primitive, -1, self.numpy), "_f")

    def partial(self, primitive: Primitive, k: int) -> str:
        """The name of partial ``k`` of a primitive, where the placeholders could not
        express it."""
        if self.numpy is None:
            return self.bind(primitive.partials[k], "_p")
        return self.bind(_array_function(primitive, k, self.numpy), "_p")

    def conditional(self, condition: str, yes: str, no: str) -> tuple[str, int]:
        """``yes if condition else no`` (sources of precedence fit for that)."""
        if self.numpy is None:
            return f"{yes} if {condition} else {no}", _CONDITIONAL
        return f"_where({condition}, {yes}, {no})", _ATOM


# The built-in primitives' forwards on numpy arrays, as source (``np`` is numpy);
# erf has none: over arrays, math.erf runs per element (np.vectorize).
_NUMPY_FORMS: dict[str, str] = {
    "add": "np.add",
    "sub": "np.subtract",
    "mul": "np.multiply",
    "truediv": "np.true_divide",
    "pow": "np.power",
    "neg": "np.negative",
    "abs": "np.abs",
    "exp": "np.exp",
    "expm1": "np.expm1",
    "log": "np.log",
    "log1p": "np.log1p",
    "sqrt": "np.sqrt",
    "sin": "np.sin",
    "cos": "np.cos",
    "tan": "np.tan",
    "atan": "np.arctan",
    "atan2": "np.arctan2",
    "hypot": "np.hypot",
    "tanh": "np.tanh",
    "sigmoid": "lambda x: np.exp(-np.logaddexp(0.0, -x))",  # stable: e^-softplus(-x)
    "softplus": "lambda x: np.logaddexp(0.0, x)",
    "relu": "lambda x: np.where((x > 0) | (x != x), x, 0.0)",
    "maximum": "np.maximum",
    "minimum": "np.minimum",
}

# Array forms of each primitive's forward (key -1) and partials (key k), made once
# and kept as long as the primitive (weak keys: a redefined user primitive is freed).
_ARRAY_FUNCTIONS: weakref.WeakKeyDictionary[
    Primitive, dict[int, Callable[..., Any]]
] = weakref.WeakKeyDictionary()


def _array_function(primitive: Primitive, k: int, np: Any) -> Callable[..., Any]:
    """The forward (``k`` = -1) or partial ``k`` of a primitive over numpy arrays:
    the rule table's ``numpy`` source of the forward, or else the scalar function
    per element."""
    forms = _ARRAY_FUNCTIONS.get(primitive)
    if forms is None:
        forms = _ARRAY_FUNCTIONS[primitive] = {}
    fn = forms.get(k)
    if fn is None:
        numpy = _NUMPY_FORMS.get(primitive.name)
        if k < 0 and numpy is not None:
            fn = eval(numpy, {"np": np})
        else:
            scalar = primitive.fn if k < 0 else primitive.partials[k]
            fn = np.vectorize(_nan_on_error(scalar), otypes=[float])
        forms[k] = fn
    return fn


def _nan_on_error(scalar: Callable[..., Any]) -> Callable[..., Any]:
    """``scalar``, giving nan where it raises or is complex: one point does not stop
    the others (a nan is computed again by the scalar replay, see ``Traced``)."""

    def per_point(*args: Any) -> Any:
        try:
            out = scalar(*args)
        except (ArithmeticError, ValueError):
            return math.nan
        return math.nan if isinstance(out, complex) else out

    return per_point


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
        try:
            tree = _explore(primitive.fn, args, names, [])
            if (
                tree[0] == "if"
                and names.numpy is not None
                and primitive.name in _NUMPY_FORMS
            ):
                raise _Opaque  # on arrays, one call beats a nest of _where's
            self.forward, self.prec = _code(tree, names)
        except _Opaque:
            fn = names.forward(primitive)
            operands = ", ".join(_slot_code(a, names) for a in args)
            self.forward, self.prec = f"{fn}({operands})", _ATOM
        self.terms: list[tuple[str, int] | None] = []
        args = [
            _Slot(k + 1) if c is _LIVE or c is _VARYING else c
            for k, c in enumerate(pattern)
        ]
        for k, partial in enumerate(primitive.partials):
            if pattern[k] is not _LIVE:
                self.terms.append(None)
                continue
            try:
                term = _scaled(_explore(partial, [_Slot(0), *args], names, []), names)
            except _Opaque:
                p = names.partial(primitive, k)
                operands = ", ".join(["{0}", *(_slot_code(a, names) for a in args)])
                term = f"{{g}} * {p}({operands})", _PRODUCT
            self.terms.append(term)
        body = " ".join(t[0] for t in self.terms if t)
        self.uses = [body.count(f"{{{k}}}") for k in range(n + 1)]
        self.uses_forward = [self.forward.count(f"{{{k}}}") for k in range(n + 1)]


def _slot_code(a: Any, names: _Names) -> str:
    return a.code if type(a) is _Slot else names.literal(a)


_LIVE: Any = object()  # in a pattern: an operand that depends on the arguments
_VARYING: Any = object()  # in a pattern: a constant read from a loop variable


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
            # the generated code's own names: v12, g3, c4_1, S0, ... (x3 is the
            # fallback for argument 3 itself)
            and (name == f"x{i}" or not re.fullmatch(r"[A-Za-z]\d+(_\d+)?", name))
            and not hasattr(builtins, name)  # the code calls abs(), float(), int()
            and kind
            in (
                inspect.Parameter.POSITIONAL_ONLY,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
            )
        )
        names.append(name if usable and name not in names else f"x{i}")
    return names


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
    ``consts``. Written once instead of ``reps`` times, the code compiles
    in a fraction of the time, and runs as fast.
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


_MIN_REPS = 3  # fewer repetitions are written out in full
_MIN_BLOCK = 48  # nor are fewer repeated nodes


# What a compiled _Program keeps: its code, and what checks the code still holds.
_PROGRAM_KEEPS = frozenset(
    {
        "_value",
        "forward_source",
        "names",
        "source",
        "stale",
        "value_and_grad",
    }
)


class _Program:
    """One trace of f, turned into straight-line source (with loops) and compiled.

    Nodes are numbered in a topological order: the arguments, then every node the
    guards and the output depend on. A node that does not depend on an argument is a
    constant (its traced value is written in). A node used once, in its consumer's
    forward only, is written inside the consumer's expression; the others get a
    variable ``v<i>``. The backward sums, for each node, the terms its consumers
    contribute (from ``_Template``), consumers first; a gradient that is just one
    other gradient is not copied. Nodes no gradient reaches are skipped. A stretch
    that repeats (a Python loop in f) becomes a loop (``_Block``).

    With ``numpy`` (the module), the same code is written for arrays of points: a
    guard does not raise but clears the points where it fails in the mask ``_ok``,
    returned last.
    """

    def __init__(
        self,
        params: list[str],
        args: list[Value],
        out: Any,
        decisions: list[tuple[str, Value, Any, Any]],
        numpy: Any = None,
    ) -> None:
        self.names = names = _Names(numpy)
        self.vector = vector = numpy is not None
        self.params = params
        self.nargs = nargs = len(args)
        index: dict[Value, int] = {x: i for i, x in enumerate(args)}
        self.nodes = nodes = list(args)
        self.order: list[Any] = list(range(nargs))  # node numbers and guards
        order = self.order

        def number(node: Value) -> None:
            index[node] = len(nodes)
            order.append(len(nodes))
            nodes.append(node)

        def visit(root: Any) -> None:
            """Number root's graph after its inputs, without entering numbered nodes."""
            if type(root) is not Value or root._op is None or root in index:
                return
            stack: list[tuple[Value, bool]] = [(root, False)]
            while stack:
                node, inputs_done = stack.pop()
                if inputs_done:
                    number(node)
                elif node not in index:
                    stack.append((node, True))
                    for x in node._inputs():
                        if type(x) is Value and x._op is not None and x not in index:
                            stack.append((x, False))

        for decision in decisions:  # each guard as soon as what it reads is made
            visit(decision[1])
            visit(decision[2])
            order.append(decision)
        if type(out) is Value and out._op is not None:
            # The engine's sort. It marks the nodes it visits in their grad, so the
            # grads are put back: f may close over nodes a user has differentiated.
            with _engine._PASS_LOCK:
                interior = [x for x in _engine._reachable(out) if x._op is not None]
                grads = [x.grad for x in interior]
                sorted_nodes = _engine._interior_toposort(out)
                for x, grad in zip(interior, grads, strict=True):
                    x.grad = grad
            for node in sorted_nodes:
                if node not in index:
                    number(node)
        self.index = index
        self.out_index = out_index = index.get(out, -1) if type(out) is Value else -1

        # -- which nodes depend on the arguments, with which templates -------------
        # An operand is a node's number, or a constant as a 1-tuple.
        n = len(nodes)
        self.live = live = [False] * n
        live[:nargs] = [True] * nargs
        self.operands: list[list[Any]] = [[] for _ in range(n)]
        self.templates: list[_Template | None] = [None] * n
        self.patterns: list[tuple[Any, ...]] = [()] * n
        self.cache: dict[tuple[Any, ...], _Template] = {}
        operands, templates, patterns = self.operands, self.templates, self.patterns
        # Each node's shape, for finding stretches that repeat (see _find_blocks):
        # its primitive and, per operand, the argument's number, how many nodes
        # back it was made (negative), or the type of a constant.
        self.shapes: list[Any] = [None] * n
        self.farthest = farthest = [0] * n  # the most negative distance in a shape
        value, get, shapes = Value, index.get, self.shapes
        cache, live_mark = self.cache, _LIVE
        # The leaves read that are not arguments, with the data written in (see
        # stale); the guards' and the output's are added as their code is written.
        self.leaves: dict[Value, Any] = {}
        leaves = self.leaves
        for i in range(nargs, n):
            node = nodes[i]
            a, b = node._a, node._b
            inputs = (a,) if b is None else (a, *b) if type(b) is tuple else (a, b)
            ops: list[Any] = []
            pattern: list[Any] = []
            shape: list[Any] = [node._op]
            far = 0
            for x in inputs:
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
                else:  # a node that depends on no argument
                    data = nodes[j].data
                    ops.append(j)
                pattern.append(_constant_key(data))
                shape.append(type(data))
            operands[i] = ops
            if live_mark not in pattern:
                continue  # depends on no argument: a constant
            live[i] = True
            patterns[i] = key = tuple(pattern)
            template = cache.get((node._op, key, ()))
            if template is None:
                template = self._template(node._op, key)  # type: ignore[arg-type]
            templates[i] = template
            shapes[i] = tuple(shape)
            farthest[i] = far

        # -- which nodes a gradient reaches, which need a variable ------------------
        self.needs = needs = [False] * n
        if out_index >= 0 and live[out_index]:
            needs[out_index] = True
            for i in range(n - 1, nargs - 1, -1):
                if needs[i] and templates[i] is not None:
                    for j in operands[i]:
                        if type(j) is int and live[j]:
                            needs[j] = True
        uses = [0] * n  # how often each node appears in forward expressions
        self.stored = stored = [False] * n
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
        for i in range(n):
            if uses[i] > 1:
                stored[i] = True
        for decision in decisions:
            for x in decision[1:3]:
                if type(x) is value and x in index:
                    stored[index[x]] = True
        if out_index >= 0:
            stored[out_index] = True
        self.blocks = self._find_blocks()
        self._prepare_blocks()

        forward = self._forward()
        if out_index >= 0:
            result = self.code[out_index]
        else:  # a number, or a leaf f made or closes over
            if type(out) is value:
                leaves[out] = out.data
            result = names.literal(_engine._data(out))
        self.stale = _stale_check(leaves)
        backward, grads = self._backward()
        signature = ", ".join(params)
        grads_tuple = ", ".join(grads) + ("," if nargs == 1 else "")
        tail = ""  # on arrays, the mask of points where every guard holds
        if vector:
            forward.insert(0, "_ok = True")
            tail = ", _ok"
        self.source = "\n    ".join(
            [
                f"def value_and_grad({signature}):",
                "# forward",
                *forward,
                "# backward",
                *backward,
                f"return {result}, ({grads_tuple}){tail}\n",
            ]
        )
        self.forward_source = "\n    ".join(
            [f"def value({signature}):", *forward, f"return {result}{tail}\n"]
        )
        self.value_and_grad: Callable[..., Any] = self._compile(
            self.source, "value_and_grad"
        )
        self._value: Callable[..., Any] | None = None
        # What replay needs stays; the trace's graph and the lists kept per node
        # while writing the code go (for a big step, some 100k objects that every
        # full garbage collection would otherwise walk).
        for name in set(vars(self)) - _PROGRAM_KEEPS:
            delattr(self, name)

    # -- templates -----------------------------------------------------------------

    def _template(
        self, op: Primitive, pattern: tuple[Any, ...], precs: tuple[int, ...] = ()
    ) -> _Template:
        key = (op, pattern, precs)
        template = self.cache.get(key)
        if template is None:
            template = _Template(op, _unkeyed(pattern), self.names, precs or None)
            self.cache[key] = template
        return template

    # -- repeated stretches --------------------------------------------------------

    def _find_blocks(self) -> list[_Block]:
        """Stretches of ``order`` where one iteration's structure repeats.

        Nodes of the same shape (``self.shapes``) get the same number in ``sig``. A
        period L with sig[t] == sig[t + L] over a long run is a loop; it is kept if
        each iteration reads only its own nodes (and arguments and constants).
        Periods are tried by how much they would cover.
        """
        order = self.order
        sig = self._signatures(len(order))
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
            sig = self._signatures(2 * length)
            same = bytes(a == b for a, b in zip(sig, sig[length:], strict=False))
            t = same.find(1)
            while t >= 0:
                run_end = same.find(0, t)
                if run_end < 0:
                    run_end = len(same)
                # positions t .. run_end + length - 1 repeat with period length
                block = self._place_block(
                    t, run_end + length, length, position_of, claimed, len(blocks)
                )
                if block is not None:
                    blocks.append(block)
                t = same.find(1, run_end)
        blocks.sort(key=lambda b: b.start)
        return blocks

    def _signatures(self, horizon: int) -> list[int]:
        """A number per position of ``order``, equal for nodes of the same shape.

        An operand made more than ``horizon`` nodes back counts by its number, not
        its distance: a value made before a loop and read in every iteration.
        """
        shapes, nargs, farthest = self.shapes, self.nargs, self.farthest
        if not hasattr(self, "_ids"):  # distances only, once
            self._ids: dict[Any, int] = {}
            self._sig: list[int] = []
            self._far: list[tuple[int, int]] = []  # (farthest, position), sorted
            for position, i in enumerate(self.order):
                if type(i) is not int or i < nargs:
                    key: Any = position  # unique: guards and arguments never repeat
                else:
                    key = shapes[i]  # None for a constant
                    if farthest[i] < 0:
                        self._far.append((farthest[i], position))
                self._sig.append(self._ids.setdefault(key, len(self._ids)))
            self._far.sort()
        sig = list(self._sig)
        for far, position in self._far:
            if far >= -horizon:
                break
            i = self.order[position]
            key = tuple(
                ("made", i + d) if type(d) is int and d < -horizon else d
                for d in shapes[i]
            )
            sig[position] = self._ids.setdefault(key, len(self._ids))
        return sig

    def _place_block(
        self,
        run_start: int,
        span_end: int,
        length: int,
        position_of: dict[int, int],
        claimed: bytearray,
        number: int,
    ) -> _Block | None:
        order, operands, live = self.order, self.operands, self.live
        for phase in range(min(length, span_end - run_start)):
            start = run_start + phase
            reps = (span_end - start) // length
            end = start + reps * length
            if self.out_index >= 0 and start <= position_of.get(self.out_index, -1):
                reps = min(reps, (position_of[self.out_index] - start) // length)
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
                or j < self.nargs
                or j >= previous
                or i - j > 2 * length
                for i in order[start : start + length]
                for j in operands[i]
            ):
                claimed[start:end] = b"\x01" * (end - start)
                return _Block(number, start, length, reps)
        return None

    def _prepare_blocks(self) -> None:
        """Make iteration 0 stand for all: union of needs, variables per constant."""
        order, operands, live, stored = (
            self.order,
            self.operands,
            self.live,
            self.stored,
        )
        inside: set[int] = set()
        for block in self.blocks:
            inside.update(order[block.start : block.start + block.length * block.reps])
        # A node read after its block ends must be kept from its iteration.
        for i in range(self.nargs, len(self.nodes)):
            if live[i] and i not in inside:
                for j in operands[i]:
                    if type(j) is int and j in inside:
                        stored[j] = True
        for block in self.blocks:
            iterations = [block.iteration(order, k) for k in range(block.reps)]
            first = iterations[0][0]
            for i in iterations[0]:
                for m, j in enumerate(operands[i]):
                    previous = max(self.nargs, first - block.length)
                    if type(j) is int and live[j] and previous <= j < first:
                        carried = _Var(f"r{i}_{m}", init=j, src=j + block.length)
                        operands[i][m] = carried
                        block.carried.append(carried)
                        stored[carried.src] = True
            for p, i in enumerate(iterations[0]):
                if not live[i]:
                    continue
                same = [it[p] for it in iterations]
                self.needs[i] = any(self.needs[j] for j in same)
                stored[i] = any(stored[j] for j in same)
                pattern = list(self.patterns[i])
                for m in range(len(operands[i])):
                    if pattern[m] is _LIVE:
                        continue
                    keys = [self.patterns[it][m] for it in same]
                    if any(key != keys[0] for key in keys):
                        pattern[m] = _VARYING
                        operands[i][m] = _Var(f"c{i}_{m}")
                        for k, key in enumerate(keys):
                            block.consts[k].append(key[1])
                if _VARYING in pattern:
                    self.patterns[i] = tuple(pattern)
                    op: Primitive = self.nodes[i]._op  # type: ignore[assignment]
                    self.templates[i] = self._template(op, tuple(pattern))
            block.saved = [i for i in iterations[0] if live[i] and stored[i]]

    # -- forward -------------------------------------------------------------------

    def _forward(self) -> list[str]:
        order = self.order
        n = len(self.nodes)
        self.code: list[str] = [*self.params, *[""] * (n - self.nargs)]
        self.prec = [_ATOM] * n
        self.depth = [0] * n
        lines: list[str] = []
        starts = {block.start: block for block in self.blocks}
        position = 0
        while position < len(order):
            block = starts.get(position)
            if block is not None:
                self._forward_block(block, lines)
                position += block.length * block.reps
                continue
            i = order[position]
            position += 1
            if type(i) is not int:
                lines.append(self._guard(i))
            elif i >= self.nargs:
                self._forward_node(i, lines)
        return lines

    def _forward_node(self, i: int, lines: list[str]) -> None:
        code, prec, depth = self.code, self.prec, self.depth
        if not self.live[i]:
            code[i] = self.names.literal(self.nodes[i].data)
            prec[i] = _prec(code[i])
            return
        template = self.templates[i]
        assert template is not None
        texts = [""]
        d = 0
        inlined = False
        for j in self.operands[i]:
            if type(j) is int:
                texts.append(code[j])
                if prec[j] != _ATOM:
                    inlined = True
                if depth[j] > d:
                    d = depth[j]
            else:
                texts.append(j.name if type(j) is _Var else "")
        if inlined:  # the template for these operands' precedences
            precs = tuple(
                prec[j] if type(j) is int else _ATOM for j in self.operands[i]
            )
            op: Primitive = self.nodes[i]._op  # type: ignore[assignment]
            template = self._template(op, self.patterns[i], precs)
        text = template.forward.format(*texts)
        if self.stored[i] or d >= _MAX_DEPTH:
            lines.append(f"v{i} = {text}")
            code[i] = f"v{i}"
        else:
            code[i] = text
            prec[i] = template.prec
            depth[i] = d + 1

    def _forward_block(self, block: _Block, lines: list[str]) -> None:
        b = block.number
        body: list[str] = []
        first = block.iteration(self.order, 0)
        for i in first:
            self._forward_node(i, body)
        consts = _const_names(block, self.order, self.operands)
        if consts:
            table = [tuple(c) for c in block.consts]
            if self.vector:  # no Fractions in array code
                table = [tuple(map(_float_unless_int, c)) for c in table]
            self.names.namespace[f"C{b}"] = table
            lines.append(f"for {', '.join(consts)}, in C{b}:")
        else:
            lines.append(f"for _ in range({block.reps}):")
        saved = ", ".join(_saved_names(block))
        lines.insert(len(lines) - 1, f"S{b} = []")
        for carried in block.carried:
            lines.insert(len(lines) - 1, f"{carried.name} = {self.code[carried.init]}")
        lines.extend(f"    {line}" for line in body)
        lines.append(f"    S{b}.append(({saved},))")
        lines.extend(f"    {c.name} = v{c.src}" for c in block.carried)
        # After the loop, a node of iteration k is read from what was saved.
        where = {i: p for p, i in enumerate(first)}
        for k in range(block.reps):
            iteration = block.iteration(self.order, k)
            for m, i in enumerate(block.saved):
                j = iteration[where[i]]
                self.code[j] = f"S{b}[{k}][{m}]"
                self.prec[j] = _ATOM
                self.depth[j] = 0

    def _guard(self, decision: tuple[str, Value, Any, Any]) -> str:
        """The check that a recorded decision comes out the same (or "" if fixed)."""
        kind, x, y, result = decision

        def operand(z: Any) -> tuple[str, bool]:
            if type(z) is Value:
                i = self.index.get(z, -1)
                if i >= 0 and self.live[i]:
                    return self.code[i], True
                if i < 0:
                    self.leaves[z] = z.data
                return self.names.literal(z.data), False
            return self.names.literal(z), False

        a, a_live = operand(x)
        if kind in ("float", "int"):
            if not a_live:
                return ""
            expected = self.names.literal(result)
            if self.vector:
                a = f"_trunc({a})" if kind == "int" else a
                return f"_ok = _ok & ({a} == {expected})"
            return f"if {kind}({a}) != {expected}: raise _GuardFailed"
        if kind == "bool":
            if not a_live:
                return ""
            if self.vector:
                return f"_ok = _ok & ({a} {'!=' if result else '=='} 0)"
            return _GUARD_FAILS[bool(result)].format(a)
        b, b_live = operand(y)
        if not (a_live or b_live):
            return ""
        if self.vector:
            holds = f"({a} {kind} {b})" if result else f"~({a} {kind} {b})"
            return f"_ok = _ok & {holds}"
        return _GUARD_FAILS[bool(result)].format(f"{a} {kind} {b}")

    # -- backward ------------------------------------------------------------------

    def _backward(self) -> tuple[list[str], list[str]]:
        order, nargs = self.order, self.nargs
        lines: list[str] = []
        self.contributions: dict[int, list[str]] = {}
        self.maybe_zero: set[str] = set()
        self.grads = ["0"] * nargs
        out = self.out_index
        if out < 0 or not self.needs[out]:
            return lines, self.grads
        self.seed = self.names.literal(self.nodes[out].data ** 0)
        ends = {b.start + b.length * b.reps - 1: b for b in self.blocks}
        position = len(order) - 1
        while position >= 0:
            block = ends.get(position)
            if block is not None:
                self._backward_block(block, lines)
                position = block.start - 1
                continue
            i = order[position]
            position -= 1
            if type(i) is int and self.needs[i]:
                self._backward_node(i, lines, self.contributions, None)
        return lines, self.grads

    def _sum(self, target: str, terms: list[str], lines: list[str], add: bool) -> None:
        for start in range(0, len(terms), _TERMS_PER_LINE):
            chunk = " + ".join(terms[start : start + _TERMS_PER_LINE])
            if add or start:
                lines.append(f"{target} = {target} + {chunk}")
            else:
                lines.append(f"{target} = {chunk}")

    def _backward_node(
        self,
        i: int,
        lines: list[str],
        contributions: dict[int, list[str]],
        to_arguments: dict[int, list[tuple[str, str]]] | None,
        to_carried: dict[int, list[str]] | None = None,
        outer: int = 0,
    ) -> None:
        """Sum node i's gradient and pass its terms on to its operands.

        In a loop, terms for nodes made before it (numbers below ``outer``: the
        arguments and others) go to ``to_arguments``, summed over the iterations,
        and terms for the previous iteration to ``to_carried``.
        """
        nargs = self.nargs
        if i == self.out_index:
            g = self.seed
        else:
            terms = contributions.pop(i, None)
            if not terms:
                return  # no gradient reaches this node
            if len(terms) == 1 and (terms[0].isidentifier() or terms[0] == self.seed):
                g = terms[0]
            else:
                g = f"d{i}" if i < nargs else f"g{i}"
                self._sum(g, terms, lines, add=False)
                if len(terms) == 1 and terms[0].endswith(" else 0)"):
                    self.maybe_zero.add(g)  # relu's, say
        if i < nargs:
            self.grads[i] = g
            return
        template = self.templates[i]
        assert template is not None
        operands = self.operands[i]
        code = self.code
        texts = [f"v{i}" if self.stored[i] else ""]
        texts += [
            code[j] if type(j) is int else j.name if type(j) is _Var else ""
            for j in operands
        ]
        for j, term in zip(operands, template.terms, strict=True):
            if term is not None and type(j) is int and self.needs[j]:
                text = term[0].format(*texts, g=g)
                if term[1] < _PRODUCT:
                    text = f"({text})"
                if to_arguments is not None and j < outer:
                    to_arguments.setdefault(j, []).append((g, text))
                else:
                    contributions.setdefault(j, []).append(text)
            elif term is not None and type(j) is _Var and j.init >= 0:
                # To the previous iteration's node: summed in q<src> (see below).
                assert to_carried is not None
                text = term[0].format(*texts, g=g)
                text = f"({text})" if term[1] < _PRODUCT else text
                to_carried.setdefault(j.src, []).append(text)

    def _accumulate(
        self, b: int, to_arguments: dict[int, list[tuple[str, str]]], body: list[str]
    ) -> None:
        """Add one iteration's terms for nodes made before the loop to a<b>_<j>.

        The terms of a gradient that is often exactly 0 (after a relu) are added
        under ``if g:``, so an inactive unit costs one test, not a row of products.
        """
        plain: dict[int, list[str]] = {}
        guarded: dict[str, list[tuple[int, str]]] = {}
        for j, pairs in sorted(to_arguments.items()):
            for g, text in pairs:
                if g in self.maybe_zero:
                    guarded.setdefault(g, []).append((j, text))
                else:
                    plain.setdefault(j, []).append(text)
            self.contributions.setdefault(j, []).append(f"a{b}_{j}")
        for j, terms in plain.items():
            self._sum(f"a{b}_{j}", terms, body, add=True)
        for g, items in guarded.items():
            indent = "    " if len(items) > 1 else ""
            if indent:
                body.append(f"if {g}:")
            body.extend(f"{indent}a{b}_{j} = a{b}_{j} + {text}" for j, text in items)

    def _backward_block(self, block: _Block, lines: list[str]) -> None:
        b = block.number
        first = block.iteration(self.order, 0)
        iterations = [block.iteration(self.order, k) for k in range(block.reps)]
        # Gradients reaching the block's nodes from after it, per iteration.
        local: dict[int, list[str]] = {}
        columns: list[list[str]] = []
        incoming: list[str] = []
        for p, i in enumerate(first):
            if not self.needs[i]:
                continue
            column = []
            for iteration in iterations:
                terms = self.contributions.pop(iteration[p], None)
                column.append(" + ".join(terms) if terms else "0")
            if any(c != "0" for c in column):
                columns.append(column)
                incoming.append(f"e{i}")
                local[i] = [f"e{i}"]
        if not columns:
            return  # no gradient reaches the block
        # A carried value's gradient reaches its node in the previous iteration
        # through q<src>: set at the end of one (reverse) iteration, read in the next.
        sources = {c.src: c.init for c in block.carried}
        for src in sources:
            local.setdefault(src, []).append(f"q{src}")
        body: list[str] = []
        to_arguments: dict[int, list[tuple[str, str]]] = {}
        to_carried: dict[int, list[str]] = {}
        after_loop = {i: self.code[i] for i in block.saved}
        for i in block.saved:  # inside the loop, iteration 0's names stand for all
            self.code[i] = f"v{i}"
        for i in reversed(first):
            if self.needs[i]:
                self._backward_node(i, body, local, to_arguments, to_carried, first[0])
        for i, code in after_loop.items():
            self.code[i] = code
        self._accumulate(b, to_arguments, body)
        if sources:
            # Last, and all at once: a gradient above may be one of these q's.
            carried = [" + ".join(to_carried.get(src, [])) or "0" for src in sources]
            body.append(
                f"{', '.join(f'q{src}' for src in sources)}, = {', '.join(carried)},"
            )
        for src, init in sources.items():
            if self.needs[init]:
                self.contributions.setdefault(init, []).append(f"q{src}")
        rows = ", ".join(f"({', '.join(row)},)" for row in zip(*columns, strict=True))
        lines.append(f"E{b} = [{rows}]")
        lines.extend(f"a{b}_{j} = 0" for j in sorted(to_arguments))
        lines.extend(f"q{src} = 0" for src in sources)
        targets = [f"({', '.join(incoming)},)"]
        tables = [f"reversed(E{b})"]
        saved = _saved_names(block)
        if saved:
            targets.append(f"({', '.join(saved)},)")
            tables.append(f"reversed(S{b})")
        consts = _const_names(block, self.order, self.operands)
        if consts:
            targets.append(f"({', '.join(consts)},)")
            tables.append(f"reversed(C{b})")
        lines.append(f"for {', '.join(targets)} in zip({', '.join(tables)}):")
        lines.extend(f"    {line}" for line in body)

    # -- running -------------------------------------------------------------------

    def value(self, *args: Any) -> Any:
        if self._value is None:  # compiled on first use: many callers never need it
            self._value = self._compile(self.forward_source, "value")
        return self._value(*args)

    def _compile(self, source: str, name: str) -> Callable[..., Any]:
        namespace = dict(self.names.namespace)
        exec(compile(source, f"<trace {name}>", "exec"), namespace)
        return namespace[name]  # type: ignore[no-any-return]


def _float_unless_int(x: Any) -> Any:
    return x if type(x) is int or type(x) is float else float(x)


def _saved_names(block: _Block) -> list[str]:
    """What one iteration saves for later: its kept nodes, then carried values."""
    return [f"v{i}" for i in block.saved] + [c.name for c in block.carried]


def _const_names(
    block: _Block, order: list[Any], operands: list[list[Any]]
) -> list[str]:
    """The loop variables holding one iteration's constants, in table order."""
    first = block.iteration(order, 0)
    return [
        j.name for i in first for j in operands[i] if type(j) is _Var and j.init < 0
    ]


def _constant_key(data: Any) -> tuple[Any, ...]:
    """A constant operand, as part of a template's cache key (exact: -0.0 != 0.0)."""
    return (type(data), data, data == 0 and repr(data))


def _unkeyed(pattern: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(c if c is _LIVE or c is _VARYING else c[1] for c in pattern)


def _stale_check(leaves: dict[Value, Any]) -> Callable[[], bool] | None:
    """A check that some of ``leaves`` no longer hold the data written into a trace
    (None if there are none to check).

    Identity, not equality: it costs one pointer comparison per leaf, and a number
    equal but not identical (``-0.0`` for ``0.0``, ``1`` for ``1.0``) may replay
    otherwise. Values made inside f are checked too: f may keep one (a cache).
    """
    if not leaves:
        return None
    values, datas = tuple(leaves), tuple(leaves.values())

    def stale() -> bool:
        return not all(map(operator.is_, map(_DATA, values), datas))

    return stale


_DATA = operator.attrgetter("data")


def _drop_stale(programs: list[_Program]) -> None:
    """Remove the programs that read a Value whose data has changed since."""
    programs[:] = [p for p in programs if p.stale is None or not p.stale()]


class Traced:
    """A function traced by ``trace``: call it with numbers, or ask for gradients.

    Holds up to ``max_traces`` traces of f, one per path f took through its
    data-dependent decisions; a call whose guards fail on every trace traces f again
    at its arguments. A trace that read a Value other than the arguments (one f
    closes over, or makes) is dropped once that Value's ``data`` is no longer the
    object it read. If replay raises (say ``log`` of a negative number) or gives a
    complex number, f runs on Values instead, so errors are f's own.

    Called with numpy arrays (see ``trace``), it keeps traces of its own for arrays,
    at most ``max_array_traces`` new ones per call.
    """

    max_array_traces = 32

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
        self._array_programs: list[_Program] = []
        checked = self._check(example_args)
        if checked is None:
            raise TypeError("trace() takes numbers as example arguments, not arrays")
        self._trace(checked)

    @property
    def source(self) -> str:
        """Python source of the latest trace's forward and backward."""
        if not self._programs:  # every trace went stale, and tracing again raised
            name = getattr(self.f, "__name__", "the function")
            raise RuntimeError(
                f"{name} has no trace: its traces read Values that have changed "
                "since, and tracing again failed; call it to trace it again"
            )
        return self._programs[0].source

    def __call__(self, *args: Any) -> Any:
        """f's value at ``args`` (plain numbers, or arrays: see ``trace``)."""
        if self._check(args) is None:
            return self._over_arrays(args, grad=False)[0]
        for program in self._programs:
            if program.stale is not None and program.stale():
                _drop_stale(self._programs)
                return self(*args)
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
        """``(f(*args), (df/dargs[0], df/dargs[1], ...))`` at plain numbers, or
        elementwise over arrays (see ``trace``)."""
        if self._check(args) is None:
            return self._over_arrays(args, grad=True)
        for program in self._programs:
            if program.stale is not None and program.stale():
                _drop_stale(self._programs)
                return self.value_and_grad(*args)
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

    def _check(self, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The arguments if all are plain numbers; None if some are arrays."""
        name = getattr(self.f, "__name__", "f")
        if len(args) != len(self._params):
            raise TypeError(
                f"traced {name}() takes {len(self._params)} argument(s), "
                f"got {len(args)}"
            )
        for i, x in enumerate(args):
            if not _is_number(x) or isinstance(x, Value):
                if hasattr(x, "__array__"):  # numpy's, or one numpy can take
                    return None
                raise TypeError(
                    f"traced {name}() takes numbers, got {type(x).__name__} "
                    f"for argument {i}: {x!r}"
                )
        return args

    # -- over arrays -----------------------------------------------------------------

    def _over_arrays(
        self, args: tuple[Any, ...], grad: bool
    ) -> tuple[Any, tuple[Any, ...]]:
        """f's value (and gradient, if ``grad``) at every point of ``args``.

        The arguments broadcast together and are flattened to points. Each array
        trace runs on all points not yet done; where its guards hold, its numbers are
        kept. Points no trace takes are traced anew at one of them. A point where
        any result is nan or infinite is computed again by the scalar replay (which
        raises where f would: then nan).
        """
        import numpy as np

        name = getattr(self.f, "__name__", "f")
        arrays = []
        for i, x in enumerate(args):
            a = np.asarray(x)
            if a.dtype.kind not in "biuf":
                raise TypeError(
                    f"traced {name}() takes numbers or arrays of real numbers, "
                    f"got an array of {a.dtype} for argument {i}"
                )
            arrays.append(a.astype(np.float64, copy=False))
        try:
            shape = np.broadcast_shapes(*(a.shape for a in arrays))
        except ValueError:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(
                f"traced {name}(): arguments of shapes {shapes} do not broadcast "
                "together"
            ) from None
        points = [np.broadcast_to(a, shape).ravel() for a in arrays]
        n = len(points[0])
        value = np.empty(n)
        grads = [np.empty(n) for _ in points] if grad else []
        outputs = [value, *grads]
        todo = np.arange(n)
        new = 0
        del self._array_programs[: -self.max_array_traces]  # the latest are kept
        _drop_stale(self._array_programs)
        with np.errstate(all="ignore"):  # _where computes both branches everywhere
            k = 0
            while len(todo):
                if k == len(self._array_programs):
                    if new == self.max_array_traces:
                        raise ValueError(
                            f"traced {name}() takes more than "
                            f"{self.max_array_traces} paths through its decisions "
                            "over these points (raise max_array_traces)"
                        )
                    new += 1
                    todo = self._array_trace(points, todo, outputs)
                    continue
                program = self._array_programs[k]
                k += 1
                subset = points if len(todo) == n else [a[todo] for a in points]
                try:
                    if grad:
                        v, g, ok = program.value_and_grad(*subset)
                    else:
                        (v, ok), g = program.value(*subset), ()
                except (ArithmeticError, ValueError, TypeError):
                    if k == len(self._array_programs) and new:
                        # Even a trace made for them fails: the scalar replay.
                        self._scalar_points(points, todo, outputs)
                        break
                    continue  # a later trace has them
                if ok is True and len(todo) == n:
                    for out, result in zip(outputs, (v, *g), strict=True):
                        out[:] = result
                    todo = todo[:0]
                    break
                ok = np.broadcast_to(ok, todo.shape)
                done = todo[ok]
                for out, result in zip(outputs, (v, *g), strict=True):
                    out[done] = np.broadcast_to(result, todo.shape)[ok]
                todo = todo[~ok]
        bad = ~np.isfinite(value)
        for g in grads:
            bad |= ~np.isfinite(g)
        self._scalar_points(points, np.flatnonzero(bad), outputs)
        return value.reshape(shape), tuple(g.reshape(shape) for g in grads)

    def _array_trace(self, points: list[Any], todo: Any, outputs: list[Any]) -> Any:
        """Trace f for arrays at a point of ``todo``; return the points left to do.

        A point where f raises on Values cannot be traced: it gets nan (as the
        scalar replay raises there) and another point is tried. If a few points
        spread over ``todo`` all raise, the scalar replay does all of ``todo``.
        """
        import numpy as np

        failed = []
        for t in dict.fromkeys(np.linspace(0, len(todo) - 1, 5).astype(int).tolist()):
            i = int(todo[t])
            try:
                recorded = self._run(tuple(float(a[i]) for a in points))
            except (ArithmeticError, ValueError):
                failed.append(t)
                for out in outputs:
                    out[i] = math.nan
                continue
            program = self._program(*recorded, numpy=np)
            self._array_programs.append(program)
            return np.delete(todo, failed)
        self._scalar_points(points, todo, outputs)
        return todo[:0]

    def _scalar_points(self, points: list[Any], todo: Any, outputs: list[Any]) -> None:
        """Compute the points ``todo`` one at a time (nan where f raises)."""
        for i in todo.tolist():
            args = [float(a[i]) for a in points]
            try:
                if len(outputs) > 1:
                    v, g = self.value_and_grad(*args)
                else:
                    v, g = self(*args), ()
            except (ArithmeticError, ValueError):
                v, g = math.nan, (math.nan,) * (len(outputs) - 1)
            for out, result in zip(outputs, (v, *g), strict=True):
                out[i] = result

    def _run(
        self, args: tuple[Any, ...]
    ) -> tuple[list[Value], Any, list[tuple[str, Value, Any, Any]]]:
        """Run f on Values at ``args``: the Values, f's result, f's decisions."""
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
        return xs, out, decisions

    def _program(
        self,
        xs: list[Value],
        out: Any,
        decisions: list[tuple[str, Value, Any, Any]],
        numpy: Any = None,
    ) -> _Program:
        # Building the program allocates hundreds of thousands of small containers,
        # none in a cycle: the cyclic collector would only walk them again and again.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return _Program(self._params, xs, out, decisions, numpy)
        finally:
            if enabled:
                gc.enable()

    def _trace(self, args: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
        """Run f on Values at ``args``; keep the trace; return its value and grads."""
        xs, out, decisions = self._run(args)
        program = self._program(xs, out, decisions)
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

    ``f`` runs once on Values; its graph becomes Python over plain numbers
    (``.source``), with a loop wherever f repeated the same computation, and each
    local derivative written from the rule table. Call the result with numbers for
    f's value, or ``.value_and_grad(*args)`` for the value and the gradient with
    respect to every argument. Comparisons of Values and ``bool``/``float``/``int``
    of a Value made while tracing become guards: where f would decide otherwise, it
    is traced again.

    Numbers that are not arguments are written into the trace. A Value f closes
    over or makes (``Value(3.0)``) gets no gradient, but its ``data`` is checked on
    every call: once it has changed (an optimizer's step on parameters f closes
    over), f is traced again, so the result is the engine's. A plain number f closes
    over cannot be checked: it is baked in at trace time (as in JAX's ``jit``).
    Differentiate with respect to parameters by passing them as arguments: that
    also keeps one trace for every step.

    >>> w = Value(2.0)
    >>> scale = trace(lambda x: w * x, 1.0)
    >>> w.data = 5.0
    >>> scale.value_and_grad(1.0), scale.ntraces
    ((5.0, (5.0,)), 2)

    >>> def h(x):
    ...     return x * x if x > 0 else -3 * x
    >>> g = trace(h, 1.0)
    >>> g.value_and_grad(-2.0)
    (6.0, (-3.0,))
    >>> g(3.0), g.ntraces
    (9.0, 2)

    **Over arrays.** Called with numpy arrays (or arrays and numbers), it computes
    f's value, or ``value_and_grad``'s value and gradients, at every point of the
    arguments' broadcast shape in one run of array code written from the same
    trace: conditionals in rules become ``np.where``, forwards the rule table's
    ``numpy`` forms (``np.vectorize`` of the scalar function where there is none).
    Guards are checked per point; the points that fail them are traced again at one
    of them and computed by that trace. Where the scalar replay would raise (``log``
    of a negative number, division by zero) the value and gradients are nan: every
    point with a nan or infinite result is recomputed by the scalar replay.

    >>> import numpy as np
    >>> value, (slope,) = g.value_and_grad(np.array([-1.0, 0.5, 2.0]))
    >>> value.tolist(), slope.tolist()
    ([3.0, 0.25, 4.0], [-3.0, 1.0, 4.0])
    """
    return Traced(f, example_args)
