"""Step through a backward pass on the drawing: ``stepper(out)``.

One self-contained HTML document (inline SVG from the built-in layout, an inline
script, no network, no kernel) that moves through ``backward_steps(out)`` with
buttons and a slider. At each step the node whose chain rule runs and the edge it
sends a gradient along are highlighted, and a panel shows the local derivative, the
upstream gradient, their product, and every ``.grad`` so far.

The page holds two views. A static one (the drawing as an image, and the table of
all steps) is plain HTML that any viewer shows, untrusted notebooks included, which
strip scripts. The interactive one is kept in a ``<script type="text/html">`` block
that the page's script puts in place of the static view when it runs: in a browser,
in a trusted notebook, in exported HTML. A viewer that strips scripts removes that
block with them, so it shows the static view alone, never dead buttons.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from .._engine import Value
from ._drawing import check_max_values, settings, svg_image
from ._explain import BackwardSteps, backward_steps
from ._graph import Names, names, reading_order, show
from ._layout import layout_svg
from ._scene import full_scene

_STYLE = """
.ag-stepper { font-family: sans-serif; font-size: 13px; }
.ag-stepper .ag-controls { margin: 4px 0; display: flex; gap: 8px;
  align-items: center; }
.ag-stepper .ag-controls input { flex: 1; max-width: 400px; }
.ag-stepper .ag-graph svg { max-width: 100%; height: auto; }
.ag-stepper g.ag-current rect, .ag-stepper g.ag-current ellipse {
  stroke: #d1242f; stroke-width: 3px; }
.ag-stepper g.ag-target rect { stroke: #1a7f37; stroke-width: 3px; }
.ag-stepper path.ag-current { stroke: #d1242f; stroke-width: 3px; }
.ag-stepper .ag-panel { font-family: monospace; margin-top: 6px; }
.ag-stepper .ag-panel td { padding: 1px 10px 1px 0; text-align: left; }
.ag-stepper .ag-panel tr { background: none; }
.ag-stepper .ag-changed { color: #1a7f37; font-weight: bold; }
"""

_CONTROLS = """
<div class="ag-controls">
<button type="button" data-act="prev">&#9664; prev</button>
<input type="range" min="0" max="{count}" value="0" aria-label="step">
<button type="button" data-act="next">next &#9654;</button>
<span data-field="position"></span>
</div>
"""

_PANEL = """
<div class="ag-panel">
<p data-field="headline"></p>
<table>
<tr><td>local derivative</td><td data-field="local"></td></tr>
<tr><td>upstream gradient</td><td data-field="upstream"></td></tr>
<tr><td>product, added to the input's .grad</td><td data-field="increment"></td></tr>
<tr><td>the input's .grad now</td><td data-field="total"></td></tr>
</table>
<p>.grad so far:</p>
<table data-field="grads"></table>
</div>
"""

# The script: finds its stepper (the element around it), swaps in the interactive
# view, and renders step k (0: the seed only) on every button, key or slider move.
_SCRIPT = """
(function (root) {
  var data = JSON.parse(root.querySelector(".ag-data").textContent);
  var view = document.createElement("div");
  view.className = "ag-view";
  view.innerHTML = root.querySelector(".ag-markup").textContent;
  root.querySelector(".ag-static").replaceWith(view);
  var slider = view.querySelector("input[type=range]");
  var field = function (name) {
    return view.querySelector("[data-field=" + name + "]");
  };
  var part = function (key) {
    return view.querySelector("[data-key='" + key + "']");
  };
  var k = 0;
  function render() {
    view.querySelectorAll(".ag-current, .ag-target").forEach(function (e) {
      e.classList.remove("ag-current", "ag-target");
    });
    var grads = data.grads.slice(), s = null, n = data.names;
    for (var j = 0; j < k; j++) grads[data.steps[j][1]] = data.steps[j][6];
    field("position").textContent = "step " + k + " of " + data.steps.length;
    slider.value = k;
    if (k > 0) {
      s = data.steps[k - 1];
      part("v" + s[0]).classList.add("ag-current");
      part("o" + s[0]).classList.add("ag-current");
      part("e" + s[0] + "." + s[2]).classList.add("ag-current");
      part("v" + s[1]).classList.add("ag-target");
      field("headline").textContent = n[s[0]] + " sends a gradient to " +
        n[s[1]] + " (operand " + s[2] + "): " + n[s[1]] +
        ".grad += local derivative * upstream gradient";
    } else {
      field("headline").textContent = "before the first step: " +
        n[data.out] + ".grad = " + data.grads[data.out] + " (the seed)";
    }
    var names = ["local", "upstream", "increment", "total"];
    for (var i = 0; i < 4; i++) field(names[i]).textContent = s ? s[3 + i] : "";
    var rows = "";
    for (var v = 0; v < n.length; v++) {
      var cls = s && v === s[1] ? " class='ag-changed'" : "";
      rows += "<tr" + cls + "><td></td><td></td></tr>";
    }
    for (var b = 0; b < n.length; b++) {
      var texts = part("v" + b).querySelectorAll("text");
      texts[texts.length - 1].textContent = "grad " + grads[b];
    }
    var table = field("grads");
    table.innerHTML = rows;
    for (var r = 0; r < n.length; r++) {
      table.rows[r].cells[0].textContent = n[r];
      table.rows[r].cells[1].textContent = grads[r];
    }
  }
  function go(to) { k = Math.max(0, Math.min(data.steps.length, to)); render(); }
  view.querySelector("[data-act=prev]").onclick = function () { go(k - 1); };
  view.querySelector("[data-act=next]").onclick = function () { go(k + 1); };
  slider.oninput = function () { go(parseInt(slider.value, 10)); };
  render();
})(
  // The element around this script: JupyterLab runs a copy of the script in its
  // place; the classic notebook runs it elsewhere, so find the stepper by its id.
  document.currentScript &&
    document.currentScript.parentElement.classList.contains("ag-stepper")
    ? document.currentScript.parentElement
    : document.getElementById("STEPPER_ID")
);
"""


class Stepper:
    """A backward pass to step through: see ``stepper``.

    Attributes:
        steps: the ``BackwardSteps`` it shows.
        html: the whole page, a self-contained HTML document.
    """

    def __init__(self, steps: BackwardSteps, fragment: str) -> None:
        self.steps = steps
        self._fragment = fragment
        self.html = (
            '<!doctype html>\n<html><head><meta charset="utf-8">'
            "<title>backward, step by step</title></head>\n<body>\n"
            f"{fragment}\n</body></html>\n"
        )

    def __repr__(self) -> str:
        return f"<Stepper: {len(self.steps.steps)} steps>"

    def _repr_html_(self) -> str:
        return self._fragment

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (an ``.html`` file) and return the path.

        >>> import tempfile, os
        >>> from autograd_scalar import Value
        >>> x = Value(3.0, "x")
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     page = stepper(x * x).save(os.path.join(tmp, "steps.html"))
        ...     page.read_text().startswith("<!doctype html>")
        True
        """
        path = Path(path)
        if path.suffix.lower() not in (".html", ".htm"):
            raise ValueError(
                f"Stepper.save({str(path)!r}): the suffix must be .html, "
                f"got {path.suffix!r}"
            )
        path.write_text(self.html, encoding="utf-8")
        return path


def stepper(out: Value, *, max_values: int | None = None) -> Stepper:
    """Step through ``out``'s backward pass on its drawing, one term at a time.

    Each step is one term of ``backward_steps(out)``: a node sends ``local
    derivative * upstream gradient`` to one of its inputs. The page highlights
    that node (red) and the input receiving the gradient (green), and lists every
    ``.grad`` so far; ``prev``/``next`` and the slider move through the steps
    (step 0 is the seed). Nothing is changed on the graph: no ``grad`` is touched.

    Jupyter shows it inline; ``.save("steps.html")`` writes it for a browser. In a
    notebook that is not trusted, scripts do not run, so it shows the drawing and
    the table of all steps instead. A graph of more than ``max_values`` Values
    (default ``MAX_DRAWN_VALUES``) is a ``ValueError``: its page would be too big
    to use (``backward_steps`` still lists the steps).

    >>> from autograd_scalar import Value
    >>> x, y = Value(3.0, "x"), Value(2.0, "y")
    >>> stepper(x * y + x)
    <Stepper: 4 steps>
    """
    max_values = check_max_values("stepper", max_values, settings().max_drawn)
    order = reading_order(out)
    if len(order) > max_values:
        raise ValueError(
            f"stepper: the graph has {len(order)} Values, more than "
            f"max_values={max_values}; step through a smaller graph, or list the "
            "steps with backward_steps(out)"
        )
    shown = names(order)
    steps = backward_steps(out)

    def lines(node: Value, name: str) -> list[str]:
        # the final gradient, so that the box is wide enough for it; the script
        # shows the gradient so far
        return [name, f"data {show(node.data)}", f"grad {show(steps.grads[node], 10)}"]

    svg = layout_svg(full_scene(order, out, shown, lines))
    markup = (
        f"<style>{_STYLE}</style>"
        + _CONTROLS.format(count=len(steps.steps))
        + f'<div class="ag-graph">{svg}</div>'
        + _PANEL
    )
    static = (
        '<div class="ag-static">'
        + svg_image(svg, f"the graph of {shown[out]}")
        + "<p><i>A static view: the buttons to step through need JavaScript "
        "(a trusted notebook, or the page saved with .save() in a browser).</i></p>"
        + steps._repr_html_()
        + "</div>"
    )
    # Labels in the markup are escaped (&lt;), so nothing in it closes the script.
    data = _data(order, shown, steps, out)
    # Random: outputs of an earlier session, still on the page, keep their ids.
    uid = f"ag-stepper-{uuid.uuid4().hex[:12]}"
    fragment = (
        f'<div class="ag-stepper" id="{uid}">{static}'
        f'<script type="text/html" class="ag-markup">{markup}</script>'
        '<script type="application/json" class="ag-data">'
        f"{_json_for_script(data)}</script>"
        f"<script>{_SCRIPT.replace('STEPPER_ID', uid)}</script></div>"
    )
    return Stepper(steps, fragment)


def _data(
    order: list[Value], shown: Names, steps: BackwardSteps, out: Value
) -> dict[str, Any]:
    """What the script needs: names, the grads before the first step, the steps
    (node, input and slot as positions in ``order``, numbers as shown)."""
    at = {node: i for i, node in enumerate(order)}
    grads = [show(0, 10)] * len(order)
    grads[at[out]] = show(steps.grads[out], 10)
    rows = [
        [at[s.node], at[s.input], s.slot]
        + [show(v, 10) for v in (s.local, s.upstream, s.increment, s.total)]
        for s in steps.steps
    ]
    return {
        "names": [shown[n] for n in order],
        "out": at[out],
        "grads": grads,
        "steps": rows,
    }


def _json_for_script(data: dict[str, Any]) -> str:
    """JSON that cannot close the script element it sits in (``<\\/`` is ``</``)."""
    return json.dumps(data).replace("</", "<\\/")
