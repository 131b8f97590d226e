"""Guinier and Porod analysis of a small-angle I(Q): R_g, I(0), the Porod exponent, Kratky and Porod views.

Guinier law [1]_
    I(Q) ≈ I(0) exp(−Q² R_g² / 3) for Q·R_g ≲ 1.3 (globular particles), i.e.
    ln I linear in Q² with slope −R_g²/3.  A homogeneous sphere of radius R has
    R_g = √(3/5) R, so the implied sphere radius is R = √(5/3) R_g.

Porod region [1]_ [2]_
    I(Q) = K Q^−n + B at Q ≫ 1/R_g: n = 4 for smooth sharp interfaces (Porod's law,
    K = 2π Δρ² S/V), 3 < n < 4 for rough (surface-fractal) interfaces, n < 3 for mass
    fractals (n = D_m), n > 4 for diffuse interfaces; B is a flat background.

The automatic Guinier range (:func:`guinier_fit`)
-------------------------------------------------
Weighted linear least squares of y = ln I against t = Q² (weights (I/σ)², σ(ln I) = σ/I;
equal weights without σ).  The usable points are those with finite I > 0 (and finite σ > 0
when σ is given); the windows all start at the lowest usable Q (or at the first usable point
≥ ``q_min_inv_angstrom``) and run over consecutive usable points.  A window of n points is
*acceptable* when

1. n ≥ :data:`MIN_GUINIER_POINTS` (6) and the slope is negative (R_g² > 0);
2. it is self-consistent: Q_max·R_g ≤ :data:`QRG_MAX` (1.3) with R_g from that window's fit;
3. it is linear: **either** the r.m.s. deviation of ln I from the line is at most
   :data:`LINEAR_RMS_TOLERANCE` (2·10⁻⁴: at this level a neglected curvature shifts R_g by
   under 0.5 %/(Q_max R_g)², so noise-free curves are not held to an impossible standard),
   **or** both statistical tests pass: the curvature coefficient c of a weighted quadratic fit
   ln I = a + b t + c t² is within :data:`CURVATURE_Z` (2.5) of its standard uncertainty
   (the uncertainty scaled by √χ²_red of that fit when χ²_red > 1 or without σ), and the
   residual signs of the line show no significant lack of runs (one-sided exact
   Wald–Wolfowitz runs test, p ≥ :data:`RUNS_P_MIN`, 0.01).

The chosen range is the longest acceptable window.  The curvature test is what shortens the
range of a precise curve: for a sphere ln I = −Q²R²/5 − Q⁴R⁴/350 − …, a concave Q⁴ term
that, fitted over Q·R_g ≤ 1.3, makes a straight line's R_g up to 2 % too large.

Uncertainties: the covariance of the weighted fit, multiplied by χ²_red when χ²_red > 1 (σ
that do not explain the scatter), or by the residual variance when there is no σ.  Then
σ(R_g) = 3 σ(b) / (2 R_g), σ(I(0)) = I(0) σ(a), σ(R) = √(5/3) σ(R_g).

Refusals (:class:`GuinierRefusal`, a :class:`~swaxs_lib.errors.SwaxsInputError`): fewer than
6 usable points from the start, ln I not falling at the lowest Q (a structure-factor peak or
a rising low-Q edge), no window with Q_max·R_g ≤ 1.3 (a power law, or objects larger than the
Q range resolves), or no window that is linear.  A warning (``warnings.warn``, also kept in
:attr:`GuinierFit.warnings`) when the range starts at Q_min·R_g > :data:`QMIN_RG_WARN` (1.0):
the data start too high in Q for the size.

The automatic Porod window (:func:`porod_fit`)
----------------------------------------------
From Q = :data:`PORD_QRG` / R_g (4/R_g: for a sphere Q R = 5.2, past the first form-factor
minima, where a polydisperse sphere's I(Q) follows its Q⁻⁴ envelope) to the last point;
without an R_g, the upper half of the data's log Q range (Q ≥ √(Q_first Q_last)).  At least
:data:`MIN_PORD_POINTS` (10) points.  I = K Q^−n + B is fitted by weighted least squares (weights
1/σ², or 1/I² without σ): K and B are linear, n is found by a bounded 1-D search over
[:data:`PORD_N_BOUNDS`]; the covariance of (K, n, B) from the Jacobian at the optimum, scaled
as for the Guinier fit.

What the data cannot decide: a Guinier R_g is the contrast-weighted R_g of whatever scatters
at low Q (aggregates, a polydisperse population's large end: ⟨R⁸⟩/⟨R⁶⟩ weighted); interparticle
interference (a structure-factor peak) bends the low-Q curve and makes any apparent Guinier
region there meaningless; and K depends on the background and the Q window when n is free.

References
----------
.. [1] O. Glatter and O. Kratky (eds.), *Small Angle X-ray Scattering*, Academic Press (1982),
   ch. 2 (Guinier law, R_g of a sphere) and ch. 3 (Porod law).
.. [2] G. Beaucage, "Approximations leading to a unified exponential/power-law approach to
   small-angle scattering", J. Appl. Cryst. 28, 717-728 (1995).
.. [3] D. I. Svergun, M. H. J. Koch, P. A. Timmins and R. P. May, *Small Angle X-Ray and Neutron
   Scattering from Solutions of Biological Macromolecules*, Oxford (2013), §4.2 (Q_max R_g ≤ 1.3).
.. [4] A. Wald and J. Wolfowitz, "On a test whether two samples are from the same population",
   Ann. Math. Statist. 11, 147-162 (1940) (the runs distribution).

Validation
----------
tests/test_saxs_guinier.py: sasmodels' sphere (R = 34.907 Å and others, with and without noise)
against R_g = √(3/5) R; sasmodels' mono_gauss_coil (Debye) against its R_g; the Porod exponent
of a polydisperse sphere (4) and of a power law; the measured Ludox SANS (refused: rising
low-Q edge) and alumina USAXS curves.

Examples
--------
>>> import numpy as np
>>> q = np.linspace(0.002, 0.3, 300)
>>> qr = q * 30.0
>>> sphere = 1e3 * (3 * (np.sin(qr) - qr * np.cos(qr)) / qr**3) ** 2   # R = 30 Å: R_g = 23.24 Å
>>> fit = guinier_fit(q, sphere)
>>> round(fit.rg_angstrom, 1), round(fit.sphere_radius_angstrom, 1), round(fit.i0)
(23.3, 30.0, 1000)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from swaxs_lib.errors import SwaxsInputError

#: Fewest points of a Guinier window.
MIN_GUINIER_POINTS = 6
#: Largest Q_max·R_g of a Guinier window (globular particles).
QRG_MAX = 1.3
#: Q_min·R_g above which the data start too high in Q for the size (a warning).
QMIN_RG_WARN = 1.0
#: R.m.s. deviation of ln I from the Guinier line accepted whatever the statistics say.
LINEAR_RMS_TOLERANCE = 2e-4
#: Curvature coefficient of ln I vs Q² accepted within this many standard uncertainties.
CURVATURE_Z = 2.5
#: Smallest one-sided p-value of the residual-sign runs test.
RUNS_P_MIN = 0.01
#: The Porod window starts at Q = PORD_QRG / R_g.
PORD_QRG = 4.0
#: Fewest points of a Porod window.
MIN_PORD_POINTS = 10
#: Search range of the Porod exponent n.
PORD_N_BOUNDS = (0.5, 8.0)
#: R = SPHERE_FACTOR · R_g for a homogeneous sphere.
SPHERE_FACTOR = math.sqrt(5.0 / 3.0)


class GuinierRefusal(SwaxsInputError):
    """The curve has no Guinier region (by the rules of :mod:`swaxs_lib.saxs.guinier`); the message says why."""


@dataclass(frozen=True)
class GuinierFit:
    """A Guinier fit ln I = ln I(0) − (R_g²/3) Q² and where it was made.

    Attributes
    ----------
    rg_angstrom, rg_angstrom_sigma : float
        Radius of gyration (Å) and its standard uncertainty.
    i0, i0_sigma : float
        I(0), in the data's intensity units, and its standard uncertainty.
    sphere_radius_angstrom, sphere_radius_angstrom_sigma : float
        The homogeneous sphere with this R_g: R = √(5/3) R_g (Å).
    q_min_inv_angstrom, q_max_inv_angstrom : float
        First and last Q of the range (1/Å).
    n_points : int
        Points fitted.
    qmin_rg, qmax_rg : float
        Q_min·R_g and Q_max·R_g.
    chi2_reduced : float or None
        χ²/(n − 2) of the weighted fit (None without σ).
    curvature_z : float
        |c|/σ(c) of the quadratic term of ln I vs Q² over the range.
    runs_p_value : float
        One-sided p-value of the residual-sign runs test (small: too few runs).
    rms_ln_intensity : float
        R.m.s. deviation of ln I from the line.
    automatic : bool
        Whether the range was chosen automatically (else both ends were given).
    weighted : bool
        Whether the fit used the data's σ.
    first_index, last_index : int
        Index of the range's first and last point in the arrays given.
    warnings : tuple of str
        Cautions about this fit (also issued with ``warnings.warn``).
    """

    rg_angstrom: float
    rg_angstrom_sigma: float
    i0: float
    i0_sigma: float
    sphere_radius_angstrom: float
    sphere_radius_angstrom_sigma: float
    q_min_inv_angstrom: float
    q_max_inv_angstrom: float
    n_points: int
    qmin_rg: float
    qmax_rg: float
    chi2_reduced: float | None
    curvature_z: float
    runs_p_value: float
    rms_ln_intensity: float
    automatic: bool
    weighted: bool
    first_index: int
    last_index: int
    warnings: tuple[str, ...] = ()

    def ln_intensity(self, q_inv_angstrom) -> np.ndarray:
        """The fitted line ln I(0) − R_g² Q²/3 at these Q (1/Å)."""
        q = np.asarray(q_inv_angstrom, dtype=float)
        return math.log(self.i0) - self.rg_angstrom**2 * q**2 / 3.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of every field (units in the names, σ as ``<name>_sigma``)."""
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class PorodFit:
    """A fit I = K Q^−n + B over a high-Q window.

    Attributes
    ----------
    exponent, exponent_sigma : float
        The power n and its standard uncertainty.
    constant, constant_sigma : float
        K, in the data's intensity units times (1/Å)^n.
    background, background_sigma : float
        B, in the data's intensity units.
    q_min_inv_angstrom, q_max_inv_angstrom : float
        The window (1/Å).
    n_points : int
        Points fitted.
    chi2_reduced : float or None
        χ²/(n − 3) (None without σ).
    automatic : bool
        Whether the window was chosen automatically.
    weighted : bool
        Whether the fit used the data's σ (else weights 1/I²).
    first_index, last_index : int
        Index of the window's first and last point in the arrays given.
    """

    exponent: float
    exponent_sigma: float
    constant: float
    constant_sigma: float
    background: float
    background_sigma: float
    q_min_inv_angstrom: float
    q_max_inv_angstrom: float
    n_points: int
    chi2_reduced: float | None
    automatic: bool
    weighted: bool
    first_index: int
    last_index: int

    def intensity(self, q_inv_angstrom) -> np.ndarray:
        """The fitted K Q^−n + B at these Q (1/Å)."""
        q = np.asarray(q_inv_angstrom, dtype=float)
        return self.constant * q ** (-self.exponent) + self.background

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of every field."""
        return dict(self.__dict__)


# -- input -----------------------------------------------------------------------------------------


def _arrays(q, intensity, sigma) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    q = np.asarray(q, dtype=float)
    i = np.asarray(intensity, dtype=float)
    if q.ndim != 1 or i.shape != q.shape:
        raise SwaxsInputError(f"intensity: got shape {i.shape} for Q of shape {q.shape}; expected two 1-D arrays "
                              "of the same length")
    if not np.all(np.isfinite(q)) or q.size and q[0] < 0 or np.any(np.diff(q) <= 0):
        raise SwaxsInputError("q_inv_angstrom: expected finite Q >= 0, strictly increasing (1/Å)")
    if sigma is not None:
        sigma = np.asarray(sigma, dtype=float)
        if sigma.shape != q.shape:
            raise SwaxsInputError(f"sigma: got shape {sigma.shape}; expected {q.shape}, one per point")
    return q, i, sigma


def _check_range(q_min, q_max) -> None:
    for name, value in (("q_min", q_min), ("q_max", q_max)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise SwaxsInputError(f"{name}: got {value}; expected a finite Q >= 0 (1/Å)")
    if q_min is not None and q_max is not None and not q_min < q_max:
        raise SwaxsInputError(f"q_min: got {q_min} >= q_max {q_max}; expected q_min < q_max (1/Å)")


# -- small statistics --------------------------------------------------------------------------------


def _weighted_lstsq(design: np.ndarray, y: np.ndarray, w: np.ndarray):
    """Coefficients, their unscaled covariance (JᵀWJ)⁻¹, χ² and residuals of a weighted linear fit."""
    sw = np.sqrt(w)
    scale = np.abs(design).max(axis=0)
    scale[scale == 0] = 1.0
    a = design / scale * sw[:, None]
    coef, *_ = np.linalg.lstsq(a, y * sw, rcond=None)
    cov = np.linalg.pinv(a.T @ a)
    coef = coef / scale
    cov = cov / np.outer(scale, scale)
    residual = y - design @ coef
    return coef, cov, float(np.sum(w * residual**2)), residual


def _cov_factor(chi2: float, dof: int, weighted: bool) -> float:
    """What the unscaled covariance is multiplied by: χ²_red, at least 1 with σ; χ²_red alone without."""
    if dof <= 0:
        return math.inf
    red = chi2 / dof
    return max(1.0, red) if weighted else red


def runs_p_value(residual: np.ndarray) -> float:
    """One-sided exact p-value of seeing this few runs of residual signs by chance (zeros left out) [4]_."""
    signs = np.sign(residual[residual != 0])
    n1, n2 = int(np.sum(signs > 0)), int(np.sum(signs < 0))
    if n1 == 0 or n2 == 0:
        return 1.0 if n1 + n2 < 2 else 0.0
    runs = 1 + int(np.sum(signs[1:] != signs[:-1]))
    total = math.comb(n1 + n2, n1)
    p = 0.0
    for r in range(2, runs + 1):
        k = r // 2
        if r % 2 == 0:
            p += 2 * math.comb(n1 - 1, k - 1) * math.comb(n2 - 1, k - 1)
        else:
            p += math.comb(n1 - 1, k - 1) * math.comb(n2 - 1, k) + math.comb(n1 - 1, k) * math.comb(n2 - 1, k - 1)
    return min(1.0, p / total)


# -- Guinier ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    """One window's line fit and its linearity diagnostics."""

    a: float
    b: float
    cov: np.ndarray = field(repr=False)
    chi2: float
    rms: float
    curvature_z: float
    runs_p: float

    @property
    def linear(self) -> bool:
        return self.rms <= LINEAR_RMS_TOLERANCE or (self.curvature_z <= CURVATURE_Z and self.runs_p >= RUNS_P_MIN)


