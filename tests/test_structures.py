"""Cluster builders, their metadata and the structure-file reader.

Where the reference numbers come from (none of them is produced by swaxs):

* Mackay icosahedra and cuboctahedra with k = shells - 1 closed shells hold
  (10k^3 + 15k^2 + 11k + 3)/3 atoms, shell k holding 10k^2 + 2 (OEIS A005902:
  1, 13, 55, 147, 309, 561, 923); A. L. Mackay, Acta Cryst. 15, 916 (1962).
* Octahedral numbers n(2n^2 + 1)/3 (OEIS A005900: 1, 6, 19, 44, 85, 146).
  Cutting ``c`` layers off each of the six vertices removes six square
  pyramids of 1 + 4 + ... + c^2 = c(c+1)(2c+1)/6 atoms; the pyramids do not
  overlap while 2c + 1 <= n.  Regular truncated octahedra (n = 3c + 1) are OEIS
  A005910: 38, 201, 586, 1289.
* Decahedral numbers n(5n^2 + 1)/6 (OEIS A004068: 7, 23, 54, 105) for the
  regular decahedron (p = n, q = 1, r = 0); Ino decahedra with p = q have the
  icosahedral counts 13, 55; Marks decahedra (2,2,1) = 75, (2,3,1) = 101,
  (3,2,1) = 146, (3,3,1) = 192 (C. L. Cleveland and U. Landman, J. Chem. Phys.
  94, 7376 (1991)).
* ASE's own ``ase.cluster.Decahedron`` builder, an independent count of the
  Marks decahedron for :func:`decahedron_atom_count`.
* fcc sites are (a/2)(i, j, k) with i + j + k even, bcc sites (a/2)(i, j, k)
  with i, j, k all even or all odd: sphere counts by enumerating integers.
* Geometry of a 12-vertex shell: the vertices of shell k of a cuboctahedron or
  a Mackay icosahedron (as ASE builds it: radial spacing = the fcc
  nearest-neighbour distance a/sqrt(2)) lie k a/sqrt(2) from the centre.
  Surface coordination: cuboctahedron vertices 5, edge atoms 7, (100) facets
  8, (111) facets 9; icosahedron vertices 6, edges 8, faces 9.
* Au: a = 4.08 Å (ASE's reference state, from Kittel), d_nn = a/sqrt(2) =
  2.885 Å.

Lengths in Å throughout.
"""

from __future__ import annotations

import math
import warnings

import ase.io
import numpy as np
import pytest
from ase.build import bulk
from ase.cluster import Decahedron
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import ConvexHull, cKDTree

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.structures import (
    SHAPES,
    build_cluster,
    coordination_numbers,
    cuboctahedron,
    decahedron,
    decahedron_atom_count,
    icosahedron,
    lattice_sphere,
    octahedron,
    read_structure,
    truncated_octahedron,
)
from swaxs_lib.structures import builders

A_AU = 4.08  # Å, fcc Au
NN_AU = A_AU / math.sqrt(2.0)  # 2.885 Å


def mackay_count(shells: int) -> int:
    k = shells - 1
    return (10 * k**3 + 15 * k**2 + 11 * k + 3) // 3


def octahedral_count(length: int, cutoff: int = 0) -> int:
    n, c = length, cutoff
    return n * (2 * n * n + 1) // 3 - c * (c + 1) * (2 * c + 1)


def lattice_sites_in_sphere(lattice: str, a: float, diameter: float) -> int:
    """Count fcc or bcc sites within diameter/2 of a site, by integer enumeration."""
    radius = diameter / 2
    m = int(math.ceil(radius / (a / 2))) + 1
    i, j, k = np.meshgrid(*[np.arange(-m, m + 1)] * 3, indexing="ij")
    if lattice == "fcc":
        on_lattice = (i + j + k) % 2 == 0
    else:  # bcc
        on_lattice = (i % 2 == j % 2) & (j % 2 == k % 2)
    r = (a / 2) * np.sqrt(i * i + j * j + k * k)
    return int(np.sum(on_lattice & (r <= radius * (1 + 1e-9))))


