"""One run of the suite: the target, the portal (mock started here when asked), one browser, and per service
the flows run once, in order, with evidence recorded per check."""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from kiemthu.logs import get_logger, redact
from kiemthu.runtime import CHROMIUM_ARGS, VN_TZ, DeadlineExceeded, ManagedProcess, chromium_path, new_run_id, wait_until

from conformance.adapter import Executor, FlowOutcome, PageSet, Variables, load_adapter
from conformance.evidence import CHECK_OF_FLOW, Evidence, scrub_zip
from conformance.journal import accepted, data_items
from conformance.portal import PortalClient, mock_process
from conformance.runner import MOCK_PROVIDED
from conformance.upload_probe import disallowed_upload

log = get_logger("conformance")

CHECKS = ("sso", "submission", "payment", "processing")
FLOW_ORDER = ("citizen_login", "open_service", "submit", "pay", "logout", "officer_login", "officer_process")
NEEDS = {"open_service": ["citizen_login"], "submit": ["open_service"], "pay": ["submit"], "logout": ["citizen_login"],
         "officer_login": [], "officer_process": ["submit", "officer_login"], "citizen_login": []}
SSO_MODES = ("id_token_foreign_key", "id_token_alg_none", "id_token_wrong_iss", "id_token_wrong_aud",
             "id_token_wrong_nonce", "id_token_expired", "tampered_state", "replay_code")
IPN_NEGATIVE_MODES = ("ipn_bad_checksum", "ipn_lower_amount")
SETTLE_S, QUIET_S = 2.5, 0.3  # watch for messages queued behind the last expected one: at most / quiet for
# the outage: the adapter refuses the next request (whenever the system sends it), and lapses after OUTAGE_S anyway;
# a count rather than a time span fails the same sync on a slow or a fast machine, and costs one retry interval
OUTAGE_REQUESTS, OUTAGE_S = 1, 5.0
RUN_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$")


class Options:
    def __init__(self, target: Path, run_dir: Path | None, services: list[str], checks: list[str],
                 defects: list[str], headed: bool):
        self.target, self.run_dir, self.services, self.checks = Path(target), run_dir, services, checks
        self.defects, self.headed = defects, headed


