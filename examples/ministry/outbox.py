"""Durable outbox of portal syncs: written in the same transaction as the state change, delivered by a
background worker with retries and backoff, strictly in order per dossier (a dossier's next message waits
until the previous one reached the portal). Progress messages are batched (≤10 items) and only sent once the
dossier itself was accepted by the portal."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from examples.ministry.adapter import AdapterError
from examples.ministry.db import dumps, loads

DOSSIER = "DongBoHoSoMC"
PROGRESS = "CapNhatTienDoHoSoMC"
PROGRESS_BATCH_MAX = 10

log = logging.getLogger("ministry.outbox")


def enqueue(conn: sqlite3.Connection, dossier_code: str, service: str, payload: dict[str, Any], label: str,
            now: float | None = None) -> int:
    """Add a message inside the caller's transaction."""
    now = time.time() if now is None else now
    cur = conn.execute(
        "INSERT INTO outbox(dossier_code, service, label, payload_json, status, attempts, next_attempt_at, created_at)"
        " VALUES (?,?,?,?, 'pending', 0, 0, ?)",
        (dossier_code, service, label, dumps(payload), now))
    return cur.lastrowid


@dataclass
class Message:
    id: int
    dossier_code: str
    service: str
    label: str
    payload: dict[str, Any]
    attempts: int

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Message":
        return cls(row["id"], row["dossier_code"], row["service"], row["label"], loads(row["payload_json"]),
                   row["attempts"])


