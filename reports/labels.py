"""Words printed in the reports, in Vietnamese (default) and English.

Officers submit the Vietnamese version to VPCP; the English one is for reviewers and vendors.
"""

from __future__ import annotations

LANGUAGES = ("vi", "en")
CHECKS = ("sso", "submission", "payment", "processing")

_VERDICTS = {
    "vi": {
        "passed": "Đạt",
        "failed": "Không đạt",
        "warning": "Cảnh báo",
        "skipped": "Chưa đánh giá được",
        "not_evaluated": "Chưa đánh giá được",
        "passed_with_exceptions": "Đạt, trừ",
        "inconclusive": "Không kết luận được",
        "not_applicable": "Không áp dụng",
        "error": "Lỗi",
        None: "Chưa kiểm thử",
    },
    "en": {
        "passed": "Passed",
        "failed": "Failed",
        "warning": "Warning",
        "skipped": "Not evaluated",
        "not_evaluated": "Not evaluated",
        "passed_with_exceptions": "Passed, except",
        "inconclusive": "Inconclusive",
        "not_applicable": "Not applicable",
        "error": "Error",
        None: "Not tested",
    },
}

_CHECK_NAMES = {
    "vi": {"sso": "SSO", "submission": "Nộp hồ sơ", "payment": "Thanh toán", "processing": "Xử lý và đồng bộ"},
    "en": {"sso": "SSO", "submission": "Submission", "payment": "Payment", "processing": "Processing & sync"},
}

_LEVELS = {
    "vi": {"toan_trinh": "Toàn trình", "mot_phan": "Một phần"},
    "en": {"toan_trinh": "Fully online", "mot_phan": "Partly online"},
}

# Column headers of the summary table, in order (xlsx, PDF and HTML share them).
_HEADERS = {
    "vi": [
        "STT", "Tên thủ tục hành chính", "Mã TTHC", "Tên dịch vụ công trực tuyến", "Mã DVC", "Mức độ",
        "Mã số hồ sơ đã hoàn thành kiểm thử", "SSO", "Nộp hồ sơ", "Thanh toán", "Xử lý và đồng bộ", "Hoàn thành", "Ghi chú",
    ],
    "en": [
        "No.", "Procedure name", "TTHC code", "Service name", "DVC code", "Level",
        "Codes of dossiers that completed testing", "SSO", "Submission", "Payment", "Processing & sync", "Done", "Notes",
    ],
}

