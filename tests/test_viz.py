"""Seeing the graph: DOT, drawings, explanations of gradients, sympy export."""

from __future__ import annotations

import base64
import html
import json
import math
import random
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd_scalar as ag
from autograd_scalar import Value, _rules, viz
from autograd_scalar._rules import _BUILTIN

SVG = "{http://www.w3.org/2000/svg}"


def sympy() -> Any:
    """sympy, or a skip when it is not installed."""
    return pytest.importorskip("sympy")


def diamond(square: bool = False) -> dict[str, Value]:
    """The seed's diamond at x=3, y=2, z=1: h = (x*y)*(y*z), o = h*h (or h**2)."""
    x, y, z = Value(3, "x"), Value(2, "y"), Value(1, "z")
    h1 = x * y
    h2 = y * z
    h = h1 * h2
    o = h**2 if square else h * h
    for name, v in [("h1", h1), ("h2", h2), ("h", h), ("o", o)]:
        v.label = name
    return {"x": x, "y": y, "z": z, "h1": h1, "h2": h2, "h": h, "o": o}


def graph_nodes(root: Value) -> list[Value]:
    """Every Value below root, found independently of viz."""
    seen: dict[int, Value] = {}
    stack = [root]
    while stack:
        v = stack.pop()
        if id(v) not in seen:
            seen[id(v)] = v
            stack.extend(v.parents)
    return list(seen.values())


def big_graph(n: int, seed: int = 0) -> Value:
    """A random graph of exactly n Values: each new one combines the last with a
    random earlier one, so shared nodes and long edges abound, and all are used."""
    rng = random.Random(seed)
    nodes = [Value(rng.uniform(-1, 1), f"x{i}") for i in range(10)]
    last = nodes[0]
    for leaf in nodes[1:]:
        last = last + leaf
        nodes.append(last)
    ops = [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a.tanh()]
    while len(nodes) < n:
        last = rng.choice(ops)(last, rng.choice(nodes))
        nodes.append(last)
    return last


# Random expression graphs: a few labeled leaves, then operations on any earlier
# node, so subexpressions are shared and inputs reused (x * x).
_OPS = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a.tanh(),
    lambda a, b: a.sin(),
    lambda a, b: ag.sigmoid(b),
    lambda a, b: 1.5 - a,
    lambda a, b: a * 0.5,
]


@st.composite
def graphs(draw: Any) -> tuple[list[Value], Value]:
    """Leaves and the output of a random graph of 1-8 operations."""
    leaves = [
        Value(draw(st.floats(-1.5, 1.5, allow_nan=False)), f"x{i}")
        for i in range(draw(st.integers(1, 3)))
    ]
    nodes: list[Any] = list(leaves)
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(_OPS))
        a = draw(st.sampled_from(nodes))
        b = draw(st.sampled_from(nodes))
        nodes.append(op(a, b))
    return leaves, nodes[-1]


def dot_edges(dot: str) -> list[tuple[str, str]]:
    return re.findall(r"^\s*(\w+) -> (\w+);$", dot, re.MULTILINE)


def dot_nodes(dot: str) -> dict[str, str]:
    """DOT node id -> its label, unescaped."""
    found = re.findall(r'^\s*(\w+) \[.*label="((?:[^"\\]|\\.)*)"\];$', dot, re.M)
    return {
        k: re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], v)
        for k, v in found
    }


