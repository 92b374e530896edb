"""Hypothesis's entry point into this package (``[project.entry-points.hypothesis]``).

Hypothesis calls the hook while it is itself being imported, so this module imports
nothing at load time, and the strategy is built only when ``st.from_type(Value)``
first asks for it: importing ``autograd_scalar.testing.strategies`` (which imports
hypothesis) before hypothesis must not meet a half-imported module.
"""

from __future__ import annotations

from typing import Any


def _hypothesis_setup_hook() -> None:
    """Make ``st.from_type(Value)`` draw from ``strategies.values()``.

    >>> from hypothesis import find, strategies as st
    >>> from autograd_scalar import Value
    >>> _hypothesis_setup_hook()
    >>> find(st.from_type(Value), lambda v: v.data > 1)
    Value(data=2.0, grad=0)
    """
    from hypothesis import strategies as st

    from .._engine import Value

    def for_value(_: type) -> Any:
        from .strategies import values

        return values()

    st.register_type_strategy(Value, for_value)
