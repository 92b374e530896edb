"""Values to boxes: what the built-in layout draws for a graph.

A Value is a box (name, data, grad), the operation that made it an ellipse, a
constant operand a dashed box, and each use of an operand an edge: ``x * x`` has two
edges from ``x``. Keys name the parts for scripts: ``v3`` is the box of the Value at
position 3 of the reading order, ``o3`` its operation, ``e3.1`` the edge that carries
operand 1 into that operation.
"""

from __future__ import annotations

from collections.abc import Callable

from .._engine import Value
from ._graph import FILL, Names, kind, show, value_lines
from ._layout import Box, Scene


def add_value(
    scene: Scene,
    node: Value,
    i: int,
    lines: list[str],
    fill: str,
    source: Callable[[Value], int],
) -> int:
    """Add the boxes of ``node`` (number ``i``, its box showing ``lines``) and the
    edges into them; return its box. ``source(x)`` is the box an operand Value
    ``x`` is drawn as."""
    if node._op is None:
        return scene.add(Box("value", lines, fill, f"v{i}"))
    op = scene.add(Box("op", [node.op], key=f"o{i}"))
    for slot, x in enumerate(node._inputs()):
        is_node = isinstance(x, Value)
        src = source(x) if is_node else scene.add(Box("const", [show(x)]))
        scene.edge(src, op, f"e{i}.{slot}")
    me = scene.add(Box("value", lines, fill, f"v{i}"))
    scene.edge(op, me)
    return me


def full_scene(
    order: list[Value],
    root: Value,
    names: Names,
    lines: Callable[[Value, str], list[str]] = value_lines,
) -> Scene:
    """Every Value of ``order`` (inputs first) drawn, with every operation; a
    Value's box shows ``lines(node, name)`` (by default: name, data, grad)."""
    scene = Scene()
    box_of: dict[Value, int] = {}
    for i, node in enumerate(order):
        fill = FILL[kind(node, root)]
        text = lines(node, names[node])
        box_of[node] = add_value(scene, node, i, text, fill, box_of.__getitem__)
    return scene
