"""Processes, ports, run directories and deadline-bounded waiting, shared by the CLI, the plugin and load tests."""

from __future__ import annotations

import atexit
import ctypes
import errno
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, TypeVar
from urllib.parse import urlsplit
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


class PortTaken(RuntimeError):
    """A port the harness means to serve on is held by a server it did not start (never adopted)."""


def port_listened(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server listens on host:port (connections lingering in TIME_WAIT do not count)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as a server binds: TIME_WAIT is no owner
        try:
            s.bind((host, port))
            return False
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE  # another error (an address not on this machine) is no holder


def port_holder(port: int) -> str:
    """Which process listens on a TCP port, as far as psutil can tell ('' when it cannot: another user's)."""
    try:
        import psutil

        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN and conn.pid:
                proc = psutil.Process(conn.pid)
                command = " ".join(proc.cmdline())[:120] or proc.name()
                return f"process {conn.pid} ({command})"
    except Exception:  # noqa: BLE001 — naming the holder is a courtesy; the refusal stands without it
        return ""
    return ""


def taken_port_message(port: int, host: str, role: str) -> str | None:
    """Why `role` cannot be served on host:port (a server kiemthu did not start holds it), or None when free."""
    if not port_listened(port, host):
        return None
    holder = port_holder(port)
    return (f"cổng {port} đã bị chiếm / port {port} on {host} is held by "
            f"{holder or 'another process (psutil cannot name it: another user’s?)'}, which kiemthu did not start; "
            f"kiemthu never uses a server it did not start as the {role}. Stop that process, or give the {role} "
            f"another port in the target file")


def ensure_port_free(port: int, host: str, role: str) -> None:
    """Raise PortTaken naming the port and its holder when a foreign server listens where `role` must."""
    message = taken_port_message(port, host, role)
    if message:
        raise PortTaken(message)


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(VN_TZ)
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def make_run_dir(output: str | Path | None = None, run_id: str | None = None) -> Path:
    """`output` itself when given, else reports/out/<run-id>/. Created, with logs/ and evidence/."""
    run_dir = Path(output) if output else DEFAULT_OUT / (run_id or new_run_id())
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    (run_dir / "evidence").mkdir(exist_ok=True)
    return run_dir


class ChildExited(RuntimeError):
    """A child process ended while it was expected to start (or keep) serving; carries the tail of its output."""

    def __init__(self, name: str, code: int | None, tail: str, where: str = ""):
        self.name, self.code, self.tail = name, code, tail
        how = f"exited with code {code}" if code is not None else "did not start"
        lines = [f"{name} {how} during start-up" + (f" (full log: {where})" if where else "")]
        lines += [f"  | {line}" for line in tail.splitlines()] or ["  | (no output)"]
        super().__init__("\n".join(lines))


KEEP_TEMP = "KIEMTHU_KEEP_TEMP"
"""Set to 1 (by `--keep-temp`) to keep the temporary folders a run creates, for inspection."""

TAIL_LINES = 15
_live: "set[ManagedProcess]" = set()
_temp_dirs: list[Path] = []
_OWNER = os.getpid()  # a forked copy of this process must not delete its parent's folders at its own exit


def keep_temp() -> bool:
    return os.environ.get(KEEP_TEMP, "") not in ("", "0")


def temp_dir(kind: str) -> Path:
    """A fresh `kiemthu-<kind>-*` folder in the temp directory, removed when this process exits (unless kept)."""
    path = Path(tempfile.mkdtemp(prefix=f"kiemthu-{kind}-"))
    _temp_dirs.append(path)
    return path


def remove_temp(path: Path) -> None:
    """Delete a folder this run created, unless the user asked to keep temporary files."""
    if keep_temp():
        return
    shutil.rmtree(path, ignore_errors=True)
    if path in _temp_dirs:
        _temp_dirs.remove(path)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM when the thread that started it ends, even if that end is a SIGKILL."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


@dataclass(eq=False)
class ManagedProcess:
    """A child server process, started and awaited on a health URL, that ends when its parent does.

    Output goes to `log_path`, or (when None) stdout is shared with the parent and stderr is relayed to the
    parent's stderr; either way its last lines are kept for the report if the child dies while starting.
    `scratch` folders are deleted once the child has stopped.
    """

    name: str
    cmd: list[str]
    health_url: str
    log_path: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    scratch: list[Path] = field(default_factory=list)
    # end with the starting thread even off the main thread: the caller starts it from a thread that lives as
    # long as the child may (a supervisor thread), so a killed parent still ends the child
    bound_to_thread: bool = False
    proc: subprocess.Popen | None = None
    _tail: deque = field(default_factory=lambda: deque(maxlen=TAIL_LINES), repr=False)
    _relay: threading.Thread | None = field(default=None, repr=False)

    def spawn(self) -> "ManagedProcess":
        """Start the process without waiting for it to be ready."""
        env = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        # PDEATHSIG follows the starting thread: only safe from the main thread, which lives as long as we do
        pre = _die_with_parent if sys.platform == "linux" and (
            self.bound_to_thread or threading.current_thread() is threading.main_thread()) else None
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "ab") as log:
                self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO_ROOT,
                                             start_new_session=True, preexec_fn=pre)
        else:
            self.proc = subprocess.Popen(self.cmd, stderr=subprocess.PIPE, env=env, cwd=REPO_ROOT,
                                         start_new_session=True, preexec_fn=pre)
            self._relay = threading.Thread(target=self._relay_stderr, name=f"{self.name} stderr", daemon=True)
            self._relay.start()
        _live.add(self)
        return self

    def _relay_stderr(self) -> None:
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace")
            self._tail.append(line.rstrip("\n"))
            sys.stderr.write(line)
            sys.stderr.flush()

    def tail(self) -> str:
        """The last lines the child wrote (secrets masked)."""
        from kiemthu.logs import redact

        if self.log_path is not None:
            try:
                with open(self.log_path, "rb") as f:
                    f.seek(max(0, f.seek(0, os.SEEK_END) - 16384))
                    lines = f.read().decode("utf-8", "replace").splitlines()[-TAIL_LINES:]
            except OSError:
                lines = []
        else:
            lines = list(self._tail)
        return redact("\n".join(lines))

    def exited(self) -> ChildExited | None:
        """The child's early end, described, or None while it runs."""
        if self.proc is None or self.proc.poll() is None:
            return None
        if self._relay is not None:  # let the relay read what the child wrote before it died
            self._relay.join(1.0)
        return ChildExited(self.name, self.proc.returncode, self.tail(), str(self.log_path or ""))

    def start(self, timeout: float = 20.0) -> "ManagedProcess":
        return self.spawn().wait_ready(timeout)

    def wait_ready(self, timeout: float = 20.0) -> "ManagedProcess":
        """Wait until the child answers its health URL. If it exits first, raise ChildExited at once; stopped
        (and the error raised) if it does not answer in time."""
        deadline = time.monotonic() + timeout
        url = urlsplit(self.health_url)
        address = (url.hostname or "127.0.0.1", url.port or (443 if url.scheme == "https" else 80))
        last: Exception | None = None
        try:
            with httpx.Client(timeout=1.0, trust_env=False) as http:
                while True:
                    if (ended := self.exited()) is not None:
                        raise ended
                    try:  # a refused connect is cheap; HTTP (and its TLS set-up) only once something listens
                        socket.create_connection(address, timeout=0.5).close()
                        if http.get(self.health_url).status_code < 500:
                            return self
                    except (OSError, httpx.HTTPError) as exc:
                        last = exc
                    if time.monotonic() >= deadline:
                        hint = f" (last error: {last})" if last else ""
                        raise DeadlineExceeded(f"{self.name} ready at {self.health_url} not met within {timeout:.1f}s"
                                               f"{hint}; last lines of its output:\n{self.tail()}")
                    time.sleep(0.05)
        except BaseException:
            self.stop()
            raise

    def wait(self) -> int:
        """Block until the child exits (the parent's signals still end it, through the caller's cleanup)."""
        return self.proc.wait()

    def stop(self, timeout: float = 5.0) -> None:
        """End the child's whole process group (SIGTERM, then SIGKILL), then delete its scratch folders."""
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
        if self.proc is not None and self in _live:
            try:  # the group may hold grandchildren that outlived their parent
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        _live.discard(self)
        for path in self.scratch:
            remove_temp(path)

    def __enter__(self) -> "ManagedProcess":
        return self.start() if self.proc is None else self

    def __exit__(self, *exc) -> None:
        self.stop()



