"""DRAFT, not part of the package and imported by nothing: the rule-table entries of
issue 16, section 1, written in the new table format, ready to move into _rules.py.

How to land it (once _rules.py uses ``name = _define("name", forward, partial_0, ...,
domain=...)`` with partials as plain functions of ``(ans, *inputs)``):

1. Move the helpers and the entries between the two ``--- cut here ---`` marks into
   _rules.py, under its banners; drop the imports below the first mark (in _rules.py
   those names are module globals already) and the ``_define`` shim.
2. Export the public names (``PUBLIC`` below) from ``autograd_scalar/__init__.py`` and
   bind the methods and operators as ``bind_operators`` below does (Value) -- the
   same for forward.Dual's ``%``, ``//`` and ``divmod``.
3. Move ``NUMPY`` into the vectorised-replay module, ``SYMPY`` into viz's sympy table
   and ``TORCH`` into tests/test_torch_oracle.py (each keyed by primitive name).

Every partial is ordinary arithmetic over the package's polymorphic functions, so the
same rule gives first derivatives on floats and higher ones on Values (the partial of
digamma is polygamma(1, x), whose partial is polygamma(2, x), ...). Decisions go
through comparisons, never ``.data`` (tracing records them as guards), and a nan test
is ``not (x <= x)``, which needs no ``==`` on Values.

Conventions at kinks follow PyTorch; each entry cites where PyTorch fixes it
(``derivatives.yaml`` is ``tools/autograd/derivatives.yaml`` in pytorch/pytorch,
``FunctionsManual.cpp`` is ``torch/csrc/autograd/FunctionsManual.cpp``).

Run ``python DRAFT_RULES.py`` to check every entry as it stands: forward against
sympy or mpmath, first and second derivatives (the partials run on Values) against
sympy's, torch's where torch has the function, and each kink convention against
torch's gradient at the kink.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from autograd_scalar import _special
from autograd_scalar._engine import Primitive, Value

# --- cut here: the imports below stand for _rules.py's own globals ------------------
from autograd_scalar._rules import (
    _TWO_OVER_SQRT_PI,
    _is_zero,
    _reciprocal,
    cos,
    exp,
    hypot,
    sigmoid,
    sqrt,
)

DRAFTED: dict[str, Primitive] = {}


def _define(
    name: str,
    fn: Callable[..., Any],
    *partials: Callable[..., Any],
    domain: Callable[..., bool] | None = None,
) -> Any:
    """Shim of the new _define, so the draft runs on today's engine."""
    prim = Primitive(name, fn, partials, domain)
    DRAFTED[name] = prim
    return prim


# --- cut here: what follows goes into _rules.py -------------------------------------

# -- Helpers (numbers and Values alike; decisions by comparison) --------------------

_LN2 = math.log(2)
_LN10 = math.log(10)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)
_SQRT_HALF = math.sqrt(0.5)
_RADIANS_PER_DEGREE = math.pi / 180
_DEGREES_PER_RADIAN = 180 / math.pi


def _is_nan(x: Any) -> bool:
    """x is nan, by comparison (a Value's == is not its data's, yet)."""
    return not x <= x


def _is_pole(x: Any) -> bool:
    """x is 0 or a negative integer: where gamma, lgamma and polygamma blow up."""
    return bool(x <= 0 and x == math.floor(x))


def _edge_reciprocal(t: Any) -> Any:
    """1/t, and +inf at t = 0: the vertical slope at the end of a domain.

    PyTorch gives +inf there too: asin's backward is grad * (1 - x^2).rsqrt() and
    rsqrt(0) = inf (derivatives.yaml, asin/acos/acosh; atanh: grad / (1 - x^2)).
    Python's 1/0.0 would raise instead.
    """
    return math.inf if _is_zero(t) else 1 / t


def _sign(x: Any) -> Any:
    """-1, 0 or 1 (floats for a float x), and nan for nan: numpy's and PyTorch's."""
    if x > 0:
        return 1.0 if isinstance(x, float) else 1
    if x < 0:
        return -1.0 if isinstance(x, float) else -1
    return x  # 0 (keeping -0.0's sign, as numpy), or nan


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


