"""One service under test: its flows (each run once, in order, the journey in conformance/journey/), what was
observed, its dossier code; the bookkeeping (traces, timeline, journal waits) lives in conformance/bookkeeping/."""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from kiemthu.runtime import VN_TZ

from conformance.adapter import Executor, FlowOutcome, PageSet, Variables, pause_step
from conformance.bookkeeping import traces, waits
from conformance.evidence import CHECK_OF_FLOW
from conformance.journey import payment, processing, sso, sso_negatives, submission
from conformance.suite import Suite

FLOW_ORDER = ("citizen_login", "open_service", "submit", "pay", "logout", "officer_login", "officer_process")
NEEDS = {"open_service": ["citizen_login"], "submit": ["open_service"], "pay": ["submit"], "logout": ["citizen_login"],
         "officer_login": [], "officer_process": ["submit", "officer_login"], "citizen_login": []}
# how the reports and the live progress name a flow
FLOW_TITLES = {"citizen_login": "Công dân đăng nhập qua Cổng DVCQG", "open_service": "Mở dịch vụ công",
               "submit": "Nộp hồ sơ", "pay": "Thanh toán lệ phí", "logout": "Đăng xuất",
               "officer_login": "Cán bộ đăng nhập", "officer_process": "Cán bộ xử lý hồ sơ"}
# flows whose journal window is the portal's SSO exchanges
SSO_FLOWS = ("citizen_login", "open_service", "logout")
# flows the suite shapes itself; the others are run as the adapter declares them
JOURNEY = {"citizen_login": sso.citizen_login, "open_service": sso.open_service, "pay": payment.pay,
           "logout": sso.logout}


class Hooks:
    """What the executor asks of the run: evidence, portal state, and the outage injected mid-processing."""

    def __init__(self, run: ServiceRun):
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

    def pause(self, page, flow: str, index: str, what: str) -> None:
        """`--pause-at`: in a shown browser, Playwright's inspector (Resume goes on); else the terminal's Enter."""
        pause_before(self.run.suite, page, f"{flow}:{index}", what)

    @contextlib.contextmanager
    def step_scope(self, flow: str, what: str) -> Iterator[None]:
        """One flow step: announced on the progress channel, and an Allure step lasting as long as the step."""
        title = f"{FLOW_TITLES.get(flow, flow)}: {what}"
        check = CHECK_OF_FLOW.get(flow)
        self.run.suite.progress.step(self.run.id, title, check)
        if threading.current_thread() is not threading.main_thread() or \
                check != self.run.suite.progress.current.get(self.run.id):
            # Allure's lifecycle follows the test of the main thread; a flow run while another check needed it is
            # told in its own check's test (CheckScope replays its steps there)
            yield
            return
        import allure

        with allure.step(title):
            yield


