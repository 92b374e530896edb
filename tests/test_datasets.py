"""make_moons: shapes, geometry, randomness, errors, and scikit-learn as an oracle."""

from __future__ import annotations

import math
import random
import statistics
from typing import Any

import pytest

from autograd_scalar.datasets import make_moons


class TestShapes:
    """Plain lists of the right sizes and types."""

    @pytest.mark.parametrize(
        ("n_samples", "n_out", "n_in"),
        [(100, 50, 50), (7, 3, 4), (1, 0, 1), ((3, 5), 3, 5), ((0, 2), 0, 2)],
    )
    def test_sizes(self, n_samples: Any, n_out: int, n_in: int) -> None:
        """An int n splits n // 2 outer, the rest inner; a pair gives each size."""
        xs, y = make_moons(n_samples)
        assert len(xs) == len(y) == n_out + n_in
        assert y.count(0) == n_out and y.count(1) == n_in

    def test_plain_lists(self) -> None:
        """X is a list of [x, y] float lists, y a list of ints."""
        xs, y = make_moons(10, noise=0.1, random_state=0)
        assert type(xs) is list and type(y) is list
        assert all(type(p) is list and len(p) == 2 for p in xs)
        assert all(type(c) is float for p in xs for c in p)
        assert all(type(label) is int and label in (0, 1) for label in y)

    def test_unshuffled_order(self) -> None:
        """shuffle=False lists the outer moon (label 0) first, each by increasing t."""
        xs, y = make_moons(6, shuffle=False)
        assert y == [0, 0, 0, 1, 1, 1]
        assert xs[0] == [1.0, 0.0] and xs[3] == [0.0, 0.5]  # t = 0 on each moon


class TestGeometry:
    """Without noise the points lie on the two half circles, evenly spaced."""

    def test_on_circles(self) -> None:
        """Outer: unit circle at the origin, y >= 0; inner: unit circle at (1, 0.5)."""
        xs, y = make_moons(50, shuffle=False)
        for (a, b), label in zip(xs, y, strict=True):
            cx, cy, sign = (0.0, 0.0, 1) if label == 0 else (1.0, 0.5, -1)
            assert math.hypot(a - cx, b - cy) == pytest.approx(1.0, abs=1e-12)
            assert sign * (b - cy) >= -1e-12  # the upper / lower half

    def test_even_spacing(self) -> None:
        """Angles on the outer moon are 0, pi/(n-1), ..., pi."""
        xs, _ = make_moons((5, 5), shuffle=False)
        angles = [math.atan2(b, a) for a, b in xs[:5]]
        assert angles == pytest.approx([k * math.pi / 4 for k in range(5)], abs=1e-12)

    def test_shuffle_is_a_permutation(self) -> None:
        """Shuffling reorders points and labels together."""
        plain = make_moons(20, shuffle=False)
        shuffled = make_moons(20, random_state=3)
        pairs = sorted(zip(map(tuple, plain[0]), plain[1], strict=True))
        assert pairs == sorted(zip(map(tuple, shuffled[0]), shuffled[1], strict=True))
        assert shuffled != plain


class TestRandomness:
    """random_state makes output reproducible."""

    def test_same_seed_same_data(self) -> None:
        """One int seed gives identical data."""
        assert make_moons(30, noise=0.2, random_state=4) == make_moons(
            30, noise=0.2, random_state=4
        )

    def test_different_seeds_differ(self) -> None:
        """Different seeds give different noise."""
        assert make_moons(30, noise=0.2, random_state=4) != make_moons(
            30, noise=0.2, random_state=5
        )

    def test_random_instance(self) -> None:
        """A random.Random is drawn from as it is."""
        rng = random.Random(8)
        first = make_moons(10, noise=0.1, random_state=rng)
        assert make_moons(10, noise=0.1, random_state=random.Random(8)) == first
        assert make_moons(10, noise=0.1, random_state=rng) != first

    def test_noise_std(self) -> None:
        """Noise is Gaussian with standard deviation `noise` on each coordinate."""
        clean, _ = make_moons(4000, shuffle=False)
        noisy, _ = make_moons(4000, shuffle=False, noise=0.3, random_state=0)
        dx = [n[0] - c[0] for n, c in zip(noisy, clean, strict=True)]
        dy = [n[1] - c[1] for n, c in zip(noisy, clean, strict=True)]
        # The sample std of 4000 normals is within 0.3 * 4/sqrt(2*4000) of 0.3 (4 sigma)
        for d in (dx, dy):
            assert abs(statistics.mean(d)) < 4 * 0.3 / math.sqrt(4000)
            assert statistics.stdev(d) == pytest.approx(
                0.3, abs=0.3 * 4 / math.sqrt(2 * 4000)
            )


