"""Executors: the one way many independent tasks run -- in this process, in local worker processes, or elsewhere.

Sweeps (:func:`swaxs_lib.sweep.sweep`) and database builds
(:func:`swaxs_lib.ml.database.build_database`) hand their tasks to a
:class:`concurrent.futures.Executor` and read the outcomes with
:func:`map_as_completed`; they never create processes themselves.  The
executor is, in this order of precedence:

0. the one of an enclosing :func:`use_executor` (the command line's
   ``--scheduler``, a job's ``scheduler`` parameter): one connection for
   every batch inside it, left running.
1. the one the caller passes (``executor=``): any
   :class:`concurrent.futures.Executor` (a ``ThreadPoolExecutor``, Dask's
   ``Client.get_executor()``) or an object with a ``get_executor()`` method
   (a ``distributed.Client``).  The caller owns it: it is not shut down here.
   A thread pool runs the tasks in this process, so numba kernels run
   concurrently: the ``omp`` and ``tbb`` threading layers allow that, numba's
   fallback ``workqueue`` layer aborts.
2. the factory named by the environment variable :data:`EXECUTOR_ENV`
   (``SWAXS_EXECUTOR="package.module:function"``), called with the number of
   workers; this is how a deployment sends the jobs the pages submit to a
   cluster without changing sweep, build or page code.  Detached job workers
   inherit the variable (:func:`swaxs_lib.jobs.submit` passes the environment).
3. the dask scheduler named by ``$SWAXS_DASK_SCHEDULER`` (``tcp://HOST:PORT``):
   :func:`swaxs_lib.dask_executor.dask_executor`, connected for the batch.
4. :func:`local_executor`: :class:`SerialExecutor` for one worker (the
   serial path is the same code as the parallel one), else a pool of spawned
   processes, each set up by :func:`worker_init`.

Executors made by 2, 3 and 4 are shut down when the batch ends, pending tasks
cancelled.

Cancellation: the caller's loop stops the batch by raising (the job
runner's ``report`` raises :class:`~swaxs_lib.jobs.JobCancelled` once a job
was cancelled; Ctrl-C raises ``KeyboardInterrupt``).  :func:`map_as_completed`
then cancels every task not yet started and does not wait for them; tasks
already running in a local pool finish (a process cannot be stopped safely
mid-task) while the pool shuts down.

Examples
--------
>>> from contextlib import closing
>>> with open_executor(workers=1) as executor, closing(map_as_completed(executor, abs, [-2, 3])) as outcomes:
...     [(item, result) for item, result, error in outcomes]
[(-2, 2), (3, 3)]
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import importlib
import itertools
import multiprocessing
import os
import threading
from typing import Any, Callable, Iterable, Iterator, NamedTuple

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.jobqueue import JobLimits, die_with_parent

#: Scheduling priority (nice) of detached job workers, so that interactive users come first.
WORKER_NICENESS = 10
#: Environment of worker processes: one numba/OpenMP thread each.
WORKER_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OMP_WAIT_POLICY": "PASSIVE"}
#: Environment variable naming an executor factory ``"module:function"``, called as ``function(n_workers)``.
EXECUTOR_ENV = "SWAXS_EXECUTOR"
#: Environment variable with a dask scheduler address (``tcp://HOST:PORT``) that batches run on.
DASK_SCHEDULER_ENV = "SWAXS_DASK_SCHEDULER"

_AMBIENT: contextvars.ContextVar[concurrent.futures.Executor | None] = contextvars.ContextVar(
    "swaxs_executor", default=None)


class SerialExecutor(concurrent.futures.Executor):
    """An executor that runs each call in this process, at ``submit``, and returns its finished future.

    The exception a call raises is kept in its future (as the process pool
    does), so the serial path reports results and failures exactly as the
    parallel one.  One call at a time: :func:`executor_width` is 1.

    Examples
    --------
    >>> executor = SerialExecutor()
    >>> executor.submit(pow, 2, 10).result()
    1024
    >>> type(executor.submit(int, "ten").exception()).__name__
    'ValueError'
    """

    def __init__(self) -> None:
        self._shutdown = False
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> concurrent.futures.Future:
        with self._lock:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
        future: concurrent.futures.Future = concurrent.futures.Future()
        future.set_running_or_notify_cancel()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # as ThreadPoolExecutor does: the caller sees it from result()
            future.set_exception(exc)
        else:
            future.set_result(result)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._shutdown = True


class ExecutorLost(SwaxsInputError):
    """The executor itself failed (a dask scheduler went away): :func:`map_as_completed` re-raises it
    instead of reporting it as one item's failure."""


