"""Traced replay: run a function of Values once, replay it fast on plain numbers.

``trace(f, *example_args)`` records f's graph and writes it as Python source that
computes the value and the gradient from numbers, with no graph built; over numpy
arrays it computes them at every point at once. How it is built, one concern a
module:

- ``_traced``: ``trace()`` and ``Traced``, the runtime (guards, staleness, when to
  trace again, pickling);
- ``_bindings``: what replay checks besides the arguments;
- ``_program``: one trace compiled, by ``_builder`` (numbering the graph),
  ``_loops`` (finding repetition), ``_emit_forward`` and ``_emit_backward``
  (writing source from the rule table's templates, ``_templates``);
- ``vectorized``: replay over numpy arrays (the only module that imports numpy).

>>> g = trace(lambda x, y: x * y + y, 2.0, 3.0)
>>> g.value_and_grad(4.0, 5.0)
(25.0, (5.0, 5.0))
"""

from ._traced import Traced, trace

__all__ = ["Traced", "trace"]
