"""Crystal and attenuated-crystal refinements against pdffit2 driven directly and published results.

References (none of them our refinement code):
- diffpy.pdffit2 driven directly in these tests (``PdfFit``: the data read whole,
  ``pdfrange`` for the fit range, its own constraints and ``refine()``): the
  same model, computed and refined by its own Levenberg-Marquardt with
  analytic derivatives;
- diffpy.structure's ``SymmetryConstraints`` for the free coordinates of P6_3mc;
- a closed form for the F(Q) content below Q_min of a crystal
  (:mod:`swaxs_lib.refine.qwindow`);
- the SOURCE.md files in tests/data/: Ni a = 3.527 Å, delta2 = 2.22 Å²,
  B_iso = 0.454 Å² (srfit examples, ±0.005 Å); CdSe 3 nm from the PDFgui
  tutorial's PDFfit log of 2007: a = 4.30222, c = 7.00611 Å, z(Se) = 0.373083,
  U(Cd) = 0.02269, U(Se) = 0.03120 Å², delta2 = 5.882 Å², D = 30.30 Å,
  Q_max 14, Q_damp 0.0486 fixed, r 1.7-44.8 Å, with PDFgui's u11 = u22 = u33,
  u12 = 0 displacements (the tutorial's .stru, read from the project file).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import pytest
from diffpy.structure import Atom, Lattice, Structure, loadStructure
from diffpy.structure.spacegroups import GetSpaceGroup
from diffpy.structure.symmetryutilities import SymmetryConstraints

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import read_measurement
from swaxs_lib.refine.crystal import (
    CrystalPDFGenerator,
    bulk_structure,
    read_crystal,
    refine_crystal,
)
from swaxs_lib.refine.qwindow import low_q_part
from swaxs_lib.refine.symmetry import free_coordinates
from swaxs_lib.scattering import pair_distribution
from swaxs_lib.structures import lattice_sphere

DATA = Path(__file__).resolve().parent / "data"
NI_XRAY = DATA / "ni_srfit" / "ni-q27r60-xray.gr"
CDSE = DATA / "cdse_np_pdfgui" / "CdSe-3nm.gr"
WURTZITE = DATA / "cdse_np_pdfgui" / "CdSe-wurtzite.cif"


def pdffit2_engine(measurement, structure, q_max, lo, hi):
    """pdffit2 as PDFgui drives it: the whole data set read, the fit range set by pdfrange."""
    import diffpy.pdffit2

    diffpy.pdffit2.redirect_stdout(open(os.devnull, "w"))
    pf = diffpy.pdffit2.PdfFit()
    pf.add_structure(structure)
    pf.read_data_lists("X", q_max, 0.0, list(measurement.x), list(measurement.values),
                       list(measurement.uncertainties))
    pf.pdfrange(1, lo, hi)
    return pf


def fcc_ni():
    sites = [(0, 0, 0), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5)]
    return Structure([Atom("Ni", xyz) for xyz in sites], lattice=Lattice(3.52, 3.52, 3.52, 90, 90, 90))


def pdffit2_ni_refinement(measurement, lo, hi, rcut):
    """pdffit2's own refinement of Ni: a, U, delta2, sratio (below rcut), scale, qdamp, qbroad."""
    pf = pdffit2_engine(measurement, fcc_ni(), 27.0, lo, hi)
    for k in (1, 2, 3):
        pf.constrain(pf.lat(k), "@1")
    for i in range(1, 5):
        for u in (pf.u11, pf.u22, pf.u33):
            pf.constrain(u(i), "@2")
    pf.setvar(pf.rcut, rcut)
    for idx, (var, value) in enumerate(((pf.delta2, 1.0), (pf.sratio, 0.8), (pf.dscale, 1.0), (pf.qdamp, 0.03),
                                        (pf.qbroad, 0.01)), 3):
        pf.constrain(var, f"@{idx}")
        pf.setpar(idx, value)
    pf.setpar(1, 3.52)
    pf.setpar(2, 0.005)
    pf.refine()
    names = ("a", "u_Ni", "delta2", "sratio", "scale", "qdamp", "qbroad")
    return {name: pf.getpar(k) for k, name in enumerate(names, 1)} | {"rw": pf.getrw()}


