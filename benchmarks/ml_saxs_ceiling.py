"""How much of the size a SAXS window can decide at all: an upper bound on any estimator's accuracy, from physics.

No learned model.  Every ladder member (:func:`swaxs_lib.ml.catalog.families`) in every element of
:data:`~swaxs_lib.ml.catalog.ELEMENTS` at expansion 0 is a *truth*: its noise-free Debye I(Q) at the
database's Q points inside the window (:func:`swaxs_lib.ml.windows.window_points`), measured with the
simulator's noise (:func:`swaxs_lib.ml.simulate.measured_intensity`: variance I ref / N, ``ref`` the
median of I over the SAXS part Q < 1 1/Å, N the counts there).  Its *wrong alternatives* are every
member of every family at every size scale a' (400 log-spaced values over [min element scale x 0.97,
max element scale x 1.03] of the gold template: the element and expansion are unknown from SAXS alone),
with a free intensity scale, whose size is not within one shell or 5 % of the truth's
(:func:`swaxs_lib.ml.experts.within_shell_or_5_percent`, the shell step as the database's labels make
it, :func:`swaxs_lib.ml.database.shell_step`).  D_min is the noncentrality to the nearest one
(:func:`swaxs_lib.ml.ceiling.noncentrality`; D grows as N), and 1 - Phi(-sqrt(D_min)/2) the best share
of right decisions between the truth and that one alternative (:func:`~swaxs_lib.ml.ceiling.pairwise_ceiling`).

Averaged over N log-uniform in 10^2.5..10^5 (the test splits' counts; 26 values, trapezoid in log N) and
over the truths as ``test-mono`` draws them (:func:`swaxs_lib.ml.database.plan_batches`, ``run_batch``):
each shape class equally, its families equally, the rung uniform over the ladder, the element uniform.
Sizes: the extent (largest atom-atom distance, the database's label) and, as a check of the method, the
volume-equivalent diameter (the element's fcc atomic volume, as :func:`swaxs_lib.ml.windows.window_labels`;
its shell :func:`swaxs_lib.ml.windows.volume_step`).  Beside the bound: the shipped window model's
held-out share on ``test-mono`` (as ``benchmarks/ml_saxs_size.py``), when ``--db`` is readable.

What the bound leaves out, and which way that pushes it:

* Q resolution (sigma_Q up to 0.02 1/Å in the database: it fills the minima), polydispersity (it
  smears them too), background and Debye-Waller damping make curves more alike: the true ceiling is
  LOWER than printed, i.e. the bound is optimistic.
* It is pairwise: one wrong alternative at a time.  Several alternatives near the truth add up to a
  larger error than the nearest alone: optimistic again.
* The alternatives carry the truth's element's atomic form factor (the element's own f(Q) differs by
  < 1 % in shape over Q < 0.6 1/Å): fewer alternatives than the real problem, optimistic again.
* Equal priors of truth and alternative: a prior favouring the alternative would lower it further.

So a shape or size whose printed ceiling is below a target cannot reach it from such curves with
any method; a ceiling above the target says only that the target is not excluded.

    PYTHONPATH=. nice python benchmarks/ml_saxs_ceiling.py [--db /work/mldb/ml.duckdb]   # ~3 min on one core
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from swaxs_lib.ml.catalog import ELEMENTS, SHAPE_CLASSES, element_scale, families, family_of_class  # noqa: E402
from swaxs_lib.ml.ceiling import noncentrality_matrix, pairwise_ceiling, scaled_curves  # noqa: E402
from swaxs_lib.ml.database import shell_step  # noqa: E402
from swaxs_lib.ml.simulate import Q_GRID, clean_intensity, clean_variant  # noqa: E402
from swaxs_lib.ml.windows import window_points  # noqa: E402

WINDOWS = ((0.02, 0.3), (0.02, 0.45), (0.02, 0.6))
N_SCALES = 400
LOG_COUNTS = np.linspace(2.5, 5.0, 26)
X_GRID = np.geomspace(0.016, 1.02, 3000)
#: Debye-Waller B (Å²) of every curve: the library's (the test splits draw 0.2..2.0).
B_ISO = 0.6


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def members() -> list:
    """Every ladder member with its family's ladder position: (member, template shell step Å)."""
    out = []
    for family, ladder in families().items():
        for k, m in enumerate(ladder):
            out.append((m, shell_step(ladder, k, clean_variant("Au"))))
    return out


def structure_factors(rows: list) -> np.ndarray:
    """S(x) = I(x) / Z² of each gold template (constant form factor, no damping) on :data:`X_GRID`."""
    from swaxs_lib.scattering.debye import debye_intensity
    from swaxs_lib.scattering.histogram import fast_bin_width, pair_histogram
    from swaxs_lib.structures import build_cluster

    out = np.empty((len(rows), len(X_GRID)))
    start = time.time()
    for i, (m, _) in enumerate(rows):
        atoms = build_cluster(m.shape, "Au", **m.parameters).atoms
        hist = pair_histogram(atoms, fast_bin_width(float(X_GRID[-1])))
        out[i] = debye_intensity(atoms, X_GRID, histogram=hist, form_factor_source="constant").intensity / 79.0**2
        if (i + 1) % 40 == 0:
            log(f"structure factors {i + 1}/{len(rows)} ({time.time() - start:.0f} s)")
    return out


