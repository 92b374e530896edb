"""The documentation site (mkdocs.yml, docs/) builds, documents every public name,
shows what the README and the guide promise, and renders in a browser.

The tests that build the site skip without MkDocs (the ``docs`` extra); the browser
test also skips without Chromium, like the drawing tests of test_viz.py.
"""

from __future__ import annotations

import functools
import html
import http.server
import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import autograd_scalar

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

# The modules whose public names the API reference documents (issue 18).
MODULES = [
    "autograd_scalar.functional",
    "autograd_scalar.forward",
    "autograd_scalar.tape",
    "autograd_scalar.nn",
    "autograd_scalar.optim",
    "autograd_scalar.datasets",
    "autograd_scalar.viz",
    "autograd_scalar.testing",
    "autograd_scalar.testing.strategies",
    "autograd_scalar.cli",
    # Once they exist (issues 14 and 16), each needs a page under docs/reference/.
    "autograd_scalar.tracing",
    "autograd_scalar.math",
]


def _code_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.M | re.S)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built by ``mkdocs build --strict`` into a temporary directory."""
    for package in ("mkdocs", "material", "mkdocstrings", "mkdocs_jupyter"):
        pytest.importorskip(package, reason="the docs extra is not installed")
    out = tmp_path_factory.mktemp("site")
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "NO_MKDOCS_2_WARNING": "1",
    }
    done = subprocess.run(
        [
            *(sys.executable, "-m", "mkdocs", "build", "--strict"),
            *("-f", str(ROOT / "mkdocs.yml"), "-d", str(out / "html")),
        ],
        cwd=out,  # mkdocs-jupyter's cache goes here, not into the checkout
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out / "html"


def _page_text(page: Path) -> str:
    """A built page's text, tags stripped and entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text(encoding="utf-8")))


def _anchors(site: Path) -> set[str]:
    ids: set[str] = set()
    for page in (site / "reference").rglob("index.html"):
        ids.update(re.findall(r'id="([^"]+)"', page.read_text(encoding="utf-8")))
    return ids


class TestApiReference:
    """Every public name has an entry in the API reference, rendered from its
    docstring."""

    def test_every_name_of_all_has_an_anchor(self, site: Path) -> None:
        """Each name of autograd_scalar.__all__ has an anchor autograd_scalar.<name>."""
        ids = _anchors(site)
        missing = [
            n for n in autograd_scalar.__all__ if f"autograd_scalar.{n}" not in ids
        ]
        assert not missing, f"not in the API reference: {missing}"

    def test_every_public_name_of_the_submodules(self, site: Path) -> None:
        """Each name in a documented submodule's __all__ has an entry of its own."""
        ids = _anchors(site)
        missing = []
        for module in _importable_modules():
            for name in module.__all__:
                if f"{module.__name__}.{name}" not in ids:
                    missing.append(f"{module.__name__}.{name}")
        assert not missing, f"not in the API reference: {missing}"

    def test_examples_render_as_code(self, site: Path) -> None:
        """The first doctest line of every documented docstring is shown, in a code
        block, on the reference pages (not as a quote)."""
        text = "".join(
            _page_text(p) for p in sorted((site / "reference").rglob("index.html"))
        )
        objects = [autograd_scalar, *_importable_modules()]
        objects += [getattr(autograd_scalar, name) for name in autograd_scalar.__all__]
        objects += [
            getattr(m, n)
            for m in objects[1:]
            if isinstance(m, ModuleType)
            for n in m.__all__
        ]
        lost = []
        for obj in objects:
            doc = getattr(obj, "__doc__", None) or ""
            if not isinstance(obj, type) and doc == type(obj).__doc__:
                continue  # a constant or an instance: the docstring is its type's
            first = re.search(r"^\s*(>>> .*)$", doc, re.M)
            if first is not None and first.group(1) not in text:
                lost.append((getattr(obj, "__name__", obj), first.group(1)))
        assert not lost, f"examples missing from the reference: {lost[:5]}"
        for page in (site / "reference").rglob("index.html"):
            assert "<blockquote>" not in page.read_text(encoding="utf-8"), page


def _importable_modules() -> list[ModuleType]:
    modules = []
    for name in MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ImportError:  # testing.strategies without hypothesis
            continue
    return modules


