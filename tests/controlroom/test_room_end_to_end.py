"""The control room end to end, in a real Chromium against a real `kiemthu serve`: log in, create a campaign for
the demo target, start runs and watch their progress, read a seeded defect's evidence, download the PDF, build the
submission from two different runs and mark it submitted. Screenshots of the main pages go to $KIEMTHU_ROOM_SHOTS
when it is set."""

from __future__ import annotations

import json
import os
import re
from contextlib import closing
from pathlib import Path

import pytest

from kiemthu.runtime import wait_until
from tests.controlroom.pages import RUN_TIMEOUT_MS, login, start_run, wait_finished
from tests.controlroom.room import PASSWORDS, start_room

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DEFECT = "wrong-kenh-thuc-hien"  # khai-sinh's submission check fails: KenhThucHien = 1
SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def room(tmp_path_factory, signing_key_path):
    r = start_room(tmp_path_factory.mktemp("room-e2e"), signing_key_path)
    yield r
    r.stop()


@pytest.fixture(scope="module")
def page(browser, room):
    context = browser.new_context(viewport=SIZES["desktop"], base_url=room.url, accept_downloads=True)
    p = context.new_page()
    p.set_default_timeout(20_000)
    yield p
    context.close()


def shoot(page, name: str) -> None:
    """A full-page screenshot at the desktop size and at a phone's, when the caller asked for them."""
    folder = os.environ.get("KIEMTHU_ROOM_SHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.screenshot(path=str(Path(folder) / f"{name}-{size}.png"), full_page=True)
    page.set_viewport_size(SIZES["desktop"])


def test_login_and_create_campaign(page):
    """An officer logs in, sees the campaigns page and creates a campaign for the demo target published today."""
    page.goto("/dang-nhap")
    shoot(page, "login")
    login(page, "canbo")
    page.get_by_role("heading", name="Đợt kiểm thử", exact=True).wait_for()
    page.get_by_label("Tên đợt").fill("Đợt công khai tháng 12")
    page.get_by_label("Hệ thống cần kiểm thử").select_option("demo")
    page.get_by_role("button", name="Tạo").click()
    page.wait_for_url(re.compile(r"/chien-dich/[^/]+$"))
    rows = page.locator("table tbody tr[data-service]")
    assert rows.count() == 3
    assert {r.get_attribute("data-status") for r in rows.all()} == {"not_run"}
    assert page.get_by_text("Hạn nộp kết quả").is_visible()
    page.locator(".countdown").filter(has_text=re.compile(r"\d+ ngày \d\d:\d\d:\d\d")).wait_for()


def test_run_progress_and_failing_evidence(page, room):
    """A run with a seeded defect: the progress table fills in live, and once finished the failing check shows
    its screenshot inline, the masked journal slice, the trace link; the PDF downloads."""
    campaign = page.url
    start_run(page, ["khai-sinh"], ["sso", "submission"], (DEFECT,))
    page.locator("#board tbody tr").first.wait_for(timeout=RUN_TIMEOUT_MS)  # the first event came without a reload
    seen = page.locator("#board tbody").inner_text()
    page.evaluate("window.__samePage = true")
    wait_until(lambda: page.locator("#board tbody").inner_text() != seen, 180, what="the progress table to change")
    changed_live = page.evaluate("window.__samePage === true")
    shoot(page, "run-live")
    wait_finished(page)
    assert changed_live, "the progress changed only by reloading the page"
    failing = page.locator("details.failing").first
    assert "Nộp hồ sơ" in failing.locator("summary").inner_text()
    assert failing.get_by_text("ensure_synced_channel_online").first.is_visible()
    shot = failing.locator(".shots img").first
    shot.wait_for()
    shot.scroll_into_view_if_needed()  # lazy images load once on screen
    assert page.request.get(shot.get_attribute("src")).headers["content-type"] == "image/png"
    wait_until(lambda: shot.evaluate("i => i.complete && i.naturalWidth > 0"), 10, what="screenshot loaded")
    assert failing.get_by_text("Trích nhật ký Cổng (đã che)").is_visible()
    assert failing.get_by_role("link", name=re.compile("trace.zip")).count() == 1
    shoot(page, "run-failed")
    with page.expect_download() as info:
        page.get_by_role("link", name="report.pdf").click()
    pdf = Path(info.value.path())
    assert pdf.read_bytes()[:5] == b"%PDF-"
    page.get_by_role("button", name="Kiểm tra toàn vẹn (manifest)").click()
    page.get_by_text("Bộ kết quả nguyên vẹn, chữ ký hợp lệ.").wait_for()
    page.goto(campaign)
    row = page.locator("tr[data-service=khai-sinh]")
    assert row.get_attribute("data-status") == "failed" and "Nộp hồ sơ" in row.inner_text()


def test_evidence_download_refuses_path_traversal(page, room):
    """Files of a run are served from its folder only: `..`, encoded `..`, absolute paths and links out are refused."""
    run_id = page.locator("table tbody tr td a[href^='/lan-chay/']").first.get_attribute("href").rsplit("/", 1)[-1]
    run_dir = room.runs / run_id
    (run_dir / "evidence" / "link-out").symlink_to(room.db)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    import httpx

    with httpx.Client(base_url=room.url, cookies=cookies, trust_env=False) as c:
        assert c.get(f"/lan-chay/{run_id}/tep/summary.json").status_code == 200
        for attack in ("../room.sqlite", "..%2Froom.sqlite", "%2e%2e/%2e%2e/room.sqlite", "..%2f..%2froom.sqlite",
                       "/etc/passwd", "%2Fetc%2Fpasswd", "evidence/link-out", "evidence/../../room.sqlite"):
            r = c.get(f"/lan-chay/{run_id}/tep/{attack}")
            assert r.status_code == 404, (attack, r.status_code)
            assert b"SQLite format" not in r.content and b"root:" not in r.content


def test_submission_from_two_runs(page, room):
    """Two services passed in two different runs: the submission takes each from its own run, the PDF downloads,
    and once marked the campaign's services show as submitted."""
    campaign = page.url
    every = ["sso", "submission", "payment", "processing"]  # a service completes testing with all its checks
    first = start_run(page, ["khai-sinh"], every)
    wait_finished(page)
    page.goto(campaign)
    second = start_run(page, ["ket-hon"], every)
    wait_finished(page)
    page.goto(campaign)
    shoot(page, "campaign")
    page.get_by_role("link", name="Hồ sơ nộp kết quả").first.click()
    page.get_by_role("heading", name=re.compile("Hồ sơ nộp kết quả")).wait_for()
    assert page.locator("tr[data-service=khai-sinh] .source").inner_text() == first
    assert page.locator("tr[data-service=ket-hon] .source").inner_text() == second
    assert re.match(r"\S+", page.locator("tr[data-service=khai-sinh] .codes").inner_text())
    page.get_by_role("button", name="Lập bản tổng hợp").click()
    page.get_by_role("link", name="report.pdf").wait_for(timeout=60_000)
    with page.expect_download() as info:
        page.get_by_role("link", name="report.pdf").click()
    assert Path(info.value.path()).read_bytes()[:5] == b"%PDF-"
    shoot(page, "submission")
    page.get_by_role("button", name="Đánh dấu đã nộp").click()
    page.get_by_text("Đã nộp lúc").wait_for()
    page.goto("/")
    assert page.locator("tr[data-service=khai-sinh]").first.get_attribute("data-status") == "submitted"
    assert page.locator("tr[data-service=ket-hon]").first.get_attribute("data-status") == "submitted"
    shoot(page, "home")


def test_restart_keeps_the_campaign_and_marks_the_cut_run(page, room):
    """`kiemthu serve` restarted in the middle of a run: finished runs, the submission and the campaign are kept,
    and the run that was cut is shown as interrupted, not as running forever."""
    page.goto("/")
    page.locator("section.card h2 a").first.click()
    campaign = page.url
    cut = start_run(page, ["lltp-cap-phieu"], ["sso"])
    page.locator("#run-state[data-state=running]").wait_for(timeout=60_000)
    room.restart()
    page.goto(f"/lan-chay/{cut}")  # the session is kept in the database: no new login
    page.locator("#run-state[data-state=interrupted]").wait_for()
    assert page.get_by_text("Bị gián đoạn").first.is_visible()
    page.goto(campaign)
    assert page.locator("tr[data-service=khai-sinh]").get_attribute("data-status") == "submitted"
    assert page.locator("table tbody tr td a[href^='/lan-chay/']").count() >= 4


def test_second_run_on_the_same_target_refused_then_cancel(page, room):
    """While a run tests the target, another start is refused with a message naming that run; the officer
    cancels the first from its page and it shows as cancelled."""
    page.goto("/")
    page.locator("section.card h2 a").first.click()
    campaign = page.url
    busy = start_run(page, ["lltp-cap-phieu"], ["sso"])
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    again = page.request.post(f"{campaign}/chay", form={"csrf": token, "service": "ket-hon", "check": "sso"},
                              headers={"Accept": "text/html"}, max_redirects=0)
    assert again.status == 409 and busy in again.text(), again.text()[:500]
    page.get_by_role("button", name="Dừng lần chạy").click()
    page.locator("#run-state[data-state=cancelled]").wait_for(timeout=120_000)
    assert page.get_by_text("Đã dừng").first.is_visible()


def test_no_secret_in_any_page(page, room):
    """After the runs, no page an officer can open (campaigns, runs, evidence text) holds a secret of the target."""
    import httpx

    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    seen: set[str] = set()
    todo = ["/"]
    with httpx.Client(base_url=room.url, cookies=cookies, trust_env=False, headers={"Accept": "text/html"}) as c:
        while todo and len(seen) < 60:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            r = c.get(path)
            text = r.text if "text" in r.headers.get("content-type", "") or "json" in r.headers.get("content-type", "") else ""
            for value in [*room.secrets.values(), *PASSWORDS.values()]:
                assert value not in text, path
            todo += [h for h in re.findall(r'href="(/[^"#?]*)"', text)
                     if not h.startswith(("/tinh", "/ngon-ngu")) and not h.endswith((".png", ".zip", ".pdf", ".xlsx"))]
    assert any(p.startswith("/lan-chay/") for p in seen)


def test_admin_pages(browser, room):
    """The administrator's targets and accounts pages (screenshots), with the demo target listed."""
    context = browser.new_context(viewport=SIZES["desktop"], base_url=room.url)
    p = context.new_page()
    with closing(context):
        login(p, "admin")
        p.get_by_role("link", name="Hệ thống cần kiểm thử").first.click()
        p.get_by_role("cell", name="demo", exact=True).wait_for()
        shoot(p, "admin-targets")
        p.get_by_role("link", name="Tài khoản").click()
        p.get_by_role("cell", name="canbo", exact=True).first.wait_for()
        shoot(p, "admin-accounts")
        p.get_by_role("link", name="English").click()
        p.get_by_role("heading", name="Accounts").wait_for()


def test_services_side_by_side_each_pass_with_their_own_dossier(page, room):
    """The whole catalogue with two services side by side (the start form's choice): the run page says so, the
    suite's progress shows a service's checks starting before another's ended, and every service passes with a
    dossier code of its own."""
    page.goto("/")
    page.locator("section.card h2 a").first.click()
    campaign = page.url
    form = page.locator("form[action$='/chay']")
    assert form.get_by_label("Số dịch vụ kiểm thử cùng lúc").input_value() == "auto"
    every = ["sso", "submission", "payment", "processing"]
    run_id = start_run(page, ["lltp-cap-phieu", "khai-sinh", "ket-hon"], every, side_by_side="2")
    assert page.locator("#run-workers").inner_text() == "2"
    wait_finished(page)
    # the submissions were played inside the SSO checks' journeys: their rows still count their own steps' time
    def submission_times() -> list[str]:
        return page.locator("#board tbody tr[data-key$='|submission'] .el").all_inner_texts()

    live = submission_times()
    page.reload()
    for times in (live, submission_times()):  # as the page updated itself, and as the server renders it
        assert len(times) == 3 and all(float(text.split()[0]) > 0 for text in times), times
    shoot(page, "run-side-by-side")
    events = [json.loads(line) for line in (room.runs / run_id / "progress.jsonl").read_text(encoding="utf-8").splitlines()]
    spans: dict[str, list[float]] = {}
    for e in events:
        if e.get("event") == "check" and e.get("service"):
            spans.setdefault(e["service"], []).append(e["t"])
    assert len(spans) == 3
    windows = sorted((min(ts), max(ts)) for ts in spans.values())
    assert any(later[0] < earlier[1] for earlier, later in zip(windows, windows[1:])), windows
    summary = json.loads((room.runs / run_id / "summary.json").read_text(encoding="utf-8"))
    codes = [c for s in summary["services"] for c in s["dossier_codes"]]
    assert len(codes) == len(set(codes)) == 3
    page.goto(campaign)
    for service in ("lltp-cap-phieu", "ket-hon"):
        assert page.locator(f"tr[data-service={service}]").get_attribute("data-status") in ("passed", "submitted")
