"""Every primitive of the rule table against finite differences and sympy's derivatives.

The tests are parametrized over ``registered()``: a primitive is tested the moment it
is added to the table. Points are drawn inside each primitive's ``domain``, away from
its edges and kinks.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any

import pytest
import sympy

import autograd_scalar as ag
from autograd_scalar import Value, _rules, viz
from autograd_scalar.testing import check_grad

BUILTINS = dict(ag.registered())

# Each built-in primitive written in sympy: viz's export table (viz.to_sympy uses it).
# It is independent of the rule table under test: the forwards here are sympy's,
# those of the table are math's, and every derivative below is sympy's own.
SYMPY: dict[str, Callable[..., Any]] = viz._sympy_rules(sympy)


def integer_inputs(prim: ag.Primitive) -> set[int]:
    """The inputs that take integers and have no derivative (polygamma's order n,
    round's ndigits): the rule table marks them with the partial ``_no_derivative``."""
    return {i for i, p in enumerate(prim.partials) if p is _rules._no_derivative}


def points(prim: ag.Primitive, n: int = 25, seed: int = 0) -> list[tuple[float, ...]]:
    """Random points in [-4, 4]^arity inside the domain, 0.01 away from its edge;
    an integer input is a random integer in [0, 4]."""
    rng = random.Random(f"{prim.name}-{seed}")
    whole = integer_inputs(prim)
    found: list[tuple[float, ...]] = []
    while len(found) < n:
        p = tuple(
            rng.randrange(0, 5) if i in whole else rng.uniform(-4, 4)
            for i in range(prim.arity)
        )
        if prim.domain is None or all(
            prim.domain(*(q + d if j == i else q for j, q in enumerate(p)))
            for i in range(len(p))
            for d in ((0,) if i in whole else (-0.01, 0.0, 0.01))
        ):
            found.append(p)
    return found


def evaluate(expr: Any, subs: dict[Any, Any]) -> float:
    """A sympy expression at ``subs``, as a float. sympy leaves the derivatives of
    floor, ceiling and sign unevaluated; away from their jumps (where the points
    lie) they are 0."""
    expr = sympy.sympify(expr).replace(
        lambda e: isinstance(e, sympy.Derivative | sympy.Subs), lambda e: 0
    )
    return float(sympy.sympify(expr).evalf(30, subs=subs))


def sympy_derivatives(name: str, point: tuple[float, ...], order: int) -> list[Any]:
    """Exact partial derivatives (order 1: a list; order 2: rows) at ``point``, in
    the inputs that have one (an integer input is substituted, not differentiated)."""
    whole = integer_inputs(BUILTINS[name])
    syms = sympy.symbols(f"x0:{len(point)}", real=True)
    args = [
        sympy.Integer(v) if i in whole else s
        for i, (s, v) in enumerate(zip(syms, point, strict=True))
    ]
    expr = SYMPY[name](*args)
    subs = {s: sympy.Float(v, 30) for s, v in zip(syms, point, strict=True)}
    free = [s for i, s in enumerate(syms) if i not in whole]
    if order == 1:
        return [evaluate(sympy.diff(expr, s), subs) for s in free]
    return [[evaluate(sympy.diff(expr, s, t), subs) for t in free] for s in free]


def reverse_gradient(prim: ag.Primitive, point: tuple[float, ...]) -> list[Any]:
    """The partials by backward, in the inputs that have one."""
    whole = integer_inputs(prim)
    xs = [Value(v) for v in point]
    prim(*xs).backward()
    return [x.grad for i, x in enumerate(xs) if i not in whole]


# math.floor, math.ceil, math.trunc and round(x) give ints on floats.
TO_INTEGER = {
    "floor": math.floor,
    "ceil": math.ceil,
    "trunc": math.trunc,
    "round": round,
}


def test_every_builtin_has_a_sympy_oracle() -> None:
    """A primitive added to the table must also be added to the sympy oracle."""
    assert set(BUILTINS) <= set(SYMPY)


@pytest.mark.parametrize("name", sorted(BUILTINS))
class TestEveryPrimitive:
    """Each registered primitive, at many points of its domain."""

    def test_forward_matches_sympy(self, name: str) -> None:
        """The forward on numbers agrees with the sympy definition."""
        prim = BUILTINS[name]
        whole = integer_inputs(prim)
        for p in points(prim):
            syms = sympy.symbols(f"x0:{len(p)}", real=True)
            args = [
                sympy.Integer(v) if i in whole else s
                for i, (s, v) in enumerate(zip(syms, p, strict=True))
            ]
            want = evaluate(
                SYMPY[name](*args),
                {s: sympy.Float(v, 30) for s, v in zip(syms, p, strict=True)},
            )
            assert prim(*p) == pytest.approx(want, rel=1e-12, abs=1e-12)

    def test_gradient_matches_finite_differences(self, name: str) -> None:
        """Reverse-mode partials agree with central finite differences."""
        prim = BUILTINS[name]
        whole = integer_inputs(prim)
        for p in points(prim):
            if whole:  # differentiate in the other inputs, the integers held fixed

                def f(*free: Any, p: tuple[float, ...] = p) -> Any:
                    it = iter(free)
                    return prim(
                        *(v if i in whole else next(it) for i, v in enumerate(p))
                    )

                free = [v for i, v in enumerate(p) if i not in whole]
                assert check_grad(f, *free, rtol=1e-5, atol=1e-7)
            else:
                assert check_grad(prim, *p, rtol=1e-5, atol=1e-7)

    def test_gradient_matches_sympy(self, name: str) -> None:
        """Reverse-mode partials agree with sympy's exact derivatives."""
        prim = BUILTINS[name]
        for p in points(prim):
            got = reverse_gradient(prim, p)
            want = sympy_derivatives(name, p, 1)
            assert got == pytest.approx(want, rel=1e-11, abs=1e-12), p

    def test_second_derivatives_match_sympy(self, name: str) -> None:
        """Partials evaluated on Values (create_graph) differentiate again exactly."""
        prim = BUILTINS[name]
        whole = integer_inputs(prim)
        for p in points(prim, n=8):
            xs = [Value(v) for v in p]
            free = [x for i, x in enumerate(xs) if i not in whole]
            prim(*xs).backward(create_graph=True)
            first = [x.grad for x in free]
            rows = []
            for gi in first:
                for x in xs:
                    x.grad = 0
                if isinstance(gi, Value):
                    gi.backward()
                    rows.append([x.grad for x in free])
                else:
                    rows.append([0] * len(free))
            want = sympy_derivatives(name, p, 2)
            for got_row, want_row in zip(rows, want, strict=True):
                assert got_row == pytest.approx(want_row, rel=1e-10, abs=1e-10), p

    def test_numbers_in_numbers_out(self, name: str) -> None:
        """On plain floats a primitive returns a plain float, not a Value; rounding to
        an integer gives an int, as Python's math.floor and round do."""
        prim = BUILTINS[name]
        out = prim(*points(prim, n=1)[0])
        assert not isinstance(out, Value)
        assert type(out) is (int if name in TO_INTEGER else float)


class TestConventionsAtKinks:
    """Where the value exists but the derivative does not, follow PyTorch."""

    @staticmethod
    def grads(f: Callable[..., Any], *point: float) -> list[Any]:
        xs = [Value(v) for v in point]
        f(*xs).backward()
        return [x.grad for x in xs]

    def test_relu_at_zero(self) -> None:
        """relu'(0) = 0."""
        assert self.grads(ag.relu, 0.0) == [0]

    def test_abs_at_zero(self) -> None:
        """|x|'(0) = 0."""
        assert self.grads(abs, 0.0) == [0]

    def test_sqrt_at_zero(self) -> None:
        """sqrt'(0) = +inf."""
        assert self.grads(ag.sqrt, 0.0) == [math.inf]

    def test_pow_fractional_at_zero(self) -> None:
        """x**0.5 has slope +inf at 0, like sqrt."""
        assert self.grads(lambda x: x**0.5, 0.0) == [math.inf]

    @pytest.mark.parametrize("x", [0.0, 0, -2.0, 3.5])
    def test_power_zero_is_flat(self, x: float) -> None:
        """d/dx x**0 = 0 everywhere, including x = 0."""
        assert self.grads(lambda v: v**0, x) == [0]

    def test_power_zero_as_value_exponent(self) -> None:
        """With a Value exponent, x**y at x = 0, y = 0 gives 0 for both partials."""
        assert self.grads(lambda v, w: v**w, 0.0, 0.0) == [0, 0]

    def test_negative_base_integer_exponent(self) -> None:
        """(-2)**y has no derivative in y: nan, as in PyTorch; d/dx is exact."""
        gx, gy = self.grads(lambda v, w: v**w, -2.0, 3.0)
        assert gx == 12.0
        assert math.isnan(gy)

    @pytest.mark.parametrize("f", [ag.maximum, ag.minimum])
    def test_ties_split_evenly(self, f: Callable[..., Any]) -> None:
        """maximum/minimum at a tie send half the gradient to each input."""
        assert self.grads(f, 2.0, 2.0) == [0.5, 0.5]

    def test_same_value_in_both_slots(self) -> None:
        """maximum(x, x) passes the whole gradient to x."""
        x = Value(1.5)
        ag.maximum(x, x).backward()
        assert x.grad == 1

    def test_hypot_at_origin(self) -> None:
        """hypot at the origin takes the subgradient 0, like abs."""
        assert self.grads(ag.hypot, 0.0, 0.0) == [0, 0]

    def test_atan2_at_origin(self) -> None:
        """atan2 at the origin has no derivative: nan, as in PyTorch; no exception."""
        assert all(math.isnan(g) for g in self.grads(ag.atan2, 0.0, 0.0))


# PyTorch's gradient at each kink of issue 16's functions (derivatives.yaml), and
# sinc's limit at 0: (function, point, gradient in each input).
KINKS: list[tuple[str, tuple[float, ...], tuple[float, ...]]] = [
    ("sign", (0.0,), (0.0,)),  # piecewise constant: 0, even at the jumps
    ("floor", (2.0,), (0.0,)),
    ("ceil", (2.0,), (0.0,)),
    ("trunc", (-2.0,), (0.0,)),
    ("round", (2.5,), (0.0,)),
    ("fmod", (6.0, 3.0), (1.0, -2.0)),  # d/dy = -trunc(x/y)
    ("mod", (-6.0, 3.0), (1.0, 2.0)),  # d/dy = -floor(x/y)
    ("fmax", (1.0, 1.0), (1.0, 0.0)),  # a tie: all to x
    ("fmin", (1.0, 1.0), (1.0, 0.0)),
    ("fmax", (math.nan, 1.0), (0.0, 1.0)),  # a nan operand is ignored
    ("fmax", (1.0, math.nan), (1.0, 0.0)),
    ("copysign", (0.0, -1.0), (0.0, 0.0)),
    ("copysign", (2.0, -1.0), (-1.0, 0.0)),
    ("elu", (0.0, 1.0), (1.0, 0.0)),  # elu'(0) = alpha
    ("leaky_relu", (0.0, 0.01), (0.01, 0.0)),  # leaky_relu'(0) = negative_slope
    ("acosh", (1.0,), (math.inf,)),  # vertical at the domain's edge
    ("asin", (1.0,), (math.inf,)),
    ("acos", (-1.0,), (-math.inf,)),
    ("cbrt", (0.0,), (math.inf,)),
    ("sinc", (0.0,), (0.0,)),
]


class TestIssue16Kinks:
    """The new functions at their kinks and edges: PyTorch's gradients."""

    @pytest.mark.parametrize(("name", "point", "want"), KINKS)
    def test_gradient_at_kink(
        self, name: str, point: tuple[float, ...], want: tuple[float, ...]
    ) -> None:
        """backward gives PyTorch's convention, without raising."""
        xs = [Value(v) for v in point]
        BUILTINS[name](*xs).backward()
        assert [x.grad for x in xs] == list(want)

    def test_sinc_second_derivative_at_zero(self) -> None:
        """sinc''(0) = -pi^2/3 (the series branch differentiates again)."""
        h = ag.grad(ag.grad(ag.sinc))(Value(0.0))
        assert h.data == pytest.approx(-(math.pi**2) / 3, rel=1e-14)

    def test_digamma_pole_message(self) -> None:
        """A pole names the call once."""
        with pytest.raises(ValueError, match=r"^digamma\(-1\.0\): pole"):
            ag.digamma(Value(-1.0))


VALUES = [2.5, -2.5, 3.0, -0.5, 7.25, 0.125]


class TestPythonSemantics:
    """round, math.floor/ceil/trunc, %, // and divmod on Values: Python's numbers,
    Values with derivative 0 (rounding) or PyTorch's remainder derivative."""

    @pytest.mark.parametrize("v", VALUES)
    @pytest.mark.parametrize(
        "f",
        [math.floor, math.ceil, math.trunc, round, lambda t: round(t, 1)],
        ids=["floor", "ceil", "trunc", "round", "round1"],
    )
    def test_rounding(self, f: Callable[..., Any], v: float) -> None:
        """The data is exactly Python's (type too) and the derivative is 0."""
        x = Value(v)
        out = f(x)
        assert isinstance(out, Value)
        assert out.data == f(v) and type(out.data) is type(f(v))
        out.backward()
        assert x.grad == 0

    @pytest.mark.parametrize("v", VALUES)
    @pytest.mark.parametrize("w", [2.0, -1.5, 0.75])
    def test_remainder_and_floor_division(self, v: float, w: float) -> None:
        """x % y, x // y, divmod: Python's values; d(x % y) = (1, -floor(x/y))."""
        x, y = Value(v), Value(w)
        assert (x % y).data == v % w and (x // y).data == v // w
        assert (v % y).data == v % w and (x // w).data == v // w
        q, r = divmod(x, y)
        assert (q.data, r.data) == divmod(v, w)
        assert [t.data for t in divmod(v, y)] == list(divmod(v, w))
        (x % y).backward()
        assert (x.grad, y.grad) == (1, -math.floor(v / w))

    def test_foreign_operand(self) -> None:
        """A foreign operand of % and divmod is Python's own TypeError."""
        with pytest.raises(TypeError):
            Value(1.0) % "a"  # type: ignore[operator]
        with pytest.raises(TypeError):
            divmod(Value(1.0), "a")  # type: ignore[operator]

    def test_forward_mode(self) -> None:
        """%, //, math.floor and round work on jvp's duals, with the same partials."""
        value, tangent = ag.jvp(lambda t, u: t % u + t // u, (7.5, 2.0), (1.0, 1.0))
        assert (value, tangent) == (7.5 % 2.0 + 7.5 // 2.0, 1.0 - math.floor(7.5 / 2))
        value, tangent = ag.jvp(
            lambda t: math.floor(t) * t + round(t, 1), (2.5,), (1.0,)
        )
        assert (value, tangent) == (2 * 2.5 + 2.5, 2.0)
        q, r = ag.jvp(lambda t: list(divmod(t, 2.0)), (5.5,), (1.0,))
        assert q == [2.0, 1.5] and r == [0, 1.0]

    def test_elu_and_leaky_relu_defaults(self) -> None:
        """elu's alpha is 1 and leaky_relu's negative_slope 0.01 by default."""
        assert ag.elu(-1.0) == math.expm1(-1.0)
        assert ag.leaky_relu(-2.0) == -2.0 * 0.01
        assert ag.elu(Value(-1.0), 2.0).data == 2.0 * math.expm1(-1.0)


class TestNonFinite:
    """nan and inf inputs behave as in PyTorch."""

    def test_relu_at_infinities(self) -> None:
        """relu(-inf) = 0 and relu(inf) = inf."""
        assert ag.relu(-math.inf) == 0.0
        assert ag.relu(math.inf) == math.inf

    @pytest.mark.parametrize("f", [ag.relu, ag.maximum, ag.minimum])
    def test_nan_propagates(self, f: Callable[..., Any]) -> None:
        """A nan input gives a nan output, whichever slot it is in."""
        for args in (
            [(math.nan,)] if f is ag.relu else [(math.nan, 1.0), (1.0, math.nan)]
        ):
            assert math.isnan(f(*args))


class TestStableForms:
    """Functions that must not overflow at large arguments."""

    @pytest.mark.parametrize(
        ("f", "x", "want"),
        [
            (ag.sigmoid, 1000.0, 1.0),
            (ag.sigmoid, -1000.0, 0.0),
            (ag.softplus, 1000.0, 1000.0),
            (ag.softplus, -1000.0, 0.0),
            (ag.tanh, 1000.0, 1.0),
            (ag.tanh, -1000.0, -1.0),
        ],
    )
    def test_finite_at_extremes(
        self, f: Callable[..., Any], x: float, want: float
    ) -> None:
        """The value and gradient are finite and right at +-1000."""
        v = Value(x)
        y = f(v)
        y.backward()
        assert y.data == want
        assert math.isfinite(v.grad)
        assert 0 <= v.grad <= 1

    def test_softplus_moderate(self) -> None:
        """softplus(x) = log(1 + e^x) where that is safe to compute directly."""
        for x in [-30.0, -1.0, 0.0, 0.5, 20.0]:
            assert ag.softplus(x) == pytest.approx(math.log1p(math.exp(x)), rel=1e-14)


class TestUserPrimitive:
    """primitive() makes an operation that behaves like a built-in one."""

    def test_cube(self) -> None:
        """The issue's example: value, gradient, numbers in numbers out."""
        cube = ag.primitive(lambda x: x**3, lambda x: 3 * x**2, name="cube")
        x = Value(2.0)
        y = cube(x)
        y.backward()
        assert (y.data, x.grad, y.op) == (8.0, 12.0, "cube")
        assert cube(2.0) == 8.0
        assert ag.registered()["cube"] is cube

    def test_second_order(self) -> None:
        """A user primitive whose partial uses library functions works at order 2."""
        f = ag.primitive(
            lambda x: math.sin(x) ** 2, lambda x: 2 * ag.sin(x) * ag.cos(x), name="sin2"
        )
        assert check_grad(f, 0.7, order=2)

    def test_three_operands(self) -> None:
        """Primitives may take more than two inputs, constants included."""
        fma = ag.primitive(
            lambda x, y, z: x * y + z,
            lambda x, y, z: y,
            lambda x, y, z: x,
            lambda x, y, z: 1,
            name="fma",
        )
        x, z = Value(2.0), Value(5.0)
        out = fma(x, 3.0, z)
        out.backward()
        assert (out.data, x.grad, z.grad) == (11.0, 3.0, 1.0)
        assert out.parents == (x, z)
        assert check_grad(fma, 1.5, -2.0, 0.25, order=2)

    def test_cannot_shadow_builtin(self) -> None:
        """Registering a built-in name is refused."""
        with pytest.raises(ValueError, match="mul"):
            ag.primitive(lambda x: x, lambda x: 1, name="mul")

    def test_not_callable(self) -> None:
        """A partial that is not callable is a TypeError naming the primitive."""
        with pytest.raises(TypeError, match="twice"):
            ag.primitive(lambda x: 2 * x, 2, name="twice")

    def test_wrong_arity(self) -> None:
        """Calling with the wrong number of arguments names the primitive."""
        with pytest.raises(TypeError, match=r"exp\(\) takes 1"):
            ag.exp(1.0, 2.0)
