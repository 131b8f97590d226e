"""Refine a discrete cluster against measured G(r) or I(Q) with a diffpy.srfit FitRecipe.

The models, their formulas and parameter tables are
:mod:`swaxs_lib.models.cluster_gr` (G(r) in real space, equation ``scale * G``)
and :mod:`swaxs_lib.models.cluster_iq` (Debye I(Q), S(Q), F(Q), equation
``scale * I + c0 (+ c1 * q)``); diffpy.srreal cannot be installed here, so the
recipes' profile generators are ours.  The refinement runs in the model's
stages, as a PDF modeller would: scale and zoom first, then the
displacements, then delta2 (and Q damping unless it is fixed from a
calibrant), through :mod:`swaxs_lib.fit.engine`.  With every parameter but
scale (and background) fixed, the fit is exact linear least squares, the
Compare page's.

Examples
--------
>>> import numpy as np
>>> from swaxs_lib.io import Measurement
>>> from swaxs_lib.structures import icosahedron
>>> from swaxs_lib.refine.realspace import realspace_pdf, realspace_setup
>>> from swaxs_lib.scattering import pair_histogram
>>> atoms = icosahedron("Au", 3).atoms
>>> r = np.arange(1.0, 15.0, 0.02)
>>> g = 0.8 * realspace_pdf(realspace_setup(pair_histogram(atoms, 0.005), r, 0.5, 20.0),
...                         u_iso_angstrom2=0.008, zoom=1.01)
>>> data = Measurement("gr", r, g, None, "synthetic.gr", "angstrom")
>>> fit = refine_cluster(data, atoms, q_min_inv_angstrom=0.5, q_max_inv_angstrom=20.0, fix=("delta2", "qdamp"))
>>> round(fit.value("zoom"), 4), round(fit.value("scale"), 3), fit.rw < 1e-4
(1.01, 0.8, True)
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
from ase import Atoms
from diffpy.srfit.fitbase import FitContribution, FitRecipe, Profile

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.fit.engine import (
    add_table_variables,
    check_fix,
    collect,
    hold_at_bounds,
    least_squares_scale,
    linear_fit,
    optimise,
    refined_names,
    stage_plan,
)
from swaxs_lib.fit.result import RefinementResult
from swaxs_lib.fit.window import fit_window, transform_q_range
from swaxs_lib.io.measurement import Measurement
from swaxs_lib.models import ModelSpec, get_model
from swaxs_lib.models import cluster_gr, cluster_iq
from swaxs_lib.scattering import PairHistogram

BACKGROUND_TERMS = {"none": (), "constant": ("c0",), "linear": ("c0", "c1")}


def cluster_recipe(
    measurement: Measurement,
    atoms: Atoms,
    *,
    x_min: float | None = None,
    x_max: float | None = None,
    q_min_inv_angstrom: float | None = None,
    q_max_inv_angstrom: float | None = None,
    background: str = "constant",
    histogram: PairHistogram | None = None,
    start: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
) -> tuple[FitRecipe, dict[str, Any]]:
    """Build the FitRecipe of a cluster against a measurement (nothing is refined yet).

    Parameters
    ----------
    measurement : Measurement
        G(r) (real-space model) or I(Q), S(Q), F(Q) (Debye model).
    atoms : ase.Atoms
    x_min, x_max : float, optional
        Fit range (Å or 1/Å); defaults: :mod:`swaxs_lib.fit.window`.
    q_min_inv_angstrom, q_max_inv_angstrom : float, optional
        G(r) only: the experiment's Q range (default: the file's header, else 0.5–25 1/Å).
    background : {"none", "constant", "linear"}
        Q-space only.
    histogram : PairHistogram, optional
        Of ``atoms``, to reuse between fits (the model's ``histogram_for``).
    start : mapping, optional
        Starting values by the model table's names (``scale``, ``zoom``,
        ``u_<El>`` or ``u`` for all, ...).
    bounds : mapping of name to (low, high), optional
        Bounds by the same names, replacing the table's.

    Returns
    -------
    recipe : diffpy.srfit.fitbase.FitRecipe
        Variables tagged by their base name (``u``/``b`` for the per-element ones).
    settings : dict
        What the recipe was built with (ranges, weighting, the variables' base
        names under ``"bases"``), JSON-friendly.

    Raises
    ------
    SwaxsInputError
        A bad range, background, starting value or bounds, or an unknown name.
    """
    if not isinstance(measurement, Measurement):
        raise SwaxsInputError(f"measurement: got {type(measurement).__name__}; expected a Measurement")
    if len(atoms) < 2:
        raise SwaxsInputError(f"atoms: got {len(atoms)}; expected a cluster of at least two atoms")
    spec = get_model("cluster", measurement.kind)
    is_pdf = measurement.kind == "gr"
    settings: dict[str, Any] = {"kind": measurement.kind, "source": measurement.source, "n_atoms": len(atoms),
                                "model": spec.name}
    if is_pdf:
        q_min, q_max = transform_q_range(measurement, q_min_inv_angstrom, q_max_inv_angstrom)
        settings.update(q_min_inv_angstrom=q_min, q_max_inv_angstrom=q_max)
    else:
        if background not in BACKGROUND_TERMS:
            raise SwaxsInputError(f"background: got {background!r}; expected none, constant or linear")
        settings["background"] = background
    window = fit_window(measurement, x_min, x_max, n_parameters=len(spec.parameters))
    x, y = np.asarray(measurement.x, float), np.asarray(measurement.values, float)
    inside = window.mask
    settings.update(x_min=window.x_min, x_max=window.x_max, weighting=window.weighting)
    if window.n_excluded:
        settings["n_excluded"] = window.n_excluded

    profile = Profile()
    profile.setObservedProfile(x[inside], y[inside], window.dy[inside])
    contribution = FitContribution("cluster")
    if is_pdf:
        if histogram is None:
            histogram = cluster_gr.histogram_for(atoms, q_max)
        generator = cluster_gr.ClusterPDFGenerator("G", histogram, q_min, q_max)
        # the particle's small-angle scattering is taken out, as PDF extraction took it out of the data
        settings.update(small_angle="subtract", atomic_volume_angstrom3=round(histogram.atomic_volume_angstrom3, 4))
        contribution.addProfileGenerator(generator)
        contribution.setProfile(profile, xname="r")
        contribution.setEquation("scale * G")
    else:
        if histogram is None:
            histogram = cluster_iq.histogram_for(atoms, float(x[inside].max()))
        generator = cluster_iq.ClusterIQGenerator("I", atoms, histogram, measurement.kind)
        contribution.addProfileGenerator(generator)
        contribution.setProfile(profile, xname="q")
        contribution.setEquation({"none": "scale * I", "constant": "scale * I + c0",
                                  "linear": "scale * I + c0 + c1 * q"}[background])
    recipe = FitRecipe("swaxs")
    recipe.fithooks[0].verbose = 0
    recipe.addContribution(contribution)
    start = dict(start or {})
    members = _members(spec, generator, contribution, histogram.elements, background if not is_pdf else "none")
    scale_start = None if "scale" in start else least_squares_scale(generator(profile.x), profile.y)
    bases = add_table_variables(recipe, members, start, bounds, scale_start=scale_start)
    settings["elements"] = list(histogram.elements)
    settings["histogram_bin_angstrom"] = histogram.bin_width_angstrom
    settings["bases"] = bases
    return recipe, settings


def _members(spec: ModelSpec, generator, contribution, elements: Sequence[str], background: str) -> list:
    """(name, base, srfit parameter, default start, bounds) for every row of the model's table."""
    out = []
    for row in spec.parameters:
        if row.name in ("c0", "c1") and row.name not in BACKGROUND_TERMS[background]:
            continue
        if row.name in spec.per_element:
            for element in elements:
                out.append((f"{row.name}_{element}", row.name, getattr(generator, f"{row.name}_{element}"),
                            row.start, (row.low, row.high)))
            continue
        target = getattr(contribution, row.name) if row.name in spec.linear else getattr(generator, row.name)
        out.append((row.name, row.name, target, row.start, (row.low, row.high)))
    return out


