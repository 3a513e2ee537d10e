"""Officer in the loop from the control room, in a real Chromium: an administrator registers a target whose
officer works by hand, the officer starts a run, the run page shows what to do for which dossier code, the
officer does it in the reference system's back office and clicks "Đã thực hiện"; the processing check passes."""

from __future__ import annotations

import re
from contextlib import closing

import pytest

from kiemthu.demo import DEMO_TARGET
from kiemthu.runtime import CHROMIUM_ARGS, chromium_path, free_port
from tests.controlroom.room import start_room
from tests.controlroom.pages import login, start_run, wait_finished
from tests.ministry.driver import Officer

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def ministry_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def room(tmp_path_factory, signing_key_path, ministry_port):
    r = start_room(tmp_path_factory.mktemp("room-officer"), signing_key_path,
                   env={"KIEMTHU_MINISTRY_PORT": str(ministry_port)})
    yield r
    r.stop()


@pytest.fixture(scope="module")
def manual_target(tmp_path_factory):
    text = DEMO_TARGET.read_text(encoding="utf-8").replace("  mode: automated\n",
                                                           "  mode: manual\n  manual_deadline_s: 180\n", 1)
    path = tmp_path_factory.mktemp("manual") / "target.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_officer_answers_the_prompt(room, manual_target, ministry_port):
    """The prompt panel names the dossier code and the back-office step; after the step and "Đã thực hiện" the
    prompt is gone and the run's processing check passes."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(headless=True), args=CHROMIUM_ARGS, headless=True)
        with closing(browser):
            admin = browser.new_page(base_url=room.url)
            login(admin, "admin")
            admin.goto("/quan-tri/he-thong")
            admin.get_by_label("Mã hệ thống").fill("btp-thu-cong")
            admin.get_by_label("Tên hệ thống").fill("Bộ Tư pháp — cán bộ xử lý thủ công")
            admin.get_by_label("Đường dẫn tệp cấu hình (target.yaml)").fill(str(manual_target))
            admin.get_by_role("button", name="Thêm").click()
            admin.get_by_role("cell", name="btp-thu-cong", exact=True).wait_for()

            page = browser.new_page(base_url=room.url)
            page.set_default_timeout(20_000)
            login(page, "canbo")
            page.get_by_label("Tên đợt").fill("Đợt xử lý thủ công")
            page.get_by_label("Hệ thống cần kiểm thử").select_option("btp-thu-cong")
            page.get_by_role("button", name="Tạo").click()
            page.wait_for_url(re.compile(r"/chien-dich/[^/]+$"))
            # one person answers the prompts: services run one at a time, and the form says why
            page.get_by_text("Cán bộ xử lý hồ sơ thủ công trên hệ thống này").wait_for()
            assert page.get_by_label("Số dịch vụ kiểm thử cùng lúc").count() == 0
            start_run(page, ["lltp-cap-phieu"], ["processing"])
            prompt = page.locator("form.prompt")
            prompt.wait_for(timeout=240_000)
            code = prompt.locator("strong").inner_text().strip()
            assert code.startswith("000.00.00.G15-") and "Đã thực hiện" in prompt.inner_text()
            officer = Officer(f"http://127.0.0.1:{ministry_port}", "canbo", room.secrets["KIEMTHU_OFFICER_PASSWORD"])
            for action in ("tiep-nhan", "xu-ly", "phe-duyet"):
                officer.act(code, action)
            prompt.get_by_role("button", name="Đã thực hiện").click()
            page.wait_for_url(re.compile(r"/lan-chay/[^/]+$"))
            officer.act(code, "tra-ket-qua")
            wait_finished(page)
            assert page.locator("form.prompt").count() == 0
            processing = page.locator("details.check-block").filter(has_text="Xử lý & đồng bộ").first
            assert "Đạt" in processing.locator("summary .verdict").inner_text()
