"""Neural networks: shapes, parameters, initialisation, forward, losses, training."""

from __future__ import annotations

import copy
import importlib
import itertools
import math
import pickle
import random
from typing import Any

import pytest

import autograd_scalar as ag
from autograd_scalar import Value
from autograd_scalar.datasets import make_moons
from autograd_scalar.nn import (
    MLP,
    Layer,
    Module,
    Neuron,
    binary_cross_entropy_with_logits,
    hinge,
    mse,
)
from autograd_scalar.optim import SGD
from autograd_scalar.testing import check_grad

UNARY = sorted(name for name, p in ag.registered().items() if p.arity == 1)


def graph(out: Value) -> tuple[list[Value], list[Value]]:
    """The interior nodes and the leaves of out's graph, found through ``parents``."""
    seen = {out}
    stack = [out]
    while stack:
        for p in stack.pop().parents:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return [v for v in seen if not v.is_leaf], [v for v in seen if v.is_leaf]


class TestShapes:
    """Parameter counts and the shapes of outputs."""

    def test_micrograd_demo_parameter_count(self) -> None:
        """MLP(2, [16, 16, 1]): 16*(2+1) + 16*(16+1) + 1*(16+1) = 337 parameters."""
        assert len(MLP(2, [16, 16, 1]).parameters()) == 337

    @pytest.mark.parametrize(
        ("nin", "nouts"), [(1, [1]), (3, [4, 2]), (5, [2, 3, 4, 1])]
    )
    def test_parameter_count(self, nin: int, nouts: list[int]) -> None:
        """Each layer has nout * (nin + 1) parameters, all distinct leaves."""
        sizes = [nin, *nouts]
        expected = sum(b * (a + 1) for a, b in itertools.pairwise(sizes))
        params = MLP(nin, nouts).parameters()
        assert len(params) == expected == len(set(params))
        assert all(p.is_leaf for p in params)

    def test_neuron_returns_value(self) -> None:
        """A Neuron returns one Value."""
        assert isinstance(Neuron(3)([1.0, 2.0, 3.0]), Value)

    @pytest.mark.parametrize("nout", [1, 3])
    def test_layer_returns_list(self, nout: int) -> None:
        """A Layer returns a list of nout Values, even for nout = 1."""
        out = Layer(2, nout)([1.0, 2.0])
        assert isinstance(out, list) and len(out) == nout
        assert all(isinstance(v, Value) for v in out)

    def test_mlp_single_output_is_value(self) -> None:
        """An MLP whose last layer has one output returns a Value."""
        assert isinstance(MLP(2, [4, 1])([1.0, 2.0]), Value)

    def test_mlp_several_outputs_is_list(self) -> None:
        """An MLP whose last layer has several outputs returns a list of them."""
        out = MLP(2, [4, 3])([1.0, 2.0])
        assert isinstance(out, list) and len(out) == 3

    @pytest.mark.parametrize(
        "x", [(1.0, 2.0), [Value(1.0), 2], iter([1.0, 2.0]), [True, 0]]
    )
    def test_accepts_sequences_of_scalars(self, x: Any) -> None:
        """Lists, tuples and iterators of numbers or Values are inputs."""
        model = MLP(2, [3, 1])
        assert isinstance(model(x), Value)

    def test_accepts_numpy_array(self) -> None:
        """A numpy array of two numbers is an input like a list."""
        np = pytest.importorskip("numpy")
        model = MLP(2, [3, 1])
        assert model(np.array([0.5, -1.0])).data == model([0.5, -1.0]).data


