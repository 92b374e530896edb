"""The built-in layout: a graph of boxes to SVG, in pure Python.

Longest-path layering (inputs left, outputs right), dummy boxes on edges that skip
layers, a few barycenter sweeps to reduce crossings, then each layer's boxes moved
towards their neighbours without overlapping. Linear in the boxes and edges but for
the sorts within a layer; ``draw`` gives it at most ``MAX_DRAWN_VALUES`` Values.

A ``Scene`` is what gets laid out: boxes and the edges between them (no cycles).
Each box and edge may carry a ``key``, written into the SVG as ``data-key`` so that
a script can find it (the stepper highlights the node and the edge of the current
step that way).
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Iterator

_CHAR_W = 7.2  # width of one character of 12px monospace
_LINE_H = 15.0
_PAD = 8.0
_GAP_X = 46.0
_GAP_Y = 14.0
_MARGIN = 10.0
_SWEEPS = 4
_DUMMIES_PER_BOX = 1
_drawing_ids = itertools.count()


class Box:
    """One box: ``cls`` is "value", "op", "const", "summary" or "dummy"."""

    __slots__ = ("cls", "fill", "h", "key", "layer", "lines", "pos", "w", "x", "y")

    def __init__(
        self, cls: str, lines: list[str], fill: str = "#ffffff", key: str = ""
    ) -> None:
        self.cls = cls
        self.lines = lines
        self.fill = fill
        self.key = key
        longest = max((len(s) for s in lines), default=0)
        self.w = longest * _CHAR_W + 2 * _PAD if lines else 0.0
        self.h = len(lines) * _LINE_H + _PAD if lines else 2.0
        self.layer = 0
        self.pos = 0.0
        self.x = 0.0
        self.y = 0.0


class Scene:
    """Boxes and the edges between them; ``note`` is a line drawn above them."""

    def __init__(self) -> None:
        self.boxes: list[Box] = []
        self.edges: list[tuple[int, int]] = []
        self.edge_keys: list[str] = []
        self.note = ""

    def add(self, box: Box) -> int:
        self.boxes.append(box)
        return len(self.boxes) - 1

    def edge(self, src: int, dst: int, key: str = "") -> None:
        self.edges.append((src, dst))
        self.edge_keys.append(key)


def layout_svg(scene: Scene) -> str:
    """Lay the scene out and return it as SVG text."""
    boxes = scene.boxes
    if not boxes:
        raise ValueError("layout_svg: the scene has no boxes")
    _assign_layers(boxes, scene.edges)
    routes = _routes(boxes, scene.edges)
    preds: list[list[int]] = [[] for _ in boxes]
    succs: list[list[int]] = [[] for _ in boxes]
    for route in routes:
        for a, b in itertools.pairwise(route):
            succs[a].append(b)
            preds[b].append(a)
    layers: list[list[int]] = [[] for _ in range(max(b.layer for b in boxes) + 1)]
    for i, box in enumerate(boxes):
        layers[box.layer].append(i)
    _order_layers(layers, boxes, preds, succs)
    width = _place_x(layers, boxes)
    height = _place_y(layers, boxes, preds, succs)
    if scene.note:
        for box in boxes:
            box.y += _LINE_H + _PAD
        height += _LINE_H + _PAD
        width = max(width, len(scene.note) * _CHAR_W + 2 * _MARGIN)
    return _svg(boxes, routes, scene, width, height)


def _assign_layers(boxes: list[Box], edges: list[tuple[int, int]]) -> None:
    """Longest-path layers, boxes taken in topological order (Kahn's algorithm);
    then sources (leaves, constants) move right, next to their first consumer."""
    succs: list[list[int]] = [[] for _ in boxes]
    preds: list[list[int]] = [[] for _ in boxes]
    for s, t in edges:
        succs[s].append(t)
        preds[t].append(s)
    waiting = [len(p) for p in preds]
    ready = [i for i, w in enumerate(waiting) if w == 0]
    for box in boxes:
        box.layer = 0
    done = 0
    while ready:
        i = ready.pop()
        done += 1
        for t in succs[i]:
            boxes[t].layer = max(boxes[t].layer, boxes[i].layer + 1)
            waiting[t] -= 1
            if waiting[t] == 0:
                ready.append(t)
    if done != len(boxes):
        raise ValueError("layout_svg: the scene's edges form a cycle")
    for i in range(len(boxes) - 1, -1, -1):
        if succs[i] and not preds[i]:
            boxes[i].layer = min(boxes[t].layer for t in succs[i]) - 1


def _routes(boxes: list[Box], edges: list[tuple[int, int]]) -> list[list[int]]:
    """Each edge as a route of boxes: edges that skip layers get dummy boxes, so
    they bend around the boxes between. Dummies cost time, so there is a budget,
    spent on the shortest edges first; a longer edge is drawn as one curve."""
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
            dummy = Box("dummy", [])
            dummy.layer = level
            boxes.append(dummy)
            route.insert(-1, len(boxes) - 1)
    return routes


def _span(boxes: list[Box], edge: tuple[int, int]) -> int:
    """How many dummy boxes the edge would need (the layers it skips)."""
    return boxes[edge[1]].layer - boxes[edge[0]].layer - 1


def _order_layers(
    layers: list[list[int]],
    boxes: list[Box],
    preds: list[list[int]],
    succs: list[list[int]],
) -> None:
    """Order each layer by the barycenters of its neighbours' positions."""

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


def _place_x(layers: list[list[int]], boxes: list[Box]) -> float:
    """One column per layer, as wide as its widest box; returns the total width."""
    x = _MARGIN
    for layer in layers:
        width = max(boxes[i].w for i in layer)
        for i in layer:
            boxes[i].x = x + (width - boxes[i].w) / 2
        x += width + _GAP_X
    return x - _GAP_X + _MARGIN


def _place_y(
    layers: list[list[int]],
    boxes: list[Box],
    preds: list[list[int]],
    succs: list[list[int]],
) -> float:
    """Stack each layer, then pull each box towards its neighbours' centres;
    returns the total height."""
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
    return max(box.y + box.h for box in boxes) + _MARGIN


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


def _settle(layer: list[int], boxes: list[Box], neighbours: list[list[int]]) -> None:
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


def _ports(routes: list[list[int]], boxes: list[Box], end: int) -> list[float]:
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


def _key(key: str) -> str:
    return f' data-key="{key}"' if key else ""


def _edge_paths(
    boxes: list[Box], routes: list[list[int]], keys: list[str], arrow: str
) -> Iterator[str]:
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
        yield f'<path d="{" ".join(d)}" marker-end="url(#{arrow})"{_key(keys[r])}/>'


def _box_svg(b: Box) -> Iterator[str]:
    yield f'<g class="{b.cls}"{_key(b.key)}>'
    if b.cls == "op":
        yield (
            f'<ellipse cx="{b.x + b.w / 2:.1f}" cy="{b.y + b.h / 2:.1f}" '
            f'rx="{b.w / 2:.1f}" ry="{b.h / 2:.1f}" fill="#f2f2f2" stroke="#333"/>'
        )
    else:
        dash = ' stroke-dasharray="4 3"' if b.cls in ("const", "summary") else ""
        yield (
            f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" '
            f'height="{b.h:.1f}" rx="3" fill="{b.fill}" stroke="#333"{dash}/>'
        )
    for k, line in enumerate(b.lines):
        bold = k == 0 and b.cls in ("value", "summary")
        weight = ' font-weight="bold"' if bold else ""
        y = b.y + _PAD / 2 + (k + 0.75) * _LINE_H
        yield (
            f'<text x="{b.x + b.w / 2:.1f}" y="{y:.1f}" '
            f'text-anchor="middle"{weight}>{html.escape(line)}</text>'
        )
    yield "</g>"


def _svg(
    boxes: list[Box], routes: list[list[int]], scene: Scene, width: float, height: float
) -> str:
    arrow = f"autograd-arrow-{next(_drawing_ids)}"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
        'font-family="monospace" font-size="12">',
        # userSpaceOnUse: a highlighted (thicker) edge keeps the same arrowhead
        f'<defs><marker id="{arrow}" viewBox="0 0 10 10" refX="10" refY="5" '
        'markerUnits="userSpaceOnUse" markerWidth="8.4" markerHeight="8.4" '
        'orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
        '<g class="edges" fill="none" stroke="#555" stroke-width="1.2">',
        *_edge_paths(boxes, routes, scene.edge_keys, arrow),
        "</g>",
    ]
    if scene.note:
        out.append(
            f'<text class="note" x="{_MARGIN}" y="{_MARGIN + _LINE_H * 0.75:.1f}" '
            f'font-style="italic">{html.escape(scene.note)}</text>'
        )
    for b in boxes:
        if b.cls != "dummy":
            out.extend(_box_svg(b))
    out.append("</svg>")
    return "\n".join(out)
