"""Every built-in primitive reaches every place it must, from its one table entry.

Adding a primitive to the rule table (``autograd_scalar/_rules.py``) is one entry;
these tests then name each consumer-owned table that still lacks it. One method per
place, each parametrized over the registered built-ins.
"""

from __future__ import annotations

import builtins
import importlib
import operator
import subprocess
import sys
from typing import Any

import pytest

import autograd_scalar as ag
from autograd_scalar import Value, _rules

BUILTINS = sorted(_rules._BUILTIN)
OPERATOR_OF = {op.primitive.name: op for op in _rules._OPERATORS}


@pytest.mark.parametrize("name", BUILTINS)
class TestEveryBuiltin:
    """Where one built-in primitive must show up."""

    def test_exported_or_an_operator(self, name: str) -> None:
        """A top-level function (in __all__), or else one of Python's operators, or
        else internal (an underscored name, used by the rules only); the math
        module's rounding functions are both (ag.floor and math.floor(x))."""
        prim = ag.registered()[name]
        if name.startswith("_") or (
            name in OPERATOR_OF and not OPERATOR_OF[name].symbol.startswith("math.")
        ):
            assert name not in ag.__all__
            assert not name.startswith("_") or getattr(_rules, name) is prim
            return
        assert name in ag.__all__
        # A function that supplies default inputs (elu's alpha) applies the primitive.
        public = _rules._WRAPPERS.get(name, prim)
        assert getattr(ag, name) is public
        # The table's variable has the function's name: what type checkers see.
        assert getattr(_rules, name) is public

    def test_unary_is_a_method(self, name: str) -> None:
        """A unary function is also a Value method (x.exp()); no other one is."""
        prim = ag.registered()[name]
        if prim.arity != 1 or name not in ag.__all__:
            assert not hasattr(Value, name)
            return
        v = 1.5 if name == "acosh" else 0.5  # inside the domain
        x = Value(v)
        assert getattr(x, name)().op == name
        assert getattr(x, name)().data == prim(v)

    def test_torch_oracle_entry(self, name: str) -> None:
        """tests/test_torch_oracle.py compares it with torch, or says why it cannot."""
        pytest.importorskip("torch")
        oracle = importlib.import_module("test_torch_oracle")
        assert name in oracle.TORCH or oracle.NO_TORCH_EQUIVALENT.get(name)

    def test_cli_grammar(self, name: str) -> None:
        """The command line's grammar can call it: as a function, or its operator."""
        from autograd_scalar.cli import _parser

        by_operator = {prim for prim, _, _ in _parser.BINARY.values()}
        by_operator |= {prim for prim, _ in _parser.UNARY.values() if prim}
        callable_names = set(_parser.FUNCTIONS) | set(_parser.CALL_FORMS.values())
        if name.startswith("_"):  # internal (the rules' own helper): not for callers
            assert name not in callable_names
        elif name == "abs":
            assert "abs" in callable_names
        else:
            assert name in callable_names or name in by_operator

    def test_tape_node_class(self, name: str) -> None:
        """The seed's Tape has a node class for it, computing the primitive."""
        from autograd_scalar import tape

        cls = tape.node_class(name)
        assert issubclass(cls, tape.PrimitiveNode)
        assert getattr(tape, cls.__name__) is cls

    def test_sympy_form(self, name: str) -> None:
        """viz.to_sympy has a form for it, or a stated reason why not."""
        from autograd_scalar.viz import _sympy

        assert name in _sympy._FORMS or _sympy._NO_FORM.get(name)

    def test_numpy_form(self, name: str) -> None:
        """Vectorised replay has a numpy form for it, or runs it per element."""
        from autograd_scalar.tracing import vectorized

        assert (name in vectorized.NUMPY_FORMS) != (name in vectorized.PER_ELEMENT)


class TestOperatorTable:
    """The operator table is Python's own operators."""

    def test_symbols_are_pythons(self) -> None:
        """Each symbol, evaluated by Python on numbers, is the operator's apply."""
        for op in _rules._OPERATORS:
            if _rules._is_call(op):  # abs, round, math.floor: Python's own function
                module, _, attr = op.symbol.rpartition(".")
                where = importlib.import_module(module) if module else builtins
                assert op.apply is getattr(where, attr)
            elif op.primitive.arity == 2:
                spelled = eval(f"lambda x, y: x {op.symbol} y")
                assert spelled(7.0, 2.0) == op.apply(7.0, 2.0)
            else:
                spelled = eval(f"lambda x: {op.symbol}x")
                assert spelled(7.0) == op.apply(7.0)

    @pytest.mark.parametrize("op", _rules._OPERATORS, ids=lambda op: op.dunder)
    def test_operators_apply_it(self, op: Any) -> None:
        """Each operator applies its primitive on Values, plain and reflected."""
        x = Value(2.0)
        if op.primitive.arity == 1:
            results: list[Any] = [op.apply(x)]
        elif _rules._is_call(op):  # round(x, 3): the second operand an int
            results = [op.apply(x, 3)]
        else:
            results = [op.apply(x, 3.0), op.apply(3.0, x), op.apply(x, x)]
        assert all(r.op == op.primitive.name for r in results)

    def test_unary_plus_is_identity(self) -> None:
        """+x is x itself: no primitive, no node."""
        x = Value(1.0)
        assert operator.pos(x) is x


class TestImportCost:
    """``import autograd_scalar`` loads the core only: the rest loads on first use."""

    def test_modules_loaded_by_import(self) -> None:
        """No leaf module, optional dependency or slow stdlib module is imported."""
        code = "import sys, autograd_scalar; print(' '.join(sorted(sys.modules)))"
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        loaded = set(run.stdout.split())
        lazy = {
            "autograd_scalar._pullbacks",
            "autograd_scalar.tape",
            "autograd_scalar.tracing",
            "autograd_scalar.viz",
            "autograd_scalar.cli",
            "autograd_scalar.nn",
            "autograd_scalar.testing",
            *("numpy", "sympy", "graphviz", "hypothesis", "dask"),
            *("fractions", "decimal", "linecache", "threading", "inspect", "ast"),
        }
        assert not loaded & lazy

    def test_no_code_generated_at_import(self) -> None:
        """A fresh interpreter has generated no pullback until the first backward."""
        code = (
            "import autograd_scalar as ag\n"
            "from autograd_scalar import _engine\n"
            "prims = ag.registered().values()\n"
            "print(sum(p._pullback is _engine._first_pullback for p in prims))\n"
            "(ag.Value(1.0) * 2).backward()\n"
            "print(sum(p._pullback is _engine._first_pullback for p in prims))\n"
        )
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        before, after = map(int, run.stdout.split())
        assert before == len(_rules._BUILTIN) and after == before - 1

    def test_trace_loads_on_first_use(self) -> None:
        """autograd_scalar.trace is the tracing function, loaded when first read."""
        code = (
            "import sys, autograd_scalar as ag\n"
            "print('autograd_scalar.tape' in sys.modules)\n"
            "print(callable(ag.trace), ag.trace.__name__)\n"
        )
        run = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert run.stdout.split() == ["False", "True", "trace"]
