"""The dashboard in a real browser: Playwright driving Debian's Chromium (``make test`` installs it).

Every page loads with no console error and fetches nothing from another host, on the demo's use
case after the loop and on a use case with nothing run yet; sorting, paging, comparing, the drift
click-through, keyboard navigation and one action (rollback) work end to end; a screenshot is
not blank. The rollback test changes the demo's champion, so it runs last in this module.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.ui.conftest import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
PAGES = ("", "design", "experiments", "models", "monitoring", "decisions", "review")

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's Chromium is missing: `make test` installs it (apt-get install chromium)"
)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield chromium
        chromium.close()


class Watched:
    """A page whose console errors, uncaught exceptions and requests to other hosts are collected."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1366, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", self._request)

    def _request(self, request: Any) -> None:
        host = urlparse(request.url).hostname
        if request.url.startswith("http") and host not in ("127.0.0.1", "localhost"):
            self.outside.append(request.url)

    def open(self, url: str) -> Any:
        response = self.page.goto(url, wait_until="networkidle")
        assert response is not None and response.status == 200, url
        return self.page

    def clean(self) -> None:
        assert self.errors == [] and self.outside == []


@pytest.fixture
def watched(browser: Any) -> Iterator[Watched]:
    tab = Watched(browser)
    yield tab
    tab.context.close()


@pytest.mark.parametrize("which", ["demo_server", "fresh_server"])
def test_every_page_loads_without_a_console_error(which: str, request: pytest.FixtureRequest, watched: Watched) -> None:
    server: LiveServer = request.getfixturevalue(which)
    slug = next(iter(server.server.config.app.state.dashboard.sites))
    for name in PAGES:
        page = watched.open(f"{server.url}/uc/{slug}/{name}")
        assert page.locator("h1").count() == 1 and page.locator("main").inner_text().strip()
    watched.clean()


def test_charts_draw_from_the_bundled_plotly(demo_server: LiveServer, watched: Watched) -> None:
    slug = next(iter(demo_server.server.config.app.state.dashboard.sites))
    page = watched.open(f"{demo_server.url}/uc/{slug}/monitoring")
    assert page.locator("#chart-metric .main-svg").count() >= 1 and page.locator("#chart-money .main-svg").count() >= 1
    assert page.locator("#windows tbody tr").count() >= 5  # the charts' table alternative
    watched.clean()


def _column(page: Any, header: str) -> list[str]:
    headers = [h.strip().rstrip(" ▲▼") for h in page.locator("#leaderboard thead th").all_inner_texts()]
    index = headers.index(header)
    cells = page.locator(f"#leaderboard tbody tr:not(.baseline) td:nth-child({index + 1})").all_inner_texts()
    return [c.strip() for c in cells]


def test_sorting_paging_and_comparing(demo_server: LiveServer, watched: Watched) -> None:
    slug = next(iter(demo_server.server.config.app.state.dashboard.sites))
    page = watched.open(f"{demo_server.url}/uc/{slug}/experiments?size=10&state=any")
    page.get_by_role("link", name="mae", exact=True).click()
    page.wait_for_load_state("networkidle")
    maes = [float(v.replace(",", "")) for v in _column(page, "mae") if v != "—"]
    assert len(maes) > 5 and maes == sorted(maes)
    page.get_by_role("link", name="mae ▲").click()  # again: high to low
    page.wait_for_load_state("networkidle")
    descending = [float(v.replace(",", "")) for v in _column(page, "mae") if v != "—"]
    assert descending == sorted(descending, reverse=True) and descending[0] >= maes[-1]
    runs = "#leaderboard input[name=run]"
    first_page = {b.get_attribute("value") for b in page.locator(runs).all()}
    page.get_by_role("link", name="next →").click()
    page.wait_for_load_state("networkidle")
    second_page = {b.get_attribute("value") for b in page.locator(runs).all()}
    assert "page 2 of" in page.locator(".pager").inner_text() and second_page
    assert not first_page & second_page
    assert page.locator("#compare").is_disabled()  # nothing selected yet
    boxes = page.locator("#leaderboard input[name=run]")
    boxes.nth(0).check()
    boxes.nth(1).check()
    assert page.locator("#compare").is_enabled()
    page.locator("#compare").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#comparison thead th").count() == 3  # the label column and two trials
    page.wait_for_selector("#tradeoff .main-svg")
    watched.clean()


def test_drift_heat_map_clicks_through_to_one_feature(demo_server: LiveServer, watched: Watched) -> None:
    slug = next(iter(demo_server.server.config.app.state.dashboard.sites))
    page = watched.open(f"{demo_server.url}/uc/{slug}/monitoring")
    cell = page.locator("#drift tbody tr", has_text="price").locator("td a").last
    cell.click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Drift of price"
    assert page.locator("#bins tbody tr").count() >= 5
    page.wait_for_selector("#chart-histogram .main-svg")
    watched.clean()


def test_keyboard_reaches_the_content_first(demo_server: LiveServer, watched: Watched) -> None:
    slug = next(iter(demo_server.server.config.app.state.dashboard.sites))
    page = watched.open(f"{demo_server.url}/uc/{slug}/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")
    watched.clean()


def test_a_screenshot_of_the_overview_is_not_blank(demo_server: LiveServer, watched: Watched, tmp_path: Path) -> None:
    from PIL import Image, ImageStat

    slug = next(iter(demo_server.server.config.app.state.dashboard.sites))
    page = watched.open(f"{demo_server.url}/uc/{slug}/")
    shot = page.screenshot(full_page=True)
    image = Image.open(io.BytesIO(shot)).convert("L")
    stat = ImageStat.Stat(image)
    assert image.size[0] == 1366 and stat.stddev[0] > 20  # text and tables, not one flat colour
    assert len(image.getcolors(maxcolors=1 << 16) or []) > 20
    watched.clean()


def test_rollback_from_the_review_page(demo_server: LiveServer, watched: Watched, demoed: tuple[Path, str]) -> None:
    import mlcycle

    uc = mlcycle.UseCase.load(demoed[0])
    if uc.status().previous is None:  # the demo's challenger did not beat the champion: give it a version to leave
        uc.promote(force=True, reason="a second version for the rollback test")
    before = uc.status()
    assert before.champion is not None and before.previous is not None
    slug = next(iter(demo_server.server.config.app.state.dashboard.sites))
    page = watched.open(f"{demo_server.url}/uc/{slug}/review")
    page.locator("form[aria-label='Roll back'] input[name=reason]").fill("a bad week after the retrain")
    page.locator("#do-rollback").click()
    page.wait_for_selector("#job-state:text('done')", timeout=30_000)
    after = uc.status()
    assert after.champion == before.previous
    row = page.locator("#actions tbody tr").first.inner_text()
    assert "rollback" in row and "✔ done" in row and "local user" in row
    watched.clean()
