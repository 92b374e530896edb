"""Optimizers: update parameter Values from their gradients.

An optimizer holds a list of parameters. After ``loss.backward()``, ``step()`` moves
each parameter's ``data`` against its ``grad`` (plain arithmetic on numbers: no graph
is recorded) and ``zero_grad()`` resets the gradients before the next backward.
``lr`` is an attribute you may change between steps (a learning-rate schedule).

>>> from autograd_scalar import Value
>>> x = Value(3.0)
>>> opt = SGD([x], lr=0.1)
>>> for _ in range(100):
...     opt.zero_grad()
...     (x * x).backward()
...     opt.step()
>>> abs(x.data) < 1e-8
True
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from ._engine import Value, _data

__all__ = ["SGD", "Adam", "Optimizer"]


class Optimizer:
    """What every optimizer shares: the parameters, ``lr`` and ``zero_grad``.

    Subclasses implement ``step()`` and name their state in ``_STATE``: each key of
    ``state_dict()`` with the attribute holding it (a running state is a list with
    one number per parameter).

    >>> opt = SGD([Value(1.0)], lr=0.5)
    >>> opt.lr = 0.25
    >>> opt.lr
    0.25
    """

    _STATE: ClassVar[dict[str, str]] = {"lr": "lr"}

    def __init__(self, params: Iterable[Value], lr: float) -> None:
        name = type(self).__name__
        try:
            if isinstance(params, Value):
                raise TypeError  # one Value, not an iterable of them
            self.params = list(params)
        except TypeError:
            raise TypeError(
                f"{name}: params must be an iterable of Values, "
                f"got {type(params).__name__}: {params!r}"
            ) from None
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(
                    f"{name}: params[{i}] must be a Value, "
                    f"got {type(p).__name__}: {p!r}"
                )
        if not self.params:
            raise ValueError(f"{name}: params is empty, nothing to optimize")
        if len(set(self.params)) != len(self.params):  # Values hash by identity
            raise ValueError(f"{name}: a parameter appears twice in params")
        self.lr = lr

    @property
    def lr(self) -> float:
        """The learning rate: a number >= 0, which may change between steps."""
        return self._lr

    @lr.setter
    def lr(self, lr: float) -> None:
        self._lr = _hyperparameter(self, "lr", lr)

    def step(self) -> None:
        """Update every parameter's ``data`` from its ``grad``."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """The hyperparameters and the running state, as plain numbers and lists.

        Saved beside a model's ``state_dict()``, it lets training resume where it
        stopped: a new optimizer over the loaded model's parameters (in the same
        order) takes it with ``load_state_dict``.

        >>> x = Value(1.0)
        >>> opt = SGD([x], lr=0.1, momentum=0.9)
        >>> (x * x).backward()
        >>> opt.step()
        >>> opt.state_dict()
        {'lr': 0.1, 'momentum': 0.9, 'velocity': [2.0]}
        """
        state = {}
        for key, attribute in self._STATE.items():
            value = getattr(self, attribute)
            state[key] = list(value) if isinstance(value, list) else value
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Take the hyperparameters and running state ``state_dict()`` gave.

        The keys must be exactly this optimizer's, each running state must have one
        number per parameter, and each hyperparameter must be valid, or a clear
        error names the key and nothing changes.

        >>> x = Value(1.0)
        >>> opt = SGD([x], lr=0.1, momentum=0.9)
        >>> opt.load_state_dict({"lr": 0.05, "momentum": 0.9, "velocity": [1.5]})
        >>> opt.lr, opt.state_dict()["velocity"]
        (0.05, [1.5])
        """
        who = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"{who}: state_dict must be a mapping, got "
                f"{type(state_dict).__name__}: {state_dict!r}"
            )
        missing = [k for k in self._STATE if k not in state_dict]
        unexpected = [k for k in state_dict if k not in self._STATE]
        if missing or unexpected:
            parts = [
                f"{kind} keys {', '.join(map(repr, keys))}"
                for kind, keys in (("missing", missing), ("unexpected", unexpected))
                if keys
            ]
            raise RuntimeError(f"{who}: {'; '.join(parts)}")
        # Checked on a copy (the constructor's checks, then the lists'): all or none.
        trial = copy.copy(self)
        for key, attribute in self._STATE.items():
            value = state_dict[key]
            if isinstance(getattr(self, attribute), list):
                value = _running(who, key, value, len(self.params))
            setattr(trial, attribute, value)
        trial._check()
        self.__dict__.update(trial.__dict__)

    def _check(self) -> None:
        """Raise if a hyperparameter is not valid (after ``load_state_dict``)."""
        self.lr = self.lr

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0.

        >>> x = Value(2.0)
        >>> (x * x).backward()
        >>> SGD([x], lr=0.1).zero_grad()
        >>> x.grad
        0
        """
        for p in self.params:
            p.grad = 0


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (heavy-ball) momentum.

    Each step, per parameter with gradient ``g``, velocity ``v`` starting at 0::

        v = momentum * v + g
        data = data - lr * v

    (PyTorch's formulation; with ``momentum=0`` it is ``data -= lr * g``.) Its
    ``state_dict()`` holds ``lr``, ``momentum`` and ``velocity``.

    >>> x = Value(1.0)
    >>> opt = SGD([x], lr=0.1, momentum=0.9)
    >>> (x * x).backward()  # g = 2
    >>> opt.step()
    >>> x.data  # 1 - 0.1 * 2
    0.8
    """

    def __init__(
        self, params: Iterable[Value], lr: float, momentum: float = 0.0
    ) -> None:
        super().__init__(params, lr)
        self.momentum = _hyperparameter(self, "momentum", momentum)
        self._velocity = [0.0] * len(self.params)

    _STATE: ClassVar[dict[str, str]] = {
        "lr": "lr",
        "momentum": "momentum",
        "velocity": "_velocity",
    }

    def _check(self) -> None:
        super()._check()
        self.momentum = _hyperparameter(self, "momentum", self.momentum)

    def step(self) -> None:
        lr, momentum, velocity = self._lr, self.momentum, self._velocity
        if momentum == 0:
            for p in self.params:
                p.data -= lr * _data(p.grad)
            return
        for i, p in enumerate(self.params):
            v = momentum * velocity[i] + _data(p.grad)
            velocity[i] = v
            p.data -= lr * v


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015): steps scaled by running gradient moments.

    Each step ``t = 1, 2, ...``, per parameter with gradient ``g`` and moments
    ``m, v`` starting at 0::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        data = data - lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps)

    The bias corrections make the first step move each parameter by about ``lr``
    against the sign of its gradient. Its ``state_dict()`` holds ``lr``, ``betas``,
    ``eps``, the step count ``t`` and the moments ``m`` and ``v``.

    >>> x = Value(1.0)
    >>> opt = Adam([x], lr=0.1)
    >>> (x * x).backward()
    >>> opt.step()
    >>> round(x.data, 6)  # 1 - 0.1 * 2 / (2 + 1e-8)
    0.9
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        super().__init__(params, lr)
        self.betas = betas
        self.eps = eps
        self.t = 0
        self._m = [0.0] * len(self.params)
        self._v = [0.0] * len(self.params)
        self._check()

    _STATE: ClassVar[dict[str, str]] = {
        "lr": "lr",
        "betas": "betas",
        "eps": "eps",
        "t": "t",
        "m": "_m",
        "v": "_v",
    }

    def _check(self) -> None:
        super()._check()
        try:
            first, second = self.betas
        except (TypeError, ValueError):
            raise TypeError(
                f"Adam: betas must be a pair of numbers, got {self.betas!r}"
            ) from None
        beta1 = _hyperparameter(self, "betas[0]", first)
        beta2 = _hyperparameter(self, "betas[1]", second)
        for i, beta in enumerate((beta1, beta2)):
            if beta >= 1:
                raise ValueError(f"Adam: betas[{i}] must be in [0, 1), got {beta!r}")
        self.betas = (beta1, beta2)
        self.eps = _hyperparameter(self, "eps", self.eps)
        t = self.t
        if isinstance(t, bool) or not isinstance(t, int) or t < 0:
            raise TypeError(f"Adam: t (steps taken) must be an int >= 0, got {t!r}")

    def step(self) -> None:
        self.t += 1
        beta1, beta2 = self.betas
        lr, eps, m, v = self._lr, self.eps, self._m, self._v
        c1 = 1 - beta1**self.t  # bias corrections: m and v start at 0, not at E[g]
        c2 = 1 - beta2**self.t
        for i, p in enumerate(self.params):
            g = _data(p.grad)
            mi = m[i] = beta1 * m[i] + (1 - beta1) * g
            vi = v[i] = beta2 * v[i] + (1 - beta2) * g * g
            p.data -= lr * (mi / c1) / (math.sqrt(vi / c2) + eps)


def _running(who: str, key: str, value: object, n: int) -> list[float]:
    """A running state: one real number per parameter, or a clear error."""
    if not isinstance(value, (list, tuple)) or len(value) != n:
        raise ValueError(
            f"{who}: {key!r} must be a list of {n} numbers (one per parameter), "
            f"got {value!r}"
        )
    for i, x in enumerate(value):
        if isinstance(x, bool) or not isinstance(x, numbers.Real):
            raise TypeError(f"{who}: {key}[{i}] must be a number, got {x!r}")
    return [float(x) for x in value]


def _hyperparameter(opt: Optimizer, name: str, x: object) -> float:
    """A finite number >= 0, or a clear error naming the optimizer and argument."""
    who = type(opt).__name__
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise TypeError(
            f"{who}: {name} must be a number, got {type(x).__name__}: {x!r}"
        )
    number = float(x)
    if not (number >= 0 and math.isfinite(number)):
        raise ValueError(f"{who}: {name} must be a finite number >= 0, got {x!r}")
    return number
