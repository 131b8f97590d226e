"""Background jobs: long work in worker processes, with progress, cancellation and crash detection in the store.

A job is a row of the store's ``results`` table (``kind="job"``): what was
asked (``params``: the task name and its arguments), where it stands
(``status``: queued -> running -> done | failed | cancelled) and its progress
(``result["progress"]``: done, total, elapsed and estimated remaining seconds,
a note).  :func:`submit` writes the row and starts a detached worker process
(``python -m swaxs_lib.jobs run JOB_ID --db STORE``) in its own session, so
the job outlives the browser tab, the Streamlit session and even the server
process that started it; anyone who knows the job id can read its progress
or result (:func:`get_job`), or cancel it (:func:`cancel`).

Workers run at a lower scheduling priority (``nice`` +10) with one numba
thread each, so interactive sessions on a shared server stay responsive;
a task may use several worker processes itself (a sweep does, through
:mod:`swaxs_lib.executors`), or a Dask cluster: a job whose params carry
``"scheduler": "tcp://HOST:PORT"`` runs every batch of its task there
(:func:`swaxs_lib.executors.scheduler_scope`), and its record says where
(``result["worker"]["where"]``: executor, scheduler, Dask dashboard link); a
scheduler that goes away fails the job with that reason.  Each worker records its pid and host and renews a
heartbeat with every progress report; :func:`get_job` marks a running job
whose worker is gone as failed, with the reason, instead of letting it hang.

Tasks are functions ``task(store, params, report) -> result`` that register
themselves where they are defined (:func:`swaxs_lib.tasks.register_task`);
the job row records the task's ``"module:qualname"`` and the worker imports
it from there (:mod:`swaxs_lib.tasks` says how).  The result is a mapping or
a typed result with ``to_json()`` (:mod:`swaxs_lib.versioned`), stored as
that JSON beside the job's ``progress`` and ``worker``.
``report(done, total, note="")`` records progress (and, with ``extra=``,
partial results a page can draw while the job runs) and raises
:class:`JobCancelled` once the job was cancelled.

Examples
--------
>>> import tempfile
>>> from swaxs_lib.store import Store
>>> store = Store(tempfile.mkdtemp() + "/jobs.duckdb")
>>> job = submit(store, "selftest", {"steps": 3, "seconds": 0.0}, detach=False)
>>> get_job(store, job.id).status, get_job(store, job.id).result["steps"]
('done', 3)
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, replace
from typing import Any, Callable, ClassVar, Mapping

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.executors import WORKER_ENV, WORKER_NICENESS, describe_executor, scheduler_scope, worker_init
from swaxs_lib.jobqueue import WATCH_EVERY_S, JobLimits, check_can_queue, may_start, start_watchdog
from swaxs_lib.store import ResultRecord, Store
from swaxs_lib.tasks import find_task, register_task, task_target
from swaxs_lib.versioned import SCHEMA_KEY, as_mapping, reading, schema_of

#: Seconds between progress writes (reports in between only update memory).
REPORT_EVERY_S = 0.5
#: A running job whose heartbeat is older than this, on this host, with no live worker, has crashed.
STALE_AFTER_S = 30.0


class JobCancelled(Exception):
    """Raised inside a task by ``report`` once its job was cancelled."""


@dataclass(frozen=True)
class JobProgress:
    """Where a job stands.

    Attributes
    ----------
    done, total : int
        Units of work finished and planned (0 total: not known yet).
    elapsed_s : float
        Seconds since the worker started.
    remaining_s : float or None
        Estimate: elapsed / done * (total - done); None before the first unit.
    note : str
        What it is doing now.

    Stored in a job's row as :meth:`to_json` (``result["progress"]``); :meth:`from_json`
    reads it back, rows stored before the schema key included.
    """

    SCHEMA: ClassVar[int] = 1

    done: int
    total: int
    elapsed_s: float
    remaining_s: float | None
    note: str

    @property
    def fraction(self) -> float:
        return 0.0 if self.total <= 0 else min(self.done / self.total, 1.0)

    def to_json(self) -> dict[str, Any]:
        """``{"schema", "done", "total", "elapsed_s", "remaining_s", "note"}``."""
        return {SCHEMA_KEY: self.SCHEMA, "done": self.done, "total": self.total, "elapsed_s": self.elapsed_s,
                "remaining_s": self.remaining_s, "note": self.note}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> "JobProgress":
        """The progress :meth:`to_json` wrote (version 0, before the key, has the same fields); missing
        fields read as nothing done yet."""
        data = as_mapping(data, "job progress")
        schema_of(data, "job progress", cls.SCHEMA)
        with reading("job progress"):
            remaining = data.get("remaining_s")
            return cls(int(data.get("done", 0)), int(data.get("total", 0)), float(data.get("elapsed_s", 0.0)),
                       None if remaining is None else float(remaining), str(data.get("note", "")))


def submit(store: Store, task: str, params: Mapping[str, Any], *, dataset_id: str | None = None,
           detach: bool = True, label: str | None = None, owner: str | None = None) -> ResultRecord:
    """Queue a job and start its worker.

    Parameters
    ----------
    store : Store
    task : str
        A registered task's name (:func:`swaxs_lib.tasks.register_task`; import its module first).
    params : mapping
        The task's arguments, JSON-serialisable.
    dataset_id : str, optional
        The dataset it works on (for listings).
    detach : bool
        Start a detached worker process (the default); False runs the job in
        this process before returning (tests, the command line's ``--wait``).
    label : str, optional
        A line for job lists.
    owner : str, optional
        Who asked (the server's user name); the queue's per-user limits count by it
        (:mod:`swaxs_lib.jobqueue`).

    Returns
    -------
    ResultRecord
        The job's row (``status`` "queued", or the final one if not detached).

    Raises
    ------
    SwaxsInputError
        An unknown task, or the owner already has the most jobs waiting that the server allows.
    """
    target = task_target(task)  # SwaxsInputError for an unknown name
    if detach and target.startswith("__main__:"):
        raise SwaxsInputError(f"task {task!r}: defined in a script run as __main__, which a worker process cannot "
                              "import; expected it in an importable module (or detach=False)")
    if detach:
        check_can_queue(store, owner or "", JobLimits.from_env())
    record = store.add_result("job", {"task": task, "target": target, "args": dict(params), "label": label or task,
                                      "owner": owner or ""},
                              status="queued", message=f"{label or task}: queued", dataset_id=dataset_id,
                              owner=owner or "")
    if not detach:
        run_job(store, record.id, queue=False)
        return store.get_result(record.id)
    env = {**os.environ, **WORKER_ENV}
    log = log_path(store, record.id)
    log.parent.mkdir(parents=True, exist_ok=True)
    # sh starts the worker in the background, prints its pid and exits at once: the worker is
    # orphaned, so the system (not this server process) reaps it, and no zombie is left behind
    launched = subprocess.run(
        ["/bin/sh", "-c", '"$@" </dev/null >>"$LOG" 2>&1 & echo $!', "sh",
         sys.executable, "-m", "swaxs_lib.jobs", "run", "--db", str(store.path), "--", record.id],
        env={**env, "LOG": str(log)}, start_new_session=True, check=True, timeout=30, capture_output=True, text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
    )
    worker = {"pid": int(launched.stdout.split()[-1]), "host": socket.gethostname()}
    # only while still queued: the worker may have started (and written its own) already
    updated = store.update_result(record.id, result={"worker": worker, "log": str(log)}, if_status="queued")
    return updated or store.get_result(record.id)


def log_path(store: Store, job_id: str):
    """Where a detached worker's own output goes: ``<store>-jobs/<job id>.log`` beside the store."""
    from pathlib import Path

    path = Path(store.path)
    return path.parent / f"{path.stem}-jobs" / f"{job_id}.log"


def get_job(store: Store, job_id: str) -> ResultRecord:
    """The job's row, after marking it failed if its worker died without a word.

    Raises
    ------
    SwaxsInputError
        No job has this id.
    """
    record = store.get_result(job_id)
    if record.kind != "job":
        raise SwaxsInputError(f"job id {job_id!r}: is a {record.kind}, not a job")
    if record.status in ("queued", "running") and _worker_gone(record):
        if record.status == "queued" and store.get_result(job_id).status != "queued":
            return get_job(store, job_id)  # it started between the two reads
        last = _last_line(log_path(store, job_id))
        record = store.update_result(
            job_id, status="failed",
            message=f"{record.params.get('label', 'job')}: the worker process ended without a result "
                    f"({last or 'killed, or out of memory?'})",
        )
        discard_unfinished(store, record)
    return record


def discard_unfinished(store: Store, record: ResultRecord) -> None:
    """Remove what a job that did not finish stored beyond the partial result in its row.

    A task may define ``task.discard_unfinished(store, record)`` (the relaxation drops
    trajectory frames its stored trace does not reach); work a sweep or analysis finished is
    kept, cached, and reused when it is run again.  Never raises: the job's state is what matters.
    """
    try:
        task = find_task(record.params["task"], record.params.get("target"))
        discard = getattr(task, "discard_unfinished", None)
        if discard is not None:
            discard(store, store.get_result(record.id))
    except Exception:  # noqa: BLE001 -- a cleanup must not turn an ended job into an error
        pass


def _last_line(path) -> str:
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def progress_of(record: ResultRecord) -> JobProgress:
    """The :class:`JobProgress` stored in a job's row."""
    return JobProgress.from_json((record.result or {}).get("progress") or {})


def where_of(record: ResultRecord) -> tuple[str, str | None]:
    """Where a job's tasks run, in words, and the Dask dashboard's link (None when there is none).

    Read from ``result["worker"]["where"]`` (written when the worker starts the task); a job that has not
    started says where it was asked to run (its ``scheduler`` parameter, else local).

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> now = datetime.now(timezone.utc)
    >>> where = {"executor": "dask", "scheduler": "tcp://10.0.0.5:8786", "workers": 8,
    ...          "dashboard": "http://10.0.0.5:8787/status"}
    >>> job = ResultRecord("j", "job", "running", {}, {"worker": {"where": where}}, "", None, None, now, now)
    >>> where_of(job)
    ('dask scheduler tcp://10.0.0.5:8786 (8 worker threads)', 'http://10.0.0.5:8787/status')
    """
    where = ((record.result or {}).get("worker") or {}).get("where")
    if not where:
        asked = ((record.params or {}).get("args") or {}).get("scheduler")
        return (f"dask scheduler {asked} (not connected yet)" if asked else "local worker processes"), None
    if where.get("executor") == "dask":
        threads = f" ({where['workers']} worker threads)" if where.get("workers") else ""
        return f"dask scheduler {where.get('scheduler')}{threads}", where.get("dashboard") or None
    if where.get("executor") == "local":
        n = where.get("workers")
        return (f"local worker processes ({n} at most)" if n else "local worker processes"), None
    return f"executor {where.get('executor')}", None


def cancel(store: Store, job_id: str, viewer=None) -> ResultRecord:
    """Stop a queued or running job: a waiting worker leaves the queue, a running one's watchdog ends its
    processes within a second (:mod:`swaxs_lib.jobqueue`).

    Raises
    ------
    SwaxsInputError
        Unknown id, or ``viewer`` (a :class:`~swaxs_lib.access.Viewer`; None: the command line, an admin) may
        not cancel it: only its owner or an admin may.
    """
    from swaxs_lib.access import check_change

    record = get_job(store, job_id)
    if viewer is not None:
        check_change(viewer, record, "cancel", "job")
    if record.status in ("queued", "running"):
        record = store.update_result(job_id, status="cancelled",
                                     message=f"{record.params.get('label', 'job')}: cancelled")
    return record


def list_jobs(store: Store, limit: int | None = None) -> list[ResultRecord]:
    """Jobs, newest first, at most ``limit`` (crashed workers marked failed)."""
    return [get_job(store, r.id) if r.status in ("queued", "running") else r
            for r in store.list_results("job", limit=limit)]


def run_job(store: Store, job_id: str, *, queue: bool = True, watchdog_pgid: int | None = None) -> None:
    """Run a queued job in this process: the worker's main loop.

    The job waits in the server's queue until it may start (``queue``;
    :func:`swaxs_lib.jobqueue.may_start`), then the status moves to running
    (with this process's pid, host and a heartbeat), progress is written at
    most every :data:`REPORT_EVERY_S`, and the job ends done (``result`` = the
    task's result as JSON plus the final progress), failed (``message`` = the
    reason, the traceback in ``result``) or cancelled.

    Parameters
    ----------
    store : Store
    job_id : str
    queue : bool
        Wait for a slot under the server's limits (detached workers); False starts at once
        (``submit(detach=False)``: tests, the command line's ``--wait``).
    watchdog_pgid : int, optional
        This worker's own process group: a watchdog thread ends it within
        :data:`~swaxs_lib.jobqueue.WATCH_EVERY_S` of a cancel or of the time limit, even if the task never
        reports.  Only a detached worker, leader of its own group, may pass it.
    """
    record = store.get_result(job_id)
    if record.status != "queued":
        return
    label = record.params.get("label", "job")
    limits = JobLimits.from_env()
    state = {"last": 0.0, "progress": JobProgress(0, 0, 0.0, None, ""), "extra": {}}
    worker = {"pid": os.getpid(), "host": socket.gethostname()}

    def write(note: str | None = None) -> None:
        # atomically, only while still running: a cancel in between is never overwritten
        written = store.update_result(job_id, result={**state["extra"], "progress": state["progress"].to_json(),
                                                      "worker": worker, "heartbeat": time.time()},
                                      message=f"{label}: {note or state['progress'].note or 'running'}",
                                      if_status="running")
        if written is None:
            raise JobCancelled()

    def report(done: int, total: int, note: str = "", extra: Mapping[str, Any] | None = None,
               force: bool = False) -> None:
        if extra is not None:
            state["extra"] = dict(extra)
        elapsed = time.time() - start
        remaining = remaining_seconds(elapsed, done, total)
        state["progress"] = JobProgress(int(done), int(total), round(elapsed, 2),
                                        None if remaining is None else round(remaining, 1), note)
        now = time.monotonic()
        if force or now - state["last"] >= REPORT_EVERY_S or done == total:
            state["last"] = now
            write()

    def begin() -> ResultRecord | None:
        return store.update_result(job_id, status="running", message=f"{label}: started", if_status="queued",
                                   result={"progress": state["progress"].to_json(), "worker": worker,
                                           "heartbeat": time.time()})

    started = _wait_for_slot(store, job_id, label, limits, begin) if queue else begin()
    if started is None:  # cancelled before it started
        return
    start = time.time()
    if watchdog_pgid is not None:
        _watch(store, job_id, label, limits, start, watchdog_pgid)
    try:
        task = find_task(record.params["task"], record.params.get("target"))  # rows before targets: by name
        args = dict(record.params.get("args", {}))
        with scheduler_scope(args.get("scheduler") or None, flag="the job's scheduler"):
            worker["where"] = describe_executor()  # local, or the dask scheduler and its dashboard
            write("started")
            output = task(store, {**args, "job_id": job_id}, report)
        output = output.to_json() if hasattr(output, "to_json") else dict(output)
    except JobCancelled:
        ended = store.update_result(job_id, message=f"{label}: cancelled after {time.time() - start:.0f} s",
                                    if_status="cancelled")
        if ended is not None:
            discard_unfinished(store, ended)
        return
    except SwaxsInputError as exc:
        _fail(store, job_id, label, str(exc), None)
        return
    except Exception as exc:  # a task's bug must end the job with its reason, not hang it
        _fail(store, job_id, label, f"{type(exc).__name__}: {exc}", traceback.format_exc())
        return
    progress = replace(state["progress"], elapsed_s=round(time.time() - start, 2), remaining_s=0.0)
    store.update_result(job_id, status="done", result={**output, "progress": progress.to_json(),
                                                       "worker": worker},
                        message=f"{label}: done in {time.time() - start:.1f} s", if_status="running")


def _wait_for_slot(store: Store, job_id: str, label: str, limits: JobLimits,
                   begin: Callable[[], ResultRecord | None]) -> ResultRecord | None:
    """Wait until the queue lets job ``job_id`` start, then ``begin()`` it in the same write session (so two
    workers never take the last slot); None if it was cancelled while waiting."""
    said = None
    while True:
        with store.session(write=True):
            if store.get_result(job_id).status != "queued":
                return None
            # a job whose worker died holds no slot: get_job marks it failed
            running = [r for r in store.list_results("job", status="running") if get_job(store, r.id).status == "running"]
            queued = [r for r in store.list_results("job", status="queued") if get_job(store, r.id).status == "queued"]
            ok, why = may_start(job_id, queued, running, limits)
            if ok:
                return begin()
            if why != said:
                said = why
                store.update_result(job_id, message=f"{label}: {why}", if_status="queued")
        time.sleep(WATCH_EVERY_S)


def _watch(store: Store, job_id: str, label: str, limits: JobLimits, start: float, pgid: int) -> None:
    """Start the watchdog that ends this worker's process group on a cancel or past the time limit."""

    def check() -> str | None:
        status = store.get_result(job_id).status
        if status == "cancelled":
            return "cancelled"
        if status == "running" and time.time() - start > limits.time_limit_s:
            return "time limit"
        return None

    def stop(reason: str) -> None:
        elapsed = time.time() - start
        if reason == "cancelled":
            ended = store.update_result(job_id, if_status="cancelled",
                                        message=f"{label}: cancelled after {elapsed:.0f} s (its processes ended)")
        else:
            ended = store.update_result(job_id, status="failed", if_status="running",
                                        message=f"{label}: failed: stopped after {elapsed:.0f} s, longer than the "
                                                f"server's time limit of {limits.time_limit_s:.0f} s "
                                                "(SWAXS_JOB_TIME_LIMIT_S)")
        if ended is not None:
            discard_unfinished(store, ended)

    start_watchdog(check, stop, pgid)


def _fail(store: Store, job_id: str, label: str, reason: str, trace: str | None) -> None:
    line = reason.strip().splitlines()[0] if reason.strip() else "unknown error"
    current = store.get_result(job_id).result or {}
    store.update_result(job_id, status="failed", message=f"{label}: failed: {line}",
                        result={**current, "error": line, "traceback": trace}, if_status="running")


def _worker_gone(record: ResultRecord) -> bool:
    info = (record.result or {}).get("worker") or {}
    heartbeat = (record.result or {}).get("heartbeat")
    if info.get("host") != socket.gethostname():
        return heartbeat is not None and time.time() - float(heartbeat) > 10 * STALE_AFTER_S
    pid = info.get("pid")
    if pid is None:
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    if _process_state(int(pid)) in ("Z", "X"):  # exited, not yet reaped by its parent
        return True
    # a pid can be reused: a live process with a heartbeat long stale is not our worker any more
    return heartbeat is not None and time.time() - float(heartbeat) > 20 * STALE_AFTER_S and _zombie_or_other(pid)


def _process_state(pid: int) -> str | None:
    """The state letter of /proc/PID/stat (R, S, Z, ...); None where /proc is not available."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0].decode()
    except (OSError, IndexError):
        return None


def _zombie_or_other(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"swaxs_lib.jobs" not in f.read()
    except OSError:
        return True


@register_task("selftest")
def _selftest(store: Store, args: Mapping[str, Any], report: Callable[[int, int, str], None]) -> dict[str, Any]:
    """A task for tests: ``steps`` units of ``seconds`` each; ``fail_at`` raises, ``crash_at`` exits;
    ``pool_sleep`` first starts a pool of 2 local processes, each sleeping that long, and reports their pids."""
    steps = int(args.get("steps", 3))
    if args.get("pool_sleep"):
        from swaxs_lib.executors import local_executor

        pool = local_executor(2)
        for _ in range(2):
            pool.submit(time.sleep, float(args["pool_sleep"]))
        report(0, steps, "pool started", extra={"pool_pids": sorted(getattr(pool, "_processes", {}) or {})}, force=True)
    for k in range(steps):
        if args.get("fail_at") == k:
            raise ValueError(f"selftest failure at step {k}")
        if args.get("crash_at") == k:
            os._exit(3)
        time.sleep(float(args.get("seconds", 0.0)))
        report(k + 1, steps, f"step {k + 1} of {steps}")
    return {"steps": steps}


def main(argv: list[str] | None = None) -> int:
    """``python -m swaxs_lib.jobs run JOB_ID --db PATH``: the worker process."""
    parser = argparse.ArgumentParser(prog="python -m swaxs_lib.jobs")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run")
    run.add_argument("job_id")
    run.add_argument("--db", required=True)
    args = parser.parse_args(argv)
    worker_init(WORKER_NICENESS)
    # its own process group, so that a cancel or the time limit ends it and its pool processes together
    os.setpgid(0, 0)
    run_job(Store(args.db), args.job_id, watchdog_pgid=os.getpgid(0))
    return 0


def remaining_seconds(elapsed_s: float, done: int, total: int) -> float | None:
    """Time left if the rest goes as fast as what is done: elapsed / done * (total - done); None before the first."""
    return elapsed_s / done * (total - done) if done > 0 and total >= done else None


def format_seconds(seconds: float | None) -> str:
    """``"1 h 02 min"``, ``"3 min 05 s"``, ``"12 s"``; ``"–"`` for None."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    s = int(round(seconds))
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    if s >= 60:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s} s"


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["JobCancelled", "JobProgress", "cancel", "discard_unfinished", "format_seconds", "get_job", "list_jobs",
           "progress_of", "run_job", "submit"]
