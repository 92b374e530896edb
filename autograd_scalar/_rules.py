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
from numbers import Real
from typing import TYPE_CHECKING, Any, NamedTuple, overload

from . import _engine, _special
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


_LN2 = math.log(2)
_LN10 = math.log(10)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_HALF = math.sqrt(0.5)
_RADIANS_PER_DEGREE = math.pi / 180
_DEGREES_PER_RADIAN = 180 / math.pi


def _is_nan(x: Any) -> bool:
    """x is nan, by comparison (so tracing records it as a guard)."""
    return not x <= x


def _is_pole(x: Any) -> bool:
    """x is 0 or a negative integer: where gamma, lgamma and polygamma blow up."""
    return bool(x <= 0 and x == math.floor(x))


def _edge_reciprocal(t: Any) -> Any:
    """1/t, and +inf at t = 0: the vertical slope at the end of a domain.

    PyTorch gives +inf there too: asin's backward is grad * (1 - x^2).rsqrt() and
    rsqrt(0) = inf (derivatives.yaml, asin/acos/acosh; atanh: grad / (1 - x^2)).
    Python's 1/0.0 would raise instead. Its derivatives at t = 0 are the limits too
    (``_limit_div``): asin''(1) is +inf, not the 0 a constant inf would give.
    """
    return _limit_div(1, t)


def _sign_value(x: Any) -> Any:
    """-1, 0 or 1 (floats for a float x), and nan for nan: numpy's and PyTorch's."""
    if x > 0:
        return 1.0 if isinstance(x, float) else 1
    if x < 0:
        return -1.0 if isinstance(x, float) else -1
    return x  # 0 (keeping -0.0's sign, as numpy), or nan


def _polygamma(n: Any, x: Any) -> float:
    """polygamma on numbers; an order that is a number but not an integer (2.5, or
    the float 2.0) is outside the domain: a ValueError, as any domain error."""
    if isinstance(n, float) or (not isinstance(n, int) and isinstance(n, Real)):
        raise ValueError(f"the order n must be an integer, got {n!r}")
    return _special.polygamma(n, x)


def _rounded(x: Any, n: Any) -> Any:
    """round(x, n) on numbers; a number of digits that is not an integer is outside
    the domain (a ValueError, as any domain error)."""
    if isinstance(n, float) or (not isinstance(n, int) and isinstance(n, Real)):
        raise ValueError(f"the number of digits must be an integer, got {n!r}")
    return round(x, n)


def _zero(ans: Any, *inputs: Any) -> int:
    """The partial of a piecewise-constant function: 0 (PyTorch's zeros_like)."""
    return 0


def _no_derivative(ans: Any, *inputs: Any) -> float:
    """The partial in an integer input (polygamma's order): none exists."""
    return math.nan


def _sinc_dx(ans: Any, x: Any) -> Any:
    """d/dx sinc(x) = (cos(pi x) - sinc(x)) / x, and its series near 0.

    The closed form cancels near 0 (and is 0/0 at 0). There the derivative is the
    series sum_k (-1)^k (2k) pi^2k x^(2k-1) / (2k+1)!, evaluated as a polynomial in x,
    so its own derivatives at 0 are right too: sinc''(0) = -pi^2/3, as sympy says.
    PyTorch's sinc backward (derivatives.yaml) masks x == 0 to 0: the first
    derivative agrees, its higher derivatives at 0 do not exist there.
    """
    if -0.25 < x < 0.25:
        x2 = x * x
        poly: Any = 0
        for k in range(9, 0, -1):
            c = (-1) ** k * 2 * k * math.pi ** (2 * k) / math.factorial(2 * k + 1)
            poly = poly * x2 + c
        return poly * x
    return (cos(math.pi * x) - ans) / x


def _gelu_dx(ans: Any, x: Any) -> Any:
    """d/dx x Phi(x) = Phi(x) + x phi(x) (PyTorch's gelu_backward, exact form)."""
    return 0.5 * erfc(-x * _SQRT_HALF) + x * _INV_SQRT_2PI * exp(-0.5 * x * x)


def _silu_dx(ans: Any, x: Any) -> Any:
    s = sigmoid(x)
    return s * (1 + x * (1 - s))


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

# -- Hyperbolic and inverse trigonometric -------------------------------------------

