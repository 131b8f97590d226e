"""Abscissa units: parsing what a file or a user says, and converting to Å-based units once.

The library works in Q (1/Å) and r (Å).  A file may give Q in 1/nm, r in nm, or the
scattering angle 2θ in degrees; :func:`to_library_units` converts, with

    Q = 4π sin(θ) / λ,    λ[Å] = hc / E = 12.398419843320026 / E[keV]

(hc from CODATA 2018: h = 6.62607015e-34 J s, c = 299792458 m/s, e = 1.602176634e-19 C,
all exact, so hc = 12.398419843320026 keV Å).

Unit words are recognised in column labels (``q_nm^-1``, ``2th_deg``, ``Q (1/nm)``,
``r($\\AA$)``, ``r [nm]``, ``Q (Inverse Nanometres)``, ``2-Theta Angle (Degrees)``), in
HDF5 ``units`` attributes (``1/A``, ``1/nm``) and in arguments (the names in
:data:`~swaxs_lib.io.measurement.X_UNITS` or the same short forms).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.measurement import X_UNITS

#: hc in keV·Å (CODATA 2018, exact SI constants).
HC_KEV_ANGSTROM = 12.398419843320026

#: Which domain each abscissa unit belongs to: "q" (reciprocal space) or "r" (real space).
UNIT_DOMAIN = {
    "inv_angstrom": "q",
    "inv_nm": "q",
    "two_theta_deg": "q",
    "angstrom": "r",
    "nm": "r",
}

#: Human-readable spelling of each unit, for messages.
UNIT_TEXT = {
    "inv_angstrom": "Q in 1/Å",
    "inv_nm": "Q in 1/nm",
    "two_theta_deg": "2θ in degrees",
    "angstrom": "r in Å",
    "nm": "r in nm",
}

_ALIASES = {
    "inv_angstrom": ("inv_angstrom", "1/a", "1/å", "1/angstrom", "a^-1", "å^-1", "a-1", "q_a^-1", "angstrom^-1"),
    "inv_nm": ("inv_nm", "1/nm", "nm^-1", "nm-1", "q_nm^-1"),
    "two_theta_deg": ("two_theta_deg", "2th_deg", "deg", "degrees", "2theta", "two_theta", "2θ"),
    "angstrom": ("angstrom", "a", "å", "r_a"),
    "nm": ("nm", "r_nm"),
}
_ALIAS_TO_UNIT = {alias: unit for unit, aliases in _ALIASES.items() for alias in aliases}


def normalize_x_unit(value: str) -> str:
    """Return the :data:`X_UNITS` name for a unit given by a user.

    Parameters
    ----------
    value : str
        One of :data:`X_UNITS` or a short form such as ``"1/nm"``, ``"1/A"``,
        ``"2th_deg"``, ``"A"``, ``"nm"`` (case-insensitive).

    Returns
    -------
    str
        A member of :data:`X_UNITS`.

    Raises
    ------
    SwaxsInputError
        For anything else.

    Examples
    --------
    >>> normalize_x_unit("1/nm")
    'inv_nm'
    >>> normalize_x_unit("inv_angstrom")
    'inv_angstrom'
    """
    if not isinstance(value, str):
        raise SwaxsInputError(f"x_unit {value!r}; expected a string, one of {', '.join(X_UNITS)}")
    key = value.strip().lower().replace("\u212b", "å").replace(" ", "")
    if key not in _ALIAS_TO_UNIT:
        raise SwaxsInputError(
            f"x_unit {value!r}; expected one of {', '.join(X_UNITS)} (or 1/A, 1/nm, 2th_deg, A, nm)"
        )
    return _ALIAS_TO_UNIT[key]


@dataclass(frozen=True)
class LabelUnits:
    """What one column label says about the abscissa.

    Attributes
    ----------
    quantity : {"q", "two_theta", "r"} or None
        The quantity the label names, when it names one we read.
    units : tuple of str
        Every :data:`X_UNITS` member the label mentions (more than one is a contradiction).
    unsupported : str or None
        Why the label names a quantity or unit we cannot read (d-spacing, radians, mm, ...).
    """

    quantity: str | None
    units: tuple[str, ...]
    unsupported: str | None = None


_INV_NM = re.compile(r"1\s*/\s*nm\b|nm\s*\^?\s*\(?-1\)?(?![0-9])|nm⁻¹|\binv(?:erse)?[ _]?nm\b|/nm\b")
_INV_A = re.compile(
    r"1\s*/\s*å|(?<![a-z])å\s*\^?\s*\(?-1\)?(?![0-9])|å⁻¹|\binv(?:erse)?[ _]?å|1\s*/\s*a(?![a-z])"
    r"|(?<![a-z])a\s*\^\s*\(?-1\)?(?![0-9])|(?<![a-z])a-1(?![0-9])"
)
_DEG = re.compile(r"(?<![a-z])deg(?:rees?|s)?(?![a-z])|°")
_RAD = re.compile(r"(?<![a-z])rad(?:ians?|s)?(?![a-z])")
_NM = re.compile(r"(?<![a-z])nm(?![a-z])")
_ANGSTROM = re.compile(r"(?<![a-z])(?:å|a)(?![a-z])")
_OTHER_UNIT = re.compile(r"(?<![a-z])(?:mm|cm|m|pm)(?![a-z])\s*(?:\^?\s*-?[0-9])?|\^\s*\(?-2\)?|1\s*/\s*(?:m|cm|pm)\b")

_Q_NAME = re.compile(r"^(?:q|<x>\s*q|scattering vector|momentum transfer)(?![a-z])")
_TTH_NAME = re.compile(r"^(?:2[-_ ]?th(?:eta)?|tth|two[-_ ]?theta|2θ|2-theta angle|2θ angle)(?![a-z])")
_R_NAME = re.compile(r"^r(?![a-z])")
_UNSUPPORTED_NAME = re.compile(
    r"^(?:d[-_ ]?spacing|d\*2|d(?![a-z*])|chi(?![a-z])|s(?:_|\s*\()|radial distance|r_mm|r\s*\(mm\)|"
    r"2th_rad|tth_rad|energy|e(?:_|\s*\()kev)"
)


def _normalise_label(label: str) -> str:
    text = label.strip().lower()
    for old, new in (
        ("\u212b", "å"),  # ANGSTROM SIGN
        ("\\aa", "å"),
        ("\\angstrom", "å"),
        ("angstroms", "å"),
        ("angstrom", "å"),
        ("ångströms", "å"),
        ("ångström", "å"),
        ("nanometres", "nm"),
        ("nanometers", "nm"),
        ("nanometre", "nm"),
        ("nanometer", "nm"),
        ("−", "-"),  # MINUS SIGN
        ("⁻¹", "^-1"),
        ("\\theta", "θ"),
    ):
        text = text.replace(old, new)
    text = re.sub(r"[${}\\]", "", text)
    text = text.replace("mathrm", "").replace("rm ", "")
    text = re.sub(r"\binverse\s+(nm|å)", r"1/\1", text)
    return text.strip()


def parse_label(label: str, *, bare_unit: bool = False) -> LabelUnits:
    """Read the quantity and unit(s) one abscissa label states.

    Parameters
    ----------
    label : str
        A column label or a units attribute, e.g. ``"q_nm^-1"``, ``"Q (1/nm)"``,
        ``"2th_deg"``, ``"r($\\AA$)"``, ``"1/A"``.
    bare_unit : bool
        Accept a bare length unit (``"A"``, ``"nm"``) with no quantity, as in an HDF5
        ``units`` attribute; in a column label a lone ``a`` or ``nm`` says nothing.

    Returns
    -------
    LabelUnits

    Examples
    --------
    >>> parse_label("q_nm^-1")
    LabelUnits(quantity='q', units=('inv_nm',), unsupported=None)
    >>> parse_label("r($\\\\AA$)").units
    ('angstrom',)
    >>> parse_label("2-Theta Angle (Degrees)").units
    ('two_theta_deg',)
    """
    text = _normalise_label(label)
    if not text:
        return LabelUnits(None, ())
    quantity = None
    if _UNSUPPORTED_NAME.match(text):
        return LabelUnits(None, (), unsupported=label.strip())
    if _TTH_NAME.match(text):
        quantity = "two_theta"
    elif _Q_NAME.match(text):
        quantity = "q"
    elif _R_NAME.match(text):
        quantity = "r"
    units: list[str] = []
    rest = text
    if _INV_NM.search(rest):
        units.append("inv_nm")
        rest = _INV_NM.sub(" ", rest)
    if _INV_A.search(rest):
        units.append("inv_angstrom")
        rest = _INV_A.sub(" ", rest)
    if _DEG.search(rest):
        units.append("two_theta_deg")
        rest = _DEG.sub(" ", rest)
    if _RAD.search(rest):
        return LabelUnits(quantity, tuple(units), unsupported=f"{label.strip()} (radians)")
    if _OTHER_UNIT.search(rest):
        return LabelUnits(quantity, tuple(units), unsupported=label.strip())
    # A bare "a" or "å" is a length unit only next to r (or alone, as in a units attribute);
    # "Q (a.u.)" must not read as Å.
    rest_no_au = re.sub(r"a\.\s*u\.?|arb(?:itrary)?\.?\s*u(?:nits?)?\.?", " ", rest)
    if quantity == "r" or (quantity is None and bare_unit):
        if _NM.search(rest_no_au):
            units.append("nm")
        if _ANGSTROM.search(rest_no_au) and (quantity == "r" or rest_no_au.strip() in ("a", "å")):
            units.append("angstrom")
    return LabelUnits(quantity, tuple(dict.fromkeys(units)))


def energy_kev_to_wavelength_angstrom(energy_kev: float) -> float:
    """X-ray wavelength (Å) for a photon energy (keV): λ = 12.398419843320026 / E.

    Examples
    --------
    >>> round(energy_kev_to_wavelength_angstrom(12.398419843320026), 12)
    1.0
    """
    return HC_KEV_ANGSTROM / energy_kev


def two_theta_deg_to_q_inv_angstrom(two_theta_deg: np.ndarray, wavelength_angstrom: float) -> np.ndarray:
    """Q (1/Å) = 4π sin(θ)/λ for scattering angles 2θ (degrees) and a wavelength (Å).

    Examples
    --------
    >>> float(two_theta_deg_to_q_inv_angstrom(np.array([180.0]), 2 * np.pi)[0])
    2.0
    """
    theta_rad = np.deg2rad(np.asarray(two_theta_deg, dtype=float) / 2.0)
    return 4.0 * math.pi * np.sin(theta_rad) / wavelength_angstrom


def to_library_units(x: np.ndarray, x_unit: str, wavelength_angstrom: float | None = None) -> np.ndarray:
    """Convert an abscissa to Q (1/Å) or r (Å).

    Parameters
    ----------
    x : numpy.ndarray
        Values in ``x_unit``.
    x_unit : str
        One of :data:`X_UNITS`.
    wavelength_angstrom : float, optional
        Needed for ``"two_theta_deg"``.

    Returns
    -------
    numpy.ndarray
        Q in 1/Å (1/nm divided by 10; 2θ through Q = 4π sin θ/λ) or r in Å (nm times 10).

    Examples
    --------
    >>> to_library_units(np.array([1.0, 5.0]), "inv_nm").tolist()
    [0.1, 0.5]
    """
    x = np.asarray(x, dtype=float)
    if x_unit in ("inv_angstrom", "angstrom"):
        return x.copy()
    if x_unit == "inv_nm":
        return x / 10.0
    if x_unit == "nm":
        return x * 10.0
    if x_unit == "two_theta_deg":
        if wavelength_angstrom is None:
            raise SwaxsInputError("2θ needs a wavelength; expected wavelength_angstrom or energy_kev")
        return two_theta_deg_to_q_inv_angstrom(x, wavelength_angstrom)
    raise SwaxsInputError(f"x_unit {x_unit!r}; expected one of {', '.join(X_UNITS)}")


_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_WAVELENGTH = re.compile(
    r"(?<![a-z_])(?:wavelength|lambda|λ)\s*(?:\((å|a|angstroms?|nm|m)\))?\s*[:=]\s*(" + _NUMBER + r")\s*"
    r"(å|angstroms?|a|nm|m)?(?![a-z])",
    re.IGNORECASE,
)
_ENERGY = re.compile(
    r"(?<![a-z_])(?:energy|beam[_ ]?energy)\s*(?:\((kev|ev)\))?\s*[:=]\s*(" + _NUMBER + r")\s*(kev|ev)?(?![a-z])",
    re.IGNORECASE,
)
# Divide by these to get Å (dividing by 1e-10 keeps "1e-10 m" exactly 1 Å).
_WAVELENGTH_DIVISOR = {"": 1.0, "a": 1.0, "å": 1.0, "angstrom": 1.0, "angstroms": 1.0, "nm": 0.1, "m": 1e-10}

#: Wavelengths outside this range (Å) are not believed when read from a header.
PLAUSIBLE_WAVELENGTH_ANGSTROM = (1e-3, 1e3)


def header_wavelengths(line: str) -> list[tuple[float, str]]:
    """Wavelengths (Å) a header line states, with what it said.

    ``wavelength``/``lambda`` values take their unit from the line (``m``, ``nm``, ``Å``;
    none means Å, as PDFgetX and xPDFsuite write it); pyFAI writes meters
    (``# Wavelength: 1e-10 m``).  ``energy`` values are keV unless the line says eV.

    Examples
    --------
    >>> header_wavelengths("# Wavelength: 1e-10 m")
    [(1.0, 'wavelength 1e-10 m')]
    >>> header_wavelengths("lambda=0.142500    energy=87.0070")[0]
    (0.1425, 'wavelength 0.142500 Å')
    """
    found: list[tuple[float, str]] = []
    for match in _WAVELENGTH.finditer(line):
        unit = (match.group(3) or match.group(1) or "").lower()
        value = float(match.group(2)) / _WAVELENGTH_DIVISOR[unit]
        found.append((value, f"wavelength {match.group(2)} {unit or 'Å'}"))
    for match in _ENERGY.finditer(line):
        unit = (match.group(3) or match.group(1) or "kev").lower()
        energy_kev = float(match.group(2)) * (1e-3 if unit == "ev" else 1.0)
        if energy_kev > 0:
            found.append((energy_kev_to_wavelength_angstrom(energy_kev), f"energy {match.group(2)} {unit}"))
    return found
