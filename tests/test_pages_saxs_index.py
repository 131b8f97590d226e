"""The SAXS page's indexing section (AppTest, no browser): what a user sees.

References: silver behenate d001 = 58.380 Å (Huang et al., J. Appl. Cryst. 26, 180, 1993) for the
shipped simulated curve (tests/data/agbeh_simulated/SOURCE.md), found within 0.1 %; the measured
alumina USAXS curve (tests/data/alumina_usaxs, a powder of irregular grains) has no Bragg peaks, so no
lattice may be offered for it.
"""

from __future__ import annotations

import pytest

from tests.test_pages import ROOT, db, metric, run  # noqa: F401  (db is a fixture)

AGBEH = ROOT / "tests" / "data" / "agbeh_simulated" / "agbeh_simulated.dat"
ALUMINA = ROOT / "tests" / "data" / "alumina_usaxs" / "Alumina_usaxs_irena_input.csv"


def _add(db, path):  # noqa: F811
    from swaxs_lib.io import read_measurement_bytes

    raw = path.read_bytes()
    return db.add_dataset(path.stem, raw, path.name, read_measurement_bytes(raw, path.name)).id


def test_silver_behenate_indexes_as_lamellar_with_its_d_spacing(db):  # noqa: F811
    at = run("pages/saxs.py", ds=_add(db, AGBEH), section="indexing", i_lat="lamellar,hex2d,fcc,bcc", i_show="2")
    assert metric(at, "Peaks found") == "7"
    assert metric(at, "Best lattice") == "lamellar"
    d = float(metric(at, "Lengths").split("=")[1].split("±")[0])
    assert d == pytest.approx(58.380, rel=1e-3)
    assert metric(at, "Indexed / unexplained / missing") == "7 / 0 / 0"
    ranking = at.dataframe[0].value
    assert ranking["lattice"].tolist()[0] == "lamellar" and set(ranking["lattice"]) <= {"lamellar", "hex2d", "fcc", "bcc"}
    peaks = at.dataframe[1].value
    assert peaks["hkl"].tolist() == ["001", "002", "003", "004", "005", "006", "007"]
    assert [b.proto.label for b in at.get("download_button")] == ["Indexing curve (CSV)", "Lattice ranking (CSV)",
                                                                  "Peaks (CSV)"]
    assert at.query_params["i_lat"] == "lamellar,hex2d,fcc,bcc" and at.query_params["section"] == "indexing"
    assert at.success and "lamellar; next hex2d at Δscore" in at.success[0].value  # markdown-escaped "best:"


def test_measured_alumina_usaxs_offers_no_lattice(db):  # noqa: F811
    at = run("pages/saxs.py", ds=_add(db, ALUMINA), section="indexing")
    assert int(metric(at, "Peaks found")) < 3
    assert at.warning and "needed to index" in at.warning[0].value
    assert [b.proto.label for b in at.get("download_button")] == ["Indexing curve (CSV)", "Peaks (CSV)"]


def test_a_bad_link_value_is_reported_and_replaced(db):  # noqa: F811
    at = run("pages/saxs.py", ds=_add(db, AGBEH), section="indexing", i_lat="lamellar,diamond", i_min="2")
    assert any("i_lat" in w.value for w in at.warning)
    assert metric(at, "Best lattice") == "lamellar"
