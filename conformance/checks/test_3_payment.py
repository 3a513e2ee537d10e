"""Kiểm tra 3 — Thanh toán trực tuyến qua Nền tảng thanh toán của Cổng DVCQG.

Rule (Hà Giang testing procedure §3.1 (3)): "Tính thông suốt về mặt kỹ thuật đối với quy trình thanh toán;
phương thức thanh toán đã tích hợp, sử dụng Hệ thống thanh toán trực tuyến của Cổng Dịch vụ công quốc gia"; a
toàn trình service that collects fees but offers no online payment is itself a finding. Payment status is synced
to the portal "ngay sau khi người nộp tiền bị trừ tiền trong tài khoản" (portal rules Điều 31).
Contract (observed integrations, docs/domain/): INIT with MaXacThuc = sha256(fields|secret), the published fee, a reference tied to the
dossier, ThoiGianGD yyyyMMddHHmmss (24-hour, which only shows from 13:00 to 00:59: a run at other hours says so);
the IPN acknowledged with MaLoi 00. Negative cases: a forged IPN (bad checksum), an IPN reporting a lower amount
and a repeated IPN must not mark the dossier paid (again).
"""

import time

from kiemthu.runtime import DeadlineExceeded, wait_until

from conformance.journal import accepted, data_items, forged_exchange, request_of
from conformance.plugin import NotApplicable
from conformance.rules import owned
from conformance.rules import payment as pay

CHECK = "payment"
RULES = owned(
    required=[pay.ensure_online_payment_offered, pay.ensure_init_sent, pay.ensure_init_fields, pay.ensure_init_checksum,
              pay.ensure_init_accepted, pay.ensure_transaction_time_plausible, pay.ensure_amount_matches_fee,
              pay.ensure_reference_tied_to_dossier, pay.ensure_reference_unique, pay.ensure_payment_round_trip,
              pay.ensure_ipn_acknowledged, pay.ensure_dossier_marked_paid, pay.ensure_payment_synced,
              pay.ensure_bad_ipn_refused, pay.ensure_repeated_ipn_idempotent],
    advisory=[pay.ensure_24h_clock_verifiable],
)
REPLAY_SETTLE_S = 1.0  # how long after a replayed callback a duplicate sync may still show


