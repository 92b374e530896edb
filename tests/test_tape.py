"""The seed notebook's Tape API: its worked examples, repeated runs, every node class.

Every generated node class is checked against the Value engine (itself checked against
sympy in test_rules.py), so a primitive added to the table is tested here too.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_rules import points

import autograd_scalar as ag
from autograd_scalar import Value, tape
from autograd_scalar.tape import (
    CompNode,
    ConstantNode,
    Multiply,
    PrimitiveNode,
    Square,
    Tape,
    node_class,
)


class SeedSquare(CompNode):
    """The seed's user-written Square, as the seed writes it (with ``tape``, not t)."""

    def __init__(self, x: CompNode, tape: Tape) -> None:
        self.x = x
        super().__init__(tape)

    def forward(self) -> None:
        self.output = self.x.output**2

    def backward(self) -> None:
        self.x.add_gradient((2 * self.x.output) * self.gradient)


def diamond(square: type[CompNode] | None) -> tuple[Tape, dict[str, CompNode]]:
    """The seed's diamond o = h*h (or Square(h)), h = (x*y)*(y*z), at 3, 2, 1."""
    t = Tape()
    x, y, z = ConstantNode(3, t), ConstantNode(2, t), ConstantNode(1, t)
    h1, h2 = Multiply(x, y, t), Multiply(y, z, t)
    h = Multiply(h1, h2, t)
    o = square(h, t) if square else Multiply(h, h, t)
    return t, {"x": x, "y": y, "z": z, "h1": h1, "h2": h2, "h": h, "o": o}


# By hand: h = 6*2 = 12, o = h^2 = 144; do/dh = 2h = 24; do/dh1 = 24*h2 = 48,
# do/dh2 = 24*h1 = 144; do/dx = 48*y = 96; do/dy = 48*x + 144*z = 288; do/dz = 144*y.
DIAMOND_GRADIENTS = {"h": 24, "h1": 48, "h2": 144, "x": 96, "y": 288, "z": 288}


class TestSeedExamples:
    """The seed notebook's three examples give the seed's numbers."""

    def test_product(self) -> None:
        """f = 5*(a*b) at a=2, b=3: 30; gradients 1, 5, 15, 10 (by hand: df/da=5b)."""
        t = Tape()
        a, b = ConstantNode(2, t), ConstantNode(3, t)
        o = Multiply(a, b, t)
        f = Multiply(ConstantNode(5, t), o, t)
        t.forward()
        t.backward()
        assert f.output == 30
        assert (f.gradient, o.gradient, a.gradient, b.gradient) == (1, 5, 15, 10)

    @pytest.mark.parametrize("square", [None, SeedSquare, Square])
    def test_diamond(self, square: type[CompNode] | None) -> None:
        """The diamond, with h*h, the seed's own Square, and the table's Square."""
        t, nodes = diamond(square)
        t.forward()
        t.backward()
        assert nodes["o"].output == 144
        got = {name: nodes[name].gradient for name in DIAMOND_GRADIENTS}
        assert got == DIAMOND_GRADIENTS


class TestRepeatedRuns:
    """forward and backward run any number of times in any order (unlike the seed)."""

    def test_backward_twice(self) -> None:
        """A second backward gives the same gradients (zeroed first, order intact)."""
        t, nodes = diamond(SeedSquare)
        t.forward()
        t.backward()
        t.backward()
        assert {name: nodes[name].gradient for name in DIAMOND_GRADIENTS} == (
            DIAMOND_GRADIENTS
        )

    def test_forward_after_backward(self) -> None:
        """forward after backward still runs inputs first: outputs stay right."""
        t, nodes = diamond(None)
        for _ in range(3):
            t.forward()
            t.backward()
        assert nodes["o"].output == 144
        assert nodes["y"].gradient == 288

    def test_changed_constant(self) -> None:
        """Changing a ConstantNode's value and running again gives the new numbers."""
        t, nodes = diamond(Square)
        t.forward()
        t.backward()
        nodes["x"].value = 1  # type: ignore[attr-defined]  # a ConstantNode, typed CompNode
        t.forward()
        t.backward()
        # By hand: h = (1*2)*(2*1) = 4, o = 16, do/dx = 2h*y*(y*z) = 8*2*2 = 32.
        assert nodes["o"].output == 16
        assert nodes["x"].gradient == 32

    def test_named_output(self) -> None:
        """backward(output) seeds that node; nodes after it get no gradient."""
        t, nodes = diamond(None)
        t.forward()
        t.backward(nodes["h1"])
        # d(h1)/dx = y = 2, d(h1)/dy = x = 3; h2 and o do not lead to h1.
        assert (nodes["x"].gradient, nodes["y"].gradient) == (2, 3)
        assert (nodes["z"].gradient, nodes["o"].gradient) == (0, 0)


