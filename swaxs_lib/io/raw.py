"""What a format reader hands to the common checks: columns as read, and what the file said."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class RawCurve:
    """A curve before unit conversion and checks.

    Attributes
    ----------
    x, y : numpy.ndarray (n,)
        Abscissa in the file's unit, and values.
    dy : numpy.ndarray (n,) or None
        Uncertainty column of ``y``, when the file has one.
    dx : numpy.ndarray (n,) or None
        Q resolution (1-σ dQ, in the file's Q unit), when a Q-space file has one.
    line_numbers : numpy.ndarray (n,) or None
        1-based line of each point in a text file; None for HDF5.
    point_origin : str
        Where points live when there are no lines (an HDF5 dataset path).
    header : tuple of str
        Header and comment lines, verbatim.
    x_label : str or None
        The abscissa's label or units attribute.
    x_quantity : {"q", "two_theta", "r"} or None
        What the header says the abscissa is.
    unit_statements : list of (str, str, str)
        Every abscissa unit the file states: (unit, where, what it said).
    wavelengths : list of (float, str, str)
        Wavelengths (Å) the file states: (value, where, what it said).
    metadata : list of (str, str)
    pdf_family : bool
        A PDFgetX-style file (``.gr``/``.sq``/``.fq``/``.iq`` or a ``start data`` header).
    x_unsupported : (str, str) or None
        (where, what) when the file gives x as a quantity or unit we do not read; an error
        unless the caller sets ``x_unit``.
    """

    x: np.ndarray
    y: np.ndarray
    dy: np.ndarray | None
    line_numbers: np.ndarray | None = None
    point_origin: str = ""
    header: tuple[str, ...] = ()
    x_label: str | None = None
    x_quantity: str | None = None
    unit_statements: list[tuple[str, str, str]] = field(default_factory=list)
    wavelengths: list[tuple[float, str, str]] = field(default_factory=list)
    metadata: list[tuple[str, str]] = field(default_factory=list)
    pdf_family: bool = False
    x_unsupported: tuple[str, str] | None = None
    dx: np.ndarray | None = None

    def where(self, index: int) -> str:
        """``"line 12"`` for text, ``"point 3 of /entry/data/Q"`` for HDF5."""
        if self.line_numbers is not None:
            return f"line {int(self.line_numbers[index])}"
        return f"point {index + 1} of {self.point_origin}"