class TestForward:
    """What a forward pass computes, and the graph it records."""

    def test_neuron_computes_affine_then_activation(self) -> None:
        """Neuron(x) = act(w . x + b), recomputed here from the weights' data."""
        n = Neuron(3, activation="tanh", seed=4)
        n.b.data = 0.25
        x = [0.5, -1.0, 2.0]
        expected = math.tanh(
            sum(w.data * xi for w, xi in zip(n.w, x, strict=True)) + 0.25
        )
        assert n(x).data == pytest.approx(expected, rel=1e-15)

    @pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus"])
    def test_gradients_match_finite_differences(self, activation: str) -> None:
        """Each parameter's gradient in a smooth MLP matches central differences."""
        model = MLP(2, [3, 2], activation=activation, seed=5)

        def f(*weights: Any) -> Value:
            values = [w if isinstance(w, Value) else Value(w) for w in weights]
            out = model.with_parameters(values)([0.4, -0.9])
            assert isinstance(out, list)
            return out[0] * out[1]  # both outputs matter

        assert check_grad(f, *(p.data for p in model.parameters()))

    def test_linear_neuron_gradients(self) -> None:
        """d(w . x + b)/dw_i = x_i and d/db = 1 (the input stays a constant)."""
        n = Neuron(3, activation=None)
        x = [0.5, -1.0, 2.0]
        n(x).backward()
        assert [w.grad for w in n.w] == x and n.b.grad == 1

    @pytest.mark.parametrize("nin", [1, 2, 16])
    def test_no_needless_nodes(self, nin: int) -> None:
        """A neuron's graph: nin products, nin sums, one activation; leaves w and b."""
        n = Neuron(nin)
        interior, leaves = graph(n([1.5] * nin))
        assert len(interior) == 2 * nin + 1
        assert set(leaves) == set(n.parameters())

    @pytest.mark.parametrize("name", UNARY)
    def test_activation_looked_up_in_table(self, name: str) -> None:
        """Every unary primitive of the rule table is an activation by its name."""
        n = Neuron(2, activation=name)
        n.w[0].data, n.w[1].data, n.b.data = 0.5, 1.0, 0.1
        # 0.1 + 0.5*0.2 + 1.0*0.3 = 0.5, in every unary domain but acosh's (x > 1)
        x = [2.2, 0.3] if name == "acosh" else [0.2, 0.3]
        out = n(x)
        pre = 0.1 + 0.5 * x[0] + 1.0 * x[1]
        assert out.op == name
        assert out.data == ag.registered()[name].fn(pre)

    def test_user_primitive_as_activation(self) -> None:
        """A primitive registered by the user is found by name too."""
        ag.primitive(lambda x: x**3, lambda x: 3 * x**2, name="nn_test_cube")
        n = Neuron(1, activation="nn_test_cube", seed=2)
        assert n([1.0]).op == "nn_test_cube"

    def test_hidden_layers_activate_last_is_linear(self) -> None:
        """In an MLP, hidden neurons end in the activation; the output is an add."""
        model = MLP(2, [3, 3, 1], activation="tanh")
        interior, _ = graph(model([0.3, 0.4]))
        assert model([0.3, 0.4]).op == "add"
        assert sum(v.op == "tanh" for v in interior) == 6
        assert [layer.activation for layer in model.layers] == ["tanh", "tanh", None]

    def test_no_grad_forward(self) -> None:
        """Under no_grad the output is a leaf with the same value."""
        model = MLP(2, [4, 1])
        with ag.no_grad():
            out = model([1.0, 2.0])
        assert out.is_leaf and out.data == model([1.0, 2.0]).data

    def test_layer_equals_its_neurons(self) -> None:
        """A Layer's outputs are its neurons' outputs, in order."""
        layer = Layer(2, 3, activation="sigmoid")
        x = [0.7, -0.2]
        assert [v.data for v in layer(x)] == [n(x).data for n in layer.neurons]


