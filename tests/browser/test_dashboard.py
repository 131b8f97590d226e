"""The dashboard in headless Chromium against a real ``streamlit run app.py``: the paths a user takes.

Upload a measured file, build a decahedron and see it drawn in 3D, move a
slider on the Compare page and see R_w change, reopen the copied link in a
fresh browser and see the same view, download a CSV and read it back.
Screenshots go to ``tests/artifacts/`` (look at them).
"""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import expect

from swaxs_lib.io import read_measurement
from swaxs_lib.store import Store
from tests.browser.conftest import ROOT, save_screenshot

AU144 = ROOT / "tests" / "data" / "au144_pdf" / "Au144PET_100K-00000.gr"
WAIT_MS = 60_000


def wait_idle(page) -> None:
    """Until Streamlit has finished the current run (its status widget gone) and drawn."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS
    )
    page.wait_for_timeout(300)


def rw_value(page, candidate: int = 1) -> str:
    metric = page.locator('[data-testid="stMetric"]', has_text=f"R_w, candidate {candidate}")
    metric.wait_for(timeout=WAIT_MS)
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


@pytest.fixture(scope="module")
def au144_id(app_db) -> str:
    """The measured Au144 PDF, stored once for the Compare tests."""
    m = read_measurement(AU144)
    return Store(app_db).add_dataset("Au144 PET 100 K", AU144.read_bytes(), AU144.name, m).id


def test_upload_a_measured_pdf_and_store_it(app_url, app_db, page):
    page.goto(f"{app_url}/data")
    page.get_by_text("Measured curves: drag and drop").wait_for(timeout=WAIT_MS)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(AU144))
    page.get_by_text("3001 points").first.wait_for(timeout=WAIT_MS)
    page.get_by_role("button", name="Save to store").first.click()
    page.get_by_text("Stored").first.wait_for(timeout=WAIT_MS)
    wait_idle(page)
    save_screenshot(page, "data-upload")
    stored = [d for d in Store(app_db).list_datasets() if d.filename == AU144.name]
    assert stored and stored[0].kind == "gr" and stored[0].n_points == 3001
    assert not page.get_by_text("Traceback").count()


def test_a_bad_upload_names_file_and_line_and_stores_nothing(app_url, app_db, page, tmp_path):
    before = {d.id for d in Store(app_db).list_datasets()}
    bad = tmp_path / "broken_run.dat"
    bad.write_text("# Q I\n0.10 5.0\n0.20 4.1\n0.30 oops\n")
    page.goto(f"{app_url}/data")
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(bad))
    error = page.locator('[data-testid="stAlertContentError"]').first
    error.wait_for(timeout=WAIT_MS)
    text = error.inner_text()
    assert "broken_run.dat" in text and "line 4" in text, text
    assert not page.get_by_text("Traceback").count()
    assert not page.get_by_role("button", name="Save to store").count()
    save_screenshot(page, "data-bad-upload")
    assert {d.id for d in Store(app_db).list_datasets()} == before


def test_decahedron_is_drawn_in_3d(app_url, page):
    page.goto(f"{app_url}/clusters?shape=decahedron&el=Au&p=4&q=1&r=2&color=coordination")
    page.get_by_text("Au403 decahedron").first.wait_for(timeout=WAIT_MS)
    frame_element = page.locator('[data-testid="stMain"] iframe').first
    frame_element.wait_for(timeout=WAIT_MS)
    frame = frame_element.content_frame
    frame.locator("canvas").first.wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1500)  # 3Dmol draws after the script loads
    wait_idle(page)
    save_screenshot(page, "clusters-decahedron")
    shot = ROOT / "tests" / "artifacts" / "clusters-decahedron-3d.png"
    frame_element.screenshot(path=str(shot))
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    drawn = (pixels.sum(axis=-1) < 700).mean()
    colours = len({tuple(p // 32) for p in pixels[pixels.sum(axis=-1) < 700][::7]})
    assert drawn > 0.15, f"only {drawn:.1%} of the 3D view is drawn"
    assert colours >= 4, "colour by coordination should give several colours"


def test_slider_changes_rw_and_the_copied_link_reopens_the_same_view(app_url, au144_id, browser, page):
    page.goto(f"{app_url}/compare?ds={au144_id}&c1_shape=decahedron&c1_p=3&c1_q=1&c1_r=1&u=0.006")
    first = rw_value(page)
    wait_idle(page)
    slider = page.get_by_role("slider", name="Displacement U_iso (Å²)")
    slider.focus()
    for _ in range(10):  # steps of 0.001 Å², each redrawn before the next (a user watching the curve)
        slider.press("ArrowRight")
        page.wait_for_timeout(100)
        wait_idle(page)
    page.wait_for_function(
        "(v) => [...document.querySelectorAll('[data-testid=\"stMetricValue\"]')].some(e => e.innerText.trim() !== v)",
        arg=first, timeout=WAIT_MS,
    )
    page.wait_for_timeout(1000)
    wait_idle(page)
    b_now = float(slider.get_attribute("aria-valuetext"))
    assert abs(b_now - 0.016) < 1e-9
    second = rw_value(page)
    assert second != first
    save_screenshot(page, "compare-after-slider")

    b_text = f"{b_now:.6g}"
    page.wait_for_function("(b) => new URLSearchParams(location.search).get('u') === b", arg=b_text, timeout=WAIT_MS)
    link_box = page.locator('[data-testid="stSidebar"] iframe').first.content_frame.locator("#url")
    expect(link_box).to_have_value(re.compile(rf"[?&]u={re.escape(b_text)}(&|$)"), timeout=WAIT_MS)
    link = link_box.input_value()
    params = parse_qs(urlparse(link).query)
    assert params["u"] == [b_text] and params["ds"] == [au144_id] and params["c1_p"] == ["3"]

    fresh = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        other = fresh.new_page()
        other.goto(link)
        assert rw_value(other) == second
        shown = other.get_by_role("slider", name="Displacement U_iso (Å²)").get_attribute("aria-valuetext")
        assert float(shown) == b_now
        wait_idle(other)
        save_screenshot(other, "compare-from-copied-link")
    finally:
        fresh.close()


def test_curves_download_as_csv_with_units(app_url, au144_id, page):
    page.goto(f"{app_url}/compare?ds={au144_id}&c1_shape=icosahedron&c1_shells=4")
    rw = float(rw_value(page))
    wait_idle(page)
    with page.expect_download(timeout=WAIT_MS) as download:
        page.get_by_role("button", name="Curves 1 (CSV)").click()
    text = download.value.path().read_text()
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], np.array(rows[1:], dtype=float)
    assert header[:5] == ["r_angstrom", "data_g_inv_angstrom2", "model_g_inv_angstrom2", "fitted_g_inv_angstrom2",
                          "residual_g_inv_angstrom2"]
    measured = read_measurement(AU144)
    np.testing.assert_allclose(body[:, 0], measured.x, rtol=1e-12)
    np.testing.assert_allclose(body[:, 1], measured.values, rtol=1e-12)
    # R_w over the in-fit points, recomputed from the downloaded columns (uniform weights for G(r))
    fit = body[:, 5] == 1
    data, fitted = body[fit, 1], body[fit, 3]
    assert np.sqrt(np.sum((data - fitted) ** 2) / np.sum(data**2)) == pytest.approx(rw, abs=6e-5)


def test_home_links_reach_every_page(app_url, page):
    page.goto(app_url)
    for name, heading in [("Data", "Data"), ("Clusters", "Clusters"), ("Compare", "Compare")]:
        page.locator('[data-testid="stMain"]').get_by_role("link", name=name).first.click()
        page.get_by_role("heading", name=heading, exact=True).first.wait_for(timeout=WAIT_MS)
        assert re.search(rf"/{name.lower()}(\?|$)", page.url), page.url
        page.goto(app_url)


def test_a_sweep_survives_closing_the_tab_and_its_link_shows_the_ranking(app_url, au144_id, browser):
    first = browser.new_context(viewport={"width": 1280, "height": 900})
    page = first.new_page()
    page.goto(f"{app_url}/refine?ds={au144_id}&shape=decahedron&grid=p%3D2..3%2Cq%3D1%2Cr%3D0..1&workers=1")
    page.get_by_role("button", name="Start the sweep").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('job')", timeout=WAIT_MS)
    link = page.url
    page.get_by_text("4 candidate(s)").first.wait_for(timeout=WAIT_MS)
    save_screenshot(page, "refine-started")
    first.close()  # the tab is closed while the sweep runs

    second = browser.new_context(viewport={"width": 1280, "height": 1000})
    try:
        other = second.new_page()
        other.goto(link)
        other.get_by_role("button", name="Ranking (CSV)").wait_for(timeout=180_000)
        wait_idle(other)
        save_screenshot(other, "refine-ranking")
        assert other.get_by_text("best: Au decahedron").count()
        with other.expect_download(timeout=WAIT_MS) as download:
            other.get_by_role("button", name="Ranking (CSV)").click()
        rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
        assert [int(r["rank"]) for r in rows] == [1, 2, 3, 4]
        assert [float(r["rw"]) for r in rows] == sorted(float(r["rw"]) for r in rows)
        # what the data can tell is on the page: the test's legend, and (p = 2..3) the grid's edge
        assert rows[0]["indistinguishable_from_best"] == "1"
        assert other.get_by_text("statistically indistinguishable from rank 1").count()
        assert other.get_by_text("lies on the edge of the grid").count()
        assert other.get_by_role("button", name="Sweep the extended grid").count() == 1
    finally:
        second.close()
