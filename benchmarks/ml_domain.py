"""Does the novelty score tell in-domain curves from out-of-domain ones?  AUROC, false alarms, tempered probabilities.

In-domain: the shipped model database's held-out ``test-mono`` and
``test-poly20`` I(Q) (0.02–20 1/Å; seeds of their own, never trained on),
split at random (seed 7) into a calibration half, on which the threshold is
chosen (its 95 % quantile: a 5 % false-alarm rate by construction there), and
an evaluation half, on which the false-alarm rate is measured.

Out-of-domain, labelled sets (each structure's Debye I(Q) on the database's
Q grid through :func:`swaxs_lib.ml.simulate.measured_intensity` with
``--variants`` test-mono variants: resolution, background, noise, B):

``larger``      fcc Au sphere of 10 nm and Pt sphere of 9 nm (the ladder ends at 7.2 nm)
``smaller``     Au4 tetrahedron, Au6 octahedron, Au8 (the ladder starts at 13 atoms)
``rods``        fcc Au cylinders, 2 nm × 6 nm and 2.5 nm × 8 nm
``cubes``       fcc Au cubes of 3 and 4 nm edge
``bimetallic``  Pt core in an Au shell (4 nm), random Au–Ag alloy sphere (3.5 nm)
``elements``    bcc Fe, fcc Al, fcc Rh spheres of 3.5 nm (elements not in the database)
``units``       in-domain test curves with Q in 1/nm read as 1/Å (abscissa × 10)
``background``  in-domain test curves + a constant 3–30 × their median WAXS intensity
                (the database's is ≤ 0.6 ×)

For every curve :func:`swaxs_lib.ml.predict.predict` runs as the command
does; the score is the largest novelty of the models that answered (a
curve the models refuse scores as detected).  Beside it, two candidates:
the best library match's R_w, and the two combined (the larger of each
divided by its in-domain calibration 95 % quantile).
Reported per set: the AUROC of the score against the in-domain evaluation
half, the share flagged at the threshold, and the mean top shape probability
as reported (tempered, :func:`swaxs_lib.ml.domain.temper`) and before
tempering; for the in-domain halves the expected calibration error (15 bins,
top fine class) tempered and not.

    PYTHONPATH=. python benchmarks/ml_domain.py            # ~10 min on 2 shared cores
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

from swaxs_lib.ml.catalog import SHAPE_CLASSES  # noqa: E402
from swaxs_lib.ml.models import DEFAULT_MODEL_DIR, load_bundle  # noqa: E402
from swaxs_lib.ml.predict import predict  # noqa: E402
from swaxs_lib.ml.simulate import Q_GRID, draw_variant, measured_intensity  # noqa: E402
from swaxs_lib.store import Store  # noqa: E402


def _cut(atoms, keep):
    out = atoms[keep]
    out.positions -= out.positions.mean(axis=0)
    return out


def _crystal(symbol: str, structure: str, a: float, half_extent: float):
    from ase.build import bulk

    n = int(2 * half_extent / a) + 3
    atoms = bulk(symbol, structure, a=a, cubic=True).repeat((n, n, n))
    atoms.positions -= atoms.positions.mean(axis=0)
    return atoms


def structures() -> dict[str, list]:
    """The out-of-domain structures (ase.Atoms) per set."""
    from ase.cluster import Octahedron

    au = 4.078

    def sphere(symbol, structure, a, diameter):
        atoms = _crystal(symbol, structure, a, diameter / 2)
        return _cut(atoms, np.linalg.norm(atoms.positions, axis=1) <= diameter / 2)

    def rod(diameter, length):
        atoms = _crystal("Au", "fcc", au, length / 2)
        p = atoms.positions
        return _cut(atoms, (np.hypot(p[:, 0], p[:, 1]) <= diameter / 2) & (np.abs(p[:, 2]) <= length / 2))

    def cube(edge):
        atoms = _crystal("Au", "fcc", au, edge)
        return _cut(atoms, np.all(np.abs(atoms.positions) <= edge / 2, axis=1))

    core_shell = sphere("Au", "fcc", au, 40.0)
    core = np.linalg.norm(core_shell.positions, axis=1) <= 12.0
    core_shell.symbols[core] = "Pt"
    alloy = sphere("Au", "fcc", au, 35.0)
    alloy.symbols[np.random.default_rng(3).random(len(alloy)) < 0.5] = "Ag"
    from ase import Atoms

    tetra = Atoms("Au4", positions=2.88 / np.sqrt(8) * np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]))
    au8 = Atoms("Au8", positions=2.88 / 2 * np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]))
    return {
        "larger": [sphere("Au", "fcc", au, 100.0), sphere("Pt", "fcc", 3.924, 90.0)],
        "smaller": [tetra, Octahedron("Au", 2, cutoff=0, latticeconstant=au), au8],
        "rods": [rod(20.0, 60.0), rod(25.0, 80.0)],
        "cubes": [cube(30.0), cube(40.0)],
        "bimetallic": [core_shell, alloy],
        "elements": [sphere("Fe", "bcc", 2.8665, 35.0), sphere("Al", "fcc", 4.0495, 35.0),
                     sphere("Rh", "fcc", 3.8034, 35.0)],
    }


#: The score of a curve the models refuse outright (it is out of domain by any threshold).
REFUSED = 1e9


def best_rw(result) -> float:
    """R_w of the best library match (the library search's misfit); REFUSED when there is none."""
    p = result[3]
    return p.matches[0].rw if p is not None and p.matches else REFUSED


def shape_lambda(p) -> float:
    """λ the shape model's probabilities were tempered with."""
    return next((v for k, v in p.tempering.items() if k in ("joint_iq", "shape_waxs", "joint_gr")), 0.0)


def score(bundle, q, values):
    """(score, top shape probability, the same untempered, Prediction); a refused curve scores inf."""
    from swaxs_lib.errors import SwaxsInputError

    try:
        p = predict(bundle, "iq", q, values, top=1)
    except SwaxsInputError:
        return REFUSED, None, None, None
    raw_top = None
    if p.shape_probability is not None:
        lam = shape_lambda(p)
        prior = sum(1 for c in SHAPE_CLASSES if c in p.probabilities and _shape(c) == p.shape) / len(SHAPE_CLASSES)
        raw_top = (p.shape_probability - lam * prior) / (1 - lam)
    return max(p.novelty.values()), p.shape_probability, raw_top, p


def _shape(shape_class):
    from swaxs_lib.ml.catalog import SHAPE_OF_CLASS

    return SHAPE_OF_CLASS[shape_class]


def ece(probabilities: np.ndarray, correct: np.ndarray, bins: int = 15) -> float:
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(probabilities, edges[1:-1]), 0, bins - 1)
    return float(sum(abs(probabilities[which == b].mean() - correct[which == b].mean()) * np.mean(which == b)
                     for b in range(bins) if np.any(which == b)))


