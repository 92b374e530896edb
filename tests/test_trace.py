"""Traced replay against the Value engine: values, gradients, guards, loops, errors.

The oracle is the Value engine (checked against sympy in test_rules.py): a traced
function must give the engine's value and gradients at any point, up to the rounding
of sums taken in another order.
"""

from __future__ import annotations

import gc
import math
import random
import weakref
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from test_rules import points

import autograd_scalar as ag
from autograd_scalar import Value, nn, optim, trace
from autograd_scalar.tape import node_class
from autograd_scalar.testing.strategies import expressions


def engine(f: Callable[..., Any], *args: float) -> tuple[Any, tuple[Any, ...]]:
    """f's value and gradient by building the Value graph."""
    xs = [Value(a) for a in args]
    out = f(*xs)
    if not isinstance(out, Value):
        return out, tuple(0 for _ in xs)
    out.backward()
    return out.data, tuple(x.grad for x in xs)


def assert_close(got: tuple[Any, tuple[Any, ...]], want: Any) -> None:
    """Value and gradients agree to rounding (nan where the engine has nan)."""
    assert got[0] == pytest.approx(want[0], rel=1e-12, abs=1e-12, nan_ok=True)
    assert len(got[1]) == len(want[1])
    for g, w in zip(got[1], want[1], strict=True):
        assert g == pytest.approx(w, rel=1e-9, abs=1e-12, nan_ok=True)


def check_at_points(f: Callable[..., Any], pts: list[tuple[float, ...]]) -> None:
    """Trace f at the first point the engine can do; compare at every point."""
    g = None
    for p in pts:
        try:
            want = engine(f, *p)
        except ArithmeticError:  # overflow: the trace raises it too
            if g is not None:
                with pytest.raises(ArithmeticError):
                    g.value_and_grad(*p)
            continue
        g = g or trace(f, *p)
        assert_close(g.value_and_grad(*p), want)


def random_points(n: int, arity: int, seed: int, low: float = -2, high: float = 2):  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    return [tuple(rng.uniform(low, high) for _ in range(arity)) for _ in range(n)]


@pytest.mark.parametrize("name", sorted(ag.registered()))
class TestEveryPrimitive:
    """Each primitive of the table, traced once and replayed at many points."""

    def test_all_operands_variable(self, name: str) -> None:
        """out*out + x0*out (output and inputs reused) matches the engine."""
        prim = ag.registered()[name]

        def f(*xs: Any) -> Any:
            out = prim(*xs)
            return out * out + xs[0] * out

        pts = points(prim, n=20)
        g = trace(f, *pts[0])
        for p in pts:
            assert_close(g.value_and_grad(*p), engine(f, *p))
            assert g(*p) == pytest.approx(engine(f, *p)[0], rel=1e-12, abs=1e-12)

    def test_constant_operands(self, name: str) -> None:
        """With every operand but the first a constant, it still matches."""
        prim = ag.registered()[name]
        for p in points(prim, n=10):

            def f(x: Any, p: tuple[float, ...] = p) -> Any:
                return prim(x, *p[1:]) * x

            g = trace(f, p[0])
            assert_close(g.value_and_grad(p[0]), engine(f, p[0]))


