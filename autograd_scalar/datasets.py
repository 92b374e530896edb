"""Toy data sets, in plain Python lists (no numpy needed).

``make_moons`` has scikit-learn's signature and draws from the same distribution; it
returns ``X`` as a list of ``[x, y]`` lists and ``y`` as a list of ints, which is what
``autograd_scalar.nn`` models take (``numpy.array(X)`` converts if you want arrays).
"""

from __future__ import annotations

import math
import numbers
import random

__all__ = ["make_moons"]


def make_moons(
    n_samples: int | tuple[int, int] = 100,
    *,
    shuffle: bool = True,
    noise: float | None = None,
    random_state: int | random.Random | None = None,
) -> tuple[list[list[float]], list[int]]:
    """Two interleaving half circles, as ``sklearn.datasets.make_moons`` makes them.

    The outer moon (label 0) is ``(cos t, sin t)`` and the inner one (label 1) is
    ``(1 - cos t, 0.5 - sin t)``, each at evenly spaced ``t`` from 0 to pi inclusive.

    Args:
        n_samples: the total number of points (the outer moon gets ``n // 2``, the
            inner one the rest), or a pair ``(n_outer, n_inner)``.
        shuffle: shuffle the points (and their labels) instead of listing the outer
            moon first.
        noise: standard deviation of Gaussian noise added to each coordinate
            (``None``: no noise).
        random_state: an int for reproducible output, a ``random.Random`` to draw
            from, or ``None`` for fresh randomness.

    Returns:
        ``(X, y)``: ``X`` a list of ``n`` points ``[x, y]``, ``y`` a list of ``n``
        labels, each 0 or 1.

    >>> X, y = make_moons(4, shuffle=False)
    >>> [[round(a, 3), round(b, 3)] for a, b in X], y
    ([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.5], [2.0, 0.5]], [0, 0, 1, 1])
    >>> X, y = make_moons(200, noise=0.1, random_state=0)
    >>> len(X), len(X[0]), sum(y)
    (200, 2, 100)
    """
    n_out, n_in = _sizes(n_samples)
    if not isinstance(shuffle, bool):
        raise TypeError(
            f"make_moons: shuffle must be a bool, got {type(shuffle).__name__}: "
            f"{shuffle!r}"
        )
    if noise is not None:
        if isinstance(noise, bool) or not isinstance(noise, numbers.Real):
            raise TypeError(
                f"make_moons: noise must be a number or None, "
                f"got {type(noise).__name__}: {noise!r}"
            )
        if not noise >= 0:
            raise ValueError(f"make_moons: noise must be >= 0, got {noise!r}")
    rng = _random(random_state)

    points = [[math.cos(t), math.sin(t)] for t in _linspace_pi(n_out)]
    points += [[1 - math.cos(t), 1 - math.sin(t) - 0.5] for t in _linspace_pi(n_in)]
    labels = [0] * n_out + [1] * n_in
    if shuffle:
        order = list(range(len(points)))
        rng.shuffle(order)
        points = [points[i] for i in order]
        labels = [labels[i] for i in order]
    if noise is not None:
        gauss = rng.normalvariate
        points = [[a + gauss(0, noise), b + gauss(0, noise)] for a, b in points]
    return points, labels


def _sizes(n_samples: object) -> tuple[int, int]:
    """(outer, inner) from an int total or a pair, as scikit-learn splits them."""
    if isinstance(n_samples, numbers.Integral) and not isinstance(n_samples, bool):
        n = int(n_samples)
        if n < 1:
            raise ValueError(f"make_moons: n_samples must be at least 1, got {n}")
        return n // 2, n - n // 2
    if isinstance(n_samples, tuple):
        if len(n_samples) != 2:
            raise ValueError(
                f"make_moons: n_samples must be an int or a pair (n_outer, n_inner),"
                f" got {n_samples!r}"
            )
        for k in n_samples:
            if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 0:
                raise ValueError(
                    f"make_moons: each size in n_samples must be an int >= 0, "
                    f"got {n_samples!r}"
                )
        return int(n_samples[0]), int(n_samples[1])
    raise TypeError(
        f"make_moons: n_samples must be an int or a pair (n_outer, n_inner), "
        f"got {type(n_samples).__name__}: {n_samples!r}"
    )


def _linspace_pi(n: int) -> list[float]:
    """n evenly spaced angles from 0 to pi inclusive (numpy.linspace's arithmetic)."""
    if n == 1:
        return [0.0]
    step = math.pi / (n - 1)
    return [i * step for i in range(n - 1)] + [math.pi] if n else []


def _random(random_state: object) -> random.Random:
    if isinstance(random_state, random.Random):
        return random_state
    if random_state is None:
        return random.Random()
    if isinstance(random_state, numbers.Integral) and not isinstance(
        random_state, bool
    ):
        return random.Random(int(random_state))
    raise TypeError(
        f"make_moons: random_state must be an int, a random.Random or None, "
        f"got {type(random_state).__name__}: {random_state!r}"
    )
