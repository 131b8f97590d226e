"""Pair-distance histograms per element pair, with sub-bin moments.

For each element pair (alpha <= beta) every distance d = (n + f) dr, f in
[0, 1), adds f^k (k = 0..5) to bin n.  The moments turn into weights on the
grid nodes r_m = m dr by 6-point Lagrange interpolation (nodes n-2 .. n+3), so
that for any smooth g

    sum_pairs g(d) = sum_m h_m g(r_m) + O((dr)^6 g^(6)).

With g(d) = sin(Q d)/(Q d) the error of the Debye sum is of order
(Q dr)^6 / 720 per pair, far below the 1e-7 relative accuracy the engine
promises when dr = FAST_Q_DR / Q_max.  The histogram does not depend on Q, the
form factors or the Debye–Waller factor, so changing those (or scaling every
distance for a lattice expansion) costs one sum over nodes, not over pairs.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np
from ase import Atoms

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.scattering.kernels import N_MOMENTS, pair_moments, sine_series
from swaxs_lib.structures.sizes import atomic_volume

#: Product Q_max * dr of the fast mode's grid (see module docstring).
FAST_Q_DR = 0.2
#: Memory (bytes) of the histogram's accumulators, whatever the extent and thread count: the
#: kernel's per-chunk copies are cut to fit (fewer chunks, down to one), and a histogram whose
#: moments alone exceed it is refused.  256 MiB is a 2000 Å cluster (the structures' bound) at
#: the finest grid Q_max = 100 1/Å needs (1.0e6 bins x 6 moments x 8 bytes = 49 MB per element
#: pair); two atoms 6e4 Å apart at Q_max 20 1/Å asked for 2.9 GB on two threads (8 chunks).
MAX_HISTOGRAM_BYTES = 256 * 1024 * 1024
#: Pairs the histogram kernel bins per second and thread, for time estimates: 1.6-1.7e8 measured for
#: 22,543-atom Au spheres on the 2-core reference machine under load (benchmarks/bounds.py).
PAIRS_PER_SECOND_PER_THREAD = 1.5e8


@dataclass(frozen=True)
class PairHistogram:
    """Distance histograms of every element pair of a cluster.

    Attributes
    ----------
    elements : tuple of str
        Distinct elements, sorted.
    counts : tuple of int
        Atoms of each element.
    pairs : tuple of (int, int)
        Element index pairs (a <= b), one per row of ``node_weights``.
    bin_width_angstrom : float
        Grid spacing dr (Å).
    bin_counts : numpy.ndarray (n_pairs, n_bins)
        Pair counts per bin [n dr, (n + 1) dr); i < j within an element, all
        i, j between two.
    node_weights : numpy.ndarray (n_pairs, n_nodes)
        Lagrange weights on nodes r_m = m dr.
    atomic_volume_angstrom3 : float
        Volume per atom of the cluster (Å³, :func:`~swaxs_lib.structures.sizes.atomic_volume`),
        which sets where its small-angle scattering ends; NaN for fewer than two atoms.
    """

    elements: tuple[str, ...]
    counts: tuple[int, ...]
    pairs: tuple[tuple[int, int], ...]
    bin_width_angstrom: float
    bin_counts: np.ndarray
    node_weights: np.ndarray
    atomic_volume_angstrom3: float = math.nan

    @property
    def r_angstrom(self) -> np.ndarray:
        """Bin centres (Å) of ``bin_counts``."""
        return (np.arange(self.bin_counts.shape[1]) + 0.5) * self.bin_width_angstrom

    @property
    def max_distance_angstrom(self) -> float:
        """Upper edge (Å) of the last non-empty bin."""
        nonzero = np.nonzero(self.bin_counts.sum(axis=0))[0]
        return 0.0 if len(nonzero) == 0 else float((nonzero[-1] + 1) * self.bin_width_angstrom)

    def sinc_sums(self, q_inv_angstrom: np.ndarray, scale: float = 1.0) -> np.ndarray:
        """sum over pairs of sin(Q s d)/(Q s d) for every element pair.

        Parameters
        ----------
        q_inv_angstrom : numpy.ndarray (n_q,)
            Q values (1/Å), >= 0.
        scale : float
            Multiplies every distance (isotropic lattice expansion, 1 = none).

        Returns
        -------
        numpy.ndarray (n_pairs, n_q)
        """
        q = np.ascontiguousarray(q_inv_angstrom, dtype=float) * scale
        dr = self.bin_width_angstrom
        out = np.empty((len(self.pairs), len(q)))
        m = np.arange(1, self.node_weights.shape[1])
        small = q < 1e-12
        safe_q = np.where(small, 1.0, q)
        for k, h in enumerate(self.node_weights):
            # sinc(Q r_m) = sin(Q m dr) / (Q m dr); node 0 (r = 0) has sinc = 1
            series = sine_series(np.ascontiguousarray(np.concatenate(([0.0], h[1:] / (m * dr)))), 0.0, dr, safe_q)
            out[k] = h[0] + series / safe_q
            out[k, small] = h.sum()
        return out


def pair_histogram(atoms: Atoms, bin_width_angstrom: float) -> PairHistogram:
    """Histogram every element pair's distances with sub-bin moments.

    Parameters
    ----------
    atoms : ase.Atoms
        The cluster (cell ignored).
    bin_width_angstrom : float
        Bin width dr (Å), > 0.

    Returns
    -------
    PairHistogram

    Raises
    ------
    SwaxsInputError
        Non-finite coordinates, or moments over :data:`MAX_HISTOGRAM_BYTES`
        (the kernel's accumulators are kept under it by using fewer chunks).
    """
    dr = float(bin_width_angstrom)
    positions = np.asarray(atoms.positions, dtype=float)
    symbols = np.array(atoms.get_chemical_symbols())
    elements = tuple(sorted(set(symbols.tolist())))
    groups = [np.ascontiguousarray(positions[symbols == e]) for e in elements]
    centre = positions.mean(axis=0) if len(positions) else np.zeros(3)
    with np.errstate(over="ignore", invalid="ignore"):  # coordinates of 1e300: refused below, by their reach
        reach = 2.0 * float(np.linalg.norm(positions - centre, axis=1).max()) if len(positions) else 0.0
    n_pair_kinds = len(elements) * (len(elements) + 1) // 2
    bin_bytes = N_MOMENTS * np.dtype(float).itemsize
    if not (dr > 0 and math.isfinite(reach) and n_pair_kinds * (reach / dr + 2) * bin_bytes <= MAX_HISTOGRAM_BYTES):
        raise SwaxsInputError(
            f"atoms: a pair histogram over {reach:.4g} Å in bins of {dr:.3g} Å for {n_pair_kinds} element pair(s) "
            f"needs more than {MAX_HISTOGRAM_BYTES // 2**20} MiB; expected a smaller cluster (coordinates in Å) "
            "or a smaller Q_max")
    n_bins = int(math.ceil(reach / dr)) + 2
    # each chunk owns an (n_bins, 6) accumulator: as many as the threads use, but never past the memory bound
    n_chunks = max(1, min(4 * numba.get_num_threads(), MAX_HISTOGRAM_BYTES // (n_bins * bin_bytes)))
    pairs, moments = [], []
    for a in range(len(elements)):
        for b in range(a, len(elements)):
            pairs.append((a, b))
            moments.append(pair_moments(groups[a], groups[b], a == b, 1.0 / dr, n_bins, n_chunks))
    moments_arr = np.array(moments).reshape(len(pairs), n_bins, N_MOMENTS)
    return PairHistogram(
        elements=elements,
        counts=tuple(len(g) for g in groups),
        pairs=tuple(pairs),
        bin_width_angstrom=dr,
        bin_counts=moments_arr[:, :, 0].copy(),
        node_weights=np.array([_node_weights(m) for m in moments_arr]).reshape(len(pairs), -1),
        atomic_volume_angstrom3=atomic_volume(positions) if len(positions) >= 2 else math.nan,
    )


def histogram_seconds(n_atoms: int, threads: int | None = None) -> float:
    """Estimated time (s) of :func:`pair_histogram` for ``n_atoms`` atoms: N(N-1)/2 pairs at
    :data:`PAIRS_PER_SECOND_PER_THREAD` per thread (an estimate: the machine's load changes it).

    Examples
    --------
    >>> round(histogram_seconds(100_000, threads=2))
    17
    """
    pairs = n_atoms * (n_atoms - 1) / 2
    threads = threads or max(1, min(numba.get_num_threads(), os.cpu_count() or 1))
    return pairs / (PAIRS_PER_SECOND_PER_THREAD * threads)


def time_estimate(n_atoms: int, threshold_s: float = 1.0, load: float | None = None) -> str:
    """``"5e+09 pairs, about 17 s"`` for a pair histogram expected to take over ``threshold_s``, else ``""``.

    On a busy machine (``load``, the 1-minute load average by default, above the cores) the idle
    estimate runs low: it is followed by an upper bound, the threads' share of the cores were every
    runnable process given an equal share (e.g. "about 8 s idle, up to 28 s at this load (7.0 on 2
    cores)"; measured: 14.7 s at load 7).

    Examples
    --------
    >>> time_estimate(100_000, threshold_s=0.0, load=0.0).split(", ")[0]
    '5e+09 pairs'
    >>> "up to" in time_estimate(100_000, threshold_s=0.0, load=100.0)
    True
    """
    seconds = histogram_seconds(n_atoms)
    if seconds < threshold_s:
        return ""
    text = f"{n_atoms * (n_atoms - 1) / 2:.2g} pairs, about {_duration(seconds)}"
    cores = os.cpu_count() or 1
    if load is None:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load > cores:
        threads = max(1, min(numba.get_num_threads(), cores))
        share = cores * threads / (load + threads)  # cores these threads get when all runnable share equally
        slow = seconds * threads / min(share, threads)
        text += f" idle, up to {_duration(slow)} at this load ({load:.1f} on {cores} cores)"
    return text


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def fast_bin_width(q_max_inv_angstrom: float) -> float:
    """Grid spacing (Å) of the fast mode for Q up to ``q_max_inv_angstrom``.

    A power of two, so that histograms are shared between nearby Q ranges.
    """
    q_max = max(float(q_max_inv_angstrom), 1.0)
    return 2.0 ** math.floor(math.log2(FAST_Q_DR / q_max))


@lru_cache(maxsize=1)
def _lagrange_matrix() -> np.ndarray:
    # Row k: monomial coefficients (f^0 .. f^5) of the Lagrange basis polynomial of node x_k.
    nodes = np.arange(-2, 4, dtype=float)
    rows = []
    for k, xk in enumerate(nodes):
        others = np.delete(nodes, k)
        poly = np.poly1d(others, r=True) / np.prod(xk - others)
        rows.append(poly.coeffs[::-1])
    return np.array(rows)


def _node_weights(moments: np.ndarray) -> np.ndarray:
    n_bins = moments.shape[0]
    per_node = moments @ _lagrange_matrix().T  # (n_bins, 6): weight of node n + x_k
    padded = np.zeros(n_bins + 6)  # padded[i] is node i - 2
    for k in range(N_MOMENTS):
        padded[k : k + n_bins] += per_node[:, k]
    h = padded[2:].copy()
    h[1] += padded[1]  # sinc is even: nodes -1 and -2 fold onto 1 and 2
    h[2] += padded[0]
    return h
