"""The mock portal's journal and control API, over HTTP only (every call has a deadline)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from kiemthu.runtime import ManagedProcess


class PortalError(RuntimeError):
    pass


def mock_process(target_file: Path, base_url: str, run_dir: Path) -> ManagedProcess:
    """The mock portal for a `mode: mock` target (not started), with a fresh SQLite file and its log in the run."""
    port = urlparse(base_url).port or 80
    db = Path(tempfile.mkdtemp(prefix="kiemthu-mock-")) / "portal.sqlite"
    return ManagedProcess(
        name="mock portal", health_url=f"{base_url.rstrip('/')}/_mock/health",
        cmd=[sys.executable, "-m", "mocks", "--target", str(Path(target_file).resolve()), "--port", str(port),
             "--db", str(db)],
        log_path=run_dir / "logs" / "mock.log")


class PortalClient:
    def __init__(self, base_url: str, timeout: float = 10.0):
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        self.http.close()

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
        except httpx.HTTPError:
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

    def arm(self, mode: str, client: str | None = None) -> dict[str, Any]:
        r = self.http.post("/_mock/adversarial", json={"mode": mode, **({"client": client} if client else {})})
        if r.status_code >= 400:
            raise PortalError(f"arming {mode}: HTTP {r.status_code} {r.text[:200]}")
        return r.json() if r.content else {}

    def disarm(self) -> None:
        try:
            self.http.delete("/_mock/adversarial")
        except httpx.HTTPError:
            pass

    def fault(self, **spec) -> dict[str, Any]:
        r = self.http.post("/_mock/faults", json=spec)
        if r.status_code >= 400:
            raise PortalError(f"injecting fault {spec}: HTTP {r.status_code} {r.text[:200]}")
        return r.json() if r.content else {}

    def clear_faults(self) -> None:
        self.http.delete("/_mock/faults")