@pytest.mark.parametrize("x_max", [10.0, 20.0])
def test_ni_xray_with_sratio_and_qbroad_equals_pdffit2s_own_refinement(x_max):
    m = read_measurement(NI_XRAY)
    rcut = 2.6  # just past the first neighbours (2.49 Å): PDFgui's usual choice for low-r sharpening
    reference = pdffit2_ni_refinement(m, 1.5, x_max, rcut)
    fit = refine_crystal(m, bulk_structure("Ni"), x_min=1.5, x_max=x_max, q_max_inv_angstrom=27.0,
                         start={"rcut": rcut}, free=("qbroad",))
    # measured |ours - pdffit2| (short, long): a 2e-7, 4e-8 Å; U 1e-6, 1e-6 Å²; sratio 6e-4, 5e-4;
    # scale 3e-6, 3e-6; qdamp 3e-6, 6e-7; qbroad 4e-5, 7e-6 1/Å; R_w 3e-5, 2e-5 (pdffit2 stops on a
    # relative chi² change of 1e-8, slightly earlier along the delta2-sratio valley)
    assert fit.value("a") == pytest.approx(reference["a"], abs=1e-4)
    assert fit.value("u_Ni") == pytest.approx(reference["u_Ni"], abs=2e-5)
    assert fit.value("sratio") == pytest.approx(reference["sratio"], abs=0.002)
    assert fit.value("scale") == pytest.approx(reference["scale"], rel=1e-3)
    assert fit.value("qdamp") == pytest.approx(reference["qdamp"], abs=1e-4)
    assert fit.value("qbroad") == pytest.approx(reference["qbroad"], abs=2e-4)
    assert fit.rw == pytest.approx(reference["rw"], abs=0.002)
    assert fit.rw <= reference["rw"] + 1e-4
    assert 0.3 < reference["qbroad"] / 0.0367 < 3  # qbroad really refined (0.037 1/Å), not left at its start
    for name in ("a", "u_Ni", "sratio", "qdamp", "qbroad", "scale", "delta2"):
        assert fit.uncertainty(name) is not None and fit.uncertainty(name) > 0
    row = fit.parameter_row()
    assert {"a_angstrom", "a_angstrom_sigma", "u_Ni_angstrom2", "qbroad_inv_angstrom", "sratio_sigma"} <= set(row)


def test_generator_equals_pdffit2_for_hexagonal_u_free_z_and_the_whole_data_grid():
    # wurtzite with z(Se) moved off 3/8, isotropic U (U_12 = U/2 when gamma = 120) and PDFgui's diagonal U
    m = read_measurement(CDSE)
    structure = loadStructure(str(WURTZITE))
    lo, hi = 1.7, 44.8
    r = m.x[(m.x >= lo - 1e-9) & (m.x <= hi + 1e-9)]
    for adp in ("isotropic", "diagonal"):
        pf = pdffit2_engine(m, structure, 14.0, lo, hi)
        for i, u in ((1, 0.02), (2, 0.02), (3, 0.03), (4, 0.03)):
            for var in (pf.u11, pf.u22, pf.u33):
                pf.setvar(var(i), u)
            pf.setvar(pf.u12(i), u / 2 if adp == "isotropic" else 0.0)
        pf.setvar(pf.z(3), 0.37)
        pf.setvar(pf.z(4), 0.87)
        for var, value in ((pf.lat(1), 4.31), (pf.lat(2), 4.31), (pf.lat(3), 7.0), (pf.delta2, 4.0),
                           (pf.qdamp, 0.0486), (pf.spdiameter, 30.0), (pf.qbroad, 0.02), (pf.rcut, 3.0),
                           (pf.sratio, 0.9)):
            pf.setvar(var, value)
        pf.calc()
        reference = np.array(pf.getpdf_fit())
        generator = CrystalPDFGenerator("G", structure, 14.0, nanoparticle=True, r_grid=m.x, rcut=3.0,
                                        coordinates=free_coordinates(structure), adp=adp)
        for name, value in dict(a=4.31, c=7.0, u_Cd=0.02, u_Se=0.03, z_Se1=0.37, delta2=4.0, qdamp=0.0486,
                                spdiameter=30.0, qbroad=0.02, sratio=0.9).items():
            getattr(generator, name).setValue(value)
        assert np.max(np.abs(generator(r) - reference)) < 1e-9 * np.max(np.abs(reference))
    # the fit window alone (the old evaluation) is not the same model: its edges lose the peaks outside
    window = CrystalPDFGenerator("G", structure, 14.0, nanoparticle=True, r_grid=r, adp="diagonal")
    whole = CrystalPDFGenerator("G", structure, 14.0, nanoparticle=True, r_grid=m.x, adp="diagonal")
    for generator in (window, whole):
        generator.spdiameter.setValue(30.0)
    assert np.max(np.abs(window(r) - whole(r))[:20]) > 0.05