class TestSite:
    """What the site holds besides the reference."""

    def test_notebooks_are_pages(self, site: Path) -> None:
        """Every notebook is a page, with its committed outputs and not re-run."""
        notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
        assert notebooks
        for nb in notebooks:
            page = site / "notebooks" / nb.stem / "index.html"
            assert page.exists(), f"{nb.name} is not in the site"
            cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
            outputs = [
                "".join(o["text"])
                for c in cells
                if c["cell_type"] == "code"
                for o in c.get("outputs", [])
                if o.get("output_type") == "stream"
            ]
            shown = _page_text(page)
            for output in outputs[:3]:  # the committed text, as committed
                assert output.strip().splitlines()[0] in shown, nb.name
        index = (site / "index.html").read_text(encoding="utf-8")
        for nb in notebooks:  # and in the navigation
            assert f"notebooks/{nb.stem}/" in index

    def test_guide_pages(self) -> None:
        """The guide has exactly the agreed pages, and the nav lists each of them."""
        names = {
            "engine", "edges", "grad-modes", "functional", "forward", "tape",
            "tracing", "vectorized", "seeing", "testing", "nn", "cli", "saving",
            "pitfalls", "ordinary-python", "performance", "architecture",
        }  # fmt: skip
        assert {p.stem for p in (DOCS / "guide").glob("*.md")} == names
        config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
        for name in names:
            assert f"guide/{name}.md" in config

    def test_nothing_said_twice(self) -> None:
        """No sentence of prose (six words or more) is on two pages of the site, or
        twice on one: a page links to where a thing is said."""
        where: dict[str, str] = {}
        for page in sorted(DOCS.rglob("*.md")):
            prose = re.sub(
                r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S
            )
            for sentence in re.split(r"(?<=[.;!?])\s+", re.sub(r"\s+", " ", prose)):
                if len(sentence.split()) < 6:
                    continue
                assert sentence not in where, f"{page} repeats {where.get(sentence)}"
                where[sentence] = str(page.relative_to(ROOT))


class TestReadme:
    """The README is the front page: short, runnable, and said in the site too."""

    def test_short(self) -> None:
        """At most about 150 lines."""
        lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
        assert len(lines) <= 150

    def test_ci_runs_the_test_command(self) -> None:
        """.ci/run runs the README's test command verbatim, and builds the site."""
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        commands = [b.strip() for b in _code_blocks(readme, "bash")]
        test_command = "pip install -e '.[dev]' && pytest"
        assert test_command in commands
        ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        assert test_command in ci
        assert "pip install -e '.[docs]' && mkdocs build --strict" in ci
        assert ci.index(test_command) < ci.index(
            "pip install -e '.[docs]' && mkdocs build --strict"
        )

    def test_code_is_in_the_site(self) -> None:
        """Every code block of the README is also in a page of the site."""
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        site = "".join(p.read_text(encoding="utf-8") for p in DOCS.rglob("*.md"))
        for block in _code_blocks(readme, r"\w+"):
            assert block in site, block

    def test_links(self) -> None:
        """Every relative link of the README points at a file of the checkout."""
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#:]+)[^)]*\)", readme):
            assert (ROOT / target).exists(), target


# Runs a page's blocks, given as JSON on stdin, in order and in one namespace (a page
# reads top to bottom, like a notebook): a doctest-style block (``>>>`` lines and their
# output) by doctest, any other by exec. The namespace is __main__'s, so that what an
# example defines can be pickled.
_RUN_BLOCKS = """
import doctest as _doctest, json as _json, sys as _sys
_flags = _doctest.ELLIPSIS | _doctest.NORMALIZE_WHITESPACE
for _i, _block in enumerate(_json.loads(_sys.stdin.read())):
    _name = f"{_sys.argv[1]} block {_i + 1}"
    if _block.lstrip().startswith(">>>"):
        _parser, _runner = _doctest.DocTestParser(), _doctest.DocTestRunner()
        _runner.optionflags = _flags
        _test = _parser.get_doctest(_block, globals(), _name, _name, 0)
        if _runner.run(_test, clear_globs=False).failed:
            _sys.exit(1)
        globals().update(_test.globs)  # a DocTest runs in a copy of the namespace
    else:
        exec(compile(_block, _name, "exec"), globals())
"""


