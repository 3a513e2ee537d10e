"""The document an officer submits as it is: Vietnamese, in the form of an administrative document, honest about
every verdict, each finding one sentence with its proof beside it."""

import copy
import importlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BUILD_DAY, sample_summary, tiny_png, write_run_dir
from reports.build import build
from reports.model import load_run, run_from_summary
from reports.pdf import build_pdf
from reports.render import document
from reports.webpage import build_html
from reports.vocabulary import rule_title
from reports.xlsx import build_xlsx

DATA = Path(__file__).parent / "data"
FAILING_DEMO = DATA / "demo-ipn-checksum-not-verified.summary.json"  # `kiemthu demo --defect ipn-checksum-not-verified`
needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")


def english_rule_titles() -> list[str]:
    titles = []
    for name in ("sso", "submission", "payment", "processing"):
        module = importlib.import_module(f"conformance.rules.{name}")
        titles += [fn.title for fn in vars(module).values() if getattr(fn, "is_rule", False)]
    return titles


@pytest.fixture
def failing_demo(tmp_path) -> Path:
    return write_run_dir(tmp_path / "demo", json.loads(FAILING_DEMO.read_text(encoding="utf-8")))


def pdf_pages(path: Path) -> list[str]:
    from pypdf import PdfReader

    return [" ".join((p.extract_text() or "").split()) for p in PdfReader(path).pages]


@needs_poppler
def test_failing_demo_pdf_is_vietnamese_without_tool_internals(failing_demo):
    """Rule titles, notes and counts in Vietnamese; no raw dict, no internal citation, no test-runner output."""
    pdf = build_pdf(load_run(failing_demo), failing_demo / "report.pdf", "vi", BUILD_DAY)
    text = " ".join(subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout.split())
    english = [t for t in english_rule_titles() if t in text]
    assert english == []
    for internal in ("{'", "DOMAIN", "pytest", "junit", "rules passed", "charges no fee", "adapter:", "Hồ sơ giao diện",
                     "ensure_", "Mã hồ sơ "):
        assert internal not in text, internal
    assert rule_title("ensure_bad_ipn_refused", "", "vi") in text
    assert "MaLoi = 00, MoTaLoi = Thành công" in text  # the reply as words, not a repr
    assert "21 quy tắc đạt" in text and "thủ tục không thu phí, lệ phí" in text


def test_failing_demo_summary_rows_fit_on_page_one(failing_demo):
    """The summary table of the 3-service demo with one failing service fits on page 1, with both signatures."""
    run = load_run(failing_demo)
    pages = pdf_pages(build_pdf(run, failing_demo / "report.pdf", "vi", BUILD_DAY))
    for service in run.services:
        assert service.TenDVC in pages[0], service.TenDVC
    first_two = " ".join(pages[:2])
    for block in ("Kính gửi: Văn phòng Chính phủ (Cục Kiểm soát thủ tục hành chính)", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                  "Độc lập - Tự do - Hạnh phúc", "Số: …/…", "…, ngày … tháng … năm …", "THỦ TRƯỞNG CƠ QUAN",
                  "NGƯỜI KIỂM THỬ", "Nơi nhận"):
        assert block in first_two, block
    assert "PHỤ LỤC" not in first_two.split("NGƯỜI KIỂM THỬ")[0]  # the annex comes after the letter


def test_summary_note_is_one_short_sentence_cut_on_a_word(failing_demo):
    """The note names the failing check and rule in a sentence, at most 110 characters, never a cut word."""
    run = load_run(failing_demo)
    failing = next(s for s in run.services if not s.completed)
    note = failing.note("vi")
    assert note.startswith("Thanh toán không đạt: Thông báo thanh toán giả mạo")
    assert len(note) <= 111 and "{'" not in note and "ensure_" not in note
    rule = next(r for r in failing.checks["payment"].rules if r.verdict == "failed")
    full = f"Thanh toán không đạt: {rule.name('vi')}".split()
    shown = note.rstrip(".…").split()
    assert shown == full[:len(shown)]  # every word whole, the last one too


