"""The Data page's upload in headless Chromium: what a person sees when an upload goes wrong, or twice.

A file just over the size cap is refused by the browser itself (Streamlit's uploader never sends
it): the page must say so in its body, not only in the chip's hover text.  A SAXS curve in 1/nm
uploaded with a PDF gets its own reading options and a unit warning before saving; the same bytes
uploaded again are offered as the stored dataset; a failed job's reason is in the Refine and
Relax pages' body.  Screenshots go to ``tests/artifacts/`` (look at them).

Reference numbers: the cap is :data:`swaxs_lib.io.MAX_INPUT_BYTES` (50 MiB, the readers' limit,
which the page gives the uploader); the sphere's I(Q) is the closed form
[3(sin QR − QR cos QR)/(QR)³]², R = 10 Å, written with Q in 1/nm (0.05–5), so the stored Q must
run 0.005–0.5 1/Å; the PDF's r column is re-read with ``numpy.loadtxt``.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from swaxs_lib.io import MAX_INPUT_BYTES, read_measurement
from swaxs_lib.store import Store
from tests.browser.conftest import ROOT, save_screenshot

PDF = ROOT / "tests" / "data" / "pt_np_jq_pdf" / "JQ_S1.gr"
WAIT_MS = 60_000


def wait_idle(page) -> None:
    """Until Streamlit has finished the current run (its status widget gone) and drawn."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS)
    page.wait_for_timeout(300)


def upload(page, *paths) -> None:
    page.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files([str(p) for p in paths])


def body_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


@pytest.fixture
def saxs_in_nm(tmp_path):
    q_nm = np.geomspace(0.05, 5.0, 120)
    qr = q_nm * 0.1 * 10.0
    intensity = 1e4 * (3 * (np.sin(qr) - qr * np.cos(qr)) / qr**3) ** 2 + 0.05
    path = tmp_path / "pt_saxs_nm.dat"
    path.write_text("".join(f"{a:.6g} {b:.6g}\n" for a, b in zip(q_nm, intensity)))
    return path


