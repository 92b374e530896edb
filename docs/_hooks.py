"""MkDocs hooks of the documentation site (see mkdocs.yml).

- The notebooks stay where they are, in ``notebooks/``: each ``*.ipynb`` there is
  added to the site as ``notebooks/<name>.ipynb`` (mkdocs-jupyter renders it with its
  committed outputs) and listed under the nav's empty "Notebooks" section, titled by
  its first heading. No copy, no symlink, and a renamed notebook needs no edit here.
- A reference page may say ``<!-- names generated at import of MODULE -->``: the
  names of MODULE's ``__all__`` that only exist once it runs (the tape's node classes,
  one per primitive), which the docstring reader cannot see, are listed there, each
  with an anchor and its docstring's first line.
- The top of the API reference (``reference/index.md``) documents every name in
  ``autograd_scalar.__all__`` once: a name that one of the other reference pages
  documents at its public home (``autograd_scalar.functional.grad``) gets an anchor
  and a link there; every other name is rendered on the page itself.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
REFERENCE = Path(__file__).resolve().parent / "reference"
NAMES_MARKER = "<!-- names of autograd_scalar.__all__, written by docs/_hooks.py -->"
GENERATED_MARKER = re.compile(r"<!-- names generated at import of ([\w.]+) -->")


def _notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def _title(notebook: Path) -> str:
    """The notebook's first markdown heading, or its file name."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    for cell in cells:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return notebook.stem


def on_config(config: Any) -> Any:
    """Fill the nav's "Notebooks" section with one entry per notebook."""
    for entry in config["nav"]:
        if isinstance(entry, dict) and entry.get("Notebooks") == []:
            entry["Notebooks"] = [
                {_title(nb): f"notebooks/{nb.name}"} for nb in _notebooks()
            ]
    return config


@event_priority(100)  # before mkdocs-jupyter's on_files, which claims the .ipynb files
def on_files(files: Files, config: Any) -> Files:
    """Add notebooks/*.ipynb to the site, read from the repository in place."""
    for nb in _notebooks():
        files.append(
            File(
                f"notebooks/{nb.name}",
                src_dir=str(NOTEBOOKS.parent),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files


def _documented_elsewhere() -> dict[int, str]:
    """id() of each object that another reference page documents -> its path there.

    An object exported by several documented modules (``trace``, by ``tape`` for
    compatibility and by the module that defines it) has its home in the module it
    comes from, when that one is documented.
    """
    homes: dict[int, str] = {}
    for page in sorted(REFERENCE.glob("*.md")):
        if page.name == "index.md":
            continue
        text = page.read_text(encoding="utf-8")
        for module_name in re.findall(r"^::: (autograd_scalar[\w.]*)", text, re.M):
            try:
                module = importlib.import_module(module_name)
            except ImportError:  # an optional dependency is missing: no home there
                continue
            for name in getattr(module, "__all__", ()):
                obj = getattr(module, name)
                origin = getattr(obj, "__module__", None) or ""
                if id(obj) not in homes or origin.startswith(module_name):
                    homes[id(obj)] = f"{module_name}.{name}"
    return homes


def _names_markdown() -> str:
    import autograd_scalar

    homes = _documented_elsewhere()
    linked, rendered, primitives = [], [], []
    for name in autograd_scalar.__all__:
        obj = getattr(autograd_scalar, name)
        home = homes.get(id(obj))
        if home is not None:
            module = home.rsplit(".", 1)[0]
            linked.append(
                f"| [](){{#autograd_scalar.{name}}} `{name}` "
                f"| [`{home}`][{home}] (in [`{module}`][{module}]) |"
            )
        elif isinstance(obj, autograd_scalar.Primitive):
            primitives.append(f"::: autograd_scalar.{name}\n")
        else:
            rendered.append(f"::: autograd_scalar.{name}\n")
    # Value first: the page a reader opens the reference for.
    rendered.sort(key=lambda entry: entry != "::: autograd_scalar.Value\n")
    table = "\n".join(["| name | documented as |", "| --- | --- |", *linked])
    return "\n".join(
        [
            "## Defined here\n",
            *rendered,
            "## The built-in primitives\n",
            "Each is a `Primitive` (see above): call it on numbers or Values. Its "
            "entry is its line in the rule table: the name, the forward on numbers, "
            "one local partial derivative per input, and where it is smooth "
            "(`domain`). Operators (`+`, `*`, `**`, ...) are primitives too "
            "([the engine](../guide/engine.md)).\n",
            *primitives,
            "## Re-exported from the public modules\n",
            "Also importable from `autograd_scalar` itself, and documented where "
            "they are defined:\n",
            table,
            "",
        ]
    )


def _generated_markdown(match: re.Match[str]) -> str:
    import griffe

    module_name = match.group(1)
    module = importlib.import_module(module_name)
    static = griffe.load(module_name, search_paths=[str(ROOT)], resolve_aliases=False)
    rows = ["| name | |", "| --- | --- |"]
    for name in module.__all__:
        if name not in static.members:
            doc = (getattr(module, name).__doc__ or "").strip().split("\n")[0]
            rows.append(f"| [](){{#{module_name}.{name}}} `{name}` | {doc} |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """Write the names of ``autograd_scalar.__all__`` into the reference's top page,
    and the generated names into the pages that ask for them."""
    if NAMES_MARKER in markdown:
        markdown = markdown.replace(NAMES_MARKER, _names_markdown())
    return GENERATED_MARKER.sub(_generated_markdown, markdown)
