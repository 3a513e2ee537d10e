"""Services under test: one YAML file per published online public service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from schemas import SAFE_LOADER

ROOT = Path(__file__).resolve().parent


class ScenarioError(ValueError):
    """A scenario file broke its schema; the message names the file, field, rule and value."""


def load_scenario(path: str | Path) -> dict[str, Any]:
    """Load and validate one scenario file (relative names resolve inside `scenarios/`)."""
    from schemas import validator

    p = Path(path)
    if not p.is_absolute() and not p.exists():
        p = ROOT / p
    data = yaml.load(p.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    errors = sorted(validator("scenario").iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        where = "/".join(str(x) for x in e.absolute_path) or "(root)"
        raise ScenarioError(f"{p.name}: field '{where}' breaks rule '{e.validator}': {e.message}")
    data["_file"] = str(p)
    return data


def load_scenarios(folder: str | Path | None = None) -> list[dict[str, Any]]:
    """All scenarios of a folder (default: the shipped ones), sorted by id."""
    folder = Path(folder) if folder else ROOT
    return sorted((load_scenario(p) for p in folder.glob("*.yaml")), key=lambda s: s["id"])


def sample_file(scenario: dict[str, Any], document: dict[str, Any]) -> Path | None:
    """Absolute path of a document's sample file, resolved next to the scenario file."""
    if not document.get("sample_file"):
        return None
    return Path(scenario["_file"]).parent / document["sample_file"]
