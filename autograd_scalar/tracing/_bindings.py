"""What replay checks besides its arguments: the names f reads, and the Values.

A trace writes in what f read that is not an argument. Two checks tell when that
is no longer what f would read:

- ``Bindings``: the objects the names f reads directly refer to (its closure
  variables, the globals its code names, its default arguments). Rebinding one
  (``w = Value(7.0)``, ``scale = 3``) makes every trace of f stale.
- ``stale_check``: the ``data`` of each Value a trace read (one f closes over or
  makes). Changing it (``w.data = 5.0``, an optimizer's step) makes that trace stale.

Both compare identities, not values: one pointer comparison per name or Value.
"""

from __future__ import annotations

import operator
import types
from collections.abc import Callable, Iterator
from typing import Any

from .._engine import Value

_MISSING: Any = object()


class Bindings:
    """The objects the names a function reads referred to when it was traced.

    Checked: f's closure variables, the globals f's code (and code nested in it:
    lambdas, comprehensions) names, f's default arguments. Not checked: names read
    by the functions f calls, anything reached through an attribute or an item
    (``self.w``, ``params[0]``), the contents of lists and dicts. A callable that
    is not a Python function (or a bound method of one) has nothing checked.
    ``changed()`` is on every call's path: it is made for what there is to check.

    >>> scale = 2.0
    >>> def f(x):
    ...     return scale * x
    >>> bindings = Bindings(f)
    >>> bindings.changed()
    False
    """

    __slots__ = ("changed",)

    def __init__(self, f: Callable[..., Any]) -> None:
        function = getattr(f, "__func__", f)
        self.changed: Callable[[], bool] = _never
        if isinstance(function, types.FunctionType):
            self.changed = _check(function)


def _never() -> bool:
    return False


def _check(function: types.FunctionType) -> Callable[[], bool]:
    """Whether some name ``function`` reads now refers to another object."""
    cells = function.__closure__ or ()
    cell_objects = tuple(map(_contents, cells))
    namespace = function.__globals__
    read = {n for code in _codes(function.__code__) for n in code.co_names}
    names = tuple(sorted(read & namespace.keys()))
    objects = tuple(namespace[n] for n in names)
    get = namespace.get
    defaults = function.__defaults__
    kwdefaults = dict(function.__kwdefaults__ or {})

    def changed() -> bool:
        if function.__defaults__ is not defaults:
            return True
        if names and not all(map(operator.is_, map(get, names), objects)):
            return True
        if cells and not all(map(operator.is_, map(_contents, cells), cell_objects)):
            return True
        return bool(kwdefaults) and _kwdefaults_changed(function, kwdefaults)

    return changed


def _kwdefaults_changed(function: types.FunctionType, old: dict[str, Any]) -> bool:
    new = function.__kwdefaults__ or {}
    return new.keys() != old.keys() or any(new[k] is not v for k, v in old.items())


def _contents(cell: Any) -> Any:
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell (a name assigned later in the outer function)
        return _MISSING


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    """``code`` and the code objects nested in it (lambdas, comprehensions)."""
    stack = [code]
    while stack:
        code = stack.pop()
        yield code
        stack.extend(c for c in code.co_consts if isinstance(c, types.CodeType))


def stale_check(leaves: dict[Value, Any]) -> Callable[[], bool] | None:
    """A check that some of ``leaves`` no longer hold the data written into a trace
    (None if there are none to check).

    Identity, not equality: it costs one pointer comparison per leaf, and a number
    equal but not identical (``-0.0`` for ``0.0``, ``1`` for ``1.0``) may replay
    otherwise. Values made inside f are checked too: f may keep one (a cache).
    """
    if not leaves:
        return None
    values, datas = tuple(leaves), tuple(leaves.values())

    def stale() -> bool:
        return not all(map(operator.is_, map(_DATA, values), datas))

    return stale


_DATA = operator.attrgetter("data")
