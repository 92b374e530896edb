"""The command line's arguments and output: ``main``, the options, the printouts.

``main(argv)`` reads EXPR and the NAME=VALUE arguments, hands EXPR to the parser
(``._parser``) and the program to ``differentiate`` (``._evaluate``), and prints a
table or JSON; ``--dot``, ``--svg`` and ``--source`` write the graph and the traced
code. Every rejection is one line naming the problem, then EXPR with a caret under
the offending column.
"""

from __future__ import annotations

import argparse
import inspect
import json
import keyword
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from autograd_scalar._engine import Value
from autograd_scalar._rules import registered

from ._evaluate import MAX_HESSIAN_WORK, Result, differentiate, evaluate
from ._parser import (
    CONSTANTS,
    FUNCTIONS,
    MAX_LENGTH,
    EvaluationError,
    Program,
    UsageError,
    parse,
    read_value,
)

__all__ = ["MAX_GRAPH_OUTPUT", "MAX_VARIABLES", "console", "main"]

PROG = "autograd-scalar"

MAX_VARIABLES = 1_000
"""Most variables accepted on one command line."""

MAX_GRAPH_OUTPUT = 20_000
"""Largest expression (postfix instructions: operands and operations) that ``--dot``,
``--svg`` or ``--source`` will write out: a drawing or a listing beyond is unreadable,
and slow to make."""

_EPILOG = f"""\
examples:
  %(prog)s "x*y + sin(x)" x=2 y=3
  %(prog)s "sigmoid(w*x + b)" w=0.5 x=2 b=-1 --hessian
  %(prog)s "atan2(y, x)" x=1 y=1 --json
  %(prog)s "log(1 + exp(x))" x=1 --dot graph.dot --svg graph.svg --source
  %(prog)s -- "-x**2" x=3          (use -- when EXPR starts with '-')

grammar:
  numbers (1, 2.5, 1e-3, 0x1f, 1_000), the variables, the constants pi and e,
  + - * / ** with Python's precedence (-x**2 is -(x**2), 2**3**2 is 2**9),
  unary - and +, parentheses, and calls of the functions
    {" ".join(f for f in FUNCTIONS if registered()[f].arity == 1)}
    {" ".join(f + "(x, y)" for f in FUNCTIONS if registered()[f].arity == 2)}
  Anything else (attributes, subscripts, strings, keyword arguments, comparisons,
  other operators, unknown names) is rejected with a caret under the offending
  column. The expression is never passed to eval, exec or Python's parser.

numbers:
  Literals and variables are floats and all arithmetic is in floats. + - *
  overflow to inf as Python floats do; ** and the functions raise an error
  instead (so 9**9**9**9 stops at once). A literal or a variable's value
  (NAME=2, NAME=-0.5, NAME=1e-3, NAME=0x10) must be a finite float: one too
  large, or one a float rounds to 0.0 (1e-400), is rejected. Results print
  inf, -inf and nan as they are; --json writes them as the strings "inf",
  "-inf" and "nan".

limits:
  EXPR: at most {MAX_LENGTH:,} printable ASCII characters, nested as deeply as
  that allows (a sum of 100,000 terms, 99,999 nested parentheses). At most
  {MAX_VARIABLES:,} variables. --hessian (computed by autograd_scalar.hessian):
  at most {MAX_HESSIAN_WORK:,} (variables used x nodes of the gradient's graph).
  --dot, --svg, --source: at most {MAX_GRAPH_OUTPUT:,} operands and operations.

exit status:
  0 success; 1 the mathematics failed (log(0), 1/0, overflow) or a file could
  not be written; 2 the command line was rejected (an option, the expression,
  a variable, a limit).
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        usage="%(prog)s [options] [--] EXPR [NAME=VALUE ...]",
        description=(
            "Differentiate an arithmetic expression: print its value and its "
            "gradient with respect to every variable, by reverse-mode automatic "
            "differentiation with autograd_scalar."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "arguments",
        metavar="EXPR NAME=VALUE",
        nargs="*",
        help="the expression (quoted), then a value for each variable: x=2 y=-0.5",
    )
    parser.add_argument(
        "--hessian", action="store_true", help="also print the second derivatives"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help='print {"value": ..., "grad": {...}, "hessian": {...}} instead',
    )
    parser.add_argument("--dot", metavar="FILE", help="write the graph as Graphviz DOT")
    parser.add_argument("--svg", metavar="FILE", help="write the graph as SVG")
    parser.add_argument(
        "--source",
        action="store_true",
        help="print the traced forward and backward code",
    )
    return parser


def _point(bindings: Sequence[str]) -> dict[str, float]:
    """NAME=VALUE arguments as {name: value}, each checked."""
    if len(bindings) > MAX_VARIABLES:
        raise UsageError(
            f"{len(bindings):,} variables given; the limit is {MAX_VARIABLES:,}"
        )
    point: dict[str, float] = {}
    for binding in bindings:
        name, sep, text = binding.partition("=")
        shown = binding if len(binding) <= 60 else binding[:57] + "..."
        if not sep:
            raise UsageError(f"expected NAME=VALUE, got {shown!a}")
        if not (name.isascii() and name.isidentifier()) or keyword.iskeyword(name):
            raise UsageError(
                f"{name[:60]!a} is not a valid variable name (in {shown!a})"
            )
        if name in FUNCTIONS or name in CONSTANTS:
            kind = "function" if name in FUNCTIONS else "constant"
            raise UsageError(f"{name} is a {kind}: it cannot be a variable")
        if name in point:
            raise UsageError(f"variable {name} is given twice")
        try:
            value = read_value(text.strip())
        except ValueError as err:
            raise UsageError(f"{name}={_shown(text)!a}: {err}") from None
        point[name] = value
    return point


def _shown(text: str) -> str:
    return text if len(text) <= 60 else f"{text[:28]}...{text[-28:]}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line on ``argv`` (default: ``sys.argv[1:]``); the exit status.

    >>> main(["x**2", "x=3"])
    f = x**2
    at x = 3.0
    <BLANKLINE>
    f = 9.0
    <BLANKLINE>
    name  value  df/dname
    x     3.0    6.0
    0
    """
    try:
        args, expression, bindings = _parse_arguments(argv)
    except SystemExit as exit_:  # --help, or a usage error already printed
        return exit_.code if isinstance(exit_.code, int) else 2
    try:
        return _run(args, expression, bindings, sys.stdout)
    except UsageError as err:
        _report(err, expression, sys.stderr)
        return err.status
    except KeyboardInterrupt:
        return 130


