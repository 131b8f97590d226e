"""Crystalline models of a PDF: bulk, and the attenuated crystal ("piece of crystal") of a nanoparticle.

The periodic structure (a cif, or a bulk lattice of an element) is computed by
diffpy.pdffit2, wrapped as a diffpy.srfit profile generator, so that the same
recipe machinery (staged optimisation, srfit's uncertainties,
:class:`~swaxs_lib.refine.results.RefinementResult`) refines a crystal as it
refines a discrete cluster, and a user can compare "discrete cluster" with
"piece of crystal" on the same data.

Model (PDFgui's conventions, Farrow et al. 2007):

    G(r) = scale * gamma0(r; D) * G_crystal(r; a, b, c, U, delta2, Q_damp, Q_max)

with gamma0 the characteristic function of a sphere of diameter D
(``spdiameter``; 0 = bulk), G_crystal including its -4 pi rho0 r baseline and
the Q_max termination of the data.  pdffit2 has no Q_min: it is ignored.

Refined: ``scale``, lattice ``a`` (and ``c`` for hexagonal/tetragonal, all of
``a, b, c`` for lower symmetry; cubic keeps a = b = c), ``u_<El>`` (isotropic,
one per element), ``delta2``, ``qdamp`` (unless fixed from a calibrant) and,
for the nanoparticle, ``spdiameter`` (Å).  Fractional coordinates are kept.
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
from diffpy.srfit.fitbase import FitContribution, FitRecipe, Profile, ProfileGenerator
from diffpy.structure import Atom, Lattice, Structure, loadStructure

from swaxs_lib.compare import DEFAULT_PDF_Q_RANGE, pdf_q_range
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.measurement import Measurement
from swaxs_lib.refine.cluster import (
    _check_start,
    _weights,
    collect,
    fit_range,
    least_squares_scale,
    optimise,
)
from swaxs_lib.refine.results import RefinementResult
from swaxs_lib.structures.elements import check_element, lattice_constant

#: (unit, start, low, high) of the crystal models' parameters; a, b, c start from the structure.
CRYSTAL_PARAMETERS: dict[str, tuple[str, float, float, float]] = {
    "scale": ("", 1.0, 0.0, math.inf),
    "a": ("Å", math.nan, 1.0, 50.0),
    "b": ("Å", math.nan, 1.0, 50.0),
    "c": ("Å", math.nan, 1.0, 50.0),
    "u": ("Å²", 0.005, 0.0, 0.1),
    "delta2": ("Å²", 0.0, 0.0, 10.0),
    "qdamp": ("1/Å", 0.01, 0.0, 0.2),
    "spdiameter": ("Å", 50.0, 5.0, 2000.0),
}
CRYSTAL_STAGES = (("scale", "a", "b", "c", "spdiameter"), ("scale", "a", "b", "c", "spdiameter", "u", "delta2"),
                  ("scale", "a", "b", "c", "spdiameter", "u", "delta2", "qdamp"))


def _pdffit():
    """A fresh PdfFit engine, its banner and chatter sent to /dev/null (our stdout is the JSON line)."""
    import diffpy.pdffit2

    diffpy.pdffit2.redirect_stdout(open(os.devnull, "w"))
    return diffpy.pdffit2.PdfFit()


def bulk_structure(element: str, lattice: str = "fcc", a_angstrom: float | None = None) -> Structure:
    """The conventional cell of an element's bulk lattice (fcc, bcc) as a diffpy Structure.

    Parameters
    ----------
    element : str
    lattice : {"fcc", "bcc"}
    a_angstrom : float, optional
        Lattice constant (Å); default the element's (ASE's reference data).
    """
    symbol = check_element(element)
    if lattice not in ("fcc", "bcc"):
        raise SwaxsInputError(f"lattice: got {lattice!r}; expected fcc or bcc (use a cif for others)")
    a = lattice_constant(symbol, lattice) if a_angstrom is None else float(a_angstrom)
    sites = [(0, 0, 0), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5)] if lattice == "fcc" else [(0, 0, 0), (0.5, 0.5, 0.5)]
    return Structure([Atom(symbol, xyz) for xyz in sites], lattice=Lattice(a, a, a, 90, 90, 90))


def read_crystal(path: str | os.PathLike) -> Structure:
    """A periodic structure from a cif (or any format diffpy.structure reads).

    Raises
    ------
    SwaxsInputError
        The file cannot be read as a crystal structure.
    """
    try:
        structure = loadStructure(str(path))
    except Exception as exc:  # diffpy raises its own StructureFormatError and plain IOErrors
        raise SwaxsInputError(f"{path}: not a readable crystal structure ({exc.__class__.__name__}: {exc})") from None
    if len(structure) == 0:
        raise SwaxsInputError(f"{path}: no atoms; expected a crystal structure")
    return structure


def _lattice_kind(structure: Structure) -> str:
    lat = structure.lattice
    same = lambda x, y: abs(x - y) < 1e-6 * max(x, y)  # noqa: E731
    right = all(same(angle, 90.0) for angle in (lat.alpha, lat.beta, lat.gamma))
    if right and same(lat.a, lat.b) and same(lat.b, lat.c):
        return "cubic"
    if same(lat.a, lat.b) and same(lat.alpha, 90.0) and same(lat.beta, 90.0) and (
            same(lat.gamma, 120.0) or same(lat.gamma, 90.0)):
        return "a=b"
    return "abc"


class CrystalPDFGenerator(ProfileGenerator):
    """srfit profile generator: pdffit2's G(r) of a periodic structure, optionally in a sphere envelope.

    Parameters ``a, b, c`` (Å; tied as the lattice requires), ``u_<El>`` (Å²),
    ``delta2`` (Å²), ``qdamp`` (1/Å), ``spdiameter`` (Å, 0 = bulk).
    """

    def __init__(self, name: str, structure: Structure, q_max: float, radiation: str = "X",
                 nanoparticle: bool = False) -> None:
        ProfileGenerator.__init__(self, name)
        self.structure = structure.copy()
        self.q_max, self.radiation, self.nanoparticle = float(q_max), radiation, nanoparticle
        self.kind = _lattice_kind(self.structure)
        lat = self.structure.lattice
        self.newParameter("a", lat.a)
        self.newParameter("b", lat.b)
        self.newParameter("c", lat.c)
        self.elements = tuple(sorted({atom.element for atom in self.structure}))
        for element in self.elements:
            self.newParameter(f"u_{element}", 0.005)
        self.newParameter("delta2", 0.0)
        self.newParameter("qdamp", 0.01)
        self.newParameter("spdiameter", 50.0 if nanoparticle else 0.0)
        self._engine = None
        self._grid = None

    def _engine_for(self, r: np.ndarray):
        if self._engine is None or self._grid is None or not np.array_equal(self._grid, r):
            pf = _pdffit()
            pf.add_structure(self.structure)
            step = float(r[1] - r[0]) if len(r) > 1 else 0.01
            if len(r) > 2 and np.ptp(np.diff(r)) > 1e-6 * step:
                raise SwaxsInputError("r: pdffit2 needs an evenly spaced r grid; expected uniform steps")
            pf.read_data_lists(self.radiation, self.q_max, 0.0, list(map(float, r)), [0.0] * len(r))
            pf.setvar(pf.pscale, 1.0)
            self._engine, self._grid = pf, np.array(r, copy=True)
        return self._engine

    def __call__(self, r: np.ndarray) -> np.ndarray:
        pf = self._engine_for(r)
        a = self.a.getValue()
        b = a if self.kind in ("cubic", "a=b") else self.b.getValue()
        c = a if self.kind == "cubic" else self.c.getValue()
        for k, value in enumerate((a, b, c), 1):
            pf.setvar(pf.lat(k), float(value))
        for i, atom in enumerate(self.structure, 1):
            u = max(float(getattr(self, f"u_{atom.element}").getValue()), 0.0)
            for setter in (pf.u11, pf.u22, pf.u33):
                pf.setvar(setter(i), u)
            for setter in (pf.u12, pf.u13, pf.u23):
                pf.setvar(setter(i), 0.0)
        pf.setvar(pf.delta2, max(self.delta2.getValue(), 0.0))
        pf.setvar(pf.qdamp, max(self.qdamp.getValue(), 0.0))
        pf.setvar(pf.spdiameter, max(self.spdiameter.getValue(), 0.0) if self.nanoparticle else 0.0)
        pf.calc()
        return np.array(pf.getpdf_fit(), dtype=float)


def refine_crystal(
    measurement: Measurement,
    structure: Structure,
    *,
    nanoparticle: bool = False,
    x_min: float | None = None,
    x_max: float | None = None,
    q_max_inv_angstrom: float | None = None,
    radiation: str = "X",
    fix: Iterable[str] = (),
    start: Mapping[str, float] | None = None,
    stages: Sequence[Sequence[str]] | None = None,
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
    q_max_inv_angstrom : float, optional
        Q_max of the data (default the file header's, else 25 1/Å).
    radiation : {"X", "N"}
        X-ray or neutron scattering factors (pdffit2's tables).
    fix, start, stages, progress
        As :func:`swaxs_lib.refine.cluster.refine_cluster`; names from
        :data:`CRYSTAL_PARAMETERS` (``u`` for every element's U).

    Returns
    -------
    RefinementResult
        ``model`` is ``"nanoparticle"`` or ``"crystal"``.
    """
    if not isinstance(measurement, Measurement) or measurement.kind != "gr":
        raise SwaxsInputError("measurement: crystal models refine G(r); expected a G(r) dataset")
    if radiation not in ("X", "N"):
        raise SwaxsInputError(f"radiation: got {radiation!r}; expected X or N")
    fixed = {fix} if isinstance(fix, str) else set(fix)
    unknown = fixed - set(CRYSTAL_PARAMETERS)
    if unknown:
        raise SwaxsInputError(f"fix: unknown parameter(s) {', '.join(sorted(unknown))}; expected some of "
                              f"{', '.join(CRYSTAL_PARAMETERS)}")
    start = dict(start or {})
    q_max = float(q_max_inv_angstrom if q_max_inv_angstrom is not None
                  else (pdf_q_range(measurement) or DEFAULT_PDF_Q_RANGE)[1])
    x, y = np.asarray(measurement.x, float), np.asarray(measurement.values, float)
    lo, hi, inside = fit_range(measurement, x_min, x_max)
    weighting, dy = _weights("gr", y, measurement.uncertainties, inside)

    generator = CrystalPDFGenerator("G", structure, q_max, radiation, nanoparticle)
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
    for name, (unit, default, low, high) in CRYSTAL_PARAMETERS.items():
        if name in ("b", "c") and name not in lattice_names:
            continue
        if name == "spdiameter" and not nanoparticle:
            continue
        if name == "u":
            for element in generator.elements:
                value = start.get(f"u_{element}", start.get("u", default))
                recipe.addVar(getattr(generator, f"u_{element}"), _check_start(f"u_{element}", value, low, high),
                              tags=["u"]).boundRange(low, high)
            continue
        target = contribution.scale if name == "scale" else getattr(generator, name)
        value = start.get(name, target.getValue() if name in ("a", "b", "c") else default)
        if name == "scale" and "scale" not in start:
            value = least_squares_scale(generator(profile.x), profile.y)
        var = recipe.addVar(target, _check_start(name, value, low, high), tags=[name])
        var.boundRange(low, high if math.isfinite(high) else np.inf)
    at_bounds: list[str] = []
    evaluations = optimise(recipe, stages or CRYSTAL_STAGES, fixed, progress=progress, at_bounds=at_bounds)
    lat = structure.lattice
    settings: dict[str, Any] = {
        "kind": "gr", "source": measurement.source, "x_min": lo, "x_max": hi, "weighting": weighting,
        "q_max_inv_angstrom": q_max, "radiation": radiation, "engine": "diffpy.pdffit2",
        "lattice": generator.kind, "structure": f"{structure.composition} a={lat.a:.5g} b={lat.b:.5g} c={lat.c:.5g} "
                                               f"alpha={lat.alpha:g} beta={lat.beta:g} gamma={lat.gamma:g}",
        "fixed": sorted(fixed), "elements": list(generator.elements),
    }
    return collect(recipe, "gr", "nanoparticle" if nanoparticle else "crystal", settings, evaluations,
                   at_bounds=at_bounds, units={k: v[0] for k, v in CRYSTAL_PARAMETERS.items()})


