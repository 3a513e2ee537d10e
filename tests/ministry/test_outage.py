"""Acceptance: a portal outage during processing delays the sync but loses nothing; once the portal is back every
pending update arrives, in order, per dossier."""

from __future__ import annotations

import time

import pytest

from kiemthu.runtime import wait_until
from tests.ministry.driver import Citizen, Officer
from tests.ministry.pair import wait_outbox_empty


def accepted_statuses(pair, code: str) -> list[str]:
    return [item["TrangThaiHoSo"]
            for e in pair.journal(dossier=code, role="adapter", service="DongBoHoSoMC") if e["status_code"] == 200
            for item in e["request"]["data"] if item["MaHoSo"] == code]


@pytest.mark.parametrize("outage_s", [pytest.param(6, id="6s"), pytest.param(30, id="30s", marks=pytest.mark.slow)])
def test_outage_during_processing_loses_nothing(pair, outage_s):
    citizen = Citizen(pair.ministry_url)
    codes = [citizen.submit_khai_sinh(), citizen.submit_khai_sinh()]
    officer = Officer(pair.ministry_url, pair.target["officer"]["username"], pair.officer_password)
    for code in codes:
        officer.act(code, "tiep-nhan")
    wait_outbox_empty(pair, 20)

    started = time.monotonic()
    pair.fault(target="adapter", kind="http_5xx", value=503, duration_s=outage_s)
    for code in codes:
        for action in ("xu-ly", "phe-duyet", "tra-ket-qua"):
            officer.act(code, action)
    # while the portal is down the updates wait in the outbox, none dropped
    wait_until(lambda: any(m["attempts"] > 0 and m["status"] == "pending" for m in pair.outbox()["messages"]),
               10, what="a failed delivery waiting for retry")
    assert time.monotonic() - started < outage_s, "the outage ended before the checks; raise outage_s"
    assert pair.outbox()["counts"]["failed"] == 0
    for code in codes:
        assert pair.portal_dossier(code)["TrangThaiHoSo"] == "2"

    wait_outbox_empty(pair, outage_s + 30)
    assert pair.outbox()["counts"]["failed"] == 0
    for code in codes:
        assert accepted_statuses(pair, code) == ["1", "2", "4", "9", "10"]
        view = pair.portal_dossier(code)
        assert [h["status"] for h in view["status_history"]] == ["1", "2", "4", "9", "10"]
        progress = [p["NoiDungXuLy"] for p in view["progress"]]
        assert progress[-3:] == ["Chuyển xử lý hồ sơ", "Phê duyệt, ban hành kết quả", "Trả kết quả điện tử cho công dân"]
        assert view["fields"]["DanhSachGiayToKetQua"][0]["MaGiayToKetQua"] == "KQ.G15.000031"
    failures = [e for e in pair.journal(role="adapter") if e["status_code"] == 503]  # faults carry no dossier
    assert failures, "the outage was not exercised"
