"""Automatic starts of ``fit_saxs`` on monodisperse spheres (found while writing the batch tests, 2026-12-05).

Curves: the analytic sphere form factor (numpy, written here), Q 0.005-0.4 1/Å on 150 log-spaced points, σ 2 %,
no noise.  Before the Guinier-seeded fine pass (``swaxs_lib.saxs._starts.guinier_factor``) 40, 45 and 60 Å ended
in other minima (70.1, 78.9 and 104.5 Å, χ²_red ~1000-1600): the coarse grid's ~15 % steps are about one period
of χ²(R) (π/Q_max = 7.9 Å) at these sizes, and with a free background its best point was a 141 Å sphere.
"""

from __future__ import annotations

import numpy as np
import pytest

from swaxs_lib.io.measurement import Measurement
from swaxs_lib.saxs.sasfit import fit_saxs


def _sphere(radius: float) -> Measurement:
    q = np.geomspace(0.005, 0.4, 150)
    x = q * radius
    intensity = 4e-5 * radius**3 * (3 * (np.sin(x) - x * np.cos(x)) / x**3) ** 2 + 1e-4
    return Measurement(kind="iq", x=q, values=intensity, uncertainties=0.02 * intensity, source="test",
                       x_unit="inv_angstrom")


@pytest.mark.parametrize("radius", [20.0, 35.0, 40.0, 45.0, 60.0, 90.0])
def test_monodisperse_spheres_fitted_from_automatic_starts(radius):
    assert fit_saxs(_sphere(radius), "sphere").value("radius") == pytest.approx(radius, rel=1e-3)
