"""The portal's adapter: session login, dossier/progress/status sync and look-ups, every message validated.

Replies use the real envelope {error_code, message, result}; rejections also carry `errors`
[{field, rule, vi, en}] and an HTTP 4xx status so a client cannot mistake them for success.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mocks import apidoc
from mocks.jsonutil import dumpb, loads
from mocks.portal import BadJson, BodyTooLarge, JsonBytes, Portal, header_value
from mocks.rules import (DATE_FIELDS_DOSSIER, DATE_FIELDS_PROGRESS, DATE_FIELDS_STATUS, DossierRules,
                         codes_unique_in_batch, now_epoch, procedure_published)
from mocks.settings import AdapterAccount
from mocks.clock import now_iso
from mocks.store import Clean
from mocks.validation import Problem, problem, summary

OK, BAD_SESSION, BAD_LOGIN, UNKNOWN_SERVICE, SCHEMA, RULE, NOT_FOUND, BAD_JSON, TOO_LARGE, UNAVAILABLE = range(10)
ROLE = "adapter"
DOSSIER_UPSERT = ("INSERT INTO dossiers(code, agency, client, matthc, status, data, digest, created_ts, updated_ts)"
                  " VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(code) DO UPDATE SET status=excluded.status,"
                  " data=excluded.data, digest=excluded.digest, updated_ts=excluded.updated_ts, matthc=excluded.matthc")
RESULT_INSERT = "INSERT INTO results(code, owner, ma_ket_qua, data, ts) VALUES (?,?,?,?,?)"
RATING_INSERT = "INSERT INTO ratings(code, data, ts) VALUES (?,?,?)"
STATUS_INSERT = "INSERT INTO dossier_status(code, status, ts, service, journal_id) VALUES (?,?,?,?,?)"
PROGRESS_INSERT = "INSERT INTO progress(code, data, ts, journal_id) VALUES (?,?,?,?)"


@dataclass
class Session:
    account: AdapterAccount
    dstcode: str
    expires: float


@dataclass
class Outcome:
    """What a service decided: the reply, the dossiers it concerns, and the writes to make if accepted."""
    status: int
    body: dict[str, Any]
    codes: list[str] = field(default_factory=list)
    apply: Callable[[int, str], None] | None = None  # (journal entry id, timestamp): queue the writes


@dataclass
class Known:
    """What the hot path needs to know about a dossier without reading SQLite."""
    status: str
    digest: str
    agency: str
    owner: str = ""


def envelope(error_code: int, message: str, result: list | None = None, errors: list[Problem] | None = None) -> dict:
    body = {"error_code": error_code, "message": message, "result": result if result is not None else []}
    if errors:
        body["errors"] = errors
    return body


def serialized(item: dict[str, Any]) -> tuple[str, str]:
    """(JSON text, digest) of a dossier item; the digest tells an identical re-send from a changed dossier."""
    raw = dumpb(item)
    return raw.decode("utf-8"), hashlib.blake2b(raw, digest_size=12).hexdigest()


def digest_of(item: dict[str, Any]) -> str:
    return serialized(item)[1]


class Adapter:
    def __init__(self, portal: Portal):
        self.portal = portal
        self.profile = portal.profile
        conf = self.profile["adapter"]
        self.paths = conf["paths"]
        self.header = conf.get("session_header", "dstcode")
        self.header_key = self.header.lower().encode("latin-1")
        self.integration_services = set(conf["integration_services"])
        self.share_services = set(conf["share_services"])
        self.session_ttl = float(conf.get("session_ttl_s", 86400))
        self.rules = DossierRules(self.profile)
        # fields a whole dossier carries: an update with all of them and no null needs no merge with the stored one
        self.whole_dossier = tuple((self.profile.get("required_fields") or {}).get("DongBoHoSoMC", {}).get("create", ()))
        self.sessions: dict[str, Session] = {}
        self.known: dict[str, Known] = {}
        self._load_known()
        self.handlers: dict[str, Callable[[dict, Session], Outcome]] = {
            "DongBoHoSoMC": self.sync_dossiers,
            "CapNhatTienDoHoSoMC": self.update_progress,
            "DongBoTrangThaiHoSo": self.sync_status,
            "DongBoDanhGia": self.sync_ratings,
            "TraCuuHoSo": self.look_up_dossier,
            "LayThuTuc": self.get_procedure,
            "LayDanhSachTTHC": self.list_procedures,
            "TraCuuTechID": self.look_up_techid,
        }
        portal.roles["adapter"] = self

    def _load_known(self) -> None:
        for code, status, digest, agency, data in self.portal.store.query(
                "SELECT code, status, digest, agency, data FROM dossiers"):
            self.known[code] = Known(status, digest, agency, self.owner_of(loads(data)))

    def reset(self) -> None:
        self.known.clear()

    # -- HTTP endpoints ---------------------------------------------------------------------------------------
    async def auth(self, request: Request) -> Response:
        start = time.perf_counter()
        path = self.paths["auth"]
        msg: Any = None
        fault, status = await self.portal.apply_fault(ROLE, path, "auth")
        if status:
            return self._finish(path, "auth", "", msg, status, self._unavailable(status), start, fault=fault)
        try:
            _, msg = await self.portal.read_json(request)
        except BodyTooLarge:
            return self._finish(path, "auth", "", None, 413, self._too_large(), start)
        except BadJson as exc:
            return self._finish(path, "auth", "", None, 400, envelope(BAD_JSON, exc.detail), start)
        problems = self.portal.validators.problems("AdapterAuth", msg)
        client = msg.get("username") if isinstance(msg, dict) and isinstance(msg.get("username"), str) else ""
        if problems:
            body = envelope(SCHEMA, summary(problems, "Dữ liệu đăng nhập không hợp lệ", "Invalid login message"),
                            errors=problems)
            return self._finish(path, "auth", client, msg, 400, body, start)
        dstcode = header_value(request, self.header_key)
        account = self.portal.settings.account(msg["username"])
        if not dstcode:
            body = envelope(BAD_LOGIN, f"Thiếu header '{self.header}' (mã đơn vị) | missing '{self.header}' header",
                            errors=[problem(self.header, "header_required", "thiếu mã đơn vị", "agency code missing")])
            return self._finish(path, "auth", client, msg, 400, body, start)
        if (account is None or not hmac.compare_digest(account.password.encode(), str(msg["password"]).encode())
                or account.dstcode != dstcode):
            body = envelope(BAD_LOGIN, "Sai tên đăng nhập, mật khẩu hoặc mã đơn vị | wrong username, password or dstcode")
            return self._finish(path, "auth", client, msg, 401, body, start)
        token = secrets.token_urlsafe(24)
        self.sessions[token] = Session(account, dstcode, time.time() + self.session_ttl)
        body = {"session": token, "error_code": OK, "message": "Thành công"}
        return self._finish(path, "auth", client, msg, 200, body, start)

    async def integration(self, request: Request) -> Response:
        return await self._call(request, self.paths["integration"], self.integration_services)

    async def share(self, request: Request) -> Response:
        return await self._call(request, self.paths["share"], self.share_services)

    async def _call(self, request: Request, path: str, services: set[str]) -> Response:
        start = time.perf_counter()
        try:
            _, msg = await self.portal.read_json(request)
        except BodyTooLarge:
            return self._finish(path, "", "", None, 413, self._too_large(), start)
        except BadJson as exc:
            return self._finish(path, "", "", None, 400, envelope(BAD_JSON, exc.detail), start)
        if not isinstance(msg, dict):
            body = envelope(SCHEMA, "Thông điệp phải là một đối tượng JSON | the message must be a JSON object",
                            errors=[problem("", "type", "cần đối tượng JSON", "JSON object expected")])
            return self._finish(path, "", "", msg, 400, body, start)
        service = msg.get("service")
        service = service if isinstance(service, str) else ""
        fault, status = await self.portal.apply_fault(ROLE, path, service, self._codes(msg))
        if status:
            return self._finish(path, service, "", msg, status, self._unavailable(status), start, fault=fault)
        session = self._session(msg, request)
        if isinstance(session, Outcome):
            return self._finish(path, service, "", msg, session.status, session.body, start)
        client = session.account.username
        if service not in self.handlers:
            body = envelope(UNKNOWN_SERVICE, f"Dịch vụ '{service}' không tồn tại | unknown service '{service}'",
                            errors=[problem("service", "known_service", f"dịch vụ '{service}' không tồn tại; có: "
                                            f"{', '.join(sorted(services))}", f"unknown service; known: "
                                            f"{', '.join(sorted(services))}")])
            return self._finish(path, service, client, msg, 400, body, start)
        if service not in services:
            other = "share" if service in self.share_services else "integration"
            body = envelope(UNKNOWN_SERVICE, f"Dịch vụ '{service}' phải gọi qua {self.paths[other]} | "
                                             f"service '{service}' belongs to {self.paths[other]}",
                            errors=[problem("service", "service_endpoint", f"gọi qua {self.paths[other]}",
                                            f"call it on {self.paths[other]}")])
            return self._finish(path, service, client, msg, 400, body, start)
        problems = self.portal.validators.problems(service, msg)
        if problems:
            body = envelope(SCHEMA, summary(problems, "Dữ liệu không đúng lược đồ", "Message breaks its schema"),
                            errors=problems)
            return self._finish(path, service, client, msg, 400, body, start, codes=self._codes(msg))
        if msg["madonvi"] != session.account.madonvi:
            errors = [problem("madonvi", "madonvi_matches_account",
                              f"madonvi '{msg['madonvi']}' khác đơn vị của tài khoản ({session.account.madonvi})",
                              f"madonvi '{msg['madonvi']}' is not the account's unit ({session.account.madonvi})")]
            body = envelope(RULE, summary(errors, "Vi phạm quy tắc", "Rule broken"), errors=errors)
            return self._finish(path, service, client, msg, 403, body, start, codes=self._codes(msg))
        outcome = self.handlers[service](msg, session)
        return self._finish(path, service, client, msg, outcome.status, outcome.body, start, codes=outcome.codes,
                            apply=outcome.apply)

    # -- plumbing ---------------------------------------------------------------------------------------------
    def _session(self, msg: dict, request: Request) -> Session | Outcome:
        token = msg.get("session")
        session = self.sessions.get(token) if isinstance(token, str) else None
        if session is None or session.expires < time.time():
            return Outcome(401, envelope(BAD_SESSION, "Phiên làm việc không hợp lệ hoặc đã hết hạn | invalid or expired session",
                                         errors=[problem("session", "valid_session", "phiên không hợp lệ",
                                                         "invalid session")]))
        header = header_value(request, self.header_key)
        if header != session.dstcode:
            return Outcome(403, envelope(BAD_LOGIN, f"Header '{self.header}' ({header or 'trống'}) khác mã đơn vị của phiên | "
                                                    f"'{self.header}' header does not match the session's agency",
                                         errors=[problem(self.header, "dstcode_matches_session",
                                                         "mã đơn vị khác phiên", "agency code differs from session")]))
        return session

    def _finish(self, path: str, service: str, client: str, msg: Any, status: int, body: dict, start: float, *,
                codes: list[str] | None = None, apply: Callable[[int, str], None] | None = None,
                fault=None) -> Response:
        payload = dumpb(body)
        store = self.portal.store
        ts = now_iso()
        # replies are built here and carry no credential, except the session handed out by auth
        logged = body if "session" in body else Clean(payload)
        # every write of the adapter is a queued append: the unit needs no savepoint
        with store.transaction(savepoint=False):
            entry_id = store.record(role=ROLE, direction="in", method="POST", path=path, service=service,
                                    client=client, dossier_codes=codes or (), status_code=status, request=msg,
                                    response=logged, duration_ms=(time.perf_counter() - start) * 1000.0,
                                    error=f"fault:{fault.kind}" if fault else "", ts=ts)
            if apply is not None:
                apply(entry_id, ts)
        return JsonBytes(payload, status)

    @staticmethod
    def _codes(msg: dict) -> list[str]:
        data = msg.get("data")
        codes = [d.get("MaHoSo") for d in data if isinstance(d, dict)] if isinstance(data, list) else []
        codes.append(msg.get("mahoso"))
        return [c for c in codes if isinstance(c, str) and c]

    def _too_large(self) -> dict:
        return envelope(TOO_LARGE, f"Dữ liệu vượt quá {self.portal.max_body} byte | body exceeds {self.portal.max_body} bytes")

    @staticmethod
    def _unavailable(status: int) -> dict:
        return envelope(UNAVAILABLE, f"Cổng tạm thời không phục vụ (HTTP {status}) | portal temporarily unavailable")

    def rejected(self, problems: list[Problem], codes: list[str]) -> Outcome:
        return Outcome(422, envelope(RULE, summary(problems, "Vi phạm quy tắc nghiệp vụ", "Business rule broken"),
                                     errors=problems), codes)

    def owner_of(self, item: dict[str, Any]) -> str:
        """SoDinhDanh of the dossier's owner (for Kho DL), from the dossier or the portal account."""
        number = item.get("SoGiayToChuHoSo") or ""
        if len(number) == 12 and number.isdigit():
            return number
        for d in item.get("DinhDanhCHS") or []:
            if len(d.get("SoDinhDanh", "")) == 12:
                return d["SoDinhDanh"]
        ident = self.portal.identity_by_techid.get(item.get("MaDoiTuong") or "")
        return ident["SoDinhDanh"] if ident else ""

    # -- integration services -----------------------------------------------------------------------------------
    def sync_dossiers(self, msg: dict, session: Session) -> Outcome:
        items: list[dict] = list(msg["data"])  # a copy: lean updates are completed below, the journal keeps the message
        is_update = msg["isUpdating"].lower() == "true"
        codes = [i["MaHoSo"] for i in items]
        now = now_epoch()
        problems = codes_unique_in_batch(items)
        encoded = []
        limit = self.rules.future_limit(now)
        for i, item in enumerate(items):
            where = f"data[{i}]"
            code = item["MaHoSo"]
            if is_update and code in self.known and self.is_lean(item):
                item = items[i] = self.updated_dossier(code, item)
            data, digest = serialized(item)
            encoded.append((data, digest))
            problems += self.rules.dossier_code_format(f"{where}.MaHoSo", code)
            problems += self.rules.dossier_code_matches_agency(f"{where}.MaHoSo", code, session.dstcode)
            problems += procedure_published(where, item["MaTTHC"], self.portal.catalogue)
            problems += self.rules.dates_real_and_not_future(where, item, DATE_FIELDS_DOSSIER, limit)
            problems += self.rules.reception_not_before_submission(where, item)
            problems += self.rules.status_carries_required_date(where, item)
            problems += self.online_dossier_owned_by_portal_account(where, item)
            known = self.known.get(code)
            problems += self.create_or_update_matches_existence(where, code, is_update, known, digest)
            problems += self.rules.status_transition_allowed(where, known.status if known else None,
                                                             item["TrangThaiHoSo"])
        if problems:
            return self.rejected(problems, codes)

        def apply(entry_id: int, ts: str) -> None:
            for item, (data, digest) in zip(items, encoded):
                self._store_dossier(entry_id, ts, item, digest, session, "DongBoHoSoMC", data)

        result = [{"MaHoSo": i["MaHoSo"], "TrangThaiHoSo": i["TrangThaiHoSo"], "KetQua": "Thành công"} for i in items]
        return Outcome(200, envelope(OK, "Thành công", result), codes, apply)

    def is_lean(self, item: dict[str, Any]) -> bool:
        """An update that leaves out a field of a whole dossier, or sends one as null (kept from the stored one)."""
        return None in item.values() or any(f not in item for f in self.whole_dossier)

    def updated_dossier(self, code: str, item: dict[str, Any]) -> dict[str, Any]:
        """The stored dossier with the fields an update carries: a lean update (only some fields, or null for the
        others) changes what it names and keeps the rest."""
        rows = self.portal.store.query("SELECT data FROM dossiers WHERE code=?", (code,))
        stored = loads(rows[0][0]) if rows else {}
        return {**stored, **{k: v for k, v in item.items() if v is not None}}

    def _store_dossier(self, entry_id: int, ts: str, item: dict, digest: str, session: Session,
                       service: str, data: str | None = None) -> None:
        code = item["MaHoSo"]
        known = self.known.get(code)
        if known is not None and known.digest == digest:
            return  # an identical re-send (retry): nothing new
        status = item["TrangThaiHoSo"]
        data = data if data is not None else dumpb(item).decode("utf-8")
        store = self.portal.store
        # one upsert statement keeps a dossier's creation and later updates in order in the append queue
        store.append(DOSSIER_UPSERT, (code, session.dstcode, session.account.username, item["MaTTHC"], status, data,
                                      digest, ts, ts))
        if known is None or known.status != status:
            store.append(STATUS_INSERT, (code, status, ts, service, entry_id))
        owner = self.owner_of(item)
        self._store_results(code, owner, item.get("DanhSachGiayToKetQua") or [], ts, session.dstcode)
        self.known[code] = Known(status, digest, session.dstcode, owner)

    def _store_results(self, code: str, owner: str, results: list[dict], ts: str, agency: str) -> None:
        if not results:
            return
        store = self.portal.store
        have = {(r[0], r[1]) for r in store.query("SELECT ma_ket_qua, data FROM results WHERE code=?", (code,))}
        for r in results:
            data = dumpb(r).decode("utf-8")
            if (r.get("MaGiayToKetQua", ""), data) in have:
                continue
            have.add((r.get("MaGiayToKetQua", ""), data))
            store.append(RESULT_INSERT, (code, owner, r.get("MaGiayToKetQua", ""), data, ts))
            self.portal.documents.add_result(owner, r, agency, code)

    def update_progress(self, msg: dict, session: Session) -> Outcome:
        items: list[dict] = msg["data"]
        codes = [i["MaHoSo"] for i in items]
        now = now_epoch()
        problems: list[Problem] = []
        for i, item in enumerate(items):
            where = f"data[{i}]"
            problems += self.progress_for_known_dossier(where, item["MaHoSo"], session)
            problems += self.rules.progress_status_known(where, item)
            problems += self.rules.dates_real_and_not_future(where, item, DATE_FIELDS_PROGRESS, self.rules.future_limit(now))
        if problems:
            return self.rejected(problems, codes)

        def apply(entry_id: int, ts: str) -> None:
            for i in items:
                self.portal.store.append(PROGRESS_INSERT, (i["MaHoSo"], dumpb(i).decode("utf-8"), ts, entry_id))

        result = [{"MaHoSo": c, "KetQua": "Thành công"} for c in codes]
        return Outcome(200, envelope(OK, "Thành công", result), codes, apply)

    def sync_status(self, msg: dict, session: Session) -> Outcome:
        items: list[dict] = msg["data"]
        codes = [i["MaHoSo"] for i in items]
        now = now_epoch()
        problems = codes_unique_in_batch(items)
        for i, item in enumerate(items):
            where = f"data[{i}]"
            found = self.progress_for_known_dossier(where, item["MaHoSo"], session)
            problems += found
            problems += self.rules.dates_real_and_not_future(where, item, DATE_FIELDS_STATUS, self.rules.future_limit(now))
            problems += self.rules.status_carries_required_date(where, item)
            if not found:
                problems += self.rules.status_transition_allowed(where, self.known[item["MaHoSo"]].status,
                                                                 item["TrangThaiHoSo"])
        if problems:
            return self.rejected(problems, codes)

        def apply(entry_id: int, ts: str) -> None:
            for item in items:
                code = item["MaHoSo"]
                row = self.portal.store.query("SELECT data FROM dossiers WHERE code=?", (code,))[0]
                data = loads(row[0])
                data.update({k: v for k, v in item.items() if k != "DanhSachGiayToKetQua" and v is not None})
                if item.get("DanhSachGiayToKetQua"):
                    data["DanhSachGiayToKetQua"] = item["DanhSachGiayToKetQua"]
                self._store_dossier(entry_id, ts, data, digest_of(data), session, "DongBoTrangThaiHoSo")

        result = [{"MaHoSo": i["MaHoSo"], "TrangThaiHoSo": i["TrangThaiHoSo"], "KetQua": "Thành công"} for i in items]
        return Outcome(200, envelope(OK, "Thành công", result), codes, apply)

    def sync_ratings(self, msg: dict, session: Session) -> Outcome:
        items: list[dict] = msg["data"]
        codes = [i["MaHoSo"] for i in items]
        problems: list[Problem] = []
        for i, item in enumerate(items):
            problems += self.progress_for_known_dossier(f"data[{i}]", item["MaHoSo"], session)
        if problems:
            return self.rejected(problems, codes)

        def apply(entry_id: int, ts: str) -> None:
            for i in items:
                self.portal.store.append(RATING_INSERT, (i["MaHoSo"], dumpb(i).decode("utf-8"), ts))

        return Outcome(200, envelope(OK, "Thành công", [{"MaHoSo": c} for c in codes]), codes, apply)

    # -- rules needing the portal's state -------------------------------------------------------------------
    def create_or_update_matches_existence(self, where: str, code: str, is_update: bool, known: Known | None,
                                           digest: str) -> list[Problem]:
        """isUpdating=False creates (an identical re-send is tolerated); isUpdating=True needs an existing dossier."""
        if is_update and known is None:
            return [problem(f"{where}.MaHoSo", "update_needs_existing",
                            f"isUpdating=True nhưng hồ sơ '{code}' chưa được đồng bộ lên Cổng",
                            f"isUpdating=True but dossier '{code}' was never synced")]
        if not is_update and known is not None and known.digest != digest:
            return [problem(f"{where}.MaHoSo", "create_needs_new_code",
                            f"hồ sơ '{code}' đã có trên Cổng; gửi cập nhật với isUpdating=True",
                            f"dossier '{code}' already exists; send updates with isUpdating=True")]
        return []

    def progress_for_known_dossier(self, where: str, code: str, session: Session) -> list[Problem]:
        """Progress/status/rating updates refer to a dossier this agency synced before."""
        known = self.known.get(code)
        if known is None:
            return [problem(f"{where}.MaHoSo", "dossier_exists",
                            f"hồ sơ '{code}' chưa có trên Cổng (phải đồng bộ DongBoHoSoMC trước)",
                            f"dossier '{code}' does not exist on the portal (sync it with DongBoHoSoMC first)")]
        if known.agency != session.dstcode:
            return [problem(f"{where}.MaHoSo", "dossier_of_agency", f"hồ sơ '{code}' thuộc đơn vị khác",
                            f"dossier '{code}' belongs to another agency")]
        return []

    def online_dossier_owned_by_portal_account(self, where: str, item: dict) -> list[Problem]:
        """An online dossier (KenhThucHien=2) names the citizen's portal account: MaDoiTuong is their TechID."""
        if item.get("KenhThucHien") == "2" and item.get("MaDoiTuong") not in self.portal.identity_by_techid:
            return [problem(f"{where}.MaDoiTuong", "online_owner_techid",
                            f"MaDoiTuong '{item.get('MaDoiTuong')}' không phải TechID của tài khoản trên Cổng",
                            f"MaDoiTuong '{item.get('MaDoiTuong')}' is not the TechID of a portal account")]
        return []

    # -- share services -----------------------------------------------------------------------------------------
    def look_up_dossier(self, msg: dict, session: Session) -> Outcome:
        code = msg["mahoso"]
        known = self.known.get(code)
        if known is None or known.agency != session.dstcode:
            return Outcome(404, envelope(NOT_FOUND, f"Không tìm thấy hồ sơ '{code}' | dossier '{code}' not found"), [code])
        view = self.dossier_view(code) or {}
        result = dict(view.get("fields", {}))
        result["LichSuTrangThai"] = [{"TrangThaiHoSo": h["status"], "ThoiGian": h["ts"]} for h in view.get("status_history", [])]
        return Outcome(200, envelope(OK, "Thành công", [result]), [code])

    def get_procedure(self, msg: dict, session: Session) -> Outcome:
        proc = self.portal.catalogue.find(msg["maTTHC"])
        if proc is None:
            return Outcome(404, envelope(NOT_FOUND, f"Không tìm thấy thủ tục '{msg['maTTHC']}' | procedure not found"))
        return Outcome(200, envelope(OK, "Thành công", [proc]))

    def list_procedures(self, msg: dict, session: Session) -> Outcome:
        items = self.portal.catalogue.listing(msg.get("maCoQuan", ""), msg.get("maLinhVuc", ""))
        return Outcome(200, envelope(OK, "Thành công", items))

    def look_up_techid(self, msg: dict, session: Session) -> Outcome:
        wanted_id, wanted_no = msg.get("TechID"), msg.get("SoDinhDanh")
        for ident in self.portal.identities:
            if (wanted_id and ident["TechID"] == wanted_id) or (wanted_no and ident["SoDinhDanh"] == wanted_no):
                keys = ("TechID", "HoVaTen", "SoDinhDanh", "LoaiTaiKhoan", "MaSoDoanhNghiep", "TenDoanhNghiep")
                return Outcome(200, envelope(OK, "Thành công", [{k: ident.get(k, "") for k in keys}]))
        return Outcome(404, envelope(NOT_FOUND, "Không tìm thấy tài khoản | account not found"))

    # -- portal's view ------------------------------------------------------------------------------------------
    def dossier_view(self, code: str) -> dict[str, Any] | None:
        store = self.portal.store
        rows = store.query("SELECT code, agency, client, matthc, status, data, created_ts, updated_ts FROM dossiers"
                           " WHERE code=?", (code,))
        if not rows:
            return None
        code, agency, client, matthc, status, data, created, updated = rows[0]
        names = self.profile.get("dossier_status", {})
        return {
            "MaHoSo": code, "agency": agency, "client": client, "MaTTHC": matthc, "TrangThaiHoSo": status,
            "TenTrangThai": names.get(status, ""), "created": created, "updated": updated, "fields": loads(data),
            "status_history": [
                {"status": s, "name": names.get(s, ""), "ts": ts, "service": svc, "journal_id": jid}
                for s, ts, svc, jid in store.query(
                    "SELECT status, ts, service, journal_id FROM dossier_status WHERE code=? ORDER BY rowid", (code,))],
            "progress": [{**loads(d), "_ts": ts, "_journal_id": jid} for d, ts, jid in store.query(
                "SELECT data, ts, journal_id FROM progress WHERE code=? ORDER BY rowid", (code,))],
            "results": [{**loads(d), "_ts": ts, "_owner": owner} for d, ts, owner in store.query(
                "SELECT data, ts, owner FROM results WHERE code=? ORDER BY rowid", (code,))],
            "ratings": [loads(d) for (d,) in store.query("SELECT data FROM ratings WHERE code=? ORDER BY rowid", (code,))],
        }


