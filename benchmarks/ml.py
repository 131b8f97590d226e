"""Benchmark of the ML pipeline: database curves against DebyeCalculator, training time, prediction latency.

Three parts, all on this machine's CPU cores:

``curves``
    The database computes one pair histogram per geometry (the gold template,
    :func:`swaxs_lib.ml.catalog.template_histogram`) and every curve of that
    geometry from it (:func:`swaxs_lib.ml.simulate.clean_intensity`: element,
    expansion and B change only the Q grid scale and the damping).  For a set
    of ladder members (about 50 to 6,500 atoms, several classes) it times the
    histogram and then, per member, every element of the database x
    (expansion, B) in ``CURVES`` (18 curves; 6 with ``--quick``); the peer is
    DebyeCalculator (CPU, ``pair_sum="grid"``, float32: its fastest CPU mode in
    ``benchmarks/debye.py``) on the same structure: the gold template with the
    element's symbols and positions scaled by ``element_scale(element) * (1 +
    expansion)`` (what the database's curve describes; ``build_cluster(shape,
    element)`` would differ for spheres, whose diameter is given in Å), with
    ``qdamp=0`` and ``biso=B``, on the same 595 Q points (its ``q`` attribute
    set to :data:`~swaxs_lib.ml.simulate.Q_GRID`).  Its ``iq`` is half of our
    I(Q) (i<j sum + half the self term), so ``2 iq`` is compared: the max
    over Q and over the member's curves of |2 iq - I| / I, raw and with both
    normalised by their value at Q = 0.02 1/Å (the shape, free of any
    form-factor scale), and for one curve per member against DebyeCalculator
    in float64 (not timed): its float32 sum loses ~1e-4 at the deep minima.
``build``
    :func:`swaxs_lib.ml.database.build_database` of a small
    :class:`~swaxs_lib.ml.database.BuildSpec` in a temporary store with
    ``--workers`` spawned processes, printing its progress lines; curves/s as
    it reports them (one I(Q) and one G(r) per rung of a sample: a
    polydisperse sample counts every rung it mixes), with worker start-up,
    noise, resolution, G(r) and the store included.
``training`` and ``prediction``
    :func:`swaxs_lib.ml.models.train_models` on that build's samples, every
    candidate estimator of every model (fit seconds from the manifest), then
    :func:`swaxs_lib.ml.predict.predict` on one I(Q) and one G(r) of the build
    (median of ``--repeats`` calls), the same without the library (the models
    alone), :func:`~swaxs_lib.ml.predict.library_search` alone, and the models'
    batch throughput (features of every sample, then ``predict_proba`` /
    ``predict`` on all rows at once).  The models are ``--models`` (default the
    shipped folder); if it holds no model, the bundle just trained (no library).

It prints the machine, the progress, three tables, and writes
benchmarks/results/ml.json.  Run from the repository root::

    .venv/bin/python benchmarks/ml.py                          # ~80 s on 2 idle cores (~5 min at load 6)
    .venv/bin/python benchmarks/ml.py --quick                  # ~35 s idle, ~1 min under load
    .venv/bin/python benchmarks/ml.py --models /tmp/models_x   # another model folder
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _machine import cpu_name, git_state, version  # noqa: E402  (the benchmarks/ folder is the script's path)

from swaxs_lib.errors import SwaxsInputError  # noqa: E402
from swaxs_lib.ml.catalog import ELEMENTS, TEMPLATE_ELEMENT, element_scale, families, template_histogram  # noqa: E402
from swaxs_lib.ml.database import BuildSpec, build_database  # noqa: E402
from swaxs_lib.ml.models import (DEFAULT_MODEL_DIR, MODEL_SPECS, REGRESSORS, load_bundle, model_features,  # noqa: E402
                                  train_models)
from swaxs_lib.ml.predict import library_search, predict  # noqa: E402
from swaxs_lib.ml.simulate import Q_GRID, clean_intensity  # noqa: E402
from swaxs_lib.scattering.histogram import fast_bin_width, pair_histogram  # noqa: E402
from swaxs_lib.store import Store  # noqa: E402
from swaxs_lib.structures import build_cluster  # noqa: E402

#: (family, target atom count): the rung with the nearest count is taken.
MEMBERS = (("icosahedron", 55), ("decahedron q=2 r=1", 500), ("truncated octahedron", 1500),
           ("fcc sphere", 3000), ("decahedron q=p r=1", 4500), ("icosahedron", 6500))
QUICK_MEMBERS = (("icosahedron", 55), ("truncated octahedron", 1500), ("icosahedron", 6500))
#: (expansion, B in Å²) per element: each member gets len(ELEMENTS) x len(CURVES) curves.
CURVES = ((-0.02, 0.3), (0.0, 0.6), (0.02, 1.2))
QUICK_CURVES = ((0.0, 0.6),)
#: The small build of the ``build`` part (and the training data).
BUILD = BuildSpec(train_per_class=40, test_per_class=0, library=False, max_diameter_angstrom=40.0)
QUICK_BUILD = BuildSpec(train_per_class=20, test_per_class=0, library=False, max_diameter_angstrom=25.0)
#: Models trained with ``--quick``: those ``predict`` uses for a full-range I(Q) and G(r).
QUICK_MODELS = ("joint_iq", "element_waxs", "joint_gr", "element_gr")


def header() -> None:
    import numba
    import torch

    commit, dirty = git_state("swaxs_lib")
    cpu = cpu_name()
    print(f"swaxs ML benchmark  {time.strftime('%Y-%m-%d %H:%M:%S')}  commit {commit}"
          f"{' (swaxs_lib modified)' if dirty else ''}\n"
          f"CPU {cpu}, {os.cpu_count()} logical cores; torch threads {torch.get_num_threads()}, numba threads "
          f"{numba.get_num_threads()}; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}\n"
          f"python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__}, torch {torch.__version__}, "
          f"scikit-learn {version('scikit-learn')}, debyecalculator {version('debyecalculator')}, xraydb {version('xraydb')}",
          flush=True)


def pick_members(targets) -> list:
    fam = families()
    return [min(fam[name], key=lambda m: abs(m.n_atoms - n)) for name, n in targets]


def peer_atoms(template, element: str, expansion: float):
    """The structure a database curve describes: the gold template in ``element``, scaled."""
    atoms = template.copy()
    atoms.set_chemical_symbols([element] * len(atoms))
    atoms.positions *= element_scale(element) * (1.0 + expansion)
    return atoms


def bench_curves(members, curves) -> list[dict]:
    import torch
    from debyecalculator import DebyeCalculator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its qstep advice: the grid is replaced below
        calc = DebyeCalculator(qmin=float(Q_GRID[0]), qmax=float(Q_GRID[-1]), qstep=0.02, qdamp=0.0, biso=0.6,
                               device="cpu", pair_sum="grid", dtype=torch.float32)
    calc.q = torch.tensor(Q_GRID, dtype=calc.dtype).unsqueeze(-1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        calc64 = DebyeCalculator(qmin=float(Q_GRID[0]), qmax=float(Q_GRID[-1]), qstep=0.02, qdamp=0.0, biso=0.6,
                                 device="cpu", pair_sum="grid", dtype=torch.float64)
    calc64.q = torch.tensor(Q_GRID, dtype=torch.float64).unsqueeze(-1)
    # compile / load every kernel and warm torch outside the timings
    small = families()["icosahedron"][0]
    clean_intensity(small, "Au", 0.0, 0.6)
    pair_histogram(build_cluster(small.shape, TEMPLATE_ELEMENT, **small.parameters).atoms, fast_bin_width(21.0))
    calc.iq(peer_atoms(build_cluster(small.shape, TEMPLATE_ELEMENT, **small.parameters).atoms, "Au", 0.0))
    rows = []
    for member in members:
        template = build_cluster(member.shape, TEMPLATE_ELEMENT, **member.parameters).atoms
        # the histogram exactly as template_histogram builds it (building the cluster is not timed, for either)
        start = time.perf_counter()
        pair_histogram(template, fast_bin_width(21.0))
        hist_s = time.perf_counter() - start
        template_histogram(member.shape, member.parameters_json)  # fill the cache clean_intensity reads
        ours_s, dc_s, raw, shape = [], [], 0.0, 0.0
        for element in ELEMENTS:
            for expansion, b in curves:
                start = time.perf_counter()
                ours = clean_intensity(member, element, expansion, b)
                ours_s.append(time.perf_counter() - start)
                atoms = peer_atoms(template, element, expansion)
                calc.update_parameters(biso=b)
                start = time.perf_counter()
                _, half = calc.iq(atoms)
                dc_s.append(time.perf_counter() - start)
                dc = 2.0 * np.asarray(half, dtype=float)
                raw = max(raw, float(np.max(np.abs(dc - ours) / ours)))
                shape = max(shape, float(np.max(np.abs(dc / dc[0] - ours / ours[0]) / (ours / ours[0]))))
        # one curve again in float64 (not timed): the float32 differences above sit at deep minima
        expansion, b = curves[0]
        calc64.update_parameters(biso=b)
        ours = clean_intensity(member, ELEMENTS[0], expansion, b)
        dc64 = 2.0 * np.asarray(calc64.iq(peer_atoms(template, ELEMENTS[0], expansion))[1], dtype=float)
        f64 = float(np.max(np.abs(dc64 - ours) / ours))
        n = len(ours_s)
        row = {"member": f"{member.family} #{member.index}", "n_atoms": member.n_atoms,
               "diameter_angstrom": round(member.diameter_angstrom, 1), "curves": n, "hist_s": hist_s,
               "ours_curve_ms": 1e3 * statistics.median(ours_s), "dc_curve_ms": 1e3 * statistics.median(dc_s),
               "ours_total_s": hist_s + sum(ours_s), "dc_total_s": sum(dc_s), "max_rel_diff_raw": raw,
               "max_rel_diff_normalised": shape, "max_rel_diff_float64": f64, "load1": os.getloadavg()[0]}
        row["ours_curves_per_s"] = n / row["ours_total_s"]
        row["ours_warm_curves_per_s"] = n / sum(ours_s)
        row["dc_curves_per_s"] = n / row["dc_total_s"]
        row["ratio"] = row["ours_curves_per_s"] / row["dc_curves_per_s"]
        rows.append(row)
        print(f"  {row['member']:28s} {member.n_atoms:6d} atoms: histogram {hist_s:.3f} s, per curve ours "
              f"{row['ours_curve_ms']:.1f} ms, DebyeCalculator {row['dc_curve_ms']:.1f} ms; max rel diff raw "
              f"{raw:.1e}, normalised {shape:.1e}; float64 peer {f64:.1e}", flush=True)
    n = sum(r["curves"] for r in rows)
    total = {"member": "all", "n_atoms": None, "curves": n, "hist_s": sum(r["hist_s"] for r in rows),
             "ours_total_s": sum(r["ours_total_s"] for r in rows), "dc_total_s": sum(r["dc_total_s"] for r in rows),
             "max_rel_diff_raw": max(r["max_rel_diff_raw"] for r in rows),
             "max_rel_diff_normalised": max(r["max_rel_diff_normalised"] for r in rows),
             "max_rel_diff_float64": max(r["max_rel_diff_float64"] for r in rows)}
    total["ours_curves_per_s"] = n / total["ours_total_s"]
    total["ours_warm_curves_per_s"] = n / (total["ours_total_s"] - total["hist_s"])
    total["dc_curves_per_s"] = n / total["dc_total_s"]
    total["ratio"] = total["ours_curves_per_s"] / total["dc_curves_per_s"]
    return rows + [total]


def bench_build(store: Store, name: str, spec: BuildSpec, workers: int | None, verbose: bool = True) -> dict:
    start = time.perf_counter()

    def progress(done, total, note):
        print(f"  {time.perf_counter() - start:6.1f} s  {done:4d}/{total} samples  {note}", flush=True)

    report = build_database(store, name, spec, workers=workers, progress=progress if verbose else None)
    samples = sum(report["samples"].values())
    stats = next(b for b in store.list_builds() if b["name"] == name)
    return {**report, "spec": dataclasses.asdict(spec), "workers": workers or os.cpu_count(),
            "batch_compute_s": stats["compute_s"], "samples_per_s": samples / report["seconds"],
            "iq_curves_per_s": report["curves"] / 2 / report["seconds"]}


def usable_regressors() -> tuple[tuple[str, ...], dict[str, str]]:
    """The candidate regressors that fit a two-column target (size: log diameter, log atom count).

    ``train_models`` stops at the first candidate that raises; this probe (the
    same estimators on 12 random rows) leaves such a candidate out, and says why.
    """
    from swaxs_lib.ml.models import _regressors

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 3)), rng.normal(size=(12, 2))
    ok, dropped = [], {}
    for name, make in _regressors(0).items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                make(len(x), x.shape[1]).fit(x, y)
            ok.append(name)
        except ValueError as exc:
            dropped[name] = f"{type(exc).__name__}: {exc}"
    return tuple(n for n in REGRESSORS if n in ok), dropped


def bench_training(table, models, regressors) -> tuple[object, list[dict], float]:
    start = time.perf_counter()

    def progress(done, total, note):
        print(f"  {time.perf_counter() - start:6.1f} s  {done:2d}/{total}  {note[:110]}", flush=True)

    bundle = train_models(table, models=models, regressors=regressors, progress=progress)
    wall = time.perf_counter() - start
    rows = []
    for model, entry in bundle.manifest["models"].items():
        for kind, candidates in entry["candidates"].items():
            for cand, score in candidates.items():
                metric = ("within_shell_or_5_percent", score["within_shell_or_5_percent"]) if kind == "size" else (
                    "accuracy", score["accuracy"])
                rows.append({"model": model, "target": kind, "candidate": cand, "fit_s": score["fit_s"],
                             "metric": metric[0], "score": metric[1], "chosen": entry["chosen"][kind] == cand})
    return bundle, rows, wall


def median_ms(fn, repeats: int) -> tuple[float, float]:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times), 1e3 * min(times)


def bench_predict(bundle, table, repeats: int) -> list[dict]:
    rows = []
    models_only = dataclasses.replace(bundle, library={})
    n_lib = len(bundle.library.get("iq", ()))
    q, iq = table.q_inv_angstrom, table.iq[0].astype(float)
    saxs = q <= 0.3 + 1e-9
    gap = saxs | ((q >= 2.4) & (q <= 10.0))
    dq = {"q_resolution": np.sqrt((0.02 * q[saxs]) ** 2 + 0.003**2)}  # a file's dQ column
    curves = {"iq": (q, iq, {}), "gr": (table.r_angstrom, table.gr[0].astype(float), {}),
              "iq SAXS-only 0.02-0.3": (q[saxs], iq[saxs], {}),
              "iq SAXS-only 0.02-0.3, dQ given": (q[saxs], iq[saxs], dq),
              "iq SAXS 0.02-0.3 + WAXS 2.4-10": (q[gap], iq[gap], {})}
    for name, (x, y, kw) in curves.items():
        kind = name.split()[0]
        start = time.perf_counter()
        used = predict(bundle, kind, x, y, **kw).models
        first_ms = 1e3 * (time.perf_counter() - start)  # a new Q grid: the physics sizer builds its hypotheses
        full = median_ms(lambda: predict(bundle, kind, x, y, **kw), repeats)
        model = median_ms(lambda: predict(models_only, kind, x, y, **kw), repeats)
        lib = median_ms(lambda: library_search(bundle, kind, x, y), repeats) if n_lib else (None, None)
        rows.append({"curve": name, "models": list(used), "library_curves": n_lib, "predict_ms": full[0],
                     "predict_min_ms": full[1], "models_ms": model[0], "library_ms": lib[0],
                     "first_call_ms": first_ms})
        print(f"  {name}: predict {full[0]:.1f} ms (min {full[1]:.1f}; first call {first_ms:.0f} ms), models alone "
              f"{model[0]:.1f} ms ({', '.join(used)}), library search "
              f"{'n/a (no library)' if lib[0] is None else f'{lib[0]:.1f} ms over {n_lib} curves'}", flush=True)
    return rows


def bench_batch(bundle, table, models: list[str]) -> list[dict]:
    rows = []
    for model in models:
        for part in bundle.estimators[model]:
            start = time.perf_counter()
            x = model_features(table, bundle.window(model))
            x_size = model_features(table, bundle.window(model, "size")) if part == "size" else None
            feat_s = time.perf_counter() - start

            def call(n: int, model=model, part=part, x=x, x_size=x_size):
                if part == "size":
                    return bundle.log_size(model, x[:n], x_size[:n])
                return (bundle.family_proba if part == "family" else bundle.element_proba)(model, x[:n])

            one_ms = median_ms(lambda: call(1), 15)[0]
            start = time.perf_counter()
            call(len(x))
            seconds = time.perf_counter() - start
            rows.append({"model": model, "target": part, "rows": len(x), "features_s": feat_s, "estimate_s": seconds,
                         "us_per_row": 1e6 * (feat_s + seconds) / len(x),
                         "rows_per_s": len(x) / (feat_s + seconds), "one_row_ms": one_ms})
    return rows


def print_tables(curves, build, serial, training, train_wall, latency, batch) -> None:
    print("\nDatabase curves: ours (histogram once per member, then every curve) against DebyeCalculator "
          "(CPU, grid, float32), same structures, Q grid (595 points 0.02..20 1/A) and B")
    print(f"{'member':28s} {'atoms':>6s} {'curves':>6s} {'hist s':>7s} {'ours ms':>8s} {'DC ms':>8s} "
          f"{'ours c/s':>9s} {'warm c/s':>9s} {'DC c/s':>8s} {'ours/DC':>8s} {'raw diff':>9s} {'shape diff':>10s} "
          f"{'f64 diff':>9s}")
    for r in curves:
        per = (f"{r['ours_curve_ms']:8.1f} {r['dc_curve_ms']:8.1f}" if r["n_atoms"] else f"{'':8s} {'':8s}")
        print(f"{r['member']:28s} {r['n_atoms'] or '':>6} {r['curves']:6d} {r['hist_s']:7.3f} {per} "
              f"{r['ours_curves_per_s']:9.1f} {r['ours_warm_curves_per_s']:9.1f} {r['dc_curves_per_s']:8.1f} "
              f"{r['ratio']:7.1f}x {r['max_rel_diff_raw']:9.1e} {r['max_rel_diff_normalised']:10.1e} "
              f"{r['max_rel_diff_float64']:9.1e}")
    spec = build["spec"]
    print(f"\nbuild_database (train_per_class={spec['train_per_class']}, max_diameter_angstrom="
          f"{spec['max_diameter_angstrom']:g}, {build['workers']} workers): {sum(build['samples'].values())} samples, "
          f"{build['curves']} curves (I(Q) + G(r)) in {build['seconds']:.1f} s: {build['curves_per_s']:.1f} curves/s "
          f"({build['iq_curves_per_s']:.1f} I(Q)/s, {build['samples_per_s']:.1f} samples/s; batches' own compute "
          f"{build['batch_compute_s']:.1f} s summed over workers)")
    print(f"  the same in this process, workers=1: {serial['seconds']:.1f} s, {serial['curves_per_s']:.1f} curves/s "
          f"({serial['iq_curves_per_s']:.1f} I(Q)/s); {build['workers']} workers / 1 process = "
          f"{build['curves_per_s'] / serial['curves_per_s']:.2f}x")
    print(f"\nTraining ({train_wall:.1f} s in all, fit seconds per candidate; score on the calibration part; * = chosen)")
    print(f"{'model':14s} {'target':8s} {'candidate':24s} {'fit s':>7s} {'score':>8s}  metric")
    for r in training:
        print(f"{r['model']:14s} {r['target']:8s} {r['candidate'] + (' *' if r['chosen'] else ''):24s} "
              f"{r['fit_s']:7.2f} {r['score']:8.3f}  {r['metric']}")
    print("\nPrediction latency per curve (median)")
    print(f"{'curve':32s} {'predict ms':>11s} {'models ms':>10s} {'library ms':>11s} {'1st call ms':>12s}  models")
    for r in latency:
        lib = "n/a" if r["library_ms"] is None else f"{r['library_ms']:.1f}"
        print(f"{r['curve']:32s} {r['predict_ms']:11.1f} {r['models_ms']:10.1f} {lib:>11s} {r['first_call_ms']:12.0f}  "
              f"{', '.join(r['models'])}")
    print("\nBatch throughput (features + predict_proba / predict on every sample at once) against one row per call")
    print(f"{'model':14s} {'target':8s} {'rows':>5s} {'features s':>11s} {'estimate s':>11s} {'us/row':>8s} {'rows/s':>9s} "
          f"{'1 row ms':>9s}")
    for r in batch:
        print(f"{r['model']:14s} {r['target']:8s} {r['rows']:5d} {r['features_s']:11.3f} {r['estimate_s']:11.4f} "
              f"{r['us_per_row']:8.0f} {r['rows_per_s']:9.0f} {r['one_row_ms']:9.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 members x 6 curves, a 180-sample build, 5 models (~45 s idle)")
    parser.add_argument("--models", default=str(DEFAULT_MODEL_DIR),
                        help=f"model folder for the prediction part (default {DEFAULT_MODEL_DIR})")
    parser.add_argument("--workers", type=int, default=None, help="build_database workers (default: the cores)")
    parser.add_argument("--repeats", type=int, default=30, help="calls per prediction timing (30)")
    parser.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "ml.json"), help="where to write")
    args = parser.parse_args()
    header()
    wall = time.perf_counter()
    start = time.perf_counter()
    families()
    print(f"families(): {time.perf_counter() - start:.1f} s (every ladder member built once per process)", flush=True)

    print("\n[1/4] database curves, ours against DebyeCalculator", flush=True)
    members = pick_members(QUICK_MEMBERS if args.quick else MEMBERS)
    curves = bench_curves(members, QUICK_CURVES if args.quick else CURVES)

    print("\n[2/4] build_database", flush=True)
    spec = QUICK_BUILD if args.quick else BUILD
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "bench.duckdb")
        build = bench_build(store, "bench", spec, args.workers)
        table = store.load_samples("bench")
        print("  the same build in this process (workers=1, ladders already built):", flush=True)
        serial = bench_build(store, "bench-serial", spec, 1, verbose=False)
        print(f"  {serial['seconds']:.1f} s, {serial['curves_per_s']:.1f} curves/s", flush=True)

    regressors, dropped = usable_regressors()
    print(f"\n[3/4] train_models on {len(table)} samples", flush=True)
    for name, why in dropped.items():
        print(f"  regressor {name} left out: it cannot fit the two-column size target ({why[:90]})", flush=True)
    trained, training, train_wall = bench_training(table, QUICK_MODELS if args.quick else None, regressors)

    print("\n[4/4] prediction", flush=True)
    try:
        bundle, source = load_bundle(args.models), args.models
    except SwaxsInputError as exc:
        bundle, source = trained, "the bundle trained above (no library)"
        print(f"  {exc}: timing {source}")
    print(f"  models: {source}", flush=True)
    folder_mb = (sum(p.stat().st_size for p in Path(args.models).iterdir() if p.is_file()) / 1e6
                 if source == args.models else None)
    if folder_mb is not None:
        print(f"  model folder: {folder_mb:.2f} MB (10^6 bytes)", flush=True)
    latency = bench_predict(bundle, table, args.repeats)
    batch = bench_batch(bundle, table, sorted(bundle.manifest["models"]))

    print_tables(curves, build, serial, training, train_wall, latency, batch)
    print(f"\ntotal {time.perf_counter() - wall:.0f} s; load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "quick": args.quick, "cores": os.cpu_count(), "models": source, "curves": curves, "build": build, "build_serial": serial,
        "regressors_left_out": dropped,
        "training": {"wall_s": train_wall, "n_samples": len(table), "candidates": training},
        "prediction": latency, "model_folder_mb": folder_mb, "batch": batch, "model_specs": {k: list(v[1]) for k, v in MODEL_SPECS.items()},
    }, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
