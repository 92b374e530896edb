"""The Value engine: building graphs, backward's bookkeeping, depth, memory, errors."""

from __future__ import annotations

import copy
import gc
import math
import subprocess
import sys
import threading
import traceback
import tracemalloc
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Value, _engine


class TestSeedExamples:
    """The worked examples of the seed notebook, with Values."""

    def test_product(self) -> None:
        """f = 5 * (2 * 3) gives 30 with gradients f 1, o 5, a 15, b 10."""
        a, b, five = Value(2), Value(3), Value(5)
        o = a * b
        f = five * o
        f.backward()
        assert f.data == 30
        assert (f.grad, o.grad, a.grad, b.grad) == (1, 5, 15, 10)

    @pytest.mark.parametrize("square", [lambda h: h * h, lambda h: h**2])
    def test_diamond(self, square: Any) -> None:
        """h = (x*y)*(y*z), o = h*h (or h**2) at x=3, y=2, z=1."""
        x, y, z = Value(3), Value(2), Value(1)
        h1 = x * y
        h2 = y * z
        h = h1 * h2
        o = square(h)
        o.backward()
        assert h.data == 12
        assert (h.grad, h1.grad, h2.grad) == (24, 48, 144)
        assert (x.grad, y.grad, z.grad) == (96, 288, 288)


class TestValue:
    """Construction, attributes, conversions, comparisons."""

    @pytest.mark.parametrize(
        "data", [2, 2.5, Fraction(1, 3), True, -0.0, math.inf, math.nan]
    )
    def test_accepts_real_numbers(self, data: Any) -> None:
        """Any real number is accepted and kept as it is."""
        assert Value(data).data is data

    def test_accepts_numpy_scalars(self) -> None:
        """numpy scalars are real numbers too."""
        np = pytest.importorskip("numpy")
        assert Value(np.float32(1.5)).data == 1.5
        assert Value(np.int64(3)).data == 3

    @pytest.mark.parametrize("bad", ["2", None, 1j, [1.0], (1.0,), {1.0}, object()])
    def test_rejects_non_numbers(self, bad: Any) -> None:
        """Anything that is not a real number is a TypeError naming its type."""
        with pytest.raises(TypeError, match=type(bad).__name__):
            Value(bad)

    def test_rejects_value(self) -> None:
        """Value(Value(...)) is refused with a hint."""
        with pytest.raises(TypeError, match="detach"):
            Value(Value(1.0))

    def test_attributes(self) -> None:
        """data, grad, label, op and parents of leaves and results."""
        x = Value(2.0, label="x")
        y = x * 3
        assert (x.data, x.grad, x.label, x.op, x.parents) == (2.0, 0, "x", "", ())
        assert (y.data, y.op, y.parents, y.label) == (6.0, "mul", (x,), "")
        z = x + x
        assert z.parents == (x, x)
        assert x.is_leaf and not z.is_leaf

    def test_label_is_settable(self) -> None:
        """A result can be named after the fact (micrograd's ``e.label = 'e'``)."""
        e = Value(1.0) * 2
        e.label = "e"
        assert "label='e'" in repr(e)

    def test_conversions_and_repr(self) -> None:
        """float(), int(), bool() and repr show the data (and grad)."""
        x = Value(2.5)
        assert float(x) == 2.5
        assert int(x) == 2
        assert bool(Value(0.0)) is False
        assert repr(x) == "Value(data=2.5, grad=0)"

    def test_comparisons_use_data(self) -> None:
        """< <= > >= compare data and return bool, so max/min/sorted work."""
        a, b = Value(1.0), Value(2.0)
        assert (a < b, a <= b, a > b, a >= b) == (True, True, False, False)
        assert (a < 1.5, b < 2.5, a >= 1.0) == (True, True, True)
        assert max(a, b) is b
        assert min(a, b) is a
        assert sorted([b, a]) == [a, b]

    def test_comparison_with_foreign_type(self) -> None:
        """Comparing with a non-number is Python's TypeError naming both types."""
        with pytest.raises(TypeError, match=r"Value.*str"):
            _ = Value(1.0) < "a"  # type: ignore[operator]  # the error under test

    def test_label_must_be_str(self) -> None:
        """A label that is not a string is a TypeError."""
        with pytest.raises(TypeError, match="label"):
            Value(1.0, label=3)  # type: ignore[arg-type]  # the error under test

    def test_jupyter_display(self) -> None:
        """Values show data, grad and op as HTML in Jupyter."""
        y = Value(1.0) * 2
        html = y._repr_html_()
        assert "2.0" in html and "mul" in html


