"""Sample run directories as the conformance suite writes them: three services, one of which failed."""

from __future__ import annotations

import copy
import os
from datetime import date
import json
import shutil
import zlib
import struct
from pathlib import Path

import pytest

from schemas import load_schema, validator

# the verdict words the summary schema of this checkout allows (older schemas say "skipped")
_DEFS = load_schema("summary")["$defs"]
RULE_NOT_EVALUATED = "not_evaluated" if "not_evaluated" in _DEFS["verdict"]["enum"] else "skipped"
CHECK_NOT_RUN = "skipped" if "skipped" in _DEFS.get("check_verdict", _DEFS["verdict"])["enum"] else "not_applicable"


def conform(summary: dict) -> dict:
    """A summary in this checkout's schema words: rule 'skipped' as not evaluated, every check with its reason."""
    for service in summary["services"]:
        for check in service["checks"].values():
            check.setdefault("reason", "")
            if check["verdict"] == "skipped":
                check["verdict"] = CHECK_NOT_RUN
            for rule in check.get("rules", []):
                if rule["verdict"] in ("skipped", "not_evaluated"):
                    rule["verdict"] = RULE_NOT_EVALUATED
                    rule.setdefault("note", "not run")
    return summary

RUN_ID = "20261116-091502-a3f9"
PUBLICATION = "2026-11-12"  # a Thursday; the deadline is Thursday 2026-11-19
DOSSIER_PATTERN = r"^[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[A-Z][0-9]{2}-[0-9]{6}-[0-9]{4}$"


def rule(rule_id, clause, title, verdict="passed", **extra):
    return {"rule_id": rule_id, "clause": clause, "title": title, "verdict": verdict, **extra}


def passed_check(evidence, *rules, reason=""):
    out = {"verdict": "passed", "rules": list(rules), "evidence": evidence, "duration_s": 2.4}
    if reason:
        out["reason"] = reason
    return out


def sso_check(service):
    return passed_check(
        [f"evidence/{service}/sso/01-portal-login.png", f"evidence/{service}/sso/journal.json"],
        rule("ensure_no_second_login", "QT-VPB-16 mục 4.1", "Không yêu cầu đăng nhập lại sau khi SSO từ Cổng DVCQG",
             expected="đã đăng nhập", actual="đã đăng nhập", where=f"evidence/{service}/sso/01-portal-login.png"),
        rule("ensure_userinfo_techid_mapped", "Cổng DVCQG SSO: TechID", "Tài khoản được ánh xạ theo TechID",
             expected="TechID", actual="TechID", where="journal#12"),
    )


def submission_check(service, code):
    return passed_check(
        [f"evidence/{service}/submission/form.png", f"evidence/{service}/submission/journal.json"],
        rule("ensure_dossier_code_format", "TT01/2018-VPCP art.19",
             "Mã hồ sơ có dạng <mã cơ quan>-<YYMMDD>-<số thứ tự 4 chữ số>", expected="V1V2V3.Z1Z2.Y1Y2.MX1X2-YYMMDD-XXXX",
             actual=code, where="journal#31"),
        rule("ensure_dossier_synced_with_status", "DongBoHoSoMC", "Hồ sơ được đồng bộ lên Cổng với trạng thái 1 hoặc 2",
             expected=["1", "2"], actual="1", where="journal#33"),
    )


def processing_check(service, verdict="passed", reason=""):
    rules = [
        rule("ensure_progress_after_dossier", "CapNhatTienDoHoSoMC", "Tiến độ chỉ gửi sau khi hồ sơ đã có trên Cổng"),
        rule("ensure_status_code_in_range", "TrangThaiHoSo 1–10", "Mã trạng thái đồng bộ nằm trong 1–10",
             verdict=verdict, severity="failure", expected="1..10", actual="11" if verdict == "failed" else "4",
             where="journal#58"),
        rule("ensure_result_has_type_code", "DanhSachGiayToKetQua", "Kết quả điện tử có mã loại kết quả và đường dẫn tệp",
             verdict="passed" if verdict == "passed" else "skipped"),
    ]
    out = passed_check([f"evidence/{service}/processing/journal.json", f"evidence/{service}/processing/trace.zip"], *rules)
    out["verdict"], out["reason"] = verdict, reason
    return out


