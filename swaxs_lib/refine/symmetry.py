"""Which fractional coordinates of a crystal may refine without breaking its symmetry.

A cif written out in P1 (as many are, and as ours of wurtzite CdSe is) says
nothing about symmetry, and diffpy.srfit's ``constrainAsSpaceGroup`` needs the
space group given.  So the symmetry is found from the atoms themselves, as
spglib does (Togo & Tanaka 2018), in the cell as given:

1. rotations: the integer matrices R (entries -1, 0, 1, det ±1) that keep the
   metric tensor, R^T G R = G (the lattice's point group in this basis);
2. translations: for each R, the t = x_j - R x_0 (mod 1) that take one atom of
   the rarest element onto another of its kind; (R, t) is kept when it maps
   every atom onto an atom of the same element (within 0.01 Å);
3. the displacements u (N x 3, fractional) that every operation leaves
   unchanged, u_{g(i)} = R u_i, are the range of the projector
   P = (1/|G|) sum_g M_g (M_g the 3N x 3N matrix of g acting on u);
4. uniform shifts along the polar axes (the vectors v with R v = v for every R,
   e.g. c in P6_3mc) move the whole crystal and leave G(r) unchanged: they are
   removed by holding the first atom's coordinate along them, as PDFgui's
   wurtzite tutorial holds z(Cd) = 0;
5. the remaining subspace, in reduced row-echelon form over the columns
   (atom 1 x, y, z, atom 2 x, ...), gives one parameter per pivot: the pivot's
   own coordinate, named ``z_Se1`` after the cif's atom label; the atoms tied
   to it follow (z(Se2) = z(Se1) + 1/2).

The operations found are matched, for the report, against the 230 space groups
of diffpy.structure's tables in their standard settings.

References
----------
A. Togo and I. Tanaka, "Spglib: a software library for crystal symmetry
search", arXiv:1808.01590 (2018) -- the search of steps 1-2.
International Tables for Crystallography, Vol. A (2016), ch. 1.4 -- site
symmetry and free coordinates.

Validation
----------
Wurtzite CdSe (P1 cif): P6_3mc found, one free coordinate z(Se), tied as
diffpy.structure's ``SymmetryConstraints`` ties it for P6_3mc; fcc Ni: Fm-3m,
no free coordinate (``tests/test_refine_crystal.py``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from diffpy.structure import Structure

#: Atoms closer than this (Å) are taken as the same site.
TOLERANCE_ANGSTROM = 0.01
#: Above this many atoms in the cell the search is skipped (no coordinate refines).
MAX_ATOMS = 400


@dataclass(frozen=True)
class FreeCoordinates:
    """The symmetry-allowed fractional coordinates of a crystal.

    Attributes
    ----------
    names : tuple of str
        ``x_<label>``, ``y_<label>``, ``z_<label>``: one per free parameter.
    values : numpy.ndarray
        The parameters' values in the given structure (fractional).
    basis : numpy.ndarray
        (n_parameters, n_atoms, 3): the change of every atom's fractional
        coordinates per unit change of each parameter.
    xyz : numpy.ndarray
        (n_atoms, 3) fractional coordinates of the given structure.
    n_operations : int
        Symmetry operations found (centring translations included).
    space_group : str
        The matching space group of diffpy.structure's tables (standard
        setting), or ``"<n> operations"`` when none matches the cell as given.
    note : str
        Which coordinates were held to fix the origin, or why nothing refines.
    """

    names: tuple[str, ...]
    values: np.ndarray
    basis: np.ndarray
    xyz: np.ndarray
    n_operations: int
    space_group: str
    note: str = ""

    def positions(self, values) -> np.ndarray:
        """Fractional coordinates (n_atoms, 3) for parameter ``values``."""
        delta = np.asarray(values, dtype=float) - self.values
        return self.xyz + np.tensordot(delta, self.basis, axes=1) if len(delta) else self.xyz.copy()


@lru_cache(maxsize=8)
def _integer_matrices() -> np.ndarray:
    entries = np.array(list(itertools.product((-1, 0, 1), repeat=9)), dtype=float).reshape(-1, 3, 3)
    return entries[np.abs(np.abs(np.linalg.det(entries)) - 1) < 1e-9]


def _rotations(metric: np.ndarray) -> np.ndarray:
    """The integer matrices R with R^T G R = G (relative tolerance 1e-4)."""
    candidates = _integer_matrices()
    kept = np.einsum("kji,jl,klm->kim", candidates, metric, candidates)
    scale = np.max(np.abs(metric))
    ok = np.all(np.abs(kept - metric) <= 1e-4 * scale, axis=(1, 2))
    return candidates[ok]


def symmetry_operations(structure: Structure) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(R, t, permutation) of every operation that maps the crystal onto itself.

    ``permutation[i]`` is the atom that atom i goes to.  The identity is
    always among them.
    """
    xyz = np.asarray(structure.xyz, dtype=float) % 1.0
    elements = np.array([atom.element for atom in structure])
    metric = np.asarray(structure.lattice.metrics, dtype=float)
    kinds, counts = np.unique(elements, return_counts=True)
    rare = kinds[np.argmin(counts)]
    anchor = int(np.flatnonzero(elements == rare)[0])
    targets = np.flatnonzero(elements == rare)
    same = elements[:, None] == elements[None, :]
    tol2 = TOLERANCE_ANGSTROM**2
    found = []
    for R in _rotations(metric):
        rotated = xyz @ R.T
        for j in targets:
            t = (xyz[j] - rotated[anchor]) % 1.0
            diff = rotated[:, None, :] + t - xyz[None, :, :]
            diff -= np.round(diff)
            d2 = np.einsum("ijk,kl,ijl->ij", diff, metric, diff)
            match = (d2 < tol2) & same
            if not np.all(match.any(axis=1)):
                continue
            perm = np.argmax(match, axis=1)
            if len(set(perm.tolist())) != len(perm):
                continue
            t = np.where(np.abs(t - 1.0) < 1e-6, 0.0, t)
            found.append((R, t, perm))
    return found


