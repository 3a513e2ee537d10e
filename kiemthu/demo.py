"""`kiemthu demo`: the reference ministry system and the mock portal on free loopback ports, the whole suite, the report.

Also the shared way to start the reference system from a target file (used by the suite's tests, load tests
and benchmarks), so the mapping target → the system's own configuration lives in one place.
"""

from __future__ import annotations

import json
import os
import secrets
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

from rich.console import Console, Group
from rich.measure import Measurement
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from kiemthu.runtime import (VN_TZ, REPO_ROOT, ChildExited, DeadlineExceeded, ManagedProcess, PortTaken,
                             ensure_port_free, free_port, make_run_dir, python_module_cmd, temp_dir)

DEMO_TARGET = REPO_ROOT / "examples" / "ministry" / "target.yaml"
SECRET_VARS = ("KIEMTHU_SSO_CLIENT_SECRET", "KIEMTHU_PAYMENT_SECRET", "KIEMTHU_ADAPTER_PASSWORD", "KIEMTHU_OFFICER_PASSWORD")


PLAIN_VARS = ("KIEMTHU_MOCK_PORT", "KIEMTHU_MINISTRY_PORT", "KIEMTHU_PUBLICATION_DATE")


def demo_environment(*, overwrite: bool = True, keep: tuple[str, ...] | list[str] = ()) -> dict[str, str]:
    """Free ports and fresh random secrets for the demo target's placeholders, set in os.environ (the
    variables named in `keep` are left as they are)."""
    env = {"KIEMTHU_MOCK_PORT": str(free_port()), "KIEMTHU_MINISTRY_PORT": str(free_port())}
    env.update({name: secrets.token_urlsafe(18) for name in SECRET_VARS})
    # the demo pretends the services were published today, so the report shows a live deadline
    env["KIEMTHU_PUBLICATION_DATE"] = datetime.now(VN_TZ).date().isoformat()
    for k, v in env.items():
        if (overwrite and k not in keep) or k not in os.environ:
            os.environ[k] = v
    from kiemthu.logs import register_secret

    for name in SECRET_VARS:
        register_secret(os.environ[name])
    return {k: os.environ[k] for k in env}


def prepare_demo_environment(console: Console) -> dict[str, str]:
    """The demo's variables, saying what it does with those the user had set: a secret the user set keeps its
    value (the reference system and the mock both read it from there); a port or date set otherwise is
    replaced, and named with both values (none of them is a secret)."""
    before = {name: os.environ.get(name) for name in (*SECRET_VARS, *PLAIN_VARS)}
    kept = [name for name in SECRET_VARS if before[name]]
    env = demo_environment(keep=kept)
    if kept:
        console.print(f"Giữ giá trị bạn đã đặt / keeping the values you set for: {', '.join(kept)}",
                      markup=False, highlight=False, soft_wrap=True)
    replaced = [f"{name} ({before[name]} → {env[name]})" for name in PLAIN_VARS
                if before[name] and before[name] != env[name]]
    if replaced:
        console.print(f"Đã thay (bản demo dùng cổng trống và ngày hôm nay) / replaced (the demo uses free ports and "
                      f"today's date): {', '.join(replaced)}", markup=False, highlight=False, soft_wrap=True)
    return env


