"""Sweeps of candidate clusters: grids, ranking on synthetic data of a known decahedron, caching, the job."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import Measurement, read_measurement_bytes
from swaxs_lib.jobs import get_job, progress_of, submit
from swaxs_lib.scattering import pair_distribution
from swaxs_lib.store import Store
from swaxs_lib.store.fits import read_fit
from swaxs_lib.structures import decahedron
from swaxs_lib.sweep import DEFAULT_DECAHEDRA, Candidate, SweepResult, candidates_for, grid_edge, parse_grid, sweep

ROOT = Path(__file__).resolve().parents[1]
AU_LAB = ROOT / "tests" / "data" / "au_np_scattbo" / "Experimental_PDF.gr"
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
    # 1 % white noise, Q_max 24: the true cluster is indistinguishable from itself and from a few others,
    # and the test does tell most candidates apart (it can say no)
    assert table["indistinguishable_from_best"][0] is True and table["p_value_vs_best"][0] == ""
    assert table["n_independent_points"][0] == math.floor((29.99 - 1.5) * 24.0 / math.pi)
    assert table["indistinguishable_from_best"].count(False) >= 10
    assert result.edge is None  # (5,1,1) lies inside the default grid's p = 3..7, r = 0..3
    assert {"u_Au_flag", "delta2_flag", "qdamp_flag", "undetermined"} <= set(table)
    assert set(table["qdamp_flag"]) == {"fixed"}
    stored = read_fit(store.get_result(best.result_id))
    assert stored.producer == "sweep" and len(stored.curves.fitted) == len(stored.curves.x) > 2000
    assert Candidate.of_fit(stored) == best.candidate and stored.cluster.n_atoms == best.n_atoms
    assert stored.summary == best.summary and stored.dataset_id is None

    # the same sweep again computes nothing; a larger one only its new candidates
    again = sweep(store, synthetic, "decahedron", "Au", None, OPTIONS, workers=2)
    assert again.computed == 0 and again.reused == 16
    assert [r.result_id for r in again.rows] == [r.result_id for r in result.rows]
    larger = sweep(store, synthetic, "decahedron", "Au", "p=5|8,q=1,r=1", OPTIONS, workers=1)
    assert larger.computed == 1 and larger.reused == 1
    # its best, p = 5, is the smallest p tried: the grid is extended two steps of 3 down, as far as p >= 1
    assert larger.edge.edges == (("p", "lowest", 5),) and larger.edge.extended_grid == "p=2..8:3,q=1,r=1"
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
    result = SweepResult.from_json(record.result)
    ranking = result.table()
    assert ranking["p"][0] == 5 and ranking["rank"] == [1, 2]
    assert progress_of(record).done == 2
    significance = result.significance()
    assert significance["alpha"] == 0.05 and significance["n_independent_points"] == ranking["n_independent_points"][0]
    assert significance["best_on_grid_edge"]["edges"] == [{"parameter": "p", "side": "highest", "value": 5}]
    assert significance["best_on_grid_edge"]["extended_grid"] == "p=4..7,q=1,r=1"


def test_grid_edges_respect_the_parameters_own_bounds():
    # r = 0 (an Ino decahedron) and p = 1 are limits of the shape, not of the grid
    grid = [(("p", p), ("q", 1), ("r", r)) for p in (1, 2, 3) for r in (0, 1, 2)]
    assert grid_edge("decahedron", grid, (("p", 1), ("q", 1), ("r", 0))) is None
    # the default decahedra are not a product grid: the suggestion is the product of their values
    default = [(("p", p), ("q", q), ("r", r)) for p, q, r in DEFAULT_DECAHEDRA]
    edge = grid_edge("decahedron", default, (("p", 7), ("q", 1), ("r", 2)))
    assert edge.edges == (("p", "highest", 7),) and edge.extended_grid == "p=3..9,q=1,r=0..3"
    assert len(parse_grid("decahedron", edge.extended_grid)) == 28
    # spheres: a float axis, a choice axis kept as it is, the upper bound (200 Å) respected
    spheres = [(("diameter_angstrom", d), ("lattice", "fcc")) for d in (190.0, 195.0, 200.0)]
    assert grid_edge("sphere", spheres, (("diameter_angstrom", 200.0), ("lattice", "fcc"))) is None
    spheres = [(("diameter_angstrom", d), ("lattice", "fcc")) for d in (30.0, 32.5, 35.0)]
    edge = grid_edge("sphere", spheres, (("diameter_angstrom", 35.0), ("lattice", "fcc")))
    assert edge.extended_grid == "diameter_angstrom=30..40:2.5,lattice=fcc" and "35 is the highest" in edge.message()
    # an uneven list stays a list
    uneven = [(("shells", s),) for s in (3, 4, 6)]
    assert grid_edge("icosahedron", uneven, (("shells", 3),)).extended_grid == "shells=2|3|4|6"  # shells >= 2


def test_the_measured_au_pdf_cannot_tell_the_decahedra_apart(tmp_path):
    """The Au lab PDF (Mo Kα, Q_max 10 1/Å): many decahedra are statistically indistinguishable from the best.

    The independent-point count is worked out here from the file's header (qmax = 10.0) and the default fit
    range 1.5-30 Å; the critical ratio from scipy's F quantile with nu = N_ind - 5 (scale, zoom, U_Au, delta2,
    Q damping refined).
    """
    header = AU_LAB.read_text().split("#### start data")[0]
    q_max = float(next(line.split("=")[1] for line in header.splitlines() if line.split("=")[0].strip() == "qmax"))
    assert q_max == 10.0
    n_ind = math.floor((30.0 - 1.5) * q_max / math.pi)  # 90 of the 2851 points in the range
    store = Store(tmp_path / "au.duckdb")
    raw = AU_LAB.read_bytes()
    result = sweep(store, read_measurement_bytes(raw, AU_LAB.name), "decahedron", "Au", "p=3..5,q=1,r=1|2",
                   workers=2)
    table = result.table()
    assert len(result.rows) == 6 and set(table["n_independent_points"]) == {n_ind}
    nu = n_ind - 5
    critical = math.sqrt(stats.f.ppf(0.975, nu, nu))  # 1.24
    assert table["rw_ratio_critical"][0] == pytest.approx(critical, abs=1e-6)
    best = table["rw"][0]
    for rw, same, p in zip(table["rw"], table["indistinguishable_from_best"], table["p_value_vs_best"]):
        assert same == (rw / best < critical)
        if p != "":
            assert p == pytest.approx(2 * stats.f.sf((rw / best) ** 2, nu, nu), rel=1e-3)
    others = table["indistinguishable_from_best"][1:]
    assert sum(others) >= 3, (table["rw"], others)  # measured: all 5 (R_w 0.637-0.691)
    significance = result.significance()
    assert significance["n_indistinguishable"] == sum(others)
    assert significance["indistinguishable_from_best"] == [r.candidate.label() for r, s in
                                                           zip(result.rows[1:], others) if s]
    # what the data do not determine is flagged, never given an uncertainty as if it were measured
    for k in range(len(result.rows)):
        for name in ("scale", "zoom", "u_Au", "delta2", "qdamp"):
            flag = table[f"{name}_flag"][k]
            assert flag in ("", "at_bound", "sigma_exceeds_value")
            assert (flag == "at_bound") == (table[f"{name}_sigma"][k] == "")
            assert (name in table["undetermined"][k].split()) == (flag != "")
    # at a larger alpha (a test readier to call a difference) no more candidates are equivalent; no refits
    again = sweep(store, read_measurement_bytes(raw, AU_LAB.name), "decahedron", "Au", "p=3..5,q=1,r=1|2",
                  workers=1, alpha=0.5)
    assert again.computed == 0 and again.test.alpha == 0.5
    assert len(again.test.indistinguishable) <= len(result.test.indistinguishable)


def test_a_sphere_sweeps_grid_diameter_and_the_clusters_sizes_are_separate_columns():
    # the README's sphere sweep once failed: the grid's diameter_angstrom and the cluster's size shared a name
    from swaxs_lib.io.tables import csv_text
    from swaxs_lib.sweep import Candidate, SweepResult, SweepRow

    def row(rank, d, extent, volume):
        c = Candidate("sphere", "Au", (("diameter_angstrom", d), ("lattice", "fcc")))
        return SweepRow(rank, c, 100 + rank, extent, volume, 0.1 * rank,
                        {"scale": 1.0, "scale_sigma": 0.01, "rw": 0.1}, f"id{rank}", False)

    table = SweepResult(rows=(row(1, 20.0, 19.38, 20.9), row(2, 22.5, 21.04, 23.1))).table()
    assert [c for c in table if "diameter" in c or "extent" in c] == [
        "diameter_angstrom", "extent_angstrom", "volume_diameter_angstrom"]
    assert table["diameter_angstrom"] == [20.0, 22.5] and table["extent_angstrom"] == [19.38, 21.04]
    csv_text(table)  # equal lengths: writable
