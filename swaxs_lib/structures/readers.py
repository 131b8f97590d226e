"""Read a cluster from an xyz, extxyz, cif or pdb file through ASE, or a crystal's unit cell from a cif."""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.io import read

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.private_file import private_copy
from swaxs_lib.structures.bounds import (
    MIN_DISTANCE_ANGSTROM,
    check_cell_parameters,
    check_geometry,
    precheck_structure_file,
)
from swaxs_lib.structures.builders import MAX_ATOMS, Cluster, _finish
from swaxs_lib.structures.xyz import read_xyz_last_frame

#: File suffixes we read, and the ASE format used for each.
FORMATS = {".xyz": "xyz", ".extxyz": "extxyz", ".cif": "cif", ".pdb": "proteindatabank"}

#: Largest structure file accepted (bytes).
MAX_FILE_BYTES = 200 * 1024 * 1024

#: Largest uploaded structure accepted by :func:`read_structure_bytes` (bytes).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def read_structure(path: str | os.PathLike, fmt: str | None = None) -> Cluster:
    """Read a finite cluster from ``path``.

    The atoms are centred on their centroid and any cell is dropped: a cif of a
    crystal gives the atoms it lists, treated as a finite cluster (a warning
    says so).  For multi-frame files the last frame is read.

    Parameters
    ----------
    path : str or os.PathLike
        File with suffix .xyz, .extxyz, .cif or .pdb.
    fmt : str, optional
        ASE format name, overriding the suffix.

    Returns
    -------
    Cluster
        ``info.shape`` is ``"file"`` and ``info.parameters`` holds the file name.

    Raises
    ------
    SwaxsInputError
        Missing, empty, oversized or unreadable file, unknown suffix, unknown
        element symbols, non-finite coordinates, or any bound of
        :mod:`swaxs_lib.structures.bounds`: atom count (read from the count
        lines before parsing), extxyz columns, a cif's cell and expansion
        (before it is expanded), the atoms' extent, overlapping atoms.
    """
    p = Path(path)
    if not p.is_file():
        raise SwaxsInputError(f"{p}: no such file; expected a structure file (.xyz, .extxyz, .cif, .pdb)")
    size = p.stat().st_size
    if size == 0:
        raise SwaxsInputError(f"{p}: the file is empty; expected a structure file with atoms")
    if size > MAX_FILE_BYTES:
        raise SwaxsInputError(f"{p}: {size} bytes; expected at most {MAX_FILE_BYTES} bytes")
    if fmt is None:
        fmt = FORMATS.get(p.suffix.lower())
        if fmt is None:
            raise SwaxsInputError(
                f"{p}: unknown suffix {p.suffix!r}; expected one of {', '.join(FORMATS)}"
            )
    precheck_structure_file(p, fmt)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fmt == "cif":
                atoms = _cif_atoms(check_cif_before_expansion(p, MAX_ATOMS, MAX_ATOMS, cell=False), -1)
            elif fmt == "xyz":  # linear in the atoms; ASE's reference reader is quadratic
                atoms = read_xyz_last_frame(p)
            else:
                atoms = read(p, index=-1, format=fmt)
    except SwaxsInputError:
        raise
    except Exception as exc:  # ASE raises many types for malformed files
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SwaxsInputError(f"{p}: could not be read as {fmt} ({detail}); expected a valid {fmt} file") from None
    if not isinstance(atoms, Atoms) or len(atoms) == 0:
        raise SwaxsInputError(f"{p}: no atoms found; expected at least one atom")
    if len(atoms) > MAX_ATOMS:
        raise SwaxsInputError(f"{p}: {len(atoms)} atoms; expected at most {MAX_ATOMS}")
    if np.any(atoms.numbers <= 0):
        raise SwaxsInputError(f"{p}: unknown element symbols; expected chemical symbols such as Au")
    if not np.all(np.isfinite(atoms.positions)):
        raise SwaxsInputError(f"{p}: non-finite coordinates; expected finite x, y, z in Å")
    check_geometry(atoms.positions, atoms.numbers, str(p))
    if atoms.pbc.any():
        warnings.warn(f"{p}: periodic cell dropped; the {len(atoms)} listed atoms are treated as a finite cluster")
    return _finish(Atoms(atoms.get_chemical_symbols(), positions=atoms.positions), "file", {"file": p.name}, None)


