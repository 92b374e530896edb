"""Running a parsed expression: its value, gradient and Hessian at a point.

``evaluate`` runs a postfix ``Program`` on numbers or Values; ``differentiate`` gives
the value, the gradient (one reverse pass) and, on request, the Hessian from
``autograd_scalar.functional.hessian`` (reverse over reverse), turning the
mathematics' errors into ``EvaluationError``. Nothing here recurses on the
expression: a program is a flat list and the engine's passes are iterative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autograd_scalar import functional
from autograd_scalar._engine import Value

from ._parser import _PUSH, INTEGER_INPUTS, EvaluationError, Program, UsageError

__all__ = ["MAX_HESSIAN_WORK", "Result", "differentiate", "evaluate"]

MAX_HESSIAN_WORK = 3_000_000
"""Bound on (variables in the expression) x (nodes of the gradient's graph).

``--hessian`` differentiates each first derivative once more; this keeps that under a
few seconds.
"""


def evaluate(program: Program, env: dict[str, Any]) -> Any:
    """Run a program on numbers or Values bound to its variables.

    A domain error or overflow raises ``EvaluationError`` at the failing operation.

    >>> from autograd_scalar.cli import parse
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
        for k in INTEGER_INPUTS.get(arg.name, ()):
            if type(args[k]) is float and args[k].is_integer():
                args[k] = int(args[k])
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

    The Hessian is ``autograd_scalar.hessian`` of the expression as a function of
    the variables, in the order of ``point``.

    >>> from autograd_scalar.cli import parse
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
        root.backward()
        grads = {name: float(leaf.grad) for name, leaf in leaves.items()}
        table = _hessian(program, point) if hessian else None
    except (ArithmeticError, ValueError) as err:
        raise EvaluationError("while differentiating: " + _math_message(err)) from None
    return Result(float(root.data), grads, table)


def _check_hessian_work(program: Program) -> None:
    """--hessian makes one pass per variable over the gradient's graph: bound it."""
    nodes = 3 * len(program.instructions)  # a gradient graph: ~3 nodes per operation
    passes = len(program.variables)
    if passes * nodes > MAX_HESSIAN_WORK:
        raise UsageError(
            f"--hessian would take {passes} passes over a graph of about "
            f"{nodes:,} nodes; the limit is {MAX_HESSIAN_WORK:,} (passes x nodes)"
        )


def _hessian(program: Program, point: dict[str, float]) -> dict[str, dict[str, float]]:
    """The Hessian by ``autograd_scalar.hessian``, as {row: {column: number}}."""
    names = list(point)

    def f(*values: Any) -> Any:
        return evaluate(program, dict(zip(names, values, strict=True)))

    rows = functional.hessian(f)(*point.values())
    return {
        name: {other: float(number) for other, number in zip(names, row, strict=True)}
        for name, row in zip(names, rows, strict=True)
    }
