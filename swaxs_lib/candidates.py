"""Candidates of every cluster family whose size lies in a window, enumerated without building them.

A one-click analysis screens every motif of about the right size.  This module
lists them: for a size window in one of the conventions of docs/sizes.md
(``extent_angstrom`` or ``volume_diameter_angstrom``) and an element, every
icosahedron, Marks decahedron (p, q, r) -- regular, Ino and Marks proper --,
octahedron, truncated octahedron, cuboctahedron, fcc/hcp/bcc sphere whose size
falls inside, and the attenuated crystal as one candidate with its
``spdiameter`` range.  Sizes come from closed forms (or, for spheres, from the
lattice's shells around a site, computed once per lattice), never from a built
cluster, so a 10-40 Å window is enumerated in well under a second.

Closed forms (d = a / sqrt 2 the fcc nearest-neighbour distance, a the element's
lattice constant, as the builders use them):

- icosahedron, ``shells`` k: extent 2 (k - 1) d (ASE's Mackay icosahedron has
  radial spacing d); N = (10 n^3 + 15 n^2 + 11 n + 3) / 3, n = k - 1.
- cuboctahedron, k shells: extent sqrt 2 (k - 1) a; same N.
- octahedron (length L, cutoff c), truncated octahedron: the fcc sites with
  |x| + |y| + |z| <= M a / 2, |x_i| <= (M - c) a / 2, M = L - 1; the farthest
  lie at the vertices (M - c, c, 0) a / 2, so the extent is
  a sqrt((M - c)^2 + c^2); N = L (2 L^2 + 1) / 3 - c (c + 1) (2 c + 1).
- decahedron (p, q, r) (ASE's construction): columns of h - n atoms (spacing d,
  h = p + q + 2r - 1) at (s, t), n = s + t, of each of five segments; the column
  half-length is affine in (s, t) and the region of (s, t) a polygon with
  integer corners, so the farthest pair of atoms are column ends at the
  polygon's corners (or the axis ends): the extent is the largest distance
  among those few points.  N from
  :func:`~swaxs_lib.structures.decahedron_atom_count`.
- spheres: the distinct distances of lattice sites from a site; a sphere of
  diameter D keeps the sites within D / 2, so each distinct cluster is one
  shell radius R (``diameter_angstrom`` halfway to the next shell).  The
  extent is 2 R for fcc and bcc (a site is an inversion centre); hcp sites are
  not, and its extent (up to 0.5 Å below 2 R) is the largest distance among
  the outermost sites.  Neighbouring candidates differ by one shell of sites
  (6-48 atoms), the finest step that gives a different cluster.

Volume-equivalent diameters use N and the volume per atom v: the bulk value
for fcc polyhedra and spheres (a^3 / 4, bcc a^3 / 2, hcp sqrt3/4 a^3 c/a); for
decahedra the strained in-plane lattice of ASE's builder, (3/4) sin 72° d^3
(+0.9 %); for icosahedra the continuum value of a Mackay icosahedron with
radial spacing d, (5/12)(3 + sqrt 5)/(10/3) (d / sin 72°)^3 (+7.6 %, the
6-8 % docs/sizes.md reports from Voronoi cells).

Decahedron subfamilies (Marks 1984; Baletto & Ferrando 2005, section III.A;
ASE's ``Decahedron`` docstring): ``q = 1, r = 0`` the regular decahedron
(pentagonal bipyramid, no (100) facets: 7, 23, 54, 105 ... atoms),
``q > 1, r = 0`` the Ino decahedron ((100) facets, p = q gives 13, 55, 147
...), ``r > 0`` the Marks decahedron (re-entrant notches: (2, 2, 1) = 75).
``p = 1, r = 0`` is a chain of atoms, not a decahedron, and is left out.

References
----------
.. [1] L. D. Marks, Philos. Mag. A 49, 81 (1984).
.. [2] F. Baletto and R. Ferrando, Rev. Mod. Phys. 77, 371 (2005).
.. [3] C. L. Cleveland and U. Landman, J. Chem. Phys. 94, 7376 (1991).

Validation: tests/test_candidates.py builds a sample of every family and
compares the claimed extents (exact, 1e-6 Å) and volume diameters (3 %) with
:func:`~swaxs_lib.structures.sizes.cluster_sizes`; brute-forces small windows
for completeness; checks the counts against published magic numbers.
"""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.structures import decahedron_atom_count
from swaxs_lib.structures.elements import check_element, hcp_c_over_a, lattice_constant
from swaxs_lib.structures.sizes import volume_diameter
from swaxs_lib.sweep import MAX_CANDIDATE_ATOMS, Candidate

