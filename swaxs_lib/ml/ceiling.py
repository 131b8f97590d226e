"""How well any estimator could tell a size from a noisy curve: the distance to the nearest wrong alternative.

For a noise-free curve I(Q) (the truth) measured with the simulator's noise
(:func:`swaxs_lib.ml.simulate.measured_intensity`: Gaussian, variance
sigma²(Q) = I(Q) ref / N, ``ref`` the median of I over the SAXS part, N the
counts there) and an alternative noise-free curve A(Q) known up to an
intensity scale c, the noncentrality

    D = min_c sum_Q (c A(Q) - I(Q))² / sigma²(Q)
      = (N / ref) [ sum I - (sum A)² / sum (A² / I) ]

(weighted least squares in c, solved in closed form) says how far apart the
two hypotheses lie in units of the noise.  For two Gaussian hypotheses with
equal priors the smallest possible mean error of deciding between them is
Phi(-sqrt(D) / 2) (the likelihood-ratio test, Neyman–Pearson): no estimator
gets more than 1 - Phi(-sqrt(D_min) / 2) of the pair right on average, with
D_min over every alternative whose size is wrong (:func:`pairwise_ceiling`).
It bounds the pair's mean, not the truth alone: with unequal priors an
estimator may give up a rare alternative for a frequent truth, so a mean of
this figure over truths is no bound on the overall share (the Bayes decision,
:func:`bayes_size`, reaches more in ``benchmarks/ml_saxs_ceiling.py``).
D grows in proportion to N: it is computed at N = 1 and multiplied.

Curves of a structure scaled by a (every distance times a) are
I(Q; a) = f(Q)² S(aQ) (Debye): one structure factor S per ladder member on a
fine log grid serves every element and expansion (:func:`scaled_curves`,
log-log interpolation).

References
----------
Van Trees, H. L., *Detection, Estimation, and Modulation Theory, Part I*
(Wiley, 1968), section 2.6 (error probability of two Gaussian hypotheses with
equal covariance: Phi(-d/2), d² the noncentrality).

Validation: tests/test_ml_ceiling.py (D = 0 for the truth itself, D in
proportion to the counts, two homogeneous spheres of radius R and R(1 + delta)
against the linearised closed form, the bound 0.5 at D = 0).
"""

from __future__ import annotations

import math

import numpy as np

from swaxs_lib.errors import SwaxsInputError


def noncentrality(truth: np.ndarray, alternatives: np.ndarray, reference: float, counts: float = 1.0) -> np.ndarray:
    """D = min over c of sum ((c A - I) / sigma)², sigma² = I reference / counts, for each alternative A.

    Parameters
    ----------
    truth : numpy.ndarray (n_q,)
        The true noise-free intensity I(Q) at the points compared, > 0.
    alternatives : numpy.ndarray (n_q,) or (n_alternatives, n_q)
        Noise-free alternative intensities at the same points, >= 0.
    reference : float
        The noise model's reference intensity (the median of I over the SAXS part), > 0.
    counts : float
        N, the counts at the reference intensity.

    Returns
    -------
    numpy.ndarray (n_alternatives,) or float
        D >= 0 (rounding clipped).

    Raises
    ------
    SwaxsInputError
        A non-positive truth, reference or counts.
    """
    i = np.asarray(truth, float)
    a = np.asarray(alternatives, float)
    if np.any(i <= 0) or not reference > 0 or not counts > 0:
        raise SwaxsInputError(f"noncentrality: truth min {i.min():.3g}, reference {reference!r}, counts {counts!r}; "
                              "expected all > 0")
    single = a.ndim == 1
    a = a[None, :] if single else a
    d = noncentrality_matrix(a, (1.0 / i)[:, None], np.array([i.sum()]))[:, 0] * counts / reference
    return float(d[0]) if single else d


def noncentrality_matrix(alternatives: np.ndarray, inverse_truths: np.ndarray, truth_sums: np.ndarray) -> np.ndarray:
    """sum I - (sum A)² / sum (A² / I) for every alternative (rows) and truth (columns): D at counts = reference.

    Parameters
    ----------
    alternatives : numpy.ndarray (n_alternatives, n_q)
    inverse_truths : numpy.ndarray (n_q, n_truths)
        1 / I of each truth at the same points.
    truth_sums : numpy.ndarray (n_truths,)
        sum over the points of each truth's I.

    Returns
    -------
    numpy.ndarray (n_alternatives, n_truths), >= 0
    """
    a = np.asarray(alternatives, float)
    quad = (a * a) @ inverse_truths
    lin = a.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = truth_sums[None, :] - np.where(quad > 0, lin[:, None] ** 2 / quad, 0.0)
    return np.maximum(d, 0.0)


