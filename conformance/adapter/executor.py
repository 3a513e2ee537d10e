"""Runs adapter flows in a Playwright page: accessible locators, auto-waiting, a deadline on every wait."""

from __future__ import annotations

import contextlib
import difflib
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from kiemthu.runtime import VN_TZ, DeadlineExceeded, wait_until

from conformance.adapter.dsl import STEP_KINDS, AdapterError, Variables

INVENTORY_JS = """(kind) => {
  const labelOf = (el) => {
    if (el.labels && el.labels.length) return el.labels[0].innerText;
    const al = el.getAttribute('aria-label'); if (al) return al;
    const lb = el.getAttribute('aria-labelledby');
    if (lb) return lb.split(/\\s+/).map(id => (document.getElementById(id) || {}).innerText || '').join(' ');
    return el.getAttribute('placeholder') || el.name || '';
  };
  const sel = kind === 'documents' ? 'input[type=file]'
    : 'input:not([type=file]):not([type=hidden]):not([type=checkbox]):not([type=radio]):not([type=submit]):not([type=button]), select, textarea';
  return Array.from(document.querySelectorAll(sel))
    .filter(el => kind === 'documents' || el.offsetParent !== null)
    .map(el => ({label: (labelOf(el) || '').trim(), name: el.name || '',
                 required: !!(el.required || el.getAttribute('aria-required') === 'true')}));
}"""


# every named element of the page as the accessibility tree has it (`- role "name"` lines of the ARIA snapshot)
ARIA_LINE = re.compile(r'^\s*- (?P<role>[a-z]+) "(?P<name>(?:[^"\\]|\\.)*)"', re.M)
# the labels of the page's inputs, file inputs included (their accessible role differs by browser)
LABELS_JS = """() => Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea')).map(el => {
  if (el.labels && el.labels.length) return el.labels[0].innerText;
  return el.getAttribute('aria-label') || el.getAttribute('placeholder') || '';
}).map(t => (t || '').trim()).filter(Boolean)"""
NEAREST = 3


class NotFound(Exception):
    """A step's element is not on the page: what was looked for (`role`, `name`; role "label" for labels)."""

    def __init__(self, role: str, name: str, what: str = ""):
        self.role, self.name, self.what = role, name, what
        super().__init__(f"no {role} named '{name}'")


# steps whose effect the next screenshot shows anyway (a screenshot costs ~0.1 s)
QUIET_STEPS = {"fill", "select", "check", "upload", "inventory", "switch"}


class StepFailed(Exception):
    """A step could not be completed: which flow and step, what was expected and what happened."""

    def __init__(self, flow: str, index: str, description: str, error: str, screenshot: str | None = None):
        self.flow, self.index, self.description, self.error, self.screenshot = flow, index, description, error, screenshot
        super().__init__(f"{flow} step {index} ({description}): {error}")


@dataclass
class FlowOutcome:
    name: str
    ok: bool = False
    error: StepFailed | None = None
    skipped: str | None = None
    started: datetime | None = None
    finished: datetime | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    observations: dict[str, Any] = field(default_factory=dict)
    journal_after: int = 0
    journal_until: int = 0

    def problem(self) -> str:
        if self.skipped:
            return self.skipped
        return str(self.error) if self.error else ""


class PageSet:
    """The pages of one browser context: the main page, popups, and the one steps currently run in."""

    def __init__(self, page):
        self.main = page
        self.current = page

    @property
    def context(self):
        return self.main.context

    def newest(self):
        pages = [p for p in self.context.pages if not p.is_closed()]
        return pages[-1] if pages else self.main


def name_pattern(text: str) -> re.Pattern:
    """Whole accessible text, tolerant of a trailing required mark or colon (e.g. 'Họ và tên *')."""
    return re.compile(r"^\s*" + re.escape(text.strip()) + r"\s*\*?\s*:?\s*$")


def page_names(page) -> list[tuple[str, str]]:
    """(role, accessible name) of every named element of the page, and ("label", text) of every input's label."""
    found: list[tuple[str, str]] = []
    try:
        snapshot = page.locator("body").aria_snapshot(timeout=2000)
        found += [(m["role"], m["name"].replace('\\"', '"')) for m in ARIA_LINE.finditer(snapshot)]
    except Exception:  # a page closing or navigating: the failure is told without the hints
        pass
    try:
        found += [("label", t) for t in page.evaluate(LABELS_JS)]
    except Exception:
        pass
    return list(dict.fromkeys(found))  # in page order, each once


