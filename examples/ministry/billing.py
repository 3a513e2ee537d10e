"""Paying a dossier's fee through the portal's payment platform: INIT, the IPN (authoritative), the browser
return, and QUERY when the IPN is late. A confirmed payment is synced to the portal right away."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from examples.ministry import dossiers, payment
from examples.ministry.catalogue import charged_fee_items, offers_online_payment
from examples.ministry.timeutil import payment_time

log = logging.getLogger("ministry.billing")

PAID_STATES = {"1", "00", "PAID", "SUCCESS", "THANH_CONG"}  # mock: 0 chờ, 1 đã thanh toán, 2 lỗi


class PaymentError(Exception):
    """Shown to the citizen (Vietnamese)."""


# --- INIT -----------------------------------------------------------------------------------------------
def start_payment(ctx, code: str, user_id: int, ip: str) -> str:
    """Create a payment for the dossier's fee and return the platform's payment page URL."""
    d = dossiers.load(ctx, code)
    if d is None or d.row["user_id"] != user_id:
        raise PaymentError("Không tìm thấy hồ sơ của bạn.")
    if not offers_online_payment(d.service, ctx.defects):
        raise PaymentError("Dịch vụ này không thu phí trực tuyến.")
    if d.row["paid"]:
        raise PaymentError("Hồ sơ đã được thanh toán.")
    now = ctx.clock.now()
    amount = int(d.row["fee_amount"])
    when = payment_time(now, ctx.defects)
    with ctx.db.transaction() as conn:
        ref = _open_payment(conn, code, amount, when, ctx.defects)
    message = payment.build_init(ctx.settings, ctx.defects, ref=ref, amount=amount, when=when, ip=ip,
                                 receipt=_receipt(ctx, d, amount),
                                 description=f"Thanh toan le phi ho so {code}")
    try:
        reply = payment.post_message(ctx.settings, ctx.http, "payment_init", message)
    except payment.PaymentPlatformError as exc:
        raise PaymentError(f"Không khởi tạo được giao dịch: {exc}.") from None
    if str(reply.get("MaLoi")) != payment.OK or not reply.get("UrlThanhToan"):
        raise PaymentError(f"Nền tảng thanh toán từ chối giao dịch (mã lỗi {reply.get('MaLoi', '?')}: "
                           f"{reply.get('MoTaLoi', '')}).")
    return str(reply["UrlThanhToan"])


def _open_payment(conn, code: str, amount: int, when: str, defects) -> str:
    """The reference to pay with: the dossier's unfinished payment again (a second click must not open a second
    payment), else a new attempt (after a failed, cancelled or wrongly-debited one)."""
    last = conn.execute("SELECT ref, status, amount FROM payments WHERE dossier_code=? ORDER BY attempt DESC LIMIT 1",
                        (code,)).fetchone()
    if last and last["status"] == "initiated" and last["amount"] == amount:
        conn.execute("UPDATE payments SET init_time=? WHERE ref=?", (when, last["ref"]))
        return last["ref"]
    attempt = conn.execute("SELECT COUNT(*) FROM payments WHERE dossier_code=?", (code,)).fetchone()[0] + 1
    ref = payment.payment_ref(code, attempt, defects)
    conn.execute("INSERT OR REPLACE INTO payments(ref, dossier_code, attempt, amount, status, init_time, created_at)"
                 " VALUES (?,?,?,?, 'initiated', ?, ?)", (ref, code, attempt, amount, when, time.time()))
    return ref


def _receipt(ctx, d, amount: int) -> dict[str, Any]:
    s, u, settings = d.service, d.user, ctx.settings
    items = charged_fee_items(s, ctx.defects)
    content = f"Nộp lệ phí hồ sơ {d.code}"
    return {
        "MaDichVu": "1",
        "MaDVC": s["MaDVC"], "TenDVC": s["TenDVC"], "MaTTHC": s["MaTTHC"], "TenTTHC": s["TenTTHC"],
        "MaDonVi": settings.agency_code, "TenDonVi": settings.agency_name,
        "MaHoSo": d.code,
        "TKThuHuong": settings.beneficiary_account, "MaNHThuHuong": settings.beneficiary_bank,
        "TenTKThuHuong": settings.beneficiary_name,
        "NoiDungThanhToan": content,
        "HoTenNguoiNop": u["ho_va_ten"] or "", "SoCMNDNguoiNop": u["so_dinh_danh"] or "",
        "DiaChiNguoiNop": u["dia_chi"] or "",
        "PhiLePhi": [{"LoaiPhiLePhi": str(i["LoaiPhiLePhi"]), "MaPhiLePhi": i["MaPhiLePhi"],
                      "TenPhiLePhi": i["TenPhiLePhi"], "SoTien": str(i["SoTien"])} for i in items],
        "DSKhoanNop": [{"NoiDung": i["TenPhiLePhi"], "SoTien": str(i["SoTien"])} for i in items]
        or [{"NoiDung": content, "SoTien": str(amount)}],
    }


# --- IPN ------------------------------------------------------------------------------------------------
@dataclass
class Verdict:
    ok: bool
    description: str


def handle_ipn(ctx, message: dict[str, Any]) -> dict[str, Any]:
    """Process the platform's server-to-server callback; the reply's MaLoi is what the platform acts on."""
    verdict = _process_callback(ctx, message, source="IPN")
    log.info("IPN %s: %s", message.get("MaThamChieu"), verdict.description)
    return {
        "MaLoi": payment.OK if verdict.ok else "99",
        "MoTaLoi": verdict.description,
        "MaDoiTac": ctx.settings.payment_partner,
        "MaThamChieu": str(message.get("MaThamChieu", "")),
        "ThoiGianGD": str(message.get("ThoiGianGD", "")),
        "MaXacThuc": str(message.get("MaXacThuc", "")),
    }


def _process_callback(ctx, message: dict[str, Any], source: str) -> Verdict:
    settings, defects = ctx.settings, ctx.defects
    if not defects.on("ipn-checksum-not-verified"):
        if not payment.checksum_ok(message, payment.IPN_FIELDS, settings.payment_secret):
            return Verdict(False, "Sai mã xác thực")
    if str(message.get("MaDoiTac", "")) != settings.payment_partner:
        return Verdict(False, "Sai mã đối tác")
    ref = str(message.get("MaThamChieu", ""))
    row = ctx.db.one("SELECT * FROM payments WHERE ref=?", ref)
    if row is None:
        return Verdict(False, "Không tìm thấy giao dịch")
    if not defects.on("ipn-amount-not-checked") and payment.amount_of(message.get("SoTien")) != row["amount"]:
        # the platform closed this reference with a wrong amount: the citizen's next try needs a new one
        ctx.db.run("UPDATE payments SET status='amount_mismatch' WHERE ref=? AND status='initiated'", ref)
        return Verdict(False, "Số tiền không khớp")
    ctx.db.run("UPDATE payments SET ipn_count = ipn_count + 1 WHERE ref=?", ref)
    if str(message.get("MaLoi")) != payment.OK:
        return _record_failure(ctx, row)
    return _record_paid(ctx, ref, message, source)


def _record_failure(ctx, row) -> Verdict:
    if row["status"] == "paid":
        return Verdict(True, "Giao dịch đã được ghi nhận thành công trước đó")
    ctx.db.run("UPDATE payments SET status='failed' WHERE ref=? AND status='initiated'", row["ref"])
    return Verdict(True, "Đã ghi nhận giao dịch không thành công")


def _record_paid(ctx, ref: str, message: dict[str, Any], source: str) -> Verdict:
    """Mark the payment and dossier paid and queue the sync; exactly once unless the defect is on."""
    now = ctx.clock.now()
    with ctx.db.transaction() as conn:
        row = conn.execute("SELECT * FROM payments WHERE ref=?", (ref,)).fetchone()
        repeat = row["status"] == "paid"
        if repeat and not ctx.defects.on("duplicate-ipn-processed"):
            return Verdict(True, "Giao dịch đã được ghi nhận trước đó")
        conn.execute("UPDATE payments SET status='paid', paid_at=?, transaction_id=?, bank_code=?,"
                     " processed_count = processed_count + 1 WHERE ref=?",
                     (now.isoformat(), str(message.get("MaGiaoDich", "")), str(message.get("MaNganHang", "")), ref))
        code = row["dossier_code"]
        conn.execute("UPDATE dossiers SET paid=1, paid_at=?, updated_at=? WHERE code=?",
                     (now.isoformat(), now.isoformat(), code))
        content = (f"Đã thanh toán trực tuyến {row['amount']:,} đồng".replace(",", ".")
                   + f" (mã giao dịch {message.get('MaGiaoDich', '')})")
        d = dossiers.load(ctx, code, conn)
        dossiers.add_history(conn, code, d.status, content, "Nền tảng thanh toán", now, source)
        if not ctx.defects.on("payment-status-not-synced"):
            dossiers.queue_sync(ctx, conn, code, content, dossiers.system_actor(), now)
    ctx.wake.set()
    return Verdict(True, "Thành công")


# --- browser return and QUERY ------------------------------------------------------------------------
@dataclass
class ReturnOutcome:
    state: str            # success | failure | pending
    dossier_code: str
    detail: str


def handle_return(ctx, params: dict[str, Any]) -> ReturnOutcome:
    """What to tell the citizen back from the payment page; the IPN (or QUERY) decides, not the URL."""
    ref = str(params.get("MaThamChieu", ""))
    row = ctx.db.one("SELECT * FROM payments WHERE ref=?", ref)
    code = row["dossier_code"] if row else ""
    if not payment.checksum_ok(params, payment.IPN_FIELDS, ctx.settings.payment_secret):
        return ReturnOutcome("failure", code, "Dữ liệu trả về từ Nền tảng thanh toán không hợp lệ (sai mã xác thực).")
    if row is None:
        return ReturnOutcome("failure", code, "Không tìm thấy giao dịch.")
    if str(params.get("MaLoi")) != payment.OK:
        return ReturnOutcome("failure", code, f"Giao dịch không thành công (mã lỗi {params.get('MaLoi')}).")
    if row["status"] != "paid":
        query_payment(ctx, ref)
        row = ctx.db.one("SELECT * FROM payments WHERE ref=?", ref)
    if row["status"] == "paid":
        return ReturnOutcome("success", code, "Lệ phí đã được ghi nhận.")
    return ReturnOutcome("pending", code, "Hệ thống đang chờ xác nhận từ Nền tảng thanh toán.")


def query_payment(ctx, ref: str) -> bool:
    """Ask the platform about a payment whose IPN has not arrived; records it when paid."""
    ctx.db.run("UPDATE payments SET last_query_at=? WHERE ref=?", time.time(), ref)
    message = payment.build_query(ctx.settings, ref=ref, when=payment_time(ctx.clock.now(), ctx.defects))
    try:
        reply = payment.post_message(ctx.settings, ctx.http, "payment_query", message)
    except payment.PaymentPlatformError as exc:
        log.warning("QUERY %s thất bại: %s", ref, exc)
        return False
    if reply.get("MaXacThuc") and not payment.checksum_ok(reply, payment.IPN_FIELDS, ctx.settings.payment_secret):
        log.warning("QUERY %s: sai mã xác thực trong phản hồi", ref)
        return False
    if str(reply.get("MaLoi")) != payment.OK or str(reply.get("TrangThaiGD", "00")).upper() not in PAID_STATES:
        return False
    row = ctx.db.one("SELECT * FROM payments WHERE ref=?", ref)
    if payment.amount_of(reply.get("SoTien", row["amount"])) != row["amount"]:
        log.warning("QUERY %s: số tiền không khớp", ref)
        return False
    if row["status"] != "paid":
        _record_paid(ctx, ref, reply, "QUERY")
    return True


def query_late_payments(ctx) -> int:
    """Periodic job: QUERY initiated payments whose IPN is overdue (at most once per interval)."""
    settings = ctx.settings
    cutoff = time.time() - settings.payment_query_after_s
    rows = ctx.db.all("SELECT ref FROM payments WHERE status='initiated' AND created_at < ? AND "
                      "(last_query_at IS NULL OR last_query_at < ?) AND created_at > ?",
                      cutoff, cutoff, time.time() - 86400)
    for r in rows:
        query_payment(ctx, r["ref"])
    return 0  # never keeps the worker busy
