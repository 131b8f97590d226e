"""How much of the size a SAXS window decides, from physics alone: the nearest wrong curve, and the Bayes decision.

No learned model.  Every ladder member (:func:`swaxs_lib.ml.catalog.families`) in every element of
:data:`~swaxs_lib.ml.catalog.ELEMENTS` at expansion 0 is a *truth*: its noise-free Debye I(Q) (B 0.6 Å²,
as :func:`swaxs_lib.ml.simulate.clean_intensity`, checked within 0.7 %) at the database's Q points inside
the window (:func:`swaxs_lib.ml.windows.window_points`), measured with the simulator's noise
(:func:`swaxs_lib.ml.simulate.measured_intensity`: variance I ref / N, ``ref`` the median of I over the
SAXS part Q < 1 1/Å, N the counts there).  The *hypotheses* are every member of every family at every
size scale a' (400 log-spaced values over [min element scale x 0.97, max element scale x 1.03] of the
gold template: element and expansion are unknown from SAXS alone), each with a free intensity scale.
A hypothesis is *wrong* for a truth when its size is not within one shell or 5 % of the truth's
(:func:`swaxs_lib.ml.experts.within_shell_or_5_percent`, the shell as the database's labels make it,
:func:`swaxs_lib.ml.database.shell_step`).  Two figures per truth:

pairwise (``pairw.``, ``D<1``, ``D<4``)
    D_min, the noncentrality to the nearest wrong hypothesis (:func:`swaxs_lib.ml.ceiling.noncentrality`,
    in proportion to N), and 1 - Phi(-sqrt(D_min)/2), the best mean share of right decisions between the
    truth and that one hypothesis at equal priors.
Bayes
    one noisy curve per truth at each of 6 count levels (stratified log-uniform 10^2.5..10^5), each at an
    expansion drawn as the test split draws it (-3..+3 %); the
    posterior over all hypotheses (prior as the test split draws them: :func:`scale_prior`, the member's
    weight below; the intensity scale profiled; the noise level known; points the simulator floored at
    1e-3 ref left out) and the size right for the most
    posterior mass (:func:`swaxs_lib.ml.ceiling.bayes_size`).  Its share right is what one concrete
    estimator reaches, so at least what the idealised data decide (its Monte Carlo sd is printed).

Averaged (pairwise: over N log-uniform in 10^2.5..10^5, 26 values) over the truths as ``test-mono`` draws
them (:func:`swaxs_lib.ml.database.plan_batches`, ``run_batch``): each shape class equally, its families
equally, the rung uniform, the element uniform.  Sizes: the extent (largest atom-atom distance, the
database's label) and, as a check of the method, the volume-equivalent diameter (the element's fcc atomic
volume, as :func:`swaxs_lib.ml.windows.window_labels`; its shell :func:`swaxs_lib.ml.windows.volume_step`).
Beside them the shipped window model's held-out share on ``test-mono`` (``model``, as
``benchmarks/ml_saxs_size.py``) when ``--db`` is readable, and (``oth.shape``) the share of truths whose
nearest wrong hypothesis is of another shape class.  A last table repeats 0.02-0.3 with a Q resolution
(default the test split's median, sigma_Q = sqrt((0.015 Q)² + 0.01²), known to the Bayes decision).

What the figures leave out, and which way that pushes them:

* A Q resolution unknown to the estimator (the database draws sigma_Q up to 0.02 1/Å per curve),
  polydispersity, background, a Debye-Waller B between 0.2 and 2 Å² and an unknown noise level make curves
  more alike and the decision harder: the achievable share on the database's curves is LOWER than these
  idealised figures (they are optimistic).
* The hypotheses carry the truth's element's atomic form factor (the elements' f(Q) differ by < 1 % in
  shape below 0.6 1/Å): fewer hypotheses than the real problem, optimistic again.
* Pairwise: several wrong hypotheses near a truth add up to more error than the nearest alone
  (optimistic), but the equal priors are pessimistic: a wrong hypothesis that the test split draws
  rarely can be given up for a frequent truth.  So the pairwise mean is no bound on the overall share;
  the Bayes decision beats it (0.99 against 0.94 at 0.02-0.3 1/Å), and it cannot be read per shape (a
  rule may favour spheres, a third of the test curves, over octahedra).

    PYTHONPATH=. nice python benchmarks/ml_saxs_ceiling.py [--db /work/mldb/ml.duckdb]   # 5-7 min on one core
        [--windows 0.02-0.3,0.02-0.45,0.02-0.6] [--resolution 0.015,0.01 | none]
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

from swaxs_lib.ml.catalog import ELEMENTS, SHAPE_CLASSES, element_scale  # noqa: E402
from swaxs_lib.ml.ceiling import bayes_size, noncentrality_matrix, pairwise_ceiling, profiled_chi2, scaled_curves  # noqa: E402
# the ladder, its structure factors, the test splits' priors and the simulator's Q resolution as a matrix, as the
# shipped sizer has them
from swaxs_lib.ml.saxs_physics import (ladder_rows, member_prior, scale_prior,  # noqa: E402
                                       smear_matrix as smear_rows, structure_factors as shared_structure_factors)
from swaxs_lib.ml.simulate import Q_GRID, clean_intensity  # noqa: E402
from swaxs_lib.ml.windows import window_points  # noqa: E402

WINDOWS = ((0.02, 0.3), (0.02, 0.45), (0.02, 0.6))
N_SCALES = 400
LOG_COUNTS = np.linspace(2.5, 5.0, 26)
X_GRID = np.geomspace(0.016, 1.4, 3500)
#: Count levels (log10 N) of the Bayes decision's noisy curves: one per level and truth, the midpoints of
#: six equal bins of 2.5..5 (stratified log-uniform).
BAYES_LOG_COUNTS = 2.5 + (np.arange(6) + 0.5) * 2.5 / 6
#: Hypotheses kept per noisy curve (the most probable) by the Bayes decision.
BAYES_KEEP = 300
#: Debye-Waller B (Å²) of every curve: the library's (the test splits draw 0.2..2.0).
B_ISO = 0.6


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def members() -> list:
    """Every ladder member with its family's ladder position: (member, template shell step Å)."""
    return ladder_rows()


