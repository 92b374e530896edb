"""Grad modes as decorators of every kind of function, and shared across tasks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

import autograd_scalar as ag
from autograd_scalar import Value


def _records() -> bool:
    """Whether an operation here records a graph (checked on a real operation)."""
    return not (Value(1.0) * 2).is_leaf


class TestDecoratedFunctions:
    """no_grad() applies to the body of whatever kind of function it decorates."""

    def test_async_function(self) -> None:
        """An async def decorated with no_grad records nothing, across awaits."""

        @ag.no_grad()
        async def f() -> tuple[bool, bool]:
            before = _records()
            await asyncio.sleep(0)
            return before, _records()

        assert asyncio.run(f()) == (False, False)
        assert _records()

    def test_generator_function(self) -> None:
        """A decorated generator computes in no_grad; its caller keeps recording."""

        @ag.no_grad()
        def gen() -> Iterator[bool]:
            for _ in range(3):
                yield _records()
            return

        seen = []
        for inside in gen():
            seen.append((inside, _records()))
        assert seen == [(False, True)] * 3

    def test_generator_send_throw_and_return(self) -> None:
        """send() reaches the generator, throw() is passed in, return value kept."""

        @ag.no_grad()
        def echo() -> Iterator[object]:
            got = yield "start"
            try:
                yield (got, _records())
            except KeyError:
                yield ("caught", _records())
            return

        g = echo()
        assert next(g) == "start"
        assert g.send(5) == (5, False)
        assert g.throw(KeyError("k")) == ("caught", False)
        with pytest.raises(StopIteration):
            next(g)

        @ag.no_grad()
        def returns() -> Iterator[int]:
            yield 1
            return 7

        r = returns()
        next(r)
        with pytest.raises(StopIteration) as stop:
            next(r)
        assert stop.value.value == 7

    def test_async_generator_function(self) -> None:
        """A decorated async generator computes in no_grad; its consumer records."""

        @ag.no_grad()
        async def agen() -> AsyncIterator[bool]:
            for _ in range(2):
                await asyncio.sleep(0)
                yield _records()

        async def main() -> list[tuple[bool, bool]]:
            return [(inside, _records()) async for inside in agen()]

        assert asyncio.run(main()) == [(False, True)] * 2

    def test_wraps_keeps_name_and_doc(self) -> None:
        """The decorated function keeps its name and docstring."""

        @ag.no_grad()
        def named() -> None:
            """Doc."""

        assert named.__name__ == "named" and named.__doc__ == "Doc."


class TestSharedInstance:
    """One mode object may be entered by several tasks at once."""

    def test_interleaved_tasks(self) -> None:
        """Two asyncio tasks enter and leave one no_grad() instance interleaved."""
        shared = ag.no_grad()

        async def task(delay_in: int, delay_out: int) -> tuple[bool, bool]:
            for _ in range(delay_in):
                await asyncio.sleep(0)
            with shared:
                for _ in range(delay_out):
                    await asyncio.sleep(0)
                inside = _records()
            return inside, _records()

        async def main() -> list[tuple[bool, bool]]:
            return list(await asyncio.gather(task(0, 3), task(1, 1)))

        assert asyncio.run(main()) == [(False, True), (False, True)]

    def test_nested_reentry(self) -> None:
        """Entering the same instance twice nests, and leaving restores each level."""
        mode = ag.no_grad()
        with mode:
            with ag.enable_grad():
                with mode:
                    assert not _records()
                assert _records()
            assert not _records()
        assert _records()
