"""The benchmark suite at a tiny size, so it cannot rot (no timing is asserted).

Every workload runs on every installed engine and must give the same gradients as this
engine does: the peers are independent implementations, so they check the workloads
(and this engine) as well as the plumbing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from benchmarks import _workloads as w
from benchmarks import suite

SIZES = {"chain": 30, "terms": 12, "points": 6}


def workloads(engine: w.Engine) -> dict[str, Any]:
    return {
        "chain": w.Chain(engine, SIZES["chain"]),
        "sum": w.SumOfProducts(engine, SIZES["terms"]),
        "demo": w.DemoStep(engine, SIZES["points"]),
    }


def gradients(engine: w.Engine) -> dict[str, tuple[float, list[float]]]:
    """Each workload's output and its leaves' gradients on one engine."""
    out = {}
    for name, workload in workloads(engine).items():
        root = workload.forward()
        engine.backward(root)
        out[name] = (float(root.data), [engine.grad(x) for x in workload.leaves])
    return out


def peer(name: str) -> w.Engine:
    if name == "micrograd":
        pytest.importorskip("micrograd")
        return w.micrograd()
    pytest.importorskip("torch")
    return w.torch_scalar()


class TestWorkloads:
    """The workloads compute the same thing on every engine."""

    @pytest.mark.parametrize("name", ["micrograd", "torch"])
    def test_peer_gradients_match(self, name: str) -> None:
        """A peer engine gives this engine's value and gradients on every workload."""
        theirs, ours = gradients(peer(name)), gradients(w.ours())
        for workload, (value, grads) in ours.items():
            their_value, their_grads = theirs[workload]
            assert their_value == pytest.approx(value, rel=1e-12), workload
            assert their_grads == pytest.approx(grads, rel=1e-9, abs=1e-12), workload

    def test_chain_node_count(self) -> None:
        """A chain of k steps has 3 nodes a step plus its 3 leaves."""
        engine = w.ours()
        chain = w.Chain(engine, 30)
        assert engine.count(chain.forward()) == 3 * 9 + 3

    def test_sum_node_count(self) -> None:
        """A sum of n products: 2n leaves, n products, n - 1 additions."""
        engine = w.ours()
        assert engine.count(w.SumOfProducts(engine, 12).forward()) == 2 * 12 + 12 + 11

    def test_micrograd_counts_constants_as_nodes(self) -> None:
        """micrograd wraps each number constant in a leaf; this engine does not."""
        mg, ours = peer("micrograd"), w.ours()
        assert mg.count(w.DemoStep(mg, 4).forward()) > ours.count(
            w.DemoStep(ours, 4).forward()
        )

    def test_batched_torch_matches(self) -> None:
        """PyTorch's batched demo step gives this engine's loss and gradients."""
        pytest.importorskip("torch")
        batched = w.BatchedDemoStep(SIZES["points"])
        loss = batched.forward()
        loss.backward()
        value, grads = gradients(w.ours())["demo"]
        assert loss.item() == pytest.approx(value, rel=1e-12)
        assert batched.flat_grads() == pytest.approx(grads, rel=1e-9, abs=1e-12)

    def test_traced_replay_matches(self) -> None:
        """The traced replay of the demo step gives this engine's loss and gradients."""
        traced = w.TracedDemoStep(SIZES["points"])
        value, grads = traced.prepare().value_and_grad(*traced.params)
        expected_value, expected = gradients(w.ours())["demo"]
        assert float(value) == pytest.approx(expected_value, rel=1e-12)
        assert [float(g) for g in grads] == pytest.approx(expected, rel=1e-9, abs=1e-12)


class TestSuite:
    """``python -m benchmarks --quick`` runs end to end and writes its table."""

    def test_quick_run_writes_every_row_and_target(self, tmp_path: Path) -> None:
        """Every installed engine has a row; every target has a verdict."""
        out = tmp_path / "RESULTS.md"
        assert suite.main(["--quick", "--out", str(out)]) == 0
        table = out.read_text()
        for engine in [e.name for e in suite.engines()]:
            assert f"| {engine} |" in table
        verdicts = [line for line in table.splitlines() if line.startswith("| ")]
        targets = [line for line in verdicts if ">=" in line or "<=" in line]
        assert len(targets) == 11
        assert all(
            line.endswith(("| PASS |", "| **FAIL** |", "| not measured |"))
            for line in targets
        )

    def test_runs_without_torch(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without PyTorch its rows are left out and its targets are not measured."""
        real = suite.available
        monkeypatch.setattr(suite, "available", lambda m: m != "torch" and real(m))
        out = tmp_path / "RESULTS.md"
        assert suite.main(["--quick", "--out", str(out)]) == 0
        table = out.read_text()
        assert "torch" not in table.split("| target |")[0].split("Command")[1]
        assert "| — (not available) | not measured |" in table


def test_vectorized_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """The numpy-replay benchmark runs end to end at a tiny size."""
    pytest.importorskip("numpy")
    from benchmarks import vectorized

    assert vectorized.main(["--points", "400", "--sample", "40", "--repeats", "1"]) == 0
    assert "arrays" in capsys.readouterr().out
