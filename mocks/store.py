"""SQLite state of the mock portal: the journal, dossiers as the portal sees them, payments and IPN deliveries.

One connection, guarded by a lock (handlers run on the event loop; receipts are rendered in worker threads).
WAL with synchronous=NORMAL keeps a commit per message cheap enough for the adapter's hot path.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any, Iterable

from mocks.clock import now_iso
from mocks.jsonutil import dumpb, dumps, loads
from mocks.masking import mask, mask_text, masked_json_checked, redact_leaves

SCHEMA = """
CREATE TABLE IF NOT EXISTS journal(
  id INTEGER PRIMARY KEY, ts TEXT, role TEXT, direction TEXT, method TEXT, path TEXT, service TEXT,
  client TEXT, dossier_codes TEXT, payment_ref TEXT, status_code INTEGER, request TEXT, response TEXT,
  duration_ms REAL, error TEXT, login TEXT, citizen TEXT);
CREATE TABLE IF NOT EXISTS journal_dossier(code TEXT, entry_id INTEGER);
CREATE INDEX IF NOT EXISTS journal_dossier_code ON journal_dossier(code);
DROP INDEX IF EXISTS journal_ref;
CREATE INDEX IF NOT EXISTS journal_payment_ref ON journal(payment_ref) WHERE payment_ref != '';
CREATE TABLE IF NOT EXISTS dossiers(
  code TEXT PRIMARY KEY, agency TEXT, client TEXT, matthc TEXT, status TEXT, data TEXT, digest TEXT,
  created_ts TEXT, updated_ts TEXT);
CREATE TABLE IF NOT EXISTS dossier_status(code TEXT, status TEXT, ts TEXT, service TEXT, journal_id INTEGER);
CREATE INDEX IF NOT EXISTS dossier_status_code ON dossier_status(code);
CREATE TABLE IF NOT EXISTS progress(code TEXT, data TEXT, ts TEXT, journal_id INTEGER);
CREATE INDEX IF NOT EXISTS progress_code ON progress(code);
CREATE TABLE IF NOT EXISTS results(code TEXT, owner TEXT, ma_ket_qua TEXT, data TEXT, ts TEXT);
CREATE INDEX IF NOT EXISTS results_code ON results(code);
CREATE INDEX IF NOT EXISTS results_owner ON results(owner);
CREATE TABLE IF NOT EXISTS ratings(code TEXT, data TEXT, ts TEXT);
CREATE TABLE IF NOT EXISTS payments(
  partner TEXT, ref TEXT, token TEXT UNIQUE, amount INTEGER, paid_amount INTEGER, dossier TEXT, state TEXT,
  ma_loi TEXT, bank TEXT, txn_id TEXT, txn_time TEXT, init TEXT, created_ts TEXT, completed_ts TEXT, day TEXT,
  PRIMARY KEY(partner, ref));
CREATE TABLE IF NOT EXISTS ipn_attempts(
  id INTEGER PRIMARY KEY, partner TEXT, ref TEXT, attempt INTEGER, ts TEXT, url TEXT, request TEXT,
  status_code INTEGER, reply TEXT, error TEXT, adversarial TEXT, accepted INTEGER, duration_ms REAL,
  journal_id INTEGER);
