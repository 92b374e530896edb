"""Forward mode: duals and jvp, against sympy, finite differences and reverse mode.

Each test function is written once over a module ``m`` (``autograd_scalar`` or
``sympy``), so expected derivatives come from sympy, independently of this package.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Value, _rules, grad, jvp
from autograd_scalar.forward import Dual


def derivative(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """f' by forward mode: one jvp with tangent 1."""
    return lambda x: jvp(f, (x,), (1.0,))[1]


def close(got: Any, want: float, rel: float = 1e-9) -> bool:
    return math.isclose(float(got), want, rel_tol=rel, abs_tol=1e-12)


class TestDual:
    """Dual arithmetic, comparisons and the primitive protocol."""

    def test_operators_with_every_operand_kind(self) -> None:
        """+ - * / ** with numbers, Values and duals on either side give duals."""
        d = Dual(3.0, 1.0, tag=0)
        v = Value(2.0)
        for out, value, tangent in [
            (d + 2, 5.0, 1.0),
            (2 - d, -1.0, -1.0),
            (d * v, 6.0, 2.0),
            (v / d, 2 / 3, -2 / 9),  # d/dd (2/d) = -2/d^2 (by hand)
            (d**2, 9.0, 6.0),
            (2**d, 8.0, 8 * math.log(2)),
            (-d, -3.0, -1.0),
            (abs(-d), 3.0, 1.0),
            (d * d, 9.0, 6.0),
        ]:
            assert isinstance(out, Dual)
            assert close(out, value) and close(out.tangent, tangent)
        assert +d is d

    def test_comparisons_look_at_the_number(self) -> None:
        """Comparisons, float and bool use the plain number inside."""
        d = Dual(Dual(Value(2.0), 1.0, tag=0), 1.0, tag=1)
        assert d > 1 and d >= 2 and d < 3.0 and d <= 2 and d == 2.0 and d != 1
        assert float(d) == 2.0 and bool(d)

    def test_unhashable(self) -> None:
        """A dual compares equal to numbers, so it is not hashable."""
        with pytest.raises(TypeError):
            hash(Dual(1.0, 0.0, tag=0))

    def test_foreign_operand(self) -> None:
        """A foreign operand gives Python's own TypeError."""
        with pytest.raises(TypeError):
            Dual(1.0, 0.0, tag=0) + "a"  # type: ignore[operator]  # the error under test
        with pytest.raises(TypeError, match="exp"):
            ag.exp(Dual("a", 0.0, tag=0))

    @pytest.mark.parametrize("name", sorted(ag.registered()))
    def test_every_primitive_matches_reverse_mode(self, name: str) -> None:
        """Every primitive's jvp equals the gradient-tangent product from backward."""
        prim = ag.registered()[name]
        rng = random.Random(name)
        # An integer input (polygamma's order): an int, held fixed (tangent 0).
        whole = [p is _rules._no_derivative for p in prim.partials]
        for _ in range(5):
            while True:
                point: list[Any] = [
                    rng.randrange(0, 4) if w else rng.uniform(-3, 3) for w in whole
                ]
                if prim.domain is None or prim.domain(*point):
                    break
            tangents = [0.0 if w else rng.uniform(-1, 1) for w in whole]

            def f(*free: Any, point: list[Any] = point) -> Any:
                it = iter(free)
                return prim(
                    *(p if w else next(it) for p, w in zip(point, whole, strict=True))
                )

            value, tangent = jvp(
                f,
                [p for p, w in zip(point, whole, strict=True) if not w],
                [t for t, w in zip(tangents, whole, strict=True) if not w],
            )
            xs = [Value(p) for p in point]
            out = prim(*xs)
            out.backward()
            want = sum(
                x.grad * t for x, t, w in zip(xs, tangents, whole, strict=True) if not w
            )
            assert value == out.data and close(tangent, want, rel=1e-12)


class TestJvp:
    """jvp against sympy and finite differences."""

    def test_directional_derivative_vs_sympy(self) -> None:
        """The jvp of a function of two variables is sympy's gradient dotted with t."""

        def f(m: ModuleType) -> Callable[[Any, Any], Any]:
            return lambda x, y: m.atan2(y, x) * m.exp(x * y) + m.sqrt(x * x + y)

        x, y = sympy.symbols("x y")
        expr = f(sympy)(x, y)
        at = {x: 0.7, y: 1.2}
        t = (0.3, -2.0)
        value, tangent = jvp(f(ag), (0.7, 1.2), t)
        want = t[0] * expr.diff(x).evalf(30, subs=at) + t[1] * expr.diff(y).evalf(
            30, subs=at
        )
        assert close(value, float(expr.evalf(30, subs=at)))
        assert close(tangent, float(want))

    def test_vs_finite_differences(self) -> None:
        """The jvp matches a central difference along the tangent."""

        def f(x: Any, y: Any) -> Any:
            return ag.tanh(x) ** 3 / (1 + x * y) + ag.log(1 + x * x) * ag.sqrt(y + 2)

        h, t = 1e-6, (0.5, -1.5)
        up = f(1.1 + t[0] * h, 0.4 + t[1] * h)
        down = f(1.1 - t[0] * h, 0.4 - t[1] * h)
        want = (up - down) / (2 * h)
        assert math.isclose(jvp(f, (1.1, 0.4), t)[1], want, rel_tol=1e-6)

    def test_sequence_output(self) -> None:
        """A sequence output gives lists of values and tangents (by hand: y, x, 0)."""
        assert jvp(lambda x, y: [x * y, x + y, 7.0], (2.0, 3.0), (1.0, 0.0)) == (
            [6.0, 5.0, 7.0],
            [3.0, 1.0, 0.0],
        )

    def test_constant_output(self) -> None:
        """A function ignoring its input has tangent zero."""
        assert jvp(lambda x: 4.0, (1.0,), (1.0,)) == (4.0, 0.0)


