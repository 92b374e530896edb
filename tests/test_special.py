"""The special functions of ``_special`` against mpmath at many points.

mpmath computes each function at 40 digits by its own methods, an oracle independent
of ours; derivative relations (digamma = lgamma', polygamma(n+1) = polygamma(n)') are
checked by central finite differences.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

from autograd_scalar import _special

mpmath = pytest.importorskip("mpmath")
mpmath.mp.dps = 40


def close(got: float, want: object, rel: float = 1e-12, abs_: float = 1e-300) -> bool:
    """got agrees with the mpmath number want to rel (or abs_ near zero)."""
    return math.isclose(got, float(want), rel_tol=rel, abs_tol=abs_)  # type: ignore[arg-type]


def uniform(lo: float, hi: float, n: int, seed: str) -> list[float]:
    """n reproducible random points in [lo, hi]."""
    rng = random.Random(seed)
    return [rng.uniform(lo, hi) for _ in range(n)]


def off_poles(xs: list[float]) -> list[float]:
    """xs without the points within 1e-3 of 0 or a negative integer."""
    return [x for x in xs if x > 1e-3 or abs(x - round(x)) > 1e-3]


def central_difference(f: Callable[[float], float], x: float, h: float) -> float:
    """(f(x+h) - f(x-h)) / 2h."""
    return (f(x + h) - f(x - h)) / (2 * h)


class TestGammaAndLgamma:
    """gamma and lgamma: math's values, errors that name the function and value."""

    def test_values_match_mpmath(self) -> None:
        """gamma and log|gamma| agree with mpmath on [-20, 100] off the poles."""
        for x in off_poles(uniform(-20, 100, 300, "gamma")):
            assert close(
                _special.lgamma(x), mpmath.log(abs(mpmath.gamma(x))), 1e-12, 1e-14
            )
            if x < 170:
                assert close(_special.gamma(x), mpmath.gamma(x), 1e-12)

    @pytest.mark.parametrize("name", ["gamma", "lgamma"])
    @pytest.mark.parametrize("x", [0.0, -1.0, -7.0])
    def test_pole_is_a_value_error_naming_it(self, name: str, x: float) -> None:
        """At a non-positive integer: ValueError with the function and the value."""
        with pytest.raises(ValueError, match=rf"{name}\({x!r}\).*pole"):
            getattr(_special, name)(x)

    def test_gamma_overflow_names_the_value(self) -> None:
        """gamma(200) is too large for a float: OverflowError naming it."""
        with pytest.raises(OverflowError, match=r"gamma\(200.0\)"):
            _special.gamma(200.0)


