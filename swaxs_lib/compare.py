"""A cluster's model curve against a measured one: model, scale, background, R_w.

:func:`compare_cluster` computes the cluster model of :mod:`swaxs_lib.models`
on the measurement's own points (I(Q), S(Q), F(Q) from the Debye equation,
:mod:`~swaxs_lib.models.cluster_iq`; G(r) in real space over the experiment's
Q window, :mod:`~swaxs_lib.models.cluster_gr`, the refinement's own model),
holds its parameters at the values given (``values`` by the model table's
names: ``zoom``, ``b`` or ``u``, ``qdamp``, ``delta2``) and fits a scale and
optional background exactly (:func:`swaxs_lib.fit.engine.linear_fit`).  This is
the Compare page's live path and what ``refine`` does when only the scale (and
background) are free: the two give the same R_w.  Fit range, weights and Q
window: :mod:`swaxs_lib.fit.window`.

A pair histogram of the cluster (:func:`histogram_for`) can be passed to skip
the pair loop, which is what makes a slider redraw take milliseconds; with a
:class:`~swaxs_lib.store.Store` the model curve goes through its cache.

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

import math
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
from ase import Atoms

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.fit.engine import linear_fit
from swaxs_lib.fit.linear import ScaleFit
from swaxs_lib.fit.result import RefinementResult
from swaxs_lib.fit.window import DEFAULT_PDF_Q_RANGE, transform_q_range
from swaxs_lib.io.header import header_q_range
from swaxs_lib.io.measurement import VALUE_COLUMNS, X_COLUMNS, Measurement
from swaxs_lib.models import get_model
from swaxs_lib.models import cluster_gr, cluster_iq
from swaxs_lib.scattering import PairHistogram


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
        Scale, background, R_w and the fitted curve on every point.
    result : RefinementResult
        The same fit as every other fit reports it: each parameter (the held
        ones too) with its uncertainty, flags, settings.
    values : dict
        The model's held parameters by table name (``zoom``, ``u_<El>`` or ``b_<El>``, ``qdamp``, ``delta2``).
    q_range_inv_angstrom : tuple of float or None
        (Q_min, Q_max) of the G(r) transform; None for Q-space data.
    """

    kind: str
    x: np.ndarray
    data: np.ndarray
    model: np.ndarray
    fit: ScaleFit
    result: RefinementResult
    values: dict = field(default_factory=dict)
    q_range_inv_angstrom: tuple[float, float] | None = None

    @property
    def expansion(self) -> float:
        """zoom - 1: every distance is (1 + expansion) times the cluster's."""
        return float(self.values.get("zoom", 1.0)) - 1.0

    @property
    def q_damp_inv_angstrom(self) -> float:
        return float(self.values.get("qdamp", 0.0))

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
        Largest lattice expansion the histogram will be used with (at most 0.1, the zoom's bound).
    q_max_inv_angstrom : float, optional
        For G(r), the largest transform Q_max that will be asked for
        (default: the file's, or 25 1/Å).

    Returns
    -------
    PairHistogram
        The one the model's refinement builds (``histogram_for`` of
        :mod:`~swaxs_lib.models.cluster_gr` / :mod:`~swaxs_lib.models.cluster_iq`).
    """
    if measurement.domain == "q":
        return cluster_iq.histogram_for(atoms, float(np.max(measurement.x)))
    q_max = q_max_inv_angstrom or (pdf_q_range(measurement) or DEFAULT_PDF_Q_RANGE)[1]
    return cluster_gr.histogram_for(atoms, q_max)


def compare_cluster(
    measurement: Measurement,
    atoms: Atoms,
    values: Mapping[str, float] | None = None,
    *,
    expansion: float | None = None,
    b_iso_angstrom2: float | Mapping[str, float] | None = None,
    background: str = "none",
    weighting: str = "auto",
    x_min: float | None = None,
    x_max: float | None = None,
    q_min_inv_angstrom: float | None = None,
    q_max_inv_angstrom: float | None = None,
    q_damp_inv_angstrom: float | None = None,
    energy_kev: float | None = None,
    histogram: PairHistogram | None = None,
    store=None,
    small_angle: str = "subtract",
) -> Comparison:
    """Model ``atoms`` on ``measurement``'s points, parameters held, and fit scale (and background).

    Parameters
    ----------
    measurement : Measurement
        I(Q), S(Q), F(Q) or G(r).
    atoms : ase.Atoms
        The cluster (Å).
    values : mapping, optional
        The model's parameters by table name (:func:`swaxs_lib.models.get_model`
        ``("cluster", kind)``): ``zoom``; ``b`` (Å², I(Q)) or ``u`` (Å², G(r)),
        one for all elements or ``b_<El>``/``u_<El>``; G(r) also ``qdamp``
        (1/Å) and ``delta2`` (Å²).  Missing ones take the table's defaults,
        except B/U and Q damping, which default to 0 here.
    expansion : float, optional
        Shorthand for ``zoom = 1 + expansion`` (-0.1 to 0.1).
    b_iso_angstrom2 : float or mapping, optional
        Shorthand for the Debye–Waller B (Å²): ``b`` for I(Q), ``u = B / 8π²`` for G(r).
    background : {"none", "constant", "linear"}
    weighting : {"auto", "sigma", "relative", "uniform"}
    x_min, x_max : float, optional
        Fit range in the data's units (1/Å or Å); defaults: :mod:`swaxs_lib.fit.window`.
    q_min_inv_angstrom, q_max_inv_angstrom : float, optional
        G(r) only: the transform's Q range; default the file header's, else 0.5–25 1/Å.
    q_damp_inv_angstrom : float, optional
        Shorthand for ``qdamp`` (G(r), 1/Å).
    energy_kev : float, optional
        I(Q) only: X-ray energy for anomalous form factors.
    histogram : PairHistogram, optional
        ``atoms``'s pair histogram (:func:`histogram_for`), to skip the pair loop.
    store : Store, optional
        Cache model curves in (and read them from) this store.
    small_angle : {"subtract", "keep"}
        G(r) only: take the particle's small-angle scattering out of the model,
        as PDF extraction does with the data (default; see
        :mod:`swaxs_lib.scattering.envelope`), or keep it.

    Returns
    -------
    Comparison

    Raises
    ------
    SwaxsInputError
        An unknown parameter, a value outside its table's bounds, or what
        :func:`~swaxs_lib.fit.window.fit_window` rejects.
    """
    spec = get_model("cluster", measurement.kind)
    is_pdf = measurement.kind == "gr"
    given = dict(values or {})
    if expansion is not None:
        if not (np.isfinite(expansion) and -0.1 <= expansion <= 0.1):
            raise SwaxsInputError(f"expansion: got {expansion}; expected a number between -0.1 and 0.1")
        given["zoom"] = 1.0 + float(expansion)
    if b_iso_angstrom2 is not None:
        per = dict(b_iso_angstrom2) if isinstance(b_iso_angstrom2, Mapping) else None
        factor = 1.0 / (8 * math.pi**2) if is_pdf else 1.0
        base = "u" if is_pdf else "b"
        if per is None:
            given[base] = float(b_iso_angstrom2) * factor
        else:
            given.update({f"{base}_{el}": float(b) * factor for el, b in per.items()})
    if q_damp_inv_angstrom is not None:
        if not is_pdf and q_damp_inv_angstrom:
            raise SwaxsInputError("q_damp_inv_angstrom: only for G(r) data")
        if is_pdf:
            given["qdamp"] = float(q_damp_inv_angstrom)
    if energy_kev is not None and is_pdf:
        raise SwaxsInputError("energy_kev: the G(r) model weights pairs by f(0), as PDFgui does; "
                              "expected no energy for G(r) data")
    held = _held_values(spec, given, atoms)
    x = np.asarray(measurement.x, dtype=float)
    q_range = None
    if is_pdf:
        q_range = transform_q_range(measurement, q_min_inv_angstrom, q_max_inv_angstrom)
        if histogram is None:
            histogram = cluster_gr.histogram_for(atoms, q_range[1])
        u = {k[2:]: v for k, v in held.items() if k.startswith("u_")}
        model = cluster_gr.model_curve(histogram, x, *q_range, zoom=held["zoom"], u=u, delta2=held["delta2"],
                                       qdamp=held["qdamp"], small_angle=small_angle, store=store, atoms=atoms)
    else:
        if histogram is None:
            histogram = cluster_iq.histogram_for(atoms, float(x.max()))
        b = {k[2:]: v for k, v in held.items() if k.startswith("b_")}
        model = cluster_iq.model_curve(atoms, histogram, x, measurement.kind, zoom=held["zoom"], b=b,
                                       energy_kev=energy_kev, store=store)
    settings = {"kind": measurement.kind, "source": measurement.source, "n_atoms": len(atoms), "model": spec.name}
    if q_range is not None:
        settings.update(q_min_inv_angstrom=q_range[0], q_max_inv_angstrom=q_range[1], small_angle=small_angle)
    units = {p.name: p.unit for p in spec.parameters}
    result, fit = linear_fit(measurement.kind, "cluster", x, measurement.values, model, measurement.uncertainties,
                             held, units, background=background, weighting=weighting, x_min=x_min, x_max=x_max,
                             settings=settings, source=measurement.source)
    return Comparison(kind=measurement.kind, x=x, data=measurement.values, model=model, fit=fit, result=result,
                      values=held, q_range_inv_angstrom=q_range)


def _held_values(spec, given: Mapping[str, float], atoms: Atoms) -> dict[str, float]:
    """Every non-linear parameter of ``spec`` for these atoms' elements: given, else the default (B, U, qdamp: 0)."""
    elements = sorted(set(atoms.get_chemical_symbols()))
    zero_default = {"b", "u", "qdamp"}
    out: dict[str, float] = {}
    known: list[str] = []
    for row in spec.parameters:
        if row.name in spec.linear:
            continue
        names = [f"{row.name}_{el}" for el in elements] if row.name in spec.per_element else [row.name]
        known += [row.name, *names]
        for name in names:
            value = given.get(name, given.get(row.name, 0.0 if row.name in zero_default else row.start))
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise SwaxsInputError(f"{name}: got {value!r}; expected a number") from None
            if not (math.isfinite(value) and row.low <= value <= row.high):
                raise SwaxsInputError(f"{name}: got {value:g}; expected a number from {row.low:g} to {row.high:g}"
                                      + (f" {row.unit}" if row.unit else ""))
            out[name] = value
    unknown = [n for n in given if n not in known]
    if unknown:
        raise SwaxsInputError(f"{unknown[0]}: not a parameter of the {spec.name} model; expected some of "
                              f"{', '.join(dict.fromkeys(known))}")
    return out


__all__ = ["Comparison", "DEFAULT_PDF_Q_RANGE", "compare_cluster", "histogram_for", "pdf_q_range"]
