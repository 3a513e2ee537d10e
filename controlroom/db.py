"""The control room's SQLite file: accounts, sessions, the audit log, campaigns and targets.

The run history of `reports/history.py` (runs, services, submissions) lives in the same file, so a campaign's
results are read from the history every `kiemthu run` already records; the engine keeps its own tables there.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterator

from kiemthu.runtime import VN_TZ
from reports import history

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY, full_name TEXT NOT NULL, role TEXT NOT NULL CHECK (role IN ('can_bo', 'quan_tri')),
  password_hash TEXT NOT NULL, active INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY, username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
  csrf TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, username TEXT, action TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS targets (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, path TEXT NOT NULL, demo INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS campaigns (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, target_id TEXT NOT NULL REFERENCES targets(id),
  publication_date TEXT NOT NULL, created_by TEXT NOT NULL, created_at TEXT NOT NULL,
  submitted_at TEXT, submitted_by TEXT
);
CREATE TABLE IF NOT EXISTS campaign_services (
  campaign_id TEXT NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE, service_id TEXT NOT NULL,
  ma_dvc TEXT, ten_dvc TEXT, position INTEGER NOT NULL,
  submitted_at TEXT, submitted_run_id TEXT, submitted_codes_json TEXT,
  PRIMARY KEY (campaign_id, service_id)
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
CREATE INDEX IF NOT EXISTS runs_dir ON runs(run_dir);
"""


_prepared: set[str] = set()


def now() -> str:
    return datetime.now(VN_TZ).isoformat(timespec="seconds")


def connect(path: Path) -> sqlite3.Connection:
    """A connection with the history's tables and ours; WAL so pages read while a run is being recorded."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=5.0, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA foreign_keys=ON")
    if str(path) not in _prepared:  # tables and WAL once per file and process: every request opens a connection
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(history.SCHEMA)
        conn.executescript(SCHEMA)
        _prepared.add(str(path))
    return conn


def initialise(path: Path) -> None:
    with closing(connect(path)):
        pass


def audit(conn: sqlite3.Connection, username: str | None, action: str, **detail: Any) -> None:
    """Who did what, when: one row per action, never a secret (callers pass names and ids only)."""
    with conn:
        conn.execute("INSERT INTO audit (at, username, action, detail) VALUES (?,?,?,?)",
                     (now(), username, action, json.dumps(detail, ensure_ascii=False, default=str)))


def audit_rows(conn: sqlite3.Connection, limit: int = 200) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM audit ORDER BY id DESC LIMIT ?", (limit,)).fetchall()


# --- targets ---------------------------------------------------------------------------------------------------

def add_target(conn: sqlite3.Connection, target_id: str, name: str, path: Path, demo: bool = False) -> None:
    with conn:
        conn.execute("INSERT OR REPLACE INTO targets VALUES (?,?,?,?,?)",
                     (target_id, name, str(Path(path).resolve()), int(demo), now()))


def targets(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM targets ORDER BY demo DESC, name").fetchall()


def target(conn: sqlite3.Connection, target_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM targets WHERE id = ?", (target_id,)).fetchone()


# --- campaigns -------------------------------------------------------------------------------------------------

def add_campaign(conn: sqlite3.Connection, campaign_id: str, name: str, target_id: str, publication: date,
                 services: list[dict[str, str]], by: str) -> None:
    with conn:
        conn.execute("INSERT INTO campaigns (id, name, target_id, publication_date, created_by, created_at) "
                     "VALUES (?,?,?,?,?,?)", (campaign_id, name, target_id, publication.isoformat(), by, now()))
        for i, s in enumerate(services):
            conn.execute("INSERT INTO campaign_services (campaign_id, service_id, ma_dvc, ten_dvc, position) "
                         "VALUES (?,?,?,?,?)", (campaign_id, s["id"], s.get("MaDVC"), s.get("TenDVC"), i))


def campaigns(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute("SELECT c.*, t.name AS target_name, t.path AS target_path, t.demo AS target_demo "
                        "FROM campaigns c JOIN targets t ON t.id = c.target_id "
                        "ORDER BY c.publication_date DESC, c.created_at DESC").fetchall()


def campaign(conn: sqlite3.Connection, campaign_id: str) -> sqlite3.Row | None:
    return conn.execute("SELECT c.*, t.name AS target_name, t.path AS target_path, t.demo AS target_demo "
                        "FROM campaigns c JOIN targets t ON t.id = c.target_id WHERE c.id = ?",
                        (campaign_id,)).fetchone()


def campaign_services(conn: sqlite3.Connection, campaign_id: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM campaign_services WHERE campaign_id = ? ORDER BY position",
                        (campaign_id,)).fetchall()


def mark_submitted(conn: sqlite3.Connection, campaign_id: str, by: str, sources: list[dict[str, Any]]) -> None:
    at = now()
    with conn:
        conn.execute("UPDATE campaigns SET submitted_at = ?, submitted_by = ? WHERE id = ?", (at, by, campaign_id))
        for s in sources:
            conn.execute("UPDATE campaign_services SET submitted_at = ?, submitted_run_id = ?, submitted_codes_json = ? "
                         "WHERE campaign_id = ? AND service_id = ?",
                         (at, s["run_id"], json.dumps(s["dossier_codes"], ensure_ascii=False), campaign_id,
                          s["service"]))


# --- the history, seen from a campaign -------------------------------------------------------------------------

def chunks(items: list[str], size: int = 500) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


LIGHT = ("s.run_id, s.service_id, s.completed, s.dossier_codes_json, s.verdicts_json, r.run_dir, r.finished_sort, "
         "r.recorded_at")
FULL = "s.*, r.run_dir, r.finished_at, r.finished_sort, r.header_json, r.target_name, r.recorded_at"


def history_rows(conn: sqlite3.Connection, run_dirs: list[str], full: bool = False) -> list[sqlite3.Row]:
    """The history's service rows of these runs (newest first), with their run's folder and end time; `full`
    adds the stored summaries a submission is assembled from (the status of a service needs none of them)."""
    rows: list[sqlite3.Row] = []
    # the engine hands resolved run folders, as the history records them: no file-system call per run here
    for part in chunks(sorted({str(d) for d in run_dirs})):
        marks = ",".join("?" * len(part))
        rows += conn.execute(f"SELECT {FULL if full else LIGHT} FROM services s JOIN runs r USING (run_id) "
                             f"WHERE r.run_dir IN ({marks})", part).fetchall()
    rows.sort(key=lambda r: (r["finished_sort"] or "", r["recorded_at"] or ""), reverse=True)
    return rows