class TestEquality:
    """== and != compare data, as for numbers; hash stays by identity."""

    def test_compares_with_numbers(self) -> None:
        """Value(0.0) == 0 and Value(2.0) != 3, as 0.0 == 0 and 2.0 != 3 in Python."""
        assert Value(0.0) == 0
        assert 0 == Value(0.0)  # noqa: SIM300 -- the reflected form is under test
        assert Value(2.0) != 3 and (Value(2.0) != 2) is False

    def test_compares_values(self) -> None:
        """Two Values with equal data are equal; a nan is equal to nothing."""
        assert Value(1.0) == Value(1.0)
        assert Value(1.0) != Value(2.0)
        nan = Value(math.nan)
        assert nan != nan and (nan == nan) is False

    def test_returns_a_plain_bool(self) -> None:
        """The result is a bool, so (x == y) + 0.0 is the number 1.0, not a Value."""
        out = (Value(1.0) == Value(1.0)) + 0.0
        assert type(Value(1.0) == 1.0) is bool and type(out) is float and out == 1.0

    def test_same_value_when_differentiated(self) -> None:
        """f(x) = (x == 2) * 3 + x: same value on Values as on floats, slope 1."""

        def f(x: Any) -> Any:
            return (x == 2.0) * 3.0 + x

        assert ag.value_and_grad(f)(2.0) == (f(2.0), 1.0) == (5.0, 1.0)
        assert ag.value_and_grad(f)(1.0) == (f(1.0), 1.0) == (1.0, 1.0)

    def test_hash_by_identity(self) -> None:
        """Equal Values stay distinct dict keys and set members."""
        a, b = Value(1.0), Value(1.0)
        assert a == b and hash(a) == object.__hash__(a) != hash(b)
        assert len({a, b}) == 2
        assert {a: 1, b: 2}[a] == 1 and {a: 1, b: 2}[b] == 2
        assert b not in {a}

    def test_closed_over_value_equal_to_the_input(self) -> None:
        """A closed-over Value equal in data to grad's input is still told apart."""
        c = Value(3.0)
        g = ag.grad(lambda y: y * c)(3.0)  # d/dy y*c = c: a Value, differentiable
        assert isinstance(g, Value)
        g.backward()
        assert c.grad == 1.0


class TestOperators:
    """Arithmetic with Values and numbers on either side."""

    @pytest.mark.parametrize(
        ("expr", "want_value", "want_grad"),
        [
            (lambda x: x + 2, 5.0, 1.0),
            (lambda x: 2 + x, 5.0, 1.0),
            (lambda x: x - 2, 1.0, 1.0),
            (lambda x: 1 - x, -2.0, -1.0),
            (lambda x: x * 2, 6.0, 2.0),
            (lambda x: 2 * x, 6.0, 2.0),
            (lambda x: x / 2, 1.5, 0.5),
            (lambda x: 2 / x, 2 / 3, -2 / 9),
            (lambda x: x**2, 9.0, 6.0),
            (lambda x: 2**x, 8.0, 8 * math.log(2)),
            (lambda x: x**x, 27.0, 27 * (math.log(3) + 1)),
            (lambda x: -x, -3.0, -1.0),
            (lambda x: +x, 3.0, 1.0),
            (lambda x: abs(-x), 3.0, 1.0),
            (lambda x: x.exp(), math.exp(3), math.exp(3)),
            (lambda x: x.tanh(), math.tanh(3), 1 - math.tanh(3) ** 2),
        ],
    )
    def test_value_and_gradient(
        self, expr: Any, want_value: float, want_grad: float
    ) -> None:
        """Each operator's value and gradient at x = 3, derived by hand."""
        x = Value(3.0)
        y = expr(x)
        y.backward()
        assert y.data == pytest.approx(want_value, rel=1e-15)
        assert x.grad == pytest.approx(want_grad, rel=1e-15)

    @pytest.mark.parametrize(
        "expr",
        [
            lambda v: "a" * v,
            lambda v: v * "a",
            lambda v: v + None,
            lambda v: [1, *v],
            lambda v: v * 1j,
            lambda v: v ** (1, 2),
        ],
    )
    def test_foreign_operand_is_type_error(self, expr: Any) -> None:
        """A foreign operand gets NotImplemented, so Python raises its TypeError."""
        with pytest.raises(TypeError):
            expr(Value(2))

    def test_numpy_defers(self) -> None:
        """numpy.float64(2) * Value(3) is a Value, not a numpy object."""
        np = pytest.importorskip("numpy")
        for out in [np.float64(2) * Value(3), Value(3) * np.float64(2)]:
            assert type(out) is Value
            assert out.data == 6
        out = np.float64(2) - Value(3)
        out.backward()
        assert type(out) is Value and out.data == -1

    def test_functions_keep_the_kind(self) -> None:
        """A float in gives a float out; a Value in gives a Value out."""
        assert ag.exp(0.0) == 1.0
        assert isinstance(ag.exp(Value(0.0)), Value)
        assert ag.atan2(1.0, 1.0) == math.atan2(1.0, 1.0)
        assert isinstance(ag.maximum(1.0, Value(2.0)), Value)

    def test_function_rejects_non_numbers(self) -> None:
        """A function given a string names itself and the value."""
        with pytest.raises(TypeError, match=r"exp\(\).*str.*'a'"):
            ag.exp("a")  # type: ignore[call-overload]  # the error under test


