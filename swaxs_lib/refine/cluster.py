"""Refine a discrete cluster against measured G(r) or I(Q) with a diffpy.srfit FitRecipe.

diffpy.srreal (srfit's own PDF calculators) cannot be installed here, so the
recipes' profile generators are ours:

:class:`ClusterPDFGenerator`
    G(r) in real space with U_iso per element, correlated motion delta2, Q
    damping and zoom (:mod:`swaxs_lib.refine.realspace`), over the
    experiment's Q_min..Q_max, without the particle's small-angle scattering
    (which a measured G(r) does not hold: :mod:`swaxs_lib.scattering.envelope`).
    Equation ``scale * G``.
:class:`ClusterIQGenerator`
    The Debye I(Q) (or S(Q), F(Q)) with B per element and zoom
    (:func:`swaxs_lib.scattering.debye_intensity` on a cached pair histogram).
    Equation ``scale * I + c0 (+ c1 * q)``.

The refinement runs in stages, as a PDF modeller would: scale and zoom
first, then the displacements, then delta2 (and Q damping unless it is fixed
from a calibrant).  Each stage is a bounded ``scipy.optimize.least_squares``
on ``FitRecipe.residual``; uncertainties come from srfit's ``FitResults``.

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

import math
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
from ase import Atoms
from diffpy.srfit.fitbase import (
    FitContribution,
    FitRecipe,
    FitResults,
    Profile,
    ProfileGenerator,
)
from scipy.optimize import least_squares

from swaxs_lib.compare import DEFAULT_PDF_Q_RANGE, pdf_q_range
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.measurement import Measurement
from swaxs_lib.refine.parameters import check_names, check_start, clip_default, resolve_bounds
from swaxs_lib.refine.realspace import realspace_pdf, realspace_setup
from swaxs_lib.refine.results import RefinedValue, RefinementResult, rw_of
from swaxs_lib.scattering import (
    PairHistogram,
    debye_intensity,
    fast_bin_width,
    pair_histogram,
)

#: Starting values and bounds of the cluster models' parameters (unit, start, low, high).
PDF_PARAMETERS: dict[str, tuple[str, float, float, float]] = {
    "scale": ("", 1.0, 0.0, math.inf),
    "zoom": ("", 1.0, 0.9, 1.1),
    "u": ("Å²", 0.005, 0.0, 0.1),
    "delta2": ("Å²", 0.0, 0.0, 10.0),
    "qdamp": ("1/Å", 0.0, 0.0, 0.2),
}
IQ_PARAMETERS: dict[str, tuple[str, float, float, float]] = {
    "scale": ("", 1.0, 0.0, math.inf),
    "zoom": ("", 1.0, 0.9, 1.1),
    "b": ("Å²", 0.5, 0.0, 8.0),
    "c0": ("", 0.0, -math.inf, math.inf),
    "c1": ("", 0.0, -math.inf, math.inf),
}
#: Fit parameters freed in each stage (``u``/``b`` stand for every element's).
PDF_STAGES = (("scale", "zoom"), ("scale", "zoom", "u"), ("scale", "zoom", "u", "delta2", "qdamp"))
IQ_STAGES = (("scale", "c0", "c1"), ("scale", "c0", "c1", "zoom"), ("scale", "c0", "c1", "zoom", "b"))


class ClusterPDFGenerator(ProfileGenerator):
    """srfit profile generator: G(r) of a fixed set of atoms (real space, see :mod:`.realspace`).

    Parameters (srfit ``Parameter`` objects): ``zoom``, ``delta2`` (Å²),
    ``qdamp`` (1/Å) and ``u_<El>`` (Å²) for every element.
    """

    def __init__(self, name: str, histogram: PairHistogram, q_min: float, q_max: float) -> None:
        ProfileGenerator.__init__(self, name)
        self.histogram = histogram
        self.q_range = (float(q_min), float(q_max))
        self._setup = None
        self.newParameter("zoom", 1.0)
        self.newParameter("delta2", 0.0)
        self.newParameter("qdamp", 0.0)
        for element in histogram.elements:
            self.newParameter(f"u_{element}", 0.005)

    def __call__(self, r: np.ndarray) -> np.ndarray:
        if self._setup is None or not np.array_equal(self._setup.r_angstrom, r):
            self._setup = realspace_setup(self.histogram, r, *self.q_range, max_zoom=1.1)
        u = {e: max(float(getattr(self, f"u_{e}").getValue()), 0.0) for e in self.histogram.elements}
        return realspace_pdf(self._setup, u_iso_angstrom2=u, delta2_angstrom2=max(self.delta2.getValue(), 0.0),
                             q_damp_inv_angstrom=max(self.qdamp.getValue(), 0.0), zoom=self.zoom.getValue())


class ClusterIQGenerator(ProfileGenerator):
    """srfit profile generator: Debye I(Q), S(Q) or F(Q) of a fixed set of atoms.

    Parameters: ``zoom`` and ``b_<El>`` (Å²) for every element.
    """

    def __init__(self, name: str, atoms: Atoms, histogram: PairHistogram, kind: str) -> None:
        ProfileGenerator.__init__(self, name)
        self.atoms, self.histogram, self.kind = atoms, histogram, kind
        self.newParameter("zoom", 1.0)
        for element in histogram.elements:
            self.newParameter(f"b_{element}", 0.5)

    def __call__(self, q: np.ndarray) -> np.ndarray:
        b = {e: max(float(getattr(self, f"b_{e}").getValue()), 0.0) for e in self.histogram.elements}
        curve = debye_intensity(self.atoms, q, b_iso_angstrom2=b, histogram=self.histogram,
                                scale=self.zoom.getValue())
        return curve.values(self.kind)


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
        Fit range (Å or 1/Å); G(r) defaults to 1.5 Å .. min(r_max, 30 Å + cluster size).
    q_min_inv_angstrom, q_max_inv_angstrom : float, optional
        G(r) only: the experiment's Q range (default: the file's header, else 0.5–25 1/Å).
    background : {"none", "constant", "linear"}
        Q-space only.
    histogram : PairHistogram, optional
        Of ``atoms``, to reuse between fits.
    start : mapping, optional
        Starting values by fit name: ``scale``, ``zoom``, ``delta2``,
        ``qdamp``, ``u_<El>`` (or ``u`` for all), ``b_<El>`` (or ``b``),
        ``c0``, ``c1``.
    bounds : mapping of name to (low, high), optional
        Bounds by the same names, replacing the table's (:data:`PDF_PARAMETERS`,
        :data:`IQ_PARAMETERS`).

    Returns
    -------
    recipe : diffpy.srfit.fitbase.FitRecipe
        Variables tagged by their base name (``u``/``b`` for the per-element ones).
    settings : dict
        What the recipe was built with (ranges, weighting), JSON-friendly.

    Raises
    ------
    SwaxsInputError
        A bad range, background, starting value or bounds, or an unknown name.
    """
    if not isinstance(measurement, Measurement):
        raise SwaxsInputError(f"measurement: got {type(measurement).__name__}; expected a Measurement")
    if len(atoms) < 2:
        raise SwaxsInputError(f"atoms: got {len(atoms)}; expected a cluster of at least two atoms")
    start = dict(start or {})
    x, y = np.asarray(measurement.x, float), np.asarray(measurement.values, float)
    sigma = measurement.uncertainties
    is_pdf = measurement.kind == "gr"
    settings: dict[str, Any] = {"kind": measurement.kind, "source": measurement.source, "n_atoms": len(atoms)}
    if is_pdf:
        header = pdf_q_range(measurement) or DEFAULT_PDF_Q_RANGE
        q_min = float(header[0] if q_min_inv_angstrom is None else q_min_inv_angstrom)
        q_max = float(header[1] if q_max_inv_angstrom is None else q_max_inv_angstrom)
        if not (0 <= q_min < q_max <= 100):
            raise SwaxsInputError(f"Q range: got {q_min:g}..{q_max:g} 1/Å; expected 0 <= Q_min < Q_max <= 100")
        settings.update(q_min_inv_angstrom=q_min, q_max_inv_angstrom=q_max)
    else:
        if background not in ("none", "constant", "linear"):
            raise SwaxsInputError(f"background: got {background!r}; expected none, constant or linear")
        settings["background"] = background
    lo, hi, inside = fit_range(measurement, x_min, x_max)
    weighting, dy = _weights(measurement.kind, y, sigma, inside)
    settings.update(x_min=lo, x_max=hi, weighting=weighting)

    profile = Profile()
    profile.setObservedProfile(x[inside], y[inside], dy[inside])
    contribution = FitContribution("cluster")
    if is_pdf:
        if histogram is None:
            histogram = pair_histogram(atoms, fast_bin_width(q_max * 1.1) / 2)
        generator = ClusterPDFGenerator("G", histogram, q_min, q_max)
        # the particle's small-angle scattering is taken out, as PDF extraction took it out of the data
        settings.update(small_angle="subtract", atomic_volume_angstrom3=round(histogram.atomic_volume_angstrom3, 4))
        contribution.addProfileGenerator(generator)
        contribution.setProfile(profile, xname="r")
        contribution.setEquation("scale * G")
        table = PDF_PARAMETERS
    else:
        if histogram is None:
            histogram = pair_histogram(atoms, fast_bin_width(float(x[inside].max()) * 1.1))
        generator = ClusterIQGenerator("I", atoms, histogram, measurement.kind)
        contribution.addProfileGenerator(generator)
        contribution.setProfile(profile, xname="q")
        contribution.setEquation({"none": "scale * I", "constant": "scale * I + c0",
                                  "linear": "scale * I + c0 + c1 * q"}[background])
        table = IQ_PARAMETERS

    recipe = FitRecipe("swaxs")
    recipe.fithooks[0].verbose = 0
    recipe.addContribution(contribution)
    elements = histogram.elements
    scale_start = start.get("scale")
    if scale_start is None:
        scale_start = least_squares_scale(generator(profile.x), profile.y)
    bounds = dict(bounds or {})
    known: list[str] = []
    for name, (unit, default, low, high) in table.items():
        if name in ("c0", "c1") and (is_pdf or (name == "c1" and background != "linear")
                                     or (name == "c0" and background == "none")):
            continue
        known.append(name)
        if name in ("u", "b"):
            for element in elements:
                par = getattr(generator, f"{name}_{element}")
                lo_el, hi_el = resolve_bounds(f"{name}_{element}", name, (low, high), bounds)
                value = start.get(f"{name}_{element}", start.get(name, clip_default(default, lo_el, hi_el)))
                recipe.addVar(par, check_start(f"{name}_{element}", value, lo_el, hi_el),
                              tags=[name]).boundRange(lo_el, hi_el)
                known.append(f"{name}_{element}")
            continue
        low, high = resolve_bounds(name, name, (low, high), bounds)
        if name == "scale":
            value = scale_start if "scale" in start else clip_default(scale_start, low, high)
        else:
            value = start.get(name, clip_default(default, low, high))
        target = getattr(contribution, name) if name in ("scale", "c0", "c1") else getattr(generator, name)
        var = recipe.addVar(target, check_start(name, value, low, high), tags=[name])
        var.boundRange(low if math.isfinite(low) else -np.inf, high if math.isfinite(high) else np.inf)
    check_names("start", list(start), known)
    check_names("bounds", list(bounds), known)
    settings["elements"] = list(elements)
    settings["histogram_bin_angstrom"] = histogram.bin_width_angstrom
    return recipe, settings


