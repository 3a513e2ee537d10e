"""`conformance.runner.run` against the reference ministry system: all checks pass with no defect, and a
representative defect per check fails exactly that check with a reason naming the rule."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from conformance.runner import run
from kiemthu.demo import DEMO_TARGET, SECRET_VARS, demo_environment, start_reference_system
from kiemthu.runtime import make_run_dir
from kiemthu.target import load_target
from schemas import validator

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SERVICE = "lltp-cap-phieu"  # toàn trình with a fee: exercises all four checks


def run_suite(tmp_path: Path, defects: list[str], checks: tuple[str, ...] = ()) -> tuple[int, dict, Path]:
    demo_environment()
    target = load_target(DEMO_TARGET)
    run_dir = make_run_dir(tmp_path / ("run-" + ("-".join(defects) or "clean")))
    with start_reference_system(target, run_dir, defects):
        code = run(target=DEMO_TARGET, output=run_dir, services=[SERVICE], checks=list(checks), headed=False,
                   build_report=False, defects=defects)
    return code, json.loads((run_dir / "summary.json").read_text(encoding="utf-8")), run_dir


def test_reference_system_passes_every_check(tmp_path):
    code, summary, run_dir = run_suite(tmp_path, [])
    assert not list(validator("summary").iter_errors(summary))
    svc = summary["services"][0]
    assert code == 0, {k: v.get("reason") for k, v in svc["checks"].items()}
    assert svc["completed"] and {c["verdict"] for c in svc["checks"].values()} <= {"passed", "passed_with_exceptions", "warning"}
    assert len(svc["dossier_codes"]) == 1 and svc["dossier_codes"][0].startswith("000.00.00.G15-")
    # the disallowed-upload probe ran and was refused: no warning, and its generated file is gone
    rules = {r["rule_id"]: r["verdict"] for r in svc["checks"]["submission"]["rules"]}
    assert rules["ensure_disallowed_upload_refused"] == "passed"
    assert not (run_dir / "evidence" / "tmp").exists()
    for check in ("sso", "submission", "payment", "processing"):
        folder = run_dir / "evidence" / SERVICE / check
        assert (folder / "rules.json").is_file() and (folder / "trace.zip").is_file(), check
        assert list(folder.glob("*.png")), check
    assert (run_dir / "journal.jsonl").stat().st_size > 0 and (run_dir / "junit.xml").is_file()
    # the payment's journal slice holds the whole payment, the first (lower-amount) attempt included
    slice_ = json.loads((run_dir / "evidence" / SERVICE / "payment" / "journal.json").read_text(encoding="utf-8"))
    assert {(e.get("request") or {}).get("adversarial") for e in slice_["entries"]} >= {"ipn_lower_amount", "ipn_bad_checksum"}
    assert list((run_dir / "allure-results").glob("*-attachment.png"))
    # the live progress channel: each check started and ended, with the steps played in between
    events = [json.loads(line) for line in (run_dir / "progress.jsonl").read_text(encoding="utf-8").splitlines()]
    ended = {e["check"]: e["verdict"] for e in events if e["event"] == "check" and e["state"] == "end"}
    assert ended == {c: v["verdict"] for c, v in svc["checks"].items()}
    assert {e["check"] for e in events if e["event"] == "step"} >= {"sso", "submission", "payment"}
    # Allure: a step per flow step with its real duration, Vietnamese titles, suites by system › check › service,
    # environment and executor filled in
    results = [json.loads(p.read_text(encoding="utf-8")) for p in (run_dir / "allure-results").glob("*-result.json")]
    assert len({r["name"] for r in results}) == len(results) == 4
    for r in results:
        labels = {(label["name"], label["value"]) for label in r["labels"]}
        suite = next(v for n, v in labels if n == "suite")
        assert r["name"].startswith(suite + " — ") and suite.startswith("Kiểm tra")
        assert not any(n == "suite" and v.startswith("conformance") for n, v in labels)
    # each check tells its own flows' steps, even those run while an earlier check needed them
    assert all(r.get("steps") for r in results), [r["name"] for r in results if not r.get("steps")]
    steps = [s for r in results for s in r.get("steps", [])]
    rule_rows = [child["name"] for s in steps if s["name"].startswith("Các quy tắc") for child in s["steps"]]
    assert "Từ chối ID token ký bằng khoá lạ (ensure_login_refused[id_token_foreign_key])" in rule_rows
    assert any(s["name"].startswith("Công dân đăng nhập qua Cổng DVCQG: ") for s in steps)
    assert max(s["stop"] - s["start"] for s in steps) > 50  # milliseconds: the work, not the bookkeeping
    env = (run_dir / "allure-results" / "environment.properties").read_text(encoding="utf-8")
    assert f"Ma_lan_chay={summary['run_id']}" in env
    assert json.loads((run_dir / "allure-results" / "executor.json").read_text(encoding="utf-8"))["buildName"].endswith(summary["run_id"])
    # secrets never land in the run directory, not even inside traces
    secrets = [os.environ[v].encode() for v in SECRET_VARS]
    for path in run_dir.rglob("*"):
        if not path.is_file():
            continue
        blobs = [path.read_bytes()]
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as z:
                blobs = [z.read(n) for n in z.namelist()]
        for blob in blobs:
            assert not any(s in blob for s in secrets), path


@pytest.mark.parametrize("defect, check, rule", [
    ("id-token-audience-not-verified", "sso", "ensure_login_refused"),
    ("wrong-kenh-thuc-hien", "submission", "ensure_synced_channel_online"),
    ("fee-mismatch", "payment", "ensure_amount_matches_fee"),
    ("status-skipped", "processing", "ensure_each_step_synced"),
])
def test_a_seeded_defect_fails_its_check_naming_the_rule(tmp_path, defect, check, rule):
    code, summary, _ = run_suite(tmp_path, [defect])
    svc = summary["services"][0]
    assert code == 1 and not svc["completed"]
    assert svc["checks"][check]["verdict"] == "failed"
    assert rule in svc["checks"][check]["reason"] or any(
        r["rule_id"] == rule and r["verdict"] == "failed" for r in svc["checks"][check]["rules"])
    assert summary["defects"] == [defect]


def test_an_accepted_disallowed_upload_is_a_warning_naming_the_rule(tmp_path):
    code, summary, run_dir = run_suite(tmp_path, ["upload-type-not-checked"], checks=("submission",))
    svc = summary["services"][0]
    check = svc["checks"]["submission"]
    assert code == 0 and check["verdict"] == "warning", check.get("reason")
    assert "ensure_disallowed_upload_refused" in check["reason"]
    assert {r["rule_id"]: r["verdict"] for r in check["rules"]}["ensure_disallowed_upload_refused"] == "warning"
    probe = json.loads((run_dir / "evidence" / SERVICE / "submission" / "upload-probe.json").read_text(encoding="utf-8"))
    assert probe["outcome"] == "accepted" and probe["codes"] and probe["codes"][0] in svc["notes"]
    assert (run_dir / probe["where"]).is_file()  # the one screenshot the probe takes: the dossier that should not exist


def test_configuration_errors_exit_2(tmp_path):
    bad = tmp_path / "target.yaml"
    data = (DEMO_TARGET).read_text(encoding="utf-8").replace("  flows:\n", "  flows:\n    pay_twice: []\n", 1)
    bad.write_text(data, encoding="utf-8")
    demo_environment()
    assert run(target=bad, output=tmp_path / "out", services=[], checks=[], headed=False, build_report=False) == 2
    assert not (tmp_path / "out").exists()  # refused before anything ran: no run directory, no mock left running


def test_manual_officer_mode_waits_for_a_person_in_the_back_office(tmp_path):
    """With `officer.mode: manual` the suite prompts and watches the portal journal while a person (here a thread
    using the back office over HTTP) processes the dossier; the processing check then passes on what reached the
    portal."""
    import re
    import threading

    from conformance.portal import PortalClient
    from kiemthu.runtime import wait_until
    from tests.ministry.driver import Officer

    demo_environment()
    text = DEMO_TARGET.read_text(encoding="utf-8").replace("  mode: automated\n", "  mode: manual\n  manual_deadline_s: 90\n", 1)
    manual = tmp_path / "target.yaml"
    manual.write_text(text, encoding="utf-8")
    target = load_target(manual)
    run_dir = make_run_dir(tmp_path / "run-manual")
    done: list[str] = []

    def person() -> None:
        log = run_dir / "logs" / "pytest.log"
        wait_until(lambda: log.is_file() and "officer action needed" in log.read_text(encoding="utf-8"), 120,
                   interval=0.2, what="the prompt to the officer")
        entries = PortalClient(target["portal"]["base_url"]).journal(service="DongBoHoSoMC")  # the run's mock
        codes = sorted({c for e in entries for c in e.get("dossier_codes", [])
                        if re.fullmatch(r"\S+-\d{6}-\d{4}", c)})
        officer = Officer(target["system"]["base_url"], target["officer"]["username"],
                          target.secret("officer.password"))
        for action in ("tiep-nhan", "xu-ly", "phe-duyet", "tra-ket-qua"):
            officer.act(codes[-1], action)
        done.append(codes[-1])

    with start_reference_system(target, run_dir, []):
        helper = threading.Thread(target=person, daemon=True)
        helper.start()
        code = run(target=manual, output=run_dir, services=[SERVICE], checks=[], headed=False, build_report=False)
        helper.join(5)
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    check = summary["services"][0]["checks"]["processing"]
    assert done and code == 0 and check["verdict"] == "passed", check.get("reason")
    assert summary["services"][0]["dossier_codes"] == done


def test_a_system_switching_off_the_negative_cases_cannot_turn_them_into_passes(tmp_path):
    """Defence in depth, for a system under test that has got the control access anyway (same OS user).
    Issue: a process polling `/_mock/adversarial` and clearing every armed mode turned
    `--defect ipn-checksum-not-verified` into four "Đạt" and "Hoàn thành: Có". A negative case whose forged message
    the journal does not show is not evaluated, its check inconclusive (or failed), and the run not complete; a
    negative case judged passed has its forged exchange in the journal; and no SSO case becomes a false failure."""
    import subprocess
    import sys

    demo_environment()
    target = load_target(DEMO_TARGET)
    cleared = tmp_path / "cleared.jsonl"
    cleared.touch()
    attacker = subprocess.Popen([sys.executable, str(Path(__file__).with_name("disarm_attacker.py")),
                                 target["portal"]["base_url"], str(cleared)])
    try:
        run_dir = make_run_dir(tmp_path / "run-disarmed")
        with start_reference_system(target, run_dir, ["ipn-checksum-not-verified"]):
            code = run(target=DEMO_TARGET, output=run_dir, services=[SERVICE], checks=[], headed=False,
                       build_report=False, defects=["ipn-checksum-not-verified"])
    finally:
        attacker.kill()
        attacker.wait()
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert not list(validator("summary").iter_errors(summary))
    svc = summary["services"][0]
    journal = [json.loads(line) for line in (run_dir / "journal.jsonl").read_text(encoding="utf-8").splitlines()]
    from conformance.journal import adversarial_mode

    served = {adversarial_mode(e) for e in journal} - {None}
    switched_off = {json.loads(line)["mode"] for line in cleared.read_text(encoding="utf-8").splitlines()}
    assert switched_off, "the attacker never saw an armed mode: this test proves nothing"
    negatives = [r for c in ("sso", "payment") for r in svc["checks"][c]["rules"]
                 if r["rule_id"] in ("ensure_login_refused", "ensure_bad_ipn_refused")]
    assert len([r for r in negatives if r["rule_id"] == "ensure_login_refused"]) == 8
    for r in negatives:
        if r["variant"] not in served:  # never performed: neither a pass nor a (false) failure
            assert r["verdict"] == "not_evaluated" and r["note"], r
        elif r["verdict"] == "passed":
            assert any(p.endswith(f"exchange-{r['variant']}.json") for p in r.get("evidence", [])), r
    assert svc["checks"]["sso"]["verdict"] in ("passed", "inconclusive")  # the SSO client has no defect here
    if switched_off & {r["variant"] for r in negatives if r["rule_id"] == "ensure_login_refused"} - served:
        assert svc["checks"]["sso"]["verdict"] == "inconclusive"
    assert svc["checks"]["payment"]["verdict"] in ("failed", "inconclusive")
    assert code == 1 and not svc["completed"]
