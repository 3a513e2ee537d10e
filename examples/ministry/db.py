"""SQLite storage. One short-lived connection per unit of work; WAL so the web threads and the outbox
worker do not block each other; `transaction()` takes the write lock up front (BEGIN IMMEDIATE)."""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tech_id TEXT NOT NULL UNIQUE,
    ho_va_ten TEXT, so_dinh_danh TEXT, loai_tai_khoan TEXT,
    email TEXT, so_dien_thoai TEXT, dia_chi TEXT,
    claims_json TEXT, created_at TEXT, last_login_at TEXT
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,                 -- citizen | officer
    user_ref TEXT NOT NULL,             -- users.id or officer user name
    id_token TEXT, acr TEXT,
    second_login_done INTEGER DEFAULT 0,
    created_at REAL, expires_at REAL
);
CREATE TABLE IF NOT EXISTS sso_requests (
    state TEXT PRIMARY KEY,
    nonce TEXT, code_verifier TEXT, return_to TEXT, acr TEXT,
    created_at REAL, used INTEGER DEFAULT 0
);
CREATE TABLE IF NOT EXISTS drafts (
    id TEXT PRIMARY KEY, user_id INTEGER, service_id TEXT, fields_json TEXT, created_at REAL
);
CREATE TABLE IF NOT EXISTS daily_sequence (
    agency TEXT NOT NULL, day TEXT NOT NULL, last INTEGER NOT NULL,
    PRIMARY KEY (agency, day)
);
CREATE TABLE IF NOT EXISTS dossiers (
    code TEXT PRIMARY KEY,
    service_id TEXT NOT NULL, user_id INTEGER NOT NULL,
    status TEXT NOT NULL,
    fields_json TEXT,
    submitted_at TEXT, received_at TEXT, due_at TEXT, finished_at TEXT, returned_at TEXT, rejected_at TEXT,
    fee_amount INTEGER DEFAULT 0,
    paid INTEGER DEFAULT 0, paid_at TEXT,
    supplement_json TEXT DEFAULT '[]',
    result_token TEXT, result_path TEXT, result_id TEXT,
    portal_accepted INTEGER DEFAULT 0,
    updated_at TEXT
);
CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_code TEXT NOT NULL,
    ma_tp TEXT, ten_tp TEXT, file_name TEXT, stored_path TEXT, token TEXT UNIQUE, size INTEGER,
    from_khodl INTEGER DEFAULT 0, khodl_code TEXT, khodl_url TEXT
);
CREATE TABLE IF NOT EXISTS history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_code TEXT, status TEXT, action TEXT, actor TEXT, at TEXT, note TEXT
);
CREATE TABLE IF NOT EXISTS payments (
    ref TEXT PRIMARY KEY,
    dossier_code TEXT NOT NULL, attempt INTEGER,
    amount INTEGER NOT NULL, status TEXT NOT NULL,      -- initiated | paid | failed
    init_time TEXT, created_at REAL, paid_at TEXT,
    transaction_id TEXT, bank_code TEXT,
    ipn_count INTEGER DEFAULT 0, processed_count INTEGER DEFAULT 0,
    last_query_at REAL
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dossier_code TEXT NOT NULL,
    service TEXT NOT NULL,              -- DongBoHoSoMC | CapNhatTienDoHoSoMC
    label TEXT,
    payload_json TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',   -- pending | sent | failed
    attempts INTEGER DEFAULT 0,
    next_attempt_at REAL DEFAULT 0,
    last_error TEXT,
    created_at REAL, sent_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(status, dossier_code, id);
"""
# columns added after the first release: (table, column, type)
ADDED_COLUMNS = [("sso_requests", "acr", "TEXT")]


class Database:
    def __init__(self, path: str | Path):
        self.path = str(path)
        with self.connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            for table, column, kind in ADDED_COLUMNS:
                existing = {r["name"] for r in conn.execute(f"PRAGMA table_info({table})")}
                if column not in existing:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across app crashes, fewer fsyncs
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction holding SQLite's reserved lock from the start."""
        conn = self.connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def one(self, sql: str, *args: Any) -> sqlite3.Row | None:
        conn = self.connect()
        try:
            return conn.execute(sql, args).fetchone()
        finally:
            conn.close()

    def all(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        conn = self.connect()
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    def run(self, sql: str, *args: Any) -> int:
        """Execute one statement in autocommit; returns lastrowid."""
        conn = self.connect()
        try:
            return conn.execute(sql, args).lastrowid
        finally:
            conn.close()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def loads(text: str | None, default: Any = None) -> Any:
    return json.loads(text) if text else default
