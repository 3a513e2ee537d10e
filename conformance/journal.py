"""Reading the mock portal's journal: entries as the control API returns them, and their message bodies."""

from __future__ import annotations

import json
from typing import Any, Iterable


def message(part: Any) -> dict[str, Any]:
    """The fields of a request/response as one flat dict, whatever the shape (query, form, json, body)."""
    if part is None:
        return {}
    if isinstance(part, str):
        try:
            part = json.loads(part)
        except ValueError:
            return {}
    if not isinstance(part, dict):
        return {}
    known = ("query", "form", "json", "body")
    if any(k in part for k in known):
        out: dict[str, Any] = {}
        for k in known:
            v = part.get(k)
            if isinstance(v, str):
                try:
                    v = json.loads(v)
                except ValueError:
                    v = None
            if isinstance(v, dict):
                out.update(v)
        for k, v in part.items():
            if k not in known and k not in ("headers",):
                out.setdefault(k, v)
        return out
    return part


def headers(part: Any) -> dict[str, str]:
    if isinstance(part, dict) and isinstance(part.get("headers"), dict):
        return {str(k).lower(): v for k, v in part["headers"].items()}
    return {}


def request_of(entry: dict[str, Any]) -> dict[str, Any]:
    return message(entry.get("request"))


def response_of(entry: dict[str, Any]) -> dict[str, Any]:
    return message(entry.get("response"))


def path_is(entry: dict[str, Any], path: str) -> bool:
    """True when the entry's path is `path` (ignoring a query string and a trailing segment like a token)."""
    p = (entry.get("path") or "").split("?")[0].rstrip("/")
    return p == path.rstrip("/") or p.startswith(path.rstrip("/") + "/")


def select(entries: Iterable[dict[str, Any]], *, role: str | None = None, path: str | None = None,
           service: str | None = None, dossier: str | None = None, direction: str | None = None) -> list[dict[str, Any]]:
    out = []
    for e in entries:
        if role and e.get("role") != role:
            continue
        if path and not path_is(e, path):
            continue
        if service and e.get("service") != service:
            continue
        if dossier and dossier not in (e.get("dossier_codes") or []):
            continue
        if direction and e.get("direction") != direction:
            continue
        out.append(e)
    return out


def ref(entry: dict[str, Any] | None) -> str:
    """How a report names a journal entry."""
    if not entry:
        return "journal"
    return f"journal entry #{entry.get('id')} ({entry.get('method', '')} {entry.get('path', '')})".strip()


def data_items(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """The records a DongBoHoSoMC / CapNhatTienDoHoSoMC call carries (`data` list, or the body itself)."""
    body = request_of(entry)
    data = body.get("data")
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            data = None
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return [d for d in data if isinstance(d, dict)]
    return []


def accepted(entry: dict[str, Any]) -> bool:
    """An adapter call the portal accepted: HTTP 2xx and error_code 0."""
    if not entry or int(entry.get("status_code") or 0) >= 300 or entry.get("error"):
        return False
    code = response_of(entry).get("error_code")
    return code in (0, "0", None)


def adversarial_mode(entry: dict[str, Any]) -> str | None:
    """The adversarial mode the portal played in this exchange, as its journal marks it (a forged IPN or redirect
    carries `adversarial` in its request; a forged token answer has error `adversarial:<mode>`)."""
    request = entry.get("request")
    if isinstance(request, dict) and request.get("adversarial"):
        return str(request["adversarial"])
    error = str(entry.get("error") or "")
    return error.split(":", 1)[1] if error.startswith("adversarial:") else None


def forged_exchange(entries: Iterable[dict[str, Any]], mode: str) -> dict[str, Any] | None:
    """The journal entry in which the portal actually served or sent its forged message `mode`, if any."""
    return next((e for e in entries if adversarial_mode(e) == mode), None)


def authorize_key(params: dict[str, Any]) -> tuple[str, str]:
    """What tells one authorize request from another: its state and nonce (random per login)."""
    return str(params.get("state") or ""), str(params.get("nonce") or "")


def logins_of(entries: Iterable[dict[str, Any]], citizen: str,
              sent: Iterable[tuple[str, str]] = ()) -> list[dict[str, Any]]:
    """The SSO exchanges of `citizen`'s own round trips among `entries`: those the portal journalled under the
    citizen's TechID, the authorize requests the service's own browser `sent` (by `authorize_key`; the portal
    journals a first login's authorize request before it knows who logs in), and the rest of each of those round
    trips. Logins of other citizens beside it are left out."""
    sso = [e for e in entries if e.get("role") == "sso"]
    if not any("citizen" in e for e in sso):
        return sso  # a portal that does not journal citizens: the window as it is
    sent = set(sent)
    own = {id(e) for e in sso if e.get("citizen") == citizen
           or (e.get("service") == "authorize" and authorize_key(request_of(e)) in sent)}
    trips = {e.get("login") for e in sso if id(e) in own and e.get("login")}
    return [e for e in sso if id(e) in own or (e.get("login") and e.get("login") in trips)]
