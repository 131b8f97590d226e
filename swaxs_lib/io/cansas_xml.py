"""canSAS 1D XML (``.xml``): SASroot/SASentry/SASdata/Idata points with Q, I, Idev, Qdev.

The namespace is ``urn:cansas1d:1.0``, ``urn:cansas1d:1.1``, the older ``cansas1d/1.0``, or
none.  The first SASentry and its first SASdata are read; how many there were is recorded
(``cansas_entries``, ``cansas_sasdata``).  Q's ``unit`` attribute (``1/A``, ``A^-1``, ``1/nm``,
``nm^-1``) is the unit statement; I and Idev are kept as stored (their unit is recorded as
``y_unit``).  Idev becomes the uncertainty; Qdev (the 1-σ Gaussian Q resolution) becomes the
x resolution when every point has it (``resolution_column``); slit resolutions dQw and dQl are
dropped and recorded in ``dropped_columns``.  Title and Run become header lines.

The XML is untrusted: it is parsed with :func:`defusedxml.ElementTree.fromstring`, which
refuses entity declarations (billion laughs) and external references.

References
----------
canSAS 1D XML format, version 1.1, https://www.cansas.org/formats/canSAS1d/1.1/doc/
"""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_et
import numpy as np
from defusedxml import DefusedXmlException

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.raw import RawCurve
from swaxs_lib.io.units import parse_label

#: Namespaces read ("" is none).
NAMESPACES = ("urn:cansas1d:1.1", "urn:cansas1d:1.0", "cansas1d/1.0", "")

_RESOLUTIONS = ("Qdev", "dQw", "dQl")


def is_xml(data: bytes) -> bool:
    """Whether ``data`` starts like an XML document (after a byte-order mark or blanks).

    Examples
    --------
    >>> is_xml(b'<?xml version="1.0"?><SASroot/>'), is_xml(b"0.1 1\\n")
    (True, False)
    """
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"<?xml", b"<SASroot", b"\xff\xfe<", b"\xfe\xff\x00<"))


def _split(tag) -> tuple[str, str]:
    if not isinstance(tag, str):  # comments and processing instructions
        return "", ""
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _children(parent: Element, name: str) -> list[Element]:
    return [child for child in parent if _split(child.tag)[1] == name]


