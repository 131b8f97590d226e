"""Our Debye I(Q) and G(r) against independent implementations.

* DebyeCalculator 1.1.1 (Johansen et al., torch): I(Q) and G(r).
* ASE's ``ase.utils.xrdebye.XrDebye``: I(Q) with f = Z; its form-factor argument.
* diffpy.pdffit2: G(r) from a real-space sum of Gaussians.

Every reference is installed by the README's test command (requirements-test.txt),
so a missing one fails here rather than skipping.  The conventions that differ from ours (factors
of two, which terms are damped, where the Gaussian's 1/r sits) are derived in
the test that relies on them.  Units: Q in 1/Å, r in Å, B and U in Å^2.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
import xraydb
from ase import Atoms
from ase.cluster import Icosahedron, Octahedron
from ase.utils import xrdebye
import debyecalculator
import diffpy.pdffit2 as pdffit2
import diffpy.structure as structure
import torch

from swaxs_lib.scattering import debye_intensity, pair_distribution

# debyecalculator 1.1.1 reads its element table with importlib.resources.open_text
pytestmark = pytest.mark.filterwarnings("ignore:open_text is deprecated:DeprecationWarning")


def jittered(atoms: Atoms, sigma_angstrom: float, seed: int) -> Atoms:
    rng = np.random.default_rng(seed)
    return Atoms(atoms.get_chemical_symbols(), positions=atoms.positions + rng.normal(0.0, sigma_angstrom, atoms.positions.shape))


def alloy(noshells: int, n_ag: int, seed: int) -> Atoms:
    """Au Mackay icosahedron (a = 4.08 Å) with ``n_ag`` random atoms made Ag, jittered by 0.05 Å."""
    atoms = Icosahedron("Au", noshells=noshells, latticeconstant=4.08)
    rng = np.random.default_rng(seed)
    symbols = atoms.get_chemical_symbols()
    for i in rng.permutation(len(atoms))[:n_ag]:
        symbols[i] = "Ag"
    return jittered(Atoms(symbols, positions=atoms.positions), 0.05, seed + 1)


# ---------------------------------------------------------- DebyeCalculator


def debye_calculator(**kwargs):
    settings = dict(rmin=0.0, rmax=20.0, rstep=0.01, qdamp=0.0, device="cpu", dtype=torch.float64)
    settings.update(kwargs)
    return debyecalculator.DebyeCalculator(**settings)


@pytest.mark.parametrize("biso", [0.0, 0.3])
@pytest.mark.parametrize("pair_sum", ["direct", "grid"])
def test_debyecalculator_intensity_is_half_of_ours(pair_sum, biso):
    """DebyeCalculator's iq = sum_{i<j} f_i f_j DW sinc(Q r_ij) + (1/2) sum_i f_i^2.

    That is exactly half the full double sum (its ``_direct_pair_iq`` sums i<j
    only, ``_finish_iq_parts`` halves the self term), so I_ours = 2 iq.  Its
    ``biso`` damps pairs by exp(-Q^2 biso / (8 pi^2)), our B_i + B_j over
    16 pi^2 with B = biso on every atom.

    309-atom Au/Ag icosahedron: 47 586 pairs is more than the 2^-10 Å grid's
    ~22 000 nodes, so ``pair_sum="grid"`` really takes its grid path (it falls
    back to the direct sum when pairs <= nodes).  The q grid is theirs: their
    arange runs in float32 (q = 0.5, 0.55000001, ...).

    Measured max |ours / (2 iq) - 1|: 5.3e-8 (our exact mode), 5.8e-8 (fast),
    for both of their paths and both biso; tolerance 2e-7.  The floor is
    theirs: their Waasmaier–Kirfel table equals xraydb's to 4e-16, but the
    coefficients go through a float32 tensor (``torch.tensor(v)`` before
    ``.to(float64)``), so their f_Au differs from xraydb's by 3e-8 relative
    (checked: identical to 4e-16 with float32-rounded coefficients).
    """
    atoms = alloy(noshells=5, n_ag=100, seed=21)
    calc = debye_calculator(qmin=0.5, qmax=25.0, qstep=0.05, biso=biso, pair_sum=pair_sum)
    q, iq = calc.iq(atoms)
    assert len(q) == 490 and q[0] == 0.5
    ours = debye_intensity(atoms, q, mode="exact", b_iso_angstrom2=biso).intensity
    np.testing.assert_allclose(ours, 2.0 * iq, rtol=2e-7, atol=0)
    fast = debye_intensity(atoms, q, mode="fast", b_iso_angstrom2=biso).intensity
    np.testing.assert_allclose(fast, 2.0 * iq, rtol=2e-7, atol=0)


@pytest.mark.parametrize("biso, qdamp", [(0.0, 0.0), (0.3, 0.0), (0.3, 0.04)])
def test_debyecalculator_pdf_is_half_of_ours(biso, qdamp):
    """DebyeCalculator's gr = (2/pi) sum_k fq(q_k) qstep sin(q_k r), fq = F/2: half our G.

    Theirs is a left Riemann sum on q_k = qmin + k qstep (q_k < qmax), ours is
    Simpson's rule on [qmin, qmax]; the Riemann sum's error is
    (qstep/2) [g(qmin) - g(qmax)] + O(qstep^2), linear in qstep.  Measured
    max |G_ours - 2 gr| / max|G_ours| on a 147-atom Au/Ag icosahedron:
    3.7e-4 at qstep 0.01 and 7.4e-5 at 0.002 (the ratio 5 confirms the linear
    law); here, 55 atoms, qstep 0.002: 4.7e-5 (biso 0), 5.1e-5 (biso 0.3, with
    or without qdamp 0.04).
    Tolerance 1.5e-4 of max|G| (max|G| = 10.5 and 7.7 1/Å^2).  Both apply the
    envelope exp(-(r qdamp)^2 / 2) to G.
    """
    atoms = alloy(noshells=3, n_ag=20, seed=31)
    calc = debye_calculator(qmin=1.0, qmax=25.0, qstep=0.002, biso=biso, qdamp=qdamp, pair_sum="direct")
    r, gr = calc.gr(atoms)
    ours = pair_distribution(atoms, r, 1.0, 25.0, b_iso_angstrom2=biso, q_damp_inv_angstrom=qdamp,
                             small_angle="keep").g  # DebyeCalculator keeps the small-angle part
    scale = np.abs(ours).max()
    assert scale > 5.0  # the nearest-neighbour peak, 1/Å^2
    assert np.max(np.abs(ours - 2.0 * gr)) <= 1.5e-4 * scale


# ---------------------------------------------------------------------- ASE


def test_ase_xrdebye_saxs_with_constant_f():
    """ASE's XrDebye with method != 'Iwasa' uses f = Z; with damping = 0 it is the full sum.

    ``calc_pattern(x=q, mode='SAXS')`` sets s = q / (2 pi) and ``get(s)`` sums
    f_i f_j np.sinc(2 s r_ij) over all i, j (i = j included), and
    np.sinc(2 s r) = sin(2 pi s r)/(2 pi s r) = sin(q r)/(q r).  (Its default
    method is 'Iwasa', with Q-dependent f and an angular factor, and its default
    damping is 0.04 Å^2, so both are set explicitly.)  Measured: 3e-15 relative.
    """
    atoms = alloy(noshells=3, n_ag=15, seed=41)
    q = np.linspace(0.0, 20.0, 201)
    theirs = np.asarray(xrdebye.XrDebye(atoms, wavelength=1.0, damping=0.0, method="Z", warn=False)
                        .calc_pattern(x=q, mode="SAXS"))
    ours = debye_intensity(atoms, q, mode="exact", form_factor_source="constant").intensity
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_ase_xrdebye_damps_the_self_term_too():
    """ASE's damping B multiplies the whole sum by exp(-B s^2/2) = exp(-B Q^2/(8 pi^2)).

    Ours damps pairs by exp(-(B + B) Q^2/(16 pi^2)), the same factor, but leaves
    the self term sum_i f_i^2 undamped.  So I_ASE(B) = D I_ours(B = 0) and
    I_ours(B) = S + I_ASE(B) - D S, with S the self term.  Measured: 2e-15.
    """
    atoms = alloy(noshells=3, n_ag=15, seed=41)
    q = np.linspace(0.0, 20.0, 201)
    b = 0.7
    theirs = np.asarray(xrdebye.XrDebye(atoms, wavelength=1.0, damping=b, method="Z", warn=False)
                        .calc_pattern(x=q, mode="SAXS"))
    undamped = debye_intensity(atoms, q, mode="exact", form_factor_source="constant")
    damped = debye_intensity(atoms, q, mode="exact", form_factor_source="constant", b_iso_angstrom2=b)
    d = np.exp(-b * q**2 / (8.0 * math.pi**2))
    self_term = undamped.self_intensity
    np.testing.assert_allclose(theirs, d * undamped.intensity, rtol=1e-12)
    np.testing.assert_allclose(damped.intensity, self_term + theirs - d * self_term, rtol=1e-12)


@pytest.mark.parametrize("element", ["Au", "Ag", "Pd", "Pt", "Ni"])
def test_ase_waasmaier_table_and_its_argument(element):
    """ASE's ``get_waasmaier(symbol, s)`` is the Waasmaier–Kirfel fit in s = sin(theta)/lambda.

    Evaluated at s = Q/(4 pi) it equals xraydb's f0 (same table; measured
    4e-8 relative for Au, from the coefficients' last digits).  ASE's docstrings
    and ``XrDebye.get`` call it with s = q/(2 pi), twice sin(theta)/lambda: its
    'Iwasa' mode therefore evaluates f0 at the wrong argument, which differs by
    more than 5 % for Q > 1 1/Å (measured minimum 8.8 %, Au).  We evaluate at
    Q/(4 pi), the convention of the table and of diffpy and DebyeCalculator.

    (Not asserted: ASE's Cu entry has c = -3.774477 where the paper and xraydb
    have -3.254477, so its f_Cu is 0.52 e low at every Q; O also differs.)
    """
    calc = xrdebye.XrDebye(Atoms(), wavelength=1.0)
    q = np.linspace(0.0, 25.0, 251)
    at_4pi = np.array([calc.get_waasmaier(element, s) for s in q / (4.0 * math.pi)])
    at_2pi = np.array([calc.get_waasmaier(element, s) for s in q / (2.0 * math.pi)])
    reference = xraydb.f0(element, q / (4.0 * math.pi))
    np.testing.assert_allclose(at_4pi, reference, rtol=1e-6)
    high = q > 1.0
    assert np.all(np.abs(at_2pi[high] / reference[high] - 1.0) > 0.05)


# ----------------------------------------------------------- diffpy.pdffit2


def pdffit2_pdf(atoms: Atoms, u_iso: float, cell_angstrom: float, rmin: float, rmax: float, n_points: int):
    """G(r) from pdffit2 for ``atoms`` alone in a cubic cell, and the cell's number density."""
    pdffit2.redirect_stdout(io.StringIO())  # the engine writes its log to stdout
    cell = structure.Structure(lattice=structure.Lattice(cell_angstrom, cell_angstrom, cell_angstrom, 90, 90, 90))
    for symbol, position in zip(atoms.get_chemical_symbols(), atoms.positions):
        atom = structure.Atom(symbol, xyz=(position + cell_angstrom / 2) / cell_angstrom)
        atom.Uisoequiv = u_iso
        cell.addNewAtom(atom)
    fit = pdffit2.PdfFit()
    fit.add_structure(cell)
    fit.alloc("X", 0.0, 0.0, rmin, rmax, n_points)  # qmax = 0: no termination; qdamp = 0
    for name in ("delta1", "delta2", "qbroad"):
        fit.setvar(name, 0.0)
    fit.calc()
    return np.array(fit.getR()), np.array(fit.getpdf_fit()), len(atoms) / cell_angstrom**3


