"""A big graph, summarised: long chains and what hangs off them collapsed into boxes.

Drawn whole, a graph of 100,000 Values is a page of many megabytes that takes
seconds to lay out and that nobody can read. ``summary_scene`` draws at most
``limit`` boxes, in linear time:

1. **Chains.** A chain is a run of operations each of which is the only consumer of
   the one below it (``y = tanh(y * a + b)`` repeated, or ``0 + l1 + l2 + ...``
   summing losses). A chain of at least ``2 * _KEEP + _MIN_HIDDEN`` keeps ``_KEEP``
   nodes at each end, and its middle becomes one dashed box "… 99,980 values …".
2. **What hangs off them.** A node all of whose consumers went into the same box
   goes into it too: the loss of each sample summed in the middle of a chain
   disappears with it (repeated structure), while a parameter it shares with the
   drawn ends stays, with one edge into the box.
3. **The earliest values.** If more than ``limit`` boxes remain, the earliest ones
   (in reading order, so the ones nearest the inputs) go into one box, "… N
   earlier values …"; everything drawn after it is exactly as in the graph.

A box is drawn where its last value would be, so the summary has no cycles, and a
note above the drawing says what was collapsed.
"""

from __future__ import annotations

from collections import Counter

from .._engine import Value
from ._graph import FILL, Names, kind, value_lines
from ._layout import Box, Scene
from ._scene import add_value

_KEEP = 2  # nodes kept at each end of a collapsed chain
# A chain collapses only if it would hide at least this many: shorter ones (the
# weighted sum inside a neuron, say) are structure worth seeing.
_MIN_HIDDEN = 50


class _Boxes:
    """The collapsed boxes: which box each hidden node is in, and their sizes."""

    def __init__(self, n: int) -> None:
        self.of: list[int] = [-1] * n  # node index -> box number, -1 if drawn
        self.pinned = [False] * n  # the kept ends of a collapsed chain
        self.exit: list[int] = []  # box number -> its last node in reading order
        self.alias: list[int] = []  # box number -> the box it was merged into

    def new(self, exit_node: int) -> int:
        self.exit.append(exit_node)
        self.alias.append(len(self.alias))
        return len(self.alias) - 1

    def find(self, b: int) -> int:
        while self.alias[b] != b:
            b = self.alias[b]
        return b


def summary_scene(order: list[Value], root: Value, names: Names, limit: int) -> Scene:
    """At most about ``limit`` boxes for the graph ``order`` (inputs first)."""
    index = {node: i for i, node in enumerate(order)}
    ins, users = _operands_and_consumers(order, index)
    boxes = _Boxes(len(order))
    chains = _collapse(order, ins, users, boxes)
    items = [i for i in range(len(order)) if boxes.of[i] < 0 or _is_exit(boxes, i)]
    earlier = _collapse_prefix(items, boxes, limit)
    scene = _build(order, index, ins, root, names, boxes)
    hidden = sum(b >= 0 for b in boxes.of)
    parts = []
    if chains:
        parts.append(f"{chains:,} long chain{'s' * (chains > 1)} collapsed")
    if earlier:
        parts.append(f"the {earlier:,} earliest values collapsed")
    scene.note = (
        f"Summary of {len(order):,} values ({', '.join(parts)}): "
        f"{len(order) - hidden:,} drawn, {hidden:,} in dashed boxes"
    )
    return scene


def _operands_and_consumers(
    order: list[Value], index: dict[Value, int]
) -> tuple[list[list[int]], list[list[int]]]:
    """For each node, its operand Values and the distinct nodes that use it, as
    positions in ``order``."""
    ins: list[list[int]] = []
    users: list[list[int]] = [[] for _ in order]
    for j, node in enumerate(order):
        mine = [index[x] for x in node._inputs() if isinstance(x, Value)]
        ins.append(mine)
        for k in mine:
            seen = users[k]
            if not seen or seen[-1] != j:  # x * x uses x once, as a consumer
                seen.append(j)
    return ins, users