def fit_range(measurement: Measurement, x_min: float | None, x_max: float | None
              ) -> tuple[float, float, np.ndarray]:
    """(x_min, x_max, mask of the points in range): G(r) defaults to 1.5 Å .. min(r_max, 30 Å), Q-space to all.

    Raises
    ------
    SwaxsInputError
        A non-finite or inverted range, or fewer than 8 points in it.
    """
    x, y = np.asarray(measurement.x, float), np.asarray(measurement.values, float)
    if measurement.kind == "gr":
        lo = 1.5 if x_min is None else float(x_min)
        hi = min(float(x.max()), 30.0) if x_max is None else float(x_max)
    else:
        lo = float(x.min()) if x_min is None else float(x_min)
        hi = float(x.max()) if x_max is None else float(x_max)
    inside = (x >= lo) & (x <= hi) & np.isfinite(y)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi) or inside.sum() < 8:
        raise SwaxsInputError(
            f"fit range {lo:g}..{hi:g}: has {int(inside.sum())} points of {measurement.source}; expected at least 8"
        )
    return lo, hi, inside


def least_squares_scale(model: np.ndarray, y: np.ndarray) -> float:
    """The scale minimising |y - s model|^2 (1 if it is not positive): stage 1 then starts near the answer."""
    s = float(np.dot(model, y) / max(np.dot(model, model), 1e-300))
    return s if math.isfinite(s) and s > 0 else 1.0


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
        ``delta2``, ``zoom``, ``u``...).
    stages : sequence of sequences of str, optional
        Parameters freed per stage; default :data:`PDF_STAGES` or :data:`IQ_STAGES`.
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
    is_pdf = getattr(measurement, "kind", None) == "gr"
    tags = set(PDF_PARAMETERS if is_pdf else IQ_PARAMETERS)
    fixed = {fix} if isinstance(fix, str) else set(fix)
    unknown = fixed - tags
    if unknown:
        raise SwaxsInputError(f"fix: unknown parameter(s) {', '.join(sorted(unknown))}; expected some of "
                              f"{', '.join(sorted(tags))}")
    recipe, settings = cluster_recipe(
        measurement, atoms, x_min=x_min, x_max=x_max, q_min_inv_angstrom=q_min_inv_angstrom,
        q_max_inv_angstrom=q_max_inv_angstrom, background=background, histogram=histogram, start=start,
        bounds=bounds,
    )
    at_bounds: list[str] = []
    evaluations = optimise(recipe, stages or (PDF_STAGES if is_pdf else IQ_STAGES), fixed, progress=progress,
                           at_bounds=at_bounds)
    settings["fixed"] = sorted(fixed)
    return collect(recipe, measurement.kind, "cluster", settings, evaluations, at_bounds=at_bounds)


