"""One run of the suite: the target, the portal (mock started here when asked), one browser, the journal cache,
and the services under test (conformance/service.py), each run once."""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from kiemthu.logs import get_logger, redact
from kiemthu.runtime import VN_TZ, ManagedProcess, ensure_port_free, new_run_id, remove_temp, temp_dir, wait_until

from conformance.adapter import load_adapter
from conformance.bookkeeping.shared import RunShared
from conformance.evidence import Evidence
from conformance.portal import PortalClient, mock_process
from conformance.progress import ProgressLog
from conformance.runner import MOCK_PROVIDED

if TYPE_CHECKING:
    from conformance.service import ServiceRun

log = get_logger("conformance")

CHECKS = ("sso", "submission", "payment", "processing")
RUN_ID = re.compile(r"^[0-9]{8}-[0-9]{6}-[0-9a-f]{4}$")


class Options:
    def __init__(self, target: Path, run_dir: Path | None, services: list[str], checks: list[str],
                 defects: list[str], headed: bool, pause_at: list[str] | tuple[str, ...] = (),
                 run_id: str | None = None, shared: Path | None = None, worker: bool = False):
        self.target, self.run_dir, self.services, self.checks = Path(target), run_dir, services, checks
        self.defects, self.headed, self.pause_at = defects, headed, list(pause_at)
        # with --workers: the run's id and shared folder, given by the controller; a worker leaves the run-wide
        # outputs (journal export, summary) to it
        self.run_id, self.shared, self.worker = run_id, shared, worker


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
        self.run_id = opts.run_id or (self.run_dir.name if RUN_ID.match(self.run_dir.name) else new_run_id())
        self.evidence = Evidence(self.run_dir)
        self.progress = ProgressLog(self.run_dir)
        self.started_at = datetime.now(VN_TZ)
        deadlines = self.target.get("deadlines") or {}
        self.sync_s = float(deadlines.get("sync_s", 15))
        self.page_s = float(deadlines.get("page_s", 15))
        self.services: list[tuple[dict, dict]] = []
        self.all_scenarios: list[dict] = []
        for entry, path in zip(self.target["services"], self.target.scenario_paths()):
            scenario = load_scenario(path)
            self.all_scenarios.append(scenario)
            if opts.services and scenario["id"] not in opts.services:
                continue
            self.services.append((entry, scenario))
        self.portal = PortalClient(self.target["portal"]["base_url"])
        self.mock: ManagedProcess | None = None
        self._pw = None
        self._browser = None
        self.runs: dict[str, Any] = {}  # service id → ServiceRun
        self.shared: dict[str, Any] = {}  # results of run-wide cases (SSO negatives, outage), computed once
        self.journal_cursor = 0
        self.journal_cache: list[dict[str, Any]] = []
        # set by the pytest plugin so a prompt to a person is not swallowed by output capture
        self.uncaptured = contextlib.nullcontext
        # what the worker processes of the run share: claims of once-per-run cases, and a login lock per citizen
        # (the folder is the run's own, given by the controller)
        self._own_shared = None if opts.shared else temp_dir("shared")
        self.run_shared = RunShared(opts.shared or self._own_shared)
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
            host = self.target.portal_bind_host()
            ensure_port_free(urlparse(portal["base_url"]).port or 80, host, "mock portal (portal.base_url)")
            self.mock = mock_process(self.target.path, portal["base_url"], self.run_dir, host=host).spawn()
            self.browser()  # launched while the mock boots
            self.mock.wait_ready(30)
        elif not self.portal.health():
            raise RuntimeError(f"portal at {portal['base_url']} does not answer /_mock/health")
        self.sync_journal()

    def browser(self):
        if self._browser is None:
            from playwright.sync_api import sync_playwright

            self._pw = sync_playwright().start()
            # traces are staged in a folder of this run (Playwright's default is a `playwright-tracing-*`
            # folder per trace in the temp directory, never removed)
            self._traces_tmp = temp_dir("traces")
            from conformance.browser import BrowserServerError, open_browser

            # a Playwright browser server when one is given (--browser-ws), else Chromium launched here
            try:
                self._browser = open_browser(self._pw, self.target, headless=not self.opts.headed,
                                             traces_dir=str(self._traces_tmp),
                                             option=getattr(self.opts, "browser_ws", None))
            except BrowserServerError as exc:  # no check can run: one line saying why, not a traceback per test
                import pytest

                pytest.exit(str(exc), returncode=2)
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
            if not self.opts.worker:  # with workers the controller exports it once, when every worker is done
                self.export_journal()
        except Exception as exc:  # the journal is evidence, but its loss must not hide the verdicts
            log.warning("journal export failed: %s", exc)
        if self._browser is not None:
            self._browser.close()
            self._pw.stop()
            remove_temp(self._traces_tmp)
        self.portal.close()
        self.progress.close()
        if self.mock:
            self.mock.stop()
        if self._own_shared is not None:
            remove_temp(self._own_shared)

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
    def service(self, service_id: str) -> ServiceRun:
        from conformance.service import ServiceRun

        if service_id not in self.runs:
            entry, scenario = next((e, s) for e, s in self.services if s["id"] == service_id)
            self.runs[service_id] = ServiceRun(self, entry, scenario)
        return self.runs[service_id]

    def service_index(self, service_id: str) -> int:
        """The service's place among the target's services (the same in every worker process)."""
        ids = [s.get("id") for s in self.all_scenarios]
        return ids.index(service_id) if service_id in ids else 0

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
