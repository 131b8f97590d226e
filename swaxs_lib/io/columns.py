"""From a parsed text table to a curve: which column is what, and what the header says.

See :mod:`swaxs_lib.io.readers` for the rules (column roles, unit statements, wavelengths).
"""

from __future__ import annotations

import re

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.raw import RawCurve
from swaxs_lib.io.text import _KEY_VALUE, TextTable, _label_content, parse_table, split_labels
from swaxs_lib.io.units import header_wavelengths, parse_label

#: PDFgetX extensions and the kind each one holds.
PDF_EXTENSIONS = {".gr": "gr", ".sq": "sq", ".fq": "fq", ".iq": "iq"}

_UNIT_STATEMENT = re.compile(
    r"(?<![a-z])(x[\s_-]*units?|q[\s_-]*units?|r[\s_-]*units?|units?(?:\s+of\s+[qr])?|column\s*1|x[\s_-]*axis)"
    r"\s*[:=]\s*(\S.*?)\s*$",
    re.IGNORECASE,
)
_BARE_UNIT_KEYS = re.compile(r"^(x|q|r)[\s_-]*units?$|^units?\s+of\s+[qr]$", re.IGNORECASE)
_X_RESOLUTION = re.compile(
    r"^(?:<dx>|(?:d|δ|delta|sigma|sig|σ|err(?:or)?|u)[ _-]?(?:q|r|x|2th|tth|2theta)(?![a-z])|[qr]dev\b|dq|res)",
)
_Y_UNCERTAINTY = re.compile(
    r"^(?:<dy>|(?:d|δ|delta|sigma|sig|σ|err(?:or)?|e|std|unc(?:ertainty)?|u)[ _-]?"
    r"(?:i|g|s|f|y|gr|g\(r\)|s\(q\)|f\(q\)|i\(q\)|int(?:ensity)?)?(?![a-z])|idev\b|error|sigma)",
)
_PDF_HEADER_KEYS = re.compile(r"(?<![\w.])(qmin|qmax|qmaxinst|rpoly|mode|outputtype)\s*=\s*([^\s]+)")
_PDF_COMPOSITION = re.compile(r"^\s*#?\s*composition\s*=\s*(\S.*?)\s*$", re.IGNORECASE)


def _column_roles(labels: tuple[str, ...], n_columns: int, pdf_family: bool) -> tuple[int | None, int | None, str]:
    """(uncertainty column, x-resolution column, how decided) for columns 3 and 4."""
    if n_columns == 2:
        return None, None, "x, y"
    if len(labels) == n_columns:
        dy = dx = None
        for index in range(2, n_columns):
            label = re.sub(r"[${}\\\s]", "", labels[index].lower())
            if _X_RESOLUTION.match(label) and dx is None:
                dx = index
            elif _Y_UNCERTAINTY.match(label) and dy is None:
                dy = index
            else:
                dy = dx = None
                break
        if dy is not None or dx is not None:
            if n_columns == 3 or (dy is not None and dx is not None):
                return dy, dx, "from the column labels"
    if n_columns == 3:
        return 2, None, "x, y, dy"
    if pdf_family:
        return 3, 2, "x, y, dx, dy (PDF convention)"
    return 2, 3, "x, y, dy, dx (SasView convention)"


def _label_line_units(line: str, table: TextTable) -> tuple[str, ...]:
    """The x units of a header line that names the columns (``# q(nm-1) I(a.u.)``) but is not the last line
    before the data: as many labels as columns, the first with a unit.  Read like the label line itself, so
    that a unit stated this way counts wherever the line stands (another comment after it, or before it,
    must not decide whether Q is read in 1/nm or 1/Å)."""
    content = _label_content(line)
    if not content or _KEY_VALUE.match(content) or content.startswith("-->"):
        return ()
    labels = split_labels(content, table.separator)
    if len(labels) < 2 or len(labels) != table.values.shape[1]:
        return ()
    return parse_label(labels[0]).units


