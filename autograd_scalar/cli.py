"""The command line: differentiate an arithmetic expression, safely.

``python -m autograd_scalar "x*y + sin(x)" x=2 y=3`` (or the ``autograd-scalar``
console script) prints the expression's value and its gradient with respect to every
variable; ``--hessian`` adds the second derivatives, ``--json`` prints the same as JSON,
``--dot`` / ``--svg`` draw the graph and ``--source`` prints the traced forward and
backward code.

The expression is never handed to ``eval``, ``exec`` or ``compile``. It is parsed with
``ast`` and checked against a small grammar; whatever falls outside it is rejected with
one line naming the problem and a caret under the offending column::

    expr     := number | name | expr OP expr | ("-" | "+") expr | "(" expr ")"
              | function "(" expr ["," expr] ")"
    OP       := "+" | "-" | "*" | "/" | "**"
    number   := an int or float literal (1, 2.5, 1e-3, 0x1f, 1_000), read as a float
    name     := a variable given as NAME=VALUE, or the constant pi or e
    function := exp log sqrt sin cos tan atan tanh sigmoid relu softplus log1p
                expm1 erf abs (one argument); atan2 hypot maximum minimum (two)

Everything is evaluated in floats, so ``9**9**9**9`` overflows at once instead of
building a huge integer. The work is bounded: at most ``MAX_LENGTH`` characters of
printable ASCII, at most ``MAX_VARIABLES`` variables, ``--hessian`` at most
``MAX_HESSIAN_WORK`` (variables x graph nodes), and ``--dot``, ``--svg``, ``--source``
at most ``MAX_GRAPH_OUTPUT`` operands and operations. Parsing, evaluation and
differentiation never recurse on the expression, so a sum of 100,000 terms works.

Exit status: 0 on success; 1 when the mathematics fails (``log(0)``, ``1/0``,
an overflow) or a file cannot be written; 2 when the command line is rejected (an
option, the expression, a variable, a limit).

>>> main(["x*y + sin(x)", "x=2", "y=3", "--json"])
{"value": 6.909297426825682, "grad": {"x": 2.5838531634528574, "y": 2.0}}
0
"""

from __future__ import annotations

import argparse
import ast
import inspect
import json
import keyword
import math
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TextIO, cast

import autograd_scalar

from ._engine import Value
from ._rules import _BUILTIN, registered

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
    "differentiate",
    "evaluate",
    "main",
    "parse",
]

PROG = "autograd-scalar"

MAX_LENGTH = 200_000
"""Longest expression accepted, in characters (a sum of 100,000 one-letter terms)."""

MAX_VARIABLES = 1_000
"""Most variables accepted on one command line."""

MAX_HESSIAN_WORK = 3_000_000
"""Bound on (variables in the expression) x (nodes of the gradient's graph).

``--hessian`` differentiates each first derivative once more; this keeps that under a
few seconds.
"""

FUNCTIONS: tuple[str, ...] = (
    *(
        name
        for name in registered()
        if name in _BUILTIN and name in autograd_scalar.__all__  # exported functions
    ),
    "abs",  # the table's abs, called as Python's abs()
)
"""The functions an expression may call: the library's built-in functions, read from
the rule table (a built-in exported at the top level is callable here at once)."""

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
"""Names an expression may use without giving them a value."""

_OPERATORS: dict[type[ast.AST], str] = {
    ast.Add: "add",
    ast.Sub: "sub",
    ast.Mult: "mul",
    ast.Div: "truediv",
    ast.Pow: "pow",
}

# What the rejected constructs are called in error messages.
_DESCRIPTIONS: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access is",
    ast.Subscript: "subscripts are",
    ast.Slice: "slices are",
    ast.Lambda: "lambda is",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "generator expressions are",
    ast.Compare: "comparisons are",
    ast.BoolOp: "'and' and 'or' are",
    ast.IfExp: "conditional expressions are",
    ast.NamedExpr: "assignment expressions (:=) are",
    ast.List: "lists are",
    ast.Tuple: "tuples are",
    ast.Set: "sets are",
    ast.Dict: "dicts are",
    ast.JoinedStr: "f-strings are",
    ast.Starred: "starred arguments are",
    ast.Await: "await is",
    ast.Yield: "yield is",
    ast.YieldFrom: "yield is",
}
_OPERATOR_SYMBOLS: dict[type[ast.AST], str] = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.Invert: "~",
    ast.Not: "not",
}

