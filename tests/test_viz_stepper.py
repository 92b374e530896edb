"""viz.stepper: one HTML page that steps through backward_steps on the drawing."""

from __future__ import annotations

import json
import math
import re
import shutil
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from autograd_scalar import Value, viz

BROWSER_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def diamond() -> dict[str, Value]:
    """The seed's diamond at x=3, y=2, z=1: h = (x*y)*(y*z), o = h*h."""
    x, y, z = Value(3.0, "x"), Value(2.0, "y"), Value(1.0, "z")
    h1 = x * y
    h2 = y * z
    h = h1 * h2
    o = h * h
    for name, v in [("h1", h1), ("h2", h2), ("h", h), ("o", o)]:
        v.label = name
    return {"x": x, "y": y, "z": z, "h1": h1, "h2": h2, "h": h, "o": o}


def page_data(page: str) -> Any:
    """The JSON the page's script reads."""
    found = re.search(
        r'<script type="application/json" class="ag-data">(.*?)</script>', page, re.S
    )
    assert found
    return json.loads(found[1])


def close(shown: str, want: Any) -> bool:
    """A number as the page shows it equals ``want`` (floats to 10 digits)."""
    if isinstance(want, float):
        return math.isclose(float(shown), want, rel_tol=1e-9, abs_tol=1e-300)
    return Fraction(shown) == want


class TestPage:
    """The page itself: self-contained, with the steps of backward_steps."""

    def test_self_contained_document(self) -> None:
        """One HTML document: inline SVG and script, nothing loaded from anywhere."""
        page = viz.stepper(diamond()["o"]).html
        assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
        assert "<svg" in page and "<script>" in page
        assert not re.search(r'(src|href)="(?!data:|#)', page)
        assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "https://" not in page

    def test_steps_match_backward_steps(self) -> None:
        """The page's steps are backward_steps', node, input, slot and numbers."""
        g = diamond()
        rec = viz.backward_steps(g["o"])
        data = page_data(viz.stepper(g["o"]).html)
        names = data["names"]
        assert len(data["steps"]) == len(rec.steps) == 8
        for row, step in zip(data["steps"], rec.steps, strict=True):
            node, into, slot, local, upstream, increment, total = row
            assert (names[node], names[into], slot) == (
                step.node.label,
                step.input.label,
                step.slot,
            )
            for shown, want in zip(
                (local, upstream, increment, total),
                (step.local, step.upstream, step.increment, step.total),
                strict=True,
            ):
                assert close(shown, want)

    def test_static_view_for_untrusted_notebooks(self) -> None:
        """Without scripts, the notebook shows the drawing as an image and the
        table of steps; the interactive view sits inside a script element."""
        g = diamond()
        fragment = viz.stepper(g["o"])._repr_html_()
        without_scripts = re.sub(r"<script.*?</script>", "", fragment, flags=re.S)
        assert '<img src="data:image/svg+xml;base64,' in without_scripts
        assert without_scripts.count("<tr>") == 1 + 8
        assert "<button" not in without_scripts and "<svg" not in without_scripts

    def test_labels_cannot_break_out(self) -> None:
        """A label holding </script> stays text: it is escaped in the markup and
        in the JSON, and the page still parses its data."""
        x = Value(2.0, "</script><b>x")
        page = viz.stepper(x * x).html
        assert page.count("</script>") == page.count("<script")
        assert page_data(page)["names"][0] == "</script><b>x"

    def test_save(self, tmp_path: Path) -> None:
        """save() writes the page; another suffix is a ValueError naming it."""
        s = viz.stepper(diamond()["o"])
        assert s.save(tmp_path / "steps.html").read_text(encoding="utf-8") == s.html
        with pytest.raises(ValueError, match=r"'\.svg'"):
            s.save(tmp_path / "steps.svg")

    def test_big_graph_is_refused(self) -> None:
        """A graph over max_values is a ValueError pointing to backward_steps."""
        v = Value(0.5, "x")
        for _ in range(20):
            v = v.tanh()
        with pytest.raises(ValueError, match=r"21 Values.*backward_steps"):
            viz.stepper(v, max_values=20)

    def test_touches_no_grad(self) -> None:
        """Making the page runs no backward pass."""
        g = diamond()
        viz.stepper(g["o"])
        assert all(v.grad == 0 for v in g.values())


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by selenium, or a skip when any part is missing."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("Chromium or chromedriver is not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [*BROWSER_FLAGS, "--window-size=1400,1000"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(driver_path))
    try:
        yield driver
    finally:
        driver.quit()