class TestFunctions:
    """Compositions, user primitives and loops at random points."""

    def test_composition(self) -> None:
        """A mix of primitives, constants and reuse matches the engine."""

        def f(x: Any, y: Any) -> Any:
            h = ag.tanh(x * y + 2) * ag.relu(x) + ag.maximum(x, y) + x**2
            return h + ag.exp(y) / 3 + ag.sin(x) - (x - y) * -2.5 + (x * x + 1) ** y

        g = trace(f, 0.3, 0.2)
        for p in random_points(50, 2, seed=1):
            assert_close(g.value_and_grad(*p), engine(f, *p))

    def test_user_primitives(self) -> None:
        """User primitives: an expression, one with abs, one calling math."""
        softsign = ag.primitive(
            lambda x: x / (1 + abs(x)),
            lambda x: 1 / (1 + abs(x)) ** 2,
            name="user_softsign",
        )
        wave = ag.primitive(math.sin, math.cos, name="wave")
        scale = ag.primitive(lambda x, y: x * y, lambda x, y: y, lambda x, y: x)

        def f(x: Any, y: Any) -> Any:
            return softsign(x * y) + wave(x) * scale(x, y)

        g = trace(f, 0.5, -0.25)
        for p in random_points(50, 2, seed=2):
            assert_close(g.value_and_grad(*p), engine(f, *p))

    def test_loop_becomes_a_for_loop(self) -> None:
        """A Python loop's repeated stretch replays as a loop, with the same numbers."""

        def f(a: Any, b: Any) -> Any:
            total = 0
            for k in range(20):
                t = ag.tanh(a * (k * 0.1) + b) * (a - k)
                total = total + t * t
            return total

        g = trace(f, 0.3, 0.2)
        assert "for " in g.source
        for p in random_points(20, 2, seed=3):
            assert_close(g.value_and_grad(*p), engine(f, *p))

    def test_loop_carried(self) -> None:
        """Iterations that read the previous one's values replay as a loop."""

        def f(x: Any, y: Any) -> Any:
            s, u = y, x
            for k in range(30):
                s, u = ag.sigmoid(s * x) + s * 0.5 + k * u, ag.tanh(u + s * 0.1)
            return s * u

        g = trace(f, 0.1, 0.2)
        assert "for " in g.source
        for p in random_points(20, 2, seed=8):
            assert_close(g.value_and_grad(*p), engine(f, *p))

    def test_loop_carried_and_shared(self) -> None:
        """Iterations that read the previous one, and a node made before the loop."""

        def f(x: Any, y: Any) -> Any:
            shared = ag.exp(x)
            s = y
            for k in range(30):
                s = s * 0.5 + shared * (k % 3) + ag.sigmoid(s * x)
            return s

        g = trace(f, 0.1, 0.2)
        assert "for " in g.source
        for p in random_points(20, 2, seed=4):
            assert_close(g.value_and_grad(*p), engine(f, *p))

    def test_mlp_step(self) -> None:
        """A small MLP with a max-margin loss over points, all weights as arguments."""
        rng = random.Random(5)
        data = [
            ((rng.uniform(-1, 1), rng.uniform(-1, 1)), rng.choice((-1, 1)))
            for _ in range(12)
        ]

        def loss(*w: Any) -> Any:
            total = 0
            for (a, b), label in data:
                hidden = [
                    ag.relu(w[3 * i] * a + w[3 * i + 1] * b + w[3 * i + 2])
                    for i in range(4)
                ]
                score = (
                    sum(wi * h for wi, h in zip(w[12:16], hidden, strict=True)) + w[16]
                )
                total = total + ag.relu(1 - label * score)
            return total / len(data) + 1e-4 * sum(wi * wi for wi in w)

        start = [rng.uniform(-1, 1) for _ in range(17)]
        g = trace(loss, *start)
        for p in random_points(10, 17, seed=6, low=-1, high=1):
            assert_close(g.value_and_grad(*p), engine(loss, *p))


UNARY: list[Callable[[Any], Any]] = [
    lambda a: -a,
    abs,
    ag.tanh,
    ag.sigmoid,
    ag.sin,
    ag.atan,
    ag.relu,
    ag.softplus,
    ag.erf,
    lambda a: a**2,
    lambda a: 2.5**a,
    lambda a: ag.exp(ag.tanh(a)),
    lambda a: ag.log(1 + a * a),
    lambda a: ag.sqrt(2 + ag.sin(a)),
]
BINARY: list[Callable[[Any, Any], Any]] = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (1.5 + ag.tanh(b)),
    lambda a, b: (1 + a * a) ** ag.tanh(b),
    lambda a, b: 3 - a * -b,
    lambda a, b: ag.maximum(a, b),
    lambda a, b: ag.minimum(a, b),
    lambda a, b: ag.atan2(a, 2 + b * b),
    lambda a, b: ag.hypot(a, b),
]


def random_expression(rng: random.Random, depth: int) -> Callable[..., Any]:
    """A random function of (x, y, z): primitives, constants, shared subterms."""
    if depth == 0:
        pick = rng.randrange(4)
        c = round(rng.uniform(-2, 2), 3)
        return [lambda *v: v[0], lambda *v: v[1], lambda *v: v[2], lambda *v: c][pick]
    if rng.random() < 0.4:
        op1 = rng.choice(UNARY)
        inner = random_expression(rng, depth - 1)
        return lambda *v: op1(inner(*v))
    op2 = rng.choice(BINARY)
    left = random_expression(rng, depth - 1)
    if rng.random() < 0.3:  # a shared subterm: both operands the same node
        return lambda *v: (lambda t: op2(t, t * 0.5))(left(*v))
    right = random_expression(rng, depth - 1)
    return lambda *v: op2(left(*v), right(*v))


