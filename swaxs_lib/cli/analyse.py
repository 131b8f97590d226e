"""The ``analyse`` command: one-click structure analysis of a measured curve (:mod:`swaxs_lib.analyse.pipeline`).

``analyse DATA [--element Au] [--families icosahedron,decahedron] [--relax-top 3] [--report report.html]
--out ranking.csv`` screens every motif and size in the data's size window, refines and relaxes the best,
fits mixtures, and writes the ranking (and the screen, ``--screen-out``) as CSV.  The JSON line holds the
best candidate, the best group (the candidates the data cannot tell from it), the mixture and the report's
path; progress by stage goes to stderr.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path
from typing import Any

from swaxs_lib.cli.common import add_scheduler_flag, out_path, run_where, say, write_csv
from swaxs_lib.cli.data import add_db_flag, load_data, open_store
from swaxs_lib.cli.header import from_header, header_element, header_facts, say_header
from swaxs_lib.cli.refine import ProgressBar, _fit_flags, _options
from swaxs_lib.errors import SwaxsInputError


def _cmd_analyse(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.analyse.pipeline import analyse
    from swaxs_lib.candidates import FAMILIES

    out = out_path(args.out, (".csv",))
    screen_out = out_path(args.screen_out, (".csv",)) if args.screen_out else None
    report_path = out_path(args.report, (".html",)) if args.report else None
    families = None
    if args.families:
        families = [f.strip() for f in args.families.split(",") if f.strip()]
        unknown = [f for f in families if f not in FAMILIES]
        if unknown or not families:
            raise SwaxsInputError(f"--families: got {', '.join(unknown) or 'none'}; expected some of "
                                  f"{', '.join(FAMILIES)}")
    if not 0 <= args.relax_top <= 20:
        raise SwaxsInputError(f"--relax-top: got {args.relax_top}; expected 0 to 20")
    if not (math.isfinite(args.alpha) and 0 < args.alpha < 1):
        raise SwaxsInputError(f"--alpha: got {args.alpha}; expected a significance level between 0 and 1, e.g. 0.05")
    if not 1 <= args.max_per_family <= 500:
        raise SwaxsInputError(f"--max-per-family: got {args.max_per_family}; expected 1 to 500")
    if args.workers is not None and not 1 <= args.workers <= 256:
        raise SwaxsInputError(f"--workers: got {args.workers}; expected 1 to 256")
    window = None
    if args.window:
        try:
            lo, hi = (float(v) for v in args.window.split(":"))
        except ValueError:
            raise SwaxsInputError(f"--window: got {args.window!r}; expected LOW:HIGH extents in Å, e.g. 15:30") from None
        window = (lo, hi)
    cif_text = None
    if args.cif:
        from swaxs_lib.structures.readers import read_crystal_cell

        if args.element:
            raise SwaxsInputError("--cif: the crystal sets the elements; expected no --element with --cif")
        read_crystal_cell(args.cif)  # a bad file fails before the data are read
        cif_text = Path(args.cif).read_text(errors="replace")
    structures = []
    for path in args.structure or ():
        from swaxs_lib.structures.readers import read_structure

        structures.append((Path(path).name, read_structure(path).atoms))
    options = _options(args)
    measurement, dataset_id = load_data(args.data, args)
    if cif_text is None:
        facts, choice = header_element(args, measurement, needed_for="the clusters")
    else:
        facts, choice = header_facts(measurement), None
    store = open_store(args)
    taken = from_header(facts, choice, measurement, args)
    say_header(facts, choice, taken)
    bar = ProgressBar("analyse")
    start = time.perf_counter()
    with run_where(args):
        result = analyse(store, measurement, element=args.element, families=families, relax_top=args.relax_top,
                         alpha=args.alpha, cif_text=cif_text, structures=structures, window=window, options=options,
                         max_per_family=args.max_per_family, use_prior=not args.no_prior, dataset_id=dataset_id,
                         workers=args.workers, report=bar)
    seconds = time.perf_counter() - start
    write_csv(out, result.table())
    if screen_out:
        write_csv(screen_out, result.table(screened=True))
    if report_path:
        from swaxs_lib.analyse.report import write_report

        write_report(report_path, result, measurement, store=store)
    for row in result.rows[:10]:
        say(f"  {row.rank:3d}. {row.label:44s} R_w {row.rw:.4f}  {row.n_atoms} atoms"
            + ("  ~ best" if row.best_group and row.rank > 1 else ""))
    for note in result.warnings:
        say(f"note: {note}")
    best = result.best
    mixture = result.mixture
    return {
        "out": str(out), "report": str(report_path) if report_path else None, "dataset": dataset_id or args.data,
        "element": result.element,
        "best": {"label": best.label, "family": best.family, "n_atoms": best.n_atoms, "rw": best.rw,
                 "extent_angstrom": best.extent_angstrom, "volume_diameter_angstrom": best.volume_diameter_angstrom,
                 "energy_ev_per_atom": best.energy_ev_per_atom},
        "best_group": [r.label for r in result.best_group],
        "best_group_families": sorted({r.family for r in result.best_group}),
        "mixture": None if mixture is None else {
            "accepted": mixture.accepted, "rw": mixture.rw, "rw_single": mixture.rw_single,
            "p_value": mixture.p_value, "test": mixture.test,
            "components": [{"label": c.label, "number_fraction": c.number_fraction,
                            "number_fraction_sigma": c.number_fraction_sigma, "mass_fraction": c.mass_fraction,
                            "mass_fraction_sigma": c.mass_fraction_sigma} for c in mixture.components]},
        "window_extent_angstrom": list(result.window.get("used_extent_angstrom") or []),
        "prior": None if result.prior is None else {k: result.prior.get(k) for k in
                                                    ("family", "family_probability", "extent_interval_nm",
                                                     "in_domain")},
        "counts": dict(result.counts), "timings_s": dict(result.timings_s), "seconds": round(seconds, 2),
        "warnings": list(result.warnings), "from_header": taken,
    }


def register(sub) -> None:
    """Add ``analyse`` to ``sub``."""
    p = sub.add_parser("analyse", help="screen every motif and size, refine and relax the best, fit mixtures",
                       description=__doc__.split("\n\n")[1])
    p.add_argument("data", metavar="DATA", help="stored dataset id or data file (G(r) or I(Q))")
    p.add_argument("--element", help="chemical symbol, e.g. Au (default: the data header's composition)")
    p.add_argument("--families", metavar="NAMES",
                   help="comma-separated families (default all): icosahedron, decahedron, octahedron, "
                        "truncated-octahedron, cuboctahedron, sphere-fcc, sphere-hcp, sphere-bcc, attenuated-crystal")
    p.add_argument("--cif", metavar="FILE", help="screen spheres cut from this crystal and its attenuated crystal "
                                                 "instead of the metal families (e.g. CdSe)")
    p.add_argument("--structure", action="append", metavar="FILE", help="an xyz/cif cluster refined alongside "
                                                                       "(repeatable)")
    p.add_argument("--window", metavar="LOW:HIGH", help="extent window in Å instead of the data's")
    p.add_argument("--max-per-family", type=int, default=60, help="candidates screened per family (default 60)")
    p.add_argument("--relax-top", type=int, default=3, help="EMT-relax this many of the best clusters (default 3)")
    p.add_argument("--alpha", type=float, default=0.05, help="significance level of the best group and mixture test")
    p.add_argument("--no-prior", action="store_true", help="do not ask the ML models for a prior")
    p.add_argument("--workers", type=int, help="worker processes (default: the number of cores)")
    add_scheduler_flag(p)
    _fit_flags(p)
    p.add_argument("--report", metavar="FILE.html", help="write a self-contained HTML report")
    p.add_argument("--screen-out", metavar="FILE.csv", help="every screened candidate with its screen R_w")
    p.add_argument("--out", required=True, metavar="FILE.csv", help="the ranking, best first")
    add_db_flag(p)
    p.set_defaults(func=_cmd_analyse)
