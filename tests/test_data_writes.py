"""Setting ``data`` between forward and backward (issue 15, item 5).

A graph's pullbacks read the numbers its nodes and leaves had when it was made;
after one of them is assigned, ``backward`` raises ``RuntimeError`` naming that
Value (and changes no grad) rather than mix old and new numbers. A graph made after
the assignment is differentiated as usual.
"""

from __future__ import annotations

import copy
import math
import pickle
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Value, optim
from autograd_scalar._engine import toposort


def central_difference(f: Any, x: float, h: float = 1e-6) -> float:
    return float((f(x + h) - f(x - h)) / (2 * h))


def f(x: Any) -> Any:
    return ag.exp(x) * x


def f_numbers(x: float) -> float:
    return math.exp(x) * x


class TestTheIssuesExample:
    def test_backward_after_setting_data_raises_naming_the_value(self) -> None:
        x = Value(2.0, label="x")
        y = f(x)
        x.data = 3.0
        with pytest.raises(RuntimeError, match=r"data of Value\(data=3.0.*'x'"):
            y.backward()

    def test_nothing_is_written_when_it_raises(self) -> None:
        x = Value(2.0)
        y = f(x)
        y.backward()
        before = (x.grad, y.grad)
        x.data = 3.0
        with pytest.raises(RuntimeError):
            y.backward()
        assert (x.grad, y.grad) == before

    def test_a_graph_made_after_the_assignment_has_the_new_gradient(self) -> None:
        x = Value(2.0)
        f(x).backward()
        first = x.grad
        x.data = 3.0
        x.grad = 0
        f(x).backward()
        assert first == pytest.approx(central_difference(f_numbers, 2.0), rel=1e-7)
        assert x.grad == pytest.approx(central_difference(f_numbers, 3.0), rel=1e-7)

    def test_setting_data_before_using_it_is_ordinary(self) -> None:
        x = Value(2.0)
        x.data = 3.0
        y = f(x)
        y.backward()
        assert x.grad == pytest.approx(central_difference(f_numbers, 3.0), rel=1e-7)


class TestEveryPath:
    """The check runs on every route a backward pass takes."""

    def test_a_long_chain(self) -> None:
        # The leading chain runs without a sort; the stale leaf is at its far end.
        x = Value(0.5, label="deep")
        y: Any = x
        for _ in range(10_000):
            y = ag.tanh(y * 0.5 + 0.1)
        x.data = 0.25
        with pytest.raises(RuntimeError, match="deep"):
            y.backward()
        assert x.grad == 0

    def test_a_graph_that_needs_the_sort(self) -> None:
        a, b = Value(1.0, label="a"), Value(2.0, label="b")
        y = (a * b + ag.sin(a)) * (a - b)
        b.data = 5.0
        with pytest.raises(RuntimeError, match="'b'"):
            y.backward()
        assert (a.grad, b.grad) == (0, 0)

    def test_create_graph(self) -> None:
        x = Value(2.0, label="x")
        y = x * x * x
        x.data = 1.0
        with pytest.raises(RuntimeError, match="'x'"):
            y.backward(create_graph=True)
        assert x.grad == 0

    def test_the_functional_transforms(self) -> None:
        w = Value(2.0, label="w")
        captured = w * 3  # made before w is set, used inside the function

        def g(x: Any) -> Any:
            return captured * x

        w.data = 4.0
        with pytest.raises(RuntimeError, match="'w'"):
            ag.grad(g)(1.0)

    def test_more_than_two_operands(self) -> None:
        p = ag.primitive(
            lambda a, b, c: a + b + c,
            lambda ans, a, b, c: 1,
            lambda ans, a, b, c: 1,
            lambda ans, a, b, c: 1,
            name="sum3_for_writes",
        )
        try:
            a, b, c = Value(1.0), Value(2.0), Value(3.0, label="c")
            y = p(a, b, c) * a
            c.data = 0.0
            with pytest.raises(RuntimeError, match="'c'"):
                y.backward()
        finally:
            ag.unregister("sum3_for_writes")

    def test_backward_twice_with_an_assignment_between(self) -> None:
        x = Value(2.0, label="x")
        y = f(x)
        y.backward()
        x.data = 3.0
        with pytest.raises(RuntimeError, match="'x'"):
            y.backward()


