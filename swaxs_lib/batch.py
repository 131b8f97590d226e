"""Batch mode for a beamtime: one command's task over many files, resumable, one row per file.

``python -m swaxs_lib batch "DIR/*.dat" --task predict|fit-saxs|analyse [-- task flags] --out results.csv``
runs the task's own command (its flags, checks and results are exactly the
single-file command's) on every file matching the pattern, one file per
executor task (:mod:`swaxs_lib.executors`: local worker processes, or a Dask
cluster through ``--scheduler`` or ``$SWAXS_DASK_SCHEDULER``), and writes

- ``results.csv``: one row per file, in the pattern's (sorted) order:
  ``file``, ``status`` (done / failed), ``error`` (the command's one-line
  reason), ``seconds``, then the scalar fields of the command's JSON line;
- ``results.journal.jsonl``: one line per finished file, written as each
  finishes, so an interrupted batch (Ctrl-C, a kill, a lost node) resumes
  where it stopped: a file already done, with the same bytes, task and flags,
  is skipped; failed ones are tried again;
- ``results-files/<file>/``: what each command wrote (its ``--out`` CSV,
  ``--report``, the full JSON) and its stderr log.

A failing file never stops the batch: its row says why.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import io
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from swaxs_lib.errors import SwaxsInputError

#: The commands a batch runs, and the output flags each needs (written into the file's folder).
TASKS: dict[str, tuple[tuple[str, str], ...]] = {
    "predict": (("--out", "prediction.csv"),),
    "fit-saxs": (("--out", "fit.csv"), ("--params-out", "parameters.csv")),
    "analyse": (("--out", "ranking.csv"), ("--report", "report.html")),
}
#: Most files one batch takes.
MAX_FILES = 100_000
#: Flags the batch sets itself for every file.
_RESERVED = {"--out", "--params-out", "--report", "--matches", "--screen-out"}


@dataclass(frozen=True)
class BatchItem:
    """One file's unit of work (what an executor task receives: plain strings, it pickles small)."""

    path: str
    task: str
    flags: tuple[str, ...]
    folder: str
    key: str


def expand(pattern: str) -> list[Path]:
    """The files matching ``pattern`` (``**`` recursive), sorted.

    Raises
    ------
    SwaxsInputError
        Nothing matches, or more than :data:`MAX_FILES` files do.
    """
    found = sorted(Path(p) for p in glob.glob(os.path.expanduser(pattern), recursive=True) if os.path.isfile(p))
    if not found:
        raise SwaxsInputError(f"FILES: got {pattern!r}; no file matches it (expected a pattern such as 'DIR/*.dat')")
    if len(found) > MAX_FILES:
        raise SwaxsInputError(f"FILES: {pattern!r} matches {len(found)} files; expected at most {MAX_FILES}")
    return found


def check_flags(task: str, flags: Sequence[str]) -> tuple[str, ...]:
    """The task's own flags, checked: a known task and none of the output flags the batch sets per file.

    Raises
    ------
    SwaxsInputError
    """
    if task not in TASKS:
        raise SwaxsInputError(f"--task: got {task!r}; expected one of {', '.join(TASKS)}")
    for flag in flags:
        if flag.split("=", 1)[0] in _RESERVED:
            raise SwaxsInputError(f"task flags: got {flag}; the batch writes each file's outputs into its folder "
                                  "(leave --out, --report, --params-out to it)")
    return tuple(flags)


def item_key(path: Path, task: str, flags: Sequence[str]) -> str:
    """sha256 over the file's bytes, the task and its flags: a file is done again only if one of them changed."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    h.update(json.dumps([task, list(flags)]).encode())
    return h.hexdigest()


def _folder_name(path: Path, index: int) -> str:
    return f"{index:05d}-" + (re.sub(r"[^A-Za-z0-9._-]+", "_", path.name).strip("._") or "file")


def run_item(item: BatchItem) -> dict[str, Any]:
    """Run one file's command in this process; its row (never raises for the file's own errors).

    The command's stderr goes to ``folder/log.txt``; its JSON result to ``folder/result.json``.
    """
    from swaxs_lib.cli import build_parser
    from swaxs_lib.executors import SerialExecutor, use_executor

    folder = Path(item.folder)
    folder.mkdir(parents=True, exist_ok=True)
    outputs = [part for flag, name in TASKS[item.task] for part in (flag, str(folder / name))]
    started = time.perf_counter()
    log = io.StringIO()
    row: dict[str, Any] = {"file": item.path, "status": "failed", "error": "", "seconds": 0.0}
    try:
        # the batch's parallelism is over files: a file's own batches (an analysis's screen) run here, serially,
        # even on a dask worker whose environment names a scheduler
        with contextlib.redirect_stderr(log), use_executor(SerialExecutor()):
            args = build_parser().parse_args([item.task, item.path, *item.flags, *outputs])
            result = args.func(args)
        (folder / "result.json").write_text(json.dumps(result, allow_nan=False, indent=1))
        row.update(status="done", **_scalars(result))
    except SwaxsInputError as exc:
        row["error"] = str(exc).splitlines()[0][:500]
    except SystemExit:  # argparse refused a flag; its message is in the log
        lines = [ln for ln in log.getvalue().splitlines() if ln.strip()]
        row["error"] = (lines[-1] if lines else "the task's flags were refused")[:500]
    except Exception as exc:  # noqa: BLE001 -- a bug on one file must not stop the batch; its reason is the row's
        row["error"] = f"internal error: {type(exc).__name__}: {exc}".splitlines()[0][:500]
    finally:
        (folder / "log.txt").write_text(log.getvalue())
    row["seconds"] = round(time.perf_counter() - started, 3)
    row["key"] = item.key
    return row


def _scalars(result: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The JSON result's numbers, text and booleans (nested mappings joined with ``_``); lists left to result.json."""
    out: dict[str, Any] = {}
    for name, value in result.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            out.update(_scalars(value, key + "_"))
        elif value is None or isinstance(value, (str, int, float, bool)):
            out[key] = value
    return out


