"""The HTML graph page in a real headless Chromium (Debian's, driven by Playwright).

Screenshots of the demo and of 60-, 300- and 1,000-package synthetic repositories go to
``$MONOREPO_TEST_ARTIFACTS`` (default ``<repo>/.monorepo/test-artifacts/graph/``, which git
ignores); the DOM assertions cover zoom, pan, keys, fit, focus, jump-to-finding, search, filters
and the blocked/affected marks. The page must not ask for anything over the network.

Chromium comes from ``.ci/provision/chromium.sh`` (apt, never a browser download). Where it
cannot be installed the tests skip with the reason, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from monorepo_tools.cli import main
from monorepo_tools.commands.graph import graph_view
from monorepo_tools.config import load_config
from monorepo_tools.render.html import render_html
from monorepo_tools.render.select import focus_view
from monorepo_tools.workspace import load_workspace

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))

from chromium import ARGS, VIEWPORT, chromium_executable  # noqa: E402


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: a missing prerequisite fails the run)")
    pytest.skip(reason)


def artifacts_dir() -> Path:
    folder = Path(
        os.environ.get("MONOREPO_TEST_ARTIFACTS") or REPO / ".monorepo" / "test-artifacts" / "graph"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    script = REPO / ".ci" / "provision" / "chromium.sh"
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=900)
    executable = chromium_executable()
    if done.returncode != 0 or executable is None:
        _unavailable(f"chromium could not be provisioned: {done.stderr.strip()[-400:]}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pyproject test group)")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=ARGS)
        try:
            yield instance
        finally:
            instance.close()


@dataclass(frozen=True)
class Page:
    name: str
    root: Path
    html: Path


def _render(root: Path, out: Path, *extra: str) -> Path:
    code = main(
        ["graph", "--root", str(root), "--format", "html", "--no-cache", "-o", str(out), *extra]
    )
    assert code == 0
    return out


class Pages:
    """The pages under test, each generated and rendered on first use (once per worker)."""

    SIZES: ClassVar[dict[str, float]] = {"60": 0.04, "300": 0.005, "1000": 0.005}  # violation rate

    def __init__(self, base: Path) -> None:
        self.base = base
        self.made: dict[str, Page] = {}

    def __getitem__(self, name: str) -> Page:
        if name not in self.made:
            if name == "demo":
                self.made[name] = Page(name, REPO, _render(REPO, self.base / "demo.html"))
            else:
                from generate import generate

                root = self.base / f"repo{name}"
                generate(root, int(name), violation_rate=self.SIZES[name])
                html = _render(root, self.base / f"repo{name}.html")
                self.made[name] = Page(name, root, html)
        return self.made[name]


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Pages:
    return Pages(tmp_path_factory.mktemp("graph-pages"))


def _open(browser: Any, html: Path, query: str = "") -> Any:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(html.as_uri() + query)
    page.wait_for_selector("#graph[data-ready=true]", timeout=60_000)
    page.requests, page.errors = requests, errors  # checked by _close
    return page


def _close(page: Any) -> None:
    assert page.errors == []
    assert all(url.startswith("file://") for url in page.requests), page.requests
    page.context.close()


def _scale(page: Any) -> float:
    return float(page.get_attribute("#graph", "data-scale"))


def _viewport(page: Any) -> dict[str, float]:
    box = page.locator("#graph").bounding_box()
    assert box is not None
    return dict(box)


def _inside(inner: dict[str, float], outer: dict[str, float], slack: float = 1.0) -> bool:
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack
    )


_NODES_BOX = """() => {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  document.querySelectorAll('#graph g.node').forEach(g => {
    if (getComputedStyle(g).display === 'none') return;
    const r = g.querySelector('rect:not(.halo)').getBoundingClientRect();
    x0 = Math.min(x0, r.left); y0 = Math.min(y0, r.top);
    x1 = Math.max(x1, r.right); y1 = Math.max(y1, r.bottom);
  });
  return {x: x0, y: y0, width: x1 - x0, height: y1 - y0};
}"""


@pytest.mark.parametrize("name", ["demo", "60", "300", "1000"])
def test_screenshots_and_fit(browser: Any, pages: Pages, name: str) -> None:
    """Fit shows every package, using the window; screenshots at fit and zoomed in."""
    page = _open(browser, pages[name].html)
    outer = _viewport(page)
    nodes = page.evaluate(_NODES_BOX)
    assert _inside(nodes, outer), (nodes, outer)
    # Fit fills the window in at least one direction (not only the width).
    assert nodes["width"] > 0.6 * outer["width"] or nodes["height"] > 0.6 * outer["height"]
    # Every level is labelled in the picture, and the ruler labels the visible ones.
    levels = page.locator("g.level").count()
    assert levels == len(
        {
            int(v)
            for v in page.eval_on_selector_all(
                "g.node", "els => els.map(e => e.getAttribute('data-level'))"
            )
        }
    )
    # Readable at fit: either the picture's own labels are big enough on screen, or the ruler
    # labels the levels (at least every other one where bands are thinner than a label).
    readable = page.eval_on_selector_all(
        "g.level text", "els => els.filter(t => t.getBoundingClientRect().height >= 11).length"
    )
    ruler = page.locator("#ruler div").count()
    assert readable >= levels or ruler >= (levels + 1) // 2, (readable, ruler, levels)
    folder = artifacts_dir()
    page.screenshot(path=str(folder / f"{name}-fit.png"))
    if page.locator("#findings li button:not([disabled])").count():
        page.locator("#findings li button:not([disabled])").first.click()
        page.screenshot(path=str(folder / f"{name}-finding.png"))
    else:
        page.keyboard.press("1")
        page.screenshot(path=str(folder / f"{name}-actual-size.png"))
    _close(page)


def test_zoom_pan_keys(browser: Any, pages: Pages) -> None:
    page = _open(browser, pages["300"].html)
    outer = _viewport(page)
    fitted = _scale(page)
    cx, cy = outer["x"] + outer["width"] / 2, outer["y"] + outer["height"] / 2
    # The wheel zooms around the pointer: the drawing point under it stays put.
    before = page.evaluate(
        "([x, y]) => { const s = document.querySelector('#graph svg');"
        " const p = new DOMPoint(x, y).matrixTransform(s.getScreenCTM().inverse());"
        " return [p.x, p.y]; }",
        [cx + 100, cy + 50],
    )
    page.mouse.move(cx + 100, cy + 50)
    page.mouse.wheel(0, -600)
    page.wait_for_timeout(100)
    assert _scale(page) > fitted * 1.5
    after = page.evaluate(
        "([x, y]) => { const s = document.querySelector('#graph svg');"
        " const p = new DOMPoint(x, y).matrixTransform(s.getScreenCTM().inverse());"
        " return [p.x, p.y]; }",
        [cx + 100, cy + 50],
    )
    assert abs(after[0] - before[0]) < 2 and abs(after[1] - before[1]) < 2
    # Dragging pans by the distance dragged.
    view_before = [float(v) for v in page.get_attribute("#graph svg", "viewBox").split()]
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx - 200, cy - 120, steps=5)
    page.mouse.up()
    view_after = [float(v) for v in page.get_attribute("#graph svg", "viewBox").split()]
    k = _scale(page)
    assert view_after[0] - view_before[0] == pytest.approx(200 / k, rel=0.02)
    assert view_after[1] - view_before[1] == pytest.approx(120 / k, rel=0.02)
    # Keys: + and - zoom, arrows pan, 0 fits again, 1 is actual size.
    zoomed = _scale(page)
    page.keyboard.press("+")
    assert _scale(page) > zoomed
    page.keyboard.press("-")
    page.keyboard.press("-")
    assert _scale(page) < zoomed
    x = float(page.get_attribute("#graph svg", "viewBox").split()[0])
    page.keyboard.press("ArrowRight")
    assert float(page.get_attribute("#graph svg", "viewBox").split()[0]) > x
    page.keyboard.press("0")
    assert _scale(page) == pytest.approx(fitted, rel=0.01)
    box = [float(v) for v in page.get_attribute("#graph svg", "viewBox").split()]
    centre = (box[0] + box[2] / 2, box[1] + box[3] / 2)
    page.keyboard.press("1")
    assert _scale(page) == pytest.approx(1.0)
    box = [float(v) for v in page.get_attribute("#graph svg", "viewBox").split()]
    assert box[0] + box[2] / 2 == pytest.approx(centre[0], abs=1)  # zoomed about the centre
    assert box[1] + box[3] / 2 == pytest.approx(centre[1], abs=1)
    page.click("#fit")
    assert _scale(page) == pytest.approx(fitted, rel=0.01)
    page.click("#zoom-in")
    assert _scale(page) > fitted
    _close(page)


def _visible_nodes(page: Any) -> set[str]:
    return set(
        page.eval_on_selector_all(
            "#graph g.node",
            "els => els.filter(e => getComputedStyle(e).display !== 'none')"
            ".map(e => e.getAttribute('data-name'))",
        )
    )


def _view_of(root: Path) -> Any:
    return graph_view(load_workspace(load_config(root, []), use_cache=False), findings=True)


def test_focus_query_shows_the_same_neighbourhood_as_the_cli(browser: Any, pages: Pages) -> None:
    view = _view_of(pages["300"].root)
    middle = view.levels[len(view.levels) // 2][0]
    expected = {node.name for node in focus_view(view, middle, 2).nodes}
    assert 3 < len(expected) < len(view.nodes)
    page = _open(browser, pages["300"].html, f"?focus={middle}&depth=2")
    assert _visible_nodes(page) == expected
    assert page.get_attribute("#graph", "data-focus") == middle
    # The package itself is pinned: its details in the panel, its two directions coloured.
    assert page.locator(f'g.node.focus[data-name="{middle}"]').count() == 1
    assert page.inner_text("#panel-body h2") == middle
    assert middle in page.inner_text("#focus-bar") and "depth 2" in page.inner_text("#focus-bar")
    assert _inside(page.evaluate(_NODES_BOX), _viewport(page))
    page.screenshot(path=str(artifacts_dir() / "300-focus.png"))
    # depth - narrows it to depth 1; "show all" brings every package back.
    page.click("#focus-less")
    assert _visible_nodes(page) == {node.name for node in focus_view(view, middle, 1).nodes}
    page.click("#focus-clear")
    assert len(_visible_nodes(page)) == len(view.nodes)
    _close(page)
    # A name that is not in the graph is reported, and nothing is hidden.
    page = _open(browser, pages["300"].html, "?focus=no-such-package&depth=1")
    assert "no package named no-such-package" in page.inner_text("#focus-bar")
    assert len(_visible_nodes(page)) == len(view.nodes)
    _close(page)


def test_jump_to_each_finding(browser: Any, pages: Pages) -> None:
    view = _view_of(pages["1000"].root)
    assert view.findings
    page = _open(browser, pages["1000"].html)
    outer = _viewport(page)
    buttons = page.locator("#findings li button")
    assert buttons.count() == len(view.findings)
    for i, finding in enumerate(view.findings):
        buttons.nth(i).click()
        assert page.get_attribute("#graph", "data-finding") == str(i)
        assert "current" in (page.locator("#findings li").nth(i).get_attribute("class") or "")
        if finding.target:
            edge = page.locator(
                f'g.edge.current[data-source="{finding.package}"][data-target="{finding.target}"]'
            )
            assert edge.count() == 1
            box = edge.bounding_box()
        else:
            box = page.locator(f'g.node.current[data-name="{finding.package}"]').bounding_box()
        assert box is not None and _inside(box, outer, slack=4), (box, outer)
        assert page.inner_text("#panel-body h2") == finding.package
    # v steps on to the next finding.
    page.keyboard.press("v")
    assert page.get_attribute("#graph", "data-finding") == "0"
    page.screenshot(path=str(artifacts_dir() / "1000-jump.png"))
    _close(page)


def test_search_scrolls_to_and_steps_through_matches(browser: Any, pages: Pages) -> None:
    view = _view_of(pages["300"].root)
    query = "pkg-0012"
    expected = sorted(node.name for node in view.nodes if query in node.name)
    assert len(expected) >= 3
    page = _open(browser, pages["300"].html)
    outer = _viewport(page)
    page.fill("#search", query)
    assert page.inner_text("#match-count") == f"{len(expected)} matches"
    assert (
        sorted(page.eval_on_selector_all("g.node.match", "e => e.map(g => g.dataset.name)"))
        == expected
    )
    seen = []
    for step in range(1, 4):
        page.press("#search", "Enter")
        assert page.inner_text("#match-count") == f"{step} / {len(expected)}"
        current = page.locator("g.node.current")
        assert current.count() == 1
        box = current.bounding_box()
        assert box is not None
        # Centred in the window, at a readable size.
        assert abs(box["x"] + box["width"] / 2 - (outer["x"] + outer["width"] / 2)) < 3
        assert abs(box["y"] + box["height"] / 2 - (outer["y"] + outer["height"] / 2)) < 3
        assert _scale(page) >= 1
        seen.append(current.get_attribute("data-name"))
    assert len(set(seen)) == 3 and set(seen) <= set(expected)
    page.press("#search", "Shift+Enter")
    assert page.inner_text("#match-count") == f"2 / {len(expected)}"
    assert page.locator("g.node.current").get_attribute("data-name") == seen[1]
    page.screenshot(path=str(artifacts_dir() / "300-search.png"))
    _close(page)


def test_filters_blocked_marks_and_counts(browser: Any, pages: Pages) -> None:
    view = _view_of(pages["300"].root)
    page = _open(browser, pages["300"].html)
    counts = page.inner_text("#counts")
    assert f"{len(view.findings or ())} findings" in counts
    assert f"{len(view.blocked)} blocked" in counts
    assert page.locator("g.node.blocked").count() == len(view.blocked) > 0
    page.uncheck('#filters input[value="internal"]')
    filtered = set(page.eval_on_selector_all("g.node.filtered", "e => e.map(g => g.dataset.name)"))
    assert filtered == {node.name for node in view.nodes if node.status == "internal"}
    page.check('#filters input[value="internal"]')
    page.check('#filters input[data-filter="problems"]')
    kept = set(
        page.eval_on_selector_all("g.node:not(.filtered)", "e => e.map(g => g.dataset.name)")
    )
    assert kept == set(view.blocked) | {f.package for f in view.findings or ()}
    # Edges a longer path implies are drawn faint and can be hidden.
    implied = "() => getComputedStyle(document.querySelector('g.edges.implied')).display"
    assert page.locator("g.edges.implied g.edge").count() > 0
    assert page.evaluate(implied) != "none"
    page.uncheck('#filters input[data-filter="implied"]')
    assert page.evaluate(implied) == "none"
    _close(page)


def test_affected_filter_and_marks(browser: Any, tmp_path: Path) -> None:
    workspace = load_workspace(load_config(REPO, []), use_cache=False)
    view = graph_view(workspace, findings=True, affected=["runner-core", "agent-adapters"])
    html = tmp_path / "affected.html"
    html.write_text(render_html(view), encoding="utf-8")
    page = _open(browser, html)
    assert set(page.eval_on_selector_all("g.node.affected", "e => e.map(g => g.dataset.name)")) == {
        "runner-core",
        "agent-adapters",
    }
    assert page.locator("g.node.affected rect.halo").count() == 2
    page.check('#filters input[data-filter="affected"]')
    kept = set(
        page.eval_on_selector_all("g.node:not(.filtered)", "e => e.map(g => g.dataset.name)")
    )
    assert kept == {"runner-core", "agent-adapters"}
    page.screenshot(path=str(artifacts_dir() / "demo-affected.png"))
    _close(page)
