"""How the harness reaches the mock portal's control plane: a second listener on loopback and a per-run token.

The system under test is told only the portal URL. The control URL and the bearer token are held by whoever
started the mock: passed to the mock process in its environment (never on a command line, never in a run
folder), or, for a mock a person started with `kiemthu mock`, written to a file only its owner can read.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from kiemthu.logs import register_secret

ENV_URL = "KIEMTHU_MOCK_CONTROL_URL"
ENV_TOKEN = "KIEMTHU_MOCK_CONTROL_TOKEN"
ENV_FILE = "KIEMTHU_MOCK_CONTROL_FILE"
LOOPBACK = ("127.0.0.1", "localhost", "::1")

_started: dict[int, "ControlAccess"] = {}  # portal URL → access, for mocks this process started
_lock = threading.Lock()


def new_token() -> str:
    """A fresh bearer token (256 bits), registered as a secret so no log line shows it."""
    token = secrets.token_urlsafe(32)
    register_secret(token)
    return token


@dataclass(frozen=True)
class ControlAccess:
    """The control plane of one mock: its base URL (`http://127.0.0.1:P`) and the run's token."""

    url: str
    token: str = field(repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "url", self.url.rstrip("/"))
        register_secret(self.token)

    @property
    def health_url(self) -> str:
        return f"{self.url}/_mock/health"

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client on the control plane carrying the token (no proxies from the environment)."""
        kwargs.setdefault("timeout", 10.0)
        kwargs.setdefault("trust_env", False)
        return httpx.Client(base_url=self.url, headers=self.headers(), **kwargs)

    def env(self) -> dict[str, str]:
        """Variables handing this access to a child process of the harness (never to the system under test)."""
        return {ENV_URL: self.url, ENV_TOKEN: self.token}


def remember(portal_url: str, access: ControlAccess) -> None:
    """Note the control access of a mock this process started for `portal_url`."""
    with _lock:
        _started[_key(portal_url)] = access


def forget(portal_url: str) -> None:
    with _lock:
        _started.pop(_key(portal_url), None)


def discover(portal_url: str) -> ControlAccess | None:
    """The control access for the mock serving `portal_url`: one started by this process, else the
    environment ($KIEMTHU_MOCK_CONTROL_URL and _TOKEN, or $KIEMTHU_MOCK_CONTROL_FILE), else the file that
    `kiemthu mock` wrote for that port. None when nothing is known."""
    with _lock:
        known = _started.get(_key(portal_url))
    if known is not None:
        return known
    url, token = os.environ.get(ENV_URL), os.environ.get(ENV_TOKEN)
    if url and token:
        return ControlAccess(url, token)
    named = os.environ.get(ENV_FILE)
    if named:
        return read_control_file(Path(named))
    port = urlsplit(portal_url).port
    return read_control_file(control_file(port)) if port else None


def control_file(portal_port: int) -> Path:
    """Where `kiemthu mock` leaves the control access of the mock on `portal_port` (a folder only its owner reads)."""
    return Path(tempfile.gettempdir()) / f"kiemthu-control-{os.getuid()}" / f"portal-{portal_port}.json"


def write_control_file(path: Path, access: ControlAccess) -> Path:
    """Write the access with mode 0600 in a 0700 folder; an existing file of someone else is refused."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = path.parent.stat()
    if folder.st_uid != os.getuid() or folder.st_mode & 0o077:
        raise PermissionError(f"{path.parent}: the folder must belong to you with mode 0700 (it holds a token)")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"url": access.url, "token": access.token}, f)
    return path


def read_control_file(path: Path) -> ControlAccess | None:
    """The access in a control file, or None when it is missing, unreadable, or readable by others."""
    try:
        st = os.stat(path)
        if st.st_uid != os.getuid() or st.st_mode & 0o077:
            return None
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return ControlAccess(str(data["url"]), str(data["token"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def is_loopback(host: str) -> bool:
    return host.strip("[]").lower() in LOOPBACK or host.startswith("127.")


def _key(portal_url: str) -> int:
    # by port: the same mock is often named both 127.0.0.1 and localhost
    return urlsplit(portal_url).port or 80


def exposure_warning(host: str, portal_url: str) -> list[str]:
    """What a person must know before the mock's portal plane listens beyond loopback (`--portal-host`,
    `portal.bind_host`); nothing when it stays on loopback."""
    if is_loopback(host):
        return []
    port = urlsplit(portal_url).port or 80
    return [f"CẢNH BÁO AN NINH / SECURITY WARNING: Cổng giả lập nghe trên {host}:{port}, máy khác trong mạng gọi được "
            f"/ the mock portal listens on {host}:{port}, reachable from other machines.",
            "  Nó cấp đăng nhập giả và nhận mọi client đã đăng ký (bí mật thử nghiệm): chỉ dùng trong mạng thử nghiệm, "
            "chặn cổng này bằng tường lửa với mọi máy trừ hệ thống cần kiểm thử / it grants fake logins to the "
            "registered clients: use it on a test network only, firewalled to the system under test.",
            f"  Hệ thống được báo địa chỉ / the system is told {portal_url}; API điều khiển vẫn chỉ trên máy này "
            "/ the control API stays on loopback."]
