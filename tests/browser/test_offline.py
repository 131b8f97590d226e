"""No page asks any host but the dashboard's own for anything (an offline lab server must work whole).

Every request of every frame (the page, the 3D views' and the link button's iframes) is recorded
with Playwright's ``request`` event while each page is opened in a realistic state
(:mod:`tests.browser.states`); a request to another host fails the test, and is refused, as an
offline network would.
"""

from __future__ import annotations

from urllib.parse import urlparse

import pytest

from tests.browser.states import page_states, realistic_store, wait_idle

LOCAL_HOSTS = {"127.0.0.1", "localhost", ""}
LOCAL_SCHEMES = {"data", "blob", "about", "chrome-extension"}


def _external(url: str) -> bool:
    parts = urlparse(url)
    return parts.scheme not in LOCAL_SCHEMES and (parts.hostname or "") not in LOCAL_HOSTS


@pytest.fixture(scope="module")
def states(app_db):
    return page_states(realistic_store(app_db))


def test_no_page_requests_anything_from_another_host(app_url, states, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    requests: list[tuple[str, str]] = []
    current = {"name": ""}
    context.on("request", lambda r: requests.append((current["name"], r.url)))
    context.route(lambda url: _external(url), lambda route: route.abort("internetdisconnected"))
    page = context.new_page()
    try:
        for name, link in states.items():
            current["name"] = name
            page.goto(app_url + link)
            page.get_by_role("heading").first.wait_for(timeout=90_000)
            wait_idle(page)
            assert not page.get_by_text("Traceback").count(), name
    finally:
        context.close()
    pages = {name for name, _ in requests}
    assert pages == set(states), f"no request recorded for {set(states) - pages}"
    assert any("3Dmol-min.js" in url for _, url in requests), "the 3D views' script was never loaded"
    external = sorted({f"{name}: {url}" for name, url in requests if _external(url)})
    assert not external, "requests to other hosts:\n" + "\n".join(external)
