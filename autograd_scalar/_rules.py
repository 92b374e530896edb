"""The rule table: every primitive, once, with its local derivatives.

Each entry gives a primitive's name, its forward on plain numbers, one local partial
derivative per input, and the open set where it is smooth (``domain``). A partial is
an ordinary Python function of the output ``ans`` and the inputs, written in plain
arithmetic over the polymorphic functions defined here, so that one rule serves
every order: evaluated on Values when the gradient is itself differentiated
(``create_graph=True``, ``grad(grad(f))``), and written by ``_pullbacks`` into the
primitive's generated pullback, which a first-order ``backward`` runs on floats.

Below the table, the operator table binds Python's operators (``x + y``, ``-x``,
``abs(x)``) to their primitives, and every other unary primitive becomes a ``Value``
method (``x.exp()``). The package exports every primitive that no operator reaches.

Conventions where the value exists but the derivative does not follow PyTorch:
relu'(0) = 0, |x|'(0) = 0, sqrt'(0) = +inf, d/dx x**0 = 0 everywhere, ties in
maximum/minimum split the gradient evenly. ``backward`` never raises at such a point.
Every derivative of higher order at such a point is the one-sided limit too
(sqrt''(0) = -inf): a rule's value at an edge is written with ``_limit_div``, whose
own rule goes on taking limits, never as a constant, whose derivative would be 0.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from . import _engine
from ._engine import Partial, Primitive, Value
from ._symbolic import called

if TYPE_CHECKING:
    from ._engine import BinaryPrimitive, UnaryPrimitive


def _generate(op: Primitive) -> Any:
    """Generate ``op``'s pullback; ``_pullbacks`` loads at the first backward."""
    from ._pullbacks import generate

    return generate(op)


_engine._generator[0] = _generate  # the engine asks this for each primitive's code

_REGISTRY: dict[str, Primitive] = {}
_BUILTIN: set[str] = set()
_engine._find_primitive[0] = _REGISTRY.get  # a pickled graph's operations, by name


@overload
def _define(
    name: str,
    fn: Callable[..., Any],
    partial: Partial,
    /,
    *,
    domain: Callable[..., bool] | None = None,
) -> UnaryPrimitive: ...
@overload
def _define(
    name: str,
    fn: Callable[..., Any],
    partial_x: Partial,
    partial_y: Partial,
    /,
    *,
    domain: Callable[..., bool] | None = None,
) -> BinaryPrimitive: ...
def _define(
    name: str,
    fn: Callable[..., Any],
    *partials: Partial,
    domain: Callable[..., bool] | None = None,
) -> Any:
    """Register a built-in primitive (its type says how many operands it takes)."""
    if name in _REGISTRY:
        raise ValueError(f"primitive {name!r} is defined twice in the rule table")
    prim = Primitive(name, fn, partials, domain)
    _REGISTRY[name] = prim
    _BUILTIN.add(name)
    return prim


def registered() -> dict[str, Primitive]:
    """Every primitive by name, built-in and user-defined, in registration order.

    >>> registered()["mul"]
    <primitive mul/2>
    """
    return dict(_REGISTRY)


def primitive(
    forward: Callable[..., Any],
    *partials: Callable[..., Any],
    name: str | None = None,
    domain: Callable[..., bool] | None = None,
) -> Any:  # Any: a Primitive, used as a function of numbers or Values
    """Add a primitive in one call: its forward and one partial per input.

    Partials take the same inputs as ``forward``. Write them with this package's
    functions and ordinary arithmetic, and the new primitive works at every order of
    differentiation, exactly like a built-in one. ``domain`` (a predicate on the
    inputs) says where it is smooth, for ``check_grad`` and the test strategies.

    A partial must return a real number (on numbers) or a Value (on Values): any
    other result (an array, a complex number, a string) is a ``TypeError`` naming
    the primitive. The primitive stays registered under its name (so a saved graph
    using it loads) until ``unregister(name)``.

    >>> cube = primitive(lambda x: x**3, lambda x: 3 * x**2, name="cube")
    >>> x = Value(2.0)
    >>> y = cube(x)
    >>> y.backward()
    >>> y.data, x.grad
    (8.0, 12.0)
    """
    name = name or getattr(forward, "__name__", "") or "primitive"
    if not callable(forward) or not all(callable(p) for p in partials):
        raise TypeError(f"primitive {name!r}: forward and partials must be callable")
    if name in _BUILTIN:
        raise ValueError(f"primitive {name!r}: a built-in primitive has that name")
    wrapped = tuple(_checked_partial(name, k, p) for k, p in enumerate(partials))
    prim = Primitive(name, forward, wrapped, domain)
    _REGISTRY[name] = prim  # a user may redefine their own primitive (a notebook rerun)
    return prim


