"""Refine a crystal model (bulk, or the attenuated crystal of a nanoparticle) against G(r).

The model, its formula and parameter table are :mod:`swaxs_lib.models.crystal`; the
recipe is built from that table and refined by :mod:`swaxs_lib.fit.engine`.

Strategy.  Least squares from one start can stop in a wrong minimum: on the
CdSe 3 nm PDF the displacements of Cd and Se trade against each other, delta2
and the envelope.  The refinement therefore (1) frees parameters in stages, as
a modeller does: scale, lattice and diameter; then displacements and
delta1/delta2; then coordinates and sratio; then qdamp and qbroad
(intermediate stages to a relative tolerance of 1e-6, the last to 1e-10); and
(2) restarts the last stage from the staged result with the per-element U
replaced by their mean (one U for all, delta1/delta2 back at 0), and with the
U of every pair of elements swapped.  The lowest chi^2 wins; every start and
its chi^2 is in ``settings["starts"]``.  Each stage is a bounded trust-region
least squares (``scipy.optimize.least_squares``, finite-difference Jacobian)
on the recipe's residual; uncertainties come from srfit's ``FitResults`` at
the chosen minimum, unscaled when the data carry sigmas, as pdffit2's.
Measured on CdSe (diagonal U): the staged path alone stops at R_w 0.2882;
both restarts reach 0.28546 (U 0.0218 / 0.0421 Å²).  pdffit2's own
refinement from PDFgui's published values stops earlier on the same slope,
at 0.2869 (U 0.0223 / 0.0331): R_w falls monotonically on the straight line
from its end point to ours, and pdffit2 restarted from ours stays there.
U(Se) is poorly decided by these data: 0.033 and 0.042 differ by 0.0014 in R_w.

"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
from diffpy.srfit.fitbase import FitContribution, FitRecipe, Profile
from diffpy.structure import Structure

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.fit.engine import (
    add_table_variables,
    check_fix,
    collect,
    hold_at_bounds,
    least_squares_scale,
    optimise,
    refined_names,
    stage_plan,
)
from swaxs_lib.fit.result import RefinementResult
from swaxs_lib.fit.window import fit_window, transform_q_range
from swaxs_lib.io.measurement import Measurement
from swaxs_lib.models.crystal import (
    ADP_MODELS,
    CRYSTAL_PARAMETERS,
    CRYSTAL_STAGES,
    QBROAD_FREED_START,
    XYZ_HALF_RANGE,
    CrystalPDFGenerator,
    bulk_structure,
    check_crystal_pairs,
    read_crystal,
    read_crystal_text,
)
from swaxs_lib.models.parameters import check_start
from swaxs_lib.refine.symmetry import free_coordinates
from swaxs_lib.tasks import register_task


def crystal_recipe(
    measurement: Measurement,
    structure: Structure,
    *,
    nanoparticle: bool = False,
    x_min: float | None = None,
    x_max: float | None = None,
    q_min_inv_angstrom: float | None = None,
    q_max_inv_angstrom: float | None = None,
    radiation: str = "X",
    start: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    coordinates: bool = True,
    adp: str = "isotropic",
) -> tuple[FitRecipe, CrystalPDFGenerator, dict[str, Any]]:
    """Build the FitRecipe of a crystal model against G(r) (nothing is refined yet).

    Parameters are as :func:`refine_crystal`'s.

    Returns
    -------
    recipe : FitRecipe
        One variable per parameter, tagged with its base name (``u``, ``xyz``)
        and its own name.
    generator : CrystalPDFGenerator
    settings : dict
        What the recipe was built with, JSON-friendly.
    """
    if not isinstance(measurement, Measurement) or measurement.kind != "gr":
        raise SwaxsInputError("measurement: crystal models refine G(r); expected a G(r) dataset")
    if radiation not in ("X", "N"):
        raise SwaxsInputError(f"radiation: got {radiation!r}; expected X or N")
    start, bounds = dict(start or {}), dict(bounds or {})
    q_min, q_max = transform_q_range(measurement, q_min_inv_angstrom, q_max_inv_angstrom, q_min_default=0.0)
    table = CRYSTAL_PARAMETERS
    rcut = check_start("rcut", start.get("rcut", table["rcut"].start), table["rcut"].low, table["rcut"].high)
    x, y = np.asarray(measurement.x, float), np.asarray(measurement.values, float)
    window = fit_window(measurement, x_min, x_max, n_parameters=len(CRYSTAL_PARAMETERS))
    lo, hi, inside, weighting, dy = window.x_min, window.x_max, window.mask, window.weighting, window.dy
    check_crystal_pairs(structure, hi, q_max)  # before the symmetry search and pdffit2 see the cell
    free = free_coordinates(structure) if coordinates else None

    generator = CrystalPDFGenerator("G", structure, q_max, radiation, nanoparticle, r_grid=x, q_min=q_min,
                                    rcut=rcut, coordinates=free, adp=adp)
    profile = Profile()
    profile.setObservedProfile(x[inside], y[inside], dy[inside])
    contribution = FitContribution("crystal")
    contribution.addProfileGenerator(generator)
    contribution.setProfile(profile, xname="r")
    contribution.setEquation("scale * G")
    recipe = FitRecipe("swaxs_crystal")
    recipe.fithooks[0].verbose = 0
    recipe.addContribution(contribution)

    lattice_names = {"cubic": ("a",), "a=b": ("a", "c"), "abc": ("a", "b", "c")}[generator.kind]
    members: list[tuple[str, str, Any, float | None, tuple[float, float]]] = []  # name, base, target, start, bounds
    for base, row in table.items():
        if base in ("a", "b", "c"):
            if base in lattice_names:
                members.append((base, base, getattr(generator, base), None, (row.low, row.high)))
        elif base == "xyz":
            for name, value in zip(free.names if free else (), free.values if free else ()):
                members.append((name, base, getattr(generator, name), None,
                                (value - XYZ_HALF_RANGE, value + XYZ_HALF_RANGE)))
        elif base == "u":
            for element in generator.elements:
                members.append((f"u_{element}", base, getattr(generator, f"u_{element}"), row.start,
                                (row.low, row.high)))
        elif base == "scale":
            members.append((base, base, contribution.scale, None, (row.low, row.high)))
        elif row.refinable and not (base == "spdiameter" and not nanoparticle) and not (base == "sratio" and rcut <= 0):
            members.append((base, base, getattr(generator, base), row.start, (row.low, row.high)))
    scale_start = None if ("scale" in start) else least_squares_scale(generator(profile.x), profile.y)
    bases = add_table_variables(recipe, members, start, bounds, scale_start=scale_start, extra_start=["rcut"])
    lat = structure.lattice
    settings: dict[str, Any] = {
        "kind": "gr", "source": measurement.source, "x_min": lo, "x_max": hi, "weighting": weighting,
        "q_min_inv_angstrom": q_min, "q_max_inv_angstrom": q_max, "radiation": radiation,
        "engine": "diffpy.pdffit2", "lattice": generator.kind, "rcut_angstrom": rcut, "adp": adp,
        "structure": f"{structure.composition} a={lat.a:.5g} b={lat.b:.5g} c={lat.c:.5g} "
                     f"alpha={lat.alpha:g} beta={lat.beta:g} gamma={lat.gamma:g}",
        "elements": list(generator.elements),
        "space_group": free.space_group if free else "not searched",
        "free_coordinates": list(free.names) if free else [],
    }
    if free is not None and free.note:
        settings["coordinates_note"] = free.note
    settings["bases"] = bases
    return recipe, generator, settings


def alternative_starts(values: Mapping[str, float], refined: Sequence[str], bases: Mapping[str, str]
                       ) -> list[tuple[str, dict[str, float]]]:
    """Alternative starts of the last stage: one U for all elements, and every pair of U swapped."""
    us = [n for n in refined if bases[n] == "u"]
    if len(us) < 2:
        return []
    reset = {n: CRYSTAL_PARAMETERS[bases[n]].start for n in refined if bases[n] in ("delta1", "delta2")}
    mean = float(np.mean([values[n] for n in us]))
    out = [("one U for all", {**values, **{n: mean for n in us}, **reset})]
    for i, first in enumerate(us):
        for second in us[i + 1:]:
            out.append((f"{first} <-> {second}", {**values, first: values[second], second: values[first], **reset}))
    return out


def refine_crystal(
    measurement: Measurement,
    structure: Structure,
    *,
    nanoparticle: bool = False,
    x_min: float | None = None,
    x_max: float | None = None,
    q_min_inv_angstrom: float | None = None,
    q_max_inv_angstrom: float | None = None,
    radiation: str = "X",
    fix: Iterable[str] = (),
    free: Iterable[str] = (),
    start: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    coordinates: bool = True,
    adp: str = "isotropic",
    stages: Sequence[Sequence[str]] | None = None,
    restarts: bool = True,
    max_nfev: int = 2000,
    progress: Callable[[str], None] | None = None,
) -> RefinementResult:
    """Refine a bulk crystal (or a spherical piece of it, ``nanoparticle=True``) against G(r).

    Parameters
    ----------
    measurement : Measurement
        G(r) on an evenly spaced r grid.
    structure : diffpy.structure.Structure
        From :func:`read_crystal` (a cif) or :func:`bulk_structure`.
    nanoparticle : bool
        Multiply by the sphere envelope and refine its diameter ``spdiameter``.
    x_min, x_max : float, optional
        Fit range (Å); default 1.5 Å to min(r_max, 30 Å).
    q_min_inv_angstrom : float, optional
        Q_min of the transform (1/Å); default 0 (none, as pdffit2/PDFgui).
    q_max_inv_angstrom : float, optional
        Q_max of the data (default the file header's, else 25 1/Å).
    radiation : {"X", "N"}
        X-ray or neutron scattering factors (pdffit2's tables).
    fix, free : iterable of str
        Names (``u_Cd``, ``z_Se1``) or base names (``u``, ``xyz``) held at
        their start, or refined although the table holds them (``qbroad``,
        ``delta1``).  ``fix`` wins.
    start : mapping, optional
        Starting values by name or base name; ``rcut`` (Å) is set here.
    bounds : mapping of name to (low, high), optional
        Bounds by name or base name, replacing the table's.
    coordinates : bool
        Search the crystal's symmetry and make its free coordinates parameters.
    adp : {"isotropic", "diagonal"}
        How each element's U enters pdffit2 (:data:`ADP_MODELS`): truly
        isotropic, or PDFgui's u11 = u22 = u33 with zero cross terms.
    stages : sequence of sequences of str, optional
        Base names freed per stage; default :data:`CRYSTAL_STAGES`.
    restarts : bool
        Restart the last stage from the alternative starts (module docstring).
    max_nfev : int
        Model evaluations allowed per stage and start.
    progress : callable, optional
        Called with a line after each stage.

    Returns
    -------
    RefinementResult
        ``model`` is ``"nanoparticle"`` or ``"crystal"``.

    Raises
    ------
    SwaxsInputError
        A non-G(r) measurement, bad radiation, range, unknown name, start
        outside its bounds or inverted bounds.
    """
    recipe, generator, settings = crystal_recipe(
        measurement, structure, nanoparticle=nanoparticle, x_min=x_min, x_max=x_max,
        q_min_inv_angstrom=q_min_inv_angstrom, q_max_inv_angstrom=q_max_inv_angstrom, radiation=radiation,
        start=start, bounds=bounds, coordinates=coordinates, adp=adp)
    bases = settings.pop("bases")
    # any row of the table may be named (holding xyz of fcc Ni is harmless), and the model's own names
    known = list(bases) + list(CRYSTAL_PARAMETERS)
    fixed = check_fix("fix", fix, known)
    freed = check_fix("free", free, known)
    refined = refined_names(bases, CRYSTAL_PARAMETERS, fixed, freed)
    if "qbroad" in refined and "qbroad" not in (start or {}):
        recipe.get("qbroad").setValue(QBROAD_FREED_START)
    plan = stage_plan(bases, refined, stages or CRYSTAL_STAGES)
    # intermediate stages only need to bring the start near the answer
    outcome = optimise(recipe, plan, tolerances=[1e-6] * (len(plan) - 1) + [1e-10], max_nfev=max_nfev,
                       restarts=(lambda values: alternative_starts(values, plan[-1], bases)) if restarts else None,
                       progress=progress)
    at_bounds = hold_at_bounds(recipe, refined)
    settings.update(fixed=sorted(fixed), freed=sorted(freed), starts=outcome["starts"], chi2=outcome["chi2"])
    units = {base: row.unit for base, row in CRYSTAL_PARAMETERS.items()}
    units.update({name: "" for name in settings["free_coordinates"]})
    return collect(recipe, "gr", "nanoparticle" if nanoparticle else "crystal", settings, outcome,
                   at_bounds=at_bounds, units=units)


__all__ = ["CRYSTAL_PARAMETERS", "CRYSTAL_STAGES", "CrystalPDFGenerator", "bulk_structure", "check_crystal_job",
           "crystal_recipe", "crystal_task", "read_crystal", "refine_crystal"]


@register_task("crystal")
def crystal_task(store, args: Mapping[str, Any], report: Callable[..., None]):
    """The ``crystal`` job (:mod:`swaxs_lib.jobs`): a bulk or attenuated-crystal refinement of a stored G(r).

    ``args``: ``dataset_id``; ``element`` and ``lattice`` (fcc, bcc) or ``cif_text``;
    ``nanoparticle``; ``radiation``; ``options`` (x_min, x_max, q_min_inv_angstrom,
    q_max_inv_angstrom, fix, free, start, bounds, adp).
    """
    record, structure, options = _job_inputs(store, args)
    report(0, 1, "refining")
    bounds = {k: tuple(v) for k, v in (options.get("bounds") or {}).items()}
    fit = refine_crystal(record.measurement, structure, nanoparticle=bool(args.get("nanoparticle")),
                         radiation=args.get("radiation", "X"), x_min=options.get("x_min"), x_max=options.get("x_max"),
                         q_min_inv_angstrom=options.get("q_min_inv_angstrom"),
                         q_max_inv_angstrom=options.get("q_max_inv_angstrom"), fix=options.get("fix", ()),
                         free=options.get("free", ()), start=options.get("start"), bounds=bounds,
                         adp=options.get("adp") or "isotropic")
    from swaxs_lib.store.fits import StoredFit

    return StoredFit.from_fit(fit, producer="crystal", dataset_id=record.id)  # the job stores its to_json


def check_crystal_job(store, args: Mapping[str, Any], cif_name: str = "structure.cif") -> float:
    """The ``crystal`` job's inputs checked before it is queued; the seconds of one pdffit2 evaluation.

    The cif's bounds (:func:`~swaxs_lib.models.crystal.read_crystal_text`; messages call it ``cif_name``),
    the fit window, and the pair distances pdffit2 would sum per evaluation
    (:func:`~swaxs_lib.models.crystal.check_crystal_pairs`): a page or script learns at submit, not from a
    failed job, that a cell is too large for its r range.

    Raises
    ------
    SwaxsInputError
        What the job would have failed with first.
    """
    record, structure, options = _job_inputs(store, args, cif_name)
    measurement = record.measurement
    if measurement.kind != "gr":
        raise SwaxsInputError("measurement: crystal models refine G(r); expected a G(r) dataset")
    _, q_max = transform_q_range(measurement, options.get("q_min_inv_angstrom"), options.get("q_max_inv_angstrom"),
                                 q_min_default=0.0)
    window = fit_window(measurement, options.get("x_min"), options.get("x_max"), n_parameters=len(CRYSTAL_PARAMETERS))
    return check_crystal_pairs(structure, window.x_max, q_max)


def _job_inputs(store, args: Mapping[str, Any], cif_name: str = "structure.cif"):
    record = store.get_dataset(args["dataset_id"])
    if args.get("cif_text"):
        structure = read_crystal_text(args["cif_text"], cif_name)
    else:
        structure = bulk_structure(args["element"], args.get("lattice", "fcc"))
    return record, structure, dict(args.get("options") or {})
