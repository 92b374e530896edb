"""The command line: differentiate an arithmetic expression, safely.

``python -m autograd_scalar "x*y + sin(x)" x=2 y=3`` (or the ``autograd-scalar``
console script) prints the expression's value and its gradient with respect to every
variable; ``--hessian`` adds the second derivatives, ``--json`` prints the same as JSON,
``--dot`` / ``--svg`` draw the graph and ``--source`` prints the traced forward and
backward code.

The package has three parts, each usable on its own:

- ``_parser``: the expression language. ``parse(EXPR, variables)`` checks EXPR
  against a small grammar (numbers, variables, ``pi`` and ``e``, ``+ - * / **``,
  unary ``-`` and ``+``, parentheses, calls of the library's functions) and compiles
  it to a postfix ``Program``. It is never handed to ``eval``, ``exec``, ``compile``
  or ``ast``, never recurses, and changes no process-wide state.
- ``_evaluate``: ``evaluate(program, env)`` and ``differentiate(program, point)``
  (value, gradient, and the Hessian from ``autograd_scalar.hessian``).
- ``_main``: ``main(argv)``: the options, the NAME=VALUE arguments, the table, the
  JSON, the error lines with a caret, ``--dot``/``--svg``/``--source``.

Exit status: 0 on success; 1 when the mathematics fails (``log(0)``, ``1/0``,
an overflow) or a file cannot be written; 2 when the command line is rejected (an
option, the expression, a variable, a limit).

>>> main(["x*y + sin(x)", "x=2", "y=3", "--json"])
{"value": 6.909297426825682, "grad": {"x": 2.5838531634528574, "y": 2.0}}
0
"""

from ._evaluate import MAX_HESSIAN_WORK, Result, differentiate, evaluate
from ._main import MAX_GRAPH_OUTPUT, MAX_VARIABLES, console, main
from ._parser import (
    CONSTANTS,
    FUNCTIONS,
    MAX_LENGTH,
    EvaluationError,
    Program,
    UsageError,
    parse,
)

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_GRAPH_OUTPUT",
    "MAX_HESSIAN_WORK",
    "MAX_LENGTH",
    "MAX_VARIABLES",
    "EvaluationError",
    "Program",
    "Result",
    "UsageError",
    "console",
    "differentiate",
    "evaluate",
    "main",
    "parse",
]
