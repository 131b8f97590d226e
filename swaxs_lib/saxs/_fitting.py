"""Least-squares and input helpers shared by the Guinier and Porod fits (:mod:`swaxs_lib.saxs.guinier`,
:mod:`swaxs_lib.saxs.porod`).

>>> import numpy as np
>>> coef, cov, chi2, _ = weighted_lstsq(np.column_stack([np.ones(3), [0.0, 1.0, 2.0]]), np.array([1.0, 3.0, 5.0]),
...                                     np.ones(3))
>>> coef.round(6).tolist(), round(chi2, 12)
([1.0, 2.0], 0.0)
>>> runs_p_value(np.array([1.0, 1.0, 1.0, -1.0, -1.0, -1.0]))  # 2 runs of 6: 2/C(6,3)
0.1
"""

from __future__ import annotations

import math

import numpy as np

from swaxs_lib.errors import SwaxsInputError


# -- input -----------------------------------------------------------------------------------------


def as_curve(q, intensity, sigma) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
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


def check_range(q_min, q_max) -> None:
    for name, value in (("q_min", q_min), ("q_max", q_max)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise SwaxsInputError(f"{name}: got {value}; expected a finite Q >= 0 (1/Å)")
    if q_min is not None and q_max is not None and not q_min < q_max:
        raise SwaxsInputError(f"q_min: got {q_min} >= q_max {q_max}; expected q_min < q_max (1/Å)")


# -- small statistics --------------------------------------------------------------------------------


def weighted_lstsq(design: np.ndarray, y: np.ndarray, w: np.ndarray):
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


def cov_factor(chi2: float, dof: int, weighted: bool) -> float:
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
    n = n1 + n2
    if n > 100:  # the normal approximation, with a continuity correction
        mean = 1.0 + 2.0 * n1 * n2 / n
        var = 2.0 * n1 * n2 * (2.0 * n1 * n2 - n) / (n * n * (n - 1.0))
        return 0.5 * math.erfc(-(runs + 0.5 - mean) / math.sqrt(2.0 * var))
    total = math.comb(n1 + n2, n1)
    p = 0.0
    for r in range(2, runs + 1):
        k = r // 2
        if r % 2 == 0:
            p += 2 * math.comb(n1 - 1, k - 1) * math.comb(n2 - 1, k - 1)
        else:
            p += math.comb(n1 - 1, k - 1) * math.comb(n2 - 1, k) + math.comb(n1 - 1, k) * math.comb(n2 - 1, k - 1)
    return min(1.0, p / total)
