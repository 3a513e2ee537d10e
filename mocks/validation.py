"""Message validation against the profile's JSON Schemas, compiled once (jsonschema_rs), with every broken rule
reported as {field, rule, vi, en}: which field broke which rule, in Vietnamese and English."""

from __future__ import annotations

from typing import Any

import jsonschema_rs

from schemas import ROOT as SCHEMAS_ROOT
from schemas import message_schema

Problem = dict[str, str]
MAX_PROBLEMS = 20


def problem(field: str, rule: str, vi: str, en: str) -> Problem:
    return {"field": field or "(gốc)", "rule": rule, "vi": vi, "en": en}


def field_path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def translate(error) -> Problem:
    """One jsonschema_rs error as a bilingual problem naming the field and the rule."""
    kind = error.kind.name
    k = kind.lower()
    info = error.kind.as_dict()
    where = field_path(error.instance_path)
    value = error.instance
    if k == "required":
        prop = info.get("property")
        here = f"{where}.{prop}" if where else str(prop)
        return problem(here, "required", f"thiếu trường bắt buộc '{prop}'", f"required field '{prop}' is missing")
    if k == "type":
        types = "/".join(info.get("types", []))
        return problem(where, "type", f"sai kiểu dữ liệu: cần {types}, nhận {_short(value)}",
                       f"wrong type: expected {types}, got {_short(value)}")
    if k == "enum":
        opts = ", ".join(map(str, info.get("options", [])))
        return problem(where, "enum", f"giá trị {_short(value)} không thuộc danh sách cho phép [{opts}]",
                       f"value {_short(value)} is not one of [{opts}]")
    if k in ("const", "constant"):
        return problem(where, "const", f"giá trị phải là {_short(info.get('expected_value'))}",
                       f"value must be {_short(info.get('expected_value'))}")
    if k == "pattern":
        pattern = info.get("pattern", "")
        if pattern in ("^[0-9]{14}$", "^([0-9]{14})?$"):
            return problem(where, "date_format", f"ngày giờ {_short(value)} không đúng định dạng yyyyMMddHHmmss",
                           f"date {_short(value)} is not in the format yyyyMMddHHmmss")
        return problem(where, "pattern", f"giá trị {_short(value)} không đúng định dạng ({pattern})",
                       f"value {_short(value)} does not match the format ({pattern})")
    if k == "minlength":
        limit = info.get("limit")
        if limit == 1:
            return problem(where, "not_empty", "không được để trống", "must not be empty")
        return problem(where, "minLength", f"phải có ít nhất {limit} ký tự", f"must have at least {limit} characters")
    if k == "maxlength":
        return problem(where, "maxLength", f"dài quá {info.get('limit')} ký tự",
                       f"longer than {info.get('limit')} characters")
    if k == "minitems":
        return problem(where, "minItems", f"cần ít nhất {info.get('limit')} phần tử",
                       f"needs at least {info.get('limit')} item(s)")
    if k == "maxitems":
        return problem(where, "maxItems", f"tối đa {info.get('limit')} phần tử mỗi lần gửi",
                       f"at most {info.get('limit')} items per message")
    if k in ("minimum", "maximum", "exclusiveminimum", "exclusivemaximum"):
        return problem(where, kind, f"giá trị {_short(value)} nằm ngoài giới hạn cho phép",
                       f"value {_short(value)} is out of the allowed range")
    if k == "additionalproperties":
        extra = ", ".join(map(str, info.get("unexpected", [])))
        return problem(where, "additionalProperties", f"trường không được phép: {extra}", f"fields not allowed: {extra}")
    return problem(where, kind, f"vi phạm quy tắc '{kind}': {error.message}", f"breaks rule '{kind}': {error.message}")


class MessageValidators:
    """Compiled validators of every message schema of a profile."""

    def __init__(self, profile: str):
        self.profile = profile
        self._validators: dict[str, Any] = {}
        for path in sorted((SCHEMAS_ROOT / profile).glob("*.schema.json")):
            name = path.name[: -len(".schema.json")]
            self._validators[name] = jsonschema_rs.validator_for(message_schema(name, profile))

    def names(self) -> list[str]:
        return sorted(self._validators)

    def schema(self, name: str) -> dict[str, Any]:
        return message_schema(name, self.profile)

    def problems(self, name: str, instance: Any) -> list[Problem]:
        """[] when valid; otherwise up to MAX_PROBLEMS bilingual problems."""
        validator = self._validators[name]
        if validator.is_valid(instance):
            return []
        out = []
        for err in validator.iter_errors(instance):
            out.append(translate(err))
            if len(out) >= MAX_PROBLEMS:
                break
        return out


def summary(problems: list[Problem], vi_head: str, en_head: str) -> str:
    """One-line message naming the first problem: '<vi> | <en>'."""
    if not problems:
        return f"{vi_head} | {en_head}"
    p = problems[0]
    more_vi = f" (và {len(problems) - 1} lỗi khác)" if len(problems) > 1 else ""
    more_en = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return (f"{vi_head}: {p['field']} — {p['vi']}{more_vi} | "
            f"{en_head}: {p['field']} — {p['en']}{more_en}")