CREATE INDEX IF NOT EXISTS ipn_ref ON ipn_attempts(ref);
"""

TABLES = ["journal", "journal_dossier", "dossiers", "dossier_status", "progress", "results", "ratings",
          "payments", "ipn_attempts"]
JOURNAL_COLUMNS = ["id", "ts", "role", "direction", "method", "path", "service", "client", "dossier_codes",
                   "payment_ref", "status_code", "request", "response", "duration_ms", "error", "login", "citizen"]


def _text(value: Any) -> str:
    """A journal column value from whatever a client sent (fuzzed input may put lists where names belong)."""
    return value if isinstance(value, str) else ("" if value is None else mask_text(dumps(value))[:200])


class Clean(bytes):
    """JSON the mock produced itself and knows holds no credential: journalled as it is."""


def _encode(value: Any) -> str | None:
    """Masked JSON text of a request/response (None stays NULL)."""
    if value is None:
        return None
    if isinstance(value, Clean):
        return value.decode("utf-8")
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        return dumps(mask_text(value))
    raw, suspicious = masked_json_checked(value, dumpb)
    if suspicious:
        return dumps(redact_leaves(mask(value)))
    return raw.decode("utf-8")


JOURNAL_INSERT = ("INSERT INTO journal(id, ts, role, direction, method, path, service, client, dossier_codes,"
                  " payment_ref, status_code, request, response, duration_ms, error, login, citizen)"
                  " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
JOURNAL_DOSSIER_INSERT = "INSERT INTO journal_dossier(code, entry_id) VALUES (?, ?)"


class Store:
    """Writes are grouped: one long SQLite transaction is committed at most every `commit_interval` seconds (and
    by `flush`), each unit of work being a savepoint inside it. Append-only rows (the journal, status history,
    progress) are buffered and written with one `executemany` per table when the group is committed or before any
    read, so every read still sees every write. A crash loses at most the last few milliseconds, which a test mock
    can afford; a statement per row would cost more than everything else the adapter does."""

    def __init__(self, path: str = ":memory:", commit_interval: float = 0.02):
        self.path = path
        self.commit_interval = commit_interval
        self.lock = threading.RLock()
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=OFF")
        self.conn.executescript(SCHEMA)
        self._checkpointer: threading.Thread | None = None
        self._closing = threading.Event()
        if path != ":memory:":
            # checkpoints fsync; done on the event loop they stall every request for tens of milliseconds
            self.conn.execute("PRAGMA wal_autocheckpoint=0")
            self._checkpointer = threading.Thread(target=self._checkpoint_forever, name="sqlite-checkpoint",
                                                  daemon=True)
            self._checkpointer.start()
        self._depth = 0            # nesting of transaction() blocks
        self._open = False         # the grouped SQLite transaction is open
        self._last_commit = time.monotonic()
        self._appends: dict[str, list[tuple]] = {}   # INSERT statement -> rows not yet written
        self._pending = 0
        self._spilled: list[tuple[str, list[tuple]]] = []
        self._next_id = (self.conn.execute("SELECT MAX(id) FROM journal").fetchone()[0] or 0) + 1

    # -- transactions -------------------------------------------------------------------------------------
    def transaction(self, savepoint: bool = True) -> "_Unit":
        """One atomic unit of writes (nested use joins the outer unit). A unit that only queues appends needs no
        savepoint: if it fails, its queued rows are dropped (rows a read inside it already wrote stay)."""
        return _Unit(self, savepoint)

    def append(self, sql: str, row: tuple) -> None:
        """Queue one row of an append-only table (written in order, before any read and at each commit)."""
        with self.lock:
            rows = self._appends.get(sql)
            if rows is None:
                rows = self._appends[sql] = []
            rows.append(row)
            self._pending += 1
            if not self._depth and time.monotonic() - self._last_commit >= self.commit_interval:
                self.flush()

    def _write_appends(self) -> None:
        if not self._pending:
            return
        if not self._open:
            self.conn.execute("BEGIN")
            self._open = True
        for sql, rows in self._appends.items():
            if rows:
                self.conn.executemany(sql, rows)
                if self._depth:  # inside a unit: a rollback would take these rows with it
                    self._spilled.append((sql, rows[:]))
                rows.clear()
        self._pending = 0

    def _undo_appends(self, marks: dict[str, int], rolled_back: bool) -> None:
        """After a failed unit: rows queued before it stay queued (re-queued if the rollback took them back), its
        own go. Without a rollback, rows a read inside the unit wrote are written for good."""
        for sql in set(self._appends) | {sql for sql, _ in self._spilled}:
            written = [row for spilled_sql, rows in self._spilled if spilled_sql == sql for row in rows]
            if rolled_back:
                self._appends[sql] = (written + self._appends.get(sql, []))[:marks.get(sql, 0)]
            else:  # what is left queued was all added after the write, by this unit
                self._appends[sql] = [] if written else self._appends.get(sql, [])[:marks.get(sql, 0)]
        self._pending = sum(len(rows) for rows in self._appends.values())

    def flush(self) -> None:
        """Commit what the grouped transaction holds."""
        with self.lock:
            if self._depth:
                return
            self._write_appends()
            if self._open:
                self.conn.execute("COMMIT")
                self._open = False
                self._last_commit = time.monotonic()

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self.lock:
            self._write_appends()
            cur = self.conn.execute(sql, tuple(params))
            return cur.fetchall()

    def reset(self) -> None:
        with self.transaction() as db:
            self._write_appends()
            for t in TABLES:
                db.execute(f"DELETE FROM {t}")

    def _checkpoint_forever(self, interval: float = 0.5) -> None:
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        try:
            while not self._closing.wait(interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    pass  # busy now; the next round will do it
        finally:
            conn.close()

    def checkpoint(self) -> None:
        self.flush()
        with self.lock:
            if self.path != ":memory:":
                self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def close(self) -> None:
        self._closing.set()
        self.flush()
        with self.lock:
            self.conn.close()

    # -- journal ------------------------------------------------------------------------------------------
    def record(self, *, role: str, direction: str, method: str, path: str, service: str = "", client: str = "",
               dossier_codes: Iterable[str] = (), payment_ref: str = "", status_code: int = 0,
               request: Any = None, response: Any = None, duration_ms: float = 0.0, error: str = "",
               ts: str | None = None, login: str = "", citizen: str = "") -> int:
        """Append one journal entry (masked) and return its id. `login`: the SSO round trip the exchange belongs
        to; `citizen`: the TechID the portal knows it is for (so runs side by side can tell their logins apart)."""
        codes = list(dict.fromkeys(c for c in dossier_codes if c and c.__class__ is str))
        with self.lock:
            entry_id = self._next_id
            self._next_id += 1
            self.append(JOURNAL_INSERT, (
                entry_id, ts or now_iso(), role, direction, method, mask_text(path), _text(service), _text(client),
                dumps(codes), _text(payment_ref), int(status_code), _encode(request), _encode(response),
                round(duration_ms, 3), mask_text(error or ""), login, citizen))
            for c in codes:
                self.append(JOURNAL_DOSSIER_INSERT, (c, entry_id))
        return entry_id

    def journal(self, *, dossier: str | None = None, ref: str | None = None, client: str | None = None,
                role: str | None = None, service: str | None = None, direction: str | None = None,
                after_id: int | None = None, limit: int = 1000) -> list[dict[str, Any]]:
        where, params = [], []
        if dossier:
            where.append("id IN (SELECT entry_id FROM journal_dossier WHERE code = ?)")
            params.append(dossier)
        if ref:  # the index holds only entries with a reference (most entries, the adapter's, have none)
            where.append("payment_ref = ? AND payment_ref != ''")
            params.append(ref)
        for column, value in (("client", client), ("role", role), ("service", service), ("direction", direction)):
            if value:
                where.append(f"{column} = ?")
                params.append(value)
        if after_id is not None:
            where.append("id > ?")
            params.append(int(after_id))
        sql = f"SELECT {', '.join(JOURNAL_COLUMNS)} FROM journal"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id LIMIT ?"
        params.append(max(1, min(int(limit), 100_000)))
        return [journal_row(r) for r in self.query(sql, params)]

    def journal_count(self) -> int:
        return self.query("SELECT COUNT(*) FROM journal")[0][0]


class _Unit:
    """The context manager of `Store.transaction` (a class: the adapter enters one per message, and a generator
    based one costs several times more)."""

    __slots__ = ("store", "savepoint", "nested", "marks")  # `marks`: queued rows per table when the unit began

    def __init__(self, store: Store, savepoint: bool):
        self.store = store
        self.savepoint = savepoint

    def __enter__(self) -> sqlite3.Connection:
        store = self.store
        store.lock.acquire()
        self.nested = store._depth > 0
        if self.nested:
            store._depth += 1
            return store.conn
        try:
            if self.savepoint:
                if not store._open:
                    store.conn.execute("BEGIN")
                    store._open = True
                store.conn.execute("SAVEPOINT unit")
        except BaseException:
            store.lock.release()
            raise
        store._depth = 1
        self.marks = {sql: len(rows) for sql, rows in store._appends.items()}
        store._spilled = []
        return store.conn

    def __exit__(self, exc_type, exc, tb) -> bool:
        store = self.store
        try:
            if self.nested:
                store._depth -= 1
            elif exc_type is not None:
                self._roll_back()
            else:
                self._release()
                if time.monotonic() - store._last_commit >= store.commit_interval:
                    store.flush()
        finally:
            store.lock.release()
        return False

    def _release(self) -> None:
        store = self.store
        if self.savepoint:
            try:
                store.conn.execute("RELEASE unit")
            except BaseException:
                self._roll_back()
                raise
        store._depth = 0
        store._spilled = []

    def _roll_back(self) -> None:
        store = self.store
        try:
            if self.savepoint:
                store.conn.execute("ROLLBACK TO unit")
                store.conn.execute("RELEASE unit")
            store._undo_appends(self.marks, rolled_back=self.savepoint)
        finally:
            store._depth = 0
            store._spilled = []


def journal_row(row: Iterable[Any]) -> dict[str, Any]:
    entry = dict(zip(JOURNAL_COLUMNS, row))
    entry["dossier_codes"] = loads(entry["dossier_codes"] or "[]")
    for key in ("request", "response"):
        entry[key] = loads(entry[key]) if entry[key] is not None else None
    return entry


def monotonic_ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
