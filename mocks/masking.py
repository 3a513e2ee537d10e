"""Masking of secrets, tokens and codes before anything is written to the journal.

Field-based masking replaces whole values of credential fields; a short fingerprint is kept so a replayed code
or a reused session can still be recognised in the journal without revealing it. `kiemthu.logs.redact` then
catches registered secrets and credential shapes anywhere else in the text.
"""

from __future__ import annotations

import hashlib
from typing import Any

from kiemthu.logs import MASK, redact

# Fields whose values are credentials (compared case-insensitively).
SECRET_FIELDS = frozenset({
    "password", "client_secret", "secret", "session", "access_token", "id_token", "refresh_token", "code",
    "code_verifier", "token", "id_token_hint", "authorization", "cookie", "set-cookie", "sessiondatakey",
})


def fingerprint(value: str) -> str:
    """A masked stand-in that still tells equal values apart: `***#1a2b3c4d`."""
    return f"{MASK}#{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()[:8]}"


def mask(value: Any) -> Any:
    """A copy of a JSON-like value with every credential field replaced by its fingerprint."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(k, str) and k.lower() in SECRET_FIELDS and v not in (None, ""):
                out[k] = fingerprint(v) if isinstance(v, str) else MASK
            else:
                out[k] = mask(v)
        return out
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def mask_text(text: str) -> str:
    """Registered secrets and credential shapes masked in free text."""
    return redact(text)
