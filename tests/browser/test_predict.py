"""The Predict page in headless Chromium: a stored PDF's class probabilities, matches, 3D view and downloads.

Needs a trained model (``data/models/default`` or ``$SWAXS_MODELS``, which the
served dashboard inherits).  Screenshots go to ``tests/artifacts/`` (look at them).
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from PIL import Image

from swaxs_lib.io import read_measurement
from swaxs_lib.ml.catalog import SHAPE_CLASSES
from swaxs_lib.ml.models import default_model_dir
from swaxs_lib.store import Store
from tests.browser.conftest import ARTIFACTS, ROOT, save_screenshot
from tests.browser.test_dashboard import WAIT_MS, wait_idle

AU144 = ROOT / "tests" / "data" / "au144_pdf" / "Au144PET_100K-00000.gr"

pytestmark = pytest.mark.skipif(not (default_model_dir() / "manifest.json").is_file(),
                                reason="no trained model: data/models/default (or $SWAXS_MODELS) has no manifest.json")


def drawn_fraction(locator, name: str) -> tuple[float, int]:
    """Share of an element's pixels that are not near-white, and how many colours (coarse) they hold."""
    path = ARTIFACTS / f"{name}.png"
    locator.screenshot(path=str(path))
    pixels = np.asarray(Image.open(path).convert("RGB")).astype(int)
    drawn = pixels.sum(axis=-1) < 700
    return float(drawn.mean()), len({tuple(p // 32) for p in pixels[drawn][::7]})


def test_predict_page_draws_probabilities_matches_and_the_best_match_in_3d(app_url, app_db, page):
    dataset = Store(app_db).add_dataset("Au144 PET 100 K (predict)", AU144.read_bytes(), AU144.name,
                                        read_measurement(AU144)).id
    page.set_viewport_size({"width": 1400, "height": 2300})  # the whole page in one screenshot
    page.goto(f"{app_url}/predict?ds={dataset}")
    page.get_by_role("button", name="Matches (CSV)").wait_for(timeout=WAIT_MS)
    frame_element = page.locator('[data-testid="stMain"] iframe').first
    frame_element.content_frame.locator("canvas").first.wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1500)  # 3Dmol and plotly draw after their scripts load
    wait_idle(page)
    assert not page.get_by_text("Traceback").count()
    save_screenshot(page, "predict-au144")

    charts = page.locator('[data-testid="stPlotlyChart"]')
    assert charts.count() == 2
    bars = charts.nth(0).locator("g.barlayer path")
    assert bars.count() >= 1  # plotly draws one path per non-zero bar
    share, colours = drawn_fraction(charts.nth(0), "predict-au144-classes")
    assert share > 0.03 and colours >= 2, f"probability chart: {share:.1%} drawn, {colours} colours"
    share, _ = drawn_fraction(frame_element, "predict-au144-3d")
    assert share > 0.10, f"only {share:.1%} of the 3D view is drawn"

    with page.expect_download(timeout=WAIT_MS) as download:
        page.get_by_role("button", name="Matches (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert [int(r["rank"]) for r in rows] == [1, 2, 3, 4, 5]
    assert [float(r["rw"]) for r in rows] == sorted(float(r["rw"]) for r in rows)
    assert {"shape_class", "parameters", "element", "extent_nm", "n_atoms", "scale"} <= set(rows[0])

    with page.expect_download(timeout=WAIT_MS) as download:
        page.get_by_role("button", name="Class probabilities (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert [r["shape_class"] for r in rows] == list(SHAPE_CLASSES)
    assert sum(float(r["probability"]) for r in rows) == pytest.approx(1.0, abs=1e-4)
