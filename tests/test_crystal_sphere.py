"""Spheres cut from any crystal (a cif): the builder, the reader's guards, the command line and the sweep.

References: the wurtzite cell of tests/data/cdse_np_pdfgui/CdSe-wurtzite.cif (P6_3mc, a = 4.2999 Å,
c = 7.0109 Å, 2 Cd + 2 Se; its volume per atom, 28.06 Å³, is computed here from the cell), ASE's fcc
builder for the same sphere cut from gold, and the closed form 12 for the nearest neighbours of fcc.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from ase.build import bulk

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import read_measurement
from swaxs_lib.structures import lattice_sphere
from swaxs_lib.structures.builders import crystal_sphere
from swaxs_lib.structures.readers import read_crystal_cell
from swaxs_lib.sweep import Candidate, candidates_for, fit_key

from tests.hostile_cif import cif_text
from .test_cli import last_json, swaxs
from .test_refine_crystal import DATA

CIF = DATA / "cdse_np_pdfgui" / "CdSe-wurtzite.cif"


def test_the_wurtzite_cell_is_read_with_every_site():
    cell = read_crystal_cell(CIF)
    assert sorted(cell.get_chemical_symbols()) == ["Cd", "Cd", "Se", "Se"]
    assert cell.cell.cellpar()[:3] == pytest.approx([4.2999, 4.2999, 7.0109])
    assert cell.get_volume() / len(cell) == pytest.approx(28.06, abs=0.01)


@pytest.mark.parametrize("diameter", [20.0, 30.0, 36.0])
def test_a_cdse_sphere_holds_the_sites_within_it_in_the_crystals_ratio(diameter):
    sphere = crystal_sphere(read_crystal_cell(CIF), diameter)
    pos = sphere.atoms.positions
    symbols = np.array(sphere.atoms.get_chemical_symbols())
    # every site within D/2 of the central site, none outside (the positions are centred on the centroid)
    centre = pos[np.argmin(np.linalg.norm(pos - pos.mean(axis=0), axis=1))]
    assert np.linalg.norm(pos - centre, axis=1).max() <= diameter / 2 + 1e-9
    # N within 8 % of the sphere's volume over the bulk volume per atom, Cd:Se near 1
    expected = math.pi / 6 * diameter**3 / 28.06
    assert abs(len(pos) / expected - 1) < 0.08
    assert abs((symbols == "Cd").sum() - (symbols == "Se").sum()) <= 0.08 * len(pos)  # a surface shell of one or the other: 9 of 147 at 20 Å
    # Cd-Se bonds of wurtzite: 2.63 Å (u = 0.373 c = 2.62 Å along c, the three others 2.63 Å)
    d = np.linalg.norm(pos[symbols == "Cd"][:, None] - pos[symbols == "Se"][None], axis=-1)
    assert d.min() == pytest.approx(2.62, abs=0.02)
    info = sphere.info
    assert info.shape == "sphere" and dict(info.parameters) == {"diameter_angstrom": diameter, "crystal": "CdSe"}
    assert info.volume_diameter_angstrom == pytest.approx(diameter, rel=0.08)


def test_an_fcc_cif_gives_the_element_sphere():
    gold = bulk("Au", "fcc", a=4.08, cubic=True)
    from_cell = crystal_sphere(gold, 20.0)
    built = lattice_sphere("Au", 20.0, lattice_constant_angstrom=4.08)
    assert from_cell.info.n_atoms == built.info.n_atoms
    np.testing.assert_allclose(np.sort(np.linalg.norm(from_cell.atoms.positions, axis=1)),
                               np.sort(np.linalg.norm(built.atoms.positions, axis=1)), atol=1e-9)


def test_crystal_cells_that_would_run_away_are_refused(tmp_path):
    dense = tmp_path / "dense.cif"
    dense.write_text(CIF.read_text().replace("_cell_length_a", "_cell_length_a 0.05\n#").replace(
        "_cell_length_b", "_cell_length_b 0.05\n#"))
    with pytest.raises(SwaxsInputError, match="cell length a = 0.05 Å; expected 1 to 100"):
        read_crystal_cell(dense)
    with pytest.raises(SwaxsInputError, match="could not be read|no unit cell"):
        read_crystal_cell(b"data_x\n_cell_length_a 4\n", "broken.cif")
    with pytest.raises(SwaxsInputError, match="diameter_angstrom"):
        crystal_sphere(read_crystal_cell(CIF), 2000.0)
    with pytest.raises(SwaxsInputError, match="at least two"):
        crystal_sphere(read_crystal_cell(CIF), 1.0)


@pytest.mark.parametrize("a, c, group, sites, message", [
    # a disordered alloy: ASE would keep one element of the mixed site
    (3.9, 3.9, "F m -3 m", "Pt1 Pt 0 0 0 0.5\nNi1 Ni 0 0 0 0.5", "partly occupied or mixed"),
    # a site listed twice, 0.04 Å apart after the symmetry is applied
    (3.9, 3.9, "F m -3 m", "Pt1 Pt 0 0 0 1\nPt2 Pt 0 0.5 0.51 1", "apart"),
    # a flat cell: a sphere would need 10^8 cells of it (refused by its c before its height)
    (1000.0, 2e-6, "P 1", "Pt1 Pt 0 0 0 1", "cell length"),
    # 400 listed sites x 192 operations: refused before ASE expands them (which took 15 s for 1,200)
    (60.0, 60.0, "F m -3 m", "\n".join(f"Pt{k} Pt {0.1 + 0.0019 * k:.4f} 0.2 0.3 1" for k in range(400)),
     "symmetry operations"),
])
def test_crystal_cells_that_are_not_one_ordered_crystal_are_refused(a, c, group, sites, message):
    text = cif_text(a=a, c=c, group=group, sites=sites, occupancy=True).encode()
    with pytest.raises(SwaxsInputError, match=message):
        read_crystal_cell(text, "hostile.cif")


def test_a_cif_sweep_takes_no_lattice():
    with pytest.raises(SwaxsInputError, match="lattice=bcc with --cif"):
        candidates_for("sphere", "CdSe", [{"diameter_angstrom": 12.0, "lattice": "bcc"}], CIF.read_text())


def test_the_command_line_cuts_a_sphere_from_a_cif(tmp_path):
    info = last_json(swaxs("cluster", "--shape", "sphere", "--cif", CIF, "--diameter-angstrom", "24",
                           "--out", tmp_path / "s.xyz"))
    assert info["formula"].startswith("Cd") and info["parameters"] == {"diameter_angstrom": 24.0, "crystal": "CdSe"}
    bad = swaxs("cluster", "--shape", "sphere", "--cif", CIF, "--element", "Au", "--diameter-angstrom", "24",
                "--out", tmp_path / "s.xyz")
    assert bad.returncode == 2 and "--cif" in bad.stderr and "--element" in bad.stderr
    bad = swaxs("cluster", "--shape", "icosahedron", "--shells", "3", "--cif", CIF, "--out", tmp_path / "s.xyz")
    assert bad.returncode == 2 and "--shape sphere" in bad.stderr


def test_a_sweep_cuts_its_candidates_from_the_crystal_and_keys_them_by_its_content():
    text = CIF.read_text()
    candidates, skipped = candidates_for("sphere", "CdSe", [{"diameter_angstrom": 12.0}, {"diameter_angstrom": 14.0}],
                                         text)
    assert not skipped and [c.params for c in candidates] == [(("diameter_angstrom", 12.0),),
                                                               (("diameter_angstrom", 14.0),)]
    assert candidates[0].build().info.formula.startswith("Cd")
    other = Candidate("sphere", "CdSe", candidates[0].params, text.replace("4.2999", "4.3100"))
    assert fit_key("data", candidates[0], _options()) != fit_key("data", other, _options())
    with pytest.raises(SwaxsInputError, match="--cif"):
        candidates_for("decahedron", "CdSe", [{"p": 2, "q": 1, "r": 1}], text)


@pytest.mark.slow
def test_a_cif_sphere_sweep_runs_end_to_end(tmp_path):
    out = tmp_path / "ranking.csv"
    result = last_json(swaxs(
        "sweep", DATA / "cdse_np_pdfgui" / "CdSe-3nm.gr", "--shape", "sphere", "--cif", CIF,
        "--grid", "diameter_angstrom=12|14", "--x-max", "8", "--qdamp", "0.0486", "--workers", "1",
        "--db", tmp_path / "s.duckdb", "--out", out))
    assert result["element"] == "CdSe" and result["candidates"] == 2
    header = out.read_text().splitlines()[0].split(",")
    assert header.count("diameter_angstrom") == 1 and "volume_diameter_angstrom" in header
    assert read_measurement(DATA / "cdse_np_pdfgui" / "CdSe-3nm.gr").kind == "gr"


def _options():
    from swaxs_lib.sweep import RefineOptions

    return RefineOptions()
