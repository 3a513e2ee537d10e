"""The Government Office's admin system (hệ thống quản trị): services published for testing, the agency's test
summary, and the Office's answer per service — confirmed, or returned with each reason named.

QT-VPB-16 Bước 3–6 and the draft portal rules (Điều 27): VPCP publishes the services for testing; within 05 working
days the agency tests them as a citizen and submits procedure, service and the dossier codes that completed testing;
VPCP confirms the services that passed (they stay published) and unpublishes the others; a service not tested within
05 working days is unpublished automatically. The mock judges each code against its own records of the dossier.

Two routers: the portal plane (`build_router`, paths from the profile's `admin` section) and the control plane
(`build_control_router`, "publish for testing", an Office action), kept apart so the control routes can move.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from fastapi import APIRouter, Body
from starlette.requests import Request
from starlette.responses import Response

from kiemthu.workdays import add_working_days
from mocks import apidoc
from mocks.clock import now_iso, portal_time, today_vn
from mocks.jsonutil import dumps, loads
from mocks.portal import BadJson, BodyTooLarge, Portal, header_value, json_response
from mocks.validation import problem, summary

ROLE = "admin"
PAID = "1"  # payments.state of a paid transaction (mocks.payment)
TABLES = """
CREATE TABLE IF NOT EXISTS publications(
  agency TEXT, madvc TEXT, published_on TEXT, state TEXT, updated_ts TEXT, PRIMARY KEY(agency, madvc));
