"""The FastAPI application of the mock portal: one app, every role, a journal and a control API."""

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
    own validation and journalling. Attributes (`state`, `openapi`, ...) are the FastAPI app's."""

    def __init__(self, app: FastAPI, handlers: dict[tuple[str, str], Callable[[Request], Awaitable[Response]]],
                 on_error: Callable[[Request, Exception], Awaitable[Response]]):
        self.app = app
        self.handlers = handlers
        self.on_error = on_error

    def __getattr__(self, name: str):
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
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


def create_app(settings: MockSettings) -> HotPaths:
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
                  description="SSO, nền tảng thanh toán, adapter đồng bộ hồ sơ, CSDL TTHC, Kho DL; nhật ký và API điều khiển.",
                  lifespan=lifespan, docs_url="/_mock/docs", redoc_url=None, openapi_url="/_mock/openapi.json",
                  # the journal is the mock's observability; per-request telemetry hooks cost as much as a sync
                  telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False})
    app.state.portal = portal
    # the adapter first: routes are matched in order and its sync endpoint is the hot path
    app.include_router(adapter.build_router(portal))
    app.include_router(payment.build_router(portal))
    app.include_router(sso.build_router(portal))
    app.include_router(khodl.build_router(portal))
    app.include_router(admin.build_router(portal))
    app.include_router(control.build_router(portal))
    app.include_router(admin.build_control_router(portal))  # /_mock/publications: moves with the control plane
    # every route but the hot paths below: size and depth limits before any body is buffered or parsed
    app.add_middleware(RequestLimits, max_bytes=portal.max_body, max_depth=portal.max_depth,
                       max_bytes_for={"/_mock": CONTROL_MAX_BYTES})

    document = app.openapi
    app.openapi = lambda: apidoc.complete(document())  # the status codes every operation shares

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

    adapter_role, paths = portal.roles["adapter"], portal.profile["adapter"]["paths"]
    return HotPaths(app, {
        ("POST", paths["integration"]): adapter_role.integration,
        ("POST", paths["share"]): adapter_role.share,
        ("POST", paths["auth"]): adapter_role.auth,
        ("GET", "/_mock/health"): control.health,
    }, unexpected)
