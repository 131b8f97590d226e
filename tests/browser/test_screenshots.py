"""A screenshot of every page in a realistic state, under tests/artifacts/ (``page-<name>.png``), for a person.

Each page is opened from its link (:mod:`tests.browser.states`) in a 1280 × 800 window and drawn in
full; the checks are what a screenshot would show wrong at a glance: a traceback, an error box, a
metric cut short with "…", a 3D view larger than its frame, a progress bar counting to zero.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import save_screenshot
from tests.browser.states import page_states, realistic_store, wait_idle


@pytest.fixture(scope="module")
def states(app_db):
    return page_states(realistic_store(app_db))


@pytest.fixture(scope="module")
def wide_page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # a laptop; the issue was seen here
    page = context.new_page()
    yield page
    context.close()


def whole_page_screenshot(page, name: str):
    """The whole page: Streamlit scrolls inside its main block, so the window is made as tall as that first."""
    height = page.evaluate("""() => Math.max(...[...document.querySelectorAll(
        '[data-testid="stMain"], [data-testid="stAppViewContainer"], [data-testid="stSidebarContent"]')]
        .map(e => e.scrollHeight))""")
    size = page.viewport_size
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], min(int(height) + 20, 8000))})
    try:
        wait_idle(page)
        return save_screenshot(page, name)
    finally:
        page.set_viewport_size(size)


NAMES = ("home", "data-pdf", "data-saxs", "clusters", "compare-pdf", "compare-iq", "refine", "relax", "relax-play",
         "predict", "analyse", "saxs-guinier", "saxs-fit", "saxs-distribution", "saxs-clusters", "saxs-indexing")
assert set(NAMES) == set(page_states({k: "x" for k in ("pt", "alumina", "agbeh", "au147", "sweep", "relax", "crystal",
                                                       "analyse")})), "every page state has a screenshot"
#: Pages whose realistic state needs a button pressed after the link opened (a fit is not run by a link).
PRESS = {"saxs-fit": "Fit"}


@pytest.mark.parametrize("name", NAMES)
def test_screenshot_of_every_page(app_url, states, wide_page, name):
    page = wide_page
    page.goto(app_url + states[name])
    page.get_by_role("heading").first.wait_for(timeout=90_000)
    wait_idle(page)
    if name in PRESS:
        page.get_by_role("button", name=PRESS[name], exact=True).click()
        wait_idle(page)
    shot = whole_page_screenshot(page, f"page-{name}")
    assert shot.stat().st_size > 20_000
    assert not page.get_by_text("Traceback").count()
    assert not page.locator('[data-testid="stException"]').count()
    # metrics show their whole value: no ellipsis, no text wider than its box
    cut = page.evaluate("""() => [...document.querySelectorAll(
            '[data-testid="stMetricValue"], [data-testid="stMetricValue"] *')]
        .filter(e => e.scrollWidth > e.clientWidth + 1 || e.innerText.includes('…'))
        .map(e => e.innerText)""")
    assert not cut, f"metrics cut short: {cut}"
    # a 3D view fits inside its iframe (3Dmol's canvas no wider or taller than the frame shows)
    for frame in page.frames[1:]:
        size = frame.evaluate("""() => { const c = document.querySelector('canvas');
            return c ? [c.clientWidth, c.clientHeight, window.innerWidth, window.innerHeight] : null; }""")
        if size is not None:
            width, height, frame_width, frame_height = size
            assert width <= frame_width and height <= frame_height, (name, size)