class TestPolygamma:
    """digamma and polygamma(n, x): accuracy, poles, special points, derivatives."""

    @pytest.mark.parametrize("n", range(7))
    def test_random_points_match_mpmath(self, n: int) -> None:
        """1e-12 relative on [-20, 100] for n = 0..6, off the poles."""
        xs = off_poles(uniform(-20, 100, 300, f"pg{n}") + uniform(-20, 3, 300, f"n{n}"))
        for x in xs:
            want = mpmath.polygamma(n, x)
            assert close(_special.polygamma(n, x), want, 1e-12, 1e-15), (n, x)

    @pytest.mark.parametrize("n", range(7))
    def test_grid_including_half_integers(self, n: int) -> None:
        """A grid of step 1/8 on (-20, 10), where psi^(n) is small at half-integers."""
        for k in range(-160, 80):
            x = k / 8
            if x <= 0 and x == int(x):
                continue
            want = mpmath.polygamma(n, x)
            assert close(_special.polygamma(n, x), want, 1e-12, 1e-15), (n, x)

    def test_digamma_is_polygamma_zero(self) -> None:
        """digamma(x) is polygamma(0, x), and -gamma_E at 1."""
        for x in off_poles(uniform(-5, 30, 50, "dg")):
            assert _special.digamma(x) == _special.polygamma(0, x)
        assert close(_special.digamma(1.0), -mpmath.euler, 1e-15)

    def test_large_arguments(self) -> None:
        """Far out (1e3 to 1e300) the asymptotic series alone is used and accurate."""
        for x in (1e3, 1e6, 1e15, 1e300):
            assert close(_special.polygamma(0, x), mpmath.digamma(x), 1e-14)
            assert close(_special.polygamma(1, x), mpmath.polygamma(1, x), 1e-14)

    @pytest.mark.parametrize("n", [0, 1, 4])
    @pytest.mark.parametrize("x", [0.0, -1.0, -19.0])
    def test_poles_raise_naming_function_and_value(self, n: int, x: float) -> None:
        """At 0 and the negative integers: ValueError naming the call."""
        name = r"digamma\(" if n == 0 else rf"polygamma\({n}, "
        with pytest.raises(ValueError, match=rf"{name}{x!r}\).*pole"):
            _special.polygamma(n, x)

    def test_order_must_be_a_nonnegative_integer(self) -> None:
        """A float order is a TypeError, a negative one a ValueError."""
        with pytest.raises(TypeError, match=r"polygamma\(1.0, 2.0\).*integer"):
            _special.polygamma(1.0, 2.0)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match=r"polygamma\(-1, 2.0\).*>= 0"):
            _special.polygamma(-1, 2.0)

    def test_infinities_and_nan(self) -> None:
        """psi(inf) = inf, psi^(n)(inf) = 0, nan propagates, -inf has no limit."""
        assert _special.digamma(math.inf) == math.inf
        assert _special.polygamma(3, math.inf) == 0.0
        assert math.isnan(_special.polygamma(2, math.nan))
        with pytest.raises(ValueError, match=r"digamma\(-inf\)"):
            _special.digamma(-math.inf)

    def test_overflow_near_zero_names_the_call(self) -> None:
        """polygamma(6, 1e-300) overflows: OverflowError naming the call."""
        with pytest.raises(OverflowError, match=r"polygamma\(6, 1e-300\)"):
            _special.polygamma(6, 1e-300)

    def test_digamma_is_the_derivative_of_lgamma(self) -> None:
        """Central differences of lgamma give digamma."""
        for x in off_poles(uniform(-6, 30, 60, "dlg")):
            if x < 0 and abs(x - round(x)) < 0.05:
                continue  # the difference step must not straddle a pole
            fd = central_difference(_special.lgamma, x, 1e-5)
            assert math.isclose(_special.digamma(x), fd, rel_tol=1e-6, abs_tol=1e-6)

    @pytest.mark.parametrize("n", range(6))
    def test_each_order_is_the_derivative_of_the_last(self, n: int) -> None:
        """Central differences of polygamma(n, .) give polygamma(n + 1, .)."""
        for x in off_poles(uniform(-6, 30, 60, f"dpg{n}")):
            if x < 0.5 and abs(x - round(x)) < 0.1:
                continue
            fd = central_difference(lambda t: _special.polygamma(n, t), x, 1e-5)
            want = _special.polygamma(n + 1, x)
            assert math.isclose(want, fd, rel_tol=1e-5, abs_tol=1e-5), (n, x)


class TestElementary:
    """erfc, cbrt, exp2, sinc, logaddexp(2), fmax/fmin, copysign."""

    def test_erfc_matches_mpmath(self) -> None:
        """erfc keeps its tiny values for large x (no 1 - erf cancellation)."""
        for x in uniform(-6, 26, 200, "erfc"):
            assert close(_special.erfc(x), mpmath.erfc(x), 1e-13)

    def test_cbrt_is_real_for_negatives(self) -> None:
        """cbrt(x) agrees with the real cube root, negative for x < 0."""
        for x in uniform(-1e6, 1e6, 200, "cbrt") + uniform(-1, 1, 200, "cbrt1"):
            want = mpmath.sign(x) * mpmath.cbrt(abs(x))
            assert close(_special.cbrt(x), want, 4e-16)

    def test_cbrt_exact_on_cubes(self) -> None:
        """Perfect cubes give their exact root (math.cbrt(27) is 3 + 1 ulp)."""
        for k in range(-200, 201):
            assert _special.cbrt(float(k**3)) == k

    def test_cbrt_edges(self) -> None:
        """0, -0, infinities and nan pass through as in numpy."""
        assert math.copysign(1, _special.cbrt(-0.0)) == -1
        assert _special.cbrt(-math.inf) == -math.inf
        assert math.isnan(_special.cbrt(math.nan))

    def test_exp2(self) -> None:
        """exp2 is 2**x, exact at integers; overflow names the value."""
        for k in range(-1074, 1024, 37):
            assert _special.exp2(float(k)) == 2.0**k
        for x in uniform(-50, 50, 100, "exp2"):
            assert close(_special.exp2(x), mpmath.power(2, x), 1e-15)
        with pytest.raises(OverflowError, match=r"exp2\(1024.0\)"):
            _special.exp2(1024.0)

    def test_sinc_matches_mpmath(self) -> None:
        """The normalised sinc, near 0 (the series) and far from it."""
        for x in uniform(-0.3, 0.3, 200, "s0") + uniform(-50, 50, 200, "s1"):
            assert close(_special.sinc(x), mpmath.sincpi(x), 1e-13, 1e-16), x

    def test_sinc_exact_points(self) -> None:
        """1 at 0, exactly 0 at the other integers and at infinity."""
        assert _special.sinc(0.0) == 1.0
        assert all(_special.sinc(float(k)) == 0.0 for k in range(-50, 51) if k)
        assert _special.sinc(math.inf) == 0.0

    @pytest.mark.parametrize(
        ("name", "base"), [("logaddexp", math.e), ("logaddexp2", 2.0)]
    )
    def test_logaddexp_matches_mpmath(self, name: str, base: float) -> None:
        """log_b(b^x + b^y) at ordinary and huge magnitudes (no overflow)."""
        f = getattr(_special, name)
        xs = uniform(-30, 30, 100, name) + uniform(-1e4, 1e4, 100, name + "big")
        ys = uniform(-30, 30, 100, name + "y") + uniform(-1e4, 1e4, 100, name + "yb")
        for x, y in zip(xs, ys, strict=True):
            want = mpmath.log(mpmath.power(base, x) + mpmath.power(base, y), base)
            assert close(f(x, y), want, 1e-14), (x, y)

    @pytest.mark.parametrize("name", ["logaddexp", "logaddexp2"])
    def test_logaddexp_infinities(self, name: str) -> None:
        """-inf is the identity; equal infinities and nan behave as numpy's."""
        f = getattr(_special, name)
        assert f(-math.inf, 3.0) == 3.0
        assert f(-math.inf, -math.inf) == -math.inf
        assert f(math.inf, math.inf) == math.inf
        assert math.isnan(f(math.nan, 1.0)) and math.isnan(f(1.0, math.nan))

    def test_fmax_fmin_ignore_one_nan(self) -> None:
        """A single nan operand is ignored; two nans give nan; else max/min."""
        nan = math.nan
        for f, pick in ((_special.fmax, max), (_special.fmin, min)):
            assert f(nan, 2.0) == 2.0 and f(2.0, nan) == 2.0
            assert math.isnan(f(nan, nan))
            for x, y in zip(
                uniform(-9, 9, 50, "fm"), uniform(-9, 9, 50, "fn"), strict=True
            ):
                assert f(x, y) == pick(x, y)

    def test_copysign(self) -> None:
        """|x| with y's sign, -0.0 negative."""
        assert _special.copysign(3.0, -0.0) == -3.0
        assert _special.copysign(-3.0, 2.0) == 3.0


