"""Contract data: JSON Schemas and contract profiles. Code reads facts from here, never hard-codes them."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

# libyaml's loader when present: the same documents, ten times faster to parse
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

ROOT = Path(__file__).resolve().parent
DEFAULT_PROFILE = "dvcqg-1.0"


@lru_cache(maxsize=None)
def load_schema(name: str, profile: str | None = None) -> dict[str, Any]:
    """Load `<name>.schema.json` from `schemas/<profile>/` (message schemas) or `schemas/` (project schemas)."""
    folder = ROOT / profile if profile else ROOT
    path = folder / f"{name}.schema.json"
    if not path.is_file():
        raise FileNotFoundError(f"no schema '{name}' in {folder}")
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def load_profile(name: str | None = None) -> dict[str, Any]:
    """Load a contract profile (paths, field orders, enumerations, code formats) by name."""
    name = name or DEFAULT_PROFILE
    path = ROOT / "profiles" / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in (ROOT / "profiles").glob("*.yaml")))
        raise FileNotFoundError(f"unknown contract profile '{name}' (known: {known})")
    return yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)


def validator(name: str, profile: str | None = None):
    """A Draft 2020-12 validator for a schema, with format checking."""
    from jsonschema import Draft202012Validator

    schema = load_schema(name, profile)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
