"""`kiemthu run`: validate the configuration, run the conformance tests under pytest, write summary.json."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

from urllib.parse import urlparse

from kiemthu.control import exposure_warning
from kiemthu.runtime import REPO_ROOT, ChildExited, DeadlineExceeded, make_run_dir, taken_port_message

CHECKS_DIR = Path(__file__).resolve().parent / "checks"
OK = ("passed", "passed_with_exceptions", "warning", "not_applicable")
# pytest plugins installed alongside (load tests, property tests) that cost seconds of start-up and do nothing here
NOT_NEEDED = ["-p", "no:locust", "-p", "no:respx", "-p", "no:hypothesispytest", "-p", "no:anyio", "-p", "no:schemathesis",
              # the suite drives its own browser; the checks report through rules, not assert introspection
              "-p", "no:playwright", "--assert=plain"]
# set for the pytest process when the runner has already started the mock portal (while pytest starts up)
MOCK_PROVIDED = "KIEMTHU_MOCK_PROVIDED"


def provided_mock_env(portal_url: str, mock) -> dict[str, str]:
    """What tells the pytest process that the mock for `portal_url` is started, and how to reach its control
    plane (the value of MOCK_PROVIDED names the portal, as the session compares it)."""
    return {MOCK_PROVIDED: f"{portal_url.rstrip('/')}/_mock/health", **mock.control.env()}


def configuration_problems(target: Path, loaded=None) -> list[str]:
    """Everything wrong with the target file and its adapter section, before anything starts."""
    from conformance.adapter import validate_adapter
    from kiemthu.target import TargetError, load_target

    try:
        t = loaded if loaded is not None else load_target(target)
    except TargetError as exc:
        return exc.problems
    if not t.get("adapter"):
        return ["adapter: the target file has no `adapter:` section (how to drive the system's pages)"]
    return validate_adapter(t["adapter"])


def worker_count(value: int | str | None, services: int) -> int:
    """How many worker processes `--workers` asks for: a number, or `auto` (one per core); never more than there
    are services. 0 or 1 is the single-process run. Raises ValueError naming the option on a bad value."""
    if value in (None, "", 0, "0"):
        return 0
    if str(value).strip().lower() == "auto":
        wanted = os.cpu_count() or 1
    else:
        try:
            wanted = int(str(value).strip())
        except ValueError:
            raise ValueError(f"--workers: must be a whole number of processes or 'auto', got {value!r}") from None
        if wanted < 0:
            raise ValueError(f"--workers: must be 0 or more (or 'auto'), got {wanted}")
    wanted = min(wanted, max(services, 1))
    return wanted if wanted > 1 else 0


def pytest_args(target: Path, run_dir: Path, services: list[str], checks: list[str], headed: bool,
                defects: list[str] | tuple[str, ...] = (), pause_at: list[str] | tuple[str, ...] = (),
                shard: str | None = None, browser_ws: str | None = None, workers: int = 0) -> list[str]:
    args = [str(CHECKS_DIR), "--target", str(Path(target).resolve()), "--run-dir", str(run_dir),
            f"--junitxml={run_dir / 'junit.xml'}", f"--alluredir={run_dir / 'allure-results'}",
            "-p", "no:cacheprovider", *NOT_NEEDED, "-q", "-rfE", "--no-header", "-o", "junit_family=xunit2",
            "--rootdir", str(REPO_ROOT)]
    for s in services:
        args += ["--kt-service", s]
    for c in checks:
        args += ["--kt-check", c]
    if defects:
        args += ["--kt-defects", ",".join(defects)]
    if headed:
        args.append("--kt-headed")
    for step in pause_at:
        args += ["--kt-pause-at", step]
    if shard:
        args += ["--kt-shard", str(shard)]
    if browser_ws:
        args += ["--kt-browser-ws", browser_ws]
    if workers > 1:  # pytest-xdist; conformance/workers.py keeps each service's checks on one worker
        args += ["-n", str(workers)]
    return args


def shard_problems(loaded, services: list[str], shard: str | None) -> list[str]:
    """A --shard value that is malformed or gives this shard no service of the selection."""
    from conformance.sharding import ShardError, parse_shard, select_shard

    try:
        parsed = parse_shard(shard)
        if parsed is None:
            return []
        from scenarios import load_scenario

        ids = [load_scenario(p)["id"] for p in loaded.scenario_paths()]
        select_shard(parsed, [i for i in ids if not services or i in services])
    except ShardError as exc:
        return [str(exc)]
    except Exception:  # an unreadable scenario is reported by the configuration check
        return []
    return []


def pause_problems(loaded, pause_at: list[str] | tuple[str, ...]) -> list[str]:
    """Each `--pause-at` step the target's adapter does not declare, with the known ones."""
    from conformance.adapter import AdapterError, pause_step

    problems = []
    for step in pause_at:
        try:
            pause_step(loaded.get("adapter") or {}, step)
        except AdapterError as exc:
            problems += exc.problems
    return problems


