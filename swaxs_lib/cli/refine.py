"""The ``refine``, ``sweep`` and ``jobs`` commands.

``refine DATA <structure flags> --out fit.csv`` refines one cluster (srfit
recipe, :mod:`swaxs_lib.refine.cluster`), or with ``--model crystal|nanoparticle
--cif FILE`` (or ``--lattice fcc --element Ni``) a periodic structure
(:mod:`swaxs_lib.refine.crystal`).  ``sweep DATA --shape decahedron [--element
Au] [--grid ...] --out ranking.csv`` refines a family and ranks it by R_w,
reusing fits already in the store, and says which candidates the data cannot
tell from the best (F-test at ``--alpha``, :mod:`swaxs_lib.refine.significance`)
and whether the best lies on the edge of the grid.  Both commands flag the
refined values the data do not determine (``name_flag``, ``undetermined``).
Without ``--element`` the element is the one the data header's composition
names (:mod:`swaxs_lib.io.header`), as its ``qmin``/``qmax`` give the Q window;
the JSON line's ``from_header`` says what was taken.  ``jobs`` lists the background jobs, or
shows/cancels one.  Progress goes to stderr (a bar on a terminal).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

from swaxs_lib.cli.common import add_scheduler_flag, out_path, run_where, say, write_csv
from swaxs_lib.cli.data import add_db_flag, load_data, open_store
from swaxs_lib.cli.header import element_for_cluster, from_header, header_element, say_header
from swaxs_lib.cli.structure import _structure_args, cluster_from_args
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.header import header_facts
from swaxs_lib.models import all_models, families, with_units
from swaxs_lib.models.parameters import parse_bounds, parse_starts, table_help
from swaxs_lib.models.parameters import split_items as _split



def _fixable() -> list[str]:
    """Every parameter name of every model's table (``--fix`` is checked against the model later too)."""
    return list(dict.fromkeys(p.name for m in all_models() for p in m.parameters))


def _models_help() -> str:
    """One line per model: its family, title and parameter table (names with units)."""
    return "; ".join(f"{m.family} ({'/'.join(m.kinds)}): {table_help(m.parameters)}" for m in all_models())


class ProgressBar:
    """``done/total``, elapsed and remaining time on stderr: redrawn in place on a terminal, a line otherwise."""

    def __init__(self, label: str) -> None:
        self.label, self.start, self.tty = label, time.time(), sys.stderr.isatty()
        self._last = ""
        self._printed = 0.0

    def __call__(self, done: int, total: int, note: str = "") -> None:
        from swaxs_lib.jobs import format_seconds, remaining_seconds

        elapsed = time.time() - self.start
        remaining = remaining_seconds(elapsed, done, total)
        width = 24
        filled = int(width * done / total) if total else 0
        line = (f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
                f"{format_seconds(elapsed)} elapsed, {format_seconds(remaining)} left  {note}")
        if self.tty:
            sys.stderr.write("\r" + line[:150].ljust(len(self._last)))
            if done >= total:
                sys.stderr.write("\n")
            sys.stderr.flush()
        elif done >= total or done <= 1 or time.time() - self._printed >= 5.0:  # a log: a line every 5 s
            say(line)
            self._printed = time.time()
        self._last = line[:150]


