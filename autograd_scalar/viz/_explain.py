"""The chain rule made visible: path by path (``explain``), step by step
(``backward_steps``).

- ``explain(out, wrt)``: every path from ``wrt`` to ``out``, the product of the
  local derivatives along it, and their sum, d out / d wrt. Linear in the graph
  and in the total length of the paths it lists.
- ``backward_steps(out)``: a reverse pass recorded step by step (node, local
  derivative, upstream gradient, increment), giving bit for bit the gradients of
  ``out.backward()``, without touching any ``grad``.

Both print as text tables and show in Jupyter as HTML tables, which render in
untrusted notebooks too. Nodes are named as in drawings (``_graph``).

>>> from autograd_scalar import Value
>>> x, y = Value(3, "x"), Value(2, "y")
>>> out = x * y + x
>>> print(explain(out, x))
d(add#0)/d(x) = 3, the sum over 2 paths of the product of local derivatives:
  path               local derivatives  product
  x → mul#0 → add#0  2 · 1              2
  x → add#0          1                  1
  sum                                   3
"""

from __future__ import annotations

import html
from typing import Any, ClassVar, NamedTuple

from .._engine import Value, check_unchanged, local_partials, toposort
from ._graph import Names, names, reading_order, show


def _table(header: list[str], rows: list[list[str]], indent: str = "  ") -> str:
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    return "\n".join(
        indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    )


