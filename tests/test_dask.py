"""Traced replay over dask arrays (issue 19): lazy, chunk by chunk the numpy path.

The oracle is the numpy path (tests/test_vectorized.py checks it against the
engine): every chunk of every dask result must equal, number for number, the numpy
path on the same points. The cluster tests run a LocalCluster of two worker
processes on loopback, started and closed by the test module.
"""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest

np = pytest.importorskip("numpy")
da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")

import autograd_scalar as ag  # noqa: E402 -- after the importorskips
from autograd_scalar import trace  # noqa: E402
from autograd_scalar.tracing import Traced  # noqa: E402


def branchy(x: Any, y: Any) -> Any:
    """A branch on data (a guard per point) and a log that fails for x * y <= -1."""
    if x > y:
        return ag.tanh(x * y) + ag.log1p(x * y)
    return ag.relu(x - 0.5) * ag.exp(y) + ag.sqrt(abs(y))


def assert_same(got: Any, want: Any) -> None:
    """Equal arrays, nan where nan, of the same shape."""
    got = np.asarray(got)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def numpy_path(g: Traced, args: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
    """The numpy path on the same points (dask arrays computed first)."""
    plain = [a.compute() if hasattr(a, "__dask_graph__") else a for a in args]
    # value_and_grad is typed Any (numbers or arrays, by its arguments).
    return g.value_and_grad(*plain)  # type: ignore[no-any-return]


class TestLazy:
    """Nothing runs until compute; the results are dask arrays chunked as the input."""

    def test_nothing_computed_before_compute(self) -> None:
        """Building the result traces nothing and pickles nothing."""
        g = trace(branchy, 0.3, 0.2)
        xs = da.linspace(-2, 2, 1000, chunks=250)
        value, grads = g.value_and_grad(xs, 0.5)
        assert g.ntraces == 1 and not g._array_programs
        assert isinstance(value, da.Array) and all(
            isinstance(a, da.Array) for a in grads
        )
        assert value.chunks == xs.chunks == grads[0].chunks == grads[1].chunks
        assert g(xs, 0.5).chunks == xs.chunks

    def test_dask_not_imported_otherwise(self) -> None:
        """import autograd_scalar, scalar and numpy replay import no dask."""
        code = (
            "import sys, numpy as np, autograd_scalar as ag; "
            "g = ag.trace(lambda x: x * x, 1.0); g(2.0); g(np.ones(3)); "
            "assert 'dask' not in sys.modules, 'dask imported'"
        )
        subprocess.run([sys.executable, "-c", code], check=True)


class TestThreaded:
    """dask's default (threaded) scheduler: every chunk equals the numpy path."""

    @pytest.mark.parametrize(
        "args",
        [
            (da.linspace(-2, 2, 1001, chunks=100), -0.75),
            (
                da.linspace(-2, 2, 600, chunks=170),
                np.linspace(1.5, -1.5, 600),
            ),
            (
                da.linspace(-2, 2, 40, chunks=7).reshape(40, 1),
                da.linspace(-1, 2, 30, chunks=11).reshape(1, 30),
            ),
        ],
        ids=["dask-number", "dask-numpy", "broadcast-2d"],
    )
    def test_value_and_grad(self, args: tuple[Any, ...]) -> None:
        """Value and both gradients, chunk for chunk, as the numpy path gives them."""
        g = trace(branchy, 0.3, 0.2)
        value, grads = g.value_and_grad(*args)
        got = dask.compute(value, *grads)
        want_value, want_grads = numpy_path(g, args)
        for a, b in zip(got, (want_value, *want_grads), strict=True):
            assert_same(a, b)
        assert np.isnan(want_value).any()  # the log's domain is crossed: nan
        assert_same(g(*args).compute(), want_value)

    def test_shapes_that_do_not_broadcast(self) -> None:
        """ValueError naming the shapes, before anything is computed."""
        g = trace(branchy, 0.3, 0.2)
        with pytest.raises(ValueError, match=r"\(3,\).*\(4,\).*broadcast"):
            g.value_and_grad(da.ones(3), da.ones(4))

    def test_complex_array(self) -> None:
        """An array of complex numbers is a TypeError naming the argument."""
        g = trace(branchy, 0.3, 0.2)
        with pytest.raises(TypeError, match="complex128 for argument 1"):
            g(da.ones(3), da.ones(3, dtype=complex))


class TestChunkMemory:
    """A chunk's task holds at most a few times the bytes of its inputs and outputs."""

    def test_peak_of_one_chunk(self) -> None:
        """The benchmark function's value and gradient on a chunk of 1,000,000
        points: at most 1.5x its 2 input and 3 output arrays at once, inputs
        included (computed in pieces, the intermediates of a piece are small;
        issue 19 bounds the whole worker at about 4x)."""
        from autograd_scalar.tracing import vectorized
        from benchmarks.vectorized import f

        n = 1_000_000
        assert n // 10 >= vectorized.CHUNK_PIECE
        xs, ys = np.linspace(-2, 2, n), np.linspace(1.5, -1.5, n)
        g = trace(f, 0.5, -0.25)
        g.value_and_grad(xs[:10], ys[:10])  # the array trace, made before measuring
        tracemalloc.start()
        try:
            stacked = vectorized.over_chunk(
                xs, ys, traced=g, template=(None, None), grad=True
            )
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert stacked.shape == (3, n)
        chunk = (2 + 3) * 8 * n
        assert xs.nbytes + ys.nbytes + peak <= 1.5 * chunk

    @pytest.mark.parametrize(
        "args",
        [
            (da.linspace(-2, 2, 1001, chunks=100), -0.75),
            (
                da.linspace(-2, 2, 40, chunks=17).reshape(40, 1),
                da.linspace(-1, 2, 30, chunks=30).reshape(1, 30),
            ),
            (da.linspace(-2, 2, 30, chunks=30).reshape(1, 30), np.ones((40, 1))),
            (da.from_array(np.float64(0.7)), 0.3),
        ],
        ids=["1d", "2d-rows", "2d-broadcast-rows", "0d"],
    )
    def test_pieces_equal_the_numpy_path(
        self, args: tuple[Any, ...], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Chunks computed in pieces of 7 points (rows of a 2-d chunk: 1 row when
        a row is longer), ragged ends included, give the numpy path's numbers."""
        from autograd_scalar.tracing import vectorized

        monkeypatch.setattr(vectorized, "CHUNK_PIECE", 7)
        g = trace(branchy, 0.3, 0.2)
        value, grads = g.value_and_grad(*args)
        got = dask.compute(value, *grads)
        want_value, want_grads = numpy_path(g, args)
        for a, b in zip(got, (want_value, *want_grads), strict=True):
            assert_same(a, b)
        assert_same(g(*args).compute(), want_value)


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """A LocalCluster of 2 worker processes, 1 thread each, on loopback."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


class TestCluster:
    """On worker processes: the same numbers, the Traced shipped once per graph."""

    def test_every_chunk_equals_the_numpy_path(self, client: Any) -> None:
        """20 chunks over 2 processes; value and gradients equal the numpy path."""
        g = trace(branchy, 0.3, 0.2)
        xs = da.linspace(-2, 2, 20_000, chunks=1000)
        ys = da.linspace(1, -1.5, 20_000, chunks=1500)
        value, grads = g.value_and_grad(xs, ys)
        got = client.compute([value, *grads], sync=True)
        want_value, want_grads = numpy_path(g, (xs, ys))
        for a, b in zip(got, (want_value, *want_grads), strict=True):
            assert_same(a, b)
        workers = client.run(lambda: 1)
        assert len(workers) == 2

    def test_lambda_travels_by_cloudpickle(self, client: Any) -> None:
        """A lambda closing over a number runs on the workers."""
        c = 3.0
        g = trace(lambda x: ag.sin(x * c), 0.1)
        xs = da.linspace(-1, 1, 5000, chunks=1000)
        value, (slope,) = g.value_and_grad(xs)
        got_value, got_slope = client.compute([value, slope], sync=True)
        want_value, (want_slope,) = g.value_and_grad(xs.compute())
        assert_same(got_value, want_value)
        assert_same(got_slope, want_slope)

    def test_pickled_once_per_graph(
        self, client: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The Traced is pickled a few times per graph, not once per chunk (40)."""
        pickled = []
        getstate = Traced.__getstate__

        def counting(self: Traced) -> dict[str, Any]:
            pickled.append(1)
            return getstate(self)

        monkeypatch.setattr(Traced, "__getstate__", counting)
        g = trace(branchy, 0.3, 0.2)
        value, grads = g.value_and_grad(da.linspace(-2, 2, 4000, chunks=100), 0.5)
        client.compute([value, *grads], sync=True)
        assert 1 <= len(pickled) <= 2


class TestBenchmark:
    """benchmarks.distributed runs at a tiny size and keeps its section of RESULTS."""

    def test_quick_run(self, tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
        """A tiny run prints its rows and both targets' verdicts, writes its section
        in place of the old one, and the suite's rewrite keeps it."""
        pytest.importorskip("distributed")
        pytest.importorskip("psutil")
        from benchmarks import distributed as bench
        from benchmarks import suite

        out = tmp_path / "RESULTS.md"
        out.write_text(f"# Benchmark results\n\n{bench.BEGIN}\nold\n{bench.END}\n")
        assert bench.main(["--quick", "--out", str(out)]) == 0
        printed = capsys.readouterr().out
        assert "| dask, 2 workers | 40,000 |" in printed
        assert "| numpy path, one process | 20,000 |" in printed
        targets = [line for line in printed.splitlines() if "| <= " in line]
        assert len(targets) == 2
        assert all(line.endswith(("| PASS |", "| **FAIL** |")) for line in targets)
        text = out.read_text()
        assert "old" not in text and text.count(bench.BEGIN) == 1
        assert text.startswith("# Benchmark results\n") and printed.strip() in text
        assert suite.main(["--quick", "--out", str(out)]) == 0
        assert out.read_text().count(printed.strip()) == 1
