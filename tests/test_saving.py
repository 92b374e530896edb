"""Saving and copying graphs: pickle and deepcopy of Values, at any depth."""

from __future__ import annotations

import copy
import pickle
from fractions import Fraction
from typing import Any

import pytest

import autograd_scalar as ag
from autograd_scalar import Value, _engine
from autograd_scalar._engine import toposort

pytestmark = pytest.mark.usefixtures("forget_user_primitives")

DEPTH = 200_000  # far past the recursion limit; the 1,000,000 case is the same code


def pickled(v: Any) -> Any:
    """A pickle round trip, at the highest protocol."""
    return pickle.loads(pickle.dumps(v, pickle.HIGHEST_PROTOCOL))


def leaves(v: Value) -> list[Value]:
    """The leaves of v's graph, in toposort order (the same for a copy)."""
    return [n for n in toposort(v) if n.is_leaf]


def chain(depth: int) -> Value:
    """y = tanh(y * a + b), depth operations deep."""
    y, a, b = Value(0.5, "y0"), Value(0.9, "a"), Value(0.1, "b")
    for i in range(depth):
        y = y * a + b if i % 2 else ag.tanh(y)
    return y


@pytest.mark.parametrize("save", [pickled, copy.deepcopy], ids=["pickle", "deepcopy"])
class TestRoundTrip:
    """A saved and loaded (or deep-copied) graph is the same graph, made anew."""

    def test_data_grad_labels_and_operations(self, save: Any) -> None:
        """Every node keeps its data, grad, label and operation; none is shared."""
        x, w = Value(2.0, "x"), Value(3.0, "w")
        y = ag.tanh(x * w) + x**2
        y.label = "y"
        y.backward()
        y2 = save(y)
        old, new = toposort(y), toposort(y2)
        assert [(n.data, n.grad, n.label, n.op) for n in new] == [
            (n.data, n.grad, n.label, n.op) for n in old
        ]
        assert not {id(n) for n in old} & {id(n) for n in new}
        assert all(n._op is ag.registered()[n.op] for n in new if n.op)

    def test_shared_nodes_stay_shared(self, save: Any) -> None:
        """x * x has one operand twice; a node used twice is loaded once."""
        x = Value(3.0)
        h = x * x
        y = h * 2 + h
        y2 = save(y)
        h2 = y2._a._a
        assert h2 is y2._b and h2._a is h2._b
        assert len(toposort(y2)) == len(toposort(y))

    def test_backward_on_the_copy(self, save: Any) -> None:
        """backward on the loaded graph gives the original's gradients."""
        x, w = Value(0.7, "x"), Value(-1.3, "w")
        y = ag.sin(x * w) / (1 + ag.exp(w)) + ag.maximum(x, w)
        y2 = save(y)
        y.backward()
        y2.backward()
        assert [n.grad for n in leaves(y2)] == [n.grad for n in leaves(y)]

    def test_exact_numbers_stay_exact(self, save: Any) -> None:
        """int and Fraction data load as the same types and values."""
        x = Value(Fraction(1, 3))
        y = save(x * 3 + 1)
        y.backward()
        assert y.data == 2 and type(y.data) is Fraction
        assert leaves(y)[0].grad == 3

    def test_values_in_grad(self, save: Any) -> None:
        """A grad that is itself a Value (create_graph) is saved with its graph."""
        x = Value(1.5)
        (x**3).backward(create_graph=True)
        x2 = save(x)
        g = x2.grad
        assert isinstance(g, Value) and g.data == x.grad.data == 6.75
        assert x2 in leaves(g)  # the grad's graph reaches the loaded x itself
        x2.grad = 0
        g.backward()  # d/dx 3x^2 = 6x
        assert x2.grad == 9.0

    def test_a_million_nodes_deep(self, save: Any) -> None:
        """A chain far past the recursion limit saves, loads and differentiates."""
        y = chain(DEPTH)
        y2 = save(y)
        y.backward()
        y2.backward()
        assert y2.data == y.data
        assert [n.grad for n in leaves(y2)] == [n.grad for n in leaves(y)]


class TestPrimitivesByName:
    """Operations are saved by their registered name."""

    def test_unregistered_at_load_is_named(self) -> None:
        """Loading a graph whose primitive is not registered names that primitive."""
        twice = ag.primitive(lambda x: 2 * x, lambda x: 2, name="twice_saved")
        data = pickle.dumps(twice(Value(1.0)) + 1)
        ag.unregister("twice_saved")
        with pytest.raises(ValueError, match="primitive 'twice_saved'"):
            pickle.loads(data)

    def test_user_primitive_registered_again(self) -> None:
        """A user primitive registered again under its name is the one loaded."""
        ag.primitive(lambda x: 2 * x, lambda x: 2, name="twice_again")
        data = pickle.dumps(ag.registered()["twice_again"](Value(1.0)))
        again = ag.primitive(lambda x: 2 * x, lambda x: 2, name="twice_again")
        y = pickle.loads(data)
        assert y._op is again
        ag.unregister("twice_again")

    def test_unregistered_primitive_cannot_be_saved(self) -> None:
        """A Primitive made directly, not registered under its name, is a
        PicklingError naming it."""
        square = ag.Primitive("square_direct", lambda x: x * x, (lambda a, x: 2 * x,))
        with pytest.raises(pickle.PicklingError, match="'square_direct'"):
            pickle.dumps(square(Value(1.0)))


class TestNothingLeftBehind:
    """A pickle that fails leaves no state that changes the next one."""

    def test_failed_pickle_then_deep_pickle(self) -> None:
        """After a pickle fails midway, a deep graph still pickles without recursion."""

        class Unpicklable:
            def __reduce__(self) -> Any:
                raise RuntimeError("not this one")

        y = chain(DEPTH)
        with pytest.raises(RuntimeError, match="not this one"):
            pickle.dumps([y, Unpicklable()])
        assert not _engine._SAVING.__dict__.get("stack")
        middle = y._a._a._a  # a node of the graph that was being saved
        assert pickled(middle).data == middle.data

    def test_copy_copy_is_shallow(self) -> None:
        """copy.copy makes a new node with the same operands (not copied)."""
        x = Value(2.0)
        y = x * 3
        y2 = copy.copy(y)
        assert y2 is not y and y2._a is x and y2.data == 6.0
