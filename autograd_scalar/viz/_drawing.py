"""Drawing: the graph as DOT text, and as a picture Jupyter shows anywhere.

- ``to_dot(root)``: the whole graph as Graphviz DOT text (standard library only).
- ``draw(root)``: a ``Drawing``, laid out by Graphviz when the ``graphviz`` package
  and the ``dot`` program are both installed, and otherwise by the built-in layout
  (``_layout``), in pure Python. A graph of more than ``MAX_DRAWN_VALUES`` Values is
  drawn summarised (``_summary``), with a note saying so.
- ``Drawing``: shows in Jupyter as SVG and as HTML holding the SVG as an image
  scaled to the width of the output, which untrusted notebooks, repository pages
  and exported HTML all render; ``.save()`` writes ``.svg`` or ``.dot``.
"""

from __future__ import annotations

import base64
import html
import shutil
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal, NamedTuple

from .._engine import Value
from ._graph import FILL, kind, names, reading_order, show, value_lines
from ._layout import layout_svg
from ._scene import full_scene
from ._summary import summary_scene

GRAPHVIZ_MAX_VALUES = 200
"""The largest graph (in Values) that ``draw(engine="auto")`` gives to Graphviz."""

GRAPHVIZ_TIMEOUT = 5.0
"""Seconds ``draw(engine="auto")`` waits for Graphviz before using the built-in layout.

Graphviz's time is hard to predict from a graph's size (a 180-Value chain of
``sin(r*x + x)`` can take many seconds), so "auto" bounds it by the clock.
"""

MAX_DRAWN_VALUES = 2000
"""The largest graph (in Values) that ``draw`` draws whole; a bigger one is drawn
summarised, in at most ``SUMMARY_VALUES`` boxes (``draw(max_values=...)`` changes it).
"""

SUMMARY_VALUES = 300
"""How many boxes (Values and collapsed boxes) a summarised drawing has at most."""


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
    return _dot(reading_order(root), root)


def _dot(order: list[Value], root: Value, graph_attributes: str = "") -> str:
    shown = names(order)
    index = {node: i for i, node in enumerate(order)}
    out = [
        "digraph autograd {",
        f"  rankdir=LR;{graph_attributes}",
        "  node [shape=box, style=filled, fillcolor=white, fontname=monospace, "
        "fontsize=10];",
    ]
    constants = 0
    for i, node in enumerate(order):
        fill = FILL[kind(node, root)]
        label = _dot_string(value_lines(node, shown[node]))
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
                    f"  c{constants} [style=dashed, label={_dot_string([show(x)])}];"
                )
                out.append(f"  c{constants} -> v{i}_op;")
                constants += 1
    out.append("}")
    return "\n".join(out)


class Drawing:
    """A drawn graph: Jupyter shows it; ``save`` writes ``.svg`` or ``.dot``.

    In Jupyter it offers two forms: the SVG itself, and HTML holding the SVG as a
    ``data:image/svg+xml;base64`` image scaled to the width of the output. The HTML
    form is what untrusted notebooks, repository pages and exported HTML render.

    Attributes:
        svg: the picture, as SVG text.
        dot: the whole graph, as DOT text (``to_dot``), made when first read.
        engine: ``"graphviz"`` or ``"builtin"``, whichever laid it out.
        note: ``""``, or for a summarised drawing what was collapsed (also written
            above the picture).

    >>> from autograd_scalar import Value
    >>> d = draw(Value(2, "x") * 3, engine="builtin")
    >>> d.engine, d.svg.startswith("<svg"), d.note
    ('builtin', True, '')
    """

    def __init__(
        self,
        svg: str,
        dot: str | Callable[[], str],
        engine: str,
        size: int,
        note: str = "",
    ) -> None:
        self.svg = svg
        self._dot = dot
        self.engine = engine
        self.note = note
        self._size = size

    @property
    def dot(self) -> str:
        if not isinstance(self._dot, str):
            self._dot = self._dot()
        return self._dot

    def __repr__(self) -> str:
        how = ", summarised" if self.note else ""
        return f"<Drawing of {self._size} values{how}, laid out by {self.engine}>"

    def _repr_html_(self) -> str:
        caption = f"<p><i>{html.escape(self.note)}</i></p>" if self.note else ""
        return svg_image(self.svg, repr(self)) + caption

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> dict[str, str]:
        return {
            "image/svg+xml": self.svg,
            "text/html": self._repr_html_(),
            "text/plain": repr(self),
        }

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


def svg_image(svg: str, alt: str) -> str:
    """HTML showing ``svg`` as an image no wider than its container."""
    data = base64.b64encode(svg.encode()).decode("ascii")
    return (
        f'<img src="data:image/svg+xml;base64,{data}" alt="{html.escape(alt)}" '
        'style="max-width: 100%; height: auto;">'
    )