class TestInBrowser:
    """The saved page in a real browser: press next, see the right step."""

    def shown(self, driver: Any, field: str) -> str:
        text: str = driver.find_element("css selector", f"[data-field={field}]").text
        return text

    def highlighted(self, driver: Any, cls: str) -> list[str]:
        found = driver.find_elements("css selector", f"g.{cls}")
        return [e.get_attribute("data-key") for e in found]

    @pytest.mark.parametrize("k", [1, 2, 5, 8])
    def test_next_k_times(self, browser: Any, tmp_path: Path, k: int) -> None:
        """After k presses of next, step k is shown: its node and input are
        highlighted, the edge between them too, the input's box shows its new
        grad, and the panel shows the step's numbers and every .grad so far."""
        g = diamond()
        rec = viz.backward_steps(g["o"])
        page = viz.stepper(g["o"]).save(tmp_path / "steps.html")
        names = page_data(page.read_text(encoding="utf-8"))["names"]
        browser.get(page.as_uri())
        assert browser.find_elements("css selector", ".ag-static") == []
        button = browser.find_element("css selector", "[data-act=next]")
        for _ in range(k):
            button.click()
        step = rec.steps[k - 1]
        assert self.shown(browser, "position") == f"step {k} of 8"
        current = self.highlighted(browser, "ag-current")
        assert [names[int(key[1:])] for key in current if key[0] == "v"] == [
            step.node.label
        ]
        target = self.highlighted(browser, "ag-target")
        assert [names[int(key[1:])] for key in target] == [step.input.label]
        edge = browser.find_elements("css selector", "path.ag-current")
        assert len(edge) == 1
        node, slot = edge[0].get_attribute("data-key")[1:].split(".")
        assert names[int(node)] == step.node.label and int(slot) == step.slot
        for field, want in [
            ("local", step.local),
            ("upstream", step.upstream),
            ("increment", step.increment),
            ("total", step.total),
        ]:
            assert close(self.shown(browser, field), want)
        box = browser.find_element("css selector", f"g[data-key={target[0]}]")
        grad_line = box.find_elements("tag name", "text")[-1].text
        assert grad_line.startswith("grad ") and close(grad_line[5:], step.total)
        self.check_grads(browser, rec, k)

    def check_grads(self, driver: Any, rec: viz.BackwardSteps, k: int) -> None:
        """The .grad table: each Value's gradient after the first k steps,
        accumulated here independently of the page."""
        want: dict[str, Any] = {}
        for s in rec.steps[:k]:
            want[s.input.label] = want.get(s.input.label, 0) + s.increment
        want[rec.out.label] = 1.0
        rows = driver.find_elements("css selector", "[data-field=grads] tr")
        got = {
            r.find_elements("tag name", "td")[0].text: r.find_elements(
                "tag name", "td"
            )[1].text
            for r in rows
        }
        assert set(got) == {"x", "y", "z", "h1", "h2", "h", "o"}
        for name, text in got.items():
            assert close(text, float(want.get(name, 0.0)))

    def test_prev_and_slider(self, browser: Any, tmp_path: Path) -> None:
        """prev steps back, stopping at the seed; the slider jumps to a step."""
        g = diamond()
        page = viz.stepper(g["o"]).save(tmp_path / "steps.html")
        browser.get(page.as_uri())
        browser.find_element("css selector", "[data-act=prev]").click()
        assert self.shown(browser, "position") == "step 0 of 8"
        assert self.highlighted(browser, "ag-current") == []
        slider = browser.find_element("css selector", "input[type=range]")
        browser.execute_script(
            "arguments[0].value = 6;arguments[0].dispatchEvent(new Event('input'));",
            slider,
        )
        assert self.shown(browser, "position") == "step 6 of 8"
        browser.find_element("css selector", "[data-act=prev]").click()
        assert self.shown(browser, "position") == "step 5 of 8"

    def test_inserted_like_a_notebook_output(
        self, browser: Any, tmp_path: Path
    ) -> None:
        """Inserted as a notebook inserts HTML output (innerHTML, then each script
        run from the document's head, as the classic notebook does), the stepper
        finds itself by its id and steps."""
        g = diamond()
        fragment = viz.stepper(g["o"])._repr_html_()
        blank = tmp_path / "blank.html"
        blank.write_text("<!doctype html><html><head></head><body></body></html>")
        browser.get(blank.as_uri())
        browser.execute_script(
            "var host = document.createElement('div');"
            "document.body.appendChild(host);"
            "host.innerHTML = arguments[0];"
            "host.querySelectorAll('script:not([type])').forEach(function (s) {"
            "  var run = document.createElement('script');"
            "  run.text = s.text; document.head.appendChild(run); });",
            fragment,
        )
        browser.find_element("css selector", "[data-act=next]").click()
        assert self.shown(browser, "position") == "step 1 of 8"
        assert close(self.shown(browser, "local"), 12.0)  # d(h*h)/dh at h = 12
