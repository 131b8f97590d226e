"""The fit engine: a model's parameter table onto a diffpy.srfit recipe, staged refinement, the frozen result.

Every refinement in swaxs (``refine`` and the Refine page, ``sweep``,
relaxation refits, crystal and attenuated-crystal models) goes through here:

1. :func:`add_table_variables` turns a model's parameter table
   (:mod:`swaxs_lib.models`) into recipe variables: start values (the
   user's, else the table's, clipped into bounds the user narrowed; the scale
   from a linear least-squares fit), bounds (the user's by name or base name,
   else the table's), tags by base name (``u`` for ``u_Au``).  Unknown names
   and starts outside their bounds are refused, naming the parameter.
2. :func:`optimise` frees the parameters stage by stage (a bounded
   trust-region ``scipy.optimize.least_squares`` on ``FitRecipe.residual``,
   finite-difference Jacobian), optionally restarting the last stage from
   alternative starts and keeping the lowest χ².
3. :func:`collect` holds what stopped at a bound (no uncertainty there) and
   builds the :class:`~swaxs_lib.fit.result.RefinementResult`: R_w, χ²_red,
   every parameter with its standard uncertainty (srfit's ``FitResults``; times
   sqrt(χ²_red) when the data carry no σ or their σ do not explain the misfit),
   curves and settings.

When only the linear parameters (scale, background) are free, :func:`linear_fit`
solves the weighted linear least squares exactly
(:func:`~swaxs_lib.fit.linear.fit_scale_background`) and returns the same result
type: this is what the Compare page and ``compare`` use, and what ``refine``
does with every other parameter fixed, so the three give the same R_w.

Data windows, weights and defaults: :mod:`swaxs_lib.fit.window`.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
from diffpy.srfit.fitbase import FitRecipe, FitResults
from scipy.optimize import least_squares

from swaxs_lib.fit.result import RefinedValue, RefinementResult, rw_of
from swaxs_lib.models.parameters import check_names, check_start, clip_default, resolve_bounds


def least_squares_scale(model: np.ndarray, y: np.ndarray) -> float:
    """The scale minimising |y - s model|² (1 if it is not positive): the first stage starts near the answer."""
    s = float(np.dot(model, y) / max(np.dot(model, model), 1e-300))
    return s if math.isfinite(s) and s > 0 else 1.0


def add_table_variables(recipe: FitRecipe, members: Sequence[tuple[str, str, Any, float | None, tuple[float, float]]],
                        start: Mapping[str, float] | None, bounds: Mapping[str, tuple[float, float]] | None, *,
                        scale_start: float | None = None, extra_start: Iterable[str] = ()) -> dict[str, str]:
    """Add one recipe variable per member, with its start and bounds.

    Parameters
    ----------
    recipe : FitRecipe
    members : sequence of (name, base, target, default start, (low, high))
        ``target`` is the srfit Parameter; a default start of None means the
        target's current value (taken from the structure).
    start, bounds : mapping, optional
        The user's, by name or base name.
    scale_start : float, optional
        Start of ``scale`` when the user gives none (clipped into its bounds).
    extra_start : iterable of str
        Names ``start`` may also hold that are settings, not variables (``rcut``).

    Returns
    -------
    dict
        Variable name -> base name.

    Raises
    ------
    SwaxsInputError
        An unknown name in ``start`` or ``bounds``, inverted bounds, or a start outside its bounds.
    """
    start, bounds = dict(start or {}), dict(bounds or {})
    names = [m[0] for m in members] + list(dict.fromkeys(m[1] for m in members))
    check_names("start", list(start), names + list(extra_start))
    check_names("bounds", list(bounds), names)
    bases: dict[str, str] = {}
    for name, base, target, default, default_bounds in members:
        low, high = resolve_bounds(name, base, default_bounds, bounds)
        if name in start or base in start:
            value = start.get(name, start.get(base))
        elif name == "scale" and scale_start is not None:
            value = clip_default(scale_start, low, high)
        else:
            value = clip_default(target.getValue() if default is None else default, low, high)
        var = recipe.addVar(target, check_start(name, value, low, high), tags=list(dict.fromkeys([base, name])))
        var.boundRange(low if math.isfinite(low) else -np.inf, high if math.isfinite(high) else np.inf)
        bases[name] = base
    return bases


def refined_names(bases: Mapping[str, str], table: Mapping[str, Any], fixed: Iterable[str] = (),
                  freed: Iterable[str] = ()) -> list[str]:
    """Variables refined: the table's ``refined`` rows, plus ``freed``, minus ``fixed`` (names or base names)."""
    fixed, freed = set(fixed), set(freed)
    out = []
    for name, base in bases.items():
        row = table[base]
        on = (row.refined or name in freed or base in freed) and row.refinable
        if on and name not in fixed and base not in fixed:
            out.append(name)
    return out


