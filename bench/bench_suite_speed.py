"""Speed of the suite against the reference system.

1. One service, all four checks: wall time of `conformance.runner.run` (pytest start, mock portal start, browser
   start, every flow, negative cases, evidence) — target ≤ 15 s.
2. The same clicks as a bare Playwright script (mock start + browser start + the happy path, no checks, no
   evidence), timed in the same session; ratio suite / bare — target ≤ 1.5.
3. 1 vs N services (copies of the paid service): how the time grows with one browser and a context per service.

    .venv/bin/python bench/bench_suite_speed.py [--repeat 3] [--services 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from conformance.portal import mock_process  # noqa: E402
from conformance.runner import run  # noqa: E402
from kiemthu.demo import DEMO_TARGET, demo_environment, start_reference_system  # noqa: E402
from kiemthu.runtime import CHROMIUM_ARGS, chromium_path, make_run_dir  # noqa: E402
from kiemthu.target import load_target  # noqa: E402
from scenarios import ROOT as SCENARIOS  # noqa: E402

SERVICE = "lltp-cap-phieu"


def timed_suite(target_file: Path, services: list[str], out: Path) -> float:
    t0 = time.monotonic()
    code = run(target=target_file, output=out, services=services, checks=[], headed=False, build_report=False)
    elapsed = time.monotonic() - t0
    if code != 0:
        print(f"  (suite exit {code}; see {out}/summary.json)")
    return elapsed


def bare_playwright(target, out: Path, same_clicks: bool = True) -> float:
    """The browser clicks of the suite with nothing else: no rules, no evidence, no journal, no waiting on the
    portal. `same_clicks` adds what the suite also clicks through: the wizard once more with a disallowed file (the
    upload probe), a first payment try (the lower-amount callback case) before the genuine one, the citizen's
    dossier list after each, and the page opened after logout; without it, only the happy path."""
    import tempfile as tf

    from playwright.sync_api import sync_playwright

    scenario = yaml.safe_load((SCENARIOS / f"{SERVICE}.yaml").read_text(encoding="utf-8"))
    base = target["system"]["base_url"]
    portal = target["portal"]["base_url"]
    bad = Path(tf.mkdtemp()) / "to-khai.exe"
    bad.write_bytes(b"MZ" + bytes(510))
    t0 = time.monotonic()
    mock = mock_process(DEMO_TARGET, portal, out, log_name="bare-mock.log").start(30)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium_path(headless=True), args=CHROMIUM_ARGS)
            page = browser.new_context().new_page()
            deep_link = (f"{base}/dvc/nop-ho-so?MaTTHCDP={scenario['MaTTHCDP']}&MaCoQuanThucHien={scenario['agency_code']}"
                         f"&vnconnect=1&MaDVC={scenario['MaDVC']}")
            page.goto(deep_link)
            page.get_by_role("radio", name="Nguyễn Văn An (001090012345)").click()
            page.get_by_label("Mức độ xác thực").select_option("LoA2")
            page.get_by_role("button", name="Đăng nhập").click()

            def fill_wizard(tab, file_of) -> None:
                tab.get_by_role("heading", name="Bước 1: Thông tin người nộp").wait_for()
                tab.get_by_label("Mục đích sử dụng Phiếu").fill("Bổ sung hồ sơ xin việc")
                tab.get_by_label("Số lượng bản").fill("1")
                tab.get_by_role("button", name="Tiếp tục").click()
                for d in scenario["documents"]:
                    tab.get_by_label(d["TenThanhPhanHoSo"], exact=True).set_input_files(str(file_of(d)))
                tab.get_by_role("checkbox", name="Tôi xin cam đoan những thông tin khai trên là đúng sự thật").check()
                tab.get_by_role("button", name="Nộp hồ sơ").click()

            def dossier_list(row_text: str) -> None:
                tab = page.context.new_page()
                tab.goto(f"{base}/ho-so-cua-toi")
                tab.get_by_text(row_text).first.wait_for()
                tab.close()

            def submit_and_pay() -> str:
                fill_wizard(page, lambda d: SCENARIOS / d["sample_file"])
                code = page.locator("#ma-ho-so").inner_text()
                if same_clicks:
                    probe = page.context.new_page()
                    probe.goto(deep_link)
                    fill_wizard(probe, lambda d: bad)
                    probe.get_by_text("không đúng định dạng").first.wait_for()
                    probe.close()
                for attempt in range(2 if same_clicks else 1):
                    if attempt == 0 and same_clicks:  # the platform reports a lower amount: the dossier stays unpaid
                        httpx.post(f"{mock.control.url}/_mock/adversarial", json={"mode": "ipn_lower_amount"},
                                   headers=mock.control.headers(), trust_env=False)
                    with page.context.expect_page() as info:
                        page.get_by_role("link", name="Thanh toán trực tuyến").click()
                    pay = info.value
                    pay.get_by_role("radio", name="Vietcombank").click()
                    pay.get_by_role("radio", name="Thành công").click()
                    pay.get_by_role("button", name="Xác nhận thanh toán").click()
                    pay.wait_for_url(lambda url: url.startswith(base))
                    if attempt == 0 and same_clicks:
                        pay.close()
                        dossier_list("Chưa thanh toán")
                        continue
                    pay.get_by_text("Thanh toán thành công").wait_for()
                    pay.close()
                    if same_clicks:
                        dossier_list("Đã thanh toán")
                return code

            code = submit_and_pay()
            page.get_by_role("button", name="Đăng xuất").click()
            if same_clicks:
                after = page.context.new_page()
                after.goto(f"{base}/ho-so-cua-toi")
                after.get_by_role("button", name="Đăng nhập").first.wait_for()
                after.close()
            officer = browser.new_context().new_page()
            officer.goto(f"{base}/can-bo/dang-nhap")
            officer.get_by_label("Tên đăng nhập").fill(target["officer"]["username"])
            officer.get_by_label("Mật khẩu").fill(target.secret("officer.password"))
            officer.get_by_role("button", name="Đăng nhập").click()
            officer.goto(f"{base}/can-bo/ho-so")
            for button in ("Tiếp nhận", "Xử lý", "Phê duyệt", "Trả kết quả"):
                officer.get_by_role("row").filter(has_text=code).get_by_role("button", name=button).click()
            officer.get_by_role("row").filter(has_text=code).get_by_role("link", name="Xem kết quả").wait_for()
            browser.close()
    finally:
        mock.stop()
    return time.monotonic() - t0


def many_services_target(n: int, folder: Path) -> tuple[Path, list[str]]:
    """A copy of the demo target listing `n` copies of the paid service (distinct ids, same published procedure)."""
    data = yaml.safe_load(DEMO_TARGET.read_text(encoding="utf-8"))
    scenario = yaml.safe_load((SCENARIOS / f"{SERVICE}.yaml").read_text(encoding="utf-8"))
    ids = []
    for i in range(n):
        sid = f"{SERVICE}-{i + 1:02d}"
        copy = {**scenario, "id": sid}
        copy["documents"] = [{**d, "sample_file": str(SCENARIOS / d["sample_file"])} for d in scenario["documents"]]
        (folder / f"{sid}.yaml").write_text(yaml.safe_dump(copy, allow_unicode=True), encoding="utf-8")
        ids.append(sid)
    data["services"] = [{"scenario": f"{sid}.yaml"} for sid in ids]
    path = folder / "target.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, ids


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--services", type=int, default=10)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kiemthu-bench-speed-"))
    suite_times, bare_times, happy_times = [], [], []
    for i in range(args.repeat):
        demo_environment()
        target = load_target(DEMO_TARGET)
        run_dir = make_run_dir(tmp / f"one-{i}")
        with start_reference_system(target, run_dir):
            suite_times.append(timed_suite(DEMO_TARGET, [SERVICE], run_dir))
            bare_times.append(bare_playwright(target, run_dir, same_clicks=True))
            happy_times.append(bare_playwright(target, run_dir, same_clicks=False))
        print(f"run {i + 1}: suite {suite_times[-1]:.1f}s, bare Playwright same clicks {bare_times[-1]:.1f}s, "
              f"happy path only {happy_times[-1]:.1f}s", flush=True)
    s, b, h = statistics.median(suite_times), statistics.median(bare_times), statistics.median(happy_times)
    print(f"\nOne service, four checks (median of {args.repeat}): suite {s:.1f}s (target ≤ 15 s); bare Playwright "
          f"with the same clicks {b:.1f}s → ratio {s / b:.2f} (target ≤ 1.5); happy path only {h:.1f}s → ratio {s / h:.2f}")

    growth = {}
    for n in (1, args.services):
        demo_environment()
        folder = tmp / f"many-{n}"
        folder.mkdir()
        target_file, ids = many_services_target(n, folder)
        target = load_target(target_file)
        run_dir = make_run_dir(folder / "run")
        with start_reference_system(target, run_dir):
            growth[n] = timed_suite(target_file, ids, run_dir)
        print(f"{n} service(s): {growth[n]:.1f}s", flush=True)
    n = args.services
    print(f"\nGrowth: 1 service {growth[1]:.1f}s, {n} services {growth[n]:.1f}s "
          f"→ {(growth[n] - growth[1]) / (n - 1):.1f}s per extra service (fixed cost ≈ {growth[1] - (growth[n] - growth[1]) / (n - 1):.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
