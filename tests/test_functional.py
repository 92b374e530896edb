"""The functional transforms against sympy and finite differences, nested to any order.

Nesting to third order is tested here for forward mode (``jvp``) and mixtures too.

Each test function is written once over a module ``m`` (``autograd_scalar`` or
``sympy``), so the expected derivatives come from sympy differentiating the same
expression, independently of this package.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
import sympy

import autograd_scalar as ag
from autograd_scalar import (
    Value,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    value_and_grad,
    vjp,
)

# -- Functions of one variable, written over a module m ---------------------------
UNARY: dict[str, Callable[[ModuleType], Callable[[Any], Any]]] = {
    "sin*exp": lambda m: lambda x: m.sin(x) * m.exp(x),
    "tanh^3/(1+x^2)": lambda m: lambda x: m.tanh(x) ** 3 / (1 + x * x),
    "log(1+x^2)*sqrt(x+2)": lambda m: lambda x: m.log(1 + x * x) * m.sqrt(x + 2),
    "x^x": lambda m: lambda x: x**x,
    "atan(x)*cos(x)+erf(x)": lambda m: lambda x: m.atan(x) * m.cos(x) + m.erf(x),
}
POINTS = [0.3, 0.9, 1.7]


def rosenbrock(x: Any, y: Any, z: Any) -> Any:
    """Rosenbrock's function in three variables (works on numbers, Values, sympy)."""
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2 + (1 - y) ** 2 + 100 * (z - y * y) ** 2


def sympy_derivative(expr: Any, var: Any, order: int, point: dict[Any, float]) -> float:
    return float(sympy.diff(expr, var, order).evalf(30, subs=point))


def close(got: Any, want: float, rel: float = 1e-9) -> bool:
    return math.isclose(float(got), want, rel_tol=rel, abs_tol=1e-12)


def central(f: Callable[[float], Any], x: float, h: float = 1e-6) -> float:
    """Central finite difference of f at x."""
    return (float(f(x + h)) - float(f(x - h))) / (2 * h)


