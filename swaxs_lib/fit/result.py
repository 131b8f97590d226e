"""What a fit returns: values with uncertainties, curves, R_w and the settings used; frozen, versioned JSON.

:class:`RefinementResult` is the one result of every fit (the linear path of
the Compare page and ``compare``, srfit refinements of clusters and
crystals).  ``to_json``/``from_json`` round-trip it exactly (floats as JSON
numbers, arrays as lists, non-finite values as strings), with
:data:`SCHEMA` recorded so that a later version can migrate what it reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

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

#: Version of :meth:`RefinementResult.to_json`'s layout (:mod:`swaxs_lib.versioned`).
SCHEMA = 1
from swaxs_lib.io.measurement import VALUE_COLUMNS, X_COLUMNS
from swaxs_lib.refine.significance import (
    FLAG_AT_BOUND,
    FLAG_SIGMA,
    independent_points,
    parameter_flag,
    sigma_nyquist_factor,
)


@dataclass(frozen=True)
class RefinedValue:
    """One parameter after a refinement.

    Attributes
    ----------
    name : str
        ``scale``, ``zoom``, ``expansion``, ``delta2``, ``qdamp``, ``u_Au``,
        ``b_Au``, ``background``, ``a``, ``spdiameter``, ...
    value : float
    uncertainty : float or None
        One standard deviation from the fit's Jacobian (srfit's ``FitResults``),
        scaled by sqrt(reduced chi^2) when the data carry no uncertainties, as
        PDFgui and srfit report them; None for a fixed parameter.
    unit : str
        ``"Å"``, ``"Å²"``, ``"1/Å"`` or ``""``.
    refined : bool
        False when the value was held fixed.
    """

    name: str
    value: float
    uncertainty: float | None
    unit: str = ""
    refined: bool = True

    def flag(self, factor: float = 1.0) -> str:
        """Why this value is not a measurement (``""`` if it is one): see
        :func:`~swaxs_lib.refine.significance.parameter_flag`; ``factor`` is the fit's Nyquist factor."""
        return parameter_flag(self.name, self.value, self.uncertainty, self.refined, factor)

    def text(self, factor: float = 1.0) -> str:
        """``0.01234 ± 5e-05 Å²``-like text for tables, with what the data do not determine said."""
        unit = f" {self.unit}" if self.unit else ""
        flag = self.flag(factor)
        if flag == FLAG_AT_BOUND:
            return f"{self.value:.6g}{unit} (at a bound: not determined)"
        if self.uncertainty is None or not math.isfinite(self.uncertainty) or self.uncertainty <= 0:
            return f"{self.value:.6g}{unit} (fixed)"
        text = f"{self.value:.6g} ± {self.uncertainty:.2g}{unit}"
        if flag == FLAG_SIGMA:
            text += (" (not determined: σ ≥ |value|)" if factor == 1 else
                     f" (not determined: σ × {factor:.3g} (Nyquist) ≥ |value|)")
        return text


