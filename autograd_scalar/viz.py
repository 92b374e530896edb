"""See the graph: draw it, explain its gradients step by step, export it to sympy.

- ``to_dot(root)``: the graph as Graphviz DOT text (standard library only).
- ``draw(root)``: a drawing Jupyter displays and ``.save()`` writes as ``.svg`` or
  ``.dot``. It uses Graphviz when the ``graphviz`` package and the ``dot`` program are
  both installed, and otherwise lays the graph out itself, in pure Python.
- ``explain(out, wrt)``: the multivariate chain rule made visible: every path from
  ``wrt`` to ``out``, the product of the local derivatives along it, and their sum.
- ``backward_steps(out)``: a reverse pass recorded step by step (node, local
  derivative, increment), giving the same gradients as ``out.backward()``.
- ``to_sympy(out)``: the graph as a sympy expression (needs sympy).

Nothing in the core imports this module. Every node gets one display name, shared by
all of the above: its ``label``, or for an unlabeled node its operation and a number
in graph order (``mul#2``; ``leaf#0`` for a leaf).

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
import itertools
import shutil
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any, ClassVar, Literal, NamedTuple

from ._engine import Value

__all__ = [
    "GRAPHVIZ_MAX_VALUES",
    "BackwardSteps",
    "Drawing",
    "Explanation",
    "Step",
    "backward_steps",
    "draw",
    "explain",
    "to_dot",
    "to_sympy",
]

# -------------------------------------------------------------------------------------
# The graph, in order, with one display name per node
# -------------------------------------------------------------------------------------


def _toposort(root: Value, engine_order: bool = False) -> list[Value]:
    """Every Value below ``root`` (itself and leaves included), inputs first.

    An iterative depth-first search. By default it takes operands left to right, so
    names and drawings follow the order of the code. ``engine_order=True`` takes the
    order of the engine's own search, so that ``backward_steps`` adds the same terms
    in the same order as ``backward()`` and gets bit-for-bit the same floats.
    """
    if not isinstance(root, Value):
        raise TypeError(f"expected a Value, got {type(root).__name__}: {root!r}")
    done: set[Value] = set()
    order: list[Value] = []
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if node in done:
            continue
        done.add(node)
        stack.append((node, True))
        inputs = node._inputs()
        for x in inputs if engine_order else reversed(inputs):
            if isinstance(x, Value) and x not in done:
                stack.append((x, False))
    return order


def _names(order: Iterable[Value]) -> dict[Value, str]:
    """Each node's display name: its label, or its op and a per-op count."""
    counts: dict[str, int] = {}
    names: dict[Value, str] = {}
    for node in order:
        if node.label:
            names[node] = node.label
        else:
            kind = node.op or "leaf"
            k = counts.get(kind, 0)
            counts[kind] = k + 1
            names[node] = f"{kind}#{k}"
    return names


def _show(x: Any, digits: int = 6) -> str:
    """A number for display: exact types in full, floats to ``digits`` digits."""
    if isinstance(x, Value):
        x = x.data
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return str(x)


# -------------------------------------------------------------------------------------
# DOT
# -------------------------------------------------------------------------------------


def _dot_string(lines: Iterable[str]) -> str:
    """A quoted DOT string of centered lines, every special character escaped."""
    escaped = (
        line.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\r", "")
        .replace("\n", "\\n")
        for line in lines
    )
    return '"' + "\\n".join(escaped) + '"'


def _value_lines(node: Value, name: str) -> list[str]:
    return [name, f"data {_show(node.data)}", f"grad {_show(node.grad)}"]


def to_dot(root: Value) -> str:
    """The graph below ``root`` as Graphviz DOT text, inputs on the left.

    A box per Value (name, data, grad), an ellipse per operation, a dashed box per
    constant operand, and an edge per use: ``x * x`` has two edges from ``x``.

    >>> from autograd_scalar import Value
    >>> x = Value(2, "x")
    >>> print(to_dot(x * x))
    digraph autograd {
      rankdir=LR;
      node [shape=box, style=filled, fillcolor=white, fontname=monospace, fontsize=10];
      v0 [fillcolor="#e8f0fe", label="x\\ndata 2\\ngrad 0"];
      v1 [fillcolor="#fff4cc", label="mul#0\\ndata 4\\ngrad 0"];
      v1_op [shape=ellipse, label="mul"];
      v1_op -> v1;
      v0 -> v1_op;
      v0 -> v1_op;
    }
    """
    return _dot(_toposort(root), root)


