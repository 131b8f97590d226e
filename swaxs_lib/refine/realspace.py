"""G(r) of a finite cluster in real space, with correlated motion (delta2): the refinement's engine.

The refinement needs what PDFgui and diffpy.srreal refine: a pair width that
depends on the distance,

    sigma_ij^2 = (U_i + U_j) (1 - delta2 / r_ij^2),

(Jeong et al. 2003; srreal's ``JeongPeakWidth`` without delta1 and qbroad),
and it must be cheap enough to evaluate hundreds of times.  The Debye route of
:func:`swaxs_lib.scattering.pair_distribution` damps every pair with one
Q-dependent factor and cannot do the first; this module does both:

1. From the pair histogram (:class:`~swaxs_lib.scattering.PairHistogram`:
   Lagrange weights h_m on nodes r_m = m dr, per element pair), each node adds
   a Gaussian of width sigma_m, normalised, divided by r_m, and its mirror
   image at -r_m, to G_inf on a fine uniform grid (spacing ``h``)::

       G_inf(r) = 1/(N <f>^2) sum_{i != j} f_i f_j [phi(r - r_ij) - phi(r + r_ij)] / r_ij

   The Gaussians are widened by a fixed sigma_f ~ 3 h so that they are well
   sampled; that extra width is taken out exactly in step 3.
2. F(Q) = integral G_inf(r) sin(Q r) dr by a type-I discrete sine transform
   on [0, L], Q_k = k pi / L.
3. F(Q) is multiplied by exp(+sigma_f^2 Q^2 / 2); the particle's small-angle
   scattering is taken out, F - Q T(Q) S_total(Q) with S_total = c_self + F/Q
   (:mod:`swaxs_lib.scattering.envelope`: a measured G(r) holds none, Farrow &
   Billinge 2009); F is multiplied by the experiment's window
   Q_min <= Q <= Q_max (trapezoid half-weights at its edges) and transformed
   back: G(r) = (2/pi) sum_k F(Q_k) sin(Q_k r) dQ.
4. The instrument envelope exp(-(r Q_damp)^2 / 2) and the zoom (every distance
   times ``zoom``) are applied; G is interpolated onto the requested r.

Weights are the X-ray form factors at Q = 0 (f0(0) from xraydb), as in
PDFgui and srreal's PDFCalculator: for a one-element cluster f_i f_j / <f>^2 = 1
and the result equals the Debye route's; for several elements it differs by
the Q-dependence of f_i f_j / <f>^2, which real-space programs neglect too.

Validation
----------
tests/test_refine.py: with delta2 = 0 it matches the Debye route
(:func:`~swaxs_lib.scattering.pair_distribution`, Simpson's rule on F(Q) from
the exact sinc sum) to 1e-3 of max|G| for Au clusters; with delta2 > 0 it
matches a brute-force numpy double sum over atom pairs with the same widths.

References
----------
I.-K. Jeong, R. H. Heffner, M. J. Graf, S. J. L. Billinge, Phys. Rev. B 67,
104301 (2003).  C. L. Farrow et al., J. Phys.: Condens. Matter 19, 335219
(2007) (PDFgui).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numba
import numpy as np
import scipy.fft

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.scattering import PairHistogram
from swaxs_lib.scattering.envelope import check_small_angle, small_angle_taper
from swaxs_lib.scattering.form_factors import form_factor

#: Fine-grid spacing (Å) of G_inf; band limit pi/h = 628 1/Å, far above any Q_max.
GRID_STEP_ANGSTROM = 0.005
#: Extra Gaussian width, in grid steps, that makes every peak well sampled (removed in Q space).
FLOOR_STEPS = 3.0
#: Gaussians are cut at this many widths.
GAUSS_CUT = 7.0
#: Smallest 1 - delta2/r^2 kept (pdffit2 and srreal clip the same way, to keep sigma real).
MIN_WIDTH_FACTOR = 1e-4


@dataclass(frozen=True)
class RealSpaceSetup:
    """What does not change during a refinement: the grid, the window, the pair weights.

    Build it once with :func:`realspace_setup`; :func:`realspace_pdf` evaluates it.

    Attributes
    ----------
    histogram : PairHistogram
    r_angstrom : numpy.ndarray
        Where G is wanted (Å).
    q_min_inv_angstrom, q_max_inv_angstrom : float
        The experiment's Q window (1/Å).
    pair_weights : numpy.ndarray (n_pairs,)
        2 f_a f_b / (N <f>^2) per element pair (the 2: each unordered pair is
        counted once in the histogram, G sums ordered pairs).
    length_angstrom : float
        L of the sine transform (Å).
    self_weight : float
        sum_a N_a f_a^2 / (N <f>^2), the i = j part of S_total.
    atomic_volume_angstrom3 : float
        Volume per atom (Å³) that places the small-angle low-pass; NaN keeps
        the particle's small-angle scattering in G.
    """

    histogram: PairHistogram
    r_angstrom: np.ndarray
    q_min_inv_angstrom: float
    q_max_inv_angstrom: float
    pair_weights: np.ndarray
    length_angstrom: float
    self_weight: float = 1.0
    atomic_volume_angstrom3: float = math.nan

    @property
    def elements(self) -> tuple[str, ...]:
        return self.histogram.elements


def realspace_setup(
    histogram: PairHistogram,
    r_angstrom: np.ndarray,
    q_min_inv_angstrom: float,
    q_max_inv_angstrom: float,
    *,
    max_zoom: float = 1.1,
    small_angle: str = "subtract",
) -> RealSpaceSetup:
    """Prepare :func:`realspace_pdf` for one cluster, r grid and Q window.

    Parameters
    ----------
    histogram : PairHistogram
        Of the cluster (any bin width; 1/(8 Q_max) or finer keeps the
        interpolation error below 1e-6).
    r_angstrom : array_like
        r values (Å), finite, >= 0.
    q_min_inv_angstrom, q_max_inv_angstrom : float
        0 <= Q_min < Q_max (1/Å).
    max_zoom : float
        Largest zoom it will be evaluated with (sets the transform length).
    small_angle : {"subtract", "keep"}
        Take the particle's small-angle scattering out (as PDF extraction does
        with measured data; the histogram's atomic volume places the
        low-pass), or keep it.

    Raises
    ------
    SwaxsInputError
        Bad r values or Q window, or a histogram without an atomic volume.
    """
    r = np.asarray(r_angstrom, dtype=float).ravel()
    if r.size == 0 or not np.all(np.isfinite(r)) or np.any(r < 0):
        raise SwaxsInputError("r_angstrom: expected a non-empty array of finite values >= 0 (Å)")
    q_min, q_max = float(q_min_inv_angstrom), float(q_max_inv_angstrom)
    if not (math.isfinite(q_min) and math.isfinite(q_max) and 0 <= q_min < q_max <= 100):
        raise SwaxsInputError(f"Q window: got {q_min!r}..{q_max!r}; expected 0 <= Q_min < Q_max <= 100 (1/Å)")
    f0 = np.array([form_factor(e, [0.0])[0].real for e in histogram.elements])
    counts = np.array(histogram.counts, dtype=float)
    n = counts.sum()
    if n < 2:
        raise SwaxsInputError("histogram: fewer than two atoms; expected a cluster")
    mean_f = float((counts * f0).sum() / n)
    weights = np.array([2.0 * f0[a] * f0[b] for a, b in histogram.pairs]) / (n * mean_f**2)
    self_weight = float((counts * f0**2).sum() / (n * mean_f**2))
    volume = math.nan
    if check_small_angle(small_angle) == "subtract":
        volume = float(histogram.atomic_volume_angstrom3)
        if not (math.isfinite(volume) and volume > 0):
            raise SwaxsInputError("histogram: no atomic volume; expected one from pair_histogram(atoms, ...) "
                                  "to subtract the small-angle scattering")
    reach = histogram.max_distance_angstrom * max(max_zoom, 1.0) + float(r.max())
    # the window's sinc tails, wrapped around by the transform's period 2L, stay below ~3e-5 of max|G|
    # (DST-I of n - 1 interior points is an FFT of length 2n: make n a fast length)
    length = scipy.fft.next_fast_len(int(math.ceil((reach + max(reach, 300.0)) / GRID_STEP_ANGSTROM)))
    length *= GRID_STEP_ANGSTROM
    return RealSpaceSetup(histogram, r, q_min, q_max, weights, length, self_weight, volume)


def realspace_pdf(
    setup: RealSpaceSetup,
    *,
    u_iso_angstrom2: float | Mapping[str, float] = 0.0,
    delta2_angstrom2: float = 0.0,
    q_damp_inv_angstrom: float = 0.0,
    zoom: float = 1.0,
) -> np.ndarray:
    """G(r) (1/Å²) of the cluster with isotropic displacements, correlated motion and damping.

    Parameters
    ----------
    setup : RealSpaceSetup
    u_iso_angstrom2 : float or mapping of element to float
        Mean-square displacement U_iso (Å²) per element (one for all); B = 8 pi^2 U.
    delta2_angstrom2 : float
        Correlated-motion term (Å²): sigma_ij^2 = (U_i + U_j)(1 - delta2 / r_ij^2).
    q_damp_inv_angstrom : float
        Instrument resolution (1/Å): G times exp(-(r Q_damp)^2 / 2).
    zoom : float
        Every interatomic distance times ``zoom`` (1.02 = 2 % expansion).

    Returns
    -------
    numpy.ndarray, G at ``setup.r_angstrom``.

    Raises
    ------
    SwaxsInputError
        Negative U, non-finite parameters, zoom outside (0, max_zoom].
    """
    u = _u_per_element(u_iso_angstrom2, setup.elements)
    for name, value in (("delta2_angstrom2", delta2_angstrom2), ("q_damp_inv_angstrom", q_damp_inv_angstrom)):
        if not (math.isfinite(value) and value >= 0):
            raise SwaxsInputError(f"{name}: got {value!r}; expected a finite number >= 0")
    if not (math.isfinite(zoom) and zoom > 0):
        raise SwaxsInputError(f"zoom: got {zoom!r}; expected a positive number")
    hist = setup.histogram
    h = GRID_STEP_ANGSTROM
    n_grid = int(round(setup.length_angstrom / h))
    floor = FLOOR_STEPS * h
    g_inf = np.zeros(n_grid + 1)
    for k, (a, b) in enumerate(hist.pairs):
        sigma2 = u[a] + u[b]
        _add_gaussians(g_inf, hist.node_weights[k], hist.bin_width_angstrom * zoom, setup.pair_weights[k],
                       sigma2, float(delta2_angstrom2), floor, h)
    # DST-I on the interior points r_j = j h, j = 1..n_grid-1 (G_inf vanishes at 0 and L)
    interior = g_inf[1:n_grid]
    f_q = scipy.fft.dst(interior, type=1) * (h / 2.0)  # = h sum_j G(r_j) sin(Q_k r_j), Q_k = k pi / L
    dq = math.pi / (n_grid * h)
    q = dq * np.arange(1, n_grid)
    window = _window(q, setup.q_min_inv_angstrom, setup.q_max_inv_angstrom, dq)
    f_q *= np.exp(0.5 * (floor * q) ** 2 * (window > 0))
    if math.isfinite(setup.atomic_volume_angstrom3):
        taper = small_angle_taper(q, setup.atomic_volume_angstrom3 * zoom**3)
        f_q -= taper * (f_q + setup.self_weight * q)
    f_q *= window
    g = scipy.fft.dst(f_q, type=1) * (dq / math.pi)  # = (2/pi) dq sum_k F(Q_k) sin(Q_k r_j)
    grid = h * np.arange(1, n_grid)
    out = np.interp(setup.r_angstrom, np.concatenate(([0.0], grid)), np.concatenate(([0.0], g)))
    if q_damp_inv_angstrom > 0:
        out *= np.exp(-0.5 * (setup.r_angstrom * q_damp_inv_angstrom) ** 2)
    return out


def _window(q: np.ndarray, q_min: float, q_max: float, dq: float) -> np.ndarray:
    """1 inside [Q_min, Q_max], the fraction of each edge cell inside it (the trapezoid/midpoint rule)."""
    lo = np.clip((q + dq / 2 - q_min) / dq, 0.0, 1.0)
    hi = np.clip((q_max - (q - dq / 2)) / dq, 0.0, 1.0)
    return np.minimum(lo, hi)


@numba.njit(cache=True, nogil=True)
def _add_gaussians(grid, weights, dr, scale, sigma2, delta2, floor, h):
    """Add scale * w_m [phi(r - r_m) - phi(r + r_m)] / r_m for every node r_m = m dr onto ``grid``."""
    n_grid = grid.shape[0]
    norm = 1.0 / math.sqrt(2.0 * math.pi)
    for m in range(1, weights.shape[0]):
        w = weights[m]
        if w == 0.0:
            continue
        r_m = m * dr
        factor = 1.0 - delta2 / (r_m * r_m)
        if factor < MIN_WIDTH_FACTOR:
            factor = MIN_WIDTH_FACTOR
        s = math.sqrt(sigma2 * factor + floor * floor)
        amp = scale * w * norm / (s * r_m)
        j0 = int((r_m - GAUSS_CUT * s) / h)
        if j0 < 0:
            j0 = 0
        j1 = int((r_m + GAUSS_CUT * s) / h) + 1
        if j1 > n_grid - 1:
            j1 = n_grid - 1
        # exp(-x_j^2/2) on the uniform x_j = (j h - r_m)/s by the recurrence
        # e_{j+1} = e_j a_j, a_{j+1} = a_j c with c = exp(-(h/s)^2): one exp per node, not per point
        t = h / s
        x = (j0 * h - r_m) / s
        e = amp * math.exp(-0.5 * x * x)
        a = math.exp(-x * t - 0.5 * t * t)
        c = math.exp(-t * t)
        for j in range(j0, j1 + 1):
            grid[j] += e
            e *= a
            a *= c
        if r_m < GAUSS_CUT * s:  # the mirror image at -r_m reaches r >= 0 only for the shortest distances
            for j in range(0, int((GAUSS_CUT * s - r_m) / h) + 1):
                y = (j * h + r_m) / s
                grid[j] -= amp * math.exp(-0.5 * y * y)


def _u_per_element(u_iso, elements: tuple[str, ...]) -> np.ndarray:
    if isinstance(u_iso, Mapping):
        missing = [e for e in elements if e not in u_iso]
        if missing:
            raise SwaxsInputError(f"u_iso_angstrom2: no value for {', '.join(missing)}; expected one per element")
        values = [u_iso[e] for e in elements]
    else:
        values = [u_iso] * len(elements)
    out = np.array([float(v) for v in values])
    if not np.all(np.isfinite(out)) or np.any(out < 0):
        raise SwaxsInputError(f"u_iso_angstrom2: got {u_iso!r}; expected finite values >= 0 (Å²)")
    return out


__all__ = ["GRID_STEP_ANGSTROM", "RealSpaceSetup", "realspace_pdf", "realspace_setup"]
