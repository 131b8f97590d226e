"""The ``compare`` command: a cluster's model curve against a measured one.

``python -m swaxs_lib compare DATA <structure flags> --out fit.csv`` computes
the cluster's I(Q), S(Q), F(Q) or G(r) on the measurement's points
(:func:`swaxs_lib.compare.compare_cluster`), fits a scale and optional
background, writes the curves as CSV and prints R_w and the fit as JSON.
The model goes through the store's curve cache, so repeating a comparison
computes nothing new.  Without ``--element`` (and without ``--structure``) the
element is the one the data header's composition names, as the header's
``qmin``/``qmax`` give a G(r)'s Q window; stderr says so and the JSON line's
``from_header`` records it.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import numpy as np

from swaxs_lib.cli.common import out_path, say, write_csv
from swaxs_lib.cli.data import add_db_flag, load_data, open_store
from swaxs_lib.cli.header import element_for_cluster, from_header, say_header
from swaxs_lib.cli.structure import (
    _check_scattering_flags,
    _eta,
    _structure_args,
    cluster_from_args,
)
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.fit.linear import BACKGROUNDS
from swaxs_lib.fit.window import Q_MAX_LIMIT as _Q_MAX_LIMIT
from swaxs_lib.fit.window import WEIGHTINGS
from swaxs_lib.models import get_model
from swaxs_lib.models.parameters import parse_starts, table_help

#: Largest |expansion| and Q_max (1/Å) that compare_cluster accepts; checked
#: here too so that a bad flag fails before any work, named by its flag.
_EXPANSION_LIMIT = 0.1

#: Library parameter names (start of a SwaxsInputError message) -> the flag.
_FLAGS = {
    "expansion": "--expansion",
    "q_damp_inv_angstrom": "--qdamp",
    "Q range": "--q-min/--q-max",
    "fit range": "--x-min/--x-max",
    "weighting": "--weighting",
    "background": "--background",
    "b_iso_angstrom2": "--b-iso",
    "energy_kev": "--energy-kev",
    **{name: "--start" for name in ("zoom", "b", "u", "qdamp", "delta2")},
}


def _name_flag(message: str) -> str:
    """Put the flag in front of a library message about one of its parameters."""
    for name, flag in _FLAGS.items():
        if message.startswith(name + ": "):
            return flag + message[len(name):]
        if message.startswith(name):
            return f"{flag}: {message}"
    return message


def _finite_or_none(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def _check_flags(args: argparse.Namespace) -> None:
    """The numeric flags that do not need the data, each named when wrong."""
    starts = parse_starts(args.start)
    for flag, value, names in (("--expansion", args.expansion, ("zoom",)), ("--b-iso", args.b_iso, ("b", "u")),
                               ("--qdamp", args.qdamp, ("qdamp",))):
        clash = [n for n in starts if n in names or n.split("_")[0] in names]
        if value is not None and clash:
            raise SwaxsInputError(f"{flag}: given with --start {clash[0]}; expected one of the two")
    if args.expansion is not None and not (np.isfinite(args.expansion) and abs(args.expansion) <= _EXPANSION_LIMIT):
        raise SwaxsInputError(
            f"--expansion: got {args.expansion}; expected a number between -{_EXPANSION_LIMIT} and {_EXPANSION_LIMIT}"
        )
    _check_scattering_flags(args)
    for name in ("x_min", "x_max", "q_min", "q_max", "qdamp"):
        value = getattr(args, name)
        if value is not None and not np.isfinite(value):
            raise SwaxsInputError(f"--{name.replace('_', '-')}: got {value}; expected a finite number")
    if args.x_min is not None and args.x_max is not None and args.x_min >= args.x_max:
        raise SwaxsInputError(f"--x-min: got {args.x_min} >= --x-max {args.x_max}; expected --x-min < --x-max")
    if args.qdamp is not None and args.qdamp < 0:
        raise SwaxsInputError(f"--qdamp: got {args.qdamp}; expected a number >= 0 (1/Å)")


def _q_range(args: argparse.Namespace, measurement) -> tuple[float | None, float | None, str]:
    """--q-min/--q-max for G(r) data (header or default where not given), and where they came from."""
    from swaxs_lib.compare import DEFAULT_PDF_Q_RANGE, pdf_q_range

    given = [f"--{n.replace('_', '-')}" for n in ("q_min", "q_max", "qdamp") if getattr(args, n) is not None]
    if measurement.domain != "r":
        if given:
            raise SwaxsInputError(
                f"{given[0]}: only for G(r) data; {args.data} is {measurement.kind} (the transform's Q range "
                "applies to a pair distribution function)"
            )
        return None, None, "none"
    header = pdf_q_range(measurement)
    default = header or DEFAULT_PDF_Q_RANGE
    origin = "the file header's" if header else "the default"
    q_min = default[0] if args.q_min is None else args.q_min
    q_max = default[1] if args.q_max is None else args.q_max
    if not 0 <= q_min < _Q_MAX_LIMIT:
        raise SwaxsInputError(f"--q-min: got {q_min}; expected 0 <= --q-min < {_Q_MAX_LIMIT:g} (1/Å)")
    if not q_max <= _Q_MAX_LIMIT:
        raise SwaxsInputError(f"--q-max: got {q_max}; expected at most {_Q_MAX_LIMIT:g} (1/Å)")
    if not q_min < q_max:
        flag, value, other = ("--q-max", q_max, f"Q_min {q_min}") if args.q_max is not None else (
            "--q-min", q_min, f"Q_max {q_max} ({origin})")
        relation = "above" if flag == "--q-max" else "below"
        raise SwaxsInputError(f"{flag}: got {value}; expected a value {relation} {other} (1/Å)")
    n_flags = (args.q_min is not None) + (args.q_max is not None)
    source = ["header" if header else "default", "flags+" + ("header" if header else "default"), "flags"][n_flags]
    return float(q_min), float(q_max), source


def _check_fit_options(args: argparse.Namespace, measurement) -> None:
    """Range, point count and weighting, by the fit's own rules, before the model is computed.

    A model of ones stands in for the cluster's curve: the checks that can
    fail (range, usable points, weights) do not depend on the model's values.
    """
    from swaxs_lib.fit.linear import fit_scale_background

    first, last = float(measurement.x.min()), float(measurement.x.max())
    unit = "Å" if measurement.domain == "r" else "1/Å"
    if args.x_min is not None and args.x_min > last:
        raise SwaxsInputError(f"--x-min: got {args.x_min}; expected at most the data's last point {last:g} {unit}")
    if args.x_max is not None and args.x_max < first:
        raise SwaxsInputError(f"--x-max: got {args.x_max}; expected at least the data's first point {first:g} {unit}")
    try:
        fit_scale_background(
            measurement.x, measurement.values, np.ones_like(measurement.x), sigma=measurement.uncertainties,
            background=args.background, weighting=args.weighting, kind=measurement.kind,
            x_min=args.x_min, x_max=args.x_max, source=measurement.source,
        )
    except SwaxsInputError as exc:
        raise SwaxsInputError(_name_flag(str(exc))) from None


def _cmd_compare(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.compare import compare_cluster

    out = out_path(args.out, (".csv",))
    _check_flags(args)
    measurement, dataset_id = load_data(args.data, args)
    q_min, q_max, q_source = _q_range(args, measurement)
    facts, choice = element_for_cluster(args, measurement)
    cluster = cluster_from_args(args)
    _check_fit_options(args, measurement)
    store = open_store(args)
    taken = from_header(facts, choice, measurement, args)
    say_header(facts, choice, taken, q_window=False)  # the "compare:" line says where Q came from

    n_atoms = cluster.info.n_atoms
    what = f"{measurement.kind} on {measurement.n_points} points"
    if q_min is not None:
        what += f", transform Q {q_min:g}..{q_max:g} 1/Å ({q_source})"
    say(f"compare: {n_atoms} atoms against {dataset_id or args.data} ({what}){_eta(n_atoms)}")
    curves_before = store.table_counts()["curves"]
    start = time.perf_counter()
    try:
        result = compare_cluster(
            measurement, cluster.atoms, parse_starts(args.start), expansion=args.expansion, b_iso_angstrom2=args.b_iso,
            background=args.background, weighting=args.weighting, x_min=args.x_min, x_max=args.x_max,
            q_min_inv_angstrom=q_min, q_max_inv_angstrom=q_max, q_damp_inv_angstrom=args.qdamp,
            energy_kev=args.energy_kev, store=store, small_angle=args.small_angle,
        )
    except SwaxsInputError as exc:
        raise SwaxsInputError(_name_flag(str(exc))) from None
    seconds = time.perf_counter() - start
    # a hit stores nothing; counts rows, so a concurrent writer can make a hit look like a miss
    from_cache = store.table_counts()["curves"] == curves_before
    columns = result.columns()
    write_csv(out, columns)
    fit = result.fit
    say(f"R_w = {fit.rw:.4f}, scale = {fit.scale:.6g} over {fit.n_points} points "
        f"({'model from the cache' if from_cache else 'model computed'}, {seconds:.2f} s)")
    return {
        "out": str(out),
        "dataset": dataset_id or args.data,
        "kind": measurement.kind,
        "rw": _finite_or_none(fit.rw),
        "scale": fit.scale,
        "background": list(fit.background),
        "background_model": fit.background_model,
        "weighting": fit.weighting,
        "chi2_reduced": _finite_or_none(fit.chi2_reduced),
        "n_points": fit.n_points,
        "x_min": fit.x_min,
        "x_max": fit.x_max,
        "x_unit": "angstrom" if measurement.domain == "r" else "inv_angstrom",
        "expansion": args.expansion if args.expansion is not None else result.expansion,
        "b_iso_angstrom2": args.b_iso,
        "energy_kev": args.energy_kev,
        "q_min_inv_angstrom": q_min,
        "q_max_inv_angstrom": q_max,
        "q_range_source": q_source,
        "q_damp_inv_angstrom": result.q_damp_inv_angstrom if measurement.domain == "r" else 0.0,
        "values": result.values,
        "parameters": result.result.parameter_row(),
        "small_angle": args.small_angle if measurement.domain == "r" else None,
        "from_header": taken,
        "model_from_cache": from_cache,
        "seconds": round(seconds, 4),
        "columns": list(columns),
        "db": str(store.path),
        "cluster": cluster.info.to_dict(),
    }


def register(sub) -> None:
    """Add the compare command to ``sub`` (argparse subparsers)."""
    p = sub.add_parser("compare", help="fit a cluster's model curve (scale, background) to measured data; R_w and CSV")
    p.add_argument("data", metavar="DATA", help="stored dataset id or data file (I(Q), S(Q), F(Q) or G(r))")
    _structure_args(p, with_data=True)
    p.add_argument("--start", action="append", metavar="NAME=VALUE",
                   help="hold a model parameter at this value (repeatable or comma-separated; scale and background "
                        "are fitted): I(Q) " + table_help(get_model("cluster_iq").parameters[1:3]) + "; G(r) "
                        + table_help(get_model("cluster_gr").parameters[1:]) + "; per element b_Au, u_Pd")
    p.add_argument("--expansion", type=float,
                   help="lattice expansion: distances times 1 + expansion (-0.1 to 0.1, default 0; = --start zoom=1+E)")
    p.add_argument("--b-iso", type=float, help="Debye–Waller B (Å²) for every element (default 0; "
                                                             "G(r): U = B/8π²)")
    p.add_argument("--energy-kev", type=float, help="X-ray energy (keV) for anomalous f', f''")
    p.add_argument("--background", choices=list(BACKGROUNDS), default="none",
                   help="background fitted with the scale: none, constant c0, or linear c0 + c1 x (default none)")
    p.add_argument("--weighting", choices=list(WEIGHTINGS), default="auto",
                   help="least-squares weights (default auto: 1/σ² with uncertainties, else 1/y² for I(Q), else 1)")
    p.add_argument("--x-min", type=float, help="fit range start, in the data's units (1/Å or Å; default: first point)")
    p.add_argument("--x-max", type=float, help="fit range end, inclusive (default: last point)")
    p.add_argument("--q-min", type=float, help="G(r) only: Q_min of the transform (1/Å; default: the file header's)")
    p.add_argument("--q-max", type=float, help="G(r) only: Q_max of the transform (1/Å; default: the file header's)")
    p.add_argument("--qdamp", type=float, help="G(r) only: Q damping (1/Å), envelope exp(-(r qdamp)²/2) (default 0)")
    p.add_argument("--small-angle", choices=["subtract", "keep"], default="subtract",
                   help="G(r) only: take the particle's small-angle scattering out of the model, as PDF extraction "
                        "does with measured data (default), or keep the plain Debye transform")
    add_db_flag(p)
    p.add_argument("--out", required=True, metavar="FILE.csv", help="the data, model, fitted and residual curves")
    p.set_defaults(func=_cmd_compare)
