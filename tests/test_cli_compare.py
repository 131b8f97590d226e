"""The compare command, ``python -m swaxs_lib compare DATA ...``.

Most runs call ``main([...])`` in this process (a subprocess spends a second
importing); one runs as a user runs it, in a subprocess.

References: the measured G(r) tests/data/au144_pdf/Au144pMBA.gr (header qmin
1.33, qmax 28 1/Å; r 0–20 Å in 0.01 Å steps: 2001 rows, 1801 of them in
2..20 Å) and S(Q) tests/data/au_np_scattbo/Experimental_Sq.sq (SOURCE.md in
each folder); a synthetic I(Q) file built from the numpy Debye sum with
xraydb f0 (as in tests/test_compare.py); R_w = sqrt(Σ w (y - y_fit)² / Σ w y²)
recomputed in numpy from the CSV's own columns.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import ase.io
import numpy as np
import pytest
import xraydb
from scipy.spatial.distance import pdist

from swaxs_lib.cli import main
from swaxs_lib.store import Store
from swaxs_lib.structures import icosahedron

ROOT = Path(__file__).resolve().parents[1]
AU144_PMBA = ROOT / "tests" / "data" / "au144_pdf" / "Au144pMBA.gr"
AU_SQ = ROOT / "tests" / "data" / "au_np_scattbo" / "Experimental_Sq.sq"
ICO55 = ["--shape", "icosahedron", "--element", "Au", "--shells", "3"]
GR_COLUMNS = ["r_angstrom", "data_g_inv_angstrom2", "model_g_inv_angstrom2", "fitted_g_inv_angstrom2",
              "residual_g_inv_angstrom2", "in_fit"]
IQ_COLUMNS = ["q_inv_angstrom", "data_intensity", "model_intensity", "fitted_intensity", "residual_intensity", "in_fit"]


def run(argv, capsys) -> tuple[int, str, str]:
    """main(argv) in this process: (status, stdout, stderr); argparse's own errors exit instead of returning."""
    try:
        status = main([str(a) for a in argv])
    except SystemExit as exc:
        status = exc.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def ok(argv, capsys) -> dict:
    status, out, err = run(argv, capsys)
    assert status == 0, err
    return json.loads(out.strip().splitlines()[-1])


def read_csv(path: Path) -> tuple[list[str], np.ndarray]:
    with open(path) as fh:
        header = fh.readline().rstrip("\n").split(",")
    return header, np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


def rw_from_columns(data, fitted, in_fit, weights=None) -> float:
    w = in_fit.astype(float) if weights is None else weights * in_fit
    return math.sqrt(np.sum(w * (data - fitted) ** 2) / np.sum(w * data**2))


# --- a good G(r) run, twice ---------------------------------------------------------------------


GR_FLAGS = [AU144_PMBA, *ICO55, "--b-iso", "1", "--expansion", "-0.02", "--x-min", "2", "--x-max", "20"]


def test_gr_run_writes_csv_and_json_and_caches_the_model(tmp_path, capsys):
    db, out = tmp_path / "s.duckdb", tmp_path / "fit.csv"
    status, stdout, stderr = run(["compare", *GR_FLAGS, "--db", db, "--out", out], capsys)
    assert status == 0, stderr
    info = json.loads(stdout.strip().splitlines()[-1])
    assert len(stdout.strip().splitlines()) == 1
    assert "R_w" in stderr and "compare:" in stderr  # progress goes to stderr

    header, table = read_csv(out)
    assert header == GR_COLUMNS and table.shape == (2001, 6)
    r, data, model, fitted, residual, in_fit = table.T
    np.testing.assert_allclose(r, 0.01 * np.arange(2001), atol=1e-9)
    np.testing.assert_array_equal(in_fit.astype(bool), (r >= 2.0 - 1e-9) & (r <= 20.0 + 1e-9))
    assert int(in_fit.sum()) == info["n_points"] == 1801
    measured = np.loadtxt(AU144_PMBA, comments="#", skiprows=27)  # the file's rows after its header
    np.testing.assert_allclose(data, measured[:, 1], rtol=1e-11, atol=1e-15)
    # fitted = scale × model (no background), residual = data − fitted; the CSV keeps 12 digits
    np.testing.assert_allclose(fitted, info["scale"] * model, rtol=1e-10, atol=1e-12 * np.abs(fitted).max())
    np.testing.assert_allclose(residual, data - fitted, rtol=0, atol=1e-11 * np.abs(data).max())
    assert info["rw"] == pytest.approx(rw_from_columns(data, fitted, in_fit.astype(bool)), rel=1e-9)

    assert info["kind"] == "gr" and info["dataset"] == str(AU144_PMBA) and info["out"] == str(out)
    assert info["background"] == [] and info["background_model"] == "none" and info["weighting"] == "uniform"
    assert (info["x_min"], info["x_max"], info["x_unit"]) == (2.0, 20.0, "angstrom")
    assert (info["q_min_inv_angstrom"], info["q_max_inv_angstrom"], info["q_range_source"]) == (1.33, 28.0, "header")
    assert info["expansion"] == -0.02 and info["b_iso_angstrom2"] == 1.0
    assert info["cluster"]["n_atoms"] == 55 and info["cluster"]["shape"] == "icosahedron"
    assert info["columns"] == GR_COLUMNS and 0 < info["rw"] < 1
    assert info["model_from_cache"] is False
    assert Store(db).table_counts()["curves"] == 1

    first_csv = out.read_text()
    again = ok(["compare", *GR_FLAGS, "--db", db, "--out", out], capsys)
    assert again["model_from_cache"] is True and Store(db).table_counts()["curves"] == 1
    assert out.read_text() == first_csv and again["rw"] == info["rw"]

    # another expansion is another curve
    other = ok(["compare", *GR_FLAGS, "--expansion", "-0.01", "--db", db, "--out", out], capsys)
    assert other["model_from_cache"] is False and other["rw"] != info["rw"]
    assert Store(db).table_counts()["curves"] == 2