cosh: UnaryPrimitive  # defined below; sinh and cosh are each other's derivatives
sinh = _define("sinh", math.sinh, lambda ans, x: cosh(x))
cosh = _define("cosh", math.cosh, lambda ans, x: sinh(x))
# sqrt(x^2 + 1) as hypot(x, 1): no overflow past x = 1e154
asinh = _define("asinh", math.asinh, lambda ans, x: 1 / hypot(x, 1))
# x*x - 1, not (x - 1)(x + 1): at the edge x = 1 the latter's reverse pass multiplies
# an infinite cotangent by the partial x - 1 = 0 (nan), where acosh''(1) is -inf.
# Kink: acosh'(1) = +inf (derivatives.yaml: acosh, grad * (self.pow(2) - 1).rsqrt()).
acosh = _define(
    "acosh",
    math.acosh,
    lambda ans, x: _edge_reciprocal(sqrt(x * x - 1)),
    domain=lambda x: x > 1,
)
# atanh(+-1) is infinite: math raises, so the edge never reaches the partial.
atanh = _define(
    "atanh",
    math.atanh,
    lambda ans, x: _edge_reciprocal((1 - x) * (1 + x)),
    domain=lambda x: -1 < x < 1,
)
# Kink: asin'(+-1) = +inf, acos'(+-1) = -inf (derivatives.yaml: asin, acos, through
# (-self * self + 1).rsqrt()); 1 - x*x for the reason given at acosh.
asin = _define(
    "asin",
    math.asin,
    lambda ans, x: _edge_reciprocal(sqrt(1 - x * x)),
    domain=lambda x: -1 < x < 1,
)
acos = _define(
    "acos",
    math.acos,
    lambda ans, x: -_edge_reciprocal(sqrt(1 - x * x)),
    domain=lambda x: -1 < x < 1,
)

# -- Logarithms and powers -----------------------------------------------------------

log2 = _define(
    "log2", math.log2, lambda ans, x: _reciprocal(x) / _LN2, domain=lambda x: x > 0
)
log10 = _define(
    "log10", math.log10, lambda ans, x: _reciprocal(x) / _LN10, domain=lambda x: x > 0
)
# math.exp2, not _special.exp2: the engine's error already names the call
exp2 = _define("exp2", math.exp2, lambda ans, x: ans * _LN2)
# Real for negative x, as numpy's cbrt. Kink: cbrt'(0) = +inf, like sqrt'(0) in this
# table (PyTorch has no cbrt; its pow(x, 1/3) backward gives inf at 0 too).
cbrt = _define(
    "cbrt",
    _special.cbrt,
    lambda ans, x: _edge_reciprocal(3 * ans * ans),
    domain=lambda x: x != 0,
)

# -- Special functions ---------------------------------------------------------------

erfc = _define("erfc", math.erfc, lambda ans, x: -_TWO_OVER_SQRT_PI * exp(-x * x))
# math.gamma and math.lgamma raise ValueError at the poles; the engine names the call.
# (_special.digamma and polygamma name it themselves, so a pole of a Value reads
# "digamma(-1.0): digamma(-1.0): pole ...": the engine could skip its prefix when the
# message already starts with the call.)
polygamma: BinaryPrimitive  # defined below: digamma's derivative, and its own
digamma: UnaryPrimitive
gamma = _define(
    "gamma",
    math.gamma,
    lambda ans, x: ans * digamma(x),
    domain=lambda x: not _is_pole(x) and x < 171,
)
lgamma = _define(
    "lgamma",
    math.lgamma,  # log|gamma(x)|: defined for negative non-integers too
    lambda ans, x: digamma(x),
    domain=lambda x: not _is_pole(x),
)
# digamma's derivative is polygamma(1, x) (derivatives.yaml: digamma).
digamma = _define(
    "digamma",
    _special.digamma,
    lambda ans, x: polygamma(1, x),
    domain=lambda x: not _is_pole(x),
)
# The order n is an integer input with no derivative (derivatives.yaml: polygamma,
# "n: non_differentiable"); differentiable in x to any order.
polygamma = _define(
    "polygamma",
    _polygamma,
    _no_derivative,
    lambda ans, n, x: polygamma(n + 1, x),
    domain=lambda n, x: type(n) is int and n >= 0 and not _is_pole(x),
)

# -- Piecewise constant: derivative 0 everywhere, as PyTorch ------------------------
# derivatives.yaml: sign, floor, ceil, trunc, round all have "self: zeros_like(grad)"
# -- 0 at the jumps too, never nan. The values are Python's: math.floor gives an int.

