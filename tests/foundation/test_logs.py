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