def forward_derivative(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """f' by forward mode: one jvp with tangent 1."""
    return lambda x: jvp(f, (x,), (1.0,))[1]


# Ways to take the derivative three times, innermost first: reverse mode, forward
# mode, reverse over forward and forward over reverse, mixed.
NESTINGS: dict[str, list[Callable[[Callable[[Any], Any]], Callable[[Any], Any]]]] = {
    "grad^3": [grad, grad, grad],
    "jvp^3": [forward_derivative] * 3,
    "grad(grad(jvp))": [forward_derivative, grad, grad],
    "grad(jvp(jvp))": [forward_derivative, forward_derivative, grad],
    "jvp(grad(grad))": [grad, grad, forward_derivative],
    "jvp(jvp(grad))": [grad, forward_derivative, forward_derivative],
    "jvp(grad(jvp))": [forward_derivative, grad, forward_derivative],
    "grad(jvp(grad))": [grad, forward_derivative, grad],
}


class TestNestedGradVsSympy:
    """grad(grad(grad(f))), jvp in jvp in jvp, and mixtures are exact to rounding."""

    @pytest.mark.parametrize("nesting", list(NESTINGS))
    @pytest.mark.parametrize("name", list(UNARY))
    @pytest.mark.parametrize("x0", POINTS)
    def test_three_orders(self, nesting: str, name: str, x0: float) -> None:
        """First, second and third derivatives equal sympy's."""
        f = UNARY[name](ag)
        x = sympy.Symbol("x")
        expr = UNARY[name](sympy)(x)
        d = f
        for order, differentiate in enumerate(NESTINGS[nesting], start=1):
            d = differentiate(d)
            want = sympy_derivative(expr, x, order, {x: x0})
            assert close(d(x0), want), (name, order)

    @pytest.mark.parametrize("x0", POINTS)
    def test_user_primitive_every_order(self, x0: float, logcosh: Any) -> None:
        """A primitive() with its partial in package functions nests to order four."""
        x = sympy.Symbol("x")
        expr = sympy.log(sympy.cosh(x))
        d = logcosh
        for order in (1, 2, 3, 4):
            d = grad(d)
            assert close(d(x0), sympy_derivative(expr, x, order, {x: x0})), order

    def test_results_are_numbers(self) -> None:
        """Called on numbers, every level returns plain floats."""
        assert type(grad(grad(grad(ag.sin)))(0.5)) is float


class TestTransformsVsSympy:
    """Each transform against sympy's derivatives."""

    point = (0.5, 1.5, -0.7)

    def sympy_setup(self) -> tuple[list[Any], Any, dict[Any, float]]:
        syms = list(sympy.symbols("x y z"))
        return syms, rosenbrock(*syms), dict(zip(syms, self.point, strict=True))

    def test_value_and_grad(self) -> None:
        """Value and gradient (argnums a tuple) equal sympy's."""
        syms, expr, at = self.sympy_setup()
        value, grads = value_and_grad(rosenbrock, argnums=(0, 1, 2))(*self.point)
        assert close(value, float(expr.evalf(30, subs=at)))
        for g, s in zip(grads, syms, strict=True):
            assert close(g, sympy_derivative(expr, s, 1, at))

    def test_grad_argnums_int_and_negative(self) -> None:
        """An int argnums gives one derivative; -1 is the last argument."""
        syms, expr, at = self.sympy_setup()
        assert close(
            grad(rosenbrock, 1)(*self.point), float(expr.diff(syms[1]).subs(at))
        )
        assert close(
            grad(rosenbrock, -1)(*self.point), float(expr.diff(syms[2]).subs(at))
        )

    def test_hessian_of_rosenbrock(self) -> None:
        """The Rosenbrock Hessian equals sympy's, entry by entry."""
        syms, expr, at = self.sympy_setup()
        h = hessian(rosenbrock)(*self.point)
        want = sympy.hessian(expr, syms).evalf(30, subs=at)
        assert len(h) == 3 and all(len(row) == 3 for row in h)
        for i in range(3):
            for j in range(3):
                assert close(h[i][j], float(want[i, j]))

    def test_hessian_argnums(self) -> None:
        """hessian with a tuple argnums is the sub-block; with an int, one number."""
        syms, expr, at = self.sympy_setup()
        want = sympy.hessian(expr, syms).evalf(30, subs=at)
        block = hessian(rosenbrock, argnums=(0, 2))(*self.point)
        for a, i in enumerate((0, 2)):
            for b, j in enumerate((0, 2)):
                assert close(block[a][b], float(want[i, j]))
        assert close(hessian(rosenbrock, 1)(*self.point), float(want[1, 1]))

    def test_jacobian_of_a_sequence(self) -> None:
        """The Jacobian of a vector function is a list of rows, as sympy's."""

        def f(m: ModuleType) -> Callable[..., list[Any]]:
            return lambda x, y: [x * m.sin(y), m.exp(x) / y, x**2 + y]

        x, y = sympy.symbols("x y")
        want = sympy.Matrix(f(sympy)(x, y)).jacobian([x, y]).subs({x: 0.4, y: 1.3})
        got = jacobian(f(ag))(0.4, 1.3)
        assert len(got) == 3
        for i in range(3):
            for j in range(2):
                assert close(got[i][j], float(want[i, j]))
        column = jacobian(f(ag), argnums=1)(0.4, 1.3)
        assert [close(c, float(want[i, 1])) for i, c in enumerate(column)] == [True] * 3

    def test_vjp(self) -> None:
        """The pullback gives cotangent times the Jacobian, as sympy's."""
        x, y = sympy.symbols("x y")
        outs = [x * sympy.sin(y), sympy.exp(x) / y]
        value, pullback = vjp(lambda a, b: [a * ag.sin(b), ag.exp(a) / b], 0.4, 1.3)
        at = {x: 0.4, y: 1.3}
        assert [close(v, float(o.subs(at))) for v, o in zip(value, outs, strict=True)]
        ct = (2.0, -3.0)
        got = pullback(list(ct))
        for k, s in enumerate((x, y)):
            want = sum(c * o.diff(s) for c, o in zip(ct, outs, strict=True))
            assert close(got[k], float(want.subs(at)))

    def test_vjp_scalar_pullback_twice(self) -> None:
        """A scalar output's pullback scales by the cotangent and can be reused."""
        value, pullback = vjp(lambda a: a**3, 2.0)
        assert value == 8.0 and pullback(1.0) == (12.0,) and pullback(0.5) == (6.0,)

    def test_hvp(self) -> None:
        """Hessian-vector products equal sympy's H v."""
        syms, expr, at = self.sympy_setup()
        v = (1.0, -2.0, 0.5)
        got = hvp(rosenbrock, self.point, v)
        want = sympy.hessian(expr, syms).evalf(30, subs=at) * sympy.Matrix(v)
        assert [close(g, float(w)) for g, w in zip(got, want, strict=True)] == [
            True
        ] * 3


# -- Functions of two variables, written over a module m, for second order ------------
BINARY: dict[str, Callable[[ModuleType], Callable[[Any, Any], Any]]] = {
    "x^2 y + exp(xy)": lambda m: lambda x, y: x * x * y + m.exp(x * y),
    "sin(x) tanh(y) / (1+x^2)": lambda m: (
        lambda x, y: m.sin(x) * m.tanh(y) / (1 + x * x)
    ),
    "atan2(y, x) sqrt(x+y)": lambda m: lambda x, y: m.atan2(y, x) * m.sqrt(x + y),
    "x^y": lambda m: lambda x, y: x**y,
}

# Every way to compose two first-order transforms into a Hessian of f(x, y).
HESSIANS: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "hessian": hessian,
    "jacfwd(jacrev)": lambda f: jacfwd(jacrev(f)),
    "jacrev(jacfwd)": lambda f: jacrev(jacfwd(f)),
    "jacfwd(jacfwd)": lambda f: jacfwd(jacfwd(f)),
    "jacrev(jacrev)": lambda f: jacrev(jacrev(f)),
    "jacfwd(grad)": lambda f: jacfwd(grad(f, None)),
    "jvp(grad) columns": lambda f: (
        lambda x, y: [
            list(row)
            for row in zip(
                *(jvp(grad(f, None), (x, y), t)[1] for t in ((1.0, 0.0), (0.0, 1.0))),
                strict=True,
            )
        ]
    ),
    "grad(jvp) rows": lambda f: (
        lambda x, y: [
            list(grad(lambda a, b, t=t: jvp(f, (a, b), t)[1], (0, 1))(x, y))
            for t in ((1.0, 0.0), (0.0, 1.0))
        ]
    ),
}


