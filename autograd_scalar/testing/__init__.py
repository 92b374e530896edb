"""Tools for testing gradients: a finite-difference checker, and hypothesis strategies.

``check_grad`` needs nothing beyond this package. The hypothesis strategies live in
``autograd_scalar.testing.strategies``, which imports hypothesis (the ``testing``
extra) only when you import it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from .._engine import Value
from ..functional import _name

__all__ = ["check_grad"]


def _reverse_grads(
    f: Callable[..., Any], args: Sequence[float], create_graph: bool = False
) -> tuple[list[Value], list[Any]]:
    xs = [Value(a) for a in args]
    out = f(*xs)
    if not isinstance(out, Value):
        return xs, [0 for _ in xs]  # f ignored its inputs: a constant
    out.backward(create_graph=create_graph)
    return xs, [x.grad for x in xs]


def _reverse_hessian(f: Callable[..., Any], args: Sequence[float]) -> list[list[Any]]:
    """Second derivatives, reverse over reverse: row i is the gradient of df/dargi."""
    xs, first = _reverse_grads(f, args, create_graph=True)
    rows = []
    for gi in first:
        for x in xs:
            x.grad = 0
        if isinstance(gi, Value):  # otherwise df/dargi is a constant: its row is 0
            gi.backward()
        rows.append([x.grad for x in xs])
    return rows


def _ith_grad(f: Callable[..., Any], i: int, point: list[float]) -> Any:
    return _reverse_grads(f, point)[1][i]


def _central_difference(
    g: Callable[[list[float]], Any], args: Sequence[float], i: int, eps: float
) -> Any:
    h = eps * max(1.0, abs(float(args[i])))
    up = [float(a) for a in args]
    down = list(up)
    up[i] += h
    down[i] -= h
    return (g(up) - g(down)) / (2 * h)


def _close(got: Any, want: Any, atol: float, rtol: float) -> bool:
    return bool(abs(got - want) <= atol + rtol * abs(want))


def check_grad(
    f: Callable[..., Any],
    *args: float,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    order: int = 1,
    raise_exception: bool = True,
) -> bool:
    """Check reverse-mode derivatives of ``f`` at ``args`` against finite differences.

    ``f`` takes numbers or Values and returns one. Each partial derivative from
    ``backward()`` is compared with a central difference (step ``eps`` scaled by the
    argument's size), passing when ``|got - want| <= atol + rtol * |want|``. With
    ``order=2`` the second derivatives (from ``backward(create_graph=True)``) are
    checked too, against central differences of the first.

    Returns True. On a mismatch raises ``AssertionError`` naming the function, the
    point, the argument and both numbers, or returns False if ``raise_exception``
    is false.

    >>> import autograd_scalar as ag
    >>> check_grad(lambda x, y: ag.sin(x) * y, 0.5, 2.0, order=2)
    True
    >>> # A wrong rule (d/dx x**3 is 3x**2), made without registering it:
    >>> bad = ag.Primitive("bad_cube", lambda x: x**3, (lambda ans, x: 2 * x**2,))
    >>> check_grad(bad, 1.3)
    Traceback (most recent call last):
    ...
    AssertionError: bad_cube at (1.3,): d/darg0 is 3.38 by backward, 5.07 by ...
    """
    if order not in (1, 2):
        raise ValueError(f"check_grad: order must be 1 or 2, got {order!r}")
    for i, a in enumerate(args):
        if isinstance(a, Value) or (
            not isinstance(a, int | float) and not hasattr(a, "__float__")
        ):
            raise TypeError(
                f"check_grad: argument {i} must be a number, "
                f"got {type(a).__name__}: {a!r}"
            )

    def value(point: list[float]) -> Any:
        out = f(*point)
        return out.data if isinstance(out, Value) else out

    def fail(what: str, got: Any, want: Any) -> bool:
        message = (
            f"{_name(f)} at {tuple(args)!r}: {what} is {got:.6g} by backward, "
            f"{want:.6g} by finite differences"
        )
        if raise_exception:
            raise AssertionError(message)
        return False

    _, grads = _reverse_grads(f, args)
    for i, got in enumerate(grads):
        want = _central_difference(value, args, i, eps)
        if not _close(got, want, atol, rtol):
            return fail(f"d/darg{i}", got, want)
    if order == 2:
        for i, row in enumerate(_reverse_hessian(f, args)):
            for j, got in enumerate(row):
                # d/dargj of the reverse-mode d/dargi, by central differences
                want = _central_difference(partial(_ith_grad, f, i), args, j, eps)
                if not _close(got, want, atol, rtol):
                    return fail(f"d2/darg{i}darg{j}", got, want)
    return True