# --- magic numbers -------------------------------------------------------------------------


@pytest.mark.parametrize("shells, expected", [(2, 13), (3, 55), (4, 147), (5, 309), (6, 561), (7, 923)])
def test_icosahedron_and_cuboctahedron_magic_numbers(shells, expected):
    assert mackay_count(shells) == expected  # the closed form reproduces OEIS A005902
    assert icosahedron("Au", shells).info.n_atoms == expected
    assert len(icosahedron("Au", shells).atoms) == expected
    assert cuboctahedron("Au", shells).info.n_atoms == expected
    assert len(cuboctahedron("Au", shells).atoms) == expected


@pytest.mark.parametrize("length, expected", [(1, 1), (2, 6), (3, 19), (4, 44), (5, 85), (6, 146)])
def test_octahedral_numbers(length, expected):
    assert octahedral_count(length) == expected
    assert len(octahedron("Au", length, 0).atoms) == expected


@pytest.mark.parametrize("cutoff, expected", [(1, 38), (2, 201), (3, 586), (4, 1289)])
def test_regular_truncated_octahedra(cutoff, expected):
    length = 3 * cutoff + 1
    assert octahedral_count(length, cutoff) == expected
    assert len(octahedron("Au", length, cutoff).atoms) == expected
    assert len(truncated_octahedron("Au", length, cutoff).atoms) == expected
    # the default cutoff of a truncated octahedron is the regular one
    assert len(truncated_octahedron("Au", length).atoms) == expected