class TestInitialisation:
    """Weights uniform in [-1, 1], zero biases, reproducible from the seed."""

    def test_same_seed_same_network(self) -> None:
        """Two MLPs with one seed have identical parameters."""
        a, b = MLP(2, [8, 1], seed=7), MLP(2, [8, 1], seed=7)
        assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]

    def test_different_seeds_differ(self) -> None:
        """Different seeds give different weights."""
        a, b = MLP(2, [8, 1], seed=1), MLP(2, [8, 1], seed=2)
        assert [p.data for p in a.parameters()] != [p.data for p in b.parameters()]

    def test_own_generator(self) -> None:
        """Initialisation has its own Random: the global one is not touched."""
        state = random.getstate()
        a = MLP(2, [8, 1], seed=3)
        assert random.getstate() == state
        random.seed(99)
        b = MLP(2, [8, 1], seed=3)
        assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]

    def test_random_instance_is_drawn_from(self) -> None:
        """A Random passed as seed is used as it is: its state moves on."""
        rng = random.Random(5)
        first = Neuron(2, seed=rng).w[0].data
        assert Neuron(2, seed=rng).w[0].data != first
        assert first == random.Random(5).uniform(-1, 1)

    def test_ranges(self) -> None:
        """Weights lie in [-1, 1] and biases start at 0."""
        model = MLP(4, [32, 32, 1])
        for layer in model.layers:
            for n in layer.neurons:
                assert all(-1 <= w.data <= 1 for w in n.w) and n.b.data == 0


class TestModule:
    """parameters() and zero_grad()."""

    def test_zero_grad(self) -> None:
        """After backward some grads are non-zero; zero_grad makes all of them 0."""
        model = MLP(2, [4, 1], activation="tanh")
        model([1.0, -2.0]).backward()
        assert any(p.grad != 0 for p in model.parameters())
        model.zero_grad()
        assert all(p.grad == 0 for p in model.parameters())

    def test_base_module_has_no_parameters(self) -> None:
        """A bare Module has none, and zero_grad is a no-op."""
        m = Module()
        m.zero_grad()
        assert m.parameters() == []

    def test_parameters_order_is_stable(self) -> None:
        """parameters() returns the same Values in the same order each call."""
        model = MLP(2, [3, 1])
        assert model.parameters() == model.parameters()


class TestWithParameters:
    """A module as a function of its parameters."""

    def test_same_values_same_output(self) -> None:
        """A copy given the module's own parameters computes the same output."""
        model = MLP(2, [4, 4, 1], activation="tanh")
        copy = model.with_parameters(model.parameters())
        assert copy([0.3, -0.7]).data == model([0.3, -0.7]).data
        assert copy.parameters() == model.parameters()

    def test_new_values_are_used(self) -> None:
        """The copy uses the given Values themselves: gradients reach them."""
        model = MLP(2, [3, 1])
        fresh = [Value(0.5) for _ in model.parameters()]
        copy = model.with_parameters(fresh)
        assert all(a is b for a, b in zip(copy.parameters(), fresh, strict=True))
        copy([1.0, 2.0]).backward()
        assert fresh[-1].grad == 1  # the output bias: d(output)/d(b) = 1
        assert all(p.grad == 0 for p in model.parameters())

    def test_original_unchanged(self) -> None:
        """The module itself keeps its parameters."""
        model = MLP(2, [3, 1])
        before = model.parameters()
        model.with_parameters([Value(0.0) for _ in before])
        assert model.parameters() == before

    @pytest.mark.parametrize("module", [Neuron(2), Layer(2, 3), MLP(2, [3, 1])])
    def test_every_module(self, module: Module) -> None:
        """Neuron, Layer and MLP all rebuild with new parameters, keeping their repr."""
        fresh = [Value(1.0) for _ in module.parameters()]
        copy = module.with_parameters(fresh)
        assert type(copy) is type(module) and repr(copy) == repr(module)
        assert copy.parameters() == fresh

    def test_traced_loss_matches_graph(self) -> None:
        """A loss written with with_parameters traces; replay equals backward."""
        model = MLP(2, [4, 4, 1], seed=3)
        points, labels = [[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8]], [1, -1, 1]

        def loss(*weights: Value) -> Value:
            net = model.with_parameters(weights)
            return hinge([net(x) for x in points], labels)

        params = model.parameters()
        value, grads = ag.trace(loss, *(p.data for p in params)).value_and_grad(
            *(p.data for p in params)
        )
        graph = hinge([model(x) for x in points], labels)
        graph.backward()
        assert value == pytest.approx(graph.data, rel=1e-12)
        assert grads == pytest.approx([p.grad for p in params], rel=1e-12, abs=1e-15)
        assert any(g != 0 for g in grads)  # the weights are arguments, not constants

    def test_subclass_without_rebuilt(self) -> None:
        """A module that does not say how to rebuild itself is refused, not ignored."""

        class Scale(Module):
            def __init__(self) -> None:
                self.k = Value(2.0)

            def parameters(self) -> list[Value]:
                return [self.k]

        with pytest.raises(NotImplementedError, match="Scale does not define"):
            Scale().with_parameters([Value(3.0)])

    def test_wrong_count(self) -> None:
        """The number of values must match the number of parameters."""
        with pytest.raises(ValueError, match="has 3 parameters, got 2 values"):
            Neuron(2).with_parameters([Value(1.0), Value(2.0)])

    def test_not_values(self) -> None:
        """Each value must be a Value."""
        with pytest.raises(TypeError, match=r"values\[1\] must be a Value"):
            Neuron(2).with_parameters([Value(1.0), 2.0, Value(3.0)])


