"""The DuckDB store: round trips, ids, migrations, the curve cache, concurrency, errors.

Where the reference values come from (none is produced by the code under test):

* stored arrays are compared bit for bit (``tobytes``) with the arrays put in,
  including -0.0, NaN, the smallest subnormal 5e-324 and +-inf;
* raw bytes are all 256 byte values and their sha256 comes from ``hashlib``;
* persistence is checked by reading the file with a plain ``duckdb.connect``,
  not through the store;
* the v1 store is built by the first migration alone and filled by hand-written
  SQL, as a store written by the first release would be;
* cached curves are compared with direct, uncached calls of
  ``debye_intensity`` / ``pair_distribution`` (to 1e-12 relative; numba's
  parallel sums need not be bitwise reproducible between calls) and with
  the first cached call bit for bit;
* the dimer's forward intensity (2 Z)^2 = 24964 electrons^2 for Au (Z = 79)
  with f = Z;
* concurrency: writers are separate processes (``spawn``) and threads, and
  every row each of them wrote is read back and compared with what it wrote;
* fork safety is checked in real forked children (multiprocessing's "fork"
  and a plain ``os.fork`` exiting through interpreter shutdown).

Units: Q in 1/Å, r and positions in Å, B in Å^2.
"""

from __future__ import annotations

import base64
import hashlib
import multiprocessing
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import numpy as np
import pytest
from ase import Atoms

import swaxs_lib.store.curve_rows as curve_rows
import swaxs_lib.store.curves as curves_module
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.measurement import Measurement
from swaxs_lib.scattering import debye_intensity, pair_distribution
from swaxs_lib.store import (
    ENV_VAR,
    MIGRATIONS,
    SCHEMA_VERSION,
    CurveEntry,
    Store,
    StoreBusyError,
    cached_intensity,
    cached_pdf,
    cluster_hash,
    default_db_path,
    load_curves,
    save_curves,
)
from swaxs_lib.store._common import new_id
from swaxs_lib.store.schema import migrate
from swaxs_lib.structures import icosahedron

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RAW = bytes(range(256)) * 3 + "# Q(1/Å) I\n".encode()
SPECIAL = np.array([-0.0, np.nan, 5e-324, 1 / 3, 1e308, np.inf, -np.inf, 0.1])


def measurement(n: int = 8, *, sigma: bool = True, kind: str = "iq") -> Measurement:
    x = np.linspace(0.05, 2.0, n)
    values = np.resize(SPECIAL, n)
    return Measurement(
        kind=kind, x=x, values=values, uncertainties=np.sqrt(x) / 7 if sigma else None, source="au_run1.dat",
        x_unit="inv_nm", wavelength_angstrom=0.1665, header=("# Au 147, 24.9 keV", "# Q(1/Å) I σ"),
        metadata=(("instrument", "ID31"), ("columns", "q,i,sigma")),
    )


