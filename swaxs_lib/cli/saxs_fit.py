"""``fit-saxs``: fit a sasmodels form factor (polydispersity, structure factor, smearing) to an I(Q).

The JSON line gives every parameter in Å-based units as ``name`` with
``name_sigma`` and ``name_flag`` (``radius``, ``radius_sigma``, ``radius_pd``,
...), ``chi2_reduced``, ``undetermined`` and ``correlated_pairs``; ``--out``
the curves (Q, data, σ, fit, difference, normalised residual), ``--params-out``
one row with units in the column names.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from swaxs_lib.cli.common import out_path, say, write_csv
from swaxs_lib.cli.data import add_db_flag, load_data, open_store
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.models.parameters import parse_bounds, parse_starts, split_items
from swaxs_lib.models.sasview import COMMON, EFFECTIVE_RADIUS, POLYDISPERSITY, STRUCTURE_FACTORS


def _positive(value: float | None, flag: str) -> float | None:
    if value is not None and not value > 0:
        raise SwaxsInputError(f"{flag}: got {value}; expected a positive number")
    return value


def _cmd_fit_saxs(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.saxs.sasfit import fit_saxs

    out = out_path(args.out, (".csv",))
    params_out = out_path(args.params_out, (".csv",)) if args.params_out else None
    if args.dq_over_q is not None and args.slit_length is not None:
        raise SwaxsInputError("--dq-over-q: cannot be combined with --slit-length; expected one resolution")
    resolution = args.resolution
    if resolution == "auto" and args.dq_over_q is not None:
        resolution = "dq_over_q"
    elif resolution == "auto" and args.slit_length is not None:
        resolution = "slit"
    measurement, dataset_id = load_data(args.data, args, kind="iq", x_unit=args.q_unit)
    started = time.perf_counter()
    fit = fit_saxs(measurement, args.model, polydispersity=args.polydispersity,
                   pd_parameters=split_items([args.pd_parameters]) if args.pd_parameters else None,
                   structure_factor=args.structure_factor, effective_radius=args.effective_radius,
                   resolution=resolution, dq_over_q=_positive(args.dq_over_q, "--dq-over-q"),
                   slit_length=_positive(args.slit_length, "--slit-length"), x_min=args.x_min, x_max=args.x_max,
                   weighting=args.weighting, start=parse_starts(args.start), bounds=parse_bounds(args.bounds),
                   fix=split_items([args.fix]) if args.fix else (),
                   free=split_items([args.free]) if args.free else (), progress=say)
    seconds = time.perf_counter() - started
    write_csv(out, fit.columns())
    if params_out is not None:
        write_csv(params_out, {k: [v] for k, v in fit.parameter_row().items()})
    summary = fit.summary()
    say(f"{summary['model']}: chi2_reduced {fit.chi2_reduced:.4g} in {seconds:.2f} s"
        + (f"; undetermined: {', '.join(summary['undetermined'])}" if summary["undetermined"] else ""))
    if summary["misfit"]:
        say(f"warning: {summary['misfit']}")
    result_id = None
    if args.save:
        from swaxs_lib.store.fits import StoredFit, save_fit

        stored = StoredFit.from_fit(fit, producer="fit-saxs", dataset_id=dataset_id,
                                    inputs={"page": "fit-saxs", "model": summary["model"], "data": args.data})
        result_id = save_fit(open_store(args), stored,
                             message=f"fit-saxs: {summary['model']} chi2_red {fit.chi2_reduced:.4g}").id
    return {**{k: v for k, v in summary.items() if k != "settings"}, "settings": summary["settings"],
            "dataset_id": dataset_id, "result_id": result_id, "out": str(out), "seconds": round(seconds, 3)}


def register(sub) -> None:
    """Add ``fit-saxs`` to ``sub``."""
    p = sub.add_parser("fit-saxs", help="fit a sasmodels form factor (sphere, cylinder, ...) with polydispersity, "
                                        "structure factor and resolution smearing to an I(Q)")
    p.add_argument("data", metavar="DATA", help="stored dataset id or data file (I(Q))")
    p.add_argument("--model", default="sphere",
                   help=f"sasmodels form factor: {', '.join(COMMON)} or any other sasmodels name (default sphere)")
    p.add_argument("--polydispersity", choices=list(POLYDISPERSITY),
                   help="size distribution of the polydisperse sizes (default: monodisperse)")
    p.add_argument("--pd-parameters", metavar="NAMES",
                   help="which sizes are polydisperse, comma-separated (default: the model's first, e.g. radius)")
    p.add_argument("--structure-factor", help=f"S(Q): {', '.join(STRUCTURE_FACTORS)} (default: none, dilute)")
    p.add_argument("--effective-radius", choices=list(EFFECTIVE_RADIUS), default="form",
                   help="S(Q)'s radius: the form factor's (default) or refined (radius_effective)")
    p.add_argument("--q-unit", choices=["inv_angstrom", "inv_nm"], help="Q unit of the file (default: from the file)")
    p.add_argument("--resolution", choices=["auto", "none", "dq"], default="auto",
                   help="smearing: auto (the data's dQ column if any, else --dq-over-q or --slit-length), "
                        "none (ignore dQ), dq (require the dQ column)")
    p.add_argument("--dq-over-q", type=float, metavar="F", help="Gaussian smearing with 1-σ dQ = F Q")
    p.add_argument("--slit-length", type=float, metavar="L", help="slit smearing with this slit length (1/Å)")
    p.add_argument("--x-min", type=float, help="fit range start (1/Å)")
    p.add_argument("--x-max", type=float, help="fit range end (1/Å)")
    p.add_argument("--weighting", choices=["auto", "sigma", "relative", "uniform"], default="auto",
                   help="weights: auto = 1/σ² when the data have σ, else relative")
    p.add_argument("--start", action="append", metavar="NAME=VALUE",
                   help="start value (Å-based units), e.g. --start radius=30,sld=119,sld_solvent=9.4")
    p.add_argument("--bounds", action="append", metavar="NAME=LOW:HIGH", help="bounds, e.g. --bounds radius=10:80")
    p.add_argument("--fix", metavar="NAMES", help="comma-separated parameters held at their start, e.g. background")
    p.add_argument("--free", metavar="NAMES", help="parameters held by default but refined here, e.g. sld")
    p.add_argument("--save", action="store_true", help="keep the fit in the store (listed on Home)")
    add_db_flag(p)
    p.add_argument("--out", required=True, metavar="FILE.csv", help="Q, data, σ, fit, difference, residual/σ")
    p.add_argument("--params-out", metavar="FILE.csv", help="one row: chi2_reduced, every value, σ and flag")
    p.set_defaults(func=_cmd_fit_saxs)
