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

from ._engine import (
    Primitive,
    Value,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    stop_gradient,
)
from ._rules import (
    atan,
    atan2,
    cos,
    erf,
    exp,
    expm1,
    hypot,
    log,
    log1p,
    maximum,
    minimum,
    primitive,
    registered,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    tan,
    tanh,
)
from .forward import jvp
from .functional import grad, hessian, hvp, jacobian, value_and_grad, vjp
from .tape import trace
from .viz import explain, to_sympy

__all__ = [
    "Primitive",
    "Value",
    "atan",
    "atan2",
    "cos",
    "detect_anomaly",
    "enable_grad",
    "erf",
    "exp",
    "explain",
    "expm1",
    "grad",
    "hessian",
    "hvp",
    "hypot",
    "is_grad_enabled",
    "jacobian",
    "jvp",
    "log",
    "log1p",
    "maximum",
    "minimum",
    "no_grad",
    "primitive",
    "registered",
    "relu",
    "sigmoid",
    "sin",
    "softplus",
    "sqrt",
    "stop_gradient",
    "tan",
    "tanh",
    "to_sympy",
    "trace",
    "value_and_grad",
    "vjp",
]
__version__ = "0.1.0"
