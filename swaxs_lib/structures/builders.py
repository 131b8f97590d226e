"""Cluster builders: icosahedra, Marks decahedra, octahedra and their
truncations, and spheres cut from fcc, bcc or hcp lattices or any crystal.

Every builder returns plain ``ase.Atoms`` (centred on the centroid, no cell,
no periodicity, shell index in ``tags`` where the shape has shells) and a
:class:`~swaxs_lib.structures.metadata.ClusterInfo`.

Shell convention (ASE's ``noshells``): the central atom is shell 1, so
``shells=2`` is the 13-atom cluster and ``shells=3`` the 55-atom one.

References
----------
.. [1] A. L. Mackay, Acta Cryst. 15, 916 (1962) -- icosahedra.
.. [2] L. D. Marks, Philos. Mag. A 49, 81 (1984) -- Marks decahedra (p, q, r).
.. [3] C. L. Cleveland and U. Landman, J. Chem. Phys. 94, 7376 (1991) --
   the 75-, 101- and 146-atom Marks decahedra.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.cluster import Decahedron, Icosahedron, Octahedron

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.structures.elements import (
    check_element,
    check_lattice,
    hcp_c_over_a,
    lattice_constant,
)
from swaxs_lib.structures.metadata import ClusterInfo, describe

#: Largest cluster a builder makes; beyond this the Debye sum stops being live.
MAX_ATOMS = 2_000_000
#: Most sites of the block of cells a sphere is cut from (a flat cell would need far more than the sphere holds).
MAX_BLOCK_ATOMS = 4 * MAX_ATOMS


#: p + 2r beyond which a decahedron has more than MAX_ATOMS atoms whatever q is.
_MAX_DECAHEDRON_RINGS = 2000

#: Lattice constants (Å) accepted: wider than any element's, narrow enough to catch unit slips.
LATTICE_CONSTANT_RANGE_ANGSTROM = (1.0, 20.0)


@dataclass(frozen=True)
class Cluster:
    """A built cluster: the atoms and what they are.

    Attributes
    ----------
    atoms : ase.Atoms
        Centred, no cell, shell index in ``tags`` where defined.
    info : ClusterInfo
        Shape, parameters and measured size.
    """

    atoms: Atoms
    info: ClusterInfo


def icosahedron(element: str, shells: int, lattice_constant_angstrom: float | None = None) -> Cluster:
    """Mackay icosahedron with ``shells`` shells (13, 55, 147, 309 ... atoms).

    Parameters
    ----------
    element : str
        Chemical symbol.
    shells : int
        Number of shells, the central atom counting as shell 1 (>= 1).
    lattice_constant_angstrom : float, optional
        fcc lattice constant (Å) setting the bond length; the element's own by
        default.

    Returns
    -------
    Cluster

    Examples
    --------
    >>> icosahedron("Au", 3).info.n_atoms
    55
    """
    symbol, a = _element_and_a(element, lattice_constant_angstrom)
    _check_int("shells", shells, 1)
    k = int(shells)
    _check_size((10 * k**3 - 15 * k**2 + 11 * k - 3) // 3, "shells")
    atoms = Icosahedron(symbol, noshells=k, latticeconstant=a)
    return _finish(atoms, "icosahedron", {"shells": int(shells)}, a)


def decahedron(
    element: str, p: int, q: int, r: int, lattice_constant_angstrom: float | None = None
) -> Cluster:
    """Marks decahedron (p, q, r).

    ``p`` atoms on the (100) facet edges perpendicular to the five-fold axis,
    ``q`` along it, ``r`` the depth of the Marks re-entrance.  ``q = 1, r = 0``
    is the regular decahedron (7, 23, 54, 105 ... atoms), ``r = 0`` the Ino
    decahedron (``p = q`` gives 13, 55, 147 ...), (2, 2, 1) the 75-atom Marks
    decahedron.

    Parameters
    ----------
    element : str
        Chemical symbol.
    p, q : int
        >= 1.
    r : int
        >= 0.
    lattice_constant_angstrom : float, optional
        fcc lattice constant (Å).

    Returns
    -------
    Cluster
    """
    symbol, a = _element_and_a(element, lattice_constant_angstrom)
    _check_int("p", p, 1)
    _check_int("q", q, 1)
    _check_int("r", r, 0)
    if int(p) + 2 * int(r) > _MAX_DECAHEDRON_RINGS or int(q) > MAX_ATOMS:
        # 5 (g - 1) columns of at least q atoms: far beyond MAX_ATOMS, no need to count
        _check_size(math.inf, "pqr")
    _check_size(decahedron_atom_count(int(p), int(q), int(r)), "pqr")
    atoms = Decahedron(symbol, int(p), int(q), int(r), latticeconstant=a)
    return _finish(atoms, "decahedron", {"p": int(p), "q": int(q), "r": int(r)}, a)


def decahedron_atom_count(p: int, q: int, r: int) -> int:
    """Number of atoms in the Marks decahedron (p, q, r), without building it.

    The five-fold axis holds h = p + q + 2r - 1 atoms.  Ring n (1 <= n < p + 2r)
    of each of the five twin segments holds columns of h - n atoms at the
    lattice sites (s, t), s + t = n, s >= 1, t >= 0, of which the Marks
    re-entrance keeps those with s, t <= p + r - 1.
    """
    h = p + q + 2 * r - 1
    g = p + 2 * r
    edge = p + r - 1
    total = h
    for n in range(1, g):
        sites = min(n - 1, edge) - max(0, n - edge) + 1
        total += 5 * (h - n) * max(0, sites)
    return total


def octahedron(
    element: str, length: int, cutoff: int = 0, lattice_constant_angstrom: float | None = None
) -> Cluster:
    """fcc octahedron of ``length`` atoms per edge, ``cutoff`` layers cut from each vertex.

    ``cutoff = 0`` is the regular octahedron (6, 19, 44, 85 ... atoms);
    ``length = 2 cutoff + 1`` is the cuboctahedron and ``length = 3 cutoff + 1``
    the regular truncated octahedron (38, 201, 586 ... atoms).

    Parameters
    ----------
    element : str
        Chemical symbol.
    length : int
        Atoms along an edge of the untruncated octahedron (>= 1).
    cutoff : int
        Layers removed at each vertex, 0 <= 2 cutoff + 1 <= length.
    lattice_constant_angstrom : float, optional
        fcc lattice constant (Å).

    Returns
    -------
    Cluster
    """
    return _octahedron(element, length, cutoff, lattice_constant_angstrom, "octahedron")


def cuboctahedron(element: str, shells: int, lattice_constant_angstrom: float | None = None) -> Cluster:
    """Cuboctahedron with ``shells`` shells (13, 55, 147, 309 ... atoms).

    The same cluster as ``octahedron(length=2 shells - 1, cutoff=shells - 1)``.
    """
    _check_int("shells", shells, 1)
    return _octahedron(
        element, 2 * int(shells) - 1, int(shells) - 1, lattice_constant_angstrom, "cuboctahedron",
        parameters={"shells": int(shells)},
    )


def truncated_octahedron(
    element: str, length: int, cutoff: int | None = None, lattice_constant_angstrom: float | None = None
) -> Cluster:
    """Truncated octahedron; ``cutoff`` defaults to the regular (length - 1) // 3."""
    if cutoff is None:
        _check_int("length", length, 4)  # the regular truncation (length - 1) // 3 is 0 below 4
        cutoff = (int(length) - 1) // 3
    _check_int("length", length, 3)
    _check_int("cutoff", cutoff, 1)
    return _octahedron(element, length, cutoff, lattice_constant_angstrom, "truncated-octahedron")


