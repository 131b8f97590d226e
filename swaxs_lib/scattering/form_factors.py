"""Atomic X-ray form factors f(Q) = f0(Q) + f'(E) + i f''(E).

f0 comes from xraydb's Waasmaier–Kirfel parametrisation [1]_, evaluated at
sin(theta)/lambda = Q / (4 pi) with Q in 1/Å.  (ASE's ``XrDebye`` evaluates the
same table at Q / (2 pi); tests/test_form_factors.py shows the factor of two.)
The anomalous corrections f', f'' are Chantler's [2]_ at the X-ray energy,
also from xraydb.  ``"constant"`` gives f = Z at every Q, for comparisons with
codes that use it.

References
----------
.. [1] D. Waasmaier and A. Kirfel, Acta Cryst. A51, 416 (1995).
.. [2] C. T. Chantler, J. Phys. Chem. Ref. Data 29, 597 (2000).
"""

from __future__ import annotations

import math

import numpy as np
import xraydb
from ase.data import atomic_numbers

from swaxs_lib.errors import SwaxsInputError

#: Heaviest element in the Waasmaier–Kirfel table (Cf).
MAX_ATOMIC_NUMBER = 98

#: Form-factor sources: the Waasmaier–Kirfel table, or Z at every Q.
SOURCES = ("xraydb", "constant")


def form_factor(
    element: str,
    q_inv_angstrom: np.ndarray,
    energy_kev: float | None = None,
    source: str = "xraydb",
) -> np.ndarray:
    """Complex atomic form factor f(Q) in electrons.

    Parameters
    ----------
    element : str
        Chemical symbol.
    q_inv_angstrom : array_like
        Scattering vector magnitudes Q = 4 pi sin(theta) / lambda (1/Å).
    energy_kev : float, optional
        X-ray energy (keV) for the anomalous terms f', f''; none if omitted.
    source : {"xraydb", "constant"}
        ``"xraydb"``: f0 from Waasmaier–Kirfel at Q/(4 pi);
        ``"constant"``: f0 = Z.

    Returns
    -------
    numpy.ndarray of complex128, same shape as ``q_inv_angstrom``

    Examples
    --------
    >>> round(float(form_factor("Au", [0.0])[0].real), 2)
    78.97
    """
    q = np.asarray(q_inv_angstrom, dtype=float)
    check_scatterer(element)
    if source == "xraydb":
        f0 = np.asarray(xraydb.f0(element, q / (4.0 * math.pi)), dtype=float).reshape(q.shape)
    elif source == "constant":
        f0 = np.full(q.shape, float(atomic_numbers[element]))
    else:
        raise SwaxsInputError(f"form_factor: got {source!r}; expected one of {', '.join(SOURCES)}")
    f = f0.astype(complex)
    if energy_kev is not None:
        energy_ev = check_energy_kev(energy_kev) * 1000.0
        f = f + float(xraydb.f1_chantler(element, energy_ev)) + 1j * float(xraydb.f2_chantler(element, energy_ev))
    return f


def check_scatterer(element: str) -> str:
    """Return ``element`` if the form-factor tables have it (H to Cf), else raise."""
    z = atomic_numbers.get(element, 0) if isinstance(element, str) else 0
    if not 1 <= z <= MAX_ATOMIC_NUMBER:
        raise SwaxsInputError(
            f"element: got {element!r}; expected a chemical symbol from H to Cf (the Waasmaier–Kirfel table)"
        )
    return element


def check_energy_kev(energy_kev: float) -> float:
    """Return the energy if it lies in the range used here (0.011–400 keV)."""
    try:
        e = float(energy_kev)
    except (TypeError, ValueError):
        raise SwaxsInputError(f"energy_kev: got {energy_kev!r}; expected a number of keV") from None
    if not (0.011 <= e <= 400.0):
        raise SwaxsInputError(f"energy_kev: got {energy_kev!r}; expected an X-ray energy between 0.011 and 400 keV")
    return e