class Suite:
    """Everything shared by the services of one run."""

    def __init__(self, opts: Options):
        from kiemthu.runtime import make_run_dir
        from kiemthu.target import load_target
        from scenarios import load_scenario
        from schemas import load_profile

        self.opts = opts
        self.target = load_target(opts.target)
        self.profile = load_profile(self.target["portal"].get("profile"))
        self.adapter = load_adapter(self.target.get("adapter"))
        self.run_dir = make_run_dir(opts.run_dir)
        self.run_id = self.run_dir.name if RUN_ID.match(self.run_dir.name) else new_run_id()
        self.evidence = Evidence(self.run_dir)
        self.started_at = datetime.now(VN_TZ)
        deadlines = self.target.get("deadlines") or {}
        self.sync_s = float(deadlines.get("sync_s", 15))
        self.page_s = float(deadlines.get("page_s", 15))
        self.services: list[tuple[dict, dict]] = []
        for entry, path in zip(self.target["services"], self.target.scenario_paths()):
            scenario = load_scenario(path)
            if opts.services and scenario["id"] not in opts.services:
                continue
            self.services.append((entry, scenario))
        self.portal = PortalClient(self.target["portal"]["base_url"])
        self.mock: ManagedProcess | None = None
        self._pw = None
        self._browser = None
        self.runs: dict[str, ServiceRun] = {}
        self.shared: dict[str, Any] = {}  # results of run-wide cases (SSO negatives, outage), computed once
        self.journal_cursor = 0
        self.journal_cache: list[dict[str, Any]] = []
        # set by the pytest plugin so a prompt to a person is not swallowed by output capture
        self.uncaptured = contextlib.nullcontext
        # armed adversarial modes are global at the portal: one case at a time from arming to consumption
        self.arming = threading.Lock()
        self.negatives_thread: threading.Thread | None = None
        self.negatives_http: dict[str, dict[str, Any]] = {}

    # -- lifecycle ------------------------------------------------------------------------------------------
    def start(self) -> None:
        portal = self.target["portal"]
        health = f"{portal['base_url'].rstrip('/')}/_mock/health"
        if portal["mode"] == "mock" and os.environ.get(MOCK_PROVIDED) == health:
            self.browser()  # launched while the mock, started by `kiemthu run`, finishes booting
            wait_until(self.portal.health, 30, interval=0.05, what=f"mock portal ready at {health}")
        elif portal["mode"] == "mock":
            self.mock = mock_process(self.target.path, portal["base_url"], self.run_dir).spawn()
            self.browser()  # launched while the mock boots
            self.mock.wait_ready(30)
        elif not self.portal.health():
            raise RuntimeError(f"portal at {portal['base_url']} does not answer /_mock/health")
        self.sync_journal()

    def browser(self):
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            self._pw = sync_playwright().start()
            self._browser = self._pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS,
                                                     headless=not self.opts.headed)
        return self._browser

    def new_context(self):
        ctx = self.browser().new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                         viewport={"width": 1280, "height": 900}, accept_downloads=False)
        ctx.set_default_timeout(self.page_s * 1000)
        ctx.set_default_navigation_timeout(self.page_s * 1000)
        return ctx

    def close(self) -> None:
        if self.negatives_thread is not None:
            self.negatives_thread.join(self.page_s)  # let it finish before the portal goes away
        for run in self.runs.values():
            run.close()
        try:
            self.export_journal()
        except Exception as exc:  # the journal is evidence, but its loss must not hide the verdicts
            log.warning("journal export failed: %s", exc)
        if self._browser is not None:
            self._browser.close()
            self._pw.stop()
        self.portal.close()
        if self.mock:
            self.mock.stop()

    def export_journal(self) -> None:
        entries = self.portal.journal(after_id=0)
        with open(self.run_dir / "journal.jsonl", "w", encoding="utf-8") as f:
            for e in entries:
                f.write(redact(json.dumps(e, ensure_ascii=False, default=str)) + "\n")

    # -- journal --------------------------------------------------------------------------------------------
    def sync_journal(self) -> int:
        """Fetch entries newer than the cursor into the cache; returns the newest id."""
        new = self.portal.journal(after_id=self.journal_cursor)
        if new:
            self.journal_cache.extend(new)
            self.journal_cursor = max(int(e.get("id") or 0) for e in new)
        return self.journal_cursor

    def window(self, after: int, until: int) -> list[dict[str, Any]]:
        return [e for e in self.journal_cache if after < int(e.get("id") or 0) <= until]

    # -- services -------------------------------------------------------------------------------------------
    def service(self, service_id: str) -> "ServiceRun":
        if service_id not in self.runs:
            entry, scenario = next((e, s) for e, s in self.services if s["id"] == service_id)
            self.runs[service_id] = ServiceRun(self, entry, scenario)
        return self.runs[service_id]

    def selected_checks(self, entry: dict) -> list[str]:
        listed = entry.get("checks") or list(CHECKS)
        return [c for c in listed if not self.opts.checks or c in self.opts.checks]

    _identities: list[dict[str, Any]] | None = None

    def identities(self) -> list[dict[str, Any]]:
        if self._identities is None:
            self._identities = self.portal.identities()
        return self._identities

    def secrets(self) -> list[str]:
        from kiemthu.target import secret_fields

        out = []
        for dotted in secret_fields(self.target.data):
            try:
                out.append(self.target.secret(dotted))
            except Exception:
                pass
        return out


class Hooks:
    """What the executor asks of the run: evidence, portal state, and the outage injected mid-processing."""

    def __init__(self, run: "ServiceRun"):
        self.run = run

    def screenshot(self, page, flow: str, label: str) -> str | None:
        return self.run.suite.evidence.screenshot(page, self.run.id, CHECK_OF_FLOW.get(flow, flow), f"{flow}-{label}")

    def portal_status(self, code: str) -> str | None:
        view = self.run.suite.portal.dossier(code)
        return str(view.get("TrangThaiHoSo")) if view else None

    def before_step(self, flow: str, step: dict) -> None:
        if step.get("marks_status"):
            self.run.before_status_action(step["marks_status"])

    def after_step(self, flow: str, step: dict) -> None:
        if step.get("marks_status"):
            self.run.status_actions.append((step["marks_status"], datetime.now(VN_TZ)))