def test_failure_sentence_formats_values_as_words(failing_demo):
    run = load_run(failing_demo)
    payment = run.services[0].checks["payment"]
    failed = next(r for r in payment.rules if r.verdict == "failed")
    sentence = failed.sentence("vi")
    assert sentence.startswith("Không đạt — Thông báo thanh toán giả mạo")
    assert "mong đợi phản hồi có MaLoi khác 00; thực tế MaLoi = 00, MoTaLoi = Thành công" in sentence
    assert "{" not in sentence and "'" not in sentence


def with_exception_summary() -> dict:
    """A run whose payment check passed but could not verify the 24-hour clock (a run before 13:00)."""
    data = sample_summary()
    rules = data["services"][0]["checks"]["payment"]["rules"]
    rules.append({"rule_id": "ensure_24h_clock_verifiable", "clause": "ThoiGianGD (24-hour clock)",
                  "title": "The run saw ThoiGianGD at an hour where a 12-hour clock would differ", "verdict": "skipped",
                  "severity": "warning", "note": "Không kiểm chứng được đồng hồ 24 giờ: giao dịch lúc 06:45 giờ Việt Nam"
                  " / 24-hour clock not verifiable: transaction made at 06:45 Vietnam time"})
    return data


def test_a_check_with_a_rule_not_verified_is_never_plain_pass(tmp_path):
    """'Đạt, trừ: …' on page 1 for a check that passed without verifying a rule; page-1 counts follow the table."""
    run = load_run(write_run_dir(tmp_path / "run", with_exception_summary()))
    payment = run.services[0].checks["payment"]
    assert payment.verdict_text("vi") == "Đạt, trừ: đồng hồ 24 giờ của ThoiGianGD"
    markup = document(run, "vi", "pdf", today=BUILD_DAY)
    table = markup.split("<table class='summary'>")[1].split("</table>")[0]
    assert "Đạt, trừ: đồng hồ 24 giờ của ThoiGianGD" in table
    assert "chưa kiểm chứng đồng hồ 24 giờ" in run.services[0].note("vi")
    assert "1 đạt nhưng có quy tắc chưa kiểm chứng" in markup and "bỏ qua" not in markup.lower()  # no junit skips counted


def test_summary_lists_unverified_rules_and_inconclusive_checks():
    """The new verdicts: passed_with_exceptions names its `unverified` rules; inconclusive blocks completion."""
    data = sample_summary()
    data["services"][0]["checks"]["sso"]["verdict"] = "passed_with_exceptions"
    data["services"][0]["checks"]["sso"]["unverified"] = ["ensure_session_cookie_protected"]
    data["services"][1]["checks"]["processing"] = {"verdict": "inconclusive", "reason": "not evaluated: no outage was injected",
                                                   "rules": []}
    run = run_from_summary(data, Path("/nonexistent"))
    assert run.services[0].checks["sso"].verdict_text("vi") == "Đạt, trừ: bảo vệ cookie phiên"
    assert run.services[1].checks["processing"].verdict_text("vi") == "Không kết luận được"
    assert not run.services[1].completed and run.services[1].completed_codes == []
    assert run.services[0].completed


def test_negative_cases_are_separate_named_rows_and_passing_rows_show_no_empty_columns(tmp_path):
    data = sample_summary()
    sso = data["services"][0]["checks"]["sso"]
    for variant in ("id_token_foreign_key", "tampered_state"):
        sso["rules"].append({"rule_id": "ensure_login_refused", "clause": "OIDC Core 3.1.3.7", "variant": variant,
                             "title": "A login with an invalid ID token, state or code is refused", "verdict": "passed"})
    for _ in range(3):  # identical results without a variant: one row saying how many
        sso["rules"].append({"rule_id": "ensure_state_present", "clause": "RFC 6749 10.12", "title": "state",
                             "verdict": "passed"})
    run = load_run(write_run_dir(tmp_path / "run", data))
    names = [r.name("vi") for r in run.services[0].checks["sso"].rows()]
    refused = rule_title("ensure_login_refused", "", "vi")
    assert f"{refused}: ID token ký bằng khóa lạ (không có trong JWKS)" in names
    assert f"{refused}: Chuyển hướng về với state bị sửa" in names
    state = rule_title("ensure_state_present", "", "vi")
    assert names.count(f"{state} (3 trường hợp)") == 1 and state not in names
    markup = document(run, "vi", "html")
    rules_table = markup.split("<table class='rules'>")[1].split("</table>")[0]
    assert "Mong đợi" not in rules_table and "Thực tế" not in rules_table and "ensure_" not in rules_table


