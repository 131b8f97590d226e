"""The home page renders in a real browser from ``streamlit run app.py``."""

from tests.browser.conftest import save_screenshot


def test_home_page_renders_title_and_version(app_url, page):
    import swaxs_lib

    page.goto(app_url)
    page.get_by_text(f"Library version {swaxs_lib.__version__}").wait_for(timeout=30_000)
    assert page.get_by_role("heading", name="swaxs").is_visible()
    assert not page.get_by_text("Traceback").count()
    shot = save_screenshot(page, "home")
    assert shot.stat().st_size > 5_000
