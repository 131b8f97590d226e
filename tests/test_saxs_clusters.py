"""Atomistic clusters as SAXS models (swaxs_lib.saxs.clusters, .cluster_fit, the fit-saxs-cluster command).

References, independent of our Debye kernels:

* the analytic form factor of a homogeneous sphere, P(Q) = [3 (sin x - x cos x) / x³]², x = QR
  (Guinier & Fournet 1955), for an fcc sphere cut from the lattice, R the radius of the sphere with
  the cluster's volume N a³/4;
* the form factor of a homogeneous polyhedron of the cluster's shape and volume (N times the volume
  per atom), computed here with numpy by Monte Carlo: uniform points inside the convex hull and
  |<exp(i q·r)>|² averaged over a Fibonacci set of directions (seeded; its noise is ~1/M on P).

The low-Q range: Q R <= 2 (and <= 3; the sphere's first minimum is at 4.49), with Q below 0.2 1/Å,
an order of magnitude below 2π/d_nn = 2.2 1/Å where atomic granularity begins.  Tolerances were set
from the measured deviations (in each test) with a margin; the measured ones are in the comments.

No measured SAXS of metal clusters is among the shared data (/work/shared/data: the Au
nanoparticle file au_np_scattbo is a WAXS S(Q) from Q = 2.4 1/Å, in arbitrary units, not I(Q));
the ladder fits are tested on simulated mixtures, smeared here by our own Gaussian quadrature, not
by sasmodels' matrix that the fit uses.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.spatial import ConvexHull

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import Measurement
from swaxs_lib.saxs.cluster_fit import fit_cluster_ladder, member_curves
from swaxs_lib.saxs.clusters import build_ladder, parse_sizes, resolution_for
from swaxs_lib.scattering import debye_intensity
from swaxs_lib.structures import icosahedron, lattice_sphere, octahedron
from swaxs_lib.structures.sizes import atomic_volume

Z_AU = 79


def _normalised_debye(atoms, q):
    """I(Q) / (N Z)² with constant form factors: the cluster's P(Q) plus its 1/N self term."""
    n = len(atoms)
    return debye_intensity(atoms, q, form_factor_source="constant").intensity / (n * Z_AU) ** 2


def test_debye_of_an_fcc_sphere_follows_the_sphere_form_factor_below_its_first_minimum():
    cluster = lattice_sphere("Au", 40.0)
    n, a = len(cluster.atoms), cluster.info.lattice_constant_angstrom
    radius = (3 * n * a**3 / 4 / (4 * math.pi)) ** (1 / 3)
    q = np.linspace(0.005, 4.0 / radius, 80)
    x = q * radius
    sphere = (3 * (np.sin(x) - x * np.cos(x)) / x**3) ** 2
    ratio = _normalised_debye(cluster.atoms, q) / sphere
    # measured: 1985 atoms, R 20.04 Å; max |ratio - 1| 1.9e-4 at QR <= 2, 1.1e-3 at QR <= 4
    assert np.max(np.abs(ratio[x <= 2] - 1)) < 1e-3
    assert np.max(np.abs(ratio - 1)) < 3e-3


def _polyhedron_form_factor(positions, volume, q, n_points=5000, n_directions=200, seed=1):
    """P(Q) of the homogeneous convex hull of ``positions`` scaled to ``volume``, by Monte Carlo."""
    hull = ConvexHull(positions)
    corners = positions[hull.vertices] * (volume / hull.volume) ** (1 / 3)
    body = ConvexHull(corners)
    rng = np.random.default_rng(seed)
    reach = np.max(np.linalg.norm(corners, axis=1))
    points = np.empty((0, 3))
    while len(points) < n_points:
        trial = rng.uniform(-reach, reach, (20000, 3))
        inside = np.all(trial @ body.equations[:, :3].T + body.equations[:, 3] <= 0, axis=1)
        points = np.vstack([points, trial[inside]])
    points = points[:n_points]
    k = np.arange(n_directions) + 0.5
    theta, phi = np.arccos(1 - 2 * k / n_directions), math.pi * (1 + 5**0.5) * k
    directions = np.column_stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)])
    projection = points @ directions.T
    return np.array([np.mean(np.abs(np.exp(1j * qq * projection).mean(axis=0)) ** 2) for qq in q])