def sample_summary() -> dict:
    lltp_code, ks_code, kh_code = "000.00.00.G15-261116-0001", "000.00.00.G15-261116-0002", "000.00.00.G15-261116-0003"
    data = {
        "schema_version": 1,
        "run_id": RUN_ID,
        "harness_version": "0.1.0",
        "profile": "dvcqg-1.0",
        "target": {
            "name": "Hệ thống thông tin giải quyết TTHC Bộ Tư pháp",
            "base_url": "https://motcua.moj.gov.vn",
            "agency_code": "000.00.00.G15",
            "agency_name": "Bộ Tư pháp",
            "file": "examples/ministry/target.yaml",
            "portal_url": "http://127.0.0.1:8800",
        },
        "tester": "Nguyễn Thị Hằng",
        "publication_date": PUBLICATION,
        "defects": [],
        "started_at": "2026-11-16T09:15:02+07:00",
        "finished_at": "2026-11-16T09:21:47+07:00",
        "services": [
            {
                "id": "lltp-cap-phieu", "MaTTHC": "2.001417",
                "TenTTHC": "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam",
                "MaDVC": "2.001417.01", "TenDVC": "Cấp Phiếu lý lịch tư pháp trực tuyến", "level": "toan_trinh",
                "dossier_codes": [lltp_code],
                "checks": {
                    "sso": sso_check("lltp-cap-phieu"),
                    "submission": submission_check("lltp-cap-phieu", lltp_code),
                    "payment": passed_check(
                        ["evidence/lltp-cap-phieu/payment/ipn.json"],
                        rule("ensure_init_checksum", "Nền tảng thanh toán: MaXacThuc (INIT)",
                             "Bản tin INIT có MaXacThuc đúng", expected="sha256 hợp lệ", actual="sha256 hợp lệ"),
                        rule("ensure_ipn_bad_checksum_rejected", "Nền tảng thanh toán: IPN",
                             "Từ chối bản tin IPN sai MaXacThuc", expected="MaLoi ≠ 00", actual="99"),
                        rule("ensure_thoigiangd_24h", "ThoiGianGD yyyyMMddHHmmss", "ThoiGianGD dùng đồng hồ 24 giờ",
                             expected="20261116143005", actual="20261116143005"),
                    ),
                    "processing": processing_check("lltp-cap-phieu"),
                },
                "completed": True,
                "notes": "",
            },
            {
                "id": "khai-sinh", "MaTTHC": "1.001193", "TenTTHC": "Thủ tục đăng ký khai sinh",
                "MaDVC": "1.001193.01", "TenDVC": "Đăng ký khai sinh trực tuyến", "level": "toan_trinh",
                "dossier_codes": [ks_code],
                "checks": {
                    "sso": sso_check("khai-sinh"),
                    "submission": submission_check("khai-sinh", ks_code),
                    "payment": {"verdict": "not_applicable", "reason": "Thủ tục miễn lệ phí", "rules": []},
                    "processing": processing_check("khai-sinh"),
                },
                "completed": True,
            },
            {
                "id": "ket-hon", "MaTTHC": "1.000894", "TenTTHC": "Thủ tục đăng ký kết hôn",
                "MaDVC": "1.000894.01", "TenDVC": "Đăng ký kết hôn trực tuyến", "level": "mot_phan",
                "dossier_codes": [kh_code],
                "checks": {
                    "sso": sso_check("ket-hon"),
                    "submission": submission_check("ket-hon", kh_code),
                    "payment": {"verdict": "not_applicable", "reason": "Thủ tục miễn lệ phí", "rules": []},
                    "processing": processing_check(
                        "ket-hon", "failed",
                        "ensure_status_code_in_range: mong đợi 1..10, thực tế \"11\" (journal#58)"),
                },
                "completed": False,
                "notes": "",
            },
        ],
        "totals": {"services": 3, "completed": 2},
    }
    return conform(data)


def tiny_png() -> bytes:
    """A valid 1x1 PNG, so evidence files look like the real thing."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="kiemthu" tests="12" failures="1" errors="0" skipped="1" time="405.1">
<testcase classname="conformance.checks.processing" name="test_processing[ket-hon]" time="31.0">
<failure message="ensure_status_code_in_range">expected 1..10, actual "11"</failure></testcase>
</testsuite></testsuites>
"""


def portal_journal(summary: dict) -> list[dict]:
    """What the mock portal journals for the summary's claims, one entry per role and service: each dossier
    synced through its statuses (with the result when processing passed), and paid when payment passed."""
    entries: list[dict] = []

    def add(role, service, codes, request, response, direction="in"):
        entries.append({"id": len(entries) + 1, "role": role, "direction": direction, "method": "POST",
                        "path": f"/{role}", "service": service, "dossier_codes": codes,
                        "payment_ref": codes[0] if codes and role in ("payment", "ipn") else "", "status_code": 200,
                        "request": request, "response": response, "error": ""})

    add("sso", "authorize", [], {}, {})
    add("sso", "token", [], {}, {})
    for service in summary["services"]:
        codes = service["dossier_codes"]
        processed = service["checks"].get("processing", {}).get("verdict") == "passed"
        items = []
        for code in codes:
            record = {"MaHoSo": code, "MaTTHC": service.get("MaTTHC"), "MaDVC": service.get("MaDVC")}
            items.append({**record, "TrangThaiHoSo": "1"})
            if processed:
                items += [{**record, "TrangThaiHoSo": s} for s in ("2", "4", "9")]
                items.append({**record, "TrangThaiHoSo": "10", "DanhSachGiayToKetQua": [{"MaGiayToKetQua": "KQ"}]})
        add("adapter", "DongBoHoSoMC", codes, {"data": items}, {"error_code": 0, "message": "Thành công"})
        if codes and service["checks"].get("payment", {}).get("verdict") == "passed":
            add("payment", "INIT", codes[:1], {"MaThamChieu": codes[0], "SoTien": "200000"}, {"MaLoi": "00"})
            add("ipn", "IPN", codes[:1], {"MaLoi": "00", "MaThamChieu": codes[0]}, {"MaLoi": "00"}, direction="out")
    return entries


