"""Processes, ports, run directories and deadline-bounded waiting, shared by the CLI, the plugin and load tests."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, TypeVar
from zoneinfo import ZoneInfo

import httpx

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "reports" / "out"
T = TypeVar("T")


class DeadlineExceeded(TimeoutError):
    """A condition did not hold before its deadline."""


def wait_until(condition: Callable[[], T], timeout: float, *, interval: float = 0.05, what: str = "condition") -> T:
    """Poll `condition` until it returns a truthy value or `timeout` seconds pass (then DeadlineExceeded)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # the condition may fail while a server is still starting
            last_error = exc
        if time.monotonic() >= deadline:
            hint = f" (last error: {last_error})" if last_error else ""
            raise DeadlineExceeded(f"{what} not met within {timeout:.1f}s{hint}")
        time.sleep(interval)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
            return True
        except OSError:
            return False


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(VN_TZ)
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def make_run_dir(output: str | Path | None = None, run_id: str | None = None) -> Path:
    """`output` itself when given, else reports/out/<run-id>/. Created, with logs/ and evidence/."""
    run_dir = Path(output) if output else DEFAULT_OUT / (run_id or new_run_id())
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    (run_dir / "evidence").mkdir(exist_ok=True)
    return run_dir


@dataclass
class ManagedProcess:
    """A child server process with a log file, started and awaited on a health URL."""

    name: str
    cmd: list[str]
    health_url: str
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    def spawn(self) -> "ManagedProcess":
        """Start the process without waiting for it to be ready."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
            self.proc = subprocess.Popen(
                self.cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT, start_new_session=True
            )
        return self

    def start(self, timeout: float = 20.0) -> "ManagedProcess":
        return self.spawn().wait_ready(timeout)

    def wait_ready(self, timeout: float = 20.0) -> "ManagedProcess":
        """Wait until the spawned process answers its health URL (stopped if it does not in time)."""

        def healthy() -> bool:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.proc.returncode}; see {self.log_path}")
            return httpx.get(self.health_url, timeout=1.0).status_code < 500

        try:
            wait_until(healthy, timeout, interval=0.05, what=f"{self.name} ready at {self.health_url}")
        except Exception:
            self.stop()
            raise
        return self

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout)

    def __enter__(self) -> "ManagedProcess":
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.stop()


def python_module_cmd(module: str, *args: str) -> list[str]:
    """Command line running a module with this interpreter (the venv's)."""
    return [sys.executable, "-m", module, *args]


def chromium_path() -> str:
    """Chromium executable: $KIEMTHU_CHROMIUM, else Debian's /usr/bin/chromium."""
    return os.environ.get("KIEMTHU_CHROMIUM", "/usr/bin/chromium")


CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
