"""Tables as CSV text: the one format every download and ``--out`` file uses.

Column names carry their units (``q_inv_angstrom``, ``r_angstrom``,
``intensity``, ``g``); numbers are written with 12 significant digits, so a
float64 read back differs by at most 5e-12 relative.

>>> print(csv_text({"q_inv_angstrom": [0.1, 0.2], "intensity": [10.0, 5.5]}), end="")
q_inv_angstrom,intensity
0.1,10
0.2,5.5
"""

from __future__ import annotations

import io
from typing import Any, Mapping

import numpy as np

from swaxs_lib.errors import SwaxsInputError


def csv_text(columns: Mapping[str, Any]) -> str:
    """Equal-length columns as CSV text with a header row of their names.

    Parameters
    ----------
    columns : mapping of str to array_like
        Name (with its unit) to values; numbers are written with ``%.12g``,
        anything else (text, ``None``) as its ``str`` with commas and quotes escaped.

    Returns
    -------
    str
        Header line, then one line per row, each ending in a newline.

    Raises
    ------
    SwaxsInputError
        No columns, or columns of different lengths.
    """
    if not columns:
        raise SwaxsInputError("columns: got none; expected at least one column")
    arrays = {name: np.asarray(values) for name, values in columns.items()}
    lengths = {name: len(a) for name, a in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise SwaxsInputError(f"columns: got lengths {lengths}; expected equal lengths")
    out = io.StringIO()
    out.write(",".join(_cell(name) for name in arrays) + "\n")
    n = next(iter(lengths.values()))
    formatters = [_formatter(a) for a in arrays.values()]
    for i in range(n):
        out.write(",".join(fmt(a[i]) for fmt, a in zip(formatters, arrays.values())) + "\n")
    return out.getvalue()


def _formatter(array: np.ndarray):
    if array.dtype.kind in "fiub":
        return lambda v: "%.12g" % v
    return lambda v: "" if v is None else _cell(str(v))


def _cell(text: str) -> str:
    if any(c in text for c in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text
