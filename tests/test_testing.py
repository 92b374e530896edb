"""The shipped test tools: check_grad, the hypothesis strategies and their plugin.

Deliberately wrong primitives are registered only inside a scratch registry (the
built-ins alone), so they never leak into the random expressions of other tests.
"""

from __future__ import annotations

import importlib
import math
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import find, given, reject
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

import autograd_scalar as ag
from autograd_scalar import Value, _rules
from autograd_scalar.testing import check_grad
from autograd_scalar.testing._plugin import _hypothesis_setup_hook
from autograd_scalar.testing.strategies import (
    Constant,
    Expression,
    Node,
    _safe,
    expressions,
    values,
)

ROOT = Path(ag.__file__).resolve().parents[1]
PRIMS = ag.registered()


def builtins_only() -> dict[str, ag.Primitive]:
    """The built-in primitives: what other tests registered is left out."""
    return {n: p for n, p in ag.registered().items() if n in _rules._BUILTIN}


@pytest.fixture(scope="class")
def scratch_registry() -> Iterator[None]:
    """A registry of the built-ins, restored (user primitives dropped) afterwards."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_rules, "_REGISTRY", builtins_only())
        yield


@pytest.fixture(scope="class")
def bad_cube(scratch_registry: None) -> Any:
    """The issue's wrong rule: d/dx x**3 is 3x**2, not 2x**2."""
    return ag.primitive(lambda x: x**3, lambda x: 2 * x**2, name="bad_cube")


@pytest.fixture(scope="class")
def cube(scratch_registry: None) -> Any:
    """A correct user primitive, to replay expressions without the wrong one."""
    return ag.primitive(lambda x: x**3, lambda x: 3 * x**2, name="cube")


# -------------------------------------------------------------------------------------
# check_grad
# -------------------------------------------------------------------------------------


@pytest.mark.usefixtures("scratch_registry")
class TestCheckGrad:
    """check_grad passes right rules and names what is wrong in a wrong one."""

    def test_passes_a_right_function(self) -> None:
        """A correct composite passes at orders 1 and 2."""
        f = lambda x, y: ag.sin(x) * y + ag.exp(x / y)  # noqa: E731
        assert check_grad(f, 0.5, 2.0) and check_grad(f, 0.5, 2.0, order=2)

    def test_catches_bad_cube(self, bad_cube: Any) -> None:
        """The issue's example at 1.3: the message names everything."""
        with pytest.raises(AssertionError) as info:
            check_grad(bad_cube, 1.3)
        # backward gives 2 * 1.3**2 = 3.38; finite differences give 3 * 1.3**2 = 5.07
        assert str(info.value).startswith(
            "bad_cube at (1.3,): d/darg0 is 3.38 by backward, 5.07 by finite"
        )

    def test_returns_false_on_request(self, bad_cube: Any) -> None:
        """raise_exception=False turns the failure into False."""
        assert check_grad(bad_cube, 1.3, raise_exception=False) is False
        assert check_grad(bad_cube, 1.3, order=2, raise_exception=False) is False

    def test_names_the_argument(self) -> None:
        """A wrong partial in the second input is reported as d/darg1."""
        bad_mul = ag.primitive(
            lambda x, y: x * y, lambda x, y: y, lambda x, y: 2 * x, name="bad_mul"
        )
        # d/dy x*y = x = 1.5, the rule says 2x = 3
        with pytest.raises(
            AssertionError,
            match=r"bad_mul at \(1\.5, -2\.0\): d/darg1 is 3 by backward, 1\.5 by",
        ):
            check_grad(bad_mul, 1.5, -2.0)

    def test_catches_a_wrong_second_derivative(self) -> None:
        """A rule right on numbers but wrong on Values fails only at order 2."""
        # The partial 3 * x * stop_gradient(x) is 3x**2 on numbers, but its own
        # derivative is 3x instead of 6x: at 1.3, 3.9 instead of 7.8.
        frozen = ag.primitive(
            lambda x: x**3, lambda x: 3 * x * ag.stop_gradient(x), name="frozen_cube"
        )
        assert check_grad(frozen, 1.3)
        with pytest.raises(
            AssertionError,
            match=r"frozen_cube at \(1\.3,\): d2/darg0darg0 is 3\.9 by backward, 7\.8 ",
        ):
            check_grad(frozen, 1.3, order=2)

    def test_wrong_rule_inside_a_composite(self, bad_cube: Any) -> None:
        """A wrong rule deep in a composite is caught, and the composite is named."""

        def outer(x: Any, y: Any) -> Any:
            return ag.tanh(bad_cube(x) * y)

        with pytest.raises(AssertionError, match=r"^outer at \(0\.7, 0\.4\): d/darg0"):
            check_grad(outer, 0.7, 0.4)

    def test_constant_function(self) -> None:
        """A function that ignores its inputs has gradient 0 and passes."""
        assert check_grad(lambda x: 3.0, 1.0, order=2)

    @pytest.mark.parametrize(
        ("kwargs", "exc"),
        [({"order": 3}, ValueError), ({"order": 0}, ValueError)],
    )
    def test_bad_order(self, kwargs: dict[str, Any], exc: type[Exception]) -> None:
        """Only orders 1 and 2 exist."""
        with pytest.raises(exc, match="order"):
            check_grad(ag.sin, 1.0, **kwargs)

    def test_bad_argument(self) -> None:
        """Points are numbers, not Values or strings."""
        with pytest.raises(TypeError, match="argument 0"):
            check_grad(ag.sin, Value(1.0))
        with pytest.raises(TypeError, match="argument 1"):
            check_grad(ag.atan2, 1.0, "x")