def test_q_min_round_trip_against_the_closed_form_for_a_crystal():
    # pdffit2's bulk Ni G(r) on a grid from 0.01 Å to well past the range; F(Q) ~ -Q below the first Bragg
    # peak, so the part below Q_min is -(2/pi)[sin(Q_min r)/r^2 - Q_min cos(Q_min r)/r]
    r = np.round(np.arange(0.01, 45.0, 0.01), 6)
    generator = CrystalPDFGenerator("G", bulk_structure("Ni"), 27.0, r_grid=r)
    generator.qdamp.setValue(0.03)
    g = generator(r)
    inside = (r >= 1.5) & (r <= 30.0)
    for q_min, tol in ((0.3, 0.003), (0.9, 0.009)):
        closed = -(2 / np.pi) * (np.sin(q_min * r) / r**2 - q_min * np.cos(q_min * r) / r)
        part = low_q_part(r, g, q_min)
        # measured: 0.0024 and 0.0076 Å^-2 (pdffit2's F(Q) is -Q + 0.018 1/Å there, not exactly -Q)
        assert np.max(np.abs(part - closed)[inside]) < tol
        assert np.max(np.abs(closed[inside])) > 3 * tol
    # through the generator: pdffit2 on the data's grid from 0.01 Å to 10 Å (the taper) plus six
    # termination ripples past the range, minus that part, cut to the range
    middle = r[(r >= 2.0) & (r <= 25.0)]
    windowed = CrystalPDFGenerator("G", bulk_structure("Ni"), 27.0, r_grid=r, q_min=0.9)
    windowed.qdamp.setValue(0.03)
    grid = np.round(0.01 + 0.01 * np.arange(int(np.ceil((25.0 + 10.0 + 12 * np.pi / 27.0 - 0.01) / 0.01)) + 1), 6)
    pf = pdffit2_engine(type("M", (), {"x": grid, "values": 0 * grid, "uncertainties": 1 + 0 * grid}), fcc_ni(),
                        27.0, grid[0], grid[-1])
    for var, value in ((pf.lat(1), 3.52), (pf.lat(2), 3.52), (pf.lat(3), 3.52), (pf.qdamp, 0.03)):
        pf.setvar(var, value)
    for i in range(1, 5):
        for var in (pf.u11, pf.u22, pf.u33):
            pf.setvar(var(i), 0.005)
    pf.calc()
    full = np.array(pf.getpdf_fit())
    expected = (full - low_q_part(grid, full, 0.9))[np.searchsorted(grid, middle[0] - 1e-9):][:len(middle)]
    assert np.max(np.abs(windowed(middle) - expected)) < 1e-9 * np.max(np.abs(expected))


