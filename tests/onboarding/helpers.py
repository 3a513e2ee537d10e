"""What a new user does with the files `kiemthu init` wrote: fill the variables .env.example asks for."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

ASKED = re.compile(r"^([A-Z][A-Z0-9_]*)=$", re.MULTILINE)


def asked_variables(env_example: Path) -> list[str]:
    """The variables .env.example leaves empty for the user to fill."""
    return ASKED.findall(env_example.read_text(encoding="utf-8"))


def fill_env_example(env_example: Path) -> dict[str, str]:
    """A random value for each variable asked for, as `.env` would give it (and nothing else)."""
    return {name: secrets.token_urlsafe(18) for name in asked_variables(env_example)}
