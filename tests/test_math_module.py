"""autograd_scalar.math: a drop-in for the standard library's math, differentiable.

On plain numbers every function must return exactly what the standard ``math``
returns (same value, same type, same errors); on Values the differentiable ones record
the graph, with gradients checked against central differences of the standard
function.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest

import autograd_scalar as ag
from autograd_scalar import Value, jvp
from autograd_scalar import math as am

STANDARD = {name for name in dir(math) if not name.startswith("_")}
# Newer Pythons' math functions, provided on every version.
LATER = {"sumprod", "fma"}


def has_primitive(name: str) -> bool:
    """The package can record ``name`` of a Value today."""
    return hasattr(ag, name) or name in ag.registered()


def needs(name: str) -> None:
    """The primitive ``name`` exists: every differentiable math function has one."""
    assert has_primitive(name), f"autograd_scalar has no primitive {name!r}"


def same(got: Any, want: Any) -> bool:
    """Equal values of the same type, nan equal to nan, tuples elementwise."""
    if isinstance(want, tuple):
        return (
            isinstance(got, tuple)
            and len(got) == len(want)
            and all(same(g, w) for g, w in zip(got, want, strict=True))
        )
    if type(got) is not type(want):
        return False
    if isinstance(want, float) and math.isnan(want):
        return math.isnan(got)
    return bool(got == want)


def central_difference(f: Callable[..., float], args: list[float], i: int) -> float:
    """d f / d args[i] by a central difference of step 1e-6 (relative)."""
    h = 1e-6 * max(1.0, abs(args[i]))
    up = [a + h if j == i else a for j, a in enumerate(args)]
    down = [a - h if j == i else a for j, a in enumerate(args)]
    return (f(*up) - f(*down)) / (2 * h)


class TestSurface:
    """The module has every name of the standard math module, and its constants."""

    def test_every_standard_name_is_there(self) -> None:
        """dir(math) (without dunders) is contained in dir(autograd_scalar.math)."""
        assert STANDARD - set(dir(am)) == set()

    def test_all_lists_the_standard_names(self) -> None:
        """__all__ is math's public names plus those of later Pythons."""
        assert set(am.__all__) == STANDARD | LATER

    @pytest.mark.parametrize("name", ["pi", "e", "tau", "inf"])
    def test_constants_equal(self, name: str) -> None:
        """pi, e, tau and inf are the standard floats."""
        assert getattr(am, name) == getattr(math, name)
        assert type(getattr(am, name)) is float

    def test_nan(self) -> None:
        """nan is a float nan."""
        assert math.isnan(am.nan) and type(am.nan) is float


# Every function of math at plain-number arguments: (name, args).
PLAIN_CASES: list[tuple[str, tuple[Any, ...]]] = [
    ("acos", (0.3,)),
    ("acosh", (2.0,)),
    ("asin", (-0.3,)),
    ("asinh", (-1.5,)),
    ("atan", (2,)),
    ("atan2", (1.0, -2.0)),
    ("atanh", (0.5,)),
    ("cbrt", (-27.0,)),
    ("ceil", (-2.5,)),
    ("ceil", (Fraction(7, 2),)),
    ("comb", (5, 2)),
    ("copysign", (2.0, -0.0)),
    ("cos", (1.0,)),
    ("cosh", (1,)),
    ("degrees", (1.0,)),
    ("dist", ((0, 0), (3, 4))),
    ("erf", (0.5,)),
    ("erfc", (0.5,)),
    ("exp", (1.0,)),
    ("exp2", (0.5,)),
    ("expm1", (1e-10,)),
    ("fabs", (-3,)),
    ("factorial", (6,)),
    ("floor", (-2.5,)),
    ("floor", (7,)),
    ("fmod", (-7.0, 3.0)),
    ("frexp", (12.0,)),
    ("fsum", ([0.1] * 10,)),
    ("gamma", (4.5,)),
    ("gcd", (12, 18, 27)),
    ("hypot", (3, 4, 12)),
    ("hypot", ()),
    ("isclose", (1.0, 1.0000000001)),
    ("isfinite", (math.inf,)),
    ("isinf", (-math.inf,)),
    ("isnan", (math.nan,)),
    ("isqrt", (17,)),
    ("lcm", (4, 6)),
    ("ldexp", (0.75, 4)),
    ("lgamma", (-2.5,)),
    ("log", (8.0, 2)),
    ("log", (10,)),
    ("log10", (1000,)),
    ("log1p", (1e-10,)),
    ("log2", (8,)),
    ("modf", (-2.5,)),
    ("nextafter", (1.0, 2.0)),
    ("perm", (5, 2)),
    ("pow", (2, 0.5)),
    ("pow", (2, 10)),
    ("prod", ([2, 3, 4],)),
    ("prod", ([2.0, 3],)),
    ("radians", (180,)),
    ("remainder", (7.0, 2.0)),
    ("sin", (1.0,)),
    ("sinh", (1.0,)),
    ("sqrt", (2,)),
    ("tan", (1.0,)),
    ("tanh", (1.0,)),
    ("trunc", (-2.5,)),
    ("ulp", (1.0,)),
]