def stop_pytest(proc: subprocess.Popen | None, grace: float = 10.0) -> None:
    """End the suite's pytest if it still runs (an error or a signal here): SIGINT lets it close the browser.
    On Ctrl-C it already had its own SIGINT from the terminal; a second one would cut its clean-up short."""
    if proc is None or proc.poll() is not None:
        return
    if sys.exc_info()[0] is not KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run(target: Path, output: Path | None, services: list[str], checks: list[str], headed: bool,
        build_report: bool = True, defects: list[str] | tuple[str, ...] = (),
        while_portal_up: Callable[[Path], Any] | None = None, pause_at: list[str] | tuple[str, ...] = (),
        shard: str | None = None, browser_ws: str | None = None, workers: int | str | None = None,
        portal_host: str | None = None) -> int:
    """Run the four checks; 0 when every selected service passed its selected checks, 1 otherwise, 2 on bad config.

    `while_portal_up(run_dir)` runs after the suite while the mock portal is still up (`kiemthu demo --submit`).
    `portal_host`: where the mock's portal plane listens (else the target's `portal.bind_host`, else loopback)."""
    from rich.console import Console

    from conformance.portal import mock_process
    from conformance.progress import follow
    from kiemthu.target import TargetError, load_target

    console = Console(stderr=True)
    target = Path(target)

    def refuse(problems: list[str]) -> int:
        console.print(f"Cấu hình không hợp lệ / invalid configuration: {target}", markup=False)
        for p in problems:
            console.print(f"  - {p}", markup=False)
        return 2

    unknown = [c for c in checks if c not in ("sso", "submission", "payment", "processing")]
    unknown_problem = [f"--check: unknown check(s) {', '.join(unknown)}"] if unknown else []
    try:
        loaded = load_target(target)
    except TargetError as exc:
        return refuse(exc.problems + unknown_problem)
    if pause_at and loaded.get("adapter"):
        unknown_problem += pause_problems(loaded, pause_at)
    sharding = shard_problems(loaded, services, shard)
    if unknown_problem or sharding:
        return refuse(configuration_problems(target, loaded) + unknown_problem + sharding)
    try:
        processes = worker_count(workers, len(services) if services else len(loaded["services"]))
    except ValueError as exc:
        return refuse([str(exc)])
    if processes and (loaded.get("officer") or {}).get("mode") == "manual":
        return refuse([f"--workers: {workers} needs officer.mode automated; with officer.mode manual one person "
                       "processes one dossier at a time (run without --workers)"])
    portal = loaded["portal"]
    host = portal_host or loaded.portal_bind_host()
    if portal.get("mode") == "mock":
        for line in exposure_warning(host, portal["base_url"]):
            console.print(line, markup=False, highlight=False, soft_wrap=True)
        taken = taken_port_message(urlparse(portal["base_url"]).port or 80, host, "mock portal (portal.base_url)")
        if taken:  # before anything starts: a server the run did not start is never its portal
            console.print(f"Không khởi động Cổng giả lập / the mock portal is not started: {taken}", markup=False,
                          highlight=False, soft_wrap=True)
            return 2
    fresh = output is None or not Path(output).exists()
    run_dir = make_run_dir(output)
    # the mock portal and pytest start first: the adapter section is checked while they boot
    mock = mock_process(target, portal["base_url"], run_dir, host=host).spawn() if portal.get("mode") == "mock" else None
    proc = None
    try:
        cmd = [sys.executable, "-m", "pytest", *pytest_args(target, run_dir, services, checks, headed, defects, pause_at,
                                                                shard, browser_ws, processes)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **(provided_mock_env(portal["base_url"], mock) if mock else {})}
        with open(run_dir / "logs" / "pytest.log", "w", encoding="utf-8") as log:
            proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True)
            problems = configuration_problems(target, loaded)
            if problems:
                stop_pytest(proc)
                if fresh:  # nothing ran: leave no empty run behind (a folder the user gave stays)
                    shutil.rmtree(run_dir, ignore_errors=True)
                return refuse(problems)
            if mock is not None:
                try:  # pytest boots meanwhile; a mock that dies while starting is reported now, once
                    mock.wait_ready(30)
                except (ChildExited, DeadlineExceeded) as exc:
                    console.print(str(exc), markup=False, highlight=False, soft_wrap=True)
                    return 2
            print(f"Run directory: {run_dir}", flush=True)
            code = follow(proc, run_dir, log)
        if while_portal_up is not None and (run_dir / "summary.json").is_file():
            while_portal_up(run_dir)
    finally:
        stop_pytest(proc)
        if mock is not None:
            mock.stop()
    summary_path = run_dir / "summary.json"
    if not summary_path.is_file():
        console.print(f"no summary.json was written (pytest exit {code}); see {run_dir / 'logs' / 'pytest.log'}")
        return 2 if code in (3, 4) else 1
    if build_report:
        try:
            from reports.build import build_all

            build_all(run_dir)
        except (ImportError, AttributeError):
            pass
        except Exception as exc:  # a report failure must not change the verdicts
            console.print(f"report build failed: {exc}")
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    selected = [(s, name, c) for s in summary["services"] for name, c in s["checks"].items()
                if not checks or name in checks]
    if not summary["services"] or any(c["verdict"] not in OK for _, _, c in selected):
        return 1
    return 0