@pytest.mark.parametrize("length", range(1, 10))
def test_truncated_octahedra_follow_the_pyramid_count(length):
    for cutoff in range(0, (length - 1) // 2 + 1):
        assert len(octahedron("Au", length, cutoff).atoms) == octahedral_count(length, cutoff), (length, cutoff)


@pytest.mark.parametrize("p, expected", [(2, 7), (3, 23), (4, 54), (5, 105)])
def test_regular_decahedra(p, expected):
    assert p * (5 * p * p + 1) // 6 == expected  # OEIS A004068
    assert decahedron_atom_count(p, 1, 0) == expected
    assert len(decahedron("Au", p, 1, 0).atoms) == expected


@pytest.mark.parametrize("p, expected", [(2, 13), (3, 55)])
def test_ino_decahedra(p, expected):
    assert decahedron_atom_count(p, p, 0) == expected
    assert len(decahedron("Au", p, p, 0).atoms) == expected


@pytest.mark.parametrize("pqr, expected", [((2, 2, 1), 75), ((2, 3, 1), 101), ((3, 2, 1), 146), ((3, 3, 1), 192)])
def test_marks_decahedra_of_cleveland_and_landman(pqr, expected):
    assert decahedron_atom_count(*pqr) == expected
    assert len(decahedron("Au", *pqr).atoms) == expected
    assert build_cluster("decahedron", "Au", p=pqr[0], q=pqr[1], r=pqr[2]).info.n_atoms == expected


def test_decahedron_count_matches_ase_builder_on_a_grid():
    wrong = [
        (p, q, r, decahedron_atom_count(p, q, r), len(Decahedron("Au", p, q, r)))
        for p in range(1, 8)
        for q in range(1, 5)
        for r in range(0, 4)
        if decahedron_atom_count(p, q, r) != len(Decahedron("Au", p, q, r))
    ]
    assert wrong == []


@pytest.mark.parametrize("pqr", [(1, 1, 0), (2, 2, 1), (3, 1, 2), (1, 4, 0), (4, 2, 3)])
def test_decahedron_positions_match_ase_after_centring(pqr):
    ours = decahedron("Au", *pqr).atoms.positions
    ref = Decahedron("Au", *pqr, latticeconstant=A_AU).positions
    ref = ref - ref.mean(axis=0)
    assert ours.shape == ref.shape
    # order-free comparison: every reference site has a distinct match within 1e-9 Å
    distance, index = cKDTree(ours).query(ref)
    assert distance.max() < 1e-9
    assert len(set(index.tolist())) == len(ref)


@settings(max_examples=30, deadline=None)
@given(p=st.integers(1, 5), q=st.integers(1, 4), r=st.integers(0, 3))
def test_decahedron_count_and_centroid_property(p, q, r):
    cluster = decahedron("Au", p, q, r)
    assert len(cluster.atoms) == decahedron_atom_count(p, q, r) == cluster.info.n_atoms
    assert np.abs(cluster.atoms.positions.mean(axis=0)).max() < 1e-9


@pytest.mark.parametrize("lattice", ["fcc", "bcc"])
@pytest.mark.parametrize("diameter", [2.0, 5.77, 9.0, 15.0, 21.3])
def test_sphere_counts_match_lattice_enumeration(lattice, diameter):
    cluster = lattice_sphere("Au", diameter, lattice)
    a = A_AU if lattice == "fcc" else NN_AU / (math.sqrt(3) / 2)
    assert len(cluster.atoms) == lattice_sites_in_sphere(lattice, a, diameter)


def test_fcc_sphere_of_15_angstrom_has_87_atoms():
    # shells at sqrt(n) d_nn, n = 1..6, hold 12, 6, 24, 12, 24, 8 sites; n = 7 (7.63 Å) is outside 7.5 Å
    assert 1 + 12 + 6 + 24 + 12 + 24 + 8 == 87
    assert lattice_sphere("Au", 15.0, "fcc").info.n_atoms == 87


# --- shells in tags ------------------------------------------------------------------------


@pytest.mark.parametrize("builder", [icosahedron, cuboctahedron])
def test_shell_index_in_tags(builder):
    tags = builder("Au", 6).atoms.get_tags()
    counts = [int(np.sum(tags == shell)) for shell in range(1, 7)]
    assert counts == [1] + [10 * k * k + 2 for k in range(1, 6)]  # 1, 12, 42, 92, 162, 252
    assert counts[:5] == [1, 12, 42, 92, 162]


@pytest.mark.parametrize("builder", [icosahedron, cuboctahedron])
def test_shell_radius_of_vertices(builder):
    # the farthest atoms of shell k are the 12 vertices at k a/sqrt(2)
    atoms = builder("Au", 5).atoms
    tags = atoms.get_tags()
    radius = np.linalg.norm(atoms.positions, axis=1)
    for shell in range(2, 6):
        r = radius[tags == shell]
        assert r.max() == pytest.approx((shell - 1) * NN_AU, abs=1e-9)
        assert np.sum(np.isclose(r, r.max(), atol=1e-9)) == 12


# --- coordination --------------------------------------------------------------------------


def test_cuboctahedron_coordination_closed_form():
    shells = 5
    k = shells - 1
    atoms = cuboctahedron("Au", shells).atoms
    cn = coordination_numbers(atoms)
    tags = atoms.get_tags()
    assert np.all(cn[tags < shells] == 12)
    surface = cn[tags == shells]
    counts = {c: int(np.sum(surface == c)) for c in np.unique(surface)}
    assert counts == {5: 12, 7: 24 * (k - 1), 8: 6 * (k - 1) ** 2, 9: 4 * (k - 1) * (k - 2)}


def test_icosahedron_coordination_closed_form():
    shells = 5
    k = shells - 1
    atoms = icosahedron("Au", shells).atoms
    cn = coordination_numbers(atoms)
    tags = atoms.get_tags()
    assert cn[tags == 1].tolist() == [12]  # the central atom
    assert np.all(cn[tags < shells] == 12)
    surface = cn[tags == shells]
    counts = {c: int(np.sum(surface == c)) for c in np.unique(surface)}
    assert counts == {6: 12, 8: 30 * (k - 1), 9: 10 * (k - 1) * (k - 2)}


@pytest.mark.parametrize(
    "cluster, bulk_cn",
    [
        (lambda: lattice_sphere("Au", 25.0, "fcc"), 12),
        (lambda: lattice_sphere("Au", 25.0, "hcp"), 12),
        (lambda: cuboctahedron("Au", 6), 12),
        (lambda: lattice_sphere("Au", 25.0, "bcc"), 8),
    ],
    ids=["fcc-sphere", "hcp-sphere", "cuboctahedron", "bcc-sphere"],
)
def test_interior_and_surface_coordination(cluster, bulk_cn):
    atoms = cluster().atoms
    cn = coordination_numbers(atoms)
    # depth below the convex hull, not R - |r|: the (100) facets of a
    # cuboctahedron lie at 0.71 R, so "|r| < R - 3 Å" would take facet atoms
    hull = ConvexHull(atoms.positions)
    depth = -(atoms.positions @ hull.equations[:, :3].T + hull.equations[:, 3]).max(axis=1)
    interior = depth > 3.0
    assert interior.sum() > 10
    assert np.all(cn[interior] == bulk_cn)
    assert np.all(cn[hull.vertices] < bulk_cn)
    assert np.all(cn <= bulk_cn)


# --- centring, cell, pbc -------------------------------------------------------------------

ALL_BUILDS = {
    "icosahedron": lambda: icosahedron("Au", 4),
    "decahedron": lambda: decahedron("Au", 3, 2, 1),
    "octahedron": lambda: octahedron("Au", 5, 0),
    "octahedron-truncated": lambda: octahedron("Au", 6, 2),
    "cuboctahedron": lambda: cuboctahedron("Au", 4),
    "truncated-octahedron": lambda: truncated_octahedron("Au", 7, 2),
    "sphere-fcc": lambda: lattice_sphere("Au", 14.0, "fcc"),
    "sphere-bcc": lambda: lattice_sphere("Fe", 14.0, "bcc"),
    "sphere-hcp": lambda: lattice_sphere("Co", 14.0, "hcp"),
    "build_cluster": lambda: build_cluster("sphere", "Au", diameter_angstrom=12.0, lattice="hcp"),
}


@pytest.mark.parametrize("name", list(ALL_BUILDS))
def test_centred_with_no_cell(name):
    atoms = ALL_BUILDS[name]().atoms
    assert np.abs(atoms.positions.mean(axis=0)).max() < 1e-9
    assert np.all(atoms.cell.array == 0.0)
    assert not atoms.pbc.any()


def test_every_shape_has_a_build_in_this_file():
    assert {name.split("-")[0] for name in ALL_BUILDS} >= {s.split("-")[0] for s in SHAPES}


# --- metadata ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cluster",
    [
        lambda: cuboctahedron("Au", 4),
        lambda: octahedron("Au", 5, 0),
        lambda: truncated_octahedron("Au", 7, 2),
        lambda: lattice_sphere("Au", 20.0, "fcc"),
        lambda: decahedron("Au", 1, 4, 0),  # the bare five-fold axis, 4 atoms a/sqrt(2) apart
    ],
    ids=["cuboctahedron", "octahedron", "truncated-octahedron", "fcc-sphere", "decahedron-1-4-0"],
)
def test_mean_nn_distance_of_fcc_clusters(cluster):
    info = cluster().info
    assert info.mean_nn_distance_angstrom == pytest.approx(NN_AU, abs=1e-9)
    assert info.lattice_constant_angstrom == pytest.approx(A_AU, abs=1e-12)
    assert info.elements == ("Au",)
    assert info.formula == f"Au{info.n_atoms}"