def curve_from_text(data: bytes, filename: str, extension: str, kind_arg: str | None) -> RawCurve:
    """Parse column text and name its columns; see :mod:`swaxs_lib.io.readers`."""
    table: TextTable = parse_table(data, filename, fit2d_chi=(extension == ".chi"))
    metadata: list[tuple[str, str]] = []
    n_rows, n_columns = table.values.shape
    if table.declared_points is not None and table.declared_points != n_rows:
        raise SwaxsInputError(
            f"{filename}: line 4 declares {table.declared_points} points but {n_rows} data rows follow; "
            "expected as many rows as declared (truncated file?)"
        )

    x_label = table.labels[0] if table.labels else None
    x_quantity = None
    x_unsupported = None
    statements: list[tuple[str, str, str]] = []
    if x_label is not None:
        parsed = parse_label(x_label)
        if parsed.unsupported:
            x_unsupported = (f"line {table.label_line}", f"x column {parsed.unsupported!r}")
        x_quantity = parsed.quantity
        statements += [(u, f"line {table.label_line}", x_label) for u in parsed.units]
    wavelengths: list[tuple[float, str, str]] = []
    pdf_keys: dict[str, str] = {}
    for line_number, line in table.header_lines:
        match = _UNIT_STATEMENT.search(line)
        if match and line_number != table.label_line:
            parsed = parse_label(match.group(2), bare_unit=bool(_BARE_UNIT_KEYS.match(match.group(1).strip())))
            statements += [(u, f"line {line_number}", line.strip()) for u in parsed.units]
        elif line_number != table.label_line:
            statements += [(u, f"line {line_number}", line.strip()) for u in _label_line_units(line, table)]
        for value, said in header_wavelengths(line):
            wavelengths.append((value, f"line {line_number}", said))
        for key, value in _PDF_HEADER_KEYS.findall(line):
            pdf_keys.setdefault(key.lower(), value)
        composition = _PDF_COMPOSITION.match(line)
        if composition:
            pdf_keys.setdefault("composition", composition.group(1))

    pdf_family = extension in PDF_EXTENSIONS or table.start_marker or kind_arg == "gr" or x_quantity == "r"
    dy_index, dx_index, roles = _column_roles(table.labels, n_columns, pdf_family)
    if table.labels:
        metadata.append(("columns", " | ".join(table.labels)))
    metadata.append(("column_roles", roles))
    if dx_index is not None:
        what = table.labels[dx_index] if len(table.labels) == n_columns else f"column {dx_index + 1}"
        if pdf_family:  # dr of PDFgetX2/PDFgui: not a Q resolution
            metadata.append(("dropped_columns", f"{what} (x resolution, not an uncertainty of y)"))
        else:  # SasView's dQ: the 1-σ Q resolution, kept
            metadata.append(("resolution_column", f"{what} (1-σ Q resolution)"))
    metadata.append(("separator", table.separator))
    if table.decimal_comma:
        metadata.append(("decimal_comma", "true"))
    if table.encoding not in ("utf-8",):
        metadata.append(("encoding", table.encoding))
    if pdf_family and table.start_marker:
        metadata.append(("format", "PDFgetX"))
    elif table.declared_points is not None:
        metadata.append(("format", "Fit2D chi"))
    elif any("pyfai" in line.lower() for line in table.header):
        metadata.append(("format", "pyFAI"))
    else:
        metadata.append(("format", "text"))
    if pdf_family:
        metadata += [(f"header_{key}", value) for key, value in pdf_keys.items()]

    columns = table.values
    return RawCurve(
        x=columns[:, 0],
        y=columns[:, 1],
        dy=None if dy_index is None else columns[:, dy_index],
        dx=None if dx_index is None or pdf_family else columns[:, dx_index],
        line_numbers=table.line_numbers,
        header=table.header,
        x_label=x_label,
        x_quantity=x_quantity,
        unit_statements=statements,
        wavelengths=wavelengths,
        metadata=metadata,
        pdf_family=pdf_family,
        x_unsupported=x_unsupported,
    )
