"""The engine: ``Value``, the graph it records, and reverse-mode ``backward``.

The engine knows no particular operation. A node records the ``Primitive`` that made
it and its operands; ``backward`` sorts the graph and runs each node's *pullback*,
the chain rule at that node (``pullback`` below is the plain reference; on numbers
each primitive runs one generated from its partials by ``_pullbacks``, installed at
its first backward). The rule table (``_rules``) registers every primitive and binds
Python's operators onto ``Value``. Other modules use ``toposort``, ``local_partials``,
``check_unchanged`` and ``_data``; nothing outside this module touches its lock or
its marks.

Layout of a node, chosen for speed and memory (a node and its float cost ~104 bytes,
and each slot left empty is one pointer less for the garbage collector to walk):

- ``_d`` is the number (``data``, a property, records each assignment);
- ``_op`` is the primitive, or ``None`` for a leaf;
- ``_a`` and ``_b`` hold the operands: ``(x, None)`` for a unary primitive, ``(x, y)``
  for a binary one, ``(x, (y, z, ...))`` beyond. An operand that is a plain number
  (the ``2`` in ``x * 2``) is kept as that number: it is a constant, not a node, so no
  derivative is ever taken with respect to it. A leaf's ``_b`` holds the time its
  data was last assigned, and its ``_a`` its sum during a backward pass;
- ``_label`` holds a node's label and the time it was made (see "Assignments to
  data"), and stays empty while there is neither.
"""

from __future__ import annotations

import _thread
import math
import numbers
import sys
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar, overload

from ._modes import _ANOMALY, _NO_GRAD, _RECORD, _mode

__all__ = [
    "GraphBreakWarning",
    "Primitive",
    "Value",
    "stop_gradient",
]

# -------------------------------------------------------------------------------------
# Primitives
# -------------------------------------------------------------------------------------

Partial = Callable[..., Any]
"""A local partial derivative: ``partial(ans, *inputs)``, where ``ans`` is the output.

It is written in ordinary arithmetic over the polymorphic functions, so it can be
evaluated on numbers (first order) or on Values (to differentiate again).
"""


def _is_number(x: object) -> bool:
    """A real number: Python's, numpy's (``bool_`` too, as ``bool`` is), a Fraction."""
    return (
        type(x) is float
        or type(x) is int
        or isinstance(x, numbers.Real)
        or (type(x).__module__ == "numpy" and type(x).__name__ in ("bool", "bool_"))
    )


def _plain(x: Any) -> Any:
    """A numpy scalar as the Python number of the same value (``bool_`` as ``bool``);
    any other number as it is. Done where numbers enter (``Value()``, operands,
    seeds), so a numpy scalar follows Python's semantics (``1.0 / 0`` raises, ints
    do not wrap). numpy is recognised by its module, never imported."""
    if type(x).__module__ == "numpy":
        item = getattr(x, "item", None)
        if item is not None:
            out = item()
            if type(out) in (float, int, bool):  # not longdouble: no Python type
                return out
    return x


def _describe(x: object) -> str:
    return repr(x._d) if isinstance(x, Value) else repr(x)


class Primitive:
    """An operation the engine can differentiate: a forward and its local partials.

    Calling it applies it: on plain numbers it returns a plain number, and if any
    argument is a ``Value`` it returns a ``Value`` recorded in the graph. Make new
    ones with ``autograd_scalar.primitive``.

    >>> square = Primitive("square", lambda x: x * x, (lambda ans, x: 2 * x,))
    >>> x = Value(3.0)
    >>> y = square(x)
    >>> y.backward()
    >>> x.grad
    6.0

    Attributes:
        name: what errors, ``Value.op`` and drawings call it.
        fn: the forward on plain numbers.
        partials: one local partial derivative per input, each called as
            ``partial(ans, *inputs)``.
        arity: how many inputs it takes (one per partial).
        domain: a predicate on plain inputs that holds where the primitive is defined
            and differentiable (an open set: kinks and edges are excluded); ``None``
            means everywhere. Tests and strategies sample inside it.
    """

    # __weakref__: consumers' caches of per-primitive code are weak-keyed.
    # _pullback and _walk: the chain rule at one node, generated on first use.
    __slots__ = (
        "__weakref__",
        "_pullback",
        "_walk",
        "arity",
        "domain",
        "fn",
        "name",
        "partials",
    )

    def __init__(
        self,
        name: str,
        fn: Callable[..., Any],
        partials: tuple[Partial, ...],
        domain: Callable[..., bool] | None = None,
    ) -> None:
        if not partials:
            raise ValueError(
                f"primitive {name!r} needs at least one partial derivative"
            )
        for p in (fn, *partials):
            if not callable(p):
                raise TypeError(
                    f"primitive {name!r}: forward and partials must be callable, "
                    f"got {p!r}"
                )
        for k, p in enumerate(partials):
            _check_parameters(name, k, p, len(partials) + 1)
        self.name = name
        self.fn = fn
        self.partials = tuple(partials)
        self.arity = len(partials)
        self.domain = domain
        # Generated on the first backward through this primitive (see _install).
        self._pullback: _Pullback = _first_pullback
        self._walk: _Walk = _first_walk

    def __setattr__(self, name: str, value: Any) -> None:
        # Made once: its pullback is generated from its partials, so a changed
        # partial would make first and higher order disagree.
        if hasattr(self, "_walk") and name not in ("_pullback", "_walk"):
            raise AttributeError(
                f"primitive {self.name!r} cannot be changed; make a new one"
            )
        object.__setattr__(self, name, value)

    def __copy__(self) -> Primitive:
        return self  # one operation, wherever it is used (a copied graph's too)

    def __deepcopy__(self, memo: dict[int, Any]) -> Primitive:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        # Saved by its registered name, looked up again when loaded: its functions
        # (lambdas, generated code) need not pickle, and a loaded graph runs this
        # process's rules.
        if _find_primitive[0](self.name) is not self:
            import pickle

            raise pickle.PicklingError(
                f"primitive {self.name!r} is not the one registered under its name, "
                "so it cannot be saved by name (make it with primitive())"
            )
        return (_load_primitive, (self.name,))

    def __repr__(self) -> str:
        return f"<primitive {self.name}/{self.arity}>"

    def __call__(self, *args: Any) -> Any:
        if len(args) != self.arity:
            raise TypeError(
                f"{self.name}() takes {self.arity} argument(s), got {len(args)}"
            )
        made = _NOW  # before the data is read (see _record)
        datas = []
        lifted = carried = False
        for x in args:
            if isinstance(x, Value):
                d = x._d
                datas.append(d)
                lifted = True
                if type(d) is not float and not _is_number(d):
                    carried = True  # a _Carrier's data (forward mode's Dual)
            elif _is_number(x):
                datas.append(_plain(x))
            else:
                # A foreign operand type may apply primitives itself, through this
                # protocol (forward mode's dual numbers do); the engine knows no type.
                apply = getattr(type(x), "__apply_primitive__", None)
                if apply is not None:
                    return apply(self, args)
                raise TypeError(
                    f"{self.name}() takes numbers or Values, "
                    f"got {type(x).__name__}: {x!r}"
                )
        # Data that applies primitives itself (a carrier's): the primitive applied to
        # the data (forward mode's chain rule), where fn would read it as a number.
        data = self(*datas) if carried else self.forward(args, datas)
        if not lifted:
            return data
        # Constants are kept as the numbers the forward saw (a numpy scalar plain).
        operands = [
            x if isinstance(x, Value) else d for x, d in zip(args, datas, strict=True)
        ]
        return _record(self, data, operands, made)

    def method(self, reflected: bool = False) -> Callable[..., Any]:
        """This primitive as a ``Value`` method (an operator, or ``x.exp()``).

        A binary method takes a Value or a number as the other operand and returns
        ``NotImplemented`` for anything else, so Python raises its own ``TypeError``;
        ``reflected=True`` gives the ``__rop__`` form (``2 - x``).
        """
        if self.arity == 1 and not reflected:
            return _unary_method(self)
        if self.arity == 2:
            return _binary_method(self, reflected)
        raise TypeError(f"{self.name} has {self.arity} operands: no operator form")

    def forward(self, args: tuple[Any, ...] | list[Any], datas: list[Any]) -> Any:
        """Run ``fn`` on plain numbers; a domain error names this primitive and args."""
        try:
            out = self.fn(*datas)
        except (ArithmeticError, ValueError) as err:
            raise _forward_error(self, err, args) from None
        if type(out) is float or type(out) is int:
            return out
        if not _is_number(out):  # a user primitive's forward returned a non-number
            shown = ", ".join(_describe(x) for x in args)
            raise TypeError(
                f"{self.name}({shown}) returned {type(out).__name__} {out!r}, "
                "not a real number"
            )
        return _plain(out)


