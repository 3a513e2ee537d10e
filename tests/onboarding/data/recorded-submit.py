import re
from playwright.sync_api import Playwright, sync_playwright, expect


def run(playwright: Playwright) -> None:
    browser = playwright.chromium.launch(headless=False)
    context = browser.new_context()
    page = context.new_page()
    page.goto("http://127.0.0.1:8601/dvc/nop-ho-so?MaTTHCDP=2.001417.000.00.00.G15&MaCoQuanThucHien=000.00.00.G15&vnconnect=1&MaDVC=2.001417.01")
    expect(page.get_by_role("heading", name="Bước 1: Thông tin người nộp")).to_be_visible()
    page.get_by_label("Mục đích sử dụng Phiếu").click()
    page.get_by_label("Mục đích sử dụng Phiếu").fill("Bổ sung hồ sơ xin việc")
    page.get_by_label("Số lượng bản").click()
    page.get_by_label("Số lượng bản").fill("1")
    page.get_by_role("button", name="Tiếp tục").click()
    page.get_by_label("Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp").set_input_files("to-khai.pdf")
    page.get_by_label("Lấy từ Kho dữ liệu: Bản chụp Căn cước công dân").check()
    page.get_by_label("Tôi xin cam đoan những thông tin khai trên là đúng sự thật").check()
    page.get_by_role("button", name="Nộp hồ sơ").click()
    page.get_by_text("Nộp hồ sơ thành công").click()
    page.keyboard.press("Control+C")

    # ---------------------
    context.close()
    browser.close()


with sync_playwright() as playwright:
    run(playwright)
