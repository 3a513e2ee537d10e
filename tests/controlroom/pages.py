"""Steps an officer takes in the control room's pages (Playwright), shared by the browser tests."""

from __future__ import annotations

import re

from tests.controlroom.room import PASSWORDS

RUN_TIMEOUT_MS = 240_000


def login(page, username: str) -> None:
    page.goto("/")
    page.get_by_role("heading", name="Đăng nhập").wait_for()
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORDS[username])
    page.get_by_role("button", name="Đăng nhập").click()


def start_run(page, services: list[str], checks: list[str], defects: tuple[str, ...] = (),
              side_by_side: str | None = None) -> str:
    """From the campaign page: choose services, checks, how many side by side (the form's default when None)
    and defects, start; returns the run page's id."""
    form = page.locator("form[action$='/chay']")
    if side_by_side is not None:
        form.get_by_label("Số dịch vụ kiểm thử cùng lúc").select_option(side_by_side)
    for box in form.locator("input[name=service]").all():
        box.set_checked(box.get_attribute("value") in services)
    for box in form.locator("input[name=check]").all():
        box.set_checked(box.get_attribute("value") in checks)
    if defects:
        form.locator("details.defects > summary").click()
    for d in defects:
        form.locator(f"input[name=defect][value='{d}']").check()
    form.get_by_role("button", name="Bắt đầu").click()
    page.wait_for_url(re.compile(r"/lan-chay/[^/]+$"))
    return page.url.rsplit("/", 1)[-1]


def wait_finished(page) -> None:
    page.locator("#run-state[data-state=finished]").wait_for(timeout=RUN_TIMEOUT_MS)
    page.get_by_role("heading", name="Kết quả").wait_for()
