"""Named cases of a rule (conformance/rules/variants.yaml): the attacks of the negative cases, with their titles."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

VARIANTS_FILE = Path(__file__).with_name("variants.yaml")


@functools.cache
def _variants() -> dict[str, dict[str, dict[str, Any]]]:
    import yaml

    data = yaml.safe_load(VARIANTS_FILE.read_text(encoding="utf-8")) or {}
    return {str(rule): {str(v): dict(info or {}) for v, info in (cases or {}).items()} for rule, cases in data.items()}


def variant_names(rule_id: str) -> list[str]:
    return list(_variants().get(rule_id, {}))


def variant_info(rule_id: str, variant: str) -> dict[str, Any]:
    """{title_vi, attack} of one case; empty for a case the file does not list."""
    return _variants().get(rule_id, {}).get(variant, {})


def title_vi(rule_id: str, variant: str | None = None) -> str | None:
    """The Vietnamese title of a rule (or of one of its cases), when the variants file or the catalogue has one."""
    from conformance.rules.core import legal_source

    if variant and variant_info(rule_id, variant).get("title_vi"):
        return variant_info(rule_id, variant)["title_vi"]
    return legal_source(rule_id).get("title_vi")
