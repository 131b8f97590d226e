"""Sweeps of candidate clusters: grids, ranking on synthetic data of a known decahedron, caching, the job."""

from __future__ import annotations

import numpy as np
import pytest

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import Measurement, read_measurement_bytes
from swaxs_lib.jobs import get_job, submit
from swaxs_lib.scattering import pair_distribution
from swaxs_lib.store import Store
from swaxs_lib.structures import decahedron
from swaxs_lib.sweep import DEFAULT_DECAHEDRA, candidates_for, parse_grid, sweep

OPTIONS = {"q_min_inv_angstrom": 0.8, "q_max_inv_angstrom": 24.0, "fix": ["qdamp"]}


def test_grid_texts():
    assert [tuple(d.values()) for d in parse_grid("decahedron", None)] == list(DEFAULT_DECAHEDRA)
    assert len(parse_grid("decahedron", "p=3..7,q=1,r=0..3")) == 20
    assert [d["shells"] for d in parse_grid("icosahedron", "shells=3|5|7")] == [3, 5, 7]
    assert [d["diameter_angstrom"] for d in parse_grid("sphere", "diameter_angstrom=10..15:2.5")] == [10.0, 12.5, 15.0]
    assert {d["lattice"] for d in parse_grid("sphere", "diameter_angstrom=20")} == {"fcc"}
    for bad, match in [("x=3", "not a parameter"), ("p=3..", "p=3..: "), ("p=9..3", "a <= b"), ("p", "name=value"),
                       ("p=1..30,q=1..30", "at most 500")]:
        with pytest.raises(SwaxsInputError, match=match):
            parse_grid("decahedron", bad)


def test_invalid_combinations_are_left_out_with_the_reason():
    valid, skipped = candidates_for("octahedron", "Au", parse_grid("octahedron", "length=5,cutoff=0..3"))
    assert [dict(c.params)["cutoff"] for c in valid] == [0, 1, 2]
    assert len(skipped) == 1 and "cutoff" in skipped[0][1]


@pytest.fixture(scope="module")
def synthetic():
    """G(r) of an Au (5,1,1) decahedron, distances 2 % longer, 1 % noise, B 0.6 Å², Q 0.8–24 1/Å."""
    atoms = decahedron("Au", 5, 1, 1).atoms
    r = np.arange(1.0, 30.0, 0.01)
    g = 0.7 * pair_distribution(atoms, r, 0.8, 24.0, b_iso_angstrom2=0.6, scale=1.02).g
    noisy = g + np.random.default_rng(20261202).normal(0, 0.01 * np.abs(g).max(), r.size)
    return Measurement("gr", r, noisy, None, "synthetic-dh511.gr", "angstrom")


def test_sweep_ranks_the_true_decahedron_first_and_recovers_the_expansion(tmp_path, synthetic):
    store = Store(tmp_path / "sweep.duckdb")
    seen = []
    result = sweep(store, synthetic, "decahedron", "Au", None, OPTIONS, workers=2,
                   report=lambda done, total, note: seen.append((done, total)))
    assert len(result.rows) == 16 and result.computed == 16 and result.reused == 0
    best = result.rows[0]
    assert dict(best.candidate.params) == {"p": 5, "q": 1, "r": 1}
    assert best.summary["expansion"] == pytest.approx(0.02, abs=0.002)
    assert best.summary["u_Au"] == pytest.approx(0.6 / (8 * np.pi**2), rel=0.1)
    assert result.rows[1].rw > best.rw
    assert [r.rank for r in result.rows] == list(range(1, 17))
    assert seen[-1] == (16, 16)
    table = result.table()
    assert list(table)[:6] == ["rank", "shape", "element", "p", "q", "r"]
    assert table["rw"] == sorted(table["rw"])
    stored = store.get_result(best.result_id)
    assert stored.kind == "fit" and len(stored.result["curves"]["fitted"]) == len(stored.result["curves"]["x"])

    # the same sweep again computes nothing; a larger one only its new candidates
    again = sweep(store, synthetic, "decahedron", "Au", None, OPTIONS, workers=2)
    assert again.computed == 0 and again.reused == 16
    assert [r.result_id for r in again.rows] == [r.result_id for r in result.rows]
    larger = sweep(store, synthetic, "decahedron", "Au", "p=5|8,q=1,r=1", OPTIONS, workers=1)
    assert larger.computed == 1 and larger.reused == 1
    # other options are other fits
    other = sweep(store, synthetic, "decahedron", "Au", "p=5,q=1,r=1", {**OPTIONS, "x_max": 20.0}, workers=1)
    assert other.computed == 1


def test_the_sweep_job_stores_the_ranking(tmp_path, synthetic):
    store = Store(tmp_path / "job.duckdb")
    raw = "\n".join(f"{x:.3f} {y:.8g}" for x, y in zip(synthetic.x, synthetic.values)).encode()
    dataset = store.add_dataset("synthetic", raw, "synthetic.gr", read_measurement_bytes(raw, "synthetic.gr"))
    job = submit(store, "sweep", {"dataset_id": dataset.id, "shape": "decahedron", "element": "Au",
                                  "grid": "p=4..5,q=1,r=1", "options": OPTIONS, "workers": 1}, detach=False)
    record = get_job(store, job.id)
    assert record.status == "done", record.message
    ranking = record.result["ranking"]
    assert ranking["p"][0] == 5 and ranking["rank"] == [1, 2]
    assert record.result["progress"]["done"] == 2


def test_a_grid_parameter_named_like_a_derived_column_appears_once_with_the_grid_value():
    # the README's sphere sweep: the grid's diameter_angstrom and the cluster's size share a name
    from swaxs_lib.io.tables import csv_text
    from swaxs_lib.sweep import Candidate, SweepResult, SweepRow

    def row(rank, d, extent, params_extra=()):
        c = Candidate("sphere", "Au", (("diameter_angstrom", d), ("lattice", "fcc"), *params_extra))
        return SweepRow(rank, c, 100 + rank, extent, 0.1 * rank, {"scale": 1.0, "scale_sigma": 0.01, "rw": 0.1},
                        f"id{rank}", False)

    table = SweepResult(rows=(row(1, 20.0, 19.38), row(2, 22.5, 21.04))).table()
    assert list(table) == ["rank", "shape", "element", "diameter_angstrom", "lattice", "n_atoms", "rw", "scale",
                           "scale_sigma", "result_id"]
    assert table["diameter_angstrom"] == [20.0, 22.5] and table["n_atoms"] == [101, 102]
    csv_text(table)  # equal lengths: writable
    # any name: a (hypothetical) grid parameter named like a refined value keeps the grid's value
    table = SweepResult(rows=(row(1, 20.0, 19.38, (("scale", 2),)),)).table()
    assert table["scale"] == [2] and table["scale_sigma"] == [0.01]