if TYPE_CHECKING:
    # What type checkers know of the rule table's primitives: applied to a Value they
    # give a Value, to numbers a number (``reveal_type(ag.sin(1.0))`` is float); an
    # operand of a type that applies primitives itself (forward mode's Dual) gives
    # whatever that type returns.

    class _AppliesPrimitives(Protocol):
        def __apply_primitive__(
            self, primitive: Primitive, args: tuple[Any, ...], /
        ) -> Any: ...

    class UnaryPrimitive(Primitive):
        @overload
        def __call__(self, x: Value, /) -> Value: ...
        @overload
        def __call__(self, x: float, /) -> float: ...
        @overload
        def __call__(self, x: _AppliesPrimitives, /) -> Any: ...
        def __call__(self, *args: Any) -> Any: ...

    class BinaryPrimitive(Primitive):
        @overload
        def __call__(self, x: Value, y: Value | float, /) -> Value: ...
        @overload
        def __call__(self, x: float, y: Value, /) -> Value: ...
        @overload
        def __call__(self, x: float, y: float, /) -> float: ...
        @overload
        def __call__(self, x: _AppliesPrimitives, y: Any, /) -> Any: ...
        @overload
        def __call__(self, x: Any, y: _AppliesPrimitives, /) -> Any: ...
        def __call__(self, *args: Any) -> Any: ...


def _check_parameters(name: str, k: int, partial: Partial, expected: int) -> None:
    """A partial written in Python must take ``ans`` and every input: checked here,
    when the primitive is made, not at its first backward."""
    code = getattr(partial, "__code__", None)
    if code is None or code.co_flags & 0x04:  # not Python code, or takes *args
        return
    defaults = len(getattr(partial, "__defaults__", None) or ())
    if not code.co_argcount - defaults <= expected <= code.co_argcount:
        raise TypeError(
            f"primitive {name!r}: partial {k} takes {code.co_argcount} "
            f"parameter(s), but is called with {expected} (ans and the inputs)"
        )


# Methods are the hot path of graph building: each makes its node directly.


def _unary_method(op: Primitive) -> Callable[[Value], Value]:
    fn = op.fn
    value = Value
    mode = _mode
    new = _new

    def unary(x: Value) -> Value:
        made = _NOW  # before the data is read (see _record)
        try:
            data = fn(x._d)
        except (ArithmeticError, ValueError) as err:
            raise _forward_error(op, err, (x,)) from None
        if mode() != _RECORD:
            return _record(op, data, (x,), made)
        out = new(value)  # the node, made inline: the hot path
        out._d = data
        out.grad = 0
        out._op = op
        out._a = x
        out._b = None
        if made:
            out._label = made  # when it was made (see check_unchanged)
        return out

    return unary


def _binary_method(op: Primitive, reflected: bool) -> Callable[[Value, Any], Any]:
    fn = op.fn
    value = Value
    mode = _mode
    new = _new

    def binary(x: Value, y: Any) -> Any:
        made = _NOW  # before the data is read (see _record)
        if type(y) is value:
            yd = y._d
        else:
            yd = _operand(y)
            if yd is not y:  # y is not a float or an int
                if yd is NotImplemented:
                    return yd
                if not isinstance(y, value):
                    y = yd  # a numpy scalar is kept as the Python number
        try:
            data = fn(x._d, yd)
        except (ArithmeticError, ValueError) as err:
            raise _forward_error(op, err, (x, y)) from None
        if mode() != _RECORD:
            return _record(op, data, (x, y), made)
        out = new(value)  # the node, made inline: the hot path
        out._d = data
        out.grad = 0
        out._op = op
        out._a = x
        out._b = y
        if made:
            out._label = made  # when it was made (see check_unchanged)
        return out

    def reflected_binary(y: Value, x: Any) -> Any:  # x OP y, as y.__rop__(x)
        made = _NOW  # before the data is read (see _record)
        xd = _operand(x)
        if xd is NotImplemented:
            return xd
        if not isinstance(x, Value):
            x = xd  # a numpy scalar is kept as the Python number
        try:
            data = fn(xd, y._d)
        except (ArithmeticError, ValueError) as err:
            raise _forward_error(op, err, (x, y)) from None
        return _record(op, data, (x, y), made)  # a constant on the left: rarer

    return reflected_binary if reflected else binary


# -------------------------------------------------------------------------------------
# Pullbacks: the chain rule at one node
# -------------------------------------------------------------------------------------

_Pullback = Callable[["Value", Any, Any], None]
"""``pullback(node, g, zero)``: add ``g`` times each local partial of ``node`` to the
gradient of each operand that is a Value (first order, on plain numbers). ``zero`` is
the pass's mark (see ``_interior_toposort``): a gradient still ``zero`` (or a fresh
leaf's 0) is replaced by the first contribution, not added to."""

_Walk = Callable[["Value", Any], Any]
"""``walk(node, zero)``: the pullback, run by ``_backward_chain``. It first finds the
one operand still to visit, marks it and returns it after running (None if there is
none); with two operands to visit it runs nothing and returns ``_SPLIT``."""

_SPLIT: Final = object()  # from a walk: "two operands to visit: sort from here"