def normal_cdf(x: float) -> object:
    """Phi(x) at mpmath precision."""
    return mpmath.ncdf(x)


class TestActivations:
    """gelu, silu, elu, leaky_relu, log_sigmoid, softsign against mpmath."""

    XS = uniform(-40, 40, 200, "act") + uniform(-3, 3, 200, "act0")

    # gelu's tail is e^(-x^2/2): the rounding of x/sqrt(2) alone costs x^2 ulps there
    @pytest.mark.parametrize(
        ("name", "exact"),
        [
            ("gelu", lambda x: x * mpmath.ncdf(x)),
            ("silu", lambda x: x / (1 + mpmath.exp(-x))),
            ("elu", lambda x: x if x > 0 else mpmath.expm1(x)),
            ("leaky_relu", lambda x: x if x > 0 else 0.01 * mpmath.mpf(x)),
            ("log_sigmoid", lambda x: -mpmath.log1p(mpmath.exp(-x))),
            ("softsign", lambda x: x / (1 + abs(mpmath.mpf(x)))),
        ],
    )
    def test_matches_mpmath(self, name: str, exact: Callable[[float], object]) -> None:
        """Each activation agrees with its definition at 40 digits."""
        f = getattr(_special, name)
        for x in self.XS:
            rel = 1e-15 * (1 + x * x) if name == "gelu" else 1e-13
            assert close(f(x), exact(x), rel, 1e-300), (name, x)

    def test_parameters(self) -> None:
        """elu's alpha and leaky_relu's negative_slope scale the negative side."""
        assert _special.elu(-1.0, 2.0) == 2.0 * math.expm1(-1.0)
        assert _special.leaky_relu(-3.0, 0.5) == -1.5
        assert _special.elu(0.0) == 0.0 and _special.leaky_relu(0.0) == 0.0

    def test_no_overflow_at_the_ends(self) -> None:
        """Large magnitudes give the limits, not OverflowError or nan."""
        assert _special.silu(-1000.0) == -0.0
        assert _special.silu(1000.0) == 1000.0
        assert _special.log_sigmoid(-1000.0) == -1000.0
        assert _special.log_sigmoid(1000.0) == -0.0
        assert -1e-190 < _special.gelu(-30.0) < 0  # -30 Phi(-30), about -1.5e-196

    @pytest.mark.parametrize(
        "name", ["gelu", "silu", "elu", "leaky_relu", "log_sigmoid", "softsign"]
    )
    def test_nan_propagates(self, name: str) -> None:
        """nan in, nan out."""
        assert math.isnan(getattr(_special, name)(math.nan))
