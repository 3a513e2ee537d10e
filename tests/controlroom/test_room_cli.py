"""`kiemthu users add` and `kiemthu serve`: accounts from the terminal, with bad input named and no traceback."""

from __future__ import annotations

import sqlite3
import subprocess
from contextlib import closing

from tests.controlroom.room import KIEMTHU


def add(db, *args: str, password: str = "mot-mat-khau-dai") -> subprocess.CompletedProcess:
    return subprocess.run([KIEMTHU, "users", "add", *args, "--db", str(db), "--password-stdin"], input=password + "\n",
                          capture_output=True, text=True, timeout=60)


def test_users_add_stores_a_hash_never_the_password(tmp_path):
    """The account is created with its role; the database holds an argon2 hash, not the password."""
    db = tmp_path / "room.sqlite"
    done = add(db, "nguyenvana", "--role", "quan_tri", "--name", "Nguyễn Văn A")
    assert done.returncode == 0, done.stderr
    with closing(sqlite3.connect(db)) as conn:
        role, stored = conn.execute("SELECT role, password_hash FROM users WHERE username = 'nguyenvana'").fetchone()
        assert role == "quan_tri" and stored.startswith("$argon2")
        assert "mot-mat-khau-dai" not in stored
        assert "mot-mat-khau-dai" not in " ".join(r[0] for r in conn.execute("SELECT detail FROM audit"))


def test_users_add_names_field_rule_and_value(tmp_path):
    """A bad name, role or password is refused with the field, the rule and the value; a name cannot be reused."""
    db = tmp_path / "room.sqlite"
    bad_name = add(db, "Ten Sai")
    assert bad_name.returncode == 2 and "username" in bad_name.stderr and "Ten Sai" in bad_name.stderr
    bad_role = add(db, "canbo", "--role", "giam_doc")
    assert bad_role.returncode == 2 and "role" in bad_role.stderr and "giam_doc" in bad_role.stderr
    short = add(db, "canbo", password="ngan")
    assert short.returncode == 2 and "password" in short.stderr and "ngan" not in short.stderr
    assert add(db, "canbo").returncode == 0
    again = add(db, "canbo")
    assert again.returncode == 2 and "already exists" in again.stderr
    for out in (bad_name, bad_role, short, again):
        assert "Traceback" not in out.stderr


def test_serve_help_names_loopback_default():
    out = subprocess.run([KIEMTHU, "serve", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "127.0.0.1" in out.stdout and "--db" in out.stdout
