"""The ``batch`` command: one task over many files, resumable (:mod:`swaxs_lib.batch`).

``python -m swaxs_lib batch "DIR/*.dat" --task fit-saxs --out results.csv -- --model sphere --polydispersity schulz``
(the task's own flags after ``--``) writes one row per file; run it again
after an interruption and the files already done are skipped.
"""

from __future__ import annotations

import argparse
from typing import Any

from swaxs_lib.cli.common import add_scheduler_flag, out_path, run_where, say
from swaxs_lib.errors import SwaxsInputError


def _cmd_batch(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.batch import TASKS, run_batch

    if args.task not in TASKS:
        raise SwaxsInputError(f"--task: got {args.task!r}; expected one of {', '.join(TASKS)}")
    if args.workers is not None and args.workers < 1:
        raise SwaxsInputError(f"--workers: got {args.workers}; expected an integer >= 1")
    flags = list(args.task_flags)
    if args.task == "analyse" and not any(f.split("=")[0] == "--workers" for f in flags):
        flags += ["--workers", "1"]  # the batch runs files side by side; each analysis in one process
    out = out_path(args.out, (".csv",))
    with run_where(args):
        summary = run_batch(args.files, args.task, flags, out, workers=args.workers, progress=say)
    if summary["failed"]:
        say(f"batch: {summary['failed']} of {summary['files']} files failed; their reasons are in {out}")
    return summary


def register(sub) -> None:
    """Add ``batch`` to ``sub``."""
    p = sub.add_parser("batch", help="run predict, fit-saxs or analyse over many files; resumable, one row per file")
    p.add_argument("files", metavar="FILES", help="a quoted glob, e.g. 'beamtime/*.dat' ('**' recurses)")
    p.add_argument("--task", required=True, help="predict, fit-saxs or analyse")
    p.add_argument("--workers", type=int, help="files run side by side (default: the cores)")
    add_scheduler_flag(p)
    p.add_argument("--out", required=True, metavar="FILE.csv",
                   help="one row per file; FILE.journal.jsonl and FILE-files/ beside it")
    # the task's own flags follow a lone "--" (split off by swaxs_lib.cli.main before parsing: argparse cannot
    # give a positional after options everything that follows "--")
    p.set_defaults(func=_cmd_batch, task_flags=[])
    p.epilog = "After --: the task's own flags, the same for every file (e.g. -- --model sphere)."
