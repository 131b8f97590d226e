"""Benchmark of the polydisperse sphere fit: ours (``fit_saxs``) against plain sasmodels + bumps on the same data.

Data: a Gaussian-polydisperse sphere with the issue's gold nanoparticle values (R = 34.907 Å,
σ/R = 0.062; Au SLD 119 in toluene 8.0, 1e-6/Å², scale 1e-4, background 0.02), computed by sasmodels on
180 Q points from 0.008 to 0.45 1/Å, with seeded Gaussian noise σ = 2 % I + 0.002 (``--seeds`` curves).
Every method fits the same curves in the same run:

``ours``
    :func:`swaxs_lib.saxs.sasfit.fit_saxs` with ``polydispersity="gaussian"`` and nothing else
    (automatic starts; SLDs given).
``bumps LM, defaults``
    sasmodels' ``bumps_model.Model``/``Experiment`` and ``bumps.fitters.fit(method="lm")`` from
    sasmodels' default start (R = 50 Å, σ/R = 0.1, scale 1, background 0.001), ranges R 1–500 Å,
    σ/R 0–1, scale 0–1, background −1–1: what a plain script does without hand-tuning.
``bumps LM, hand start``
    The same from a start near the answer (R = 30 Å, σ/R = 0.1, scale 1e-4, background 0.01).

Columns: best wall time of ``--repeats`` fits of each curve (median over curves), the time ratio to
ours, the median |R - 34.907| / σ_R and |σ/R - 0.062| / σ over curves, the largest difference of R and
σ/R from ours (in our σ), the median ratio of the stated σ of R to ours, χ²_red, and how many curves
reached χ²_red < 2 (converged).  Run from the
repository root::

    .venv/bin/python benchmarks/saxs_fit.py              # 5 curves, 3 repeats: ~1 min on 2 idle cores
    .venv/bin/python benchmarks/saxs_fit.py --quick      # 2 curves, 1 repeat

Size distributions: a section with the rows of ``benchmarks/_saxs_distribution.py`` (our MaxEnt and
Monte Carlo against McSAS3 and Irena's reference on the alumina USAXS data) follows the table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from swaxs_lib.io import Measurement  # noqa: E402
from swaxs_lib.saxs.sasfit import fit_saxs  # noqa: E402

TRUTH = {"radius": 34.907, "radius_pd": 0.062, "scale": 1e-4, "background": 0.02}
SLDS = {"sld": 119.0, "sld_solvent": 8.0}
PD = {"radius_pd_type": "gaussian", "radius_pd_n": 35, "radius_pd_nsigma": 3}
Q = np.geomspace(0.008, 0.45, 180)


def curve(seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sasmodels.core import load_model
    from sasmodels.direct_model import call_kernel

    kernel = load_model("sphere", dtype="double", platform="dll").make_kernel([Q])
    truth = call_kernel(kernel, {**TRUTH, **SLDS, **PD, "background": 0.0}) + TRUTH["background"]
    sigma = 0.02 * truth + 0.002
    return truth + np.random.default_rng(seed).normal(0.0, sigma), sigma


def ours(y: np.ndarray, sigma: np.ndarray) -> dict:
    fit = fit_saxs(Measurement("iq", Q, y, sigma, "bench", "inv_angstrom"), "sphere", polydispersity="gaussian",
                   start=SLDS)
    return {"radius": fit.value("radius"), "radius_sigma": fit.uncertainty("radius"),
            "radius_pd": fit.value("radius_pd"), "radius_pd_sigma": fit.uncertainty("radius_pd"),
            "chi2_reduced": fit.chi2_reduced}


def bumps_fit(y: np.ndarray, sigma: np.ndarray, start: dict) -> dict:
    from bumps.fitproblem import FitProblem
    from bumps.fitters import fit
    from sasmodels.bumps_model import Experiment, Model
    from sasmodels.core import load_model
    from sasmodels.data import Data1D

    data = Data1D(x=Q, y=y, dy=sigma)
    model = Model(load_model("sphere", dtype="double", platform="dll"), **SLDS, **PD, **start)
    model.radius.range(1.0, 500.0)
    model.radius_pd.range(0.0, 1.0)
    model.scale.range(0.0, 1.0)
    model.background.range(-1.0, 1.0)
    problem = FitProblem(Experiment(data=data, model=model))
    result = fit(problem, method="lm", steps=400, verbose=False)
    labels = list(problem.labels())
    x, dx = dict(zip(labels, result.x)), dict(zip(labels, result.dx))
    return {"radius": x["radius"], "radius_sigma": dx["radius"], "radius_pd": x["radius_pd"],
            "radius_pd_sigma": dx["radius_pd"], "chi2_reduced": float(problem.chisq())}


METHODS = {
    "ours (automatic starts)": ours,
    "bumps LM, defaults": lambda y, s: bumps_fit(y, s, {"radius": 50.0, "radius_pd": 0.1, "scale": 1.0,
                                                        "background": 0.001}),
    "bumps LM, hand start": lambda y, s: bumps_fit(y, s, {"radius": 30.0, "radius_pd": 0.1, "scale": 1e-4,
                                                          "background": 0.01}),
}


def best_time(function, repeats: int, *args) -> tuple[float, dict]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = function(*args)
        times.append(time.perf_counter() - start)
    return min(times), out


def distribution_rows() -> list[dict]:
    """Rows of the size-distribution section: ours (MaxEnt, Monte Carlo) against McSAS3 and Irena on alumina."""
    from _saxs_distribution import rows  # the benchmarks/ folder is the script's path

    return list(rows())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="noisy curves (5)")
    parser.add_argument("--repeats", type=int, default=3, help="timed fits per curve and method (3)")
    parser.add_argument("--quick", action="store_true", help="2 curves, 1 repeat")
    args = parser.parse_args()
    seeds, repeats = (2, 1) if args.quick else (args.seeds, args.repeats)
    import bumps
    import sasmodels

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} logical cores, "
          f"load {os.getloadavg()[0]:.2f}, Python {platform.python_version()}, sasmodels {sasmodels.__version__}, "
          f"bumps {bumps.__version__}; {seeds} curves, best of {repeats}")
    curves = [curve(seed) for seed in range(seeds)]
    for function in METHODS.values():  # compile and load every kernel outside the timings
        function(*curves[0])
    results = {name: [best_time(f, repeats, *c) for c in curves] for name, f in METHODS.items()}
    reference = results["ours (automatic starts)"]
    rows = []
    for name, runs in results.items():
        t = statistics.median(r[0] for r in runs)
        fits = [r[1] for r in runs]
        rows.append({
            "method": name, "time_s": t,
            "ratio_to_ours": t / statistics.median(r[0] for r in reference),
            "radius_off_sigma": statistics.median(abs(f["radius"] - TRUTH["radius"]) / f["radius_sigma"]
                                                  for f in fits),
            "pd_off_sigma": statistics.median(abs(f["radius_pd"] - TRUTH["radius_pd"]) / f["radius_pd_sigma"]
                                              for f in fits),
            "max_radius_diff_vs_ours_sigma": max(abs(f["radius"] - o[1]["radius"]) / o[1]["radius_sigma"]
                                                 for f, o in zip(fits, reference)),
            "max_pd_diff_vs_ours_sigma": max(abs(f["radius_pd"] - o[1]["radius_pd"]) / o[1]["radius_pd_sigma"]
                                             for f, o in zip(fits, reference)),
            "radius_sigma_ratio_to_ours": statistics.median(f["radius_sigma"] / o[1]["radius_sigma"]
                                                            for f, o in zip(fits, reference)),
            "chi2_reduced": statistics.median(f["chi2_reduced"] for f in fits),
            "converged": f"{sum(f['chi2_reduced'] < 2 for f in fits)}/{len(fits)}",
        })
    print()
    head = (f"{'method':26s} {'time_s':>8s} {'ratio':>7s} {'|ΔR|/σ':>7s} {'|Δpd|/σ':>8s} {'R vs ours':>10s} "
            f"{'pd vs ours':>10s} {'σ_R/ours':>8s} {'χ²_red':>8s} {'conv.':>6s}")
    print(head)
    for r in rows:
        print(f"{r['method']:26s} {r['time_s']:8.3f} {r['ratio_to_ours']:6.2f}x {r['radius_off_sigma']:7.2f} "
              f"{r['pd_off_sigma']:8.2f} {r['max_radius_diff_vs_ours_sigma']:9.3f}σ "
              f"{r['max_pd_diff_vs_ours_sigma']:9.3f}σ {r['radius_sigma_ratio_to_ours']:8.3f} "
              f"{r['chi2_reduced']:8.3f} {r['converged']:>6s}")
    print("(|ΔR|/σ, |Δpd|/σ: median distance from the truth in each fit's own σ; vs ours: largest difference "
          "from our values in our σ; σ_R/ours: median ratio of the stated σ of R; conv.: curves with χ²_red < 2)")

    # ---- size distributions: benchmarks/_saxs_distribution.py ----
    dist = distribution_rows()
    print("\nsize distributions")
    for row in dist:
        print("  " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))

    out = REPO / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "saxs_fit.json").write_text(json.dumps({"seeds": seeds, "repeats": repeats, "cores": os.cpu_count(),
                                                   "rows": rows, "distribution_rows": dist}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
