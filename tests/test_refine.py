"""Refinement of clusters: the real-space G(r) engine and the srfit recipes.

References, none of them our refinement code:
- the Debye route to G(r) (:func:`swaxs_lib.scattering.pair_distribution`: F(Q)
  from the exact-to-1e-7 sinc sum, Simpson's rule to G), itself checked
  against DebyeCalculator and pdffit2 in tests/test_references.py;
- a brute-force numpy double sum over atom pairs with delta2-dependent widths;
- synthetic data with known parameters (and known noise).
"""

from __future__ import annotations

import numpy as np
import pytest

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import Measurement
from swaxs_lib.refine.cluster import refine_cluster
from swaxs_lib.refine.realspace import realspace_pdf, realspace_setup
from swaxs_lib.scattering import (
    debye_intensity,
    fast_bin_width,
    pair_distribution,
    pair_histogram,
)
from swaxs_lib.structures.sizes import atomic_volume
from swaxs_lib.structures import decahedron, icosahedron

R = np.arange(0.0, 30.0001, 0.01)


@pytest.mark.parametrize("shape, q_min, q_max, u, zoom, tol", [
    ("decahedron", 0.5, 25.0, 0.005, 1.00, 2e-5),
    ("decahedron", 0.8, 26.0, 0.010, 1.02, 2e-5),
    ("icosahedron", 2.4, 10.0, 0.008, 0.99, 1e-4),
    ("icosahedron", 0.0, 18.0, 0.002, 1.00, 2e-5),
])
def test_realspace_equals_the_debye_route_for_one_element(shape, q_min, q_max, u, zoom, tol):
    # measured: 4e-6 and 3e-7 (decahedra), 2.2e-5 (Q_min 2.4: a steep window edge) of max|G|
    atoms = (decahedron("Au", 4, 1, 2) if shape == "decahedron" else icosahedron("Au", 5)).atoms
    b = 8 * np.pi**2 * u
    reference = pair_distribution(atoms, R, q_min, q_max, b_iso_angstrom2=b, scale=zoom).g
    setup = realspace_setup(pair_histogram(atoms, fast_bin_width(q_max * 1.1)), R, q_min, q_max)
    g = realspace_pdf(setup, u_iso_angstrom2=u, zoom=zoom)
    assert np.max(np.abs(g - reference)) < tol * np.max(np.abs(reference))


def brute_force_gr(atoms, r, q_min, q_max, u, delta2, q_damp=0.0):
    """(2/pi) int F(Q) sin(Qr) dQ with F = (1/N) sum_{i != j} sin(Q r_ij)/r_ij exp(-sigma_ij^2 Q^2/2),
    less the particle's small-angle part Q T(Q) S_total(Q), S_total = 1 + F/Q (Farrow & Billinge 2009;
    T = 1 below Q_b/2, a raised cosine to 0 at Q_b = 4.4 / v^(1/3), as swaxs_lib.scattering.envelope states)."""
    pos = atoms.positions
    d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)[np.triu_indices(len(atoms), 1)]
    sigma2 = 2 * u * np.clip(1 - delta2 / d**2, 1e-4, None)
    q = np.linspace(q_min, q_max, 6001)
    f = np.zeros_like(q)
    for chunk in np.array_split(np.arange(len(d)), 20):
        dd, ss = d[chunk, None], sigma2[chunk, None]
        f += (2 / len(atoms)) * np.sum(np.sin(q * dd) / dd * np.exp(-0.5 * ss * q**2), axis=0)
    q_b = 4.4 / atomic_volume(pos) ** (1 / 3)
    taper = 0.5 * (1 + np.cos(np.pi * np.clip((q - q_b / 2) / (q_b / 2), 0, 1)))
    f -= q * taper * (1 + f / q)
    w = np.full(q.size, 2.0)
    w[1::2] = 4.0
    w[0] = w[-1] = 1.0
    w *= (q[1] - q[0]) / 3
    g = (2 / np.pi) * (np.sin(np.outer(r, q)) * (w * f)).sum(axis=1)
    return g * np.exp(-0.5 * (r * q_damp) ** 2)


@pytest.mark.parametrize("delta2, q_damp", [(2.0, 0.0), (4.5, 0.03)])
def test_realspace_delta2_and_qdamp_equal_a_brute_force_pair_sum(delta2, q_damp):
    atoms = icosahedron("Au", 3).atoms  # 55 atoms
    r = np.arange(1.0, 14.0, 0.02)
    reference = brute_force_gr(atoms, r, 0.5, 20.0, 0.006, delta2, q_damp)
    setup = realspace_setup(pair_histogram(atoms, 0.005), r, 0.5, 20.0)
    g = realspace_pdf(setup, u_iso_angstrom2=0.006, delta2_angstrom2=delta2, q_damp_inv_angstrom=q_damp)
    assert np.max(np.abs(g - reference)) < 1e-4 * np.max(np.abs(reference))  # measured 2.4e-5
    # and delta2 matters: sharper near-neighbour peaks than without it
    plain = realspace_pdf(setup, u_iso_angstrom2=0.006, q_damp_inv_angstrom=q_damp)
    assert np.max(g) > 1.05 * np.max(plain)