def _options(args: argparse.Namespace, *, check_fix: bool = True) -> dict[str, Any]:
    for name in ("x_min", "x_max", "q_min", "q_max", "qdamp"):
        value = getattr(args, name, None)
        if value is not None and not math.isfinite(value):
            raise SwaxsInputError(f"--{name.replace('_', '-')}: got {value}; expected a finite number")
    if args.x_min is not None and args.x_max is not None and args.x_min >= args.x_max:
        raise SwaxsInputError(f"--x-min: got {args.x_min} >= --x-max {args.x_max}; expected --x-min < --x-max")
    fix = _split([args.fix] if args.fix else [])
    for name in fix if check_fix else ():
        if name not in _fixable():
            raise SwaxsInputError(f"--fix: unknown parameter {name!r}; expected some of {', '.join(sorted(_fixable()))}")
    start = parse_starts(getattr(args, "start", None))
    if args.qdamp is not None:
        if not 0 <= args.qdamp <= 0.2:
            raise SwaxsInputError(f"--qdamp: got {args.qdamp}; expected 0 to 0.2 (1/Å), e.g. from a calibrant")
        start["qdamp"] = args.qdamp
        if "qdamp" not in fix:
            fix.append("qdamp")
    return {"x_min": args.x_min, "x_max": args.x_max, "q_min_inv_angstrom": args.q_min,
            "q_max_inv_angstrom": args.q_max, "background": args.background, "fix": fix, "start": start,
            "bounds": parse_bounds(getattr(args, "bounds", None))}


def _after(first: str):
    """A progress callback that says ``first`` before its first line: a rejected request prints one line only."""
    pending = [first]

    def progress(line: str) -> None:
        if pending:
            say(pending.pop())
        say(line)
    return progress


def _cmd_refine(args: argparse.Namespace) -> dict[str, Any]:
    out = out_path(args.out, (".csv",))
    values_out = None if args.values is None else out_path(args.values, (".csv",))
    if values_out is not None and values_out.resolve() == out.resolve():
        raise SwaxsInputError(f"--values: got {args.values!r}, the same file as --out; expected another file")
    params_out = out_path(args.params_out, (".csv",)) if args.params_out else None
    crystal = args.model != "cluster"
    options = _options(args, check_fix=not crystal)  # crystal names (u_Cd, z_Se1) are checked by the model
    bounds = options["bounds"]
    if not crystal and (args.free or args.adp):
        raise SwaxsInputError(f"--{'free' if args.free else 'adp'}: only for --model crystal or nanoparticle")
    measurement, dataset_id = load_data(args.data, args)
    start_clock = time.perf_counter()
    if not crystal:
        from swaxs_lib.refine.cluster import refine_cluster

        facts, choice = element_for_cluster(args, measurement)
        cluster = cluster_from_args(args)
        taken = from_header(facts, choice, measurement, args)
        say_header(facts, choice, taken)
        progress = _after(f"refine: {cluster.info.n_atoms} atoms ({cluster.info.formula} {cluster.info.shape}) "
                          f"against {dataset_id or args.data} ({measurement.kind}, {measurement.n_points} points)")
        fit = refine_cluster(measurement, cluster.atoms, x_min=options["x_min"], x_max=options["x_max"],
                             q_min_inv_angstrom=options["q_min_inv_angstrom"],
                             q_max_inv_angstrom=options["q_max_inv_angstrom"], background=options["background"],
                             fix=options["fix"], start=options["start"], bounds=bounds, progress=progress)
        described = cluster.info.to_dict()
    else:
        from swaxs_lib.refine.crystal import (
            bulk_structure,
            read_crystal,
            refine_crystal,
        )

        facts, choice = header_facts(measurement), None
        if args.cif is None:
            facts, choice = header_element(args, measurement, needed_for=None)
        if args.cif is not None:
            structure = read_crystal(args.cif)
        elif args.element is not None:
            structure = bulk_structure(args.element, args.lattice or "fcc", args.lattice_constant_angstrom)
        else:
            raise SwaxsInputError("--cif: missing; --model crystal/nanoparticle needs --cif FILE or --element "
                                  "(with --lattice fcc|bcc)" + (f", and {choice.message}" if choice.message else
                                                                f", and the header of {measurement.source} states "
                                                                "no composition"))
        # crystals take Q_min 0 unless --q-min is given (PDFgui's convention; their model has no small-angle part)
        taken = from_header(facts, choice, measurement, args, q_min=False)
        say_header(facts, choice, taken)
        progress = _after(f"refine: {args.model} model of {structure.composition} against {dataset_id or args.data}")
        fit = refine_crystal(measurement, structure, nanoparticle=args.model == "nanoparticle",
                             x_min=options["x_min"], x_max=options["x_max"],
                             q_min_inv_angstrom=options["q_min_inv_angstrom"],
                             q_max_inv_angstrom=options["q_max_inv_angstrom"], radiation=args.radiation,
                             fix=options["fix"], free=_split([args.free] if args.free else []),
                             start=options["start"], bounds=bounds, adp=args.adp or "isotropic", progress=progress)
        settings = dict(fit.settings)
        described = {"structure": settings.get("structure"), "space_group": settings.get("space_group"),
                     "free_coordinates": settings.get("free_coordinates")}
    seconds = time.perf_counter() - start_clock
    write_csv(out, fit.columns())
    factor = fit.sigma_nyquist_factor
    for v in fit.values:
        say(f"  {v.name:12s} {v.text(factor)}")
    say(f"R_w = {fit.rw:.4f} over {len(fit.x)} points ({fit.n_independent_points} independent) in {seconds:.1f} s")
    if fit.undetermined():
        say(f"not determined by the data: {', '.join(fit.undetermined())}")
    summary = fit.summary()
    if values_out is not None:
        flags = fit.flags()
        write_csv(values_out, {"parameter": [v.name for v in fit.values], "value": [v.value for v in fit.values],
                               "sigma": ["" if v.uncertainty is None else v.uncertainty for v in fit.values],
                               "unit": [v.unit for v in fit.values], "refined": [v.refined for v in fit.values],
                               "flag": [flags[v.name] for v in fit.values]})
        summary["values_out"] = str(values_out)
    row = fit.parameter_row()
    if params_out is not None:
        write_csv(params_out, {k: ["" if v is None else v] for k, v in row.items()})
        summary["params_out"] = str(params_out)
    return {**summary, "parameters": row, "out": str(out), "dataset": dataset_id or args.data,
            "seconds": round(seconds, 3), "cluster": described, "from_header": taken}