class TestRepr:
    """A readable repr."""

    def test_reprs(self) -> None:
        """Neuron, Layer and MLP show their sizes and activation."""
        assert repr(Neuron(3, activation=None)) == "Neuron(3, activation=None)"
        assert repr(Layer(3, 2, "tanh")) == "Layer(3, 2, activation='tanh')"
        assert repr(MLP(2, [3, 1])) == (
            "MLP(2, [3, 1], activation='relu'): 13 parameters\n"
            "  Layer(2, 3, activation='relu')\n"
            "  Layer(3, 1, activation=None)"
        )


class TestErrors:
    """Wrong sizes and types are clear errors naming the module and the value."""

    @pytest.mark.parametrize("x", [[1.0], [1.0, 2.0, 3.0], []])
    def test_wrong_input_size(self, x: list[float]) -> None:
        """An input of the wrong length is a ValueError with both lengths."""
        with pytest.raises(ValueError, match=f"takes 2 inputs, got {len(x)}"):
            MLP(2, [3, 1])(x)

    @pytest.mark.parametrize("module", [Neuron(2), Layer(2, 2), MLP(2, [1])])
    @pytest.mark.parametrize("x", [1.0, Value(1.0), "ab", None])
    def test_not_a_sequence(self, module: Any, x: Any) -> None:
        """A scalar, a string or None is a TypeError naming the module."""
        with pytest.raises(TypeError, match=r"takes a sequence of 2 numbers"):
            module(x)

    @pytest.mark.parametrize("bad", ["a", None, [1.0], 1j])
    def test_bad_element(self, bad: Any) -> None:
        """A non-number input element is a TypeError naming its position."""
        with pytest.raises(TypeError, match="input 1 must be a number or a Value"):
            MLP(2, [1])([1.0, bad])

    @pytest.mark.parametrize("name", ["relux", "add", "atan2", ""])
    def test_unknown_activation(self, name: str) -> None:
        """An activation must name a unary primitive; the error lists them."""
        with pytest.raises(ValueError, match=r"unknown activation.*relu.*tanh"):
            MLP(2, [1], activation=name)

    def test_activation_type(self) -> None:
        """An activation that is neither a name nor None is a TypeError."""
        with pytest.raises(TypeError, match="activation must be"):
            Neuron(2, activation=ag.relu)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("make", "error"),
        [
            (lambda: Neuron(0), ValueError),
            (lambda: Neuron(2.0), TypeError),
            (lambda: Layer(2, 0), ValueError),
            (lambda: Layer(True, 2), TypeError),
            (lambda: MLP(2, []), ValueError),
            (lambda: MLP(2, 3), TypeError),
            (lambda: MLP(2, [3, -1]), ValueError),
            (lambda: MLP(2, [1], seed="a"), TypeError),
        ],
    )
    def test_bad_construction(self, make: Any, error: type[Exception]) -> None:
        """Sizes must be ints >= 1, nouts a non-empty list, seed an int or Random."""
        with pytest.raises(error):
            make()


