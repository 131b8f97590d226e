"""Candidates in a size window (swaxs_lib.candidates): claimed sizes against built clusters, completeness
against brute force, atom counts against published magic numbers, and the time it takes.

References for the counts: Mackay (1962) icosahedra and cuboctahedra 13, 55, 147, 309, 561
((10 n^3 + 15 n^2 + 11 n + 3)/3); octahedral numbers 6, 19, 44, 85, 146 (n (2 n^2 + 1)/3); regular
truncated octahedra 38, 201, 586 (Baletto & Ferrando, Rev. Mod. Phys. 77, 371 (2005), Table I);
regular decahedra (pentagonal bipyramids) 7, 23, 54, 105, 181 ((5 n^3 + n)/6, OEIS A004068); Ino
decahedra with p = q have the icosahedral numbers 13, 55, 147 (Baletto & Ferrando, section III.A);
Marks decahedra (2, 2, 1) = 75, (2, 3, 1) = 101, (3, 2, 1) = 146 (Cleveland & Landman, J. Chem. Phys.
94, 7376 (1991)).
"""

from __future__ import annotations

import math
import re
import time
import warnings

import numpy as np
import pytest

from ase.cluster import Decahedron

from swaxs_lib import candidates as cand
from swaxs_lib.candidates import FAMILIES, SizeWindow, candidates_in_window
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.structures import build_cluster, lattice_sphere
from swaxs_lib.structures.elements import lattice_constant
from swaxs_lib.structures.metadata import max_pair_distance
from swaxs_lib.structures.sizes import cluster_sizes, volume_diameter

DISCRETE = [f for f in FAMILIES if f != "attenuated-crystal"]


def _all(element, window, families=None):
    return candidates_in_window(element, window, families, max_per_family=10**6)


def _key(c):
    return (c.candidate.shape, tuple(sorted(c.candidate.params)))


@pytest.mark.parametrize("family", DISCRETE)
def test_claimed_sizes_match_built_clusters(family):
    """Five candidates spread over the family's 5-32 Å (extent) window, built and measured.

    Tolerances: atom count exact; extent 1e-6 Å (closed forms of the same geometry); volume-equivalent
    diameter 1e-6 relative from 140 atoms up, where cluster_sizes finds closed Voronoi cells at the
    centre; smaller clusters' measured volume per atom comes from few or no cells, and differs by up to
    10 % (a 27-atom bcc sphere: 9.4 %).
    """
    found = _all("Au", ("extent_angstrom", 5.0, 32.0), [family])
    assert len(found) >= 2
    picks = sorted({round(x) for x in np.linspace(0, len(found) - 1, 5)})
    for i in picks:
        c = found[i]
        atoms = c.candidate.build().atoms
        sizes = cluster_sizes(atoms.positions)
        assert len(atoms) == c.n_atoms, c
        assert sizes["extent_angstrom"] == pytest.approx(c.extent_angstrom, abs=1e-6), c
        assert 5.0 <= sizes["extent_angstrom"] <= 32.0
        tolerance = 1e-6 if c.n_atoms >= 140 else 0.10
        assert sizes["volume_diameter_angstrom"] == pytest.approx(c.volume_diameter_angstrom, rel=tolerance), c


def test_decahedra_complete_against_brute_force():
    """Every (p, q, r) built up to p + q + 2r - 1 <= 9 (the five-fold axis alone is longer than 20 Å beyond)."""
    window = ("extent_angstrom", 8.0, 20.0)
    a = lattice_constant("Au")  # ASE's builder itself, as swaxs_lib's decahedron() uses it, without the metadata
    d = a / math.sqrt(2)
    assert 9 * d > 20.0
    built = set()
    for r in range(0, 5):
        for p in range(1, 10):
            for q in range(1, 10):
                if p + q + 2 * r - 1 > 9 or (p == 1 and r == 0):
                    continue
                extent = max_pair_distance(Decahedron("Au", p, q, r, latticeconstant=a).positions)
                if 8.0 <= extent <= 20.0:
                    built.add((p, q, r))
    found = {(dict(c.candidate.params)["p"], dict(c.candidate.params)["q"], dict(c.candidate.params)["r"])
             for c in _all("Au", window, ["decahedron"])}
    assert found == built
    assert {c.subfamily for c in _all("Au", window, ["decahedron"])} == {"regular", "Ino", "Marks"}


