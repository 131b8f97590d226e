"""Readers for measured curves: handwritten files of every format, and the measured data.

Where the reference numbers come from (none of them is produced by swaxs):

* unit conversion by hand: 1 nm^-1 = 0.1 Å^-1, 1 nm = 10 Å;
* 2θ → Q = 4π sin(θ)/λ at angles whose sines are exact: 2θ = 60° (sin 30° = 1/2),
  90° (sin 45° = √2/2), 180° (sin 90° = 1); λ[Å] = 12.398419843320026 / E[keV] (CODATA 2018
  hc, exact), so E = 12.398419843320026 keV is λ = 1 Å;
* the measured files in tests/data/<folder>/ are copies of /work/shared/data/<folder>/ with
  their SOURCE.md (licence and provenance); the facts asserted (wavelengths, Q and r ranges,
  column meanings, qmax, first-peak positions) are quoted from those SOURCE.md files, and the
  columns are re-read independently with ``numpy.loadtxt`` after the ``start data`` line;
* nearest-neighbour distances: fcc a/√2 with a(Ni) = 3.527 Å (ni_srfit SOURCE.md) = 2.494 Å;
  Pt about 2.77 Å and Au144 about 2.8 Å (pt_np_jq_pdf and au144_pdf SOURCE.md); wurtzite
  CdSe Cd–Se bonds z·c = 2.614 Å and sqrt(a²/3 + ((1/2 - z)c)²) = 2.638 Å from the PDFgui fit
  a = 4.30222 Å, c = 7.00611 Å, z = 0.373083 (cdse_np_pdfgui SOURCE.md).

Units: Q in 1/Å, r in Å, 2θ in degrees, wavelengths in Å.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import h5py
import numpy as np
import pytest

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import KINDS, X_UNITS, Measurement, read_measurement, read_measurement_bytes
from swaxs_lib.io import readers

DATA = Path(__file__).parent / "data"


def read(text: str | bytes, filename: str, **kwargs) -> Measurement:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return read_measurement_bytes(data, filename, **kwargs)


def meta(m: Measurement) -> dict[str, str]:
    return dict(m.metadata)


def loadtxt_after_marker(path: Path) -> np.ndarray:
    """Independent reader: numpy.loadtxt of every line after 'start data', '#' lines skipped."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "start data" in line) + 1
    return np.loadtxt(io.StringIO("\n".join(lines[start:])), comments="#")


# ---------------------------------------------------------------------------------------------
# Public API


def test_public_api_exports():
    assert set(KINDS) == {"iq", "sq", "fq", "gr"}
    assert "inv_nm" in X_UNITS and "two_theta_deg" in X_UNITS
    assert readers.MAX_INPUT_BYTES == 50 * 1024 * 1024


def test_file_version_equals_bytes_version(tmp_path):
    text = "# q_nm^-1 I sigma\n1 10 1\n2 8 0.5\n"
    path = tmp_path / "curve.dat"
    path.write_text(text)
    from_file = read_measurement(path)
    from_bytes = read(text, "curve.dat")
    assert from_file.source == from_bytes.source == "curve.dat"
    np.testing.assert_array_equal(from_file.x, from_bytes.x)
    np.testing.assert_array_equal(from_file.uncertainties, from_bytes.uncertainties)
    assert read_measurement(path, name="sample A").source == "sample A"


# ---------------------------------------------------------------------------------------------
# Plain text: separators, comments, headers, line endings, BOM, decimal commas

PLAIN = {
    "whitespace": "0.1 10 1\n0.2 20 2\n0.3 30 3\n",
    "tabs": "0.1\t10\t1\n0.2\t20\t2\n0.3\t30\t3\n",
    "commas": "0.1,10,1\n0.2,20,2\n0.3,30,3\n",
    "comma-space": "0.1, 10, 1\n0.2, 20, 2\n0.3, 30, 3\n",
    "semicolons": "0.1;10;1\n0.2;20;2\n0.3;30;3\n",
    "header row": "Q,I,dI\n0.1,10,1\n0.2,20,2\n0.3,30,3\n",
    "hash comments": "# sample: Au\n# Q I dI\n0.1 10 1\n# mid-data note\n0.2 20 2\n0.3 30 3\n",
    "bang comments": "! exported\n0.1 10 1\n0.2 20 2\n0.3 30 3\n",
    "semicolon comments": "; exported\n0.1 10 1\n0.2 20 2\n0.3 30 3\n",
    "windows line endings": "# Q I dI\r\n0.1 10 1\r\n0.2 20 2\r\n0.3 30 3\r\n",
    "old mac line endings": "0.1 10 1\r0.2 20 2\r0.3 30 3\r",
    "blank lines and trailing spaces": "\n\n0.1 10 1   \n\n0.2 20 2\n0.3 30 3\n\n",
    "trailing separator": "0.1,10,1,\n0.2,20,2,\n0.3,30,3,\n",
    "inline comment": "0.1 10 1 # first\n0.2 20 2\n0.3 30 3\n",
    "fortran exponents": "1.0D-01 1.0D+01 1\n2.0d-01 2.0d+01 2\n3.0E-01 3.0E+01 3\n",
    "decimal commas, semicolons": "0,1;10;1\n0,2;20;2\n0,3;30;3\n",
    "decimal commas, spaces": "0,1 10 1\n0,2 20 2\n0,3 30 3\n",
    "decimal commas, tabs": "0,1\t10,0\t1\n0,2\t20,0\t2\n0,3\t30,0\t3\n",
}


