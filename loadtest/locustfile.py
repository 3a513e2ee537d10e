"""Locust entry point of `kiemthu load`: citizen, officer and portal-traffic users built from the target file.

Run through `kiemthu load` (which sets KIEMTHU_LOAD_TARGET and friends); each user class only exists for a
journey with a weight above zero, so Locust never sees a class it should not run.
"""

from __future__ import annotations

import json
import os
import time

from locust import FastHttpUser, between, constant, events, task

from loadtest import journeys
from loadtest.context import load_context
from loadtest.portal_traffic import PortalClient
from loadtest.recorder import Recorder

CTX = load_context()
SETTINGS = CTX.settings
RECORDER = Recorder(CTX.load_dir / "records.jsonl" if CTX.load_dir else None)


def _wait(journey: str):
    lo, hi = SETTINGS.think[journey]
    return constant(lo) if lo == hi else between(lo, hi)


@events.init.add_listener
def _on_init(environment, **_kw):
    RECORDER.attach(environment)


@events.test_start.add_listener
def _on_test_start(environment, **_kw):
    from locust.runners import WorkerRunner

    # the runner schedules its fault drill from this moment (the load has started)
    if CTX.load_dir and not isinstance(environment.runner, WorkerRunner):
        CTX.load_dir.mkdir(parents=True, exist_ok=True)
        (CTX.load_dir / "started.json").write_text(json.dumps({"t": time.time(), "pid": os.getpid()}))


@events.quitting.add_listener
def _on_quitting(environment, **_kw):
    RECORDER.close()


class CitizenUser(FastHttpUser):
    """SSO from the portal, open a service, submit a dossier with files, pay the fee online."""

    abstract = SETTINGS.weights["citizen"] <= 0
    weight = max(1, SETTINGS.weights["citizen"])
    host = SETTINGS.system_url
    wait_time = _wait("citizen")
    network_timeout = connection_timeout = 30.0

    @task
    def citizen(self) -> None:
        journeys.citizen_journey(self, CTX, RECORDER)


class OfficerUser(FastHttpUser):
    """Back office: log in, list dossiers, apply the next action to one."""

    abstract = SETTINGS.weights["officer"] <= 0
    weight = max(1, SETTINGS.weights["officer"])
    host = SETTINGS.system_url
    wait_time = _wait("officer")
    network_timeout = connection_timeout = 30.0

    @task
    def officer(self) -> None:
        journeys.officer_journey(self, CTX, RECORDER)


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
        for service in self.services:
            self.portal.one(service)
