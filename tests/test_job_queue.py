"""Bounded work on a shared server (issue 19 item 3): the queue's limits, cancel and time limit ending a job's
processes within seconds, no orphaned pool processes after a worker's death, worker counts capped."""

from __future__ import annotations

import os
import signal
import time

import pytest

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.executors import worker_count
from swaxs_lib.jobqueue import JobLimits, may_start
from swaxs_lib.jobs import cancel, get_job, submit
from swaxs_lib.store import Store


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "queue.duckdb")


def _until(predicate, timeout_s: float, what: str):
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout_s} s")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False


def _pool_pids(store, job_id) -> list[int]:
    return _until(lambda: (get_job(store, job_id).result or {}).get("pool_pids"), 60, "the pool's pids")


def test_the_server_limit_queues_the_second_job_until_the_first_ends(store, monkeypatch):
    monkeypatch.setenv("SWAXS_MAX_JOBS", "1")
    first = submit(store, "selftest", {"steps": 4, "seconds": 0.5}, owner="ann")
    _until(lambda: get_job(store, first.id).status == "running", 60, "the first job running")
    second = submit(store, "selftest", {"steps": 1, "seconds": 0.0}, owner="bob")
    waiting = _until(lambda: "waiting" in (get_job(store, second.id).message or "") and get_job(store, second.id),
                     30, "the second job saying it waits")
    assert waiting.status == "queued" and "1 jobs running on the server (at most 1)" in waiting.message
    assert get_job(store, first.id).status == "running"
    _until(lambda: get_job(store, second.id).status == "done", 60, "the second job done")
    assert get_job(store, first.id).status == "done"
    assert get_job(store, first.id).updated_at <= get_job(store, second.id).updated_at


def test_the_per_user_limit_lets_another_user_start_first():
    limits = JobLimits(server=4, per_user=1, queued_per_user=8, time_limit_s=60, max_workers=2)

    class J:
        def __init__(self, id, owner, t):
            self.id, self.params, self.created_at = id, {"owner": owner}, t

    running = [J("r", "ann", 0)]
    queued = [J("a2", "ann", 1), J("b1", "bob", 2), J("b2", "bob", 3)]
    assert may_start("b1", queued, running, limits) == (True, "")
    assert may_start("a2", queued, running, limits)[0] is False
    assert may_start("b2", queued, running, limits) == (False, "waiting: older jobs start first")
    assert may_start("b1", queued, running + [J("x", "x", 0)] * 3, limits)[1].startswith("waiting: 4 jobs running")


def test_a_full_queue_refuses_a_new_job_with_the_setting_named(store, monkeypatch):
    monkeypatch.setenv("SWAXS_MAX_QUEUED_PER_USER", "0")
    with pytest.raises(SwaxsInputError, match="SWAXS_MAX_QUEUED_PER_USER"):
        submit(store, "selftest", {"steps": 1}, owner="ann")
    monkeypatch.setenv("SWAXS_MAX_JOBS", "many")
    with pytest.raises(SwaxsInputError, match=r"\$SWAXS_MAX_JOBS: got 'many'"):
        JobLimits.from_env()


def test_cancel_ends_a_job_that_never_reports_and_its_pool_within_seconds(store):
    job = submit(store, "selftest", {"steps": 1, "seconds": 300, "pool_sleep": 300})
    pids = _pool_pids(store, job.id)
    worker = get_job(store, job.id).result["worker"]["pid"]
    assert all(_alive(p) for p in [worker, *pids])
    cancelled_at = time.time()
    cancel(store, job.id)
    _until(lambda: not any(_alive(p) for p in [worker, *pids]), 10, "the worker and its pool ended")
    assert time.time() - cancelled_at < 5
    record = _until(lambda: "processes ended" in (get_job(store, job.id).message or "") and get_job(store, job.id),
                    5, "the cancel recorded")
    assert record.status == "cancelled"


