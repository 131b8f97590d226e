"""Scale-out benchmark: database build and sweep on 1 and 2 local workers and on a Dask LocalCluster of 2.

Runs, each three ways -- the local executor with 1 worker (this process),
with 2 worker processes, and a ``dask.distributed`` ``LocalCluster`` of 2
worker processes with one thread each, reached through its scheduler address
(:func:`swaxs_lib.dask_executor.dask_executor`) as a remote cluster would be:

``build``
    :func:`swaxs_lib.ml.database.build_database` of ``--train-per-class``
    samples per shape class (no test splits, no library), into an empty store:
    curves per second as the build counts them (every simulated curve, a
    polydisperse sample's components included) and stored curves per second
    (two per sample: I(Q) and G(r)).
``sweep``
    :func:`swaxs_lib.sweep.sweep` of 64 Au decahedra (``p=2..5,q=1..4,r=0..3``,
    7 to 1,734 atoms) against the synthetic G(r) of tests/test_sweep.py, into an
    empty store: candidates per second.

Steady state: every executor is started and warmed up (numba compiles its
kernels once per process) before the timed runs; the start-up is reported
apart.  The three run in turn, ``--rounds`` times, and each keeps its best
round: on a shared machine the load changes by the minute, and this gives
every executor the same chances.  Ratios: *scaling efficiency* = rate(2 local) / (2 x rate(1 local));
*Dask overhead* = time(Dask 2) / time(2 local) - 1 (positive: Dask slower).

The machine is shared: the header prints the load average, and figures from a
loaded machine are lower bounds on its speed.  Run from the repository root::

    .venv/bin/python benchmarks/scale.py                  # ~10 min on 2 idle cores
    .venv/bin/python benchmarks/scale.py --train-per-class 20 --candidates 16   # quicker
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from _machine import cpu_name, git_state, version  # noqa: E402

from swaxs_lib.executors import SerialExecutor, local_executor  # noqa: E402
from swaxs_lib.io import Measurement  # noqa: E402
from swaxs_lib.ml.database import BuildSpec, build_database  # noqa: E402
from swaxs_lib.scattering import pair_distribution  # noqa: E402
from swaxs_lib.store import Store  # noqa: E402
from swaxs_lib.structures import decahedron  # noqa: E402
from swaxs_lib.sweep import sweep  # noqa: E402

GRID = "p=2..5,q=1..4,r=0..3"
OPTIONS = {"q_min_inv_angstrom": 0.8, "q_max_inv_angstrom": 24.0, "fix": ["qdamp"]}


def synthetic() -> Measurement:
    """G(r) of an Au (5,1,1) decahedron, distances 2 % longer, 1 % noise (tests/test_sweep.py's data)."""
    atoms = decahedron("Au", 5, 1, 1).atoms
    r = np.arange(1.0, 30.0, 0.01)
    g = 0.7 * pair_distribution(atoms, r, 0.8, 24.0, b_iso_angstrom2=0.6, scale=1.02).g
    return Measurement("gr", r, g + np.random.default_rng(20261202).normal(0, 0.01 * np.abs(g).max(), r.size),
                       None, "synthetic-dh511.gr", "angstrom")


def warm(executor, measurement: Measurement, tmp: str) -> None:
    """Compile every worker's kernels: a tiny build and a tiny sweep (one task per worker at least)."""
    tiny = BuildSpec(train_per_class=2, test_per_class=0, max_diameter_angstrom=14.0, batch_size=2, library=False)
    build_database(Store(f"{tmp}/warm-{time.monotonic_ns()}.duckdb"), "w", tiny, executor=executor)
    sweep(Store(f"{tmp}/warm-{time.monotonic_ns()}.duckdb"), measurement, "decahedron", "Au", "p=2..3,q=1,r=0..1",
          OPTIONS, executor=executor)


def timed(executor, measurement, spec, grid, tmp) -> dict:
    start = time.perf_counter()
    built = build_database(Store(f"{tmp}/build-{time.monotonic_ns()}.duckdb"), "b", spec, executor=executor)
    build_s = time.perf_counter() - start
    start = time.perf_counter()
    swept = sweep(Store(f"{tmp}/sweep-{time.monotonic_ns()}.duckdb"), measurement, "decahedron", "Au", grid,
                  OPTIONS, executor=executor)
    sweep_s = time.perf_counter() - start
    samples = sum(built["samples"].values())
    return {"build_s": build_s, "curves": built["curves"], "curves_per_s": built["curves"] / build_s,
            "samples": samples, "stored_curves_per_s": 2 * samples / build_s,
            "sweep_s": sweep_s, "candidates": swept.computed, "candidates_per_s": swept.computed / sweep_s,
            "best": swept.rows[0].candidate.label()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--train-per-class", type=int, default=30, help="samples per shape class in the build")
    parser.add_argument("--max-diameter", type=float, default=30.0, help="largest template diameter (Å)")
    parser.add_argument("--grid", default=GRID, help="the sweep's decahedron grid (default: 64 candidates)")
    parser.add_argument("--rounds", type=int, default=2, help="timed runs of each executor, in turn (best kept)")
    parser.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "scale.json"))
    args = parser.parse_args(argv)
    commit, dirty = git_state("swaxs_lib", "benchmarks/scale.py")
    print(f"# swaxs {commit}{' (edited)' if dirty else ''}; {cpu_name()}, {os.cpu_count()} cores; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; dask {version('dask')}, distributed "
          f"{version('distributed')}, numba {version('numba')}", flush=True)
    spec = BuildSpec(train_per_class=args.train_per_class, test_per_class=0, max_diameter_angstrom=args.max_diameter,
                     batch_size=30, library=False)
    measurement = synthetic()
    rows: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        from swaxs_lib.dask_executor import dask_executor, local_cluster
        from swaxs_lib.executors import worker_init

        worker_init(None)  # this process as a worker: one numba thread
        executors, startup = {}, {}
        cluster = None
        try:
            for name in ("local 1", "local 2", "dask 2"):
                start = time.perf_counter()
                if name == "local 1":
                    executors[name] = SerialExecutor()
                elif name == "local 2":
                    executors[name] = local_executor(2)
                else:
                    cluster = local_cluster(2)  # without Dask's MALLOC_TRIM_THRESHOLD_ (WORKER_DASK_CONFIG)
                    executors[name] = dask_executor(cluster.scheduler_address)
                warm(executors[name], measurement, tmp)
                startup[name] = time.perf_counter() - start
            # rounds, the three executors in turn: on a shared machine the load changes by the minute; the
            # best round of each is kept (every executor had the same chances)
            for k in range(args.rounds):
                for name, executor in executors.items():
                    row = timed(executor, measurement, spec, args.grid, tmp)
                    print(f"round {k + 1} {name}: build {row['curves']} curves in {row['build_s']:.1f} s; sweep "
                          f"{row['candidates']} candidates in {row['sweep_s']:.1f} s (best {row['best']}); load "
                          f"{os.getloadavg()[0]:.1f}", flush=True)
                    best = rows.get(name)
                    if best is None:
                        rows[name] = {**row, "startup_and_warmup_s": startup[name]}
                    else:
                        for key, rate in (("build_s", "curves_per_s"), ("sweep_s", "candidates_per_s")):
                            if row[key] < best[key]:
                                best[key], best[rate] = row[key], row[rate]
                                if key == "build_s":
                                    best["stored_curves_per_s"] = row["stored_curves_per_s"]
        finally:
            for executor in executors.values():
                executor.shutdown(wait=True)
            if cluster is not None:
                cluster.close()
    one, two, dask = rows["local 1"], rows["local 2"], rows["dask 2"]
    ratios = {
        "build_scaling_efficiency": two["curves_per_s"] / (2 * one["curves_per_s"]),
        "sweep_scaling_efficiency": two["candidates_per_s"] / (2 * one["candidates_per_s"]),
        "build_dask_overhead": dask["build_s"] / two["build_s"] - 1,
        "sweep_dask_overhead": dask["sweep_s"] / two["sweep_s"] - 1,
    }
    print()
    print(f"{'executor':10s} {'build curves/s':>15s} {'stored curves/s':>16s} {'sweep cand./s':>14s} "
          f"{'start+warm s':>13s}")
    for name, row in rows.items():
        print(f"{name:10s} {row['curves_per_s']:15.1f} {row['stored_curves_per_s']:16.1f} "
              f"{row['candidates_per_s']:14.2f} {row['startup_and_warmup_s']:13.1f}")
    print()
    for key, value in ratios.items():
        print(f"{key:26s} {value:+.2f}" if "overhead" in key else f"{key:26s} {value:.2f}")
    print(f"# load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"commit": commit, "edited": dirty, "rows": rows, "ratios": ratios,
                               "load_average": os.getloadavg(), "spec": {"train_per_class": args.train_per_class,
                               "max_diameter_angstrom": args.max_diameter}, "grid": args.grid}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
