"""Who is using the dashboard, and what they may see and change.

A server runs in one of three modes, chosen by its administrator with
``$SWAXS_AUTH`` (docs/security.md says what each relies on):

``none`` (the default)
    No users: everyone who reaches the dashboard is the same anonymous user,
    who owns and may change everything.  Right for a dashboard on
    ``127.0.0.1`` used by one person or a trusting group.
``proxy``
    A reverse proxy in front logs users in and passes the name in a request
    header (``$SWAXS_USER_HEADER``, default ``X-Forwarded-User``).  A request
    without it is refused.  Only safe when nothing but the proxy can reach
    the server (it listens on 127.0.0.1 by default).
``password``
    swaxs's own login: users and scrypt password hashes in the store
    (``python -m swaxs_lib user add NAME``).

Names in ``$SWAXS_ADMINS`` (comma-separated) may see, rename, delete and
cancel everything.  Everyone else:

- sees their own datasets, those shared with the group, and a dataset
  shared by link when they open its link (it is not listed);
- renames, deletes and re-shares only their own; cancels only their own jobs;
- sees their own jobs and fits in lists.

Rows with no owner (stored before owners existed, or by the command line)
are the group's: everyone sees them, only admins change them.

Examples
--------
>>> ann, bob = Viewer("ann"), Viewer("bob")
>>> from types import SimpleNamespace as Row
>>> shared, mine = Row(owner="ann", visibility="link"), Row(owner="ann", visibility="private")
>>> can_open(bob, shared), can_list(bob, shared), can_open(bob, mine), can_change(ann, mine), can_change(bob, shared)
(True, False, False, True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.store._common import utc_now

#: The modes of ``$SWAXS_AUTH``.
AUTH_MODES = ("none", "proxy", "password")
#: A user name: letters, digits and ``. _ @ -``, 1 to 64 characters (what proxies pass: logins, e-mail addresses).
NAME_PATTERN = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
#: scrypt's cost: n = 2**14, r = 8, p = 1 (16 MB, ~50 ms): RFC 7914's interactive-login figures.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True)
class Viewer:
    """The user of a page or a request.

    Attributes
    ----------
    name : str
        The user name; ``""`` for the anonymous user of a server with no logins.
    admin : bool
        May see and change everything.
    """

    name: str
    admin: bool = False

    @property
    def label(self) -> str:
        return self.name or "anonymous"


def auth_mode(env: Mapping[str, str] | None = None) -> str:
    """The server's mode from ``$SWAXS_AUTH`` (``none`` when unset).

    Raises
    ------
    SwaxsInputError
        Another value.
    """
    env = os.environ if env is None else env
    mode = (env.get("SWAXS_AUTH") or "none").strip().lower()
    if mode not in AUTH_MODES:
        raise SwaxsInputError(f"$SWAXS_AUTH: got {mode!r}; expected one of {', '.join(AUTH_MODES)}")
    return mode


def admins(env: Mapping[str, str] | None = None) -> frozenset[str]:
    """The names in ``$SWAXS_ADMINS``."""
    env = os.environ if env is None else env
    return frozenset(n.strip() for n in (env.get("SWAXS_ADMINS") or "").split(",") if n.strip())


def check_name(name: Any, what: str = "user name") -> str:
    """``name`` if it is a valid user name.

    Raises
    ------
    SwaxsInputError
        Empty, too long or with other characters than :data:`NAME_PATTERN` allows.
    """
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        shown = repr(name)[:80]
        raise SwaxsInputError(f"{what}: got {shown}; expected 1 to 64 letters, digits or . _ @ -")
    return name


def viewer_for(name: str, env: Mapping[str, str] | None = None) -> Viewer:
    """The :class:`Viewer` of a logged-in user name (an admin if listed in ``$SWAXS_ADMINS``)."""
    return Viewer(name, admin=name in admins(env))


def viewer_from_headers(headers: Mapping[str, str], env: Mapping[str, str] | None = None) -> Viewer | None:
    """The user a request comes from, in the server's mode; None when it must log in first (``password``).

    Parameters
    ----------
    headers : mapping
        The request's headers (case-insensitive names).
    env : mapping, optional
        The server's environment (default ``os.environ``).

    Raises
    ------
    SwaxsInputError
        ``proxy`` mode and no (or an invalid) user header: the proxy is missing or misconfigured.
    """
    env = os.environ if env is None else env
    mode = auth_mode(env)
    if mode == "none":
        return Viewer("", admin=True)
    if mode == "password":
        return None
    header = (env.get("SWAXS_USER_HEADER") or "X-Forwarded-User").strip()
    lowered = {str(k).lower(): v for k, v in headers.items()}
    name = lowered.get(header.lower())
    if not name:
        raise SwaxsInputError(f"request: no {header} header; expected the authenticating proxy to name the user "
                              "($SWAXS_AUTH=proxy)")
    return viewer_for(check_name(str(name).strip(), f"{header} header"), env)


def can_open(viewer: Viewer, row: Any) -> bool:
    """Whether ``viewer`` may open a dataset or result ``row`` (by its id)."""
    owner = getattr(row, "owner", "") or ""
    return viewer.admin or owner in ("", viewer.name) or getattr(row, "visibility", "private") in ("link", "group")


def can_list(viewer: Viewer, row: Any) -> bool:
    """Whether ``row`` appears in ``viewer``'s lists (a dataset shared by link does not: it is opened by its link)."""
    owner = getattr(row, "owner", "") or ""
    return viewer.admin or owner in ("", viewer.name) or getattr(row, "visibility", "private") == "group"


