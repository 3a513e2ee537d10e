"""PDF receipt (biên lai) of a paid transaction, with a detached signature over its fields (the bank's
digital signature, simulated with the run's key)."""

from __future__ import annotations

import io
import textwrap
from functools import lru_cache
from pathlib import Path
from typing import Any

from joserfc import jws

from mocks.jsonutil import dumpb

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


@lru_cache(maxsize=1)
def _fonts() -> tuple[str, str]:
    """Unicode fonts for Vietnamese text; Helvetica when DejaVu is not installed."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    regular, bold = FONT_DIR / "DejaVuSans.ttf", FONT_DIR / "DejaVuSans-Bold.ttf"
    if regular.is_file() and bold.is_file():
        pdfmetrics.registerFont(TTFont("DejaVu", str(regular)))
        pdfmetrics.registerFont(TTFont("DejaVu-Bold", str(bold)))
        return "DejaVu", "DejaVu-Bold"
    return "Helvetica", "Helvetica-Bold"


def money(value: int) -> str:
    return f"{int(value):,}".replace(",", ".") + " VND"


def receipt_fields(pay: dict[str, Any], bank_name: str) -> dict[str, str]:
    receipt = pay["init"].get("ThongTinBienLai", {})
    return {
        "Đơn vị thu": receipt.get("TenDonVi") or receipt.get("MaDonVi", ""),
        "Mã hồ sơ": pay["dossier"],
        "Thủ tục": receipt.get("TenTTHC", ""),
        "Dịch vụ công": receipt.get("TenDVC", ""),
        "Người nộp": receipt.get("HoTenNguoiNop", ""),
        "Số giấy tờ người nộp": receipt.get("SoCMNDNguoiNop", ""),
        "Nội dung": receipt.get("NoiDungThanhToan") or pay["init"].get("ThongTinGiaoDich", ""),
        "Số tiền": money(pay["paid_amount"] or pay["amount"]),
        "Ngân hàng": bank_name,
        "Mã giao dịch": pay["txn_id"],
        "Mã tham chiếu": pay["ref"],
        "Thời gian giao dịch": pay["txn_time"],
    }


def render_receipt(pay: dict[str, Any], bank_name: str, key) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    regular, bold = _fonts()
    fields = receipt_fields(pay, bank_name)
    signature = jws.serialize_compact({"alg": "RS256", "kid": key.kid}, dumpb(fields), key)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(f"Biên lai {pay['ref']}")
    c.setAuthor(bank_name)
    c.setSubject("Biên lai thu phí, lệ phí — Nền tảng thanh toán Cổng DVCQG (giả lập)")
    width, height = A4
    y = height - 60
    c.setFont(bold, 16)
    c.drawCentredString(width / 2, y, "BIÊN LAI THU PHÍ, LỆ PHÍ")
    y -= 20
    c.setFont(regular, 10)
    c.drawCentredString(width / 2, y, "(Biên lai điện tử — Nền tảng thanh toán Cổng Dịch vụ công quốc gia)")
    y -= 36
    for label, value in fields.items():
        c.setFont(bold, 11)
        c.drawString(60, y, f"{label}:")
        c.setFont(regular, 11)
        for line in textwrap.wrap(str(value), 60) or [""]:
            c.drawString(220, y, line)
            y -= 16
        y -= 4
    fees = pay["init"].get("ThongTinBienLai", {}).get("PhiLePhi", [])
    if fees:
        y -= 8
        c.setFont(bold, 11)
        c.drawString(60, y, "Chi tiết phí, lệ phí:")
        y -= 18
        c.setFont(regular, 10)
        for f in fees:
            kind = "Phí" if str(f.get("LoaiPhiLePhi")) == "1" else "Lệ phí"
            c.drawString(80, y, f"{kind}: {f.get('TenPhiLePhi', '')} — {money(f.get('SoTien', 0))}")
            y -= 16
    y -= 20
    c.setFont(bold, 10)
    c.drawString(60, y, f"Ký số bởi: {bank_name} (chữ ký số giả lập, RS256, kid {key.kid[:16]}…)")
    y -= 16
    c.setFont(regular, 7)
    for line in textwrap.wrap(signature, 110)[:8]:
        c.drawString(60, y, line)
        y -= 10
    c.showPage()
    c.save()
    return buf.getvalue()
