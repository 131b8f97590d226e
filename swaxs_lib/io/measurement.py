"""The one result every reader returns: a measured curve in Å-based units."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from swaxs_lib.errors import SwaxsInputError

#: Curve kinds: intensity I(Q), structure factor S(Q), reduced structure function F(Q) (Q-space),
#: and the reduced pair distribution function G(r) (r-space).
KINDS = {"iq": "q", "sq": "q", "fq": "q", "gr": "r"}

#: Units the abscissa can arrive in (what the file said, or what the user set).
X_UNITS = ("inv_angstrom", "inv_nm", "two_theta_deg", "angstrom", "nm")

#: Largest Q (1/Å) any diffraction measures: Q = 4π sin θ / λ ≤ 4π/λ, 201 1/Å at λ = 0.0625 Å (198 keV, beyond
#: the hardest total-scattering beamlines; spallation-neutron PDFs use Q up to 50-100 1/Å).  Larger values
#: are a mislabelled unit (1/m or 1/cm read as 1/Å) and would size the Debye kernels by them.
MAX_Q_INV_ANGSTROM = 250.0
#: Largest r (Å) of a G(r): 1 µm, ten times the largest nanoparticle PDFs (a few hundred Å).
MAX_R_ANGSTROM = 1.0e4
MAX_X = {"q": MAX_Q_INV_ANGSTROM, "r": MAX_R_ANGSTROM}

#: CSV name of the abscissa per domain, unit in the name (Q in 1/Å, r in Å).
X_COLUMNS = {"q": "q_inv_angstrom", "r": "r_angstrom"}

#: CSV name of the values per kind, as every download and ``--out`` file writes them (docs/csv.md), the
#: unit in the name where it is fixed: I(Q) (the data's own units: the file's, or arbitrary), S(Q)
#: (dimensionless), F(Q) (1/Å), G(r) (1/Å²).  An uncertainty is ``<name>_sigma``.
VALUE_COLUMNS = {"iq": "intensity", "sq": "s", "fq": "f_inv_angstrom", "gr": "g_inv_angstrom2"}


@dataclass(frozen=True)
class Measurement:
    """A measured curve, converted to 1/Å (Q) or Å (r) once, at the reader.

    Attributes
    ----------
    kind : {"iq", "sq", "fq", "gr"}
        I(Q), S(Q), F(Q) or G(r).
    x : numpy.ndarray (n,)
        Q (1/Å) for Q-space kinds, r (Å) for G(r); strictly increasing.
    values : numpy.ndarray (n,)
        Intensity (arbitrary or absolute units, as measured), S, F (1/Å) or G (1/Å²).
    uncertainties : numpy.ndarray (n,) or None
        One standard deviation of ``values``, when the file had a column for it;
        never invented.
    source : str
        File name the data came from.
    x_unit : str
        The abscissa's unit in the file, one of :data:`X_UNITS`.
    wavelength_angstrom : float or None
        The X-ray wavelength used to convert 2θ, or read from the header.
    header : tuple of str
        The file's header/comment lines, verbatim.
    metadata : tuple of (str, str)
        Other facts the reader found (instrument, column names, ...).
    x_resolution : numpy.ndarray (n,) or None
        Q resolution of each point: one standard deviation dQ (1/Å) of the
        Gaussian resolution function (canSAS ``Qdev``, SasView's fourth column
        ``dQ``), when the file had it; converted with Q.  None for G(r).
    """

    kind: str
    x: np.ndarray
    values: np.ndarray
    uncertainties: np.ndarray | None
    source: str
    x_unit: str
    wavelength_angstrom: float | None = None
    header: tuple[str, ...] = ()
    metadata: tuple[tuple[str, str], ...] = field(default=())
    x_resolution: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SwaxsInputError(f"{self.source}: kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if self.x_unit not in X_UNITS:
            raise SwaxsInputError(f"{self.source}: unit {self.x_unit!r}; expected one of {', '.join(X_UNITS)}")
        x = np.asarray(self.x, dtype=float)
        if x.size and not np.all(np.abs(x) <= MAX_X[self.domain]):  # also NaN
            i = int(np.argmax(~(np.abs(x) <= MAX_X[self.domain])))
            raise SwaxsInputError(f"{self.source}: {x_range_problem(self.domain, float(x[i]))}")

    @property
    def domain(self) -> str:
        """``"q"`` for I(Q), S(Q), F(Q); ``"r"`` for G(r)."""
        return KINDS[self.kind]

    @property
    def q_inv_angstrom(self) -> np.ndarray:
        """Q (1/Å); only for Q-space kinds."""
        if self.domain != "q":
            raise SwaxsInputError(f"{self.source}: a G(r) dataset has no Q axis")
        return self.x

    @property
    def r_angstrom(self) -> np.ndarray:
        """r (Å); only for G(r)."""
        if self.domain != "r":
            raise SwaxsInputError(f"{self.source}: a {self.kind} dataset has no r axis")
        return self.x

    @property
    def n_points(self) -> int:
        """Number of points."""
        return int(len(self.x))


def x_range_problem(domain: str, value: float) -> str:
    """What is wrong with an abscissa ``value`` beyond :data:`MAX_X` (1/Å or Å), for an error message."""
    if domain == "q":
        return (f"Q = {value:.4g} 1/Å; expected at most {MAX_Q_INV_ANGSTROM:g} 1/Å (4π/λ of the hardest X-rays): "
                "is the Q unit mislabelled (1/nm, 1/m)?")
    return f"r = {value:.4g} Å; expected at most {MAX_R_ANGSTROM:g} Å: is the r unit mislabelled (nm, pm)?"