def _round(x: Any) -> Any:
    return round(x)


# -- Hyperbolic and inverse trigonometric -------------------------------------------

cosh: Any  # defined below; sinh and cosh are each other's derivatives
sinh = _define("sinh", math.sinh, lambda ans, x: cosh(x))
cosh = _define("cosh", math.cosh, lambda ans, x: sinh(x))
# sqrt(x^2 + 1) as hypot(x, 1): no overflow past x = 1e154
asinh = _define("asinh", math.asinh, lambda ans, x: 1 / hypot(x, 1))
# (x - 1)(x + 1), not x*x - 1: no cancellation next to the edge x = 1.
# Kink: acosh'(1) = +inf (derivatives.yaml: acosh, grad * (self.pow(2) - 1).rsqrt()).
acosh = _define(
    "acosh",
    math.acosh,
    lambda ans, x: _edge_reciprocal(sqrt(x - 1) * sqrt(x + 1)),
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
# (-self * self + 1).rsqrt()).
asin = _define(
    "asin",
    math.asin,
    lambda ans, x: _edge_reciprocal(sqrt((1 - x) * (1 + x))),
    domain=lambda x: -1 < x < 1,
)
acos = _define(
    "acos",
    math.acos,
    lambda ans, x: -_edge_reciprocal(sqrt((1 - x) * (1 + x))),
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
polygamma: Any  # defined below: digamma's derivative, and its own
digamma: Any
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
    _special.polygamma,
    _no_derivative,
    lambda ans, n, x: polygamma(n + 1, x),
    domain=lambda n, x: type(n) is int and n >= 0 and not _is_pole(x),
)

# -- Piecewise constant: derivative 0 everywhere, as PyTorch ------------------------
# derivatives.yaml: sign, floor, ceil, trunc, round all have "self: zeros_like(grad)"
# -- 0 at the jumps too, never nan. The values are Python's: math.floor gives an int.

sign = _define("sign", _sign, _zero, domain=lambda x: x != 0)
floor = _define("floor", math.floor, _zero, domain=lambda x: x != math.floor(x))
ceil = _define("ceil", math.ceil, _zero, domain=lambda x: x != math.floor(x))
trunc = _define("trunc", math.trunc, _zero, domain=lambda x: x != math.floor(x))
# round(x) rounds half to even and gives an int, as Python's; round(x, n) is the
# same primitive's sibling with an integer input n (no derivative in it).
round_ = _define("round", _round, _zero, domain=lambda x: x - math.floor(x) != 0.5)
round_digits = _define(
    "round_digits",
    round,
    _zero,
    _no_derivative,
    domain=lambda x, n: type(n) is int,
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
mod = _define(
    "mod",
    operator.mod,
    lambda ans, x, y: 1,
    lambda ans, x, y: -floor(x / y),
    domain=lambda x, y: y != 0 and not _jumps(x / y),
)
# x // y is piecewise constant: 0 in both inputs. PyTorch's floor_divide has no
# derivative formula (it is not in derivatives.yaml, so it raises); the 0 is the
# derivative wherever it exists, consistent with floor above.
floordiv = _define(
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
    "softsign", _special.softsign, lambda ans, x: 1 / ((1 + abs(x)) * (1 + abs(x)))
)


def elu(x: Any, alpha: Any = 1.0) -> Any:
    """x for x > 0, alpha (e^x - 1) otherwise; PyTorch's ``elu``.

    >>> elu(-1.0) == math.expm1(-1.0)
    True
    """
    return _elu(x, alpha)


def leaky_relu(x: Any, negative_slope: Any = 0.01) -> Any:
    """x for x > 0, negative_slope * x otherwise; PyTorch's ``leaky_relu``.

    >>> leaky_relu(-2.0)
    -0.02
    """
    return _leaky_relu(x, negative_slope)


# --- cut here: the end of what goes into _rules.py's table ---------------------------

# The names to export at the top level (the functions, not _elu/_leaky_relu).
PUBLIC = [
    "sinh", "cosh", "asinh", "acosh", "atanh", "asin", "acos", "log2", "log10",
    "exp2", "cbrt", "erfc", "lgamma", "digamma", "polygamma", "gamma", "sign",
    "floor", "ceil", "trunc", "fmod", "logaddexp", "logaddexp2", "sinc", "degrees",
    "radians", "fmax", "fmin", "copysign", "gelu", "silu", "elu", "leaky_relu",
    "log_sigmoid", "softsign",
]  # fmt: skip
# mod, floordiv and round are reached through %, //, divmod and round(); _rules may
# export them as mod/floordiv too (numpy's names: remainder, floor_divide).

UNARY_METHODS = [
    sinh, cosh, asinh, acosh, atanh, asin, acos, log2, log10, exp2, cbrt, erfc,
    lgamma, digamma, gamma, sign, floor, ceil, trunc, sinc, degrees, radians, gelu,
    silu, log_sigmoid, softsign,
]  # fmt: skip


def bind_operators(cls: type = Value) -> None:
    """Bind the methods and operators of the new primitives to Value (what _rules.py's
    operator table will do; here a function, so importing the draft changes nothing).

    ``math.floor(v)`` calls ``v.__floor__()``, ``round(v, 2)`` calls
    ``v.__round__(2)``, ``divmod(v, w)`` calls ``v.__divmod__(w)``.
    """
    for prim in UNARY_METHODS:
        method = prim.method()
        method.__name__ = method.__qualname__ = prim.name
        setattr(cls, prim.name, method)
    cls.elu = lambda self, alpha=1.0: _elu(self, alpha)  # type: ignore[attr-defined]
    cls.leaky_relu = (  # type: ignore[attr-defined]
        lambda self, negative_slope=0.01: _leaky_relu(self, negative_slope)
    )
    cls.__floor__ = floor.method()  # type: ignore[attr-defined]
    cls.__ceil__ = ceil.method()  # type: ignore[attr-defined]
    cls.__trunc__ = trunc.method()  # type: ignore[attr-defined]

    def __round__(self: Value, ndigits: int | None = None) -> Value:  # noqa: N807
        return round_(self) if ndigits is None else round_digits(self, ndigits)  # type: ignore[no-any-return]

    cls.__round__ = __round__  # type: ignore[attr-defined]
    for name, prim in (("mod", mod), ("floordiv", floordiv)):
        setattr(cls, f"__{name}__", prim.method())
        setattr(cls, f"__r{name}__", prim.method(reflected=True))

    def __divmod__(self: Value, other: Any) -> Any:  # noqa: N807
        q = self // other
        return NotImplemented if q is NotImplemented else (q, self % other)

    def __rdivmod__(self: Value, other: Any) -> Any:  # noqa: N807
        q = other // self
        return (q, other % self)

    setattr(cls, "__divmod__", __divmod__)  # noqa: B010 -- mypy: cls is any type
    setattr(cls, "__rdivmod__", __rdivmod__)  # noqa: B010


def bind_dual_operators() -> None:
    """The same operators on forward mode's Dual (forward.py binds its operators from
    the table the same way), so that ``%``, ``//``, ``divmod``, ``math.floor`` and
    ``round`` work inside ``jvp`` too."""
    from autograd_scalar import forward

    for prim in (mod, floordiv):
        setattr(forward.Dual, f"__{prim.name}__", forward._operator(prim, False))
        setattr(forward.Dual, f"__r{prim.name}__", forward._operator(prim, True))

    def divmod_(self: Any, other: Any) -> Any:
        return (floordiv(self, other), mod(self, other))

    def rdivmod_(self: Any, other: Any) -> Any:
        return (floordiv(other, self), mod(other, self))

    def round_method(self: Any, ndigits: int | None = None) -> Any:
        return round_(self) if ndigits is None else round_digits(self, ndigits)

    setattr(forward.Dual, "__divmod__", divmod_)  # noqa: B010 -- a dunder of a class
    setattr(forward.Dual, "__rdivmod__", rdivmod_)  # noqa: B010
    setattr(forward.Dual, "__round__", round_method)  # noqa: B010
    for prim in (floor, ceil, trunc):
        setattr(forward.Dual, f"__{prim.name}__", lambda self, p=prim: p(self))


# -------------------------------------------------------------------------------------
# Consumer-owned forms, keyed by primitive name
# -------------------------------------------------------------------------------------

# For the vectorised-replay module: name -> (np -> the forward on arrays). Missing:
# erfc, gamma, lgamma, digamma, polygamma, gelu (numpy has no erf family): those
# replay per element through the primitive's fn (np.vectorize), as erf does today.
NUMPY: dict[str, Callable[[Any], Callable[..., Any]]] = {
    "sinh": lambda np: np.sinh,
    "cosh": lambda np: np.cosh,
    "asinh": lambda np: np.arcsinh,
    "acosh": lambda np: np.arccosh,
    "atanh": lambda np: np.arctanh,
    "asin": lambda np: np.arcsin,
    "acos": lambda np: np.arccos,
    "log2": lambda np: np.log2,
    "log10": lambda np: np.log10,
    "exp2": lambda np: np.exp2,
    "cbrt": lambda np: np.cbrt,
    "sign": lambda np: np.sign,
    "floor": lambda np: np.floor,  # floats where math.floor gives ints: equal values
    "ceil": lambda np: np.ceil,
    "trunc": lambda np: np.trunc,
    "round": lambda np: np.round,  # half to even, as Python's round
    "round_digits": lambda np: np.round,
    "fmod": lambda np: np.fmod,  # C's fmod, as math.fmod
    "mod": lambda np: np.remainder,  # Python's %
    "floordiv": lambda np: np.floor_divide,
    "logaddexp": lambda np: np.logaddexp,
    "logaddexp2": lambda np: np.logaddexp2,
    "sinc": lambda np: np.sinc,  # normalised, as ours
    "degrees": lambda np: np.degrees,
    "radians": lambda np: np.radians,
    "fmax": lambda np: np.fmax,
    "fmin": lambda np: np.fmin,
    "copysign": lambda np: np.copysign,
    # e^-softplus(-x) is sigmoid without overflow, as the table's sigmoid form
    "silu": lambda np: lambda x: x * np.exp(-np.logaddexp(0.0, -x)),
    "elu": lambda np: lambda x, a: np.where(x > 0, x, a * np.expm1(np.minimum(x, 0))),
    "leaky_relu": lambda np: lambda x, s: np.where(x > 0, x, s * x),
    "log_sigmoid": lambda np: lambda x: -np.logaddexp(0.0, -x),
    "softsign": lambda np: lambda x: x / (1 + np.abs(x)),
}

# For viz's sympy table: name -> the forward written in sympy (sympy differentiates
# it on its own, which is what makes it an oracle). ``sp`` is sympy.


def sympy_forms(sp: Any) -> dict[str, Callable[..., Any]]:
    """Every drafted primitive in sympy (a function of the sympy module, as viz's
    _sympy_rules, so that sympy is imported only by its caller)."""
    return {
        "sinh": sp.sinh,
        "cosh": sp.cosh,
        "asinh": sp.asinh,
        "acosh": sp.acosh,
        "atanh": sp.atanh,
        "asin": sp.asin,
        "acos": sp.acos,
        "log2": lambda x: sp.log(x) / sp.log(2),
        "log10": lambda x: sp.log(x) / sp.log(10),
        "exp2": lambda x: 2**x,
        "cbrt": lambda x: sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3),
        "erfc": sp.erfc,
        "gamma": sp.gamma,
        # log|gamma|: loggamma is complex for negative x
        "lgamma": lambda x: sp.log(sp.Abs(sp.gamma(x))),
        "digamma": sp.digamma,
        "polygamma": sp.polygamma,
        "sign": sp.sign,
        "floor": sp.floor,
        "ceil": sp.ceiling,
        "trunc": lambda x: sp.sign(x) * sp.floor(sp.Abs(x)),
        "round": lambda x: sp.floor(x + sp.Rational(1, 2)),  # off the half-integers
        "round_digits": lambda x, n: sp.floor(x * 10**n + sp.Rational(1, 2)) / 10**n,
        "fmod": lambda x, y: x - y * sp.sign(x / y) * sp.floor(sp.Abs(x / y)),
        "mod": lambda x, y: x - y * sp.floor(x / y),
        "floordiv": lambda x, y: sp.floor(x / y),
        "logaddexp": lambda x, y: sp.log(sp.exp(x) + sp.exp(y)),
        "logaddexp2": lambda x, y: sp.log(2**x + 2**y) / sp.log(2),
        "sinc": lambda x: sp.sinc(sp.pi * x),  # sympy's sinc is sin(x)/x
        "degrees": lambda x: x * 180 / sp.pi,
        "radians": lambda x: x * sp.pi / 180,
        "fmax": sp.Max,
        "fmin": sp.Min,
        "copysign": lambda x, y: sp.Abs(x) * sp.sign(y),
        "gelu": lambda x: x * (1 + sp.erf(x / sp.sqrt(2))) / 2,
        "silu": lambda x: x / (1 + sp.exp(-x)),
        "elu": lambda x, a: sp.Piecewise((x, x > 0), (a * (sp.exp(x) - 1), True)),
        "leaky_relu": lambda x, s: sp.Piecewise((x, x > 0), (s * x, True)),
        "log_sigmoid": lambda x: -sp.log(1 + sp.exp(-x)),
        "softsign": lambda x: x / (1 + sp.Abs(x)),
    }


# For tests/test_torch_oracle.py: name -> the torch function (dotted name), or
# "none: <reason>".
TORCH: dict[str, str] = {
    "sinh": "torch.sinh",
    "cosh": "torch.cosh",
    "asinh": "torch.asinh",
    "acosh": "torch.acosh",
    "atanh": "torch.atanh",
    "asin": "torch.asin",
    "acos": "torch.acos",
    "log2": "torch.log2",
    "log10": "torch.log10",
    "exp2": "torch.exp2",
    "cbrt": "none: torch has no cbrt (pow(x, 1/3) is nan for x < 0)",
    "erfc": "torch.erfc",
    "gamma": "none: torch has no gamma (exp(lgamma) loses the sign for x < 0)",
    "lgamma": "torch.lgamma",
    "digamma": "torch.digamma",
    # torch.polygamma(n: int, x), as ours; torch's trigamma is accurate to about 1e-9
    # relative only (at x = 1.054: 1.52409081801 against mpmath's 1.52409081727)
    "polygamma": "torch.polygamma",
    "sign": "torch.sign",
    "floor": "torch.floor",
    "ceil": "torch.ceil",
    "trunc": "torch.trunc",
    "round": "torch.round",
    "round_digits": "torch.round",  # torch.round(x, decimals=n)
    "fmod": "torch.fmod",
    "mod": "torch.remainder",
    "floordiv": "none: torch.floor_divide has no derivative (not in derivatives.yaml)",
    "logaddexp": "torch.logaddexp",
    "logaddexp2": "torch.logaddexp2",
    "sinc": "torch.sinc",
    "degrees": "torch.rad2deg",
    "radians": "torch.deg2rad",
    "fmax": "torch.fmax",
    "fmin": "torch.fmin",
    "copysign": "torch.copysign",
    "gelu": "torch.nn.functional.gelu",
    "silu": "torch.nn.functional.silu",
    "elu": "torch.nn.functional.elu",  # alpha is a float there: compare in x only
    "leaky_relu": "torch.nn.functional.leaky_relu",  # negative_slope: a float
    "log_sigmoid": "torch.nn.functional.logsigmoid",
    "softsign": "torch.nn.functional.softsign",
}

# The kink conventions, as points and expected gradients (each input's), for a
# table-driven test: (name, point, gradient). Checked against torch in the self-check.
KINKS: list[tuple[str, tuple[float, ...], tuple[float, ...]]] = [
    ("sign", (0.0,), (0.0,)),
    ("floor", (2.0,), (0.0,)),
    ("ceil", (2.0,), (0.0,)),
    ("trunc", (-2.0,), (0.0,)),
    ("round", (2.5,), (0.0,)),
    ("fmod", (6.0, 3.0), (1.0, -2.0)),
    ("mod", (-6.0, 3.0), (1.0, 2.0)),
    ("fmax", (1.0, 1.0), (1.0, 0.0)),
    ("fmin", (1.0, 1.0), (1.0, 0.0)),
    ("fmax", (math.nan, 1.0), (0.0, 1.0)),
    ("fmax", (1.0, math.nan), (1.0, 0.0)),
    ("copysign", (0.0, -1.0), (0.0, 0.0)),
    ("copysign", (2.0, -1.0), (-1.0, 0.0)),
    ("elu", (0.0, 1.0), (1.0, 0.0)),
    ("leaky_relu", (0.0, 0.01), (0.01, 0.0)),
    ("acosh", (1.0,), (math.inf,)),
    ("asin", (1.0,), (math.inf,)),
    ("acos", (-1.0,), (-math.inf,)),
    ("cbrt", (0.0,), (math.inf,)),
    ("sinc", (0.0,), (0.0,)),
]


# -------------------------------------------------------------------------------------
# Self-check: python DRAFT_RULES.py
# -------------------------------------------------------------------------------------


def _points(name: str, prim: Primitive, n: int = 12) -> list[tuple[Any, ...]]:
    import random

    rng = random.Random(name)
    found: list[tuple[Any, ...]] = []
    while len(found) < n:
        if name == "polygamma":
            p: tuple[Any, ...] = (rng.randrange(0, 5), rng.uniform(-4, 4))
        elif name == "round_digits":
            p = (rng.uniform(-4, 4), rng.randrange(0, 4))
        else:
            p = tuple(rng.uniform(-4, 4) for _ in range(prim.arity))
        floats = [i for i, v in enumerate(p) if isinstance(v, float)]
        ok = prim.domain is None or all(
            prim.domain(*(q + d if j == i else q for j, q in enumerate(p)))
            for i in floats
            for d in (-0.01, 0.0, 0.01)
        )
        if ok:
            found.append(p)
    return found


def _sympy_float(sp: Any, expr: Any, subs: dict[Any, Any]) -> float:
    """expr at subs, as a float. sympy leaves the derivatives of floor, ceiling and
    sign unevaluated (Derivative, Subs): away from their jumps, where the points lie,
    they are 0."""
    expr = expr.replace(lambda e: isinstance(e, sp.Subs | sp.Derivative), lambda e: 0)
    return float(sp.sympify(expr).evalf(30, subs=subs))


def _self_check() -> None:
    import sympy as sp  # type: ignore[import-untyped]  # no stubs
    import torch

    import autograd_scalar as ag

    bind_operators()
    bind_dual_operators()
    forms = sympy_forms(sp)
    assert set(forms) == set(DRAFTED) == set(TORCH), "every table covers every entry"
    assert set(NUMPY) | {"erfc", "gamma", "lgamma", "digamma", "polygamma", "gelu"} == (
        set(DRAFTED)
    )
    problems = []
    for name, prim in DRAFTED.items():
        integer_inputs = {"polygamma": {0}, "round_digits": {1}}.get(name, set())
        for p in _points(name, prim):
            syms = sp.symbols(f"x0:{len(p)}", real=True)
            args = [p[i] if i in integer_inputs else s for i, s in enumerate(syms)]
            expr = forms[name](*args)
            subs = {s: sp.Float(v, 30) for s, v in zip(syms, p, strict=True)}
            want = _sympy_float(sp, expr, subs)
            got = float(prim(*p))
            if not math.isclose(got, want, rel_tol=1e-11, abs_tol=1e-12):
                problems.append(f"{name}{p}: forward {got} != sympy {want}")
            free = [i for i in range(len(p)) if i not in integer_inputs]
            # first order on floats, second on Values (the partials run on Values)
            for i in free:
                d1 = _sympy_float(sp, sp.diff(expr, syms[i]), subs)
                xs = [Value(v) for v in p]
                out = prim(*xs)
                out.backward(create_graph=True)
                g = xs[i].grad
                gi = g.data if isinstance(g, Value) else g
                if not math.isclose(gi, d1, rel_tol=1e-9, abs_tol=1e-11):
                    problems.append(f"{name}{p}: d/dx{i} {gi} != sympy {d1}")
                for j in free:
                    d2 = _sympy_float(sp, sp.diff(expr, syms[i], syms[j]), subs)
                    ys = [Value(v) for v in p]
                    g = ag.grad(prim, argnums=i)
                    h = ag.grad(g, argnums=j)(*ys)
                    h = h.data if isinstance(h, Value) else h
                    if not math.isclose(h, d2, rel_tol=1e-8, abs_tol=1e-9):
                        problems.append(f"{name}{p}: d2/dx{i}dx{j} {h} != sympy {d2}")
            # torch, first order
            oracle = TORCH[name]
            if oracle.startswith("none") or name == "round_digits":
                continue
            fn: Any = torch
            for part in oracle.split(".")[1:]:
                fn = getattr(fn, part)
            ts = [
                v
                if i in integer_inputs or (name in ("elu", "leaky_relu") and i)
                else torch.tensor(v, dtype=torch.float64, requires_grad=True)
                for i, v in enumerate(p)
            ]
            tout = fn(*ts).detach()
            # torch's trigamma is good to about 1e-9 only (mpmath agrees with ours)
            rel = 1e-8 if name == "polygamma" else 1e-11
            if not math.isclose(
                float(tout), float(prim(*p)), rel_tol=rel, abs_tol=1e-12
            ):
                problems.append(f"{name}{p}: forward != torch {float(tout)}")
    # kinks against torch's gradients
    for name, point, expected in KINKS:
        xs = [Value(v) for v in point]
        DRAFTED[name](*xs).backward()
        ours: tuple[float, ...] = tuple(float(x.grad) for x in xs)
        same = all(
            (math.isnan(a) and math.isnan(b)) or a == b
            for a, b in zip(ours, expected, strict=True)
        )
        if not same:
            problems.append(f"kink {name}{point}: {ours} != {expected}")
        oracle = TORCH[name]
        if oracle.startswith("none"):
            continue
        fn = torch
        for part in oracle.split(".")[1:]:
            fn = getattr(fn, part)
        ts = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in point]
        if name in ("elu", "leaky_relu"):
            tout = fn(ts[0], point[1])
            tg: tuple[float, ...] = (float(torch.autograd.grad(tout, ts[0])[0]),)
            ours = ours[:1]
        else:
            tout = fn(*ts)
            tg = tuple(
                float(t) if t is not None else 0.0
                for t in torch.autograd.grad(tout, ts, allow_unused=True)
            )
        same = all(
            (math.isnan(a) and math.isnan(b)) or a == b
            for a, b in zip(ours, tg, strict=True)
        )
        if not same:
            problems.append(f"kink {name}{point}: ours {ours} vs torch {tg}")
    # Python's own semantics through the dunders
    for v in (2.5, -2.5, 3.0, -0.5, 7.25):
        x: Any = Value(v)  # Any: the operators bound above are not in Value's stubs
        for got_v, want_v in (
            (math.floor(x), math.floor(v)),
            (math.ceil(x), math.ceil(v)),
            (math.trunc(x), math.trunc(v)),
            (round(x), round(v)),
            (round(x, 1), round(v, 1)),
            (x % 2, v % 2),
            (x // 2, v // 2),
            (7 % x, 7 % v),
            (divmod(x, 2)[0], divmod(v, 2)[0]),
        ):
            d = got_v.data
            if d != want_v or type(d) is not type(want_v):
                problems.append(f"python semantics at {v}: {d!r} != {want_v!r}")
    # forward mode: % and // on duals, with the same partials
    value, tangent = ag.jvp(lambda t, u: t % u + t // u, (7.5, 2.0), (1.0, 1.0))
    if (value, tangent) != (7.5 % 2.0 + 7.5 // 2.0, 1.0 - 3.0):
        problems.append(f"jvp of % and //: {(value, tangent)}")
    value, tangent = ag.jvp(lambda t: math.floor(t) * t, (2.5,), (1.0,))
    if (value, tangent) != (5.0, 2.0):
        problems.append(f"jvp of floor(t) * t: {(value, tangent)}")
    # sinc: the series branch is right at second order at 0, beside the closed form
    h = ag.grad(ag.grad(lambda t: sinc(t)))(Value(0.0))
    if not math.isclose(h.data, -(math.pi**2) / 3, rel_tol=1e-14):
        problems.append(f"sinc''(0) = {h.data}")
    print("\n".join(problems) or f"all {len(DRAFTED)} drafted primitives check out")


if __name__ == "__main__":
    _self_check()