# In a notebook, a table shows at most this many rows (the first and last halves)
# and a cell at most this many characters: a pass over 100,000 nodes displays as a
# few kilobytes, not megabytes. str() and print() show everything.
HTML_ROWS = 200
HTML_CELL = 1000


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    def cell(text: str) -> str:
        if len(text) > HTML_CELL:
            half = HTML_CELL // 2
            text = f"{text[:half]} … {text[-half:]}"
        return f"<td>{html.escape(text)}</td>"

    head = "".join(f"<th>{html.escape(c)}</th>" for c in header)
    if len(rows) > HTML_ROWS:
        half = HTML_ROWS // 2
        gap = f"… {len(rows) - 2 * half:,} more rows (print() shows all) …"
        rows = [*rows[:half], [gap] + [""] * (len(header) - 1), *rows[-half:]]
    body = "".join("<tr>" + "".join(cell(c) for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


class Step(NamedTuple):
    """One term of a reverse pass: ``input.grad += local * upstream``.

    Attributes:
        node: the node whose local chain rule runs.
        input: which of its operands receives gradient.
        slot: the operand's position (0 for the first).
        local: d node / d input, from the rule table.
        upstream: d out / d node, complete when the step runs.
        increment: ``local * upstream``, added to the input's gradient.
        total: the input's gradient so far, this increment included.
    """

    node: Value
    input: Value
    slot: int
    local: Any
    upstream: Any
    increment: Any
    total: Any


class BackwardSteps:
    """A reverse pass, recorded: see ``backward_steps``.

    Attributes:
        steps: every ``Step``, in the order ``backward()`` takes them.
        grads: d out / d node for every node (a dict keyed by the Values).
    """

    def __init__(self, out: Value, steps: list[Step], grads: dict[Value, Any]) -> None:
        self.out = out
        self.steps = steps
        self.grads = grads
        self._names = names(reading_order(out))

    _HEADER: ClassVar[list[str]] = [
        *("step", "node", "input", "local d", "upstream", "increment", "grad")
    ]

    def _rows(self) -> list[list[str]]:
        n = self._names
        return [
            [
                str(k),
                n[s.node],
                n[s.input],
                show(s.local, 10),
                show(s.upstream, 10),
                show(s.increment, 10),
                show(s.total, 10),
            ]
            for k, s in enumerate(self.steps, 1)
        ]

    def __str__(self) -> str:
        seed = show(self.grads[self.out], 10)
        return (
            f"backward from {self._names[self.out]} (seeded with {seed}): "
            f"{len(self.steps)} steps, each input.grad += local d * upstream\n"
            + _table(self._HEADER, self._rows())
        )

    def __repr__(self) -> str:
        return f"<BackwardSteps: {len(self.steps)} steps from {self._names[self.out]}>"

    def _repr_html_(self) -> str:
        return (
            f"<p>backward from <b>{html.escape(self._names[self.out])}</b>: "
            "each step adds <i>local derivative * upstream gradient</i> to an "
            "input's gradient</p>" + _html_table(self._HEADER, self._rows())
        )


def backward_steps(out: Value) -> BackwardSteps:
    """Record the reverse pass from ``out`` step by step, without touching ``grad``.

    Runs the chain rule the way ``out.backward()`` does, node by node with each
    node's consumers first, but writes down every term instead of storing it: which
    node, which input, the local derivative (from the rule table), the upstream
    gradient, and the increment. ``.grads`` are exactly the gradients
    ``out.backward()`` gives on a graph whose grads are zero.

    >>> from autograd_scalar import Value
    >>> x = Value(3, "x")
    >>> y = x * x
    >>> y.label = "y"
    >>> print(backward_steps(y))
    backward from y (seeded with 1): 2 steps, each input.grad += local d * upstream
      step  node  input  local d  upstream  increment  grad
      1     y     x      3        1         3          3
      2     y     x      3        1         3          6
    """
    if not isinstance(out, Value):
        raise TypeError(f"expected a Value, got {type(out).__name__}: {out!r}")
    # The engine's order, so that each input's gradient adds the same terms in the
    # same order as backward() does: the same floats, bit for bit.
    order = toposort(out)
    check_unchanged(order, "backward_steps")  # as backward() refuses a mixed graph
    grads: dict[Value, Any] = {node: 0 for node in order}
    grads[out] = out.data**0  # 1 in the type of the data, as backward() seeds it
    steps = []
    for node in reversed(order):
        if node._op is None:
            continue
        upstream = grads[node]
        partials = local_partials(node)
        for i, x in enumerate(node._inputs()):
            if isinstance(x, Value):
                local = partials[i]
                increment = local * upstream
                grads[x] += increment
                steps.append(Step(node, x, i, local, upstream, increment, grads[x]))
    return BackwardSteps(out, steps, grads)


class Explanation:
    """d out / d wrt as a sum over paths: see ``explain``.

    Attributes:
        paths: one ``(nodes, product)`` per path, ``nodes`` running from ``wrt`` to
            ``out`` and ``product`` the product of the local derivatives along it.
        factors: for each path, its local derivatives in the same order.
        total: the sum of the products: d out / d wrt.
        grad: what ``out.backward()`` gives ``wrt.grad`` (on zeroed grads).
    """

    def __init__(
        self,
        out: Value,
        wrt: Value,
        paths: list[tuple[tuple[Value, ...], Any]],
        factors: list[tuple[Any, ...]],
        slots: list[tuple[int, ...]],
        grad: Any,
    ) -> None:
        self.out = out
        self.wrt = wrt
        self.paths = paths
        self.factors = factors
        self._slots = slots  # which operand each edge enters: shown where ambiguous
        self.total: Any = sum(p for _, p in paths)
        self.grad = grad
        self._names = names(reading_order(out))

    def _rows(self) -> list[list[str]]:
        n = self._names
        rows = [
            [
                _path_text(nodes, slots, n),
                " · ".join(show(f, 10) for f in factors) or "(none: wrt is out)",
                show(product, 10),
            ]
            for (nodes, product), factors, slots in zip(
                self.paths, self.factors, self._slots, strict=True
            )
        ]
        rows.append(["sum", "", show(self.total, 10)])
        return rows

    _HEADER: ClassVar[list[str]] = ["path", "local derivatives", "product"]

    def _title(self) -> str:
        n = self._names
        wrt = n.get(self.wrt, self.wrt.label or "wrt")
        count = len(self.paths)
        return (
            f"d({n[self.out]})/d({wrt}) = {show(self.total, 10)}, the sum over "
            f"{count} path{'s' * (count != 1)} of the product of local derivatives"
        )

    def __str__(self) -> str:
        return self._title() + ":\n" + _table(self._HEADER, self._rows())

    def __repr__(self) -> str:
        return f"<Explanation: {self._title()}>"

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(self._title())}</p>" + _html_table(
            self._HEADER, self._rows()
        )


def _path_text(nodes: tuple[Value, ...], slots: tuple[int, ...], names: Names) -> str:
    """``x → mul#0 → out``; an edge into an operation that uses its input more than
    once names the operand it enters: ``h →[1] mul#2``."""
    text = names[nodes[0]]
    for src, dst, slot in zip(nodes, nodes[1:], slots, strict=False):
        ambiguous = sum(x is src for x in dst._inputs()) > 1
        text += f" →[{slot}] " if ambiguous else " → "
        text += names[dst]
    return text