def pullback(node: Value, g: Any, on_values: bool) -> None:
    """The chain rule at ``node``: add ``g`` times each local partial to each input.

    The reference pullback, plain and general: on Values (``create_graph``) it is
    the only one; on numbers each primitive runs a generated equivalent (installed
    by ``_pullbacks``), written from the same partials with the calls inlined.
    """
    op = node._op
    assert op is not None, "a leaf has no pullback"
    inputs = node._inputs()
    if on_values:
        args: tuple[Any, ...] = inputs
        ans: Any = node
    else:
        args = tuple(x._d if isinstance(x, Value) else x for x in inputs)
        ans = node._d
    for x, partial in zip(inputs, op.partials, strict=True):
        if isinstance(x, Value):
            step = partial(ans, *args) * g
            old = x.grad
            # Starting from zero, take the step itself: 0 + step would add a node.
            # Only a plain zero: a Value or a dual equal to 0 may still carry a
            # derivative (== compares their numbers).
            kind = type(old)
            fresh = (kind is int or kind is _Visited or kind is float) and old == 0
            x.grad = step if fresh else old + step


def _reference_pullback(node: Value, g: Any, zero: Any) -> None:
    """``pullback`` on numbers, inside a first-order pass (beyond two inputs, where no
    code is generated): as the generated pullbacks do, a leaf's sum for this pass is
    kept in its ``_a`` slot (``zero.touched`` lists it) until the pass completes, and
    an interior node's first contribution replaces the pass's mark ``zero``."""
    op = node._op
    assert op is not None, "a leaf has no pullback"
    inputs = node._inputs()
    args = tuple(x._d if isinstance(x, Value) else x for x in inputs)
    ans = node._d
    for x, partial in zip(inputs, op.partials, strict=True):
        if isinstance(x, Value):
            step = partial(ans, *args) * g
            if x._op is None:
                old = x._a
                if old is None:
                    zero.touched.append(x)
                    old = x.grad
                    x._a = step if old is _FRESH else old + step
                else:
                    x._a = old + step
            else:
                old = x.grad
                x.grad = step if old is zero or old is _FRESH else old + step


def _reference_walk(node: Value, zero: Any) -> Any:
    return _SPLIT  # no generated walk: the sort takes over


def _reference_pair(op: Primitive) -> tuple[_Pullback, _Walk]:
    return _reference_pullback, _reference_walk


# Makes a primitive's (pullback, walk). The rule table sets it to ``_pullbacks``'
# generator (imported at the first backward); the engine itself generates no code.
_generator: list[Callable[[Primitive], tuple[_Pullback, _Walk]]] = [_reference_pair]


def _install(op: Primitive) -> None:
    """Give ``op`` its generated pullback and walk (once, at its first backward)."""
    op._pullback, op._walk = _generator[0](op)


def _first_pullback(node: Value, g: Any, zero: Any) -> None:
    op = node._op
    assert op is not None, "a leaf has no pullback"
    _install(op)
    op._pullback(node, g, zero)


def _first_walk(node: Value, zero: Any) -> Any:
    op = node._op
    assert op is not None, "a leaf has no pullback"
    _install(op)
    return op._walk(node, zero)


def local_partials(node: Value) -> tuple[Any, ...]:
    """The local partial derivative of ``node`` with respect to each of its operands.

    In ``node._inputs()`` order, evaluated on plain numbers (the operands' data and
    ``node.data``); a leaf has none.

    >>> x = Value(3.0)
    >>> local_partials(x * 2)
    (2, 3.0)
    """
    op = node._op
    if op is None:
        return ()
    args = [_data(x) for x in node._inputs()]
    return tuple(partial(node._d, *args) for partial in op.partials)


# -------------------------------------------------------------------------------------
# Assignments to data. A node's pullback reads the numbers its operands (and itself)
# had when it was made; a graph differentiated after one of them was assigned would
# mix old and new numbers, so backward checks that none was (as PyTorch's version
# counters do). Every assignment advances a clock, _NOW; a leaf keeps in its unused
# _b slot the time of its last assignment, a node keeps in _label the time it was
# made, or None once its own data was assigned. Until the first assignment in the
# process nothing is stamped (_NOW is 0, and a node with no stamp was made at 0): a
# stamp is one more pointer per node for the garbage collector to walk.
# -------------------------------------------------------------------------------------

_NOW = 0
_CLOCK_LOCK = _thread.allocate_lock()


def _made_at(node: Value) -> int | None:
    """The time ``node`` was made (``_NOW`` then), or None if its data was set since."""
    try:
        stamp = node._label
    except AttributeError:
        return 0
    if type(stamp) is tuple:
        stamp = stamp[0]  # (made at, label)
    return 0 if type(stamp) is str else stamp


def _changed_since(node: Value) -> Value | None:
    """The Value whose data, read by ``node``'s pullback, was set after ``node`` was
    made (``node`` itself, or an operand), or None."""
    made = _made_at(node)
    if made is None:
        return node
    for x in node._inputs():
        if isinstance(x, Value):
            if x._op is None:
                written = x._b
                if written is not None and written > made:
                    return x
            elif _made_at(x) is None:
                return x
    return None


def _check_node(node: Value, who: str = "backward") -> None:
    """Raise ``RuntimeError`` if ``_changed_since(node)`` names a Value."""
    changed = _changed_since(node)
    if changed is not None:
        used = "it was computed" if changed is node else f"{node.op} used it"
        label = f", label={changed.label!r}" if changed.label else ""
        raise RuntimeError(
            f"{who}: the data of Value(data={changed._d!r}{label}) was set after "
            f"{used}, so the graph holds numbers from before and after; build the "
            "graph again after setting data (or use detach() for a fresh leaf)"
        )


def check_unchanged(nodes: Iterable[Value], who: str = "backward") -> None:
    """Raise ``RuntimeError`` naming the Value, if any node of ``nodes`` reads data
    (its own, or an operand's) assigned after the node was made.

    What a pass (or anything else taking local derivatives on a graph, as ``who``)
    checks before it runs. Only nodes made before the last assignment are looked
    at; leaves pass.

    >>> x = Value(2.0)
    >>> y = x * x
    >>> check_unchanged([y])
    >>> x.data = 3.0
    >>> check_unchanged([y], "explain")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    RuntimeError: explain: the data of Value(data=3.0) was set after mul used it, ...
    """
    now = _NOW
    if not now:
        return
    for node in nodes:
        try:  # made since the last assignment (stamped now): nothing it reads changed
            if node._label is not now:
                _check_node(node, who)
        except AttributeError:  # no stamp: made before any was set
            _check_node(node, who)


_FRESH: Final = 0  # the grad of a new leaf (the int 0, a single object in CPython)


def _operand(y: Any) -> Any:
    """The number in an operand, or NotImplemented for one that is not a number."""
    if type(y) is float or type(y) is int:
        return y
    if isinstance(y, Value):  # before the slower ABC check: a subclass of Value
        return y._d
    if _is_number(y):
        return _plain(y)
    return NotImplemented


def _forward_error(
    op: Primitive, err: Exception, args: tuple[Any, ...] | list[Any]
) -> Exception:
    where = f"{op.name}({', '.join(_describe(x) for x in args)})"
    if str(err).startswith(f"{where}:"):
        return err  # the forward named the call itself (the special functions do)
    try:
        return type(err)(f"{where}: {err}")
    except Exception:  # an exception class that cannot be made from one message
        err.add_note(f"in {where}")
        return err


