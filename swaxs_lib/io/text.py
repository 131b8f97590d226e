"""Column text: decode the bytes, find the header and the data block, parse the numbers.

What counts as what:

* Text is UTF-8 (a UTF-8 or UTF-16 byte-order mark is honoured); bytes that are not UTF-8
  are read as Windows-1252 when that decodes them without control characters (old files
  write Å as 0xC5).
  NUL bytes or other control characters mean a binary file, which is refused.
* Lines end in ``\\n``, ``\\r\\n`` or ``\\r``; line numbers in messages are 1-based.
* Comment lines start with ``#``, ``!`` or ``;``; a ``#`` after the numbers starts an inline
  comment.  A PDFgetX-style ``#### start data`` line ends
  the header.  Otherwise the header is every line before the first line made only of
  numbers; a Fit2D ``.chi`` file has a four-line header (title, x label, y label, point
  count).  Once the data begin, every line that is neither blank nor a comment must be a
  row of numbers: a stray line is an error naming it, never silently skipped.
* Separators: ``;`` if any data line has one (then ``0,5`` is a decimal comma); else ``,`` if
  any has one, except when every line with a comma reads as whitespace-separated numbers
  with decimal commas (``0,5 12,3`` or ``0,5<TAB>12,3``, and no ``.`` in the data); else
  whitespace (spaces or tabs).
* Column labels are taken from the last non-blank line before the data (``#L r G(r)``,
  ``# q_nm^-1 I sigma``, ``Q,I,dI``), when it is not a ``key = value`` line.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import numpy as np

from swaxs_lib.errors import SwaxsInputError

_START_MARKER = re.compile(r"^\s*#+\s*start\s+data\b", re.IGNORECASE)
_COMMENT_START = ("#", "!", ";")
_NUMBER = re.compile(r"[+-]?(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eEdD][+-]?[0-9]+)?|nan|inf(?:inity)?)", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
_CHI_COUNT = re.compile(r"^\s*([0-9]+)(?:\s+[0-9]+)?\s*$")
_KEY_VALUE = re.compile(r"^[^=:]*[A-Za-z][^=:]*(?:=|:\s)")

SEPARATOR_TEXT = {"whitespace": "whitespace", "comma": "commas", "semicolon": "semicolons"}

#: Most lines a column text file may have, counted on the bytes before anything is split or decoded.
#: A reduced curve has 10^3-10^5 points (an integrated detector image ~10^4, a PDF r grid 0.01 Å to
#: 100 Å 10^4); 2*10^6 is 20x the largest, and about what the 50 MB size bound holds of short rows.
#: 24 M comment lines (48 MB) took 68 s and 3.2 GB before this bound.
MAX_TEXT_LINES = 2_000_000
#: Most non-data lines (header and comments, anywhere in the file) kept, and their characters in all:
#: they are stored with the curve.  PDFgetX3 and SPEC headers run to a few hundred lines.
MAX_HEADER_LINES = 10_000
MAX_HEADER_CHARS = 1_000_000


@dataclass(frozen=True)
class TextTable:
    """The numbers of a column text file and what its header said.

    Attributes
    ----------
    values : numpy.ndarray (n_rows, n_columns)
        Every data row, as read (no unit conversion).
    line_numbers : numpy.ndarray (n_rows,)
        1-based line number of each row.
    header : tuple of str
        Every non-data line that is not blank (header and comment lines), verbatim.
    header_lines : tuple of (int, str)
        The same lines with their line numbers.
    labels : tuple of str
        Column labels, or ``()`` when the file has none.
    label_line : int or None
        Line the labels came from.
    separator : {"whitespace", "comma", "semicolon"}
    decimal_comma : bool
        Whether ``0,5`` was read as 0.5.
    start_marker : bool
        Whether the file has a PDFgetX ``start data`` line.
    declared_points : int or None
        The point count of a Fit2D ``.chi`` header.
    encoding : str
    """

    values: np.ndarray
    line_numbers: np.ndarray
    header: tuple[str, ...]
    header_lines: tuple[tuple[int, str], ...]
    labels: tuple[str, ...]
    label_line: int | None
    separator: str
    decimal_comma: bool
    start_marker: bool
    declared_points: int | None
    encoding: str


def decode_text(data: bytes, filename: str) -> tuple[str, str]:
    """Decode a text file, refusing binary content.

    Parameters
    ----------
    data : bytes
    filename : str
        For messages.

    Returns
    -------
    (str, str)
        The text and the encoding used.

    Raises
    ------
    SwaxsInputError
        Empty or binary (NUL or control bytes, undecodable) content.

    Examples
    --------
    >>> decode_text(b"\\xef\\xbb\\xbf0 1\\r\\n", "a.txt")
    ('0 1\\r\\n', 'utf-8-sig')
    """
    if not data.strip():
        raise SwaxsInputError(f"{filename}: the file is empty; expected columns of numbers")
    encoding = "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        data, encoding = data[len(codecs.BOM_UTF8) :], "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return _check_controls(data.decode("utf-16"), filename), "utf-16"
        except UnicodeDecodeError as exc:
            raise SwaxsInputError(
                f"{filename}: starts with a UTF-16 byte-order mark but is not UTF-16 text ({exc.reason}); "
                "expected a text file"
            ) from None
    nul = data.find(b"\x00")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        raise SwaxsInputError(
            f"{filename}: line {line}: NUL byte at offset {nul}: this is a binary file; "
            "expected a text file of columns (or an HDF5 .h5/.nxs file)"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # Windows-1252 (a superset of Latin-1's printable range) is accepted for text-like bytes:
        # no byte it leaves undefined and no control characters.
        line = data.count(b"\n", 0, exc.start) + 1
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = None
        if text is None or _CONTROL.search(text) is not None:
            raise SwaxsInputError(
                f"{filename}: line {line}: byte 0x{data[exc.start]:02x} at offset {exc.start} is not UTF-8 "
                "and the file is not Windows-1252 text either: this is a binary file; "
                "expected a text file of columns"
            ) from None
        encoding = "cp1252"
    return _check_controls(text, filename), encoding


def _check_controls(text: str, filename: str) -> str:
    bad = _CONTROL.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise SwaxsInputError(
            f"{filename}: line {line}: control character {bad.group()!r}: this is a binary file; "
            "expected a text file of columns"
        )
    return text


def split_lines(text: str) -> list[str]:
    """Split on ``\\r\\n``, ``\\r`` or ``\\n`` (only those, so line numbers match an editor's)."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _is_comment(line: str) -> bool:
    return line.lstrip().startswith(_COMMENT_START)


def _without_inline_comment(line: str) -> str:
    return line.split("#", 1)[0]


def _decimal(token: str) -> str:
    if token.count(",") == 1 and "." not in token:
        return token.replace(",", ".")
    return token


def _tokens(line: str, separator: str, decimal_comma: bool) -> list[str]:
    stripped = line.split("#", 1)[0].strip()  # an inline "# ..." comment ends the row
    if separator == "semicolon":
        parts = [_decimal(p.strip()) for p in stripped.split(";")]
    elif separator == "comma":
        parts = [p.strip() for p in stripped.split(",")]
    else:
        parts = stripped.split()
        if decimal_comma:
            parts = [_decimal(p) for p in parts]
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # one trailing separator, as spreadsheets write
    return parts


def _numbers(tokens: list[str]) -> list[float] | None:
    out = []
    for token in tokens:
        if not _NUMBER.fullmatch(token):
            return None
        out.append(float(token.replace("d", "e").replace("D", "e")))
    return out


def _row_separator_guess(line: str) -> list[float] | None:
    """Numbers on a line under any separator (used only to find where the data start)."""
    candidates = []
    if ";" in line:
        candidates.append(("semicolon", False))
    if "," in line:
        candidates += [("whitespace", True), ("comma", False)]
    candidates.append(("whitespace", False))
    for separator, decimal_comma in candidates:
        values = _numbers(_tokens(line, separator, decimal_comma))
        if values:
            return values
    return None


def _decimal_comma_shape(line: str) -> bool:
    tokens = line.split()
    return (
        len(tokens) >= 2
        and "." not in line
        and all(t.count(",") <= 1 and not t.startswith(",") and not t.endswith(",") for t in tokens)
    )


def _choose_separator(data_lines: list[str]) -> tuple[str, bool]:
    if any(";" in line for line in data_lines):
        return "semicolon", False
    with_comma = [line for line in data_lines if "," in line]
    if not with_comma:
        return "whitespace", False
    if all(_decimal_comma_shape(line) for line in with_comma) and not any("." in line for line in data_lines):
        return "whitespace", True
    return "comma", False


def _label_content(line: str) -> str:
    content = line.strip()
    if re.match(r"#L\s", content):  # SPEC-style column line, as PDFgetX writes it
        return content[2:].strip()
    return content.lstrip("#!;").strip()


def split_labels(content: str, separator: str) -> tuple[str, ...]:
    """Split a column-label line into one label per column.

    Units in brackets stay with their name: ``Q (1/nm)  I (a.u.)`` gives two labels.

    Examples
    --------
    >>> split_labels("Q (1/nm)  I (a.u.)  dI", "whitespace")
    ('Q (1/nm)', 'I (a.u.)', 'dI')
    >>> split_labels("q_nm^-1 I sigma", "whitespace")
    ('q_nm^-1', 'I', 'sigma')
    """
    if separator == "semicolon" and ";" in content:
        parts = content.split(";")
    elif separator == "comma" and "," in content:
        parts = content.split(",")
    elif "\t" in content.strip():
        parts = content.split("\t")
    else:
        parts = []
        for word in content.split():
            previous = parts[-1] if parts else ""
            if parts and (
                word[0] in "([{/"
                or previous.endswith("/")
                or previous.count("(") > previous.count(")")
                or previous.count("[") > previous.count("]")
            ):
                parts[-1] = f"{previous} {word}"
            else:
                parts.append(word)
    return tuple(p.strip() for p in parts if p.strip())


def _fit2d_chi_header(lines: list[str]) -> int | None:
    """Point count of a Fit2D .chi header (title, x label, y label, count), or None."""
    if len(lines) < 5:
        return None
    head = lines[:4]
    if any(_is_comment(line) for line in head[:3]):
        return None
    if _row_separator_guess(head[1]) is not None or _row_separator_guess(head[2]) is not None:
        return None
    match = _CHI_COUNT.match(head[3])
    return int(match.group(1)) if match else None


class _HeaderLines(list):
    """The (line number, line) pairs of the header and comments, refusing more than the bounds."""

    def __init__(self, filename: str) -> None:
        super().__init__()
        self.filename, self.chars = filename, 0

    def append(self, item: tuple[int, str]) -> None:
        self.chars += len(item[1])
        if len(self) >= MAX_HEADER_LINES:
            raise SwaxsInputError(f"{self.filename}: line {item[0]}: over {MAX_HEADER_LINES} header and comment "
                                  f"lines; expected at most {MAX_HEADER_LINES}")
        if self.chars > MAX_HEADER_CHARS:
            raise SwaxsInputError(f"{self.filename}: line {item[0]}: header and comment lines of over "
                                  f"{MAX_HEADER_CHARS} characters; expected at most {MAX_HEADER_CHARS}")
        super().append(item)

    def extend(self, items) -> None:
        for item in items:
            self.append(item)


def parse_table(data: bytes, filename: str, *, fit2d_chi: bool = False) -> TextTable:
    """Parse a column text file.

    Parameters
    ----------
    data : bytes
        The file content.
    filename : str
        For messages.
    fit2d_chi : bool
        Look for the Fit2D ``.chi`` four-line header.

    Returns
    -------
    TextTable

    Raises
    ------
    SwaxsInputError
        Binary or empty content; no data; a line that is not numbers once the data began
        (naming it); a row with a different number of columns than the first (truncated
        files); fewer than 2 or more than 4 columns; more than :data:`MAX_TEXT_LINES` lines, or a
        header over :data:`MAX_HEADER_LINES` lines or :data:`MAX_HEADER_CHARS` characters.

    Examples
    --------
    >>> table = parse_table(b"# q_nm^-1 I\\n1,5;2\\n2,5;3\\n", "a.csv")
    >>> table.values.tolist(), table.labels, table.separator
    ([[1.5, 2.0], [2.5, 3.0]], ('q_nm^-1', 'I'), 'semicolon')
    """
    n_lines = max(data.count(b"\n"), data.count(b"\r")) + 1
    if n_lines > MAX_TEXT_LINES:
        raise SwaxsInputError(f"{filename}: {n_lines} lines; expected at most {MAX_TEXT_LINES} "
                              "(one curve: a header and rows of numbers)")
    text, encoding = decode_text(data, filename)
    lines = split_lines(text)
    header_lines = _HeaderLines(filename)

    region_start = 0
    start_marker = False
    declared_points = None
    chi_labels: tuple[str, ...] = ()
    if fit2d_chi:
        declared_points = _fit2d_chi_header(lines)
        if declared_points is not None:
            header_lines.extend((i + 1, lines[i]) for i in range(4))
            chi_labels = (lines[1].strip(), lines[2].strip())
            region_start = 4
    if declared_points is None:
        for index, line in enumerate(lines):
            if _START_MARKER.match(line):
                start_marker = True
                region_start = index + 1
                header_lines.extend((i + 1, lines[i]) for i in range(index + 1) if lines[i].strip())
                break

    first = None
    for index in range(region_start, len(lines)):
        line = lines[index]
        if not line.strip():
            continue
        if not _is_comment(line) and _row_separator_guess(line) is not None:
            first = index
            break
        header_lines.append((index + 1, line))
    if first is None:
        where = " after the 'start data' line" if start_marker else ""
        raise SwaxsInputError(
            f"{filename}: no line of numbers{where} ({len(lines)} lines read); "
            "expected rows of 2 to 4 numbers (x, y[, dy[, dx]])"
        )

    data_lines = [_without_inline_comment(line) for line in lines[first:] if line.strip() and not _is_comment(line)]
    separator, decimal_comma = _choose_separator(data_lines)

    labels: tuple[str, ...] = chi_labels
    label_line = 2 if chi_labels else None
    if not chi_labels:
        for line_number, line in reversed(header_lines):
            if line_number <= region_start and start_marker:
                break
            content = _label_content(line)
            if content and not _KEY_VALUE.match(content) and not content.startswith("-->"):
                labels = split_labels(content, separator)
                label_line = line_number
            break

    rows: list[list[float]] = []
    row_lines: list[int] = []
    n_columns = 0
    first_line = first + 1
    for index in range(first, len(lines)):
        line = lines[index]
        if not line.strip():
            continue
        if _is_comment(line):
            header_lines.append((index + 1, line))
            continue
        tokens = _tokens(line, separator, decimal_comma)
        values = _numbers(tokens)
        if values is None:
            bad = next(t for t in tokens if not _NUMBER.fullmatch(t))
            raise SwaxsInputError(
                f"{filename}: line {index + 1}: {bad[:40]!r} is not a number; expected "
                f"{n_columns or 'rows of'} numbers separated by {SEPARATOR_TEXT[separator]}"
                + (" with decimal commas" if decimal_comma else "")
                + (f" as on line {first_line}" if n_columns else "")
            )
        if not rows:
            n_columns = len(values)
            if n_columns < 2:
                raise SwaxsInputError(
                    f"{filename}: line {index + 1}: one column ({line.strip()[:40]!r}); "
                    "expected at least 2 columns (x, y)"
                )
            if n_columns > 4:
                raise SwaxsInputError(
                    f"{filename}: line {index + 1}: {n_columns} columns; expected 2 to 4 (x, y[, dy[, dx]])"
                )
        elif len(values) != n_columns:
            raise SwaxsInputError(
                f"{filename}: line {index + 1}: {len(values)} values; expected {n_columns} "
                f"as on line {first_line} (truncated or malformed row)"
            )
        rows.append(values)
        row_lines.append(index + 1)

    return TextTable(
        values=np.asarray(rows, dtype=float),
        line_numbers=np.asarray(row_lines, dtype=int),
        header=tuple(line for _, line in header_lines),
        header_lines=tuple(header_lines),
        labels=labels,
        label_line=label_line,
        separator=separator,
        decimal_comma=decimal_comma,
        start_marker=start_marker,
        declared_points=declared_points,
        encoding=encoding,
    )
