"""Write a cluster as xyz or cif text (for downloads; the command line writes files the same way)."""

from __future__ import annotations

import io
import math
import numbers

import numpy as np
from ase import Atoms
from ase.io import write

from swaxs_lib.errors import SwaxsInputError

#: Formats :func:`structure_text` writes, with the usual file suffix.
TEXT_FORMATS = {"xyz": ".xyz", "cif": ".cif"}

#: Empty space (Å) between the cluster and each face of the box a cif needs.
CIF_VACUUM_ANGSTROM = 10.0


def structure_text(atoms: Atoms, fmt: str, *, vacuum_angstrom: float = CIF_VACUUM_ANGSTROM) -> str:
    """The cluster as the text of an xyz or cif file.

    ``"xyz"`` is extended xyz holding symbols and positions only (Å), no cell,
    exactly as ``python -m swaxs_lib cluster --out X.xyz`` writes it: plain xyz
    readers see the usual four columns.

    ``"cif"`` puts the cluster in an orthorhombic P1 box, its extent plus
    ``vacuum_angstrom`` on every side, with fractional coordinates.  ASE could
    write a cell-less cif with Cartesian coordinates, but most crystallographic
    programs (VESTA, Mercury, pymatgen) need a cell; the box keeps periodic
    images at least ``2 vacuum_angstrom`` apart, so read the file as a finite
    cluster (swaxs's reader drops the cell, centring the atoms again).

    Parameters
    ----------
    atoms : ase.Atoms
        The cluster, positions in Å.
    fmt : {"xyz", "cif"}
        Output format.
    vacuum_angstrom : float
        Space around the cluster in the cif box (Å), > 0; ignored for xyz.

    Returns
    -------
    str

    Raises
    ------
    SwaxsInputError
        Unknown ``fmt``, no atoms, non-finite positions or a bad vacuum.

    Examples
    --------
    >>> from ase import Atoms
    >>> print(structure_text(Atoms("Au2", positions=[(0, 0, 0), (0, 0, 2.88)]), "xyz").splitlines()[0])
    2
    """
    if fmt not in TEXT_FORMATS:
        raise SwaxsInputError(f"fmt: got {fmt!r}; expected one of {', '.join(TEXT_FORMATS)}")
    if not isinstance(atoms, Atoms) or len(atoms) == 0:
        raise SwaxsInputError("atoms: got an empty structure; expected at least one atom")
    positions = np.asarray(atoms.positions, dtype=float)
    if not np.all(np.isfinite(positions)):
        raise SwaxsInputError("atoms: non-finite positions; expected finite x, y, z in Å")
    bare = Atoms(symbols=atoms.get_chemical_symbols(), positions=positions)
    if fmt == "xyz":
        out = io.StringIO()
        # symbols and positions only: other readers take extra columns for occupancies
        write(out, bare, format="extxyz", columns=["symbols", "positions"], write_info=False)
        return out.getvalue()
    if isinstance(vacuum_angstrom, bool) or not (
        isinstance(vacuum_angstrom, numbers.Real) and math.isfinite(vacuum_angstrom) and vacuum_angstrom > 0
    ):
        raise SwaxsInputError(f"vacuum_angstrom: got {vacuum_angstrom!r}; expected a positive number (Å)")
    low, high = positions.min(axis=0), positions.max(axis=0)
    box = (high - low) + 2 * vacuum_angstrom
    bare.positions = positions - low + vacuum_angstrom
    bare.cell = np.diag(box)
    bare.pbc = True
    data = io.BytesIO()  # ASE's cif writer writes bytes
    write(data, bare, format="cif")
    return data.getvalue().decode("utf-8")


__all__ = ["CIF_VACUUM_ANGSTROM", "TEXT_FORMATS", "structure_text"]
