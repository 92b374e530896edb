"""Optimizers: updates against hand-derived values and PyTorch, lr, errors."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from autograd_scalar import Value
from autograd_scalar.optim import SGD, Adam, Optimizer


def steps(opt: Optimizer, p: Value, grads: list[float]) -> list[float]:
    """Run one step per gradient (set by hand) and return p's data after each."""
    out = []
    for g in grads:
        p.grad = g
        opt.step()
        out.append(p.data)
    return out


class TestSGD:
    """Plain and momentum SGD."""

    def test_plain_step(self) -> None:
        """data -= lr * grad: 2 - 0.1*0.5 = 1.95, then 1.95 - 0.1*(-1) = 2.05."""
        p = Value(2.0)
        assert steps(SGD([p], lr=0.1), p, [0.5, -1.0]) == pytest.approx([1.95, 2.05])

    def test_momentum_steps(self) -> None:
        """v = momentum * v + g, data -= lr * v, at lr = momentum = 0.5."""
        # v1 = 1, p = 1 - 0.5 = 0.5; v2 = 0.5*1 + 2 = 2.5, p = 0.5 - 1.25 = -0.75;
        # v3 = 0.5*2.5 + 0 = 1.25, p = -0.75 - 0.625 = -1.375.
        p = Value(1.0)
        opt = SGD([p], lr=0.5, momentum=0.5)
        # Powers of two: every intermediate is exact in binary floating point.
        assert steps(opt, p, [1.0, 2.0, 0.0]) == [0.5, -0.75, -1.375]

    def test_several_parameters_independent(self) -> None:
        """Each parameter moves by its own gradient."""
        a, b = Value(1.0), Value(1.0)
        a.grad, b.grad = 1.0, -2.0
        SGD([a, b], lr=0.25).step()
        assert (a.data, b.data) == (0.75, 1.5)

    def test_mutable_lr(self) -> None:
        """Changing lr between steps changes the next step: 1 - 0.5 - 0.25 = 0.25."""
        p = Value(1.0)
        opt = SGD([p], lr=0.5)
        p.grad = 1.0
        opt.step()
        opt.lr = 0.25
        opt.step()
        assert p.data == 0.25

    def test_descends_a_quadratic(self) -> None:
        """Minimizing (x - 3)**2 with momentum ends near 3."""
        x = Value(0.0)
        opt = SGD([x], lr=0.05, momentum=0.9)
        for _ in range(200):
            opt.zero_grad()
            ((x - 3) * (x - 3)).backward()
            opt.step()
        assert x.data == pytest.approx(3.0, abs=1e-3)


class TestAdam:
    """Adam's moments and bias corrections."""

    def test_first_step_moves_by_lr(self) -> None:
        """With eps = 0, the first step moves by exactly lr against the gradient."""
        # Step 1: m = (1-b1) g, v = (1-b2) g^2, so m^ = m/(1-b1) = g and v^ = g^2:
        # data -= lr * g / |g|.
        for g in [3.0, -0.002]:
            p = Value(1.0)
            steps(Adam([p], lr=0.1, eps=0.0), p, [g])
            assert p.data == pytest.approx(1.0 - math.copysign(0.1, g), rel=1e-15)

    def test_two_steps_by_hand(self) -> None:
        """Two steps at b1 = 0.5, b2 = 0.75, lr = 0.1, eps = 0, gradients 2 then 4."""
        # Step 1: m = 0.5*2 = 1, v = 0.25*4 = 1; m^ = 1/0.5 = 2, v^ = 1/0.25 = 4;
        #   p = 1 - 0.1 * 2/2 = 0.9.
        # Step 2: m = 0.5*1 + 0.5*4 = 2.5, v = 0.75*1 + 0.25*16 = 4.75;
        #   m^ = 2.5/(1 - 0.25) = 10/3, v^ = 4.75/(1 - 0.5625) = 76/7;
        #   p = 0.9 - 0.1 * (10/3) / sqrt(76/7).
        p = Value(1.0)
        opt = Adam([p], lr=0.1, betas=(0.5, 0.75), eps=0.0)
        expected = [0.9, 0.9 - 0.1 * (10 / 3) / math.sqrt(76 / 7)]
        assert steps(opt, p, [2.0, 4.0]) == pytest.approx(expected, rel=1e-14)

    def test_eps_in_denominator(self) -> None:
        """A zero first gradient with eps: m = v = 0, so the step is 0/(0 + eps) = 0."""
        p = Value(1.0)
        steps(Adam([p], lr=0.1), p, [0.0])
        assert p.data == 1.0

    def test_counts_steps(self) -> None:
        """t counts the steps taken (it drives the bias corrections)."""
        p = Value(1.0)
        opt = Adam([p], lr=0.1)
        steps(opt, p, [1.0, 1.0, 1.0])
        assert opt.t == 3


