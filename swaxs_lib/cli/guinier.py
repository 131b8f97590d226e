"""The ``guinier`` command: R_g, I(0), the implied sphere radius and the Porod exponent of a measured I(Q).

``python -m swaxs_lib guinier DATA [--q-unit inv_angstrom|inv_nm] [--q-min X --q-max Y] [--out guinier.csv]``
runs :func:`swaxs_lib.saxs.guinier.guinier_porod`: the automatic Guinier range (or the one given; only
``--q-min`` moves the automatic range's start), R_g and I(0) with their uncertainties, and
I = K Q^−n + B at high Q.  A curve without a Guinier region (a structure-factor peak or a power
law at the lowest Q, too few points, I <= 0) exits with status 2 and says why.  The JSON line
names uncertainties ``<name>_err`` (``rg_err_angstrom``, ``i0_err``, ``porod_exponent_err``, ...);
the CSV (``--out``) has every point with the Guinier, Kratky and Porod views and the fitted curves,
uncertainties as ``<name>_sigma`` (docs/csv.md).  Q in the JSON is in 1/Å.
"""

from __future__ import annotations

import argparse
import math
import warnings
from typing import Any

from swaxs_lib.cli.common import out_path, say, write_csv
from swaxs_lib.cli.data import add_db_flag, load_data
from swaxs_lib.errors import SwaxsInputError


def _check_range(args: argparse.Namespace, low: str, high: str) -> None:
    lo, hi = getattr(args, low), getattr(args, high)
    for name, value in ((low, lo), (high, hi)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise SwaxsInputError(f"--{name.replace('_', '-')}: got {value}; expected a finite Q >= 0 (1/Å)")
    if lo is not None and hi is not None and not lo < hi:
        raise SwaxsInputError(f"--{low.replace('_', '-')}: got {lo} >= --{high.replace('_', '-')} {hi}; "
                              "expected a smaller value (1/Å)")


def _finite(value):
    return None if value is None or (isinstance(value, float) and not math.isfinite(value)) else value


def _cmd_guinier(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.saxs.guinier import guinier_porod

    out = out_path(args.out, (".csv",)) if args.out else None
    _check_range(args, "q_min", "q_max")
    _check_range(args, "porod_q_min", "porod_q_max")
    reader = {"x_unit": args.q_unit} if args.q_unit else {}
    measurement, dataset_id = load_data(args.data, args, **reader)
    if dataset_id is not None and args.q_unit:
        raise SwaxsInputError(f"--q-unit: {args.data} is a stored dataset, already in 1/Å; expected --q-unit only "
                              "with a file")
    if measurement.kind != "iq":
        raise SwaxsInputError(f"{args.data}: holds {measurement.kind} data; expected a small-angle I(Q)")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = guinier_porod(measurement.x, measurement.values, measurement.uncertainties,
                               q_min_inv_angstrom=args.q_min, q_max_inv_angstrom=args.q_max,
                               porod_q_min_inv_angstrom=args.porod_q_min, porod_q_max_inv_angstrom=args.porod_q_max)
    if result.guinier is None:
        raise SwaxsInputError(f"{args.data}: {result.guinier_refusal}")
    for w in caught:
        say(f"warning: {w.message}")
    g, p = result.guinier, result.porod
    if p is None:
        say(f"no Porod fit: {result.porod_refusal}")
    say(f"R_g = {g.rg_angstrom:.4g} ± {g.rg_angstrom_sigma:.2g} Å over Q {g.q_min_inv_angstrom:.4g}..."
        f"{g.q_max_inv_angstrom:.4g} 1/Å ({g.n_points} points, Q_max·R_g = {g.qmax_rg:.2f}, "
        f"{'automatic' if g.automatic else 'given'}); sphere R = {g.sphere_radius_angstrom:.4g} Å"
        + (f"; Porod n = {p.exponent:.3g} ± {p.exponent_sigma:.2g}" if p else ""))
    if out:
        write_csv(out, result.columns())
    return {
        "data": dataset_id or args.data,
        "rg_angstrom": g.rg_angstrom, "rg_err_angstrom": _finite(g.rg_angstrom_sigma),
        "i0": g.i0, "i0_err": _finite(g.i0_sigma),
        "q_min": g.q_min_inv_angstrom, "q_max": g.q_max_inv_angstrom, "q_unit": "inv_angstrom",
        "n_points": g.n_points, "qmin_rg": g.qmin_rg, "qmax_rg": g.qmax_rg,
        "sphere_radius_angstrom": g.sphere_radius_angstrom,
        "sphere_radius_err_angstrom": _finite(g.sphere_radius_angstrom_sigma),
        "rg_fit_err_angstrom": _finite(g.rg_fit_sigma_angstrom),
        "rg_curvature_shift_angstrom": _finite(g.rg_curvature_shift_angstrom),
        "guinier_chi2_reduced": _finite(g.chi2_reduced), "guinier_runs_p_value": g.runs_p_value,
        "guinier_automatic": g.automatic,
        "porod_exponent": p and p.exponent, "porod_exponent_err": p and _finite(p.exponent_sigma),
        "porod_constant": p and p.constant, "porod_constant_err": p and _finite(p.constant_sigma),
        "porod_background": p and p.background, "porod_background_err": p and _finite(p.background_sigma),
        "porod_q_min": p and p.q_min_inv_angstrom, "porod_q_max": p and p.q_max_inv_angstrom,
        "porod_n_points": p and p.n_points, "porod_chi2_reduced": p and _finite(p.chi2_reduced),
        "porod_note": result.porod_refusal,
        "weighted": g.weighted,
        "warnings": [str(w.message) for w in caught],
        "out": str(out) if out else None,
    }


def register(sub) -> None:
    """Add the guinier command to ``sub`` (argparse subparsers)."""
    p = sub.add_parser("guinier", help="Guinier R_g and I(0) (automatic range), sphere radius, Porod exponent")
    p.add_argument("data", metavar="DATA", help="stored dataset id or small-angle I(Q) file")
    p.add_argument("--q-unit", choices=["inv_angstrom", "inv_nm"],
                   help="Q unit of the file (default: from its header, else 1/Å); files only")
    p.add_argument("--q-min", type=float, help="start of the Guinier range (1/Å; default: the lowest usable Q); "
                                               "alone, the automatic range starts here")
    p.add_argument("--q-max", type=float, help="end of the Guinier range (1/Å); given, the range is fixed "
                                               "(default: chosen automatically)")
    p.add_argument("--porod-q-min", type=float, help="start of the Porod window (1/Å; default 4/R_g)")
    p.add_argument("--porod-q-max", type=float, help="end of the Porod window (1/Å; default: the last point)")
    p.add_argument("--out", metavar="FILE.csv", help="every point with the Guinier, Kratky and Porod views and fits")
    add_db_flag(p)
    p.set_defaults(func=_cmd_guinier)