@pytest.mark.parametrize("builder", [cuboctahedron, icosahedron])
@pytest.mark.parametrize("shells", [2, 3, 4, 5])
def test_diameter_is_vertex_to_vertex(builder, shells):
    # opposite vertices of the outer shell, each k a/sqrt(2) from the centre
    expected = 2 * (shells - 1) * A_AU / math.sqrt(2)
    assert builder("Au", shells).info.extent_angstrom == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("builder", [cuboctahedron, icosahedron])
def test_radius_of_gyration_of_13_atoms(builder):
    # 12 atoms at d = a/sqrt(2) and one at the centre: Rg^2 = 12 d^2 / 13
    info = builder("Au", 2).info
    assert info.radius_of_gyration_angstrom == pytest.approx(math.sqrt(12 / 13) * NN_AU, abs=1e-9)


def test_radius_of_gyration_of_55_atom_cuboctahedron():
    # shell 2: 12 at d; shell 3: 12 vertices at 2d, 6 square centres at sqrt(2) d, 24 at sqrt(3) d
    # sum r^2 = (12 + 48 + 12 + 72) d^2 = 144 d^2 over 55 atoms
    info = cuboctahedron("Au", 3).info
    assert info.radius_of_gyration_angstrom == pytest.approx(12 * NN_AU / math.sqrt(55), abs=1e-9)


