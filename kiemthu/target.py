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
# a variable whose name says it holds a secret (KIEMTHU_SSO_CLIENT_SECRET, DB_PASSWORD, API_KEY_1 ...)
SECRET_ENV_NAME = re.compile(r"(?i)(secret|password|passwd|token|api_?key|private_?key|credential)")
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
MAX_FILE_BYTES = 1024 * 1024        # a target file is a page of settings; anything larger is not one
MAX_NODES = 20_000                  # values after alias expansion: a real file has a few hundred
MAX_DEPTH = 32                      # nesting of mappings and lists


class TargetError(ValueError):
    """The target file cannot be used. `problems` lists every finding (field, rule, value); `missing` the
    environment variables it needs that are not set, each with what it is for."""

    def __init__(self, source: str, problems: list[str], missing: list["MissingVariable"] | None = None):
        self.source, self.problems, self.missing = source, problems, list(missing or [])
        super().__init__(f"{source}: " + "; ".join(problems))

    def render(self) -> str:
        lines = [f"Tệp cấu hình hệ thống (target) không hợp lệ / invalid target file: {self.source}"]
        # an unset variable is said once below, with what it is for, rather than once per field using it
        unset = [f"${{{m.name}}}" for m in self.missing]
        shown = [p for p in self.problems if "rule 'environment variable set'" not in p and not any(u in p for u in unset)]
        lines += [f"  - {p}" for p in shown]
        if self.missing:
            lines.append(f"Đặt {len(self.missing)} biến môi trường sau / set these {len(self.missing)} environment "
                         "variable(s), then run again:")
            lines += [f"  {m.name}: {m.purpose}" for m in self.missing]
        return "\n".join(lines)


@dataclass(frozen=True)
class MissingVariable:
    """An environment variable a target file names that is not set: where it is used and what it is for."""

    name: str
    fields: tuple[str, ...]
    secret: bool
    purpose: str


# what each secret field holds, in the officer's words: {placeholders} are read from the field's section
SECRET_PURPOSES = {
    "portal.sso_client.client_secret":
        "khóa bí mật của client SSO '{client_id}' / the secret of SSO client '{client_id}': the value your system "
        "sends to the portal's token endpoint (the mock accepts exactly this one)",
    "portal.payment_partner.secret":
        "khóa ký của đối tác thanh toán '{code}' / the signing key of payment partner '{code}': your system signs "
        "payment requests and checks IPN checksums with it",
    "portal.adapter_account.password":
        "mật khẩu tài khoản adapter '{username}' / the password of adapter account '{username}': your system logs "
        "in to the portal's sync API with it",
    "officer.password":
        "mật khẩu cán bộ '{username}' trong hệ thống của bạn / the password of officer '{username}' in your "
        "system, for the automated processing steps",
}


def secret_purpose(data: dict[str, Any], dotted: str) -> str:
    """What the secret at `dotted` is for, naming the client, partner or account it belongs to."""
    section: Any = data
    for part in dotted.split(".")[:-1]:
        section = section.get(part, {}) if isinstance(section, dict) else {}
    known = {k: v for k, v in section.items() if isinstance(v, (str, int))} if isinstance(section, dict) else {}
    text = SECRET_PURPOSES.get(dotted, f"giá trị bí mật của trường {dotted} / the secret of field {dotted}")
    try:
        return text.format(**known)
    except (KeyError, IndexError):
        return text.replace("{", "").replace("}", "")


def missing_variables(data: Any) -> list[MissingVariable]:
    """Every unset variable of a document as written (before ${NAME} expansion): secret fields first."""
    secrets_: dict[str, MissingVariable] = {}
    if isinstance(data, dict):
        for dotted in secret_fields(data):
            node: Any = data
            for part in dotted.split("."):
                node = node[part]
            name = str(node["env"])
            if name not in os.environ and name not in secrets_:
                secrets_[name] = MissingVariable(name, (dotted,), True,
                                                 f"{secret_purpose(data, dotted)} (trường / field {dotted})")
    used: dict[str, list[str]] = {}

    def walk(node: Any, parts: list) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, parts + [k])
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, parts + [i])
        elif isinstance(node, str):
            for name in ENV_REF.findall(node):
                if name not in os.environ:
                    used.setdefault(name, []).append(_path(parts))

    walk(data, [])
    plain = []
    for name, fields in used.items():
        shown = ", ".join(fields[:4]) + (f" (+{len(fields) - 4})" if len(fields) > 4 else "")
        plain.append(MissingVariable(name, tuple(fields), False,
                                     f"giá trị thay cho ${{{name}}} / the value of ${{{name}}} in {shown}"))
    return [*secrets_.values(), *plain]


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

    def portal_bind_host(self) -> str:
        """Where the mock portal listens: `portal.bind_host`, else loopback (the control plane stays there)."""
        return str(self.data["portal"].get("bind_host") or "127.0.0.1")

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