@pytest.mark.usefixtures("scratch_registry")
class TestCheckGradFindsWrongRulesInRandomExpressions:
    """Wherever a wrong rule changes the gradient, check_grad notices."""

    @pytest.mark.parametrize("order", [1, 2])
    @given(data=st.data())
    def test_catches_bad_cube(
        self, bad_cube: Any, cube: Any, order: int, data: st.DataObject
    ) -> None:
        """Wherever the wrong rule changes the gradient, check_grad fails."""
        strategy = expressions(primitives=["bad_cube", "add", "mul", "sin", "exp"])
        for _ in range(10):  # draw until the wrong rule changes the gradient
            f, args = data.draw(strategy)

            def fixed(*xs: Any, f: Expression = f) -> Any:
                return f.trace(*xs, functions={"bad_cube": cube})[-1]

            assert check_grad(fixed, *args, order=order)
            xs, ys = [Value(a) for a in args], [Value(a) for a in args]
            f(*xs).backward()
            fixed(*ys).backward()
            if any(
                not math.isclose(x.grad, y.grad, rel_tol=1e-2, abs_tol=1e-3)
                for x, y in zip(xs, ys, strict=True)
            ):
                break
        else:
            reject()
        assert not check_grad(f, *args, order=order, raise_exception=False)


# -------------------------------------------------------------------------------------
# Strategies
# -------------------------------------------------------------------------------------


def namespace() -> dict[str, Any]:
    """The names an expression's source uses: the registered primitives, and the
    functions that call an operator's special method (abs, round, math.floor)."""
    import math

    return {**ag.registered(), "abs": abs, "round": round, "math": math}


class TestValues:
    """values() draws leaf Values with finite float data."""

    @given(values(min_value=-2.5, max_value=3))
    def test_bounds(self, x: Value) -> None:
        """Bounded, finite, a leaf with no gradient yet."""
        assert isinstance(x, Value) and x.is_leaf and x.grad == 0
        assert isinstance(x.data, float) and -2.5 <= x.data <= 3

    @given(values())
    def test_finite(self, x: Value) -> None:
        """Without bounds, any finite float."""
        assert math.isfinite(x.data)

    def test_shrinks_towards_zero_and_simple_floats(self) -> None:
        """The simplest Value is 0.0; with 0 excluded, a small integer."""
        assert find(values(), lambda x: True).data == 0.0
        assert find(values(min_value=1.5), lambda x: True).data == 2.0


