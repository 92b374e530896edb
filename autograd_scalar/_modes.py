"""Grad modes: whether operations on Values record a graph, here and now.

One context variable holds the mode, so each thread and each asyncio task has its
own; the engine reads it (``_mode()``) at every operation. ``no_grad``,
``enable_grad`` and ``detect_anomaly`` set it for a block or a decorated function.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from types import TracebackType
from typing import Any, Final, TypeVar

__all__ = ["detect_anomaly", "enable_grad", "is_grad_enabled", "no_grad"]


_RECORD: Final = 1  # build the graph (the default)
_NO_GRAD: Final = 0  # build nothing: results are leaves
_ANOMALY: Final = 2  # build the graph, checking every value and local derivative

_MODE: ContextVar[int] = ContextVar("autograd_scalar_mode", default=_RECORD)
_mode = _MODE.get


# The modes a block entered, innermost last, so each can put back the one before it.
# A context variable too: one instance entered by two interleaved asyncio tasks keeps
# each task's stack apart (a token from ContextVar.set may only be reset where it was
# made).
_SAVED: ContextVar[tuple[int, ...]] = ContextVar("autograd_scalar_saved", default=())
_F = TypeVar("_F", bound=Callable[..., Any])


class _Mode:
    _mode: int

    def __enter__(self) -> None:
        _SAVED.set((*_SAVED.get(), _mode()))
        _MODE.set(self._mode)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        *saved, previous = _SAVED.get()
        _SAVED.set(tuple(saved))
        _MODE.set(previous)

    def __call__(self, func: _F) -> _F:
        """Decorate ``func`` so that its body runs in this mode.

        Plain, ``async def``, generator and async generator functions all work: a
        generator runs in the mode while it computes each item, and its caller keeps
        its own mode between items (as PyTorch's ``no_grad`` does).
        """
        import inspect  # here: decorating is rare, and import time counts

        mode = type(self)
        wrapper: Callable[..., Any]
        if inspect.isasyncgenfunction(func):

            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                agen = func(*args, **kwargs)
                try:
                    with mode():
                        item = await agen.__anext__()
                    while True:
                        try:
                            sent = yield item
                        except GeneratorExit:
                            with mode():
                                await agen.aclose()
                            raise
                        except BaseException as exc:  # thrown in: passed on
                            with mode():
                                item = await agen.athrow(exc)
                        else:
                            with mode():
                                item = await agen.asend(sent)
                except StopAsyncIteration:
                    return

        elif inspect.isgeneratorfunction(func):

            def wrapper(*args: Any, **kwargs: Any) -> Any:
                gen = func(*args, **kwargs)
                try:
                    with mode():
                        item = next(gen)
                    while True:
                        try:
                            sent = yield item
                        except GeneratorExit:
                            with mode():
                                gen.close()
                            raise
                        except BaseException as exc:  # thrown in: passed on
                            with mode():
                                item = gen.throw(exc)
                        else:
                            with mode():
                                item = gen.send(sent)
                except StopIteration as stop:
                    return stop.value

        elif inspect.iscoroutinefunction(func):

            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                with mode():
                    return await func(*args, **kwargs)

        else:

            def wrapper(*args: Any, **kwargs: Any) -> Any:
                with mode():
                    return func(*args, **kwargs)

        return functools.wraps(func)(wrapper)  # type: ignore[return-value]  # same signature as func


class no_grad(_Mode):  # noqa: N801 -- PyTorch's name for the same thing
    """Record no graph inside this block: operations on Values give leaves.

    Works as a context manager or a decorator, per thread and per asyncio task.

    >>> from autograd_scalar import Value
    >>> x = Value(2.0)
    >>> with no_grad():
    ...     y = x * x
    >>> y.op, y.parents
    ('', ())
    """

    _mode = _NO_GRAD


class enable_grad(_Mode):  # noqa: N801 -- PyTorch's name for the same thing
    """Record the graph again inside a ``no_grad`` block.

    >>> from autograd_scalar import Value
    >>> with no_grad():
    ...     with enable_grad():
    ...         y = Value(2.0) * 3
    >>> y.op
    'mul'
    """

    _mode = _RECORD


class detect_anomaly(_Mode):  # noqa: N801 -- PyTorch's name for the same thing
    """Raise ``FloatingPointError`` at the first nan or inf value or local derivative.

    Inside this block every operation checks its result and its local partial
    derivatives; the error names the operation, its inputs, and the file and line
    that created the node.

    >>> import autograd_scalar as ag
    >>> with detect_anomaly():
    ...     ag.log(ag.Value(0.0) + 1e-320) * 0  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FloatingPointError: log(1e-320): local derivative is inf (created at ...)
    """

    _mode = _ANOMALY


def is_grad_enabled() -> bool:
    """Whether operations on Values record a graph here and now.

    >>> is_grad_enabled()
    True
    """
    return _mode() != _NO_GRAD
