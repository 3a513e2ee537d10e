"""Messages of the portal's payment platform: checksums, INIT, QUERY, and checking a callback (IPN)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx

from examples.ministry.config import Settings
from examples.ministry.defects import Defects

VERSION = "1.0.6"
OK = "00"
REF_MAX_WHEN_TRUNCATED = 20

# Field orders of MaXacThuc (profile dvcqg-1.0, payment.checksum).
INIT_FIELDS = ["LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "SoTien", "LoaiHinhThanhToan", "MaKenhThanhToan",
               "MaThietBi", "NgonNgu", "MaTienTe", "MaNganHang", "ThongTinGiaoDich", "ThoiGianGD", "Ip"]
IPN_FIELDS = ["LoaiBanTin", "MaLoi", "MaDoiTac", "MaThamChieu", "SoTien", "MaTienTe", "MaGiaoDich", "MaNganHang",
              "ThoiGianGD", "ThongTinGiaoDich"]
QUERY_FIELDS = ["LoaiBanTin", "PhienBan", "MaDoiTac", "MaThamChieu", "ThoiGianGD"]


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def checksum(message: dict[str, Any], fields: list[str], secret: str) -> str:
    """Lowercase hex SHA-256 of the listed fields joined by '|', the shared secret appended last."""
    joined = "|".join([_text(message.get(f)) for f in fields] + [secret])
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def checksum_ok(message: dict[str, Any], fields: list[str], secret: str) -> bool:
    given = _text(message.get("MaXacThuc")).lower()
    return bool(given) and hmac.compare_digest(given, checksum(message, fields, secret))


def payment_ref(dossier_code: str, attempt: int, defects: Defects) -> str:
    """MaThamChieu: the dossier code, with the attempt number after the first try."""
    ref = dossier_code if attempt <= 1 else f"{dossier_code}-{attempt:02d}"
    if defects.on("payment-ref-truncated"):
        ref = ref[:REF_MAX_WHEN_TRUNCATED]
    return ref


def init_checksum(message: dict[str, Any], secret: str, defects: Defects) -> str:
    if defects.on("payment-checksum-wrong"):
        # secret first instead of last: a mistake seen in a real integration
        joined = "|".join([secret] + [_text(message.get(f)) for f in INIT_FIELDS])
        return hashlib.sha256(joined.encode("utf-8")).hexdigest()
    return checksum(message, INIT_FIELDS, secret)


def build_init(settings: Settings, defects: Defects, *, ref: str, amount: int, when: str, ip: str,
               receipt: dict[str, Any], description: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "LoaiBanTin": "INIT",
        "PhienBan": VERSION,
        "MaDoiTac": settings.payment_partner,
        "MaThamChieu": ref,
        "SoTien": str(amount),
        "LoaiHinhThanhToan": "PAY",
        "MaKenhThanhToan": "1",
        "MaThietBi": "1",
        "NgonNgu": "vi-VN",
        "MaTienTe": "VND",
        "MaNganHang": "",
        "ThongTinGiaoDich": description,
        "ThoiGianGD": when,
        "Ip": ip,
    }
    message["MaXacThuc"] = init_checksum(message, settings.payment_secret, defects)
    message["ThongTinBienLai"] = receipt
    return message


def build_query(settings: Settings, *, ref: str, when: str) -> dict[str, Any]:
    message = {"LoaiBanTin": "QUERY", "PhienBan": VERSION, "MaDoiTac": settings.payment_partner,
               "MaThamChieu": ref, "ThoiGianGD": when}
    message["MaXacThuc"] = checksum(message, QUERY_FIELDS, settings.payment_secret)
    return message


class PaymentPlatformError(Exception):
    pass


def post_message(settings: Settings, http: httpx.Client, path_key: str, message: dict[str, Any]) -> dict[str, Any]:
    try:
        resp = http.post(settings.portal(path_key), json=message)
    except httpx.HTTPError as exc:
        raise PaymentPlatformError(f"không kết nối được Nền tảng thanh toán ({type(exc).__name__})") from None
    try:
        body = resp.json()
    except ValueError:
        body = {}
    if resp.status_code >= 500 or not isinstance(body, dict):
        raise PaymentPlatformError(f"Nền tảng thanh toán lỗi HTTP {resp.status_code}")
    return body


def amount_of(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
