"""The Dask executor: run a batch's tasks on a ``dask.distributed`` cluster through its scheduler address.

:func:`dask_executor` connects a :class:`distributed.Client` to a running
scheduler (``tcp://HOST:PORT``) and returns a :class:`DaskExecutor`, a
:class:`concurrent.futures.Executor` that sweeps, database builds and
analyses use exactly as they use the local process pool
(:mod:`swaxs_lib.executors`).  ``distributed`` is imported only here, and only
when a scheduler is asked for: the default local path needs no Dask.

What runs where
---------------
A task is one candidate of a sweep or one batch of a database build: a
module-level function and plain data (the measurement's arrays, a frozen
candidate, a :class:`~swaxs_lib.ml.database.Batch`); its result is plain data
(a fit, a batch's curves as float arrays).  Workers never open the store:
the caller -- the one process that submitted the batch -- writes every result
as it arrives, once.  A task whose worker dies is run again by the scheduler
(Dask reschedules the tasks of a lost worker; ``retries`` also reruns a task
that raised), and its future still completes once, so the result is stored
once.

A scheduler that goes away mid-batch fails the batch with
:class:`SchedulerLost` (a :class:`~swaxs_lib.errors.SwaxsInputError`: one
line naming the address), raised by the next :meth:`DaskExecutor.submit` and
set on every pending future, within :data:`LOST_AFTER_S` -- never a hang.

References
----------
Dask distributed documentation, "Futures" and "Resilience" (rescheduling of
the tasks of a lost worker, ``distributed.scheduler.allowed-failures``),
https://distributed.dask.org/en/stable/resilience.html

Validation: tests/test_dask_executor.py runs a database build and a sweep on a
``LocalCluster`` of two worker processes and compares the stored results with
the local executor's; kills a worker mid-task; shuts the cluster down mid-job.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import os
import threading
import time
from typing import Any, Callable, Iterator

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.executors import DASK_SCHEDULER_ENV, ExecutorLost

#: Seconds to wait for a scheduler to answer when connecting.
CONNECT_TIMEOUT_S = 10.0
#: Seconds a scheduler may stay unreachable mid-batch before the batch fails.
LOST_AFTER_S = 5.0
#: How often (s) the executor checks that its scheduler is still there.
WATCH_EVERY_S = 0.5
#: Times a task that raised is run again (a lost worker's tasks are rescheduled regardless).
RETRIES = 2
#: Dask configuration of the worker nannies: Dask's default environment without ``MALLOC_TRIM_THRESHOLD_``
#: (None unsets it).  Dask sets that variable to 65536 (to return memory to the system sooner); it also
#: fixes glibc's mmap threshold, and a candidate's refinement then takes 1.7-2.4x as long (measured: the
#: same refinement, 1.43 s in a plain process, 2.53 s with the variable set; in a Dask worker 2.8-3.3 s
#: with it, 1.5-1.9 s without).  :func:`local_cluster` uses it; a cluster started by hand should too
#: (a dask config file on the workers, docs/scaling.md: environment variables cannot unset it).
WORKER_DASK_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
#: Shared task data (a batch's ``functools.partial``) kept on the cluster for the newest this many batches.
SHARED_KEPT = 4


class SchedulerLost(ExecutorLost):
    """The executor's scheduler went away: the whole batch fails, not one item (:func:`swaxs_lib.executors.map_as_completed` re-raises it)."""


def check_address(address: str, flag: str = "--scheduler") -> str:
    """``address`` stripped, if it looks like a scheduler address (``tcp://HOST:PORT``, ``tls://``, ``inproc://``).

    Examples
    --------
    >>> check_address(" tcp://10.0.0.5:8786 ")
    'tcp://10.0.0.5:8786'
    >>> check_address("10.0.0.5")
    Traceback (most recent call last):
    ...
    swaxs_lib.errors.SwaxsInputError: --scheduler: got '10.0.0.5'; expected a dask scheduler address tcp://HOST:PORT
    """
    text = str(address or "").strip()
    scheme, sep, rest = text.partition("://")
    if not sep or scheme not in ("tcp", "tls", "inproc", "ucx", "ws", "wss") or not rest:
        raise SwaxsInputError(f"{flag}: got {address!r}; expected a dask scheduler address tcp://HOST:PORT")
    return text