def _dot(order: list[Value], root: Value, graph_attributes: str = "") -> str:
    names = _names(order)
    index = {node: i for i, node in enumerate(order)}
    out = [
        "digraph autograd {",
        f"  rankdir=LR;{graph_attributes}",
        "  node [shape=box, style=filled, fillcolor=white, fontname=monospace, "
        "fontsize=10];",
    ]
    constants = 0
    for i, node in enumerate(order):
        fill = _FILL[_kind(node, root)]
        label = _dot_string(_value_lines(node, names[node]))
        out.append(f'  v{i} [fillcolor="{fill}", label={label}];')
        if node._op is None:
            continue
        out.append(f"  v{i}_op [shape=ellipse, label={_dot_string([node.op])}];")
        out.append(f"  v{i}_op -> v{i};")
        for x in node._inputs():
            if isinstance(x, Value):
                out.append(f"  v{index[x]} -> v{i}_op;")
            else:
                out.append(
                    f"  c{constants} [style=dashed, label={_dot_string([_show(x)])}];"
                )
                out.append(f"  c{constants} -> v{i}_op;")
                constants += 1
    out.append("}")
    return "\n".join(out)


_FILL = {"leaf": "#e8f0fe", "root": "#fff4cc", "interior": "#ffffff"}


def _kind(node: Value, root: Value) -> str:
    return "root" if node is root else "leaf" if node._op is None else "interior"


# -------------------------------------------------------------------------------------
# Drawing: Graphviz when available, else a built-in layered layout
# -------------------------------------------------------------------------------------


