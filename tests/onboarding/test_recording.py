"""A journey recorded with `playwright codegen --target python` becomes adapter steps: the same accessible locators,
popups and page switches, the scenario's fields and documents as data-driven steps, and what has no adapter
equivalent listed instead of guessed."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conformance.adapter.dsl import validate_adapter
from kiemthu.recording import RecordingError, convert_codegen
from scenarios import ROOT as SCENARIOS
from scenarios import load_scenario
from tests.conftest import run_cli

DATA = Path(__file__).parent / "data"
SUBMIT = (DATA / "recorded-submit.py").read_text(encoding="utf-8")
OTHER = (DATA / "recorded-officer.py").read_text(encoding="utf-8")


def valid(steps: list[dict]) -> list[str]:
    return validate_adapter({"flows": {"citizen_login": [{"goto": "{system.base_url}/"}], "submit": steps}})


def test_each_recorded_action_becomes_the_step_with_the_same_locator():
    out = convert_codegen(OTHER)
    assert out.steps == [
        {"goto": "http://127.0.0.1:8601/ho-so/000.00.00.G15-261202-0001"},
        {"popup": {"click": {"role": "link", "name": "Thanh toán trực tuyến"}}},
        {"check": {"role": "radio", "name": "Vietcombank"}},
        {"click": {"role": "button", "name": "Xác nhận thanh toán", "exact": True}},
        {"switch": "main"},
        {"click": {"role": "button", "name": "Tiếp nhận", "row": "000.00.00.G15-261202-0001 Mới"}},
        {"click": {"role": "link", "name": "Xem kết quả", "nth": 0}},
        {"select": {"label": "Loại giấy tờ", "value": "KQ.G15.000007"}},
        {"fill": {"css": "#ghi-chu", "value": "Đủ điều kiện"}},
        {"fill": {"placeholder": "Tìm mã hồ sơ", "value": "000.00.00.G15"}},
        {"expect": {"text": "Đang xử lý", "state": "hidden"}},
    ]
    assert valid(out.steps) == []
    assert len(out.skipped) == 1 and "hover" in out.skipped[0] and out.skipped[0].startswith("line 20:")


def test_without_a_scenario_fills_and_uploads_stay_as_recorded_without_focus_clicks():
    out = convert_codegen(SUBMIT)
    assert {"fill": {"label": "Mục đích sử dụng Phiếu", "value": "Bổ sung hồ sơ xin việc"}} in out.steps
    assert {"upload": {"label": "Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "file": "to-khai.pdf"}} in out.steps
    assert {"click": {"label": "Mục đích sử dụng Phiếu"}} not in out.steps  # the click before the fill
    assert any("Control+C" in line for line in out.skipped)
    assert valid(out.steps) == []


def test_with_the_scenario_the_published_fields_and_documents_become_data_driven_steps():
    out = convert_codegen(SUBMIT, load_scenario(SCENARIOS / "lltp-cap-phieu.yaml"))
    kinds = [next(iter(step)) for step in out.steps]
    assert kinds == ["goto", "expect", "inventory", "fill", "click", "inventory", "upload", "check", "click", "click"]
    assert out.steps[3] == {"fill": {"fields": "all"}}
    assert out.steps[6] == {"upload": {"documents": "required",
                                       "khodl": {"label": "Lấy từ Kho dữ liệu: {document.TenThanhPhanHoSo}"}}}
    assert out.steps[7] == {"check": {"label": "Tôi xin cam đoan những thông tin khai trên là đúng sự thật"}}
    assert valid(out.steps) == []


def test_a_script_that_is_not_a_recording_is_refused_by_name():
    with pytest.raises(RecordingError, match="syntax error at line 1"):
        convert_codegen("page.goto(", name="x.py")
    with pytest.raises(RecordingError, match="at least one page action"):
        convert_codegen("print('hello')\n", name="x.py")


def test_init_from_a_recording_writes_it_as_the_submit_flow(tmp_path):
    path = tmp_path / "target.yaml"
    out = run_cli("init", str(path), "--non-interactive", "--base-url", "http://127.0.0.1:8601", "--agency-code",
                  "000.00.00.G15", "--service", "2.001417", "--from-recording", str(DATA / "recorded-submit.py"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "not converted" in out.stdout and "Control+C" in out.stdout
    submit = yaml.safe_load(path.read_text(encoding="utf-8"))["adapter"]["flows"]["submit"]
    assert {"fill": {"fields": "all"}} in submit and submit[-1]["capture"]["name"] == "dossier_code"
    assert submit[0]["goto"].startswith("{system.base_url}/dvc/nop-ho-so?")  # follows the target's address
    assert "recorded with playwright codegen" in path.read_text(encoding="utf-8")
    missing = run_cli("init", str(tmp_path / "other" / "target.yaml"), "--non-interactive", "--base-url", "http://127.0.0.1:8601",
                      "--agency-code", "000.00.00.G15", "--service", "2.001417", "--from-recording", "nope.py")
    assert missing.returncode == 2 and "nope.py" in missing.stdout + missing.stderr
    assert not (tmp_path / "other").exists()  # refused before anything is written