@pytest.mark.parametrize("layout", sorted(PLAIN))
def test_plain_text_layouts_give_the_same_curve(layout):
    m = read(PLAIN[layout], "curve.txt")
    np.testing.assert_allclose(m.x, [0.1, 0.2, 0.3], rtol=0, atol=1e-15)
    np.testing.assert_array_equal(m.values, [10, 20, 30])
    np.testing.assert_array_equal(m.uncertainties, [1, 2, 3])
    assert m.kind == "iq" and m.x_unit == "inv_angstrom"


def test_utf8_byte_order_mark_and_utf16():
    text = "# Q (1/Å) I\n0.1 10\n0.2 20\n"
    assert read(b"\xef\xbb\xbf" + text.encode(), "bom.txt").x.tolist() == [0.1, 0.2]
    m16 = read(text.encode("utf-16"), "u16.txt")
    assert m16.x.tolist() == [0.1, 0.2] and meta(m16)["encoding"] == "utf-16"


def test_windows_1252_header_is_text_not_binary():
    m = read("# r (\xc5) G of “Au”\n1 0.5\n2 0.7\n".encode("cp1252"), "old.txt")
    assert m.x.tolist() == [1.0, 2.0] and meta(m)["encoding"] == "cp1252" and m.kind == "gr"
    assert m.header == ("# r (Å) G of “Au”",)


def test_decimal_comma_with_exponent_and_semicolons():
    m = read("0,5;1,2e3\n0,6;1,1e3\n", "eu.csv")
    assert m.x.tolist() == [0.5, 0.6] and m.values.tolist() == [1200.0, 1100.0]
    assert meta(m)["separator"] == "semicolon"


def test_decimal_comma_with_spaces():
    m = read("0,5 12,3\n0,75 11,1\n", "eu.txt")
    assert m.x.tolist() == [0.5, 0.75] and m.values.tolist() == [12.3, 11.1]
    assert meta(m)["decimal_comma"] == "true"


def test_comma_separator_is_never_a_decimal_comma():
    # "1,2" with comma separators is two columns (x = 1, y = 2), never the number 1.2.
    m = read("1,2\n3,4\n", "pairs.csv")
    assert m.x.tolist() == [1.0, 3.0] and m.values.tolist() == [2.0, 4.0]
    assert "decimal_comma" not in meta(m)


def test_no_unit_stated_assumes_inverse_angstrom_and_says_so():
    m = read("0.1 1\n0.2 2\n", "a.dat")
    assert m.x_unit == "inv_angstrom" and meta(m)["x_unit_assumed"] == "true"
    assert m.uncertainties is None  # two columns: nothing invented


# ---------------------------------------------------------------------------------------------
# SasView ASCII: the 4th column is dQ


def test_sasview_four_columns_with_labels_keep_di_and_dq():
    m = read("<X>,<Y>,<dY>,<dX>\n0.01,100,5,0.001\n0.02,50,4,0.002\n", "sasview.csv")
    np.testing.assert_array_equal(m.uncertainties, [5, 4])
    np.testing.assert_array_equal(m.x_resolution, [0.001, 0.002])  # the 1-σ dQ, kept for smearing
    assert "<dX>" in meta(m)["resolution_column"] and "dropped_columns" not in meta(m)


def test_sasview_four_columns_named_q_i_di_dq():
    m = read("Q I dI dQ\n0.01 100 5 0.001\n0.02 50 4 0.002\n", "sasview.txt")
    np.testing.assert_array_equal(m.uncertainties, [5, 4])
    assert meta(m)["resolution_column"].startswith("dQ")
    # dQ is converted with Q: the same file in 1/nm gives dQ / 10 in 1/Å
    m_nm = read("Q I dI dQ\n0.01 100 5 0.001\n0.02 50 4 0.002\n", "sasview.txt", x_unit="inv_nm")
    np.testing.assert_allclose(m_nm.x_resolution, [0.0001, 0.0002], rtol=1e-15)


def test_four_unlabelled_columns_follow_the_sasview_convention():
    m = read("0.01 100 5 0.001\n0.02 50 4 0.002\n", "sasview.dat")
    np.testing.assert_array_equal(m.uncertainties, [5, 4])  # column 3 (dI), not column 4 (dQ)
    assert "SasView" in meta(m)["column_roles"]


def test_three_columns_where_the_third_is_dq_give_no_uncertainty():
    m = read("Q I dQ\n0.01 100 0.001\n0.02 50 0.002\n", "res.txt")
    assert m.uncertainties is None and meta(m)["resolution_column"].startswith("dQ")
    np.testing.assert_array_equal(m.x_resolution, [0.001, 0.002])


# ---------------------------------------------------------------------------------------------
# PDFgetX

PDFGETX3_GR = """# xPDFsuite Configuration #
[PDF]
wavelength = 0.7107
dataformat = twotheta
composition = Au
qmax = 10.0

#### start data
#S 1
#L r($\\AA$)  G($\\AA^{-2}$)
0 0
0.01 0.032
0.02 0.064
"""


