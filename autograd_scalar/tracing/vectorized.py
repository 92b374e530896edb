"""Vectorised replay: a traced function's value and gradient over numpy arrays.

The only module of the package that imports numpy, and only when an array is
passed (or array code is written). It owns the numpy form of each primitive's
forward (``NUMPY_FORMS``, keyed by primitive name), and the set of primitives that
have none and run per element (``PER_ELEMENT``): a user primitive, or one numpy
lacks (``erf``), is evaluated per element with ``np.vectorize``.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._engine import Primitive
from .._rules import registered

if TYPE_CHECKING:
    from ._traced import Traced

# The forward of each built-in primitive over arrays, given the numpy module.
NUMPY_FORMS: dict[str, Callable[[Any], Callable[..., Any]]] = {
    "add": lambda np: np.add,
    "sub": lambda np: np.subtract,
    "mul": lambda np: np.multiply,
    "truediv": lambda np: np.true_divide,
    "pow": lambda np: np.power,
    "neg": lambda np: np.negative,
    "abs": lambda np: np.abs,
    "exp": lambda np: np.exp,
    "expm1": lambda np: np.expm1,
    "log": lambda np: np.log,
    "log1p": lambda np: np.log1p,
    "sqrt": lambda np: np.sqrt,
    "sin": lambda np: np.sin,
    "cos": lambda np: np.cos,
    "tan": lambda np: np.tan,
    "atan": lambda np: np.arctan,
    "atan2": lambda np: np.arctan2,
    "hypot": lambda np: np.hypot,
    "tanh": lambda np: np.tanh,
    # stable at both ends: e^-softplus(-x)
    "sigmoid": lambda np: lambda x: np.exp(-np.logaddexp(0.0, -x)),
    "softplus": lambda np: lambda x: np.logaddexp(0.0, x),
    "relu": lambda np: lambda x: np.where((x > 0) | (x != x), x, 0.0),
    "maximum": lambda np: np.maximum,
    "minimum": lambda np: np.minimum,
    "sinh": lambda np: np.sinh,
    "cosh": lambda np: np.cosh,
    "asinh": lambda np: np.arcsinh,
    "acosh": lambda np: np.arccosh,
    "atanh": lambda np: np.arctanh,
    "asin": lambda np: np.arcsin,
    "acos": lambda np: np.arccos,
    "log2": lambda np: np.log2,
    "log10": lambda np: np.log10,
    "exp2": lambda np: np.exp2,
    "cbrt": lambda np: np.cbrt,
    "sign": lambda np: np.sign,
    "floor": lambda np: np.floor,  # floats where math.floor gives ints: equal values
    "ceil": lambda np: np.ceil,
    "trunc": lambda np: np.trunc,
    "round": lambda np: np.round,  # half to even, as Python's round
    "fmod": lambda np: np.fmod,  # C's fmod, as math.fmod
    "mod": lambda np: np.remainder,  # Python's %
    "floordiv": lambda np: np.floor_divide,
    "logaddexp": lambda np: np.logaddexp,
    "logaddexp2": lambda np: np.logaddexp2,
    "degrees": lambda np: np.degrees,
    "radians": lambda np: np.radians,
    "fmax": lambda np: np.fmax,
    "fmin": lambda np: np.fmin,
    "copysign": lambda np: np.copysign,
    # e^-softplus(-x) is sigmoid without overflow, as the table's sigmoid form
    "silu": lambda np: lambda x: x * np.exp(-np.logaddexp(0.0, -x)),
    # x + 0 * a: a nan parameter (an error upstream, in the scalar replay) stays nan
    "elu": lambda np: (
        lambda x, a: np.where(x > 0, x + 0 * a, a * np.expm1(np.minimum(x, 0)))
    ),
    "leaky_relu": lambda np: lambda x, s: np.where(x > 0, x + 0 * s, s * x),
    "log_sigmoid": lambda np: lambda x: -np.logaddexp(0.0, -x),
    "softsign": lambda np: lambda x: x / (1 + np.abs(x)),
}
# Built-in primitives numpy has no function for: their scalar forward per element.
# sinc: np.sinc(1.0) is 3.9e-17, ours exactly 0 (a later abs or sign would branch);
# round_digits: np.round(x, n) scales by 10**n, Python's round(x, n) rounds exactly;
# _limit_div: np.divide differs at v = -0.0, where the rule takes the limit from
# above (it only appears in graphs of higher derivatives).
PER_ELEMENT = frozenset(
    {"erf", "erfc", "gamma", "lgamma", "digamma", "polygamma", "gelu", "sinc"}
    | {"round_digits", "_limit_div"}
)


def has_numpy_form(primitive: Primitive) -> bool:
    """Whether ``primitive`` is the registered built-in with a numpy form."""
    return (
        primitive.name in NUMPY_FORMS and registered().get(primitive.name) is primitive
    )


# Array forms of each primitive's forward (key -1) and partials (key k), made once
# and kept as long as the primitive (weak keys: a redefined user primitive is freed).
_ARRAY_FUNCTIONS: weakref.WeakKeyDictionary[
    Primitive, dict[int, Callable[..., Any]]
] = weakref.WeakKeyDictionary()


def array_function(primitive: Primitive, k: int, np: Any) -> Callable[..., Any]:
    """The forward (``k`` = -1) or partial ``k`` of a primitive over numpy arrays:
    the forward's numpy form, or else the scalar function per element."""
    forms = _ARRAY_FUNCTIONS.get(primitive)
    if forms is None:
        forms = _ARRAY_FUNCTIONS[primitive] = {}
    fn = forms.get(k)
    if fn is None:
        if k < 0 and has_numpy_form(primitive):
            fn = NUMPY_FORMS[primitive.name](np)
        else:
            scalar = primitive.fn if k < 0 else primitive.partials[k]
            fn = np.vectorize(_nan_on_error(scalar), otypes=[float])
        forms[k] = fn
    return fn


