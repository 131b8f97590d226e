"""The high-Q power law of a small-angle I(Q): I = K Q^−n + B (Porod exponent n, constant K, background B).

n = 4 for smooth sharp interfaces (Porod's law, K = 2π Δρ² S/V [1]_), 3 < n < 4 for rough
(surface-fractal) interfaces, n = D_m < 3 for mass fractals [2]_, n > 4 for diffuse interfaces.

The automatic window: from Q = :data:`PORD_QRG` / R_g (4/R_g; for a sphere Q R = 5.2, past the
first form-factor minima, where a polydisperse sphere's I(Q) follows its Q⁻⁴ envelope) to the last
point; without an R_g, the upper half of the data's log Q range (Q ≥ √(Q_first Q_last)); at least
:data:`MIN_PORD_POINTS` (10) points.  The fit: weighted least squares (weights 1/σ², or 1/I²
without σ); K and B are linear, n is found by a grid over :data:`PORD_N_BOUNDS` (step 0.05) refined
by a bounded 1-D search; the covariance of (K, n, B) from the Jacobian at the optimum, multiplied
by χ²_red when above 1 (or by the residual variance without σ).

What the data cannot decide: with n free, K and B trade against n over a short window (their
uncertainties say how much); form-factor oscillations of a narrow size distribution or a
structure factor inside the window show as a χ²_red far above 1.

References
----------
.. [1] O. Glatter and O. Kratky (eds.), *Small Angle X-ray Scattering*, Academic Press (1982), ch. 3.
.. [2] G. Beaucage, "Approximations leading to a unified exponential/power-law approach to
   small-angle scattering", J. Appl. Cryst. 28, 717-728 (1995).

Validation
----------
tests/test_saxs_guinier.py: a polydisperse sphere from sasmodels (n = 4), sasmodels' power_law
model (n = 2.5), the measured alumina USAXS curve (n ≈ 4 and its flat background against the one
Irena used for it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.saxs._fitting import as_curve, check_range, cov_factor, weighted_lstsq

#: The Porod window starts at Q = PORD_QRG / R_g.
PORD_QRG = 4.0
#: Fewest points of a Porod window.
MIN_PORD_POINTS = 10
#: Search range of the Porod exponent n.
PORD_N_BOUNDS = (0.5, 8.0)


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




class PorodRefusal(SwaxsInputError):
    """No Porod fit: the high-Q window has too few usable points (the message says which)."""


def _porod_chi2(n: float, q: np.ndarray, i: np.ndarray, w: np.ndarray) -> tuple[float, float, float]:
    """(χ², K, B) of the best K Q^−n + B at this n (K and B by weighted linear least squares)."""
    (k, b), _, chi2, _ = weighted_lstsq(np.column_stack([q ** (-n), np.ones_like(q)]), i, w)
    return chi2, float(k), float(b)


def porod_fit(q_inv_angstrom, intensity, sigma=None, *, q_min_inv_angstrom: float | None = None,
              q_max_inv_angstrom: float | None = None, rg_angstrom: float | None = None) -> PorodFit:
    """The high-Q power law I = K Q^−n + B: exponent n, constant K and background B.

    Parameters
    ----------
    q_inv_angstrom, intensity, sigma : array_like (n,)
        Q (1/Å, strictly increasing), I(Q) and optionally its standard deviation.
    q_min_inv_angstrom, q_max_inv_angstrom : float, optional
        The window; default from :data:`PORD_QRG`/``rg_angstrom`` (or the upper half of the log Q
        range without R_g) to the last point.
    rg_angstrom : float, optional
        A Guinier R_g (Å) that places the automatic window's start.

    Returns
    -------
    PorodFit

    Raises
    ------
    PorodRefusal
        Fewer than :data:`MIN_PORD_POINTS` usable points in the window.
    SwaxsInputError
        Bad arrays or range.

    Examples
    --------
    >>> q = np.geomspace(0.05, 0.5, 60)
    >>> fit = porod_fit(q, 2e-3 * q**-4 + 0.1)
    >>> round(fit.exponent, 3), round(fit.constant, 6), round(fit.background, 4)
    (4.0, 0.002, 0.1)
    """
    q, i, sigma = as_curve(q_inv_angstrom, intensity, sigma)
    check_range(q_min_inv_angstrom, q_max_inv_angstrom)
    weighted = sigma is not None
    ok = np.isfinite(i) & (q > 0) & ((np.isfinite(sigma) & (sigma > 0)) if weighted else (i > 0))
    if not ok.any():
        raise PorodRefusal("no usable point (finite I" + (", σ > 0" if weighted else " > 0") + ") for a Porod fit")
    automatic = q_min_inv_angstrom is None
    if q_min_inv_angstrom is not None:
        lo = q_min_inv_angstrom
    elif rg_angstrom is not None and rg_angstrom > 0:
        lo = PORD_QRG / rg_angstrom
    else:
        lo = math.sqrt(q[ok][0] * q[ok][-1])
    hi = q_max_inv_angstrom if q_max_inv_angstrom is not None else math.inf
    index = np.flatnonzero(ok & (q >= lo) & (q <= hi))
    if index.size < MIN_PORD_POINTS:
        raise PorodRefusal(f"only {index.size} usable point(s) at Q {lo:.4g}..{min(hi, q[-1]):.4g} 1/Å; a Porod fit "
                           f"needs at least {MIN_PORD_POINTS}")
    qq, ii = q[index], i[index]
    w = 1.0 / sigma[index] ** 2 if weighted else 1.0 / ii**2
    grid = np.arange(PORD_N_BOUNDS[0], PORD_N_BOUNDS[1] + 1e-9, 0.05)
    start = grid[int(np.argmin([_porod_chi2(n, qq, ii, w)[0] for n in grid]))]
    best = minimize_scalar(lambda n: _porod_chi2(n, qq, ii, w)[0], method="bounded",
                           bounds=(max(PORD_N_BOUNDS[0], start - 0.05), min(PORD_N_BOUNDS[1], start + 0.05)),
                           options={"xatol": 1e-6})
    n = float(best.x)
    chi2, k, b = _porod_chi2(n, qq, ii, w)
    power = qq ** (-n)
    jacobian = np.column_stack([power, -k * np.log(qq) * power, np.ones_like(qq)])
    _, cov, _, _ = weighted_lstsq(jacobian, ii, w)
    factor = cov_factor(chi2, index.size - 3, weighted)
    err = np.sqrt(np.clip(np.diag(cov) * factor, 0.0, None)) if math.isfinite(factor) else np.full(3, math.inf)
    return PorodFit(
        exponent=n, exponent_sigma=float(err[1]), constant=k, constant_sigma=float(err[0]),
        background=b, background_sigma=float(err[2]),
        q_min_inv_angstrom=float(qq[0]), q_max_inv_angstrom=float(qq[-1]), n_points=int(index.size),
        chi2_reduced=chi2 / (index.size - 3) if weighted else None, automatic=automatic, weighted=weighted,
        first_index=int(index[0]), last_index=int(index[-1]),
    )