# Bad plain-number input: the standard function's exception, type and message.
ERROR_CASES: list[tuple[str, tuple[Any, ...]]] = [
    ("sqrt", (-1.0,)),
    ("log", (0.0,)),
    ("log", (8.0, 1.0)),
    ("acos", (2.0,)),
    ("gcd", (2.5, 4)),
    ("factorial", (-1,)),
    ("factorial", (2.5,)),
    ("comb", (-1, 2)),
    ("isqrt", (-1,)),
    ("pow", (0.0, -1.0)),
    ("pow", (-8.0, 1 / 3)),
    ("fmod", (1.0, 0.0)),
    ("remainder", (1.0, 0.0)),
    ("gamma", (0.0,)),
    ("lgamma", (-1.0,)),
    ("ldexp", (1.0, 2.5)),
    ("dist", ((1, 2), (1,))),
    ("exp", (1000.0,)),
    ("sin", ("a",)),
    ("floor", (math.nan,)),
    ("trunc", ("a",)),
]


class TestPlainNumbers:
    """On plain numbers the module is the standard math: values, types, errors."""

    def test_cases_cover_every_function(self) -> None:
        """Every callable of math has a plain-number case below."""
        functions = {n for n in STANDARD if callable(getattr(math, n))}
        assert functions - {name for name, _ in PLAIN_CASES} == set()

    @pytest.mark.parametrize(("name", "args"), PLAIN_CASES)
    def test_same_value_and_type(self, name: str, args: tuple[Any, ...]) -> None:
        """The result equals the standard function's, of the same type."""
        want = getattr(math, name)(*args)
        got = getattr(am, name)(*args)
        assert same(got, want), (got, want)

    @pytest.mark.parametrize(("name", "args"), ERROR_CASES)
    def test_same_error(self, name: str, args: tuple[Any, ...]) -> None:
        """Bad input raises the standard exception, with its message."""
        with pytest.raises(Exception) as standard:  # noqa: PT011 -- any, compared below
            getattr(math, name)(*args)
        with pytest.raises(type(standard.value)) as ours:
            getattr(am, name)(*args)
        assert str(ours.value) == str(standard.value)

    def test_sumprod(self) -> None:
        """sumprod is the sum of products; unequal lengths are a ValueError."""
        assert am.sumprod([1, 2, 3], [4, 5, 6]) == 32
        assert am.sumprod([0.5, 2.0], [4, 0.25]) == 2.5
        with pytest.raises(ValueError, match="same length"):
            am.sumprod([1, 2], [1])

    def test_fma_rounds_once(self) -> None:
        """fma(x, y, z) is the exact x*y + z, rounded once."""
        for x, y, z in [(0.1, 10.0, -1.0), (1e16, 1.1, -1.1e16), (3.0, 5.0, 0.5)]:
            exact = float(Fraction(x) * Fraction(y) + Fraction(z))
            assert am.fma(x, y, z) == exact


# Differentiable one-input functions and points inside their domains.
UNARY_POINTS: dict[str, list[float]] = {
    "acos": [-0.5, 0.3],
    "acosh": [1.5, 3.0],
    "asin": [-0.5, 0.3],
    "asinh": [-2.0, 0.7],
    "atan": [-2.0, 0.7],
    "atanh": [-0.5, 0.3],
    "cbrt": [-8.0, 2.0],
    "cos": [-2.0, 0.7],
    "cosh": [-2.0, 0.7],
    "erf": [-1.2, 0.4],
    "erfc": [-1.2, 0.4],
    "exp": [-2.0, 0.7],
    "exp2": [-2.0, 0.7],
    "expm1": [-2.0, 1e-3],
    "gamma": [-1.5, 0.5, 3.2],
    "lgamma": [-2.5, 0.5, 4.0],
    "log1p": [-0.5, 2.0],
    "log2": [0.5, 3.0],
    "log10": [0.5, 3.0],
    "sin": [-2.0, 0.7],
    "sinh": [-2.0, 0.7],
    "sqrt": [0.5, 3.0],
    "tan": [-1.0, 0.7],
    "tanh": [-2.0, 0.7],
    "degrees": [-2.0, 0.7],
    "radians": [-200.0, 45.0],
    "fabs": [-2.0, 0.7],
}
# These work before their primitives land: an exact composition stands in.
COMPOSED = {"degrees", "radians", "fabs"}


