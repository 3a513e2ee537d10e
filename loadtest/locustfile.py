"""Locust entry point of `kiemthu load`: citizen, officer and portal-traffic users built from the target file.

Run through `kiemthu load` (which sets KIEMTHU_LOAD_TARGET and friends); each user class only exists for a
journey with a weight above zero, so Locust never sees a class it should not run.
"""

from __future__ import annotations

import json
import os
import time

from locust import FastHttpUser, between, constant, events, task
from locust.exception import StopUser

from loadtest import journeys
from loadtest.context import ENV_RUN_TIME, load_context
from loadtest.portal_traffic import PortalClient
from loadtest.recorder import Recorder

CTX = load_context()
SETTINGS = CTX.settings
RECORDER = Recorder(CTX.load_dir / "records.jsonl" if CTX.load_dir else None)
# set by the runner for a master or a local run: the run ends through _drain_then_quit, not Locust's --run-time
RUN_TIME_S = float(os.environ.get(ENV_RUN_TIME) or 0)
DRAIN_MESSAGE = "kiemthu_drain"
_draining = False          # no new journeys once set; journeys under way finish
_busy = 0                  # users of this process in the middle of a journey
_reports: dict[str, dict] = {}
_cpu_start: tuple[float, float] | None = None   # (CPU seconds, wall time) of this process at test start


def _cpu_used() -> dict[str, float]:
    """CPU seconds this process spent generating load, and the wall time: is the generator saturated?"""
    import resource

    if _cpu_start is None:
        return {}
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"cpu_s": round(ru.ru_utime + ru.ru_stime - _cpu_start[0], 3), "wall_s": round(time.time() - _cpu_start[1], 3)}


def _wait(journey: str):
    lo, hi = SETTINGS.think[journey]
    return constant(lo) if lo == hi else between(lo, hi)


def _journey(run) -> None:
    global _busy
    if _draining:
        raise StopUser()
    _busy += 1
    try:
        run()
    finally:
        _busy -= 1


@events.init.add_listener
def _on_init(environment, **_kw):
    import gevent
    from locust.runners import MasterRunner, WorkerRunner

    # the event loop's clock is stale after the (blocking) import of this file: without a refresh, timers
    # started next (the run time) fire early by as long as the import took
    gevent.get_hub().loop.update_now()
    RECORDER.attach(environment)
    runner = environment.runner
    if isinstance(runner, MasterRunner):
        environment.events.worker_report.add_listener(_on_worker_report)
    elif isinstance(runner, WorkerRunner):
        runner.register_message(DRAIN_MESSAGE, _on_drain)
        environment.events.report_to_master.add_listener(_on_report_to_master)


def _on_drain(environment, msg, **_kw) -> None:
    global _draining
    _draining = True


def _on_report_to_master(client_id, data, **_kw) -> None:
    data["kiemthu_state"] = {"draining": _draining, "busy": _busy, **_cpu_used()}


def _on_worker_report(client_id, data, **_kw) -> None:
    if "kiemthu_state" in data:
        _reports[client_id] = {**data["kiemthu_state"], "t": time.time()}


@events.test_start.add_listener
def _on_test_start(environment, **_kw):
    import resource

    import gevent
    from locust.runners import WorkerRunner

    global _cpu_start
    ru = resource.getrusage(resource.RUSAGE_SELF)
    _cpu_start = (ru.ru_utime + ru.ru_stime, time.time())
    # the runner schedules its fault drill from this moment (the load has started)
    if CTX.load_dir and not isinstance(environment.runner, WorkerRunner):
        CTX.load_dir.mkdir(parents=True, exist_ok=True)
        (CTX.load_dir / "started.json").write_text(json.dumps({"t": time.time(), "pid": os.getpid()}))
    if RUN_TIME_S and not isinstance(environment.runner, WorkerRunner):
        gevent.get_hub().loop.update_now()
        gevent.spawn_later(RUN_TIME_S, _drain_then_quit, environment)


