"""Typed, versioned results: JSON round trips (through the store too) and rows stored by earlier versions.

The old rows are tests/data/stored_rows_v0.json, written by swaxs before results carried a schema
version (its ``_source`` says how): the migrated objects must give back what was stored and shown then.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.jobs import JobProgress
from swaxs_lib.refine.significance import RankTest, rank_test
from swaxs_lib.relax import RelaxTrace, job_trace, relax_cluster
from swaxs_lib.store import Store
from swaxs_lib.store.fits import FitCurves, StoredFit, read_fit, save_fit
from swaxs_lib.structures import build_cluster, decahedron
from swaxs_lib.structures.metadata import ClusterInfo
from swaxs_lib.sweep import Candidate, GridEdge, SweepResult, SweepRow
from swaxs_lib.versioned import same

ROOT = Path(__file__).resolve().parents[1]
OLD = json.loads((ROOT / "tests" / "data" / "stored_rows_v0.json").read_text())


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "results.duckdb")


def through_store(store: Store, data: dict) -> dict:
    """``data`` stored as a job's result and read back (keys sorted, NaN and infinity as the store keeps them)."""
    row = store.add_result("job", {"task": "selftest"}, result=data)
    return store.get_result(row.id).result


def a_sweep_result() -> SweepResult:
    summary = {"kind": "gr", "rw": 0.1, "scale": 0.7, "scale_sigma": 0.01, "scale_flag": "", "n_refined": 4,
               "undetermined": ["delta2"], "settings": {"q_max_inv_angstrom": 24.0, "fixed": ["qdamp"]}}
    rows = (
        SweepRow(1, Candidate("decahedron", "Au", (("p", 5), ("q", 1), ("r", 1))), 282, 26.6991, 20.9725, 0.1,
                 summary, "id-1", False),
        # a sphere cut from a crystal; its volume diameter unknown (NaN), its fit failed (R_w inf)
        SweepRow(2, Candidate("sphere", "CdSe", (("diameter_angstrom", 25.0),), "data_cdse\n_cell_length_a 4.3\n"),
                 190, 24.1, math.nan, math.inf, {**summary, "rw": None}, "id-2", True),
    )
    test = rank_test([0.1, math.inf], 217, [4, 4])
    edge = GridEdge((("p", "highest", 5),), "p=4..7,q=1,r=1")
    return SweepResult(rows, (("Au decahedron p=9", "too many atoms"),), computed=1, reused=1, test=test, edge=edge)


def test_a_sweep_result_round_trips_through_json_and_the_store(store):
    result = a_sweep_result()
    data = result.to_json()
    assert data["schema"] == 1 and same(json.loads(json.dumps(data)), data)  # plain JSON: no tuples, no arrays
    assert SweepResult.from_json(data) == result
    assert SweepResult.from_json(json.dumps(data)) == result
    back = SweepResult.from_json(through_store(store, data))
    assert back == result and back.rows[1].candidate.crystal.startswith("data_cdse")
    assert math.isnan(back.rows[1].volume_diameter_angstrom) and back.rows[1].rw == math.inf
    assert same(back.table(), result.table()) and back.significance() == result.significance()
    # equality is not vacuous: any field that differs makes the objects differ
    assert SweepResult.from_json(data) != replace(result, computed=2)
    assert SweepResult.from_json(data) != replace(result, rows=(replace(result.rows[0], extent_angstrom=26.7),
                                                                result.rows[1]))
    for part in (result.test, result.edge, result.rows[0]):
        assert type(part).from_json(through_store(store, part.to_json())) == part


def test_a_sweep_job_stored_before_schemas_reads_as_it_was_shown():
    old = OLD["sweep_job"]["result"]
    assert "schema" not in old and "ranking" in old
    result = SweepResult.from_json(old)
    # the ranking table and the significance the Refine page showed, rebuilt from the typed rows
    assert result.table() == old["ranking"]
    significance = result.significance()
    assert {k: v for k, v in significance.items() if k != "size"} == {k: v for k, v in old["significance"].items()
                                                                       if k != "size"}
    # the sizes were stored to 4 decimals, the window to 3
    assert significance["size"]["best"] == pytest.approx(old["significance"]["size"]["best"], abs=1e-3)
    assert significance["size"]["window"] == pytest.approx(old["significance"]["size"]["window"], abs=1e-3)
    assert result.best.candidate.label() == old["best"] == "Au decahedron (5,1,1)"
    assert (result.computed, result.reused, result.skipped) == (2, 0, ())
    assert result.test.n_independent == 217 and result.test.comparisons[1].nu == 217 - 4
    assert result.edge.extended_grid == "p=4..7,q=1,r=1"
    # and it can be stored again in today's schema
    assert SweepResult.from_json(result.to_json()) == result


