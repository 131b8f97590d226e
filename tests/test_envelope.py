"""The particle's small-angle scattering taken out of a cluster's G(r) (swaxs_lib.scattering.envelope).

References, independent of our code:
- diffpy.pdffit2's attenuated crystal: the bulk fcc G(r) (with its -4 pi rho0 r baseline) times the
  characteristic function of a sphere, spdiameter = the cluster's volume-equivalent diameter. That is
  G = 4 pi r [rho(r) - rho0 gamma0(r)] of Farrow & Billinge (2009) for a continuous sphere.
- the analytic sphere term 4 pi r rho0 gamma0(r) of the same paper, subtracted from the plain Debye
  transform: the literature's own recipe, which needs the shape; ours takes the term from the cluster.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
from ase.io import read

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.refine.realspace import realspace_pdf, realspace_setup
from swaxs_lib.scattering import pair_distribution, pair_histogram
from swaxs_lib.scattering.envelope import small_angle_taper, small_angle_window
from swaxs_lib.structures import decahedron, icosahedron, lattice_sphere
from swaxs_lib.structures.sizes import atomic_volume

from .test_refine_crystal import DATA

PT_A = 3.92  # Å, the builder's Pt lattice constant (ASE's)


def pdffit2_sphere(a: float, diameter: float, u: float, q_max: float, r: np.ndarray) -> np.ndarray:
    """pdffit2's G(r) of fcc Pt (lattice a, U on every site) in a sphere envelope of ``diameter``."""
    import diffpy.pdffit2
    from diffpy.structure import Atom, Lattice, Structure

    diffpy.pdffit2.redirect_stdout(open(os.devnull, "w"))
    pf = diffpy.pdffit2.PdfFit()
    sites = [(0, 0, 0), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5)]
    pf.add_structure(Structure([Atom("Pt", xyz) for xyz in sites], lattice=Lattice(a, a, a, 90, 90, 90)))
    pf.read_data_lists("X", q_max, 0.0, list(map(float, r)), [0.0] * len(r))
    for i in range(1, 5):
        for setter in (pf.u11, pf.u22, pf.u33):
            pf.setvar(setter(i), u)
    pf.setvar(pf.qdamp, 0.0)
    pf.setvar(pf.spdiameter, diameter)
    pf.calc()
    return np.array(pf.getpdf_fit())


def sphere_term(r: np.ndarray, diameter: float, rho0: float) -> np.ndarray:
    """4 pi r rho0 gamma0(r) of a sphere (Kodama et al. 2006; Farrow & Billinge 2009)."""
    x = r / diameter
    return 4 * math.pi * r * rho0 * np.where(x < 1, 1 - 1.5 * x + 0.5 * x**3, 0.0)


def rw(model: np.ndarray, reference: np.ndarray) -> float:
    return float(np.sqrt(np.sum((model - reference) ** 2) / np.sum(reference**2)))


@pytest.mark.parametrize("diameter, limit", [(25.0, 0.032), (37.5, 0.025), (50.0, 0.022)])
def test_cluster_gr_without_its_small_angle_part_is_the_attenuated_crystal(diameter, limit):
    # measured R_w over 1.5 Å .. D_eq: 0.0295, 0.0222, 0.0189 for both engines; the analytic
    # sphere term gives the same to 1e-4 (both are limited by the discrete surface of a cut sphere)
    atoms = lattice_sphere("Pt", diameter).atoms
    rho0 = 4 / PT_A**3
    d_eq = (6 * len(atoms) / (math.pi * rho0)) ** (1 / 3)
    r = np.arange(0.01, d_eq + 15.0, 0.01)
    u, q_max = 0.005, 22.0
    reference = pdffit2_sphere(PT_A, d_eq, u, q_max, r)
    histogram = pair_histogram(atoms, 0.004)
    realspace = realspace_pdf(realspace_setup(histogram, r, 0.0, q_max), u_iso_angstrom2=u)
    debye = pair_distribution(atoms, r, 0.0, q_max, b_iso_angstrom2=8 * math.pi**2 * u,
                              form_factor_source="constant").g
    plain = pair_distribution(atoms, r, 0.0, q_max, b_iso_angstrom2=8 * math.pi**2 * u,
                              form_factor_source="constant", small_angle="keep").g
    literature = plain - sphere_term(r, d_eq, rho0)
    valid = (r >= 1.5) & (r <= d_eq)
    assert rw(realspace[valid], reference[valid]) < limit
    assert rw(debye[valid], reference[valid]) < limit
    assert rw(debye[valid], reference[valid]) < rw(literature[valid], reference[valid]) + 0.002
    # the plain transform from Q = 0 holds the whole small-angle hump: R_w above 1
    assert rw(plain[valid], reference[valid]) > 0.5
    # and the size is read right: a sphere 1 Å larger or smaller than D_eq fits the cluster worse
    for other in (d_eq - 1.0, d_eq + 1.0):
        assert rw(debye[valid], pdffit2_sphere(PT_A, other, u, q_max, r)[valid]) > 1.2 * rw(
            debye[valid], reference[valid])