MAX_GRAPH_OUTPUT = 20_000
"""Largest expression (postfix instructions: operands and operations) that ``--dot``,
``--svg`` or ``--source`` will write out: a drawing or a listing beyond is unreadable,
and slow to make."""

_PARSE_STACK_BYTES = 64 * 2**20
"""Stack of the thread that parses: ``ast`` builds its tree recursively in C."""
_PARSE_LOCK = threading.Lock()


# -------------------------------------------------------------------------------------
# Errors
# -------------------------------------------------------------------------------------


class UsageError(Exception):
    """The command line is rejected (exit status 2), optionally at a column of EXPR.

    >>> try:
    ...     parse("x + y.real", ["x", "y"])
    ... except UsageError as err:
    ...     print(err.column, err)
    4 attribute access is not allowed
    """

    status = 2

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.column = column


class EvaluationError(UsageError):
    """The mathematics failed (exit status 1): a domain error, an overflow.

    >>> try:
    ...     evaluate(parse("1 + log(x)", ["x"]), {"x": 0.0})
    ... except EvaluationError as err:
    ...     print(err.column, err)
    4 ValueError: log(0.0): math domain error
    """

    status = 1


# -------------------------------------------------------------------------------------
# Parsing: EXPR -> a flat postfix program
# -------------------------------------------------------------------------------------

# One instruction: (what, argument, column). ``what`` is _PUSH (argument: a float or
# a variable's name) or _APPLY (argument: the Primitive, which pops its arity).
_PUSH = 0
_APPLY = 1
Instruction = tuple[int, Any, int]


@dataclass(frozen=True)
class Program:
    """A checked expression as postfix instructions, and the variables it reads."""

    instructions: list[Instruction]
    variables: frozenset[str]


def parse(expression: str, variables: Sequence[str] = ()) -> Program:
    """Check ``expression`` against the grammar and compile it to a postfix program.

    Raises ``UsageError`` (with the column) for anything outside the grammar.

    >>> p = parse("x*2 + sin(x)", ["x"])
    >>> [what for what, _, _ in p.instructions], sorted(p.variables)
    ([0, 0, 1, 0, 1, 1], ['x'])
    """
    _check_text(expression)
    stripped = expression.lstrip(" ")  # ast calls leading blanks an indent
    shift = len(expression) - len(stripped)
    if not stripped.strip():
        raise UsageError("the expression is empty", len(expression))
    result: list[Program | BaseException] = []

    def work() -> None:
        try:
            tree = _parse_ast(stripped, shift)
            try:
                compiler = _Compiler(expression, shift, frozenset(variables))
                result.append(compiler.run(tree))
            finally:
                _dismantle(tree)
        except BaseException as err:  # handed to the calling thread
            result.append(err)

    _run_with_big_stack(work)
    out = result[0]
    if isinstance(out, BaseException):
        raise out
    return out


def _check_text(expression: str) -> None:
    if len(expression) > MAX_LENGTH:
        raise UsageError(
            f"the expression is {len(expression):,} characters long; "
            f"the limit is {MAX_LENGTH:,}"
        )
    for column, char in enumerate(expression):
        if not " " <= char <= "~":
            raise UsageError(
                f"character {char!a} is not allowed (printable ASCII only)", column
            )