class TestExamples:
    """The Python examples of the README and of the site run."""

    @pytest.mark.parametrize(
        "page",
        [
            page
            for page in [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
            if "```python\n" in page.read_text(encoding="utf-8")
        ],
        ids=lambda p: str(p.relative_to(ROOT)),
    )
    def test_python_blocks_run(self, page: Path, tmp_path: Path) -> None:
        """A page's ```python blocks run without an error, in order, in a process of
        their own (examples register primitives: the test session's registry stays as
        it is); a block written as a doctest (``>>>``) shows its output."""
        blocks = _code_blocks(page.read_text(encoding="utf-8"), "python")
        needs = {"numpy": "import numpy", "hypothesis": "from hypothesis"}
        for block in blocks:
            for module, marker in needs.items():
                if marker in block and importlib.util.find_spec(module) is None:
                    pytest.skip(f"{module} is not installed")
        done = subprocess.run(
            [sys.executable, "-c", _RUN_BLOCKS, str(page.relative_to(ROOT))],
            input=json.dumps(blocks),
            cwd=tmp_path,  # an example may write a file
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]

    def test_tour_picture(self) -> None:
        """docs/assets/tour.svg is the built-in drawing of the tour's graph."""
        viz = pytest.importorskip("autograd_scalar.viz")
        tour = _code_blocks((DOCS / "index.md").read_text(encoding="utf-8"), "python")
        namespace: dict[str, Any] = {}
        exec(tour[0], namespace)
        svg = (DOCS / "assets" / "tour.svg").read_text(encoding="utf-8")
        drawn = viz.draw(namespace["y"], engine="builtin").svg
        # Each drawing numbers its arrowhead's id (unique within a notebook page).
        marker = re.compile(r"autograd-arrow-\d+")
        # On a change of the drawing, write the picture again: save() of the above.
        assert marker.sub("arrow", svg) == marker.sub("arrow", drawn)


def test_fence_doctests() -> None:
    """The site's Griffe extension fences doctest runs, keeps their indentation,
    and leaves fenced code and prose alone."""
    pytest.importorskip("griffe")
    spec = importlib.util.spec_from_file_location(
        "_blocks", DOCS / "_doctest_blocks.py"
    )
    assert spec is not None and spec.loader is not None
    blocks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(blocks)
    text = "Sum:\n\n>>> 1 + 1\n2\n\nArgs:\n    x: a number.\n\n        >>> x = 1\n"
    assert blocks.fence_doctests(text) == (
        "Sum:\n\n```pycon\n>>> 1 + 1\n2\n```\n\nArgs:\n    x: a number.\n\n"
        "        ```pycon\n        >>> x = 1\n        ```\n"
    )
    fenced = "```python\n>>> 1\n```\nno prompt here"
    assert blocks.fence_doctests(fenced) == fenced


# -------------------------------------------------------------------------------------
# In a browser
# -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    """The built site, served over HTTP on a free local port."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


# A page, what its title holds, and a heading it shows.
PAGES = [
    ("", "autograd_scalar", "A five-minute tour"),
    ("guide/functional/", "The functional API", "The functional API"),
    ("reference/", "autograd_scalar", "Value"),
]


def _browser() -> str:
    found = next(
        (shutil.which(b) for b in ("chromium", "chromium-browser") if shutil.which(b)),
        None,
    )
    if found is None:
        pytest.skip("no Chromium installed")
    return found


class TestInABrowser:
    """Headless Chromium shows the index, a guide page and the page of Value."""

    @pytest.mark.parametrize(("path", "title", "heading"), PAGES)
    def test_page(
        self, served: str, tmp_path: Path, path: str, title: str, heading: str
    ) -> None:
        """The page has its title, the navigation, a code block and its heading, and
        logs no error to the console."""
        browser = _browser()
        dom, errors = _load(browser, served + path, tmp_path)
        found = re.search(r"<title>(.*?)</title>", dom, re.S)
        assert found and title in html.unescape(found[1])
        assert 'class="md-nav' in dom and "The engine and backward()" in dom
        assert re.search(r'<div class="[^"]*highlight', dom)
        headings = [
            html.unescape(re.sub(r"<[^>]+>", "", h))
            for h in re.findall(r"<h[1-6][^>]*>(.*?)</h[1-6]>", dom, re.S)
        ]
        assert any(heading in h for h in headings), headings
        assert not errors, errors


def _load(browser: str, url: str, tmp_path: Path) -> tuple[str, list[str]]:
    """The rendered DOM of ``url`` and the console's errors: through selenium and
    chromedriver when both are installed, else Chromium's --dump-dom and its log."""
    driver_path = shutil.which("chromedriver")
    if driver_path is not None and importlib.util.find_spec("selenium") is not None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in ("--headless", "--no-sandbox", "--disable-gpu"):
            options.add_argument(flag)
        options.add_argument("--disable-background-networking")
        options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(driver_path), options=options)
        try:
            driver.set_page_load_timeout(60)
            driver.get(url)
            dom = driver.page_source
            logs = driver.get_log("browser")
        finally:
            driver.quit()
        return dom, [e["message"] for e in logs if e["level"] == "SEVERE"]
    run = subprocess.run(
        [
            browser,
            *("--headless", "--no-sandbox", "--disable-gpu"),
            *("--disable-background-networking", "--no-first-run"),
            f"--user-data-dir={tmp_path / 'profile'}",
            "--enable-logging=stderr",
            "--virtual-time-budget=5000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    errors = [
        line
        for line in run.stderr.splitlines()
        if "CONSOLE" in line and ("Error" in line or "Uncaught" in line)
    ]
    return run.stdout, errors
