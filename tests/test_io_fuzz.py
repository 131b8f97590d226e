"""Property tests: whatever the bytes, the readers raise SwaxsInputError or return a sound curve.

Inputs are random bytes, and valid files (handwritten in every supported layout, the head
of a measured PDFgetX3 file, a canSAS XML file, an NXcanSAS HDF5 file) mutated by deleting,
inserting, duplicating and swapping lines, replacing numbers with junk, NaN or inf, changing
separators, truncating, and overwriting bytes; each is read under every file extension.

The property (no reference numbers involved): the only exception is SwaxsInputError, its
message starts with the file name; a result has finite, non-negative, strictly increasing x
of at least two points, and values (and uncertainties, if any) of the same length, finite,
uncertainties non-negative; the unit check (:func:`swaxs_lib.io.plausibility.check_x_unit`)
answers for every curve read, without an exception.
"""

from __future__ import annotations

import io
from pathlib import Path

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import KINDS, X_UNITS, read_measurement_bytes
from swaxs_lib.io import nxcansas
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


@st.composite
def mutated_text(draw) -> bytes:
    lines = draw(st.sampled_from(SEEDS)).split("\n")
    for _ in range(draw(st.integers(1, 4))):
        operation = draw(st.sampled_from(["delete", "insert", "duplicate", "swap", "token", "separator", "truncate"]))
        i = draw(st.integers(0, max(len(lines) - 1, 0)))
        if operation == "delete" and lines:
            del lines[i]
        elif operation == "insert":
            lines.insert(i, draw(st.sampled_from(JUNK) | st.text(max_size=12)))
        elif operation == "duplicate" and lines:
            lines.insert(i, lines[i])
        elif operation == "swap" and len(lines) > 1:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        elif operation == "token" and lines:
            tokens = lines[i].split(" ")
            k = draw(st.integers(0, len(tokens) - 1))
            tokens[k] = draw(st.sampled_from(JUNK))
            lines[i] = " ".join(tokens)
        elif operation == "separator":
            old = draw(st.sampled_from([" ", ",", ".", ";", "\t"]))
            new = draw(st.sampled_from([",", ";", "\t", "  ", ", ", ".", " "]))
            lines = [line.replace(old, new) for line in lines]
        elif operation == "truncate":
            text = "\n".join(lines)
            lines = text[: draw(st.integers(0, len(text)))].split("\n")
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


@pytest.fixture(scope="module", autouse=True)
def short_hdf5_timeout():
    """Corrupt HDF5 can make the library loop; give up after 1 s here (10 s by default)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(nxcansas, "HDF5_TIMEOUT_S", 1.0)
        yield


FAST = settings(max_examples=800, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(data=st.binary(max_size=600), extension=st.sampled_from(EXTENSIONS))
def test_random_bytes(data, extension):
    check(data, "random" + extension)


@FAST
@given(data=mutated_text(), extension=st.sampled_from(EXTENSIONS))
def test_mutated_text_files(data, extension):
    check(data, "mutated" + extension)


@settings(max_examples=300, deadline=None, database=None)
@given(
    text=st.text(alphabet=st.sampled_from(list("0123456789.,;eE+- \t\n#!naif")), max_size=200),
    extension=st.sampled_from(EXTENSIONS),
)
def test_number_like_text(text, extension):
    check(text.encode(), "numbers" + extension)


def test_valid_seeds_read():
    """The mutations start from files that read: otherwise the fuzzing only tests rejection."""
    for seed in SEEDS:
        read_measurement_bytes(seed.encode(), "seed.chi" if "Theta" in seed else "seed.dat")
    assert read_measurement_bytes(HDF5_SEED, "seed.h5").n_points == 12


@settings(max_examples=40, deadline=None, database=None)
@given(
    flips=st.lists(st.tuples(st.integers(0, len(HDF5_SEED) - 1), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.one_of(st.none(), st.integers(0, len(HDF5_SEED))),
    extension=st.sampled_from([".h5", ".nxs", ".dat"]),
)
def test_corrupted_hdf5(flips, cut, extension):
    data = bytearray(HDF5_SEED)
    for position, value in flips:
        data[position] = value
    if cut is not None:
        data = data[:cut]
    check(bytes(data), "corrupt" + extension)