def _run_with_big_stack(work: Callable[[], None]) -> None:
    """Run ``work`` in a thread whose stack fits the deepest tree ``ast`` may build.

    ``ast.parse`` converts its tree to Python objects recursively, raising
    ``RecursionError`` past three times the recursion limit; a sum of n terms is a
    tree n deep. The limit is raised to cover ``MAX_LENGTH`` and the thread's stack
    sized for it; where a platform refuses the stack size, work runs here with the
    limits unchanged (deep input is then a clean "too deeply nested" error).
    """
    with _PARSE_LOCK:  # the stack size and the recursion limit are process-wide
        try:
            previous_size = threading.stack_size(_PARSE_STACK_BYTES)
        except (ValueError, RuntimeError):
            work()
            return
        previous_limit = sys.getrecursionlimit()
        try:
            sys.setrecursionlimit(max(previous_limit, MAX_LENGTH // 3 + 1_000))
            thread = threading.Thread(target=work, name=PROG + "-parse", daemon=True)
            try:
                thread.start()
            except RuntimeError:  # no memory for the stack: parse here, within limits
                sys.setrecursionlimit(previous_limit)
                work()
            else:
                thread.join()
        finally:
            threading.stack_size(previous_size)
            sys.setrecursionlimit(previous_limit)


def _parse_ast(source: str, shift: int) -> ast.Expression:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning: "perhaps a comma?"
            return ast.parse(source, mode="eval")
    except SyntaxError as err:
        column = (err.offset or 0) - 1
        if not 0 <= column < len(source):
            column = len(source)  # Python's "unexpected end": point past the end
        raise UsageError(_syntax_message(err), column + shift) from None
    except (RecursionError, MemoryError):
        raise UsageError(
            "the expression is nested too deeply to parse (Python's parser allows "
            "200 nested parentheses and about 3,000 nested signs or powers)"
        ) from None


def _syntax_message(err: SyntaxError) -> str:
    message = (err.msg or "invalid syntax").split("\n")[0]
    return f"syntax error: {message}"


class _Compiler:
    """Checks a tree against the grammar and emits postfix code, without recursion.

    Columns: ``ast`` counts UTF-8 bytes, which are characters here (EXPR is ASCII),
    from the start of the parsed text, which is EXPR less ``shift`` leading blanks.
    """

    def __init__(self, expression: str, shift: int, variables: frozenset[str]) -> None:
        self.expression = expression
        self.shift = shift
        self.variables = variables
        self.prims = registered()
        self.instructions: list[Instruction] = []
        self.used: set[str] = set()

    def run(self, tree: ast.Expression) -> Program:
        """Check nodes in pre-order (the leftmost, outermost problem is reported
        first) and emit them in post-order (operands before their operation)."""
        stack: list[tuple[ast.AST, bool]] = [(tree.body, False)]
        while stack:
            node, checked = stack.pop()
            if checked:
                self.emit(node)
                continue
            operands = self.check(node)
            if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd):
                stack.append((node.operand, False))  # +x is x: nothing to emit
            elif operands:
                stack.append((node, True))
                stack.extend((child, False) for child in reversed(operands))
            else:
                self.emit(node)
        return Program(self.instructions, frozenset(self.used))

    def column(self, node: ast.AST) -> int:
        return getattr(node, "col_offset", 0) + self.shift

    def operator_column(self, left: ast.expr) -> int:
        """The column of the operator after ``left`` (past blanks and parentheses)."""
        column = (left.end_col_offset or 0) + self.shift
        while column < len(self.expression) and self.expression[column] in " )":
            column += 1
        return column

    def check(self, node: ast.AST) -> list[ast.expr]:
        """Reject ``node`` unless the grammar allows it; return its operands."""
        column = self.column(node)
        if isinstance(node, ast.Constant):
            if type(node.value) not in (int, float):
                raise UsageError(f"{_constant_kind(node.value)} not allowed", column)
            return []
        if isinstance(node, ast.Name):
            self.check_name(node.id, column)
            return []
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _OPERATORS:
                raise UsageError(
                    f"operator {_symbol(node.op)} is not allowed (only + - * / **)",
                    self.operator_column(node.left),
                )
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub | ast.UAdd):
                raise UsageError(
                    f"operator {_symbol(node.op)} is not allowed (only unary - and +)",
                    column,
                )
            return [node.operand]
        if isinstance(node, ast.Call):
            return self.check_call(node, column)
        if isinstance(node, ast.Compare):
            column = self.operator_column(node.left)
        elif isinstance(node, ast.BoolOp):
            column = self.operator_column(node.values[0])
        kind = _DESCRIPTIONS.get(type(node), f"{type(node).__name__} expressions are")
        raise UsageError(f"{kind} not allowed", column)

    def check_name(self, name: str, column: int) -> None:
        if name in self.variables or name in CONSTANTS:
            return
        if name in FUNCTIONS:
            raise UsageError(f"{name} is a function: call it, as in {name}(x)", column)
        raise UsageError(
            f"unknown name {name!r}: give its value as {name}=NUMBER "
            "(or use a function or the constant pi or e)",
            column,
        )

    def check_call(self, node: ast.Call, column: int) -> list[ast.expr]:
        func = node.func
        if isinstance(func, ast.Attribute):
            raise UsageError("attribute access is not allowed", self.column(func))
        if not isinstance(func, ast.Name):
            raise UsageError("only functions can be called", column)
        name = func.id
        if name not in FUNCTIONS:
            known = name in self.variables or name in CONSTANTS
            raise UsageError(
                f"{name}() is not a function ({'a variable' if known else 'unknown'});"
                " the functions are: " + " ".join(FUNCTIONS),
                column,
            )
        for keyword_ in node.keywords:
            raise UsageError(
                f"{name}() takes no keyword arguments", self.column(keyword_)
            )
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise UsageError("starred arguments are not allowed", self.column(arg))
        arity = self.prims[name].arity
        if len(node.args) != arity:
            raise UsageError(
                f"{name}() takes {arity} argument{'s' * (arity > 1)}, "
                f"got {len(node.args)}",
                column,
            )
        return list(node.args)

    def emit(self, node: ast.AST) -> None:
        """Append the instruction for a checked node."""
        column = self.column(node)
        if isinstance(node, ast.Constant):
            try:
                number = float(cast(float, node.value))  # checked: an int or a float
            except OverflowError:
                number = math.inf
            if not math.isfinite(number):
                raise UsageError("number out of range for a float", column)
            code: Instruction = (_PUSH, number, column)
        elif isinstance(node, ast.Name):
            if node.id in CONSTANTS:
                code = (_PUSH, CONSTANTS[node.id], column)
            else:
                self.used.add(node.id)
                code = (_PUSH, node.id, column)
        elif isinstance(node, ast.BinOp):
            prim = self.prims[_OPERATORS[type(node.op)]]
            code = (_APPLY, prim, self.operator_column(node.left))
        elif isinstance(node, ast.UnaryOp):  # unary minus (unary plus emits nothing)
            code = (_APPLY, self.prims["neg"], column)
        else:
            assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            code = (_APPLY, self.prims[node.func.id], column)  # checked: a function
        self.instructions.append(code)