def structure_factors(rows: list) -> np.ndarray:
    """S(x) = I(x) / Z² of each gold template (constant form factor, no damping) on :data:`X_GRID`."""
    start = time.time()

    def progress(done: int, total: int) -> None:
        if done % 40 == 0:
            log(f"structure factors {done}/{total} ({time.time() - start:.0f} s)")

    return shared_structure_factors([m for m, _ in rows], X_GRID, progress)


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
    return member_prior(np.array([m.family for m, _ in rows]), np.array([m.shape_class for m, _ in rows]))


def per_truth(s: np.ndarray, rows: list, window: tuple[float, float], rng: np.random.Generator,
              resolution: tuple[float, float] = (0.0, 0.0)) -> dict[str, np.ndarray]:
    """For every truth (member x element, element-major): D_min at N = 1 for the extent and the volume
    diameter, whether the nearest wrong extent alternative is of another shape class, and whether the
    Bayes decision (:func:`swaxs_lib.ml.ceiling.bayes_size`) on one noisy curve per count level of
    :data:`BAYES_LOG_COUNTS` is right (extent, volume diameter; shape (n_truths, n_levels)).  Every curve
    smeared by ``resolution`` (relative, absolute 1/Å; :func:`smear_rows`), known to the Bayes decision."""
    from swaxs_lib.structures.elements import lattice_constant
    from swaxs_lib.structures.sizes import volume_diameter

    q = window_points(*window)
    smear_window, n_window = smear_rows(q, resolution)
    saxs_q = Q_GRID[Q_GRID < 1.0]
    smear_saxs, n_saxs = smear_rows(saxs_q, resolution)
    scales_el = np.array([element_scale(e) for e in ELEMENTS])
    scales = np.geomspace(scales_el.min() * 0.97, scales_el.max() * 1.03, N_SCALES)
    n_atoms = np.array([float(m.n_atoms) for m, _ in rows])
    extent = np.array([m.diameter_angstrom for m, _ in rows])
    step = np.array([st for _, st in rows])
    vd = np.array([volume_diameter(m.n_atoms, lattice_constant("Au", "fcc") ** 3 / 4) for m, _ in rows])
    alt_extent = (extent[:, None] * scales[None, :]).ravel()
    alt_volume = (vd[:, None] * scales[None, :]).ravel()
    alt_tol_extent = np.maximum(0.05 * alt_extent, (step[:, None] * scales[None, :]).ravel())
    alt_tol_volume = alt_tol_extent * alt_volume / alt_extent
    with np.errstate(divide="ignore"):
        log_prior = np.log(np.outer(truth_weights(rows), scale_prior(scales)).ravel())
    alt_class = np.repeat(np.array([SHAPE_CLASSES.index(m.shape_class) for m, _ in rows]), N_SCALES)
    counts = 10.0**BAYES_LOG_COUNTS
    out = {k: [] for k in ("extent", "volume", "other_shape", "bayes_extent", "bayes_volume")}
    for e, scale_e in zip(ELEMENTS, scales_el):
        # the truth on the grid of a' (within 0.03 % of the element's scale): the Bayes decision's hypotheses
        # then hold it exactly, as the real problem's continuum does (a grid step off, the deep minima of a
        # noise-free curve would count the step against every hypothesis at high counts)
        a = float(scales[np.argmin(np.abs(np.log(scales / scale_e)))])
        alts = intensities(s, n_atoms, Q_GRID[:n_window], scales, e).reshape(len(rows) * N_SCALES, n_window)
        alts = alts @ smear_window.T
        alts2 = alts**2
        truth = intensities(s, n_atoms, Q_GRID[:n_window], np.array([a]), e)[:, 0, :] @ smear_window.T
        full = intensities(s, n_atoms, Q_GRID[:n_saxs], np.array([a]), e)[:, 0, :] @ smear_saxs.T
        ref = np.median(full, axis=1)
        for chunk in np.array_split(np.arange(len(rows)), 12):
            d = noncentrality_matrix(alts, (1 / truth[chunk]).T, truth[chunk].sum(axis=1)) / ref[chunk][None, :]
            # one noisy curve per truth and count level, the simulator's noise (measured_intensity), each at
            # an expansion drawn as the test split draws it (-3..+3 %, its scale on the grid of a'):
            # curves of every scale the prior holds, as many as the decision can get wrong
            expanded = scale_e * (1 + rng.uniform(-0.03, 0.03, (len(chunk), len(counts))))
            at = np.abs(np.log(scales)[None, None, :] - np.log(expanded)[:, :, None]).argmin(axis=2)
            curve = alts[(chunk[:, None] * N_SCALES + at)]
            curve_ref = np.array([np.median(intensities(s[t:t + 1], n_atoms[t:t + 1], Q_GRID[:n_saxs], scales[at[j]], e)[0]
                                            @ smear_saxs.T, axis=1) for j, t in enumerate(chunk)])
            sigma2 = curve * (curve_ref / counts[None, :])[:, :, None]
            y = curve + np.sqrt(sigma2) * rng.standard_normal(sigma2.shape)
            floor = 1e-3 * curve_ref[:, :, None]
            # the simulator floors I at 1e-3 ref; the decision sees which points sit there and leaves them out
            weights = np.where(y > floor, 1 / sigma2, 0.0).reshape(-1, len(q))
            y = np.maximum(y, floor).reshape(-1, len(q))
            chi2 = profiled_chi2(alts, alts2, y.T, weights.T)
            for j, t in enumerate(chunk):
                true_e, true_v = a * extent[t], a * vd[t]
                tol_e = max(0.05 * true_e, a * step[t])
                tol_v = tol_e * vd[t] / extent[t]
                de = np.where(np.abs(alt_extent - true_e) <= tol_e, np.inf, d[:, j])
                k = int(np.argmin(de))
                out["extent"].append(de[k])
                out["other_shape"].append(alt_class[k] != SHAPE_CLASSES.index(rows[t][0].shape_class))
                out["volume"].append(np.min(np.where(np.abs(alt_volume - true_v) <= tol_v, np.inf, d[:, j])))
                right_e, right_v = [], []
                for level in range(len(counts)):
                    a_draw = scales[at[j, level]]
                    true_e, true_v = a_draw * extent[t], a_draw * vd[t]
                    tol_e = max(0.05 * true_e, a_draw * step[t])
                    tol_v = tol_e * vd[t] / extent[t]
                    log_post = log_prior - 0.5 * chi2[:, j * len(counts) + level]
                    top = np.argpartition(-log_post, BAYES_KEEP)[:BAYES_KEEP]
                    right_e.append(abs(bayes_size(log_post[top], alt_extent[top], alt_tol_extent[top]) - true_e) <= tol_e)
                    right_v.append(abs(bayes_size(log_post[top], alt_volume[top], alt_tol_volume[top]) - true_v) <= tol_v)
                out["bayes_extent"].append(right_e)
                out["bayes_volume"].append(right_v)
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
    from swaxs_lib.ml.windows import volume_step, window_knn, window_labels
    from swaxs_lib.store import Store

    bundle = load_bundle(DEFAULT_MODEL_DIR)
    test = Store(db).load_samples("default", ["test-mono"])
    truth = window_labels(test.labels)
    predicted = window_knn(bundle.extras["size_window"], test.q_inv_angstrom, test.iq, *window)
    ext = within_shell_or_5_percent(np.exp(predicted[:, 0]), truth["extent"], truth["step"])
    vol = within_shell_or_5_percent(np.exp(predicted[:, 2]), truth["volume_diameter"], volume_step(truth))
    shape = np.asarray(test.labels["shape"])
    out = {name: (float(ext[shape == name].mean()), float(vol[shape == name].mean())) for name in set(shape)}
    out["all"] = (float(ext.mean()), float(vol.mean()))
    return out


