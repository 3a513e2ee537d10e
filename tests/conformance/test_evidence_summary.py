"""Evidence files (names, masking, trace scrubbing) and summary.json (schema, completion rule)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from datetime import datetime
from types import SimpleNamespace

from conformance.evidence import Evidence, scrub_zip, slug
from conformance.sso_probe import FORM, HIDDEN, visible_text
from conformance.summary import Recorder, build_summary, write_summary
from kiemthu.logs import register_secret
from kiemthu.runtime import VN_TZ
from schemas import validator


def test_slug_keeps_vietnamese_readable():
    assert slug("click role=button name='Đăng nhập'") == "click-role-button-name-dang-nhap"
    assert slug("Nộp hồ sơ") == "nop-ho-so"


def test_evidence_json_is_masked_and_listed(tmp_path):
    register_secret("very-secret-value-42")
    ev = Evidence(tmp_path)
    rel = ev.write_json("svc", "sso", "journal.json", {"password": "very-secret-value-42", "note": "very-secret-value-42"})
    text = (tmp_path / rel).read_text(encoding="utf-8")
    assert "very-secret-value-42" not in text and rel in ev.list("svc", "sso")
    assert ev.next_name("svc", "sso", "Đăng nhập", "png").name == "01-dang-nhap.png"


def test_trace_archives_are_scrubbed(tmp_path):
    path = tmp_path / "trace.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("trace.trace", '{"params": {"value": "hunter2-password"}}')
        z.writestr("resources/x.png", b"\x89PNG...")
    assert scrub_zip(path, ["hunter2-password"]) == 1
    with zipfile.ZipFile(path) as z:
        assert b"hunter2" not in z.read("trace.trace") and z.read("resources/x.png") == b"\x89PNG..."


def test_sso_probe_reads_the_portal_login_form():
    page = ('<form method="post" action="/authenticationendpoint/login?x=1&amp;y=2">'
            '<input type="hidden" name="sessionDataKey" value="abc"><input type="radio" name="techid" value="t1"></form>')
    (action, body), = FORM.findall(page)
    assert action.endswith("x=1&amp;y=2") and dict(HIDDEN.findall(body)) == {"sessionDataKey": "abc"}
    assert visible_text("<h1>Xin chào, An</h1><script>var a=1</script>") == "Xin chào, An"


class T(dict):
    """A target as the summary reads it (mapping access, no file)."""

    path = None


def fake_suite(target: dict):
    scenario = {"id": "svc", "MaTTHC": "2.001417", "TenTTHC": "T", "MaDVC": "2.001417.01", "TenDVC": "D", "level": "toan_trinh"}
    return SimpleNamespace(target=T(target), services=[({}, scenario)], profile={"name": "dvcqg-1.0"},
                           run_id="20261123-031200-abcd", started_at=datetime.now(VN_TZ),
                           opts=SimpleNamespace(defects=["fee-mismatch"], checks=[]),
                           selected_checks=lambda entry: ["sso", "submission", "payment", "processing"])


TARGET = {"system": {"name": "S", "base_url": "http://s", "agency_code": "000.00.00.G15"},
          "portal": {"base_url": "http://p", "profile": "dvcqg-1.0"}, "report": {"tester": "T"}}


def test_summary_validates_and_completion_needs_every_check(tmp_path):
    suite = fake_suite(TARGET)
    rec = Recorder()
    rec.add_code("svc", "000.00.00.G15-261123-0001")
    for check in ("sso", "submission", "processing"):
        rec.record("svc", check, "passed", "ok", [], [], 1.0)
    rec.record("svc", "payment", "not_applicable", "free", [], [], 0.0)
    summary = build_summary(suite, rec)
    assert not list(validator("summary").iter_errors(summary))
    assert summary["services"][0]["completed"] and summary["defects"] == ["fee-mismatch"]
    rec.record("svc", "payment", "failed", "ensure_amount_matches_fee: expected 200000, actual 250000")
    summary = build_summary(suite, rec)
    assert not summary["services"][0]["completed"]
    write_summary(tmp_path / "summary.json", summary)
    assert json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))["run_id"] == "20261123-031200-abcd"


def test_a_check_not_run_is_inconclusive_and_blocks_completion():
    suite = fake_suite(TARGET)
    rec = Recorder()
    rec.record("svc", "sso", "passed", "ok")
    summary = build_summary(suite, rec)
    assert summary["services"][0]["checks"]["payment"]["verdict"] == "inconclusive"
    assert summary["services"][0]["checks"]["payment"]["reason"].startswith("not evaluated")
    assert not summary["services"][0]["completed"]
    assert not list(validator("summary").iter_errors(summary))


def test_an_inconclusive_check_makes_the_run_not_complete_and_exceptions_are_listed(tmp_path):
    """A run is complete only when no check failed or was inconclusive; "passed with exceptions" names what it
    could not verify."""
    suite = fake_suite(TARGET)
    rec = Recorder()
    for check in ("sso", "submission", "processing"):
        rec.record("svc", check, "passed", "ok")
    clock = {"rule_id": "ensure_24h_clock_verifiable", "clause": "c", "title": "t", "verdict": "not_evaluated",
             "severity": "warning", "note": "transaction made at 09:30 Vietnam time"}
    rec.record("svc", "payment", "passed_with_exceptions", clock["note"], [clock],
               unverified=[{"rule_id": clock["rule_id"], "reason": clock["note"]}])
    summary = build_summary(suite, rec)
    assert not list(validator("summary").iter_errors(summary)) and summary["services"][0]["completed"]
    assert summary["services"][0]["checks"]["payment"]["unverified"][0]["rule_id"] == "ensure_24h_clock_verifiable"
    forged = {"rule_id": "ensure_bad_ipn_refused", "clause": "c", "title": "t", "verdict": "not_evaluated",
              "severity": "failure", "variant": "ipn_bad_checksum", "note": "no 'ipn_bad_checksum' callback sent"}
    rec.record("svc", "payment", "inconclusive", "not evaluated: " + forged["note"], [forged])
    summary = build_summary(suite, rec)
    assert not list(validator("summary").iter_errors(summary)) and not summary["services"][0]["completed"]
    # the schema holds the vocabulary: a rule not evaluated without a reason, or the old "skipped", is refused
    bad = json.loads(json.dumps(summary))
    bad["services"][0]["checks"]["payment"]["rules"][0].pop("note")
    assert list(validator("summary").iter_errors(bad))
    bad["services"][0]["checks"]["payment"]["verdict"] = "skipped"
    assert list(validator("summary").iter_errors(bad))
    no_list = json.loads(json.dumps(summary))
    no_list["services"][0]["checks"]["payment"]["verdict"] = "passed_with_exceptions"
    assert list(validator("summary").iter_errors(no_list))


class FakePage:
    """A page whose screenshot is a fixed image (the fast CDP path is unavailable, so the plain one is used)."""

    def __init__(self, image: bytes):
        self.image = image

    @property
    def context(self):
        raise RuntimeError("no CDP here")

    def screenshot(self, path: str, timeout: float) -> None:
        Path(path).write_bytes(self.image)


def test_a_landing_identical_to_the_last_step_is_not_saved_twice(tmp_path):
    """Issue: the forged-IPN evidence was `05-return-ipn-bad-checksum.png`, byte-identical to step 04; the proof
    names the earlier image instead of a second copy that passes for another moment."""
    from conformance.evidence import Evidence
    from conformance.journey.payment import landing_screenshot

    run = SimpleNamespace(id="svc", suite=SimpleNamespace(evidence=Evidence(tmp_path)))
    step = run.suite.evidence.screenshot(FakePage(b"receipt"), "svc", "payment", "pay-confirm")
    same = landing_screenshot(run, SimpleNamespace(current=FakePage(b"receipt")), "return-ipn_bad_checksum")
    assert same == step and len(list((tmp_path / "evidence" / "svc" / "payment").glob("*.png"))) == 1
    other = landing_screenshot(run, SimpleNamespace(current=FakePage(b"refused")), "return-ipn_lower_amount")
    assert other != step and (tmp_path / other).read_bytes() == b"refused"
    assert run.suite.evidence.list("svc", "payment") == [step, other]
