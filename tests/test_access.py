"""Users and ownership on a shared server (issue 19 item 1): who may see, rename, delete and cancel what.

The probe that opened the issue: a second visitor renamed and deleted another user's dataset in two clicks,
the Home page listed every dataset to every visitor, and anyone could cancel any job.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from swaxs_lib.access import (
    Viewer,
    add_user,
    check_change,
    login,
    verify_password,
    viewer_from_headers,
)
from swaxs_lib.errors import SwaxsInputError
from swaxs_lib.io import read_measurement_bytes
from swaxs_lib.jobs import cancel, submit
from swaxs_lib.store import Store
from swaxs_lib.store.schema import migrate
from tests.test_pages import db  # noqa: F401  (the store fixture the pages open)

ROOT = Path(__file__).resolve().parents[1]
RAW = b"# x_unit: 1/A\n" + b"".join(f"{0.02 * k:.3f} {100.0 / (1 + k):.6f}\n".encode() for k in range(1, 40))


def _add(db: Store, name: str, owner: str, visibility: str) -> str:
    raw = RAW + f"# {name}\n".encode()  # distinct bytes per dataset
    return db.add_dataset(name, raw, f"{name}.dat", read_measurement_bytes(raw, f"{name}.dat"), owner=owner,
                          visibility=visibility).id


def test_proxy_mode_takes_the_user_from_the_header_and_refuses_a_request_without_it():
    env = {"SWAXS_AUTH": "proxy", "SWAXS_ADMINS": "root@lab"}
    assert viewer_from_headers({"x-forwarded-user": "ann"}, env) == Viewer("ann", admin=False)
    assert viewer_from_headers({"X-Forwarded-User": "root@lab"}, env).admin
    with pytest.raises(SwaxsInputError, match="no X-Forwarded-User header"):
        viewer_from_headers({}, env)
    with pytest.raises(SwaxsInputError, match="expected 1 to 64 letters"):
        viewer_from_headers({"X-Forwarded-User": "<b>ann</b>"}, env)
    assert viewer_from_headers({}, {}) == Viewer("", admin=True)  # no logins: one anonymous user, as before
    with pytest.raises(SwaxsInputError, match=r"\$SWAXS_AUTH: got 'ldap'"):
        viewer_from_headers({}, {"SWAXS_AUTH": "ldap"})


def test_the_built_in_login_checks_scrypt_hashes(db):
    add_user(db, "ann", "correct horse")
    assert login(db, "ann", "correct horse", {}) == Viewer("ann")
    assert login(db, "ann", "wrong horse", {}) is None and login(db, "nobody", "correct horse", {}) is None
    with db.session() as cur:
        stored = cur.execute("SELECT password_scrypt FROM users").fetchone()[0]
    assert "correct horse" not in stored and stored.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse", stored) and not verify_password("correct horse", "md5$x")
    with pytest.raises(SwaxsInputError, match="at least 8 characters"):
        add_user(db, "bob", "short")


def test_only_the_owner_or_an_admin_changes_a_dataset_or_cancels_a_job(db):
    ds = db.get_dataset(_add(db, "ann-data", "ann", "group"))
    check_change(Viewer("ann"), ds, "delete", "dataset")
    check_change(Viewer("root", admin=True), ds, "delete", "dataset")
    with pytest.raises(SwaxsInputError, match="is ann's; only its owner or an admin may delete it"):
        check_change(Viewer("bob"), ds, "delete", "dataset")
    legacy = db.get_dataset(_add(db, "old", "", "group"))  # stored before owners: the group's
    with pytest.raises(SwaxsInputError, match="is the group's"):
        check_change(Viewer("bob"), legacy, "rename", "dataset")
    job = submit(db, "selftest", {"steps": 1}, detach=False, owner="ann")
    assert job.owner == "ann" and job.params["owner"] == "ann"
    with pytest.raises(SwaxsInputError, match="only its owner or an admin may cancel it"):
        cancel(db, job.id, Viewer("bob"))
    assert cancel(db, job.id, Viewer("ann")).status == "done"  # ended already: nothing to cancel


def test_rows_stored_before_owners_existed_read_as_the_groups(tmp_path):
    store = Store(tmp_path / "old.duckdb")
    with store.session(write=True) as cur:  # a version-7 store: rebuild it from scratch at 7, add a row, upgrade
        for table in ("results", "datasets", "users"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute("DELETE FROM schema_version WHERE version >= 1")
        for name in [r[0] for r in cur.execute("SELECT table_name FROM duckdb_tables()").fetchall()]:
            if name != "schema_version":
                cur.execute(f"DROP TABLE {name}")
        cur.execute("DROP TABLE schema_version")
        migrate(cur, target=7)
        cur.execute("INSERT INTO datasets (id, name, filename, raw_bytes, raw_sha256, kind, x_unit, source, x, "
                    "\"values\", header_json, metadata_json, created_at) VALUES ('old_id_0000000000000000', 'old', "
                    "'o.dat', '', '', 'iq', '1/A', 'text', [0.1, 0.2], [1.0, 2.0], '[]', '[]', now())")
        migrate(cur)
    summary = store.list_datasets()[0]
    assert (summary.owner, summary.visibility) == ("", "group")


def _page(page: str, who: Viewer | None, **query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if page != "app.py":
        at.switch_page(page)
    if who is not None:
        at.session_state["_swaxs_viewer"] = who
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _text(at: AppTest) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.caption] + [str(e.value) for e in at.dataframe]
    parts += [o for s in at.selectbox for o in s.options]
    return "\n".join(map(str, parts))


def test_pages_show_each_user_only_what_they_may_see(db, monkeypatch):
    monkeypatch.setenv("SWAXS_AUTH", "password")
    add_user(db, "ann", "ann-password")
    group_id = _add(db, "ann-group", "ann", "group")
    link_id = _add(db, "ann-link", "ann", "link")
    _add(db, "ann-private", "ann", "private")
    _add(db, "bob-private", "bob", "private")

    at = _page("app.py", None)  # nobody logged in: the login form, nothing stored shown
    assert [b.label for b in at.button] == ["Log in"] and "ann-" not in _text(at)
    at.text_input[0].input("ann")
    at.text_input[1].input("wrong-password")
    at.button[0].click().run()
    assert "wrong password" in at.error[0].value and "ann-" not in _text(at)

    home = _text(_page("app.py", Viewer("bob")))
    assert "ann-group" in home and "bob-private" in home
    assert "ann-private" not in home and "ann-link" not in home  # shared by link: not listed

    data = _page("pages/data.py", Viewer("bob"), ds=group_id)
    assert not [b for b in data.button if b.label in ("Rename", "Delete…", "Share")]
    assert any("only its owner or an admin may rename" in c.value for c in data.caption)
    linked = _page("pages/data.py", Viewer("bob"), ds=link_id)  # the link opens it
    assert "ann-link" in _text(linked)
    owner = _page("pages/data.py", Viewer("ann"), ds=group_id)
    assert {"Rename", "Delete…", "Share"} <= {b.label for b in owner.button}


def test_the_user_command_adds_lists_and_removes(tmp_path):
    db = str(tmp_path / "users.duckdb")

    def cli(*args, stdin=""):
        out = subprocess.run([sys.executable, "-m", "swaxs_lib", "user", *args, "--db", db], input=stdin,
                             capture_output=True, text=True, cwd=ROOT)
        return out.returncode, out.stdout.strip().splitlines()[-1:] and json.loads(out.stdout.strip().splitlines()[-1]), out.stderr

    assert cli("add", "ann", "--admin", stdin="a-long-password\n")[1] == {"user": "ann", "admin": True, "added": True}
    assert cli("list")[1]["users"] == [{"name": "ann", "admin": True}]
    code, _, err = cli("add", "bad name", stdin="a-long-password\n")
    assert code == 2 and "NAME: got 'bad name'" in err
    assert cli("remove", "ann")[1] == {"user": "ann", "removed": True}


def test_a_backup_is_a_store_holding_every_acknowledged_dataset(db, tmp_path):
    """``backup`` copies under the store's write lock: every dataset acknowledged before it is in the copy, bit for bit,
    and the copy opens as a store of the same schema."""
    ids = [_add(db, f"d{k}", "ann", "group") for k in range(3)]
    counts = db.backup(tmp_path / "copy.duckdb")
    copy = Store(tmp_path / "copy.duckdb")
    assert counts["datasets"] == 3 and counts == copy.table_counts()
    assert all(copy.get_dataset(i).raw_bytes == db.get_dataset(i).raw_bytes for i in ids)
    with pytest.raises(SwaxsInputError, match="exists already"):
        db.backup(tmp_path / "copy.duckdb")


def test_the_owner_shares_a_private_dataset_with_the_group_from_the_data_page(db, monkeypatch):
    monkeypatch.setenv("SWAXS_AUTH", "password")
    private = _add(db, "ann-private", "ann", "private")
    assert "ann-private" not in _text(_page("app.py", Viewer("bob")))
    at = _page("pages/data.py", Viewer("ann"), ds=private)
    at.selectbox(key=f"data.share_as.{private}").select("group").run()
    [b for b in at.button if b.label == "Share"][0].click().run()
    assert db.get_dataset(private).visibility == "group"
    assert "ann-private" in _text(_page("app.py", Viewer("bob")))
