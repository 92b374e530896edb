"""Semantics at the edges: numpy scalars as Python numbers, partials that are not
numbers, user primitives that are forgotten, second derivatives at kinks and edges."""

from __future__ import annotations

import gc
import linecache
import math
from typing import Any

import pytest

import autograd_scalar as ag
from autograd_scalar import Value


class TestNumpyScalars:
    """A numpy scalar behaves exactly as the Python number of the same value."""

    np = pytest.importorskip("numpy")

    def test_division_by_zero_raises(self) -> None:
        """Value(np.float64(1.0)) / 0 raises ZeroDivisionError, as 1.0 / 0 does."""
        with pytest.raises(ZeroDivisionError, match="truediv"):
            Value(self.np.float64(1.0)) / 0
        with pytest.raises(ZeroDivisionError, match="truediv"):
            Value(1.0) / self.np.float64(0.0)

    def test_fractional_power_of_negative_raises(self) -> None:
        """np.float64(-8.0) ** (1/3) raises ValueError, as math.pow(-8.0, 1/3) does."""
        with pytest.raises(ValueError, match="pow"):
            Value(self.np.float64(-8.0)) ** (1 / 3)

    def test_overflow_raises(self) -> None:
        """np.float64(10.0) ** 400 raises OverflowError, as 10.0 ** 400 does."""
        with pytest.raises(OverflowError, match="pow"):
            Value(self.np.float64(10.0)) ** 400
        with pytest.raises(OverflowError):
            _ = 10.0**400  # Python's own semantics, the reference

    def test_int64_does_not_wrap(self) -> None:
        """np.int64(3e9) cubed has the exact integer gradient 3 * x**2."""
        x = Value(self.np.int64(3_000_000_000))
        (x**3).backward()
        assert type(x.data) is int
        assert x.grad == 3 * 3_000_000_000**2

    def test_bool_is_bool(self) -> None:
        """np.bool_ data is a Python bool."""
        assert type(Value(self.np.bool_(True)).data) is bool

    def test_operands_and_seeds(self) -> None:
        """numpy operands on either side, to functions and as seeds, are plain."""
        np = self.np
        x = Value(2.0)
        for y in (x * np.float64(3.0), np.float64(3.0) * x, ag.atan2(x, np.float32(1))):
            assert all(type(v) is not np.float64 for v in y._inputs())
        y = x * x
        y.backward(np.float32(0.5))
        assert type(x.grad) is float and x.grad == 2.0
        assert type(ag.exp(np.float64(0.0))) is float


class TestUserPartials:
    """A user primitive's partial must give a real number."""

    np = pytest.importorskip("numpy")

    @pytest.mark.parametrize(
        "bad", [lambda x: 1j, lambda x: "1", lambda x: [1.0], lambda x: None]
    )
    def test_non_number_is_type_error(self, bad: Any) -> None:
        """A partial returning complex, str, list or None is a TypeError naming it."""
        odd = ag.primitive(lambda x: 2 * x, bad, name="odd_partial")
        x = Value(1.0)
        with pytest.raises(TypeError, match=r"primitive 'odd_partial': partial 0"):
            odd(x).backward()
        assert x.grad == 0

    def test_array_is_type_error(self) -> None:
        """A partial returning a numpy array is a TypeError naming the primitive."""
        np = self.np
        odd = ag.primitive(lambda x, y: x * y, lambda x, y: y, lambda x, y: np.ones(2))
        with pytest.raises(TypeError, match=r"'<lambda>': partial 1 .* ndarray"):
            odd(Value(1.0), Value(2.0)).backward()

    def test_numpy_scalar_partial_is_plain(self) -> None:
        """A partial returning a numpy scalar gives the Python number."""
        np = self.np
        twice = ag.primitive(lambda x: 2 * x, lambda x: np.float64(2.0))
        x = Value(1.0)
        twice(x).backward()
        assert type(x.grad) is float and x.grad == 2.0

    def test_values_pass_at_higher_order(self, logcosh: Any) -> None:
        """On Values (grad of grad) a partial's Value is accepted: tanh' = 1 - tanh²."""
        t = math.tanh(0.5)
        assert ag.grad(ag.grad(logcosh))(0.5) == pytest.approx(1 - t * t)


class TestUnregister:
    """A user primitive can be unregistered, and is then freed with its code."""

    def test_unique_names_do_not_accumulate(self) -> None:
        """Primitives made and unregistered under fresh names leave nothing behind."""
        before = len(ag.registered())
        for i in range(50):
            p = ag.primitive(lambda x: 3 * x, lambda x: 3, name=f"loop_prim_{i}")
            x = Value(1.0)
            p(x).backward()
            assert x.grad == 3
            ag.unregister(f"loop_prim_{i}")
        del p, x
        gc.collect()
        assert len(ag.registered()) == before
        assert not [f for f in linecache.cache if f.startswith("<pullback of loop_")]

    def test_graphs_keep_working(self) -> None:
        """A graph built before unregistering still differentiates."""
        p = ag.primitive(lambda x: 3 * x, lambda x: 3, name="gone_prim")
        x = Value(1.0)
        y = p(x)
        ag.unregister("gone_prim")
        y.backward()
        assert x.grad == 3 and "gone_prim" not in ag.registered()

    def test_builtin_and_unknown(self) -> None:
        """A built-in cannot be unregistered; an unknown name is a KeyError."""
        with pytest.raises(ValueError, match="unregister\\('exp'\\)"):
            ag.unregister("exp")
        with pytest.raises(KeyError, match="no_such_prim"):
            ag.unregister("no_such_prim")