CREATE TABLE IF NOT EXISTS submissions(id INTEGER PRIMARY KEY, ts TEXT, agency TEXT, request TEXT, reply TEXT);
"""


class Admin:
    def __init__(self, portal: Portal):
        self.portal = portal
        self.conf = portal.profile["admin"]
        self.paths = self.conf["paths"]
        self.reasons = self.conf["reasons"]
        with portal.store.lock:
            portal.store.conn.executescript(TABLES)
        portal.roles[ROLE] = self
        self.publish_initial()

    # -- publication (an Office action) -------------------------------------------------------------------
    def publish_initial(self) -> None:
        """The registration's publication date (the target's `report.publication_date`) publishes its services."""
        day = getattr(self.portal.settings, "publication_date", "") or ""
        if day:
            self.publish(date.fromisoformat(str(day)), self.portal.settings.agency_code)

    def services_of(self, agency: str) -> list[str]:
        return [d["MaDVC"] for p in self.portal.catalogue.procedures for d in p["DichVuCong"]
                if d["MaDVC"] and p["CoQuanThucHien"]["MaCoQuan"] in ("", agency)]

    def procedure_of(self, madvc: str) -> dict[str, Any] | None:
        return next((p for p in self.portal.catalogue.procedures
                     if any(d["MaDVC"] == madvc for d in p["DichVuCong"])), None)

    def publish(self, day: date, agency: str, services: list[str] | None = None) -> list[dict[str, Any]]:
        services = services or self.services_of(agency)
        with self.portal.store.transaction() as db:
            for madvc in services:
                db.execute("INSERT INTO publications(agency, madvc, published_on, state, updated_ts) VALUES (?,?,?,?,?)"
                           " ON CONFLICT(agency, madvc) DO UPDATE SET published_on=excluded.published_on,"
                           " state=excluded.state, updated_ts=excluded.updated_ts",
                           (agency, madvc, day.isoformat(), "published", now_iso()))
        return [self.publication(agency, m) for m in services]

    def deadline(self, published_on: date) -> date:
        return add_working_days(published_on, int(self.conf.get("submission_working_days", 5)))

    def publication(self, agency: str, madvc: str, today: date | None = None) -> dict[str, Any]:
        """A service's publication as the portal shows it now: past the deadline an untested service is unpublished."""
        rows = self.portal.store.query("SELECT published_on, state FROM publications WHERE agency=? AND madvc=?",
                                       (agency, madvc))
        if not rows:
            return {"MaDonVi": agency, "MaDVC": madvc, "NgayCongKhai": None, "HanNopKetQua": None,
                    "TrangThaiCongKhai": "not_published", "TenTrangThai": "Chưa công khai để kiểm thử"}
        published_on, state = date.fromisoformat(rows[0][0]), rows[0][1]
        deadline = self.deadline(published_on)
        if state == "published" and (today or today_vn()) > deadline:
            state = "unpublished"
        return {"MaDonVi": agency, "MaDVC": madvc, "NgayCongKhai": published_on.isoformat(),
                "HanNopKetQua": deadline.isoformat(), "TrangThaiCongKhai": state,
                "TenTrangThai": self.conf["publication_states"].get(state, state)}

    def listing(self, agency: str | None = None) -> list[dict[str, Any]]:
        sql, params = "SELECT agency, madvc FROM publications", ()
        if agency:
            sql, params = sql + " WHERE agency=?", (agency,)
        return [self.publication(a, m) for a, m in self.portal.store.query(sql + " ORDER BY agency, madvc", params)]

    def reset(self) -> None:
        with self.portal.store.transaction() as db:
            db.execute("DELETE FROM publications")
            db.execute("DELETE FROM submissions")
        self.publish_initial()

    # -- judging one submission ---------------------------------------------------------------------------
    def reason(self, code: str, detail: str = "") -> dict[str, str]:
        text = self.reasons[code]
        return {"code": code, "vi": text["vi"], "en": text["en"], **({"detail": detail} if detail else {})}

    def judge_dossier(self, code: str, agency: str, procedure: dict[str, Any]) -> list[dict[str, str]]:
        """Every reason this dossier does not prove the service works; [] when it does."""
        store = self.portal.store
        rows = store.query("SELECT agency, matthc, status FROM dossiers WHERE code=?", (code,))
        if not rows:
            return [self.reason("unknown_dossier")]
        owner, matthc, status = rows[0]
        if owner != agency:
            return [self.reason("other_agency", f"{code}: {owner}")]
        out = []
        if matthc not in (procedure["MaTTHC"], procedure["MaTTHCDP"]):
            out.append(self.reason("other_procedure", f"{code}: MaTTHC {matthc}"))
        final = str(self.conf.get("final_status", "10"))
        reached = {s for (s,) in store.query("SELECT status FROM dossier_status WHERE code=?", (code,))}
        if status != final or final not in reached:
            out.append(self.reason("not_returned", f"{code}: TrangThaiHoSo {status}"))
        if int(procedure.get("TongPhiLePhi") or 0) > 0 and not store.query(
                "SELECT 1 FROM payments WHERE dossier=? AND state=? LIMIT 1", (code, PAID)):
            out.append(self.reason("unpaid", f"{code}: {procedure['TongPhiLePhi']} VND"))
        wanted = (procedure.get("KetQua") or {}).get("MaGiayToKetQua", "")
        results = [loads(d) for (d,) in store.query("SELECT data FROM results WHERE code=? AND ma_ket_qua=?",
                                                     (code, wanted))]
        # an e-result counts only with its result-type code and a file link
        if not wanted or not any(r.get("DuongDanTepTinKetQua") for r in results):
            out.append(self.reason("no_e_result", f"{code}: {wanted or '—'}"))
        return out

    def judge_service(self, item: dict[str, Any], agency: str, today: date) -> dict[str, Any]:
        madvc = item["MaDVC"]
        pub = self.publication(agency, madvc, today)
        answer = {"MaTTHC": item["MaTTHC"], "MaDVC": madvc, "TenDVC": item["TenDVC"],
                  "NgayCongKhai": pub["NgayCongKhai"], "HanNopKetQua": pub["HanNopKetQua"], "HoSo": [], "LyDo": []}
        procedure = self.procedure_of(madvc)
        if pub["TrangThaiCongKhai"] in ("not_published", "returned") or procedure is None:
            return self.decided(answer, "refused", pub["TrangThaiCongKhai"], [self.reason("not_published")])
        if pub["TrangThaiCongKhai"] == "unpublished":
            return self.decided(answer, "refused", "unpublished",
                                [self.reason("deadline_passed", f"{pub['HanNopKetQua']} < {today.isoformat()}")])
        reasons = []
        if item["MaTTHC"] not in (procedure["MaTTHC"], procedure["MaTTHCDP"]):
            reasons.append(self.reason("procedure_mismatch", f"{item['MaTTHC']} ≠ {procedure['MaTTHC']}"))
        codes = list(dict.fromkeys(item["DanhSachMaHoSo"]))
        if not codes:
            reasons.append(self.reason("no_dossier_codes"))
        for code in codes:
            found = self.judge_dossier(code, agency, procedure)
            answer["HoSo"].append({"MaHoSo": code, "Dat": not found, "LyDo": found})
            reasons += [r if "detail" in r else {**r, "detail": code} for r in found]
        if reasons:
            return self.decided(answer, "returned", "returned", reasons, agency)
        return self.decided(answer, "confirmed", "confirmed", [], agency)

    def decided(self, answer: dict[str, Any], outcome: str, state: str, reasons: list[dict[str, str]],
                agency: str | None = None) -> dict[str, Any]:
        if agency is not None:  # a judged service keeps (confirmed) or loses (returned) its publication
            with self.portal.store.transaction() as db:
                db.execute("UPDATE publications SET state=?, updated_ts=? WHERE agency=? AND madvc=?",
                           (state, now_iso(), agency, answer["MaDVC"]))
        return {**answer, "KetQua": outcome, "TenKetQua": self.conf["outcomes"][outcome], "LyDo": reasons,
                "TrangThaiCongKhai": state}

    # -- the portal-plane endpoints -----------------------------------------------------------------------
    async def submit(self, request: Request) -> Response:
        start = time.perf_counter()
        path = self.paths["submit_results"]
        agency = header_value(request, self.conf.get("agency_header", "dstcode").encode())
        status, body, msg = await self.answer(request, agency)
        codes = dossier_codes_of(msg)
        self.portal.store.record(role=ROLE, direction="in", method="POST", path=path, service="KetQuaKiemThu",
                                 client=agency, dossier_codes=codes, status_code=status, request=msg, response=body,
                                 duration_ms=(time.perf_counter() - start) * 1000.0)
        return json_response(body, status)

    async def answer(self, request: Request, agency: str) -> tuple[int, dict[str, Any], Any]:
        names = self.conf["messages"]
        try:
            _, msg = await self.portal.read_json(request)
        except BodyTooLarge:
            return 413, {"error_code": 8, "message": "Dữ liệu quá lớn | body too large", "result": {}}, None
        except BadJson as exc:
            return 400, {"error_code": 7, "message": exc.detail, "result": {}}, None
        problems = self.portal.validators.problems(names["submission"], msg)
        if not problems and msg["MaDonVi"] != agency:
            problems = [problem("MaDonVi", "matches_dstcode", f"MaDonVi phải trùng header dstcode ('{agency}')",
                                f"MaDonVi must equal the dstcode header ('{agency}')")]
        if problems:
            return 400, {"error_code": 4, "message": summary(problems, "Dữ liệu không hợp lệ", "Invalid message"),
                         "errors": problems, "result": {}}, msg
        today = today_vn()
        services = [self.judge_service(item, agency, today) for item in msg["DanhSachDichVu"]]
        result = {"MaDonVi": agency, "NgayTiepNhan": portal_time(), "DanhSachDichVu": services}
        refused = all(s["KetQua"] == "refused" for s in services)
        body = {"error_code": 5 if refused else 0,
                "message": ("Không dịch vụ nào được tiếp nhận | no service could be judged" if refused
                            else "Đã tiếp nhận và kiểm tra kết quả kiểm thử | summary received and judged"),
                "result": result}
        with self.portal.store.transaction() as db:
            db.execute("INSERT INTO submissions(ts, agency, request, reply) VALUES (?,?,?,?)",
                       (now_iso(), agency, dumps(msg), dumps(body)))
        return (422 if refused else 200), body, msg

    async def services(self, request: Request) -> Response:
        agency = header_value(request, self.conf.get("agency_header", "dstcode").encode())
        body = {"error_code": 0, "message": "Thành công", "result": self.listing(agency)}
        self.portal.store.record(role=ROLE, direction="in", method="GET", path=self.paths["services"],
                                 service="DanhSachDichVuKiemThu", client=agency, status_code=200, response=body)
        return json_response(body)


