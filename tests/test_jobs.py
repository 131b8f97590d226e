"""Background jobs: detached workers, progress, cancellation, failures and crashes, recorded in the store."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.jobs import (
    cancel,
    format_seconds,
    get_job,
    list_jobs,
    progress_of,
    submit,
)
from swaxs_lib.store import Store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "jobs.duckdb")


def wait_for(store: Store, job_id: str, statuses: tuple[str, ...], timeout_s: float = 60.0):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        record = get_job(store, job_id)
        if record.status in statuses:
            return record
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} still {get_job(store, job_id).status} after {timeout_s} s")


def test_a_detached_job_reports_progress_and_finishes(store):
    job = submit(store, "selftest", {"steps": 6, "seconds": 0.4})
    assert job.status == "queued"
    running = wait_for(store, job.id, ("running",))
    seen = set()
    while (record := get_job(store, job.id)).status == "running":
        p = progress_of(record)
        seen.add(p.done)
        if p.done:
            assert p.total == 6 and p.remaining_s is not None and p.elapsed_s > 0
        time.sleep(0.1)
    assert record.status == "done", record.message
    assert record.result["steps"] == 6 and progress_of(record).done == 6
    assert len(seen) >= 3  # progress was seen moving, not just the end
    assert running.result["worker"]["pid"] > 0


def test_a_job_survives_the_process_that_submitted_it(store):
    script = (f"from swaxs_lib.store import Store; from swaxs_lib.jobs import submit; "
              f"print(submit(Store({str(store.path)!r}), 'selftest', {{'steps': 4, 'seconds': 0.3}}).id)")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    job_id = out.stdout.strip().splitlines()[-1]
    # the submitting process has exited; the worker goes on and finishes
    assert wait_for(store, job_id, ("done", "failed")).status == "done"


def test_cancel_stops_a_running_job(store):
    job = submit(store, "selftest", {"steps": 200, "seconds": 0.05})
    wait_for(store, job.id, ("running",))
    time.sleep(1.0)
    assert cancel(store, job.id).status == "cancelled"
    time.sleep(1.5)
    first = progress_of(get_job(store, job.id)).done
    time.sleep(1.0)
    record = get_job(store, job.id)
    assert record.status == "cancelled" and "cancelled" in record.message
    assert progress_of(record).done == first < 200  # no more progress after the cancel


def test_a_failing_task_ends_failed_with_its_reason(store):
    job = submit(store, "selftest", {"steps": 5, "fail_at": 2}, detach=False)
    assert job.status == "failed"
    assert "selftest failure at step 2" in job.message
    assert "Traceback" in job.result["traceback"]


def test_a_crashed_worker_marks_its_job_failed_instead_of_hanging(store):
    job = submit(store, "selftest", {"steps": 5, "seconds": 0.2, "crash_at": 2})
    record = wait_for(store, job.id, ("failed", "done"), timeout_s=60)
    assert record.status == "failed"
    assert "worker process ended without a result" in record.message


def test_jobs_are_listed_and_bad_requests_refused(store):
    a = submit(store, "selftest", {"steps": 1}, detach=False)
    b = submit(store, "selftest", {"steps": 2}, detach=False, label="second")
    assert [j.id for j in list_jobs(store)][:2] == [b.id, a.id]
    with pytest.raises(SwaxsInputError, match="task"):
        submit(store, "mine-bitcoin", {})
    fit = store.add_result("fit", {"x": 1})
    with pytest.raises(SwaxsInputError, match="not a job"):
        get_job(store, fit.id)


def test_format_seconds():
    assert [format_seconds(s) for s in (None, 5.4, 65, 3725)] == ["–", "5 s", "1 min 05 s", "1 h 02 min"]


def test_a_worker_that_never_starts_fails_its_job_with_the_logs_last_line(store, monkeypatch, tmp_path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'ImportError: no module named numba' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))
    job = submit(store, "selftest", {"steps": 2})
    record = wait_for(store, job.id, ("failed",), timeout_s=30)
    assert "ImportError: no module named numba" in record.message


def test_a_job_whose_id_begins_with_a_dash_still_runs(store, monkeypatch):
    # ids made before new_id refused a leading "-" can begin with one; the worker's command line
    # passes the id after "--" so argparse does not read it as a flag
    import swaxs_lib.store.results as results

    monkeypatch.setattr(results, "new_id", lambda: "-" + "a" * 21)
    job = submit(store, "selftest", {"steps": 2, "seconds": 0.05})
    assert job.id.startswith("-")
    assert wait_for(store, job.id, ("done", "failed")).status == "done", get_job(store, job.id).message