def refine_cluster(
    measurement: Measurement,
    atoms: Atoms,
    *,
    x_min: float | None = None,
    x_max: float | None = None,
    q_min_inv_angstrom: float | None = None,
    q_max_inv_angstrom: float | None = None,
    background: str = "constant",
    fix: Iterable[str] = (),
    start: Mapping[str, float] | None = None,
    histogram: PairHistogram | None = None,
    stages: Sequence[Sequence[str]] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    progress: Callable[[str], None] | None = None,
) -> RefinementResult:
    """Refine a cluster against G(r) or I(Q): build the recipe, optimise in stages, collect.

    Parameters
    ----------
    measurement, atoms, x_min, x_max, q_min_inv_angstrom, q_max_inv_angstrom, background, histogram, start, bounds
        As :func:`cluster_recipe`.
    fix : iterable of str
        Parameters held at their starting value (``qdamp`` from a calibrant,
        ``delta2``, ``zoom``, ``u``...), by name or base name.
    stages : sequence of sequences of str, optional
        Base names freed per stage; default the model's.
    progress : callable, optional
        Called with a line after each stage.

    Returns
    -------
    RefinementResult
        ``values`` holds every parameter (``expansion`` = zoom - 1 too).

    Raises
    ------
    SwaxsInputError
        What :func:`cluster_recipe` rejects, or an unknown name in ``fix``.
    """
    kind = getattr(measurement, "kind", None)
    spec = get_model("cluster", kind) if kind in ("gr", "iq", "sq", "fq") else get_model("cluster", "gr")
    recipe, settings = cluster_recipe(
        measurement, atoms, x_min=x_min, x_max=x_max, q_min_inv_angstrom=q_min_inv_angstrom,
        q_max_inv_angstrom=q_max_inv_angstrom, background=background, histogram=histogram, start=start,
        bounds=bounds,
    )
    bases = settings.pop("bases")
    fixed = check_fix("fix", fix, [*spec.table, *bases])
    refined = refined_names(bases, spec.table, fixed)
    units = {p.name: p.unit for p in spec.parameters}
    settings["fixed"] = sorted(fixed)
    if set(refined) <= set(spec.linear):
        return _linear(measurement, recipe, settings, spec, bases, refined, units)
    plan = stage_plan(bases, refined, stages or spec.stages)
    outcome = optimise(recipe, plan, tolerances=1e-8, max_nfev=400, progress=progress)
    at_bounds = hold_at_bounds(recipe, refined)
    return collect(recipe, measurement.kind, "cluster", settings, outcome, at_bounds=at_bounds, units=units)