def dossier_codes_of(msg: Any) -> list[str]:
    """The dossier codes a (possibly malformed) submission names, for the journal."""
    services = msg.get("DanhSachDichVu") if isinstance(msg, dict) else None
    return [c for s in (services if isinstance(services, list) else []) if isinstance(s, dict)
            for c in (s.get("DanhSachMaHoSo") if isinstance(s.get("DanhSachMaHoSo"), list) else []) if isinstance(c, str)]


def build_router(portal: Portal) -> APIRouter:
    admin = Admin(portal)
    r = APIRouter(tags=["admin"])
    names = admin.conf["messages"]
    schema = {k: v for k, v in portal.validators.schema(names["submission"]).items() if not k.startswith("$")}
    refusal = {"type": "object", "required": ["error_code", "message"], "properties": {
        "error_code": apidoc.INTEGER, "message": apidoc.STRING, "errors": apidoc.PROBLEMS, "result": {"type": ["object", "array"]}}}
    dstcode = apidoc.header_parameter(admin.conf.get("agency_header", "dstcode"), "mã đơn vị gửi (agency code)", False)
    r.add_api_route(admin.paths["submit_results"], admin.submit, methods=["POST"],
                    summary="Gửi tổng hợp kết quả kiểm thử (hệ thống quản trị)",
                    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
                                   "parameters": [dstcode]},
                    responses=apidoc.answers({200: refusal, 400: refusal, 413: refusal, 422: refusal}))
    r.add_api_route(admin.paths["services"], admin.services, methods=["GET"],
                    summary="Dịch vụ công khai để kiểm thử và trạng thái công khai",
                    openapi_extra={"parameters": [dstcode]}, responses=apidoc.answers({200: refusal}))
    return r


