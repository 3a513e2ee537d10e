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
    keep_temp: bool = typer.Option(False, "--keep-temp", help=KEEP_TEMP_HELP),
    portal_host: Optional[str] = typer.Option(None, "--portal-host", metavar="HOST", help=PORTAL_HOST_HELP),
) -> None:
    """Run the whole suite against the embedded reference ministry system and the mock portal (chạy thử toàn bộ)."""
    _keep_temp(keep_temp)
    fn = _entry("kiemthu.demo", "run_demo", "demo")
    raise typer.Exit(fn(defects=defect, output=output, services=service, checks=check, headed=headed, submit=submit,
                        portal_host=portal_host))


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
    no_report: bool = typer.Option(False, "--no-report", help="Skip building the reports at the end."),
    keep_temp: bool = typer.Option(False, "--keep-temp", help=KEEP_TEMP_HELP),
    portal_host: Optional[str] = typer.Option(None, "--portal-host", metavar="HOST", help=PORTAL_HOST_HELP),
) -> None:
    """Run the four checks against a configured system (kiểm thử: SSO, nộp hồ sơ, thanh toán, xử lý & đồng bộ).

    It does not start the system under test: start it first (`kiemthu doctor --target FILE` says if it answers)."""
    _keep_temp(keep_temp)
    _load_target_or_exit(target)
    fn = _entry("conformance.runner", "run", "conformance suite")
    raise typer.Exit(fn(target=target, output=output, services=service, checks=check, headed=headed,
                        build_report=not no_report, portal_host=portal_host))


@app.command(short_help="Lập báo cáo kết quả kiểm thử / build the report.")
def report(
    run_dir: Optional[Path] = typer.Argument(None, metavar="[RUN_DIR]", help="Run directory (thư mục lần chạy), e.g. reports/out/<run-id>/."),
    verify: bool = typer.Option(False, "--verify", help="Check the signature and every file against manifest.json instead of building (kiểm tra toàn vẹn)."),
    public_key: Optional[Path] = typer.Option(None, "--public-key", metavar="FILE", help="With --verify: the PEM public key the bundle must be signed with (default: this installation's key)."),
    language: str = typer.Option("vi", "--language", "-l", metavar="vi|en", help="vi (the submission) or en (written beside it as report.en.*)."),
    from_history: bool = typer.Option(False, "--from-history", help="Assemble one submission from the latest passing run of each service (lập từ lịch sử)."),
    service: List[str] = typer.Option([], "--service", "-s", metavar="SERVICE", help="With --from-history: services to include; repeatable."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", metavar="DIR", help="With --from-history: where to write."),
) -> None:
    """Build the submission report of a run (lập báo cáo kết quả kiểm thử: xlsx, PDF, HTML, Allure, manifest)."""
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
    raise typer.Exit(fn(run_dir, language=language))


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


@app.command(short_help="Tạo tệp cấu hình / new target file.")
def init(
    path: Path = typer.Argument(Path("target.yaml"), help="Where to write the new target file."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Scaffold a target file for a new system under test (tạo tệp cấu hình cho hệ thống cần kiểm thử)."""
    from kiemthu.scaffold import write_target_template

    if path.exists() and not force:
        console.print(f"{path} already exists (đã tồn tại); use --force to overwrite.")
        raise typer.Exit(1)
    write_target_template(path)
    console.print(f"Wrote {path}. Edit the URLs, agency code and services, set the secret environment variables, "
                  f"then run: kiemthu run --target {path}")


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