def unregister(name: str) -> None:
    """Forget the user primitive registered as ``name``.

    It leaves ``registered()``, and once nothing else refers to it (no graph, no
    variable), it is freed with its generated code. Graphs already built with it
    keep working. A program that makes primitives under ever new names calls this
    to keep the registry bounded.

    >>> double = primitive(lambda x: 2 * x, lambda x: 2, name="double")
    >>> unregister("double")
    >>> "double" in registered()
    False
    """
    if name in _BUILTIN:
        raise ValueError(f"unregister({name!r}): a built-in primitive stays")
    if name not in _REGISTRY:
        raise KeyError(f"unregister({name!r}): no user primitive has that name")
    del _REGISTRY[name]


def _checked_partial(name: str, k: int, partial: Callable[..., Any]) -> Partial:
    """A user's partial of the inputs as a rule of ``(ans, *inputs)``, whose result
    on numbers is checked to be a real number (built-in rules pay nothing)."""

    # Called by the generated pullback, not inlined: the check runs on every backward.
    @called
    def rule(ans: Any, *args: Any) -> Any:
        out = partial(*args)
        if type(out) is float or type(out) is int:
            return out
        if not all(map(_engine._is_number, args)):
            return out  # on Values (create_graph), dual numbers or placeholders
        if _engine._is_number(out):
            return _engine._plain(out)  # a numpy scalar: the Python number
        shown = ", ".join(repr(x) for x in args)
        raise TypeError(
            f"primitive {name!r}: partial {k} at ({shown}) returned "
            f"{type(out).__name__} {out!r}, not a real number"
        )

    return rule


# -------------------------------------------------------------------------------------
# Helpers the rules use: plain functions a partial may call. They work on numbers and
# Values alike. Their decisions go
# through the comparisons (< <= > >=), never through .data: a Value's comparisons are
# what traced replay records as guards, so a traced gradient (trace(grad(f))) takes
# the right branch of relu', |x|', max' ... at every point (== and != do too).
# -------------------------------------------------------------------------------------


def _half() -> Any:
    """1/2, exact, so a tie keeps Fraction gradients exact."""
    from fractions import Fraction  # here: fractions imports decimal, a slow import

    return Fraction(1, 2)


@called  # looks at y's type: generated code calls it
def _reciprocal(y: Any) -> Any:
    """1/y, exact for an int y (Python's 1/3 is a float; Fraction(1, 3) is not)."""
    if type(y) is int:
        from fractions import Fraction  # here: fractions imports decimal (slow)

        return Fraction(1, y)
    return 1 / y


def _is_zero(x: Any) -> bool:
    """x == 0 by comparisons; nan is not zero."""
    return bool(x >= 0 and x <= 0)


def _sign(x: Any) -> int:
    return 1 if x > 0 else -1 if x < 0 else 0  # no int(bool): traces as a branch


def _power(x: Any, y: Any) -> Any:
    # Python's ** gives a complex number for a negative base and a fractional
    # exponent; math.pow raises, and so do we (but ** keeps ints and Fractions exact).
    out = x**y
    if isinstance(out, complex):
        raise ValueError("negative number cannot be raised to a fractional power")
    return out


def _pow_dx(ans: Any, x: Any, y: Any) -> Any:
    if _is_zero(y) and (_is_zero(x) or not isinstance(y, Value)):
        # x**0 is the constant 1, even at x = 0. A Value exponent at 0 (create_graph)
        # takes the general rule instead, also 0 but still a function of y:
        # d2/dx dy x**y at y = 0 is 1/x.
        return 0
    if _is_zero(x) and y < 1:
        # 0 < y < 1: the slope of x**y at 0 is vertical (sqrt'(0)): +inf, and its own
        # derivatives the limits from x > 0 (y / x**(1-y), as x**(y-1) would raise).
        return _limit_div(y, x ** (1 - y))
    return y * x ** (y - 1)


