"""Traced replay over numpy arrays: elementwise agreement with the scalar replay.

The oracle is the scalar replay ``g.value_and_grad(x, y)`` at each point (itself
checked against the Value engine in test_trace.py), with nan where it raises.
"""

from __future__ import annotations

import ast
import math
import subprocess
import sys
import tracemalloc
from typing import Any

import pytest

np = pytest.importorskip("numpy")

from hypothesis import given, settings  # noqa: E402 -- after the importorskip

import autograd_scalar as ag  # noqa: E402
from autograd_scalar import _rules, trace  # noqa: E402
from autograd_scalar.testing.strategies import expressions  # noqa: E402
from autograd_scalar.tracing import vectorized  # noqa: E402

BUILTINS = {
    name: p
    for name, p in ag.registered().items()
    if name in vectorized.NUMPY_FORMS or name in vectorized.PER_ELEMENT
}


def pointwise(g: Any, *arrays: Any) -> tuple[Any, tuple[Any, ...]]:
    """The scalar replay at each point of the broadcast arrays (nan where it raises)."""
    flat = [a.ravel() for a in np.broadcast_arrays(*arrays)]
    shape = np.broadcast_shapes(*(np.shape(a) for a in arrays))
    values, grads = [], []
    for point in zip(*flat, strict=True):
        try:
            v, gr = g.value_and_grad(*(float(p) for p in point))
        except (ArithmeticError, ValueError):
            v, gr = math.nan, (math.nan,) * len(arrays)
        values.append(float(v))
        grads.append([float(d) for d in gr])
    columns = zip(*grads, strict=True) if grads else [[] for _ in arrays]
    return np.reshape(values, shape), tuple(np.reshape(c, shape) for c in columns)


