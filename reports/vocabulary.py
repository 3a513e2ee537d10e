"""What a rule, a negative case and a note are called in the officer's language.

Titles and sources come from the rule catalogue (conformance/rules/catalogue.yaml) when it names the rule,
else from reports/vocabulary.yaml, the reports' own table; English titles are the suite's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
VOCABULARY = HERE / "vocabulary.yaml"
CATALOGUE = HERE.parent / "conformance" / "rules" / "catalogue.yaml"
# a citation of the domain brief the suite keeps in some clauses; never printed to an officer
INTERNAL_CITATION = re.compile(r"\b(?:DOMAIN|SHARE)\b[^/;]*")


@dataclass(frozen=True)
class Entry:
    title_vi: str = ""
    source_vi: str = ""


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}


def catalogue() -> dict[str, Entry]:
    """rule_id -> Entry from the rule catalogue, read in any of its plain shapes; empty when absent."""
    return _catalogue_at(CATALOGUE)


@lru_cache(maxsize=4)
def _catalogue_at(path: Path) -> dict[str, Entry]:
    data = _read_yaml(path)
    if isinstance(data, dict) and isinstance(data.get("rules"), (dict, list)):
        data = data["rules"]
    items = data.items() if isinstance(data, dict) else ((d.get("rule_id"), d) for d in data if isinstance(d, dict))
    out = {}
    for rule_id, value in items:
        if isinstance(value, dict) and rule_id:
            source = value.get("citation_vi") or value.get("source_vi") or value.get("citation") or ""
            if isinstance(source, dict):
                source = source.get("vi") or source.get("citation") or source.get("title") or ""
            out[str(rule_id)] = Entry(str(value.get("title_vi") or ""), str(source or ""))
    return out


@lru_cache(maxsize=1)
def table() -> dict[str, Any]:
    """The reports' own table; a broken file is a bug to see at once, not a report printed in English."""
    return yaml.safe_load(VOCABULARY.read_text(encoding="utf-8"))


def entry(rule_id: str) -> Entry:
    """The catalogue's entry, completed by the reports' own table."""
    own = table().get("rules", {}).get(rule_id) or {}
    if not own and rule_id.startswith("complete_"):
        flow = flow_name(rule_id.removeprefix("complete_"))
        own = {"title_vi": table()["flow_title_vi"].format(flow=flow), "source_vi": table()["flow_source_vi"]}
    found = catalogue().get(rule_id) or (catalogue().get("complete_flow", Entry()) if rule_id.startswith("complete_")
                                         else Entry())
    if rule_id.startswith("complete_") and own:  # the flow-specific title names the step that broke
        return Entry(own["title_vi"], found.source_vi or own.get("source_vi", ""))
    return Entry(found.title_vi or own.get("title_vi", ""), found.source_vi or own.get("source_vi", ""))


def flow_name(flow: str) -> str:
    return table().get("flows", {}).get(flow, flow.replace("_", " "))


def variant_name(variant: str, language: str = "vi") -> str:
    """The negative case as its row names it; English keeps the case's id, readable."""
    if language == "vi":
        return table().get("variants", {}).get(variant) or variant.replace("_", " ")
    return variant.replace("_", " ")


def rule_title(rule_id: str, english: str, language: str = "vi") -> str:
    """What a rule checks: the Vietnamese title, else a Vietnamese sentence naming it; English as the suite says."""
    if language != "vi":
        return english or rule_id.replace("_", " ")
    return entry(rule_id).title_vi or f"Quy tắc {rule_id.removeprefix('ensure_').replace('_', ' ')}"


def rule_source(rule_id: str, clause: str, language: str = "vi") -> str:
    """The source a rule enforces, without the suite's internal citations."""
    if language == "vi" and entry(rule_id).source_vi:
        return entry(rule_id).source_vi
    parts = [p.strip() for p in INTERNAL_CITATION.sub("", clause).split("/")]
    return " / ".join(p for p in parts if p.strip(" ()")) or clause


def is_vietnamese(text: str) -> bool:
    """True when a text carries Vietnamese letters (the suite writes some notes in Vietnamese already)."""
    return bool(re.search(r"[ăâđêôơưĂÂĐÊÔƠƯàáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵ]", text))


def translate(text: str, language: str = "vi") -> str | None:
    """A note or reason of the suite in Vietnamese, or None when it is not one the table knows."""
    text = " ".join((text or "").split())
    halves = text.split(" / ", 1)
    if len(halves) == 2 and is_vietnamese(halves[0]) and not is_vietnamese(halves[1]):
        return halves[0] if language == "vi" else halves[1]  # the suite's bilingual notes: 'vi / en'
    raw = "{'" in text or "ensure_" in text or "Error:" in text  # the suite's technical sentence, never as is
    if language != "vi" or not text:
        return text
    # before the Vietnamese shortcut: an English sentence may quote the portal's Vietnamese words
    for item in table().get("notes", []):
        match = re.fullmatch(item["pattern"], text, flags=re.IGNORECASE)
        if match:
            groups = {k: _name_of(v) for k, v in match.groupdict().items()}
            return item["vi"].format(**groups)
    return text if is_vietnamese(text) and not raw else None


def _name_of(value: str) -> str:
    """A flow or negative case named inside a note, in Vietnamese when the table knows it."""
    return table().get("variants", {}).get(value) or table().get("flows", {}).get(value) or value


def short_title(rule_id: str, language: str = "vi") -> str:
    """A few words naming a rule where space is short (page 1's 'Đạt, trừ: …'), when the table has them."""
    if language != "vi":
        return ""
    return (table().get("rules", {}).get(rule_id) or {}).get("short_vi", "")


def has_flag(note: str, flag: str) -> bool:
    """True when the table marks the note with `flag` (elsewhere: evaluated on another service; not_run)."""
    text = " ".join((note or "").split())
    return any(item.get(flag) and re.fullmatch(item["pattern"], text, flags=re.IGNORECASE)
               for item in table().get("notes", []))


def is_elsewhere(note: str) -> bool:
    """True when a note says the rule was evaluated on another service of the same run."""
    return has_flag(note, "elsewhere")