def lattice_sphere(
    element: str,
    diameter_angstrom: float,
    lattice: str = "fcc",
    lattice_constant_angstrom: float | None = None,
) -> Cluster:
    """All lattice sites within a sphere of ``diameter_angstrom`` centred on a site.

    Parameters
    ----------
    element : str
        Chemical symbol.
    diameter_angstrom : float
        Sphere diameter (Å), > 0.  A site exactly on the surface is kept.
    lattice : {"fcc", "bcc", "hcp"}
        Lattice to cut from.
    lattice_constant_angstrom : float, optional
        Lattice constant a (Å); the element's own, or one keeping its
        nearest-neighbour distance.  hcp uses the element's c/a, else ideal.

    Returns
    -------
    Cluster
    """
    symbol = check_element(element)
    check_lattice(lattice)
    diameter = _positive_float("diameter_angstrom", diameter_angstrom)
    a = lattice_constant(symbol, lattice) if lattice_constant_angstrom is None else _lattice_constant(
        lattice_constant_angstrom
    )
    per_atom = {"fcc": a**3 / 4, "bcc": a**3 / 2, "hcp": a * a * math.sqrt(3) / 2 * a * hcp_c_over_a(symbol) / 2}
    ratio = diameter / per_atom[lattice] ** (1 / 3)
    _check_size(math.pi / 6 * ratio * ratio * ratio if ratio < 1e6 else math.inf, "diameter_angstrom")
    if lattice == "hcp":
        cell = bulk(symbol, "hcp", a=a, c=a * hcp_c_over_a(symbol), orthorhombic=True)
    else:
        cell = bulk(symbol, lattice, a=a, cubic=True)
    radius = diameter / 2
    reps = [int(math.ceil(radius / length)) + 1 for length in cell.cell.lengths()]
    sites = cell.repeat([2 * n + 1 for n in reps])
    middle = sites.positions.mean(axis=0)
    centre = sites.positions[np.argmin(np.linalg.norm(sites.positions - middle, axis=1))]
    pos = sites.positions - centre
    keep = np.linalg.norm(pos, axis=1) <= radius * (1 + 1e-9)
    atoms = Atoms(symbols=[symbol] * int(keep.sum()), positions=pos[keep])
    params = {"diameter_angstrom": diameter, "lattice": lattice}
    return _finish(atoms, "sphere", params, a)


