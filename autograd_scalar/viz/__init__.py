"""See the graph: draw it, explain its gradients, step through backward, export it.

- ``to_dot(root)``: the graph as Graphviz DOT text (standard library only).
- ``draw(root)``: a drawing Jupyter displays (as SVG, and as HTML that untrusted
  notebooks and repository pages render too) and ``.save()`` writes as ``.svg`` or
  ``.dot``. It uses Graphviz when the ``graphviz`` package and the ``dot`` program
  are both installed, and otherwise lays the graph out itself, in pure Python; a
  graph of more than ``MAX_DRAWN_VALUES`` Values is drawn summarised.
- ``explain(out, wrt)``: the multivariate chain rule made visible: every path from
  ``wrt`` to ``out``, the product of the local derivatives along it, and their sum.
- ``backward_steps(out)``: a reverse pass recorded step by step (node, local
  derivative, increment), giving the same gradients as ``out.backward()``.
- ``stepper(out)``: those steps in one HTML page, with buttons to move through
  them on the drawing; shown in Jupyter, written by ``.save("steps.html")``.
- ``to_sympy(out)``: the graph as a sympy expression (needs sympy).

Nothing in the core imports this package. Every node gets one display name, shared
by all of the above: its ``label``, or for an unlabeled node its operation and its
number among the nodes of that operation in reading order (``mul#2``, the third
product written; ``leaf#0`` for a leaf).

Where each part lives: ``_drawing`` (``to_dot``, ``draw``, ``Drawing``), ``_scene``
and ``_layout`` (the built-in layout), ``_summary`` (big graphs), ``_explain``
(``explain``, ``backward_steps``), ``_stepper``, ``_sympy``; ``_graph`` holds what
they share (reading order, names, number display).

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

from ._drawing import (
    GRAPHVIZ_MAX_VALUES,
    GRAPHVIZ_TIMEOUT,
    MAX_DRAWN_VALUES,
    SUMMARY_VALUES,
    Drawing,
    draw,
    to_dot,
)
from ._explain import BackwardSteps, Explanation, Step, backward_steps, explain
from ._stepper import Stepper, stepper
from ._sympy import _sympy_rules as _sympy_rules  # tests/test_rules.py reads it
from ._sympy import to_sympy

__all__ = [
    "GRAPHVIZ_MAX_VALUES",
    "GRAPHVIZ_TIMEOUT",
    "MAX_DRAWN_VALUES",
    "SUMMARY_VALUES",
    "BackwardSteps",
    "Drawing",
    "Explanation",
    "Step",
    "Stepper",
    "backward_steps",
    "draw",
    "explain",
    "stepper",
    "to_dot",
    "to_sympy",
]
