"""Sphere-size distributions (swaxs_lib.saxs.sizedist) against independent references.

* The sphere intensity against sasmodels' ``sphere`` model (CPU double kernel).
* Irena's MaxEnt result for the alumina USAXS data (tests/data/alumina_usaxs, copied from SasView's
  test/size_distribution/data, BSD-3): AluminaUSAXS_IrenaTenShotsResults.csv holds the diameter
  (Å, 100 log-spaced points 25–10000 inclusive), the number distribution and its error
  (cm⁻³ Å⁻¹: the volume distribution divided by πD³/6 · 10⁻²⁴ cm³), and the volume distribution
  and its error (volume fraction per Å of diameter, contrast 1 × 10²⁰ cm⁻⁴), mean and spread of
  ten MaxEnt fits of noisy copies of the data.  Its integral ∫ V(D) dD = 4.845 is the "volume"
  4.84 ± 0.02 of SasView's MaxEntTest.py, in the same units.  The settings are those of
  InputParametersUsed4AluminaData.csv (points 13–94 inclusive, 0-based).
* Synthetic bimodal log-normal volume distributions, intensities integrated on a fine diameter
  grid with the closed-form sphere amplitude written out here (not our bins or kernel), plus noise.
"""

from __future__ import annotations

import numpy as np
import pytest

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.saxs.sizedist import size_distribution, sphere_intensity
from tests.test_io import DATA

ALUMINA = DATA / "alumina_usaxs"


def alumina_settings():
    """Data and settings of InputParametersUsed4AluminaData.csv, read from the file itself."""
    rows = {}
    for line in (ALUMINA / "InputParametersUsed4AluminaData.csv").read_text().splitlines()[1:]:
        cells = line.split(",")
        rows[cells[0]] = cells[1:]
    q, i, di = np.loadtxt(ALUMINA / "Alumina_usaxs_irena_input.csv", delimiter=",").T
    first, last = int(rows["Qmin"][2]), int(rows["Qmax"][2])
    assert q[first] == pytest.approx(float(rows["Qmin"][0]), rel=1e-4)
    assert q[last] == pytest.approx(float(rows["Qmax"][0]), rel=1e-4)
    settings = dict(
        q_min_inv_angstrom=q[first], q_max_inv_angstrom=q[last],
        diameter_min_angstrom=float(rows["Min D"][0]), diameter_max_angstrom=float(rows["Max D"][0]),
        n_bins=int(rows["Num bins"][0]), contrast_1e20_per_cm4=float(rows["contrast"][0]),
        sky_background=float(rows["Sky Bkgd"][0]), weight_factor=float(rows["Weight Factor"][0]),
        max_iterations=int(rows["iterations"][0]), flat_background=float(rows["Flat Bkgd"][0]),
        power_law_exponent=float(rows["Power Bkgd"][0]), power_law_scale=float(rows["Scale Bkgd"][0]),
    )
    return q, i, di, settings


def test_sphere_intensity_matches_sasmodels():
    from sasmodels.core import load_model
    from sasmodels.direct_model import call_kernel

    model = load_model("sphere", dtype="double", platform="dll")
    q = np.geomspace(1e-4, 0.5, 300)
    diameters = np.array([20.0, 150.0, 1234.0])
    ours = sphere_intensity(q, diameters, contrast_1e20_per_cm4=1.0)
    kernel = model.make_kernel([q])
    for j, d in enumerate(diameters):
        # sasmodels' scale is the volume fraction; sld in 1e-6/Å², I in 1/cm.
        ref = call_kernel(kernel, {"scale": 1.0, "background": 0.0, "sld": 1.0, "sld_solvent": 0.0,
                                   "radius": d / 2})
        np.testing.assert_allclose(ours[:, j], ref, rtol=1e-9, atol=1e-12 * ref.max())


