"""The interface's words: Vietnamese first, English available (cookie `kt_ngon_ngu`, switch in the header)."""

from __future__ import annotations

LANG_COOKIE = "kt_ngon_ngu"
LANGUAGES = ("vi", "en")

WORDS: dict[str, tuple[str, str]] = {
    "app": ("Phòng điều hành kiểm thử", "Testing control room"),
    "skip": ("Bỏ qua, đến nội dung chính", "Skip to main content"),
    "login": ("Đăng nhập", "Log in"),
    "logout": ("Đăng xuất", "Log out"),
    "username": ("Tên đăng nhập", "Username"),
    "password": ("Mật khẩu", "Password"),
    "full_name": ("Họ và tên", "Full name"),
    "role": ("Vai trò", "Role"),
    "login_failed": ("Tên đăng nhập hoặc mật khẩu không đúng.", "Wrong username or password."),
    "campaigns": ("Đợt kiểm thử", "Campaigns"),
    "campaign": ("Đợt kiểm thử", "Campaign"),
    "new_campaign": ("Tạo đợt kiểm thử", "New campaign"),
    "campaign_name": ("Tên đợt", "Campaign name"),
    "target": ("Hệ thống cần kiểm thử", "System under test"),
    "publication_date": ("Ngày công khai", "Publication date"),
    "deadline": ("Hạn nộp kết quả", "Results deadline"),
    "countdown": ("Thời gian còn lại", "Time left"),
    "working_days_left": ("ngày làm việc còn lại", "working days left"),
    "overdue": ("Đã quá hạn", "Overdue"),
    "days": ("ngày", "days"),
    "no_campaigns": ("Chưa có đợt kiểm thử nào.", "No campaign yet."),
    "create": ("Tạo", "Create"),
    "service": ("Dịch vụ công", "Service"),
    "status": ("Trạng thái", "Status"),
    "dossier_code": ("Mã số hồ sơ", "Dossier code"),
    "st_not_run": ("Chưa chạy", "Not run"),
    "st_queued": ("Đang chờ", "Queued"),
    "st_running": ("Đang chạy", "Running"),
    "st_failed": ("Không đạt", "Failed"),
    "st_passed": ("Đạt", "Passed"),
    "st_partial": ("Chưa kết luận", "Not concluded"),
    "st_submitted": ("Đã nộp", "Submitted"),
    "open": ("Mở", "Open"),
    "start_run": ("Chạy kiểm thử", "Start a run"),
    "services": ("Dịch vụ", "Services"),
    "checks": ("Nội dung kiểm thử", "Checks"),
    "defects": ("Lỗi cài sẵn (hệ thống tham chiếu)", "Seeded defects (reference system)"),
    "start": ("Bắt đầu", "Start"),
    "runs": ("Các lần chạy", "Runs"),
    "all_runs": ("Xem mọi lần chạy", "Show every run"),
    "run": ("Lần chạy", "Run"),
    "started_by": ("Người chạy", "Started by"),
    "started_at": ("Bắt đầu", "Started"),
    "finished_at": ("Kết thúc", "Finished"),
    "state": ("Tình trạng", "State"),
    "cancel": ("Dừng lần chạy", "Cancel the run"),
    "progress": ("Tiến độ", "Progress"),
    "step": ("Bước hiện tại", "Current step"),
    "elapsed": ("Thời gian", "Elapsed"),
    "log_tail": ("Nhật ký (đã che thông tin bí mật)", "Log (secrets masked)"),
    "prompts": ("Việc cán bộ cần làm", "Officer actions"),
    "done": ("Đã thực hiện", "Done"),
    "prompt_deadline": ("Hạn", "Deadline"),
    "no_prompt": ("Không có việc nào đang chờ.", "Nothing waiting for you."),
    "results": ("Kết quả", "Results"),
    "rule": ("Quy tắc", "Rule"),
    "verdict": ("Kết luận", "Verdict"),
    "clause": ("Căn cứ", "Clause"),
    "message": ("Thông báo", "Message"),
    "evidence": ("Bằng chứng", "Evidence"),
    "screenshot": ("Ảnh chụp màn hình", "Screenshot"),
    "validation": ("Thông báo kiểm tra dữ liệu", "Validation messages"),
    "journal": ("Trích nhật ký Cổng (đã che)", "Portal journal slice (masked)"),
    "trace": ("Bản ghi Playwright (trace.zip)", "Playwright trace (trace.zip)"),
    "downloads": ("Tải về", "Downloads"),
    "verify_manifest": ("Kiểm tra toàn vẹn (manifest)", "Verify the manifest"),
    "manifest_ok": ("Bộ kết quả nguyên vẹn, chữ ký hợp lệ.", "The bundle is intact and its signature valid."),
    "manifest_bad": ("Bộ kết quả không nguyên vẹn:", "The bundle is not intact:"),
    "no_results": ("Chưa có kết quả.", "No results yet."),
    "submission": ("Hồ sơ nộp kết quả", "Submission"),
    "procedure": ("Thủ tục hành chính", "Procedure"),
    "from_run": ("Từ lần chạy", "From run"),
    "build_submission": ("Lập bản tổng hợp", "Build the summary"),
    "mark_submitted": ("Đánh dấu đã nộp", "Mark as submitted"),
    "submitted_at": ("Đã nộp lúc", "Submitted at"),
    "no_passing": ("Chưa có lần chạy đạt", "No passing run yet"),
    "admin": ("Quản trị", "Administration"),
    "accounts": ("Tài khoản", "Accounts"),
    "targets": ("Hệ thống cần kiểm thử", "Systems under test"),
    "audit": ("Nhật ký thao tác", "Audit log"),
    "add": ("Thêm", "Add"),
    "add_target": ("Thêm hệ thống cần kiểm thử", "Add a system under test"),
    "add_account": ("Thêm tài khoản", "Add an account"),
    "target_id": ("Mã hệ thống", "System id"),
    "target_name": ("Tên hệ thống", "System name"),
    "target_path": ("Đường dẫn tệp cấu hình (target.yaml)", "Target file path (target.yaml)"),
    "active": ("Đang dùng", "Active"),
    "lock": ("Khoá", "Lock"),
    "unlock": ("Mở khoá", "Unlock"),
    "when": ("Thời điểm", "When"),
    "who": ("Người thực hiện", "Who"),
    "what": ("Thao tác", "What"),
    "back": ("Quay lại", "Back"),
    "all": ("Tất cả", "All"),
    "language": ("English", "Tiếng Việt"),
    "error": ("Không thực hiện được", "Could not be done"),
}

