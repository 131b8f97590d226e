"""The linear plain-xyz reader against ASE's reference reader, and its one-line errors (issue 19 item 2)."""

from __future__ import annotations

import numpy as np
import pytest
from ase.io import read

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.structures.xyz import read_xyz_last_frame


def test_the_last_frame_equals_ases_reference_reader(tmp_path):
    rng = np.random.default_rng(7)
    frames = []
    for n in (3, 40):
        symbols = rng.choice(["Au", "pt", "AG", "Cu"], n)
        xyz = rng.normal(0, 10, (n, 3))
        frames.append(f"{n}\nframe of {n}\n" + "".join(f"{s} {x:.6f} {y:.6f} {z:.6f} 1.0\n"
                                                        for s, (x, y, z) in zip(symbols, xyz)))
    path = tmp_path / "two.xyz"
    path.write_text("".join(frames))
    ours, reference = read_xyz_last_frame(path), read(path, index=-1, format="xyz")
    assert ours.get_chemical_symbols() == reference.get_chemical_symbols()
    assert np.array_equal(ours.positions, reference.positions) and len(ours) == 40


@pytest.mark.parametrize("text, message", [
    ("2\nc\nAu 0 0 0\n", r"line 1: 2 atoms, but 1 lines follow"),
    ("two\nc\nAu 0 0 0\n", r"line 1: 'two'; expected the number of atoms"),
    ("1\nc\nAu 0 0\n", r"line 3: 'Au 0 0'; expected an element symbol and x, y, z"),
    ("1\nc\nQq 0 0 0\n", r"unknown element symbols Qq"),
    ("1\nc\nAu 0 0 0\n\n1\nc\nAu 0 0 0\n", r"line 4: a blank line"),
])
def test_malformed_files_name_the_line(tmp_path, text, message):
    path = tmp_path / "bad.xyz"
    path.write_text(text)
    with pytest.raises(SwaxsInputError, match=message):
        read_xyz_last_frame(path)
