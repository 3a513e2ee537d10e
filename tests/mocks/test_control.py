"""Control API: faults (outage windows, counts, latency), adversarial modes, journal queries and masking, reset."""

from __future__ import annotations

import time

import httpx

from kiemthu.runtime import wait_until
from tests.mocks.conftest import PASSWORD
from tests.mocks.helpers import AGENCY, dossier, dossier_code, sync_message

H = {"dstcode": AGENCY}


def test_health_identities_config(portal, control):
    assert control.get("/_mock/health").json() == {"status": "ok"}
    ids = control.get("/_mock/identities").json()["identities"]
    citizens = [i for i in ids if i["LoaiTaiKhoan"] == "1"]
    enterprises = [i for i in ids if i["LoaiTaiKhoan"] == "2"]
    assert len(citizens) >= 4 and len(enterprises) >= 2
    assert all(len(i["SoDinhDanh"]) == 12 and i["SoDinhDanh"].isdigit() and i["TechID"] for i in ids)
    config = control.get("/_mock/config").json()
    assert config["sso_clients"][0]["client_id"] and "secret" not in str(config).lower().replace("client_secret", "")
    assert PASSWORD not in str(config)


def test_outage_window_returns_503_then_recovers(portal, control, session):
    r = control.post("/_mock/faults", json={"target": "adapter", "kind": "http_5xx", "value": 503, "duration_s": 0.5})
    assert r.status_code == 201
    msg = sync_message(session, [dossier(dossier_code(1))])
    down = portal.post("/adapter/integration", json=msg, headers=H)
    assert down.status_code == 503 and down.json()["error_code"] != 0
    wait_until(lambda: portal.post("/adapter/integration", json=msg, headers=H).status_code == 200, 5,
               what="adapter back after the outage window")
    entries = control.get("/_mock/journal", params={"service": "DongBoHoSoMC"}).json()["entries"]
    assert entries[0]["error"] == "fault:http_5xx" and entries[-1]["status_code"] == 200


def test_fault_by_service_with_count(portal, control, session):
    control.post("/_mock/faults", json={"target": "DongBoHoSoMC", "kind": "http_5xx", "value": 502, "count": 2})
    msg = sync_message(session, [dossier(dossier_code(2))])
    codes = [portal.post("/adapter/integration", json=msg, headers=H).status_code for _ in range(3)]
    assert codes == [502, 502, 200]
    look = {"session": session, "madonvi": AGENCY, "service": "LayDanhSachTTHC"}
    control.post("/_mock/faults", json={"target": "DongBoHoSoMC", "kind": "http_5xx", "count": 1})
    assert portal.post("/adapter/share", json=look, headers=H).status_code == 200  # other services unaffected


def test_latency_and_timeout_faults(portal, control, session):
    control.post("/_mock/faults", json={"target": "/adapter/share", "kind": "latency", "value": 0.3, "count": 1})
    look = {"session": session, "madonvi": AGENCY, "service": "LayDanhSachTTHC"}
    t0 = time.perf_counter()
    assert portal.post("/adapter/share", json=look, headers=H).status_code == 200
    assert time.perf_counter() - t0 >= 0.3
    control.post("/_mock/faults", json={"target": "payment", "kind": "timeout", "value": 2, "count": 1})
    try:
        portal.post("/paymentplatform/query", json={}, timeout=0.5)
        raise AssertionError("expected a client timeout")
    except httpx.TimeoutException:
        pass
    assert control.get("/_mock/faults").json()["faults"] == []
    control.post("/_mock/faults", json={"target": "sso", "kind": "http_5xx", "count": 1})
    assert portal.post("/oauth2/token", data={}).status_code == 503


def test_fault_and_mode_validation(portal, control):
    assert control.post("/_mock/faults", json={"target": "adapter", "kind": "meteor"}).status_code == 400
    assert control.post("/_mock/faults", json={"target": "adapter", "kind": "http_5xx", "value": 200}).status_code == 400
    assert control.post("/_mock/faults", json={"kind": "latency"}).status_code == 400
    assert control.post("/_mock/faults", content=b"{oops", headers={"Content-Type": "application/json"}).status_code < 500
    assert control.delete("/_mock/faults").json() == {"faults": []}
    listing = control.get("/_mock/adversarial").json()
    assert {m["mode"] for m in listing["modes"]} == {
        "id_token_foreign_key", "id_token_alg_none", "id_token_wrong_iss", "id_token_wrong_aud", "id_token_wrong_nonce",
        "id_token_expired", "tampered_state", "replay_code", "ipn_bad_checksum", "ipn_lower_amount", "ipn_duplicate"}
    assert control.post("/_mock/adversarial", json={"mode": "nope"}).status_code == 400
    control.post("/_mock/adversarial", json={"mode": "ipn_duplicate"})
    assert control.get("/_mock/adversarial").json()["armed"][0]["mode"] == "ipn_duplicate"
    control.delete("/_mock/adversarial")
    assert control.get("/_mock/adversarial").json()["armed"] == []


def test_journal_filters_masking_and_reset(portal, control, session):
    code = dossier_code(3)
    portal.post("/adapter/integration", json=sync_message(session, [dossier(code)]), headers=H)
    entries = control.get("/_mock/journal", params={"dossier": code}).json()["entries"]
    assert len(entries) == 1
    e = entries[0]
    assert set(e) == {"id", "ts", "role", "direction", "method", "path", "service", "client", "dossier_codes",
                      "payment_ref", "status_code", "request", "response", "duration_ms", "error", "login", "citizen"}
    assert e["role"] == "adapter" and e["direction"] == "in" and e["client"] == "btp" and e["dossier_codes"] == [code]
    assert session not in str(e) and e["request"]["session"].startswith("***")
    assert control.get("/_mock/journal", params={"after_id": e["id"]}).json()["entries"] == []
    lines = control.get("/_mock/journal.jsonl").text.strip().splitlines()
    assert len(lines) >= 2 and PASSWORD not in "".join(lines)
    control.post("/_mock/reset")
    assert control.get("/_mock/journal").json()["entries"] == []
    assert control.get(f"/_mock/dossiers/{code}").status_code == 404


def test_stats_count_by_service(portal, control, session):
    portal.post("/adapter/integration", json=sync_message(session, [dossier(dossier_code(4))]), headers=H)
    stats = control.get("/_mock/stats").json()
    row = next(r for r in stats["by_service"] if r["service"] == "DongBoHoSoMC")
    assert row["count"] == 1 and row["errors"] == 0 and stats["dossiers"] == 1
