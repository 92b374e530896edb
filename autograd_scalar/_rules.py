"""The rule table: every primitive, once, with its local derivatives.

Each entry gives a primitive's name, its forward on plain numbers, one local partial
derivative per input, the open set where it is smooth (``domain``), and its forward
on numpy arrays (``numpy``, source text: this module imports no numpy). A partial is
an expression in the inputs (``x``, or ``x, y``; ``params`` renames them) and the
output ``ans``, written in ordinary arithmetic over the polymorphic functions defined
here. Each becomes a function ``partial(ans, *inputs)``, evaluated on Values when the
gradient is itself differentiated (``create_graph=True``, ``grad(grad(f))``), and is
written into the primitive's generated pullback, which a first-order ``backward``
runs on floats.

Conventions where the value exists but the derivative does not follow PyTorch:
relu'(0) = 0, |x|'(0) = 0, sqrt'(0) = +inf, d/dx x**0 = 0 everywhere, ties in
maximum/minimum split the gradient evenly. ``backward`` never raises at such a point.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from ._engine import Partial, Primitive, Value

__all__ = [
    "abs_",
    "add",
    "atan",
    "atan2",
    "cos",
    "erf",
    "exp",
    "expm1",
    "hypot",
    "log",
    "log1p",
    "maximum",
    "minimum",
    "mul",
    "neg",
    "pow_",
    "primitive",
    "registered",
    "relu",
    "sigmoid",
    "sin",
    "softplus",
    "sqrt",
    "sub",
    "tan",
    "tanh",
    "truediv",
]

_REGISTRY: dict[str, Primitive] = {}
_BUILTIN: set[str] = set()


def _define(
    name: str,
    fn: Callable[..., Any],
    *partials: str,
    domain: Callable[..., bool] | None = None,
    numpy: str | None = None,
    params: str = "",
) -> Any:  # Any: a Primitive, used as a function of numbers or Values
    prim = Primitive(
        name, fn, partials, domain, numpy, params=params, namespace=globals()
    )
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
    wrapped = tuple(_ignoring_ans(p) for p in partials)
    prim = Primitive(name, forward, wrapped, domain)
    _REGISTRY[name] = prim  # a user may redefine their own primitive (a notebook rerun)
    return prim


def _ignoring_ans(partial: Callable[..., Any]) -> Partial:
    def rule(ans: Any, *args: Any) -> Any:
        return partial(*args)

    return rule


# -------------------------------------------------------------------------------------
# Helpers the rules use. They work on numbers and Values alike. Their decisions go
# through the comparisons (< <= > >=), never through .data: a Value's comparisons are
# what traced replay records as guards, so a traced gradient (trace(grad(f))) takes
# the right branch of relu', |x|', max' ... at every point. (== on Values is identity.)
# -------------------------------------------------------------------------------------

_HALF = Fraction(1, 2)  # exact, so a tie keeps Fraction gradients exact


def _reciprocal(y: Any) -> Any:
    """1/y, exact for an int y (Python's 1/3 is a float; Fraction(1, 3) is not)."""
    return Fraction(1, y) if type(y) is int else 1 / y


def _is_zero(x: Any) -> bool:
    """x == 0 by comparisons; nan is not zero."""
    return bool(x >= 0 and x <= 0)


def _sign(x: Any) -> int:
    return 1 if x > 0 else -1 if x < 0 else 0  # no int(bool): traces as a branch


def _pow(x: Any, y: Any) -> Any:
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
        return math.inf  # 0 < y < 1: the slope of x**y at 0 is vertical (sqrt'(0))
    return y * x ** (y - 1)


def _pow_dy(ans: Any, x: Any, y: Any) -> Any:
    if x > 0:
        return ans * log(x)
    if _is_zero(x) and y >= 0:
        return 0  # PyTorch's convention: 0**y is flat in y at y >= 0
    return math.nan  # x < 0: x**y exists only at integer y, with no derivative in y


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
    return 1 if x > y else _HALF if x >= y else 0


def _atan2_denominator(y: Any, x: Any) -> Any:
    r2 = x * x + y * y
    return math.nan if _is_zero(r2) else r2  # no derivative at the origin


_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)

# -------------------------------------------------------------------------------------
# The table. Read each line as: name, forward, d/dinput for each input, domain.
# A partial's text is evaluated in this module: it may call the helpers above.
# -------------------------------------------------------------------------------------

# -- Arithmetic ---------------------------------------------------------------------
add = _define("add", operator.add, "1", "1", numpy="np.add")
sub = _define("sub", operator.sub, "1", "-1", numpy="np.subtract")
mul = _define("mul", operator.mul, "y", "x", numpy="np.multiply")
truediv = _define(
    "truediv",
    operator.truediv,
    "_reciprocal(y)",
    "-ans / y",  # not -x / (y * y): y * y underflows at y = 1e-160
    domain=lambda x, y: y != 0,
    numpy="np.true_divide",
)
pow_ = _define(
    "pow",
    _pow,
    "_pow_dx(ans, x, y)",
    "_pow_dy(ans, x, y)",
    domain=lambda x, y: x > 0,
    numpy="np.power",
)
neg = _define("neg", operator.neg, "-1", numpy="np.negative")
abs_ = _define("abs", abs, "_sign(x)", domain=lambda x: x != 0, numpy="np.abs")

