"""The short version of ``benchmarks/load.py`` (issue 19 item 6): three users at once, each in its own
browser context and as its own user (``SWAXS_AUTH=proxy``), upload a curve, start a sweep and move the
Compare slider, on a server of their own; no error of any kind, every job ends and no job worker is left.
The full run (10 users for 180 s beside a database build, with latency and memory) is the script's.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_three_users_at_once_upload_sweep_and_compare_without_an_error(tmp_path):
    out = tmp_path / "load.json"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "load.py"), "--users", "3", "--seconds", "5",
                           "--points", "200", "--no-build", "--grace", "240", "--step-timeout", "120",
                           "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    result = json.loads(out.read_text()) if out.exists() else {}
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert result["errors"] == 0 and result["users_done"] == 3, result
    assert result["uploaded"] == 3 and result["sweeps"] == 3 and result["slider_moves"] >= 9, result
    assert result["job_workers_left_after_cancel"] == 0, result