class TestToDot:
    """DOT text: a node per Value and per operation, an edge per use."""

    def test_diamond_structure(self) -> None:
        """7 Values, 4 operations, 4 + 8 edges; labels show data and grad."""
        g = diamond()
        g["o"].backward()
        dot = viz.to_dot(g["o"])
        nodes = dot_nodes(dot)
        values = {k: v for k, v in nodes.items() if not k.endswith("_op")}
        ops = {k: v for k, v in nodes.items() if k.endswith("_op")}
        assert len(values) == 7 and sorted(ops.values()) == ["mul"] * 4
        assert len(dot_edges(dot)) == 4 + 8
        assert "y\ndata 2\ngrad 288" in values.values()
        assert dot.startswith("digraph") and dot.rstrip().endswith("}")

    def test_input_used_twice_has_two_edges(self) -> None:
        """o = h * h draws two edges from h into o's operation."""
        g = diamond()
        dot = viz.to_dot(g["o"])
        ids = {label.split("\n")[0]: k for k, label in dot_nodes(dot).items()}
        edges = dot_edges(dot)
        assert edges.count((ids["h"], ids["o"] + "_op")) == 2

    def test_constant_operands_are_drawn(self) -> None:
        """The 2 in x * 2 and the 1 in 1 - x appear as constant nodes."""
        x = Value(3, "x")
        dot = viz.to_dot(1 - x * 2)
        consts = {k: v for k, v in dot_nodes(dot).items() if k.startswith("c")}
        assert sorted(consts.values()) == ["1", "2"]
        sources = [s for s, _ in dot_edges(dot)]
        assert all(k in sources for k in consts)

    def test_labels_are_escaped(self) -> None:
        """Quotes, backslashes and newlines in labels survive DOT quoting."""
        tricky = 'a "quoted"\\ label\nsecond line'
        x = Value(1, tricky)
        dot = viz.to_dot(x + 1)
        assert any(v.startswith(tricky) for v in dot_nodes(dot).values())
        if shutil.which("dot"):  # Graphviz itself agrees the text is valid
            run = subprocess.run(
                ["dot", "-Tsvg"], input=dot, capture_output=True, text=True, check=True
            )
            assert "quoted" in run.stdout

    def test_deep_chain(self) -> None:
        """A chain 5,000 deep converts without recursion."""
        v = Value(0.1)
        for _ in range(5000):
            v = v.tanh()
        assert len(dot_edges(viz.to_dot(v))) == 2 * 5000

    def test_rejects_non_value(self) -> None:
        """A plain number is a TypeError."""
        with pytest.raises(TypeError, match="expected a Value"):
            viz.to_dot(3.0)  # type: ignore[arg-type]


def svg_texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def svg_groups(svg: str, cls: str) -> int:
    root = ET.fromstring(svg)
    return sum(1 for g in root.iter(f"{SVG}g") if g.get("class") == cls)


