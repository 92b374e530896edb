"""Semantics at the edges: numpy scalars as Python numbers, partials that are not
numbers, user primitives that are forgotten, second derivatives at kinks and edges."""

from __future__ import annotations

import gc
import linecache
import math
from typing import Any

import pytest

import autograd_scalar as ag
from autograd_scalar import Value

pytestmark = pytest.mark.usefixtures("forget_user_primitives")


class TestNumpyScalars:
    """A numpy scalar behaves exactly as the Python number of the same value."""

    np = pytest.importorskip("numpy")

    def test_division_by_zero_raises(self) -> None:
        """Value(np.float64(1.0)) / 0 raises ZeroDivisionError, as 1.0 / 0 does."""
        with pytest.raises(ZeroDivisionError, match="truediv"):
            Value(self.np.float64(1.0)) / 0
        with pytest.raises(ZeroDivisionError, match="truediv"):
            Value(1.0) / self.np.float64(0.0)

    def test_fractional_power_of_negative_raises(self) -> None:
        """np.float64(-8.0) ** (1/3) raises ValueError, as math.pow(-8.0, 1/3) does."""
        with pytest.raises(ValueError, match="pow"):
            Value(self.np.float64(-8.0)) ** (1 / 3)

    def test_overflow_raises(self) -> None:
        """np.float64(10.0) ** 400 raises OverflowError, as 10.0 ** 400 does."""
        with pytest.raises(OverflowError, match="pow"):
            Value(self.np.float64(10.0)) ** 400
        with pytest.raises(OverflowError):
            _ = 10.0**400  # Python's own semantics, the reference

    def test_int64_does_not_wrap(self) -> None:
        """np.int64(3e9) cubed has the exact integer gradient 3 * x**2."""
        x = Value(self.np.int64(3_000_000_000))
        (x**3).backward()
        assert type(x.data) is int
        assert x.grad == 3 * 3_000_000_000**2

    def test_bool_is_bool(self) -> None:
        """np.bool_ data is a Python bool."""
        assert type(Value(self.np.bool_(True)).data) is bool

    def test_operands_and_seeds(self) -> None:
        """numpy operands on either side, to functions and as seeds, are plain."""
        np = self.np
        x = Value(2.0)
        for y in (x * np.float64(3.0), np.float64(3.0) * x, ag.atan2(x, np.float32(1))):
            assert all(type(v) is not np.float64 for v in y._inputs())
        y = x * x
        y.backward(np.float32(0.5))
        assert type(x.grad) is float and x.grad == 2.0
        assert type(ag.exp(np.float64(0.0))) is float


def _outcome(run: Any) -> Any:
    """What ``run()`` gives: its result with the type of every number in it, or the
    type of the exception it raises."""
    try:
        out = run()
    except (ArithmeticError, ValueError, TypeError) as err:
        return type(err)
    return _typed(out)


def _typed(x: Any) -> Any:
    if isinstance(x, tuple | list):
        return [_typed(v) for v in x]
    if isinstance(x, Value):
        x = x.data
    return (type(x), x)


def _paths() -> dict[str, Any]:
    """Each route a number takes into the package, as ``route(a, b)`` on numbers."""
    from autograd_scalar.tape import ConstantNode, Power, Tape, node_class

    def tape(a: Any, b: Any) -> Any:
        t = Tape()
        x = ConstantNode(a, t)
        y = node_class("truediv")(Power(x, 3, t), b, t)
        t.forward()
        t.backward()
        return y.output, x.gradient

    def backward(a: Any, b: Any) -> Any:
        x = Value(a)
        y = x**3 / b
        y.backward()
        return y.data, x.grad

    return {
        "operators": lambda a, b: (Value(2.0) + a, a * Value(2.0), Value(a) / b),
        "functions": lambda a, b: (ag.sin(a), ag.atan2(a, b)),
        "backward": backward,
        "grad": lambda a, b: ag.value_and_grad(lambda x: x**3 / b)(a),
        "jvp": lambda a, b: ag.jvp(lambda x: x**3 / b, (a,), (b,)),
        "vjp": lambda a, b: ag.vjp(lambda x: x**3, a)[1](b),
        "hvp": lambda a, b: ag.hvp(lambda x: x**3, (a,), (b,)),
        "trace": lambda a, b: ag.trace(lambda x: x**3 / b, 1.0).value_and_grad(a),
        "tape": tape,
    }


