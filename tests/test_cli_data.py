"""The data commands (import, datasets, export, subtract, rename, delete).

Bad input runs as a user runs it, in a subprocess; the other checks call ``main([...])`` in this process
(``tests/inprocess.py``; tests/test_readme_commands.py runs every data command as a subprocess).

References: the measured files in tests/data/ (their SOURCE.md gives columns and
units: alumina USAXS q (1/Å), I, dI, 112 rows, comma-separated; Au144PET G(r),
r 0–30 Å in steps of 0.01 Å); unit conversion 1/nm → 1/Å is a division by 10;
subtraction and its uncertainty are written out in numpy here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.inprocess import Ran, run_main

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
ALUMINA = DATA / "alumina_usaxs" / "Alumina_usaxs_irena_input.csv"
AU144 = DATA / "au144_pdf" / "Au144PET_100K-00000.gr"


def swaxs(*args, db: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SWAXS_DEBUG", "SWAXS_DB")}
    return subprocess.run(
        [sys.executable, "-m", "swaxs_lib", *map(str, args), "--db", str(db)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=env,
    )


def swaxs_here(*args, db: Path) -> Ran:
    """The same, run by ``main([...])`` in this process (no second of imports; ``--db`` wins over $SWAXS_DB)."""
    return run_main(*args, "--db", db)


def last_json(result: subprocess.CompletedProcess | Ran) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A store with the alumina I(Q) and the Au144 G(r) imported, and their import summaries."""
    db = tmp_path_factory.mktemp("store") / "swaxs.duckdb"
    alumina = last_json(swaxs_here("import", ALUMINA, "--name", "alumina", db=db))
    au144 = last_json(swaxs_here("import", AU144, db=db))
    return db, alumina, au144


def test_import_prints_id_kind_points_and_range(store):
    _, alumina, au144 = store
    raw = np.loadtxt(ALUMINA, delimiter=",")
    assert alumina["kind"] == "iq" and alumina["n_points"] == len(raw) == 112
    assert alumina["q_min_inv_angstrom"] == pytest.approx(raw[0, 0]) and alumina["q_max_inv_angstrom"] == pytest.approx(raw[-1, 0])
    assert alumina["name"] == "alumina" and alumina["has_uncertainties"]
    assert au144["kind"] == "gr" and au144["n_points"] == 3001
    assert (au144["r_min_angstrom"], au144["r_max_angstrom"]) == pytest.approx((0.0, 30.0))
    assert len(alumina["id"]) >= 16 and alumina["id"] != au144["id"]


def test_import_again_finds_the_stored_dataset_and_checks_the_unit(store, tmp_path):
    db, alumina, au144 = store
    again = last_json(swaxs_here("import", AU144, db=db))
    assert again["existing"] is True and again["id"] == au144["id"]
    assert au144["existing"] is False and au144["unit_check"]["verdict"] == "plausible"
    # the same G(r) with r in nm but labelled nothing: read as Å, its first peak lands at 0.28 Å
    rows = np.loadtxt(AU144, comments="#", skiprows=27)
    shrunk = tmp_path / "au144_nm.gr"
    np.savetxt(shrunk, np.column_stack([rows[:, 0] / 10, rows[:, 1]]))
    result = swaxs_here("import", shrunk, db=tmp_path / "other.duckdb")
    out = last_json(result)
    assert out["unit_check"]["verdict"] == "implausible" and "warning:" in result.stderr


def test_datasets_lists_both(store):
    db, alumina, au144 = store
    listed = last_json(swaxs_here("datasets", db=db))["datasets"]
    assert {d["id"] for d in listed} == {alumina["id"], au144["id"]}
    assert {d["name"] for d in listed} == {"alumina", "Au144PET_100K-00000"}


def test_export_round_trips_the_file_in_its_units(store, tmp_path):
    db, alumina, au144 = store
    out = tmp_path / "a.csv"
    last_json(swaxs_here("export", alumina["id"], "--out", out, db=db))
    assert out.read_text().splitlines()[0] == "q_inv_angstrom,intensity,intensity_sigma"
    np.testing.assert_allclose(np.loadtxt(out, delimiter=",", skiprows=1), np.loadtxt(ALUMINA, delimiter=","), rtol=1e-11)
    out = tmp_path / "g.csv"
    last_json(swaxs_here("export", au144["id"], "--out", out, db=db))
    assert out.read_text().splitlines()[0] == "r_angstrom,g_inv_angstrom2"
    data = np.loadtxt(out, delimiter=",", skiprows=1)
    np.testing.assert_allclose(data[:, 0], np.arange(3001) * 0.01, atol=1e-9)


