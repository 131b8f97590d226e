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

Blocks of rows are dealt to ``n_chunks`` chunks round-robin, which balances
the triangular i < j loop, and each chunk owns its accumulator: no atomics, no
races, deterministic results for a given chunk count.
"""

from __future__ import annotations

import math

import numba
import numpy as np

#: Number of moments per distance bin; the Lagrange stencil has this many nodes.
N_MOMENTS = 6


#: Tile sizes of the pair loop: BLOCK_J positions stay in L1 while BLOCK_I rows pass over them.
BLOCK_I = 64
BLOCK_J = 2048


@numba.njit(parallel=True, cache=True, nogil=True)
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

    Notes
    -----
    The loop is tiled (blocks of BLOCK_I rows against BLOCK_J columns) and
    split in two passes per row: distances into a buffer (vectorised: the
    coordinates are contiguous), then the scatter into the histogram.
    """
    n_a = pos_a.shape[0]
    n_b = pos_b.shape[0]
    xa = np.ascontiguousarray(pos_a[:, 0])
    ya = np.ascontiguousarray(pos_a[:, 1])
    za = np.ascontiguousarray(pos_a[:, 2])
    xb = np.ascontiguousarray(pos_b[:, 0])
    yb = np.ascontiguousarray(pos_b[:, 1])
    zb = np.ascontiguousarray(pos_b[:, 2])
    acc = np.zeros((n_chunks, n_bins, N_MOMENTS))
    n_blocks = (n_a + BLOCK_I - 1) // BLOCK_I
    for c in numba.prange(n_chunks):
        hist = acc[c]
        bins = np.empty(BLOCK_J, np.int64)
        frac = np.empty(BLOCK_J)
        for block in range(c, n_blocks, n_chunks):
            i0 = block * BLOCK_I
            i1 = min(i0 + BLOCK_I, n_a)
            for j0 in range(i0 if same else 0, n_b, BLOCK_J):
                j1 = min(j0 + BLOCK_J, n_b)
                for i in range(i0, i1):
                    js = max(j0, i + 1) if same else j0
                    m = j1 - js
                    if m <= 0:
                        continue
                    xi = xa[i]
                    yi = ya[i]
                    zi = za[i]
                    bx = xb[js:j1]
                    by = yb[js:j1]
                    bz = zb[js:j1]
                    for k in range(m):
                        dx = bx[k] - xi
                        dy = by[k] - yi
                        dz = bz[k] - zi
                        t = math.sqrt(dx * dx + dy * dy + dz * dz) * inv_dr
                        n = np.int64(t)
                        bins[k] = n
                        frac[k] = t - n
                    for k in range(m):
                        n = bins[k]
                        f = frac[k]
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


@numba.njit(parallel=True, cache=True, nogil=True)
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


@numba.njit(parallel=True, cache=True, nogil=True)
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