@pytest.mark.parametrize("cluster, tolerance_2, tolerance_3, sphere_apart", [
    # measured max |ratio - 1| at QR <= 2 and <= 3: icosahedron (1415 atoms, 18.27 Å³ per atom, 7.6 % above
    # fcc: the Mackay strain) 0.7 %, 1.9 %; with 4x the points and 3x the directions 0.6 %, 1.8 %.  An
    # icosahedron is too round for this test to tell it from the sphere of its volume (2.7 % at QR = 3).
    (icosahedron("Au", 8), 0.015, 0.03, False),
    # octahedron (1834 atoms) 0.7 %, 2.2 % (0.5 %, 1.2 % with more points); its sphere is 3.5 % or more off
    (octahedron("Au", 14), 0.015, 0.035, True),
])
def test_debye_of_a_polyhedral_cluster_follows_the_continuum_polyhedron_at_low_q(cluster, tolerance_2,
                                                                                  tolerance_3, sphere_apart):
    positions = cluster.atoms.positions - cluster.atoms.positions.mean(axis=0)
    volume = len(positions) * atomic_volume(positions)
    radius = (3 * volume / (4 * math.pi)) ** (1 / 3)
    q = np.linspace(0.2, 3.0, 12) / radius
    reference = _polyhedron_form_factor(positions, volume, q)
    ratio = _normalised_debye(cluster.atoms, q) / reference
    low = q * radius <= 2.0 + 1e-9
    assert np.max(np.abs(ratio[low] - 1)) < tolerance_2
    assert np.max(np.abs(ratio - 1)) < tolerance_3
    # the shape matters at this tolerance: the sphere of the same volume is off by more at QR = 3
    x = q[-1] * radius
    sphere = (3 * (math.sin(x) - x * math.cos(x)) / x**3) ** 2
    assert (abs(sphere / reference[-1] - 1) > tolerance_3) == sphere_apart


def _simulated_mixture(ladder, weights, q, dq_over_q, noise, seed=5):
    """scale · Σ w_k I_k, smeared by Gaussian quadrature (1 σ = dq_over_q · Q), plus 1 % noise and a background."""
    u = np.linspace(-3.5, 3.5, 41)
    g = np.exp(-u**2 / 2)
    g /= g.sum()
    q_all = (q[:, None] * (1 + dq_over_q * u[None, :])).ravel()
    curves = member_curves(ladder, q_all).reshape(len(ladder), len(q), len(u)) @ g
    true = 3e-7 * (np.asarray(weights) @ curves) + 0.02
    sigma = noise * true
    y = true + np.random.default_rng(seed).normal(0.0, 1.0, len(q)) * sigma
    return Measurement("iq", q, y, sigma, "simulated.dat", "inv_angstrom")


@pytest.fixture(scope="module")
def ladder():
    return build_ladder("icosahedron", "Au", range(3, 9))  # 55 ... 1415 atoms, D_v 12.4 ... 36.7 Å


