"""Acceptance: a real browser completes SSO → submit → pay (new tab) → officer processing → result against the
mock portal, and the portal's journal holds the complete, valid message sequence."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from kiemthu.runtime import wait_until
from tests.ministry.pair import wait_outbox_empty

pytestmark = [pytest.mark.browser]

FILES = Path(__file__).resolve().parents[2] / "scenarios" / "files"
CITIZEN = "Nguyễn Văn An (001090012345)"
TIMEOUT_MS = 15_000


def deep_link(pair, service: dict) -> str:
    return (f"{pair.ministry_url}/dvc/nop-ho-so?MaTTHCDP={service['MaTTHCDP']}"
            f"&MaCoQuanThucHien={pair.target['system']['agency_code']}&vnconnect=1&MaDVC={service['MaDVC']}")


LLTP = {"MaTTHCDP": "2.001417.000.00.00.G15", "MaDVC": "2.001417.01"}


def sso_login(page) -> None:
    page.get_by_role("radio", name=CITIZEN).check()
    page.get_by_label("Mức độ xác thực").select_option("LoA2")
    page.get_by_role("button", name="Đăng nhập").click()


def submit_lltp(page) -> str:
    page.get_by_role("heading", name="Bước 1: Thông tin người nộp").wait_for()
    assert page.get_by_label("Họ và tên", exact=True).input_value() == "Nguyễn Văn An"
    assert page.get_by_label("Số định danh cá nhân", exact=True).input_value() == "001090012345"
    page.get_by_label("Mục đích sử dụng Phiếu", exact=True).fill("Bổ sung hồ sơ xin việc")
    page.get_by_label("Số lượng bản", exact=True).fill("1")
    page.get_by_role("button", name="Tiếp tục").click()
    page.get_by_role("heading", name="Bước 2: Thành phần hồ sơ").wait_for()
    page.get_by_label("Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", exact=True).set_input_files(FILES / "to-khai.pdf")
    page.get_by_label("Lấy từ Kho dữ liệu: Bản chụp Căn cước công dân", exact=True).check()
    page.get_by_label("Tôi xin cam đoan những thông tin khai trên là đúng sự thật").check()
    page.get_by_role("button", name="Nộp hồ sơ").click()
    page.locator("#ma-ho-so").wait_for()
    return page.locator("#ma-ho-so").inner_text().strip()


def pay_in_new_tab(context, page) -> None:
    with context.expect_page() as popup_info:
        page.get_by_role("link", name="Thanh toán trực tuyến").click()
    pay = popup_info.value
    pay.get_by_role("radio", name="Thành công").check()
    pay.get_by_role("button", name="Xác nhận thanh toán").click()
    pay.get_by_role("heading", name="Thanh toán thành công").wait_for()
    pay.close()


def officer_process(browser, pair, code: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{pair.ministry_url}/can-bo/dang-nhap")
    page.get_by_label("Tên đăng nhập").fill(pair.target["officer"]["username"])
    page.get_by_label("Mật khẩu").fill(pair.officer_password)
    page.get_by_role("button", name="Đăng nhập").click()
    for button in ("Tiếp nhận", "Xử lý", "Phê duyệt", "Trả kết quả"):
        row = page.get_by_role("row").filter(has_text=code)
        row.get_by_role("button", name=button).click()
        page.get_by_role("status").filter(has_text=code).wait_for()
    assert page.get_by_role("row").filter(has_text=code).get_by_role("button").count() == 0
    context.close()


def adapter_sequence(pair, code: str) -> list[tuple[str, str]]:
    """(service, status or progress text) of every accepted adapter call about the dossier, in order."""
    out = []
    for e in pair.journal(dossier=code, role="adapter"):
        if e["status_code"] != 200:
            continue
        for item in e["request"].get("data", []):
            if item.get("MaHoSo") == code:
                out.append((e["service"], item.get("TrangThaiHoSo") or item.get("NoiDungXuLy")))
    return out


def test_citizen_journey_end_to_end(pair, browser):
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    page.goto(deep_link(pair, LLTP))
    sso_login(page)
    page.get_by_text("Xin chào, Nguyễn Văn An").wait_for()
    code = submit_lltp(page)
    assert re.fullmatch(r"000\.00\.00\.G15-\d{6}-\d{4}", code)
    pay_in_new_tab(context, page)

    officer_process(browser, pair, code)
    wait_outbox_empty(pair, 30)
    view = wait_until(lambda: (d := pair.portal_dossier(code)) and d["TrangThaiHoSo"] == "10" and d,
                      30, what="dossier returned on the portal")

    # the portal's view: every status in order, the result with its code and a reachable link
    assert [h["status"] for h in view["status_history"]] == ["1", "2", "4", "9", "10"]
    fields = view["fields"]
    assert fields["KenhThucHien"] == "2" and fields["MaDoiTuong"].startswith("5b1f0e7a")
    assert {d["MaThanhPhanHoSo"] for d in fields["TaiLieuNop"]} == {"TP-LLTP-01", "TP-LLTP-02"}
    result = fields["DanhSachGiayToKetQua"][0]
    assert result["MaGiayToKetQua"] == "KQ.G15.000007"
    assert httpx.get(result["DuongDanTepTinKetQua"], timeout=10).content.startswith(b"%PDF")

    # the journal: dossier first, progress only after it, payment confirmed by IPN, statuses in order
    sequence = adapter_sequence(pair, code)
    assert sequence[0] == ("DongBoHoSoMC", "1")
    assert [s for svc, s in sequence if svc == "DongBoHoSoMC"] == ["1", "1", "2", "4", "9", "10"]
    assert sum(1 for svc, _ in sequence if svc == "CapNhatTienDoHoSoMC") == 6
    payments = [e for e in pair.journal(dossier=code) if e["role"] in ("payment", "ipn")]
    init = next(e for e in payments if e["service"] == "INIT")
    assert init["status_code"] == 200 and init["request"]["SoTien"] == "200000"
    ipn = [e for e in payments if e["role"] == "ipn"]
    assert ipn and ipn[-1]["response"]["MaLoi"] == "00"
    assert not [e for e in pair.journal(dossier=code) if e["status_code"] >= 400]

    # the citizen sees it paid and returned, and logs out through the portal
    page.goto(f"{pair.ministry_url}/ho-so-cua-toi")
    row = page.get_by_role("row").filter(has_text=code)
    assert "Đã thanh toán" in row.inner_text() and "Đã trả kết quả" in row.inner_text()
    page.get_by_role("button", name="Đăng xuất").click()
    page.wait_for_url(f"{pair.ministry_url}/**")
    assert page.get_by_role("button", name="Đăng xuất").count() == 0
    logout = [e for e in pair.journal(role="sso") if "logout" in e["path"]]
    assert logout and logout[-1]["status_code"] < 400
    context.close()


def test_second_service_needs_no_second_login(pair, browser):
    """Logged in on the portal but not (any more) on the ministry: the deep link of another service reaches its
    form through SSO without showing the portal's login page again."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(deep_link(pair, LLTP))
    sso_login(page)
    page.get_by_role("heading", name="Bước 1: Thông tin người nộp").wait_for()
    context.clear_cookies(name="btp_phien")
    page.goto(deep_link(pair, {"MaTTHCDP": "1.001193.000.00.00.G15", "MaDVC": "1.001193.01"}))
    page.get_by_role("heading", name="Bước 1: Thông tin người nộp").wait_for()
    assert page.get_by_label("Họ và tên người yêu cầu", exact=True).input_value() == "Nguyễn Văn An"
    context.close()
