"""The standard library's ``math`` module, differentiable.

``from autograd_scalar import math`` and code written for the standard ``math`` keeps
working: on plain numbers every function returns exactly what the standard module
returns (it *is* the standard function then), and where an argument is a ``Value``
(or a forward-mode dual) the differentiable functions record the graph through the
package's primitives instead of silently returning a float.

>>> from autograd_scalar import Value
>>> from autograd_scalar import math
>>> x = Value(0.5)
>>> y = math.sin(x) * math.exp(x)
>>> y.backward()
>>> round(x.grad, 12) == round((math.cos(0.5) + math.sin(0.5)) * math.exp(0.5), 12)
True
>>> math.sin(0.5) == __import__("math").sin(0.5)
True

The functions fall in four kinds:

- differentiable (``sin``, ``exp``, ``log``, ``pow``, ``hypot``, ``dist``, ``fsum``,
  ``prod``, ...): a Value in, a Value out, with its gradient. Those that round
  specially (``fsum``, ``dist``, ``hypot`` of many points, ``remainder``, ``sumprod``,
  ``fma``) give a Value whose data is exactly the standard result;
- rounding to integers (``floor``, ``ceil``, ``trunc``): the standard functions, which
  call the Value's ``__floor__``, ``__ceil__``, ``__trunc__``;
- predicates and functions of the number only (``isnan``, ``isclose``, ``ulp``,
  ``nextafter``) and integer functions (``gcd``, ``comb``, ``factorial``, ``isqrt``,
  ...): computed on the data, with the standard errors for data they do not take
  (``math.gcd(Value(2.5))`` is the same ``TypeError`` as ``math.gcd(2.5)``);
- the constants ``pi``, ``e``, ``tau``, ``inf``, ``nan``.

Each differentiable function looks its primitive up in ``autograd_scalar`` when it is
called; a function whose primitive the package does not have raises
``NotImplementedError`` naming it (for a Value; plain numbers always work).
"""

from __future__ import annotations

import math as _math
import operator as _operator
from collections.abc import Callable as _Callable
from collections.abc import Iterable as _Iterable
from fractions import Fraction as _Fraction
from typing import Any as _Any

from ._engine import Value as _Value

__all__ = [
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cbrt", "ceil",
    "comb", "copysign", "cos", "cosh", "degrees", "dist", "e", "erf", "erfc", "exp",
    "exp2", "expm1", "fabs", "factorial", "floor", "fma", "fmod", "frexp", "fsum",
    "gamma", "gcd", "hypot", "inf", "isclose", "isfinite", "isinf", "isnan",
    "isqrt", "lcm", "ldexp", "lgamma", "log", "log1p", "log2", "log10", "modf", "nan",
    "nextafter", "perm", "pi", "pow", "prod", "radians", "remainder", "sin", "sinh",
    "sqrt", "sumprod", "tan", "tanh", "tau", "trunc", "ulp",
]  # fmt: skip

pi = _math.pi
e = _math.e
tau = _math.tau
inf = _math.inf
nan = _math.nan


# -------------------------------------------------------------------------------------
# Dispatch
# -------------------------------------------------------------------------------------


def _lifted(x: object) -> bool:
    """x records a graph: a Value, or a type that applies primitives itself (a dual)."""
    return isinstance(x, _Value) or hasattr(type(x), "__apply_primitive__")


def _primitive(name: str) -> _Any:
    """The package's function ``name``, looked up now (so one added later is found)."""
    import autograd_scalar

    found = getattr(autograd_scalar, name, None)
    if found is None:
        found = autograd_scalar.registered().get(name)
    if found is None:
        raise NotImplementedError(
            f"math.{name}() of a Value: autograd_scalar has no primitive {name!r}"
        )
    return found


def _plain(x: _Any) -> _Any:
    """The number inside a Value or dual; anything else as it is.

    Reading a Value's number is a decision on its data (a traced function records a
    guard on it), made through ``int()`` or ``float()`` as the data's type asks.
    """
    while _lifted(x):
        if isinstance(x, _Value):
            data = x.data
            (x.__int__ if type(data) is int else x.__float__)()
            x = data
        else:
            x = x.primal  # a forward-mode Dual: the number inside
    return x


def _exactly(out: _Any, exact: _Any) -> _Any:
    """``out`` (a Value) with its data replaced by ``exact``, its gradient unchanged.

    ``(out - out.data) + exact``: the first node's data is exactly 0 and the second's
    exactly ``exact``; both pass the gradient through unchanged. Used where the
    standard function rounds more carefully than the graph's arithmetic (``fsum``).
    """
    if not isinstance(out, _Value) or out.data == exact:
        return out
    if not (_math.isfinite(out.data) and _math.isfinite(exact)):
        return out
    return (out - out.data) + exact