def _parse_arguments(
    argv: Sequence[str] | None,
) -> tuple[argparse.Namespace, str, list[str]]:
    """Options anywhere; after ``--`` only EXPR and NAME=VALUE (EXPR may start '-').

    ``parse_intermixed_args`` mishandles ``--``, so the tail is split off here.
    """
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    tail: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, tail = argv[:cut], argv[cut + 1 :]
    args = parser.parse_intermixed_args(argv)
    positional = [*args.arguments, *tail]
    if not positional:
        parser.error("the expression EXPR is missing")
    return args, positional[0], positional[1:]


def _run(
    args: argparse.Namespace, expression: str, bindings: list[str], out: TextIO
) -> int:
    point = _point(bindings)
    program = parse(expression, list(point))
    _check_output_size(program, args)
    result = differentiate(program, point, hessian=args.hessian)
    source = _source(program, point) if args.source else None
    if args.dot or args.svg:
        _draw(program, point, args.dot, args.svg)
    if args.json:
        out.write(_to_json(result, source) + "\n")
    else:
        out.write(_table(expression, point, result, args))
        if source is not None:
            out.write("\n" + source.rstrip("\n") + "\n")
    return 0


def _report(err: UsageError, expression: str, stream: TextIO) -> None:
    """One line naming the problem; then EXPR (or a window of it) with a caret."""
    column = err.column
    where = "" if column is None else f"column {column + 1}: "
    stream.write(f"{PROG}: error: {where}{err}\n")
    if column is None:
        return
    start = max(0, column - 50)
    end = min(len(expression), column + 30)
    # Anything but printable ASCII shows as "?", so the caret stays aligned.
    snippet = "".join(c if " " <= c <= "~" else "?" for c in expression[start:end])
    prefix = "..." if start > 0 else ""
    suffix = "..." if end < len(expression) else ""
    stream.write(f"  {prefix}{snippet}{suffix}\n")
    stream.write("  " + " " * (len(prefix) + column - start) + "^\n")