# -- Exponentials and logarithms -------------------------------------------------
exp = _define("exp", math.exp, "ans", numpy="np.exp")
expm1 = _define("expm1", math.expm1, "ans + 1", numpy="np.expm1")
log = _define(
    "log",
    math.log,
    "_reciprocal(x)",
    domain=lambda x: x > 0,
    numpy="np.log",
)
log1p = _define(
    "log1p",
    math.log1p,
    "1 / (1 + x)",
    domain=lambda x: x > -1,
    numpy="np.log1p",
)
sqrt = _define(
    "sqrt",
    math.sqrt,
    "math.inf if _is_zero(ans) else 0.5 / ans",
    domain=lambda x: x > 0,
    numpy="np.sqrt",
)

# -- Trigonometry ---------------------------------------------------------------------
cos: Any  # defined below; sin and cos are each other's derivatives
sin = _define("sin", math.sin, "cos(x)", numpy="np.sin")
cos = _define("cos", math.cos, "-sin(x)", numpy="np.cos")
tan = _define(
    "tan",
    math.tan,
    "1 + ans * ans",
    domain=lambda x: abs(math.cos(x)) > 1e-9,
    numpy="np.tan",
)
atan = _define("atan", math.atan, "1 / (1 + x * x)", numpy="np.arctan")
atan2 = _define(
    "atan2",
    math.atan2,
    "x / _atan2_denominator(y, x)",
    "-y / _atan2_denominator(y, x)",
    params="y, x",
    # atan2 jumps by 2*pi across the negative x axis
    domain=lambda y, x: x > 0 or y != 0,
    numpy="np.arctan2",
)
hypot = _define(
    "hypot",
    math.hypot,
    "0 if _is_zero(ans) else x / ans",  # a subgradient at the origin
    "0 if _is_zero(ans) else y / ans",
    domain=lambda x, y: x != 0 or y != 0,
    numpy="np.hypot",
)

# -- Activations and special functions -------------------------------------------
tanh = _define("tanh", math.tanh, "1 - ans * ans", numpy="np.tanh")
sigmoid = _define(
    "sigmoid",
    _sigmoid,
    "ans * (1 - ans)",
    numpy="lambda x: np.exp(-np.logaddexp(0.0, -x))",  # stable: e^-softplus(-x)
)
softplus = _define(
    "softplus",
    _softplus,
    "sigmoid(x)",
    numpy="lambda x: np.logaddexp(0.0, x)",
)
relu = _define(
    "relu",
    _relu,
    "1 if x > 0 else 0",
    domain=lambda x: x != 0,
    numpy="lambda x: np.where((x > 0) | (x != x), x, 0.0)",
)
# numpy has no erf: over arrays, math.erf runs per element (np.vectorize)
erf = _define("erf", math.erf, "_TWO_OVER_SQRT_PI * exp(-x * x)")

# -- Piecewise ---------------------------------------------------------------------
maximum = _define(
    "maximum",
    _maximum,
    "_tie_split(x, y)",
    "_tie_split(y, x)",
    domain=lambda x, y: x != y,
    numpy="np.maximum",
)
minimum = _define(
    "minimum",
    _minimum,
    "_tie_split(y, x)",
    "_tie_split(x, y)",
    domain=lambda x, y: x != y,
    numpy="np.minimum",
)

# -------------------------------------------------------------------------------------
# Python's operators and the method forms, routed into the table
# -------------------------------------------------------------------------------------

for _name, _prim in [
    ("add", add),
    ("sub", sub),
    ("mul", mul),
    ("truediv", truediv),
    ("pow", pow_),
]:
    for _dunder, _method in [
        (f"__{_name}__", _prim.method()),
        (f"__r{_name}__", _prim.method(reflected=True)),
    ]:
        _method.__name__ = _method.__qualname__ = _dunder
        setattr(Value, _dunder, _method)
Value.__neg__ = neg.method()  # type: ignore[method-assign]
Value.__abs__ = abs_.method()  # type: ignore[method-assign]
Value.__pos__ = lambda self: self  # type: ignore[method-assign]  # +x is x
for _prim in [
    exp, log, sqrt, sin, cos, tan, atan, tanh, sigmoid, relu, softplus, log1p,
    expm1, erf,
]:  # fmt: skip
    _method = _prim.method()
    _method.__name__ = _method.__qualname__ = _prim.name
    setattr(Value, _prim.name, _method)