def stop_all() -> None:
    """Stop every child still running and delete this process's temporary folders (at exit, on any path)."""
    for proc in list(_live):
        proc.stop()
    if os.getpid() == _OWNER:
        for path in list(_temp_dirs):
            remove_temp(path)


def _raise_exit(signum, frame) -> None:
    raise SystemExit(128 + signum)


def exit_on_signals() -> None:
    """Turn SIGTERM and SIGHUP into SystemExit in the main thread, so `finally` blocks, context managers and the
    at-exit cleanup stop the children as on Ctrl-C (SIGINT is already KeyboardInterrupt)."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _raise_exit)


atexit.register(stop_all)


def python_module_cmd(module: str, *args: str) -> list[str]:
    """Command line running a module with this interpreter (the venv's)."""
    return [sys.executable, "-m", module, *args]


HEADLESS_SHELL = "/usr/bin/chromium-headless-shell"


def chromium_path(headless: bool = False) -> str:
    """Chromium executable: $KIEMTHU_CHROMIUM; else, for a headless browser, Debian's chromium-headless-shell when
    installed (the same Blink, without the full browser's compositor and UI: a run of the suite takes about half
    the CPU, bench/bench_catalogue.py); else Debian's /usr/bin/chromium (a headed run needs the full browser)."""
    if os.environ.get("KIEMTHU_CHROMIUM"):
        return os.environ["KIEMTHU_CHROMIUM"]
    if headless and os.access(HEADLESS_SHELL, os.X_OK):
        return HEADLESS_SHELL
    return "/usr/bin/chromium"


CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
