"""The expression language of the command line: tokens, grammar, postfix program.

``parse(EXPR, variables)`` checks an arithmetic expression against a small grammar and
compiles it to a flat postfix ``Program``; nothing is ever handed to ``eval``,
``exec``, ``compile`` or ``ast``. The grammar, with Python's precedence::

    expr     := expr ("+" | "-") term | term
    term     := term ("*" | "/") factor | factor
    factor   := ("-" | "+") factor | power
    power    := primary ["**" factor]               (right-assoc: 2**3**2 is 2**9)
    primary  := number | name | "(" expr ")" | function "(" expr ("," expr)* [","] ")"

The functions are the library's built-in primitives, read from ``registered()``; a
name is a variable or the constant ``pi`` or ``e``; numbers are Python's int and
float literals (``1``, ``2.5``, ``1e-3``, ``0x1f``, ``1_000``), read as floats.

The parser is shunting-yard over the tokens with explicit stacks: it never recurses,
so the nesting depth is bounded only by ``MAX_LENGTH`` (99,999 nested parentheses,
100,000 signs in a row), and it changes no process-wide state (no recursion limit,
no thread stack size). Anything outside the grammar is rejected with a
``UsageError`` naming the construct and the column where it starts, leftmost first.
"""

from __future__ import annotations

import keyword
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import autograd_scalar
from autograd_scalar._engine import Primitive
from autograd_scalar._rules import _BUILTIN, _OPERATORS, _is_call, registered

__all__ = [
    "CONSTANTS",
    "FUNCTIONS",
    "MAX_LENGTH",
    "EvaluationError",
    "Instruction",
    "Program",
    "UsageError",
    "parse",
    "read_number",
    "read_value",
]

MAX_LENGTH = 200_000
"""Longest expression accepted, in characters (a sum of 100,000 one-letter terms)."""

FUNCTIONS: tuple[str, ...] = (
    *(
        name
        for name in registered()
        if name in _BUILTIN and name in autograd_scalar.__all__  # exported functions
    ),
    "abs",  # the table's abs, called as Python's abs()
    "round",  # round(x) and round(x, n), as Python's round()
)
"""The functions an expression may call: the library's built-in functions, read from
the rule table (a built-in exported at the top level is callable here at once)."""

# A call spelled as Python spells it, with the rule table's primitive it applies
# when the number of arguments picks another one than the name: round(x, n).
CALL_FORMS: dict[tuple[str, int], str] = {("round", 2): "round_digits"}

# Inputs that are integers (an order, a number of digits), by primitive: a literal
# there (read as a float, as every number here) is passed as the int it writes.
INTEGER_INPUTS: dict[str, tuple[int, ...]] = {"round_digits": (1,), "polygamma": (0,)}

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}
"""Names an expression may use without giving them a value."""

# Python's precedence of its binary operators (higher binds tighter).
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "%": 2, "//": 2, "**": 4}

# The operators: symbol -> (primitive in the rule table, precedence, right-assoc),
# read from the rule table's operator table (+ - * / % // **).
BINARY: dict[str, tuple[str, int, bool]] = {
    op.symbol: (op.primitive.name, _PRECEDENCE[op.symbol], op.symbol == "**")
    for op in _OPERATORS
    if op.primitive.arity == 2 and not _is_call(op)
}
UNARY: dict[str, tuple[str | None, int]] = {
    "-": ("neg", 3),
    "+": (None, 3),  # +x is x: nothing to emit
}
"""Prefix operators; they bind tighter than * and looser than ** (-x**2 is -(x**2))."""


# -------------------------------------------------------------------------------------
# Errors
# -------------------------------------------------------------------------------------


class UsageError(Exception):
    """The command line is rejected (exit status 2), optionally at a column of EXPR.

    >>> try:
    ...     parse("x + y.real", ["x", "y"])
    ... except UsageError as err:
    ...     print(err.column, err)
    4 attribute access is not allowed
    """

    status = 2

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message)
        self.column = column


