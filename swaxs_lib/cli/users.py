"""The ``user`` command: the built-in login's users (``$SWAXS_AUTH=password``; :mod:`swaxs_lib.access`).

``python -m swaxs_lib user add NAME [--admin]`` reads the password from
stdin (its first line; typed twice at a terminal); ``user list`` and
``user remove NAME`` do what they say.  Datasets, fits and jobs a removed
user owned stay theirs (admins can still change them).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from swaxs_lib.cli.common import say
from swaxs_lib.cli.data import add_db_flag, open_store
from swaxs_lib.errors import SwaxsInputError


def _password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if first != getpass.getpass("again: "):
            raise SwaxsInputError("password: the two entries differ; expected the same password twice")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _cmd_user(args: argparse.Namespace) -> dict[str, Any]:
    from swaxs_lib.access import add_user, auth_mode, check_name, list_users, remove_user

    store = open_store(args)
    if args.action == "list":
        users = list_users(store)
        return {"users": [{"name": n, "admin": a} for n, a in users], "auth": auth_mode()}
    if args.name is None:
        raise SwaxsInputError(f"user {args.action}: expected a user NAME")
    name = check_name(args.name, "NAME")
    if args.action == "add":
        add_user(store, name, _password(), admin=args.admin)
        if auth_mode() != "password":
            say("user: stored; the dashboard uses its own login only with SWAXS_AUTH=password")
        return {"user": name, "admin": bool(args.admin), "added": True}
    removed = remove_user(store, name)
    if not removed:
        raise SwaxsInputError(f"NAME: got {name!r}; expected a user of the built-in login (user list)")
    return {"user": name, "removed": True}


def register(sub) -> None:
    """Add the user command to ``sub``."""
    p = sub.add_parser("user", help="add, list or remove users of the dashboard's built-in login")
    p.add_argument("action", choices=("add", "list", "remove"))
    p.add_argument("name", nargs="?", metavar="NAME", help="the user name (letters, digits, . _ @ -)")
    p.add_argument("--admin", action="store_true", help="may see and change everything")
    add_db_flag(p)
    p.set_defaults(func=_cmd_user)
