"""The physics SAXS-only sizer (swaxs_lib/ml/saxs_physics.py).

References: the structure factors against the Debye sum written out over every atom pair (numpy, not our
histogram); the sizer on gold clusters built by ASE (ase.cluster) with I(Q) from ASE's own Debye code
(ase.utils.xrdebye: its own form factors and damping), on a Q grid of the user's (not the database's),
with Poisson counting noise and a flat background.  Truth: the cluster's largest atom-atom distance and,
for "within one shell", the shell step of the database's member with that many atoms.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase.cluster import Decahedron, Icosahedron, Octahedron
from ase.utils.xrdebye import XrDebye

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.ml.catalog import families
from swaxs_lib.ml.experts import within_shell_or_5_percent
from swaxs_lib.ml.models import load_bundle
from swaxs_lib.ml.saxs_physics import (X_GRID, SaxsPhysics, decode_log_structure, encode_log_structure, physics_for,
                                       structure_table)

Q_USER = np.geomspace(0.02, 0.3, 90)
COUNTS = 1e4


@pytest.fixture(scope="module")
def physics() -> SaxsPhysics:
    return physics_for(load_bundle())


def _extent_nm(atoms) -> float:
    x = atoms.positions
    return float(np.sqrt(((x[:, None] - x[None]) ** 2).sum(-1)).max()) / 10


def _ase_intensity(atoms, q: np.ndarray) -> np.ndarray:
    return np.array(XrDebye(atoms, wavelength=1.0, method=None).calc_pattern(x=q, mode="SAXS"))


def _ase_curve(atoms, seed: int = 0) -> np.ndarray:
    """ASE's Debye I(Q) at Q_USER with Poisson noise (COUNTS at the median) and a 2 % flat background."""
    clean = _ase_intensity(atoms, Q_USER)
    ref = np.median(clean)
    return np.random.default_rng(seed).poisson(clean / ref * COUNTS) * ref / COUNTS + 0.02 * ref


def _shell_nm(table, atoms, family: str) -> float:
    member = (table["n_atoms"] == len(atoms)) & (table["family"] == family)
    assert member.sum() == 1, f"no single {family} member of {len(atoms)} atoms"
    return float(table["shell_step_angstrom"][member][0]) / 10


def test_structure_factors_are_the_debye_sum_over_every_pair():
    from swaxs_lib.structures import build_cluster

    table = structure_table(max_diameter_angstrom=12.0)  # the 13- to 55-atom members: seconds
    assert 3 <= len(table["family"]) <= 20
    log_s = decode_log_structure(table)
    x = X_GRID[::150]
    for i in range(0, len(table["family"]), 3):
        family = str(table["family"][i])
        member = next(m for m in families(12.0)[family] if m.n_atoms == table["n_atoms"][i])
        positions = build_cluster(member.shape, "Au", **member.parameters).atoms.positions
        r = np.sqrt(((positions[:, None] - positions[None]) ** 2).sum(-1))
        exact = np.sinc(np.outer(x, r.ravel()) / np.pi).sum(axis=1)  # sum_ij sin(x r)/(x r), i = j terms 1
        np.testing.assert_allclose(np.exp(log_s[i, ::150]), exact, rtol=2e-3)


def test_log_structure_codes_keep_4e_4_relative_precision():
    rng = np.random.default_rng(0)
    log_s = np.cumsum(rng.normal(0, 0.05, (3, 500)), axis=1) + np.array([[0.0], [5.0], [14.0]])
    back = decode_log_structure(encode_log_structure(log_s))
    assert np.max(np.abs(np.exp(back - log_s) - 1)) < 4e-4


@pytest.mark.parametrize("build, arguments, family", [
    (Icosahedron, ("Au", 4), "icosahedron"),
    (Icosahedron, ("Au", 5), "icosahedron"),
    (Decahedron, ("Au", 2, 2, 1), "decahedron q=2 r=1"),
    (Decahedron, ("Au", 5, 1, 0), "decahedron q=1 r=0"),
])
def test_ase_clusters_are_sized_from_their_saxs_window(physics, build, arguments, family):
    atoms = build(*arguments)
    table = load_bundle().extras["saxs_structures"]
    got = physics.estimate(Q_USER, _ase_curve(atoms), (0.02, 0.3))
    truth = _extent_nm(atoms)
    assert within_shell_or_5_percent(np.array([got.extent_nm]), np.array([truth]),
                                     np.array([_shell_nm(table, atoms, family)]))[0], (got, truth)
    assert got.extent_probability > 0.75
    assert got.extent_interval_nm[0] <= got.extent_nm <= got.extent_interval_nm[1]