def test_single_atom_metadata():
    info = icosahedron("Au", 1).info
    assert info.n_atoms == 1
    assert info.extent_angstrom == 0.0
    assert info.radius_of_gyration_angstrom == 0.0
    assert info.mean_nn_distance_angstrom is None


@pytest.mark.parametrize(
    "make",
    [
        lambda a: icosahedron("Au", 4, lattice_constant_angstrom=a),
        lambda a: decahedron("Au", 2, 2, 1, lattice_constant_angstrom=a),
        lambda a: cuboctahedron("Au", 3, lattice_constant_angstrom=a),
        lambda a: octahedron("Au", 5, 1, lattice_constant_angstrom=a),
        lambda a: lattice_sphere("Au", 15.0 * a / A_AU, "fcc", lattice_constant_angstrom=a),
    ],
    ids=["icosahedron", "decahedron", "cuboctahedron", "octahedron", "sphere"],
)
def test_lattice_constant_override_scales_every_distance(make):
    ratio = 3.6 / A_AU
    default, scaled = make(A_AU), make(3.6)
    assert scaled.info.lattice_constant_angstrom == 3.6
    assert len(scaled.atoms) == len(default.atoms)
    # order-free: the sphere builder may list the same sites in another order
    distance, index = cKDTree(scaled.atoms.positions).query(default.atoms.positions * ratio)
    assert distance.max() < 1e-9
    assert len(set(index.tolist())) == len(index)
    assert scaled.info.extent_angstrom == pytest.approx(default.info.extent_angstrom * ratio, abs=1e-9)
    assert scaled.info.radius_of_gyration_angstrom == pytest.approx(default.info.radius_of_gyration_angstrom * ratio, abs=1e-9)
    assert scaled.info.mean_nn_distance_angstrom == pytest.approx(default.info.mean_nn_distance_angstrom * ratio, abs=1e-9)


def test_lattice_constant_override_sets_nn_distance():
    info = cuboctahedron("Au", 4, lattice_constant_angstrom=3.6).info
    assert info.mean_nn_distance_angstrom == pytest.approx(3.6 / math.sqrt(2), abs=1e-9)


@pytest.mark.parametrize("lattice", ["fcc", "bcc", "hcp"])
@pytest.mark.parametrize("diameter", [6.0, 10.0, 15.3, 22.2, 30.0])
def test_sphere_diameter_within_one_bond_of_request(lattice, diameter):
    info = lattice_sphere("Au", diameter, lattice).info
    assert info.extent_angstrom <= diameter + 1e-9
    assert info.extent_angstrom > diameter - NN_AU
    assert info.parameters == (("diameter_angstrom", diameter), ("lattice", lattice))