class TestExpressions:
    """expressions() draws random DAGs of primitives with a safe point."""

    @given(expressions(max_inputs=2, max_ops=4))
    def test_shape(self, case: tuple[Expression, tuple[float, ...]]) -> None:
        """Sizes within bounds, args floats in range, numbers in numbers out."""
        f, args = case
        assert isinstance(f, Expression) and 1 <= f.arity <= 2
        assert 1 <= len(f) <= 4 and len(args) == f.arity
        assert all(type(a) is float and -4 <= a <= 4 for a in args)
        out = f(*[Value(a) for a in args])
        assert not isinstance(f(*args), Value)
        assert (out.data if isinstance(out, Value) else out) == f(*args)

    @given(expressions(min_value=1, max_value=2, primitives=["log", "sqrt", "add"]))
    def test_options(self, case: tuple[Expression, tuple[float, ...]]) -> None:
        """Only the named primitives; points inside [min_value, max_value]."""
        f, args = case
        assert {n.primitive.name for n in f.nodes} <= {"log", "sqrt", "add"}
        assert all(1 <= a <= 2 for a in args)

    @given(expressions())
    def test_repr_is_the_source(
        self, case: tuple[Expression, tuple[float, ...]]
    ) -> None:
        """Evaluating the repr gives the same function."""
        f, args = case
        source = eval(repr(f), namespace())
        assert source(*args) == f(*args)
        assert str(f) == repr(f)

    def test_shares_subexpressions(self) -> None:
        """Some drawn expressions read one node twice (a DAG, not a tree)."""
        f, _ = find(expressions(), lambda c: ":=" in repr(c[0]))
        reads = [a for n in f.nodes for a in n.operands if not isinstance(a, Constant)]
        assert len(reads) > len(set(reads))

    def test_shrinks_to_a_small_expression(self) -> None:
        """The simplest draw: one input, one operation, the point 0."""
        f, args = find(expressions(), lambda c: True)
        assert (f.arity, len(f), args) == (1, 1, (0.0,))

    @pytest.mark.usefixtures("scratch_registry")
    def test_user_primitives_registered_later_are_drawn(self) -> None:
        """The pool is registered() at draw time, not when the strategy was made."""
        strategy = expressions()
        ag.primitive(
            lambda x: x * math.exp(x), lambda x: (1 + x) * ag.exp(x), name="xexp"
        )
        f, args = find(strategy, lambda c: "xexp(" in repr(c[0]))
        assert check_grad(f, *args, order=2)

    @pytest.mark.parametrize(
        ("kwargs", "exc", "match"),
        [
            ({"max_inputs": 0}, ValueError, "at least 1"),
            ({"max_ops": 0}, ValueError, "at least 1"),
            ({"max_ops": 2.5}, TypeError, "ints"),
            ({"min_value": 1, "max_value": 1}, ValueError, "min_value < max_value"),
            ({"primitives": ["no_such"]}, ValueError, "no_such"),
            ({"primitives": []}, ValueError, "empty"),
        ],
    )
    def test_bad_arguments(
        self, kwargs: dict[str, Any], exc: type[Exception], match: str
    ) -> None:
        """Bad arguments fail when the strategy is made, naming the problem."""
        with pytest.raises(exc, match=match):
            expressions(**kwargs)


