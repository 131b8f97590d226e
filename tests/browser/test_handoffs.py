"""Hand-offs to Compare in headless Chromium: the link carries the whole model, and Compare shows the same R_w.

For each source page (Predict's library match, Refine's ranked candidate, Relax's refit at a step) the
test reads the page's "R_w in Compare" metric, clicks its link, and reads Compare's R_w metric (4
decimals): they must be equal.  Following the link inside one browser session is the path a user takes
(the session already holds the Compare page's earlier values; the link's must win).  The jobs are
submitted through :func:`swaxs_lib.jobs.submit` with the arguments the pages send.  Screenshots go to
``tests/artifacts/`` (look at them).
"""

from __future__ import annotations

import time

import pytest

from swaxs_lib.io import read_measurement
from swaxs_lib.ml.models import default_model_dir
from swaxs_lib.store import Store
from tests.browser.conftest import ROOT, save_screenshot
from tests.browser.test_dashboard import WAIT_MS, rw_value, wait_idle
from tests.browser.test_live_plot import FRAME as LIVE_PLOT

AU144 = ROOT / "tests" / "data" / "au144_pdf" / "Au144PET_100K-00000.gr"
PT_JQ = ROOT / "tests" / "data" / "pt_np_jq_pdf" / "JQ_S1.gr"
JOB_LIMIT_S = 300


def _store_file(app_db, path, name: str) -> str:
    return Store(app_db).add_dataset(name, path.read_bytes(), path.name, read_measurement(path)).id


def _metric(page, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]', has_text=label).first
    metric.wait_for(timeout=WAIT_MS)
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _follow(page, link: str) -> str:
    """Click ``link`` and return Compare's R_w once it has drawn."""
    page.get_by_role("link", name=link).first.click()
    page.wait_for_url("**/compare?**", timeout=WAIT_MS)
    page.frame_locator(LIVE_PLOT).locator(".js-plotly-plot").wait_for(timeout=WAIT_MS)  # drawn in the browser
    wait_idle(page)
    assert not page.get_by_text("Traceback").count()
    assert not page.get_by_text("ignored (").count(), "Compare refused a value of the link"
    return rw_value(page)


def _wait_done(app_db, job_id: str):
    from swaxs_lib.jobs import get_job

    deadline = time.time() + JOB_LIMIT_S
    while get_job(Store(app_db), job_id).status in ("queued", "running") and time.time() < deadline:
        time.sleep(1.0)
    record = get_job(Store(app_db), job_id)
    assert record.status == "done", record.message
    return record


@pytest.mark.skipif(not (default_model_dir() / "manifest.json").is_file(),
                    reason="no trained model: data/models/default (or $SWAXS_MODELS) has no manifest.json")
def test_predict_match_opens_in_compare_with_the_same_rw(app_url, app_db, page):
    dataset = _store_file(app_db, PT_JQ, "Pt nanoparticles JQ S1 (hand-off)")
    page.set_viewport_size({"width": 1400, "height": 2300})
    # this session has been on Compare with other values: the link's must replace every one of them
    page.goto(f"{app_url}/compare?ds={dataset}&c1_shape=icosahedron&c1_el=Pt&c1_shells=4&zoom=1.05&u=0.02"
              "&qdamp=0&delta2=2&xr=3,20&qmin=0.5&qmax=25")
    rw_value(page)
    wait_idle(page)
    page.get_by_role("link", name="Predict").first.click()  # in-app navigation: the same session
    page.wait_for_url("**/predict**", timeout=WAIT_MS)
    shown = _metric(page, "R_w in Compare")
    assert f"ds={dataset}" in page.url
    wait_idle(page)
    save_screenshot(page, "handoff-predict")
    assert _follow(page, "Open in Compare") == shown
    save_screenshot(page, "handoff-predict-compare")


def test_refine_candidate_opens_in_compare_with_the_same_rw(app_url, app_db, page):
    import swaxs_lib.sweep  # noqa: F401  (registers the sweep task)
    from swaxs_lib.jobs import submit

    db = Store(app_db)
    dataset = _store_file(app_db, AU144, "Au144 PET 100 K (hand-off refine)")
    options = {"x_min": 2.2, "x_max": 24.0, "fix": ["qdamp"], "start": {"qdamp": 0.04}}
    job = submit(db, "sweep", {"dataset_id": dataset, "shape": "decahedron", "element": "Au",
                               "grid": "p=2..3,q=1,r=0", "options": options, "workers": 1},
                 dataset_id=dataset, label="sweep Au decahedron (hand-off test)")
    _wait_done(app_db, job.id)
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.goto(f"{app_url}/refine?job={job.id}")
    shown = _metric(page, "R_w in Compare")
    wait_idle(page)
    save_screenshot(page, "handoff-refine")
    assert _follow(page, "Open in Compare") == shown
    save_screenshot(page, "handoff-refine-compare")


def test_relaxed_structure_opens_in_compare_with_the_same_rw(app_url, app_db, page):
    import swaxs_lib.relax  # noqa: F401  (registers the relax task)
    from swaxs_lib.jobs import submit
    from swaxs_lib.relax import job_trace

    db = Store(app_db)
    dataset = _store_file(app_db, AU144, "Au144 PET 100 K (hand-off relax)")
    job = submit(db, "relax", {"cluster": {"shape": "decahedron", "element": "Au", "params": {"p": 2, "q": 1, "r": 1}},
                               "dataset_id": dataset, "optimizer": "BFGS", "fmax": 0.05, "steps": 8,
                               "refit_every": 4}, dataset_id=dataset, label="relax Au decahedron (hand-off test)")
    record = _wait_done(app_db, job.id)
    last = job_trace(record.result).steps[-1]
    page.set_viewport_size({"width": 1400, "height": 2400})
    page.goto(f"{app_url}/relax?job={job.id}&step={last.step}")
    shown = _metric(page, f"R_w in Compare, step {last.step}")
    assert shown == f"{last.rw:.4f}"
    wait_idle(page)
    save_screenshot(page, "handoff-relax")
    assert _follow(page, "Open this structure in Compare") == shown
    save_screenshot(page, "handoff-relax-compare")