def _pow_dy(ans: Any, x: Any, y: Any) -> Any:
    if x > 0:
        return ans * log(x)
    if _is_zero(x) and y >= 0:
        return 0  # PyTorch's convention: 0**y is flat in y at y >= 0
    # x < 0: x**y exists only at integer y, with no derivative in y. The nan is
    # written as a function of x and y, so that its own derivatives are nan too: a
    # constant nan would make d2/dx dy and d2/dy2 zero, and the Hessian asymmetric.
    return math.nan * (x + y)


def _sigmoid(x: float) -> float:
    # Stable at both ends: exp is only ever taken of a non-positive number.
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


def _softplus(x: float) -> float:
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): no overflow at x = 1000.
    return max(x, 0) + math.log1p(math.exp(-abs(x)))


def _relu(x: Any) -> Any:
    if x > 0 or x != x:  # nan propagates, as in PyTorch
        return x
    return x - x if x > -math.inf else 0.0  # x - x: zero of x's type (0, Fraction)


def _maximum(x: Any, y: Any) -> Any:
    return x if x >= y or x != x else y  # a nan in either input propagates


def _minimum(x: Any, y: Any) -> Any:
    return x if x <= y or x != x else y


def _tie_split(x: Any, y: Any) -> Any:
    """d max(x, y)/dx: 1 where x wins, 0 where it loses, 1/2 at a tie."""
    return 1 if x > y else _half() if x >= y else 0


def _atan2_denominator(y: Any, x: Any) -> Any:
    r2 = x * x + y * y
    # No derivative at the origin: nan, of every order (r2 + nan, not a constant nan,
    # so that differentiating the partial again gives nan, not 0).
    return r2 + math.nan if _is_zero(r2) else r2


def _limit_quotient(u: Any, v: Any) -> Any:
    """u / v, and at v = 0 its limit as v falls to 0 from above: ±inf, or nan at 0/0.

    The value at an edge where a slope is vertical (sqrt'(0) = 0.5 / sqrt(0)).
    """
    if v != 0 or v != v:  # nan propagates
        return u / v
    return math.copysign(math.inf, u) if u != 0 else math.nan


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)

_limit_div: BinaryPrimitive

# -------------------------------------------------------------------------------------
# The table. Read each entry as: name, forward, d/dinput for each input, domain.
# Each partial is a function of (ans, *inputs); its parameter names are its own.
# -------------------------------------------------------------------------------------

# -- Arithmetic (reached through Python's operators: see the operator table) ----------
_add = _define("add", operator.add, lambda ans, x, y: 1, lambda ans, x, y: 1)
_sub = _define("sub", operator.sub, lambda ans, x, y: 1, lambda ans, x, y: -1)
_mul = _define("mul", operator.mul, lambda ans, x, y: y, lambda ans, x, y: x)
_truediv = _define(
    "truediv",
    operator.truediv,
    lambda ans, x, y: _reciprocal(y),
    lambda ans, x, y: -ans / y,  # not -x / (y * y): y * y underflows at y = 1e-160
    domain=lambda x, y: y != 0,
)
_pow = _define("pow", _power, _pow_dx, _pow_dy, domain=lambda x, y: x > 0)
_neg = _define("neg", operator.neg, lambda ans, x: -1)
_abs = _define("abs", abs, lambda ans, x: _sign(x), domain=lambda x: x != 0)

# -- Exponentials and logarithms ------------------------------------------------------
exp = _define("exp", math.exp, lambda ans, x: ans)
expm1 = _define("expm1", math.expm1, lambda ans, x: ans + 1)
log = _define("log", math.log, lambda ans, x: _reciprocal(x), domain=lambda x: x > 0)
log1p = _define(
    "log1p", math.log1p, lambda ans, x: 1 / (1 + x), domain=lambda x: x > -1
)
sqrt = _define(
    "sqrt",
    math.sqrt,
    lambda ans, x: _limit_div(0.5, ans),  # +inf at 0, and sqrt''(0) = -inf
    domain=lambda x: x > 0,
)