def test_finding_shows_its_screenshot_and_journal_exchange_inline(tmp_path):
    """The proof beside the sentence: the screenshot the result names, and the exchange (request and reply)."""
    data = sample_summary()
    rule = data["services"][2]["checks"]["processing"]["rules"][1]
    rule["evidence"] = ["evidence/ket-hon/processing/after-status.png"]
    rule["where"] = "journal#6"
    run_dir = write_run_dir(tmp_path / "run", data)
    (run_dir / "evidence/ket-hon/processing/after-status.png").write_bytes(tiny_png())
    journal = [{"id": 6, "role": "payment", "method": "POST", "path": "/ipn", "status_code": 200,
                "request": {"MaLoi": "00", "MaXacThuc": "forged"}, "response": {"MaLoi": "00", "MoTaLoi": "Thành công"}}]
    (run_dir / "journal.jsonl").write_text("\n".join(json.dumps(e) for e in journal) + "\n", encoding="utf-8")
    run = load_run(run_dir)
    page = build_html(run, run_dir / "report.html", "vi", BUILD_DAY).read_text(encoding="utf-8")
    finding = page.split("<div class='finding failed'>")[1].split("</div></div>")[0]
    assert "data:image/png;base64," in finding
    assert "bản ghi nhật ký #6" in finding and "Yêu cầu" in finding and "Phản hồi" in finding
    assert "forged" in finding and "Thành công" in finding
    markup = document(run, "vi", "pdf")
    assert (run_dir / "evidence/ket-hon/processing/after-status.png").as_uri() in markup


def test_english_documents_are_written_beside_the_vietnamese_ones(run_dir):
    from reports.manifest import verify

    build(run_dir, "vi", today=BUILD_DAY)
    build(run_dir, "en", today=BUILD_DAY)
    assert "Kính gửi" in (run_dir / "report.html").read_text(encoding="utf-8")  # still the Vietnamese one
    assert "To: the Government Office" in (run_dir / "report.en.html").read_text(encoding="utf-8")
    for name in ("report.en.pdf", "report.en.xlsx", "report.pdf", "report.xlsx"):
        assert (run_dir / name).is_file(), name
    signed = json.loads((run_dir / "manifest.sig").read_text(encoding="utf-8"))["documents"]
    assert {"report.pdf", "report.en.pdf", "report.xlsx", "report.en.xlsx", "report.html", "report.en.html"} <= set(signed)
    assert verify(run_dir) == []
    build(run_dir, "vi", today=BUILD_DAY)  # a later Vietnamese build keeps the English documents sealed with it
    assert "report.en.pdf" in json.loads((run_dir / "manifest.sig").read_text(encoding="utf-8"))["documents"]
    assert verify(run_dir) == []


def test_every_rule_of_the_suite_has_a_vietnamese_title_and_source():
    from reports import vocabulary

    missing = []
    for name in ("sso", "submission", "payment", "processing"):
        module = importlib.import_module(f"conformance.rules.{name}")
        for fn in vars(module).values():
            if getattr(fn, "is_rule", False):
                entry = vocabulary.entry(fn.rule_id)
                if not entry.title_vi or not entry.source_vi or "DOMAIN" in entry.source_vi:
                    missing.append(fn.rule_id)
    assert missing == []