def main() -> None:
    from sklearn.metrics import roc_auc_score

    from swaxs_lib.scattering.debye import debye_intensity

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/work/mldb/ml.duckdb")
    parser.add_argument("--name", default="default")
    parser.add_argument("--models", default=str(DEFAULT_MODEL_DIR))
    parser.add_argument("--in-domain", type=int, default=1200, help="in-domain test curves used (of 3,600)")
    parser.add_argument("--variants", type=int, default=15, help="noise/instrument variants per OOD structure")
    parser.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "ml_domain.json"))
    args = parser.parse_args()

    bundle = load_bundle(args.models)
    table = Store(args.db).load_samples(args.name, ["test-mono", "test-poly20"])
    rng = np.random.default_rng(7)
    pick = rng.choice(len(table.iq), min(args.in_domain, len(table.iq)), replace=False)
    q = table.q_inv_angstrom
    t0 = time.time()
    ind = [score(bundle, q, table.iq[i]) for i in pick]
    print(f"in-domain: {len(ind)} curves in {time.time() - t0:.0f} s", file=sys.stderr)
    s_in = np.array([r[0] for r in ind])
    calib = rng.random(len(s_in)) < 0.5
    threshold = float(np.quantile(s_in[calib], 0.95))
    evaluation = s_in[~calib]
    # the alternative score: the library search's best R_w, in units of its in-domain 95 % quantile, and the
    # larger of the two (each scaled so that its calibration 95 % quantile is 1)
    rw_in = np.array([best_rw(r) for r in ind])
    rw_scale = float(np.quantile(rw_in[calib], 0.95))
    both_in = np.maximum(s_in / threshold, rw_in / rw_scale)
    both_threshold = float(np.quantile(both_in[calib], 0.95))
    truth = table.labels["shape_class"][pick]
    top = np.array([max(r[3].probabilities.values()) for r in ind])
    correct = np.array([max(r[3].probabilities, key=r[3].probabilities.get) == t for r, t in zip(ind, truth)])
    lam = np.array([shape_lambda(r[3]) for r in ind])
    raw = (top - lam / len(SHAPE_CLASSES)) / (1 - lam)
    sets: dict[str, list[np.ndarray]] = {}
    for name, atoms_list in structures().items():
        for atoms in atoms_list:
            t1 = time.time()
            clean = debye_intensity(atoms, Q_GRID, b_iso_angstrom2=0.6).intensity
            for _ in range(args.variants):
                sets.setdefault(name, []).append(measured_intensity(clean, draw_variant(rng, "test-mono"), rng))
            print(f"{name}: {atoms.get_chemical_formula()} ({len(atoms)} atoms) {time.time() - t1:.1f} s",
                  file=sys.stderr)
    sample = rng.choice(len(table.iq), 60, replace=False)
    units_q = q * 10.0  # Q in 1/nm read as 1/Å
    sets["background"] = [table.iq[i] + rng.uniform(3, 30) * np.median(table.iq[i][q > 1.0]) for i in sample]
    rows = ["| set | n | AUROC novelty | flagged (novelty) | AUROC best R_w | AUROC combined | flagged (combined) | "
            "mean top shape probability (tempered / raw) |", "|---|---|---|---|---|---|---|---|"]
    results = {"threshold": round(threshold, 4), "in_domain_calibration_n": int(calib.sum()),
               "in_domain_false_alarms": round(float(np.mean(evaluation > threshold)), 4),
               "in_domain_evaluation_n": int((~calib).sum()),
               "in_domain_flagged_above_1": round(float(np.mean(evaluation > 1.0)), 4),
               "ece_tempered": round(ece(top, correct), 4), "ece_raw": round(ece(raw, correct), 4),
               "in_domain_mean_top_probability": round(float(top.mean()), 4), "sets": {}}
    all_out, all_rw, all_both = [], [], []
    for name in [*sets, "units"]:
        if name == "units":
            got = [score(bundle, units_q, table.iq[i]) for i in sample]
        else:
            got = [score(bundle, q, v) for v in sets[name]]
        s_out = np.array([g[0] for g in got])
        all_out.append(s_out)
        labels = np.r_[np.zeros(len(evaluation)), np.ones(len(s_out))]
        auroc = roc_auc_score(labels, np.r_[evaluation, s_out])
        rw_out = np.array([best_rw(g) for g in got])
        both_out = np.maximum(s_out / threshold, rw_out / rw_scale)
        all_rw.append(rw_out)
        all_both.append(both_out)
        tops = [g[1] for g in got if g[1] is not None]
        raws = [g[2] for g in got if g[2] is not None]
        r = {"n": len(s_out), "auroc": round(float(auroc), 4), "flagged": round(float(np.mean(s_out > threshold)), 4),
             "mean_top_probability": round(float(np.mean(tops)), 4) if tops else None,
             "mean_top_probability_raw": round(float(np.mean(raws)), 4) if raws else None,
             "max_top_probability": round(float(np.max(tops)), 4) if tops else None,
             "auroc_rw": round(float(roc_auc_score(labels, np.r_[rw_in[~calib], rw_out])), 4),
             "auroc_combined": round(float(roc_auc_score(labels, np.r_[both_in[~calib], both_out])), 4),
             "flagged_combined": round(float(np.mean(both_out > both_threshold)), 4)}
        results["sets"][name] = r
        rows.append(f"| {name} | {r['n']} | {r['auroc']:.3f} | {r['flagged']:.2f} | {r['auroc_rw']:.3f} | "
                    f"{r['auroc_combined']:.3f} | {r['flagged_combined']:.2f} | "
                    + (f"{r['mean_top_probability']:.2f} / {r['mean_top_probability_raw']:.2f} |" if tops else "– |"))
        print(rows[-1], file=sys.stderr)
    s_all = np.concatenate(all_out)
    labels = np.r_[np.zeros(len(evaluation)), np.ones(len(s_all))]
    results["auroc_all"] = round(float(roc_auc_score(labels, np.r_[evaluation, s_all])), 4)
    results["auroc_all_rw"] = round(float(roc_auc_score(labels, np.r_[rw_in[~calib], np.concatenate(all_rw)])), 4)
    results["auroc_all_combined"] = round(float(roc_auc_score(labels, np.r_[both_in[~calib],
                                                                             np.concatenate(all_both)])), 4)
    results["combined_false_alarms"] = round(float(np.mean(both_in[~calib] > both_threshold)), 4)
    results["rw_scale"], results["combined_threshold"] = round(rw_scale, 4), round(both_threshold, 4)
    print("\n".join(rows))
    print(f"\nall out-of-domain: AUROC {results['auroc_all']:.3f}; threshold {threshold:.3f} (95 % of "
          f"{int(calib.sum())} in-domain calibration curves); false alarms on {int((~calib).sum())} other in-domain "
          f"curves {results['in_domain_false_alarms']:.3f} (novelty > 1: {results['in_domain_flagged_above_1']:.3f}); "
          f"in-domain ECE tempered {results['ece_tempered']:.3f}, raw {results['ece_raw']:.3f}; best R_w: AUROC "
          f"{results['auroc_all_rw']:.3f}; combined: AUROC {results['auroc_all_combined']:.3f}, false alarms "
          f"{results['combined_false_alarms']:.3f}")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