class TestExpression:
    """The Expression class: a callable DAG with its source as repr."""

    def test_source_with_precedence_and_sharing(self) -> None:
        """Operators are parenthesized as needed; shared nodes are named once."""
        sub, pow_, neg, hypot = (PRIMS[n] for n in ("sub", "pow", "neg", "hypot"))
        f = Expression(
            2,
            [
                Node(sub, (0, Constant(-2))),  # slot 2
                Node(neg, (2,)),  # slot 3
                Node(pow_, (3, 1)),  # slot 4
                Node(hypot, (4, 3)),  # slot 5
            ],
        )
        assert repr(f) == "lambda x0, x1: hypot((t0 := -(x0 - (-2))) ** x1, t0)"
        # at (-3, 2): t0 = -(-3 + 2) = 1, so hypot(1 ** 2, 1) = sqrt(2)
        assert math.isclose(f(-3.0, 2.0), math.sqrt(2))

    def test_unread_nodes_are_dropped(self) -> None:
        """Nodes the output does not read are not part of the expression."""
        exp, sin = PRIMS["exp"], PRIMS["sin"]
        f = Expression(1, [Node(exp, (0,)), Node(sin, (0,))])
        assert repr(f) == "lambda x0: sin(x0)" and len(f) == 1

    def test_subexpression_and_trace(self) -> None:
        """trace gives every slot; subexpression(k) ends at node k."""
        exp, mul = PRIMS["exp"], PRIMS["mul"]
        f = Expression(2, [Node(exp, (0,)), Node(mul, (2, 1))])
        assert f.trace(0.0, 3.0) == [0.0, 3.0, 1.0, 3.0]
        assert repr(f.subexpression(0)) == "lambda x0, x1: exp(x0)"
        assert f.subexpression(-1).trace(0.0, 3.0) == f.trace(0.0, 3.0)

    def test_replay_with_other_functions(self) -> None:
        """functions= replaces primitives by name, operators included."""
        exp, mul = PRIMS["exp"], PRIMS["mul"]
        f = Expression(1, [Node(exp, (0,)), Node(mul, (1, Constant(2)))])
        assert f.trace(1.0, functions={"exp": lambda x: 10.0}) == [1.0, 10.0, 20.0]
        assert f.trace(1.0, functions={"mul": max}) == [1.0, math.e, math.e]

    def test_bad_nodes(self) -> None:
        """Operands must be earlier slots, as many as the primitive takes."""
        sin = PRIMS["sin"]
        with pytest.raises(ValueError, match="node 0"):
            Expression(1, [Node(sin, (1,))])
        with pytest.raises(ValueError, match="node 0"):
            Expression(1, [Node(sin, (0, 0))])
        with pytest.raises(ValueError, match="at least one"):
            Expression(1, [])
        with pytest.raises(TypeError, match="takes 1 argument"):
            Expression(1, [Node(sin, (0,))])(1.0, 2.0)


class TestSafePoints:
    """Points are kept away from kinks, jumps and domain edges."""

    @pytest.mark.parametrize(
        ("name", "args"),
        [
            ("relu", (3e-7,)),  # within the finite-difference step of the kink
            ("abs", (-1e-5,)),
            ("maximum", (1.0, 1.0 + 1e-8)),
            ("minimum", (2.0, 2.0)),
            ("hypot", (1e-6, -1e-6)),
            ("atan2", (1e-9, -1.0)),  # just above atan2's branch cut
            ("log", (1e-4,)),
            ("sqrt", (1e-5,)),
            ("truediv", (1.0, 1e-3)),
            ("tan", (math.pi / 2 - 1e-4,)),
            ("exp", (5.0,)),  # e**5 > 50: too large to difference accurately
        ],
    )
    def test_unsafe(self, name: str, args: tuple[float, ...]) -> None:
        """Each of these points is rejected."""
        prim = PRIMS[name]
        f = Expression(prim.arity, [Node(prim, tuple(range(prim.arity)))])
        assert not _safe(f, args)

    @pytest.mark.parametrize(
        ("name", "args"),
        [
            ("relu", (0.01,)),
            ("maximum", (1.0, 1.1)),
            ("atan2", (0.1, -1.0)),
            ("log", (0.5,)),
            ("exp", (3.0,)),
        ],
    )
    def test_safe(self, name: str, args: tuple[float, ...]) -> None:
        """Nearby points a little further away are accepted."""
        prim = PRIMS[name]
        f = Expression(prim.arity, [Node(prim, tuple(range(prim.arity)))])
        assert _safe(f, args)

    def test_steep_composite(self) -> None:
        """Local slopes that multiply along a path beyond the bound are rejected."""
        exp = PRIMS["exp"]
        f = Expression(1, [Node(exp, (0,)), Node(exp, (1,))])  # exp(exp(x))
        # at 1.2: slope exp(1.2) * exp(exp(1.2)) = 3.3 * 27.8 = 92 > 50
        assert _safe(f, (0.5,)) and not _safe(f, (1.2,))