def _cmd_sweep(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.sweep import parse_grid, sweep

    out = out_path(args.out, (".csv",))
    crystal = None
    if args.cif is not None:
        from pathlib import Path

        from swaxs_lib.structures.readers import read_crystal_cell

        if args.shape != "sphere" or args.element is not None:
            raise SwaxsInputError("--cif: a sweep cuts spheres from the crystal; expected --shape sphere and no "
                                  "--element (the crystal sets the elements)")
        read_crystal_cell(args.cif)  # a bad file fails before the data are read
        crystal = Path(args.cif).read_text(errors="replace")
    elif args.shape is None:
        raise SwaxsInputError("--shape: missing; expected the family, e.g. --shape decahedron (and --element Au "
                              "unless the data header names the element)")
    options = _options(args)
    parse_grid(args.shape, args.grid)  # a bad grid fails before the data are read
    if args.workers is not None and not 1 <= args.workers <= 256:
        raise SwaxsInputError(f"--workers: got {args.workers}; expected 1 to 256")
    if not (math.isfinite(args.alpha) and 0 < args.alpha < 1):
        raise SwaxsInputError(f"--alpha: got {args.alpha}; expected a significance level between 0 and 1, e.g. 0.05")
    measurement, dataset_id = load_data(args.data, args)
    if getattr(args, "cif", None) is None:
        facts, choice = header_element(args, measurement, needed_for=f"the {args.shape} family")
    else:  # spheres cut from a crystal: the crystal sets the elements
        facts, choice = header_facts(measurement), None
    store = open_store(args)
    taken = from_header(facts, choice, measurement, args)
    say_header(facts, choice, taken)
    bar = ProgressBar(f"sweep {args.shape}")
    start = time.perf_counter()
    with run_where(args):
        result = sweep(store, measurement, args.shape, args.element, args.grid, options, dataset_id=dataset_id,
                       workers=args.workers, report=bar, alpha=args.alpha, crystal=crystal)
    seconds = time.perf_counter() - start
    table = with_units(result.table(), "cluster")  # u_Au_angstrom2, qdamp_inv_angstrom (docs/csv.md)
    write_csv(out, table)
    for label, reason in result.skipped:
        say(f"left out {label}: {reason}")
    significance = result.significance()
    for k, row in enumerate(result.rows[:5]):
        same = result.test is not None and result.test.comparisons[k].indistinguishable and k > 0
        say(f"  {row.rank:3d}. {row.candidate.label():32s} R_w {row.rw:.4f}  {row.n_atoms} atoms"
            + ("  ~ best" if same else ""))
    if significance["test"] is not None:
        say(f"{significance['n_indistinguishable']} of {len(result.rows) - 1} other candidates are indistinguishable "
            f"from the best (R_w ratio < {significance['rw_ratio_critical'] or float('nan'):.3f}; F-test, alpha "
            f"{significance['alpha']:g}, {significance['n_independent_points']} independent points)"
            + (f"; {significance['test_note']}" if significance["test_note"] else ""))
    if significance.get("size"):
        size = significance["size"]
        say(f"size: volume-equivalent diameter {size['best']:.1f} Å; the candidates the data cannot tell from the "
            f"best span {size['window'][0]:.1f}-{size['window'][1]:.1f} Å")
    if result.edge is not None:
        say(result.edge.message())
    best = result.rows[0]
    return {
        "out": str(out), "dataset": dataset_id or args.data, "shape": args.shape, "element": best.candidate.element,
        "candidates": len(result.rows), "computed": result.computed, "reused": result.reused,
        "skipped": len(result.skipped), "seconds": round(seconds, 3),
        "best": {"params": dict(best.candidate.params), "rw": best.rw, "n_atoms": best.n_atoms,
                 "extent_angstrom": best.extent_angstrom, "volume_diameter_angstrom": best.volume_diameter_angstrom,
                 "result_id": best.result_id, **{k: v for k, v in best.summary.items() if k != "settings"}},
        **significance,
        "from_header": taken,
        "db": str(store.path),
    }


def _cmd_jobs(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.jobs import cancel, get_job, list_jobs, progress_of, where_of

    store = open_store(args)
    if args.id is None:
        if args.cancel:
            raise SwaxsInputError("--cancel: needs a job ID")
        rows = list_jobs(store)
        for r in rows:
            p = progress_of(r)
            say(f"{r.id}  {r.status:9s} {p.done}/{p.total}  {r.message or ''}")
        return {"jobs": [{"id": r.id, "status": r.status, "message": r.message, "done": progress_of(r).done,
                          "total": progress_of(r).total, "where": where_of(r)[0],
                          "updated_at": r.updated_at.isoformat()} for r in rows]}
    record = cancel(store, args.id) if args.cancel else get_job(store, args.id)
    p = progress_of(record)
    where, dashboard = where_of(record)
    return {"id": record.id, "status": record.status, "message": record.message, "done": p.done, "total": p.total,
            "where": where, "dask_dashboard": dashboard, "elapsed_s": p.elapsed_s, "remaining_s": p.remaining_s, "params": record.params,
            "result": {k: v for k, v in (record.result or {}).items() if k not in ("traceback",)}}


def _fit_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--x-min", type=float, help="fit range start (Å for G(r), 1/Å for I(Q); G(r) default 1.5 Å)")
    p.add_argument("--x-max", type=float, help="fit range end (G(r) default: min(r_max, 30 Å))")
    p.add_argument("--q-min", type=float, help="G(r): Q_min of the experiment (1/Å; default the file header's; "
                                                "crystal models: 0, as PDFgui)")
    p.add_argument("--q-max", type=float, help="G(r): Q_max of the experiment (1/Å; default the file header's)")
    p.add_argument("--qdamp", type=float, help="G(r): fix Q damping at this value (1/Å), e.g. from a calibrant")
    p.add_argument("--background", choices=["none", "constant", "linear"], default="constant",
                   help="I(Q): background refined with the scale (default constant)")
    p.add_argument("--fix", metavar="NAMES", help="comma-separated parameters held at their start, e.g. delta2,u "
                                                  "(u for every u_<El>; crystal models: xyz for every coordinate)")


def register(sub) -> None:
    """Add the refine, sweep and jobs commands to ``sub``."""
    p = sub.add_parser("refine", help="refine a cluster (or a crystal) against G(r) or I(Q); values, R_w, CSV")
    p.add_argument("data", metavar="DATA", help="stored dataset id or data file")
    _structure_args(p, with_data=True)
    p.add_argument("--model", choices=list(families()), default="cluster",
                   help="; ".join(f"{m.family}: {m.title}" for m in all_models()))
    p.add_argument("--radiation", choices=["X", "N"], default="X", help="crystal models: X-ray or neutron")
    p.add_argument("--adp", choices=["isotropic", "diagonal"],
                   help="crystal models: one U per element, truly isotropic (default) or PDFgui's "
                        "u11=u22=u33 with zero cross terms (differs for non-orthogonal cells)")
    _fit_flags(p)
    p.add_argument("--start", action="append", metavar="NAME=VALUE",
                   help="start value of a parameter (repeatable or comma-separated), e.g. --start u=0.01,delta2=2; "
                        "per-element names u_Cd, free coordinates z_Se1; the tables: " + _models_help())
    p.add_argument("--bounds", action="append", metavar="NAME=LOW:HIGH",
                   help="bounds of a parameter (repeatable or comma-separated), e.g. --bounds spdiameter=10:80")
    p.add_argument("--free", metavar="NAMES",
                   help="crystal models: parameters held by default but refined here, e.g. qbroad,delta1")
    add_db_flag(p)
    p.add_argument("--out", required=True, metavar="FILE.csv", help="x, data, fitted and difference curves")
    p.add_argument("--values", metavar="FILE.csv",
                   help="also write the refined values: parameter, value, sigma, unit, refined, flag")
    p.add_argument("--params-out", metavar="FILE.csv",
                   help="one row: R_w, every value and its sigma, units in the column names")
    p.set_defaults(func=_cmd_refine)

    p = sub.add_parser("sweep", help="refine a family of clusters against G(r) or I(Q), ranked by R_w")
    p.add_argument("data", metavar="DATA", help="stored dataset id or data file")
    p.add_argument("--shape", choices=["icosahedron", "decahedron", "octahedron", "cuboctahedron",
                                       "truncated-octahedron", "sphere"], help="the family")
    p.add_argument("--element", help="chemical symbol, e.g. Au (default: the data header's composition)")
    p.add_argument("--cif", metavar="FILE", help="--shape sphere: cut the spheres from this crystal (cif) instead "
                                                 "of an element's fcc/bcc/hcp lattice")
    p.add_argument("--grid", help='parameter grid, e.g. "p=3..7,q=1,r=0..3", "shells=3..8", '
                                  '"diameter_angstrom=20..40:2.5" (default: the family\'s)')
    p.add_argument("--workers", type=int, help="worker processes (default: the number of cores)")
    add_scheduler_flag(p)
    p.add_argument("--alpha", type=float, default=0.05,
                   help="significance level of the test that marks candidates indistinguishable from the best "
                        "(default 0.05)")
    _fit_flags(p)
    p.add_argument("--start", action="append", metavar="NAME=VALUE",
                   help="start value of a parameter for every candidate (repeatable or comma-separated), "
                        "e.g. --start u=0.01,delta2=2")
    p.add_argument("--bounds", action="append", metavar="NAME=LOW:HIGH",
                   help="bounds of a parameter for every candidate, e.g. --bounds delta2=0:5,u=0.002:0.03")
    add_db_flag(p)
    p.add_argument("--out", required=True, metavar="FILE.csv", help="the ranking, best first")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("jobs", help="list background jobs, or show or cancel one")
    p.add_argument("id", metavar="ID", nargs="?", help="a job id")
    p.add_argument("--cancel", action="store_true", help="cancel the job")
    add_db_flag(p)
    p.set_defaults(func=_cmd_jobs)