def stage_plan(bases: Mapping[str, str], refined: Sequence[str], stages: Sequence[Sequence[str]]) -> list[list[str]]:
    """The variables freed per stage (empty stages and repeats dropped)."""
    plan = [[n for n in refined if bases[n] in set(stage)] for stage in stages]
    return [names for k, names in enumerate(plan) if names and (k == 0 or names != plan[k - 1])]


def _least_squares(recipe: FitRecipe, names: Sequence[str], max_nfev: int, tol: float
                   ) -> tuple[float, int, bool, str]:
    recipe.fix("all")
    recipe.free(*names)
    low, high = (np.asarray(b, dtype=float) for b in recipe.getBounds2())
    p0 = np.clip(np.asarray(recipe.getValues(), dtype=float), low, high)
    out = least_squares(recipe.residual, p0, bounds=(low, high), x_scale="jac", max_nfev=max_nfev,
                        xtol=tol, ftol=tol, gtol=tol)
    recipe.residual(out.x)  # leave the recipe at the optimum
    evaluations = int(out.nfev) + int(out.njev or 0) * len(names)
    return 2 * float(out.cost), evaluations, bool(out.success), str(out.message)


def values_of(recipe: FitRecipe) -> dict[str, float]:
    """Every variable's value (free or not)."""
    return {name: float(var.getValue()) for name, var in recipe._parameters.items()}


def set_values(recipe: FitRecipe, values: Mapping[str, float]) -> None:
    for name, value in values.items():
        recipe.get(name).setValue(float(value))