def draw(
    root: Value,
    *,
    engine: Literal["auto", "graphviz", "builtin"] = "auto",
    max_values: int | None = None,
) -> Drawing:
    """Draw the graph below ``root``; in Jupyter, the result shows as a picture.

    ``engine="auto"`` uses Graphviz when the ``graphviz`` package (the ``viz``
    extra) and its ``dot`` program are both installed and the graph has at most
    ``GRAPHVIZ_MAX_VALUES`` Values, and the built-in pure-Python layout otherwise,
    or if Graphviz fails: drawing never fails for want of a system package.
    ``"graphviz"`` insists on Graphviz (and draws the whole graph, however big);
    ``"builtin"`` never uses it.

    A graph of more than ``max_values`` Values (default ``MAX_DRAWN_VALUES``) is
    drawn summarised by the built-in layout: long chains and what hangs off them
    collapse into dashed boxes, then the earliest values into one, leaving at most
    ``SUMMARY_VALUES`` boxes, with a note above the picture (``Drawing.note``).
    So a big graph never stalls a notebook: a chain of 100,000 operations draws in
    a fraction of a second, as a few kilobytes. ``to_dot``, ``explain`` and
    ``backward_steps`` still see every node.

    >>> from autograd_scalar import Value
    >>> x = Value(3, "x")
    >>> y = (x * x).tanh()
    >>> draw(y, engine="builtin")
    <Drawing of 3 values, laid out by builtin>
    >>> for _ in range(10_000):
    ...     y = y.tanh()
    >>> draw(y)
    <Drawing of 10003 values, summarised, laid out by builtin>
    """
    if engine not in ("auto", "graphviz", "builtin"):
        raise ValueError(
            f"draw(engine={engine!r}): expected 'auto', 'graphviz' or 'builtin'"
        )
    limits = settings()
    max_values = check_max_values("draw", max_values, limits.max_drawn)
    order = reading_order(root)
    shown = names(order)
    if engine != "graphviz" and len(order) > max_values:
        limit = max(2, min(limits.summary, max_values))  # the output, and one box
        scene = summary_scene(order, root, shown, limit)
        svg = layout_svg(scene)
        return Drawing(
            svg, lambda: _dot(order, root), "builtin", len(order), scene.note
        )
    dot = _dot(order, root)
    if engine == "graphviz" or (engine == "auto" and len(order) <= limits.graphviz_max):
        # Cap Graphviz's crossing-minimization and network-simplex iterations:
        # seconds instead of minutes on big tangled graphs, the same on small ones.
        tuned = _dot(order, root, " mclimit=0.2; nslimit=2; nslimit1=2;")
        required = engine == "graphviz"
        timeout = None if required else limits.graphviz_timeout
        picture = _graphviz_svg(tuned, required, timeout)
        if picture is not None:
            return Drawing(picture, dot, "graphviz", len(order))
    svg = layout_svg(full_scene(order, root, shown))
    return Drawing(svg, dot, "builtin", len(order))


class _Settings(NamedTuple):
    max_drawn: int
    summary: int
    graphviz_max: int
    graphviz_timeout: float


def settings() -> _Settings:
    """The limits above as the package has them now, so that setting one on the
    package (``viz.GRAPHVIZ_TIMEOUT = 30``) takes effect."""
    from autograd_scalar import viz

    return _Settings(
        viz.MAX_DRAWN_VALUES,
        viz.SUMMARY_VALUES,
        viz.GRAPHVIZ_MAX_VALUES,
        viz.GRAPHVIZ_TIMEOUT,
    )


def check_max_values(where: str, max_values: int | None, default: int) -> int:
    if max_values is None:
        return default
    if isinstance(max_values, bool) or not isinstance(max_values, int):
        raise TypeError(f"{where}(max_values={max_values!r}): expected an int")
    if max_values < 1:
        raise ValueError(f"{where}(max_values={max_values!r}): expected an int >= 1")
    return max_values


def _graphviz_svg(dot: str, required: bool, timeout: float | None) -> str | None:
    """Graphviz's SVG of ``dot``, or None when it is missing, fails or takes longer
    than ``timeout`` seconds (unless ``required``, when that is an error)."""
    try:
        import graphviz  # type: ignore[import-untyped]
    except ImportError:
        if required:
            raise RuntimeError(
                "draw(engine='graphviz') needs the graphviz package: "
                "pip install 'autograd_scalar[viz]'"
            ) from None
        return None
    del graphviz  # only its presence is asked for; dot runs with a time limit below
    program = shutil.which("dot")
    if program is None:
        if required:
            raise RuntimeError(
                "draw(engine='graphviz') needs Graphviz's dot program on PATH"
            )
        return None
    try:
        done = subprocess.run(
            [program, "-Tsvg"],
            input=dot.encode(),
            capture_output=True,
            timeout=timeout,
            check=True,
        )
        svg = done.stdout.decode()
    except (OSError, subprocess.SubprocessError):
        # a slow or broken Graphviz must not stall or break a notebook
        if required:
            raise
        return None
    # Drop the XML prolog and doctype so the SVG can be inlined into HTML.
    start = svg.find("<svg")
    return str(svg[start:] if start >= 0 else svg)
