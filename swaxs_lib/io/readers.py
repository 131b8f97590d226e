"""Read a measured curve from a file (or its bytes) into a :class:`Measurement`.

Formats
-------
* Plain column text (``.txt``, ``.dat``, ``.csv``, ``.xy``, ``.xye``, anything else that is
  text): 2 to 4 columns separated by whitespace, tabs, commas or semicolons, ``#``/``!``/``;``
  comments, an optional row of column names, Windows line endings, a UTF-8 byte-order mark,
  decimal commas where unambiguous (see :mod:`swaxs_lib.io.text`).
* PDFgetX2/PDFgetX3/xPDFsuite ``.gr``, ``.sq``, ``.fq``, ``.iq``: the header ends at
  ``#### start data``; the ``#L`` line names the columns.
* pyFAI ``.dat``/``.xy``/``.chi`` (``# 2th_deg I``, ``# q_nm^-1 I sigma``, ``# Wavelength: 1e-10 m``)
  and Fit2D ``.chi`` (title, x label, y label, point count).
* SasView ASCII (Q, I, dI[, dQ]).
* NXcanSAS HDF5 (``.h5``, ``.nxs``, ``.hdf5``, ``.nx``; any file with the HDF5 signature), see
  :mod:`swaxs_lib.io.nxcansas`.
* canSAS 1D XML (``.xml``; any file that starts like XML), see :mod:`swaxs_lib.io.cansas_xml`.

Columns
-------
Column 1 is x and column 2 the values.  A third column is the uncertainty of the values.
With four columns, the column labels decide when they name them (``dI``, ``sigma``,
``Idev``, ``dG`` are uncertainties of the values; ``dQ``, ``dr``, ``d_r``, ``Qdev`` are x
resolutions).  Without labels, PDF files (``.gr``/``.sq``/``.fq``/``.iq``, a ``start data``
header, or ``kind="gr"``) are read as x, y, dx, dy (PDFgetX2, PDFgui) and everything else as
SasView's Q, I, dI, dQ.  An x-resolution column is dropped (``metadata["dropped_columns"]``
says so); an uncertainty is never invented.

Kind
----
``kind`` if given; else the PDFgetX extension (``.gr`` → ``"gr"``, ``.sq`` → ``"sq"``,
``.fq`` → ``"fq"``, ``.iq`` → ``"iq"``); else ``"gr"`` when the header's x column is r; else
``"iq"``.  An explicit kind that differs from the extension wins and is recorded
(``kind_from_extension``).

Unit policy
-----------
The abscissa's unit comes from, in order:

1. ``x_unit=`` (always wins; when the header says something else, the header's unit is
   recorded as ``x_unit_header`` and ``x_unit_conflict``);
2. what the file says: the x column's label (``q_nm^-1``, ``Q (1/nm)``, ``2th_deg``,
   ``r($\\AA$)``, ``r(nm)``, ``Q (Inverse Nanometres)``), a header line such as
   ``# x_unit: 1/nm`` or ``# Column 1: q_A^-1``, or an HDF5 ``units`` attribute.  A line naming
   the columns (``# q(nm-1) I(a.u.)``: as many names as columns, the first with a unit) counts
   wherever it stands in the header, not only as its last line, so that the order of the header's
   lines never changes the unit.  If the file names two different units, that is an error
   ("unit-ambiguous"), naming both lines;
3. nothing stated: Q in 1/Å for Q-space kinds and r in Å for G(r), recorded as
   ``x_unit_assumed = "true"``.  A 2θ label without a unit means degrees (also recorded).

A label that names a quantity or unit we do not read (d-spacing, radians, mm, χ) is an
error.  A header whose x column contradicts the kind (r in a ``.sq`` file, Q with
``kind="gr"``) is an error unless ``x_unit`` is given.

2θ is converted with Q = 4π sin(θ)/λ.  λ comes from ``wavelength_angstrom``, or
``energy_kev`` (λ[Å] = 12.398419843320026 / E[keV]), or else the header (``# Wavelength:
1e-10 m`` is meters, ``wavelength = 0.7107`` and ``lambda=0.1425`` Å, ``energy=87.0`` keV);
without any, reading 2θ is an error.  Headers that state two wavelengths more than 0.5 %
apart are an error when the value is needed; otherwise neither is recorded
(``wavelength_conflict``), whatever the order of the lines.  Header wavelengths are recorded in
:attr:`Measurement.wavelength_angstrom` whenever found (explicit arguments win).

Checks
------
After reading, x must be finite, non-negative (2θ at most 180°), within the physical range once
converted (Q at most :data:`~swaxs_lib.io.measurement.MAX_Q_INV_ANGSTROM`, r at most
:data:`~swaxs_lib.io.measurement.MAX_R_ANGSTROM`: beyond them a unit is mislabelled) and strictly monotonic:
strictly decreasing data are reversed (``x_reversed = "true"``); repeats or zig-zags are an
error naming the line.  Values and uncertainties must be finite, uncertainties
non-negative.  Every problem is one :class:`~swaxs_lib.errors.SwaxsInputError` naming the
file, the line (or HDF5 point) and what was expected.  Files over :data:`MAX_INPUT_BYTES` are
refused.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.cansas_xml import is_xml, read_cansas_xml
from swaxs_lib.io.columns import PDF_EXTENSIONS, curve_from_text
from swaxs_lib.io.measurement import KINDS, Measurement
from swaxs_lib.io.nxcansas import is_hdf5, read_nxcansas
from swaxs_lib.io.resolve import finish
from swaxs_lib.io.units import energy_kev_to_wavelength_angstrom, normalize_x_unit

#: Largest input accepted (bytes).
MAX_INPUT_BYTES = 50 * 1024 * 1024

#: Extensions read as NXcanSAS HDF5.
HDF5_EXTENSIONS = (".h5", ".hdf5", ".hdf", ".nxs", ".nx", ".nx5")

__all__ = ["HDF5_EXTENSIONS", "MAX_INPUT_BYTES", "PDF_EXTENSIONS", "read_measurement", "read_measurement_bytes"]


def read_measurement(
    path: str | os.PathLike,
    *,
    kind: str | None = None,
    x_unit: str | None = None,
    wavelength_angstrom: float | None = None,
    energy_kev: float | None = None,
    name: str | None = None,
) -> Measurement:
    """Read a measured curve from a file.

    Parameters
    ----------
    path : str or os.PathLike
        Column text (``.txt``, ``.dat``, ``.csv``, ``.xy``, ``.chi``, ``.gr``, ``.sq``, ``.fq``,
        ``.iq``, ...), NXcanSAS HDF5 (``.h5``, ``.nxs``) or canSAS XML (``.xml``).
    kind, x_unit, wavelength_angstrom, energy_kev, name
        As in :func:`read_measurement_bytes`.

    Returns
    -------
    Measurement
        x in 1/Å (Q) or Å (r), strictly increasing; ``source`` is the file name (or ``name``).

    Raises
    ------
    SwaxsInputError
        Missing or unreadable file, more than :data:`MAX_INPUT_BYTES`, or any problem
        :func:`read_measurement_bytes` reports.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "silica.dat"
    ...     _ = path.write_text("# q_nm^-1 I\\n1.0 5.0\\n2.0 4.0\\n")
    ...     m = read_measurement(path)
    >>> m.x.tolist(), m.x_unit, m.source
    ([0.1, 0.2], 'inv_nm', 'silica.dat')
    """
    p = Path(path)
    return read_measurement_bytes(
        read_input_file(p),
        str(p),
        kind=kind,
        x_unit=x_unit,
        wavelength_angstrom=wavelength_angstrom,
        energy_kev=energy_kev,
        name=name if name is not None else p.name,
    )


def read_input_file(path: str | os.PathLike) -> bytes:
    """The bytes of a data file, refusing missing, special and oversized files.

    Raises
    ------
    SwaxsInputError
        Missing or unreadable file, not a regular file, more than :data:`MAX_INPUT_BYTES`.
    """
    p = Path(path)
    try:
        size = p.stat().st_size
        if not p.is_file():
            raise SwaxsInputError(f"{p}: not a regular file; expected a data file")
        if size > MAX_INPUT_BYTES:
            raise SwaxsInputError(f"{p}: {size} bytes; expected at most {MAX_INPUT_BYTES} bytes")
        with open(p, "rb") as handle:
            return handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise SwaxsInputError(f"{p}: cannot read ({exc.strerror or exc}); expected a readable data file") from exc


def read_measurement_bytes(
    data: bytes,
    filename: str,
    *,
    kind: str | None = None,
    x_unit: str | None = None,
    wavelength_angstrom: float | None = None,
    energy_kev: float | None = None,
    name: str | None = None,
) -> Measurement:
    """Read a measured curve from the bytes of a file.

    Parameters
    ----------
    data : bytes
        The file content (at most :data:`MAX_INPUT_BYTES`).
    filename : str
        The file's name: its extension picks the format and the kind; messages name it.
    kind : {"iq", "sq", "fq", "gr"}, optional
        Overrides the kind from the extension or header (see the module docstring).
    x_unit : str, optional
        The abscissa's unit, one of :data:`~swaxs_lib.io.measurement.X_UNITS` (or ``1/A``,
        ``1/nm``, ``2th_deg``, ``A``, ``nm``); overrides the header.
    wavelength_angstrom : float, optional
        X-ray wavelength (Å), for 2θ data.
    energy_kev : float, optional
        X-ray energy (keV), instead of ``wavelength_angstrom``.
    name : str, optional
        ``Measurement.source``; defaults to the base name of ``filename``.

    Returns
    -------
    Measurement
        x in 1/Å (Q) or Å (r), strictly increasing.

    Raises
    ------
    SwaxsInputError
        Bad arguments; empty, binary, truncated, single-column, non-numeric,
        non-monotonic, non-finite, negative-x or unit-contradicting input; 2θ without a
        wavelength; corrupt HDF5; malformed or unsafe XML.  The message names the file, the
        line and what was expected.

    Examples
    --------
    >>> m = read_measurement_bytes(b"# 2th_deg I\\n60 1\\n90 2\\n", "scan.xy", wavelength_angstrom=1.0)
    >>> np.round(m.x, 6).tolist(), m.x_unit
    ([6.283185, 8.885766], 'two_theta_deg')
    >>> read_measurement_bytes(b"0.3 1\\n0.2 2\\n0.2 3\\n", "bad.dat")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    swaxs_lib.errors.SwaxsInputError: bad.dat: line 3: x = 0.2 repeats line 2 (x = 0.2); expected x strictly ...
    """
    if not isinstance(filename, str):
        raise SwaxsInputError(f"filename {filename!r}; expected a string")
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    if not isinstance(data, bytes):
        raise SwaxsInputError(f"{filename}: data of type {type(data).__name__}; expected bytes")
    if len(data) > MAX_INPUT_BYTES:
        raise SwaxsInputError(f"{filename}: {len(data)} bytes; expected at most {MAX_INPUT_BYTES} bytes")
    if name is not None and not isinstance(name, str):
        raise SwaxsInputError(f"name {name!r}; expected a string")
    kind_arg = _check_kind(kind)
    unit_arg = normalize_x_unit(x_unit) if x_unit is not None else None
    wavelength_arg = _explicit_wavelength(wavelength_angstrom, energy_kev)

    extension = os.path.splitext(filename)[1].lower()
    if is_hdf5(data) or extension in HDF5_EXTENSIONS:
        raw = read_nxcansas(data, filename)
    elif is_xml(data) or extension == ".xml":
        raw = read_cansas_xml(data, filename)
    else:
        raw = curve_from_text(data, filename, extension, kind_arg)

    source = name if name is not None else (os.path.basename(filename) or filename)
    return finish(raw, filename, source, extension, kind_arg, unit_arg, wavelength_arg)


def _check_kind(kind) -> str | None:
    if kind is None:
        return None
    if not isinstance(kind, str) or kind.strip().lower() not in KINDS:
        raise SwaxsInputError(f"kind {kind!r}; expected one of {', '.join(KINDS)}")
    return kind.strip().lower()


def _positive(value, parameter: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise SwaxsInputError(f"{parameter} {value!r}; expected a positive number")
    value = float(value)
    if not math.isfinite(value) or value <= 0:
        raise SwaxsInputError(f"{parameter} {value!r}; expected a positive finite number")
    return value


def _explicit_wavelength(wavelength_angstrom, energy_kev) -> tuple[float, str] | None:
    from_wavelength = None if wavelength_angstrom is None else _positive(wavelength_angstrom, "wavelength_angstrom")
    from_energy = None
    if energy_kev is not None:
        from_energy = energy_kev_to_wavelength_angstrom(_positive(energy_kev, "energy_kev"))
    if from_wavelength is not None and from_energy is not None:
        if abs(from_wavelength - from_energy) > 1e-3 * from_wavelength:
            raise SwaxsInputError(
                f"wavelength_angstrom={from_wavelength:g} and energy_kev={float(energy_kev):g} "
                f"(λ = {from_energy:.6g} Å) disagree; expected one of them, or consistent values"
            )
        return from_wavelength, "wavelength_angstrom"
    if from_wavelength is not None:
        return from_wavelength, "wavelength_angstrom"
    if from_energy is not None:
        return from_energy, "energy_kev"
    return None