def _fit_window(t: np.ndarray, y: np.ndarray, w: np.ndarray, weighted: bool) -> _Window:
    n = t.size
    ones = np.ones_like(t)
    (a, b), cov, chi2, residual = _weighted_lstsq(np.column_stack([ones, t]), y, w)
    rms = float(np.sqrt(np.mean(residual**2)))
    curvature_z = 0.0
    if n >= 4:
        tc = t - t.mean()  # centred: the quadratic's conditioning
        coef, qcov, qchi2, _ = _weighted_lstsq(np.column_stack([ones, tc, tc**2]), y, w)
        factor = _cov_factor(qchi2, n - 3, weighted)
        sigma_c = math.sqrt(max(qcov[2, 2] * factor, 0.0))
        curvature_z = abs(coef[2]) / sigma_c if sigma_c > 0 else (0.0 if coef[2] == 0 else math.inf)
    return _Window(float(a), float(b), cov, chi2, rms, float(curvature_z), runs_p_value(residual))


def _usable(i: np.ndarray, sigma: np.ndarray | None) -> np.ndarray:
    ok = np.isfinite(i) & (i > 0)
    if sigma is not None:
        ok &= np.isfinite(sigma) & (sigma > 0)
    return ok


def guinier_fit(q_inv_angstrom, intensity, sigma=None, *, q_min_inv_angstrom: float | None = None,
                q_max_inv_angstrom: float | None = None) -> GuinierFit:
    """R_g and I(0) from the Guinier region at the lowest Q, chosen automatically or given.

    Parameters
    ----------
    q_inv_angstrom : array_like (n,)
        Q (1/Å), strictly increasing.
    intensity : array_like (n,)
        I(Q) in any units; I(0) comes out in the same.
    sigma : array_like (n,), optional
        One standard deviation of I; without it the fit is unweighted and its
        uncertainties come from the residual scatter.
    q_min_inv_angstrom : float, optional
        Start the range at the first usable point at or above this Q (default: the lowest usable Q).
    q_max_inv_angstrom : float, optional
        End the range at the last point at or below this Q.  Given, the range is fixed (no search,
        at least 3 points; failing the automatic rules is a warning); not given, the longest
        acceptable window is chosen (see the module's rules).

    Returns
    -------
    GuinierFit

    Raises
    ------
    GuinierRefusal
        No Guinier region (too few usable points, ln I not falling at the start, no
        self-consistent or no linear window); the message says which and what was found.
    SwaxsInputError
        Arrays of different lengths, Q not increasing, a bad range.

    Warns
    -----
    UserWarning
        Q_min·R_g > 1 (data start too high in Q); for a given range also Q_max·R_g > 1.3 or a
        range that the linearity tests reject.
    """
    q, i, sigma = _arrays(q_inv_angstrom, intensity, sigma)
    _check_range(q_min_inv_angstrom, q_max_inv_angstrom)
    weighted = sigma is not None
    ok = _usable(i, sigma)
    start_q = q_min_inv_angstrom if q_min_inv_angstrom is not None else -math.inf
    candidates = np.flatnonzero(ok & (q >= start_q))
    where = "" if q_min_inv_angstrom is None else f" at or above q_min = {q_min_inv_angstrom:g} 1/Å"
    if candidates.size == 0:
        raise GuinierRefusal(f"no point with I > 0{' and σ > 0' if weighted else ''}{where}; a Guinier fit needs "
                             "positive intensities")
    first = int(candidates[0])
    if q_max_inv_angstrom is not None:
        index = np.flatnonzero(ok & (q >= start_q) & (q <= q_max_inv_angstrom))
        return _fixed_range(q, i, sigma, index, automatic=False)
    # consecutive usable points from the first: the region ends at the first unusable one
    stop = first + 1
    while stop < q.size and ok[stop]:
        stop += 1
    n_usable = stop - first
    if n_usable < MIN_GUINIER_POINTS:
        raise GuinierRefusal(
            f"only {n_usable} consecutive usable point(s) from Q = {q[first]:.4g} 1/Å{where} (I > 0"
            f"{', σ > 0' if weighted else ''}); a Guinier fit needs at least {MIN_GUINIER_POINTS}")
    t = q[first:stop] ** 2
    y = np.log(i[first:stop])
    w = (i[first:stop] / sigma[first:stop]) ** 2 if weighted else np.ones_like(t)
    best, seen_negative, seen_consistent, first_slope, smallest_qrg = None, False, False, None, math.inf
    for n in range(MIN_GUINIER_POINTS, n_usable + 1):
        window = _fit_window(t[:n], y[:n], w[:n], weighted)
        if first_slope is None:
            first_slope = window.b
        if not window.b < 0:
            continue
        seen_negative = True
        rg = math.sqrt(-3.0 * window.b)
        qrg = q[first + n - 1] * rg
        smallest_qrg = min(smallest_qrg, qrg)
        if qrg > QRG_MAX:
            continue
        seen_consistent = True
        if window.linear:
            best = (n, window)
    if best is None:
        if not seen_negative:
            raise GuinierRefusal(
                f"ln I does not fall with Q² at the lowest Q{where} (slope {first_slope:+.4g} Å² over the first "
                f"{MIN_GUINIER_POINTS} points from Q = {q[first]:.4g} 1/Å): the intensity rises or is flat there, "
                "as with interparticle interference (a structure-factor peak) or a rising low-Q edge; no Guinier "
                "region")
        if not seen_consistent:
            raise GuinierRefusal(
                f"no window from Q = {q[first]:.4g} 1/Å{where} with Q_max·R_g <= {QRG_MAX} (the smallest found is "
                f"{smallest_qrg:.3g}): the curve falls too steeply at its start (a power law, or objects larger "
                "than the Q range resolves); no Guinier region")
        raise GuinierRefusal(
            f"no window from Q = {q[first]:.4g} 1/Å{where} with Q_max·R_g <= {QRG_MAX} is linear in ln I vs Q² "
            f"(curvature within {CURVATURE_Z} σ and residual runs p >= {RUNS_P_MIN}); no Guinier region")
    n, window = best
    return _result(q, i, first, first + n - 1, window, weighted, automatic=True, notes=())