def nearest_names(wanted: str, names: list[tuple[str, str]], role: str | None = None, n: int = NEAREST) -> list[str]:
    """The page's names closest to `wanted` (those that begin with it first), the step's role preferred."""
    def ranked(pool: list[tuple[str, str]]) -> list[tuple[str, str]]:
        texts = {}
        for r, t in pool:
            texts.setdefault(t, r)
        starts = [t for t in texts if t.casefold().startswith(wanted.casefold().strip()) and t != wanted]
        close = difflib.get_close_matches(wanted, list(texts), n=n, cutoff=0.45)
        order = list(dict.fromkeys(starts + close))[:n]
        return [(texts[t], t) for t in order]

    same = [(r, t) for r, t in names if role and (r == role or (role == "label" and r in LABELLED_ROLES))]
    best = ranked(same) or ranked(names)
    return [f'{r} "{t}"' for r, t in best]


LABELLED_ROLES = {"label", "textbox", "combobox", "checkbox", "radio", "spinbutton", "searchbox", "listbox", "button"}


def where_page(page) -> str:
    """The page as a reader finds it again: its URL (an authorization code or token in it masked) and title."""
    from kiemthu.scrub import scrub_text

    try:
        title = page.title()
    except Exception:
        title = ""
    return scrub_text(page.url) + (f" (title '{title}')" if title else "")


def _first_line(exc: Exception) -> str:
    """Playwright's message without its call log (the full one is in the trace)."""
    message = str(exc).split("\n")[0][:300]
    return message.split("Call log")[0].strip() or type(exc).__name__