_TEXT = {
    "vi": {
        "title": "TỔNG HỢP KẾT QUẢ KIỂM THỬ DỊCH VỤ CÔNG TRỰC TUYẾN",
        "subtitle": "Kiểm thử tích hợp với Cổng Dịch vụ công quốc gia",
        "sheet_summary": "Tổng hợp kết quả kiểm thử",
        "sheet_rules": "Chi tiết quy tắc",
        "nation": "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "motto": "Độc lập - Tự do - Hạnh phúc",
        "agency": "Cơ quan",
        "system": "Hệ thống",
        "system_url": "Địa chỉ hệ thống",
        "portal_url": "Cổng DVCQG (kiểm thử)",
        "profile": "Phiên bản đặc tả kết nối",
        "harness": "Phiên bản công cụ",
        "report_built_by": "báo cáo lập bởi kiemthu",
        "run_id": "Mã lần chạy",
        "runs": "Các lần chạy",
        "started": "Bắt đầu",
        "finished": "Kết thúc",
        "tester": "Người kiểm thử",
        "publication_date": "Ngày công khai để kiểm thử",
        "deadline": "Hạn gửi kết quả kiểm thử",
        "deadline_rule": "5 ngày làm việc kể từ ngày công khai, không tính thứ Bảy, Chủ nhật và ngày lễ, Tết",
        "days_left": "còn {n} ngày làm việc",
        "due_today": "hôm nay là hạn cuối",
        "overdue": "quá hạn {n} ngày làm việc",
        "as_of": "tính đến {d}",
        "not_declared": "chưa khai báo",
        "totals": "Tổng số dịch vụ: {n}; hoàn thành kiểm thử: {ok}; chưa hoàn thành: {ko}",
        "pytest_totals": "Kết quả pytest (junit.xml): {tests} ca kiểm thử, {failures} không đạt, {errors} lỗi, {skipped} bỏ qua",
        "summary_table": "Bảng tổng hợp",
        "details": "Kết quả chi tiết theo dịch vụ",
        "completed": "Hoàn thành kiểm thử",
        "not_completed": "Chưa hoàn thành kiểm thử",
        "conclusion": "Kết luận",
        "dossier_codes": "Mã số hồ sơ đã hoàn thành kiểm thử",
        "trial_codes": "Mã số hồ sơ đã tạo khi kiểm thử (chưa hoàn thành)",
        "none": "—",
        "rule": "Quy tắc",
        "clause": "Căn cứ",
        "content": "Nội dung kiểm tra",
        "result": "Kết quả",
        "expected": "Mong đợi",
        "actual": "Thực tế",
        "where": "Bằng chứng",
        "evidence": "Tệp bằng chứng",
        "no_rules": "Không có quy tắc nào được ghi nhận.",
        "missing_file": "không tìm thấy",
        "check": "Nội dung",
        "service": "Dịch vụ",
        "reason_inconsistent": "kết quả ghi hoàn thành nhưng có nội dung kiểm thử không đạt",
        "reason_not_tested": "{check}: chưa kiểm thử",
        "defects": "Lỗi cài sẵn được bật (chạy thử với hệ thống tham chiếu)",
        "artefacts": "Tệp kết quả của lần chạy",
        "allure": "Báo cáo Allure",
        "allure_missing": "chưa tạo được ({why})",
        "junit": "Kết quả JUnit",
        "summary_json": "Tóm tắt máy đọc (summary.json)",
        "submission_json": "Nguồn của từng dịch vụ (lần chạy)",
        "manifest": "Bảng băm SHA-256 (manifest.json)",
        "manifest_sig": "Chữ ký số Ed25519 của bảng băm",
        "journal": "Nhật ký trao đổi với Cổng (journal.jsonl)",
        "journal_counts": "Số bản ghi theo vai trò",
        "load": "Kiểm thử tải — báo cáo Locust",
        "load_summary": "Tóm tắt kiểm thử tải",
        "signature": "NGƯỜI KIỂM THỬ",
        "signature_hint": "(Ký, ghi rõ họ tên)",
        "generated": "Lập lúc",
        "page": "Trang",
        "verify_hint": "Kiểm tra tính toàn vẹn: kiemthu report --verify <thư mục lần chạy>",
        "cases": "{n} trường hợp",
        "with_exceptions": "đạt nhưng có quy tắc chưa kiểm chứng",
        "service_runs": "Lần chạy của từng dịch vụ: {runs}",
        "check_error": "lỗi khi chạy nội dung kiểm thử này; xem nhật ký của lần chạy",
        "evidence_count": "{n} tệp, trong thư mục {folder} của lần chạy",
        "unverified_default": "không đánh giá được trong lần chạy này",
        "not_verified": "chưa kiểm chứng",
        "later_failure": "lần chạy sau {run} không đạt",
        "later_failure_full": "Lần chạy sau ({run}, kết thúc {at}) của dịch vụ này không đạt",
        "and_more": " (và {n} nội dung khác)",
        "yes": "Có",
        "no": "Không",
        "governing_body": "Cơ quan chủ quản",
        "number": "Số: …/…",
        "place_date": "…, ngày … tháng … năm …",
        "excerpt": "V/v kết quả kiểm thử tích hợp dịch vụ công trực tuyến với Cổng Dịch vụ công quốc gia",
        "addressee": "Kính gửi: Văn phòng Chính phủ (Cục Kiểm soát thủ tục hành chính).",
        "intro": ("{agency} đã kiểm thử tích hợp các dịch vụ công trực tuyến của {system} với Cổng Dịch vụ công "
                  "quốc gia theo bốn nội dung: đăng nhập một lần (SSO), nộp hồ sơ trực tuyến, thanh toán trực "
                  "tuyến và xử lý, đồng bộ trạng thái, kết quả điện tử. Kết quả như sau:"),
        "closing": ("Chi tiết từng nội dung kiểm tra và bằng chứng tại Phụ lục kèm theo. {agency} đề nghị Văn "
                    "phòng Chính phủ xem xét, xác nhận kết quả kiểm thử của các dịch vụ đã hoàn thành./."),
        "recipients": "Nơi nhận:",
        "recipients_list": "- Như trên;\n- Lưu: VT, …",
        "head": "THỦ TRƯỞNG CƠ QUAN",
        "head_hint": "(Ký, ghi rõ họ tên, đóng dấu)",
        "annex": "PHỤ LỤC",
        "annex_title": "KẾT QUẢ KIỂM THỬ CHI TIẾT THEO DỊCH VỤ",
        "annex_ref": "(Kèm theo văn bản số …/… ngày … tháng … năm … của {agency})",
        "run_facts": "Thông tin lần kiểm thử",
        "check_totals": "Nội dung kiểm thử (theo bảng): {parts}",
        "rules_passed": "{n} quy tắc đạt",
        "rules_failed": "{n} không đạt",
        "rules_warning": "{n} cảnh báo",
        "rules_unverified": "{n} chưa đánh giá được",
        "rules_na": "{n} không áp dụng",
        "rules_error": "{n} lỗi",
        "findings": "Phát hiện và bằng chứng",
        "passed_rules": "Các quy tắc đạt",
        "screenshot": "Ảnh chụp màn hình",
        "exchange": "Trao đổi với Cổng DVCQG — bản ghi nhật ký #{id}",
        "request": "Yêu cầu",
        "reply": "Phản hồi",
        "technical": "Chi tiết kỹ thuật",
        "later_runs": "Các lần chạy sau không đạt",
        "run_of_service": "Lần chạy",
        "service_system": "Hệ thống của lần chạy",
    },
    "en": {
        "title": "SUMMARY OF ONLINE PUBLIC SERVICE TEST RESULTS",
        "subtitle": "Integration testing with the National Public Service Portal",
        "sheet_summary": "Test results summary",
        "sheet_rules": "Rule details",
        "nation": "SOCIALIST REPUBLIC OF VIET NAM",
        "motto": "Independence - Freedom - Happiness",
        "agency": "Agency",
        "system": "System",
        "system_url": "System URL",
        "portal_url": "Portal (test)",
        "profile": "Contract profile",
        "harness": "Harness version",
        "report_built_by": "report built by kiemthu",
        "run_id": "Run id",
        "runs": "Runs",
        "started": "Started",
        "finished": "Finished",
        "tester": "Tester",
        "publication_date": "Published for testing on",
        "deadline": "Results due",
        "deadline_rule": "5 working days after publication, excluding weekends and public holidays",
        "days_left": "{n} working day(s) left",
        "due_today": "due today",
        "overdue": "overdue by {n} working day(s)",
        "as_of": "as of {d}",
        "not_declared": "not declared",
        "totals": "Services: {n}; completed testing: {ok}; not completed: {ko}",
        "pytest_totals": "pytest results (junit.xml): {tests} tests, {failures} failed, {errors} errors, {skipped} skipped",
        "summary_table": "Summary table",
        "details": "Detailed results per service",
        "completed": "Completed testing",
        "not_completed": "Did not complete testing",
        "conclusion": "Conclusion",
        "dossier_codes": "Codes of dossiers that completed testing",
        "trial_codes": "Dossier codes created during testing (not completed)",
        "none": "—",
        "rule": "Rule",
        "clause": "Clause",
        "content": "What is checked",
        "result": "Result",
        "expected": "Expected",
        "actual": "Actual",
        "where": "Evidence",
        "evidence": "Evidence files",
        "no_rules": "No rules were recorded.",
        "missing_file": "not found",
        "check": "Check",
        "service": "Service",
        "reason_inconsistent": "summary.json says completed but a check did not pass",
        "reason_not_tested": "{check}: not tested",
        "defects": "Seeded defects switched on (demo)",
        "artefacts": "Files of this run",
        "allure": "Allure report",
        "allure_missing": "not generated ({why})",
        "junit": "JUnit results",
        "summary_json": "Machine-readable summary (summary.json)",
        "submission_json": "Which run each service comes from",
        "manifest": "SHA-256 manifest (manifest.json)",
        "manifest_sig": "Ed25519 signature of the manifest",
        "journal": "Portal exchange journal (journal.jsonl)",
        "journal_counts": "Entries per role",
        "load": "Load test — Locust report",
        "load_summary": "Load test summary",
        "signature": "TESTER",
        "signature_hint": "(Signature and full name)",
        "generated": "Generated",
        "page": "Page",
        "verify_hint": "Integrity check: kiemthu report --verify <run directory>",
        "cases": "{n} cases",
        "with_exceptions": "passed with a rule not verified",
        "service_runs": "Run of each service: {runs}",
        "check_error": "the check stopped with an error; see the run's log",
        "evidence_count": "{n} files, in the run's folder {folder}",
        "unverified_default": "could not be evaluated in this run",
        "not_verified": "not verified",
        "later_failure": "later run {run} did not pass",
        "later_failure_full": "A later run of this service ({run}, finished {at}) did not pass",
        "and_more": " (and {n} more)",
        "yes": "Yes",
        "no": "No",
        "governing_body": "Governing body",
        "number": "No.: …/…",
        "place_date": "…, date … month … year …",
        "excerpt": "Re: results of integration testing of online public services with the National Public Service Portal",
        "addressee": "To: the Government Office (Administrative Procedure Control Agency).",
        "intro": ("{agency} tested the integration of the online public services of {system} with the National "
                  "Public Service Portal in four checks: single sign-on (SSO), online submission, online payment, "
                  "and processing with status and e-result sync. The results are:"),
        "closing": ("The annex gives every rule checked and its evidence. {agency} asks the Government Office to "
                    "confirm the results of the services that completed testing."),
        "recipients": "Recipients:",
        "recipients_list": "- As above;\n- Archive.",
        "head": "HEAD OF AGENCY",
        "head_hint": "(Signature, full name and seal)",
        "annex": "ANNEX",
        "annex_title": "DETAILED TEST RESULTS PER SERVICE",
        "annex_ref": "(Attached to document No. …/… dated … of {agency})",
        "run_facts": "About this test run",
        "check_totals": "Checks (as in the table): {parts}",
        "rules_passed": "{n} rules passed",
        "rules_failed": "{n} failed",
        "rules_warning": "{n} warnings",
        "rules_unverified": "{n} not evaluated",
        "rules_na": "{n} not applicable",
        "rules_error": "{n} errors",
        "findings": "Findings and evidence",
        "passed_rules": "Rules passed",
        "screenshot": "Screenshot",
        "exchange": "Exchange with the portal — journal entry #{id}",
        "request": "Request",
        "reply": "Reply",
        "technical": "Technical detail",
        "later_runs": "Later runs that did not pass",
        "run_of_service": "Run",
        "service_system": "System of the run",
    },
}