def ministry_environment(target, defects: list[str] | tuple[str, ...] = (), db_path: Path | None = None) -> dict[str, str]:
    """The reference system's own configuration (MINISTRY_* variables) derived from a target file."""
    portal = target["portal"]
    env = {
        "MINISTRY_PUBLIC_URL": target["system"]["base_url"].rstrip("/"),
        "MINISTRY_PORTAL_URL": portal["base_url"].rstrip("/"),
        "MINISTRY_AGENCY_CODE": target["system"]["agency_code"],
        "MINISTRY_DEFECTS": ",".join(defects),
    }
    if "sso_client" in portal:
        env["MINISTRY_SSO_CLIENT_ID"] = portal["sso_client"]["client_id"]
        env["MINISTRY_SSO_CLIENT_SECRET"] = target.secret("portal.sso_client.client_secret")
    if "payment_partner" in portal:
        env["MINISTRY_PAYMENT_PARTNER"] = portal["payment_partner"]["code"]
        env["MINISTRY_PAYMENT_SECRET"] = target.secret("portal.payment_partner.secret")
    if "adapter_account" in portal:
        env["MINISTRY_ADAPTER_USER"] = portal["adapter_account"]["username"]
        env["MINISTRY_ADAPTER_PASSWORD"] = target.secret("portal.adapter_account.password")
    officer = target.get("officer") or {}
    if officer.get("username"):
        env["MINISTRY_OFFICER_USER"] = officer["username"]
        env["MINISTRY_OFFICER_PASSWORD"] = target.secret("officer.password")
    if db_path:
        env["MINISTRY_DB"] = str(db_path)
    return env


def start_reference_system(target, run_dir: Path, defects: list[str] | tuple[str, ...] = (), *, timeout: float = 30.0,
                           catalogue: Path | None = None) -> ManagedProcess:
    """Start `python -m examples.ministry` for a target on its base_url port; returns once /health answers.
    `catalogue`: the system's services.yaml, when it serves other services than its own file lists."""
    base = target["system"]["base_url"].rstrip("/")
    port = urlparse(base).port or 80
    # a server already there would answer /health in its place
    ensure_port_free(port, urlparse(base).hostname or "127.0.0.1", "reference system (system.base_url)")
    db = temp_dir("ministry") / "ministry.sqlite"  # deleted when the system stops
    proc = ManagedProcess(
        name="reference ministry system",
        cmd=python_module_cmd("examples.ministry", "--port", str(port)),
        health_url=f"{base}{target['system'].get('health_path', '/health')}",
        log_path=Path(run_dir) / "logs" / "ministry.log",
        env={**ministry_environment(target, defects, db), **({"MINISTRY_CATALOGUE": str(catalogue)} if catalogue else {})},
        scratch=[db.parent],
    )
    return proc.start(timeout)


def list_defects() -> list[dict]:
    """The reference system's defect catalogue, asked of the system itself."""
    import subprocess

    out = subprocess.run(python_module_cmd("examples.ministry", "--list-defects", "--json"), capture_output=True,
                         text=True, cwd=REPO_ROOT, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"could not list defects: {out.stderr.strip()[-300:]}")
    return json.loads(out.stdout)


# check verdicts as the report words them; the old `skipped` is read as `not_evaluated`
VERDICT_WORDS = {
    "passed": ("Đạt", "green"), "passed_with_exceptions": ("Đạt, trừ", "green"), "warning": ("Cảnh báo", "yellow"),
    "failed": ("Không đạt", "red"), "inconclusive": ("Không kết luận được", "magenta"), "error": ("Lỗi", "red"),
    "not_applicable": ("Không áp dụng", ""), "not_evaluated": ("Chưa đánh giá", ""), "skipped": ("Chưa đánh giá", ""),
}
CHECK_COLUMNS = (("sso", "SSO"), ("submission", "Nộp hồ sơ"), ("payment", "Thanh toán"),
                 ("processing", "Xử lý & đồng bộ"))


def _unverified_name(item) -> str:
    """The Vietnamese name the report prints for a rule that could not be verified (never its id)."""
    from reports.vocabulary import rule_title, short_title, variant_name

    rule_id = item.get("rule_id", "?") if isinstance(item, dict) else str(item)
    variant = item.get("variant") if isinstance(item, dict) else None
    if variant:
        return variant_name(variant)
    return short_title(rule_id) or rule_title(rule_id, rule_id)