def crystal_sphere(crystal: Atoms, diameter_angstrom: float) -> Cluster:
    """All sites of a periodic crystal within a sphere of ``diameter_angstrom`` centred on a site.

    The sphere of :func:`lattice_sphere`, cut from any crystal (a cif's unit
    cell: wurtzite CdSe, an alloy, an oxide) rather than an element's fcc, bcc
    or hcp lattice.  It is centred on the site nearest the middle of the block
    of cells it is cut from.

    Parameters
    ----------
    crystal : ase.Atoms
        A unit cell with its three lattice vectors and every site
        (:func:`~swaxs_lib.structures.readers.read_crystal_cell`).
    diameter_angstrom : float
        Sphere diameter (Å), > 0.  A site exactly on the surface is kept.

    Returns
    -------
    Cluster
        ``info.parameters``: ``diameter_angstrom`` and ``crystal`` (the cell's
        empirical formula, e.g. ``CdSe``).

    Raises
    ------
    SwaxsInputError
        A cell without volume, more than :data:`MAX_ATOMS` atoms expected.
    """
    diameter = _positive_float("diameter_angstrom", diameter_angstrom)
    volume = abs(float(crystal.cell.volume)) if crystal.cell.rank == 3 else 0.0
    if len(crystal) == 0 or volume <= 0:
        raise SwaxsInputError("crystal: no unit cell with volume and atoms; expected a periodic crystal (a cif)")
    per_atom = volume / len(crystal)
    _check_size(math.pi / 6 * diameter**3 / per_atom, "diameter_angstrom")
    radius = diameter / 2
    # enough cells that the sphere fits whatever the cell's shape: the distance between opposite faces
    heights = volume / np.linalg.norm(np.cross(crystal.cell[[1, 2, 0]], crystal.cell[[2, 0, 1]]), axis=1)
    reps = [int(math.ceil(radius / h)) + 1 for h in heights]
    block_atoms = len(crystal) * math.prod(2 * n + 1 for n in reps)
    if block_atoms > MAX_BLOCK_ATOMS:
        raise SwaxsInputError(f"crystal: a {diameter:g} Å sphere needs a block of {block_atoms} sites of this cell; "
                              f"expected at most {MAX_BLOCK_ATOMS} (cell heights {', '.join(f'{h:.3g}' for h in heights)} Å)")
    block = Atoms(crystal.get_chemical_symbols(), scaled_positions=crystal.get_scaled_positions(wrap=True),
                  cell=crystal.cell, pbc=True).repeat([2 * n + 1 for n in reps])
    middle = block.cell.sum(axis=0) / 2
    centre = block.positions[np.argmin(np.linalg.norm(block.positions - middle, axis=1))]
    pos = block.positions - centre
    keep = np.linalg.norm(pos, axis=1) <= radius * (1 + 1e-9)
    atoms = Atoms(symbols=np.array(block.get_chemical_symbols())[keep].tolist(), positions=pos[keep])
    if len(atoms) < 2:
        raise SwaxsInputError(f"diameter_angstrom: got {diameter:g}; expected a sphere holding at least two sites")
    params = {"diameter_angstrom": diameter, "crystal": crystal.get_chemical_formula(mode="metal", empirical=True)}
    return _finish(atoms, "sphere", params, float(crystal.cell.lengths()[0]))


