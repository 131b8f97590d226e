"""What a prediction holds: the :class:`Prediction` and :class:`Match` records and their CSV rows.

:class:`Prediction` is what :func:`swaxs_lib.ml.predict.predict` returns (its
``to_dict`` is the ``predict`` command's JSON line); :class:`Match` one library
curve of :func:`swaxs_lib.ml.library.library_search`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from swaxs_lib.ml.catalog import ELEMENTS


@dataclass(frozen=True)
class Match:
    """One library curve and how well it fits.

    ``parameters`` are the builder's keyword arguments of the member in its
    element (:func:`member_parameters`): ``build_cluster(shape, element,
    **parameters)`` gives the library's atoms.  ``index`` is its row in the library.
    """

    rank: int
    shape_class: str
    shape: str
    family: str
    parameters: dict[str, Any]
    element: str
    extent_nm: float
    n_atoms: int
    rw: float
    scale: float
    background: float
    index: int


@dataclass(frozen=True)
class Prediction:
    """What the models say about one curve.

    Attributes
    ----------
    kind : str
        ``"iq"`` or ``"gr"``.
    shape : str or None
        The ``cluster`` command's shape name of the most probable class.
    shape_class : str or None
        The fine class (``marks_decahedron``, ``fcc_sphere`` ...).
    family, family_probability
        The most probable family of ``shape_class`` (``decahedron q=2 r=1``,
        ``fcc sphere`` ...; :func:`~swaxs_lib.ml.catalog.family_names`) and its probability.
    shape_probability : float or None
        Calibrated probability of ``shape`` (summed over its fine classes).
    probabilities : dict
        Every fine class's calibrated probability.
    shape_probabilities : dict
        Every ``shape`` name's probability.
    extent_nm, extent_interval_nm
        Predicted extent (largest distance between atom centres, nm: the
        database's label) and its 90 % interval.
    outer_diameter_nm, outer_diameter_interval_nm
        The extent plus one atomic diameter (the element's bulk
        nearest-neighbour distance; Au's when no element is known or
        predicted): what a particle image (TEM) measures.
    volume_diameter_nm, volume_diameter_interval_nm
        Diameter of the sphere with the volume of ``n_atoms`` atoms of the
        element's bulk volume: what a SAXS sphere fit or a PDF sphere envelope
        measures.  The sizes are defined in :mod:`swaxs_lib.structures.sizes`.
    n_atoms, n_atoms_interval
        Predicted atom count and its 90 % interval.
    element, element_probability, element_probabilities
        The element: the element model's answer over the allowed elements
        only (``element_source`` "model"), or the one given by the user or
        the file header (``element_source`` "user" / "header"), which then
        replaces the model's answer; None if neither gives one.
    element_source : str or None
        ``"model"``, ``"user"`` or ``"header"``: where ``element`` came from.
    allowed_elements : tuple of str
        The elements the prediction was restricted to (all six when nothing constrained it).
    element_model_probabilities : dict
        The element model's own probabilities, before the constraint (empty
        when no element model answered): kept to show a disagreement.
    size_window_inv_angstrom : (float, float) or None
        Where the size came from the window size model
        (:mod:`swaxs_lib.ml.windows`: a SAXS curve not covering 0.02–1 1/Å),
        the Q window it read (1/Å).
    primary_size : str or None
        Which size to read first: ``"volume_diameter"`` for a SAXS-only curve sized without a shape
        (SAXS determines the volume; the extent needs the shape, see ``size_note``), else ``"extent"``
        (the database's label); None without a size.
    size_note : str or None
        Why, with the held-out accuracy of both sizes, where ``primary_size`` is the volume diameter.
    size_physics : dict
        Where the extent of a SAXS-only curve came from the physics sizer
        (:mod:`swaxs_lib.ml.saxs_physics`): ``extent_probability`` (the posterior mass within one shell or
        5 % of the extent given), ``monodisperse_probability`` (of no spread of sizes, the data's own: without a
        ``monodisperse`` claim's prior), ``resolution_given`` (the curve's dQ was used), ``monodisperse_told``,
        ``misfit`` (the best
        hypothesis's residual variance over the curve's own point-to-point scatter: about 1 where a ladder
        member describes the curve), ``hypotheses`` and ``window_model_extent_nm`` (the window model's extent,
        for comparison); empty otherwise.
    tempering : dict
        Per model, the weight λ of the training prior mixed into its
        probabilities by its novelty (:func:`swaxs_lib.ml.domain.temper`; for
        the shape model the larger of its own and ``saxs_window``'s):
        the shape and element probabilities above are the tempered ones.
    size_range : dict
        The model-free size check of an I(Q) (:mod:`swaxs_lib.ml.domain`):
        ``status`` (inside, above, below, unknown; None when not checked),
        ``rg_angstrom``, ``sphere_diameter_nm`` and ``reason``.  Above or
        below the ladder, no size is given (the sizes are None) and
        ``size_out_of_range`` is True.
    in_domain : bool
    novelty : dict
        Novelty score per model used (<= 1: like the training data), and for
        an I(Q) sized by another model ``saxs_window``: its SAXS part's own
        (:func:`swaxs_lib.ml.windows.window_novelty`).
    warnings : tuple of str
    models : tuple of str
        The models that answered.
    matches : tuple of Match
        The closest library curves, best first.
    """

    kind: str
    shape: str | None
    shape_class: str | None
    family: str | None
    family_probability: float | None
    shape_probability: float | None
    probabilities: dict[str, float]
    shape_probabilities: dict[str, float]
    extent_nm: float | None
    extent_interval_nm: tuple[float, float] | None
    n_atoms: int | None
    n_atoms_interval: tuple[int, int] | None
    element: str | None
    element_probability: float | None
    element_probabilities: dict[str, float]
    in_domain: bool
    novelty: dict[str, float]
    warnings: tuple[str, ...]
    models: tuple[str, ...]
    matches: tuple[Match, ...] = field(default=())
    outer_diameter_nm: float | None = None
    outer_diameter_interval_nm: tuple[float, float] | None = None
    volume_diameter_nm: float | None = None
    volume_diameter_interval_nm: tuple[float, float] | None = None
    element_source: str | None = None
    allowed_elements: tuple[str, ...] = ELEMENTS
    element_model_probabilities: dict[str, float] = field(default_factory=dict)
    size_range: dict[str, Any] = field(default_factory=dict)
    tempering: dict[str, float] = field(default_factory=dict)
    size_window_inv_angstrom: tuple[float, float] | None = None
    primary_size: str | None = None
    size_note: str | None = None
    size_physics: dict[str, Any] = field(default_factory=dict)

    @property
    def size_out_of_range(self) -> bool:
        return self.size_range.get("status") in ("above", "below")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: the command's output line."""
        out = {k: getattr(self, k) for k in ("kind", "shape", "shape_class", "family", "family_probability",
                                              "shape_probability", "probabilities",
                                              "shape_probabilities", "extent_nm", "extent_interval_nm",
                                              "outer_diameter_nm", "outer_diameter_interval_nm", "volume_diameter_nm",
                                              "volume_diameter_interval_nm", "n_atoms", "n_atoms_interval", "element", "element_probability",
                                              "element_probabilities", "element_source", "element_model_probabilities",
                                              "in_domain", "novelty", "tempering", "models",
                                              "size_window_inv_angstrom", "primary_size", "size_note")}
        out["allowed_elements"] = list(self.allowed_elements)
        out["size_out_of_range"] = self.size_out_of_range
        out["size_range"] = dict(self.size_range)
        out["size_physics"] = dict(self.size_physics)
        out["warnings"] = list(self.warnings)
        out["matches"] = [m.__dict__ for m in self.matches]
        return out


def prediction_row(result: dict[str, Any]) -> dict[str, Any]:
    """One CSV row of a prediction (``Prediction.to_dict()`` plus ``data``, the input's id or file):
    the summary, every class's probability, the best match."""
    interval = result["extent_interval_nm"] or (math.nan, math.nan)
    n_interval = result["n_atoms_interval"] or (math.nan, math.nan)
    outer = result.get("outer_diameter_interval_nm") or (math.nan, math.nan)
    volume = result.get("volume_diameter_interval_nm") or (math.nan, math.nan)
    row = {"data": result.get("data", ""), "kind": result["kind"], "shape": result["shape"] or "",
           "shape_class": result["shape_class"] or "", "family": result.get("family") or "",
           "shape_probability": _number(result["shape_probability"]),
           "extent_nm": _number(result["extent_nm"]), "extent_low_nm": interval[0],
           "extent_high_nm": interval[1], "outer_diameter_nm": _number(result.get("outer_diameter_nm")),
           "outer_diameter_low_nm": outer[0], "outer_diameter_high_nm": outer[1],
           "volume_diameter_nm": _number(result.get("volume_diameter_nm")), "volume_diameter_low_nm": volume[0],
           "volume_diameter_high_nm": volume[1], "n_atoms": _number(result["n_atoms"]), "n_atoms_low": n_interval[0],
           "n_atoms_high": n_interval[1], "element": result["element"] or "",
           "element_probability": _number(result["element_probability"]),
           "element_source": result.get("element_source") or "", "in_domain": result["in_domain"],
           "size_out_of_range": bool(result.get("size_out_of_range", False)),
           "extent_probability": _number((result.get("size_physics") or {}).get("extent_probability"))}
    for name, p in result["probabilities"].items():
        row[f"p_{name}"] = p
    best = result["matches"][0] if result["matches"] else None
    row["best_match"] = "" if best is None else (
        f"{best['shape']} {json.dumps(best['parameters'], sort_keys=True)} {best['element']}")
    row["best_match_rw"] = math.nan if best is None else best["rw"]
    row["warnings"] = " | ".join(result["warnings"])
    return row


def matches_columns(matches: tuple[Match, ...]) -> dict[str, list]:
    """The matches as CSV columns; ``parameters`` as the builder's keyword arguments in sorted JSON."""
    keys = ("rank", "shape_class", "shape", "family", "parameters", "element", "extent_nm", "n_atoms", "rw",
            "scale", "background")
    return {k: [json.dumps(m.parameters, sort_keys=True) if k == "parameters" else getattr(m, k) for m in matches]
            for k in keys}


def _number(value) -> float:
    return math.nan if value is None else value


__all__ = ["Match", "Prediction", "matches_columns", "prediction_row"]
