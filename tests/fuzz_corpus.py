"""The reader fuzz corpus: seeds, mutations and the soundness checks, shared by the tests and the script.

:mod:`tests.test_io_fuzz` runs these strategies briefly in CI; ``benchmarks/fuzz_readers.py``
runs them at 10,000 cases per reader, with huge lines and wrong encodings, and records
failures, time and memory.

Measured curves (:func:`check`): valid files (handwritten in every supported layout, the
head of a measured PDFgetX3 file, a canSAS XML file, an NXcanSAS HDF5 file) mutated by
deleting, inserting, duplicating and swapping lines, replacing numbers with junk, NaN or
inf, changing separators, truncating, re-encoding, and overwriting bytes.

Structures (:func:`check_structure`, :func:`check_crystal`): small valid xyz, extxyz, cif
and pdb files mutated the same way, plus tokens aimed at the structure readers' limits
(huge atom counts, property columns a hundred million wide, cell lengths of 0.05 Å,
coordinates of 1e300).

The property (no reference numbers involved): the only exception is SwaxsInputError, its
message starts with the file name; a result is sound (finite, within the documented caps).
"""

from __future__ import annotations

import io
from pathlib import Path

import h5py
import numpy as np
from hypothesis import strategies as st

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import KINDS, X_UNITS, read_measurement_bytes
from swaxs_lib.io.plausibility import check_x_unit

EXTENSIONS = [".txt", ".dat", ".csv", ".xy", ".xye", ".chi", ".gr", ".sq", ".fq", ".iq", ".h5", ".nxs", ".xml", ""]

_HEAD = (Path(__file__).parent / "data" / "pt_np_jq_pdf" / "JQ_S1.gr").read_text().splitlines()[:45]

SEEDS = [
    "0.1 10 1\n0.2 20 2\n0.3 30 3\n0.4 35 3\n",
    "Q,I,dI,dQ\n0.01,100,5,0.001\n0.02,50,4,0.002\n0.03,30,3,0.002\n",
    "0,5;1,2e3\n0,6;1,1e3\n0,7;1,0e3\n",
    "0,5 12,3\n0,75 11,1\n1,0 10,0\n",
    "# Wavelength: 1e-10 m\n#  2th_deg  I  sigma\n10 1 0.1\n20 2 0.1\n30 3 0.1\n",
    "# q_nm^-1 I\r\n1.0 5.0\r\n2.0 4.0\r\n3.0 3.0\r\n",
    "ceria.tif wavelength = 1.0\n2-Theta Angle (Degrees)\nIntensity\n       3\n 60.0 1\n 90.0 2\n 120.0 3\n",
    "lambda=0.1425 energy=87.0\n##### start data\n#L r(A) G(r) d_r d_Gr\n0.01 0.1 -0.001 0.01\n0.02 0.2 -0.002 0.01\n",
    "\n".join(_HEAD) + "\n",
    '<?xml version="1.0"?>\n<SASroot xmlns="urn:cansas1d:1.1"><SASentry><Title>t</Title><SASdata>\n'
    '<Idata><Q unit="1/nm">1.0</Q><I unit="1/cm">5</I><Idev unit="1/cm">0.5</Idev></Idata>\n'
    '<Idata><Q unit="1/nm">2.0</Q><I unit="1/cm">4</I><Idev unit="1/cm">0.4</Idev></Idata>\n'
    '<Idata><Q unit="1/nm">3.0</Q><I unit="1/cm">3</I><Idev unit="1/cm">0.3</Idev></Idata>\n'
    "</SASdata></SASentry></SASroot>\n",
]

JUNK = [
    "nan", "inf", "-inf", "-1", "abc", "1e999", "", "1,5", "0x10", "١٢", "1.2.3", "--", "+", ".", "e5",
    "1e", "\x00", "\ufeff", "Å", "2th_deg", "q_nm^-1", "#", ";", ",", "#### start data", "r(nm)",
    "1/A", "# Wavelength: 1e-10 m", "# x_unit: 1/nm", "<?xml", "   ", "\t", "\r", "0", "1e-320",
]


def check(data: bytes, filename: str) -> None:
    try:
        m = read_measurement_bytes(data, filename)
    except SwaxsInputError as exc:
        assert str(exc).startswith(f"{filename}:"), str(exc)
        return
    assert m.kind in KINDS and m.x_unit in X_UNITS
    assert m.x.ndim == 1 and m.x.size >= 2
    assert np.isfinite(m.x).all() and (m.x >= 0).all() and (np.diff(m.x) > 0).all()
    assert m.values.shape == m.x.shape and np.isfinite(m.values).all()
    if m.uncertainties is not None:
        assert m.uncertainties.shape == m.x.shape
        assert np.isfinite(m.uncertainties).all() and (m.uncertainties >= 0).all()
    # whatever was read, the unit check answers (and never raises)
    unit = check_x_unit(m)
    assert unit.verdict in ("plausible", "implausible", "undecided") and isinstance(unit.message, str)
    assert unit.suggested_x_unit is None or unit.suggested_x_unit in X_UNITS


