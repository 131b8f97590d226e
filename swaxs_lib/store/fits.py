"""One schema for stored fits: what a fit row of the store holds, whichever part of swaxs made it.

A fit row (``kind="fit"``) keeps what was asked in ``params`` (the producer's
inputs: a sweep's shape, element, parameters, options and data key; the
Compare page's cluster and settings) and what came out in ``result``: a
:class:`StoredFit` as JSON (:meth:`StoredFit.to_json`, its ``inputs`` being
the row's params).  :func:`save_fit` writes such a row and :func:`read_fit`
reads any fit row, those stored before this schema included:

- a sweep's (``params["page"] == "sweep"``): ``result`` = ``{"summary",
  "curves", "cluster", "cluster_hash"}``;
- the Compare page's (``params["page"] == "compare"``): ``result`` =
  ``{"rw", "scale", "background", "n_points", "weighting"}``, the cluster and
  the fit range in ``params``.

A crystal job's result (:func:`swaxs_lib.refine.crystal.crystal_task`) is a
StoredFit's JSON too, read with :meth:`StoredFit.from_json`.

Examples
--------
>>> import numpy as np
>>> fit = StoredFit(producer="example", model="cluster", kind="gr",
...                 summary={"rw": 0.25, "scale": 0.9, "scale_sigma": 0.01, "scale_flag": ""},
...                 curves=FitCurves(np.array([1.0, 2.0]), np.array([0.5, 0.4]), np.array([0.45, 0.42])),
...                 units=(("scale", ""),))
>>> StoredFit.from_json(fit.to_json()) == fit, fit.rw, [v.text() for v in fit.values()]
(True, 0.25, ['0.9 ± 0.01'])
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Mapping

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.versioned import (
    SCHEMA_KEY,
    array_from_json,
    array_to_json,
    as_mapping,
    fields_equal,
    plain,
    reading,
    schema_of,
)

if TYPE_CHECKING:  # importing swaxs_lib.structures costs scipy's ~0.5 s; the store imports fast
    from swaxs_lib.store import ResultRecord, Store
    from swaxs_lib.structures.metadata import ClusterInfo


@dataclass(frozen=True, eq=False)
class FitCurves:
    """A fit's curves on its fit range.

    Attributes
    ----------
    x : numpy.ndarray
        r (Å) or Q (1/Å).
    data, fitted : numpy.ndarray
        The measured and the fitted curve on ``x``.
    """

    x: np.ndarray
    data: np.ndarray
    fitted: np.ndarray

    __eq__ = fields_equal

    @property
    def difference(self) -> np.ndarray:
        """data - fitted."""
        return self.data - self.fitted

    def to_json(self) -> dict[str, list]:
        return {"x": array_to_json(self.x), "data": array_to_json(self.data), "fitted": array_to_json(self.fitted)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "FitCurves":
        with reading("fit curves"):
            x, y, fitted = (array_from_json(data[k], f"fit curves {k}") for k in ("x", "data", "fitted"))
            if not len(x) == len(y) == len(fitted):
                raise SwaxsInputError(f"fit curves: x, data and fitted have {len(x)}, {len(y)} and {len(fitted)} "
                                      "points; expected the same number")
            return cls(x, y, fitted)


@dataclass(frozen=True, eq=False)
class StoredFit:
    """A fit as the store keeps it.

    Attributes
    ----------
    producer : str
        What made it: ``"sweep"``, ``"compare"``, ``"crystal"`` (a crystal job), ...
    model : str
        The fitted model (``"cluster"``, ``"crystal"``, ``"nanoparticle"``; the summary's ``model``).
    kind : str
        What was fitted: ``"gr"``, ``"iq"``, ``"sq"``, ``"fq"`` (``""`` when not recorded).
    summary : mapping
        The fit's summary as :meth:`swaxs_lib.fit.result.RefinementResult.summary` writes it:
        ``rw``, every value with ``name_sigma`` and ``name_flag``, the counts, ``settings``.
    curves : FitCurves or None
        None when the producer kept no curves (the Compare page).
    cluster : ClusterInfo or None
        The cluster fitted (None for a crystal model).
    cluster_hash : str or None
        Its key in the store's clusters (:func:`swaxs_lib.store.cluster_hash`).
    dataset_id : str or None
        The dataset fitted.
    units : tuple of (str, str)
        Each refined value's name and unit (``"Å"``, ``"Å²"``, ``"1/Å"``, ``""``), in the fit's order.
    inputs : mapping
        What was asked (a fit row's ``params``).
    """

    SCHEMA: ClassVar[int] = 1

    producer: str
    model: str
    kind: str
    summary: Mapping[str, Any]
    curves: FitCurves | None = None
    cluster: "ClusterInfo | None" = None
    cluster_hash: str | None = None
    dataset_id: str | None = None
    units: tuple[tuple[str, str], ...] = ()
    inputs: Mapping[str, Any] = field(default_factory=dict)

    __eq__ = fields_equal

    @classmethod
    def from_fit(cls, fit: Any, *, producer: str, inputs: Mapping[str, Any] | None = None,
                 cluster: "ClusterInfo | None" = None, cluster_hash: str | None = None,
                 dataset_id: str | None = None, curves: bool = True) -> "StoredFit":
        """A refinement's result as stored: its ``summary()``, curves (``x``, ``data``, ``fitted``;
        unless ``curves=False``), model, kind and the units of its ``values``.

        ``fit`` is a :class:`~swaxs_lib.fit.result.RefinementResult` or any
        result with ``summary()``, ``model`` and ``kind`` (curves and values are
        taken when it has them).
        """
        summary = plain(fit.summary())
        kept = None
        if curves and all(hasattr(fit, k) for k in ("x", "data", "fitted")):
            kept = FitCurves(*(np.array(getattr(fit, k), dtype=float) for k in ("x", "data", "fitted")))
        units = tuple((str(v.name), str(v.unit)) for v in getattr(fit, "values", ()) or ())
        return cls(producer=producer, model=str(getattr(fit, "model", summary.get("model", ""))),
                   kind=str(getattr(fit, "kind", summary.get("kind", ""))), summary=summary, curves=kept,
                   cluster=cluster, cluster_hash=cluster_hash, dataset_id=dataset_id, units=units,
                   inputs=dict(inputs or {}))

    @property
    def rw(self) -> float:
        """R_w of the fit (inf when it was not finite, which the summary records as None)."""
        rw = self.summary.get("rw")
        return math.inf if rw is None else float(rw)

    @property
    def x_min(self) -> float | None:
        """Start of the fit range (Å or 1/Å), as the summary records it."""
        return self.summary.get("x_min")

    @property
    def x_max(self) -> float | None:
        """End of the fit range (Å or 1/Å), as the summary records it."""
        return self.summary.get("x_max")

    @property
    def settings(self) -> dict[str, Any]:
        """Everything else that defined the fit (the summary's ``settings``: Q range, engine, space group...)."""
        return dict(self.summary.get("settings") or {})

    def value(self, name: str) -> float | None:
        """The refined value ``name`` (None when the fit has none, or it was not finite)."""
        value = self.summary.get(name)
        return None if value is None else float(value)

    def flags(self) -> dict[str, str]:
        """Value name -> its flag as the fit recorded it (``""``, ``fixed``, ``at_bound``,
        ``sigma_exceeds_value``: :func:`~swaxs_lib.refine.significance.parameter_flag`)."""
        return {name: str(self.summary.get(f"{name}_flag") or "") for name in self.value_names()}

    @property
    def sigma_nyquist_factor(self) -> float:
        """What the uncertainties are multiplied by to count only independent points (1 when not recorded)."""
        factor = self.summary.get("sigma_nyquist_factor", 1.0)
        return math.inf if factor is None else float(factor)

    def value_names(self) -> tuple[str, ...]:
        """The refined values' names: in the fit's order when the units were kept, else as the summary has them."""
        if self.units:
            return tuple(name for name, _ in self.units)
        return tuple(k for k in self.summary if f"{k}_sigma" in self.summary)

    def values(self):
        """Every refined value as a :class:`~swaxs_lib.fit.result.RefinedValue` (value, uncertainty,
        unit, refined), for its ``text()`` and ``flag()`` (pass :attr:`sigma_nyquist_factor`)."""
        from swaxs_lib.fit.result import RefinedValue

        units = dict(self.units)
        out = []
        for name in self.value_names():
            value, sigma = self.summary.get(name), self.summary.get(f"{name}_sigma")
            out.append(RefinedValue(name, math.nan if value is None else float(value),
                                    None if sigma is None else float(sigma), units.get(name, ""),
                                    self.summary.get(f"{name}_flag") != "fixed"))
        return tuple(out)

    def parameter_row(self) -> dict[str, float | None]:
        """R_w and every value with its uncertainty under names carrying units (``a_angstrom``,
        ``a_angstrom_sigma``), as :meth:`~swaxs_lib.fit.result.RefinementResult.parameter_row`."""
        from swaxs_lib.models.parameters import column_name

        out: dict[str, float | None] = {"rw": self.summary.get("rw")}
        for v in self.values():
            name = column_name(v.name, v.unit)
            out[name] = self.summary.get(v.name)
            out[f"{name}_sigma"] = self.summary.get(f"{v.name}_sigma")
        return out

    def columns(self) -> dict[str, np.ndarray]:
        """The curves as CSV columns (``r_angstrom`` or ``q_inv_angstrom``, ``data_g_inv_angstrom2``,
        ``fitted_g_inv_angstrom2``, ``difference_g_inv_angstrom2`` for G(r); ``_intensity``, ``_s``,
        ``_f_inv_angstrom`` for the others: :data:`~swaxs_lib.io.measurement.VALUE_COLUMNS`).

        Raises
        ------
        SwaxsInputError
            The fit was stored without curves.
        """
        from swaxs_lib.io.measurement import VALUE_COLUMNS, X_COLUMNS

        if self.curves is None:
            raise SwaxsInputError(f"fit by {self.producer}: stored without curves; expected a fit with curves")
        value = VALUE_COLUMNS.get(self.kind, "intensity")
        c = self.curves
        return {X_COLUMNS["r" if self.kind == "gr" else "q"]: c.x, f"data_{value}": c.data,
                f"fitted_{value}": c.fitted, f"difference_{value}": c.difference}

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (see :mod:`swaxs_lib.versioned`)."""
        return {SCHEMA_KEY: self.SCHEMA, "producer": self.producer, "model": self.model, "kind": self.kind,
                "summary": plain(self.summary), "curves": None if self.curves is None else self.curves.to_json(),
                "cluster": None if self.cluster is None else self.cluster.to_dict(),
                "cluster_hash": self.cluster_hash, "dataset_id": self.dataset_id,
                "units": [[name, unit] for name, unit in self.units], "inputs": plain(self.inputs)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> "StoredFit":
        """What :meth:`to_json` wrote; results stored before the schema key are migrated
        (:func:`swaxs_lib.legacy_rows.stored_fit`)."""
        data = as_mapping(data, "stored fit")
        if schema_of(data, "stored fit", cls.SCHEMA) == 0:
            from swaxs_lib.legacy_rows import stored_fit

            return stored_fit(dict(data.get("inputs") or {}), data)
        with reading("stored fit"):
            return cls(producer=str(data["producer"]), model=str(data["model"]), kind=str(data["kind"]),
                       summary=dict(data["summary"]),
                       curves=None if data.get("curves") is None else FitCurves.from_json(data["curves"]),
                       cluster=None if data.get("cluster") is None else _cluster_info(data["cluster"]),
                       cluster_hash=data.get("cluster_hash"), dataset_id=data.get("dataset_id"),
                       units=tuple((str(n), str(u)) for n, u in data.get("units") or ()),
                       inputs=dict(data.get("inputs") or {}))


def save_fit(store: "Store", fit: StoredFit, *, message: str | None = None,
             cache_key: str | None = None, owner: str = "") -> "ResultRecord":
    """Write ``fit`` as a fit row: ``params`` = its inputs, ``result`` = the rest of its JSON.

    Parameters
    ----------
    store : Store
    fit : StoredFit
    message : str, optional
        The row's line for lists (default: producer, model and R_w).
    cache_key : str, optional
        A hash of every input, for :meth:`~swaxs_lib.store.Store.find_result`.
    owner : str
        Who saved it (:mod:`swaxs_lib.access`).

    Returns
    -------
    ResultRecord
        The new row; :func:`read_fit` reads it back as ``fit``.
    """
    result = fit.to_json()
    inputs = result.pop("inputs")
    return store.add_result("fit", inputs, result=result, dataset_id=fit.dataset_id, cluster_hash=fit.cluster_hash,
                            message=message or f"{fit.producer}: {fit.model} R_w {fit.rw:.4f}", cache_key=cache_key,
                            owner=owner)


def read_fit(record: "ResultRecord") -> StoredFit:
    """The :class:`StoredFit` of any fit row, rows stored before this schema included (see the module docstring).

    Raises
    ------
    SwaxsInputError
        Not a fit row, or a result none of the known shapes.
    """
    if record.kind != "fit":
        raise SwaxsInputError(f"result id {record.id!r}: is a {record.kind}, not a fit")
    data = {**(record.result or {}), "inputs": record.params}
    fit = StoredFit.from_json(data)
    if fit.dataset_id is None and record.dataset_id is not None:
        from dataclasses import replace

        fit = replace(fit, dataset_id=record.dataset_id)
    return fit


def _cluster_info(data: Mapping[str, Any]):
    from swaxs_lib.structures.metadata import ClusterInfo

    return ClusterInfo.from_dict(dict(data))


__all__ = ["FitCurves", "StoredFit", "read_fit", "save_fit"]
