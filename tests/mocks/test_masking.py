"""Journal masking: credential fields keep a fingerprint so a replayed code or a reused session is recognisable,
but the fingerprint is keyed (HMAC-SHA256 with a random key the mock holds in memory only), so neither the live
journal nor the mock's SQLite file can confirm a guessed secret."""

from __future__ import annotations

import hashlib
import subprocess
import sys

from mocks import masking
from mocks.masking import fingerprint
from mocks.store import Store
from tests.artefacts import sqlite_dump

SECRET, CODE = "PLANTED-adapter-password-31a9", "w_51fuRW6CT-Rb3itmfpXI_dL9936xAFrvpmhKkAjB0"


def unkeyed(value: str) -> set[str]:
    """Stand-ins anyone could compute from a guess: the first hex digits of common hashes of the value."""
    return {hashlib.new(alg, value.encode()).hexdigest()[:8] for alg in ("sha256", "sha1", "md5", "sha512")}


def test_a_fingerprint_tells_equal_values_apart_and_is_no_plain_hash():
    assert fingerprint(CODE) == fingerprint(CODE) != fingerprint(CODE + "x")
    assert fingerprint(CODE).startswith("***#")
    assert not any(h in fingerprint(CODE) for h in unkeyed(CODE))


def test_each_mock_process_has_its_own_key():
    cmd = [sys.executable, "-c", f"from mocks.masking import fingerprint; print(fingerprint({CODE!r}))"]
    first, second = (subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip() for _ in range(2))
    assert first.startswith("***#") and first != second != fingerprint(CODE)


def test_the_sqlite_journal_holds_neither_the_secret_nor_a_plain_fingerprint_nor_the_key(tmp_path):
    path = tmp_path / "portal.sqlite"
    store = Store(str(path), commit_interval=60)
    try:
        for _ in range(2):
            store.record(role="adapter", direction="in", method="POST", path="/adapter/login", service="login",
                         request={"username": "btp", "password": SECRET, "nested": {"code": CODE}}, status_code=200)
        entries = store.journal()
        store.flush()
        store.checkpoint()
        dump = sqlite_dump(path)
    finally:
        store.close()
    assert entries[0]["request"]["password"] == entries[1]["request"]["password"] == fingerprint(SECRET)
    assert entries[0]["request"]["nested"]["code"] == fingerprint(CODE)
    raw = path.read_bytes() + dump.encode()
    assert SECRET.encode() not in raw and CODE.encode() not in raw
    assert not any(h.encode() in raw for h in unkeyed(SECRET) | unkeyed(CODE))
    key = masking._FINGERPRINT_KEY
    assert key not in raw and key.hex().encode() not in raw


def test_codes_session_keys_and_cookies_in_free_text_are_masked_in_the_journal(tmp_path):
    """A path or an error text is no JSON field: a code, session key or cookie in it is masked by its shape."""
    store = Store(":memory:")
    try:
        store.record(role="sso", direction="out", method="GET", path=f"/sso/callback?code={CODE}&state=s-1",
                     status_code=302, request=f"sessionDataKey={SECRET}", error=f"Cookie: commonAuthId={SECRET}")
        entry = store.journal()[0]
    finally:
        store.close()
    assert entry["path"] == "/sso/callback?code=***&state=s-1"
    assert SECRET not in str(entry) and CODE not in str(entry) and "commonAuthId=***" in entry["error"]