class TestSecondOrderCompositions:
    """Every composition of jvp, grad, jacfwd and jacrev gives sympy's Hessian."""

    @pytest.mark.parametrize("how", sorted(HESSIANS))
    @pytest.mark.parametrize("name", sorted(BINARY))
    def test_vs_sympy(self, name: str, how: str) -> None:
        """The Hessian by this composition equals sympy's, entry by entry."""
        x, y = sympy.symbols("x y")
        at = {x: 0.8, y: 1.3}
        want = sympy.hessian(BINARY[name](sympy)(x, y), (x, y)).evalf(30, subs=at)
        got = HESSIANS[how](BINARY[name](ag))(0.8, 1.3)
        for i in range(2):
            for j in range(2):
                assert close(got[i][j], float(want[i, j])), (i, j)

    @pytest.mark.parametrize("how", sorted(HESSIANS))
    def test_vs_reverse_over_reverse(self, how: str) -> None:
        """Each composition equals jacobian(grad(f)) on Rosenbrock's first two axes."""

        def f(x: Any, y: Any) -> Any:
            return rosenbrock(x, y, 0.25)

        want = jacobian(grad(f, None))(0.5, 1.5)
        got = HESSIANS[how](f)(0.5, 1.5)
        assert [[pytest.approx(v, rel=1e-12) for v in row] for row in got] == want

    @pytest.mark.parametrize("how", sorted(HESSIANS))
    def test_no_value_is_nan_on_both_sides(self, how: str) -> None:
        """x**n at x = -2: d/dn has no value, so neither has any entry of its row or
        column; d2/dx2 = n (n-1) x**(n-2) = 3 * 2 * (-2) = -12 (by hand)."""
        h = HESSIANS[how](lambda x, n: x**n)(-2.0, 3.0)
        assert h[0][0] == -12.0
        assert all(math.isnan(v) for v in (h[0][1], h[1][0], h[1][1]))


