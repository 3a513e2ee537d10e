"""SSO of the mock portal, exercised by Authlib's OpenID Connect client code against a live server."""

from __future__ import annotations

import re
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.integrations.base_client.sync_openid import OpenIDMixin
from authlib.integrations.httpx_client import OAuth2Client
from authlib.integrations.base_client.errors import OAuthError
from authlib.oauth2.rfc6749.errors import MismatchingStateException
from joserfc.errors import JoseError

from tests.mocks.conftest import CLIENT_ID, CLIENT_SECRET

CITIZEN = "5b1f0e7a-0c3d-4d2a-9f51-3a7c2e10a001"       # Nguyễn Văn An, LoA1..LoA3
BASIC_ONLY = "5b1f0e7a-0c3d-4d2a-9f51-3a7c2e10a005"    # Hoàng Minh Đức, LoA1 only


class RelyingParty(OpenIDMixin):
    """An agency's OIDC client: Authlib's httpx OAuth2 session plus Authlib's OpenID (ID token) validation."""

    def __init__(self, portal_url: str, redirect_uri: str, client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET):
        self.portal_url = portal_url
        self.client_id = client_id
        self.server_metadata: dict = {}
        self.session = OAuth2Client(client_id, secret, scope="openid", redirect_uri=redirect_uri,
                                    code_challenge_method="S256", trust_env=False)

    def load_server_metadata(self) -> dict:
        if not self.server_metadata:
            r = self.session.request("GET", f"{self.portal_url}/.well-known/openid-configuration", withhold_token=True)
            r.raise_for_status()
            self.server_metadata = r.json()
        return self.server_metadata

    def _get_session(self):
        return OAuth2Client(self.client_id, trust_env=False)

    def get(self, url, **kwargs):
        return self.session.get(url, **kwargs)


def browser_login(portal_url: str, authorize_url: str, techid: str = CITIZEN, acr: str | None = None,
                  browser: httpx.Client | None = None) -> httpx.Response:
    """Follow the authorize redirect to the login page, choose an identity, and return the redirect back."""
    own = browser is None
    browser = browser or httpx.Client(base_url=portal_url, trust_env=False)
    try:
        r = browser.get(authorize_url)
        if r.status_code == 302 and "/authenticationendpoint/login" not in r.headers["location"]:
            return r  # already logged in on the portal: straight back to the agency
        assert r.status_code == 302, r.text
        page = browser.get(r.headers["location"])
        assert page.status_code == 200
        key = re.search(r'name="sessionDataKey" value="([^"]*)"', page.text).group(1)
        selected = acr or re.search(r'<option value="([^"]+)" selected>', page.text).group(1)
        return browser.post("/authenticationendpoint/login", data={"sessionDataKey": key, "techid": techid, "acr": selected})
    finally:
        if own:
            browser.close()


@pytest.fixture
def rp(portal_server, agency):
    party = RelyingParty(portal_server.url, f"{agency.url}/sso/callback")
    yield party
    party.session.close()


def start_flow(rp: RelyingParty, **extra):
    meta = rp.load_server_metadata()
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, state = rp.session.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier,
                                                     nonce=nonce, acr_values="LoA2", **extra)
    return meta, verifier, nonce, url, state


def test_discovery_code_flow_pkce_id_token_and_userinfo(portal, control, rp):
    meta, verifier, nonce, url, state = start_flow(rp)
    assert meta["issuer"] == f"{rp.portal_url}/oauth2/token"
    assert "S256" in meta["code_challenge_methods_supported"]
    back = browser_login(rp.portal_url, url)
    assert back.status_code == 302
    token = rp.session.fetch_token(meta["token_endpoint"], authorization_response=back.headers["location"],
                                   code_verifier=verifier, state=state)
    user = rp.parse_id_token(token, nonce)
    assert user["TechID"] == CITIZEN and user["acr"] == "LoA2" and user["aud"] == CLIENT_ID
    info = rp.userinfo()
    assert info["HoVaTen"] == "Nguyễn Văn An" and info["SoDinhDanh"] == "001090012345" and info["LoaiTaiKhoan"] == "1"
    assert set(info) >= {"sub", "TechID", "SoCMND", "NgayThangNamSinh", "GioiTinh", "ThuDienTu", "ThuongTru", "loAs"}
    # the journal shows the exchange, with code and tokens masked
    entries = control.get("/_mock/journal", params={"role": "sso"}).json()["entries"]
    services = [e["service"] for e in entries]
    assert "redirect" in services and "token" in services and "userinfo" in services
    dump = str(entries)
    assert token["access_token"] not in dump and token["id_token"] not in dump and CLIENT_SECRET not in dump


@pytest.mark.parametrize("mode", ["id_token_foreign_key", "id_token_alg_none", "id_token_wrong_iss",
                                  "id_token_wrong_aud", "id_token_wrong_nonce", "id_token_expired"])