class Outcome(NamedTuple):
    """One finished task of :func:`map_as_completed`: its item, and its result or the exception it raised."""

    item: Any
    result: Any
    error: Exception | None


def worker_init(niceness: int | None = WORKER_NICENESS) -> None:
    """Set up a worker process: one numba/OpenMP thread, and at least ``niceness`` (None: leave it).

    The one initialiser of every worker: the detached job worker
    (:func:`swaxs_lib.jobs.main`) and each process of :func:`local_executor`.
    Raising the niceness *to* a level (not *by* it) makes it idempotent: a
    pool started by a job worker already at +10 stays at +10.

    Parameters
    ----------
    niceness : int or None
        The lowest scheduling priority (Unix nice value) to run at.
    """
    os.environ.update(WORKER_ENV)
    if niceness is not None:
        try:
            current = os.nice(0)
            if current < niceness:
                os.nice(niceness - current)
        except OSError:  # not allowed, or no nice on this system
            pass
    try:
        import numba

        numba.set_num_threads(1)
    except Exception:  # numba missing, or its threads already launched with fewer: the environment says 1
        pass


def worker_count(workers: int | None = None, n_tasks: int | None = None) -> int:
    """How many local workers to use: ``workers`` (default: the cores), at most ``n_tasks``, at least 1.

    Never more than the cores, or ``$SWAXS_MAX_WORKERS`` where the server sets it
    (:class:`swaxs_lib.jobqueue.JobLimits`): on a shared server a page asking for 16
    workers on 2 cores gets 2.

    Examples
    --------
    >>> worker_count(1), worker_count(10**6) == JobLimits.from_env().max_workers, worker_count(0, n_tasks=0)
    (1, True, 1)
    """
    n = int(workers or 0) or os.cpu_count() or 1
    n = min(n, JobLimits.from_env().max_workers)  # never more processes than the server's cores (or its setting)
    if n_tasks is not None:
        n = min(n, int(n_tasks))
    return max(1, n)


def local_executor(workers: int | None = None, *, niceness: int | None = None) -> concurrent.futures.Executor:
    """An executor on this machine: :class:`SerialExecutor` for one worker, else a pool of spawned processes.

    Processes are spawned, never forked (numba's OpenMP cannot fork), and set
    up by :func:`worker_init`: one numba thread each.

    Parameters
    ----------
    workers : int, optional
        Worker processes (default: the number of cores); 1 runs in this process.
    niceness : int, optional
        The pool's workers run at least this nice; None keeps this process's
        (a job's pool runs at its job worker's +10, a terminal's at the terminal's).

    Returns
    -------
    concurrent.futures.Executor
        The caller shuts it down (``with local_executor(n) as executor:``).
    """
    n = worker_count(workers)
    if n == 1:
        return SerialExecutor()
    return concurrent.futures.ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                                                  initializer=pool_worker_init, initargs=(niceness, os.getpid()))


def pool_worker_init(niceness: int | None = None, parent: int | None = None) -> None:
    """Set up a process of :func:`local_executor`'s pool: :func:`worker_init`, and end with the parent
    (:func:`swaxs_lib.jobqueue.die_with_parent`), so a killed job worker leaves no pool process behind."""
    worker_init(niceness)
    die_with_parent(os.getppid() if parent is None else parent)


def as_executor(executor: Any) -> concurrent.futures.Executor:
    """``executor`` itself if it is a :class:`concurrent.futures.Executor`, else its ``get_executor()``.

    So a Dask ``distributed.Client`` can be passed where an executor is
    expected (its ``get_executor()`` returns a ``concurrent.futures``
    executor whose futures :func:`concurrent.futures.wait` understands).

    Raises
    ------
    SwaxsInputError
        Neither an executor nor something that gives one.
    """
    if isinstance(executor, concurrent.futures.Executor):
        return executor
    get = getattr(executor, "get_executor", None)
    if callable(get):
        return as_executor(get())
    raise SwaxsInputError(f"executor: got a {type(executor).__name__}; expected a concurrent.futures.Executor "
                          "or an object with get_executor() (a distributed.Client)")