class Drawing:
    """A drawn graph: Jupyter shows it as SVG; ``save`` writes ``.svg`` or ``.dot``.

    Attributes:
        svg: the picture, as SVG text.
        dot: the graph, as DOT text (``to_dot``).
        engine: ``"graphviz"`` or ``"builtin"``, whichever laid it out.

    >>> from autograd_scalar import Value
    >>> d = draw(Value(2, "x") * 3, engine="builtin")
    >>> d.engine, d.svg.startswith("<svg")
    ('builtin', True)
    """

    def __init__(self, svg: str, dot: str, engine: str, size: int) -> None:
        self.svg = svg
        self.dot = dot
        self.engine = engine
        self._size = size

    def __repr__(self) -> str:
        return f"<Drawing of {self._size} values, laid out by {self.engine}>"

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> dict[str, str]:
        return {"image/svg+xml": self.svg, "text/plain": repr(self)}

    def save(self, path: str | Path) -> Path:
        """Write the drawing to ``path``: SVG for ``.svg``, DOT text for ``.dot``.

        >>> import tempfile, os
        >>> from autograd_scalar import Value
        >>> d = draw(Value(1, "x") + 1, engine="builtin")
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     d.save(os.path.join(tmp, "g.dot")).read_text().startswith("digraph")
        True
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".svg":
            path.write_text(self.svg, encoding="utf-8")
        elif suffix == ".dot":
            path.write_text(self.dot, encoding="utf-8")
        else:
            raise ValueError(
                f"Drawing.save({str(path)!r}): the suffix must be .svg or .dot, "
                f"got {path.suffix!r}"
            )
        return path


def draw(
    root: Value, *, engine: Literal["auto", "graphviz", "builtin"] = "auto"
) -> Drawing:
    """Draw the graph below ``root``; in Jupyter, the result shows as a picture.

    ``engine="auto"`` uses Graphviz when the ``graphviz`` package (the ``viz``
    extra) and its ``dot`` program are both installed and the graph has at most
    ``GRAPHVIZ_MAX_VALUES`` Values, and the built-in pure-Python layout otherwise,
    or if Graphviz fails: drawing never fails for want of a system package, and a
    big graph never stalls a notebook (Graphviz can take minutes on a few hundred
    nodes with many long edges; the built-in layout takes a fraction of a second
    on thousands). ``"graphviz"`` insists on Graphviz; ``"builtin"`` never uses it.

    >>> from autograd_scalar import Value
    >>> x = Value(3, "x")
    >>> y = (x * x).tanh()
    >>> draw(y, engine="builtin")
    <Drawing of 3 values, laid out by builtin>
    """
    if engine not in ("auto", "graphviz", "builtin"):
        raise ValueError(
            f"draw(engine={engine!r}): expected 'auto', 'graphviz' or 'builtin'"
        )
    order = _toposort(root)
    dot = _dot(order, root)
    small = len(order) <= GRAPHVIZ_MAX_VALUES
    if engine == "graphviz" or (engine == "auto" and small):
        # Cap Graphviz's crossing-minimization and network-simplex iterations:
        # seconds instead of minutes on big tangled graphs, the same on small ones.
        tuned = _dot(order, root, " mclimit=0.2; nslimit=2; nslimit1=2;")
        svg = _graphviz_svg(tuned, required=engine == "graphviz")
        if svg is not None:
            return Drawing(svg, dot, "graphviz", len(order))
    return Drawing(_layout_svg(order, root), dot, "builtin", len(order))


GRAPHVIZ_MAX_VALUES = 200
"""The largest graph (in Values) that ``draw(engine="auto")`` gives to Graphviz."""


def _graphviz_svg(dot: str, required: bool) -> str | None:
    """Graphviz's SVG of ``dot``, or None when it is missing or fails (unless
    ``required``, when that is an error)."""
    try:
        import graphviz  # type: ignore[import-untyped]
    except ImportError:
        if required:
            raise RuntimeError(
                "draw(engine='graphviz') needs the graphviz package: "
                "pip install 'autograd_scalar[viz]'"
            ) from None
        return None
    if shutil.which("dot") is None:
        if required:
            raise RuntimeError(
                "draw(engine='graphviz') needs Graphviz's dot program on PATH"
            )
        return None
    try:
        svg = graphviz.Source(dot).pipe(format="svg", encoding="utf-8")
    except Exception:  # a broken Graphviz install must not break a notebook
        if required:
            raise
        return None
    # Drop the XML prolog and doctype so the SVG can be inlined into HTML.
    start = svg.find("<svg")
    return str(svg[start:] if start >= 0 else svg)


# The built-in layout: longest-path layering (inputs left, outputs right), dummy
# nodes on edges that skip layers, a few barycenter sweeps to reduce crossings, then
# each layer's nodes moved towards their neighbours without overlapping.

_CHAR_W = 7.2  # width of one character of 12px monospace
_LINE_H = 15.0
_PAD = 8.0
_GAP_X = 46.0
_GAP_Y = 14.0
_MARGIN = 10.0
_SWEEPS = 4
_DUMMIES_PER_BOX = 1
_drawing_ids = itertools.count()


class _Box:
    __slots__ = ("cls", "fill", "h", "layer", "lines", "pos", "w", "x", "y")

    def __init__(self, cls: str, lines: list[str], fill: str = "#ffffff") -> None:
        self.cls = cls  # "value", "op", "const" or "dummy"
        self.lines = lines
        self.fill = fill
        longest = max((len(s) for s in lines), default=0)
        self.w = longest * _CHAR_W + 2 * _PAD if lines else 0.0
        self.h = len(lines) * _LINE_H + _PAD if lines else 2.0
        self.layer = 0
        self.pos = 0.0
        self.x = 0.0
        self.y = 0.0


def _layout_svg(order: list[Value], root: Value) -> str:
    names = _names(order)
    boxes: list[_Box] = []
    edges: list[tuple[int, int]] = []
    box_of: dict[Value, int] = {}

    def add(box: _Box) -> int:
        boxes.append(box)
        return len(boxes) - 1

    # Boxes in graph order (inputs first), so one pass assigns longest-path layers.
    for node in order:
        fill = _FILL[_kind(node, root)]
        if node._op is None:
            box_of[node] = add(_Box("value", _value_lines(node, names[node]), fill))
            continue
        op = add(_Box("op", [node.op]))
        for x in node._inputs():
            is_node = isinstance(x, Value)
            src = box_of[x] if is_node else add(_Box("const", [_show(x)]))
            edges.append((src, op))
            boxes[op].layer = max(boxes[op].layer, boxes[src].layer + 1)
        me = add(_Box("value", _value_lines(node, names[node]), fill))
        boxes[me].layer = boxes[op].layer + 1
        edges.append((op, me))
        box_of[node] = me

    succs: list[list[int]] = [[] for _ in boxes]
    for s, t in edges:
        succs[s].append(t)
    # Sources (leaves, constants) move right, next to their first consumer.
    for i in range(len(boxes) - 1, -1, -1):
        if succs[i] and not boxes[i].layer:
            boxes[i].layer = min(boxes[t].layer for t in succs[i]) - 1

    # Split edges that skip layers with dummy boxes, so they bend around the boxes
    # between. Dummies cost time, so there is a budget, spent on the shortest edges
    # first; a longer edge is drawn as one curve.
    routes: list[list[int]] = [[s, t] for s, t in edges]
    budget = _DUMMIES_PER_BOX * len(boxes)
    for r in sorted(range(len(edges)), key=lambda r: _span(boxes, edges[r])):
        s, t = edges[r]
        span = _span(boxes, edges[r])
        if span > budget:
            break
        budget -= span
        route = routes[r]
        for level in range(boxes[s].layer + 1, boxes[t].layer):
            dummy = add(_Box("dummy", []))
            boxes[dummy].layer = level
            route.insert(-1, dummy)
    preds: list[list[int]] = [[] for _ in boxes]
    succs = [[] for _ in boxes]
    for route in routes:
        for a, b in itertools.pairwise(route):
            succs[a].append(b)
            preds[b].append(a)

    layers: list[list[int]] = [[] for _ in range(max(b.layer for b in boxes) + 1)]
    for i, box in enumerate(boxes):
        layers[box.layer].append(i)

    def renumber(layer: list[int]) -> None:
        for k, i in enumerate(layer):
            boxes[i].pos = k

    for layer in layers:
        renumber(layer)
    for layer, neighbours in _sweeps(layers, preds, succs):
        for i in layer:
            near = neighbours[i]
            if near:
                boxes[i].pos = sum(boxes[j].pos for j in near) / len(near)
        layer.sort(key=lambda i: boxes[i].pos)
        renumber(layer)

    # x: one column per layer, as wide as its widest box.
    x = _MARGIN
    for layer in layers:
        width = max(boxes[i].w for i in layer)
        for i in layer:
            boxes[i].x = x + (width - boxes[i].w) / 2
        x += width + _GAP_X
    width_total = x - _GAP_X + _MARGIN

    # y: stack each layer, then pull each box towards its neighbours' centres.
    for layer in layers:
        y = 0.0
        for i in layer:
            boxes[i].y = y
            y += boxes[i].h + _GAP_Y
    for layer, neighbours in _sweeps(layers, preds, succs):
        _settle(layer, boxes, neighbours)
    top = min(box.y for box in boxes)
    for box in boxes:
        box.y += _MARGIN - top
    height_total = max(box.y + box.h for box in boxes) + _MARGIN

    return _svg(boxes, routes, width_total, height_total)


def _sweeps(
    layers: list[list[int]], preds: list[list[int]], succs: list[list[int]]
) -> Iterator[tuple[list[int], list[list[int]]]]:
    """Layers to adjust, each with the neighbours to adjust it by: left to right
    by predecessors, then right to left by successors, ``_SWEEPS`` times in all."""
    for sweep in range(_SWEEPS):
        if sweep % 2 == 0:
            for layer in layers[1:]:
                yield layer, preds
        else:
            for layer in layers[-2::-1]:
                yield layer, succs


def _span(boxes: list[_Box], edge: tuple[int, int]) -> int:
    """How many dummy boxes the edge would need (the layers it skips)."""
    return boxes[edge[1]].layer - boxes[edge[0]].layer - 1


def _settle(layer: list[int], boxes: list[_Box], neighbours: list[list[int]]) -> None:
    """Move a layer's boxes towards their neighbours' centres, keeping their order."""
    wanted = []
    for i in layer:
        near = neighbours[i]
        if near:
            centre = sum(boxes[j].y + boxes[j].h / 2 for j in near) / len(near)
            wanted.append(centre - boxes[i].h / 2)
        else:
            wanted.append(boxes[i].y)
    # Place in order, pushing down past the previous box; then shift the whole
    # layer so that, on average, boxes sit where they want to.
    bottom = -float("inf")
    placed = []
    for i, want in zip(layer, wanted, strict=True):
        y = max(want, bottom)
        placed.append(y)
        bottom = y + boxes[i].h + _GAP_Y
    shift = sum(w - p for w, p in zip(wanted, placed, strict=True)) / len(layer)
    for i, y in zip(layer, placed, strict=True):
        boxes[i].y = y + shift


def _ports(routes: list[list[int]], boxes: list[_Box], end: int) -> list[float]:
    """Per route, a vertical offset for its end (0: start, -1: finish) on its box,
    so that edges meeting at one side of a box do not draw on top of each other."""
    at: dict[int, list[int]] = {}
    for r, route in enumerate(routes):
        at.setdefault(route[end], []).append(r)
    offsets = [0.0] * len(routes)
    near = 1 if end == 0 else -2  # the route's next node, to order the ends by
    for box, rs in at.items():
        if len(rs) < 2:
            continue
        rs.sort(key=lambda r: boxes[routes[r][near]].y)
        step = min(8.0, boxes[box].h / (len(rs) + 1))
        for k, r in enumerate(rs):
            offsets[r] = (k - (len(rs) - 1) / 2) * step
    return offsets


def _svg(
    boxes: list[_Box], routes: list[list[int]], width: float, height: float
) -> str:
    arrow = f"autograd-arrow-{next(_drawing_ids)}"
    esc = html.escape
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        'font-family="monospace" font-size="12">',
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
        '<g class="edges" fill="none" stroke="#555" stroke-width="1.2">',
    ]
    # Spread the ends of edges that share a box (x * x has two) over its side.
    ports = [_ports(routes, boxes, end) for end in (0, -1)]
    for r, route in enumerate(routes):
        points = [(boxes[i].x, boxes[i].y + boxes[i].h / 2) for i in route]
        first, last = boxes[route[0]], boxes[route[-1]]
        points[0] = (first.x + first.w, points[0][1] + ports[0][r])
        points[-1] = (last.x, points[-1][1] + ports[1][r])
        (x0, y0), rest = points[0], points[1:]
        d = [f"M{x0:.1f},{y0:.1f}"]
        for x1, y1 in rest:
            mid = (x0 + x1) / 2
            d.append(f"C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f}")
            x0, y0 = x1, y1
        out.append(f'<path d="{" ".join(d)}" marker-end="url(#{arrow})"/>')
    out.append("</g>")
    for b in boxes:
        if b.cls == "dummy":
            continue
        out.append(f'<g class="{b.cls}">')
        if b.cls == "op":
            out.append(
                f'<ellipse cx="{b.x + b.w / 2:.1f}" cy="{b.y + b.h / 2:.1f}" '
                f'rx="{b.w / 2:.1f}" ry="{b.h / 2:.1f}" fill="#f2f2f2" '
                'stroke="#333"/>'
            )
        else:
            dash = ' stroke-dasharray="4 3"' if b.cls == "const" else ""
            out.append(
                f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" '
                f'height="{b.h:.1f}" rx="3" fill="{b.fill}" stroke="#333"{dash}/>'
            )
        for k, line in enumerate(b.lines):
            weight = ' font-weight="bold"' if k == 0 and b.cls == "value" else ""
            y = b.y + _PAD / 2 + (k + 0.75) * _LINE_H
            out.append(
                f'<text x="{b.x + b.w / 2:.1f}" y="{y:.1f}" '
                f'text-anchor="middle"{weight}>{esc(line)}</text>'
            )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


# -------------------------------------------------------------------------------------
# Explaining gradients: the chain rule, path by path and step by step
# -------------------------------------------------------------------------------------


def _local(node: Value, i: int) -> Any:
    """d node / d (its input i), from the rule table, at the recorded numbers."""
    op = node._op
    assert op is not None  # only interior nodes have local derivatives
    datas = [x.data if isinstance(x, Value) else x for x in node._inputs()]
    return op.partials[i](node.data, *datas)


def _table(header: list[str], rows: list[list[str]], indent: str = "  ") -> str:
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    return "\n".join(
        indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [header, *rows]
    )


def _html_table(header: list[str], rows: list[list[str]]) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(c)}</th>" for c in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows
    )
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
        self._names = _names(_toposort(out))

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
                _show(s.local, 10),
                _show(s.upstream, 10),
                _show(s.increment, 10),
                _show(s.total, 10),
            ]
            for k, s in enumerate(self.steps, 1)
        ]

    def __str__(self) -> str:
        seed = _show(self.grads[self.out], 10)
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
    order = _toposort(out, engine_order=True)
    grads: dict[Value, Any] = {node: 0 for node in order}
    grads[out] = out.data**0  # 1 in the type of the data, as backward() seeds it
    steps = []
    for node in reversed(order):
        if node._op is None:
            continue
        upstream = grads[node]
        for i, x in enumerate(node._inputs()):
            if isinstance(x, Value):
                local = _local(node, i)
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
        self._names = _names(_toposort(out))

    def _rows(self) -> list[list[str]]:
        n = self._names
        rows = [
            [
                _path_text(nodes, slots, n),
                " · ".join(_show(f, 10) for f in factors) or "(none: wrt is out)",
                _show(product, 10),
            ]
            for (nodes, product), factors, slots in zip(
                self.paths, self.factors, self._slots, strict=True
            )
        ]
        rows.append(["sum", "", _show(self.total, 10)])
        return rows

    _HEADER: ClassVar[list[str]] = ["path", "local derivatives", "product"]

    def _title(self) -> str:
        n = self._names
        wrt = n.get(self.wrt, self.wrt.label or "wrt")
        count = len(self.paths)
        return (
            f"d({n[self.out]})/d({wrt}) = {_show(self.total, 10)}, the sum over "
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


def _path_text(
    nodes: tuple[Value, ...], slots: tuple[int, ...], names: dict[Value, str]
) -> str:
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
    order = _toposort(out)
    # How many paths lead from wrt to each node, counted in graph order.
    count: dict[Value, int] = {wrt: 1}
    for node in order:
        if node is not wrt:
            c = sum(count.get(x, 0) for x in node.parents)
            if c:
                count[node] = c
    total = count.get(out, 0)
    if total > max_paths:
        raise ValueError(
            f"explain: {total} paths lead from wrt to out, more than "
            f"max_paths={max_paths}; pass a larger max_paths, or explain a smaller "
            "graph (backward() sums them without enumerating them)"
        )
    # Enumerate them from out down to wrt, following only edges that reach wrt.
    paths: list[tuple[tuple[Value, ...], Any]] = []
    factors: list[tuple[Any, ...]] = []
    slots: list[tuple[int, ...]] = []
    # Each stack entry: a node, and the path from it up to out (nodes, local
    # derivatives and operand slots of its edges, all listed from out downwards).
    stack: list[tuple[Value, tuple[Value, ...], tuple[Any, ...], tuple[int, ...]]]
    stack = [(out, (out,), (), ())] if total else []
    while stack:
        node, nodes, locals_, edge_slots = stack.pop()
        if node is wrt:
            product = out.data**0
            for f in locals_:
                product = product * f
            paths.append((nodes[::-1], product))
            factors.append(locals_[::-1])
            slots.append(edge_slots[::-1])
            continue
        for i, x in reversed(list(enumerate(node._inputs()))):
            if isinstance(x, Value) and x in count:
                local = _local(node, i)
                stack.append((x, (*nodes, x), (*locals_, local), (*edge_slots, i)))
    grad = backward_steps(out).grads.get(wrt, 0)
    return Explanation(out, wrt, paths, factors, slots, grad)


# -------------------------------------------------------------------------------------
# Export to sympy
# -------------------------------------------------------------------------------------


def _sympy_rules(sp: Any) -> dict[str, Any]:
    """Every built-in primitive, written in sympy (the forward only: sympy
    differentiates on its own, which is what makes it an independent check)."""
    return {
        "add": lambda x, y: x + y,
        "sub": lambda x, y: x - y,
        "mul": lambda x, y: x * y,
        "truediv": lambda x, y: x / y,
        "pow": lambda x, y: x**y,
        "neg": lambda x: -x,
        "abs": sp.Abs,
        "exp": sp.exp,
        "expm1": lambda x: sp.exp(x) - 1,
        "log": sp.log,
        "log1p": lambda x: sp.log(1 + x),
        "sqrt": sp.sqrt,
        "sin": sp.sin,
        "cos": sp.cos,
        "tan": sp.tan,
        "atan": sp.atan,
        "atan2": sp.atan2,
        "hypot": lambda x, y: sp.sqrt(x**2 + y**2),
        "tanh": sp.tanh,
        "sigmoid": lambda x: 1 / (1 + sp.exp(-x)),
        "softplus": lambda x: sp.log(1 + sp.exp(x)),
        "relu": lambda x: sp.Max(x, 0),
        "erf": sp.erf,
        "maximum": sp.Max,
        "minimum": sp.Min,
    }


def _sympy_number(sp: Any, x: Any) -> Any:
    """A constant for sympy: exact for ints and Fractions, a Float otherwise."""
    if isinstance(x, int):
        return sp.Integer(x)
    if isinstance(x, Fraction):
        return sp.Rational(x.numerator, x.denominator)
    return sp.Float(float(x))


def to_sympy(out: Value, symbols: dict[Value, Any] | None = None) -> Any:
    """The sympy expression that ``out`` was computed by (needs sympy).

    Every leaf becomes a real sympy symbol named by its label; an unlabeled leaf
    is named ``_v0``, ``_v1``, ..., and a label used by two different leaves gets a
    suffix (``x``, ``x_1``). Constant operands are exact where they are ints or
    Fractions. Each built-in primitive maps to its sympy function; a primitive you
    defined becomes an undefined sympy ``Function`` of its name.

    Pass a dict as ``symbols`` to choose the symbol (or any sympy expression) of
    some leaves; it is filled in with the symbols chosen for the others, so you can
    substitute the leaves' values back: ``expr.subs({s: v.data for v, s in ...})``.

    >>> from fractions import Fraction
    >>> from autograd_scalar import Value, tanh
    >>> x, y = Value(0.5, "x"), Value(2.0, "y")
    >>> to_sympy(tanh(x * y) + x / 3)
    x/3 + tanh(x*y)
    >>> to_sympy(x * Fraction(1, 3) + 0.5)
    x/3 + 0.5
    """
    import sympy as sp  # type: ignore[import-untyped]

    if symbols is None:
        symbols = {}
    order = _toposort(out)
    rules = _sympy_rules(sp)
    taken = {str(s) for s in symbols.values()}
    unnamed = itertools.count()
    expr: dict[Value, Any] = {}
    for node in order:
        if node._op is None:
            if node not in symbols:
                name = node.label or f"_v{next(unnamed)}"
                base, k = name, 0
                while name in taken:
                    k += 1
                    name = f"{base}_{k}"
                taken.add(name)
                symbols[node] = sp.Symbol(name, real=True)
            expr[node] = symbols[node]
            continue
        args = [
            expr[x] if isinstance(x, Value) else _sympy_number(sp, x)
            for x in node._inputs()
        ]
        rule = rules.get(node.op) or sp.Function(node.op)
        expr[node] = rule(*args)
    return expr[out]