def read_structure_bytes(data: bytes, filename: str) -> Cluster:
    """Read a finite cluster from the bytes of an uploaded file.

    The upload is untrusted: only the suffixes of :data:`FORMATS` are read
    (by ASE's text parsers, which never unpickle or evaluate), at most
    :data:`MAX_UPLOAD_BYTES`; the bytes go to a private temporary file that is
    read as :func:`read_structure` reads a path, with the same checks.

    Parameters
    ----------
    data : bytes
        The file's content.
    filename : str
        The name it was uploaded under; only its suffix (the format) and its
        base name (in messages and ``info.parameters``) are used.

    Returns
    -------
    Cluster
        ``info.shape`` is ``"file"``, ``info.parameters`` is ``{"file": name}``.

    Raises
    ------
    SwaxsInputError
        One line naming the file: too large, empty, unknown suffix, or content
        that is not a readable structure.

    Examples
    --------
    >>> read_structure_bytes(b"2\\n\\nAu 0 0 0\\nAu 0 0 2.88\\n", "dimer.xyz").info.n_atoms
    2
    """
    name = Path(str(filename)).name or "upload"
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SwaxsInputError(f"{name}: got {type(data).__name__}; expected the file's bytes")
    if len(data) > MAX_UPLOAD_BYTES:
        raise SwaxsInputError(f"{name}: {len(data)} bytes; expected at most {MAX_UPLOAD_BYTES} bytes")
    suffix = Path(name).suffix.lower()
    if suffix not in FORMATS:
        raise SwaxsInputError(f"{name}: unknown suffix {suffix!r}; expected one of {', '.join(FORMATS)}")
    with private_copy(bytes(data), name, suffix) as path, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cluster = read_structure(path)
    for w in caught:
        warnings.warn(str(w.message).replace(str(path), name), stacklevel=2)
    info = dataclasses.replace(cluster.info, parameters=(("file", name),))
    return dataclasses.replace(cluster, info=info)


#: Most sites a crystal's unit cell may list (a cif, read by :func:`read_crystal_cell`).
MAX_CELL_ATOMS = 2000
#: Smallest volume per site (Å³) of a unit cell: below any real solid's (diamond 5.7), above unit slips.
MIN_CELL_VOLUME_PER_ATOM = 2.0
#: Shortest distance (Å) between two sites, periodic images included, and shortest cell height
#: (the structures' bound, :data:`~swaxs_lib.structures.bounds.MIN_DISTANCE_ANGSTROM`).
MIN_SITE_DISTANCE_ANGSTROM = MIN_DISTANCE_ANGSTROM
#: Largest crystal cif (bytes), checked before its text is parsed: ASE's cif parser takes ~2 s a MB
#: (a 12 MB cif took 24 s); a cell of MAX_CELL_ATOMS sites in P1 is ~160 kB (the pages took 1 MB already).
MAX_CIF_BYTES = 1024 * 1024
#: Most sites a cif may list times its symmetry operations (checked before ASE expands them).
MAX_EXPANDED_SITES = 20_000


