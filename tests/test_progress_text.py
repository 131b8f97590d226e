"""A job's progress line says how much there is to do from the start, never "0 of at most 0"."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from pages._shared import progress_text
from swaxs_lib.jobs import JobProgress, cancel, get_job, submit
from tests.test_pages import db  # noqa: F401  (the store fixture the pages open)

ROOT = Path(__file__).resolve().parents[1]


def test_no_count_before_the_worker_says_the_total():
    assert progress_text("relax Au queued", JobProgress(0, 0, 0.0, None, ""), at_most=True) == "relax Au queued"
    assert progress_text("sweep queued", JobProgress(0, 0, 0.0, None, "")) == "sweep queued"


def test_counts_elapsed_and_left_once_known():
    text = progress_text("relax Au", JobProgress(3, 200, 12.0, None, ""), at_most=True)
    assert text == "relax Au · 3 of at most 200 · 12 s elapsed"
    text = progress_text("sweep", JobProgress(4, 16, 75.0, 225.0, ""))
    assert text == "sweep · 4 of 16 · 1 min 15 s elapsed · 3 min 45 s left"


def test_the_relax_page_opened_at_once_shows_no_empty_total(db):
    import swaxs_lib.relax  # noqa: F401 - registers the task

    job = submit(db, "relax", {"cluster": {"shape": "icosahedron", "element": "Au", "params": {"shells": 4}},
                               "steps": 40}, label="relax Au icosahedron")
    try:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.switch_page("pages/relax.py")
        at.query_params["job"] = job.id
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        bars = [p.proto.text for p in at.get("progress")]
        if get_job(db, job.id).status in ("queued", "running") or bars:
            assert bars, "no progress bar while the job runs"
            assert "of at most 0" not in bars[0] and "0/0" not in bars[0], bars
            assert "of at most" not in bars[0] or "of at most 40" in bars[0], bars
    finally:
        cancel(db, job.id)