class TestSymbolicZeros:
    """A zero tangent contributes nothing, even where the partial is inf or nan."""

    def test_sqrt_at_zero_with_zero_tangent(self) -> None:
        """sqrt(x) + y at x = 0 moving only y: the tangent is y's, 1 (not nan)."""
        assert jvp(lambda x, y: ag.sqrt(x) + y, (0.0, 1.0), (0.0, 1.0)) == (1.0, 1.0)

    def test_power_negative_base_fixed_exponent(self) -> None:
        """x**n at x = -2, n = 3 moving x only: n x**(n-1) = 12 (d/dn is nan)."""
        assert jvp(lambda x, n: x**n, (-2.0, 3.0), (1.0, 0.0)) == (-8.0, 12.0)

    def test_quotient_with_tiny_fixed_divisor(self) -> None:
        """x / y at y = 1e-160 moving x only: 1/y = 1e160 (d/dy overflows)."""
        assert jvp(lambda x, y: x / y, (1.0, 1e-160), (1.0, 0.0)) == (1e160, 1e160)

    def test_partial_not_evaluated(self) -> None:
        """The partial of an input with a zero tangent is never called."""
        calls: list[str] = []

        def dy(x: Any, y: Any) -> Any:
            calls.append("dy")
            raise ZeroDivisionError("dy must not be evaluated")

        f = ag.primitive(lambda x, y: x * y, lambda x, y: y, dy, name="zero_probe")
        assert jvp(f, (2.0, 5.0), (1.0, 0.0)) == (10.0, 5.0)
        assert calls == []

    def test_all_tangents_zero(self) -> None:
        """Every tangent zero: the output tangent is zero, with no partial taken."""
        assert jvp(lambda x: ag.sqrt(x), (0.0,), (0.0,)) == (0.0, 0.0)

    def test_value_tangent_at_zero_still_moves(self) -> None:
        """A Value tangent whose data is 0 is not skipped: grad over it sees x**2."""
        # d/dv jvp(f, (x,), (v,))[1] = f'(x) = 2x = 6 for f = x**2 at x = 3 (by hand)
        assert grad(lambda v: jvp(lambda x: x * x, (3.0,), (v,))[1])(0.0) == 6.0


class TestNesting:
    """Forward over forward, reverse over forward, forward inside reverse."""

    def test_reverse_over_forward(self) -> None:
        """grad of a jvp-derivative of sin is -sin; twice, -cos (by hand)."""
        assert close(grad(derivative(ag.sin))(0.9), -math.sin(0.9))
        assert close(grad(grad(derivative(ag.sin)))(0.9), -math.cos(0.9))

    def test_perturbation_confusion(self) -> None:
        """d/dx [x * d/dy (x + y)] = 1 (by hand): the tags keep the levels apart."""
        inner = lambda x: jvp(lambda y: x + y, (1.0,), (1.0,))[1]  # noqa: E731
        assert jvp(lambda x: x * inner(x), (2.0,), (1.0,))[1] == 1.0
        assert grad(lambda x: x * inner(x))(2.0) == 1.0
        # d/dx [x * d/dy (x * y)] = 2x (by hand)
        inner2 = lambda x: jvp(lambda y: x * y, (x,), (1.0,))[1]  # noqa: E731
        assert jvp(lambda x: x * inner2(x), (3.0,), (1.0,))[1] == 6.0

    def test_user_primitive_every_order(self, logcosh: Any) -> None:
        """A user primitive nests in forward mode: sympy's first four derivatives."""
        x = sympy.Symbol("x")
        expr = sympy.log(sympy.cosh(x))
        d = logcosh
        for order in (1, 2, 3, 4):
            d = derivative(d)
            want = float(sympy.diff(expr, x, order).evalf(30, subs={x: 0.8}))
            assert close(d(0.8), want), order

    def test_value_primals_and_tangents(self) -> None:
        """Value primals and tangents give Value results to differentiate."""
        x, t = Value(0.5), Value(2.0)
        _, tangent = jvp(ag.exp, (x,), (t,))
        tangent.backward()  # d/dx [exp(x) t] = exp(x) t, d/dt = exp(x)
        assert close(x.grad, math.exp(0.5) * 2.0) and close(t.grad, math.exp(0.5))


