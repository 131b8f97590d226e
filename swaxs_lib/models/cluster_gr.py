"""Discrete cluster G(r): the reduced pair distribution function of a fixed set of atoms, in real space.

The model of a measured G(r) (PDFgetX3, xPDFsuite) for a cluster of atoms at
positions r_i (any shape: icosahedron, decahedron, a sphere cut from a
crystal, a relaxed structure)::

    G(r) = scale * W_Qdamp(r) * T_{Qmin,Qmax} [ G_inf(r / zoom) - G_SAS ]

    G_inf(r) = 1/(N <f>^2) sum_{i != j} f_i f_j [phi_ij(r - r_ij) - phi_ij(r + r_ij)] / r_ij

phi_ij is a normalised Gaussian of variance sigma_ij^2 = (U_i + U_j)
(1 - delta2 / r_ij^2) (correlated motion, Jeong et al. 2003), f the X-ray form
factors at Q = 0; G_SAS the particle's own small-angle scattering, which PDF
extraction takes out of the data and the model therefore takes out too
(:mod:`swaxs_lib.scattering.envelope`, Farrow & Billinge 2009); T the
experiment's Q window (a sine-transform round trip through F(Q) on
Q_min..Q_max); W = exp(-(Q_damp r)^2 / 2) the instrument's Q resolution.
The computation is :mod:`swaxs_lib.refine.realspace` (a pair histogram,
Gaussians on a fine grid, one DST each way).

References
----------
I.-K. Jeong, R. H. Heffner, M. J. Graf, S. J. L. Billinge, Phys. Rev. B 67, 104301 (2003).
C. L. Farrow and S. J. L. Billinge, Acta Cryst. A 65, 232 (2009).
C. L. Farrow et al., J. Phys.: Condens. Matter 19, 335219 (2007) (PDFgui: scale, qdamp, delta2).

Validation
----------
With delta2 = 0 it equals the Debye route (:func:`swaxs_lib.scattering.pair_distribution`,
the exact sinc sum transformed) to 1e-5 of max |G| for one-element clusters;
with delta2 > 0 a brute-force double sum over pairs (tests/test_refine.py);
without the small-angle term it matches diffpy.pdffit2's attenuated crystal
for a large fcc sphere (tests/test_envelope.py); on the measured Pt JQ
nanoparticle PDFs an fcc-sphere sweep gives the attenuated crystal's diameter
within 2 % (tests/test_refine_crystal.py).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from diffpy.srfit.fitbase import ProfileGenerator

from swaxs_lib.models import ModelSpec
from swaxs_lib.models.parameters import FitParameter

if TYPE_CHECKING:  # the kernels load numba and xraydb: imported where a curve is computed, not to list the models
    from swaxs_lib.scattering import PairHistogram

PARAMETERS = (
    FitParameter("scale", "", 1.0, 0.0, math.inf, "Data scale; starts from a linear least-squares fit."),
    FitParameter("zoom", "", 1.0, 0.9, 1.1, "Every interatomic distance times zoom (1 + lattice expansion).",
                 title="Zoom"),
    FitParameter("u", "Å²", 0.005, 0.0, 0.1, "Isotropic displacement U_iso of every atom of an element (u_<El>); B = 8π² U.",
                 title="Displacement U_iso"),
    FitParameter("delta2", "Å²", 0.0, 0.0, 10.0, "Correlated-motion peak sharpening ∝ 1/r² (low temperature).",
                 title="Correlated motion delta2"),
    FitParameter("qdamp", "1/Å", 0.0, 0.0, 0.2, "Gaussian damping exp(-(Q_damp r)²/2) of the instrument's Q "
                 "resolution; fix it from a calibrant.", title="Q damping"),
)
#: Base names freed in each stage: scale and zoom, then the displacements, then delta2 and Q damping.
STAGES = (("scale", "zoom"), ("scale", "zoom", "u"), ("scale", "zoom", "u", "delta2", "qdamp"))

MODELS = (ModelSpec("cluster_gr", "cluster", "Discrete cluster: real-space G(r) of the given atoms", ("gr",),
                    PARAMETERS, STAGES, per_element=("u",), module=__name__),)


def histogram_for(atoms, q_max_inv_angstrom: float) -> PairHistogram:
    """The pair histogram this model needs for a transform up to ``q_max`` (bins of 1/(16 Q_max))."""
    from swaxs_lib.scattering import fast_bin_width, pair_histogram

    return pair_histogram(atoms, fast_bin_width(q_max_inv_angstrom * 1.1) / 2)


def model_curve(histogram: PairHistogram, r: np.ndarray, q_min: float, q_max: float, *, zoom: float = 1.0,
                u: float | dict = 0.005, delta2: float = 0.0, qdamp: float = 0.0, small_angle: str = "subtract",
                setup=None, store=None, atoms=None) -> np.ndarray:
    """G(r) (1/Å²) with scale 1 at ``r`` (Å): the formula of the module docstring.

    ``u`` is U_iso in Å² (one value, or one per element); ``setup`` a
    :func:`~swaxs_lib.refine.realspace.realspace_setup` of the same
    histogram, r and Q window, to reuse.  With a
    :class:`~swaxs_lib.store.Store` (and the ``atoms`` the histogram is of)
    the curve goes through its cache.
    """
    from swaxs_lib.refine.realspace import realspace_pdf, realspace_setup

    if store is not None:
        from swaxs_lib.scattering.envelope import SAS_VERSION, check_small_angle
        from swaxs_lib.scattering.pdf import PDFCurve
        from swaxs_lib.store import cached_curve

        r = np.asarray(r, dtype=float)
        params = {"model": "cluster_gr/1", "q_min_inv_angstrom": float(q_min), "q_max_inv_angstrom": float(q_max),
                  "zoom": float(zoom), "u": {k: float(v) for k, v in sorted(u.items())} if isinstance(u, dict)
                  else float(u), "delta2": float(delta2), "qdamp": float(qdamp),
                  "histogram_bin_angstrom": float(histogram.bin_width_angstrom),
                  "small_angle": "keep" if check_small_angle(small_angle) == "keep" else f"subtract: {SAS_VERSION}"}
        empty = np.zeros(0)
        return cached_curve(store, atoms, "gr", r, params, "xraydb f0(0)", lambda: PDFCurve(
            r, model_curve(histogram, r, q_min, q_max, zoom=zoom, u=u, delta2=delta2, qdamp=qdamp,
                           small_angle=small_angle, setup=setup), empty, empty, float(q_min), float(q_max),
            float(qdamp), small_angle)).g
    if setup is None:
        setup = realspace_setup(histogram, np.asarray(r, dtype=float), q_min, q_max, max_zoom=1.1,
                                small_angle=small_angle)
    return realspace_pdf(setup, u_iso_angstrom2=u, delta2_angstrom2=max(delta2, 0.0),
                         q_damp_inv_angstrom=max(qdamp, 0.0), zoom=zoom)


class ClusterPDFGenerator(ProfileGenerator):
    """srfit profile generator of this model: ``zoom``, ``delta2`` (Å²), ``qdamp`` (1/Å), ``u_<El>`` (Å²)."""

    def __init__(self, name: str, histogram: PairHistogram, q_min: float, q_max: float,
                 small_angle: str = "subtract") -> None:
        ProfileGenerator.__init__(self, name)
        self.histogram = histogram
        self.q_range = (float(q_min), float(q_max))
        self.small_angle = small_angle
        self._setup = None
        table = {p.name: p for p in PARAMETERS}
        for pname in ("zoom", "delta2", "qdamp"):
            self.newParameter(pname, table[pname].start)
        for element in histogram.elements:
            self.newParameter(f"u_{element}", table["u"].start)

    def __call__(self, r: np.ndarray) -> np.ndarray:
        from swaxs_lib.refine.realspace import realspace_setup

        if self._setup is None or not np.array_equal(self._setup.r_angstrom, r):
            self._setup = realspace_setup(self.histogram, r, *self.q_range, max_zoom=1.1,
                                          small_angle=self.small_angle)
        u = {e: max(float(getattr(self, f"u_{e}").getValue()), 0.0) for e in self.histogram.elements}
        return model_curve(self.histogram, r, *self.q_range, zoom=self.zoom.getValue(), u=u,
                           delta2=self.delta2.getValue(), qdamp=self.qdamp.getValue(), setup=self._setup)


__all__ = ["ClusterPDFGenerator", "MODELS", "PARAMETERS", "STAGES", "histogram_for", "model_curve"]