def executor_from_env(workers: int) -> concurrent.futures.Executor | None:
    """The executor of the factory named by ``$SWAXS_EXECUTOR`` (``module:function``), or None if it is unset.

    Raises
    ------
    SwaxsInputError
        The variable is set but does not name an importable callable.
    """
    spec = os.environ.get(EXECUTOR_ENV, "").strip()
    if not spec:
        return None
    module, _, name = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module), name) if module and name else None
    except (ImportError, AttributeError) as exc:
        raise SwaxsInputError(f"${EXECUTOR_ENV}: got {spec!r} ({type(exc).__name__}: {exc}); expected "
                              "module:function of an importable executor factory") from None
    if not callable(factory):
        raise SwaxsInputError(f"${EXECUTOR_ENV}: got {spec!r}; expected module:function of an executor factory")
    return as_executor(factory(workers))


@contextlib.contextmanager
def use_executor(executor: Any) -> Iterator[concurrent.futures.Executor | None]:
    """Within this block every :func:`open_executor` without ``executor=`` yields ``executor`` (None: no change).

    The caller owns ``executor``; it is not shut down here.  A command's
    ``--scheduler`` and a job's ``scheduler`` parameter connect once and run
    every batch of the command or job (an analysis has several) on it.
    """
    if executor is None:
        yield None
        return
    token = _AMBIENT.set(as_executor(executor))
    try:
        yield _AMBIENT.get()
    finally:
        _AMBIENT.reset(token)


@contextlib.contextmanager
def scheduler_scope(address: str | None, *, flag: str = "--scheduler") -> Iterator[concurrent.futures.Executor | None]:
    """Run every batch in the block on the dask scheduler at ``address`` (None or "": as before, locally).

    Connects once (:func:`swaxs_lib.dask_executor.dask_executor`; SwaxsInputError
    naming ``flag`` when nothing answers) and closes the connection at the end.

    Examples
    --------
    >>> with scheduler_scope(None) as executor:
    ...     executor is None
    True
    """
    if not address:
        yield None
        return
    from swaxs_lib.dask_executor import connected

    with connected(address, flag=flag) as executor, use_executor(executor):
        yield executor


def describe_executor(executor: concurrent.futures.Executor | None = None) -> dict[str, Any]:
    """Where tasks run, for job records and pages: ``executor`` ("local" or "dask"), ``scheduler``, ``dashboard``.

    ``executor`` None describes what :func:`open_executor` would use now (an
    enclosing :func:`use_executor`, else the environment, else local processes).

    Examples
    --------
    >>> describe_executor(SerialExecutor())["executor"]
    'local'
    """
    executor = executor if executor is not None else _AMBIENT.get()
    if executor is not None and hasattr(executor, "describe"):
        return dict(executor.describe())
    if executor is None:
        address = os.environ.get(DASK_SCHEDULER_ENV, "").strip()
        if address and not os.environ.get(EXECUTOR_ENV, "").strip():
            return {"executor": "dask", "scheduler": address, "workers": None, "dashboard": None}
        if os.environ.get(EXECUTOR_ENV, "").strip():
            return {"executor": os.environ[EXECUTOR_ENV].strip(), "scheduler": None, "workers": None,
                    "dashboard": None}
    width = executor_width(executor) if executor is not None else worker_count()
    return {"executor": "local", "scheduler": None, "workers": width, "dashboard": None}


@contextlib.contextmanager
def open_executor(workers: int | None = None, executor: Any = None, *,
                  n_tasks: int | None = None) -> Iterator[concurrent.futures.Executor]:
    """The executor of one batch of tasks, shut down at the end unless the caller passed it.

    Parameters
    ----------
    workers : int, optional
        Local workers (default: the cores; capped at ``n_tasks``); ignored when ``executor`` is given.
    executor : Executor or distributed.Client, optional
        Used as it is (:func:`as_executor`) and left running.
    n_tasks : int, optional
        How many tasks the batch has: no more local workers are started.

    Yields
    ------
    concurrent.futures.Executor
        ``executor``; else the one of an enclosing :func:`use_executor`; else the one of
        ``$SWAXS_EXECUTOR``; else a connection to ``$SWAXS_DASK_SCHEDULER``; else :func:`local_executor`.
    """
    if executor is None:
        executor = _AMBIENT.get()
    if executor is not None:
        yield as_executor(executor)
        return
    n = worker_count(workers, n_tasks)
    own = executor_from_env(n)
    if own is None and os.environ.get(DASK_SCHEDULER_ENV, "").strip():
        from swaxs_lib.dask_executor import dask_executor

        own = dask_executor(os.environ[DASK_SCHEDULER_ENV], flag=f"${DASK_SCHEDULER_ENV}")
    own = own or local_executor(n)
    try:
        yield own
    finally:  # pending tasks were cancelled by map_as_completed; running ones finish
        own.shutdown(wait=True)


