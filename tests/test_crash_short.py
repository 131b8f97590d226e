"""The short version of benchmarks/crash.py: two rounds of kill -9 during writes, nothing lost.

Two Store-API writers and a running job are killed with SIGKILL at a random moment
(0.1 to 0.6 s after both wrote a dataset), twice; after each round every acknowledged
dataset must be present with the sha256 its writer computed of the file, the killed
job must read ``failed`` (not ``running``) through ``get_job``, and the store must
open and take a new dataset and a new job.  The full run (10 rounds, a CLI writer and
the dashboard killed too) is ``benchmarks/crash.py``; see benchmarks/README.md.
"""

from __future__ import annotations

import importlib.util
import sys
from argparse import Namespace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _crash_module():
    spec = importlib.util.spec_from_file_location("swaxs_crash_benchmark", ROOT / "benchmarks" / "crash.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_two_kill_rounds_lose_nothing():
    crash = _crash_module()
    result = crash.run(Namespace(rounds=2, store_writers=2, cli_writers=0, server=False, kill_after=(0.1, 0.6),
                                 seed=7, keep=False))
    assert len(result["rounds"]) == 2
    for row in result["rounds"]:
        assert row["processes_killed"] == 3, row  # two writers and the job's worker
        assert row["store_opens"] and row["writable"], row
    assert result["acknowledged"] > 0
    assert result["lost"] == 0 and result["changed"] == 0
    assert result["jobs_left_running"] == 0
    assert all(set(row["job_states"]) <= {"failed", "done"} for row in result["rounds"])
    assert result["ok"]