def profiled_chi2(alternatives: np.ndarray, alternatives_squared: np.ndarray, curves: np.ndarray,
                  weights: np.ndarray) -> np.ndarray:
    """min over c >= 0 of sum w (c A - y)² for every alternative A (rows) and curve y (columns).

    Parameters
    ----------
    alternatives, alternatives_squared : numpy.ndarray (n_alternatives, n_q)
        A and A² (the square passed in: it serves many calls).
    curves : numpy.ndarray (n_q, n_curves)
        Measured intensities y.
    weights : numpy.ndarray (n_q, n_curves)
        1 / sigma² of each curve's points.

    Returns
    -------
    numpy.ndarray (n_alternatives, n_curves), >= 0
    """
    cross = alternatives @ (weights * curves)
    quad = alternatives_squared @ weights
    with np.errstate(divide="ignore", invalid="ignore"):
        gain = np.where((quad > 0) & (cross > 0), cross**2 / quad, 0.0)
    return np.maximum(np.sum(weights * curves**2, axis=0)[None, :] - gain, 0.0)


def profiled_chi2_background(alternatives: np.ndarray, alternatives_squared: np.ndarray, curves: np.ndarray,
                             weights: np.ndarray, max_ratio: np.ndarray | None = None
                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """min over c >= 0, b >= 0 (and b <= r c) of sum w (c A + b - y)² for every alternative A (rows) and
    curve y (columns): an intensity scale and a constant background, both non-negative, in closed form.

    The unconstrained minimum solves the 2 x 2 normal equations; where it leaves the feasible set the
    minimum of the convex quadratic lies on an edge: the best of (b = 0, best c >= 0), (c = 0, best b)
    or, with ``max_ratio`` r, (b = r c, best c >= 0) instead of the c = 0 edge (which then forces b = 0).

    Parameters
    ----------
    alternatives, alternatives_squared : numpy.ndarray (n_alternatives, n_q)
        A and A² (the square passed in: it serves many calls).
    curves : numpy.ndarray (n_q, n_curves)
        Measured intensities y.
    weights : numpy.ndarray (n_q, n_curves)
        1 / sigma² of each curve's points.
    max_ratio : numpy.ndarray (n_alternatives,), optional
        r >= 0: the largest background per unit of c for each alternative; None: unbounded.

    Returns
    -------
    (chi2, c, b) : numpy.ndarray (n_alternatives, n_curves) each; chi2 >= 0

    Validation: tests/test_ml_ceiling.py (against numpy lstsq where the solution is interior and
    scipy.optimize.nnls where a bound is active).
    """
    wy = weights * curves
    s_ay = alternatives @ wy
    s_aa = alternatives_squared @ weights
    s_a = alternatives @ weights
    s_1 = weights.sum(axis=0)[None, :]
    s_y = wy.sum(axis=0)[None, :]
    s_yy = np.sum(wy * curves, axis=0)[None, :]
    return solve_background(s_ay, s_aa, s_a, s_1, s_y, s_yy, max_ratio)


def solve_background(s_ay: np.ndarray, s_aa: np.ndarray, s_a: np.ndarray, s_1: np.ndarray, s_y: np.ndarray,
                     s_yy: np.ndarray, max_ratio: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`profiled_chi2_background` from its weighted sums: sum w A y, sum w A², sum w A (n_alternatives,
    n_curves) and sum w, sum w y, sum w y² (1, n_curves); for callers that form the sums themselves (one
    pass over A for several of them)."""
    det = s_aa * s_1 - s_a**2
    with np.errstate(divide="ignore", invalid="ignore"):
        c = (s_ay * s_1 - s_y * s_a) / det
        b = (s_y * s_aa - s_ay * s_a) / det
        interior = (det > 0) & (c >= 0) & (b >= 0)
        if max_ratio is not None:
            r = np.asarray(max_ratio, float)[:, None]
            interior &= b <= r * c
        gain = np.where(interior, c * s_ay + b * s_y, -np.inf)
        c_only = np.where(s_aa > 0, np.maximum(s_ay, 0) / s_aa, 0.0)
        gain_c = c_only * s_ay
        if max_ratio is None:
            # the edge c = 0, b free
            edge_b = np.broadcast_to(np.maximum(s_y, 0) / s_1, gain.shape)
            edge_c = np.zeros(gain.shape)
            gain_b = edge_b * s_y
        else:
            # the edge b = r c: the alternative A + r with one scale c >= 0
            s_ry = s_ay + r * s_y
            s_rr = s_aa + 2 * r * s_a + r * r * s_1
            edge_c = np.where(s_rr > 0, np.maximum(s_ry, 0) / s_rr, 0.0)
            edge_b = r * edge_c
            gain_b = edge_c * s_ry
    use_c = ~interior & (gain_c >= gain_b)
    use_b = ~interior & ~use_c
    c = np.where(interior, c, np.where(use_c, c_only, edge_c))
    b = np.where(interior, b, np.where(use_b, edge_b, 0.0))
    gain = np.where(interior, gain, np.where(use_c, gain_c, gain_b))
    return np.maximum(s_yy - gain, 0.0), c, b


def bayes_size(log_posterior: np.ndarray, sizes: np.ndarray, tolerances: np.ndarray, keep: int = 300,
               candidates: int = 100) -> float:
    """The size that is right (within its tolerance) for the most posterior mass: the Bayes decision for
    the "within one shell or 5 %" loss, over the hypotheses' own sizes as candidates.

    Parameters
    ----------
    log_posterior : numpy.ndarray (n_hypotheses,)
        Unnormalised log posterior (-inf allowed).
    sizes, tolerances : numpy.ndarray (n_hypotheses,)
        Each hypothesis's size and the largest error that counts as right for it (max(5 %, one shell)).
    keep : int
        Hypotheses kept (the most probable): the mass beyond them is neglected.
    candidates : int
        The most probable hypotheses whose sizes are tried as the answer.

    Returns
    -------
    float
    """
    keep = min(keep, len(log_posterior))
    top = np.argpartition(-log_posterior, keep - 1)[:keep]
    top = top[np.argsort(-log_posterior[top])]
    post = np.exp(log_posterior[top] - log_posterior[top[0]])
    tried = sizes[top[:candidates]]
    right = np.abs(tried[:, None] - sizes[top][None, :]) <= tolerances[top][None, :]
    return float(tried[int(np.argmax(right @ post))])


def pairwise_ceiling(d: np.ndarray | float) -> np.ndarray | float:
    """1 - Phi(-sqrt(D) / 2) = Phi(sqrt(D) / 2): the best share of right decisions between two Gaussian
    hypotheses D apart (equal priors); 0.5 at D = 0, -> 1 as D grows."""
    d = np.maximum(np.asarray(d, float), 0.0)
    out = 0.5 * (1.0 + _erf(np.sqrt(d) / (2.0 * math.sqrt(2.0))))
    return float(out) if out.ndim == 0 else out


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[float])(x)


def scaled_curves(x_grid: np.ndarray, structure: np.ndarray, q_inv_angstrom: np.ndarray,
                  scales: np.ndarray) -> np.ndarray:
    """S(a Q) for every scale a (rows) at the points Q (columns), log-log interpolated from S on ``x_grid``.

    Parameters
    ----------
    x_grid : numpy.ndarray (n_x,)
        Increasing, positive (1/Å); must cover min(a) min(Q) .. max(a) max(Q).
    structure : numpy.ndarray (n_x,) or (n_members, n_x)
        S > 0 on ``x_grid``.
    q_inv_angstrom : numpy.ndarray (n_q,)
    scales : numpy.ndarray (n_scales,)

    Returns
    -------
    numpy.ndarray (n_scales, n_q), or (n_members, n_scales, n_q) for a 2-d ``structure``

    Raises
    ------
    SwaxsInputError
        a Q outside ``x_grid``.
    """
    x = np.outer(np.asarray(scales, float), np.asarray(q_inv_angstrom, float))
    if x.min() < x_grid[0] * (1 - 1e-12) or x.max() > x_grid[-1] * (1 + 1e-12):
        raise SwaxsInputError(f"scaled_curves: a Q spans {x.min():.4g}..{x.max():.4g} 1/Å; expected inside the "
                              f"grid {x_grid[0]:.4g}..{x_grid[-1]:.4g}")
    lx = np.log(np.asarray(x_grid, float))
    s = np.log(np.atleast_2d(np.asarray(structure, float)))
    # linear interpolation in log x of log S, shared indices for every member
    t = np.log(x).ravel()
    k = np.clip(np.searchsorted(lx, t) - 1, 0, len(lx) - 2)
    w = (t - lx[k]) / (lx[k + 1] - lx[k])
    out = np.exp(s[:, k] * (1 - w) + s[:, k + 1] * w).reshape(len(s), *x.shape)
    return out[0] if np.ndim(structure) == 1 else out


__all__ = ["bayes_size", "noncentrality", "noncentrality_matrix", "pairwise_ceiling", "profiled_chi2",
           "profiled_chi2_background", "scaled_curves", "solve_background"]
