"""Kiểm tra 2 — Nộp hồ sơ trực tuyến.

Rule (Hà Giang testing procedure §3.1 (2)): "Thực hiện nộp hồ sơ trực tuyến. Trường hợp quá trình nộp phát hiện
có bước không thực hiện được hoặc hồ sơ, giấy tờ ghi chưa chính xác theo nội dung công bố ... thì đề nghị kiểm
tra, điều chỉnh lại." The dossier code
follows Circular 01/2018/TT-VPCP art. 19 (`<agency>-<YYMMDD>-<4-digit daily sequence>`), and the dossier
reaches the portal through `DongBoHoSoMC` with consistent fields: MaTTHC, KenhThucHien (online),
MaDoiTuong (= the citizen's TechID), the documents, dates in yyyyMMddHHmmss Vietnam time. Security (a warning):
the same submission with every attachment replaced by a disallowed file (a program, not a PDF/JPG/PNG) is refused.
"""

from datetime import datetime

from kiemthu.runtime import VN_TZ, DeadlineExceeded, wait_until

from conformance.journal import accepted
from conformance.rules import owned
from conformance.rules import submission as sub

CHECK = "submission"
RULES = owned(
    required=[sub.ensure_form_fields_match_procedure, sub.ensure_form_documents_match_procedure,
              sub.ensure_dossier_code_format, sub.ensure_dossier_synced, sub.ensure_synced_procedure_code,
              sub.ensure_synced_channel_online, sub.ensure_synced_subject_is_techid, sub.ensure_synced_documents,
              sub.ensure_khodl_reuse_marked, sub.ensure_initial_status, sub.ensure_dates_plausible,
              sub.ensure_message_valid],
    advisory=[sub.ensure_fields_prefilled_from_identity, sub.ensure_disallowed_upload_refused],
)
DOSSIER_SERVICE = "DongBoHoSoMC"


def test_2_submission(kt_check):
    """Submission: the form matches the published procedure and the dossier reaches the portal"""
    with kt_check as c:
        run, scenario, profile = kt_check.run, kt_check.scenario, kt_check.profile
        # reaching the service's form from the portal is judged by the SSO check (no second login)
        kt_check.blocked_by(run.ensure("citizen_login"), run.ensure("open_service"))
        submit = run.ensure("submit")
        kt_check.flow(submit)
        where = f"evidence/{run.id}/submission/"

        inventory = submit.observations.get("inventory", {})
        if "fields" in inventory:
            c.require(sub.ensure_form_fields_match_procedure, inventory["fields"], scenario["fields"], where)
        elif submit.ok:
            c.not_evaluated(sub.ensure_form_fields_match_procedure, "the adapter's submit flow takes no inventory "
                            "of the form's fields")
        if "documents" in inventory:
            c.require(sub.ensure_form_documents_match_procedure, inventory["documents"], scenario["documents"], where)
        elif submit.ok:
            c.not_evaluated(sub.ensure_form_documents_match_procedure, "the adapter's submit flow takes no inventory "
                            "of the form's documents")
        c.advise(sub.ensure_fields_prefilled_from_identity, submit.observations.get("prefilled", {}),
                 scenario["fields"], run.identity, where)
        if not submit.ok:
            return

        code = run.dossier_code
        c.require(sub.ensure_dossier_code_format, code, kt_check.target["system"]["agency_code"],
                  datetime.now(VN_TZ).date(), profile["dossier_code"], where)

        entries: list = []

        def synced():
            nonlocal entries
            entries = kt_check.suite.portal.journal(dossier=code)
            return any(e.get("service") == DOSSIER_SERVICE and accepted(e) for e in entries)

        try:
            wait_until(synced, kt_check.suite.sync_s, interval=0.2, what=f"{code} synced")
        except DeadlineExceeded:
            pass
        mine = [e for e in entries if e.get("service") == DOSSIER_SERVICE]
        kt_check.journal += mine
        first = c.require(sub.ensure_dossier_synced, entries, code, DOSSIER_SERVICE, kt_check.suite.sync_s)
        if first:
            record = sub.synced_record(first, code)
            at = f"journal entry #{first.get('id')}"
            c.require(sub.ensure_synced_procedure_code, record, scenario["MaTTHC"], at)
            c.require(sub.ensure_synced_channel_online, record, run.online_code, at)
            c.require(sub.ensure_synced_subject_is_techid, record, run.identity["TechID"], at)
            c.require(sub.ensure_synced_documents, record, scenario["documents"], at)
            reused = submit.observations.get("khodl", [])
            if reused:
                c.require(sub.ensure_khodl_reuse_marked, record, [d for d in scenario["documents"]
                                                                  if d["MaThanhPhanHoSo"] in reused], at)
            else:
                c.not_applicable(sub.ensure_khodl_reuse_marked, "no document was taken from the citizen's Kho DL")
            initial = profile["adapter"].get("status_transitions", {}).get("") or list(profile["dossier_status"])[:2]
            c.require(sub.ensure_initial_status, record, initial, at)
            c.require(sub.ensure_dates_plausible, record, ["NgayNopHoSo", "NgayTiepNhan", "NgayHenTra"],
                      profile["date_format"], (submit.started, datetime.now(VN_TZ)), float(profile["max_clock_skew_s"]),
                      profile["adapter"].get("future_date_fields", []), at)
        c.require(sub.ensure_message_valid, kt_check.validate_messages(mine), where + "validation.txt")
        c.advise(sub.ensure_disallowed_upload_refused, submit.observations.get("upload_probe"))
