"""Special functions on plain floats, standard library only.

The forwards of the rule table's special functions and activations: what ``math``
lacks (``digamma``, ``polygamma``, ``sinc``, the stable ``logaddexp`` and
``log_sigmoid``, numpy's ``fmax``/``fmin``, the activations), and thin wrappers of
what it has, so that every error names the function and the value it was given.
Nothing here knows about ``Value``: these take and return numbers.

>>> round(digamma(1.0), 15)  # minus the Euler-Mascheroni constant
-0.577215664901533
>>> math.isclose(polygamma(1, 1.0), math.pi**2 / 6, rel_tol=1e-15)
True
"""

from __future__ import annotations

import math
import operator
from functools import cache

__all__ = [
    "cbrt",
    "copysign",
    "digamma",
    "elu",
    "erfc",
    "exp2",
    "fmax",
    "fmin",
    "gamma",
    "gelu",
    "leaky_relu",
    "lgamma",
    "log_sigmoid",
    "logaddexp",
    "logaddexp2",
    "polygamma",
    "silu",
    "sinc",
    "softsign",
]

# -------------------------------------------------------------------------------------
# The gamma family
# -------------------------------------------------------------------------------------


def _is_pole(x: float) -> bool:
    """x is 0 or a negative integer, where gamma and its derivatives blow up."""
    return x <= 0 and x == math.floor(x)


def gamma(x: float) -> float:
    """The gamma function, ``math.gamma`` with errors that name the value.

    >>> gamma(5.0)
    24.0
    """
    try:
        return math.gamma(x)
    except ValueError:
        raise ValueError(f"gamma({x!r}): pole at a non-positive integer") from None
    except OverflowError:
        raise OverflowError(f"gamma({x!r}): result too large for a float") from None


def lgamma(x: float) -> float:
    """log|gamma(x)|, ``math.lgamma`` with errors that name the value.

    >>> lgamma(1.0)
    0.0
    """
    try:
        return math.lgamma(x)
    except ValueError:
        raise ValueError(f"lgamma({x!r}): pole at a non-positive integer") from None


# B_2, B_4, ..., B_30: the asymptotic series of polygamma needs no more (its terms are
# below 1e-20 of the sum from x >= _ASYMPTOTIC on, for every order up to 40).
# (numerator, denominator): exact, turned into Fractions when first needed
_BERNOULLI = [
    (1, 6),
    (-1, 30),
    (1, 42),
    (-1, 30),
    (5, 66),
    (-691, 2730),
    (7, 6),
    (-3617, 510),
    (43867, 798),
    (-174611, 330),
    (854513, 138),
    (-236364091, 2730),
    (8553103, 6),
    (-23749461029, 870),
    (8615841276005, 14322),
]
_ASYMPTOTIC = 20.0  # shift x up by the recurrence to at least this


def _parity(n: int) -> int:
    """(-1)^n, as an int."""
    return -1 if n % 2 else 1


@cache
def _asymptotic_coefficients(n: int) -> tuple[float, ...]:
    """c_k with psi^(n)(x) ~ (-1)^(n+1) [... + sum_k c_k / x^(2k+n)], k = 1, 2, ...

    c_k = B_2k (2k+n-1)! / (2k)!  (for n = 0: B_2k / (2k), with the sign folded in).
    """
    from fractions import Fraction  # here: fractions imports decimal (slow)

    bernoulli = [Fraction(*b) for b in _BERNOULLI]
    if n == 0:
        return tuple(float(-b / (2 * k)) for k, b in enumerate(bernoulli, 1))
    return tuple(
        float(b * math.factorial(2 * k + n - 1) / math.factorial(2 * k))
        for k, b in enumerate(bernoulli, 1)
    )


def _polygamma_large(n: int, x: float) -> float:
    """psi^(n)(x) for x >= _ASYMPTOTIC (or infinite), by the asymptotic series."""
    inv = 1 / x
    inv2 = inv * inv
    coefficients = _asymptotic_coefficients(n)
    series = 0.0
    for c in reversed(coefficients):  # Horner in 1/x^2
        series = (series + c) * inv2
    if n == 0:
        # psi(x) ~ log x - 1/(2x) - sum B_2k / (2k x^2k)
        return math.log(x) - 0.5 * inv + series
    # psi^(n)(x) ~ (-1)^(n+1) [(n-1)!/x^n + n!/(2 x^(n+1)) + sum c_k / x^(2k+n)]
    xn = inv**n
    head = math.factorial(n - 1) + math.factorial(n) * 0.5 * inv
    return -_parity(n) * xn * (head + series)


@cache
def _cot_derivative(n: int) -> tuple[int, ...]:
    """Coefficients (lowest first) of P_n with d^n/dy^n cot(y) = P_n(cot y).

    From d/dy cot y = -(1 + cot^2 y): P_0(c) = c, P_(k+1)(c) = -(1 + c^2) P_k'(c).
    """
    poly = [0, 1]
    for _ in range(n):
        derivative = [i * a for i, a in enumerate(poly)][1:] or [0]
        nxt = [0] * (len(derivative) + 2)
        for i, a in enumerate(derivative):
            nxt[i] -= a
            nxt[i + 2] -= a
        poly = nxt
    return tuple(poly)