class TestLosses:
    """mse, hinge and binary cross-entropy: values, gradients, stability, errors."""

    def test_mse(self) -> None:
        """((3-1)**2 + (1-1)**2)/2 = 2; d/dp1 = 2*(3-1)/2 = 2."""
        p = Value(3.0)
        loss = mse([p, Value(1.0)], [1, 1])
        loss.backward()
        assert (loss.data, p.grad) == (2.0, 2.0)

    def test_hinge(self) -> None:
        """relu(1 - 2) = 0, relu(1 + 0.5) = 1.5: mean 0.75; d/ds2 = +1/2, d/ds1 = 0."""
        s1, s2 = Value(2.0), Value(0.5)
        loss = hinge([s1, s2], [1, -1])
        loss.backward()
        assert (loss.data, s1.grad, s2.grad) == (0.75, 0, 0.5)

    @pytest.mark.parametrize("z", [-3.0, -0.5, 0.0, 0.25, 4.0])
    @pytest.mark.parametrize("t", [0, 1, 0.3])
    def test_bce_matches_definition(self, z: float, t: float) -> None:
        """Equals -t log s - (1-t) log(1-s), s = sigmoid(z); gradient s - t."""
        s = 1 / (1 + math.exp(-z))
        zv = Value(z)
        loss = binary_cross_entropy_with_logits(zv, t)
        loss.backward()
        assert loss.data == pytest.approx(-t * math.log(s) - (1 - t) * math.log(1 - s))
        assert zv.grad == pytest.approx(s - t)

    @pytest.mark.parametrize(
        ("z", "t", "loss", "grad"),
        # softplus(z) - t*z: softplus(1000) = 1000 (to double precision) and
        # softplus(-1000) = e**-1000, 0 in floats; the gradient is sigmoid(z) - t.
        [(1000.0, 0, 1000.0, 1.0), (1000.0, 1, 0.0, 0.0), (-1000.0, 1, 1000.0, -1.0)],
    )
    def test_bce_is_stable(self, z: float, t: int, loss: float, grad: float) -> None:
        """Logits of ±1000 give finite, exact losses and gradients."""
        zv = Value(z)
        out = binary_cross_entropy_with_logits([zv], [t])
        out.backward()
        assert (out.data, zv.grad) == (loss, grad)

    @pytest.mark.parametrize("loss", [mse, hinge, binary_cross_entropy_with_logits])
    def test_mean_over_examples(self, loss: Any) -> None:
        """The loss of a batch is the mean of the single-example losses."""
        scores, labels = [Value(0.3), Value(-1.2), Value(2.5)], [1, -1, 1]
        if loss is binary_cross_entropy_with_logits:
            labels = [1, 0, 1]
        each = [loss(s, y).data for s, y in zip(scores, labels, strict=True)]
        assert loss(scores, labels).data == pytest.approx(sum(each) / 3)

    def test_plain_numbers_give_value(self) -> None:
        """A loss of plain numbers is still a Value (a leaf)."""
        out = mse([1.0, 2.0], [0.0, 0.0])
        assert isinstance(out, Value) and out.data == 2.5

    @pytest.mark.parametrize("loss", [mse, hinge, binary_cross_entropy_with_logits])
    def test_length_mismatch(self, loss: Any) -> None:
        """Different numbers of predictions and targets is a ValueError."""
        with pytest.raises(ValueError, match="2 predictions but 1 targets"):
            loss([Value(1.0), Value(0.0)], [1])

    @pytest.mark.parametrize("loss", [mse, hinge, binary_cross_entropy_with_logits])
    def test_empty(self, loss: Any) -> None:
        """No examples is a ValueError."""
        with pytest.raises(ValueError, match="no examples"):
            loss([], [])

    @pytest.mark.parametrize(
        ("predictions", "targets"),
        [([[1.0, 2.0]], [1.0]), ([1.0], "a"), ([1.0], 1.0), (None, [1.0])],
    )
    def test_types(self, predictions: Any, targets: Any) -> None:
        """Nested lists, strings and a scalar against a list are TypeErrors."""
        with pytest.raises(TypeError, match="mse"):
            mse(predictions, targets)

    @pytest.mark.parametrize("label", [0, 2, 0.5])
    def test_hinge_labels(self, label: float) -> None:
        """Hinge labels must be ±1."""
        with pytest.raises(ValueError, match="labels must be 1 or -1"):
            hinge([Value(1.0)], [label])

    @pytest.mark.parametrize("target", [-0.1, 1.5])
    def test_bce_targets(self, target: float) -> None:
        """Cross-entropy targets must lie in [0, 1]."""
        with pytest.raises(ValueError, match=r"targets must be in \[0, 1\]"):
            binary_cross_entropy_with_logits([Value(1.0)], [target])


