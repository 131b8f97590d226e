"""The ``size-distribution`` command: a sphere-size distribution of an I(Q), no assumed shape of distribution.

``python -m swaxs_lib size-distribution DATA --out dist.csv`` runs
:func:`swaxs_lib.saxs.sizedist.size_distribution` (maximum entropy or a McSAS-like
Monte Carlo), writes the volume and number distributions with their bands as CSV
(``--fit-out``: the fitted points, background and model) and prints the total volume
fraction, the mean and mode diameters inside the observable window, the window, χ²/N and
the method as JSON.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from swaxs_lib.cli.common import out_path, say, write_csv
from swaxs_lib.cli.data import add_db_flag, load_data
from swaxs_lib.errors import SwaxsInputError

#: Library parameter names (start of a SwaxsInputError message) -> the flag.
_FLAGS = {
    "diameter_min_angstrom": "--diameter-min", "diameter_max_angstrom": "--diameter-max", "n_bins": "--bins",
    "contrast_1e20_per_cm4": "--contrast", "weight_factor": "--weight-factor", "n_repeats": "--repeats",
    "sky_background": "--sky-background", "flat_background": "--flat-background",
    "power_law_scale": "--power-law-scale", "power_law_exponent": "--power-law-exponent",
    "Q range": "--q-min/--q-max", "method": "--method",
}


def _cmd_size_distribution(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.saxs.sizedist import size_distribution

    out = out_path(args.out, (".csv",))
    fit_out = out_path(args.fit_out, (".csv",)) if args.fit_out else None
    if args.iterations is not None and args.iterations < 1:
        raise SwaxsInputError(f"--iterations: got {args.iterations}; expected a positive integer")
    if args.contributions < 1:
        raise SwaxsInputError(f"--contributions: got {args.contributions}; expected a positive integer")
    measurement, dataset_id = load_data(args.data, args, kind=None, x_unit=args.q_unit)
    if measurement.kind != "iq":
        raise SwaxsInputError(f"{args.data}: a {measurement.kind} curve; expected I(Q)")
    if measurement.uncertainties is None:
        raise SwaxsInputError(f"{args.data}: no dI column; the fit is weighted by dI, expected a third column")
    start = time.perf_counter()
    try:
        result = size_distribution(
            measurement.x, measurement.values, measurement.uncertainties, method=args.method,
            diameter_min_angstrom=args.diameter_min, diameter_max_angstrom=args.diameter_max, n_bins=args.bins,
            q_min_inv_angstrom=args.q_min, q_max_inv_angstrom=args.q_max,
            flat_background=args.flat_background, power_law_scale=args.power_law_scale,
            power_law_exponent=args.power_law_exponent, fit_flat_background=args.fit_flat_background,
            contrast_1e20_per_cm4=args.contrast,
            weight_factor=args.weight_factor, sky_background=args.sky_background, n_repeats=args.repeats,
            max_iterations=args.iterations, n_contributions=args.contributions, seed=args.seed,
        )
    except SwaxsInputError as exc:
        message = str(exc)
        for name, flag in _FLAGS.items():
            if message.startswith(name + ":"):
                raise SwaxsInputError(flag + message[len(name):]) from None
        raise
    seconds = time.perf_counter() - start
    for warning in result.warnings:
        say(f"warning: {warning}")
    write_csv(out, result.table())
    if fit_out:
        write_csv(fit_out, result.fit_table())
    say(f"{result.method}: {result.n_repeats} solutions in {seconds:.2f} s; volume fraction "
        f"{result.total_volume_fraction:.6g} ± {result.total_volume_fraction_sigma:.2g}; window "
        f"{result.window_diameter_min_angstrom:.4g}–{result.window_diameter_max_angstrom:.4g} Å")
    return {"data": dataset_id or args.data, **result.summary(), "seconds": round(seconds, 3), "out": str(out),
            "fit_out": str(fit_out) if fit_out else None}


def register(sub) -> None:
    """Add the size-distribution command to ``sub``."""
    p = sub.add_parser("size-distribution",
                       help="sphere-size distribution (maximum entropy or Monte Carlo) of an I(Q), to CSV")
    p.add_argument("data", metavar="DATA", help="dataset id or I(Q) file with a dI column")
    p.add_argument("--q-unit", choices=["inv_angstrom", "inv_nm"],
                   help="Q unit in the file (default: from its header, else 1/Å)")
    p.add_argument("--method", choices=["maxent", "montecarlo"], default="maxent",
                   help="maximum entropy (Irena, SasView) or McSAS-like Monte Carlo (default maxent)")
    p.add_argument("--q-min", type=float, help="first Q fitted (1/Å; default the first point)")
    p.add_argument("--q-max", type=float, help="last Q fitted (1/Å; default the last point)")
    p.add_argument("--diameter-min", type=float, default=25.0, help="smallest bin diameter (Å; default 25)")
    p.add_argument("--diameter-max", type=float, default=10000.0, help="largest bin diameter (Å; default 10000)")
    p.add_argument("--bins", type=int, default=100, help="log-spaced diameter bins, ends included (default 100)")
    p.add_argument("--flat-background", type=float, default=0.0, help="flat background subtracted (data units)")
    p.add_argument("--power-law-scale", type=float, default=0.0,
                   help="background scale·Q^-exponent subtracted (data units, Q in 1/Å; default 0)")
    p.add_argument("--power-law-exponent", type=float, default=4.0, help="power-law background exponent (default 4)")
    p.add_argument("--fit-flat-background", action="store_true",
                   help="add a constant found by non-negative least squares with the bins (then held)")
    p.add_argument("--contrast", type=float, default=1.0, help="Δρ² in 10^20 cm^-4 (default 1)")
    p.add_argument("--weight-factor", type=float, default=1.0,
                   help="σ = factor × dI (Irena's weight factor; default 1)")
    p.add_argument("--sky-background", type=float,
                   help="MaxEnt default model per bin (volume fraction; default 1e-4 × NNLS total / bins)")
    p.add_argument("--repeats", type=int, default=10, help="solutions whose spread is the band (default 10)")
    p.add_argument("--iterations", type=int, help="MaxEnt iterations (default 100) or Monte Carlo moves (30000)")
    p.add_argument("--contributions", type=int, default=200, help="Monte Carlo spheres per run (default 200)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the noise and moves (default 0)")
    p.add_argument("--out", required=True, metavar="FILE.csv", help="the distribution")
    p.add_argument("--fit-out", metavar="FILE.csv", help="the fitted points, background and model")
    add_db_flag(p)
    p.set_defaults(func=_cmd_size_distribution)