class DaskExecutor(concurrent.futures.Executor):
    """A :class:`concurrent.futures.Executor` on a ``distributed.Client``; its futures are plain ``concurrent.futures`` ones.

    Parameters
    ----------
    client : distributed.Client
    address : str
        The scheduler's address (for messages and job listings).
    retries : int
        Reruns of a task that raised.
    own_client : bool
        Close the client at :meth:`shutdown` (True when :func:`dask_executor` made it).
    """

    def __init__(self, client: Any, address: str, *, retries: int = RETRIES, own_client: bool = True,
                 lost_after_s: float = LOST_AFTER_S) -> None:
        self.client = client
        self.address = address
        self.retries = int(retries)
        self.own_client = own_client
        self.lost_after_s = float(lost_after_s)
        self._pending: dict[concurrent.futures.Future, Any] = {}
        self._shared_tasks: dict[int, tuple[Any, Any]] = {}
        self._lock = threading.Lock()
        self._lost: str | None = None
        self._shutdown = False
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="swaxs-dask-watch", daemon=True)
        self._watcher.start()

    # -- what the dashboard and map_as_completed read
    @property
    def dashboard_link(self) -> str | None:
        """The Dask dashboard's address, if the scheduler serves one there (None otherwise).

        A scheduler without ``bokeh`` still lists a dashboard port but answers 404, so the link is
        tried once (2 s) from here, and kept.
        """
        if not hasattr(self, "_dashboard"):
            self._dashboard = None
            try:
                info = self.client.scheduler_info()
                if set(info.get("services") or {}) & {"dashboard", "bokeh"}:
                    import urllib.request

                    link = self.client.dashboard_link
                    with urllib.request.urlopen(link, timeout=2) as answer:  # noqa: S310 -- the scheduler's own
                        self._dashboard = link if answer.status < 400 else None
            except Exception:  # noqa: BLE001 -- a link is a nicety: none when it does not answer
                self._dashboard = None
        return self._dashboard

    @property
    def _max_workers(self) -> int | None:
        """Threads of the cluster's workers now (read by :func:`swaxs_lib.executors.executor_width`)."""
        try:
            return sum(self.client.nthreads().values()) or None
        except Exception:  # noqa: BLE001
            return None

    def describe(self) -> dict[str, Any]:
        """Where tasks run: ``{"executor": "dask", "scheduler": address, "workers": threads, "dashboard": link}``."""
        return {"executor": "dask", "scheduler": self.address, "workers": self._max_workers,
                "dashboard": self.dashboard_link}

    # -- the executor
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        with self._lock:
            if self._lost:
                raise SchedulerLost(self._lost)
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
        if isinstance(fn, functools.partial):  # the batch's shared data (a sweep's measurement): sent once
            fn = self._shared(fn)
        args, fn = (fn, *args), _call
        # pure=False: every submission is its own task (no hashing of the measurement's arrays per task)
        remote = self.client.submit(fn, *args, pure=False, retries=self.retries, **kwargs)
        future: concurrent.futures.Future = concurrent.futures.Future()
        with self._lock:
            self._pending[future] = remote

        def cancelled(f: concurrent.futures.Future) -> None:  # the caller dropped it: so does the scheduler
            if f.cancelled() and remote.status not in ("finished", "error", "cancelled"):
                with contextlib.suppress(Exception):
                    remote.cancel()

        def settle(done: Any) -> None:  # runs in the client's callback thread
            with self._lock:
                if self._pending.pop(future, None) is None or future.cancelled():  # settled already
                    return
            try:
                if future.cancelled():
                    return
                if done.status == "finished":
                    future.set_result(done.result())
                elif done.status == "cancelled":
                    future.set_exception(self._lost_error("the scheduler dropped the task: it closed or restarted"))
                else:
                    future.set_exception(done.exception())
            except concurrent.futures.InvalidStateError:  # cancelled meanwhile
                pass
            except Exception as exc:  # noqa: BLE001 -- fetching the result failed: the scheduler or worker went
                with contextlib.suppress(concurrent.futures.InvalidStateError):
                    future.set_exception(self._lost_error(f"{type(exc).__name__}: {exc}"))

        future.add_done_callback(cancelled)
        remote.add_done_callback(settle)
        return future

    def _shared(self, fn: functools.partial) -> Any:
        """``fn`` sent to the cluster once per batch: its tasks then carry a reference, not its data.

        A sweep's tasks share ``partial(refine_candidate, measurement, options=...)``: pickled with
        every task it would move the measurement's arrays once per candidate (47 kB for a 2,900-point
        G(r)); sent once, each worker fetches it once from whichever worker holds it.
        """
        with self._lock:
            cached = self._shared_tasks.get(id(fn))
            if cached is not None and cached[0] is fn:
                return cached[1]
        # a task that returns fn, not client.scatter: the scheduler keeps the task, so when the worker
        # holding fn dies, fn is computed again elsewhere (scattered data would be lost with it)
        remote = self.client.submit(_identity, fn, pure=False)
        with self._lock:
            self._shared_tasks[id(fn)] = (fn, remote)  # fn kept alive: its id is not reused meanwhile
            while len(self._shared_tasks) > SHARED_KEPT:  # the oldest batch's: released once its tasks are done
                self._shared_tasks.pop(next(iter(self._shared_tasks)))
        return remote

    def _lost_error(self, why: str) -> SchedulerLost:
        return SchedulerLost(f"scheduler {self.address}: not reachable ({why}); expected a running dask scheduler")

    def _watch(self) -> None:
        """Fail every pending task once the scheduler has been gone for :attr:`lost_after_s`."""
        gone_since = None
        while not self._stop.wait(WATCH_EVERY_S):
            status = str(getattr(self.client, "status", "running"))
            if status in ("running", "newly-created"):
                gone_since = None
                continue
            gone_since = gone_since or time.monotonic()
            if time.monotonic() - gone_since < self.lost_after_s:
                continue
            error = self._lost_error(f"lost mid-batch, client {status} for {self.lost_after_s:g} s")
            with self._lock:
                self._lost = str(error)
                pending, self._pending = list(self._pending), {}
            for future in pending:
                with contextlib.suppress(concurrent.futures.InvalidStateError):
                    future.set_exception(error)
            return

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            if self._shutdown:
                return
            self._shutdown = True
            pending = dict(self._pending)
        if pending and self._lost is None:
            with contextlib.suppress(Exception):
                if cancel_futures or not wait:
                    self.client.cancel(list(pending.values()))
                else:  # the running ones (a cancelled future never counts as done for wait())
                    concurrent.futures.wait([f for f in pending if not f.cancelled()], timeout=None)
        self._stop.set()
        self._shared_tasks.clear()
        if self.own_client:
            with contextlib.suppress(Exception):
                self.client.close(timeout=2)