def test_pdfgetx3_gr_header_and_columns():
    m = read(PDFGETX3_GR, "x.gr")
    assert m.kind == "gr" and m.x_unit == "angstrom" and "x_unit_assumed" not in meta(m)
    assert m.r_angstrom.tolist() == [0.0, 0.01, 0.02]
    assert m.values.tolist() == [0.0, 0.032, 0.064]
    assert m.wavelength_angstrom == 0.7107
    assert meta(m)["header_qmax"] == "10.0" and meta(m)["header_composition"] == "Au"
    # "dataformat = twotheta" describes the raw input, not these columns
    assert m.header[0] == "# xPDFsuite Configuration #"


@pytest.mark.parametrize("extension, kind", [(".sq", "sq"), (".fq", "fq"), (".iq", "iq")])
def test_pdfgetx_q_space_extensions(extension, kind):
    text = "qmax = 20\n#### start data\n#L Q($\\AA^{-1}$)  S(a.u.)\n1.0 0.9\n1.5 1.1\n"
    m = read(text, "x" + extension)
    assert m.kind == kind and m.x_unit == "inv_angstrom" and m.q_inv_angstrom.tolist() == [1.0, 1.5]


def test_pdfgetx2_four_columns_keep_dg_as_uncertainty():
    text = "lambda=0.142500    energy=87.0070\n##### start data\n#L r(A)    G(r)    d_r    d_Gr\n" \
        "   1.0e-02  4.8e-03  -7.5e-04  1.6e-04\n   2.0e-02  8.9e-03  -1.5e-03  3.2e-04\n"
    m = read(text, "cdse.gr")
    np.testing.assert_array_equal(m.uncertainties, [1.6e-4, 3.2e-4])
    assert meta(m)["dropped_columns"].startswith("d_r") and m.x_resolution is None
    assert m.wavelength_angstrom == 0.1425  # "lambda" wins over "energy"


def test_unlabelled_four_columns_in_a_gr_file_are_r_g_dr_dg():
    m = read("1.0 0.5 0.01 0.02\n2.0 0.6 0.01 0.03\n", "pdfgui.gr")
    np.testing.assert_array_equal(m.uncertainties, [0.02, 0.03])


def test_r_in_nm_is_multiplied_by_ten():
    m = read("#L r(nm) G\n0.1 1\n0.25 2\n", "nm.gr")
    assert m.x_unit == "nm" and m.r_angstrom.tolist() == [1.0, 2.5]


def test_header_r_column_makes_a_gr_without_the_extension():
    m = read("# r [nm]  G\n0.1 1\n0.2 2\n", "pdf.txt")
    assert m.kind == "gr" and m.r_angstrom.tolist() == [1.0, 2.0]


def test_kind_gr_from_the_user_on_a_plain_file():
    m = read("0.5 1\n1.0 2\n", "pdf.txt", kind="gr")
    assert m.kind == "gr" and m.x_unit == "angstrom" and meta(m)["x_unit_assumed"] == "true"


# ---------------------------------------------------------------------------------------------
# pyFAI and Fit2D

PYFAI_HEADER = """# == pyFAI calibration ==
# Distance Sample to Detector: 0.1 m
# PONI: 4.000e-02, 4.000e-02 m
# Wavelength: 1e-10 m
# Polarization factor: None
# --> /data/ceria.dat
"""


def test_pyfai_two_theta_with_header_wavelength_in_meters():
    rows = "  6.0e+01  1.0\n  9.0e+01  2.0\n  1.8e+02  3.0\n"
    m = read(PYFAI_HEADER + "#       2th_deg             I\n" + rows, "ceria.dat")
    # λ = 1e-10 m = 1 Å: Q = 4π sin(θ)/1
    np.testing.assert_allclose(m.x, [4 * math.pi * 0.5, 4 * math.pi * math.sqrt(2) / 2, 4 * math.pi], rtol=1e-14)
    assert m.x_unit == "two_theta_deg" and m.wavelength_angstrom == 1.0
    assert meta(m)["format"] == "pyFAI"


def test_two_theta_with_energy_kev():
    m = read("# 2th_deg I\n60 1\n90 2\n", "scan.xy", energy_kev=12.398419843320026 / 2)  # λ = 2 Å
    np.testing.assert_allclose(m.x, [2 * math.pi * 0.5, 2 * math.pi * math.sqrt(2) / 2], rtol=1e-14)
    assert m.wavelength_angstrom == pytest.approx(2.0, rel=1e-15)


def test_two_theta_from_x_unit_argument_and_wavelength():
    m = read("30 1\n60 2\n", "plain.xy", x_unit="two_theta_deg", wavelength_angstrom=1.5406)
    expected = [4 * math.pi * math.sin(math.radians(15)) / 1.5406, 4 * math.pi * 0.5 / 1.5406]
    np.testing.assert_allclose(m.x, expected, rtol=1e-14)


def test_explicit_wavelength_wins_over_header_and_is_recorded():
    m = read(PYFAI_HEADER + "# 2th_deg I\n60 1\n90 2\n", "c.dat", wavelength_angstrom=2.0)
    assert m.wavelength_angstrom == 2.0 and m.x[0] == pytest.approx(math.pi, rel=1e-14)
    assert "overrides" in meta(m)["wavelength_conflict"]