def _nan_on_error(scalar: Callable[..., Any]) -> Callable[..., Any]:
    """``scalar``, giving nan where it raises or is complex: one point does not stop
    the others (a nan is computed again by the scalar replay, see ``over_arrays``)."""

    def per_point(*args: Any) -> Any:
        try:
            out = scalar(*args)
        except (ArithmeticError, ValueError):
            return math.nan
        return math.nan if isinstance(out, complex) else out

    return per_point


def points_of(name: str, args: tuple[Any, ...]) -> tuple[list[Any], tuple[int, ...]]:
    """The arguments as flat float64 arrays of the points of their broadcast shape,
    and that shape. Masked arrays are refused: their mask would be lost."""
    import numpy as np

    arrays = []
    for i, x in enumerate(args):
        if isinstance(x, np.ma.MaskedArray):
            raise TypeError(
                f"traced {name}() takes plain arrays, got a masked array for "
                f"argument {i}; pass x.filled(value) or x.compressed() instead"
            )
        a = np.asarray(x)
        if a.dtype.kind not in "biuf":
            raise TypeError(
                f"traced {name}() takes numbers or arrays of real numbers, "
                f"got an array of {a.dtype} for argument {i}"
            )
        arrays.append(a.astype(np.float64, copy=False))
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(
            f"traced {name}(): arguments of shapes {shapes} do not broadcast together"
        ) from None
    return [np.broadcast_to(a, shape).ravel() for a in arrays], shape


def over_arrays(
    traced: Traced, args: tuple[Any, ...], grad: bool
) -> tuple[Any, tuple[Any, ...]]:
    """f's value (and gradient, if ``grad``) at every point of ``args``.

    The arguments broadcast together and are flattened to points. Each array trace
    runs on all points not yet done; where its guards hold, its numbers are kept.
    Points no trace takes are traced anew at one of them. A point where any result
    is nan or infinite is computed again by the scalar replay (which raises where f
    would: then nan).
    """
    import numpy as np

    points, shape = points_of(traced.name, args)
    n = len(points[0])
    # Allocated when first written, after an array trace ran: by then the trace's
    # intermediates are freed, so they and the results never take memory together.
    outputs: list[Any] = [None] * (1 + len(points) if grad else 1)
    with np.errstate(all="ignore"):  # _where computes both branches everywhere
        _run_traces(traced, points, outputs, grad)
    value, *grads = _allocated(outputs, n)
    bad = ~np.isfinite(value)
    for g in grads:
        bad |= ~np.isfinite(g)
    _scalar_points(traced, points, np.flatnonzero(bad), outputs)
    return value.reshape(shape), tuple(g.reshape(shape) for g in grads)


def _allocated(outputs: list[Any], n: int) -> list[Any]:
    """``outputs``, each an array of ``n`` numbers from its first use on."""
    if outputs[0] is None:
        import numpy as np

        outputs[:] = [np.empty(n) for _ in outputs]
    return outputs