def _fixed_range(q, i, sigma, index: np.ndarray, *, automatic: bool) -> GuinierFit:
    weighted = sigma is not None
    if index.size < 3:
        raise GuinierRefusal(f"only {index.size} usable point(s) in the Q range given; a Guinier fit needs at least 3")
    t, y = q[index] ** 2, np.log(i[index])
    w = (i[index] / sigma[index]) ** 2 if weighted else np.ones_like(t)
    window = _fit_window(t, y, w, weighted)
    if not window.b < 0:
        raise GuinierRefusal(f"ln I does not fall with Q² in the range given (slope {window.b:+.4g} Å²): "
                             "no Guinier region there")
    notes = []
    skipped = int(index[-1] - index[0] + 1 - index.size)
    if skipped:
        notes.append(f"{skipped} point(s) with I <= 0 or no σ left out of the range given")
    qrg = q[index[-1]] * math.sqrt(-3.0 * window.b)
    if qrg > QRG_MAX:
        notes.append(f"Q_max·R_g = {qrg:.3g} > {QRG_MAX}: the range given reaches beyond the Guinier region")
    if not window.linear:
        notes.append(f"the range given fails the linearity tests (curvature {window.curvature_z:.2g} σ, runs "
                     f"p = {window.runs_p:.2g})")
    return _result(q, i, int(index[0]), int(index[-1]), window, weighted, automatic=automatic, notes=tuple(notes),
                   n_points=int(index.size))


