"""Accounts, sessions and CSRF: argon2 password hashes, HttpOnly SameSite cookies, one CSRF token per session.

Roles: `can_bo` (officer: runs, prompts, submissions) and `quan_tri` (administrator: also targets and accounts).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from controlroom import db
from kiemthu.runtime import VN_TZ

ROLES = {"can_bo": "Cán bộ", "quan_tri": "Quản trị"}
SESSION_COOKIE = "kt_phien"
LOGIN_CSRF_COOKIE = "kt_csrf_dn"
SESSION_HOURS = 12
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 10
_hasher = PasswordHasher()
# verified against when the account does not exist, so a wrong name costs the same time as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AccountError(ValueError):
    """Bad account input: names the field, the rule and the value (never a password)."""


@dataclass(frozen=True)
class User:
    username: str
    full_name: str
    role: str
    csrf: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == "quan_tri"

    @property
    def role_name(self) -> str:
        return ROLES[self.role]


def check_account(username: str, password: str, role: str) -> None:
    if not USERNAME.match(username or ""):
        raise AccountError(f"tên đăng nhập / username: chữ thường, số, . _ - (2–32 ký tự) — giá trị '{username}'")
    if role not in ROLES:
        raise AccountError(f"vai trò / role: một trong {', '.join(ROLES)} — giá trị '{role}'")
    if len(password or "") < MIN_PASSWORD:
        raise AccountError(f"mật khẩu / password: ít nhất {MIN_PASSWORD} ký tự — đã nhập {len(password or '')} ký tự")


def add_user(conn: sqlite3.Connection, username: str, password: str, role: str, full_name: str = "") -> User:
    check_account(username, password, role)
    if conn.execute("SELECT 1 FROM users WHERE username = ?", (username,)).fetchone():
        raise AccountError(f"tên đăng nhập / username: đã tồn tại / already exists — giá trị '{username}'")
    with conn:
        conn.execute("INSERT INTO users VALUES (?,?,?,?,1,?)",
                     (username, full_name or username, role, _hasher.hash(password), db.now()))
    return User(username, full_name or username, role)


def set_active(conn: sqlite3.Connection, username: str, active: bool) -> None:
    with conn:
        conn.execute("UPDATE users SET active = ? WHERE username = ?", (int(active), username))
        if not active:
            conn.execute("DELETE FROM sessions WHERE username = ?", (username,))


def users(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT username, full_name, role, active, created_at FROM users ORDER BY username").fetchall()


def authenticate(conn: sqlite3.Connection, username: str, password: str) -> User | None:
    row = conn.execute("SELECT * FROM users WHERE username = ? AND active = 1", (username,)).fetchone()
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    return User(row["username"], row["full_name"], row["role"])


def _digest(token: str) -> str:
    # the cookie's value is never stored: a copy of the database opens no session
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(conn: sqlite3.Connection, user: User) -> str:
    """A new session; returns the cookie value."""
    token = secrets.token_urlsafe(32)
    start = datetime.now(VN_TZ)
    with conn:
        conn.execute("DELETE FROM sessions WHERE expires_at < ?", (start.isoformat(),))
        conn.execute("INSERT INTO sessions VALUES (?,?,?,?,?)",
                     (_digest(token), user.username, secrets.token_urlsafe(32), start.isoformat(timespec="seconds"),
                      (start + timedelta(hours=SESSION_HOURS)).isoformat(timespec="seconds")))
    return token


def session_user(conn: sqlite3.Connection, token: str | None) -> User | None:
    if not token:
        return None
    row = conn.execute(
        "SELECT u.username, u.full_name, u.role, s.csrf, s.expires_at FROM sessions s JOIN users u USING (username) "
        "WHERE s.token_hash = ? AND u.active = 1", (_digest(token),)).fetchone()
    if row is None or row["expires_at"] < datetime.now(VN_TZ).isoformat():
        return None
    return User(row["username"], row["full_name"], row["role"], row["csrf"])


def close_session(conn: sqlite3.Connection, token: str | None) -> None:
    if token:
        with conn:
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (_digest(token),))


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