def test_alumina_matches_irena_maxent():
    q, i, di, settings = alumina_settings()
    ref = np.loadtxt(ALUMINA / "AluminaUSAXS_IrenaTenShotsResults.csv", delimiter=",", skiprows=1)
    d_ref, v_err, v_ref = ref[:, 0], ref[:, 3], ref[:, 4]
    result = size_distribution(q, i, di, method="maxent", n_repeats=10, seed=0, **settings)
    np.testing.assert_allclose(result.diameter_angstrom, d_ref, rtol=1e-9)  # the same grid as Irena
    assert result.n_converged == 10 and result.chi2_reduced == pytest.approx(1.0, abs=0.01)
    # Total volume (contrast 1): within 2 % of Irena's integral (4.845; SasView asserts 4.84 ± 0.02).
    total_ref = np.trapezoid(v_ref, d_ref)
    assert result.total_volume_fraction == pytest.approx(total_ref, rel=0.02)
    # Window: π/Q_max to π/Q_min = 29.6–4566 Å (84 of 100 bins).
    assert result.window_diameter_min_angstrom == pytest.approx(np.pi / q[94])
    assert result.window_diameter_max_angstrom == pytest.approx(np.pi / q[13])
    inside = result.in_window
    assert inside.sum() == 84
    v = result.volume_fraction_per_angstrom
    d_irena = np.abs(v - v_ref) <= v_err
    d_both = np.abs(v - v_ref) <= np.hypot(v_err, result.volume_fraction_per_angstrom_sigma)
    # Agreement bin by bin over the whole window, small bins included: with Irena's step limit, stray
    # reset and χ² tolerance (swaxs_lib/saxs/_maxent.py) the bins below 100 Å, where Irena's solution
    # is 0-4 % of the peak (< 0.2 % below 80 Å), follow Irena's too, so no bin is exempted.  If both sets were the same method
    # with independent noise, the two 10-fit means differ by 0.45 of one fit's spread and 97 % of bins
    # fall inside Irena's bars.  Measured (seed 0): 81 of 84 bins (96 %) inside Irena's error bars,
    # 84 of 84 inside the combined spread; seeds 0-9 give 86-96 % (mean 93 %) and 99-100 %.  The
    # misses are isolated bins at 1-2 σ (485, 944, 1357 Å for seed 0).  Before the three Irena details
    # (SasView's/GSAS-II's choices) these were 58 % and 77 % (seeds 0-9: 46-61 %), and 30 % below
    # 100 Å; SasView's own result (AluminaUSAX_sasviewTenShotResults.csv in its repository) has 44 %.
    assert np.sum(d_irena[inside]) >= 80 and np.sum(d_both[inside]) >= 83
    for lo, hi in ((0.0, 100.0), (100.0, 400.0), (400.0, 4566.0)):  # 20, 23 and 41 bins of the window
        sel = inside & (d_ref >= lo) & (d_ref < hi)
        assert np.mean(d_irena[sel]) >= 0.9, (lo, hi)
    # The two populations carry the same volume as Irena's within 3 % (seed 0: -1.7 % and +0.1 %).
    for lo, hi in ((80.0, 400.0), (400.0, 4566.0)):
        sel = (d_ref >= lo) & (d_ref < hi)
        assert np.sum(v[sel] * result.bin_width_angstrom[sel]) == pytest.approx(
            np.sum(v_ref[sel] * result.bin_width_angstrom[sel]), rel=0.03)
    # Number distribution: the volume one divided by the sphere volume in cm³ (Irena's convention).
    n_ref = ref[:, 2]
    np.testing.assert_allclose(n_ref / v_ref, 1e24 / (np.pi / 6 * d_ref**3), rtol=0.01)
    np.testing.assert_allclose(result.number_density_per_cm3_per_angstrom,
                               v / (np.pi / 6 * d_ref**3 * 1e-24), rtol=1e-9)


def _sphere_amplitude2(q, d):
    x = np.outer(q, d / 2)
    return (3 * (np.sin(x) - x * np.cos(x)) / x**3) ** 2


def _lognormal_volume(d, mode_angstrom, width, fraction):
    mu = np.log(mode_angstrom) + width**2  # a log-normal density in D peaks at exp(mu - width²)
    return fraction * np.exp(-(np.log(d) - mu) ** 2 / (2 * width**2)) / (d * width * np.sqrt(2 * np.pi))


def _synthetic(q, modes, fractions, width=0.12, seed=3):
    d = np.geomspace(3, 30000, 30000)
    vd = sum(_lognormal_volume(d, m, width, f) for m, f in zip(modes, fractions))
    intensity = np.trapezoid(1e-4 * np.pi / 6 * d**3 * _sphere_amplitude2(q, d) * vd, d, axis=1)
    sigma = 0.02 * intensity + 1e-3 * intensity.min()
    return intensity + np.random.default_rng(seed).normal(0, sigma), sigma


def _population_centres(result, level=0.1):
    """Geometric volume-weighted centre of each contiguous run of bins above ``level`` × the maximum."""
    v, d = result.volume_fraction_per_angstrom, result.diameter_angstrom
    above = np.concatenate([[False], v > level * v.max(), [False]]).astype(int)
    starts, stops = np.flatnonzero(np.diff(above) == 1), np.flatnonzero(np.diff(above) == -1)
    return [float(np.exp(np.average(np.log(d[a:b]), weights=v[a:b]))) for a, b in zip(starts, stops)]