def test_3_payment(kt_check):
    """Payment: the fee is paid online through the portal's platform, and forged callbacks are refused"""
    with kt_check as c:
        run, scenario, profile = kt_check.run, kt_check.scenario, kt_check.profile
        p = profile["payment"]
        if not int(scenario["fee"].get("amount") or 0):
            raise NotApplicable("the published procedure charges no fee")
        kt_check.blocked_by(run.ensure("submit"))
        flow = run.ensure("pay")
        offered = flow.observations.get("offered", True)
        c.require(pay.ensure_online_payment_offered, offered, scenario["level"], scenario["fee"],
                  f"evidence/{run.id}/submission/")
        if not offered:
            c.account_for(RULES, "the system offers no online payment", "not_applicable")
            return
        final = flow.observations.get("final") or {}
        kt_check.flow(flow, clause="Hà Giang testing procedure §3.1 test content (3)")
        code = run.dossier_code
        entries = kt_check.suite.window(final.get("journal_after", 0), final.get("journal_until", 0))
        # the whole payment as the journal saw it, the first (lower-amount) attempt included
        for attempt in flow.observations.get("negatives", []):
            if attempt.get("dossier_code") == code:
                kt_check.journal += kt_check.suite.window(attempt.get("journal_after", 0), attempt.get("journal_until", 0))
        kt_check.journal += entries

        init = c.require(pay.ensure_init_sent, entries, p["paths"]["init"], code)
        if init:
            c.require(pay.ensure_init_fields, init, p["message_types"]["init"], p["version"],
                      kt_check.target["portal"]["payment_partner"]["code"], p["checksum"]["INIT"])
            c.require(pay.ensure_init_checksum, init, p["checksum"]["INIT"],
                      kt_check.target.secret("portal.payment_partner.secret"), p["checksum"].get("separator", "|"))
            c.require(pay.ensure_init_accepted, init, p["ok_code"], p.get("error_codes", {}))
            c.require(pay.ensure_transaction_time_plausible, init, profile["date_format"], final["moment"],
                      float(p.get("init_time_window_s", profile["max_clock_skew_s"])))
            # from 01:00 to 12:59 a 12-hour clock writes what a 24-hour one does: say so rather than pass silently
            c.advise(pay.ensure_24h_clock_verifiable, [(request_of(init).get("ThoiGianGD"), final["moment"])],
                     profile["date_format"])
            c.require(pay.ensure_amount_matches_fee, init, int(scenario["fee"]["amount"]))
            c.require(pay.ensure_reference_tied_to_dossier, init, code)
            kt_check.suite.sync_journal()
            others = [e for e in kt_check.suite.journal_cache if e.get("role") == "payment"
                      and e.get("id") != init.get("id") and e.get("path") == init.get("path")]
            c.require(pay.ensure_reference_unique, init, others, p["ok_code"])
        c.require(pay.ensure_payment_round_trip, final)
        ref = request_of(init).get("MaThamChieu") if init else None
        record = next(iter(kt_check.suite.portal.payments(ref)), None) if ref else None
        c.require(pay.ensure_ipn_acknowledged, record, p["ok_code"])
        c.require(pay.ensure_dossier_marked_paid, final.get("shown_paid"), f"evidence/{run.id}/payment/")
        if kt_check.suite.portal.dossier(code) is not None:
            try:
                wait_until(run.portal_paid, kt_check.suite.sync_s, interval=0.2, what="payment synced")
            except DeadlineExceeded:
                pass
            c.require(pay.ensure_payment_synced, kt_check.suite.portal.dossier(code))
        else:  # the submission check reports the rejected dossier
            c.not_evaluated(pay.ensure_payment_synced, f"the portal never accepted dossier {code} (see the submission check)")

        for attempt in flow.observations.get("negatives", []):
            _judge_forged_callback(kt_check, c, attempt, attempt.get("shown_paid"), attempt.get("portal_paid"))
        if final.get("mode"):
            # the forged callback came first, the genuine one right after: only the reply to the forgery can tell
            _judge_forged_callback(kt_check, c, final, None, None)
        elif final.get("note"):  # the first attempt already paid the dossier: no second, forged-then-genuine one
            c.not_evaluated(pay.ensure_bad_ipn_refused, f"no forged-checksum case: {final['note']}", variant="ipn_bad_checksum")
        if record and run.portal_paid():
            replay = flow.observations.get("replay")
            if not replay or replay.get("ref") != ref:
                replay = {**(run.replay_ipn(record) or {}), "at": time.monotonic()}
            kt_check.journal += kt_check.suite.portal.journal(role="ipn", ref=ref)
            c.require(pay.ensure_repeated_ipn_idempotent, _payment_syncs(kt_check, code, final, replay["at"]),
                      replay if "status" in replay else None)
        else:
            c.not_evaluated(pay.ensure_repeated_ipn_idempotent, "no genuine payment reached the portal, so a "
                            "replayed callback could not be told apart from the first one")


def _judge_forged_callback(kt_check, c, attempt: dict, shown_paid, portal_paid) -> None:
    """One forged-callback case, judged on the journal entry of the callback the portal actually sent."""
    mode = attempt["mode"]
    forged = attempt.get("forged")
    if forged is None:  # read the journal again: the callback may have been journalled after the attempt closed
        forged = forged_exchange(kt_check.suite.portal.journal(role="ipn", after_id=attempt.get("journal_after", 0)), mode)
    proof = kt_check.exchange(mode, forged)
    c.require(pay.ensure_bad_ipn_refused, mode, forged, kt_check.profile["payment"]["ok_code"], shown_paid, portal_paid,
              proof or attempt.get("where"), variant=mode, evidence=[proof, attempt.get("where")])


def _paid_before(kt_check, code: str, until_id: int) -> bool:
    """Whether the portal was told the dossier was paid before the genuine payment began."""
    for e in kt_check.suite.portal.journal(dossier=code):
        if int(e.get("id") or 0) > until_id or not accepted(e):
            continue
        for item in data_items(e):
            if item.get("MaHoSo") == code and str(item.get("DuocThanhToanTrucTuyen", "")).lower() in ("1", "true"):
                return True
    return False


def _payment_syncs(kt_check, code: str, final: dict, replayed_at: float) -> list[dict]:
    """Accepted dossier syncs after the genuine payment (one expected; a repeated IPN must not add another, which
    the system's outbox would send within about a second of the replay)."""
    def syncs():
        return [e for e in kt_check.suite.portal.journal(dossier=code, after_id=final.get("journal_after", 0))
                if e.get("service") in ("DongBoHoSoMC", "CapNhatTienDoHoSoMC") and accepted(e)]

    try:
        wait_until(lambda: len([e for e in syncs() if e.get("service") == "DongBoHoSoMC"]) >= 2,
                   max(0.0, replayed_at + REPLAY_SETTLE_S - time.monotonic()), interval=0.15)
    except DeadlineExceeded:
        pass
    return syncs()
