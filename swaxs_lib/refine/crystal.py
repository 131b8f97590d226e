"""Crystalline models of a PDF: bulk, and the attenuated crystal ("piece of crystal") of a nanoparticle.

The periodic structure (a cif, or a bulk lattice of an element) is computed by
diffpy.pdffit2, wrapped as a diffpy.srfit profile generator, so that the same
recipe machinery (srfit's uncertainties,
:class:`~swaxs_lib.refine.results.RefinementResult`) refines a crystal as it
refines a discrete cluster, and a user can compare "discrete cluster" with
"piece of crystal" on the same data.

Model (PDFgui's, Farrow et al. 2007; pdffit2's ``pdf.cc``):

    G(r) = scale * [gamma0(r; D) exp(-(Q_damp r)^2 / 2) G_crystal(r)] (*) Q_max

G_crystal is the sum of Gaussian pair peaks with the -4 pi rho0 r baseline;
the peak of a pair at distance r_ij has the width

    sigma_ij = sigma'_ij sqrt(1 - delta1/r_ij - delta2/r_ij^2 + Q_broad^2 r_ij^2),

times ``sratio`` when r_ij < ``rcut`` (sigma'_ij from the atoms' U_iso);
gamma0 is the characteristic function of a sphere of diameter D
(``spdiameter``, nanoparticle only); (*) Q_max is pdffit2's Q_max termination
(an FFT low-pass).

Where it is computed.  pdffit2 evaluates the model on the data's own r grid,
over the fit range extended by six termination ripples (6 * 2 pi / Q_max) on
each side (down to the grid's first point), and cuts it back to the fit range;
so do we (the data's whole grid goes to pdffit2, the fit range to its
``pdfrange``), which gives pdffit2's numbers to its own precision.  Computing
on the fit window alone loses the peaks just outside it from the Q_max filter
and distorts both edges.

Q_min.  pdffit2 and PDFgui have none.  With ``q_min_inv_angstrom > 0`` the
model is computed from the first grid point above 0 to past the fit range and
its F(Q) content below Q_min removed by a sine-transform round trip
(:mod:`swaxs_lib.refine.qwindow`, as srreal does): the G(r) that a transform
from Q_min would give.  The default is 0, PDFgui's model, so that numbers
compare with PDFgui's; give the data's Q_min to apply the experiment's window
(for one element it changes G(r) by about (2/pi) Q_min / r).  Measured: CdSe
3 nm R_w 0.28546 -> 0.28511 with its header's 0.3 1/Å, Pt JQ_S1 0.1181 ->
0.1174 with its 1.0 1/Å, the other values within their spread.

Refined by default: ``scale``, the lattice (``a``; ``c`` for hexagonal and
tetragonal, all of ``a, b, c`` below; angles kept), the free fractional
coordinates of the crystal's own space group (``z_Se1`` in wurtzite, found by
:mod:`swaxs_lib.refine.symmetry`), ``u_<El>`` (isotropic, one per element),
``delta2``, ``qdamp`` (unless fixed from a calibrant), ``spdiameter`` for the
nanoparticle, and ``sratio`` when ``rcut`` > 0.  Held unless freed:
``delta1``, ``qbroad``.  ``rcut`` is a setting (its start value), never
refined: G(r) jumps with it.

Displacements.  One U per element.  ``adp="isotropic"`` (default) makes it
truly isotropic in pdffit2's U_ij (U_ij = U cos(angle*_ij): U_12 = U/2 in a
hexagonal cell), as diffpy-CMI's U_iso is; ``"diagonal"`` is PDFgui's common
u11 = u22 = u33 = U with zero cross terms, which is isotropic only for
orthogonal axes.  They differ for wurtzite CdSe (R_w 0.2723 against 0.2855);
PDFgui's tutorial numbers are for the diagonal form.

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

References
----------
C. L. Farrow et al., J. Phys.: Condens. Matter 19, 335219 (2007) (PDFfit2 and PDFgui).
I.-K. Jeong et al., J. Phys. Chem. A 103, 921 (1999) (delta1, delta2).
R. C. Howell et al., Phys. Rev. B 73, 094107 (2006) (the sphere envelope, as pdffit2 cites it).
T. Egami and S. J. L. Billinge, *Underneath the Bragg Peaks*, 2nd ed. (2012) (Q_max, Q_damp, Q_broad).

Validation
----------
The model equals pdffit2's ``calc`` on the same data grid and range to 1e-9
(wurtzite with free z, hexagonal U both ways, qbroad, sratio/rcut, envelope).
Ni X-ray PDF, 1.5-10 Å and 1.5-20 Å, with sratio (rcut 2.6 Å) and qbroad
refined: a within 1.1e-7 Å, U 1.5e-6 Å², sratio 6.5e-4, scale 3e-6, qdamp
3e-6 1/Å, qbroad 4e-5 1/Å and R_w 3e-5 of pdffit2's own refinement.  CdSe
3 nm: R_w 0.0014 below pdffit2's from the published start; U(Cd) 4 % and
U(Se) 35 % from PDFgui's tutorial (``tests/test_refine_crystal.py``).
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np
from diffpy.srfit.fitbase import FitContribution, FitRecipe, Profile, ProfileGenerator
from diffpy.structure import Atom, Lattice, Structure, loadStructure
from scipy.optimize import least_squares

from swaxs_lib.compare import DEFAULT_PDF_Q_RANGE, pdf_q_range
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.measurement import Measurement
from swaxs_lib.refine.cluster import _weights, collect, fit_range, least_squares_scale
from swaxs_lib.refine.parameters import FitParameter, check_names, check_start, clip_default, resolve_bounds
from swaxs_lib.refine.qwindow import TAPER_ANGSTROM, low_q_part
from swaxs_lib.refine.results import RefinementResult
from swaxs_lib.refine.symmetry import FreeCoordinates, free_coordinates
from swaxs_lib.structures.elements import check_element, lattice_constant
from swaxs_lib.tasks import register_task

_INF = math.inf
#: Start of a freed qbroad without a given start: G(r) depends on qbroad², flat at 0.
QBROAD_FREED_START = 0.01
#: The crystal models' parameters; ``u`` stands for every ``u_<El>``, ``xyz`` for every free coordinate.
CRYSTAL_PARAMETERS: dict[str, FitParameter] = {p.name: p for p in (
    FitParameter("scale", "", 1.0, 0.0, _INF, "Data scale (PDFgui's dscale); starts from a linear least-squares fit."),
    FitParameter("a", "Å", math.nan, 1.0, 50.0, "Lattice constant a; starts from the structure's."),
    FitParameter("b", "Å", math.nan, 1.0, 50.0, "Lattice constant b (lattices with a ≠ b only)."),
    FitParameter("c", "Å", math.nan, 1.0, 50.0, "Lattice constant c (non-cubic lattices)."),
    FitParameter("xyz", "", math.nan, math.nan, math.nan,
                 "Fractional coordinates the crystal's space group leaves free (x_<label>, y_, z_); default "
                 "bounds: the file's value ± 0.05."),
    FitParameter("u", "Å²", 0.005, 0.0, 0.1, "Isotropic displacement U_iso of every atom of an element (u_<El>)."),
    FitParameter("delta1", "Å", 0.0, 0.0, 5.0, "Correlated-motion peak sharpening ∝ 1/r (high temperature).",
                 refined=False),
    FitParameter("delta2", "Å²", 0.0, 0.0, 10.0, "Correlated-motion peak sharpening ∝ 1/r² (low temperature)."),
    FitParameter("sratio", "", 1.0, 0.05, 2.0, "Peak-width ratio for pairs closer than rcut (refined when rcut > 0)."),
    FitParameter("rcut", "Å", 0.0, 0.0, 100.0, "Distance below which sratio applies; a setting, never refined "
                 "(0: off).", refined=False, refinable=False),
    FitParameter("qdamp", "1/Å", 0.01, 0.0, 0.2, "Gaussian damping exp(-(Q_damp r)²/2) of the instrument's Q "
                 "resolution; fix it from a calibrant."),
    FitParameter("qbroad", "1/Å", 0.0, 0.0, 0.2, "Peak broadening ∝ Q_broad² r² from the Q resolution; starts "
                 f"at {QBROAD_FREED_START} 1/Å when refined (its slope is 0 at 0).", refined=False),
    FitParameter("spdiameter", "Å", 50.0, 5.0, 2000.0, "Diameter of the spherical envelope (nanoparticle only)."),
)}
#: Base names freed in each stage (those not refined at all are skipped).
CRYSTAL_STAGES = (("scale", "a", "b", "c", "spdiameter"),
                  ("scale", "a", "b", "c", "spdiameter", "u", "delta1", "delta2"),
                  ("scale", "a", "b", "c", "spdiameter", "u", "delta1", "delta2", "xyz", "sratio"),
                  ("scale", "a", "b", "c", "spdiameter", "u", "delta1", "delta2", "xyz", "sratio", "qdamp",
                   "qbroad"))
#: How one U per element becomes pdffit2's U_ij: truly isotropic (U_ij = U cos(angle*_ij)), or
#: PDFgui's common u11 = u22 = u33 = U with zero cross terms (isotropic only for orthogonal axes).
ADP_MODELS = ("isotropic", "diagonal")
#: Half-width of the default bounds of a free fractional coordinate.
XYZ_HALF_RANGE = 0.05


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


def _uniform_step(r: np.ndarray, what: str) -> float:
    step = float(r[1] - r[0]) if len(r) > 1 else 0.01
    if step <= 0 or (len(r) > 2 and np.ptp(np.diff(r)) > 1e-6 * step):
        raise SwaxsInputError(f"{what}: pdffit2 needs an evenly spaced r grid; expected uniform steps")
    return step


class CrystalPDFGenerator(ProfileGenerator):
    """srfit profile generator: pdffit2's G(r) of a periodic structure, optionally in a sphere envelope.

    Parameters
    ----------
    name : str
    structure : diffpy.structure.Structure
    q_max : float
        Q_max (1/Å) of the termination.
    radiation : {"X", "N"}
    nanoparticle : bool
        Apply the sphere envelope of diameter ``spdiameter``.
    r_grid : numpy.ndarray, optional
        The data's whole r grid (Å, evenly spaced): the model is computed on
        it (over the asked points extended as pdffit2 does) and cut; default
        the asked points themselves.
    q_min : float
        Q_min (1/Å) of the transform; 0: none (pdffit2's model).
    rcut : float
        ``sratio`` applies to pairs closer than this (Å); 0: off.
    coordinates : FreeCoordinates, optional
        Free fractional coordinates, each a parameter of this generator.

    Notes
    -----
    srfit parameters: ``a, b, c`` (Å; tied as the lattice requires), the
    coordinates' names, ``u_<El>`` (Å²), ``delta1`` (Å), ``delta2`` (Å²),
    ``sratio``, ``qdamp``, ``qbroad`` (1/Å), ``spdiameter`` (Å, 0 = bulk).
    """

    def __init__(self, name: str, structure: Structure, q_max: float, radiation: str = "X",
                 nanoparticle: bool = False, *, r_grid: np.ndarray | None = None, q_min: float = 0.0,
                 rcut: float = 0.0, coordinates: FreeCoordinates | None = None, adp: str = "isotropic") -> None:
        ProfileGenerator.__init__(self, name)
        if adp not in ADP_MODELS:
            raise SwaxsInputError(f"adp: got {adp!r}; expected one of {', '.join(ADP_MODELS)}")
        self.structure = structure.copy()
        self.q_max, self.radiation, self.nanoparticle = float(q_max), radiation, nanoparticle
        self.q_min, self.rcut = float(q_min), float(rcut)
        self.r_grid = None if r_grid is None else np.asarray(r_grid, dtype=float)
        self.coordinates = coordinates
        self.kind = _lattice_kind(self.structure)
        lat = self.structure.lattice
        # isotropic U in pdffit2's U_ij (cif convention): U_ij = U cos(angle*_ij), e.g. U_12 = U/2 when gamma = 120
        self.adp = adp
        self._iso = tuple([1.0, 1.0, 1.0] + [math.cos(math.radians(angle)) if adp == "isotropic" else 0.0
                                             for angle in (lat.gammar, lat.betar, lat.alphar)])
        self.newParameter("a", lat.a)
        self.newParameter("b", lat.b)
        self.newParameter("c", lat.c)
        self.elements = tuple(sorted({atom.element for atom in self.structure}))
        for element in self.elements:
            self.newParameter(f"u_{element}", CRYSTAL_PARAMETERS["u"].start)
        for cname, value in zip(coordinates.names if coordinates else (), coordinates.values if coordinates else ()):
            self.newParameter(cname, float(value))
        for pname in ("delta1", "delta2", "sratio", "qdamp", "qbroad"):
            self.newParameter(pname, CRYSTAL_PARAMETERS[pname].start)
        self.newParameter("spdiameter", CRYSTAL_PARAMETERS["spdiameter"].start if nanoparticle else 0.0)
        self._engine = None
        self._key = None

    def _engine_for(self, r: np.ndarray):
        key = (float(r[0]), float(r[-1]), len(r))
        if self._engine is not None and self._key == key:
            return self._engine
        step = _uniform_step(r, "r")
        grid = r if self.r_grid is None else self.r_grid
        grid = grid[grid > 0.5 * step]  # pdffit2 divides by r
        i0 = int(np.argmin(np.abs(grid - r[0])))
        if len(grid) < i0 + len(r) or not np.allclose(grid[i0:i0 + len(r)], r, rtol=0, atol=1e-6 * step):
            grid, i0 = r, 0  # the asked points are not a run of the data's grid: compute on them alone
        _uniform_step(grid, "r grid")
        if self.q_min > 0:
            first = grid[0] - step * math.floor((grid[0] - 0.5 * step) / step)
            top = r[-1] + TAPER_ANGSTROM + 6 * 2 * math.pi / self.q_max
            calc = first + step * np.arange(int(math.ceil((top - first) / step)) + 1)
            i0 = int(round((r[0] - first) / step))
            lo, hi = calc[0], calc[-1]
        else:
            calc, lo, hi = grid, grid[i0], grid[i0 + len(r) - 1]
            i0 = 0
        pf = _pdffit()
        pf.add_structure(self.structure)
        pf.read_data_lists(self.radiation, self.q_max, 0.0, calc.tolist(), [0.0] * len(calc))
        pf.pdfrange(1, float(lo), float(hi))
        pf.setvar(pf.pscale, 1.0)
        self._engine, self._key = (pf, calc, slice(i0, i0 + len(r))), key
        return self._engine

    def __call__(self, r: np.ndarray) -> np.ndarray:
        r = np.asarray(r, dtype=float)
        pf, calc, take = self._engine_for(r)
        a = self.a.getValue()
        b = a if self.kind in ("cubic", "a=b") else self.b.getValue()
        c = a if self.kind == "cubic" else self.c.getValue()
        for k, value in enumerate((a, b, c), 1):
            pf.setvar(pf.lat(k), float(value))
        xyz = None
        if self.coordinates is not None and self.coordinates.names:
            xyz = self.coordinates.positions([getattr(self, n).getValue() for n in self.coordinates.names])
        for i, atom in enumerate(self.structure, 1):
            u = max(float(getattr(self, f"u_{atom.element}").getValue()), 0.0)
            for setter, factor in zip((pf.u11, pf.u22, pf.u33, pf.u12, pf.u13, pf.u23), self._iso):
                pf.setvar(setter(i), u * factor if abs(factor) > 1e-12 else 0.0)
            if xyz is not None:
                for setter, value in zip((pf.x, pf.y, pf.z), xyz[i - 1]):
                    pf.setvar(setter(i), float(value))
        pf.setvar(pf.delta1, max(self.delta1.getValue(), 0.0))
        pf.setvar(pf.delta2, max(self.delta2.getValue(), 0.0))
        pf.setvar(pf.sratio, max(self.sratio.getValue(), 1e-6))
        pf.setvar(pf.rcut, max(self.rcut, 0.0))
        pf.setvar(pf.qdamp, max(self.qdamp.getValue(), 0.0))
        pf.setvar(pf.qbroad, max(self.qbroad.getValue(), 0.0))
        pf.setvar(pf.spdiameter, max(self.spdiameter.getValue(), 0.0) if self.nanoparticle else 0.0)
        pf.calc()
        g = np.array(pf.getpdf_fit(), dtype=float)
        if self.q_min > 0:
            g = g - low_q_part(calc, g, self.q_min)
        return g[take]


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
    header = pdf_q_range(measurement)
    q_max = float(q_max_inv_angstrom if q_max_inv_angstrom is not None else (header or DEFAULT_PDF_Q_RANGE)[1])
    q_min = 0.0 if q_min_inv_angstrom is None else float(q_min_inv_angstrom)
    if not (math.isfinite(q_min) and math.isfinite(q_max) and 0 <= q_min < q_max <= 100):
        raise SwaxsInputError(f"Q range: got {q_min:g}..{q_max:g} 1/Å; expected 0 <= Q_min < Q_max <= 100")
    table = CRYSTAL_PARAMETERS
    rcut = check_start("rcut", start.get("rcut", table["rcut"].start), table["rcut"].low, table["rcut"].high)
    free = free_coordinates(structure) if coordinates else None
    x, y = np.asarray(measurement.x, float), np.asarray(measurement.values, float)
    lo, hi, inside = fit_range(measurement, x_min, x_max)
    weighting, dy = _weights("gr", y, measurement.uncertainties, inside)

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
    names = [m[0] for m in members]
    check_names("start", list(start), names + list(dict.fromkeys(m[1] for m in members)) + ["rcut"])
    check_names("bounds", list(bounds), names + list(dict.fromkeys(m[1] for m in members)))
    for name, base, target, default, default_bounds in members:
        low, high = resolve_bounds(name, base, default_bounds, bounds)
        if name in start or base in start:
            value = start.get(name, start.get(base))
        elif base == "scale":
            value = clip_default(least_squares_scale(generator(profile.x), profile.y), low, high)
        else:
            value = clip_default(target.getValue() if default is None else default, low, high)
        var = recipe.addVar(target, check_start(name, value, low, high), tags=list(dict.fromkeys([base, name])))
        var.boundRange(low if math.isfinite(low) else -np.inf, high if math.isfinite(high) else np.inf)
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
    return recipe, generator, settings


def _base_of(recipe: FitRecipe) -> dict[str, str]:
    """Variable name -> its row of :data:`CRYSTAL_PARAMETERS` (``u`` for ``u_Cd``, ``xyz`` for ``z_Se1``)."""
    out = {}
    for name in recipe._parameters:  # every variable; recipe.names lists the free ones only
        if name in CRYSTAL_PARAMETERS:
            out[name] = name
        elif name.startswith("u_"):
            out[name] = "u"
        else:
            out[name] = "xyz"
    return out


def _refined_names(recipe: FitRecipe, fixed: set[str], freed: set[str]) -> list[str]:
    """Variables refined: the table's default, plus ``freed``, minus ``fixed`` (names or base names)."""
    out = []
    for name, base in _base_of(recipe).items():
        row = CRYSTAL_PARAMETERS[base]
        on = row.refined or name in freed or base in freed
        if on and name not in fixed and base not in fixed:
            out.append(name)
    return out


def _values(recipe: FitRecipe) -> dict[str, float]:
    return {name: float(var.getValue()) for name, var in recipe._parameters.items()}


def _set_values(recipe: FitRecipe, values: Mapping[str, float]) -> None:
    for name, value in values.items():
        recipe.get(name).setValue(float(value))


def _least_squares(recipe: FitRecipe, names: Sequence[str], max_nfev: int, tol: float
                   ) -> tuple[float, int, bool, str]:
    """Refine ``names`` (bounded trust region); leaves the recipe at the optimum.

    Returns (chi2, model evaluations including the Jacobian's, converged, message).
    """
    recipe.fix("all")
    recipe.free(*names)
    low, high = (np.asarray(b, dtype=float) for b in recipe.getBounds2())
    p0 = np.clip(np.asarray(recipe.getValues(), dtype=float), low, high)
    out = least_squares(recipe.residual, p0, bounds=(low, high), x_scale="jac", max_nfev=max_nfev,
                        xtol=tol, ftol=tol, gtol=tol)
    recipe.residual(out.x)
    evaluations = int(out.nfev) + int(out.njev or 0) * len(names)
    return 2 * float(out.cost), evaluations, bool(out.success), str(out.message)


def _restarts(values: Mapping[str, float], refined: Sequence[str], bases: Mapping[str, str]
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
    fixed = {fix} if isinstance(fix, str) else set(fix)
    freed = {free} if isinstance(free, str) else set(free)
    bases = _base_of(recipe)
    # any row of the table may be named (holding xyz of fcc Ni is harmless), and the model's own names
    known = list(bases) + list(CRYSTAL_PARAMETERS)
    check_names("fix", sorted(fixed), known)
    check_names("free", sorted(freed), known)
    refined = _refined_names(recipe, fixed, freed)
    if "qbroad" in refined and "qbroad" not in (start or {}):
        recipe.get("qbroad").setValue(QBROAD_FREED_START)
    total, converged, message, chi2 = 0, True, "", math.nan
    plan = [[n for n in refined if bases[n] in set(stage)] for stage in (stages or CRYSTAL_STAGES)]
    plan = [names for k, names in enumerate(plan) if names and (k == 0 or names != plan[k - 1])]
    for k, names in enumerate(plan, 1):
        # intermediate stages only need to bring the start near the answer
        chi2, n_eval, converged, message = _least_squares(recipe, names, max_nfev, 1e-6 if k < len(plan) else 1e-10)
        total += n_eval
        if progress is not None:
            progress(f"stage {k}/{len(plan)} ({', '.join(names)}): chi2 {chi2:.6g}, {n_eval} evaluations")
    starts = [{"start": "staged", "chi2": chi2}]
    if plan:
        best = (chi2, _values(recipe), converged, message)
        for label, values in (_restarts(best[1], plan[-1], bases) if restarts else []):
            _set_values(recipe, values)
            chi2_k, n_eval, ok, msg = _least_squares(recipe, plan[-1], max_nfev, 1e-10)
            total += n_eval
            starts.append({"start": label, "chi2": chi2_k})
            if progress is not None:
                progress(f"restart from {label}: chi2 {chi2_k:.6g}, {n_eval} evaluations")
            if chi2_k < best[0]:
                best = (chi2_k, _values(recipe), ok, msg)
        chi2, values, converged, message = best
        _set_values(recipe, values)
        recipe.fix("all")
        recipe.free(*plan[-1])
        recipe.residual(np.asarray(recipe.getValues(), dtype=float))  # the profile at the chosen minimum
    # uncertainties for every refined variable not stopped at a bound (srfit's FitResults)
    at_bounds: list[str] = []
    recipe.fix("all")
    if refined:
        recipe.free(*refined)
        low, high = (np.asarray(b, dtype=float) for b in recipe.getBounds2())
        values = np.asarray(recipe.getValues(), dtype=float)
        span = np.where(np.isfinite(high - low), high - low, np.maximum(np.abs(values), 1.0))
        for name, v, lo_, hi_, sp in zip(recipe.getNames(), values, low, high, span):
            if v - lo_ <= 1e-9 * sp or hi_ - v <= 1e-9 * sp:
                recipe.fix(name)
                at_bounds.append(name)
    settings.update(fixed=sorted(fixed), freed=sorted(freed), starts=starts, chi2=chi2)
    units = {base: row.unit for base, row in CRYSTAL_PARAMETERS.items()}
    units.update({name: "" for name in settings["free_coordinates"]})
    return collect(recipe, "gr", "nanoparticle" if nanoparticle else "crystal", settings,
                   (total, converged, message), at_bounds=at_bounds, units=units)


__all__ = ["CRYSTAL_PARAMETERS", "CRYSTAL_STAGES", "CrystalPDFGenerator", "bulk_structure", "crystal_recipe",
           "crystal_task", "read_crystal", "refine_crystal"]


@register_task("crystal")
def crystal_task(store, args: Mapping[str, Any], report: Callable[..., None]):
    """The ``crystal`` job (:mod:`swaxs_lib.jobs`): a bulk or attenuated-crystal refinement of a stored G(r).

    ``args``: ``dataset_id``; ``element`` and ``lattice`` (fcc, bcc) or ``cif_text``;
    ``nanoparticle``; ``radiation``; ``options`` (x_min, x_max, q_min_inv_angstrom,
    q_max_inv_angstrom, fix, free, start, bounds, adp).
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
    bounds = {k: tuple(v) for k, v in (options.get("bounds") or {}).items()}
    fit = refine_crystal(record.measurement, structure, nanoparticle=bool(args.get("nanoparticle")),
                         radiation=args.get("radiation", "X"), x_min=options.get("x_min"), x_max=options.get("x_max"),
                         q_min_inv_angstrom=options.get("q_min_inv_angstrom"),
                         q_max_inv_angstrom=options.get("q_max_inv_angstrom"), fix=options.get("fix", ()),
                         free=options.get("free", ()), start=options.get("start"), bounds=bounds,
                         adp=options.get("adp") or "isotropic")
    from swaxs_lib.store.fits import StoredFit

    return StoredFit.from_fit(fit, producer="crystal", dataset_id=record.id)  # the job stores its to_json
