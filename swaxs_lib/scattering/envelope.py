"""The particle's own small-angle scattering, which a measured G(r) does not contain.

A PDF extracted from a measurement (PDFgetX3, xPDFsuite, PDFgetX2) carries no
small-angle scattering (SAS): below its Q_min nothing is transformed, and above
it the extraction's corrections take out what varies slowly.  Farrow and
Billinge [1]_ show what that leaves of a nanoparticle:

    G(r) = 4 pi r [rho(r) - rho0 gamma0(r)],

with rho(r) the atomic pair density, rho0 the particle's mean number density
and gamma0(r) its characteristic function (the shape's autocorrelation,
gamma0(0) = 1; for a sphere of diameter d, 1 - 3r/2d + r^3/2d^3 [2]_).  The
Debye sum over a cluster's atoms gives the first term only: transformed over
all Q it is 4 pi r rho(r), and over [Q_min, Q_max] it still holds whatever
part of the particle's SAS lies above Q_min.  Fitted as it is, that smooth hump
from 2 to 20 Å is absorbed by Q damping, U and delta2 with absurd values.

The second term is the transform of the SAS itself [1]_,

    4 pi r rho0 gamma0(r) = (2/pi) integral_0^inf Q S_SAS(Q) sin(Q r) dQ,

and below the first diffraction peak the Debye sum *is* the particle's SAS
(the atoms scatter there as a continuous body of their own shape).  So the
cluster's SAS is taken from its own Debye sum, through a smooth low-pass T:

    S_total(Q) = I(Q) / (N |<f>|^2)                       (all i, j, i = j too)
    S_SAS(Q)   = T(Q) S_total(Q)
    F(Q)       = F_Debye(Q) - Q S_SAS(Q)
               = F_Debye(Q) [1 - T(Q)] - Q T(Q) c_self(Q),   c_self = sum |f_i|^2 / (N |<f>|^2)

    T(Q) = 1 for Q <= Q_a;  (1 + cos(pi (Q - Q_a)/(Q_b - Q_a))) / 2 between;  0 for Q >= Q_b
    Q_b = 4.4 / v^(1/3),  Q_a = Q_b / 2,  v = volume per atom (Å^3).

Q_b lies below the first diffraction peak of every structure we build: that
peak is at 6.86/v^(1/3) for fcc, 7.05 bcc, 6.46 hcp, 5.44 diamond and 5.13
wurtzite (CdSe).  Above Q_b nothing changes; below Q_a, F(Q) = -Q c_self, the
low-Q limit of a bulk F(Q) (S -> 0) whose transform is the familiar -4 pi rho0 r
baseline.  The shape enters exactly (octahedra, decahedra, relaxed or uploaded
clusters alike), with no envelope model to choose.  What is left out: the SAS
above Q_a (a Porod tail 2 pi rho0 (S/V) / Q^4 per atom, below 0.02 at Q_b for
particles of 3 nm or more) and the Bragg intensity below Q_b (a peak's tail
under 1e-3 of its height for particles of 2 nm or more).  Below about 1.5 nm
the two overlap: the small-angle scattering of a 13- or 55-atom cluster
reaches past Q_b and its broad first peak begins below it, so the split is a
convention there, as the extraction's own is.

The volume per atom is estimated from the atoms
(:func:`swaxs_lib.structures.sizes.atomic_volume`): the median Voronoi cell of
the atoms nearest the cluster's centre.

Validation
----------
tests/test_envelope.py: for fcc Pt spheres of 2.5–5 nm the cluster's G(r)
without its SAS equals diffpy.pdffit2's attenuated crystal (the bulk G(r) times
the sphere's gamma0, diameter = the cluster's volume-equivalent diameter) to
the same R_w as the analytic sphere term of [1]_ subtracted from the full
Debye transform (R_w 0.019–0.030 over 1.5 Å to the diameter, both engines);
the best-matching sphere is the volume-equivalent one to within 1 Å, for
wurtzite CdSe spheres too (0.2 Å).  tests/test_refine_crystal.py, on measured
PDFs at their header settings: sphere sweeps of Pt JQ S1–S3 give the
attenuated crystal's diameter within 2 % and its R_w within 4 %; for CdSe 3 nm
the discrete spheres' R_w is flat from 24 to 30 Å (best 27–28 Å against the
crystal's 30.4 Å, inside the window the data cannot tell apart).

References
----------
.. [1] C. L. Farrow and S. J. L. Billinge, "Relationship between the atomic
   pair distribution function and small-angle scattering: implications for
   modeling of nanoparticles", Acta Cryst. A65, 232–239 (2009).
.. [2] K. Kodama, S. Iikubo, T. Taguchi and S. Shamoto, "Finite size effects of
   nanoparticles on the atomic pair distribution functions", Acta Cryst. A62,
   444–453 (2006).
"""

from __future__ import annotations

import math

import numpy as np

from swaxs_lib.errors import SwaxsInputError

#: Q_b v^(1/3) of the small-angle low-pass (below wurtzite's first peak at 5.13).
SAS_CUTOFF = 4.4
#: Q_a / Q_b: where the low-pass starts to fall.
SAS_TAPER_START = 0.5
#: Names the low-pass and the volume per atom it is placed by: part of every cached curve's key (bump on a change).
SAS_VERSION = f"lowpass {SAS_CUTOFF}/v^(1/3) from {SAS_TAPER_START} Q_b; v: median central Voronoi cell"
#: What ``small_angle`` may be: remove the particle's SAS (as PDF extraction does) or keep it.
SMALL_ANGLE_MODES = ("subtract", "keep")


def small_angle_window(atomic_volume_angstrom3: float) -> tuple[float, float]:
    """(Q_a, Q_b) in 1/Å of the low-pass that takes the cluster's SAS: Q_b = 4.4 / v^(1/3), Q_a = Q_b / 2."""
    v = float(atomic_volume_angstrom3)
    if not (math.isfinite(v) and v > 0):
        raise SwaxsInputError(f"atomic_volume_angstrom3: got {atomic_volume_angstrom3!r}; expected a number > 0 (Å³)")
    q_b = SAS_CUTOFF / v ** (1 / 3)
    return SAS_TAPER_START * q_b, q_b


def small_angle_taper(q_inv_angstrom, atomic_volume_angstrom3: float) -> np.ndarray:
    """T(Q): 1 below Q_a, a raised cosine to 0 at Q_b, 0 above (see the module docstring)."""
    q = np.asarray(q_inv_angstrom, dtype=float)
    q_a, q_b = small_angle_window(atomic_volume_angstrom3)
    x = np.clip((q - q_a) / (q_b - q_a), 0.0, 1.0)
    return 0.5 * (1.0 + np.cos(math.pi * x))


def check_small_angle(small_angle: str) -> str:
    """``small_angle`` if it is one of :data:`SMALL_ANGLE_MODES`, else a SwaxsInputError."""
    if small_angle not in SMALL_ANGLE_MODES:
        raise SwaxsInputError(f"small_angle: got {small_angle!r}; expected one of {', '.join(SMALL_ANGLE_MODES)}")
    return small_angle


__all__ = ["SAS_CUTOFF", "SAS_VERSION", "SMALL_ANGLE_MODES", "check_small_angle", "small_angle_taper",
           "small_angle_window"]