sign = _define("sign", _sign_value, _zero, domain=lambda x: x != 0)
floor = _define("floor", math.floor, _zero, domain=lambda x: x != math.floor(x))
ceil = _define("ceil", math.ceil, _zero, domain=lambda x: x != math.floor(x))
trunc = _define("trunc", math.trunc, _zero, domain=lambda x: x != math.floor(x))
# round(x) rounds half to even and gives an int, as Python's; round(x, n) is the
# same primitive's sibling with an integer input n (no derivative in it).
_round = _define("round", round, _zero, domain=lambda x: x - math.floor(x) != 0.5)
_round_digits = _define(
    "round_digits",
    _rounded,
    _zero,
    _no_derivative,
    domain=lambda x, n: type(n) is int and x * 10**n - math.floor(x * 10**n) != 0.5,
)

# -- Remainders and integer division -------------------------------------------------


def _jumps(q: Any) -> bool:
    return bool(q == math.floor(q))


# C's fmod: the sign of x. d/dy = -trunc(x/y) (derivatives.yaml: fmod.Tensor,
# "other: -grad * self.div(other, rounding_mode="trunc")").
fmod = _define(
    "fmod",
    math.fmod,
    lambda ans, x, y: 1,
    lambda ans, x, y: -trunc(x / y),
    domain=lambda x, y: y != 0 and not _jumps(x / y),
)
# Python's %: the sign of y. d/dy = -floor(x/y) (derivatives.yaml: remainder.Tensor,
# "other: -grad * self.div(other, rounding_mode="floor")"). Named after the operator
# module; torch and numpy call it remainder (math.remainder is IEEE's, another one).
_mod = _define(
    "mod",
    operator.mod,
    lambda ans, x, y: 1,
    lambda ans, x, y: -floor(x / y),
    domain=lambda x, y: y != 0 and not _jumps(x / y),
)
# x // y is piecewise constant: 0 in both inputs. PyTorch's floor_divide has no
# derivative formula (it is not in derivatives.yaml, so it raises); the 0 is the
# derivative wherever it exists, consistent with floor above.
_floordiv = _define(
    "floordiv",
    operator.floordiv,
    _zero,
    _zero,
    domain=lambda x, y: y != 0 and not _jumps(x / y),
)

# -- Logarithms of sums, sinc, angles ------------------------------------------------

# derivatives.yaml: logaddexp, "self: grad / (1 + exp(other - self))" = sigmoid(x - y)
logaddexp = _define(
    "logaddexp",
    _special.logaddexp,
    lambda ans, x, y: sigmoid(x - y),
    lambda ans, x, y: sigmoid(y - x),
)
# derivatives.yaml: logaddexp2, "grad / (1 + pow(2, other - self))"
logaddexp2 = _define(
    "logaddexp2",
    _special.logaddexp2,
    lambda ans, x, y: sigmoid((x - y) * _LN2),
    lambda ans, x, y: sigmoid((y - x) * _LN2),
)
# normalised: sin(pi x) / (pi x), 1 at 0 (numpy's and PyTorch's sinc)
sinc = _define("sinc", _special.sinc, _sinc_dx)
degrees = _define("degrees", math.degrees, lambda ans, x: _DEGREES_PER_RADIAN)
radians = _define("radians", math.radians, lambda ans, x: _RADIANS_PER_DEGREE)

# -- Piecewise: fmax, fmin, copysign -------------------------------------------------
# numpy's fmax ignores a nan operand. At a tie the whole gradient goes to x (unlike
# maximum's even split): derivatives.yaml, fmax,
# "self: grad.masked_fill((self >= other).logical_or_(other.isnan()).logical_not_(), 0)"
# "other: grad.masked_fill((self >= other).logical_or_(other.isnan()), 0)".
fmax = _define(
    "fmax",
    _special.fmax,
    lambda ans, x, y: 1 if x >= y or _is_nan(y) else 0,
    lambda ans, x, y: 0 if x >= y or _is_nan(y) else 1,
    domain=lambda x, y: x != y,
)
fmin = _define(
    "fmin",
    _special.fmin,
    lambda ans, x, y: 1 if x <= y or _is_nan(y) else 0,
    lambda ans, x, y: 0 if x <= y or _is_nan(y) else 1,
    domain=lambda x, y: x != y,
)
# d/dx copysign(x, y) = result / x, 0 at x = 0; 0 in y (derivatives.yaml:
# copysign.Tensor, "self: copysign_tensor_self_backward(grad, self, result)",
# "other: zeros_like(other)"; FunctionsManual.cpp masks self == 0 to 0).
copysign = _define(
    "copysign",
    _special.copysign,
    lambda ans, x, y: 0 if _is_zero(x) else ans / x,
    _zero,
    domain=lambda x, y: x != 0 and y != 0,
)

