"""A citizen journey recorded with `playwright codegen --target python` turned into adapter steps.

The recorded script is read as Python syntax (never run): each `page.<locator>.<action>(...)` statement becomes a
step with the same accessible locator; `with page.expect_popup()` becomes a `popup` step and the steps on the new
page follow it; a fill or upload whose label is one of the scenario's published fields or documents joins a single
data-driven `fill: {fields: all}` / `upload: {documents: required}` step, so the flow keeps working when the
scenario's sample values change. What has no adapter equivalent (key presses, hovers...) is listed, not guessed.
"""

from __future__ import annotations

import ast
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOCATORS = {"get_by_role": "role", "get_by_label": "label", "get_by_text": "text", "get_by_placeholder": "placeholder",
            "locator": "css"}
ACTIONS = ("click", "fill", "check", "select_option", "set_input_files")
IGNORED_ROOTS = ("context", "browser", "playwright")
KHODL_PREFIX = "Lấy từ Kho dữ liệu: "


class RecordingError(ValueError):
    """The recording cannot be read (not Python, no steps): names the file and the reason."""


@dataclass
class Converted:
    steps: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "line N: source" of each statement left out


@dataclass
class _Call:
    name: str
    args: list[Any]
    kwargs: dict[str, Any]


def _literal(node: ast.AST) -> Any:
    try:
        return ast.literal_eval(node)
    except ValueError:
        raise _Unsupported("a computed value") from None


class _Unsupported(Exception):
    pass


def _chain(node: ast.AST) -> tuple[str, list[_Call | str]]:
    """`page.get_by_role("button", name="X").click()` → ("page", [Call get_by_role, Call click])."""
    parts: list[_Call | str] = []
    while True:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            parts.append(_Call(node.func.attr, [_literal(a) for a in node.args],
                               {k.arg: _literal(k.value) for k in node.keywords if k.arg}))
            node = node.func.value
        elif isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id, list(reversed(parts))
        else:
            raise _Unsupported("not a page action")


def _locator(parts: list[_Call | str]) -> dict[str, Any]:
    """The adapter locator of a codegen locator chain (a row, then the element in it; .first / .nth(i))."""
    found: list[dict[str, Any]] = []
    nth = None
    for part in parts:
        if part == "first":
            nth = 0
        elif isinstance(part, _Call) and part.name == "nth":
            nth = int(part.args[0])
        elif isinstance(part, _Call) and part.name in LOCATORS:
            key = LOCATORS[part.name]
            loc: dict[str, Any] = {"role": part.args[0]} if key == "role" else {key: part.args[0]}
            if key == "role" and "name" in part.kwargs:
                loc["name"] = part.kwargs["name"]
            if "exact" in part.kwargs and key != "css":
                loc["exact"] = bool(part.kwargs["exact"])
            found.append(loc)
        else:
            raise _Unsupported(f"locator {part if isinstance(part, str) else part.name}")
    if not found:
        raise _Unsupported("no locator")
    loc = found[-1]
    if len(found) == 2 and found[0].get("role") == "row" and found[0].get("name"):
        loc = {**loc, "row": found[0]["name"]}
    elif len(found) > 1:
        raise _Unsupported("a nested locator")
    if nth is not None:
        loc["nth"] = nth
    return loc


def _step(parts: list[_Call | str]) -> dict[str, Any]:
    action = parts[-1]
    if not isinstance(action, _Call) or action.name not in ACTIONS:
        raise _Unsupported(f"action {getattr(action, 'name', action)}")
    loc = _locator(parts[:-1])
    if action.name == "click":
        return {"click": loc}
    if action.name == "check":
        return {"check": loc}
    if action.name == "fill":
        if not {"label", "css", "placeholder"} & set(loc) and loc.get("role") not in ("textbox", "combobox"):
            raise _Unsupported("fill on this locator")
        return {"fill": {**{k: v for k, v in loc.items() if k in ("label", "role", "name", "css", "placeholder")},
                         "value": str(action.args[0])}}
    if action.name == "select_option":
        value = action.args[0] if action.args else action.kwargs.get("value") or action.kwargs.get("label")
        return {"select": {**{k: v for k, v in loc.items() if k in ("label", "css")}, "value": str(value)}}
    if "label" not in loc:
        raise _Unsupported("an upload not found by its label")
    files = action.args[0]
    return {"upload": {"label": loc["label"], "file": str(files[0] if isinstance(files, list) else files)}}


