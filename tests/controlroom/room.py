"""A real control room for the tests: `kiemthu serve` on a free loopback port with a temporary SQLite file."""

from __future__ import annotations

import re
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from kiemthu.demo import SECRET_VARS
from kiemthu.runtime import ManagedProcess, free_port

KIEMTHU = str(Path(sys.executable).parent / "kiemthu")
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PASSWORDS = {"admin": "quan-tri-" + secrets.token_hex(6), "canbo": "can-bo-" + secrets.token_hex(6)}


@dataclass
class Room:
    url: str
    db: Path
    runs: Path
    process: ManagedProcess
    secrets: dict[str, str] = field(default_factory=dict)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, trust_env=False, headers={"Accept": "text/html"})

    def login(self, username: str) -> tuple[httpx.Client, str]:
        """A client with a session of `username`, and the session's CSRF token."""
        c = self.client()
        token = CSRF.search(c.get("/dang-nhap").text).group(1)
        r = c.post("/dang-nhap", data={"csrf": token, "username": username, "password": PASSWORDS[username]})
        assert r.status_code == 303, r.text
        return c, csrf_of(c.get("/").text)

    def stop(self) -> None:
        self.process.stop()

    def restart(self) -> None:
        """Stop the server (as Ctrl-C or SIGTERM would) and start it again on the same database and port."""
        self.process.stop()
        old = self.process
        self.process = ManagedProcess(old.name, old.cmd, old.health_url, old.log_path, old.env)
        self.process.start(timeout=60)


def csrf_of(html: str) -> str:
    return CSRF.search(html).group(1)


def add_user(db: Path, username: str, role: str) -> subprocess.CompletedProcess:
    return subprocess.run([KIEMTHU, "users", "add", username, "--role", role, "--db", str(db), "--password-stdin"],
                          input=PASSWORDS[username] + "\n", capture_output=True, text=True, timeout=60)


def start_room(folder: Path, signing_key: Path, env: dict[str, str] | None = None) -> Room:
    """Accounts `admin` (quan_tri) and `canbo` (can_bo), then the server; the reference system's secrets are
    fixed here so the tests can look for them in every page."""
    db, runs = folder / "room.sqlite", folder / "runs"
    for user, role in (("admin", "quan_tri"), ("canbo", "can_bo")):
        done = add_user(db, user, role)
        assert done.returncode == 0, done.stderr
    known = {name: secrets.token_urlsafe(18) for name in SECRET_VARS}
    known.update(env or {})
    port = free_port()
    proc = ManagedProcess("control room", [KIEMTHU, "serve", "--port", str(port), "--db", str(db), "--runs", str(runs)],
                          health_url=f"http://127.0.0.1:{port}/suc-khoe", log_path=folder / "serve.log",
                          env={**known, "KIEMTHU_SIGNING_KEY": str(signing_key)})
    proc.start(timeout=60)
    return Room(f"http://127.0.0.1:{port}", db, runs, proc, known)
