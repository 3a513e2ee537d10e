"""The FastAPI applications of the mock portal: the portal plane (every role the system under test calls) and the
control plane (journal, faults, adversarial modes, reset...), on separate listeners over one shared state."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import Awaitable, Callable

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from mocks import adapter, admin, apidoc, control, khodl, payment, sso
from mocks.limits import CONTROL_MAX_BYTES, RequestLimits
from mocks.planes import (CONTROL_PREFIX, CONTROL_REFUSALS, MISDIRECTED, ControlGuard, document_token, header,
                          refuse_host, reply)
from mocks.portal import JsonBytes, Portal, json_response
from mocks.settings import MockSettings


async def flush_periodically(portal: Portal) -> None:
    """Commit grouped writes even when no further request arrives to do it."""
    while True:
        await asyncio.sleep(portal.store.commit_interval)
        portal.store.flush()


class HotPaths:
    """The ASGI entry of the mock: the busiest endpoints go straight to their handlers, everything else to FastAPI.

    The routes stay declared on the FastAPI app (OpenAPI, docs, the same handlers); dispatching them here skips
    route matching, dependency resolution and four middleware layers, which together cost more than the adapter's
    own validation and journalling. Attributes (`state`, `openapi`, ...) are the FastAPI app's.

    It is also the portal plane's gate: a Host that is not one of the portal's names is refused (421), and the
    control API is not here (404, journalled: the system under test tried to steer the run)."""

    def __init__(self, app: FastAPI, handlers: dict[tuple[str, str], Callable[[Request], Awaitable[Response]]],
                 on_error: Callable[[Request, Exception], Awaitable[Response]], hosts: frozenset[str] | None = None):
        self.app = app
        self.handlers = handlers
        self.on_error = on_error
        self.hosts = hosts

    def __getattr__(self, name: str):
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            if self.hosts is not None:
                refusal = refuse_host(header(scope, b"host"), self.hosts)
                if refusal is not None:
                    await reply(send, 421, refusal)
                    return
            if scope["path"] == CONTROL_PREFIX or scope["path"].startswith(CONTROL_PREFIX + "/"):
                await self.not_here(scope, send)
                return
            handler = self.handlers.get((scope["method"], scope["path"]))
            if handler is not None:
                scope.setdefault("app", self.app)
                request = Request(scope, receive)
                try:
                    response = await handler(request)
                except Exception as exc:
                    response = await self.on_error(request, exc)
                if response.__class__ in (Response, JsonBytes) and response.background is None:
                    await send({"type": "http.response.start", "status": response.status_code,
                                "headers": response.raw_headers})
                    await send({"type": "http.response.body", "body": response.body})
                else:
                    await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def not_here(self, scope, send) -> None:
        self.app.state.portal.store.record(role="control", direction="in", method=scope["method"],
                                           path=scope["path"], status_code=404,
                                           error="refused: control API asked on the portal port")
        await reply(send, 404, {"error": "not_found", "message": "Không có trên Cổng | not found"})


def create_app(settings: MockSettings) -> HotPaths:
    """The portal plane: what the system under test is told about."""
    portal = Portal(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        flusher = asyncio.get_running_loop().create_task(flush_periodically(portal))
        yield
        flusher.cancel()
        for task in list(portal.background):
            task.cancel()
        await portal.roles["payment"].close()
        portal.store.checkpoint()  # the store stays open: an app may be started again (test clients do)

    app = FastAPI(title="Cổng DVCQG giả lập (kiemthu)", version=settings.profile_name,
                  description="SSO, nền tảng thanh toán, adapter đồng bộ hồ sơ, CSDL TTHC, Kho DL.",
                  # its description is served by the control plane (/_mock/portal/openapi.json), not here
                  lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None, responses=MISDIRECTED,
                  # the journal is the mock's observability; per-request telemetry hooks cost as much as a sync
                  telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False})
    app.state.portal = portal
    # the adapter first: routes are matched in order and its sync endpoint is the hot path
    app.include_router(adapter.build_router(portal))
    app.include_router(payment.build_router(portal))
    app.include_router(sso.build_router(portal))
    app.include_router(khodl.build_router(portal))
    app.include_router(admin.build_router(portal))
    # every route but the hot paths: size and depth limits before any body is buffered or parsed
    app.add_middleware(RequestLimits, max_bytes=portal.max_body, max_depth=portal.max_depth)
    document = app.openapi
    app.openapi = lambda: app.openapi_schema or apidoc.complete(document())  # the status codes every operation shares
    add_error_handlers(app, portal)

    adapter_role, paths = portal.roles["adapter"], portal.profile["adapter"]["paths"]
    return HotPaths(app, {
        ("POST", paths["integration"]): adapter_role.integration,
        ("POST", paths["share"]): adapter_role.share,
        ("POST", paths["auth"]): adapter_role.auth,
    }, app.exception_handlers[Exception], settings.portal_hosts())


def create_control_app(portal_app: HotPaths) -> ControlGuard:
    """The control plane over the same state: its own listener, Host and Origin checks, the run's token."""
    portal: Portal = portal_app.state.portal
    app = FastAPI(title="Cổng DVCQG giả lập — API điều khiển (kiemthu)", version=portal.settings.profile_name,
                  description="Nhật ký, lỗi giả lập, chế độ tấn công thử, hồ sơ và giao dịch như Cổng thấy, đặt lại. "
                              "Mọi lời gọi (trừ health, docs, openapi) cần 'Authorization: Bearer <mã của lượt chạy>'.",
                  docs_url=None, redoc_url=None, openapi_url="/_mock/openapi.json",
                  responses=CONTROL_REFUSALS,
                  telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False})
    app.state.portal = portal
    app.include_router(control.build_router(portal))
    app.include_router(admin.build_control_router(portal))  # /_mock/publications: moves with the control plane
    app.add_middleware(RequestLimits, max_bytes=CONTROL_MAX_BYTES, max_depth=portal.max_depth)
    plain_openapi = app.openapi
    app.openapi = lambda: app.openapi_schema or document_token(apidoc.complete(plain_openapi()))

    apidoc.add_docs_page(app)

    @app.get("/_mock/portal/openapi.json", summary="Mô tả OpenAPI của mặt Cổng (cổng mà hệ thống được biết)")
    async def portal_openapi() -> Response:
        return json_response(portal_app.openapi())

    add_error_handlers(app, portal)
    return ControlGuard(app, portal.settings.control.token, portal.settings.control_hosts, portal.store.record)


def add_error_handlers(app: FastAPI, portal: Portal) -> None:
    app.add_exception_handler(StarletteHTTPException, apidoc.http_error)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"field": ".".join(str(p) for p in e.get("loc", [])[1:]) or "(gốc)", "rule": e.get("type", ""),
                   "vi": "giá trị không hợp lệ", "en": e.get("msg", "")} for e in exc.errors()]
        return json_response({"error": "invalid_request", "message": "Yêu cầu không hợp lệ | invalid request",
                              "errors": errors}, 400)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # a bug in the mock must be visible, but as JSON (and in the journal), never as a dropped connection
        portal.store.record(role="mock", direction="in", method=request.method, path=request.url.path,
                            status_code=500, error=f"{type(exc).__name__}: {exc}"[:500])
        return json_response({"error": "server_error", "message": f"Lỗi nội bộ của Cổng giả lập: {type(exc).__name__}"}, 500)
