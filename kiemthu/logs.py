"""Logging: one logger per package, and one redaction filter used everywhere.

Secrets are registered once (`register_secret`) when they are read from the environment; every handler
installed by `setup_logging` carries `RedactingFilter`, so a secret value never reaches a log line.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"
_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None

# Names of parameters and fields whose values are credentials (lower case; query, form, JSON, HTML inputs).
CREDENTIAL_NAMES = frozenset({
    "password", "client_secret", "secret", "session", "access_token", "id_token", "refresh_token", "code",
    "code_verifier", "token", "id_token_hint", "sessiondatakey",
})

# Values that look like credentials even when nobody registered them: bearer and basic credentials, JWTs, named
# fields, codes and session keys in URLs, cookie headers. A masked fingerprint (`***#…`) is left as it is.
_GENERIC = [
    re.compile(r"(?i)((?:bearer|basic)\s+)(?!\*\*\*)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    re.compile(r"(?i)((?:client_secret|password|secret|access_token|id_token_hint|id_token|refresh_token|code_verifier"
               r"|sessiondatakey)[\"']?\s*[:=]\s*[\"']?)(?!\*\*\*)[^\s\"'&,}]+"),
    re.compile(r"(?i)((?:^|[?&#;\s\"'])(?:code|token|session)=)(?!\*\*\*)[^&#\s\"'<>;\\]+"),
]
# Cookie and Set-Cookie header values: each cookie keeps its name, loses its value.
_COOKIE_HEADER = re.compile(r"(?im)((?:^|[\s\"'])(?:set-)?cookie[\"']?\s*:\s*[\"']?)([^\r\n\"']+)")
_COOKIE_PAIR = re.compile(r"(^|;\s*)([^=;\s]+)=([^;]*)")


def register_secret(value: str | None) -> None:
    """Remember a secret value so every log line masks it. Short values (< 4 chars) are ignored."""
    global _pattern
    if not value or len(value) < 4:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def redact(text: str) -> str:
    """Mask registered secrets and generic credential shapes in a string."""
    if _pattern is not None:
        text = _pattern.sub(MASK, text)
    for rx in _GENERIC:
        text = rx.sub(lambda m: (m.group(1) if m.groups() else "") + MASK, text)
    return _COOKIE_HEADER.sub(_mask_cookies, text)


def _mask_cookies(m: re.Match) -> str:
    header = m.group(0)[: m.start(2) - m.start(0)]
    if "set-cookie" in header.lower():  # only the first pair is the cookie; the rest are its attributes
        return header + _COOKIE_PAIR.sub(lambda p: f"{p.group(1)}{p.group(2)}={MASK}", m.group(2), count=1)
    return header + _COOKIE_PAIR.sub(lambda p: f"{p.group(1)}{p.group(2)}={MASK}", m.group(2))


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def get_logger(name: str) -> logging.Logger:
    """The logger of a package (`kiemthu`, `mocks`, `conformance`, `reports`, `loadtest`)."""
    return logging.getLogger(name)


def setup_logging(level: int | str = "INFO", file: str | None = None) -> None:
    """Install stderr (and optional file) handlers, each with the redaction filter, on the root logger."""
    root = logging.getLogger()
    root.setLevel(level)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if file:
        handlers.append(logging.FileHandler(file, encoding="utf-8"))
    for h in handlers:
        h.setFormatter(fmt)
        h.addFilter(RedactingFilter())
        root.addHandler(h)
    install_filter_on_existing_handlers()


def install_filter_on_existing_handlers() -> None:
    """Attach the filter to handlers others created (uvicorn, locust) so nothing bypasses it."""
    loggers = [logging.getLogger()] + [logging.getLogger(n) for n in list(logging.root.manager.loggerDict)]
    for lg in loggers:
        for h in getattr(lg, "handlers", []):
            if not any(isinstance(f, RedactingFilter) for f in h.filters):
                h.addFilter(RedactingFilter())
