"""Fit a size ladder of atomistic clusters (or one cluster) to a measured I(Q): the model of :mod:`.clusters`.

``fit_cluster_ladder`` computes each member's Debye curve once (through the
store's cache when a store is given), smears it by the resolution, and refines
the number distribution, scale and background with :mod:`swaxs_lib.fit.engine`.

Examples
--------
>>> import numpy as np
>>> from swaxs_lib.io import Measurement
>>> from swaxs_lib.saxs.clusters import build_ladder
>>> ladder = build_ladder("icosahedron", "Au", [2, 3, 4])
>>> q = np.linspace(0.05, 1.0, 60)
>>> curves = member_curves(ladder, q)
>>> y = 2e-6 * (0.2 * curves[0] + 0.5 * curves[1] + 0.3 * curves[2]) + 0.01
>>> fit = fit_cluster_ladder(Measurement("iq", q, y, None, "sim.dat", "inv_angstrom"), ladder, distribution="free")
>>> fit.fractions.round(3).tolist(), fit.result.rw < 1e-6
([0.2, 0.5, 0.3], True)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
from diffpy.srfit.fitbase import FitContribution, FitRecipe, FitResults, Profile, ProfileGenerator
from scipy.optimize import nnls

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.fit.engine import (
    add_table_variables,
    collect,
    hold_at_bounds,
    optimise,
    refined_names,
    stage_plan,
    uncertainty_factor,
)
from swaxs_lib.fit.linear import fit_scale_background
from swaxs_lib.fit.result import RefinedValue, RefinementResult, rw_of
from swaxs_lib.fit.window import fit_window
from swaxs_lib.saxs.clusters import (
    BACKGROUNDS,
    DEFAULT_B_ANGSTROM2,
    DISTRIBUTIONS,
    MODEL,
    LadderMember,
    member_of,
    number_fractions,
    resolution_for,
)

UNITS = {p.name: p.unit for p in MODEL.parameters}


def member_curves(clusters: Sequence, q_inv_angstrom, *, b_iso_angstrom2: float = DEFAULT_B_ANGSTROM2,
                  energy_kev: float | None = None, store=None) -> np.ndarray:
    """Each cluster's Debye I(Q) (electrons² per cluster) at ``q``, shape (n_clusters, n_q).

    Histogram-accelerated ("fast") Debye sums; with a store, through its cache
    (:func:`swaxs_lib.store.cached_intensity`, keyed by the atoms' content).
    """
    from swaxs_lib.scattering import debye_intensity

    q = np.asarray(q_inv_angstrom, dtype=float)
    rows = []
    for cluster in clusters:
        if store is not None:
            from swaxs_lib.store import cached_intensity

            curve = cached_intensity(store, cluster, q, b_iso_angstrom2=b_iso_angstrom2, energy_kev=energy_kev)
        else:
            curve = debye_intensity(getattr(cluster, "atoms", cluster), q, b_iso_angstrom2=b_iso_angstrom2,
                                    energy_kev=energy_kev)
        rows.append(curve.intensity)
    return np.array(rows, dtype=float)


@dataclass(frozen=True)
class ClusterLadderFit:
    """A ladder fit: the engine's result plus the number distribution over the members.

    Attributes
    ----------
    result : RefinementResult
        Parameters ± σ, χ²_red, the data and fitted curve over the fit range.
    members : tuple of LadderMember
    distribution : str
    fractions, fractions_sigma : numpy.ndarray (n_members,)
        Number fractions (sum 1) and σ (propagated; 0 for ``single``).
    mean_volume_diameter_angstrom, mean_volume_diameter_sigma : float
        Σ w_k D_k over the members (volume-equivalent diameters) and its σ.
    std_volume_diameter_angstrom, std_volume_diameter_sigma : float
        sqrt(Σ w_k (D_k - mean)²) and its σ.
    single_chi2_reduced : numpy.ndarray (n_members,)
        χ²_red of each member alone (scale and background fitted exactly).
    best_member : int
        Index of the lowest of those.
    contributions : numpy.ndarray (n_members, n_points)
        Each member's share of the fitted curve (background excluded) on ``result.x``.
    background : float
        c0 (data units; 0 without background).
    resolution : str
    """

    result: RefinementResult
    members: tuple[LadderMember, ...]
    distribution: str
    fractions: np.ndarray
    fractions_sigma: np.ndarray
    mean_volume_diameter_angstrom: float
    mean_volume_diameter_sigma: float
    std_volume_diameter_angstrom: float
    std_volume_diameter_sigma: float
    single_chi2_reduced: np.ndarray
    best_member: int
    contributions: np.ndarray
    background: float
    resolution: str

    def member_columns(self) -> dict[str, list]:
        """One CSV row per member: label, atoms, diameter, fraction ± σ, χ²_red alone."""
        m = self.members
        return {"member": [x.label for x in m], "n_atoms": [x.n_atoms for x in m],
                "volume_diameter_angstrom": [x.volume_diameter_angstrom for x in m],
                "radius_of_gyration_angstrom": [x.radius_of_gyration_angstrom for x in m],
                "number_fraction": self.fractions.tolist(), "number_fraction_sigma": self.fractions_sigma.tolist(),
                "chi2_reduced_alone": self.single_chi2_reduced.tolist()}

    def curve_columns(self) -> dict[str, np.ndarray]:
        """The fit as CSV columns: Q, data, fitted, difference (:meth:`RefinementResult.columns`)."""
        return self.result.columns()

    def contribution_columns(self) -> dict[str, list]:
        """Each member's share of the fitted curve (background excluded), one row per (Q, member)."""
        n_q = len(self.result.x)
        return {"q_inv_angstrom": np.tile(self.result.x, len(self.members)).tolist(),
                "member": [m.label for m in self.members for _ in range(n_q)],
                "intensity": self.contributions.ravel().tolist()}

    def summary(self) -> dict[str, Any]:
        """JSON-friendly: the engine's summary, the best member, the distribution and the ladder."""
        best = self.members[self.best_member]
        return {
            **self.result.summary(), "distribution": self.distribution, "resolution": self.resolution,
            "best_member": best.label, "best_member_n_atoms": best.n_atoms,
            "best_member_volume_diameter_angstrom": best.volume_diameter_angstrom,
            "mean_volume_diameter_angstrom": _f(self.mean_volume_diameter_angstrom),
            "mean_volume_diameter_angstrom_sigma": _f(self.mean_volume_diameter_sigma),
            "std_volume_diameter_angstrom": _f(self.std_volume_diameter_angstrom),
            "std_volume_diameter_angstrom_sigma": _f(self.std_volume_diameter_sigma),
            "background": _f(self.background),
            "ladder": [{k: (v[i] if not isinstance(v[i], float) else _f(v[i])) for k, v in
                        self.member_columns().items()} for i in range(len(self.members))],
        }


def _f(x: float) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


class _Mixture(ProfileGenerator):
    """Σ w_k (smeared I_k) on the fit's points; w from the distribution's mean and width, or free amplitudes."""

    def __init__(self, smeared: np.ndarray, diameters: np.ndarray, distribution: str) -> None:
        ProfileGenerator.__init__(self, "I")
        self.smeared, self.diameters, self.distribution = smeared, diameters, distribution
        if distribution == "free":
            for k in range(len(diameters)):
                self.newParameter(f"w_{k + 1}", 1.0)
        else:
            self.newParameter("volume_diameter_mean", float(np.mean(diameters)))
            self.newParameter("volume_diameter_width", 1.0)

    def weights(self) -> np.ndarray:
        if self.distribution == "free":
            return np.array([getattr(self, f"w_{k + 1}").getValue() for k in range(len(self.diameters))])
        return number_fractions(self.distribution, self.diameters, self.volume_diameter_mean.getValue(),
                                self.volume_diameter_width.getValue())

    def __call__(self, q: np.ndarray) -> np.ndarray:
        return self.weights() @ self.smeared


def fit_cluster_ladder(
    measurement,
    clusters: Sequence,
    *,
    distribution: str = "gaussian",
    labels: Sequence[str] | None = None,
    dq_over_q: float | None = None,
    dq_inv_angstrom=None,
    background: str = "constant",
    b_iso_angstrom2: float = DEFAULT_B_ANGSTROM2,
    energy_kev: float | None = None,
    x_min: float | None = None,
    x_max: float | None = None,
    weighting: str = "auto",
    start: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    store=None,
    progress: Callable[[str], None] | None = None,
) -> ClusterLadderFit:
    """Fit one cluster or a ladder of clusters with a number distribution to a measured I(Q).

    Parameters
    ----------
    measurement : Measurement
        I(Q), Q in 1/Å (SAXS, WAXS or both).
    clusters : sequence of Cluster
        The members (:func:`~swaxs_lib.saxs.clusters.build_ladder`, or built/uploaded ones).
    distribution : {"gaussian", "lognormal", "free", "single"}
        See :mod:`swaxs_lib.saxs.clusters`.
    labels : sequence of str, optional
        Member names (default from their builder parameters).
    dq_over_q, dq_inv_angstrom
        Resolution: 1-σ ΔQ/Q, or ΔQ (1/Å) per measured point; default the
        measurement's ``x_resolution`` if it has one, else none.
    background : {"none", "constant"}
    b_iso_angstrom2 : float
        Debye–Waller B of every atom (Å², held).
    energy_kev : float, optional
        For anomalous f', f''.
    x_min, x_max, weighting
        As :func:`swaxs_lib.fit.window.fit_window`.
    start, bounds : mapping, optional
        By the table's names (``scale``, ``volume_diameter_mean``, ``volume_diameter_width``, ``w_<k>``, ``c0``).
    store : Store, optional
        Caches every member's Debye curve.
    progress : callable, optional

    Returns
    -------
    ClusterLadderFit

    Raises
    ------
    SwaxsInputError
        Not I(Q), an unknown distribution or background, no clusters, a bad range or resolution.
    """
    if getattr(measurement, "kind", None) != "iq":
        raise SwaxsInputError(f"data: got kind {getattr(measurement, 'kind', None)!r}; expected I(Q) (iq)")
    if distribution not in DISTRIBUTIONS:
        raise SwaxsInputError(f"--distribution: got {distribution!r}; expected one of {', '.join(DISTRIBUTIONS)}")
    if background not in BACKGROUNDS:
        raise SwaxsInputError(f"--background: got {background!r}; expected one of {', '.join(BACKGROUNDS)}")
    clusters = list(clusters)
    if not clusters:
        raise SwaxsInputError("clusters: got none; expected at least one")
    members = tuple(member_of(c, None if labels is None else labels[i]) for i, c in enumerate(clusters))
    order = np.argsort([m.volume_diameter_angstrom for m in members], kind="stable")
    members, clusters = tuple(members[i] for i in order), [clusters[i] for i in order]
    if distribution in ("gaussian", "lognormal") and len(members) < 3:
        # a mean and a width from one or two members: one weight at most, so never both determined
        replacement = "single" if len(members) == 1 else "free"
        warnings.warn(f"distribution {distribution}: {len(members)} member(s) cannot determine a mean and a width; "
                      f"fitting {replacement} instead", stacklevel=2)
        distribution = replacement
    n_free = {"single": 1, "free": len(members)}.get(distribution, 3) + (background == "constant")
    window = fit_window(measurement, x_min, x_max, weighting=weighting, n_parameters=n_free)
    mask = window.mask
    q, y, dy = (np.asarray(a, dtype=float)[mask] for a in (measurement.x, measurement.values, window.dy))
    dq = None if dq_inv_angstrom is None else np.asarray(dq_inv_angstrom, dtype=float)
    if dq is not None and dq.shape == mask.shape:
        dq = dq[mask]
    if dq is None and dq_over_q is None and getattr(measurement, "x_resolution", None) is not None:
        dq = np.asarray(measurement.x_resolution, dtype=float)[mask]
    resolution = resolution_for(q, dq_over_q=dq_over_q, dq_inv_angstrom=dq)
    if progress:
        progress(f"Debye I(Q) of {len(members)} member(s) on {len(resolution.q_calc_inv_angstrom)} Q points")
    raw = member_curves(clusters, resolution.q_calc_inv_angstrom, b_iso_angstrom2=b_iso_angstrom2,
                        energy_kev=energy_kev, store=store)
    smeared = resolution.apply(raw)
    diameters = np.array([m.volume_diameter_angstrom for m in members])
    settings: dict[str, Any] = {
        "source": measurement.source, "model": MODEL.name, "distribution": distribution,
        "members": [m.label for m in members], "shape": members[0].shape, "background": background,
        "b_iso_angstrom2": b_iso_angstrom2, "resolution": resolution.description, "x_min": window.x_min,
        "x_max": window.x_max, "weighting": window.weighting, "form_factors": "xraydb",
    }
    if dq_over_q is not None:
        settings["dq_over_q"] = dq_over_q
    # every member alone: scale and background by exact weighted linear least squares
    chi2_alone = np.array([_linear_chi2(q, y, dy, s, background) for s in smeared])
    best = int(np.argmin(chi2_alone))
    if distribution == "single":
        return _single(measurement, q, y, dy, smeared, members, best, chi2_alone, background, settings, window,
                       resolution.description)

    recipe, generator = _recipe(q, y, dy, smeared, diameters, distribution, background)
    table = MODEL.table
    spacing = float(np.mean(np.diff(diameters)))
    if distribution == "free":
        a0 = _nnls_start(q, y, dy, smeared, background)
        rows = [(f"w_{k + 1}", "w", getattr(generator, f"w_{k + 1}"), float(max(a0[k], 0.0)), (0.0, math.inf))
                for k in range(len(members))]
        scale_start = None
    else:
        lo = max(diameters[0] - spacing, 0.5 * diameters[0])
        rows = [("scale", "scale", recipe._contributions["ladder"].scale, None, (0.0, math.inf)),
                ("volume_diameter_mean", "volume_diameter_mean", generator.volume_diameter_mean, float(diameters[best]),
                 (float(lo), float(diameters[-1] + spacing))),
                ("volume_diameter_width", "volume_diameter_width", generator.volume_diameter_width, 0.5 * spacing,
                 (0.05 * spacing, float(2 * (diameters[-1] - diameters[0]))))]
        generator.volume_diameter_mean.setValue(float(diameters[best]))
        generator.volume_diameter_width.setValue(0.5 * spacing)
        model0 = generator(q)
        scale_start = float(np.dot(model0 / dy**2, y) / np.dot(model0 / dy**2, model0))
        scale_start = scale_start if math.isfinite(scale_start) and scale_start > 0 else 1.0
    if background == "constant":
        rows.append(("c0", "c0", recipe._contributions["ladder"].c0, 0.0, (-math.inf, math.inf)))
    bases = add_table_variables(recipe, rows, start, bounds, scale_start=scale_start)
    refined = refined_names(bases, table)
    stages = (("w", "c0"),) if distribution == "free" else MODEL.stages[:2]
    plan = stage_plan(bases, refined, stages)

    def restarts(values: dict[str, float]) -> list[tuple[str, dict[str, float]]]:
        if distribution == "free":
            return []
        starts = []
        for k in (int(k) for k in np.argsort(chi2_alone)[:3]):
            for f in (0.3, 1.0):
                trial = {**values, "volume_diameter_mean": float(diameters[k]), "volume_diameter_width": f * spacing}
                model = number_fractions(distribution, diameters, trial["volume_diameter_mean"],
                                         trial["volume_diameter_width"]) @ smeared
                scale = float(np.dot(model / dy**2, y - trial.get("c0", 0.0)) / np.dot(model / dy**2, model))
                if "scale" in trial and math.isfinite(scale) and scale > 0:
                    trial["scale"] = scale
                starts.append((f"mean {diameters[k]:.1f} Å, width {f * spacing:.2g} Å", trial))
        return starts

    outcome = optimise(recipe, plan, tolerances=1e-10, max_nfev=600, restarts=restarts, progress=progress)
    at_bounds = hold_at_bounds(recipe, refined)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # a singular covariance: the σ are NaN, flagged
        result = collect(recipe, "iq", MODEL.name, settings, outcome, at_bounds=at_bounds, units=UNITS)
        # the covariance of what is free now, for the fractions' σ (scaled as collect scales the parameters' σ)
        fit_results = FitResults(recipe)
    names, cov = list(fit_results.varnames), np.asarray(fit_results.cov, dtype=float)
    factor = uncertainty_factor(window.weighting, result.chi2_reduced)
    values = {v.name: v.value for v in result.values}
    derived, sigma = _propagate(lambda v: _derived(v, diameters, distribution), values, names, cov * factor**2)
    fractions = derived[: len(members)]
    c0 = values.get("c0", 0.0)
    contributions = _contributions(values, fractions, smeared, distribution)
    return ClusterLadderFit(result, members, distribution, fractions, sigma[: len(members)], derived[-2],
                            sigma[-2], derived[-1], sigma[-1], chi2_alone / max(len(q) - 1 - (background != "none"), 1),
                            best, contributions, c0, resolution.description)


def fit_family_ladder(measurement, family: str, element: str, sizes: str | Sequence | None = None, *,
                      max_atoms: int | None = None, **options) -> ClusterLadderFit:
    """Build a family's ladder and fit it: :func:`~swaxs_lib.saxs.clusters.build_ladder` then :func:`fit_cluster_ladder`.

    Parameters
    ----------
    measurement : Measurement
    family, element : str
    sizes : str or sequence, optional
        ``"3..8"`` (:func:`~swaxs_lib.saxs.clusters.parse_sizes`) or the values; default
        :data:`~swaxs_lib.saxs.clusters.DEFAULT_SIZES` of the family.
    max_atoms : int, optional
        Refuse a ladder whose largest member would have more atoms (checked before building).
    **options
        Those of :func:`fit_cluster_ladder`.

    Raises
    ------
    SwaxsInputError
        What ``parse_sizes``, ``build_ladder`` or ``fit_cluster_ladder`` refuse; a member above ``max_atoms``.
    """
    from swaxs_lib.saxs.clusters import DEFAULT_SIZES, FAMILIES, build_ladder, parse_sizes
    from swaxs_lib.structures import estimated_atom_count

    if family not in FAMILIES:
        raise SwaxsInputError(f"shape: got {family!r}; expected one of {', '.join(FAMILIES)}")
    if sizes is None or (isinstance(sizes, str) and not sizes.strip()):
        sizes = DEFAULT_SIZES[family]
    values = parse_sizes(sizes, family) if isinstance(sizes, str) else list(sizes)
    if max_atoms is not None:
        name, held, _ = FAMILIES[family]
        params = {**held, name: max(values)}
        if family == "truncated-octahedron":
            params["cutoff"] = (int(max(values)) - 1) // 3
        n = estimated_atom_count(family, element, params)
        if n > max_atoms:
            raise SwaxsInputError(f"--sizes: the largest member ({name}={max(values)}) has about {n} atoms; "
                                  f"expected at most {max_atoms} here (use the command line for larger ladders)")
    return fit_cluster_ladder(measurement, build_ladder(family, element, values), **options)


def _recipe(q, y, dy, smeared, diameters, distribution, background):
    profile = Profile()
    profile.setObservedProfile(q, y, dy)
    contribution = FitContribution("ladder")
    generator = _Mixture(smeared, diameters, distribution)
    contribution.addProfileGenerator(generator)
    contribution.setProfile(profile, xname="q")
    equation = "I" if distribution == "free" else "scale * I"
    contribution.setEquation(equation + (" + c0" if background == "constant" else ""))
    recipe = FitRecipe("swaxs")
    recipe.fithooks[0].verbose = 0
    recipe.addContribution(contribution)
    return recipe, generator


def _linear_chi2(q, y, dy, model, background) -> float:
    design = np.column_stack([model] + ([np.ones_like(q)] if background == "constant" else [])) / dy[:, None]
    coef, *_ = np.linalg.lstsq(design, y / dy, rcond=None)
    return float(np.sum((design @ coef - y / dy) ** 2))


def _nnls_start(q, y, dy, smeared, background) -> np.ndarray:
    """Non-negative amplitudes (and a background of either sign) by NNLS: the free distribution's start."""
    columns = [*smeared] + ([np.ones_like(q), -np.ones_like(q)] if background == "constant" else [])
    design = np.column_stack(columns) / dy[:, None]
    norm = np.linalg.norm(design, axis=0)
    coef, _ = nnls(design / norm, y / dy)
    return (coef / norm)[: len(smeared)]


def _derived(values: Mapping[str, float], diameters: np.ndarray, distribution: str) -> np.ndarray:
    """Fractions, number-weighted mean diameter and the members' diameter standard deviation."""
    if distribution == "free":
        a = np.array([max(values[f"w_{k + 1}"], 0.0) for k in range(len(diameters))])
        w = a / a.sum() if a.sum() > 0 else np.full(len(a), 1.0 / len(a))
    else:
        w = number_fractions(distribution, diameters, values["volume_diameter_mean"], values["volume_diameter_width"])
    mean = float(w @ diameters)
    return np.concatenate([w, [mean, math.sqrt(max(float(w @ (diameters - mean) ** 2), 0.0))]])


def _propagate(function, values: dict[str, float], names: list[str], cov: np.ndarray):
    """function(values) and its σ: J cov Jᵀ with J by central differences over ``names``."""
    centre = function(values)
    if not names:
        return centre, np.zeros_like(centre)
    jac = np.zeros((len(centre), len(names)))
    for j, name in enumerate(names):
        h = 1e-6 * max(abs(values[name]), 1e-3)
        up, down = dict(values), dict(values)
        up[name] += h
        down[name] = max(down[name] - h, 0.0) if name != "c0" else down[name] - h
        jac[:, j] = (function(up) - function(down)) / (up[name] - down[name])
    var = np.einsum("ij,jk,ik->i", jac, cov, jac)
    return centre, np.sqrt(np.maximum(var, 0.0))


def _contributions(values, fractions, smeared, distribution) -> np.ndarray:
    if distribution == "free":
        amplitudes = np.array([values[f"w_{k + 1}"] for k in range(len(smeared))])
    else:
        amplitudes = values["scale"] * fractions
    return amplitudes[:, None] * smeared


def _single(measurement, q, y, dy, smeared, members, best, chi2_alone, background, settings, window, description):
    fit = fit_scale_background(q, y, smeared[best], sigma=dy, background=background, weighting="sigma", kind="iq")
    names = ["scale", "c0"][: 1 + len(fit.background)]
    values = tuple(RefinedValue(n, v, s, UNITS.get(n, "")) for n, v, s in
                   zip(names, (fit.scale, *fit.background), fit.uncertainties))
    n_par = len(names)
    settings = {**settings, "member": members[best].label}
    reduced = fit.chi2 / max(len(q) - n_par, 1)
    factor = math.sqrt(reduced) if window.weighting != "sigma" or reduced > 1 else 1.0
    values = tuple(RefinedValue(v.name, v.value, v.uncertainty * factor if v.uncertainty else v.uncertainty, v.unit)
                   for v in values)
    result = RefinementResult(kind="iq", model=MODEL.name, rw=rw_of(y, fit.fitted, 1 / dy**2), chi2_reduced=reduced,
                              values=values, x=q, data=y, fitted=fit.fitted, x_min=window.x_min, x_max=window.x_max,
                              weighting=window.weighting, n_evaluations=1, converged=True,
                              message="linear least squares (exact), best single member",
                              settings=tuple(sorted(settings.items())))
    fractions = np.zeros(len(members))
    fractions[best] = 1.0
    d = members[best].volume_diameter_angstrom
    contributions = np.zeros((len(members), len(q)))
    contributions[best] = fit.scale * smeared[best]
    return ClusterLadderFit(result, tuple(members), "single", fractions, np.zeros(len(members)), d, 0.0, 0.0, 0.0,
                            chi2_alone / max(len(q) - n_par, 1), best, contributions,
                            float(fit.background[0]) if len(fit.background) else 0.0, description)


__all__ = ["ClusterLadderFit", "fit_cluster_ladder", "fit_family_ladder", "member_curves"]
