"""Keeps secrets out of every artefact: each string a report writes passes through `clean`.

The summary should hold no secret to begin with; this is the second line of defence. It masks what the
logging layer knows (registered secrets, bearer tokens, JWTs, `password=...` shapes) and the values of
environment variables named like secrets, so a secret that slipped into a rule's `actual` value or a
notes field is not printed.
"""

from __future__ import annotations

import os
import re

from kiemthu.logs import MASK, redact

SECRET_ENV_NAME = re.compile(r"(?i)(secret|passw|token|api_?key|private_?key|credential)")
MIN_SECRET_LEN = 6  # shorter values would mask ordinary words


def environment_secrets() -> list[str]:
    """Values of environment variables whose names look like secrets, longest first."""
    values = {v for k, v in os.environ.items() if SECRET_ENV_NAME.search(k) and len(v) >= MIN_SECRET_LEN}
    return sorted(values, key=len, reverse=True)


def clean(value: object) -> str:
    """A value as text, with secrets masked."""
    text = "" if value is None else str(value)
    text = redact(text)
    for secret in environment_secrets():
        text = text.replace(secret, MASK)
    return text