#: Families, in the order they are listed.
FAMILIES = ("icosahedron", "decahedron", "octahedron", "truncated-octahedron", "cuboctahedron",
            "sphere-fcc", "sphere-hcp", "sphere-bcc", "attenuated-crystal")
#: Size conventions a window may use (docs/sizes.md).
WINDOW_SIZES = ("extent_angstrom", "volume_diameter_angstrom")
#: Candidates kept per family unless told otherwise.
DEFAULT_MAX_PER_FAMILY = 60
#: Shape of the attenuated-crystal candidate (refined by swaxs_lib.refine.crystal, not built).
ATTENUATED_CRYSTAL = "attenuated-crystal"
#: Largest window edge (Å): a 150 Å gold cluster already has the ~100 000 atoms a sweep takes at most.
MAX_WINDOW_ANGSTROM = 200.0

_SIN72 = math.sin(2 * math.pi / 5)
_ICOSAHEDRON_V_PER_D3 = (5 / 12) * (3 + math.sqrt(5)) / (10 / 3) / _SIN72**3
_DECAHEDRON_V_PER_D3 = 0.75 * _SIN72


@dataclass(frozen=True)
class SizeWindow:
    """A size window: one of :data:`WINDOW_SIZES`, low and high (Å), both included."""

    size: str
    low_angstrom: float
    high_angstrom: float

    def __post_init__(self):
        if self.size not in WINDOW_SIZES:
            raise SwaxsInputError(f"window size: got {self.size!r}; expected one of {', '.join(WINDOW_SIZES)}")
        lo, hi = self.low_angstrom, self.high_angstrom
        if not (isinstance(lo, (int, float)) and isinstance(hi, (int, float)) and math.isfinite(lo)
                and math.isfinite(hi) and 0 <= lo <= hi <= MAX_WINDOW_ANGSTROM) or isinstance(lo, bool):
            raise SwaxsInputError(f"window: got low {lo!r}, high {hi!r} Å; expected numbers "
                                  f"0 <= low <= high <= {MAX_WINDOW_ANGSTROM:g}")

    def __contains__(self, value: float) -> bool:
        return self.low_angstrom - 1e-9 <= value <= self.high_angstrom + 1e-9


@dataclass(frozen=True)
class SizedCandidate:
    """A candidate and the sizes the enumeration claims for it.

    Attributes
    ----------
    candidate : Candidate
        Shape, element, builder parameters (:meth:`Candidate.build` builds it;
        not for the attenuated crystal, whose params are its ``spdiameter``
        range, ``spdiameter_low_angstrom`` and ``spdiameter_high_angstrom``).
    family : str
        One of :data:`FAMILIES`.
    subfamily : str
        ``regular``, ``Ino`` or ``Marks`` for decahedra; ``regular`` or
        ``truncated`` for truncated octahedra; else the family.
    n_atoms : int
        Exact for polyhedra and spheres; 0 for the attenuated crystal.
    extent_angstrom, volume_diameter_angstrom : float
        Claimed sizes (the attenuated crystal: NaN and the middle of its range).
    """

    candidate: Candidate
    family: str
    subfamily: str
    n_atoms: int
    extent_angstrom: float
    volume_diameter_angstrom: float

    def size(self, name: str) -> float:
        return float(getattr(self, name))