class ServiceRun:
    """One service under test: its flows (each run once, in order), what was observed, its dossier code."""

    def __init__(self, suite: Suite, entry: dict, scenario: dict):
        from scenarios import sample_file

        self.suite, self.entry, self.scenario = suite, entry, scenario
        self.id = scenario["id"]
        self.checks = suite.selected_checks(entry)
        self.flows: dict[str, FlowOutcome] = {}
        self.status_actions: list[tuple[str, datetime]] = []
        self.fault: dict[str, Any] = {"injected": False}
        self.extra_codes: list[str] = []  # dossiers created only for a negative case
        self.extra_notes: dict[str, str] = {}  # why such a dossier exists
        self.started = datetime.now(VN_TZ)
        self.citizen: PageSet | None = None
        self.officer: PageSet | None = None
        self.identity = self._identity()
        target = suite.target
        self.vars = Variables(
            system=target["system"], portal={"base_url": target["portal"]["base_url"]},
            service=scenario, identity=self.identity,
            officer={"username": (target.get("officer") or {}).get("username", ""),
                     "password": lambda: target.secret("officer.password")},
            payment={"bank": (suite.adapter.get("payment") or {}).get("bank") or suite.profile["payment"]["banks"][0]["TenNganHang"],
                     "outcome": (suite.adapter.get("payment") or {}).get("outcome") or
                     suite.profile["payment"]["outcomes"]["success"]["label"]},
        )
        self.vars.set("pages", {k: _Lazy(self.vars, v) for k, v in (suite.adapter.get("pages") or {}).items()})
        self.hooks = Hooks(self)
        self.executor = Executor(suite.adapter, self.vars, scenario=scenario, identity=self.identity,
                                 base_dir=target.path.parent if target.path else Path.cwd(), hooks=self.hooks,
                                 sample_file=lambda doc: sample_file(scenario, doc))
        self._tracing: str | None = None

    def _identity(self) -> dict[str, Any]:
        wanted = self.entry.get("identity")
        people = self.suite.identities()
        if wanted:
            for p in people:
                if wanted in (p.get("TechID"), p.get("sub"), p.get("SoDinhDanh")):
                    return p
            raise RuntimeError(f"services[{self.id}].identity {wanted} is not a portal test identity")
        citizens = [p for p in people if str(p.get("LoaiTaiKhoan", "1")) == "1"]
        acr = self.scenario.get("acr")
        able = [p for p in citizens if not acr or acr in (p.get("loAs") or [acr])]
        if not (able or citizens):
            raise RuntimeError("the portal lists no test identity")
        return (able or citizens)[0]

    @property
    def dossier_code(self) -> str | None:
        try:
            return self.vars.lookup("dossier_code")
        except KeyError:
            return None

    @property
    def online_code(self) -> str:
        return next(k for k, v in self.suite.profile["kenh_thuc_hien"].items() if v == "Trực tuyến")

    # -- flows ----------------------------------------------------------------------------------------------
    def ensure(self, name: str) -> FlowOutcome:
        """Run every flow up to `name` not run yet (each once, in order); returns `name`'s outcome."""
        for flow in FLOW_ORDER[: FLOW_ORDER.index(name) + 1]:
            if flow in self.flows:
                continue
            if flow == "pay" and not self.charges_fee():
                continue
            self.flows[flow] = self._run(flow)
        if name not in self.flows:
            self.flows[name] = FlowOutcome(name, skipped="not part of this service")
        return self.flows[name]

    def charges_fee(self) -> bool:
        return int(self.scenario["fee"].get("amount") or 0) > 0

    def _run(self, flow: str) -> FlowOutcome:
        broken = [n for n in NEEDS[flow] if n in self.flows and not self.flows[n].ok]
        if broken:
            return FlowOutcome(flow, skipped=f"not run: {broken[0]} could not be completed ({self.flows[broken[0]].problem()})")
        if flow == "officer_login" and (self.suite.target.get("officer") or {}).get("mode") == "manual":
            return FlowOutcome(flow, ok=True, observations={"manual": True})
        if flow == "officer_process" and (self.suite.target.get("officer") or {}).get("mode") == "manual":
            return self._manual_processing()
        if not self.executor.has_flow(flow) and flow not in ("open_service",):
            return FlowOutcome(flow, skipped=f"the adapter declares no '{flow}' flow")
        pages = self._pages_for(flow)
        out = FlowOutcome(flow)
        out.journal_after = self.suite.sync_journal()
        self._trace_segment(flow)
        try:
            if flow == "citizen_login":
                self._citizen_login(pages, out)
            elif flow == "open_service":
                self._open_service(pages, out)
            elif flow == "pay":
                self._pay(pages, out)
            elif flow == "logout":
                self._logout(pages, out)
            else:
                self.executor.run_flow(flow, pages, out)
                if flow == "submit" and out.ok:
                    out.observations["dossier_code"] = self.dossier_code
                    if "submission" in self.checks:  # while the citizen is still logged in
                        out.observations["upload_probe"] = disallowed_upload(self)
        finally:
            out.journal_until = self.suite.sync_journal()
        if flow == "open_service" and out.ok and "sso" in self.checks and "sso_negatives" not in self.suite.shared:
            # the login's journal window is closed: the negative logins can run alongside the next flows
            start_sso_negatives(self)
        return out

    def _pages_for(self, flow: str) -> PageSet:
        if flow.startswith("officer"):
            if self.officer is None:
                self.officer = PageSet(self.suite.new_context().new_page())
            return self.officer
        if self.citizen is None:
            ctx = self.suite.new_context()
            ctx.tracing.start(snapshots=True, screenshots=False, sources=False)
            self.citizen = PageSet(ctx.new_page())
        return self.citizen

    def _trace_segment(self, flow: str) -> None:
        """Citizen flows are traced in chunks, one file per check; the officer's login never is (password)."""
        check = CHECK_OF_FLOW[flow]
        if flow.startswith("officer"):
            if flow == "officer_process" and self.officer and self._tracing != "officer":
                self.officer.context.tracing.start(snapshots=True, screenshots=False, sources=False)
                self._tracing = "officer"
            return
        if self.citizen is None:
            return
        if self._tracing == check:
            return
        ctx = self.citizen.context
        if self._tracing is not None:
            self._save_trace(ctx, self._tracing)
        ctx.tracing.start_chunk(title=f"run {self.suite.run_id} — {self.id} / {check}")
        self._tracing = check

    def _save_trace(self, ctx, check: str, final: bool = False) -> None:
        path = self.suite.evidence.trace_path(self.id, check)
        t0 = time.monotonic()
        try:
            (ctx.tracing.stop if final else ctx.tracing.stop_chunk)(path=str(path))
            scrub_zip(path, self.suite.secrets())
            self.suite.evidence.add_file(self.id, check, path)
            log.debug("trace %s/%s saved in %.2fs", self.id, check, time.monotonic() - t0)
        except Exception as exc:
            log.warning("trace of %s/%s not saved: %s", self.id, check, exc)

    def timeline(self) -> list[dict[str, Any]]:
        """Every flow with its steps and durations (written as evidence/<service>/flows.json)."""
        out = []
        for name, f in self.flows.items():
            out.append({"flow": name, "ok": f.ok, "skipped": f.skipped, "error": str(f.error) if f.error else None,
                        "started": f.started.isoformat() if f.started else None,
                        "finished": f.finished.isoformat() if f.finished else None, "steps": f.steps})
        return out

    def close(self) -> None:
        try:
            path = self.suite.run_dir / "evidence" / self.id / "flows.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            data = {"run_id": self.suite.run_id, "service": self.id, "flows": self.timeline()}
            path.write_text(redact(json.dumps(data, ensure_ascii=False, indent=2, default=str)), encoding="utf-8")
        except Exception as exc:
            log.warning("flows.json of %s not written: %s", self.id, exc)
        if self.citizen is not None:
            if self._tracing and self._tracing != "officer":
                self._save_trace(self.citizen.context, self._tracing)
            try:
                self.citizen.context.tracing.stop()
            except Exception:
                pass
            self.citizen.context.close()
        if self.officer is not None:
            if self._tracing == "officer":
                self._save_trace(self.officer.context, "processing", final=True)
            self.officer.context.close()
        self.citizen = self.officer = None

    def flush_traces(self, check: str) -> None:
        """Save the trace of `check` now, so the test can attach it."""
        if check == "processing" and self.officer is not None and self._tracing == "officer":
            self._save_trace(self.officer.context, "processing", final=True)
            self._tracing = None
        elif self.citizen is not None and self._tracing == check:
            self._save_trace(self.citizen.context, check)
            self._tracing = None

    # -- flows the suite shapes -----------------------------------------------------------------------------
    def _markers(self, pages: PageSet, timeout: float) -> dict[str, Any]:
        landing = self.executor.first_marker(["logged_in", "login_failed"], pages, timeout)
        return {"logged_in": landing == "logged_in", "refused_page": landing == "login_failed",
                "landing": pages.current.url if landing is None else landing}

    def _citizen_login(self, pages: PageSet, out: FlowOutcome) -> None:
        base = self.suite.target["system"]["base_url"].rstrip("/")
        set_cookies: list[str] = []

        def collect(response) -> None:  # the system's own cookies (the portal may share its host)
            if response.url.startswith(base):
                set_cookies.extend(h["value"] for h in response.headers_array() if h["name"].lower() == "set-cookie")

        pages.context.on("response", collect)
        try:
            self.executor.run_flow("citizen_login", pages, out)
        finally:
            pages.context.remove_listener("response", collect)
        out.observations["set_cookies"] = set_cookies
        seen = self._markers(pages, self.suite.page_s if out.ok else 2)
        seen["where"] = self.suite.evidence.screenshot(pages.current, self.id, "sso", "citizen_login-landing")
        out.observations.update(seen)
        if out.ok and not seen["logged_in"]:
            from conformance.adapter import StepFailed

            out.ok = False
            out.error = StepFailed("citizen_login", "landing", "the logged-in marker after the portal login",
                                   f"not logged in; landed on {seen['landing']}", seen["where"])

    def _open_service(self, pages: PageSet, out: FlowOutcome) -> None:
        if self.executor.has_flow("open_service"):
            self.executor.run_flow("open_service", pages, out)
        else:
            out.ok = True
            out.started = out.finished = datetime.now(VN_TZ)
        landed = self.executor.marker("service_form", pages, timeout_s=2 if out.ok else 0.5)
        out.observations["landed_on_service"] = bool(landed) if landed is not None else out.ok

    def _logout(self, pages: PageSet, out: FlowOutcome) -> None:
        pages.current = pages.main
        self.executor.run_flow("logout", pages, out)
        if out.ok:
            check = pages.context.new_page()
            try:
                url = self.vars.expand((self.suite.adapter.get("pages") or {}).get("my_dossiers", "{system.base_url}/"))
                check.goto(url)
                probe = PageSet(check)
                # a page may render late: wait for a sign either way (only the logged-in one without a logged_out marker)
                seen = self.executor.first_marker(["logged_in", "logged_out"], probe, 1.5)
                out.observations["logged_in_after_logout"] = seen == "logged_in"
                out.observations["where"] = self.suite.evidence.screenshot(check, self.id, "sso", "after-logout")
            finally:
                check.close()

    def paid_shown(self) -> bool | None:
        """Whether the citizen's list shows the dossier as paid (a separate tab, so the receipt stays open)."""
        markers = self.suite.adapter.get("markers") or {}
        if self.citizen is None or not markers.get("paid"):
            return None
        page = self.citizen.context.new_page()
        try:
            probe = PageSet(page)
            name = markers["paid"].get("page")
            if name:
                page.goto(self.vars.expand((self.suite.adapter.get("pages") or {})[name], "adapter.pages"))
            seen = self.executor.first_marker(["paid", "unpaid"], probe, 2.0, ignore_page=True)
            return seen == "paid"
        finally:
            self.suite.evidence.screenshot(page, self.id, "payment", "dossier-list")
            page.close()

    def portal_paid(self) -> bool:
        view = self.suite.portal.dossier(self.dossier_code or "") or {}
        value = (view.get("fields") or {}).get("DuocThanhToanTrucTuyen")
        return str(value).lower() in ("1", "true")

    def _close_popups(self, pages: PageSet) -> None:
        for p in list(pages.context.pages):
            if p is not pages.main and not p.is_closed():
                p.close()
        pages.current = pages.main

    def _pay(self, pages: PageSet, out: FlowOutcome) -> None:
        """Pay the fee. With the payment check selected, first a callback reporting a lower amount (the dossier must
        stay unpaid and the next try must work), then the genuine payment preceded by a forged callback (which must
        be refused)."""
        out.started = datetime.now(VN_TZ)
        pages.current = pages.main
        offered = self.executor.marker("payment_offered", pages, timeout_s=2)
        out.observations["offered"] = bool(offered) if offered is not None else True
        if offered is False:
            out.skipped = "the system offers no online payment"
            out.finished = datetime.now(VN_TZ)
            return
        checking = "payment" in self.checks
        # like the SSO negatives, the lower amount tests the system's callback handler, not the service: once per run
        shared = self.suite.shared.get("lower_amount")
        lower = None
        if shared:
            out.observations["negatives"] = [{**shared[1], "note": f"evaluated on {shared[0]}"}]
        elif checking:
            lower = self._pay_attempt(pages, "ipn_lower_amount")
            lower["dossier_code"] = self.dossier_code
            out.observations["negatives"] = [lower]
            self.suite.shared["lower_amount"] = (self.id, lower)
        else:
            out.observations["negatives"] = []
        if lower is not None and (lower.get("shown_paid") or lower.get("portal_paid")):
            # the system took the lower amount as payment: the dossier cannot be paid again, and its flow goes on
            final = {**lower, "mode": None, "returned": lower["flow_ok"],
                     "note": "the dossier was marked paid by the callback reporting a lower amount"}
        else:
            final = self._pay_attempt(pages, "ipn_bad_checksum" if checking else None)
            if checking and final["flow_ok"]:
                # replayed at once (before the dossier list is read), so a duplicate sync has had time to show by
                # the time the payment check reads it
                out.observations["replay"] = self._replay_genuine(final)
            final["shown_paid"] = self.paid_shown() if final["flow_ok"] else None
        out.observations["final"] = final
        out.steps = final.get("steps", [])
        out.ok = final["flow_ok"] and final["returned"]
        out.error = final.get("error")
        out.finished = datetime.now(VN_TZ)

    def _pay_attempt(self, pages: PageSet, mode: str | None) -> dict[str, Any]:
        portal = self.suite.portal
        before = self.suite.sync_journal()
        moment = datetime.now(VN_TZ)
        attempt = FlowOutcome("pay")
        quiet = mode == "ipn_lower_amount"  # its evidence is the return page and the dossier list
        if quiet:
            self.executor.shots = "failures"
        lock = self.suite.arming if mode else contextlib.nullcontext()
        try:
            with lock:
                if mode:
                    portal.arm(mode, self.suite.target["portal"].get("payment_partner", {}).get("code"))
                try:
                    self.executor.run_flow("pay", pages, attempt)
                finally:
                    if mode and not attempt.ok:
                        portal.disarm()  # never reached the callback: the mode may still be armed
        finally:
            self.executor.shots = (self.suite.adapter.get("evidence") or {}).get("screenshots", "steps")
        if attempt.ok:
            base = self.suite.target["system"]["base_url"].rstrip("/")
            try:  # back on the system's own result page, whatever it says
                pages.current.wait_for_url(lambda url: url.startswith(base), timeout=self.suite.page_s * 1000)
            except Exception:
                pass
        # a refused callback leaves no success page to wait for
        success = None if mode == "ipn_lower_amount" else \
            self.executor.marker("payment_succeeded", pages, timeout_s=3.0 if attempt.ok else 0.2)
        landing = self.suite.evidence.screenshot(pages.current, self.id, "payment", f"return-{mode or 'genuine'}")
        result = {"mode": mode, "flow_ok": attempt.ok, "error": attempt.error, "returned": bool(success),
                  "moment": moment, "where": landing, "journal_after": before, "steps": attempt.steps}
        self._close_popups(pages)
        if mode:
            result["deliveries"] = self._deliveries(before)
        if mode == "ipn_lower_amount":
            result["shown_paid"] = self.paid_shown()
            result["portal_paid"] = self.portal_paid()
        result["journal_until"] = self.suite.sync_journal()
        return result

    def _replay_genuine(self, final: dict[str, Any]) -> dict[str, Any] | None:
        for delivered in final.get("deliveries") or []:
            ref = delivered.get("MaThamChieu")
            record = next(iter(self.suite.portal.payments(ref)), None) if ref else None
            replay = self.replay_ipn(record) if record else None
            if replay is not None:
                return {**replay, "ref": ref, "at": time.monotonic()}
        return None

    def replay_ipn(self, payment: dict[str, Any]) -> dict[str, Any] | None:
        """Send the genuine, accepted callback of a payment to the system once more (a replay)."""
        import httpx

        genuine = [a for a in payment.get("ipn_attempts") or [] if a.get("accepted") and not a.get("adversarial")]
        if not genuine:
            return None
        message = {k: v for k, v in (genuine[-1].get("request") or {}).items() if k != "adversarial"}
        url = genuine[-1].get("url") or self.suite.target["portal"]["payment_partner"]["callback_url"]
        before = self.suite.sync_journal()
        try:
            r = httpx.post(url, json=message, timeout=self.suite.page_s)
            reply = r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text[:300]
            return {"status": r.status_code, "reply": reply, "journal_after": before}
        except httpx.HTTPError as exc:
            return {"status": None, "reply": None, "error": str(exc), "journal_after": before}

    def _deliveries(self, after: int) -> list[dict[str, Any]]:
        refs = {e.get("payment_ref") for e in self.suite.portal.journal(after_id=after, role="payment") if e.get("payment_ref")}
        out = []
        for ref in refs:
            for p in self.suite.portal.payments(ref):
                out.append(p)
        return out

    def _manual_processing(self) -> FlowOutcome:
        from rich.console import Console

        out = FlowOutcome("officer_process", started=datetime.now(VN_TZ))
        out.journal_after = self.suite.sync_journal()
        code = self.dossier_code
        officer = self.suite.target.get("officer") or {}
        deadline = float(officer.get("manual_deadline_s", 1800))
        final = max(self.suite.profile["dossier_status"], key=int)
        with self.suite.uncaptured():
            Console(stderr=True).print(
                f"[bold yellow]Cần cán bộ xử lý / officer action needed[/]: in the back office of "
                f"{self.suite.target['system']['name']}, process dossier [bold]{code}[/] ({self.scenario['TenDVC']}) "
                f"through to '{self.suite.profile['dossier_status'][final]}' (status {final}). "
                f"Waiting up to {deadline:.0f}s, watching the portal journal…")
        try:
            wait_until(lambda: self.hooks.portal_status(code) == final, deadline, interval=2.0,
                       what=f"dossier {code} at status {final} on the portal")
            out.ok = True
        except DeadlineExceeded as exc:
            from conformance.adapter import StepFailed

            out.error = StepFailed("officer_process", "manual", "officer processes the dossier by hand", str(exc))
        out.finished = datetime.now(VN_TZ)
        out.journal_until = self.suite.sync_journal()
        return out

    # -- the outage injected mid-processing ------------------------------------------------------------------
    def before_status_action(self, status: str) -> None:
        """Before the second status-changing action, take the portal's adapter down for a few seconds (once per run)."""
        if "processing" not in self.checks or len(self.status_actions) != 1 or self.fault.get("injected"):
            return
        if self.suite.target["portal"]["mode"] != "mock" or self.suite.shared.get("outage_done"):
            if self.suite.shared.get("outage_done"):
                self.fault = {"injected": False, "why": f"outage case run once per run, on {self.suite.shared['outage_done']}"}
            return
        duration = OUTAGE_S
        self.suite.portal.fault(target="adapter", kind="http_5xx", value=503, count=OUTAGE_REQUESTS,
                                duration_s=duration)
        self.suite.shared["outage_done"] = self.id
        self.fault = {"injected": True, "duration_s": duration, "requests": OUTAGE_REQUESTS, "at_status": status, "from": datetime.now(VN_TZ),
                      "journal_after": self.suite.sync_journal(), "where": "journal.json (entries with error fault:http_5xx)"}

    # -- what the checks read -------------------------------------------------------------------------------
    def dossier_entries(self) -> list[dict[str, Any]]:
        code = self.dossier_code
        return self.suite.portal.journal(dossier=code) if code else []

    def wait_for_statuses(self, expected: list[str], timeout: float) -> list[dict[str, Any]]:
        """Journal entries of the dossier once every expected status was accepted (or the deadline passed)."""
        code = self.dossier_code
        services = [s for s in self.suite.profile["adapter"]["integration_services"] if s != "CapNhatTienDoHoSoMC"]
        entries: list[dict[str, Any]] = []

        def reached() -> bool:
            nonlocal entries
            entries = self.suite.portal.journal(dossier=code)
            got = []
            for e in entries:
                if e.get("service") in services and accepted(e):
                    got += [str(i.get("TrangThaiHoSo")) for i in data_items(e) if i.get("MaHoSo") == code]
            return all(s in got for s in expected)

        try:
            wait_until(reached, timeout, interval=0.25, what="statuses synced")
        except DeadlineExceeded:
            return entries
        # until the dossier's traffic has been quiet for a moment: a late update or the last progress step may be
        # queued behind the last status
        state = {"n": len(entries), "since": time.monotonic()}

        def quiet() -> bool:
            n = len(self.suite.portal.journal(dossier=code))
            if n != state["n"]:
                state.update(n=n, since=time.monotonic())
                return False
            return time.monotonic() - state["since"] >= QUIET_S

        try:
            wait_until(quiet, SETTLE_S, interval=0.15)
        except DeadlineExceeded:
            pass
        return self.suite.portal.journal(dossier=code)