class TestExactArithmetic:
    """int and Fraction data stay exact in value and gradient."""

    def test_fraction_example(self) -> None:
        """x*x + x/2 at x = 1/3 gives exactly 7/6 as the gradient."""
        x = Value(Fraction(1, 3))
        y = x * x + x / 2
        y.backward()
        assert y.data == Fraction(1, 9) + Fraction(1, 6)
        assert x.grad == Fraction(7, 6)
        assert type(x.grad) is Fraction

    def test_integer_powers_and_division(self) -> None:
        """Integer powers and division of Fractions stay Fractions."""
        x, y = Value(Fraction(2, 3)), Value(Fraction(5, 7))
        z = x**3 / y - 2 * x**-2
        z.backward()
        assert type(z.data) is Fraction
        assert (
            x.grad
            == 3 * Fraction(2, 3) ** 2 / Fraction(5, 7) + 4 * Fraction(2, 3) ** -3
        )
        assert y.grad == -(Fraction(2, 3) ** 3) / Fraction(5, 7) ** 2

    def test_ints_stay_ints(self) -> None:
        """+ - * on ints give int values and gradients."""
        a, b = Value(3), Value(4)
        c = a * b - a + 2
        c.backward()
        assert (c.data, a.grad, b.grad) == (11, 3, 3)
        assert all(type(v) is int for v in (c.data, a.grad, b.grad))

    def test_ties_stay_exact(self) -> None:
        """A tie in maximum splits a Fraction gradient exactly."""
        x, y = Value(Fraction(1, 2)), Value(Fraction(1, 2))
        ag.maximum(x, y).backward()
        assert x.grad == Fraction(1, 2) and type(x.grad) is Fraction


class TestBackward:
    """Seeding, accumulation, reuse and zero_grad."""

    def test_reuse(self) -> None:
        """b = a + a; c = b + b: every use of a node contributes."""
        a = Value(1.0)
        b = a + a
        c = b + b
        c.backward()
        assert (b.grad, a.grad) == (2, 4)

    def test_shared_interior_not_double_counted(self) -> None:
        """h = x*x; (h*2).backward(); (h*3).backward() leaves x.grad == 30."""
        x = Value(3.0)
        h = x * x
        (h * 2).backward()
        assert h.grad == 2
        (h * 3).backward()
        assert h.grad == 3  # interior: afresh
        assert x.grad == 30  # leaf: accumulated

    def test_leaves_accumulate_across_outputs(self) -> None:
        """Gradients of two outputs sum on shared leaves, as in PyTorch."""
        x, y = Value(2.0), Value(5.0)
        (x * y).backward()
        (x + y).backward()
        assert (x.grad, y.grad) == (6.0, 3.0)

    def test_zero_grad(self) -> None:
        """zero_grad zeroes every grad in the graph."""
        x = Value(2.0)
        y = x * x + x
        y.backward()
        y.zero_grad()
        assert (x.grad, y.grad) == (0, 0)
        y.backward()
        assert x.grad == 5.0

    def test_seed(self) -> None:
        """backward(gradient) scales every gradient."""
        x = Value(2.0)
        (x * x).backward(gradient=3.0)
        assert x.grad == 12.0

    def test_bad_seed(self) -> None:
        """A seed that is not a number is a TypeError naming it."""
        with pytest.raises(TypeError, match="'a'"):
            (Value(1.0) * 2).backward(gradient="a")

    def test_backward_on_a_leaf(self) -> None:
        """A leaf's own gradient is 1 (accumulated)."""
        x = Value(2.0)
        x.backward()
        x.backward()
        assert x.grad == 2.0

    def test_seed_matches_data_type(self) -> None:
        """A float output is seeded with 1.0, an exact one with an exact 1."""
        y = Value(2.0) + 1
        y.backward()
        assert y.grad == 1.0 and type(y.grad) is float
        z = Value(2) + 1
        z.backward()
        assert type(z.grad) is int

    def test_unreached_leaf_untouched(self) -> None:
        """A leaf that the output does not depend on keeps its gradient."""
        x, unused = Value(1.0), Value(1.0)
        unused.grad = 7.0
        (x * 2).backward()
        assert unused.grad == 7.0

    def test_constants_are_not_nodes(self) -> None:
        """In x * 2 the 2 is a constant: parents holds only x."""
        x = Value(1.0)
        assert (x * 2).parents == (x,)
        assert (2 * x).parents == (x,)