def candidates_in_window(element: str, window: SizeWindow | Sequence[Any], families: Iterable[str] | None = None,
                         max_per_family: int = DEFAULT_MAX_PER_FAMILY) -> list[SizedCandidate]:
    """Every candidate of the chosen families whose size lies in the window.

    Parameters
    ----------
    element : str
        Chemical symbol; its bulk lattice constants set every size.
    window : SizeWindow or (size, low, high)
        ``size`` one of :data:`WINDOW_SIZES`, ``low``/``high`` in Å.
    families : iterable of str, optional
        Subset of :data:`FAMILIES` (default all).
    max_per_family : int
        Most candidates kept per family; when more lie in the window, that many
        spread evenly over the family's sorted sizes are kept and a warning says so.
        Candidates above :data:`~swaxs_lib.sweep.MAX_CANDIDATE_ATOMS` atoms are
        left out, with a warning.

    Returns
    -------
    list of SizedCandidate
        By family (in :data:`FAMILIES` order), then by size.  The attenuated
        crystal is a sphere cut from the bulk: its ``spdiameter`` range is the
        window itself when that is a volume-diameter one, else the range of
        volume-equivalent diameters of the fcc, hcp and bcc spheres whose extent
        lies in the window (listed or not).  Long thin decahedra (q >> p) of the
        same extent hold far fewer atoms and are not spheres.

    Raises
    ------
    SwaxsInputError
        Unknown element, family or window size, a bad window (high above
        :data:`MAX_WINDOW_ANGSTROM`) or cap.

    Examples
    --------
    >>> [c.n_atoms for c in candidates_in_window("Au", ("extent_angstrom", 10, 20), ["icosahedron"])]
    [55, 147]
    """
    symbol = check_element(element)
    if not isinstance(window, SizeWindow):
        try:
            size, low, high = window
        except (TypeError, ValueError):
            raise SwaxsInputError(f"window: got {window!r}; expected (size, low, high)") from None
        try:
            low, high = float(low), float(high)
        except (TypeError, ValueError):
            raise SwaxsInputError(f"window: got low {low!r}, high {high!r}; expected numbers (Å)") from None
        window = SizeWindow(str(size), low, high)
    chosen = list(FAMILIES) if families is None else list(families)
    unknown = [f for f in chosen if f not in FAMILIES]
    if unknown:
        raise SwaxsInputError(f"families: got {unknown[0]!r}; expected some of {', '.join(FAMILIES)}")
    if isinstance(max_per_family, bool) or not isinstance(max_per_family, int) or max_per_family < 1:
        raise SwaxsInputError(f"max_per_family: got {max_per_family!r}; expected an integer >= 1")
    # the attenuated crystal's range, in an extent window, comes from the lattice spheres
    wanted = [f for f in _ENUMERATORS if f in chosen
              or (ATTENUATED_CRYSTAL in chosen and window.size == WINDOW_SIZES[0] and f.startswith("sphere-"))]
    found = {f: sorted(_ENUMERATORS[f](symbol, window), key=lambda c: (c.size(window.size), c.n_atoms))
             for f in wanted}
    out: list[SizedCandidate] = []
    for family in FAMILIES:
        if family in chosen and family != ATTENUATED_CRYSTAL:
            fits = [c for c in found[family] if c.n_atoms <= MAX_CANDIDATE_ATOMS]
            if len(fits) < len(found[family]):
                warnings.warn(f"{family}: {len(found[family]) - len(fits)} candidates in the window have more than "
                              f"{MAX_CANDIDATE_ATOMS} atoms (a sweep's limit); left out", stacklevel=2)
            out.extend(_spread(fits, max_per_family, family))
    if ATTENUATED_CRYSTAL in chosen:
        out.append(_attenuated_crystal(symbol, window, [c for cs in found.values() for c in cs]))
    return out


def _spread(found: list[SizedCandidate], cap: int, family: str) -> list[SizedCandidate]:
    if len(found) <= cap:
        return found
    warnings.warn(f"{family}: {len(found)} candidates in the window; keeping {cap} spread evenly over their sizes "
                  f"(raise max_per_family for all)", stacklevel=3)
    keep = sorted(set(np.rint(np.linspace(0, len(found) - 1, cap)).astype(int).tolist()))
    return [found[i] for i in keep]


