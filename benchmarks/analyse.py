"""Benchmark of the one-click analysis of a measured G(r): cold and warm cache, against one sweep per family.

Data: ``tests/data/au144_pdf/Au144PET_100K-00000.gr`` (Au144(PET)60, ~1.6-2 nm, r 0-30 Å in 0.01 Å steps,
Q 0.8-26 1/Å from the header), or ``--data FILE`` with ``--element``.

Runs:

``analysis cold``
    :func:`swaxs_lib.analyse.pipeline.analyse` with its default settings (every family, at most 60
    candidates each, ML prior, screen with delta2 and Q damping held, refine, attenuated crystal, EMT
    relaxation of the 3 best, mixture; ``--workers`` processes) on an empty store.  The numba kernels'
    on-disk cache is warm (compiled by an earlier run), as on a user's machine after the first use.
``analysis warm``
    The same call on the same store: every fit and relaxation is read back from the store.
``sweeps (the user's way)``
    What a user does without the analysis: one :func:`swaxs_lib.sweep.sweep` per family, in sequence,
    over the same candidates the analysis screened (``result.screened``: each family's candidates'
    ``params`` as the sweep's explicit grid; spheres one sweep per lattice), each candidate fully refined
    (every parameter free, no screen), on another empty store, the same workers.  No attenuated crystal,
    relaxation or mixture: those the user would still have to do by hand, so the ratio understates
    the analysis's gain.

Prints the machine and load, the table (wall time, ratio to the sweeps, best label, R_w, fits from the
cache), the cold run's time per stage (``result.timings_s``) and its counts; writes
benchmarks/results/analyse.json.  Target (issue 17 item 7): under 5 minutes cold for a ~2 nm particle.

Run from the repository root::

    .venv/bin/python benchmarks/analyse.py                 # ~10-30 min on 2 cores, most of it the sweeps
    .venv/bin/python benchmarks/analyse.py --skip-sweeps   # the analysis only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _machine import cpu_name, git_state, version  # noqa: E402

from swaxs_lib.analyse.pipeline import analyse  # noqa: E402
from swaxs_lib.io import read_measurement  # noqa: E402
from swaxs_lib.store import Store  # noqa: E402
from swaxs_lib.sweep import sweep  # noqa: E402

DATA = REPO / "tests" / "data" / "au144_pdf" / "Au144PET_100K-00000.gr"


def progress(start: float):
    last = {"stage": None, "t": 0.0}

    def report(done: int, total: int, note: str) -> None:
        now = time.perf_counter() - start
        stage = note.split(":", 1)[0]
        if stage != last["stage"] or now - last["t"] > 30 or done == total:
            print(f"  {now:7.1f} s  {done}/{total}  {note}", file=sys.stderr, flush=True)
            last.update(stage=stage, t=now)

    return report


def timed_analysis(store, measurement, element, workers):
    start = time.perf_counter()
    result = analyse(store, measurement, element=element, workers=workers, report=progress(start))
    return time.perf_counter() - start, result


def user_sweeps(store, measurement, element, result, workers):
    """One sweep per family over the analysis's screened candidates, in sequence."""
    grids: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in result.screened:
        if row.family in ("attenuated-crystal", "structure"):
            continue
        grids[(row.family, row.candidate.shape)].append(dict(row.candidate.params))
    out = []
    total_start = time.perf_counter()
    for (family, shape), grid in grids.items():
        start = time.perf_counter()
        swept = sweep(store, measurement, shape, element, grid, None, workers=workers)
        seconds = time.perf_counter() - start
        best = swept.rows[0]
        out.append({"family": family, "candidates": len(grid), "seconds": round(seconds, 2),
                    "best": best.candidate.label(), "rw": best.rw, "computed": swept.computed})
        print(f"  sweep {family:22s} {len(grid):4d} candidates {seconds:7.1f} s  best {best.candidate.label()} "
              f"R_w {best.rw:.4f}", file=sys.stderr, flush=True)
    return time.perf_counter() - total_start, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(DATA), help="a measured G(r) (default: Au144PET)")
    parser.add_argument("--element", default="Au")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="worker processes (default: cores)")
    parser.add_argument("--skip-sweeps", action="store_true", help="do not run the per-family sweeps")
    args = parser.parse_args()
    measurement = read_measurement(args.data)
    commit, dirty = git_state("swaxs_lib", "benchmarks/analyse.py")
    print(f"machine: {cpu_name()}, {os.cpu_count()} logical cores, Python {platform.python_version()}, numpy "
          f"{version('numpy')}, diffpy.srfit {version('diffpy.srfit')}; commit {commit}{' (+edits)' if dirty else ''}")
    print(f"data: {measurement.source}, {len(measurement.x)} points; element {args.element}; {args.workers} workers; "
          f"load at start {os.getloadavg()}", flush=True)

    runs = []
    with tempfile.TemporaryDirectory(prefix="swaxs-bench-analyse-") as folder:
        store = Store(Path(folder) / "analyse.duckdb")
        load0 = os.getloadavg()[0]
        cold_s, cold = timed_analysis(store, measurement, args.element, args.workers)
        runs.append(("analysis cold (empty store)", cold_s, cold, load0, os.getloadavg()[0]))
        load0 = os.getloadavg()[0]
        warm_s, warm = timed_analysis(store, measurement, args.element, args.workers)
        runs.append(("analysis warm (same store)", warm_s, warm, load0, os.getloadavg()[0]))
        sweeps_s, sweeps = None, []
        if not args.skip_sweeps:
            other = Store(Path(folder) / "sweeps.duckdb")
            load0 = os.getloadavg()[0]
            sweeps_s, sweeps = user_sweeps(other, measurement, args.element, cold, args.workers)
            sweep_loads = (load0, os.getloadavg()[0])

    print()
    print(f"{'run':34s} {'wall s':>8s} {'sweeps/run':>10s} {'load1 start-end':>16s}  best (R_w)")
    table = []
    for label, seconds, result, l0, l1 in runs:
        ratio = f"{sweeps_s / seconds:9.1f}x" if sweeps_s else "–"
        best = result.best
        print(f"{label:34s} {seconds:8.1f} {ratio:>10s} {l0:7.2f}-{l1:<7.2f}  {best.label} ({best.rw:.4f}); "
              f"{result.counts.get('from_cache')} of {result.counts.get('screened')} screen fits from the cache")
        table.append({"run": label, "seconds": round(seconds, 2), "load1": [l0, l1], "best": best.label,
                      "rw": best.rw, "best_group": [r.label for r in result.best_group],
                      "timings_s": dict(result.timings_s), "counts": dict(result.counts)})
    if sweeps_s is not None:
        best = min(sweeps, key=lambda s: s["rw"])
        print(f"{'sweeps (the user way), in sequence':34s} {sweeps_s:8.1f} {'1.0x':>10s} {sweep_loads[0]:7.2f}-"
              f"{sweep_loads[1]:<7.2f}  {best['best']} ({best['rw']:.4f}); "
              f"{sum(s['candidates'] for s in sweeps)} full fits in {len(sweeps)} sweeps")
    print()
    print("cold analysis by stage (s): " + ", ".join(f"{k} {v:.1f}" for k, v in cold.timings_s))
    print("warm analysis by stage (s): " + ", ".join(f"{k} {v:.1f}" for k, v in warm.timings_s))
    print(f"cold counts: {json.dumps(dict(cold.counts))}")
    print(f"target: cold under 300 s for a ~2 nm particle's PDF: {'met' if cold_s < 300 else 'NOT met'} "
          f"({cold_s:.0f} s)")
    out = REPO / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "analyse.json").write_text(json.dumps(
        {"data": measurement.source, "element": args.element, "workers": args.workers, "cores": os.cpu_count(),
         "commit": commit, "runs": table, "sweeps_s": sweeps_s, "sweeps": sweeps}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