class TestDraw:
    """draw(): Jupyter display, saving, the built-in layout, Graphviz if present."""

    def test_builtin_svg_has_every_node_and_edge(self) -> None:
        """The SVG parses as XML and has a group per Value, operation and edge."""
        g = diamond()
        svg = viz.draw(2 * g["o"], engine="builtin").svg
        assert svg_groups(svg, "value") == 8
        assert svg_groups(svg, "op") == 5
        assert svg_groups(svg, "const") == 1
        root = ET.fromstring(svg)
        edges = [p for p in root.iter(f"{SVG}path") if p.get("marker-end")]
        assert len(edges) == 5 + 10  # an edge into each Value, one per operand
        texts = svg_texts(svg)
        for name in ["x", "y", "z", "h1", "h2", "h", "o", "mul", "2"]:
            assert name in texts

    def test_text_is_xml_escaped(self) -> None:
        """A label with <, > and & is escaped and reads back intact."""
        x = Value(1, "a<b> & c")
        assert "a<b> & c" in svg_texts(viz.draw(x * x, engine="builtin").svg)

    def test_two_thousand_nodes(self) -> None:
        """A 2,000-Value graph draws with the built-in layout, every node present."""
        out = big_graph(2000)
        nodes = graph_nodes(out)
        assert len(nodes) == 2000
        drawing = viz.draw(out, engine="builtin")
        assert svg_groups(drawing.svg, "value") == 2000
        assert svg_groups(drawing.svg, "op") == sum(1 for v in nodes if v.op)
        texts = set(svg_texts(drawing.svg))
        assert {f"x{i}" for i in range(10)} <= texts

    def test_jupyter_display(self) -> None:
        """_repr_mimebundle_ offers SVG and plain text."""
        d = viz.draw(diamond()["o"], engine="builtin")
        bundle = d._repr_mimebundle_()
        assert bundle["image/svg+xml"] == d.svg
        assert bundle["text/plain"] == "<Drawing of 7 values, laid out by builtin>"

    @pytest.mark.parametrize("suffix", [".svg", ".dot", ".SVG"])
    def test_save(self, tmp_path: Path, suffix: str) -> None:
        """save() writes SVG or DOT by the file's suffix."""
        d = viz.draw(diamond()["o"], engine="builtin")
        path = d.save(tmp_path / f"g{suffix}")
        want = d.dot if suffix == ".dot" else d.svg
        assert path.read_text(encoding="utf-8") == want

    def test_save_rejects_other_suffixes(self, tmp_path: Path) -> None:
        """save('g.png') is a ValueError naming the suffix."""
        d = viz.draw(diamond()["o"], engine="builtin")
        with pytest.raises(ValueError, match=r"'\.png'"):
            d.save(tmp_path / "g.png")

    def test_rejects_unknown_engine(self) -> None:
        """engine='neato' is a ValueError."""
        with pytest.raises(ValueError, match="neato"):
            viz.draw(Value(1), engine="neato")  # type: ignore[arg-type]

    def test_falls_back_without_dot(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without the dot program, 'auto' lays out itself; 'graphviz' says why not."""
        pytest.importorskip("graphviz")
        monkeypatch.setattr(viz._drawing.shutil, "which", lambda name: None)
        assert viz.draw(Value(1) + 1).engine == "builtin"
        with pytest.raises(RuntimeError, match="dot program"):
            viz.draw(Value(1) + 1, engine="graphviz")

    def test_graphviz(self) -> None:
        """With Graphviz installed, 'auto' uses it and its SVG has every label."""
        pytest.importorskip("graphviz")
        if shutil.which("dot") is None:
            pytest.skip("Graphviz's dot program is not installed")
        d = viz.draw(diamond()["o"])
        assert d.engine == "graphviz"
        texts = svg_texts(d.svg)
        for name in ["x", "y", "z", "h1", "h2", "h", "o", "mul"]:
            assert name in texts

    def test_big_graphs_skip_graphviz(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """'auto' lays out graphs above GRAPHVIZ_MAX_VALUES itself, even with
        Graphviz installed; 'graphviz' still uses it."""
        pytest.importorskip("graphviz")
        if shutil.which("dot") is None:
            pytest.skip("Graphviz's dot program is not installed")
        monkeypatch.setattr(viz, "GRAPHVIZ_MAX_VALUES", 6)
        g = diamond()
        assert viz.draw(g["h"]).engine == "graphviz"  # 6 Values
        assert viz.draw(g["o"]).engine == "builtin"  # 7 Values
        assert viz.draw(g["o"], engine="graphviz").engine == "graphviz"

    def test_slow_graphviz_falls_back(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """'auto' gives Graphviz GRAPHVIZ_TIMEOUT seconds, then lays out itself."""
        pytest.importorskip("graphviz")
        if shutil.which("dot") is None:
            pytest.skip("Graphviz's dot program is not installed")
        monkeypatch.setattr(viz, "GRAPHVIZ_TIMEOUT", 1e-9)
        assert viz.draw(diamond()["o"]).engine == "builtin"
        assert viz.draw(diamond()["o"], engine="graphviz").engine == "graphviz"

    @pytest.mark.parametrize("engine", ["builtin", "graphviz"])
    def test_renders_in_a_browser(self, tmp_path: Path, engine: str) -> None:
        """Headless Chromium shows every label with a nonzero width, and loads the
        file as an image (which needs well-formed SVG)."""
        browser = next(
            (
                shutil.which(b)
                for b in ("chromium", "chromium-browser")
                if shutil.which(b)
            ),
            None,
        )
        if browser is None:
            pytest.skip("no Chromium installed")
        if engine == "graphviz" and (
            shutil.which("dot") is None or not _importable("graphviz")
        ):
            pytest.skip("Graphviz is not installed")
        g = diamond()
        g["x"].label = "x <&> 'q'"
        g["o"].backward()
        svg = viz.draw(g["o"], engine=engine).svg  # type: ignore[arg-type]
        result = _render(browser, svg, tmp_path)
        assert result["image"][0] > 0 and result["image"][1] > 0
        assert result["box"][0] > 0 and result["box"][1] > 0
        shown = result["texts"]
        for name in ["x <&> 'q'", "y", "z", "h1", "h2", "h", "o", "mul", "grad 288"]:
            assert name in shown


def _importable(name: str) -> bool:
    try:
        __import__(name)
    except ImportError:
        return False
    return True


_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"></head><body>
<div id="inline">{svg}</div>
<img id="image" src="data:image/svg+xml;base64,{b64}">
<pre id="result">pending</pre>
<script>
window.addEventListener("load", () => {{
  const texts = [...document.querySelectorAll("#inline text")]
    .filter(t => t.getComputedTextLength() > 0)
    .map(t => t.textContent);
  const box = document.querySelector("#inline svg").getBoundingClientRect();
  const image = document.getElementById("image");
  document.getElementById("result").textContent = JSON.stringify({{
    texts: texts, box: [box.width, box.height],
    image: [image.naturalWidth, image.naturalHeight]
  }});
}});
</script></body></html>
"""


def _render(browser: str, svg: str, tmp_path: Path) -> Any:
    """Load an HTML page embedding the SVG (inline and as an image) in headless
    Chromium; return what the page's script measured."""
    page = tmp_path / "page.html"
    b64 = base64.b64encode(svg.encode()).decode()
    page.write_text(_PAGE.format(svg=svg, b64=b64), encoding="utf-8")
    run = subprocess.run(
        [
            browser,
            *("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic"),
            *("--no-first-run", "--disable-background-networking"),
            *("--disable-component-update", "--disable-sync"),
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found = re.search(r'<pre id="result">(.*?)</pre>', run.stdout, re.S)
    assert found, f"no result from Chromium: {run.stderr[-2000:]}"
    return json.loads(html.unescape(found[1]))


class TestBackwardSteps:
    """backward_steps: the reverse pass written down, same gradients as backward."""

    def test_diamond(self) -> None:
        """Each use is a step; the gradients are the seed's (96, 288, 288)."""
        g = diamond()
        rec = viz.backward_steps(g["o"])
        assert len(rec.steps) == 8  # two operands for each of the four products
        assert [rec.grads[g[k]] for k in "xyz"] == [96, 288, 288]
        first, second = rec.steps[:2]  # o = h * h: h receives h.data * 1 twice
        assert (first.node, first.input, first.slot) == (g["o"], g["h"], 0)
        assert (second.local, second.upstream, second.total) == (12, 1, 24)
        assert all(v.grad == 0 for v in g.values())  # nothing was touched

    @given(graphs())
    def test_same_gradients_as_backward(self, case: Any) -> None:
        """Every node's recorded gradient equals backward()'s, bit for bit."""
        _, out = case
        rec = viz.backward_steps(out)
        out.backward()
        for v in graph_nodes(out):
            assert rec.grads[v] == v.grad or (
                math.isnan(v.grad) and math.isnan(rec.grads[v])
            )

    def test_prints_a_table(self) -> None:
        """str() is a header and one row per step; HTML is a table."""
        rec = viz.backward_steps(diamond()["o"])
        lines = str(rec).splitlines()
        assert len(lines) == 2 + 8
        assert lines[1].split() == [
            "step",
            "node",
            "input",
            "local",
            "d",
            "upstream",
            "increment",
            "grad",
        ]
        assert lines[-1].split() == ["8", "h2", "z", "2", "144", "288", "288"]
        assert rec._repr_html_().count("<tr>") == 1 + 8


class TestExplain:
    """explain: d out / d wrt as a sum over paths of products of local derivatives."""

    def test_diamond_with_square(self) -> None:
        """With o = h**2, y reaches o along two paths; 144 + 144 = 288.

        By hand: via h1 = x*y: dh1/dy = x = 3, dh/dh1 = h2 = 2, do/dh = 2h = 24;
        via h2 = y*z: dh2/dy = z = 1, dh/dh2 = h1 = 6, do/dh = 24.
        """
        g = diamond(square=True)
        e = ag.explain(g["o"], g["y"])
        nodes = [[v.label for v in path] for path, _ in e.paths]
        assert nodes == [["y", "h1", "h", "o"], ["y", "h2", "h", "o"]]
        assert e.factors == [(3, 2, 24), (1, 6, 24)]
        assert [p for _, p in e.paths] == [144, 144]
        assert e.total == e.grad == 288

    def test_diamond_with_product(self) -> None:
        """With o = h*h, each path through h is there twice (h is used twice)."""
        g = diamond()
        e = ag.explain(g["o"], g["x"])
        assert [p for _, p in e.paths] == [48, 48]  # 2 (=y) * 2 (=h2) * 12 (=h)
        assert e.total == 96
        assert "→[0] o" in str(e) and "→[1] o" in str(e)

    @given(graphs())
    def test_paths_sum_to_the_gradient(self, case: Any) -> None:
        """On random graphs, the path products of each leaf sum to its grad."""
        leaves, out = case
        out.backward()
        for x in leaves:
            e = ag.explain(out, x)
            assert math.isclose(e.total, x.grad, rel_tol=1e-9, abs_tol=1e-12)

    def test_exact_with_fractions(self) -> None:
        """Fraction data gives exact products and an exact sum."""
        x = Value(Fraction(1, 3), "x")
        out = x * x / (x + 1)
        e = ag.explain(out, x)
        out.backward()
        # d/dx x^2/(x+1) = (x^2 + 2x)/(x+1)^2 = (1/9 + 2/3)/(16/9) = 7/16
        assert e.total == x.grad == Fraction(7, 16)

    def test_path_explosion_is_refused(self) -> None:
        """2**20 paths is over the cap: a ValueError saying how many."""
        x = Value(1.0, "x")
        v = x
        for _ in range(20):
            v = v + v
        with pytest.raises(ValueError, match=r"1048576 paths .* max_paths=10000"):
            ag.explain(v, x)

    def test_unrelated_and_self(self) -> None:
        """No path from an unrelated Value (total 0); out itself has one, empty."""
        g = diamond()
        assert ag.explain(g["o"], Value(1)).paths == []
        assert ag.explain(g["o"], Value(1)).total == 0
        e = ag.explain(g["o"], g["o"])
        assert e.paths == [((g["o"],), 1)] and e.factors == [()]

    def test_html(self) -> None:
        """The HTML form is a title and a table of paths plus the sum."""
        g = diamond(square=True)
        e = ag.explain(g["o"], g["y"])
        assert e._repr_html_().count("<tr>") == 1 + 2 + 1


class TestToSympy:
    """to_sympy: the graph as a sympy expression, for independent derivatives."""

    @pytest.mark.parametrize("name", sorted(_BUILTIN))
    def test_every_builtin_primitive(self, name: str) -> None:
        """Each built-in maps to sympy: same value, same derivatives."""
        sp = sympy()
        prim = ag.registered()[name]
        # an integer input (polygamma's order, round's ndigits) is a constant 1
        whole = [p is _rules._no_derivative for p in prim.partials]
        point: list[Any] = [0.7, 0.3, 0.4][: prim.arity]
        if name == "acosh":
            point = [1.7]  # its domain is x > 1
        point = [1 if w else p for p, w in zip(point, whole, strict=True)]
        assert prim.domain is None or prim.domain(*point)
        xs = [
            p if w else Value(p, f"a{i}")
            for i, (p, w) in enumerate(zip(point, whole, strict=True))
        ]
        out = prim(*xs)
        out.backward()
        expr = ag.to_sympy(out)
        at = {sp.Symbol(f"a{i}", real=True): p for i, p in enumerate(point)}
        assert math.isclose(float(expr.subs(at)), out.data, rel_tol=1e-12)
        for i, x in enumerate(xs):
            if not isinstance(x, Value):
                continue
            d = sp.diff(expr, sp.Symbol(f"a{i}", real=True))
            # sympy leaves d/dx floor(x) unevaluated: 0 away from the jumps
            d = sp.sympify(
                d.replace(lambda e: isinstance(e, sp.Derivative | sp.Subs), lambda e: 0)
            )
            assert math.isclose(float(d.subs(at)), x.grad, rel_tol=1e-9, abs_tol=1e-12)

    @settings(max_examples=30)
    @given(graphs())
    def test_gradients_match_sympy(self, case: Any) -> None:
        """On random graphs, sympy.diff of the export gives our gradients."""
        sp = sympy()
        leaves, out = case
        out.backward()
        symbols: dict[Value, Any] = {}
        expr = ag.to_sympy(out, symbols)
        at = {symbols[x]: x.data for x in leaves if x in symbols}
        for x in leaves:
            want = float(sp.diff(expr, symbols[x]).subs(at)) if x in symbols else 0.0
            assert math.isclose(x.grad, want, rel_tol=1e-9, abs_tol=1e-9)

    def test_exact_constants(self) -> None:
        """Int and Fraction constants stay exact; floats become Floats."""
        sp = sympy()
        x = Value(2, "x")
        s = sp.Symbol("x", real=True)
        assert ag.to_sympy(x * Fraction(1, 3) + 2) == s / 3 + 2
        assert ag.to_sympy(x * 0.5) == sp.Float(0.5) * s

    def test_symbol_names(self) -> None:
        """Unlabeled leaves get unique names; a repeated label gets a suffix."""
        a, b = Value(1, "x"), Value(2, "x")
        c, d = Value(3), Value(4)
        symbols: dict[Value, Any] = {}
        ag.to_sympy(a + b + c + d, symbols)
        names = [str(symbols[v]) for v in (a, b, c, d)]
        assert names == ["x", "x_1", "_v0", "_v1"]

    def test_user_primitive(self) -> None:
        """A user primitive becomes an undefined sympy Function of its name."""
        sp = sympy()
        cube = ag.primitive(lambda x: x**3, lambda x: 3 * x**2, name="viz_cube")
        expr = ag.to_sympy(cube(Value(2, "x")) + 1)
        assert expr == sp.Function("viz_cube")(sp.Symbol("x", real=True)) + 1


def chain(n: int, label: str = "x") -> tuple[Value, Value]:
    """A leaf and tanh applied n times to it."""
    x = Value(0.5, label)
    v = x
    for _ in range(n):
        v = v.tanh()
    return x, v


def summary_numbers(svg: str) -> list[int]:
    """The counts written in the dashed boxes ("… 1,234 values …")."""
    return [
        int(m.replace(",", ""))
        for m in re.findall(r"… ([\d,]+) values …", " ".join(svg_texts(svg)))
    ]


class TestDisplay:
    """Drawings show everywhere: an HTML image form beside the SVG."""

    def test_html_image_holds_the_svg(self) -> None:
        """The HTML form is an <img> whose data URI decodes to the drawing's SVG,
        no wider than the output area."""
        d = viz.draw(diamond()["o"], engine="builtin")
        bundle = d._repr_mimebundle_()
        page = bundle["text/html"]
        found = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)"', page)
        assert found and base64.b64decode(found[1]).decode() == d.svg
        assert "max-width: 100%" in page
        assert bundle["image/svg+xml"] == d.svg

    def test_summary_note_in_html(self) -> None:
        """A summarised drawing says so under the image, and in its repr."""
        _, out = chain(50)
        d = viz.draw(out, max_values=20)
        assert d.note and html.escape(d.note) in d._repr_html_()
        assert repr(d) == "<Drawing of 51 values, summarised, laid out by builtin>"

    def test_labels_are_shown(self) -> None:
        """A Value's label (as nn gives parameters) names it in the drawing, in
        explain and in backward_steps."""
        w, x = Value(0.5, "L1.N3.w0"), Value(2.0, "in0")
        out = (w * x).tanh()
        assert "L1.N3.w0" in svg_texts(viz.draw(out, engine="builtin").svg)
        assert str(viz.explain(out, w)).splitlines()[2].split()[0] == "L1.N3.w0"
        assert "L1.N3.w0" in str(viz.backward_steps(out)).splitlines()[-2].split()


class TestSummary:
    """Big graphs: drawn summarised, small and fast, never whole."""

    def test_hundred_thousand_chain(self) -> None:
        """A 100,000-operation chain draws as a few boxes: its two ends, and one
        dashed box holding the rest; the counts add up to the graph."""
        _, out = chain(100_000)
        d = viz.draw(out)
        assert len(d.svg) < 20_000  # a few kilobytes, not 112 MB
        drawn = svg_groups(d.svg, "value")
        assert drawn <= 10 and svg_groups(d.svg, "summary") == 1
        assert drawn + sum(summary_numbers(d.svg)) == 100_001
        texts = svg_texts(d.svg)
        assert "x" in texts and d.note in texts
        assert d.note.startswith("Summary of 100,001 values")

    def test_shared_leaves_stay(self) -> None:
        """In y = tanh(y * a + b) repeated, the chain collapses but the shared
        leaves a and b are drawn, each with an edge into the dashed box."""
        a, b = Value(0.3, "a"), Value(0.1, "b")
        y = Value(0.5, "y0")
        for _ in range(3000):
            y = (y * a + b).tanh()
        svg = viz.draw(y).svg
        assert {"a", "b", "y0"} <= set(svg_texts(svg))
        assert svg_groups(svg, "value") + sum(summary_numbers(svg)) == 3 * 3000 + 3

    def test_repeated_structure_collapses(self) -> None:
        """A sum of 600 similar terms: the terms summed in the middle go into the
        box with the running sum; the weight they share stays drawn."""
        w = Value(1.5, "w")
        total: Any = 0
        for i in range(600):
            total = total + (w * Value(float(i), f"x{i}")).tanh() ** 2
        nodes = graph_nodes(total)
        d = viz.draw(total, max_values=500)
        texts = set(svg_texts(d.svg))
        assert "w" in texts and "x599" in texts and "x300" not in texts
        assert svg_groups(d.svg, "value") <= viz.SUMMARY_VALUES
        assert svg_groups(d.svg, "value") + sum(summary_numbers(d.svg)) == len(nodes)

    def test_tangled_graph(self) -> None:
        """A tangled 3,000-Value graph (shared nodes, long edges) draws at most
        SUMMARY_VALUES Values, the output among them."""
        out = big_graph(3000)
        d = viz.draw(out)
        assert svg_groups(d.svg, "value") <= viz.SUMMARY_VALUES
        assert svg_groups(d.svg, "value") + sum(summary_numbers(d.svg)) == 3000
        assert re.search(r"<g class=\"value\"[^>]*>\n<rect [^>]*#fff4cc", d.svg)

    def test_earliest_values_go_into_one_box(self) -> None:
        """With no long chain (a balanced sum of 512 leaves), what does not fit
        is the earliest values, in one box; the output is drawn."""
        level = [Value(float(i), f"x{i}") for i in range(512)]
        while len(level) > 1:
            level = [a + b for a, b in zip(level[::2], level[1::2], strict=True)]
        d = viz.draw(level[0], max_values=100)  # 100 boxes: 99 Values and one box
        assert svg_groups(d.svg, "summary") == 1
        assert svg_groups(d.svg, "value") == 99
        assert sum(summary_numbers(d.svg)) == 1023 - 99
        assert "earliest" in d.note and "x511" in svg_texts(d.svg)

    def test_dot_is_the_whole_graph(self) -> None:
        """A summarised drawing's .dot is still to_dot of the whole graph."""
        _, out = chain(30)
        assert viz.draw(out, max_values=10).dot == viz.to_dot(out)

    def test_max_values(self) -> None:
        """max_values sets the limit; below it the drawing is whole; a bad value
        is a ValueError naming it."""
        _, out = chain(30)
        assert viz.draw(out, engine="builtin", max_values=31).note == ""
        assert viz.draw(out, engine="builtin", max_values=30).note != ""
        with pytest.raises(ValueError, match=r"max_values=0"):
            viz.draw(out, max_values=0)
        with pytest.raises(TypeError, match=r"draw\(max_values='9'\)"):
            viz.draw(out, max_values="9")  # type: ignore[arg-type]

    def test_package_setting(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Setting viz.MAX_DRAWN_VALUES changes the default limit of draw and
        stepper."""
        _, out = chain(30)
        monkeypatch.setattr(viz, "MAX_DRAWN_VALUES", 10)
        assert viz.draw(out).note != ""
        with pytest.raises(ValueError, match="max_values=10"):
            viz.stepper(out)

    @given(graphs(), st.integers(1, 12))
    def test_any_graph_summarises(self, case: Any, limit: int) -> None:
        """Any graph, any limit: valid SVG, every Value drawn or counted once."""
        _, out = case
        svg = viz.draw(out, engine="builtin", max_values=limit).svg
        drawn = svg_groups(svg, "value")
        assert drawn + sum(summary_numbers(svg)) == len(graph_nodes(out))


class TestExplainIsLinear:
    """explain along a long path: linear, not quadratic, in its length."""

    def test_three_hundred_thousand_chain(self) -> None:
        """A 300,000-node chain is explained well within a generous guard (a
        quadratic walk, 47 s at 100,000 nodes, would take many minutes)."""
        script = (
            "from autograd_scalar import Value, viz\n"
            "x = Value(0.5, 'x'); v = x\n"
            "for _ in range(300_000): v = v.tanh()\n"
            "e = viz.explain(v, x)\n"
            "print(len(e.paths), len(e.paths[0][0]), len(e.factors[0]))\n"
        )
        run = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            timeout=240,
            check=True,
        )
        assert run.stdout.split() == ["1", "300001", "300000"]


class TestSympyTable:
    """Every built-in primitive has a sympy form, or a reason it has none."""

    def test_every_builtin_primitive_has_a_form(self) -> None:
        """The keys of viz's sympy table cover the built-ins in registered()."""
        from autograd_scalar.viz._sympy import _FORMS, _NO_FORM

        builtin = {name for name in ag.registered() if name in _BUILTIN}
        missing = builtin - set(_FORMS) - set(_NO_FORM)
        assert not missing, f"no sympy form and no reason for: {sorted(missing)}"
        assert all(reason.strip() for reason in _NO_FORM.values())
        assert not set(_FORMS) & set(_NO_FORM)


class TestTablesDisplay:
    """In a notebook, tables of big graphs display small; print() shows all."""

    def test_long_tables_are_cut_in_html(self) -> None:
        """100,000 steps display as 200 rows and a row saying how many are not
        shown; str() still has every step."""
        _, out = chain(100_000)
        rec = viz.backward_steps(out)
        page = rec._repr_html_()
        assert page.count("<tr>") == 1 + 200 + 1
        assert "99,800 more rows" in page
        assert len(str(rec).splitlines()) == 2 + 100_000

    def test_long_paths_are_cut_in_html(self) -> None:
        """A path of 100,001 nodes displays in a cell of about a thousand
        characters, its two ends kept."""
        x, out = chain(100_000)
        page = viz.explain(out, x)._repr_html_()
        assert len(page) < 5_000
        assert "<td>x → tanh#0 → " in page and "tanh#99999</td>" in page