class TestTraining:
    """micrograd's demo: two moons, MLP(2, [16, 16, 1]), max-margin loss + 1e-4 L2."""

    def test_reaches_full_accuracy(self) -> None:
        """SGD with lr 1.0 -> 0.1 classifies all 100 points within 150 steps."""
        # Any seeds do (18 to 51 steps over 12 pairs tried); these take 18 steps.
        points, y = make_moons(100, noise=0.1, random_state=3)
        labels = [2 * t - 1 for t in y]
        model = MLP(2, [16, 16, 1], seed=0)
        params = model.parameters()
        opt = SGD(params, lr=1.0)
        steps = 150
        losses = []
        for k in range(steps):
            scores = [model(x) for x in points]
            loss = hinge(scores, labels) + 1e-4 * sum(p * p for p in params)
            losses.append(loss.data)
            correct = sum(
                (s.data > 0) == (t > 0) for s, t in zip(scores, labels, strict=True)
            )
            if correct == len(points):
                break
            opt.zero_grad()
            loss.backward()
            opt.lr = 1.0 - 0.9 * k / steps
            opt.step()
        assert correct == len(points), f"{correct}/100 after {steps} steps"
        assert losses[-1] < losses[0]


# -------------------------------------------------------------------------------------
# Names, state_dict and pickling
# -------------------------------------------------------------------------------------


def expected_names(nin: int, nouts: list[int]) -> list[str]:
    """MLP parameter names written out from the sizes: L<layer>.N<neuron>.w<input>
    and .b, layers and neurons from 1, inputs from 0, in parameters() order."""
    names = []
    sizes = [nin, *nouts]
    for layer in range(1, len(sizes)):
        for neuron in range(1, sizes[layer] + 1):
            prefix = f"L{layer}.N{neuron}."
            names += [prefix + f"w{i}" for i in range(sizes[layer - 1])]
            names.append(prefix + "b")
    return names


def scalar(model: MLP, x: list[float]) -> Value:
    """The model's single output on ``x``."""
    y = model(x)
    assert isinstance(y, Value)
    return y


def trained(model: MLP, steps: int = 5) -> MLP:
    """``model`` after a few SGD steps on a tiny problem (non-zero biases too)."""
    points, labels = [[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8]], [1, -1, 1]
    opt = SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        hinge([scalar(model, x) for x in points], labels).backward()
        opt.step()
    return model


POINTS = [[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8], [2.0, 2.0]]


def predictions(model: MLP) -> list[float]:
    """The model's outputs on POINTS, as numbers."""
    return [scalar(model, x).data for x in POINTS]