# -- Trigonometry ---------------------------------------------------------------------
cos: UnaryPrimitive  # defined below: sin and cos are each other's derivatives
sin = _define("sin", math.sin, lambda ans, x: cos(x))
cos = _define("cos", math.cos, lambda ans, x: -sin(x))
tan = _define(
    "tan",
    math.tan,
    lambda ans, x: 1 + ans * ans,
    domain=lambda x: abs(math.cos(x)) > 1e-9,
)
atan = _define("atan", math.atan, lambda ans, x: 1 / (1 + x * x))
atan2 = _define(
    "atan2",
    math.atan2,
    lambda ans, y, x: x / _atan2_denominator(y, x),
    lambda ans, y, x: -y / _atan2_denominator(y, x),
    domain=lambda y, x: x > 0 or y != 0,  # it jumps by 2*pi across the negative x axis
)
hypot = _define(
    "hypot",
    math.hypot,
    lambda ans, x, y: 0 if _is_zero(ans) else x / ans,  # a subgradient at the origin
    lambda ans, x, y: 0 if _is_zero(ans) else y / ans,
    domain=lambda x, y: x != 0 or y != 0,
)

# -- Activations and special functions ------------------------------------------------
tanh = _define("tanh", math.tanh, lambda ans, x: 1 - ans * ans)
sigmoid = _define("sigmoid", _sigmoid, lambda ans, x: ans * (1 - ans))
softplus = _define("softplus", _softplus, lambda ans, x: sigmoid(x))
relu = _define("relu", _relu, lambda ans, x: 1 if x > 0 else 0, domain=lambda x: x != 0)
erf = _define("erf", math.erf, lambda ans, x: _TWO_OVER_SQRT_PI * exp(-x * x))

# -- Limits at edges (not exported: the rules above use it) ---------------------------
_limit_div = _define(
    "_limit_div",
    _limit_quotient,
    lambda ans, u, v: _limit_div(1, v),
    lambda ans, u, v: -_limit_div(ans, v),
    domain=lambda u, v: v > 0,
)

# -- Piecewise ------------------------------------------------------------------------
maximum = _define(
    "maximum",
    _maximum,
    lambda ans, x, y: _tie_split(x, y),
    lambda ans, x, y: _tie_split(y, x),
    domain=lambda x, y: x != y,
)
minimum = _define(
    "minimum",
    _minimum,
    lambda ans, x, y: _tie_split(y, x),
    lambda ans, x, y: _tie_split(x, y),
    domain=lambda x, y: x != y,
)

# -------------------------------------------------------------------------------------
# The operator table: Python's operators, each routed to its primitive. Value's and
# the forward-mode Dual's operators are bound from it, and the test strategies and the
# CLI grammar read it. Every unary primitive no operator reaches is a Value method.
# -------------------------------------------------------------------------------------


class _Operator(NamedTuple):
    """One of Python's operators and the primitive it applies.

    ``symbol`` is how Python spells it (``"+"``, ``"-"``, ``"abs"``), ``apply`` the
    operator itself (it works on any number type), ``dunder`` the method name
    without underscores: a binary operator binds ``__add__`` and ``__radd__``.
    """

    symbol: str
    primitive: Primitive
    dunder: str
    apply: Callable[..., Any]


_OPERATORS: tuple[_Operator, ...] = (
    _Operator("+", _add, "add", operator.add),
    _Operator("-", _sub, "sub", operator.sub),
    _Operator("*", _mul, "mul", operator.mul),
    _Operator("/", _truediv, "truediv", operator.truediv),
    _Operator("**", _pow, "pow", operator.pow),
    _Operator("-", _neg, "neg", operator.neg),
    _Operator("abs", _abs, "abs", abs),
)


def _dunders(op: _Operator) -> list[str]:
    """The special method names an operator binds: ``__add__``, ``__radd__``."""
    if op.primitive.arity == 1:
        return [f"__{op.dunder}__"]
    return [f"__{op.dunder}__", f"__r{op.dunder}__"]


def _exported() -> list[str]:
    """The built-in primitives the package exports: every one no operator reaches."""
    reached = {op.primitive.name for op in _OPERATORS}
    return [
        name
        for name in _REGISTRY
        if name in _BUILTIN and name not in reached and not name.startswith("_")
    ]


def _bind_methods() -> None:
    for op in _OPERATORS:
        for reflected, dunder in enumerate(_dunders(op)):
            method = op.primitive.method(reflected=bool(reflected))
            method.__name__ = method.__qualname__ = dunder
            setattr(Value, dunder, method)
            carried = _engine._carrier_method(op.primitive, bool(reflected))
            setattr(_engine._Carrier, dunder, carried)
    for name in _exported():
        prim = _REGISTRY[name]
        if prim.arity == 1:
            method = prim.method()
            method.__name__ = method.__qualname__ = name
            setattr(Value, name, method)
            setattr(_engine._Carrier, name, _engine._carrier_method(prim, False))


_bind_methods()
