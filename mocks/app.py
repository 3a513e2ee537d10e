"""The FastAPI application of the mock portal: one app, every role, a journal and a control API."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.requests import Request
from starlette.responses import Response

from mocks import adapter, control, khodl, payment, sso
from mocks.portal import Portal, json_response
from mocks.settings import MockSettings


def create_app(settings: MockSettings) -> FastAPI:
    portal = Portal(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        for task in list(portal.background):
            task.cancel()
        await portal.roles["payment"].close()
        portal.store.checkpoint()  # the store stays open: an app may be started again (test clients do)

    app = FastAPI(title="Cổng DVCQG giả lập (kiemthu)", version=settings.profile_name,
                  description="SSO, nền tảng thanh toán, adapter đồng bộ hồ sơ, CSDL TTHC, Kho DL; nhật ký và API điều khiển.",
                  lifespan=lifespan, docs_url="/_mock/docs", redoc_url=None, openapi_url="/_mock/openapi.json")
    app.state.portal = portal
    app.include_router(control.build_router(portal))
    app.include_router(sso.build_router(portal))
    app.include_router(payment.build_router(portal))
    app.include_router(adapter.build_router(portal))
    app.include_router(khodl.build_router(portal))

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

    return app