def test_realspace_rejects_bad_parameters():
    setup = realspace_setup(pair_histogram(icosahedron("Au", 2).atoms, 0.01), R[:100], 0.5, 20.0)
    with pytest.raises(SwaxsInputError, match="u_iso"):
        realspace_pdf(setup, u_iso_angstrom2=-0.01)
    with pytest.raises(SwaxsInputError, match="delta2"):
        realspace_pdf(setup, delta2_angstrom2=float("nan"))
    with pytest.raises(SwaxsInputError, match="Q window"):
        realspace_setup(setup.histogram, R, 5.0, 2.0)


def test_pdf_refinement_recovers_known_parameters_from_noisy_debye_route_data():
    atoms = decahedron("Au", 3, 1, 2).atoms
    r = np.arange(1.0, 25.0, 0.01)
    rng = np.random.default_rng(20261202)
    truth = dict(scale=0.63, zoom=1.018, u=0.0072)
    g = truth["scale"] * pair_distribution(atoms, r, 0.6, 22.0, b_iso_angstrom2=8 * np.pi**2 * truth["u"],
                                           scale=truth["zoom"]).g
    sigma = 0.01 * np.abs(g).max()
    data = Measurement("gr", r, g + rng.normal(0, sigma, r.size), np.full(r.size, sigma), "synthetic.gr",
                       "angstrom")
    fit = refine_cluster(data, atoms, q_min_inv_angstrom=0.6, q_max_inv_angstrom=22.0, fix=("qdamp",))
    assert fit.weighting == "sigma" and fit.converged
    assert fit.chi2_reduced == pytest.approx(1.0, abs=0.1)  # the noise we put in, nothing more
    for name, tol_sigmas in (("zoom", 4), ("scale", 4), ("u_Au", 4)):
        value, error = fit.value(name), fit.uncertainty(name)
        assert error is not None and error > 0
        assert abs(value - truth[name.split("_")[0]]) < tol_sigmas * error, (name, value, error)
    assert abs(fit.value("expansion") - 0.018) < 0.0005
    assert fit.value("delta2") < 0.5  # none was put in
    assert not next(v for v in fit.values if v.name == "qdamp").refined


def test_pdf_refinement_keeps_to_the_bounds_the_user_gives():
    atoms = icosahedron("Au", 3).atoms
    r = np.arange(1.0, 15.0, 0.02)
    g = 0.8 * pair_distribution(atoms, r, 0.5, 20.0, b_iso_angstrom2=8 * np.pi**2 * 0.008, scale=1.01).g
    data = Measurement("gr", r, g, None, "synthetic.gr", "angstrom")
    free = refine_cluster(data, atoms, q_min_inv_angstrom=0.5, q_max_inv_angstrom=20.0, fix=("delta2", "qdamp"))
    assert free.value("zoom") == pytest.approx(1.01, abs=1e-4)
    # the table's start (1.0) lies outside these bounds: it moves in; the true zoom (1.01) lies outside: a bound
    bounded = refine_cluster(data, atoms, q_min_inv_angstrom=0.5, q_max_inv_angstrom=20.0, fix=("delta2", "qdamp"),
                             bounds={"zoom": (1.02, 1.05), "u_Au": (0.001, 0.02)}, start={"u": 0.01})
    assert bounded.value("zoom") == pytest.approx(1.02)
    assert bounded.uncertainty("zoom") is None and next(v for v in bounded.values if v.name == "zoom").refined
    assert bounded.rw > 10 * free.rw


def test_iq_refinement_recovers_scale_background_zoom_and_b_from_exact_sums():
    atoms = icosahedron("Au", 4).atoms
    q = np.linspace(0.8, 12.0, 400)
    stretched = atoms.copy()
    stretched.positions *= 0.985
    intensity = 2.5e-3 * debye_intensity(stretched, q, mode="exact", b_iso_angstrom2=0.9).intensity + 40.0
    data = Measurement("iq", q, intensity, None, "synthetic.dat", "inv_angstrom")
    fit = refine_cluster(data, atoms, background="constant", start={"b": 0.3})
    assert fit.weighting == "relative"
    assert fit.rw < 1e-5
    assert fit.value("zoom") == pytest.approx(0.985, abs=1e-5)
    assert fit.value("b_Au") == pytest.approx(0.9, abs=2e-3)
    assert fit.value("scale") == pytest.approx(2.5e-3, rel=1e-3)
    assert fit.value("c0") == pytest.approx(40.0, rel=1e-2)


def test_refine_rejects_bad_requests():
    atoms = icosahedron("Au", 3).atoms
    r = np.arange(1.0, 20.0, 0.05)
    data = Measurement("gr", r, np.sin(r), None, "x.gr", "angstrom")
    with pytest.raises(SwaxsInputError, match="fit range"):
        refine_cluster(data, atoms, x_min=10.0, x_max=10.1)
    with pytest.raises(SwaxsInputError, match="fix: unknown"):
        refine_cluster(data, atoms, fix=("temperature",))
    with pytest.raises(SwaxsInputError, match="start zoom"):
        refine_cluster(data, atoms, start={"zoom": 1.5})
    with pytest.raises(SwaxsInputError, match="start: unknown parameter.*spdiameter"):
        refine_cluster(data, atoms, start={"spdiameter": 30.0})
    with pytest.raises(SwaxsInputError, match="bounds: unknown parameter.*b_Au"):
        refine_cluster(data, atoms, bounds={"b_Au": (0.1, 1.0)})
    with pytest.raises(SwaxsInputError, match="bounds zoom: got 1.05:1"):
        refine_cluster(data, atoms, bounds={"zoom": (1.05, 1.0)})
