"""canSAS 1D XML reading: a measured SANS file, unit conversion, and unsafe or malformed XML.

Reference facts for Ludox_silica.xml come from tests/data/ludox_silica_sans/SOURCE.md (Q in
1/Å, I and Idev in 1/cm, a structure-factor peak near Q ≈ 0.02 1/Å) and from the file itself,
read here with regular expressions, independently of the reader.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import read_measurement, read_measurement_bytes

LUDOX = Path(__file__).parent / "data" / "ludox_silica_sans" / "Ludox_silica.xml"


def cansas(points: list[tuple], *, namespace: str | None = "urn:cansas1d:1.1", q_unit: str = "1/A") -> bytes:
    """A small canSAS XML file; each point is (Q, I) or (Q, I, Idev)."""
    rows = []
    for point in points:
        idev = f'<Idev unit="1/cm">{point[2]}</Idev>' if len(point) > 2 else ""
        rows.append(
            f'<Idata><Q unit="{q_unit}">{point[0]}</Q><I unit="1/cm">{point[1]}</I>{idev}'
            f'<Qdev unit="{q_unit}">0.001</Qdev></Idata>'
        )
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    return (
        f'<?xml version="1.0"?>\n<SASroot version="1.1"{xmlns}>\n<SASentry><Title>toy</Title><Run>7</Run>\n'
        f"<SASdata>\n{chr(10).join(rows)}\n</SASdata></SASentry></SASroot>\n"
    ).encode()


def error(data: bytes, filename: str) -> str:
    with pytest.raises(SwaxsInputError) as info:
        read_measurement_bytes(data, filename)
    message = str(info.value)
    assert message.startswith(f"{filename}:") and "expected" in message, message
    return message


def test_ludox_silica_points_units_and_uncertainties():
    text = LUDOX.read_text()
    q_file = [float(v) for v in re.findall(r'<Q unit="1/A">([^<]+)</Q>', text)]
    i_file = [float(v) for v in re.findall(r'<I unit="1/cm">([^<]+)</I>', text)]
    idev_file = [float(v) for v in re.findall(r'<Idev unit="1/cm">([^<]+)</Idev>', text)]
    assert len(re.findall(r"<Idata>", text)) == len(q_file) == len(i_file) == len(idev_file) == 92

    m = read_measurement(LUDOX)
    assert m.kind == "iq" and m.x_unit == "inv_angstrom" and m.n_points == 92
    assert m.x[0] == 0.00714 and m.values[0] == 226.539 and m.uncertainties[0] == 1.93973
    np.testing.assert_array_equal(m.x, q_file)
    np.testing.assert_array_equal(m.values, i_file)
    np.testing.assert_array_equal(m.uncertainties, idev_file)
    meta = dict(m.metadata)
    assert meta["y_unit"] == "1/cm" and meta["uncertainty_column"] == "Idev"
    assert meta["resolution_column"] == "Qdev" and meta["cansas_entries"] == "1"
    qdev_file = [float(v) for v in re.findall(r'<Qdev unit="1/A">([^<]+)</Qdev>', text)]
    np.testing.assert_array_equal(m.x_resolution, qdev_file)  # kept as read (1/Å), for smearing
    assert m.header == ("title: Ludox 1mm M4 TRANS_SANS", "run: 102424")


def test_ludox_structure_factor_peak_near_0p02():
    m = read_measurement(LUDOX)
    window = (m.x >= 0.015) & (m.x <= 0.025)
    q_peak = m.x[window][np.argmax(m.values[window])]
    assert 0.018 < q_peak < 0.022
    # A peak, not a window edge: I falls on both sides within the window.
    assert m.values[window][0] < m.values[window].max() > m.values[window][-1]


@pytest.mark.parametrize("unit", ["1/nm", "nm^-1"])
def test_inverse_nm_is_divided_by_ten(unit):
    m = read_measurement_bytes(cansas([(0.1, 10, 1), (0.5, 5, 0.5), (2.0, 1, 0.1)], q_unit=unit), "nm.xml")
    assert m.x_unit == "inv_nm"
    np.testing.assert_allclose(m.x, [0.01, 0.05, 0.2], rtol=1e-15)
    assert m.values.tolist() == [10, 5, 1] and m.uncertainties.tolist() == [1, 0.5, 0.1]


@pytest.mark.parametrize("namespace", ["urn:cansas1d:1.0", "urn:cansas1d:1.1", None])
@pytest.mark.parametrize("unit", ["1/A", "A^-1"])
def test_namespaces_and_angstrom_spellings(namespace, unit):
    m = read_measurement_bytes(cansas([(0.02, 3), (0.01, 4)], namespace=namespace, q_unit=unit), "a.xml")
    assert m.x.tolist() == [0.01, 0.02] and m.values.tolist() == [4, 3] and m.uncertainties is None
    assert dict(m.metadata)["x_reversed"] == "true"


def test_first_entry_is_read_and_the_count_recorded():
    one = cansas([(0.01, 4), (0.02, 3)]).decode()
    entry = one[one.index("<SASentry>") : one.index("</SASroot>")]
    second = entry.replace(">4<", ">99<")
    m = read_measurement_bytes(one.replace("</SASroot>", second + "</SASroot>").encode(), "two.xml")
    assert m.values.tolist() == [4, 3] and dict(m.metadata)["cansas_entries"] == "2"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE SASroot [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<SASroot><SASentry><Title>&lol3;</Title></SASentry></SASroot>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE SASroot [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<SASroot><SASentry><Title>&secret;</Title></SASentry></SASroot>
"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion laughs", "external entity"])
def test_entities_are_refused(data):
    assert "XML refused" in error(data, "evil.xml")


@pytest.mark.parametrize(
    "data, fragments",
    [
        (b'<?xml version="1.0"?>\n<SASroot>\n<SASentry>\n</SASroot>', ["line 4", "malformed XML"]),
        (b"", ["malformed XML"]),
        (b"0.1 1\n0.2 2\n", ["malformed XML"]),
        (b"<root/>", ["'root'", "<SASroot>"]),
        (b'<SASroot xmlns="urn:other"/>', ["namespace 'urn:other'"]),
        (b"<SASroot><SASentry/></SASroot>", ["no SASdata"]),
        (cansas([(0.01, 4), (0.02, 3)]).replace(b"<I unit=\"1/cm\">4</I>", b"", 1), ["point 1", "no I"]),
        (cansas([(0.01, 4), (0.02, "abc")]), ["point 2", "'abc'", "a number"]),
        (cansas([(0.01, 4), (0.02, "nan")]), ["point 2", "y = nan", "finite"]),
        (cansas([(0.01, 4, 1), (0.02, 3)]), ["point 2", "lacks Idev"]),
        (cansas([(0.01, 4), (0.01, 3)]), ["point 2", "repeats"]),
        (cansas([(0.01, 4), (0.02, 3)], q_unit="1/m"), ["'1/m'", "expected Q"]),
    ],
    ids=["unclosed", "empty", "text", "root", "namespace", "no SASdata", "no I", "junk", "NaN", "Idev", "repeat",
         "1/m"],
)
def test_bad_files_are_one_error_naming_the_file(data, fragments):
    message = error(data, "bad.xml")
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_xml_content_is_read_whatever_the_extension():
    m = read_measurement_bytes(cansas([(0.01, 4), (0.02, 3)]), "renamed.dat")
    assert dict(m.metadata)["format"] == "canSAS XML"