def form_factor_squared(element: str, q: np.ndarray) -> np.ndarray:
    from swaxs_lib.scattering.form_factors import form_factor

    return np.abs(form_factor(element, q, None, "xraydb")) ** 2


def intensities(s: np.ndarray, n_atoms: np.ndarray, q: np.ndarray, scales: np.ndarray, element: str) -> np.ndarray:
    """Debye I(Q) (members, scales, Q) in ``element`` at B = :data:`B_ISO` (the library's): the self term n f²
    undamped, the pair terms (S - n) f² damped by exp(-B Q² / 8 pi²), as
    :func:`swaxs_lib.scattering.debye.debye_intensity` does."""
    pairs = scaled_curves(X_GRID, s, q, scales) - n_atoms[:, None, None]
    damping = np.exp(-B_ISO * q * q / (8 * np.pi**2))
    return (n_atoms[:, None, None] + pairs * damping) * form_factor_squared(element, q)


def truth_weights(rows: list) -> np.ndarray:
    """Each member's probability in ``test-mono`` (per element: divide by the number of elements)."""
    sizes = {f: len(ladder) for f, ladder in families().items() if ladder}
    per_class = {c: [f for f in family_of_class(c) if f in sizes] for c in SHAPE_CLASSES}
    return np.array([1 / len(SHAPE_CLASSES) / len(per_class[m.shape_class]) / sizes[m.family] for m, _ in rows])


def nearest_wrong(s: np.ndarray, rows: list, window: tuple[float, float]) -> dict[str, np.ndarray]:
    """D_min at N = 1 for every truth (member x element, element-major), for the extent and the volume
    diameter, and whether the nearest wrong extent alternative is of another shape class."""
    from swaxs_lib.structures.elements import lattice_constant
    from swaxs_lib.structures.sizes import volume_diameter

    q = window_points(*window)
    scales_el = np.array([element_scale(e) for e in ELEMENTS])
    scales = np.geomspace(scales_el.min() * 0.97, scales_el.max() * 1.03, N_SCALES)
    n_atoms = np.array([float(m.n_atoms) for m, _ in rows])
    extent = np.array([m.diameter_angstrom for m, _ in rows])
    step = np.array([st for _, st in rows])
    vd = np.array([volume_diameter(m.n_atoms, lattice_constant("Au", "fcc") ** 3 / 4) for m, _ in rows])
    alt_extent = (extent[:, None] * scales[None, :]).ravel()
    alt_volume = (vd[:, None] * scales[None, :]).ravel()
    alt_class = np.repeat(np.array([SHAPE_CLASSES.index(m.shape_class) for m, _ in rows]), N_SCALES)
    saxs = Q_GRID < 1.0
    out = {k: [] for k in ("extent", "volume", "other_shape")}
    for e, a in zip(ELEMENTS, scales_el):
        alts = intensities(s, n_atoms, q, scales, e).reshape(len(rows) * N_SCALES, len(q))
        truth = intensities(s, n_atoms, q, np.array([a]), e)[:, 0, :]
        full = intensities(s, n_atoms, Q_GRID[saxs], np.array([a]), e)[:, 0, :]
        ref = np.median(full, axis=1)
        for chunk in np.array_split(np.arange(len(rows)), 4):
            d = noncentrality_matrix(alts, (1 / truth[chunk]).T, truth[chunk].sum(axis=1)) / ref[chunk][None, :]
            for j, t in enumerate(chunk):
                ok_e = np.abs(alt_extent - a * extent[t]) <= np.maximum(0.05 * a * extent[t], a * step[t])
                vstep = a * step[t] * vd[t] / extent[t]
                ok_v = np.abs(alt_volume - a * vd[t]) <= np.maximum(0.05 * a * vd[t], vstep)
                de = np.where(ok_e, np.inf, d[:, j])
                k = int(np.argmin(de))
                out["extent"].append(de[k])
                out["other_shape"].append(alt_class[k] != SHAPE_CLASSES.index(rows[t][0].shape_class))
                out["volume"].append(np.min(np.where(ok_v, np.inf, d[:, j])))
    return {k: np.array(v) for k, v in out.items()}


def noise_average(d1: np.ndarray) -> dict[str, np.ndarray]:
    """Per truth, averaged over N log-uniform (trapezoid): the ceiling and the shares D < 1, D < 4."""
    w = np.ones(len(LOG_COUNTS))
    w[[0, -1]] = 0.5
    w /= w.sum()
    d = np.outer(d1, 10.0**LOG_COUNTS)
    return {"ceiling": pairwise_ceiling(d) @ w, "below1": (d < 1) @ w, "below4": (d < 4) @ w}