def explain(out: Value, wrt: Value, *, max_paths: int = 10_000) -> Explanation:
    """Why ``wrt.grad`` is what it is: the chain rule as a sum over paths.

    Each path from ``wrt`` to ``out`` contributes the product of the local
    derivatives of its edges (each from the rule table, at the recorded numbers);
    d out / d wrt is the sum of these products. An input used twice (``h * h``)
    has two edges, so two paths. The number of paths can grow exponentially with
    depth: more than ``max_paths`` is a ``ValueError`` (``backward`` itself never
    enumerates paths; that is what makes it fast).

    The seed's diamond, where ``y`` reaches ``h`` along two paths:

    >>> from autograd_scalar import Value
    >>> x, y, z = Value(3, "x"), Value(2, "y"), Value(1, "z")
    >>> h = (x * y) * (y * z)
    >>> h.label = "h"
    >>> o = h * h
    >>> o.label = "o"
    >>> e = explain(o, y)
    >>> print(e)
    d(o)/d(y) = 288, the sum over 4 paths of the product of local derivatives:
      path                  local derivatives  product
      y → mul#0 → h →[0] o  3 · 2 · 12         72
      y → mul#1 → h →[0] o  1 · 6 · 12         72
      y → mul#0 → h →[1] o  3 · 2 · 12         72
      y → mul#1 → h →[1] o  1 · 6 · 12         72
      sum                                      288

    ``o`` uses ``h`` twice (operands 0 and 1), so each path through ``h`` is
    there twice; ``mul#0`` is ``x * y`` and ``mul#1`` is ``y * z``.
    >>> e.total == e.grad
    True
    """
    if not isinstance(wrt, Value):
        raise TypeError(f"explain: wrt must be a Value, got {type(wrt).__name__}")
    count = _path_counts(out, wrt)
    check_unchanged(count, "explain")  # as backward() refuses a mixed graph
    total = count.get(out, 0)
    if total > max_paths:
        raise ValueError(
            f"explain: {total} paths lead from wrt to out, more than "
            f"max_paths={max_paths}; pass a larger max_paths, or explain a smaller "
            "graph (backward() sums them without enumerating them)"
        )
    paths, factors, slots = _enumerate_paths(out, wrt, count) if total else ([], [], [])
    grad = backward_steps(out).grads.get(wrt, 0)
    return Explanation(out, wrt, paths, factors, slots, grad)


def _path_counts(out: Value, wrt: Value) -> dict[Value, int]:
    """How many paths lead from wrt to each node (absent: none), in graph order."""
    count: dict[Value, int] = {wrt: 1}
    for node in reading_order(out):
        if node is not wrt:
            c = sum(count.get(x, 0) for x in node.parents)
            if c:
                count[node] = c
    return count


# A path under construction, from out down to some node: that node, the local
# derivative and operand slot of the edge into it from above, and the link above.
# Sharing the links keeps each step O(1): copying the path at every step, as a tuple,
# made a chain of n nodes cost n**2.
_Link = tuple[Value, Any, int, "_Link | None"]


def _enumerate_paths(
    out: Value, wrt: Value, count: dict[Value, int]
) -> tuple[
    list[tuple[tuple[Value, ...], Any]], list[tuple[Any, ...]], list[tuple[int, ...]]
]:
    """Every path from wrt to out, following only edges that reach wrt: nodes and
    product, local derivatives, and operand slots, each listed from wrt to out."""
    paths: list[tuple[tuple[Value, ...], Any]] = []
    factors: list[tuple[Any, ...]] = []
    slots: list[tuple[int, ...]] = []
    partials: dict[Value, tuple[Any, ...]] = {}
    stack: list[_Link] = [(out, None, -1, None)]
    while stack:
        link = stack.pop()
        node = link[0]
        if node is wrt:
            nodes, locals_, edge_slots = [], [], []
            at: _Link | None = link
            while at is not None:
                nodes.append(at[0])
                if at[3] is not None:
                    locals_.append(at[1])
                    edge_slots.append(at[2])
                at = at[3]
            product = out.data**0
            for f in reversed(locals_):  # from out downwards, as backward() does
                product = product * f
            paths.append((tuple(nodes), product))
            factors.append(tuple(locals_))
            slots.append(tuple(edge_slots))
            continue
        inputs = node._inputs()
        for i in range(len(inputs) - 1, -1, -1):
            x = inputs[i]
            if isinstance(x, Value) and x in count:
                if node not in partials:
                    partials[node] = local_partials(node)
                stack.append((x, partials[node][i], i, link))
    return paths, factors, slots
