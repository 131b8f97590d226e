"""What every command shares: the one-line-error parser, output paths, CSV, stderr messages."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io.measurement import MAX_Q_INV_ANGSTROM
from swaxs_lib.io.tables import csv_text


class Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit status 2."""

    def error(self, message: str) -> None:  # noqa: D102 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def out_path(text: str, suffixes: Sequence[str]) -> Path:
    """Check an --out file name: its suffix, an existing folder, not a folder itself."""
    path = Path(text)
    if path.suffix.lower() not in suffixes:
        raise SwaxsInputError(f"--out: got {text!r}; expected a file name ending in {' or '.join(suffixes)}")
    if not path.parent.is_dir():
        raise SwaxsInputError(f"--out: folder {str(path.parent)!r} does not exist; expected an existing folder")
    if path.is_dir():
        raise SwaxsInputError(f"--out: {text!r} is a folder; expected a file name")
    return path


def write_csv(path: Path, columns: dict[str, np.ndarray]) -> None:
    """Write equal-length columns as CSV with a header of their names (see :func:`csv_text`)."""
    path.write_text(csv_text(columns))


def q_grid(q_min: float, q_max: float, n: int) -> np.ndarray:
    """A uniform Q grid from the --q-min, --q-max and --q-points flags, checked."""
    if not (np.isfinite(q_min) and q_min >= 0):
        raise SwaxsInputError(f"--q-min: got {q_min}; expected a number >= 0 (1/Å)")
    if not (np.isfinite(q_max) and q_min < q_max <= MAX_Q_INV_ANGSTROM):
        raise SwaxsInputError(f"--q-max: got {q_max:g}; expected a number > --q-min ({q_min:g}) and at most "
                              f"{MAX_Q_INV_ANGSTROM:g} (1/Å)")
    if n < 1 or n > 1_000_000:
        raise SwaxsInputError(f"--q-points: got {n}; expected between 1 and 1000000")
    return np.linspace(q_min, q_max, n)


def say(message: str) -> None:
    """A progress or status message, on stderr."""
    print(message, file=sys.stderr, flush=True)


def add_scheduler_flag(p: argparse.ArgumentParser) -> None:
    """The ``--scheduler`` flag of the commands that run batches (:func:`run_where`)."""
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                   help="run the batch's tasks on this dask scheduler instead of local worker processes "
                        "(default: $SWAXS_DASK_SCHEDULER if set; --workers is then ignored)")


def run_where(args: argparse.Namespace):
    """A context: every batch inside runs on ``--scheduler`` (connected once), else as :func:`~swaxs_lib.executors.open_executor` decides.

    Says on stderr where the tasks run (and the Dask dashboard's link).
    ``--scheduler`` wins over ``$SWAXS_DASK_SCHEDULER``; an unreachable scheduler
    is a SwaxsInputError naming the flag (exit 2).
    """
    import contextlib

    from swaxs_lib.executors import DASK_SCHEDULER_ENV, scheduler_scope

    address = getattr(args, "scheduler", None)
    if address is not None and not str(address).strip():
        raise SwaxsInputError("--scheduler: got ''; expected a dask scheduler address tcp://HOST:PORT")
    flag = "--scheduler"
    if not address:
        import os

        address, flag = os.environ.get(DASK_SCHEDULER_ENV, "").strip() or None, f"${DASK_SCHEDULER_ENV}"

    @contextlib.contextmanager
    def scope():
        with scheduler_scope(address, flag=flag) as executor:
            if executor is not None:
                where = executor.describe()
                say(f"tasks run on dask scheduler {where['scheduler']} ({where['workers']} worker threads)"
                    + (f"; dashboard {where['dashboard']}" if where.get("dashboard") else ""))
            yield executor

    return scope()