def _space_group_name(operations) -> str:
    from diffpy.structure.spacegroups import SpaceGroupList

    def key(R, t):  # translations are multiples of 1/24 in every standard setting
        return tuple(np.rint(R).astype(int).ravel()), tuple(np.round(np.asarray(t) % 1.0 * 24).astype(int) % 24)

    ours = {key(R, t) for R, t, _ in operations}
    for sg in SpaceGroupList:
        if len(sg.symop_list) != len(ours):
            continue
        theirs = {key(op.R, op.t) for op in sg.symop_list}
        if theirs == ours:
            return sg.short_name
    return f"{len(ours)} operations"


def _rref(matrix: np.ndarray, tol: float = 1e-8) -> tuple[np.ndarray, list[int]]:
    a = np.array(matrix, dtype=float)
    pivots: list[int] = []
    row = 0
    for col in range(a.shape[1]):
        if row >= a.shape[0]:
            break
        best = row + int(np.argmax(np.abs(a[row:, col])))
        if abs(a[best, col]) < tol:
            continue
        a[[row, best]] = a[[best, row]]
        a[row] /= a[row, col]
        for other in range(a.shape[0]):
            if other != row:
                a[other] -= a[other, col] * a[row]
        pivots.append(col)
        row += 1
    a[np.abs(a) < tol] = 0.0
    return a[:row], pivots


def _null_space(matrix: np.ndarray, tol: float = 1e-8) -> np.ndarray:
    if matrix.size == 0:
        return np.eye(matrix.shape[1])
    _, s, vt = np.linalg.svd(matrix)
    rank = int(np.sum(s > tol * max(1.0, s.max() if s.size else 1.0)))
    return vt[rank:].T


def free_coordinates(structure: Structure) -> FreeCoordinates:
    """The fractional coordinates of ``structure`` that its own symmetry leaves free.

    Parameters
    ----------
    structure : diffpy.structure.Structure
        A periodic structure, e.g. from :func:`swaxs_lib.refine.crystal.read_crystal`.

    Returns
    -------
    FreeCoordinates
        Empty ``names`` when every coordinate is fixed by symmetry (fcc, bcc).

    Examples
    --------
    >>> from diffpy.structure import Atom, Lattice, Structure
    >>> wurtzite = Structure([Atom("Cd", (1/3, 2/3, 0)), Atom("Cd", (2/3, 1/3, 0.5)),
    ...                       Atom("Se", (1/3, 2/3, 0.375)), Atom("Se", (2/3, 1/3, 0.875))],
    ...                      lattice=Lattice(4.3, 4.3, 7.0, 90, 90, 120))
    >>> free = free_coordinates(wurtzite)
    >>> free.space_group, free.names
    ('P63mc', ('z_Se1',))
    >>> free.positions([0.37])[3].round(3).tolist()
    [0.667, 0.333, 0.87]
    """
    xyz = np.asarray(structure.xyz, dtype=float)
    n = len(structure)
    labels = _labels(structure)
    if n > MAX_ATOMS:
        return FreeCoordinates((), np.zeros(0), np.zeros((0, n, 3)), xyz, 0, "not searched",
                               f"{n} atoms in the cell (more than {MAX_ATOMS}): coordinates held")
    operations = symmetry_operations(structure)
    projector = np.zeros((3 * n, 3 * n))
    for R, _, perm in operations:
        for i, j in enumerate(perm):
            projector[3 * j:3 * j + 3, 3 * i:3 * i + 3] += R
    projector /= len(operations)
    u, s, _ = np.linalg.svd(projector)
    invariant = u[:, s > 0.5]
    # polar axes: directions every rotation keeps; hold the first atom along them
    rotations = np.concatenate([R - np.eye(3) for R, _, _ in operations])
    polar = _null_space(rotations)
    note = ""
    if polar.shape[1] and invariant.shape[1]:
        hold = np.zeros((polar.shape[1], 3 * n))
        hold[:, :3] = polar.T
        invariant = invariant @ _null_space(hold @ invariant)
        axes = ", ".join("xyz"[int(np.argmax(np.abs(v)))] for v in polar.T)
        note = f"{labels[0]} held along the polar axis ({axes}): a shift of the whole crystal leaves G(r) unchanged"
    if invariant.shape[1] == 0:
        return FreeCoordinates((), np.zeros(0), np.zeros((0, n, 3)), xyz, len(operations),
                               _space_group_name(operations), note or "every coordinate is fixed by symmetry")
    rows, pivots = _rref(invariant.T)
    names = tuple(f"{'xyz'[p % 3]}_{labels[p // 3]}" for p in pivots)
    values = np.array([xyz[p // 3, p % 3] for p in pivots])
    return FreeCoordinates(names, values, rows.reshape(len(pivots), n, 3), xyz, len(operations),
                           _space_group_name(operations), note)


def _labels(structure: Structure) -> list[str]:
    """The cif's atom labels when unique and usable in a parameter name, else element + index."""
    labels = [str(atom.label or "").strip() for atom in structure]
    if len(set(labels)) == len(labels) and all(lab and lab.replace("_", "").isalnum() for lab in labels):
        return labels
    counts: dict[str, int] = {}
    out = []
    for atom in structure:
        counts[atom.element] = counts.get(atom.element, 0) + 1
        out.append(f"{atom.element}{counts[atom.element]}")
    return out


__all__ = ["FreeCoordinates", "free_coordinates", "symmetry_operations"]