class TestThreads:
    def test_an_assignment_racing_a_forward_is_never_mixed(self) -> None:
        # One thread builds x * x while another assigns x: a node built from the
        # old number must be refused (one built from the new may be, harmlessly).
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-6)
        try:
            for _ in range(150):
                x = Value(0.0)
                built: list[Value] = []
                done = threading.Event()

                def build(
                    x: Value = x, built: list[Value] = built, done: Any = done
                ) -> None:
                    while not done.is_set():
                        built.append(x * x)

                worker = threading.Thread(target=build)
                worker.start()
                time.sleep(0.0002)
                x.data = 1.0
                done.set()
                worker.join()
                for y in built:
                    if y.data == 0.0:  # from the old number
                        with pytest.raises(RuntimeError):
                            y.backward()
        finally:
            sys.setswitchinterval(interval)


class TestOtherRoutes:
    """What else takes local derivatives on a graph: the transforms, explain,
    traced replay."""

    def test_a_transform_that_raises_leaves_every_grad(self) -> None:
        w = Value(1.0)
        h = ag.exp(w)
        (h * 2).backward()
        grads = (w.grad, h.grad)
        w.data = 2.0
        with pytest.raises(RuntimeError, match="exp used it"):
            ag.grad(lambda x: x * h)(3.0)
        assert (w.grad, h.grad) == grads and type(h.grad) is float

    def test_a_transform_leaves_the_grads_of_what_it_closes_over(self) -> None:
        # As torch.autograd.grad: no .grad changes, and the graph still pickles.
        w = Value(1.0)
        h = ag.exp(w)
        (h * 2).backward()
        grads = (w.grad, h.grad)
        ag.grad(lambda x: x * h)(3.0)
        ag.hessian(lambda x: x * x * h)(3.0)
        assert (w.grad, h.grad) == grads
        pickle.dumps(h)

    def test_explain_and_backward_steps_refuse_as_backward_does(self) -> None:
        from autograd_scalar.viz import backward_steps, explain

        x = Value(2.0, label="x")
        y = f(x)
        x.data = 3.0
        with pytest.raises(RuntimeError, match=r"explain: the data of .*'x'"):
            explain(y, x)
        with pytest.raises(RuntimeError, match="backward_steps: the data of"):
            backward_steps(y)

    def test_replay_sees_an_assignment_to_a_node_it_closes_over(self) -> None:
        w = Value(1.0)
        h = ag.exp(w)

        def g(x: Any) -> Any:
            return h * x

        traced = ag.trace(g, 1.0)
        h.data = 100.0
        assert traced.value_and_grad(2.0) == (g(2.0).data, (100.0,))

    def test_the_message_shows_no_half_written_grad(self) -> None:
        h = ag.exp(Value(1.0))
        h.data = 5.0
        y = h * 2
        with pytest.raises(RuntimeError) as raised:
            y.backward()
        assert "grad" not in str(raised.value).split(" was set")[0]
        assert h.grad == 0


class TestInteriorNodes:
    def test_setting_a_nodes_data_makes_backward_through_it_raise(self) -> None:
        x = Value(1.0)
        h = ag.exp(x)
        h.label = "h"
        z = h * 2
        h.data = 10.0  # after z used it
        with pytest.raises(RuntimeError, match="'h'"):
            z.backward()

    def test_even_when_its_consumers_are_made_after(self) -> None:
        # h's own rule (exp' = ans) would read the number set, not exp(x).
        x = Value(1.0)
        h = ag.exp(x)
        h.data = 10.0
        z = h * 2
        with pytest.raises(RuntimeError, match=r"data of Value\(data=10.0"):
            z.backward()

    def test_detach_gives_a_fresh_leaf(self) -> None:
        x = Value(1.0)
        h = ag.exp(x).detach()
        h.data = 10.0
        z = h * 2
        z.backward()
        assert h.grad == 2

    def test_label_keeps_the_stamp(self) -> None:
        x = Value(1.0)
        Value(0.0).data = 1.0  # stamping on: nodes carry the time they were made
        h = ag.exp(x)
        h.label = "h"
        x.data = 2.0
        with pytest.raises(RuntimeError):
            h.backward()
        assert h.label == "h"