class TestNumpyScalarsOnEveryPath:
    """Each route into the package gives, for numpy scalars, exactly what it gives
    for the Python numbers of the same values: the same results of the same types,
    or the same exception (no wrapped int, no inf from a division by zero)."""

    np = pytest.importorskip("numpy")

    @pytest.mark.parametrize("path", sorted(_paths()))
    @pytest.mark.parametrize(
        ("a", "b"),
        [
            (3_000_000_000, 7),  # int64 wraps where Python's int does not
            (1.5, 0.0),  # numpy divides by zero to inf; Python raises
            (True, 2),  # numpy's bool_ is Python's bool
            (-8.0, 1e-300),
        ],
    )
    def test_as_python_numbers(self, path: str, a: Any, b: Any) -> None:
        np = self.np
        route = _paths()[path]
        expected = _outcome(lambda: route(a, b))
        na, nb = np.asarray(a)[()], np.asarray(b)[()]  # numpy scalars of those values
        assert type(na).__module__ == type(nb).__module__ == "numpy"
        assert _outcome(lambda: route(na, nb)) == expected


class TestUserPartials:
    """A user primitive's partial must give a real number."""

    np = pytest.importorskip("numpy")

    @pytest.mark.parametrize(
        "bad", [lambda x: 1j, lambda x: "1", lambda x: [1.0], lambda x: None]
    )
    def test_non_number_is_type_error(self, bad: Any) -> None:
        """A partial returning complex, str, list or None is a TypeError naming it."""
        odd = ag.primitive(lambda x: 2 * x, bad, name="odd_partial")
        x = Value(1.0)
        with pytest.raises(TypeError, match=r"primitive 'odd_partial': partial 0"):
            odd(x).backward()
        assert x.grad == 0

    def test_array_is_type_error(self) -> None:
        """A partial returning a numpy array is a TypeError naming the primitive."""
        np = self.np
        odd = ag.primitive(lambda x, y: x * y, lambda x, y: y, lambda x, y: np.ones(2))
        with pytest.raises(TypeError, match=r"'<lambda>': partial 1 .* ndarray"):
            odd(Value(1.0), Value(2.0)).backward()

    def test_numpy_scalar_partial_is_plain(self) -> None:
        """A partial returning a numpy scalar gives the Python number."""
        np = self.np
        twice = ag.primitive(lambda x: 2 * x, lambda x: np.float64(2.0))
        x = Value(1.0)
        twice(x).backward()
        assert type(x.grad) is float and x.grad == 2.0

    def test_values_pass_at_higher_order(self, logcosh: Any) -> None:
        """On Values (grad of grad) a partial's Value is accepted: tanh' = 1 - tanh²."""
        t = math.tanh(0.5)
        assert ag.grad(ag.grad(logcosh))(0.5) == pytest.approx(1 - t * t)


class TestUnregister:
    """A user primitive can be unregistered, and is then freed with its code."""

    def test_unique_names_do_not_accumulate(self) -> None:
        """Primitives made and unregistered under fresh names leave nothing behind."""
        before = len(ag.registered())
        for i in range(50):
            p = ag.primitive(lambda x: 3 * x, lambda x: 3, name=f"loop_prim_{i}")
            x = Value(1.0)
            p(x).backward()
            assert x.grad == 3
            ag.unregister(f"loop_prim_{i}")
        del p, x
        gc.collect()
        assert len(ag.registered()) == before
        assert not [f for f in linecache.cache if f.startswith("<pullback of loop_")]

    def test_graphs_keep_working(self) -> None:
        """A graph built before unregistering still differentiates."""
        p = ag.primitive(lambda x: 3 * x, lambda x: 3, name="gone_prim")
        x = Value(1.0)
        y = p(x)
        ag.unregister("gone_prim")
        y.backward()
        assert x.grad == 3 and "gone_prim" not in ag.registered()

    def test_builtin_and_unknown(self) -> None:
        """A built-in cannot be unregistered; an unknown name is a KeyError."""
        with pytest.raises(ValueError, match="unregister\\('exp'\\)"):
            ag.unregister("exp")
        with pytest.raises(KeyError, match="no_such_prim"):
            ag.unregister("no_such_prim")


# Second derivatives at every rule's kinks and edges. Each row: the primitive, a
# function of one variable through it, the point, and how the expected value is
# derived independently: sympy's one-sided limit of the second (and third)
# derivative, from the side where the function is defined (or both sides of a kink).
# Rows whose point has no value at all raise; rows at a point with no derivative by
# convention (atan2 at the origin) say so.
def _constant(sp: Any, x: Any) -> Any:
    return sp.Integer(0) * x


