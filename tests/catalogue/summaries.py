"""What the shard-and-merge tests read from a run directory's summary.json, and how they compare two runs."""

from __future__ import annotations

import json
from pathlib import Path


def summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))


def verdicts(data: dict) -> dict[tuple[str, str], str]:
    """(service id, check) → verdict, for every check of every service."""
    return {(s["id"], name): c["verdict"] for s in data["services"] for name, c in s["checks"].items()}


def service_ids(data: dict) -> list[str]:
    return sorted(s["id"] for s in data["services"])


def dossier_code_count(data: dict) -> int:
    return sum(len(s["dossier_codes"]) for s in data["services"])


def completion(data: dict) -> dict[str, bool]:
    return {s["id"]: s["completed"] for s in data["services"]}
