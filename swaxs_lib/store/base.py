"""Where the store lives and how a session reaches it without lock errors.

DuckDB lets one process at a time hold a file read-write, and a second
process that tries gets an error, not a wait.  Several dashboard sessions
(threads of one Streamlit process) and command-line batch jobs (other
processes) share one file, so every operation here is a short *session*:

1. a per-file ``threading.Lock`` serialises the threads of this process;
2. a POSIX record lock on ``<db>.lock`` serialises processes: byte 1 is
   taken shared by readers and exclusively by writers, and byte 0 is a
   turnstile every newcomer passes first, so a waiting writer holds back new
   readers instead of being starved by them (a fair readers-writer lock);
3. the file is ATTACHed to this process's in-memory DuckDB (read-only for
   readers, so readers of different processes overlap), used, and DETACHed,
   which releases DuckDB's own file lock.

Waiting is polling with a growing, jittered sleep (0.5 ms to 20 ms) until the
store's ``lock_timeout_s``; a store still busy then raises
:class:`StoreBusyError`.  A fresh ``duckdb.connect`` costs ~15 ms, an ATTACH
~1 ms, which is why one in-memory instance is kept per process.

Checkpoints.  DuckDB folds the write-ahead log (``<db>.wal``) into the file at
a checkpoint, and a checkpoint after appending a few rows rewrites the
partly filled part of the table: with 40 kB curves, checkpointing at every
DETACH made single writes cost 2 to 120 ms (rising with the rows since the
last 2,048-row boundary) and doubled the file.  Never checkpointing is no
better: every ATTACH replays the log, ~70 us per commit in it.  So DETACH
does not checkpoint (``checkpoint_on_shutdown`` off) and DuckDB checkpoints
when the log passes :data:`CHECKPOINT_THRESHOLD`.  Measured on 2 shared
cores, 3,000 single writes of 40 kB each: 512 kB gave writes of ~2 ms
median, 4 to 13 ms mean (a checkpoint every ~12 writes costs up to ~0.1 s)
and reads of ~2 ms; 1 MB gave 5 to 9 ms writes and 3 ms reads; 4 MB about
8 ms for both.  Copy the ``.wal`` with the file, or call
:meth:`StoreBase.checkpoint` first.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import math
import os
import random
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import ContextManager, Iterator

import duckdb

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.store.schema import SCHEMA_VERSION, current_version, migrate

#: Environment variable that overrides the default store path.
ENV_VAR = "SWAXS_DB"

_ALIAS = "swaxs"  # the store's catalog name inside the session
_TURNSTILE, _MAIN = 0, 1  # byte offsets in the lock file
_POLL_MIN_S, _POLL_MAX_S = 0.0005, 0.02

#: DuckDB checkpoints when its write-ahead log passes this size (see above).
CHECKPOINT_THRESHOLD = "512KB"


class StoreBusyError(SwaxsInputError):
    """The store stayed locked by other sessions longer than ``lock_timeout_s``."""


def default_db_path() -> Path:
    """The store's path: ``$SWAXS_DB`` if set, else ``data/swaxs.duckdb``.

    The default is relative to the repository root (the folder holding the
    ``swaxs_lib`` package), not to the working directory.

    Returns
    -------
    pathlib.Path
    """
    env = os.environ.get(ENV_VAR, "").strip()
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2] / "data" / "swaxs.duckdb"


class _Gate:
    """What the threads of one process share for one store file."""

    def __init__(self) -> None:
        self.thread_lock = threading.Lock()
        self.fd: int | None = None
        self.memory: duckdb.DuckDBPyConnection | None = None
        self.owner: int | None = None  # thread id of the open session
        self.cursor: duckdb.DuckDBPyConnection | None = None
        self.write = False


# The store's only module state: one gate per file.  A forked child starts
# afresh and never frees its parent's DuckDB objects: destroying an instance
# copied by fork (whose worker threads do not exist in the child) kills the
# child with SIGSEGV, or SIGABRT at interpreter exit.
_GATES: dict[str, _Gate] = {}
_GATES_LOCK = threading.Lock()


def _forget_gates() -> None:
    global _GATES_LOCK
    for gate in _GATES.values():
        for obj in (gate.memory, gate.cursor):
            if obj is not None:
                ctypes.pythonapi.Py_IncRef(ctypes.py_object(obj))  # leaked on purpose
    _GATES.clear()
    _GATES_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_gates)


def _gate_for(path: Path) -> _Gate:
    with _GATES_LOCK:
        return _GATES.setdefault(str(path), _Gate())


class StoreBase:
    """Path, locking, sessions and migrations; the record methods are mixins.

    Parameters
    ----------
    path : str or os.PathLike, optional
        The DuckDB file; by default :func:`default_db_path`.  Created, with
        its folder, if absent, and migrated to :data:`SCHEMA_VERSION`.
    lock_timeout_s : float
        How long one operation waits for other sessions before raising
        :class:`StoreBusyError` (s).

    Raises
    ------
    SwaxsInputError
        The file is not a DuckDB database, not a swaxs store, written by a
        newer swaxs, or cannot be created.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, lock_timeout_s: float = 60.0) -> None:
        raw = default_db_path() if path is None else Path(path).expanduser()
        self.path = Path(os.path.abspath(raw))
        try:
            timeout = float(lock_timeout_s)
        except (TypeError, ValueError):
            timeout = float("nan")
        if not (math.isfinite(timeout) and timeout > 0):
            raise SwaxsInputError(f"lock_timeout_s: got {lock_timeout_s!r}; expected a positive number of seconds")
        self.lock_timeout_s = timeout
        if self.path.is_dir():
            raise SwaxsInputError(f"{self.path}: is a folder; expected a DuckDB file path")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SwaxsInputError(f"{self.path}: cannot create its folder ({exc.strerror})") from None
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._gate_pid = -1  # the gate is looked up per process: see _gate
        if self.path.exists():
            with self.session() as cur:
                up_to_date = current_version(cur, where=str(self.path)) == SCHEMA_VERSION
            if up_to_date:
                return
        with self.session(write=True) as cur:
            migrate(cur, where=str(self.path))

    @property
    def _gate(self) -> _Gate:
        # A Store inherited through fork must not use its parent's locks and
        # DuckDB instance; keyed by the real path, so two names of one file
        # share one gate.
        if self._gate_pid != os.getpid():
            self._gate_obj = _gate_for(Path(os.path.realpath(self.path)))
            self._gate_pid = os.getpid()
        return self._gate_obj

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.path)!r})"

    @property
    def schema_version(self) -> int:
        """The schema version of the file (an int; :data:`SCHEMA_VERSION` once opened)."""
        with self.session() as cur:
            return int(cur.execute("SELECT max(version) FROM schema_version").fetchone()[0])

    def table_counts(self) -> dict[str, int]:
        """Rows per table, e.g. ``{"datasets": 3, "curves": 120, ...}``."""
        with self.session() as cur:
            names = [r[0] for r in cur.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = ? ORDER BY table_name", [_ALIAS]
            ).fetchall()]
            return {n: int(cur.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the file (before copying the file alone).

        Raises
        ------
        RuntimeError
            Called inside a session of the same thread.
        """
        if self._gate.owner == threading.get_ident():
            raise RuntimeError("checkpoint() inside a session; call it after the session ends")
        with self._session(write=True, transaction=False) as cur:
            cur.execute(f"CHECKPOINT {_ALIAS}")

    def backup(self, target: str | os.PathLike) -> dict[str, int]:
        """Copy the whole store into a new DuckDB file while it is in use; the copy's rows per table.

        The copy is made in one write session, so it is consistent: writers wait until it is done
        (seconds for a store of a few GB), readers do not.  The copy is a store like any other
        (``SWAXS_DB=target`` opens it).

        Raises
        ------
        SwaxsInputError
            ``target`` exists already, or its folder does not.
        """
        target = Path(target).expanduser().resolve()
        if target.exists() or Path(str(target) + ".wal").exists():
            raise SwaxsInputError(f"{target}: exists already; expected a new file for the backup")
        if not target.parent.is_dir():
            raise SwaxsInputError(f"{target.parent}: no such folder; expected an existing folder for the backup")
        with self.session(write=True) as cur:
            cur.execute(f"ATTACH '{str(target).replace(chr(39), chr(39) * 2)}' AS swaxs_backup")
            try:
                cur.execute(f'COPY FROM DATABASE "{_ALIAS}" TO swaxs_backup')
            finally:
                cur.execute("DETACH swaxs_backup")
        return type(self)(target).table_counts()

    def session(self, *, write: bool = False) -> ContextManager[duckdb.DuckDBPyConnection]:
        """Hold the store for a few statements and yield a DuckDB cursor.

        A write session is one transaction: committed when the block ends,
        rolled back if it raises.  Every store call made by the same thread
        inside the block joins it, so ``with store.session(write=True):``
        around a loop of ``add_*`` calls or cached curves is one transaction
        and one commit (the bulk path) -- but it also keeps every other
        session waiting until the block ends, so keep long computations out.

        Parameters
        ----------
        write : bool
            Exclusive read-write access; otherwise shared read-only access.

        Yields
        ------
        duckdb.DuckDBPyConnection
            A cursor whose default catalog is the store.

        Raises
        ------
        StoreBusyError
            Other sessions held the store longer than ``lock_timeout_s``.
        """
        return self._session(write=write, transaction=write)

    @contextmanager
    def _session(self, *, write: bool, transaction: bool) -> Iterator[duckdb.DuckDBPyConnection]:
        gate = self._gate
        me = threading.get_ident()
        if gate.owner == me:
            if write and not gate.write:
                raise RuntimeError("a write session was requested inside a read session of the same thread")
            yield gate.cursor
            return
        deadline = time.monotonic() + self.lock_timeout_s
        if not gate.thread_lock.acquire(timeout=self.lock_timeout_s):
            raise StoreBusyError(f"{self.path}: busy in this process for more than {self.lock_timeout_s} s")
        try:
            fd = self._lock_fd(gate)
            self._poll_lock(fd, fcntl.LOCK_EX, _TURNSTILE, deadline)
            try:
                self._poll_lock(fd, fcntl.LOCK_EX if write else fcntl.LOCK_SH, _MAIN, deadline)
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, _TURNSTILE)
            try:
                cur = self._attach(gate, write, deadline)
                gate.owner, gate.cursor, gate.write = me, cur, write
                try:
                    if transaction:
                        cur.execute("BEGIN TRANSACTION")
                    yield cur
                    if transaction:
                        cur.execute("COMMIT")
                except BaseException:
                    if transaction:
                        try:
                            cur.execute("ROLLBACK")
                        except duckdb.Error:
                            pass
                    raise
                finally:
                    gate.owner, gate.cursor, gate.write = None, None, False
                    self._detach(gate, cur)
            finally:
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, _MAIN)
        finally:
            gate.thread_lock.release()

    # ------------------------------------------------------------ internals

    def _lock_fd(self, gate: _Gate) -> int:
        if gate.fd is None:
            try:
                gate.fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o664)
            except OSError as exc:
                raise SwaxsInputError(f"{self.lock_path}: cannot open the store's lock file ({exc.strerror})") from None
        return gate.fd

    def _poll_lock(self, fd: int, mode: int, offset: int, deadline: float) -> None:
        delay = _POLL_MIN_S
        while True:
            try:
                fcntl.lockf(fd, mode | fcntl.LOCK_NB, 1, offset)
                return
            except OSError as exc:
                if exc.errno not in (errno.EACCES, errno.EAGAIN):
                    raise SwaxsInputError(f"{self.lock_path}: cannot lock ({exc.strerror})") from None
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"{self.path}: held by other processes for more than {self.lock_timeout_s} s; "
                    "expected it to be free (raise lock_timeout_s or find the stuck job)"
                )
            time.sleep(delay * (0.5 + random.random()))
            delay = min(2 * delay, _POLL_MAX_S)

    def _attach(self, gate: _Gate, write: bool, deadline: float) -> duckdb.DuckDBPyConnection:
        quoted = str(self.path).replace("'", "''")
        sql = f"ATTACH '{quoted}' AS {_ALIAS}" + ("" if write else " (READ_ONLY)")
        delay = _POLL_MIN_S
        while True:
            if gate.memory is None:
                gate.memory = duckdb.connect(":memory:", config={"checkpoint_threshold": CHECKPOINT_THRESHOLD})
                gate.memory.execute("PRAGMA disable_checkpoint_on_shutdown")
            cur = gate.memory.cursor()
            try:
                cur.execute(sql)
                cur.execute(f"USE {_ALIAS}")
                return cur
            except duckdb.Error as exc:
                cur.close()
                self._reset(gate)
                text = str(exc)
                # Only a program outside swaxs (the duckdb shell, say) can hold
                # the file while we hold the lock file: wait for it like for us.
                if "lock" in text.lower():
                    if time.monotonic() < deadline:
                        time.sleep(delay * (0.5 + random.random()))
                        delay = min(2 * delay, _POLL_MAX_S)
                        continue
                    raise StoreBusyError(
                        f"{self.path}: locked by a program outside swaxs for more than {self.lock_timeout_s} s "
                        f"({text.splitlines()[0]})"
                    ) from None
                if not write and not self.path.exists():
                    raise SwaxsInputError(f"{self.path}: the store file is gone; expected a DuckDB file") from None
                raise SwaxsInputError(
                    f"{self.path}: cannot open as a DuckDB store ({text.splitlines()[0]}); expected a DuckDB "
                    f"database file (move this one away, or point {ENV_VAR} or --db elsewhere)"
                ) from None

    def _detach(self, gate: _Gate, cur: duckdb.DuckDBPyConnection) -> None:
        try:
            cur.execute("USE memory")
            cur.execute(f"DETACH {_ALIAS}")
            cur.close()
        except duckdb.Error:
            # Closing the whole in-memory instance releases the file for sure.
            self._reset(gate)
            raise

    @staticmethod
    def _reset(gate: _Gate) -> None:
        if gate.memory is not None:
            try:
                gate.memory.close()
            finally:
                gate.memory = None


__all__ = ["CHECKPOINT_THRESHOLD", "ENV_VAR", "SCHEMA_VERSION", "StoreBase", "StoreBusyError", "default_db_path"]
