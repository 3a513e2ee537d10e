"""summary.json is checked against journal.jsonl, the mock portal's own record, before any report is built.

Each test takes the summary and journal of a real demo run, changes one claim or removes the record of it,
and expects exactly that claim to be named; the untouched pair agrees.
"""

import copy

import pytest

from conftest import demo_journal, demo_summary
from reports.crosscheck import (EvidenceMismatch, disagreements, ensure_codes_name_the_procedure,
                                ensure_codes_reached_portal, ensure_payment_confirmed, ensure_payment_opened,
                                ensure_processing_synced, ensure_submission_synced, portal_record, read_journal)
from schemas import load_profile

PROFILE = load_profile("dvcqg-1.0")
CODE = demo_summary()["services"][0]["dossier_codes"][0]


def record_of(journal):
    return portal_record(journal, "00")


def test_a_real_run_agrees_with_its_journal():
    assert disagreements(demo_summary(), demo_journal()) == []


def test_a_dossier_code_that_never_reached_the_portal_is_named():
    """"Mã số hồ sơ" in a report must be a dossier the portal received (DongBoHoSoMC in the journal)."""
    service = demo_summary()["services"][0]
    service["dossier_codes"] = ["000.00.00.G15-261202-0042"]
    found = ensure_codes_reached_portal(service, "services[0]", record_of(demo_journal()), PROFILE)
    assert [(d.service, d.field, d.value) for d in found] == [
        ("lltp-cap-phieu", "services[0].dossier_codes[0]", "000.00.00.G15-261202-0042")]
    assert "never reached the portal" in str(found[0]) and "chưa từng được gửi lên Cổng" in str(found[0])
    assert ensure_codes_reached_portal(demo_summary()["services"][0], "services[0]",
                                       record_of(demo_journal()), PROFILE) == []


def test_a_code_the_summary_admits_was_not_synced_is_not_a_forgery():
    """A failed submission may list a code read from the page that never reached the portal: it claims nothing."""
    service = demo_summary()["services"][0]
    service["dossier_codes"] = ["000.00.00.G15-261202-0042"]
    service["completed"] = False
    service["checks"]["submission"]["verdict"] = "failed"
    assert ensure_codes_reached_portal(service, "services[0]", record_of(demo_journal()), PROFILE) == []


def test_a_code_moved_to_another_procedure_is_named():
    service = demo_summary()["services"][0]
    service["MaTTHC"] = "1.001193"
    found = ensure_codes_name_the_procedure(service, "services[0]", record_of(demo_journal()), PROFILE)
    assert len(found) == 1 and "2.001417" in str(found[0]) and found[0].value == CODE


def test_a_submission_claimed_synced_needs_an_accepted_starting_status():
    """Passed submission: the portal accepted the dossier as registered or received (status_transitions[''])."""
    journal = [e for e in demo_journal()
               if not (e["service"] == "DongBoHoSoMC" and e["request"]["data"][0]["TrangThaiHoSo"] in ("1", "2"))]
    found = ensure_submission_synced(demo_summary()["services"][0], "services[0]", record_of(journal), PROFILE)
    assert [d.field for d in found] == ["services[0].checks.submission.verdict"]
    assert "accepted statuses: ['4', '9', '10']" in str(found[0])
    assert ensure_submission_synced(demo_summary()["services"][0], "services[0]",
                                    record_of(demo_journal()), PROFILE) == []


def test_a_refused_sync_does_not_count_as_synced():
    """An entry the portal answered with an error (fault 503, error_code ≠ 0) is not an accepted status."""
    journal = copy.deepcopy(demo_journal())
    for e in journal:
        if e["service"] == "DongBoHoSoMC":
            e["response"]["error_code"] = 4
    found = ensure_submission_synced(demo_summary()["services"][0], "services[0]", record_of(journal), PROFILE)
    assert "accepted statuses: none" in str(found[0])


def test_processing_claimed_passed_needs_the_result_at_the_portal():
    """Passed processing: the dossier reached the portal past its starting status, with its result document."""
    journal = copy.deepcopy(demo_journal())
    for e in journal:
        if e["service"] == "DongBoHoSoMC":
            for item in e["request"]["data"]:
                item.pop("DanhSachGiayToKetQua", None)
    found = ensure_processing_synced(demo_summary()["services"][0], "services[0]", record_of(journal), PROFILE)
    assert [d.field for d in found] == ["services[0].checks.processing.verdict"]
    assert "result: no" in str(found[0])
    assert ensure_processing_synced(demo_summary()["services"][0], "services[0]",
                                    record_of(demo_journal()), PROFILE) == []


def test_a_failed_processing_flipped_to_passed_is_named():
    """Only starting statuses accepted (e.g. status 11 refused): a 'passed' processing is contradicted."""
    journal = [e for e in demo_journal()
               if not (e["service"] == "DongBoHoSoMC" and e["request"]["data"][0]["TrangThaiHoSo"] not in ("1", "2"))]
    summary = demo_summary()
    found = ensure_processing_synced(summary["services"][0], "services[0]", record_of(journal), PROFILE)
    assert "accepted statuses: ['1', '2']" in str(found[0])
    summary["services"][0]["checks"]["processing"]["verdict"] = "failed"
    assert ensure_processing_synced(summary["services"][0], "services[0]", record_of(journal), PROFILE) == []


def test_a_payment_claimed_needs_an_accepted_init():
    journal = [e for e in demo_journal() if e["service"] != "INIT"]
    found = ensure_payment_opened(demo_summary()["services"][0], "services[0]", record_of(journal), PROFILE)
    assert [d.field for d in found] == ["services[0].checks.payment.verdict"] and "INIT" in str(found[0])
    assert ensure_payment_opened(demo_summary()["services"][0], "services[0]",
                                 record_of(demo_journal()), PROFILE) == []


def test_a_payment_claimed_needs_a_genuine_acknowledged_callback():
    """Forged callbacks the harness sent on purpose (marked adversarial) are not a payment."""
    genuine = [e for e in demo_journal() if e["role"] == "ipn" and not e["request"].get("adversarial")]
    assert len(genuine) == 1
    journal = [e for e in demo_journal() if e is not genuine[0] and e["id"] != genuine[0]["id"]]
    found = ensure_payment_confirmed(demo_summary()["services"][0], "services[0]", record_of(journal), PROFILE)
    assert "IPN" in str(found[0])
    assert ensure_payment_confirmed(demo_summary()["services"][0], "services[0]",
                                    record_of(demo_journal()), PROFILE) == []


def test_no_journal_means_nothing_confirms_the_codes(tmp_path):
    assert read_journal(tmp_path) is None
    found = disagreements(demo_summary(), None)
    assert [d.field for d in found] == ["journal.jsonl"]


def test_a_journal_line_that_is_not_json_is_named(tmp_path):
    (tmp_path / "journal.jsonl").write_text('{"id": 1}\n{broken\n', encoding="utf-8")
    with pytest.raises(EvidenceMismatch, match="journal.jsonl line 2"):
        read_journal(tmp_path)
