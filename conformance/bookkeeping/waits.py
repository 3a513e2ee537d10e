"""Waiting on the portal journal for what a check reads: the dossier's entries once its statuses arrived."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from kiemthu.runtime import DeadlineExceeded, wait_until

from conformance.journal import accepted, data_items

if TYPE_CHECKING:
    from conformance.service import ServiceRun

SETTLE_S, QUIET_S = 2.5, 0.3  # watch for messages queued behind the last expected one: at most / quiet for


def dossier_entries(run: ServiceRun) -> list[dict[str, Any]]:
    code = run.dossier_code
    return run.suite.portal.journal(dossier=code) if code else []


def wait_for_statuses(run: ServiceRun, expected: list[str], timeout: float) -> list[dict[str, Any]]:
    """Journal entries of the dossier once every expected status was accepted (or the deadline passed)."""
    code = run.dossier_code
    services = [s for s in run.suite.profile["adapter"]["integration_services"] if s != "CapNhatTienDoHoSoMC"]
    entries: list[dict[str, Any]] = []

    def reached() -> bool:
        nonlocal entries
        entries = run.suite.portal.journal(dossier=code)
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
        n = len(run.suite.portal.journal(dossier=code))
        if n != state["n"]:
            state.update(n=n, since=time.monotonic())
            return False
        return time.monotonic() - state["since"] >= QUIET_S

    try:
        wait_until(quiet, SETTLE_S, interval=0.15)
    except DeadlineExceeded:
        pass
    return run.suite.portal.journal(dossier=code)
