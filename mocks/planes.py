"""The mock's two planes as ASGI layers: who may ask what, on which listener.

The portal plane is what the system under test calls (SSO, payment, adapter, Kho DL, pages); the control plane
(`/_mock/*`) is the harness's. Both refuse a Host header that is not one of their names (DNS rebinding); the
control plane also refuses browser requests from any other origin and anything without the run's token.
"""

from __future__ import annotations

import hmac
from typing import Any, Callable

from mocks.jsonutil import dumpb

CONTROL_PREFIX = "/_mock"
# readable without the token: readiness, and the API's own description (browsers cannot attach a bearer token
# to a navigation); nothing here reveals or changes the run's state
OPEN_PATHS = frozenset({"/_mock/health", "/_mock/docs", "/_mock/openapi.json", "/_mock/portal/openapi.json"})
OPEN_PREFIXES = ("/_mock/docs/assets/",)  # the docs page's own script and style (public files of a package)
HEALTH = b'{"status":"ok"}'

REFUSAL_SCHEMA = {"type": "object", "required": ["error", "message"], "properties": {
    "error": {"type": "string"}, "message": {"type": "string"},
    "errors": {"type": "array", "items": {"type": "object", "properties": {
        "field": {"type": "string"}, "rule": {"type": "string"}, "value": {"type": "string"},
        "vi": {"type": "string"}, "en": {"type": "string"}}}}}}


def refusal_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": REFUSAL_SCHEMA}}}


MISDIRECTED = {421: refusal_response("Host không phải tên của máy chủ này / Host is not a name of this server")}
CONTROL_REFUSALS = {**MISDIRECTED,
                    401: refusal_response("Thiếu hoặc sai mã truy cập / missing or wrong bearer token"),
                    403: refusal_response("Yêu cầu từ trang của nguồn khác / request from a page of another origin")}


def document_token(schema: dict[str, Any]) -> dict[str, Any]:
    """The control API's OpenAPI document, saying that every operation but OPEN_PATHS needs the bearer token."""
    schema.setdefault("components", {}).setdefault("securitySchemes", {})["runToken"] = {
        "type": "http", "scheme": "bearer", "description": "mã truy cập của lượt chạy / the run's control token"}
    schema["security"] = [{"runToken": []}]
    for path in OPEN_PATHS:
        for operation in schema.get("paths", {}).get(path, {}).values():
            operation["security"] = []
            operation.get("responses", {}).pop("401", None)
    return schema


def header(scope: dict[str, Any], name: bytes) -> bytes | None:
    """One request header (lower-case name) straight from the ASGI scope."""
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


async def reply(send: Callable, status: int, content: Any, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = content if isinstance(content, bytes) else dumpb(content)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


def refuse_host(host: bytes | None, accepted: frozenset[str]) -> dict[str, Any] | None:
    """Refusal (421) of a request whose Host is not a name of this listener, else None."""
    value = (host or b"").decode("latin-1").lower()
    if value in accepted:
        return None
    return {"error": "misdirected_request",
            "message": f"Host '{value}' không phải tên của máy chủ này | Host is not a name of this server",
            "errors": [{"field": "Host", "rule": "accepted_host", "value": value,
                        "vi": "tên máy chủ không được chấp nhận", "en": f"accepted: {', '.join(sorted(accepted))}"}]}


def refuse_origin(scope: dict[str, Any], own: frozenset[str]) -> dict[str, Any] | None:
    """Refusal (403) of a browser request made by a page of another origin, else None.

    Browsers send Origin on every cross-origin POST/DELETE (even `mode: "no-cors"`) and Sec-Fetch-Site on every
    request; a page of the control plane itself (its docs) is the only origin allowed."""
    origin = header(scope, b"origin")
    if origin is not None and origin.decode("latin-1").lower() not in own:
        return {"error": "forbidden_origin",
                "message": "Yêu cầu từ trang của nguồn khác bị từ chối | cross-origin request refused",
                "errors": [{"field": "Origin", "rule": "same_origin_only", "value": origin.decode("latin-1"),
                            "vi": "chỉ nhận yêu cầu không kèm Origin hoặc từ chính API điều khiển",
                            "en": "only requests without an Origin, or from the control plane's own pages"}]}
    site = header(scope, b"sec-fetch-site")
    if site in (b"cross-site", b"same-site"):
        return {"error": "forbidden_origin",
                "message": "Yêu cầu từ trang của nguồn khác bị từ chối | cross-origin request refused",
                "errors": [{"field": "Sec-Fetch-Site", "rule": "same_origin_only", "value": site.decode("latin-1"),
                            "vi": "chỉ nhận yêu cầu cùng nguồn", "en": "only same-origin requests"}]}
    return None


def refuse_token(scope: dict[str, Any], token: str) -> dict[str, Any] | None:
    """Refusal (401) of a control call without the run's bearer token, else None."""
    given = header(scope, b"authorization") or b""
    scheme, _, value = given.decode("latin-1").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode()):
        return None
    return {"error": "unauthorized",
            "message": "Cần mã truy cập của lượt chạy | the run's control token is required",
            "errors": [{"field": "Authorization", "rule": "bearer_token", "value": "(có)" if given else "(không có)",
                        "vi": "thiếu hoặc sai 'Authorization: Bearer …'",
                        "en": "missing or wrong 'Authorization: Bearer <token>'"}]}


class ControlGuard:
    """The control plane's entry: Host, then Origin, then the token (but for OPEN_PATHS), then the API.

    Every refusal is journalled (role `control`), so an attempt to steer the run is itself evidence."""

    def __init__(self, app, token: str, hosts: Callable[[], frozenset[str]], record: Callable[..., Any]):
        self.app, self.token, self.hosts, self.record = app, token, hosts, record

    def __getattr__(self, name: str):
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        hosts = self.hosts()
        refusal = refuse_host(header(scope, b"host"), hosts)
        status = 421
        if refusal is None:
            refusal, status = refuse_origin(scope, frozenset(f"http://{h}" for h in hosts)), 403
        if refusal is None and scope["path"] not in OPEN_PATHS and not scope["path"].startswith(OPEN_PREFIXES):
            refusal, status = refuse_token(scope, self.token), 401
        if refusal is not None:
            self.record(role="control", direction="in", method=scope["method"], path=scope["path"],
                        status_code=status, error=f"refused: {refusal['error']}")
            extra = [(b"www-authenticate", b'Bearer realm="kiemthu-mock-control"')] if status == 401 else []
            await reply(send, status, refusal, extra)
            return
        if scope["path"] == "/_mock/health" and scope["method"] == "GET":
            await reply(send, 200, HEALTH)
            return
        await self.app(scope, receive, send)


class Listeners:
    """One ASGI app for the two sockets of one uvicorn server: each request goes to the plane of the listener
    it arrived on (the socket's own port, not anything the client sent). Lifespan goes to the portal plane,
    which owns the background work."""

    def __init__(self, portal_app, control_app, control_port: int):
        self.portal_app, self.control_app, self.control_port = portal_app, control_app, control_port

    def __getattr__(self, name: str):
        return getattr(self.portal_app, name)

    async def __call__(self, scope, receive, send) -> None:
        server = scope.get("server")
        if scope["type"] != "lifespan" and server is not None and server[1] == self.control_port:
            await self.control_app(scope, receive, send)
        else:
            await self.portal_app(scope, receive, send)