class TestJacfwdJacrev:
    """jacfwd and jacrev: jacobian's layout and argnums, by forward and reverse mode."""

    @pytest.mark.parametrize("jac", [jacfwd, jacrev])
    def test_vector_function_vs_sympy(self, jac: Callable[..., Any]) -> None:
        """The Jacobian of a function of two outputs equals sympy's."""

        def f(m: ModuleType) -> Callable[[Any, Any, Any], Any]:
            return lambda x, y, z: [x * m.sin(y) + z, m.exp(x * z) / (1 + y * y)]

        syms = sympy.symbols("x y z")
        point = (0.4, -1.1, 0.9)
        want = sympy.Matrix(f(sympy)(*syms)).jacobian(syms)
        want = want.evalf(30, subs=dict(zip(syms, point, strict=True)))
        got = jac(f(ag))(*point)
        assert len(got) == 2 and all(len(row) == 3 for row in got)
        for i in range(2):
            for j in range(3):
                assert close(got[i][j], float(want[i, j]))

    @pytest.mark.parametrize("jac", [jacfwd, jacrev])
    def test_layouts(self, jac: Callable[..., Any]) -> None:
        """Scalar output: a row; an int argnums drops the argument axis (by hand)."""
        assert jac(lambda x, y: x * y)(3.0, 5.0) == [5.0, 3.0]
        assert jac(lambda x, y: x * y, argnums=1)(3.0, 5.0) == 3.0
        assert jac(lambda x, y: [x * y, x + y], argnums=0)(3.0, 5.0) == [5.0, 1.0]
        assert jac(lambda x, y: [x * y, x + y], argnums=(1,))(3.0, 5.0) == [
            [3.0],
            [1.0],
        ]

    def test_exact_for_fractions(self) -> None:
        """On Fractions jacfwd stays exact: (3 x**2 / y, -x**3 / y**2) by hand."""
        from fractions import Fraction

        got = jacfwd(lambda x, y: x**3 / y)(Fraction(1, 3), Fraction(2))
        assert got == [Fraction(3, 9 * 2), -Fraction(1, 27 * 4)]

    def test_bad_argument(self) -> None:
        """A non-numeric argument differentiated is a TypeError naming it."""
        with pytest.raises(TypeError, match=r"jacfwd\(<lambda>\): argument 0 .*str"):
            jacfwd(lambda x: x)("a")


