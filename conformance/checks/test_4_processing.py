"""Kiểm tra 4 — Xử lý hồ sơ và đồng bộ trạng thái, kết quả lên Cổng DVCQG.

Rule (Hà Giang testing procedure §3.1 (4)): "Kiểm tra việc xử lý hồ sơ trực tuyến, việc đồng bộ trạng thái hồ
sơ, kết quả giải quyết thủ tục hành chính bản điện tử." Contract (observed integrations, docs/domain/): every transition as `TrangThaiHoSo` (1–10, in an allowed
order) with `CapNhatTienDoHoSoMC` progress sent only after the dossier exists (batches ≤ 10); the e-result with
its result-type code and a file link ("an electronic result counts only when the sync carries a result-type code
and a file link"); dates yyyyMMddHHmmss in Vietnam time. Resilience: a portal outage injected mid-processing must
not lose any update once the portal is back.
"""

from datetime import datetime, timedelta

import httpx

from kiemthu.runtime import VN_TZ, DeadlineExceeded, wait_until

from conformance.journal import accepted, data_items
from conformance.plugin import Blocked
from conformance.rules import owned
from conformance.rules import processing as proc
from conformance.rules.submission import ensure_dates_plausible, ensure_message_valid

CHECK = "processing"
RULES = owned(
    required=[proc.ensure_status_codes_known, proc.ensure_status_transitions_allowed, proc.ensure_each_step_synced,
              proc.ensure_progress_after_dossier, proc.ensure_progress_batch_size, proc.ensure_status_dates_present,
              proc.ensure_result_synced, proc.ensure_result_retrievable, ensure_dates_plausible,
              proc.ensure_updates_survive_outage, ensure_message_valid],
    advisory=[proc.ensure_progress_recorded, proc.ensure_officer_pages_need_login],
    variants={ensure_dates_plausible: ("dossier", "progress")},
)


def test_4_processing(kt_check):
    """Processing: each status change and the e-result reach the portal, even across an outage"""
    with kt_check as c:
        run, scenario, profile = kt_check.run, kt_check.scenario, kt_check.profile
        adapter_p = profile["adapter"]
        kt_check.blocked_by(run.ensure("submit"))
        try:
            wait_until(lambda: kt_check.suite.portal.dossier(run.dossier_code), kt_check.suite.sync_s, interval=0.2)
        except DeadlineExceeded:
            raise Blocked(f"the portal never accepted dossier {run.dossier_code} (see the submission check)") from None
        flow = run.ensure("officer_process")
        kt_check.flow(run.flows.get("officer_login"))
        kt_check.flow(flow)
        code = run.dossier_code
        expected = [s for s, _ in run.status_actions] or _declared_statuses(kt_check.suite.adapter)
        if flow.observations.get("manual") is None and (kt_check.target.get("officer") or {}).get("mode") == "manual":
            expected = expected or [max(profile["dossier_status"], key=int)]
        wait = kt_check.suite.sync_s + (run.fault.get("duration_s") or 0)
        entries = run.wait_for_statuses(expected, wait)
        kt_check.journal += entries
        dossier_services = [s for s in adapter_p["integration_services"] if s in ("DongBoHoSoMC", "DongBoTrangThaiHoSo")]
        history = proc.status_history(entries, code, dossier_services)
        where = f"evidence/{run.id}/processing/journal.json"

        c.require(proc.ensure_status_codes_known, history, profile["dossier_status"])
        c.require(proc.ensure_status_transitions_allowed, history, adapter_p["status_transitions"])
        c.require(proc.ensure_each_step_synced, history, expected, where)
        c.require(proc.ensure_progress_after_dossier, entries, code, "DongBoHoSoMC", "CapNhatTienDoHoSoMC")
        c.require(proc.ensure_progress_batch_size, entries, "CapNhatTienDoHoSoMC", int(adapter_p["progress_batch_max"]))
        c.advise(proc.ensure_progress_recorded, entries, code, "CapNhatTienDoHoSoMC", len(expected))
        c.require(proc.ensure_status_dates_present, history, code, adapter_p.get("status_requires_field", {}))

        records = [(i, e) for e in entries if e.get("service") == "DongBoHoSoMC" and accepted(e)
                   for i in data_items(e) if i.get("MaHoSo") == code]
        result = c.require(proc.ensure_result_synced, records, scenario["result"]["MaGiayToKetQua"])
        if isinstance(result, dict):
            c.require(proc.ensure_result_retrievable, _fetch(result.get("DuongDanTepTinKetQua"), kt_check))
        window = (run.started - timedelta(seconds=1), datetime.now(VN_TZ))
        skew = float(profile["max_clock_skew_s"])
        future = adapter_p.get("future_date_fields", [])
        if records:
            c.require(ensure_dates_plausible, records[-1][0], ["NgayTiepNhan", "NgayHenTra", "NgayTra"],
                      profile["date_format"], window, skew, future, f"journal entry #{records[-1][1].get('id')}",
                      variant="dossier")
        progress = [i for e in entries if e.get("service") == "CapNhatTienDoHoSoMC" and accepted(e)
                    for i in data_items(e) if i.get("MaHoSo") == code]
        for item in progress[-1:]:
            c.require(ensure_dates_plausible, item, ["ThoiDiemXuLy", "NgayBatDau", "NgayKetThucTheoQuyDinh"],
                      profile["date_format"], window, skew, future, where, variant="progress")

        fault = dict(run.fault)
        since = int(fault.get("journal_after") or 0)
        after = [s for s, e, ok in history if ok and int(e.get("id") or 0) > since]
        if fault.get("injected"):
            # what the system tried to send from the outage on (refused calls carry no dossier index, so read them all)
            tried = proc.status_history(kt_check.suite.portal.journal(after_id=since, role="adapter"), code, dossier_services)
            attempted = [s for s in expected if any(t == s for t, _, _ in tried)]
        else:
            attempted = []
        c.require(proc.ensure_updates_survive_outage, attempted, after, fault)
        c.advise(proc.ensure_officer_pages_need_login, _anonymous_probe(kt_check))
        c.require(ensure_message_valid, kt_check.validate_messages(entries), f"evidence/{run.id}/processing/validation.txt")


def _declared_statuses(adapter: dict) -> list[str]:
    out = []

    def walk(steps):
        for s in steps or []:
            if s.get("marks_status"):
                out.append(s["marks_status"])
            if "within_row" in s:
                walk(s["within_row"]["steps"])

    walk((adapter.get("flows") or {}).get("officer_process"))
    return out


def _anonymous_probe(kt_check) -> dict | None:
    """The officers' dossier list asked for without any session."""
    page = (kt_check.suite.adapter.get("pages") or {}).get("officer_dossiers")
    if not page:
        return None
    url = kt_check.run.vars.expand(page, "adapter.pages.officer_dossiers")
    try:
        r = httpx.get(url, timeout=kt_check.suite.page_s, follow_redirects=False)
    except httpx.HTTPError as exc:
        return {"status": 0, "url": url, "error": str(exc)}
    return {"status": r.status_code, "location": r.headers.get("location"), "url": url}


def _fetch(url: str | None, kt_check) -> dict | None:
    if not url:
        return None
    try:
        r = httpx.get(url, timeout=kt_check.suite.page_s, follow_redirects=True)
    except httpx.HTTPError as exc:
        return {"ok": False, "actual": f"{type(exc).__name__}", "url": url}
    ok = r.status_code == 200 and len(r.content) > 0
    return {"ok": ok, "actual": f"HTTP {r.status_code}, {len(r.content)} bytes, {r.headers.get('content-type', '')}", "url": url}
