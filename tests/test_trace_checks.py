"""What traced replay checks and keeps: rebound names, max_traces, pickling, masks.

Also the interfaces tracing is built on: every built-in primitive's numpy form (or
its per-element evaluation), and the engine's ``toposort`` and ``local_partials``.
Expected numbers come from Python's own arithmetic and the ``math`` module, or from
the Value engine (checked against sympy in test_rules.py).
"""

from __future__ import annotations

import math
import pickle
import warnings
from typing import Any

import pytest

import autograd_scalar as ag
from autograd_scalar import Primitive, Value, _engine, _rules, trace

# A global that module-level functions below read (rebinding it must re-trace).
SCALE = 2.0


def scaled_square(x: Any, y: Any) -> Any:
    """A module-level function: pickles by reference with the standard pickle."""
    return SCALE * x * x + ag.sin(y) if x > 0 else -x * y


def builtin_primitives() -> list[Primitive]:
    """The rule table's own primitives (attributes of _rules; not user ones)."""
    found = {p.name: p for p in vars(_rules).values() if isinstance(p, Primitive)}
    return list(found.values())


class TestNumpyForms:
    """The vectorised module's table covers every built-in primitive."""

    def test_every_builtin_has_a_numpy_form_or_is_per_element(self) -> None:
        """Each built-in primitive is in NUMPY_FORMS or in PER_ELEMENT, not both."""
        from autograd_scalar.tracing import vectorized

        names = {p.name for p in builtin_primitives()}
        assert len(names) >= 20
        for name in names:
            assert (name in vectorized.NUMPY_FORMS) != (name in vectorized.PER_ELEMENT)
        assert set(vectorized.NUMPY_FORMS) | vectorized.PER_ELEMENT == names

    @pytest.mark.parametrize("primitive", builtin_primitives(), ids=lambda p: p.name)
    def test_numpy_form_agrees_with_the_forward(self, primitive: Primitive) -> None:
        """Over an array of points, the numpy form gives the scalar forward's values."""
        np = pytest.importorskip("numpy")
        from autograd_scalar.tracing import vectorized

        grid = [-1.7, -0.4, 0.3, 1.1, 2.5]
        args = [[x, y][: primitive.arity] for x in grid for y in grid]
        fn = vectorized.array_function(primitive, -1, np)
        with np.errstate(all="ignore"):  # log of a negative is nan, as checked below
            got = fn(*(np.array([a[k] for a in args]) for k in range(primitive.arity)))
        for a, value in zip(args, got.tolist(), strict=True):
            try:
                want = primitive.fn(*a)
            except ValueError:  # log of a negative: numpy gives nan
                assert math.isnan(value)
                continue
            assert value == pytest.approx(want, rel=1e-12, abs=1e-300)


class TestEngineInterface:
    """toposort and local_partials, as tracing uses them."""

    def test_toposort_order_and_no_marks(self) -> None:
        """Leaves included, inputs first, root last, each once; no grad touched."""
        x, y = Value(2.0), Value(3.0)
        u = x * y
        out = u * u + x
        x.grad = y.grad = u.grad = 7.0
        order = _engine.toposort(out)
        assert order[-1] is out and len({id(v) for v in order}) == len(order) == 5
        position = {id(v): k for k, v in enumerate(order)}
        for v in order:
            for a in v._inputs():
                if isinstance(a, Value):
                    assert position[id(a)] < position[id(v)]
        assert (x.grad, y.grad, u.grad, out.grad) == (7.0, 7.0, 7.0, 0)

    def test_toposort_deep_chain(self) -> None:
        """A chain far deeper than the recursion limit sorts without recursion."""
        x = Value(0.0)
        y = x
        for _ in range(50_000):
            y = y + 1.0
        order = _engine.toposort(y)
        assert len(order) == 50_001 and order[0] is x and order[-1] is y

    def test_local_partials_match_finite_differences(self) -> None:
        """d(x**y)/dx, d(x**y)/dy at (1.5, 2.5) by central differences."""
        node = Value(1.5) ** Value(2.5)
        h = 1e-6
        dx = ((1.5 + h) ** 2.5 - (1.5 - h) ** 2.5) / (2 * h)
        dy = (1.5 ** (2.5 + h) - 1.5 ** (2.5 - h)) / (2 * h)
        assert _engine.local_partials(node) == pytest.approx((dx, dy), rel=1e-8)
        assert _engine.local_partials(Value(1.0)) == ()