def test_free_coordinates_follow_the_space_group():
    structure = read_crystal(WURTZITE)  # written out in P1
    free = free_coordinates(structure)
    assert free.space_group == "P63mc" and free.n_operations == 12
    assert free.names == ("z_Se1",) and free.values == pytest.approx([0.375])
    # diffpy.structure's constraints for P6_3mc: z of Cd and z of Se, z(Se2) = z(Se1) + 1/2; the
    # shift of the whole crystal along c (z of Cd) is held, as in PDFgui's tutorial
    constraints = SymmetryConstraints(GetSpaceGroup("P63mc"), structure.xyz)
    assert [name for name, _ in constraints.pospars] == ["z0", "z2"]
    assert constraints.positionFormulas()[3]["z"] == "z2 +0.5"
    moved = free.positions([0.37])
    assert moved[2, 2] == pytest.approx(0.37) and moved[3, 2] == pytest.approx(0.87)
    assert np.allclose(moved[:2], structure.xyz[:2]) and np.allclose(moved[:, :2], structure.xyz[:, :2])
    assert free_coordinates(bulk_structure("Ni")).names == ()
    # rutile (P4_2/mnm): O at (x, x, 0), one free x; built from the space group by diffpy
    rutile = Structure(lattice=Lattice(4.59, 4.59, 2.96, 90, 90, 90))
    sg = GetSpaceGroup("P42/mnm")
    from diffpy.structure.symmetryutilities import expandPosition

    for element, xyz in (("Ti", (0, 0, 0)), ("O", (0.305, 0.305, 0))):
        for position in expandPosition(sg, xyz)[0]:
            rutile.addNewAtom(element, position)
    rutile_free = free_coordinates(rutile)
    assert rutile_free.space_group == "P42/mnm" and len(rutile_free.names) == 1
    assert len(SymmetryConstraints(sg, rutile.xyz).pospars) == 1


def pdffit2_cdse_refinement(measurement, start):
    """pdffit2's own refinement of the tutorial's model: PDFgui's u11 = u22 = u33, u12 = 0; z(Se) free."""
    pf = pdffit2_engine(measurement, loadStructure(str(WURTZITE)), 14.0, 1.7, 44.8)
    pf.setvar(pf.qdamp, 0.0486)
    pf.constrain(pf.lat(1), "@1")
    pf.constrain(pf.lat(2), "@1")
    pf.constrain(pf.lat(3), "@2")
    for atoms, par in (((1, 2), 3), ((3, 4), 4)):
        for i in atoms:
            for var in (pf.u11, pf.u22, pf.u33):
                pf.constrain(var(i), f"@{par}")
            pf.setvar(pf.u12(i), 0.0)
    for par, var in ((5, pf.delta2), (6, pf.dscale), (7, pf.spdiameter)):
        pf.constrain(var, f"@{par}")
    pf.constrain(pf.z(3), "@8")
    pf.constrain(pf.z(4), "@8 + 0.5")
    for par, name in enumerate(("a", "c", "u_Cd", "u_Se", "delta2", "scale", "spdiameter", "z_Se1"), 1):
        pf.setpar(par, start[name])
    pf.refine()
    names = ("a", "c", "u_Cd", "u_Se", "delta2", "scale", "spdiameter", "z_Se1")
    return {name: pf.getpar(k) for k, name in enumerate(names, 1)} | {"rw": pf.getrw()}


PUBLISHED_CDSE = dict(a=4.30222, c=7.00611, u_Cd=0.02269, u_Se=0.03120, delta2=5.882, scale=0.8636,
                      spdiameter=30.30, z_Se1=0.373083)


@functools.lru_cache(maxsize=1)
def cdse_attenuated_crystal():
    """The tutorial's attenuated-crystal refinement of CdSe 3 nm (about a minute: shared by two tests)."""
    return refine_crystal(read_measurement(CDSE), read_crystal(WURTZITE), nanoparticle=True, x_min=1.7, x_max=44.8,
                          q_max_inv_angstrom=14.0, fix=("qdamp",), start={"qdamp": 0.0486}, adp="diagonal")