class Outbox:
    """Delivery logic, independent of threads so tests can drive it step by step with `deliver_ready()`."""

    def __init__(self, ctx):
        self.ctx = ctx

    # --- queries -----------------------------------------------------------------------------------
    def ready(self, now: float) -> list[list[Message]]:
        """Per dossier, what may go now: its oldest pending message if due, extended by the progress messages
        right behind it (they can share one batch without breaking the order)."""
        rows = self.ctx.db.all("SELECT * FROM outbox WHERE status='pending' ORDER BY id")
        queues: dict[str, list[sqlite3.Row]] = {}
        for r in rows:
            queues.setdefault(r["dossier_code"], []).append(r)
        runs = []
        for queue in queues.values():
            if queue[0]["next_attempt_at"] > now:
                continue
            run = [Message.from_row(queue[0])]
            if run[0].service == PROGRESS:
                for r in queue[1:]:
                    if r["service"] != PROGRESS:
                        break
                    run.append(Message.from_row(r))
            runs.append(run)
        return runs

    def counts(self) -> dict[str, int]:
        rows = self.ctx.db.all("SELECT status, COUNT(*) AS n FROM outbox GROUP BY status")
        out = {"pending": 0, "sent": 0, "failed": 0}
        out.update({r["status"]: r["n"] for r in rows})
        return out

    def listing(self, limit: int = 500) -> list[dict[str, Any]]:
        rows = self.ctx.db.all("SELECT * FROM outbox ORDER BY id DESC LIMIT ?", limit)
        return [{
            "id": r["id"], "dossier_code": r["dossier_code"], "service": r["service"], "label": r["label"],
            "status": r["status"], "attempts": r["attempts"], "last_error": r["last_error"],
            "created_at": r["created_at"], "sent_at": r["sent_at"], "next_attempt_at": r["next_attempt_at"],
        } for r in rows]

    # --- delivery ----------------------------------------------------------------------------------
    def deliver_ready(self, now: float | None = None) -> int:
        """Send every due message once; returns how many messages were attempted."""
        now = time.time() if now is None else now
        runs = self.ready(now)
        for run in runs:
            if run[0].service != PROGRESS:
                self._send(run)
        progress: list[Message] = []
        for run in (r for r in runs if r[0].service == PROGRESS):
            if self._dossier_accepted(run[0].dossier_code):
                progress += run
            else:
                self._blocked_progress(run)
        for batch in _batches(progress, PROGRESS_BATCH_MAX):
            if not self._send(batch):
                break  # later batches may hold the same dossiers: keep their order for the next round
        return sum(len(r) for r in runs)

    def _dossier_accepted(self, code: str) -> bool:
        row = self.ctx.db.one("SELECT portal_accepted FROM dossiers WHERE code=?", code)
        return bool(row and row["portal_accepted"])

    def _blocked_progress(self, run: list[Message]) -> None:
        # the dossier message before it failed for good: progress for an unknown dossier would be rejected
        self._mark_failed(run, "hồ sơ chưa được Cổng DVCQG tiếp nhận")

    def _send(self, batch: list[Message]) -> bool:
        service = batch[0].service
        if service == PROGRESS:
            payload = {"data": [item for m in batch for item in m.payload["data"]]}
        else:
            payload = batch[0].payload
        try:
            self.ctx.adapter.integrate(service, payload)
        except AdapterError as exc:
            self._failed(batch, exc)
            return False
        self._mark_sent(batch)
        return True

    def _mark_sent(self, batch: list[Message]) -> None:
        now = time.time()
        with self.ctx.db.transaction() as conn:
            for m in batch:
                conn.execute("UPDATE outbox SET status='sent', sent_at=?, attempts=attempts+1, last_error=NULL "
                             "WHERE id=?", (now, m.id))
                if m.service == DOSSIER:
                    conn.execute("UPDATE dossiers SET portal_accepted=1 WHERE code=?", (m.dossier_code,))
        log.info("đã đồng bộ %s (%d thông điệp, hồ sơ %s)", batch[0].service, len(batch),
                 ", ".join(sorted({m.dossier_code for m in batch})))

    def _failed(self, batch: list[Message], exc: AdapterError) -> None:
        if self.ctx.defects.on("outbox-no-retry"):
            self._mark_failed(batch, str(exc))
            return
        business = not exc.transient
        settings = self.ctx.settings
        now = time.time()
        with self.ctx.db.transaction() as conn:
            for m in batch:
                attempts = m.attempts + 1
                if business and attempts >= settings.outbox_business_retries:
                    conn.execute("UPDATE outbox SET status='failed', attempts=?, last_error=? WHERE id=?",
                                 (attempts, str(exc), m.id))
                    continue
                delay = min(settings.outbox_backoff_max_s, settings.outbox_backoff_base_s * 2 ** (attempts - 1))
                conn.execute("UPDATE outbox SET attempts=?, last_error=?, next_attempt_at=? WHERE id=?",
                             (attempts, str(exc), now + delay, m.id))
        log.warning("đồng bộ %s thất bại, sẽ thử lại: %s", batch[0].service, exc)

    def _mark_failed(self, batch: list[Message], error: str) -> None:
        with self.ctx.db.transaction() as conn:
            for m in batch:
                conn.execute("UPDATE outbox SET status='failed', attempts=attempts+1, last_error=? WHERE id=?",
                             (error, m.id))
        log.error("bỏ thông điệp %s của hồ sơ %s: %s", batch[0].service, batch[0].dossier_code, error)


def _batches(messages: list[Message], max_items: int) -> list[list[Message]]:
    batches: list[list[Message]] = []
    current: list[Message] = []
    size = 0
    for m in messages:
        n = len(m.payload.get("data", []))
        if current and size + n > max_items:
            batches.append(current)
            current, size = [], 0
        current.append(m)
        size += n
    if current:
        batches.append(current)
    return batches


class Worker(threading.Thread):
    """Runs the outbox and other periodic jobs until stopped; woken early when a message is enqueued."""

    def __init__(self, ctx, jobs: list[Callable[[], Any]]):
        super().__init__(name="ministry-outbox", daemon=True)
        self.ctx, self.jobs = ctx, jobs
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            busy = False
            for job in self.jobs:
                try:
                    busy = bool(job()) or busy
                except Exception:  # a bug in one job must not stop delivery of the others
                    log.exception("lỗi trong tác vụ nền")
            if not busy:
                self.ctx.wake.wait(self.ctx.settings.outbox_poll_s)
                self.ctx.wake.clear()

    def stop(self) -> None:
        self._halt.set()
        self.ctx.wake.set()
        self.join(timeout=10)
