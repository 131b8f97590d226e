"""Benchmark of lattice indexing on simulated assemblies: how often the right lattice comes first, and how close its length is.

Curves: :func:`tests.saxs_assemblies.assembly` (I = P(q) S(q), polydisperse spheres or rods, Förster
et al. 2005 lattice factor from a brute-force structure-factor sum, Debye–Waller σ_a = 0.03, Gaussian
lines of 0.004 1/Å FWHM, counting noise at 10⁶ counts at the maximum, Q 0.02–0.45 1/Å) for fcc, bcc
and 2D hexagonal lattices at three sizes each (particle radius R, nearest-neighbour gap 5–12 %), two
noise seeds each; and the simulated silver behenate curve.  For each: the peaks found, the lattice
ranked first, its length's error relative to the simulated one and that error over the stated σ, the
runner-up and its Δscore, the time.  ::

    .venv/bin/python benchmarks/saxs_indexing.py          # ~1 min on 2 idle cores
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from swaxs_lib.saxs.indexing import index_curve  # noqa: E402
from tests.saxs_assemblies import AGBEH_D001_ANGSTROM, assembly, silver_behenate  # noqa: E402

CASES = [("fcc", 89.0, 30.0), ("fcc", 120.0, 40.0), ("fcc", 150.0, 50.0),
         ("bcc", 72.0, 30.0), ("bcc", 100.0, 40.0), ("bcc", 130.0, 50.0),
         ("hex2d", 60.0, 25.0), ("hex2d", 80.0, 35.0), ("hex2d", 110.0, 50.0)]
SEEDS = (3, 11)


def rows() -> list[dict]:
    out = []
    runs = [(k, a, r, s, assembly(k, a, r, seed=s)) for k, a, r in CASES for s in SEEDS]
    runs.append(("lamellar", AGBEH_D001_ANGSTROM, math.nan, 1, silver_behenate()))
    for kind, a, radius, seed, c in runs:
        t = time.perf_counter()
        res = index_curve(c.q_inv_angstrom, c.intensity, c.sigma)
        seconds = time.perf_counter() - t
        best = res.hypotheses[0] if res.hypotheses else None
        second = res.hypotheses[1] if len(res.hypotheses) > 1 else None
        value = best.values_angstrom[0] if best else math.nan
        sigma = best.sigmas_angstrom[0] if best else math.nan
        out.append({"lattice": kind, "length_angstrom": a, "radius_angstrom": radius, "seed": seed,
                    "n_peaks": len(res.search.peaks), "best": best.lattice if best else "-",
                    "right": bool(best and best.lattice == kind),
                    "length_error_pct": 100 * (value / a - 1) if best and best.lattice == kind else math.nan,
                    "error_over_sigma": (value - a) / sigma if best and best.lattice == kind else math.nan,
                    "runner_up": second.lattice if second else "-",
                    "delta_score": second.delta_score if second else math.nan, "seconds": seconds})
    return out


def main() -> None:
    table = rows()
    print(f"{'lattice':9s} {'length':>7s} {'R':>5s} {'seed':>4s} {'peaks':>5s} {'best':9s} {'err %':>7s} "
          f"{'err/σ':>6s} {'next':9s} {'Δscore':>7s} {'s':>5s}")
    for r in table:
        print(f"{r['lattice']:9s} {r['length_angstrom']:7.2f} {r['radius_angstrom']:5.0f} {r['seed']:4d} "
              f"{r['n_peaks']:5d} {r['best']:9s} {r['length_error_pct']:7.3f} {r['error_over_sigma']:6.2f} "
              f"{r['runner_up']:9s} {r['delta_score']:7.1f} {r['seconds']:5.1f}")
    right = sum(r["right"] for r in table)
    worst = max(abs(r["length_error_pct"]) for r in table if r["right"])
    print(f"right lattice first: {right}/{len(table)}; worst length error when right: {worst:.3f} %")


if __name__ == "__main__":
    main()
