"""pytest plugin of the conformance suite. Inert unless `--target` is given (it is loaded in every pytest run).

    pytest conformance --target examples/ministry/target.yaml [--run-dir DIR] [--kt-service ID] [--kt-check sso]
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from kiemthu.logs import get_logger
from kiemthu.runtime import VN_TZ

from conformance.rules.core import Checker

STATE = pytest.StashKey["KtState"]()
EVIDENCE = pytest.StashKey[list]()
CHECK_ORDER = ("sso", "submission", "payment", "processing")


class NotApplicable(Exception):
    """The check does not apply to this service (e.g. payment of a free service)."""


class Blocked(Exception):
    """The check could not be evaluated because an earlier step failed (reported under that step's check)."""


class KtState:
    def __init__(self, opts):
        from conformance.summary import Recorder

        self.opts = opts
        self.recorder = Recorder()
        self.suite = None
        self.service_ids: list[str] = []
        self.system_name = ""
        self.service_names: dict[str, str] = {}
        self.controller = None  # with --workers, in the controlling process: conformance.workers.Controller


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kiemthu", "kiemthu conformance suite (Cổng DVCQG)")
    group.addoption("--target", default=None, help="target file of the system under test; without it the suite is off")
    group.addoption("--run-dir", default=None, help="run directory (default reports/out/<run-id>/)")
    group.addoption("--kt-service", action="append", default=[], help="only this service (scenario id); repeatable")
    group.addoption("--kt-check", action="append", default=[], help="only this check (sso, submission, payment, processing)")
    group.addoption("--kt-defects", action="append", default=[], help="seeded defects switched on (recorded in summary.json)")
    group.addoption("--kt-headed", action="store_true", default=False, help="show the browser")
    group.addoption("--kt-pause-at", action="append", default=[],
                    help="pause before this adapter step (FLOW:STEP, e.g. submit:3); repeatable")
    group.addoption("--kt-shard", default=None, metavar="K/N",
                    help="only shard K of N: a stable share of the services (sorted ids, dealt round-robin)")
    group.addoption("--kt-browser-ws", default=None, metavar="URL",
                    help="connect to a Playwright browser server instead of launching Chromium")


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("target", None):
        return
    from conformance.session import Options

    config.addinivalue_line("markers", "kt_check(name): the mandated check a conformance test implements")
    headed = bool(config.getoption("kt_headed")) or bool(getattr(config.option, "headed", False))
    run_dir = config.getoption("run_dir")
    opts = Options(Path(config.getoption("target")), Path(run_dir) if run_dir else None,
                   _split(config.getoption("kt_service")), _split(config.getoption("kt_check")),
                   _split(config.getoption("kt_defects")), headed, _split(config.getoption("kt_pause_at")))
    bad = [c for c in opts.checks if c not in CHECK_ORDER]
    if bad:
        raise pytest.UsageError(f"--kt-check: unknown check(s) {', '.join(bad)}; known: {', '.join(CHECK_ORDER)}")
    state = KtState(opts)
    try:
        from kiemthu.target import TargetError, load_target
        from scenarios import load_scenario

        target = load_target(opts.target)
        scenarios = [load_scenario(p) for p in target.scenario_paths()]
        ids = [s["id"] for s in scenarios]
        state.system_name = target["system"]["name"]
        state.service_names = {s["id"]: f"{s['TenDVC']} ({s['MaDVC']})" for s in scenarios}
    except TargetError as exc:
        raise pytest.UsageError(exc.render()) from None
    unknown = [s for s in opts.services if s not in ids]
    if unknown:
        raise pytest.UsageError(f"--kt-service: unknown service(s) {', '.join(unknown)}; the target lists {', '.join(ids)}")
    if opts.pause_at and target.get("adapter"):
        from conformance.runner import pause_problems

        problems = pause_problems(target, opts.pause_at)
        if problems:
            raise pytest.UsageError("; ".join(problems))
    state.service_ids = [s for s in ids if not opts.services or s in opts.services]
    shard_services(config, state)
    browser_ws = config.getoption("kt_browser_ws", None)
    if browser_ws:
        opts.browser_ws = browser_ws
    config.stash[STATE] = state


def shard_services(config: pytest.Config, state: KtState) -> None:
    """--kt-shard K/N keeps this shard's share of the selected services (and the suite runs only those)."""
    from conformance.sharding import ShardError, parse_shard, select_shard

    try:
        shard = parse_shard(config.getoption("kt_shard", None), "--kt-shard")
        if shard is None:
            return
        state.service_ids = select_shard(shard, state.service_ids, "--kt-shard")
    except ShardError as exc:
        raise pytest.UsageError(str(exc)) from None
    state.opts.services = list(state.service_ids)
    state.opts.shard = shard


def _state(config: pytest.Config) -> KtState | None:
    return config.stash.get(STATE, None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "kt_service_id" not in metafunc.fixturenames:
        return
    state = _state(metafunc.config)
    ids = state.service_ids if state else []
    metafunc.parametrize("kt_service_id", ids, ids=ids, scope="function")


def _check_of(item: pytest.Item) -> str | None:
    return getattr(getattr(item, "module", None), "CHECK", None)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = _state(config)
    if state is None:
        return
    keep, drop = [], []
    for item in items:
        check = _check_of(item)
        if check and state.opts.checks and check not in state.opts.checks:
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)

    def key(item: pytest.Item):
        sid = getattr(item, "callspec", None) and item.callspec.params.get("kt_service_id")
        check = _check_of(item)
        return (state.service_ids.index(sid) if sid in state.service_ids else -1,
                CHECK_ORDER.index(check) if check in CHECK_ORDER else 99)

    items[:] = sorted(keep, key=key)
    _suite_labels(state, items)


def check_title(module) -> str:
    """The Vietnamese name of a check: the first line of its module's docstring ("Kiểm tra 1 — …")."""
    doc = (getattr(module, "__doc__", "") or "").strip()
    return doc.splitlines()[0].rstrip(".") if doc else getattr(module, "CHECK", "?")


def _suite_labels(state: KtState, items: list[pytest.Item]) -> None:
    """Allure's tree by system › check › service instead of module paths."""
    try:
        import allure
    except ImportError:
        return
    for item in items:
        sid = getattr(item, "callspec", None) and item.callspec.params.get("kt_service_id")
        if not sid or not _check_of(item):
            continue
        item.add_marker(allure.parent_suite(state.system_name))
        item.add_marker(allure.suite(check_title(item.module)))
        item.add_marker(allure.sub_suite(state.service_names.get(sid, sid)))


# -- fixtures (requested by the conformance tests only; nothing is auto-used) ---------------------------------
@pytest.fixture(scope="session")
def kt_suite(request: pytest.FixtureRequest):
    state = _state(request.config)
    if state is None:
        pytest.skip("conformance suite off: no --target given")
    from conformance.session import Suite

    suite = Suite(state.opts)
    state.suite = suite
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        suite.uncaptured = capture.global_and_fixture_disabled
    if not opts_worker(request.config):  # with workers the controller writes junit.xml and says it there
        request.getfixturevalue("record_testsuite_property")("run_id", suite.run_id)  # the run id in junit.xml too
    try:
        suite.start()
        yield suite
    finally:
        suite.close()


@pytest.fixture
def kt_run(kt_suite, kt_service_id):
    return kt_suite.service(kt_service_id)


@pytest.fixture
def kt_check(request: pytest.FixtureRequest, kt_suite, kt_run):
    return CheckScope(request, kt_suite, kt_run, _check_of(request.node))


# -- one check of one service ---------------------------------------------------------------------------------
class CheckScope:
    """`with kt_check as c:` — runs the check's rules, then records verdict and evidence and fails the test."""

    def __init__(self, request: pytest.FixtureRequest, suite, run, check: str):
        self.request, self.suite, self.run, self.check = request, suite, run, check
        self.profile = suite.profile
        self.target = suite.target
        self.scenario = run.scenario
        self.checker = Checker(where=f"evidence/{run.id}/{check}/")
        self.journal: list[dict[str, Any]] = []
        self.validation: list[str] = []
        self.t0 = time.monotonic()

    # helpers for the test bodies ---------------------------------------------------------------------------
    def flow(self, outcome, *, clause: str = "Hà Giang testing procedure §3.1 test content (2)") -> bool:
        """A flow that could not be completed is itself a finding, named after the step that failed."""
        if outcome is None or outcome.ok:
            return True
        if outcome.skipped and outcome.error is None:
            return False
        err = outcome.error
        where = err.screenshot if err and err.screenshot else self.checker.where
        self.checker.record_error(f"complete_{outcome.name}", clause, f"Every step of '{outcome.name}' can be completed",
                                  expected=err.description if err else outcome.name,
                                  actual=err.error if err else outcome.problem(), where=where)
        return False

    def blocked_by(self, *flows) -> None:
        for f in flows:
            if f is not None and f.skipped and f.name not in ("pay",):
                raise Blocked(f.skipped)
            if f is not None and not f.ok and f.error is not None and f.name in ("citizen_login", "open_service", "submit"):
                raise Blocked(f"{f.name} could not be completed ({f.error})")

    def window(self, *outcomes) -> list[dict[str, Any]]:
        entries = []
        for o in outcomes:
            if o is not None and o.journal_until:
                entries += self.suite.window(o.journal_after, o.journal_until)
        return entries

    def logins(self, *outcomes) -> list[dict[str, Any]]:
        """The SSO exchanges of this service's citizen in the flows' windows (services beside it log in too)."""
        from conformance.journal import logins_of

        sent = [tuple(k) for o in outcomes if o is not None for k in o.observations.get("authorize_sent", [])]
        return logins_of(self.window(*outcomes), str(self.run.identity.get("TechID") or ""), sent)

    def validate_messages(self, entries: list[dict[str, Any]]) -> list[str]:
        from conformance.journal import request_of
        from schemas import load_schema, validator

        profile = self.profile.get("name")
        out = []
        for e in entries:
            service = e.get("service")
            if not service:
                continue
            try:
                load_schema(service, profile)
            except FileNotFoundError:
                continue
            for err in validator(service, profile).iter_errors(request_of(e)):
                where = "/".join(str(p) for p in err.absolute_path) or "(root)"
                out.append(f"journal #{e.get('id')} {service} {where}: {err.message[:200]}")
        self.validation += out
        return out

    # context manager -----------------------------------------------------------------------------------------
    def __enter__(self) -> Checker:
        get_logger("conformance").debug("check %s/%s begins", self.run.id, self.check)
        self.suite.progress.check_started(self.run.id, self.check)
        self._title()
        return self.checker

    def tell_rules(self) -> None:
        """Every rule row as an Allure step under "Các quy tắc", titled in Vietnamese when the data has a title."""
        listener = self.request.config.pluginmanager.getplugin("allure_listener")
        test = listener.allure_logger.get_test(None) if listener is not None else None
        if test is None or not self.checker.results:
            return
        from allure_commons.model2 import Status, StatusDetails, TestStepResult

        from conformance.rules.variants import title_vi

        status = {"passed": Status.PASSED, "failed": Status.FAILED, "warning": Status.BROKEN, "error": Status.BROKEN}
        now = int(time.time() * 1000)
        rows = []
        for r in self.checker.results:
            name = title_vi(r.rule_id, r.variant) or r.title
            detail = r.note if r.verdict in ("not_applicable", "not_evaluated") else \
                (r.sentence() if r.verdict in ("failed", "warning") else None)
            rows.append(TestStepResult(name=f"{name} ({r.name})", start=now, stop=now,
                                       status=status.get(r.verdict, Status.SKIPPED),
                                       statusDetails=StatusDetails(message=detail) if detail else None))
        worst = Status.FAILED if any(s.status == Status.FAILED for s in rows) else Status.PASSED
        test.steps.append(TestStepResult(name=f"Các quy tắc ({len(rows)})", start=now, stop=now, status=worst,
                                         steps=rows))

    def tell_earlier_flows(self) -> None:
        """The steps of this check's flows that ran while an earlier check needed them (the SSO check's logout
        comes after the payment), as Allure steps of this check with their real start and duration."""
        flows = self.run.told_elsewhere.pop(self.check, [])
        listener = self.request.config.pluginmanager.getplugin("allure_listener")
        if not flows or listener is None:
            return
        from allure_commons.model2 import Status, TestStepResult

        from conformance.service import FLOW_TITLES

        test = listener.allure_logger.get_test(None)
        if test is None:
            return
        for flow in flows:
            for s in getattr(self.run.flows.get(flow), "steps", None) or []:
                if "at" not in s:
                    continue
                start = int(s["at"] * 1000)
                test.steps.append(TestStepResult(name=f"{FLOW_TITLES.get(flow, flow)}: {s['what']}", start=start,
                                                 stop=start + int(s["s"] * 1000),
                                                 status=Status.PASSED if s.get("ok") else Status.FAILED))
                test.start = min(test.start or start, start)  # the check's work began with its first flow

    def _title(self) -> None:
        try:
            import allure

            fn = self.request.function
            doc = (fn.__doc__ or "").strip()
            # the Vietnamese check name and the service: one title per service × check
            allure.dynamic.title(f"{check_title(self.request.module)} — {self.scenario['TenDVC']} ({self.run.id})")
            allure.dynamic.description((getattr(self.request.module, "__doc__", "") or "") + "\n\n" + doc)
            allure.dynamic.label("service", self.run.id)
            allure.dynamic.label("run_id", self.suite.run_id)
            allure.dynamic.tag(self.check)
            allure.dynamic.parameter("MaDVC", self.scenario["MaDVC"])
            allure.dynamic.parameter("Bắt đầu (giờ Việt Nam)", datetime.now(VN_TZ).strftime("%d/%m/%Y %H:%M:%S"),
                                     excluded=True)
        except Exception:
            pass

    def __exit__(self, exc_type, exc, tb) -> bool:
        recorder = self.request.config.stash[STATE].recorder
        run, check, c = self.run, self.check, self.checker
        duration = time.monotonic() - self.t0
        recorder.add_code(run.id, run.dossier_code)
        for code in run.extra_codes:
            note = run.extra_notes.get(code) or (
                f"Hồ sơ {code} chỉ dùng cho một tình huống kiểm tra phủ định "
                f"(dossier created only for a negative case).")
            if note not in recorder.notes.get(run.id, []):
                recorder.note(run.id, note)
        owned = getattr(self.request.module, "RULES", None)
        try:
            self.tell_earlier_flows()
        except Exception as exc:  # the Allure view must never change a verdict
            get_logger("conformance").debug("allure steps of %s/%s not added: %s", run.id, check, exc)
        if exc_type is not None and not issubclass(exc_type, (NotApplicable, Blocked)):
            if owned:
                c.account_for(owned, f"not evaluated: the check stopped on an error ({exc_type.__name__})")
            self._write_evidence()
            # one line for the summary and the console (a Playwright error carries its call log); the traceback
            # is in logs/pytest.log
            reason = f"{exc_type.__name__}: {(str(exc).strip().splitlines() or [''])[0][:300]}"
            recorder.record(run.id, check, "error", reason, self._rows(), self._evidence(), duration)
            self.suite.progress.check_ended(run.id, check, "error", duration, reason)
            return False
        if owned:
            c.account_for(owned, *self._missing_reason(exc_type, exc))
        self._write_evidence()
        evidence = self._evidence()
        self.request.node.stash[EVIDENCE] = [self.suite.run_dir / p for p in evidence]
        if exc_type is NotApplicable:
            recorder.record(run.id, check, "not_applicable", str(exc), self._rows(), evidence, duration)
            self.suite.progress.check_ended(run.id, check, "not_applicable", duration, str(exc))
            pytest.skip(f"not applicable: {exc}")
        verdict = c.verdict()
        reason = f"not evaluated: {exc}" if exc_type is Blocked and verdict == "inconclusive" else c.reason()
        try:
            self.tell_rules()
        except Exception as exc_:  # the Allure view must never change a verdict
            get_logger("conformance").debug("allure rule steps of %s/%s not added: %s", run.id, check, exc_)
        recorder.record(run.id, check, verdict, reason, self._rows(), evidence, duration,
                        unverified=[_unverified(r) for r in c.unverified])
        self.suite.progress.check_ended(run.id, check, verdict, duration, reason)
        if verdict == "failed":
            lines = [f"{check} failed for {self.scenario['TenDVC']} ({self.scenario['MaDVC']}):"]
            lines += [f"  ✗ {r.sentence()}" for r in sorted(c.failures, key=lambda r: r.rule_id.startswith("complete_"))]
            pytest.fail("\n".join(lines), pytrace=False)
        if verdict == "inconclusive":
            pytest.skip(f"inconclusive (không kết luận được): {reason}")
        return False

    def _missing_reason(self, exc_type, exc) -> tuple[str, str]:
        """Why a rule the check owns left no row, and the verdict it gets."""
        if exc_type is NotApplicable:
            return f"the check does not apply: {exc}", "not_applicable"
        if exc_type is Blocked:
            return f"not evaluated: {exc}", "not_evaluated"
        first = next((r for r in self.checker.results if r.verdict == "failed"), None)
        if first is not None:
            return f"not evaluated: {first.name} failed first, and this rule reads what it would have given", "not_evaluated"
        return "not evaluated: the check's flow did not reach this rule", "not_evaluated"

    def _rows(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.checker.results]

    def exchange(self, name: str, *entries: dict[str, Any] | None) -> str | None:
        """The journal exchange behind a verdict (request and reply, masked) as an evidence file; its path."""
        kept = [e for e in entries if e]
        if not kept:
            return None
        self.journal += kept
        return self.suite.evidence.write_json(self.run.id, self.check, f"exchange-{name}.json", {
            "run_id": self.suite.run_id, "service": self.run.id, "check": self.check, "case": name,
            "exchanges": [{k: e.get(k) for k in ("id", "ts", "role", "direction", "method", "path", "service",
                                                   "status_code", "error", "request", "response") if k in e}
                          for e in kept]})

    def _write_evidence(self) -> None:
        ev = self.suite.evidence
        self.run.flush_traces(self.check)
        head = {"run_id": self.suite.run_id, "service": self.run.id, "check": self.check}
        ev.write_json(self.run.id, self.check, "rules.json", {**head, "rules": [r.as_dict() for r in self.checker.results]})
        if self.journal:
            seen, entries = set(), []
            for e in sorted(self.journal, key=lambda x: x.get("id") or 0):
                if e.get("id") not in seen:
                    seen.add(e.get("id"))
                    entries.append(e)
            ev.write_json(self.run.id, self.check, "journal.json", {**head, "entries": entries})
        if self.validation or self.journal:
            ev.write_text(self.run.id, self.check, "validation.txt",
                          "\n".join(self.validation) if self.validation else "no schema violations\n")

    def _evidence(self) -> list[str]:
        return self.suite.evidence.list(self.run.id, self.check)


def _unverified(r) -> dict[str, Any]:
    out = {"rule_id": r.rule_id, "reason": r.note or ""}
    if r.variant:
        out["variant"] = r.variant
    return out


# -- attach evidence to allure after the test body (pytest-playwright artefacts otherwise miss the report) -----
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call):
    outcome = yield
    state = _state(item.config)
    if state is None:
        return
    report = outcome.get_result()
    if report.when == "setup" and report.failed:
        sid = getattr(item, "callspec", None) and item.callspec.params.get("kt_service_id")
        if sid and _check_of(item):
            state.recorder.record(sid, _check_of(item), "error", f"setup failed: {str(call.excinfo.value)[:300]}")
    if report.when != "call":
        return
    files = item.stash.get(EVIDENCE, [])
    if not files:
        return
    try:
        import allure
    except ImportError:
        return
    kinds = {".png": allure.attachment_type.PNG, ".json": allure.attachment_type.JSON,
             ".txt": allure.attachment_type.TEXT, ".html": allure.attachment_type.HTML, ".zip": None}
    for path in files:
        path = Path(path)
        if not path.is_file():
            continue
        kind = kinds.get(path.suffix)
        try:
            if path.suffix == ".zip":
                allure.attach.file(str(path), name=path.name, extension="zip")
            else:
                allure.attach.file(str(path), name=path.name, attachment_type=kind)
        except Exception:
            pass


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus) -> None:
    state = _state(session.config)
    if state is not None and opts_worker(session.config):
        session.config.workeroutput["kt_recorder"] = state.recorder.dump()  # the controller writes the summary
        return
    if state is None or state.suite is None:
        return
    from conformance.summary import build_summary, write_summary

    if state.controller is not None:  # every worker is down: the journal is whole
        state.controller.finish(state.suite)
    write_summary(state.suite.run_dir / "summary.json", build_summary(state.suite, state.recorder))
    results = getattr(session.config.option, "allure_report_dir", None)
    if results:
        write_allure_context(Path(results), state.suite)


