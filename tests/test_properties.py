"""Properties of reverse mode over random expression graphs.

Every test draws functions from ``autograd_scalar.testing.strategies.expressions``:
DAGs of the registered primitives (built-ins plus a user primitive registered
here) with shared subexpressions, at points inside every domain and away from
kinks. The laws are checked against finite differences, against each other
(linearity, product, chain and sum rules) and, for rational expressions over
``Fraction``s, exactly against sympy.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from typing import Any, NamedTuple

import pytest
import sympy
from hypothesis import assume, given, reject
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Value, _rules
from autograd_scalar.testing import check_grad
from autograd_scalar.testing.strategies import Constant, Expression, Node, expressions

Case = tuple[Expression, tuple[float, ...]]


@pytest.fixture(scope="module", autouse=True)
def user_primitive() -> Iterator[None]:
    """The pool: the built-ins and one user primitive; the registry is restored after.

    Primitives other tests registered (some wrong on purpose) are left out.
    """
    with pytest.MonkeyPatch.context() as mp:
        builtins = {n: p for n, p in ag.registered().items() if n in _rules._BUILTIN}
        mp.setattr(_rules, "_REGISTRY", builtins)
        # log(e^x + e^y), a smooth maximum, with partials sigmoid(x - y), sigmoid(y - x)
        ag.primitive(
            lambda x, y: max(x, y) + math.log1p(math.exp(-abs(x - y))),
            lambda x, y: ag.sigmoid(x - y),
            lambda x, y: ag.sigmoid(y - x),
            name="smooth_max",
        )
        yield


def gradients(f: Callable[..., Any], args: Sequence[Any]) -> list[Any]:
    """Reverse-mode gradient of ``f`` at ``args`` (0 for inputs it does not read)."""
    xs = [Value(a) for a in args]
    out = f(*xs)
    if isinstance(out, Value):
        out.backward()
    return [x.grad for x in xs]


def close(got: Sequence[Any], want: Sequence[Any]) -> bool:
    """Equal up to rounding: both sides are sums of the same bounded products."""
    return all(
        math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-9)
        for g, w in zip(got, want, strict=True)
    )


class TwoExpressions(NamedTuple):
    """A random expression ``f``, the subexpression ``g`` ending at its node ``k``."""

    f: Expression
    k: int
    g: Expression
    args: tuple[float, ...]  # safe for both: every node of f is checked there


@st.composite
def two_expressions(draw: st.DrawFn) -> TwoExpressions:
    """A random expression, one of its subexpressions, and a point safe for both."""
    f, args = draw(expressions())
    k = draw(st.integers(0, len(f) - 1))
    return TwoExpressions(f, k, f.subexpression(k), args)


class TestFiniteDifferences:
    """Reverse mode agrees with central finite differences."""

    @given(expressions())
    def test_first_order(self, case: Case) -> None:
        """Every partial derivative of a random expression."""
        f, args = case
        assert check_grad(f, *args)

    @given(expressions(max_ops=5))
    def test_second_order(self, case: Case) -> None:
        """Every second derivative, from backward(create_graph=True)."""
        f, args = case
        # softsign's slope has a kink at 0 that its own slope does not show (it is
        # continuous): the strategy's kink probes cannot keep a point from it.
        assume(all(node.primitive.name != "softsign" for node in f.nodes))
        assert check_grad(f, *args, order=2)


class TestLaws:
    """The differentiation rules hold for random functions sharing subexpressions."""

    @given(two_expressions(), st.floats(-3, 3), st.floats(-3, 3))
    def test_linearity(self, fga: TwoExpressions, a: float, b: float) -> None:
        """grad(a f + b g) = a grad f + b grad g."""
        f, _, g, args = fga
        got = gradients(lambda *xs: a * f(*xs) + b * g(*xs), args)
        want = [
            a * df + b * dg
            for df, dg in zip(gradients(f, args), gradients(g, args), strict=True)
        ]
        assert close(got, want)

    @given(two_expressions())
    def test_product_rule(self, fga: TwoExpressions) -> None:
        """grad(f g) = f grad g + g grad f."""
        f, _, g, args = fga
        got = gradients(lambda *xs: f(*xs) * g(*xs), args)
        fv, gv = f(*args), g(*args)
        want = [
            fv * dg + gv * df
            for df, dg in zip(gradients(f, args), gradients(g, args), strict=True)
        ]
        assert close(got, want)

    @given(expressions(), expressions(max_inputs=1))
    def test_chain_rule(self, inner: Case, outer: Case) -> None:
        """d/dx h(f(x)) = h'(f(x)) grad f(x), with h and f random."""
        f, args = inner
        h, (y,) = outer
        # Shift f so that at args the inner value is exactly y, where h is safe.
        c = f(*args)

        def composite(*xs: Any) -> Any:
            return h(f(*xs) - c + y)

        (dh,) = gradients(h, [y])
        got = gradients(composite, args)
        assert close(got, [dh * df for df in gradients(f, args)])

    @given(two_expressions())
    def test_backward_of_a_sum_is_the_sum_of_backwards(
        self, fga: TwoExpressions
    ) -> None:
        """(f + g).backward() == f.backward() then g.backward() on one shared graph."""
        f, k, g, args = fga
        xs = [Value(a) for a in args]
        slots = f.trace(*xs)
        outer, inner = slots[-1], slots[f.arity + k]  # g's output, inside f's graph
        outer.backward()
        inner.backward()  # g's nodes are interior to f's graph: they start afresh
        together = gradients(lambda *ys: f(*ys) + g(*ys), args)
        assert close([x.grad for x in xs], together)