class _Lazy:
    """A page URL template expanded when used (it may refer to values captured later)."""

    def __init__(self, variables: Variables, template: str):
        self.vars, self.template = variables, template

    def __call__(self) -> str:
        return self.vars.expand(self.template, "adapter.pages")

    def __str__(self) -> str:
        return self()


def _marker_text(run: ServiceRun, name: str) -> str | None:
    spec = (run.suite.adapter.get("markers") or {}).get(name) or {}
    text = spec.get("text") or spec.get("name")
    return run.vars.expand(text, f"adapter.markers.{name}") if text else None


def _sso_negatives(run: ServiceRun) -> dict[str, dict[str, Any]]:
    """Each adversarial login case from a fresh session: the citizen must not end up logged in.

    They test the system's SSO client, not a service, so they run once per run (on the first service) and the
    other services' SSO checks reuse the outcome. The HTTP probes start in the background as soon as the first
    citizen login succeeded (nothing else talks to the portal's SSO until the logout); a case the HTTP probe cannot
    post is played in the browser here.
    """
    suite = run.suite
    if "sso_negatives" in suite.shared:
        first, results = suite.shared["sso_negatives"]
        return {m: {**r, "journal": [], "note": f"evaluated on {first}"} for m, r in results.items()}
    if suite.negatives_thread is None:
        start_sso_negatives(run)
    suite.negatives_thread.join(suite.page_s * len(SSO_MODES))
    results: dict[str, dict[str, Any]] = dict(suite.negatives_http)
    for mode in SSO_MODES:
        if results.get(mode, {}).get("needs_browser"):
            portal = suite.portal
            with suite.arming:
                before = portal.journal(role="sso", after_id=suite.journal_cursor)
                cursor = max((int(e["id"]) for e in before), default=suite.journal_cursor)
                portal.arm(mode)
                try:
                    seen = _probe_browser(run, mode)
                finally:
                    portal.disarm()
            seen["journal"] = portal.journal(after_id=cursor, role="sso")
            results[mode] = seen
    log.debug("SSO negatives done")
    suite.shared["sso_negatives"] = (run.id, {m: {k: v for k, v in r.items() if k != "journal"} for m, r in results.items()})
    return results