def test_pyfai_q_in_inverse_nm_with_sigma():
    m = read(PYFAI_HEADER + "#       q_nm^-1             I         sigma\n 1.0 5.0 0.5\n 2.5 4.0 0.4\n", "saxs.dat")
    assert m.x.tolist() == [0.1, 0.25] and m.x_unit == "inv_nm"
    np.testing.assert_array_equal(m.uncertainties, [0.5, 0.4])


def test_pyfai_q_in_inverse_angstrom():
    m = read("#  q_A^-1  I\n0.1 5\n0.2 4\n", "saxs.dat")
    assert m.x.tolist() == [0.1, 0.2] and m.x_unit == "inv_angstrom" and "x_unit_assumed" not in meta(m)


def test_header_row_q_in_inverse_nm():
    m = read("Q (1/nm), I (1/cm), dI\n1, 5, 1\n3, 4, 1\n", "q.csv")
    assert m.x.tolist() == [0.1, 0.3] and m.x_unit == "inv_nm"


def test_fit2d_chi_two_theta():
    text = "ceria.tif: Azm= 0.0\n2-Theta Angle (Degrees)\nIntensity\n       3\n 60.0 1\n 90.0 2\n 180.0 3\n"
    m = read(text, "ceria.chi", wavelength_angstrom=1.0)
    np.testing.assert_allclose(m.x, [2 * math.pi, 2 * math.sqrt(2) * math.pi, 4 * math.pi], rtol=1e-14)
    assert m.n_points == 3  # the count line "3" is not a point


def test_fit2d_chi_inverse_nanometres():
    m = read("t\nQ (Inverse Nanometres)\nIntensity\n 2 1\n 5 1\n 10 2\n", "q.chi")
    assert m.x.tolist() == [0.5, 1.0] and m.x_unit == "inv_nm"


def test_fit2d_chi_point_count_that_disagrees_is_a_truncated_file():
    with pytest.raises(SwaxsInputError, match=r"q\.chi: line 4 declares 5 points but 2"):
        read("t\nQ (Inverse Nanometres)\nIntensity\n 5\n 5 1\n 10 2\n", "q.chi")


# ---------------------------------------------------------------------------------------------
# Explicit arguments against the header


def test_explicit_x_unit_wins_over_header_and_is_recorded():
    m = read("# q_nm^-1 I\n1 5\n2 4\n", "c.dat", x_unit="inv_angstrom")
    assert m.x.tolist() == [1.0, 2.0] and m.x_unit == "inv_angstrom"
    assert meta(m)["x_unit_header"] == "inv_nm" and "overrides" in meta(m)["x_unit_conflict"]


def test_explicit_x_unit_on_a_file_without_units():
    m = read("10 5\n20 4\n", "c.dat", x_unit="1/nm")
    assert m.x.tolist() == [1.0, 2.0] and m.x_unit == "inv_nm" and "x_unit_assumed" not in meta(m)


def test_explicit_kind_wins_over_the_extension():
    m = read("1.0 0.9\n1.5 1.1\n", "s.sq", kind="fq")
    assert m.kind == "fq" and meta(m)["kind_from_extension"] == "sq"


def test_decreasing_x_is_reversed_and_recorded():
    m = read("0.3 30 3\n0.2 20 2\n0.1 10 1\n", "desc.txt")
    assert m.x.tolist() == [0.1, 0.2, 0.3] and m.values.tolist() == [10, 20, 30]
    assert m.uncertainties.tolist() == [1, 2, 3] and meta(m)["x_reversed"] == "true"


# ---------------------------------------------------------------------------------------------
# Bad input: one SwaxsInputError naming the file, the line and what was expected

