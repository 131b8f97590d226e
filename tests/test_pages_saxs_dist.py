"""The SAXS page's size-distribution section (AppTest, no browser): what a user sees for the alumina USAXS data.

Reference: Irena's ten-shot MaxEnt result for these data with these settings
(tests/data/alumina_usaxs/AluminaUSAXS_IrenaTenShotsResults.csv; its volume integral is 4.845 in
volume fraction × 10²⁰ cm⁻⁴ / Δρ², see tests/test_sizedist.py), within 2 %.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_pages import ROOT, db, metric, run  # noqa: F401  (db is a fixture)

ALUMINA = ROOT / "tests" / "data" / "alumina_usaxs"
#: Irena's settings (InputParametersUsed4AluminaData.csv) as the section's link parameters.
IRENA_LINK = {"section": "distribution", "d_qmin": "0.00068801", "d_qmax": "0.10604", "d_dmin": "25",
              "d_dmax": "10000", "d_bins": "100", "d_flat": "0.121176", "d_pls": "2.55e-07", "d_ple": "4",
              "d_wf": "1.9033", "d_sky": "1.94e-05", "d_reps": "10"}


@pytest.fixture
def alumina_id(db):  # noqa: F811
    from swaxs_lib.io import read_measurement_bytes

    raw = (ALUMINA / "Alumina_usaxs_irena_input.csv").read_bytes()
    return db.add_dataset("alumina", raw, "alumina.csv", read_measurement_bytes(raw, "alumina.csv")).id


def _number(text: str) -> float:
    return float(text.split("±")[0].split("Å")[0].strip())


def test_distribution_section_shows_irenas_volume_and_the_window(alumina_id):
    at = run("pages/saxs.py", ds=alumina_id, **IRENA_LINK)
    ref = np.loadtxt(ALUMINA / "AluminaUSAXS_IrenaTenShotsResults.csv", delimiter=",", skiprows=1)
    assert _number(metric(at, "Volume fraction (total)")) == pytest.approx(np.trapezoid(ref[:, 4], ref[:, 0]), rel=0.02)
    # Window π/Q_max–π/Q_min of points 13–94: 29.6–4566 Å.
    assert metric(at, "Window (D)") == "29.6–4566 Å"
    assert 1000 < _number(metric(at, "Mean D, volume-weighted")) < 2000
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Size distribution (CSV)", "Distribution fit (CSV)", "Distribution summary (CSV)"]
    assert not at.warning  # all inside: no volume outside the window, all ten solutions converged
    # The URL keeps the settings.
    assert at.query_params["d_wf"] == "1.9033" and at.query_params["section"] == "distribution"


def test_monte_carlo_from_the_link_flags_volume_outside_the_window(alumina_id):
    link = {**IRENA_LINK, "d_method": "montecarlo", "d_reps": "3"}
    link.pop("d_sky")
    at = run("pages/saxs.py", ds=alumina_id, **link)
    # Equal-volume random spheres never moved out of bins the data do not constrain: flagged, not reported.
    assert any("outside the observable window" in w.value for w in at.warning)
    assert _number(metric(at, "… inside the window")) == pytest.approx(4.8, rel=0.05)