def test_tampered_id_token_is_detected_by_the_client(portal, control, rp, mode):
    assert control.post("/_mock/adversarial", json={"mode": mode}).status_code == 201
    meta, verifier, nonce, url, state = start_flow(rp)
    back = browser_login(rp.portal_url, url)
    token = rp.session.fetch_token(meta["token_endpoint"], authorization_response=back.headers["location"],
                                   code_verifier=verifier, state=state)
    with pytest.raises((JoseError, ValueError)):
        rp.parse_id_token(token, nonce, leeway=0)
    # armed for one exchange only: the next login yields a valid token
    meta, verifier, nonce, url, state = start_flow(rp)
    back = browser_login(rp.portal_url, url)
    token = rp.session.fetch_token(meta["token_endpoint"], authorization_response=back.headers["location"],
                                   code_verifier=verifier, state=state)
    assert rp.parse_id_token(token, nonce)["TechID"] == CITIZEN


def test_tampered_state_is_detected_by_the_client(portal, control, rp):
    control.post("/_mock/adversarial", json={"mode": "tampered_state"})
    meta, verifier, nonce, url, state = start_flow(rp)
    back = browser_login(rp.portal_url, url)
    assert parse_qs(urlsplit(back.headers["location"]).query)["state"][0] != state
    with pytest.raises(MismatchingStateException):
        rp.session.fetch_token(meta["token_endpoint"], authorization_response=back.headers["location"],
                               code_verifier=verifier, state=state)
    out = control.get("/_mock/journal", params={"role": "sso", "direction": "out"}).json()["entries"]
    assert out[-1]["request"]["adversarial"] == "tampered_state"


def test_replayed_code_gets_invalid_grant(portal, control, rp):
    control.post("/_mock/adversarial", json={"mode": "replay_code"})
    meta, verifier, nonce, url, state = start_flow(rp)
    back = browser_login(rp.portal_url, url)
    with pytest.raises(OAuthError) as err:
        rp.session.fetch_token(meta["token_endpoint"], authorization_response=back.headers["location"],
                               code_verifier=verifier, state=state)
    assert err.value.error == "invalid_grant"


def code_from(back: httpx.Response) -> str:
    return parse_qs(urlsplit(back.headers["location"]).query)["code"][0]


def test_code_is_single_use_and_pkce_is_checked(portal, rp, agency):
    meta, verifier, nonce, url, state = start_flow(rp)
    code = code_from(browser_login(rp.portal_url, url))
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": f"{agency.url}/sso/callback",
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    wrong = portal.post("/oauth2/token", data={**form, "code_verifier": "x" * 50})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    ok = portal.post("/oauth2/token", data={**form, "code_verifier": verifier})
    assert ok.status_code == 200
    again = portal.post("/oauth2/token", data={**form, "code_verifier": verifier})
    assert again.json()["error"] == "invalid_grant"
    # the tokens of a replayed code are revoked
    r = portal.get("/oauth2/userinfo", headers={"Authorization": f"Bearer {ok.json()['access_token']}"})
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"


def test_standard_oauth_errors(portal, agency):
    cb = f"{agency.url}/sso/callback"
    base = {"response_type": "code", "scope": "openid", "client_id": CLIENT_ID, "redirect_uri": cb, "state": "s"}
    assert portal.get("/oauth2/authorize", params={**base, "client_id": "la"}).status_code == 400
    assert portal.get("/oauth2/authorize", params={**base, "redirect_uri": "http://evil.example/cb"}).status_code == 400
    r = portal.get("/oauth2/authorize", params={**base, "response_type": "token"})
    assert r.status_code == 302 and "error=unsupported_response_type" in r.headers["location"] and "state=s" in r.headers["location"]
    r = portal.get("/oauth2/authorize", params={**base, "scope": "email"})
    assert "error=invalid_scope" in r.headers["location"]
    bad_secret = portal.post("/oauth2/token", data={"grant_type": "authorization_code", "code": "x", "redirect_uri": cb,
                                                    "client_id": CLIENT_ID, "client_secret": "sai"})
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"
    unknown = portal.post("/oauth2/token", data={"grant_type": "authorization_code", "code": "x", "redirect_uri": cb},
                          auth=(CLIENT_ID, CLIENT_SECRET))
    assert unknown.json()["error"] == "invalid_grant"
    grant = portal.post("/oauth2/token", data={"grant_type": "password"}, auth=(CLIENT_ID, CLIENT_SECRET))
    assert grant.json()["error"] == "unsupported_grant_type"


def test_step_up_is_refused_for_a_basic_account(portal, rp):
    meta, verifier, nonce, url, state = start_flow(rp)
    r = browser_login(rp.portal_url, url, techid=BASIC_ONLY, acr="LoA1")
    assert r.status_code == 400 and "LoA2" in r.text


