"""The ``index-peaks`` command: Bragg peaks of a SAXS curve and ranked lattice hypotheses (swaxs_lib.saxs.indexing)."""

from __future__ import annotations

import argparse
from typing import Any

from swaxs_lib.cli.common import out_path, say, write_csv
from swaxs_lib.cli.data import add_db_flag, load_data
from swaxs_lib.errors import SwaxsInputError


def _cmd_index_peaks(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.saxs.indexing import index_curve, peak_table, result_summary
    from swaxs_lib.saxs.lattices import parse_lattices

    lattices = parse_lattices(args.lattices)
    if args.min_peaks < 1:
        raise SwaxsInputError(f"--min-peaks: got {args.min_peaks}; expected an integer >= 1")
    if not (args.min_significance > 0):
        raise SwaxsInputError(f"--min-significance: got {args.min_significance}; expected a number > 0")
    out = out_path(args.out, (".csv",)) if args.out else None
    reader = {"x_unit": args.q_unit} if args.q_unit else {}
    measurement, dataset_id = load_data(args.data, args, **reader)
    if measurement.kind != "iq":
        raise SwaxsInputError(f"{args.data}: holds {measurement.kind}; expected an I(Q) curve (kind iq)")
    result = index_curve(measurement.x, measurement.values, measurement.uncertainties, lattices=lattices,
                         min_peaks=args.min_peaks, min_significance=args.min_significance)
    say(f"{len(result.search.peaks)} peaks at ≥ {args.min_significance:g}σ; {result.message}")
    for h in result.hypotheses[:5]:
        lengths = ", ".join(f"{n} = {v:.4g} ± {s:.2g}" for n, v, s in zip(h.parameter_names, h.values_angstrom,
                                                                             h.sigmas_angstrom))
        say(f"  {h.lattice:9s} Δscore {h.delta_score:6.1f}  {lengths}  indexed {h.n_indexed}, "
            f"unexplained {h.n_unexplained}, missing {len(h.missing)}")
    if out is not None:
        write_csv(out, peak_table(result))
    return {"data": dataset_id or args.data, **result_summary(result), "out": str(out) if out else None}


def register(sub) -> None:
    """Add the index-peaks command to ``sub``."""
    p = sub.add_parser("index-peaks", help="Bragg peaks of a SAXS curve and ranked lattice hypotheses (fcc, bcc, ...)")
    p.add_argument("data", metavar="DATA", help="I(Q) file or stored dataset id")
    p.add_argument("--q-unit", choices=["inv_angstrom", "inv_nm"], help="Q unit of the file (default: from the file)")
    p.add_argument("--lattices", metavar="LIST",
                   help="comma-separated: lamellar,hex2d,square2d,sc,bcc,fcc,hcp,alb2,mgzn2 (default: all)")
    p.add_argument("--min-peaks", type=int, default=3, help="peaks a lattice must index to be ranked (default 3)")
    p.add_argument("--min-significance", type=float, default=5.0,
                   help="fitted peak height over its σ needed to keep a peak (default 5)")
    p.add_argument("--out", metavar="FILE.csv", help="the peaks with their hkl under the best lattice")
    add_db_flag(p)
    p.set_defaults(func=_cmd_index_peaks)
