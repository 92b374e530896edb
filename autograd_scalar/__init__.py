"""autograd_scalar: scalar reverse-mode automatic differentiation in pure Python.

Ordinary arithmetic on ``Value`` objects records a graph; ``backward()`` fills in the
gradient of the output with respect to every node.

>>> from autograd_scalar import Value, tanh
>>> x = Value(0.5, label="x")
>>> y = tanh(x) * x
>>> y.backward()
>>> round(x.grad, 6)
0.855341
"""

from typing import TYPE_CHECKING, Any

from . import _rules
from ._engine import GraphBreakWarning, Primitive, Value, stop_gradient
from ._modes import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from ._rules import primitive, registered, unregister
from .forward import jvp
from .functional import (
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    value_and_grad,
    vjp,
)

if TYPE_CHECKING:
    # The rule table's functions (sin, tanh, ...), typed; at run time they are added
    # below from the table itself, so a new primitive is exported by its entry alone.
    from . import math as math  # the differentiable math module, loaded on first use
    from ._rules import *  # noqa: F403
    from .tracing import trace
    from .viz import explain, to_sympy

_FUNCTIONS = _rules._exported()
globals().update((name, _rules._public(name)) for name in _FUNCTIONS)

__all__ = [
    "GraphBreakWarning",
    "Primitive",
    "Value",
    "detect_anomaly",
    "enable_grad",
    "explain",
    "grad",
    "hessian",
    "hvp",
    "is_grad_enabled",
    "jacfwd",
    "jacobian",
    "jacrev",
    "jvp",
    "no_grad",
    "primitive",
    "registered",
    "stop_gradient",
    "to_sympy",
    "trace",
    "unregister",
    "value_and_grad",
    "vjp",
]
__all__ += _FUNCTIONS
__all__.sort()
__version__ = "0.1.0"


if not TYPE_CHECKING:  # hidden from type checkers, which would take any name as Any

    def __getattr__(name: str) -> Any:
        # Leaf modules load on first use only (PEP 562): no import of the package
        # pays for them. explain and to_sympy live in viz, trace in tracing.
        if name in ("explain", "to_sympy"):
            from . import viz

            return getattr(viz, name)
        if name == "math":  # the differentiable math module: loaded on first use
            import importlib

            return importlib.import_module(".math", __name__)
        if name == "trace":
            from .tracing import trace

            return trace
        raise AttributeError(f"module 'autograd_scalar' has no attribute {name!r}")