class Executor:
    """Executes the flows of one adapter for one service, with `hooks` for evidence and portal queries.

    hooks: screenshot(page, flow, label) -> str|None; portal_status(code) -> str|None;
           before_step(flow, step); after_step(flow, step)
    """

    def __init__(self, adapter: dict[str, Any], variables: Variables, *, scenario: dict[str, Any],
                 identity: dict[str, Any], base_dir: Path, hooks: Any, sample_file: Callable[[dict], Path | None]):
        self.adapter = adapter
        self.vars = variables
        self.scenario = scenario
        self.identity = identity
        self.base_dir = base_dir
        self.hooks = hooks
        self.sample_file = sample_file
        self.pause_at: set[tuple[str, str]] = set()  # (flow, step number) to pause before (`--pause-at`), once each
        self.step_timeout = float((adapter.get("timeouts") or {}).get("step_s", 10))
        self.shots = (adapter.get("evidence") or {}).get("screenshots", "steps")

    # -- locators -------------------------------------------------------------------------------------------
    def locate(self, scope, spec: dict[str, Any], where: str):
        x = lambda s: self.vars.expand(s, where)  # noqa: E731
        if spec.get("row"):
            scope = scope.get_by_role("row").filter(has_text=x(spec["row"]))
        exact = spec.get("exact", True)
        if spec.get("role"):
            if spec.get("name"):
                loc = scope.get_by_role(spec["role"], name=x(spec["name"]), exact=exact)
            else:
                loc = scope.get_by_role(spec["role"])
        elif spec.get("label"):
            loc = scope.get_by_label(name_pattern(x(spec["label"])) if exact else x(spec["label"]))
        elif spec.get("placeholder"):
            loc = scope.get_by_placeholder(x(spec["placeholder"]), exact=exact)
        elif spec.get("text"):
            loc = scope.get_by_text(x(spec["text"]), exact=spec.get("exact", False))
        elif spec.get("css"):
            loc = scope.locator(x(spec["css"]))
        else:
            raise AdapterError([f"{where}: a locator needs role, label, placeholder, text or css"])
        if spec.get("nth") is not None:
            return loc.nth(int(spec["nth"]))
        if spec.get("text") or spec.get("row") and not spec.get("role"):
            return loc.first
        return loc

    def describe(self, step: dict[str, Any]) -> str:
        """The step as a reader would say it, placeholders filled in (a credential never is)."""
        kind = next((k for k in STEP_KINDS if k in step), "?")
        arg = step[kind]
        if isinstance(arg, dict):
            if kind == "within_row":
                return f"within_row {self._show(arg.get('value'))}"
            if kind == "fill" and arg.get("sensitive"):
                return f"fill {arg.get('label') or arg.get('name') or arg.get('css')} (credential)"
            parts = [f"{k}={self._show(v)!r}" for k, v in arg.items() if k not in ("steps",)]
            return f"{kind} " + " ".join(parts)
        return f"{kind} {self._show(arg)}"

    def _show(self, value: Any) -> Any:
        if isinstance(value, str) and not self.vars.uses_secret(value):
            try:
                return self.vars.expand(value)
            except AdapterError:
                return value
        if isinstance(value, dict):
            return {k: self._show(v) for k, v in value.items()}
        return value

    # -- flows ----------------------------------------------------------------------------------------------
    def start_page(self, flow: str) -> str | None:
        """The URL `adapter.start.<flow>` declares (a name of `pages`, or a URL with placeholders), else None."""
        declared = (self.adapter.get("start") or {}).get(flow)
        if not declared:
            return None
        template = (self.adapter.get("pages") or {}).get(declared, declared)
        return self.vars.expand(template, f"adapter.start.{flow}")

    def begin(self, flow: str, pages: PageSet, after_failure: bool = False) -> str | None:
        """Put the person's main tab on the page `flow` begins from; the URL loaded, or None when the flow goes on
        where the previous one left. A declared start page is always loaded; after a flow that stopped at a step,
        the system's base URL is (never the page the failure left, where the next flow would fail too)."""
        url = self.start_page(flow)
        if url is None and after_failure:
            url = self.vars.expand("{system.base_url}", f"adapter.start.{flow}").rstrip("/") + "/"
        if url is None:
            return None
        pages.current = pages.main
        pages.main.goto(url, timeout=self.step_timeout * 1000)
        return url

    def has_flow(self, name: str) -> bool:
        return bool((self.adapter.get("flows") or {}).get(name))

    def run_flow(self, name: str, pages: PageSet, outcome: FlowOutcome | None = None) -> FlowOutcome:
        out = outcome or FlowOutcome(name)
        out.started = datetime.now(VN_TZ)
        steps = (self.adapter.get("flows") or {}).get(name) or []
        try:
            self.run_steps(name, steps, pages, None, out, prefix="")
            out.ok = True
        except StepFailed as exc:
            out.error = exc
        finally:
            out.finished = datetime.now(VN_TZ)
        if self.shots == "flows" and out.ok:
            self.hooks.screenshot(pages.current, name, "end")
        return out

    def run_steps(self, flow: str, steps: list[dict], pages: PageSet, scope, out: FlowOutcome, prefix: str) -> None:
        for i, step in enumerate(steps, 1):
            index = f"{prefix}{i}"
            desc = self.describe(step)
            where = f"adapter.flows.{flow}[{index}]"
            if (flow, index) in self.pause_at and hasattr(self.hooks, "pause"):
                self.pause_at.discard((flow, index))
                self.hooks.pause(pages.current, flow, index, desc)
            started, at = time.monotonic(), time.time()
            self.hooks.before_step(flow, step)
            scope_of_step = getattr(self.hooks, "step_scope", None)
            try:
                with scope_of_step(flow, desc) if scope_of_step else contextlib.nullcontext():
                    self.run_step(flow, step, pages, scope, out, index, where)
            except StepFailed:
                raise
            except AdapterError:
                raise
            except Exception as exc:  # Playwright timeouts and assertion errors become a named failing step
                message = self.explain(step, exc, pages.current, scope, where)
                shot = self.hooks.screenshot(pages.current, flow, f"failed {desc}")
                out.steps.append({"step": index, "what": desc, "ok": False, "error": message,
                                  "s": round(time.monotonic() - started, 3), "at": round(at, 3)})
                raise StepFailed(flow, index, desc, message, shot) from None
            out.steps.append({"step": index, "what": desc, "ok": True, "s": round(time.monotonic() - started, 3),
                              "at": round(at, 3)})
            self.hooks.after_step(flow, step)
            if "within_row" in step:
                continue
            if step.get("screenshot", self.shots == "steps" and self._changes_page(step)) or "screenshot_as" in step:
                self.hooks.screenshot(pages.current, flow, step.get("screenshot_as") or desc)

    # -- why a step failed ---------------------------------------------------------------------------------
    def explain(self, step: dict, exc: Exception, page, scope, where: str) -> str:
        """The failure as the adapter's author can act on it: the element looked for, the page (URL, title), and
        when it is missing the page's nearest accessible names; never a traceback."""
        first = _first_line(exc)
        if isinstance(exc, NotFound):
            return self._missing(exc.role, exc.name, page, exc.what, exact=True)
        spec = self.locator_of(step)
        if spec is None:
            return f"{first} — on {where_page(page)}"
        role, name = self.wanted(spec, where)
        try:
            if "within_row" in step:
                count = page.get_by_role("row").filter(has_text=name).count()
            else:
                count = self.locate(scope if scope is not None else page, spec, where).count()
        except Exception:
            count = None
        if count == 0 and not (step.get("expect") or {}).get("state") == "hidden":
            missing = self._missing(role, name, page, exact=spec.get("exact", role != "text"), css=bool(spec.get("css")))
            return f"{first}: {missing}" if "wait_until" in step else missing
        looked = f"{role} '{name}'" if name else role
        return f"{first} — {looked} on {where_page(page)}"

    def _missing(self, role: str, name: str | None, page, what: str = "", exact: bool = True, css: bool = False) -> str:
        looked = f"no {role} named '{name}'" if name and role not in ("text", "element matching", "row containing") \
            else f"no {role} '{name}'" if name else f"no {role}"
        message = f"{looked}{f' ({what})' if what else ''} on {where_page(page)}"
        hints = [] if css or not name else nearest_names(name, page_names(page), role)
        if hints:
            message += "; nearest accessible names on the page: " + ", ".join(hints)
            if exact:
                message += " (a name is matched whole; add `exact: false` to match part of it)"
        return message

    def locator_of(self, step: dict) -> dict[str, Any] | None:
        """The locator a step acts on (None for steps without one)."""
        for kind in ("click", "check"):
            if kind in step:
                return step[kind]
        if "expect" in step:
            return {k: v for k, v in step["expect"].items() if k != "state"}
        if "fill" in step and "fields" not in step["fill"]:
            return {k: v for k, v in step["fill"].items() if k in ("label", "role", "name", "css", "placeholder")}
        if "select" in step:
            return {k: v for k, v in step["select"].items() if k != "value"}
        if "upload" in step and "label" in step["upload"] and "documents" not in step["upload"]:
            return {"label": step["upload"]["label"]}
        if "popup" in step:
            return step["popup"].get("click")
        if "capture" in step:
            return step["capture"].get("from")
        if "wait_until" in step:
            return step["wait_until"].get("visible")
        if "within_row" in step:
            return {"row_with": step["within_row"]["value"]}
        return None

    def wanted(self, spec: dict[str, Any], where: str) -> tuple[str, str | None]:
        """(what kind of element, the name it should have), placeholders filled in."""
        x = lambda s: self._show(s) if self.vars.uses_secret(s) else self.vars.expand(s, where)  # noqa: E731
        if spec.get("row_with"):
            return "row containing", x(spec["row_with"])
        if spec.get("role"):
            return spec["role"], x(spec["name"]) if spec.get("name") else None
        for key, role in (("label", "label"), ("placeholder", "placeholder"), ("text", "text"), ("css", "element matching")):
            if spec.get(key):
                return role, x(spec[key])
        return "element", None

    @staticmethod
    def _changes_page(step: dict) -> bool:
        """Steps after which the page shows something new: navigation, popups, captured values, buttons, links."""
        if QUIET_STEPS.intersection(step) or "expect" in step or "wait_until" in step:
            return False
        if "click" in step:
            return step["click"].get("role") not in ("radio", "checkbox", "option", "tab")
        return True

    def _timeout(self, step: dict, arg: Any = None) -> float:
        t = step.get("timeout_s") or (arg.get("timeout_s") if isinstance(arg, dict) else None) or self.step_timeout
        return float(t) * 1000

    def run_step(self, flow: str, step: dict, pages: PageSet, scope, out: FlowOutcome, index: str, where: str) -> None:
        from playwright.sync_api import expect

        page = pages.current
        root = scope if scope is not None else page
        timeout = self._timeout(step)
        x = lambda s: self.vars.expand(s, where)  # noqa: E731

        if "goto" in step:
            page.goto(x(step["goto"]), timeout=timeout)
        elif "click" in step:
            self.locate(root, step["click"], where).click(timeout=timeout)
        elif "check" in step:
            self.locate(root, step["check"], where).check(timeout=timeout)
        elif "fill" in step:
            self.fill(step["fill"], root, out, timeout, where)
        elif "select" in step:
            arg = step["select"]
            loc = self.locate(root, {k: v for k, v in arg.items() if k != "value"}, where)
            value = x(arg["value"])
            try:
                loc.select_option(value=value, timeout=timeout)
            except Exception:
                loc.select_option(label=value, timeout=timeout)
        elif "upload" in step:
            self.upload(step["upload"], root, out, timeout, where)
        elif "capture" in step:
            self.capture(step["capture"], root, page, timeout, where)
        elif "expect" in step:
            arg = dict(step["expect"])
            state = arg.pop("state", "visible")
            loc = self.locate(root, arg, where)
            (expect(loc).to_be_hidden if state == "hidden" else expect(loc).to_be_visible)(timeout=timeout)
        elif "popup" in step:
            arg = step["popup"]
            with page.context.expect_page(timeout=timeout) as info:
                if "click" in arg:
                    self.locate(root, arg["click"], where).click(timeout=timeout)
                else:
                    page.evaluate("url => window.open(url, '_blank')", x(arg["goto"]))
            new = info.value
            new.wait_for_load_state("domcontentloaded", timeout=timeout)
            pages.current = new
        elif "switch" in step:
            pages.current = pages.main if step["switch"] == "main" else pages.newest()
            pages.current.bring_to_front()
        elif "within_row" in step:
            arg = step["within_row"]
            rows = (page.locator(x(arg["table"])) if arg.get("table") else root).get_by_role("row")
            row = rows.filter(has_text=x(arg["value"]))
            expect(row.first).to_be_visible(timeout=timeout)
            self.run_steps(flow, arg["steps"], pages, row.first, out, prefix=f"{index}.")
        elif "wait_until" in step:
            self.wait(step["wait_until"], pages, root, out, where)
        elif "inventory" in step:
            kind = step["inventory"]
            page.wait_for_load_state("domcontentloaded", timeout=timeout)
            out.observations.setdefault("inventory", {})[kind] = page.evaluate(INVENTORY_JS, kind)
        elif "screenshot_as" in step:
            pass  # taken by run_steps
        else:
            raise AdapterError([f"{where}: unknown step {sorted(step)}"])

    # -- step kinds with more to them ---------------------------------------------------------------------------
    def field_value(self, f: dict[str, Any]) -> str | None:
        if f.get("from_identity"):
            v = self.identity.get(f["from_identity"])
            if v not in (None, ""):
                return str(v)
        return f.get("sample")

    def fill(self, arg: dict, root, out: FlowOutcome, timeout: float, where: str) -> None:
        if "fields" in arg:
            prefilled = out.observations.setdefault("prefilled", {})
            filled_any = False
            for f in self.scenario.get("fields", []):
                if arg["fields"] == "required" and not f.get("required"):
                    continue
                value = self.field_value(f)
                if value is None:
                    continue
                loc = root.get_by_label(name_pattern(f["label"]))
                try:
                    loc.wait_for(state="visible", timeout=timeout if not filled_any else min(timeout, 2000))
                except Exception:
                    raise NotFound("label", f["label"], f"published field {f['name']}") from None
                filled_any = True
                tag = loc.evaluate("el => el.tagName.toLowerCase()")
                if tag == "select":
                    loc.select_option(label=value, timeout=timeout)
                    continue
                current = loc.input_value(timeout=timeout)
                if f.get("from_identity"):
                    prefilled[f["label"]] = current
                if current != value and loc.is_editable():
                    loc.fill(value, timeout=timeout)
            return
        spec = {k: v for k, v in arg.items() if k in ("label", "role", "name", "css", "placeholder")}
        value = self.vars.expand(arg["value"], where)
        self.locate(root, spec, where).fill(value, timeout=timeout)

    def upload(self, arg: dict, root, out: FlowOutcome, timeout: float, where: str) -> None:
        if "documents" not in arg:
            path = (self.base_dir / self.vars.expand(arg["file"], where)).resolve()
            root.get_by_label(name_pattern(self.vars.expand(arg["label"], where))).set_input_files(str(path), timeout=timeout)
            return
        template = arg.get("label", "{document.TenThanhPhanHoSo}")
        uploaded = out.observations.setdefault("uploaded", [])
        for doc in self.scenario.get("documents", []):
            if arg["documents"] == "required" and not doc.get("required"):
                continue
            self.vars.set("document", doc)
            if arg.get("khodl") and doc.get("khodl_result_code"):
                self.locate(root, arg["khodl"], where).check(timeout=timeout)
                out.observations.setdefault("khodl", []).append(doc["MaThanhPhanHoSo"])
                continue
            path = self.sample_file(doc)
            if path is None:
                raise AdapterError([f"{where}: document '{doc['TenThanhPhanHoSo']}' has no sample_file in the scenario "
                                    f"{self.scenario.get('_file', '')}".rstrip()])
            if not Path(path).is_file():
                raise AdapterError([f"{where}: sample_file '{doc['sample_file']}' of document "
                                    f"'{doc['TenThanhPhanHoSo']}' not found: tried {path} (a sample_file is "
                                    "resolved in the folder of its scenario file)"])
            label = self.vars.expand(template, where)
            loc = root.get_by_label(name_pattern(label))
            try:
                # the form is loaded by now (earlier steps waited for it): a missing input fails fast
                loc.wait_for(state="attached", timeout=min(timeout, 2000))
                loc.set_input_files(str(path), timeout=timeout)
            except Exception:
                raise NotFound("label", label, f"file input of published document {doc['MaThanhPhanHoSo']}") from None
            uploaded.append(doc["MaThanhPhanHoSo"])

    def capture(self, arg: dict, root, page, timeout: float, where: str) -> None:
        rx = re.compile(self.vars.expand(arg["pattern"], where))
        source = self.locate(root, arg["from"], where) if arg.get("from") else None

        def found():
            text = source.inner_text(timeout=timeout) if source is not None else page.locator("body").inner_text(timeout=timeout)
            m = rx.search(text or "")
            return (m.group(1) if m.groups() else m.group(0)) if m else None

        try:
            value = wait_until(found, timeout / 1000, interval=0.1, what=f"text matching {rx.pattern!r}")
        except DeadlineExceeded as exc:
            raise RuntimeError(str(exc)) from None
        self.vars.set(arg["name"], value)

    def wait(self, arg: dict, pages: PageSet, root, out: FlowOutcome, where: str) -> None:
        timeout = float(arg.get("timeout_s") or self.step_timeout)
        interval = float(arg.get("interval_s") or 1.0)
        if "portal_status" in arg:
            code = self.vars.lookup("dossier_code")
            want = self.vars.expand(arg["portal_status"], where)
            try:
                wait_until(lambda: self.hooks.portal_status(code) == want, timeout, interval=min(interval, 0.5),
                           what=f"dossier {code} at status {want} on the portal")
            except DeadlineExceeded as exc:
                raise RuntimeError(str(exc)) from None
            return
        loc = self.locate(root, arg["visible"], where)
        deadline = time.monotonic() + timeout
        while True:
            try:
                loc.wait_for(state="visible", timeout=interval * 1000)
                return
            except Exception:
                if time.monotonic() >= deadline:
                    raise RuntimeError(f"{self.describe({'expect': arg['visible']})} not visible within {timeout:.0f}s") from None
                if arg.get("reload"):
                    pages.current.reload()

    def marker(self, name: str, pages: PageSet, timeout_s: float = 5.0) -> bool | None:
        """Whether a marker is visible now (waiting up to `timeout_s`); None when the adapter declares none."""
        spec = (self.adapter.get("markers") or {}).get(name)
        if not spec:
            return None
        spec = dict(spec)
        page = pages.current
        if spec.get("page"):
            url = self.vars.expand((self.adapter.get("pages") or {}).get(spec["page"], spec.pop("page")), f"markers.{name}")
            spec.pop("page", None)
            page.goto(url)
        try:
            self.locate(page, spec, f"adapter.markers.{name}").first.wait_for(state="visible", timeout=timeout_s * 1000)
            return True
        except Exception:
            return False

    def first_marker(self, names: list[str], pages: PageSet, timeout_s: float, ignore_page: bool = False) -> str | None:
        """The first of several markers to become visible within `timeout_s` (None if none does)."""
        page = pages.current
        specs = {n: (self.adapter.get("markers") or {}).get(n) for n in names}
        locs = {n: self.locate(page, s, f"adapter.markers.{n}").first for n, s in specs.items()
                if s and (ignore_page or not s.get("page"))}
        if not locs:
            return None
        combined = None
        for loc in locs.values():
            combined = loc if combined is None else combined.or_(loc)
        try:
            combined.first.wait_for(state="visible", timeout=timeout_s * 1000)
        except Exception:
            return None
        for n, loc in locs.items():
            if loc.is_visible():
                return n
        return None