def _run_traces(
    traced: Traced, points: list[Any], outputs: list[Any], grad: bool
) -> None:
    """Fill ``outputs`` at every point: kept array traces first, then new ones."""
    import numpy as np

    programs = traced.array_programs()
    n = len(points[0])
    todo = np.arange(n)
    new = k = 0
    while len(todo):
        if k == len(programs):
            if new == traced.max_array_traces:
                raise ValueError(
                    f"traced {traced.name}() takes more than "
                    f"{traced.max_array_traces} paths through its decisions over "
                    "these points (raise max_array_traces)"
                )
            new += 1
            todo = _array_trace(traced, points, todo, outputs)
            continue
        program = programs[k]
        k += 1
        subset = points if len(todo) == n else [a[todo] for a in points]
        try:
            if grad:
                v, g, ok = program.value_and_grad(*subset)
            else:
                (v, ok), g = program.value(*subset), ()
        except (ArithmeticError, ValueError, TypeError):
            if k == len(programs) and new:
                # Even a trace made for them fails: the scalar replay.
                _scalar_points(traced, points, todo, outputs)
                return
            continue  # a later trace has them
        if ok is True and len(todo) == n:
            for out, result in zip(_allocated(outputs, n), (v, *g), strict=True):
                out[:] = result
            return
        ok = np.broadcast_to(ok, todo.shape)
        done = todo[ok]
        for out, result in zip(_allocated(outputs, n), (v, *g), strict=True):
            out[done] = np.broadcast_to(result, todo.shape)[ok]
        todo = todo[~ok]


def _array_trace(
    traced: Traced, points: list[Any], todo: Any, outputs: list[Any]
) -> Any:
    """Trace f for arrays at a point of ``todo``; return the points left to do.

    A point where f raises on Values cannot be traced: it gets nan (as the scalar
    replay raises there) and another point is tried. If a few points spread over
    ``todo`` all raise, the scalar replay does all of ``todo``.
    """
    import numpy as np

    failed = []
    for t in dict.fromkeys(np.linspace(0, len(todo) - 1, 5).astype(int).tolist()):
        i = int(todo[t])
        try:
            traced.array_trace(tuple(float(a[i]) for a in points), np)
        except (ArithmeticError, ValueError):
            failed.append(t)
            for out in _allocated(outputs, len(points[0])):
                out[i] = math.nan
            continue
        return np.delete(todo, failed)
    _scalar_points(traced, points, todo, outputs)
    return todo[:0]


def _scalar_points(
    traced: Traced, points: list[Any], todo: Any, outputs: list[Any]
) -> None:
    """Compute the points ``todo`` one at a time (nan where f raises)."""
    if len(todo):
        _allocated(outputs, len(points[0]))
    for i in todo.tolist():
        args = [float(a[i]) for a in points]
        try:
            if len(outputs) > 1:
                v, g = traced.value_and_grad(*args)
            else:
                v, g = traced(*args), ()
        except (ArithmeticError, ValueError):
            v, g = math.nan, (math.nan,) * (len(outputs) - 1)
        for out, result in zip(outputs, (v, *g), strict=True):
            out[i] = result


# Points per piece of a dask chunk: a trace's intermediates over a piece stay small,
# whatever the chunk size. 64 kB arrays stay under glibc's threshold for mapping
# each allocation afresh (128 kB): they reuse the heap, where larger ones would be
# mapped and faulted in again and again, most of all on dask workers, which return
# freed memory to the system eagerly (MALLOC_TRIM_THRESHOLD_): 3x slower measured.
CHUNK_PIECE = 1 << 13


