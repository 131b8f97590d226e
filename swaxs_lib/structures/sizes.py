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

#: Half a layer, in units of v^(1/3), by which the hull of the atom centres is widened.
HALF_LAYER = 0.46

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
    """Volume per atom (Å³) of a cluster: its widened convex hull over the number of atoms.

    The hull of the atom centres misses half a layer on every side; it is
    widened by h = 0.46 v^(1/3) as a sphere of the same volume-to-area ratio
    would be, V = V_hull (1 + h A_hull / (3 V_hull))^3, and v = V / N solved
    by fixed-point iteration.  Within 11 % above the bulk value for fcc, bcc
    and wurtzite clusters of 2–4 nm (tests/test_envelope.py).  Clusters too
    small or flat for a hull (fewer than 5 atoms, or coplanar) get the value
    of a close-packed solid of their mean nearest-neighbour distance,
    d^3 / sqrt(2).

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
    >>> round(v / (3.92**3 / 4), 2)   # the bulk fcc value a^3/4
    1.08
    """
    pos = np.asarray(positions, dtype=float).reshape(-1, 3)
    if len(pos) < 2 or not np.all(np.isfinite(pos)):
        raise SwaxsInputError(f"positions: got {len(pos)} finite atom(s); expected at least two")
    if len(pos) >= 5:
        from scipy.spatial import ConvexHull, QhullError

        try:
            hull = ConvexHull(pos)
        except QhullError:
            hull = None
        if hull is not None and hull.volume > 1e-6:
            v = hull.volume / len(pos)
            for _ in range(50):
                widened = hull.volume * (1.0 + HALF_LAYER * v ** (1 / 3) * hull.area / (3.0 * hull.volume)) ** 3
                v, previous = widened / len(pos), v
                if abs(v - previous) <= 1e-10 * v:
                    break
            return float(v)
    return _nearest_neighbour(pos) ** 3 / math.sqrt(2.0)


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