class TestAgainstPyTorch:
    """Several steps with random gradients match torch.optim exactly (to rounding)."""

    @pytest.mark.parametrize(
        ("ours", "theirs", "kwargs"),
        [
            ("SGD", "SGD", {"lr": 0.1}),
            ("SGD", "SGD", {"lr": 0.05, "momentum": 0.9}),
            ("Adam", "Adam", {"lr": 0.01}),
            ("Adam", "Adam", {"lr": 0.3, "betas": (0.8, 0.9), "eps": 1e-3}),
        ],
    )
    def test_trajectory(self, ours: str, theirs: str, kwargs: dict[str, Any]) -> None:
        """Ten steps on three parameters, in float64 on both sides."""
        torch = pytest.importorskip("torch")
        import autograd_scalar.optim as optim

        rng = random.Random(0)
        start = [rng.uniform(-2, 2) for _ in range(3)]
        params = [Value(x) for x in start]
        tparams = [
            torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in start
        ]
        opt = getattr(optim, ours)(params, **kwargs)
        topt = getattr(torch.optim, theirs)(tparams, **kwargs)
        for _ in range(10):
            grads = [rng.gauss(0, 1) for _ in params]
            for p, tp, g in zip(params, tparams, grads, strict=True):
                p.grad = g
                tp.grad = torch.tensor(g, dtype=torch.float64)
            opt.step()
            topt.step()
        assert [p.data for p in params] == pytest.approx(
            [tp.item() for tp in tparams], rel=1e-12, abs=1e-14
        )


class TestCommon:
    """What every optimizer shares."""

    @pytest.mark.parametrize("make", [SGD, Adam])
    def test_zero_grad(self, make: Any) -> None:
        """zero_grad sets every parameter's grad to 0."""
        a, b = Value(1.0), Value(2.0)
        (a * b).backward()
        make([a, b], lr=0.1).zero_grad()
        assert (a.grad, b.grad) == (0, 0)

    @pytest.mark.parametrize("make", [SGD, Adam])
    def test_step_records_no_graph(self, make: Any) -> None:
        """After a step a parameter is still a leaf holding a plain number."""
        p = Value(1.0)
        (p * p).backward()
        make([p], lr=0.1).step()
        assert p.is_leaf and type(p.data) is float

    @pytest.mark.parametrize("make", [SGD, Adam])
    def test_grad_that_is_a_value(self, make: Any) -> None:
        """After backward(create_graph=True) grads are Values: their data is used."""
        p = Value(1.0)
        (p * p).backward(create_graph=True)
        assert isinstance(p.grad, Value)
        make([p], lr=0.1).step()
        # grad 2: SGD moves by lr * 2 = 0.2; Adam's first step moves by lr = 0.1.
        expected = 0.8 if make is SGD else 0.9
        assert type(p.data) is float and p.data == pytest.approx(expected)

    @pytest.mark.parametrize("make", [SGD, Adam])
    def test_accepts_a_generator(self, make: Any) -> None:
        """params may be any iterable, read once."""
        ps = [Value(1.0), Value(2.0)]
        assert make(iter(ps), lr=0.1).params == ps

    def test_base_step_is_abstract(self) -> None:
        """Optimizer itself has no update rule."""
        with pytest.raises(NotImplementedError):
            Optimizer([Value(1.0)], lr=0.1).step()