def over_chunk(
    *blocks: Any, traced: Traced, template: tuple[Any, ...], grad: bool
) -> Any:
    """One chunk of the dask path (see ``_dask``): the numpy path on ``blocks``.

    ``template`` holds the plain-number arguments, None where a block goes. With
    ``grad``, the value and the gradients are stacked on a new first axis. The
    chunk is computed in pieces of rows (its first axis) of about ``CHUNK_PIECE``
    points (at least one row), each written into the result: a worker's memory is
    then the chunk's inputs and results, and one piece's intermediates.
    """
    import numpy as np

    feed = iter(blocks)
    args = tuple(next(feed) if x is None else x for x in template)
    shape = np.broadcast_shapes(*(b.shape for b in blocks))
    if not shape:  # a 0-dimensional chunk: one point
        value, grads = traced.value_and_grad(*args) if grad else (traced(*args), ())
        return np.array([value, *grads]) if grad else np.asarray(value)
    out = np.empty((1 + len(args) if grad else 1, *shape))
    rows = max(1, CHUNK_PIECE // max(1, math.prod(shape[1:])))
    for start in range(0, shape[0], rows):
        piece = tuple(_rows(a, start, start + rows, len(shape)) for a in args)
        if not grad:
            out[0, start : start + rows] = traced(*piece)
            continue
        value, grads = traced.value_and_grad(*piece)
        for k, result in enumerate((value, *grads)):
            out[k, start : start + rows] = result
    return out if grad else out[0]


def _rows(a: Any, start: int, stop: int, ndim: int) -> Any:
    """Rows ``start:stop`` of argument ``a`` in a broadcast of ``ndim`` axes (all
    of ``a`` where it broadcasts along the first axis: a number, fewer axes, or
    length 1)."""
    shape: tuple[int, ...] = getattr(a, "shape", ())
    if len(shape) < ndim or shape[0] == 1:
        return a
    return a[start:stop]


# -------------------------------------------------------------------------------------
# numpy's functions on Values: Value.__array_ufunc__ lands here
# -------------------------------------------------------------------------------------

_UFUNC_PRIMITIVES: dict[str, Primitive] = {}
# ufuncs that numpy scalars call for Python's operators, with no primitive: the
# Value's special method, and the one for the Value on the right.
_PYTHON_OPERATORS = {
    "less": ("lt", "gt"),
    "less_equal": ("le", "ge"),
    "greater": ("gt", "lt"),
    "greater_equal": ("ge", "le"),
    "equal": ("eq", "eq"),
    "not_equal": ("ne", "ne"),
    "divmod": ("divmod", "rdivmod"),
}


# numpy's other ufuncs that mean, on real numbers, a primitive under another name or
# a composition of them; and its tests of a number, answered on the number (as
# math.isnan(x) answers through float(x), which a trace records as a guard).
_UFUNC_SYNONYMS = {
    "deg2rad": "radians",
    "rad2deg": "degrees",
    "fabs": "abs",
    "float_power": "pow",
}
_UFUNC_COMPOSITES: dict[str, Callable[..., Any]] = {
    "square": lambda x: x * x,
    "reciprocal": lambda x: 1 / x,
    "positive": lambda x: x,
    "conjugate": lambda x: x,  # a real number is its own conjugate
}
_UFUNC_TESTS = ("isfinite", "isinf", "isnan", "signbit")


def _ufunc_function(np: Any, name: str) -> Callable[..., Any] | None:
    """What numpy's ufunc ``name`` is on Values and numbers, or None."""
    primitives = ufunc_primitives(np)
    if name in primitives:
        return primitives[name]
    if name in _UFUNC_SYNONYMS:
        return registered()[_UFUNC_SYNONYMS[name]]
    if name in _UFUNC_TESTS:
        test = getattr(np, name)
        return lambda x: bool(test(float(x)))
    return _UFUNC_COMPOSITES.get(name)


def ufunc_primitives(np: Any) -> dict[str, Primitive]:
    """numpy's ufunc name -> the built-in primitive it is (``"arcsin"`` -> asin):
    every numpy form above that is a ufunc itself, read off the table."""
    if not _UFUNC_PRIMITIVES:
        table = registered()
        for name, form in NUMPY_FORMS.items():
            fn = form(np)
            if isinstance(fn, np.ufunc) and name in table:
                _UFUNC_PRIMITIVES.setdefault(fn.__name__, table[name])
    return _UFUNC_PRIMITIVES


def apply_ufunc(
    ufunc: Any, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """``ufunc(*inputs)`` where some input is a Value: the primitive it maps to.

    On Values and numbers the result is a Value; where an input is an array, an
    object array of Values (the primitive applied per element).
    """
    import numpy as np

    from .._engine import Value

    if method != "__call__" or kwargs:
        return NotImplemented  # reductions, out=...: numpy raises its TypeError
    name = ufunc.__name__
    # a numpy scalar's operator (np.float64(1) < x) passes it as a 0-d array
    inputs = tuple(
        x[()] if isinstance(x, np.ndarray) and x.ndim == 0 else x for x in inputs
    )
    if name in _PYTHON_OPERATORS and not any(isinstance(x, np.ndarray) for x in inputs):
        # np.float64(1) < x and divmod(np.float64(7), x) come here first: give the
        # answer Python's operator gives, through the Value's own (reflected) method.
        x, y = inputs
        dunder, reflected = _PYTHON_OPERATORS[name]
        if isinstance(x, Value):
            out = getattr(x, f"__{dunder}__")(y)
        else:
            out = getattr(y, f"__{reflected}__")(x)
        if out is NotImplemented and name in ("equal", "not_equal"):
            return name == "not_equal"  # as Python: unequal unless the same object
        return out
    fn = _ufunc_function(np, name)
    if fn is None or ufunc.nin != len(inputs):
        raise TypeError(
            f"numpy.{ufunc.__name__} has no primitive in autograd_scalar, so it "
            "cannot take a Value; use the package's functions"
        )
    if not any(isinstance(x, np.ndarray) for x in inputs):
        return fn(*inputs)
    operands = []
    for x in inputs:
        if isinstance(x, Value):
            boxed = np.empty((), dtype=object)  # numpy asks a Value, not a 0-d array
            boxed[()] = x
            operands.append(boxed)
        else:
            operands.append(x)
    return np.frompyfunc(fn, ufunc.nin, 1)(*operands)