def build_control_router(portal: Portal) -> APIRouter:
    """`/_mock/publications`: the Office publishes services for testing on a date (GET lists every publication)."""
    r = APIRouter(prefix="/_mock", tags=["control"])

    @r.get("/publications", summary="Dịch vụ đã công khai để kiểm thử")
    async def publications(agency: str | None = None) -> Response:
        return json_response({"publications": portal.roles[ROLE].listing(agency)})

    @r.post("/publications", summary="Công khai dịch vụ để kiểm thử vào một ngày", status_code=201, openapi_extra={"requestBody": {
        "required": True, "content": {"application/json": {"schema": {
            k: v for k, v in portal.validators.schema("CongKhaiKiemThu").items() if not k.startswith("$")}}}}})
    async def publish(body: Any = Body(None)) -> Response:
        admin = portal.roles[ROLE]
        if not isinstance(body, dict):  # FastAPI hands over raw bytes for a body that is not JSON
            return json_response({"error": "bad_request", "message": "cần JSON {NgayCongKhai, MaDonVi?, DanhSachMaDVC?}"
                                  " / expected JSON {NgayCongKhai, ...}"}, 400)
        problems = portal.validators.problems("CongKhaiKiemThu", body)
        day = None
        if not problems:
            try:
                day = date.fromisoformat(body["NgayCongKhai"])
            except ValueError:
                problems = [problem("NgayCongKhai", "date", f"ngày không hợp lệ: {body['NgayCongKhai']!r}",
                                    f"not a date: {body['NgayCongKhai']!r}")]
        if problems:
            return json_response({"error": "bad_request", "message": summary(problems, "Yêu cầu không hợp lệ",
                                                                             "Invalid request"), "errors": problems}, 400)
        agency = body.get("MaDonVi") or portal.settings.agency_code
        unknown = [m for m in body.get("DanhSachMaDVC") or [] if admin.procedure_of(m) is None]
        if unknown:
            errors = [problem("DanhSachMaDVC", "known_service", f"CSDL TTHC không có dịch vụ {', '.join(unknown)}",
                              f"no such service in the procedure database: {', '.join(unknown)}")]
            return json_response({"error": "bad_request", "message": errors[0]["vi"] + " | " + errors[0]["en"],
                                  "errors": errors}, 400)
        return json_response({"publications": admin.publish(day, agency, body.get("DanhSachMaDVC"))}, 201)

    return r
