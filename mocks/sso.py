"""SSO provider (OAuth2 authorization code + OpenID Connect, WSO2 style) with real RS256 tokens.

Keys are generated per run. Clients, redirect URIs and post-logout URIs come from the settings; codes are
single-use and short-lived; PKCE (S256/plain), state, nonce and acr_values are honoured. Errors use the
standard OAuth codes. Adversarial modes alter the next token response or the next redirect back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from mocks import apidoc, pages
from mocks.jsonutil import dumpb
from mocks.portal import BodyTooLarge, Portal, json_response
from mocks.settings import SsoClient

ROLE = "sso"
SSO_COOKIE = "commonAuthId"
FOREIGN_ISSUER = "https://sso.gia-mao.example/oauth2/token"
# RFC 7636 §4.2: S256 challenge = BASE64URL(SHA256(verifier)), 43 chars; §4.1: plain = verifier, 43..128 unreserved
CHALLENGE_FORMS = {"S256": re.compile(r"[A-Za-z0-9_-]{43}"), "plain": re.compile(r"[A-Za-z0-9._~-]{43,128}")}


@dataclass
class AuthRequest:
    client: SsoClient
    redirect_uri: str
    scope: str
    state: str | None
    nonce: str | None
    acr: str
    code_challenge: str | None
    method: str | None
    expires: float
    login: str = ""  # the round trip's id in the journal, from authorize to userinfo


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    techid: str
    acr: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    method: str | None
    auth_time: int
    sid: str
    expires: float
    used: bool = False
    tokens: list[str] = field(default_factory=list)
    login: str = ""


@dataclass
class AccessToken:
    client_id: str
    techid: str
    scope: str
    acr: str
    sid: str
    iat: int
    exp: int
    revoked: bool = False
    login: str = ""


@dataclass
class SsoSession:
    techid: str
    acr: str
    auth_time: int
    sid: str


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def s256(verifier: str) -> str:
    return b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())


def challenge_malformed(challenge: str | None, method: str) -> str | None:
    """What is wrong with a PKCE code_challenge for its method (RFC 7636 §4.1-4.2), None when it is well formed."""
    if not challenge or CHALLENGE_FORMS[method].fullmatch(challenge):
        return None
    if method == "S256":
        return (f"code_challenge S256 phải là 43 ký tự base64url, nhận {len(challenge)} ký tự / "
                "an S256 code_challenge must be 43 base64url characters (RFC 7636 §4.2)")
    return ("code_challenge plain phải dài 43..128 ký tự [A-Za-z0-9-._~] / "
            "a plain code_challenge must be 43..128 unreserved characters (RFC 7636 §4.1)")


def oauth_error(error: str, description: str, status: int = 400, headers: dict | None = None) -> Response:
    return json_response({"error": error, "error_description": description}, status, headers)


def with_query(url: str, params: dict[str, Any]) -> str:
    parts = urlsplit(url)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


class SsoProvider:
    def __init__(self, portal: Portal):
        self.portal = portal
        self.profile = portal.profile
        conf = self.profile["sso"]
        self.paths = conf["paths"]
        self.acr_values: list[str] = list(conf.get("acr_values", ["LoA1"]))
        self.scopes_allowed = set(conf.get("scopes_allowed", ["openid"]))
        self.code_ttl = int(conf.get("code_ttl_s", 60))
        self.token_ttl = int(conf.get("token_ttl_s", 3600))
        self.claim_names: list[str] = list(conf.get("claims", []))
        # the signing key is generated in the background: start-up need not wait for it
        self._key: RSAKey | None = None
        self._key_thread = threading.Thread(target=self._generate_key, name="sso-key", daemon=True)
        self._key_thread.start()
        self._foreign_key: RSAKey | None = None
        self.pending: dict[str, AuthRequest] = {}
        self.grants: dict[str, Grant] = {}
        self.tokens: dict[str, AccessToken] = {}
        self.sessions: dict[str, SsoSession] = {}
        self.redeemed: list[str] = []          # codes already exchanged, for the replay_code mode
        portal.roles["sso"] = self

    def _generate_key(self) -> None:
        self._key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)

    @property
    def key(self) -> RSAKey:
        """This run's signing key (RS256)."""
        if self._key is None:
            self._key_thread.join()
        return self._key

    @property
    def issuer(self) -> str:
        return self.portal.settings.issuer

    @property
    def foreign_key(self) -> RSAKey:
        if self._foreign_key is None:
            self._foreign_key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"})
        return self._foreign_key

    def record(self, request: Request | None, path: str, status: int, req: Any, resp: Any, *, client: str = "",
               direction: str = "in", method: str | None = None, error: str = "", start: float | None = None,
               service: str = "", login: str = "", citizen: str = "") -> None:
        """Journal one exchange; `login` ties the exchanges of one round trip together and `citizen` is the TechID
        once the portal knows who logs in, so logins of citizens side by side are told apart."""
        self.portal.store.record(
            role=ROLE, direction=direction, method=method or (request.method if request else "GET"), path=path,
            service=service, client=client, status_code=status, request=req, response=resp, error=error,
            duration_ms=(time.perf_counter() - start) * 1000.0 if start else 0.0, login=login, citizen=citizen)

    def acr_rank(self, acr: str) -> int:
        return self.acr_values.index(acr) if acr in self.acr_values else -1

    # -- discovery & keys -------------------------------------------------------------------------------------
    def discovery_document(self) -> dict[str, Any]:
        url = self.portal.url
        return {
            "issuer": self.issuer,
            "authorization_endpoint": url(self.paths["authorize"]),
            "token_endpoint": url(self.paths["token"]),
            "userinfo_endpoint": url(self.paths["userinfo"]),
            "jwks_uri": url(self.paths["jwks"]),
            "introspection_endpoint": url(self.paths["introspect"]),
            "revocation_endpoint": url(self.paths["revoke"]),
            "end_session_endpoint": url(self.paths["logout"]),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": sorted(self.scopes_allowed),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "introspection_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "code_challenge_methods_supported": ["S256", "plain"],
            "acr_values_supported": self.acr_values,
            "claims_supported": sorted(set(self.claim_names) | {"iss", "aud", "exp", "iat", "nonce", "acr", "auth_time", "sid"}),
            "claims_parameter_supported": False,
            "request_parameter_supported": False,
        }

    async def discovery(self, request: Request) -> Response:
        return json_response(self.discovery_document())

    async def jwks(self, request: Request) -> Response:
        return json_response(KeySet([self.key]).as_dict(private=False))

    # -- authorize & login ------------------------------------------------------------------------------------
    async def authorize(self, request: Request) -> Response:
        start = time.perf_counter()
        params = dict(request.query_params)
        if request.method == "POST":
            try:
                params.update({k: v for k, v in (await request.form()).items() if isinstance(v, str)})
            except Exception:  # malformed form bodies are treated as absent parameters
                pass
        path = self.paths["authorize"]
        fault, status = await self.portal.apply_fault(ROLE, path, "authorize")
        if status:
            self.record(request, path, status, params, None, error=f"fault:{fault.kind}", start=start,
                        service="authorize")
            return HTMLResponse(pages.error_page("Lỗi hệ thống", "Cổng tạm thời không phục vụ."), status)
        client_id = params.get("client_id", "")
        client = self.portal.settings.client(client_id)
        redirect_uri = params.get("redirect_uri", "")
        if client is None:
            return self._authorize_error_page(request, path, params, start, "invalid_client",
                                              f"Ứng dụng '{client_id}' chưa đăng ký với Cổng / unknown client_id")
        if redirect_uri not in client.redirect_uris:
            return self._authorize_error_page(request, path, params, start, "invalid_request",
                                              "redirect_uri không khớp địa chỉ đã đăng ký / redirect_uri is not registered",
                                              client_id)
        state = params.get("state")
        login = secrets.token_hex(6)
        session = self.sessions.get(request.cookies.get(SSO_COOKIE, ""))
        citizen = session.techid if session else ""
        problem = self._authorize_problem(params)
        if problem:
            error, description = problem
            self.record(request, path, 302, params, {"error": error, "error_description": description},
                        client=client_id, start=start, service="authorize", login=login, citizen=citizen)
            return self.redirect_back(client, redirect_uri, {"error": error, "error_description": description,
                                                             "state": state}, adversarial=False, login=login,
                                      citizen=citizen)
        acr = self._requested_acr(params.get("acr_values"))
        auth = AuthRequest(client, redirect_uri, params.get("scope", "openid"), state, params.get("nonce"), acr,
                           params.get("code_challenge"), params.get("code_challenge_method") or (
                               "plain" if params.get("code_challenge") else None), time.time() + 600, login)
        prompt = params.get("prompt", "")
        self.record(request, path, 302, params, {"sso_session": bool(session)}, client=client_id, start=start,
                    service="authorize", login=login, citizen=citizen)
        if session and "login" not in prompt and self.acr_rank(session.acr) >= self.acr_rank(acr):
            return self.issue_code(auth, session)  # already logged in on the portal: no second login
        if "none" in prompt.split():
            return self.redirect_back(client, redirect_uri, {"error": "login_required", "state": state},
                                      adversarial=False, login=login, citizen=citizen)
        key = secrets.token_urlsafe(16)
        self.pending[key] = auth
        return RedirectResponse(with_query(self.portal.url(self.paths["login_page"]), {"sessionDataKey": key}), 302)

    def _authorize_problem(self, params: dict[str, str]) -> tuple[str, str] | None:
        if params.get("response_type") != "code":
            return "unsupported_response_type", "chỉ hỗ trợ response_type=code / only response_type=code is supported"
        scopes = params.get("scope", "").split()
        if "openid" not in scopes:
            return "invalid_scope", "scope phải có openid / scope must include openid"
        unknown = [s for s in scopes if s not in self.scopes_allowed]
        if unknown:
            return "invalid_scope", f"scope không được phép: {' '.join(unknown)} / scope not allowed"
        method = params.get("code_challenge_method")
        if method and method not in ("S256", "plain"):
            return "invalid_request", "code_challenge_method phải là S256 hoặc plain / unsupported PKCE method"
        if method and not params.get("code_challenge"):
            return "invalid_request", "thiếu code_challenge / code_challenge missing"
        malformed = challenge_malformed(params.get("code_challenge"), method or "plain")
        if malformed:
            return "invalid_request", malformed
        requested = (params.get("acr_values") or "").split()
        if requested and not any(a in self.acr_values for a in requested):
            return "invalid_request", f"acr_values không hỗ trợ: {' '.join(requested)} / unsupported acr_values"
        return None

    def _requested_acr(self, acr_values: str | None) -> str:
        for a in (acr_values or "").split():
            if a in self.acr_values:
                return a
        return self.acr_values[0]

    def _authorize_error_page(self, request: Request, path: str, params: dict, start: float, error: str,
                              description: str, client: str = "") -> Response:
        session = self.sessions.get(request.cookies.get(SSO_COOKIE, ""))
        self.record(request, path, 400, params, {"error": error, "error_description": description}, client=client,
                    start=start, service="authorize", login=secrets.token_hex(6),
                    citizen=session.techid if session else "")
        return HTMLResponse(pages.error_page("Không thể đăng nhập", description, f"error={error}"), 400)

    async def login_form(self, request: Request) -> Response:
        key = request.query_params.get("sessionDataKey", "")
        auth = self.pending.get(key)
        if key and auth is None:
            return HTMLResponse(pages.error_page("Phiên đăng nhập hết hạn", "Yêu cầu đăng nhập không còn hiệu lực, "
                                                 "hãy quay lại trang của cơ quan và thử lại."), 400)
        acr = auth.acr if auth else self.acr_values[0]
        return HTMLResponse(pages.login_page(self.paths["login_page"], key, self.portal.identities, self.acr_values,
                                             acr, auth.client.client_id if auth else ""))

    async def login_submit(self, request: Request) -> Response:
        start = time.perf_counter()
        path = self.paths["login_page"]
        try:
            form = await request.form()
        except Exception:
            form = {}
        key, techid, acr = (str(form.get(k, "")) for k in ("sessionDataKey", "techid", "acr"))
        auth = self.pending.get(key) if key else None
        client_id = auth.client.client_id if auth else ""
        login = auth.login if auth else ""
        record = {"techid": techid, "acr": acr, "sessionDataKey": key}
        if key and auth is None:
            self.record(request, path, 400, record, {"error": "expired_login"}, start=start, service="login")
            return HTMLResponse(pages.error_page("Phiên đăng nhập hết hạn", "Yêu cầu đăng nhập không còn hiệu lực."), 400)
        ident = self.portal.identity_by_techid.get(techid)
        error = ""
        if ident is None:
            error = "Hãy chọn một tài khoản thử nghiệm."
        elif acr not in self.acr_values:
            error = "Mức độ xác thực không hợp lệ."
        elif acr not in ident["loAs"]:
            error = f"Tài khoản chưa đạt mức độ xác thực {acr} (tối đa {ident['loAs'][-1]})."
        elif auth and self.acr_rank(acr) < self.acr_rank(auth.acr):
            error = f"Dịch vụ yêu cầu mức độ xác thực tối thiểu {auth.acr}."
        if error:
            self.record(request, path, 400, record, {"error": error}, client=client_id, start=start, service="login",
                        login=login, citizen=techid if ident else "")
            return HTMLResponse(pages.login_page(path, key, self.portal.identities, self.acr_values,
                                                 auth.acr if auth else acr, client_id, error, techid), 400)
        session_id = secrets.token_urlsafe(24)
        session = SsoSession(techid, acr, int(time.time()), secrets.token_hex(8))
        self.sessions[session_id] = session
        self.record(request, path, 302, record, {"sub": ident["sub"], "acr": acr}, client=client_id, start=start,
                    service="login", login=login, citizen=techid)
        if auth is None:
            response: Response = RedirectResponse("/", 303)
        else:
            self.pending.pop(key, None)
            response = self.issue_code(auth, session)
        response.set_cookie(SSO_COOKIE, session_id, httponly=True, samesite="lax", path="/")
        return response

    def issue_code(self, auth: AuthRequest, session: SsoSession) -> Response:
        code = secrets.token_urlsafe(32)
        self.grants[code] = Grant(auth.client.client_id, auth.redirect_uri, session.techid, session.acr, auth.scope,
                                  auth.nonce, auth.code_challenge, auth.method, session.auth_time, session.sid,
                                  time.time() + self.code_ttl, login=auth.login)
        return self.redirect_back(auth.client, auth.redirect_uri, {"code": code, "state": auth.state,
                                                                    "session_state": session.sid},
                                  login=auth.login, citizen=session.techid)

    def redirect_back(self, client: SsoClient, redirect_uri: str, params: dict[str, Any], adversarial: bool = True,
                      login: str = "", citizen: str = "") -> Response:
        """The browser redirect to the agency, journalled as an outgoing exchange (adversarial modes apply here)."""
        mode = self.portal.adversarial.take("redirect", client.client_id, citizen=citizen) \
            if adversarial and "code" in params else None
        if mode == "tampered_state":
            original = params.get("state") or ""
            params["state"] = (original[:-4] if len(original) > 4 else original) + secrets.token_hex(2) + "x"
        elif mode == "replay_code":
            params["code"] = self._replayed_code(client.client_id, redirect_uri, params["code"], citizen)
        query = {k: v for k, v in params.items() if v is not None}
        self.portal.store.record(role=ROLE, direction="out", method="GET", path=redirect_uri, client=client.client_id,
                                 service="redirect", status_code=302,
                                 request={"params": query, **({"adversarial": mode} if mode else {})},
                                 login=login, citizen=citizen)
        return RedirectResponse(with_query(redirect_uri, query), 302)

    def _replayed_code(self, client_id: str, redirect_uri: str, fresh: str, citizen: str = "") -> str:
        """A code that was already redeemed: an earlier one of this client and citizen (replaying another citizen's
        would revoke the tokens of a login running beside this one), else the fresh one marked as used."""
        for code in reversed(self.redeemed):
            g = self.grants.get(code)
            if g and g.client_id == client_id and g.redirect_uri == redirect_uri and g.techid == (citizen or g.techid):
                self.grants.pop(fresh, None)
                return code
        self.grants[fresh].used = True
        self.redeemed.append(fresh)
        return fresh

    # -- token ----------------------------------------------------------------------------------------------------
    async def _form(self, request: Request) -> dict[str, str]:
        try:
            await self.portal.read_body(request)
            form = await request.form()
        except BodyTooLarge:
            raise
        except Exception:
            return {}
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def authenticate_client(self, request: Request, form: dict[str, str]) -> tuple[SsoClient | None, Response | None]:
        """client_secret_basic or client_secret_post; invalid_client (401) otherwise."""
        client_id, secret = form.get("client_id", ""), form.get("client_secret")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            try:
                from urllib.parse import unquote
                raw = base64.b64decode(header[6:].strip()).decode("utf-8")
                cid, _, sec = raw.partition(":")
                client_id, secret = unquote(cid), unquote(sec)
            except Exception:
                return None, oauth_error("invalid_client", "Basic auth không hợp lệ / malformed Basic credentials", 401,
                                         {"WWW-Authenticate": 'Basic realm="oauth2"'})
        client = self.portal.settings.client(client_id)
        if client is None or secret is None or not hmac.compare_digest(client.client_secret.encode(), secret.encode()):
            return None, oauth_error("invalid_client", "Xác thực client thất bại / client authentication failed", 401,
                                     {"WWW-Authenticate": 'Basic realm="oauth2"'})
        return client, None

    async def token(self, request: Request) -> Response:
        start = time.perf_counter()
        path = self.paths["token"]
        try:
            form = await self._form(request)
        except BodyTooLarge:
            return oauth_error("invalid_request", "yêu cầu quá lớn / request too large", 413)
        fault, status = await self.portal.apply_fault(ROLE, path, "token")
        if status:
            resp = oauth_error("temporarily_unavailable", "Cổng tạm thời không phục vụ", status)
            self.record(request, path, status, form, None, client=form.get("client_id", ""), error=f"fault:{fault.kind}",
                        start=start, service="token")
            return resp
        client, failure = self.authenticate_client(request, form)
        if failure is None:
            failure, body, mode = self._exchange(client, form)
        else:
            body, mode = None, None
        response = failure or json_response(body, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"})
        logged = dict(body) if body else None
        if body and "id_token" in body:
            logged["id_token_decoded"] = self._peek(body["id_token"])
        grant = self.grants.get(form.get("code") or "")
        self.record(request, path, response.status_code, form, logged or _json_of(response),
                    client=client.client_id if client else form.get("client_id", ""), start=start,
                    error=f"adversarial:{mode}" if mode else "", service="token",
                    login=grant.login if grant else "", citizen=grant.techid if grant else "")
        return response

    def _exchange(self, client: SsoClient, form: dict[str, str]) -> tuple[Response | None, dict | None, str | None]:
        grant_type = form.get("grant_type")
        if not grant_type:
            return oauth_error("invalid_request", "thiếu grant_type / grant_type missing"), None, None
        if grant_type != "authorization_code":
            return oauth_error("unsupported_grant_type", f"grant_type '{grant_type}' không hỗ trợ"), None, None
        code = form.get("code")
        if not code:
            return oauth_error("invalid_request", "thiếu code / code missing"), None, None
        grant = self.grants.get(code)
        if grant is None:
            return oauth_error("invalid_grant", "mã ủy quyền không tồn tại / unknown authorization code"), None, None
        if grant.used:
            for t in grant.tokens:  # a replayed code revokes what it produced (RFC 6749 4.1.2)
                if t in self.tokens:
                    self.tokens[t].revoked = True
            return oauth_error("invalid_grant", "mã ủy quyền đã được sử dụng / authorization code already used"), None, None
        if grant.client_id != client.client_id:
            return oauth_error("invalid_grant", "mã ủy quyền cấp cho client khác / code issued to another client"), None, None
        if grant.expires < time.time():
            return oauth_error("invalid_grant", "mã ủy quyền đã hết hạn / authorization code expired"), None, None
        if form.get("redirect_uri") != grant.redirect_uri:
            return oauth_error("invalid_grant", "redirect_uri khác với lúc xin mã / redirect_uri mismatch"), None, None
        if not grant.code_challenge and form.get("code_verifier"):
            # RFC 9700 §2.1.1: a verifier for a code issued without a challenge is a PKCE downgrade attempt
            return oauth_error("invalid_grant", "mã ủy quyền được cấp không có code_challenge nhưng lại gửi code_verifier "
                                                "(hạ cấp PKCE) / code_verifier sent for a code issued without PKCE"), None, None
        if grant.code_challenge:
            verifier = form.get("code_verifier")
            if not verifier:
                return oauth_error("invalid_grant", "thiếu code_verifier (PKCE) / code_verifier missing"), None, None
            expected = s256(verifier) if grant.method == "S256" else verifier
            if not hmac.compare_digest(expected, grant.code_challenge):
                return oauth_error("invalid_grant", "code_verifier sai (PKCE) / PKCE verification failed"), None, None
        grant.used = True
        self.redeemed.append(code)
        now = int(time.time())
        access = secrets.token_urlsafe(32)
        self.tokens[access] = AccessToken(client.client_id, grant.techid, grant.scope, grant.acr, grant.sid, now,
                                          now + self.token_ttl, login=grant.login)
        grant.tokens.append(access)
        mode = self.portal.adversarial.take("token", client.client_id, citizen=grant.techid)
        id_token = self.make_id_token(client.client_id, grant, access, now, mode)
        body = {"access_token": access, "token_type": "Bearer", "expires_in": self.token_ttl, "scope": grant.scope,
                "id_token": id_token}
        return None, body, mode

    def make_id_token(self, client_id: str, grant: Grant, access: str, now: int, mode: str | None = None) -> str:
        ident = self.portal.identity_by_techid[grant.techid]
        at_hash = b64url(hashlib.sha256(access.encode()).digest()[:16])
        claims = {
            "iss": self.issuer, "sub": ident["sub"], "aud": client_id, "azp": client_id, "iat": now,
            "exp": now + self.token_ttl, "auth_time": grant.auth_time, "acr": grant.acr, "amr": ["pwd"],
            "sid": grant.sid, "at_hash": at_hash, "TechID": ident["TechID"], "LoaiTaiKhoan": ident["LoaiTaiKhoan"],
            "HoVaTen": ident["HoVaTen"], "loAs": ident["loAs"],
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        header = {"alg": "RS256", "typ": "JWT", "kid": self.key.kid}
        key = self.key
        if mode == "id_token_wrong_iss":
            claims["iss"] = FOREIGN_ISSUER
        elif mode == "id_token_wrong_aud":
            claims["aud"] = claims["azp"] = "client-khac"
        elif mode == "id_token_wrong_nonce":
            claims["nonce"] = secrets.token_urlsafe(12)
        elif mode == "id_token_expired":
            claims["iat"], claims["exp"] = now - 7200, now - 3600
        elif mode == "id_token_foreign_key":
            key = self.foreign_key  # same kid as ours: only the signature betrays it
        elif mode == "id_token_alg_none":
            return (b64url(dumpb({"alg": "none", "typ": "JWT"})) + "." + b64url(dumpb(claims)) + ".")
        return jwt.encode(header, claims, key)

    def _peek(self, token: str) -> dict[str, Any]:
        """Header and claims of a JWT for the journal (no verification; the token itself is masked)."""
        import json
        try:
            head, body, _ = token.split(".")
            pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
            return {"header": json.loads(base64.urlsafe_b64decode(pad(head))),
                    "claims": json.loads(base64.urlsafe_b64decode(pad(body)))}
        except Exception:
            return {}

    # -- userinfo / introspection / revocation ---------------------------------------------------------------
    def _bearer(self, request: Request, form: dict[str, str]) -> str | None:
        header = request.headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return header[7:].strip()
        return form.get("access_token")

    def active_token(self, token: str | None) -> AccessToken | None:
        t = self.tokens.get(token or "")
        if t is None or t.revoked or t.exp < time.time():
            return None
        return t

    async def userinfo(self, request: Request) -> Response:
        start = time.perf_counter()
        path = self.paths["userinfo"]
        form = {}
        if request.method == "POST":
            try:
                form = await self._form(request)
            except BodyTooLarge:
                return oauth_error("invalid_request", "yêu cầu quá lớn / request too large", 413)
        fault, status = await self.portal.apply_fault(ROLE, path, "userinfo")
        if status:
            self.record(request, path, status, None, None, error=f"fault:{fault.kind}", start=start, service="userinfo")
            return oauth_error("temporarily_unavailable", "Cổng tạm thời không phục vụ", status)
        raw = self._bearer(request, form)
        token = self.active_token(raw)
        req = {"authorization": raw} if raw else {}
        if token is None and not raw:
            # RFC 6750 §3.1: a request without any credentials gets the challenge, but no error code
            resp = json_response({"error_description": "cần access token (Bearer) / a Bearer access token is required"},
                                 401, {"WWW-Authenticate": "Bearer"})
            self.record(request, path, 401, req, _json_of(resp), start=start, service="userinfo")
            return resp
        if token is None:
            headers = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            resp = oauth_error("invalid_token", "access token không hợp lệ, hết hạn hoặc đã thu hồi / invalid access token",
                               401, headers)
            known = self.tokens.get(raw)  # revoked or expired: still the round trip it came from
            self.record(request, path, 401, req, _json_of(resp), start=start, service="userinfo",
                        login=known.login if known else "", citizen=known.techid if known else "")
            return resp
        claims = self.claims_of(token.techid)
        self.record(request, path, 200, req, claims, client=token.client_id, start=start, service="userinfo",
                    login=token.login, citizen=token.techid)
        return json_response(claims)

    def claims_of(self, techid: str) -> dict[str, Any]:
        ident = self.portal.identity_by_techid[techid]
        return {name: ident.get(name, "") for name in self.claim_names}

    async def _client_token_form(self, request: Request, name: str):
        """Form of an introspect/revoke call from an authenticated client carrying `token`, or the error reply."""
        start = time.perf_counter()
        try:
            form = await self._form(request)
        except BodyTooLarge:
            return start, None, None, oauth_error("invalid_request", "yêu cầu quá lớn / request too large", 413)
        client, failure = self.authenticate_client(request, form)
        if failure:
            self.record(request, self.paths[name], 401, form, _json_of(failure), start=start, service=name)
            return start, form, None, failure
        if not form.get("token"):
            return start, form, None, oauth_error("invalid_request", "thiếu token / token missing")
        return start, form, client, None

    async def introspect(self, request: Request) -> Response:
        start, form, client, failure = await self._client_token_form(request, "introspect")
        if failure is not None:
            return failure
        token = self.active_token(form.get("token"))
        if token is None or token.client_id != client.client_id:  # a token of another client is not revealed
            body: dict[str, Any] = {"active": False}
        else:
            ident = self.portal.identity_by_techid[token.techid]
            body = {"active": True, "client_id": token.client_id, "sub": ident["sub"], "username": ident["sub"],
                    "scope": token.scope, "exp": token.exp, "iat": token.iat, "token_type": "Bearer",
                    "iss": self.issuer, "aud": token.client_id, "acr": token.acr, "TechID": ident["TechID"]}
        mine = token if body["active"] else None
        self.record(request, self.paths["introspect"], 200, form, body, client=client.client_id, start=start,
                    service="introspect", login=mine.login if mine else "", citizen=mine.techid if mine else "")
        return json_response(body)

    async def revoke(self, request: Request) -> Response:
        start, form, client, failure = await self._client_token_form(request, "revoke")
        if failure is not None:
            return failure
        token = self.tokens.get(form["token"])
        revoked = bool(token and token.client_id == client.client_id)
        if revoked:
            token.revoked = True
        self.record(request, self.paths["revoke"], 200, form, {"revoked": revoked}, client=client.client_id,
                    start=start, service="revoke", login=token.login if revoked else "",
                    citizen=token.techid if revoked else "")
        return Response(status_code=200)

    # -- logout ------------------------------------------------------------------------------------------------------
    async def logout(self, request: Request) -> Response:
        start = time.perf_counter()
        path = self.paths["logout"]
        params = dict(request.query_params)
        if request.method == "POST":
            try:
                params.update(await self._form(request))
            except BodyTooLarge:
                return HTMLResponse(pages.error_page("Lỗi", "Yêu cầu quá lớn."), 413)
        hint, target, state = params.get("id_token_hint"), params.get("post_logout_redirect_uri"), params.get("state")
        client_id = params.get("client_id", "")
        session_id = request.cookies.get(SSO_COOKIE, "")
        session = self.sessions.get(session_id)
        citizen = session.techid if session else ""
        if hint:
            try:
                decoded = jwt.decode(hint, self.key)
                aud = decoded.claims.get("aud")
                client_id = aud if isinstance(aud, str) else (aud[0] if aud else "")
                citizen = citizen or str(decoded.claims.get("TechID") or "")
            except (JoseError, ValueError, TypeError) as exc:
                self.record(request, path, 400, params, {"error": "invalid id_token_hint"}, start=start,
                            error=str(exc)[:200], service="logout", citizen=citizen)
                return HTMLResponse(pages.error_page("Không thể đăng xuất", "id_token_hint không hợp lệ.",
                                                     "error=invalid_request"), 400)
        client = self.portal.settings.client(client_id) if client_id else None
        if target and (client is None or target not in client.post_logout_redirect_uris):
            self.record(request, path, 400, params, {"error": "unregistered post_logout_redirect_uri"},
                        client=client_id, start=start, service="logout", citizen=citizen)
            return HTMLResponse(pages.error_page("Không thể đăng xuất", "post_logout_redirect_uri chưa được đăng ký "
                                                 "(hoặc thiếu id_token_hint).", "error=invalid_request"), 400)
        ended = self.sessions.pop(session_id, None)
        if ended:
            for t in self.tokens.values():
                if t.sid == ended.sid:
                    t.revoked = True
        self.record(request, path, 302 if target else 200, params, {"session_ended": bool(ended)},
                    client=client_id, start=start, service="logout", citizen=citizen)
        if target:
            query = {"state": state} if state else {}
            self.portal.store.record(role=ROLE, direction="out", method="GET", path=target, client=client_id,
                                     service="logout_redirect", status_code=302, request={"params": query},
                                     citizen=citizen)
            response: Response = RedirectResponse(with_query(target, query), 302)
        else:
            response = HTMLResponse(pages.message_page("Đăng xuất", "Bạn đã đăng xuất khỏi Cổng Dịch vụ công quốc gia."))
        response.delete_cookie(SSO_COOKIE, path="/")
        return response

    # -- portal home (log in on the portal first, then follow a deep link: the SSO check) -----------------
    async def home(self, request: Request) -> Response:
        session = self.sessions.get(request.cookies.get(SSO_COOKIE, ""))
        user = self.portal.identity_by_techid.get(session.techid) if session else None
        s = self.portal.settings
        return HTMLResponse(pages.portal_home(user, self.portal.catalogue.procedures, s.agency_deep_link or None,
                                              s.agency_code, self.paths["login_page"]))

    def reset(self) -> None:
        self.pending.clear()
        self.redeemed.clear()


def _json_of(response: Response) -> Any:
    from mocks.jsonutil import loads
    try:
        return loads(response.body)
    except Exception:
        return None


TOKEN_REPLY = {"type": "object", "required": ["access_token", "token_type", "expires_in", "id_token"], "properties": {
    "access_token": {"type": "string"}, "token_type": {"type": "string"}, "expires_in": {"type": "integer"},
    "scope": {"type": "string"}, "id_token": {"type": "string"}}}
INTROSPECTION = {"type": "object", "required": ["active"], "properties": {"active": {"type": "boolean"}}}


def build_router(portal: Portal) -> APIRouter:
    sso = SsoProvider(portal)
    p = sso.paths
    r = APIRouter(tags=["sso"])
    form = lambda props, required=(): {"requestBody": {"content": {"application/x-www-form-urlencoded": {  # noqa: E731
        "schema": {"type": "object", "properties": {k: {"type": "string"} for k in props}, "required": list(required)}}}}}
    oauth, limited = apidoc.OAUTH_ERROR, apidoc.either(apidoc.LIMIT_ERROR, apidoc.OAUTH_ERROR)
    challenge = {401: apidoc.WWW_AUTHENTICATE}
    r.add_api_route(p["discovery"], sso.discovery, methods=["GET"], summary="OpenID Connect discovery",
                    responses=apidoc.answers({200: apidoc.OBJECT}))
    r.add_api_route(p["token"] + "/.well-known/openid-configuration", sso.discovery, methods=["GET"],
                    include_in_schema=False)
    r.add_api_route(p["jwks"], sso.jwks, methods=["GET"], summary="JWKS",
                    responses=apidoc.answers({200: {"type": "object", "required": ["keys"]}}))
    r.add_api_route(p["authorize"], sso.authorize, methods=["GET", "POST"], summary="Authorization endpoint",
                    include_in_schema=False)
    r.add_api_route(p["login_page"], sso.login_form, methods=["GET"], include_in_schema=False)
    r.add_api_route(p["login_page"], sso.login_submit, methods=["POST"], include_in_schema=False)
    r.add_api_route(p["token"], sso.token, methods=["POST"], summary="Token endpoint",
                    openapi_extra=form(["grant_type", "code", "redirect_uri", "client_id", "client_secret", "code_verifier"]),
                    responses=apidoc.answers({200: TOKEN_REPLY, 400: oauth, 401: oauth, 413: limited}, headers=challenge))
    r.add_api_route(p["userinfo"], sso.userinfo, methods=["GET"], summary="UserInfo", name="userinfo_get",
                    responses=apidoc.answers({200: apidoc.OBJECT, 401: oauth}, headers=challenge))
    r.add_api_route(p["userinfo"], sso.userinfo, methods=["POST"], summary="UserInfo (POST)", name="userinfo_post",
                    openapi_extra=form(["access_token"]),
                    responses=apidoc.answers({200: apidoc.OBJECT, 401: oauth, 413: limited}, headers=challenge))
    r.add_api_route(p["introspect"], sso.introspect, methods=["POST"], summary="Token introspection",
                    openapi_extra=form(["token", "client_id", "client_secret", "token_type_hint"]),
                    responses=apidoc.answers({200: INTROSPECTION, 400: oauth, 401: oauth, 413: limited}, headers=challenge))
    r.add_api_route(p["revoke"], sso.revoke, methods=["POST"], summary="Token revocation",
                    openapi_extra=form(["token", "client_id", "client_secret", "token_type_hint"]),
                    responses=apidoc.answers({200: None, 400: oauth, 401: oauth, 413: limited}, headers=challenge))
    r.add_api_route(p["logout"], sso.logout, methods=["GET", "POST"], include_in_schema=False)
    r.add_api_route("/", sso.home, methods=["GET"], include_in_schema=False)
    return r