def test_a_gaussian_ladder_fit_recovers_the_mean_and_width_of_a_smeared_noisy_mixture(ladder):
    diameters = np.array([c.info.volume_diameter_angstrom for c in ladder])
    mean, width = 24.0, 4.5
    # the definition of the discrete Gaussian, written out: density at D_k times the member's span of D
    edges = np.concatenate([[1.5 * diameters[0] - 0.5 * diameters[1]], (diameters[1:] + diameters[:-1]) / 2,
                            [1.5 * diameters[-1] - 0.5 * diameters[-2]]])
    w = np.exp(-0.5 * ((diameters - mean) / width) ** 2) * np.diff(edges)
    q = np.geomspace(0.02, 0.8, 150)
    data = _simulated_mixture(ladder, w / w.sum(), q, 0.05, 0.01)
    fit = fit_cluster_ladder(data, ladder, distribution="gaussian", dq_over_q=0.05)
    r = fit.result
    assert 0.7 < r.chi2_reduced < 1.4
    for name, true in (("volume_diameter_mean", mean), ("volume_diameter_width", width)):
        assert abs(r.value(name) - true) < 3 * r.uncertainty(name), (name, r.value(name), r.uncertainty(name))
    assert r.uncertainty("volume_diameter_mean") < 0.5  # the data determine it to better than a tenth of a shell
    assert fit.fractions.sum() == pytest.approx(1.0)
    # without the resolution the width absorbs the smearing: size spread and ΔQ/Q are nearly degenerate
    # (χ²_red stays near 1), so the width comes out too large by many σ
    unsmeared = fit_cluster_ladder(data, ladder, distribution="gaussian").result
    assert unsmeared.value("volume_diameter_width") - width > 5 * unsmeared.uncertainty("volume_diameter_width")


def test_a_lognormal_ladder_fit_recovers_its_mean_and_standard_deviation(ladder):
    diameters = np.array([c.info.volume_diameter_angstrom for c in ladder])
    mean, width = 22.0, 6.0  # of the continuous log-normal: s² = ln(1 + (width/mean)²), mu = ln(mean) - s²/2
    s2 = math.log1p((width / mean) ** 2)
    mu = math.log(mean) - s2 / 2
    edges = np.concatenate([[1.5 * diameters[0] - 0.5 * diameters[1]], (diameters[1:] + diameters[:-1]) / 2,
                            [1.5 * diameters[-1] - 0.5 * diameters[-2]]])
    w = np.exp(-(np.log(diameters) - mu) ** 2 / (2 * s2)) / diameters * np.diff(edges)
    data = _simulated_mixture(ladder, w / w.sum(), np.geomspace(0.02, 0.8, 150), 0.03, 0.01, seed=11)
    r = fit_cluster_ladder(data, ladder, distribution="lognormal", dq_over_q=0.03).result
    assert 0.7 < r.chi2_reduced < 1.4
    for name, true in (("volume_diameter_mean", mean), ("volume_diameter_width", width)):
        assert abs(r.value(name) - true) < 3 * r.uncertainty(name), (name, r.value(name), r.uncertainty(name))
    # the Gaussian of the same data misses the skew
    gaussian = fit_cluster_ladder(data, ladder, distribution="gaussian", dq_over_q=0.03).result
    assert gaussian.chi2_reduced > 1.5 * r.chi2_reduced


def test_free_weights_recover_the_fractions_and_members_go_through_the_store_cache(ladder, tmp_path, monkeypatch):
    from swaxs_lib.store import Store
    import swaxs_lib.store.curves as curves

    weights = np.array([0.0, 0.1, 0.3, 0.35, 0.2, 0.05])
    q = np.geomspace(0.02, 0.8, 120)
    data = _simulated_mixture(ladder, weights, q, 0.03, 0.01, seed=7)
    store = Store(tmp_path / "cache.duckdb")
    fit = fit_cluster_ladder(data, ladder, distribution="free", dq_over_q=0.03, store=store)
    assert np.all(np.abs(fit.fractions - weights) < 3 * fit.fractions_sigma + 2e-3), (fit.fractions, fit.fractions_sigma)
    true_mean = weights @ np.array([m.volume_diameter_angstrom for m in fit.members])
    assert abs(fit.mean_volume_diameter_angstrom - true_mean) < 3 * fit.mean_volume_diameter_sigma
    calls = []
    monkeypatch.setattr(curves, "debye_intensity", lambda *a, **k: calls.append(1))
    again = fit_cluster_ladder(data, ladder, distribution="gaussian", dq_over_q=0.03, store=store)
    assert calls == [] and again.result.converged