@pytest.mark.parametrize("lattice", ["bcc", "hcp"])
def test_non_native_lattice_keeps_the_nn_distance(lattice):
    # Au is fcc; a bcc or hcp Au sphere keeps d_nn = 4.08/sqrt(2) = 2.885 Å
    atoms = lattice_sphere("Au", 18.0, lattice).atoms
    d, _ = cKDTree(atoms.positions).query(atoms.positions, k=2)
    assert d[:, 1].min() == pytest.approx(NN_AU, abs=1e-9)
    assert lattice_sphere("Au", 18.0, lattice).info.mean_nn_distance_angstrom == pytest.approx(NN_AU, abs=1e-9)


def test_bcc_sphere_of_bcc_element_uses_its_own_lattice_constant():
    # Fe: bcc, a = 2.87 Å in ASE's reference states, d_nn = a sqrt(3)/2
    info = lattice_sphere("Fe", 15.0, "bcc").info
    assert info.lattice_constant_angstrom == pytest.approx(2.87, abs=1e-12)
    assert info.mean_nn_distance_angstrom == pytest.approx(2.87 * math.sqrt(3) / 2, abs=1e-9)


def test_info_to_dict_is_json_ready():
    import json

    d = decahedron("Au", 3, 1, 2).info.to_dict()
    assert d["parameters"] == {"p": 3, "q": 1, "r": 2}
    assert d["elements"] == ["Au"]
    json.dumps(d, allow_nan=False)


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, needle",
    [
        (lambda: icosahedron("Xx", 3), "Xx"),
        (lambda: icosahedron("H", 3), "H"),  # reference state is a diatom
        (lambda: lattice_sphere("He", 10.0), "He"),
        (lambda: icosahedron("Au", 0), "shells"),
        (lambda: icosahedron("Au", -2), "shells"),
        (lambda: icosahedron("Au", 2.5), "shells"),
        (lambda: icosahedron("Au", float("nan")), "shells"),
        (lambda: cuboctahedron("Au", 0), "shells"),
        (lambda: cuboctahedron("Au", 2.5), "shells"),
        (lambda: decahedron("Au", 0, 1, 0), "p: "),
        (lambda: decahedron("Au", 2, 0, 0), "q: "),
        (lambda: decahedron("Au", 2, 2, -1), "r: "),
        (lambda: octahedron("Au", 4, 2), "cutoff"),
        (lambda: octahedron("Au", 0, 0), "length"),
        (lambda: truncated_octahedron("Au", 5, 3), "cutoff"),
        (lambda: lattice_sphere("Au", 0.0), "diameter_angstrom"),
        (lambda: lattice_sphere("Au", -5.0), "diameter_angstrom"),
        (lambda: lattice_sphere("Au", float("nan")), "diameter_angstrom"),
        (lambda: lattice_sphere("Au", float("inf")), "diameter_angstrom"),
        (lambda: lattice_sphere("Au", 10.0, "bct"), "bct"),
        (lambda: icosahedron("Au", 3, lattice_constant_angstrom=0.0), "lattice_constant_angstrom"),
        (lambda: icosahedron("Au", 3, lattice_constant_angstrom=float("nan")), "lattice_constant_angstrom"),
        (lambda: build_cluster("cube", "Au", shells=3), "cube"),
        (lambda: build_cluster("icosahedron", "Au", p=3), "icosahedron"),
        (lambda: build_cluster("icosahedron", "Au"), "shells"),
    ],
)
def test_bad_input_raises_swaxs_input_error(call, needle):
    with pytest.raises(SwaxsInputError) as info:
        call()
    assert needle in str(info.value)