def test_a_file_over_the_size_cap_is_named_in_the_page_body(app_url, app_db, page, tmp_path):
    before = {d.id for d in Store(app_db).list_datasets()}
    big = tmp_path / "huge_scan.dat"
    line = b"0.100000 1.000000\n"
    with open(big, "wb") as handle:
        handle.write(line * (MAX_INPUT_BYTES // len(line) + 1))  # just over the cap
    assert MAX_INPUT_BYTES < big.stat().st_size < MAX_INPUT_BYTES + len(line) + 1
    page.goto(f"{app_url}/data")
    page.get_by_text("Measured curves: drag and drop").wait_for(timeout=WAIT_MS)
    upload(page, big)
    message = page.locator('[data-testid="stAlertContentError"]', has_text="huge_scan.dat")
    message.wait_for(timeout=WAIT_MS)
    text = message.inner_text()
    assert "was not uploaded" in text and "50" in text and "MB" in text, text
    assert "Nothing uploaded yet" not in body_text(page)
    wait_idle(page)
    save_screenshot(page, "data-upload-over-cap")
    # removing the refused file removes the message
    page.get_by_role("button", name="Remove huge_scan.dat").click()
    page.get_by_text("Nothing uploaded yet").wait_for(timeout=WAIT_MS)
    assert "huge_scan.dat" not in body_text(page)
    assert {d.id for d in Store(app_db).list_datasets()} == before


def test_each_file_of_a_batch_is_read_with_its_own_unit(app_url, app_db, page, saxs_in_nm, tmp_path):
    # the PDF's bytes plus a blank line: other browser tests may have stored the file itself in the shared
    # store, and identical bytes are offered as that dataset instead of being saved again
    pdf = tmp_path / f"copy-{PDF.name}"
    pdf.write_bytes(PDF.read_bytes() + b"\n")
    page.goto(f"{app_url}/data")
    page.get_by_text("Measured curves: drag and drop").wait_for(timeout=WAIT_MS)
    upload(page, saxs_in_nm, pdf)
    warning = page.locator('[data-testid="stAlertContentWarning"]', has_text="pt_saxs_nm.dat")
    warning.wait_for(timeout=WAIT_MS)
    assert "Guinier R_g" in warning.inner_text() and "Q in 1/nm" in warning.inner_text()
    wait_idle(page)
    page.get_by_role("button", name="Read it with Q in 1/nm").wait_for(timeout=WAIT_MS)
    warning.scroll_into_view_if_needed()
    save_screenshot(page, "data-upload-unit-warning")
    page.get_by_role("button", name="Read it with Q in 1/nm").click()
    page.get_by_text("Q 0.005–0.5 1/Å").wait_for(timeout=WAIT_MS)
    wait_idle(page)
    assert not page.locator('[data-testid="stAlertContentWarning"]', has_text="Guinier").count()
    assert "G(r) · 5001 points · r 0–50 Å" in body_text(page)  # the PDF beside it is read as its file says
    page.get_by_role("button", name="Save all 2 new files").click()
    page.get_by_text("Stored").first.wait_for(timeout=WAIT_MS)
    wait_idle(page)
    stored = {d.filename: d for d in Store(app_db).list_datasets()}
    saxs = Store(app_db).get_dataset(stored["pt_saxs_nm.dat"].id).measurement
    assert saxs.x[0] == pytest.approx(0.005, rel=1e-5) and saxs.x[-1] == pytest.approx(0.5, rel=1e-5)
    pdf = Store(app_db).get_dataset(stored[f"copy-{PDF.name}"].id).measurement
    lines = PDF.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "start data" in line) + 1
    r = np.loadtxt(io.StringIO("\n".join(lines[start:])), comments="#")[:, 0]
    assert np.array_equal(pdf.x, r)


def test_the_same_bytes_again_are_offered_as_the_stored_dataset(app_url, app_db, page):
    db = Store(app_db)
    existing = [d for d in db.list_datasets() if d.filename == PDF.name]
    if not existing:
        db.add_dataset("Pt S1", PDF.read_bytes(), PDF.name, read_measurement(PDF))
    first = sorted((d for d in db.list_datasets() if d.filename == PDF.name), key=lambda d: d.created_at)[0]
    count = len(db.list_datasets())
    page.goto(f"{app_url}/data")
    page.get_by_text("Measured curves: drag and drop").wait_for(timeout=WAIT_MS)
    upload(page, PDF)
    offer = page.locator('[data-testid="stAlertContentInfo"]', has_text="Already stored")
    offer.wait_for(timeout=WAIT_MS)
    assert first.id in offer.inner_text()
    assert not page.get_by_role("button", name="Save to store").count()
    page.get_by_role("button", name="Open it").click()
    wait_idle(page)
    offer.scroll_into_view_if_needed()
    save_screenshot(page, "data-upload-identical")
    preview = page.locator('[data-testid="stHeading"]', has_text=first.name).first
    preview.wait_for(timeout=WAIT_MS)
    preview.scroll_into_view_if_needed()
    save_screenshot(page, "data-upload-identical-opened")
    # the URL follows the script run's end (sync_url), which on a busy machine may come after the preview is drawn
    page.wait_for_function("(id) => new URLSearchParams(location.search).get('ds') === id", arg=first.id,
                           timeout=WAIT_MS)
    assert len(Store(app_db).list_datasets()) == count


@pytest.mark.parametrize("page_name, task, args, words", [
    ("refine", "sweep", {"shape": "icosahedron", "element": "Pt", "grid": "shells=abc", "options": {}, "workers": 1},
     ["This sweep failed:", "shells=abc", "expected an integer"]),
    ("relax", "relax", {"cluster": {"key": "no-such-cluster"}, "optimizer": "FIRE", "fmax": 0.05, "steps": 5,
                        "refit_every": 1}, ["This relaxation failed:", "no-such-cluster", "no such cluster"]),
])
def test_a_failed_job_says_why_in_the_page_body(app_url, app_db, page, page_name, task, args, words):
    import swaxs_lib.relax  # noqa: F401  (registers the tasks)
    import swaxs_lib.sweep  # noqa: F401
    from swaxs_lib.jobs import submit

    db = Store(app_db)
    if not db.list_datasets():
        db.add_dataset("Pt S1", PDF.read_bytes(), PDF.name, read_measurement(PDF))
    if task == "sweep":
        args = {**args, "dataset_id": db.list_datasets()[0].id}
    job = submit(db, task, args, detach=False, label=f"failing {task}")
    assert job.status == "failed"
    page.goto(f"{app_url}/{page_name}?job={job.id}")
    error = page.locator('[data-testid="stAlertContentError"]', has_text="failed")
    error.wait_for(timeout=WAIT_MS)
    text = error.inner_text()
    assert all(w in text for w in words), text
    wait_idle(page)
    save_screenshot(page, f"{page_name}-failed-job")
    assert "runs on the server" not in body_text(page)
