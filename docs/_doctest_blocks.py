"""A Griffe extension of the documentation site: doctest examples render as code.

It also leaves the special methods of classes (``__add__``, ``__slots__``, ...) out of
the API reference: the guide says what the operators do.

The package's docstrings show their examples as doctests (``>>>`` lines and the
output after them), which pytest runs. In Markdown such lines would read as nested
quotes; this extension fences each run of them as a ``pycon`` code block before
mkdocstrings renders the docstring. The docstrings themselves are not changed.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_PROMPT = re.compile(r"^(\s*)>>> ")


def fence_doctests(text: str) -> str:
    """Wrap each doctest example (a ``>>>`` line up to the next blank line) in a fence.

    The fence keeps the example's indentation, so an example inside a section
    (``Args:``) stays in it; examples already inside a fence are left alone.
    """
    lines = text.split("\n")
    out: list[str] = []
    fenced = False  # inside a ``` block the docstring already has: leave it alone
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            fenced = not fenced
        match = None if fenced else _PROMPT.match(line)
        if match is None:
            out.append(line)
            i += 1
            continue
        indent = match.group(1)
        out.append(f"{indent}```pycon")
        while i < len(lines) and lines[i].strip():
            out.append(lines[i])
            i += 1
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    """Fence the doctest examples of every docstring (see the module docstring)."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite ``obj``'s docstring, if it has one, with its examples fenced."""
        if obj.docstring is not None:
            obj.docstring.value = fence_doctests(obj.docstring.value)

    def on_class_members(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        """Drop the special methods and attributes of ``cls`` (``__init__`` stays: its
        parameters are the class's)."""
        for name in list(cls.members):
            if name.startswith("__") and name.endswith("__") and name != "__init__":
                cls.del_member(name)