def write_run_dir(run_dir: Path, summary: dict | None = None, journal: list[dict] | None = None) -> Path:
    """A run directory with summary.json, junit.xml, journal.jsonl and every evidence file the summary names.

    The journal is `journal` when given, else what the portal would have recorded for the summary's claims.
    """
    summary = conform(copy.deepcopy(summary or sample_summary()))
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "logs").mkdir(exist_ok=True)
    (run_dir / "logs" / "mock.log").write_text("INFO mocks: started\n", encoding="utf-8")
    (run_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    (run_dir / "junit.xml").write_text(JUNIT, encoding="utf-8")
    entries = portal_journal(summary) if journal is None else journal
    (run_dir / "journal.jsonl").write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries),
                                           encoding="utf-8")
    for service in summary["services"]:
        for check in service["checks"].values():
            for rel in check.get("evidence", []):
                path = run_dir / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                if rel.endswith(".png"):
                    path.write_bytes(tiny_png())
                elif rel.endswith(".zip"):
                    path.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
                else:
                    path.write_text(json.dumps({"entries": [{"id": 31, "role": "adapter"}]}), encoding="utf-8")
    return run_dir


@pytest.fixture(autouse=True)
def history_db(tmp_path, monkeypatch) -> Path:
    """Each test records runs in its own history database, never in reports/out/."""
    db = tmp_path / "history.sqlite"
    monkeypatch.setenv("KIEMTHU_HISTORY_DB", str(db))
    return db


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    """Rich tables fold long cells at 80 columns; tests read whole values."""
    monkeypatch.setenv("COLUMNS", "240")


@pytest.fixture(scope="session")
def real_allure() -> str | None:
    """$KIEMTHU_ALLURE as the test session found it (the fixture below hides it from ordinary tests)."""
    return os.environ.get("KIEMTHU_ALLURE")


@pytest.fixture(autouse=True)
def no_allure(monkeypatch, real_allure):
    """Builds skip the Allure generator (slow, needs Java) unless a test asks for it."""
    monkeypatch.setenv("KIEMTHU_ALLURE", "/nonexistent/allure")


@pytest.fixture
def generator(monkeypatch, real_allure):
    """The real Allure generator, or skip (it needs npm allure-commandline and Java)."""
    from reports.allure import find_generator

    if real_allure:
        monkeypatch.setenv("KIEMTHU_ALLURE", real_allure)
    else:
        monkeypatch.delenv("KIEMTHU_ALLURE")
    found = find_generator()
    if found is None or not shutil.which("java"):
        pytest.skip("Allure generator not installed")
    return found


@pytest.fixture
def summary() -> dict:
    data = sample_summary()
    errors = list(validator("summary").iter_errors(data))
    assert not errors, [e.message for e in errors]
    return data


@pytest.fixture
def run_dir(tmp_path, summary) -> Path:
    return write_run_dir(tmp_path / "out" / RUN_ID, summary)


BUILD_DAY = date(2026, 11, 16)  # a Monday: 3 working days before the deadline of PUBLICATION


@pytest.fixture(scope="session")
def built_run(tmp_path_factory, signing_key_path) -> Path:
    """One run directory built once (Vietnamese, no Allure) for the read-only checks of the artefacts."""
    from reports.build import build

    root = tmp_path_factory.mktemp("built")
    run = write_run_dir(root / RUN_ID, sample_summary())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KIEMTHU_ALLURE", "/nonexistent/allure")
        mp.setenv("KIEMTHU_SIGNING_KEY", str(signing_key_path))
        build(run, "vi", today=BUILD_DAY, db=root / "history.sqlite")
    return run


DEMO_RUN = Path(__file__).parent / "data" / "demo-lltp"


def demo_summary() -> dict:
    """summary.json of a real `kiemthu demo -s lltp-cap-phieu` run (every check passed)."""
    return json.loads((DEMO_RUN / "summary.json").read_text(encoding="utf-8"))


def demo_journal() -> list[dict]:
    """journal.jsonl of that run: the mock portal's record of its adapter, payment and callback traffic."""
    lines = (DEMO_RUN / "journal.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture
def demo_run(tmp_path) -> Path:
    """A run folder holding the real demo run's summary and journal, with stand-ins for its evidence files."""
    return write_run_dir(tmp_path / "out" / demo_summary()["run_id"], demo_summary(), demo_journal())


def requests_made_opening(page: Path) -> list[str]:
    """Non-local requests Chromium makes while opening a page from disk (skips without a browser)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    from kiemthu.runtime import CHROMIUM_ARGS, chromium_path

    if not Path(chromium_path(headless=True)).is_file():
        pytest.skip("Chromium not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(headless=True), args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page()
            seen: list[str] = []
            tab.on("request", lambda r: seen.append(r.url))
            tab.goto(page.as_uri())
            tab.wait_for_load_state("networkidle")  # every request the page starts has been made
            assert tab.title()
        finally:
            browser.close()
    return [u for u in seen if not u.startswith(("file:", "data:", "blob:", "about:"))]