class TestErrors:
    """Misuse raises TypeError or ValueError naming the problem."""

    def test_wrong_number_of_inputs(self) -> None:
        """A binary node with one input is a TypeError."""
        t = Tape()
        with pytest.raises(TypeError, match=r"Multiply\(\) takes 2 input"):
            Multiply(ConstantNode(1, t), t)

    def test_not_a_tape(self) -> None:
        """The last argument must be a Tape."""
        t = Tape()
        with pytest.raises(TypeError, match="Tape"):
            Multiply(ConstantNode(1, t), ConstantNode(2, t), "t")

    def test_bad_input(self) -> None:
        """An input that is neither a node nor a number is a TypeError."""
        with pytest.raises(TypeError, match="nodes or numbers"):
            Multiply("a", 2, Tape())

    def test_backward_of_empty_tape(self) -> None:
        """backward on an empty tape is a ValueError."""
        with pytest.raises(ValueError, match="empty"):
            Tape().backward()

    def test_output_on_another_tape(self) -> None:
        """backward(output) with a node of another tape is a ValueError."""
        t, other = Tape(), Tape()
        ConstantNode(1, t)
        with pytest.raises(ValueError, match="not on this tape"):
            t.backward(ConstantNode(1, other))

    def test_unknown_primitive(self) -> None:
        """node_class of an unregistered name is a ValueError."""
        with pytest.raises(ValueError, match="no primitive named"):
            node_class("no_such_op")


def tape_gradients(prim: ag.Primitive, point: tuple[float, ...]) -> list[Any]:
    """Value and gradients of prim at point, on a tape with the generated class."""
    t = Tape()
    inputs = [ConstantNode(v, t) for v in point]
    out = node_class(prim)(*inputs, t)
    t.forward()
    t.backward()
    return [out.output, *(x.gradient for x in inputs)]


def engine_gradients(prim: ag.Primitive, point: tuple[float, ...]) -> list[Any]:
    """The same numbers from the Value engine."""
    xs = [Value(v) for v in point]
    out = prim(*xs)
    out.backward()
    return [out.data, *(x.grad for x in xs)]


@pytest.mark.parametrize("name", sorted(ag.registered()))
class TestEveryNodeClass:
    """The node class generated for each primitive of the table."""

    def test_matches_engine(self, name: str) -> None:
        """Output and gradients equal the Value engine's at points of the domain."""
        prim = ag.registered()[name]
        for p in points(prim, n=10):
            got, want = tape_gradients(prim, p), engine_gradients(prim, p)
            # an integer input (polygamma's order) has the gradient nan in both
            assert len(got) == len(want)
            pairs = zip(got, want, strict=True)
            assert all(g == w or (g != g and w != w) for g, w in pairs)

    def test_is_a_module_attribute(self, name: str) -> None:
        """The class is reachable as tape.<CamelCase name> and names its primitive."""
        cls = node_class(name)
        assert getattr(tape, cls.__name__) is cls
        assert issubclass(cls, PrimitiveNode)
        assert cls.primitive is ag.registered()[name]


class TestNodeClasses:
    """Names, constants and user primitives."""

    def test_seed_names(self) -> None:
        """The seed's words name the arithmetic classes."""
        names = {node_class(n).__name__ for n in ("mul", "add", "sub", "truediv")}
        assert names == {"Multiply", "Add", "Subtract", "Divide"}
        assert node_class("pow").__name__ == "Power"

    def test_constant_input(self) -> None:
        """A plain number is a constant input: it gets no gradient."""
        t = Tape()
        x = ConstantNode(3.0, t)
        y = node_class("pow")(x, 3, t)
        t.forward()
        t.backward()
        assert (y.output, x.gradient) == (27.0, 27.0)  # d/dx x^3 = 3x^2 = 27

    def test_user_primitive(self) -> None:
        """A primitive registered later gets a class too, by name or attribute."""
        ag.primitive(lambda x: x**3, lambda x: 3 * x**2, name="tape_cube")
        t = Tape()
        x = ConstantNode(2.0, t)
        y = tape.TapeCube(x, t)
        t.forward()
        t.backward()
        assert (y.output, x.gradient) == (8.0, 12.0)  # 2^3; 3 * 2^2

    def test_missing_attribute(self) -> None:
        """An unknown class name is an AttributeError."""
        with pytest.raises(AttributeError):
            _ = tape.NoSuchNode