def write_allure_context(results: Path, suite) -> None:
    """environment.properties and executor.json: what Allure shows in its Environment and Executors panels."""
    import json

    from kiemthu import __version__

    target = suite.target
    env = {"He_thong": target["system"]["name"], "Dia_chi_he_thong": target["system"]["base_url"],
           "Cong_DVCQG": target["portal"]["base_url"], "Che_do_cong": target["portal"].get("mode", ""),
           "Ho_so_giao_dien": suite.profile.get("name", ""), "Ma_lan_chay": suite.run_id,
           "Bat_dau_gio_Viet_Nam": suite.started_at.strftime("%d/%m/%Y %H:%M:%S"),
           "Loi_gia_lap": ",".join(suite.opts.defects) or "khong", "kiemthu": __version__}
    results.mkdir(parents=True, exist_ok=True)
    lines = [f"{k}={str(v).replace(chr(10), ' ')}" for k, v in env.items()]
    (results / "environment.properties").write_text("\n".join(lines) + "\n", encoding="utf-8")
    executor = {"name": "kiemthu", "type": "kiemthu", "buildName": f"Lần chạy {suite.run_id}",
                "buildOrder": int(suite.started_at.strftime("%Y%m%d%H%M%S")),
                "reportName": f"Kiểm thử kết nối Cổng DVCQG — {target['system']['name']}"}
    (results / "executor.json").write_text(json.dumps(executor, ensure_ascii=False), encoding="utf-8")


# -- services side by side (pytest-xdist; conformance/workers.py) -------------------------------------------------
def opts_worker(config: pytest.Config) -> bool:
    """True in a worker process of a run with --workers."""
    return hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist starts the workers (its own sessionstart is trylast)
def pytest_sessionstart(session: pytest.Session) -> None:
    state = _state(session.config)
    if state is not None:
        _configure_workers(session.config, state)


def _configure_workers(config: pytest.Config, state: KtState) -> None:
    """A worker takes the run's id and shared folder from its controller; the controller (pytest -n N) groups
    each service's checks on one worker and gathers their verdicts."""
    if opts_worker(config):
        given = config.workerinput
        state.opts.run_id, state.opts.shared, state.opts.worker = given["kt_run_id"], Path(given["kt_shared"]), True
        state.opts.run_dir = Path(given["kt_run_dir"])
        return
    if getattr(config.option, "numprocesses", None) and getattr(config.option, "dist", "no") != "no":
        from conformance.workers import Controller

        state.controller = Controller(config, state)
        config.pluginmanager.register(state.controller, "kiemthu-workers")