def test_portal_session_gives_sso_without_second_login(portal, rp):
    with httpx.Client(base_url=rp.portal_url, trust_env=False) as browser:
        page = browser.get("/authenticationendpoint/login")
        assert "Mức độ xác thực" in page.text and "Nguyễn Văn An (001090012345)" in page.text
        home = browser.post("/authenticationendpoint/login", data={"sessionDataKey": "", "techid": CITIZEN, "acr": "LoA2"})
        assert home.status_code == 303
        assert "Xin chào" in browser.get("/").text
        meta, verifier, nonce, url, state = start_flow(rp)
        back = browser.get(url)  # no login page: straight back with a code
        assert back.status_code == 302 and "code=" in back.headers["location"]


def test_introspection_is_client_bound_revocation_and_logout(portal, rp, portal_server, agency):
    meta, verifier, nonce, url, state = start_flow(rp)
    back = browser_login(rp.portal_url, url)
    token = rp.session.fetch_token(meta["token_endpoint"], authorization_response=back.headers["location"],
                                   code_verifier=verifier, state=state)
    access = token["access_token"]
    r = portal.post("/oauth2/introspect", data={"token": access}, auth=(CLIENT_ID, CLIENT_SECRET)).json()
    assert r["active"] is True and r["client_id"] == CLIENT_ID and r["exp"] > r["iat"]
    assert portal.post("/oauth2/introspect", data={"token": access}).status_code == 401
    # logout: registered post_logout_redirect_uri only
    bad = portal.get("/oidc/logout", params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": "http://evil.example/"})
    assert bad.status_code == 400
    out = portal.get("/oidc/logout", params={"id_token_hint": token["id_token"],
                                              "post_logout_redirect_uri": f"{agency.url}/", "state": "xyz"})
    assert out.status_code == 302 and out.headers["location"] == f"{agency.url}/?state=xyz"
    assert portal.post("/oauth2/revoke", data={"token": access}, auth=(CLIENT_ID, CLIENT_SECRET)).status_code == 200
    r = portal.post("/oauth2/introspect", data={"token": access}, auth=(CLIENT_ID, CLIENT_SECRET)).json()
    assert r == {"active": False}


def login_without_pkce(portal, agency, **extra) -> str:
    """A code requested with a plain authorize URL (no code_challenge unless given in `extra`)."""
    params = {"response_type": "code", "scope": "openid", "client_id": CLIENT_ID,
              "redirect_uri": f"{agency.url}/sso/callback", "state": secrets.token_urlsafe(8), **extra}
    url = str(httpx.URL(f"{portal.base_url}/oauth2/authorize", params=params))
    return browser_login(str(portal.base_url), url)


def test_pkce_downgrade_refused(portal, agency):
    """RFC 9700 §2.1.1: a code issued without a code_challenge, redeemed with a code_verifier, is refused
    (invalid_grant); the same code redeemed without one is accepted."""
    cb = f"{agency.url}/sso/callback"
    form = {"grant_type": "authorization_code", "redirect_uri": cb, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    code = code_from(login_without_pkce(portal, agency))
    r = portal.post("/oauth2/token", data={**form, "code": code, "code_verifier": secrets.token_urlsafe(48)})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant" and "PKCE" in r.json()["error_description"]
    code = code_from(login_without_pkce(portal, agency))
    assert portal.post("/oauth2/token", data={**form, "code": code}).status_code == 200


@pytest.mark.parametrize("challenge, method", [("x", "S256"), ("a" * 44, "S256"), ("a" * 42 + "=", "S256"),
                                               ("short", "plain"), ("a" * 129, "plain")])
def test_malformed_code_challenge_refused(portal, agency, challenge, method):
    """RFC 7636 §4.2: an S256 code_challenge is 43 base64url characters (§4.1: a plain one 43..128 unreserved
    characters); anything else is refused at the authorize endpoint with invalid_request."""
    r = portal.get("/oauth2/authorize", params={"response_type": "code", "scope": "openid", "client_id": CLIENT_ID,
                                                 "redirect_uri": f"{agency.url}/sso/callback", "state": "s",
                                                 "code_challenge": challenge, "code_challenge_method": method})
    assert r.status_code == 302 and "error=invalid_request" in r.headers["location"], r.headers.get("location")


def test_well_formed_s256_challenge_accepted(portal, agency):
    from mocks.sso import s256
    back = login_without_pkce(portal, agency, code_challenge=s256(secrets.token_urlsafe(48)), code_challenge_method="S256")
    assert "code=" in back.headers["location"]


def test_userinfo_without_token_has_challenge_and_no_error_code(portal):
    """RFC 6750 §3.1: a request lacking any authentication gets 401 with `WWW-Authenticate: Bearer` and no error
    code; an invalid token gets error="invalid_token"."""
    r = portal.get("/oauth2/userinfo")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert "error" not in r.json() and "error=" not in r.headers["www-authenticate"]
    r = portal.get("/oauth2/userinfo", headers={"Authorization": "Bearer khong-hop-le"})
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]
