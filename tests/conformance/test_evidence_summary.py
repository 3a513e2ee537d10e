"""Evidence files (names, masking, trace scrubbing) and summary.json (schema, completion rule)."""

from __future__ import annotations

import json
import zipfile
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


def test_a_check_not_run_is_skipped_and_blocks_completion():
    suite = fake_suite(TARGET)
    rec = Recorder()
    rec.record("svc", "sso", "passed", "ok")
    summary = build_summary(suite, rec)
    assert summary["services"][0]["checks"]["payment"]["verdict"] == "skipped"
    assert not summary["services"][0]["completed"]
