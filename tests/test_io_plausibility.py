"""Unit plausibility (swaxs_lib.io.plausibility): measured files as read, and the same files ten times off.

Where the reference numbers come from (none is produced by swaxs):

* the measured files in tests/data/<folder>/ and their SOURCE.md; a file "ten times off" is the
  file's own x multiplied by 10 or 0.1 (what a wrong unit does to it), or the file read with
  the wrong ``x_unit``;
* nearest-neighbour distances, as in tests/test_io.py: Ni fcc a/√2 with a = 3.527 Å = 2.494 Å
  (ni_srfit SOURCE.md); Pt about 2.77 Å (pt_np_jq_pdf SOURCE.md); Au144 "first Au–Au peak near
  2.8 Å" (au144_pdf SOURCE.md); bulk Au a/√2 = 4.0782/√2 = 2.884 Å (the lab Au nanoparticle
  PDF, Qmax 10 1/Å, broad peaks); CdSe Cd–Se bonds 2.614 and 2.638 Å from the PDFgui fit
  (cdse_np_pdfgui SOURCE.md);
* the first S(Q) peak of fcc Au: (111) at 2π√3/a = 2.668 1/Å (a = 4.0782 Å);
* the sphere's form factor P(Q) = [3(sin QR − QR cos QR)/(QR)³]² and its radius of gyration
  R_g = √(3/5) R, closed forms (Guinier and Fournet 1955).

Units: Q in 1/Å, r in Å.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from swaxs_lib.io import Measurement, read_measurement, read_measurement_bytes
from swaxs_lib.io.plausibility import (
    G_PEAK_BAND_ANGSTROM,
    check_x_unit,
    first_strong_peak,
    guinier_radius,
)

DATA = Path(__file__).parent / "data"

#: (file, expected first peak, tolerance): G(r) in Å, S(Q) in 1/Å.
PEAKS = [
    ("pt_np_jq_pdf/JQ_S1.gr", 2.77, 0.05),
    ("pt_np_jq_pdf/JQ_S2.gr", 2.77, 0.05),
    ("pt_np_jq_pdf/JQ_S3.gr", 2.77, 0.05),
    ("ni_srfit/ni-q27r100-neutron.gr", 2.494, 0.03),
    ("ni_srfit/ni-q27r60-xray.gr", 2.494, 0.03),
    ("au144_pdf/Au144PET_100K-00000.gr", 2.8, 0.1),
    ("au144_pdf/Au144pMBA.gr", 2.8, 0.1),
    ("au_np_scattbo/Experimental_PDF.gr", 2.884, 0.15),
    ("cdse_np_pdfgui/CdSe-3nm.gr", 2.626, 0.03),
    ("au_np_scattbo/Experimental_Sq.sq", 2.668, 0.05),
]
SMALL_ANGLE = ["alumina_usaxs/Alumina_usaxs_irena_input.csv", "ludox_silica_sans/Ludox_silica.xml"]


def scaled(m: Measurement, factor: float) -> Measurement:
    return dataclasses.replace(m, x=m.x * factor)


def sphere(q: np.ndarray, radius: float) -> np.ndarray:
    qr = q * radius
    return (3 * (np.sin(qr) - qr * np.cos(qr)) / qr**3) ** 2


@pytest.mark.parametrize("name, peak, tolerance", PEAKS)
def test_measured_pdf_and_sq_as_read_are_plausible_at_their_nearest_neighbour(name, peak, tolerance):
    check = check_x_unit(read_measurement(DATA / name))
    assert check.verdict == "plausible", check
    assert check.value == pytest.approx(peak, abs=tolerance)
    assert check.suggested_x_unit is None


@pytest.mark.parametrize("factor", [10.0, 0.1])
@pytest.mark.parametrize("name, peak, tolerance", PEAKS)
def test_measured_pdf_and_sq_ten_times_off_are_flagged(name, peak, tolerance, factor):
    m = read_measurement(DATA / name)
    check = check_x_unit(scaled(m, factor))
    assert check.verdict == "implausible", check
    assert check.value == pytest.approx(peak * factor, rel=0.05)
    assert check.warn and m.source in check.message and "expected" in check.message


def test_gr_read_in_nm_suggests_angstrom_and_the_reverse():
    raw = (DATA / "pt_np_jq_pdf" / "JQ_S1.gr").read_bytes()
    wrong = check_x_unit(read_measurement_bytes(raw, "JQ_S1.gr", x_unit="nm"))
    assert wrong.verdict == "implausible" and wrong.suggested_x_unit == "angstrom"
    assert wrong.value == pytest.approx(27.7, abs=0.5)
    assert "read with r in nm, the first strong G(r) peak is at 27.8 Å" in wrong.message
    assert "With r in Å it would be at 2.78 Å" in wrong.message
    m = read_measurement_bytes(raw, "JQ_S1.gr")
    in_nm = dataclasses.replace(m, x=m.x / 10)  # the same numbers, had the file been in nm and read as Å
    assert check_x_unit(in_nm).suggested_x_unit == "nm"


def test_sq_read_in_inv_nm_suggests_inv_angstrom():
    raw = (DATA / "au_np_scattbo" / "Experimental_Sq.sq").read_bytes()
    check = check_x_unit(read_measurement_bytes(raw, "Experimental_Sq.sq", x_unit="inv_nm"))
    assert check.verdict == "implausible" and check.suggested_x_unit == "inv_angstrom"
    assert check.value == pytest.approx(0.2668, abs=0.005)


def test_g_band_is_narrower_than_a_factor_of_ten():
    low, high = G_PEAK_BAND_ANGSTROM
    assert high / low < 10


@pytest.mark.parametrize("factor", [1.0, 10.0, 0.1])
@pytest.mark.parametrize("name", SMALL_ANGLE)
def test_measured_small_angle_curves_without_guinier_region_are_undecided(name, factor):
    """Alumina USAXS is a power law and Ludox starts on a structure-factor peak: no scale in them."""
    m = read_measurement(DATA / name)
    check = check_x_unit(scaled(m, factor))
    assert check.verdict == "undecided" and check.suggested_x_unit is None
    assert guinier_radius(m.x * factor, m.values) is None


def test_unlabelled_q_column_is_flagged_even_when_nothing_decides():
    m = read_measurement(DATA / "alumina_usaxs" / "Alumina_usaxs_irena_input.csv")
    check = check_x_unit(m)
    assert check.unit_assumed and check.warn
    assert "does not state the unit of Q" in check.message and "cannot tell" in check.message
    labelled = check_x_unit(read_measurement(DATA / "ludox_silica_sans" / "Ludox_silica.xml"))
    assert not labelled.warn and labelled.message == ""


@pytest.mark.parametrize("radius", [3.0, 5.0, 10.0, 20.0, 50.0])
def test_guinier_radius_of_a_sphere(radius):
    q = np.geomspace(0.003, 0.5, 300)
    rng = np.random.default_rng(7)
    intensity = (1e3 * sphere(q, radius) + 0.01) * (1 + 0.02 * rng.standard_normal(q.size))
    # the Guinier law itself reads a sphere 1-2 % large at Q·R_g up to 1.3
    assert guinier_radius(q, intensity) == pytest.approx(math.sqrt(3 / 5) * radius, rel=0.04)


@pytest.mark.parametrize("power", [1.0, 2.0, 3.0, 4.0])
def test_power_laws_and_a_flat_curve_have_no_guinier_region(power):
    q = np.geomspace(0.001, 0.3, 200)
    assert guinier_radius(q, q**-power) is None
    flat = 100 * (1 + 0.02 * np.random.default_rng(3).standard_normal(q.size))
    assert guinier_radius(q, flat) is None


def saxs_text(q: np.ndarray, intensity: np.ndarray, header: str = "") -> bytes:
    return (header + "".join(f"{a:.6g} {b:.6g}\n" for a, b in zip(q, intensity))).encode()


def test_nanoparticle_saxs_in_inv_nm_read_as_inv_angstrom_is_flagged_with_the_fix():
    """A 2 nm Pt particle (R = 10 Å, R_g = 7.75 Å) measured in 1/nm, file without a unit."""
    q_nm = np.geomspace(0.05, 5.0, 250)
    data = saxs_text(q_nm, 1e4 * sphere(q_nm / 10, 10.0) + 0.05)
    check = check_x_unit(read_measurement_bytes(data, "pt_np.dat"))
    assert check.verdict == "implausible" and check.unit_assumed
    assert check.value == pytest.approx(0.775, rel=0.04) and check.suggested_x_unit == "inv_nm"
    assert "Q in 1/nm" in check.message
    right = check_x_unit(read_measurement_bytes(data, "pt_np.dat", x_unit="inv_nm"))
    assert right.verdict == "plausible" and right.value == pytest.approx(7.75, rel=0.04) and not right.warn
    labelled = check_x_unit(read_measurement_bytes(saxs_text(q_nm, 1e4 * sphere(q_nm / 10, 10.0) + 0.05,
                                                             "# q_nm^-1 I\n"), "pt_np.dat"))
    assert labelled.verdict == "plausible" and labelled.message == ""


def test_plausible_guinier_radius_in_an_unlabelled_file_cannot_tell_the_unit():
    q = np.geomspace(0.005, 0.5, 250)
    check = check_x_unit(read_measurement_bytes(saxs_text(q, 1e4 * sphere(q, 20.0) + 0.05), "np.dat"))
    assert check.verdict == "undecided" and check.unit_assumed and check.warn
    assert check.value == pytest.approx(15.49, rel=0.04)
    assert "cannot tell" in check.message


def test_q_beyond_four_pi_over_lambda_is_impossible():
    q = np.linspace(1.0, 30.0, 300)  # λ = 0.7107 Å (Mo Kα): Q at most 4π/λ = 17.68 1/Å
    m = Measurement("iq", q, np.ones_like(q), None, "mo.xy", "inv_angstrom", wavelength_angstrom=0.7107)
    check = check_x_unit(m)
    assert check.verdict == "implausible" and check.feature == "highest Q"
    assert "17.68" in check.message


def test_first_strong_peak_skips_low_r_ripples_and_edges():
    # termination ripples at low r (half the first peak's height, as in the lab Au PDF), the
    # -4πρ₀r baseline below the first shell, a weaker second shell
    r = np.arange(0.0, 20.0, 0.01)
    ripple = 0.5 * np.sin(2 * np.pi * r / 0.8) * np.exp(-r / 3.0) * (r < 2.2)
    baseline = -0.2 * r * (r < 2.6)
    g = ripple + baseline + np.exp(-((r - 2.9) / 0.12) ** 2) + 0.8 * np.exp(-((r - 4.1) / 0.15) ** 2)
    assert first_strong_peak(r, g) == pytest.approx(2.9, abs=0.02)
    assert first_strong_peak(r, -r) is None  # no interior maximum