def assert_agree(got: tuple[Any, tuple[Any, ...]], want: Any) -> None:
    """Same shapes; same numbers to rounding; nan and inf at the same points."""
    for a, b in zip((got[0], *got[1]), (want[0], *want[1]), strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


def grid(n: int = 41, lo: float = -4.0, hi: float = 4.0) -> Any:
    """Points of [lo, hi]^2 on a jittered grid, 0 and the diagonal included."""
    rng = np.random.default_rng(n)
    xs = np.linspace(lo, hi, n) + np.where(
        np.arange(n) % 2, rng.uniform(-0.05, 0.05), 0
    )
    return np.meshgrid(xs, xs[::-1].copy(), indexing="ij")


# Functions whose values are exact integers: 0 feeds log and 1/x, where numpy's form
# gives -inf or inf and the scalar forward raises (nan), and a later atan or exp makes
# the inf finite. TestPrimitives checks them over arrays one at a time.
TO_INTEGERS = {"floor", "ceil", "trunc", "round", "round_digits", "floordiv", "sign"}
# fmax and fmin ignore a nan operand by design, so they hide an error upstream that
# the scalar replay raises (fmax(log(-1), x) is x over arrays, nan by the oracle).
NAN_IGNORING = {"fmax", "fmin"}


def free_form(prim: ag.Primitive) -> tuple[Any, int]:
    """``prim`` with its integer inputs (polygamma's order) fixed at 1, as a
    function of its other inputs, and how many those are."""
    whole = [p is _rules._no_derivative for p in prim.partials]

    def f(*free: Any) -> Any:
        it = iter(free)
        return prim(*(1 if w else next(it) for w in whole))

    return f, whole.count(False)


def trace_inside(f: Any, candidates: list[tuple[float, ...]]) -> Any:
    """``f`` traced at the first candidate point inside its domain (acosh: x > 1)."""
    for point in candidates[:-1]:
        try:
            return trace(f, *point)
        except ValueError:
            continue
    return trace(f, *candidates[-1])


class TestPrimitives:
    """Every built-in primitive over arrays, inside and outside its domain."""

    @pytest.mark.parametrize("name", sorted(BUILTINS))
    def test_agrees_with_scalar_replay(self, name: str) -> None:
        """Values and partials agree with the scalar replay at every grid point."""
        prim, arity = free_form(BUILTINS[name])
        xs, ys = grid()
        args = (xs, ys)[:arity]
        g = trace_inside(prim, [(0.5,) * arity, (1.5,) * arity])
        assert_agree(g.value_and_grad(*args), pointwise(g, *args))

    @pytest.mark.parametrize("name", sorted(BUILTINS))
    def test_composed(self, name: str) -> None:
        """Composed with arithmetic, a primitive agrees with the scalar replay."""
        prim, arity = free_form(BUILTINS[name])

        def f(x: Any, y: Any) -> Any:
            inputs = (x * y - 0.3, y + x * 0.5)[:arity]
            return prim(*inputs) * (x - y) + x

        xs, ys = grid(21)
        g = trace_inside(f, [(1.0, 0.9), (2.0, 1.9)])
        assert_agree(g.value_and_grad(xs, ys), pointwise(g, xs, ys))

    def test_value_only(self) -> None:
        """Calling with arrays gives the values alone, as value_and_grad's first."""
        xs, ys = grid(11)
        g = trace(lambda x, y: (x * y).sin() + y.exp(), 1.0, 2.0)
        np.testing.assert_array_equal(g(xs, ys), g.value_and_grad(xs, ys)[0])


class TestRandomExpressions:
    """Random DAGs of built-in primitives, at points spread around the drawn one."""

    @settings(max_examples=60, deadline=None)
    @given(expressions(primitives=sorted(set(BUILTINS) - TO_INTEGERS - NAN_IGNORING)))
    def test_agrees_with_scalar_replay(
        self, case: tuple[Any, tuple[float, ...]]
    ) -> None:
        """Over 25 nearby and far points, arrays agree with the scalar replay."""
        f, args = case
        g = trace(f, *args)
        offsets = np.linspace(-3.0, 3.0, 25)
        arrays = [a + offsets * (k + 1) / 2 for k, a in enumerate(args)]
        assert_agree(g.value_and_grad(*arrays), pointwise(g, *arrays))


class TestBranches:
    """Guards hold per point: each point is computed on its own path."""

    def test_branch_across_zero(self) -> None:
        """x*x for x > 0, -3x otherwise: value and derivative by hand at each point."""

        def h(x: Any) -> Any:
            return x * x if x > 0 else -3 * x

        xs = np.linspace(-2, 2, 101)
        v, (d,) = trace(h, 1.0).value_and_grad(xs)
        np.testing.assert_allclose(v, np.where(xs > 0, xs * xs, -3 * xs))
        np.testing.assert_allclose(d, np.where(xs > 0, 2 * xs, -3.0))  # d/dx by hand

    def test_nested_decisions_on_a_2d_grid(self) -> None:
        """Three paths (two comparisons) over a 2-d grid agree with scalar replay."""

        def f(x: Any, y: Any) -> Any:
            if x > y:
                return (x - y).exp() if x * y > 0 else x * y * y
            return ag.tanh(x + 2 * y)

        xs, ys = grid(31)
        g = trace(f, 1.0, 2.0)
        assert_agree(g.value_and_grad(xs, ys), pointwise(g, xs, ys))
        assert len(g._array_programs) == 3

    def test_too_many_paths(self) -> None:
        """A decision that differs at every point ends in a ValueError, not a hang."""
        g = trace(lambda x: x * float(x), 1.0)
        with pytest.raises(ValueError, match="paths"):
            g.value_and_grad(np.linspace(0.0, 1.0, 200))

    def test_traces_are_kept_up_to_the_limit(self) -> None:
        """Calls past max_array_traces paths keep the latest traces and stay right."""

        def staircase(x: Any) -> Any:
            return x * int(x)  # a path per integer part

        g = trace(staircase, 0.5)
        g.max_array_traces = 4
        for lo in range(0, 12, 3):  # three new paths per call
            xs = np.linspace(lo + 0.1, lo + 2.9, 7)
            v, (d,) = g.value_and_grad(xs)
            np.testing.assert_array_equal(v, xs * np.trunc(xs))
            np.testing.assert_array_equal(d, np.trunc(xs))  # int(x) is a constant
            assert len(g._array_programs) <= 4 + 3

    def test_loop_with_branches(self) -> None:
        """A traced loop of relus (the code's for-loop) agrees over arrays."""

        def f(x: Any, y: Any) -> Any:
            s = x
            for k in range(60):
                s = ag.relu(s * y - 0.01 * k) + ag.sin(s) * 0.5
            return s

        xs, ys = grid(9, -1.0, 1.0)
        g = trace(f, 0.3, 0.9)
        assert_agree(g.value_and_grad(xs, ys), pointwise(g, xs, ys))


class TestShapes:
    """Arguments broadcast together; results have the common shape."""

    @pytest.mark.parametrize(
        ("shapes", "common"),
        [
            (((), (5,)), (5,)),
            (((3, 4), ()), (3, 4)),
            (((3, 1), (1, 4)), (3, 4)),
            (((), ()), ()),
            (((2, 3), (2, 3)), (2, 3)),
            (((0,), ()), (0,)),
        ],
    )
    def test_broadcast(self, shapes: tuple[Any, ...], common: tuple[int, ...]) -> None:
        """Value and both gradients come back in the broadcast shape, right."""
        rng = np.random.default_rng(1)
        args = [np.asarray(rng.uniform(-2, 2, s)) for s in shapes]
        g = trace(lambda x, y: x * ag.sin(y) + y, 1.0, 2.0)
        got = g.value_and_grad(*args)
        assert got[0].shape == common and all(d.shape == common for d in got[1])
        assert_agree(got, pointwise(g, *args))

    def test_plain_number_with_array(self) -> None:
        """A plain float next to an array is broadcast like a 0-d array."""
        g = trace(lambda x, y: x * y, 1.0, 2.0)
        v, (dx, dy) = g.value_and_grad(np.arange(4.0), 3.0)
        np.testing.assert_array_equal(v, 3.0 * np.arange(4.0))
        np.testing.assert_array_equal(dx, [3.0] * 4)  # d(xy)/dx = y
        np.testing.assert_array_equal(dy, np.arange(4.0))  # d(xy)/dy = x

    def test_int_arrays(self) -> None:
        """Integer arrays are computed as floats."""
        g = trace(lambda x: x * x, 1.0)
        v, (d,) = g.value_and_grad(np.arange(3))
        assert v.dtype == np.float64
        np.testing.assert_array_equal(d, [0.0, 2.0, 4.0])

    def test_constant_results_are_broadcast(self) -> None:
        """A function ignoring an argument has a zero gradient array for it."""
        g = trace(lambda x, y: x * 2, 1.0, 2.0)
        v, (dx, dy) = g.value_and_grad(np.ones((2, 2)), np.zeros((2, 2)))
        assert v.shape == dx.shape == dy.shape == (2, 2)
        np.testing.assert_array_equal(dy, np.zeros((2, 2)))

    def test_mismatched_shapes(self) -> None:
        """Arrays that do not broadcast: a ValueError naming the shapes."""
        g = trace(lambda x, y: x * y, 1.0, 2.0)
        with pytest.raises(ValueError, match=r"\(3,\), \(4,\) do not broadcast"):
            g.value_and_grad(np.ones(3), np.ones(4))

    def test_complex_arrays(self) -> None:
        """An array of complex numbers is a TypeError naming the dtype."""
        g = trace(lambda x: x * x, 1.0)
        with pytest.raises(TypeError, match="complex128"):
            g(np.ones(3, dtype=complex))

    def test_arrays_as_example_arguments(self) -> None:
        """trace() itself takes numbers: an example array is a TypeError."""
        with pytest.raises(TypeError, match="not arrays"):
            trace(lambda x: x * x, np.ones(3))


class TestUserPrimitives:
    """User primitives have no numpy form: their functions run per element."""

    def test_opaque_forward_and_partial(self) -> None:
        """A forward over math and a partial using float() agree over arrays."""
        cube_root = ag.primitive(
            lambda x: math.copysign(abs(x) ** (1 / 3), x),
            lambda x: 1 / (3 * float(abs(x)) ** (2 / 3)),
            name="cube_root_vectorized",
        )
        xs = np.linspace(0.5, 8, 16)
        g = trace(lambda x: cube_root(x) * x, 1.0)
        assert_agree(g.value_and_grad(xs), pointwise(g, xs))

    def test_forward_raising_at_some_points(self) -> None:
        """A per-element forward that raises at some points: nan there, not a stop."""
        root = ag.primitive(
            lambda x: math.sqrt(x), lambda x: 0.5 / math.sqrt(x), name="root_vectorized"
        )
        xs = np.linspace(-1, 4, 11)
        g = trace(lambda x: root(x) * 2, 1.0)
        v, (d,) = g.value_and_grad(xs)
        # At 0 the partial divides by zero, so value_and_grad raises there too.
        assert np.isnan(v[xs <= 0]).all() and np.isnan(d[xs <= 0]).all()
        np.testing.assert_allclose(v[xs > 0], 2 * np.sqrt(xs[xs > 0]))
        np.testing.assert_array_equal(g(xs)[xs == 0], [0.0])  # the value alone exists
        np.testing.assert_allclose(d[xs > 0], 1 / np.sqrt(xs[xs > 0]))  # by hand

    def test_expressible_primitive(self) -> None:
        """A polymorphic user primitive is written as array arithmetic."""
        cube = ag.primitive(lambda x: x**3, lambda x: 3 * x**2, name="cube_vectorized")
        xs = np.linspace(-2, 2, 9)
        v, (d,) = trace(lambda x: cube(x) + x, 1.0).value_and_grad(xs)
        np.testing.assert_allclose(v, xs**3 + xs)
        np.testing.assert_allclose(d, 3 * xs**2 + 1)  # by hand


class TestDomainErrors:
    """Where the scalar replay raises, arrays hold nan; elsewhere its numbers."""

    def test_log_of_non_positive(self) -> None:
        """log over [-1, 1]: nan at x <= 0 (math.log raises), log x and 1/x above."""
        xs = np.linspace(-1, 1, 21)
        v, (d,) = trace(lambda x: ag.log(x), 1.0).value_and_grad(xs)
        positive = xs > 0
        assert np.isnan(v[~positive]).all() and np.isnan(d[~positive]).all()
        np.testing.assert_allclose(v[positive], np.log(xs[positive]))
        np.testing.assert_allclose(d[positive], 1 / xs[positive])

    def test_division_by_zero(self) -> None:
        """1/x at x = 0 is nan, as the scalar replay raises ZeroDivisionError."""
        g = trace(lambda x: 1 / x, 1.0)
        v, (d,) = g.value_and_grad(np.array([-1.0, 0.0, 2.0]))
        np.testing.assert_array_equal(v, [-1.0, np.nan, 0.5])
        np.testing.assert_array_equal(d, [-1.0, np.nan, -0.25])  # -1/x**2

    def test_infinities_the_scalar_path_gives(self) -> None:
        """sqrt'(0) is +inf in the rule table, and over arrays too."""
        v, (d,) = trace(lambda x: ag.sqrt(x), 1.0).value_and_grad(np.array([0.0, 4.0]))
        np.testing.assert_array_equal(v, [0.0, 2.0])
        np.testing.assert_array_equal(d, [np.inf, 0.25])

    def test_trace_point_raising(self) -> None:
        """Arrays whose first points raise in f still find a point to trace at."""
        xs = np.linspace(-1, 1, 11)
        g = trace(lambda x: ag.log(x) * x, 0.5)
        g._array_programs.clear()
        assert_agree(g.value_and_grad(xs), pointwise(g, xs))


def bench(x: Any, y: Any) -> Any:
    """benchmarks.vectorized's function: 12 operations, 7 of them stored."""
    u = x * y + x.sin()
    v = (u.tanh() * y.exp() + (x * x + 1).log()) / (1 + abs(y))
    return v - (x - y).relu() * 0.5


def loop(x: Any, y: Any) -> Any:
    """A traced loop (the code's for-loop) between straight-line code."""
    s = x * y
    for k in range(30):
        s = ag.tanh(s * y - 0.01 * k) + ag.sin(s) * 0.5
    return s * x + ag.exp(y)


class TestMemory:
    """Array code frees each intermediate after its last use."""

    @pytest.mark.parametrize("f", [bench, loop])
    def test_each_intermediate_deleted_after_last_use(self, f: Any) -> None:
        """Every variable the array code assigns (in a loop too) and does not
        return is deleted right after the last top-level statement that reads it."""
        g = trace(f, 0.3, 0.9)
        g.value_and_grad(np.ones(3), np.ones(3))
        (program,) = g.array_programs()
        for source in (program.source, program.forward_source):
            (function,) = ast.parse(source).body
            assert isinstance(function, ast.FunctionDef)
            body = function.body
            returned = {n.id for n in ast.walk(body[-1]) if isinstance(n, ast.Name)}
            assigned: set[str] = set()
            deleted: dict[str, int] = {}
            last_read: dict[str, int] = {}
            for k, statement in enumerate(body):
                if isinstance(statement, ast.Delete):
                    for target in statement.targets:
                        assert isinstance(target, ast.Name)
                        deleted[target.id] = k
                    continue
                for node in ast.walk(statement):
                    if isinstance(node, ast.Name):
                        last_read[node.id] = k
                        if isinstance(node.ctx, ast.Store):
                            assigned.add(node.id)
            assert deleted, source
            for name in assigned - returned - {"_ok"}:
                assert deleted.get(name) == last_read[name] + 1, (name, source)

    def test_peak_of_value_and_grad(self) -> None:
        """Over n points, value and gradient of the benchmark function allocate at
        most 3x the bytes of its 2 inputs and 3 outputs (15 arrays of n) at once;
        its 14 intermediates and 3 results all alive would be 17 and more."""
        n = 100_000
        xs, ys = np.linspace(-2, 2, n), np.linspace(1.5, -1.5, n)
        g = trace(bench, 0.3, 0.9)
        g.value_and_grad(xs[:10], ys[:10])  # the array trace, made before measuring
        tracemalloc.start()
        try:
            g.value_and_grad(xs, ys)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak <= 3 * (2 + 3) * 8 * n


class TestImports:
    """numpy stays optional."""

    def test_import_without_numpy(self) -> None:
        """import autograd_scalar and scalar replay do not import numpy."""
        code = (
            "import sys, autograd_scalar as ag; "
            "g = ag.trace(lambda x: ag.relu(x) * x, 1.0); g.value_and_grad(2.0); "
            "assert 'numpy' not in sys.modules, 'numpy imported'"
        )
        subprocess.run([sys.executable, "-c", code], check=True)
