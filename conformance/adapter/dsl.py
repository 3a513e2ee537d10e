"""Adapter section: validation with messages naming the field as written, and placeholder expansion."""

from __future__ import annotations

import re
from typing import Any

STEP_KINDS = ("goto", "click", "fill", "select", "upload", "check", "capture", "expect", "popup", "switch",
              "within_row", "wait_until", "inventory", "screenshot_as")
FLOWS = ("citizen_login", "open_service", "submit", "pay", "logout", "officer_login", "officer_process")
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)\}")


class AdapterError(ValueError):
    """The adapter section cannot be used; `problems` name each field path, the rule and the value."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def _where(parts) -> str:
    out = "adapter"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def _step_problem(step: Any, err) -> str:
    if not isinstance(step, dict):
        return f"{_where(err.absolute_path)}: a step must be a mapping like {{click: {{role: button, name: ...}}}}"
    kinds = [k for k in step if k in STEP_KINDS]
    if not kinds:
        return (f"{_where(err.absolute_path)}: rule 'step kind' — none of {', '.join(STEP_KINDS)} in "
                f"{sorted(step)}")
    if len(kinds) > 1:
        return f"{_where(err.absolute_path)}: rule 'one action per step' — got {', '.join(kinds)}"
    branch = [e for e in (err.context or []) if e.schema_path and e.schema_path[0] == STEP_KINDS.index(kinds[0])]
    if branch:
        deepest = max(branch, key=lambda e: len(e.absolute_path))
        return f"{_where(deepest.absolute_path)}: rule '{deepest.validator}' — {deepest.message}"
    return f"{_where(err.absolute_path)}: {err.message}"


def validate_adapter(spec: Any) -> list[str]:
    """Every problem of an adapter section (schemas/adapter.schema.json), one readable line each."""
    from schemas import validator

    problems = []
    for err in sorted(validator("adapter").iter_errors(spec), key=lambda e: [str(p) for p in e.absolute_path]):
        if err.validator == "oneOf" and len(err.absolute_path) >= 3 and err.absolute_path[0] == "flows":
            problems.append(_step_problem(err.instance, err))
        elif err.validator == "unevaluatedProperties" and isinstance(err.instance, dict) and \
                any(k in err.instance for k in STEP_KINDS):
            continue  # reported by the step's own oneOf message
        elif err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            problems.append(f"{_where(err.absolute_path)}: rule 'known keys only' — unknown key(s) {', '.join(map(repr, extra))}")
        else:
            problems.append(f"{_where(err.absolute_path)}: rule '{err.validator}' — {err.message}")
    return list(dict.fromkeys(problems))  # in schema order, each once


def load_adapter(spec: Any) -> dict[str, Any]:
    if spec is None:
        raise AdapterError(["adapter: the target file has no `adapter:` section (how to drive the system's pages)"])
    problems = validate_adapter(spec)
    if problems:
        raise AdapterError(problems)
    return spec


class Variables:
    """Nested values for placeholders; `expand` fails naming the placeholder and where it was used."""

    def __init__(self, **groups: Any):
        self.data: dict[str, Any] = dict(groups)
        self.secret_values: set[str] = set()

    def set(self, name: str, value: Any) -> None:
        self.data[name] = value

    def lookup(self, dotted: str) -> Any:
        node: Any = self.data
        for part in dotted.split("."):
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif callable(node):
                node = node(part)
            else:
                raise KeyError(dotted)
        if callable(node):
            node = node()
        return node

    def expand(self, template: str, where: str = "adapter") -> str:
        def sub(m: re.Match) -> str:
            try:
                value = self.lookup(m.group(1))
            except KeyError:
                raise AdapterError([f"{where}: placeholder {{{m.group(1)}}} has no value here"]) from None
            return "" if value is None else str(value)

        return PLACEHOLDER.sub(sub, template)

    def uses_secret(self, template: str) -> bool:
        return any(m.group(1).endswith(("password", "secret")) for m in PLACEHOLDER.finditer(template or ""))


def step_names(spec: dict[str, Any]) -> dict[str, list[str]]:
    """Every flow's step numbers as failures and `--pause-at` write them (`3`, and `2.1` inside a within_row)."""
    def numbered(steps: list, prefix: str) -> list[str]:
        out = []
        for i, step in enumerate(steps or [], 1):
            out.append(f"{prefix}{i}")
            if isinstance(step, dict) and isinstance(step.get("within_row"), dict):
                out += numbered(step["within_row"].get("steps") or [], f"{prefix}{i}.")
        return out

    flows = (spec or {}).get("flows") or {}
    return {flow: numbered(flows.get(flow) or [], "") for flow in FLOWS if flows.get(flow)}


def pause_step(spec: dict[str, Any], wanted: str) -> tuple[str, str]:
    """(flow, step number) named by `--pause-at` (`submit:3`, `officer_process:2.1`, or `submit` for its first
    step); an unknown one raises AdapterError listing the known ones."""
    known = step_names(spec)
    flow, _, index = wanted.strip().partition(":")
    index = index.strip() or "1"
    if flow in known and index in known[flow]:
        return flow, index
    tops = {f: [i for i in s if "." not in i] for f, s in known.items()}
    listed = ", ".join(f"{f}:1–{s[-1]}" if len(s) > 1 else f"{f}:1" for f, s in tops.items())
    nested = [f"{f}:{i}" for f, s in known.items() for i in s if "." in i]
    if nested:
        listed += f" (and inside rows: {', '.join(nested[:6])}{' …' if len(nested) > 6 else ''})"
    raise AdapterError([f"--pause-at: unknown step '{wanted}' (rule: FLOW:STEP, a step the adapter declares); "
                        f"known steps: {listed}; e.g. --pause-at submit:3, or a flow's name for its first step"])