# -- optional features: graph drawing and traced source --------------------------------


def _check_output_size(program: Program, args: argparse.Namespace) -> None:
    size = len(program.instructions)
    if size > MAX_GRAPH_OUTPUT and (args.dot or args.svg or args.source):
        option = "--dot" if args.dot else "--svg" if args.svg else "--source"
        raise UsageError(
            f"{option}: the expression has {size:,} operands and operations; "
            f"graphs and traces are written up to {MAX_GRAPH_OUTPUT:,}"
        )


def _draw(
    program: Program, point: dict[str, float], dot: str | None, svg: str | None
) -> None:
    """Write the graph, with first-order gradients, as DOT and/or SVG."""
    from autograd_scalar import viz  # imported on demand: python -m starts faster

    leaves = {name: Value(value, label=name) for name, value in point.items()}
    root = evaluate(program, leaves)  # a fresh graph: --hessian leaves Values in grad
    if not isinstance(root, Value):
        raise UsageError("no graph to draw: the expression uses no variable")
    root.backward()
    try:
        if dot:
            Path(dot).write_text(viz.to_dot(root), encoding="utf-8")
        if svg:
            # The built-in layout: no external program, time linear in the graph.
            drawing = viz.draw(root, engine="builtin")
            Path(svg).write_text(drawing.svg, encoding="utf-8")
    except OSError as err:
        raise EvaluationError(f"cannot write the graph: {err}") from None


def _source(program: Program, point: dict[str, float]) -> str:
    """The traced replay of EXPR at ``point``: straight-line forward and backward."""
    from autograd_scalar.tape import trace

    names = list(point)

    def f(*values: Any) -> Any:
        return evaluate(program, dict(zip(names, values, strict=True)))

    # Named parameters, so the traced code reads x and y rather than x0 and x1.
    f.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY) for n in names]
    )
    return str(trace(f, *point.values()).source)


# -- output -------------------------------------------------------------------------


def _to_json(result: Result, source: str | None) -> str:
    doc: dict[str, Any] = {
        "value": _json_number(result.value),
        "grad": {k: _json_number(v) for k, v in result.grad.items()},
    }
    if result.hessian is not None:
        doc["hessian"] = {
            k: {j: _json_number(v) for j, v in row.items()}
            for k, row in result.hessian.items()
        }
    if source is not None:
        doc["source"] = source
    return json.dumps(doc, allow_nan=False)


def _json_number(x: float) -> float | str:
    """A float, or "nan" / "inf" / "-inf": JSON has no such numbers."""
    return x if math.isfinite(x) else repr(x)


def _table(
    expression: str,
    point: dict[str, float],
    result: Result,
    args: argparse.Namespace,
) -> str:
    shown = expression if len(expression) <= 200 else expression[:197] + "..."
    lines = [f"f = {shown.strip()}"]
    if point:
        lines.append("at " + ", ".join(f"{k} = {v!r}" for k, v in point.items()))
    lines += ["", f"f = {result.value!r}"]
    if point:
        rows = [["name", "value", "df/dname"]]
        rows += [[k, repr(v), repr(result.grad[k])] for k, v in point.items()]
        lines += ["", *_columns(rows)]
    if result.hessian is not None and point:
        rows = [["d2f/(drow dcol)", *point]]
        rows += [
            [k, *(repr(v) for v in row.values())] for k, row in result.hessian.items()
        ]
        lines += ["", *_columns(rows)]
    for option, path in (("DOT", args.dot), ("SVG", args.svg)):
        if path:
            lines += ["", f"graph written as {option} to {path}"]
    return "\n".join(lines) + "\n"


def _columns(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def console() -> NoReturn:
    """The ``autograd-scalar`` console script: ``main()`` as the exit status."""
    raise SystemExit(main())
