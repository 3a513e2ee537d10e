"""`kiemthu` command line. Each command validates its input, then hands over to the part that owns it."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

from kiemthu import __version__

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="kiemthu — integration tests of online public services against the National Public Service Portal "
    "(kiểm thử tích hợp dịch vụ công trực tuyến với Cổng DVCQG).",
)
console = Console(stderr=True)
EXIT_UNAVAILABLE = 3


def _entry(module: str, func: str, feature: str):
    """The function implementing a command, or a one-line 'not available yet' exit; a part that is installed
    but cannot be imported (a missing dependency) is named with its import error, without a traceback."""
    if importlib.util.find_spec(module) is None:
        console.print(f"[yellow]{feature}: not available yet (chưa có).[/yellow]")
        raise typer.Exit(EXIT_UNAVAILABLE)
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        console.print(f"{feature}: cannot import {module}: {exc} (không nạp được). "
                      f"Reinstall with `pip install .` or run `kiemthu doctor`.", markup=False)
        raise typer.Exit(EXIT_UNAVAILABLE)
    fn = getattr(mod, func, None)
    if fn is None:
        console.print(f"[yellow]{feature}: not available yet (chưa có).[/yellow]")
        raise typer.Exit(EXIT_UNAVAILABLE)
    return fn


def _keep_temp(keep: bool) -> None:
    """--keep-temp: children inherit the wish through the environment."""
    if keep:
        from kiemthu.runtime import KEEP_TEMP

        os.environ[KEEP_TEMP] = "1"


KEEP_TEMP_HELP = "Keep the temporary folders (databases of the mock and the reference system) for inspection."
SHARD_HELP = ("Only shard K of N (e.g. 1/4): a stable share of the services, the same on every machine; "
              "merge the shards' run directories with `kiemthu report --merge`.")
BROWSER_WS_HELP = ("Connect to a Playwright browser server (ws://host:port/, e.g. `playwright run-server`) instead "
                   "of launching Chromium here (default: $KIEMTHU_BROWSER_WS, else the target's browser.ws_endpoint).")


def _shard_or_exit(value: Optional[str]) -> Optional[str]:
    """A malformed --shard is refused before anything starts, naming the option, the rule and the value."""
    from conformance.sharding import ShardError, parse_shard

    try:
        parse_shard(value)
    except ShardError as exc:
        console.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    return value


PORTAL_HOST_HELP = ("Address the mock portal listens on, e.g. 0.0.0.0 so that a system on another machine reaches it "
                    "(default: the target's portal.bind_host, else 127.0.0.1). The control API stays on loopback. "
                    "See docs/guides/remote-system.md.")


def _load_target_or_exit(path: Path, demo_hint: str = "kiemthu demo"):
    from kiemthu.target import TargetError, load_target

    try:
        return load_target(path)
    except TargetError as exc:
        console.print(exc.render(), markup=False, soft_wrap=True)
        if exc.missing and _is_demo_target(path):
            console.print(f"Tệp này là của hệ thống tham chiếu / this is the reference system's target: `{demo_hint}` "
                          "sets every one of these for you.", markup=False, soft_wrap=True)
        raise typer.Exit(2)


def _is_demo_target(path: Path) -> bool:
    from kiemthu.demo import DEMO_TARGET

    try:
        return Path(path).resolve() == DEMO_TARGET.resolve()
    except OSError:
        return False


@app.callback(invoke_without_command=True)
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="More log output."),
) -> None:
    from kiemthu.logs import setup_logging

    setup_logging("DEBUG" if verbose else "WARNING")
    if version:
        typer.echo(f"kiemthu {__version__}")
        raise typer.Exit(0)


@app.command(short_help="Chạy thử toàn bộ với hệ thống tham chiếu / demo run.")
def demo(
    defect: List[str] = typer.Option([], "--defect", "-d", metavar="DEFECT", help="Switch on a seeded defect in the reference system (lỗi cài sẵn); repeatable."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="DIR", help="Run directory (default reports/out/<run-id>/)."),
    service: List[str] = typer.Option([], "--service", "-s", metavar="SERVICE", help="Only these services (scenario id); repeatable."),
    check: List[str] = typer.Option([], "--check", "-c", metavar="CHECK", help="Only these checks: sso, submission, payment, processing."),
    headed: bool = typer.Option(False, "--headed", help="Show the browser window."),
    submit: bool = typer.Option(False, "--submit", help="At the end, send the test summary to the mock portal's admin system (gửi kết quả kiểm thử) and keep its answer."),
    serve_room: bool = typer.Option(False, "--serve", help="Instead of running once here, open the control room (phòng điều hành) with a campaign for the demo target."),
    port: int = typer.Option(8900, "--port", help="With --serve: port of the control room."),
    shard: Optional[str] = typer.Option(None, "--shard", metavar="K/N", help=SHARD_HELP),
    browser_ws: Optional[str] = typer.Option(None, "--browser-ws", metavar="URL", help=BROWSER_WS_HELP),
    workers: Optional[str] = typer.Option(None, "--workers", "-w", metavar="N|auto", help="Run services side by side in N processes (auto = one per core); each service's checks stay on one."),
    keep_temp: bool = typer.Option(False, "--keep-temp", help=KEEP_TEMP_HELP),
    portal_host: Optional[str] = typer.Option(None, "--portal-host", metavar="HOST", help=PORTAL_HOST_HELP),
) -> None:
    """Run the whole suite against the embedded reference ministry system and the mock portal (chạy thử toàn bộ)."""
    _keep_temp(keep_temp)
    _shard_or_exit(shard)
    if serve_room:
        fn = _entry("controlroom.app", "serve_demo", "control room")
        raise typer.Exit(fn(port=port))
    fn = _entry("kiemthu.demo", "run_demo", "demo")
    extra = {k: v for k, v in (("shard", shard), ("browser_ws", browser_ws)) if v}
    raise typer.Exit(fn(defects=defect, output=output, services=service, checks=check, headed=headed, submit=submit,
                        workers=workers, portal_host=portal_host, **extra))


@app.command(short_help="Cổng DVCQG giả lập / mock portal.")
def mock(
    host: Optional[str] = typer.Option(None, help="Address to bind (default: the target's portal.bind_host, else 127.0.0.1)."),
    port: int = typer.Option(8800, help="Port to listen on."),
    target: Optional[Path] = typer.Option(None, "--target", "-t", help="Target file whose portal registration (clients, payment partner, adapter account) the mock should accept."),
    db: Optional[Path] = typer.Option(None, help="SQLite file for the mock's state and journal (default: a temporary file)."),
    profile: Optional[str] = typer.Option(None, help="Contract profile (default dvcqg-1.0)."),
    control_port: int = typer.Option(0, help="Port of the control API (journal, faults, reset; default: any free port)."),
    control_host: str = typer.Option("127.0.0.1", help="Address of the control API: loopback unless you mean to expose it."),
    allow_host: List[str] = typer.Option([], "--allow-host", help="Another Host name the portal answers to (e.g. a container's); repeatable."),
    control_file: Optional[Path] = typer.Option(None, help="Where to write the control token (mode 0600; default: a per-user temp folder)."),
    keep_temp: bool = typer.Option(False, "--keep-temp", help=KEEP_TEMP_HELP),
) -> None:
    """Run the mock National Public Service Portal (Cổng DVCQG giả lập): SSO, payment, adapter, journal.

    The control API listens apart from the portal, on loopback, and needs the token written to the control file."""
    _keep_temp(keep_temp)
    tgt = _load_target_or_exit(target) if target else None
    host = host or (tgt.portal_bind_host() if tgt else "127.0.0.1")
    fn = _entry("mocks.server", "serve", "mock portal")
    raise typer.Exit(fn(target=tgt, host=host, port=port, db_path=db, profile=profile, control_host=control_host,
                        control_port=control_port, allow_hosts=allow_host, token_file=control_file) or 0)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, short_help="Hệ thống một cửa tham chiếu / reference system.")
def ministry(
    ctx: typer.Context,
    port: int = typer.Option(8801, help="Port to listen on."),
    defect: List[str] = typer.Option([], "--defect", "-d", help="Seeded defect to switch on; repeatable."),
    list_defects: bool = typer.Option(False, "--list-defects", help="Print the catalogue of seeded defects."),
    config: Optional[Path] = typer.Option(None, help="Configuration file of the reference system (YAML)."),
) -> None:
    """Run the reference ministry one-stop system (hệ thống một cửa điện tử tham chiếu), as its own process."""
    import subprocess

    from kiemthu.runtime import ChildExited, DeadlineExceeded, ManagedProcess, python_module_cmd

    if importlib.util.find_spec("examples.ministry.__main__") is None:
        console.print("[yellow]reference ministry system: not available yet (chưa có).[/yellow]")
        raise typer.Exit(EXIT_UNAVAILABLE)
    args = ["--port", str(port)]
    for d in defect:
        args += ["--defect", d]
    if config:
        args += ["--config", str(config)]
    if list_defects:
        raise typer.Exit(subprocess.call(python_module_cmd("examples.ministry", *args, "--list-defects", *ctx.args)))
    # a supervised child: it ends with this command (Ctrl-C, SIGTERM, an error), and a start-up failure is told at once
    system = ManagedProcess("reference ministry system", python_module_cmd("examples.ministry", *args, *ctx.args),
                            health_url=f"http://127.0.0.1:{port}/health")
    try:
        system.start(timeout=60)
        console.print(f"Reference system ready (sẵn sàng): http://127.0.0.1:{port}/", highlight=False)
        raise typer.Exit(system.wait())
    except ChildExited as exc:  # its own error is already on the terminal (stderr is relayed)
        console.print(str(exc).splitlines()[0].replace(" (full log: )", ""), markup=False, highlight=False)
        raise typer.Exit(exc.code or 1)
    except DeadlineExceeded as exc:
        console.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    except KeyboardInterrupt:
        raise typer.Exit(130)
    finally:
        system.stop()


@app.command(short_help="Kiểm thử bốn nội dung / run the four checks.")
def run(
    target: Path = typer.Option(..., "--target", "-t", help="Target file describing the system under test."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Run directory (default reports/out/<run-id>/)."),
    service: List[str] = typer.Option([], "--service", "-s", help="Only these services (scenario id); repeatable."),
    check: List[str] = typer.Option([], "--check", "-c", help="Only these checks: sso, submission, payment, processing."),
    headed: bool = typer.Option(False, "--headed", help="Show the browser window."),
    pause_at: List[str] = typer.Option([], "--pause-at", metavar="STEP",
                                       help="Pause before this adapter step (FLOW:STEP, e.g. submit:3; a flow's name "
                                            "for its first step): the inspector with --headed, else until Enter."),
    no_report: bool = typer.Option(False, "--no-report", help="Skip building the reports at the end."),
    shard: Optional[str] = typer.Option(None, "--shard", metavar="K/N", help=SHARD_HELP),
    browser_ws: Optional[str] = typer.Option(None, "--browser-ws", metavar="URL", help=BROWSER_WS_HELP),
    workers: Optional[str] = typer.Option(None, "--workers", "-w", metavar="N|auto", help="Run services side by side in N processes (auto = one per core); each service's checks stay on one."),
    keep_temp: bool = typer.Option(False, "--keep-temp", help=KEEP_TEMP_HELP),
    portal_host: Optional[str] = typer.Option(None, "--portal-host", metavar="HOST", help=PORTAL_HOST_HELP),
) -> None:
    """Run the four checks against a configured system (kiểm thử: SSO, nộp hồ sơ, thanh toán, xử lý & đồng bộ).

    It does not start the system under test: start it first (`kiemthu doctor --target FILE` says if it answers)."""
    _keep_temp(keep_temp)
    _shard_or_exit(shard)
    _load_target_or_exit(target)
    fn = _entry("conformance.runner", "run", "conformance suite")
    extra = {k: v for k, v in (("shard", shard), ("browser_ws", browser_ws)) if v}
    raise typer.Exit(fn(target=target, output=output, services=service, checks=check, headed=headed,
                        build_report=not no_report, pause_at=pause_at, workers=workers, portal_host=portal_host,
                        **extra))


@app.command(short_help="Lập báo cáo kết quả kiểm thử / build the report.")
def report(
    run_dirs: List[Path] = typer.Argument(None, metavar="[RUN_DIR]...", help="Run directory (thư mục lần chạy), e.g. reports/out/<run-id>/; with --merge, several."),
    merge: bool = typer.Option(False, "--merge", help="Build ONE run directory, manifest and submission from several signed runs (shards) of the same target and profile (gộp các lần chạy)."),
    verify: bool = typer.Option(False, "--verify", help="Check the signature and every file against manifest.json instead of building (kiểm tra toàn vẹn)."),
    public_key: Optional[Path] = typer.Option(None, "--public-key", metavar="FILE", help="With --verify (or --merge, for the source runs): the PEM public key the bundle must be signed with (default: this installation's key)."),
    language: str = typer.Option("vi", "--language", "-l", metavar="vi|en", help="vi (the submission) or en (written beside it as report.en.*)."),
    from_history: bool = typer.Option(False, "--from-history", help="Assemble one submission from the latest passing run of each service (lập từ lịch sử)."),
    service: List[str] = typer.Option([], "--service", "-s", metavar="SERVICE", help="With --from-history: services to include; repeatable."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="DIR", help="With --from-history or --merge: where to write."),
    trend_from: Optional[Path] = typer.Option(None, "--trend-from", metavar="DIR", help="An earlier run folder (e.g. yesterday's CI artefact) the Allure trend goes on from (xu hướng tiếp nối lần chạy trước); without it, the last run of the same system and services in the history."),
) -> None:
    """Build the submission report of a run (lập báo cáo kết quả kiểm thử: xlsx, PDF, HTML, Allure, manifest)."""
    run_dirs = list(run_dirs or [])
    if merge:
        fn = _entry("reports.merge", "merge_cli", "merge of runs")
        raise typer.Exit(fn(run_dirs, output=output, public_key=public_key, language=language, trend_from=trend_from))
    if len(run_dirs) > 1:
        console.print("Nhiều thư mục lần chạy: dùng --merge để gộp / several RUN_DIRs: use --merge to merge them.",
                      markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    run_dir = run_dirs[0] if run_dirs else None
    if from_history:
        fn = _entry("reports.history", "report_from_history", "report from history")
        raise typer.Exit(fn(services=service, output=output, language=language))
    if run_dir is None:
        console.print("Thiếu thư mục lần chạy / missing RUN_DIR.\n"
                      "Usage: kiemthu report RUN_DIR  |  kiemthu report --verify RUN_DIR  |  kiemthu report --from-history",
                      markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    if not run_dir.is_dir():
        console.print(f"Không tìm thấy thư mục lần chạy / run directory not found: {run_dir}", markup=False, highlight=False)
        raise typer.Exit(2)
    if verify:
        fn = _entry("reports.manifest", "verify_cli", "manifest verification")
        raise typer.Exit(fn(run_dir, public_key=public_key))
    fn = _entry("reports.build", "build_cli", "report builder")
    raise typer.Exit(fn(run_dir, language=language, trend_from=trend_from))


@app.command(short_help="Gửi tổng hợp kết quả kiểm thử / send the summary.")
def submit(
    run_dir: Path = typer.Argument(..., help="Run directory (reports/out/<run-id>/)."),
    portal: Optional[str] = typer.Option(None, "--portal", help="Portal base URL (default: the run's portal, which must still be running)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print exactly what would be sent, send nothing."),
) -> None:
    """Send the run's test summary to the portal's admin system and store the answer (gửi tổng hợp kết quả kiểm thử)."""
    if not run_dir.is_dir():
        console.print(f"run directory not found (không có thư mục): {run_dir}")
        raise typer.Exit(2)
    fn = _entry("kiemthu.submit", "submit_run", "submission")
    raise typer.Exit(fn(run_dir, portal_url=portal, dry_run=dry_run, console=Console()))


@app.command(short_help="Lịch sử kiểm thử / run history.")
def history(
    service: List[str] = typer.Option([], "--service", "-s", metavar="SERVICE", help="Only these services; repeatable."),
    db: Optional[Path] = typer.Option(None, metavar="FILE", help="History database (default reports/out/history.sqlite)."),
) -> None:
    """List recorded runs and, per service, the latest passing dossier code (lịch sử kiểm thử)."""
    fn = _entry("reports.history", "history_cli", "run history")
    raise typer.Exit(fn(services=service, db=db))


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True}, short_help="Kiểm thử tải / load test.")
def load(
    ctx: typer.Context,
    target: Optional[Path] = typer.Option(None, "--target", "-t", help="Target file (its `load` section sets journeys, users and the go-live gate)."),
    demo_run: bool = typer.Option(False, "--demo", help="Load-test the embedded reference system: start it and the mock portal on free loopback ports with generated secrets (like `kiemthu demo`)."),
    portal_host: Optional[str] = typer.Option(None, "--portal-host", metavar="HOST", help=PORTAL_HOST_HELP),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Run directory."),
    users: Optional[int] = typer.Option(None, help="Concurrent simulated users."),
    spawn_rate: Optional[float] = typer.Option(None, help="Users started per second."),
    duration: Optional[str] = typer.Option(None, help="How long to run, e.g. 30s, 2m."),
    ui: bool = typer.Option(False, "--ui", help="Open Locust's own web UI instead of running headless."),
    master: bool = typer.Option(False, "--master", help="Distributed mode: coordinate workers."),
    worker: bool = typer.Option(False, "--worker", help="Distributed mode: generate load for a master."),
    master_host: str = typer.Option("127.0.0.1", help="With --worker: the master's address."),
    expect_workers: int = typer.Option(1, help="With --master: workers to wait for."),
) -> None:
    """Load test before go-live (kiểm thử tải): citizen and officer journeys, gate and reconciliation.

    With --target it does not start the system under test; --demo starts the reference system for you."""
    options = dict(output=output, users=users, spawn_rate=spawn_rate, duration=duration, ui=ui, master=master,
                   worker=worker, master_host=master_host, expect_workers=expect_workers, extra=list(ctx.args),
                   portal_host=portal_host)
    if demo_run == (target is not None):
        console.print("Cần đúng một trong --target FILE hoặc --demo / give exactly one of --target FILE or --demo.",
                      markup=False, highlight=False)
        raise typer.Exit(2)
    if demo_run:
        fn = _entry("kiemthu.demo", "run_load_demo", "load test demo")
        raise typer.Exit(fn(**options))
    _load_target_or_exit(target, demo_hint="kiemthu load --demo")
    fn = _entry("loadtest.run", "run_load", "load test")
    raise typer.Exit(fn(target=target, **options))


@app.command(short_help="Phòng điều hành kiểm thử / control room.")
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to bind (loopback by default; another address exposes the control room on purpose)."),
    port: int = typer.Option(8900, help="Port to listen on."),
    db: Optional[Path] = typer.Option(None, metavar="FILE", help="SQLite file of accounts, campaigns and the run history (default reports/out/controlroom.sqlite)."),
    runs: Optional[Path] = typer.Option(None, metavar="DIR", help="Where runs are written (default: runs/ beside the database)."),
) -> None:
    """Start the officers' control room, a Vietnamese web interface for a testing campaign (phòng điều hành kiểm thử)."""
    fn = _entry("controlroom.app", "serve", "control room")
    raise typer.Exit(fn(host=host, port=port, db_path=db, runs_root=runs))


