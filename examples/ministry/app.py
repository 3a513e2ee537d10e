"""Application factory: `create_app(settings)` builds the FastAPI app and its background worker."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI

from examples.ministry import billing
from examples.ministry.config import Settings
from examples.ministry.context import Ministry
from examples.ministry.defects import Defects
from examples.ministry.outbox import Outbox, Worker
from examples.ministry.web import router

log = logging.getLogger("ministry")


def create_app(settings: Settings, defects: Defects | None = None, *, run_worker: bool = True) -> FastAPI:
    """The ministry system; `run_worker=False` lets tests drive the outbox by hand."""
    ctx = Ministry.build(settings, defects)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        missing = settings.missing_secrets()
        if missing:
            log.warning("chưa cấu hình: %s", ", ".join(missing))
        if ctx.defects.active:
            log.warning("đang bật lỗi cài sẵn: %s", ", ".join(sorted(ctx.defects.active)))
        worker = None
        if run_worker:
            outbox = Outbox(ctx)
            worker = Worker(ctx, [outbox.deliver_ready, lambda: billing.query_late_payments(ctx)])
            worker.start()
        try:
            yield
        finally:
            if worker:
                worker.stop()
            ctx.close()

    app = FastAPI(title="Hệ thống một cửa điện tử (tham chiếu)", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    app.state.ministry = ctx
    app.include_router(router)
    return app
