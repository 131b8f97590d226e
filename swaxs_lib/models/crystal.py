"""Crystalline models of a PDF: bulk, and the attenuated crystal ("piece of crystal") of a nanoparticle.

The periodic structure (a cif, or a bulk lattice of an element) is computed by
diffpy.pdffit2, wrapped as a diffpy.srfit profile generator, so that the same
recipe machinery (srfit's uncertainties,
:class:`~swaxs_lib.fit.result.RefinementResult`) refines a crystal as it
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
from pathlib import Path

import numpy as np
from diffpy.srfit.fitbase import ProfileGenerator
from diffpy.structure import Atom, Lattice, Structure, loadStructure

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.models import ModelSpec
from swaxs_lib.models.parameters import FitParameter
from swaxs_lib.refine.qwindow import TAPER_ANGSTROM, low_q_part
from swaxs_lib.refine.symmetry import FreeCoordinates
from swaxs_lib.structures.elements import check_element, lattice_constant

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

    The bounds of :func:`~swaxs_lib.structures.readers.read_crystal_cell` apply
    before pdffit2 sees the cell: a cif's cell lengths, angles and sites times
    symmetry operations are checked from its text before diffpy expands them,
    and the expanded cell's site count, volume per site, heights and closest
    sites after (a = 0.05 Å made a refinement that never ended; a 36 KB cif
    expanded to 95,904 atoms).

    Raises
    ------
    SwaxsInputError
        The file cannot be read as a crystal structure, or is out of bounds (one line).
    """
    from swaxs_lib.structures.readers import MAX_CIF_BYTES, check_cif_before_expansion, check_unit_cell

    p = Path(path)
    if not p.is_file() or p.stat().st_size == 0:
        raise SwaxsInputError(f"{p}: no such file or empty; expected a crystal structure (.cif)")
    if p.stat().st_size > MAX_CIF_BYTES:
        raise SwaxsInputError(f"{p}: {p.stat().st_size} bytes; expected a cif of at most {MAX_CIF_BYTES} bytes")
    if p.suffix.lower() == ".cif":
        try:
            check_cif_before_expansion(p)
        except SwaxsInputError:
            raise
        except Exception:  # not parsed as a cif: diffpy's reader says why below
            pass
    try:
        structure = loadStructure(str(p))
    except Exception as exc:  # diffpy raises its own StructureFormatError and plain IOErrors
        detail = " ".join(str(exc).split())[:300]
        raise SwaxsInputError(f"{p}: not a readable crystal structure ({exc.__class__.__name__}: {detail})") from None
    if len(structure) == 0:
        raise SwaxsInputError(f"{p}: no atoms; expected a crystal structure")
    lat = structure.lattice
    from swaxs_lib.structures.bounds import check_cell_parameters

    check_cell_parameters(str(p), (lat.a, lat.b, lat.c), (lat.alpha, lat.beta, lat.gamma))
    check_unit_cell(str(p), np.asarray(lat.base), np.asarray(structure.xyz_cartn))
    return structure


def read_crystal_text(text: str, name: str = "structure.cif") -> Structure:
    """:func:`read_crystal` of a cif's text (an upload, or the text a job stored), read from a private temporary file.

    Raises
    ------
    SwaxsInputError
        The text cannot be read as a crystal structure (the message names ``name``).
    """
    from swaxs_lib.io.private_file import private_copy

    with private_copy(str(text), name, ".cif") as path:
        return read_crystal(path)


#: Pair distances pdffit2 sums per evaluation: sites x sites / cell volume x (4 pi / 3) r_calc^3, r_calc the
#: fit's r_max plus six termination ripples.  Measured 1.2-1.3e6 pairs per second (Ni supercells of 4 to
#: 108 sites to 30 Å, the 2-core reference machine under load); a refinement takes hundreds of evaluations.
PDFFIT2_PAIRS_PER_SECOND = 1.2e6
#: Most pair distances per evaluation (about 8 s each, an hour's refinement): 150x the largest shipped
#: example (CdSe wurtzite to 45 Å: 6.4e4).  a = 0.05 Å (fcc) would have asked 1.7e10.
MAX_CRYSTAL_PAIRS = 10_000_000


def crystal_pairs(structure: Structure, r_max_angstrom: float, q_max_inv_angstrom: float) -> float:
    """Pair distances pdffit2 sums per evaluation of ``structure`` to ``r_max_angstrom`` (see :data:`MAX_CRYSTAL_PAIRS`).

    Examples
    --------
    >>> f"{crystal_pairs(bulk_structure('Ni', a_angstrom=3.52), 30.0, 25.0):.2g}"
    '4.8e+04'
    """
    n = len(structure)
    r_calc = float(r_max_angstrom) + 6 * 2 * math.pi / max(float(q_max_inv_angstrom), 1e-3)
    return n * n / abs(structure.lattice.volume) * 4 / 3 * math.pi * r_calc**3


def check_crystal_pairs(structure: Structure, r_max_angstrom: float, q_max_inv_angstrom: float) -> float:
    """Refuse a refinement whose every evaluation sums more than :data:`MAX_CRYSTAL_PAIRS` pairs; its seconds each.

    Raises
    ------
    SwaxsInputError
        Too many pairs (a large cell, a long fit range).
    """
    pairs = crystal_pairs(structure, r_max_angstrom, q_max_inv_angstrom)
    if not pairs <= MAX_CRYSTAL_PAIRS:
        raise SwaxsInputError(f"structure: {len(structure)} sites to r = {r_max_angstrom:g} Å make {pairs:.3g} pair "
                              f"distances per pdffit2 evaluation (~{pairs / PDFFIT2_PAIRS_PER_SECOND:.2g} s each, "
                              f"hundreds per refinement); expected at most {MAX_CRYSTAL_PAIRS:.0e}: a shorter "
                              "--x-max or a smaller cell")
    return pairs / PDFFIT2_PAIRS_PER_SECOND


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


_TITLE = "{}: pdffit2's G(r) of a periodic structure (a cif, or an element's fcc/bcc lattice){}"
MODELS = (
    ModelSpec("crystal", "crystal", _TITLE.format("Bulk crystal", ""), ("gr",),
              tuple(p for p in CRYSTAL_PARAMETERS.values() if p.name != "spdiameter"),
              tuple(tuple(n for n in stage if n != "spdiameter") for stage in CRYSTAL_STAGES),
              per_element=("u", "xyz"), module=__name__),
    ModelSpec("nanoparticle", "nanoparticle", _TITLE.format("Attenuated crystal", " in a sphere envelope"),
              ("gr",), tuple(CRYSTAL_PARAMETERS.values()), CRYSTAL_STAGES, per_element=("u", "xyz"),
              module=__name__),
)

__all__ = ["ADP_MODELS", "CRYSTAL_PARAMETERS", "CRYSTAL_STAGES", "CrystalPDFGenerator", "MODELS",
           "MAX_CRYSTAL_PAIRS", "PDFFIT2_PAIRS_PER_SECOND", "QBROAD_FREED_START", "XYZ_HALF_RANGE",
           "bulk_structure", "check_crystal_pairs", "crystal_pairs", "read_crystal",
           "read_crystal_text"]