def test_gr_q_range_flags_override_the_header(tmp_path, capsys):
    argv = ["compare", *GR_FLAGS, "--q-min", "0.8", "--qdamp", "0.02", "--db", tmp_path / "s.duckdb",
            "--out", tmp_path / "f.csv"]
    info = ok(argv, capsys)
    assert (info["q_min_inv_angstrom"], info["q_max_inv_angstrom"]) == (0.8, 28.0)
    assert info["q_range_source"] == "flags+header" and info["q_damp_inv_angstrom"] == 0.02


def test_stored_dataset_id_gives_the_same_fit(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    dataset = ok(["import", AU144_PMBA, "--db", db], capsys)["id"]
    by_id = ok(["compare", dataset, *GR_FLAGS[1:], "--db", db, "--out", tmp_path / "a.csv"], capsys)
    by_file = ok(["compare", *GR_FLAGS, "--db", db, "--out", tmp_path / "b.csv"], capsys)
    assert by_id["dataset"] == dataset and by_id["q_min_inv_angstrom"] == 1.33
    assert by_id["rw"] == by_file["rw"] and by_file["model_from_cache"] is True


# --- I(Q) with uncertainties and S(Q) ------------------------------------------------------------


def test_iq_file_with_uncertainties_recovers_scale_and_background(tmp_path, capsys):
    atoms = icosahedron("Au", 2).atoms
    structure = tmp_path / "au13.xyz"
    ase.io.write(structure, atoms)
    q = np.linspace(0.5, 10.0, 120)
    f2 = np.asarray(xraydb.f0("Au", q / (4 * np.pi))) ** 2
    intensity = f2 * (13 + 2 * np.sinc(np.outer(q, pdist(atoms.positions)) / np.pi).sum(axis=1))
    values = 5.0 * intensity + 2.0e3
    sigma = 0.02 * values
    data = tmp_path / "iq.dat"
    np.savetxt(data, np.column_stack([q, values, sigma]))
    out = tmp_path / "fit.csv"
    info = ok(["compare", data, "--structure", structure, "--background", "constant", "--db", tmp_path / "s.duckdb",
               "--out", out], capsys)
    assert info["kind"] == "iq" and info["weighting"] == "sigma" and info["chi2_reduced"] < 1e-6
    assert info["scale"] == pytest.approx(5.0, rel=1e-5) and info["background"] == pytest.approx([2.0e3], rel=1e-4)
    assert info["q_min_inv_angstrom"] is None and info["q_range_source"] == "none"
    assert info["cluster"]["n_atoms"] == 13 and info["n_points"] == 120
    header, table = read_csv(out)
    assert header == IQ_COLUMNS
    np.testing.assert_allclose(table[:, 0], q, rtol=1e-11)
    np.testing.assert_allclose(table[:, 2], intensity, rtol=1e-6)  # the model, unscaled
    assert info["rw"] == pytest.approx(rw_from_columns(table[:, 1], table[:, 3], table[:, 5] > 0, 1 / sigma**2), rel=1e-6)


def test_sq_file(tmp_path, capsys):
    out = tmp_path / "sq.csv"
    info = ok(["compare", AU_SQ, *ICO55, "--background", "linear", "--x-min", "3", "--db", tmp_path / "s.duckdb",
               "--out", out], capsys)
    header, table = read_csv(out)
    assert header[:3] == ["q_inv_angstrom", "data_s", "model_s"]
    assert info["kind"] == "sq" and info["weighting"] == "uniform" and len(info["background"]) == 2
    assert info["n_points"] == int(np.sum(table[:, 0] >= 3.0)) and 0 < info["rw"] < 1


def test_as_a_user_runs_it(tmp_path):
    """A subprocess: the JSON is stdout's last line, messages on stderr."""
    env = {k: v for k, v in os.environ.items() if k not in ("SWAXS_DEBUG", "SWAXS_DB")}
    out = tmp_path / "fit.csv"
    result = subprocess.run(
        [sys.executable, "-m", "swaxs_lib", "compare", *map(str, GR_FLAGS), "--db", str(tmp_path / "s.duckdb"),
         "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=env,
    )
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert info["out"] == str(out) and out.is_file() and info["n_points"] == 1801
    assert len(result.stderr.strip().splitlines()) == 2


# --- bad input -----------------------------------------------------------------------------------


BAD = [
    ("expansion-too-large", [AU144_PMBA, *ICO55, "--expansion", "0.5"], "--expansion"),
    ("expansion-nan", [AU144_PMBA, *ICO55, "--expansion", "nan"], "--expansion"),
    ("x-min-above-x-max", [AU144_PMBA, *ICO55, "--x-min", "10", "--x-max", "5"], "--x-min"),
    ("x-min-equals-x-max", [AU144_PMBA, *ICO55, "--x-min", "5", "--x-max", "5"], "--x-min"),
    ("too-few-points", [AU144_PMBA, *ICO55, "--x-min", "5", "--x-max", "5.01", "--background", "linear"], "--x-min/--x-max"),
    ("x-min-beyond-data", [AU144_PMBA, *ICO55, "--x-min", "25"], "--x-min"),
    ("x-max-before-data", [AU_SQ, *ICO55, "--x-max", "1"], "--x-max"),
    ("q-min-on-sq", [AU_SQ, *ICO55, "--q-min", "1"], "--q-min"),
    ("qdamp-on-sq", [AU_SQ, *ICO55, "--qdamp", "0.02"], "--qdamp"),
    ("q-min-above-header-q-max", [AU144_PMBA, *ICO55, "--q-min", "30"], "--q-min"),
    ("q-max-below-q-min", [AU144_PMBA, *ICO55, "--q-min", "5", "--q-max", "2"], "--q-max"),
    ("q-max-too-large", [AU144_PMBA, *ICO55, "--q-max", "500"], "--q-max"),
    ("negative-qdamp", [AU144_PMBA, *ICO55, "--qdamp", "-1"], "--qdamp"),
    ("negative-b-iso", [AU144_PMBA, *ICO55, "--b-iso", "-1"], "--b-iso"),
    ("energy-out-of-range", [AU144_PMBA, *ICO55, "--energy-kev", "0"], "--energy-kev"),
    ("sigma-without-uncertainties", [AU144_PMBA, *ICO55, "--weighting", "sigma"], "--weighting"),
    ("unknown-weighting", [AU144_PMBA, *ICO55, "--weighting", "chi"], "--weighting"),
    ("unknown-background", [AU144_PMBA, *ICO55, "--background", "cubic"], "--background"),
    ("unknown-dataset-id", ["AAAAAAAAAAAAAAAAAAAAAA", *ICO55], "AAAAAAAAAAAAAAAAAAAAAA"),
    ("not-a-file-or-id", ["nowhere.gr", *ICO55], "nowhere.gr"),
    ("no-structure", [AU144_PMBA], "--shape"),
    ("missing-structure-file", [AU144_PMBA, "--structure", "missing.xyz"], "missing.xyz"),
    ("out-not-csv", [AU144_PMBA, *ICO55, "--out", "{tmp}/fit.txt"], "--out"),
]


@pytest.mark.parametrize("argv, needle", [pytest.param(a, n, id=k) for k, a, n in BAD])
def test_bad_input_is_one_line_and_status_2(tmp_path, capsys, argv, needle):
    argv = [str(a).replace("{tmp}", str(tmp_path)) for a in argv]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "fit.csv")]
    status, stdout, stderr = run(["compare", *argv, "--db", tmp_path / "s.duckdb"], capsys)
    assert status == 2, stderr
    assert stdout == "" and "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert needle in lines[0]
    assert not (tmp_path / "fit.csv").exists()
