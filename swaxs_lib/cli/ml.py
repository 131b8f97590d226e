"""The ``build-db``, ``train``, ``evaluate`` and ``predict`` commands.

``build-db`` simulates the training database into the store (resumable: run
it again after an interruption), ``train`` fits and calibrates the models on
it and evaluates them on its test splits (writing a model folder), ``evaluate``
scores a model folder on a database's test splits, and ``predict DATA``
says what a measured curve is (without ``--element``, with the element the
data header's composition names, if any: ``from_header`` in its JSON line).
Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from swaxs_lib.cli.common import add_scheduler_flag, out_path, run_where, say, write_csv
from swaxs_lib.cli.data import add_db_flag, load_data, open_store
from swaxs_lib.cli.header import header_element, say_header
from swaxs_lib.cli.refine import ProgressBar
from swaxs_lib.errors import SwaxsInputError


#: ``swaxs_lib.ml.database.PRESETS``'s names, written out: importing that module for the parser would load the
#: simulator (ase, xraydb, numba kernels: ~1 s) in every command, ``--help`` and ``datasets`` too.
PRESET_NAMES = ("default", "small", "tiny")


def _spec(args: argparse.Namespace):
    from swaxs_lib.ml.database import PRESETS

    spec = PRESETS[args.size]
    changes = {k: getattr(args, k) for k in ("train_per_class", "test_per_class", "seed", "max_diameter_angstrom")
               if getattr(args, k) is not None}
    return dataclasses.replace(spec, **changes) if changes else spec


def _cmd_build_db(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.ml.database import build_database

    if args.workers is not None and args.workers < 1:
        raise SwaxsInputError(f"--workers: got {args.workers}; expected at least 1")
    spec = _spec(args)
    store = open_store(args)
    bar = ProgressBar(f"build-db {args.name}")
    with run_where(args):
        result = build_database(store, args.name, spec, workers=args.workers, progress=bar)
    say(f"{result['curves']} curves in {result['seconds']:.1f} s: {result['curves_per_s']} curves/s "
        f"({result['batches_skipped']} batches were stored already)")
    return {**result, "spec": dataclasses.asdict(spec), "db": str(store.path)}


def _csv_names(text: str | None, allowed: tuple[str, ...], flag: str) -> tuple[str, ...]:
    if text is None:
        return allowed
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    bad = [n for n in names if n not in allowed]
    if bad or not names:
        raise SwaxsInputError(f"{flag}: got {text!r}; expected a comma-separated subset of {', '.join(allowed)}")
    return names


def _cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from swaxs_lib.ml.catalog import MAX_DIAMETER_ANGSTROM
    from swaxs_lib.ml.domain import guinier_rg_range
    from swaxs_lib.ml.saxs_physics import structure_table
    from swaxs_lib.ml.windows import TARGETS, train_window_size, window_labels
    from swaxs_lib.ml.evaluate import evaluate, format_report
    from swaxs_lib.ml.experts import group_labels
    from swaxs_lib.ml.models import (CLASSIFIERS, DEFAULT_CLASSIFIERS, DEFAULT_MODEL_DIR, MODEL_SPECS, REGRESSORS,
                                     save_bundle, train_models)

    classifiers = (_csv_names(args.classifiers, CLASSIFIERS, "--classifiers") if args.classifiers
                   else DEFAULT_CLASSIFIERS)
    regressors = _csv_names(args.regressors, REGRESSORS, "--regressors")
    models = _csv_names(args.models, tuple(MODEL_SPECS), "--models")
    out_dir = Path(args.out_dir) if args.out_dir else DEFAULT_MODEL_DIR
    physics_curves = _physics_curves(args)
    if out_dir.exists() and not out_dir.is_dir():
        raise SwaxsInputError(f"--out-dir: {out_dir} is a file; expected a folder")
    store = open_store(args)
    spec = store.build_spec(args.name)
    if spec is None:
        raise SwaxsInputError(f"--name: no database {args.name!r} in {store.path}; expected one built by build-db")
    say(f"loading database {args.name!r}")
    table = store.load_samples(args.name)
    bar = ProgressBar("train")
    bundle = train_models(table, models=models, classifiers=classifiers, regressors=regressors, seed=args.seed,
                          library=table, progress=bar, database={"name": args.name, "spec": spec})
    bundle.manifest["diameter_range_nm"] = _diameter_range(table)
    say("Guinier radii of the training curves (the model-free size check)")
    train = table.labels["split"] == "train"
    bundle.manifest["guinier_rg_range_angstrom"] = list(guinier_rg_range(table.q_inv_angstrom, table.iq[train]))
    say("size models of the SAXS instrument windows")
    truth = window_labels({k: v[train] for k, v in table.labels.items()})
    bundle.extras["size_window"], bundle.manifest["size_window"] = train_window_size(
        table.q_inv_angstrom, table.iq[train], {t: np.log(truth[t]) for t in TARGETS}, seed=args.seed,
        progress=ProgressBar("windows"), groups=group_labels(table.labels["family"][train]))
    say("structure factors of the ladder (the physics SAXS-only sizer)")
    bundle.extras["saxs_structures"] = structure_table(spec.get("max_diameter_angstrom", MAX_DIAMETER_ANGSTROM),
                                                       progress=ProgressBar("structures"))
    report = evaluate(bundle, table, progress=ProgressBar("evaluate"), physics_curves=physics_curves)
    report["models"], report["database"] = str(out_dir), args.name
    save_bundle(bundle, out_dir)
    (out_dir / "evaluation.json").write_text(json.dumps(report, indent=1) + "\n")
    say(format_report(report))
    return {"models": str(out_dir), "chosen": {m: e.get("chosen") for m, e in bundle.manifest["models"].items()},
            "candidates": {m: e["candidates"] for m, e in bundle.manifest["models"].items()},
            "targets": report["targets"]}


def _diameter_range(table) -> list[float]:
    d = table.labels["diameter_angstrom"].astype(float) / 10.0
    return [round(float(d.min()) * 0.95, 3), round(float(d.max()) * 1.05, 3)]


def _cmd_evaluate(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.ml.evaluate import evaluate, format_report
    from swaxs_lib.ml.models import load_bundle

    bundle = load_bundle(args.models)
    store = open_store(args)
    table = store.load_samples(args.name, ["test-mono", "test-poly20"])
    if not len(table):
        raise SwaxsInputError(f"--name: database {args.name!r} has no test samples; expected test_per_class > 0")
    report = evaluate(bundle, table, progress=ProgressBar("evaluate"), measured_dir=_measured_dir(args),
                      physics_curves=_physics_curves(args))
    report["models"] = str(args.models or "default")
    report["database"] = args.name
    if args.report:
        path = out_path(args.report, (".json",))
        path.write_text(json.dumps(report, indent=1) + "\n")
    say(format_report(report))
    summary = {split: {route: {k: v for k, v in m.items() if not k.endswith("confusion")}
                       for route, m in routes.items()}
               for split, routes in report["splits"].items()}
    measured = report.get("measured", {})
    return {"targets": report["targets"], "splits": summary, "baseline": report["baseline"], "n": report["n"],
            "measured": {k: measured.get(k) for k in ("folder", "n", "domain_agreement", "missed")} if measured else None,
            "report": args.report}


def _physics_curves(args: argparse.Namespace) -> int:
    if args.physics_curves < 0:
        raise SwaxsInputError(f"--physics-curves: got {args.physics_curves}; expected 0 (skip) or more")
    return args.physics_curves


def _physics_curves_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--physics-curves", type=int, default=200, metavar="N",
                   help="curves per split the physics SAXS-only sizer is scored on per window, every curve on "
                        "0.02-0.3 1/Å, there also with each curve's dQ given (default 200; 0 skips it: ~35 ms a "
                        "curve, ~0.25 s with its dQ)")


def _measured_dir(args: argparse.Namespace) -> Path | None:
    """The folder of measured data folders to predict (``--measured``; default ``../shared/data`` beside the
    repository, else its ``tests/data`` copies; ``none`` for no table)."""
    if args.measured == "none":
        return None
    if args.measured:
        return Path(args.measured)
    root = Path(__file__).resolve().parents[2]
    for candidate in (root.parent / "shared" / "data", root / "tests" / "data"):
        if candidate.is_dir():
            return candidate
    return None


def q_resolution_of(flag: str | None, measurement, kind: str):
    """The 1-sigma dQ (1/Å) per point ``predict`` gives the SAXS sizer: ``--q-resolution REL[,ABS]``
    (sigma_Q = sqrt((REL Q)² + ABS²)) if given, else the file's dQ column, else None (I(Q) only).

    Raises
    ------
    SwaxsInputError
        A flag that is not one or two numbers >= 0, or given for a G(r).
    """
    import math

    from swaxs_lib.ml.predict import curve_resolution

    if flag is None:
        return curve_resolution(measurement, kind)
    try:
        parts = [float(v) for v in flag.split(",")]
    except ValueError:
        parts = []
    if kind != "iq" or not 1 <= len(parts) <= 2 or not all(math.isfinite(v) and v >= 0 for v in parts):
        raise SwaxsInputError(f"--q-resolution: got {flag!r}{' for a G(r)' if kind != 'iq' else ''}; expected "
                              "REL[,ABS] >= 0 for an I(Q): sigma_Q = sqrt((REL Q)² + ABS²), ABS in 1/Å "
                              "(e.g. 0.02 or 0.02,0.003)")
    return curve_resolution(measurement, kind, tuple((parts + [0.0])[:2]))


def _cmd_predict(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.ml.models import load_bundle
    from swaxs_lib.ml.predict import composition_elements, matches_columns, model_input, predict, prediction_row

    out = out_path(args.out, (".csv",)) if args.out else None
    matches_out = out_path(args.matches, (".csv",)) if args.matches else None
    if args.top < 1 or args.top > 100:
        raise SwaxsInputError(f"--top: got {args.top}; expected 1 to 100")
    reader = {"kind": args.kind, "x_unit": args.q_unit}
    measurement, dataset_id = load_data(args.data, args, **{k: v for k, v in reader.items() if v is not None})
    facts, choice = header_element(args, measurement, needed_for=None)
    bundle = load_bundle(args.models)
    say_header(facts, choice, facts.taken(element=choice.from_header))
    kind, x, values, notes = model_input(measurement.kind, measurement.x, measurement.values, args.element)
    for note in notes:
        say(note)
    allowed = composition_elements(facts) if args.element is None else None
    if allowed:
        say(f"element one of {', '.join(allowed)}, from the header's {facts.composition_text}")
    from swaxs_lib.ml.measured import domain_reasons

    dq = q_resolution_of(args.q_resolution, measurement, kind)
    prediction = predict(bundle, kind, x, values, element=args.element, top=args.top,
                         element_source="header" if choice.from_header else "user", allowed_elements=allowed,
                         shape_hint=args.shape, domain_reasons=domain_reasons(measurement, facts),
                         q_damp_inv_angstrom=args.qdamp, q_resolution=dq, monodisperse=args.monodisperse)
    result = prediction.to_dict()
    result["warnings"] = list(notes) + result["warnings"]
    result["data"] = dataset_id or args.data
    result["from_header"] = facts.taken(element=choice.from_header)
    if out:
        write_csv(out, {k: [v] for k, v in prediction_row(result).items()})
    if matches_out:
        write_csv(matches_out, matches_columns(prediction.matches))
    return result


def register(sub) -> None:
    """Add build-db, train, evaluate and predict to ``sub``."""
    p = sub.add_parser("build-db", help="simulate the training database (resumable), print curves/s")
    p.add_argument("--name", default="default", help="database name (default: default)")
    p.add_argument("--size", choices=PRESET_NAMES, default="default",
                   help="preset: default (~30,000 samples, ~15 min on 2 cores), small, tiny (tests)")
    p.add_argument("--train-per-class", type=int, help="training samples per shape class (overrides the preset)")
    p.add_argument("--test-per-class", type=int, help="samples per class in each test split")
    p.add_argument("--seed", type=int, help="root seed (test splits use seed+1 and seed+2)")
    p.add_argument("--max-diameter-angstrom", type=float, help="largest gold template diameter (Å), 9..72")
    p.add_argument("--workers", type=int, help="worker processes (default: the number of cores)")
    add_scheduler_flag(p)
    add_db_flag(p)
    p.set_defaults(func=_cmd_build_db)

    p = sub.add_parser("train", help="fit, calibrate and evaluate the models on a database; write a model folder")
    p.add_argument("--name", default="default", help="database name (default: default)")
    p.add_argument("--out-dir", metavar="DIR", help="model folder (default: data/models/default, the shipped one)")
    p.add_argument("--classifiers", help="candidates to compare, e.g. logistic,mlp (default: all but random_forest)")
    p.add_argument("--regressors", help="size candidates to compare, e.g. ridge,mlp (default: all)")
    p.add_argument("--models", help="which models, e.g. shape_waxs,size_saxs (default: all)")
    p.add_argument("--seed", type=int, default=0, help="seed of the fit/calibration split and estimators")
    _physics_curves_flag(p)
    add_db_flag(p)
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("evaluate", help="score a model folder on a database's held-out test splits")
    p.add_argument("--name", default="default", help="database name (default: default)")
    p.add_argument("--models", metavar="DIR", help="model folder (default: the shipped one)")
    p.add_argument("--report", metavar="FILE.json", help="write the full report (with confusion matrices)")
    p.add_argument("--measured", metavar="DIR", help="folder of measured data folders (each with a SOURCE.md) to "
                                                     "predict beside what SOURCE.md says (default: ../shared/data, "
                                                     "else tests/data; 'none' for no table)")
    _physics_curves_flag(p)
    add_db_flag(p)
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("predict", help="predict shape, size and element of a measured curve")
    p.add_argument("data", metavar="DATA", help="stored dataset id or data file (I(Q), S(Q), F(Q) or G(r))")
    p.add_argument("--kind", choices=["iq", "sq", "fq", "gr"], help="what the file holds (default: from the file)")
    p.add_argument("--q-unit", choices=["inv_angstrom", "inv_nm"], help="Q unit of the file (default: from the file)")
    p.add_argument("--element", help="the sample's element if known (restricts the library search; "
                                     "default: the one the data header's composition names)")
    p.add_argument("--shape", help="the particle's shape if known (a cluster shape name, e.g. octahedron): a "
                                   "SAXS-only curve is then sized among that shape's families")
    p.add_argument("--qdamp", type=float, metavar="1/Å",
                   help="G(r): the instrument's Q damping, refined on a calibrant (Ni, Si): tells a particle "
                        "larger than the database's, or bulk, from one inside it")
    p.add_argument("--q-resolution", metavar="REL[,ABS]",
                   help="I(Q): the instrument's 1-sigma Q resolution, sigma_Q = sqrt((REL Q)² + ABS²) with ABS in "
                        "1/Å, e.g. 0.02,0.003 (default: the file's dQ column, if it has one): a SAXS-only curve is "
                        "then sized with it, and held out right more often")
    p.add_argument("--monodisperse", action="store_true",
                   help="the sample holds one size (atomically precise clusters, e.g. from mass spectrometry): a "
                        "SAXS-only curve is sized without a spread of sizes")
    p.add_argument("--models", metavar="DIR", help="model folder (default: the shipped one)")
    p.add_argument("--top", type=int, default=5, help="library matches to report (default 5)")
    p.add_argument("--out", metavar="FILE.csv", help="one CSV row: shape, probabilities, size, interval, element")
    p.add_argument("--matches", metavar="FILE.csv", help="the top library matches as CSV")
    add_db_flag(p)
    p.set_defaults(func=_cmd_predict)