def can_change(viewer: Viewer, row: Any) -> bool:
    """Whether ``viewer`` may rename, delete, re-share or cancel ``row``: its owner or an admin."""
    return viewer.admin or (bool(viewer.name) and (getattr(row, "owner", "") or "") == viewer.name)


def visible(viewer: Viewer, rows: Iterable[Any]) -> list:
    """The rows of a list that ``viewer`` may see (:func:`can_list`), in order."""
    return [r for r in rows if can_list(viewer, r)]


def check_open(viewer: Viewer, row: Any, what: str) -> None:
    """Refuse a row ``viewer`` may not open, with the same message as an unknown id (nothing leaks).

    Raises
    ------
    SwaxsInputError
    """
    if not can_open(viewer, row):
        raise SwaxsInputError(f"{what} {getattr(row, 'id', '')!r}: not found, or not shared with you")


def check_change(viewer: Viewer, row: Any, action: str, what: str) -> None:
    """Refuse ``action`` ("rename", "delete", "cancel", ...) on a row ``viewer`` does not own.

    Raises
    ------
    SwaxsInputError
        Names the owner and who may do it.
    """
    if not can_change(viewer, row):
        owner = getattr(row, "owner", "") or ""
        whose = f"{owner}'s" if owner else "the group's"
        raise SwaxsInputError(f"{what} {getattr(row, 'id', '')!r}: is {whose}; only its owner or an admin may "
                              f"{action} it")


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` of ``password`` with a fresh 16-byte salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a :func:`hash_password` string (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        mine = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                              dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(mine.hex(), digest)


def add_user(store, name: str, password: str, *, admin: bool = False) -> None:
    """Add (or replace the password of) a user of the built-in login.

    Raises
    ------
    SwaxsInputError
        An invalid name, or a password shorter than 8 characters.
    """
    check_name(name)
    if not isinstance(password, str) or len(password) < 8:
        raise SwaxsInputError(f"password for {name}: expected at least 8 characters")
    with store.session(write=True) as cur:
        cur.execute("DELETE FROM users WHERE name = ?", [name])
        cur.execute("INSERT INTO users VALUES (?, ?, ?, ?)", [name, hash_password(password), bool(admin), utc_now()])


def remove_user(store, name: str) -> bool:
    """Remove a user of the built-in login; whether there was one.  What they own stays, theirs."""
    with store.session(write=True) as cur:
        return cur.execute("DELETE FROM users WHERE name = ? RETURNING name", [name]).fetchone() is not None


def list_users(store) -> list[tuple[str, bool]]:
    """``(name, admin)`` of every user of the built-in login, by name."""
    with store.session() as cur:
        return [(r[0], bool(r[1])) for r in cur.execute("SELECT name, admin FROM users ORDER BY name").fetchall()]


def login(store, name: str, password: str, env: Mapping[str, str] | None = None) -> Viewer | None:
    """The :class:`Viewer` of a correct name and password of the built-in login, else None."""
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        return None
    with store.session() as cur:
        row = cur.execute("SELECT password_scrypt, admin FROM users WHERE name = ?", [name]).fetchone()
    if row is None:
        verify_password(password, hash_password("not a user"))  # the same time for an unknown name
        return None
    if not verify_password(password, row[0]):
        return None
    return Viewer(name, admin=bool(row[1]) or name in admins(env))


__all__ = ["AUTH_MODES", "Viewer", "add_user", "admins", "auth_mode", "can_change", "can_list", "can_open",
           "check_change", "check_name", "check_open", "hash_password", "list_users", "login", "remove_user",
           "verify_password", "viewer_for", "viewer_from_headers", "visible"]