def test_cdse_attenuated_crystal_reaches_the_best_minimum_pdffit2_finds():
    m = read_measurement(CDSE)
    fit = cdse_attenuated_crystal()
    ours = {name: fit.value(name) for name in PUBLISHED_CDSE}
    # pdffit2 from the published values stops at R_w 0.2869 (U 0.0223 / 0.0331); restarted from our
    # minimum it stays there, at a lower R_w: its own best.  Measured, ours: R_w 0.28546, a 4.30361,
    # c 6.99879, z 0.37406, U(Cd) 0.02180, U(Se) 0.04207, delta2 5.946, D 30.38 Å.
    from_published = pdffit2_cdse_refinement(m, PUBLISHED_CDSE)
    from_ours = pdffit2_cdse_refinement(m, ours)
    best = min(from_published["rw"], from_ours["rw"])
    assert fit.rw <= best + 0.002
    assert from_ours["rw"] < from_published["rw"] - 0.001
    assert from_ours["u_Se"] == pytest.approx(ours["u_Se"], rel=0.01)  # pdffit2 keeps our minimum
    # not swapped, and the displacements near the tutorial's: U(Cd) within 20 %; U(Se) is 35 % above
    # 0.0312 at the best minimum (the data decide it poorly: R_w changes by 0.0014 between 0.033 and 0.042)
    assert fit.value("u_Cd") == pytest.approx(PUBLISHED_CDSE["u_Cd"], rel=0.2)
    assert fit.value("u_Se") > fit.value("u_Cd")
    assert fit.value("u_Se") == pytest.approx(PUBLISHED_CDSE["u_Se"], rel=0.4)
    assert fit.value("a") == pytest.approx(PUBLISHED_CDSE["a"], rel=1e-3)
    assert fit.value("c") == pytest.approx(PUBLISHED_CDSE["c"], rel=2e-3)
    assert fit.value("z_Se1") == pytest.approx(PUBLISHED_CDSE["z_Se1"], abs=0.002)
    assert fit.value("spdiameter") == pytest.approx(PUBLISHED_CDSE["spdiameter"], rel=0.05)
    assert fit.value("delta2") == pytest.approx(PUBLISHED_CDSE["delta2"], abs=0.3)
    settings = dict(fit.settings)
    assert settings["space_group"] == "P63mc" and settings["free_coordinates"] == ["z_Se1"]
    assert len(settings["starts"]) == 3 and fit.model == "nanoparticle"
    assert all(fit.uncertainty(name) for name in ("u_Cd", "u_Se", "z_Se1", "spdiameter"))


def test_ni_neutron_bulk_fcc_recovers_the_srfit_examples_values():
    m = read_measurement(DATA / "ni_srfit" / "ni-q27r100-neutron.gr")
    fit = refine_crystal(m, bulk_structure("Ni"), x_max=20.0, q_max_inv_angstrom=27.0, radiation="N")
    # measured: a = 3.5270, delta2 = 2.211, B = 0.4537, R_w = 0.066
    assert fit.value("a") == pytest.approx(3.527, abs=0.002)
    assert fit.value("delta2") == pytest.approx(2.22, abs=0.15)
    assert 8 * np.pi**2 * fit.value("u_Ni") == pytest.approx(0.454, abs=0.02)
    assert fit.rw < 0.10 and fit.converged
    assert fit.uncertainty("a") is not None and 0 < fit.uncertainty("a") < 1e-3