class TestRebinding:
    """Issue 15 item 4: a name f reads, rebound, makes replay trace again."""

    def test_closure_rebound_to_another_value(self) -> None:
        """The issue's example: w rebound from Value(2.0) to Value(7.0)."""
        w = Value(2.0)
        g = trace(lambda x: w * x, 1.0)
        w = Value(7.0)
        assert g(1.0) == 7.0
        assert g.value_and_grad(3.0) == (21.0, (7.0,))
        assert g.ntraces == 2

    def test_global_number_rebound(self) -> None:
        """A module global f reads, rebound to another number, is read again."""
        global SCALE
        g = trace(scaled_square, 1.0, 0.0)
        old = SCALE
        try:
            SCALE = 5.0
            assert g.value_and_grad(2.0, 0.0) == (20.0, (20.0, 1.0))  # 5x^2; cos 0
        finally:
            SCALE = old
        assert g(2.0, 0.0) == 8.0

    def test_default_argument_rebound(self) -> None:
        """A default argument replaced (__defaults__) is read again."""

        def f(x: Any, c: float = 2.0) -> Any:
            return x * c

        g = trace(f, 1.0)
        f.__defaults__ = (3.0,)
        assert g.value_and_grad(2.0) == (6.0, (3.0,))

    def test_keyword_default_rebound(self) -> None:
        """A keyword-only default replaced is read again."""

        def f(x: Any, *, c: float = 2.0) -> Any:
            return x + c

        g = trace(f, 1.0)
        f.__kwdefaults__ = {"c": -1.0}
        assert g(2.0) == 1.0

    def test_name_in_a_nested_lambda(self) -> None:
        """A name read by a lambda inside f counts as read by f."""
        k = 2.0
        g = trace(lambda x: (lambda y: y * k)(x), 1.0)
        k = 4.0
        assert g(1.0) == 4.0 == k

    def test_equal_number_is_a_rebinding(self) -> None:
        """Rebinding to an equal but new number re-traces (identity): -0.0's sign."""
        c = 0.0
        g = trace(lambda x: x * c, 1.0)
        c = -0.0
        assert math.copysign(1.0, g(1.0)) == -1.0 and c == 0.0

    def test_unchanged_names_replay(self) -> None:
        """Without rebinding, every call replays the one trace."""
        k = 3.0
        g = trace(lambda x: x * k + SCALE, 1.0)
        for x in (1.0, 2.0, -5.0):
            assert g(x) == x * 3.0 + 2.0
        assert g.ntraces == 1

    def test_array_path(self) -> None:
        """Over arrays too, a rebound name re-traces."""
        np = pytest.importorskip("numpy")
        w = Value(2.0)
        g = trace(lambda x: w * x, 1.0)
        assert g(np.array([1.0, 2.0])).tolist() == [2.0, 4.0]
        w = Value(-1.0)
        assert g(np.array([1.0, 2.0])).tolist() == [-1.0, -2.0]


def many_paths(x: Any) -> Any:
    """One path per integer part of x (int(x) is a guard)."""
    return x * int(x)


class TestMaxTraces:
    """Issue 15 item 14: max_traces is a setting, and past it calls do not re-trace."""

    def test_setting(self) -> None:
        """trace(..., max_traces=3) keeps at most 3 traces."""
        g = trace(many_paths, 0.5, max_traces=3)
        assert g.max_traces == 3
        for k in range(3):
            g(k + 0.5)
        assert g.ntraces == 3

    @pytest.mark.parametrize(
        ("value", "error"), [(0, ValueError), (-2, ValueError), (2.5, TypeError)]
    )
    def test_bad_setting(self, value: Any, error: type[Exception]) -> None:
        """max_traces must be a positive int; the message names it and the value."""
        with pytest.raises(error, match=rf"max_traces.*{value}"):
            trace(many_paths, 0.5, max_traces=value)

    def test_alternating_paths_stop_retracing(self) -> None:
        """9 paths in turn with 8 kept: traced a bounded number of times, then f
        runs on Values, with one warning; every number is still f's."""
        g = trace(many_paths, 0.5, max_traces=8)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(20):
                for k in range(9):
                    x = k + 0.5
                    assert g.value_and_grad(x) == (x * k, (k,))
                    assert g(x) == x * k
        assert [str(w.message) for w in caught if "max_traces=8" in str(w.message)]
        assert len(caught) == 1 and caught[0].category is RuntimeWarning
        assert g.ntraces <= 2 * 8 + 1

    def test_new_paths_within_the_limit_are_traced(self) -> None:
        """Paths met once each, fewer evictions than max_traces: all traced."""
        g = trace(many_paths, 0.5, max_traces=4)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for k in range(8):
                assert g(k + 0.5) == (k + 0.5) * k
        assert g.ntraces == 8


