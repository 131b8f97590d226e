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
3. its residuals show no structure: the signs of the residuals from the line come in no
   fewer runs than chance allows (one-sided exact Wald–Wolfowitz runs test [4]_,
   p ≥ :data:`RUNS_P_MIN` = 0.01), unless ln I deviates from the line by at most
   :data:`LINEAR_RMS_TOLERANCE` (2·10⁻⁴ r.m.s.; a noise-free curve is not held to a
   statistical test);
4. its curvature does not bias R_g: the Guinier law is a two-term cumulant expansion, and the
   next term, c Q⁴, shifts a straight line's slope by c·cov_w(t, t²)/var_w(t) over the window.
   c is taken from a weighted quadratic fit ln I = a + b t + c t² over the longest
   self-consistent window, at its one-σ upper bound |c| + σ(c) (σ scaled by √χ²_red when above 1
   or without σ, so that a noisy c errs towards a shorter range); the R_g shift this implies
   must be at most :data:`SHIFT_SIGMA` (0.5) times R_g's uncertainty from the fit, or
   :data:`CURVATURE_SHIFT_TOLERANCE` (0.3 %) of R_g, whichever is larger.

The chosen range is the longest acceptable window.  Rule 4 is what shortens the range of a
precise curve: for a sphere ln I = −Q²R²/5 − Q⁴R⁴/350 − …, and a line over Q·R_g ≤ 1.3
makes R_g up to 2 % too large; a runs or χ² test alone cannot see that bias (it is several
times larger than the slope's uncertainty before the curvature becomes significant).

Uncertainties: the covariance of the weighted fit, multiplied by χ²_red when χ²_red > 1 (σ
that do not explain the scatter), or by the residual variance when there is no σ.  Then
σ_fit(R_g) = 3 σ(b) / (2 R_g), σ(I(0)) = I(0) σ(a).  The reported σ(R_g) combines σ_fit(R_g)
with the estimated curvature shift in quadrature (the Guinier law's own error over the range);
σ(R) = √(5/3) σ(R_g).  With a range given (both ends), rules 3 and 4 and Q_max·R_g ≤ 1.3 are
checked and reported as warnings, not enforced; c then comes from the range itself and counts
only where it is significant (|c| > 2 σ(c)), since a window's own curvature is about four
times less certain than the bias it causes.

Refusals (:class:`GuinierRefusal`, a :class:`~swaxs_lib.errors.SwaxsInputError`): fewer than
6 usable points from the start; I rising from the start to a maximum more than
:data:`RISE_FACTOR` (1.2) times (plus 3σ) the median of its first three points, or ln I not
falling at the lowest Q (a structure-factor peak or a rising low-Q edge: a Guinier region
below the peak would only be an apparent one); no window with Q_max·R_g ≤ 1.3 (a power law, or objects larger than the
Q range resolves), or no window that passes rules 3 and 4.  A warning (``warnings.warn``, also
kept in :attr:`GuinierFit.warnings`) when the range starts at Q_min·R_g > :data:`QMIN_RG_WARN`
(1.0): the data start too high in Q for the size.  In practice the automatic range refuses such
data (over Q·R_g 1–1.3 alone the curvature cannot be bounded below R_g's uncertainty, rule 4);
a range given there is fitted with the warning.

The Porod fit (the high-Q I = K Q^−n + B, its automatic window) is :func:`swaxs_lib.saxs.porod.porod_fit`;
:func:`guinier_porod` runs both and gives the Guinier, Kratky (Q, Q²I) and Porod (Q, Q⁴I) views with
the fitted curves (:class:`GuinierPorod`).

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
tests/test_saxs_guinier.py: sasmodels' sphere (R = 20, 34.907, 60, 100 Å; noise-free within 1 %;
with 0.3 % noise, 20 realisations: mean within 0.5 %, σ covering the truth at 2σ in ≥ 85 %)
against R_g = √(3/5) R and I(0); sasmodels' mono_gauss_coil (Debye) against its R_g; a cloud of
point scatterers (an exact Debye sum) against its r.m.s. radius; the measured Ludox SANS (refused:
I rises to the structure-factor peak at 0.0198 1/Å) and alumina USAXS (refused: a Q^−3 power law
from the lowest Q).

Examples
--------
>>> import numpy as np
>>> q = np.linspace(0.002, 0.3, 300)
>>> qr = q * 30.0
>>> sphere = 1e3 * (3 * (np.sin(qr) - qr * np.cos(qr)) / qr**3) ** 2   # R = 30 Å: R_g = 23.24 Å
>>> fit = guinier_fit(q, sphere)
>>> round(fit.rg_angstrom, 1), round(fit.sphere_radius_angstrom, 1), round(fit.i0), round(fit.qmax_rg, 2)
(23.3, 30.1, 1000, 0.49)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.saxs._fitting import as_curve, check_range, cov_factor, runs_p_value, weighted_lstsq
from swaxs_lib.saxs.porod import PorodFit, PorodRefusal, porod_fit

#: Fewest points of a Guinier window.
MIN_GUINIER_POINTS = 6
#: Largest Q_max·R_g of a Guinier window (globular particles).
QRG_MAX = 1.3
#: Q_min·R_g above which the data start too high in Q for the size (a warning).
QMIN_RG_WARN = 1.0
#: R.m.s. deviation of ln I from the Guinier line accepted whatever the statistics say.
LINEAR_RMS_TOLERANCE = 2e-4
#: R_g shift from the curvature accepted whatever R_g's uncertainty (fraction of R_g).
CURVATURE_SHIFT_TOLERANCE = 0.003
#: ... and accepted up to this fraction of R_g's uncertainty from the fit.
SHIFT_SIGMA = 0.5
#: The automatic range is refused when I rises to a maximum above this factor times I at the lowest Q.
RISE_FACTOR = 1.2
#: Smallest one-sided p-value of the residual-sign runs test.
RUNS_P_MIN = 0.01
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
        Radius of gyration (Å) and its standard uncertainty: the fit's and the Guinier law's
        estimated error over the range (``rg_curvature_shift_angstrom``) combined in quadrature.
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
    rg_fit_sigma_angstrom : float
        R_g's standard uncertainty from the weighted fit alone (Å).
    rg_curvature_shift_angstrom : float
        How much the curvature of ln I vs Q² (a quadratic fit, c Q⁴) shifts the line's R_g over
        this range (Å): the Guinier law's own error, estimated.
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
    rg_fit_sigma_angstrom: float
    rg_curvature_shift_angstrom: float
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


# -- Guinier ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    """One window's line fit and the residual diagnostics."""

    a: float
    b: float
    cov: np.ndarray = field(repr=False)
    chi2: float
    rms: float
    residual: np.ndarray = field(repr=False)

    @property
    def rg(self) -> float:
        return math.sqrt(-3.0 * self.b) if self.b < 0 else math.nan


def _fit_line(t: np.ndarray, y: np.ndarray, w: np.ndarray) -> _Window:
    (a, b), cov, chi2, residual = weighted_lstsq(np.column_stack([np.ones_like(t), t]), y, w)
    rms = float(np.sqrt(np.mean(residual**2)))
    return _Window(float(a), float(b), cov, chi2, rms, residual)


def _curvature(t: np.ndarray, y: np.ndarray, w: np.ndarray, weighted: bool) -> tuple[float, float]:
    """(c, σ(c)) of the weighted quadratic fit ln I = a + b t + c t² (σ scaled as for the line)."""
    if t.size < 4:
        return 0.0, math.inf
    coef, cov, chi2, _ = weighted_lstsq(np.column_stack([np.ones_like(t), t, t**2]), y, w)
    factor = cov_factor(chi2, t.size - 3, weighted)
    return float(coef[2]), math.sqrt(max(cov[2, 2] * factor, 0.0))


def _slope_shift(t: np.ndarray, w: np.ndarray, c: float) -> float:
    """How much a term c t² shifts a weighted straight line's slope over these t: c · cov_w(t, t²)/var_w(t)."""
    mean = np.average(t, weights=w)
    dt = t - mean
    return c * float(np.sum(w * dt * t**2) / np.sum(w * dt**2))


def _scaled_sigma_b(window: _Window, n: int, weighted: bool) -> float:
    factor = cov_factor(window.chi2, n - 2, weighted)
    return math.sqrt(window.cov[1, 1] * factor) if math.isfinite(factor) else math.inf


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
    q, i, sigma = as_curve(q_inv_angstrom, intensity, sigma)
    check_range(q_min_inv_angstrom, q_max_inv_angstrom)
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
    _refuse_rising_start(q, i, sigma, first, stop, where)
    t = q[first:stop] ** 2
    y = np.log(i[first:stop])
    w = (i[first:stop] / sigma[first:stop]) ** 2 if weighted else np.ones_like(t)
    consistent, first_slope, smallest_qrg = [], None, math.inf
    for n in range(MIN_GUINIER_POINTS, n_usable + 1):
        window = _fit_line(t[:n], y[:n], w[:n])
        if first_slope is None:
            first_slope = window.b
        if not window.b < 0:
            continue
        qrg = q[first + n - 1] * window.rg
        smallest_qrg = min(smallest_qrg, qrg)
        if qrg <= QRG_MAX:
            consistent.append((n, window))
        elif qrg > 2 * QRG_MAX:
            break  # longer windows reach further still: nothing self-consistent beyond
    if not consistent and smallest_qrg == math.inf:
        raise GuinierRefusal(
            f"ln I does not fall with Q² at the lowest Q{where} (slope {first_slope:+.4g} Å² over the first "
            f"{MIN_GUINIER_POINTS} points from Q = {q[first]:.4g} 1/Å, and no longer window falls): the intensity "
            "rises or is flat there, as with interparticle interference (a structure-factor peak) or a rising "
            "low-Q edge; no Guinier region")
    if not consistent:
        raise GuinierRefusal(
            f"no window from Q = {q[first]:.4g} 1/Å{where} with Q_max·R_g <= {QRG_MAX} (the smallest found is "
            f"{smallest_qrg:.3g}): the curve falls too steeply at its start (a power law, or objects larger "
            "than the Q range resolves); no Guinier region")
    n_max = consistent[-1][0]
    c, sigma_c = _curvature(t[:n_max], y[:n_max], w[:n_max], weighted)
    c = math.copysign(abs(c) + sigma_c, c)  # the curvature at its 1-σ upper bound: a noisy c errs short
    rejected = {"runs": 0, "curvature": 0}
    for n, window in reversed(consistent):
        check = _checks(t[:n], w[:n], window, c, weighted)
        if check.runs_ok and check.curvature_ok:
            return _result(q, first, first + n - 1, window, check, weighted, automatic=True, notes=())
        rejected["runs" if not check.runs_ok else "curvature"] += 1
    raise GuinierRefusal(
        f"none of the {len(consistent)} windows from Q = {q[first]:.4g} 1/Å{where} with Q_max·R_g <= {QRG_MAX} "
        f"is linear in ln I vs Q² ({rejected['runs']} with too few runs of residual signs, p < {RUNS_P_MIN}; "
        f"{rejected['curvature']} whose curvature shifts R_g by more than its uncertainty); no Guinier region")


def _refuse_rising_start(q, i, sigma, first: int, stop: int, where: str) -> None:
    """Refuse when I climbs to a maximum well above its start: a Guinier region needs I falling from there."""
    start = float(np.median(i[first:first + 3]))
    top = first + int(np.argmax(i[first:stop]))
    if top <= first + 2:
        return
    noise = 3.0 * float(sigma[top]) if sigma is not None else 0.0
    if i[top] > RISE_FACTOR * start + noise:
        raise GuinierRefusal(
            f"I rises from {start:.4g} at Q = {q[first]:.4g} 1/Å{where} to a maximum of {i[top]:.4g} at "
            f"Q = {q[top]:.4g} 1/Å: interparticle interference (a structure-factor peak) or a rising low-Q edge, "
            "so any Guinier region below the maximum is only an apparent one; no Guinier region (if the rise is a "
            "beam-stop edge, start the range above it)")


@dataclass(frozen=True)
class _Check:
    """A window's linearity: the runs test and the R_g shift its curvature implies."""

    runs_p: float
    rg_shift_angstrom: float
    rg_sigma_angstrom: float
    runs_ok: bool
    curvature_ok: bool


def _checks(t: np.ndarray, w: np.ndarray, window: _Window, c: float, weighted: bool) -> _Check:
    rg = window.rg
    rg_sigma = 1.5 * _scaled_sigma_b(window, t.size, weighted) / rg
    # the line's slope is the true initial slope plus the shift a c t² term causes over this window
    true_rg2 = rg**2 + 3.0 * _slope_shift(t, w, c)
    shift = rg - math.sqrt(true_rg2) if true_rg2 > 0 else math.inf
    runs_p = runs_p_value(window.residual)
    return _Check(runs_p, shift, rg_sigma,
                  runs_ok=window.rms <= LINEAR_RMS_TOLERANCE or runs_p >= RUNS_P_MIN,
                  curvature_ok=abs(shift) <= max(SHIFT_SIGMA * rg_sigma, CURVATURE_SHIFT_TOLERANCE * rg))


def _fixed_range(q, i, sigma, index: np.ndarray, *, automatic: bool) -> GuinierFit:
    weighted = sigma is not None
    if index.size < 3:
        raise GuinierRefusal(f"only {index.size} usable point(s) in the Q range given; a Guinier fit needs at least 3")
    t, y = q[index] ** 2, np.log(i[index])
    w = (i[index] / sigma[index]) ** 2 if weighted else np.ones_like(t)
    window = _fit_line(t, y, w)
    if not window.b < 0:
        raise GuinierRefusal(f"ln I does not fall with Q² in the range given (slope {window.b:+.4g} Å²): "
                             "no Guinier region there")
    c, sigma_c = _curvature(t, y, w, weighted)
    # the range's own c is as uncertain as its bias (no longer window to learn it from): only a significant c counts
    check = _checks(t, w, window, c if abs(c) > 2.0 * sigma_c else 0.0, weighted)
    notes = []
    skipped = int(index[-1] - index[0] + 1 - index.size)
    if skipped:
        notes.append(f"{skipped} point(s) with I <= 0 or no σ left out of the range given")
    qrg = q[index[-1]] * window.rg
    if qrg > QRG_MAX:
        notes.append(f"Q_max·R_g = {qrg:.3g} > {QRG_MAX}: the range given reaches beyond the Guinier region")
    if not check.runs_ok:
        notes.append(f"the residuals over the range given run in too few runs of one sign (p = {check.runs_p:.2g}): "
                     "ln I is not linear in Q² there")
    if not check.curvature_ok:
        notes.append(f"the curvature of ln I vs Q² over the range given shifts R_g by {check.rg_shift_angstrom:+.3g} Å, "
                     f"more than its uncertainty {check.rg_sigma_angstrom:.2g} Å")
    return _result(q, int(index[0]), int(index[-1]), window, check, weighted, automatic=automatic,
                   notes=tuple(notes), n_points=int(index.size))


def _result(q, first: int, last: int, window: _Window, check: _Check, weighted: bool, *, automatic: bool,
            notes: tuple[str, ...], n_points: int | None = None) -> GuinierFit:
    n = n_points if n_points is not None else last - first + 1
    factor = cov_factor(window.chi2, n - 2, weighted)
    rg = window.rg
    sigma_a = math.sqrt(window.cov[0, 0] * factor) if math.isfinite(factor) else math.inf
    rg_sigma = math.hypot(check.rg_sigma_angstrom, check.rg_shift_angstrom)
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
        rg_fit_sigma_angstrom=check.rg_sigma_angstrom, rg_curvature_shift_angstrom=check.rg_shift_angstrom, runs_p_value=check.runs_p,
        rms_ln_intensity=window.rms, automatic=automatic, weighted=weighted, first_index=first, last_index=last,
        warnings=tuple(notes),
    )


# -- both, and the views ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GuinierPorod:
    """The Guinier and Porod analysis of one curve, with the curve itself for the views.

    Attributes
    ----------
    q_inv_angstrom, intensity : numpy.ndarray (n,)
        The curve analysed (Q in 1/Å; I in the data's units).
    sigma : numpy.ndarray (n,) or None
        Its standard deviations.
    guinier : GuinierFit or None
        None when the curve has no Guinier region; ``guinier_refusal`` says why.
    guinier_refusal : str
        Empty with a Guinier fit.
    porod : PorodFit or None
        None when there is no Porod fit; ``porod_refusal`` says why.
    porod_refusal : str
        Empty with a Porod fit.
    """

    q_inv_angstrom: np.ndarray
    intensity: np.ndarray
    sigma: np.ndarray | None
    guinier: GuinierFit | None
    guinier_refusal: str
    porod: PorodFit | None
    porod_refusal: str

    def require_guinier(self) -> GuinierFit:
        """The Guinier fit, or :class:`GuinierRefusal` with the reason there is none."""
        if self.guinier is None:
            raise GuinierRefusal(self.guinier_refusal)
        return self.guinier

    def summary(self) -> dict[str, Any]:
        """One row: the results with units in the names, σ as ``<name>_sigma`` (None where there is no fit)."""
        g, p = self.guinier, self.porod
        return {
            "rg_angstrom": g and g.rg_angstrom, "rg_angstrom_sigma": g and g.rg_angstrom_sigma,
            "i0": g and g.i0, "i0_sigma": g and g.i0_sigma,
            "sphere_radius_angstrom": g and g.sphere_radius_angstrom,
            "sphere_radius_angstrom_sigma": g and g.sphere_radius_angstrom_sigma,
            "q_min_inv_angstrom": g and g.q_min_inv_angstrom, "q_max_inv_angstrom": g and g.q_max_inv_angstrom,
            "n_points": g and g.n_points, "qmin_rg": g and g.qmin_rg, "qmax_rg": g and g.qmax_rg,
            "porod_exponent": p and p.exponent, "porod_exponent_sigma": p and p.exponent_sigma,
            "porod_constant": p and p.constant, "porod_constant_sigma": p and p.constant_sigma,
            "porod_background": p and p.background, "porod_background_sigma": p and p.background_sigma,
            "porod_q_min_inv_angstrom": p and p.q_min_inv_angstrom,
            "porod_q_max_inv_angstrom": p and p.q_max_inv_angstrom, "porod_n_points": p and p.n_points,
        }

    def _mask(self, fit) -> np.ndarray:
        mask = np.zeros(self.q_inv_angstrom.size, dtype=int)
        if fit is not None:
            mask[fit.first_index:fit.last_index + 1] = 1
        return mask

    def _model(self, values) -> list:
        return [None] * self.q_inv_angstrom.size if values is None else list(values)

    def guinier_view(self) -> dict[str, Any]:
        """Guinier plot columns: Q, Q², ln I [and σ], the fitted line, whether in the range (I > 0 points only)."""
        keep = np.isfinite(self.intensity) & (self.intensity > 0)
        q, i = self.q_inv_angstrom[keep], self.intensity[keep]
        columns: dict[str, Any] = {"q_inv_angstrom": q, "q2_inv_angstrom2": q**2, "ln_intensity": np.log(i)}
        if self.sigma is not None:
            columns["ln_intensity_sigma"] = self.sigma[keep] / i
        g = self.guinier
        columns["guinier_ln_intensity"] = self._model(None if g is None else g.ln_intensity(q))
        columns["in_guinier"] = self._mask(g)[keep]
        return columns

    def kratky_view(self) -> dict[str, Any]:
        """Kratky columns: Q, Q²I [and σ], Q² times the Guinier and the Porod fits, whether in each range."""
        q = self.q_inv_angstrom
        columns: dict[str, Any] = {"q_inv_angstrom": q, "q2_intensity_inv_angstrom2": q**2 * self.intensity}
        if self.sigma is not None:
            columns["q2_intensity_inv_angstrom2_sigma"] = q**2 * self.sigma
        g, p = self.guinier, self.porod
        columns["guinier_q2_intensity_inv_angstrom2"] = self._model(
            None if g is None else q**2 * g.i0 * np.exp(-((q * g.rg_angstrom) ** 2) / 3.0))
        columns["porod_q2_intensity_inv_angstrom2"] = self._model(None if p is None else q**2 * p.intensity(q))
        columns["in_guinier"], columns["in_porod"] = self._mask(g), self._mask(p)
        return columns

    def porod_view(self) -> dict[str, Any]:
        """Porod columns: Q, Q⁴I [and σ], Q⁴ times the Porod fit, whether in its window."""
        q = self.q_inv_angstrom
        columns: dict[str, Any] = {"q_inv_angstrom": q, "q4_intensity_inv_angstrom4": q**4 * self.intensity}
        if self.sigma is not None:
            columns["q4_intensity_inv_angstrom4_sigma"] = q**4 * self.sigma
        p = self.porod
        with np.errstate(divide="ignore", over="ignore"):
            columns["porod_q4_intensity_inv_angstrom4"] = self._model(None if p is None else q**4 * p.intensity(q))
        columns["in_porod"] = self._mask(p)
        return columns

    def columns(self) -> dict[str, Any]:
        """Every point with all three views, as ``python -m swaxs_lib guinier --out`` writes it (docs/csv.md).

        ``q_inv_angstrom, intensity, [intensity_sigma], q2_inv_angstrom2, ln_intensity, [ln_intensity_sigma],
        guinier_ln_intensity, in_guinier, q2_intensity_inv_angstrom2, [q2_intensity_inv_angstrom2_sigma],
        q4_intensity_inv_angstrom4, [q4_intensity_inv_angstrom4_sigma], porod_q4_intensity_inv_angstrom4,
        in_porod``; ln I is empty where I <= 0, a fitted column empty without that fit.
        """
        q, i, s = self.q_inv_angstrom, self.intensity, self.sigma
        positive = np.isfinite(i) & (i > 0)
        safe = np.where(positive, i, 1.0)
        columns: dict[str, Any] = {"q_inv_angstrom": q, "intensity": i}
        if s is not None:
            columns["intensity_sigma"] = s
        columns["q2_inv_angstrom2"] = q**2
        columns["ln_intensity"] = [float(v) if ok else None for v, ok in zip(np.log(safe), positive)]
        if s is not None:
            columns["ln_intensity_sigma"] = [float(v) if ok else None for v, ok in zip(s / safe, positive)]
        g = self.guinier
        columns["guinier_ln_intensity"] = self._model(None if g is None else g.ln_intensity(q))
        columns["in_guinier"] = self._mask(g)
        kratky, porod = self.kratky_view(), self.porod_view()
        for name in ("q2_intensity_inv_angstrom2", "q2_intensity_inv_angstrom2_sigma"):
            if name in kratky:
                columns[name] = kratky[name]
        for name in ("q4_intensity_inv_angstrom4", "q4_intensity_inv_angstrom4_sigma",
                     "porod_q4_intensity_inv_angstrom4", "in_porod"):
            if name in porod:
                columns[name] = porod[name]
        return columns


def guinier_porod(q_inv_angstrom, intensity, sigma=None, *, q_min_inv_angstrom: float | None = None,
                  q_max_inv_angstrom: float | None = None, porod_q_min_inv_angstrom: float | None = None,
                  porod_q_max_inv_angstrom: float | None = None) -> GuinierPorod:
    """Both analyses of one curve; a curve without a Guinier region (or a Porod window) says why instead.

    Parameters are those of :func:`guinier_fit` and, prefixed ``porod_``, :func:`porod_fit`; the Porod
    window's automatic start uses the Guinier R_g when there is one.  Bad arrays or ranges still raise
    :class:`~swaxs_lib.errors.SwaxsInputError`; only the refusals are caught and kept.

    Examples
    --------
    >>> q = np.geomspace(0.003, 0.5, 300)
    >>> qr = q * 40.0
    >>> result = guinier_porod(q, (3 * (np.sin(qr) - qr * np.cos(qr)) / qr**3) ** 2 + 1e-4)
    >>> round(result.guinier.sphere_radius_angstrom), result.porod is not None
    (40, True)
    """
    q, i, sigma = as_curve(q_inv_angstrom, intensity, sigma)
    guinier, guinier_refusal, porod, porod_refusal = None, "", None, ""
    try:
        guinier = guinier_fit(q, i, sigma, q_min_inv_angstrom=q_min_inv_angstrom,
                              q_max_inv_angstrom=q_max_inv_angstrom)
    except GuinierRefusal as exc:
        guinier_refusal = str(exc)
    try:
        porod = porod_fit(q, i, sigma, q_min_inv_angstrom=porod_q_min_inv_angstrom,
                          q_max_inv_angstrom=porod_q_max_inv_angstrom,
                          rg_angstrom=None if guinier is None else guinier.rg_angstrom)
    except PorodRefusal as exc:
        porod_refusal = str(exc)
    return GuinierPorod(q, i, sigma, guinier, guinier_refusal, porod, porod_refusal)
