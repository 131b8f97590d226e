"""The refine, sweep and jobs commands (JSON last on stdout, exit 2 on bad input).

Bad requests and the "JSON line is the only stdout" check run as a user runs them, in subprocesses; the other
checks call ``main([...])`` in this process (``tests/inprocess.py``; tests/test_readme_commands.py runs every
README refine and sweep line as a subprocess).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.inprocess import Ran, run_main

ROOT = Path(__file__).resolve().parents[1]
AU144 = ROOT / "tests" / "data" / "au144_pdf" / "Au144PET_100K-00000.gr"
NI = ROOT / "tests" / "data" / "ni_srfit" / "ni-q27r100-neutron.gr"
CDSE = ROOT / "tests" / "data" / "cdse_np_pdfgui" / "CdSe-3nm.gr"


def swaxs(*args, db: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SWAXS_DEBUG", "SWAXS_DB")}
    return subprocess.run([sys.executable, "-m", "swaxs_lib", *map(str, args), "--db", str(db)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, env=env)


def swaxs_here(*args, db: Path) -> Ran:
    """The same, run by ``main([...])`` in this process (no seconds of imports; ``--db`` wins over $SWAXS_DB)."""
    return run_main(*args, "--db", db)


def last_json(result: subprocess.CompletedProcess | Ran) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_refine_a_decahedron_against_the_measured_au144_pdf(tmp_path):
    out = tmp_path / "fit.csv"
    result = last_json(swaxs_here("refine", AU144, "--shape", "decahedron", "--pqr", "3,1,1", "--element", "Au",
                             "--out", out, db=tmp_path / "s.duckdb"))
    assert result["model"] == "cluster" and 0 < result["rw"] < 1 and result["n_points"] == 2851
    assert {"scale", "zoom", "u_Au", "delta2", "qdamp", "zoom_sigma"} <= set(result)
    assert result["cluster"]["n_atoms"] == 100
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["r_angstrom", "data_g_inv_angstrom2", "fitted_g_inv_angstrom2",
                       "difference_g_inv_angstrom2"] and len(rows) == 2852
    # Q_max 26 (header), 1.5-30 Å: floor(28.5 * 26 / pi) = 235 independent points of the 2851
    assert result["n_independent_points"] == 235 and result["n_refined"] == 5
    assert {f"{n}_flag" for n in ("scale", "zoom", "u_Au", "delta2", "qdamp")} <= set(result)
    assert result["undetermined"] == sorted(n for n in ("scale", "zoom", "u_Au", "delta2", "qdamp")
                                            if result[f"{n}_flag"])
    # the JSON line is the only stdout; progress is on stderr
    assert len(swaxs("refine", AU144, "--shape", "icosahedron", "--shells", "3", "--element", "Au", "--out", out,
                     db=tmp_path / "s.duckdb").stdout.strip().splitlines()) == 1


def test_refine_writes_the_values_with_their_flags(tmp_path):
    values = tmp_path / "values.csv"
    result = last_json(swaxs_here("refine", AU144, "--shape", "icosahedron", "--shells", "3", "--element", "Au",
                             "--qdamp", "0.03", "--out", tmp_path / "fit.csv", "--values", values,
                             db=tmp_path / "s.duckdb"))
    rows = {r["parameter"]: r for r in csv.DictReader(values.open())}
    assert list(next(csv.reader(values.open()))) == ["parameter", "value", "sigma", "unit", "refined", "flag"]
    assert rows["qdamp"]["flag"] == "fixed" and rows["qdamp"]["refined"] == "0" and rows["qdamp"]["sigma"] == ""
    assert float(rows["qdamp"]["value"]) == 0.03 and rows["u_Au"]["unit"] == "Å²"
    for name, row in rows.items():
        assert row["flag"] == result[f"{name}_flag"]
        if row["flag"] == "at_bound":
            assert row["sigma"] == ""
    same = swaxs_here("refine", AU144, "--shape", "icosahedron", "--shells", "3", "--element", "Au",
                 "--out", values, "--values", values, db=tmp_path / "s.duckdb")
    assert same.returncode == 2 and "--values" in same.stderr


def test_refine_bulk_nickel_with_the_crystal_model(tmp_path):
    result = last_json(swaxs_here("refine", NI, "--model", "crystal", "--element", "Ni", "--radiation", "N",
                             "--q-max", "27", "--x-max", "20", "--out", tmp_path / "ni.csv", db=tmp_path / "s.duckdb"))
    assert result["model"] == "crystal" and result["a"] == pytest.approx(3.527, abs=0.002)


def test_refine_crystal_with_start_bounds_free_and_a_parameter_table(tmp_path):
    out, params = tmp_path / "ni.csv", tmp_path / "ni-parameters.csv"
    result = last_json(swaxs_here("refine", NI, "--model", "crystal", "--element", "Ni", "--radiation", "N",
                             "--q-max", "27", "--x-max", "20", "--start", "rcut=2.6,a=3.52", "--start", "u=0.004",
                             "--bounds", "delta2=0:3", "--free", "qbroad", "--out", out, "--params-out", params,
                             db=tmp_path / "s.duckdb"))
    assert result["a"] == pytest.approx(3.527, abs=0.002) and result["settings"]["rcut_angstrom"] == 2.6
    assert result["settings"]["freed"] == ["qbroad"] and result["qbroad_sigma"] > 0 and result["sratio_sigma"] > 0
    assert result["delta2"] <= 3.0
    rows = list(csv.DictReader(params.open()))
    assert len(rows) == 1 and float(rows[0]["a_angstrom"]) == pytest.approx(result["a"])
    assert {"u_Ni_angstrom2", "u_Ni_angstrom2_sigma", "qbroad_inv_angstrom", "sratio", "rw"} <= set(rows[0])
    assert result["parameters"]["qdamp_inv_angstrom"] == result["qdamp"]


def test_refine_a_cluster_within_bounds(tmp_path):
    result = last_json(swaxs_here("refine", AU144, "--shape", "decahedron", "--pqr", "3,1,1", "--element", "Au",
                             "--bounds", "zoom=0.99:1.0", "--start", "u_Au=0.01", "--out", tmp_path / "fit.csv",
                             db=tmp_path / "s.duckdb"))
    assert 0.99 <= result["zoom"] <= 1.0


def test_sweep_ranks_and_reuses_its_fits(tmp_path):
    db = tmp_path / "s.duckdb"
    imported = last_json(swaxs_here("import", AU144, db=db))
    out = tmp_path / "ranking.csv"
    args = ("sweep", imported["id"], "--shape", "decahedron", "--element", "Au", "--grid", "p=2..3,q=1,r=0|1",
            "--workers", "2", "--out", out)
    first = last_json(swaxs_here(*args, db=db))
    assert first["candidates"] == 4 and first["computed"] == 4 and first["reused"] == 0
    rows = list(csv.DictReader(out.open()))
    assert [int(r["rank"]) for r in rows] == [1, 2, 3, 4]
    assert [float(r["rw"]) for r in rows] == sorted(float(r["rw"]) for r in rows)
    assert {"p", "q", "r", "n_atoms", "rw", "zoom", "zoom_sigma", "result_id"} <= set(rows[0])
    # what the data can tell: the test against the best, the flags, the grid edge
    assert {"rw_ratio_to_best", "rw_ratio_critical", "p_value_vs_best", "indistinguishable_from_best",
            "n_independent_points", "zoom_flag", "delta2_angstrom2_flag", "undetermined"} <= set(rows[0])
    # units in the names of the values that have one (docs/csv.md), each followed by its sigma and flag
    header = list(rows[0])
    for name in ("u_Au_angstrom2", "delta2_angstrom2", "qdamp_inv_angstrom"):
        assert header[header.index(name) + 1: header.index(name) + 3] == [f"{name}_sigma", f"{name}_flag"]
    assert not {"u_Au", "delta2", "qdamp"} & set(header)
    assert rows[0]["indistinguishable_from_best"] == "1" and rows[0]["p_value_vs_best"] == ""
    same = [r["result_id"] for r in rows[1:] if r["indistinguishable_from_best"] == "1"]
    assert first["n_indistinguishable"] == len(same) and first["alpha"] == 0.05
    assert first["n_independent_points"] == 235 and "F-test" in first["test"]
    assert all(float(r["p_value_vs_best"]) > 0.05 for r in rows[1:] if r["indistinguishable_from_best"] == "1")
    assert all(float(r["p_value_vs_best"]) <= 0.05 for r in rows[1:] if r["indistinguishable_from_best"] == "0")
    best = first["best"]["params"]
    edge = first["best_on_grid_edge"]
    # with p = 2..3 every best is on the edge in p; the extension stops at p = 1 (r = 0 is the shape's own bound)
    assert edge["edges"][0] == {"parameter": "p", "side": "lowest" if best["p"] == 2 else "highest",
                                "value": best["p"]}
    assert edge["extended_grid"].startswith("p=1..3," if best["p"] == 2 else "p=2..5,")
    again = last_json(swaxs_here(*args, db=db))
    assert again["computed"] == 0 and again["reused"] == 4 and again["best"] == first["best"]
    assert again["indistinguishable_from_best"] == first["indistinguishable_from_best"]
    stricter = last_json(swaxs_here(*args, "--alpha", "0.5", db=db))
    assert stricter["alpha"] == 0.5 and stricter["n_indistinguishable"] <= first["n_indistinguishable"]


@pytest.mark.parametrize("args, flag", [
    (("refine", AU144, "--shape", "decahedron", "--pqr", "3,1,1", "--element", "Au", "--fix", "colour"), "--fix"),
    (("refine", AU144, "--shape", "decahedron", "--pqr", "3,1,1", "--element", "Au", "--x-min", "9",
      "--x-max", "2"), "--x-min"),
    (("refine", AU144, "--shape", "decahedron", "--pqr", "3,1,1", "--element", "Au", "--qdamp", "3"), "--qdamp"),
    # CdSe's header names two elements and no cluster metal: neither --element nor the header gives one
    (("refine", CDSE, "--model", "crystal"), "--cif"),
    (("refine", NI, "--model", "crystal", "--element", "Ni", "--start", "a=big"), "--start"),
    (("refine", NI, "--model", "crystal", "--element", "Ni", "--bounds", "a=4:3"), "--bounds"),
    (("refine", NI, "--model", "crystal", "--element", "Ni", "--start", "z_Se1=0.3"), "start: unknown"),
    (("refine", NI, "--model", "crystal", "--element", "Ni", "--adp", "anisotropic"), "--adp"),
    (("refine", AU144, "--shape", "decahedron", "--pqr", "3,1,1", "--element", "Au", "--bounds", "zoom=1:0.9"),
     "--bounds"),
    (("refine", AU144, "--shape", "decahedron", "--pqr", "3,1,1", "--element", "Au", "--free", "qbroad"), "--free"),
    (("sweep", AU144, "--shape", "decahedron", "--element", "Au", "--grid", "s=1..3"), "--grid"),
    (("sweep", CDSE, "--shape", "decahedron"), "--element"),
    (("sweep", AU144, "--shape", "decahedron", "--element", "Au", "--alpha", "1.5"), "--alpha"),
    (("sweep", "NoSuchDatasetIdxxxxxxx", "--shape", "decahedron", "--element", "Au"), "NoSuchDatasetIdxxxxxxx"),
])
def test_bad_requests_exit_2_with_one_line_naming_the_flag(tmp_path, args, flag):
    result = swaxs(*args, "--out", tmp_path / "x.csv", db=tmp_path / "s.duckdb")
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and flag in result.stderr, result.stderr


def test_jobs_command_lists_shows_and_cancels(tmp_path):
    from swaxs_lib.jobs import submit
    from swaxs_lib.store import Store

    db = tmp_path / "s.duckdb"
    job = submit(Store(db), "selftest", {"steps": 1}, detach=False)
    listed = last_json(swaxs_here("jobs", db=db))["jobs"]
    assert [j["id"] for j in listed] == [job.id] and listed[0]["status"] == "done"
    shown = last_json(swaxs_here("jobs", job.id, db=db))
    assert shown["status"] == "done" and shown["done"] == 1
    assert last_json(swaxs_here("jobs", job.id, "--cancel", db=db))["status"] == "done"  # finished jobs stay done