def _sized(shape, symbol, params, family, subfamily, n, extent, v) -> SizedCandidate:
    return SizedCandidate(Candidate(shape, symbol, tuple(params)), family, subfamily, int(n), float(extent),
                          volume_diameter(n, v))


def _mackay_count(shells: int) -> int:
    n = shells - 1
    return (10 * n**3 + 15 * n**2 + 11 * n + 3) // 3


def _icosahedra(symbol: str, window: SizeWindow) -> list[SizedCandidate]:
    a = lattice_constant(symbol, "fcc")
    d = a / math.sqrt(2)
    return _shell_family(window, "icosahedron", symbol, lambda k: 2 * (k - 1) * d, _ICOSAHEDRON_V_PER_D3 * d**3)


def _cuboctahedra(symbol: str, window: SizeWindow) -> list[SizedCandidate]:
    a = lattice_constant(symbol, "fcc")
    return _shell_family(window, "cuboctahedron", symbol, lambda k: math.sqrt(2) * (k - 1) * a, a**3 / 4)


def _shell_family(window, shape, symbol, extent, v) -> list[SizedCandidate]:
    out, k = [], 2
    while True:
        c = _sized(shape, symbol, (("shells", k),), shape, shape, _mackay_count(k), extent(k), v)
        if c.size(window.size) > window.high_angstrom:  # both sizes grow with k
            return out
        if c.size(window.size) in window:
            out.append(c)
        k += 1


def _octahedron_count(length: int, cutoff: int) -> int:
    return length * (2 * length**2 + 1) // 3 - cutoff * (cutoff + 1) * (2 * cutoff + 1)


def _octahedra(symbol: str, window: SizeWindow) -> list[SizedCandidate]:
    a = lattice_constant(symbol, "fcc")
    out, length = [], 2
    while True:
        c = _sized("octahedron", symbol, (("length", length), ("cutoff", 0)), "octahedron", "octahedron",
                   _octahedron_count(length, 0), (length - 1) * a, a**3 / 4)
        if c.size(window.size) > window.high_angstrom:
            return out
        if c.size(window.size) in window:
            out.append(c)
        length += 1


