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


def _nullable(schema: Any) -> Any:
    """The schema with every optional property of every object also accepting JSON null."""
    if isinstance(schema, list):
        return [_nullable(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _nullable(v) for k, v in schema.items()}
    props, required = out.get("properties"), set(out.get("required", []))
    if isinstance(props, dict):
        out["properties"] = {k: (v if k in required else _accept_null(v)) for k, v in props.items()}
    return out


def _accept_null(prop: Any) -> Any:
    if not isinstance(prop, dict) or "type" not in prop:
        return prop  # const, or a refinement of a property typed elsewhere (if/then): left as it is
    types = prop["type"] if isinstance(prop["type"], list) else [prop["type"]]
    out = {**prop, "type": types if "null" in types else [*types, "null"]}
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def _with_requirements(schema: dict[str, Any], rules: dict[str, list[str]]) -> dict[str, Any]:
    """DongBoHoSoMC-style schema whose `data` items require the profile's `update` fields always and its `create`
    fields when isUpdating is False."""
    items = schema["properties"]["data"]["items"]
    update, create = list(rules.get("update", items.get("required", []))), list(rules.get("create", []))
    out = {**schema, "properties": {**schema["properties"], "data": {
        **schema["properties"]["data"], "items": {**items, "required": update}}}}
    if create:
        out["allOf"] = [*schema.get("allOf", []), {
            "if": {"required": ["isUpdating"], "properties": {"isUpdating": {"enum": ["False", "false"]}}},
            "then": {"properties": {"data": {"items": {"required": create}}}}}]
    return out


@lru_cache(maxsize=None)
def message_schema(name: str, profile: str | None = None) -> dict[str, Any]:
    """A message schema as the portal applies it: the profile's `required_fields` say which item fields a message
    must carry (on create and on update), and with `optional_fields_nullable` an optional field may be JSON null."""
    conf = load_profile(profile)
    schema = load_schema(name, profile or conf["name"])
    rules = (conf.get("required_fields") or {}).get(name)
    if rules:
        schema = _with_requirements(schema, rules)
    if conf.get("optional_fields_nullable"):
        schema = _nullable(schema)
    return schema


def validator(name: str, profile: str | None = None):
    """A Draft 2020-12 validator for a schema, with format checking (a message schema as the profile applies it)."""
    from jsonschema import Draft202012Validator

    schema = message_schema(name, profile) if profile else load_schema(name)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