def test_a_relax_trace_round_trips_with_its_positions(store):
    trace = relax_cluster(decahedron("Au", 2, 1, 0).atoms, max_steps=3, refine_options={"fix": ("qdamp",)})
    assert trace.steps[0].positions_angstrom.shape == (len(trace.symbols), 3)
    data = trace.to_json()
    assert data["schema"] == 1 and same(json.loads(json.dumps(data)), data)
    back = RelaxTrace.from_json(through_store(store, data))
    assert back == trace
    np.testing.assert_array_equal(back.steps[-1].positions_angstrom, trace.steps[-1].positions_angstrom)
    assert back.columns() == trace.columns()
    moved = trace.steps[-1].positions_angstrom.copy()
    moved[0, 0] += 1e-9
    assert back != replace(trace, steps=(*trace.steps[:-1], replace(trace.steps[-1], positions_angstrom=moved)))
    # a job stores it without positions (its frames are blobs)
    bare = trace.without_positions()
    assert RelaxTrace.from_json(bare.to_json()) == bare != trace
    with pytest.raises(SwaxsInputError, match="stored without positions"):
        bare.atoms()


def test_a_relax_job_stored_before_schemas_reads_as_it_was_shown():
    old = OLD["relax_job"]["result"]
    assert "schema" not in old and "trace" in old
    trace = job_trace(old)
    # the numbers shown then, under today's names (units in them, docs/csv.md), the step first
    units = {"u_Au": "u_Au_angstrom2", "delta2": "delta2_angstrom2", "qdamp": "qdamp_inv_angstrom"}
    assert trace.columns() == {units.get(k, k): v for k, v in RelaxTrace.upgrade_columns(old["trace"]).items()}
    assert list(trace.columns())[0] == "step" and list(old["trace"])[0] != "step"
    best = trace.best_rw_step()
    assert (best.step, best.rw) == (old["best_rw_step"], old["best_rw"])
    assert (trace.steps[-1].step, trace.converged, trace.optimizer, trace.calculator) == (
        old["n_steps"], old["converged"], old["optimizer"], old["calculator"])
    assert trace.symbols == tuple(old["symbols"])
    # a job still running stored only the trace and the symbols; before its first step, nothing
    running = job_trace({"trace": old["trace"], "symbols": old["symbols"], "progress": old["progress"]})
    assert running.columns() == trace.columns() and running.calculator == ""
    assert job_trace({"progress": old["progress"]}) is None and job_trace(None) is None


def a_stored_fit() -> StoredFit:
    cluster = build_cluster("icosahedron", "Au", shells=2)
    x = np.linspace(1.5, 30.0, 7)
    return StoredFit(
        producer="test", model="cluster", kind="gr",
        summary={"kind": "gr", "model": "cluster", "rw": 0.2, "x_min": 1.5, "x_max": 30.0, "scale": 0.8,
                 "scale_sigma": 0.01, "scale_flag": "", "u_Au": 0.01, "u_Au_sigma": None, "u_Au_flag": "at_bound",
                 "sigma_nyquist_factor": 3.5, "settings": {"q_max_inv_angstrom": 24.0}},
        curves=FitCurves(x, np.sin(x), np.sin(x) + 0.01), cluster=cluster.info, cluster_hash="abc",
        dataset_id=None, units=(("scale", ""), ("u_Au", "Å²")),
        inputs={"page": "test", "params": {"shells": 2}})


def test_a_stored_fit_round_trips_and_is_saved_and_read_as_a_fit_row(store):
    fit = a_stored_fit()
    data = fit.to_json()
    assert data["schema"] == 1 and same(json.loads(json.dumps(data)), data)
    assert StoredFit.from_json(data) == fit and StoredFit.from_json(json.dumps(data)) == fit
    assert StoredFit.from_json(data) != replace(fit, curves=replace(fit.curves, fitted=fit.curves.fitted + 1e-12))
    record = save_fit(store, fit, cache_key="k")
    assert record.kind == "fit" and record.params == fit.inputs and "inputs" not in record.result
    assert record.cluster_hash == "abc" and store.find_result("k").id == record.id
    assert read_fit(store.get_result(record.id)) == fit
    assert [v.text() for v in fit.values()] == ["0.8 ± 0.01", "0.01 Å² (at a bound: not determined)"]
    assert fit.parameter_row() == {"rw": 0.2, "scale": 0.8, "scale_sigma": 0.01, "u_Au_angstrom2": 0.01,
                                   "u_Au_angstrom2_sigma": None}
    assert list(fit.columns()) == ["r_angstrom", "data_g_inv_angstrom2", "fitted_g_inv_angstrom2",
                                   "difference_g_inv_angstrom2"]
    with pytest.raises(SwaxsInputError, match="not a fit"):
        read_fit(store.add_result("job", {"task": "x"}, result=data))


