"""Every runaway input of issue 19 refused before work starts (docs/limits.md).

Each test builds the hostile input in a temporary file, small enough to write in
milliseconds, and checks that the bound's own message refuses it: the precheck
(count line, Properties=, the cif's text, the byte count of lines) and not a
later failure of the parser.  The original inputs and what they cost are in the
module docstrings of :mod:`swaxs_lib.structures.bounds`,
:mod:`swaxs_lib.io.text` and :mod:`swaxs_lib.scattering.histogram`; the times
of the new refusals are measured by ``benchmarks/bounds.py``.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from ase import Atoms
from scipy.spatial.distance import pdist

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.readers import read_measurement_bytes
from swaxs_lib.io.text import MAX_HEADER_CHARS, MAX_HEADER_LINES, MAX_TEXT_LINES
from swaxs_lib.models.crystal import read_crystal, read_crystal_text
from swaxs_lib.scattering import histogram
from swaxs_lib.structures import bounds
from swaxs_lib.structures.builders import MAX_ATOMS
from swaxs_lib.structures.readers import read_crystal_cell, read_structure
from tests.hostile_cif import cif_text
from tests.inprocess import run_main

_cif = cif_text


# --- structure files ------------------------------------------------------------------------


def test_an_xyz_count_line_over_the_atom_cap_is_refused_before_parsing(tmp_path):
    # the count line says 2.1 M atoms (the 57 MB file of the issue); only two atom lines follow,
    # so a parse would fail differently: the message proves the count line was read first
    path = tmp_path / "big.xyz"
    path.write_text(f"{MAX_ATOMS + 100_000}\n\nAu 0 0 0\nAu 0 0 2.88\n")
    with pytest.raises(SwaxsInputError, match=rf"line 1: a frame of {MAX_ATOMS + 100_000} atoms; expected at most"):
        read_structure(path)
    # a later frame is checked too (ASE reads every frame's count line; the last frame is kept)
    path.write_text(f"2\n\nAu 0 0 0\nAu 0 0 2.88\n{MAX_ATOMS + 1}\n\nAu 0 0 0\n")
    with pytest.raises(SwaxsInputError, match="line 5: a frame of"):
        read_structure(path)


def test_an_extxyz_property_column_of_1e8_is_refused_before_ase_allocates_it(tmp_path):
    path = tmp_path / "wide.extxyz"
    path.write_text("1\nProperties=species:S:1:pos:R:3:x:R:100000000\nAu 0 0 0 1\n")
    with pytest.raises(SwaxsInputError, match="Properties= declares 100000004 columns per atom; expected at most 100"):
        read_structure(path)
    path.write_text("2\nProperties=species:S:1:pos:R:3:forces:R:3\nAu 0 0 0 0 0 0\nAu 0 0 2.88 0 0 0\n")
    assert read_structure(path).info.n_atoms == 2


def test_pdb_atom_records_are_counted_before_parsing(tmp_path, monkeypatch):
    monkeypatch.setattr(bounds, "MAX_ATOMS", 3)  # writing 2 M records would take seconds
    line = "ATOM      1 AU   AU  A   1    {:8.3f}   0.000   0.000  1.00  0.00          AU\n"
    path = tmp_path / "four.pdb"
    path.write_text("".join(line.format(2.9 * k) for k in range(4)))
    with pytest.raises(SwaxsInputError, match="4 ATOM/HETATM records; expected at most 3"):
        read_structure(path)


@pytest.mark.parametrize("z, message", [
    (3e4, r"span 6e\+04 Å along z; expected at most 2000"),  # the 3.4 GB pair
    (1e300, r"span 2e\+300 Å along z"),  # issue item 5's ±1e300 coordinates, once an internal error
])
def test_atoms_spread_beyond_the_extent_bound_are_refused(tmp_path, z, message):
    path = tmp_path / "far.xyz"
    path.write_text(f"2\n\nAu 0 0 {-z}\nAu 0 0 {z}\n")
    with pytest.raises(SwaxsInputError, match=message):
        read_structure(path)


def test_overlapping_atoms_are_refused_and_close_ones_warned(tmp_path):
    path = tmp_path / "pair.xyz"
    path.write_text("3\n\nAu 0 0 0\nAu 0 0 2.88\nAu 0 0 0\n")  # atom 3 repeats atom 1
    with pytest.raises(SwaxsInputError, match="atoms 1 and 3 are 0 Å apart; expected at least 0.5"):
        read_structure(path)
    path.write_text("2\n\nAu 0 0 0\nAu 0 0 1.5\n")  # 0.55 of Au's covalent bond (2 x 1.36 Å)
    with pytest.warns(UserWarning, match="1.5 Å apart, 0.55 of their covalent bond"):
        read_structure(path)
    path.write_text("2\n\nAu 0 0 0\nAu 0 0 2.88\n")  # bulk gold's nearest neighbours
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_structure(path)


# --- crystal cifs, both readers (ASE's for spheres, diffpy's for pdffit2) --------------------


@pytest.mark.parametrize("text, message", [
    (_cif(a=0.05), "cell length a = 0.05 Å; expected 1 to 100 Å"),  # the 322-byte cif that refined forever
    (_cif(a=408), "cell length a = 408 Å"),  # gold's a in pm
    (_cif(alpha=100, gamma=170, group="P 1"), "cell angles 100, 100, 170 degrees close no cell"),
    (_cif(alpha=0, group="P 1"), "cell angle alpha = 0 degrees"),
    # 520 general sites x 192 operations: diffpy expanded it to 99,744 atoms in 12.6 s
    (_cif(a=60, sites="\n".join(f"Au{k} Au {0.01 + 0.0004 * k:.4f} 0.11 0.23" for k in range(520))),
     "520 sites x 192 symmetry operations; expected at most 20000"),
])
def test_crystal_cifs_out_of_bounds_are_refused_by_both_readers(tmp_path, text, message):
    path = tmp_path / "hostile.cif"
    path.write_text(text)
    with pytest.raises(SwaxsInputError, match=message):
        read_crystal(path)
    with pytest.raises(SwaxsInputError, match=message):
        read_crystal_cell(path)
    with pytest.raises(SwaxsInputError, match=message.split(";")[0]):
        read_crystal_text(text, "upload.cif")


def test_a_gold_cif_passes_both_readers(tmp_path):
    path = tmp_path / "gold.cif"
    path.write_text(_cif())
    assert len(read_crystal(path)) == len(read_crystal_cell(path)) == 4  # fcc's conventional cell


# --- data files -----------------------------------------------------------------------------


def test_a_data_file_of_too_many_lines_is_refused_from_its_byte_count():
    data = b"#\n" * MAX_TEXT_LINES + b"0.1 1\n0.2 2\n"  # the 24 M comment lines, scaled to the bound
    with pytest.raises(SwaxsInputError, match=f"{MAX_TEXT_LINES + 3} lines; expected at most {MAX_TEXT_LINES}"):
        read_measurement_bytes(data, "comments.dat")


def test_headers_and_comments_are_bounded_in_lines_and_characters():
    many = b"# note\n" * (MAX_HEADER_LINES + 1) + b"0.1 1\n0.2 2\n"
    with pytest.raises(SwaxsInputError, match=f"line {MAX_HEADER_LINES + 1}: over {MAX_HEADER_LINES} header"):
        read_measurement_bytes(many, "many.dat")
    between = b"0.1 1\n" + b"#\n" * (MAX_HEADER_LINES + 1) + b"0.2 2\n"  # comments among the rows count too
    with pytest.raises(SwaxsInputError, match="header and comment lines"):
        read_measurement_bytes(between, "between.dat")
    long = b"# " + b"x" * MAX_HEADER_CHARS + b"\n0.1 1\n0.2 2\n"
    with pytest.raises(SwaxsInputError, match=f"line 1: header and comment lines of over {MAX_HEADER_CHARS}"):
        read_measurement_bytes(long, "long.dat")
    fine = b"# q_nm^-1 I\n" + b"# note\n" * 100 + b"1 5\n2 4\n"
    assert read_measurement_bytes(fine, "fine.dat").n_points == 2


# --- the Debye kernels' memory ---------------------------------------------------------------


def test_a_histogram_beyond_the_memory_bound_is_refused():
    atoms = Atoms("Au2", positions=[(0, 0, -3e4), (0, 0, 3e4)])  # 7.7 M bins at Q_max 20 1/Å
    with pytest.raises(SwaxsInputError, match="needs more than 256 MiB"):
        histogram.pair_histogram(atoms, histogram.fast_bin_width(20.0))


def test_fewer_chunks_under_the_memory_bound_give_the_same_counts(monkeypatch):
    # reference: scipy's pair distances binned by numpy; the bound leaves room for one chunk only
    rng = np.random.default_rng(3)
    atoms = Atoms("Au40", positions=rng.uniform(-8, 8, (40, 3)))
    dr = 0.05
    n_bins = int(np.ceil(2 * np.linalg.norm(atoms.positions - atoms.positions.mean(0), axis=1).max() / dr)) + 2
    monkeypatch.setattr(histogram, "MAX_HISTOGRAM_BYTES", n_bins * 6 * 8 + 1)
    counts = histogram.pair_histogram(atoms, dr).bin_counts[0]
    reference, _ = np.histogram(pdist(atoms.positions), bins=np.arange(n_bins + 1) * dr)
    np.testing.assert_array_equal(counts, reference)  # integer counts: exact


# --- the command line: exit 2, one line ------------------------------------------------------


def test_the_command_line_refuses_a_far_flung_structure_with_exit_2(tmp_path):
    path = tmp_path / "far.xyz"
    path.write_text("2\n\nAu 0 0 -30000\nAu 0 0 30000\n")
    ran = run_main("debye", "--structure", path, "--q-max", 20, "--out", tmp_path / "iq.csv")
    assert ran.returncode == 2
    assert "span 6e+04 Å along z" in ran.stderr and len(ran.stderr.strip().splitlines()) == 1


def test_a_crystal_refinement_of_too_many_pairs_per_evaluation_is_refused():
    # 7x7x7 cells of Ni (1,372 sites) to 30 Å: 1.65e7 pair distances per pdffit2 evaluation (~14 s each);
    # the count is N^2/V (4 pi/3) r^3, which for Ni's own 4-site cell gives pdffit2's measured cost (benchmarks)
    from diffpy.structure.expansion import supercell

    from swaxs_lib.io.readers import read_measurement
    from swaxs_lib.models.crystal import bulk_structure
    from swaxs_lib.refine.crystal import refine_crystal

    measurement = read_measurement("tests/data/cdse_np_pdfgui/CdSe-3nm.gr")
    big = supercell(bulk_structure("Ni", a_angstrom=3.52), (7, 7, 7))
    with pytest.raises(SwaxsInputError, match=r"1372 sites to r = 30 Å make 1.65e\+07 pair distances"):
        refine_crystal(measurement, big, x_max=30.0, q_max_inv_angstrom=25.0)


def test_a_crystal_cif_is_bounded_in_bytes_and_listed_sites_before_its_text_is_parsed(tmp_path):
    from swaxs_lib.structures.readers import MAX_CELL_ATOMS, MAX_CIF_BYTES

    path = tmp_path / "big.cif"
    path.write_text(_cif() + "#" * MAX_CIF_BYTES + "\n")  # ASE's parser takes ~2 s a MB: refused unread
    for read in (read_crystal, read_crystal_cell):
        with pytest.raises(SwaxsInputError, match=f"expected a cif of at most {MAX_CIF_BYTES} bytes"):
            read(path)
    sites = "\n".join(f"Au{k} Au {k / 3000:.5f} 0.5 0.5" for k in range(MAX_CELL_ATOMS + 1))
    path.write_text(_cif(a=90, group="P 1", sites=sites))  # in P 1 the listed sites are the cell's
    for read in (read_crystal, read_crystal_cell):
        with pytest.raises(SwaxsInputError, match=f"{MAX_CELL_ATOMS + 1} sites listed; expected at most"):
            read(path)
    # a cluster written as a cif (a 150 Å box, its atoms 2.88 Å apart) is bounded by the cluster's atom
    # cap, not the crystal cell's sites or lengths; in P 1 ASE's quadratic symmetry pass is skipped (53 s)
    cluster = tmp_path / "cluster.cif"
    cluster.write_text(_cif(a=150, group="P 1", sites="\n".join(
        f"Au{k} Au {(k % 30) * 0.0192:.4f} {(k // 30 % 30) * 0.0192:.4f} {k // 900 * 0.0192:.4f}"
        for k in range(MAX_CELL_ATOMS + 700))))
    with pytest.warns(UserWarning, match="periodic cell dropped"):
        assert read_structure(cluster).info.n_atoms == MAX_CELL_ATOMS + 700


def test_a_crystal_job_of_too_many_pairs_is_refused_before_it_is_queued(tmp_path):
    # the page's check at submit: a 6x6x6 Ni supercell (864 sites) as an uploaded cif, to 30 Å, 1.04e7 pairs
    from diffpy.structure.expansion import supercell

    from swaxs_lib.models.crystal import bulk_structure
    from swaxs_lib.refine.crystal import check_crystal_job
    from swaxs_lib.store import Store

    store = Store(tmp_path / "submit.duckdb")
    raw = open("tests/data/cdse_np_pdfgui/CdSe-3nm.gr", "rb").read()
    dataset = store.add_dataset("cdse", raw, "CdSe-3nm.gr", read_measurement_bytes(raw, "CdSe-3nm.gr")).id
    args = {"dataset_id": dataset, "element": "Ni", "lattice": "fcc", "nanoparticle": False,
            "options": {"x_max": 30.0, "q_max_inv_angstrom": 25.0}}
    assert 0 < check_crystal_job(store, args) < 1  # bulk Ni: 4.8e4 pairs, a few hundredths of a second each
    cif = supercell(bulk_structure("Ni", a_angstrom=3.52), (6, 6, 6)).writeStr("cif")
    with pytest.raises(SwaxsInputError, match=r"864 sites to r = 30 Å make 1.04e\+07 pair distances"):
        check_crystal_job(store, {**args, "cif_text": cif})