def _unary(name: str, fallback: _Callable[[_Any], _Any] | None = None) -> _Any:
    """The math function ``name``: the standard one on numbers, the primitive on a
    Value (or ``fallback``, an exact composition, while the primitive is missing)."""
    standard = getattr(_math, name)

    def function(x: _Any) -> _Any:
        if not _lifted(x):
            return standard(x)
        if fallback is not None:
            try:
                return _primitive(name)(x)
            except NotImplementedError:
                return fallback(x)
        return _primitive(name)(x)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"``math.{name}(x)``, recording the graph when ``x`` is a Value.\n\n"
        f"The standard function: {standard.__doc__}"
    )
    return function


def _binary(name: str) -> _Any:
    standard = getattr(_math, name)

    def function(x: _Any, y: _Any) -> _Any:
        if not (_lifted(x) or _lifted(y)):
            return standard(x, y)
        return _primitive(name)(x, y)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"``math.{name}(x, y)``, recording the graph when an argument is a Value.\n\n"
        f"The standard function: {standard.__doc__}"
    )
    return function


# -------------------------------------------------------------------------------------
# Differentiable: one primitive each
# -------------------------------------------------------------------------------------

acos = _unary("acos")
acosh = _unary("acosh")
asin = _unary("asin")
asinh = _unary("asinh")
atan = _unary("atan")
atanh = _unary("atanh")
cbrt = _unary("cbrt")
cos = _unary("cos")
cosh = _unary("cosh")
erf = _unary("erf")
erfc = _unary("erfc")
exp = _unary("exp")
exp2 = _unary("exp2")
expm1 = _unary("expm1")
gamma = _unary("gamma")
lgamma = _unary("lgamma")
log1p = _unary("log1p")
log2 = _unary("log2")
log10 = _unary("log10")
sin = _unary("sin")
sinh = _unary("sinh")
sqrt = _unary("sqrt")
tan = _unary("tan")
tanh = _unary("tanh")
# math.degrees(x) is x * (180/pi) and math.radians(x) is x * (pi/180), rounded once:
# the same products give the same data while the primitives are missing.
degrees = _unary("degrees", lambda x: x * (180.0 / _math.pi))
radians = _unary("radians", lambda x: x * (_math.pi / 180.0))
fabs = _unary("fabs", abs)  # a Value's abs; its data keeps an int an int
atan2 = _binary("atan2")
copysign = _binary("copysign")
fmod = _binary("fmod")


def log(x: _Any, base: _Any = None) -> _Any:
    """``math.log(x[, base])``: the natural logarithm, or log(x)/log(base).

    >>> log(8.0, 2)
    3.0
    """
    if not (_lifted(x) or _lifted(base)):
        return _math.log(x) if base is None else _math.log(x, base)
    ln = _primitive("log")
    if base is None:
        return ln(x)
    return ln(x) / (ln(base) if _lifted(base) else _math.log(base))


def pow(x: _Any, y: _Any) -> _Any:  # math's name: shadows the builtin in here
    """``math.pow(x, y)``: x**y, where a negative x with a fractional y, or 0 to a
    negative power, is a ``ValueError`` (Python's ``**`` gives a complex number or
    raises ``ZeroDivisionError``).

    >>> pow(2, 10)
    1024.0
    """
    if not (_lifted(x) or _lifted(y)):
        return _math.pow(x, y)
    try:
        return x**y
    except ZeroDivisionError:
        raise ValueError(
            f"math.pow({_plain(x)!r}, {_plain(y)!r}): math domain error"
        ) from None


def hypot(*coordinates: _Any) -> _Any:
    """``math.hypot(*coordinates)``: the Euclidean norm, of any number of coordinates.

    On Values it is a chain of the two-input ``hypot`` primitive (no overflow, a
    zero gradient at the origin), with the standard function's data.

    >>> hypot(3, 4, 12)
    13.0
    """
    if not any(_lifted(c) for c in coordinates):
        return _math.hypot(*coordinates)
    two = _primitive("hypot")
    out: _Any = 0.0
    for c in coordinates:
        out = two(out, c)
    return _exactly(out, _math.hypot(*(_plain(c) for c in coordinates)))


def dist(p: _Iterable[_Any], q: _Iterable[_Any]) -> _Any:
    """``math.dist(p, q)``: the Euclidean distance between two points.

    >>> dist((0, 0), (3, 4))
    5.0
    """
    p, q = tuple(p), tuple(q)
    if not any(_lifted(c) for c in (*p, *q)):
        return _math.dist(p, q)
    exact = _math.dist([_plain(c) for c in p], [_plain(c) for c in q])  # its errors
    return _exactly(hypot(*(a - b for a, b in zip(p, q, strict=True))), exact)


