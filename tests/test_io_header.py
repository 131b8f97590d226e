"""What a file header says: composition, cluster element and Q window (swaxs_lib.io.header).

References: the header text of the measured files in tests/data (each folder's
SOURCE.md says where they come from), read by eye and written down here:

=============================================  ==============================  ========  ====================
file                                           composition as written          element   Q window (1/Å)
=============================================  ==============================  ========  ====================
pt_np_jq_pdf/JQ_S1.gr (xPDFsuite)              ``composition = Pt``            Pt        qmin 1.0, qmax 21.998245281
au_np_scattbo/Experimental_PDF.gr (xPDFsuite)  ``composition = Au``            Au        qmin 2.4, qmax 10.0
au144_pdf/Au144PET_100K-00000.gr (PDFgetXgui)  ``composition = Au144 S60 C180``  Au      qmin 0.8, qmax 26.0
au144_pdf/Au144pMBA.gr (PDFgetX3)              ``composition = Au``            Au        qmin 1.33, qmax 28.0
cdse_np_pdfgui/CdSe-3nm.gr (PDFgetX2)          Sample_Setup rows Cd 1, Se 1    none      S(q) qmin 0.3, qmax 14.0
ni_srfit/ni-q27r60-xray.gr (PDFgetX2)          Sample_Setup row Ni 1           Ni        S(q) qmin 0.01, qmax 27.0
ni_srfit/ni-q27r100-neutron.gr (PDFgetN)       Sample Material row Ni 1.0000   Ni        (``Qmin=0.87`` is not read)
=============================================  ==============================  ========  ====================
"""

from __future__ import annotations

from pathlib import Path

import pytest

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import read_measurement, read_measurement_bytes
from swaxs_lib.io.header import choose_element, cluster_element, describe_use, header_facts, parse_composition
from swaxs_lib.store import Store

DATA = Path(__file__).resolve().parent / "data"

REAL = [
    # file, composition, element, q window, raw composition line (or the first table line)
    ("pt_np_jq_pdf/JQ_S1.gr", (("Pt", 1.0),), "Pt", (1.0, 21.998245281), "composition = Pt"),
    ("au_np_scattbo/Experimental_PDF.gr", (("Au", 1.0),), "Au", (2.4, 10.0), "composition = Au"),
    ("au144_pdf/Au144PET_100K-00000.gr", (("Au", 144.0), ("S", 60.0), ("C", 180.0)), "Au", (0.8, 26.0),
     "composition = Au144 S60 C180"),
    ("au144_pdf/Au144pMBA.gr", (("Au", 1.0),), "Au", (1.33, 28.0), "composition = Au"),
    ("cdse_np_pdfgui/CdSe-3nm.gr", (("Cd", 1.0), ("Se", 1.0)), None, (0.3, 14.0),
     "##### Sample_Setup information    num_atoms=2"),
    ("ni_srfit/ni-q27r60-xray.gr", (("Ni", 1.0),), "Ni", (0.01, 27.0), "##### Sample_Setup information    num_atoms=1"),
    ("ni_srfit/ni-q27r100-neutron.gr", (("Ni", 1.0),), "Ni", None,
     "# ##### Sample Material     numElements=1     NormLaue=0.00000"),
]


@pytest.mark.parametrize("name, composition, element, window, line", REAL, ids=[r[0] for r in REAL])
def test_real_headers(name, composition, element, window, line):
    facts = header_facts(read_measurement(DATA / name))
    assert facts.composition == composition
    assert facts.element == element
    assert facts.q_range_inv_angstrom == window
    assert facts.composition_lines[0].strip() == line
    assert facts.source == Path(name).name and not facts.warnings


def test_ligand_elements_are_named_as_ignored():
    facts = header_facts(read_measurement(DATA / "au144_pdf/Au144PET_100K-00000.gr"))
    assert "S, C ignored" in facts.element_note
    assert facts.composition_text == "composition = Au144 S60 C180"


def test_cdse_names_no_single_element_and_says_so():
    facts = header_facts(read_measurement(DATA / "cdse_np_pdfgui/CdSe-3nm.gr"))
    assert facts.element is None
    assert "Cd, Se" in facts.element_note and "left to the user" in facts.element_note
    assert facts.composition_text == "Sample_Setup table: Cd 1, Se 1"
    # the raw table: section line, column labels, one row per element
    assert [line.split()[0] for line in facts.composition_lines[2:]] == ["Cd", "Se"]
    assert facts.q_lines == ("## S(q)  qmin=0.300000    qmax=14.000000    qgrid=0.000000",)
    choice = choose_element(None, facts)
    assert choice.element is None and "no element from the header of CdSe-3nm.gr" in choice.message


def test_the_stored_copy_says_the_same(tmp_path):
    """Pages read datasets back from the store: the header lines survive the round trip."""
    path = DATA / "pt_np_jq_pdf/JQ_S1.gr"
    raw = path.read_bytes()
    store = Store(tmp_path / "s.duckdb")
    record = store.add_dataset("pt", raw, path.name, read_measurement_bytes(raw, path.name))
    facts = header_facts(store.get_dataset(record.id).measurement)
    assert (facts.element, facts.q_range_inv_angstrom) == ("Pt", (1.0, 21.998245281))