BAD = [
    ("empty", b"", "empty.txt", ["the file is empty"]),
    ("only blanks", b"  \n\n\t\n", "blank.txt", ["empty"]),
    ("only comments", b"# a\n# b\n", "c.txt", ["no line of numbers", "expected rows"]),
    ("binary NUL", b"0 1\n\x00\x01\x02\x03", "bin.dat", ["line 2", "binary"]),
    ("undecodable binary", b"\x8f\x01\x9b\xff\x02junk", "bin.dat", ["binary"]),
    ("truncated last line", b"0.1 1 0.1\n0.2 2 0.1\n0.3 3", "t.dat", ["line 3", "2 values; expected 3"]),
    ("single column", b"0.1\n0.2\n0.3\n", "one.dat", ["line 1", "at least 2 columns"]),
    ("five columns", b"1 2 3 4 5\n2 3 4 5 6\n", "five.dat", ["line 1", "expected 2 to 4"]),
    ("non-numeric", b"0.1 1\n0.2 abc\n0.3 3\n", "nn.dat", ["line 2", "'abc' is not a number"]),
    ("trailer after data", b"0.1 1\n0.2 2\nEND\n", "tr.dat", ["line 3", "'END'"]),
    ("repeated x", b"0.1 1\n0.2 2\n0.2 3\n", "rep.dat", ["line 3", "repeats line 2", "strictly"]),
    ("zig-zag x", b"0.1 1\n0.3 2\n0.2 3\n0.4 4\n", "zz.dat", ["line 3", "decreases", "strictly"]),
    ("NaN", b"0.1 1\n0.2 nan\n0.3 3\n", "n.dat", ["line 2", "y = nan", "finite"]),
    ("inf x", b"0.1 1\ninf 2\n", "i.dat", ["line 2", "x = inf", "finite"]),
    ("overflow", b"0.1 1\n0.2 1e999\n", "o.dat", ["line 2", "finite"]),
    ("NaN uncertainty", b"0.1 1 nan\n0.2 2 1\n", "u.dat", ["line 1", "uncertainty = nan"]),
    ("negative uncertainty", b"0.1 1 1\n0.2 2 -1\n", "u.dat", ["line 2", "uncertainty -1", ">= 0"]),
    ("negative Q", b"# comment\n-0.1 1\n0.2 2\n", "neg.dat", ["line 2", "negative Q", ">= 0"]),
    ("negative r", b"#L r(A) G\n-1 1\n2 2\n", "neg.gr", ["line 2", "negative r"]),
    ("one point", b"0.1 1\n", "one.dat", ["1 data point", "line 1", "at least 2"]),
    ("2theta without wavelength", b"# 2th_deg I\n10 1\n20 2\n", "tth.xy", ["wavelength_angstrom or energy_kev"]),
    ("2theta over 180", b"# Wavelength: 1e-10 m\n# 2th_deg I\n10 1\n200 2\n", "tth.xy", ["line 4", "0 to 180"]),
    ("two units in the header", b"# x_unit: 1/A\n# q_nm^-1 I\n1 5\n2 4\n", "two.dat",
     ["unit-ambiguous", "line 1", "line 2"]),
    ("two units in one label", b"# Q (1/nm) [1/A]  I\n1 5\n2 4\n", "two.dat", ["unit-ambiguous"]),
    ("Q header in a .gr file", b"#### start data\n#L Q(1/A) G\n1 1\n2 2\n", "q.gr", ["line 2", "kind is 'gr'"]),
    ("radians", b"# 2th_rad I\n0.1 1\n0.2 2\n", "rad.dat", ["line 1", "2th_rad", "expected Q"]),
    ("d-spacing", b"t\nD-spacing (Angstroms)\nIntensity\n 2\n 1 1\n 2 2\n", "d.chi", ["line 2", "D-spacing"]),
    ("canSAS XML without SASentry", b'<?xml version="1.0"?>\n<SASroot/>', "ludox.xml", ["XML", "SASentry"]),
    ("not HDF5 with .h5", b"0.1 1\n0.2 2\n", "fake.h5", ["no HDF5 signature"]),
]


@pytest.mark.parametrize("content, filename, expected", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_one_error_naming_file_line_and_expectation(content, filename, expected):
    with pytest.raises(SwaxsInputError) as info:
        read_measurement_bytes(content, filename)
    message = str(info.value)
    assert message.startswith(f"{filename}:")
    assert "expected" in message
    for fragment in expected:
        assert fragment in message, (fragment, message)


def test_r_header_with_explicit_q_kind_is_an_error():
    with pytest.raises(SwaxsInputError, match=r"r\.txt: line 1: the header gives x as r in Å but the kind is 'iq'"):
        read(b"#L r(A) G\n1 1\n2 2\n", "r.txt", kind="iq")
    with pytest.raises(SwaxsInputError, match=r"x column 'r' is r-space but the kind is 'sq'"):
        read(b"#L r G\n1 1\n2 2\n", "r.txt", kind="sq")


def test_kind_contradiction_is_resolved_by_an_explicit_x_unit():
    m = read(b"#L r(A) G\n1 1\n2 2\n", "r.txt", kind="iq", x_unit="inv_angstrom")
    assert m.kind == "iq" and "x_unit_conflict" in meta(m)


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"kind": "xrd"}, "kind 'xrd'"),
        ({"x_unit": "furlong"}, "x_unit 'furlong'"),
        ({"wavelength_angstrom": -1.0}, "wavelength_angstrom -1.0"),
        ({"wavelength_angstrom": True}, "wavelength_angstrom True"),
        ({"energy_kev": float("nan")}, "energy_kev nan"),
        ({"wavelength_angstrom": 1.0, "energy_kev": 10.0}, "disagree"),
        ({"kind": "gr", "x_unit": "inv_nm"}, "x_unit='inv_nm'"),
    ],
)
def test_bad_arguments(kwargs, fragment):
    with pytest.raises(SwaxsInputError, match="expected") as info:
        read("0.1 1\n0.2 2\n", "a.dat", **kwargs)
    assert fragment in str(info.value)


def test_size_cap(monkeypatch):
    monkeypatch.setattr(readers, "MAX_INPUT_BYTES", 100)
    with pytest.raises(SwaxsInputError, match=r"big\.dat: 101 bytes; expected at most 100"):
        read_measurement_bytes(b"1" * 101, "big.dat")