users_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Accounts of the control room (tài khoản).")
app.add_typer(users_app, name="users", short_help="Tài khoản phòng điều hành / accounts.")


@users_app.command("add")
def users_add(
    username: str = typer.Argument(..., help="Login name: lower-case letters, digits, . _ - (2–32)."),
    role: str = typer.Option("can_bo", "--role", help="can_bo (officer) or quan_tri (administrator)."),
    full_name: str = typer.Option("", "--name", help="Full name shown in the interface."),
    db: Optional[Path] = typer.Option(None, metavar="FILE", help="SQLite file of the control room (default reports/out/controlroom.sqlite)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input instead of asking."),
) -> None:
    """Add an account to the control room; the password is asked (never on the command line) and stored hashed."""
    fn = _entry("controlroom.accounts", "add_account_cli", "control room accounts")
    raise typer.Exit(fn(username=username, role=role, full_name=full_name, db_path=db, password_stdin=password_stdin))


@users_app.command("list")
def users_list(
    db: Optional[Path] = typer.Option(None, metavar="FILE", help="SQLite file of the control room."),
) -> None:
    """List the control room's accounts (danh sách tài khoản)."""
    fn = _entry("controlroom.accounts", "list_accounts_cli", "control room accounts")
    raise typer.Exit(fn(db_path=db))