def test_import_in_inverse_nm_is_converted(tmp_path):
    db = tmp_path / "s.duckdb"
    f = tmp_path / "curve.dat"
    f.write_text("1.0 10 1\n2.0 8 1\n3.0 5 0.5\n")
    summary = last_json(swaxs_here("import", f, "--q-unit", "inv_nm", db=db))
    out = tmp_path / "e.csv"
    last_json(swaxs_here("export", summary["id"], "--out", out, db=db))
    np.testing.assert_allclose(np.loadtxt(out, delimiter=",", skiprows=1)[:, 0], [0.1, 0.2, 0.3], rtol=1e-14)
    assert summary["x_unit_in_file"] == "inv_nm"


def test_subtract_by_id_and_by_file(store, tmp_path):
    db, alumina, _ = store
    solvent = tmp_path / "solvent.csv"
    raw = np.loadtxt(ALUMINA, delimiter=",")
    background = np.column_stack([raw[:, 0], np.full(len(raw), 2.0e3), np.full(len(raw), 50.0)])
    np.savetxt(solvent, background, delimiter=",")
    out = tmp_path / "sub.csv"
    info = last_json(swaxs_here("subtract", alumina["id"], solvent, "--scale", "0.8", "--out", out, db=db))
    assert info["sample"] == alumina["id"]
    got = np.loadtxt(out, delimiter=",", skiprows=1)
    np.testing.assert_allclose(got[:, 1], raw[:, 1] - 0.8 * 2.0e3, rtol=1e-11)
    np.testing.assert_allclose(got[:, 2], np.hypot(raw[:, 2], 0.8 * 50.0), rtol=1e-11)


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["import", "{tmp}/missing.dat"], "missing.dat"),
        (["import", "{tmp}/empty.dat"], "empty.dat"),
        (["import", "{tmp}/tt.dat", "--two-theta"], "--two-theta"),
        (["export", "not-an-id", "--out", "{tmp}/x.csv"], "not-an-id"),
        (["export", "AAAAAAAAAAAAAAAAAAAAAA", "--out", "{tmp}/x.csv"], "AAAAAAAAAAAAAAAAAAAAAA"),
        (["subtract", "{tmp}/tt.dat", "nowhere.dat", "--out", "{tmp}/x.csv"], "nowhere.dat"),
        (["subtract", "{tmp}/tt.dat", "{tmp}/tt.dat", "--scale", "-1", "--out", "{tmp}/x.csv"], "scale"),
    ],
    ids=["missing", "empty", "two-theta-without-wavelength", "bad-id", "unknown-id", "missing-solvent", "negative-scale"],
)
def test_bad_input_is_one_line_and_status_2(tmp_path, argv, needle):
    (tmp_path / "empty.dat").write_text("")
    (tmp_path / "tt.dat").write_text("10 5\n20 4\n30 3\n")
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    result = swaxs(*argv, db=tmp_path / "s.duckdb")
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert needle in lines[0]


def test_rename_then_delete_needs_yes_and_keeps_the_others(tmp_path):
    db = tmp_path / "swaxs.duckdb"
    first = last_json(swaxs_here("import", ALUMINA, db=db))
    second = last_json(swaxs_here("import", AU144, db=db))
    renamed = last_json(swaxs_here("rename", first["id"], "Alumina, run 2", db=db))
    assert renamed == {"id": first["id"], "name": "Alumina, run 2", "filename": ALUMINA.name, "kind": "iq"}

    refused = swaxs_here("delete", first["id"], db=db)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.strip().count("\n") == 0 and "--yes" in refused.stderr and first["id"] in refused.stderr
    listed = last_json(swaxs_here("datasets", db=db))["datasets"]
    assert {d["id"] for d in listed} == {first["id"], second["id"]}

    deleted = last_json(swaxs_here("delete", first["id"], "--yes", db=db))
    assert deleted["deleted"] and deleted["name"] == "Alumina, run 2"
    assert [d["id"] for d in last_json(swaxs_here("datasets", db=db))["datasets"]] == [second["id"]]
    gone = swaxs_here("delete", first["id"], "--yes", db=db)
    assert gone.returncode == 2 and first["id"] in gone.stderr