def test_the_rule_catalogue_wins_over_the_reports_own_table(tmp_path, monkeypatch):
    """Titles and citations come from conformance/rules/catalogue.yaml when it names the rule."""
    from reports import vocabulary

    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_text("ensure_state_present:\n  title_vi: Tiêu đề từ danh mục\n  citation_vi: RFC 6749, mục 10.12\n"
                         "complete_flow:\n  title_vi: Mọi bước thực hiện được\n  citation_vi: Hướng dẫn kiểm thử, mục 3.1\n",
                         encoding="utf-8")
    monkeypatch.setattr(vocabulary, "CATALOGUE", catalogue)
    assert vocabulary.entry("ensure_state_present") == vocabulary.Entry("Tiêu đề từ danh mục", "RFC 6749, mục 10.12")
    assert vocabulary.entry("ensure_nonce_present").title_vi.startswith("Yêu cầu xác thực có tham số nonce")
    step = vocabulary.entry("complete_pay")
    assert step.title_vi == "Mọi bước của luồng thanh toán trực tuyến thực hiện được"
    assert step.source_vi == "Hướng dẫn kiểm thử, mục 3.1"
    monkeypatch.setattr(vocabulary, "CATALOGUE", tmp_path / "absent.yaml")
    assert vocabulary.entry("ensure_state_present").title_vi.startswith("Yêu cầu xác thực có tham số state")


def test_values_are_words_and_cuts_fall_between_words():
    from reports.wording import format_value, shorten

    assert format_value({"MaLoi": "00", "MoTaLoi": "Thành công"}) == "MaLoi = 00, MoTaLoi = Thành công"
    assert format_value(["1", "2"]) == "1, 2"
    assert format_value('{"a": {"b": 1}}') == "a = (b = 1)"
    assert shorten("một hai ba bốn năm sáu bảy", 16) == "một hai ba bốn…"


def test_status_message_from_the_suite_is_translated():
    from reports.wording import note_text

    assert note_text("not synced (in order): 4") == "chưa đồng bộ (theo thứ tự): 4"
    assert note_text("not selected for this run") == "không chọn trong lần chạy này"
    assert note_text("something the table does not know") == ""  # never English in the Vietnamese document


def test_xlsx_rows_are_tall_enough_and_print_to_one_page_width(run_dir, tmp_path):
    from openpyxl import load_workbook

    from reports.xlsx import HEADER_ROW

    data = sample_summary()
    wb = load_workbook(build_xlsx(load_run(run_dir), tmp_path / "r.xlsx", "vi", BUILD_DAY))
    ws = wb.active
    long_name = ws.cell(row=HEADER_ROW + 1, column=2)
    assert len(data["services"][0]["TenTTHC"]) > 60 and long_name.alignment.wrap_text
    assert ws.row_dimensions[HEADER_ROW + 1].height >= 3 * 12  # three wrapped lines at least
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows.replace("$", "") == f"{HEADER_ROW}:{HEADER_ROW}" and ws.print_area
    rules = wb["Chi tiết quy tắc"]
    assert all(rules.row_dimensions[r].height for r in range(2, rules.max_row + 1))


@pytest.mark.skipif(not shutil.which("soffice") or not shutil.which("pdftotext"), reason="LibreOffice not installed")
def test_xlsx_renders_through_libreoffice_with_every_service_on_the_first_page(failing_demo, tmp_path):
    """The sheet as LibreOffice prints it: one page wide, every service's row on page 1, no row printed over."""
    xlsx = build_xlsx(load_run(failing_demo), tmp_path / "report.xlsx", "vi", BUILD_DAY)
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(xlsx)], check=True, capture_output=True, timeout=180)
    pages = pdf_pages(tmp_path / "report.pdf")
    for name in ("Cấp Phiếu lý lịch tư pháp trực tuyến", "Đăng ký khai sinh trực tuyến", "Đăng ký kết hôn trực tuyến"):
        assert name in pages[0], name
    assert "người nước ngoài đang cư trú tại Việt Nam" in pages[0]  # the long procedure name printed whole


def rerun(data: dict, run_id: str, finished: str, completed: bool, defects: list[str]) -> dict:
    data = copy.deepcopy(data)
    data["run_id"], data["defects"] = run_id, defects
    data["started_at"], data["finished_at"] = finished.replace(":30+", ":00+"), finished
    return data