FORMULAS = [
    ("Pt", (("Pt", 1.0),)),
    ("Au", (("Au", 1.0),)),
    ("CdSe", (("Cd", 1.0), ("Se", 1.0))),
    ("Au144 S60 C180", (("Au", 144.0), ("S", 60.0), ("C", 180.0))),
    ("Cd1 Se1", (("Cd", 1.0), ("Se", 1.0))),
    ("Au144S60C180", (("Au", 144.0), ("S", 60.0), ("C", 180.0))),
    ("(CdSe)2 O", (("Cd", 2.0), ("Se", 2.0), ("O", 1.0))),
    ("Pt, O2", (("Pt", 1.0), ("O", 2.0))),
    ("Co", (("Co", 1.0),)),
    ("CO", (("C", 1.0), ("O", 1.0))),
    ("Ni0.5 Ni0.5", (("Ni", 1.0),)),
    ("[Au(PH3)]2", (("Au", 2.0), ("P", 2.0), ("H", 6.0))),
]


@pytest.mark.parametrize("text, expected", FORMULAS)
def test_formulas(text, expected):
    assert parse_composition(text) == expected


@pytest.mark.parametrize("text", ["pt", "12", "Xx3", "Au0", "Au(", "Au)", "()", "Au$", "Au25(SR)18", "[Au(PPh3)]2",
                                  "", "   "])
def test_malformed_formulas_are_refused_with_the_text(text):
    with pytest.raises(SwaxsInputError, match="composition"):
        parse_composition(text)


@pytest.mark.parametrize("bad", ["Xx3", "pt", "12 13", "Au(S"])
def test_a_malformed_header_composition_is_a_warning_not_a_crash(bad):
    raw = f"composition = {bad}\nqmin = 0.5\nqmax = 20\n#### start data\n1 0.5\n2 0.1\n".encode()
    facts = header_facts(read_measurement_bytes(raw, "odd.gr"))
    assert facts.composition == () and facts.element is None
    assert len(facts.warnings) == 1 and bad in facts.warnings[0] and "odd.gr" in facts.warnings[0]
    assert facts.q_range_inv_angstrom == (0.5, 20.0)  # the rest of the header is still read
    assert "not read" in describe_use(facts, elements=["Au"])


def test_a_pdfgui_fit_export_states_no_composition():
    """PDFgui's fit export (FitDataSet.writeCalcStr): stype, qmax, qdamp ... but no composition and no qmin."""
    raw = ("History written: Mon Jan  1 00:00:00 2024\nproduced by me\n##### PDFgui fit\nstype=X  x-ray scattering\n"
           "qmax=25.00\nqdamp=0.06\nqbroad=0\ndscale=1\nfitrmin=1.5\nfitrmax=20\n##### start data\n"
           "#L r(A) G(r) d_r d_Gr\n1.0 0.1 0 0.01\n1.01 0.2 0 0.01\n").encode()
    facts = header_facts(read_measurement_bytes(raw, "fit.fgr", kind="gr"))
    assert facts.composition == () and facts.element is None and facts.q_range_inv_angstrom is None
    assert choose_element(None, facts).element is None and not facts.warnings


@pytest.mark.parametrize("composition, element, note", [
    ((("Si", 1.0),), "Si", None),
    ((("Au", 1.0), ("Ag", 1.0)), None, "an alloy"),
    ((("Fe", 1.0), ("Pt", 1.0)), None, "Fe, which is not a ligand element"),
    ((("Pd", 561.0), ("P", 60.0), ("C", 1080.0), ("H", 900.0)), "Pd", "P, C, H ignored"),
    ((("Cd", 1.0), ("Se", 1.0)), None, "none of Au, Ag, Pt, Pd, Cu, Ni"),
])
def test_cluster_element(composition, element, note):
    got, said = cluster_element(composition)
    assert got == element
    assert (said is None) if note is None else (note in said)


def test_an_explicit_element_wins_and_a_conflict_is_a_warning():
    pt = header_facts(read_measurement(DATA / "pt_np_jq_pdf/JQ_S1.gr"))
    assert choose_element(None, pt).element == "Pt" and choose_element(None, pt).from_header
    assert choose_element(None, pt).message == "element Pt from the header of JQ_S1.gr (composition = Pt)"
    explicit = choose_element("Au", pt)
    assert explicit.element == "Au" and not explicit.from_header
    assert "JQ_S1.gr says composition = Pt" in explicit.warning
    assert choose_element("pt", pt).warning is None  # the same element, however spelt
    cdse = header_facts(read_measurement(DATA / "cdse_np_pdfgui/CdSe-3nm.gr"))
    assert choose_element("Cd", cdse).warning is None
    assert "no Au in it" in choose_element("Au", cdse).warning


def test_what_was_taken():
    pt = header_facts(read_measurement(DATA / "pt_np_jq_pdf/JQ_S1.gr"))
    assert pt.taken(element=True, q_min=True, q_max=True) == {
        "element": "Pt", "composition": "composition = Pt", "q_min_inv_angstrom": 1.0,
        "q_max_inv_angstrom": 21.998245281}
    assert pt.taken(q_max=True) == {"q_max_inv_angstrom": 21.998245281}
    assert pt.taken() == {}
    said = describe_use(pt, elements=["Au"], q_min_inv_angstrom=1.0, q_max_inv_angstrom=20.0)
    assert said.startswith("From the header of JQ_S1.gr: Q_min 1 1/Å.")
    assert "element Au (the header says composition = Pt)" in said and "Q_max 20 1/Å (the header says 21.9982" in said