def _record(
    op: Primitive, data: Any, args: tuple[Any, ...] | list[Any], made: int
) -> Value:
    """Make the node for ``op`` applied to ``args`` (the generic, slower path).

    ``made`` is the clock (``_NOW``) read before the operands' data was: a thread
    assigning one of them meanwhile then leaves the node older than the assignment,
    so a pass refuses it (a refusal too many at worst, never a mixed gradient).
    """
    mode = _mode()
    carrier = type(data) is not float and not _is_number(data)
    if mode == _NO_GRAD:
        return _Carrier(data) if carrier else Value(data)
    out = _new(_Carrier if carrier else Value)
    out._d = data
    out.grad = 0
    out._op = op
    out._a = args[0]
    if len(args) == 1:
        out._b = None
    elif len(args) == 2:
        out._b = args[1]
    else:
        out._b = tuple(args[1:])
    if made:
        out._label = made
    if mode == _ANOMALY:
        _check_anomaly(out)
    return out


def _check_anomaly(node: Value) -> None:
    op = node._op
    assert op is not None
    inputs = node._inputs()
    datas = [x._d if isinstance(x, Value) else x for x in inputs]
    problem = ""
    if _not_finite(node._d):
        problem = f"value is {node._d}"
    else:
        for i, (x, partial) in enumerate(zip(inputs, op.partials, strict=True)):
            if isinstance(x, Value):
                d = partial(node._d, *datas)
                if _not_finite(d):
                    which = f" {i}" if op.arity > 1 else ""
                    problem = f"local derivative{which} is {d}"
                    break
    if problem:
        shown = ", ".join(repr(d) for d in datas)
        raise FloatingPointError(
            f"{op.name}({shown}): {problem} (created at {_user_frame()})"
        )


class GraphBreakWarning(UserWarning):
    """A Value was turned into a plain number inside ``detect_anomaly()``.

    ``float(v)``, ``int(v)`` and the standard library's ``math.sin(v)`` (which calls
    ``float``) give a number that no longer depends on ``v``: a gradient through it
    is silently 0. The warning names the file and line; ``autograd_scalar.math`` has
    the same functions, differentiable.

    >>> import math, warnings
    >>> from autograd_scalar import detect_anomaly
    >>> x = Value(0.5)
    >>> with detect_anomaly(), warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     y = Value(2.0) * math.sin(x)
    >>> caught[0].category.__name__
    'GraphBreakWarning'
    """


_PACKAGE_DIR = __file__.rpartition("_engine.py")[0]  # this package's files


def _warn_graph_break(node: Value, how: str) -> None:
    """Warn of ``how(node)`` (float or int) in the user's code; the package's own
    conversions (drawing, checking) are not graph breaks the user wrote."""
    import warnings

    frame = sys._getframe(2)  # the code that converted: past __float__
    if frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        return
    warnings.warn_explicit(
        f"{how}() of {node!r} gives a plain number: the graph is cut here and no "
        "gradient flows through the result (the standard math module converts "
        "Values this way). Use autograd_scalar.math, or the package's functions, "
        "to keep the graph.",
        GraphBreakWarning,
        frame.f_code.co_filename,
        frame.f_lineno,
        module=frame.f_globals.get("__name__"),
        registry=frame.f_globals.setdefault("__warningregistry__", {}),
    )


def _not_finite(x: Any) -> bool:
    try:
        return not math.isfinite(x)
    except (TypeError, OverflowError):  # a huge Fraction or int is finite
        return False


def _user_frame() -> str:
    """The file and line of the innermost frame outside this package."""
    package = __name__.rpartition(".")[0]
    frame = sys._getframe(1)
    while frame is not None:
        if not frame.f_globals.get("__name__", "").startswith(package + "."):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back  # type: ignore[assignment]  # None ends the loop
    return "<unknown>"


# -------------------------------------------------------------------------------------
# Value
# -------------------------------------------------------------------------------------

if TYPE_CHECKING:
    # The operators and method forms (``x + y``, ``x.exp()``) are bound from the rule
    # table by ``_rules``; for type checkers they are declared in a stub generated
    # from that table (``_methods.pyi``, kept current by tests/test_typing.py).
    from ._methods import Methods as _Methods
else:
    _Methods = object


