"""Plot views of measured curves against closed forms.

Where the reference numbers come from (none is produced by ``swaxs_lib.views``):

* a power law I = C Q^-n: its Kratky view (n = 2) and Porod view (n = 4) are the
  constant C; its log-log view is a line of slope -n;
* the Guinier law I = I0 exp(-Q² Rg²/3): ln I against Q² is a line of slope
  -Rg²/3 and intercept ln I0 (Glatter & Kratky 1982, ch. 2);
* the sphere form factor P(Q) = [3 (sin QR - QR cos QR) / (QR)³]², whose radius of
  gyration is sqrt(3/5) R and whose Porod asymptote is Q⁴ P -> 9 / (2 R⁴) on
  average over oscillations (Glatter & Kratky 1982, ch. 3).  The Guinier fit up
  to QR = 0.9 is biased by the next term of the expansion; 1 % covers it
  (it is 0.5 % for R = 30 Å);
* first-order propagation sigma(Q^n I) = Q^n sigma(I), sigma(ln I) = sigma(I)/I;
* the Ludox SANS file's Q and I units (1/Å, 1/cm) stated in its SOURCE.md.

Units: Q in 1/Å, r in Å, intensities arbitrary unless stated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import read_measurement
from swaxs_lib.io.measurement import Measurement
from swaxs_lib.views import (
    IQ_VIEWS,
    VIEWS,
    intensity_unit,
    measurement_columns,
    reader_assumptions,
    view_curve,
    views_for,
)

DATA = Path(__file__).parent / "data"


def iq(q, values, sigma=None, metadata=()) -> Measurement:
    return Measurement("iq", np.asarray(q, float), np.asarray(values, float),
                       None if sigma is None else np.asarray(sigma, float), "synthetic.dat", "inv_angstrom",
                       metadata=tuple(metadata))


def sphere(q, radius_angstrom):
    x = q * radius_angstrom
    return (3 * (np.sin(x) - x * np.cos(x)) / x**3) ** 2


Q = np.geomspace(0.01, 0.5, 40)


@pytest.mark.parametrize("view, power", [("kratky", 2), ("porod", 4)])
def test_kratky_and_porod_views_of_the_matching_power_law_are_constant(view, power):
    v = view_curve(iq(Q, 7.0 * Q**-power), view)
    np.testing.assert_allclose(v.y, 7.0, rtol=1e-12)
    np.testing.assert_array_equal(v.x, Q)
    assert (v.x_log, v.y_log) == (False, False)


def test_kratky_and_porod_labels_and_columns_carry_units():
    kratky, porod = view_curve(iq(Q, Q**-2), "kratky"), view_curve(iq(Q, Q**-4), "porod")
    assert kratky.x_label == "Q (1/Å)"
    assert kratky.y_label == "Q² I(Q) (1/Å² · a.u.)"
    assert porod.y_label == "Q⁴ I(Q) (1/Å⁴ · a.u.)"
    assert list(kratky.columns()) == ["q_inv_angstrom", "q2_intensity_inv_angstrom2"]
    assert list(porod.columns()) == ["q_inv_angstrom", "q4_intensity_inv_angstrom4"]


def test_log_log_view_of_a_power_law_has_its_exponent_as_slope():
    v = view_curve(iq(Q, 3.0 * Q**-2.5))
    assert v.view == "log-log" and v.x_log and v.y_log
    slope = np.polyfit(np.log(v.x), np.log(v.y), 1)[0]
    assert slope == pytest.approx(-2.5, abs=1e-12)


def test_log_axes_drop_non_positive_points_and_count_them():
    m = iq([0.0, 0.1, 0.2, 0.3, 0.4], [5.0, 4.0, -1.0, 0.0, 2.0])
    log_log = view_curve(m, "log-log")
    np.testing.assert_array_equal(log_log.x, [0.1, 0.4])
    assert log_log.n_dropped == 3
    log_lin = view_curve(m, "log-lin")  # Q = 0 is fine on a linear Q axis
    np.testing.assert_array_equal(log_lin.x, [0.0, 0.1, 0.4])
    assert (log_lin.x_log, log_lin.y_log, log_lin.n_dropped) == (False, True, 2)
    lin = view_curve(m, "lin-lin")
    assert lin.n_dropped == 0 and len(lin.x) == 5


def test_guinier_view_of_the_guinier_law_is_a_line_of_slope_minus_rg2_over_3():
    rg, i0 = 25.0, 1.0e3
    q = np.linspace(0.005, 0.05, 30)
    v = view_curve(iq(q, i0 * np.exp(-(q * rg) ** 2 / 3)), "guinier")
    np.testing.assert_allclose(v.x, q**2, rtol=1e-14)
    slope, intercept = np.polyfit(v.x, v.y, 1)
    assert slope == pytest.approx(-(rg**2) / 3, rel=1e-10)
    assert intercept == pytest.approx(np.log(i0), rel=1e-10)
    assert (v.x_label, v.x_column, v.y_column) == ("Q² (1/Å²)", "q2_inv_angstrom2", "ln_intensity")


def test_guinier_fit_to_a_sphere_gives_rg_sqrt_three_fifths_r():
    radius = 30.0
    q = np.linspace(0.002, 0.03, 50)  # QR <= 0.9
    v = view_curve(iq(q, sphere(q, radius)), "guinier")
    slope = np.polyfit(v.x, v.y, 1)[0]
    assert np.sqrt(-3 * slope) == pytest.approx(np.sqrt(3 / 5) * radius, rel=0.01)


def test_porod_view_of_a_sphere_averages_to_nine_over_two_r4():
    radius = 30.0
    q = np.linspace(50 / radius, 250 / radius, 200_001)
    v = view_curve(iq(q, sphere(q, radius)), "porod")
    assert v.y.mean() == pytest.approx(9 / (2 * radius**4), rel=0.002)


def test_uncertainties_propagate_to_first_order():
    q = np.array([0.1, 0.2, 0.4])
    values, sigma = np.array([8.0, 2.0, 0.5]), np.array([0.4, 0.3, 0.1])
    m = iq(q, values, sigma)
    np.testing.assert_allclose(view_curve(m, "kratky").y_uncertainty, q**2 * sigma)
    np.testing.assert_allclose(view_curve(m, "porod").y_uncertainty, q**4 * sigma)
    np.testing.assert_allclose(view_curve(m, "guinier").y_uncertainty, sigma / values)
    np.testing.assert_array_equal(view_curve(m, "log-log").y_uncertainty, sigma)
    assert list(view_curve(m, "kratky").columns())[-1] == "q2_intensity_inv_angstrom2_sigma"
    assert view_curve(iq(q, values), "kratky").y_uncertainty is None


def test_g_of_r_f_of_q_and_s_of_q_have_one_linear_view_with_units():
    r = np.linspace(1.0, 20.0, 5)
    gr = view_curve(Measurement("gr", r, np.sin(r), None, "au.gr", "angstrom"))
    assert (gr.view, gr.x_label, gr.y_label, gr.x_log, gr.y_log) == ("lin-lin", "r (Å)", "G(r) (1/Å²)", False, False)
    assert list(gr.columns()) == ["r_angstrom", "g_inv_angstrom2"]
    np.testing.assert_array_equal(gr.y, np.sin(r))  # negative G kept on a linear axis
    fq = view_curve(Measurement("fq", r, np.cos(r), None, "au.fq", "inv_angstrom"))
    assert (fq.y_label, fq.y_column) == ("F(Q) (1/Å)", "f_inv_angstrom")
    sq = view_curve(Measurement("sq", r, 1 + np.cos(r), None, "au.sq", "inv_angstrom"))
    assert (sq.x_label, sq.y_label, sq.y_column) == ("Q (1/Å)", "S(Q)", "s")
    assert views_for("gr") == views_for("sq") == ("lin-lin",)
    assert set(VIEWS) == {"iq", "sq", "fq", "gr"}


@pytest.mark.parametrize("kind, view", [("iq", "kraty"), ("gr", "kratky"), ("sq", "log-log"), ("iq", "")])
def test_a_view_the_kind_does_not_have_is_refused_by_name(kind, view):
    unit = "angstrom" if kind == "gr" else "inv_angstrom"
    m = Measurement(kind, Q, Q, None, "named.dat", unit)
    with pytest.raises(SwaxsInputError, match=f"view '{view}' for a {kind} curve \\(named.dat\\)"):
        view_curve(m, view)


def test_unknown_kind_is_refused():
    with pytest.raises(SwaxsInputError, match="kind 'xx'"):
        views_for("xx")


def test_x_range_is_inclusive_and_in_the_measurements_unit_for_every_view():
    q = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    m = iq(q, np.exp(-q))
    for view in IQ_VIEWS:
        v = view_curve(m, view, x_min=0.2, x_max=0.4)
        assert len(v.x) == 3, view
    np.testing.assert_allclose(view_curve(m, "guinier", x_min=0.2, x_max=0.4).x, [0.04, 0.09, 0.16])
    np.testing.assert_array_equal(view_curve(m, x_min=0.3).x, [0.3, 0.4, 0.5])


@pytest.mark.parametrize("x_min, x_max, message", [
    (0.4, 0.2, "expected x_min < x_max"),
    (0.3, 0.3, "expected x_min < x_max"),
    (float("nan"), None, "x_min = nan"),
    ("abc", None, "x_min = 'abc'"),
    (None, float("inf"), "x_max = inf"),
    (0.6, 0.9, "synthetic.dat: no point to draw"),
])
def test_bad_ranges_are_refused(x_min, x_max, message):
    with pytest.raises(SwaxsInputError, match=message):
        view_curve(iq([0.1, 0.2, 0.3], [3.0, 2.0, 1.0]), "lin-lin", x_min=x_min, x_max=x_max)


def test_measured_ludox_sans_in_absolute_units():
    m = read_measurement(DATA / "ludox_silica_sans" / "Ludox_silica.xml")
    assert intensity_unit(m) == "1/cm"
    v = view_curve(m, "kratky")
    assert v.y_label == "Q² I(Q) (1/Å² · 1/cm)"
    np.testing.assert_allclose(v.y, m.x**2 * m.values)
    np.testing.assert_allclose(v.y_uncertainty, m.x**2 * m.uncertainties)
    assert reader_assumptions(m) == ()


def test_measured_g_of_r_columns_and_no_assumptions():
    m = read_measurement(DATA / "au144_pdf" / "Au144pMBA.gr")
    columns = measurement_columns(m)
    assert list(columns) == ["r_angstrom", "g_inv_angstrom2"]
    assert len(columns["r_angstrom"]) == 2001
    assert reader_assumptions(m) == ()


def test_assumed_unit_and_kind_are_reported_with_how_to_override():
    m = read_measurement(DATA / "alumina_usaxs" / "Alumina_usaxs_irena_input.csv")
    notes = reader_assumptions(m)
    assert len(notes) == 2
    assert "read as I(Q)" in notes[0] and "Set the kind" in notes[0]
    assert "read as 1/Å" in notes[1] and "Set the x unit" in notes[1]
    r_file = read_measurement(DATA / "ni_srfit" / "ni-q27r100-neutron.gr")
    (note,) = reader_assumptions(r_file)
    assert "unit of r; read as Å" in note


def test_thickness_normalised_curve_says_per_cm():
    m = iq(Q, Q, metadata=(("values_unit", "per cm of sample thickness"),))
    assert intensity_unit(m) == "a.u. per cm"
    assert view_curve(m, "lin-lin").y_label == "I(Q) (a.u. per cm)"