def _result(q, i, first: int, last: int, window: _Window, weighted: bool, *, automatic: bool,
            notes: tuple[str, ...], n_points: int | None = None) -> GuinierFit:
    n = n_points if n_points is not None else last - first + 1
    factor = _cov_factor(window.chi2, n - 2, weighted)
    rg = math.sqrt(-3.0 * window.b)
    sigma_b = math.sqrt(window.cov[1, 1] * factor) if math.isfinite(factor) else math.inf
    sigma_a = math.sqrt(window.cov[0, 0] * factor) if math.isfinite(factor) else math.inf
    rg_sigma = 1.5 * sigma_b / rg
    i0 = math.exp(window.a)
    qmin_rg = q[first] * rg
    notes = list(notes)
    if qmin_rg > QMIN_RG_WARN:
        notes.append(f"Q_min·R_g = {qmin_rg:.3g} > {QMIN_RG_WARN}: the data start too high in Q for this size; "
                     "R_g and I(0) are extrapolated from outside the Guinier plateau")
    for note in notes:
        warnings.warn(note, stacklevel=3)
    return GuinierFit(
        rg_angstrom=rg, rg_angstrom_sigma=rg_sigma, i0=i0, i0_sigma=i0 * sigma_a,
        sphere_radius_angstrom=SPHERE_FACTOR * rg, sphere_radius_angstrom_sigma=SPHERE_FACTOR * rg_sigma,
        q_min_inv_angstrom=float(q[first]), q_max_inv_angstrom=float(q[last]), n_points=int(n),
        qmin_rg=float(qmin_rg), qmax_rg=float(q[last] * rg),
        chi2_reduced=window.chi2 / (n - 2) if weighted and n > 2 else None,
        curvature_z=window.curvature_z, runs_p_value=window.runs_p, rms_ln_intensity=window.rms,
        automatic=automatic, weighted=weighted, first_index=first, last_index=last, warnings=tuple(notes),
    )
