"""Discrete cluster I(Q), S(Q), F(Q): the Debye scattering equation of a fixed set of atoms.

The model of a measured (SAXS/WAXS) intensity for a cluster of atoms at r_i::

    I(Q) = scale * sum_i sum_j f_i(Q) f_j(Q) exp(-(B_i + B_j) Q^2 / (16 pi^2))
           sin(Q zoom r_ij) / (Q zoom r_ij)  +  c0 (+ c1 Q)

with X-ray form factors f (xraydb, Waasmaier–Kirfel), a Debye–Waller B per
element and a flat (or linear) background.  S(Q) = 1 + (I - sum |f_i|^2) /
(N |<f>|^2) (Faber–Ziman) and F(Q) = Q (S - 1) are the same sum normalised.  Computed by
:func:`swaxs_lib.scattering.debye_intensity` on a pair histogram (exact sum
for the histogram's bins; the binning error bound is stated and tested there).

References
----------
P. Debye, Ann. Phys. 351, 809 (1915).
D. Waasmaier and A. Kirfel, Acta Cryst. A 51, 416 (1995).

Validation
----------
The exact double sum, DebyeCalculator and ASE's ``XrDebye`` for the same
atoms (tests/test_debye.py, tests/test_references.py, tolerances stated there).
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
    FitParameter("b", "Å²", 0.5, 0.0, 8.0, "Debye–Waller B = 8π² U_iso of every atom of an element (b_<El>).",
                 title="Debye–Waller B"),
    FitParameter("c0", "", 0.0, -math.inf, math.inf, "Flat background, in the data's units."),
    FitParameter("c1", "", 0.0, -math.inf, math.inf, "Background slope, in the data's units per 1/Å."),
)
#: Base names freed in each stage: scale and background, then zoom, then B.
STAGES = (("scale", "c0", "c1"), ("scale", "c0", "c1", "zoom"), ("scale", "c0", "c1", "zoom", "b"))

MODELS = (ModelSpec("cluster_iq", "cluster", "Discrete cluster: Debye I(Q), S(Q) or F(Q) of the given atoms",
                    ("iq", "sq", "fq"), PARAMETERS, STAGES, per_element=("b",), linear=("scale", "c0", "c1"),
                    module=__name__),)


def histogram_for(atoms, q_max_inv_angstrom: float) -> PairHistogram:
    """The pair histogram this model needs up to ``q_max`` (zoom up to 1.1 included)."""
    from swaxs_lib.scattering import fast_bin_width, pair_histogram

    return pair_histogram(atoms, fast_bin_width(max(q_max_inv_angstrom, 1e-3) * 1.1))


def model_curve(atoms, histogram: PairHistogram, q: np.ndarray, kind: str, *, zoom: float = 1.0,
                b: float | dict = 0.5, energy_kev: float | None = None, store=None) -> np.ndarray:
    """The unscaled, background-free model (I, S or F by ``kind``) at ``q`` (1/Å).

    With a :class:`~swaxs_lib.store.Store` the curve goes through its cache.
    """
    from swaxs_lib.scattering import debye_intensity

    kwargs = dict(b_iso_angstrom2=b, energy_kev=energy_kev, scale=zoom, histogram=histogram)
    if store is not None:
        from swaxs_lib.store import cached_intensity

        return cached_intensity(store, atoms, q, **kwargs).values(kind)
    return debye_intensity(atoms, q, **kwargs).values(kind)


class ClusterIQGenerator(ProfileGenerator):
    """srfit profile generator of this model: ``zoom`` and ``b_<El>`` (Å²)."""

    def __init__(self, name: str, atoms, histogram: PairHistogram, kind: str) -> None:
        ProfileGenerator.__init__(self, name)
        self.atoms, self.histogram, self.kind = atoms, histogram, kind
        table = {p.name: p for p in PARAMETERS}
        self.newParameter("zoom", table["zoom"].start)
        for element in histogram.elements:
            self.newParameter(f"b_{element}", table["b"].start)

    def __call__(self, q: np.ndarray) -> np.ndarray:
        b = {e: max(float(getattr(self, f"b_{e}").getValue()), 0.0) for e in self.histogram.elements}
        return model_curve(self.atoms, self.histogram, q, self.kind, zoom=self.zoom.getValue(), b=b)


__all__ = ["ClusterIQGenerator", "MODELS", "PARAMETERS", "STAGES", "histogram_for", "model_curve"]
