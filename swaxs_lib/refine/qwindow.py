"""Take the F(Q) content below Q_min out of a model G(r), as the experiment's transform left it out.

A measured G(r) is the sine transform of F(Q) = Q[S(Q) - 1] over the
measured window only,

    G_exp(r) = (2/pi) int_{Q_min}^{Q_max} F(Q) sin(Q r) dQ,

while a model computed in real space (pdffit2's crystal, with its Q_max
termination) holds the whole 0..Q_max.  The part below Q_min is removed by a
sine-transform round trip on an r grid from (near) 0 to well past the fit
range:

    F_low(Q) = int_0^R w(r) G(r) sin(Q r) dr,                 0 <= Q <= Q_min
    G_win(r) = G(r) - (2/pi) int_0^{Q_min} F_low(Q) sin(Q r) dQ

with w(r) = 1 up to R - L and a half-cosine taper to 0 over the last L = 10 Å:
a crystal's G(r) does not end, and a hard cut at R would leak its Bragg
oscillations into F(Q) near 0; the taper keeps them within ~2 pi / L of the
Bragg peaks, far above any Q_min (the result does not change between L = 5
and 40 Å).  srreal's ``PDFCalculator`` does the same round trip (it zeroes
F(Q) below ``qmin`` between two FFTs, without a taper); pdffit2 and PDFgui
have no Q_min at all.

For a crystal, or a piece of one, the model's F(Q) between 0 and the first
Bragg peak is nearly only the pair sum's missing self term, F(Q) ~ -Q
<f^2>/<f>^2 (derived here: S(Q) ~ 0 between Q = 0 and the first Bragg peak,
and the pair sum is S(Q) - <f^2>/<f>^2), so for one element the correction
has nearly the closed form

    G_win(r) - G(r) ~ (2/pi) [sin(Q_min r)/r^2 - Q_min cos(Q_min r)/r],

about (2/pi) Q_min / r in amplitude: 0.03 Å^-2 at 10 Å for Q_min = 0.5 1/Å.

References
----------
T. Egami and S. J. L. Billinge, *Underneath the Bragg Peaks*, 2nd ed.,
Pergamon (2012), ch. 3 (F(Q) = Q[S(Q) - 1] and its sine transform G(r)).
P. Juhás et al., J. Appl. Cryst. 46, 560-566 (2013) (PDFgetX3: ``qmin`` bounds
the transform; F(Q) below it is left out).
diffpy/libdiffpy ``src/diffpy/srreal/PDFCalculator.cpp``, ``getExtendedPDF``.

Validation
----------
Bulk fcc Ni from pdffit2 (Q_max 27): the round trip agrees with the closed
form to 0.0025 Å^-2 at Q_min = 0.3 (correction up to 0.025) and 0.0077 Å^-2 at
Q_min = 0.9 (correction up to 0.22) over 1.5-30 Å; the rest is pdffit2's F(Q)
itself, -Q + 0.018 1/Å rather than -Q below Q = 2 (``tests/test_refine_crystal.py``).
"""

from __future__ import annotations

import math

import numpy as np

#: Length L (Å) of the taper at the end of the grid.
TAPER_ANGSTROM = 10.0


def low_q_part(r_angstrom: np.ndarray, g: np.ndarray, q_min_inv_angstrom: float,
               taper_angstrom: float = TAPER_ANGSTROM) -> np.ndarray:
    """(2/pi) int_0^{Q_min} F(Q) sin(Q r) dQ of ``g`` on its own grid (subtract it from ``g``).

    Parameters
    ----------
    r_angstrom : numpy.ndarray
        Evenly spaced r (Å) from near 0 (the first point at most one step
        from 0) to R, past the fit range by at least the taper.
    g : numpy.ndarray
        G(r) (Å^-2) on ``r_angstrom``.
    q_min_inv_angstrom : float
        Q_min (1/Å); 0 returns zeros.
    taper_angstrom : float
        L (Å).

    Returns
    -------
    numpy.ndarray
        The part of G(r) carried by F(Q) below Q_min, on ``r_angstrom``.

    Examples
    --------
    The G(r) of F(Q) = -Q up to Q = q has a closed form; its part below 0.5 1/Å:

    >>> r = np.arange(0.01, 100.0, 0.01)
    >>> g_of = lambda q: -(2 / np.pi) * (np.sin(q * r) / r**2 - q * np.cos(q * r) / r)
    >>> part = low_q_part(r, g_of(2.0), 0.5)
    >>> bool(np.max(np.abs(part - g_of(0.5))[(r > 1) & (r < 80)]) < 2e-4)
    True
    """
    r = np.asarray(r_angstrom, dtype=float)
    g = np.asarray(g, dtype=float)
    if q_min_inv_angstrom <= 0:
        return np.zeros_like(g)
    dr = float(r[1] - r[0])
    length = float(taper_angstrom)
    start = r[-1] - length
    w = np.where(r <= start, 1.0, 0.5 * (1 + np.cos(np.pi * np.clip((r - start) / max(length, dr), 0, 1))))
    # Q spacing: a quarter of the grid's Fourier resolution pi/R
    n_q = int(math.ceil(4 * q_min_inv_angstrom * r[-1] / math.pi)) + 8
    q = np.linspace(0.0, q_min_inv_angstrom, n_q)
    dq = q[1] - q[0]
    weights = np.full(n_q, dq)
    weights[[0, -1]] = dq / 2
    sines = np.sin(np.outer(q, r))
    f_low = sines @ (w * g) * dr
    return (2 / np.pi) * (weights * f_low) @ sines


__all__ = ["TAPER_ANGSTROM", "low_q_part"]