def read_journal(path: Path) -> dict[str, dict[str, Any]]:
    """The rows of a journal, by file path (the last line of each file wins); a torn last line is ignored."""
    rows: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return rows
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # the line being written when the batch was killed
        if isinstance(row, dict) and "file" in row:
            rows[row["file"]] = row
    return rows


def run_batch(pattern: str, task: str, flags: Sequence[str], out: Path, *, workers: int | None = None,
              executor: Any = None, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run ``task`` over every file matching ``pattern``; write ``out`` (CSV) and its journal; the summary.

    Parameters
    ----------
    pattern : str
        A glob (``DIR/*.dat``, ``DIR/**/*.gr``).
    task : {"predict", "fit-saxs", "analyse"}
    flags : sequence of str
        The task command's own flags (``--element Au``, ``--model sphere`` ...), the same for every file.
    out : Path
        The CSV; the journal is ``<out stem>.journal.jsonl`` and the outputs ``<out stem>-files/`` beside it.
    workers : int, optional
        Local worker processes (default: the cores, at most the files to do).
    executor : Executor or distributed.Client, optional
        Where the files run (:func:`swaxs_lib.executors.open_executor`).
    progress : callable, optional
        Called with a line per finished file.

    Returns
    -------
    dict
        ``files``, ``done``, ``failed``, ``skipped`` (done before), ``out``, ``journal``, ``failures``
        (file and reason, at most 50).
    """
    from contextlib import closing

    from swaxs_lib.executors import map_as_completed, open_executor

    flags = check_flags(task, flags)
    files = expand(pattern)
    journal = out.with_name(out.stem + ".journal.jsonl")
    folder = out.with_name(out.stem + "-files")
    before = read_journal(journal)
    items, skipped = [], 0
    for index, path in enumerate(files):
        key = item_key(path, task, flags)
        known = before.get(str(path))
        if known is not None and known.get("key") == key and known.get("status") == "done":
            skipped += 1
            continue
        items.append(BatchItem(str(path), task, flags, str(folder / _folder_name(path, index)), key))
    say = progress or (lambda line: None)
    say(f"batch: {len(files)} files, {skipped} done before, {len(items)} to run ({task})")
    finished = 0
    if items:
        with open_executor(workers, executor, n_tasks=len(items)) as pool, \
                closing(map_as_completed(pool, run_item, items)) as outcomes, \
                open(journal, "a", encoding="utf-8") as log:
            if journal.stat().st_size and not journal.read_bytes().endswith(b"\n"):
                log.write("\n")  # after a line torn by a kill: start on a line of its own
            for outcome in outcomes:
                row = outcome.result if outcome.error is None else {
                    "file": outcome.item.path, "status": "failed", "key": outcome.item.key, "seconds": 0.0,
                    "error": f"worker: {type(outcome.error).__name__}: {outcome.error}".splitlines()[0][:500]}
                log.write(json.dumps(row, allow_nan=False, default=str) + "\n")
                log.flush()
                os.fsync(log.fileno())
                finished += 1
                say(f"batch: {finished}/{len(items)} {row['status']}: {Path(row['file']).name}"
                    + (f": {row['error']}" if row["error"] else ""))
    rows = read_journal(journal)
    ordered = [rows[str(p)] for p in files if str(p) in rows]
    _write_csv(out, ordered)
    failures = [{"file": r["file"], "error": r["error"]} for r in ordered if r["status"] != "done"]
    return {"files": len(files), "done": sum(r["status"] == "done" for r in ordered), "failed": len(failures),
            "skipped": skipped, "not_run": len(files) - len(ordered), "out": str(out), "journal": str(journal),
            "outputs": str(folder), "failures": failures[:50]}


def _write_csv(out: Path, rows: list[dict[str, Any]]) -> None:
    from swaxs_lib.io.tables import csv_text

    names = ["file", "status", "error", "seconds"]
    for row in rows:
        names += [k for k in row if k not in names and k != "key"]
    columns = {name: ["" if row.get(name) is None else row.get(name) for row in rows] for name in names}
    out.write_text(csv_text(columns) if rows else ",".join(names) + "\n")


def iter_rows(out: Path) -> Iterator[dict[str, Any]]:
    """The journal rows of a batch written to ``out`` (for tests and pages)."""
    yield from read_journal(out.with_name(out.stem + ".journal.jsonl")).values()


__all__ = ["MAX_FILES", "TASKS", "BatchItem", "check_flags", "expand", "item_key", "iter_rows", "read_journal",
           "run_batch", "run_item"]