@dataclass(frozen=True)
class RefinementResult:
    """A refined model against one measured curve.

    Attributes
    ----------
    kind : {"gr", "iq", "sq", "fq"}
        What was fitted.
    model : str
        ``"cluster"`` (discrete Debye/real-space model of given atoms),
        ``"crystal"`` (periodic structure) or ``"nanoparticle"`` (crystal
        times a spherical envelope of refined diameter).
    rw : float
        sqrt(sum w (y - y_fit)^2 / sum w y^2) over the fit range (w = 1/sigma^2,
        or as chosen by ``weighting``).
    chi2_reduced : float
        sum w (y - y_fit)^2 / (n - n_refined).
    values : tuple of RefinedValue
    x : numpy.ndarray
        r (Å) or Q (1/Å) of the fit range.
    data, fitted : numpy.ndarray
        Measured and fitted curve on ``x``.
    x_min, x_max : float
        Fit range (Å or 1/Å).
    weighting : str
        ``"sigma"``, ``"relative"`` or ``"uniform"``.
    n_evaluations : int
        Model evaluations the optimiser used.
    converged : bool
    message : str
        The optimiser's last word.
    settings : tuple of (str, Any)
        Everything else that defines the fit (Q range, fixed values, engine,
        cluster description), JSON-friendly.
    """

    kind: str
    model: str
    rw: float
    chi2_reduced: float
    values: tuple[RefinedValue, ...]
    x: np.ndarray
    data: np.ndarray
    fitted: np.ndarray
    x_min: float
    x_max: float
    weighting: str
    n_evaluations: int
    converged: bool
    message: str
    settings: tuple[tuple[str, Any], ...] = field(default=())

    @property
    def difference(self) -> np.ndarray:
        """data - fitted."""
        return self.data - self.fitted

    def value(self, name: str) -> float:
        """The value of parameter ``name``.

        Raises
        ------
        SwaxsInputError
            No such parameter.
        """
        for v in self.values:
            if v.name == name:
                return v.value
        raise SwaxsInputError(f"parameter {name!r}: not in this result; expected one of "
                              f"{', '.join(v.name for v in self.values)}")

    def uncertainty(self, name: str) -> float | None:
        for v in self.values:
            if v.name == name:
                return v.uncertainty
        raise SwaxsInputError(f"parameter {name!r}: not in this result")

    def columns(self) -> dict[str, np.ndarray]:
        """The fit as CSV columns: x, data, fitted, difference (units in names)."""
        x_name = X_COLUMNS["r" if self.kind == "gr" else "q"]
        value = VALUE_COLUMNS[self.kind]
        return {x_name: self.x, f"data_{value}": self.data, f"fitted_{value}": self.fitted,
                f"difference_{value}": self.difference}

    @property
    def n_refined(self) -> int:
        """P: the parameters the fit refined, those that stopped at a bound included (not ``expansion``)."""
        return sum(1 for v in self.values if v.refined and v.name != "expansion")

    @property
    def n_independent_points(self) -> int:
        """N_ind of the fit range (:func:`~swaxs_lib.refine.significance.independent_points`)."""
        q_max = dict(self.settings).get("q_max_inv_angstrom")
        if self.kind == "gr" and q_max is None:
            return int(len(self.x))
        return independent_points(self.kind, self.x_min, self.x_max, int(len(self.x)), q_max)

    @property
    def sigma_nyquist_factor(self) -> float:
        """What the uncertainties are multiplied by to count only independent points (1 for Q-space data)."""
        return sigma_nyquist_factor(int(len(self.x)), self.n_independent_points, self.n_refined, self.weighting)

    def flags(self) -> dict[str, str]:
        """Parameter name -> why its value is not a measurement (``""``: it is one); see
        :func:`~swaxs_lib.refine.significance.parameter_flag`."""
        factor = self.sigma_nyquist_factor
        return {v.name: v.flag(factor) for v in self.values}

    def undetermined(self) -> list[str]:
        """Refined parameters the data do not determine (stopped at a bound, or sigma >= |value|)."""
        return sorted(name for name, flag in self.flags().items() if flag in (FLAG_AT_BOUND, FLAG_SIGMA))

    def summary(self) -> dict[str, Any]:
        """JSON-friendly: R_w, every value, its uncertainty and flag (``name``, ``name_sigma``,
        ``name_flag``), the independent-point count, the undetermined parameters, settings."""
        factor = self.sigma_nyquist_factor
        out: dict[str, Any] = {"kind": self.kind, "model": self.model, "rw": _finite(self.rw),
                               "chi2_reduced": _finite(self.chi2_reduced), "x_min": self.x_min,
                               "x_max": self.x_max, "n_points": int(len(self.x)),
                               "n_independent_points": self.n_independent_points, "n_refined": self.n_refined,
                               "sigma_nyquist_factor": _finite(factor), "weighting": self.weighting,
                               "converged": self.converged, "n_evaluations": self.n_evaluations}
        for v in self.values:
            out[v.name] = _finite(v.value)
            out[f"{v.name}_sigma"] = None if v.uncertainty is None else _finite(v.uncertainty)
            out[f"{v.name}_flag"] = v.flag(factor)
        out["undetermined"] = self.undetermined()
        out["settings"] = {k: v for k, v in self.settings}
        return out

    __eq__ = fields_equal

    def to_json(self) -> dict[str, Any]:
        """Everything in JSON types, with ``schema`` (:mod:`swaxs_lib.versioned`)."""
        return {
            SCHEMA_KEY: SCHEMA, "kind": self.kind, "model": self.model, "rw": float(self.rw),
            "chi2_reduced": float(self.chi2_reduced),
            "values": [{"name": v.name, "value": float(v.value),
                        "uncertainty": None if v.uncertainty is None else float(v.uncertainty),
                        "unit": v.unit, "refined": bool(v.refined)} for v in self.values],
            "x": array_to_json(self.x), "data": array_to_json(self.data), "fitted": array_to_json(self.fitted),
            "x_min": float(self.x_min), "x_max": float(self.x_max), "weighting": self.weighting,
            "n_evaluations": int(self.n_evaluations), "converged": bool(self.converged), "message": self.message,
            "settings": plain([[k, v] for k, v in self.settings]),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> "RefinementResult":
        """The result :meth:`to_json` wrote (a mapping or its JSON text); settings come back in JSON types.

        Raises
        ------
        SwaxsInputError
            Not what ``to_json`` writes, or a newer schema.
        """
        data = as_mapping(data, "fit result")
        schema_of(data, "fit result", SCHEMA)
        with reading("fit result"):
            values = tuple(RefinedValue(v["name"], float(v["value"]),
                                        None if v["uncertainty"] is None else float(v["uncertainty"]),
                                        v.get("unit", ""), bool(v.get("refined", True))) for v in data["values"])
            return cls(kind=data["kind"], model=data["model"], rw=float(data["rw"]),
                       chi2_reduced=float(data["chi2_reduced"]), values=values,
                       x=array_from_json(data["x"], "x"), data=array_from_json(data["data"], "data"),
                       fitted=array_from_json(data["fitted"], "fitted"), x_min=float(data["x_min"]),
                       x_max=float(data["x_max"]), weighting=data["weighting"],
                       n_evaluations=int(data["n_evaluations"]), converged=bool(data["converged"]),
                       message=data["message"], settings=tuple((k, v) for k, v in data.get("settings", [])))

    def parameter_row(self) -> dict[str, float | None]:
        """Every value and its uncertainty under a name carrying its unit (one CSV row / JSON object).

        ``a`` in Å becomes ``a_angstrom`` and ``a_angstrom_sigma``; ``u_Cd`` in
        Å² ``u_Cd_angstrom2``; ``qdamp`` ``qdamp_inv_angstrom``; dimensionless
        names (``scale``, ``sratio``, ``z_Se1``) stay as they are.  A sigma is
        None for a value held fixed or stopped at a bound.
        """
        from swaxs_lib.models.parameters import column_name

        out: dict[str, float | None] = {"rw": _finite(self.rw)}
        for v in self.values:
            name = column_name(v.name, v.unit)
            out[name] = _finite(v.value)
            out[f"{name}_sigma"] = None if v.uncertainty is None else _finite(v.uncertainty)
        return out


def _finite(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def rw_of(y: np.ndarray, y_fit: np.ndarray, weights: np.ndarray) -> float:
    """The weighted profile R (Toby 2006, eq. 2)."""
    num = float(np.sum(weights * (y - y_fit) ** 2))
    den = float(np.sum(weights * y**2))
    return math.sqrt(num / den) if den > 0 else math.inf


__all__ = ["RefinedValue", "RefinementResult", "SCHEMA", "rw_of"]