def _edge_rows() -> list[tuple[str, Any, float, Any, str]]:
    def sqrt_form(sp: Any, x: Any) -> Any:
        return sp.sqrt(x)

    return [
        ("sqrt", ag.sqrt, 0.0, sqrt_form, "+"),
        ("pow", lambda x: x**0.5, 0.0, lambda sp, x: x ** sp.Rational(1, 2), "+"),
        ("pow", lambda x: x ** (1 / 3), 0.0, lambda sp, x: sp.cbrt(x), "+"),
        ("pow", lambda x: x**1.5, 0.0, lambda sp, x: x ** sp.Rational(3, 2), "+"),
        ("pow", lambda x: x**2.5, 0.0, lambda sp, x: x ** sp.Rational(5, 2), "+"),
        ("pow", lambda x: x**1, 0.0, lambda sp, x: x, "+-"),
        ("pow", lambda x: x**0, 0.0, lambda sp, x: x**0, "+-"),
        ("pow", lambda y: 0.0**y, 0.0, lambda sp, y: sp.Integer(0) ** y, "+"),
        ("abs", abs, 0.0, lambda sp, x: sp.Abs(x), "+-"),
        ("relu", ag.relu, 0.0, lambda sp, x: sp.Max(x, 0), "+-"),
        (
            "maximum",
            lambda x: ag.maximum(x, 0.0),
            0.0,
            lambda sp, x: sp.Max(x, 0),
            "+-",
        ),
        (
            "minimum",
            lambda x: ag.minimum(x, 0.0),
            0.0,
            lambda sp, x: sp.Min(x, 0),
            "+-",
        ),
        ("hypot", lambda x: ag.hypot(x, 0.0), 0.0, lambda sp, x: sp.Abs(x), "+-"),
        (
            "_limit_div",
            lambda v: ag._rules._limit_div(1.0, v),
            0.0,
            lambda sp, v: 1 / v,
            "+",
        ),
        ("asin", ag.asin, 1.0, lambda sp, x: sp.asin(x), "-"),
        ("asin", ag.asin, -1.0, lambda sp, x: sp.asin(x), "+"),
        ("acos", ag.acos, 1.0, lambda sp, x: sp.acos(x), "-"),
        ("acos", ag.acos, -1.0, lambda sp, x: sp.acos(x), "+"),
        # Piecewise constant: every derivative is 0, at the jumps too (PyTorch's).
        ("sign", ag.sign, 0.0, _constant, "+-"),
        ("floor", ag.floor, 1.0, _constant, "+-"),
        ("ceil", ag.ceil, 1.0, _constant, "+-"),
        ("trunc", ag.trunc, 1.0, _constant, "+-"),
        ("round", round, 0.5, _constant, "+-"),
        ("round_digits", lambda x: round(x, 1), 0.05, _constant, "+-"),
        ("floordiv", lambda x: x // 1.0, 1.0, _constant, "+-"),
        # A remainder is x minus a piecewise constant: slope 1 on both sides.
        ("fmod", lambda x: ag.fmod(x, 1.0), 1.0, lambda sp, x: x, "+-"),
        ("mod", lambda x: x % 1.0, 1.0, lambda sp, x: x, "+-"),
        ("fmax", lambda x: ag.fmax(x, 0.0), 0.0, lambda sp, x: sp.Max(x, 0), "+-"),
        ("fmin", lambda x: ag.fmin(x, 0.0), 0.0, lambda sp, x: sp.Min(x, 0), "+-"),
        ("copysign", lambda x: ag.copysign(x, 1.0), 0.0, lambda sp, x: sp.Abs(x), "+-"),
        (
            "leaky_relu",
            ag.leaky_relu,
            0.0,
            lambda sp, x: sp.Piecewise((x, x > 0), (x / 100, True)),
            "+-",
        ),
        # elu's slope at 0 is the negative side's (PyTorch's): so are its derivatives.
        (
            "elu",
            ag.elu,
            0.0,
            lambda sp, x: sp.Piecewise((x, x > 0), (sp.exp(x) - 1, True)),
            "-",
        ),
        ("tanh", ag.tanh, 1000.0, lambda sp, x: sp.tanh(x), "oo"),
        ("sigmoid", ag.sigmoid, -1000.0, lambda sp, x: 1 / (1 + sp.exp(-x)), "-oo"),
        ("softplus", ag.softplus, 1000.0, lambda sp, x: sp.log(1 + sp.exp(x)), "oo"),
    ]


EDGE_ROWS = _edge_rows()
# Points where the function has no value: differentiating there raises, at any order.
NO_VALUE = [
    ("log", ag.log, 0.0, ValueError),
    ("log1p", ag.log1p, -1.0, ValueError),
    ("truediv", lambda y: 1.0 / y, 0.0, ZeroDivisionError),
    ("pow", lambda x: x**-0.5, 0.0, ZeroDivisionError),
    ("log2", ag.log2, 0.0, ValueError),
    ("log10", ag.log10, 0.0, ValueError),
    ("atanh", ag.atanh, 1.0, ValueError),
    ("gamma", ag.gamma, 0.0, ValueError),
    ("lgamma", ag.lgamma, -1.0, ValueError),
    ("digamma", ag.digamma, 0.0, ValueError),
    ("polygamma", lambda x: ag.polygamma(1, x), -2.0, ValueError),
]


def _expected(sp: Any, form: Any, point: float, side: str, order: int) -> float:
    """sympy's limit of the order-th derivative at the point, from ``side``."""
    x = sp.Symbol("x", real=True)
    d = sp.diff(form(sp, x), x, order)
    if side in ("oo", "-oo"):  # at ±1000 the true value underflows: the limit
        return float(sp.limit(d, x, sp.oo if side == "oo" else -sp.oo))
    limits = {float(sp.limit(d, x, sp.Float(point), s)) for s in side}
    assert len(limits) == 1, f"no two-sided limit: {limits}"  # a kink's convention
    return limits.pop()


class TestHigherDerivativesAtEdges:
    """Second and third derivatives at kinks and edges are the one-sided limits."""

    sp = pytest.importorskip("sympy")

    @pytest.mark.parametrize(("name", "f", "point", "form", "side"), EDGE_ROWS)
    def test_second_derivative(
        self, name: str, f: Any, point: float, form: Any, side: str
    ) -> None:
        """grad(grad(f)) at the point is sympy's limit (sqrt''(0) = -inf)."""
        want = _expected(self.sp, form, point, side, 2)
        got = ag.grad(ag.grad(f))(point)
        assert got == pytest.approx(want, abs=1e-300), (name, got, want)

    @pytest.mark.parametrize(("name", "f", "point", "form", "side"), EDGE_ROWS)
    def test_third_derivative(
        self, name: str, f: Any, point: float, form: Any, side: str
    ) -> None:
        """grad(grad(grad(f))) at the point is sympy's limit (sqrt'''(0) = +inf)."""
        want = _expected(self.sp, form, point, side, 3)
        got = ag.grad(ag.grad(ag.grad(f)))(point)
        assert got == pytest.approx(want, abs=1e-300), (name, got, want)

    @pytest.mark.parametrize(("name", "f", "point", "error"), NO_VALUE)
    def test_no_value_raises(self, name: str, f: Any, point: float, error: Any) -> None:
        """Where the function has no value, every order raises its error."""
        for h in (f, ag.grad(f), ag.grad(ag.grad(f))):
            with pytest.raises(error):
                h(point)

    def test_hessian_of_sqrt_at_zero(self) -> None:
        """hessian (the CLI's --hessian) of sqrt and x**0.5 at 0 is -inf, not 0."""
        assert ag.hessian(ag.sqrt)(0.0) == [[-math.inf]]
        assert ag.hessian(lambda x: x**0.5)(0.0) == [[-math.inf]]

    def test_atan2_origin_is_nan_at_every_order(self) -> None:
        """atan2 has no derivative at the origin: nan at orders 1, 2 and 3."""
        f = lambda y: ag.atan2(y, 0.0)  # noqa: E731 -- a one-line function of y
        for h in (ag.grad(f), ag.grad(ag.grad(f)), ag.grad(ag.grad(ag.grad(f)))):
            assert math.isnan(h(0.0))

    def test_tan_near_its_pole(self) -> None:
        """tan'' at the float nearest pi/2 matches sympy's 2 tan sec^2 there."""
        sp = self.sp
        x = sp.Symbol("x")
        p = math.pi / 2
        want = float(sp.diff(sp.tan(x), x, 2).evalf(60, subs={x: sp.Float(p, 60)}))
        assert ag.grad(ag.grad(ag.tan))(p) == pytest.approx(want, rel=1e-9)

    def test_edges_checked_apart(self) -> None:
        """acosh''(1) is sympy's limit; cbrt''(0) and softsign''(0) take a stated
        convention, their one-sided limits differing (-inf/+inf; -2/+2)."""
        sp = self.sp
        want = _expected(sp, lambda sp, x: sp.acosh(x), 1.0, "+", 2)
        assert ag.grad(ag.grad(ag.acosh))(1.0) == want == -math.inf
        assert _expected(sp, lambda sp, x: sp.cbrt(x), 0.0, "+", 2) == -math.inf
        assert math.isnan(ag.grad(ag.grad(ag.cbrt))(0.0))  # no two-sided value
        assert ag.grad(ag.grad(ag.softsign))(0.0) == 0  # the mean, as abs'(0) = 0

    def test_every_rule_with_an_edge_is_in_the_table(self) -> None:
        """Each built-in primitive with a domain (a kink or edge) has a row here."""
        covered = {row[0] for row in EDGE_ROWS} | {row[0] for row in NO_VALUE}
        covered |= {"atan2", "tan", "acosh", "cbrt", "softsign"}
        with_edges = {
            name
            for name, p in ag.registered().items()
            if name in ag._rules._BUILTIN and p.domain is not None
        }
        assert with_edges <= covered, sorted(with_edges - covered)