class TestParameterNames:
    """Every parameter is labelled by where it lives; the label is its state key."""

    @pytest.mark.parametrize(("nin", "nouts"), [(2, [3, 1]), (3, [4, 4, 2]), (1, [1])])
    def test_mlp_names(self, nin: int, nouts: list[int]) -> None:
        """Labels, named_parameters() and state_dict() keys are the same names."""
        model = MLP(nin, nouts, seed=0)
        names = expected_names(nin, nouts)
        assert [p.label for p in model.parameters()] == names
        assert [n for n, _ in model.named_parameters()] == names
        assert list(model.state_dict()) == names
        assert [p for _, p in model.named_parameters()] == model.parameters()

    def test_name_says_where(self) -> None:
        """L<i>.N<j>.w<k> is model.layers[i-1].neurons[j-1].w[k]; .b the bias."""
        model = MLP(3, [4, 2], seed=0)
        for name, p in model.named_parameters():
            layer, neuron, leaf = name.split(".")
            unit = model.layers[int(layer[1:]) - 1].neurons[int(neuron[1:]) - 1]
            assert p is (unit.b if leaf == "b" else unit.w[int(leaf[1:])])

    def test_layer_and_neuron_alone(self) -> None:
        """A Layer names N<j>.w<k>, a Neuron w<k> and b."""
        assert [p.label for p in Neuron(2).parameters()] == ["w0", "w1", "b"]
        layer = Layer(1, 2)
        assert [p.label for p in layer.parameters()] == [
            "N1.w0",
            "N1.b",
            "N2.w0",
            "N2.b",
        ]

    def test_names_in_explain_and_drawing(self) -> None:
        """explain() and to_dot() show the parameter's name."""
        viz = pytest.importorskip("autograd_scalar.viz")
        model = MLP(2, [2, 1], seed=0)
        out = model([1.0, 2.0])
        assert isinstance(out, Value)
        out.backward()
        weight = model.layers[0].neurons[1].w[0]
        assert "L1.N2.w0" in str(viz.explain(out, weight))
        assert "L2.N1.b" in viz.to_dot(out)

    def test_default_names(self) -> None:
        """A Module subclass that only lists parameters() names them 0, 1, ..."""

        class Pair(Module):
            def __init__(self) -> None:
                self.a, self.b = Value(1.0), Value(2.0)

            def parameters(self) -> list[Value]:
                return [self.a, self.b]

        pair = Pair()
        assert pair.state_dict() == {"0": 1.0, "1": 2.0}
        pair.load_state_dict({"0": 5.0, "1": 6.0})
        assert (pair.a.data, pair.b.data) == (5.0, 6.0)