class ServiceRun:
    """One service under test: its flows (each run once, in order), what was observed, its dossier code."""

    def __init__(self, suite: Suite, entry: dict, scenario: dict):
        from scenarios import sample_file

        self.suite, self.entry, self.scenario = suite, entry, scenario
        self.id = scenario["id"]
        self.checks = suite.selected_checks(entry)
        self.flows: dict[str, FlowOutcome] = {}
        self.told_elsewhere: dict[str, list[str]] = {}  # check → its flows run while another check was current
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
        self.executor.pause_at = {pause_step(suite.adapter, name) for name in suite.opts.pause_at}
        self.last_flow: dict[str, FlowOutcome] = {}  # citizen/officer → the flow last begun in that person's tab

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
        # services side by side log in as different citizens (their own sessions and dossiers at the system);
        # the choice follows the service's place in the target, so it is the same serially and with workers
        pool = able or citizens
        return pool[self.suite.service_index(self.id) % len(pool)]

    @property
    def login_lock(self):
        """Held through an SSO round trip of this service's citizen (the portal journals it under the citizen's
        TechID; a negative case is armed for that citizen only)."""
        return self.suite.run_shared.lock(f"login-{self.identity.get('TechID')}")

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
            if CHECK_OF_FLOW[flow] != self.suite.progress.current.get(self.id):
                self.told_elsewhere.setdefault(CHECK_OF_FLOW[flow], []).append(flow)
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
            return processing.manual_processing(self)
        if not self.executor.has_flow(flow) and flow not in ("open_service",):
            return FlowOutcome(flow, skipped=f"the adapter declares no '{flow}' flow")
        pages = self._pages_for(flow)
        out = FlowOutcome(flow)
        # the portal tells round trips apart by citizen: services logging in as one test citizen take turns
        with self.login_lock if flow in SSO_FLOWS else contextlib.nullcontext(), \
                sso.authorize_sent(self, pages, out) if flow in SSO_FLOWS else contextlib.nullcontext():
            out.journal_after = self.suite.sync_journal()
            traces.trace_segment(self, flow)
            try:
                self.begin(flow, pages, out)
                if out.error is not None:
                    return out
                if flow in JOURNEY:
                    JOURNEY[flow](self, pages, out)
                else:
                    submission.run_declared_flow(self, flow, pages, out)
            finally:
                out.journal_until = self.suite.sync_journal()
        if flow == "open_service" and out.ok and "sso" in self.checks and "sso_negatives" not in self.suite.shared \
                and self.suite.run_shared.claim("sso_negatives", self.id) == self.id:
            # the login's journal window is closed: the negative logins can run alongside the next flows
            sso_negatives.start_sso_negatives(self)
        return out

    def begin(self, flow: str, pages: PageSet, out: FlowOutcome) -> None:
        """Load the page `flow` begins from (conformance/README.md, "Where each flow begins"); a start page that
        does not load is the flow's failure, told once."""
        from conformance.adapter import StepFailed

        person = "officer" if flow.startswith("officer") else "citizen"
        before = self.last_flow.get(person)
        after_failure = before is not None and before.error is not None
        self.last_flow[person] = out
        try:
            url = self.executor.begin(flow, pages, after_failure=after_failure)
        except Exception as exc:
            out.error = StepFailed(flow, "start", "open the flow's start page", str(exc).split("\n")[0][:300])
            return
        if url:
            out.observations["start"] = url

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

    # -- what the checks and the executor's hooks call ------------------------------------------------------
    def sso_negatives(self) -> dict[str, dict[str, Any]]:
        return sso_negatives.sso_negatives(self)

    def paid_shown(self) -> bool | None:
        return payment.paid_shown(self)

    def portal_paid(self) -> bool:
        return payment.portal_paid(self)

    def replay_ipn(self, record: dict[str, Any]) -> dict[str, Any] | None:
        return payment.replay_ipn(self, record)

    def before_status_action(self, status: str) -> None:
        processing.before_status_action(self, status)

    def dossier_entries(self) -> list[dict[str, Any]]:
        return waits.dossier_entries(self)

    def wait_for_statuses(self, expected: list[str], timeout: float) -> list[dict[str, Any]]:
        return waits.wait_for_statuses(self, expected, timeout)

    # -- bookkeeping ----------------------------------------------------------------------------------------
    def timeline(self) -> list[dict[str, Any]]:
        return traces.timeline(self)

    def flush_traces(self, check: str) -> None:
        traces.flush_traces(self, check)

    def close(self) -> None:
        traces.close(self)


def pause_before(suite: Suite, page, step: str, what: str, terminal: str = "/dev/tty") -> None:
    """Hold the run before `step` until the person says to go on; without a terminal, say so and go on (pytest
    holds the process's own stdin, so the person's answer is read from the controlling terminal)."""
    from kiemthu.scrub import scrub_text

    title = f"Tạm dừng trước bước {step} ({what}) / paused before step {step}, on {scrub_text(page.url)}"
    with suite.uncaptured():
        if suite.opts.headed:
            print(f"{title}: bấm Resume trong Playwright Inspector để tiếp tục / press Resume in the inspector",
                  flush=True)
            page.pause()
            return
        try:
            tty = open(terminal, "r", encoding="utf-8")
        except OSError:
            print(f"{title}: không có terminal để chờ, chạy tiếp / no terminal to wait on, going on", flush=True)
            return
        with tty:
            print(f"{title}: nhấn Enter để tiếp tục / press Enter to go on", flush=True)
            tty.readline()


class _Lazy:
    """A page URL template expanded when used (it may refer to values captured later)."""

    def __init__(self, variables: Variables, template: str):
        self.vars, self.template = variables, template

    def __call__(self) -> str:
        return self.vars.expand(self.template, "adapter.pages")

    def __str__(self) -> str:
        return self()
