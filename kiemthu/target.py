"""Target file: load, validate against schemas/target.schema.json, resolve secrets from the environment.

Every problem is reported with the field path as the user wrote it, the rule broken and the value.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kiemthu.logs import register_secret
from schemas import SAFE_LOADER

SECRET_KEY = re.compile(r"(?i)(secret|password|passwd|token|api_?key|private_?key)$")
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class TargetError(ValueError):
    """The target file cannot be used. `problems` lists every finding (field, rule, value)."""

    def __init__(self, source: str, problems: list[str]):
        self.source, self.problems = source, problems
        super().__init__(f"{source}: " + "; ".join(problems))

    def render(self) -> str:
        lines = [f"Tệp cấu hình hệ thống (target) không hợp lệ / invalid target file: {self.source}"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


@dataclass
class Target:
    """A validated target. `data` keeps the file as written (secrets still as {env: NAME})."""

    data: dict[str, Any]
    path: Path | None = None
    _secrets: dict[str, str] = field(default_factory=dict, repr=False)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def secret(self, dotted: str) -> str:
        """The value of a secret field, e.g. `portal.sso_client.client_secret`, read from its env var."""
        node: Any = self.data
        for part in dotted.split("."):
            node = node[part]
        name = node["env"]
        value = os.environ.get(name)
        if value is None:
            raise TargetError(str(self.path or "target"), [f"{dotted}: environment variable {name} is not set"])
        register_secret(value)
        return value

    def scenario_paths(self) -> list[Path]:
        """Scenario files of the listed services, resolved next to the target file, then in scenarios/."""
        from scenarios import ROOT as SCENARIOS

        out = []
        for svc in self.data["services"]:
            name = svc["scenario"]
            here = (self.path.parent / name) if self.path else Path(name)
            out.append(here if here.exists() else SCENARIOS / name)
        return out


def _path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(root)"


def _find_inline_secrets(node: Any, parts: list) -> list[str]:
    problems = []
    if isinstance(node, dict):
        for k, v in node.items():
            here = parts + [k]
            if isinstance(k, str) and SECRET_KEY.search(k) and not isinstance(v, dict):
                problems.append(
                    f"{_path(here)}: rule 'no inline secret' — secrets must be given as "
                    f"{{env: VARIABLE_NAME}}, got an inline value (hidden)"
                )
            else:
                problems += _find_inline_secrets(v, here)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            problems += _find_inline_secrets(v, parts + [i])
    return problems


def _expand_env(node: Any, parts: list, problems: list[str]) -> Any:
    if isinstance(node, dict):
        return {k: _expand_env(v, parts + [k], problems) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand_env(v, parts + [i], problems) for i, v in enumerate(node)]
    if isinstance(node, str):
        def sub(m: re.Match) -> str:
            if m.group(1) not in os.environ:
                problems.append(f"{_path(parts)}: rule 'environment variable set' — ${{{m.group(1)}}} is not set")
                return m.group(0)
            return os.environ[m.group(1)]
        return ENV_REF.sub(sub, node)
    return node


def validate_target(data: Any, source: str = "target") -> list[str]:
    """All problems of a parsed target document, each naming field path, rule and value."""
    from schemas import validator

    if not isinstance(data, dict):
        return [f"(root): rule 'type' — expected a mapping of sections, got {type(data).__name__}"]
    problems = _find_inline_secrets(data, [])
    for err in sorted(validator("target").iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        where = _path(list(err.absolute_path))
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            problems.append(f"{where}: rule 'known keys only' — unknown key(s) {', '.join(map(repr, extra))}")
        elif err.validator == "required":
            problems.append(f"{where}: rule 'required' — {err.message}")
        elif any(p.endswith(tuple("secret password".split())) for p in map(str, err.absolute_path)):
            problems.append(f"{where}: rule '{err.validator}' — {err.message.split(' is ')[-1]} (value hidden)")
        else:
            problems.append(f"{where}: rule '{err.validator}' — value {err.instance!r}: {err.message}")
    # a secret field shown by the schema error above would print the inline value: keep one message per field
    seen, unique = set(), []
    for p in problems:
        key = p.split(":")[0]
        if key in seen and "no inline secret" not in p:
            continue
        seen.add(key)
        unique.append(p)
    return unique


def load_target(path: str | Path, *, check_env: bool = True) -> Target:
    """Read, validate and resolve a target file. Raises TargetError listing every problem."""
    p = Path(path)
    if not p.is_file():
        raise TargetError(str(p), ["file not found"])
    try:
        data = yaml.load(p.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise TargetError(str(p), [f"YAML syntax error{at}: {getattr(exc, 'problem', exc)}"]) from None
    env_problems: list[str] = []
    data = _expand_env(data, [], env_problems)  # before validation, so ${PORT}-style values are checked as used
    problems = validate_target(data, str(p))
    if problems or env_problems:
        raise TargetError(str(p), env_problems + problems)
    target = Target(data=data, path=p.resolve())
    if check_env:
        env_problems += missing_secret_env(data)
    for path_ in target.scenario_paths():
        if not path_.is_file():
            env_problems.append(f"services: scenario file not found: {path_}")
    if env_problems:
        raise TargetError(str(p), env_problems)
    for dotted in secret_fields(data):
        target.secret(dotted)  # registers each value for redaction
    return target


def secret_fields(node: Any, prefix: str = "") -> list[str]:
    """Dotted paths of every {env: NAME} secret in a document."""
    out = []
    if isinstance(node, dict):
        for k, v in node.items():
            here = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict) and set(v) == {"env"} and SECRET_KEY.search(str(k)):
                out.append(here)
            else:
                out += secret_fields(v, here)
    return out


def missing_secret_env(data: dict[str, Any]) -> list[str]:
    out = []
    for dotted in secret_fields(data):
        node: Any = data
        for part in dotted.split("."):
            node = node[part]
        if node["env"] not in os.environ:
            out.append(f"{dotted}: rule 'environment variable set' — {node['env']} is not set")
    return out
