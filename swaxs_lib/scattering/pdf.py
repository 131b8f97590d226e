"""The reduced pair distribution function G(r) of a finite cluster.

Conventions (those of diffpy.srreal's DebyePDFCalculator):

    S(Q) = 1 + [I(Q) - sum_i |f_i|^2] / (N |<f>|^2)
    F(Q) = Q [S(Q) - 1]
    G(r) = (2 / pi) * integral_{Q_min}^{Q_max} F(Q) sin(Q r) dQ

with F(Q) from the Debye sum over i != j, X-ray f(Q) at sin(theta)/lambda =
Q/(4 pi), pairs damped by exp(-(B_i + B_j) Q^2/(16 pi^2)) (B = 8 pi^2 U_iso,
so diffpy's Gaussian width sigma_ij^2 = U_i + U_j), and the optional Gaussian
envelope exp(-(r Q_damp)^2 / 2).

By default (``small_angle="subtract"``) the particle's own small-angle
scattering is taken out of F(Q) before the transform, as PDF extraction takes
it out of a measurement: F(Q) - Q T(Q) S_total(Q), which turns G into
4 pi r [rho(r) - rho0 gamma0(r)] (Farrow & Billinge 2009; the formula and its
limits are in :mod:`swaxs_lib.scattering.envelope`).  ``small_angle="keep"``
gives the plain Debye transform, diffpy.srreal's DebyePDFCalculator's
convention: G = 4 pi r rho(r) over the Q window, no baseline.

DebyeCalculator (1.1.x) sums i < j only: its ``fq`` and ``gr`` are exactly half
of the plain transform's, and its ``iq`` is half of :func:`debye_intensity`'s
I(Q) (tests/test_references.py checks both factors).

The integral is done by Simpson's rule on a uniform Q grid fine enough that
(r_pair_max + r_max) dQ <= 0.2, where the rule's error is below 1e-5 of the
largest term; diffpy and DebyeCalculator use a Riemann sum on
dQ = pi / r_max instead, which converges to the same integral.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
from ase import Atoms

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.scattering.debye import debye_intensity
from swaxs_lib.scattering.envelope import check_small_angle, small_angle_taper
from swaxs_lib.scattering.histogram import PairHistogram, fast_bin_width, pair_histogram
from swaxs_lib.scattering.kernels import sine_series
from swaxs_lib.structures.sizes import atomic_volume

#: Largest (r_pair_max + r_max) * dQ of the integration grid.
PDF_PHASE_STEP = 0.2


@dataclass(frozen=True)
class PDFCurve:
    """G(r) of a cluster and the F(Q) it came from.

    Attributes
    ----------
    r_angstrom : numpy.ndarray (n_r,)
    g : numpy.ndarray (n_r,)
        G(r) (1/Å^2).
    q_inv_angstrom : numpy.ndarray (n_q,)
        The integration grid (1/Å).
    f_q : numpy.ndarray (n_q,)
        F(Q) on that grid (1/Å).
    q_min_inv_angstrom, q_max_inv_angstrom : float
        Integration limits.
    q_damp_inv_angstrom : float
        Gaussian envelope parameter (0 = none).
    small_angle : str
        ``"subtract"``: the particle's small-angle scattering was taken out of
        ``f_q``; ``"keep"``: the plain Debye F(Q).
    """

    r_angstrom: np.ndarray
    g: np.ndarray
    q_inv_angstrom: np.ndarray
    f_q: np.ndarray
    q_min_inv_angstrom: float
    q_max_inv_angstrom: float
    q_damp_inv_angstrom: float
    small_angle: str = "subtract"


def pair_distribution(
    atoms: Atoms,
    r_angstrom: np.ndarray,
    q_min_inv_angstrom: float,
    q_max_inv_angstrom: float,
    *,
    b_iso_angstrom2: float | Mapping[str, float] = 0.0,
    energy_kev: float | None = None,
    form_factor_source: str = "xraydb",
    q_damp_inv_angstrom: float = 0.0,
    scale: float = 1.0,
    histogram: PairHistogram | None = None,
    small_angle: str = "subtract",
) -> PDFCurve:
    """G(r) of a cluster, from its Debye F(Q) over [Q_min, Q_max].

    Parameters
    ----------
    atoms : ase.Atoms
        The cluster.
    r_angstrom : array_like (n_r,)
        r values (Å), finite and >= 0.
    q_min_inv_angstrom, q_max_inv_angstrom : float
        The experiment's Q range (1/Å), 0 <= Q_min < Q_max.
    b_iso_angstrom2 : float or mapping
        Debye–Waller B (Å^2), as in :func:`debye_intensity`.
    energy_kev : float, optional
        X-ray energy for anomalous f', f''.
    form_factor_source : {"xraydb", "constant"}
    q_damp_inv_angstrom : float
        Instrumental Q damping (1/Å): G is multiplied by exp(-(r Q_damp)^2 / 2).
    scale : float
        Multiplies every interatomic distance.
    histogram : PairHistogram, optional
        A histogram of ``atoms`` computed before, so that changing B, Q range
        or damping skips the pair loop (checked as in :func:`debye_intensity`).
    small_angle : {"subtract", "keep"}
        Take the particle's small-angle scattering out of F(Q), as PDF
        extraction does with measured data (default), or keep it (the plain
        Debye transform of diffpy's DebyePDFCalculator).

    Returns
    -------
    PDFCurve
    """
    r = np.asarray(r_angstrom, dtype=float).ravel()
    if len(r) == 0 or not np.all(np.isfinite(r)) or np.any(r < 0):
        raise SwaxsInputError("r_angstrom: expected a non-empty array of finite values >= 0 (Å)")
    q_min, q_max = float(q_min_inv_angstrom), float(q_max_inv_angstrom)
    if not (math.isfinite(q_min) and math.isfinite(q_max) and 0 <= q_min < q_max):
        raise SwaxsInputError(
            f"q range: got q_min={q_min_inv_angstrom!r}, q_max={q_max_inv_angstrom!r}; expected 0 <= q_min < q_max (1/Å)"
        )
    q_damp = float(q_damp_inv_angstrom)
    if not (math.isfinite(q_damp) and q_damp >= 0):
        raise SwaxsInputError(f"q_damp_inv_angstrom: got {q_damp_inv_angstrom!r}; expected a number >= 0")
    if len(atoms) < 2:
        raise SwaxsInputError(f"atoms: got {len(atoms)} atom(s); expected at least two for a pair distribution")
    check_small_angle(small_angle)

    if histogram is None:
        histogram = pair_histogram(atoms, fast_bin_width(q_max * scale))
    reach = histogram.max_distance_angstrom * scale + float(r.max())
    n_steps = max(16, int(math.ceil((q_max - q_min) * reach / PDF_PHASE_STEP)))
    n_steps += n_steps % 2  # Simpson needs an even number of intervals
    q = np.linspace(q_min, q_max, n_steps + 1)
    curve = debye_intensity(
        atoms, q, b_iso_angstrom2=b_iso_angstrom2, energy_kev=energy_kev,
        form_factor_source=form_factor_source, histogram=histogram, scale=scale,
    )
    f_q = curve.reduced_structure_function
    if small_angle == "subtract":
        volume = histogram.atomic_volume_angstrom3  # NaN only in a histogram built by hand
        if not math.isfinite(volume):
            volume = atomic_volume(atoms.positions)
        s_total = curve.intensity / (curve.n_atoms * np.abs(curve.mean_f) ** 2)
        f_q = f_q - q * small_angle_taper(q, volume * scale**3) * s_total
    dq = (q_max - q_min) / n_steps
    weights = np.full(n_steps + 1, 2.0)
    weights[1::2] = 4.0
    weights[0] = weights[-1] = 1.0
    weights *= dq / 3.0
    g = (2.0 / math.pi) * sine_series(np.ascontiguousarray(weights * f_q), q_min, dq, r)
    if q_damp > 0:
        g *= np.exp(-0.5 * (r * q_damp) ** 2)
    return PDFCurve(
        r_angstrom=r, g=g, q_inv_angstrom=q, f_q=f_q,
        q_min_inv_angstrom=q_min, q_max_inv_angstrom=q_max, q_damp_inv_angstrom=q_damp, small_angle=small_angle,
    )