def test_fit_rows_stored_before_schemas_are_read():
    old = OLD["sweep_fit"]
    record_like = {**old["result"], "inputs": old["params"]}
    fit = StoredFit.from_json(record_like)
    assert (fit.producer, fit.model, fit.kind) == ("sweep", "cluster", "gr")
    assert fit.summary == old["result"]["summary"] and fit.cluster_hash == old["cluster_hash"]
    assert fit.cluster == ClusterInfo.from_dict(old["result"]["cluster"]) and fit.cluster.n_atoms == 282
    np.testing.assert_array_equal(fit.curves.x, old["result"]["curves"]["x"])
    assert Candidate.of_fit(fit) == Candidate("decahedron", "Au", (("p", 5), ("q", 1), ("r", 1)))
    assert set(fit.value_names()) == {"scale", "zoom", "expansion", "u_Au", "delta2", "qdamp"}

    old = OLD["compare_fit"]
    fit = StoredFit.from_json({**old["result"], "inputs": old["params"]})
    assert (fit.producer, fit.curves, fit.cluster.formula) == ("compare", None, "Au55")
    assert fit.rw == old["result"]["rw"] and fit.value("scale") == old["result"]["scale"]
    assert (fit.x_min, fit.x_max) == (2.0, 20.0)

    old = OLD["crystal_job"]["result"]
    fit = StoredFit.from_json(old)
    assert (fit.producer, fit.model) == ("crystal", "crystal")
    # the page's table and parameter CSV as they were stored
    assert [[v.name, v.text()] for v in fit.values()] == old["values"]
    assert fit.parameter_row() == old["parameters"]
    assert StoredFit.from_json(fit.to_json()) == fit


def test_cluster_info_reads_what_it_wrote_and_the_shape_before_sizes_were_named():
    info = build_cluster("decahedron", "Au", p=2, q=1, r=1).info
    assert ClusterInfo.from_dict(json.loads(json.dumps(info.to_dict()))) == info
    before = {k: v for k, v in info.to_dict().items() if k not in ("extent_angstrom", "outer_diameter_angstrom",
                                                                   "volume_diameter_angstrom")}
    old = ClusterInfo.from_dict({**before, "diameter_angstrom": 12.5})
    assert old.extent_angstrom == 12.5 and old.volume_diameter_angstrom is None
    with pytest.raises(SwaxsInputError, match="cluster info"):
        ClusterInfo.from_dict({"shape": "x"})


@pytest.mark.parametrize("cls, data", [(SweepResult, a_sweep_result().to_json()), (StoredFit, a_stored_fit().to_json()),
                                       (RankTest, a_sweep_result().test.to_json()),
                                       (JobProgress, JobProgress(1, 2, 0.5, None, "").to_json())])
def test_newer_schemas_and_unreadable_data_are_refused(cls, data):
    with pytest.raises(SwaxsInputError, match="written by a newer swaxs"):
        cls.from_json({**data, "schema": 2})
    with pytest.raises(SwaxsInputError, match="not JSON"):
        cls.from_json("{not json")
    with pytest.raises(SwaxsInputError, match="expected an integer"):
        cls.from_json({**data, "schema": "1"})
    if cls is not JobProgress:  # progress reads missing fields as nothing done
        with pytest.raises(SwaxsInputError, match="not readable"):
            cls.from_json({"schema": 1})


def test_a_sweep_reuses_a_fit_row_stored_before_schemas(store):
    # the measurement the old row was fitted to, made as tests/data/stored_rows_v0.json's _source says
    from swaxs_lib.io import read_measurement_bytes
    from swaxs_lib.scattering import pair_distribution
    from swaxs_lib.sweep import RefineOptions, fit_key, measurement_key, sweep

    old = OLD["sweep_fit"]
    r = np.arange(1.0, 30.0, 0.01)
    g = 0.7 * pair_distribution(decahedron("Au", 5, 1, 1).atoms, r, 0.8, 24.0, b_iso_angstrom2=0.6, scale=1.02).g
    noisy = g + np.random.default_rng(20261202).normal(0, 0.01 * np.abs(g).max(), r.size)
    raw = "\n".join(f"{x:.3f} {y:.8g}" for x, y in zip(r, noisy)).encode()
    measurement = read_measurement_bytes(raw, "synthetic.gr")
    assert measurement_key(measurement) == old["params"]["data_key"]
    options = {"q_min_inv_angstrom": 0.8, "q_max_inv_angstrom": 24.0, "fix": ["qdamp"]}
    candidate = Candidate("decahedron", "Au", (("p", 5), ("q", 1), ("r", 1)))
    key = fit_key(old["params"]["data_key"], candidate, RefineOptions.from_mapping(options))
    row = store.add_result("fit", old["params"], result=old["result"], cluster_hash=old["cluster_hash"], cache_key=key)
    result = sweep(store, measurement, "decahedron", "Au", "p=5,q=1,r=1", options, workers=1)
    assert (result.computed, result.reused) == (0, 1)
    best = result.best
    assert best.result_id == row.id and best.summary == old["result"]["summary"] and best.n_atoms == 282
    assert best.volume_diameter_angstrom == old["result"]["cluster"]["volume_diameter_angstrom"]
