"""SAXS model fits in the store: a fit row that keeps the whole :class:`~swaxs_lib.saxs.sasfit.SaxsFit` and its form.

A row written by :func:`save_saxs_fit` is an ordinary fit row
(:func:`swaxs_lib.store.fits.read_fit` reads it as a :class:`StoredFit`, and
Home lists it); beside the StoredFit's JSON its ``result`` holds
``saxs_fit`` (:meth:`SaxsFit.to_json`: values, σ, correlations, curves with
their σ), so that :func:`read_saxs_fit` gives back exactly what was shown
without refitting.  ``params`` hold what was asked: ``page`` (``"saxs"``),
``model`` (the sasmodels name, ``sphere@hardsphere``), ``form_factor`` and
``options`` (the keyword arguments of :func:`~swaxs_lib.saxs.sasfit.fit_saxs`,
bounds as [low, high] lists).  :func:`fit_cache_key` hashes the dataset id
(stored datasets never change), the form and the library version, so that the
same fit asked again is found with :meth:`~swaxs_lib.store.Store.find_result`.

Validation: tests/test_saxs_fit.py (a stored fit reads back with the same
χ²_red, values and σ; the SAXS page reopens it from its link).
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import TYPE_CHECKING, Any, Mapping

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.versioned import plain

if TYPE_CHECKING:
    from swaxs_lib.saxs.sasfit import SaxsFit
    from swaxs_lib.store import ResultRecord, Store


def plain_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """``fit_saxs`` keyword arguments in JSON types (bounds as [low, high]; ±inf as None)."""
    out = dict(options)
    if out.get("bounds"):
        out["bounds"] = {k: [None if not math.isfinite(float(v)) else float(v) for v in pair]
                         for k, pair in out["bounds"].items()}
    return plain(out)


def options_from_json(options: Mapping[str, Any]) -> dict[str, Any]:
    """What :func:`plain_options` wrote, back as ``fit_saxs`` keyword arguments (bounds as tuples, None as ±inf)."""
    out = dict(options)
    if out.get("bounds"):
        out["bounds"] = {k: (-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))
                         for k, (lo, hi) in out["bounds"].items()}
    return out


def fit_cache_key(dataset_id: str, form_factor: str, options: Mapping[str, Any]) -> str:
    """A hash of everything that defines a page's fit: dataset id, form factor, options, library version."""
    import swaxs_lib

    text = json.dumps({"task": "saxs-fit", "dataset_id": dataset_id, "form_factor": form_factor,
                       "options": plain_options(options), "version": swaxs_lib.__version__}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def save_saxs_fit(store: "Store", fit: "SaxsFit", *, dataset_id: str, form_factor: str,
                  options: Mapping[str, Any], cache_key: str | None = None, owner: str = "") -> "ResultRecord":
    """Write ``fit`` as a fit row that :func:`read_saxs_fit` reads back whole.

    Parameters
    ----------
    store : Store
    fit : SaxsFit
    dataset_id : str
        The stored I(Q) fitted.
    form_factor : str
        The form factor asked for (``sphere``; the fit's model adds the structure factor).
    options : mapping
        The keyword arguments of ``fit_saxs`` (polydispersity, structure factor, resolution, start,
        bounds, fix, free).
    cache_key : str, optional
        :func:`fit_cache_key` of the same inputs.
    owner : str
        Who saved it (:mod:`swaxs_lib.access`).
    """
    from swaxs_lib.store.fits import StoredFit

    stored = StoredFit.from_fit(fit, producer="saxs", dataset_id=dataset_id)
    result = stored.to_json()
    result.pop("inputs")
    result["saxs_fit"] = fit.to_json()
    params = {"page": "saxs", "model": fit.model, "form_factor": form_factor, "options": plain_options(options)}
    return store.add_result("fit", params, result=result, dataset_id=dataset_id,
                            message=f"SAXS fit: {fit.model} χ²_red {fit.chi2_reduced:.4g}", cache_key=cache_key,
                            owner=owner)


def read_saxs_fit(record: "ResultRecord") -> tuple["SaxsFit", str, dict[str, Any]]:
    """The fit, form factor and ``fit_saxs`` options of a row :func:`save_saxs_fit` wrote.

    Raises
    ------
    SwaxsInputError
        Not a fit row, or one without a whole SAXS fit (another page's, or a SAXS fit saved before
        the fits kept their form).
    """
    from swaxs_lib.saxs.sasfit import SaxsFit

    if record.kind != "fit":
        raise SwaxsInputError(f"result id {record.id!r}: is a {record.kind}, not a fit; expected a SAXS model fit")
    params, result = dict(record.params or {}), dict(record.result or {})
    if params.get("page") != "saxs" or "saxs_fit" not in result or "options" not in params:
        raise SwaxsInputError(f"result id {record.id!r}: a fit by {params.get('page') or 'another page'} without "
                              "its SAXS form; expected a SAXS model fit stored by the SAXS page")
    fit = SaxsFit.from_json(result["saxs_fit"])
    return fit, str(params.get("form_factor") or fit.model.split("@")[0]), options_from_json(params["options"])


__all__ = ["fit_cache_key", "options_from_json", "plain_options", "read_saxs_fit", "save_saxs_fit"]
