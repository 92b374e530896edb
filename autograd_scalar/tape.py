"""Define-then-run differentiation: the seed notebook's ``Tape``.

Driven by the rule table (``registered()``), so no derivative is written here a
second time. The seed notebook's model, as a supported API: nodes are made on a
``Tape`` in the order they are computed; ``tape.forward()`` computes every ``output``,
``tape.backward()`` every ``gradient``. There is a node class for every primitive
(``Multiply``, ``Add``, ``Power``, ``Exp``, ``Tanh``, ...; ``Square`` squares), and a
subclass of ``CompNode`` written as the seed writes one works unchanged.

>>> t = Tape()
>>> a, b = ConstantNode(2, t), ConstantNode(3, t)
>>> f = Multiply(ConstantNode(5, t), Multiply(a, b, t), t)
>>> t.forward()
>>> t.backward()
>>> f.output, a.gradient, b.gradient
(30, 15, 10)

``trace`` and ``Traced`` (traced replay) live in ``autograd_scalar.tracing``; they
are importable from here too, as before.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any, ClassVar

from ._engine import Primitive, _is_number, _plain
from ._rules import _pow as pow_
from ._rules import registered

__all__ = [
    "CompNode",
    "ConstantNode",
    "PrimitiveNode",
    "Square",
    "Tape",
    "node_class",
]

# =====================================================================================
# The tape
# =====================================================================================


class Tape:
    """An ordered list of computation nodes: forward runs it, backward runs it reversed.

    Nodes add themselves when made, so the tape's order is the order of computation.
    ``forward`` and ``backward`` may be called any number of times, in any order.

    >>> t = Tape()
    >>> x = ConstantNode(3.0, t)
    >>> y = Square(x, t)
    >>> t.forward()
    >>> t.backward()
    >>> y.output, x.gradient
    (9.0, 6.0)
    """

    def __init__(self) -> None:
        self.computations: list[CompNode] = []

    def add(self, node: CompNode) -> None:
        """Append ``node`` (every ``CompNode`` calls this from its ``__init__``)."""
        if not isinstance(node, CompNode):
            raise TypeError(
                f"Tape.add() takes a CompNode, got {type(node).__name__}: {node!r}"
            )
        self.computations.append(node)

    def forward(self) -> None:
        """Compute every node's ``output``, inputs before the nodes made from them."""
        for node in self.computations:
            node.forward()

    def backward(self, output: CompNode | None = None) -> None:
        """Set every node's ``gradient`` to d(output)/d(node).

        All gradients are zeroed first, then ``output`` (default: the last node on the
        tape) is seeded with 1 and each node passes its gradient on to its inputs,
        consumers before the nodes they consume. Call ``forward`` first.
        """
        if not self.computations:
            raise ValueError("Tape.backward(): the tape is empty")
        if output is None:
            output = self.computations[-1]
        elif not any(node is output for node in self.computations):
            raise ValueError(f"Tape.backward(): {output!r} is not on this tape")
        for node in self.computations:
            node.set_gradient(0)
        output.set_gradient(1)
        # Iterate in reverse without reversing the list in place (the seed did, so a
        # second backward, or a forward after one, ran in the wrong order).
        for node in reversed(self.computations):
            node.backward()

    def __len__(self) -> int:
        return len(self.computations)

    def __iter__(self) -> Iterator[CompNode]:
        return iter(self.computations)


class CompNode:
    """A node of a ``Tape``: subclass it and write ``forward`` and ``backward``.

    ``forward`` sets ``self.output`` from the inputs' outputs; ``backward`` passes
    ``self.gradient`` times each local derivative to the inputs with
    ``add_gradient``. Set the inputs before calling ``super().__init__(tape)``.

    >>> class Cube(CompNode):
    ...     def __init__(self, x, tape):
    ...         self.x = x
    ...         super().__init__(tape)
    ...     def forward(self):
    ...         self.output = self.x.output**3
    ...     def backward(self):
    ...         self.x.add_gradient(3 * self.x.output**2 * self.gradient)
    >>> t = Tape()
    >>> x = ConstantNode(2, t)
    >>> y = Cube(x, t)
    >>> t.forward(); t.backward()
    >>> y.output, x.gradient
    (8, 12)
    """

    output: Any
    gradient: Any

    def __init__(self, tape: Tape) -> None:
        if not isinstance(tape, Tape):
            raise TypeError(
                f"{type(self).__name__}() takes a Tape last, "
                f"got {type(tape).__name__}: {tape!r}"
            )
        self.gradient = 0
        tape.add(self)

    def forward(self) -> None:
        """Compute ``self.output`` from the inputs' outputs."""

    def backward(self) -> None:
        """Pass ``self.gradient`` on: call ``add_gradient`` on each input."""

    def set_gradient(self, gradient: Any) -> None:
        """Set ``self.gradient`` (the tape zeroes and seeds gradients with this)."""
        self.gradient = gradient

    def add_gradient(self, gradient: Any) -> None:
        """Add a consumer's contribution to ``self.gradient``."""
        self.gradient += gradient


class ConstantNode(CompNode):
    """An input of the tape: ``value`` can be changed, then ``tape.forward()`` again.

    >>> t = Tape()
    >>> x = ConstantNode(2.0, t)
    >>> y = Exp(x, t)
    >>> x.value = 0.0
    >>> t.forward()
    >>> y.output
    1.0
    """

    def __init__(self, value: Any, tape: Tape) -> None:
        self.value = value
        super().__init__(tape)

    def forward(self) -> None:
        self.output = _plain(self.value)  # a numpy scalar: the Python number

    def __repr__(self) -> str:
        return f"ConstantNode({self.value!r})"


