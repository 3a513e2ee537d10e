"""Masking of secrets, tokens and codes before anything is written to the journal.

Field-based masking replaces whole values of credential fields; a short fingerprint is kept so a replayed code
or a reused session can still be recognised in the journal without revealing it. The fingerprint is keyed (HMAC
with a random key this process holds in memory and never writes), so it cannot confirm a guessed secret. `kiemthu.logs.redact` then
catches registered secrets and credential shapes anywhere else in the text.
"""

from __future__ import annotations

import hmac
import secrets
from functools import lru_cache
from typing import Any

from kiemthu import logs
from kiemthu.logs import MASK, redact

# Fields whose values are credentials (compared case-insensitively).
SECRET_FIELDS = frozenset({
    "password", "client_secret", "secret", "session", "access_token", "id_token", "refresh_token", "code",
    "code_verifier", "token", "id_token_hint", "authorization", "cookie", "set-cookie", "sessiondatakey",
})


# one key per mock process, that is per run: equal values match within the run's journal and nowhere else
_FINGERPRINT_KEY = secrets.token_bytes(32)


@lru_cache(maxsize=1024)  # the same session or token comes back with every message of a client
def fingerprint(value: str) -> str:
    """A masked stand-in that still tells equal values apart: `***#1a2b3c4d5e6f` (HMAC-SHA256, 48 bits shown)."""
    return f"{MASK}#{hmac.digest(_FINGERPRINT_KEY, value.encode('utf-8', 'replace'), 'sha256')[:6].hex()}"


_key_is_secret: dict[str, bool] = {}


def _secret_key(key: Any) -> bool:
    hit = _key_is_secret.get(key)
    if hit is None:
        hit = isinstance(key, str) and key.lower() in SECRET_FIELDS
        if len(_key_is_secret) < 10_000:  # fuzzed input must not grow the memo without bound
            _key_is_secret[key] = hit
    return hit


