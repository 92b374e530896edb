"""Ordinary Python on Values: numpy's functions, the graph-break warning, the lazy
math module, and the new activations in MLPs (issue 16, sections 1 and 2)."""

from __future__ import annotations

import math
import subprocess
import sys
import warnings
from typing import Any

import pytest

import autograd_scalar as ag
from autograd_scalar import GraphBreakWarning, Value, detect_anomaly
from autograd_scalar.nn import MLP


class TestNumpyOnValues:
    """np.sin(v), array * v and object arrays of Values."""

    np = pytest.importorskip("numpy")

    def test_ufunc_gives_a_value_with_its_gradient(self) -> None:
        """np.sin, np.exp and np.maximum record the graph like ag's functions."""
        np = self.np
        x, w = Value(0.5), Value(2.0)
        y = np.sin(x) * np.exp(x) + np.maximum(x, w) + np.arcsin(x)
        assert isinstance(y, Value)
        y.backward()
        want = (math.cos(0.5) + math.sin(0.5)) * math.exp(0.5) + 1 / math.sqrt(0.75)
        assert x.grad == pytest.approx(want, rel=1e-12)
        assert w.grad == 1

    def test_ufunc_without_primitive(self) -> None:
        """A ufunc with no primitive is a TypeError naming it."""
        with pytest.raises(TypeError, match="bitwise_and"):
            self.np.bitwise_and(Value(1), 2)

    @pytest.mark.parametrize(
        ("name", "numbers"),
        [
            ("deg2rad", lambda x: x * math.pi / 180),
            ("rad2deg", lambda x: x * 180 / math.pi),
            ("fabs", abs),
            ("square", lambda x: x * x),
            ("reciprocal", lambda x: 1 / x),
            ("positive", lambda x: x),
            ("conjugate", lambda x: x),
        ],
    )
    def test_ufuncs_named_otherwise(self, name: str, numbers: Any) -> None:
        """Synonyms and compositions of primitives: value and gradient, the
        gradient against a central difference of the same function on floats."""
        x = Value(-0.7)
        y = getattr(self.np, name)(x)
        assert isinstance(y, Value)
        assert y.data == pytest.approx(numbers(-0.7), rel=1e-12)
        y.backward()
        h = 1e-6
        slope = (numbers(-0.7 + h) - numbers(-0.7 - h)) / (2 * h)
        assert x.grad == pytest.approx(slope, rel=1e-7)

    def test_float_power(self) -> None:
        x = Value(1.5)
        y = self.np.float_power(x, 3)
        y.backward()
        assert (y.data, x.grad) == (pytest.approx(1.5**3), pytest.approx(3 * 1.5**2))

    @pytest.mark.parametrize("name", ["isnan", "isfinite", "isinf", "signbit"])
    def test_tests_of_a_number(self, name: str) -> None:
        """np.isnan(x) and friends answer on x's number, as for a float."""
        for number in (-1.0, 0.0, math.inf, math.nan):
            got = getattr(self.np, name)(Value(number))
            assert got is bool(getattr(self.np, name)(number))

    def test_array_times_value(self) -> None:
        """Value * ndarray and ndarray * Value are object arrays of Values."""
        np = self.np
        x = Value(3.0)
        for out in (x * np.array([1.0, 2.0]), np.array([1.0, 2.0]) * x):
            assert out.dtype == object and [v.data for v in out] == [3.0, 6.0]
        sum(out).backward()
        assert x.grad == 3.0

    def test_object_arrays(self) -> None:
        """np.dot, @, .sum() and np.exp work on object arrays of Values."""
        np = self.np
        a = np.array([Value(1.0), Value(2.0)])
        assert np.dot(a, a).data == 5.0 and (a @ a).data == 5.0
        assert a.sum().data == 3.0
        assert [v.data for v in np.exp(a)] == [math.exp(1.0), math.exp(2.0)]

    def test_numpy_scalars_compare_as_before(self) -> None:
        """np.float64(1) < x and divmod(np.float64(7), x) give Python's answers."""
        np = self.np
        x = Value(0.5)
        assert (np.float64(1) < x) is False and (np.float64(1) >= x) is True
        q, r = divmod(np.float64(7.0), Value(2.0))
        assert (q.data, r.data) == divmod(7.0, 2.0)
        assert (np.float64(2.0) * x).data == 1.0


class TestGraphBreakWarning:
    """float(v) inside detect_anomaly() warns, naming the user's line."""

    def test_standard_math_warns(self) -> None:
        """math.sin(v) converts v with float(): a GraphBreakWarning at this line."""
        x = Value(0.5)
        with (
            detect_anomaly(),
            pytest.warns(GraphBreakWarning, match="autograd_scalar.math") as caught,
        ):
            Value(2.0) * math.sin(x)
        assert caught[0].filename == __file__
        assert issubclass(GraphBreakWarning, UserWarning)

    def test_int_warns(self) -> None:
        """int(v) warns too."""
        with detect_anomaly(), pytest.warns(GraphBreakWarning, match="int"):
            int(Value(2.5))

    def test_silent_outside_detect_anomaly(self) -> None:
        """float(v) stays silent outside detect_anomaly()."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert float(Value(2.5)) == 2.5


class TestMathModule:
    """autograd_scalar.math is loaded on first use."""

    def test_lazy(self) -> None:
        """import autograd_scalar does not load it; ag.math and the from-import do."""
        code = (
            "import sys, autograd_scalar as ag\n"
            "print('autograd_scalar.math' in sys.modules)\n"
            "from autograd_scalar import math\n"
            "print(ag.math is math, math.sin(ag.Value(0.0)).op)\n"
        )
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert run.stdout.split() == ["False", "True", "sin"]


class TestActivations:
    """MLP(..., activation=...) takes the new activations by name."""

    @pytest.mark.parametrize(
        "name", ["gelu", "silu", "elu", "leaky_relu", "log_sigmoid", "softsign"]
    )
    def test_mlp_activation(self, name: str) -> None:
        """The hidden layer applies the named function (elu with alpha=1)."""
        net = MLP(1, [1, 1], activation=name, seed=0)
        out = net([0.7])
        hidden = net.layers[0].neurons[0]
        pre = hidden.w[0].data * 0.7 + hidden.b.data
        want = getattr(ag, name)(pre)
        final = net.layers[-1].neurons[0]
        assert out.data == pytest.approx(final.w[0].data * want + final.b.data)
