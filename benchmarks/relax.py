"""Benchmark of traced relaxations: steps per second of ours against ASE's BFGS + EMT alone.

Clusters: Au Marks decahedra of about 500 and 2,000 atoms (see the printout for the exact counts),
built with a = 4.08 Å (so EMT has work to do).  Each run makes ``--steps`` BFGS steps (no fmax stop):

``ASE alone``
    ``BFGS(atoms).run(steps=...)`` with ``EMT()``: the peer, nothing recorded.
``ours, trace only``
    :func:`swaxs_lib.relax.relax_cluster` without data: per step, energy, forces, bond lengths,
    radius of gyration, diameter and a copy of the positions.
``ours, refit every step`` / ``every 5 steps``
    The same with a refinement of every (every 5th) traced structure against a synthetic G(r)
    of the unrelaxed cluster (r 1.5–30 Å, 0.01 Å, Q 0.8–24 1/Å).

It prints steps/s and the ratio to ASE alone (the overhead of tracing and refits), and writes
benchmarks/results/relax.json.  Run from the repository root::

    .venv/bin/python benchmarks/relax.py              # ~3 min on 2 idle cores
    .venv/bin/python benchmarks/relax.py --quick      # the 500-atom cluster only
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ase.calculators.emt import EMT  # noqa: E402
from ase.optimize import BFGS  # noqa: E402

from swaxs_lib.io import Measurement  # noqa: E402
from swaxs_lib.relax import relax_cluster  # noqa: E402
from swaxs_lib.scattering import pair_distribution  # noqa: E402
from swaxs_lib.structures import decahedron  # noqa: E402

#: (label, p, q, r): about 500 and 2,000 atoms.
CLUSTERS = (("~500 atoms", 7, 3, 0), ("~2,000 atoms", 8, 3, 2))


def synthetic_pdf(atoms) -> Measurement:
    r = np.arange(1.5, 30.0, 0.01)
    g = pair_distribution(atoms, r, 0.8, 24.0, b_iso_angstrom2=0.6).g
    return Measurement("gr", r, g, None, "synthetic", "angstrom")


def ase_alone(atoms, steps: int) -> float:
    work = atoms.copy()
    work.calc = EMT()
    opt = BFGS(work, logfile=None)
    start = time.perf_counter()
    opt.run(fmax=1e-9, steps=steps)
    return steps / (time.perf_counter() - start)


def ours(atoms, steps: int, data=None, every: int = 1) -> float:
    start = time.perf_counter()
    trace = relax_cluster(atoms, fmax_ev_per_angstrom=1e-9, max_steps=steps, measurement=data, refit_every=every,
                          refine_options={"q_min_inv_angstrom": 0.8, "q_max_inv_angstrom": 24.0, "fix": ["qdamp"]})
    assert trace.steps[-1].step == steps
    return steps / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10, help="BFGS steps per run (10)")
    parser.add_argument("--quick", action="store_true", help="only the ~500-atom cluster")
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores, "
          f"load {os.getloadavg()[0]:.2f}, Python {platform.python_version()}; {args.steps} BFGS steps per run")
    warm = decahedron("Au", 2, 1, 1).atoms  # compile and load every kernel outside the timings
    relax_cluster(warm, max_steps=1, measurement=synthetic_pdf(warm), refine_options={"fix": ["qdamp"]})
    rows = []
    for label, p, q, r in CLUSTERS[:1] if args.quick else CLUSTERS:
        atoms = decahedron("Au", p, q, r).atoms
        data = synthetic_pdf(atoms)
        peer = ase_alone(atoms, args.steps)
        runs = [("ASE BFGS + EMT alone", peer), ("ours, trace only", ours(atoms, args.steps)),
                ("ours, refit every 5 steps", ours(atoms, args.steps, data, 5)),
                ("ours, refit every step", ours(atoms, args.steps, data, 1))]
        for name, rate in runs:
            rows.append({"cluster": f"{label} ({p},{q},{r}): {len(atoms)}", "run": name, "steps_per_s": rate,
                         "ase_over_ours": peer / rate})
    print()
    print(f"{'cluster':34s} {'run':30s} {'steps/s':>9s} {'ASE / ours':>11s}")
    for row in rows:
        print(f"{row['cluster']:34s} {row['run']:30s} {row['steps_per_s']:9.2f} {row['ase_over_ours']:10.2f}x")
    out = REPO / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "relax.json").write_text(json.dumps({"steps": args.steps, "cores": os.cpu_count(), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
