"""Batch mode (issue 20 item 5): one task over many files, one row per file, failures listed, resumable.

The curves are the analytic sphere form factor written here with numpy, P(Q) = [3(sin x - x cos x)/x^3]^2,
x = QR (Guinier, Proc. R. Soc. 1939; sasmodels' sphere is a separate implementation of it): ``fit-saxs``
on each file must return its radius.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from swaxs_lib.batch import read_journal, run_batch
from swaxs_lib.errors import SwaxsInputError

ROOT = Path(__file__).resolve().parents[1]
RADII = (20.0, 35.0, 50.0)


def _sphere_file(path: Path, radius: float) -> None:
    q = np.geomspace(0.005, 0.4, 150)
    x = q * radius
    intensity = 4e-5 * radius**3 * (3 * (np.sin(x) - x * np.cos(x)) / x**3) ** 2 + 1e-4
    np.savetxt(path, np.c_[q, intensity, 0.02 * intensity], header="x_unit: 1/A\nq I sigma")


@pytest.fixture
def beamtime(tmp_path) -> Path:
    folder = tmp_path / "beamtime"
    folder.mkdir()
    for r in RADII:
        _sphere_file(folder / f"sphere_{int(r)}.dat", r)
    (folder / "broken.dat").write_text("# the detector was off\nno numbers here\n")
    return folder


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with out.open() as f:
        return {Path(r["file"]).name: r for r in csv.DictReader(f)}


def test_a_batch_fits_every_file_and_lists_the_failure_with_its_reason(beamtime, tmp_path):
    out = tmp_path / "results.csv"
    summary = run_batch(str(beamtime / "*.dat"), "fit-saxs", ["--model", "sphere"], out, workers=1)
    assert (summary["files"], summary["done"], summary["failed"], summary["skipped"]) == (4, 3, 1, 0)
    rows = _rows(out)
    assert list(rows) == ["broken.dat", "sphere_20.dat", "sphere_35.dat", "sphere_50.dat"]  # the pattern's order
    for r in RADII:
        assert float(rows[f"sphere_{int(r)}.dat"]["radius"]) == pytest.approx(r, rel=1e-3)
    assert rows["broken.dat"]["status"] == "failed" and "broken.dat: no line of numbers" in rows["broken.dat"]["error"]
    assert summary["failures"] == [{"file": str(beamtime / "broken.dat"), "error": rows["broken.dat"]["error"]}]
    files = tmp_path / "results-files"
    assert json.loads(next(files.glob("*sphere_20.dat/result.json")).read_text())["model"] == "sphere"


def test_a_batch_run_again_skips_what_is_done_and_redoes_a_changed_file(beamtime, tmp_path):
    out = tmp_path / "results.csv"
    run_batch(str(beamtime / "*.dat"), "fit-saxs", ["--model", "sphere"], out, workers=1)
    journal = out.with_name("results.journal.jsonl")
    assert len(journal.read_text().splitlines()) == 4
    _sphere_file(beamtime / "sphere_35.dat", 30.0)  # re-measured: new bytes
    _sphere_file(beamtime / "sphere_25.dat", 25.0)  # a new file
    summary = run_batch(str(beamtime / "*.dat"), "fit-saxs", ["--model", "sphere"], out, workers=1)
    assert (summary["skipped"], summary["done"], summary["failed"]) == (2, 4, 1)  # 20 and 50 skipped; broken retried
    assert len(journal.read_text().splitlines()) == 4 + 3
    rows = _rows(out)
    assert float(rows["sphere_35.dat"]["radius"]) == pytest.approx(30.0, rel=1e-3)
    assert float(rows["sphere_25.dat"]["radius"]) == pytest.approx(25.0, rel=1e-3)
    other = run_batch(str(beamtime / "*.dat"), "fit-saxs", ["--model", "sphere", "--x-max", "0.3"], out, workers=1)
    assert other["skipped"] == 0  # other flags: another batch


def test_a_killed_batch_resumes_where_it_stopped(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    for k in range(8):
        _sphere_file(folder / f"s{k}.dat", 20.0 + 3 * k)
    out = tmp_path / "results.csv"
    journal = out.with_name("results.journal.jsonl")
    cmd = [sys.executable, "-m", "swaxs_lib", "batch", str(folder / "*.dat"), "--task", "fit-saxs", "--workers", "1",
           "--out", str(out), "--", "--model", "sphere"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.time() + 60
    while time.time() < deadline and not (journal.exists() and len(journal.read_text().splitlines()) >= 2):
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    done_before = len(read_journal(journal))
    assert 2 <= done_before < 8, "the batch finished before it could be killed"
    with journal.open("a") as f:
        f.write('{"file": "torn')  # the line being written when it was killed
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    summary = json.loads(again.stdout.strip().splitlines()[-1])
    assert again.returncode == 0 and summary["skipped"] == done_before and summary["done"] == 8


def test_bad_batch_input_is_refused_up_front(beamtime, tmp_path):
    with pytest.raises(SwaxsInputError, match="no file matches"):
        run_batch(str(tmp_path / "nothing/*.dat"), "predict", [], tmp_path / "r.csv")
    with pytest.raises(SwaxsInputError, match="--task: got 'train'"):
        run_batch(str(beamtime / "*.dat"), "train", [], tmp_path / "r.csv")
    with pytest.raises(SwaxsInputError, match="leave --out, --report, --params-out to it"):
        run_batch(str(beamtime / "*.dat"), "fit-saxs", ["--out", "x.csv"], tmp_path / "r.csv")
