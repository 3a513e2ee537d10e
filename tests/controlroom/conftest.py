"""Fixtures of the run engine's tests: a manager on a database and runs folder of the test's own."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from controlroom.engine import REFERENCE_PORTS, REFERENCE_SECRETS, RunManager, process_start
from kiemthu.runtime import free_port, wait_until

SERVICE = "lltp-cap-phieu"  # toàn trình with a fee: exercises all four checks


@pytest.fixture
def room(tmp_path) -> dict[str, Path]:
    return {"db": tmp_path / "room.sqlite", "runs": tmp_path / "runs"}


@pytest.fixture
def manager(room):
    m = RunManager(room["db"], room["runs"])
    yield m
    m.shutdown()


@pytest.fixture
def known_secrets(monkeypatch) -> dict[str, str]:
    """The reference system's ports and secrets fixed for the test (the engine uses the ones already set), so a
    test can act in its back office and look for the secrets in what the engine shows."""
    values = {name: str(free_port()) for name in REFERENCE_PORTS}
    values.update({name: f"s3cr3t-{name.lower()}-{os.getpid()}" for name in REFERENCE_SECRETS})
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def wait_state(manager: RunManager, run_id: str, states: tuple[str, ...], timeout: float = 300):
    return wait_until(lambda: manager.get(run_id).state in states and manager.get(run_id), timeout, interval=0.2,
                      what=f"run {run_id} in state {'/'.join(states)}")


def wait_event(manager: RunManager, run_id: str, predicate, timeout: float = 180) -> dict:
    return wait_until(lambda: next((e for e in manager.progress(run_id) if predicate(e)), None), timeout,
                      interval=0.1, what=f"a matching progress event of run {run_id}")


def gone(pid: int | None) -> bool:
    """The process has ended (or is a zombie nobody waited for)."""
    if not pid:
        return True
    start = process_start(pid)
    if start is None:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def child_pid(db: Path, run_id: str) -> int | None:
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(db)) as conn:
        row = conn.execute("SELECT pid FROM room_runs WHERE id = ?", (run_id,)).fetchone()
    return row[0] if row else None


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def listening(port: int) -> bool:
    """Something accepts connections on the loopback port (a closed server's TIME_WAIT does not count)."""
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False