def test_decahedra_complete_in_a_volume_window():
    """Volume-diameter window: every (p, q, r) with at most 400 atoms, counted from the built cluster."""
    a = lattice_constant("Au")
    d = a / math.sqrt(2)
    v = 0.75 * math.sin(2 * math.pi / 5) * d**3  # ASE's decahedron: in-plane spacing d sqrt(3)/2 * 2 sin 36°
    assert volume_diameter(400, v) > 16.0
    # atom counts grow with p, q and r: beyond p = 8 (r = 0) and r = 3 (p = 1) every one has more than 400
    assert len(build_cluster("decahedron", "Au", p=9, q=1, r=0).atoms) > 400
    assert len(build_cluster("decahedron", "Au", p=1, q=1, r=4).atoms) > 400
    built = set()
    for r in range(0, 4):
        for p in range(1, 9):
            for q in range(1, 40):
                if p == 1 and r == 0:
                    continue
                n = len(Decahedron("Au", p, q, r, latticeconstant=a))
                if n > 400:
                    break
                if 12.0 <= volume_diameter(n, v) <= 16.0:
                    built.add((p, q, r))
    found = {tuple(dict(c.candidate.params)[k] for k in "pqr")
             for c in _all("Au", ("volume_diameter_angstrom", 12.0, 16.0), ["decahedron"])}
    assert found == built


