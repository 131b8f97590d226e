"""Mixtures of candidate clusters: the best non-negative combination of model curves, tested against one.

Model
-----
A measured curve y (I(Q), S(Q), F(Q) or G(r)) is fitted by::

    y(x) ≈ sum_k w_k c_k(x) + background(x),     w_k >= 0

where c_k is candidate k's model curve on the data's points, already evaluated
with its own refined non-linear parameters (expansion, U or B, Q damping:
:func:`swaxs_lib.compare.compare_cluster`'s ``Comparison.model``, the Debye
I(Q) or the real-space G(r)), and the background is that of
:mod:`swaxs_lib.fit.linear` (none, c0, or c0 + c1 x; unconstrained in sign).
The weighted least squares with w >= 0 is solved exactly: the background
columns are projected out of the weighted problem (they are free, so this
changes nothing), and the rest is NNLS (Lawson & Hanson 1974, scipy's
``nnls``).  Fit range and weights: :mod:`swaxs_lib.fit.window`; R_w as
:mod:`swaxs_lib.fit.linear`.

Which candidates enter (forward selection)
------------------------------------------
NNLS on hundreds of near-collinear screened curves is ill-posed (many
combinations fit equally well and the weights scatter among look-alikes), so
the components are chosen stepwise (Efroymson 1960): start from the best
single candidate (smallest χ² with a non-negative scale); at each step try
every remaining candidate together with the chosen ones, keep the one that
lowers χ² most while every chosen weight stays > 0, and let it in only if the
improvement is significant (below); after each entry, exchange chosen
components for unchosen ones while a swap strictly lowers χ² (Fedorov-style
exchange: a greedy first pick, e.g. the wrong size of the right motif, is
not kept just because it came first); stop at the first candidate that is
not significant, or at ``max_components`` (default 4).  The best single
candidate may so be exchanged out of the final mixture, and the final test
below is then between non-nested models (approximate).

The test
--------
A nested F-test on χ² (Bevington & Robinson 2003, §11.4; Hamilton 1965): a
model with P_1 linear parameters against one with P_2 > P_1 that contains it::

    F = ((χ²_1 - χ²_2) / (P_2 - P_1)) / (χ²_2 / (N_ind - P_2))  ~  F(P_2 - P_1, N_ind - P_2)

one-sided (a larger model never fits worse); P counts the component weights
and the background terms.  N_ind is :func:`~swaxs_lib.refine.significance.independent_points`:
for a G(r) the Nyquist count floor((r_max - r_min) Q_max / π) (Farrow et al.
2011), for Q-space data the points in range.  Only χ² ratios enter F, so the
oversampling of a G(r) (which scales every χ² alike) cancels.  The candidate
that enters a step is the best of the m tried, so its p-value is corrected
for that choice (Bonferroni: p_adj = min(1, m p)), and it enters when
p_adj < alpha (default 0.05).  The mixture is *accepted* (``accepted``) only
when at least one second component entered this way; the reported test
(``f_value``, ``p_value``) is then the final mixture against the best single
candidate, uncorrected.  Assumptions: misfit that behaves like noise; a
systematic misfit (R_w of 0.2 on a measured PDF is mostly model error) is
also "explained" by extra components, so on measured data read an accepted
mixture as "the data prefer a combination", not as proof that the sample is
one.  Bonferroni over correlated candidates is conservative.
Candidates must carry their own refined non-linear parameters: the same
structure on a grid of expansions that misses the data's is better fitted by
two neighbouring grid points than by one (an expansion distribution), and
the test rightly accepts that as a mixture.

Uncertainties
-------------
The covariance of the active weights and background terms is (AᵀWA)⁻¹ of the
unconstrained least squares on the active columns (at the NNLS optimum with
every active w > 0 it is the same problem), times χ²/(n - P) when the weights
are not 1/σ², or times max(1, χ²/(n - P)) with measured σ (a Birge factor:
σ that do not explain the misfit are scaled up, never down), then times the
square of :func:`~swaxs_lib.refine.significance.sigma_nyquist_factor` (1 for
Q-space data; for an oversampled G(r) it counts only independent points).
Fractions get theirs by linear propagation through f_k = g_k w_k / Σ g_j w_j.
Weights that NNLS held at 0 have no uncertainty.

From weights to particles
-------------------------
I(Q): the Debye intensity of one cluster is the scattering of one particle
(electrons², :func:`swaxs_lib.scattering.debye_intensity`), and dilute
particles add intensities, so I = s Σ n_k I_k: **w_k ∝ n_k, the number of
particles** (Cervellino et al. 2003, the Debye-function population analysis).
G(r), S(Q), F(Q): these are normalised per atom, S - 1 = (I - Σ f²)/(N <f>²),
and G(r) is the sine transform of F(Q) = Q(S - 1); the mixture's
S - 1 = Σ_k n_k N_k <f>_k² (S_k - 1) / (N <f>²), so **w_k ∝ n_k N_k <f>_k²**:
the atom fraction a_k ∝ w_k / <f>_k², the number n_k ∝ a_k / N_k (PDFgui's
and pdffit2's phase fractions, Farrow et al. 2007, with <f> = the mean atomic
number Z, pdffit2's X-ray value).  The small-angle term and Q window of the
G(r) model are linear in the same way.  For one element <f> cancels (atom
fraction = mass fraction = w_k / Σ w); with several elements the Q-space
S(Q) and F(Q) use <f(Q)>, and Z is then an approximation.  Mass fractions
weigh the numbers by each cluster's mass (ase masses, Da).

References
----------
C. L. Lawson and R. J. Hanson, *Solving Least Squares Problems* (Prentice-Hall, 1974), ch. 23.
M. A. Efroymson, "Multiple regression analysis", in *Mathematical Methods for Digital Computers* (1960).
P. R. Bevington and D. K. Robinson, *Data Reduction and Error Analysis*, 3rd ed. (2003), §11.4.
W. C. Hamilton, Acta Cryst. 18, 502 (1965).
C. L. Farrow et al., Phys. Rev. B 84, 134105 (2011) (Nyquist); J. Phys.: Condens. Matter 19, 335219 (2007) (PDFgui).
A. Cervellino, C. Giannini and A. Guagliardi, J. Appl. Cryst. 36, 1148 (2003).

Validation
----------
tests/test_mixture.py: synthetic G(r) (real-space model, 1.5 % expansion, Q
damping, band-limited noise of 2 % of the peak) and I(Q) (Debye, 1 % noise,
flat background) of a 60/40 number mixture of a 147-atom icosahedron and a
192-atom Marks decahedron, mixed in the test, among 9 candidates of 5
families, 30 seeds each: always the two motifs with atom and mass fractions
within 0.1; the exact two candidates in 26/30 (G(r): the decahedra of 146,
192 and 147 atoms are nearly indistinguishable there) and 29/30 (I(Q)) runs,
number fractions then within 0.1; 1-σ coverage of the fraction 16/26 and
18/29 (68 % expected); pure curves called mixtures in 0/30 (G(r)) and 1/30
(I(Q)) runs; atom, number (cell) and mass fractions equal pdffit2's
``phase_fractions`` for an Au + Ni two-phase PDF.

Examples
--------
>>> import numpy as np
>>> from swaxs_lib.io import Measurement
>>> q = np.linspace(1, 5, 200)
>>> a, b, c = np.exp(-q), np.exp(-2 * q), np.exp(-3 * q)
>>> cands = [MixtureCandidate(n, v, 10, 1970.0, 79.0) for n, v in (("a", a), ("b", b), ("c", c))]
>>> m = fit_mixture(Measurement("iq", q, 3 * a + b, 0.001 * (3 * a + b), "x", "inv_angstrom"), cands)
>>> m.accepted, [x.label for x in m.components], round(m.components[0].number_fraction, 3)
(True, ['a', 'b'], 0.75)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np
from scipy import optimize, stats

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.fit.linear import BACKGROUNDS
from swaxs_lib.fit.window import fit_window, transform_q_range
from swaxs_lib.io.measurement import Measurement
from swaxs_lib.refine.significance import (DEFAULT_ALPHA, NYQUIST_METHOD, POINTS_METHOD, independent_points,
                                           sigma_nyquist_factor)
from swaxs_lib.versioned import (SCHEMA_KEY, array_from_json, array_to_json, as_mapping, fields_equal, reading,
                                 schema_of)

#: What the mixture reports as its test.
TEST_NAME = ("nested F-test on chi2, F(P_mix - P_1, N_ind - P_mix), one-sided; each entering candidate "
             "Bonferroni-corrected for the candidates tried (Bevington & Robinson 2003; Hamilton 1965)")
#: Components at most, unless the caller asks for more.
DEFAULT_MAX_COMPONENTS = 4


@dataclass(frozen=True, eq=False)
class MixtureCandidate:
    """One candidate's model curve on the data's points and what converts its weight to particles.

    Attributes
    ----------
    label : str
    curve : numpy.ndarray (n,)
        The unscaled, background-free model on the measurement's points.
    n_atoms : int
    mass_dalton : float
        The cluster's mass (Da).
    mean_z : float
        Mean atomic number <Z> (electrons): <f> at Q = 0 of the per-atom normalisations.
    """

    label: str
    curve: np.ndarray
    n_atoms: int
    mass_dalton: float
    mean_z: float

    @classmethod
    def from_atoms(cls, label: str, curve: np.ndarray, atoms) -> "MixtureCandidate":
        """Atom count, mass and mean Z from an ``ase.Atoms``."""
        return cls(str(label), np.asarray(curve, dtype=float), len(atoms), float(atoms.get_masses().sum()),
                   float(np.mean(atoms.get_atomic_numbers())))


@dataclass(frozen=True, eq=False)
class MixtureComponent:
    """A candidate in the reported mixture: its weight and fractions with standard uncertainties.

    ``weight`` multiplies the candidate's curve (data units per model unit);
    fractions are of particles (number), atoms and mass; each ``*_sigma`` one
    standard uncertainty (module docstring).
    """

    index: int
    label: str
    weight: float
    weight_sigma: float
    number_fraction: float
    number_fraction_sigma: float
    atom_fraction: float
    atom_fraction_sigma: float
    mass_fraction: float
    mass_fraction_sigma: float

    __eq__ = fields_equal


@dataclass(frozen=True, eq=False)
class SelectionStep:
    """One step of the forward selection: the best candidate to enter and its test.

    ``n_tried`` candidates were tried; ``p_adjusted`` = min(1, n_tried p);
    ``entered`` when p_adjusted < alpha.  ``chi2`` and ``rw`` are of the
    combination with it.  An exchange (``replaced`` the label it took the
    place of) has no test (same number of parameters, lower χ²): NaN.
    """

    index: int
    label: str
    chi2: float
    rw: float
    f_value: float
    p_value: float
    p_adjusted: float
    n_tried: int
    entered: bool
    replaced: str = ""

    __eq__ = fields_equal


@dataclass(frozen=True, eq=False)
class MixtureResult:
    """The reported mixture (or the best single candidate when no mixture is significant).

    Attributes
    ----------
    kind : str
    components : tuple of MixtureComponent
        The accepted mixture's components, or the best single candidate alone.
    accepted : bool
        True when a mixture of two or more significantly beats the best single candidate.
    background, background_sigma : tuple of float
        ``()``, ``(c0,)`` or ``(c0, c1)`` and their uncertainties.
    rw, chi2 : float
        Of the reported fit.
    best_single, best_single_label, rw_single, chi2_single
        The best single candidate's index (in the candidates given), label, R_w and χ².
    f_value, p_value : float or None
        The reported mixture against the best single (None when no mixture was accepted).
    steps : tuple of SelectionStep
        The forward selection, including the step that stopped it.
    n_points, n_independent : int
    n_parameters : int
        Weights plus background terms of the reported fit.
    uncertainty_scale : float
        What (AᵀWA)⁻¹ was multiplied by (module docstring).
    fitted : numpy.ndarray
        The reported fit on every point of the measurement (NaN where a candidate curve is).
    """

    SCHEMA: ClassVar[int] = 1

    kind: str
    components: tuple[MixtureComponent, ...]
    accepted: bool
    background: tuple[float, ...]
    background_sigma: tuple[float, ...]
    background_model: str
    weighting: str
    rw: float
    chi2: float
    best_single: int
    best_single_label: str
    rw_single: float
    chi2_single: float
    f_value: float | None
    p_value: float | None
    alpha: float
    steps: tuple[SelectionStep, ...]
    x_min: float
    x_max: float
    n_points: int
    n_independent: int
    n_parameters: int
    uncertainty_scale: float
    fitted: np.ndarray
    n_candidates: int
    test: str = TEST_NAME
    method: str = POINTS_METHOD
    note: str = ""

    __eq__ = fields_equal

    def to_json(self) -> dict[str, Any]:
        """Plain JSON with the schema version (:mod:`swaxs_lib.versioned`)."""
        out: dict[str, Any] = {SCHEMA_KEY: self.SCHEMA}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("components", "steps"):
                value = [dataclasses.asdict(v) for v in value]
            elif f.name == "fitted":
                value = array_to_json(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> "MixtureResult":
        """What :meth:`to_json` wrote."""
        data = as_mapping(data, "mixture")
        schema_of(data, "mixture", cls.SCHEMA)
        with reading("mixture"):
            values = {f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data}
            values["components"] = tuple(MixtureComponent(**c) for c in data["components"])
            values["steps"] = tuple(SelectionStep(**s) for s in data["steps"])
            values["fitted"] = array_from_json(data["fitted"], "mixture fitted")
            for name in ("background", "background_sigma"):
                values[name] = tuple(float(v) for v in data[name])
            return cls(**values)


def fit_mixture(measurement: Measurement, candidates: Sequence[MixtureCandidate], *,
                background: str = "none", weighting: str = "auto", x_min: float | None = None,
                x_max: float | None = None, q_max_inv_angstrom: float | None = None,
                alpha: float = DEFAULT_ALPHA, max_components: int = DEFAULT_MAX_COMPONENTS) -> MixtureResult:
    """The best non-negative mixture of ``candidates`` for ``measurement``, chosen stepwise and tested.

    Parameters
    ----------
    measurement : Measurement
        I(Q), S(Q), F(Q) or G(r).
    candidates : sequence of MixtureCandidate
        Curves on ``measurement.x`` (at least one).
    background : {"none", "constant", "linear"}
    weighting : {"auto", "sigma", "relative", "uniform"}
    x_min, x_max : float, optional
        Fit range (defaults: :mod:`swaxs_lib.fit.window`).
    q_max_inv_angstrom : float, optional
        G(r): Q_max of the transform for the independent-point count (default: the header's, else 25 1/Å).
    alpha : float
        Significance level (0 < alpha < 1).
    max_components : int
        Largest number of components (>= 1).

    Returns
    -------
    MixtureResult

    Raises
    ------
    SwaxsInputError
        No candidates, a curve of the wrong length or not finite in the fit
        range, a bad option, or no candidate with a positive weight.
    """
    if background not in BACKGROUNDS:
        raise SwaxsInputError(f"background: got {background!r}; expected one of {', '.join(BACKGROUNDS)}")
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise SwaxsInputError(f"alpha: got {alpha!r}; expected a significance level between 0 and 1, e.g. 0.05")
    if not isinstance(max_components, int) or max_components < 1:
        raise SwaxsInputError(f"max_components: got {max_components!r}; expected an integer >= 1")
    if not candidates:
        raise SwaxsInputError("candidates: got none; expected at least one model curve")
    x = np.asarray(measurement.x, dtype=float)
    y = np.asarray(measurement.values, dtype=float)
    n_bg = BACKGROUNDS.index(background)
    window = fit_window(measurement, x_min, x_max, weighting=weighting, n_parameters=1 + n_bg)
    mask = window.mask
    curves = np.empty((len(candidates), x.size))
    for k, c in enumerate(candidates):
        curve = np.asarray(c.curve, dtype=float)
        if curve.shape != x.shape:
            raise SwaxsInputError(f"candidate {c.label!r}: curve of shape {curve.shape}; expected {x.shape} "
                                  f"(the points of {measurement.source})")
        if not np.all(np.isfinite(curve[mask])):
            raise SwaxsInputError(f"candidate {c.label!r}: not finite in the fit range "
                                  f"{window.x_min:g}..{window.x_max:g}; expected a model curve")
        if not (c.n_atoms > 0 and c.mass_dalton > 0 and c.mean_z > 0):
            raise SwaxsInputError(f"candidate {c.label!r}: n_atoms {c.n_atoms}, mass {c.mass_dalton} Da, "
                                  f"<Z> {c.mean_z}; expected positive numbers")
        curves[k] = curve
    n = window.n_points
    if measurement.kind == "gr":
        q_max = q_max_inv_angstrom or transform_q_range(measurement)[1]
        n_ind = independent_points("gr", window.x_min, window.x_max, n, q_max)
        method = NYQUIST_METHOD
    else:
        n_ind, method = n, POINTS_METHOD
    root_w = np.sqrt(window.weights[mask])
    yw = y[mask] * root_w
    bg = np.column_stack([x[mask] ** k for k in range(n_bg)]) * root_w[:, None] if n_bg else np.zeros((n, 0))
    cw = curves[:, mask].T * root_w[:, None]
    # project the free background out, then compress to the span of candidates + data (exact for χ²)
    basis = np.linalg.qr(bg)[0] if n_bg else np.zeros((n, 0))
    project = lambda v: v - basis @ (basis.T @ v)  # noqa: E731
    cp, yp = project(cw), project(yw)
    norms = np.linalg.norm(cp, axis=0)
    usable = norms > 0
    cp = cp / np.where(usable, norms, 1.0)
    r_full = np.linalg.qr(np.column_stack([cp, yp]), mode="r")
    a_r, y_r = r_full[:, :-1], r_full[:, -1]
    total = float(yp @ yp)
    norm_rw = float(yw @ yw)

    def solve(active: list[int]) -> tuple[np.ndarray, float]:
        coef, resid = optimize.nnls(a_r[:, active], y_r)
        return coef, float(resid**2)

    # the best single candidate: non-negative scale on the projected data
    proj = cp.T @ yp
    chi2_single_all = np.where(usable & (proj > 0), total - np.maximum(proj, 0) ** 2, np.inf)
    best = int(np.argmin(chi2_single_all))
    if not math.isfinite(chi2_single_all[best]):
        raise SwaxsInputError(f"{measurement.source}: no candidate fits with a positive weight; "
                              "expected model curves that resemble the data")
    active, chi2_now = [best], float(max(chi2_single_all[best], 0.0))
    chi2_single, steps, note = chi2_now, [], ""
    while True:
        active, chi2_now = _exchange(active, chi2_now, solve, usable, candidates, steps, norm_rw)
        if len(active) >= min(max_components, len(candidates)):
            break
        p_new = len(active) + 1 + n_bg
        if n_ind - p_new <= 0:
            note = f"{n_ind} independent points: no room for another component's test"
            break
        trial = [j for j in range(len(candidates)) if usable[j] and j not in active]
        best_j, best_chi2 = -1, math.inf
        for j in trial:
            coef, chi2 = solve(active + [j])
            if np.all(coef > 0) and chi2 < best_chi2:
                best_j, best_chi2 = j, chi2
        if best_j < 0:
            break
        f_value = ((chi2_now - best_chi2) / 1) / (best_chi2 / (n_ind - p_new)) if best_chi2 > 0 else math.inf
        p = float(stats.f.sf(f_value, 1, n_ind - p_new)) if math.isfinite(f_value) else 0.0
        p_adj = min(1.0, p * len(trial))
        entered = p_adj < alpha
        steps.append(SelectionStep(best_j, candidates[best_j].label, best_chi2,
                                   _rw(best_chi2, norm_rw), f_value, p, p_adj, len(trial), entered))
        if not entered:
            break
        active, chi2_now = active + [best_j], best_chi2
    accepted = len(active) > 1
    f_mix = p_mix = None
    if accepted:
        extra, nu = len(active) - 1, n_ind - (len(active) + n_bg)
        f_mix = ((chi2_single - chi2_now) / extra) / (chi2_now / nu) if chi2_now > 0 else math.inf
        p_mix = float(stats.f.sf(f_mix, extra, nu)) if math.isfinite(f_mix) else 0.0
    return _report(measurement, candidates, curves, active, window, cw, bg, yw, n_ind, method, background,
                   best, chi2_single, norm_rw, accepted, f_mix, p_mix, alpha, steps, note)


def _exchange(active, chi2_now, solve, usable, candidates, steps, norm_rw, max_rounds: int = 50):
    """Swap chosen components for unchosen ones while that strictly lowers χ² (every weight > 0)."""
    if len(active) < 2:  # a single component is already the best single candidate
        return active, chi2_now
    for _ in range(max_rounds):
        best = None
        for position, old in enumerate(active):
            for j in range(len(candidates)):
                if not usable[j] or j in active:
                    continue
                trial = active[:position] + [j] + active[position + 1:]
                coef, chi2 = solve(trial)
                if np.all(coef > 0) and chi2 < chi2_now * (1 - 1e-12) and (best is None or chi2 < best[0]):
                    best = (chi2, trial, j, old)
        if best is None:
            break
        chi2_now, active, j, old = best
        steps.append(SelectionStep(j, candidates[j].label, chi2_now, _rw(chi2_now, norm_rw), math.nan, math.nan,
                                   math.nan, len(candidates) - len(active), True, replaced=candidates[old].label))
    return active, chi2_now


def _rw(chi2: float, norm: float) -> float:
    return float(math.sqrt(max(chi2, 0.0) / norm)) if norm > 0 else math.inf


def _report(measurement, candidates, curves, active, window, cw, bg, yw, n_ind, method, background, best,
            chi2_single, norm_rw, accepted, f_mix, p_mix, alpha, steps, note) -> MixtureResult:
    """Refit the active set with its background by linear least squares; weights, covariance, fractions."""
    design = np.column_stack([cw[:, active], bg])
    coef, *_ = np.linalg.lstsq(design, yw, rcond=None)
    resid = yw - design @ coef
    chi2 = float(resid @ resid)
    n, p = design.shape
    dof = n - p
    scale = chi2 / dof if dof > 0 else math.inf
    if window.weighting == "sigma":
        scale = max(1.0, scale)
    scale *= sigma_nyquist_factor(n, n_ind, p, window.weighting) ** 2
    cov = np.linalg.pinv(design.T @ design) * scale
    k = len(active)
    weights, cov_w = coef[:k], cov[:k, :k]
    kind_per_atom = measurement.kind != "iq"
    z2 = np.array([candidates[i].mean_z ** 2 for i in active])
    atoms = np.array([candidates[i].n_atoms for i in active], dtype=float)
    mass = np.array([candidates[i].mass_dalton for i in active])
    # per unit weight: particles, atoms, mass (module docstring)
    g_number = 1.0 / (z2 * atoms) if kind_per_atom else np.ones(k)
    fractions = {name: _fractions(weights, cov_w, g) for name, g in
                 (("number", g_number), ("atom", g_number * atoms), ("mass", g_number * mass))}
    components = tuple(MixtureComponent(
        int(i), candidates[i].label, float(weights[m]), float(math.sqrt(max(cov_w[m, m], 0.0))),
        *(float(v) for name in ("number", "atom", "mass") for v in (fractions[name][0][m], fractions[name][1][m])))
        for m, i in enumerate(active))
    bg_coef = tuple(float(c) for c in coef[k:])
    x = np.asarray(measurement.x, dtype=float)
    fitted = curves[active].T @ weights + sum((c * x**j for j, c in enumerate(bg_coef)), np.zeros_like(x))
    return MixtureResult(
        kind=measurement.kind, components=components, accepted=accepted, background=bg_coef,
        background_sigma=tuple(float(math.sqrt(max(cov[j, j], 0.0))) for j in range(k, p)),
        background_model=background, weighting=window.weighting, rw=_rw(chi2, norm_rw), chi2=chi2,
        best_single=int(best), best_single_label=candidates[best].label, rw_single=_rw(chi2_single, norm_rw),
        chi2_single=float(chi2_single), f_value=None if f_mix is None else float(f_mix), p_value=p_mix,
        alpha=float(alpha), steps=tuple(steps), x_min=window.x_min, x_max=window.x_max, n_points=n,
        n_independent=int(n_ind), n_parameters=p, uncertainty_scale=float(scale), fitted=fitted,
        n_candidates=len(candidates), method=method, note=note)


def _fractions(weights: np.ndarray, cov: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f_k = g_k w_k / Σ g_j w_j and its standard uncertainties by linear propagation of ``cov``."""
    u = g * weights
    total = u.sum()
    f = u / total
    jac = (np.diag(g) - np.outer(f, g)) / total
    var = np.einsum("ij,jk,ik->i", jac, cov, jac)
    return f, np.sqrt(np.maximum(var, 0.0))


__all__ = ["DEFAULT_MAX_COMPONENTS", "MixtureCandidate", "MixtureComponent", "MixtureResult", "SelectionStep",
           "TEST_NAME", "fit_mixture"]