# -------------------------------------------------------------------------------------
# The hypothesis plugin
# -------------------------------------------------------------------------------------


def run_python(
    code: str, tmp_path: Path, *, plugin: bool
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter importing this checkout of the package.

    With ``plugin``, the hypothesis entry point declared in pyproject.toml is made
    visible through a minimal installed-distribution record, as ``pip install``
    would write it.
    """
    path = [str(ROOT)]
    if plugin:
        declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
            "entry-points"
        ]["hypothesis"]
        info = tmp_path / "site" / "autograd_scalar_plugin_check-0.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: autograd_scalar_plugin_check\nVersion: 0\n"
        )
        lines = [f"{name} = {target}" for name, target in declared.items()]
        (info / "entry_points.txt").write_text("[hypothesis]\n" + "\n".join(lines))
        path.insert(0, str(info.parent))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path)}
    env.pop("HYPOTHESIS_NO_PLUGINS", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )


FROM_TYPE_CHECK = """
import math
from hypothesis import find, strategies as st
from hypothesis.errors import NoSuchExample
from autograd_scalar import Value
try:
    find(st.from_type(Value), lambda x: not math.isfinite(x.data))
except NoSuchExample:
    print("finite")
"""


class TestPlugin:
    """st.from_type(Value) draws from values() once the package is installed."""

    def test_importing_the_package_does_not_import_hypothesis(
        self, tmp_path: Path
    ) -> None:
        """hypothesis is imported by the strategies module only."""
        done = run_python(
            "import sys, autograd_scalar, autograd_scalar.testing\n"
            "print(sorted(m for m in sys.modules if m.startswith('hypothesis')))",
            tmp_path,
            plugin=False,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"

    def test_setup_hook(self) -> None:
        """The hook registers values(): only finite floats, 0.0 simplest."""
        _hypothesis_setup_hook()
        with pytest.raises(NoSuchExample):
            find(st.from_type(Value), lambda x: not math.isfinite(x.data))
        assert find(st.from_type(Value), lambda x: True).data == 0.0

    def test_declared_entry_point_is_the_hook(self) -> None:
        """pyproject.toml points hypothesis at the hook."""
        declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
            "entry-points"
        ]["hypothesis"]
        (target,) = declared.values()
        module, _, name = target.partition(":")
        assert getattr(importlib.import_module(module), name) is _hypothesis_setup_hook

    def test_strategies_imported_before_hypothesis(self, tmp_path: Path) -> None:
        """A script may import the strategies first: the plugin loads no half module."""
        done = run_python(
            "from autograd_scalar.testing.strategies import values\n"
            "print(type(values().example()).__name__)",
            tmp_path,
            plugin=True,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "Value"

    def test_entry_point_through_hypothesis(self, tmp_path: Path) -> None:
        """Hypothesis itself loads the declared entry point when it is imported."""
        done = run_python(FROM_TYPE_CHECK, tmp_path, plugin=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "finite"

    def test_installed_entry_point(self, tmp_path: Path) -> None:
        """With the package installed (pip install -e .), the plugin is live."""
        from importlib.metadata import entry_points

        if not any(
            e.value.startswith("autograd_scalar.")
            for e in entry_points(group="hypothesis")
        ):
            pytest.skip("autograd_scalar's hypothesis entry point is not installed")
        done = run_python(FROM_TYPE_CHECK, tmp_path, plugin=False)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "finite"


# -------------------------------------------------------------------------------------
# The documentation's example (docs/guide/testing.md)
# -------------------------------------------------------------------------------------


def test_readme_example_passes(tmp_path: Path) -> None:
    """The guide's property-test example runs and passes as a user's test file."""
    guide = (ROOT / "docs" / "guide" / "testing.md").read_text(encoding="utf-8")
    section = guide.split("## A test file of your own")[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert code is not None
    (tmp_path / "test_logcosh.py").write_text(code.group(1))
    done = run_python(
        "import sys, pytest\n"
        "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider',"
        " '--hypothesis-seed=0', 'test_logcosh.py']))",
        tmp_path,
        plugin=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout
