"""Form-factor fits of I(Q) with any sasmodels model: polydispersity, structure factors, resolution smearing.

The model (:mod:`swaxs_lib.models.sasview`, the table read from sasmodels) is::

    I(Q) = scale * R ⊗ [ P(Q; p, σ_p) (S(Q; φ, ...)) ] + background

with P sasmodels' form factor averaged over a ``gaussian``, ``schulz`` or
``lognormal`` distribution of relative width σ_p/p = ``<p>_pd`` of each
polydisperse size, S an optional structure factor (sasmodels' product model,
effective radius from P) and R the resolution: Gaussian (pinhole) smearing
with the data's 1-σ dQ column (``Measurement.x_resolution``) or a stated
dQ/Q (1-σ), or slit smearing with a slit length (1/Å), by
``sasmodels.resolution`` (Pinhole1D, Slit1D).  Scale and background are
linear; every other parameter is refined by the fit engine
(:mod:`swaxs_lib.fit.engine`: bounded trust-region least squares on a srfit
recipe, uncertainties from its Jacobian) with weights 1/σ² from the data's
uncertainties (``weighting="auto"``, :mod:`swaxs_lib.fit.window`).

Automatic starts
----------------
Every length (Å) the user gives no start for is multiplied by one common
factor f on a log grid of :data:`GRID_POINTS` values spanning sizes from
1/Q_max to 10/Q_min (with two or more lengths, from four proportions: the
table's, equal, and the first four times longer or shorter, 2/3 as many
factors each; size distributions sampled 5 times more coarsely); at each f the scale and background are the exact
weighted linear least-squares solution, and the f of lowest χ² starts the
fit (relative polydispersities start at 0.1, which smooths the fringes the
grid sees).  The next-best local minima of the grid (at least 30 % apart in size, with
a grid χ² within :data:`RESTART_CHI2_RATIO` of the best) are tried as
restarts (at most :data:`N_RESTARTS`; none when the first fit already
has χ²_red <= :data:`GOOD_CHI2_REDUCED` with measured σ) and the lowest χ²
kept.  This needs no Guinier range and
works with a structure factor, because it is the model itself on the grid.

Undetermined parameters
-----------------------
A refined parameter is flagged (``<name>_flag``) and listed in
``undetermined`` when the data do not determine it:

- ``at_bound``: it stopped at a bound (no uncertainty can be computed);
- ``sigma_exceeds_value``: its standard uncertainty is at least its value
  (relative σ >= 1: the sign is not even known);
- ``correlated``: its correlation with another refined parameter has
  |r| > :data:`CORRELATION_LIMIT` (0.95): only a combination of the two is
  measured (e.g. scale and volume fraction when the SLDs are not known);
  the pairs are in ``correlated_pairs``.

Uncertainties are srfit's (Jacobian of the weighted residual), multiplied by
sqrt(χ²_red) when χ²_red > 1 (the σ do not explain the misfit), as every fit
in swaxs reports them (:func:`swaxs_lib.fit.engine.uncertainty_factor`).

References
----------
SasView/sasmodels 1.1, https://github.com/SasView/sasmodels (models, product models, resolution).
J. G. Barker and J. S. Pedersen, J. Appl. Cryst. 28, 105 (1995) (pinhole smearing).
J. S. Pedersen, Adv. Colloid Interface Sci. 70, 171 (1997) (form factors, polydispersity).

Validation
----------
tests/test_saxs_fit.py: curves computed by sasmodels directly (not through
this module) with known parameters and seeded noise are recovered within
their stated uncertainties (a polydisperse sphere R = 34.907 Å, σ/R = 0.062,
Gaussian; a cylinder; a core-shell sphere); a fit with the right dQ
recovers the truth where one ignoring dQ does not; Ludox silica SANS
(absolute units) fitted with sphere@hardsphere gives consistent volume
fractions from the scale and from S(Q).  benchmarks/saxs_fit.py compares
with a plain sasmodels + bumps fit of the same data.

Examples
--------
>>> import numpy as np
>>> from swaxs_lib.io import Measurement
>>> q = np.geomspace(0.01, 0.3, 120)
>>> truth = model_intensity("sphere", q, {"radius": 40.0, "scale": 0.01, "background": 0.001})
>>> fit = fit_saxs(Measurement("iq", q, truth, 0.01 * truth, "demo", "inv_angstrom"), "sphere")
>>> round(fit.value("radius"), 3), fit.undetermined()
(40.0, [])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

import numpy as np
from diffpy.srfit.fitbase import FitContribution, FitRecipe, FitResults, Profile, ProfileGenerator

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.fit.engine import (
    add_table_variables,
    check_fix,
    collect,
    hold_at_bounds,
    optimise,
    refined_names,
    stage_plan,
)
from swaxs_lib.fit.result import RefinementResult
from swaxs_lib.fit.window import fit_window
from swaxs_lib.io.measurement import Measurement
from swaxs_lib.models import ModelSpec
from swaxs_lib.models.sasview import saxs_spec, size_parameters
from swaxs_lib.refine.significance import FLAG_AT_BOUND, FLAG_SIGMA
from swaxs_lib.saxs._starts import GRID_POINTS, RESTART_CHI2_RATIO, start_grid
from swaxs_lib.saxs.sascurve import (
    RESOLUTIONS,
    SasEvaluator,
    model_intensity,
    model_name,
    pd_sampling,
    resolution_for,
)
from swaxs_lib.tasks import register_task

#: |correlation| above which both parameters of a pair are flagged ``correlated``.
CORRELATION_LIMIT = 0.95
FLAG_CORRELATED = "correlated"
#: Other local minima of the start grid refined from, the lowest χ² kept ...
N_RESTARTS = 2
#: ... when their grid χ² is at most :data:`~swaxs_lib.saxs._starts.RESTART_CHI2_RATIO` times the best ...
#: ... and the first fit's χ²_red (with measured σ) is above this: below it the data are explained.
GOOD_CHI2_REDUCED = 1.5


class SasGenerator(ProfileGenerator):
    """srfit profile generator: the model's non-linear parameters (by their table names) -> smeared I(Q)."""

    def __init__(self, name: str, spec: ModelSpec, evaluator: SasEvaluator) -> None:
        ProfileGenerator.__init__(self, name)
        self.evaluator = evaluator
        self.par_names = [p.name for p in spec.parameters if p.name not in spec.linear]
        for p in spec.parameters:
            if p.name not in spec.linear:
                self.newParameter(p.name, p.start)

    def values(self) -> dict[str, float]:
        return {n: float(getattr(self, n).getValue()) for n in self.par_names}

    def __call__(self, q: np.ndarray) -> np.ndarray:
        return self.evaluator(self.values())