def read_cansas_xml(data: bytes, filename: str) -> RawCurve:
    """Read the first SASentry/SASdata of a canSAS 1D XML file.

    Parameters
    ----------
    data : bytes
        The file content.
    filename : str
        For messages.

    Returns
    -------
    RawCurve
        Q as stored, with Q's ``unit`` attribute as the unit statement; Idev as ``dy``.

    Raises
    ------
    SwaxsInputError
        Malformed XML (with its line), entity declarations or external references, a root
        other than SASroot, an unknown namespace, no SASentry/SASdata/Idata, an Idata
        without Q or I, non-numeric values, Idev on some points only, I units that differ.

    Examples
    --------
    >>> point = '<Idata><Q unit="1/nm">{}</Q><I>{}</I></Idata>'
    >>> xml = f"<SASroot><SASentry><SASdata>{point.format(1, 5)}{point.format(2, 4)}</SASdata></SASentry></SASroot>"
    >>> raw = read_cansas_xml(xml.encode(), "a.xml")
    >>> raw.x.tolist(), raw.unit_statements[0][0]
    ([1.0, 2.0], 'inv_nm')
    """
    try:
        root = safe_et.fromstring(data)
    except DefusedXmlException as exc:
        raise SwaxsInputError(
            f"{filename}: XML refused ({type(exc).__name__}: entity declarations and external references "
            "are not read); expected a canSAS 1D XML file without a DTD"
        ) from None
    except ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        where = f"line {line}: " if line else ""
        raise SwaxsInputError(f"{filename}: {where}malformed XML ({exc}); expected a canSAS 1D XML file") from None
    except (ValueError, UnicodeError, OverflowError) as exc:
        raise SwaxsInputError(f"{filename}: unreadable XML ({exc}); expected a canSAS 1D XML file") from None

    namespace, local = _split(root.tag)
    if local != "SASroot":
        raise SwaxsInputError(f"{filename}: XML root element {local!r}; expected canSAS XML <SASroot>")
    if namespace not in NAMESPACES:
        raise SwaxsInputError(
            f"{filename}: XML namespace {namespace!r}; expected one of {', '.join(repr(n) for n in NAMESPACES)}"
        )
    entries = _children(root, "SASentry")
    if not entries:
        raise SwaxsInputError(f"{filename}: canSAS XML without a SASentry; expected SASroot/SASentry/SASdata")
    entry = entries[0]
    sasdata = _children(entry, "SASdata")
    if not sasdata:
        raise SwaxsInputError(f"{filename}: canSAS XML SASentry 1 has no SASdata; expected SASentry/SASdata/Idata")
    points = _children(sasdata[0], "Idata")
    origin = "SASentry 1/SASdata 1/Idata"

    q, intensity, idev, qdev = [], [], [], []
    units: dict[str, dict[str, int]] = {"Q": {}, "I": {}, "Idev": {}, "Qdev": {}}
    dropped = set()
    for index, point in enumerate(points, start=1):
        row = {}
        for name in ("Q", "I", "Idev", "Qdev"):
            found = _children(point, name)
            if not found:
                continue
            text = (found[0].text or "").strip()
            try:
                row[name] = float(text)
            except ValueError:
                raise SwaxsInputError(
                    f"{filename}: point {index} of {origin}: {name} = {text[:40]!r}; expected a number"
                ) from None
            unit = (found[0].get("unit") or "").strip()
            units[name].setdefault(unit, index)
        for name in ("Q", "I"):
            if name not in row:
                raise SwaxsInputError(f"{filename}: point {index} of {origin} has no {name}; expected Q and I")
        if index == 1:
            with_idev = "Idev" in row
        elif ("Idev" in row) != with_idev:
            raise SwaxsInputError(
                f"{filename}: point {index} of {origin} {'has' if 'Idev' in row else 'lacks'} Idev unlike point 1; "
                "expected Idev on every point or on none"
            )
        q.append(row["Q"])
        intensity.append(row["I"])
        if "Idev" in row:
            idev.append(row["Idev"])
        qdev.append(row.get("Qdev", np.nan))
        dropped.update(name for name in _RESOLUTIONS if _children(point, name))

    for name in ("I", "Idev"):
        if len(units[name]) > 1:
            said = ", ".join(f"{u!r} (point {i})" for u, i in units[name].items())
            raise SwaxsInputError(f"{filename}: {origin}: {name} units differ: {said}; expected one unit")
    y_units = set(units["I"]) | set(units["Idev"])
    if len(y_units) > 1:
        raise SwaxsInputError(
            f"{filename}: {origin}: I in {sorted(units['I'])[0]!r} but Idev in {sorted(units['Idev'])[0]!r}; "
            "expected the same unit"
        )

    statements = []
    unsupported = None
    for unit, index in units["Q"].items():
        if not unit:
            continue
        where = f"point {index} of {origin} (Q unit)"
        parsed = parse_label(unit, bare_unit=True)
        if parsed.unsupported or not parsed.units:
            unsupported = unsupported or (where, f"Q unit {unit!r}")
        statements += [(u, where, unit) for u in parsed.units]

    dx = np.asarray(qdev, dtype=float)
    # Qdev is kept when every point has it in Q's unit; otherwise it is dropped, as before
    if "Qdev" in dropped and np.all(np.isfinite(dx)) and set(units["Qdev"]) <= set(units["Q"]) | {""}:
        dropped.discard("Qdev")
    else:
        dx = None
    metadata = [("format", "canSAS XML"), ("cansas_namespace", namespace or "none")]
    metadata += [("cansas_entries", str(len(entries))), ("cansas_sasdata", str(len(sasdata)))]
    if y_units - {""}:
        metadata.append(("y_unit", next(iter(y_units))))
    if idev:
        metadata.append(("uncertainty_column", "Idev"))
    if dx is not None:
        metadata.append(("resolution_column", "Qdev"))
    if dropped:
        names = ", ".join(n for n in _RESOLUTIONS if n in dropped)
        metadata.append(("dropped_columns", f"{names} (Q resolution, not an uncertainty of I)"))
    header = []
    for name in ("Title", "Run"):
        for element in _children(entry, name):
            text = " ".join((element.text or "").split())[:500]
            if text:
                header.append(f"{name.lower()}: {text}")
                metadata.append((name.lower(), text))
    return RawCurve(
        x=np.asarray(q, dtype=float),
        y=np.asarray(intensity, dtype=float),
        dy=np.asarray(idev, dtype=float) if idev else None,
        point_origin=origin,
        header=tuple(header),
        x_label=f"Q ({next(iter(units['Q']))})" if units["Q"] else "Q",
        x_quantity="q",
        unit_statements=statements,
        metadata=metadata,
        x_unsupported=unsupported,
        dx=dx,
    )
