"""OpenID Connect client for the portal's SSO (authorization code flow, PKCE, ID token checked with JWKS)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from examples.ministry.config import Settings
from examples.ministry.defects import Defects

CLOCK_SKEW_S = 60
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384"]


class SSOError(Exception):
    """Login cannot complete; `reason` is shown to the citizen (Vietnamese)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class LoginRequest:
    state: str
    nonce: str
    code_verifier: str


def new_login_request() -> LoginRequest:
    return LoginRequest(secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48))


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(settings: Settings, request: LoginRequest, acr: str, defects: Defects) -> str:
    params = {
        "response_type": "code",
        "client_id": settings.sso_client_id,
        "redirect_uri": settings.public("/sso/callback"),
        "scope": "openid",
        "acr_values": acr,
        "state": request.state,
        "code_challenge": code_challenge(request.code_verifier),
        "code_challenge_method": "S256",
    }
    if not defects.on("id-token-nonce-not-verified"):
        params["nonce"] = request.nonce
    return settings.portal("sso_authorize") + "?" + urlencode(params)


def logout_url(settings: Settings, id_token: str | None) -> str:
    params = {"post_logout_redirect_uri": settings.public("/"), "state": secrets.token_urlsafe(12)}
    if id_token:
        params["id_token_hint"] = id_token
    return settings.portal("sso_logout") + "?" + urlencode(params)


class JWKSCache:
    """The portal's signing keys, refetched when a token names an unknown key id."""

    def __init__(self, settings: Settings, http: httpx.Client):
        self.settings, self.http = settings, http
        self._keys: KeySet | None = None
        self._kids: set[str] = set()
        self._lock = threading.Lock()

    def _fetch(self) -> None:
        resp = self.http.get(self.settings.portal("sso_jwks"))
        resp.raise_for_status()
        data = resp.json()
        self._keys = KeySet.import_key_set(data)
        self._kids = {k.get("kid") for k in data.get("keys", []) if k.get("kid")}

    def keys_for(self, kid: str | None) -> KeySet:
        with self._lock:
            if self._keys is None or (kid and kid not in self._kids):
                self._fetch()
            return self._keys


def exchange_code(settings: Settings, http: httpx.Client, code: str, verifier: str) -> dict[str, Any]:
    try:
        resp = http.post(settings.portal("sso_token"), data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": settings.public("/sso/callback"),
            "client_id": settings.sso_client_id,
            "client_secret": settings.sso_client_secret,
            "code_verifier": verifier,
        })
    except httpx.HTTPError as exc:
        raise SSOError(f"Không kết nối được máy chủ xác thực của Cổng DVCQG ({type(exc).__name__}).") from None
    if resp.status_code != 200:
        raise SSOError(f"Cổng DVCQG từ chối mã xác thực (HTTP {resp.status_code}).")
    tokens = resp.json()
    if not tokens.get("id_token") or not tokens.get("access_token"):
        raise SSOError("Phản hồi của Cổng DVCQG thiếu id_token hoặc access_token.")
    return tokens


def _b64json(segment: str) -> dict[str, Any]:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded))


def _unverified(id_token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    parts = id_token.split(".")
    if len(parts) != 3:
        raise SSOError("ID token không đúng định dạng JWT.")
    try:
        return _b64json(parts[0]), _b64json(parts[1])
    except (ValueError, json.JSONDecodeError):
        raise SSOError("ID token không đúng định dạng JWT.") from None


def verify_id_token(settings: Settings, jwks: JWKSCache, id_token: str, nonce: str | None,
                    defects: Defects, now: float | None = None) -> dict[str, Any]:
    """Claims of a valid ID token, else SSOError naming the failed check."""
    header, claims = _unverified(id_token)
    if not defects.on("id-token-signature-not-verified"):
        claims = _verified_claims(jwks, id_token, header)
    now = time.time() if now is None else now
    if not defects.on("id-token-issuer-not-verified") and claims.get("iss") != settings.issuer:
        raise SSOError("ID token không do Cổng DVCQG phát hành (iss không hợp lệ).")
    if not defects.on("id-token-audience-not-verified") and not _audience_ok(claims, settings.sso_client_id):
        raise SSOError("ID token không cấp cho hệ thống này (aud không hợp lệ).")
    if not defects.on("id-token-expiry-not-verified"):
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp + CLOCK_SKEW_S < now:
            raise SSOError("ID token đã hết hạn.")
    if not defects.on("id-token-nonce-not-verified"):
        if not nonce or not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise SSOError("ID token không khớp yêu cầu đăng nhập (nonce không hợp lệ).")
    if not claims.get("sub"):
        raise SSOError("ID token thiếu định danh người dùng (sub).")
    return claims


def _verified_claims(jwks: JWKSCache, id_token: str, header: dict[str, Any]) -> dict[str, Any]:
    if header.get("alg") not in ALGORITHMS:
        raise SSOError("ID token dùng thuật toán ký không được chấp nhận.")
    try:
        keys = jwks.keys_for(header.get("kid"))
    except (httpx.HTTPError, ValueError, JoseError):
        raise SSOError("Không lấy được khóa công khai (JWKS) của Cổng DVCQG.") from None
    try:
        return dict(jwt.decode(id_token, keys, algorithms=ALGORITHMS).claims)
    except (JoseError, ValueError):
        raise SSOError("Chữ ký của ID token không hợp lệ.") from None


def _audience_ok(claims: dict[str, Any], client_id: str) -> bool:
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if client_id not in audiences:
        return False
    return len(audiences) == 1 or claims.get("azp") in (None, client_id)


def fetch_userinfo(settings: Settings, http: httpx.Client, access_token: str) -> dict[str, Any]:
    try:
        resp = http.get(settings.portal("sso_userinfo"), headers={"Authorization": f"Bearer {access_token}"})
    except httpx.HTTPError as exc:
        raise SSOError(f"Không lấy được thông tin người dùng từ Cổng DVCQG ({type(exc).__name__}).") from None
    if resp.status_code != 200:
        raise SSOError(f"Cổng DVCQG không trả thông tin người dùng (HTTP {resp.status_code}).")
    info = resp.json()
    if not info.get("TechID"):
        raise SSOError("Thông tin người dùng thiếu TechID.")
    return info