# -- Activations -----------------------------------------------------------------------

gelu = _define("gelu", _special.gelu, _gelu_dx)
silu = _define("silu", _special.silu, _silu_dx)
# Kink: elu'(0) = alpha, the negative side's slope (PyTorch's elu_backward takes
# x <= 0 to the negative branch: aten/src/ATen/native/cpu/Activation.cpp).
# alpha is an input like any other, so it is differentiable too.
_elu = _define(
    "elu",
    _special.elu,
    lambda ans, x, alpha: 1 if x > 0 else alpha * exp(x),
    lambda ans, x, alpha: 0 if x > 0 else exp(x) - 1,
    domain=lambda x, alpha: x != 0,
)
# Kink: leaky_relu'(0) = negative_slope (leaky_relu_backward: "self > 0 ? grad :
# grad * negval", aten/src/ATen/native/cpu/Activation.cpp).
_leaky_relu = _define(
    "leaky_relu",
    _special.leaky_relu,
    lambda ans, x, slope: 1 if x > 0 else slope,
    lambda ans, x, slope: 0 if x > 0 else x,
    domain=lambda x, slope: x != 0,
)
log_sigmoid = _define("log_sigmoid", _special.log_sigmoid, lambda ans, x: sigmoid(-x))
# 1 / (1 + |x|)^2: its derivative has a kink at 0, where |x|' = 0 (this table's abs)
softsign = _define(
    "softsign",
    _special.softsign,
    lambda ans, x: 1 / ((1 + abs(x)) * (1 + abs(x))),
    domain=lambda x: x != 0,  # twice differentiable off 0 only (the kink of its slope)
)


@overload
def elu(x: Value, alpha: Value | float = 1.0) -> Value: ...
@overload
def elu(x: float, alpha: Value) -> Value: ...
@overload
def elu(x: float, alpha: float = 1.0) -> float: ...
def elu(x: Any, alpha: Any = 1.0) -> Any:
    """x for x > 0, alpha (e^x - 1) otherwise; PyTorch's ``elu``.

    >>> elu(-1.0) == math.expm1(-1.0)
    True
    """
    return _elu(x, alpha)


@overload
def leaky_relu(x: Value, negative_slope: Value | float = 0.01) -> Value: ...
@overload
def leaky_relu(x: float, negative_slope: Value) -> Value: ...
@overload
def leaky_relu(x: float, negative_slope: float = 0.01) -> float: ...
def leaky_relu(x: Any, negative_slope: Any = 0.01) -> Any:
    """x for x > 0, negative_slope * x otherwise; PyTorch's ``leaky_relu``.

    >>> leaky_relu(-2.0)
    -0.02
    """
    return _leaky_relu(x, negative_slope)


# -------------------------------------------------------------------------------------
# The operator table: Python's operators, each routed to its primitive. Value's and
# the forward-mode Dual's operators are bound from it, and the test strategies and the
# CLI grammar read it. Every unary primitive no operator reaches is a Value method.
# -------------------------------------------------------------------------------------


