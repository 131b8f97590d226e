"""Background jobs: detached workers, progress, cancellation, failures and crashes, recorded in the store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.jobs import (
    JobProgress,
    cancel,
    format_seconds,
    get_job,
    list_jobs,
    progress_of,
    run_job,
    submit,
)
from swaxs_lib.store import Store
from swaxs_lib.tasks import find_task, register_task, task_names

ROOT = Path(__file__).resolve().parents[1]
#: Rows as swaxs stored them before results were typed (see its "_source").
OLD_ROWS = ROOT / "tests" / "data" / "stored_rows_v0.json"


@register_task("test-echo")
def echo_task(store, args, report):
    """A task registered by this test module: the worker must import it from here."""
    report(1, 1, "echoed")
    return {"echo": args["text"], "pid": os.getpid()}


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


def test_a_task_registered_in_a_test_module_runs_in_a_detached_worker(store):
    job = submit(store, "test-echo", {"text": "hi"})
    assert job.params["target"] == "tests.test_jobs:echo_task"
    record = wait_for(store, job.id, ("done", "failed"))
    assert record.status == "done", record.message
    assert record.result["echo"] == "hi" and record.result["pid"] != os.getpid()  # it ran in the worker
    assert progress_of(record).done == 1 and progress_of(record).note == "echoed"


def test_unknown_tasks_are_refused_when_submitted_and_when_run(store):
    with pytest.raises(SwaxsInputError, match=r"task: got 'mine-bitcoin'; expected one of .*relax.*selftest.*sweep"):
        submit(store, "mine-bitcoin", {})
    # a row naming a task this version does not have (written by another version) fails cleanly in the worker
    row = store.add_result("job", {"task": "gone", "target": "swaxs_lib.gone:gone_task", "args": {}, "label": "old"},
                           status="queued")
    run_job(store, row.id)
    record = get_job(store, row.id)
    assert record.status == "failed" and "task: got 'gone'; expected one of" in record.message
    assert record.result.get("traceback") is None  # a clean input error, not a crash


def test_a_job_row_stored_before_tasks_registered_themselves_still_runs(store):
    # the row as swaxs stored it before the target was recorded (tests/data/stored_rows_v0.json)
    old = json.loads(OLD_ROWS.read_text())["selftest_job"]["params"]
    assert "target" not in old
    row = store.add_result("job", old, status="queued", message="selftest: queued")
    out = subprocess.run([sys.executable, "-m", "swaxs_lib.jobs", "run", "--db", str(store.path), "--", row.id],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    record = get_job(store, row.id)
    assert record.status == "done" and record.result["steps"] == 2


def test_task_modules_are_found_from_their_declarations_without_being_imported():
    # a fresh process that never imported swaxs_lib.relax finds the relax task in swaxs_lib's source
    script = ("import sys; from swaxs_lib.tasks import find_task, task_names; "
              "assert 'swaxs_lib.relax' not in sys.modules; f = find_task('relax'); "
              "print(f.__module__, f.__name__, ' '.join(task_names()))")
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    module, name, *names = out.stdout.split()
    assert (module, name) == ("swaxs_lib.relax", "relax_task")
    assert {"crystal", "relax", "selftest", "sweep"} <= set(names)


def test_a_name_cannot_be_registered_for_two_functions():
    assert find_task("test-echo") is echo_task
    register_task("test-echo")(echo_task)  # the same function again (a module imported twice) is fine
    with pytest.raises(ValueError, match="already registered as tests.test_jobs:echo_task"):
        register_task("test-echo")(lambda store, args, report: {})
    assert "test-echo" in task_names()


def test_job_progress_round_trips_and_reads_the_old_shape():
    p = JobProgress(3, 7, 1.25, None, "step 3")
    assert JobProgress.from_json(p.to_json()) == p and p.to_json()["schema"] == 1
    assert JobProgress.from_json(json.dumps(p.to_json())) == p
    # as the runner stored it before the schema key (tests/data/stored_rows_v0.json)
    old = json.loads(OLD_ROWS.read_text())["sweep_job"]["result"]["progress"]
    assert "schema" not in old
    assert JobProgress.from_json(old) == JobProgress(2, 2, 0.97, 0.0, "Au decahedron (5,1,1): refined")
    with pytest.raises(SwaxsInputError, match="schema 2 was written by a newer swaxs"):
        JobProgress.from_json({**p.to_json(), "schema": 2})


def test_a_task_in_a_script_run_as_main_is_refused_for_a_worker(store, tmp_path):
    script = tmp_path / "mine.py"
    script.write_text("import sys\nfrom swaxs_lib.jobs import submit\nfrom swaxs_lib.store import Store\n"
                      "from swaxs_lib.tasks import register_task\n\n@register_task('in-main')\n"
                      "def in_main(store, args, report):\n    return {'ok': True}\n\n"
                      "store = Store(sys.argv[1])\nprint(submit(store, 'in-main', {}, detach=False).result['ok'])\n"
                      "submit(store, 'in-main', {})\n")
    out = subprocess.run([sys.executable, str(script), str(store.path)], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "True"  # in this process it runs
    assert "SwaxsInputError: task 'in-main': defined in a script run as __main__" in out.stderr