def test_submission_from_history_shows_a_later_failing_run_and_each_runs_details(tmp_path, history_db):
    from reports.history import record_run, report_from_history

    first = sample_summary()
    record_run(write_run_dir(tmp_path / "r1", first))
    later = rerun(first, "20261116-101500-c0de", "2026-11-16T10:17:30+07:00", False, ["ipn-checksum-not-verified"])
    ks = later["services"][1]
    ks["checks"]["processing"]["verdict"], ks["completed"] = "failed", False
    later["services"] = [ks]
    later["target"]["base_url"] = "https://motcua-2.moj.gov.vn"
    record_run(write_run_dir(tmp_path / "r2", later))
    out = tmp_path / "submission"
    assert report_from_history(["khai-sinh", "lltp-cap-phieu"], out, "vi") == 0
    run_ids = [s["run_id"] for s in json.loads((out / "submission.json").read_text(encoding="utf-8"))["services"]]
    assert run_ids == ["20261116-091502-a3f9", "20261116-091502-a3f9"]  # the passing run is used ...
    html = (out / "report.html").read_text(encoding="utf-8")
    table = html.split("<table class='summary'>")[1].split("</table>")[0]
    assert "Lần chạy sau 20261116-101500-c0de không đạt" in table  # ... and the later failure is told on page 1
    assert "<th>Lần chạy</th><td>20261116-091502-a3f9</td>" in html  # each service names its run
    assert "ipn-checksum-not-verified" not in html  # the later run's seeded defect is not this submission's


def test_history_marks_a_dossier_code_reused_by_a_later_run(tmp_path, history_db, capsys):
    from reports.history import history_cli, record_run

    first = sample_summary()
    record_run(write_run_dir(tmp_path / "r1", first))
    again = rerun(first, "20261116-101500-c0de", "2026-11-16T10:17:30+07:00", False, [])
    for s in again["services"]:
        s["completed"] = False
        s["checks"]["processing"]["verdict"] = "failed"
    record_run(write_run_dir(tmp_path / "r2", again))
    assert history_cli([], None) == 0
    out = capsys.readouterr().out
    assert "mã này được dùng lại ở lần chạy 20261116-101500-c0de" in out
    assert "lần chạy sau 20261116-101500-c0de không đạt" in out


def test_history_at_80_columns_breaks_paths_only_between_folders(tmp_path, history_db, monkeypatch, capsys):
    from reports.history import history_cli, record_run

    monkeypatch.setenv("COLUMNS", "80")
    deep = tmp_path / "thư-mục-của-cơ-quan-a" / "kết-quả-kiểm-thử" / "20261116-091502-a3f9"
    record_run(write_run_dir(deep, sample_summary()))
    assert history_cli([], None) == 0
    lines = capsys.readouterr().out.splitlines()
    for part in ("thư-mục-của-cơ-quan-a/", "kết-quả-kiểm-thử/"):
        assert any(part in line for line in lines), part


def test_a_negative_case_exchange_file_is_shown_as_its_proof(tmp_path):
    """Issue 15: the proof of a forged-IPN failure is the journal exchange itself. The suite writes a negative case's
    forged exchange as {'exchanges': [...]} beside the rule; the report reads it like a journal slice."""
    from reports.render import exchanges_in_file

    exchange = {"id": 48, "role": "ipn", "method": "POST", "path": "/thanh-toan/ipn", "status_code": 200,
                "request": {"MaLoi": "00", "adversarial": "ipn_bad_checksum"}, "response": {"MaLoi": "00"}}
    path = tmp_path / "exchange-ipn_bad_checksum.json"
    path.write_text(json.dumps({"case": "ipn_bad_checksum", "exchanges": [exchange]}), encoding="utf-8")
    assert exchanges_in_file(path) == [exchange]


def test_a_reply_quoting_the_portal_in_vietnamese_is_still_translated():
    """Issue 15: every word an officer reads is Vietnamese, also an English value quoting the portal's words."""
    from reports.vocabulary import translate

    assert translate("reply MaLoi 00 (Thành công)") == "phản hồi MaLoi 00 (Thành công)"
