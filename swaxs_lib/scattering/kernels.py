"""numba kernels of the Debye engine: pure functions, arrays in, arrays out.

Three kernels carry all the work:

``pair_moments``
    For every pair of atoms (i < j within one element, all i, j between two
    elements) the distance d = (n + f) dr falls in bin n with fraction
    f in [0, 1); the kernel accumulates the moments sum f^k, k = 0..5, per bin.
``exact_pair_sinc``
    The pair sum sum_{pairs} sin(Q d)/(Q d) evaluated term by term (the exact
    reference, O(N^2 n_Q)).
``sine_series``
    out_k = sum_m c_m sin((x0 + m dx) y_k) by Horner's scheme in
    z = exp(i dx y_k): the Debye sum over distance-grid nodes and the Fourier
    transform to G(r) are both of this form.

Rows are dealt to ``n_chunks`` chunks round-robin (row i to chunk i mod
n_chunks) so that the triangular i < j loop is balanced, and each chunk owns
its accumulator: no atomics, no races, deterministic results for a given chunk
count.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: Number of moments per distance bin; the Lagrange stencil has this many nodes.
N_MOMENTS = 6


@numba.njit(parallel=True, cache=True, fastmath=False)
def pair_moments(pos_a, pos_b, same, inv_dr, n_bins, n_chunks):
    """Moments sum f^k (k = 0..5) of pair distances per bin of width 1/inv_dr.

    Parameters
    ----------
    pos_a, pos_b : float64 arrays (n_a, 3), (n_b, 3)
        Positions (Å).  When ``same`` is true they are the same array and only
        pairs i < j are counted.
    same : bool
    inv_dr : float
        Inverse bin width (1/Å).
    n_bins : int
        Number of bins; every distance must satisfy d * inv_dr < n_bins.
    n_chunks : int
        Number of independent accumulators (>= number of threads).

    Returns
    -------
    float64 array (n_bins, 6)
    """
    n_a = pos_a.shape[0]
    n_b = pos_b.shape[0]
    acc = np.zeros((n_chunks, n_bins, N_MOMENTS))
    for c in numba.prange(n_chunks):
        hist = acc[c]
        t = np.empty(n_b)
        for i in range(c, n_a, n_chunks):
            xi = pos_a[i, 0]
            yi = pos_a[i, 1]
            zi = pos_a[i, 2]
            j0 = i + 1 if same else 0
            for j in range(j0, n_b):
                dx = pos_b[j, 0] - xi
                dy = pos_b[j, 1] - yi
                dz = pos_b[j, 2] - zi
                t[j] = math.sqrt(dx * dx + dy * dy + dz * dz) * inv_dr
            for j in range(j0, n_b):
                n = int(t[j])
                f = t[j] - n
                f2 = f * f
                f3 = f2 * f
                hist[n, 0] += 1.0
                hist[n, 1] += f
                hist[n, 2] += f2
                hist[n, 3] += f3
                hist[n, 4] += f2 * f2
                hist[n, 5] += f3 * f2
    out = np.zeros((n_bins, N_MOMENTS))
    for c in range(n_chunks):
        out += acc[c]
    return out


@numba.njit(parallel=True, cache=True)
def exact_pair_sinc(pos_a, pos_b, same, q, n_chunks):
    """sum over pairs of sin(Q d)/(Q d), term by term, at every Q.

    Parameters
    ----------
    pos_a, pos_b : float64 arrays (n, 3)
        Positions (Å); with ``same`` only pairs i < j.
    same : bool
    q : float64 array (n_q,)
        Scattering vector magnitudes (1/Å); Q = 0 gives the pair count.
    n_chunks : int

    Returns
    -------
    float64 array (n_q,)
    """
    n_a = pos_a.shape[0]
    n_b = pos_b.shape[0]
    n_q = q.shape[0]
    acc = np.zeros((n_chunks, n_q))
    for c in numba.prange(n_chunks):
        row = acc[c]
        for i in range(c, n_a, n_chunks):
            j0 = i + 1 if same else 0
            for j in range(j0, n_b):
                dx = pos_b[j, 0] - pos_a[i, 0]
                dy = pos_b[j, 1] - pos_a[i, 1]
                dz = pos_b[j, 2] - pos_a[i, 2]
                d = math.sqrt(dx * dx + dy * dy + dz * dz)
                for k in range(n_q):
                    x = q[k] * d
                    if x < 1e-8:
                        row[k] += 1.0 - x * x / 6.0
                    else:
                        row[k] += math.sin(x) / x
    out = np.zeros(n_q)
    for c in range(n_chunks):
        out += acc[c]
    return out


@numba.njit(parallel=True, cache=True)
def sine_series(coeffs, x0, dx, y):
    """out_k = sum_m coeffs_m sin((x0 + m dx) y_k), by Horner's scheme.

    Parameters
    ----------
    coeffs : float64 array (n_m,)
    x0, dx : float
        The abscissae x_m = x0 + m dx (a uniform grid).
    y : float64 array (n_y,)

    Returns
    -------
    float64 array (n_y,)

    Notes
    -----
    sum_m c_m exp(i (x0 + m dx) y) = exp(i x0 y) P(z), P(z) = sum_m c_m z^m with
    z = exp(i dx y).  Horner's scheme is backward stable: the rounding error is
    below n_m * eps * sum_m |c_m|.
    """
    n_m = coeffs.shape[0]
    n_y = y.shape[0]
    out = np.empty(n_y)
    lanes = 8
    n_blocks = (n_y + lanes - 1) // lanes
    for b in numba.prange(n_blocks):
        zr = np.empty(lanes)
        zi = np.empty(lanes)
        pr = np.zeros(lanes)
        pi = np.zeros(lanes)
        for l in range(lanes):
            k = min(b * lanes + l, n_y - 1)
            zr[l] = math.cos(dx * y[k])
            zi[l] = math.sin(dx * y[k])
        for m in range(n_m - 1, -1, -1):
            c = coeffs[m]
            for l in range(lanes):
                r = pr[l] * zr[l] - pi[l] * zi[l] + c
                pi[l] = pr[l] * zi[l] + pi[l] * zr[l]
                pr[l] = r
        for l in range(lanes):
            k = b * lanes + l
            if k < n_y:
                phase = x0 * y[k]
                out[k] = math.sin(phase) * pr[l] + math.cos(phase) * pi[l]
    return out
