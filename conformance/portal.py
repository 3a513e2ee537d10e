"""The mock portal's journal and control API, over HTTP only (every call has a deadline).

The control API is on the mock's control listener, never on the portal URL the system under test is told; every
call carries the run's token (see kiemthu/control.py for how the access is handed around)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from kiemthu.control import ENV_TOKEN, ControlAccess, discover, forget, new_token, remember
from kiemthu.runtime import ManagedProcess, free_port, remove_temp, temp_dir


class PortalError(RuntimeError):
    pass


@dataclass(eq=False)  # compared by identity, as the supervisor keeps a set of live children
class MockProcess(ManagedProcess):
    """A mock portal child process and the control access it was given."""

    env: dict[str, str] = field(default_factory=dict, repr=False)  # holds the token
    control: ControlAccess | None = None
    portal_url: str = ""
    db: Path | None = None  # its SQLite file, in a temporary folder of its own

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)
        forget(self.portal_url)
        if self.db is not None:  # unmasked state: it does not outlive the mock (unless --keep-temp)
            remove_temp(self.db.parent)


def mock_process(target_file: Path, base_url: str, run_dir: Path, log_name: str = "mock.log",
                 host: str | None = None) -> MockProcess:
    """The mock portal for a `mode: mock` target (not started), with a fresh SQLite file and its log in the run.
    Its portal plane listens on `host` (default loopback; `portal.bind_host` / `--portal-host`).

    Its control plane gets a free loopback port and a fresh token, handed over in the child's environment; the
    access is remembered for this process (PortalClient finds it) and given to children by `.control.env()`."""
    port = urlparse(base_url).port or 80
    db = temp_dir("mock") / "portal.sqlite"
    access = ControlAccess(f"http://127.0.0.1:{free_port()}", new_token())
    remember(base_url, access)
    return MockProcess(
        name="mock portal", health_url=access.health_url,
        cmd=[sys.executable, "-m", "mocks", "--target", str(Path(target_file).resolve()), "--port", str(port),
             "--db", str(db), "--control-port", str(urlparse(access.url).port), "--host", host or "127.0.0.1"],
        log_path=run_dir / "logs" / log_name, env={ENV_TOKEN: access.token}, control=access,
        portal_url=base_url, db=db)


class PortalClient:
    """The control API of the mock serving `base_url` (the portal URL): access given, or discovered when first
    used (a mock this process started, the environment, or the file `kiemthu mock` wrote)."""

    def __init__(self, base_url: str, timeout: float = 10.0, control: ControlAccess | None = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.control = control
        self._http: httpx.Client | None = None

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            self.control = self.control or discover(self.base_url)
            if self.control is None:
                raise PortalError(f"no control access for the mock portal at {self.base_url}: start it with "
                                  "`kiemthu mock` (it writes the access file) or set KIEMTHU_MOCK_CONTROL_URL and "
                                  "KIEMTHU_MOCK_CONTROL_TOKEN")
            self._http = self.control.client(timeout=self.timeout)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def _get(self, path: str, **params) -> Any:
        query = {k: v for k, v in params.items() if v is not None}
        try:
            r = self.http.get(path, params=query)
        except httpx.RemoteProtocolError:  # the server closed an idle keep-alive connection as it was reused
            r = self.http.get(path, params=query)
        if r.status_code == 404:
            return None
        if r.status_code >= 400:
            raise PortalError(f"GET {path}: HTTP {r.status_code} {r.text[:200]}")
        return r.json()

    def health(self) -> bool:
        try:
            return self.http.get("/_mock/health", timeout=2).status_code == 200
        except (httpx.HTTPError, PortalError):
            return False

    def journal(self, *, after_id: int | None = None, page: int = 500, **filters) -> list[dict[str, Any]]:
        """Every journal entry matching the filters (dossier, ref, client, role, service), paging by id."""
        out: list[dict[str, Any]] = []
        cursor = after_id
        while True:
            data = self._get("/_mock/journal", after_id=cursor, limit=page, **filters) or {}
            entries = data.get("entries", []) if isinstance(data, dict) else data
            out.extend(entries)
            if len(entries) < page:
                return out
            cursor = max(int(e.get("id") or 0) for e in entries)

    def last_id(self) -> int:
        """The id of the newest journal entry (0 when empty)."""
        entries = self.journal(after_id=None, page=100000)
        return max((int(e.get("id") or 0) for e in entries), default=0)

    def dossier(self, code: str) -> dict[str, Any] | None:
        return self._get(f"/_mock/dossiers/{code}")

    def payments(self, ref: str | None = None) -> list[dict[str, Any]]:
        data = self._get("/_mock/payments", ref=ref) or {}
        return data.get("payments", []) if isinstance(data, dict) else data

    def identities(self) -> list[dict[str, Any]]:
        data = self._get("/_mock/identities") or {}
        return data.get("identities", []) if isinstance(data, dict) else data

    def adversarial_modes(self) -> list[str]:
        data = self._get("/_mock/adversarial") or {}
        modes = data.get("modes", data) if isinstance(data, dict) else data
        return [m if isinstance(m, str) else m.get("mode") or m.get("name") for m in modes or []]

    def arm(self, mode: str, client: str | None = None, dossier: str | None = None,
            citizen: str | None = None) -> dict[str, Any]:
        """Arm `mode` for the next exchange of its kind (of `client`, of `dossier`'s payment, of `citizen`'s login,
        when given); the reply's `id` disarms it alone."""
        body = {"mode": mode, **{k: v for k, v in (("client", client), ("dossier", dossier), ("citizen", citizen)) if v}}
        r = self.http.post("/_mock/adversarial", json=body)
        if r.status_code >= 400:
            raise PortalError(f"arming {mode}: HTTP {r.status_code} {r.text[:200]}")
        return r.json() if r.content else {}

    def disarm(self, armed: dict[str, Any] | None = None) -> None:
        """Disarm the mode `arm` returned (already consumed is fine), or every armed mode when none is given."""
        path = f"/_mock/adversarial/{armed['id']}" if armed and armed.get("id") else "/_mock/adversarial"
        try:
            self.http.delete(path)
        except httpx.HTTPError:
            pass

    def fault(self, **spec) -> dict[str, Any]:
        r = self.http.post("/_mock/faults", json=spec)
        if r.status_code >= 400:
            raise PortalError(f"injecting fault {spec}: HTTP {r.status_code} {r.text[:200]}")
        return r.json() if r.content else {}

    def clear_faults(self) -> None:
        self.http.delete("/_mock/faults")
