"""Control API under /_mock/: health, journal, faults, adversarial modes, the portal's view of dossiers and
payments, identities, catalogue and reset. Used by the conformance checks and by testers."""

from __future__ import annotations

import os
import time
from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import Response

from mocks.controls import ADVERSARIAL_MODES, FaultError, FaultRequest, ModeRequest
from mocks import apidoc
from mocks.jsonutil import dumps
from mocks.portal import Portal, json_response

HEALTH = b'{"status":"ok"}'


class Ndjson(Response):
    media_type = "application/x-ndjson"


async def health(request: Request) -> Response:
    return Response(HEALTH, media_type="application/json")

def bad_request(message: str, status: int = 400) -> Response:
    return json_response({"error": "bad_request", "message": message}, status)


def build_router(portal: Portal) -> APIRouter:
    r = APIRouter(prefix="/_mock", tags=["control"], responses=apidoc.answers({400: apidoc.CONTROL_ERROR}))
    started = time.monotonic()

    r.add_api_route("/health", health, methods=["GET"], summary="Sẵn sàng")

    @r.get("/config", summary="Đăng ký của các hệ thống (không có bí mật)")
    async def config() -> Response:
        return json_response({**portal.settings.public_summary(), "db_path": portal.store.path,
                              "paths": {k: portal.profile[k]["paths"] for k in ("sso", "payment", "adapter", "khodl")}})

    @r.get("/stats", summary="Số liệu của lượt chạy theo vai trò và dịch vụ")
    async def stats() -> Response:
        rows = portal.store.query(
            "SELECT role, service, direction, COUNT(*), SUM(status_code >= 400 OR status_code = 0), AVG(duration_ms),"
            " MAX(duration_ms) FROM journal GROUP BY role, service, direction ORDER BY role, service")
        counts = {t: portal.store.query(f"SELECT COUNT(*) FROM {t}")[0][0] for t in ("journal", "dossiers", "payments")}
        return json_response({
            "uptime_s": round(time.monotonic() - started, 3), "pid": os.getpid(), **counts,
            "by_service": [{"role": role, "service": service, "direction": direction, "count": n, "errors": errors or 0,
                            "avg_ms": round(avg or 0.0, 3), "max_ms": round(mx or 0.0, 3)}
                           for role, service, direction, n, errors, avg, mx in rows]})

    @r.get("/identities", summary="Tài khoản thử nghiệm")
    async def identities() -> Response:
        return json_response({"identities": portal.identities})

    @r.get("/catalogue", summary="CSDL thủ tục hành chính (từ kịch bản)")
    async def catalogue() -> Response:
        return json_response({"procedures": portal.catalogue.procedures})

    @r.get("/journal", summary="Nhật ký trao đổi (đã che bí mật)")
    async def journal(dossier: str | None = None, ref: str | None = None, client: str | None = None,
                      role: str | None = None, service: str | None = None, direction: str | None = None,
                      after_id: int | None = Query(None, ge=0, le=2**62), limit: int = Query(1000, ge=1, le=100_000)) -> Response:
        entries = portal.store.journal(dossier=dossier, ref=ref, client=client, role=role, service=service,
                                       direction=direction, after_id=after_id, limit=limit)
        return json_response({"entries": entries})

    @r.get("/journal.jsonl", summary="Toàn bộ nhật ký, mỗi dòng một mục", response_class=Ndjson)
    async def journal_jsonl(after_id: int | None = Query(None, ge=0, le=2**62)) -> Response:
        entries = portal.store.journal(after_id=after_id, limit=100_000)
        return Response("".join(dumps(e) + "\n" for e in entries), media_type="application/x-ndjson")

    @r.get("/faults", summary="Lỗi giả lập đang bật")
    async def faults() -> Response:
        return json_response({"faults": portal.faults.listing()})

    @r.post("/faults", summary="Bật lỗi giả lập", status_code=201)
    async def add_fault(body: FaultRequest) -> Response:
        value = body.value
        if body.kind == "http_5xx" and value is not None and float(value).is_integer():
            value = int(value)
        try:
            fault = portal.faults.add(body.target, body.kind, value, body.count, body.duration_s, body.dossier)
        except FaultError as exc:
            return bad_request(str(exc))
        return json_response({"fault": fault.public()}, 201)

    @r.delete("/faults", summary="Tắt mọi lỗi giả lập")
    async def clear_faults() -> Response:
        portal.faults.clear()
        return json_response({"faults": []})

    @r.get("/adversarial", summary="Các chế độ tấn công thử")
    async def adversarial() -> Response:
        return json_response(portal.adversarial.listing())

    @r.post("/adversarial", summary="Bật một chế độ cho lần trao đổi kế tiếp", status_code=201)
    async def arm(body: ModeRequest) -> Response:
        item = portal.adversarial.arm(body.mode, body.client, body.dossier, body.citizen)
        return json_response({"id": item.id, "armed": body.mode, "client": body.client, "dossier": body.dossier,
                              "citizen": body.citizen, "exchange": ADVERSARIAL_MODES[body.mode][0]}, 201)

    @r.delete("/adversarial", summary="Hủy các chế độ đã bật")
    async def disarm() -> Response:
        portal.adversarial.clear()
        return json_response({"armed": []})

    @r.delete("/adversarial/{item_id}", summary="Hủy một chế độ đã bật",
              responses=apidoc.answers({404: apidoc.CONTROL_ERROR}))
    async def disarm_one(item_id: int) -> Response:
        if not portal.adversarial.remove(item_id):
            return json_response({"error": "not_found", "message": f"không có chế độ #{item_id} đang bật | "
                                                                   f"no armed mode #{item_id}"}, 404)
        return json_response({"disarmed": item_id})

    @r.get("/dossiers/{code}", summary="Hồ sơ như Cổng thấy", responses=apidoc.answers({404: apidoc.CONTROL_ERROR}))
    async def dossier(code: str) -> Response:
        view = portal.roles["adapter"].dossier_view(code)
        if view is None:
            return json_response({"error": "not_found", "message": f"Cổng chưa có hồ sơ '{code}' | no such dossier"}, 404)
        return json_response(view)

    @r.get("/dossiers", summary="Danh sách mã hồ sơ đã đồng bộ")
    async def dossiers(agency: str | None = None) -> Response:
        sql, params = "SELECT code, agency, status, updated_ts FROM dossiers", []
        if agency:
            sql, params = sql + " WHERE agency=?", [agency]
        rows = portal.store.query(sql + " ORDER BY created_ts", params)
        return json_response({"dossiers": [{"MaHoSo": c, "agency": a, "TrangThaiHoSo": s, "updated": u}
                                           for c, a, s, u in rows]})

    @r.get("/payments", summary="Giao dịch, các lần gửi IPN và trả lời của đơn vị")
    async def payments(ref: str | None = None, partner: str | None = None, dossier: str | None = None) -> Response:
        return json_response({"payments": portal.roles["payment"].payments_view(ref, partner, dossier)})

    @r.post("/reset", summary="Xóa dữ liệu của lượt chạy (giữ đăng ký)")
    async def reset() -> Response:
        portal.reset()
        return json_response({"status": "reset"})

    return r