def optimise(recipe: FitRecipe, stages: Sequence[Sequence[str]], fixed: set[str], *,
             progress: Callable[[str], None] | None = None, max_nfev: int = 400,
             at_bounds: list[str] | None = None) -> tuple[int, bool, str]:
    """Refine ``recipe`` stage by stage (bounded trust-region least squares on its residual).

    Afterwards the refined variables are free, except those that ended at a
    bound (appended to ``at_bounds``), so that :func:`collect` gets their
    uncertainties.

    Returns
    -------
    (evaluations, converged, message) of all stages together.
    """
    at_bounds = [] if at_bounds is None else at_bounds
    total, converged, message = 0, True, ""
    names = {n for stage in stages for n in stage}
    for k, stage in enumerate(stages, 1):
        recipe.fix("all")
        free = [t for t in stage if t not in fixed and _has_tag(recipe, t)]
        if not free:
            continue
        recipe.free(*free)
        low, high = (np.asarray(b, dtype=float) for b in recipe.getBounds2())
        p0 = np.clip(np.asarray(recipe.getValues(), dtype=float), low, high)
        out = least_squares(recipe.residual, p0, bounds=(low, high), x_scale="jac", max_nfev=max_nfev,
                            xtol=1e-8, ftol=1e-8)
        recipe.residual(out.x)  # leave the recipe at the optimum
        total += int(out.nfev)
        converged = bool(out.success)
        message = str(out.message)
        if progress is not None:
            progress(f"stage {k}/{len(stages)} ({', '.join(free)}): chi2 {2 * out.cost:.6g}, {out.nfev} evaluations")
    # the covariance is computed for every refined parameter not stopped at a bound (a zero
    # Jacobian column there would make every uncertainty undefined); those at a bound stay fixed
    recipe.fix("all")
    final = [t for t in names if t not in fixed and _has_tag(recipe, t)]
    if final:
        recipe.free(*final)
        low, high = (np.asarray(b, dtype=float) for b in recipe.getBounds2())
        values = np.asarray(recipe.getValues(), dtype=float)
        span = np.where(np.isfinite(high - low), high - low, np.maximum(np.abs(values), 1.0))
        stuck = (values - low <= 1e-9 * span) | (high - values <= 1e-9 * span)
        for name, at_bound in zip(recipe.getNames(), stuck):
            if at_bound:
                recipe.fix(name)
                at_bounds.append(name)
    return total, converged, message


