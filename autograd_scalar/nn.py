"""Small neural networks on Values: ``Neuron``, ``Layer``, ``MLP`` and three losses.

A network is a ``Module``: it owns parameter Values, lists them with ``parameters()``
and resets their gradients with ``zero_grad()``. Calling it on a sequence of numbers
or Values builds the graph of its output, so ``loss.backward()`` fills the gradient
of every parameter, and an optimizer (``autograd_scalar.optim``) updates them.

>>> from autograd_scalar.nn import MLP, mse
>>> model = MLP(2, [4, 1], seed=0)
>>> loss = mse([model([1.0, -1.0]), model([0.5, 2.0])], [1.0, 0.0])
>>> loss.backward()
>>> len(model.parameters())  # (2 weights + 1 bias) * 4 + (4 weights + 1 bias) * 1
17

Activations are looked up by name in the rule table (``autograd_scalar.registered()``),
so any unary primitive serves: ``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"softplus"``,
``"erf"``, a primitive of your own... ``None`` means linear.

Every parameter is named by where it lives, and that name is its ``label`` (so
drawings, ``explain`` and the tape show it) and its key in ``state_dict()``:
``L1.N3.w0`` is the weight that neuron 3 of layer 1 puts on its input 0, ``L1.N3.b``
that neuron's bias. Layers and neurons are counted from 1 (the first layer, the third
neuron); a weight carries the index of the input it multiplies, from 0, as ``x[0]``.
``L2.N1.w0`` is ``model.layers[1].neurons[0].w[0]``.

>>> model.parameters()[0].label, model.parameters()[-1].label
('L1.N1.w0', 'L2.N1.b')

A model saves and loads with ``pickle``, or as numbers with ``state_dict()`` and
``load_state_dict()``, as in PyTorch:

>>> state = model.state_dict()
>>> other = MLP(2, [4, 1], seed=1)
>>> other.load_state_dict(state)
IncompatibleKeys(missing_keys=[], unexpected_keys=[])
>>> other([1.0, -1.0]).data == model([1.0, -1.0]).data
True
"""

from __future__ import annotations

import copy
import numbers
import operator
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from fractions import Fraction
from itertools import islice
from typing import Any, NamedTuple, Self

from . import _rules
from ._engine import Value, _data
from ._rules import registered, relu, softplus

__all__ = [
    "MLP",
    "IncompatibleKeys",
    "Layer",
    "Module",
    "Neuron",
    "binary_cross_entropy_with_logits",
    "hinge",
    "mse",
]