def test_large_fcc_cluster_debye_route_agrees_with_the_attenuated_crystal():
    cluster = lattice_sphere("Au", 40.0, "fcc")
    atoms = cluster.atoms
    a = 4.08
    diameter = (6 * len(atoms) * a**3 / 4 / np.pi) ** (1 / 3)  # the volume-equivalent sphere: 40.08 Å
    r = np.arange(1.0, 45.0, 0.01)
    u = 0.005
    # Q_min = 0.6 1/Å leaves out the small-angle peak of a 4 nm particle, which pdffit2's model has no part of
    g_cluster = pair_distribution(atoms, r, 0.6, 25.0, b_iso_angstrom2=8 * np.pi**2 * u).g
    generator = CrystalPDFGenerator("G", bulk_structure("Au", a_angstrom=a), 25.0, nanoparticle=True)
    generator.u_Au.setValue(u)
    generator.qdamp.setValue(0.0)
    generator.spdiameter.setValue(diameter)
    g_crystal = generator(r)
    valid = (r >= 1.5) & (r <= 40.0)
    # measured: 3.1 % of max|G| at worst, 2.4 % rms (facets of a cut sphere, and the Q_min ripple)
    assert np.max(np.abs(g_cluster - g_crystal)[valid]) < 0.05 * np.max(np.abs(g_crystal[valid]))
    rms = np.sqrt(np.mean((g_cluster - g_crystal)[valid] ** 2)) / np.sqrt(np.mean(g_crystal[valid] ** 2))
    assert rms < 0.035


def test_bounds_start_fix_and_free_reach_the_refinement():
    m = read_measurement(NI_XRAY)
    fit = refine_crystal(m, bulk_structure("Ni"), x_max=10.0, q_max_inv_angstrom=27.0,
                         start={"a": 3.50, "delta2": 1.0}, bounds={"u": (0.001, 0.004)}, fix=("delta2",))
    assert fit.value("delta2") == 1.0 and fit.uncertainty("delta2") is None
    assert fit.value("u_Ni") == pytest.approx(0.004)  # the upper bound binds (free: 0.0054)
    assert fit.uncertainty("u_Ni") is None and next(v for v in fit.values if v.name == "u_Ni").refined
    assert fit.value("a") == pytest.approx(3.524, abs=0.001)
    assert fit.value("qbroad") == 0.0 and "sratio" not in {v.name for v in fit.values}  # held, and off


def test_crystal_refinement_input_errors(tmp_path):
    m = read_measurement(NI_XRAY)
    with pytest.raises(SwaxsInputError, match="fix: unknown"):
        refine_crystal(m, bulk_structure("Ni"), fix=("z",))
    with pytest.raises(SwaxsInputError, match="start: unknown parameter.*z_Se1"):
        refine_crystal(m, bulk_structure("Ni"), start={"z_Se1": 0.3})
    with pytest.raises(SwaxsInputError, match="start a: got 7.*from 1 to 5"):
        refine_crystal(m, bulk_structure("Ni"), start={"a": 7.0}, bounds={"a": (1.0, 5.0)})
    with pytest.raises(SwaxsInputError, match="bounds u_Ni: got 0.1:0.01"):
        refine_crystal(m, bulk_structure("Ni"), bounds={"u_Ni": (0.1, 0.01)})
    with pytest.raises(SwaxsInputError, match="free: unknown"):
        refine_crystal(m, bulk_structure("Ni"), free=("temperature",))
    with pytest.raises(SwaxsInputError, match="adp"):
        refine_crystal(m, bulk_structure("Ni"), adp="anisotropic")
    with pytest.raises(SwaxsInputError, match="Q range"):
        refine_crystal(m, bulk_structure("Ni"), q_min_inv_angstrom=30.0, q_max_inv_angstrom=27.0)
    with pytest.raises(SwaxsInputError, match="radiation"):
        refine_crystal(m, bulk_structure("Ni"), radiation="E")
    bad = tmp_path / "bad.cif"
    bad.write_text("not a cif\n")
    with pytest.raises(SwaxsInputError, match="bad.cif"):
        read_crystal(bad)
    with pytest.raises(SwaxsInputError, match="lattice"):
        bulk_structure("Au", "hcp")


