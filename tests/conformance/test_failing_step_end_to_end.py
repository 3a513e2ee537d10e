"""A target whose payment step names a button by a prefix of its accessible name, run against the reference
system: the payment fails once, at that step, with a message naming the locator, the page and the whole name found;
the payment flow is not played a second time after it stopped; the logout after it begins at the system's base
URL and passes; the console shows no harness traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.runner import run
from kiemthu.demo import DEMO_TARGET, SECRET_VARS, demo_environment, start_reference_system
from kiemthu.runtime import make_run_dir
from kiemthu.target import load_target

pytestmark = [pytest.mark.browser, pytest.mark.slow]
SERVICE = "lltp-cap-phieu"
WHOLE, PREFIX = 'name: "Xác nhận thanh toán"', 'name: "Xác nhận"'


def test_a_failing_payment_step_is_told_once_with_the_nearest_name(tmp_path: Path, monkeypatch, capsys):
    for name in ("KIEMTHU_MOCK_PORT", "KIEMTHU_MINISTRY_PORT", "KIEMTHU_PUBLICATION_DATE", *SECRET_VARS):
        monkeypatch.delenv(name, raising=False)
    demo_environment()
    text = DEMO_TARGET.read_text(encoding="utf-8")
    assert text.count(WHOLE) == 1
    target_file = tmp_path / "target.yaml"  # its scenarios are found in the harness's scenarios/
    target_file.write_text(text.replace(WHOLE, PREFIX), encoding="utf-8")
    run_dir = make_run_dir(tmp_path / "run")
    with start_reference_system(load_target(target_file), run_dir):
        code = run(target=target_file, output=run_dir, services=[SERVICE], checks=["sso", "payment"], headed=False,
                   build_report=False)
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    checks = summary["services"][0]["checks"]
    assert code == 1 and checks["payment"]["verdict"] == "failed", checks["payment"].get("reason")
    assert "the payment flow stopped: pay step 4" in checks["payment"]["reason"]  # the step, not only "no return"
    forged = [json.dumps(r, ensure_ascii=False) for r in checks["payment"]["rules"] if r["rule_id"] == "ensure_bad_ipn_refused"]
    assert any("not played again" in r for r in forged), forged
    assert checks["sso"]["verdict"] in ("passed", "passed_with_exceptions", "warning"), checks["sso"].get("reason")

    flows = {f["flow"]: f for f in json.loads((run_dir / "evidence" / SERVICE / "flows.json").read_text(encoding="utf-8"))["flows"]}
    failed = [s for s in flows["pay"]["steps"] if not s["ok"]]
    assert len(failed) == 1, flows["pay"]["steps"]  # stopped once: not played again
    message = flows["pay"]["error"]
    assert "pay step 4" in message and "no button named 'Xác nhận'" in message, message
    assert 'nearest accessible names on the page: button "Xác nhận thanh toán"' in message, message
    assert "http://127.0.0.1:" in message and "Timeout" not in message
    assert flows["logout"]["ok"], flows["logout"]["error"]

    shown = capsys.readouterr()
    assert "executor.py" not in shown.out + shown.err and "Traceback" not in shown.out + shown.err