class TestConstants:
    """What does not depend on an input has gradient 0 with respect to it."""

    @given(expressions())
    def test_stopped_inputs_give_zero_gradient(self, case: Case) -> None:
        """A function of stop_gradient(x) is constant in x."""
        f, args = case
        got = gradients(lambda *xs: f(*[ag.stop_gradient(x) for x in xs]), args)
        assert got == [0] * len(args)

    @given(two_expressions())
    def test_a_number_adds_nothing(self, fga: TwoExpressions) -> None:
        """f evaluated on plain numbers is a constant: adding it changes no gradient."""
        f, _, g, args = fga
        constant = f(*args)
        assert not isinstance(constant, Value)
        got = gradients(lambda *xs: g(*xs) + constant, args)
        assert got == gradients(g, args)

    @given(expressions())
    def test_unread_inputs(self, case: Case) -> None:
        """Inputs the expression never reads keep gradient 0."""
        f, args = case
        read = {a for n in f.nodes for a in n.operands if not isinstance(a, Constant)}
        grads = gradients(f, args)
        assert all(grads[i] == 0 for i in range(f.arity) if i not in read)


class TestFoundByTheseProperties:
    """Minimal cases of rule bugs the random expressions found, kept as examples."""

    def test_tiny_denominator_at_second_order(self) -> None:
        """d/dy x/y was -x/(y*y): y*y underflowed to 0 at y = 1e-155 (now -ans/y)."""
        assert check_grad(lambda x: 0 / x, 1e-155, order=2)

    def test_variable_exponent_at_zero(self) -> None:
        """d/dx x**y at y = 0 was the constant 0: d2/dx dy lost its 1/x."""
        assert check_grad(lambda x, y: x**y, 0.6, 0.0, order=2)


# -- Exact arithmetic -----------------------------------------------------------------

RATIONAL = ["add", "sub", "mul", "truediv", "neg", "pow"]


@st.composite
def rational_expressions(draw: st.DrawFn) -> tuple[Expression, tuple[Fraction, ...]]:
    """Expressions of + - * / and integer powers, at a point of Fractions."""
    f, args = draw(expressions(primitives=RATIONAL))
    nodes = []
    for n in f.nodes:
        if n.primitive.name == "pow":  # the slot operand as base, an integer exponent
            base = n.operands[isinstance(n.operands[0], Constant)]
            n = Node(n.primitive, (base, Constant(draw(st.integers(-3, 3)))))
        nodes.append(n)
    return Expression(f.arity, nodes), tuple(Fraction(a) for a in args)


class TestExactFractions:
    """Rational expressions over Fractions are exact in value and gradient."""

    @given(rational_expressions())
    def test_matches_sympy_exactly(
        self, case: tuple[Expression, tuple[Fraction, ...]]
    ) -> None:
        """Value and gradient equal sympy's exact rational derivative."""
        f, args = case
        xs = [Value(a) for a in args]
        try:
            out = f(*xs)
        except ZeroDivisionError:
            reject()  # a denominator is exactly 0 at this point
        out.backward()
        symbols = sympy.symbols(f"x0:{f.arity}")
        expr = f(*symbols)  # the operators build sympy's expression
        at = {
            s: sympy.Rational(a.numerator, a.denominator)
            for s, a in zip(symbols, args, strict=True)
        }

        def exact(e: Any) -> Fraction:
            r = sympy.Rational(e.subs(at))
            return Fraction(int(r.p), int(r.q))

        assert isinstance(out.data, Fraction | int) and out.data == exact(expr)
        for s, x in zip(symbols, xs, strict=True):
            assert isinstance(x.grad, Fraction | int)
            assert x.grad == exact(sympy.diff(expr, s))

    @given(rational_expressions())
    def test_sum_of_backwards_is_exact(
        self, case: tuple[Expression, tuple[Fraction, ...]]
    ) -> None:
        """Accumulating two backward passes equals one pass over the sum, exactly."""
        f, args = case
        xs, ys = [Value(a) for a in args], [Value(a) for a in args]
        try:
            slots = f.trace(*xs)
        except ZeroDivisionError:
            reject()
        first = slots[f.arity]
        slots[-1].backward()
        first.backward()
        both = f.trace(*ys)
        (both[-1] + both[f.arity]).backward()
        assert [x.grad for x in xs] == [y.grad for y in ys]