@dataclass(frozen=True)
class SaxsFit:
    """A form-factor fit: the engine's result, parameter correlations and the flags built on them.

    Attributes
    ----------
    result : RefinementResult
        Values (Å-based units) with uncertainties, χ²_red, curves on the fit range, settings.
    correlations : tuple of (str, str, float)
        Every pair of refined parameters with its correlation coefficient.
    sigma : numpy.ndarray
        The σ of each fitted point (the weights' σ).
    """

    result: RefinementResult
    correlations: tuple[tuple[str, str, float], ...] = ()
    sigma: np.ndarray = field(default_factory=lambda: np.zeros(0))

    # what StoredFit.from_fit and the pages read
    @property
    def model(self) -> str:
        return self.result.model

    @property
    def kind(self) -> str:
        return self.result.kind

    @property
    def x(self) -> np.ndarray:
        return self.result.x

    @property
    def data(self) -> np.ndarray:
        return self.result.data

    @property
    def fitted(self) -> np.ndarray:
        return self.result.fitted

    @property
    def values(self):
        return self.result.values

    @property
    def chi2_reduced(self) -> float:
        return self.result.chi2_reduced

    def value(self, name: str) -> float:
        return self.result.value(name)

    def uncertainty(self, name: str) -> float | None:
        return self.result.uncertainty(name)

    def correlated_pairs(self) -> list[tuple[str, str, float]]:
        """Pairs with |r| > :data:`CORRELATION_LIMIT`."""
        return [c for c in self.correlations if abs(c[2]) > CORRELATION_LIMIT]

    def flags(self) -> dict[str, str]:
        """Name -> ``""``, ``fixed``, ``at_bound``, ``sigma_exceeds_value`` or ``correlated`` (module docstring)."""
        flags = self.result.flags()
        for a, b, _ in self.correlated_pairs():
            for name in (a, b):
                if flags.get(name) == "":
                    flags[name] = FLAG_CORRELATED
        return flags

    def undetermined(self) -> list[str]:
        """Refined parameters the data do not determine (at a bound, σ >= |value|, or |r| > 0.95)."""
        return sorted(n for n, f in self.flags().items() if f in (FLAG_AT_BOUND, FLAG_SIGMA, FLAG_CORRELATED))

    def misfit(self) -> str | None:
        """Why the model does not describe the data, or None.

        With the data's σ as weights, χ²_red has mean 1 and standard deviation √(2/ν) for a model
        that describes them; above 1 + 5√(2/ν) (and at least 2) the misfit is systematic, and the
        values are those of the closest curve of an inadequate model, not measurements.
        """
        r = self.result
        if r.weighting != "sigma" or not math.isfinite(r.chi2_reduced):
            return None
        nu = max(len(r.x) - r.n_refined, 1)
        if r.chi2_reduced <= max(2.0, 1.0 + 5.0 * math.sqrt(2.0 / nu)):
            return None
        return (f"χ²_red = {r.chi2_reduced:.3g} ≫ 1: this model does not describe these data within their "
                "uncertainties (a systematic misfit, see the residuals); its values are those of the closest "
                "curve of this model, and their σ are scaled by √χ²_red")

    def summary(self) -> dict[str, Any]:
        """The engine's summary (``name``, ``name_sigma``, ``name_flag``, χ²_red, settings) with the
        correlation flags, ``undetermined``, ``correlated_pairs``, ``misfit`` (:meth:`misfit`) and each
        value's unit (``units``)."""
        out = self.result.summary()
        for name, flag in self.flags().items():
            out[f"{name}_flag"] = flag
        out["undetermined"] = self.undetermined()
        out["misfit"] = self.misfit()
        out["correlated_pairs"] = [[a, b, round(r, 4)] for a, b, r in self.correlated_pairs()]
        out["units"] = {v.name: v.unit for v in self.result.values}
        return out

    def columns(self) -> dict[str, np.ndarray]:
        """The fit as CSV columns: q_inv_angstrom, data, its σ, fitted, difference, normalised residual."""
        c = self.result.columns()
        q, data, fitted, difference = c.values()
        return {"q_inv_angstrom": q, "data_intensity": data, "data_intensity_sigma": self.sigma,
                "fitted_intensity": fitted, "difference_intensity": difference,
                "normalised_residual": difference / self.sigma}

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (the result's own, versioned, with the correlations and σ)."""
        return {"result": self.result.to_json(), "correlations": [[a, b, r] for a, b, r in self.correlations],
                "sigma": [float(s) for s in self.sigma]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "SaxsFit":
        """What :meth:`to_json` wrote (a job's result).

        Raises
        ------
        SwaxsInputError
            Not a SAXS fit's JSON.
        """
        try:
            return cls(RefinementResult.from_json(data["result"]),
                       tuple((str(a), str(b), float(r)) for a, b, r in data.get("correlations") or ()),
                       np.asarray(data["sigma"], dtype=float))
        except (KeyError, TypeError, ValueError) as exc:
            raise SwaxsInputError(f"SAXS fit: unreadable stored result ({exc}); expected SaxsFit.to_json()") from None

    def parameter_row(self) -> dict[str, Any]:
        """χ²_red, then every value with its σ and flag under names with units (``radius_angstrom``)."""
        from swaxs_lib.models.parameters import column_name

        flags = self.flags()
        out: dict[str, Any] = {"chi2_reduced": self.result.chi2_reduced}
        for v in self.result.values:
            name = column_name(v.name, v.unit)
            out[name] = v.value
            out[f"{name}_sigma"] = v.uncertainty
            out[f"{name}_flag"] = flags.get(v.name, "")
        return out


def fit_saxs(measurement: Measurement, model: str = "sphere", *, polydispersity: str | None = None,
             pd_parameters: Iterable[str] | None = None, structure_factor: str | None = None,
             effective_radius: str = "form", resolution: str = "auto", dq_over_q: float | None = None,
             slit_length: float | None = None,
             x_min: float | None = None, x_max: float | None = None, weighting: str = "auto",
             start: Mapping[str, float] | None = None, bounds: Mapping[str, tuple[float, float]] | None = None,
             fix: Iterable[str] = (), free: Iterable[str] = (), auto_start: bool = True,
             progress: Callable[[str], None] | None = None) -> SaxsFit:
    """Fit a sasmodels model to a measured I(Q) (module docstring).

    Parameters
    ----------
    measurement : Measurement
        An I(Q) (Q in 1/Å); its uncertainties weight the fit, its ``x_resolution`` smears with ``"auto"``.
    model : str
        A sasmodels form factor (``"sphere"``, ``"cylinder"``, ...).
    polydispersity : {"gaussian", "schulz", "lognormal"}, optional
        Distribution of the polydisperse sizes (none: monodisperse).
    pd_parameters : iterable of str, optional
        Which sizes are polydisperse (default: the model's first size, ``radius`` of a sphere).
    structure_factor : str, optional
        ``"hardsphere"``, ``"stickyhardsphere"``, ``"squarewell"``, ``"hayter_msa"``.
    effective_radius : {"form", "free"}
        S(Q)'s radius: the form factor's, or refined (``radius_effective``).
    resolution : {"auto", "none", "dq", "dq_over_q", "slit"}
        ``"auto"``: the data's dQ when it has one, else ``dq_over_q`` or
        ``slit_length`` when given, else none.
    dq_over_q, slit_length : float, optional
        1-σ relative Gaussian width; slit length (1/Å).
    x_min, x_max : float, optional
        Fit range (1/Å); default the whole curve.
    weighting : {"auto", "sigma", "relative", "uniform"}
    start, bounds : mapping, optional
        By parameter name (``radius``, ``radius_pd``, ``volfraction``), Å-based units.
    fix, free : iterable of str
        Parameters held at their start; parameters held by default but refined (``sld``).
    auto_start : bool
        Find the starting size on a grid (module docstring).
    progress : callable, optional
        Called with a line per stage.

    Returns
    -------
    SaxsFit

    Raises
    ------
    SwaxsInputError
        Not an I(Q), an unknown model, distribution, structure factor, parameter or resolution;
        bad bounds or starts; too few points.
    """
    if not isinstance(measurement, Measurement) or measurement.kind != "iq":
        raise SwaxsInputError(f"data: got {getattr(measurement, 'kind', type(measurement).__name__)!r}; "
                              "expected an I(Q) measurement")
    name = model_name(model, structure_factor)
    sizes = size_parameters(name)
    if polydispersity:
        sampling = pd_sampling(polydispersity)
        chosen = tuple(pd_parameters) if pd_parameters else sizes[:1]
        if not chosen:
            raise SwaxsInputError(f"--polydispersity: {name} has no polydisperse size; expected a model with one "
                                  "(sphere, cylinder, ...) or no --polydispersity")
    else:
        if pd_parameters:
            raise SwaxsInputError("--pd-parameters: given without --polydispersity; expected a distribution too")
        chosen = ()
    if effective_radius == "free" and "@" not in name:
        raise SwaxsInputError("--effective-radius free: needs --structure-factor; expected a product model")
    spec = saxs_spec(name, polydisperse=chosen, effective_radius=effective_radius)
    start, bounds = dict(start or {}), dict(bounds or {})
    fixed = check_fix("fix", fix, spec.table)
    freed = check_fix("free", free, spec.table)

    window = fit_window(measurement, x_min, x_max, weighting=weighting, n_parameters=2)
    inside = window.mask
    q, y, dy = measurement.x[inside], measurement.values[inside], window.dy[inside]
    mode = resolution
    if mode == "auto":
        mode = ("dq" if measurement.x_resolution is not None else "dq_over_q" if dq_over_q is not None
                else "slit" if slit_length is not None else "none")
    dq = None if measurement.x_resolution is None else np.asarray(measurement.x_resolution)[inside]
    res = resolution_for(q, mode, dq=dq, dq_over_q=dq_over_q, slit_length=slit_length)
    pd = {p: (polydispersity, *sampling) for p in chosen}
    evaluator = SasEvaluator(name, q, res, pd, effective_radius)

    profile = Profile()
    profile.setObservedProfile(q, y, dy)
    generator = SasGenerator("P", spec, evaluator)
    contribution = FitContribution("saxs")
    contribution.addProfileGenerator(generator)
    contribution.setProfile(profile, xname="q")
    contribution.setEquation("scale * P + background")
    recipe = FitRecipe("swaxs_saxs")
    recipe.fithooks[0].verbose = 0
    recipe.addContribution(contribution)

    members = [(p.name, p.name, getattr(contribution, p.name) if p.name in spec.linear else getattr(generator, p.name),
                p.start, (p.low, p.high)) for p in spec.parameters]
    bases = {p.name: p.name for p in spec.parameters}
    refined = refined_names(bases, spec.table, fixed, freed)
    # the start grid only ranks sizes: a distribution sampled 5 times more coarsely is enough for it
    coarse = {k: (kind, max(7, n // 5), nsigma) for k, (kind, n, nsigma) in pd.items()}
    grid_evaluator = SasEvaluator(name, q, res, coarse, effective_radius) if coarse else evaluator
    grid = start_grid(spec, grid_evaluator, q, y, dy, start, bounds, refined) if auto_start else []
    auto = dict(grid[0][1]) if grid else {}
    bases = add_table_variables(recipe, members, {**auto, **start}, bounds)
    settings: dict[str, Any] = {
        "model": name, "form_factor": name.split("@")[0], "structure_factor": structure_factor or "",
        "effective_radius": effective_radius if "@" in name else "",
        "polydispersity": polydispersity or "", "pd_parameters": list(chosen),
        "pd_n": sampling[0] if chosen else 0, "pd_nsigma": sampling[1] if chosen else 0.0,
        "resolution": mode, "dq_over_q": dq_over_q, "slit_length_inv_angstrom": slit_length,
        "source": measurement.source, "x_unit_in_file": measurement.x_unit, "x_min": window.x_min,
        "x_max": window.x_max, "weighting": window.weighting, "fixed": sorted(fixed), "freed": sorted(freed),
        "auto_start": {k: round(v, 6) for k, v in auto.items()}, "engine": "srfit+scipy least_squares",
        **{k: v for k, v in evaluator.settings.items() if not k.endswith(("_pd_type", "_pd_n", "_pd_nsigma"))},
    }
    if window.n_excluded:
        settings["n_excluded"] = window.n_excluded
    plan = stage_plan(bases, refined, spec.stages)

    def restarts(best: dict[str, float]) -> list[tuple[str, dict[str, float]]]:
        chi2_reduced = float(np.sum(np.square(recipe.residual()))) / max(len(q) - len(refined), 1)
        if window.weighting == "sigma" and chi2_reduced <= GOOD_CHI2_REDUCED:
            return []  # the staged fit explains the data within their σ: no other minimum can do better
        return [(label, {**best, **{k: v for k, v in values.items() if k in best}})
                for label, values in grid[1:1 + N_RESTARTS]]

    outcome = optimise(recipe, plan, tolerances=1e-8, max_nfev=400, progress=progress,
                       restarts=restarts if len(grid) > 1 else None)
    at_bounds = hold_at_bounds(recipe, refined)
    units = {p.name: p.unit for p in spec.parameters}
    result = collect(recipe, "iq", name, settings, outcome, at_bounds=at_bounds, units=units)
    return SaxsFit(result, _correlations(recipe), np.asarray(dy, dtype=float))


def expected_seconds(measurement: Measurement, model: str = "sphere", *, polydispersity: str | None = None,
                     structure_factor: str | None = None, n_evaluations: int = 400) -> float:
    """A rough duration of :func:`fit_saxs` (s): one model evaluation on the data's points, timed, times
    ``n_evaluations`` (a grid of up to 128 and a refinement of a few hundred); pages use it to choose a
    background job for slow models (oriented three-axis shapes with a size distribution).

    Raises
    ------
    SwaxsInputError
        An unknown model or distribution.
    """
    import time

    name = model_name(model, structure_factor)
    pd = {}
    if polydispersity:
        pd = {p: (polydispersity, *pd_sampling(polydispersity)) for p in size_parameters(name)[:1]}
    q = np.asarray(measurement.x, dtype=float)
    evaluator = SasEvaluator(name, q, resolution_for(q, "none"), pd)
    values = {f"{p}_pd": 0.1 for p in pd}
    evaluator(values)  # the kernel's first call loads it
    started = time.perf_counter()
    evaluator(values)
    return (time.perf_counter() - started) * n_evaluations


@register_task("saxs-fit")
def saxs_fit_task(store, args: Mapping[str, Any], report: Callable[..., None]) -> SaxsFit:
    """The ``saxs-fit`` job (:mod:`swaxs_lib.jobs`): :func:`fit_saxs` of a stored I(Q).

    ``args``: ``dataset_id``, ``model`` and the keyword arguments of :func:`fit_saxs`
    under ``options`` (JSON: bounds as [low, high] lists).
    """
    measurement = store.get_dataset(args["dataset_id"]).measurement
    options = dict(args.get("options") or {})
    if options.get("bounds"):
        options["bounds"] = {k: tuple(v) for k, v in options["bounds"].items()}
    report(0, 2, "fitting")
    lines: list[str] = []

    def progress(line: str) -> None:
        lines.append(line)
        report(min(len(lines), 1), 2, line)

    fit = fit_saxs(measurement, args.get("model", "sphere"), progress=progress, **options)
    report(2, 2, f"done: χ²_red {fit.chi2_reduced:.4g}", force=True)
    return fit


def _correlations(recipe: FitRecipe) -> tuple[tuple[str, str, float], ...]:
    """Correlation coefficient of every pair of the recipe's free variables (from srfit's covariance)."""
    names = recipe.getNames()
    if len(names) < 2:
        return ()
    cov = np.asarray(FitResults(recipe).cov, dtype=float)
    d = np.sqrt(np.abs(np.diag(cov)))
    out = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            r = cov[i, j] / (d[i] * d[j]) if d[i] > 0 and d[j] > 0 else math.nan
            out.append((names[i], names[j], float(r)))
    return tuple(out)


__all__ = ["CORRELATION_LIMIT", "FLAG_CORRELATED", "GRID_POINTS", "N_RESTARTS", "RESOLUTIONS", "SasEvaluator",
           "SaxsFit", "expected_seconds", "fit_saxs", "model_intensity", "model_name", "resolution_for",
           "saxs_fit_task"]
