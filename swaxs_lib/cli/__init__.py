"""The command line: ``python -m swaxs_lib <command> ...``.

Every command prints its main result as one JSON line on stdout, last;
messages go to stderr.  Bad input exits with status 2 and one line on stderr
naming the flag, file or line and what was expected.  Set ``SWAXS_DEBUG=1`` to
see a traceback for unexpected errors.

Each topic module (``structure``, ...) has a ``register(subparsers)`` that adds
its commands; a command is a function of the parsed arguments returning the
JSON-able result.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from typing import Any, Callable, Sequence

from swaxs_lib import __version__
from swaxs_lib.cli import (
    analyse,
    batch,
    compare,
    data,
    guinier,
    indexing,
    ml,
    refine,
    relax,
    saxs_cluster,
    saxs_fit,
    sizedist,
    structure,
    users,
)
from swaxs_lib.cli.common import Parser
from swaxs_lib.errors import SwaxsInputError


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m swaxs_lib`` parser with every command."""
    parser = Parser(prog="python -m swaxs_lib", description="swaxs: nanocluster size and shape from X-ray scattering.")
    parser.add_argument("--version", action="version", version=f"swaxs {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    structure.register(sub)
    data.register(sub)
    compare.register(sub)
    refine.register(sub)
    relax.register(sub)
    ml.register(sub)
    sizedist.register(sub)
    guinier.register(sub)
    saxs_cluster.register(sub)
    saxs_fit.register(sub)
    indexing.register(sub)
    analyse.register(sub)
    users.register(sub)
    batch.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the exit status."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    task_flags = None
    if argv[:1] == ["batch"] and "--" in argv:  # batch: what follows "--" is the task's own flags, kept verbatim
        cut = argv.index("--")
        argv, task_flags = argv[:cut], argv[cut + 1:]
    args = parser.parse_args(argv)
    if task_flags is not None:
        args.task_flags = task_flags
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    command: Callable[[argparse.Namespace], dict[str, Any]] = args.func
    try:
        result = command(args)
    except SwaxsInputError as exc:
        print(f"{parser.prog} {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not bad input: one line unless debugging
        if os.environ.get("SWAXS_DEBUG"):
            traceback.print_exc()
        print(f"{parser.prog} {args.command}: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, allow_nan=False))
    return 0