class EvaluationError(UsageError):
    """The mathematics failed (exit status 1): a domain error, an overflow.

    >>> from autograd_scalar.cli import evaluate
    >>> try:
    ...     evaluate(parse("1 + log(x)", ["x"]), {"x": 0.0})
    ... except EvaluationError as err:
    ...     print(err.column, err)
    4 ValueError: log(0.0): math domain error
    """

    status = 1


# -------------------------------------------------------------------------------------
# Numbers: one reader for literals in EXPR and for NAME=VALUE
# -------------------------------------------------------------------------------------

_DIGITS = r"[0-9](?:_?[0-9])*"
_EXPONENT = rf"[eE][-+]?{_DIGITS}"
_FLOAT = (
    rf"(?:{_DIGITS}\.(?:{_DIGITS})?|\.{_DIGITS})(?:{_EXPONENT})?|{_DIGITS}{_EXPONENT}"
)
_BASED = r"0[xX](?:_?[0-9a-fA-F])+|0[bB](?:_?[01])+|0[oO](?:_?[0-7])+"
# Python's decimal integer: no leading zeros ("007" is not a literal).
_DECIMAL = r"[1-9](?:_?[0-9])*|0(?:_?0)*"
_NUMBER = re.compile(
    rf"(?P<imag>(?:{_FLOAT}|{_DIGITS})[jJ])|{_FLOAT}|{_BASED}|{_DECIMAL}"
)
# A variable's value may also be written as float() reads it: 007, 1e5, -0.5.
_VALUE = re.compile(rf"[-+]?(?:{_FLOAT}|{_BASED}|{_DIGITS})")


class _OutOfRangeError(ValueError):
    """A literal beyond the largest float."""


class _UnderflowError(ValueError):
    """A non-zero literal that a float rounds to 0.0."""


def read_number(text: str) -> float:
    """A number literal (no sign) as a float; ``ValueError`` saying why it is not one.

    Decimal literals are read as floats, never as Python ints, so a literal of any
    length is a number or "out of range" (never Python's limit on int digits). A
    non-zero literal that a float rounds to 0.0 is refused too: it is not the number
    written.

    >>> read_number("0x10"), read_number("1_000"), read_number(".5e1")
    (16.0, 1000.0, 5.0)
    >>> try:
    ...     read_number("1e-400")
    ... except ValueError as err:
    ...     print(err)
    number 1e-400 underflows to 0.0 (the smallest float is 5e-324)
    """
    based = text[:2].lower() in ("0x", "0o", "0b")
    try:
        # A power-of-two base has no digit limit; a decimal is read by float().
        number = float(int(text, 0)) if based else float(text)
    except OverflowError:
        number = math.inf
    except ValueError:
        raise ValueError(f"{_shown(text)} is not a number") from None
    if not math.isfinite(number):
        raise _OutOfRangeError(f"number {_shown(text)} is out of range for a float")
    mantissa = text.lower().partition("e")[0]
    if number == 0 and not based and mantissa.strip("0._"):
        raise _UnderflowError(
            f"number {_shown(text)} underflows to 0.0 (the smallest float is 5e-324)"
        )
    return number


def read_value(text: str) -> float:
    """A variable's value: an optional sign, then a number as in EXPR (or as
    ``float()`` writes one: leading zeros allowed); ``ValueError`` if not.

    >>> read_value("-0x10"), read_value("007")
    (-16.0, 7.0)
    """
    if not _VALUE.fullmatch(text):
        raise ValueError(
            "the value must be a finite number (such as 2, -0.5, 1e-3 or 0x10)"
        )
    sign = -1.0 if text[0] == "-" else 1.0
    body = text.lstrip("+-")
    if body[:1] == "0" and body[:2].lower() not in ("0x", "0o", "0b"):
        # float() reads 007 as 7; int(..., 0) would refuse it.
        body = body.lstrip("0_") or "0"
        if body[0] in ".eE":
            body = "0" + body
    try:
        return sign * read_number(body)
    except _OutOfRangeError:
        raise ValueError(
            "the value must be a finite number; it is out of range for a float"
        ) from None
    except _UnderflowError:
        raise ValueError(
            "the value underflows to 0.0 (the smallest float is 5e-324); "
            "write 0 for zero"
        ) from None


