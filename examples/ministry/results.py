"""The electronic result (PDF) issued on approval, carrying the result-type code."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
FONT_BOLD_PATH = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
_fonts_ready = False


def _register_fonts() -> None:
    global _fonts_ready
    if not _fonts_ready:
        pdfmetrics.registerFont(TTFont("DejaVu", FONT_PATH))
        pdfmetrics.registerFont(TTFont("DejaVu-Bold", FONT_BOLD_PATH))
        _fonts_ready = True


def issue_result(ctx, dossier, now: datetime) -> tuple[str, str, str]:
    """Write the result PDF; returns (public token, file path, result id)."""
    folder = ctx.settings.data_dir / "ket-qua"
    folder.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(18)
    result_id = f"KQ-{dossier.code}"
    path = folder / f"{dossier.code}.pdf"
    write_result_pdf(path, ctx.settings.agency_name, dossier.service, dossier.code, dossier.user["ho_va_ten"] or "",
                     dossier.fields, now, ctx.settings.officer_name)
    return token, str(path), result_id


def write_result_pdf(path: Path, agency_name: str, service, code: str, holder: str, fields: dict[str, str],
                     when: datetime, signer: str) -> None:
    _register_fonts()
    result = service.result
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle(f"{result['TenGiayTo']} - {code}")
    c.setSubject(result["MaGiayToKetQua"])
    c.setKeywords([result["MaGiayToKetQua"], code])
    width, height = A4
    y = height - 25 * mm
    c.setFont("DejaVu-Bold", 11)
    c.drawString(20 * mm, y, agency_name.upper())
    c.drawRightString(width - 20 * mm, y, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    y -= 6 * mm
    c.setFont("DejaVu", 10)
    c.drawRightString(width - 20 * mm, y, "Độc lập - Tự do - Hạnh phúc")
    y -= 20 * mm
    c.setFont("DejaVu-Bold", 16)
    c.drawCentredString(width / 2, y, result["TenGiayTo"].upper())
    y -= 12 * mm
    c.setFont("DejaVu", 11)
    lines = [
        f"Mã loại kết quả: {result['MaGiayToKetQua']}",
        f"Mã số hồ sơ: {code}",
        f"Thủ tục: {service['TenTTHC']}",
        f"Cấp cho: {holder}",
    ]
    lines += [f"{f['label']}: {fields.get(f['name'], '')}" for f in service.fields if fields.get(f["name"])]
    lines.append(f"Ngày cấp: {when.strftime('%d/%m/%Y %H:%M')}")
    for line in lines:
        c.drawString(25 * mm, y, line[:110])
        y -= 8 * mm
    y -= 10 * mm
    c.drawRightString(width - 25 * mm, y, "NGƯỜI KÝ")
    y -= 6 * mm
    c.drawRightString(width - 25 * mm, y, signer)
    c.showPage()
    c.save()