class TestForwardOverReverse:
    """jvp of functions that run a reverse pass: grad, vjp, backward."""

    def test_jvp_of_grad_is_second_derivative(self) -> None:
        """jvp(grad(sin)) at 1 along 1: (cos 1, -sin 1)."""
        assert jvp(grad(ag.sin), (1.0,), (1.0,)) == (math.cos(1.0), -math.sin(1.0))

    def test_jvp_of_vjp(self) -> None:
        """The tangent of a pullback is the Hessian-vector product (by hand: x^2 y)."""

        def pulled(x: Any, y: Any) -> Any:
            return vjp(lambda a, b: a * a * b, x, y)[1](1.0)

        # gradient (2xy, x^2); along (1, 0) its derivative is (2y, 2x) = (10, 6)
        assert jvp(pulled, (3.0, 5.0), (1.0, 0.0)) == ([30.0, 9.0], [10.0, 6.0])

    def test_jvp_of_backward(self) -> None:
        """A function calling backward() on Values made from its input, under jvp."""

        def slope(x: Any) -> Any:
            v = Value(x)
            (v * v * v + ag.exp(v)).backward()
            return v.grad

        value, tangent = jvp(slope, (0.5,), (1.0,))
        assert close(value, 3 * 0.25 + math.exp(0.5))  # 3x^2 + e^x
        assert close(tangent, 6 * 0.5 + math.exp(0.5))  # 6x + e^x

    def test_hvp_by_forward_over_reverse(self) -> None:
        """jvp(grad(f)) along v equals hvp(f) along v and sympy's H v."""
        syms = sympy.symbols("x y z")
        point, v = (0.5, 1.5, -0.7), (0.3, -1.0, 2.0)
        want = sympy.hessian(rosenbrock(*syms), syms) * sympy.Matrix(v)
        want = want.evalf(30, subs=dict(zip(syms, point, strict=True)))
        got = jvp(grad(rosenbrock, None), point, v)[1]
        reverse = hvp(rosenbrock, point, v)
        for i in range(3):
            assert close(got[i], float(want[i])) and close(reverse[i], float(want[i]))

    def test_grad_closing_over_the_dual(self) -> None:
        """d/dx of grad_y(x y**2) at y = 1: 2 x y = 6 at x = 3, slope 2 y = 2."""
        got = jvp(lambda x: grad(lambda y: x * y * y)(1.0), (3.0,), (1.0,))
        assert got == (6.0, 2.0)

    def test_hips_style_check_of_a_pullback(self) -> None:
        """jvp of (x, v) -> v f'(x), the way HIPS checks a vjp: v f'' tx + f' tv."""

        def f(x: Any) -> Any:
            return ag.sin(x) * x

        def g(x: Any, v: Any) -> Any:
            return vjp(f, x)[1](v)[0]

        x, v, tx, tv = 0.7, 1.3, 0.5, -2.0
        d1 = math.cos(x) * x + math.sin(x)  # f' by hand
        d2 = 2 * math.cos(x) - math.sin(x) * x  # f'' by hand
        value, tangent = jvp(g, (x, v), (tx, tv))
        assert close(value, v * d1) and close(tangent, v * d2 * tx + d1 * tv)

    def test_third_order_mixed(self) -> None:
        """jacfwd(jacfwd(jacrev)) of x**4 at 2: 24 x = 48 (by hand)."""
        f = jacfwd(jacfwd(jacrev(lambda x: x**4, 0), 0), 0)
        assert f(2.0) == 48.0


class TestVsFiniteDifferences:
    """Each transform against central differences."""

    def test_grad(self) -> None:
        """grad of each test function matches a central difference."""
        for make in UNARY.values():
            f = make(ag)
            assert math.isclose(grad(f)(1.1), central(f, 1.1), rel_tol=1e-6)

    def test_second_order(self) -> None:
        """grad(grad(f)) matches a central difference of grad(f)."""
        for make in UNARY.values():
            f = make(ag)
            want = central(grad(f), 1.1)
            assert math.isclose(grad(grad(f))(1.1), want, rel_tol=1e-6)

    def test_jacobian_hessian_vjp_hvp(self) -> None:
        """jacobian, hessian, vjp and hvp match central differences."""
        point = [0.5, 1.5, -0.7]

        def partial_fd(g: Callable[..., Any], j: int) -> float:
            def along(t: float) -> Any:
                moved = list(point)
                moved[j] = t
                return g(*moved)

            return central(along, point[j])

        jac = jacobian(rosenbrock)(*point)
        hess = hessian(rosenbrock)(*point)
        _, pullback = vjp(rosenbrock, *point)
        hv = hvp(rosenbrock, point, [0.0, 1.0, 0.0])
        for j in range(3):
            fd = partial_fd(rosenbrock, j)
            assert math.isclose(jac[j], fd, rel_tol=1e-6)
            assert math.isclose(pullback(2.0)[j], 2 * fd, rel_tol=1e-6)
            for i in range(3):
                fd2 = partial_fd(lambda *a, i=i: grad(rosenbrock, i)(*a), j)
                assert math.isclose(hess[i][j], fd2, rel_tol=1e-5, abs_tol=1e-6)
            assert math.isclose(hv[j], hess[j][1], rel_tol=1e-12)


