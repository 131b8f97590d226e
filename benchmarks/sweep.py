"""Benchmark of the decahedron sweep: ours (parallel workers, fits cached in the store) against a serial loop.

Data: a synthetic gold PDF, G(r) of an Au (5,1,1) Marks decahedron with
distances 2 % longer, B = 0.6 Å², Q 0.8–24 1/Å, r 1–30 Å in 0.01 Å steps,
1 % Gaussian noise (fixed seed) -- the data of tests/test_sweep.py -- or, with
``--data FILE``, any measured G(r) (the Q range from its header).

Runs, all on the seed's 16-candidate default grid:

``serial loop``
    What the seed did: for each (p, q, r) in turn, build the cluster with ASE
    and refine one diffpy.srfit recipe (:func:`swaxs_lib.refine.cluster.refine_cluster`,
    the same recipe and generator as ours, so the ratio is the sweep
    machinery's: parallel workers and the cache), no store.
``ours cold``
    :func:`swaxs_lib.sweep.sweep` on an empty store, ``--workers`` processes.
``ours warm``
    The same sweep again: every fit comes from the store.
``ours +1``
    A sweep of the default grid plus (8,1,1): only the new candidate is refined.

It prints the machine, the table (wall time, ratio to the serial loop,
best candidate, its expansion) and writes benchmarks/results/sweep.json.

Run from the repository root::

    .venv/bin/python benchmarks/sweep.py             # ~1 min on 2 idle cores
    .venv/bin/python benchmarks/sweep.py --data tests/data/au144_pdf/Au144PET_100K-00000.gr
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from swaxs_lib.io import Measurement, read_measurement  # noqa: E402
from swaxs_lib.refine.cluster import refine_cluster  # noqa: E402
from swaxs_lib.scattering import pair_distribution  # noqa: E402
from swaxs_lib.store import Store  # noqa: E402
from swaxs_lib.structures import build_cluster, decahedron  # noqa: E402
from swaxs_lib.sweep import DEFAULT_DECAHEDRA, sweep  # noqa: E402

SEED = 20261202
OPTIONS = {"q_min_inv_angstrom": 0.8, "q_max_inv_angstrom": 24.0, "fix": ["qdamp"]}


def synthetic() -> Measurement:
    atoms = decahedron("Au", 5, 1, 1).atoms
    r = np.arange(1.0, 30.0, 0.01)
    g = 0.7 * pair_distribution(atoms, r, 0.8, 24.0, b_iso_angstrom2=0.6, scale=1.02).g
    noisy = g + np.random.default_rng(SEED).normal(0, 0.01 * np.abs(g).max(), r.size)
    return Measurement("gr", r, noisy, None, "synthetic Au (5,1,1) decahedron, +2 %", "angstrom")


def serial_loop(measurement: Measurement, options: dict) -> tuple[float, list[tuple[float, tuple, float]]]:
    start = time.perf_counter()
    rows = []
    for p, q, r in DEFAULT_DECAHEDRA:
        atoms = build_cluster("decahedron", "Au", p=p, q=q, r=r).atoms
        fit = refine_cluster(measurement, atoms, q_min_inv_angstrom=options.get("q_min_inv_angstrom"),
                             q_max_inv_angstrom=options.get("q_max_inv_angstrom"), fix=options.get("fix", ()))
        rows.append((fit.rw, (p, q, r), fit.value("expansion")))
    rows.sort()
    return time.perf_counter() - start, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="a measured G(r) file instead of the synthetic data")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)")
    parser.add_argument("--skip-serial", action="store_true", help="do not run the serial loop")
    args = parser.parse_args()
    if args.data:
        measurement, options = read_measurement(args.data), {"fix": []}
    else:
        measurement, options = synthetic(), OPTIONS
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores, "
          f"load {os.getloadavg()[0]:.2f}, Python {platform.python_version()}")
    print(f"data: {measurement.source}, {measurement.n_points} points; 16 candidates, {args.workers} workers")
    # compile and load every kernel once, outside the timings
    refine_cluster(measurement, decahedron("Au", 2, 1, 0).atoms, **{k: v for k, v in options.items() if k != "fix"},
                   fix=options.get("fix", ()))

    rows = []
    serial_s = None
    if not args.skip_serial:
        serial_s, serial_rows = serial_loop(measurement, options)
        best = serial_rows[0]
        rows.append(("serial loop (one srfit recipe per candidate)", serial_s, best[1], best[0], best[2]))
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bench.duckdb")
        for label, grid in (("ours cold", None), ("ours warm (all cached)", None),
                            ("ours +1 candidate (8,1,1)", [dict(p=p, q=q, r=r) for p, q, r in
                                                          DEFAULT_DECAHEDRA + ((8, 1, 1),)])):
            start = time.perf_counter()
            result = sweep(store, measurement, "decahedron", "Au", grid, options, workers=args.workers)
            seconds = time.perf_counter() - start
            top = result.rows[0]
            p = dict(top.candidate.params)
            rows.append((f"{label}: {result.computed} refined, {result.reused} reused", seconds,
                         (p["p"], p["q"], p["r"]), top.rw, top.summary.get("expansion")))
    print()
    print(f"{'run':58s} {'wall s':>8s} {'vs serial':>10s} {'best (p,q,r)':>13s} {'R_w':>8s} {'expansion':>10s}")
    for label, seconds, best, rw, expansion in rows:
        ratio = f"{serial_s / seconds:9.1f}x" if serial_s else "–"
        print(f"{label:58s} {seconds:8.2f} {ratio:>10s} {str(best):>13s} {rw:8.4f} {expansion:10.4f}")
    out = REPO / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "sweep.json").write_text(json.dumps(
        {"workers": args.workers, "cores": os.cpu_count(), "data": measurement.source,
         "rows": [{"run": r[0], "seconds": r[1], "best": r[2], "rw": r[3], "expansion": r[4]} for r in rows]},
        indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