class TestErrors:
    """Bad arguments, as scikit-learn refuses them."""

    @pytest.mark.parametrize(
        ("kwargs", "error"),
        [
            ({"n_samples": 0}, ValueError),
            ({"n_samples": (1, 2, 3)}, ValueError),
            ({"n_samples": (1, -2)}, ValueError),
            ({"n_samples": 2.5}, TypeError),
            ({"n_samples": "10"}, TypeError),
            ({"noise": -0.1}, ValueError),
            ({"noise": math.nan}, ValueError),
            ({"noise": "a"}, TypeError),
            ({"random_state": "seed"}, TypeError),
            ({"shuffle": 1}, TypeError),
        ],
    )
    def test_bad_arguments(
        self, kwargs: dict[str, Any], error: type[Exception]
    ) -> None:
        """Each bad argument is an error naming make_moons."""
        with pytest.raises(error, match="make_moons"):
            make_moons(**kwargs)


class TestAgainstScikitLearn:
    """The same points and the same distribution as sklearn.datasets.make_moons."""

    @pytest.mark.parametrize("n_samples", [1, 2, 7, 100, (3, 8), (0, 4)])
    def test_noiseless_points_identical(self, n_samples: Any) -> None:
        """Without noise both give the same labelled points, as sets."""
        sk = pytest.importorskip("sklearn.datasets")
        xs, y = make_moons(n_samples, random_state=0)
        sx, sy = sk.make_moons(n_samples, random_state=0)

        def points(xs: Any, ys: Any) -> set[tuple[float, float, int]]:
            return {
                (round(a, 12), round(b, 12), int(c))
                for (a, b), c in zip(xs, ys, strict=True)
            }

        assert points(xs, y) == points(sx.tolist(), sy.tolist())

    def test_signature(self) -> None:
        """The same parameters, in the same order, with the same defaults."""
        sk = pytest.importorskip("sklearn.datasets")
        import inspect

        ours = inspect.signature(make_moons).parameters
        theirs = inspect.signature(sk.make_moons).parameters
        assert list(ours) == list(theirs)
        for name in ours:
            assert ours[name].default == theirs[name].default
            assert ours[name].kind == theirs[name].kind

    def test_noisy_distribution(self) -> None:
        """Per class and coordinate, means and stds agree over 20,000 points."""
        sk = pytest.importorskip("sklearn.datasets")
        n, noise = 20_000, 0.2
        xs, y = make_moons(n, noise=noise, random_state=0)
        sx, sy = sk.make_moons(n, noise=noise, random_state=0)
        for label in (0, 1):
            ours = [p for p, c in zip(xs, y, strict=True) if c == label]
            theirs = [
                p for p, c in zip(sx.tolist(), sy.tolist(), strict=True) if c == label
            ]
            for k in (0, 1):
                a = [p[k] for p in ours]
                b = [p[k] for p in theirs]
                # Each coordinate has std < 1 over 10,000 points: the standard error
                # of a mean is < 0.01 and of a std < 0.01, so 0.05 is over 3.5
                # standard errors of the difference of two independent samples.
                assert statistics.mean(a) == pytest.approx(statistics.mean(b), abs=0.05)
                assert statistics.stdev(a) == pytest.approx(
                    statistics.stdev(b), abs=0.05
                )