def test_a_shape_the_saxs_window_cannot_tell_is_not_confidently_wrong(physics):
    """An fcc octahedron looks like a smaller rounder particle below 0.3 1/Å: the extent (its vertex to
    vertex distance) comes out short, and the reported probability says the decision is uncertain."""
    atoms = Octahedron("Au", 8)  # 344 atoms, the database's octahedron member
    table = load_bundle().extras["saxs_structures"]
    got = physics.estimate(Q_USER, _ase_curve(atoms), (0.02, 0.3))
    right = within_shell_or_5_percent(np.array([got.extent_nm]), np.array([_extent_nm(atoms)]),
                                      np.array([_shell_nm(table, atoms, "octahedron")]))[0]
    assert right or got.extent_probability < 0.75, got
    # told the shape, the extent is right
    told = physics.estimate(Q_USER, _ase_curve(atoms), (0.02, 0.3), group_weights={"octahedron": 1.0})
    assert within_shell_or_5_percent(np.array([told.extent_nm]), np.array([_extent_nm(atoms)]),
                                     np.array([_shell_nm(table, atoms, "octahedron")]))[0], told


def test_a_spread_of_icosahedra_gets_its_number_mean_within_a_shell_and_is_called_polydisperse(physics):
    shells = (3, 4, 5)
    weights = (0.3, 0.4, 0.3)
    clusters = [Icosahedron("Au", k) for k in shells]
    clean = sum(w * _ase_intensity(a, Q_USER) for w, a in zip(weights, clusters))
    ref = np.median(clean)
    noisy = np.random.default_rng(1).poisson(clean / ref * COUNTS) * ref / COUNTS + 0.02 * ref
    got = physics.estimate(Q_USER, noisy, (0.02, 0.3))
    mean_extent = sum(w * _extent_nm(a) for w, a in zip(weights, clusters))
    shell = _shell_nm(load_bundle().extras["saxs_structures"], clusters[1], "icosahedron")
    assert abs(got.extent_nm - mean_extent) <= shell, (got, mean_extent)
    assert got.monodisperse_probability < 0.5


def test_a_fine_grid_is_averaged_and_not_interpolated(physics):
    """Seven hundred points (a 2-d detector's) give the answer the same curve gives on 100."""
    atoms = Icosahedron("Au", 5)
    fine = np.geomspace(0.02, 0.3, 700)
    clean = _ase_intensity(atoms, fine)
    got = physics.estimate(fine, clean, (0.02, 0.3))
    assert abs(got.extent_nm - _extent_nm(atoms)) <= 0.05 * _extent_nm(atoms), got


@pytest.mark.parametrize("kwargs, match", [
    ({"window": (0.02, 1.0)}, "expected <= 0.6"),
    ({"element": "Fe"}, "element: got 'Fe'"),
    ({"group_weights": {"no such group": 1.0}}, "every size group has weight 0"),
])
def test_bad_input_names_what_was_expected(physics, kwargs, match):
    call = {"window": (0.02, 0.3), **kwargs}
    with pytest.raises(SwaxsInputError, match=match):
        physics.estimate(Q_USER, np.exp(-Q_USER * 10) + 1e-3, **call)


def test_non_positive_intensity_in_the_window_is_refused(physics):
    y = np.exp(-Q_USER * 10)
    y[40] = -1.0
    with pytest.raises(SwaxsInputError, match="positive intensity"):
        physics.estimate(Q_USER, y, (0.02, 0.3))


def test_the_smearing_matrix_smears_as_the_simulator_does():
    """The hypotheses' Q resolution must be the database's: the matrix against simulate.smear on a curve with
    deep minima (a 4 nm sphere), at the database's largest resolution."""
    from swaxs_lib.ml.saxs_physics import smear_matrix
    from swaxs_lib.ml.simulate import Q_GRID, smear
    from swaxs_lib.ml.windows import window_points

    x = Q_GRID * 20.0
    sphere = (3 * (np.sin(x) - x * np.cos(x)) / x**3) ** 2
    q = window_points(0.02, 0.3)
    matrix, n = smear_matrix(q, (0.03, 0.02))
    expected = smear(Q_GRID, sphere, 0.03, 0.02)[np.searchsorted(Q_GRID, q - 1e-9)]
    np.testing.assert_allclose(matrix @ sphere[:n], expected, rtol=1e-6)