def mask(value: Any) -> Any:
    """A copy of a JSON-like value with every credential field replaced by its fingerprint."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if v.__class__ in (dict, list):
                out[k] = MASK if _secret_key(k) and v else mask(v)
            elif _secret_key(k) and v not in (None, ""):
                out[k] = fingerprint(v) if isinstance(v, str) else MASK
            else:
                out[k] = v
        return out
    if isinstance(value, list):
        return [mask(v) if v.__class__ in (dict, list) else v for v in value]
    return value


# Words that must appear in a text for kiemthu.logs' generic credential patterns to match it. A JSON body's
# credential fields are masked by name, so its check needs fewer words than free text (URLs, headers, errors),
# where a code, a session key or a cookie travels as `name=value`: five searches fewer on every adapter message.
_GENERIC_HINTS = (b"bearer", b"eyj", b"secret", b"password", b"token", b"code_verifier")
_TEXT_HINTS = _GENERIC_HINTS + (b"code=", b"session=", b"sessiondatakey", b"cookie", b"basic ")


def masked_json(value: Any, dumpb) -> bytes:
    """JSON of `value` (bytes) with credential fields masked."""
    return masked_json_checked(value, dumpb)[0]


_plain_keys: set[str] = set()  # field names seen and known not to be credentials


def _holds_secret_key(value: Any) -> bool:
    """Whether a credential field name sits anywhere in a JSON-like value (a loop, not recursion: it is cheaper)."""
    stack = [value]
    pop, push = stack.pop, stack.append
    while stack:
        current = pop()
        if current.__class__ is dict:
            if not current.keys() <= _plain_keys:  # one set operation for the usual case: only known field names
                for k in current:
                    if _secret_key(k):
                        return True
                    if k.__class__ is str and len(_plain_keys) < 10_000:  # fuzzed input must not grow it unbounded
                        _plain_keys.add(k)
            children = current.values()
        elif current.__class__ is list:
            children = current
        else:
            continue
        for v in children:
            kind = v.__class__
            if kind is dict or kind is list:
                push(v)
    return False


def masked_json_checked(value: Any, dumpb) -> tuple[bytes, bool]:
    """JSON of `value` with credential fields masked, and whether the text may still hold a credential.

    Top-level credential fields are masked directly; the whole structure is copied and masked only when a
    credential field sits deeper down, which keeps journalling a large dossier cheap."""
    if not isinstance(value, dict):
        raw = dumpb(mask(value))
        return raw, may_hold_credentials(raw)
    top = {}
    for k, v in value.items():
        if v.__class__ in (dict, list):
            if _secret_key(k) or _holds_secret_key(v):
                raw = dumpb(mask(value))
                return raw, may_hold_credentials(raw)
            top[k] = v
        elif _secret_key(k) and v not in (None, ""):
            top[k] = fingerprint(v) if isinstance(v, str) else MASK
        else:
            top[k] = v
    raw = dumpb(top)
    return raw, _hints(raw, raw.lower())


_registered_cache: tuple[int, tuple[bytes, ...], tuple[str, ...]] = (-1, (), ())


def _registered() -> tuple[tuple[bytes, ...], tuple[str, ...]]:
    """Registered secrets as bytes and as text (rebuilt only when one was added: the set only grows)."""
    global _registered_cache
    secrets_ = getattr(logs, "_secrets", None)
    if secrets_ is None:
        return (), ()
    if _registered_cache[0] != len(secrets_):
        _registered_cache = (len(secrets_), tuple(s.encode("utf-8") for s in secrets_), tuple(secrets_))
    return _registered_cache[1], _registered_cache[2]


# `find` rather than `in`: on bytes, `in` first tries the needle as an integer and clears the TypeError, which
# costs more than the search itself in a short text
def _hints(raw: bytes, lowered: bytes, hints: tuple[bytes, ...] = _GENERIC_HINTS) -> bool:
    for h in hints:
        if lowered.find(h) >= 0:
            return True
    for s in _registered()[0]:
        if raw.find(s) >= 0:
            return True
    return False


_GENERIC_HINTS_TEXT = tuple(h.decode() for h in _TEXT_HINTS)


def _text_hints(text: str) -> bool:
    lowered = text.lower()
    for h in _GENERIC_HINTS_TEXT:
        if h in lowered:
            return True
    for s in _registered()[1]:
        if s in text:
            return True
    return False


def may_hold_credentials(raw: bytes | str) -> bool:
    """Cheap pre-check: could redaction change this text? Most journal texts contain no credential, and running
    every pattern over every message would be the largest cost of journalling."""
    if getattr(logs, "_secrets", None) is None:
        return True
    if isinstance(raw, str):
        return _text_hints(raw)
    return _hints(raw, raw.lower(), _TEXT_HINTS)


_short_texts: dict[str, str] = {}   # short texts that come back with every message (paths), masked
_short_texts_secrets = -1           # how many secrets were registered when they were masked


def mask_text(text: str) -> str:
    """Registered secrets and credential shapes masked in free text."""
    global _short_texts_secrets
    if not text:
        return text
    if len(text) > 200:
        return redact(text) if may_hold_credentials(text) else text
    registered = len(getattr(logs, "_secrets", None) or ())
    if registered != _short_texts_secrets:  # a secret registered since: mask them again
        _short_texts.clear()
        _short_texts_secrets = registered
    masked = _short_texts.get(text)
    if masked is None:
        masked = redact(text) if may_hold_credentials(text) else text
        if len(_short_texts) < 4096:  # fuzzed input must not grow it without bound
            _short_texts[text] = masked
    return masked


def redact_leaves(value: Any) -> Any:
    """Redaction applied to each string of a JSON-like value (redacting serialized JSON could break its quoting)."""
    if isinstance(value, dict):
        return {k: redact_leaves(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_leaves(v) for v in value]
    if isinstance(value, str):
        return mask_text(value)
    return value