def _linear(measurement: Measurement, recipe: FitRecipe, settings: dict[str, Any], spec: ModelSpec,
            bases: Mapping[str, str], refined: Sequence[str], units: Mapping[str, str]) -> RefinementResult:
    """Only scale (and background) free: exact weighted linear least squares on the model curve (the Compare path)."""
    contribution = next(iter(recipe._contributions.values()))
    generator = next(iter(contribution._generators.values()))
    x = np.asarray(measurement.x, dtype=float)
    model = generator(x)
    held = {n: float(recipe.get(n).getValue()) for n in bases if n not in spec.linear}
    terms = [n for n in ("c0", "c1") if n in refined]
    background = {(): "none", ("c0",): "constant", ("c0", "c1"): "linear"}.get(tuple(terms))
    if background is None:
        raise SwaxsInputError("fix: c0 held while c1 is refined; expected c1 held too (or neither)")
    for name in ("c0", "c1"):
        if name in bases and name not in refined:
            held[name] = float(recipe.get(name).getValue())
            if held[name] != 0.0:
                raise SwaxsInputError(f"fix {name}: held at {held[name]:g}; only 0 is possible with the exact "
                                      "linear fit (free it, or set the start to 0)")
    result, _ = linear_fit(measurement.kind, "cluster", x, measurement.values, model, measurement.uncertainties,
                           held, units, background=background, x_min=settings["x_min"], x_max=settings["x_max"],
                           settings=settings)
    return result


__all__ = ["cluster_recipe", "refine_cluster"]