class TestRandomExpressions:
    """Random compositions of the table: precedence, constants, reuse, inlining."""

    @pytest.mark.parametrize("seed", range(40))
    def test_matches_engine(self, seed: int) -> None:
        """Traced value and gradients equal the engine's (or its error) at points."""
        rng = random.Random(seed)
        expr = random_expression(rng, rng.randrange(1, 6))

        def f(x: Any, y: Any, z: Any) -> Any:
            return expr(x, y, z) * 1.0 + x * 0  # always a Value

        check_at_points(f, random_points(15, 3, seed=seed))


BUILTIN_NAMES = sorted(ag.registered())  # before other tests register their own


class TestRandomDags:
    """The testing strategies' random DAGs over the table, traced."""

    @given(expressions(primitives=BUILTIN_NAMES))
    def test_matches_engine(self, case: tuple[Any, tuple[float, ...]]) -> None:
        """At the drawn point, replay gives the engine's value and gradients."""
        f, args = case
        assert_close(trace(f, *args).value_and_grad(*args), engine(f, *args))


class TestRandomLoops:
    """Random loop bodies: carried values, values made before the loop, constants."""

    @pytest.mark.parametrize("seed", range(40))
    def test_matches_engine(self, seed: int) -> None:
        """Traced loops give the engine's value and gradients at random points."""
        rng = random.Random(1000 + seed)
        body = random_expression(rng, rng.randrange(1, 4))
        steps, shared, collect = rng.randrange(3, 25), rng.random() < 0.5, rng.random()

        def f(x: Any, y: Any, z: Any) -> Any:
            invariant = ag.tanh(x * y) if shared else x
            s, outs = z, []
            for k in range(steps):
                s = body(s, invariant, 0.1 * k - 1) * 0.5 + s * 0.25
                if collect < 0.5:
                    outs.append(s * (k % 3 - 1))
            return sum(outs) + s * y

        check_at_points(f, random_points(10, 3, seed=seed))


class TestGuards:
    """Decisions on data become guards; a call that decides otherwise re-traces."""

    def test_issue_example(self) -> None:
        """x*x if x > 0 else -3*x, traced at 1.0, gives (6.0, (-3.0,)) at -2.0."""

        def h(x: Any) -> Any:
            return x * x if x > 0 else -3 * x

        g = trace(h, 1.0)
        assert g.value_and_grad(-2.0) == (6.0, (-3.0,))  # -3*-2; d/dx -3x
        assert g.ntraces == 2
        assert g.value_and_grad(2.0) == (4.0, (4.0,))  # 2*2; 2x
        assert g.value_and_grad(-1.0) == (3.0, (-3.0,))
        assert g.ntraces == 2  # both paths are cached

    def test_branch_on_equality(self) -> None:
        """A branch on == is a guard: each side is traced once, then replayed."""

        def h(x: Any) -> Any:
            return x * 2 if x == 1.0 else x * x

        g = trace(h, 1.0)
        assert g.value_and_grad(1.0) == (2.0, (2.0,))  # 2x; slope 2
        assert g.value_and_grad(3.0) == (9.0, (6.0,))  # x*x; slope 2x
        assert g.ntraces == 2
        assert g.value_and_grad(1.0) == (2.0, (2.0,))
        assert g.value_and_grad(4.0) == (16.0, (8.0,))
        assert g.ntraces == 2  # both paths are cached

    def test_branch_on_inequality_of_two_arguments(self) -> None:
        """x != y decides between two formulas, re-traced when the answer changes."""

        def h(x: Any, y: Any) -> Any:
            return x / y if x != y else x + y

        g = trace(h, 1.0, 2.0)
        assert g.value_and_grad(3.0, 3.0) == (6.0, (1.0, 1.0))
        assert g.value_and_grad(1.0, 4.0) == (0.25, (0.25, -1 / 16))
        assert g.ntraces == 2

    @pytest.mark.parametrize(
        "f",
        [
            lambda x, y: x * y if x < y else x + y,
            lambda x, y: x * y if x <= y else x - y,
            lambda x, y: x * y if y >= 0.5 else y * y,
            lambda x, y: x * y if x * y > 0.1 else x / (y + 3),
            lambda x, y: x * y if bool(x * 0 + y) else x,
            lambda x, y: x * int(y * 3) + y,
            lambda x, y: x * float(y) + y,
            lambda x, y: max(x, y) * min(x, y) + sorted([x, y, x * y])[1],
        ],
    )
    # float(y) bakes y's number in, so every point is a path of its own: past
    # max_traces the calls run f on Values (with this warning), which must match too.
    @pytest.mark.filterwarnings("ignore:traced <lambda>.. takes more paths")
    def test_replay_follows_the_engine(self, f: Callable[..., Any]) -> None:
        """Comparisons, bool, int and float: every path matches the engine."""
        g = trace(f, 0.3, 0.7)
        for p in random_points(40, 2, seed=7):
            assert_close(g.value_and_grad(*p), engine(f, *p))
            assert g(*p) == pytest.approx(engine(f, *p)[0], rel=1e-12)

    def test_guard_before_a_domain_error(self) -> None:
        """The guard is checked before the log it protects."""

        def f(x: Any) -> Any:
            return ag.log(x) if x > 0 else -x

        g = trace(f, 1.0)
        assert g.value_and_grad(-2.0) == (2.0, (-1.0,))

    def test_cache_is_bounded(self) -> None:
        """At most max_traces traces are kept; the oldest go first."""
        g = trace(lambda x: x * int(x), 0.5)
        for k in range(12):
            assert g(k + 0.5) == (k + 0.5) * k
        assert g.ntraces == 12
        assert len(g._programs) == g.max_traces