class TestNoFalseAlarms:
    """Ordinary programs that set data never see the error."""

    def test_a_training_loop(self) -> None:
        w, b = Value(0.3, label="w"), Value(-0.2, label="b")
        xs, ys = [0.0, 1.0, 2.0, 3.0], [1.0, 3.0, 5.0, 7.0]
        opt = optim.SGD([w, b], lr=0.02)
        for _ in range(200):
            loss: Any = sum(((w * x + b) - y) ** 2 for x, y in zip(xs, ys, strict=True))
            opt.zero_grad()
            loss.backward()
            opt.step()
        assert w.data == pytest.approx(2.0, abs=0.05)
        assert b.data == pytest.approx(1.0, abs=0.1)

    def test_nodes_made_before_an_assignment_and_reused(self) -> None:
        raw = [Value(float(k)) for k in range(4)]
        features = [(r - 1.5) / 2 for r in raw]  # made once, before training
        w = Value(1.0)
        for step in range(3):
            loss: Any = sum(feat * w for feat in features) ** 2
            w.grad = 0
            loss.backward()
            expected = 2 * sum(ft.data for ft in features) ** 2 * w.data
            assert w.grad == pytest.approx(expected), step
            w.data -= 0.1 * w.grad

    def test_two_losses_sharing_nodes(self) -> None:
        w = Value(1.0)
        for _ in range(3):
            w.data += 0.5
            shared = ag.tanh(w * 0.3)
            w.grad = 0
            (shared * 2).backward()
            (shared * 3).backward()  # its interior nodes have grads from the first
            expected = central_difference(lambda v: 5 * math.tanh(0.3 * v), w.data)
            assert w.grad == pytest.approx(expected, rel=1e-7)

    def test_a_copy_of_a_graph_made_after_an_assignment(self) -> None:
        w = Value(1.0)
        w.data = 2.0
        y = w * w
        y2 = copy.deepcopy(y)
        y2.backward()
        assert y2.data == 4.0


class TestSavedGraphs:
    def test_a_stale_graph_stays_stale_when_copied_or_pickled(self) -> None:
        x = Value(2.0, label="x")
        y = f(x)
        x.data = 3.0
        for copied in (copy.deepcopy(y), pickle.loads(pickle.dumps(y))):
            with pytest.raises(RuntimeError, match="'x'"):
                copied.backward()

    def test_in_a_process_that_never_assigned_data(self) -> None:
        # The loading process's clock starts at 0; an assigned node stays refused.
        x = Value(1.0)
        h = ag.exp(x)
        h.label = "h"
        h.data = 10.0
        script = (
            "import pickle, sys\n"
            "h = pickle.loads(sys.stdin.buffer.read())\n"
            "try:\n"
            "    h.backward()\n"
            "except RuntimeError as e:\n"
            "    print(e)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script],
            input=pickle.dumps(h),
            capture_output=True,
            check=True,
        )
        assert "'h'" in done.stdout.decode() and "was set" in done.stdout.decode()

    def test_a_loaded_graph_then_a_write(self) -> None:
        x = Value(2.0, label="x")
        y = f(x)
        loaded = pickle.loads(pickle.dumps(y))
        loaded.backward()
        leaf = next(v for v in toposort(loaded) if v.label == "x")
        assert leaf.grad == pytest.approx(central_difference(f_numbers, 2.0), rel=1e-7)
        leaf.data = 5.0
        with pytest.raises(RuntimeError, match="'x'"):
            loaded.backward()


class TestTheSetter:
    def test_bad_data_is_a_type_error(self) -> None:
        x = Value(1.0)
        with pytest.raises(TypeError, match=r"Value.data takes a real number.*'1'"):
            x.data = "1"
        assert x.data == 1.0

    def test_a_numpy_scalar_becomes_the_python_number(self) -> None:
        np = pytest.importorskip("numpy")
        x = Value(1.0)
        x.data = np.float64(2.5)
        assert type(x.data) is float


# -------------------------------------------------------------------------------------
# Random programs: build, set, differentiate, against a model of when a pass must
# raise and a fresh rebuild's gradients when it must not.
# -------------------------------------------------------------------------------------

