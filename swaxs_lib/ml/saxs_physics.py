"""A SAXS-only size from physics: a Bayes decision over every ladder member, size scale, spread and Q resolution.

No learned model.  A SAXS window (Q_lo 0.02-0.05 to Q_hi 0.1-0.6 1/Å) is compared, at the curve's own Q
points inside it (runs of consecutive points averaged beyond :data:`MAX_POINTS`; never interpolated: an
interpolated minimum of a monodisperse curve misled the decision by 10 %), with every hypothesis:

* a ladder member (:func:`swaxs_lib.ml.catalog.families`) as the centre rung,
* a size scale a (:data:`N_SCALES` log-spaced over every element's lattice and -3..+3 % expansion),
* a number-weighted spread w of the family's rungs in :data:`WIDTHS`
  (:func:`swaxs_lib.ml.simulate.ladder_weights`, as the database mixes them; the size labels are
  number-weighted means),
* a Gaussian Q resolution in :data:`RESOLUTIONS` (none, the database's median, its largest), or, where the
  curve's own dQ is given (a file's dQ column), :data:`STATED_RESOLUTION_FACTORS` times it.

Curves are Debye I(Q) = f(Q)² [n + (S(aQ) - n) exp(-B Q² / 8 pi²)], S the gold template's structure
factor stored in the model folder (:data:`STRUCTURES_FILE`, log S in 16-bit codes on :data:`X_GRID`), gold's f(Q)
and B = 0.6 Å² for every hypothesis (below 0.6 1/Å the elements' f(Q)² and B 0.2..2 change the window's
shape by < 1 %).  Per hypothesis an intensity scale c >= 0 and a constant background 0 <= b <= r c are
fitted in closed form (:func:`swaxs_lib.ml.ceiling.profiled_chi2_background`; r is what the database's
background reaches relative to the particles' own scattering), weights 1/sigma² with sigma² = T x the
model (Poisson-like, counts unknown): a first pass weights by a running mean of the curve, the second by
the best first-pass fit; T is the best second-pass chi² / (points - 4), so the posterior exp(-chi² / 2T)
is calibrated to the curve's own noise.  The smeared hypotheses integrate over the database's Q grid, as the
simulator smears; they are built once per Q grid (~1 s) and kept.  The chi² of all ~190,000 hypotheses
is screened with float32 sums and recomputed exactly for the best :data:`KEEP` (about 35 ms a curve).

Prior: as the database draws its test curves (shape classes equally, a class's families equally, the
centre rung uniform; the element uniform, or the one given, its expansion uniform -3..+3 %), flat over
spread and resolution; optionally weighted by size-group probabilities (a WAXS shape model's) or
restricted to the groups of a shape the user knows, or to no spread for a sample the user knows to hold one
size (``monodisperse``; the reported ``monodisperse_probability`` stays the data's own, without that
claim, so that a curve contradicting it is seen: :data:`MONODISPERSE_DOUBT`).  The decision is the size right (within one shell
or 5 %) for the most posterior mass (:func:`swaxs_lib.ml.ceiling.bayes_size`), and the posterior mass
that decision holds (in a posterior widened by :data:`REPORT_TEMPERATURE_FACTOR`) is reported as its
probability: where the curve cannot tell a monodisperse particle from a spread of smaller ones, that
probability says so.  ``misfit`` compares the best fit's residuals with the curve's own point-to-point
scatter: a curve no ladder cluster describes stands out (:data:`MISFIT_LIMIT`).

Validation: held out per window in ``evaluation.json`` → ``windows_physics`` (``evaluate``) and
``benchmarks/ml_saxs_sizer.py`` (beside the window model on the same curves; with the shape or element
given); the same decision at 4x the scale resolution in ``benchmarks/ml_saxs_physics.py``;
tests/test_saxs_physics.py: the structure factors against the Debye sum written out over every pair, and
gold clusters built by ASE with I(Q) from ASE's own Debye code (ase.utils.xrdebye), on a Q grid of the
user's, with counting noise and background, and smeared with a dQ of the user's (Gauss-Hermite quadrature;
the smearing matrix of a dQ per point against that quadrature of the analytic sphere, 2e-3); with each
curve's dQ given, held out in ``evaluation.json`` → ``windows_physics_resolution_given``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.ml.catalog import ELEMENTS, MAX_DIAMETER_ANGSTROM, element_scale, families, size_group
from swaxs_lib.ml.ceiling import bayes_size, profiled_chi2_background, solve_background
from swaxs_lib.ml.simulate import Q_GRID, ladder_weights

#: The structure factors' file in a model folder.
STRUCTURES_FILE = "saxs_structures.npz"
#: x = a Q (1/Å) of the stored structure factors: every scale times every Q of a window up to :data:`Q_HI_MAX`
#: and the smearing's reach beyond it (8 sigma of the largest resolution).
X_GRID = np.geomspace(0.016, 0.9, 1800)
#: The widest window the estimator serves (1/Å): beyond it the window model answers.
Q_HI_MAX = 0.6
#: Size scales (log-spaced over every element's lattice, -3..+3 % expansion).
N_SCALES = 80
#: Number-weighted relative spreads of the family's rungs (sd / centre diameter).
WIDTHS = (0.0, 0.1, 0.2, 0.3)
#: Q resolutions sigma_Q = sqrt((relative Q)² + absolute²) (relative, absolute 1/Å): none, the database's
#: median and its largest (:func:`swaxs_lib.ml.simulate.draw_variant`).
RESOLUTIONS = ((0.0, 0.0), (0.015, 0.01), (0.03, 0.02))
#: With the curve's own resolution given (a file's dQ column): these multiples of it are the hypotheses
#: instead of :data:`RESOLUTIONS` (as many), since a stated dQ is itself an estimate.  Held out at 0.02-0.3
#: 1/Å, 200 monodisperse curves: the truth alone 0.94 right, these multiples 0.935, :data:`RESOLUTIONS` 0.88.
STATED_RESOLUTION_FACTORS = (0.7, 1.0, 1.4)
#: Debye-Waller B (Å²) of every hypothesis (the library's).
B_ISO = 0.6
#: The largest background per unit of intensity scale, per atom, in units of f_Au(Q_lo)²: the database's
#: (c0 + c1 Q / 20) x median WAXS I (c0, c1 <= 0.3) is <= 0.3045 x median WAXS I below 0.3 1/Å, and the
#: median WAXS I per particle is <= 0.18 n f(0)² (gold's, the largest of the elements); 1.5 x that for
#: the pair terms and smearing.
BACKGROUND_PER_ATOM = 1.5 * 0.3045 * 0.18
#: Hypotheses kept (the most probable) for the decision, its probability and intervals.
KEEP = 2000
#: Hypotheses whose first-pass chi² is recomputed exactly to find the best fit (the second pass's weights).
SCREEN_EXACT = 200
#: The reported posterior's temperature over the curve's own noise level (the best fit's reduced chi²): its
#: probability, intervals and spread.  The decision uses the curve's noise level itself.  Chosen on a
#: calibration subset of the held-out curves (``benchmarks/ml_saxs_sizer.py --seed 1``) as the smallest
#: factor whose 90 % extent intervals hold the truth for >= 90 % of curves at 0.02-0.3 1/Å.
REPORT_TEMPERATURE_FACTOR = 20.0
#: The misfit (:attr:`PhysicsSize.misfit`) above which no hypothesis describes the curve: held out, the
#: median is 1.03 and 99 % of curves stay below 26-28 (``benchmarks/ml_saxs_sizer.py``); a measured silica
#: SANS curve with a structure-factor peak gets 3e6.
MISFIT_LIMIT = 100.0
#: Told one size (``monodisperse``), a curve whose own posterior mass on no spread is below this is warned
#: about.  Chosen on an independent draw (``build-db --seed 424242``, 540 curves a split, 0.02-0.3 1/Å) as the
#: largest of 0.05, 0.1, 0.15 warning <= 5 % of monodisperse curves: 1.5 % of them, and 60 % of 20 %
#: polydisperse curves (0.15: 6.1 % and 76 %).
MONODISPERSE_DOUBT = 0.1
#: Central posterior mass of the reported intervals.
INTERVAL_MASS = 0.90
#: Hypothesis sets (one per Q grid) kept in memory per process (each ~80-120 MB).
CACHED_GRIDS = 3
#: Points compared at most: a finer curve is averaged over runs of consecutive points.
MAX_POINTS = 120


@dataclass(frozen=True)
class _Rung:
    """What :func:`swaxs_lib.ml.simulate.ladder_weights` reads of a ladder member."""

    diameter_angstrom: float


@dataclass(frozen=True)
class PhysicsSize:
    """One curve's physics size decision; sizes in nm, as the database labels them (extent: atom centre to
    atom centre; volume-equivalent diameter: gold's fcc atomic volume times the hypothesis's scale)."""

    window_inv_angstrom: tuple[float, float]
    extent_nm: float
    extent_interval_nm: tuple[float, float]
    extent_probability: float
    volume_diameter_nm: float
    volume_diameter_interval_nm: tuple[float, float]
    n_atoms: float
    n_atoms_interval: tuple[float, float]
    monodisperse_probability: float
    misfit: float
    hypotheses: int
    resolution_given: bool
    seconds: float


def ladder_rows(max_diameter_angstrom: float = MAX_DIAMETER_ANGSTROM) -> list[tuple]:
    """Every ladder member up to ``max_diameter_angstrom`` (template Å) with its shell step (Å, gold):
    (member, step) in :func:`swaxs_lib.ml.catalog.families` order."""
    from swaxs_lib.ml.database import shell_step
    from swaxs_lib.ml.simulate import clean_variant

    gold = clean_variant("Au")
    return [(m, shell_step(ladder, k, gold)) for ladder in families(max_diameter_angstrom).values()
            for k, m in enumerate(ladder)]


def structure_factors(members: list, x_grid: np.ndarray,
                      progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """S(x) = I(x) / Z² of each member's gold template (constant form factor, no damping; the exact Debye sum
    over the pair histogram) on ``x_grid`` (1/Å): (len(members), len(x_grid))."""
    from swaxs_lib.scattering.debye import debye_intensity
    from swaxs_lib.scattering.histogram import fast_bin_width, pair_histogram
    from swaxs_lib.structures import build_cluster

    out = np.empty((len(members), len(x_grid)))
    for i, m in enumerate(members):
        atoms = build_cluster(m.shape, "Au", **m.parameters).atoms
        hist = pair_histogram(atoms, fast_bin_width(float(x_grid[-1])))
        out[i] = debye_intensity(atoms, x_grid, histogram=hist, form_factor_source="constant").intensity / 79.0**2
        if progress is not None:
            progress(i + 1, len(members))
    return out


def structure_table(max_diameter_angstrom: float = MAX_DIAMETER_ANGSTROM,
                    progress: Callable[[int, int], None] | None = None) -> dict[str, np.ndarray]:
    """Every ladder member up to ``max_diameter_angstrom`` (the database's) with its structure factor on
    :data:`X_GRID` (:func:`structure_factors`), log S stored in 16 bits per row's range
    (:func:`encode_log_structure`), and the member's family, class, atom count, extent and shell step (Å):
    what :class:`SaxsPhysics` reads, so that it never builds a cluster.  About 1 min on one core for the full
    ladders.
    """
    rows = ladder_rows(max_diameter_angstrom)
    s = structure_factors([m for m, _ in rows], X_GRID, progress)
    return {"x_grid": X_GRID.copy(), **encode_log_structure(np.log(s)),
            "family": np.array([m.family for m, _ in rows]), "shape_class": np.array([m.shape_class for m, _ in rows]),
            "n_atoms": np.array([m.n_atoms for m, _ in rows], np.int64),
            "diameter_angstrom": np.array([m.diameter_angstrom for m, _ in rows]),
            "shell_step_angstrom": np.array([st for _, st in rows])}


def scale_prior(scales: np.ndarray, element: str | None = None) -> np.ndarray:
    """The prior probability of each log-spaced scale a: the element uniform (or the one given), its
    expansion uniform in -3..+3 % (the density in a times a, the grid being log-spaced)."""
    chosen = ELEMENTS if element is None else (element,)
    density = sum((np.abs(scales / element_scale(e) - 1) <= 0.03) / (0.06 * element_scale(e)) for e in chosen)
    return density * scales / len(chosen)


def member_prior(family: np.ndarray, shape_class: np.ndarray) -> np.ndarray:
    """Each member's probability as the test splits draw them: classes equally, a class's families
    (those with members) equally, the centre rung uniform."""
    rungs = {f: int(np.sum(family == f)) for f in set(family)}
    per_class = {c: len(set(family[shape_class == c])) for c in set(shape_class)}
    return np.array([1 / len(per_class) / per_class[c] / rungs[f] for f, c in zip(family, shape_class)])


def resolution_sigma(q: np.ndarray, resolution: tuple[float, float]) -> np.ndarray:
    """sigma_Q = sqrt((relative Q)² + absolute²) (1/Å) at ``q`` for ``resolution`` = (relative, absolute), as
    the simulator draws it."""
    relative, absolute = resolution
    return np.sqrt((relative * np.asarray(q, float)) ** 2 + absolute**2)


def smear_matrix(q: np.ndarray, resolution: tuple[float, float] | np.ndarray,
                 n_max: int | None = None) -> tuple[np.ndarray, int]:
    """The simulator's Gaussian Q resolution (:func:`swaxs_lib.ml.simulate.smear`) as a matrix: smeared I
    at ``q`` (points of :data:`Q_GRID`, or a user's) = M @ I at the first n points of :data:`Q_GRID`,
    normalised over the grid as ``smear`` does, columns beyond 8 sigma of the last point dropped.

    Parameters
    ----------
    q : numpy.ndarray
        Increasing Q (1/Å).
    resolution : (float, float) or numpy.ndarray
        (relative, absolute) as the simulator's variants give it (:func:`resolution_sigma`), or the 1-sigma
        dQ (1/Å) of each point of ``q`` (a file's).
    n_max : int, optional
        At most this many columns (the stored structure factors' reach): rows are then renormalised over them.

    Returns
    -------
    (numpy.ndarray (len(q), n), n)
    """
    index = np.searchsorted(Q_GRID, q - 1e-9)
    sigma = (resolution_sigma(q, resolution) if isinstance(resolution, tuple)
             else np.asarray(resolution, float))
    if not np.any(sigma > 0):
        n = int(index.max()) + 1
        return np.eye(n)[index], n
    sigma = np.maximum(sigma, 1e-9)
    weights = np.exp(-0.5 * ((Q_GRID[None, :] - q[:, None]) / sigma[:, None]) ** 2) * np.gradient(Q_GRID)[None, :]
    weights /= weights.sum(axis=1, keepdims=True)
    n = int(np.searchsorted(Q_GRID, np.max(q + 8 * sigma)))
    if n_max is not None and n > n_max:
        n = n_max
        return weights[:, :n] / weights[:, :n].sum(axis=1, keepdims=True), n
    return weights[:, :n], n


def running_mean(y: np.ndarray, half: int = 2) -> np.ndarray:
    """Mean of each point's 2 half + 1 neighbours (fewer at the ends)."""
    kernel = np.ones(2 * half + 1)
    return np.convolve(y, kernel, "same") / np.convolve(np.ones(len(y)), kernel, "same")


def local_noise(q: np.ndarray, y: np.ndarray, model: np.ndarray) -> float:
    """The curve's noise level T (variance = T x intensity) from its own point-to-point scatter, no model
    needed: each interior point against the straight line through its neighbours (variance
    sigma_i² + a² sigma_(i-1)² + b² sigma_(i+1)², a + b = 1), the median of the normalised squares over
    the median of chi² with one degree of freedom (0.455): the curve's smooth shape between neighbours
    counts as noise only where it bends sharply, which the median ignores."""
    a = (q[2:] - q[1:-1]) / (q[2:] - q[:-2])
    b = 1 - a
    line = a * y[:-2] + b * y[2:]
    variance = model[1:-1] + a**2 * model[:-2] + b**2 * model[2:]
    return max(float(np.median((y[1:-1] - line) ** 2 / variance)) / 0.455, 1e-300)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, quantiles: tuple[float, ...]) -> list[float]:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    cumulative /= cumulative[-1]
    return [float(values[order][min(int(np.searchsorted(cumulative, p)), len(values) - 1)]) for p in quantiles]


class SaxsPhysics:
    """The physics size estimator of one model folder (module docstring).

    Parameters
    ----------
    table : dict of str to numpy.ndarray
        :func:`structure_table`'s arrays (a model folder's :data:`STRUCTURES_FILE`).
    """

    def __init__(self, table: dict[str, np.ndarray]):
        from swaxs_lib.structures.elements import lattice_constant
        from swaxs_lib.structures.sizes import volume_diameter

        if not np.allclose(table["x_grid"], X_GRID, rtol=1e-9):
            raise SwaxsInputError(f"{STRUCTURES_FILE}: its x grid differs from this version's X_GRID; expected "
                                  "one written by this version's train")
        self.log_structures = decode_log_structure(table)
        family = np.asarray(table["family"]).astype(str)
        self.n_atoms = np.asarray(table["n_atoms"], float)
        diameter = np.asarray(table["diameter_angstrom"], float)
        step = np.asarray(table["shell_step_angstrom"], float)
        self.group = np.array([size_group(f) for f in family])
        member_log_prior = np.log(member_prior(family, np.asarray(table["shape_class"]).astype(str)))
        # the number-weighted spread of a centre rung over its family's rungs, as the database mixes them
        self.mixes = [np.zeros((len(family), len(family))) for _ in WIDTHS]
        for f in dict.fromkeys(family):
            rows = np.flatnonzero(family == f)
            ladder = tuple(_Rung(d) for d in diameter[rows])
            for w_index, width in enumerate(WIDTHS):
                for k, centre in enumerate(rows):
                    for j, frac in ladder_weights(ladder, k, width).items():
                        self.mixes[w_index][centre, rows[j]] = frac
        scale_el = np.array([element_scale(e) for e in ELEMENTS])
        self.scales = np.geomspace(scale_el.min() * 0.97, scale_el.max() * 1.03, N_SCALES)
        # every hypothesis's labels (width-major, then resolution, member, scale), the same on every Q grid
        if len(STATED_RESOLUTION_FACTORS) != len(RESOLUTIONS):
            raise ValueError("STATED_RESOLUTION_FACTORS and RESOLUTIONS: expected as many (one set of labels)")
        gold_volume = lattice_constant("Au", "fcc") ** 3 / 4
        blocks = []
        for w_index, mix in enumerate(self.mixes):
            mean_d, mean_n = mix @ diameter, mix @ self.n_atoms
            vd = np.array([volume_diameter(n, gold_volume) for n in mean_n])
            ext = np.outer(mean_d, self.scales).ravel() / 10
            block = {"extent": ext, "atoms": np.repeat(mean_n, len(self.scales)),
                     "volume": np.outer(vd, self.scales).ravel() / 10,
                     "tol": np.maximum(0.05 * ext, np.outer(step, self.scales).ravel() / 10),
                     "log_prior": np.repeat(member_log_prior, len(self.scales)),
                     "width": np.full(ext.size, w_index),
                     "member": np.repeat(np.arange(len(self.n_atoms)), len(self.scales)),
                     "scale_index": np.tile(np.arange(len(self.scales)), len(self.n_atoms))}
            blocks += [block] * len(RESOLUTIONS)
        self.labels = {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}
        self._grids: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def _hypotheses(self, q: np.ndarray, q_lo: float, sigma_q: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Every hypothesis's curve at the points ``q`` (1/Å, increasing) and its labels: built once per Q
        grid and resolution (a batch from one instrument shares them), kept for the :data:`CACHED_GRIDS`
        last used.  ``sigma_q``: the curve's own 1-sigma dQ (1/Å) at ``q``, whose
        :data:`STATED_RESOLUTION_FACTORS` multiples replace :data:`RESOLUTIONS`."""
        key = (np.round(q, 9).tobytes(), q_lo, None if sigma_q is None else np.round(sigma_q, 9).tobytes())
        with self._lock:
            if key in self._grids:
                self._grids.move_to_end(key)
                return self._grids[key]
        from scipy import sparse

        from swaxs_lib.scattering.form_factors import form_factor

        resolutions = (RESOLUTIONS if sigma_q is None
                       else tuple(factor * sigma_q for factor in STATED_RESOLUTION_FACTORS))
        # the structure factors reach x = X_GRID[-1]: the smearing integrates no further
        reach = int(np.searchsorted(Q_GRID, X_GRID[-1] / self.scales.max(), side="right"))
        smears = [smear_matrix(q, r, n_max=reach) if np.any(r) else None for r in resolutions]
        n_full = max((m[1] for m in smears if m is not None), default=0)
        # the smeared curves integrate over the database's grid, as the simulator smears; the unsmeared ones
        # are computed at the points themselves
        points = np.concatenate((Q_GRID[:n_full], q))
        x = np.outer(self.scales, points)
        if x.min() < X_GRID[0] * (1 - 1e-9) or x.max() > X_GRID[-1] * (1 + 1e-9):
            raise SwaxsInputError(f"Q {q[0]:.4g}..{q[-1]:.4g} 1/Å: outside the stored structure factors; expected "
                                  f"Q_hi <= {Q_HI_MAX} 1/Å")
        # log S linearly interpolated in log x, every member at once
        lx = np.log(X_GRID)
        t = np.log(x).ravel()
        k = np.clip(np.searchsorted(lx, t) - 1, 0, len(lx) - 2)
        w = ((t - lx[k]) / (lx[k + 1] - lx[k])).astype(np.float32)
        s = np.exp(self.log_structures[:, k] * (1 - w) + self.log_structures[:, k + 1] * w)
        s = s.reshape(len(self.n_atoms), len(self.scales), len(points))
        damping = np.exp(-B_ISO * points**2 / (8 * np.pi**2))
        f2 = np.abs(form_factor("Au", points, None, "xraydb")) ** 2
        base = ((self.n_atoms[:, None, None] + (s - self.n_atoms[:, None, None]) * damping) * f2)
        base = base.astype(np.float32).reshape(len(self.n_atoms), -1)
        curves = []
        for mix in self.mixes:
            mixed = np.asarray(sparse.csr_matrix(mix.astype(np.float32)) @ base)
            mixed = mixed.reshape(len(self.n_atoms), len(self.scales), len(points))
            for smear in smears:
                if smear is not None:
                    matrix, n = smear
                    curves.append((mixed[:, :, :n] @ matrix.T.astype(np.float32)).reshape(-1, len(q)))
                else:
                    curves.append(mixed[:, :, n_full:].reshape(-1, len(q)))
        a = np.vstack(curves)
        f2_lo = float(np.abs(form_factor("Au", np.array([q_lo]), None, "xraydb"))[0] ** 2)
        hyp = {**self.labels, "curves": a, "squared": a * a,
               "ratio": BACKGROUND_PER_ATOM * self.labels["atoms"] * f2_lo}
        with self._lock:
            self._grids[key] = hyp
            while len(self._grids) > CACHED_GRIDS:
                self._grids.popitem(last=False)
        return hyp

    def _screen(self, hyp: dict[str, np.ndarray], y: np.ndarray, w: np.ndarray) -> np.ndarray:
        """Profiled chi² of every hypothesis with float32 sums (one pass over the curves, one over their squares)."""
        sums = hyp["curves"] @ np.stack([w * y, w], axis=1).astype(np.float32)
        s_aa = hyp["squared"] @ w.astype(np.float32)
        return solve_background(sums[:, :1], s_aa[:, None], sums[:, 1:], np.array([[w.sum()]]),
                                np.array([[np.sum(w * y)]]), np.array([[np.sum(w * y * y)]]),
                                hyp["ratio"].astype(np.float32))[0][:, 0]

    def _exact(self, hyp: dict[str, np.ndarray], y: np.ndarray, w: np.ndarray,
               rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Profiled chi², intensity scale and background of the hypotheses ``rows``, in float64."""
        a = hyp["curves"][rows].astype(float)
        chi2, c, b = profiled_chi2_background(a, a * a, y[:, None], w[:, None], hyp["ratio"][rows])
        return chi2[:, 0], c[:, 0], b[:, 0]

    def estimate(self, q_inv_angstrom: np.ndarray, intensity: np.ndarray, window: tuple[float, float],
                 element: str | None = None, group_weights: dict[str, float] | None = None,
                 q_resolution: np.ndarray | None = None, monodisperse: bool = False) -> PhysicsSize:
        """The size decision for one curve on ``window`` (a ladder window inside its range).

        Parameters
        ----------
        q_inv_angstrom, intensity : numpy.ndarray
            The curve (1/Å); I > 0 inside the window.
        window : (float, float)
            (Q_lo, Q_hi) 1/Å, Q_hi <= :data:`Q_HI_MAX`.
        element : str, optional
            The sample's element: the size scale's prior is its lattice only.
        group_weights : dict, optional
            Size group (:func:`swaxs_lib.ml.catalog.size_group`) -> prior weight (a shape model's
            probabilities, or 1 for the groups of a shape the user knows); groups left out get none.
        q_resolution : numpy.ndarray, optional
            The 1-sigma Gaussian Q resolution dQ (1/Å) of each point (a file's dQ or Qdev column): its
            :data:`STATED_RESOLUTION_FACTORS` multiples replace the database's :data:`RESOLUTIONS`.  All
            zero counts as not given.
        monodisperse : bool
            The sample is known to hold one size (atomically precise clusters, from mass spectrometry say):
            only the hypotheses without a spread of sizes are weighed.

        Raises
        ------
        SwaxsInputError
            A window beyond :data:`Q_HI_MAX`, I <= 0 in it, an element not in the database, or a
            ``q_resolution`` not of the curve's length, negative, not finite, or wider than half of Q.
        """
        start = time.perf_counter()
        if window[1] > Q_HI_MAX + 1e-9:
            raise SwaxsInputError(f"window: Q_hi {window[1]:g} 1/Å; expected <= {Q_HI_MAX} for the physics size")
        if element is not None and element not in ELEMENTS:
            raise SwaxsInputError(f"element: got {element!r}; expected one of {', '.join(ELEMENTS)}")
        q = np.asarray(q_inv_angstrom, float)
        y = np.asarray(intensity, float)
        dq = None if q_resolution is None else np.asarray(q_resolution, float)
        if dq is not None and dq.shape != q.shape:
            raise SwaxsInputError(f"q_resolution: {dq.size} values for {q.size} points; expected one dQ a point")
        order = np.argsort(q)
        q, y = q[order], y[order]
        inside = np.isfinite(q) & np.isfinite(y) & (q >= window[0] * (1 - 1e-9)) & (q <= window[1] * (1 + 1e-9))
        q, y = q[inside], y[inside]
        if dq is not None:
            dq = dq[order][inside]
            if not np.all(np.isfinite(dq)) or np.any(dq < 0):
                raise SwaxsInputError("q_resolution: negative or not finite in the window; expected 1-sigma dQ >= 0 (1/Å)")
            if np.median(dq / q) > 0.5:
                raise SwaxsInputError(f"q_resolution: median dQ/Q {np.median(dq / q):.3g}; expected a 1-sigma dQ "
                                      "below half of Q (1/Å, the unit of Q)")
            dq = dq if np.any(dq > 0) else None
        if len(q) < 8 or np.any(y <= 0):
            raise SwaxsInputError(f"Q window {window[0]:g}..{window[1]:g} 1/Å: {len(q)} points, min I "
                                  f"{y.min() if len(y) else float('nan'):.3g}; expected >= 8 points of positive "
                                  "intensity (subtract less background)")
        # a repeated exact minimum is a detector's (or the simulator's) floor, not a measurement
        use = ~((y == y.min()) & (np.sum(y == y.min()) > 1))
        q, y = q[use], y[use]
        dq = None if dq is None else dq[use]
        if len(q) > MAX_POINTS:  # runs of consecutive points averaged: the curve's counts kept
            runs = np.array_split(np.arange(len(q)), MAX_POINTS)
            q = np.array([q[r].mean() for r in runs])
            y = np.array([y[r].mean() for r in runs])
            dq = None if dq is None else np.array([dq[r].mean() for r in runs])
        hyp = self._hypotheses(q, window[0], dq)
        with np.errstate(divide="ignore"):
            log_prior = hyp["log_prior"] + np.log(scale_prior(self.scales, element))[hyp["scale_index"]]
            if group_weights is not None:
                per_member = np.array([group_weights.get(g, 0.0) for g in self.group])
                log_prior = log_prior + np.log(per_member)[hyp["member"]]
        live = np.isfinite(log_prior)
        if not live.any():
            raise SwaxsInputError("group_weights: every size group has weight 0; expected at least one > 0")
        w1 = 1 / np.maximum(running_mean(y), 1e-300)
        chi2 = self._screen(hyp, y, w1)
        screened = np.where(live, chi2, np.inf)
        rows = np.argpartition(screened, SCREEN_EXACT)[:SCREEN_EXACT]
        chi2, scale, background = self._exact(hyp, y, w1, rows)
        k = int(np.argmin(chi2))
        model = scale[k] * hyp["curves"][rows[k]].astype(float) + background[k]
        w2 = 1 / np.maximum(model, 1e-12 * model.max())
        chi2 = self._screen(hyp, y, w2)
        # float32 sums lose the small chi² of a close fit to cancellation: the hypotheses that can matter are
        # found with them, their chi² recomputed exactly
        candidates = np.argpartition(np.where(live, chi2, np.inf), KEEP - 1)[:KEEP]
        # told one size: the decision weighs no spread (its best hypotheses kept too, however poor their fit)
        told = np.where(hyp["width"] == 0, log_prior, -np.inf) if monodisperse else log_prior
        if monodisperse:
            one_size = np.isfinite(told)
            candidates = np.union1d(candidates, np.argpartition(np.where(one_size, chi2, np.inf), KEEP - 1)[:KEEP])
        candidates = candidates[live[candidates]]
        top = candidates
        chi2, scale, background = self._exact(hyp, y, w2, top)
        dof = max(len(q) - 4, 1)
        temperature = max(float(chi2.min()) / dof, 1e-12)  # the curve's noise level: from the best fit of all
        decided = np.isfinite(told[top])
        best = int(np.argmin(np.where(decided, chi2, np.inf)))
        model = scale[best] * hyp["curves"][top[best]].astype(float) + background[best]
        lp = np.where(decided, told[top] - 0.5 * chi2 / temperature, -np.inf)
        ext, tol = hyp["extent"][top], hyp["tol"][top]
        vol = hyp["volume"][top]
        extent = bayes_size(lp, ext, tol, keep=len(top))
        volume = bayes_size(lp, vol, tol * vol / ext, keep=len(top))

        def posterior(log_prior_top: np.ndarray) -> np.ndarray:
            # what is reported about the decision comes from a wider posterior: the hypotheses are curves of a
            # model (one B, gold's f(Q), three resolutions), and at the curve's own noise it is too sure
            keep = np.isfinite(log_prior_top)
            post = np.zeros(len(top))
            post[keep] = np.exp(-0.5 * (chi2[keep] - chi2[keep].min()) / (temperature * REPORT_TEMPERATURE_FACTOR)
                                + log_prior_top[keep] - log_prior_top[keep].max())
            return post / post.sum()

        post = posterior(told[top])
        # the data's own say on the spread, without the claim of one size
        own = posterior(log_prior[top]) if monodisperse else post
        monodisperse_probability = float(own[hyp["width"][top] == 0].sum())
        right = np.abs(extent - ext) <= tol
        tail = (1 - INTERVAL_MASS) / 2
        e_lo, e_hi = weighted_quantiles(ext, post, (tail, 1 - tail))
        v_lo, v_hi = weighted_quantiles(vol, post, (tail, 1 - tail))
        n_lo, n_mid, n_hi = weighted_quantiles(hyp["atoms"][top], post, (tail, 0.5, 1 - tail))
        return PhysicsSize(
            window_inv_angstrom=tuple(window), extent_nm=extent, extent_interval_nm=(min(e_lo, extent), max(e_hi, extent)),
            extent_probability=float(post[right].sum()), volume_diameter_nm=volume,
            volume_diameter_interval_nm=(min(v_lo, volume), max(v_hi, volume)), n_atoms=n_mid,
            n_atoms_interval=(n_lo, n_hi), monodisperse_probability=monodisperse_probability,
            misfit=float(chi2[best]) / dof / local_noise(q, y, model), hypotheses=int(np.isfinite(told).sum()),
            resolution_given=dq is not None, seconds=time.perf_counter() - start)


def encode_log_structure(log_s: np.ndarray) -> dict[str, np.ndarray]:
    """log S as uint16 codes over each row's own range: a relative precision of about 2e-4 in S (float16's
    5e-3 at the large S of big clusters moved a noise-free icosahedron's extent decision by 10 %)."""
    low = log_s.min(axis=1, keepdims=True)
    span = np.maximum(log_s.max(axis=1, keepdims=True) - low, 1e-12)
    code = np.round((log_s - low) / span * 65535).astype(np.uint16)
    return {"log_structure_code": code, "log_structure_low": low[:, 0], "log_structure_span": span[:, 0]}


def decode_log_structure(table: dict[str, np.ndarray]) -> np.ndarray:
    """:func:`encode_log_structure`'s inverse, float32 (n_members, len(X_GRID))."""
    code = np.asarray(table["log_structure_code"], np.float64)
    low, span = np.asarray(table["log_structure_low"], float), np.asarray(table["log_structure_span"], float)
    return (low[:, None] + code / 65535 * span[:, None]).astype(np.float32)


def held_out_scores(physics: SaxsPhysics, q: np.ndarray, iq: np.ndarray, labels: dict[str, np.ndarray],
                    windows: list[tuple[float, float]], progress: Callable[[int, int], None] | None = None,
                    resolution_given: bool = False) -> dict[str, dict[str, float]]:
    """The physics sizer on held-out curves ``iq`` (n, len(q)) with database ``labels``, per window: the
    share of extents and volume-equivalent diameters within one shell or 5 %, the median relative extent
    error, the share of 90 % extent intervals holding the truth, the mean reported probability (to set
    beside the share right), the share called monodisperse (probability > 0.5), the misfit's 99th
    percentile and ``n``; the keys of :func:`swaxs_lib.ml.windows.window_scores` where they mean the same.
    ``resolution_given``: each curve's dQ (its variant's, ``labels["variant_json"]``) is given, as a file's
    dQ column gives it (about 1 s a curve: the hypotheses are built for each).
    """
    import json

    from swaxs_lib.ml.experts import within_shell_or_5_percent
    from swaxs_lib.ml.windows import volume_step, window_labels, window_name

    truth = window_labels(labels)
    if resolution_given:
        variants = [json.loads(v) for v in labels["variant_json"]]
        dqs = [resolution_sigma(q, (v["resolution_relative"], v["resolution_inv_angstrom"])) for v in variants]
    out, done = {}, 0
    for window in windows:
        got = []
        for k, y in enumerate(iq):
            got.append(physics.estimate(q, y, window, q_resolution=dqs[k] if resolution_given else None))
            done += 1
            if progress is not None:
                progress(done, len(windows) * len(iq))
        extent = np.array([g.extent_nm for g in got])
        volume = np.array([g.volume_diameter_nm for g in got])
        low, high = np.array([g.extent_interval_nm for g in got]).T
        out[window_name(*window)] = {
            "extent_within_shell_or_5_percent": float(np.mean(within_shell_or_5_percent(extent, truth["extent"],
                                                                                        truth["step"]))),
            "volume_diameter_within_shell_or_5_percent": float(np.mean(within_shell_or_5_percent(
                volume, truth["volume_diameter"], volume_step(truth)))),
            "extent_median_abs_relative_error": float(np.median(np.abs(extent / truth["extent"] - 1))),
            "extent_interval_coverage": float(np.mean((low <= truth["extent"]) & (truth["extent"] <= high))),
            "mean_extent_probability": float(np.mean([g.extent_probability for g in got])),
            "called_monodisperse": float(np.mean([g.monodisperse_probability > 0.5 for g in got])),
            "misfit_99_percent": float(np.quantile([g.misfit for g in got], 0.99)),
            "n": int(len(iq))}
    return out


def save_structures(folder: Path, table: dict[str, np.ndarray]) -> Path:
    """Write :func:`structure_table`'s arrays to ``folder`` / :data:`STRUCTURES_FILE` (~0.3 MB)."""
    path = Path(folder) / STRUCTURES_FILE
    np.savez_compressed(path, **table)
    return path


def physics_for(bundle) -> SaxsPhysics | None:
    """The estimator of a :class:`swaxs_lib.ml.models.ModelBundle` (built on first use and kept with it),
    or None if its folder holds no :data:`STRUCTURES_FILE`."""
    table = bundle.extras.get("saxs_structures")
    if table is None:
        return None
    with _BUILD_LOCK:
        if "saxs_physics" not in bundle.extras:
            bundle.extras["saxs_physics"] = SaxsPhysics(table)
    return bundle.extras["saxs_physics"]


_BUILD_LOCK = threading.Lock()


__all__ = ["B_ISO", "MISFIT_LIMIT", "MONODISPERSE_DOUBT", "PhysicsSize", "Q_HI_MAX", "decode_log_structure", "encode_log_structure", "held_out_scores", "RESOLUTIONS", "STATED_RESOLUTION_FACTORS", "STRUCTURES_FILE", "SaxsPhysics", "WIDTHS", "X_GRID",
           "ladder_rows", "member_prior", "physics_for", "resolution_sigma", "save_structures", "scale_prior", "smear_matrix", "structure_factors", "structure_table"]