class TestTraceDetails:
    """Constants, trivial outputs, the source, fallbacks."""

    def test_constants_are_baked(self) -> None:
        """Values made inside f are constants: no gradient, folded into the trace."""

        def f(x: Any) -> Any:
            c = Value(2.0)
            return x * c + ag.exp(c * c)

        g = trace(f, 1.0)
        assert g.value_and_grad(3.0) == (6.0 + math.exp(4.0), (2.0,))
        assert "exp" not in g.source.split("# backward")[0].replace("_f", "")

    def test_trivial_outputs(self) -> None:
        """f returning an argument, or a plain number."""
        assert trace(lambda x, y: x, 1.0, 2.0).value_and_grad(3.0, 4.0) == (
            3.0,
            (1.0, 0),
        )
        assert trace(lambda x: 3.0, 1.0).value_and_grad(5.0) == (3.0, (0,))

    def test_source_is_python(self) -> None:
        """source compiles and names f's parameters."""

        def f(alpha: Any, beta: Any) -> Any:
            return alpha * beta + ag.tanh(alpha)

        source = trace(f, 1.0, 2.0).source
        compile(source, "<test>", "exec")
        assert source.startswith("def value_and_grad(alpha, beta):")

    def test_parameter_names_that_clash(self) -> None:
        """Parameters named like the generated code's variables are renamed."""

        def f(v1: Any, S0: Any, abs: Any, x0: Any) -> Any:  # noqa: N803 -- clashing on purpose
            return v1 * S0 + abs * x0

        g = trace(f, 1.0, 2.0, 3.0, 4.0)
        assert g.source.startswith("def value_and_grad(x0, x1, x2, x3):")
        assert g.value_and_grad(1.0, 2.0, 3.0, 4.0) == (14.0, (2.0, 1.0, 4.0, 3.0))

    def test_replay_error_is_fs_error(self) -> None:
        """Where replay fails (log of a negative), f's own error is raised."""
        g = trace(lambda x: ag.log(x), 1.0)
        with pytest.raises(ValueError, match=r"log\(-1.0\)"):
            g(-1.0)

    def test_int_arguments(self) -> None:
        """Ints are numbers too."""
        g = trace(lambda x, y: x * y + x, 1.0, 2.0)
        assert g.value_and_grad(3, 4) == (15, (5, 3))