def check_curves(s: np.ndarray, rows: list) -> tuple[float, float]:
    """Largest relative differences, over three members in Ni and Au at the window points of 0.02-0.6,
    between this script's curves (:func:`intensities`) and the simulator's clean_intensity, and between
    :func:`smear_rows` and the simulator's :func:`~swaxs_lib.ml.simulate.smear` (3 %, 0.02 1/Å)."""
    from swaxs_lib.ml.simulate import smear

    q = window_points(0.02, 0.6)
    on_grid = np.searchsorted(Q_GRID, q - 1e-9)
    matrix, n = smear_rows(q, (0.03, 0.02))
    worst, worst_smear = 0.0, 0.0
    for i in (0, len(rows) // 2, len(rows) - 1):
        for e in ("Au", "Ni"):
            ours = intensities(s[i:i + 1], np.array([float(rows[i][0].n_atoms)]), q,
                               np.array([element_scale(e)]), e)[0, 0]
            theirs = clean_intensity(rows[i][0], e, 0.0, B_ISO)
            worst = max(worst, float(np.max(np.abs(ours / theirs[on_grid] - 1))))
            smeared = smear(Q_GRID, theirs, 0.03, 0.02)[on_grid]
            worst_smear = max(worst_smear, float(np.max(np.abs(matrix @ theirs[:n] / smeared - 1))))
    return worst, worst_smear


def print_table(title: str, groups: list, weight: np.ndarray, near: dict[str, np.ndarray],
                model: dict[str, tuple[float, float]] | None) -> dict[str, float]:
    """One window's table (module docstring); returns the "all" row's figures."""
    ext, vol = noise_average(near["extent"]), noise_average(near["volume"])
    bayes_e, bayes_v = near["bayes_extent"].mean(axis=1), near["bayes_volume"].mean(axis=1)
    print(f"\n{title}")
    print(f"{'':22s} {'':6s} {'extent':-^52s} | {'volume-equivalent diameter':-^29s}")
    print(f"{'shape':22s} {'truths':>6s} {'D<1':>6s} {'D<4':>6s} {'pairw.':>6s} {'Bayes':>6s} {'model':>6s} "
          f"{'oth.shape':>9s} | {'D<1':>6s} {'pairw.':>6s} {'Bayes':>6s} {'model':>6s}")
    for label, rows_in in groups:
        w = weight * rows_in
        w = w / w.sum()
        m = model.get(label) if model else None
        print(f"{label:22s} {int(rows_in.sum()):6d} {ext['below1'] @ w:6.3f} {ext['below4'] @ w:6.3f} "
              f"{ext['ceiling'] @ w:6.3f} {bayes_e @ w:6.3f} {m[0] if m else float('nan'):6.3f} "
              f"{near['other_shape'] @ w:9.3f} | {vol['below1'] @ w:6.3f} {vol['ceiling'] @ w:6.3f} "
              f"{bayes_v @ w:6.3f} {m[1] if m else float('nan'):6.3f}")
    w = weight / weight.sum()
    by_counts = {f"1e{lc:g}": round(float(pairwise_ceiling(near['extent'] * 10.0**lc) @ w), 4) for lc in (2.5, 5.0)}
    bayes_counts = {f"1e{lc:.2f}": round(float(near["bayes_extent"][:, i] @ w), 3)
                    for i, lc in enumerate(BAYES_LOG_COUNTS)}
    p = float(bayes_e @ w)
    se = float(np.sqrt(np.sum(w**2) * p * (1 - p) / len(BAYES_LOG_COUNTS)))
    print(f"all, extent: pairwise at one N {by_counts}; Bayes per N {bayes_counts}, Monte Carlo sd {se:.3f}")
    return {"extent_pairwise": round(float(ext["ceiling"] @ w), 4), "extent_bayes": round(float(bayes_e @ w), 4),
            "volume_diameter_pairwise": round(float(vol["ceiling"] @ w), 4),
            "volume_diameter_bayes": round(float(bayes_v @ w), 4),
            "extent_share_d_below_1": round(float(ext["below1"] @ w), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/work/mldb/ml.duckdb", help="model database (read-only), for the model's column")
    parser.add_argument("--windows", default="0.02-0.3,0.02-0.45,0.02-0.6",
                        help="the windows of the tables without Q resolution ('' for none)")
    parser.add_argument("--resolution", default="0.015,0.01",
                        help="relative,absolute sigma_Q (1/Å) of the extra 0.02-0.3 table; 'none' to skip it")
    args = parser.parse_args()
    start = time.time()
    rows = members()
    log(f"{len(rows)} members x {len(ELEMENTS)} elements ({time.time() - start:.0f} s)")
    s = structure_factors(rows)
    log("curve check: max relative difference to clean_intensity {:.2e}, to smear {:.2e}".format(*check_curves(s, rows)))
    weight = np.tile(truth_weights(rows), len(ELEMENTS)) / len(ELEMENTS)
    shape = np.tile(np.array([m.shape for m, _ in rows]), len(ELEMENTS))
    groups = [(name, shape == name) for name in sorted(set(shape))] + [("all", np.ones(len(shape), bool))]
    summary = {}
    rng = np.random.default_rng(20261206)
    windows = [w for w in WINDOWS if f"{w[0]:g}-{w[1]:g}" in args.windows.split(",")]
    runs = [(window, (0.0, 0.0)) for window in windows]
    if args.resolution != "none":
        runs.append((WINDOWS[0], tuple(float(v) for v in args.resolution.split(","))))
    for window, resolution in runs:
        name = f"{window[0]:g}-{window[1]:g}" + (f" sigma_Q {resolution[0]:g} Q + {resolution[1]:g}" if any(resolution) else "")
        near = per_truth(s, rows, window, rng, resolution)
        log(f"window {name} done ({time.time() - start:.0f} s)")
        title = (f"window {name} 1/Å, monodisperse, "
                 + (f"Q resolution sigma_Q = sqrt(({resolution[0]:g} Q)^2 + {resolution[1]:g}^2) (known); "
                    if any(resolution) else "no Q resolution; ")
                 + "weights as test-mono; N log-uniform 10^2.5..10^5")
        summary[name] = print_table(title, groups, weight, near, model_scores(args.db, window))
    print("\ncolumns: D<1, D<4 = share of truths whose nearest wrong alternative lies within 1 (2) noise sd;")
    print("pairw. = mean of 1 - Phi(-sqrt(D_min)/2); Bayes = share right of the Bayes decision knowing the physics,")
    print("prior and noise level (one noisy curve per truth and 6 count levels); model = shipped window model,")
    print("test-mono (random resolution), within one shell or 5 %; oth.shape = share whose nearest wrong extent is")
    print("another shape class")
    print(json.dumps({"seconds": round(time.time() - start, 1), "ceilings": summary}))


if __name__ == "__main__":
    main()
