"""Values and findings as sentences an officer reads: no Python repr, no cut inside a word."""

from __future__ import annotations

import json
from typing import Any

from reports import vocabulary
from reports.guard import clean

ELLIPSIS = "…"


def shorten(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut after a whole word (an ellipsis marks the cut)."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    cut = head.rfind(" ")
    if cut > limit // 2:
        head = head[:cut]
    return head.rstrip(" ,;:—-(") + ELLIPSIS


def first_sentence(text: str) -> str:
    """The text up to its first sentence end (a period followed by a space), the period kept."""
    text = " ".join(text.split())
    for i, ch in enumerate(text):
        if ch in ".;" and (i + 1 == len(text) or text[i + 1] == " ") and not text[max(0, i - 1)].isdigit():
            return text[: i + 1] if ch == "." else text[:i] + "."
    return text


def format_value(value: Any, language: str = "vi", limit: int = 300) -> str:
    """A value as words: 'MaLoi = 00, MoTaLoi = Thành công' for a mapping, '1, 2' for a list, text as itself."""
    if value is None or value == "":
        return ""
    if isinstance(value, str) and value[:1] in "{[":
        try:
            value = json.loads(value)
        except ValueError:
            pass
    return shorten(clean(_words(value, language)), limit)


def _words(value: Any, language: str) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} = {_inner(v, language)}" for k, v in value.items())
    if isinstance(value, (list, tuple, set)):
        return ", ".join(_inner(v, language) for v in value) or "—"
    if isinstance(value, bool):
        return ("có" if value else "không") if language == "vi" else ("yes" if value else "no")
    text = str(value)
    return (vocabulary.translate(text, language) or text) if isinstance(value, str) else text


def _inner(value: Any, language: str) -> str:
    if isinstance(value, (dict, list, tuple, set)):
        return f"({_words(value, language)})"
    return _words(value, language)


def note_text(note: str, language: str = "vi") -> str:
    """A note of the suite in the reader's language; a note the table does not know is left out in Vietnamese."""
    if not note:
        return ""
    translated = vocabulary.translate(note, language)
    return translated if translated is not None else ""