__all__ = ["CRYSTAL_PARAMETERS", "CRYSTAL_STAGES", "CrystalPDFGenerator", "bulk_structure", "crystal_task",
           "read_crystal", "refine_crystal"]


def crystal_task(store, args: Mapping[str, Any], report: Callable[..., None]) -> dict[str, Any]:
    """The ``crystal`` job (:mod:`swaxs_lib.jobs`): a bulk or attenuated-crystal refinement of a stored G(r).

    ``args``: ``dataset_id``; ``element`` and ``lattice`` (fcc, bcc) or ``cif_text``;
    ``nanoparticle``; ``radiation``; ``options`` (x_min, x_max, q_max_inv_angstrom, fix, start).
    """
    import tempfile
    from pathlib import Path

    record = store.get_dataset(args["dataset_id"])
    if args.get("cif_text"):
        with tempfile.TemporaryDirectory(prefix="swaxs-cif-") as folder:
            path = Path(folder) / "structure.cif"
            path.write_text(str(args["cif_text"]))
            structure = read_crystal(path)
    else:
        structure = bulk_structure(args["element"], args.get("lattice", "fcc"))
    options = dict(args.get("options") or {})
    report(0, 1, "refining")
    fit = refine_crystal(record.measurement, structure, nanoparticle=bool(args.get("nanoparticle")),
                         radiation=args.get("radiation", "X"), x_min=options.get("x_min"), x_max=options.get("x_max"),
                         q_max_inv_angstrom=options.get("q_max_inv_angstrom"), fix=options.get("fix", ()),
                         start=options.get("start"))
    return {"summary": fit.summary(), "curves": {"x": fit.x.tolist(), "data": fit.data.tolist(),
                                                 "fitted": fit.fitted.tolist()},
            "values": [[v.name, v.text()] for v in fit.values]}
