"""The executor seam: the serial executor, the local process pool, executors passed in, failures and cancellation.

References: what ran is counted independently of the code under test (marker
files written by the tasks, a wrapper counting calls, an executor subclass
counting submissions); the niceness and thread count of workers are read back
from the operating system and numba.
"""

from __future__ import annotations

import concurrent.futures
import math
import os
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import numpy as np
import pytest

import swaxs_lib.sweep as sweep_module
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.executors import (
    EXECUTOR_ENV,
    SerialExecutor,
    as_executor,
    executor_width,
    local_executor,
    map_as_completed,
    open_executor,
)
from swaxs_lib.io import Measurement
from swaxs_lib.jobs import JobCancelled
from swaxs_lib.scattering import pair_distribution
from swaxs_lib.store import Store
from swaxs_lib.structures import decahedron
from swaxs_lib.sweep import sweep

ROOT = Path(__file__).resolve().parents[1]
GRID = "p=2..4,q=1,r=0|1"  # six small decahedra (13-147 atoms): quick refinements
OPTIONS = {"q_min_inv_angstrom": 0.8, "q_max_inv_angstrom": 24.0, "fix": ["qdamp"]}


class CountingThreadPool(concurrent.futures.ThreadPoolExecutor):
    """A thread pool that counts what is submitted to it (one thread: numba kernels are never run concurrently)."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.submitted = 0

    def submit(self, fn, /, *args, **kwargs):
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


def thread_factory(n_workers: int) -> CountingThreadPool:
    """An executor factory for ``$SWAXS_EXECUTOR`` (tests.test_executors:thread_factory)."""
    return CountingThreadPool()


def touch_slowly(path: str) -> str:
    """A task that takes 0.3 s and leaves a marker file: what ran can be counted afterwards."""
    time.sleep(0.3)
    Path(path).touch()
    return path


@pytest.fixture(scope="module")
def synthetic():
    """G(r) of an Au (3,1,1) decahedron, distances 2 % longer, 1 % noise, B 0.6 Å², Q 0.8-24 1/Å, r 1-20 Å."""
    atoms = decahedron("Au", 3, 1, 1).atoms
    r = np.arange(1.0, 20.0, 0.01)
    g = 0.7 * pair_distribution(atoms, r, 0.8, 24.0, b_iso_angstrom2=0.6, scale=1.02).g
    noisy = g + np.random.default_rng(7).normal(0, 0.01 * np.abs(g).max(), r.size)
    return Measurement("gr", r, noisy, None, "synthetic-dh311.gr", "angstrom")


def test_the_serial_executor_runs_at_submit_and_keeps_each_exception_in_its_future():
    executor = SerialExecutor()
    ran = []
    future = executor.submit(ran.append, 1)
    assert future.done() and ran == [1]  # ran before submit returned
    assert executor.submit(math.sqrt, -1.0).exception().args == ("math domain error",)

    def interrupted():
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):  # kept in the future, raised where the result is read
        executor.submit(interrupted).result()
    assert executor_width(executor) == 1
    executor.shutdown()
    with pytest.raises(RuntimeError, match="shutdown"):
        executor.submit(abs, 1)


@pytest.mark.parametrize("make", [SerialExecutor, lambda: concurrent.futures.ThreadPoolExecutor(2),
                                  lambda: local_executor(2)], ids=["serial", "threads", "processes"])
def test_an_exception_in_one_task_is_reported_for_that_item_only(make):
    items = [4.0, -1.0, 9.0, 16.0]
    with make() as executor, closing(map_as_completed(executor, math.sqrt, items)) as outcomes:
        seen = {o.item: o for o in outcomes}
    assert sorted(seen) == sorted(items)
    assert isinstance(seen[-1.0].error, ValueError) and seen[-1.0].result is None
    assert {x: seen[x].result for x in (4.0, 9.0, 16.0)} == {4.0: 2.0, 9.0: 3.0, 16.0: 4.0}
    assert all(seen[x].error is None for x in (4.0, 9.0, 16.0))


def test_the_serial_executor_yields_each_outcome_before_the_next_task_starts():
    ran = []

    def task(x):
        ran.append(x)
        return x

    with closing(map_as_completed(SerialExecutor(), task, range(10))) as outcomes:
        for outcome in outcomes:
            assert ran == list(range(outcome.item + 1))  # nothing ahead of what was yielded
            if outcome.item == 2:
                break
    assert ran == [0, 1, 2]


@pytest.mark.parametrize("make, max_pending, at_most", [
    (SerialExecutor, None, 1),
    (lambda: concurrent.futures.ThreadPoolExecutor(1), 20, 2),  # all 20 submitted at once: cancel() must drop them
    (lambda: local_executor(2), None, 5),
], ids=["serial", "threads-all-queued", "processes"])
def test_cancellation_stops_pending_work_without_waiting_for_the_queue(tmp_path, make, max_pending, at_most):
    paths = [str(tmp_path / f"{k:02d}") for k in range(20)]
    with pytest.raises(JobCancelled):
        with make() as executor, closing(map_as_completed(executor, touch_slowly, paths,
                                                          max_pending=max_pending)) as outcomes:
            for _ in outcomes:
                raise JobCancelled()  # what the job runner's report does once the job was cancelled
    # the executor has shut down: whatever ran has left its file. Serial: only the first task; one thread
    # with all 20 queued: the first and the one running when it was cancelled; a pool of 2: the first and
    # at most the 2 x 2 submitted ahead of it (never all 20); the queue was dropped, not waited for
    ran = sorted(p.name for p in tmp_path.iterdir())
    assert 1 <= len(ran) <= at_most, ran


def test_a_local_pool_has_one_numba_thread_per_worker_at_the_callers_niceness():
    with local_executor(2) as executor:
        assert executor_width(executor) == 2
        niceness = executor.submit(os.nice, 0).result()
        threads = executor.submit(os.getenv, "NUMBA_NUM_THREADS").result()
    assert niceness == os.nice(0) and threads == "1"


def test_the_worker_initialiser_raises_the_niceness_to_a_level_once():
    code = ("import os, numba; from swaxs_lib.executors import worker_init; worker_init(10); worker_init(10); "
            "print(os.nice(0), os.environ['OMP_NUM_THREADS'], numba.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(max(os.nice(0), 10)), "1", "1"]


def test_an_executor_passed_in_is_used_and_left_running():
    pool = CountingThreadPool()

    class Client:  # what distributed.Client offers
        def get_executor(self):
            return pool

    for given in (pool, Client()):
        with open_executor(workers=4, executor=given, n_tasks=3) as executor:
            assert executor is pool
    assert pool.submit(abs, -3).result() == 3  # not shut down
    pool.shutdown()
    with pytest.raises(SwaxsInputError, match="expected a concurrent.futures.Executor"):
        as_executor(object())


def test_an_executor_factory_named_in_the_environment_is_used_and_bad_names_refused(monkeypatch):
    monkeypatch.setenv(EXECUTOR_ENV, "tests.test_executors:thread_factory")
    with open_executor(workers=2) as executor:
        assert isinstance(executor, CountingThreadPool)
    with pytest.raises(RuntimeError, match="shutdown"):  # made for the batch, so shut down after it
        executor.submit(abs, 1)
    for bad in ("tests.test_executors:nothing_here", "no_such_module:f", "tests.test_executors"):
        monkeypatch.setenv(EXECUTOR_ENV, bad)
        with pytest.raises(SwaxsInputError, match=rf"\$SWAXS_EXECUTOR: got '{bad}'"):
            with open_executor(workers=2):
                pass


def _ranking(result):
    return [(r.candidate.label(), r.n_atoms, r.rw) for r in result.rows]


def test_the_serial_executor_the_process_pool_and_a_thread_pool_give_the_same_sweep(tmp_path, synthetic):
    serial = sweep(Store(tmp_path / "a.duckdb"), synthetic, "decahedron", "Au", GRID, OPTIONS, workers=1)
    pooled = sweep(Store(tmp_path / "b.duckdb"), synthetic, "decahedron", "Au", GRID, OPTIONS, workers=2)
    threads = CountingThreadPool()
    given = sweep(Store(tmp_path / "c.duckdb"), synthetic, "decahedron", "Au", GRID, OPTIONS, workers=2,
                  executor=threads)
    threads.shutdown()
    assert threads.submitted == 6 and given.computed == 6  # the executor passed in did the work
    assert len(serial.rows) == 6 and dict(serial.rows[0].candidate.params) == {"p": 3, "q": 1, "r": 1}
    # in this process (serial, threads) the same numba kernels run: the same numbers to the last bit
    assert _ranking(given) == _ranking(serial)
    assert [r.summary for r in given.rows] == [r.summary for r in serial.rows]
    # pool workers run numba on one thread, this process on all cores: sums in another order, so the
    # refined values agree to rounding (measured: 1e-9 relative), the ranking exactly
    assert [x[:2] for x in _ranking(pooled)] == [x[:2] for x in _ranking(serial)]
    np.testing.assert_allclose([r.rw for r in pooled.rows], [r.rw for r in serial.rows], rtol=1e-6)
    np.testing.assert_allclose([r.summary["expansion"] for r in pooled.rows],
                               [r.summary["expansion"] for r in serial.rows], rtol=1e-6)


def test_a_failing_candidate_is_skipped_with_its_reason_and_the_others_ranked(tmp_path, synthetic, monkeypatch):
    real = sweep_module.refine_candidate

    def refine(measurement, candidate, options):
        if dict(candidate.params) == {"p": 3, "q": 1, "r": 0}:
            raise SwaxsInputError("refinement: this candidate is refused on purpose")
        return real(measurement, candidate, options)

    monkeypatch.setattr(sweep_module, "refine_candidate", refine)
    result = sweep(Store(tmp_path / "s.duckdb"), synthetic, "decahedron", "Au", GRID, OPTIONS, workers=1)
    assert result.computed == 5 and len(result.rows) == 5
    assert result.skipped == (("Au decahedron (3,1,0)", "refinement: this candidate is refused on purpose"),)
    assert dict(result.rows[0].candidate.params) == {"p": 3, "q": 1, "r": 1}


def test_a_cancelled_sweep_keeps_what_it_finished_and_refines_nothing_more(tmp_path, synthetic, monkeypatch):
    real, calls = sweep_module.refine_candidate, []

    def refine(measurement, candidate, options):
        calls.append(candidate)
        return real(measurement, candidate, options)

    def report(done, total, note):
        if done >= 2:
            raise JobCancelled()

    monkeypatch.setattr(sweep_module, "refine_candidate", refine)
    store = Store(tmp_path / "s.duckdb")
    with pytest.raises(JobCancelled):
        sweep(store, synthetic, "decahedron", "Au", GRID, OPTIONS, workers=1, report=report)
    assert len(calls) == 2 and len(store.list_results("fit")) == 2
    # the rest is computed by the next sweep, the two finished ones reused
    again = sweep(store, synthetic, "decahedron", "Au", GRID, OPTIONS, workers=1)
    assert again.reused == 2 and again.computed == 4 and len(calls) == 6


def test_a_database_build_stores_the_same_rows_whichever_executor_runs_it(tmp_path):
    from swaxs_lib.ml.database import BuildSpec, build_database, plan_batches

    spec = BuildSpec(train_per_class=4, test_per_class=2, max_diameter_angstrom=14.0, batch_size=4, library=False)
    n_batches = len(plan_batches(spec))
    threads = CountingThreadPool()
    tables = {}
    for label, kwargs in (("serial", {"workers": 1}), ("pool", {"workers": 2}), ("given", {"executor": threads})):
        store = Store(tmp_path / f"{label}.duckdb")
        build_database(store, "x", spec, **kwargs)
        tables[label] = store.load_samples("x")
    threads.shutdown()
    assert threads.submitted == n_batches
    reference = tables["serial"]
    for label in ("pool", "given"):
        table = tables[label]
        assert np.array_equal(table.iq, reference.iq) and np.array_equal(table.gr, reference.gr), label
        assert all(list(table.labels[k]) == list(reference.labels[k]) for k in reference.labels), label

    # a build stopped from its progress callback keeps the batches stored and starts no other
    store = Store(tmp_path / "stopped.duckdb")

    def progress(done, total, note):
        if done > 0:
            raise JobCancelled()

    with pytest.raises(JobCancelled):
        build_database(store, "x", spec, workers=1, progress=progress)
    assert len(store.done_batches("x")) == 1
