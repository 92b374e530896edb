"""One trace of f, compiled: builder, loop finder and emitters run in turn.

``compile_trace`` turns one recorded run of f into a ``Program``: the source of
``value_and_grad`` (and of ``value``, the forward alone), compiled, and the check
that tells when the Values it read have changed (``stale``). The generated source is
registered with ``linecache``, so tracebacks and debuggers show it.
"""

from __future__ import annotations

import gc
import itertools
import linecache
import re
import weakref
from collections.abc import Callable
from typing import Any

from .._engine import Value, _data
from ._bindings import stale_check
from ._builder import Decision, Graph, build
from ._emit_backward import emit_backward
from ._emit_forward import emit_forward
from ._loops import find_blocks, prepare_blocks
from ._templates import _Names

_SERIAL = itertools.count()


class Program:
    """The compiled code of one trace, and what checks it still holds.

    ``value_and_grad(*args)`` returns ``(value, (grads...))`` (over arrays, with the
    mask of points where every guard holds last); ``value(*args)`` the value alone.
    Only the code is kept: the trace's graph goes (for a big step, some 100k objects
    that every full garbage collection would otherwise walk).
    """

    __slots__ = (
        "_namespace",
        "_value",
        "forward_source",
        "source",
        "stale",
        "value_and_grad",
    )

    def __init__(self, graph: Graph, blocks: list[Any], out: Any) -> None:
        forward = emit_forward(graph, blocks)
        if graph.out_index >= 0:
            result = graph.code[graph.out_index]
        else:  # a number, or a leaf f made or closes over
            if type(out) is Value:
                graph.leaves[out] = out.data
            result = graph.names.literal(_data(out))
        self.stale = stale_check(graph.leaves)
        backward, grads = emit_backward(graph, blocks)
        signature = ", ".join(graph.params)
        grads_tuple = ", ".join(grads) + ("," if graph.nargs == 1 else "")
        tail = ""  # on arrays, the mask of points where every guard holds
        if graph.vector:
            forward.insert(0, "_ok = True")
            tail = ", _ok"
        body = ["# forward", *forward, "# backward", *backward]
        value_body = forward
        returns = f"return {result}, ({grads_tuple}){tail}\n"
        value_returns = f"return {result}{tail}\n"
        if graph.vector:
            body = free_early(body, returns, graph.params)
            value_body = free_early(forward, value_returns, graph.params)
        self.source = "\n    ".join(
            [f"def value_and_grad({signature}):", *body, returns]
        )
        self.forward_source = "\n    ".join(
            [f"def value({signature}):", *value_body, value_returns]
        )
        self._namespace = graph.names.namespace
        self.value_and_grad: Callable[..., Any] = self._compile(
            self.source, "value_and_grad"
        )
        self._value: Callable[..., Any] | None = None

    def value(self, *args: Any) -> Any:
        if self._value is None:  # compiled on first use: many callers never need it
            self._value = self._compile(self.forward_source, "value")
        return self._value(*args)

    def _compile(self, source: str, name: str) -> Callable[..., Any]:
        namespace = dict(self._namespace)
        filename = f"<trace {name} #{next(_SERIAL)}>"
        # Shown by tracebacks and debuggers; dropped with the function (see below).
        linecache.cache[filename] = (
            len(source),
            None,
            source.splitlines(True),
            filename,
        )
        exec(compile(source, filename, "exec"), namespace)
        fn: Callable[..., Any] = namespace[name]
        _forget_when_freed(fn, filename)
        return fn


# A name the emitters write: a letter and a number (v12, g3, a0_1, r4_0, S0...).
_NAME = re.compile(r"\b[A-Za-z]\d+(?:_\d+)?\b")


def free_early(lines: list[str], returns: str, params: list[str]) -> list[str]:
    """``lines`` with each variable they assign deleted after its last use.

    Over arrays every variable holds an array of all the points: kept to the end
    of the function, a trace's intermediates would all be alive at once (16 arrays
    at the end of the 12-operation benchmark function's, where with deletions at
    most 10 are alive at once). A statement is a line and the indented lines after
    it (a loop), so a variable is deleted at the top level only, after the loop
    that last reads it.
    """
    statements: list[list[str]] = []
    for line in lines:
        if line.startswith(" ") and statements:
            statements[-1].append(line)
        else:
            statements.append([line])
    assigned: set[str] = set()
    last: dict[str, int] = {}
    for k, statement in enumerate(statements):
        for line in statement:
            line = line.lstrip()
            if line.startswith("for "):
                assigned.update(_NAME.findall(line[4 : line.index(" in ")]))
            elif " = " in line:
                assigned.update(_NAME.findall(line[: line.index(" = ")]))
            for name in _NAME.findall(line):
                last[name] = k
    keep = {*params, *_NAME.findall(returns)}
    dead: dict[int, list[str]] = {}
    for name in assigned - keep:
        dead.setdefault(last[name], []).append(name)
    out: list[str] = []
    for k, statement in enumerate(statements):
        out += statement
        if k in dead:
            out.append(f"del {', '.join(sorted(dead[k]))}")
    return out


def _forget_when_freed(fn: Callable[..., Any], filename: str) -> None:
    weakref.finalize(fn, linecache.cache.pop, filename, None)


def compile_trace(
    params: list[str],
    args: list[Value],
    out: Any,
    decisions: list[Decision],
    numpy: Any = None,
) -> Program:
    """The program of one run of f: ``args`` its Values, ``out`` its result,
    ``decisions`` what it decided on data. With ``numpy`` (the module), array code.
    """
    # Building the program allocates hundreds of thousands of small containers,
    # none in a cycle: the cyclic collector would only walk them again and again.
    enabled = gc.isenabled()
    gc.disable()
    try:
        graph = build(params, args, out, decisions, _Names(numpy))
        blocks = find_blocks(graph)
        prepare_blocks(graph, blocks)
        return Program(graph, blocks, out)
    finally:
        if enabled:
            gc.enable()
