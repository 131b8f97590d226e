"""The one-click analysis (swaxs_lib.analyse.pipeline.analyse) on measured PDFs: issue 17 item 6.

"On the Au144 PDFs the analysis puts an icosahedral-core candidate in the best group; on the Pt JQ and
CdSe 3 nm PDFs its size agrees with the attenuated-crystal diameter within 10 %."

References: the files and what is known of them are in tests/data/*/SOURCE.md.  Au144(SR)60 has an
icosahedral (Mackay-like) core from the literature (Lopez-Acevedo et al., J. Phys. Chem. C 113, 5035
(2009)), not from these files.  The attenuated crystal (a bulk crystal times a sphere envelope, the
PDFgui nanoparticle model, swaxs_lib.refine.crystal) is a different model from the discrete clusters, refined
by the analysis over the same range; for CdSe 3 nm PDFgui's own tutorial fit (spdiameter 30.30(3) Å,
SOURCE.md) is the independent number.

Every test here runs a whole analysis and is marked slow; the settings are narrowed from the defaults
(fewer families or candidates per family, no EMT relaxation, no mixture) so that each stays near a minute
on two cores.  Each test says why the narrowed run still makes the check, and what the default run gave
(measured 2026-12-17 on the 2 shared cores of the development machine).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from swaxs_lib.analyse.pipeline import analyse
from swaxs_lib.io import read_measurement
from swaxs_lib.store import Store

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.slow


def _analyse(tmp_path, path, **kwargs):
    return analyse(Store(tmp_path / "analyse.duckdb"), read_measurement(path), relax_top=0, mixture=False, workers=1,
                   **kwargs)


def test_au144_pet_puts_an_icosahedron_in_the_best_group(tmp_path):
    """Au144(PET)60 at 100 K (Q 0.8-26 1/Å).

    Default settings (every family, 60 per family, prior, relaxation, mixture; 209 candidates, 668 s at load
    ~8): best the 55-atom Mackay icosahedron (R_w 0.304), alone in the best group; next the 147-atom
    icosahedron (0.347, p = 0.046), the EMT-relaxed icosahedra, then an hcp sphere (0.379) and decahedra
    (>= 0.383); the fcc attenuated crystal 0.492.  The 55-atom icosahedron lies below the data's window
    (extent 14.0-32.3 Å): the ML prior (extent 8.9-13.6 Å) adds it.

    Narrowed here: the prior kept (it brings the best candidate), the icosahedra, decahedra, truncated
    octahedra and fcc spheres (the motifs an Au core could take), 4 per family spread over the window,
    the best of each refined.  With 4 per family (33 candidates, all families) the ranking's head and best
    group are the default run's.
    """
    result = _analyse(tmp_path, DATA / "au144_pdf" / "Au144PET_100K-00000.gr", element="Au",
                      families=("icosahedron", "decahedron", "truncated-octahedron", "sphere-fcc"),
                      max_per_family=4, keep_per_family=1)
    group = result.best_group
    assert any(r.family == "icosahedron" for r in group), [(r.label, r.rw) for r in result.rows]
    assert result.best.family == "icosahedron"


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="measured: on Au144(pMBA) the best group holds only 85-116-atom decahedra; "
                   "the best icosahedron (309 atoms) is at R_w 0.236 against 0.150 (see the docstring)")
def test_au144_pmba_puts_an_icosahedron_in_the_best_group(tmp_path):
    """Au144(pMBA) (Q 1.33-28 1/Å, r to 20 Å): the issue's claim does NOT hold; kept as a strict xfail.

    Default settings (153 candidates, 227 s at load ~7): the best group is four decahedra, (5,1,0) 105 atoms
    R_w 0.150, (3,1,1) 100 atoms 0.158, (4,3,0) 116 atoms 0.161 (its EMT-relaxed version 0.161), (4,2,0) 85
    atoms 0.164 (volume diameters 14.1-15.6 Å); the relaxed (3,1,1) and (5,1,0) follow (0.180, 0.181, p < 0.03),
    then more decahedra and an hcp sphere (0.211).  The icosahedra of the window (extent 10.6-26.4 Å) are
    the complete Mackay ones, 55, 147 and 309 atoms: refined alone they reach R_w 0.355, 0.286 and 0.236,
    far outside the best group.  Why, as far as these data tell: the size the data prefer (~100-115 atoms,
    D_v ~15 Å) is that of the Au144 core (114 atoms, a hollow 54-atom Mackay icosahedron inside a 60-atom
    anti-Mackay shell), which no complete Mackay icosahedron has (55 or 147); decahedra come in every size,
    and at that size a decahedron reproduces the first few shells better than an icosahedron of the wrong
    size.  Checked since (2026-12-05, refine_cluster, every parameter free): the Au114 core itself (hollow
    12 + 42 Mackay shells under 60 anti-Mackay atoms in the hcp sites of the 20 faces, built from ASE's
    icosahedron) reaches only R_w 0.328 on pMBA (Au115 with its centre 0.330, the 266-atom analogue 0.274),
    against 0.150 for the decahedron (5,2,0); on PET it gives 0.302, level with the 55-atom icosahedron
    (0.304).  So the pMBA data prefer decahedral order, not merely a size no Mackay icosahedron has.  That
    is published behaviour of this cluster: Jensen et al., Nat. Commun. 7, 11859 (2016) find Au144(SR)60
    samples with the icosahedral core, samples with a truncated-decahedral core and samples with both
    (polymorphism); SOURCE.md does not say which this sample is.  The claim is kept here as written and
    fails; read the failure as "this sample may be a decahedral polymorph", not as a defect to tune away.

    Narrowed here to icosahedra and decahedra (the two motifs in question), 4 per family, the best of each
    refined: the decahedron (5,2,0) R_w 0.150 against the 309-atom icosahedron 0.236, as in the default run.
    """
    result = _analyse(tmp_path, DATA / "au144_pdf" / "Au144pMBA.gr", element="Au",
                      families=("icosahedron", "decahedron"), max_per_family=4, keep_per_family=1, use_prior=False)
    assert any(r.family == "icosahedron" for r in result.best_group), [(r.label, r.rw) for r in result.rows]


#: Pt JQ_S1 carries no calibrant: Q damping held at 0.04 1/Å, typical of the beamline, for clusters and crystal
#: alike (as tests/test_refine_crystal.py does for the same file); left free it trades against the size.
PT_OPTIONS = {"fix": ["qdamp"], "start": {"qdamp": 0.04}}
PT_FAMILIES = ("sphere-fcc", "truncated-octahedron", "icosahedron", "decahedron", "attenuated-crystal")


@pytest.fixture(scope="module")
def pt_result(tmp_path_factory):
    return _analyse(tmp_path_factory.mktemp("pt"), DATA / "pt_np_jq_pdf" / "JQ_S1.gr", element="Pt",
                    families=PT_FAMILIES, max_per_family=4, keep_per_family=1, use_prior=False, options=PT_OPTIONS)


def _pt_crystal_diameter(result) -> float:
    crystal = next(r for r in result.rows if r.family == "attenuated-crystal")
    return crystal.value("spdiameter")


def test_pt_jq_s1_best_fcc_sphere_agrees_with_the_attenuated_crystal(pt_result):
    """Pt JQ_S1 (Q 1-22 1/Å, r 0-50 Å; window: extent 32.5-64.5 Å).

    Measured here (Q damping 0.04 held): attenuated crystal spdiameter 33.65 Å (R_w 0.123; issue 13's
    sphere sweep, tests/test_refine_crystal.py, found 33.7 Å); the best fcc sphere 33.0 Å (volume-equivalent
    diameter, R_w 0.118): 2 % apart; the best truncated octahedron 31.4 Å (0.121).  Narrowed to the fcc
    families, icosahedra and decahedra, 4 per family: Pt clusters of this size hold 1,000-10,000 atoms.

    What the data do not decide: the best row is a 6,913-atom decahedron (8,8,4), D_v 58.5 Å, R_w 0.109, and
    the best group holds it, the sphere, the truncated octahedron and the crystal (sizes 31-58 Å, p >= 0.09):
    the issue's claim for the best row fails (next test).  With Q damping free (the analysis's default) the
    crystal goes to 50.2 Å (Q damping 0.072) while the sphere stays at 33.0 Å and the decahedron at 58.5 Å.
    """
    d = _pt_crystal_diameter(pt_result)
    spheres = [r for r in pt_result.rows if r.family == "sphere-fcc"]
    assert spheres[0].volume_diameter_angstrom == pytest.approx(d, rel=0.10), (spheres[0].label, d)
    group = [r.volume_diameter_angstrom for r in pt_result.best_group if r.family != "attenuated-crystal"]
    assert min(group) <= d <= max(group)


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="measured: the best Pt row is a 6,913-atom decahedron "
                   "(D_v 58.5 Å) against the crystal's 33.65 Å; the data cannot tell it from the 33 Å sphere")
def test_pt_jq_s1_best_cluster_agrees_with_the_attenuated_crystal(pt_result):
    best = next(r for r in pt_result.rows if r.family != "attenuated-crystal")
    assert best.volume_diameter_angstrom == pytest.approx(_pt_crystal_diameter(pt_result), rel=0.10), best.label


#: The PDFgui tutorial's settings for CdSe 3 nm (SOURCE.md): Q damping 0.0486 1/Å from its calibrant, fit range
#: 1.7-44.8 Å.  Left free, Q damping takes up the size damping and the crystal's diameter runs to its bound.
CDSE_OPTIONS = {"fix": ["qdamp"], "start": {"qdamp": 0.0486}, "x_min": 1.7, "x_max": 44.8}


@pytest.fixture(scope="module")
def cdse_result(tmp_path_factory):
    if not os.environ.get("SWAXS_SLOW_CHECKS"):
        pytest.skip("CdSe 3 nm analysis: ~2 min of CPU (8 spheres of up to 2,000 atoms, screened and refined over 1.7-44.8 Å, "
                    "and the crystal); run "
                    "with SWAXS_SLOW_CHECKS=1 (CI's 15-minute budget leaves it out; numbers in the docstrings)")
    cif = (DATA / "cdse_np_pdfgui" / "CdSe-wurtzite.cif").read_text()
    return _analyse(tmp_path_factory.mktemp("cdse"), DATA / "cdse_np_pdfgui" / "CdSe-3nm.gr", cif_text=cif,
                    use_prior=False, options=CDSE_OPTIONS, window=(20.0, 40.0), max_per_family=8)


def _cdse_rows(result):
    crystal = next(r for r in result.rows if r.family == "attenuated-crystal")
    sphere = next(r for r in result.rows if r.family == "sphere-crystal")
    return crystal, sphere, (sphere.label, sphere.volume_diameter_angstrom, sphere.rw, crystal.value("spdiameter"),
                             crystal.rw)


def test_cdse_3nm_attenuated_crystal_agrees_with_pdfgui(cdse_result):
    """CdSe 3 nm (PDFgui tutorial, Q 0.3-14 1/Å) with the wurtzite cif: 8 spheres cut from the crystal across
    a 20-40 Å window (the data's own window, volume diameter 22-55 Å with 16 spheres, took ~3 min of CPU and
    gave the same picture) and the attenuated crystal.  Measured with these settings (125 s): best sphere
    22.9 Å (R_w 0.265), then 31.4 Å (0.271), the crystal 31.0 Å (0.272), 28.6 Å (0.273) ... 20 Å (0.297): every
    sphere and the crystal in the best group.

    Default settings (Q damping free, whole r range): the attenuated crystal runs to its spdiameter bound,
    2000 Å, with Q damping 0.106 1/Å (R_w 0.274), while the best sphere, 24.2 Å, takes Q damping ~0 (R_w 0.275):
    every sphere from 22 to 33 Å and the crystal are in the best group.  The data cannot separate size
    damping from Q damping; the tutorial's calibrant value fixes it, so it is held here.

    Measured here: the attenuated crystal 31.0 Å (PDFgui's tutorial fit 30.30(3) Å, SOURCE.md: 2.4 %); the
    best sphere 22.9 Å: 26 % below it, so the issue's claim fails on CdSe (next test).  Issue 13 found the
    same (tests/test_refine_crystal.py: the spheres' R_w is flat from 24 to 30 Å).
    """
    crystal, _, numbers = _cdse_rows(cdse_result)
    assert crystal.value("spdiameter") == pytest.approx(30.30, rel=0.10), numbers


@pytest.mark.xfail(strict=True, raises=AssertionError, reason="measured: the best CdSe sphere is 22.9 Å against "
                   "the attenuated crystal's 31.0 Å (26 %); every sphere of 20-37 Å is in the best group")
def test_cdse_3nm_best_crystal_sphere_agrees_with_the_attenuated_crystal(cdse_result):
    crystal, sphere, numbers = _cdse_rows(cdse_result)
    assert sphere.volume_diameter_angstrom == pytest.approx(crystal.value("spdiameter"), rel=0.10), numbers


def test_cdse_3nm_attenuated_crystal_lies_in_the_best_groups_size_span(cdse_result):
    """What the data decide on CdSe: a size span (the best group's), which holds PDFgui's 30.3 Å crystal."""
    crystal, _, numbers = _cdse_rows(cdse_result)
    sizes = [r.volume_diameter_angstrom for r in cdse_result.best_group if r.family != "attenuated-crystal"]
    assert crystal.best_group and min(sizes) <= crystal.value("spdiameter") <= max(sizes), numbers
