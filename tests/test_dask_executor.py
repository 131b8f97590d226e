"""The Dask executor: same stored results as the local executor, each stored once when a worker dies,
a scheduler that goes away fails the job with that reason (issue 20 items 1-4).

One ``LocalCluster`` of two worker processes (one thread each) serves the module; the job test starts
its own, which it shuts down mid-job.  References are this machine's local executor runs of the same
deterministic computations: the database build (seeded per sample) and the refinements are compared
bit for bit (``np.array_equal``, no tolerance).
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import threading
import time

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

from swaxs_lib.cli import main  # noqa: E402
from swaxs_lib.dask_executor import DaskExecutor, SchedulerLost, dask_executor, local_cluster  # noqa: E402
from swaxs_lib.errors import SwaxsInputError  # noqa: E402
from swaxs_lib.executors import describe_executor, map_as_completed, open_executor, scheduler_scope  # noqa: E402
from swaxs_lib.io import Measurement, read_measurement_bytes  # noqa: E402
from swaxs_lib.jobs import get_job, submit, where_of  # noqa: E402
from swaxs_lib.ml.database import BuildSpec, build_database, plan_batches  # noqa: E402
from swaxs_lib.scattering import pair_distribution  # noqa: E402
from swaxs_lib.store import Store  # noqa: E402
from swaxs_lib.store.fits import read_fit  # noqa: E402
from swaxs_lib.structures import decahedron  # noqa: E402
from swaxs_lib.sweep import sweep  # noqa: E402

SPEC = BuildSpec(train_per_class=2, test_per_class=0, max_diameter_angstrom=14.0, batch_size=8, library=False)
GRID = "p=3|4,q=1,r=1"  # two decahedra: 0.3-0.6 s each
OPTIONS = {"q_min_inv_angstrom": 0.8, "q_max_inv_angstrom": 24.0, "fix": ["qdamp"]}


def cluster():
    # a dashboard on a free port of this machine only: the job page links to it
    return local_cluster(2, dashboard_address="127.0.0.1:0")


@pytest.fixture(scope="module")
def running():
    """The module's cluster; the last test shuts it down mid-job."""
    with cluster() as c:
        yield c


