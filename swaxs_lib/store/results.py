"""Results of fits, parameter sweeps and background jobs, one generic table.

A row holds what was asked (``params``) and what came out (``result``), both
JSON, with a status a worker moves along ``queued -> running -> done`` (or
``failed`` / ``cancelled``) through :meth:`ResultsMixin.update_result`; pages
poll :meth:`ResultsMixin.get_result`.  ``dataset_id`` and ``cluster_hash``
link a result to its inputs; they are not foreign keys, so deleting a
dataset keeps the results that used it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.store._common import as_utc, check_id, new_id, to_json, utc_now

#: What a result row records.
RESULT_KINDS = ("fit", "sweep", "job")
#: Where a result stands.
RESULT_STATUSES = ("queued", "running", "done", "failed", "cancelled")


@dataclass(frozen=True)
class ResultRecord:
    """A stored fit, sweep or job.

    Attributes
    ----------
    id : str
        URL-safe random id.
    kind : str
        One of :data:`RESULT_KINDS`.
    status : str
        One of :data:`RESULT_STATUSES`.
    params : dict
        What was asked (from JSON).
    result : dict or None
        What came out (from JSON); None until there is something.
    message : str or None
        A line for the user: progress, or why it failed.
    dataset_id : str or None
    cluster_hash : str or None
    created_at, updated_at : datetime.datetime
        UTC, aware.
    cache_key : str or None
    owner : str
        Who asked for it (``""``: nobody in particular; :mod:`swaxs_lib.access`).
    """

    id: str
    kind: str
    status: str
    params: dict[str, Any]
    result: dict[str, Any] | None
    message: str | None
    dataset_id: str | None
    cluster_hash: str | None
    created_at: datetime
    updated_at: datetime
    cache_key: str | None = None
    owner: str = ""

    def best_rw(self) -> float | None:
        """The R_w a list of results shows for this row: a fit's own, the best of a sweep's ranked
        candidates (``rows``) or of a relaxation's refits (``steps``); None when it has none.

        >>> from datetime import datetime, timezone
        >>> now = datetime.now(timezone.utc)
        >>> row = ResultRecord("x", "job", "done", {}, {"rows": [{"rw": 0.31}, {"rw": 0.29}]}, "", None, None, now, now)
        >>> row.best_rw()
        0.29
        """
        result = self.result or {}
        found = [result.get("rw"), (result.get("summary") or {}).get("rw")]
        for part in ("rows", "steps"):
            found += [item.get("rw") for item in result.get(part) or () if isinstance(item, Mapping)]
        values = [float(v) for v in found if isinstance(v, (int, float)) and v == v]
        return min(values) if values else None


_COLUMNS = ("id, kind, status, params_json, result_json, message, dataset_id, cluster_hash, created_at, updated_at, "
            "cache_key, owner")


def _record(row) -> ResultRecord:
    return ResultRecord(
        id=row[0], kind=row[1], status=row[2], params=json.loads(row[3]),
        result=None if row[4] is None else json.loads(row[4]), message=row[5], dataset_id=row[6],
        cluster_hash=row[7], created_at=as_utc(row[8]), updated_at=as_utc(row[9]), cache_key=row[10],
        owner=row[11] or "",
    )


def _check_choice(value, allowed: tuple[str, ...], what: str) -> str:
    if value not in allowed:
        raise SwaxsInputError(f"{what}: got {value!r}; expected one of {', '.join(allowed)}")
    return value


def _check_mapping(value, what: str) -> str:
    if not isinstance(value, Mapping):
        raise SwaxsInputError(f"{what}: got {type(value).__name__}; expected a mapping (dict)")
    return to_json(dict(value), what)


class ResultsMixin:
    """Result methods of :class:`~swaxs_lib.store.Store`."""

    def add_result(
        self,
        kind: str,
        params: Mapping[str, Any],
        *,
        result: Mapping[str, Any] | None = None,
        status: str = "done",
        message: str | None = None,
        dataset_id: str | None = None,
        cluster_hash: str | None = None,
        cache_key: str | None = None,
        owner: str = "",
    ) -> ResultRecord:
        """Record a fit, sweep or job.

        Parameters
        ----------
        kind : {"fit", "sweep", "job"}
        params : mapping
            JSON-serialisable inputs (numpy arrays and scalars are converted).
        result : mapping, optional
            JSON-serialisable outputs.
        status : str
            One of :data:`RESULT_STATUSES`; ``"queued"`` for a job not yet run.
        message : str, optional
        dataset_id, cluster_hash : str, optional
            The inputs it used.
        cache_key : str, optional
            A hash of every input, so that :meth:`find_result` can reuse it.
        owner : str
            Who asked for it (``""``: nobody in particular).

        Returns
        -------
        ResultRecord
        """
        _check_choice(kind, RESULT_KINDS, "kind")
        _check_choice(status, RESULT_STATUSES, "status")
        params_json = _check_mapping(params, "params")
        result_json = None if result is None else _check_mapping(result, "result")
        if dataset_id is not None:
            check_id(dataset_id, "dataset")
        result_id, now = new_id(), utc_now()
        with self.session(write=True) as cur:
            row = cur.execute(
                f"INSERT INTO results ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
                [result_id, kind, status, params_json, result_json, message, dataset_id, cluster_hash, now, now,
                 cache_key, str(owner or "")],
            ).fetchone()
        return _record(row)

    def update_result(
        self,
        result_id: str,
        *,
        status: str | None = None,
        result: Mapping[str, Any] | None = None,
        message: str | None = None,
        if_status: str | None = None,
    ) -> ResultRecord | None:
        """Move a result along (status), attach its output, or leave a message.

        Only the arguments given change; ``updated_at`` always does.  With
        ``if_status`` the change is made only while the row has that status
        (atomically); None is returned when it had another.

        Raises
        ------
        SwaxsInputError
            Unknown id or status.
        """
        check_id(result_id, "result")
        sets, values = ["updated_at = ?"], [utc_now()]
        if status is not None:
            sets.append("status = ?")
            values.append(_check_choice(status, RESULT_STATUSES, "status"))
        if result is not None:
            sets.append("result_json = ?")
            values.append(_check_mapping(result, "result"))
        if message is not None:
            sets.append("message = ?")
            values.append(str(message))
        condition, extra = ("", []) if if_status is None else (" AND status = ?", [if_status])
        with self.session(write=True) as cur:
            row = cur.execute(
                f"UPDATE results SET {', '.join(sets)} WHERE id = ?{condition} RETURNING {_COLUMNS}",
                [*values, result_id, *extra],
            ).fetchone()
            if row is None and if_status is not None:
                if cur.execute("SELECT 1 FROM results WHERE id = ?", [result_id]).fetchone() is not None:
                    return None
        if row is None:
            raise SwaxsInputError(f"result id {result_id!r}: no such result in {self.path}")
        return _record(row)

    def get_result(self, result_id: str) -> ResultRecord:
        """The result with this id.

        Raises
        ------
        SwaxsInputError
            No result has this id.
        """
        check_id(result_id, "result")
        with self.session() as cur:
            row = cur.execute(f"SELECT {_COLUMNS} FROM results WHERE id = ?", [result_id]).fetchone()
        if row is None:
            raise SwaxsInputError(f"result id {result_id!r}: no such result in {self.path}")
        return _record(row)

    def find_result(self, cache_key: str, *, status: str = "done") -> ResultRecord | None:
        """The newest result stored with this ``cache_key`` (and status), or None."""
        with self.session() as cur:
            row = cur.execute(
                f"SELECT {_COLUMNS} FROM results WHERE cache_key = ? AND status = ? "
                "ORDER BY created_at DESC LIMIT 1", [str(cache_key), status],
            ).fetchone()
        return None if row is None else _record(row)

    def list_results(
        self, kind: str | None = None, *, status: str | None = None, dataset_id: str | None = None,
        limit: int | None = None,
    ) -> list[ResultRecord]:
        """Results, newest first, optionally only of one kind, status or dataset, at most ``limit``."""
        where, values = [], []
        if kind is not None:
            where.append("kind = ?")
            values.append(_check_choice(kind, RESULT_KINDS, "kind"))
        if status is not None:
            where.append("status = ?")
            values.append(_check_choice(status, RESULT_STATUSES, "status"))
        if dataset_id is not None:
            where.append("dataset_id = ?")
            values.append(dataset_id)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        with self.session() as cur:
            rows = cur.execute(
                f"SELECT {_COLUMNS} FROM results {clause}ORDER BY created_at DESC, id"
                + ("" if limit is None else f" LIMIT {max(int(limit), 0)}"), values
            ).fetchall()
        return [_record(r) for r in rows]

    def delete_result(self, result_id: str) -> None:
        """Delete a result.

        Raises
        ------
        SwaxsInputError
            Unknown id.
        """
        check_id(result_id, "result")
        with self.session(write=True) as cur:
            row = cur.execute("DELETE FROM results WHERE id = ? RETURNING id", [result_id]).fetchone()
        if row is None:
            raise SwaxsInputError(f"result id {result_id!r}: no such result in {self.path}")


__all__ = ["RESULT_KINDS", "RESULT_STATUSES", "ResultRecord", "ResultsMixin"]
