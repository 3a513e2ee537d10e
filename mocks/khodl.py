"""Kho DL (the citizen's e-document store): GetKetQuaGiayTo and the stored files."""

from __future__ import annotations

import io
import time
from functools import lru_cache

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mocks import apidoc
from mocks.portal import BadJson, BodyTooLarge, Portal, json_response
from mocks.validation import problem, summary

ROLE = "khodl"


@lru_cache(maxsize=256)
def document_pdf(title: str, number: str, owner_name: str, issuer: str) -> bytes:
    """A one-page stand-in for a stored document."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from mocks.receipt import _fonts

    regular, bold = _fonts()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(title)
    w, h = A4
    c.setFont(bold, 16)
    c.drawCentredString(w / 2, h - 80, title.upper())
    c.setFont(regular, 12)
    for i, line in enumerate([f"Số/Ký hiệu: {number}", f"Chủ sở hữu: {owner_name}", f"Cơ quan cấp: {issuer}",
                              "Bản điện tử lưu tại Kho dữ liệu điện tử (giả lập kiểm thử)"]):
        c.drawString(70, h - 130 - 22 * i, line)
    c.showPage()
    c.save()
    return buf.getvalue()


def build_router(portal: Portal) -> APIRouter:
    paths = portal.profile["khodl"]["paths"]
    r = APIRouter(tags=["khodl"])
    by_number = {i["SoDinhDanh"]: i for i in portal.identities}

    async def get_ket_qua_giay_to(request: Request) -> Response:
        start = time.perf_counter()
        path = paths["get_ket_qua_giay_to"]
        client = request.headers.get("dstcode", "")
        fault, status = await portal.apply_fault(ROLE, path, "GetKetQuaGiayTo")
        msg = None
        if status:
            body = {"error_code": 9, "message": "Kho DL tạm thời không phục vụ | temporarily unavailable", "result": {}}
        else:
            status, body, msg = await answer(request)
        portal.store.record(role=ROLE, direction="in", method="POST", path=path, service="GetKetQuaGiayTo",
                            client=client, status_code=status, request=msg, response=body,
                            duration_ms=(time.perf_counter() - start) * 1000.0,
                            error=f"fault:{fault.kind}" if fault else "")
        return json_response(body, status)

    async def answer(request: Request):
        try:
            _, msg = await portal.read_json(request)
        except BodyTooLarge:
            return 413, {"error_code": 8, "message": "Dữ liệu quá lớn | body too large", "result": {}}, None
        except BadJson as exc:
            return 400, {"error_code": 7, "message": exc.detail, "result": {}}, None
        problems = portal.validators.problems("GetKetQuaGiayTo", msg)
        if problems:
            return 400, {"error_code": 4, "message": summary(problems, "Dữ liệu không hợp lệ", "Invalid message"),
                         "errors": problems, "result": {}}, msg
        if msg["SoDinhDanhNguoiYeuCau"] != msg["SoDinhDanhChuSoHuu"]:
            errors = [problem("SoDinhDanhNguoiYeuCau", "owner_only",
                              "chỉ chủ sở hữu được lấy giấy tờ của mình", "only the owner may fetch their documents")]
            return 403, {"error_code": 5, "message": summary(errors, "Không có quyền", "Forbidden"), "errors": errors,
                         "result": {}}, msg
        docs = portal.documents.find(msg["SoDinhDanhChuSoHuu"], msg["DanhSachDanhMucKetQua"])
        return 200, {"error_code": 0, "message": "Thành công", "result": {"DanhSachGiayToKetQua": docs}}, msg

    async def file(doc_id: str) -> Response:
        doc = portal.documents.by_id(doc_id)
        if doc is None:
            return json_response({"error": "not_found", "message": "Không tìm thấy tệp | file not found"}, 404)
        owner = by_number.get(doc["owner"], {}).get("HoVaTen", doc["owner"])
        pdf = await run_in_threadpool(document_pdf, doc["TenGiayTo"], doc["SoKyHieu"], owner, doc["CoQuanChuQuan"])
        return Response(pdf, 200, media_type="application/pdf")

    reply = apidoc.message(portal.validators.schema("GetKetQuaGiayToReply"))
    r.add_api_route(paths["get_ket_qua_giay_to"], get_ket_qua_giay_to, methods=["POST"], summary="GetKetQuaGiayTo",
                    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                        "schema": apidoc.message(portal.validators.schema("GetKetQuaGiayTo"))}}},
                        "parameters": [apidoc.header_parameter("dstcode", "mã đơn vị gọi (agency code)", False)]},
                    responses=apidoc.answers({200: reply, 400: apidoc.either(reply, apidoc.LIMIT_ERROR), 403: reply,
                                              413: apidoc.either(apidoc.LIMIT_ERROR, reply)}))
    r.add_api_route(paths.get("files", "/khodl/files") + "/{doc_id}", file, methods=["GET"], summary="Tệp trong Kho DL",
                    responses=apidoc.answers({200: {"type": "string", "format": "binary"}, 404: apidoc.CONTROL_ERROR},
                                             media={200: apidoc.PDF}))
    return r