class PrimitiveNode(CompNode):
    """A node applying one primitive of the rule table; one subclass per primitive.

    Inputs are nodes or plain numbers (constants, which get no gradient). The forward
    is the primitive's forward; ``backward`` evaluates its partials from the table.
    Unary nodes name their input ``x``, binary ones ``left`` and ``right``; all have
    ``inputs``.

    >>> t = Tape()
    >>> x = ConstantNode(0.0, t)
    >>> y = Add(Sigmoid(x, t), 1, t)
    >>> t.forward(); t.backward()
    >>> y.output, x.gradient
    (1.5, 0.25)
    """

    primitive: ClassVar[Primitive]
    inputs: tuple[Any, ...]

    def __init__(self, *inputs_then_tape: Any) -> None:
        *inputs, tape = inputs_then_tape if inputs_then_tape else (None,)
        name = type(self).__name__
        arity = self.primitive.arity
        if len(inputs) != arity:
            raise TypeError(
                f"{name}() takes {arity} input(s) and a Tape, "
                f"got {len(inputs_then_tape)} argument(s)"
            )
        for x in inputs:
            if not isinstance(x, CompNode) and not _is_number(x):
                raise TypeError(
                    f"{name}() takes nodes or numbers, got {type(x).__name__}: {x!r}"
                )
        self.inputs = tuple(x if isinstance(x, CompNode) else _plain(x) for x in inputs)
        if arity == 1:
            self.x = inputs[0]
        elif arity == 2:
            self.left, self.right = inputs
        super().__init__(tape)

    def _datas(self) -> list[Any]:
        return [x.output if isinstance(x, CompNode) else x for x in self.inputs]

    def forward(self) -> None:
        self.output = self.primitive.forward(self.inputs, self._datas())

    def backward(self) -> None:
        datas = self._datas()
        for x, partial in zip(self.inputs, self.primitive.partials, strict=True):
            if isinstance(x, CompNode):
                x.add_gradient(partial(self.output, *datas) * self.gradient)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} node>"


# The seed's words where CamelCase of the primitive's name is not the seed's word.
_CLASS_NAMES = {
    "sub": "Subtract",
    "mul": "Multiply",
    "truediv": "Divide",
    "pow": "Power",
    "neg": "Negate",
}
# Weak values: a class lives while it is used (by its nodes, this module's globals,
# the user), and takes its primitive along when freed: a user primitive redefined
# under its name (a notebook rerun) is not kept forever. A class made again for a
# freed one cannot be told apart, as nothing holds the old one.
_NODE_CLASSES: weakref.WeakValueDictionary[Primitive, type[PrimitiveNode]] = (
    weakref.WeakValueDictionary()
)


def _class_name(primitive_name: str) -> str:
    if primitive_name in _CLASS_NAMES:
        return _CLASS_NAMES[primitive_name]
    return "".join(part[:1].upper() + part[1:] for part in primitive_name.split("_"))


def node_class(primitive: Primitive | str) -> type[PrimitiveNode]:
    """The tape node class of a primitive (given itself or its registered name).

    Built-in primitives' classes are this module's attributes (``Multiply``...); a
    user primitive's class is found here or as ``tape.<CamelCaseName>``.

    >>> import autograd_scalar as ag
    >>> _ = ag.primitive(lambda x: x**3, lambda x: 3 * x**2, name="cube")
    >>> node_class("cube").__name__
    'Cube'
    """
    if isinstance(primitive, str):
        table = registered()
        if primitive not in table:
            raise ValueError(f"node_class(): no primitive named {primitive!r}")
        primitive = table[primitive]
    if not isinstance(primitive, Primitive):
        raise TypeError(
            f"node_class() takes a Primitive or its name, got {primitive!r}"
        )
    cls = _NODE_CLASSES.get(primitive)
    if cls is None:
        name = _class_name(primitive.name)
        doc = f"A tape node applying ``{primitive.name}`` (rule table)."
        namespace = {"primitive": primitive, "__doc__": doc, "__module__": __name__}
        cls = type(name, (PrimitiveNode,), namespace)
        _NODE_CLASSES[primitive] = cls
    return cls


for _primitive in registered().values():
    globals()[_class_name(_primitive.name)] = node_class(_primitive)
__all__ += sorted(_class_name(name) for name in registered())


def __getattr__(name: str) -> Any:
    """The node class of a primitive registered after import (``tape.Cube``), or
    ``trace``/``Traced`` from ``autograd_scalar.tracing`` (loaded on first use)."""
    if name in ("trace", "Traced"):
        from . import tracing

        return getattr(tracing, name)
    for primitive in registered().values():
        if _class_name(primitive.name) == name:
            return node_class(primitive)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class Square(node_class(pow_)):  # type: ignore[misc]
    """The seed's ``Square(x, tape)``: x**2, differentiated by the table's pow rule.

    >>> t = Tape()
    >>> x = ConstantNode(3, t)
    >>> y = Square(x, t)
    >>> t.forward(); t.backward()
    >>> y.output, x.gradient
    (9, 6)
    """

    def __init__(self, x: CompNode, tape: Tape) -> None:
        super().__init__(x, 2, tape)
        self.x = x