RUN_STATES = {"queued": ("Đang chờ", "Queued"), "running": ("Đang chạy", "Running"),
              "finished": ("Đã xong", "Finished"), "cancelled": ("Đã dừng", "Cancelled"),
              "interrupted": ("Bị gián đoạn", "Interrupted"), "error": ("Lỗi", "Error")}
VERDICTS = {"passed": ("Đạt", "Passed"), "passed_with_exceptions": ("Đạt, trừ", "Passed with exceptions"),
            "warning": ("Cảnh báo", "Warning"), "failed": ("Không đạt", "Failed"),
            "inconclusive": ("Không kết luận được", "Inconclusive"), "error": ("Lỗi", "Error"),
            "not_applicable": ("Không áp dụng", "Not applicable"), "not_evaluated": ("Chưa đánh giá", "Not evaluated"),
            "skipped": ("Chưa đánh giá", "Not evaluated")}
CHECKS = {"sso": ("SSO", "SSO"), "submission": ("Nộp hồ sơ", "Submission"), "payment": ("Thanh toán", "Payment"),
          "processing": ("Xử lý & đồng bộ", "Processing & sync")}


def translator(lang: str):
    index = 1 if lang == "en" else 0

    def t(key: str) -> str:
        return WORDS[key][index]

    def word(table: dict[str, tuple[str, str]], key: str) -> str:
        return table.get(key, (key, key))[index]

    return t, word
