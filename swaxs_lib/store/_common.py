"""Small helpers shared by the record modules: ids, times, JSON."""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime, timezone
from typing import Any

import numpy as np

from swaxs_lib.errors import SwaxsInputError

#: Random bytes per id: 128 bits, 22 URL-safe characters.
ID_BYTES = 16
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22}$")


def new_id() -> str:
    """A fresh unguessable URL-safe id (``secrets.token_urlsafe``, 128 bits).

    Ids never begin with ``-``: on a command line such an id would read as a flag
    (ids made before this rule can still be passed after ``--``).
    """
    while True:
        value = secrets.token_urlsafe(ID_BYTES)
        if not value.startswith("-"):
            return value


def check_id(value: Any, what: str) -> str:
    """``value`` if it looks like an id :func:`new_id` makes, else SwaxsInputError naming it."""
    if not isinstance(value, str) or not _ID_PATTERN.match(value):
        raise SwaxsInputError(f"{what} id {value!r}: not an id of this store; expected 22 URL-safe characters")
    return value


def utc_now() -> datetime:
    """Now, naive UTC (the store's TIMESTAMP convention), to the microsecond."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def as_utc(stamp: datetime) -> datetime:
    """A stored naive-UTC TIMESTAMP as an aware datetime."""
    return stamp.replace(tzinfo=timezone.utc)


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, set, frozenset)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def to_json(value: Any, what: str) -> str:
    """JSON text of ``value`` (numpy arrays and scalars become lists and numbers).

    NaN and infinity are kept (Python's JSON extension), as a failed fit may
    report them.
    """
    try:
        return json.dumps(value, default=_plain, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise SwaxsInputError(f"{what}: cannot be stored as JSON ({exc}); expected numbers, strings, lists and dicts") from None