class TestPickle:
    """Issue 15 item 11: a Traced pickles when its function does."""

    def test_module_level_function(self) -> None:
        """pickle round trip; the loaded one replays the same numbers, traced anew."""
        g = trace(scaled_square, 1.0, 0.5, max_traces=5)
        points = [(1.0, 0.5), (-2.0, 3.0), (0.25, -1.0)]
        want = [g.value_and_grad(*p) for p in points]
        loaded = pickle.loads(pickle.dumps(g))
        assert loaded.ntraces == 0 and loaded.max_traces == 5
        assert [loaded.value_and_grad(*p) for p in points] == want
        assert loaded(1.0, 0.5) == want[0][0]

    def test_source_of_a_loaded_trace(self) -> None:
        """.source of a freshly loaded Traced traces at the example arguments."""
        g = trace(scaled_square, 1.0, 0.5)
        loaded = pickle.loads(pickle.dumps(g))
        assert loaded.source == g.source
        assert loaded.ntraces == 1

    def test_generated_code_is_not_pickled(self) -> None:
        """The pickle holds f by reference and the settings, no source text."""
        g = trace(scaled_square, 1.0, 0.5)
        data = pickle.dumps(g)
        assert b"def value_and_grad" not in data
        assert len(data) < 1000

    def test_lambda_with_cloudpickle(self) -> None:
        """A lambda closing over a number travels with cloudpickle."""
        cloudpickle = pytest.importorskip("cloudpickle")
        c = 3.0
        g = trace(lambda x, y: ag.exp(x * c) / (1 + y * y), 0.1, 0.2)
        loaded = pickle.loads(cloudpickle.dumps(g))
        for p in [(0.1, 0.2), (-0.5, 2.0)]:
            assert loaded.value_and_grad(*p) == g.value_and_grad(*p)

    def test_lambda_with_standard_pickle_fails(self) -> None:
        """A lambda does not pickle by reference: pickle's own error."""
        g = trace(lambda x: x * x, 1.0)
        with pytest.raises((pickle.PicklingError, AttributeError)):
            pickle.dumps(g)

    def test_loaded_one_over_arrays(self) -> None:
        """The loaded Traced evaluates over numpy arrays like the original."""
        np = pytest.importorskip("numpy")
        g = trace(scaled_square, 1.0, 0.5)
        xs, ys = np.linspace(-2, 2, 11), np.linspace(-1, 3, 11)
        value, grads = pickle.loads(pickle.dumps(g)).value_and_grad(xs, ys)
        want_value, want_grads = g.value_and_grad(xs, ys)
        assert value.tolist() == want_value.tolist()
        assert [a.tolist() for a in grads] == [a.tolist() for a in want_grads]


class TestMaskedArrays:
    """Issue 15 item 15: a masked array is refused, not silently unmasked."""

    @pytest.mark.parametrize("method", ["__call__", "value_and_grad"])
    def test_masked_array_raises(self, method: str) -> None:
        """TypeError naming the argument; nothing computed over the hidden points."""
        np = pytest.importorskip("numpy")
        g = trace(lambda x, y: x * y, 1.0, 2.0)
        xs = np.ma.array([1.0, 2.0, 3.0], mask=[False, True, False])
        with pytest.raises(TypeError, match="masked array for argument 1"):
            getattr(g, method)(np.ones(3), xs)
