"""The model-free domain checks of measured files (swaxs_lib/ml/measured.py) and the S(Q) - 1 reading.

No models are loaded: what the file says (its header composition, whether its abscissa is plausible in
its unit) is checked on the copies in tests/data, whose SOURCE.md say what each sample is.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from swaxs_lib.io import read_measurement
from swaxs_lib.ml.measured import domain_reasons, measured_files
from swaxs_lib.ml.routing import model_input

DATA = Path(__file__).resolve().parent / "data"


def test_a_cdse_header_is_a_reason_and_metal_headers_are_not():
    # CdSe-3nm.gr: PDFgetX2 Sample_Setup table Cd, Se (SOURCE.md: wurtzite CdSe, not a metal)
    cdse = domain_reasons(read_measurement(DATA / "cdse_np_pdfgui/CdSe-3nm.gr"))
    assert len(cdse) == 1 and "no single element of the database" in cdse[0]
    # Au144 S60 C180 (ligands ignored) and composition = Pt: clusters of the database's elements
    assert domain_reasons(read_measurement(DATA / "au144_pdf/Au144PET_100K-00000.gr")) == ()
    assert domain_reasons(read_measurement(DATA / "pt_np_jq_pdf/JQ_S1.gr")) == ()


def test_a_pdf_read_in_the_wrong_unit_is_a_reason():
    # the Pt G(r) with r divided by 10 (as if the file were in nm and read as Å): its first peak, at 2.78 Å in the
    # file, would be at 0.28 Å, no interatomic distance
    m = read_measurement(DATA / "pt_np_jq_pdf/JQ_S1.gr")
    wrong = replace(m, x=m.x / 10.0)
    reasons = domain_reasons(wrong)
    assert len(reasons) == 1 and reasons[0].startswith("units:")


def test_only_measured_curves_are_listed():
    names = {p.name for p in measured_files(DATA)}
    assert "Ludox_silica.xml" in names and "Alumina_usaxs_irena_input.csv" in names
    assert "AluminaUSAXS_IrenaTenShotsResults.csv" not in names  # an Irena fit result
    assert "agbeh_simulated.dat" not in names  # simulated, not measured


def test_an_s_of_q_about_zero_is_read_as_s_minus_one():
    # xPDFsuite's Experimental_Sq.sq (Au, Q 2.4-10 1/Å) oscillates about 0 and goes negative, which S(Q) cannot
    m = read_measurement(DATA / "au_np_scattbo/Experimental_Sq.sq")
    kind, q, iq, notes = model_input(m.kind, m.x, m.values, "Au")
    assert kind == "iq" and np.all(iq > 0) and "read as S(Q) − 1" in notes[0]
    # a proper S(Q), about 1 at high Q and positive, is taken as it is
    q = np.linspace(2.4, 10.0, 200)
    s = 1.0 + 0.5 * np.sin(2.8 * q) * np.exp(-0.2 * q)
    _, _, iq2, notes2 = model_input("sq", q, s, "Au")
    assert len(notes2) == 1 and "S(Q) − 1" not in notes2[0]


def test_alumina_usaxs_is_beyond_the_ladder_and_au144_is_gold_without_the_models():
    # alumina powder (SOURCE.md: Irena sizes 25-10,000 Å): the Guinier check against the shipped training curves'
    # R_g range (manifest.json, measured by train) says "above" before any model runs
    import json

    from swaxs_lib.io.header import choose_element, header_facts
    from swaxs_lib.ml.domain import check_size_range
    from swaxs_lib.ml.models import DEFAULT_MODEL_DIR

    rg_range = json.loads((DEFAULT_MODEL_DIR / "manifest.json").read_text())["guinier_rg_range_angstrom"]
    m = read_measurement(DATA / "alumina_usaxs/Alumina_usaxs_irena_input.csv")
    assert check_size_range(m.x, m.values, tuple(rg_range)).status == "above"
    # Au144(PET)60: "composition = Au144 S60 C180", the ligands' S and C ignored
    choice = choose_element(None, header_facts(read_measurement(DATA / "au144_pdf/Au144PET_100K-00000.gr")))
    assert (choice.element, choice.from_header) == ("Au", True)


def test_the_analysis_prior_hands_predict_the_files_domain_reasons(monkeypatch):
    # the one-click analysis asks predict for its prior as the predict command does: CdSe's header goes with it
    import swaxs_lib.ml.models as models
    import swaxs_lib.ml.predict as ml_predict
    from swaxs_lib.analyse import pipeline
    from swaxs_lib.errors import SwaxsInputError

    seen = {}

    def stop(bundle, kind, x, values, **options):
        seen.update(options)
        raise SwaxsInputError("stopped before the models")

    monkeypatch.setattr(models, "load_bundle", lambda path: None)
    monkeypatch.setattr(ml_predict, "predict", stop)
    notes: list[str] = []
    assert pipeline._prior(read_measurement(DATA / "cdse_np_pdfgui/CdSe-3nm.gr"), None, notes) is None
    assert seen["domain_reasons"] and "Cd" in seen["domain_reasons"][0], seen
    assert notes == ["no ML prior: stopped before the models"]
    # and a Q damping held from a calibrant, for the G(r) size check (the tutorial's 0.0486)
    pipeline._prior(read_measurement(DATA / "cdse_np_pdfgui/CdSe-3nm.gr"), None, notes, 0.0486)
    assert seen["q_damp_inv_angstrom"] == 0.0486
