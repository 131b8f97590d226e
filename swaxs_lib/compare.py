"""A cluster's simulated curve against a measured one: model, scale, background, R_w.

:func:`compare_cluster` computes the model on the measurement's own points
(I(Q), S(Q) or F(Q) from the Debye equation, G(r) from its transform over the
experiment's Q range), then fits a scale and optional background with
:func:`~swaxs_lib.fitting.fit_scale_background`.  Structural parameters (lattice
expansion, Debye–Waller B, Q damping) are not refined here: they are the
values a user sets by hand, as on the live Compare page; refinement of them
is :mod:`swaxs_lib.refine`'s job.

Lattice expansion ``e`` multiplies every interatomic distance by ``1 + e``.
A histogram of the cluster's pair distances (from
:func:`~swaxs_lib.scattering.pair_histogram`) can be passed to skip the pair
loop, which is what makes a slider redraw take milliseconds; with a
:class:`~swaxs_lib.store.Store` the model curve goes through its cache, so
a parameter set seen before (by anyone) is read back instead of computed.

Examples
--------
>>> import numpy as np
>>> from swaxs_lib.io import Measurement
>>> from swaxs_lib.scattering import debye_intensity
>>> from swaxs_lib.structures import icosahedron
>>> atoms = icosahedron("Au", 3).atoms
>>> q = np.linspace(1, 8, 200)
>>> data = Measurement("iq", q, 2.5 * debye_intensity(atoms, q).intensity + 100, None, "synthetic", "inv_angstrom")
>>> result = compare_cluster(data, atoms, background="constant")
>>> round(result.fit.scale, 9), round(result.fit.background[0], 4), result.fit.rw < 1e-9
(2.5, 100.0, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
from ase import Atoms

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.fitting import ScaleFit, fit_scale_background
from swaxs_lib.io.header import header_q_range
from swaxs_lib.io.measurement import VALUE_COLUMNS, X_COLUMNS, Measurement
from swaxs_lib.scattering import (
    PairHistogram,
    debye_intensity,
    fast_bin_width,
    pair_distribution,
)

#: Q range (1/Å) of the G(r) transform when the file's header gives none.
DEFAULT_PDF_Q_RANGE = (0.5, 25.0)


@dataclass(frozen=True)
class Comparison:
    """A cluster's model curve on a measurement's points, with the scale fit.

    Attributes
    ----------
    kind : str
        The measurement's kind (``"iq"``, ``"sq"``, ``"fq"`` or ``"gr"``).
    x : numpy.ndarray
        Q (1/Å) or r (Å): the measurement's points.
    data : numpy.ndarray
        The measured values.
    model : numpy.ndarray
        The unscaled model on ``x``.
    fit : ScaleFit
        Scale, background, R_w and the fitted curve.
    expansion : float
        Lattice expansion used (0.02 = distances 2 % longer).
    b_iso_angstrom2 : float or dict
        Debye–Waller B used (Å²).
    q_range_inv_angstrom : tuple of float or None
        (Q_min, Q_max) of the G(r) transform; None for Q-space data.
    q_damp_inv_angstrom : float
        Q damping of G(r) (1/Å); 0 for Q-space data.
    """

    kind: str
    x: np.ndarray
    data: np.ndarray
    model: np.ndarray
    fit: ScaleFit
    expansion: float
    b_iso_angstrom2: float | dict
    q_range_inv_angstrom: tuple[float, float] | None
    q_damp_inv_angstrom: float

    @property
    def residual(self) -> np.ndarray:
        """data − fitted, at every point (also those outside the fit range)."""
        return self.data - self.fit.fitted

    def columns(self) -> dict[str, np.ndarray]:
        """The comparison as CSV columns, units in the names."""
        x_name = X_COLUMNS["r" if self.kind == "gr" else "q"]
        value = VALUE_COLUMNS[self.kind]
        return {
            x_name: self.x, f"data_{value}": self.data, f"model_{value}": self.model,
            f"fitted_{value}": self.fit.fitted, f"residual_{value}": self.residual,
            "in_fit": self.fit.in_fit.astype(int),
        }


def pdf_q_range(measurement: Measurement) -> tuple[float, float] | None:
    """(Q_min, Q_max) in 1/Å of a G(r) file's transform, from its header; None if absent.

    See :func:`swaxs_lib.io.header.header_q_range` (and :func:`~swaxs_lib.io.header.header_facts`
    for everything else a header says).
    """
    return header_q_range(measurement)


def histogram_for(atoms: Atoms, measurement: Measurement, *, max_expansion: float = 0.1,
                  q_max_inv_angstrom: float | None = None) -> PairHistogram:
    """A pair histogram of ``atoms`` fine enough for any comparison with ``measurement``.

    Parameters
    ----------
    atoms : ase.Atoms
    measurement : Measurement
    max_expansion : float
        Largest lattice expansion the histogram will be used with: the bin
        width is chosen for Q_max × (1 + max_expansion).
    q_max_inv_angstrom : float, optional
        For G(r), the largest transform Q_max that will be asked for
        (default: the file's, or 25 1/Å).

    Returns
    -------
    PairHistogram
    """
    from swaxs_lib.scattering import pair_histogram

    if measurement.domain == "q":
        q_max = float(np.max(measurement.x))
    else:
        q_max = q_max_inv_angstrom or (pdf_q_range(measurement) or DEFAULT_PDF_Q_RANGE)[1]
    return pair_histogram(atoms, fast_bin_width(max(q_max, 1e-3) * (1 + max(max_expansion, 0.0))))


def compare_cluster(
    measurement: Measurement,
    atoms: Atoms,
    *,
    expansion: float = 0.0,
    b_iso_angstrom2: float | Mapping[str, float] = 0.0,
    background: str = "none",
    weighting: str = "auto",
    x_min: float | None = None,
    x_max: float | None = None,
    q_min_inv_angstrom: float | None = None,
    q_max_inv_angstrom: float | None = None,
    q_damp_inv_angstrom: float = 0.0,
    energy_kev: float | None = None,
    histogram: PairHistogram | None = None,
    store=None,
    small_angle: str = "subtract",
) -> Comparison:
    """Model ``atoms`` on ``measurement``'s points and fit scale (and background).

    Parameters
    ----------
    measurement : Measurement
        I(Q), S(Q), F(Q) or G(r).
    atoms : ase.Atoms
        The cluster (Å).
    expansion : float
        Isotropic lattice expansion (dimensionless; -0.1 to 0.1).
    b_iso_angstrom2 : float or mapping
        Debye–Waller B (Å²), one for all elements or per element.
    background : {"none", "constant", "linear"}
    weighting : {"auto", "sigma", "relative", "uniform"}
        See :mod:`swaxs_lib.fitting`.
    x_min, x_max : float, optional
        Fit range in the data's units (1/Å or Å).
    q_min_inv_angstrom, q_max_inv_angstrom : float, optional
        G(r) only: the transform's Q range; default the file header's, else 0.5–25 1/Å.
    q_damp_inv_angstrom : float
        G(r) only: Q damping (1/Å).
    energy_kev : float, optional
        X-ray energy for anomalous form factors.
    histogram : PairHistogram, optional
        ``atoms``'s pair histogram (:func:`histogram_for`), to skip the pair loop.
    store : Store, optional
        Cache model curves in (and read them from) this store.
    small_angle : {"subtract", "keep"}
        G(r) only: take the particle's small-angle scattering out of the model,
        as PDF extraction does with the data (default; see
        :mod:`swaxs_lib.scattering.envelope`), or keep the plain Debye transform.

    Returns
    -------
    Comparison

    Raises
    ------
    SwaxsInputError
        An out-of-range parameter, or what :func:`fit_scale_background` rejects.
    """
    if not (np.isfinite(expansion) and -0.1 <= expansion <= 0.1):
        raise SwaxsInputError(f"expansion: got {expansion}; expected a number between -0.1 and 0.1")
    if not (np.isfinite(q_damp_inv_angstrom) and q_damp_inv_angstrom >= 0):
        raise SwaxsInputError(f"q_damp_inv_angstrom: got {q_damp_inv_angstrom}; expected a number >= 0")
    b_iso = dict(b_iso_angstrom2) if isinstance(b_iso_angstrom2, Mapping) else float(b_iso_angstrom2)
    factor = 1.0 + float(expansion)
    x = measurement.x
    q_range = None
    if measurement.domain == "q":
        model = _q_model(measurement.kind, atoms, x, factor, b_iso, energy_kev, histogram, store)
        q_damp = 0.0
    else:
        default = pdf_q_range(measurement) or DEFAULT_PDF_Q_RANGE
        q_range = (float(default[0] if q_min_inv_angstrom is None else q_min_inv_angstrom),
                   float(default[1] if q_max_inv_angstrom is None else q_max_inv_angstrom))
        if not (0 <= q_range[0] < q_range[1] <= 100):
            raise SwaxsInputError(f"Q range: got {q_range[0]:g}..{q_range[1]:g} 1/Å; expected 0 <= Q_min < Q_max <= 100")
        q_damp = float(q_damp_inv_angstrom)
        kwargs = dict(b_iso_angstrom2=b_iso, energy_kev=energy_kev, q_damp_inv_angstrom=q_damp, scale=factor,
                      small_angle=small_angle)
        if store is not None:
            from swaxs_lib.store import cached_pdf

            model = cached_pdf(store, atoms, x, *q_range, histogram=histogram, **kwargs).g
        else:
            model = pair_distribution(atoms, x, *q_range, histogram=histogram, **kwargs).g
    fit = fit_scale_background(
        x, measurement.values, model, sigma=measurement.uncertainties, background=background,
        weighting=weighting, kind=measurement.kind, x_min=x_min, x_max=x_max,
    )
    return Comparison(
        kind=measurement.kind, x=x, data=measurement.values, model=model, fit=fit, expansion=float(expansion),
        b_iso_angstrom2=b_iso, q_range_inv_angstrom=q_range, q_damp_inv_angstrom=q_damp,
    )


def _q_model(kind, atoms, q, factor, b_iso, energy_kev, histogram, store) -> np.ndarray:
    kwargs = dict(b_iso_angstrom2=b_iso, energy_kev=energy_kev, scale=factor)
    if store is not None:
        from swaxs_lib.store import cached_intensity

        curve = cached_intensity(store, atoms, q, histogram=histogram, **kwargs)
    else:
        curve = debye_intensity(atoms, q, histogram=histogram, **kwargs)
    return curve.values(kind)