# --- the discrete-cluster route against the attenuated crystal on measured nanoparticle PDFs --------------

#: (file, sphere grid around the discrete route's minimum, Q damping fixed for both routes, fit range).
#: The Pt files carry no calibrant: Q damping 0.04 1/Å, typical of the beamline, for both routes (left free it
#: trades against the size and the data cannot decide: every sphere from 3 to 6 nm is then indistinguishable).
#: CdSe: the PDFgui tutorial's calibrant value and range.
MEASURED_NANOPARTICLES = {
    "JQ_S1": (DATA / "pt_np_jq_pdf" / "JQ_S1.gr", "diameter_angstrom=30..38:2", 0.04, (None, None)),
    "JQ_S2": (DATA / "pt_np_jq_pdf" / "JQ_S2.gr", "diameter_angstrom=18..26:2", 0.04, (None, None)),
    "JQ_S3": (DATA / "pt_np_jq_pdf" / "JQ_S3.gr", "diameter_angstrom=14..22:2", 0.04, (None, None)),
    "CdSe-3nm": (CDSE, "diameter_angstrom=24..34:2", 0.0486, (1.7, 44.8)),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MEASURED_NANOPARTICLES))
def test_discrete_spheres_and_the_attenuated_crystal_agree_on_measured_nanoparticles(name, tmp_path):
    """Issue 13's check: at the files' header settings (Q_min 1.0 and 0.3 1/Å from the headers, nothing tuned),
    a sphere sweep of discrete clusters (the particle's small-angle part taken out) and the attenuated crystal
    agree on R_w within 15 % and on the diameter: the cluster's volume-equivalent diameter (docs/sizes.md)
    against spdiameter.  Measured (best sphere / spdiameter; R_w / R_w): JQ_S1 34.4 / 33.7 Å, 0.118 / 0.123;
    JQ_S2 22.0 / 22.3 Å, 0.128 / 0.129; JQ_S3 18.0 / 18.1 Å, 0.184 / 0.184: within 2 %.  CdSe 3 nm: the
    discrete spheres' R_w is flat from 24 to 30 Å (0.269-0.272, best 27-28 Å on a 1 Å grid) where the
    attenuated crystal gives 30.4 Å (31.0 with truly isotropic U): 8-10 % apart, not 5 %, but inside the
    window of spheres the data cannot tell from the best (24-34 Å), which is what is asserted for it."""
    from swaxs_lib.store import Store
    from swaxs_lib.sweep import sweep

    path, grid, qdamp, (lo, hi) = MEASURED_NANOPARTICLES[name]
    m = read_measurement(path)
    options = {"x_min": lo, "x_max": hi, "fix": ["qdamp"], "start": {"qdamp": qdamp}}
    if name == "CdSe-3nm":
        result = sweep(Store(tmp_path / "s.duckdb"), m, "sphere", None, grid, options, workers=1,
                       crystal=WURTZITE.read_text())
        crystal = cdse_attenuated_crystal()
    else:
        result = sweep(Store(tmp_path / "s.duckdb"), m, "sphere", "Pt", grid, options, workers=1)
        crystal = refine_crystal(m, bulk_structure("Pt"), nanoparticle=True, x_min=lo, x_max=hi,
                                 fix=("qdamp",), start={"qdamp": qdamp})
    best = result.rows[0]
    assert dict(best.summary["settings"])["small_angle"] == "subtract"
    assert result.edge is None, f"{name}: the best sphere is on the grid's edge"
    diameter = crystal.value("spdiameter")
    assert best.rw == pytest.approx(crystal.rw, rel=0.15), (name, best.rw, crystal.rw)
    window = result.size_window()["window"]
    assert window[0] <= diameter <= window[1], (name, window, diameter)
    if name != "CdSe-3nm":
        assert best.volume_diameter_angstrom == pytest.approx(diameter, rel=0.05), (
            name, best.volume_diameter_angstrom, diameter)
