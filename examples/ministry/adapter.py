"""Client of the portal adapter (DongBoHoSoMC, CapNhatTienDoHoSoMC, Kho DL): session login with `dstcode`."""

from __future__ import annotations

import threading
from typing import Any

import httpx

from examples.ministry.config import Settings


class AdapterError(Exception):
    """A call did not succeed. `transient` = worth retrying as is (network, 5xx, session)."""

    def __init__(self, message: str, transient: bool):
        super().__init__(message)
        self.transient = transient


def _error_code(body: dict[str, Any]) -> int | None:
    try:
        return int(body.get("error_code"))
    except (TypeError, ValueError):
        return None


class AdapterClient:
    def __init__(self, settings: Settings, http: httpx.Client):
        self.settings, self.http = settings, http
        self._session: str | None = None
        self._lock = threading.Lock()

    @property
    def headers(self) -> dict[str, str]:
        return {"dstcode": self.settings.agency_code}

    def _post(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            resp = self.http.post(url, json=body, headers=self.headers)
        except httpx.HTTPError as exc:
            raise AdapterError(f"{type(exc).__name__}: {exc}", transient=True) from None
        if resp.status_code >= 500 or resp.status_code in (401, 403, 408, 429):
            raise AdapterError(f"HTTP {resp.status_code}", transient=True)
        try:
            data = resp.json()
        except ValueError:
            raise AdapterError(f"HTTP {resp.status_code}: phản hồi không phải JSON", transient=True) from None
        if not isinstance(data, dict):
            raise AdapterError("phản hồi không đúng cấu trúc", transient=True)
        return data

    def session(self) -> str:
        with self._lock:
            if self._session is None:
                body = self._post(self.settings.portal("adapter_auth"), {
                    "username": self.settings.adapter_user, "password": self.settings.adapter_password})
                if _error_code(body) != 0 or not body.get("session"):
                    raise AdapterError(f"đăng nhập adapter thất bại: {body.get('message', '')}", transient=True)
                self._session = str(body["session"])
            return self._session

    def drop_session(self) -> None:
        with self._lock:
            self._session = None

    def call(self, path_key: str, service: str, fields: dict[str, Any]) -> dict[str, Any]:
        """One service call; a failed call drops the session so the next attempt logs in afresh."""
        body = {"session": self.session(), "madonvi": self.settings.agency_code, "service": service, **fields}
        try:
            reply = self._post(self.settings.portal(path_key), body)
        except AdapterError:
            self.drop_session()
            raise
        if _error_code(reply) != 0:
            self.drop_session()
            message = str(reply.get("message", ""))
            raise AdapterError(f"error_code={reply.get('error_code')}: {message}", transient=_session_problem(message))
        return reply

    def integrate(self, service: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self.call("adapter_integration", service, fields)


def _session_problem(message: str) -> bool:
    text = message.lower()
    return "session" in text or "phiên" in text