class _Operator(NamedTuple):
    """One of Python's operators and the primitive it applies.

    ``symbol`` is how Python spells it: an infix or prefix sign (``"+"``, ``"%"``,
    ``"-"``) or a function that calls a special method (``"abs"``, ``"round"``,
    ``"math.floor"``). ``apply`` is the operator itself (it works on any number
    type), ``dunder`` the special method's name without underscores: a binary sign
    binds ``__add__`` and ``__radd__``, a function one method (``__floor__``).
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
    _Operator("%", _mod, "mod", operator.mod),
    _Operator("//", _floordiv, "floordiv", operator.floordiv),
    _Operator("-", _neg, "neg", operator.neg),
    _Operator("abs", _abs, "abs", abs),
    # Python's round(x) and round(x, n): one method, __round__, for both entries.
    _Operator("round", _round, "round", round),
    _Operator("round", _round_digits, "round", round),
    # The standard math module's rounding functions call these special methods; the
    # primitives are the package's functions too (ag.floor), unlike the others here.
    _Operator("math.floor", floor, "floor", math.floor),
    _Operator("math.ceil", ceil, "ceil", math.ceil),
    _Operator("math.trunc", trunc, "trunc", math.trunc),
)

# Functions that give a primitive its default inputs: exported in its place.
_WRAPPERS: dict[str, Callable[..., Any]] = {"elu": elu, "leaky_relu": leaky_relu}


def _is_call(op: _Operator) -> bool:
    """Whether Python spells ``op`` as a function call (``round(x, 2)``), not a sign."""
    return op.symbol.replace(".", "_").isidentifier()


def _dunders(op: _Operator) -> list[str]:
    """The special method names an operator binds: ``__add__``, ``__radd__``."""
    if op.primitive.arity == 1 or _is_call(op):
        return [f"__{op.dunder}__"]
    return [f"__{op.dunder}__", f"__r{op.dunder}__"]


def _exported() -> list[str]:
    """The built-in primitives the package exports: every one no operator reaches,
    and the math module's rounding functions; not the rules' internal ones (_name)."""
    reached = {op.primitive.name for op in _OPERATORS if op.symbol[:5] != "math."}
    return [
        name
        for name in _REGISTRY
        if name in _BUILTIN and name not in reached and not name.startswith("_")
    ]


def _public(name: str) -> Any:
    """The package's function for the exported primitive ``name``."""
    return _WRAPPERS.get(name) or _REGISTRY[name]


def _bind(cls: type, make: Callable[[Primitive, bool], Callable[..., Any]]) -> None:
    """Bind the operator table to ``cls``: ``make(primitive, reflected)`` gives the
    method for one primitive (Value's and forward mode's Dual's differ).

    ``__round__`` takes ``round``'s optional ``ndigits`` and applies the unary or the
    binary entry; ``divmod`` is derived, ``(x // y, x % y)``, as Python defines it.
    """
    methods: dict[str, list[Callable[..., Any]]] = {}
    for op in _OPERATORS:
        for reflected, dunder in enumerate(_dunders(op)):
            method = make(op.primitive, bool(reflected))
            methods.setdefault(dunder, []).append(method)
    for dunder, (method, *others) in methods.items():
        if others:  # round(x) and round(x, n)
            method = _optional_second(method, others[0])
        method.__name__ = method.__qualname__ = dunder
        setattr(cls, dunder, method)
    floordiv, rfloordiv = methods["__floordiv__"][0], methods["__rfloordiv__"][0]
    mod, rmod = methods["__mod__"][0], methods["__rmod__"][0]

    def __divmod__(self: Any, other: Any) -> Any:  # noqa: N807 -- Python's name
        q = floordiv(self, other)
        return q if q is NotImplemented else (q, mod(self, other))

    def __rdivmod__(self: Any, other: Any) -> Any:  # noqa: N807 -- Python's name
        q = rfloordiv(self, other)
        return q if q is NotImplemented else (q, rmod(self, other))

    setattr(cls, "__divmod__", __divmod__)  # noqa: B010 -- mypy: cls is any class
    setattr(cls, "__rdivmod__", __rdivmod__)  # noqa: B010


def _optional_second(
    unary: Callable[..., Any], binary: Callable[..., Any]
) -> Callable[..., Any]:
    def method(self: Any, ndigits: Any = None) -> Any:
        return unary(self) if ndigits is None else binary(self, ndigits)

    return method


def _value_method(prim: Primitive, reflected: bool) -> Callable[..., Any]:
    return prim.method(reflected=reflected)


def _array_ufunc(
    self: Value, ufunc: Any, method: str, *inputs: Any, **kwargs: Any
) -> Any:
    """numpy's functions on a Value (``np.sin(x)``, ``array * x``): the primitive
    each ufunc is, by the numpy forms' table (numpy's code calls this, so numpy and
    the vectorised-replay module are loaded by then)."""
    from .tracing.vectorized import apply_ufunc

    return apply_ufunc(ufunc, method, inputs, kwargs)


def _bind_methods() -> None:
    _bind(Value, _value_method)
    # Values carrying forward mode's duals: every operator through the primitive.
    _bind(_engine._Carrier, _engine._carrier_method)
    Value.__array_ufunc__ = _array_ufunc  # type: ignore[attr-defined]
    for name in _exported():
        prim = _REGISTRY[name]
        if prim.arity == 1:
            method = prim.method()
            method.__name__ = method.__qualname__ = name
            setattr(Value, name, method)
            setattr(_engine._Carrier, name, _engine._carrier_method(prim, False))


_bind_methods()
