"""Bragg peaks in a SAXS curve: a smooth envelope divided out, then pseudo-Voigt peaks fitted together.

1. **Envelope.**  ln I is resampled on a uniform grid in ln Q, where a form factor's
   power-law decay is a straight line, and a lower envelope B(Q) is drawn through
   it by asymmetric least-squares smoothing (Eilers & Boelens 2005): a Whittaker
   smoother whose points above the curve get weight ``p`` and below ``1 - p``,
   then a symmetric pass that ignores the points standing out of the noise.  Its
   stiffness is a length in ln Q (``envelope_length``, default 0.3: features narrower
   than ~30 % in Q, such as Bragg peaks, are not followed).
2. **Peaks.**  The ratio y = I / B (≈ the structure factor when B is the form
   factor) is searched for local maxima standing out of the noise; all candidates
   are then fitted at once as pseudo-Voigt lines on a constant, with one shared
   Lorentzian fraction η:

   y(Q) = c + Σ_j A_j [η L_j(Q) + (1 − η) G_j(Q)],  L_j = 1 / (1 + 4 x²),  G_j = exp(−4 ln 2 x²),
   x = (Q − Q_j) / w_j,

   with w_j the full width at half maximum.  Uncertainties come from the fit's
   covariance (Jacobian), with σ_y the file's uncertainties divided by B, or,
   when the file has none, the local scatter of y (1.4826 × the median absolute
   deviation of y about a 9-point cubic Savitzky–Golay smooth, in a 51-point
   window, corrected for the smooth's leverage), scaled by
   √(χ²/ν) when that exceeds 1.
3. **Significance.**  A peak is kept when A_j / σ(A_j) ≥ ``min_significance``
   (default 5, i.e. a 5σ amplitude) and its width is at most
   ``max_relative_width`` × Q_j (default 0.15: broader bumps are form-factor
   maxima or liquid-like order, not Bragg peaks); the rest are dropped and the
   fit repeated.

References
----------
Eilers, P. H. C. & Boelens, H. F. M. (2005). Baseline correction with asymmetric least squares smoothing.
Leiden University Medical Centre report.
Thompson, P., Cox, D. E. & Hastings, J. B. (1987). Rietveld refinement of Debye–Scherrer synchrotron X-ray data
from Al2O3. J. Appl. Cryst. 20, 79–83 (the pseudo-Voigt line).

Validation: tests/test_saxs_indexing.py finds the orders of a simulated silver-behenate curve and the lines of
simulated fcc, bcc and 2D-hexagonal assemblies at their known positions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import least_squares
from scipy.sparse.linalg import spsolve
from scipy.signal import find_peaks as _find_maxima
from scipy.signal import peak_widths, savgol_coeffs, savgol_filter
from threadpoolctl import threadpool_limits

from swaxs_lib.errors import SwaxsInputError

_LN2x4 = 4.0 * math.log(2.0)


@dataclass(frozen=True)
class Peak:
    """One fitted peak: position, full width at half maximum and height above the envelope, with σ."""

    q_inv_angstrom: float
    q_sigma_inv_angstrom: float
    fwhm_inv_angstrom: float
    fwhm_sigma_inv_angstrom: float
    height: float  # A_j, in units of the envelope (y = I/B)
    height_sigma: float
    significance: float  # A_j / σ(A_j)
    eta: float  # Lorentzian fraction of the line shape (shared by the peaks fitted together)


@dataclass(frozen=True)
class PeakSearch:
    """The peaks of one curve with what was fitted: the envelope B(Q), the ratio y = I/B and the fitted y."""

    peaks: tuple[Peak, ...]
    q_inv_angstrom: np.ndarray
    intensity: np.ndarray
    envelope: np.ndarray
    ratio: np.ndarray
    fitted_ratio: np.ndarray
    min_significance: float
    max_relative_width: float
    noise: str  # "uncertainties" (the file's) or "scatter" (estimated from the curve)


def _whittaker(y: np.ndarray, w: np.ndarray, lam: float) -> np.ndarray:
    n = y.size
    d = sparse.diags([1.0, -2.0, 1.0], [0, 1, 2], shape=(n - 2, n))
    a = sparse.diags(w) + lam * (d.T @ d)
    return spsolve(a.tocsc(), w * y)


def envelope(q_inv_angstrom: np.ndarray, intensity: np.ndarray, envelope_length: float = 0.3,
             asymmetry: float = 0.01) -> np.ndarray:
    """A smooth lower envelope B(Q) of a positive I(Q) (asymmetric least squares in ln I vs ln Q).

    Examples
    --------
    >>> q = np.linspace(0.01, 0.5, 400)
    >>> b = envelope(q, q**-3.0 * (1 + np.exp(-((q - 0.2) / 0.004) ** 2)))
    >>> bool(np.allclose(b, q**-3.0, rtol=0.02))
    True
    """
    x = np.log(q_inv_angstrom)
    grid = np.linspace(x[0], x[-1], max(64, min(4000, 2 * x.size)))
    z = np.interp(grid, x, np.log(intensity))
    h = grid[1] - grid[0]
    lam = (envelope_length / (2 * math.pi * h)) ** 4  # cutoff period of the smoother = envelope_length in ln Q
    w = np.ones_like(z)
    base = z
    for _ in range(10):
        base = _whittaker(z, w, lam)
        w_new = np.where(z > base, asymmetry, 1.0 - asymmetry)
        if np.array_equal(w_new, w):
            break
        w = w_new
    # symmetric passes through the points that do not stand out of the noise: B through the middle of it
    for _ in range(3):
        r = z - base
        s = 1.4826 * np.median(np.abs(np.diff(r) - np.median(np.diff(r)))) / math.sqrt(2) + 1e-12
        w = (r < 2.5 * s).astype(float)
        if w.sum() < 10:
            break
        base = _whittaker(z, w, lam)
    return np.exp(np.interp(x, grid, base))


def _local_scatter(y: np.ndarray, half: int = 25) -> np.ndarray:
    """σ of y from its own scatter about a cubic Savitzky–Golay smooth (9 points), robust in a sliding window."""
    r = y - savgol_filter(y, 9, 3)
    r /= math.sqrt(1 - savgol_coeffs(9, 3)[4])  # a residual's variance is σ² (1 − leverage of the centre point)
    out = np.empty_like(y)
    for i in range(y.size):
        seg = r[max(0, i - half):i + half + 1]
        out[i] = 1.4826 * np.median(np.abs(seg - np.median(seg)))
    # no curve is known better than 1e-4 relative; a window of exact zeros would otherwise weigh without bound
    return np.maximum(np.maximum(out, 0.2 * np.median(out)), 1e-4 * np.abs(y))


def _profile(q, c, eta, centers, widths, heights):
    x = (q[:, None] - centers[None, :]) / widths[None, :]
    shape = eta / (1 + 4 * x * x) + (1 - eta) * np.exp(-_LN2x4 * x * x)
    return c + shape @ heights


def _fit(q, y, s, anchor_c, anchor_w, start):
    """Least squares of the profile; (parameters, σ) as [c, η, centres, widths, heights].

    Fitted in scaled units so that every parameter is of order one: centre = anchor_c + u · anchor_w
    (|u| ≤ 1), width = anchor_w · exp(v), height = anchor height · t; ``start`` is the previous solution.
    """
    n = anchor_c.size
    dq = np.median(np.diff(q))
    c0, eta, centers, widths, heights = start[0], start[1], start[2:2 + n], start[2 + n:2 + 2 * n], start[2 + 2 * n:]
    h_scale = np.maximum(np.abs(heights), 1e-6)
    v_lo = np.log(1.5 * dq / anchor_w)
    v_hi = np.log(0.5 * anchor_c / anchor_w)
    p0 = np.concatenate([[c0, eta], np.clip((centers - anchor_c) / anchor_w, -0.99, 0.99),
                         np.clip(np.log(widths / anchor_w), v_lo + 1e-6, v_hi - 1e-6), np.maximum(heights / h_scale, 0)])
    lo = np.concatenate([[-np.inf, 0.0], np.full(n, -1.0), v_lo, np.zeros(n)])
    hi = np.concatenate([[np.inf, 1.0], np.full(n, 1.0), v_hi, np.full(n, np.inf)])
    p0[1] = min(max(p0[1], 1e-6), 1 - 1e-6)

    def natural(p):
        return (p[0], p[1], anchor_c + p[2:2 + n] * anchor_w, anchor_w * np.exp(p[2 + n:2 + 2 * n]),
                p[2 + 2 * n:] * h_scale)

    def resid(p):
        return (_profile(q, *natural(p)) - y) / s

    def jac(p):
        c, eta, cen, wid, hei = natural(p)
        x = (q[:, None] - cen[None, :]) / wid[None, :]
        lor = 1 / (1 + 4 * x * x)
        gau = np.exp(-_LN2x4 * x * x)
        d_shape_dx = eta * (-8 * x * lor * lor) + (1 - eta) * (-2 * _LN2x4 * x * gau)
        out = np.empty((q.size, 2 + 3 * n))
        out[:, 0] = 1.0
        out[:, 1] = (lor - gau) @ hei
        out[:, 2:2 + n] = hei * d_shape_dx * (-1 / wid) * anchor_w  # d/du, centre = anchor_c + u anchor_w
        out[:, 2 + n:2 + 2 * n] = hei * d_shape_dx * (-x / wid) * wid  # d/dv, width = anchor_w exp(v)
        out[:, 2 + 2 * n:] = (eta * lor + (1 - eta) * gau) * h_scale  # d/dt, height = t h_scale
        return out / s[:, None]

    res = least_squares(resid, p0, jac=jac, bounds=(lo, hi), max_nfev=50 * (3 * n + 2))
    dof = max(1, y.size - p0.size)
    chi2_red = float(res.fun @ res.fun) / dof
    cov = np.linalg.pinv(res.jac.T @ res.jac) * max(1.0, chi2_red)
    e = np.sqrt(np.clip(np.diag(cov), 0, None))
    c, eta, centers, widths, heights = natural(res.x)
    p = np.concatenate([[c, eta], centers, widths, heights])
    err = np.concatenate([e[:2], e[2:2 + n] * anchor_w, e[2 + n:2 + 2 * n] * widths, e[2 + 2 * n:] * h_scale])
    return p, err


def find_peaks(q_inv_angstrom, intensity, sigma=None, *, min_significance: float = 5.0,
               max_relative_width: float = 0.15, envelope_length: float = 0.3, max_peaks: int = 30) -> PeakSearch:
    """Background-corrected Bragg peaks of I(Q), fitted together, with position and width uncertainties.

    Parameters
    ----------
    q_inv_angstrom, intensity : array_like
        The curve, Q in 1/Å (increasing), I > 0 where it counts (non-positive points are dropped).
    sigma : array_like, optional
        One-standard-deviation uncertainties of I; without them the noise is estimated from the curve's scatter.
    min_significance : float
        Fitted height over its σ a peak needs to be kept (default 5).
    max_relative_width : float
        Largest FWHM / Q of a peak (default 0.15).
    envelope_length : float
        Stiffness of the envelope, a length in ln Q (default 0.3).
    max_peaks : int
        At most this many candidates (the most prominent) go into the fit.

    Returns
    -------
    PeakSearch
        Peaks sorted by Q.

    Raises
    ------
    SwaxsInputError
        Fewer than 20 usable points, Q not increasing, or a threshold out of range.
    """
    q = np.asarray(q_inv_angstrom, dtype=float)
    i_q = np.asarray(intensity, dtype=float)
    if q.shape != i_q.shape or q.ndim != 1:
        raise SwaxsInputError(f"intensity: got shape {i_q.shape} for Q of shape {q.shape}; expected equal 1-D arrays")
    if not (np.isfinite(min_significance) and min_significance > 0):
        raise SwaxsInputError(f"min_significance: got {min_significance}; expected a number > 0")
    if not (0 < max_relative_width <= 1):
        raise SwaxsInputError(f"max_relative_width: got {max_relative_width}; expected a number in (0, 1]")
    keep = np.isfinite(q) & np.isfinite(i_q) & (q > 0) & (i_q > 0)
    s_in = None
    if sigma is not None:
        s_in = np.asarray(sigma, dtype=float)
        keep &= np.isfinite(s_in) & (s_in > 0)
    q, i_q = q[keep], i_q[keep]
    if q.size < 20:
        raise SwaxsInputError(f"data: {q.size} points with Q > 0 and I > 0; expected at least 20 to look for peaks")
    if np.any(np.diff(q) <= 0):
        raise SwaxsInputError("data: Q is not strictly increasing; expected one intensity per Q, sorted")
    b = envelope(q, i_q, envelope_length)
    y = i_q / b
    if s_in is not None:
        s, noise = s_in[keep] / b, "uncertainties"
    else:
        s, noise = _local_scatter(y), "scatter"
    # candidates: maxima of the lightly smoothed ratio (σ/√3) that stand 2σ (3.5 of their σ) above their surroundings
    ys = np.convolve(y, np.ones(3) / 3, mode="same")
    idx, props = _find_maxima(ys, prominence=2 * s)
    inner = (idx > 2) & (idx < q.size - 3)
    idx, prom = idx[inner], props["prominences"][inner]
    if idx.size == 0:
        return PeakSearch((), q, i_q, b, y, np.full_like(y, np.median(y)), min_significance,
                          max_relative_width, noise)
    # a first guess at each candidate's significance: prominence over σ averaged across its width; the
    # hopeless ones (below half the threshold) would only slow the joint fit down
    widths_idx = peak_widths(ys, idx, rel_height=0.5)[0]
    rough = prom / s[idx] * np.sqrt(np.maximum(widths_idx, 1.0))
    hopeful = rough >= 0.5 * min_significance
    idx, prom, widths_idx = idx[hopeful], prom[hopeful], widths_idx[hopeful]
    best = np.sort(np.argsort(prom)[::-1][:max_peaks])
    idx, widths_idx = idx[best], widths_idx[best]
    if idx.size == 0:
        return PeakSearch((), q, i_q, b, y, np.full_like(y, np.median(y)), min_significance,
                          max_relative_width, noise)
    centers = q[idx]
    widths = np.maximum(np.interp(idx + widths_idx / 2, np.arange(q.size), q)
                        - np.interp(idx - widths_idx / 2, np.arange(q.size), q), 2 * np.gradient(q)[idx])
    heights = np.maximum(ys[idx] - np.median(y), 1e-6)
    order = np.argsort(centers)
    centers, widths, heights = centers[order], widths[order], heights[order]
    fitted = np.full_like(y, np.median(y))
    peaks: list[Peak] = []
    # overlapping candidates (within 4 FWHM) are fitted together, separate groups apart
    edges = np.flatnonzero(centers[1:] - 4 * widths[1:] > centers[:-1] + 4 * widths[:-1]) + 1
    for group in np.split(np.arange(centers.size), edges):
        # the fits' small SVDs are several times slower when BLAS spreads them over busy cores
        with threadpool_limits(limits=1, user_api="blas"):
            found, region, model = _fit_group(q, y, s, centers[group], widths[group], heights[group],
                                              min_significance, max_relative_width)
        peaks.extend(found)
        if region is not None:
            fitted[region] = model
    peaks.sort(key=lambda pk: pk.q_inv_angstrom)
    return PeakSearch(tuple(peaks), q, i_q, b, y, fitted, float(min_significance), float(max_relative_width), noise)


def _fit_group(q, y, s, centers, widths, heights, min_significance, max_relative_width):
    """Fit one group of overlapping candidates, dropping insignificant ones until all stand out.

    Lines broader than ``max_relative_width`` × Q stay in the fit (they take up what the envelope left,
    e.g. a form-factor maximum) but are not reported as peaks.
    """
    dq = np.median(np.diff(q))
    anchor_c, anchor_w = centers.copy(), np.clip(widths, 2 * dq, 0.4 * centers)
    start = np.concatenate([[float(np.median(y)), 0.3], anchor_c, anchor_w, np.maximum(heights, 1e-6)])
    for _ in range(3 * centers.size + 2):
        n = anchor_c.size
        near = np.zeros(q.size, dtype=bool)
        for c0, w0 in zip(anchor_c, anchor_w):
            near |= np.abs(q - c0) < 4 * w0
        p, e = _fit(q[near], y[near], s[near], anchor_c, anchor_w, start)
        c, eta = p[0], p[1]
        centers, widths, heights = p[2:2 + n], p[2 + n:2 + 2 * n], p[2 + 2 * n:]
        ec, ew, eh = e[2:2 + n], e[2 + n:2 + 2 * n], e[2 + 2 * n:]
        sig = heights / np.where(eh > 0, eh, np.inf)
        inside = (centers > q[0]) & (centers < q[-1])
        weak = (sig < min_significance) | ~inside
        if not weak.any():
            sharp = widths <= max_relative_width * centers
            found = [Peak(float(centers[j]), float(ec[j]), float(widths[j]), float(ew[j]), float(heights[j]),
                          float(eh[j]), float(sig[j]), float(eta)) for j in range(n) if sharp[j]]
            return found, near, _profile(q[near], c, eta, centers, widths, heights)
        # the clearly spurious all at once, otherwise the weakest alone: a refit can lift the others
        clear = weak & (sig < 0.5 * min_significance)
        drop = clear if clear.any() else (np.arange(n) == np.argmin(np.where(inside, sig, -np.inf)))
        if drop.all():
            return [], None, None
        keep = np.concatenate([[True, True], np.tile(~drop, 3)])
        anchor_c, anchor_w, start = anchor_c[~drop], anchor_w[~drop], p[keep]
    return [], None, None