@pytest.fixture
def no_building(monkeypatch):
    """Make reaching ASE's builders an error: the size check must come first."""

    def refuse(*args, **kwargs):
        raise AssertionError("the builder was called before the size check")

    for name in ("Icosahedron", "Decahedron", "Octahedron", "bulk"):
        monkeypatch.setattr(builders, name, refuse)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: icosahedron("Au", 10_000), id="icosahedron"),
        pytest.param(lambda: cuboctahedron("Au", 10_000), id="cuboctahedron"),
        pytest.param(lambda: decahedron("Au", 10_000, 10_000, 10_000), id="decahedron"),
        pytest.param(lambda: octahedron("Au", 10_000, 0), id="octahedron"),
        pytest.param(lambda: truncated_octahedron("Au", 10_000), id="truncated-octahedron"),
        pytest.param(lambda: lattice_sphere("Au", 1e5, "fcc"), id="sphere-fcc"),
        pytest.param(lambda: lattice_sphere("Au", 1e5, "bcc"), id="sphere-bcc"),
        pytest.param(lambda: lattice_sphere("Au", 1e5, "hcp"), id="sphere-hcp"),
        pytest.param(lambda: lattice_sphere("Au", 1e300, "fcc"), id="sphere-1e300"),
    ],
)
def test_too_many_atoms_fails_before_building(no_building, call):
    with pytest.raises(SwaxsInputError, match="atoms"):
        call()


# --- read_structure ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "suffix, tolerance",
    [
        (".xyz", 1e-8),  # ASE writes %16.8f: 5e-9 rounding plus at most 5e-9 from re-centring
        (".extxyz", 1e-8),
        (".cif", 1e-9),  # ASE writes Cartesian coordinates of a cell-less cluster in full precision
        (".pdb", 1e-3),  # %8.3f
    ],
)
def test_read_structure_round_trip(tmp_path, suffix, tolerance):
    cluster = decahedron("Au", 3, 2, 1)
    path = tmp_path / f"cluster{suffix}"
    ase.io.write(path, cluster.atoms)
    read = read_structure(path)
    assert read.atoms.get_chemical_symbols() == cluster.atoms.get_chemical_symbols()
    np.testing.assert_allclose(read.atoms.positions, cluster.atoms.positions, rtol=0, atol=tolerance)
    assert np.abs(read.atoms.positions.mean(axis=0)).max() < 1e-9
    assert np.all(read.atoms.cell.array == 0.0) and not read.atoms.pbc.any()
    assert read.info.shape == "file"
    assert dict(read.info.parameters) == {"file": path.name}
    assert read.info.n_atoms == 146
    assert read.info.mean_nn_distance_angstrom == pytest.approx(cluster.info.mean_nn_distance_angstrom, abs=tolerance * 2)


def test_read_periodic_cif_drops_the_cell_with_a_warning(tmp_path):
    path = tmp_path / "gold.cif"
    ase.io.write(path, bulk("Au", "fcc", a=A_AU, cubic=True))
    with pytest.warns(UserWarning, match="gold.cif"):
        read = read_structure(path)
    assert read.info.n_atoms == 4
    assert np.all(read.atoms.cell.array == 0.0) and not read.atoms.pbc.any()
    assert read.info.mean_nn_distance_angstrom == pytest.approx(NN_AU, abs=1e-6)


BAD_FILES = {
    "empty.xyz": b"",
    "cluster.txt": b"1\n\nAu 0 0 0\n",
    "garbage.xyz": b"hello\nworld\n",
    "binary.xyz": bytes(range(256)) * 8,
    "binary.cif": bytes(range(256)) * 8,
    "nan.xyz": b"2\n\nAu 0 0 0\nAu nan 0 0\n",
    "inf.xyz": b"2\n\nAu 0 0 0\nAu 0 inf 0\n",
    "unknown.xyz": b"2\n\nAu 0 0 0\nQq 1 0 0\n",
    "dummy.xyz": b"2\n\nAu 0 0 0\nX 1 0 0\n",
    "short.xyz": b"3\n\nAu 0 0 0\nAu 2.9 0 0\n",
    "no-atoms.pdb": b"hello\nworld\n",
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_structure_file(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a bad file is an error, not a warning
        with pytest.raises(SwaxsInputError) as info:
            read_structure(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("name", ["missing.xyz", "folder.xyz"])
def test_missing_structure_file(tmp_path, name):
    path = tmp_path / name
    if name == "folder.xyz":
        path.mkdir()
    with pytest.raises(SwaxsInputError) as info:
        read_structure(path)
    assert str(path) in str(info.value)
