"""``trace()`` and ``Traced``: the runtime of traced replay.

A ``Traced`` keeps compiled traces of f (``_program``), one per path f took through
its decisions on data, and on each call replays the first whose guards hold. It
decides when to trace again: a path no kept trace takes, a name f reads that now
refers to another object, a Value read whose data changed (``_bindings``); and what
to do past ``max_traces`` (the retrace policy, see ``Traced``).
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import re
import warnings
from collections.abc import Callable
from typing import Any

from .. import _engine
from .._engine import Value, _is_number, _plain
from .._modes import enable_grad
from ._bindings import Bindings
from ._builder import Decision
from ._program import Program, compile_trace
from ._templates import _GuardFailed

_REPLAY_ERRORS = (ArithmeticError, ValueError, TypeError)


class Traced:
    """A function traced by ``trace``: call it with numbers, or ask for gradients.

    Holds up to ``max_traces`` traces of f, one per path f took through its
    data-dependent decisions; a call whose guards fail on every trace traces f again
    at its arguments, and the oldest trace goes when there are more. A trace is
    dropped when a name f reads is rebound, or a Value it read (one f closes over,
    or makes) has another ``data``. If replay raises (say ``log`` of a negative
    number) or gives a complex number, f runs on Values instead, so errors are f's
    own.

    **Past max_traces.** Once ``max_traces`` traces have been pushed out (f takes
    more paths than are kept, in turn), a call no kept trace takes is not traced
    again: f runs on Values (the engine's numbers, at the engine's speed), and a
    ``RuntimeWarning`` says so once. Raise ``max_traces`` to keep every path.

    Called with numpy arrays (see ``trace``), it keeps traces of its own for arrays,
    at most ``max_array_traces`` new ones per call.

    A ``Traced`` pickles when f does (a module-level function with ``pickle``, any
    function with ``cloudpickle``): f and the settings travel, not the generated
    code; the loaded one traces again on first use.
    """

    max_array_traces = 32

    def __init__(
        self, f: Callable[..., Any], example_args: tuple[Any, ...], max_traces: int = 8
    ) -> None:
        if not callable(f):
            raise TypeError(f"trace() takes a function, got {type(f).__name__}: {f!r}")
        if type(max_traces) is not int:
            raise TypeError(
                f"trace(): max_traces must be an int, got {type(max_traces).__name__}"
                f": {max_traces!r}"
            )
        if max_traces < 1:
            raise ValueError(
                f"trace(): max_traces must be at least 1, got {max_traces}"
            )
        self.f = f
        self.max_traces = max_traces
        self._start(tuple(example_args))
        checked = self._check(example_args)
        if checked is None:
            raise TypeError("trace() takes numbers as example arguments, not arrays")
        self._trace(checked)

    def _start(self, example_args: tuple[Any, ...]) -> None:
        """The state of a Traced with no trace yet."""
        self.ntraces = 0
        self._example_args = example_args
        self._params = _parameter_names(self.f, len(example_args))
        self._programs: list[Program] = []
        self._array_programs: list[Program] = []
        self._bindings: Bindings | None = None
        self._evicted = 0  # traces pushed out by newer ones (see "Past max_traces")
        self._warned = False

    @property
    def name(self) -> str:
        """f's name, for messages."""
        return getattr(self.f, "__name__", "f")

    @property
    def source(self) -> str:
        """Python source of the latest trace's forward and backward."""
        if not self._programs and self.ntraces == 0:  # loaded from a pickle
            self._trace(self._example_args)
        if not self._programs:  # every trace went stale, and tracing again raised
            raise RuntimeError(
                f"{self.name} has no trace: its traces read Values that have changed "
                "since, and tracing again failed; call it to trace it again"
            )
        return self._programs[0].source

    def __call__(self, *args: Any) -> Any:
        """f's value at ``args`` (plain numbers, or arrays: see ``trace``)."""
        numbers = self._check(args)
        if numbers is None:
            return self._over_arrays(args, grad=False)[0]
        args = numbers
        if self._bindings is not None and self._bindings.changed():
            self._forget()
        for program in self._programs:
            if program.stale is not None and program.stale():
                _drop_stale(self._programs)
                return self(*args)
            try:
                value = program.value(*args)
            except _GuardFailed:
                continue
            except _REPLAY_ERRORS:
                break
            if not isinstance(value, complex):
                return value
            break
        return self._miss(args)[0]

    def value_and_grad(self, *args: Any) -> tuple[Any, tuple[Any, ...]]:
        """``(f(*args), (df/dargs[0], df/dargs[1], ...))`` at plain numbers, or
        elementwise over arrays (see ``trace``)."""
        numbers = self._check(args)
        if numbers is None:
            return self._over_arrays(args, grad=True)
        args = numbers
        if self._bindings is not None and self._bindings.changed():
            self._forget()
        for program in self._programs:
            if program.stale is not None and program.stale():
                _drop_stale(self._programs)
                return self.value_and_grad(*args)
            try:
                result: tuple[Any, tuple[Any, ...]] = program.value_and_grad(*args)
            except _GuardFailed:
                continue
            except _REPLAY_ERRORS:
                break
            if not isinstance(result[0], complex):
                return result
            break
        return self._miss(args)

    def _check(self, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The arguments as Python numbers if all are numbers (a numpy scalar is
        replayed as the Python number of the same value); None if some are arrays."""
        if len(args) != len(self._params):
            raise TypeError(
                f"traced {self.name}() takes {len(self._params)} argument(s), "
                f"got {len(args)}"
            )
        plain = True
        for i, x in enumerate(args):
            if type(x) is float or type(x) is int:
                continue
            if not _is_number(x) or isinstance(x, Value):
                if hasattr(x, "__array__"):  # numpy's, or one numpy can take
                    return None
                raise TypeError(
                    f"traced {self.name}() takes numbers, got {type(x).__name__} "
                    f"for argument {i}: {x!r}"
                )
            plain = False
        return args if plain else tuple(map(_plain, args))

    def _forget(self) -> None:
        """Drop every trace: a name f reads was rebound since they were made."""
        self._programs.clear()
        self._array_programs.clear()
        self._bindings = None

    # -- tracing ---------------------------------------------------------------------

    def _run(self, args: tuple[Any, ...]) -> tuple[list[Value], Any, list[Decision]]:
        """Run f on Values at ``args``: the Values, f's result, f's decisions."""
        if self._bindings is None:  # before f runs: f may rebind what it reads
            self._bindings = Bindings(self.f)
        xs = [Value(a, label=p) for a, p in zip(args, self._params, strict=True)]
        decisions: list[Decision] = []

        def observe(kind: str, x: Value, y: Any, result: Any) -> None:
            decisions.append((kind, x, y, result))

        token = _engine._OBSERVER.set(observe)
        try:
            with enable_grad():
                out = self.f(*xs)
        finally:
            _engine._OBSERVER.reset(token)
        if not (isinstance(out, Value) or _is_number(out)):
            raise TypeError(
                f"trace: {self.name}() must return a Value or a number, "
                f"got {type(out).__name__}: {out!r}"
            )
        return xs, out, decisions

    def _miss(self, args: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
        """No kept trace takes ``args``: trace again, or past max_traces run f."""
        if self._evicted < self.max_traces:
            return self._trace(args)
        if not self._warned:
            self._warned = True
            warnings.warn(
                f"traced {self.name}() takes more paths than max_traces="
                f"{self.max_traces} keeps; calls no kept trace takes now run f on "
                "Values instead of tracing again (raise max_traces)",
                RuntimeWarning,
                stacklevel=3,
            )
        xs, out, _ = self._run(args)
        return _engine_numbers(xs, out)

    def _trace(self, args: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
        """Run f on Values at ``args``; keep the trace; return its value and grads."""
        xs, out, decisions = self._run(args)
        program = compile_trace(self._params, xs, out, decisions)
        self.ntraces += 1
        self._programs.insert(0, program)
        if len(self._programs) > self.max_traces:
            del self._programs[self.max_traces :]
            self._evicted += 1
        # The trace's own numbers at its own arguments, where no guard can fail.
        try:
            result: tuple[Any, tuple[Any, ...]] = program.value_and_grad(*args)
            if not isinstance(result[0], complex):
                return result
        except _REPLAY_ERRORS:
            pass
        return _engine_numbers(xs, out)

    # -- over arrays -----------------------------------------------------------------

    def _over_arrays(
        self, args: tuple[Any, ...], grad: bool
    ) -> tuple[Any, tuple[Any, ...]]:
        from . import _dask, vectorized

        if self._bindings is not None and self._bindings.changed():
            self._forget()
        if any(map(_dask.is_dask_array, args)):
            return _dask.over_dask(self, args, grad)
        return vectorized.over_arrays(self, args, grad)

    def array_programs(self) -> list[Program]:
        """The kept array traces (the latest ``max_array_traces``, none stale)."""
        del self._array_programs[: -self.max_array_traces]  # the latest are kept
        _drop_stale(self._array_programs)
        return self._array_programs

    def array_trace(self, args: tuple[Any, ...], numpy: Any) -> None:
        """Trace f at the point ``args`` and keep the trace as array code."""
        recorded = self._run(args)
        self._array_programs.append(compile_trace(self._params, *recorded, numpy))

    # -- pickling --------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """f and the settings; not the generated code (traced again on load)."""
        state = {
            "f": self.f,
            "example_args": self._example_args,
            "max_traces": self.max_traces,
        }
        if "max_array_traces" in vars(self):
            state["max_array_traces"] = self.max_array_traces
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.f = state["f"]
        self.max_traces = state["max_traces"]
        if "max_array_traces" in state:
            self.max_array_traces = state["max_array_traces"]
        self._start(tuple(state["example_args"]))


def _engine_numbers(xs: list[Value], out: Any) -> tuple[Any, tuple[Any, ...]]:
    """The value and gradients of one run of f on Values, by the engine."""
    if not isinstance(out, Value):
        return out, tuple(0 for _ in xs)
    out.backward()  # the engine's own numbers (and errors)
    return out.data, tuple(x.grad for x in xs)


def _drop_stale(programs: list[Program]) -> None:
    """Remove the programs that read a Value whose data has changed since."""
    programs[:] = [p for p in programs if p.stale is None or not p.stale()]


def _parameter_names(f: Callable[..., Any], n: int) -> list[str]:
    """f's positional parameter names where usable as locals, else x0, x1, ..."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = []
    for i in range(n):
        name = params[i].name if i < len(params) else ""
        kind = params[i].kind if i < len(params) else None
        usable = (
            name.isidentifier()
            and not keyword.iskeyword(name)
            and not name.startswith("_")
            # the generated code's own names: v12, g3, c4_1, S0, ... (x3 is the
            # fallback for argument 3 itself)
            and (name == f"x{i}" or not re.fullmatch(r"[A-Za-z]\d+(_\d+)?", name))
            and not hasattr(builtins, name)  # the code calls abs(), float(), int()
            and kind
            in (
                inspect.Parameter.POSITIONAL_ONLY,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
            )
        )
        names.append(name if usable and name not in names else f"x{i}")
    return names


def trace(f: Callable[..., Any], *example_args: Any, max_traces: int = 8) -> Traced:
    """Trace ``f`` (a function of Values) at ``example_args`` for fast replay.

    ``f`` runs once on Values; its graph becomes Python over plain numbers
    (``.source``), with a loop wherever f repeated the same computation, and each
    local derivative written from the rule table. Call the result with numbers for
    f's value, or ``.value_and_grad(*args)`` for the value and the gradient with
    respect to every argument. Comparisons of Values and ``bool``/``float``/``int``
    of a Value made while tracing become guards: where f would decide otherwise, it
    is traced again. ``max_traces`` bounds the traces kept, one per path (see
    ``Traced`` for what happens past it).

    What is not an argument is written into the trace, and checked on every call:
    a Value f closes over or makes (``Value(3.0)``) gets no gradient, but once its
    ``data`` has changed (an optimizer's step on parameters f closes over), f is
    traced again, so the result is the engine's; and once a name f reads directly
    (a closure variable, a global, a default argument) refers to another object
    (``w = Value(7.0)``, ``scale = 3``), f is traced again too. Not checked: what f
    reaches through attributes, items and the functions it calls (``self.w``, a
    list it sums over). Pass such things, and parameters to differentiate with
    respect to, as arguments: that also keeps one trace for every step.

    >>> w = Value(2.0)
    >>> scale = trace(lambda x: w * x, 1.0)
    >>> w.data = 5.0
    >>> scale.value_and_grad(1.0), scale.ntraces
    ((5.0, (5.0,)), 2)

    >>> def h(x):
    ...     return x * x if x > 0 else -3 * x
    >>> g = trace(h, 1.0)
    >>> g.value_and_grad(-2.0)
    (6.0, (-3.0,))
    >>> g(3.0), g.ntraces
    (9.0, 2)

    **Over arrays.** Called with numpy arrays (or arrays and numbers), it computes
    f's value, or ``value_and_grad``'s value and gradients, at every point of the
    arguments' broadcast shape in one run of array code written from the same
    trace: conditionals in rules become ``np.where``, forwards their numpy forms
    (``np.vectorize`` of the scalar function where there is none). Guards are
    checked per point; the points that fail them are traced again at one of them
    and computed by that trace. Where the scalar replay would raise (``log`` of a
    negative number, division by zero) the value and gradients are nan: every point
    with a nan or infinite result is recomputed by the scalar replay. Masked arrays
    are refused with a ``TypeError`` (their mask would be lost).

    >>> import numpy as np
    >>> value, (slope,) = g.value_and_grad(np.array([-1.0, 0.5, 2.0]))
    >>> value.tolist(), slope.tolist()
    ([3.0, 0.25, 4.0], [-3.0, 1.0, 4.0])
    """
    return Traced(f, example_args, max_traces)