@pytest.fixture(scope="module")
def scheduler(running):
    return running.scheduler_address


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The build on the local executor (in this process)."""
    store = Store(tmp_path_factory.mktemp("reference") / "local.duckdb")
    build_database(store, "x", SPEC, workers=1)
    return store


@pytest.fixture(scope="module")
def synthetic():
    """G(r) of an Au (5,1,1) decahedron, 2 % expanded, 1 % noise (as tests/test_sweep.py)."""
    atoms = decahedron("Au", 5, 1, 1).atoms
    r = np.arange(1.0, 15.0, 0.02)
    g = 0.7 * pair_distribution(atoms, r, 0.8, 24.0, b_iso_angstrom2=0.6, scale=1.02).g
    noisy = g + np.random.default_rng(20261202).normal(0, 0.01 * np.abs(g).max(), r.size)
    return Measurement("gr", r, noisy, None, "synthetic-dh511.gr", "angstrom")


def stored_build(store: Store):
    table = store.load_samples("x")
    with store.session() as cur:
        batches = cur.execute("SELECT batch_key, count(*) FROM ml_batches WHERE build = 'x' GROUP BY 1").fetchall()
    return table, dict(batches)


def test_a_build_and_a_sweep_on_the_cluster_store_what_the_local_executor_stores(tmp_path, scheduler, synthetic,
                                                                                  reference):
    local, remote = reference, Store(tmp_path / "remote.duckdb")
    here = sweep(local, synthetic, "decahedron", "Au", GRID, OPTIONS, workers=1)
    with scheduler_scope(scheduler) as executor:
        assert describe_executor()["scheduler"] == scheduler and executor.describe()["workers"] == 2
        build_database(remote, "x", SPEC, workers=1)  # workers ignored: the scheduler's two run it
        there = sweep(remote, synthetic, "decahedron", "Au", GRID, OPTIONS, workers=1)
    (a, batches_a), (b, batches_b) = stored_build(local), stored_build(remote)
    assert set(batches_a) == set(batches_b) == {p.key for p in plan_batches(SPEC)}
    assert set(batches_b.values()) == {1}
    # same samples, bit for bit (seeded per sample; stored order is by batch key and index)
    assert np.array_equal(a.iq, b.iq) and np.array_equal(a.gr, b.gr) and all(np.array_equal(a.labels[k], b.labels[k]) for k in a.labels)
    # same refinements, bit for bit: same code, one numba thread per task on both executors
    assert [r.candidate for r in here.rows] == [r.candidate for r in there.rows]
    for x, y in zip(here.rows, there.rows):
        fx, fy = read_fit(local.get_result(x.result_id)), read_fit(remote.get_result(y.result_id))
        assert x.rw == y.rw and np.array_equal(fx.curves.fitted, fy.curves.fitted)


def _die_once(marker: str, fn, item):
    """Run ``fn(item)``, then -- the first time any task gets here -- kill this worker process before it returns."""
    result = fn(item)
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return result
    os.kill(os.getpid(), signal.SIGKILL)


class DyingOnce:
    """An executor that runs each task through :func:`_die_once` on the real Dask executor."""

    def __init__(self, inner, marker):
        self.inner, self.marker = inner, marker

    def get_executor(self):
        import concurrent.futures

        outer = self

        class Wrapped(concurrent.futures.Executor):
            _max_workers = 2

            def submit(self, fn, /, *args, **kwargs):
                return outer.inner.submit(functools.partial(_die_once, outer.marker, fn), *args, **kwargs)

        return Wrapped()


def test_a_worker_killed_mid_task_is_rerun_and_every_result_is_stored_once(tmp_path, scheduler, reference):
    store, marker = Store(tmp_path / "kill.duckdb"), tmp_path / "died"
    with dask_executor(scheduler) as executor:
        result = build_database(store, "x", SPEC, executor=DyingOnce(executor, str(marker)))
    assert marker.exists()  # a worker was killed after computing a batch, before returning it
    plan = plan_batches(SPEC)
    table, batches = stored_build(store)
    assert set(batches) == {p.key for p in plan} and set(batches.values()) == {1}
    assert len(table.iq) == sum(p.count for p in plan) == sum(result["samples"].values())
    assert np.array_equal(stored_build(reference)[0].iq, table.iq)


def test_the_environment_names_the_scheduler_of_every_batch(scheduler, monkeypatch):
    monkeypatch.setenv("SWAXS_DASK_SCHEDULER", scheduler)
    assert describe_executor()["scheduler"] == scheduler
    with open_executor(workers=1) as pool:
        assert isinstance(pool, DaskExecutor) and pool.submit(abs, -3).result() == 3
    # a caller that stops early (a cancelled job): the rest is cancelled on the cluster, nothing waits for it
    start = time.monotonic()
    with open_executor() as pool, contextlib.closing(map_as_completed(pool, time.sleep, [0.0, 3, 3, 3, 3])) as runs:
        next(runs)
    assert time.monotonic() - start < 2.5


def test_a_batch_on_the_cluster_writes_the_rows_the_local_executor_writes(tmp_path, scheduler, capsys):
    """``batch --scheduler``: each file a task on the cluster, the same rows (fit-saxs on analytic spheres) as locally."""
    import csv

    from tests.test_batch import _sphere_file

    for r in (20.0, 35.0):
        _sphere_file(tmp_path / f"s{int(r)}.dat", r)
    rows = {}
    for where, extra in (("local", ["--workers", "1"]), ("dask", ["--scheduler", scheduler])):
        out = tmp_path / f"{where}.csv"
        assert main(["batch", str(tmp_path / "s*.dat"), "--task", "fit-saxs", *extra, "--out", str(out), "--",
                     "--model", "sphere"]) == 0
        with out.open() as f:
            rows[where] = [{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(f)]
    # the same fits: at the noise-free optimum only R_w and χ² (~1e-8, ~1e-11) differ in their last digits
    assert [r["status"] for r in rows["dask"]] == ["done", "done"] and len(rows["dask"]) == len(rows["local"])
    for d, loc in zip(rows["dask"], rows["local"]):
        assert d["file"] == loc["file"] and float(d["radius"]) == pytest.approx(float(loc["radius"]), rel=1e-7)
    assert f"tasks run on dask scheduler {scheduler}" in capsys.readouterr().err


def test_an_unreachable_or_malformed_scheduler_is_one_line_naming_it(tmp_path, capsys):
    with pytest.raises(SwaxsInputError, match=r"scheduler tcp://127\.0\.0\.1:9: not reachable .*expected a running"):
        dask_executor("tcp://127.0.0.1:9", timeout_s=0.5)
    status = main(["build-db", "--scheduler", "127.0.0.1:8786", "--db", str(tmp_path / "cli.duckdb"), "--size", "tiny"])
    assert status == 2 and "--scheduler: got '127.0.0.1:8786'; expected" in capsys.readouterr().err.strip().splitlines()[-1]
    assert issubclass(SchedulerLost, SwaxsInputError)
    with contextlib.suppress(Exception), open_executor(workers=1) as pool:
        assert describe_executor(pool)["executor"] == "local"


def test_the_dask_dashboard_is_linked_where_a_job_runs(tmp_path, scheduler, monkeypatch):
    """Issue 20 item 4: the job's panel links the scheduler's dashboard, and the link answers (bokeh installed)."""
    import socket
    import urllib.request

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from pages._shared import md, web_link

    executor = dask_executor(scheduler)
    try:
        where = describe_executor(executor)
    finally:
        executor.shutdown()
    link = where["dashboard"]
    assert link and link.startswith("http://127.0.0.1:"), where
    with urllib.request.urlopen(link, timeout=10) as answer:
        assert answer.status == 200 and b"Dask" in answer.read()

    path = tmp_path / "dashboard.duckdb"
    monkeypatch.setenv("SWAXS_DB", str(path))
    st.cache_resource.clear()
    store = Store(path)
    params = {"cluster": {"shape": "icosahedron", "element": "Au", "params": {"shells": 3}}, "steps": 5}
    job = store.add_result("job", {"task": "relax", "target": "swaxs_lib.relax:run", "args": params,
                                   "label": "relax on dask", "owner": ""}, status="running",
                           result={"worker": {"pid": os.getpid(), "host": socket.gethostname(), "where": where}})
    at = AppTest.from_file(os.path.join(os.path.dirname(__file__), "..", "app.py"), default_timeout=60)
    at.switch_page("pages/relax.py")
    at.query_params["job"] = job.id
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    captions = [c.value for c in at.caption if "Runs on" in c.value]
    assert captions == [f"Runs on {md(f'dask scheduler {scheduler} (2 worker threads)')} · [Dask dashboard]({link})"]
    for hostile in ("javascript:alert(1)", "http://x.org/a)[b](http://y.org", "http://x.org/<img>"):
        assert web_link(hostile) is None
    store.update_result(job.id, status="cancelled")
    st.cache_resource.clear()


def test_a_job_whose_scheduler_is_shut_down_fails_with_that_reason(tmp_path, synthetic, running):
    store = Store(tmp_path / "job.duckdb")
    raw = "\n".join(f"{x:.3f} {y:.8g}" for x, y in zip(synthetic.x, synthetic.values)).encode()
    dataset = store.add_dataset("synthetic", raw, "synthetic.gr", read_measurement_bytes(raw, "synthetic.gr"))
    c, address = running, running.scheduler_address

    def shut_down_after_the_first_fit():
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not store.list_results(kind="fit"):
            time.sleep(0.1)
        c.close()

    closer = threading.Thread(target=shut_down_after_the_first_fit)
    closer.start()
    try:
        job = submit(store, "sweep", {"dataset_id": dataset.id, "shape": "decahedron", "element": "Au",
                                      "grid": "p=3..8,q=1,r=1", "options": OPTIONS, "scheduler": address},
                     detach=False)
    finally:
        closer.join()
        c.close()
    record = get_job(store, job.id)
    assert record.status == "failed"
    assert f"scheduler {address}: not reachable" in record.message and "expected a running dask scheduler" in record.message
    assert where_of(record)[0].startswith(f"dask scheduler {address}")