def _shown(text: str) -> str:
    """A literal as an error message shows it: whole, or its ends and its length."""
    if len(text) <= 40:
        return text
    return f"{text[:15]}...{text[-15:]} ({len(text):,} characters)"


# -------------------------------------------------------------------------------------
# Tokens
# -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "number", "name", "op", "string", "end"
    text: str
    column: int


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER_RUN = re.compile(r"[0-9A-Za-z_.]*")  # what a bad literal is shown as
_STRING_PREFIXES = {"r", "u", "f", "b", "br", "rb", "fr", "rf"}
# Longest first, so "**" is one token and "*" another.
_SYMBOLS = sorted(
    [
        *("+", "-", "*", "/", "%", "@", "&", "|", "^", "~", "<", ">", "=", "!"),
        *("(", ")", "[", "]", "{", "}", ",", ":", ";", ".", "..."),
        *("**", "//", "<<", ">>", "<=", ">=", "==", "!=", ":=", "->"),
        *("+=", "-=", "*=", "/=", "%=", "@=", "&=", "|=", "^=", "**=", "//="),
        *("<<=", ">>="),
    ],
    key=len,
    reverse=True,
)
_SYMBOL = re.compile("|".join(map(re.escape, _SYMBOLS)))


def _tokenize(expression: str) -> list[_Token]:
    """EXPR (printable ASCII, checked) as tokens, ending with an "end" token."""
    tokens: list[_Token] = []
    i, n = 0, len(expression)
    while i < n:
        char = expression[i]
        if char == " ":
            i += 1
            continue
        if char.isdigit() or (char == "." and expression[i + 1 : i + 2].isdigit()):
            token = _number_token(expression, i)
        elif char == "_" or char.isalpha():
            word = _NAME.match(expression, i)
            text = word[0] if word else char
            quoted = expression[i + len(text) : i + len(text) + 1] in ("'", '"')
            string = quoted and text.lower() in _STRING_PREFIXES  # b'..', f"..."
            token = _Token("string" if string else "name", text, i)
        elif char in "'\"":
            token = _Token("string", "", i)
        else:
            symbol = _SYMBOL.match(expression, i)
            if symbol is None:
                raise UsageError(f"syntax error: unexpected character {char!r}", i)
            token = _Token("op", symbol[0], i)
        if token.kind == "string":  # rejected by the parser; its end is not needed
            tokens.append(token)
            break
        tokens.append(token)
        i += len(token.text)
    tokens.append(_Token("end", "", len(expression)))
    return tokens


def _number_token(expression: str, start: int) -> _Token:
    match = _NUMBER.match(expression, start)
    end = match.end() if match else start
    follows = expression[end : end + 1]
    if match and match["imag"] and not (follows == "_" or follows.isalnum()):
        raise UsageError("complex numbers are not allowed", start)
    if match is None or follows == "_" or follows.isalnum():
        run = _NUMBER_RUN.match(expression, start)
        text = run[0] if run else expression[start]
        if match and match[0].strip("0_") == "" and follows.isdigit():
            raise UsageError(
                f"syntax error: leading zeros in {_shown(text)} (use 0o for octal)",
                start,
            )
        raise UsageError(f"syntax error: invalid number literal {_shown(text)}", start)
    return _Token("number", match[0], start)


# -------------------------------------------------------------------------------------
# The parser: shunting-yard, tokens to postfix
# -------------------------------------------------------------------------------------

# One instruction: (what, argument, column). ``what`` is _PUSH (argument: a float or
# a variable's name) or _APPLY (argument: the Primitive, which pops its arity).
_PUSH = 0
_APPLY = 1
Instruction = tuple[int, Any, int]


@dataclass(frozen=True)
class Program:
    """A checked expression as postfix instructions, and the variables it reads."""

    instructions: list[Instruction]
    variables: frozenset[str]


@dataclass(slots=True)
class _Frame:
    """An open parenthesis on the operator stack: a group, or a call of ``name``."""

    column: int  # of "(" for a group, of the name for a call
    name: str | None = None  # the function, for a call
    paren: int = 0  # column of "("
    args: int = 0  # arguments closed so far
    start: int = 0  # column where the current argument (or group body) starts


