"""Geometry of a finite cluster: size, radius of gyration, bonds, coordination.

All lengths are in Å.  Bonds are pairs closer than ``BOND_CUTOFF_FACTOR`` times
the median nearest-neighbour distance: wide enough for the 5 % strain between
radial and tangential bonds of an icosahedron, narrow enough to exclude the
second shell of fcc (×1.414) and bcc (×1.155).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from ase import Atoms
from scipy.spatial import ConvexHull, QhullError, cKDTree

from swaxs_lib.errors import SwaxsInputError

#: Bond cutoff as a multiple of the median nearest-neighbour distance.
BOND_CUTOFF_FACTOR = 1.12


@dataclass(frozen=True)
class ClusterInfo:
    """What a builder made, in numbers a scientist quotes.

    Attributes
    ----------
    shape : str
        Builder name (``"icosahedron"``, ``"decahedron"``, ..., ``"file"``).
    parameters : tuple of (str, value) pairs
        The builder's parameters, e.g. ``(("p", 3), ("q", 1), ("r", 2))``.
    elements : tuple of str
        Distinct chemical symbols, sorted.
    formula : str
        Hill-like formula, e.g. ``"Au147"``.
    n_atoms : int
        Number of atoms.
    extent_angstrom : float
        Largest distance between two atom centres (Å).
    outer_diameter_angstrom : float or None
        Extent plus one atomic diameter (the mean nearest-neighbour
        distance): edge to edge, as in a particle image (Å).
    volume_diameter_angstrom : float or None
        Diameter of the sphere with the cluster's volume, N times the volume
        per atom (Å): as a SAXS sphere fit or a PDF sphere envelope reads it.
    radius_of_gyration_angstrom : float
        Root-mean-square distance of atom centres from their centroid (Å),
        unweighted.  The sizes are defined once, in
        :mod:`swaxs_lib.structures.sizes`; the two diameters are None for a
        single atom.
    mean_nn_distance_angstrom : float or None
        Mean bond length (Å) over bonded pairs (see module docstring); None for
        a single atom.
    lattice_constant_angstrom : float or None
        Lattice constant used to build it; None for read structures.
    """

    shape: str
    parameters: tuple[tuple[str, Any], ...]
    elements: tuple[str, ...]
    formula: str
    n_atoms: int
    extent_angstrom: float
    outer_diameter_angstrom: float | None
    volume_diameter_angstrom: float | None
    radius_of_gyration_angstrom: float
    mean_nn_distance_angstrom: float | None
    lattice_constant_angstrom: float | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON: parameters as a mapping."""
        out = asdict(self)
        out["parameters"] = dict(self.parameters)
        out["elements"] = list(self.elements)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ClusterInfo":
        """The inverse of :meth:`to_dict`.  Dicts stored before the sizes were named
        (:mod:`swaxs_lib.structures.sizes`) hold the extent as ``diameter_angstrom`` and no outer or
        volume-equivalent diameter (read as None).

        Raises
        ------
        SwaxsInputError
            A field missing or of the wrong type.
        """
        try:
            extent = data["extent_angstrom"] if "extent_angstrom" in data else data["diameter_angstrom"]
            return cls(
                shape=str(data["shape"]), parameters=tuple((str(k), v) for k, v in dict(data["parameters"]).items()),
                elements=tuple(str(e) for e in data["elements"]), formula=str(data["formula"]),
                n_atoms=int(data["n_atoms"]), extent_angstrom=float(extent),
                outer_diameter_angstrom=_optional_float(data.get("outer_diameter_angstrom")),
                volume_diameter_angstrom=_optional_float(data.get("volume_diameter_angstrom")),
                radius_of_gyration_angstrom=float(data["radius_of_gyration_angstrom"]),
                mean_nn_distance_angstrom=_optional_float(data.get("mean_nn_distance_angstrom")),
                lattice_constant_angstrom=_optional_float(data.get("lattice_constant_angstrom")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SwaxsInputError(f"cluster info: {type(exc).__name__} {exc}; expected the fields "
                                  "ClusterInfo.to_dict writes") from None


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)


def radius_of_gyration(positions: np.ndarray) -> float:
    """Unweighted radius of gyration (Å) of ``positions`` (n, 3)."""
    centred = positions - positions.mean(axis=0)
    return float(math.sqrt(np.mean(np.sum(centred * centred, axis=1))))


def max_pair_distance(positions: np.ndarray) -> float:
    """Largest distance (Å) between any two of ``positions`` (n, 3).

    Uses the convex hull's vertices (the farthest pair lies on the hull); falls
    back to all pairs for flat or tiny clusters.
    """
    n = len(positions)
    if n < 2:
        return 0.0
    points = positions
    if n > 8:
        try:
            points = positions[ConvexHull(positions).vertices]
        except (QhullError, ValueError):
            points = positions
    best = 0.0
    for start in range(0, len(points), 1024):
        block = points[start : start + 1024]
        d2 = np.sum((block[:, None, :] - points[None, :, :]) ** 2, axis=-1)
        best = max(best, float(d2.max()))
    return math.sqrt(best)


def bonds(positions: np.ndarray) -> np.ndarray:
    """Bonded pairs (i < j) as an (n_bonds, 2) integer array.

    A bond is a pair closer than ``BOND_CUTOFF_FACTOR`` × the median
    nearest-neighbour distance.
    """
    if len(positions) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    tree = cKDTree(positions)
    nearest, _ = tree.query(positions, k=2)
    cutoff = BOND_CUTOFF_FACTOR * float(np.median(nearest[:, 1]))
    return tree.query_pairs(cutoff, output_type="ndarray")


def coordination_numbers(atoms: Atoms) -> np.ndarray:
    """Number of bonded neighbours of every atom (12 inside an fcc cluster).

    Parameters
    ----------
    atoms : ase.Atoms
        The cluster.

    Returns
    -------
    numpy.ndarray of int, shape (n_atoms,)
    """
    pairs = bonds(atoms.positions)
    return np.bincount(pairs.ravel(), minlength=len(atoms))


def mean_nn_distance(positions: np.ndarray) -> float | None:
    """Mean bond length (Å); None when there are no bonds."""
    pairs = bonds(positions)
    if len(pairs) == 0:
        return None
    d = np.linalg.norm(positions[pairs[:, 0]] - positions[pairs[:, 1]], axis=1)
    return float(d.mean())


@dataclass(frozen=True)
class DistanceHistogram:
    """Interatomic distances binned: bin centres and the number of pairs in each bin.

    Attributes
    ----------
    distance_angstrom : numpy.ndarray
        Bin centres (Å), ascending, evenly spaced.
    count : numpy.ndarray of int
        Pairs (i < j, each counted once) per bin.
    bin_width_angstrom : float
        Width of every bin (Å).
    """

    distance_angstrom: np.ndarray
    count: np.ndarray
    bin_width_angstrom: float


def nn_distance_histogram(
    atoms: Atoms, bin_width_angstrom: float = 0.02, r_max_angstrom: float | None = None
) -> DistanceHistogram:
    """Histogram of nearest-neighbour (bond) distances, or of all pair distances up to ``r_max_angstrom``.

    By default the pairs are the bonds of :func:`bonds` (closer than
    ``BOND_CUTOFF_FACTOR`` × the median nearest-neighbour distance), so the
    counts sum to the number of bonds.  Bins are aligned on integer multiples of
    ``bin_width_angstrom`` and span the distances found.

    Parameters
    ----------
    atoms : ase.Atoms
        The cluster (Å).
    bin_width_angstrom : float
        Bin width (Å), > 0.
    r_max_angstrom : float, optional
        Take every pair closer than this (Å) instead of the bonds; the bins then
        run from 0 to ``r_max_angstrom``.

    Returns
    -------
    DistanceHistogram
        Empty arrays for a single atom (or no pair within ``r_max_angstrom``).

    Raises
    ------
    SwaxsInputError
        A bin width or ``r_max_angstrom`` that is not a positive number, or
        more than 100 000 bins.

    Validation
    ----------
    An ideal fcc cuboctahedron has every bond a/√2 long: one bin holding all
    its bonds (36 for 13 atoms, 216 for 55, from the coordination numbers 12
    inside and 5, 7, 8 on the surface); see tests/test_structure_parameters.py.

    Examples
    --------
    >>> from ase import Atoms
    >>> h = nn_distance_histogram(Atoms("Au3", positions=[(0, 0, 0), (2.885, 0, 0), (5.77, 0, 0)]))
    >>> h.distance_angstrom.round(2).tolist(), h.count.tolist()
    ([2.89], [2])
    """
    width = _positive("bin_width_angstrom", bin_width_angstrom)
    positions = np.asarray(atoms.positions, dtype=float)
    if r_max_angstrom is None:
        pairs = bonds(positions)
    else:
        r_max = _positive("r_max_angstrom", r_max_angstrom)
        pairs = (cKDTree(positions).query_pairs(r_max, output_type="ndarray") if len(positions) > 1
                 else np.zeros((0, 2), dtype=np.int64))
    if len(pairs) == 0:
        return DistanceHistogram(np.zeros(0), np.zeros(0, dtype=np.int64), width)
    d = np.linalg.norm(positions[pairs[:, 0]] - positions[pairs[:, 1]], axis=1)
    first = 0 if r_max_angstrom is not None else int(math.floor(d.min() / width))
    last = int(math.ceil(r_max / width)) if r_max_angstrom is not None else int(math.floor(d.max() / width)) + 1
    if last - first > 100_000:
        raise SwaxsInputError(
            f"bin_width_angstrom: got {bin_width_angstrom!r}; gives {last - first} bins, expected at most 100000"
        )
    index = np.clip(np.floor(d / width).astype(np.int64) - first, 0, last - first - 1)
    count = np.bincount(index, minlength=last - first)
    return DistanceHistogram((first + 0.5 + np.arange(last - first)) * width, count, width)


def _positive(name: str, value) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        raise SwaxsInputError(f"{name}: got {value!r}; expected a positive number (Å)") from None
    if isinstance(value, bool) or not math.isfinite(x) or x <= 0:
        raise SwaxsInputError(f"{name}: got {value!r}; expected a positive number (Å)")
    return x


def describe(
    atoms: Atoms,
    shape: str,
    parameters: dict[str, Any],
    lattice_constant_angstrom: float | None = None,
) -> ClusterInfo:
    """Measure ``atoms`` and return its :class:`ClusterInfo`."""
    from swaxs_lib.structures.sizes import cluster_sizes

    positions = atoms.positions
    sizes = cluster_sizes(positions)
    symbols = atoms.get_chemical_symbols()
    counts: dict[str, int] = {}
    for s in symbols:
        counts[s] = counts.get(s, 0) + 1
    formula = "".join(f"{s}{counts[s]}" for s in sorted(counts))
    return ClusterInfo(
        shape=shape,
        parameters=tuple(parameters.items()),
        elements=tuple(sorted(counts)),
        formula=formula,
        n_atoms=len(atoms),
        extent_angstrom=sizes["extent_angstrom"],
        outer_diameter_angstrom=_or_none(sizes["outer_diameter_angstrom"]),
        volume_diameter_angstrom=_or_none(sizes["volume_diameter_angstrom"]),
        radius_of_gyration_angstrom=sizes["radius_of_gyration_angstrom"],
        mean_nn_distance_angstrom=mean_nn_distance(positions),
        lattice_constant_angstrom=lattice_constant_angstrom,
    )


def _or_none(value: float) -> float | None:
    return None if not math.isfinite(value) else float(value)