def read_crystal_cell(source: str | os.PathLike | bytes, name: str | None = None) -> Atoms:
    """A crystal's unit cell, every site of its space group, from a cif (path or bytes).

    The counterpart of :func:`read_structure` for periodic crystals: the cell
    is kept, the symmetry-equivalent sites are generated (ASE's cif reader),
    and the cell is checked before anyone repeats it: the listed sites times
    the symmetry operations at most :data:`MAX_EXPANDED_SITES` (counted before
    the expansion), at most :data:`MAX_CELL_ATOMS` sites, at least
    :data:`MIN_CELL_VOLUME_PER_ATOM` Å³ per site, no two sites (periodic images
    included) and no cell height below :data:`MIN_SITE_DISTANCE_ANGSTROM`, and
    every site fully occupied (a mixed or partly occupied site is refused, not
    silently given one element).

    Parameters
    ----------
    source : path or bytes
        A .cif file, or the bytes of an uploaded one (untrusted: read by ASE's
        text parser, at most :data:`MAX_CIF_BYTES`).
    name : str, optional
        The file's name in messages (bytes only).

    Returns
    -------
    ase.Atoms
        With its cell and ``pbc`` True.

    Raises
    ------
    SwaxsInputError
        One line naming the file: unreadable, no cell, too many sites, too
        dense, overlapping or partly occupied sites.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = Path(str(name or "upload.cif")).name
        if len(source) > MAX_CIF_BYTES:
            raise SwaxsInputError(f"{label}: {len(source)} bytes; expected a cif of at most {MAX_CIF_BYTES} bytes")
        with private_copy(bytes(source), label, ".cif") as path:
            return read_crystal_cell(path)
    p = Path(source)
    if not p.is_file() or p.stat().st_size == 0:
        raise SwaxsInputError(f"{p}: no such file or empty; expected a crystal structure (.cif)")
    if p.stat().st_size > MAX_CIF_BYTES:
        raise SwaxsInputError(f"{p}: {p.stat().st_size} bytes; expected a cif of at most {MAX_CIF_BYTES} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            atoms = _cif_atoms(check_cif_before_expansion(p), 0)
    except SwaxsInputError:
        raise
    except Exception as exc:  # ASE raises many types for malformed files
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SwaxsInputError(f"{p}: could not be read as a cif ({detail}); expected a crystal structure") from None
    if not isinstance(atoms, Atoms) or len(atoms) == 0 or atoms.cell.rank < 3:
        raise SwaxsInputError(f"{p}: no unit cell with atoms; expected a cif with cell lengths, angles and sites")
    if np.any(atoms.numbers <= 0):
        raise SwaxsInputError(f"{p}: unknown element symbols; expected chemical symbols such as Cd")
    check_unit_cell(str(p), np.asarray(atoms.cell), atoms.positions)
    mixed = [site for site, share in (atoms.info.get("occupancy") or {}).items()
             if len(share) > 1 or any(abs(float(x) - 1.0) > 1e-3 for x in share.values())]
    if mixed:
        raise SwaxsInputError(f"{p}: {len(mixed)} partly occupied or mixed site(s); expected fully occupied sites "
                              "(a disordered alloy is not one crystal)")
    atoms.pbc = True
    return atoms


def check_unit_cell(label: str, cell: np.ndarray, positions: np.ndarray) -> None:
    """Refuse a unit cell (expanded) that no one should repeat: too many sites, too dense, flat, or overlapping sites.

    Parameters
    ----------
    label : str
        The file, for messages.
    cell : numpy.ndarray (3, 3)
        Lattice vectors as rows (Å).
    positions : numpy.ndarray (n, 3)
        Cartesian positions of every site (Å).

    Raises
    ------
    SwaxsInputError
        More than :data:`MAX_CELL_ATOMS` sites, under :data:`MIN_CELL_VOLUME_PER_ATOM`
        Å³ per site, a cell height or two sites (periodic images included) nearer
        than :data:`MIN_SITE_DISTANCE_ANGSTROM`.
    """
    cell = np.asarray(cell, dtype=float)
    n_sites = len(positions)
    if n_sites > MAX_CELL_ATOMS:
        raise SwaxsInputError(f"{label}: {n_sites} sites in the unit cell; expected at most {MAX_CELL_ATOMS}")
    volume = abs(float(np.linalg.det(cell)))
    per_atom = volume / max(n_sites, 1)
    if not per_atom >= MIN_CELL_VOLUME_PER_ATOM:
        raise SwaxsInputError(f"{label}: {per_atom:.3g} Å³ per site; expected at least {MIN_CELL_VOLUME_PER_ATOM} Å³ "
                              "(cell lengths in Å)")
    heights = volume / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    if heights.min() < MIN_SITE_DISTANCE_ANGSTROM:
        raise SwaxsInputError(f"{label}: a cell height of {heights.min():.3g} Å; expected at least "
                              f"{MIN_SITE_DISTANCE_ANGSTROM} Å (cell lengths in Å)")
    if n_sites > 1:
        from ase.geometry import get_distances

        _, d = get_distances(np.asarray(positions, dtype=float), cell=cell, pbc=True)
        d[np.diag_indices_from(d)] = np.inf
        if d.min() < MIN_SITE_DISTANCE_ANGSTROM:
            raise SwaxsInputError(f"{label}: two sites {d.min():.3g} Å apart; expected at least "
                                  f"{MIN_SITE_DISTANCE_ANGSTROM} Å (a site listed twice, or a wrong coordinate)")


def check_cif_before_expansion(path: Path, max_sites: int = MAX_CELL_ATOMS,
                               max_expanded: int = MAX_EXPANDED_SITES, cell: bool = True) -> list:
    """Refuse a cif by what its text says, before any reader applies its symmetry; its parsed blocks.

    Every data block: cell lengths and angles
    (:func:`~swaxs_lib.structures.bounds.check_cell_parameters`, unless
    ``cell`` is false), at most ``max_sites`` listed sites, and the listed
    sites times the symmetry operations at most ``max_expanded`` (an upper
    bound of the expanded cell; a 36 KB cif expanded to 95,904 atoms).  A
    crystal's cell: the defaults; a cluster listed as a cif
    (:func:`read_structure`, whose box is dropped): :data:`MAX_ATOMS` and no
    cell bounds.

    Returns
    -------
    list of ase.io.cif.CIFBlock
        For :func:`_cif_atoms` (the text is parsed once).

    Raises
    ------
    SwaxsInputError
        One line naming the file and the bound.  ASE's parser raises its own
        errors for a file that is not a cif.
    """
    from ase.io.cif import parse_cif

    blocks = list(parse_cif(str(path)))
    for block in blocks:
        lengths = [block.get(f"_cell_length_{x}") for x in "abc"]
        angles = [block.get(f"_cell_angle_{x}", 90.0) for x in ("alpha", "beta", "gamma")]
        if cell and all(isinstance(v, (int, float)) for v in lengths + angles):
            check_cell_parameters(str(path), [float(v) for v in lengths], [float(v) for v in angles])
        sites = len(block.get("_atom_site_label") or block.get("_atom_site_type_symbol") or ())
        operations = len(block.get("_symmetry_equiv_pos_as_xyz") or block.get("_space_group_symop_operation_xyz")
                         or ())
        if not operations:  # only a space group's name or number: ASE expands with all its operations
            try:
                operations = block.get_spacegroup(True).nsymop
            except Exception:  # no or an unknown space group: ASE will say so when it reads the file
                operations = 1
        if sites > max_sites:  # every listed site is at least one site of the cell
            raise SwaxsInputError(f"{path}: {sites} sites listed; expected at most {max_sites}")
        if sites * operations > max_expanded:
            raise SwaxsInputError(f"{path}: {sites} sites x {operations} symmetry operations; expected at most "
                                  f"{max_expanded} sites in the unit cell")
    return blocks


def _cif_atoms(blocks: list, index: int) -> Atoms:
    """ASE's atoms of the cif block ``index`` (among those with atoms), skipping its symmetry pass in P 1.

    ASE compares every listed site with every orbit found so far in Python
    (2,700 sites in P 1 took 53 s); with one symmetry operation there is
    nothing to expand, so the listed sites are the atoms (duplicates are then
    refused by the distance checks instead of merged), and the occupancies go to
    ``info["occupancy"]`` as ASE puts them.
    """
    blocks = [block for block in blocks if block.has_structure()]
    if not blocks:
        raise ValueError("no atom sites")
    block = blocks[index]
    try:
        operations = block.get_spacegroup(True).nsymop
    except Exception:  # ASE reports it below
        operations = None
    if operations != 1 or block.get_cell().rank != 3:
        return block.get_atoms()
    atoms = block.get_unsymmetrized_structure()
    atoms.pbc = True
    occupancies = block.get("_atom_site_occupancy")
    if occupancies is not None:
        atoms.info["occupancy"] = {str(i): {symbol: float(share)} for i, (symbol, share)
                                   in enumerate(zip(atoms.get_chemical_symbols(), occupancies))}
    return atoms
