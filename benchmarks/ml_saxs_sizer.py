"""The shipped physics SAXS-only sizer (swaxs_lib/ml/saxs_physics.py) against the kNN window model, per window.

For each window, a seeded subset of the database's held-out ``test-mono`` and ``test-poly20`` curves (noisy,
Q-smeared, background, random element, expansion, B and counts; the variant is not read): the share of
extents and volume-equivalent diameters within one shell or 5 %
(:func:`swaxs_lib.ml.experts.within_shell_or_5_percent`) of the physics decision and of the kNN window model
(``windows.window_knn``) on the same curves, the physics decision's mean reported probability (its
calibration: it should match its share right), the share of its 90 % extent intervals holding the truth,
and its time per curve (the first curve of a window, which builds the window's hypotheses, excluded and
reported apart).  ``--element-known`` gives each curve's element, as a user who names it would; ``--shape-known`` its shape
(``--shape``); ``--resolution-known`` its Q resolution (a file's dQ column); ``--monodisperse`` tells the physics
sizer every curve has one size (``predict --monodisperse``; wrong on the polydisperse split, which shows what a
wrong claim costs); ``--stride N`` keeps every N-th point, a coarser grid of the user's.

    cp /work/mldb/ml.duckdb /tmp/sizer.duckdb      # read a copy (a test-splits-only build-db suffices)
    PYTHONPATH=. nice python benchmarks/ml_saxs_sizer.py --db /tmp/sizer.duckdb [--per-split 400]
        [--windows "0.02-0.3,0.03-0.2,0.05-0.1,0.02-0.6"] [--element-known] [--shape-known]
        [--resolution-known] [--monodisperse] [--stride 3]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from swaxs_lib.ml.experts import within_shell_or_5_percent  # noqa: E402
from swaxs_lib.ml.models import DEFAULT_MODEL_DIR, load_bundle  # noqa: E402
from swaxs_lib.ml import saxs_physics  # noqa: E402
from swaxs_lib.ml.saxs_physics import physics_for  # noqa: E402
from swaxs_lib.ml.catalog import SHAPE_OF_CLASS, size_groups  # noqa: E402
from swaxs_lib.ml.routing import shape_groups  # noqa: E402
from swaxs_lib.ml.windows import (restricted_knn, volume_step, window_features, window_knn,  # noqa: E402
                                  window_labels, window_parts)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="/tmp/sizer.duckdb", help="a COPY of the model database")
    parser.add_argument("--name", default="default")
    parser.add_argument("--models", default=str(DEFAULT_MODEL_DIR))
    parser.add_argument("--per-split", type=int, default=400, help="curves per split (seeded subset)")
    parser.add_argument("--windows", default="0.02-0.3,0.03-0.2,0.05-0.1,0.02-0.6")
    parser.add_argument("--element-known", action="store_true", help="give each curve's element")
    parser.add_argument("--shape-known", action="store_true",
                        help="give each curve's shape (its cluster shape name, as --shape does): both estimators "
                             "restricted to its size groups")
    parser.add_argument("--resolution-known", action="store_true",
                        help="give each curve's Q resolution (its variant's dQ), as a file's dQ column does")
    parser.add_argument("--monodisperse", action="store_true",
                        help="tell the physics sizer every curve is monodisperse (--monodisperse; on the 20 %% "
                             "polydisperse split this is the wrong thing told)")
    parser.add_argument("--stride", type=int, default=1,
                        help="keep every N-th point of the database grid: a coarser grid of the user's (both "
                             "estimators; the window model interpolates it onto its own points)")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--temperature-factor", type=float, default=None,
                        help="override saxs_physics.REPORT_TEMPERATURE_FACTOR (to choose it on a calibration subset)")
    args = parser.parse_args()
    from swaxs_lib.store import Store

    if args.temperature_factor is not None:
        saxs_physics.REPORT_TEMPERATURE_FACTOR = args.temperature_factor
    windows = [tuple(float(v) for v in w.split("-")) for w in args.windows.split(",")]
    bundle = load_bundle(Path(args.models))
    physics = physics_for(bundle)
    arrays = bundle.extras["size_window"]
    test = Store(args.db).load_samples(args.name, ["test-mono", "test-poly20"])
    split = np.asarray(test.labels["split"])
    rng = np.random.default_rng(args.seed)
    chosen = np.sort(np.concatenate([rng.choice(np.flatnonzero(split == name),
                                                min(args.per_split, int((split == name).sum())), replace=False)
                                     for name in ("test-mono", "test-poly20")]))
    labels = {k: np.asarray(v)[chosen] for k, v in test.labels.items()}
    q, iq = np.asarray(test.q_inv_angstrom), np.asarray(test.iq)[chosen]
    if args.stride > 1:  # a coarser user grid: every stride-th measured point (the last kept), noise as measured
        keep = np.unique(np.append(np.arange(0, len(q), args.stride), len(q) - 1))
        q, iq = q[keep], iq[:, keep]
    truth = window_labels(labels)
    elements = np.asarray(labels["element"])
    variants = [json.loads(v) for v in labels["variant_json"]]
    dqs = [saxs_physics.resolution_sigma(q, (v["resolution_relative"], v["resolution_inv_angstrom"])) for v in variants]
    groups = size_groups()
    allowed = [shape_groups(SHAPE_OF_CLASS[c]) for c in labels["shape_class"]] if args.shape_known else None
    print(f"{len(chosen)} curves ({args.per_split} per split, seed {args.seed}), element "
          f"{'given' if args.element_known else 'unknown'}, shape {'given' if args.shape_known else 'unknown'}, dQ "
          f"{'given' if args.resolution_known else 'unknown'}{', told monodisperse' if args.monodisperse else ''}"
          f"{f', every {args.stride}th point' if args.stride > 1 else ''}; "
          "share within one shell or 5 %")
    print(f"{'window':10s} {'split':12s} {'extent phys':>11s} {'kNN':>6s} {'mean p':>7s} {'90% int':>7s} "
          f"{'vol d phys':>10s} {'kNN':>6s} {'ms/curve':>8s}")
    summary = {}
    for window in windows:
        name = f"{window[0]:g}-{window[1]:g}"
        if args.shape_known:
            parts = window_parts(arrays, name)
            knn = np.exp(np.vstack([restricted_knn(parts, window_features(q, iq[i], *window)[None, :], allowed[i])
                                    for i in range(len(chosen))])[:, [0, 2]])
        else:
            knn = np.exp(window_knn(arrays, q, iq, *window)[:, [0, 2]])
        out = np.zeros((len(chosen), 2))
        prob, covered, seconds = np.zeros(len(chosen)), np.zeros(len(chosen), bool), []
        misfit, mono_p = np.zeros(len(chosen)), np.zeros(len(chosen))
        for i in range(len(chosen)):
            got = physics.estimate(q, iq[i], window, element=elements[i] if args.element_known else None,
                                   group_weights={groups[g]: 1.0 for g in allowed[i]} if args.shape_known else None,
                                   q_resolution=dqs[i] if args.resolution_known else None,
                                   monodisperse=args.monodisperse)
            if i == 0:
                first = got.seconds
            else:
                seconds.append(got.seconds)
            out[i] = got.extent_nm, got.volume_diameter_nm
            prob[i] = got.extent_probability
            misfit[i] = got.misfit
            mono_p[i] = got.monodisperse_probability
            lo, hi = got.extent_interval_nm
            covered[i] = lo <= truth["extent"][i] <= hi
        ms = 1e3 * float(np.median(seconds))
        build = first - ms / 1e3  # the first curve builds the window's hypotheses
        right_e = within_shell_or_5_percent(out[:, 0], truth["extent"], truth["step"])
        right_v = within_shell_or_5_percent(out[:, 1], truth["volume_diameter"], volume_step(truth))
        knn_e = within_shell_or_5_percent(knn[:, 0], truth["extent"], truth["step"])
        knn_v = within_shell_or_5_percent(knn[:, 1], truth["volume_diameter"], volume_step(truth))
        summary[name] = {"build_seconds": round(build, 2), "ms_per_curve": round(ms, 1),
                         "misfit_quantiles_50_95_99_max": [round(float(v), 3) for v in
                                                           np.quantile(misfit, [0.5, 0.95, 0.99, 1.0])]}
        for s in ("test-mono", "test-poly20"):
            m = labels["split"] == s
            row = {"extent_physics": float(right_e[m].mean()), "extent_knn": float(knn_e[m].mean()),
                   "mean_probability": float(prob[m].mean()), "interval_coverage": float(covered[m].mean()),
                   "volume_physics": float(right_v[m].mean()), "volume_knn": float(knn_v[m].mean()), "n": int(m.sum()),
                   # the share the data call unlikely monodisperse (predict warns a --monodisperse claim there)
                   **{f"monodisperse_probability_below_{t:g}": float(np.mean(mono_p[m] < t)) for t in (0.01, 0.02, 0.05, 0.1)}}
            summary[name][s] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
            print(f"{name:10s} {s:12s} {row['extent_physics']:11.3f} {row['extent_knn']:6.3f} "
                  f"{row['mean_probability']:7.3f} {row['interval_coverage']:7.3f} {row['volume_physics']:10.3f} "
                  f"{row['volume_knn']:6.3f} {ms:8.1f}", flush=True)
        log(f"window {name}: hypotheses built in {build:.1f} s; misfit quantiles 50/95/99/max "
            f"{summary[name]['misfit_quantiles_50_95_99_max']}")
    print(json.dumps({"curves": int(len(chosen)), "element_known": args.element_known,
                      "shape_known": args.shape_known, "resolution_known": args.resolution_known,
                      "monodisperse_told": args.monodisperse, "stride": args.stride, "windows": summary}))


if __name__ == "__main__":
    main()