def same_bits(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def dimer(distance_angstrom: float = 2.88, symbols: str = "Au2") -> Atoms:
    return Atoms(symbols, positions=[(0, 0, 0), (0, 0, distance_angstrom)])


@pytest.fixture
def store(tmp_path):
    return Store(tmp_path / "store.duckdb")


# ---------------------------------------------------------------- paths


def test_default_path_is_data_under_the_repository_root(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert default_db_path() == Path(REPO) / "data" / "swaxs.duckdb"


def test_env_var_and_argument_choose_the_file_and_folders_are_created(monkeypatch, tmp_path):
    env_path = tmp_path / "deep" / "er" / "env.duckdb"
    monkeypatch.setenv(ENV_VAR, str(env_path))
    assert default_db_path() == env_path
    assert Store().path == env_path and env_path.is_file()
    arg_path = tmp_path / "arg" / "arg.duckdb"
    assert Store(arg_path).path == arg_path and arg_path.is_file()
    assert Store(arg_path).schema_version == SCHEMA_VERSION


def test_importing_the_store_leaves_numba_for_the_curve_cache():
    script = (
        "import sys, swaxs_lib.store as s\n"
        "assert 'numba' not in sys.modules and 'scipy' not in sys.modules, 'heavy import'\n"
        "s.cached_intensity\n"
        "assert 'numba' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


# ---------------------------------------------------------------- datasets


def test_dataset_round_trip_is_exact(store):
    m = measurement()
    added = store.add_dataset("Au147 run 1", RAW, "au_run1.dat", m)
    got = store.get_dataset(added.id)
    assert got.raw_bytes == RAW
    assert got.raw_sha256 == hashlib.sha256(RAW).hexdigest()
    assert (got.name, got.filename) == ("Au147 run 1", "au_run1.dat")
    g = got.measurement
    assert same_bits(g.x, m.x) and same_bits(g.values, m.values) and same_bits(g.uncertainties, m.uncertainties)
    assert (g.kind, g.x_unit, g.source, g.wavelength_angstrom) == ("iq", "inv_nm", "au_run1.dat", 0.1665)
    assert g.header == m.header and g.metadata == m.metadata
    assert got.created_at == added.created_at and got.created_at.tzinfo is not None
    assert same_bits(added.measurement.values, m.values)


def test_dataset_without_uncertainties_and_gr_kind(store):
    m = measurement(5, sigma=False, kind="gr")
    got = store.get_dataset(store.add_dataset("G(r)", b"", "x.gr", m).id).measurement
    assert got.uncertainties is None and got.kind == "gr" and same_bits(got.x, m.x)


def test_list_rename_delete(store):
    ids = [store.add_dataset(f"d{i}", RAW[: i + 1], f"f{i}.dat", measurement(3 + i)).id for i in range(3)]
    listed = store.list_datasets()
    assert [d.id for d in listed] == ids[::-1]  # newest first
    assert [d.n_points for d in listed] == [5, 4, 3] and [d.n_bytes for d in listed] == [3, 2, 1]
    assert listed[0].raw_sha256 == hashlib.sha256(RAW[:3]).hexdigest()
    renamed = store.rename_dataset(ids[1], "  better name ")
    assert renamed.name == "better name" and store.get_dataset(ids[1]).name == "better name"
    store.delete_dataset(ids[0])
    assert {d.id for d in store.list_datasets()} == set(ids[1:])
    with pytest.raises(SwaxsInputError, match=ids[0]):
        store.get_dataset(ids[0])
    with pytest.raises(SwaxsInputError, match=ids[0]):
        store.delete_dataset(ids[0])
    with pytest.raises(SwaxsInputError, match="name"):
        store.rename_dataset(ids[1], " ")


def test_new_id_draws_again_rather_than_begin_with_a_dash(monkeypatch):
    import swaxs_lib.store._common as common

    draws = iter(["-" + "x" * 21, "-" + "y" * 21, "z" * 22])
    monkeypatch.setattr(common.secrets, "token_urlsafe", lambda n: next(draws))
    assert new_id() == "z" * 22


def test_ids_are_unguessable_tokens(store):
    ids = [new_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    for token in ids:
        assert not token.startswith("-")  # it would read as a flag on a command line
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        assert len(base64.urlsafe_b64decode(token + "==")) * 8 >= 96
    # bits are spread: every one of the 128 bit positions varies over 1000 ids
    bits = np.unpackbits(np.frombuffer(b"".join(base64.urlsafe_b64decode(t + "==") for t in ids), np.uint8))
    columns = bits.reshape(1000, -1)
    assert columns.shape[1] >= 96 and columns.any(axis=0).all() and not columns.all(axis=0).any()
    # about half of the 128,000 bits are set, as for fair coins (mean 0.5, sd 0.0014; bound at 7 sd)
    assert abs(columns.mean() - 0.5) < 0.01
    stored = [store.add_dataset("x", b"1", "x", measurement(2)).id for _ in range(5)]
    assert len(set(stored)) == 5 and all(len(t) == 22 for t in stored)


def test_unknown_and_malformed_ids_name_the_id(store):
    with pytest.raises(SwaxsInputError, match="AAAAAAAAAAAAAAAAAAAAAA"):
        store.get_dataset("AAAAAAAAAAAAAAAAAAAAAA")
    with pytest.raises(SwaxsInputError, match="1; DROP TABLE"):
        store.get_dataset("1; DROP TABLE datasets")
    with pytest.raises(SwaxsInputError, match="measurement"):
        store.add_dataset("x", b"", "x", "not a measurement")
    with pytest.raises(SwaxsInputError, match="raw_bytes"):
        store.add_dataset("x", "text", "x", measurement())


def test_persists_in_the_file(tmp_path):
    path = tmp_path / "p.duckdb"
    dataset_id = Store(path).add_dataset("kept", RAW, "k.dat", measurement()).id
    con = duckdb.connect(str(path), read_only=True)
    try:
        raw, values = con.execute('SELECT raw_bytes, "values" FROM datasets WHERE id = ?', [dataset_id]).fetchone()
    finally:
        con.close()
    assert raw == RAW and same_bits(np.array(values), measurement().values)
    assert Store(path).get_dataset(dataset_id).raw_bytes == RAW
    # after a checkpoint the .duckdb file alone holds everything
    Store(path).checkpoint()
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(path.read_bytes())
    assert Store(copy).get_dataset(dataset_id).raw_bytes == RAW


def test_write_session_is_one_transaction(store):
    with pytest.raises(RuntimeError, match="boom"):
        with store.session(write=True):
            store.add_dataset("lost", b"", "x", measurement())
            raise RuntimeError("boom")
    assert store.list_datasets() == []
    with store.session(write=True):
        for i in range(3):
            store.add_dataset(f"kept{i}", b"", "x", measurement())
    assert len(store.list_datasets()) == 3


# ---------------------------------------------------------------- schema


V1_DATASET = (
    "INSERT INTO datasets VALUES ('v1v1v1v1v1v1v1v1v1v1v1', 'old', 'old.dat', '\\x00\\xFF'::BLOB, 'abc', 'sq', "
    "'inv_angstrom', 'old.dat', NULL, [0.5, 1.5], [1.25, 0.75], NULL, '[\"# v1\"]', '[[\"k\", \"v\"]]', "
    "TIMESTAMP '2024-05-01 12:00:00')"
)


def test_a_v1_store_is_upgraded_and_keeps_its_rows(tmp_path):
    path = tmp_path / "v1.duckdb"
    con = duckdb.connect(str(path))
    con.execute("BEGIN")
    assert migrate(con, target=1) == 1
    con.execute(V1_DATASET)
    con.execute("COMMIT")
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    con.close()
    assert tables == {"schema_version", "datasets", "clusters"}

    store = Store(path)
    assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS) >= 2
    old = store.get_dataset("v1v1v1v1v1v1v1v1v1v1v1")
    assert old.raw_bytes == b"\x00\xff" and old.measurement.kind == "sq"
    assert old.measurement.values.tolist() == [1.25, 0.75] and old.measurement.metadata == (("k", "v"),)
    with store.session() as cur:
        history = cur.execute("SELECT version, description FROM schema_version ORDER BY version").fetchall()
    assert [v for v, _ in history] == list(range(1, SCHEMA_VERSION + 1))
    assert [d for _, d in history] == [d for d, _ in MIGRATIONS]
    # the tables of later migrations work
    assert store.add_result("fit", {"a": 1}).kind == "fit"
    cached_intensity(store, dimer(), [0.0], form_factor_source="constant")
    assert store.table_counts()["curves"] == 1


def test_a_store_from_a_newer_swaxs_is_refused(tmp_path):
    path = tmp_path / "new.duckdb"
    Store(path)
    con = duckdb.connect(str(path))
    con.execute(f"INSERT INTO schema_version VALUES ({SCHEMA_VERSION + 1}, 'future', now()::TIMESTAMP)")
    con.close()
    with pytest.raises(SwaxsInputError, match="newer"):
        Store(path)


def test_corrupt_foreign_and_folder_paths_are_named(tmp_path):
    bad = tmp_path / "bad.duckdb"
    bad.write_bytes(os.urandom(4096))
    with pytest.raises(SwaxsInputError, match=str(bad)):
        Store(bad)
    foreign = tmp_path / "foreign.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    with pytest.raises(SwaxsInputError, match="no schema_version"):
        Store(foreign)
    with pytest.raises(SwaxsInputError, match="folder"):
        Store(tmp_path)


# ---------------------------------------------------------------- clusters


def test_cluster_hash_rounds_positions_and_keeps_order():
    a = dimer()
    assert cluster_hash(a) == cluster_hash(dimer(2.88 + 1e-8))  # below the 1e-6 Å resolution
    assert cluster_hash(a) != cluster_hash(dimer(2.88 + 1e-5))
    assert cluster_hash(a) != cluster_hash(dimer(symbols="AuAg"))
    swapped = Atoms("Au2", positions=a.positions[::-1])
    assert cluster_hash(a) != cluster_hash(swapped)  # order as given (documented)
    tagged = a.copy()
    tagged.set_tags([1, 2])
    tagged.cell = [10, 10, 10]
    assert cluster_hash(tagged) == cluster_hash(a)
    assert cluster_hash(Atoms("Au2", positions=[(-1e-9, 0, 0), (0, 0, 2.88)])) == cluster_hash(a)  # -0 == 0
    assert len(cluster_hash(a)) == 64
    with pytest.raises(SwaxsInputError, match="finite"):
        cluster_hash(Atoms("Au", positions=[(np.nan, 0, 0)]))


def test_add_cluster_is_idempotent_and_learns_the_shape(store):
    cluster = icosahedron("Au", 3)
    assert store.add_cluster(cluster.atoms) == cluster_hash(cluster)
    assert store.get_cluster(cluster_hash(cluster)).shape is None
    assert store.add_cluster(cluster) == store.add_cluster(cluster) == cluster_hash(cluster)
    assert store.table_counts()["clusters"] == 1
    record = store.get_cluster(cluster_hash(cluster))
    assert (record.shape, record.parameters, record.n_atoms, record.elements) == ("icosahedron", {"shells": 3}, 55, ("Au",))
    assert same_bits(record.atoms.positions, np.asarray(cluster.atoms.positions, dtype=float))
    assert record.atoms.get_chemical_symbols() == cluster.atoms.get_chemical_symbols()
    with pytest.raises(SwaxsInputError, match="0" * 64):
        store.get_cluster("0" * 64)


# ---------------------------------------------------------------- curve cache


def counting(monkeypatch, name):
    calls = []
    real = getattr(curves_module, name)

    def wrapper(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(curves_module, name, wrapper)
    return calls


def assert_same_curve(a, b):
    assert type(a) is type(b)
    for field in a.__dataclass_fields__:
        x, y = getattr(a, field), getattr(b, field)
        assert same_bits(x, y) if isinstance(x, np.ndarray) else x == y, field


def test_intensity_is_computed_once_and_returned_identically(store, monkeypatch):
    calls = counting(monkeypatch, "debye_intensity")
    cluster = icosahedron("Au", 3)
    q = np.linspace(0.0, 12.0, 301)
    first = cached_intensity(store, cluster, q, b_iso_angstrom2=0.6, energy_kev=24.9)
    second = cached_intensity(store, cluster, q, b_iso_angstrom2=0.6, energy_kev=24.9)
    again = cached_intensity(Store(store.path), cluster.atoms.copy(), list(q), b_iso_angstrom2=0.6, energy_kev=24.9)
    assert len(calls) == 1
    assert_same_curve(first, second)
    assert_same_curve(first, again)
    second.intensity[0] = -1.0  # a hit is a private copy
    assert cached_intensity(store, cluster, q, b_iso_angstrom2=0.6, energy_kev=24.9).intensity[0] > 0
    direct = debye_intensity(cluster.atoms, q, b_iso_angstrom2=0.6, energy_kev=24.9)
    np.testing.assert_allclose(first.intensity, direct.intensity, rtol=1e-12)
    assert store.get_cluster(cluster_hash(cluster)).shape == "icosahedron"


def test_every_input_is_part_of_the_key(store, monkeypatch):
    calls = counting(monkeypatch, "debye_intensity")
    q = np.linspace(0.5, 10.0, 50)
    base = dict(form_factor_source="constant")
    cached_intensity(store, dimer(), q, **base)
    variants = [
        (dimer(2.881), q, base),
        (dimer(symbols="AuAg"), q, base),
        (dimer(), q[::-1], base),
        (dimer(), np.nextafter(q, np.inf), base),  # one ulp
        (dimer(), q[:-1], base),
        (dimer(), q, {**base, "b_iso_angstrom2": 0.5}),
        (dimer(), q, {**base, "b_iso_angstrom2": {"Au": 0.5}}),
        (dimer(), q, {**base, "energy_kev": 11.0}),
        (dimer(), q, {**base, "mode": "exact"}),
        (dimer(), q, {**base, "scale": 1.01}),
        (dimer(), q, {"form_factor_source": "xraydb"}),
    ]
    for atoms, grid, kwargs in variants:
        cached_intensity(store, atoms, grid, **kwargs)
    assert len(calls) == 1 + len(variants)
    with monkeypatch.context() as patch:
        patch.setattr(curve_rows, "KERNEL_VERSION", "test-next")
        cached_intensity(store, dimer(), q, **base)
    assert len(calls) == 2 + len(variants)
    # and back on the current kernel version, nothing above is recomputed
    cached_intensity(store, dimer(), q, **base)
    for atoms, grid, kwargs in variants:
        cached_intensity(store, atoms, grid, **kwargs)
    assert len(calls) == 2 + len(variants)


def test_dimer_forward_intensity_through_the_cache(store):
    for _ in range(2):
        curve = cached_intensity(store, dimer(), [0.0, 1.0], form_factor_source="constant")
        assert curve.intensity[0] == 24964.0  # (2 * 79)^2 electrons^2


def test_pdf_is_computed_once_and_returned_identically(store, monkeypatch):
    calls = counting(monkeypatch, "pair_distribution")
    atoms = icosahedron("Pt", 3).atoms
    r = np.linspace(1.0, 12.0, 221)
    first = cached_pdf(store, atoms, r, 0.5, 20.0, q_damp_inv_angstrom=0.03)
    second = cached_pdf(store, atoms, r, 0.5, 20.0, q_damp_inv_angstrom=0.03)
    assert len(calls) == 1
    assert_same_curve(first, second)
    np.testing.assert_allclose(second.g, pair_distribution(atoms, r, 0.5, 20.0, q_damp_inv_angstrom=0.03).g,
                               rtol=1e-12, atol=1e-12 * np.abs(first.g).max())
    cached_pdf(store, atoms, r, 0.5, 22.0, q_damp_inv_angstrom=0.03)
    cached_pdf(store, atoms, r, 0.5, 20.0)
    assert len(calls) == 3


def test_bulk_saved_curves_are_hits_for_cached_intensity(store, monkeypatch):
    q = np.linspace(0.5, 10.0, 64)
    atoms = [dimer(2.5 + 0.1 * k) for k in range(4)]
    direct = [debye_intensity(a, q, b_iso_angstrom2=b, form_factor_source="constant") for a in atoms for b in (0.0, 0.4)]
    entries = [
        CurveEntry(a, "iq", q, {"mode": "fast", "b_iso_angstrom2": b, "energy_kev": None, "scale": 1.0}, "constant", c)
        for (a, b), c in zip([(a, b) for a in atoms for b in (0.0, 0.4)], direct)
    ]
    keys = save_curves(store, entries)
    assert len(set(keys)) == 8 and save_curves(store, entries) == keys  # idempotent
    assert store.table_counts()["curves"] == 8 and store.table_counts()["clusters"] == 4
    loaded = load_curves(store, keys, "iq")
    for key, curve in zip(keys, direct):
        assert_same_curve(loaded[key], curve)
    calls = counting(monkeypatch, "debye_intensity")
    hit = cached_intensity(store, atoms[2], q, b_iso_angstrom2=0.4, form_factor_source="constant")
    assert calls == [] and same_bits(hit.intensity, direct[5].intensity)
    assert load_curves(store, keys, "gr") == {}  # the kind is part of the answer
    with pytest.raises(SwaxsInputError, match="PDFCurve"):
        save_curves(store, [CurveEntry(atoms[0], "gr", q, {}, "constant", direct[0])])


def test_bad_curve_inputs_raise_input_errors(store):
    with pytest.raises(SwaxsInputError, match="q_inv_angstrom"):
        cached_intensity(store, dimer(), ["a"])
    with pytest.raises(SwaxsInputError, match="b_iso_angstrom2"):
        cached_intensity(store, dimer(), [1.0], b_iso_angstrom2="big")
    with pytest.raises(SwaxsInputError, match="mode"):
        cached_intensity(store, dimer(), [1.0], mode="quick")
    with pytest.raises(SwaxsInputError, match="atoms"):
        cached_intensity(store, "Au2", [1.0])
    assert store.table_counts()["curves"] == 0


# ---------------------------------------------------------------- results


def test_results_follow_a_job(store):
    dataset_id = store.add_dataset("d", b"", "d", measurement()).id
    job = store.add_result("job", {"grid": np.arange(3), "shape": "icosahedron"}, status="queued",
                           dataset_id=dataset_id)
    assert job.status == "queued" and job.params == {"grid": [0, 1, 2], "shape": "icosahedron"} and job.result is None
    running = store.update_result(job.id, status="running", message="3 of 10")
    assert running.status == "running" and running.message == "3 of 10" and running.updated_at >= job.updated_at
    done = store.update_result(job.id, status="done", result={"chi2": np.float64(1.25), "best": [1, 2]})
    assert store.get_result(job.id) == done
    assert done.result == {"chi2": 1.25, "best": [1, 2]} and done.message == "3 of 10"
    fit = store.add_result("fit", {"model": "sphere"}, result={"radius_angstrom": 12.5})
    assert [r.id for r in store.list_results()] == [fit.id, job.id]
    assert [r.id for r in store.list_results("job")] == [job.id]
    assert [r.id for r in store.list_results(status="done", dataset_id=dataset_id)] == [job.id]
    store.delete_result(fit.id)
    with pytest.raises(SwaxsInputError, match=fit.id):
        store.get_result(fit.id)
    with pytest.raises(SwaxsInputError, match="status"):
        store.update_result(job.id, status="finished")
    with pytest.raises(SwaxsInputError, match="kind"):
        store.add_result("guess", {})
    with pytest.raises(SwaxsInputError, match="JSON"):
        store.add_result("fit", {"f": object()})


# ---------------------------------------------------------------- concurrency


N_WRITERS, N_EACH = 4, 25
Q_SMALL = np.linspace(0.0, 8.0, 40)


def _writer(path, worker, barrier, results):
    """One batch job: N_EACH datasets and N_EACH cached curves, as fast as it can."""
    try:
        store = Store(path)
        barrier.wait(timeout=120)
        ids = []
        for i in range(N_EACH):
            m = Measurement("iq", np.array([0.1, 0.2]), np.array([worker, i], dtype=float), None, "w", "inv_angstrom")
            ids.append(store.add_dataset(f"w{worker}-{i}", f"{worker},{i}".encode(), "w.dat", m).id)
            cached_intensity(store, dimer(2.5 + 0.01 * i + 0.5 * worker), Q_SMALL, form_factor_source="constant")
        results.put((worker, ids, None))
    except BaseException as exc:  # reported to the parent, which fails the test
        results.put((worker, [], f"{type(exc).__name__}: {exc}"))


def test_processes_and_threads_write_concurrently_without_loss(tmp_path):
    path = tmp_path / "shared.duckdb"
    store = Store(path)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(N_WRITERS), ctx.Queue()
    workers = [ctx.Process(target=_writer, args=(str(path), w, barrier, results)) for w in range(N_WRITERS)]
    for p in workers:
        p.start()
    reports, reads, seen = {}, 0, []
    deadline = time.monotonic() + 120
    try:
        while len(reports) < N_WRITERS and time.monotonic() < deadline:
            counts = store.table_counts()  # the dashboard, reading meanwhile
            seen.append(counts["datasets"] + counts["curves"])
            store.list_datasets()
            reads += 1
            try:
                worker, ids, error = results.get(timeout=0.01)
                reports[worker] = (ids, error)
            except queue.Empty:
                pass
    finally:
        for p in workers:
            p.join(timeout=30)
    assert len(reports) == N_WRITERS, "a writer did not finish in time"
    assert all(error is None for _, error in reports.values()), reports
    assert reads > 5 and seen == sorted(seen)  # rows only ever appear
    counts = store.table_counts()
    assert counts["datasets"] == counts["curves"] == N_WRITERS * N_EACH
    for worker, (ids, _) in reports.items():
        assert [store.get_dataset(i).measurement.values.tolist() for i in ids] == [[worker, i] for i in range(N_EACH)]
    # every curve a worker computed is a hit here, equal to a direct computation
    curve = cached_intensity(store, dimer(2.5 + 0.01 * 7 + 0.5 * 3), Q_SMALL, form_factor_source="constant")
    np.testing.assert_allclose(
        curve.intensity, debye_intensity(dimer(2.57 + 1.5), Q_SMALL, form_factor_source="constant").intensity,
        rtol=1e-12)
    assert store.table_counts()["curves"] == N_WRITERS * N_EACH

    # threads of one process (dashboard sessions) sharing one Store
    errors = []

    def session(k):
        try:
            for i in range(10):
                store.add_result("fit", {"thread": k, "i": i})
                store.list_results()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=session, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(store.list_results()) == 60


def _hold(path, seconds, ready):
    store = Store(path)
    with store.session(write=True):
        ready.set()
        time.sleep(seconds)


def test_a_store_held_too_long_raises_busy(tmp_path):
    path = tmp_path / "busy.duckdb"
    store = Store(path, lock_timeout_s=0.3)
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(path), 2.0, ready))
    holder.start()
    try:
        assert ready.wait(timeout=60)
        start = time.monotonic()
        with pytest.raises(StoreBusyError, match="busy|held"):
            store.list_datasets()
        assert time.monotonic() - start < 1.5
    finally:
        holder.join(timeout=30)
    assert store.list_datasets() == []  # free again once the holder is done
    with pytest.raises(SwaxsInputError, match="lock_timeout_s"):
        Store(path, lock_timeout_s=0)


def _add_from_child(store, name):
    store.add_dataset(name, b"child", "c.dat", measurement(2))


def test_a_store_passed_to_a_forked_worker_works(store):
    store.list_datasets()  # the parent's gate and DuckDB instance exist before the fork
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=_add_from_child, args=(store, "from a forked job"))
    child.start()
    child.join(timeout=60)
    assert child.exitcode == 0
    assert [d.name for d in store.list_datasets()] == ["from a forked job"]
    # a plain os.fork child that exits through the interpreter's shutdown
    script = (
        "import os, sys\n"
        "from swaxs_lib.store import Store\n"
        f"store = Store({str(store.path)!r})\n"
        "store.list_datasets()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        "    store.rename_dataset(store.list_datasets()[0].id, 'renamed in a child')\n"
        "    sys.exit(0)\n"
        "sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert [d.name for d in store.list_datasets()] == ["renamed in a child"]


# ---------------------------------------------------------------- identical uploads


def test_identical_bytes_read_the_same_way_find_the_first_dataset(store):
    """The same file uploaded again is recognised by its bytes (sha256 from hashlib) and its reading."""
    from swaxs_lib.io import read_measurement_bytes

    pdf = Path(REPO, "tests", "data", "pt_np_jq_pdf", "JQ_S1.gr").read_bytes()
    first = store.add_dataset("Pt S1", pdf, "JQ_S1.gr", read_measurement_bytes(pdf, "JQ_S1.gr"))
    store.add_dataset("other", pdf[:-1], "cut.gr", read_measurement_bytes(pdf[:-1], "cut.gr"))
    again = read_measurement_bytes(pdf, "renamed copy.gr")  # another name, the same bytes
    found = store.find_identical_dataset(pdf, again)
    assert found is not None and found.id == first.id and found.raw_sha256 == hashlib.sha256(pdf).hexdigest()
    assert store.find_identical_dataset(pdf).id == first.id  # bytes alone
    # the same bytes read another way are another dataset
    assert store.find_identical_dataset(pdf, read_measurement_bytes(pdf, "JQ_S1.gr", x_unit="nm")) is None
    # a second copy stored anyway: the first one is still the one offered
    store.add_dataset("Pt S1 again", pdf, "JQ_S1.gr", again)
    assert store.find_identical_dataset(pdf, again).id == first.id
    assert store.find_identical_dataset(b"never uploaded") is None
    with pytest.raises(SwaxsInputError, match="raw_bytes"):
        store.find_identical_dataset("text, not bytes")


def test_identical_reading_compares_every_array_bit(store):
    m = measurement()
    store.add_dataset("a", RAW, "a.dat", m)
    assert store.find_identical_dataset(RAW, m) is not None  # NaN, inf and -0.0 included
    nudged = m.values.copy()
    nudged[-1] = np.nextafter(nudged[-1], 1.0)
    assert store.find_identical_dataset(RAW, Measurement(**{**m.__dict__, "values": nudged})) is None
    no_sigma = Measurement(**{**m.__dict__, "uncertainties": None})
    assert store.find_identical_dataset(RAW, no_sigma) is None