class TestGraphOrder:
    """The order backward runs the local rules in, on graphs that share nodes."""

    def test_square_of_an_interior_node(self) -> None:
        """h = x + 1; y = h * h: h is entered once, so dy/dx = 2h, not 4h."""
        x = Value(2.0)
        h = x + 1
        y = h * h
        y.backward()
        assert (h.grad, x.grad) == (6.0, 6.0)

    @given(st.data())
    @settings(max_examples=200, deadline=None)
    def test_random_dags(self, data: st.DataObject) -> None:
        """Every interior node once, after its inputs; gradients match path sums.

        The graph is drawn as a list of operations on earlier nodes, so nodes are
        shared in every way (x * x, diamonds, unary chains, constants). The gradient
        of a leaf is checked against the sum over paths of the product of local
        derivatives, computed here by a dynamic program in creation order.
        """
        leaves = [Value(float(i + 2)) for i in range(3)]
        nodes: list[Value] = list(leaves)
        local: list[list[tuple[int, float]]] = [[] for _ in leaves]  # (input, d)
        for _ in range(data.draw(st.integers(1, 30))):
            kind = data.draw(st.sampled_from(["add", "mul", "sin", "const"]))
            i = data.draw(st.integers(0, len(nodes) - 1))
            j = data.draw(st.integers(0, len(nodes) - 1))
            x, y = nodes[i], nodes[j]
            if kind == "add":
                out, d = x + y, [(i, 1.0), (j, 1.0)]
            elif kind == "mul":
                out, d = x * y, [(i, y.data), (j, x.data)]
            elif kind == "sin":
                out, d = ag.sin(x), [(i, math.cos(x.data))]
            else:
                out, d = 0.5 * x, [(i, 0.5)]
            nodes.append(out)
            local.append(d)
        root = nodes[-1]
        order = _engine._interior_toposort(root)
        position = {id(node): k for k, node in enumerate(order)}
        assert len(position) == len(order) and order[-1] is root
        for node in order:
            for x in node.parents:
                if not x.is_leaf:
                    assert position[id(x)] < position[id(node)]
        reached = {id(n) for n in order}
        expected = {id(n) for n in _engine._reachable(root) if not n.is_leaf}
        assert reached == expected
        adjoint = [0.0] * len(nodes)
        adjoint[-1] = 1.0
        for k in range(len(nodes) - 1, -1, -1):
            for i, d in local[k]:
                adjoint[i] += adjoint[k] * d
        root.backward()
        for k, leaf in enumerate(leaves):
            assert leaf.grad == pytest.approx(adjoint[k], rel=1e-12, abs=1e-12)
        # Again: interior gradients are found afresh, leaves accumulate.
        interior = [node.grad for node in order]
        root.backward()
        assert [node.grad for node in order] == interior
        for k, leaf in enumerate(leaves):
            assert leaf.grad == pytest.approx(2 * adjoint[k], rel=1e-12, abs=1e-12)


class TestDepth:
    """No recursion limits: very deep graphs build, differentiate and free."""

    def test_million_node_chain(self) -> None:
        """A chain of 1,000,000 nodes: backward without RecursionError, then freed."""
        x = Value(1.0)
        y = x
        for _ in range(1_000_000):
            y = y + 1e-6
        y.backward()
        assert x.grad == 1.0
        assert y.data == pytest.approx(2.0)
        del y  # dropping the chain must not overflow the C stack

    def test_deep_in_a_thread_with_small_stack(self) -> None:
        """backward is iterative: it needs no stack proportional to depth."""
        result: list[Any] = []

        def run() -> None:
            x = Value(1.0)
            y = x
            for _ in range(200_000):
                y = ag.tanh(y) * 1.0
            y.backward()
            result.append(x.grad)
            del y

        old = threading.stack_size(256 * 1024)
        try:
            t = threading.Thread(target=run)
            t.start()
            t.join()
        finally:
            threading.stack_size(old)
        assert len(result) == 1 and math.isfinite(result[0])

    def test_wide_shared_graph(self) -> None:
        """A node used many times, deep below, is expanded once."""
        x = Value(1.0)
        y = x
        for _ in range(10_000):
            y = y + x  # x shared 10,000 times
        y.backward()
        assert x.grad == 10_001


class TestMemory:
    """A dropped graph is freed by reference counting alone."""

    def test_no_reference_cycles(self) -> None:
        """With the garbage collector off, dropping a graph returns its memory."""
        gc.collect()
        gc.disable()
        try:
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            x = Value(0.5)
            y = x
            for _ in range(20_000):
                y = ag.tanh(y * x + 1.0)
            y.backward()
            during = tracemalloc.get_traced_memory()[0]
            del y, x
            after = tracemalloc.get_traced_memory()[0]
            tracemalloc.stop()
        finally:
            gc.enable()
        assert during - before > 20_000 * 3 * 50
        assert after - before < 10_000  # everything went back

    def test_bytes_per_node(self) -> None:
        """A node with its data and grad costs well under 150 bytes."""
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        x = Value(0.5)
        y = x
        for _ in range(30_000):
            y = y * x
        y.backward()
        per_node = (tracemalloc.get_traced_memory()[0] - before) / 30_000
        tracemalloc.stop()
        assert per_node < 150