def _drain_then_quit(environment) -> None:
    """End of the run: no new journeys, those under way finish (within --stop-timeout) and, in a distributed
    run, every worker reports its last records; then quit. Locust's own --run-time stops users mid-journey,
    so the system may do something (an officer action, a submission) the records never show."""
    global _draining
    from locust.runners import WORKER_REPORT_INTERVAL, MasterRunner

    from kiemthu.runtime import DeadlineExceeded, wait_until

    runner = environment.runner
    asked = time.time()
    if isinstance(runner, MasterRunner):
        runner.send_message(DRAIN_MESSAGE)

        def idle() -> bool:
            return all((r := _reports.get(c.id)) and r["t"] > asked and r["draining"] and r["busy"] == 0
                       for c in runner.clients.all)

        bound = environment.stop_timeout + 2 * WORKER_REPORT_INTERVAL + 1
    else:
        _draining = True

        def idle() -> bool:
            return _busy == 0

        bound = environment.stop_timeout
    try:
        wait_until(idle, bound, interval=0.1, what="journeys under way finished")
    except DeadlineExceeded:
        pass  # journeys still running after --stop-timeout are cut short, as Locust would
    runner.quit()
    if environment.web_ui is not None:
        environment.web_ui.stop()  # --ui: the process ends with the run (its HTML report stays)


@events.quitting.add_listener
def _on_quitting(environment, **_kw):
    """Final statistics: Locust's periodic CSV writer can miss the last second and the stopping phase,
    while at this point every request (and every worker's last report) has been counted."""
    import csv

    from locust.runners import MasterRunner, WorkerRunner
    from locust.stats import PERCENTILES_TO_REPORT, StatsCSV

    RECORDER.close()
    if CTX.load_dir is None or isinstance(environment.runner, WorkerRunner):
        return
    writer = StatsCSV(environment, PERCENTILES_TO_REPORT)
    with open(CTX.load_dir / "final_stats.csv", "w", newline="", encoding="utf-8") as fh:
        writer.requests_csv(csv.writer(fh))
    with open(CTX.load_dir / "final_failures.csv", "w", newline="", encoding="utf-8") as fh:
        writer.failures_csv(csv.writer(fh))
    nodes = {"master" if isinstance(environment.runner, MasterRunner) else "local": _cpu_used()}
    for i, (client_id, rep) in enumerate(sorted(_reports.items())):
        nodes[f"worker-{i}"] = {k: rep[k] for k in ("cpu_s", "wall_s") if k in rep}
    (CTX.load_dir / "generator.json").write_text(json.dumps(nodes))


class CitizenUser(FastHttpUser):
    """SSO from the portal, open a service, submit a dossier with files, pay the fee online."""

    abstract = SETTINGS.weights["citizen"] <= 0
    weight = max(1, SETTINGS.weights["citizen"])
    host = SETTINGS.system_url
    wait_time = _wait("citizen")
    network_timeout = connection_timeout = 30.0

    @task
    def citizen(self) -> None:
        _journey(lambda: journeys.citizen_journey(self, CTX, RECORDER))


class OfficerUser(FastHttpUser):
    """Back office: log in, list dossiers, apply the next action to one."""

    abstract = SETTINGS.weights["officer"] <= 0
    weight = max(1, SETTINGS.weights["officer"])
    host = SETTINGS.system_url
    wait_time = _wait("officer")
    network_timeout = connection_timeout = 30.0

    @task
    def officer(self) -> None:
        _journey(lambda: journeys.officer_journey(self, CTX, RECORDER))


class PortalTrafficUser(FastHttpUser):
    """Adapter calls straight at the portal: dossier sync and look-ups."""

    abstract = SETTINGS.weights["portal"] <= 0
    weight = max(1, SETTINGS.weights["portal"])
    host = SETTINGS.portal_url
    wait_time = _wait("portal")
    network_timeout = connection_timeout = 30.0

    def on_start(self) -> None:
        self.portal = PortalClient(self.client, CTX)
        self.services = SETTINGS.portal_services

    @task
    def traffic(self) -> None:
        _journey(lambda: [self.portal.one(service) for service in self.services])