def _expand_env(node: Any, parts: list, problems: list[str], secrets: dict[str, str] | None = None) -> Any:
    """${NAME} replaced by the variable's value; `secrets` maps the values of secret fields to their paths."""
    secrets = secrets or {}
    if isinstance(node, dict):
        return {k: _expand_env(v, parts + [k], problems, secrets) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand_env(v, parts + [i], problems, secrets) for i, v in enumerate(node)]
    if isinstance(node, str):
        def sub(m: re.Match) -> str:
            name = m.group(1)
            if name not in os.environ:
                problems.append(f"{_path(parts)}: rule 'environment variable set' — ${{{name}}} is not set")
                return m.group(0)
            leak = secret_expansion(name, os.environ[name], secrets)
            if leak:
                problems.append(f"{_path(parts)}: rule 'no secret in a plain field' — ${{{name}}} {leak}; this field "
                                "is shown in reports. Secrets go only in secret fields, as {env: VARIABLE_NAME}")
                return m.group(0)
            return os.environ[name]
        return ENV_REF.sub(sub, node)
    return node


def secret_expansion(name: str, value: str, secrets: dict[str, str]) -> str | None:
    """Why expanding variable `name` (holding `value`) into a plain field would copy a secret, or None."""
    if SECRET_ENV_NAME.search(name):
        return "is named as a secret"
    for secret, where in secrets.items():
        if secret and (secret == value or (len(secret) >= 6 and secret in value)):
            return f"holds the value of the secret field {where} (value hidden)"
    return None


def secret_values(data: Any) -> dict[str, str]:
    """Value → dotted path of every secret field whose variable is set."""
    out = {}
    for dotted in secret_fields(data):
        node: Any = data
        for part in dotted.split("."):
            node = node[part]
        value = os.environ.get(str(node["env"]))
        if value:
            out[value] = dotted
    return out


def read_text(p: Path) -> str:
    """The file's text: bounded in size, UTF-8, not binary. Raises TargetError naming the file."""
    size = p.stat().st_size
    if size > MAX_FILE_BYTES:
        raise TargetError(str(p), [f"rule 'file size' — {size} bytes, a target file is at most {MAX_FILE_BYTES} bytes"])
    raw = p.read_bytes()[:MAX_FILE_BYTES + 1]
    if b"\x00" in raw:
        raise TargetError(str(p), ["rule 'text file' — this is a binary file (it contains NUL bytes), not YAML text"])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise TargetError(str(p), [f"rule 'UTF-8 text' — byte 0x{raw[exc.start]:02x} at line {line} (offset "
                                   f"{exc.start}) is not UTF-8; save the file as UTF-8"]) from None


def expanded_size(root: yaml.Node, limit_nodes: int = MAX_NODES, limit_depth: int = MAX_DEPTH) -> str | None:
    """What is wrong with a composed YAML document's size once its aliases are expanded, or None.

    Aliases share nodes, so a few lines can stand for billions of values (an alias bomb); sizes are counted per
    distinct node (memoised), so the count itself stays as cheap as the file."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if depth > limit_depth:
            raise OverflowError(f"nested deeper than {limit_depth} levels")
        if key in open_nodes:
            raise OverflowError("an alias refers to a node that contains it (recursive structure)")
        total = 1
        if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            open_nodes.add(key)
            children = node.value if isinstance(node, yaml.SequenceNode) else [c for kv in node.value for c in kv]
            for child in children:
                total += size(child, depth + 1)
                if total > limit_nodes:
                    raise OverflowError(f"more than {limit_nodes} values once aliases are expanded (an alias bomb?)")
            open_nodes.discard(key)
        sizes[key] = total
        return total

    try:
        size(root, 0)
    except OverflowError as exc:
        return str(exc)
    return None


def parse_yaml(p: Path, text: str) -> Any:
    """The YAML document, refused before it is built when its aliases would expand past the size limit."""
    try:
        root = yaml.compose(text, Loader=SAFE_LOADER)
        if root is not None:
            problem = expanded_size(root)
            if problem:
                raise TargetError(str(p), [f"rule 'bounded YAML' — the document is {problem}"])
        return yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise TargetError(str(p), [f"YAML syntax error{at}: {getattr(exc, 'problem', exc)}"]) from None


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
    data = parse_yaml(p, read_text(p))
    missing = missing_variables(data)  # every one, secrets too: the user sets them all in one go
    env_problems: list[str] = []
    # before validation, so ${PORT}-style values are checked as used
    data = _expand_env(data, [], env_problems, secret_values(data))
    problems = validate_target(data, str(p))
    if problems or env_problems:
        raise TargetError(str(p), env_problems + problems, missing)
    target = Target(data=data, path=p.resolve())
    if check_env:
        env_problems += missing_secret_env(data)
    for path_ in target.scenario_paths():
        if not path_.is_file():
            env_problems.append(f"services: scenario file not found: {path_}")
    if env_problems:
        raise TargetError(str(p), env_problems, missing)
    unset = {m.name for m in missing_variables(data) if m.secret}
    for dotted in secret_fields(data):
        if check_env or _field(data, dotted)["env"] not in unset:
            target.secret(dotted)  # registers each value for redaction
    return target


def _field(data: Any, dotted: str) -> Any:
    node = data
    for part in dotted.split("."):
        node = node[part]
    return node


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