class TestStateDict:
    """state_dict() / load_state_dict() as in PyTorch: plain numbers by name."""

    def test_round_trip(self) -> None:
        """A trained model's numbers loaded into another: the same predictions."""
        model = trained(MLP(2, [4, 4, 1], seed=0))
        other = MLP(2, [4, 4, 1], seed=1)
        assert predictions(other) != predictions(model)
        result = other.load_state_dict(model.state_dict())
        assert result.missing_keys == [] and result.unexpected_keys == []
        assert predictions(other) == predictions(model)
        assert other.state_dict() == model.state_dict()

    def test_plain_numbers(self) -> None:
        """A plain dict of numbers, detached from the model."""
        model = MLP(2, [3, 1], seed=0)
        state = model.state_dict()
        assert type(state) is dict
        assert all(type(v) is float for v in state.values())
        model.parameters()[0].data = 42.0
        assert state["L1.N1.w0"] != 42.0

    def test_missing_keys(self) -> None:
        """strict: a missing key is a RuntimeError naming it; nothing is loaded."""
        model, before = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=0).state_dict()
        state = {k: v + 1 for k, v in MLP(2, [3, 1], seed=5).state_dict().items()}
        del state["L2.N1.b"]
        with pytest.raises(RuntimeError, match=r"load_state_dict\(MLP\).*'L2.N1.b'"):
            model.load_state_dict(state)
        assert model.state_dict() == before

    def test_unexpected_keys(self) -> None:
        """strict: an unexpected key is a RuntimeError naming it and the missing."""
        model = MLP(2, [1], seed=0)
        state = {**model.state_dict(), "L2.N1.b": 1.0}
        del state["L1.N1.w1"]
        with pytest.raises(RuntimeError) as info:
            model.load_state_dict(state)
        message = str(info.value)
        assert "missing keys 'L1.N1.w1'" in message
        assert "unexpected keys 'L2.N1.b'" in message

    def test_not_strict(self) -> None:
        """strict=False loads what matches and reports the rest (PyTorch's tuple)."""
        model = MLP(2, [1], seed=0)
        result = model.load_state_dict({"L1.N1.w0": 3.0, "extra": 1.0}, strict=False)
        assert result.missing_keys == ["L1.N1.w1", "L1.N1.b"]
        assert result.unexpected_keys == ["extra"]
        assert model.layers[0].neurons[0].w[0].data == 3.0

    @pytest.mark.parametrize("bad", ["1.0", None, True, Value(1.0), complex(1, 0)])
    def test_bad_value(self, bad: Any) -> None:
        """A value that is not a real number: TypeError naming the key; no change."""
        model = MLP(2, [1], seed=0)
        before = model.state_dict()
        state = {**before, "L1.N1.w0": 7.0, "L1.N1.b": bad}
        with pytest.raises(TypeError, match=r"'L1\.N1\.b' must be a real number"):
            model.load_state_dict(state)
        assert model.state_dict() == before

    def test_not_a_mapping(self) -> None:
        """A list of pairs is not a state dict: TypeError."""
        model = MLP(2, [1], seed=0)
        with pytest.raises(TypeError, match="must be a mapping"):
            model.load_state_dict(list(model.state_dict().items()))  # type: ignore[arg-type]

    def test_optimizer_keeps_working(self) -> None:
        """An optimizer made before the load steps on from the loaded numbers: five
        steps loaded, then one by that optimizer, equal six steps straight."""
        model = MLP(2, [3, 1], seed=0)
        opt = SGD(model.parameters(), lr=0.1)  # the rate trained() uses
        model.load_state_dict(trained(MLP(2, [3, 1], seed=3), steps=5).state_dict())
        points, labels = [[0.5, -1.0], [1.5, 0.25], [-0.3, 0.8]], [1, -1, 1]
        opt.zero_grad()
        hinge([scalar(model, x) for x in points], labels).backward()
        opt.step()
        six = trained(MLP(2, [3, 1], seed=3), steps=6)
        assert model.state_dict() == six.state_dict()


class TestPickle:
    """A model pickles and loads (and deep-copies) with its names and activations."""

    @pytest.mark.parametrize("activation", ["relu", "tanh", None])
    def test_round_trip(self, activation: str | None) -> None:
        """Loaded model: same predictions, repr, names and numbers."""
        model = trained(MLP(2, [4, 4, 1], activation, seed=0))
        loaded = pickle.loads(pickle.dumps(model))
        assert predictions(loaded) == predictions(model)
        assert repr(loaded) == repr(model)
        assert [p.label for p in loaded.parameters()] == [
            p.label for p in model.parameters()
        ]
        assert loaded.state_dict() == model.state_dict()
        assert set(map(id, loaded.parameters())).isdisjoint(map(id, model.parameters()))

    def test_deepcopy(self) -> None:
        """deepcopy gives an independent model with the same predictions."""
        model = trained(MLP(2, [3, 1], seed=0))
        twin = copy.deepcopy(model)
        assert predictions(twin) == predictions(model)
        twin.parameters()[0].data += 1.0
        assert predictions(twin) != predictions(model)

    def test_optimizer_on_loaded_model(self) -> None:
        """Training a loaded model from where it was saved matches training on."""
        model = trained(MLP(2, [3, 1], seed=0), steps=3)
        loaded = pickle.loads(pickle.dumps(model))
        trained(model, steps=4)
        trained(loaded, steps=4)
        assert loaded.state_dict() == model.state_dict()

    def test_unknown_activation_on_load(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """An activation not registered where the model loads: ValueError naming it."""
        data = pickle.dumps(Neuron(2, activation="tanh"))
        nn = importlib.import_module("autograd_scalar.nn")
        monkeypatch.setattr(nn, "registered", lambda: {})
        with pytest.raises(ValueError, match="unknown activation 'tanh'"):
            pickle.loads(data)