def check_language(language: str) -> str:
    """The language code, or ValueError naming the allowed values."""
    if language not in LANGUAGES:
        raise ValueError(f"language: rule 'one of {', '.join(LANGUAGES)}' — value {language!r}")
    return language


def verdict_word(verdict: str | None, language: str = "vi") -> str:
    return _VERDICTS[language].get(verdict, str(verdict))


def check_name(check: str, language: str = "vi") -> str:
    return _CHECK_NAMES[language].get(check, check)


def level_name(level: str, language: str = "vi") -> str:
    return _LEVELS[language].get(level, level)


def headers(language: str = "vi") -> list[str]:
    return list(_HEADERS[language])


def text(key: str, language: str = "vi", **values) -> str:
    template = _TEXT[language][key]
    return template.format(**values) if values else template


def rule_counts(counts, language: str = "vi") -> str:
    """'21 quy tắc đạt, 1 chưa đánh giá được' from verdict counts of a check's rules."""
    keys = (("passed", "rules_passed"), ("failed", "rules_failed"), ("error", "rules_error"),
            ("warning", "rules_warning"), ("not_applicable", "rules_na"))
    parts = [text(key, language, n=counts[v]) for v, key in keys if counts.get(v)]
    unverified = counts.get("skipped", 0) + counts.get("not_evaluated", 0)
    if unverified:
        parts.append(text("rules_unverified", language, n=unverified))
    return ", ".join(parts)
