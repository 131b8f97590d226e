"""The home page renders in a real browser from ``streamlit run app.py`` and lists the store."""

import numpy as np

from swaxs_lib.io import read_measurement_bytes
from swaxs_lib.store import Store
from tests.browser.conftest import save_screenshot


def test_home_page_renders_title_and_stored_datasets(app_url, app_db, page):
    import swaxs_lib

    raw = "\n".join(f"{q:.3f} {np.exp(-q):.6f}" for q in np.linspace(0.01, 0.5, 20)).encode()
    store = Store(app_db)
    store.add_dataset("Au NP run 7", raw, "run7.dat", read_measurement_bytes(raw, "run7.dat"))
    page.goto(app_url)
    page.get_by_text(f"Library version {swaxs_lib.__version__}").wait_for(timeout=30_000)
    assert page.get_by_role("heading", name="swaxs").is_visible()
    page.get_by_text(f"Stored datasets ({len(store.list_datasets())})").wait_for(timeout=30_000)
    assert not page.get_by_text("Traceback").count()
    shot = save_screenshot(page, "home")
    assert shot.stat().st_size > 5_000
