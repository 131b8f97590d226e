"""A physics-only size estimator on the database's real held-out SAXS curves: Bayes over ladder x scale x spread.

No learned model.  For each held-out curve of ``test-mono`` and ``test-poly20`` (noisy, smeared, with
background, random B, element, expansion and counts; the variant is NOT read) only the points of the
window 0.02-0.3 1/Å are used (:func:`swaxs_lib.ml.windows.window_points`, as ``window_features``).

Hypotheses: every ladder member (:func:`swaxs_lib.ml.catalog.families`, 221) as the centre rung x size
scale a (:data:`N_SCALES` log-spaced over [min element scale x 0.97, max x 1.03]: every element and
expansion) x polydispersity width w in :data:`WIDTHS` (the number-weighted mixture of the family's rungs
of :func:`swaxs_lib.ml.simulate.ladder_weights`, as the database mixes them; extent label the
number-weighted mean, shell the centre rung's, as the database's labels) x Q resolution in ``--resolutions``
(default none, the database's median sigma_Q = sqrt((0.015 Q)² + 0.01²) and its largest
sqrt((0.03 Q)² + 0.02²), the simulator's smear).
Curves: Debye I(Q) of the gold templates, gold's atomic form factor and B = 0.6 Å² for every hypothesis
(the elements' f(Q)² differ by < 1 % in shape and exp(-B Q²/8 pi²) by < 0.3 % over B 0.2..2 below
0.3 1/Å: neither is worth a hypothesis axis).  Per hypothesis and curve an intensity scale c >= 0 and a
constant background b >= 0 (the database's background is constant within 0.2 % below 0.3 1/Å) are fitted
in closed form (:func:`swaxs_lib.ml.ceiling.profiled_chi2_background`), the background at most
:data:`BACKGROUND_PER_ATOM` x the hypothesis's mean atom count x f_Au(0)² per unit of c (what the
database's background can reach, relative to the particles' own wide-angle scattering), with weights 1 / sigma²,
sigma² = T x model (Poisson-like, counts unknown): a first pass weights by a 5-point running mean of the
curve, the second by the best first-pass hypothesis's fitted curve; T (ref / counts) is the second
pass's smallest chi² / (points - 4), so the posterior exp(-chi² / 2T) is calibrated to the curve's own
noise.  Points at the simulator's floor (a repeated exact minimum) are left out.

Prior: as the test splits draw families and rungs (each shape class equally, its families equally, the
centre rung uniform: :func:`ml_saxs_ceiling.truth_weights`) and scales (element uniform, expansion uniform
-3..+3 %: :func:`ml_saxs_ceiling.scale_prior`, zero between the elements' ranges); flat over widths and
resolutions.  Decision: the size right (within one shell or 5 %) for the most posterior mass
(:func:`swaxs_lib.ml.ceiling.bayes_size`); ``MAP`` is the most probable hypothesis's size.  Beside
them the shipped kNN window model on the same curves (as ``benchmarks/ml_saxs_size.py``) and ablations
of the Bayes decision: the training split's prior on the width (``train_prior``), the split's own width
only (``known_spread``, an oracle: w = 0 for test-mono, 0.2 for test-poly20), no resolution hypotheses,
the background unbounded (``free_background``) or none, a flat prior over members and log scale.
Shares within one shell or 5 %
(:func:`swaxs_lib.ml.experts.within_shell_or_5_percent`) of the extent (the database's
``diameter_angstrom``) and the volume-equivalent diameter (:func:`swaxs_lib.ml.windows.window_labels`;
the hypothesis's a x the gold fcc volume diameter of its mean atom count, off by the expansion's
-3..+3 % at most).

Result (2026-12-06, 1200 curves per split, seed 20261206; 795,600 hypotheses, 0.5 s per curve, 21 min on
one shared core): extent 0.885 / 0.919 (mono / 20 % poly, binomial sd 0.009 / 0.008) against the kNN
window model's 0.879 / 0.765 on the same curves; knowing the spread (oracle) 0.941 / 0.959.

    cp /work/mldb/ml.duckdb /tmp/bayes.duckdb    # read a copy
    OMP_NUM_THREADS=1 PYTHONPATH=. nice -n 10 python benchmarks/ml_saxs_physics.py \\
        [--db /tmp/bayes.duckdb] [--per-split 1200] [--resolutions "0,0;0.015,0.01;0.03,0.02"]
        [--structure-cache /tmp/physics_s.npy]    # 0.5 s per curve on one core, + 1 min setup
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
sys.path.insert(0, str(REPO / "benchmarks"))

from ml_saxs_ceiling import (intensities, members, scale_prior, smear_rows, structure_factors,  # noqa: E402
                             truth_weights)

from swaxs_lib.ml.catalog import ELEMENTS, element_scale, families  # noqa: E402
from swaxs_lib.ml.ceiling import bayes_size, profiled_chi2, profiled_chi2_background  # noqa: E402
from swaxs_lib.ml.saxs_physics import running_mean as curve_running_mean  # noqa: E402
from swaxs_lib.ml.experts import within_shell_or_5_percent  # noqa: E402
from swaxs_lib.ml.simulate import Q_GRID, ladder_weights  # noqa: E402
from swaxs_lib.ml.windows import volume_step, window_labels, window_points  # noqa: E402

WINDOW = (0.02, 0.3)
N_SCALES = 300
WIDTHS = (0.0, 0.1, 0.2, 0.3)
#: Hypotheses kept per curve (the most probable) for the Bayes decision.
KEEP = 2000
#: Curves per block of the chi² matrices.
BLOCK = 32
VARIANTS = ("bayes", "map", "train_prior", "known_spread", "no_resolution", "free_background", "no_background",
            "flat_prior")
#: The largest background per particle, in units of the particle's atoms' own scattering n f_Au(0)²: the
#: database's (c0 + c1 Q / 20) x median WAXS I with c0, c1 <= 0.3 at Q <= 0.3 1/Å is <= 0.3045 x median WAXS
#: I, and the median WAXS I per particle is <= 0.18 n f(0)² (the self term's median over 1..20 1/Å; gold's
#: 0.18 is the largest of the elements, xraydb form factors); 1.5 x that for the pair terms and smearing.
BACKGROUND_PER_ATOM = 1.5 * 0.3045 * 0.18
#: The training split's polydispersity rule (0 with probability 0.35, else uniform 0..0.3) on :data:`WIDTHS`:
#: 0.35 at 0, the rest in equal parts.
TRAIN_WIDTH_PRIOR = (0.35, 0.65 / 3, 0.65 / 3, 0.65 / 3)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def hypotheses(s: np.ndarray, rows: list, resolutions: list[tuple[float, float]]) -> dict[str, np.ndarray]:
    """Every hypothesis (resolution-major, then width, centre member, scale): its curve A at the window
    points, extent and volume diameter (nm), tolerance (nm: max(5 %, one shell)), log prior, and its
    width and resolution indices."""
    from swaxs_lib.structures.elements import lattice_constant
    from swaxs_lib.structures.sizes import volume_diameter

    q = window_points(*WINDOW)
    smears = [smear_rows(q, r) for r in resolutions]
    n_full = max(n for _, n in smears)
    scales_el = np.array([element_scale(e) for e in ELEMENTS])
    scales = np.geomspace(scales_el.min() * 0.97, scales_el.max() * 1.03, N_SCALES)
    n_atoms = np.array([float(m.n_atoms) for m, _ in rows])
    base = intensities(s, n_atoms, Q_GRID[:n_full], scales, "Au")  # (members, scales, n_full)
    position, start = {}, 0
    for family, ladder in families().items():
        for k in range(len(ladder)):
            position[(family, k)] = start + k
        start += len(ladder)
    diameters = np.array([m.diameter_angstrom for m, _ in rows])
    step = np.array([st for _, st in rows])
    v_gold = lattice_constant("Au", "fcc") ** 3 / 4
    log_prior_member = np.log(truth_weights(rows))
    with np.errstate(divide="ignore"):
        log_prior_scale = np.log(scale_prior(scales))
    curves, extent, volume, tol, prior, width_of, res_of, atoms_of = [], [], [], [], [], [], [], []
    for w_index, width in enumerate(WIDTHS):
        mix = np.zeros((len(rows), len(rows)))
        for family, ladder in families().items():
            for k in range(len(ladder)):
                for j, frac in ladder_weights(ladder, k, width).items():
                    mix[position[(family, k)], position[(family, j)]] = frac
        mixed = (mix @ base.reshape(len(rows), -1)).reshape(base.shape)
        mean_d, mean_n = mix @ diameters, mix @ n_atoms
        vd = np.array([volume_diameter(n, v_gold) for n in mean_n])
        for r_index, (matrix, n) in enumerate(smears):
            curves.append((mixed[:, :, :n] @ matrix.T).reshape(-1, len(q)))
            ext = np.outer(mean_d, scales).ravel() / 10
            extent.append(ext)
            volume.append(np.outer(vd, scales).ravel() / 10)
            tol.append(np.maximum(0.05 * ext, np.outer(step, scales).ravel() / 10))
            prior.append((log_prior_member[:, None] + log_prior_scale[None, :]).ravel())
            width_of.append(np.full(ext.size, w_index))
            res_of.append(np.full(ext.size, r_index))
            atoms_of.append(np.repeat(mean_n, len(scales)))
    out = {"curves": np.vstack(curves), "extent": np.concatenate(extent), "volume": np.concatenate(volume),
           "tol": np.concatenate(tol), "log_prior": np.concatenate(prior), "width": np.concatenate(width_of),
           "resolution": np.concatenate(res_of), "atoms": np.concatenate(atoms_of)}
    return out


def running_mean(y: np.ndarray) -> np.ndarray:
    """:func:`swaxs_lib.ml.saxs_physics.running_mean` of each column (one curve per column)."""
    return np.apply_along_axis(curve_running_mean, 0, y)


def decide(log_post: np.ndarray, hyp: dict[str, np.ndarray]) -> tuple[float, float, float, float]:
    """Bayes extent, Bayes volume diameter, MAP extent, MAP volume diameter (nm) of one posterior."""
    top = np.argpartition(-log_post, KEEP)[:KEEP]
    lp = log_post[top]
    best = top[int(np.argmax(lp))]
    return (bayes_size(lp, hyp["extent"][top], hyp["tol"][top], keep=KEEP),
            bayes_size(lp, hyp["volume"][top], hyp["tol"][top] * hyp["volume"][top] / hyp["extent"][top], keep=KEEP),
            float(hyp["extent"][best]), float(hyp["volume"][best]))


def estimate(y_all: np.ndarray, hyp: dict[str, np.ndarray], known_width: np.ndarray) -> dict[str, np.ndarray]:
    """Every variant's (extent, volume diameter) decisions (n_curves, 2) for the window intensities y;
    ``known_width`` (index into :data:`WIDTHS` per curve) only for the oracle variant ``known_spread``."""
    from ml_saxs_ceiling import form_factor_squared

    a, a2 = hyp["curves"], hyp["curves"] ** 2
    ratio = BACKGROUND_PER_ATOM * hyp["atoms"] * float(form_factor_squared("Au", np.array([WINDOW[0]]))[0])
    train_prior = np.log(np.asarray(TRAIN_WIDTH_PRIOR))[hyp["width"]] - np.log(1 / len(WIDTHS))
    flat = np.zeros(len(hyp["log_prior"]))
    out = {v: np.zeros((len(y_all), 2)) for v in VARIANTS}
    dof = y_all.shape[1] - 4
    start = time.time()
    for block in np.array_split(np.arange(len(y_all)), max(1, len(y_all) // BLOCK)):
        y = y_all[block].T.astype(float)
        floor = (y == y.min(axis=0, keepdims=True)) & ((y == y.min(axis=0, keepdims=True)).sum(axis=0) > 1)
        use = ~floor
        w1 = use / np.maximum(running_mean(y), 1e-300)
        chi2, c, b = profiled_chi2_background(a, a2, y, w1, ratio)
        best = np.argmin(chi2, axis=0)
        cols = np.arange(len(block))
        model = (c[best, cols][:, None] * a[best] + b[best, cols][:, None]).T
        w2 = use / np.maximum(model, 1e-12 * model.max())
        chi2, _, _ = profiled_chi2_background(a, a2, y, w2, ratio)
        temp = chi2.min(axis=0) / dof
        chi2_fb, _, _ = profiled_chi2_background(a, a2, y, w2)
        temp_fb = chi2_fb.min(axis=0) / dof
        chi2_nb = profiled_chi2(a, a2, y, w2)
        temp_nb = chi2_nb.min(axis=0) / dof
        for j, i in enumerate(block):
            lp = hyp["log_prior"] - 0.5 * chi2[:, j] / temp[j]
            bayes_e, bayes_v, map_e, map_v = decide(lp, hyp)
            out["bayes"][i], out["map"][i] = (bayes_e, bayes_v), (map_e, map_v)
            out["train_prior"][i] = decide(lp + train_prior, hyp)[:2]
            out["known_spread"][i] = decide(np.where(hyp["width"] == known_width[i], lp, -np.inf), hyp)[:2]
            out["no_resolution"][i] = decide(np.where(hyp["resolution"] == 0, lp, -np.inf), hyp)[:2]
            out["free_background"][i] = decide(hyp["log_prior"] - 0.5 * chi2_fb[:, j] / temp_fb[j], hyp)[:2]
            out["no_background"][i] = decide(hyp["log_prior"] - 0.5 * chi2_nb[:, j] / temp_nb[j], hyp)[:2]
            out["flat_prior"][i] = decide(flat - 0.5 * chi2[:, j] / temp[j], hyp)[:2]
        log(f"{block[-1] + 1}/{len(y_all)} curves ({time.time() - start:.0f} s)")
    return out


def knn_predictions(q: np.ndarray, iq: np.ndarray) -> np.ndarray:
    """The shipped window model's (extent, volume diameter) (nm), as benchmarks/ml_saxs_size.py."""
    from swaxs_lib.ml.models import DEFAULT_MODEL_DIR, load_bundle
    from swaxs_lib.ml.windows import window_knn

    predicted = window_knn(load_bundle(DEFAULT_MODEL_DIR).extras["size_window"], q, iq, *WINDOW)
    return np.exp(predicted[:, [0, 2]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/bayes.duckdb", help="a COPY of the model database")
    parser.add_argument("--name", default="default")
    parser.add_argument("--per-split", type=int, default=1200, help="curves per split (seeded subset)")
    parser.add_argument("--resolutions", default="0,0;0.015,0.01;0.03,0.02",
                        help="hypothesised sigma_Q: 'relative,absolute' pairs separated by ';'")
    parser.add_argument("--structure-cache", default="", help="optional .npy of the structure factors")
    args = parser.parse_args()
    from swaxs_lib.store import Store

    start = time.time()
    resolutions = [tuple(float(v) for v in pair.split(",")) for pair in args.resolutions.split(";")]
    rows = members()
    cache = Path(args.structure_cache) if args.structure_cache else None
    s = np.load(cache) if cache and cache.exists() else structure_factors(rows)
    if cache and not cache.exists():
        np.save(cache, s)
    hyp = hypotheses(s, rows, resolutions)
    log(f"{len(hyp['extent'])} hypotheses ({time.time() - start:.0f} s)")
    test = Store(args.db).load_samples(args.name, ["test-mono", "test-poly20"])
    split = np.asarray(test.labels["split"])
    rng = np.random.default_rng(20261206)
    chosen = np.sort(np.concatenate([rng.choice(np.flatnonzero(split == name),
                                                min(args.per_split, int((split == name).sum())), replace=False)
                                     for name in ("test-mono", "test-poly20")]))
    labels = {k: np.asarray(v)[chosen] for k, v in test.labels.items()}
    iq = np.asarray(test.iq)[chosen]
    truth = window_labels(labels)
    index = np.searchsorted(Q_GRID, window_points(*WINDOW) - 1e-9)
    t0 = time.time()
    known = np.where(labels["split"] == "test-mono", WIDTHS.index(0.0), WIDTHS.index(0.2))
    result = estimate(iq[:, index], hyp, known)
    per_curve = (time.time() - t0) / len(chosen)
    result["knn"] = knn_predictions(test.q_inv_angstrom, iq)
    right = {v: (within_shell_or_5_percent(p[:, 0], truth["extent"], truth["step"]),
                 within_shell_or_5_percent(p[:, 1], truth["volume_diameter"], volume_step(truth)))
             for v, p in result.items()}
    columns = ("bayes", "map", "knn", "train_prior", "known_spread", "no_resolution", "free_background",
               "no_background", "flat_prior")
    shape = np.asarray(labels["shape"])
    print(f"window {WINDOW[0]:g}-{WINDOW[1]:g} 1/Å, {len(hyp['extent'])} hypotheses, resolutions {resolutions}; "
          "share within one shell or 5 %")
    print(f"{'split':12s} {'shape':22s} {'n':>5s} | extent: " + " ".join(f"{c[:9]:>9s}" for c in columns)
          + " |  volume d: bayes   knn")
    summary = {}
    for name in ("test-mono", "test-poly20"):
        for label in sorted(set(shape)) + ["all"]:
            m = (labels["split"] == name) & ((shape == label) | (label == "all"))
            print(f"{name:12s} {label:22s} {m.sum():5d} | extent: "
                  + " ".join(f"{right[c][0][m].mean():9.3f}" for c in columns)
                  + f" |           {right['bayes'][1][m].mean():.3f} {right['knn'][1][m].mean():.3f}")
            if label == "all":
                p = float(right["bayes"][0][m].mean())
                summary[name] = {c: round(float(right[c][0][m].mean()), 4) for c in columns}
                summary[name]["bayes_sd"] = round(float(np.sqrt(p * (1 - p) / m.sum())), 4)
                summary[name]["volume_bayes"] = round(float(right["bayes"][1][m].mean()), 4)
                summary[name]["volume_knn"] = round(float(right["knn"][1][m].mean()), 4)
    print(json.dumps({"seconds": round(time.time() - start, 1), "seconds_per_curve": round(per_curve, 3),
                      "curves": int(len(chosen)), "hypotheses": int(len(hyp["extent"])), "shares": summary}))


if __name__ == "__main__":
    main()
