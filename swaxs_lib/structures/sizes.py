"""The sizes of a cluster: one name for each meaning, used by every output.

"Diameter" means different things to the instruments that measure a particle,
and the differences (0.25–0.3 nm for a gold particle) are as large as the
precision people quote.  So no output says just "diameter".  Every table, JSON
line and page reports one or more of these, by these names (docs/sizes.md says
the same for users):

``extent_angstrom``
    The largest distance between two atom centres.  What a structure file
    gives directly; the size the ML database is labelled with
    (``extent_nm``).  Smaller than any instrument's size by about one atomic
    diameter.
``outer_diameter_angstrom``
    The extent plus one atomic diameter, taken as the mean nearest-neighbour
    distance d_nn: the distance between the outer surfaces of the two
    farthest atoms.  Compare with the edge-to-edge size of a particle image
    (TEM, STEM).
``volume_diameter_angstrom``
    The diameter of the sphere with the particle's volume N v, with v the
    volume per atom (:func:`atomic_volume`): (6 N v / pi)^(1/3).  Compare with
    a SAXS sphere fit, the size of a sphere envelope in a PDF fit (PDFgui's
    and pdffit2's ``spdiameter``, whose best match to a cluster is this
    diameter: tests/test_envelope.py) and a Scherrer size.
``radius_of_gyration_angstrom``
    The root-mean-square distance of atom centres from their centroid.  A
    Guinier fit of SAXS measures the electron density's, larger by the atoms'
    own size (sqrt(R_g^2 + 3 r_a^2 / 5) for atoms as spheres of radius r_a).

The sphere builder's ``diameter_angstrom`` is a parameter, not a size: the
sphere the sites are cut from.

>>> from swaxs_lib.structures import icosahedron
>>> s = cluster_sizes(icosahedron("Au", 5).atoms.positions)
>>> [round(s[k], 1) for k in ("extent_angstrom", "outer_diameter_angstrom", "volume_diameter_angstrom")]
[23.1, 26.0, 22.1]
"""

from __future__ import annotations

import math

import numpy as np

from swaxs_lib.errors import SwaxsInputError

#: Atoms nearest the centre whose Voronoi cells give the volume per atom.
CORE_ATOMS = 64

#: Each size's name and what it means (the pages' tooltips and the CSV documentation use these).
SIZE_DEFINITIONS = {
    "extent_angstrom": "largest distance between two atom centres",
    "outer_diameter_angstrom": "extent plus one atomic diameter (the mean nearest-neighbour distance): "
                               "edge to edge, as in a particle image",
    "volume_diameter_angstrom": "diameter of the sphere with the particle's volume (N atoms x volume per atom): "
                                "as a SAXS sphere fit or a PDF sphere envelope (spdiameter) reads it",
    "radius_of_gyration_angstrom": "root-mean-square distance of atom centres from their centroid",
}


def atomic_volume(positions) -> float:
    """Volume per atom (Å³) of a cluster: the median Voronoi cell of the atoms nearest its centre.

    The Voronoi cell of an atom is the space closer to it than to any other
    atom; in a crystal every cell holds exactly the volume per atom.  The cells
    of the 64 atoms nearest the centroid are computed (from the atoms within
    three nearest-neighbour distances d of them), those that reach more than
    1.5 d from their atom (open to the outside: surface atoms) are left out,
    and the median of the rest is taken.  Exact for fcc, bcc and wurtzite
    clusters; the cluster's own value for strained ones (icosahedra: 6–8 %
    above bulk).  Clusters without such a cell (a dimer, a flat sheet, a
    chain) get the value of a close-packed solid of their mean
    nearest-neighbour distance, d^3 / sqrt(2).

    Parameters
    ----------
    positions : array_like (n_atoms, 3)
        Atom positions (Å).

    Returns
    -------
    float

    Examples
    --------
    >>> from swaxs_lib.structures import lattice_sphere
    >>> v = atomic_volume(lattice_sphere("Pt", 37.5).atoms.positions)
    >>> round(v / (3.92**3 / 4), 6)   # the bulk fcc value a^3/4
    1.0
    """
    from scipy.spatial import ConvexHull, QhullError, Voronoi, cKDTree

    pos = np.asarray(positions, dtype=float).reshape(-1, 3)
    if len(pos) < 2 or not np.all(np.isfinite(pos)):
        raise SwaxsInputError(f"positions: got {len(pos)} finite atom(s); expected at least two")
    nn = _nearest_neighbour(pos)
    if not nn > 0:
        raise SwaxsInputError("positions: atoms on top of each other; expected distinct positions")
    fallback = nn**3 / math.sqrt(2.0)
    if len(pos) < 5:
        return fallback
    distance = np.linalg.norm(pos - pos.mean(axis=0), axis=1)
    core = np.argsort(distance, kind="stable")[:CORE_ATOMS]
    patch = np.nonzero(distance <= distance[core].max() + 3.0 * nn)[0]
    try:
        voronoi = Voronoi(pos[patch])
    except QhullError:  # flat or collinear
        return fallback
    where = {int(atom): k for k, atom in enumerate(patch)}
    volumes = []
    for atom in core:
        region = voronoi.regions[voronoi.point_region[where[int(atom)]]]
        if not region or -1 in region:
            continue
        corners = voronoi.vertices[region]
        if np.linalg.norm(corners - pos[atom], axis=1).max() > 1.5 * nn:
            continue
        try:
            volumes.append(ConvexHull(corners).volume)
        except QhullError:
            continue
    return float(np.median(volumes)) if volumes else fallback


def volume_diameter(n_atoms: float, atomic_volume_angstrom3: float) -> float:
    """(6 N v / pi)^(1/3): the diameter (Å) of the sphere with the volume of N atoms of volume v (Å³)."""
    return (6.0 * float(n_atoms) * float(atomic_volume_angstrom3) / math.pi) ** (1 / 3)


def cluster_sizes(positions) -> dict[str, float]:
    """Every size of :data:`SIZE_DEFINITIONS` (Å) of a cluster, and its volume per atom.

    Parameters
    ----------
    positions : array_like (n_atoms, 3)
        Atom positions (Å).

    Returns
    -------
    dict
        ``extent_angstrom``, ``outer_diameter_angstrom``,
        ``volume_diameter_angstrom``, ``radius_of_gyration_angstrom`` and
        ``atomic_volume_angstrom3``; for a single atom the extent and radius of
        gyration are 0 and the others NaN.
    """
    from swaxs_lib.structures.metadata import max_pair_distance, radius_of_gyration

    pos = np.asarray(positions, dtype=float).reshape(-1, 3)
    extent = max_pair_distance(pos)
    out = {"extent_angstrom": extent, "outer_diameter_angstrom": math.nan, "volume_diameter_angstrom": math.nan,
           "radius_of_gyration_angstrom": radius_of_gyration(pos) if len(pos) else 0.0,
           "atomic_volume_angstrom3": math.nan}
    if len(pos) >= 2:
        v = atomic_volume(pos)
        out.update(outer_diameter_angstrom=extent + _nearest_neighbour(pos),
                   volume_diameter_angstrom=volume_diameter(len(pos), v), atomic_volume_angstrom3=v)
    return out


def _nearest_neighbour(pos: np.ndarray) -> float:
    """Mean distance (Å) from each atom to its nearest neighbour."""
    from scipy.spatial import cKDTree

    d, _ = cKDTree(pos).query(pos, k=2)
    return float(np.mean(d[:, 1]))


__all__ = ["SIZE_DEFINITIONS", "atomic_volume", "cluster_sizes", "volume_diameter"]