class TestNesting:
    """Transforms inside transforms: no perturbation confusion, no leaking grads."""

    def test_perturbation_confusion(self) -> None:
        """d/dx [x * d/dy (x + y)] = 1 (by hand: the inner derivative is 1)."""
        assert grad(lambda x: x * grad(lambda y: x + y)(x))(2.0) == 1
        assert grad(lambda x: x * grad(lambda y: x + y)(3.0))(2.0) == 1

    def test_closed_over_input_is_differentiated(self) -> None:
        """d/dx [x * d/dy (x * y)] = d/dx x^2 = 2x (by hand), y a number or x."""
        assert grad(lambda x: x * grad(lambda y: x * y)(1.0))(3.0) == 6.0
        assert grad(lambda x: x * grad(lambda y: x * y)(x))(3.0) == 6.0
        # d/dx [value of (x * y) at y = 1] = 1
        assert grad(lambda x: value_and_grad(lambda y: x * y)(1.0)[0])(3.0) == 1.0
        # d/dx [d/dy (x * y) via vjp] = 1
        assert grad(lambda x: vjp(lambda y: x * y, 1.0)[1](1.0)[0])(3.0) == 1.0

    def test_inner_number_inputs_become_constants(self) -> None:
        """An inner transform on numbers leaves constants: the outer returns numbers."""
        # d/dx [d/dy (x y^2) at y = 1] = d/dx 2x = 2 (by hand)
        out = grad(lambda x: grad(lambda y: x * y * y)(1.0))(5.0)
        assert out == 2.0 and type(out) is float

    def test_mixed_arguments(self) -> None:
        """d/dx d/dy (x^2 y^3) = 6 x y^2 (by hand), through argnums."""
        f = grad(grad(lambda x, y: x**2 * y**3, argnums=1), argnums=0)
        assert f(2.0, 3.0) == 6 * 2.0 * 9.0

    def test_jacobian_of_gradient_is_hessian(self) -> None:
        """jacobian(grad(f)) and hessian(f) agree on Rosenbrock."""
        point = (0.5, 1.5, -0.7)
        assert jacobian(grad(rosenbrock, None))(*point) == hessian(rosenbrock)(*point)

    def test_third_order_mixed_partials(self) -> None:
        """d3/dx dy dz of x*y*z*exp(x) matches sympy, through nested argnums."""
        x, y, z = sympy.symbols("x y z")
        expr = x * y * z * sympy.exp(x)
        want = float(expr.diff(x, y, z).subs({x: 0.3, y: 2.0, z: -1.0}))

        def f(a: Any, b: Any, c: Any) -> Any:
            return a * b * c * ag.exp(a)

        d = grad(grad(grad(f, 2), 1), 0)
        assert close(d(0.3, 2.0, -1.0), want)

    def test_on_values(self) -> None:
        """Called on Values, a transform returns Values to differentiate further."""
        x = Value(0.7)
        g = grad(ag.sin)(x)
        assert isinstance(g, Value) and close(g.data, math.cos(0.7))
        g.backward()
        assert close(x.grad, -math.sin(0.7))

    def test_closed_over_value_grad_untouched(self) -> None:
        """A Value the function closes over keeps its grad; the result is a Value."""
        w = Value(3.0)
        w.grad = 10.0
        g = grad(lambda x: x * w * w)(2.0)
        assert w.grad == 10.0 and isinstance(g, Value) and g.data == 9.0
        w.grad = 0
        g.backward()
        assert w.grad == 6.0  # d/dw w^2 = 2w (by hand)

    def test_argument_value_grad_untouched(self) -> None:
        """grad(f)(x) on a user's Value x leaves x.grad as it was."""
        x = Value(2.0)
        x.grad = 5.0
        assert grad(lambda t: t * t)(x).data == 4.0 and x.grad == 5.0