def test_polyhedra_complete_against_brute_force():
    window = ("extent_angstrom", 8.0, 25.0)
    expected = set()
    for shells in range(2, 8):
        for shape in ("icosahedron", "cuboctahedron"):
            s = max_pair_distance(build_cluster(shape, "Cu", shells=shells).atoms.positions)
            if 8.0 <= s <= 25.0:
                expected.add((shape, (("shells", shells),)))
    for length in range(2, 12):  # an octahedron's extent is at least (length - 1) a / sqrt 2 > 25 Å beyond
        for cutoff in range(0, (length - 1) // 2 + 1):
            if 2 * cutoff + 1 == length:
                continue  # the cuboctahedron, listed as its own family
            shape = "octahedron" if cutoff == 0 else "truncated-octahedron"
            s = max_pair_distance(build_cluster("octahedron", "Cu", length=length, cutoff=cutoff).atoms.positions)
            if 8.0 <= s <= 25.0:
                expected.add((shape, tuple(sorted((("length", length), ("cutoff", cutoff))))))
    assert 10 * lattice_constant("Cu") / math.sqrt(2) > 25.0
    found = {_key(c) for c in _all("Cu", window, ["icosahedron", "cuboctahedron", "octahedron",
                                                  "truncated-octahedron"])}
    assert found == expected


@pytest.mark.parametrize("lattice", ["fcc", "bcc", "hcp"])
def test_spheres_complete_against_a_fine_diameter_grid(lattice):
    """Every 0.01 Å of diameter from 6 to 16 Å, the sites of one large built sphere within D/2 of its
    centre site (the builder's rule, checked by building ten of them): every distinct cluster whose
    extent lies in 8-13 Å is listed, with that extent."""
    big = lattice_sphere("Ni", 17.0, lattice).atoms.positions
    centre = big[np.argmin(np.linalg.norm(big - big.mean(axis=0), axis=1))]
    distance = np.linalg.norm(big - centre, axis=1)
    grid = np.arange(6.0, 16.0, 0.01)
    built = {}
    for diameter in grid:
        inside = big[distance <= diameter / 2 * (1 + 1e-9)]
        extent = max_pair_distance(inside)
        if 8.0 <= extent <= 13.0:
            built[len(inside)] = extent
    for diameter in grid[::100]:
        assert len(lattice_sphere("Ni", float(diameter), lattice).atoms) == int(np.sum(distance <= diameter / 2 * (1 + 1e-9)))
    found = {c.n_atoms: c.extent_angstrom for c in _all("Ni", ("extent_angstrom", 8.0, 13.0), [f"sphere-{lattice}"])}
    assert set(found) == set(built)
    for n, extent in built.items():
        assert found[n] == pytest.approx(extent, abs=1e-6)


def test_magic_numbers():
    wide = ("extent_angstrom", 0.0, 30.0)
    counts = {f: [c.n_atoms for c in _all("Au", wide, [f])] for f in DISCRETE}
    assert counts["icosahedron"][:5] == [13, 55, 147, 309, 561]
    assert counts["cuboctahedron"][:4] == [13, 55, 147, 309]
    assert counts["octahedron"][:5] == [6, 19, 44, 85, 146]
    regular = {c.n_atoms for c in _all("Au", wide, ["truncated-octahedron"]) if c.subfamily == "regular"}
    assert {38, 201, 586} <= regular
    deca = {tuple(dict(c.candidate.params)[k] for k in "pqr"): c for c in _all("Au", wide, ["decahedron"])}
    for p in range(2, 7):
        assert deca[(p, 1, 0)].n_atoms == (5 * p**3 + p) // 6
        assert deca[(p, 1, 0)].subfamily == "regular"
    for p, n in ((2, 13), (3, 55), (4, 147)):
        assert deca[(p, p, 0)].n_atoms == n and deca[(p, p, 0)].subfamily == "Ino"
    for pqr, n in (((2, 2, 1), 75), ((2, 3, 1), 101), ((3, 2, 1), 146)):
        assert deca[pqr].n_atoms == n and deca[pqr].subfamily == "Marks"


def test_enumeration_is_fast():
    cand._lattice_shells.cache_clear()
    start = time.perf_counter()
    found = _all("Au", ("extent_angstrom", 10.0, 40.0))
    elapsed = time.perf_counter() - start
    assert {c.family for c in found} == set(FAMILIES)
    assert elapsed < 1.0


def test_cap_keeps_the_sizes_spread_and_warns():
    every = _all("Au", ("extent_angstrom", 10.0, 40.0), ["decahedron"])
    with pytest.warns(UserWarning, match=r"decahedron: \d+ candidates in the window; keeping 7"):
        kept = candidates_in_window("Au", ("extent_angstrom", 10.0, 40.0), ["decahedron"], max_per_family=7)
    assert len(kept) == 7
    assert kept[0] == every[0] and kept[-1] == every[-1]
    sizes = np.array([c.extent_angstrom for c in kept])
    gaps = np.diff(sizes)
    assert gaps.max() < 3 * (sizes[-1] - sizes[0]) / 6  # evenly spread, not bunched at one end
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        candidates_in_window("Au", ("extent_angstrom", 10.0, 20.0), ["icosahedron"], max_per_family=2)


def test_attenuated_crystal_range():
    found = _all("Pt", ("extent_angstrom", 15.0, 25.0))
    (crystal,) = [c for c in found if c.family == "attenuated-crystal"]
    params = dict(crystal.candidate.params)
    discrete = [c.volume_diameter_angstrom for c in found if c.family.startswith("sphere-")]
    assert 15.0 < min(discrete) < max(discrete) < 25.0 + 2 * lattice_constant("Pt")
    assert params["spdiameter_low_angstrom"] == pytest.approx(min(discrete), abs=1e-3)
    assert params["spdiameter_high_angstrom"] == pytest.approx(max(discrete), abs=1e-3)
    alone = _all("Pt", ("extent_angstrom", 15.0, 25.0), ["attenuated-crystal"])
    assert [c.candidate for c in alone] == [crystal.candidate]
    only = _all("Pt", ("volume_diameter_angstrom", 15.0, 25.0), ["attenuated-crystal"])
    assert [dict(c.candidate.params) for c in only] == [{"spdiameter_low_angstrom": 15.0,
                                                         "spdiameter_high_angstrom": 25.0}]


@pytest.mark.parametrize("window, families, message", [
    (("diameter", 1, 2), None, "window size: got 'diameter'"),
    (("extent_angstrom", 20, 10), None, "expected numbers 0 <= low <= high <= 200"),
    (("extent_angstrom", 20, 500), None, "got low 20.0, high 500.0 Å; expected numbers 0 <= low <= high <= 200"),
    (("extent_angstrom", "a", 10), None, "window: got low 'a', high 10; expected numbers"),
    ((10, 20), None, "window: got (10, 20); expected (size, low, high)"),
    (("extent_angstrom", 10, 20), ["tetrahedron"], "families: got 'tetrahedron'"),
])
def test_bad_input(window, families, message):
    with pytest.raises(SwaxsInputError, match=re.escape(message)):
        candidates_in_window("Au", window, families)


def test_window_object():
    w = SizeWindow("extent_angstrom", 10.0, 20.0)
    assert [c.n_atoms for c in candidates_in_window("Au", w, ["icosahedron"])] == [55, 147]


def test_candidates_beyond_a_sweeps_limit_are_left_out():
    with pytest.warns(UserWarning, match="sphere-fcc: .* more than 100000 atoms"):
        found = candidates_in_window("Au", ("volume_diameter_angstrom", 140.0, 160.0), ["sphere-fcc"], 10**6)
    assert found and max(c.n_atoms for c in found) <= 100_000
    a = lattice_constant("Au")  # 100 000 atoms of a^3/4 fill a 148 Å sphere
    assert max(c.volume_diameter_angstrom for c in found) <= volume_diameter(100_000, a**3 / 4)