def _symbol(op: ast.AST) -> str:
    return _OPERATOR_SYMBOLS.get(type(op), type(op).__name__)


def _constant_kind(value: object) -> str:
    if isinstance(value, bool):
        return "True and False are"
    if value is None:
        return "None is"
    if value is Ellipsis:
        return "the ellipsis (...) is"
    kinds = {str: "strings are", bytes: "bytes are", complex: "complex numbers are"}
    return kinds.get(type(value), f"{type(value).__name__} constants are")


def _dismantle(tree: ast.AST) -> None:
    """Free a deep tree without deep recursion in the deallocator."""
    stack = [tree]
    while stack:
        node = stack.pop()
        for field, value in ast.iter_fields(node):
            if isinstance(value, ast.AST):
                stack.append(value)
            elif isinstance(value, list):
                stack.extend(v for v in value if isinstance(v, ast.AST))
            setattr(node, field, None)


# -------------------------------------------------------------------------------------
# Evaluation and differentiation
# -------------------------------------------------------------------------------------


def evaluate(program: Program, env: dict[str, Any]) -> Any:
    """Run a program on numbers or Values bound to its variables.

    A domain error or overflow raises ``EvaluationError`` at the failing operation.

    >>> evaluate(parse("x**2 + 1", ["x"]), {"x": 3.0})
    10.0
    """
    stack: list[Any] = []
    push = stack.append
    for what, arg, column in program.instructions:
        if what == _PUSH:
            push(env[arg] if type(arg) is str else arg)
            continue
        n = arg.arity
        args = stack[-n:]
        del stack[-n:]
        try:
            push(arg(*args))
        except (ArithmeticError, ValueError) as err:
            raise EvaluationError(_math_message(err), column) from None
    return stack[0]


