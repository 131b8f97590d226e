"""Rows stored before results carried a schema version (version 0), read into today's typed results.

Until results became frozen, versioned dataclasses (:mod:`swaxs_lib.versioned`)
jobs and pages stored plain dicts; a store written then still holds them.
Each function here takes such a dict, as the store gives it back (keys
sorted, tuples as lists, non-finite numbers as the JSON wrote them), and
returns today's object; the ``from_json`` of each class calls it for data
without a ``schema`` key.  The shapes, with the commit that last wrote them,
are in tests/data/stored_rows_v0.json, which tests/test_results.py reads.

- :func:`stored_fit`: a sweep's fit row, the Compare page's fit row, a crystal job's result;
- :func:`sweep_result`: a sweep job's result (its ranking as CSV columns);
- :func:`relax_trace`: a relax job's result (its trace as CSV columns).

What such a row never held is filled in as unknown (NaN, None, ``""``) and
said so in each function.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.versioned import reading


def stored_fit(params: Mapping[str, Any], result: Mapping[str, Any]):
    """A :class:`~swaxs_lib.store.fits.StoredFit` from a version-0 fit row or crystal job result.

    Parameters
    ----------
    params : mapping
        The row's params (what was asked; empty for a job's result).
    result : mapping
        Its result: ``{"summary", "curves", "cluster", "cluster_hash"}`` (a sweep's fit),
        ``{"summary", "curves", "values", "parameters", ...}`` (a crystal job) or
        ``{"rw", "scale", "background", "n_points", "weighting"}`` (the Compare page's fit, whose
        cluster and fit range are in ``params``).

    Notes
    -----
    Not stored then: the units of a sweep's values (read as ``""``); the kind of data
    the Compare page fitted (``""``) and its curves (None).
    """
    from swaxs_lib.store.fits import FitCurves, StoredFit
    from swaxs_lib.structures.metadata import ClusterInfo

    with reading("stored fit (stored before schema 1)"):
        if "summary" in result:
            summary = dict(result["summary"])
            crystal_job = "values" in result or "parameters" in result
            cluster = result.get("cluster")
            return StoredFit(
                producer=str(params.get("page") or ("crystal" if crystal_job else "")),
                model=str(summary.get("model", "")), kind=str(summary.get("kind", "")), summary=summary,
                curves=None if result.get("curves") is None else FitCurves.from_json(result["curves"]),
                cluster=None if cluster is None else ClusterInfo.from_dict(dict(cluster)),
                cluster_hash=result.get("cluster_hash"), dataset_id=result.get("dataset_id"),
                units=_crystal_units(result) if crystal_job else (), inputs=dict(params),
            )
        if "rw" in result and "cluster" in params:  # the Compare page's
            summary = {**{k: result[k] for k in ("rw", "scale", "background", "n_points", "weighting") if k in result},
                       "x_min": params.get("x_min"), "x_max": params.get("x_max"),
                       "expansion": params.get("expansion"), "b_iso_angstrom2": params.get("b_iso_angstrom2")}
            return StoredFit(producer=str(params.get("page") or "compare"), model="cluster", kind="",
                             summary=summary, curves=None, cluster=ClusterInfo.from_dict(dict(params["cluster"])),
                             dataset_id=result.get("dataset_id"), inputs=dict(params))
    raise SwaxsInputError(f"stored fit: keys {', '.join(sorted(result)) or 'none'}; expected a fit's summary "
                          "(a sweep's or crystal job's) or R_w and scale (the Compare page's)")


def _crystal_units(result: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """A crystal job's value names in order (its ``values``) with the units its ``parameters`` row's names carry."""
    from swaxs_lib.models.parameters import UNIT_SUFFIX, column_name

    names = [str(name) for name, _ in result.get("values") or ()]
    row = result.get("parameters") or {}
    units = []
    for name in names:
        found = [u for u in UNIT_SUFFIX if column_name(name, u) in row]
        units.append((name, found[0] if len(found) == 1 else ""))
    return tuple(units)


#: Columns of a version-0 ranking that are not a refined value (nor a shape parameter).
_RANKING_COLUMNS = ("rank", "shape", "element", "n_atoms", "extent_angstrom", "volume_diameter_angstrom",
                    "diameter_angstrom", "rw", "rw_ratio_to_best", "rw_ratio_critical", "p_value_vs_best",
                    "indistinguishable_from_best", "n_independent_points", "undetermined", "sigma_nyquist_factor",
                    "result_id")


def sweep_result(data: Mapping[str, Any]):
    """A :class:`~swaxs_lib.sweep.SweepResult` from a version-0 sweep job result.

    Such a result held the ranking as CSV columns (``ranking``: :meth:`SweepResult.table` of then),
    ``skipped``, ``computed``, ``reused``, ``best`` and, once rankings were tested, ``significance``
    (:meth:`SweepResult.significance` of then).  The rows, the test and the grid edge are rebuilt from
    them, so that ``table()`` and ``significance()`` give what was stored.

    Notes
    -----
    Not stored then, or only rounded: the candidate's cif (``crystal`` read as ``""``: the fit rows
    keep it); whether a row came from the cache (False); sizes to 4 decimals (so the size window of
    ``significance()`` may differ in its last decimal); each comparison's degrees of freedom, rebuilt as
    N_ind minus the values not flagged fixed (``expansion`` excepted, as ``n_refined`` counts).
    Rankings stored before the sizes were named hold the extent as ``diameter_angstrom`` (for spheres,
    whose grid parameter has that name, the extent is NaN); before the test, no test or edge.
    """
    from swaxs_lib.refine.significance import RankTest, RwComparison
    from swaxs_lib.structures.parameters import SHAPE_PARAMETERS
    from swaxs_lib.sweep import Candidate, GridEdge, SweepResult, SweepRow

    with reading("sweep result (stored before schema 1)"):
        table = data["ranking"]
        significance = data.get("significance") or {}
        n = len(table.get("rank") or ())
        shape_names = {name for params in SHAPE_PARAMETERS.values() for name in (p.name for p in params)}
        rows, n_refined = [], []
        for i in range(n):
            shape = str(table["shape"][i])
            names = [p.name for p in SHAPE_PARAMETERS.get(shape, ())]
            params = tuple((k, table[k][i]) for k in names if k in table and table[k][i] != "")
            values = [k for k in table if k not in _RANKING_COLUMNS and k not in shape_names]
            summary: dict[str, Any] = {k: _blank(table[k][i]) for k in values}
            if "undetermined" in table:
                summary["undetermined"] = str(table["undetermined"][i]).split()
            if "sigma_nyquist_factor" in table:
                factor = _blank(table["sigma_nyquist_factor"][i])
                summary["sigma_nyquist_factor"] = None if factor is None else float(factor)
            n_refined.append(sum(1 for k in values if k.endswith("_flag") and summary[k] != "fixed"
                                 and k != "expansion_flag"))
            if "extent_angstrom" in table:
                extent = _number(table["extent_angstrom"][i])
            elif "diameter_angstrom" in table and "diameter_angstrom" not in names:
                extent = _number(table["diameter_angstrom"][i])
            else:
                extent = math.nan
            volume = _number(table["volume_diameter_angstrom"][i]) if "volume_diameter_angstrom" in table else math.nan
            rows.append(SweepRow(rank=int(table["rank"][i]), candidate=Candidate(shape, str(table["element"][i]),
                                                                                params),
                                 n_atoms=int(table["n_atoms"][i]), extent_angstrom=extent,
                                 volume_diameter_angstrom=volume, rw=_number(table["rw"][i], math.inf),
                                 summary=summary, result_id=str(table["result_id"][i]), from_cache=False))
        test = None
        if significance.get("test") and "indistinguishable_from_best" in table and n:
            n_ind = int(significance["n_independent_points"])
            comparisons = []
            for i in range(n):
                critical = _blank(table["rw_ratio_critical"][i])
                if i == 0 and significance.get("rw_ratio_critical") is not None:
                    critical = significance["rw_ratio_critical"]  # the table's is rounded
                p = _blank(table["p_value_vs_best"][i])
                comparisons.append(RwComparison(_number(table["rw_ratio_to_best"][i], math.inf),
                                                None if critical is None else float(critical),
                                                None if p is None else float(p),
                                                bool(table["indistinguishable_from_best"][i]), n_ind - n_refined[i]))
            test = RankTest(tuple(comparisons), 0, float(significance["alpha"]), n_ind, str(significance["test"]),
                            str(significance.get("n_independent_method") or ""),
                            str(significance.get("test_note") or ""))
        edge = significance.get("best_on_grid_edge")
        return SweepResult(rows=tuple(rows), skipped=tuple((str(a), str(b)) for a, b in data.get("skipped") or ()),
                           computed=int(data.get("computed", 0)), reused=int(data.get("reused", 0)), test=test,
                           edge=None if edge is None else GridEdge.from_json(edge))


#: Columns of a version-0 relaxation trace that are not a refit's value.
_TRACE_COLUMNS = ("step", "energy_ev_per_atom", "fmax_ev_per_angstrom", "mean_nn_angstrom",
                  "radius_of_gyration_angstrom", "extent_angstrom", "volume_diameter_angstrom", "rw", "elapsed_s")


def relax_trace(data: Mapping[str, Any]):
    """A :class:`~swaxs_lib.relax.RelaxTrace` from a version-0 relax job result.

    Such a result held the trace as CSV columns (``trace``: :meth:`RelaxTrace.columns` of then, an empty
    cell where a step had no refit) and ``symbols``; once done also ``converged``, ``n_steps``,
    ``calculator``, ``optimizer``, ``best_rw_step`` and ``best_rw``.

    Notes
    -----
    Not stored then: positions (they are the job's blobs, as now); the force target
    (``fmax_target_ev_per_angstrom`` NaN), the step limit (``max_steps`` 0) and the settings;
    the calculator of a job still running (``""``).  Traces stored before the sizes were named hold
    the extent as ``diameter_angstrom`` (:meth:`RelaxTrace.upgrade_columns`).
    """
    from swaxs_lib.relax import RelaxStep, RelaxTrace

    with reading("relaxation trace (stored before schema 1)"):
        columns = RelaxTrace.upgrade_columns(data["trace"])
        refined_names = [k for k in columns if k not in _TRACE_COLUMNS]
        steps = []
        for i, step in enumerate(columns["step"]):
            rw = _blank(columns["rw"][i])
            steps.append(RelaxStep(
                step=int(step), energy_ev_per_atom=_number(columns["energy_ev_per_atom"][i]),
                fmax_ev_per_angstrom=_number(columns["fmax_ev_per_angstrom"][i]),
                mean_nn_angstrom=_number(columns["mean_nn_angstrom"][i]),
                radius_of_gyration_angstrom=_number(columns["radius_of_gyration_angstrom"][i]),
                extent_angstrom=_number(columns["extent_angstrom"][i]),
                volume_diameter_angstrom=_number(columns["volume_diameter_angstrom"][i]), positions_angstrom=None,
                rw=None if rw is None else float(rw),
                refined=tuple((name, float(columns[name][i])) for name in refined_names
                              if _blank(columns[name][i]) is not None),
                elapsed_s=_number(columns["elapsed_s"][i], 0.0) if "elapsed_s" in columns else 0.0,
            ))
        return RelaxTrace(symbols=tuple(str(x) for x in data["symbols"]), steps=tuple(steps),
                          optimizer=str(data.get("optimizer") or ""), calculator=str(data.get("calculator") or ""),
                          fmax_target_ev_per_angstrom=math.nan, max_steps=0,
                          converged=bool(data.get("converged", False)))


def _blank(value: Any) -> Any:
    """A CSV column's empty cell as None."""
    return None if value == "" else value


def _number(value: Any, missing: float = math.nan) -> float:
    return missing if value in ("", None) else float(value)


__all__ = ["relax_trace", "stored_fit", "sweep_result"]
