"""Benchmark of the store's curve cache against the same curves in Parquet files.

Writes and reads back N curves (default 10,000) of 1,000 Q points, each a
full :class:`~swaxs_lib.scattering.DebyeCurve` as the cache keeps it (Q,
I(Q), the self term and the complex <f>: 40 kB of float64/complex128), and
times one cache hit, for

``store, save_curves``
    one ``save_curves`` call (one transaction, one bulk insert: the path for
    a parameter sweep); read back with one ``load_curves`` query; hit =
    ``cached_intensity`` on an entry already stored (cluster hash, key,
    locked read-only session, decode).
``store, one transaction``
    ``save_curve`` for every curve inside one ``store.session(write=True)``.
``store, one session per curve``
    ``save_curve`` alone per curve: the lock, ATTACH, insert, commit and
    checkpoint every time (what independent dashboard calls pay); run on at
    most ``--per-call-max`` curves, so compare the per-curve columns.
``parquet, one file``
    one pyarrow table (a row per curve, fixed-size list columns) written
    with ``pyarrow.parquet.write_table`` and read with ``read_table``; hit =
    ``read_table`` with a filter on the key.  A cache cannot append to it
    without rewriting it, so this bounds what a bulk format does.
``parquet, file per curve``
    one Parquet file per curve named by its key (what a file cache does);
    hit = read one file.

Every method rebuilds ``DebyeCurve`` objects on reading, and the read-back
curves are checked bit for bit against the written ones (outside the
timings).  Each method runs in a fresh interpreter; *peak MiB* is the largest
rise of the process's peak resident memory (VmHWM, reset through
``/proc/self/clear_refs`` before each phase) over the resident memory at the
phase's start, so it counts DuckDB's and Arrow's own allocations, which
tracemalloc does not see.  Ratios divide a method's per-curve time by the
``parquet, one file`` row's.

Run from the repository root::

    .venv/bin/python benchmarks/store.py               # 10,000 curves, ~2 min
    .venv/bin/python benchmarks/store.py --quick       # 1,000 curves
    .venv/bin/python benchmarks/store.py --n-curves 2000 --methods store-batch,parquet-one
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

N_POINTS = 1000
Q_MIN, Q_MAX = 0.5, 20.0
SEED = 20240501
HIT_REPEATS = 21
METHODS = {
    "store-bulk": "store, save_curves",
    "store-batch": "store, one transaction",
    "store-each": "store, one session per curve",
    "parquet-one": "parquet, one file",
    "parquet-files": "parquet, file per curve",
}
REFERENCE = "parquet-one"


# ------------------------------------------------------------------ memory


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


class Phase:
    """Times a block and records the rise of peak RSS over the RSS at its start."""

    def __enter__(self):
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM to the current RSS
        except OSError:
            pass
        self.rss0 = _status_kib("VmRSS")
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0
        self.peak_mib = max(0, _status_kib("VmHWM") - self.rss0) / 1024


# ------------------------------------------------------------------ data


def make_curves(n: int):
    """n synthetic DebyeCurves sharing one 55-atom cluster, keyed by B = 2 + i * 1e-4 Å^2."""
    from swaxs_lib.scattering import DebyeCurve
    from swaxs_lib.store import cluster_hash, curve_key
    from swaxs_lib.structures import icosahedron

    rng = np.random.default_rng(SEED)
    cluster = icosahedron("Au", 3)
    structure = cluster_hash(cluster)
    q = np.linspace(Q_MIN, Q_MAX, N_POINTS)
    intensity = rng.random((n, N_POINTS)) * 1e6
    self_term = rng.random((n, N_POINTS)) * 1e4
    mean_f = rng.random((n, N_POINTS)) + 1j * rng.random((n, N_POINTS))
    # B from 2 Å^2 up, so no synthetic key equals the hit's (B = 0.5 Å^2, a real computed curve)
    params = [{"mode": "fast", "b_iso_angstrom2": 2.0 + i * 1e-4, "energy_kev": None, "scale": 1.0} for i in range(n)]
    keys = [curve_key(structure, "iq", q, p, "xraydb") for p in params]
    curves = [DebyeCurve(q, intensity[i], self_term[i], mean_f[i], 55, "fast", 0.01) for i in range(n)]
    return cluster, q, params, keys, curves


def same(a, b) -> bool:
    return all(
        (x.tobytes() == y.tobytes() and x.dtype == y.dtype) if isinstance(x, np.ndarray) else x == y
        for x, y in ((getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    )


def time_hits(hit) -> float:
    hit()  # warm
    times = []
    for _ in range(HIT_REPEATS):
        t0 = time.perf_counter()
        hit()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def folder_mib(path: Path) -> float:
    if not path.exists():
        return 0.0
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


# ------------------------------------------------------------------ methods


def run_store(n: int, workdir: Path, how: str) -> dict:
    from swaxs_lib.store import CurveEntry, Store, cached_intensity, load_curves, save_curve, save_curves

    cluster, q, params, keys, curves = make_curves(n)
    store = Store(workdir / "bench.duckdb")
    with Phase() as write:
        if how == "bulk":
            saved = save_curves(store, (CurveEntry(cluster, "iq", q, p, "xraydb", c) for p, c in zip(params, curves)))
        elif how == "batch":
            with store.session(write=True):
                for key, p, curve in zip(keys, params, curves):
                    save_curve(store, key, cluster, "iq", q, p, "xraydb", curve)
        else:
            for key, p, curve in zip(keys, params, curves):
                save_curve(store, key, cluster, "iq", q, p, "xraydb", curve)
    if how == "bulk":
        assert saved == keys, "save_curves made other keys"
    with Phase() as read:
        back = load_curves(store, keys, "iq")
    assert len(back) == n and all(same(back[k], c) for k, c in zip(keys, curves)), "read-back differs"
    del back
    before = store.table_counts()["curves"]
    cached_intensity(store, cluster, q, b_iso_angstrom2=0.5)  # the miss: computes and stores
    assert store.table_counts()["curves"] == before + 1, "the hit's curve was already stored"
    with Phase() as hits:
        hit_s = time_hits(lambda: cached_intensity(store, cluster, q, b_iso_angstrom2=0.5))
    return {"write_s": write.seconds, "read_s": read.seconds, "hit_s": hit_s,
            "peak_mib": max(write.peak_mib, read.peak_mib, hits.peak_mib),
            "peak_write_mib": write.peak_mib, "peak_read_mib": read.peak_mib,
            "disk_mib": folder_mib(store.path) + folder_mib(Path(f"{store.path}.wal"))}


def _arrow_table(keys, curves):
    import pyarrow as pa

    def column(rows):
        flat = np.ascontiguousarray(np.stack(rows)).ravel()
        return pa.FixedSizeListArray.from_arrays(pa.array(flat), N_POINTS)

    return pa.table({
        "key": pa.array(keys),
        "q_inv_angstrom": column([c.q_inv_angstrom for c in curves]),
        "intensity": column([c.intensity for c in curves]),
        "self_intensity": column([c.self_intensity for c in curves]),
        "mean_f_real": column([c.mean_f.real for c in curves]),
        "mean_f_imag": column([c.mean_f.imag for c in curves]),
        "n_atoms": pa.array([c.n_atoms for c in curves], pa.int64()),
        "mode": pa.array([c.mode for c in curves]),
        "bin_width_angstrom": pa.array([c.bin_width_angstrom for c in curves], pa.float64()),
    })


def _curves_from_table(table):
    from swaxs_lib.scattering import DebyeCurve

    def matrix(name):
        col = table.column(name).combine_chunks()
        return col.values.to_numpy(zero_copy_only=False).reshape(len(col), N_POINTS)

    q, i, s = matrix("q_inv_angstrom"), matrix("intensity"), matrix("self_intensity")
    f = matrix("mean_f_real") + 1j * matrix("mean_f_imag")
    n_atoms, modes = table.column("n_atoms").to_pylist(), table.column("mode").to_pylist()
    widths, keys = table.column("bin_width_angstrom").to_pylist(), table.column("key").to_pylist()
    return {k: DebyeCurve(q[j], i[j], s[j], f[j], n_atoms[j], modes[j], widths[j]) for j, k in enumerate(keys)}


def _hit_key(cluster, q):
    from swaxs_lib.store import cluster_hash, curve_key

    params = {"mode": "fast", "b_iso_angstrom2": 0.5, "energy_kev": None, "scale": 1.0}
    return curve_key(cluster_hash(cluster), "iq", q, params, "xraydb")


def run_parquet_one(n: int, workdir: Path) -> dict:
    import pyarrow.parquet as pq

    cluster, q, _, keys, curves = make_curves(n)
    path = workdir / "curves.parquet"
    hit_key = _hit_key(cluster, q)
    with Phase() as write:
        pq.write_table(_arrow_table(keys + [hit_key], curves + [curves[0]]), path)
    with Phase() as read:
        back = _curves_from_table(pq.read_table(path))
    assert len(back) == n + 1 and all(same(back[k], c) for k, c in zip(keys, curves)), "read-back differs"
    del back
    with Phase() as hits:
        hit_s = time_hits(lambda: _curves_from_table(
            pq.read_table(path, filters=[("key", "==", _hit_key(cluster, q))]))[hit_key])
    return {"write_s": write.seconds, "read_s": read.seconds, "hit_s": hit_s,
            "peak_mib": max(write.peak_mib, read.peak_mib, hits.peak_mib),
            "peak_write_mib": write.peak_mib, "peak_read_mib": read.peak_mib, "disk_mib": folder_mib(path)}


def run_parquet_files(n: int, workdir: Path) -> dict:
    import pyarrow.parquet as pq

    cluster, q, _, keys, curves = make_curves(n)
    folder = workdir / "curves"
    folder.mkdir()
    with Phase() as write:
        for key, curve in zip(keys, curves):
            pq.write_table(_arrow_table([key], [curve]), folder / f"{key}.parquet")
    with Phase() as read:
        back = {}
        for key in keys:
            back.update(_curves_from_table(pq.read_table(folder / f"{key}.parquet")))
    assert len(back) == n and all(same(back[k], c) for k, c in zip(keys, curves)), "read-back differs"
    del back
    hit_key = _hit_key(cluster, q)
    pq.write_table(_arrow_table([hit_key], [curves[0]]), folder / f"{hit_key}.parquet")
    with Phase() as hits:
        hit_s = time_hits(lambda: _curves_from_table(
            pq.read_table(folder / f"{_hit_key(cluster, q)}.parquet"))[hit_key])
    return {"write_s": write.seconds, "read_s": read.seconds, "hit_s": hit_s,
            "peak_mib": max(write.peak_mib, read.peak_mib, hits.peak_mib),
            "peak_write_mib": write.peak_mib, "peak_read_mib": read.peak_mib, "disk_mib": folder_mib(folder)}


def child(method: str, n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="swaxs-store-bench-") as tmp:
        workdir = Path(tmp)
        if method.startswith("store-"):
            row = run_store(n, workdir, method.removeprefix("store-"))
        elif method == "parquet-one":
            row = run_parquet_one(n, workdir)
        else:
            row = run_parquet_files(n, workdir)
    print(json.dumps({"method": method, "n": n, **row}))


# ------------------------------------------------------------------ driver


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-curves", type=int, default=10_000, help="curves per method (default 10000)")
    parser.add_argument("--quick", action="store_true", help="1,000 curves, per-session store on 200")
    parser.add_argument("--per-call-max", type=int, default=2_000,
                        help="most curves for 'store, one session per curve' (default 2000)")
    parser.add_argument("--methods", default=",".join(METHODS), help=f"subset of {','.join(METHODS)}")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.n_curves)
        return 0
    n = 1_000 if args.quick else args.n_curves
    per_call = min(n, 200 if args.quick else args.per_call_max)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown or n < 1:
        parser.error(f"--methods: unknown {', '.join(unknown)}; expected a subset of {', '.join(METHODS)}"
                     if unknown else "--n-curves: expected >= 1")

    versions = {p: metadata.version(p) for p in ("duckdb", "pyarrow", "numpy")}
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          + ", ".join(f"{k} {v}" for k, v in versions.items()) + f", load {os.getloadavg()[0]:.2f}", file=sys.stderr)
    print(f"# {n} curves of {N_POINTS} points (40 kB each as DebyeCurve); hits: median of {HIT_REPEATS}",
          file=sys.stderr)
    rows = []
    for method in methods:
        count = per_call if method == "store-each" else n
        print(f"# running {METHODS[method]} on {count} curves ...", file=sys.stderr, flush=True)
        done = subprocess.run([sys.executable, __file__, "--child", method, "--n-curves", str(count)],
                              capture_output=True, text=True, cwd=REPO)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))

    ref = next((r for r in rows if r["method"] == REFERENCE), None)
    head = (f"{'method':<30} {'curves':>6} {'write s':>8} {'read s':>7} {'hit ms':>7} {'write ms/curve':>14} "
            f"{'read ms/curve':>13} {'write x':>7} {'read x':>6} {'hit x':>6} {'peak MiB':>8} {'disk MiB':>8}")
    print(head)
    print("-" * len(head))
    for r in rows:
        w, rd = 1e3 * r["write_s"] / r["n"], 1e3 * r["read_s"] / r["n"]
        if ref is not None:
            ratios = (w / (1e3 * ref["write_s"] / ref["n"]), rd / (1e3 * ref["read_s"] / ref["n"]),
                      r["hit_s"] / ref["hit_s"])
            ratio_text = f"{ratios[0]:>7.2f} {ratios[1]:>6.2f} {ratios[2]:>6.2f}"
        else:
            ratio_text = f"{'n/a':>7} {'n/a':>6} {'n/a':>6}"
        print(f"{METHODS[r['method']]:<30} {r['n']:>6} {r['write_s']:>8.2f} {r['read_s']:>7.2f} "
              f"{1e3 * r['hit_s']:>7.2f} {w:>14.3f} {rd:>13.3f} {ratio_text} {r['peak_mib']:>8.0f} "
              f"{r['disk_mib']:>8.0f}")
    print(f"ratios: per-curve time / '{METHODS[REFERENCE]}' per-curve time (hit: per hit); "
          "peak MiB: largest rise of peak RSS within a phase")
    return 0


if __name__ == "__main__":
    sys.exit(main())
