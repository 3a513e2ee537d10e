"""Reconciliation on synthetic records and portal views: lost, duplicated and inconsistent are counted apart."""

from __future__ import annotations

import json

from loadtest.reconcile import journeys_per_min, read_records, reconcile


def sub(code, sid, t=1.0, status=None):
    return {"type": "submission", "sid": sid, "code": code, "service": "lltp", "status": status, "t": t}


def pay(ref, code, amount=200000, outcome="success"):
    return {"type": "payment", "ref": ref, "code": code, "amount": amount, "outcome": outcome, "t": 2.0}


def test_everything_reconciles():
    records = [sub("A", "s1"), sub("B", "s2", status="1"), pay("R1", "A"),
               {"type": "status", "code": "B", "status": "2", "t": 5.0}]
    portal = {"A": {"status": "1"}, "B": {"status": "2"}}
    payments = {"R1": [{"amount": 200000, "dossier": "A", "acks": ["00"], "paid": True}]}
    r = reconcile(records, portal, payments)
    assert r.passed, r.findings
    assert (r.checked_dossiers, r.checked_payments) == (2, 1)


def test_missing_dossier_and_stale_status_are_lost():
    records = [sub("A", "s1"), sub("B", "s2"), {"type": "status", "code": "B", "status": "4", "t": 3.0},
               {"type": "status", "code": "B", "status": "9", "t": 4.0}]
    r = reconcile(records, {"A": None, "B": {"status": "4"}}, {})
    assert (r.lost, r.duplicated, r.inconsistent) == (2, 0, 0)
    assert {f.key for f in r.findings} == {"A", "B"}
    # still showing the submitted status after an officer moved it on: also a lost update
    r2 = reconcile(records, {"A": {"status": "1"}, "B": {"status": "1"}}, {})
    assert r2.lost == 1 and r2.findings[0].key == "B"


def test_unknown_status_is_inconsistent():
    r = reconcile([sub("A", "s1")], {"A": {"status": "11"}}, {})
    assert (r.lost, r.duplicated, r.inconsistent) == (0, 0, 1)
    assert r.findings[0].actual == "11"


def test_same_code_for_two_submissions_is_duplicated():
    r = reconcile([sub("A", "s1"), sub("A", "s2")], {"A": {"status": "1"}}, {})
    assert r.duplicated == 1 and not r.passed
    r2 = reconcile([sub("C", "s3")], {"C": {"status": "1", "copies": 2}}, {})
    assert r2.duplicated == 1


def test_payments_lost_duplicated_inconsistent():
    records = [sub(c, f"s{c}") for c in "ABCDE"] + [
        pay("R-lost", "A"), pay("R-noack", "B"), pay("R-shared", "C"), pay("R-shared", "D"), pay("R-amt", "E"),
        pay("R-cancel", "E", outcome="cancel")]
    portal = {c: {"status": "1"} for c in "ABCDE"}
    payments = {
        "R-noack": [{"amount": 200000, "dossier": "B", "acks": ["99"], "paid": True}],
        "R-shared": [{"amount": 200000, "dossier": "C", "acks": ["00"], "paid": True}],
        "R-amt": [{"amount": 100000, "dossier": "E", "acks": ["00"], "paid": True}],
    }
    r = reconcile(records, portal, payments)
    cats = {f.key: f.category for f in r.findings}
    assert cats == {"R-lost": "lost", "R-noack": "lost", "R-shared": "duplicated", "R-amt": "inconsistent"}
    assert r.checked_payments == 4  # the cancelled one is not a payment to reconcile


def test_two_paid_transactions_for_one_reference_is_duplicated():
    payments = {"R": [{"amount": 1, "dossier": "A", "acks": ["00"], "paid": True},
                      {"amount": 1, "dossier": "A", "acks": ["00"], "paid": True}]}
    r = reconcile([sub("A", "s1"), pay("R", "A", amount=1)], {"A": {"status": "1"}}, payments)
    assert r.duplicated == 1


def test_records_files_and_rate(tmp_path):
    p = tmp_path / "r.jsonl"
    p.write_text("\n".join(json.dumps(x) for x in [
        {"type": "journey", "kind": "citizen", "ok": True, "t": 1},
        {"type": "journey", "kind": "citizen", "ok": False, "t": 2},
        {"type": "journey", "kind": "citizen", "ok": True, "t": 3}]) + "\n{torn", encoding="utf-8")
    records = read_records([p, tmp_path / "missing.jsonl"])
    assert len(records) == 3
    assert journeys_per_min(records, 30.0) == 4.0


def test_portal_views_are_normalised():
    from loadtest.portal_view import normalise_dossier, normalise_payments, outbox_pending

    view = {"MaHoSo": "A", "TrangThaiHoSo": "2", "status_history": [{"status": "1"}, {"status": "2"}]}
    assert normalise_dossier(view) == {"status": "2", "history": ["1", "2"], "copies": 1}
    pays = normalise_payments({"payments": [{
        "MaThamChieu": "R", "SoTien": 200000, "MaHoSo": "A", "TrangThaiGD": "1", "MaLoi": "00",
        "ipn_attempts": [{"accepted": False, "reply": {"MaLoi": "99"}, "adversarial": "ipn_bad_checksum"},
                         {"accepted": False, "reply": None, "status_code": 503},
                         {"accepted": True, "reply": {"MaLoi": "00"}}]}]})
    assert pays == [{"amount": 200000, "dossier": "A", "acks": ["503", "00"], "paid": True, "raw_status": "1"}]
    assert outbox_pending({"counts": {"pending": 3, "sent": 9, "failed": 0}, "messages": []}) == 3
    assert outbox_pending({"items": [{"status": "pending"}, {"status": "sent"}]}) == 1
    assert outbox_pending({"something": "else"}) is None