def _cot_pi_derivative(n: int, x: float) -> float:
    """d^n/dx^n cot(pi x), x not an integer."""
    r = x - round(x)  # exact, in [-1/2, 1/2]: cot(pi x) has period 1
    # cos(pi r) as sin(pi (1/2 - |r|)): exactly 0 at r = 1/2 (math.cos(pi/2) is 6e-17,
    # which would swamp the small values of psi^(n) at the half-integers)
    c = math.sin(math.pi * (0.5 - abs(r))) / math.sin(math.pi * r)
    value = 0.0
    for a in reversed(_cot_derivative(n)):
        value = value * c + a
    return math.pi**n * value


def polygamma(n: int, x: float) -> float:
    """psi^(n)(x), the n-th derivative of digamma (``polygamma(0, x)`` is digamma).

    ``n`` is an integer >= 0 and ``x`` a real number other than 0 and the negative
    integers (the poles: a ``ValueError``). Accurate to 1e-12 relative for x in
    [-20, 100] and n up to 6 (tested against mpmath), except right at the zeros of
    psi^(n), where the error is about 1e-16 absolute.

    Negative x go through the reflection formula, positive x are shifted above 20 by
    the recurrence psi^(n)(x) = psi^(n)(x+1) - (-1)^n n!/x^(n+1), and there the
    asymptotic series in Bernoulli numbers converges fast.

    >>> math.isclose(polygamma(1, 0.5), math.pi**2 / 2, rel_tol=1e-15)
    True
    >>> polygamma(2, -1.5) == polygamma(2, 2.5)  # psi'' at a half-integer: reflection
    True
    """
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(
            f"polygamma({n!r}, {x!r}): the order n must be an integer"
        ) from None
    if n < 0:
        raise ValueError(f"polygamma({n}, {x!r}): the order n must be >= 0")
    x = float(x)
    name = "digamma" if n == 0 else "polygamma"
    where = f"{name}({x!r})" if n == 0 else f"polygamma({n}, {x!r})"
    if math.isnan(x):
        return x
    if x == math.inf:
        return x if n == 0 else 0.0
    if x == -math.inf:
        raise ValueError(f"{where}: no limit at -inf (poles at every negative integer)")
    if _is_pole(x):
        raise ValueError(f"{where}: pole at a non-positive integer")
    try:
        if x < 0:
            # psi^(n)(1-x) + (-1)^(n+1) psi^(n)(x) = (-1)^n pi d^n/dx^n cot(pi x)
            reflected = _polygamma_positive(n, 1 - x)
            value = -math.pi * _cot_pi_derivative(n, x) + _parity(n) * reflected
        else:
            value = _polygamma_positive(n, x)
    except (OverflowError, ZeroDivisionError):
        value = math.inf
    if math.isinf(value):
        raise OverflowError(f"{where}: result too large for a float")
    return value


def _polygamma_positive(n: int, x: float) -> float:
    """psi^(n)(x) for x > 0: the recurrence up to _ASYMPTOTIC, then the series."""
    shift = 0.0
    sign_factorial = _parity(n) * math.factorial(n)
    while x < _ASYMPTOTIC:
        # the terms shrink as x grows: adding the smallest last loses least
        shift += sign_factorial / x ** (n + 1)
        x += 1.0
    return _polygamma_large(n, x) - shift


def digamma(x: float) -> float:
    """psi(x) = d/dx lgamma(x), the logarithmic derivative of gamma.

    Poles (0 and the negative integers) raise ``ValueError``.

    >>> math.isclose(digamma(0.5), -0.5772156649015329 - 2 * math.log(2))
    True
    """
    return polygamma(0, x)


# -------------------------------------------------------------------------------------
# Elementary functions math lacks (or has under another spelling)
# -------------------------------------------------------------------------------------


def erfc(x: float) -> float:
    """1 - erf(x), without the cancellation for large x (``math.erfc``).

    >>> erfc(0.0)
    1.0
    """
    return math.erfc(x)


def cbrt(x: float) -> float:
    """The real cube root, negative for a negative x, exact for perfect cubes.

    >>> cbrt(-27.0), cbrt(27)
    (-3.0, 3.0)
    """
    r = math.cbrt(x)
    if 1e-300 < abs(r) < 1e100:
        r -= (r * r * r - x) / (3 * r * r)  # one Newton step: math.cbrt(27) is 3+ulp
    return r


def exp2(x: float) -> float:
    """2**x (``math.exp2``); overflow raises ``OverflowError`` naming the value.

    >>> exp2(10.0)
    1024.0
    """
    try:
        return math.exp2(x)
    except OverflowError:
        raise OverflowError(f"exp2({x!r}): result too large for a float") from None


def _sinpi(x: float) -> float:
    """sin(pi x), exactly 0 at the integers (numpy's sinc is 3.9e-17 at 1)."""
    r = math.fmod(x, 2.0)  # exact; sin(pi x) has period 2
    if r == math.floor(r):
        return 0.0
    return math.sin(math.pi * r)