def _identity(value: Any) -> Any:
    return value


def _call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` on a worker, with one numba/OpenMP thread as in a local worker process.

    ``fn`` may arrive as the result of a shared task (resolved by Dask).  One
    thread per task (:func:`swaxs_lib.executors.worker_init`, set in the
    executing thread, whose numba thread count is its own) makes the arithmetic
    the local executor's, so the results are the same; a node's cores are used
    by its worker threads or processes (``dask worker --nthreads N``).  The
    worker's niceness is left as its operator set it.
    """
    from swaxs_lib.executors import worker_init

    worker_init(None)
    return fn(*args, **kwargs)


def dask_executor(address: str, *, timeout_s: float = CONNECT_TIMEOUT_S, retries: int = RETRIES,
                  flag: str = "--scheduler") -> DaskExecutor:
    """Connect to the dask scheduler at ``address``; the caller shuts the executor down (``with dask_executor(a) as ex:``).

    Parameters
    ----------
    address : str
        ``tcp://HOST:PORT`` of a running ``dask scheduler`` (``distributed``'s own, a ``LocalCluster``'s,
        a dask-jobqueue cluster's).
    timeout_s : float
        Seconds to wait for it to answer.
    retries : int
        Reruns of a task that raised.
    flag : str
        Where the address came from, for messages (``--scheduler``, ``$SWAXS_DASK_SCHEDULER``, a job's params).

    Raises
    ------
    SwaxsInputError
        ``distributed`` is not installed, the address is malformed, or nothing answers within ``timeout_s``.
    """
    address = check_address(address, flag)
    try:
        import distributed
    except ImportError as exc:
        raise SwaxsInputError(f"{flag}: got {address}, but dask.distributed is not installed ({exc}); expected "
                              "pip install 'dask[distributed]' (requirements.txt pins it)") from None
    try:
        client = distributed.Client(address, timeout=timeout_s, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise SwaxsInputError(f"scheduler {address}: not reachable ({type(exc).__name__}: {exc}; waited "
                              f"{timeout_s:g} s); expected a running dask scheduler") from None
    return DaskExecutor(client, address, retries=retries)


def local_cluster(n_workers: int = 2, **kwargs: Any):
    """A ``distributed.LocalCluster`` of ``n_workers`` processes with one thread each, workers set up as
    :data:`WORKER_DASK_CONFIG` says (tests, benchmarks, a single big server).  The caller closes it."""
    import dask
    import distributed

    with dask.config.set(WORKER_DASK_CONFIG):
        return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                        **{"dashboard_address": None, "silence_logs": 40, **kwargs})


def scheduler_from_env() -> str | None:
    """The address in ``$SWAXS_DASK_SCHEDULER``, or None if it is unset or empty."""
    value = os.environ.get(DASK_SCHEDULER_ENV, "").strip()
    return value or None


@contextlib.contextmanager
def connected(address: str | None, *, flag: str = "--scheduler") -> Iterator[DaskExecutor | None]:
    """:func:`dask_executor` for ``address`` (None: yield None), closed at the end."""
    if not address:
        yield None
        return
    executor = dask_executor(address, flag=flag)
    try:
        yield executor
    finally:
        executor.shutdown(wait=False, cancel_futures=True)


__all__ = ["CONNECT_TIMEOUT_S", "LOST_AFTER_S", "RETRIES", "DaskExecutor", "SchedulerLost",
           "WORKER_DASK_CONFIG", "check_address", "connected", "dask_executor", "local_cluster",
           "scheduler_from_env"]
