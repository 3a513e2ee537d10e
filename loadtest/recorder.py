"""Records of what the journeys saw (dossier codes, statuses, payment references), gathered on one node.

Local run: appended to `<run>/load/records.jsonl` as they happen. Distributed run: each worker piggybacks its
new records on the stats report it sends the master every few seconds (and once more when it quits), and the
master appends them to the same file, so reconciliation needs no shared disk between machines.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any

REPORT_KEY = "kiemthu_records"


class Recorder:
    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else None
        self.node = f"{os.uname().nodename}-{os.getpid()}"
        self.mode = "local"          # local | worker | master
        self._buffer: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._fh = None
        self.count = 0

    # --- set-up -------------------------------------------------------------------------------------
    def attach(self, environment) -> None:
        """Wire to Locust's events once the runner exists (call from the `init` event)."""
        from locust.runners import MasterRunner, WorkerRunner

        runner = environment.runner
        if isinstance(runner, WorkerRunner):
            self.mode = "worker"
            environment.events.report_to_master.add_listener(self._on_report_to_master)
        elif isinstance(runner, MasterRunner):
            self.mode = "master"
            environment.events.worker_report.add_listener(self._on_worker_report)

    def _open(self):
        if self._fh is None and self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")
        return self._fh

    # --- writing ------------------------------------------------------------------------------------
    def add(self, record: dict[str, Any]) -> None:
        record = {"t": time.time(), "node": self.node, **record}
        with self._lock:
            self.count += 1
            if self.mode == "worker":
                self._buffer.append(record)
            else:
                self._write([record])

    def _write(self, records: list[dict[str, Any]]) -> None:
        fh = self._open()
        if fh is None:
            return
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        fh.flush()

    def _on_report_to_master(self, client_id: str, data: dict[str, Any]) -> None:
        with self._lock:
            data[REPORT_KEY], self._buffer = self._buffer, []

    def _on_worker_report(self, client_id: str, data: dict[str, Any]) -> None:
        records = data.get(REPORT_KEY) or []
        if records:
            with self._lock:
                self._write(records)

    def close(self) -> None:
        with self._lock:
            if self._fh is not None:
                self._fh.close()
                self._fh = None


def new_sid() -> str:
    """A submission id: distinguishes two submissions that the system may have given the same code."""
    return uuid.uuid4().hex
