"""Atomic X-ray form factors f(Q) = f0(Q) + f'(E) + i f''(E).

References used here:

* f0(0) = sum_k a_k + c of the Waasmaier–Kirfel fit (Acta Cryst. A51, 416
  (1995)); for Au that is 78.967 e, for Cu 28.992 e: Z minus a few
  thousandths to hundredths, the fit's error at sin(theta)/lambda = 0.
* f' (= xraydb's ``f1_chantler``) and f'' (``f2_chantler``) from Chantler,
  J. Phys. Chem. Ref. Data 29, 597 (2000), energies in eV; the Au L3 edge is at
  11.919 keV (xraydb ``xray_edge("Au", "L3")``), where f' dips to about -17.7 e.

Units: Q in 1/Å, energies in keV (ours) and eV (xraydb), f in electrons.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xraydb
from ase.data import atomic_numbers

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.scattering import form_factor

ELEMENTS = ["Au", "Ag", "Pd", "Pt", "Cu", "Ni"]
Q = np.linspace(0.0, 25.0, 501)  # 1/Å


@pytest.mark.parametrize("element", ELEMENTS)
def test_forward_value_is_z_minus_a_little(element):
    z = atomic_numbers[element]
    f0 = form_factor(element, [0.0])[0]
    assert f0.imag == 0.0
    # Waasmaier–Kirfel sums at s = 0 lie within 0.05 e of Z for these metals
    # (measured: Au 78.967, Ag 47.000, Pd 45.985, Pt 77.965, Cu 28.992, Ni 27.993)
    assert z - 0.05 < f0.real <= z + 0.001


def test_gold_forward_value():
    # Sum of the Waasmaier–Kirfel Au coefficients: 16.777389 + 19.317156 + 32.979682
    # + 5.595453 + 10.576854 - 6.279078 = 78.967456 (Table 1 of the paper).
    coefficients = [16.777389, 19.317156, 32.979682, 5.595453, 10.576854, -6.279078]
    assert form_factor("Au", [0.0])[0].real == pytest.approx(sum(coefficients), abs=1e-5)
    assert form_factor("Au", [0.0])[0].real == pytest.approx(78.97, abs=0.005)


@pytest.mark.parametrize("element", ELEMENTS)
def test_f0_decreases_with_q_and_uses_q_over_4pi(element):
    f = form_factor(element, Q)
    assert np.all(np.diff(f.real) < 0)
    assert np.all(f.imag == 0)
    # The argument is sin(theta)/lambda = Q/(4 pi), not Q/(2 pi): the two differ by
    # more than 5 % at every Q > 1 1/Å (measured minimum: 8.9 %, Au).
    np.testing.assert_allclose(f.real, xraydb.f0(element, Q / (4.0 * math.pi)), rtol=1e-12)
    wrong = xraydb.f0(element, Q / (2.0 * math.pi))
    assert np.all(np.abs(f.real[Q > 1.0] / wrong[Q > 1.0] - 1.0) > 0.05)


@pytest.mark.parametrize("element", ["Au", "Ag", "Cu"])
@pytest.mark.parametrize("energy_kev", [8.0478, 11.9, 11.919, 17.479, 30.0])
def test_anomalous_terms_are_chantlers(element, energy_kev):
    plain = form_factor(element, Q)
    resonant = form_factor(element, Q, energy_kev=energy_kev)
    energy_ev = energy_kev * 1000.0
    expected = xraydb.f1_chantler(element, energy_ev) + 1j * xraydb.f2_chantler(element, energy_ev)
    # f', f'' do not depend on Q (dipole approximation): the same shift at every Q
    np.testing.assert_allclose(resonant - plain, np.full(len(Q), complex(expected)), rtol=1e-12, atol=1e-12)


def test_gold_l3_edge():
    """f' of Au has its sharp negative dip at the L3 edge (11.919 keV); f'' jumps."""
    at_edge = form_factor("Au", [0.0], energy_kev=11.919)[0] - form_factor("Au", [0.0])[0]
    assert at_edge.real < -15.0  # Chantler: -17.75 e
    below = form_factor("Au", [0.0], energy_kev=11.80)[0] - form_factor("Au", [0.0])[0]
    above = form_factor("Au", [0.0], energy_kev=12.00)[0] - form_factor("Au", [0.0])[0]
    assert at_edge.real < below.real and at_edge.real < above.real  # -11.5 and -12.3 e
    # f'' is proportional to the absorption: it jumps across the edge
    # (Chantler: 4.15 e at 11.90 keV, 9.63 e at 11.93 keV; jump ratio of L3 2.55)
    f2_below = form_factor("Au", [0.0], energy_kev=11.90)[0].imag
    f2_above = form_factor("Au", [0.0], energy_kev=11.93)[0].imag
    assert f2_above > 2.0 * f2_below > 0


@pytest.mark.parametrize("element", ELEMENTS)
def test_constant_source_is_z(element):
    f = form_factor(element, Q, source="constant")
    np.testing.assert_array_equal(f, np.full(len(Q), float(atomic_numbers[element]), dtype=complex))
    shifted = form_factor(element, Q, energy_kev=20.0, source="constant")
    expected = atomic_numbers[element] + xraydb.f1_chantler(element, 20000.0) + 1j * xraydb.f2_chantler(element, 20000.0)
    np.testing.assert_allclose(shifted, np.full(len(Q), complex(expected)), rtol=1e-12)


def test_shape_is_kept():
    q = np.linspace(0.0, 10.0, 12).reshape(3, 4)
    f = form_factor("Au", q)
    assert f.shape == (3, 4) and f.dtype == np.complex128


@pytest.mark.parametrize(
    "kwargs",
    [{"source": "cromer-mann"}, {"energy_kev": 0.001}, {"energy_kev": 500.0}, {"energy_kev": float("nan")},
     {"energy_kev": "eight"}],
)
def test_invalid_input_raises(kwargs):
    with pytest.raises(SwaxsInputError):
        form_factor("Au", Q, **kwargs)