def optimise(recipe: FitRecipe, plan: Sequence[Sequence[str]], *, tolerances: Sequence[float] | float = 1e-8,
             max_nfev: int = 400, restarts: Callable[[dict[str, float]], list[tuple[str, dict[str, float]]]]
             | None = None, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Refine ``recipe`` stage by stage; optionally restart the last stage and keep the lowest χ².

    Parameters
    ----------
    recipe : FitRecipe
    plan : sequence of sequences of str
        Variable names freed per stage (:func:`stage_plan`).
    tolerances : float or sequence of float
        ``xtol = ftol = gtol`` of each stage (one value: all stages).
    max_nfev : int
        Residual evaluations allowed per stage and start.
    restarts : callable, optional
        Given the staged result's values, the alternative starts of the last
        stage as (label, values).
    progress : callable, optional
        Called with one line per stage and restart.

    Returns
    -------
    dict
        ``chi2``, ``evaluations``, ``converged``, ``message`` and ``starts``
        (every start of the last stage with its χ²).
    """
    tols = [tolerances] * len(plan) if isinstance(tolerances, (int, float)) else list(tolerances)
    total, converged, message, chi2 = 0, True, "", math.nan
    for k, names in enumerate(plan, 1):
        chi2, n_eval, converged, message = _least_squares(recipe, names, max_nfev, tols[k - 1])
        total += n_eval
        if progress is not None:
            progress(f"stage {k}/{len(plan)} ({', '.join(names)}): chi2 {chi2:.6g}, {n_eval} evaluations")
    starts = [{"start": "staged", "chi2": chi2}]
    if plan and restarts is not None:
        best = (chi2, values_of(recipe), converged, message)
        for label, values in restarts(best[1]):
            set_values(recipe, values)
            chi2_k, n_eval, ok, msg = _least_squares(recipe, plan[-1], max_nfev, tols[-1])
            total += n_eval
            starts.append({"start": label, "chi2": chi2_k})
            if progress is not None:
                progress(f"restart from {label}: chi2 {chi2_k:.6g}, {n_eval} evaluations")
            if chi2_k < best[0]:
                best = (chi2_k, values_of(recipe), ok, msg)
        chi2, values, converged, message = best
        set_values(recipe, values)
        recipe.fix("all")
        recipe.free(*plan[-1])
        recipe.residual(np.asarray(recipe.getValues(), dtype=float))  # the profile at the chosen minimum
    return {"chi2": chi2, "evaluations": total, "converged": converged, "message": message, "starts": starts}


def hold_at_bounds(recipe: FitRecipe, refined: Sequence[str]) -> list[str]:
    """Free the refined variables for the covariance, except those stopped at a bound (returned, held).

    A zero Jacobian column at a bound would make every uncertainty undefined.
    """
    at_bounds: list[str] = []
    recipe.fix("all")
    if not refined:
        return at_bounds
    recipe.free(*refined)
    low, high = (np.asarray(b, dtype=float) for b in recipe.getBounds2())
    values = np.asarray(recipe.getValues(), dtype=float)
    span = np.where(np.isfinite(high - low), high - low, np.maximum(np.abs(values), 1.0))
    for name, v, lo, hi, sp in zip(recipe.getNames(), values, low, high, span):
        if v - lo <= 1e-9 * sp or hi - v <= 1e-9 * sp:
            recipe.fix(name)
            at_bounds.append(name)
    return at_bounds


def uncertainty_factor(weighting: str, chi2_reduced: float) -> float:
    """What Jacobian uncertainties are multiplied by: sqrt(χ²_red) without σ, or when σ do not explain the misfit.

    Without measured σ the weights are relative; with σ that do not explain
    the misfit (χ²_red > 1: PDFgetX2's dG are often 100 times too small) the
    same, as Rietveld programs do, so that an uncertainty is never smaller than
    the misfit allows (PDFgui does not scale).
    """
    return math.sqrt(chi2_reduced) if weighting != "sigma" or chi2_reduced > 1.0 else 1.0


def collect(recipe: FitRecipe, kind: str, model: str, settings: dict[str, Any], outcome: Mapping[str, Any], *,
            at_bounds: Sequence[str] = (), units: Mapping[str, str]) -> RefinementResult:
    """A :class:`RefinementResult` from a refined recipe (its free variables get uncertainties).

    Variables named in ``at_bounds`` are reported as refined, with no
    uncertainty.  ``units`` maps a name or base name to its unit.
    """
    results = FitResults(recipe)
    contribution = next(iter(recipe._contributions.values()))
    profile = contribution.profile
    x, y, dy, fitted = (np.array(a, dtype=float) for a in (profile.x, profile.y, profile.dy, profile.ycalc))
    weights = 1.0 / dy**2
    n_free = len(results.varnames)
    chi2 = float(np.sum(weights * (y - fitted) ** 2))
    reduced = chi2 / max(len(x) - n_free, 1)
    factor = uncertainty_factor(settings["weighting"], reduced)

    def unit(name: str) -> str:
        return units.get(name, units.get(name.split("_")[0], ""))

    values, seen = [], set()
    for name, value, sigma in zip(results.varnames, results.varvals, results.varunc):
        values.append(RefinedValue(name, float(value), float(sigma) * factor, unit(name)))
        seen.add(name)
    for name, value in zip(results.fixednames, results.fixedvals):
        if name not in seen:
            values.append(RefinedValue(name, float(value), None, unit(name), refined=name in at_bounds))
    zoom = next((v for v in values if v.name == "zoom"), None)
    if zoom is not None:
        values.append(RefinedValue("expansion", zoom.value - 1.0, zoom.uncertainty, "", zoom.refined))
    return RefinementResult(
        kind=kind, model=model, rw=rw_of(y, fitted, weights), chi2_reduced=reduced, values=tuple(values),
        x=x, data=y, fitted=fitted, x_min=float(settings["x_min"]), x_max=float(settings["x_max"]),
        weighting=settings["weighting"], n_evaluations=int(outcome["evaluations"]),
        converged=bool(outcome["converged"]), message=str(outcome["message"]),
        settings=tuple(sorted(settings.items())),
    )


def linear_fit(kind: str, model_name: str, x: np.ndarray, y: np.ndarray, model: np.ndarray,
               sigma: np.ndarray | None, held: Mapping[str, float], units: Mapping[str, str], *,
               background: str = "none", weighting: str = "auto", x_min: float | None = None,
               x_max: float | None = None, settings: Mapping[str, Any] | None = None, source: str = "data"):
    """Scale (and background) by exact weighted linear least squares, as a :class:`RefinementResult`.

    Parameters
    ----------
    kind, model_name : str
    x, y, model, sigma : numpy.ndarray
        The whole measured curve and the unscaled model on its points.
    held : mapping
        The model's other parameters and the values they were held at.
    units : mapping
        Name or base name -> unit.
    background : {"none", "constant", "linear"}
        ``c0`` (and ``c1`` per unit of x) fitted with the scale.
    weighting, x_min, x_max
        As :func:`swaxs_lib.fit.window.fit_window`.
    settings : mapping, optional
        Recorded in the result.
    source : str
        The data's file or dataset name, for messages.

    Returns
    -------
    (RefinementResult, ScaleFit)
        The result over the fit range, and the linear fit over every point
        (``fitted`` and ``in_fit`` on the whole curve, for plots).
    """
    from swaxs_lib.fit.linear import fit_scale_background

    fit = fit_scale_background(x, y, model, sigma=sigma, background=background, weighting=weighting, kind=kind,
                               x_min=x_min, x_max=x_max, source=source)
    names = ["scale", "c0", "c1"][: 1 + len(fit.background)]
    values = [RefinedValue(n, v, s, units.get(n, "")) for n, v, s in
              zip(names, (fit.scale, *fit.background), fit.uncertainties)]
    for name, value in held.items():
        values.append(RefinedValue(name, float(value), None, units.get(name, units.get(name.split("_")[0], ""))))
    if "zoom" in held:
        values.append(RefinedValue("expansion", float(held["zoom"]) - 1.0, None, "", False))
    inside = fit.in_fit
    result = RefinementResult(
        kind=kind, model=model_name, rw=fit.rw, chi2_reduced=fit.chi2 / max(fit.n_points - len(names), 1), values=tuple(values),
        x=np.asarray(x, float)[inside], data=np.asarray(y, float)[inside], fitted=fit.fitted[inside],
        x_min=fit.x_min, x_max=fit.x_max, weighting=fit.weighting, n_evaluations=1, converged=True,
        message="linear least squares (exact)",
        settings=tuple(sorted({**dict(settings or {}), "x_min": fit.x_min, "x_max": fit.x_max,
                               "weighting": fit.weighting, "background": background,
                               "n_excluded": fit.n_excluded, "engine": "linear"}.items())),
    )
    return result, fit


def check_fix(what: str, names: Iterable[str], known: Iterable[str]) -> set[str]:
    """``names`` as a set, after checking each against ``known``."""
    names = {names} if isinstance(names, str) else set(names)
    check_names(what, sorted(names), known)
    return names


__all__ = ["add_table_variables", "check_fix", "collect", "hold_at_bounds", "least_squares_scale", "linear_fit",
           "optimise", "refined_names", "set_values", "stage_plan", "uncertainty_factor", "values_of"]
