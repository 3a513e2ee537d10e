"""Check 1 — single sign-on from the national portal (portal rules art. 11; OAuth 2.0 / OpenID Connect Core).
Sources: docs/domain/README.md."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from conformance.journal import path_is, ref, request_of, response_of, select
from conformance.rules.core import RuleNotApplicable, RuleNotEvaluated, RuleViolation, rule


@rule("OIDC Core 1.0 §3.1.2.1", "The system sends the citizen to the portal's authorize endpoint")
def ensure_authorize_request_sent(entries: list[dict], authorize_path: str) -> dict:
    found = [e for e in entries if e.get("role") == "sso" and path_is(e, authorize_path)]
    if not found:
        raise RuleViolation(expected=f"a GET {authorize_path} from the system", actual="no authorize request in the journal")
    return found[-1]


@rule("RFC 6749 §3.1.2", "redirect_uri is one registered for the system's client")
def ensure_redirect_uri_registered(authorize: dict, client_id: str, registered: list[str]) -> None:
    params = request_of(authorize)
    if params.get("client_id") != client_id:
        raise RuleViolation(expected=f"client_id={client_id}", actual=params.get("client_id"), where=ref(authorize))
    if params.get("redirect_uri") not in registered:
        raise RuleViolation(expected=registered, actual=params.get("redirect_uri"), where=ref(authorize))


@rule("RFC 6749 §10.12", "The authorize request carries a non-trivial state")
def ensure_state_present(authorize: dict, min_length: int = 8) -> None:
    state = request_of(authorize).get("state") or ""
    if len(state) < min_length:
        raise RuleViolation(expected=f"state of at least {min_length} characters", actual=state or None,
                            where=ref(authorize))


@rule("OIDC Core 1.0 §3.1.2.1", "The authorize request carries a nonce to bind the ID token to the session")
def ensure_nonce_present(authorize: dict, min_length: int = 8) -> None:
    nonce = request_of(authorize).get("nonce") or ""
    if len(nonce) < min_length:
        raise RuleViolation(expected=f"nonce of at least {min_length} characters", actual=nonce or None,
                            where=ref(authorize))


@rule("OIDC Core 1.0 §3.1.2.1", "scope contains openid and only scopes the portal knows")
def ensure_scope_valid(authorize: dict, allowed: list[str]) -> None:
    scopes = (request_of(authorize).get("scope") or "").split()
    unknown = [s for s in scopes if s not in allowed]
    if "openid" not in scopes or unknown:
        raise RuleViolation(expected=f"'openid' and a subset of {allowed}", actual=" ".join(scopes) or None,
                            where=ref(authorize))


@rule("Portal rules (draft of QĐ 31/2021/QĐ-TTg) Art. 11(3)", "acr_values asks for a known level, no higher than the service needs")
def ensure_acr_values_valid(authorize: dict, allowed: list[str], service_acr: str | None) -> None:
    acr = request_of(authorize).get("acr_values")
    if acr is None:
        return  # the portal's default level applies
    levels = acr.split()
    if any(a not in allowed for a in levels):
        raise RuleViolation(expected=f"one of {allowed}", actual=acr, where=ref(authorize))
    if service_acr and service_acr in allowed and min(allowed.index(a) for a in levels) > allowed.index(service_acr):
        raise RuleViolation(expected=f"at most {service_acr} (the service's level)", actual=acr, where=ref(authorize),
                            note="step-up beyond the service's published assurance level")


@rule("RFC 6749 §4.1.3", "The code is exchanged at the token endpoint with the same redirect_uri")
def ensure_code_exchanged(entries: list[dict], token_path: str, authorize: dict | None) -> dict:
    tokens = [e for e in entries if e.get("role") == "sso" and path_is(e, token_path)
              and (e.get("method") or "POST").upper() == "POST"]
    if not tokens:
        raise RuleViolation(expected=f"POST {token_path} (grant_type=authorization_code)", actual="no token request")
    last = tokens[-1]
    body = request_of(last)
    if body.get("grant_type") not in (None, "authorization_code"):
        raise RuleViolation(expected="grant_type=authorization_code", actual=body.get("grant_type"), where=ref(last))
    if int(last.get("status_code") or 0) != 200:
        raise RuleViolation(expected="HTTP 200 with tokens", actual=f"HTTP {last.get('status_code')}: "
                            f"{response_of(last).get('error') or last.get('error')}", where=ref(last))
    if authorize and body.get("redirect_uri") and body["redirect_uri"] != request_of(authorize).get("redirect_uri"):
        raise RuleViolation(expected=request_of(authorize).get("redirect_uri"), actual=body.get("redirect_uri"),
                            where=ref(last))
    return last


@rule("OIDC Core 1.0 §5.3", "The system reads the citizen's claims from userinfo with the access token")
def ensure_userinfo_called(entries: list[dict], userinfo_path: str) -> dict:
    calls = [e for e in entries if e.get("role") == "sso" and path_is(e, userinfo_path)]
    if not calls:
        raise RuleViolation(expected=f"GET/POST {userinfo_path} with a Bearer token", actual="no userinfo call")
    ok = [e for e in calls if int(e.get("status_code") or 0) == 200]
    if not ok:
        raise RuleViolation(expected="HTTP 200", actual=f"HTTP {calls[-1].get('status_code')}", where=ref(calls[-1]))
    return ok[-1]


@rule("Portal rules (draft of QĐ 31/2021/QĐ-TTg) Art. 11(2)", "After the portal login the citizen lands logged in as the chosen identity")
def ensure_logged_in_as_identity(observed: dict[str, Any], identity: dict[str, Any]) -> None:
    if not observed.get("logged_in"):
        raise RuleViolation(expected=f"logged in as {identity.get('HoVaTen')}", actual=observed.get("landing") or
                            "the logged-in marker never appeared", where=observed.get("where"))


@rule("Portal rules (draft of QĐ 31/2021/QĐ-TTg) Art. 11(3)", "The citizen is not asked to log in again and lands on the requested service")
def ensure_no_second_login(authorize_count: int, landed_on_service: bool, where: str | None = None) -> None:
    if authorize_count > 1:
        raise RuleViolation(expected="one trip to the portal login", actual=f"{authorize_count} authorize requests",
                            where=where)
    if not landed_on_service:
        raise RuleViolation(expected="the requested service's form right after login",
                            actual="another page (a second login, or the deep link was lost)", where=where)


@rule("OIDC RP-Initiated Logout 1.0 §2", "Logout ends the portal session with id_token_hint and a registered return URI")
def ensure_logout_at_portal(entries: list[dict], logout_path: str, registered: list[str]) -> dict:
    calls = [e for e in entries if e.get("role") == "sso" and path_is(e, logout_path)]
    if not calls:
        raise RuleViolation(expected=f"GET {logout_path} at the portal", actual="the portal session was not ended")
    params = request_of(calls[-1])
    if not params.get("id_token_hint"):
        raise RuleViolation(expected="id_token_hint", actual=None, where=ref(calls[-1]))
    uri = params.get("post_logout_redirect_uri")
    if registered and uri and uri not in registered:
        raise RuleViolation(expected=registered, actual=uri, where=ref(calls[-1]))
    return calls[-1]


@rule("OIDC RP-Initiated Logout 1.0 §2", "After logout the system no longer shows the citizen as logged in")
def ensure_logged_out(observed: dict[str, Any]) -> None:
    if observed.get("logged_in_after_logout"):
        raise RuleViolation(expected="a page asking to log in", actual="still logged in after logout",
                            where=observed.get("where"))


@rule("OIDC Core 1.0 §3.1.3.7", "A login with an invalid ID token, state or code is refused")
def ensure_login_refused(mode: str, observed: dict[str, Any], forged: dict[str, Any] | None) -> None:
    """`forged`: the journal entry in which the portal served the forged message; without it the reply proves
    nothing (the mode may have been switched off before the exchange), so the case is not evaluated."""
    if observed.get("not_served") or observed.get("armed") is False:
        raise RuleNotEvaluated(observed.get("not_served") or f"the portal did not arm '{mode}'")
    if forged is None:
        raise RuleNotEvaluated(f"the portal's journal shows no exchange marked adversarial '{mode}': the forged "
                               f"message was never served, so the system's answer proves nothing")
    if observed.get("logged_in") is None:
        raise RuleNotEvaluated(f"the login attempt did not complete: {observed.get('landing')}")
    if observed.get("logged_in"):
        raise RuleViolation(expected=f"login refused ({mode})", actual="the citizen was logged in",
                            where=observed.get("where") or ref(forged), note=f"adversarial mode {mode}, served in {ref(forged)}")


def authorize_count(entries: list[dict], authorize_path: str) -> int:
    return len(select(entries, role="sso", path=authorize_path))


def same_origin(url: str, base: str) -> bool:
    a, b = urlparse(url), urlparse(base)
    return (a.scheme, a.netloc) == (b.scheme, b.netloc)


@rule("OWASP ASVS 4.0.3 V3.4", "The system's cookies are HttpOnly and SameSite")
def ensure_session_cookie_protected(set_cookies: list[str]) -> None:
    """`set_cookies`: raw Set-Cookie headers the system (not the portal) sent during the SSO login."""
    if not set_cookies:
        raise RuleNotApplicable("the system set no cookie")
    weak = {}
    for header in set_cookies:
        name = header.split("=", 1)[0].strip()
        attrs = {a.strip().split("=", 1)[0].lower(): (a.split("=", 1)[1].strip().lower() if "=" in a else True)
                 for a in header.split(";")[1:]}
        if attrs.get("max-age") == "0" or "1970" in str(attrs.get("expires", "")):
            continue  # a cookie being deleted
        if "httponly" not in attrs or attrs.get("samesite") not in ("lax", "strict"):
            weak[name] = {"HttpOnly": "httponly" in attrs, "SameSite": attrs.get("samesite")}
    if weak:
        raise RuleViolation(expected="HttpOnly; SameSite=Lax or Strict", actual=weak)
