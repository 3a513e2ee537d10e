"""Payment platform: INIT / QUERY / GET_BILL with the MaXacThuc checksum (docs/domain/), the payment page, the signed
result callback (IPN) with retries, PDF receipts and the daily reconciliation listing (đối soát).

Checksum (MaXacThuc) = lowercase hex SHA-256 of the profile's fields joined by '|' with the partner's secret
appended as the last field. It is not an HMAC; that is how the real platform does it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from mocks.clock import portal_time
from mocks import apidoc, pages
from mocks.controls import CALLBACK_FAULT_KINDS
from mocks.jsonutil import dumpb, loads
from mocks.portal import BadJson, BodyTooLarge, Portal, json_response
from mocks.rules import parse_portal_date
from mocks.settings import PaymentPartner
from mocks.sso import with_query
from mocks.store import now_iso
from mocks.validation import Problem, problem, summary

ROLE = "payment"
PENDING, PAID, FAILED = "0", "1", "2"


def checksum(fields: list[str], message: dict[str, Any], secret: str, separator: str = "|") -> str:
    """MaXacThuc over `fields` of `message` (missing fields count as empty) with the secret appended."""
    parts = ["" if message.get(f) is None else str(message.get(f)) for f in fields]
    return hashlib.sha256(separator.join(parts + [secret]).encode("utf-8")).hexdigest()


class PaymentPlatform:
    def __init__(self, portal: Portal):
        self.portal = portal
        conf = portal.profile["payment"]
        self.conf = conf
        self.paths = conf["paths"]
        self.orders = conf["checksum"]
        self.sep = conf["checksum"].get("separator", "|")
        self.codes = {str(k): v for k, v in conf.get("error_codes", {}).items()}
        self.types = conf.get("message_types", {})
        self.outcomes = conf.get("outcomes", {})
        self.banks = conf.get("banks", [])
        self.window = float(conf.get("init_time_window_s", 900))
        self.pending_code = str(conf.get("pending_code", "07"))
        self.backoff = list(portal.settings.ipn_retry_backoff_s or conf.get("ipn_retry_backoff_s", [0.5, 1, 2]))
        self.retries = int(conf.get("ipn_retries", len(self.backoff)))
        self.ipn_timeout = float(conf.get("ipn_timeout_s", 5))
        self._client = None
        portal.roles["payment"] = self

    @property
    def client(self):
        if self._client is None:
            import httpx  # only needed once a payment completes; keeps start-up short

            self._client = httpx.AsyncClient(timeout=self.ipn_timeout, trust_env=False)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def sign(self, kind: str, message: dict[str, Any], secret: str) -> str:
        return checksum(self.orders[kind], message, secret, self.sep)

    def reply(self, code: str, status: int, extra: dict[str, Any] | None = None, errors: list[Problem] | None = None,
              message: str | None = None) -> tuple[int, dict[str, Any]]:
        body = {"MaLoi": code, "MoTaLoi": message or self.codes.get(code, ""), **(extra or {})}
        if errors:
            body["loi"] = errors
        return status, body

    # -- shared checks of partner requests ----------------------------------------------------------------------
    async def _request(self, request: Request, schema: str, kind: str, path: str):
        """Parse, validate and authenticate a partner request → (message, partner) or a ready (status, body)."""
        try:
            _, msg = await self.portal.read_json(request)
        except BodyTooLarge:
            return None, None, self.reply("03", 413, message=f"Dữ liệu vượt quá {self.portal.max_body} byte | body too large")
        except BadJson as exc:
            return None, None, self.reply("03", 400, message=exc.detail)
        problems = self.portal.validators.problems(schema, msg)
        if problems:
            return msg, None, self.reply("03", 400, errors=problems,
                                         message=summary(problems, "Dữ liệu không hợp lệ", "Invalid message"))
        partner = self.portal.settings.partner(msg["MaDoiTac"])
        if partner is None:
            return msg, None, self.reply("02", 401, errors=[problem("MaDoiTac", "partner_registered",
                                                                    "mã đối tác chưa đăng ký", "unknown partner")])
        expected = self.sign(kind, msg, partner.secret)
        if not hmac.compare_digest(expected, str(msg["MaXacThuc"]).lower()):
            order = "|".join(self.orders[kind])
            return msg, partner, self.reply("01", 401, errors=[problem(
                "MaXacThuc", "checksum", f"MaXacThuc sai; tính bằng SHA-256 của {order}|<khóa bí mật>",
                f"wrong MaXacThuc; expected SHA-256 of {order}|<secret>")])
        return msg, partner, None

    def _journal(self, service: str, path: str, msg: Any, status: int, body: Any, start: float, *,
                 client: str = "", dossier: str = "", ref: str = "", error: str = "", direction: str = "in",
                 method: str = "POST") -> int:
        if not ref and isinstance(msg, dict) and isinstance(msg.get("MaThamChieu"), str):
            ref = msg["MaThamChieu"]
        if not client and isinstance(msg, dict) and isinstance(msg.get("MaDoiTac"), str):
            client = msg["MaDoiTac"]
        return self.portal.store.record(role=ROLE, direction=direction, method=method, path=path, service=service,
                                        client=client, dossier_codes=[dossier] if dossier else (), payment_ref=ref,
                                        status_code=status, request=msg, response=body, error=error,
                                        duration_ms=(time.perf_counter() - start) * 1000.0)

    async def _faulted(self, path: str, service: str, msg: Any, start: float) -> Response | None:
        fault, status = await self.portal.apply_fault(ROLE, path, service)
        if not status:
            return None
        code, body = self.reply("99", status, message="Nền tảng thanh toán tạm thời không phục vụ | temporarily unavailable")
        self._journal(service, path, msg, status, body, start, error=f"fault:{fault.kind}")
        return json_response(body, status)

    # -- INIT -------------------------------------------------------------------------------------------------------
    async def init(self, request: Request) -> Response:
        start = time.perf_counter()
        path = self.paths["init"]
        faulted = await self._faulted(path, "INIT", None, start)
        if faulted:
            return faulted
        msg, partner, failed = await self._request(request, "PaymentInit", "INIT", path)
        dossier = ""
        if isinstance(msg, dict) and isinstance(msg.get("ThongTinBienLai"), dict):
            dossier = str(msg["ThongTinBienLai"].get("MaHoSo") or "")
        if failed is None:
            failed = self._init_rules(msg) or self._create(msg, partner)
        status, body = failed
        self._journal("INIT", path, msg, status, body, start, dossier=dossier)
        return json_response(body, status)

    def _init_rules(self, msg: dict) -> tuple[int, dict] | None:
        problems: list[Problem] = []
        problems += self.transaction_time_current(msg["ThoiGianGD"])
        problems += self.amount_matches_fees(msg)
        if problems:
            code = "06" if problems[0]["rule"].startswith("transaction_time") else "03"
            return self.reply(code, 422, errors=problems, message=summary(problems, "Vi phạm quy tắc", "Rule broken"))
        return None

    def transaction_time_current(self, value: str) -> list[Problem]:
        """ThoiGianGD is a real moment close to the platform's clock (a 12-hour clock shows up here)."""
        ts = parse_portal_date(value)
        if ts is None:
            return [problem("ThoiGianGD", "transaction_time_valid", f"'{value}' không phải thời điểm có thật",
                            f"'{value}' is not a real date-time")]
        drift = ts - time.time()
        if abs(drift) > self.window:
            return [problem("ThoiGianGD", "transaction_time_current",
                            f"ThoiGianGD lệch {int(drift)} giây so với giờ hệ thống (cho phép ±{int(self.window)}); "
                            "kiểm tra định dạng 24 giờ (HH, không phải hh)",
                            f"ThoiGianGD is {int(drift)} s off the platform clock (±{int(self.window)} allowed); "
                            "check for a 24-hour clock (HH, not hh)")]
        return []

    def amount_matches_fees(self, msg: dict) -> list[Problem]:
        """SoTien is the sum of the receipt's fee lines."""
        fees = msg["ThongTinBienLai"]["PhiLePhi"]
        total = sum(int(f["SoTien"]) for f in fees)
        if int(msg["SoTien"]) != total or total <= 0:
            return [problem("SoTien", "amount_matches_fees",
                            f"SoTien {msg['SoTien']} khác tổng phí, lệ phí {total} (hoặc bằng 0)",
                            f"SoTien {msg['SoTien']} differs from the sum of fee lines {total} (or is zero)")]
        return []

    def _create(self, msg: dict, partner: PaymentPartner) -> tuple[int, dict]:
        ref, dossier, amount = msg["MaThamChieu"], msg["ThongTinBienLai"]["MaHoSo"], int(msg["SoTien"])
        rows = self.portal.store.query("SELECT token, dossier, amount, state FROM payments WHERE partner=? AND ref=?",
                                       (partner.code, ref))
        extra = {"MaDoiTac": partner.code, "MaThamChieu": ref, "ThoiGianGD": portal_time()}
        if rows:
            token, old_dossier, old_amount, state = rows[0]
            if (old_dossier, old_amount, state) == (dossier, amount, PENDING):
                extra["UrlThanhToan"] = self.portal.url(f"{self.paths['pay_page']}/{token}")
                return self.reply("00", 200, extra)  # a retried INIT for the same payment
            return self.reply("04", 409, extra, self.reference_unique(ref, (old_dossier, old_amount, state),
                                                                     (dossier, amount)))
        token = secrets.token_urlsafe(24)
        with self.portal.store.transaction() as db:
            db.execute("INSERT INTO payments(partner, ref, token, amount, paid_amount, dossier, state, ma_loi, bank,"
                       " txn_id, txn_time, init, created_ts, completed_ts, day) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       (partner.code, ref, token, amount, 0, dossier, PENDING, "", "", "", "", dumpb(msg).decode(),
                        now_iso(), "", portal_time()[:8]))
        extra["UrlThanhToan"] = self.portal.url(f"{self.paths['pay_page']}/{token}")
        return self.reply("00", 200, extra)

    @staticmethod
    def reference_unique(ref: str, old: tuple[str, int, str], new: tuple[str, int]) -> list[Problem]:
        """A reference names one payment: reused, it is refused with what differs from the first use."""
        (old_dossier, old_amount, state), (dossier, amount) = old, new
        if old_dossier != dossier:
            vi, en = f"đã dùng cho hồ sơ {old_dossier}", f"was already used for dossier {old_dossier}"
        elif int(old_amount) != int(amount):
            vi = f"đã dùng cho hồ sơ này với số tiền {old_amount} (nay gửi {amount}); khoản thu mới cần mã tham chiếu mới"
            en = (f"was already used for this dossier with amount {old_amount} (now {amount}); "
                  "a new amount needs a new reference")
        else:
            vi, en = "đã dùng cho một giao dịch đã kết thúc", "was already used for a payment that has completed"
        return [problem("MaThamChieu", "reference_unique", f"mã tham chiếu '{ref}' {vi}", f"reference '{ref}' {en}")]

    # -- payment page ---------------------------------------------------------------------------------------------
    def _payment_by_token(self, token: str) -> dict[str, Any] | None:
        rows = self.portal.store.query("SELECT partner, ref, amount, dossier, state, init FROM payments WHERE token=?",
                                       (token,))
        if not rows:
            return None
        partner, ref, amount, dossier, state, init = rows[0]
        return {"partner": partner, "ref": ref, "amount": amount, "dossier": dossier, "state": state,
                "init": loads(init)}

    async def pay_page(self, token: str) -> Response:
        pay = self._payment_by_token(token)
        if pay is None:
            return HTMLResponse(pages.error_page("Không tìm thấy giao dịch", "Đường dẫn thanh toán không hợp lệ."), 404)
        if pay["state"] != PENDING:
            return HTMLResponse(pages.message_page("Giao dịch đã kết thúc", "Giao dịch này đã được xử lý."), 409)
        receipt = pay["init"]["ThongTinBienLai"]
        info = {"Mã hồ sơ": pay["dossier"], "Dịch vụ": receipt.get("TenDVC", ""), "Đơn vị thu": receipt.get("TenDonVi", ""),
                "Người nộp": receipt.get("HoTenNguoiNop", ""), "Số tiền": f"{pay['amount']:,} VND".replace(",", "."),
                "Mã tham chiếu": pay["ref"]}
        return HTMLResponse(pages.payment_page(f"{self.paths['pay_page']}/{token}", info, self.banks, self.outcomes))

    async def pay_confirm(self, token: str, request: Request) -> Response:
        start = time.perf_counter()
        pay = self._payment_by_token(token)
        path = f"{self.paths['pay_page']}/{{token}}"
        if pay is None:
            return HTMLResponse(pages.error_page("Không tìm thấy giao dịch", "Đường dẫn thanh toán không hợp lệ."), 404)
        if pay["state"] != PENDING:
            return HTMLResponse(pages.message_page("Giao dịch đã kết thúc", "Giao dịch này đã được xử lý."), 409)
        try:
            form = await request.form()
        except Exception:
            form = {}
        bank = str(form.get("bank") or (self.banks[0]["MaNganHang"] if self.banks else ""))
        outcome = str(form.get("outcome") or "success")
        if outcome not in self.outcomes or bank not in {b["MaNganHang"] for b in self.banks}:
            return HTMLResponse(pages.error_page("Dữ liệu không hợp lệ", "Hãy chọn ngân hàng và kết quả giao dịch."), 400)
        partner = self.portal.settings.partner(pay["partner"])
        ma_loi = self.outcomes[outcome]["MaLoi"]
        txn_id = f"GD{portal_time()}{secrets.randbelow(10**6):06d}"
        txn_time = portal_time()
        state = PAID if ma_loi == self.conf.get("ok_code", "00") else FAILED
        with self.portal.store.transaction() as db:
            db.execute("UPDATE payments SET state=?, ma_loi=?, bank=?, txn_id=?, txn_time=?, completed_ts=?, day=?,"
                       " paid_amount=? WHERE token=?", (state, ma_loi, bank, txn_id, txn_time, now_iso(), txn_time[:8],
                                                        pay["amount"] if state == PAID else 0, token))
        self._journal("PAY_PAGE", path, {"bank": bank, "outcome": outcome}, 303, {"MaLoi": ma_loi}, start,
                      client=pay["partner"], dossier=pay["dossier"], ref=pay["ref"])
        ipn = self.callback_message(partner, pay, ma_loi, bank, txn_id, txn_time, pay["amount"])
        await self.deliver(partner, pay, ipn)
        params = {k: v for k, v in ipn.items()}
        self.portal.store.record(role=ROLE, direction="out", method="GET", path=partner.return_url,
                                 service="RETURN", client=partner.code, dossier_codes=[pay["dossier"]],
                                 payment_ref=pay["ref"], status_code=303, request={"params": params})
        return RedirectResponse(with_query(partner.return_url, params), 303)

    def callback_message(self, partner: PaymentPartner, pay: dict, ma_loi: str, bank: str, txn_id: str, txn_time: str,
                         amount: int) -> dict[str, Any]:
        msg = {"LoaiBanTin": self.types.get("ipn", "PAY"), "MaLoi": ma_loi, "MaDoiTac": partner.code,
               "MaThamChieu": pay["ref"], "SoTien": int(amount), "MaTienTe": "VND", "MaGiaoDich": txn_id,
               "MaNganHang": bank, "ThoiGianGD": txn_time,
               "ThongTinGiaoDich": pay["init"].get("ThongTinGiaoDich", "")}
        msg["MaXacThuc"] = self.sign("IPN", msg, partner.secret)
        return msg

    # -- IPN delivery -----------------------------------------------------------------------------------------------
    async def deliver(self, partner: PaymentPartner, pay: dict, ipn: dict) -> None:
        """First attempt now (so the agency knows before the browser lands), retries in the background."""
        path = urlsplit(partner.callback_url).path
        codes = [pay["dossier"]] if pay.get("dossier") else []
        fault = self.portal.faults.take("ipn", path, "IPN", CALLBACK_FAULT_KINDS, codes) or \
            self.portal.faults.take("payment", path, "IPN", frozenset({"drop_callback"}), codes)
        if fault and fault.kind == "drop_callback":
            self._record_attempt(partner, pay, 0, ipn, None, None, "dropped (fault drop_callback)", None, False, 0.0)
            return
        if fault and fault.kind == "latency":
            await asyncio.sleep(float(fault.value or 0))
        mode = self.portal.adversarial.take("ipn", partner.code, pay.get("dossier"))
        if mode == "ipn_bad_checksum":
            forged = {**ipn, "MaXacThuc": hashlib.sha256(secrets.token_bytes(16)).hexdigest()}
            await self._attempt(partner, pay, 1, forged, mode)
        elif mode == "ipn_lower_amount":
            lower = max(1, int(ipn["SoTien"]) // 2)
            forged = {**ipn, "SoTien": lower}
            forged["MaXacThuc"] = self.sign("IPN", forged, partner.secret)
            with self.portal.store.transaction() as db:
                db.execute("UPDATE payments SET paid_amount=? WHERE partner=? AND ref=?", (lower, partner.code, pay["ref"]))
            await self._attempt(partner, pay, 1, forged, mode)
            return
        accepted = await self._attempt(partner, pay, 1, ipn, None)
        if mode == "ipn_duplicate":
            await self._attempt(partner, pay, 2, ipn, mode)
        if not accepted and self.retries > 0:
            self.portal.spawn(self._retry(partner, pay, ipn))

    async def _retry(self, partner: PaymentPartner, pay: dict, ipn: dict) -> None:
        for i in range(self.retries):
            await asyncio.sleep(self.backoff[min(i, len(self.backoff) - 1)] if self.backoff else 1.0)
            if await self._attempt(partner, pay, i + 2, ipn, None):
                return

    async def _attempt(self, partner: PaymentPartner, pay: dict, attempt: int, ipn: dict, adversarial: str | None) -> bool:
        """One POST of the callback; accepted when the agency answers MaLoi=00 (either reply style)."""
        import httpx

        start = time.perf_counter()
        status, reply, error = None, None, ""
        try:
            resp = await self.client.post(partner.callback_url, json=ipn)
            status = resp.status_code
            try:
                reply = resp.json()
            except ValueError:
                reply = resp.text[:2000]
                error = "trả lời không phải JSON / reply is not JSON"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:300]
        accepted = bool(status and 200 <= status < 300 and isinstance(reply, dict)
                        and str(reply.get("MaLoi", "")) == self.conf.get("ok_code", "00"))
        self._record_attempt(partner, pay, attempt, ipn, status, reply, error, adversarial, accepted,
                             (time.perf_counter() - start) * 1000.0)
        return accepted

    def _record_attempt(self, partner, pay, attempt, ipn, status, reply, error, adversarial, accepted, ms) -> None:
        store = self.portal.store
        with store.transaction() as db:
            entry = store.record(role="ipn", direction="out", method="POST", path=partner.callback_url, service="IPN",
                                 client=partner.code, dossier_codes=[pay["dossier"]], payment_ref=pay["ref"],
                                 status_code=status or 0, request={**ipn, **({"adversarial": adversarial} if adversarial else {})},
                                 response=reply, duration_ms=ms, error=error)
            db.execute("INSERT INTO ipn_attempts(partner, ref, attempt, ts, url, request, status_code, reply, error,"
                       " adversarial, accepted, duration_ms, journal_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       (partner.code, pay["ref"], attempt, now_iso(), partner.callback_url, dumpb(ipn).decode(),
                        status, dumpb(reply).decode() if reply is not None else None, error, adversarial or "",
                        int(accepted), round(ms, 3), entry))

    # -- QUERY / GET_BILL / đối soát ----------------------------------------------------------------------------
    def _find(self, partner: str, ref: str) -> dict[str, Any] | None:
        rows = self.portal.store.query(
            "SELECT partner, ref, amount, paid_amount, dossier, state, ma_loi, bank, txn_id, txn_time, init, created_ts,"
            " completed_ts, token FROM payments WHERE partner=? AND ref=?", (partner, ref))
        if not rows:
            return None
        keys = ["partner", "ref", "amount", "paid_amount", "dossier", "state", "ma_loi", "bank", "txn_id", "txn_time",
                "init", "created_ts", "completed_ts", "token"]
        pay = dict(zip(keys, rows[0]))
        pay["init"] = loads(pay["init"])
        return pay

    async def query(self, request: Request) -> Response:
        start = time.perf_counter()
        path = self.paths["query"]
        faulted = await self._faulted(path, "QUERY", None, start)
        if faulted:
            return faulted
        msg, partner, failed = await self._request(request, "PaymentQuery", "QUERY", path)
        dossier = ""
        if failed is None:
            problems = self.transaction_time_current(msg["ThoiGianGD"])
            if problems:
                failed = self.reply("06", 422, errors=problems, message=summary(problems, "Vi phạm quy tắc", "Rule broken"))
        if failed is None:
            pay = self._find(partner.code, msg["MaThamChieu"])
            if pay is None:
                failed = self.reply("05", 404, {"MaDoiTac": partner.code, "MaThamChieu": msg["MaThamChieu"]})
            else:
                dossier = pay["dossier"]
                # a payment still waiting has no outcome yet: "not successful yet" is the listed code for it
                body = {"LoaiBanTin": "QUERY", "MaLoi": pay["ma_loi"] or self.pending_code, "MaDoiTac": partner.code,
                        "MaThamChieu": pay["ref"], "SoTien": int(pay["paid_amount"] or pay["amount"]), "MaTienTe": "VND",
                        "MaGiaoDich": pay["txn_id"], "MaNganHang": pay["bank"], "ThoiGianGD": pay["txn_time"] or portal_time(),
                        "ThongTinGiaoDich": pay["init"].get("ThongTinGiaoDich", "")}
                body["MaXacThuc"] = self.sign("QUERY_REPLY" if "QUERY_REPLY" in self.orders else "IPN", body, partner.secret)
                body["TrangThaiGD"] = pay["state"]
                body["MoTaLoi"] = self.codes[body["MaLoi"]] if body["MaLoi"] != self.pending_code else \
                    "Giao dịch đang chờ thanh toán | payment pending"
                failed = (200, body)
        status, body = failed
        self._journal("QUERY", path, msg, status, body, start, dossier=dossier)
        return json_response(body, status)

    async def get_bill(self, request: Request) -> Response:
        start = time.perf_counter()
        path = self.paths["get_bill"]
        faulted = await self._faulted(path, "GET_BILL", None, start)
        if faulted:
            return faulted
        msg, partner, failed = await self._request(request, "PaymentGetBill", "GET_BILL", path)
        pay = None
        if failed is None:
            pay = self._find(partner.code, msg["MaThamChieu"])
            if pay is None:
                failed = self.reply("05", 404, {"MaDoiTac": partner.code, "MaThamChieu": msg["MaThamChieu"]})
            elif pay["state"] != PAID:
                failed = self.reply("07", 409, {"MaDoiTac": partner.code, "MaThamChieu": msg["MaThamChieu"]})
        if failed is not None:
            status, body = failed
            self._journal("GET_BILL", path, msg, status, body, start, dossier=pay["dossier"] if pay else "")
            return json_response(body, status)
        from mocks.receipt import render_receipt
        bank_name = next((b["TenNganHang"] for b in self.banks if b["MaNganHang"] == pay["bank"]), pay["bank"])
        pdf = await run_in_threadpool(render_receipt, pay, bank_name, self.portal.roles["sso"].key)
        self._journal("GET_BILL", path, msg, 200, {"content_type": "application/pdf", "bytes": len(pdf)}, start,
                      dossier=pay["dossier"])
        filename = f"bien-lai-{pay['ref']}.pdf".encode("ascii", "replace").decode()
        return Response(pdf, 200, media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{filename}"'})

    async def reconciliation(self, request: Request) -> Response:
        start = time.perf_counter()
        path = self.paths["reconciliation"]
        if request.method == "GET":
            msg: Any = dict(request.query_params)
            problems = self.portal.validators.problems("PaymentReconciliation", msg)
            partner = self.portal.settings.partner(msg.get("MaDoiTac", "")) if not problems else None
            failed = None
            if problems:
                failed = self.reply("03", 400, errors=problems, message=summary(problems, "Dữ liệu không hợp lệ", "Invalid"))
            elif partner is None:
                failed = self.reply("02", 401)
            elif not hmac.compare_digest(self.sign("DOISOAT", msg, partner.secret), msg["MaXacThuc"].lower()):
                failed = self.reply("01", 401)
        else:
            msg, partner, failed = await self._request(request, "PaymentReconciliation", "DOISOAT", path)
        if failed is None:
            failed = (200, self.reconciliation_listing(partner.code, msg["Ngay"]))
        status, body = failed
        self._journal("DOISOAT", path, msg, status, {k: v for k, v in body.items() if k != "DanhSachGiaoDich"}, start,
                      method=request.method)
        return json_response(body, status)

    def reconciliation_listing(self, partner: str, day: str) -> dict[str, Any]:
        """Every transaction of one partner on one day (yyyyMMdd, by transaction time), with totals."""
        rows = self.portal.store.query(
            "SELECT ref, txn_id, amount, paid_amount, bank, txn_time, state, ma_loi, dossier FROM payments"
            " WHERE partner=? AND day=? ORDER BY txn_time, ref", (partner, day))
        items = [{"MaThamChieu": r[0], "MaGiaoDich": r[1], "SoTien": int(r[3] if r[6] == PAID else r[2]),
                  "MaNganHang": r[4], "ThoiGianGD": r[5], "TrangThaiGD": r[6], "MaLoi": r[7], "MaHoSo": r[8]}
                 for r in rows]
        paid = [i for i in items if i["TrangThaiGD"] == PAID]
        return {"MaLoi": "00", "MoTaLoi": self.codes.get("00", ""), "MaDoiTac": partner, "Ngay": day,
                "SoGiaoDich": len(items), "SoGiaoDichThanhCong": len(paid), "TongTienThanhCong": sum(i["SoTien"] for i in paid),
                "DanhSachGiaoDich": items}

    # -- control view ----------------------------------------------------------------------------------------------
    def payments_view(self, ref: str | None = None, partner: str | None = None, dossier: str | None = None) -> list[dict]:
        where, params = [], []
        for col, val in (("ref", ref), ("partner", partner), ("dossier", dossier)):
            if val:
                where.append(f"{col}=?")
                params.append(val)
        sql = ("SELECT partner, ref, amount, paid_amount, dossier, state, ma_loi, bank, txn_id, txn_time, created_ts,"
               " completed_ts, init FROM payments")
        if where:
            sql += " WHERE " + " AND ".join(where)
        out = []
        for row in self.portal.store.query(sql + " ORDER BY created_ts", params):
            keys = ["MaDoiTac", "MaThamChieu", "SoTien", "SoTienDaThanhToan", "MaHoSo", "TrangThaiGD", "MaLoi",
                    "MaNganHang", "MaGiaoDich", "ThoiGianGD", "created", "completed", "init"]
            pay = dict(zip(keys, row))
            pay["init"] = loads(pay["init"])
            pay["ipn_attempts"] = [
                {"attempt": a, "ts": ts, "url": url, "request": loads(req), "status_code": sc,
                 "reply": loads(rep) if rep else None, "error": err, "adversarial": adv, "accepted": bool(acc),
                 "duration_ms": ms, "journal_id": jid}
                for a, ts, url, req, sc, rep, err, adv, acc, ms, jid in self.portal.store.query(
                    "SELECT attempt, ts, url, request, status_code, reply, error, adversarial, accepted, duration_ms,"
                    " journal_id FROM ipn_attempts WHERE partner=? AND ref=? ORDER BY id", (pay["MaDoiTac"], pay["MaThamChieu"]))]
            out.append(pay)
        return out


def build_router(portal: Portal) -> APIRouter:
    platform = PaymentPlatform(portal)
    p = platform.paths
    r = APIRouter(tags=["payment"])
    schema = lambda name: apidoc.message(portal.validators.schema(name))  # noqa: E731
    refusal = schema("PaymentInitReply")  # {MaLoi, MoTaLoi, loi}: every refusal of the platform
    bad, limited = apidoc.either(refusal, apidoc.LIMIT_ERROR), apidoc.either(apidoc.LIMIT_ERROR, refusal)
    listing = {"type": "object", "required": ["MaLoi"], "properties": {
        "MaLoi": apidoc.STRING, "MaDoiTac": apidoc.STRING, "Ngay": apidoc.STRING, "SoGiaoDich": apidoc.INTEGER,
        "DanhSachGiaoDich": {"type": "array", "items": apidoc.OBJECT}}}

    def body(name: str) -> dict:
        return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema(name)}}}}

    r.add_api_route(p["init"], platform.init, methods=["POST"], summary="INIT", openapi_extra=body("PaymentInit"),
                    responses=apidoc.answers({200: refusal, 400: bad, 401: refusal, 409: refusal, 413: limited,
                                              422: refusal}))
    r.add_api_route(p["query"], platform.query, methods=["POST"], summary="QUERY", openapi_extra=body("PaymentQuery"),
                    responses=apidoc.answers({200: schema("PaymentQueryReply"), 400: bad, 401: refusal, 404: refusal,
                                              413: limited, 422: refusal}))
    r.add_api_route(p["get_bill"], platform.get_bill, methods=["POST"], summary="GET_BILL (PDF)",
                    openapi_extra=body("PaymentGetBill"),
                    responses=apidoc.answers({200: {"type": "string", "format": "binary"}, 400: bad, 401: refusal,
                                              404: refusal, 409: refusal, 413: limited}, media={200: apidoc.PDF}))
    r.add_api_route(p["reconciliation"], platform.reconciliation, methods=["POST"], summary="Đối soát theo ngày",
                    openapi_extra=body("PaymentReconciliation"),
                    responses=apidoc.answers({200: listing, 400: bad, 401: refusal, 413: limited}))
    query = [{"name": k, "in": "query", "required": True, "schema": v}
             for k, v in schema("PaymentReconciliation")["properties"].items() if k in ("MaDoiTac", "Ngay", "MaXacThuc")]
    r.add_api_route(p["reconciliation"], platform.reconciliation, methods=["GET"], summary="Đối soát theo ngày (GET)",
                    name="reconciliation_get", openapi_extra={"parameters": query},
                    responses=apidoc.answers({200: listing, 400: refusal, 401: refusal}))
    r.add_api_route(p["pay_page"] + "/{token}", platform.pay_page, methods=["GET"], include_in_schema=False)
    r.add_api_route(p["pay_page"] + "/{token}", platform.pay_confirm, methods=["POST"], include_in_schema=False)
    return r