# -- Random expressions: forward and reverse agree ---------------------------------

UNARY_OPS: list[Callable[[Any], Any]] = [
    ag.sin,
    ag.cos,
    ag.tanh,
    ag.atan,
    ag.sigmoid,
    ag.softplus,
    ag.erf,
    lambda a: ag.exp(ag.sin(a)),
    lambda a: ag.log(1 + a * a),
    lambda a: ag.sqrt(1 + a * a),
]
BINARY_OPS: list[Callable[[Any, Any], Any]] = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (1 + b * b),
    lambda a, b: ag.hypot(a, 1 + b * b),  # away from its kink at the origin
]


@st.composite
def expressions(draw: st.DrawFn, depth: int = 4) -> Callable[[Any, Any], Any]:
    """A random smooth function of (x, y) from the ops above; shrinks to x."""
    if depth == 0 or draw(st.booleans()):
        leaf = draw(st.sampled_from(["x", "y", "c"]))
        c = draw(st.floats(-2, 2))
        return {"x": lambda x, y: x, "y": lambda x, y: y, "c": lambda x, y: c}[leaf]
    if draw(st.booleans()):
        op1 = draw(st.sampled_from(UNARY_OPS))
        a = draw(expressions(depth - 1))
        return lambda x, y: op1(a(x, y))
    op2 = draw(st.sampled_from(BINARY_OPS))
    a, b = draw(expressions(depth - 1)), draw(expressions(depth - 1))
    return lambda x, y: op2(a(x, y), b(x, y))


class TestForwardReverseAgreement:
    """jvp and grad agree on random expression graphs."""

    @given(
        f=expressions(),
        x=st.floats(-2, 2),
        y=st.floats(0.1, 2),
        tx=st.floats(-1, 1),
        ty=st.floats(-1, 1),
    )
    def test_first_order(
        self, f: Callable[..., Any], x: float, y: float, tx: float, ty: float
    ) -> None:
        """The jvp equals the gradient dotted with the tangent."""
        gx, gy = grad(f, argnums=(0, 1))(x, y)
        _, tangent = jvp(f, (x, y), (tx, ty))
        want = float(gx) * tx + float(gy) * ty
        assert math.isclose(float(tangent), want, rel_tol=1e-9, abs_tol=1e-9)

    @given(f=expressions(depth=3), x=st.floats(-2, 2), y=st.floats(0.1, 2))
    def test_second_order(self, f: Callable[..., Any], x: float, y: float) -> None:
        """Forward over forward equals reverse over reverse: d2f/dx2."""
        d_fwd = jvp(lambda a: jvp(lambda b: f(b, y), (a,), (1.0,))[1], (x,), (1.0,))[1]
        d_rev = grad(grad(f))(x, y)
        assert math.isclose(float(d_fwd), float(d_rev), rel_tol=1e-8, abs_tol=1e-8)

    @given(
        f=expressions(depth=3),
        x=st.floats(-2, 2),
        y=st.floats(0.1, 2),
        tx=st.floats(-1, 1),
        ty=st.floats(-1, 1),
        closed_over=st.booleans(),
    )
    def test_forward_over_reverse_in_every_direction(
        self,
        f: Callable[..., Any],
        x: float,
        y: float,
        tx: float,
        ty: float,
        closed_over: bool,
    ) -> None:
        """jvp of grad, both inputs moving, equals the Hessian (reverse over
        reverse) times the tangent; also when f closes over a Value."""
        w = Value(1.5)
        g = (lambda a, b: f(a, b) * w) if closed_over else f
        h = ag.hessian(g)(x, y)
        for i in (0, 1):
            _, tangent = jvp(grad(g, argnums=i), (x, y), (tx, ty))
            want = float(h[i][0]) * tx + float(h[i][1]) * ty
            assert math.isclose(float(tangent), want, rel_tol=1e-8, abs_tol=1e-8)


class TestErrors:
    """jvp's arguments are checked, naming the bad value."""

    def test_not_sequences(self) -> None:
        """primals and tangents must be tuples or lists."""
        with pytest.raises(TypeError, match=r"jvp: primals .*float"):
            jvp(ag.sin, 1.0, (1.0,))  # type: ignore[arg-type]  # the error under test

    def test_non_numeric(self) -> None:
        """A non-numeric primal or tangent is a TypeError naming it."""
        with pytest.raises(TypeError, match=r"jvp: tangents\[0\] .*str"):
            jvp(ag.sin, (1.0,), ("a",))

    def test_lengths(self) -> None:
        """primals and tangents must have the same length."""
        with pytest.raises(ValueError, match="2 primals but 1 tangents"):
            jvp(ag.hypot, (1.0, 2.0), (1.0,))

    def test_bad_output(self) -> None:
        """A non-numeric output is a TypeError showing it."""
        with pytest.raises(TypeError, match=r"jvp: .*str"):
            jvp(lambda x: "a", (1.0,), (1.0,))