def _math_message(err: BaseException) -> str:
    text = str(err)
    # Python's float ** reports an overflow as errno 34, "(34, 'Numerical ...')".
    text = text.replace("(34, 'Numerical result out of range')", "result too large")
    return f"{type(err).__name__}: {text}"


@dataclass
class Result:
    """The value, gradient and (optionally) Hessian of an expression at a point."""

    value: float
    grad: dict[str, float]
    hessian: dict[str, dict[str, float]] | None


def differentiate(
    program: Program, point: dict[str, float], hessian: bool = False
) -> Result:
    """Evaluate at ``point`` and differentiate with respect to every variable.

    >>> r = differentiate(parse("x*y", ["x", "y"]), {"x": 2.0, "y": 3.0}, True)
    >>> r.value, r.grad, r.hessian["x"]
    (6.0, {'x': 3.0, 'y': 2.0}, {'x': 0.0, 'y': 1.0})
    """
    if hessian:
        _check_hessian_work(program)
    leaves = {name: Value(value, label=name) for name, value in point.items()}
    root = evaluate(program, leaves)
    if not isinstance(root, Value):  # no variable is used: a constant
        zeros = dict.fromkeys(point, 0.0)
        table = {name: dict(zeros) for name in point} if hessian else None
        return Result(float(root), zeros, table)
    try:
        root.backward(create_graph=hessian)
        grads = {name: leaf.grad for name, leaf in leaves.items()}
        table = _hessian(program, leaves, grads) if hessian else None
    except (ArithmeticError, ValueError) as err:
        raise EvaluationError("while differentiating: " + _math_message(err)) from None
    return Result(
        float(root.data),
        {name: float(_number(g)) for name, g in grads.items()},
        table,
    )


def _check_hessian_work(program: Program) -> None:
    """--hessian makes one pass per variable over the gradient's graph: bound it."""
    nodes = 3 * len(program.instructions)  # a gradient graph: ~3 nodes per operation
    passes = len(program.variables)
    if passes * nodes > MAX_HESSIAN_WORK:
        raise UsageError(
            f"--hessian would take {passes} passes over a graph of about "
            f"{nodes:,} nodes; the limit is {MAX_HESSIAN_WORK:,} (passes x nodes)"
        )


def _hessian(
    program: Program, leaves: dict[str, Value], grads: dict[str, Any]
) -> dict[str, dict[str, float]]:
    """Row i: the gradient of the i-th first derivative (a Value graph)."""
    used = [name for name in leaves if name in program.variables]
    table = {name: dict.fromkeys(leaves, 0.0) for name in leaves}
    for name in used:
        g = grads[name]
        if not isinstance(g, Value):
            continue  # a constant first derivative: its row is zero
        for leaf in leaves.values():
            leaf.grad = 0
        g.backward()
        for other, leaf in leaves.items():
            table[name][other] = float(_number(leaf.grad))
    return table


def _number(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x


# -------------------------------------------------------------------------------------
# The command line
# -------------------------------------------------------------------------------------

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
  column. The expression is never passed to eval or exec.

numbers:
  Literals and variables are floats and all arithmetic is in floats. + - *
  overflow to inf as Python floats do; ** and the functions raise an error
  instead (so 9**9**9**9 stops at once). Variable values must be finite.
  --json writes nan and infinities as the strings "nan", "inf" and "-inf".

limits:
  EXPR: at most {MAX_LENGTH:,} printable ASCII characters (a sum of 50,000
  terms is fine; Python's parser allows 200 nested parentheses and about 3,000
  nested signs or powers). At most {MAX_VARIABLES:,} variables. --hessian: at
  most {MAX_HESSIAN_WORK:,} (variables used x nodes of the gradient's graph).
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
            value = float(text) if len(text) <= 100 else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise UsageError(f"{name}={text[:60]!a}: the value must be a finite number")
        point[name] = value
    return point


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
    from . import viz  # imported on demand: python -m starts faster

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
    from .tape import trace

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
