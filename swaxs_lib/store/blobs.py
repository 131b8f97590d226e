"""Opaque byte strings under a key: the frames of a relaxation trajectory and the like.

Keys are caller-chosen text (``"relax/<job id>/frame/00012"``); a key written
again replaces its bytes.  Values are stored as given (callers compress).
"""

from __future__ import annotations

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.store._common import utc_now

#: Largest value accepted (bytes).
MAX_BLOB_BYTES = 256 * 1024 * 1024


class BlobsMixin:
    """Blob methods of :class:`~swaxs_lib.store.Store`."""

    def put_blob(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (replacing what was there)."""
        if not isinstance(key, str) or not key or len(key) > 512:
            raise SwaxsInputError(f"blob key: got {key!r}; expected text of 1 to 512 characters")
        if not isinstance(data, (bytes, bytearray, memoryview)) or len(data) > MAX_BLOB_BYTES:
            raise SwaxsInputError(f"blob {key}: expected at most {MAX_BLOB_BYTES} bytes")
        with self.session(write=True) as cur:
            cur.execute("DELETE FROM blobs WHERE key = ?", [key])
            cur.execute("INSERT INTO blobs VALUES (?, ?, ?)", [key, bytes(data), utc_now()])

    def get_blob(self, key: str) -> bytes | None:
        """The bytes under ``key``, or None."""
        with self.session() as cur:
            row = cur.execute("SELECT data FROM blobs WHERE key = ?", [key]).fetchone()
        return None if row is None else bytes(row[0])

    def blob_keys(self, prefix: str) -> list[str]:
        """Every key starting with ``prefix``, sorted."""
        with self.session() as cur:
            rows = cur.execute("SELECT key FROM blobs WHERE starts_with(key, ?) ORDER BY key", [prefix]).fetchall()
        return [r[0] for r in rows]

    def delete_blobs(self, prefix: str) -> int:
        """Delete every blob whose key starts with ``prefix``; how many."""
        with self.session(write=True) as cur:
            rows = cur.execute("DELETE FROM blobs WHERE starts_with(key, ?) RETURNING key", [prefix]).fetchall()
        return len(rows)


__all__ = ["MAX_BLOB_BYTES", "BlobsMixin"]
