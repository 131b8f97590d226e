"""The SAXS page's "Cluster models" section with AppTest (no browser): what a user sees after a fit.

A simulated I(Q) of a known mixture of Au icosahedra (13, 55, 147 atoms in number fractions 0.2, 0.5,
0.3, their Debye curves summed here) must come back as those fractions in the page's table; the
measured alumina USAXS curve (no clusters in it: the shared data hold no measured cluster SAXS) must
give a fit whose numbers are shown, with the member link to the Clusters page.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from swaxs_lib.io import read_measurement_bytes
from swaxs_lib.scattering import debye_intensity
from swaxs_lib.structures import icosahedron
from tests.test_pages import db  # noqa: F401  (a fixture: a fresh store the pages open)

ROOT = Path(__file__).resolve().parents[1]
ALUMINA = ROOT / "tests/data/alumina_usaxs/Alumina_usaxs_irena_input.csv"




def open_section(dataset_id: str, **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.switch_page("pages/saxs.py")
    for name, value in {"ds": dataset_id, "section": "clusters", **query}.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_a_known_mixture_comes_back_as_its_number_fractions(db):
    q = np.geomspace(0.05, 1.0, 80)
    curves = [debye_intensity(icosahedron("Au", k).atoms, q, b_iso_angstrom2=0.5).intensity for k in (2, 3, 4)]
    y = 1e-6 * (0.2 * curves[0] + 0.5 * curves[1] + 0.3 * curves[2]) + 0.01
    raw = ("# q_A^-1 I\n" + "".join(f"{a:.8g} {b:.10g}\n" for a, b in zip(q, y))).encode()
    dataset = db.add_dataset("Au13-55-147 mix", raw, "mix.dat", read_measurement_bytes(raw, "mix.dat")).id
    at = open_section(dataset, c_shape="icosahedron", c_sizes="2..4", c_dist="free", c_fit="1")
    table = at.dataframe[0].value
    assert table["member"].tolist() == ["shells=2", "shells=3", "shells=4"]
    assert np.round(table["number_fraction"].to_numpy(), 3).tolist() == [0.2, 0.5, 0.3]
    link = next(p for p in at.page_link if p.label.startswith("View "))
    assert "Clusters" in link.label
    labels = {b.label for b in at.get("download_button")}
    assert {"Cluster fit (CSV)", "Member contributions (CSV)", "Number distribution (CSV)"} <= labels


def test_the_measured_usaxs_curve_is_fitted_on_pressing_fit(db):
    raw = ALUMINA.read_bytes()
    dataset = db.add_dataset("alumina", raw, ALUMINA.name, read_measurement_bytes(raw, ALUMINA.name)).id
    at = open_section(dataset, c_sizes="3..5", c_dq="0.05")
    assert any("press Fit" in i.value for i in at.info)
    at.button(key="saxs.c_run").click().run()
    assert not at.exception, [e.message for e in at.exception]
    chi2 = next(m.value for m in at.metric if m.label == "χ²_red")
    assert float(chi2) > 0
    assert at.query_params["c_fit"] == ["1"] or at.query_params["c_fit"] == "1"
    assert at.dataframe[0].value["number_fraction"].sum() == pytest.approx(1.0)