class TestValuesNotArguments:
    """Values f closes over or makes are re-read: a changed ``.data`` re-traces."""

    def test_closed_over_value_changed(self) -> None:
        """x * w after w.data = 5.0 gives the engine's 5.0, not the traced 2.0."""
        w = Value(2.0)
        g = trace(lambda x: x * w + w, 1.0)
        assert g.value_and_grad(3.0) == (8.0, (2.0,))  # 3*2 + 2; d/dx = w
        w.data = 5.0
        assert g(3.0) == 20.0  # 3*5 + 5
        assert g.value_and_grad(3.0) == (20.0, (5.0,))
        assert g.ntraces == 2  # traced once more, then replayed
        assert len(g._programs) == 1  # the stale trace is dropped

    def test_closed_over_value_in_a_guard(self) -> None:
        """A decision on a closed-over Value alone is taken again once it changes."""
        w = Value(1.0)
        g = trace(lambda x: x * x if w > 0 else -x, 2.0)
        assert g.value_and_grad(2.0) == (4.0, (4.0,))
        w.data = -1.0
        assert g.value_and_grad(2.0) == (-2.0, (-1.0,))

    def test_closed_over_value_returned(self) -> None:
        """f returning a closed-over Value gives its current number."""
        w = Value(2.0)
        g = trace(lambda x: w, 1.0)
        w.data = 7.0
        assert g.value_and_grad(1.0) == (7.0, (0,))

    def test_source_after_every_trace_went_stale(self) -> None:
        """With no trace left (the re-trace raised), .source says so clearly."""
        w = Value(2.0)
        g = trace(lambda x: ag.log(x * w), 1.0)
        w.data = -1.0
        with pytest.raises(ValueError, match="log"):
            g(1.0)
        with pytest.raises(RuntimeError, match="no trace"):
            g.source  # noqa: B018 -- the property raises
        w.data = 3.0
        assert g(1.0) == pytest.approx(math.log(3.0))
        assert "def value_and_grad" in g.source

    def test_closed_over_node_keeps_its_grad(self) -> None:
        """Tracing f leaves the grad of a node f closes over as backward set it."""
        w = Value(2.0)
        h = w * 3
        (h * h).backward()
        trace(lambda a: a * h, 1.0)
        assert (h.grad, w.grad) == (12.0, 36.0)

    def test_equal_but_new_number_retraces(self) -> None:
        """-0.0 for 0.0 is a change (identity, not equality): the sign follows."""
        w = Value(0.0)
        g = trace(lambda x: x * w, 1.0)
        w.data = -0.0
        assert math.copysign(1.0, g(1.0)) == -1.0  # 1.0 * -0.0 is -0.0

    def test_value_made_inside_f(self) -> None:
        """A Value f makes anew each run is fresh at every call: one trace."""

        def f(x: Any) -> Any:
            return x * Value(3.0) + ag.exp(Value(0.0))

        g = trace(f, 1.0)
        for x in (1.0, 2.0, -4.0):
            assert g.value_and_grad(x) == (3 * x + 1.0, (3.0,))
        assert g.ntraces == 1

    def test_value_kept_by_f_changed(self) -> None:
        """A Value f makes once and keeps (a cache) is checked as if closed over."""
        kept: list[Value] = []

        def f(x: Any) -> Any:
            if not kept:
                kept.append(Value(2.0))
            return x * kept[0]

        g = trace(f, 1.0)
        kept[0].data = 4.0
        assert g.value_and_grad(3.0) == (12.0, (4.0,))

    def test_plain_number_rebound(self) -> None:
        """A plain number f closes over is checked: rebinding it re-traces (15.4)."""
        c = 2.0
        g = trace(lambda x: x * c, 1.0)
        c = 5.0
        assert g(1.0) == 5.0 == c

    def test_mlp_parameters_stepped_by_an_optimizer(self) -> None:
        """An MLP closed over, stepped by SGD: replay follows the engine each step."""
        model = nn.MLP(2, [4, 1], activation="tanh", seed=3)
        opt = optim.SGD(model.parameters(), lr=0.1)

        def f(x0: Any, x1: Any) -> Any:
            return model([x0, x1])

        g = trace(f, 0.5, -0.5)
        for step in range(4):
            point = (0.3 * step - 0.2, 0.7 - 0.1 * step)
            assert_close(g.value_and_grad(*point), engine(f, *point))
            opt.zero_grad()
            loss = model([0.5, -0.5]) ** 2  # type: ignore[operator]
            loss.backward()
            opt.step()
        assert g.ntraces == 4

    def test_array_path(self) -> None:
        """Over arrays too, a changed closed-over Value re-traces."""
        np = pytest.importorskip("numpy")
        w = Value(2.0)
        g = trace(lambda x: x * x * w if x > 0 else x * w, 1.0)
        xs = np.array([-1.0, 2.0])
        value, (slope,) = g.value_and_grad(xs)
        assert value.tolist() == [-2.0, 8.0] and slope.tolist() == [2.0, 8.0]
        w.data = 3.0
        value, (slope,) = g.value_and_grad(xs)
        # x*w for x <= 0 (slope w), x*x*w for x > 0 (slope 2*x*w)
        assert value.tolist() == [-3.0, 12.0] and slope.tolist() == [3.0, 12.0]
        assert g(xs).tolist() == [-3.0, 12.0]