def _line_operation(draw, lines: list[str], operation: str, i: int, junk, text_size: int) -> list[str] | None:
    """The line operations both mutators make (delete, insert, duplicate, swap, truncate) on line ``i``: the
    lines after it, or None for an operation of the caller's own.  A delete, duplicate or swap with too few
    lines does nothing; the draws are those each mutator made itself, in the same order."""
    if operation == "delete":
        if lines:
            del lines[i]
    elif operation == "insert":
        lines.insert(i, draw(st.sampled_from(junk) | st.text(max_size=text_size)))
    elif operation == "duplicate":
        if lines:
            lines.insert(i, lines[i])
    elif operation == "swap":
        if len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
    elif operation == "truncate":
        text = "\n".join(lines)
        return text[: draw(st.integers(0, len(text)))].split("\n")
    else:
        return None
    return lines


@st.composite
def mutated_text(draw, seeds=None) -> bytes:
    """A seed (of ``seeds``, default :data:`SEEDS`) mutated by 1 to 4 line or token operations, re-encoded."""
    lines = draw(st.sampled_from(seeds or SEEDS)).split("\n")
    for _ in range(draw(st.integers(1, 4))):
        operation = draw(st.sampled_from(["delete", "insert", "duplicate", "swap", "token", "separator", "truncate"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if (shared := _line_operation(draw, lines, operation, i, JUNK, 12)) is not None:
            lines = shared
        elif operation == "token" and lines:
            tokens = lines[i].split(" ")
            k = draw(st.integers(0, len(tokens) - 1))
            tokens[k] = draw(st.sampled_from(JUNK))
            lines[i] = " ".join(tokens)
        elif operation == "separator":
            old = draw(st.sampled_from([" ", ",", ".", ";", "\t"]))
            new = draw(st.sampled_from([",", ";", "\t", "  ", ", ", ".", " "]))
            lines = [line.replace(old, new) for line in lines]
    text = "\n".join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


def _nxcansas_seed() -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        entry = f.create_group("sasentry01")
        entry.attrs["NX_class"] = "NXentry"
        entry.attrs["canSAS_class"] = "SASentry"
        entry["title"] = "fuzz"
        data = entry.create_group("sasdata01")
        data.attrs["NX_class"] = "NXdata"
        data.attrs["canSAS_class"] = "SASdata"
        data.attrs["signal"] = "I"
        data.attrs["I_axes"] = "Q"
        q = data.create_dataset("Q", data=np.linspace(0.01, 0.3, 12))
        q.attrs["units"] = "1/nm"
        i = data.create_dataset("I", data=np.linspace(5.0, 1.0, 12))
        i.attrs["uncertainties"] = "Idev"
        data["Idev"] = np.full(12, 0.1)
    return buffer.getvalue()


HDF5_SEED = _nxcansas_seed()



# ---------------------------------------------------------------- structures

STRUCTURE_SEEDS = {
    ".xyz": [
        "2\ndimer\nAu 0 0 0\nAu 0 0 2.88\n",
        "4\nAu4 tetrahedron, Angstrom\nAu 0.0 0.0 0.0\nAu 2.88 0.0 0.0\nAu 1.44 2.494 0.0\nAu 1.44 0.831 2.352\n",
    ],
    ".extxyz": [
        '3\nLattice="10 0 0 0 10 0 0 0 10" Properties=species:S:1:pos:R:3 pbc="F F F"\n'
        "Pt 0 0 0\nPt 2.77 0 0\nPt 1.385 2.4 0\n",
        '2\nProperties=species:S:1:pos:R:3:forces:R:3 energy=-1.5\nAg 0 0 0 0.1 0 0\nAg 0 0 2.89 -0.1 0 0\n',
    ],
    ".cif": [
        (Path(__file__).parent / "data" / "cdse_np_pdfgui" / "CdSe-wurtzite.cif").read_text(),
        "data_Au\n_cell_length_a 4.078\n_cell_length_b 4.078\n_cell_length_c 4.078\n_cell_angle_alpha 90\n"
        "_cell_angle_beta 90\n_cell_angle_gamma 90\n_symmetry_space_group_name_H-M 'F m -3 m'\n"
        "_symmetry_Int_Tables_number 225\nloop_\n_atom_site_label\n_atom_site_type_symbol\n_atom_site_fract_x\n"
        "_atom_site_fract_y\n_atom_site_fract_z\nAu1 Au 0 0 0\n",
    ],
    ".pdb": [
        "CRYST1   10.000   10.000   10.000  90.00  90.00  90.00 P 1           1\n"
        "ATOM      1 AU   AU  A   1       0.000   0.000   0.000  1.00  0.00          AU\n"
        "ATOM      2 AU   AU  A   1       2.880   0.000   0.000  1.00  0.00          AU\n"
        "HETATM    3 AU   AU  A   1       1.440   2.494   0.000  1.00  0.00          AU\n"
        "END\n",
        "REMARK  Pd dimer\nATOM      1 PD   PD  X   1       0.000   0.000   0.000  1.00  0.00          PD\n"
        "ATOM      2 PD   PD  X   1       0.000   0.000   2.750  1.00  0.00          PD\n",
    ],
}

STRUCTURE_JUNK = JUNK + [
    "100000000", "2000001", "-3", "0.05", "1e300", "-1e300", "3e4", "-3e4", "Xx", "X", "H", "U", "0.000",
    "Properties=species:S:1:pos:R:100000000", "Lattice=\"0 0 0 0 0 0 0 0 0\"", "_cell_length_a 0.05",
    "_cell_angle_gamma 179.99", "_cell_angle_alpha 0", "'F m -3 m'", "'P 1'", "229", "'x, y, z'", "'-x, -y, -z'",
    "loop_", "data_x", "_atom_site_occupancy", "0.5", "END", "ENDMDL", "MODEL 2", "REMARK", "CRYST1",
    "pbc=\"T T T\"", "species:S:1", "pos:R:3", "?", "'", '"', ";",
]


@st.composite
def mutated_structure(draw, suffix: str) -> bytes:
    """A seed structure of ``suffix`` mutated by line and token operations, in one of five encodings."""
    lines = draw(st.sampled_from(STRUCTURE_SEEDS[suffix])).split("\n")
    for _ in range(draw(st.integers(1, 4))):
        operation = draw(st.sampled_from(["delete", "insert", "duplicate", "swap", "token", "token", "repeat",
                                          "truncate"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if (shared := _line_operation(draw, lines, operation, i, STRUCTURE_JUNK, 16)) is not None:
            lines = shared
        elif operation == "token" and lines:
            tokens = lines[i].split()
            if tokens:
                k = draw(st.integers(0, len(tokens) - 1))
                tokens[k] = draw(st.sampled_from(STRUCTURE_JUNK))
                lines[i] = " ".join(tokens)
            else:
                lines[i] = draw(st.sampled_from(STRUCTURE_JUNK))
        elif operation == "repeat" and lines:  # the same atom line many times (overlaps, counts that disagree)
            lines[i:i] = [lines[i]] * draw(st.integers(2, 60))
    text = "\n".join(lines)
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "latin-1", "utf-16", "utf-16-be", "utf-32"]))
    return text.encode(encoding, errors="replace")


def check_structure(data: bytes, filename: str) -> None:
    """:func:`~swaxs_lib.structures.readers.read_structure_bytes` raises SwaxsInputError naming the file, or
    returns a sound finite cluster (1 to MAX_ATOMS atoms, known elements, finite coordinates)."""
    from swaxs_lib.structures.builders import MAX_ATOMS
    from swaxs_lib.structures.readers import read_structure_bytes
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cluster = read_structure_bytes(data, filename)
    except SwaxsInputError as exc:
        assert str(exc).startswith(f"{filename}:"), str(exc)
        return
    atoms = cluster.atoms
    assert 1 <= len(atoms) <= MAX_ATOMS and cluster.info.n_atoms == len(atoms)
    assert (atoms.numbers > 0).all() and (atoms.numbers <= 118).all()
    assert atoms.positions.shape == (len(atoms), 3) and np.isfinite(atoms.positions).all()
    assert not atoms.pbc.any()


def check_crystal(data: bytes, filename: str) -> None:
    """:func:`~swaxs_lib.structures.readers.read_crystal_cell` raises SwaxsInputError naming the file, or
    returns a sound unit cell (rank 3, periodic, within the site caps, finite, no two sites closer than the cap)."""
    from swaxs_lib.structures import readers

    try:
        atoms = readers.read_crystal_cell(data, filename)
    except SwaxsInputError as exc:
        assert str(exc).startswith(f"{filename}:"), str(exc)
        return
    assert 1 <= len(atoms) <= readers.MAX_CELL_ATOMS and atoms.cell.rank == 3 and atoms.pbc.all()
    assert np.isfinite(atoms.positions).all() and np.isfinite(atoms.cell.array).all()
    assert abs(atoms.cell.volume) / len(atoms) >= readers.MIN_CELL_VOLUME_PER_ATOM
    assert (atoms.numbers > 0).all()


@st.composite
def corrupted_hdf5(draw) -> bytes:
    """The NXcanSAS seed with up to 8 bytes overwritten and maybe truncated."""
    data = bytearray(HDF5_SEED)
    for position, value in draw(st.lists(st.tuples(st.integers(0, len(HDF5_SEED) - 1), st.integers(0, 255)),
                                         min_size=1, max_size=8)):
        data[position] = value
    cut = draw(st.one_of(st.none(), st.integers(0, len(HDF5_SEED))))
    return bytes(data if cut is None else data[:cut])