@app.command(short_help="Tạo tệp cấu hình / new target file.")
def init(
    path: Path = typer.Argument(Path("target.yaml"), help="Where to write the new target file (its scenarios, .env.example and portal-settings.md go beside it)."),
    force: bool = typer.Option(False, "--force", help="Overwrite existing files."),
    non_interactive: bool = typer.Option(False, "--non-interactive", "-y", help="Ask nothing: take the flags (for CI); --base-url, --agency-code and --service are required."),
    base_url: Optional[str] = typer.Option(None, "--base-url", metavar="URL", help="Your system's address (system.base_url)."),
    agency_code: Optional[str] = typer.Option(None, "--agency-code", metavar="CODE", help="Agency code (mã định danh cơ quan), e.g. 000.00.00.G15."),
    agency_name: Optional[str] = typer.Option(None, "--agency-name", metavar="NAME", help="Agency name (tên cơ quan)."),
    service: List[str] = typer.Option([], "--service", "-s", metavar="MaTTHC", help="A service to test, by procedure code; repeatable. A procedure the harness ships is copied, any other gets a stub to complete."),
    portal_url: Optional[str] = typer.Option(None, "--portal-url", metavar="URL", help="Where the mock portal listens, as your system calls it (default http://127.0.0.1:8800)."),
    client_id: Optional[str] = typer.Option(None, "--client-id", metavar="ID", help="SSO client_id your system uses."),
    payment_partner: Optional[str] = typer.Option(None, "--payment-partner", metavar="MaDoiTac", help="Payment partner code."),
    adapter_user: Optional[str] = typer.Option(None, "--adapter-user", metavar="NAME", help="Adapter (dossier sync) account name."),
    officer_mode: Optional[str] = typer.Option(None, "--officer-mode", metavar="automated|manual", help="automated (default): the suite plays the officer flows; manual: it waits for a person."),
    officer_user: Optional[str] = typer.Option(None, "--officer-user", metavar="NAME", help="Test officer account of your system (automated mode)."),
    publication_date: Optional[str] = typer.Option(None, "--publication-date", metavar="YYYY-MM-DD", help="Date the services were published for testing (default: today)."),
    tester: Optional[str] = typer.Option(None, "--tester", metavar="NAME", help="Tester's name for the report."),
    from_recording: Optional[Path] = typer.Option(None, "--from-recording", metavar="FILE", help="A submission recorded with `playwright codegen --target python -o FILE URL`: becomes the submit flow."),
    record: bool = typer.Option(False, "--record", help="Record the submission now with `playwright codegen` (a browser opens at --base-url), then use it as with --from-recording."),
) -> None:
    """Write what a first run of your system needs (tạo cấu hình kiểm thử): target file, scenarios, adapter skeleton,
    .env.example with every secret variable, and the settings to enter in your own system."""
    from kiemthu.scaffold import InitError, InitSettings, ask_settings, write_project

    given = {"base_url": base_url, "agency_code": agency_code, "agency_name": agency_name, "services": list(service),
             "portal_url": portal_url, "client_id": client_id, "payment_partner": payment_partner,
             "adapter_user": adapter_user, "officer_mode": officer_mode, "officer_user": officer_user,
             "publication_date": publication_date, "tester": tester}
    try:
        if non_interactive:
            missing = [flag for flag, key in (("--base-url", "base_url"), ("--agency-code", "agency_code"),
                                              ("--service", "services")) if not given[key]]
            if missing:
                raise InitError(f"{', '.join(missing)}: rule 'required with --non-interactive' — not given")
            settings = InitSettings(**{k: v for k, v in given.items() if v})
        else:
            settings = ask_settings(_prompt(), given)
        if record:
            from_recording = _record_submission(settings.base_url, path.parent / "recorded-submit.py")
        settings.recording = str(from_recording or "")
        written = write_project(settings, path, force=force)
    except InitError as exc:
        console.print(f"kiemthu init: {exc}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    except (EOFError, KeyboardInterrupt):
        console.print("\nkiemthu init: no answer (không có câu trả lời); in CI use --non-interactive with "
                      "--base-url, --agency-code and --service", markup=False, highlight=False)
        raise typer.Exit(2)
    _print_init_done(settings, path, written)


def _record_submission(url: str, output: Path) -> Path:
    """`playwright codegen` at the system's address until its window is closed; the script it wrote."""
    import subprocess

    from kiemthu.recording import codegen_command, codegen_hint
    from kiemthu.scaffold import InitError

    output.parent.mkdir(parents=True, exist_ok=True)
    cmd = codegen_command(url, output)
    console.print("Ghi lại thao tác nộp hồ sơ / recording: log in, open the service form, submit, then close the "
                  "browser window.", markup=False, highlight=False)
    try:
        code = subprocess.call([sys.executable, "-m", *cmd])
    except OSError as exc:
        code = f"{exc}"
    if code != 0 or not output.is_file():
        raise InitError(f"--record: rule 'playwright codegen records the journey' — it did not ({code}); record on "
                        f"a machine with a display: {codegen_hint(url, output)}, then kiemthu init --from-recording "
                        f"{output}")
    return output


def _prompt():
    """Questions in Vietnamese with their defaults (Rich prompts on the terminal); wrong answers asked again."""
    from rich.prompt import Prompt

    out = Console()

    def ask(question: str, default: str) -> str:
        return Prompt.ask(question, default=default or None, console=out) or ""

    ask.error = lambda message: out.print(f"  ✗ {message}", markup=False, style="red")
    return ask


def _print_init_done(settings, path: Path, written: list) -> None:
    from kiemthu.scaffold import ENV_FILE, PORTAL_SETTINGS_FILE

    out = Console()
    for line in settings.skipped_from_recording:
        out.print(f"  not converted (không chuyển được) — add it by hand if it matters: {line}", markup=False,
                  highlight=False, soft_wrap=True)
    out.print("Đã tạo / written:", highlight=False)
    for p in written:
        out.print(f"  {p}", markup=False, highlight=False)
    if settings.officer_mode == "manual":
        out.print("CHÚ Ý / NOTE: officer.mode manual — for each dossier the suite waits (up to 900 s) for a person to "
                  "process it in your back office; --officer-mode automated lets the suite do it.", style="bold yellow",
                  markup=False, highlight=False)
    folder = path.parent
    out.print("Tiếp theo / next:\n"
              f"  1. enter the values of {folder / PORTAL_SETTINGS_FILE} in your system, then start it "
              "(kiemthu run does not start it)\n"
              f"  2. cp {folder / ENV_FILE} {folder / '.env'}; fill every value; set -a; . {folder / '.env'}; set +a\n"
              f"  3. adapt the labels of the adapter: section of {path} (guide: docs/guides/adapter.md)\n"
              f"  4. kiemthu run --target {path}", markup=False, highlight=False, soft_wrap=True)


@app.command(short_help="Kiểm tra môi trường / check this machine and a target.")
def doctor(
    target: Optional[Path] = typer.Option(None, "--target", "-t", metavar="FILE", help="Also check this target: its secret variables, the system's base URL, health and deep link, and the portal settings against the system."),
    no_machine: bool = typer.Option(False, "--no-machine", help="With --target: skip the checks of this machine."),
) -> None:
    """Check this machine: Python, every part imports, Chromium, fonts, Allure, free ports, writable output (kiểm tra môi trường).

    With --target FILE, also whether the system under test, its portal registration and its secrets are in place."""
    from kiemthu.doctor import run_doctor

    raise typer.Exit(run_doctor(console=Console(), target=target, machine=not (no_machine and target)))


def main() -> None:
    from kiemthu.runtime import exit_on_signals

    exit_on_signals()  # SIGTERM/SIGHUP unwind like Ctrl-C, so every child and temporary folder ends with us
    try:
        app()
    except KeyboardInterrupt:
        console.print("interrupted (đã dừng).")
        sys.exit(130)


if __name__ == "__main__":
    main()