def remainder(x: _Any, y: _Any) -> _Any:
    """``math.remainder(x, y)``: IEEE's remainder x - n*y, n the integer nearest x/y
    (ties to even). Not Python's ``%``: its derivative in y is -n.

    >>> remainder(7.0, 2.0), remainder(5.0, 2.0)
    (-1.0, 1.0)
    """
    if not (_lifted(x) or _lifted(y)):
        return _math.remainder(x, y)
    xd, yd = _plain(x), _plain(y)
    exact = _math.remainder(xd, yd)  # its errors (y = 0, x infinite)
    if _math.isinf(yd):  # x itself, for a finite x: constant in y
        return x if _lifted(x) else exact
    n = round((xd - exact) / yd)  # an integer, exactly, to within rounding
    return _exactly(x - n * y, exact)


def ldexp(x: _Any, i: _Any) -> _Any:
    """``math.ldexp(x, i)``: x * 2**i, exact; ``i`` an integer.

    >>> ldexp(0.75, 4)
    12.0
    """
    if not (_lifted(x) or _lifted(i)):
        return _math.ldexp(x, i)
    i = _plain(i)
    exact = _math.ldexp(_plain(x), i)  # its errors: a float i, overflow
    if not _lifted(x):
        return exact
    half = i // 2  # in two steps: 2**i alone may overflow where x * 2**i does not
    return _exactly(x * _math.ldexp(1.0, half) * _math.ldexp(1.0, i - half), exact)


def frexp(x: _Any) -> tuple[_Any, int]:
    """``math.frexp(x)``: (m, k) with x = m * 2**k, 0.5 <= |m| < 1; on a Value, m is a
    Value (x scaled, exactly) and k an int.

    >>> frexp(12.0)
    (0.75, 4)
    """
    if not _lifted(x):
        return _math.frexp(x)
    m, k = _math.frexp(_plain(x))
    return _exactly(ldexp(x, -k), m), k


def modf(x: _Any) -> tuple[_Any, _Any]:
    """``math.modf(x)``: the fractional and integer parts, both with x's sign.

    On a Value both are Values: the fractional part has derivative 1, the integer
    part 0. For an infinite or nan x they are the standard (plain) results.

    >>> modf(-2.5)
    (-0.5, -2.0)
    """
    if not _lifted(x):
        return _math.modf(x)
    fraction, whole = _math.modf(_plain(x))
    if not _math.isfinite(whole):
        return fraction, whole
    part = x - whole  # exactly the fraction: whole is x with its low bits cleared
    return _exactly(part, fraction), _exactly(x - part, whole)


def fsum(iterable: _Iterable[_Any]) -> _Any:
    """``math.fsum(iterable)``: the correctly rounded sum.

    On Values, the sum's gradient is 1 for each term and its data exactly the
    standard ``fsum`` of the data.

    >>> fsum([0.1] * 10)
    1.0
    """
    terms = list(iterable)
    if not any(_lifted(t) for t in terms):
        return _math.fsum(terms)
    exact = _math.fsum(_plain(t) for t in terms)
    out: _Any = 0.0
    for t in terms:
        out = out + t
    return _exactly(out, exact)


def prod(iterable: _Iterable[_Any], *, start: _Any = 1) -> _Any:
    """``math.prod(iterable, start=1)``: start times each term, in order.

    >>> prod([2, 3, 4])
    24
    """
    terms = list(iterable)
    if not (_lifted(start) or any(_lifted(t) for t in terms)):
        return _math.prod(terms, start=start)
    out = start
    for t in terms:
        out = out * t
    return out


def sumprod(p: _Iterable[_Any], q: _Iterable[_Any]) -> _Any:
    """``math.sumprod(p, q)`` (Python 3.12's): the sum of the products p[i] * q[i].

    On Python 3.11, where ``math`` has no ``sumprod``, plain numbers are summed as
    ``sum(map(operator.mul, p, q))``; on Values the data is the standard result.
    Inputs of different lengths are a ``ValueError``.

    >>> sumprod([1, 2, 3], [4, 5, 6])
    32
    """
    p, q = tuple(p), tuple(q)
    if len(p) != len(q):
        raise ValueError("Inputs are not the same length")
    standard = getattr(_math, "sumprod", None)
    if not any(_lifted(c) for c in (*p, *q)):
        if standard is not None:
            return standard(p, q)
        return sum(map(_operator.mul, p, q))
    out: _Any = 0
    for a, b in zip(p, q, strict=True):
        out = out + a * b
    if standard is None:
        return out
    return _exactly(out, standard([_plain(a) for a in p], [_plain(b) for b in q]))


