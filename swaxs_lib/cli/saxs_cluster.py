"""The ``fit-saxs-cluster`` command: a size ladder of atomistic clusters (or given structures) fitted to I(Q).

``python -m swaxs_lib fit-saxs-cluster DATA --shape icosahedron --element Au --sizes 3..8
--distribution gaussian --dq-over-q 0.05 --out fit.csv`` builds the ladder,
computes every member's Debye I(Q) through the store's curve cache (a refit
computes none again), fits the number distribution, scale and flat background
(:func:`swaxs_lib.saxs.cluster_fit.fit_cluster_ladder`), writes the curves (and
with ``--members-out`` the member table) as CSV and prints the fit as JSON.
"""

from __future__ import annotations

import argparse
from typing import Any

from swaxs_lib.cli.common import out_path, say, write_csv
from swaxs_lib.cli.data import add_db_flag, load_data, open_store
from swaxs_lib.errors import SwaxsInputError


def _cmd(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.saxs.cluster_fit import fit_cluster_ladder
    from swaxs_lib.saxs.clusters import DEFAULT_SIZES, build_ladder, parse_sizes

    out = out_path(args.out, (".csv",))
    members_out = out_path(args.members_out, (".csv",)) if args.members_out else None
    contributions_out = out_path(args.contributions_out, (".csv",)) if args.contributions_out else None
    if args.structure:
        given = [f for f, v in (("--shape", args.shape), ("--element", args.element), ("--sizes", args.sizes)) if v]
        if given:
            raise SwaxsInputError(f"--structure: cannot be combined with {', '.join(given)}; expected files or a ladder")
        from swaxs_lib.structures import read_structure

        clusters = [read_structure(path) for path in args.structure]
        labels = list(dict.fromkeys(args.structure))
        if len(labels) != len(clusters):
            raise SwaxsInputError("--structure: a file given twice; expected distinct files")
    else:
        if args.shape is None or args.element is None:
            raise SwaxsInputError("--shape/--element: missing; expected --shape and --element, or --structure FILE")
        sizes = parse_sizes(args.sizes or DEFAULT_SIZES[args.shape], args.shape)
        clusters = list(build_ladder(args.shape, args.element, sizes))
        labels = None
    measurement, dataset_id = load_data(args.data, args, kind="iq", x_unit=args.q_unit)
    say(f"{measurement.source}: {len(measurement.x)} points, Q {measurement.x.min():.4g}..{measurement.x.max():.4g} 1/Å;"
        f" {len(clusters)} cluster(s), {args.distribution} distribution")
    fit = fit_cluster_ladder(measurement, clusters, distribution=args.distribution, labels=labels,
                             dq_over_q=args.dq_over_q, background=args.background, b_iso_angstrom2=args.b_iso,
                             x_min=args.x_min, x_max=args.x_max, weighting=args.weighting, store=open_store(args),
                             progress=say)
    write_csv(out, fit.curve_columns())
    if members_out is not None:
        write_csv(members_out, fit.member_columns())
    if contributions_out is not None:
        write_csv(contributions_out, fit.contribution_columns())
    summary = fit.summary()
    summary.update(out=str(out), members_out=None if members_out is None else str(members_out),
                   contributions_out=None if contributions_out is None else str(contributions_out), dataset=dataset_id,
                   shape=args.shape or "file", element=args.element)
    return summary


def register(sub) -> None:
    """Add ``fit-saxs-cluster`` to ``sub``."""
    from swaxs_lib.saxs.clusters import BACKGROUNDS, DEFAULT_B_ANGSTROM2, DEFAULT_SIZES, DISTRIBUTIONS, FAMILIES

    p = sub.add_parser("fit-saxs-cluster", help="fit a size ladder of atomistic clusters (Debye I(Q)) to SAXS/WAXS I(Q)")
    p.add_argument("data", metavar="DATA", help="I(Q): a stored dataset id or a file")
    p.add_argument("--shape", choices=list(FAMILIES), help="the ladder's family")
    p.add_argument("--element", help="chemical symbol, e.g. Au")
    p.add_argument("--sizes", help="the family's growing parameter: A..B or a,b,c (shells; decahedron p with q=2, r=1; "
                                   "octahedron length; sphere diameter in Å as A..B:STEP); default "
                                   + ", ".join(f"{k} {v}" for k, v in DEFAULT_SIZES.items()))
    p.add_argument("--structure", action="append", metavar="FILE",
                   help="a cluster file (xyz/cif/pdb) instead of a ladder; repeat for several")
    p.add_argument("--distribution", choices=DISTRIBUTIONS, default="gaussian",
                   help="number distribution over the members' volume-equivalent diameters (default gaussian)")
    p.add_argument("--dq-over-q", type=float, help="Gaussian 1-σ resolution ΔQ/Q (default: the file's ΔQ, else none)")
    p.add_argument("--q-unit", choices=["inv_angstrom", "inv_nm"], help="Q unit in the file (default: its header's, "
                                                                          "else 1/Å)")
    p.add_argument("--background", choices=BACKGROUNDS, default="constant", help="flat background (default constant)")
    p.add_argument("--b-iso", type=float, default=DEFAULT_B_ANGSTROM2,
                   help=f"Debye–Waller B of every atom, Å² (held; default {DEFAULT_B_ANGSTROM2})")
    p.add_argument("--x-min", type=float, help="fit range start, 1/Å")
    p.add_argument("--x-max", type=float, help="fit range end, 1/Å")
    p.add_argument("--weighting", choices=["auto", "sigma", "relative", "uniform"], default="auto")
    p.add_argument("--out", required=True, metavar="FILE.csv", help="the fit: Q, data, fitted, difference")
    p.add_argument("--members-out", metavar="FILE.csv", help="one row per member: size, number fraction ± σ")
    p.add_argument("--contributions-out", metavar="FILE.csv", help="each member's share of the fit: Q, member, I")
    add_db_flag(p)
    p.set_defaults(func=_cmd)
