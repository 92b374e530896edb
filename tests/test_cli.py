"""The command line: results against sympy, every rejection, hostile input, formats.

Most tests run ``main(argv)`` in-process and read its output with ``capsys``; a few
run ``python -m autograd_scalar`` and the console script end to end. Hostile inputs
run under a hang guard (an alarm that fails the test), never a timed assertion.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import json
import math
import os
import shlex
import signal
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import autograd_scalar
from autograd_scalar import Value, sin
from autograd_scalar.cli import (
    FUNCTIONS,
    MAX_GRAPH_OUTPUT,
    MAX_HESSIAN_WORK,
    MAX_LENGTH,
    MAX_VARIABLES,
    UsageError,
    main,
    parse,
)
from autograd_scalar.cli._parser import INTEGER_INPUTS

ROOT = Path(autograd_scalar.__file__).resolve().parent.parent
PROG = "autograd-scalar: error:"


@contextmanager
def hang_guard(seconds: int = 20) -> Iterator[None]:
    """Fail (instead of hanging) if the block runs longer than ``seconds``."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"the command line ran longer than {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """main(argv) in-process under the hang guard: (status, stdout, stderr)."""
    with hang_guard():
        status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    """main(--json + argv), which must succeed; the parsed document."""
    status, out, err = run(capsys, "--json", *argv)
    assert (status, err) == (0, "")
    # json.loads is typed Any; the CLI's --json output is always an object.
    return json.loads(out, parse_constant=_reject_constant)  # type: ignore[no-any-return]


def _reject_constant(name: str) -> None:
    raise ValueError(f"not strict JSON: {name}")


def assert_clean_error(err: str, status: int, expected_status: int) -> list[str]:
    """One 'autograd-scalar: error:' line (plus the caret block), no traceback."""
    assert status == expected_status, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[0].startswith(PROG), err
    assert sum(line.startswith(PROG) for line in lines) == 1
    return lines


def assert_caret(err: str, expression: str, column: int) -> None:
    """The error names 1-based ``column`` and echoes EXPR with a caret under it."""
    lines = err.splitlines()
    assert lines[0].startswith(f"{PROG} column {column}:"), err
    assert lines[1:] == ["  " + expression, "  " + " " * (column - 1) + "^"], err


# -------------------------------------------------------------------------------------
# Results, against sympy
# -------------------------------------------------------------------------------------

# (expression, the same function written for sympy, point). Points avoid every kink.
CASES: list[tuple[str, str, dict[str, float]]] = [
    ("x*y + sin(x)", "x*y + sin(x)", {"x": 2, "y": 3}),
    ("-x**2 + 3*x - 1/x", "-x**2 + 3*x - 1/x", {"x": 1.5}),
    ("exp(-x/2) * cos(3*y)", "exp(-x/2) * cos(3*y)", {"x": 0.7, "y": -0.4}),
    ("log(1 + x**2) / sqrt(y)", "log(1 + x**2) / sqrt(y)", {"x": 1.2, "y": 2.5}),
    ("tanh(w*x + b)", "tanh(w*x + b)", {"w": 0.5, "x": 2, "b": -1}),
    (
        "sigmoid(a) * softplus(b) - relu(a - b)",
        "1/(1 + exp(-a)) * log(1 + exp(b)) - Max(a - b, 0)",
        {"a": 0.3, "b": -1.1},
    ),
    ("atan2(y, x) + hypot(x, y)", "atan2(y, x) + sqrt(x**2 + y**2)", {"x": -1, "y": 2}),
    ("maximum(x, y) * minimum(x, 2*y)", "Max(x, y) * Min(x, 2*y)", {"x": 1, "y": 0.7}),
    (
        "log1p(x) + expm1(y) + erf(x*y)",
        "log(1+x) + exp(y) - 1 + erf(x*y)",
        {"x": 0.4, "y": 0.9},
    ),
    ("abs(x - y) ** 1.5", "Abs(x - y) ** 1.5", {"x": 0.2, "y": 1.3}),
    ("tan(x) + atan(y)", "tan(x) + atan(y)", {"x": 0.5, "y": -2}),
    ("pi * e ** x", "pi * E ** x", {"x": 0.25}),
    ("x ** y", "x ** y", {"x": 1.7, "y": 2.2}),
    ("+x - -y", "x + y", {"x": 1, "y": 2}),
    ("2 ** -x ** 2", "2 ** (-(x ** 2))", {"x": 0.6}),
    ("0x10 * x + 1_000 * y + 1e-3", "16*x + 1000*y + 1/1000", {"x": 1, "y": 2}),
    ("  ((x))  *  ( y )  ", "x*y", {"x": 3, "y": 4}),
    ("x * 2", "2*x", {"x": 1, "z": 5}),  # z unused: its derivatives are 0
    ("sin(pi / 6) + 2", "sin(pi/6) + 2", {}),  # no variable
]


def sympy_reference(
    source: str, point: dict[str, float]
) -> tuple[float, dict[str, float], dict[str, dict[str, float]]]:
    """Value, gradient and Hessian of ``source`` at ``point``, by sympy."""
    sympy = pytest.importorskip("sympy")
    symbols = {name: sympy.Symbol(name, real=True) for name in point}
    f = sympy.parse_expr(source, local_dict=dict(symbols))
    at = {symbols[k]: sympy.Float(repr(float(v)), 30) for k, v in point.items()}

    def number(expr: Any) -> float:
        return float(expr.evalf(30, subs=at))

    grad = {k: number(sympy.diff(f, s)) for k, s in symbols.items()}
    hessian = {
        k: {j: number(sympy.diff(f, s, t)) for j, t in symbols.items()}
        for k, s in symbols.items()
    }
    return number(f), grad, hessian


def close(got: Any, want: float) -> bool:
    """Agreement to ~12 digits (floats against sympy's 30-digit arithmetic)."""
    return isinstance(got, float) and math.isclose(
        got, want, rel_tol=1e-11, abs_tol=1e-12
    )


class TestResults:
    """Value, gradient and Hessian agree with sympy's symbolic derivatives."""

    @pytest.mark.parametrize(("expression", "reference", "point"), CASES)
    def test_against_sympy(
        self,
        capsys: pytest.CaptureFixture[str],
        expression: str,
        reference: str,
        point: dict[str, float],
    ) -> None:
        """--json --hessian gives sympy's value, gradient and Hessian."""
        bindings = [f"{k}={v}" for k, v in point.items()]
        doc = run_json(capsys, expression, *bindings, "--hessian")
        value, grad, hessian = sympy_reference(reference, point)
        assert close(doc["value"], value)
        assert list(doc["grad"]) == list(point)
        assert all(close(doc["grad"][k], grad[k]) for k in point), (doc, grad)
        for k in point:
            assert all(close(doc["hessian"][k][j], hessian[k][j]) for j in point)

    def test_table_matches_value_api(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The table prints exactly what the Value API computes, with repr."""
        x, y = Value(2.0, "x"), Value(3.0, "y")
        f = x * y + sin(x)
        f.backward()
        status, out, err = run(capsys, "x*y + sin(x)", "x=2", "y=3")
        assert (status, err) == (0, "")
        assert out.splitlines() == [
            "f = x*y + sin(x)",
            "at x = 2.0, y = 3.0",
            "",
            f"f = {f.data!r}",
            "",
            "name  value  df/dname",
            f"x     2.0    {x.grad!r}",
            f"y     3.0    {y.grad!r}",
        ]

    def test_hessian_table(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--hessian adds a matrix: d2(x*y)/dxdy = 1, the rest 0 (by hand)."""
        status, out, _ = run(capsys, "x*y", "x=2", "y=3", "--hessian")
        assert status == 0
        assert out.splitlines()[-3:] == [
            "d2f/(drow dcol)  x    y",
            "x                0.0  1.0",
            "y                1.0  0.0",
        ]

    def test_options_anywhere(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Options may sit between the variables; -- lets EXPR start with '-'."""
        doc = run_json(capsys, "x*y", "x=2", "--hessian", "y=3")
        assert doc["grad"] == {"x": 3.0, "y": 2.0}
        doc = run_json(capsys, "--", "-x**2", "x=3")  # -(x**2): value -9, slope -6
        assert (doc["value"], doc["grad"]) == (-9.0, {"x": -6.0})

    def test_never_eval(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """EXPR never reaches eval or exec, and compile() only ever makes an AST."""
        real_compile = builtins.compile

        def forbidden(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("eval/exec called")

        def ast_only(*args: Any, **kwargs: Any) -> Any:
            flags = kwargs.get("flags", args[3] if len(args) > 3 else 0)
            if not flags & 0x400:  # ast.PyCF_ONLY_AST
                raise AssertionError("compile() to code called")
            return real_compile(*args, **kwargs)

        monkeypatch.setattr(builtins, "eval", forbidden)
        monkeypatch.setattr(builtins, "exec", forbidden)
        monkeypatch.setattr(builtins, "compile", ast_only)
        assert run_json(capsys, "x*y + sin(x)", "x=2", "y=3")["value"] == 6 + math.sin(
            2
        )


class TestOutput:
    """The JSON document, nan and inf, --help."""

    def test_json_keys(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Without --hessian there is no "hessian" key; with it, a full matrix."""
        assert set(run_json(capsys, "x", "x=1")) == {"value", "grad"}
        doc = run_json(capsys, "x", "x=1", "y=2", "--hessian")
        assert doc["hessian"] == {"x": {"x": 0.0, "y": 0.0}, "y": {"x": 0.0, "y": 0.0}}

    def test_non_finite_as_strings(self, capsys: pytest.CaptureFixture[str]) -> None:
        """inf and nan are the strings "inf", "-inf", "nan" (strict JSON)."""
        # x*1e308*10 overflows to inf in float multiplication; inf - inf is nan.
        doc = run_json(capsys, "x*1e308*10", "x=1")
        assert doc == {"value": "inf", "grad": {"x": "inf"}}  # d/dx = 1e308*10
        doc = run_json(capsys, "--", "-x*1e308*10", "x=1")
        assert doc["value"] == "-inf"
        doc = run_json(capsys, "x*1e308*10 - x*1e308*10", "x=1")
        assert doc["value"] == "nan"

    def test_help(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--help exits 0 with examples, the grammar, the limits and exit statuses."""
        status, out, _ = run(capsys, "--help")
        assert status == 0
        for part in ["examples:", "grammar:", "limits:", "exit status:", "--hessian"]:
            assert part in out

    def test_no_variables(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A constant expression prints its value and no gradient table."""
        status, out, _ = run(capsys, "2**10")
        assert (status, out) == (0, "f = 2**10\n\nf = 1024.0\n")


# -------------------------------------------------------------------------------------
# Rejections: exit status 2, one line, a caret at the offending column
# -------------------------------------------------------------------------------------

# (expression, 1-based column of the caret, a fragment of the message). Variables x, y.
REJECTED: list[tuple[str, int, str]] = [
    ("x.real", 1, "attribute access"),
    ("x + sin.__globals__", 5, "attribute access"),
    ("x[0]", 1, "subscripts"),
    ("lambda: x", 1, "lambda"),
    ("[x for x in y]", 1, "comprehensions"),
    ("(x for x in y)", 1, "generator expressions"),
    ("{x: x for x in y}", 1, "comprehensions"),
    ("'x'", 1, "strings"),
    ("x + b'x'", 5, "bytes"),
    ("1j * x", 1, "complex numbers"),
    ("True + x", 1, "True and False"),
    ("x * None", 5, "None"),
    ("...", 1, "ellipsis"),
    ("x + z", 5, "unknown name 'z'"),
    ("__import__('os')", 1, "not a function"),
    ("exp + 1", 1, "exp is a function"),
    ("sin(x, y)", 1, "takes 1 argument, got 2"),
    ("atan2(x)", 1, "takes 2 arguments, got 1"),
    ("sin()", 1, "takes 1 argument, got 0"),
    ("sin(x=1)", 5, "keyword arguments"),
    ("hypot(x, **y)", 10, "keyword arguments"),
    ("sin(*y)", 5, "starred arguments"),
    ("x(2)", 1, "x() is not a function"),
    ("sin(x)(2)", 1, "only functions can be called"),
    ("x.__class__(1)", 1, "attribute access"),
    ("x @ y", 3, "operator @"),
    ("x ^ y", 3, "operator ^"),
    ("~x", 1, "operator ~"),
    ("not x", 1, "operator not"),
    ("x < y", 3, "comparisons"),
    ("x and y", 3, "'and' and 'or'"),
    ("x if y else 1", 1, "conditional expressions"),
    ("(y := 1)", 2, "assignment expressions"),
    ("(x, y)", 1, "tuples"),
    ("{x}", 1, "sets"),
    ("{x: y}", 1, "dicts"),
    ("f'{x}'", 1, "f-strings"),
    ("x +", 4, "syntax error"),
    ("(x", 1, "was never closed"),
    ("x = 1", 3, "syntax error"),
    ("1e999 * x", 1, "out of range"),
    ("x\ny", 2, "printable ASCII"),
    ("x + \u00e9", 5, "printable ASCII"),
    ("", 1, "empty"),
]


class TestRejections:
    """Everything outside the grammar: exit 2, one line, a caret, no traceback."""

    @pytest.mark.parametrize(("expression", "column", "message"), REJECTED)
    def test_rejected(
        self,
        capsys: pytest.CaptureFixture[str],
        expression: str,
        column: int,
        message: str,
    ) -> None:
        """The error names the construct and points at it."""
        status, out, err = run(capsys, expression, "x=1", "y=2")
        assert_clean_error(err, status, 2)
        assert message in err.splitlines()[0]
        # The echo shows anything but printable ASCII as "?", keeping the caret aligned.
        shown = "".join(c if " " <= c <= "~" else "?" for c in expression)
        assert_caret(err, shown, column)
        assert out == ""

    def test_long_expression_window(self, capsys: pytest.CaptureFixture[str]) -> None:
        """In a long EXPR the caret block shows a window around the column."""
        expression = "x+" * 1000 + "x.y" + "+x" * 1000
        status, _, err = run(capsys, expression, "x=1")
        lines = assert_clean_error(err, status, 2)
        assert lines[0].startswith(f"{PROG} column 2001:")
        caret = lines[2].index("^")
        assert lines[1][caret : caret + 3] == "x.y"
        assert len(lines[1]) < 100

    @pytest.mark.parametrize(
        ("bindings", "message"),
        [
            (["x=1", "x=2"], "given twice"),
            (["x"], "expected NAME=VALUE"),
            (["1x=2"], "not a valid variable name"),
            (["x-y=2"], "not a valid variable name"),
            (["class=1"], "not a valid variable name"),
            (["\u00e9=1"], "not a valid variable name"),
            (["x=abc"], "must be a finite number"),
            (["x="], "must be a finite number"),
            (["x=nan"], "must be a finite number"),
            (["x=-inf"], "must be a finite number"),
            (["x=1e999"], "must be a finite number"),
            (["sin=1"], "sin is a function"),
            (["pi=3"], "pi is a constant"),
            ([], "unknown name 'x'"),
        ],
    )
    def test_bad_variables(
        self, capsys: pytest.CaptureFixture[str], bindings: list[str], message: str
    ) -> None:
        """A variable given twice, missing, misnamed or not a number: exit 2."""
        status, _, err = run(capsys, "x + 1", *bindings)
        assert_clean_error(err, status, 2)
        assert message in err.splitlines()[0]

    def test_usage_errors(self, capsys: pytest.CaptureFixture[str]) -> None:
        """No EXPR, or an unknown option: argparse's usage message, exit 2."""
        for argv in [[], ["--json"], ["x", "--bogus"]]:
            status, _, err = run(capsys, *argv)
            assert status == 2 and "usage:" in err and "Traceback" not in err


class TestEvaluationErrors:
    """Domain errors and overflow: exit 1, one line, a caret at the operation."""

    @pytest.mark.parametrize(
        ("expression", "x", "column", "message"),
        [
            ("log(x)", "0", 1, "log(0.0): math domain error"),
            ("1 + 1/x", "0", 6, "ZeroDivisionError"),
            ("sqrt(x - 2)", "1", 1, "sqrt(-1.0)"),
            ("exp(x)", "1000", 1, "OverflowError"),
            ("(-8)**(x/3)", "1", 5, "ValueError"),
            ("9**9**9**9", "1", 5, "result too large"),
        ],
    )
    def test_domain(
        self,
        capsys: pytest.CaptureFixture[str],
        expression: str,
        x: str,
        column: int,
        message: str,
    ) -> None:
        """The failing operation is named and pointed at."""
        status, out, err = run(capsys, expression, f"x={x}")
        assert_clean_error(err, status, 1)
        assert message in err.splitlines()[0]
        assert_caret(err, expression, column)
        assert out == ""

    def test_while_differentiating(self, capsys: pytest.CaptureFixture[str]) -> None:
        """x**-1 at 1e-200 is 1e200, but its slope -x**-2 = -1e400 overflows."""
        status, _, err = run(capsys, "x**-1", "x=1e-200")
        lines = assert_clean_error(err, status, 1)
        assert "while differentiating" in lines[0]


# -------------------------------------------------------------------------------------
# Hostile input: bounded, never a hang, a traceback or a crash
# -------------------------------------------------------------------------------------


class TestHostile:
    """Huge powers, deep nesting, long sums and long input end quickly and cleanly."""

    def test_sum_of_50000_terms(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A sum of 50,000 terms: value and slope 50,000 (each term adds x)."""
        limit = sys.getrecursionlimit()
        doc = run_json(capsys, "+".join(["x"] * 50_000), "x=1")
        assert doc == {"value": 50_000.0, "grad": {"x": 50_000.0}}
        assert sys.getrecursionlimit() == limit

    def test_long_product_with_hessian(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """x*x*...*x (n = 20,000) at 1: f' = n, f'' = n(n-1), by the power rule."""
        n = 20_000
        doc = run_json(capsys, "*".join(["x"] * n), "x=1", "--hessian")
        assert doc["grad"] == {"x": n} and doc["hessian"] == {"x": {"x": n * (n - 1)}}

    @pytest.mark.parametrize(
        ("expression", "message"),
        [
            ("1" * 5_000, "out of range for a float"),
            ("x" * (MAX_LENGTH + 1), "the limit is"),
            ("x+" * (MAX_LENGTH // 2) + "x", "the limit is"),
        ],
    )
    def test_rejected_quickly(
        self, capsys: pytest.CaptureFixture[str], expression: str, message: str
    ) -> None:
        """Input past a limit is an exit-2 error, not a hang or a crash."""
        status, _, err = run(capsys, "--", expression, "x=1")
        lines = assert_clean_error(err, status, 2)
        assert message in lines[0]

    def test_huge_power_overflows(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Powers are floats: 10**10**10 overflows at once (no 10-billion-digit int)."""
        status, _, err = run(capsys, "10**10**10 + x", "x=1")
        assert_clean_error(err, status, 1)

    def test_too_many_variables(self, capsys: pytest.CaptureFixture[str]) -> None:
        """More than MAX_VARIABLES NAME=VALUE arguments: exit 2."""
        bindings = [f"v{i}=1" for i in range(MAX_VARIABLES + 1)]
        status, _, err = run(capsys, "v0", *bindings)
        assert_clean_error(err, status, 2)

    def test_hessian_work_bounded(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--hessian over many variables of a big graph: exit 2, before the work."""
        n = 40
        terms = "+".join(
            f"v{i % n}*v{(i + 1) % n}" for i in range(MAX_HESSIAN_WORK // 200)
        )
        bindings = [f"v{i}=1" for i in range(n)]
        status, _, err = run(capsys, terms, *bindings, "--hessian")
        lines = assert_clean_error(err, status, 2)
        assert "--hessian" in lines[0]


class TestDeepNesting:
    """Depth is bounded by MAX_LENGTH alone: the parser never recurses."""

    def test_100000_signs(self, capsys: pytest.CaptureFixture[str]) -> None:
        """100,000 unary minus signs: an even count, so f = x and f' = 1."""
        doc = run_json(capsys, "--", "-" * 100_000 + "x", "x=2")
        assert doc == {"value": 2.0, "grad": {"x": 1.0}}
        doc = run_json(capsys, "--", "-" * 99_999 + "x", "x=2")
        assert doc == {"value": -2.0, "grad": {"x": -1.0}}

    def test_99999_parentheses(self, capsys: pytest.CaptureFixture[str]) -> None:
        """As many nested parentheses as MAX_LENGTH holds: ((...(x)...)) is x."""
        depth = (MAX_LENGTH - 1) // 2
        doc = run_json(capsys, "(" * depth + "x" + ")" * depth, "x=3")
        assert doc == {"value": 3.0, "grad": {"x": 1.0}}

    def test_power_tower(self, capsys: pytest.CaptureFixture[str]) -> None:
        """x**x**...**x (50,000 high, right-assoc) at 1: value 1; d/dx x**g = g(1)
        at x = 1 (the g'*log(x) term vanishes), and g(1) = 1."""
        doc = run_json(capsys, "**".join(["x"] * 50_000), "x=1")
        assert doc == {"value": 1.0, "grad": {"x": 1.0}}

    def test_nested_calls(self, capsys: pytest.CaptureFixture[str]) -> None:
        """sin(sin(...sin(x))) 30,000 deep: value and chain rule by a plain loop."""
        n, x = 30_000, 0.5
        value, slope = x, 1.0
        for _ in range(n):
            value, slope = math.sin(value), slope * math.cos(value)
        doc = run_json(capsys, "sin(" * n + "x" + ")" * n, f"x={x}")
        assert math.isclose(doc["value"], value, rel_tol=1e-12)
        assert math.isclose(doc["grad"]["x"], slope, rel_tol=1e-9)

    def test_precedence_unparenthesized(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Unparenthesized + - * / % // ** and signs group exactly as Python's floats
        do."""
        hypothesis = pytest.importorskip("hypothesis")
        st = hypothesis.strategies
        numbers = st.sampled_from(["0.5", "1.5", "2.0", "3.0", "x"])
        signs = st.sampled_from(["", "-", "+", "--"])
        operators = st.sampled_from([" + ", " - ", " * ", " / ", " % ", " // ", " ** "])
        terms = st.tuples(signs, numbers).map("".join)
        chains = st.lists(st.tuples(operators, terms), max_size=6)

        @hypothesis.given(terms, chains)
        def agree(first: str, rest: list[tuple[str, str]]) -> None:
            expression = first + "".join(op + term for op, term in rest)
            try:
                expected = eval(expression, {"x": 1.25})  # the test's own oracle
            except ArithmeticError:
                expected = None
            status, out, err = run(capsys, "--json", "--", expression, "x=1.25")
            if expected is None or isinstance(expected, complex):
                assert status == 1, (expression, out)
            else:
                assert status == 0, err
                value = json.loads(out)["value"]
                assert value == encode(expected) or math.isclose(
                    value, expected, rel_tol=1e-12
                ), expression

        agree()

    def test_trailing_comma(self, capsys: pytest.CaptureFixture[str]) -> None:
        """As in Python, sin(x,) is sin(x) and hypot(x, y,) is hypot(x, y)."""
        assert run_json(capsys, "sin(x,)", "x=1")["value"] == math.sin(1)
        assert run_json(capsys, "hypot(x, y,)", "x=3", "y=4")["value"] == 5.0


class TestProcessState:
    """Parsing changes nothing process-wide and never hands EXPR to Python's parser."""

    DEEP = (
        ("-" * 100_000 + "x", "x=1"),
        ("(" * 99_999 + "x" + ")" * 99_999, "x=1"),
        ("+".join(["x"] * 50_000), "x=1"),
        ("**".join(["x"] * 50_000), "x=1"),
        ("(" * 1_000 + "x.y", "x=1"),  # rejected
    )

    def test_no_recursion_limit_or_stack_size(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """sys.setrecursionlimit, threading.stack_size and Thread.start are never
        called during main() or parse(), on the deepest inputs."""
        calls: list[str] = []

        def recorder(name: str, real: Any) -> Any:
            def record(*args: Any, **kwargs: Any) -> Any:
                calls.append(name)
                return real(*args, **kwargs)

            return record

        limit = sys.getrecursionlimit()
        for owner, name in [
            (sys, "setrecursionlimit"),
            (threading, "stack_size"),
            (threading.Thread, "start"),
        ]:
            monkeypatch.setattr(owner, name, recorder(name, getattr(owner, name)))
        results = []
        for expression, binding in self.DEEP:
            results.append(run(capsys, "--json", "--", expression, binding)[0])
            if results[-1] == 0:
                parse(expression, ["x"])
        monkeypatch.undo()
        assert calls == [] and sys.getrecursionlimit() == limit
        assert results == [0, 0, 0, 0, 2]

    def test_limit_sampled_from_another_thread(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A thread sampling sys.getrecursionlimit() while main() parses deep input
        sees one value throughout."""
        seen: set[int] = set()
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                seen.add(sys.getrecursionlimit())

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            for expression, binding in self.DEEP:
                run(capsys, "--json", "--", expression, binding)
        finally:
            done.set()
            sampler.join()
        assert seen == {sys.getrecursionlimit()}

    def test_no_ast(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """EXPR never reaches ast.parse (whose C parser recurses on nesting)."""
        calls: list[str] = []
        real = ast.parse

        def record(source: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(str(source))
            return real(source, *args, **kwargs)

        monkeypatch.setattr(ast, "parse", record)
        grad = run_json(capsys, "x*y + sin(x)", "x=2", "y=3")["grad"]
        monkeypatch.undo()
        assert not any("sin(x)" in source for source in calls)
        assert grad["y"] == 2.0


class TestNumbers:
    """Number literals in EXPR and variable values: one reader, clear refusals."""

    def test_huge_decimal_literal(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A 5,000-digit literal is named (not Python's int-digit limit), with the
        caret at its first digit inside EXPR."""
        literal = "1" * 5_000
        status, _, err = run(capsys, "--", f"x + {literal}", "x=1")
        lines = assert_clean_error(err, status, 2)
        assert "column 5:" in lines[0] and "out of range for a float" in lines[0]
        assert "5,000 characters" in lines[0] and "111111" in lines[0]
        assert "conversion" not in err and "sys.set_int_max_str_digits" not in err
        caret = lines[2].index("^")
        assert lines[1][caret] == "1" and caret < len(lines[1])

    def test_long_literal_in_range(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A long literal that a float holds is read as float() reads it."""
        literal = "0." + "0" * 4_999 + "1" + "5" * 300 + "e5000"
        doc = run_json(capsys, f"x * {literal}", "x=1")
        assert doc["value"] == float(literal)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("0x10", int("10", 16)),
            ("-0x10", -int("10", 16)),
            ("0o17", int("17", 8)),
            ("0b101", int("101", 2)),
            ("1_000", 1000),
            ("+.5e1", 5),
            ("007", 7),  # as float() reads it
            ("5e-324", float("5e-324")),
        ],
    )
    def test_value_literals(
        self, capsys: pytest.CaptureFixture[str], text: str, expected: float
    ) -> None:
        """A variable's value is written as an EXPR literal (hex too), with a sign."""
        assert run_json(capsys, "x", f"x={text}")["value"] == float(expected)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("1e-400", "'1e-400': the value underflows to 0.0"),
            ("-1e-400", "underflows to 0.0"),
            ("1e400", "out of range for a float"),
            ("0x" + "f" * 300, "out of range for a float"),
            ("1" * 5_000, "out of range for a float"),
            ("1j", "must be a finite number"),
            ("0x", "must be a finite number"),
            ("infinity", "must be a finite number"),
        ],
    )
    def test_value_refused(
        self, capsys: pytest.CaptureFixture[str], text: str, message: str
    ) -> None:
        """A value a float cannot hold, or that rounds to 0.0, is refused: exit 2."""
        status, _, err = run(capsys, "x + 1", f"x={text}")
        lines = assert_clean_error(err, status, 2)
        assert message in lines[0] and len(lines[0]) < 200

    def test_zero_is_not_underflow(self, capsys: pytest.CaptureFixture[str]) -> None:
        """0, 0.0, 0e-400 and 0x0 are zero, written as such."""
        for text in ("0", "0.0", "0e-400", "0x0", "-0"):
            assert run_json(capsys, "x", f"x={text}")["value"] == 0.0

    def test_literal_underflow_in_expr(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """In EXPR too, a literal a float rounds to 0.0 is refused at its column."""
        status, _, err = run(capsys, "x + 1e-400", "x=1")
        assert_clean_error(err, status, 2)
        assert_caret(err, "x + 1e-400", 5)
        assert "underflows" in err

    def test_non_finite_hessian_printed(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """x*x*-1e308: f'' = -2e308, past the largest float, so -inf (IEEE 754)."""
        status, out, _ = run(capsys, "x*x*-1e308", "x=1", "--hessian")
        assert status == 0 and out.splitlines()[-1].split() == ["x", "-inf"]
        doc = run_json(capsys, "x*x*-1e308", "x=1", "--hessian")
        assert doc["hessian"] == {"x": {"x": "-inf"}} and doc["grad"] == {"x": "-inf"}


class TestHessianSource:
    """--hessian is autograd_scalar.hessian: one Hessian in the library."""

    def test_uses_functional_hessian(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The command line calls functional.hessian on the expression."""
        functional = importlib.import_module("autograd_scalar.functional")
        calls: list[int] = []
        real = functional.hessian

        def counting(f: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            return real(f, *args, **kwargs)

        monkeypatch.setattr(functional, "hessian", counting)
        doc = run_json(capsys, "x**3 * y", "x=2", "y=5", "--hessian")
        assert calls == [1]
        # By hand: f_xx = 6xy = 60, f_xy = 3x**2 = 12, f_yy = 0.
        assert doc["hessian"] == {
            "x": {"x": 60.0, "y": 12.0},
            "y": {"x": 12.0, "y": 0.0},
        }

    @pytest.mark.parametrize(
        ("expression", "function"),
        [("sqrt(x)", autograd_scalar.sqrt), ("x**0.5", lambda x: x**0.5)],
    )
    def test_edge_of_sqrt(
        self, capsys: pytest.CaptureFixture[str], expression: str, function: Any
    ) -> None:
        """At x = 0 the command line prints what autograd_scalar.hessian gives."""
        doc = run_json(capsys, expression, "x=0", "--hessian")
        expected = autograd_scalar.hessian(function)(0.0)[0][0]
        assert doc["hessian"]["x"]["x"] == encode(expected)


class TestGrammarFromTable:
    """The grammar's functions and operators come from the rule table."""

    def test_every_exported_primitive_is_callable(self) -> None:
        """Each built-in primitive exported at the top level is a CLI function."""
        prims = autograd_scalar.registered()
        exported = [n for n in prims if n in autograd_scalar.__all__]
        assert exported and set(exported) <= set(FUNCTIONS)
        for name in exported:
            arguments = ", ".join(["x"] * prims[name].arity)
            program = parse(f"{name}({arguments})", ["x"])
            assert program.instructions[-1][1] is prims[name]

    def test_operators_are_primitives(self) -> None:
        """+ - * / % // ** and unary - apply the table's add sub mul truediv mod
        floordiv pow neg, in the order Python's own parser groups them (post-order
        of its tree)."""
        prims = autograd_scalar.registered()
        expression = "-x + x - x * x % x / x // x ** -x ** x"
        program = parse(expression, ["x"])
        applied = [arg for what, arg, _ in program.instructions if what == 1]
        assert [p.name for p in applied] == python_postorder(expression)
        assert all(p is prims[p.name] for p in applied)


def python_postorder(expression: str) -> list[str]:
    """The operations of ``expression`` as Python's ast orders them, operands first."""
    names: dict[type[ast.AST], str] = {ast.Add: "add", ast.Sub: "sub"}
    names |= {ast.Mult: "mul", ast.Div: "truediv"}
    names |= {ast.Pow: "pow", ast.USub: "neg"}
    names |= {ast.Mod: "mod", ast.FloorDiv: "floordiv"}
    order: list[str] = []
    stack: list[tuple[ast.AST, bool]] = [
        (ast.parse(expression, mode="eval").body, False)
    ]
    while stack:
        node, done = stack.pop()
        if done:
            # Only BinOp and UnaryOp nodes are pushed with done=True: both have .op.
            order.append(names[type(node.op)])  # type: ignore[attr-defined]
        elif isinstance(node, ast.BinOp):
            stack += [(node, True), (node.right, False), (node.left, False)]
        elif isinstance(node, ast.UnaryOp):
            stack += [(node, True), (node.operand, False)]
    return order


ALLOWED = {"x", "y", "pi", "sin", "atan2"}


def python_program(expression: str) -> list[Any] | None:
    """``expression`` as Python's own parser reads it, in the CLI's postfix form
    (operands, then the primitive's name); None if Python rejects it or it uses
    anything outside the grammar (other names, tuples, starred or keyword
    arguments, other operators, wrong argument counts, literals beyond a float)."""
    names: dict[type[ast.AST], str] = {ast.Add: "add", ast.Sub: "sub"}
    names |= {ast.Mult: "mul", ast.Div: "truediv", ast.Pow: "pow", ast.USub: "neg"}
    names |= {ast.Mod: "mod", ast.FloorDiv: "floordiv"}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return None
    arity = {"sin": 1, "atan2": 2}
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree.body):
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                return None
            if node.func.id not in arity or len(node.args) != arity[node.func.id]:
                return None
        elif isinstance(node, ast.Name):
            if node.id not in ALLOWED or (node.id in arity) != (id(node) in called):
                return None
        elif isinstance(node, ast.BinOp | ast.UnaryOp):
            if type(node.op) not in names and not isinstance(node.op, ast.UAdd):
                return None
        elif isinstance(node, ast.Constant):
            if not math.isfinite(float(node.value)):
                return None
        elif not isinstance(node, ast.expr_context | ast.operator | ast.unaryop):
            return None
    out: list[Any] = []
    stack: list[tuple[ast.AST, bool]] = [(tree.body, False)]
    while stack:
        node, done = stack.pop()
        if isinstance(node, ast.Constant):
            out.append(float(node.value))
        elif isinstance(node, ast.Name):
            out.append(math.pi if node.id == "pi" else node.id)
        # The grammar's calls are of plain names (func is an ast.Name), and the
        # other nodes pushed with done=True are BinOp and UnaryOp, which have .op.
        elif done and isinstance(node, ast.Call):
            out.append(node.func.id)  # type: ignore[attr-defined]
        elif done and not isinstance(node.op, ast.UAdd):  # type: ignore[attr-defined]
            out.append(names[type(node.op)])  # type: ignore[attr-defined]
        elif not done:
            stack.append((node, True))
            kids = getattr(node, "args", None) or [
                getattr(node, k)
                for k in ("left", "right", "operand")
                if hasattr(node, k)
            ]
            stack += [(kid, False) for kid in reversed(kids)]
    return out


class TestSameAsPython:
    """On text made of the grammar's tokens, the parser accepts exactly what Python's
    own parser reads as an expression of the grammar, and groups it the same way."""

    def test_against_ast(self) -> None:
        """Random token strings: same accept/reject decision and same postfix."""
        hypothesis = pytest.importorskip("hypothesis")
        st = hypothesis.strategies
        tokens = [
            "x", "y", "2", "0.5", "1e3", "0x1f", " ", "+", "-", "*", "/", "**",
            "(", ")", ",", "sin(", "atan2(", "pi",
        ]  # fmt: skip
        texts = st.lists(st.sampled_from(tokens), min_size=1, max_size=14).map("".join)

        @hypothesis.settings(max_examples=2_000)
        @hypothesis.given(texts)
        def agree(text: str) -> None:
            expected = python_program(text)
            try:
                program = parse(text, ["x", "y"])
            except UsageError:
                assert expected is None, text
                return
            got = [
                arg if what == 0 else arg.name for what, arg, _ in program.instructions
            ]
            assert got == expected, text

        agree()


class TestRandomExpressions:
    """Random expression trees: the command line agrees with the Value API."""

    def test_against_value_api(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Printed fully parenthesized and parsed by the CLI; built with Values."""
        hypothesis = pytest.importorskip("hypothesis")
        st = hypothesis.strategies
        prims = autograd_scalar.registered()
        unary = ["neg", *(n for n in FUNCTIONS if prims[n].arity == 1)]
        binary = [
            "+",
            "-",
            "*",
            "/",
            "**",
            *(n for n in FUNCTIONS if prims[n].arity == 2),
        ]
        small = st.floats(-3, 3, allow_nan=False).map(lambda v: round(v, 3))
        leaves = st.one_of(st.sampled_from(["x", "y"]), small)
        trees = st.recursive(
            leaves,
            lambda kids: st.one_of(
                st.tuples(st.sampled_from(unary), kids),
                st.tuples(st.sampled_from(binary), kids, kids),
            ),
            max_leaves=12,
        )

        @hypothesis.given(trees, small, small)
        @hypothesis.example(("polygamma", 0.0, "x"), 1.0, 0.0)  # an integral order
        def agree(tree: Any, x: float, y: float) -> None:
            leaves = {"x": Value(x), "y": Value(y)}
            try:
                out = build(tree, leaves)
                if isinstance(out, Value):
                    out.backward()
                expected: Any = {
                    "value": encode(float(out)),
                    "grad": {k: encode(float(v.grad)) for k, v in leaves.items()},
                }
            except (ArithmeticError, ValueError):
                expected = None  # the CLI must report a math error
            status, out_text, err = run(
                capsys, "--json", "--", text(tree), f"x={x}", f"y={y}"
            )
            if expected is None:
                assert status == 1 and err.startswith(PROG), err
            else:
                assert status == 0, err
                assert json.loads(out_text) == expected

        agree()


def text(tree: Any) -> str:
    """A tree as fully parenthesized source."""
    if not isinstance(tree, tuple):
        return f"({tree})" if str(tree).startswith("-") else str(tree)  # -2**x
    op, *kids = tree
    args = [text(k) for k in kids]
    if op == "neg":
        return f"(-{args[0]})"
    if op in ("+", "-", "*", "/", "**"):
        return f"({args[0]} {op} {args[1]})"
    return f"{op}({', '.join(args)})"


def build(tree: Any, leaves: dict[str, Value]) -> Any:
    """A tree evaluated with Python's operators and the library's functions.

    A constant is a Value leaf too, so two constants combine by the rule table (not
    Python's float arithmetic, which turns (-8.0) ** (1/3) into a complex number).
    """
    if isinstance(tree, str):
        return leaves[tree]
    if not isinstance(tree, tuple):
        return Value(float(tree))
    op, *kids = tree
    args = [build(k, leaves) for k in kids]
    for k in INTEGER_INPUTS.get(op, ()):
        # As the CLI, which computes on floats: an integral number with no variable
        # in it (polygamma(0.0, x)) is an int there.
        if not _has_variable(kids[k]) and float(args[k]).is_integer():
            args[k] = int(float(args[k]))
    if op == "neg":
        return -args[0]
    binary = {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": lambda a, b: a / b,
        "**": lambda a, b: a**b,
    }
    if op in binary:
        return binary[op](*args)
    if op in ("abs", "round"):  # called as Python's own abs() and round()
        return abs(args[0]) if op == "abs" else round(args[0])
    return getattr(autograd_scalar, op)(*args)


def _has_variable(tree: Any) -> bool:
    if isinstance(tree, str):
        return True
    return isinstance(tree, tuple) and any(_has_variable(k) for k in tree[1:])


def encode(x: float) -> float | str:
    """As --json writes it: non-finite floats as "nan", "inf", "-inf"."""
    return x if math.isfinite(x) else str(x)


class TestFuzz:
    """Arbitrary text never gives a traceback, a crash or a hang."""

    def check(self, capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
        """A clean result (0) or a clean error (1, 2)."""
        status, out, err = run(capsys, *argv)
        assert status in (0, 1, 2), (argv, status)
        assert "Traceback" not in err
        if status == 0:
            json.loads(out, parse_constant=_reject_constant)
        else:
            assert err.startswith((PROG, "usage:")), err

    def test_arbitrary_text(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Any text as EXPR."""
        hypothesis = pytest.importorskip("hypothesis")
        st = hypothesis.strategies

        @hypothesis.given(st.text())
        def fuzz(text: str) -> None:
            self.check(capsys, ["--json", "--", text, "x=1.5", "y=-0.5"])

        fuzz()

    def test_expression_like_text(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Random strings of the grammar's tokens, and some outside it."""
        hypothesis = pytest.importorskip("hypothesis")
        st = hypothesis.strategies
        tokens = [
            *"xy0123456789.+-*/(), e", "**", "pi", "1e308", "sin(", "log(",
            "atan2(", "hypot(", "exp(", "sqrt(", "abs(", "maximum(", "//", "%",
            "[", "]", ".real", "'", "lambda", "=", "<", "j",
        ]  # fmt: skip
        expressions = st.lists(st.sampled_from(tokens), max_size=40).map("".join)

        @hypothesis.given(expressions, st.booleans())
        def fuzz(text: str, hessian: bool) -> None:
            options = ["--json", "--hessian"] if hessian else ["--json"]
            self.check(capsys, [*options, "--", text, "x=1.5", "y=-0.5"])

        fuzz()


# -------------------------------------------------------------------------------------
# End to end: python -m autograd_scalar and the console script
# -------------------------------------------------------------------------------------


def run_process(*command: str, **env_vars: str) -> subprocess.CompletedProcess[str]:
    """Run a command with this checkout's package first on the path."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **env_vars}
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, env=env, check=False
    )


class TestEndToEnd:
    """The real entry points, in a subprocess."""

    def test_python_m(self) -> None:
        """python -m autograd_scalar prints the README's example."""
        done = run_process(
            sys.executable, "-m", "autograd_scalar", "x*y + sin(x)", "x=2", "y=3"
        )
        assert done.returncode == 0, done.stderr
        assert f"x     2.0    {3 + math.cos(2)!r}" in done.stdout  # d/dx = y + cos(x)

    def test_python_m_rejects(self) -> None:
        """A rejected EXPR: exit 2, the caret block only, no traceback."""
        done = run_process(
            sys.executable,
            "-m",
            "autograd_scalar",
            "__import__('os').system('echo hi')",
        )
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.startswith(PROG) and len(done.stderr.splitlines()) == 3

    def test_ascii_terminal(self) -> None:
        """On an ASCII-only terminal non-ASCII input is still a clean error."""
        for argv in (["x + \u00e9", "x=1"], ["x", "\u00e9=1"], ["x", "x=\u00e9"]):
            done = run_process(
                sys.executable, "-m", "autograd_scalar", *argv, PYTHONIOENCODING="ascii"
            )
            assert done.returncode == 2 and "Traceback" not in done.stderr

    def test_console_script(self) -> None:
        """The installed autograd-scalar script runs main."""
        script = Path(sys.executable).parent / "autograd-scalar"
        if not script.exists():
            pytest.skip("the console script is not installed here")
        done = run_process(str(script), "x**2", "x=3", "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == {"value": 9.0, "grad": {"x": 6.0}}


class TestGraphOptions:
    """--dot, --svg and --source write what the library's own functions make."""

    def test_dot(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """--dot writes viz.to_dot of the same graph built with Values."""
        viz = pytest.importorskip("autograd_scalar.viz")
        path = tmp_path / "g.dot"
        status, out, _ = run(capsys, "x*y + sin(x)", "x=2", "y=3", "--dot", str(path))
        assert status == 0 and f"graph written as DOT to {path}" in out
        x, y = Value(2.0, "x"), Value(3.0, "y")
        f = x * y + sin(x)
        f.backward()
        assert path.read_text(encoding="utf-8") == viz.to_dot(f)

    def test_svg(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """--svg writes an SVG picture (any file name), with --json untouched."""
        pytest.importorskip("autograd_scalar.viz")
        path = tmp_path / "picture.out"
        doc = run_json(capsys, "tanh(x) * x", "x=0.5", "--svg", str(path))
        assert set(doc) == {"value", "grad"}
        assert "<svg" in path.read_text(encoding="utf-8")

    def test_source(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--source prints the trace, its parameters named after the variables."""
        tape = pytest.importorskip("autograd_scalar.tape")
        status, out, _ = run(capsys, "x*y + sin(x)", "x=2", "y=3", "--source")
        assert status == 0
        expected = tape.trace(lambda x, y: x * y + sin(x), 2.0, 3.0).source
        assert out.endswith("\n" + expected.rstrip("\n") + "\n")
        assert "def value_and_grad(x, y):" in out
        doc = run_json(capsys, "x*y + sin(x)", "x=2", "y=3", "--source")
        assert doc["source"] == expected

    @pytest.mark.parametrize("option", ["--dot", "--svg", "--source"])
    def test_output_bounded(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path, option: str
    ) -> None:
        """An expression past MAX_GRAPH_OUTPUT is refused before any work: exit 2."""
        pytest.importorskip(
            "autograd_scalar.tape" if option == "--source" else "autograd_scalar.viz"
        )
        argv = [option] if option == "--source" else [option, str(tmp_path / "g")]
        expression = "+".join(["x"] * (MAX_GRAPH_OUTPUT // 2 + 1))
        status, _, err = run(capsys, expression, "x=1", *argv)
        assert option in assert_clean_error(err, status, 2)[0]
        assert list(tmp_path.iterdir()) == []

    def test_unwritable(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A file that cannot be written: exit 1, one line."""
        pytest.importorskip("autograd_scalar.viz")
        path = tmp_path / "missing" / "g.dot"
        status, _, err = run(capsys, "x", "x=1", "--dot", str(path))
        assert "cannot write the graph" in assert_clean_error(err, status, 1)[0]

    def test_constant(self, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
        """An expression with no variable has no graph to draw: exit 2."""
        pytest.importorskip("autograd_scalar.viz")
        status, _, err = run(capsys, "2 + 3", "--dot", str(tmp_path / "g.dot"))
        assert "no graph" in assert_clean_error(err, status, 2)[0]


class TestReadme:
    """The command-line examples of the README and the documentation site print what
    they say they print."""

    def test_console_blocks(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Each ```console block: the command's output, stdout then stderr."""
        pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
        text = "".join(page.read_text(encoding="utf-8") for page in pages)
        blocks = [b.split("```")[0] for b in text.split("```console\n")[1:]]
        assert len(blocks) >= 3  # the tour, --hessian, a rejected expression
        for block in blocks:
            command, *expected = block.rstrip("\n").split("\n")
            argv = shlex.split(command.removeprefix("$ "))
            assert argv[0] == "autograd-scalar"
            _, out, err = run(capsys, *argv[1:])
            assert (out + err).rstrip("\n").split("\n") == expected
