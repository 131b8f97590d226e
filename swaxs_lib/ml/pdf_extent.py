"""Does a G(r) hold a particle of the size ladder, or a larger one (or bulk)?  A model-free check.

The G(r) models read 1–30 Å and were trained on particles of 0.8–7.2 nm
under an instrument damping Q_damp of 0.01–0.06 1/Å.  Within 30 Å a bulk
crystal damped by its instrument looks like a large particle: measured bulk
Ni (X-ray, Q_damp 0.050) was given a 5.8 nm truncated octahedron, in domain.
What separates the two is how the G(r)'s amplitude dies away with r, and
beyond the models' window a measured G(r) often says more (PDFgetX files
reach 45–100 Å).

The envelope: the rms of G(r) in 5 Å windows from 5 Å to the curve's end,
over the rms of the first window (5–10 Å).  A particle of diameter D
scales the bulk G(r) by its characteristic function, gamma0(r) = 1 −
3r/2D + r³/2D³ for a sphere [1]_, and the instrument by exp(−(Q_damp r)²/2)
[2]_.  Of the particles the database holds, the sphere of the largest
extent (the manifest's top ``diameter_range_nm``) is taken to keep the most
amplitude at every r (of the bodies of one extent it has the largest volume,
and its gamma0 the slowest fall), so its gamma0 bounds theirs, with the
margin below.

* **Q_damp given** (the instrument's, refined on a calibrant such as Ni or
  Si): the envelope is divided by the instrument's damping; where it keeps
  more than :data:`ABOVE_FACTOR` times the bounding sphere's gamma0 (plus
  :data:`AMPLITUDE_FLOOR`) in a window from :data:`FAR_R_MIN_ANGSTROM` on
  (above the noise when the file has uncertainties, and not damped below
  :data:`DAMPING_FLOOR`), the particle is **above** the ladder: larger, or
  bulk.  Otherwise **inside**.
* **Q_damp not given**: the envelope from the first window on is fitted by
  a bulk crystal's, exp(−(q r)²/2) (from 10 Å on, a small particle's G(r)
  that has died into its noise reads as a flat, undamped crystal).  Where that fits (rms log residual ≤
  :data:`BULK_FIT_TOLERANCE`) with q no larger than the training's largest
  instrument damping (:data:`QDAMP_MAX`), the curve cannot tell a large
  particle from bulk: **unbounded** (the size the models give is then only
  "at least").  Otherwise **inside**; **unknown** when the curve ends before
  20 Å.

Validation: the PDFgui tutorial's CdSe files share one instrument (Q_damp
0.0486 [3]_): the 3 nm particles are inside, the bulk powder above; bulk Ni
(X-ray, Q_damp 0.0502 refined on the file itself as on a calibrant) is above;
diffpy.pdffit2's attenuated fcc crystals to 80 Å at Q_damp 0.01 and 0.06:
spheres of 3 and 7.2 nm inside, 15 nm (at 0.01) and bulk above
(``tests/test_pdf_extent.py``).  On the 3,600 held-out G(r) of the shipped
database (1–30 Å), with each curve's own Q_damp: 0 above; without it, the
"unbounded" note goes to 0 % of particles below 3.5 nm and 5–31 % of those
of 3.5–9 nm (``benchmarks/ml_measured.py``).

References
----------
.. [1] A. Guinier, G. Fournet, *Small-Angle Scattering of X-Rays*, Wiley (1955), p. 14.
.. [2] C. L. Farrow, S. J. L. Billinge, Acta Cryst. A 65, 232 (2009).
.. [3] PDFgui tutorial, CdSe nanoparticles (``tests/data/cdse_np_pdfgui/SOURCE.md``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

#: Width (Å) of the envelope's windows, and where the first starts.
WINDOW_ANGSTROM, FIRST_WINDOW_ANGSTROM = 5.0, 5.0
#: With Q_damp given, a window is compared from this r (Å) on: nearer, every particle keeps much of its amplitude.
FAR_R_MIN_ANGSTROM = 25.0
#: A damping-corrected envelope this many times the bounding sphere's (plus AMPLITUDE_FLOOR) is above the ladder.
ABOVE_FACTOR = 2.0
#: Added to the bound (a share of the 5-10 Å amplitude): near the largest extent, where the bound goes to 0,
#: ripples of the transform's termination would otherwise count.
AMPLITUDE_FLOOR = 0.05
#: Windows the instrument has damped below this share of the first window's damping are not divided out.
DAMPING_FLOOR = 0.02
#: The training's largest instrument damping (1/Å), :mod:`swaxs_lib.ml.simulate`.
QDAMP_MAX = 0.06
#: rms of the log envelope about the bulk fit (about ±35 %) within which the decay reads as a bulk crystal's.
BULK_FIT_TOLERANCE = 0.35
#: The bulk fit starts here (Å): the first window too, so that a particle's G(r) that has died into its noise
#: by 10 Å (a flat floor, which a bulk fit with q = 0 would take for an undamped crystal) is told apart.
BULK_FIT_FROM_ANGSTROM = float(FIRST_WINDOW_ANGSTROM)
#: The envelope needs the curve to reach this far (Å) to be judged at all.
R_MIN_REACH_ANGSTROM = 20.0


@dataclass(frozen=True)
class PdfExtentCheck:
    """The model-free size check of one G(r).

    Attributes
    ----------
    status : str
        ``"inside"``, ``"above"``, ``"unbounded"`` or ``"unknown"`` (module docstring).
    r_max_angstrom : float
        How far the curve reaches (Å).
    q_damp_inv_angstrom : float or None
        The instrument damping given, or the bulk fit's (``"unbounded"``), 1/Å.
    excess : float or None
        With Q_damp given: the largest ratio of the corrected envelope to the bounding sphere's in the far windows.
    reason : str or None
        What the check found, in words; None when inside.
    """

    status: str
    r_max_angstrom: float
    q_damp_inv_angstrom: float | None
    excess: float | None
    reason: str | None


def sphere_gamma0(r_angstrom: np.ndarray, diameter_angstrom: float) -> np.ndarray:
    """Characteristic function of a sphere of diameter D: 1 − 3r/2D + r³/2D³ for r < D, else 0 [1]_.

    Examples
    --------
    >>> sphere_gamma0(np.array([0.0, 10.0, 20.0]), 20.0).tolist()
    [1.0, 0.3125, 0.0]
    """
    x = np.asarray(r_angstrom, float) / diameter_angstrom
    return np.where(x < 1.0, 1.0 - 1.5 * x + 0.5 * x**3, 0.0)


def envelope(r_angstrom: np.ndarray, g: np.ndarray, sigma: np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window centres (Å), the rms of G in each over the first's, and each window's noise rms over the same.

    Windows of :data:`WINDOW_ANGSTROM` from :data:`FIRST_WINDOW_ANGSTROM` to the curve's end with at least 5
    points; the noise is the rms of ``sigma`` (zeros without it).
    """
    r = np.asarray(r_angstrom, float)
    g = np.asarray(g, float)
    sigma = None if sigma is None else np.asarray(sigma, float)
    centres, amplitude, noise = [], [], []
    start = FIRST_WINDOW_ANGSTROM
    while start + WINDOW_ANGSTROM <= float(r.max()) + 1e-9:
        inside = (r >= start) & (r < start + WINDOW_ANGSTROM)
        if inside.sum() >= 5:
            centres.append(start + WINDOW_ANGSTROM / 2)
            amplitude.append(math.sqrt(float(np.mean(g[inside] ** 2))))
            noise.append(0.0 if sigma is None else math.sqrt(float(np.mean(sigma[inside] ** 2))))
        start += WINDOW_ANGSTROM
    centres, amplitude, noise = np.array(centres), np.array(amplitude), np.array(noise)
    if not len(centres) or amplitude[0] <= 0:
        return centres, amplitude, noise
    return centres, amplitude / amplitude[0], noise / amplitude[0]