def _verdict_text(check: dict) -> Text:
    verdict = check.get("verdict", "inconclusive")
    word, style = VERDICT_WORDS.get(verdict, (str(verdict), ""))
    if verdict == "passed_with_exceptions" and check.get("unverified"):
        word = f"{word}: {', '.join(_unverified_name(u) for u in check['unverified'])}"
    return Text(word, style=style)


def _codes(svc: dict) -> list[str]:
    """A code is one to submit only when the service completed testing, as the PDF prints it."""
    return list(svc.get("dossier_codes", [])) if svc.get("completed") else []


def _completed_text(svc: dict) -> Text:
    return Text("Có", style="green") if svc.get("completed") else Text("Không", style="red")


def summary_table(summary: dict) -> Table:
    """One row per service, one column per check (wide terminals)."""
    table = Table(title=f"Kết quả kiểm thử — run {summary['run_id']}")
    table.add_column("Dịch vụ (Mã DVC)", no_wrap=True)
    table.add_column("Mã số hồ sơ\n(hoàn thành)", no_wrap=True)
    for _, header in CHECK_COLUMNS:
        table.add_column(header)
    table.add_column("Hoàn thành", no_wrap=True)
    for svc in summary["services"]:
        checks = svc.get("checks", {})
        table.add_row(f"{svc['id']}\n{svc['MaDVC']}", "\n".join(_codes(svc)) or "—",
                      *[_verdict_text(checks.get(key, {})) for key, _ in CHECK_COLUMNS], _completed_text(svc))
    return table


def summary_blocks(summary: dict) -> Group:
    """One block per service, one line per check (narrow terminals: every header and verdict stays whole)."""
    parts: list = [Text(f"Kết quả kiểm thử — run {summary['run_id']}", style="bold")]
    for svc in summary["services"]:
        checks = svc.get("checks", {})
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True)
        grid.add_column()
        grid.add_row("Mã số hồ sơ (hoàn thành)", ", ".join(_codes(svc)) or "—")
        for key, header in CHECK_COLUMNS:
            grid.add_row(header, _verdict_text(checks.get(key, {})))
        grid.add_row("Hoàn thành", _completed_text(svc))
        parts += [Text(""), Text(f"{svc['id']} (Mã DVC {svc['MaDVC']})", style="bold"), Padding(grid, (0, 0, 0, 2))]
    return Group(*parts)


def print_summary(summary: dict, console: Console) -> None:
    """The table when the terminal is wide enough for it uncut, else the same facts one service per block."""
    table = summary_table(summary)
    natural = Measurement.get(console, console.options.update_width(10_000), table).maximum
    if natural <= console.width:
        console.print(table)
    else:
        console.print(summary_blocks(summary))


def _print_summary(run_dir: Path, console: Console) -> None:
    summary_path = run_dir / "summary.json"
    if not summary_path.is_file():
        console.print(f"[red]no summary.json in {run_dir}[/red]")
        return
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    print_summary(summary, console)
    for svc in summary["services"]:
        for name, check in svc.get("checks", {}).items():
            if check.get("verdict") in ("failed", "error"):
                console.print(f"  ✗ {svc['id']} / {name}: {check.get('reason', '')}", markup=False, style="red")
            elif check.get("verdict") == "inconclusive":
                console.print(f"  ? {svc['id']} / {name}: không kết luận được / inconclusive: {check.get('reason', '')}",
                              markup=False)
    # a path is never folded: it is copied from here
    console.print(f"Run directory: {run_dir}", markup=False, highlight=False, soft_wrap=True)
    for name in ("report.pdf", "report.xlsx", "report.html", "allure-report.html", "summary.json", "junit.xml"):
        if (run_dir / name).exists():
            console.print(f"  {name}: {run_dir / name}", markup=False, highlight=False, soft_wrap=True)


