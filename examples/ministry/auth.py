"""Citizen login through the portal's SSO, citizen/officer sessions, and the mapping of portal users by TechID."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from examples.ministry import sso
from examples.ministry.db import dumps
from examples.ministry.sso import SSOError

CITIZEN_COOKIE = "btp_phien"
OFFICER_COOKIE = "btp_canbo"
SSO_COOKIE = "btp_sso"
LOGIN_REQUEST_TTL_S = 600
ACR_ORDER = ["LoA1", "LoA2", "LoA3", "LoA4"]


def acr_rank(acr: str | None) -> int:
    return ACR_ORDER.index(acr) if acr in ACR_ORDER else -1


def acr_satisfies(actual: str | None, required: str | None) -> bool:
    """An unknown level on either side is not held against the citizen (no endless step-up loop)."""
    if acr_rank(actual) < 0 or acr_rank(required) < 0:
        return True
    return acr_rank(actual) >= acr_rank(required)


def safe_return_path(path: str | None) -> str:
    """Only local paths: never redirect a citizen to another site after login."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


# --- starting a login ---------------------------------------------------------------------------------
def begin_login(ctx, return_to: str, acr: str) -> tuple[str, str]:
    """Store a login request; returns (authorize URL, state to bind to the browser)."""
    request = sso.new_login_request()
    ctx.db.run("INSERT INTO sso_requests(state, nonce, code_verifier, return_to, acr, created_at) VALUES (?,?,?,?,?,?)",
               request.state, request.nonce, request.code_verifier, safe_return_path(return_to), acr, time.time())
    return sso.authorize_url(ctx.settings, request, acr, ctx.defects), request.state


# --- finishing a login --------------------------------------------------------------------------------
@dataclass
class LoginResult:
    user_id: int
    id_token: str
    acr: str
    return_to: str


def _pending_request(ctx, state: str, cookie_state: str | None):
    if ctx.defects.on("sso-state-not-verified"):
        for candidate in (cookie_state, state):
            row = ctx.db.one("SELECT * FROM sso_requests WHERE state=?", candidate or "")
            if row:
                return row
        return None
    if not state or not cookie_state or not hmac.compare_digest(state, cookie_state):
        raise SSOError("Tham số state không khớp với yêu cầu đăng nhập của trình duyệt này.")
    row = ctx.db.one("SELECT * FROM sso_requests WHERE state=?", state)
    if row is None or row["used"] or row["created_at"] < time.time() - LOGIN_REQUEST_TTL_S:
        raise SSOError("Yêu cầu đăng nhập không tồn tại, đã dùng hoặc đã hết hạn.")
    return row


def complete_login(ctx, params: dict[str, str], cookie_state: str | None) -> LoginResult:
    if params.get("error"):
        raise SSOError(f"Cổng DVCQG trả lỗi: {params.get('error')} {params.get('error_description', '')}".strip())
    request = _pending_request(ctx, params.get("state", ""), cookie_state)
    if request is not None:
        ctx.db.run("UPDATE sso_requests SET used=1 WHERE state=?", request["state"])
    code = params.get("code", "")
    if not code:
        raise SSOError("Thiếu mã xác thực (code) trong phản hồi của Cổng DVCQG.")
    tokens = sso.exchange_code(ctx.settings, ctx.http, code, request["code_verifier"] if request else "")
    claims = sso.verify_id_token(ctx.settings, ctx.jwks, tokens["id_token"],
                                 request["nonce"] if request else None, ctx.defects)
    if request is not None and not acr_satisfies(claims.get("acr"), request["acr"]):
        raise SSOError(f"Dịch vụ yêu cầu mức độ xác thực {request['acr']}; tài khoản mới đăng nhập ở mức "
                       f"{claims.get('acr')}.")
    info = sso.fetch_userinfo(ctx.settings, ctx.http, tokens["access_token"])
    if info.get("sub") and str(info["sub"]) != str(claims["sub"]):
        raise SSOError("Thông tin người dùng không khớp với ID token.")
    user_id = upsert_user(ctx, info)
    return LoginResult(user_id, tokens["id_token"], str(claims.get("acr", "")),
                       request["return_to"] if request else "/")


def upsert_user(ctx, info: dict[str, Any]) -> int:
    """Our account for a portal user, keyed by TechID (stable across logins)."""
    now = ctx.clock.now().isoformat()
    values = (info.get("HoVaTen") or info.get("TenDoanhNghiep") or "", info.get("SoDinhDanh") or info.get("SoCMND") or "",
              str(info.get("LoaiTaiKhoan") or "1"), info.get("ThuDienTu") or "", info.get("SoDienThoai") or "",
              info.get("ThuongTru") or info.get("DiaChi") or "", dumps(info), now)
    with ctx.db.transaction() as conn:
        row = conn.execute("SELECT id FROM users WHERE tech_id=?", (str(info["TechID"]),)).fetchone()
        if row:
            conn.execute("UPDATE users SET ho_va_ten=?, so_dinh_danh=?, loai_tai_khoan=?, email=?, so_dien_thoai=?,"
                         " dia_chi=?, claims_json=?, last_login_at=? WHERE id=?", (*values, row["id"]))
            return row["id"]
        cur = conn.execute("INSERT INTO users(ho_va_ten, so_dinh_danh, loai_tai_khoan, email, so_dien_thoai, dia_chi,"
                           " claims_json, last_login_at, tech_id, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                           (*values, str(info["TechID"]), now))
        return cur.lastrowid


# --- sessions -----------------------------------------------------------------------------------------
def create_session(ctx, kind: str, user_ref: str, id_token: str | None = None, acr: str = "") -> str:
    session_id = secrets.token_urlsafe(32)
    now = time.time()
    ctx.db.run("INSERT INTO sessions(id, kind, user_ref, id_token, acr, created_at, expires_at) VALUES (?,?,?,?,?,?,?)",
               session_id, kind, user_ref, id_token, acr, now, now + ctx.settings.session_ttl_s)
    return session_id


def get_session(ctx, session_id: str | None, kind: str):
    if not session_id:
        return None
    row = ctx.db.one("SELECT * FROM sessions WHERE id=? AND kind=?", session_id, kind)
    if row is None or row["expires_at"] < time.time():
        return None
    return row


def end_session(ctx, session_id: str | None) -> None:
    if session_id:
        ctx.db.run("DELETE FROM sessions WHERE id=?", session_id)


def current_citizen(ctx, session_id: str | None):
    """(session, user) of the logged-in citizen, or None."""
    session = get_session(ctx, session_id, "citizen")
    if session is None:
        return None
    user = ctx.db.one("SELECT * FROM users WHERE id=?", int(session["user_ref"]))
    return (session, user) if user else None


def officer_credentials_ok(ctx, username: str, password: str) -> bool:
    s = ctx.settings
    if not s.officer_password:
        return False
    return hmac.compare_digest(username.encode(), s.officer_user.encode()) and \
        hmac.compare_digest(password.encode(), s.officer_password.encode())