def test_single_members_and_the_best_one_over_saxs_and_waxs(ladder):
    q = np.geomspace(0.03, 4.0, 200)  # through the first Bragg-like maxima (Q ≈ 2.7 1/Å for Au)
    one = 2e-7 * member_curves([ladder[3]], q)[0] + 0.05
    data = Measurement("iq", q, one, 0.01 * one, "one.dat", "inv_angstrom")
    fit = fit_cluster_ladder(data, ladder, distribution="single")
    assert fit.members[fit.best_member].n_atoms == 561
    assert fit.result.value("scale") == pytest.approx(2e-7, rel=1e-6)
    assert fit.single_chi2_reduced[fit.best_member] < 1e-6 < np.min(np.delete(fit.single_chi2_reduced, 3))


def test_bad_input_is_named():
    with pytest.raises(SwaxsInputError, match="--sizes"):
        parse_sizes("3..x", "icosahedron")
    with pytest.raises(SwaxsInputError, match="--sizes"):
        parse_sizes("3.5,4", "icosahedron")
    assert parse_sizes("20..30:5", "sphere") == [20.0, 25.0, 30.0]
    with pytest.raises(SwaxsInputError, match="dq-over-q"):
        resolution_for(np.array([0.1, 0.2]), dq_over_q=-0.1)
    gr = Measurement("gr", np.arange(1.0, 5.0), np.ones(4), None, "x.gr", "angstrom")
    with pytest.raises(SwaxsInputError, match="iq"):
        fit_cluster_ladder(gr, build_ladder("icosahedron", "Au", [2, 3]))


def test_the_command_prints_the_fit_and_writes_curves_and_members(tmp_path, capsys, monkeypatch):
    from swaxs_lib.cli import main

    ladder = build_ladder("icosahedron", "Au", [2, 3, 4])
    q = np.geomspace(0.05, 1.0, 60)
    y = 1e-6 * (np.array([0.2, 0.5, 0.3]) @ member_curves(ladder, q)) + 0.01
    path = tmp_path / "sim.dat"
    np.savetxt(path, np.column_stack([10 * q, y, 0.01 * y]))
    monkeypatch.setenv("SWAXS_DB", str(tmp_path / "store.duckdb"))
    args = ["fit-saxs-cluster", str(path), "--shape", "icosahedron", "--element", "Au", "--sizes", "2..4",
            "--distribution", "free", "--q-unit", "inv_nm", "--out", str(tmp_path / "fit.csv"),
            "--members-out", str(tmp_path / "members.csv")]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [round(m["number_fraction"], 3) for m in result["ladder"]] == [0.2, 0.5, 0.3]
    assert result["x_min"] == pytest.approx(0.05)  # inv_nm read as such
    header = (tmp_path / "fit.csv").read_text().splitlines()[0].split(",")
    assert header[:3] == ["q_inv_angstrom", "data_intensity", "fitted_intensity"]
    assert (tmp_path / "members.csv").read_text().startswith("member,n_atoms,volume_diameter_angstrom")
    assert main([*args[:6], "--sizes", "2..x", "--out", str(tmp_path / "f.csv")]) == 2
    assert "--sizes" in capsys.readouterr().err
    # given structure files instead of a ladder: the members are named by their files
    from swaxs_lib.structures import structure_text

    files = []
    for k, cluster in enumerate(ladder):
        files += ["--structure", str(tmp_path / f"c{k}.xyz")]
        (tmp_path / f"c{k}.xyz").write_text(structure_text(cluster.atoms, "xyz"))
    assert main([*args[:2], *files, "--distribution", "free", "--q-unit", "inv_nm", "--out", str(tmp_path / "g.csv")]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert [m["member"] for m in result["ladder"]] == [files[1], files[3], files[5]]
    assert [round(m["number_fraction"], 3) for m in result["ladder"]] == [0.2, 0.5, 0.3]