def check_pdf_extent(r_angstrom: np.ndarray, g: np.ndarray, top_extent_angstrom: float, *,
                     q_damp_inv_angstrom: float | None = None, sigma: np.ndarray | None = None) -> PdfExtentCheck:
    """Whether one G(r)'s particle lies inside the training ladder (module docstring).

    Parameters
    ----------
    r_angstrom, g : numpy.ndarray
        The curve, r (Å) increasing, G(r) (1/Å²).
    top_extent_angstrom : float
        The largest extent the models know (Å): the manifest's ``diameter_range_nm`` top, × 10.
    q_damp_inv_angstrom : float, optional
        The instrument's Q damping (1/Å), refined on a calibrant.
    sigma : numpy.ndarray, optional
        The file's uncertainties of G.

    Returns
    -------
    PdfExtentCheck

    Examples
    --------
    A bulk crystal's envelope (a constant amplitude) under Q_damp 0.05, to 60 Å:

    >>> r = np.arange(0.0, 60.0, 0.01)
    >>> g = np.sin(2 * np.pi * r / 2.5) * np.exp(-(0.05 * r) ** 2 / 2)
    >>> check_pdf_extent(r, g, 73.0).status, check_pdf_extent(r, g, 73.0, q_damp_inv_angstrom=0.05).status
    ('unbounded', 'above')
    """
    r = np.asarray(r_angstrom, float)
    r_max = float(r.max()) if len(r) else 0.0
    centres, amplitude, noise = envelope(r, g, sigma)
    if r_max < R_MIN_REACH_ANGSTROM or len(centres) < 3 or not amplitude[0] > 0:
        return PdfExtentCheck("unknown", r_max, q_damp_inv_angstrom, None,
                              f"the G(r) ends at {r_max:.0f} Å: its envelope cannot bound the particle's size "
                              f"(needs {R_MIN_REACH_ANGSTROM:.0f} Å)")
    if q_damp_inv_angstrom is not None:
        damping = np.exp(-(q_damp_inv_angstrom * centres) ** 2 / 2)
        corrected = amplitude / (damping / damping[0])
        bound = sphere_gamma0(centres, top_extent_angstrom) / sphere_gamma0(centres[:1], top_extent_angstrom)
        # judged where the instrument has left enough to divide by (at most DAMPING_FLOOR⁻¹ amplified) and
        # the curve is above its noise
        far = ((centres >= FAR_R_MIN_ANGSTROM) & (amplitude > 3 * noise) & (damping / damping[0] >= DAMPING_FLOOR))
        if not far.any():
            return PdfExtentCheck("unknown", r_max, q_damp_inv_angstrom, None,
                                  f"the G(r) has no window from {FAR_R_MIN_ANGSTROM:.0f} Å on that is above its noise "
                                  f"and not damped away by Q_damp {q_damp_inv_angstrom:g} 1/Å: its envelope cannot "
                                  "bound the particle's size")
        excess = corrected[far] / (bound[far] + AMPLITUDE_FLOOR)
        k = int(np.argmax(excess))
        worst, at = float(excess[k]), float(centres[far][k])
        if worst > ABOVE_FACTOR:
            return PdfExtentCheck("above", r_max, q_damp_inv_angstrom, round(worst, 3), (
                f"size out of range: with the instrument's Q_damp {q_damp_inv_angstrom:g} 1/Å divided out, the "
                f"G(r) keeps {corrected[far][k]:.0%} of its 5-10 Å amplitude at {at:.1f} Å, where the database's "
                f"largest particle ({top_extent_angstrom / 10:.1f} nm) keeps at most {bound[far][k]:.0%}: the "
                "particle is larger, or bulk, so no size is given"))
        return PdfExtentCheck("inside", r_max, q_damp_inv_angstrom, round(worst, 3), None)
    fit = (centres >= BULK_FIT_FROM_ANGSTROM) & (amplitude > 3 * noise) & (amplitude > 0)
    if fit.sum() < 3:
        return PdfExtentCheck("inside", r_max, None, None, None)  # dies out before any bulk could
    x, y = centres[fit] ** 2, np.log(amplitude[fit])
    # log A = a - (q r)^2 / 2, q >= 0: least squares for (a, b = q^2/2), b clipped at 0
    b = max(0.0, -float(np.polyfit(x, y, 1)[0]))
    a = float(np.mean(y + b * x))
    residual = float(np.sqrt(np.mean((y - (a - b * x)) ** 2)))
    q = math.sqrt(2 * b)
    if q <= QDAMP_MAX and residual <= BULK_FIT_TOLERANCE:
        return PdfExtentCheck("unbounded", r_max, round(q, 4), None, (
            f"size not bounded: to {r_max:.0f} Å this G(r) dies away as a bulk crystal's would under an instrument "
            f"damping Q_damp {q:.3f} 1/Å, so it cannot tell a large particle from bulk and the size given is only "
            "a lower bound; give the instrument's Q_damp (refined on a calibrant) to decide"))
    return PdfExtentCheck("inside", r_max, None, None, None)


__all__ = ["ABOVE_FACTOR", "AMPLITUDE_FLOOR", "BULK_FIT_FROM_ANGSTROM", "BULK_FIT_TOLERANCE", "DAMPING_FLOOR",
           "FAR_R_MIN_ANGSTROM", "PdfExtentCheck", "QDAMP_MAX", "check_pdf_extent", "envelope", "sphere_gamma0"]