def _fma_numbers(x: _Any, y: _Any, z: _Any) -> _Any:
    """x * y + z rounded once (Python 3.13's math.fma; exact rationals before)."""
    standard = getattr(_math, "fma", None)
    if standard is not None:
        return standard(x, y, z)
    x, y, z = float(x), float(y), float(z)
    if not all(_math.isfinite(v) for v in (x, y, z)):
        return x * y + z
    return float(_Fraction(x) * _Fraction(y) + _Fraction(z))


def fma(x: _Any, y: _Any, z: _Any) -> _Any:
    """``math.fma(x, y, z)`` (Python 3.13's): x * y + z with a single rounding.

    >>> fma(0.1, 10.0, -1.0)  # x * y + z gives 0.0: 0.1 * 10 rounds to 1.0
    5.551115123125783e-17
    """
    if not (_lifted(x) or _lifted(y) or _lifted(z)):
        return _fma_numbers(x, y, z)
    return _exactly(x * y + z, _fma_numbers(_plain(x), _plain(y), _plain(z)))


# -------------------------------------------------------------------------------------
# Rounding to integers: the standard functions call the Value's own methods
# -------------------------------------------------------------------------------------


def floor(x: _Any) -> _Any:
    """``math.floor(x)``: what ``x.__floor__()`` gives (for a Value: a Value whose
    data is the int ``math.floor`` gives for its data, with derivative 0).

    >>> floor(-2.5)
    -3
    """
    return _math.floor(x)


def ceil(x: _Any) -> _Any:
    """``math.ceil(x)``: what ``x.__ceil__()`` gives.

    >>> ceil(-2.5)
    -2
    """
    return _math.ceil(x)


def trunc(x: _Any) -> _Any:
    """``math.trunc(x)``: what ``x.__trunc__()`` gives.

    >>> trunc(-2.5)
    -2
    """
    return _math.trunc(x)


# -------------------------------------------------------------------------------------
# Predicates and functions of the number: decided by comparisons or on the data
# -------------------------------------------------------------------------------------


def isnan(x: _Any) -> bool:
    """``math.isnan(x)``; on a Value, decided by a comparison (nan <= nan is False).

    >>> isnan(float("nan")), isnan(1.0)
    (True, False)
    """
    if not _lifted(x):
        return _math.isnan(x)
    return not x <= x


def isinf(x: _Any) -> bool:
    """``math.isinf(x)``; on a Value, decided by comparisons.

    >>> isinf(-inf), isinf(1e308)
    (True, False)
    """
    if not _lifted(x):
        return _math.isinf(x)
    return bool(x >= _math.inf or x <= -_math.inf)


def isfinite(x: _Any) -> bool:
    """``math.isfinite(x)``; on a Value, decided by comparisons.

    >>> isfinite(1.0), isfinite(nan)
    (True, False)
    """
    if not _lifted(x):
        return _math.isfinite(x)
    return bool(-_math.inf < x < _math.inf)


def isclose(a: _Any, b: _Any, *, rel_tol: float = 1e-09, abs_tol: float = 0.0) -> bool:
    """``math.isclose(a, b, rel_tol=1e-09, abs_tol=0.0)``, on the data.

    >>> isclose(1.0, 1.0 + 1e-12)
    True
    """
    return _math.isclose(_plain(a), _plain(b), rel_tol=rel_tol, abs_tol=abs_tol)


def ulp(x: _Any) -> float:
    """``math.ulp(x)``: the gap from |x| to the next float, on the data.

    >>> ulp(1.0) == 2.0**-52
    True
    """
    return _math.ulp(_plain(x))


def nextafter(x: _Any, y: _Any, **kwargs: _Any) -> float:
    """``math.nextafter(x, y)``: the next float after x towards y, on the data
    (Python 3.12's ``steps=`` is passed on).

    >>> nextafter(1.0, 2.0) == 1.0 + 2.0**-52
    True
    """
    return _math.nextafter(_plain(x), _plain(y), **kwargs)


def _on_data(name: str) -> _Any:
    """The integer function ``name`` on the data; the standard errors otherwise."""
    standard = getattr(_math, name)

    def function(*args: _Any) -> _Any:
        return standard(*(_plain(a) for a in args))

    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"``math.{name}``, on the data of Values (an integer function: no "
        f"derivative).\n\nThe standard function: {standard.__doc__}"
    )
    return function


comb = _on_data("comb")
factorial = _on_data("factorial")
gcd = _on_data("gcd")
isqrt = _on_data("isqrt")
lcm = _on_data("lcm")
perm = _on_data("perm")
