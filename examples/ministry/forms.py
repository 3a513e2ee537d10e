"""Server-side checks of the submission wizard, with messages a citizen can act on."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from examples.ministry.adapter import AdapterError
from examples.ministry.dossiers import NewDocument

ALLOWED_TYPES = {
    ".pdf": (b"%PDF",),
    ".jpg": (b"\xff\xd8\xff",),
    ".jpeg": (b"\xff\xd8\xff",),
    ".png": (b"\x89PNG\r\n\x1a\n",),
}
CONSENT_TEXT = "Tôi xin cam đoan những thông tin khai trên là đúng sự thật"


def validate_fields(service, form: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    values, errors = {}, []
    for f in service.fields:
        value = (form.get(f["name"]) or "").strip()
        values[f["name"]] = value
        if f.get("required") and not value:
            errors.append(f"Vui lòng nhập “{f['label']}”.")
        elif len(value) > 500:
            errors.append(f"“{f['label']}” quá dài (tối đa 500 ký tự).")
    return values, errors


@dataclass
class Upload:
    filename: str
    content: bytes
    truncated: bool      # the file was larger than the limit (content cut)


def upload_error(doc: dict[str, Any], upload: Upload, max_bytes: int, checks_on: bool) -> str | None:
    """Why an uploaded file is refused, or None."""
    if not checks_on:
        return None
    name = doc["TenThanhPhanHoSo"]
    suffix = Path(upload.filename).suffix.lower()
    signatures = ALLOWED_TYPES.get(suffix)
    if signatures is None or not upload.content.startswith(signatures):
        return (f"Tệp “{upload.filename}” của “{name}” không đúng định dạng: chỉ chấp nhận tệp PDF, JPG hoặc PNG.")
    if upload.truncated or len(upload.content) > max_bytes:
        return f"Tệp “{upload.filename}” của “{name}” vượt quá dung lượng cho phép (tối đa 5 MB)."
    return None


def safe_file_name(name: str) -> str:
    base = Path(name).name or "tep"
    return re.sub(r"[^\w.\-]+", "_", base)[:120]


def store_upload(folder: Path, upload: Upload) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(8)}-{safe_file_name(upload.filename)}"
    path.write_bytes(upload.content)
    return str(path)


def khodl_document(ctx, user, service, doc: dict[str, Any]) -> NewDocument | None:
    """The citizen's result document of the right type from Kho DL, to reuse instead of an upload."""
    code = doc["khodl_result_code"]
    fields = {
        "SoDinhDanhChuSoHuu": user["so_dinh_danh"] or "",
        "HoTenNguoiYeuCau": user["ho_va_ten"] or "",
        "KenhThucHien": "2",
        "SoDinhDanhNguoiYeuCau": user["so_dinh_danh"] or "",
        "MaThuTuc": service["MaTTHC"],
        "DanhSachDanhMucKetQua": [{"MaKetQua": code, "SoKyHieu": ""}],
    }
    try:
        reply = ctx.adapter.call("khodl_get", "GetKetQuaGiayTo", fields)
    except AdapterError:
        return None
    result = reply.get("result") or {}
    papers = result.get("DanhSachGiayToKetQua", []) if isinstance(result, dict) else []
    for paper in papers:
        if paper.get("MaKetQua") == code and paper.get("DanhSachTepDinhKem"):
            attachment = paper["DanhSachTepDinhKem"][0]
            return NewDocument(doc["MaThanhPhanHoSo"], doc["TenThanhPhanHoSo"],
                               attachment.get("TenTep") or f"{code}.pdf", from_khodl=True, khodl_code=code,
                               khodl_url=attachment.get("DuongDan", ""))
    return None
