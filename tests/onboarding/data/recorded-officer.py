from playwright.sync_api import Playwright, sync_playwright, expect


def run(playwright: Playwright) -> None:
    browser = playwright.chromium.launch(headless=False)
    context = browser.new_context()
    page = context.new_page()
    page.goto("http://127.0.0.1:8601/ho-so/000.00.00.G15-261202-0001")
    with page.expect_popup() as page1_info:
        page.get_by_role("link", name="Thanh toán trực tuyến").click()
    page1 = page1_info.value
    page1.get_by_role("radio", name="Vietcombank").check()
    page1.get_by_role("button", name="Xác nhận thanh toán", exact=True).click()
    page.get_by_role("row", name="000.00.00.G15-261202-0001 Mới").get_by_role("button", name="Tiếp nhận").click()
    page.get_by_role("link", name="Xem kết quả").first.click()
    page.get_by_label("Loại giấy tờ").select_option("KQ.G15.000007")
    page.locator("#ghi-chu").fill("Đủ điều kiện")
    page.get_by_placeholder("Tìm mã hồ sơ").fill("000.00.00.G15")
    expect(page.get_by_text("Đang xử lý")).to_be_hidden()
    page.get_by_text("Hướng dẫn").hover()
    page.close()
