"""The Analyse page in headless Chromium: a finished analysis's link shows its ranking, and the best row's
Compare hand-off opens Compare with the same R_w (issue 15, item 2).

The analysis is the small one of tests/test_pages_analyse.py (a synthetic Au147 icosahedron G(r); icosahedra
and decahedra, three of each, the best relaxed), run in this process against the test dashboard's store.
The R_w Compare shows is computed by the Compare page from the link; it must equal the analysis row's R_w
to 3 decimals (the row's fit refined scale with the rest; Compare fits the scale exactly at the same
values).  Screenshots go to ``tests/artifacts/`` (look at them).
"""

from __future__ import annotations

from swaxs_lib.store import Store
from tests.browser.conftest import save_screenshot
from tests.browser.test_dashboard import WAIT_MS, wait_idle
from tests.browser.test_handoffs import _follow, _metric
from tests.test_pages_analyse import ARGS, add, au147_gr


def test_an_analysis_link_shows_the_ranking_and_its_best_row_opens_in_compare(app_url, app_db, page):
    import swaxs_lib.analyse.pipeline  # noqa: F401  (registers the task)
    from swaxs_lib.analyse.result import AnalysisResult
    from swaxs_lib.jobs import submit

    db = Store(app_db)
    dataset = add(db, "Au147 (synthetic, analyse)", au147_gr(), "au147.gr")
    job = submit(db, "analyse", {"dataset_id": dataset, **ARGS}, dataset_id=dataset, detach=False,
                 label="analyse Au vs Au147 (browser test)")
    assert job.status == "done", job.message
    best = AnalysisResult.from_json(job.result).rows[0]
    page.set_viewport_size({"width": 1400, "height": 3200})
    page.goto(f"{app_url}/analyse?job={job.id}")
    page.get_by_role("heading", name="Ranking").first.wait_for(timeout=WAIT_MS)
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=WAIT_MS)
    assert _metric(page, "R_w (best)") == f"{best.rw:.4f}"
    assert page.locator('[data-testid="stAlert"]', has_text=f"best: {best.label}").count()
    shown = _metric(page, "R_w in Compare")
    wait_idle(page)
    assert not page.get_by_text("Traceback").count()
    assert page.get_by_text("What the data cannot decide").count()
    save_screenshot(page, "analyse")
    compare = _follow(page, "Open in Compare")
    assert f"{float(compare):.3f}" == f"{best.rw:.3f}" and compare == shown
    save_screenshot(page, "analyse-compare")