def run_demo(defects: list[str], output: Path | None, services: list[str], checks: list[str], headed: bool,
             submit: bool = False, shard: str | None = None, browser_ws: str | None = None,
             workers: int | str | None = None, portal_host: str | None = None) -> int:
    """Start the reference system (with seeded defects if asked), run the suite (which starts the mock), report.

    The services are published for testing on KIEMTHU_PUBLICATION_DATE (today), through the target's
    `report.publication_date`; with `submit` the summary is sent to the mock's admin system before it stops."""
    from kiemthu.target import TargetError, load_target

    console = Console()
    prepare_demo_environment(console)
    try:
        target = load_target(DEMO_TARGET)
    except TargetError as exc:
        console.print(exc.render(), markup=False)
        return 2
    if defects:
        known = {d["name"] for d in list_defects()}
        unknown = [d for d in defects if d.split("@", 1)[0] not in known]  # name@service: that service only
        if unknown:
            console.print(f"unknown defect(s) (lỗi không có trong danh mục): {', '.join(unknown)}; "
                          f"see `kiemthu ministry --list-defects`")
            return 2
    from conformance.runner import worker_count

    try:  # before anything starts
        worker_count(workers, len(target["services"]))
    except ValueError as exc:
        console.print(f"Không hợp lệ / invalid: {exc}", markup=False, highlight=False)
        return 2
    run_dir = make_run_dir(output)
    console.print(f"Reference system: {target['system']['base_url']}  mock portal: {target['portal']['base_url']}"
                  + (f"  defects: {', '.join(defects)}" if defects else ""))
    from conformance.runner import run

    answer: list[int] = []

    def submit_to_mock(rd: Path) -> None:
        from kiemthu.submit import submit_run

        answer.append(submit_run(rd, console=console, rebuild=False))

    try:
        system = start_reference_system(target, run_dir, defects)
    except (ChildExited, DeadlineExceeded, PortTaken) as exc:
        console.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        return 2
    with system:
        code = run(target=DEMO_TARGET, output=run_dir, services=services, checks=checks, headed=headed,
                   build_report=True, defects=list(defects), while_portal_up=submit_to_mock if submit else None,
                   shard=shard, browser_ws=browser_ws, workers=workers, portal_host=portal_host)
    if (run_dir / "summary.json").is_file():
        _print_summary(run_dir, console)
    if submit and (not answer or answer[0] != 0):
        return code or 1
    return code


DEMO_LOAD_DURATION = "30s"  # the demo's load test is bounded: a longer one is asked for with --duration


def run_load_demo(output: Path | None = None, users: int | None = None, spawn_rate: float | None = None,
                  duration: str | None = None, ui: bool = False, master: bool = False, worker: bool = False,
                  master_host: str = "127.0.0.1", expect_workers: int = 1, extra: list[str] | None = None,
                  portal_host: str | None = None) -> int:
    """`kiemthu load --demo`: the reference system and the mock portal on free loopback ports with generated
    secrets (as `kiemthu demo`), the load test of the demo target's `load` section, both stopped afterwards."""
    from kiemthu.target import TargetError, load_target
    from loadtest.run import EXIT_CONFIG, EXIT_RUN, run_load

    console = Console()
    if master or worker:
        console.print("--demo chạy trên một máy / --demo runs on this machine alone: drop --master/--worker",
                      markup=False, highlight=False)
        return EXIT_CONFIG
    prepare_demo_environment(console)
    try:
        target = load_target(DEMO_TARGET)
    except TargetError as exc:
        console.print(exc.render(), markup=False)
        return EXIT_CONFIG
    run_dir = make_run_dir(output)
    console.print(f"Reference system: {target['system']['base_url']}  mock portal: {target['portal']['base_url']}",
                  highlight=False)
    try:
        system = start_reference_system(target, run_dir)
    except (ChildExited, DeadlineExceeded, PortTaken) as exc:
        console.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        return EXIT_RUN
    with system:
        return run_load(DEMO_TARGET, output=run_dir, users=users, spawn_rate=spawn_rate,
                        duration=duration or DEMO_LOAD_DURATION, ui=ui, extra=extra, portal_host=portal_host)