class TestOnValues:
    """On Values the differentiable functions record the graph."""

    def test_cases_cover_every_unary_function(self) -> None:
        """Each one-input differentiable function of math is tested below."""
        assert set(UNARY_POINTS) <= STANDARD

    @pytest.mark.parametrize("name", sorted(UNARY_POINTS))
    def test_unary_value_and_gradient(self, name: str) -> None:
        """Data as the standard function's, gradient as its central difference."""
        if name not in COMPOSED:
            needs(name)
        standard = getattr(math, name)
        for v in UNARY_POINTS[name]:
            x = Value(v)
            y = getattr(am, name)(x)
            assert isinstance(y, Value)
            assert math.isclose(y.data, standard(v), rel_tol=1e-14), (name, v)
            y.backward()
            fd = central_difference(standard, [v], 0)
            assert math.isclose(x.grad, fd, rel_tol=1e-6), (name, v, x.grad, fd)

    @pytest.mark.parametrize("name", ["atan2", "copysign", "fmod"])
    def test_binary_value_and_gradient(self, name: str) -> None:
        """Two-input functions, a Value in either place or both."""
        needs(name)
        standard = getattr(math, name)
        for p in [(1.3, -0.7), (-2.2, 0.9), (0.4, 2.5)]:
            for lift in [(True, False), (False, True), (True, True)]:
                args = [Value(v) if k else v for v, k in zip(p, lift, strict=True)]
                out = getattr(am, name)(*args)
                assert math.isclose(out.data, standard(*p), rel_tol=1e-14)
                out.backward()
                for i, a in enumerate(args):
                    if isinstance(a, Value):
                        fd = central_difference(standard, list(p), i)
                        assert math.isclose(a.grad, fd, rel_tol=1e-6, abs_tol=1e-9)

    def test_the_graph_is_not_cut(self) -> None:
        """The pitfall of issue 16: 2 * math.sin(x) keeps x's gradient."""
        x = Value(0.5)
        z = Value(2.0) * am.sin(x)
        z.backward()
        assert x.grad == 2 * math.cos(0.5)

    def test_log_with_a_base(self) -> None:
        """log(x, b) is log x / log b, in x and in a Value base."""
        x, b = Value(8.0), Value(2.0)
        y = am.log(x, b)
        assert y.data == math.log(8.0, 2.0)
        y.backward()
        assert math.isclose(x.grad, 1 / (8 * math.log(2)), rel_tol=1e-15)
        assert math.isclose(
            b.grad, -math.log(8) / (2 * math.log(2) ** 2), rel_tol=1e-15
        )
        assert am.log(Value(8.0), 2).data == math.log(8.0, 2)

    def test_pow(self) -> None:
        """pow is x**y, with math's ValueError for 0 to a negative power."""
        x = Value(2.0)
        y = am.pow(x, 3)
        y.backward()
        assert y.data == 8.0 and x.grad == 12.0
        with pytest.raises(ValueError, match="math domain error"):
            am.pow(Value(0.0), -1.0)
        with pytest.raises(ValueError, match="fractional power"):
            am.pow(Value(-8.0), 1 / 3)

    def test_hypot_of_many_coordinates(self) -> None:
        """hypot(*xs): the norm, data as math.hypot's, gradient x_i / norm."""
        vs = [3.0, -4.0, 12.0, 0.5]
        xs = [Value(v) for v in vs]
        y = am.hypot(*xs)
        assert y.data == math.hypot(*vs)
        y.backward()
        for x, v in zip(xs, vs, strict=True):
            assert math.isclose(x.grad, v / math.hypot(*vs), rel_tol=1e-15)

    def test_hypot_of_one_value(self) -> None:
        """hypot(x) is |x|, with gradient sign(x)."""
        x = Value(-3.0)
        y = am.hypot(x)
        y.backward()
        assert y.data == 3.0 and x.grad == -1.0

    def test_dist(self) -> None:
        """dist(p, q): data as math.dist's, gradient (p - q) / dist in p."""
        p, q = [Value(1.0), Value(2.0), Value(-1.0)], [4.0, 6.0, 11.0]
        d = am.dist(p, q)
        want = math.dist([1.0, 2.0, -1.0], q)
        assert d.data == want
        d.backward()
        for x, b in zip(p, q, strict=True):
            assert math.isclose(x.grad, (x.data - b) / want, rel_tol=1e-15)
        with pytest.raises(ValueError, match="same number of dimensions"):
            am.dist([Value(1.0)], [1.0, 2.0])

    def test_fsum_is_exact(self) -> None:
        """fsum of Values: exactly math.fsum of the data, gradient 1 each."""
        xs = [Value(0.1) for _ in range(10)] + [Value(1e100), Value(-1e100)]
        y = am.fsum(xs)
        assert y.data == math.fsum([0.1] * 10 + [1e100, -1e100]) == 1.0
        y.backward()
        assert all(x.grad == 1 for x in xs)

    def test_prod(self) -> None:
        """prod: the product, each gradient the product of the others."""
        xs = [Value(2.0), Value(3.0), Value(5.0)]
        y = am.prod(xs, start=Value(0.5))
        assert y.data == 15.0
        y.backward()
        assert [x.grad for x in xs] == [7.5, 5.0, 3.0]

    def test_sumprod(self) -> None:
        """sumprod: gradient q in p and p in q."""
        p, q = [Value(1.0), Value(2.0)], [Value(3.0), Value(4.0)]
        y = am.sumprod(p, q)
        assert y.data == 11.0
        y.backward()
        assert [x.grad for x in p] == [3.0, 4.0]
        assert [x.grad for x in q] == [1.0, 2.0]

    def test_fma(self) -> None:
        """fma of Values: data rounded once, gradients y, x, 1."""
        x, y, z = Value(0.1), Value(10.0), Value(-1.0)
        out = am.fma(x, y, z)
        assert out.data == float(Fraction(0.1) * 10 - 1)
        out.backward()
        assert (x.grad, y.grad, z.grad) == (10.0, 0.1, 1.0)

    @pytest.mark.parametrize(
        ("a", "b"), [(7.0, 2.0), (5.0, 2.0), (-7.5, 2.0), (9.0, -4.0)]
    )
    def test_remainder(self, a: float, b: float) -> None:
        """IEEE remainder: math's data; d/dx 1, d/dy -n with n the rounded quotient."""
        x, y = Value(a), Value(b)
        r = am.remainder(x, y)
        assert r.data == math.remainder(a, b)
        r.backward()
        n = (a - math.remainder(a, b)) / b
        assert x.grad == 1 and y.grad == -n

    def test_ldexp_frexp(self) -> None:
        """ldexp scales by 2**i (gradient 2**i); frexp's mantissa is x / 2**k."""
        x = Value(0.75)
        y = am.ldexp(x, 4)
        y.backward()
        assert y.data == 12.0 and x.grad == 16.0
        x = Value(12.0)
        m, k = am.frexp(x)
        m.backward()
        assert (m.data, k) == math.frexp(12.0) and x.grad == 2.0**-4

    def test_ldexp_past_the_float_range_of_two_to_the_i(self) -> None:
        """ldexp(1e-300, 1100) is finite though 2**1100 is not."""
        x = Value(1e-300)
        assert am.ldexp(x, 1100).data == math.ldexp(1e-300, 1100)

    def test_modf(self) -> None:
        """modf: both parts with math's data; derivatives 1 and 0."""
        x = Value(-2.75)
        frac, whole = am.modf(x)
        assert (frac.data, whole.data) == math.modf(-2.75)
        (frac + 10 * whole).backward()
        assert x.grad == 1.0

    def test_errors_of_differentiable_functions(self) -> None:
        """Out of the domain, a Value raises the standard exception type."""
        for name, arg in [("sqrt", -1.0), ("log", 0.0), ("acos", 2.0)]:
            if not has_primitive(name):
                continue
            with pytest.raises(ValueError, match="math domain error"):
                getattr(am, name)(Value(arg))

    def test_missing_primitive_is_named(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A function whose primitive is missing says so, naming it."""
        monkeypatch.delattr(ag, "sin")
        monkeypatch.setattr(ag, "registered", dict)
        with pytest.raises(NotImplementedError, match=r"math\.sin\(\).*'sin'"):
            am.sin(Value(1.0))
        assert am.sin(1.0) == math.sin(1.0)  # plain numbers never need it

    def test_forward_mode_duals(self) -> None:
        """Inside jvp, math's functions propagate the tangent."""
        value, tangent = jvp(lambda t: am.exp(t) * am.sin(t), (0.3,), (1.0,))
        assert value == math.exp(0.3) * math.sin(0.3)
        want = math.exp(0.3) * (math.sin(0.3) + math.cos(0.3))
        assert math.isclose(tangent, want, rel_tol=1e-15)


class TestRoundingToIntegers:
    """floor, ceil, trunc: the standard functions, through the Value's dunders."""

    @pytest.mark.parametrize("name", ["floor", "ceil"])
    @pytest.mark.parametrize("v", [2.5, -2.5, 3.0, -0.0])
    def test_data_is_pythons(self, name: str, v: float) -> None:
        """The number (a Value's data once __floor__ exists) is Python's int."""
        got = getattr(am, name)(Value(v))
        data = got.data if isinstance(got, Value) else got
        want = getattr(math, name)(v)
        assert data == want and type(data) is int

    @pytest.mark.parametrize("name", ["floor", "ceil", "trunc"])
    def test_is_the_values_own_method(self, name: str) -> None:
        """math.floor(v) is v.__floor__(): a Value with derivative 0."""
        dunder = f"__{name}__"
        x = Value(-2.5)
        y = getattr(am, name)(x)
        assert isinstance(y, Value)
        assert y.data == getattr(x, dunder)().data == getattr(math, name)(-2.5)
        y.backward()
        assert x.grad == 0


class TestOnTheData:
    """Predicates, float functions and integer functions look at the data."""

    @pytest.mark.parametrize("v", [1.5, math.inf, -math.inf, math.nan, 0])
    def test_predicates(self, v: float) -> None:
        """isnan, isinf, isfinite of a Value are those of its data."""
        for name in ("isnan", "isinf", "isfinite"):
            got = getattr(am, name)(Value(v))
            assert got is getattr(math, name)(v), (name, v)

    def test_isclose_ulp_nextafter(self) -> None:
        """isclose, ulp, nextafter of Values are those of the data."""
        assert am.isclose(Value(1.0), 1.0 + 1e-12) is True
        assert am.isclose(Value(1.0), Value(1.1)) is False
        assert am.ulp(Value(1.0)) == math.ulp(1.0)
        assert am.nextafter(Value(1.0), Value(0.0)) == math.nextafter(1.0, 0.0)

    @pytest.mark.parametrize(
        ("name", "args"),
        [
            ("gcd", (12, 18)),
            ("lcm", (4, 6)),
            ("comb", (5, 2)),
            ("perm", (5, 2)),
            ("factorial", (5,)),
            ("isqrt", (17,)),
        ],
    )
    def test_integer_functions(self, name: str, args: tuple[int, ...]) -> None:
        """On Values holding ints: the standard int result."""
        got = getattr(am, name)(*(Value(a) for a in args))
        want = getattr(math, name)(*args)
        assert got == want and type(got) is int

    @pytest.mark.parametrize(
        ("name", "args"),
        [("gcd", (2.5, 4)), ("factorial", (-1,)), ("isqrt", (-4,)), ("comb", (2.0, 1))],
    )
    def test_integer_functions_reject_as_math(
        self, name: str, args: tuple[float, ...]
    ) -> None:
        """Data math rejects is rejected with math's exception and message."""
        with pytest.raises(Exception) as standard:  # noqa: PT011 -- any, compared below
            getattr(math, name)(*args)
        with pytest.raises(type(standard.value)) as ours:
            getattr(am, name)(*(Value(a) for a in args))
        assert str(ours.value) == str(standard.value)


def test_sumprod_matches_the_plain_definition() -> None:
    """On plain numbers of Python 3.11, sumprod is sum(map(mul, p, q))."""
    p, q = [0.1, 0.2, 0.3], [3, 2, 1]
    want = getattr(math, "sumprod", lambda a, b: sum(map(operator.mul, a, b)))(p, q)
    assert am.sumprod(p, q) == want