def collect(recipe: FitRecipe, kind: str, model: str, settings: dict[str, Any],
            evaluations: tuple[int, bool, str], *, at_bounds: Sequence[str] = (),
            units: Mapping[str, str] | None = None) -> RefinementResult:
    """A :class:`RefinementResult` from a refined recipe (its free variables get uncertainties).

    Variables named in ``at_bounds`` are reported as refined, with no uncertainty.
    ``units`` maps a parameter's base name (``u`` for ``u_Au``) to its unit;
    default: the cluster models' tables.
    """
    results = FitResults(recipe)
    contribution = next(iter(recipe._contributions.values()))
    profile = contribution.profile
    x, y, dy, fitted = (np.array(a, dtype=float) for a in (profile.x, profile.y, profile.dy, profile.ycalc))
    weights = 1.0 / dy**2
    n_free = len(results.varnames)
    chi2 = float(np.sum(weights * (y - fitted) ** 2))
    reduced = chi2 / max(len(x) - n_free, 1)
    # without measured sigma the weights are relative: scale the Jacobian errors by the misfit; with sigmas
    # that do not explain the misfit (chi2_red > 1: PDFgetX2's dG are often 100 times too small) as well, as
    # Rietveld programs do, so that an uncertainty is never smaller than the misfit allows (PDFgui does not)
    factor = math.sqrt(reduced) if settings["weighting"] != "sigma" or reduced > 1.0 else 1.0
    if units is None:
        units = {**{k: v[0] for k, v in PDF_PARAMETERS.items()}, **{k: v[0] for k, v in IQ_PARAMETERS.items()}}
    values, seen = [], set()
    for name, value, sigma in zip(results.varnames, results.varvals, results.varunc):
        values.append(RefinedValue(name, float(value), float(sigma) * factor, units.get(name.split("_")[0], "")))
        seen.add(name)
    for name, value in zip(results.fixednames, results.fixedvals):
        if name not in seen:
            values.append(RefinedValue(name, float(value), None, units.get(name.split("_")[0], ""),
                                       refined=name in at_bounds))
    zoom = next((v for v in values if v.name == "zoom"), None)
    if zoom is not None:
        values.append(RefinedValue("expansion", zoom.value - 1.0, zoom.uncertainty, "", zoom.refined))
    n_eval, converged, message = evaluations
    return RefinementResult(
        kind=kind, model=model, rw=rw_of(y, fitted, weights), chi2_reduced=reduced, values=tuple(values),
        x=x, data=y, fitted=fitted, x_min=float(settings["x_min"]), x_max=float(settings["x_max"]),
        weighting=settings["weighting"], n_evaluations=n_eval, converged=converged, message=message,
        settings=tuple(sorted(settings.items())),
    )


def _has_tag(recipe: FitRecipe, tag: str) -> bool:
    try:
        return bool(recipe._tagmanager.union(tag))
    except Exception:  # srfit raises KeyError-like errors for unknown tags
        return False


def _weights(kind: str, y: np.ndarray, sigma, inside: np.ndarray) -> tuple[str, np.ndarray]:
    """srfit's dy: sigma when every point in range has one > 0; else |y| for I(Q) (relative), else 1."""
    if sigma is not None:
        s = np.asarray(sigma, dtype=float)
        if np.all(np.isfinite(s[inside]) & (s[inside] > 0)):
            return "sigma", s
    if kind == "iq":
        if np.any(y[inside] <= 0):
            raise SwaxsInputError("I(Q): non-positive values in the fit range and no uncertainties; "
                                  "expected I > 0 for relative weights (or give uncertainties)")
        return "relative", np.abs(y)
    return "uniform", np.ones_like(y)



__all__ = ["ClusterIQGenerator", "ClusterPDFGenerator", "IQ_STAGES", "PDF_STAGES", "cluster_recipe",
           "collect", "optimise", "refine_cluster"]