def _truncated_octahedra(symbol: str, window: SizeWindow) -> list[SizedCandidate]:
    a = lattice_constant(symbol, "fcc")
    out, length = [], 4
    while True:
        # cutoff 1 .. (length - 2) // 2: 2 cutoff + 1 < length (2 cutoff + 1 = length is the cuboctahedron)
        row = [_sized("truncated-octahedron", symbol, (("length", length), ("cutoff", c)), "truncated-octahedron",
                      "regular" if c == (length - 1) // 3 else "truncated", _octahedron_count(length, c),
                      a * math.hypot(length - 1 - c, c), a**3 / 4)
               for c in range(1, (length - 2) // 2 + 1)]
        # each size grows with length at fixed cutoff, and the most truncated of length + 1 exceeds the most
        # truncated of length, so once every cutoff of a length is too big, all longer ones are
        if row and min(c.size(window.size) for c in row) > window.high_angstrom:
            return out
        out.extend(c for c in row if c.size(window.size) in window)
        length += 1


def decahedron_subfamily(p: int, q: int, r: int) -> str:
    """``regular`` (q = 1, r = 0), ``Ino`` (q > 1, r = 0) or ``Marks`` (r > 0): see the module docstring."""
    if r > 0:
        return "Marks"
    return "regular" if q == 1 else "Ino"


def decahedron_extent(p: int, q: int, r: int, nn_distance_angstrom: float) -> float:
    """Largest distance (Å) between two atoms of ASE's Marks decahedron (p, q, r), without building it.

    The farthest pair are among the axis ends and the ends of the columns at
    the corners of each segment's polygon of sites (see the module docstring).
    """
    return float(_decahedron_extents(p, r, nn_distance_angstrom, np.array([q]))[0])


def _decahedron_extents(p: int, r: int, b: float, qs: np.ndarray) -> np.ndarray:
    g = p + 2 * r
    e = p + r - 1  # s, t <= e (Marks re-entrance); s >= 1, t >= 0, s + t <= g - 1
    corners = {(1, 0), (e, 0), (e, g - 1 - e), (g - 1 - e, e), (1, e), (1, g - 2), (g - 2, 1), (e, 1)}
    corners = [(s, t) for s, t in corners if s >= 1 and t >= 0 and s + t <= g - 1 and s <= e and t <= e]
    ring = 0.5 * b * math.sqrt(3)  # ASE: the pentagon's vertices at d sqrt(3)/2
    angles = 2 * math.pi / 5 * np.arange(5) + math.pi / 2
    vertices = ring * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    xy, n = [np.zeros(2)], [0]
    for m in range(5):
        for s, t in corners:
            xy.append(s * vertices[m - 1] + t * vertices[m])
            n.append(s + t)
    xy, n = np.array(xy), np.array(n)
    planar = np.sum((xy[:, None, :] - xy[None, :, :]) ** 2, axis=-1)
    out = []
    for q in qs:
        h = p + int(q) + 2 * r - 1
        half = (h - n - 1) * b / 2  # top of a column at +half, bottom at -half
        out.append(math.sqrt(float(np.max(planar + (half[:, None] + half[None, :]) ** 2))))
    return np.array(out)


def _decahedra(symbol: str, window: SizeWindow) -> list[SizedCandidate]:
    a = lattice_constant(symbol, "fcc")
    b = a / math.sqrt(2)
    v = _DECAHEDRON_V_PER_D3 * b**3
    hi = window.high_angstrom

    def lower_bound(p, q, r):  # grows with each of p, q, r
        if window.size == "extent_angstrom":
            return (p + q + 2 * r - 2) * b  # the five-fold axis alone
        return volume_diameter(decahedron_atom_count(p, q, r), v)

    out, r = [], 0
    while lower_bound(1, 1, r) <= hi:
        p = 2 if r == 0 else 1
        while lower_bound(p, 1, r) <= hi:
            q_max = 1
            while lower_bound(p, q_max + 1, r) <= hi:
                q_max += 1
            qs = np.arange(1, q_max + 1)
            for q, extent in zip(qs.tolist(), _decahedron_extents(p, r, b, qs)):
                c = _sized("decahedron", symbol, (("p", p), ("q", q), ("r", r)), "decahedron",
                           decahedron_subfamily(p, q, r), decahedron_atom_count(p, q, r), extent, v)
                if c.size(window.size) in window:
                    out.append(c)
            p += 1
        r += 1
    return out


@functools.lru_cache(maxsize=32)
def _lattice_shells(symbol: str, lattice: str, radius_angstrom: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lattice sites within ``radius_angstrom`` of a site, by distance: positions (Å), distinct radii (Å),
    and the number of sites within each radius (the centre included)."""
    from ase.build import bulk

    a = lattice_constant(symbol, lattice)
    if lattice == "hcp":
        cell = bulk(symbol, "hcp", a=a, c=a * hcp_c_over_a(symbol), orthorhombic=True)
    else:
        cell = bulk(symbol, lattice, a=a, cubic=True)
    reps = [int(math.ceil(radius_angstrom / length)) + 1 for length in cell.cell.lengths()]
    grid = np.stack(np.meshgrid(*[np.arange(-n, n + 1) for n in reps], indexing="ij"), axis=-1).reshape(-1, 3)
    pos = ((grid @ np.asarray(cell.cell))[:, None, :] + cell.positions[None, :, :] - cell.positions[0]).reshape(-1, 3)
    dist = np.linalg.norm(pos, axis=1)
    order = np.argsort(dist, kind="stable")
    order = order[dist[order] <= radius_angstrom]
    pos, dist = pos[order], dist[order]
    # distances equal to rounding (1e-6 Å) are one shell
    last = np.concatenate([np.nonzero(np.diff(dist) > 1e-6)[0], [len(dist) - 1]])
    return pos, dist[last], last + 1


def _sphere_extent(pos: np.ndarray, n: int, radius: float) -> float:
    """Largest distance between the first ``n`` sites of ``pos`` (sorted by distance, the farthest at ``radius``).

    A site at distance r_i pairs at most to r_i + radius, so only sites with
    r_i >= (best pair among the outermost shell) - radius can matter; among
    them the farthest pair lies on their convex hull.
    """
    from scipy.spatial.distance import pdist

    from swaxs_lib.structures.metadata import max_pair_distance

    r = np.linalg.norm(pos[:n], axis=1)
    best = float(pdist(pos[:n][r >= radius - 1e-6]).max())
    return max(best, max_pair_distance(pos[:n][r >= best - radius - 1e-6]))


def _spheres(lattice: str):
    def enumerate_spheres(symbol: str, window: SizeWindow) -> list[SizedCandidate]:
        a = lattice_constant(symbol, lattice)
        v = {"fcc": a**3 / 4, "bcc": a**3 / 2, "hcp": math.sqrt(3) / 4 * a**3 * hcp_c_over_a(symbol)}[lattice]
        # a sphere of sites within R has extent 2R and volume diameter below 2R + 2 d (the surface half-shell)
        radius = window.high_angstrom / 2 + (0.0 if window.size == "extent_angstrom" else 2 * a)
        pos, radii, counts = _lattice_shells(symbol, lattice, math.ceil(radius) + 2.0)
        out = []
        for big_r, next_r, n in zip(radii[1:-1].tolist(), radii[2:].tolist(), counts[1:-1].tolist()):
            # the builder's diameter halfway to the next shell: no rounding can gain or lose a shell
            diameter = round(big_r + next_r, 3)
            # fcc and bcc sites are inversion centres, so the farthest sites are opposite: 2R; hcp sites are not
            extent = 2 * big_r if lattice != "hcp" or 2 * big_r < window.low_angstrom else _sphere_extent(pos, n, big_r)
            c = _sized("sphere", symbol, (("diameter_angstrom", diameter), ("lattice", lattice)),
                       f"sphere-{lattice}", f"sphere-{lattice}", n, extent, v)
            if c.size(window.size) in window:
                out.append(c)
        return out

    return enumerate_spheres


def _attenuated_crystal(symbol: str, window: SizeWindow, every: list[SizedCandidate]) -> SizedCandidate:
    if window.size == "volume_diameter_angstrom":
        low, high = window.low_angstrom, window.high_angstrom
    else:
        diameters = [c.volume_diameter_angstrom for c in every if c.family.startswith("sphere-")]
        if not diameters:
            raise SwaxsInputError(f"window: no cluster of {symbol} has an extent between {window.low_angstrom:g} "
                                  f"and {window.high_angstrom:g} Å; expected a wider window")
        low, high = min(diameters), max(diameters)
    params = (("spdiameter_low_angstrom", round(low, 3)), ("spdiameter_high_angstrom", round(high, 3)))
    return SizedCandidate(Candidate(ATTENUATED_CRYSTAL, symbol, params), ATTENUATED_CRYSTAL, ATTENUATED_CRYSTAL,
                          0, math.nan, (low + high) / 2)


_ENUMERATORS = {
    "icosahedron": _icosahedra,
    "decahedron": _decahedra,
    "octahedron": _octahedra,
    "truncated-octahedron": _truncated_octahedra,
    "cuboctahedron": _cuboctahedra,
    "sphere-fcc": _spheres("fcc"),
    "sphere-hcp": _spheres("hcp"),
    "sphere-bcc": _spheres("bcc"),
}

__all__ = ["ATTENUATED_CRYSTAL", "DEFAULT_MAX_PER_FAMILY", "FAMILIES", "SizeWindow", "SizedCandidate",
           "WINDOW_SIZES", "candidates_in_window", "decahedron_extent", "decahedron_subfamily"]