class Value(_Methods):
    """A scalar that remembers how it was computed, so its gradient can be found.

    Arithmetic on Values (``+ - * / **``, comparisons, ``abs``) and the package's
    functions (``exp``, ``tanh``, ...) record a graph; ``backward()`` fills ``grad``.

    >>> x = Value(3.0, label="x")
    >>> y = x * x + 2 * x
    >>> y.backward()
    >>> y.data, x.grad
    (15.0, 8.0)

    Attributes:
        data: the number (``int``, ``float``, ``Fraction`` or any real number; exact
            types stay exact under ``+ - * /`` and integer powers).
        grad: after ``out.backward()``, d(out)/d(self); starts at ``0``.
        label: a name for drawings and explanations.
    """

    __slots__ = ("_a", "_b", "_d", "_label", "_op", "grad")

    grad: Any
    _d: Any
    _label: Any
    _op: Primitive | None
    _a: Any
    _b: Any

    def __init__(self, data: float, label: str = "") -> None:
        if type(data) is not float and type(data) is not int:
            data = self._number("Value()", data)
        if not isinstance(label, str):
            raise TypeError(f"Value() label must be a str, got {label!r}")
        self._d = data
        self.grad = 0
        if label:
            self._label = label
        self._op = None
        self._a = None
        self._b = None

    def _number(self, where: str, data: Any) -> Any:
        """``data`` checked as a Value's number (a numpy scalar made plain). A dual
        (a function calling backward, differentiated by jvp) makes self a carrier."""
        data = _plain(data)
        if not _is_number(data) or isinstance(data, Value):
            if (type(self) is Value or isinstance(self, _Carrier)) and hasattr(
                type(data), "__apply_primitive__"
            ):
                # The Value carries it (see _Carrier), whose operators handle it.
                if type(self) is Value:
                    self.__class__ = _Carrier
            else:
                hint = (
                    " (use .detach() to copy a Value)"
                    if isinstance(data, Value)
                    else ""
                )
                raise TypeError(
                    f"{where} takes a real number, got {type(data).__name__}: "
                    f"{data!r}{hint}"
                )
        return data

    @property
    def data(self) -> Any:
        """The number (see the class docstring); assigning it is recorded.

        A graph made before the assignment is not differentiated after it: its
        nodes were computed from the old number, so ``backward`` raises
        ``RuntimeError`` naming the Value rather than mix the two, and changes no
        grad. Assign between steps (as an optimizer's ``step()`` does), then build
        a new graph.

        >>> x = Value(2.0)
        >>> y = x * x
        >>> x.data = 3.0
        >>> y.backward()  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        RuntimeError: backward: the data of Value(data=3.0) was set after mul ...
        """
        return self._d

    @data.setter
    def data(self, data: Any) -> None:
        global _NOW
        if type(data) is not float and type(data) is not int:
            data = self._number("Value.data", data)
        self._d = data  # first: a node made meanwhile is older than the clock's step
        with _CLOCK_LOCK:  # two threads setting data never take the same time
            _NOW += 1
            now = _NOW
        if self._op is None:
            self._b = now  # a leaf's _b: when its data was last set
        else:
            label = self.label
            self._label = (None, label) if label else None  # made at: unknown

    # -- what a node is ------------------------------------------------------------

    @property
    def label(self) -> str:
        """A name for drawings and explanations; ``""`` unless one is given."""
        try:
            label = self._label
        except AttributeError:  # left empty: the garbage collector skips the slot
            return ""
        if type(label) is str:
            return label
        return label[1] if type(label) is tuple else ""

    @label.setter
    def label(self, label: str) -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value.label must be a str, got {label!r}")
        if self._op is None:
            self._label = label
        else:  # a node keeps when it was made beside its label
            self._label = (_made_at(self), label)

    @property
    def op(self) -> str:
        """The name of the primitive that made this Value; ``""`` for a leaf."""
        return "" if self._op is None else self._op.name

    @property
    def parents(self) -> tuple[Value, ...]:
        """The input Values of the operation that made this one (constants omitted)."""
        return tuple(x for x in self._inputs() if isinstance(x, Value))

    @property
    def is_leaf(self) -> bool:
        """True for a Value made by ``Value(...)``, not by an operation."""
        return self._op is None

    def _inputs(self) -> tuple[Any, ...]:
        """Every operand, in order: Values and plain-number constants."""
        if self._op is None:
            return ()
        if self._b is None:
            return (self._a,)
        if type(self._b) is tuple:
            return (self._a, *self._b)
        return (self._a, self._b)

    # -- conversions ---------------------------------------------------------------

    # Conversions and comparisons are the decisions a function takes on data: each is
    # reported to the active observer (``tape.trace`` records them as guards).
    def __float__(self) -> float:
        result: float = float(self._d)
        if _mode() == _ANOMALY:
            _warn_graph_break(self, "float")
        return _decided("float", self, None, result)

    def __int__(self) -> int:
        result: int = int(self._d)
        if _mode() == _ANOMALY:
            _warn_graph_break(self, "int")
        return _decided("int", self, None, result)

    def __bool__(self) -> bool:
        result: bool = bool(self._d)
        return _decided("bool", self, None, result)

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self._d!r}, grad={self.grad!r}{label})"

    def _repr_html_(self) -> str:
        """Rich display in Jupyter: data, grad and the operation that made it."""
        import html

        op = html.escape(self.op or "leaf")
        label = f"<b>{html.escape(self.label)}</b> " if self.label else ""
        return (
            f"<code>{label}Value</code> <small>({op})</small>"
            "<table><tr><th>data</th><th>grad</th></tr>"
            f"<tr><td>{html.escape(repr(self._d))}</td>"
            f"<td>{html.escape(repr(self.grad))}</td></tr></table>"
        )

    # Comparisons look at data (so max, min, sorted and ``if x == 0:`` work), as a
    # 0-dim tensor's do; hash stays by identity, so Values can live in sets and dicts
    # (a set compares hashes first, and distinct live objects never share one, so
    # == is never asked there). The package never asks == of two Values where it
    # means "the same node": it uses ``is`` or id-keyed dicts and sets.
    def __eq__(self, other: object) -> bool:
        od = _operand(other)
        if od is NotImplemented:
            return od  # type: ignore[no-any-return]  # NotImplemented: Python decides
        return _decided("==", self, other, bool(self._d == od))

    def __ne__(self, other: object) -> bool:
        od = _operand(other)
        if od is NotImplemented:
            return od  # type: ignore[no-any-return]  # NotImplemented: Python decides
        return _decided("!=", self, other, bool(self._d != od))

    __hash__ = object.__hash__  # by identity, though == compares data

    def __lt__(self, other: Value | float) -> bool:
        od = _operand(other)
        if od is NotImplemented:
            return od  # type: ignore[no-any-return]  # NotImplemented: Python decides
        return _decided("<", self, other, bool(self._d < od))

    def __le__(self, other: Value | float) -> bool:
        od = _operand(other)
        if od is NotImplemented:
            return od  # type: ignore[no-any-return]  # NotImplemented: Python decides
        return _decided("<=", self, other, bool(self._d <= od))

    def __gt__(self, other: Value | float) -> bool:
        od = _operand(other)
        if od is NotImplemented:
            return od  # type: ignore[no-any-return]  # NotImplemented: Python decides
        return _decided(">", self, other, bool(self._d > od))

    def __ge__(self, other: Value | float) -> bool:
        od = _operand(other)
        if od is NotImplemented:
            return od  # type: ignore[no-any-return]  # NotImplemented: Python decides
        return _decided(">=", self, other, bool(self._d >= od))

    # -- gradients -----------------------------------------------------------------

    def detach(self) -> Value:
        """A new leaf with the same data, cut off from the graph.

        >>> x = Value(2.0)
        >>> (x * x).detach().parents
        ()
        """
        if type(self._d) is not float and not _is_number(self._d):
            return _Carrier(self._d, self.label)
        return Value(self._d, self.label)

    def backward(self, gradient: Any = None, *, create_graph: bool = False) -> None:
        """Fill ``grad`` of every node in this Value's graph with d(self)/d(node).

        The graph is sorted topologically from ``self`` without recursion (a chain of
        a million nodes is fine) and each node's local chain rule runs once.

        - ``self`` is seeded with ``gradient`` (default 1).
        - Nodes made by operations get their gradient afresh on every call; leaves
          *accumulate*, as in PyTorch, so gradients of several outputs add up (call
          ``zero_grad`` to start over). Two outputs sharing interior nodes never
          double count.
        - ``create_graph=True`` evaluates the local rules on Values, so every
          ``grad`` set is itself a Value that can be differentiated again.

        >>> x = Value(3.0)
        >>> h = x * x
        >>> (h * 2).backward()
        >>> (h * 3).backward()
        >>> x.grad
        30.0
        """
        if gradient is None:
            seed = self._d**0  # 1 of the data's type: 1.0, 1 or Fraction(1)
        elif _operand(gradient) is NotImplemented:
            raise TypeError(
                f"backward() gradient must be a number or Value, got {gradient!r}"
            )
        elif create_graph and isinstance(gradient, Value):
            seed = gradient
        else:
            seed = _operand(gradient)  # the number (a numpy scalar made plain)
        if create_graph and not (_is_number(seed) or isinstance(seed, Value)):
            seed = _Carrier(seed)  # a dual: carried, as every gradient is a Value
        _backward(self, seed, create_graph)

    def zero_grad(self) -> None:
        """Set ``grad`` to 0 on every node of this Value's graph.

        >>> x = Value(3.0)
        >>> y = x * x
        >>> y.backward()
        >>> y.zero_grad()
        >>> x.grad
        0
        """
        for node in _reachable(self):
            node.grad = 0

    def __pos__(self) -> Value:
        return self  # +x is x: no operation, no node

    # -- saving and copying --------------------------------------------------------

    def __getstate__(self) -> tuple[Any, ...]:
        try:
            mark = self._label  # its label, and when it was made (see _NOW)
        except AttributeError:
            mark = ""
        return (self._d, self.grad, mark, self._op, self._a, self._b)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        global _NOW
        self._d, self.grad, mark, self._op, self._a, self._b = state
        if mark != "":
            self._label = mark
        # Times come from the clock of the process that saved them: this one's runs
        # on from the latest, so an assignment from now on comes after all of them.
        stamp = self._b if self._op is None else _made_at(self)
        if stamp is None and self._op is not None:
            stamp = 1  # its own data was assigned: passes must check from now on
        if type(stamp) is int:
            with _CLOCK_LOCK:
                _NOW = max(_NOW, stamp)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle this Value with its whole graph, shared nodes once, at any depth.

        Saving a node's operands inside its state would make the pickler recurse
        once per level of the graph. Instead, the first node of a graph to be saved
        lists every node it depends on in topological order before its own state:
        each is saved as its state alone, its operands already saved (so pickle
        refers to them), and the list ends with a marker saying the graph is done.
        """
        state = self.__getstate__()
        if self._op is None:
            return (_load_value, (), state)
        stack: list[set[Value]] = _SAVING.__dict__.setdefault("stack", [])
        for nodes in stack:
            if self in nodes:
                return (_load_value, (), state)
        order = toposort(self)
        order.pop()  # self, saved last
        nodes = set(order)
        stack.append(nodes)
        return (_load_value, (*order, _EndOfAncestors(stack, nodes)), state)

    def __copy__(self) -> Value:
        """A new Value with the same data, grad, label and operands (not copied)."""
        new = _new(Value)
        new.__setstate__(self.__getstate__())
        return new

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        """Copy this Value and its whole graph (shared nodes stay shared), iteratively.

        The operations are not copied: a copied node is made by the same primitive.
        """
        import copy

        for node in toposort(self):
            if id(node) in memo:
                continue
            new = _new(Value)
            memo[id(node)] = new
            data, grad, mark, op, a, b = node.__getstate__()
            a = a if a is None else copy.deepcopy(a, memo)
            b = b if b is None else copy.deepcopy(b, memo)
            data = copy.deepcopy(data, memo)
            grad = copy.deepcopy(grad, memo)
            new.__setstate__((data, grad, mark, op, a, b))
        return memo[id(self)]  # type: ignore[no-any-return]  # the copy made above


class _Carrier(Value):
    """A Value whose data is not a plain number but applies primitives itself.

    Forward mode's ``Dual`` is one: ``jvp`` of a function that calls ``grad`` runs
    the reverse pass on Values carrying duals (forward over reverse). Value's fast
    operators apply ``fn`` to the data directly, which would read a dual as a plain
    number; a carrier's operators (bound by ``_rules`` from the operator table) go
    through ``Primitive.__call__``, which applies the primitive to the data, and
    ``backward`` evaluates the partials on the data (the reference pullback). A
    result whose data is not a number is made a carrier (``_record``), so the
    engine never looks at the data's type beyond "plain number or not".
    """

    __slots__ = ()

    def __init__(self, data: Any, label: str = "") -> None:
        if getattr(type(data), "__apply_primitive__", None) is None:
            raise TypeError(
                f"a carrier Value holds data that applies primitives itself, "
                f"got {type(data).__name__}: {data!r}"
            )
        super().__init__(data, label)


def _carrier_method(op: Primitive, reflected: bool) -> Callable[..., Any]:
    """``op`` as a ``_Carrier`` operator: always through ``Primitive.__call__``."""
    if op.arity == 1:

        def unary(x: Value) -> Any:
            return op(x)

        return unary
    if reflected:

        def rop(y: Value, x: Any) -> Any:
            return NotImplemented if _operand(x) is NotImplemented else op(x, y)

        return rop

    def binop(x: Value, y: Any) -> Any:
        return NotImplemented if _operand(y) is NotImplemented else op(x, y)

    return binop


_new = object.__new__


# -------------------------------------------------------------------------------------
# Saving and copying a graph, without recursion on its depth
# -------------------------------------------------------------------------------------

# Finds a registered primitive by name; the rule table installs its registry's lookup.
_find_primitive: list[Callable[[str], Primitive | None]] = [lambda name: None]


def _load_primitive(name: str) -> Primitive:
    """The primitive registered as ``name`` in this process (loading a pickle)."""
    found = _find_primitive[0](name)
    if found is None:
        raise ValueError(
            f"cannot load a graph using primitive {name!r}: no primitive of that "
            "name is registered in this process (define it with primitive() first)"
        )
    return found


# The nodes whose ancestors a pickler is saving right now (per thread), innermost
# graph last: each of them is saved as its own state alone.
_SAVING = _thread._local()


def _load_value(*ancestors: Any) -> Value:
    """An empty Value for the pickle to fill (its ancestors were loaded first)."""
    return _new(Value)


class _EndOfAncestors:
    """Last in a pickled node's list of ancestors: once the pickler reaches it, all
    of them have been saved, and their set leaves the stack. If pickling stops
    before (an error), the pickler drops it, and the set leaves the stack then."""

    __slots__ = ("nodes", "stack")

    def __init__(self, stack: list[set[Value]], nodes: set[Value]) -> None:
        self.stack = stack
        self.nodes = nodes

    def _done(self) -> None:
        stack = self.stack
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is self.nodes:
                del stack[i]
                return

    def __reduce__(self) -> tuple[Any, ...]:
        self._done()
        return (tuple, ())  # loads as (), an argument _load_value ignores

    def __del__(self) -> None:
        self._done()


Observer = Callable[[str, "Value", Any, Any], None]
_OBSERVER: ContextVar[Observer | None] = ContextVar(
    "autograd_scalar_observer", default=None
)
_observer = _OBSERVER.get
_T = TypeVar("_T")


def _decided(kind: str, x: Value, y: Any, result: _T) -> _T:
    """Report a decision on data (``x < y``, ``bool(x)``...) and return its result.

    Nothing observes normally; ``tape.trace`` sets ``_OBSERVER`` while it runs a
    function, to record the decisions as guards. Arithmetic never comes here.
    """
    observer = _observer()
    if observer is not None:
        observer(kind, x, y, result)
    return result


def _data(x: Any) -> Any:
    """The number inside a Value, or the number itself."""
    return x._d if isinstance(x, Value) else x


def stop_gradient(x: Value | float) -> Value | float:
    """``x`` as a constant: its value, with no gradient flowing back through it.

    >>> x = Value(3.0)
    >>> y = x * stop_gradient(x)
    >>> y.backward()
    >>> x.grad
    3.0
    """
    return x.detach() if isinstance(x, Value) else x


# -------------------------------------------------------------------------------------
# Backward
# -------------------------------------------------------------------------------------


def _reachable(root: Value) -> Iterator[Value]:
    """Every Value in root's graph, leaves included, each once."""
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        for x in node._inputs():
            if isinstance(x, Value) and x not in seen:
                seen.add(x)
                stack.append(x)