@pytest.mark.parametrize(
    "name, atoms",
    [
        ("Au55 icosahedron", Icosahedron("Au", noshells=3, latticeconstant=4.08)),
        ("Ni147 cuboctahedron", Octahedron("Ni", 7, 3, latticeconstant=3.52)),
    ],
    ids=["Au55", "Ni147"],
)
def test_pdffit2_real_space_sum(name, atoms):
    """pdffit2's Gaussians vs our Debye transform, related by an exact identity.

    pdffit2 (libpdffit2/pdf.cc, ``DataSet::determine``) computes, for one element,

        G_P(r) = (1/(N r)) sum_{i != j} g(r - r_ij) - 4 pi rho0 r,

    g a normalised Gaussian of variance sigma^2 = U_i + U_j = 2u (``msdAtoms``),
    rho0 = N / V_cell.  Our G(r) = (2/pi) int_0^Qmax F(Q) sin(Qr) dQ with
    F(Q) = (1/N) sum_{i != j} exp(-u Q^2) sin(Q r_ij)/r_ij and B = 8 pi^2 u is,
    for Qmax -> infinity,

        G_D(r) = (1/N) sum_{i != j} [g(r - r_ij) - g(r + r_ij)] / r_ij.

    The two differ in where the 1/r sits (pdffit2 divides by the grid's r, the
    Debye transform by each pair's r_ij) and by the mirror Gaussian at -r_ij:
    the raw max |G_D - (G_P + 4 pi rho0 r)| is 1.5 % (Au55) and 1.3 % (Ni147) of
    max|G|.  With (r/r_ij) g(r - r_ij) = g + ((r - r_ij)/r_ij) g and
    (r - r_ij) g(r - r_ij) = -sigma^2 d/dr g(r - r_ij):

        r G_D(r) + sigma^2 G_D'(r) = r G_P(r) + 4 pi rho0 r^2,

    exact up to the mirror terms g(r + r_ij): r + r_ij >= 3 Å here, so they are
    below exp(-(3 Å)^2/(2 sigma^2)) = exp(-450).  G_D' is a central difference
    with h = 1e-3 Å (h = 1e-4 Å moves the residual by < 3e-7 of max).
    Qmax = 60 1/Å makes exp(-u Qmax^2) = 1.5e-8.

    Measured max |lhs - rhs| / max|rhs|: 1.9e-6 (Au55), 4.0e-6 (Ni147), the
    size of pdffit2 cutting each Gaussian at 5 sigma (exp(-12.5) = 3.7e-6);
    Qmax = 80 gives the same.  At Qmax = 45 the residual is 6.5e-6 / 7.6e-6
    (termination).  Tolerance 2e-5.
    """
    u = 0.005  # Å^2 on every atom
    cell = 50.0  # Å: cluster diameter (< 15 Å) + rmax + margin, so no periodic image is within reach
    r, g_pdffit, rho0 = pdffit2_pdf(atoms, u, cell, rmin=0.5, rmax=15.0, n_points=1451)
    assert r[1] - r[0] == pytest.approx(0.01)
    rhs = r * g_pdffit + 4.0 * math.pi * rho0 * r * r

    def ours(radii):
        return pair_distribution(atoms, radii, 0.0, 60.0, b_iso_angstrom2=8.0 * math.pi**2 * u, small_angle="keep").g

    h = 1e-3
    g = ours(r)
    derivative = (ours(r + h) - ours(r - h)) / (2.0 * h)
    lhs = r * g + 2.0 * u * derivative
    scale = np.abs(rhs).max()
    assert np.max(np.abs(lhs - rhs)) <= 2e-5 * scale, name
    # and the identity's correction matters: without it the mismatch is > 0.5 %
    assert np.max(np.abs(r * g - rhs)) > 5e-3 * scale
