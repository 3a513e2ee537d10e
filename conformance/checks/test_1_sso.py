"""Kiểm tra 1 — Đăng nhập một lần (SSO) từ Cổng DVCQG.

Rule (Hà Giang testing procedure §3.1 (1); portal rules, draft of QĐ 31/2021/QĐ-TTg, Điều 11 khoản 3): "Kiểm tra
cơ chế đăng nhập một lần từ Cổng Dịch vụ công quốc gia tới hệ thống cung cấp dịch vụ công"; after logging in on
the portal the system "không yêu cầu tổ chức, cá nhân đăng nhập, xác thực lại" unless the service needs a higher
assurance level. Contract: OAuth 2.0 authorization code with OpenID Connect (docs/domain/): authorize (registered redirect_uri, state, nonce, scope, acr) → token → userinfo;
logout with id_token_hint. Negative cases: an ID token signed with a foreign key or unsigned, with a wrong
issuer, audience or nonce, expired, a tampered state and a replayed code must all be refused.
"""

from conformance.rules import owned, sso

CHECK = "sso"
# every rule this check owns appears in its result; ensure_login_refused once per attack (rules/variants.yaml)
RULES = owned(
    required=[sso.ensure_authorize_request_sent, sso.ensure_redirect_uri_registered, sso.ensure_state_present,
              sso.ensure_nonce_present, sso.ensure_scope_valid, sso.ensure_code_exchanged, sso.ensure_userinfo_called,
              sso.ensure_logged_in_as_identity, sso.ensure_no_second_login, sso.ensure_logout_at_portal,
              sso.ensure_logged_out, sso.ensure_login_refused],
    advisory=[sso.ensure_acr_values_valid, sso.ensure_session_cookie_protected],
)


def test_1_sso(kt_check):
    """SSO: the citizen arrives from the portal logged in, once, and invalid logins are refused"""
    with kt_check as c:
        run, paths = kt_check.run, kt_check.profile["sso"]["paths"]
        client = kt_check.target["portal"]["sso_client"]
        login = run.ensure("citizen_login")
        kt_check.flow(login)
        landing = run.ensure("open_service")
        logout = run.ensure("logout")
        entries = kt_check.logins(login)
        kt_check.journal += entries + kt_check.logins(landing, logout)

        auth = c.require(sso.ensure_authorize_request_sent, entries, paths["authorize"])
        if auth:
            c.require(sso.ensure_redirect_uri_registered, auth, client["client_id"], client["redirect_uris"])
            c.require(sso.ensure_state_present, auth)
            c.require(sso.ensure_nonce_present, auth)
            c.require(sso.ensure_scope_valid, auth, kt_check.profile["sso"]["scopes_allowed"])
            c.advise(sso.ensure_acr_values_valid, auth, kt_check.profile["sso"]["acr_values"], kt_check.scenario.get("acr"))
            c.require(sso.ensure_code_exchanged, entries, paths["token"], auth)
            c.require(sso.ensure_userinfo_called, entries, paths["userinfo"])
        c.require(sso.ensure_logged_in_as_identity, login.observations, run.identity)
        if login.ok:
            c.advise(sso.ensure_session_cookie_protected, login.observations.get("set_cookies", []))
        if login.ok or (auth and not login.observations.get("refused_page")):
            # back from the portal but not logged in, and no failure page: the system asked for another login
            c.require(sso.ensure_no_second_login, sso.authorize_count(entries + kt_check.logins(landing), paths["authorize"]),
                      login.ok and landing.observations.get("landed_on_service", False), login.observations.get("where"))

        if logout.skipped is None:
            kt_check.flow(logout)
            c.require(sso.ensure_logout_at_portal, kt_check.logins(logout), paths["logout"],
                      client.get("post_logout_redirect_uris") or [])
            if logout.ok:
                c.require(sso.ensure_logged_out, logout.observations)
        else:
            c.not_evaluated(sso.ensure_logout_at_portal, f"the logout was not run: {logout.skipped}")
            c.not_evaluated(sso.ensure_logged_out, f"the logout was not run: {logout.skipped}")

        for mode, observed in run.sso_negatives().items():
            kt_check.journal += observed.pop("journal", [])
            forged = observed.get("forged")
            proof = kt_check.exchange(mode, forged)
            c.require(sso.ensure_login_refused, mode, observed, forged, variant=mode,
                      evidence=[proof, observed.get("where")])
