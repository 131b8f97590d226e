"""The model-free G(r) size check (swaxs_lib.ml.pdf_extent): a particle of the ladder, or larger (bulk)?

References, independent of our code:
- diffpy.pdffit2's attenuated crystal (bulk fcc Au G(r) times a sphere's characteristic function,
  ``spdiameter``; 0 = bulk) under its own Q damping: the ladder's largest sphere is inside, bulk and a 15 nm
  sphere are above.
- Measured files (tests/data/*/SOURCE.md): the PDFgui tutorial's CdSe 3 nm particles and CdSe bulk share one
  instrument, Q_damp 0.0486 1/Å (the tutorial's); bulk Ni X-ray, Q_damp 0.0502 1/Å refined on the file itself
  over 1.5-60 Å (`refine --model crystal --free qdamp`), as a lab refines its calibrant; the Pt JQ and Au144
  particles, whose G(r) dies out by 20-45 Å.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from swaxs_lib.io import read_measurement
from swaxs_lib.ml.pdf_extent import check_pdf_extent

from .test_refine_crystal import DATA

#: The shipped models' largest extent (manifest diameter_range_nm top, 7.78 nm), Å.
TOP = 77.8


def pdffit2_au(diameter: float, q_damp: float, r: np.ndarray) -> np.ndarray:
    """pdffit2's G(r) of fcc Au (a 4.08 Å, U 0.008 Å²), Q_max 25, in a sphere of ``diameter`` (0: bulk)."""
    import diffpy.pdffit2
    from diffpy.structure import Atom, Lattice, Structure

    diffpy.pdffit2.redirect_stdout(open(os.devnull, "w"))
    pf = diffpy.pdffit2.PdfFit()
    sites = [(0, 0, 0), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5)]
    pf.add_structure(Structure([Atom("Au", xyz) for xyz in sites], lattice=Lattice(4.08, 4.08, 4.08, 90, 90, 90)))
    pf.read_data_lists("X", 25.0, 0.0, list(map(float, r)), [0.0] * len(r))
    for i in range(1, 5):
        for setter in (pf.u11, pf.u22, pf.u33):
            pf.setvar(setter(i), 0.008)
    pf.setvar(pf.qdamp, q_damp)
    pf.setvar(pf.spdiameter, diameter)
    pf.calc()
    return np.array(pf.getpdf_fit())


@pytest.mark.parametrize("q_damp, expected", [
    (0.01, {30.0: "inside", 72.0: "inside", 150.0: "above", 0.0: "above"}),
    # at Q_damp 0.06 the instrument leaves 2 % by 47 Å: bulk is still told apart, a 15 nm sphere barely (not asked)
    (0.06, {30.0: "inside", 72.0: "inside", 0.0: "above"}),
])
def test_pdffit2_attenuated_crystals_inside_and_above_the_ladder(q_damp, expected):
    # spheres of 3 nm, 7.2 nm (the ladder's largest), 15 nm and bulk (0), fcc Au to 80 Å
    r = np.arange(1.0, 80.0, 0.02)
    status = {d: check_pdf_extent(r, pdffit2_au(d, q_damp, r), TOP, q_damp_inv_angstrom=q_damp).status
              for d in expected}
    assert status == expected


def test_without_q_damp_a_bulk_crystal_cannot_be_told_from_a_large_particle_but_a_small_one_can():
    r = np.arange(1.0, 60.0, 0.02)
    bulk = check_pdf_extent(r, pdffit2_au(0.0, 0.05, r), TOP)
    assert bulk.status == "unbounded" and bulk.q_damp_inv_angstrom == pytest.approx(0.05, abs=0.01)
    assert "lower bound" in bulk.reason
    assert check_pdf_extent(r, pdffit2_au(30.0, 0.03, r), TOP).status == "inside"
    # a 1 nm particle's G(r) to 30 Å with white noise of 5 % of its rms (the database's 0.5-10 %) has died into
    # the noise by 10 Å: a flat floor, not an undamped crystal (27 % of the held-out particles below 2 nm were read
    # so while the bulk fit started at 10 Å)
    r = r[r <= 30.0]
    small = pdffit2_au(10.0, 0.03, r)
    noisy = small + 0.05 * np.sqrt(np.mean(small**2)) * np.random.default_rng(1).standard_normal(len(r))
    assert check_pdf_extent(r, noisy, TOP).status == "inside"


@pytest.mark.parametrize("name, q_damp, status", [
    ("cdse_np_pdfgui/CdSe-3nm.gr", 0.0486, "inside"),
    ("cdse_np_pdfgui/CdSe-bulk.gr", 0.0486, "above"),
        ("ni_srfit/ni-q27r60-xray.gr", 0.0502, "above"),
])
def test_measured_particles_and_bulk_with_their_instruments_q_damp(name, q_damp, status):
    m = read_measurement(DATA / name)
    check = check_pdf_extent(m.x, m.values, TOP, q_damp_inv_angstrom=q_damp, sigma=m.uncertainties)
    assert check.status == status, check
    if status == "above":
        assert check.reason.startswith("size out of range:") and check.excess > 4


@pytest.mark.parametrize("name, status", [
    ("ni_srfit/ni-q27r60-xray.gr", "unbounded"),   # a bulk Q_damp of 0.048 fits its decay to 60 Å
    ("pt_np_jq_pdf/JQ_S1.gr", "inside"),           # dies out by ~45 Å
    ("pt_np_jq_pdf/JQ_S3.gr", "inside"),
    ("au144_pdf/Au144PET_100K-00000.gr", "inside"),
])
def test_measured_files_without_q_damp(name, status):
    m = read_measurement(DATA / name)
    assert check_pdf_extent(m.x, m.values, TOP, sigma=m.uncertainties).status == status


def test_a_short_curve_is_not_judged():
    r = np.arange(1.0, 15.0, 0.01)
    check = check_pdf_extent(r, np.sin(r), TOP, q_damp_inv_angstrom=0.03)
    assert check.status == "unknown" and "ends at 15 Å" in check.reason
