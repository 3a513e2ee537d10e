"""Secrets never reach log output: one redaction filter on every handler."""

from __future__ import annotations

import io
import logging

from kiemthu.logs import RedactingFilter, redact, register_secret


def test_filter_removes_registered_secret_values():
    register_secret("payment-key-9f8e7d")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("mocks.test-redaction")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        log.info("INIT checksum secret=%s sent", "payment-key-9f8e7d")
        log.info("header Authorization: Bearer abc.def.ghi")
        log.info("form client_secret=xyz123&code=1")
    finally:
        log.removeHandler(handler)
    text = stream.getvalue()
    assert "payment-key-9f8e7d" not in text
    assert "abc.def.ghi" not in text and "xyz123" not in text
    assert text.count("***") == 4  # the form's authorization code too


def test_jwt_shapes_are_masked_even_unregistered():
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
    assert token not in redact(f"id_token_hint {token} end")


def test_plain_text_is_untouched():
    assert redact("Mã số hồ sơ 000.00.00.G15-261122-0001") == "Mã số hồ sơ 000.00.00.G15-261122-0001"


def test_codes_session_keys_and_cookies_are_masked_wherever_they_are_written():
    """A code or session key in a URL, a cookie header and Basic credentials are credentials even unregistered."""
    lines = {
        "GET /sso/callback?code=w_51fuRW6CT-Rb3itm&state=s-1": "GET /sso/callback?code=***&state=s-1",
        "login?sessionDataKey=ASCxOyOcP47nPq": "login?sessionDataKey=***",
        "oidc/logout?id_token_hint=abc.def&post_logout_redirect_uri=x": "oidc/logout?id_token_hint=***&post_logout_redirect_uri=x",
        "Cookie: btp_sso=mFSRgogz; btp_phien=7DrmQ3dJ": "Cookie: btp_sso=***; btp_phien=***",
        "set-cookie: commonAuthId=F8eCNSUg; HttpOnly; Path=/": "set-cookie: commonAuthId=***; HttpOnly; Path=/",
        "Authorization: Basic YnRwOnNlY3JldA==": "Authorization: Basic ***",
    }
    assert {line: redact(line) for line in lines} == lines


def test_a_keyed_fingerprint_is_left_readable():
    """`***#…` is already a masked stand-in: it stays, so a reused session is still recognisable in the journal."""
    text = '{"sessionDataKey": "***#9c96fdfb46b5", "client_secret": "***#0a1b2c3d4e5f"}'
    assert redact(text) == text