class TestErrors:
    """Bad arguments are ValueErrors or TypeErrors naming the optimizer."""

    @pytest.mark.parametrize("make", [SGD, Adam])
    @pytest.mark.parametrize("lr", [-0.1, math.nan, math.inf])
    def test_bad_lr(self, make: Any, lr: float) -> None:
        """lr must be a finite number >= 0, at construction and when set."""
        with pytest.raises(ValueError, match=f"{make.__name__}: lr must be"):
            make([Value(1.0)], lr=lr)
        opt = make([Value(1.0)], lr=0.1)
        with pytest.raises(ValueError, match="lr must be"):
            opt.lr = lr
        assert opt.lr == 0.1

    @pytest.mark.parametrize("make", [SGD, Adam])
    @pytest.mark.parametrize("lr", ["0.1", None, True])
    def test_lr_type(self, make: Any, lr: Any) -> None:
        """lr must be a number."""
        with pytest.raises(TypeError, match="lr must be a number"):
            make([Value(1.0)], lr=lr)

    @pytest.mark.parametrize(
        ("params", "error", "match"),
        [
            ([], ValueError, "empty"),
            ([1.0], TypeError, r"params\[0\] must be a Value"),
            (Value(1.0), TypeError, "iterable of Values"),
            (None, TypeError, "iterable of Values"),
        ],
    )
    def test_bad_params(self, params: Any, error: type[Exception], match: str) -> None:
        """params must be a non-empty iterable of Values."""
        with pytest.raises(error, match=match):
            SGD(params, lr=0.1)

    def test_duplicate_params(self) -> None:
        """A parameter listed twice would be updated twice: refused."""
        p = Value(1.0)
        with pytest.raises(ValueError, match="twice"):
            Adam([p, p], lr=0.1)

    def test_negative_momentum(self) -> None:
        """momentum must be >= 0."""
        with pytest.raises(ValueError, match="momentum"):
            SGD([Value(1.0)], lr=0.1, momentum=-0.5)

    @pytest.mark.parametrize("betas", [(1.0, 0.999), (0.9, 1.5), (-0.1, 0.9)])
    def test_bad_betas(self, betas: tuple[float, float]) -> None:
        """Each beta must be in [0, 1)."""
        with pytest.raises(ValueError, match="betas"):
            Adam([Value(1.0)], lr=0.1, betas=betas)

    @pytest.mark.parametrize("betas", [0.9, (0.9,), (0.9, 0.99, 0.999), ("a", 0.9)])
    def test_betas_type(self, betas: Any) -> None:
        """betas must be a pair of numbers."""
        with pytest.raises(TypeError, match="betas"):
            Adam([Value(1.0)], lr=0.1, betas=betas)

    def test_negative_eps(self) -> None:
        """eps must be >= 0."""
        with pytest.raises(ValueError, match="eps"):
            Adam([Value(1.0)], lr=0.1, eps=-1e-8)


class TestStateDict:
    """Resuming training from saved model and optimizer state."""

    @pytest.mark.parametrize(
        "make",
        [
            lambda ps: SGD(ps, lr=0.05, momentum=0.9),
            lambda ps: Adam(ps, lr=0.05, betas=(0.8, 0.99)),
        ],
    )
    def test_resumed_training_matches_uninterrupted(self, make: Any) -> None:
        import json

        from autograd_scalar.nn import MLP

        rng = random.Random(0)
        data = [
            ([rng.uniform(-1, 1), rng.uniform(-1, 1)], rng.choice([-1, 1]))
            for _ in range(6)
        ]

        def train(model: MLP, opt: Optimizer, n: int) -> None:
            for _ in range(n):
                loss: Any = sum((model(x) - y) ** 2 for x, y in data)  # type: ignore[operator]  # an MLP of one output returns a Value
                opt.zero_grad()
                loss.backward()
                opt.step()

        whole = MLP(2, [4, 1], seed=1)
        opt = make(whole.parameters())
        train(whole, opt, 6)

        first = MLP(2, [4, 1], seed=1)
        opt_first = make(first.parameters())
        train(first, opt_first, 3)
        saved = json.dumps([first.state_dict(), opt_first.state_dict()])

        model_state, opt_state = json.loads(saved)
        resumed = MLP(2, [4, 1], seed=2)  # other numbers, until loaded
        resumed.load_state_dict(model_state)
        opt_resumed = make(resumed.parameters())
        opt_resumed.load_state_dict(opt_state)
        train(resumed, opt_resumed, 3)
        assert resumed.state_dict() == whole.state_dict()

    def test_keys_must_match(self) -> None:
        opt = SGD([Value(1.0)], lr=0.1)
        with pytest.raises(RuntimeError, match=r"SGD\.load_state_dict: missing keys"):
            opt.load_state_dict({"lr": 0.2, "momentum": 0.0})
        with pytest.raises(RuntimeError, match="unexpected keys 't'"):
            opt.load_state_dict({**opt.state_dict(), "t": 3})
        assert opt.lr == 0.1

    @pytest.mark.parametrize(
        ("change", "error", "match"),
        [
            ({"v": [0.0]}, ValueError, "'v' must be a list of 2 numbers"),
            ({"m": [0.0, "x"]}, TypeError, r"m\[1\] must be a number"),
            ({"betas": (0.9, 1.5)}, ValueError, r"betas\[1\] must be in \[0, 1\)"),
            ({"t": -1}, TypeError, "t .steps taken. must be an int >= 0"),
            ({"lr": -1.0}, ValueError, "lr must be a finite number >= 0"),
        ],
    )
    def test_bad_state_changes_nothing(
        self, change: dict[str, Any], error: type[Exception], match: str
    ) -> None:
        ps = [Value(1.0), Value(2.0)]
        opt = Adam(ps, lr=0.1)
        for p in ps:
            p.grad = 1.0
        opt.step()
        before = opt.state_dict()
        with pytest.raises(error, match=match):
            opt.load_state_dict({**before, **change})
        assert opt.state_dict() == before
