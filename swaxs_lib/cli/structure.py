"""Commands on structures: ``cluster``, ``debye`` and ``pdf``."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np

from swaxs_lib.cli.common import out_path, q_grid, say, write_csv
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.measurement import MAX_R_ANGSTROM
from swaxs_lib.io.measurement import VALUE_COLUMNS, X_COLUMNS


def _structure_args(parser: argparse.ArgumentParser, from_file: bool = True, with_data: bool = False) -> None:
    group = parser.add_argument_group("structure (a file, or the cluster flags)")
    if from_file:
        group.add_argument("--structure", metavar="FILE", help="read the cluster from an xyz/extxyz/cif/pdb file")
    group.add_argument("--shape", choices=list(_shape_names()), help="cluster shape to build")
    group.add_argument("--element", help="chemical symbol, e.g. Au" + (
        " (default: the one the data header's composition names)" if with_data else ""))
    group.add_argument("--shells", type=int, help="icosahedron/cuboctahedron shells (central atom = shell 1)")
    group.add_argument("--pqr", metavar="P,Q,R", help="Marks decahedron indices, e.g. 3,1,2")
    group.add_argument("--length", type=int, help="octahedron edge length in atoms")
    group.add_argument("--cutoff", type=int, help="octahedron layers cut at each vertex")
    group.add_argument("--diameter-angstrom", type=float, help="sphere diameter (Å)")
    group.add_argument("--lattice", choices=["fcc", "bcc", "hcp"], help="sphere lattice (default fcc)")
    group.add_argument("--lattice-constant-angstrom", type=float, help="lattice constant a (Å); element's own by default")
    group.add_argument("--cif", metavar="FILE",
                       help="a crystal (cif): --shape sphere cuts the sphere from it instead of --lattice, elements "
                            "and all (refine --model crystal/nanoparticle: the periodic structure)")


def _shape_names() -> tuple[str, ...]:
    """``swaxs_lib.structures.SHAPES``'s names, from the flag table below: importing the builders for the parser
    would load ase.build and xraydb (~1 s) in every command (tests/test_cli.py checks the two agree)."""
    return tuple(_SHAPE_FLAGS)


#: Flags (as argparse dest names, which are the builders' keyword names) each shape takes.
_SHAPE_FLAGS: dict[str, tuple[str, ...]] = {
    "icosahedron": ("shells",),
    "decahedron": ("pqr",),
    "octahedron": ("length", "cutoff"),
    "cuboctahedron": ("shells", "length", "cutoff"),
    "truncated-octahedron": ("length", "cutoff"),
    "sphere": ("diameter_angstrom", "lattice"),
}
_ALL_SHAPE_FLAGS = frozenset(k for flags in _SHAPE_FLAGS.values() for k in flags)
#: Builder parameters that are named like their flag, and p, q, r which come from --pqr.
_PARAMETER_FLAGS = {**{k: k for k in _ALL_SHAPE_FLAGS | {"element", "lattice_constant_angstrom"}}, "p": "pqr", "q": "pqr", "r": "pqr"}
_REQUIRED = {
    "icosahedron": ("shells",),
    "decahedron": ("pqr",),
    "octahedron": ("length",),
    "truncated-octahedron": ("length",),
    "sphere": ("diameter_angstrom",),
}


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def cluster_from_args(args: argparse.Namespace):
    """Build or read the cluster the structure flags describe."""
    from swaxs_lib.structures import build_cluster, read_structure

    structure = getattr(args, "structure", None)
    if structure is not None:
        given = sorted(_flag(k) for k in _ALL_SHAPE_FLAGS | {"shape", "element", "lattice_constant_angstrom"}
                       if getattr(args, k, None) is not None)
        if given:
            raise SwaxsInputError(f"--structure: cannot be combined with {', '.join(given)}; expected a file or the cluster flags")
        return read_structure(structure)
    if args.shape is None:
        raise SwaxsInputError("--shape: missing; expected --structure FILE or --shape with --element")
    if getattr(args, "cif", None) is not None:
        return _crystal_sphere_from_args(args)
    if args.element is None:
        raise SwaxsInputError(f"--element: missing; expected a chemical symbol for the {args.shape}")
    allowed = _SHAPE_FLAGS[args.shape]
    for name in sorted(_ALL_SHAPE_FLAGS):
        if getattr(args, name, None) is not None and name not in allowed:
            raise SwaxsInputError(
                f"{_flag(name)}: not used by --shape {args.shape}; expected {' '.join(_flag(k) for k in allowed)}"
            )
    for name in _REQUIRED.get(args.shape, ()):
        if getattr(args, name) is None:
            raise SwaxsInputError(f"{_flag(name)}: missing; --shape {args.shape} needs it")
    params: dict[str, Any] = {k: getattr(args, k) for k in allowed if getattr(args, k) is not None}
    if "pqr" in params:
        params.update(_parse_pqr(params.pop("pqr")))
    if args.shape == "cuboctahedron" and "shells" not in params:
        length, cutoff = params.pop("length", None), params.pop("cutoff", None)
        if length is None or cutoff is None or length != 2 * cutoff + 1:
            raise SwaxsInputError(
                f"--shells: missing; --shape cuboctahedron needs --shells N or --length L --cutoff C with L = 2C+1 (got {length}, {cutoff})"
            )
        params["shells"] = cutoff + 1
    elif args.shape == "cuboctahedron" and ("length" in params or "cutoff" in params):
        raise SwaxsInputError("--shells: give either --shells or --length/--cutoff for a cuboctahedron, not both")
    if args.lattice_constant_angstrom is not None:
        params["lattice_constant_angstrom"] = args.lattice_constant_angstrom
    try:
        return build_cluster(args.shape, args.element, **params)
    except SwaxsInputError as exc:
        raise SwaxsInputError(_name_flag(str(exc))) from None


def _crystal_sphere_from_args(args: argparse.Namespace):
    """``--shape sphere --cif FILE --diameter-angstrom D``: a sphere cut from the crystal in the file."""
    from swaxs_lib.structures.builders import crystal_sphere
    from swaxs_lib.structures.readers import read_crystal_cell

    if args.shape != "sphere":
        raise SwaxsInputError(f"--cif: a cluster is cut from a crystal only as --shape sphere; got --shape {args.shape}")
    given = sorted(_flag(k) for k in ("element", "lattice", "lattice_constant_angstrom") if getattr(args, k, None))
    if given:
        raise SwaxsInputError(f"--cif: the crystal sets the elements and lattice; expected no {', '.join(given)}")
    if args.diameter_angstrom is None:
        raise SwaxsInputError("--diameter-angstrom: missing; --shape sphere needs it")
    try:
        return crystal_sphere(read_crystal_cell(args.cif), args.diameter_angstrom)
    except SwaxsInputError as exc:
        raise SwaxsInputError(_name_flag(str(exc))) from None


def _name_flag(message: str) -> str:
    """Replace a builder parameter name at the start of ``message`` by its flag."""
    name, sep, rest = message.partition(": ")
    if sep and name in _PARAMETER_FLAGS:
        return f"{_flag(_PARAMETER_FLAGS[name])}: {rest}"
    return message


def _parse_pqr(text: str) -> dict[str, int]:
    parts = str(text).split(",")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 3:
        raise SwaxsInputError(f"--pqr: got {text!r}; expected three integers P,Q,R such as 3,1,2")
    return dict(zip("pqr", values))


def _check_scattering_flags(args: argparse.Namespace) -> None:
    """Check the flags shared by debye and pdf before any work, naming each flag."""
    from swaxs_lib.scattering.form_factors import check_energy_kev

    if args.b_iso is not None and not (np.isfinite(args.b_iso) and args.b_iso >= 0):
        raise SwaxsInputError(f"--b-iso: got {args.b_iso}; expected a number >= 0 (Å²)")
    if args.energy_kev is not None:
        try:
            check_energy_kev(args.energy_kev)
        except SwaxsInputError as exc:
            raise SwaxsInputError(f"--energy-kev: {str(exc).split(': ', 1)[1]}") from None



def _cmd_cluster(args: argparse.Namespace) -> dict[str, Any]:
    from ase.io import write

    out = out_path(args.out, (".xyz", ".extxyz", ".cif", ".pdb"))
    cluster = cluster_from_args(args)
    atoms = cluster.atoms
    fmt = {".xyz": "extxyz", ".extxyz": "extxyz", ".cif": "cif", ".pdb": "proteindatabank"}[out.suffix.lower()]
    if fmt == "extxyz":
        # symbols and positions only: other readers take extra columns for occupancies
        write(out, atoms, format=fmt, columns=["symbols", "positions"], write_info=False)
    else:
        write(out, atoms, format=fmt)
    return {"out": str(out), **cluster.info.to_dict()}


def _eta(n_atoms: int) -> str:
    """``"; pair histogram: 5e+09 pairs, about 17 s"`` before a histogram expected to take a second or more."""
    from swaxs_lib.scattering.histogram import time_estimate

    text = time_estimate(n_atoms)
    return f"; pair histogram: {text}" if text else ""


def _cmd_debye(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.scattering import debye_intensity

    out = out_path(args.out, (".csv",))
    q = q_grid(args.q_min, args.q_max, args.q_points)
    _check_scattering_flags(args)
    cluster = cluster_from_args(args)
    mode = "exact" if args.exact else "fast"
    say(f"Debye I(Q), {mode} mode: {cluster.info.n_atoms} atoms, {len(q)} Q points"
        + (_eta(cluster.info.n_atoms) if mode == "fast" else ""))
    if mode == "exact":
        # about 4 ns per pair and Q point per core on the 2-core reference machine
        minutes = cluster.info.n_atoms**2 / 2 * len(q) * 4e-9 / max(os.cpu_count() or 1, 1) / 60
        if minutes > 1:
            say(f"the exact sum will take roughly {minutes:.0f} min; the default fast mode agrees to ~1e-7")
    start = time.perf_counter()
    curve = debye_intensity(
        cluster.atoms, q, mode=mode, b_iso_angstrom2=args.b_iso, energy_kev=args.energy_kev,
        form_factor_source=args.form_factor,
    )
    seconds = time.perf_counter() - start
    write_csv(out, {X_COLUMNS["q"]: q, VALUE_COLUMNS["iq"]: curve.intensity})
    return {
        "out": str(out), "mode": mode, "q_points": len(q), "seconds": round(seconds, 4),
        "intensity_at_q_min": float(curve.intensity[0]), "bin_width_angstrom": curve.bin_width_angstrom,
        "cluster": cluster.info.to_dict(),
    }


def _cmd_pdf(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.scattering import pair_distribution

    out = out_path(args.out, (".csv",))
    if not (np.isfinite(args.r_step) and args.r_step > 0):
        raise SwaxsInputError(f"--r-step: got {args.r_step}; expected a number > 0 (Å)")
    if not (np.isfinite(args.r_min) and args.r_min >= 0 and np.isfinite(args.r_max) and args.r_max > args.r_min):
        raise SwaxsInputError(f"--r-max: got r range {args.r_min}..{args.r_max}; expected 0 <= --r-min < --r-max (Å)")
    if args.r_max > MAX_R_ANGSTROM:
        raise SwaxsInputError(f"--r-max: got {args.r_max:g}; expected at most {MAX_R_ANGSTROM:g} Å")
    n_r = int(np.floor((args.r_max - args.r_min) / args.r_step + 1e-9)) + 1
    if n_r > 1_000_000:
        raise SwaxsInputError(f"--r-step: gives {n_r:.3g} points; expected at most 1000000")
    r = args.r_min + args.r_step * np.arange(n_r)
    q_grid(args.q_min, args.q_max, 2)
    _check_scattering_flags(args)
    if not (np.isfinite(args.qdamp) and args.qdamp >= 0):
        raise SwaxsInputError(f"--qdamp: got {args.qdamp}; expected a number >= 0 (1/Å)")
    cluster = cluster_from_args(args)
    say(f"G(r): {cluster.info.n_atoms} atoms, Q {args.q_min}..{args.q_max} 1/Å, {n_r} r points"
        + _eta(cluster.info.n_atoms))
    start = time.perf_counter()
    curve = pair_distribution(
        cluster.atoms, r, args.q_min, args.q_max, b_iso_angstrom2=args.b_iso, energy_kev=args.energy_kev,
        form_factor_source=args.form_factor, q_damp_inv_angstrom=args.qdamp, small_angle=args.small_angle,
    )
    seconds = time.perf_counter() - start
    write_csv(out, {X_COLUMNS["r"]: r, VALUE_COLUMNS["gr"]: curve.g})
    return {
        "out": str(out), "r_points": n_r, "q_min_inv_angstrom": args.q_min, "q_max_inv_angstrom": args.q_max,
        "small_angle": args.small_angle, "seconds": round(seconds, 4), "g_max": float(curve.g.max()),
        "cluster": cluster.info.to_dict(),
    }


def _scattering_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--b-iso", type=float, default=0.0, help="Debye–Waller B (Å²) for every element (default 0)")
    parser.add_argument("--energy-kev", type=float, help="X-ray energy (keV) for anomalous f', f''")
    parser.add_argument("--form-factor", choices=["xraydb", "constant"], default="xraydb",
                        help="xraydb: Waasmaier–Kirfel f0(Q); constant: f = Z (default xraydb)")


def register(sub) -> None:
    """Add the cluster, debye and pdf commands to ``sub`` (argparse subparsers)."""
    p = sub.add_parser("cluster", help="build a cluster, write it to a file, print its metadata")
    _structure_args(p, from_file=False)
    p.add_argument("--out", required=True, metavar="FILE", help="output .xyz, .extxyz, .cif or .pdb")
    p.set_defaults(func=_cmd_cluster)

    p = sub.add_parser("debye", help="Debye I(Q) of a cluster to CSV (q_inv_angstrom,intensity)")
    _structure_args(p)
    p.add_argument("--q-min", type=float, default=0.5, help="first Q (1/Å, default 0.5)")
    p.add_argument("--q-max", type=float, default=20.0, help="last Q (1/Å, default 20)")
    p.add_argument("--q-points", type=int, default=1000, help="number of Q points (default 1000)")
    p.add_argument("--exact", action="store_true", help="term-by-term pair sum instead of the fast histogram")
    _scattering_args(p)
    p.add_argument("--out", required=True, metavar="FILE.csv")
    p.set_defaults(func=_cmd_debye)

    p = sub.add_parser("pdf", help="cluster G(r) to CSV (r_angstrom,g_inv_angstrom2)")
    _structure_args(p)
    p.add_argument("--r-min", type=float, default=1.0, help="first r (Å, default 1)")
    p.add_argument("--r-max", type=float, default=30.0, help="last r (Å, default 30)")
    p.add_argument("--r-step", type=float, default=0.01, help="r step (Å, default 0.01)")
    p.add_argument("--q-min", type=float, default=0.5, help="Q_min of the transform (1/Å, default 0.5)")
    p.add_argument("--q-max", type=float, default=25.0, help="Q_max of the transform (1/Å, default 25)")
    p.add_argument("--qdamp", type=float, default=0.0, help="Q damping (1/Å): envelope exp(-(r qdamp)²/2)")
    p.add_argument("--small-angle", choices=["subtract", "keep"], default="subtract",
                   help="take the particle's small-angle scattering out, as PDF extraction does with measured data "
                        "(default), or keep the plain Debye transform (diffpy's DebyePDFCalculator)")
    _scattering_args(p)
    p.add_argument("--out", required=True, metavar="FILE.csv")
    p.set_defaults(func=_cmd_pdf)