def start_sso_negatives(run: ServiceRun) -> None:
    """The HTTP probes of the SSO negatives, in a thread with its own portal client."""
    import threading

    suite = run.suite
    if suite.negatives_thread is not None:
        return
    suite.negatives_thread = threading.Thread(target=_sso_probes, args=(run,), name="sso-negatives", daemon=True)
    suite.negatives_thread.start()


def _sso_probes(run: ServiceRun) -> None:
    from conformance.sso_probe import ProbeUnsupported

    suite = run.suite
    portal = PortalClient(suite.target["portal"]["base_url"])
    started, waited = time.monotonic(), 0.0
    try:
        try:
            available = set(portal.adversarial_modes())
        except Exception:
            available = set()
        logged_in_text = _marker_text(run, "logged_in")
        deep_link = (suite.adapter.get("pages") or {}).get("deep_link")
        deep_link = run.vars.expand(deep_link, "adapter.pages.deep_link") if deep_link else None
        cursor = max((int(e["id"]) for e in portal.journal(role="sso")), default=0)
        for mode in SSO_MODES:
            if available and mode not in available:
                continue
            if not (deep_link and logged_in_text):
                suite.negatives_http[mode] = {"needs_browser": True}
                continue
            t = time.monotonic()
            with suite.arming:
                waited += time.monotonic() - t
                portal.arm(mode)
                try:
                    seen = _probe_http(run, deep_link, logged_in_text, mode)
                except ProbeUnsupported:
                    seen = {"needs_browser": True}
                except Exception as exc:  # the system did not answer: that is not a refusal we can vouch for
                    seen = {"logged_in": None, "landing": f"{type(exc).__name__}: {exc}", "via": "http"}
                finally:
                    portal.disarm()
            entries = portal.journal(role="sso", after_id=cursor)
            cursor = max((int(e["id"]) for e in entries), default=cursor)
            seen["journal"] = entries
            suite.negatives_http[mode] = seen
    finally:
        portal.close()
        log.debug("SSO probes over HTTP took %.1fs (%.1fs waiting for the portal's adversarial switch)",
                  time.monotonic() - started, waited)


