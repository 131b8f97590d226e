"""The live model's pieces (swaxs_lib.live): the Debye equation for any zoom and B from a tabulated pair sum.

References: the exact double sum over atom pairs (``debye_intensity(mode="exact")``,
itself checked against a plain numpy sum, the dimer and ASE in tests/test_debye.py)
with the same zoom and B.  Tolerances: 1e-5 of I(Q) pointwise, 1e-6 of max|S|, max|F|
(the histogram's binning is promised within 1e-6 relative, tests/test_debye.py; the
6-point interpolation adds less than 1e-8 of max|S_p|); 3e-5 pointwise in the
deep small-angle minima, where the interpolation error is largest relative to I.
The Compare page asks 1e-3 of the browser's curve.
"""

from __future__ import annotations

import numpy as np
import pytest

from swaxs_lib.compare import compare_cluster, histogram_for
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import Measurement
from swaxs_lib.live import live_model
from swaxs_lib.scattering import debye_intensity, pair_histogram
from swaxs_lib.structures import decahedron, icosahedron


def _alloy():
    atoms = icosahedron("Au", 3).atoms
    symbols = atoms.get_chemical_symbols()
    for i in range(0, len(atoms), 3):
        symbols[i] = "Ag"
    atoms.set_chemical_symbols(symbols)
    return atoms


@pytest.mark.parametrize("kind", ["iq", "sq", "fq"])
@pytest.mark.parametrize("alloy", [False, True])
def test_live_model_is_the_exact_debye_sum_at_any_zoom_and_b(kind, alloy):
    atoms = _alloy() if alloy else decahedron("Au", 2, 2, 1).atoms
    q = np.linspace(0.3, 12.0, 400)
    live = live_model(pair_histogram(atoms, 2.0**-7), q, kind)
    for zoom, b in [(1.0, 0.0), (0.93, 0.4), (1.08, {"Au": 1.5, "Ag": 0.3} if alloy else 1.5)]:
        exact = debye_intensity(atoms, q, mode="exact", b_iso_angstrom2=b, scale=zoom).values(kind)
        got = live.evaluate(zoom, b)
        if kind == "iq":
            np.testing.assert_allclose(got, exact, rtol=1e-5)
        else:  # S(Q) and F(Q) cross zero: relative to the curve's largest value
            np.testing.assert_allclose(got, exact, rtol=0, atol=1e-6 * np.abs(exact).max())


def test_live_model_holds_at_small_angles_through_the_form_factor_minima():
    # SAXS of a 2,869-atom icosahedron: I(Q) falls by 1e4 with deep minima, where pointwise accuracy is hardest
    atoms = icosahedron("Au", 10).atoms
    q = np.linspace(0.02, 0.8, 600)
    measurement = Measurement("iq", q, 1.0 / (1.0 + q), None, "saxs", "inv_angstrom")  # any curve that varies
    hist = histogram_for(atoms, measurement)
    live = live_model(hist, q, "iq")
    for zoom, b in [(0.95, 0.5), (1.06, 3.0)]:
        reference = compare_cluster(measurement, atoms, {"zoom": zoom, "b": b}, histogram=hist).model
        np.testing.assert_allclose(live.evaluate(zoom, b), reference, rtol=3e-5)
    assert reference.min() < 1e-3 * reference.max()  # the range does reach the minima


def test_live_model_refuses_what_it_cannot_evaluate():
    atoms = icosahedron("Au", 2).atoms
    q = np.linspace(1, 10, 20)
    with pytest.raises(SwaxsInputError, match="bin width"):
        live_model(pair_histogram(atoms, 0.1), q, "iq")
    with pytest.raises(SwaxsInputError, match="G\\(r\\) has no live model"):
        live_model(pair_histogram(atoms, 0.01), q, "gr")
    live = live_model(pair_histogram(atoms, 0.01), q, "iq")
    with pytest.raises(SwaxsInputError, match="zoom"):
        live.evaluate(1.2, 0.5)
    with pytest.raises(SwaxsInputError, match="b_iso_angstrom2"):
        live.evaluate(1.0, -1.0)