def _octahedron(element, length, cutoff, lattice_constant_angstrom, shape, parameters=None) -> Cluster:
    symbol, a = _element_and_a(element, lattice_constant_angstrom)
    _check_int("length", length, 1)
    _check_int("cutoff", cutoff, 0)
    length, cutoff = int(length), int(cutoff)
    if 2 * cutoff + 1 > length:
        raise SwaxsInputError(
            f"cutoff: got {cutoff} with length {length}; expected 2*cutoff+1 <= length"
        )
    # octahedral number minus the six square pyramids cut from the vertices
    _check_size(length * (2 * length**2 + 1) // 3 - cutoff * (cutoff + 1) * (2 * cutoff + 1), "shells" if parameters else "length")
    atoms = Octahedron(symbol, length, cutoff, latticeconstant=a)
    atoms = Atoms(atoms)
    if shape == "cuboctahedron":
        atoms.set_tags(_cuboctahedral_shells(atoms.positions - atoms.positions.mean(axis=0), a))
    return _finish(atoms, shape, parameters or {"length": length, "cutoff": cutoff}, a)


def _cuboctahedral_shells(positions: np.ndarray, a: float) -> np.ndarray:
    # In units of a/2 a site of shell k (centre = 1) has max(|x|+|y|+|z|)/2, max|x_i|) = k - 1.
    u = np.abs(positions / (a / 2))
    k = np.maximum(u.sum(axis=1) / 2, u.max(axis=1))
    return np.rint(k).astype(int) + 1


#: Largest |coordinate| (Å) a cluster's atoms may have: numerical safety (squared distances and neighbour
#: searches stay finite); the structure readers' extent bound is far tighter.
MAX_COORDINATE_ANGSTROM = 1.0e6


def _finish(atoms: Atoms, shape: str, parameters: dict, a: float | None) -> Cluster:
    outside = ~np.all(np.abs(atoms.positions) <= MAX_COORDINATE_ANGSTROM, axis=1)  # also NaN
    if outside.any():
        i = int(np.argmax(outside))
        where = ", ".join(f"{c} = {v:.4g}" for c, v in zip("xyz", atoms.positions[i]))
        raise SwaxsInputError(f"{parameters.get('file', shape)}: atom {i + 1} ({atoms[i].symbol}) at {where} Å; "
                              f"expected finite coordinates within ±{MAX_COORDINATE_ANGSTROM:g} Å")
    atoms = Atoms(
        symbols=atoms.get_chemical_symbols(),
        positions=atoms.positions - atoms.positions.mean(axis=0),
        tags=atoms.get_tags(),
    )
    return Cluster(atoms=atoms, info=describe(atoms, shape, parameters, a))


def _element_and_a(element: str, lattice_constant_angstrom: float | None) -> tuple[str, float]:
    symbol = check_element(element)
    if lattice_constant_angstrom is None:
        return symbol, lattice_constant(symbol, "fcc")
    return symbol, _lattice_constant(lattice_constant_angstrom)


def _lattice_constant(value) -> float:
    a = _positive_float("lattice_constant_angstrom", value)
    low, high = LATTICE_CONSTANT_RANGE_ANGSTROM
    if not low <= a <= high:
        raise SwaxsInputError(f"lattice_constant_angstrom: got {value!r}; expected between {low} and {high} Å")
    return a


def _check_int(name: str, value, minimum: int) -> None:
    ok = isinstance(value, (int, np.integer)) or (isinstance(value, (float, np.floating)) and float(value).is_integer())
    if isinstance(value, bool) or not ok or int(value) < minimum:
        raise SwaxsInputError(f"{name}: got {value!r}; expected an integer >= {minimum}")


def _positive_float(name: str, value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise SwaxsInputError(f"{name}: got {value!r}; expected a positive number") from None
    if not math.isfinite(x) or x <= 0:
        raise SwaxsInputError(f"{name}: got {value!r}; expected a positive number")
    return x


def _check_size(n_atoms: float, parameter: str) -> None:
    if n_atoms > MAX_ATOMS:
        count = f"far more than {MAX_ATOMS}" if n_atoms == math.inf else f"about {int(n_atoms)}"
        raise SwaxsInputError(f"{parameter}: gives {count} atoms; expected at most {MAX_ATOMS} atoms")
