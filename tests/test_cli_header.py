"""The data header's element in the commands: used without --element, said on stderr, recorded in ``from_header``.

References: the header text of the measured files (tests/test_io_header.py lists
what each says).  The structure used is checked through what the JSON line says
was built (``cluster.elements``, the crystal's ``settings.elements``) and, for the
Ni crystal, its refined lattice constant against fcc nickel's a = 3.524 Å at room
temperature (Swanson & Tatge, NBS Circular 539 (1953): 3.5238 Å).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from swaxs_lib.cli import main

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
PT = DATA / "pt_np_jq_pdf" / "JQ_S1.gr"
CDSE = DATA / "cdse_np_pdfgui" / "CdSe-3nm.gr"
NI = DATA / "ni_srfit" / "ni-q27r60-xray.gr"
AU144 = DATA / "au144_pdf" / "Au144PET_100K-00000.gr"
AU_NP = DATA / "au_np_scattbo" / "Experimental_PDF.gr"
PT_TAKEN = {"element": "Pt", "composition": "composition = Pt", "q_min_inv_angstrom": 1.0,
            "q_max_inv_angstrom": 21.998245281}


def run(argv, capsys) -> tuple[int, str, str]:
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exc:
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def ok(argv, capsys) -> tuple[dict, str]:
    status, out, err = run(argv, capsys)
    assert status == 0, err
    return json.loads(out.strip().splitlines()[-1]), err


def test_compare_takes_the_element_and_q_window_from_the_header(tmp_path, capsys):
    result, err = ok(["compare", PT, "--shape", "icosahedron", "--shells", "2", "--out", tmp_path / "c.csv",
                      "--db", tmp_path / "s.duckdb"], capsys)
    assert result["cluster"]["elements"] == ["Pt"] and result["cluster"]["formula"] == "Pt13"
    assert result["from_header"] == PT_TAKEN
    assert "element Pt from the header of JQ_S1.gr (composition = Pt)" in err.splitlines()
    assert "transform Q 1..21.9982 1/Å (header)" in err


def test_an_explicit_element_wins_with_a_warning(tmp_path, capsys):
    result, err = ok(["compare", PT, "--shape", "icosahedron", "--shells", "2", "--element", "Au", "--q-max", "20",
                      "--out", tmp_path / "c.csv", "--db", tmp_path / "s.duckdb"], capsys)
    assert result["cluster"]["elements"] == ["Au"]
    assert result["from_header"] == {"q_min_inv_angstrom": 1.0}  # --q-max given: only Q_min from the header
    assert result["q_max_inv_angstrom"] == 20.0
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert warnings == ["warning: --element Au is used, but the header of JQ_S1.gr says composition = Pt "
                        "(element Pt)"]
    assert "from the header of JQ_S1.gr (composition" not in err


def test_a_matching_element_and_a_structure_file_say_nothing_about_the_element(tmp_path, capsys):
    result, err = ok(["compare", PT, "--shape", "icosahedron", "--shells", "2", "--element", "Pt",
                      "--out", tmp_path / "c.csv", "--db", tmp_path / "s.duckdb"], capsys)
    assert "warning" not in err and "element Pt from" not in err
    assert "element" not in result["from_header"] and result["from_header"]["q_min_inv_angstrom"] == 1.0
    cluster = tmp_path / "au13.xyz"
    ok(["cluster", "--shape", "icosahedron", "--shells", "2", "--element", "Au", "--out", cluster], capsys)
    result, err = ok(["compare", PT, "--structure", cluster, "--out", tmp_path / "c.csv",
                      "--db", tmp_path / "s.duckdb"], capsys)
    assert result["cluster"]["elements"] == ["Au"] and "element" not in result["from_header"]


@pytest.mark.parametrize("command", [
    ["compare", CDSE, "--shape", "sphere", "--diameter-angstrom", "10", "--out", "{tmp}/c.csv"],
    ["refine", CDSE, "--shape", "sphere", "--diameter-angstrom", "10", "--out", "{tmp}/c.csv"],
    ["sweep", CDSE, "--shape", "sphere", "--out", "{tmp}/c.csv"],
    ["relax", "--data", CDSE, "--shape", "icosahedron", "--shells", "2", "--trace", "{tmp}/t.csv"],
], ids=["compare", "refine", "sweep", "relax"])
def test_no_element_anywhere_is_one_line_and_status_2(tmp_path, capsys, command):
    argv = [str(a).replace("{tmp}", str(tmp_path)) for a in command] + ["--db", str(tmp_path / "s.duckdb")]
    status, out, err = run(argv, capsys)
    assert status == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "--element: missing" in lines[0] and "CdSe-3nm.gr" in lines[0] and "Cd, Se" in lines[0]


def test_refine_a_crystal_with_the_headers_element(tmp_path, capsys):
    result, err = ok(["refine", NI, "--model", "crystal", "--lattice", "fcc", "--x-max", "10",
                      "--out", tmp_path / "ni.csv", "--db", tmp_path / "s.duckdb"], capsys)
    assert result["settings"]["elements"] == ["Ni"] and result["a"] == pytest.approx(3.524, abs=0.003)
    # the crystal model uses Q_max (not Q_min): only that is recorded
    assert result["from_header"] == {"element": "Ni", "composition": "Sample_Setup table: Ni 1",
                                     "q_max_inv_angstrom": 27.0}
    assert "element Ni from the header of ni-q27r60-xray.gr (Sample_Setup table: Ni 1)" in err


def test_refine_a_cluster_with_the_headers_element(tmp_path, capsys):
    result, err = ok(["refine", PT, "--shape", "icosahedron", "--shells", "2", "--x-max", "8",
                      "--out", tmp_path / "r.csv", "--db", tmp_path / "s.duckdb"], capsys)
    assert result["cluster"]["elements"] == ["Pt"] and "u_Pt" in result
    assert result["from_header"] == PT_TAKEN
    assert "Q_min 1 1/Å and Q_max 21.9982 1/Å from the header of JQ_S1.gr (qmin = 1.0; qmax = 21.998245281)" in err


def test_relax_with_data_takes_the_headers_element(tmp_path, capsys):
    result, err = ok(["relax", "--data", PT, "--shape", "icosahedron", "--shells", "2", "--steps", "1",
                      "--x-max", "8", "--trace", tmp_path / "t.csv", "--db", tmp_path / "s.duckdb"], capsys)
    assert result["from_header"] == PT_TAKEN
    assert "relax: 13 atoms (Pt13 icosahedron)" in err


def test_sweep_as_a_user_runs_it(tmp_path):
    """Subprocess, worker processes: the ligand-capped Au144 file gives Au, with the ligands named."""
    env = {k: v for k, v in os.environ.items() if k not in ("SWAXS_DEBUG", "SWAXS_DB")}
    done = subprocess.run([sys.executable, "-m", "swaxs_lib", "sweep", str(AU144), "--shape", "icosahedron",
                           "--grid", "shells=2..3", "--workers", "1", "--out", str(tmp_path / "rank.csv"),
                           "--db", str(tmp_path / "s.duckdb")], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["element"] == "Au"
    assert result["from_header"] == {"element": "Au", "composition": "composition = Au144 S60 C180",
                                     "q_min_inv_angstrom": 0.8, "q_max_inv_angstrom": 26.0}
    assert ("element Au from the header of Au144PET_100K-00000.gr (composition = Au144 S60 C180); "
            "ligand elements S, C ignored: the cluster is of Au") in done.stderr


def _model_present() -> bool:
    from swaxs_lib.ml.models import default_model_dir

    return (default_model_dir() / "manifest.json").is_file()


@pytest.mark.skipif(not _model_present(), reason="no trained model in data/models/default")
def test_predict_restricts_the_library_to_the_headers_element(tmp_path, capsys):
    result, err = ok(["predict", PT, "--db", tmp_path / "s.duckdb"], capsys)
    assert result["from_header"] == {"element": "Pt", "composition": "composition = Pt"}
    assert {m["element"] for m in result["matches"]} == {"Pt"}
    assert "element Pt from the header of JQ_S1.gr (composition = Pt)" in err
    explicit, err = ok(["predict", PT, "--element", "Au", "--db", tmp_path / "s.duckdb"], capsys)
    assert explicit["from_header"] == {} and {m["element"] for m in explicit["matches"]} == {"Au"}
    assert "warning: --element Au is used" in err
