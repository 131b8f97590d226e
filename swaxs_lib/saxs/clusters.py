"""Atomistic clusters as SAXS models: the Debye I(Q) of one cluster or of a size ladder with a number distribution.

The model of a measured intensity for a mixture of the members k = 1..K of a
size ladder (icosahedra by shells, Marks decahedra by p, octahedra and
cuboctahedra by size, lattice spheres by diameter)::

    I(Q) = scale * R[ sum_k w_k I_k ](Q) + c0

with I_k the Debye intensity of member k (electrons² per cluster, X-ray form
factors f(Q) of xraydb, Debye–Waller B held fixed, :mod:`swaxs_lib.scattering`,
histogram-accelerated "fast" mode) and R the instrument resolution: a Gaussian
of 1-σ width ΔQ at each point (sasmodels' ``Pinhole1D``: ΔQ = ``dq_over_q`` · Q,
an explicit ΔQ array, or the measurement's ``x_resolution``).  The w_k are
number fractions (sum 1) over the members' volume-equivalent diameters D_k
(:mod:`swaxs_lib.structures.sizes`):

``gaussian``
    w_k ∝ p(D_k) ΔD_k with p the normal density of mean ``volume_diameter_mean`` and
    standard deviation ``volume_diameter_width`` (Å) and ΔD_k the member's share of the D axis
    (half-way to each neighbour), so that the discrete distribution follows the
    continuous one for any ladder spacing;
``lognormal``
    the same with the log-normal density of that mean and standard deviation;
``free``
    one non-negative amplitude per member (``w_<k>``, the scale absorbed):
    w_k = a_k / sum a;
``single``
    the one member whose exact linear fit (scale, background) has the lowest
    χ² (every member's χ²_red is reported).

Every member's Debye curve goes through the store's curve cache
(:func:`swaxs_lib.store.cached_intensity`, keyed by the atoms' content hash,
the Q grid and B), so a refit with another distribution or range computes no
Debye sum again.  Refinement: :mod:`swaxs_lib.fit.engine` (bounded least
squares in stages, σ from the Jacobian); fractions, the number-weighted mean
diameter and the standard deviation of the member diameters carry σ propagated
from the covariance of the refined parameters.

What the data cannot decide: with a width below about half the ladder spacing
the distribution is one member and its mean is not determined between
neighbours (flagged, σ ≥ |value| or at a bound); a ladder that does not
bracket the data's size puts the mean at a bound.

References
----------
P. Debye, Ann. Phys. 351, 809 (1915).
A. Guinier and G. Fournet, Small-Angle Scattering of X-rays (Wiley, 1955), ch. 2 (sphere form factor).
J. S. Pedersen, Adv. Colloid Interface Sci. 70, 171 (1997) (resolution smearing, size distributions).

Validation
----------
tests/test_saxs_clusters.py: the Debye I(Q) of a 2000-atom fcc sphere and of a
1415-atom icosahedron against the continuum form factors of the same shapes
(analytic sphere; Monte Carlo icosahedron) at low Q, and a ladder fit recovering
the mean and width of a simulated, smeared, noisy mixture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.models import ModelSpec
from swaxs_lib.models.parameters import FitParameter

#: Ladder families: shape -> (the builder parameter that grows, the parameters held, its unit).
FAMILIES: dict[str, tuple[str, dict[str, Any], str]] = {
    "icosahedron": ("shells", {}, ""),
    "cuboctahedron": ("shells", {}, ""),
    "decahedron": ("p", {"q": 2, "r": 1}, ""),
    "octahedron": ("length", {"cutoff": 0}, ""),
    "truncated-octahedron": ("length", {}, ""),
    "sphere": ("diameter_angstrom", {"lattice": "fcc"}, "Å"),
}
#: The ladder each family uses when no sizes are given: small clusters, so that the default is quick.
DEFAULT_SIZES = {"icosahedron": "3..7", "cuboctahedron": "3..7", "decahedron": "2..6", "octahedron": "4..12",
                 "truncated-octahedron": "4..13:3", "sphere": "15..45:5"}
DISTRIBUTIONS = ("gaussian", "lognormal", "free", "single")
BACKGROUNDS = ("none", "constant")
#: Debye–Waller B (Å²) of every member unless given: that of cluster_iq's table (Au near room temperature).
DEFAULT_B_ANGSTROM2 = 0.5
#: Where the Gaussian resolution is cut (σ).
NSIGMA = 3.5
#: Most members in one ladder (each is one Debye curve).
MAX_MEMBERS = 40

PARAMETERS = (
    FitParameter("scale", "", 1.0, 0.0, math.inf, "Data units per electron² of the number-weighted mean cluster."),
    FitParameter("volume_diameter_mean", "Å", math.nan, 0.0, math.inf,
                 "Mean of the continuous number distribution of volume-equivalent diameters.", title="Mean diameter"),
    FitParameter("volume_diameter_width", "Å", math.nan, 0.0, math.inf,
                 "Standard deviation of that distribution.", title="Width (σ)"),
    FitParameter("w", "", 1.0, 0.0, math.inf, "Amplitude of one ladder member (free distribution; w_<k>)."),
    FitParameter("c0", "", 0.0, -math.inf, math.inf, "Flat background, in the data's units."),
)
#: The declaration of this model, for :func:`swaxs_lib.models.with_units`.  Not in the
#: :mod:`swaxs_lib.models` registry: those families are ``refine --model`` choices, whose
#: recipes take one structure; this one takes a ladder (``fit-saxs-cluster``).
MODEL = ModelSpec("cluster_ladder", "cluster-ladder", "Size ladder of atomistic clusters: Debye I(Q) mixture",
                  ("iq",), PARAMETERS,
                  (("scale", "c0"), ("scale", "c0", "volume_diameter_mean", "volume_diameter_width"), ("w", "c0")),
                  per_element=("w",), linear=("scale", "c0", "w"), module=__name__)


@dataclass(frozen=True)
class LadderMember:
    """One cluster of a ladder, with the sizes the distribution is over.

    Attributes
    ----------
    label : str
        ``"shells=5"``, ``"p=3"``, ``"diameter_angstrom=30"`` or a file's name.
    shape : str
    parameters : tuple of (str, value)
        The builder's parameters (empty for an uploaded structure).
    n_atoms : int
    volume_diameter_angstrom : float
        The distribution's variable D_k.
    radius_of_gyration_angstrom : float
    """

    label: str
    shape: str
    parameters: tuple[tuple[str, Any], ...]
    n_atoms: int
    volume_diameter_angstrom: float
    radius_of_gyration_angstrom: float


def parse_sizes(text: str, family: str) -> list:
    """``"3..8"``, ``"3,4,6"`` or (spheres) ``"20..40:5"`` as the family's sizes.

    Raises
    ------
    SwaxsInputError
        Not a list or range of the family's numbers.
    """
    if family not in FAMILIES:
        raise SwaxsInputError(f"shape: got {family!r}; expected one of {', '.join(FAMILIES)}")
    is_int = FAMILIES[family][2] == ""
    expected = ("A..B or a,b,c with whole numbers (e.g. 3..8)" if is_int
                else "A..B:STEP or a,b,c in Å (e.g. 20..40:5)")
    text = str(text).strip()
    try:
        if ".." in text:
            lo_text, _, rest = text.partition("..")
            hi_text, _, step_text = rest.partition(":")
            lo, hi = float(lo_text), float(hi_text)
            step = float(step_text) if step_text else 1.0
            if not (step > 0 and hi >= lo) or (hi - lo) / step > MAX_MEMBERS:
                raise ValueError
            values = list(np.arange(lo, hi + step * 1e-6, step))
        else:
            values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SwaxsInputError(f"--sizes: got {text!r}; expected {expected}") from None
    if not values or any(not math.isfinite(v) or v <= 0 for v in values) or \
            (is_int and any(not float(v).is_integer() for v in values)):
        raise SwaxsInputError(f"--sizes: got {text!r}; expected {expected}")
    return [int(v) for v in values] if is_int else [round(float(v), 6) for v in values]


def build_ladder(family: str, element: str, sizes: Sequence, *, fixed: Mapping[str, Any] | None = None,
                 lattice_constant_angstrom: float | None = None) -> tuple:
    """The clusters of a family's ladder, smallest first.

    Parameters
    ----------
    family : str
        One of :data:`FAMILIES`.
    element : str
    sizes : sequence
        Values of the family's growing parameter (shells, p, length, diameter in Å).
    fixed : mapping, optional
        The other builder parameters (default: :data:`FAMILIES`' ``q=2, r=1`` for decahedra, ...).
    lattice_constant_angstrom : float, optional

    Returns
    -------
    tuple of Cluster
        Sorted by atom count, duplicates (same atoms) dropped.

    Raises
    ------
    SwaxsInputError
        Unknown family, a bad size, fewer than one or more than :data:`MAX_MEMBERS` members.
    """
    from swaxs_lib.structures import build_cluster

    if family not in FAMILIES:
        raise SwaxsInputError(f"shape: got {family!r}; expected one of {', '.join(FAMILIES)}")
    name, held, _ = FAMILIES[family]
    held = {**held, **dict(fixed or {})}
    if lattice_constant_angstrom is not None:
        held["lattice_constant_angstrom"] = lattice_constant_angstrom
    sizes = list(dict.fromkeys(sizes))
    if not 1 <= len(sizes) <= MAX_MEMBERS:
        raise SwaxsInputError(f"--sizes: got {len(sizes)} members; expected 1 to {MAX_MEMBERS}")
    clusters = [build_cluster(family, element, **{name: s, **held}) for s in sizes]
    unique = {c.info.n_atoms: c for c in sorted(clusters, key=lambda c: c.info.n_atoms)}
    return tuple(unique.values())


def member_of(cluster, label: str | None = None) -> LadderMember:
    """The :class:`LadderMember` of a built or uploaded :class:`~swaxs_lib.structures.Cluster`."""
    info = cluster.info
    params = tuple(info.parameters)
    if label is None:
        grows = FAMILIES.get(info.shape, ("", {}, ""))[0]
        shown = [(k, v) for k, v in params if k == grows] or list(params)
        label = ",".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in shown) or info.formula
    if info.volume_diameter_angstrom is None:
        raise SwaxsInputError(f"cluster {label}: one atom; expected a cluster of at least two atoms")
    return LadderMember(label, info.shape, params, int(info.n_atoms), float(info.volume_diameter_angstrom),
                        float(info.radius_of_gyration_angstrom))


# -- resolution -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Resolution:
    """Where the model is computed (``q_calc``) and how it is smeared onto the data's Q.

    Attributes
    ----------
    q_calc_inv_angstrom : numpy.ndarray
    matrix : numpy.ndarray or None
        (n_calc, n_q) weights (sasmodels' ``Pinhole1D.weight_matrix``); None: no smearing.
    description : str
    """

    q_calc_inv_angstrom: np.ndarray
    matrix: np.ndarray | None
    description: str

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Curves on ``q_calc`` (last axis) smeared onto the data's Q."""
        return values if self.matrix is None else np.asarray(values) @ self.matrix


def resolution_for(q_inv_angstrom, *, dq_over_q: float | None = None, dq_inv_angstrom=None,
                   measurement=None) -> Resolution:
    """The Gaussian pinhole resolution at ``q``: an explicit ΔQ array, else ΔQ/Q, else the measurement's.

    ΔQ is the 1-σ width (sasmodels' convention).  The Gaussian is cut at
    :data:`NSIGMA` σ (sasmodels' default 2.5 σ leaves out 1.2 % of it and biased
    a ladder's mean diameter by 0.2 % in tests/test_saxs_clusters.py); the model
    is computed on the data's Q, the extension to that width at both ends and a
    geometric grid of step ΔQ/(4 Q) between, so that the Gaussian is sampled by
    several points wherever it is narrowest.

    Raises
    ------
    SwaxsInputError
        Both given, a negative or non-finite width, or a ΔQ array of another length.
    """
    q = np.asarray(q_inv_angstrom, dtype=float)
    if dq_over_q is not None and dq_inv_angstrom is not None:
        raise SwaxsInputError("--dq-over-q: given with a ΔQ array; expected one of the two")
    if dq_over_q is not None:
        if not (math.isfinite(dq_over_q) and 0 <= dq_over_q < 0.5):
            raise SwaxsInputError(f"--dq-over-q: got {dq_over_q!r}; expected a number from 0 to 0.5 (1-σ ΔQ/Q)")
        dq, origin = dq_over_q * q, f"Gaussian pinhole, ΔQ/Q = {dq_over_q:g} (1 σ)"
    elif dq_inv_angstrom is not None:
        dq, origin = np.asarray(dq_inv_angstrom, dtype=float), "Gaussian pinhole, ΔQ per point (given)"
    elif getattr(measurement, "x_resolution", None) is not None:
        dq, origin = np.asarray(measurement.x_resolution, dtype=float), "Gaussian pinhole, ΔQ per point (the file's)"
    else:
        return Resolution(q, None, "none")
    if dq.shape != q.shape or not np.all(np.isfinite(dq)) or np.any(dq < 0):
        raise SwaxsInputError(f"ΔQ: got {dq.size} values; expected {q.size} finite values >= 0 (1/Å)")
    if not np.any(dq > 0):
        return Resolution(q, None, "none")
    if np.any(np.diff(q) <= 0) or q[0] <= 0:
        raise SwaxsInputError("Q: expected increasing values > 0 to smear by the resolution")
    from sasmodels.resolution import Pinhole1D, pinhole_extend_q

    extended = pinhole_extend_q(q, dq, nsigma=NSIGMA)
    extended = extended[extended > 0]
    ratio = max(float(np.min((dq / q)[dq > 0])) / 4.0, 1e-3)
    lo, hi = float(extended.min()), float(extended.max())
    grid = np.exp(np.arange(math.log(lo), math.log(hi), math.log1p(ratio)))
    q_calc = np.unique(np.concatenate([extended, grid[:4000]]))
    res = Pinhole1D(q, dq, q_calc=q_calc, nsigma=NSIGMA)
    return Resolution(np.asarray(res.q_calc, float), np.asarray(res.weight_matrix, float), origin)


# -- distributions ----------------------------------------------------------------------------------


def _spans(diameters: np.ndarray) -> np.ndarray:
    """Each member's share of the D axis: half-way to each neighbour (the ends mirror their one neighbour)."""
    if len(diameters) == 1:
        return np.ones(1)
    edges = np.concatenate([[1.5 * diameters[0] - 0.5 * diameters[1]], 0.5 * (diameters[1:] + diameters[:-1]),
                            [1.5 * diameters[-1] - 0.5 * diameters[-2]]])
    return np.diff(edges)


def number_fractions(distribution: str, diameters_angstrom, mean_angstrom: float, width_angstrom: float
                     ) -> np.ndarray:
    """Number fractions over the members for a continuous distribution of diameters (sum 1).

    >>> number_fractions("gaussian", [10.0, 20.0, 30.0], 20.0, 5.0).round(3)
    array([0.107, 0.787, 0.107])
    """
    d = np.asarray(diameters_angstrom, dtype=float)
    width = max(float(width_angstrom), 1e-9)
    mean = max(float(mean_angstrom), 1e-9)
    if distribution == "gaussian":
        log_p = -0.5 * ((d - mean) / width) ** 2
    elif distribution == "lognormal":
        s2 = math.log1p((width / mean) ** 2)
        mu = math.log(mean) - 0.5 * s2
        log_p = -0.5 * (np.log(d) - mu) ** 2 / s2 - np.log(d)
    else:
        raise SwaxsInputError(f"distribution: got {distribution!r}; expected gaussian or lognormal")
    w = np.exp(log_p - log_p.max()) * _spans(d)
    return w / w.sum()