@dataclass(slots=True)
class _Operator:
    """A pending operator: emitted when an operator of lower precedence arrives."""

    prim: Primitive | None  # None: unary plus
    precedence: int
    right: bool
    column: int


@dataclass
class _State:
    tokens: list[_Token]
    variables: frozenset[str]
    whole: _Frame  # the whole expression, as if in parentheses
    prims: dict[str, Primitive] = field(default_factory=registered)
    out: list[Instruction] = field(default_factory=list)
    stack: list[_Operator | _Frame] = field(default_factory=list)
    frames: list[_Frame] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    at: int = 0  # index of the token being read
    primary: int = 0  # column where the last complete operand starts


def parse(expression: str, variables: Sequence[str] = ()) -> Program:
    """Check ``expression`` against the grammar and compile it to a postfix program.

    Raises ``UsageError`` (with the column) for anything outside the grammar.

    >>> p = parse("x*2 + sin(x)", ["x"])
    >>> [what for what, _, _ in p.instructions], sorted(p.variables)
    ([0, 0, 1, 0, 1, 1], ['x'])
    """
    _check_text(expression)
    tokens = _tokenize(expression)
    if tokens[0].kind == "end":
        raise UsageError("the expression is empty", len(expression))
    whole = _Frame(tokens[0].column, start=tokens[0].column)
    state = _State(tokens, frozenset(variables), whole)
    expecting_operand = True
    while True:
        token = tokens[state.at]
        if expecting_operand:
            expecting_operand = _operand(state, token)
        elif token.kind == "end":
            break
        else:
            expecting_operand = _after_operand(state, token)
        state.at += 1
    _close(state, None)
    return Program(state.out, frozenset(state.used))


def _check_text(expression: str) -> None:
    if len(expression) > MAX_LENGTH:
        raise UsageError(
            f"the expression is {len(expression):,} characters long; "
            f"the limit is {MAX_LENGTH:,}"
        )
    for column, char in enumerate(expression):
        if not " " <= char <= "~":
            raise UsageError(
                f"character {char!a} is not allowed (printable ASCII only)", column
            )


def _context(state: _State) -> int:
    """Where the innermost argument, group body or the whole expression starts."""
    return (state.frames[-1] if state.frames else state.whole).start


def _next(state: _State) -> _Token:
    return state.tokens[state.at + 1]


def _operand(state: _State, token: _Token) -> bool:
    """Read ``token`` where an operand must start; True: an operand is still due."""
    kind, text, column = token.kind, token.text, token.column
    if kind == "number":
        try:
            number = read_number(text)
        except ValueError as err:
            raise UsageError(str(err), column) from None
        _push(state, number, column)
        return False
    if kind == "name":
        return _name(state, token)
    if kind == "string":
        prefix = text.lower()
        what = "f-strings" if "f" in prefix else "bytes" if "b" in prefix else "strings"
        raise UsageError(f"{what} are not allowed", column)
    if text in UNARY:
        name, precedence = UNARY[text]
        prim = None if name is None else state.prims[name]
        state.stack.append(_Operator(prim, precedence, True, column))
        return True
    if text == "(":
        frame = _Frame(column, paren=column, start=_next(state).column)
        state.stack.append(frame)
        state.frames.append(frame)
        return True
    if text == ")" and _empty_argument_closes(state, token):
        return False
    return _not_an_operand(state, token)


def _name(state: _State, token: _Token) -> bool:
    """A name where an operand starts: a call, a variable, a constant."""
    name, column = token.text, token.column
    follows = _next(state).text
    if keyword.iskeyword(name):
        message = _KEYWORDS.get(name, f"syntax error: {name!r} is a keyword here")
        raise UsageError(message, column)
    if follows == "(":
        _check_function(state, name, column)
        state.at += 1  # the "("
        paren = state.tokens[state.at].column
        frame = _Frame(column, name, paren, start=_next(state).column)
        state.stack.append(frame)
        state.frames.append(frame)
        return True
    if follows in _TRAILERS:
        raise UsageError(_TRAILERS[follows], column)
    if name in state.variables:
        state.used.add(name)
        _push(state, name, column)
    elif name in CONSTANTS:
        _push(state, CONSTANTS[name], column)
    elif name in FUNCTIONS:
        raise UsageError(f"{name} is a function: call it, as in {name}(x)", column)
    else:
        raise UsageError(
            f"unknown name {name!r}: give its value as {name}=NUMBER "
            "(or use a function or the constant pi or e)",
            column,
        )
    return False


