"""The catalogue of seeded integration defects, and the one switchboard the code consults.

Every defect is a named switch checked with `defects.on("name")` at the single spot whose behaviour it
changes; with no switch on, the system behaves as a correct agency system.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable

CHECKS = ("sso", "submission", "payment", "processing", "security")


@dataclass(frozen=True)
class Defect:
    name: str
    check: str          # which of the checks must catch it
    rule: str           # clause or contract field broken
    description: str


CATALOGUE: tuple[Defect, ...] = (
    # --- SSO -------------------------------------------------------------------------------------------
    Defect("sso-state-not-verified", "sso", "OIDC code flow: state (RFC 6749 §10.12)",
           "The SSO callback does not compare the returned state with the one bound to the browser."),
    Defect("id-token-signature-not-verified", "sso", "ID token signature (JWKS of the portal)",
           "The ID token payload is trusted without checking its signature against the portal's JWKS."),
    Defect("id-token-issuer-not-verified", "sso", "ID token iss = {portal}/oauth2/token",
           "An ID token from any issuer is accepted."),
    Defect("id-token-audience-not-verified", "sso", "ID token aud contains our client_id",
           "An ID token issued to another client is accepted."),
    Defect("id-token-nonce-not-verified", "sso", "ID token nonce = nonce of the authorization request",
           "The nonce is neither sent nor compared, so a replayed ID token is accepted."),
    Defect("id-token-expiry-not-verified", "sso", "ID token exp in the future",
           "An expired ID token is accepted."),
    Defect("asks-second-login", "sso", "Kiểm tra SSO: không yêu cầu đăng nhập lại",
           "After returning from the portal's SSO the citizen must log in again with a local account."),
    Defect("logout-not-propagated", "sso", "OIDC logout: id_token_hint + post_logout_redirect_uri",
           "Logging out ends only the local session; the portal session stays open."),
    # --- Submission ------------------------------------------------------------------------------------
    Defect("missing-required-document", "submission", "TaiLieuNop / thành phần hồ sơ theo CSDLQG về TTHC",
           "The form omits a required document of each service (the first one not reusable from Kho DL)."),
    Defect("extra-document-demanded", "submission", "Thành phần hồ sơ theo CSDLQG về TTHC",
           "The form demands an extra document (household register) that the published procedure does not list."),
    Defect("dossier-code-random-suffix", "submission", "Thông tư 01/2018/TT-VPCP điều 19: mã số hồ sơ",
           "Dossier codes end with a random 5-digit suffix instead of the 4-digit daily sequence."),
    Defect("wrong-kenh-thuc-hien", "submission", "DongBoHoSoMC.KenhThucHien = 2 (trực tuyến)",
           "Online dossiers are synced with KenhThucHien = 1 (in person)."),
    Defect("wrong-ma-doi-tuong", "submission", "DongBoHoSoMC.MaDoiTuong = TechID",
           "MaDoiTuong carries the citizen's identity number instead of the portal TechID."),
    Defect("dates-wrong-timezone", "submission", "Ngày giờ yyyyMMddHHmmss theo giờ Asia/Ho_Chi_Minh",
           "Dates in dossier and progress syncs are written in UTC."),
    Defect("khodl-reuse-not-marked", "submission", "TaiLieuNop.DuocLayTuKhoDMQG / MaKetQuaThayThe",
           "A document reused from Kho DL is synced as an ordinary upload (not flagged, no result code)."),
    # --- Payment ---------------------------------------------------------------------------------------
    Defect("fee-mismatch", "payment", "SoTien = lệ phí công bố trên CSDLQG về TTHC",
           "The amount charged is 50,000 VND above the published fee."),
    Defect("payment-checksum-wrong", "payment", "INIT.MaXacThuc = sha256(fields|secret)",
           "The INIT checksum puts the shared secret first instead of last."),
    Defect("thoigiangd-12h-clock", "payment", "ThoiGianGD yyyyMMddHHmmss (24-hour clock)",
           "ThoiGianGD is formatted with a 12-hour clock, so afternoon times are wrong."),
    Defect("payment-ref-truncated", "payment", "MaThamChieu unique per dossier",
           "The payment reference is cut to 20 characters, so dossiers of the same day collide."),
    Defect("ipn-checksum-not-verified", "payment", "IPN MaXacThuc must be verified",
           "The payment callback is accepted whatever its checksum (the rejection is commented out)."),
    Defect("ipn-amount-not-checked", "payment", "IPN SoTien = amount of the INIT",
           "A callback reporting a different amount is accepted as full payment."),
    Defect("duplicate-ipn-processed", "payment", "IPN idempotent on repeats",
           "A repeated callback is processed again: the payment is recorded and synced twice."),
    Defect("no-online-payment", "payment", "DVC toàn trình có thu phí phải thanh toán trực tuyến",
           "The fee-charging fully-online service offers no online payment."),
    Defect("payment-status-not-synced", "payment", "Đồng bộ trạng thái thanh toán ngay khi trừ tiền",
           "A successful payment is recorded locally but never synced to the portal."),
    # --- Processing and sync ---------------------------------------------------------------------------
    Defect("status-out-of-range", "processing", "TrangThaiHoSo ∈ 1..10",
           "Returning the result is synced with status 11."),
    Defect("status-skipped", "processing", "Mỗi bước xử lý được đồng bộ (TrangThaiHoSo)",
           "The 'Xử lý' step (status 4) is never synced; the portal jumps from 2 to 9."),
    Defect("status-out-of-order", "processing", "TrangThaiHoSo theo đúng trình tự xử lý",
           "After the result is returned (10), a delayed approval update (9) is synced, moving the dossier back."),
    Defect("progress-before-dossier", "processing", "CapNhatTienDoHoSoMC chỉ sau khi DongBoHoSoMC thành công",
           "The first progress step is sent before the dossier itself exists on the portal."),
    Defect("result-without-file-link", "processing", "DanhSachGiayToKetQua.DuongDanTepTinKetQua",
           "The electronic result is synced without a link to the file."),
    Defect("result-without-type-code", "processing", "DanhSachGiayToKetQua.MaGiayToKetQua",
           "The electronic result is synced without its result-type code."),
    Defect("outbox-no-retry", "processing", "Đồng bộ bền vững: không mất cập nhật khi Cổng gián đoạn",
           "A sync that fails is dropped instead of retried, so a portal outage loses updates."),
    # --- Security / robustness -------------------------------------------------------------------------
    Defect("upload-type-not-checked", "security", "Tệp đính kèm: chỉ PDF/JPG/PNG, tối đa 5 MB",
           "Uploads of any type and size are accepted."),
    Defect("officer-pages-unauthenticated", "security", "Trang cán bộ yêu cầu đăng nhập",
           "The officer back office is reachable without logging in."),
    Defect("session-cookie-not-httponly", "security", "Cookie phiên: HttpOnly, SameSite",
           "The citizen session cookie is readable by scripts (no HttpOnly, no SameSite)."),
)

BY_NAME = {d.name: d for d in CATALOGUE}


class UnknownDefect(ValueError):
    pass


class Defects:
    """The set of switched-on defects. `on()` rejects names outside the catalogue to catch typos.

    `name@service` switches a defect on for one service only (the catalogue's service id): the spots that know
    which service they serve ask `on(name, service)`; a spot that does not know stays correct for it."""

    def __init__(self, names: Iterable[str] = ()):
        names = [n.strip() for n in names if n and n.strip()]
        unknown = [n for n in names if n.split("@", 1)[0] not in BY_NAME or n.endswith("@")]
        if unknown:
            raise UnknownDefect(f"unknown defect(s): {', '.join(unknown)}; see --list-defects")
        self.active = frozenset(names)
        self.everywhere = frozenset(n for n in names if "@" not in n)
        self.scoped: dict[str, frozenset[str]] = {}
        for n in names:
            if "@" in n:
                base, service = n.split("@", 1)
                self.scoped[base] = self.scoped.get(base, frozenset()) | {service}

    def on(self, name: str, service=None) -> bool:
        """Whether `name` is on (for `service`: its id or the catalogue entry, when the caller knows it)."""
        if name not in BY_NAME:
            raise UnknownDefect(name)
        if name in self.everywhere:
            return True
        service_id = getattr(service, "id", service)
        return service_id is not None and service_id in self.scoped.get(name, ())

    def __repr__(self) -> str:
        return f"Defects({sorted(self.active)})"


def catalogue_json() -> list[dict]:
    return [asdict(d) for d in CATALOGUE]


def catalogue_text() -> str:
    width = max(len(d.name) for d in CATALOGUE)
    lines = [f"{'name'.ljust(width)}  check       rule"]
    for d in CATALOGUE:
        lines.append(f"{d.name.ljust(width)}  {d.check.ljust(10)}  {d.rule}")
        lines.append(f"{''.ljust(width)}  {''.ljust(10)}  {d.description}")
    lines.append("")
    lines.append("name@service (e.g. fee-mismatch@lltp-cap-phieu): on for that service only, where the defect is "
                 "tied to a service (documents, fee, payment offer, the dossier's KenhThucHien/MaDoiTuong).")
    return "\n".join(lines)