def test_size_cap_of_a_file(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_INPUT_BYTES", 10)
    path = tmp_path / "big.dat"
    path.write_text("0.1 1\n0.2 2\n")
    with pytest.raises(SwaxsInputError, match="expected at most 10 bytes"):
        read_measurement(path)


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(SwaxsInputError, match=r"nope\.dat: cannot read"):
        read_measurement(tmp_path / "nope.dat")
    with pytest.raises(SwaxsInputError, match="not a regular file"):
        read_measurement(tmp_path)


def test_data_that_is_not_bytes():
    with pytest.raises(SwaxsInputError, match="expected bytes"):
        read_measurement_bytes("0.1 1\n0.2 2\n", "a.dat")


# ---------------------------------------------------------------------------------------------
# NXcanSAS


def nxcansas_bytes(
    q, i, idev=None, q_units="1/A", qdev=None, uncertainty_attr=True, i_name="I", n_entries=1, default=True
) -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        for k in range(n_entries):
            name = f"sasentry{k + 1:02d}"
            if default:
                f.attrs["default"] = "sasentry01"
            entry = f.create_group(name)
            entry.attrs["NX_class"] = "NXentry"
            entry.attrs["canSAS_class"] = "SASentry"
            entry.attrs["version"] = "1.1"
            entry["definition"] = "NXcanSAS"
            entry["title"] = f"Ludox silica {k + 1}"
            data = entry.create_group("sasdata01")
            data.attrs["NX_class"] = "NXdata"
            data.attrs["canSAS_class"] = "SASdata"
            data.attrs["signal"] = i_name
            data.attrs["I_axes"] = "Q"
            qd = data.create_dataset("Q", data=np.asarray(q, dtype=float) * (k + 1))
            qd.attrs["units"] = q_units
            idata = data.create_dataset(i_name, data=np.asarray(i, dtype=float))
            idata.attrs["units"] = "1/cm"
            if idev is not None:
                data["Ierr"] = np.asarray(idev, dtype=float)
                if uncertainty_attr:
                    idata.attrs["uncertainties"] = "Ierr"
            if qdev is not None:
                data["Qdev"] = np.asarray(qdev, dtype=float)
                qd.attrs["resolutions"] = "Qdev"
            instrument = entry.create_group("sasinstrument")
            instrument.attrs["canSAS_class"] = "SASinstrument"
            source = instrument.create_group("sassource")
            source.attrs["canSAS_class"] = "SASsource"
            wavelength = source.create_dataset("incident_wavelength", data=1.5406)
            wavelength.attrs["units"] = "A"
    return buffer.getvalue()


def test_nxcansas_inverse_nm_with_uncertainties_and_resolution():
    data = nxcansas_bytes([0.1, 0.5, 2.0], [10, 5, 1], idev=[1, 0.5, 0.1], q_units="1/nm", qdev=[0.01] * 3)
    m = read_measurement_bytes(data, "ludox.h5")
    assert m.x.tolist() == [0.01, 0.05, 0.2] and m.x_unit == "inv_nm"
    np.testing.assert_array_equal(m.values, [10, 5, 1])
    np.testing.assert_array_equal(m.uncertainties, [1, 0.5, 0.1])
    assert meta(m)["resolution_column"] == "Qdev" and m.x_resolution.tolist() == [0.001] * 3  # 1/nm -> 1/Å
    assert m.wavelength_angstrom == 1.5406 and meta(m)["title"] == "Ludox silica 1"


def test_nxcansas_inverse_angstrom_and_no_uncertainties():
    m = read_measurement_bytes(nxcansas_bytes([0.01, 0.02], [3, 2], q_units="1/A"), "x.nxs")
    assert m.x.tolist() == [0.01, 0.02] and m.x_unit == "inv_angstrom" and m.uncertainties is None


def test_nxcansas_follows_signal_attribute():
    data = nxcansas_bytes([0.01, 0.02], [3, 2], idev=[0.3, 0.2], i_name="Intensity")
    m = read_measurement_bytes(data, "x.h5")
    assert m.values.tolist() == [3, 2] and m.uncertainties.tolist() == [0.3, 0.2]


def test_nxcansas_idev_without_attribute():
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        entry = f.create_group("e")
        entry.attrs["canSAS_class"] = "SASentry"
        data = entry.create_group("d")
        data.attrs["canSAS_class"] = "SASdata"
        data["Q"] = [0.2, 0.1]
        data["Q"].attrs["units"] = "1/angstrom"
        data["I"] = [1.0, 2.0]
        data["Idev"] = [0.1, 0.2]
    m = read_measurement_bytes(buffer.getvalue(), "x.h5")
    assert m.x.tolist() == [0.1, 0.2] and m.uncertainties.tolist() == [0.2, 0.1]  # reversed together


def test_nxcansas_several_entries_uses_the_default_or_warns():
    data = nxcansas_bytes([0.01, 0.02], [3, 2], n_entries=2)
    assert read_measurement_bytes(data, "x.h5").x.tolist() == [0.01, 0.02]
    undecided = nxcansas_bytes([0.01, 0.02], [3, 2], n_entries=2, default=False)
    with pytest.warns(UserWarning, match="2 SASentry groups"):
        read_measurement_bytes(undecided, "x.h5")


def test_nxcansas_hdf5_content_wins_over_a_text_extension():
    m = read_measurement_bytes(nxcansas_bytes([0.01, 0.02], [3, 2]), "renamed.dat")
    assert m.x.tolist() == [0.01, 0.02]


def nxcansas_error(data: bytes, filename: str = "x.h5") -> str:
    with pytest.raises(SwaxsInputError) as info:
        read_measurement_bytes(data, filename)
    message = str(info.value)
    assert message.startswith(f"{filename}:") and "expected" in message
    return message


def test_nxcansas_bad_files():
    assert "no group with canSAS_class='SASentry'" in nxcansas_error(_h5(lambda f: f.create_group("x")))
    assert "unreadable HDF5" in nxcansas_error(nxcansas_bytes([0.1, 0.2], [1, 2])[:600])
    assert "'1/m'" in nxcansas_error(nxcansas_bytes([0.1, 0.2], [1, 2], q_units="1/m"))
    assert "point 2 of /sasentry01/sasdata01/Q" in nxcansas_error(nxcansas_bytes([0.1, -0.2], [1, 2]))
    assert "same number" in nxcansas_error(nxcansas_bytes([0.1, 0.2, 0.3], [1, 2]))


def _h5(build) -> bytes:
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        build(f)
    return buffer.getvalue()


def test_nxcansas_two_dimensional_data_is_refused():
    def build(f):
        entry = f.create_group("e")
        entry.attrs["canSAS_class"] = "SASentry"
        data = entry.create_group("d")
        data.attrs["canSAS_class"] = "SASdata"
        data.attrs["I_axes"] = "Q,Q"
        data["Q"] = np.ones((2, 2))
        data["I"] = np.ones((2, 2))

    assert "expected one axis" in nxcansas_error(_h5(build))


def test_nxcansas_data_stored_in_other_files_is_refused(tmp_path):
    outside = tmp_path / "secret.bin"
    outside.write_bytes(np.arange(4, dtype="<f8").tobytes())
    path = tmp_path / "ext.h5"
    with h5py.File(path, "w") as f:
        entry = f.create_group("e")
        entry.attrs["canSAS_class"] = "SASentry"
        data = entry.create_group("d")
        data.attrs["canSAS_class"] = "SASdata"
        data.create_dataset("Q", shape=(4,), dtype="<f8", external=[(str(outside), 0, 32)])
        data["I"] = np.ones(4)
    message = nxcansas_error(path.read_bytes())
    assert "stores its data in other files" in message


def test_nxcansas_from_a_file_path(tmp_path):
    path = tmp_path / "curve.nxs"
    path.write_bytes(nxcansas_bytes([0.01, 0.02], [3, 2], idev=[0.1, 0.1]))
    m = read_measurement(path)
    assert m.source == "curve.nxs" and m.n_points == 2


# ---------------------------------------------------------------------------------------------
# Measured files (tests/data, facts from each SOURCE.md)


def first_peak_r(m: Measurement, r_min: float, r_max: float) -> float:
    inside = (m.x > r_min) & (m.x < r_max)
    return float(m.x[inside][np.argmax(m.values[inside])])


def test_licence_notice_travels_with_every_data_file():
    for data_file in DATA.glob("*/*"):
        assert (data_file.parent / "SOURCE.md").is_file(), data_file
        assert "License" in (data_file.parent / "SOURCE.md").read_text()


def test_au144_pet():
    path = DATA / "au144_pdf" / "Au144PET_100K-00000.gr"
    m = read_measurement(path)
    reference = loadtxt_after_marker(path)
    assert m.kind == "gr" and m.x_unit == "angstrom"
    np.testing.assert_array_equal(m.x, reference[:, 0])
    np.testing.assert_array_equal(m.values, reference[:, 1])
    assert m.uncertainties is None  # r, G only
    assert m.wavelength_angstrom == 0.18597  # SOURCE.md: lambda = 0.18597 Å
    assert meta(m)["header_qmax"] == "26.0" and meta(m)["header_qmin"] == "0.8"
    assert meta(m)["header_composition"] == "Au144 S60 C180"
    assert abs(first_peak_r(m, 2.0, 3.5) - 2.8) < 0.1  # first Au–Au peak near 2.8 Å


def test_au144_pmba_has_no_wavelength():
    m = read_measurement(DATA / "au144_pdf" / "Au144pMBA.gr")
    assert m.wavelength_angstrom is None  # SOURCE.md: the wavelength is not stated in the file
    assert meta(m)["header_qmax"] == "28.0" and meta(m)["header_qmin"] == "1.33"
    assert abs(first_peak_r(m, 2.0, 3.5) - 2.8) < 0.1


def test_pt_nanoparticles():
    m = read_measurement(DATA / "pt_np_jq_pdf" / "JQ_S1.gr")
    # SOURCE.md: r runs 0–50 Å, step 0.01; wavelength 0.1 Å; qmax 22
    assert m.x[0] == 0.0 and m.x[-1] == 50.0 and m.n_points == 5001
    np.testing.assert_allclose(np.diff(m.x), 0.01, atol=1e-9)
    assert m.wavelength_angstrom == 0.1 and float(meta(m)["header_qmax"]) == pytest.approx(22.0, abs=0.01)
    assert abs(first_peak_r(m, 2.0, 3.5) - 2.77) < 0.05  # fcc Pt nearest neighbour


def test_ni_xray_four_columns_keep_dg():
    path = DATA / "ni_srfit" / "ni-q27r60-xray.gr"
    m = read_measurement(path)
    reference = loadtxt_after_marker(path)  # SOURCE.md: r, G(r), dr, dG(r)
    assert reference.shape[1] == 4
    np.testing.assert_array_equal(m.x, reference[:, 0])
    np.testing.assert_array_equal(m.uncertainties, reference[:, 3])
    assert m.wavelength_angstrom == 0.142773  # SOURCE.md: lambda = 0.142773 Å
    assert m.x[-1] < 60.0 + 1e-9  # r up to 60 Å
    assert abs(first_peak_r(m, 2.0, 3.0) - 3.527 / math.sqrt(2)) < 0.03


def test_ni_neutron_two_columns_despite_four_labels():
    m = read_measurement(DATA / "ni_srfit" / "ni-q27r100-neutron.gr")
    # SOURCE.md: r (Å), G(r), no uncertainty column; TOF so no single wavelength; r up to 100 Å
    assert m.uncertainties is None and m.wavelength_angstrom is None
    assert m.x[-1] == 100.0 and m.x_unit == "angstrom"
    assert abs(first_peak_r(m, 2.0, 3.0) - 3.527 / math.sqrt(2)) < 0.03


def test_au_nanoparticles_gr_and_sq():
    gr = read_measurement(DATA / "au_np_scattbo" / "Experimental_PDF.gr")
    sq_path = DATA / "au_np_scattbo" / "Experimental_Sq.sq"
    sq = read_measurement(sq_path)
    # SOURCE.md: Mo Kα, lambda = 0.7107 Å; G(r) for r 0–30 Å; S(Q) from Q = 2.4 Å^-1, qmax 10
    assert gr.kind == "gr" and gr.x[0] == 0.0 and gr.x[-1] == 30.0
    assert sq.kind == "sq" and sq.x_unit == "inv_angstrom"
    assert 2.4 <= sq.q_inv_angstrom[0] < 2.41 and 9.99 < sq.q_inv_angstrom[-1] <= 10.0
    assert gr.wavelength_angstrom == sq.wavelength_angstrom == 0.7107
    np.testing.assert_array_equal(sq.values, loadtxt_after_marker(sq_path)[:, 1])


def test_cdse_nanoparticles():
    path = DATA / "cdse_np_pdfgui" / "CdSe-3nm.gr"
    m = read_measurement(path)
    reference = loadtxt_after_marker(path)  # SOURCE.md: r, G, dr, dG
    np.testing.assert_array_equal(m.uncertainties, reference[:, 3])
    assert (m.uncertainties > 0).all()
    assert m.wavelength_angstrom == 0.1425  # SOURCE.md: lambda = 0.1425 Å (87.0 keV)
    assert float(meta(m)["header_qmax"]) == 14.0  # SOURCE.md: qmax = 14.0
    assert m.x[0] <= 1.7 and m.x[-1] >= 44.8  # the published fit range 1.7–44.8 Å is inside
    # Cd–Se bonds from the PDFgui fit: z·c = 2.614 Å and 2.638 Å
    assert abs(first_peak_r(m, 2.0, 3.5) - 2.63) < 0.05


def test_alumina_usaxs():
    path = DATA / "alumina_usaxs" / "Alumina_usaxs_irena_input.csv"
    m = read_measurement(path)
    reference = np.loadtxt(path, delimiter=",")  # SOURCE.md: q (Å^-1), I, dI; no header
    assert m.kind == "iq" and m.x_unit == "inv_angstrom" and meta(m)["x_unit_assumed"] == "true"
    np.testing.assert_array_equal(m.x, reference[:, 0])
    np.testing.assert_array_equal(m.uncertainties, reference[:, 2])
    assert m.x[0] == pytest.approx(2.5e-4, rel=0.02)  # "about 2.5e-4"
    # SOURCE.md: Irena fit points 13–94 (0-based) are q 0.00068801–0.10604 Å^-1.  (The file
    # itself runs on to 0.676 Å^-1, past the "about 0.1" upper end SOURCE.md gives.)
    assert m.x[13] == pytest.approx(0.00068801, rel=1e-5)
    assert m.x[94] == pytest.approx(0.10604, rel=1e-4)


def test_unsupported_x_label_can_be_overridden_explicitly():
    m = read("# 2th_rad I\n0.1 1\n0.2 2\n", "rad.dat", x_unit="inv_angstrom")
    assert m.x.tolist() == [0.1, 0.2] and "2th_rad" in meta(m)["x_unit_conflict"]


def test_nxcansas_unsupported_q_units():
    data = nxcansas_bytes([0.1, 0.2], [1, 2], q_units="1/m")
    assert "Q units '1/m'" in nxcansas_error(data)
    m = read_measurement_bytes(data, "x.h5", x_unit="inv_nm")
    assert m.x.tolist() == [0.01, 0.02] and "1/m" in meta(m)["x_unit_conflict"]


def test_unit_statement_in_the_header():
    m = read("# x_unit: 1/nm\n5 1\n10 2\n", "stated.dat")
    assert m.x.tolist() == [0.5, 1.0] and meta(m)["x_unit_source"] == "header line 1"


def test_two_theta_with_header_energy():
    m = read("# energy = 12.398419843320026 keV\n# 2th_deg I\n60 1\n90 2\n", "e.xy")
    assert m.wavelength_angstrom == pytest.approx(1.0, rel=1e-15)
    assert m.x[0] == pytest.approx(2 * math.pi, rel=1e-14)


def test_two_theta_with_contradicting_header_wavelengths():
    text = "# wavelength = 1.0\n# energy = 20 keV\n# 2th_deg I\n60 1\n90 2\n"
    with pytest.raises(SwaxsInputError, match=r"w\.xy: the header states two wavelengths.*line 1.*line 2"):
        read(text, "w.xy")
    assert read(text, "w.xy", wavelength_angstrom=1.0).x[0] == pytest.approx(2 * math.pi, rel=1e-14)