def _check_function(state: _State, name: str, column: int) -> None:
    if name in FUNCTIONS:
        return
    known = name in state.variables or name in CONSTANTS
    raise UsageError(
        f"{name}() is not a function ({'a variable' if known else 'unknown'});"
        " the functions are: " + " ".join(FUNCTIONS),
        column,
    )


def _push(state: _State, argument: float | str, column: int) -> None:
    state.out.append((_PUSH, argument, column))
    state.primary = column


def _empty_argument_closes(state: _State, token: _Token) -> bool:
    """``f()`` or ``f(x,)``: a ")" where an operand was due closes the call."""
    previous = state.tokens[state.at - 1].text
    if not state.frames or state.stack[-1] is not state.frames[-1]:
        return False
    if previous not in ("(", ","):
        return False
    frame = state.frames[-1]
    if frame.name is None:  # () or (x,): a tuple
        raise UsageError("tuples are not allowed", frame.column)
    _close(state, token)
    return True


def _not_an_operand(state: _State, token: _Token) -> bool:
    """The error for ``token`` where an operand must start."""
    text, column = token.text, token.column
    frame = state.frames[-1] if state.frames else None
    at_argument = frame is not None and frame.name is not None
    at_argument = at_argument and state.stack[-1] is frame
    if text == "*" and at_argument:
        raise UsageError("starred arguments are not allowed", column)
    if text == "**" and at_argument and frame is not None:
        raise UsageError(f"{frame.name}() takes no keyword arguments", column)
    if text in _OPERAND_ERRORS:
        raise UsageError(_OPERAND_ERRORS[text], column)
    if text in ("[", "{"):
        raise UsageError(_display_error(state), column)
    if token.kind == "end":
        _close(state, None)  # an unclosed "(" is the better message
        raise UsageError(
            "syntax error: the expression ends where an operand is due", column
        )
    raise UsageError(f"syntax error: an operand is due, not {text!r}", column)


def _display_error(state: _State) -> str:
    """What a list, set or dict display at the current token is called."""
    tokens, depth, seen = state.tokens, 0, set()
    opener = tokens[state.at].text
    for token in tokens[state.at :]:
        if token.kind == "op" and token.text in ("(", "[", "{"):
            depth += 1
        elif token.kind == "op" and token.text in (")", "]", "}"):
            depth -= 1
            if depth == 0:
                break
        elif depth == 1:
            seen.add(token.text)
    if "for" in seen:
        return "comprehensions are not allowed"
    if opener == "[":
        return "lists are not allowed"
    return "dicts are not allowed" if ":" in seen else "sets are not allowed"


def _after_operand(state: _State, token: _Token) -> bool:
    """Read ``token`` after a complete operand; True: an operand is due next."""
    text, column = token.text, token.column
    if token.kind == "op" and text in BINARY:
        name, precedence, right = BINARY[text]
        _pop_while(state, precedence, right)
        state.stack.append(_Operator(state.prims[name], precedence, right, column))
        return True
    if text == ",":
        frame = _innermost_call(state)
        _pop_while(state, 0, False)
        frame.args += 1
        frame.start = _next(state).column
        return True
    if text == ")":
        _close(state, token)
        return False
    message = _operator_error(state, token)
    raise UsageError(message, _operator_column(state, token))


def _innermost_call(state: _State) -> _Frame:
    """The call a "," separates arguments of; a "," anywhere else makes a tuple."""
    frame = state.frames[-1] if state.frames else state.whole
    if frame.name is None:
        raise UsageError("tuples are not allowed", frame.column)
    return frame