@pytest.mark.parametrize("method", ["maxent", "montecarlo"])
def test_synthetic_bimodal_comes_back(method):
    q = np.geomspace(0.004, 0.5, 150)
    intensity, sigma = _synthetic(q, modes=(60.0, 300.0), fractions=(0.002, 0.004))
    result = size_distribution(q, intensity, sigma, method=method, diameter_min_angstrom=10,
                               diameter_max_angstrom=2000, n_bins=80, n_repeats=4, seed=1)
    peaks = _population_centres(result)
    # Tolerance 8 %: about one bin (6.9 % in D) either side of each true mode.  MaxEnt on these 80
    # centre-valued bins does not reach chi2/N = 1 (a 12 % wide population is narrow for the grid)
    # and may split a population into two neighbouring maxima, hence centres rather than maxima.
    assert len(peaks) == 2
    assert peaks[0] == pytest.approx(60.0, rel=0.08) and peaks[1] == pytest.approx(300.0, rel=0.08)
    assert result.total_volume_fraction == pytest.approx(0.006, rel=0.05)
    assert result.window_diameter_max_angstrom == pytest.approx(np.pi / 0.004)


def test_sizes_outside_the_window_are_flagged_not_found():
    # Window for Q 0.01–0.3: 10.5–314 Å.  The 1500 Å population is outside it.
    q = np.geomspace(0.01, 0.3, 120)
    intensity, sigma = _synthetic(q, modes=(80.0, 1500.0), fractions=(0.002, 0.004))
    result = size_distribution(q, intensity, sigma, diameter_min_angstrom=10, diameter_max_angstrom=5000,
                               n_bins=80, n_repeats=4)
    assert any("outside the observable window" in w for w in result.warnings)
    assert result.window_volume_fraction < 0.9 * result.total_volume_fraction
    assert result.mode_diameter_volume_angstrom == pytest.approx(80.0, rel=0.08)
    assert result.mean_diameter_volume_angstrom < result.window_diameter_max_angstrom


def test_bad_input_names_the_parameter():
    q = np.geomspace(0.01, 0.3, 20)
    i = np.ones_like(q)
    with pytest.raises(SwaxsInputError, match="intensity_sigma"):
        size_distribution(q, i, None)
    with pytest.raises(SwaxsInputError, match="method"):
        size_distribution(q, i, i, method="nnls")
    with pytest.raises(SwaxsInputError, match="diameter_max_angstrom"):
        size_distribution(q, i, i, diameter_min_angstrom=100, diameter_max_angstrom=50)
    with pytest.raises(SwaxsInputError, match="at least 5"):
        size_distribution(q, i, i, q_min_inv_angstrom=0.2, q_max_inv_angstrom=0.21)


def test_command_writes_the_distribution_and_exits_2_on_bad_input(tmp_path, capsys):
    import csv
    import json

    from swaxs_lib.cli import main

    data = str(ALUMINA / "Alumina_usaxs_irena_input.csv")
    out = tmp_path / "dist.csv"
    args = ["size-distribution", data, "--q-min", "0.00068801", "--q-max", "0.10604", "--bins", "60",
            "--flat-background", "0.121176", "--power-law-scale", "2.55e-7", "--weight-factor", "1.9033",
            "--repeats", "3", "--out", str(out)]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 60 and list(rows[0])[:4] == ["diameter_angstrom", "bin_width_angstrom", "in_window",
                                                      "volume_fraction_per_angstrom"]
    # The JSON total is the CSV's integral; the window is π/Q of the first and last fitted points.
    total = sum(float(r["volume_fraction_per_angstrom"]) * float(r["bin_width_angstrom"]) for r in rows)
    assert result["total_volume_fraction"] == pytest.approx(total, rel=1e-6)
    assert result["window_diameter_max_angstrom"] == pytest.approx(np.pi / 0.000688013, rel=1e-5)
    assert result["method"] == "maxent" and result["n_points"] == 82
    assert main(args[:-2] + ["--out", str(tmp_path / "dist.txt")]) == 2
    assert main(args[:-2] + ["--diameter-min", "-5", "--out", str(out)]) == 2
    assert "--diameter-min" in capsys.readouterr().err


def test_a_flat_background_is_found_where_the_data_reach_it():
    q = np.geomspace(0.004, 0.5, 150)
    intensity, sigma = _synthetic(q, modes=(60.0, 300.0), fractions=(0.002, 0.004))
    flat = 5 * intensity[-1]  # dominates the last decade of Q
    intensity = intensity + flat
    sigma = np.sqrt(sigma**2 + (0.02 * flat) ** 2)
    result = size_distribution(q, intensity, sigma, diameter_min_angstrom=10, diameter_max_angstrom=2000, n_bins=80,
                               n_repeats=2, fit_flat_background=True)
    assert result.flat_background_fitted == pytest.approx(flat, rel=0.05)
    assert result.total_volume_fraction == pytest.approx(0.006, rel=0.05)