def build_router(portal: Portal) -> APIRouter:
    adapter = Adapter(portal)
    router = APIRouter(tags=["adapter"])
    schema = lambda name: apidoc.message(portal.validators.schema(name))  # noqa: E731
    reply = schema("AdapterReply")
    dstcode = apidoc.header_parameter(adapter.header, "mã đơn vị gửi (agency code)")
    body = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["session", "madonvi", "service"],
        "properties": {"session": {"type": "string"}, "madonvi": {"type": "string"}, "service": {"type": "string"}}}}}},
        "parameters": [dstcode]}

    router.add_api_route(adapter.paths["auth"], adapter.auth, methods=["POST"], summary="Đăng nhập adapter (session)",
                         openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                             "schema": schema("AdapterAuth")}}}, "parameters": [dstcode]},
                         responses=apidoc.answers({200: schema("AdapterAuthReply"), 400: reply, 401: reply, 413: reply}))
    router.add_api_route(adapter.paths["integration"], adapter.integration, methods=["POST"],
                         summary="Đồng bộ: DongBoHoSoMC, CapNhatTienDoHoSoMC, DongBoTrangThaiHoSo, DongBoDanhGia",
                         openapi_extra=body,
                         responses=apidoc.answers({200: reply, 400: reply, 401: reply, 403: reply, 413: reply, 422: reply}))
    router.add_api_route(adapter.paths["share"], adapter.share, methods=["POST"],
                         summary="Tra cứu: TraCuuHoSo, LayThuTuc, LayDanhSachTTHC, TraCuuTechID", openapi_extra=body,
                         responses=apidoc.answers({200: reply, 400: reply, 401: reply, 403: reply, 404: reply, 413: reply}))
    return router