class TestErrors:
    """Bad input: the right exception type, naming the operation and the value."""

    @pytest.mark.parametrize(
        ("expr", "exc", "pattern"),
        [
            (lambda: ag.log(Value(0.0)), ValueError, r"log\(0\.0\)"),
            (lambda: ag.log(-1.0), ValueError, r"log\(-1\.0\)"),
            (lambda: ag.sqrt(Value(-1.0)), ValueError, r"sqrt\(-1\.0\)"),
            (lambda: Value(1.0) / 0, ZeroDivisionError, r"truediv\(1\.0, 0\)"),
            (lambda: 1 / Value(0.0), ZeroDivisionError, r"truediv\(1, 0\.0\)"),
            (lambda: Value(0.0) ** -1, ZeroDivisionError, r"pow\(0\.0, -1\)"),
            (lambda: Value(-8.0) ** (1 / 3), ValueError, r"pow\(-8\.0, 0\.333"),
            (lambda: ag.exp(Value(1000.0)), OverflowError, r"exp\(1000\.0\)"),
            (lambda: Value(10.0) ** 400, OverflowError, r"pow\(10\.0, 400\)"),
            (lambda: ag.log1p(Value(-1.0)), ValueError, r"log1p\(-1\.0\)"),
        ],
    )
    def test_domain_errors(self, expr: Any, exc: type[Exception], pattern: str) -> None:
        """Forward values fail like the Python number or math function they wrap."""
        with pytest.raises(exc, match=pattern):
            expr()

    def test_unusual_exception_class_keeps_its_type(self) -> None:
        """A domain error whose class takes two arguments is re-raised, with a note."""

        class TwoArgError(ArithmeticError):
            def __init__(self, a: str, b: str) -> None:
                super().__init__(a, b)

        def forward(x: float) -> float:
            raise TwoArgError("bad", "input")

        odd = ag.Primitive("odd", forward, (lambda ans, x: 1,))
        with pytest.raises(TwoArgError) as info:
            odd(Value(1.0))
        assert any("odd(1.0)" in note for note in info.value.__notes__)

    def test_primitive_returning_non_number(self) -> None:
        """A forward that returns a non-number is a TypeError naming the primitive."""
        broken = ag.Primitive("broken", lambda x: None, (lambda ans, x: 1,))
        with pytest.raises(TypeError, match=r"broken\(2\.0\) returned NoneType"):
            broken(Value(2.0))
        with pytest.raises(TypeError, match="complex"):
            ag.Primitive("cplx", lambda x: 1j, (lambda ans, x: 1,))(2.0)

    def test_no_partial_node_left_behind(self) -> None:
        """A failed operation records nothing: its inputs are untouched."""
        x = Value(0.0)
        with pytest.raises(ValueError, match="log"):
            ag.log(x)
        assert x.grad == 0 and x.parents == ()


