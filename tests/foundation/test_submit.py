"""`kiemthu submit RUN_DIR`: the run's summary goes to the portal's admin system (QT-VPB-16 Bước 5: "gửi về Văn
phòng Chính phủ trên hệ thống quản trị với các thông tin: Tên dịch vụ công; mã số hồ sơ dịch vụ công trực tuyến đã
hoàn thành kiểm thử"); the answer is kept in submission.json and the run history, and the report shows it."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

import httpx
import pytest
from rich.console import Console

from kiemthu.runtime import VN_TZ, free_port
from kiemthu.submit import submit_run
from schemas import validator
from mocks.settings import AdapterAccount
from tests.mocks.conftest import Agency, make_settings
from tests.mocks.helpers import AGENCY, ThreadServer, dossier_code
from tests.mocks.test_admin import control, portal  # noqa: F401 (fixtures on this module's server)
from tests.mocks.test_admin import FULL, OTHER, OTHER_PASSWORD, OTHER_USER, pay, sessions, sync

RUN_ID = "20261202-101500-ab12"


@pytest.fixture(scope="module")
def server():
    agency = Agency()  # answers the payment platform's IPN
    agency_server = ThreadServer(agency.app).start()
    port = free_port()
    settings = make_settings(f"http://127.0.0.1:{port}", agency_server.url)
    settings.adapter_accounts.append(AdapterAccount(OTHER_USER, OTHER_PASSWORD, OTHER))
    settings.publication_date = datetime.now(VN_TZ).date().isoformat()  # as `kiemthu demo` sets it
    s = ThreadServer.mock_portal(settings).start()
    yield s
    s.stop()
    agency_server.stop()


def check(verdict: str = "passed") -> dict:
    return {"verdict": verdict, "reason": "", "rules": [], "evidence": []}


def write_run(tmp_path, portal_url: str, lltp_codes: list[str], lltp_completed: bool = True):
    run_dir = tmp_path / RUN_ID
    run_dir.mkdir()
    now = datetime.now(VN_TZ).isoformat(timespec="seconds")
    services = [
        {"id": "lltp-cap-phieu", "MaTTHC": "2.001417", "TenTTHC": "Cấp Phiếu lý lịch tư pháp", "MaDVC": "2.001417.01",
         "TenDVC": "Cấp Phiếu lý lịch tư pháp trực tuyến", "level": "toan_trinh", "dossier_codes": lltp_codes,
         "checks": {c: check() for c in ("sso", "submission", "payment", "processing")}, "completed": lltp_completed},
        {"id": "khai-sinh", "MaTTHC": "1.001193", "TenTTHC": "Thủ tục đăng ký khai sinh", "MaDVC": "1.001193.01",
         "TenDVC": "Đăng ký khai sinh trực tuyến", "level": "toan_trinh", "dossier_codes": [dossier_code(8)],
         "checks": {"sso": check(), "submission": check("failed")}, "completed": False},
    ]
    summary = {"schema_version": 1, "run_id": RUN_ID, "harness_version": "0.1.0", "profile": "dvcqg-1.0",
               "target": {"name": "Hệ thống một cửa Bộ Tư pháp", "base_url": "http://127.0.0.1:9",
                          "agency_code": AGENCY, "agency_name": "Bộ Tư pháp", "portal_url": portal_url},
               "tester": "Tổ kiểm thử", "publication_date": datetime.now(VN_TZ).date().isoformat(),
               "started_at": now, "finished_at": now, "services": services}
    assert not list(validator("summary").iter_errors(summary))
    (run_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False), encoding="utf-8")
    return run_dir


def export_journal(control: httpx.Client, run_dir) -> None:
    entries = control.get("/_mock/journal", params={"limit": 10000}).json()["entries"]
    (run_dir / "journal.jsonl").write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries),
                                           encoding="utf-8")


def quiet() -> Console:
    return Console(record=True, width=160, force_terminal=False)


def test_a_completed_service_is_submitted_confirmed_stored_and_shown(tmp_path, portal, control, server, monkeypatch):
    """Only services that completed testing are sent; the answer lands in submission.json, the history, the report."""
    monkeypatch.setenv("KIEMTHU_HISTORY_DB", str(tmp_path / "history.sqlite"))
    code = dossier_code(1)
    sync(portal, sessions(portal)[AGENCY], code, FULL)
    pay(portal, code, "REF-SUBMIT-1")
    run_dir = write_run(tmp_path, server.url, [code])
    export_journal(control, run_dir)  # the report is built only from a summary the portal's own journal bears out
    console = quiet()
    assert submit_run(run_dir, console=console) == 0, console.export_text()
    stored = json.loads((run_dir / "submission.json").read_text(encoding="utf-8"))
    assert [s["MaDVC"] for s in stored["request"]["DanhSachDichVu"]] == ["2.001417.01"]  # khai-sinh not completed
    assert stored["request"]["DanhSachDichVu"][0]["DanhSachMaHoSo"] == [code]
    assert [(s["MaDVC"], s["KetQua"]) for s in stored["reply"]["result"]["DanhSachDichVu"]] == [("2.001417.01", "confirmed")]
    with sqlite3.connect(tmp_path / "history.sqlite") as conn:
        assert conn.execute("SELECT run_id, ma_dvc, outcome FROM submissions").fetchall() == \
            [(RUN_ID, "2.001417.01", "confirmed")]
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    assert "Xác nhận kết quả kiểm thử của hệ thống quản trị Cổng DVCQG" in html
    assert "Xác nhận hoàn thành kiểm thử" in html
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    assert "submission.json" in json.dumps(manifest)


def test_a_returned_service_names_its_reason_and_exits_1(tmp_path, portal, server, monkeypatch):
    monkeypatch.setenv("KIEMTHU_HISTORY_DB", str(tmp_path / "history.sqlite"))
    code = dossier_code(2)
    sync(portal, sessions(portal)[AGENCY], code, FULL)  # never paid
    run_dir = write_run(tmp_path, server.url, [code])
    console = quiet()
    assert submit_run(run_dir, console=console, rebuild=False) == 1
    assert "chưa được thanh toán trực tuyến" in console.export_text()
    reply = json.loads((run_dir / "submission.json").read_text(encoding="utf-8"))["reply"]
    assert [r["code"] for r in reply["result"]["DanhSachDichVu"][0]["LyDo"]] == ["unpaid"]


def test_dry_run_prints_exactly_what_would_be_sent_and_sends_nothing(tmp_path, portal, control, server):
    code = dossier_code(3)
    run_dir = write_run(tmp_path, server.url, [code])
    console = quiet()
    assert submit_run(run_dir, dry_run=True, console=console) == 0
    out = console.export_text()
    assert f"POST {server.url}/quantri/kiemthu/ket-qua" in out and f"dstcode: {AGENCY}" in out
    body = json.loads(out[out.index("{"):out.rindex("}") + 1])
    assert "nothing sent" in out
    assert body["MaDonVi"] == AGENCY and body["DanhSachDichVu"][0]["DanhSachMaHoSo"] == [code]
    assert not list(validator("KetQuaKiemThu", "dvcqg-1.0").iter_errors(body))
    assert not (run_dir / "submission.json").exists()
    assert control.get("/_mock/journal", params={"role": "admin"}).json()["entries"] == []


def test_a_portal_that_is_gone_is_named_with_the_ways_out(tmp_path):
    run_dir = write_run(tmp_path, f"http://127.0.0.1:{free_port()}", [dossier_code(4)])
    console = quiet()
    assert submit_run(run_dir, console=console) == 3
    text = console.export_text()
    assert "does not answer" in text and "--dry-run" in text and "kiemthu demo --submit" in text
    assert not (run_dir / "submission.json").exists()


def test_nothing_completed_means_nothing_to_submit(tmp_path):
    run_dir = write_run(tmp_path, "http://127.0.0.1:9", [dossier_code(5)], lltp_completed=False)
    console = quiet()
    assert submit_run(run_dir, dry_run=True, console=console) == 2
    assert "nothing to submit" in console.export_text()