def executor_width(executor: concurrent.futures.Executor) -> int | None:
    """How many tasks ``executor`` runs at once: 1 for :class:`SerialExecutor`, a pool's size, None if unknown."""
    if isinstance(executor, SerialExecutor):
        return 1
    width = getattr(executor, "_max_workers", None)  # ProcessPoolExecutor, ThreadPoolExecutor
    return int(width) if isinstance(width, int) and width > 0 else None


def map_as_completed(executor: concurrent.futures.Executor, fn: Callable[[Any], Any], items: Iterable[Any], *,
                     max_pending: int | None = None) -> Iterator[Outcome]:
    """Run ``fn(item)`` for every item on ``executor``; yield each :class:`Outcome` as its task finishes.

    At most ``max_pending`` tasks are submitted ahead of the outcomes read
    (default: one for :class:`SerialExecutor`, which runs a task at submit, so
    each outcome is seen before the next task starts; twice the pool's size
    for a local pool, so it never idles; all of them for an executor of
    unknown size, whose scheduler balances them).  An exception a task
    raises is that item's ``error``; the other items go on.

    Use it with :func:`contextlib.closing`: when the caller's loop raises
    (:class:`~swaxs_lib.jobs.JobCancelled`, ``KeyboardInterrupt``, anything),
    closing the generator cancels every task not yet started and returns at
    once, without waiting for the queue; so does a ``BaseException`` that is
    not an ``Exception`` raised by a task, which is re-raised.

    Parameters
    ----------
    executor : concurrent.futures.Executor
    fn : callable
        Called with one item; in a process pool it and the items must pickle
        (a module-level function, or a :func:`functools.partial` of one).
    items : iterable
        Submitted in this order.
    max_pending : int, optional
        Tasks submitted but not yet yielded, at most.

    Yields
    ------
    Outcome
        ``(item, result, error)``: ``error`` None and ``result`` the return
        value, or ``error`` the exception and ``result`` None.

    Examples
    --------
    >>> from contextlib import closing
    >>> with closing(map_as_completed(SerialExecutor(), lambda x: 1 / x, [1, 0, 4])) as outcomes:
    ...     [(o.item, o.result, type(o.error).__name__) for o in outcomes]
    [(1, 1.0, 'NoneType'), (0, None, 'ZeroDivisionError'), (4, 0.25, 'NoneType')]
    """
    if max_pending is None:
        width = executor_width(executor)
        max_pending = None if width is None else (1 if isinstance(executor, SerialExecutor) else 2 * width)
    queue = iter(items)
    pending: dict[concurrent.futures.Future, Any] = {}
    try:
        for item in itertools.islice(queue, max_pending):
            pending[executor.submit(fn, item)] = item
        while pending:
            finished, _ = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
            for future in [f for f in pending if f in finished]:  # in submission order
                item = pending.pop(future)
                try:
                    outcome = Outcome(item, future.result(), None)
                except ExecutorLost:  # the executor is gone, not the item: the whole batch fails
                    raise
                except Exception as exc:  # noqa: BLE001 -- the item's failure, reported with it
                    outcome = Outcome(item, None, exc)
                yield outcome
                # refill after the caller has seen the outcome: a serial executor runs the next task at submit
                for item in itertools.islice(queue, 1):
                    pending[executor.submit(fn, item)] = item
    except BaseException:  # the caller stopped (JobCancelled, KeyboardInterrupt, close()): drop the queue
        for future in pending:
            future.cancel()
        raise


__all__ = ["DASK_SCHEDULER_ENV", "EXECUTOR_ENV", "WORKER_ENV", "WORKER_NICENESS", "ExecutorLost", "Outcome",
           "SerialExecutor", "as_executor", "describe_executor", "executor_from_env", "executor_width",
           "local_executor", "map_as_completed", "open_executor", "pool_worker_init", "scheduler_scope",
           "use_executor", "worker_count", "worker_init"]
