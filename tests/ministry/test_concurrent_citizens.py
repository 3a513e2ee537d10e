"""Concurrent citizens and officers on the reference system (real processes, plain HTTP): each citizen gets a
dossier of their own under a unique code, synced to the portal as theirs and in order; an outage scoped to one
dossier delays only that dossier's sync."""

from __future__ import annotations

import threading

import pytest

from kiemthu.runtime import wait_until
from tests.ministry.driver import Citizen, Officer
from tests.ministry.pair import wait_outbox_empty

pytestmark = pytest.mark.slow
TECHIDS = [f"5b1f0e7a-0c3d-4d2a-9f51-3a7c2e10a00{i}" for i in range(1, 5)]  # the citizens able to log in at LoA2
STEPS = ("tiep-nhan", "xu-ly", "phe-duyet", "tra-ket-qua")


def side_by_side(work, items) -> list:
    """Run `work(item)` for every item at once, each in its own thread; the results in order (an error re-raised)."""
    results: list = [None] * len(items)

    def one(i, item):
        try:
            results[i] = work(item)
        except BaseException as exc:  # surfaced below, in the test's thread
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i, item)) for i, item in enumerate(items)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return results


def synced_statuses(pair, code: str) -> list[str]:
    return [item["TrangThaiHoSo"]
            for e in pair.journal(dossier=code, role="adapter", service="DongBoHoSoMC") if e["status_code"] == 200
            for item in e["request"]["data"] if item["MaHoSo"] == code]


def test_concurrent_citizens_each_get_their_own_dossier(pair):
    """Rule: four citizens submitting at the same moment get four distinct dossier codes, each synced as its own
    citizen's (MaDoiTuong = TechID); two officers processing them at once sync every status of every dossier in
    order, and nothing is left failed in the outbox."""
    codes = side_by_side(lambda techid: Citizen(pair.ministry_url, techid).submit_khai_sinh(), TECHIDS)
    assert len(set(codes)) == len(codes) == 4
    officers = [Officer(pair.ministry_url, pair.target["officer"]["username"], pair.officer_password) for _ in range(2)]

    def process(i_code):
        i, code = i_code
        for action in STEPS:
            officers[i % 2].act(code, action)

    side_by_side(process, list(enumerate(codes)))
    wait_outbox_empty(pair, 60)
    assert pair.outbox()["counts"]["failed"] == 0
    for techid, code in zip(TECHIDS, codes):
        view = pair.portal_dossier(code)
        assert view["fields"]["MaDoiTuong"] == techid
        assert synced_statuses(pair, code) == ["1", "2", "4", "9", "10"]


def test_outage_of_one_dossier_leaves_the_other_syncing(pair):
    """Rule: with the portal's adapter refusing every message of one dossier (a fault scoped to its code), another
    dossier processed at the same time reaches the portal at once; the refused one arrives once the fault ends."""
    citizen = Citizen(pair.ministry_url)
    drilled, neighbour = citizen.submit_khai_sinh(), citizen.submit_khai_sinh()
    officer = Officer(pair.ministry_url, pair.target["officer"]["username"], pair.officer_password)
    for code in (drilled, neighbour):
        officer.act(code, "tiep-nhan")
    wait_outbox_empty(pair, 20)
    pair.fault(target="adapter", kind="http_5xx", value=503, duration_s=8, dossier=drilled)
    for code in (drilled, neighbour):
        officer.act(code, "xu-ly")
    wait_until(lambda: synced_statuses(pair, neighbour)[-1:] == ["4"], 10, what="the neighbour's status synced")
    assert synced_statuses(pair, drilled)[-1] == "2"  # still refused: its update waits in the outbox
    refused = [e for e in pair.journal(role="adapter") if e["status_code"] == 503]
    assert refused and all(drilled in (e.get("dossier_codes") or []) or neighbour not in str(e.get("request"))
                           for e in refused)
    wait_outbox_empty(pair, 40)
    assert synced_statuses(pair, drilled)[-1] == "4" and pair.outbox()["counts"]["failed"] == 0