def toposort(root: Value) -> list[Value]:
    """Every Value in root's graph, leaves included, each after all its inputs.

    ``root`` comes last. Iterative (no recursion limit), and it changes nothing: no
    mark is left on any node, so it may run beside a backward pass.

    >>> x = Value(2.0, label="x")
    >>> y = x * x + 1
    >>> [v.op or v.label for v in toposort(y)]
    ['x', 'mul', 'add']
    """
    order: list[Value] = []
    expanded: set[Value] = set()
    # (node, True) is emitted once the entries above it (its inputs) are done.
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif node not in expanded:
            expanded.add(node)
            stack.append((node, True))
            # Operands pushed in order, so the last is expanded first, as the
            # backward pass's own sort does: read backwards, this order meets each
            # node's consumers as backward() does (viz.backward_steps relies on it).
            for x in node._inputs():
                if isinstance(x, Value) and x not in expanded:
                    stack.append((x, False))
    return order


class _Visited(int):
    """A zero unique to one backward pass (see ``_interior_toposort``).

    It also carries the pass's record, for the generated pullbacks: ``saved``, the
    grad each visited interior node had before the pass (when not the fresh 0), and
    ``touched``, the leaves whose sum so far is kept in their ``_a`` slot.
    """

    saved: dict[Value, Any]
    touched: list[Value]

    def record(self, saved: dict[Value, Any], touched: list[Value]) -> _Visited:
        self.saved = saved
        self.touched = touched
        return self