class TestPartialFunctions:
    """Partials are functions of (ans, *inputs); first-order code is generated."""

    def test_partials_must_be_callable(self) -> None:
        """A partial given as text (or any non-callable) is a TypeError at creation."""
        with pytest.raises(TypeError, match=r"primitive 'bad': .*callable.*'2 \* x'"):
            ag.Primitive("bad", lambda x: x, ("2 * x",))  # type: ignore[arg-type]  # the error under test

    def test_partials_take_ans_and_every_input(self) -> None:
        """A partial missing ans or an input: a TypeError when the primitive is made."""
        with pytest.raises(TypeError, match=r"'bad': partial 1 takes 2 parameter"):
            ag.Primitive("bad", lambda x, y: x, (lambda ans, x, y: y, lambda x, y: x))

    def test_partials_of_many_inputs(self) -> None:
        """Beyond two inputs, the reference pullback serves."""
        total = ag.Primitive("total", lambda *xs: sum(xs), (lambda ans, *xs: 1,) * 8)
        xs = [Value(float(i)) for i in range(8)]
        total(*xs).backward()
        assert [x.grad for x in xs] == [1.0] * 8

    def test_parameter_names_are_the_rules_own(self) -> None:
        """A partial may name its parameters anything, even the generated code's."""
        square = ag.Primitive("square", lambda x: x * x, (lambda _g, _a: 2 * _a,))
        x = Value(3.0)
        square(x).backward()
        assert x.grad == 6.0

    def test_pullback_is_generated_on_first_backward(self) -> None:
        """Making a primitive generates no code; its first backward does, once."""
        cube = ag.Primitive("cube_lazy", lambda x: x**3, (lambda ans, x: 3 * x * x,))
        assert cube._pullback is _engine._first_pullback
        x = Value(2.0)
        cube(x).backward()
        generated = cube._pullback
        assert generated is not _engine._first_pullback and x.grad == 12.0
        cube(x).backward()
        assert cube._pullback is generated and x.grad == 24.0

    def test_opaque_partial_is_called(self) -> None:
        """A partial placeholders cannot run (math.exp of one) is called as it is."""
        opaque = ag.Primitive("opaque_exp", math.exp, (lambda ans, x: math.exp(x),))
        x = Value(0.5)
        (opaque(x) * 3).backward()
        assert x.grad == 3 * math.exp(0.5)

    def test_helper_that_reads_types_is_called(self) -> None:
        """A helper marked ``called`` keeps an int division exact at first order."""
        x = Value(Fraction(1))
        (x / 3).backward()
        assert x.grad == Fraction(1, 3) and type(x.grad) is Fraction

    def test_primitive_cannot_be_changed(self) -> None:
        """A made primitive is fixed: its pullback was generated from its partials."""
        with pytest.raises(AttributeError, match="'mul' cannot be changed"):
            ag.registered()["mul"].partials = (lambda ans, x, y: 0,) * 2
        assert ag.registered()["mul"].partials[0](6.0, 2.0, 3.0) == 3.0

    def test_copied_graph_shares_its_primitives(self) -> None:
        """deepcopy of a graph copies its Values, not the operations that made them."""
        x = Value(2.0)
        y = copy.deepcopy(x * x + 1)
        assert y.op == "add" and y._op is ag.registered()["add"]
        y.backward()
        x2 = y.parents[0].parents[0]
        assert x2 is not x and x2.grad == 4.0

    def test_traceback_shows_the_generated_line(self) -> None:
        """An error inside generated code shows that code's line in the traceback."""
        broken = ag.Primitive("broken_rule", lambda x: x, (lambda ans, x: 1 / x,))
        with pytest.raises(ZeroDivisionError) as info:
            broken(Value(0.0)).backward()
        assert "_s = (1 / x) * _g" in "".join(traceback.format_tb(info.tb))


