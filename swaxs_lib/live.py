"""A cluster's I(Q), S(Q), F(Q) or G(r) for any zoom, B (U), delta2 and Q damping, from a few precomputed arrays.

The Compare page redraws the model in the browser while a slider moves; this
module computes, once per (cluster, data), what the browser needs for that,
and evaluates the same formula in numpy (the reference the browser's
JavaScript is tested against).  For element pairs p = (a, c) of the cluster's
pair histogram (:class:`~swaxs_lib.scattering.PairHistogram`)::

    model(Q) = A(Q) + sum_p C_p(Q) exp(-(B_a + B_c) Q^2 / (16 pi^2)) S_p(zoom Q)

    S_p(u) = sum over pairs of distance d of sin(u d) / (u d)

with, for I(Q) (:func:`~swaxs_lib.scattering.debye_intensity`), A = sum_a N_a
|f_a|^2 and C_p = 2 Re(f_a f_c*); for S(Q) A = 1 and C_p = 2 Re(f_a f_c*) /
(N |<f>|^2); for F(Q) A = 0 and C_p = Q 2 Re(f_a f_c*) / (N |<f>|^2) (the
normalisations of :class:`~swaxs_lib.scattering.debye.DebyeCurve`).  A and C
depend on Q only (form factors at the data's points); zoom scales every
distance, which moves the argument of S_p; S_p is tabulated on a uniform grid
u_k = u_0 + k h covering 0.9 min(Q) .. 1.1 max(Q) (the zoom's bounds) and
interpolated by 6-point Lagrange polynomials.  With h = 0.2 / (1.1 D_max)
(D_max the longest distance) the interpolation error is below 1e-8 of max|S_p|
(the error of a 6-point rule is about (h D)^6 / 720 of the terms it sums) and
below 2e-5 of I(Q) itself even in the deep minima of a cluster's small-angle
scattering.

For G(r) (:class:`LivePDF`) the browser runs the refinement's own real-space
algorithm (:func:`swaxs_lib.refine.realspace.realspace_pdf`: Gaussians per
histogram node on a fine grid, a sine transform to F(Q), the Q window and the
small-angle taper, the transform back, Q damping) on the pieces that do not
depend on the sliders: the histogram's node weights, the pair weights
2 f_a f_b / (N <f>^2), the window, the volume per atom.  Its sine transforms
are FFTs of a power-of-two length at least the server's transform length, so
the two differ by the transform's wrap-around and Q sampling only (5e-6 of
max|G| measured on the Au144 PDF; tests/browser/test_live_plot.py holds 1e-3).

Validation
----------
tests/test_live.py: against the exact double-sum Debye equation
(:func:`~swaxs_lib.scattering.debye_intensity`, ``mode="exact"``) for I(Q),
S(Q), F(Q) of one- and two-element clusters at zoom and B away from 1 and 0,
and against :func:`swaxs_lib.compare.compare_cluster` on its own points;
tests/browser/test_live_plot.py: the browser's curves and R_w against
``compare_cluster``.

Examples
--------
>>> import numpy as np
>>> from swaxs_lib.scattering import debye_intensity, pair_histogram
>>> from swaxs_lib.structures import icosahedron
>>> atoms = icosahedron("Au", 3).atoms
>>> q = np.linspace(1, 8, 50)
>>> live = live_model(pair_histogram(atoms, 0.01), q, "iq")
>>> ref = debye_intensity(atoms, q, mode="exact", b_iso_angstrom2=0.7, scale=1.03).intensity
>>> bool(np.max(np.abs(live.evaluate(1.03, 0.7) / ref - 1)) < 1e-6)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.scattering import PairHistogram
from swaxs_lib.scattering.form_factors import form_factor

#: Zoom bounds the grid covers (the model table's: every distance times 0.9 to 1.1).
ZOOM_RANGE = (0.9, 1.1)
#: Grid step times the longest (zoomed) distance (module docstring).
GRID_STEP_TIMES_DISTANCE = 0.2
#: Largest grid accepted (a 100 nm cluster to Q = 25 1/Å needs some 110,000 points).
MAX_GRID_POINTS = 400_000
#: Nodes of the Lagrange stencil, relative to the grid point at or below the argument.
STENCIL = (-2, -1, 0, 1, 2, 3)
KINDS = ("iq", "sq", "fq")


@dataclass(frozen=True)
class LiveModel:
    """What :meth:`evaluate` (and the browser) need to compute the model for any zoom and B.

    Attributes
    ----------
    kind : str
        ``"iq"``, ``"sq"`` or ``"fq"``.
    q_inv_angstrom : numpy.ndarray (n_q,)
        The data's Q (1/Å).
    elements : tuple of str
    pairs : tuple of (int, int)
        Element indices (a <= c) of each row of ``coefficients`` and ``sinc_grid``.
    offset : numpy.ndarray (n_q,)
        A(Q): the i = j terms (I(Q): electrons²; S(Q): 1; F(Q): 0).
    coefficients : numpy.ndarray (n_pairs, n_q)
        C_p(Q).
    grid_start_inv_angstrom, grid_step_inv_angstrom : float
        u_0 and h of the grid of ``sinc_grid`` (1/Å).
    sinc_grid : numpy.ndarray (n_pairs, n_u)
        S_p(u_k), pair sums of sin(u d)/(u d).
    """

    kind: str
    q_inv_angstrom: np.ndarray
    elements: tuple[str, ...]
    pairs: tuple[tuple[int, int], ...]
    offset: np.ndarray
    coefficients: np.ndarray
    grid_start_inv_angstrom: float
    grid_step_inv_angstrom: float
    sinc_grid: np.ndarray

    def evaluate(self, zoom: float = 1.0, b_iso_angstrom2: float | Mapping[str, float] = 0.0) -> np.ndarray:
        """The model at the data's Q for this zoom and B (Å², one for all elements or per element).

        Raises
        ------
        SwaxsInputError
            A zoom outside :data:`ZOOM_RANGE`, a negative or missing B.
        """
        if not (math.isfinite(zoom) and ZOOM_RANGE[0] <= zoom <= ZOOM_RANGE[1]):
            raise SwaxsInputError(f"zoom: got {zoom!r}; expected a number from {ZOOM_RANGE[0]} to {ZOOM_RANGE[1]}")
        b = _b_per_element(b_iso_angstrom2, self.elements)
        q = self.q_inv_angstrom
        t = (q * zoom - self.grid_start_inv_angstrom) / self.grid_step_inv_angstrom
        i = np.floor(t).astype(int)
        f = t - i
        weights = [_lagrange(f, k) for k in range(len(STENCIL))]
        out = self.offset.copy()
        for row, (a, c) in enumerate(self.pairs):
            s = sum(w * self.sinc_grid[row, i + node] for w, node in zip(weights, STENCIL))
            out += self.coefficients[row] * np.exp(-(b[a] + b[c]) * q * q / (16.0 * math.pi**2)) * s
        return out


def live_model(histogram: PairHistogram, q_inv_angstrom, kind: str) -> LiveModel:
    """The pieces of the model of ``kind`` at ``q_inv_angstrom`` for the cluster of ``histogram``.

    Parameters
    ----------
    histogram : PairHistogram
        Of the cluster (:func:`swaxs_lib.compare.histogram_for`); fine enough
        for 1.1 max(Q), as every histogram the models build is.
    q_inv_angstrom : array_like (n_q,)
        The data's Q (1/Å), finite and >= 0.
    kind : {"iq", "sq", "fq"}

    Returns
    -------
    LiveModel

    Raises
    ------
    SwaxsInputError
        An unknown kind, bad Q, a histogram too coarse for 1.1 max(Q), or a grid
        above :data:`MAX_GRID_POINTS`.
    """
    if kind not in KINDS:
        raise SwaxsInputError(f"kind: got {kind!r}; expected one of {', '.join(KINDS)} (G(r) has no live model)")
    q = np.asarray(q_inv_angstrom, dtype=float).ravel()
    if q.size == 0 or not np.all(np.isfinite(q)) or np.any(q < 0):
        raise SwaxsInputError("q_inv_angstrom: expected a non-empty array of finite values >= 0 (1/Å)")
    from swaxs_lib.scattering import fast_bin_width

    u_max = float(q.max()) * ZOOM_RANGE[1]
    if histogram.bin_width_angstrom > fast_bin_width(u_max) * (1 + 1e-12):
        raise SwaxsInputError(f"histogram: bin width {histogram.bin_width_angstrom} Å; expected at most "
                              f"{fast_bin_width(u_max)} Å for Q up to {u_max:g} 1/Å")
    distance = max(histogram.max_distance_angstrom * ZOOM_RANGE[1], 1.0)
    step = GRID_STEP_TIMES_DISTANCE / distance
    start = float(q.min()) * ZOOM_RANGE[0] + (STENCIL[0] - 1) * step
    n_grid = int(math.ceil((u_max - start) / step)) + STENCIL[-1] + 2
    if n_grid > MAX_GRID_POINTS:
        raise SwaxsInputError(f"cluster: its longest distance {distance:.0f} Å with Q up to {u_max:g} 1/Å needs "
                              f"{n_grid} grid points; expected at most {MAX_GRID_POINTS}")
    grid = start + step * np.arange(n_grid)
    sinc_grid = histogram.sinc_sums(np.abs(grid))  # S_p is even in u: the grid may start below 0
    f = {e: form_factor(e, q) for e in histogram.elements}
    counts = np.array(histogram.counts, dtype=float)
    n = counts.sum()
    self_term = sum(c * np.abs(f[e]) ** 2 for c, e in zip(counts, histogram.elements))
    cross = np.array([2.0 * np.real(f[histogram.elements[a]] * np.conj(f[histogram.elements[c]]))
                      for a, c in histogram.pairs]).reshape(len(histogram.pairs), len(q))
    if kind == "iq":
        offset, coefficients = np.asarray(self_term, dtype=float), cross
    else:
        mean_f = sum(c * f[e] for c, e in zip(counts, histogram.elements)) / n
        coefficients = cross / (n * np.abs(mean_f) ** 2)
        offset = np.ones_like(q)
        if kind == "fq":
            coefficients, offset = coefficients * q, np.zeros_like(q)
    return LiveModel(kind=kind, q_inv_angstrom=q, elements=tuple(histogram.elements), pairs=tuple(histogram.pairs),
                     offset=offset, coefficients=np.ascontiguousarray(coefficients), grid_start_inv_angstrom=start,
                     grid_step_inv_angstrom=step, sinc_grid=np.ascontiguousarray(sinc_grid))


def _lagrange(f: np.ndarray, k: int) -> np.ndarray:
    """The Lagrange basis polynomial of stencil node k at fraction f (the browser computes the same)."""
    out = np.ones_like(f)
    for m, node in enumerate(STENCIL):
        if m != k:
            out = out * (f - node) / (STENCIL[k] - node)
    return out


def _b_per_element(b_iso, elements: tuple[str, ...]) -> list[float]:
    values = [b_iso.get(e) for e in elements] if isinstance(b_iso, Mapping) else [b_iso] * len(elements)
    out = []
    for e, v in zip(elements, values):
        try:
            x = float(v)
        except (TypeError, ValueError):
            x = math.nan
        if not (math.isfinite(x) and x >= 0):
            raise SwaxsInputError(f"b_iso_angstrom2: got {v!r} for {e}; expected a number >= 0 (Å²)")
        out.append(x)
    return out


@dataclass(frozen=True)
class LivePDF:
    """What the browser needs to run :func:`~swaxs_lib.refine.realspace.realspace_pdf` for any zoom, U, delta2, Q_damp.

    Attributes
    ----------
    r_angstrom : numpy.ndarray (n_r,)
        The data's r (Å).
    pairs : tuple of (int, int)
        Element indices of each row of ``node_weights``.
    n_elements : int
    node_weights : numpy.ndarray (n_pairs, n_nodes)
        The histogram's Lagrange weights on nodes m dr (:class:`~swaxs_lib.scattering.PairHistogram`).
    pair_weights : numpy.ndarray (n_pairs,)
        2 f_a(0) f_b(0) / (N <f>²).
    bin_width_angstrom : float
        dr of the nodes.
    grid_step_angstrom : float
        Spacing h of the fine grid of G_inf.
    length_angstrom : float
        The server's transform length L (the browser rounds the grid up to a power of two).
    q_min_inv_angstrom, q_max_inv_angstrom : float
        The experiment's Q window.
    self_weight : float
        Σ N_a f_a² / (N <f>²).
    atomic_volume_angstrom3 : float
        Volume per atom for the small-angle taper; NaN keeps the small-angle scattering.
    """

    r_angstrom: np.ndarray
    pairs: tuple[tuple[int, int], ...]
    n_elements: int
    node_weights: np.ndarray
    pair_weights: np.ndarray
    bin_width_angstrom: float
    grid_step_angstrom: float
    length_angstrom: float
    q_min_inv_angstrom: float
    q_max_inv_angstrom: float
    self_weight: float
    atomic_volume_angstrom3: float


def live_pdf(histogram: PairHistogram, r_angstrom, q_min_inv_angstrom: float, q_max_inv_angstrom: float, *,
             small_angle: str = "subtract") -> LivePDF:
    """The pieces of the G(r) model (:mod:`swaxs_lib.models.cluster_gr`) at ``r_angstrom`` for this Q window.

    Raises
    ------
    SwaxsInputError
        What :func:`~swaxs_lib.refine.realspace.realspace_setup` rejects.
    """
    from swaxs_lib.refine.realspace import GRID_STEP_ANGSTROM, realspace_setup

    setup = realspace_setup(histogram, np.asarray(r_angstrom, dtype=float), q_min_inv_angstrom, q_max_inv_angstrom,
                            max_zoom=ZOOM_RANGE[1], small_angle=small_angle)
    return LivePDF(r_angstrom=setup.r_angstrom, pairs=tuple(histogram.pairs), n_elements=len(histogram.elements),
                   node_weights=np.ascontiguousarray(histogram.node_weights), pair_weights=setup.pair_weights,
                   bin_width_angstrom=histogram.bin_width_angstrom, grid_step_angstrom=GRID_STEP_ANGSTROM,
                   length_angstrom=setup.length_angstrom, q_min_inv_angstrom=setup.q_min_inv_angstrom,
                   q_max_inv_angstrom=setup.q_max_inv_angstrom, self_weight=setup.self_weight,
                   atomic_volume_angstrom3=setup.atomic_volume_angstrom3)


__all__ = ["LiveModel", "LivePDF", "MAX_GRID_POINTS", "ZOOM_RANGE", "live_model", "live_pdf"]