def _expectation(node: ast.AST) -> dict[str, Any] | None:
    """`expect(page.get_by_text("X")).to_be_visible()` → {expect: {text: X}}."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("to_be_visible", "to_be_hidden")
            and isinstance(node.func.value, ast.Call) and getattr(node.func.value.func, "id", "") == "expect"):
        return None
    _, parts = _chain(node.func.value.args[0])
    loc = _locator(parts)
    return {"expect": {**loc, "state": "hidden"} if node.func.attr == "to_be_hidden" else loc}


class _Converter:
    def __init__(self, source: str):
        self.lines = source.splitlines()
        self.out = Converted()
        self.main = "page"
        self.current = "page"
        self.popups: dict[str, str] = {}  # `page1_info` → pending popup page name

    def skip(self, node: ast.stmt, why: str) -> None:
        text = self.lines[node.lineno - 1].strip() if node.lineno <= len(self.lines) else ""
        self.out.skipped.append(f"line {node.lineno}: {text} ({why})")

    def on_page(self, root: str) -> None:
        if root != self.current:
            self.out.steps.append({"switch": "main" if root == self.main else "last"})
            self.current = root

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            name = node.targets[0].id
            if isinstance(value, ast.Attribute) and value.attr == "value" and getattr(value.value, "id", "") in self.popups:
                self.current = name  # the popup's steps follow it
                return
            if isinstance(value, ast.Call) and getattr(value.func, "attr", "") == "new_page":
                self.main = self.current = name
                return
            if isinstance(value, ast.Call) and getattr(value.func, "attr", "") in ("launch", "new_context"):
                return
        if isinstance(node, ast.With) and len(node.items) == 1:
            item = node.items[0]
            call = item.context_expr
            if isinstance(call, ast.Call) and getattr(call.func, "attr", "") == "expect_popup" \
                    and isinstance(item.optional_vars, ast.Name) and len(node.body) == 1:
                try:
                    root, parts = _chain(node.body[0].value) if isinstance(node.body[0], ast.Expr) else ("", [])
                    step = _step(parts)
                except _Unsupported as exc:
                    return self.skip(node, str(exc))
                if "click" not in step:
                    return self.skip(node, "a popup opened by something else than a click")
                self.on_page(root)
                self.popups[item.optional_vars.id] = ""
                self.out.steps.append({"popup": {"click": step["click"]}})
                return
        if not isinstance(node, ast.Expr):
            return self.skip(node, "not a page action")
        try:
            expectation = _expectation(node.value)
            if expectation is not None:
                root = _chain(node.value.func.value.args[0])[0]
                self.on_page(root)
                self.out.steps.append(expectation)
                return
            root, parts = _chain(node.value)
            if root in IGNORED_ROOTS or (parts and parts[-1] == "close") or \
                    (parts and isinstance(parts[-1], _Call) and parts[-1].name == "close"):
                return
            if parts and isinstance(parts[-1], _Call) and parts[-1].name == "goto":
                self.on_page(root)
                self.out.steps.append({"goto": str(parts[-1].args[0])})
                return
            step = _step(parts)
        except _Unsupported as exc:
            return self.skip(node, str(exc))
        self.on_page(root)
        self.out.steps.append(step)


def _body(tree: ast.Module) -> list[ast.stmt]:
    """The statements of codegen's `def run(playwright)`, else the module's own."""
    run = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "run"), None)
    return run.body if run else [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]


def drop_focus_clicks(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Codegen records a click before each fill, check or upload of the same element: the action says enough."""
    out = []
    for i, step in enumerate(steps):
        nxt = steps[i + 1] if i + 1 < len(steps) else {}
        if "click" in step and step["click"].get("label") and \
                (nxt.get("fill") or nxt.get("select") or nxt.get("upload") or {}).get("label") == step["click"]["label"]:
            continue
        if "click" in step and "check" in nxt and nxt["check"] == step["click"]:
            continue
        out.append(step)
    return out


def with_scenario(steps: list[dict[str, Any]], scenario: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Fills of the scenario's field labels become one `fill: {fields: all}` (with the form's inventory), uploads of
    its document names and ticks of 'Lấy từ Kho dữ liệu: <document>' one `upload: {documents: required}`."""
    if not scenario:
        return steps
    field_labels = {f["label"] for f in scenario.get("fields", [])}
    doc_names = {d["TenThanhPhanHoSo"] for d in scenario.get("documents", [])}
    out: list[dict[str, Any]] = []
    filled = uploaded = False
    for step in steps:
        if step.get("fill", {}).get("label") in field_labels:
            if not filled:
                out += [{"inventory": "fields"}, {"fill": {"fields": "all"}}]
                filled = True
            continue
        label = (step.get("upload") or step.get("check") or {}).get("label", "")
        khodl = label.startswith(KHODL_PREFIX) and label[len(KHODL_PREFIX):] in doc_names
        if (step.get("upload") and label in doc_names) or (step.get("check") and khodl):
            if not uploaded:
                out += [{"inventory": "documents"},
                        {"upload": {"documents": "required", "khodl": {"label": KHODL_PREFIX + "{document.TenThanhPhanHoSo}"}}}]
                uploaded = True
            continue
        out.append(step)
    return out


def convert_codegen(source: str, scenario: dict[str, Any] | None = None, *, name: str = "recording",
                    base_url: str = "") -> Converted:
    """Adapter steps of a `playwright codegen --target python` script (see the module's docstring); addresses on
    `base_url` are written as {system.base_url}, so the flow follows the target's address."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise RecordingError(f"{name}: rule 'a Python script from playwright codegen --target python' — "
                             f"syntax error at line {exc.lineno}: {exc.msg}") from None
    conv = _Converter(source)
    for node in _body(tree):
        conv.statement(node)
    conv.out.steps = with_scenario(drop_focus_clicks(conv.out.steps), scenario)
    base = base_url.rstrip("/")
    for step in conv.out.steps:
        if base and "goto" in step and (step["goto"] == base or step["goto"].startswith(base + "/")):
            step["goto"] = "{system.base_url}" + step["goto"][len(base):]
    if not conv.out.steps:
        raise RecordingError(f"{name}: rule 'at least one page action' — none found (was it recorded with "
                             "--target python?)")
    return conv.out


def codegen_command(url: str, output: Path) -> list[str]:
    """The command that records a journey into `output` (a person clicks through it in the opened browser)."""
    return ["playwright", "codegen", "--target", "python", "-o", str(output), url]


def codegen_hint(url: str, output: Path) -> str:
    return " ".join(shlex.quote(c) for c in codegen_command(url, output))