# sinc(x) = sum_k (-1)^k (pi x)^(2k) / (2k+1)!: below this |x|, 9 terms reach 1e-20.
_SINC_SERIES = 0.25
_SINC_COEFFICIENTS = tuple(
    (-1) ** k * math.pi ** (2 * k) / math.factorial(2 * k + 1) for k in range(9)
)


def sinc(x: float) -> float:
    """The normalised sinc, sin(pi x) / (pi x), and 1 at 0 (numpy's ``np.sinc``).

    >>> sinc(0.0), sinc(1.0), sinc(0.5) == 2 / math.pi
    (1.0, 0.0, True)
    """
    if abs(x) < _SINC_SERIES:
        x2 = x * x
        value = 0.0
        for c in reversed(_SINC_COEFFICIENTS):
            value = value * x2 + c
        return value
    if math.isinf(x):
        return 0.0
    return _sinpi(x) / (math.pi * x)


def logaddexp(x: float, y: float) -> float:
    """log(e^x + e^y) without overflow (numpy's ``np.logaddexp``).

    >>> logaddexp(1000.0, 1000.0) == 1000 + math.log(2)
    True
    """
    if x == y:  # both infinite of one sign too, where x - y would be nan
        return x + math.log(2)
    big, small = (x, y) if x > y else (y, x)
    if math.isnan(big) or math.isnan(small):
        return math.nan
    return big + math.log1p(math.exp(small - big))


def logaddexp2(x: float, y: float) -> float:
    """log2(2^x + 2^y) without overflow (numpy's ``np.logaddexp2``).

    >>> logaddexp2(3.0, 3.0)
    4.0
    """
    if x == y:
        return x + 1.0
    big, small = (x, y) if x > y else (y, x)
    if math.isnan(big) or math.isnan(small):
        return math.nan
    return big + math.log1p(math.exp2(small - big)) / math.log(2)


def fmax(x: float, y: float) -> float:
    """The larger of x and y, ignoring a nan operand (numpy's ``np.fmax``).

    >>> fmax(1.0, math.nan), fmax(1.0, 2.0)
    (1.0, 2.0)
    """
    if y != y:
        return x
    if x != x:
        return y
    return x if x >= y else y


def fmin(x: float, y: float) -> float:
    """The smaller of x and y, ignoring a nan operand (numpy's ``np.fmin``).

    >>> fmin(math.nan, 1.0), fmin(1.0, 2.0)
    (1.0, 1.0)
    """
    if y != y:
        return x
    if x != x:
        return y
    return x if x <= y else y


def copysign(x: float, y: float) -> float:
    """|x| with the sign of y (``math.copysign``; -0.0 counts as negative).

    >>> copysign(2.0, -0.0)
    -2.0
    """
    return math.copysign(x, y)


# -------------------------------------------------------------------------------------
# Activations
# -------------------------------------------------------------------------------------

_SQRT_HALF = math.sqrt(0.5)


def gelu(x: float) -> float:
    """x Phi(x), Phi the standard normal CDF (PyTorch's exact, erf-based GELU).

    Phi is written with erfc, which keeps its small values for negative x.

    >>> gelu(0.0), math.isclose(gelu(1.0), 0.5 * (1 + math.erf(1 / math.sqrt(2))))
    (0.0, True)
    """
    return x * 0.5 * math.erfc(-x * _SQRT_HALF)


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1 / (1 + math.exp(-x))
    e = math.exp(x)
    return e / (1 + e)


def silu(x: float) -> float:
    """x sigmoid(x), the SiLU or swish (no overflow at x = -1000).

    >>> silu(0.0)
    0.0
    """
    return x * _sigmoid(x)


def elu(x: float, alpha: float = 1.0) -> float:
    """x for x > 0, alpha (e^x - 1) otherwise (PyTorch's ``elu``).

    >>> elu(2.0), elu(-1.0) == math.expm1(-1)
    (2.0, True)
    """
    return x if x > 0 or x != x else alpha * math.expm1(x)


def leaky_relu(x: float, negative_slope: float = 0.01) -> float:
    """x for x > 0, negative_slope * x otherwise (PyTorch's ``leaky_relu``).

    >>> leaky_relu(2.0), leaky_relu(-2.0)
    (2.0, -0.02)
    """
    return x if x > 0 or x != x else negative_slope * x


def log_sigmoid(x: float) -> float:
    """log(sigmoid(x)) = -softplus(-x), without overflow or log(0) at either end.

    >>> log_sigmoid(0.0) == -math.log(2), log_sigmoid(-1000.0)
    (True, -1000.0)
    """
    # -log(1 + e^-x) = min(x, 0) - log1p(e^-|x|)
    return min(x, 0.0) - math.log1p(math.exp(-abs(x)))


def softsign(x: float) -> float:
    """x / (1 + |x|).

    >>> softsign(1.0), softsign(-3.0)
    (0.5, -0.75)
    """
    return x / (1 + abs(x))