Seed = int | random.Random | None
"""An int seeds a fresh ``random.Random``; a ``Random`` is drawn from as it is (so a
network's layers share one stream); ``None`` seeds from the operating system."""


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` could not match (PyTorch's names): the module's
    parameters the dict lacks, and the dict's keys the module has no parameter for."""

    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Something with trainable parameters (Values).

    Subclasses override ``parameters()``, and ``_rebuilt()`` for
    ``with_parameters()``; ``zero_grad()``, ``named_parameters()``,
    ``state_dict()`` and ``load_state_dict()`` come with it (a subclass names its
    parameters by overriding ``named_parameters()``; by default they are "0", "1"...).

    >>> Module().parameters()
    []
    """

    __slots__ = ()

    def parameters(self) -> list[Value]:
        """Every trainable Value, in a fixed order."""
        return []

    def named_parameters(self) -> list[tuple[str, Value]]:
        """``(name, parameter)`` pairs in ``parameters()`` order.

        >>> Neuron(2, seed=0).named_parameters()[0]
        ('w0', Value(data=0.6888437030500962, grad=0, label='w0'))
        """
        return [(str(i), p) for i, p in enumerate(self.parameters())]

    def state_dict(self) -> dict[str, Any]:
        """Every parameter's number by name: a plain dict, independent of the model.

        >>> Neuron(2, activation=None, seed=0).state_dict()
        {'w0': 0.6888437030500962, 'w1': 0.515908805880605, 'b': 0.0}
        """
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True
    ) -> IncompatibleKeys:
        """Set the parameters' numbers from ``state_dict`` (as ``state_dict()`` makes).

        With ``strict=True`` (the default) the keys must be exactly the parameters'
        names, or a ``RuntimeError`` (as PyTorch raises) names the missing and the
        unexpected ones and nothing is changed; with ``strict=False`` the matching
        keys are loaded and the others reported. Either way every value loaded must
        be a real number (``TypeError`` names the key), and either all are loaded or
        none. Gradients are left as they are; a model's optimizer keeps working,
        since the parameters are the same Values.

        >>> n = Neuron(2, seed=0)
        >>> n.load_state_dict({"w0": 1.0, "w1": 2.0, "c": 3.0}, strict=False)
        IncompatibleKeys(missing_keys=['b'], unexpected_keys=['c'])
        >>> n.w[1].data
        2.0
        """
        who = f"load_state_dict({type(self).__name__})"
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"{who}: state_dict must be a mapping of names to numbers, "
                f"got {type(state_dict).__name__}: {state_dict!r}"
            )
        own = dict(self.named_parameters())
        missing = [name for name in own if name not in state_dict]
        unexpected = [str(key) for key in state_dict if key not in own]
        if strict and (missing or unexpected):
            raise RuntimeError(f"{who}: {_key_problems(missing, unexpected)}")
        loaded = [
            (own[name], _loadable(who, name, state_dict[name]))
            for name in own
            if name in state_dict
        ]
        for p, number in loaded:
            p.data = number
        return IncompatibleKeys(missing, unexpected)

    def zero_grad(self) -> None:
        """Set the gradient of every parameter to 0.

        >>> n = Neuron(2, seed=1)
        >>> n([1.0, 2.0]).backward()
        >>> n.zero_grad()
        >>> [p.grad for p in n.parameters()]
        [0, 0, 0]
        """
        for p in self.parameters():
            p.grad = 0

    def with_parameters(self, values: Iterable[Value]) -> Self:
        """A copy of this module with ``values`` as its parameters; self is unchanged.

        ``values`` are Values in ``parameters()`` order, used as they are (not
        copied). This writes a network as a function of its parameters, which is what
        ``autograd_scalar.trace`` and other function transforms take.

        >>> model = MLP(2, [3, 1], seed=0)
        >>> def output(*params):
        ...     return model.with_parameters(params)([1.0, 2.0])
        >>> params = model.parameters()
        >>> output(*params).data == model([1.0, 2.0]).data
        True
        """
        own = self.parameters()
        if isinstance(values, Value):
            values = [values]
        new = list(values)
        if len(new) != len(own):
            raise ValueError(
                f"with_parameters: {self!r} has {len(own)} parameters, "
                f"got {len(new)} values"
            )
        for i, v in enumerate(new):
            if not isinstance(v, Value):
                raise TypeError(
                    f"with_parameters: values[{i}] must be a Value, "
                    f"got {type(v).__name__}: {v!r}"
                )
        return self._rebuilt(iter(new))

    def _rebuilt(self, values: Iterator[Value]) -> Self:
        """A shallow copy taking its parameters, in order, from ``values``.

        Every module with parameters overrides this, or ``with_parameters`` says so.
        """
        if self.parameters():
            raise NotImplementedError(
                f"with_parameters: {type(self).__name__} does not define _rebuilt"
            )
        return copy.copy(self)


class Neuron(Module):
    """One unit: ``activation(w · x + b)``.

    Weights start uniform in [-1, 1] and the bias at 0 (micrograd's initialisation),
    drawn from ``seed``. ``activation`` names a unary primitive of the rule table, or
    is ``None`` for a linear unit.

    >>> n = Neuron(2, activation="tanh", seed=0)
    >>> n
    Neuron(2, activation='tanh')
    >>> y = n([0.5, -1.0])
    >>> y.op, len(n.parameters())
    ('tanh', 3)
    """

    __slots__ = ("_act", "activation", "b", "w")

    def __init__(
        self, nin: int, activation: str | None = "relu", *, seed: Seed = 0
    ) -> None:
        _check_size("Neuron", "nin", nin)
        self._act = _activation(activation)
        self.activation = activation
        rng = _rng(seed)
        self.w = [Value(rng.uniform(-1, 1), f"w{i}") for i in range(nin)]
        self.b = Value(0.0, "b")

    def __call__(self, x: Sequence[Value | float]) -> Value:
        return self._forward(_checked_inputs(self, x, len(self.w)))

    def _forward(self, x: Sequence[Any]) -> Value:
        # b + w0*x0 + w1*x1 + ...: 2*nin nodes, the fewest binary operations can do
        # (sum() starting at 0 would add one more, and a plain-number input stays a
        # constant operand rather than a leaf Value).
        act: Value = sum(map(operator.mul, self.w, x), self.b)
        return act if self._act is None else self._act(act)

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [*((f"w{i}", w) for i, w in enumerate(self.w)), ("b", self.b)]

    def _rebuilt(self, values: Iterator[Value]) -> Self:
        new = copy.copy(self)
        new.w = [next(values) for _ in self.w]
        new.b = next(values)
        return new

    def __copy__(self) -> Self:
        # copy.copy (with_parameters) keeps the activation as it is: no lookup.
        new = object.__new__(type(self))
        new._act, new.activation = self._act, self.activation
        new.w, new.b = self.w, self.b
        if hasattr(self, "__dict__"):  # a subclass without __slots__
            new.__dict__.update(self.__dict__)
        return new

    # Pickling and deepcopy: the activation is saved by its name and looked up again
    # in the rule table on load (a primitive not registered there is a clear error).
    def __getstate__(self) -> dict[str, Any]:
        state = dict(getattr(self, "__dict__", {}))  # a subclass without __slots__
        state.update(activation=self.activation, w=self.w, b=self.b)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        self._act = _activation(state["activation"])
        self.activation = state.pop("activation")
        self.w = state.pop("w")
        self.b = state.pop("b")
        for name, value in state.items():
            setattr(self, name, value)

    def __repr__(self) -> str:
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """``nout`` neurons reading the same ``nin`` inputs. Always returns a list.

    >>> layer = Layer(3, 2, seed=0)
    >>> layer
    Layer(3, 2, activation='relu')
    >>> out = layer([1.0, 2.0, 3.0])
    >>> len(out), len(layer.parameters())
    (2, 8)
    """

    __slots__ = ("activation", "neurons", "nin")

    def __init__(
        self, nin: int, nout: int, activation: str | None = "relu", *, seed: Seed = 0
    ) -> None:
        _check_size("Layer", "nin", nin)
        _check_size("Layer", "nout", nout)
        rng = _rng(seed)
        self.nin = nin
        self.activation = activation
        self.neurons = [Neuron(nin, activation, seed=rng) for _ in range(nout)]
        _label(self)

    def __call__(self, x: Sequence[Value | float]) -> list[Value]:
        return self._forward(_checked_inputs(self, x, self.nin))

    def _forward(self, x: Sequence[Any]) -> list[Value]:
        return [n._forward(x) for n in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [
            (f"N{i}.{name}", p)
            for i, neuron in enumerate(self.neurons, 1)
            for name, p in neuron.named_parameters()
        ]

    def _rebuilt(self, values: Iterator[Value]) -> Self:
        new = copy.copy(self)
        new.neurons = [n._rebuilt(values) for n in self.neurons]
        return new

    def __repr__(self) -> str:
        return f"Layer({self.nin}, {len(self.neurons)}, activation={self.activation!r})"


class MLP(Module):
    """A multilayer perceptron: ``Layer``s of sizes ``nouts``, the last one linear.

    Hidden layers use ``activation``; the last is linear (its outputs are scores or
    logits for a loss). Initialisation draws from its own ``random.Random(seed)``, so
    the same seed gives the same network. Called on ``nin`` numbers or Values, it
    returns a Value when the last layer has one output, else a list of Values.

    >>> model = MLP(2, [16, 16, 1], seed=0)
    >>> model
    MLP(2, [16, 16, 1], activation='relu'): 337 parameters
      Layer(2, 16, activation='relu')
      Layer(16, 16, activation='relu')
      Layer(16, 1, activation=None)
    >>> type(model([0.5, -0.5])).__name__
    'Value'
    """

    __slots__ = ("activation", "layers", "nin")

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | None = "relu",
        *,
        seed: Seed = 0,
    ) -> None:
        _check_size("MLP", "nin", nin)
        if isinstance(nouts, str | bytes) or not isinstance(nouts, Sequence):
            raise TypeError(
                f"MLP: nouts must be a sequence of layer sizes, got "
                f"{type(nouts).__name__}: {nouts!r}"
            )
        if not nouts:
            raise ValueError("MLP: nouts must name at least one layer, got []")
        for n in nouts:
            _check_size("MLP", "layer size", n)
        _activation(activation)  # fail here, not in the first Layer, on a bad name
        rng = _rng(seed)
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        self.nin = nin
        self.activation = activation
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activation if i < last else None, seed=rng)
            for i in range(len(nouts))
        ]
        _label(self)

    def __call__(self, x: Sequence[Value | float]) -> Value | list[Value]:
        out = _checked_inputs(self, x, self.nin)
        for layer in self.layers:
            out = layer._forward(out)
        return out[0] if len(out) == 1 else out  # type: ignore[return-value]

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def named_parameters(self) -> list[tuple[str, Value]]:
        return [
            (f"L{i}.{name}", p)
            for i, layer in enumerate(self.layers, 1)
            for name, p in layer.named_parameters()
        ]

    def _rebuilt(self, values: Iterator[Value]) -> Self:
        new = copy.copy(self)
        new.layers = [layer._rebuilt(values) for layer in self.layers]
        return new

    def __repr__(self) -> str:
        nouts = [len(layer.neurons) for layer in self.layers]
        head = (
            f"MLP({self.nin}, {nouts}, activation={self.activation!r}): "
            f"{len(self.parameters())} parameters"
        )
        return "\n  ".join([head, *map(repr, self.layers)])


# -------------------------------------------------------------------------------------
# Losses. Each takes predictions and targets (two equal-length sequences, or two
# scalars for one example) and returns the mean over examples as a Value.
# -------------------------------------------------------------------------------------


def mse(
    predictions: Sequence[Value | float] | Value | float,
    targets: Sequence[Value | float] | Value | float,
) -> Value:
    """Mean squared error: mean of ``(prediction - target)**2``.

    >>> x = Value(3.0)
    >>> loss = mse([x, Value(1.0)], [1.0, 1.0])
    >>> loss.backward()
    >>> loss.data, x.grad
    (2.0, 2.0)
    """
    terms = []
    for p, t in _pairs("mse", predictions, targets):
        d = p - t
        terms.append(d * d)
    return _mean(terms)


def hinge(
    scores: Sequence[Value | float] | Value | float,
    labels: Sequence[float] | float,
) -> Value:
    """Max-margin (hinge) loss: mean of ``relu(1 - label * score)``, labels ±1.

    Zero for an example classified right with margin 1; linear in the score
    otherwise. This is the loss of micrograd's two-moons demo.

    >>> hinge([Value(2.0), Value(0.5)], [1, -1]).data  # 0 and 1.5, averaged
    0.75
    """
    pairs = _pairs("hinge", scores, labels)
    for _, y in pairs:
        if _data(y) not in (1, -1):
            raise ValueError(f"hinge: labels must be 1 or -1, got {y!r}")
    return _mean([relu(1 - y * s) for s, y in pairs])


def binary_cross_entropy_with_logits(
    logits: Sequence[Value | float] | Value | float,
    targets: Sequence[float] | float,
) -> Value:
    """Binary cross-entropy of ``sigmoid(logit)`` against targets in [0, 1], stably.

    Per example, ``-t*log(sigmoid(z)) - (1-t)*log(1-sigmoid(z))`` simplifies to
    ``softplus(z) - t*z``: no sigmoid is rounded to 0 or 1 and no log of 0 is taken,
    so a logit of ±1000 gives a finite loss and the exact gradient
    ``sigmoid(z) - t``.

    >>> z = Value(1000.0)
    >>> loss = binary_cross_entropy_with_logits([z], [0])
    >>> loss.backward()
    >>> loss.data, z.grad
    (1000.0, 1.0)
    """
    pairs = _pairs("binary_cross_entropy_with_logits", logits, targets)
    for _, t in pairs:
        if not 0 <= _data(t) <= 1:
            raise ValueError(
                f"binary_cross_entropy_with_logits: targets must be in [0, 1], "
                f"got {t!r}"
            )
    return _mean([softplus(z) - t * z for z, t in pairs])


# -------------------------------------------------------------------------------------
# Helpers
# -------------------------------------------------------------------------------------


def _label(module: Module) -> None:
    """Label every parameter with its name (drawings, explain and the tape show it)."""
    for name, p in module.named_parameters():
        p.label = name


def _key_problems(missing: list[str], unexpected: list[str]) -> str:
    def listed(keys: list[str]) -> str:
        shown = ", ".join(map(repr, keys[:10]))
        return shown + (f" and {len(keys) - 10} more" if len(keys) > 10 else "")

    parts = []
    if missing:
        parts.append(f"missing keys {listed(missing)}")
    if unexpected:
        parts.append(f"unexpected keys {listed(unexpected)}")
    return "; ".join(parts) + " (strict=False loads the keys that match)"


def _loadable(who: str, name: str, value: object) -> Any:
    """A state_dict value as a parameter's data: a real number, or TypeError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{who}: {name!r} must be a real number, "
            f"got {type(value).__name__}: {value!r}"
        )
    if type(value) in (int, float, Fraction):
        return value
    return float(value)  # a numpy scalar or another Real: as the float it is


def _rng(seed: Seed) -> random.Random:
    if isinstance(seed, random.Random):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise TypeError(
            f"seed must be an int, a random.Random or None, "
            f"got {type(seed).__name__}: {seed!r}"
        )
    return random.Random(seed)


def _check_size(who: str, what: str, n: object) -> None:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{who}: {what} must be an int, got {type(n).__name__}: {n!r}")
    if n < 1:
        raise ValueError(f"{who}: {what} must be at least 1, got {n}")


def _activation(name: str | None) -> Callable[[Value], Value] | None:
    """The unary primitive called ``name``, as a fast Value method; None: linear."""
    if name is None:
        return None
    if not isinstance(name, str):
        raise TypeError(
            f"activation must be a primitive's name or None, "
            f"got {type(name).__name__}: {name!r}"
        )
    table = registered()
    prim = table.get(name)
    wrapper = _rules._WRAPPERS.get(name)
    if wrapper is not None:  # elu, leaky_relu: a primitive with default parameters
        return wrapper
    if prim is None or prim.arity != 1:
        unary = sorted(
            n for n, p in table.items() if p.arity == 1 or n in _rules._WRAPPERS
        )
        raise ValueError(
            f"unknown activation {name!r}: use None or a unary primitive, one of "
            f"{', '.join(unary)}"
        )
    return prim.method()


def _is_scalar(x: object) -> bool:
    return isinstance(x, Value | numbers.Real)


def _checked_inputs(module: Module, x: object, nin: int) -> Sequence[Any]:
    """``x`` as a sequence of ``nin`` numbers or Values, or a clear error."""
    if _is_scalar(x) or isinstance(x, str | bytes):
        raise TypeError(
            f"{module!r} takes a sequence of {nin} numbers or Values, "
            f"got {type(x).__name__}: {x!r}"
        )
    try:
        xs = x if type(x) is list or type(x) is tuple else list(x)  # type: ignore[call-overload]
    except TypeError:
        raise TypeError(
            f"{module!r} takes a sequence of {nin} numbers or Values, "
            f"got {type(x).__name__}: {x!r}"
        ) from None
    if len(xs) != nin:
        raise ValueError(f"{module!r} takes {nin} inputs, got {len(xs)}")
    for i, xi in enumerate(xs):
        if not _is_scalar(xi):
            raise TypeError(
                f"{module!r}: input {i} must be a number or a Value, "
                f"got {type(xi).__name__}: {xi!r}"
            )
    return xs


def _pairs(who: str, predictions: object, targets: object) -> list[tuple[Any, Any]]:
    """Predictions and targets as a list of (scalar, scalar) pairs, checked."""
    if _is_scalar(predictions) and _is_scalar(targets):
        return [(predictions, targets)]
    sides = []
    for name, side in (("predictions", predictions), ("targets", targets)):
        if _is_scalar(side) or isinstance(side, str | bytes):
            raise TypeError(
                f"{who}: {name} must be a sequence like the other argument, "
                f"got {type(side).__name__}: {side!r}"
            )
        try:
            items = list(side)  # type: ignore[call-overload]
        except TypeError:
            raise TypeError(
                f"{who}: {name} must be a sequence of numbers or Values, "
                f"got {type(side).__name__}: {side!r}"
            ) from None
        for i, item in enumerate(items):
            if not _is_scalar(item):
                raise TypeError(
                    f"{who}: {name}[{i}] must be a number or a Value, "
                    f"got {type(item).__name__}: {item!r}"
                )
        sides.append(items)
    ps, ts = sides
    if len(ps) != len(ts):
        raise ValueError(
            f"{who}: {len(ps)} predictions but {len(ts)} targets (must be equal)"
        )
    if not ps:
        raise ValueError(f"{who}: no examples (empty predictions and targets)")
    return list(zip(ps, ts, strict=True))


def _mean(terms: list[Any]) -> Value:
    total = sum(islice(terms, 1, None), terms[0])  # no "0 +" node
    mean = total / len(terms)
    return mean if isinstance(mean, Value) else Value(mean)