def _probe_http(run: ServiceRun, deep_link: str, logged_in_text: str, mode: str) -> dict[str, Any]:
    from conformance.sso_probe import attempt_login

    got = attempt_login(deep_link, run.identity["TechID"], run.scenario.get("acr"), timeout=run.suite.page_s)
    # only the landing page counts: a later visit would ride the portal's own (valid) session
    got["client"].close()
    logged_in = logged_in_text in got["text"]
    where = run.suite.evidence.write_text(run.id, "sso", f"refused-{mode}.html", got["html"])
    return {"logged_in": logged_in, "landing": f"HTTP {got['status']} {got['url']}: {got['text'][:160]}",
            "where": where, "via": "http"}


def _probe_browser(run: ServiceRun, mode: str) -> dict[str, Any]:
    suite = run.suite
    ctx = suite.new_context()
    try:
        pages = PageSet(ctx.new_page())
        attempt = FlowOutcome("citizen_login")
        run.executor.run_flow("citizen_login", pages, attempt)
        seen = run._markers(pages, suite.page_s if attempt.ok else 1.0)
        seen["where"] = suite.evidence.screenshot(pages.current, run.id, "sso", f"refused-{mode}")
        seen["via"] = "browser"
        return seen
    finally:
        ctx.close()


ServiceRun.sso_negatives = _sso_negatives