# The backward pass's sort, an iterative depth-first search that emits a node once
# everything it was made from has been emitted (post-order), so it never meets
# Python's recursion limit.
#
# Every interior node's ``grad`` must be reset to zero (gradients of interior nodes
# are recomputed by each pass, never accumulated across passes), and the search must
# expand each shared node once. One store does both: the reset writes a zero unique
# to this pass, so ``node.grad is zero`` means "already visited".
#
# The search walks *spines*: from a node it follows the one operand still to visit,
# collecting nodes in a list, and emits the list reversed where the spine ends; a
# chain of a million operations is one spine. A node with two operands to visit ends
# its spine, which waits on the stack (under ``_EXIT``) until both are emitted,
# unless one of them can be emitted at once.
def _interior_toposort(
    root: Value,
    saved: dict[Value, Any] | None = None,
    touched: list[Value] | None = None,
) -> list[Value]:
    """The interior nodes below ``root`` (itself included), inputs before consumers.

    The backward pass's own sort: it marks each node it visits (see above), keeping
    in ``saved`` the grad it had, unless that was the fresh 0.
    """
    if saved is None:
        saved = {}
    zero = _Visited().record(saved, [] if touched is None else touched)
    fresh = _FRESH
    order: list[Value] = []
    emit = order.append
    stack: list[Any] = [root]
    pop = stack.pop
    push = stack.append
    value = Value
    while stack:
        node = pop()
        if node is _EXIT:
            order.extend(reversed(pop()))
            continue
        if node.grad is zero:
            continue
        spine: list[Value] | None = []
        grow = spine.append  # type: ignore[union-attr]  # spine is a list here
        while True:
            if node.grad is not fresh:  # put back if the pass fails
                saved[node] = node.grad
            node.grad = zero
            grow(node)
            a = node._a
            b = node._b
            if b is None:  # unary: a is a Value
                if a._op is not None and a.grad is not zero:
                    node = a
                    continue
                break
            if type(b) is tuple:  # beyond two operands (rare): the spine waits
                push(spine)
                push(_EXIT)
                spine = None
                _push_pending((a, *b), zero, push)
                break
            # Binary: test for a Value first, as one operand may be a constant.
            if (
                (type(a) is value or isinstance(a, value))
                and a._op is not None
                and a.grad is not zero
            ):
                if (
                    b is not a  # x * x follows x once
                    and (type(b) is value or isinstance(b, value))
                    and b._op is not None
                    and b.grad is not zero
                ):
                    # b can be emitted at once if its operands have been (b is a
                    # product of a weight and an input, say); otherwise this spine
                    # waits for both. (Inline: this is the sort's hot loop, and a
                    # helper function here cost ~4% of the demo step's backward.)
                    x = b._a
                    y = b._b
                    if y is None:
                        ready = x._op is None or x.grad is zero
                    elif type(y) is tuple:
                        ready = False
                    else:
                        ready = (
                            not (type(x) is value or isinstance(x, value))
                            or x._op is None
                            or x.grad is zero
                        ) and (
                            not (type(y) is value or isinstance(y, value))
                            or y._op is None
                            or y.grad is zero
                        )
                    if ready:
                        if b.grad is not fresh:
                            saved[b] = b.grad
                        b.grad = zero
                        emit(b)
                    else:
                        push(spine)
                        push(_EXIT)
                        spine = None
                        push(a)
                        push(b)
                        break
                node = a
                continue
            if (
                (type(b) is value or isinstance(b, value))
                and b._op is not None
                and b.grad is not zero
            ):
                node = b
                continue
            break
        if spine is not None:
            order.extend(reversed(spine))
    return order


def _push_pending(
    operands: tuple[Any, ...], zero: _Visited, push: Callable[[Any], None]
) -> None:
    """Push each operand still to visit: interior, and not yet marked ``zero``."""
    for x in operands:
        if isinstance(x, Value) and x._op is not None and x.grad is not zero:
            push(x)


_EXIT: Final = object()  # on the search stack: "the spine below me is complete"


# One backward pass at a time: a pass marks the nodes it visits (their grad) and
# transforms save and restore leaf grads, so two passes over shared nodes in two
# threads would corrupt each other. Re-entrant: a rule may itself differentiate.
_PASS_LOCK = _thread.RLock()  # threading.RLock, without importing threading


class _Pass:
    """What a backward pass changed, so that a pass that fails can be undone."""

    __slots__ = ("chain_end", "root", "saved", "sort_root", "sorted", "touched")

    def __init__(self, root: Value) -> None:
        self.root = root
        self.saved: dict[Value, Any] = {root: root.grad}  # old grads, where not 0
        self.touched: list[Value] = []  # leaves whose sum is kept in _a
        self.chain_end: Value | None = None  # the chain's walks reached this node
        self.sort_root: Value | None = None  # the sort started here...
        self.sorted = False  # ... and finished


def _backward(root: Value, seed: Any, create_graph: bool) -> None:
    """Reverse mode: run each node's local chain rule once, consumers first.

    All or nothing: if anything raises (a rule, or KeyboardInterrupt), every grad
    is put back as it was before the call, and the exception goes on unchanged.
    """
    with _PASS_LOCK:
        if root._op is None:
            root.grad = root.grad + seed
            return
        record = _Pass(root)
        try:
            if not create_graph and _is_number(root._d) and _is_number(seed):
                root.grad = seed
                rest = _backward_chain(root, record)
                if rest is None:
                    _commit(record.touched)
                    return
                root, seed = rest, rest.grad
                # Its grad is this pass's (its old one is in saved, unless 0): the
                # sort must not take the new one for the old.
                rest.grad = _FRESH
            record.sort_root = root
            order = _interior_toposort(root, record.saved, record.touched)
            record.sorted = True
            zero = root.grad
            root.grad = seed
            _run_pullbacks(order, zero, create_graph)
            _commit(record.touched)
        except BaseException:
            _rollback(record)
            raise


def _commit(touched: list[Value]) -> None:
    """The pass has run: each touched leaf's sum (in ``_a``) becomes its grad."""
    for leaf in touched:
        leaf.grad = leaf._a
        leaf._a = None


