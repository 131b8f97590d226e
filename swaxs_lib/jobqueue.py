"""Bounded work on a shared server: the job queue's limits, the time limit, and stopping a job's processes.

A detached job's worker (:mod:`swaxs_lib.jobs`) waits in the queue until
it may start: fewer than :attr:`JobLimits.server` jobs run on the server
and fewer than :attr:`JobLimits.per_user` of its owner's, and no older
queued job that may start is waiting (first come, first served).  Its row
says why it waits.  Once running, a watchdog thread in the worker polls its
row: when the job is cancelled, or runs past :attr:`JobLimits.time_limit_s`,
the watchdog ends the worker's whole process group -- the worker and every
pool process it started -- within :data:`WATCH_EVERY_S` seconds, even when the
task never reports progress.  Pool processes also end themselves when their
parent dies (:func:`die_with_parent`), so no worker death leaves orphans.

The limits come from the environment of the server (and so of the workers
it starts), read when a job is submitted or started:

=============================  =====================================  ======================
variable                       meaning                                default
=============================  =====================================  ======================
``SWAXS_MAX_JOBS``             jobs running at once on this server     the cores (at least 2)
``SWAXS_MAX_JOBS_PER_USER``    jobs one owner runs at once             half of that (at least 1)
``SWAXS_MAX_QUEUED_PER_USER``  jobs one owner may have waiting         8
``SWAXS_JOB_TIME_LIMIT_S``     seconds a job may run                   21600 (6 h)
``SWAXS_MAX_WORKERS``          worker processes one job may use        the cores
=============================  =====================================  ======================
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass
from typing import Callable

from swaxs_lib.errors import SwaxsInputError

#: Seconds between a waiting or running worker's looks at its job's row.
WATCH_EVERY_S = 1.0
#: Who owns a job submitted without an owner (the command line, a server with no users).
NO_OWNER = ""


def _env_int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(float(raw))
    except ValueError:
        raise SwaxsInputError(f"${name}: got {raw!r}; expected a whole number >= {minimum}") from None
    if value < minimum:
        raise SwaxsInputError(f"${name}: got {raw!r}; expected a whole number >= {minimum}")
    return value


@dataclass(frozen=True)
class JobLimits:
    """How much work the server takes on (see the module's table).

    Attributes
    ----------
    server : int
        Jobs running at once, all owners together.
    per_user : int
        Jobs one owner runs at once.
    queued_per_user : int
        Jobs one owner may have queued; more are refused at submission.
    time_limit_s : float
        Seconds of running after which a job is stopped and failed.
    max_workers : int
        Worker processes one job's pool may use.
    """

    server: int
    per_user: int
    queued_per_user: int
    time_limit_s: float
    max_workers: int

    @classmethod
    def from_env(cls) -> "JobLimits":
        """The limits set by the environment, defaults from this machine's cores.

        Raises
        ------
        SwaxsInputError
            A variable is set to something other than a positive whole number.
        """
        cores = os.cpu_count() or 1
        server = _env_int("SWAXS_MAX_JOBS", max(2, cores), 1)
        return cls(server=server,
                   per_user=min(server, _env_int("SWAXS_MAX_JOBS_PER_USER", max(1, server // 2), 1)),
                   queued_per_user=_env_int("SWAXS_MAX_QUEUED_PER_USER", 8, 0),
                   time_limit_s=float(_env_int("SWAXS_JOB_TIME_LIMIT_S", 6 * 3600, 1)),
                   max_workers=_env_int("SWAXS_MAX_WORKERS", cores, 1))


def owner_of(params: dict) -> str:
    """The owner recorded in a job's ``params`` (:data:`NO_OWNER` if none)."""
    return str(params.get("owner") or NO_OWNER)


def check_can_queue(store, owner: str, limits: JobLimits) -> None:
    """Refuse a new job when its owner already has ``limits.queued_per_user`` jobs waiting.

    Raises
    ------
    SwaxsInputError
        The owner's queue is full.
    """
    waiting = [r for r in store.list_results("job", status="queued") if owner_of(r.params) == owner]
    if len(waiting) >= limits.queued_per_user:
        who = f"user {owner!r}" if owner else "this server's anonymous user"
        raise SwaxsInputError(f"job queue: {who} has {len(waiting)} jobs waiting; expected at most "
                              f"{limits.queued_per_user} (SWAXS_MAX_QUEUED_PER_USER): wait for one to start, "
                              "or cancel one")


def may_start(job_id: str, queued: list, running: list, limits: JobLimits) -> tuple[bool, str]:
    """Whether queued job ``job_id`` may start now, and if not, why.

    Parameters
    ----------
    job_id : str
    queued, running : list of ResultRecord
        The jobs waiting and running now.
    limits : JobLimits

    Returns
    -------
    (bool, str)
        True and ``""``, or False and the reason it waits.

    Examples
    --------
    >>> from types import SimpleNamespace as J
    >>> limits = JobLimits(server=2, per_user=1, queued_per_user=8, time_limit_s=60, max_workers=2)
    >>> queued = [J(id="a", params={"owner": "ann"}), J(id="b", params={"owner": "bob"})]
    >>> may_start("b", queued, [J(id="c", params={"owner": "ann"})], limits)
    (True, '')
    >>> may_start("a", queued, [J(id="c", params={"owner": "ann"})], limits)[1]
    'waiting: 1 of your jobs running (at most 1 per user)'
    """
    per_owner: dict[str, int] = {}
    for record in running:
        per_owner[owner_of(record.params)] = per_owner.get(owner_of(record.params), 0) + 1
    if len(running) >= limits.server:
        return False, f"waiting: {len(running)} jobs running on the server (at most {limits.server})"
    ordered = sorted(queued, key=lambda r: (getattr(r, "created_at", 0), r.id))
    for record in ordered:  # first come, first served among the jobs that may start
        owner = owner_of(record.params)
        if per_owner.get(owner, 0) >= limits.per_user:
            if record.id == job_id:
                n = per_owner[owner]
                return False, f"waiting: {n} of your jobs running (at most {limits.per_user} per user)"
            continue
        if record.id == job_id:
            return True, ""
        return False, "waiting: older jobs start first"
    return False, "waiting: not in the queue"


def die_with_parent(parent: int) -> None:
    """End this process when its parent dies: a pool process must not outlive the job worker that started it.

    On Linux the kernel sends SIGKILL at the parent's death (``PR_SET_PDEATHSIG``);
    a thread checking the parent every :data:`WATCH_EVERY_S` covers other systems and the
    case of a parent thread (not process) ending.

    Parameters
    ----------
    parent : int
        The pid of the process that started this one, as that process saw itself: a parent killed
        while this one was still starting is noticed at once.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # it died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(WATCH_EVERY_S)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="swaxs-die-with-parent", daemon=True).start()


def end_process_group(pgid: int) -> None:
    """SIGKILL every process of group ``pgid`` (this one too, if it is in it)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def start_watchdog(check: Callable[[], str | None], on_stop: Callable[[str], None], pgid: int) -> threading.Thread:
    """Watch a running job from a thread: when ``check()`` returns a reason, call ``on_stop(reason)`` and end
    process group ``pgid``.

    ``check`` runs every :data:`WATCH_EVERY_S`; an exception in it (a busy store)
    is ignored until the next look.
    """

    def watch() -> None:
        while True:
            time.sleep(WATCH_EVERY_S)
            try:
                reason = check()
            except Exception:  # noqa: BLE001 -- a busy or briefly unreadable store: look again
                continue
            if reason is not None:
                try:
                    on_stop(reason)
                finally:
                    end_process_group(pgid)
                return

    thread = threading.Thread(target=watch, name="swaxs-job-watchdog", daemon=True)
    thread.start()
    return thread


__all__ = ["JobLimits", "NO_OWNER", "WATCH_EVERY_S", "check_can_queue", "die_with_parent", "end_process_group",
           "may_start", "owner_of", "start_watchdog"]
