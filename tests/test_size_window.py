"""The size window from the data alone (swaxs_lib.size_window), against sizes known from elsewhere.

Measured PDFs (tests/data, each folder's SOURCE.md):
- CdSe 3 nm: PDFgui tutorial fit, spherical particle diameter 30.30(3) Å (a sphere envelope: a
  volume-equivalent diameter, docs/sizes.md).
- Pt JQ_S1-S3: the attenuated crystal's ``spdiameter`` that tests/test_refine_crystal.py
  (test_discrete_spheres_and_the_attenuated_crystal_agree_on_measured_nanoparticles, a slow test) gets
  for them at Q_damp 0.04 1/Å: 33.7, 22.3 and 18.1 Å (its docstring), with the best discrete sphere 34.4,
  22.0 and 18.0 Å beside them.
- Au144(SR)60: the core is 1.6-2 nm across (au144_pdf/SOURCE.md, the literature size tests/test_ml_shipped.py
  also uses), taken as an extent.
- bulk Ni (srfit examples): no finite size within 60 or 100 Å: the window must be open-ended.

Simulated: G(r) of ASE-built clusters of known extent (the repo's real-space model
swaxs_lib.models.cluster_gr) with random Q_damp, U, expansion and noise white in Q (band-limited in r),
seeds 5000+; the module's margins were set on other seeds (1000-1079), so this is an out-of-sample check.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import read_measurement
from swaxs_lib.size_window import SizeWindow, gr_size_window, iq_size_window, size_window

DATA = Path(__file__).resolve().parent / "data"


def _window(path):
    return size_window(read_measurement(DATA / path))


def test_cdse_window_contains_the_published_sphere_diameter():
    w = _window("cdse_np_pdfgui/CdSe-3nm.gr")
    lo, hi = w.interval("volume_diameter_angstrom")
    assert not w.open_ended and lo <= 30.30 <= hi, (lo, hi)
    assert w.method == "coherence_length" and 20.0 < w.estimate_angstrom < 40.0


@pytest.mark.parametrize("name, spdiameter", [("JQ_S1", 33.7), ("JQ_S2", 22.3), ("JQ_S3", 18.1)])
def test_pt_windows_contain_the_attenuated_crystal_diameter(name, spdiameter):
    w = _window(f"pt_np_jq_pdf/{name}.gr")
    lo, hi = w.interval("volume_diameter_angstrom")
    assert not w.open_ended and lo <= spdiameter <= hi, (name, lo, hi)
    assert w.nearest_neighbour_angstrom == pytest.approx(2.77, abs=0.05)  # Pt d_nn, pt_np_jq_pdf/SOURCE.md


@pytest.mark.parametrize("name", ["Au144PET_100K-00000.gr", "Au144pMBA.gr"])
def test_au144_windows_contain_the_literature_core_size(name):
    w = _window(f"au144_pdf/{name}")
    lo, hi = w.interval("extent_angstrom")
    assert not w.open_ended and lo <= 16.0 and hi >= 20.0, (name, lo, hi)


@pytest.mark.parametrize("name", ["ni-q27r60-xray.gr", "ni-q27r100-neutron.gr"])
def test_bulk_nickel_gives_an_open_window_beyond_the_r_range(name):
    m = read_measurement(DATA / "ni_srfit" / name)
    w = size_window(m)
    assert w.open_ended and math.isinf(w.extent_high_angstrom) and math.isinf(w.volume_diameter_high_angstrom)
    assert w.extent_low_angstrom >= 0.9 * m.x[-1]
    assert any("larger than the r range" in text for text in w.warnings)
    assert json.loads(json.dumps(w.to_dict()))["extent_high_angstrom"] is None


def test_window_contains_the_true_extent_of_simulated_clusters(capsys):
    from swaxs_lib.models import cluster_gr
    from swaxs_lib.structures import cuboctahedron, decahedron, icosahedron, lattice_sphere
    from swaxs_lib.structures.sizes import cluster_sizes

    q_min, q_max = 1.0, 22.0
    r = np.arange(0.0, 50.0 + 1e-9, 0.01)  # the measured files' grid
    dq = 0.02
    q_noise = np.arange(dq, q_max + dq / 2, dq)
    sine = np.sin(np.outer(r, q_noise)) * dq
    clusters = [icosahedron("Au", 3), icosahedron("Au", 4), icosahedron("Au", 5), icosahedron("Au", 6),
                decahedron("Pt", 2, 2, 1), decahedron("Au", 4, 3, 2), decahedron("Pt", 5, 4, 2), cuboctahedron("Au", 5),
                lattice_sphere("Pt", 15.0), lattice_sphere("Pt", 20.0), lattice_sphere("Au", 25.0),
                lattice_sphere("Pt", 30.0), lattice_sphere("Au", 35.0), lattice_sphere("Pt", 40.0)]
    histograms = [cluster_gr.histogram_for(c.atoms, q_max) for c in clusters]
    sizes = [cluster_sizes(c.atoms.positions) for c in clusters]
    rows, hits, widths = [], [], []
    for case in range(24):
        rng = np.random.default_rng(5000 + case)
        k = case % len(clusters)
        qdamp, u, zoom = rng.uniform(0.02, 0.05), rng.uniform(0.004, 0.012), rng.uniform(0.99, 1.02)
        g = cluster_gr.model_curve(histograms[k], r, q_min, q_max, zoom=zoom, u=u, qdamp=qdamp)
        noise = sine @ rng.normal(size=len(q_noise))
        level = rng.uniform(0.003, 0.015)  # r.m.s. noise over the largest |G|: the measured files' 0.5-1 %
        noise *= level * np.abs(g).max() / noise.std()
        w = gr_size_window(r, g + noise)
        extent = sizes[k]["extent_angstrom"] * zoom
        volume = sizes[k]["volume_diameter_angstrom"] * zoom
        lo, hi = w.interval()
        vlo, vhi = w.interval("volume_diameter_angstrom")
        hit = lo <= extent <= hi and vlo <= volume <= vhi and not w.open_ended
        hits.append(hit)
        widths.append((hi - lo) / extent)
        rows.append(f"| {clusters[k].atoms.get_chemical_formula()} | {extent:.1f} | {volume:.1f} | {qdamp:.3f} | "
                    f"{level:.3f} | {w.estimate_angstrom:.1f} | {lo:.1f}-{hi:.1f} | {vlo:.1f}-{vhi:.1f} | {hit} |")
    with capsys.disabled():
        print("\n| cluster | extent Å | vol. diam. Å | Q_damp | noise | L Å | extent window | vol. window | in |\n"
              "|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows)
              + f"\ncoverage {np.mean(hits):.0%} of {len(hits)}, median width/extent {np.median(widths):.2f}")
    assert np.mean(hits) >= 0.95, rows
    assert np.median(widths) <= 1.0  # no wider than the size itself: the damping alone spreads L/extent 0.5-1


def test_saxs_guinier_window_contains_the_sphere_diameter():
    # a homogeneous sphere, R = 20 Å, analytic form factor (Guinier & Fournet 1955), 1 % noise
    rng = np.random.default_rng(3)
    q = np.linspace(0.005, 0.6, 300)
    x = q * 20.0
    i = 100 * (3 * (np.sin(x) - x * np.cos(x)) / x**3) ** 2
    sigma = 0.01 * i + 1e-4
    w = iq_size_window(q, i + rng.normal(size=q.size) * sigma, sigma)
    lo, hi = w.interval("volume_diameter_angstrom")
    assert w.method == "guinier" and lo <= 40.0 <= hi and hi / lo < 1.5, (lo, hi)


@pytest.mark.parametrize("diameter", [20.0, 30.0])
def test_waxs_scherrer_window_contains_the_volume_diameter(diameter):
    # Debye I(Q) of a gold lattice sphere over 1-8 1/Å (no SAXS part), 0.5 % noise
    from swaxs_lib.scattering import debye_intensity
    from swaxs_lib.structures import lattice_sphere
    from swaxs_lib.structures.sizes import cluster_sizes

    cluster = lattice_sphere("Au", diameter)
    q = np.arange(1.0, 8.0, 0.005)
    i = debye_intensity(cluster.atoms, q, b_iso_angstrom2=0.6).intensity
    i = i * (1 + 0.005 * np.random.default_rng(4).normal(size=q.size))
    w = iq_size_window(q, i)
    lo, hi = w.interval("volume_diameter_angstrom")
    truth = cluster_sizes(cluster.atoms.positions)["volume_diameter_angstrom"]
    assert w.method == "scherrer" and lo <= truth <= hi, (lo, hi, truth)
    assert any("lower bound" in text for text in w.warnings)


def test_waxs_without_peaks_gives_an_open_window():
    q = np.linspace(1.0, 10.0, 500)
    w = iq_size_window(q, 100.0 * np.exp(-0.1 * q) + 1.0)
    assert w.method == "none" and w.open_ended and w.interval() == (0.0, math.inf) and w.warnings


def test_intersection_with_a_prior_interval():
    w = SizeWindow("coherence_length", 14.0, 32.0, 11.9, 35.0, 16.8, False, 0.004, 2.86, "rule")
    assert w.intersect(11.0, 17.0) == (14.0, 17.0)
    assert w.intersect(30.0, 40.0, "volume_diameter_angstrom") == (30.0, 35.0)
    assert w.intersect(33.0, 40.0) is None


def test_bad_input_is_refused_with_the_reason():
    r = np.arange(0.0, 30.0, 0.01)
    with pytest.raises(SwaxsInputError, match="expected at least 50"):
        gr_size_window(r[:10], np.zeros(10))
    with pytest.raises(SwaxsInputError, match="even, increasing grid"):
        gr_size_window(r[::-1], np.sin(r))
    with pytest.raises(SwaxsInputError, match="expected 'extent_angstrom'"):
        gr_size_window(r, np.sin(2 * r) * np.exp(-r / 5)).interval("diameter")
    m = read_measurement(DATA / "au_np_scattbo" / "Experimental_Sq.sq")
    with pytest.raises(SwaxsInputError, match="expected a G"):
        size_window(m)


def test_saxs_with_a_structure_factor_peak_gives_no_size_and_says_why():
    # Ludox SANS (SOURCE.md: a structure-factor peak near 0.02 1/Å): Guinier refuses; that peak is no Scherrer size
    w = _window("ludox_silica_sans/Ludox_silica.xml")
    assert w.method == "none" and w.open_ended and w.interval("volume_diameter_angstrom") == (0.0, math.inf)
    assert any("structure-factor" in text for text in w.warnings)


def test_a_noisy_flat_tail_is_open_and_flagged_as_possibly_noise():
    # ScattBO's lab PDF (Q_max 10 1/Å, SOURCE.md): its tail stays flat at ~20 % of the largest envelope
    w = _window("au_np_scattbo/Experimental_PDF.gr")
    assert w.open_ended and any("noise too strong" in text for text in w.warnings)


@pytest.fixture(scope="module")
def pt_spheres():
    """G(r) of Pt lattice spheres of sphere diameter 16-44 Å (U 0.006 Å², Q_damp 0.035 1/Å, Q 1-22 1/Å)."""
    from swaxs_lib.models import cluster_gr
    from swaxs_lib.structures import lattice_sphere
    from swaxs_lib.structures.sizes import cluster_sizes

    r = np.arange(0.0, 50.0 + 1e-9, 0.01)
    diameters = np.arange(16.0, 44.1, 4.0)
    members = [lattice_sphere("Pt", d).atoms for d in diameters]
    extent = np.array([cluster_sizes(a.positions)["extent_angstrom"] for a in members])
    atoms = np.array([len(a) for a in members], dtype=float)
    curves = [cluster_gr.model_curve(cluster_gr.histogram_for(a, 22.0), r, 1.0, 22.0, u=0.006, qdamp=0.035)
              for a in members]
    return r, diameters, extent, atoms, curves


@pytest.mark.parametrize("mean, spread", [(24.0, 0.1), (24.0, 0.2), (30.0, 0.15), (30.0, 0.25)])
def test_polydisperse_spheres_window_contains_the_mean_sizes(pt_spheres, mean, spread):
    """A log-normal number distribution of Pt lattice spheres: per-atom G(r) is the atom-weighted mean of the
    members' (one element).  The window must hold both the number-mean and the atom-weighted mean extent (the
    coherence length follows the larger particles, a prior may follow either)."""
    r, diameters, extent, atoms, curves = pt_spheres
    n = np.exp(-0.5 * (np.log(diameters / mean) / spread) ** 2) / diameters
    n /= n.sum()
    g = sum(nk * nat * gk for nk, nat, gk in zip(n, atoms, curves)) / (n * atoms).sum()
    dq = 0.02
    q_noise = np.arange(dq, 22.0 + dq / 2, dq)
    noise = np.sin(np.outer(r, q_noise)) @ np.random.default_rng(7).normal(size=q_noise.size)
    w = gr_size_window(r, g + 0.008 * np.abs(g).max() * noise / noise.std())
    lo, hi = w.interval()
    number_mean, atom_mean = (n * extent).sum(), (n * atoms * extent).sum() / (n * atoms).sum()
    assert lo <= number_mean <= hi and lo <= atom_mean <= hi, (lo, hi, number_mean, atom_mean)
