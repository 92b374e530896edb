"""PyTorch as an oracle: random expressions agree with torch at float64.

Each random expression is replayed with torch's functions on float64 tensors and
compared in value, gradient and second derivatives. The expressions are sampled
away from kinks, so conventions at kinks (where the libraries may differ) never
matter. Skipped when torch is not installed; CI installs torch 2.13.0.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given

from autograd_scalar import _rules
from autograd_scalar.testing import _reverse_grads, _reverse_hessian
from autograd_scalar.testing.strategies import Expression, expressions

torch = pytest.importorskip("torch")
F = torch.nn.functional


def tensor(x: Any) -> Any:
    """A float64 tensor: constants of the expression become tensors too."""
    return x if isinstance(x, torch.Tensor) else torch.tensor(x, dtype=torch.float64)


def lifted(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` applied to its arguments as float64 tensors."""
    return lambda *xs: fn(*[tensor(x) for x in xs])


def pow_(x: Any, y: Any) -> Any:
    """x**y as torch computes it, with a variable exponent through exp(y log x).

    torch.pow's backward sets d/dx to 0 wherever the exponent is 0, dropping its
    dependence on a variable exponent, so its Hessian is asymmetric there (row x
    says d2/dx dy = 0, row y says 1/x). For x > 0, pow's domain, x**y is
    exp(y log x), which torch differentiates without that special case.
    """
    x, y = tensor(x), tensor(y)
    return torch.exp(y * torch.log(x)) if y.requires_grad else torch.pow(x, y)


# Every built-in primitive's counterpart in torch.
TORCH: dict[str, Callable[..., Any]] = {
    name: lifted(fn)
    for name, fn in {
        "add": torch.add,
        "sub": torch.sub,
        "mul": torch.mul,
        "truediv": torch.div,
        "pow": pow_,
        "neg": torch.neg,
        "abs": torch.abs,
        "exp": torch.exp,
        "expm1": torch.expm1,
        "log": torch.log,
        "log1p": torch.log1p,
        "sqrt": torch.sqrt,
        "sin": torch.sin,
        "cos": torch.cos,
        "tan": torch.tan,
        "atan": torch.atan,
        "atan2": torch.atan2,
        "hypot": torch.hypot,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        # torch's softplus returns x itself above `threshold` (20 by default), an
        # approximation; this package computes log(1 + e^x) everywhere.
        "softplus": lambda x: F.softplus(x, threshold=700.0),
        "relu": torch.relu,
        "erf": torch.erf,
        "maximum": torch.maximum,
        "minimum": torch.minimum,
        "sinh": torch.sinh,
        "cosh": torch.cosh,
        "asinh": torch.asinh,
        "acosh": torch.acosh,
        "atanh": torch.atanh,
        "asin": torch.asin,
        "acos": torch.acos,
        "log2": torch.log2,
        "log10": torch.log10,
        "exp2": torch.exp2,
        "erfc": torch.erfc,
        "lgamma": torch.lgamma,
        "digamma": torch.digamma,
        "sign": torch.sign,
        "floor": torch.floor,
        "ceil": torch.ceil,
        "trunc": torch.trunc,
        "round": torch.round,
        "fmod": torch.fmod,
        "mod": torch.remainder,
        "logaddexp": torch.logaddexp,
        "logaddexp2": torch.logaddexp2,
        "degrees": torch.rad2deg,
        "radians": torch.deg2rad,
        "fmax": torch.fmax,
        "fmin": torch.fmin,
        "gelu": F.gelu,
        "silu": F.silu,
        "log_sigmoid": F.logsigmoid,
        "softsign": F.softsign,
    }.items()
}


def polygamma(n: Any, x: Any) -> Any:
    """torch.polygamma takes the order as a Python int (it is never differentiated)."""
    return torch.polygamma(int(n), tensor(x))


def round_digits(x: Any, n: Any) -> Any:
    """round(x, n): torch.round with ``decimals``, an int."""
    return torch.round(tensor(x), decimals=int(n))


def with_parameter(fn: Callable[..., Any], **written: Any) -> Callable[..., Any]:
    """torch's activation with a float parameter (elu's alpha); a parameter the
    expression varies is written out, since torch cannot differentiate in it."""

    def apply(x: Any, a: Any) -> Any:
        if isinstance(a, torch.Tensor) and a.requires_grad:
            return written["form"](tensor(x), a)
        return fn(tensor(x), float(a))

    return apply


def copysign(x: Any, y: Any) -> Any:
    """|x| sign(y): torch.copysign off y = 0. torch.copysign's second derivative
    divides its result by x twice, which overflows for |x| < 1e-154."""
    return torch.abs(tensor(x)) * torch.sign(tensor(y))