class TestModes:
    """The transforms under no_grad, detect_anomaly, detach and stop_gradient."""

    def test_inside_no_grad(self) -> None:
        """A transform still differentiates inside no_grad, and returns numbers."""
        x = Value(2.0)
        with ag.no_grad():
            g = grad(lambda t: t**3)(x)
            assert not ag.is_grad_enabled()
        assert g == 12.0 and type(g) is float

    def test_no_grad_inside_f(self) -> None:
        """no_grad inside the function is respected: no derivative flows."""

        def f(t: Any) -> Any:
            with ag.no_grad():
                c = t * t
            return c * t

        # d/dt of c t with c = 9 held constant. c is a leaf f made, which the
        # transform cannot tell from a Value it closed over: the result is a Value.
        assert float(grad(f)(3.0)) == 9.0

    def test_detach_and_stop_gradient(self) -> None:
        """detach() and stop_gradient in f hold values constant, at every order."""
        assert float(grad(lambda t: t * t.detach())(3.0)) == 3.0
        assert float(grad(grad(lambda t: t * t * ag.stop_gradient(t)))(3.0)) == 6.0

    def test_detect_anomaly_in_nested_grad(self) -> None:
        """A nan second derivative inside detect_anomaly names the op and the line."""
        f = grad(grad(ag.sqrt))
        assert math.isinf(grad(ag.sqrt)(0.0))  # sqrt'(0) = inf, silently
        with ag.detect_anomaly(), pytest.raises(FloatingPointError) as info:
            f(0.0)
        assert "sqrt" in str(info.value) and "created at" in str(info.value)


class TestErrors:
    """Bad arguments raise TypeError or ValueError naming the function and value."""

    def test_argnums_out_of_range(self) -> None:
        """argnums past the arguments is a ValueError naming both."""
        with pytest.raises(ValueError, match=r"grad\(rosenbrock\).*argnums 3"):
            grad(rosenbrock, 3)(1.0, 2.0, 3.0)
        with pytest.raises(ValueError, match=r"jacobian\(<lambda>\).*argnums -2"):
            jacobian(lambda x: x, -2)(1.0)

    def test_keyword_arguments(self) -> None:
        """Keyword arguments are a TypeError naming the transform, f and the key."""
        with pytest.raises(TypeError, match=r"grad\(rosenbrock\).*'y'"):
            grad(rosenbrock)(1.0, y=2.0)

    def test_argnums_repeated(self) -> None:
        """argnums naming one argument twice (also as -1 and 1) is a ValueError."""
        with pytest.raises(
            ValueError, match=r"argnums \(1, -1\) names an argument twice"
        ):
            grad(lambda x, y: x * y, argnums=(1, -1))(1.0, 2.0)

    @pytest.mark.parametrize("argnums", ["0", 1.0, (), (0, "1")])
    def test_argnums_wrong_type(self, argnums: Any) -> None:
        """argnums that is not an int or ints is a TypeError at once."""
        with pytest.raises(TypeError, match="argnums"):
            grad(rosenbrock, argnums)

    def test_output_not_scalar(self) -> None:
        """grad of a function returning a list is a TypeError showing the list."""
        with pytest.raises(TypeError, match=r"grad\(<lambda>\).*scalar.*list"):
            grad(lambda x: [x, x])(1.0)
        with pytest.raises(TypeError, match=r"hessian|grad.*scalar"):
            hessian(lambda x: [x])(1.0)
        with pytest.raises(TypeError, match=r"jacobian.*output 1.*str"):
            jacobian(lambda x: [x, "a"])(1.0)

    @pytest.mark.parametrize("bad", ["1.0", None, [1.0], 1j])
    def test_non_numeric_argument(self, bad: Any) -> None:
        """A non-number argument to differentiate is a TypeError naming it."""
        with pytest.raises(TypeError, match=r"grad\(<lambda>\): argument 0 .*got"):
            grad(lambda x: x)(bad)

    def test_other_arguments_pass_through(self) -> None:
        """Arguments not in argnums may be anything."""
        assert grad(lambda x, scale: x * scale["k"])(2.0, {"k": 3.0}) == 3.0

    def test_vjp_cotangent_shape(self) -> None:
        """A cotangent of the wrong shape is a ValueError."""
        _, pullback = vjp(lambda x: [x, x], 1.0)
        with pytest.raises(ValueError, match="cotangent"):
            pullback(1.0)
        with pytest.raises(ValueError, match="cotangent"):
            pullback([1.0])

    def test_hvp_arguments(self) -> None:
        """hvp wants sequences of equal length."""
        with pytest.raises(TypeError, match="primals"):
            hvp(rosenbrock, 1.0, (1.0,))  # type: ignore[arg-type]  # the error under test
        with pytest.raises(ValueError, match="vector"):
            hvp(rosenbrock, (1.0, 2.0, 3.0), (1.0,))