def _pop_while(state: _State, precedence: int, right: bool) -> None:
    """Emit the pending operators that bind tighter than one of ``precedence``."""
    stack, out = state.stack, state.out
    while stack:
        pending = stack[-1]
        if isinstance(pending, _Frame):
            return
        if pending.precedence < precedence or (
            pending.precedence == precedence and right
        ):
            return
        stack.pop()
        if pending.prim is not None:
            out.append((_APPLY, pending.prim, pending.column))


def _close(state: _State, token: _Token | None) -> None:
    """A ")" (``token``) closes the innermost frame; at the end (None), none is open."""
    _pop_while(state, 0, False)
    if token is None:
        if state.frames:
            raise UsageError(
                "syntax error: '(' was never closed", state.frames[0].paren
            )
        return
    if not state.frames:
        raise UsageError("syntax error: unmatched ')'", token.column)
    frame = state.frames.pop()
    state.stack.pop()
    if frame.name is not None:
        if state.tokens[state.at - 1].text != "(":
            frame.args += state.tokens[state.at - 1].text != ","
        prim = state.prims[CALL_FORMS.get((frame.name, frame.args), frame.name)]
        if frame.args != prim.arity:
            raise UsageError(
                f"{frame.name}() takes {prim.arity} argument"
                f"{'s' * (prim.arity > 1)}, got {frame.args}",
                frame.column,
            )
        state.out.append((_APPLY, prim, frame.column))
    state.primary = frame.column


# What a keyword, a comparison or another operator is called, where it is rejected.
_KEYWORDS = {
    "lambda": "lambda is not allowed",
    "not": "operator not is not allowed (only unary - and +)",
    "True": "True and False are not allowed",
    "False": "True and False are not allowed",
    "None": "None is not allowed",
    "await": "await is not allowed",
    "yield": "yield is not allowed",
}
_TRAILERS = {".": "attribute access is not allowed", "[": "subscripts are not allowed"}
_OPERAND_ERRORS = {
    "~": "operator ~ is not allowed (only unary - and +)",
    "...": "the ellipsis (...) is not allowed",
}
_ONLY = " ".join(BINARY)
_COMPARISONS = {"<", ">", "==", "!=", "<=", ">=", "in", "is", "not"}


def _operator_error(state: _State, token: _Token) -> str:
    """What is wrong with ``token`` after a complete operand."""
    text = token.text
    if token.kind == "op" and text in ("@", "^", "|", "&", "<<", ">>"):
        return f"operator {text} is not allowed (only {_ONLY})"
    if text in _COMPARISONS:
        return "comparisons are not allowed"
    if text in ("and", "or"):
        return "'and' and 'or' are not allowed"
    if text == "if":
        return "conditional expressions are not allowed"
    if text == "for":
        return "generator expressions are not allowed"
    if text == ":=":
        return "assignment expressions (:=) are not allowed"
    if text in _TRAILERS:
        return _TRAILERS[text]
    if text == "(":
        return "only functions can be called"
    if text == "=" and _keyword_argument(state) is not None:
        return f"{_keyword_argument(state)}() takes no keyword arguments"
    if text == "=":
        return "syntax error: '=' is not allowed (give values as NAME=VALUE after EXPR)"
    return f"syntax error: an operator is due, not {text!r}"


def _operator_column(state: _State, token: _Token) -> int:
    """Where the construct ``token`` belongs to starts (Python's node column)."""
    text = token.text
    if text in ("if", ":="):
        return _context(state)
    if text == "for":
        frame = state.frames[-1] if state.frames else state.whole
        return frame.paren if frame.name is None and state.frames else frame.start
    if text in _TRAILERS or text == "(":
        return state.primary
    if text == "=" and _keyword_argument(state) is not None:
        return state.tokens[state.at - 1].column
    return token.column


def _keyword_argument(state: _State) -> str | None:
    """In ``f(x=1)``: the function's name, when "=" follows a bare argument name."""
    if not state.frames or state.frames[-1].name is None or state.at < 2:
        return None
    name, before = state.tokens[state.at - 1], state.tokens[state.at - 2]
    if name.kind == "name" and before.text in ("(", ","):
        return state.frames[-1].name
    return None