def sinc(x: Any) -> Any:
    """torch.sinc, and near 0 its Taylor polynomial (exact to 1e-16 there): torch's
    second derivative is nan at 0 and for |x| below 1e-150 (sinc''(0) = -pi^2/3)."""
    x = tensor(x)
    if abs(x.item()) >= 1e-4:
        return torch.sinc(x)
    t = math.pi * x
    return 1 - t * t / 6 + t**4 / 120


TORCH.update(
    {
        "copysign": copysign,
        "sinc": sinc,
        "polygamma": polygamma,
        "round_digits": round_digits,
        "elu": with_parameter(
            F.elu, form=lambda x, a: torch.where(x > 0, x, a * torch.expm1(x))
        ),
        "leaky_relu": with_parameter(
            F.leaky_relu, form=lambda x, s: torch.where(x > 0, x, s * x)
        ),
    }
)

# Built-in primitives torch has no counterpart of, each with the reason.
NO_TORCH_EQUIVALENT: dict[str, str] = {
    "_limit_div": "internal to the rules (a quotient taking its limit at 0); "
    "what it computes away from 0 is truediv's, compared here",
    "cbrt": "torch has no cbrt (pow(x, 1/3) is nan for x < 0)",
    "gamma": "torch has no gamma (exp(lgamma) loses the sign for x < 0)",
    "floordiv": "torch.floor_divide has no derivative (not in derivatives.yaml)",
}

Case = tuple[Expression, tuple[float, ...]]


# torch's polygamma of order 1 and up (trigamma, ...) is accurate to about 1e-9
# relative (ours to 1e-12, checked against mpmath in tests/test_special.py): where an
# expression goes through it, the two agree to that.
_LOOSER = ("digamma", "polygamma")


def tolerance(f: Expression) -> float:
    """The relative tolerance for comparing ``f``'s derivatives with torch's."""
    return 1e-7 if any(name in repr(f) for name in _LOOSER) else 1e-9


def close(got: Sequence[Any], want: Sequence[Any], rel: float = 1e-9) -> bool:
    """Equal up to rounding differences between the two libraries' math."""
    return all(
        math.isclose(g, w, rel_tol=rel, abs_tol=1e-10)
        for g, w in zip(got, want, strict=True)
    )


def ours(f: Expression, args: Sequence[float]) -> tuple[float, list[Any], list[Any]]:
    """Value, gradient and second derivatives (rows) by this package."""
    return f(*args), _reverse_grads(f, args)[1], _reverse_hessian(f, args)


def torchs(f: Expression, args: Sequence[float]) -> tuple[float, list[Any], list[Any]]:
    """Value, gradient and second derivatives (rows) by torch."""
    xs = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    out = f.trace(*xs, functions=TORCH)[-1]
    first = torch.autograd.grad(out, xs, create_graph=True, allow_unused=True)
    rows = []
    for g in first:
        if g is None or not g.requires_grad:
            rows.append([0.0 for _ in xs])
            continue
        row = torch.autograd.grad(g, xs, retain_graph=True, allow_unused=True)
        rows.append([0.0 if h is None else h.item() for h in row])
    grads = [0.0 if g is None else g.item() for g in first]
    return out.item(), grads, rows


def test_every_builtin_has_a_torch_counterpart() -> None:
    """A new built-in primitive needs its torch function here to be compared."""
    assert set(TORCH) | set(NO_TORCH_EQUIVALENT) == _rules._BUILTIN
    assert not set(TORCH) & set(NO_TORCH_EQUIVALENT)


class TestAgainstTorch:
    """Random expressions of the built-ins give torch's numbers."""

    @given(expressions(primitives=sorted(TORCH)))
    def test_value_and_gradient(self, case: Case) -> None:
        """Forward value and every partial derivative."""
        f, args = case
        value, grads, _ = ours(f, args)
        t_value, t_grads, _ = torchs(f, args)
        assert close([value], [t_value]), (value, t_value)
        assert close(grads, t_grads, tolerance(f)), (grads, t_grads)

    @given(expressions(max_ops=5, primitives=sorted(TORCH)))
    def test_second_derivatives(self, case: Case) -> None:
        """The Hessian from backward(create_graph=True)."""
        f, args = case
        _, _, rows = ours(f, args)
        _, _, t_rows = torchs(f, args)
        for row, t_row in zip(rows, t_rows, strict=True):
            assert close(row, t_row, tolerance(f)), (rows, t_rows)