def test_a_header_q_min_below_the_small_angle_region_no_longer_matters():
    # xPDFsuite writes qmin = 0.1 1/Å into headers: the plain transform from there keeps most of the
    # particle's small-angle signal, the subtracted one gives the same curve as from Q_min = 0.5
    atoms = lattice_sphere("Pt", 37.5).atoms
    r = np.arange(1.0, 40.0, 0.01)
    b = 8 * math.pi**2 * 0.005
    low = pair_distribution(atoms, r, 0.1, 22.0, b_iso_angstrom2=b).g
    mid = pair_distribution(atoms, r, 0.5, 22.0, b_iso_angstrom2=b).g
    plain_low = pair_distribution(atoms, r, 0.1, 22.0, b_iso_angstrom2=b, small_angle="keep").g
    plain_mid = pair_distribution(atoms, r, 0.5, 22.0, b_iso_angstrom2=b, small_angle="keep").g
    # measured 0.0102 (the window below Q_a cuts F = -Q only: a slow ripple) against 0.75 for the plain ones
    assert rw(low, mid) < 0.02
    assert rw(plain_low, plain_mid) > 0.5


def test_below_the_low_pass_f_is_the_bulk_limit_minus_q():
    curve = pair_distribution(icosahedron("Au", 5).atoms, np.arange(1.0, 10.0, 0.1), 0.05, 12.0,
                              form_factor_source="constant")
    q_a, q_b = small_angle_window(atomic_volume(icosahedron("Au", 5).atoms.positions))
    below, above = curve.q_inv_angstrom < q_a, curve.q_inv_angstrom > q_b
    np.testing.assert_allclose(curve.f_q[below], -curve.q_inv_angstrom[below], rtol=1e-12)
    plain = pair_distribution(icosahedron("Au", 5).atoms, np.arange(1.0, 10.0, 0.1), 0.05, 12.0,
                              form_factor_source="constant", small_angle="keep")
    np.testing.assert_array_equal(curve.f_q[above], plain.f_q[above])


@pytest.mark.parametrize("structure, bulk", [
    ("Pt fcc 37.5", PT_A**3 / 4),
    ("Au fcc 20", 4.08**3 / 4),
    ("Fe bcc 30", 2.87**3 / 2),
    ("CdSe wurtzite 30", None),
])
def test_atomic_volume_is_the_bulk_value_for_crystalline_clusters(structure, bulk):
    # a crystal's Voronoi cell holds exactly the volume per atom (the wurtzite cell's is computed from the cif)
    element, lattice, diameter = structure.split()
    if lattice == "wurtzite":
        crystal = read(DATA / "cdse_np_pdfgui" / "CdSe-wurtzite.cif")
        bulk = crystal.get_volume() / len(crystal)
        cell = crystal.repeat((12, 12, 8))
        positions = cell.positions - cell.positions.mean(axis=0)
        positions = positions[np.linalg.norm(positions, axis=1) <= float(diameter) / 2]
    else:
        positions = lattice_sphere(element, float(diameter), lattice).atoms.positions
    assert atomic_volume(positions) == pytest.approx(bulk, rel=1e-9)


def test_the_low_pass_ends_below_every_first_diffraction_peak():
    # first peaks in units of 1/v^(1/3): fcc (111) 6.86, bcc (110) 7.05, hcp (100) 6.46, wurtzite (100) 5.13
    for first_peak in (6.86, 7.05, 6.46, 5.13):
        v = 17.0
        _, q_b = small_angle_window(v * 1.08)  # icosahedra's volume is 8 % above bulk: Q_b only moves lower
        assert q_b < 0.9 * first_peak / v ** (1 / 3)
    taper = small_angle_taper([0.0, 0.5, 1.0, 1.5, 2.0, 5.0], 16.0)
    assert taper[0] == 1.0 and taper[-1] == 0.0 and np.all(np.diff(taper) <= 0)


def test_small_clusters_and_flat_ones_get_a_volume():
    assert atomic_volume(icosahedron("Au", 2).atoms.positions) == pytest.approx(4.08**3 / 4, rel=0.1)
    # icosahedra: strained shells, a few per cent less dense than bulk (the cluster's own value)
    assert 1.0 < atomic_volume(icosahedron("Au", 5).atoms.positions) / (4.08**3 / 4) < 1.09
    dimer = np.array([[0, 0, 0], [0, 0, 2.88]])
    assert atomic_volume(dimer) == pytest.approx(2.88**3 / math.sqrt(2))
    flat = np.array([[x, y, 0.0] for x in range(4) for y in range(4)]) * 2.8
    assert atomic_volume(flat) == pytest.approx(2.8**3 / math.sqrt(2))
    # nearly flat (a sheet with 1e-4 Å of noise) must not run away
    flat[:, 2] += np.random.default_rng(0).normal(0.0, 1e-4, len(flat))
    assert atomic_volume(flat) == pytest.approx(2.8**3 / math.sqrt(2), rel=1e-6)
    assert math.isfinite(pair_histogram(decahedron("Au", 2, 1, 0).atoms, 0.01).atomic_volume_angstrom3)
    with pytest.raises(SwaxsInputError, match="positions"):
        atomic_volume(np.zeros((1, 3)))
    with pytest.raises(SwaxsInputError, match="small_angle"):
        pair_distribution(icosahedron("Au", 2).atoms, [1.0, 2.0], 0.5, 20.0, small_angle="yes")