def test_a_killed_worker_leaves_no_pool_process_behind(store):
    job = submit(store, "selftest", {"steps": 1, "seconds": 300, "pool_sleep": 300})
    pids = _pool_pids(store, job.id)
    worker = get_job(store, job.id).result["worker"]["pid"]
    os.kill(worker, signal.SIGKILL)  # the worker only: its pool must notice its parent is gone
    _until(lambda: not any(_alive(p) for p in pids), 10, "the pool processes ended")
    assert _until(lambda: get_job(store, job.id).status == "failed", 10, "the job marked failed")


def test_the_time_limit_stops_a_job_and_says_so(store, monkeypatch):
    monkeypatch.setenv("SWAXS_JOB_TIME_LIMIT_S", "2")
    job = submit(store, "selftest", {"steps": 1, "seconds": 300})
    _until(lambda: get_job(store, job.id).status == "running", 60, "the job running")
    worker = get_job(store, job.id).result["worker"]["pid"]
    record = _until(lambda: get_job(store, job.id).status == "failed" and get_job(store, job.id), 15, "the job failed")
    assert "time limit of 2 s (SWAXS_JOB_TIME_LIMIT_S)" in record.message
    _until(lambda: not _alive(worker), 5, "the worker ended")


def test_worker_counts_are_capped_by_the_server(monkeypatch):
    monkeypatch.setenv("SWAXS_MAX_WORKERS", "2")
    assert worker_count(16) == 2 and worker_count(1) == 1
    monkeypatch.delenv("SWAXS_MAX_WORKERS")
    assert worker_count(10_000) == os.cpu_count()


def test_the_relax_command_writes_its_trace_as_it_goes(tmp_path):
    """Killed mid-run, ``relax`` leaves a readable trace of every step so far (it used to write it at the end)."""
    import csv
    import subprocess
    import sys

    trace = tmp_path / "trace.csv"
    proc = subprocess.Popen([sys.executable, "-m", "swaxs_lib", "relax", "--shape", "icosahedron", "--shells", "4",
                             "--element", "Au", "--fmax", "1e-6", "--steps", "5000", "--optimizer", "FIRE",
                             "--trace", str(trace)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        _until(lambda: trace.exists() and len(trace.read_text().splitlines()) > 4, 60, "five trace lines")
    finally:
        proc.kill()
        proc.wait()
    with trace.open() as f:
        rows = list(csv.DictReader(f))
    steps = [int(r["step"]) for r in rows if r["step"]]
    energies = [float(r["energy_ev_per_atom"]) for r in rows]
    assert steps[:4] == [0, 1, 2, 3] and energies[3] < energies[0]  # FIRE lowers EMT's energy from the start


def test_a_killed_relaxation_keeps_only_the_frames_its_stored_trace_reaches(store):
    """Partial results of a killed job: the relaxation's trace so far stays browsable, frames written after its last
    progress report (one per step, reports every 0.5 s) are removed when the death is noticed."""
    import swaxs_lib.relax  # noqa: F401 -- registers the task
    from swaxs_lib.relax import job_trace

    job = submit(store, "relax", {"cluster": {"shape": "icosahedron", "element": "Au", "params": {"shells": 4}},
                                  "optimizer": "FIRE", "fmax": 1e-6, "steps": 5000})
    _until(lambda: (t := job_trace(get_job(store, job.id).result)) is not None and len(t.steps) > 5, 60, "5 steps")
    os.kill(get_job(store, job.id).result["worker"]["pid"], signal.SIGKILL)
    record = _until(lambda: get_job(store, job.id).status == "failed" and get_job(store, job.id), 10, "failed")
    traced = [s.step for s in job_trace(record.result).steps]
    frames = [int(k.rsplit("/", 1)[1]) for k in store.blob_keys(f"relax/{job.id}/frame/")]
    assert frames == list(range(max(traced) + 1)) and traced == frames[:len(traced)]
