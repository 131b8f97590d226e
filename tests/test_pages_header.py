"""The pages take a dataset's header element where the user has not chosen one, and say what they took.

The Compare page under AppTest (as tests/test_pages.py): the measured Pt PDF
(xPDFsuite header ``composition = Pt``, ``qmin = 1.0``, ``qmax = 21.998245281``)
and the Au144 PDF (PDFgetX3 header ``composition = Au``, ``qmin = 1.33``,
``qmax = 28.0``), both in tests/data with their SOURCE.md.
"""

from __future__ import annotations

from pathlib import Path

from swaxs_lib.io import read_measurement_bytes
from tests.test_pages import db, metric, run  # noqa: F401 - db is a fixture

DATA = Path(__file__).resolve().parent / "data"


def _add(store, name: str) -> str:
    path = DATA / name
    raw = path.read_bytes()
    return store.add_dataset(path.stem, raw, path.name, read_measurement_bytes(raw, path.name)).id


def _captions(at) -> list[str]:
    """Captions as shown (the page escapes markdown in text from files)."""
    return [c.value.replace("\\", "") for c in at.caption]


def _query(at, name: str) -> str:
    value = at.query_params[name]
    return value[0] if isinstance(value, list) else value


def test_compare_page_element_follows_the_header_until_the_user_chooses(db):  # noqa: F811
    pt, au = _add(db, "pt_np_jq_pdf/JQ_S1.gr"), _add(db, "au144_pdf/Au144pMBA.gr")
    at = run("pages/compare.py", ds=pt, c1_shape="icosahedron", c1_shells="2")
    assert at.selectbox(key="compare.c1_el").value == "Pt"
    assert "From the header of JQ_S1.gr: element Pt (composition = Pt), Q_min 1 1/Å, Q_max 21.9982 1/Å." \
        in _captions(at)
    assert _query(at, "c1_el") == "Pt"
    assert at.number_input(key="compare.qmin").value == 1.0
    assert float(metric(at, "R_w")) > 0

    # another dataset: the element the page set follows its header
    at.selectbox(key="compare.ds").set_value(au).run()
    assert not at.exception
    assert at.selectbox(key="compare.c1_el").value == "Au"
    assert any(c.startswith("From the header of Au144pMBA.gr: element Au (composition = Au), Q_min 1.33 1/Å")
               for c in _captions(at))

    # the user's choice is kept, and the caption says the header disagrees
    at.selectbox(key="compare.c1_el").set_value("Ag").run()
    at.selectbox(key="compare.ds").set_value(pt).run()
    assert not at.exception
    assert at.selectbox(key="compare.c1_el").value == "Ag"
    assert any("Set here instead: element Ag (the header says composition = Pt)" in c for c in _captions(at))


def test_compare_page_keeps_a_linked_element(db):  # noqa: F811
    pt = _add(db, "pt_np_jq_pdf/JQ_S1.gr")
    at = run("pages/compare.py", ds=pt, c1_shape="icosahedron", c1_shells="2", c1_el="Au", qmin="0.5")
    assert at.selectbox(key="compare.c1_el").value == "Au"
    said = next(c for c in _captions(at) if c.startswith("From the header"))
    assert said.startswith("From the header of JQ_S1.gr: Q_max 21.9982 1/Å.")
    assert "element Au (the header says composition = Pt)" in said and "Q_min 0.5 1/Å (the header says 1 1/Å)" in said


def test_data_page_says_what_the_header_gives(db):  # noqa: F811
    cdse, pt = _add(db, "cdse_np_pdfgui/CdSe-3nm.gr"), _add(db, "pt_np_jq_pdf/JQ_S1.gr")
    at = run("pages/data.py", ds=pt)
    assert any(c.startswith("From the header of JQ_S1.gr: element Pt (composition = Pt), Q_min 1 1/Å, Q_max 21.9982")
               for c in _captions(at))
    at = run("pages/data.py", ds=cdse)
    said = next(c for c in _captions(at) if c.startswith("From the header"))
    assert said.startswith("From the header of CdSe-3nm.gr: Q_min 0.3 1/Å, Q_max 14 1/Å.")
    assert "says Sample_Setup table: Cd 1, Se 1; 2 elements (Cd, Se)" in said and "left to the user" in said
