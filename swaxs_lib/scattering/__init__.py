"""Scattering from finite clusters: the Debye I(Q), S(Q), F(Q), G(r) and the
pair-distance histogram, computed by numba kernels.

>>> from swaxs_lib.structures import icosahedron
>>> from swaxs_lib.scattering import debye_intensity
>>> curve = debye_intensity(icosahedron("Au", 3).atoms, [0.5, 1.0, 2.0])
>>> curve.intensity.shape
(3,)
"""

from swaxs_lib.scattering.debye import MODES, DebyeCurve, debye_intensity
from swaxs_lib.scattering.form_factors import form_factor
from swaxs_lib.scattering.histogram import PairHistogram, fast_bin_width, pair_histogram
from swaxs_lib.scattering.pdf import PDFCurve, pair_distribution

__all__ = [
    "MODES",
    "DebyeCurve",
    "PDFCurve",
    "PairHistogram",
    "debye_intensity",
    "fast_bin_width",
    "form_factor",
    "pair_distribution",
    "pair_histogram",
]
