"""The graph as a sympy expression (``to_sympy``), for derivatives found independently.

``_FORMS`` writes each built-in primitive in sympy, keyed by the primitive's name:
the forward only, since sympy differentiates on its own, which is what makes it an
independent check of the rule table. A test demands a form (or a reason in
``_NO_FORM``) for every built-in primitive. sympy itself is imported on first use.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from .._engine import Value
from ._graph import reading_order

# Each form is called as form(sympy, *operands).
_FORMS: dict[str, Callable[..., Any]] = {
    # arithmetic
    "add": lambda sp, x, y: x + y,
    "sub": lambda sp, x, y: x - y,
    "mul": lambda sp, x, y: x * y,
    "truediv": lambda sp, x, y: x / y,
    "_limit_div": lambda sp, x, y: x / y,
    "pow": lambda sp, x, y: x**y,
    "neg": lambda sp, x: -x,
    "abs": lambda sp, x: sp.Abs(x),
    # exponentials and logarithms
    "exp": lambda sp, x: sp.exp(x),
    "expm1": lambda sp, x: sp.exp(x) - 1,
    "log": lambda sp, x: sp.log(x),
    "log1p": lambda sp, x: sp.log(1 + x),
    "sqrt": lambda sp, x: sp.sqrt(x),
    # trigonometry
    "sin": lambda sp, x: sp.sin(x),
    "cos": lambda sp, x: sp.cos(x),
    "tan": lambda sp, x: sp.tan(x),
    "atan": lambda sp, x: sp.atan(x),
    "atan2": lambda sp, y, x: sp.atan2(y, x),
    "hypot": lambda sp, x, y: sp.sqrt(x**2 + y**2),
    # activations and special functions
    "tanh": lambda sp, x: sp.tanh(x),
    "sigmoid": lambda sp, x: 1 / (1 + sp.exp(-x)),
    "softplus": lambda sp, x: sp.log(1 + sp.exp(x)),
    "relu": lambda sp, x: sp.Max(x, 0),
    "erf": lambda sp, x: sp.erf(x),
    # piecewise
    "maximum": lambda sp, x, y: sp.Max(x, y),
    "minimum": lambda sp, x, y: sp.Min(x, y),
    # issue 16's functions (sympy leaves d/dx floor, ceiling and sign unevaluated:
    # 0 away from their jumps)
    "sinh": lambda sp, x: sp.sinh(x),
    "cosh": lambda sp, x: sp.cosh(x),
    "asinh": lambda sp, x: sp.asinh(x),
    "acosh": lambda sp, x: sp.acosh(x),
    "atanh": lambda sp, x: sp.atanh(x),
    "asin": lambda sp, x: sp.asin(x),
    "acos": lambda sp, x: sp.acos(x),
    "log2": lambda sp, x: sp.log(x) / sp.log(2),
    "log10": lambda sp, x: sp.log(x) / sp.log(10),
    "exp2": lambda sp, x: 2**x,
    "cbrt": lambda sp, x: sp.sign(x) * sp.Abs(x) ** sp.Rational(1, 3),
    "erfc": lambda sp, x: sp.erfc(x),
    "gamma": lambda sp, x: sp.gamma(x),
    # log|gamma|: loggamma is complex for negative x
    "lgamma": lambda sp, x: sp.log(sp.Abs(sp.gamma(x))),
    "digamma": lambda sp, x: sp.digamma(x),
    "polygamma": lambda sp, x, y: sp.polygamma(x, y),
    "sign": lambda sp, x: sp.sign(x),
    "floor": lambda sp, x: sp.floor(x),
    "ceil": lambda sp, x: sp.ceiling(x),
    "trunc": lambda sp, x: sp.sign(x) * sp.floor(sp.Abs(x)),
    "round": lambda sp, x: sp.floor(x + sp.Rational(1, 2)),  # off the half-integers
    "round_digits": lambda sp, x, n: sp.floor(x * 10**n + sp.Rational(1, 2)) / 10**n,
    "fmod": lambda sp, x, y: x - y * sp.sign(x / y) * sp.floor(sp.Abs(x / y)),
    "mod": lambda sp, x, y: x - y * sp.floor(x / y),
    "floordiv": lambda sp, x, y: sp.floor(x / y),
    "logaddexp": lambda sp, x, y: sp.log(sp.exp(x) + sp.exp(y)),
    "logaddexp2": lambda sp, x, y: sp.log(2**x + 2**y) / sp.log(2),
    "sinc": lambda sp, x: sp.sinc(sp.pi * x),  # sympy's sinc is sin(x)/x
    "degrees": lambda sp, x: x * 180 / sp.pi,
    "radians": lambda sp, x: x * sp.pi / 180,
    "fmax": lambda sp, x, y: sp.Max(x, y),
    "fmin": lambda sp, x, y: sp.Min(x, y),
    "copysign": lambda sp, x, y: sp.Abs(x) * sp.sign(y),
    "gelu": lambda sp, x: x * (1 + sp.erf(x / sp.sqrt(2))) / 2,
    "silu": lambda sp, x: x / (1 + sp.exp(-x)),
    "elu": lambda sp, x, a: sp.Piecewise((x, x > 0), (a * (sp.exp(x) - 1), True)),
    "leaky_relu": lambda sp, x, s: sp.Piecewise((x, x > 0), (s * x, True)),
    "log_sigmoid": lambda sp, x: -sp.log(1 + sp.exp(-x)),
    "softsign": lambda sp, x: x / (1 + sp.Abs(x)),
}

# Built-in primitives with no sympy form, each with the reason (none so far).
_NO_FORM: dict[str, str] = {}


def _sympy_rules(sp: Any) -> dict[str, Callable[..., Any]]:
    """The forms as functions of the operands alone (tests/test_rules.py uses it)."""
    return {name: functools.partial(form, sp) for name, form in _FORMS.items()}


def _sympy_number(sp: Any, x: Any) -> Any:
    """A constant for sympy: exact for ints and Fractions, a Float otherwise."""
    if isinstance(x, int):
        return sp.Integer(x)
    if isinstance(x, Fraction):
        return sp.Rational(x.numerator, x.denominator)
    return sp.Float(float(x))


def to_sympy(out: Value, symbols: dict[Value, Any] | None = None) -> Any:
    """The sympy expression that ``out`` was computed by (needs sympy).

    Every leaf becomes a real sympy symbol named by its label; an unlabeled leaf
    is named ``_v0``, ``_v1``, ..., and a label used by two different leaves gets a
    suffix (``x``, ``x_1``). Constant operands are exact where they are ints or
    Fractions. Each built-in primitive maps to its sympy function; a primitive you
    defined becomes an undefined sympy ``Function`` of its name.

    Pass a dict as ``symbols`` to choose the symbol (or any sympy expression) of
    some leaves; it is filled in with the symbols chosen for the others, so you can
    substitute the leaves' values back: ``expr.subs({s: v.data for v, s in ...})``.

    >>> from fractions import Fraction
    >>> from autograd_scalar import Value, tanh
    >>> x, y = Value(0.5, "x"), Value(2.0, "y")
    >>> to_sympy(tanh(x * y) + x / 3)
    x/3 + tanh(x*y)
    >>> to_sympy(x * Fraction(1, 3) + 0.5)
    x/3 + 0.5
    """
    import sympy as sp  # type: ignore[import-untyped]

    if symbols is None:
        symbols = {}
    order = reading_order(out)
    taken = {str(s) for s in symbols.values()}
    unnamed = itertools.count()
    expr: dict[Value, Any] = {}
    for node in order:
        if node._op is None:
            if node not in symbols:
                name = node.label or f"_v{next(unnamed)}"
                base, k = name, 0
                while name in taken:
                    k += 1
                    name = f"{base}_{k}"
                taken.add(name)
                symbols[node] = sp.Symbol(name, real=True)
            expr[node] = symbols[node]
            continue
        args = [
            expr[x] if isinstance(x, Value) else _sympy_number(sp, x)
            for x in node._inputs()
        ]
        form = _FORMS.get(node.op)
        expr[node] = form(sp, *args) if form else sp.Function(node.op)(*args)
    return expr[out]