_UNARY = {"exp": (ag.exp, math.exp), "sin": (ag.sin, math.sin)}
_BINARY = {
    "mul": (lambda a, b: a * b, lambda a, b: a * b),
    "add": (lambda a, b: a + b, lambda a, b: a + b),
}

step = st.one_of(
    st.tuples(st.just("leaf"), st.floats(-1.5, 1.5)),
    st.tuples(st.just("unary"), st.sampled_from(sorted(_UNARY)), st.integers(0, 99)),
    st.tuples(
        st.just("binary"),
        st.sampled_from(sorted(_BINARY)),
        st.integers(0, 99),
        st.integers(0, 99),
    ),
    st.tuples(st.just("set"), st.integers(0, 99), st.floats(-1.5, 1.5)),
    st.tuples(st.just("backward"), st.integers(0, 99)),
)


def _same(a: float, b: float) -> bool:
    return a == b or math.isclose(a, b, rel_tol=1e-12) or (a != a and b != b)


class _Model:
    """What the test knows of each Value: how it was made, when, and its writes."""

    def __init__(self) -> None:
        self.values: list[Value] = []
        self.how: list[tuple[Any, ...]] = []  # ("leaf",) or (op, operand indices)
        self.made: list[int] = []  # writes before it was made
        self.written: list[int | None] = []  # index of its last write
        self.writes = 0

    def stale(self, root: int) -> bool:
        seen, stack = {root}, [root]
        while stack:
            k = stack.pop()
            how = self.how[k]
            if how[0] == "leaf":
                continue
            if self.written[k] is not None:
                return True  # its own data was set after it was made
            for j in how[2]:
                written = self.written[j]
                leaf = self.how[j][0] == "leaf"
                if leaf and written is not None and written > self.made[k]:
                    return True
                if j not in seen:
                    seen.add(j)
                    stack.append(j)
        return False

    def rebuilt_grads(self, root: int) -> dict[int, float]:
        """Leaf gradients of a new graph of the same shape on today's leaf data."""
        fresh: dict[int, Any] = {}
        leaves: dict[int, Value] = {}

        def make(k: int) -> Any:
            order, stack = [], [k]
            while stack:
                j = stack.pop()
                if j in fresh:
                    continue
                how = self.how[j]
                operands = () if how[0] == "leaf" else how[2]
                pending = [i for i in operands if i not in fresh]
                if pending:
                    stack.append(j)
                    stack.extend(pending)
                    continue
                if how[0] == "leaf":
                    leaves[j] = fresh[j] = Value(self.values[j].data)
                elif how[0] == "unary":
                    fresh[j] = _UNARY[how[1]][0](fresh[how[2][0]])
                else:
                    fresh[j] = _BINARY[how[1]][0](*(fresh[i] for i in how[2]))
                order.append(j)
            return fresh[k]

        make(root).backward()
        return {j: leaf.grad for j, leaf in leaves.items()}


@settings(max_examples=300, deadline=None)
@given(st.lists(step, min_size=1, max_size=40))
def test_random_programs(program: list[tuple[Any, ...]]) -> None:
    model = _Model()
    for instruction in program:
        kind = instruction[0]
        n = len(model.values)
        if kind == "leaf" or n == 0:
            data = instruction[1] if kind == "leaf" else 0.5
            model.values.append(Value(data))
            model.how.append(("leaf",))
        elif kind in ("unary", "binary"):
            picked = [i % n for i in instruction[2:]]
            fn = (_UNARY if kind == "unary" else _BINARY)[instruction[1]][0]
            try:
                made = fn(*(model.values[i] for i in picked))
            except OverflowError:
                continue
            model.values.append(made)
            model.how.append((kind, instruction[1], tuple(picked)))
        elif kind == "set":
            k = instruction[1] % n
            model.writes += 1
            model.values[k].data = instruction[2]
            model.written[k] = model.writes
            continue
        else:
            root = instruction[1] % n
            value = model.values[root]
            for v in model.values:
                v.grad = 0
            if model.stale(root):
                with pytest.raises(RuntimeError, match="was set after"):
                    value.backward()
                assert all(v.grad == 0 for v in model.values if not v.op)
            else:
                value.backward()
                for j, grad in model.rebuilt_grads(root).items():
                    assert _same(model.values[j].grad, grad), j
            continue
        model.made.append(model.writes)
        model.written.append(None)