def model_scores(db: str, window: tuple[float, float]) -> dict[str, tuple[float, float]] | None:
    """The shipped window model's test-mono share within one shell or 5 % per shape (extent, volume
    diameter), as benchmarks/ml_saxs_size.py computes it; None without the database."""
    if not Path(db).exists():
        return None
    from swaxs_lib.ml.experts import within_shell_or_5_percent
    from swaxs_lib.ml.models import DEFAULT_MODEL_DIR, load_bundle
    from swaxs_lib.ml.windows import _knn, volume_step, window_features, window_labels, window_name, window_parts
    from swaxs_lib.store import Store

    bundle = load_bundle(DEFAULT_MODEL_DIR)
    test = Store(db).load_samples("default", ["test-mono"])
    truth = window_labels(test.labels)
    predicted, _ = _knn(window_parts(bundle.extras["size_window"], window_name(*window)),
                        window_features(test.q_inv_angstrom, test.iq, *window))
    ext = within_shell_or_5_percent(np.exp(predicted[:, 0]), truth["extent"], truth["step"])
    vol = within_shell_or_5_percent(np.exp(predicted[:, 2]), truth["volume_diameter"], volume_step(truth))
    shape = np.asarray(test.labels["shape"])
    out = {name: (float(ext[shape == name].mean()), float(vol[shape == name].mean())) for name in set(shape)}
    out["all"] = (float(ext.mean()), float(vol.mean()))
    return out


def check_curves(s: np.ndarray, rows: list) -> float:
    """Largest relative difference, over three members in Ni and Au at the window points of 0.02-0.6,
    between this script's curves (:func:`intensities`) and the simulator's clean_intensity."""
    q = window_points(0.02, 0.6)
    on_grid = np.searchsorted(Q_GRID, q - 1e-9)
    worst = 0.0
    for i in (0, len(rows) // 2, len(rows) - 1):
        for e in ("Au", "Ni"):
            ours = intensities(s[i:i + 1], np.array([float(rows[i][0].n_atoms)]), q,
                               np.array([element_scale(e)]), e)[0, 0]
            theirs = clean_intensity(rows[i][0], e, 0.0, B_ISO)[on_grid]
            worst = max(worst, float(np.max(np.abs(ours / theirs - 1))))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/work/mldb/ml.duckdb", help="model database (read-only), for the model's column")
    args = parser.parse_args()
    start = time.time()
    rows = members()
    log(f"{len(rows)} members x {len(ELEMENTS)} elements ({time.time() - start:.0f} s)")
    s = structure_factors(rows)
    log(f"curve check: max relative difference to clean_intensity {check_curves(s, rows):.2e}")
    weight = np.tile(truth_weights(rows), len(ELEMENTS)) / len(ELEMENTS)
    shape = np.tile(np.array([m.shape for m, _ in rows]), len(ELEMENTS))
    groups = [(name, shape == name) for name in sorted(set(shape))] + [("all", np.ones(len(shape), bool))]
    summary = {}
    for window in WINDOWS:
        name = f"{window[0]:g}-{window[1]:g}"
        near = nearest_wrong(s, rows, window)
        ext, vol = noise_average(near["extent"]), noise_average(near["volume"])
        model = model_scores(args.db, window)
        log(f"window {name} done ({time.time() - start:.0f} s)")
        print(f"\nwindow {name} 1/Å, monodisperse, noise-free physics; weights as test-mono; N log-uniform 10^2.5..10^5")
        print(f"{'shape':22s} {'truths':>6s} {'D<1':>6s} {'D<4':>6s} {'ceiling':>8s} {'model':>6s} "
              f"{'other shape':>11s} | {'vol D<1':>7s} {'vol ceiling':>11s} {'model':>6s}")
        for label, rows_in in groups:
            w = weight * rows_in
            w = w / w.sum()
            m = model.get(label) if model else None
            print(f"{label:22s} {int(rows_in.sum()):6d} {ext['below1'] @ w:6.3f} {ext['below4'] @ w:6.3f} "
                  f"{ext['ceiling'] @ w:8.3f} {m[0] if m else float('nan'):6.3f} {near['other_shape'] @ w:11.3f} | "
                  f"{vol['below1'] @ w:7.3f} {vol['ceiling'] @ w:11.3f} {m[1] if m else float('nan'):6.3f}")
        w = weight / weight.sum()
        by_counts = {f"1e{lc:g}": round(float(pairwise_ceiling(near['extent'] * 10.0**lc) @ w), 4) for lc in (2.5, 5.0)}
        print(f"all, extent ceiling at one N: {by_counts}")
        summary[name] = {"extent_ceiling": round(float(ext["ceiling"] @ w), 4),
                         "volume_diameter_ceiling": round(float(vol["ceiling"] @ w), 4),
                         "extent_share_d_below_1": round(float(ext["below1"] @ w), 4)}
    print("\ncolumns: D<1, D<4 = share of truths whose nearest wrong alternative lies within 1 (2) noise sd;")
    print("ceiling = mean of 1 - Phi(-sqrt(D_min)/2) (an upper bound: docstring); model = shipped window model,")
    print("test-mono, within one shell or 5 %; other shape = share whose nearest wrong extent is another shape class")
    print(json.dumps({"seconds": round(time.time() - start, 1), "ceilings": summary}))


if __name__ == "__main__":
    main()