def _rollback(record: _Pass) -> None:
    """Put back every grad a failed pass changed (no mark of the pass left)."""
    for leaf in record.touched:
        leaf._a = None  # its grad was never written
    saved = record.saved
    visited: list[Value] = []
    if record.chain_end is not None:
        # The walks visited the nodes from the root down to chain_end, each the one
        # interior operand of the one before; the one after it may have been marked.
        node = record.root
        while True:
            visited.append(node)
            if node is record.chain_end:
                break
            node = next(x for x in node._inputs() if _is_interior(x))
        after = next((x for x in node._inputs() if _is_interior(x)), None)
        if after is not None and type(after.grad) is _Visited:
            visited.append(after)
    else:
        visited.append(record.root)
    if record.sort_root is not None:
        for node in toposort(record.sort_root):
            # Before the sort finished, the nodes it visited are those it marked.
            if _is_interior(node) and (record.sorted or type(node.grad) is _Visited):
                visited.append(node)
    for node in visited:
        node.grad = saved.get(node, _FRESH)
    for leaf in list(saved):  # leaves written directly (create_graph's pullbacks)
        if leaf._op is None:
            leaf.grad = saved[leaf]


def _is_interior(x: Any) -> bool:
    return isinstance(x, Value) and x._op is not None


def _backward_chain(node: Value, record: _Pass) -> Value | None:
    """Run the pullbacks down the chain that starts at ``node``, without a sort.

    While each node has one operand still to visit (a chain: ``y = tanh(y*a + b)``
    repeated), that operand's only consumers are nodes already run, so its pullback
    can run next. Returns the first node with two operands to visit, whose graph
    needs the sort (its ``grad`` is complete), or None when the chain is all.
    """
    zero = _Visited().record(record.saved, record.touched)  # this walk's mark
    now = _NOW
    try:
        while True:
            if now:  # some data was set: check this node's (see check_unchanged)
                try:
                    if node._label is not now:
                        _check_node(node)
                except AttributeError:  # no stamp: made before any was set
                    _check_node(node)
            walk = node._op._walk  # type: ignore[union-attr]  # interior: has _op
            follow = walk(node, zero)
            if follow is None:
                return None
            if follow is _SPLIT:
                return node
            node = follow
    finally:
        record.chain_end = node  # (try costs nothing in the loop, Python 3.11)


def _run_pullbacks(order: list[Value], zero: Any, create_graph: bool) -> None:
    """Run every node's local chain rule, consumers first (``order`` from the sort),
    each after checking that no data it reads was assigned since it was made."""
    root = order[-1] if order else None
    if not create_graph and (
        root is None or (_is_number(root._d) and _is_number(root.grad))
    ):
        _backward_numbers(order, zero)
        return
    # The reference pullback: on Values (create_graph), or on data that is not a plain
    # number (forward mode's Dual, when jvp differentiates a gradient; the generated
    # pullbacks are for plain numbers). It writes leaves directly: their old grads are
    # kept first, so that a pass that fails can put them back (see _rollback).
    check_unchanged(order)
    saved = zero.saved if type(zero) is _Visited else {}
    for node in reversed(order):
        for x in node._inputs():
            if isinstance(x, Value) and x._op is None and x not in saved:
                saved[x] = x.grad
        pullback(node, node.grad, create_graph)


def _gradients(
    root: Value,
    seed: Any,
    wrt: list[Value],
    create_graph: bool | Callable[[set[Value]], bool],
) -> tuple[list[Any], bool]:
    """d(root)/d(w) for each w in ``wrt`` by one reverse pass, for the transforms.

    Unlike ``backward`` this leaves every ``grad`` as it was (as PyTorch's
    ``autograd.grad`` does), so a transform nested in another never leaks into it:

    - the search stops at ``wrt``: each is a leaf for this pass, even one made by an
      operation (a transform's link to its caller's Value), so the caller's graph
      below it is neither visited nor charged;
    - every other node reached (a Value the function closed over, and what it was
      made from) gets its ``grad`` back afterwards, whether the pass completes or
      raises.

    ``create_graph`` may be a function of the set of leaves reached, deciding once
    they are known (the transforms build Values only if ``root`` depends on a Value
    the function closed over). Returns the gradients (``seed * 0`` for an input not
    reached) and whether they were built as Values.
    """
    with _PASS_LOCK:
        ops = [(w._op, w._a, w._b) for w in wrt]
        for w in wrt:
            if w._op is not None:  # a leaf for this pass: its _b, when data was set
                w._b = None if _made_at(w) is not None else _NOW
            w._op = None
            w._a = None  # its _a holds its sum (see _commit)
        marked: dict[Value, Any] = {}  # interior grads before the pass, where not 0
        order: list[Value] = []
        try:
            if root._op is not None:
                order = _interior_toposort(root, marked)
            leaves = {root} if root._op is None else set()
            add = leaves.add
            for node in order:  # the leaves among the operands
                a = node._a
                b = node._b
                if isinstance(a, Value) and a._op is None:
                    add(a)
                if type(b) is tuple:
                    for x in b:
                        if isinstance(x, Value) and x._op is None:
                            add(x)
                elif isinstance(b, Value) and b._op is None:
                    add(b)
            saved = [(leaf, leaf.grad) for leaf in leaves]
            if not isinstance(create_graph, bool):
                create_graph = create_graph(leaves)
            try:
                for leaf in leaves:
                    leaf.grad = 0
                zero = root.grad  # this pass's mark (see _interior_toposort)
                root.grad = seed
                try:
                    _run_pullbacks(order, zero, create_graph)
                finally:
                    _commit(zero.touched if type(zero) is _Visited else [])
                zero = _data(seed) * 0
                grads = [w.grad if w in leaves else zero for w in wrt]
            finally:
                for leaf, grad in saved:
                    leaf.grad = grad
        finally:
            for node in order:
                node.grad = marked.get(node, _FRESH)
            for w, (op, a, b) in zip(reversed(wrt), reversed(ops), strict=True):
                w._op = op
                w._a = a
                w._b = b
    return grads, create_graph


def _backward_numbers(order: list[Value], zero: int) -> None:
    """First order: every node's generated pullback, on plain numbers (the fast path).

    ``zero`` is this pass's mark (see ``_interior_toposort``): a gradient that is
    still ``zero``, or a fresh leaf's 0, is replaced by a node's first contribution
    rather than added to.
    """
    now = _NOW
    if not now:  # no data was ever assigned: nothing to check
        for node in reversed(order):
            # Not node._op._pullback(...): as a method call, that misses the fast
            # path for reading a slot (CPython 3.11).
            pullback = node._op._pullback  # type: ignore[union-attr]  # interior
            pullback(node, node.grad, zero)
        return
    for node in reversed(order):
        try:  # check_unchanged, inline: stamped now, nothing it reads changed
            if node._label is not now:
                _check_node(node)
        except AttributeError:  # no stamp: made before any was set
            _check_node(node)
        pullback = node._op._pullback  # type: ignore[union-attr]  # interior: has _op
        pullback(node, node.grad, zero)