def _chain_links(
    order: list[Value], ins: list[list[int]], users: list[list[int]]
) -> list[int]:
    """For each node, the chain link under it (-1 if none): an operand made by an
    operation that nothing else uses."""
    below = [-1] * len(order)
    for j, operands in enumerate(ins):
        links = [k for k in operands if ins[k] and len(users[k]) == 1]
        if len(links) == 1:
            below[j] = links[0]
        elif links:
            # Prefer the operand made by the same operation: the running sum in
            # 0 + l1 + l2 + ..., not the loss added to it.
            op = order[j]._op
            same = [k for k in links if order[k]._op is op]
            below[j] = (same or links)[0]
    return below


def _collapse(
    order: list[Value], ins: list[list[int]], users: list[list[int]], boxes: _Boxes
) -> int:
    """Collapse long chains and what hangs off them; return how many chains.

    One pass, consumers before operands: a node whose consumers are all in one box
    joins it; otherwise, if it tops a long chain, the chain's middle becomes a box.
    A chain that hangs off a collapsed one (each sample's loss in a long sum) is
    thereby absorbed whole rather than collapsed on its own.
    """
    below = _chain_links(order, ins, users)
    chains = 0
    for i in range(len(order) - 1, -1, -1):
        if boxes.of[i] >= 0 or boxes.pinned[i]:
            continue
        first = boxes.of[users[i][0]] if users[i] else -1
        if first >= 0 and all(boxes.of[u] == first for u in users[i]):
            boxes.of[i] = first
            continue
        chain = [i]
        while below[chain[-1]] >= 0:
            chain.append(below[chain[-1]])
        middle = chain[_KEEP : len(chain) - _KEEP]
        if len(middle) >= _MIN_HIDDEN:
            b = boxes.new(middle[0])
            for k in middle:
                boxes.of[k] = b
            for k in chain[:_KEEP] + chain[-_KEEP:]:
                boxes.pinned[k] = True
            chains += 1
    return chains


def _is_exit(boxes: _Boxes, i: int) -> bool:
    b = boxes.of[i]
    return b >= 0 and boxes.exit[b] == i


def _collapse_prefix(items: list[int], boxes: _Boxes, limit: int) -> int:
    """Merge the earliest drawn items into one box until at most ``limit`` remain;
    return how many values that box holds."""
    cut = len(items) - limit + 1
    if cut <= 1:
        return 0
    earlier = boxes.new(items[cut - 1])
    for i in items[:cut]:
        b = boxes.of[i]
        if b < 0:
            boxes.of[i] = earlier
        else:
            boxes.alias[b] = earlier
    for i, b in enumerate(boxes.of):
        if b >= 0:
            boxes.of[i] = boxes.find(b)
    return sum(b == earlier for b in boxes.of)


def _build(
    order: list[Value],
    index: dict[Value, int],
    ins: list[list[int]],
    root: Value,
    names: Names,
    boxes: _Boxes,
) -> Scene:
    """The scene: drawn Values as usual, each box once, edges into a box merged."""
    scene = Scene()
    members: Counter[int] = Counter(b for b in boxes.of if b >= 0)
    ops: dict[int, Counter[str]] = {b: Counter() for b in members}
    for i, b in enumerate(boxes.of):
        if b >= 0:
            ops[b][order[i].op or "leaf"] += 1
    box_at: dict[int, int] = {}  # box number -> its box in the scene
    drawn: dict[Value, int] = {}
    into: set[tuple[int, int]] = set()

    def source(x: Value) -> int:
        return drawn[x] if x in drawn else box_at[boxes.of[index[x]]]

    for i, node in enumerate(order):
        b = boxes.of[i]
        if b < 0:
            fill = FILL[kind(node, root)]
            lines = value_lines(node, names[node])
            drawn[node] = add_value(scene, node, i, lines, fill, source)
        elif b not in box_at:
            common = ops[b].most_common(2)
            top = ", ".join(f"{op} ×{k:,}" for op, k in common)  # noqa: RUF001 -- the multiplication sign
            text = [f"… {members[b]:,} values …", top]
            box_at[b] = scene.add(Box("summary", text, "#f7f7f7", f"s{b}"))
    # Edges from drawn Values into the boxes that use them, one per pair.
    for i, b in enumerate(boxes.of):
        for k in ins[i] if b >= 0 else ():
            if boxes.of[k] < 0 and (k, b) not in into:
                into.add((k, b))
                scene.edge(drawn[order[k]], box_at[b])
    return scene