class TestCaches:
    """Per-primitive caches do not keep a user primitive alive."""

    def test_redefined_primitive_is_freed(self) -> None:
        """A user primitive redefined under its name is freed once nothing uses it."""
        np = pytest.importorskip("numpy")

        def define() -> Any:  # math.sin and math.cos: array forms by np.vectorize
            return ag.primitive(math.sin, math.cos, name="sin_for_cache_test")

        old = [define()]
        node_class(old[0])
        g = trace(lambda x: old[0](x) * x, 1.0)
        assert g(np.array([0.0, 1.0])).tolist() == [0.0, math.sin(1.0)]
        assert g.value_and_grad(np.array([1.0]))[1][0].tolist() == [
            math.cos(1.0) + math.sin(1.0)  # d/dx x sin x
        ]
        freed = weakref.ref(old[0])
        define()
        old.clear()
        del g
        gc.collect()
        assert freed() is None


class TestErrors:
    """Bad calls raise TypeError naming the problem."""

    def test_not_callable(self) -> None:
        """trace of a non-function."""
        with pytest.raises(TypeError, match="takes a function"):
            trace(3, 1.0)  # type: ignore[arg-type]

    def test_wrong_number_of_arguments(self) -> None:
        """A call with too many or too few arguments."""
        g = trace(lambda x: x * x, 1.0)
        with pytest.raises(TypeError, match="takes 1 argument"):
            g(1.0, 2.0)
        with pytest.raises(TypeError, match="takes 1 argument"):
            g.value_and_grad()

    @pytest.mark.parametrize("bad", ["1.0", None, Value(1.0), [1.0]])
    def test_non_numeric_argument(self, bad: Any) -> None:
        """A string, None, a Value or a list is not a number."""
        g = trace(lambda x: x * x, 1.0)
        with pytest.raises(TypeError, match="takes numbers"):
            g(bad)
        with pytest.raises(TypeError, match="takes numbers"):
            trace(lambda x: x * x, bad)

    def test_bad_return(self) -> None:
        """f must return a Value or a number."""
        with pytest.raises(TypeError, match="must return a Value or a number"):
            trace(lambda x: [x], 1.0)


class TestTracedGradientsAtKinks:
    """A traced gradient takes the right side of every kink of the rules it uses."""

    @pytest.mark.parametrize(
        ("f", "where", "points"),
        [
            (lambda x: ag.relu(x) * x, 0.5, [-1.0, -0.25, 0.75, 2.0]),
            (lambda x: abs(x) * x, 0.5, [-1.0, 0.3]),
            (lambda x: ag.maximum(x, 0.25) * x, 1.0, [-1.0, 0.0, 2.0]),
            (lambda x: ag.minimum(x * x, 1.0) * x, 0.5, [-3.0, 0.2, 4.0]),
        ],
    )
    def test_trace_of_grad_matches_grad_of_grad(
        self, f: Any, where: float, points: list[float]
    ) -> None:
        """trace(grad(f)) agrees with grad(grad(f)) on both sides of each kink."""
        g = ag.trace(ag.grad(f), where)
        for p in points:
            value, (slope,) = g.value_and_grad(p)
            assert value == pytest.approx(ag.grad(f)(p))
            assert slope == pytest.approx(ag.grad(ag.grad(f))(p))
