"""``python -m swaxs_lib ARGS`` run as ``main(ARGS)`` in the test's own process.

For tests about a command's output (its JSON line, the files it writes): a
subprocess spends 1-3 s importing before it starts.  What only a real process
shows (the exit status of ``python -m``, every line on stderr, warnings
included) stays with subprocesses: ``tests/test_readme_commands.py`` runs every
README line as one, and the modules keep their parametrized bad-input tests so.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass


@dataclass(frozen=True)
class Ran:
    """What one command line did, like ``subprocess.CompletedProcess``: exit status, stdout, stderr."""

    returncode: int
    stdout: str
    stderr: str


def run_main(*args) -> Ran:
    """``main([str(a) for a in args])`` with stdout and stderr captured; argparse's errors exit, caught here."""
    from swaxs_lib.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main([str(a) for a in args])
        except SystemExit as exc:
            status = exc.code
    return Ran(status, out.getvalue(), err.getvalue())