class TestModes:
    """no_grad, enable_grad, detach, stop_gradient, detect_anomaly."""

    def test_no_grad(self) -> None:
        """Inside no_grad, results are leaves."""
        x = Value(2.0)
        with ag.no_grad():
            y = x * x + ag.exp(x)
            assert not ag.is_grad_enabled()
        assert y.is_leaf and y.data == 4.0 + math.exp(2.0)
        assert ag.is_grad_enabled()

    def test_no_grad_decorator_and_enable_grad(self) -> None:
        """no_grad works as a decorator; enable_grad re-enables inside it."""

        @ag.no_grad()
        def f(x: Value) -> tuple[Value, Value]:
            with ag.enable_grad():
                inner = x * 2
            return x * 2, inner

        outer, inner = f(Value(1.0))
        assert outer.is_leaf and not inner.is_leaf

    def test_no_grad_is_thread_local(self) -> None:
        """Another thread records its graph while this one is in no_grad."""
        seen: list[bool] = []
        with ag.no_grad():
            t = threading.Thread(target=lambda: seen.append((Value(1.0) * 2).is_leaf))
            t.start()
            t.join()
        assert seen == [False]

    def test_no_grad_decorator_in_threads(self) -> None:
        """A no_grad-decorated function runs in several threads at once."""

        inside = threading.Barrier(4, timeout=10)

        @ag.no_grad()
        def f(x: Value) -> Value:
            inside.wait()  # all four threads are inside the decorated call at once
            return x * 1.0

        results: list[bool] = []
        errors: list[BaseException] = []

        def run() -> None:
            try:
                results.append(f(Value(1.0)).is_leaf)
            except BaseException as err:  # report, do not hide, a failure
                errors.append(err)

        threads = [threading.Thread(target=run) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert results == [True] * 4
        assert ag.is_grad_enabled()

    def test_concurrent_backward_on_shared_graph(self) -> None:
        """Backward passes in several threads over shared nodes lose no gradient."""
        w = Value(0.5)
        shared = w
        for _ in range(3_000):  # long enough for the threads to interleave
            shared = ag.tanh(shared) * 1.0
        (shared * 2.0).backward()
        one_pass = w.grad
        w.grad = 0

        def run() -> None:
            for _ in range(10):
                (shared * 2.0).backward()

        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert w.grad == pytest.approx(30 * one_pass, rel=1e-12)

    def test_detach_and_stop_gradient(self) -> None:
        """detach() and stop_gradient cut the graph but keep the value."""
        x = Value(3.0)
        y = x * ag.stop_gradient(x) + (x * x).detach()
        y.backward()
        assert y.data == 18.0 and x.grad == 3.0
        assert ag.stop_gradient(2.0) == 2.0

    def test_detect_anomaly_value(self) -> None:
        """An inf forward value raises FloatingPointError naming op, inputs and line."""
        x = Value(1e308)
        with ag.detect_anomaly(), pytest.raises(FloatingPointError) as info:
            x * 10.0
        message = str(info.value)
        assert "mul(1e+308, 10.0)" in message
        assert f"{__file__}:" in message

    def test_detect_anomaly_derivative(self) -> None:
        """An inf local derivative raises too (sqrt at 0)."""
        with ag.detect_anomaly(), pytest.raises(FloatingPointError, match=r"sqrt.*inf"):
            ag.sqrt(Value(0.0))

    def test_detect_anomaly_names_inputs_and_line(self) -> None:
        """A nan local derivative names the op, its inputs and this file's line."""
        x = Value(-1.0)
        with ag.detect_anomaly(), pytest.raises(FloatingPointError) as info:
            x ** Value(2.0)  # d/dy x**y at x < 0 is nan
        message = str(info.value)
        assert "pow(-1.0, 2.0): local derivative 1 is nan" in message
        assert f"{__file__}:" in message

    def test_detect_anomaly_in_create_graph(self) -> None:
        """backward(create_graph=True) checks the nodes it makes, at the user's line."""
        x = Value(0.0)
        with ag.detect_anomaly():
            y = x**1.5  # value 0 and slope 1.5 x**0.5 = 0: fine
            with pytest.raises(FloatingPointError) as info:
                y.backward(create_graph=True)  # makes x**0.5, whose slope at 0 is inf
        assert "pow(0.0, 0.5): local derivative 0 is inf" in str(info.value)
        assert f"{__file__}:" in str(info.value)

    def test_create_graph_grads_are_values(self) -> None:
        """create_graph=True gives Values whose backward is the second derivative."""
        x = Value(1.5)
        y = ag.sin(x) * x
        y.backward(create_graph=True)
        first = x.grad  # cos(x) x + sin(x), by hand
        assert isinstance(first, Value)
        assert math.isclose(first.data, math.cos(1.5) * 1.5 + math.sin(1.5))
        x.grad = 0
        first.backward()  # -sin(x) x + 2 cos(x), by hand
        assert math.isclose(x.grad, -math.sin(1.5) * 1.5 + 2 * math.cos(1.5))

    def test_no_grad_is_task_local(self) -> None:
        """An asyncio task started inside no_grad keeps it; one outside does not."""
        import asyncio

        async def leaf() -> bool:
            await asyncio.sleep(0)
            return (Value(1.0) * 2).is_leaf

        async def main() -> tuple[bool, bool]:
            with ag.no_grad():
                inside = asyncio.create_task(leaf())
            outside = asyncio.create_task(leaf())
            return await inside, await outside

        assert asyncio.run(main()) == (True, False)

    def test_anomaly_off_by_default(self) -> None:
        """Outside detect_anomaly, nan and inf flow through as in Python."""
        y = ag.sqrt(Value(0.0))
        y.backward()
        assert y.data == 0.0


def test_leaf_modules_load_on_demand() -> None:
    """import autograd_scalar loads no leaf module; explain loads viz on first use."""
    code = (
        "import sys, autograd_scalar as ag\n"
        "assert 'autograd_scalar.viz' not in sys.modules\n"
        "assert 'autograd_scalar.cli' not in sys.modules\n"
        "assert callable(ag.explain) and 'autograd_scalar.viz' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_recursion_limit_untouched() -> None:
    """The library never raises the interpreter's recursion limit."""
    assert sys.getrecursionlimit() <= 10_000


class TestInternalInterface:
    """toposort and local_partials, the engine's interface to tape, trace and viz."""

    def test_toposort_orders_every_value(self) -> None:
        """Leaves included, each once and after its inputs, the root last."""
        x, y = Value(2.0), Value(3.0)
        s = x * y
        root = s * s + ag.sin(x) - y
        order = _engine.toposort(root)
        position = {id(v): k for k, v in enumerate(order)}
        assert len(position) == len(order) == 7 and order[-1] is root
        assert {id(x), id(y)} <= set(position)
        for v in order:
            assert all(position[id(p)] < position[id(v)] for p in v.parents)

    def test_toposort_changes_nothing(self) -> None:
        """Sorting leaves every grad as it was, mid-way through backward or not."""
        x = Value(2.0)
        root = x * x + x
        root.backward()
        before = [(v, v.grad) for v in _engine.toposort(root)]
        _engine.toposort(root)
        assert all(v.grad is g for v, g in before)

    def test_toposort_deep_chain(self) -> None:
        """A chain deeper than the recursion limit sorts without recursion."""
        y = x = Value(0.5)
        for _ in range(3 * sys.getrecursionlimit()):
            y = y * 1.0
        order = _engine.toposort(y)
        assert order[0] is x and order[-1] is y

    def test_local_partials(self) -> None:
        """Each operand's local partial, constants included, on plain numbers."""
        x = Value(0.5)
        assert _engine.local_partials(x * 3) == (3, 0.5)
        assert _engine.local_partials(ag.sin(x)) == (math.cos(0.5),)
        assert _engine.local_partials(x) == ()


class _PartialError(Exception):
    """Raised by a partial in the all-or-nothing tests."""


def _snapshot(root: Value) -> list[tuple[int, Any, Any]]:
    """(id, grad, _a) of every node of root's graph: what a failed pass must keep."""
    return [(id(n), n.grad, n._a) for n in _engine.toposort(root)]


@pytest.mark.usefixtures("forget_user_primitives")
class TestAllOrNothing:
    """A backward pass that raises leaves every grad as it was before the call."""

    @staticmethod
    def graph(trap: Any, depth: int) -> Value:
        """Leaves reached by several paths, shared interior nodes, a chain on top,
        and ``trap`` (a user primitive) ``depth`` operations below the root."""
        x, w, b = Value(0.3, "x"), Value(-1.2, "w"), Value(0.5, "b")
        h = ag.tanh(x * w + b)
        shared = h * x + h * w  # h and both leaves reached twice
        y = trap(shared) * shared + b
        for _ in range(depth):
            y = ag.tanh(y * w + x)  # a chain: the walk, before the sort
        return y

    @pytest.mark.parametrize("depth", [0, 1, 5])
    @pytest.mark.parametrize("error", [_PartialError, KeyboardInterrupt])
    @pytest.mark.parametrize("create_graph", [False, True])
    def test_failure_changes_nothing(
        self, depth: int, error: type[BaseException], create_graph: bool
    ) -> None:
        """A partial raising midway: the same exception, and every grad unchanged."""
        armed = [False]

        def partial(x: Any) -> Any:
            if armed[0]:
                raise error("midway")
            return ag.cos(x)

        trap = ag.primitive(ag.sin, partial, name="trap_all_or_nothing")
        y = self.graph(trap, depth)
        y.backward()  # grads that are not 0 before the failing call
        before = _snapshot(y)
        armed[0] = True
        with pytest.raises(error, match="midway"):
            y.backward(create_graph=create_graph)
        assert _snapshot(y) == before
        assert not any(type(n.grad).__name__ == "_Visited" for n in _engine.toposort(y))
        # A second backward after the failure gives exactly the right gradient: the
        # same as on a copy that never failed.
        armed[0] = False
        twin = copy.deepcopy(y)
        y.backward()
        twin.backward()
        assert _snapshot(y)[-1][1] == 1
        assert [(n.grad, n.label) for n in _engine.toposort(y)] == [
            (n.grad, n.label) for n in _engine.toposort(twin)
        ]
        ag.unregister("trap_all_or_nothing")

    def test_fresh_graph_failure_leaves_zeros(self) -> None:
        """On a graph never differentiated, a failed pass leaves every grad 0."""
        boom = ag.primitive(lambda x: x, lambda x: 1 / 0, name="boom_fresh")
        x = Value(2.0)
        y = ag.exp(boom(x * x) + x) * x
        with pytest.raises(ZeroDivisionError):
            y.backward()
        assert all(n.grad == 0 and type(n.grad) is int for n in _engine.toposort(y))
        assert all(n._a is None for n in _engine.toposort(y) if n.is_leaf)
        ag.unregister("boom_fresh")


class TestManyOperands:
    """Primitives beyond two inputs run the reference pullback inside a pass."""

    def test_repeated_leaf_and_shared_node(self) -> None:
        """fma(x, 2, x) + x: every path to the leaf counts (d/dx = 2 + 1 + 1)."""
        fma = ag.primitive(
            lambda x, y, z: x * y + z,
            lambda x, y, z: y,
            lambda x, y, z: x,
            lambda x, y, z: 1,
            name="fma_many_operands",
        )
        try:
            x = Value(0.5)
            (fma(x, 2.0, x) + x).backward()
            assert x.grad == 4.0
            x.grad = 10.0  # leaves accumulate across passes
            (fma(x, 2.0, x) + x).backward()
            assert x.grad == 14.0
            # t = x + x used twice by fma, its result twice by the sum:
            # d/dx [2 (t*t + x) + x] = 2 (2 t * 2 + 1) + 1 = 8 t + 3 = 11 at x = 0.5
            x = Value(0.5)
            t = x + x
            u = fma(t, t, x)
            ((u + u) + x).backward()
            assert x.grad == 11.0
        finally:
            ag.unregister("fma_many_operands")
