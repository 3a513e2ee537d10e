"""Start the mock portal and the reference ministry system as two real processes, wired by the target file."""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from unittest.mock import patch

import httpx

from conformance.portal import MockProcess, mock_process
from kiemthu.demo import demo_environment, ministry_environment
from kiemthu.runtime import REPO_ROOT, ManagedProcess, python_module_cmd, wait_until
from kiemthu.target import Target, load_target

TARGET_FILE = REPO_ROOT / "examples" / "ministry" / "target.yaml"


@dataclass
class Pair:
    target: Target
    mock: MockProcess
    ministry: ManagedProcess
    portal_url: str
    ministry_url: str
    officer_password: str

    def control(self) -> httpx.Client:
        """A client of the mock's control plane (its own port, the run's token)."""
        return self.mock.control.client()

    def journal(self, **params) -> list[dict]:
        with self.control() as c:
            r = c.get("/_mock/journal", params={"limit": 5000, **params})
        r.raise_for_status()
        return r.json()["entries"]

    def portal_dossier(self, code: str) -> dict | None:
        with self.control() as c:
            r = c.get(f"/_mock/dossiers/{code}")
        return r.json() if r.status_code == 200 else None

    def outbox(self) -> dict:
        return httpx.get(f"{self.ministry_url}/van-hanh/outbox.json", timeout=10).json()

    def outbox_settled(self) -> bool:
        counts = self.outbox()["counts"]
        return counts["pending"] == 0

    def fault(self, **spec) -> None:
        with self.control() as c:
            c.post("/_mock/faults", json=spec).raise_for_status()

    def clear_faults(self) -> None:
        with self.control() as c:
            c.delete("/_mock/faults").raise_for_status()


def ministry_env(target: Target, db: Path, defects: list[str]) -> dict[str, str]:
    """MINISTRY_* variables matching the agency's registration on the portal."""
    return {
        **ministry_environment(target, defects, db),
        # a short retry ceiling so a test sees delivery soon after an outage ends
        "MINISTRY_OUTBOX_BACKOFF_MAX_S": "2",
        "MINISTRY_PAYMENT_QUERY_AFTER_S": "5",
    }


@contextmanager
def running_pair(workdir: Path, defects: list[str] | None = None) -> Iterator[Pair]:
    with patch.dict(os.environ):  # the demo variables set here are undone on the way out
        env = demo_environment()
        target = load_target(TARGET_FILE)
        portal_url = target["portal"]["base_url"]
        ministry_url = target["system"]["base_url"]
        mock = mock_process(TARGET_FILE, portal_url, workdir)  # the demo variables reach it through os.environ
        ministry = ManagedProcess(
            "ministry", python_module_cmd("examples.ministry", "--port", env["KIEMTHU_MINISTRY_PORT"]),
            f"{ministry_url}/health", workdir / "logs" / "ministry.log",
            env=ministry_env(target, workdir / "ministry" / "ministry.db", defects or []))
        with mock.start(timeout=30), ministry.start(timeout=30):
            yield Pair(target, mock, ministry, portal_url, ministry_url, env["KIEMTHU_OFFICER_PASSWORD"])


def wait_outbox_empty(pair: Pair, timeout: float) -> None:
    wait_until(pair.outbox_settled, timeout, interval=0.2, what="ministry outbox delivered")
