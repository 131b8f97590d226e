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
from swaxs_lib.ml.saxs_physics import (MONODISPERSE_DOUBT, WIDTHS, X_GRID, SaxsPhysics, decode_log_structure, encode_log_structure, physics_for,
                                       resolution_sigma, smear_matrix, structure_table)

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


def _gaussian_smeared(function, q: np.ndarray, dq: np.ndarray, nodes: int = 60) -> np.ndarray:
    """``function`` convolved with a Gaussian of 1-sigma ``dq`` at each point of ``q``: Gauss-Hermite
    quadrature of function(|Q|), independent of the sizer's matrix on the database's grid."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(nodes)
    shifted = np.abs(q[:, None] + dq[:, None] * nodes[None, :])
    return (function(np.maximum(shifted, 1e-4).ravel()).reshape(shifted.shape) * weights).sum(axis=1) / weights.sum()


def _ase_curve(atoms, seed: int = 0, dq: np.ndarray | None = None) -> np.ndarray:
    """ASE's Debye I(Q) at Q_USER (smeared by ``dq``) with Poisson noise (COUNTS at the median) and a 2 % flat
    background."""
    clean = (_ase_intensity(atoms, Q_USER) if dq is None
             else _gaussian_smeared(lambda q: _ase_intensity(atoms, q), Q_USER, dq, nodes=10))
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
    # told it holds one size, the sizer obeys, and says the data favour a spread (predict then warns)
    told = physics.estimate(Q_USER, noisy, (0.02, 0.3), monodisperse=True)
    assert told.monodisperse_probability < MONODISPERSE_DOUBT, told


def test_a_fine_grid_is_averaged_and_not_interpolated(physics):
    """Seven hundred points (a 2-d detector's) give the answer the same curve gives on 100."""
    atoms = Icosahedron("Au", 5)
    fine = np.geomspace(0.02, 0.3, 700)
    clean = _ase_intensity(atoms, fine)
    got = physics.estimate(fine, clean, (0.02, 0.3))
    assert abs(got.extent_nm - _extent_nm(atoms)) <= 0.05 * _extent_nm(atoms), got


@pytest.mark.parametrize("build, arguments, family", [
    (Icosahedron, ("Au", 5), "icosahedron"),
    (Decahedron, ("Au", 2, 2, 1), "decahedron q=2 r=1"),
])
def test_a_curve_is_sized_with_its_own_q_resolution(physics, build, arguments, family):
    """A lab instrument's resolution, dQ/Q 2 % and 0.005 1/Å, given as a file's dQ column would give it: the
    hypotheses are smeared with it (and 0.7-1.4 times it) instead of the database's range."""
    atoms = build(*arguments)
    table = load_bundle().extras["saxs_structures"]
    dq = resolution_sigma(Q_USER, (0.02, 0.005))
    curve = _ase_curve(atoms, dq=dq)
    step = np.array([_shell_nm(table, atoms, family)])
    got = physics.estimate(Q_USER, curve, (0.02, 0.3), q_resolution=dq)
    assert got.resolution_given and got.misfit < 3, got
    assert within_shell_or_5_percent(np.array([got.extent_nm]), np.array([_extent_nm(atoms)]), step)[0], got
    assert got.extent_probability > 0.75
    # a dQ misstated by 2 (a FWHM read as 1 sigma) is not a confident wrong answer
    twice = physics.estimate(Q_USER, curve, (0.02, 0.3), q_resolution=2 * dq)
    assert (within_shell_or_5_percent(np.array([twice.extent_nm]), np.array([_extent_nm(atoms)]), step)[0]
            or twice.extent_probability < 0.75), twice
    # told it holds one size (atomically precise clusters), the sizer weighs no spread
    told = physics.estimate(Q_USER, curve, (0.02, 0.3), q_resolution=dq, monodisperse=True)
    assert told.monodisperse_probability == pytest.approx(got.monodisperse_probability, abs=0.05)  # the data's own
    assert told.hypotheses == got.hypotheses // len(WIDTHS)
    assert within_shell_or_5_percent(np.array([told.extent_nm]), np.array([_extent_nm(atoms)]), step)[0], told
    # a dQ column of zeros says nothing: the database's resolutions are tried
    assert not physics.estimate(Q_USER, curve, (0.02, 0.3), q_resolution=0 * dq).resolution_given


def test_the_smearing_matrix_of_a_users_dq_is_the_gaussian_convolution():
    """A dQ per point not of the simulator's form (an instrument's), on a user's grid: the matrix against
    Gauss-Hermite quadrature of the analytic sphere form factor (a 4 nm sphere, deep minima)."""
    from swaxs_lib.ml.simulate import Q_GRID

    def sphere(q):
        x = q * 20.0
        return (3 * (np.sin(x) - x * np.cos(x)) / x**3) ** 2

    q = np.geomspace(0.03, 0.3, 77)
    dq = resolution_sigma(q, (0.03, 0.004)) * (1 + 0.3 * np.sin(40 * q))
    matrix, n = smear_matrix(q, dq)
    np.testing.assert_allclose(matrix @ sphere(Q_GRID[:n]), _gaussian_smeared(sphere, q, dq), rtol=2e-3)


@pytest.mark.parametrize("kwargs, match", [
    ({"window": (0.02, 1.0)}, "expected <= 0.6"),
    ({"element": "Fe"}, "element: got 'Fe'"),
    ({"group_weights": {"no such group": 1.0}}, "every size group has weight 0"),
    ({"q_resolution": np.full(10, 0.01)}, "10 values for 90 points"),
    ({"q_resolution": np.full(90, -0.01)}, "expected 1-sigma dQ >= 0"),
    ({"q_resolution": Q_USER}, "median dQ/Q 1"),
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
    from swaxs_lib.ml.simulate import Q_GRID, smear
    from swaxs_lib.ml.windows import window_points

    x = Q_GRID * 20.0
    sphere = (3 * (np.sin(x) - x * np.cos(x)) / x**3) ** 2
    q = window_points(0.02, 0.3)
    matrix, n = smear_matrix(q, (0.03, 0.02))
    expected = smear(Q_GRID, sphere, 0.03, 0.02)[np.searchsorted(Q_GRID, q - 1e-9)]
    np.testing.assert_allclose(matrix @ sphere[:n], expected, rtol=1e-6)
