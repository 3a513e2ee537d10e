"""`kiemthu load`: start the mock portal (when the target says so), run Locust, wait for the system's outbox to
drain, reconcile what the journeys saw with what reached the portal, check the go-live gate, write the results.

Exit codes: 0 gate passed · 1 a gate threshold or the reconciliation failed · 2 invalid target/options ·
4 the run itself could not complete (system unreachable, Locust failed, no statistics).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx

from conformance.portal import MockProcess, mock_process
from kiemthu.control import ControlAccess, discover, exposure_warning
from kiemthu.logs import redact
from kiemthu.runtime import VN_TZ, DeadlineExceeded, PortTaken, ensure_port_free, make_run_dir, port_is_free, wait_until
from loadtest.context import ENV_DIR, ENV_OPTIONS, ENV_RUN_TIME, ENV_TARGET
from loadtest.gate import evaluate_gate, failed_names, gate_passed, read_stats_csv, steps, aggregate
from loadtest.portal_view import fetch_portal_view, wait_outbox_drained
from loadtest.reconcile import (Reconciliation, dossier_codes, journeys_per_min, paid_refs, read_records, reconcile)
from loadtest.settings import LoadConfigError, LoadSettings, resolve_settings

LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
EXIT_OK, EXIT_GATE, EXIT_CONFIG, EXIT_RUN = 0, 1, 2, 4
CSV_PREFIX = "locust"


def _say(text: str) -> None:
    print(redact(text), flush=True)


# --- the mock portal -------------------------------------------------------------------------------------
def start_mock(target_path: Path, portal_url: str, run_dir: Path, host: str | None = None) -> MockProcess:
    """Start the mock on the target's portal port (bound to `host`, loopback by default). A server already
    listening there is refused (PortTaken naming the port and its process), never adopted: a server the
    harness did not start has registrations and a state the run knows nothing of."""
    parsed = urlparse(portal_url)
    port = parsed.port or 80
    for line in exposure_warning(host or "127.0.0.1", portal_url):
        _say(line)
    ensure_port_free(port, host or "127.0.0.1", "mock portal (portal.base_url)")
    # its SQLite file is outside the run dir (it holds secrets); removed with the run
    return mock_process(target_path, portal_url, run_dir, log_name="mock-load.log", host=host).start(30.0)


def control_access(portal_url: str, mock: MockProcess | None) -> ControlAccess | None:
    """The control plane of the mock the run uses: the one started here, else (`portal.mode: external`) the
    access its owner handed over."""
    return mock.control if mock is not None else discover(portal_url)


class ProcessSampler(threading.Thread):
    """CPU and memory of one process, sampled every second while the load runs (is the mock the bottleneck?)."""

    def __init__(self, pid: int | None):
        super().__init__(name="kiemthu-mock-sampler", daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, float, float]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        if self.pid is None:
            return
        import psutil

        try:
            proc = psutil.Process(self.pid)
            proc.cpu_percent(None)
            while not self._stop_event.wait(1.0):
                with proc.oneshot():
                    self.samples.append((time.time(), proc.cpu_percent(None), proc.memory_info().rss / 2**20))
        except psutil.Error:
            return

    def stop(self) -> dict[str, Any]:
        self._stop_event.set()
        self.join(timeout=5)
        if not self.samples:
            return {}
        cpu = sorted(s[1] for s in self.samples)
        return {"cpu_percent_avg": round(sum(cpu) / len(cpu), 1), "cpu_percent_max": round(cpu[-1], 1),
                "cpu_percent_p90": round(cpu[int(0.9 * (len(cpu) - 1))], 1),
                "rss_mb_max": round(max(s[2] for s in self.samples), 1), "samples": len(cpu)}


def mock_figures(control: ControlAccess, started: float, finished: float, sampler: dict[str, Any]) -> dict[str, Any]:
    """The mock's own view of the run: its counters per role and service (complete, from /_mock/stats), the
    server-side p95 per role (from a bounded journal sample) and its CPU use."""
    out: dict[str, Any] = {"process": sampler}
    try:
        r = httpx.get(f"{control.url}/_mock/stats", headers=control.headers(), timeout=10.0)
        if r.status_code == 200:
            out["stats"] = r.json()
    except (httpx.HTTPError, ValueError):
        pass
    out.update(_journal_figures(control, started, finished))
    cpu = sampler.get("cpu_percent_p90")
    if cpu is not None:
        out["bottleneck"] = cpu >= 90.0
    return out


def _journal_figures(control: ControlAccess, started: float, finished: float, limit: int = 5000) -> dict[str, Any]:
    """Per-role counts and server-side latency from the most recent journal entries (a bounded sample)."""
    try:
        r = httpx.get(f"{control.url}/_mock/journal", params={"limit": limit}, headers=control.headers(),
                      timeout=20.0)
        r.raise_for_status()
        entries = r.json().get("entries", [])
    except (httpx.HTTPError, ValueError) as exc:
        return {"journal_error": f"{type(exc).__name__}: {exc}"}
    by_role: dict[str, list[float]] = {}
    errors: dict[str, int] = {}
    for e in entries:
        role = e.get("role") or "?"
        by_role.setdefault(role, []).append(float(e.get("duration_ms") or 0.0))
        if int(e.get("status_code") or 0) >= 500 or e.get("error"):
            errors[role] = errors.get(role, 0) + 1
    roles = {}
    for role, durations in by_role.items():
        durations.sort()
        roles[role] = {"entries": len(durations), "server_p50_ms": round(durations[len(durations) // 2], 2),
                       "server_p95_ms": round(durations[int(0.95 * (len(durations) - 1))], 2),
                       "errors": errors.get(role, 0)}
    return {"journal_sample": len(entries), "journal_by_role": roles}


# --- faults during the run -------------------------------------------------------------------------------
class FaultDrill(threading.Thread):
    """Injects the configured mock faults at their offsets after the load started (marker file from Locust)."""

    def __init__(self, control: ControlAccess, faults: list[dict[str, Any]], started_marker: Path, max_wait: float):
        super().__init__(name="kiemthu-fault-drill", daemon=True)
        self.control, self.faults, self.marker, self.max_wait = control, faults, started_marker, max_wait
        self.applied: list[dict[str, Any]] = []
        self._cancel = threading.Event()

    def run(self) -> None:
        try:
            wait_until(lambda: self.marker.is_file() or self._cancel.is_set(), self.max_wait, interval=0.1,
                       what="load started")
        except DeadlineExceeded:
            return
        if self._cancel.is_set():
            return
        t0 = json.loads(self.marker.read_text())["t"]
        for fault in self.faults:
            # the offset is the drill's schedule (when the outage happens), not a synchronisation
            if self._cancel.wait(max(0.0, t0 + fault["at_s"] - time.time())):
                return
            body = {k: v for k, v in fault.items() if k != "at_s"}
            try:
                r = httpx.post(f"{self.control.url}/_mock/faults", json=body, headers=self.control.headers(),
                               timeout=5.0)
                ok = r.status_code < 300
                self.applied.append({**fault, "applied_at_s": round(time.time() - t0, 2), "ok": ok,
                                     "status_code": r.status_code})
                _say(f"fault injected at +{time.time() - t0:.1f}s: {body} → HTTP {r.status_code}")
            except httpx.HTTPError as exc:
                self.applied.append({**fault, "ok": False, "error": str(exc)})

    def cancel(self) -> None:
        self._cancel.set()


# --- Locust ----------------------------------------------------------------------------------------------
def locust_command(settings: LoadSettings, load_dir: Path, run_dir: Path, *, ui: bool, master: bool, worker: bool,
                   master_host: str, expect_workers: int, extra: list[str], web_port: int | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "INFO",
           "--logfile", str(run_dir / "logs" / ("locust-worker.log" if worker else "locust.log"))]
    if worker:
        return cmd + ["--worker", "--master-host", master_host] + extra
    cmd += ["-u", str(settings.users), "-r", f"{settings.spawn_rate:g}",
            "--stop-timeout", f"{settings.stop_timeout_s:g}",
            "--csv", str(load_dir / CSV_PREFIX), "--html", str(load_dir / "locust.html"),
            "--exit-code-on-error", "0"]
    # the run time is enforced by the locustfile (KIEMTHU_LOAD_RUN_TIME): journeys under way finish first
    if ui:
        cmd += ["--web-host", "127.0.0.1", "--web-port", str(web_port or 8089), "--autostart"]
    else:
        cmd += ["--headless", "--only-summary"]
    if master:
        cmd += ["--master", "--expect-workers", str(expect_workers), "--expect-workers-max-wait", "60"]
        if "--master-bind-host" not in extra:
            cmd += ["--master-bind-host", "127.0.0.1"]
    return cmd + extra


def _run_locust(cmd: list[str], env: dict[str, str], log_path: Path, timeout: float) -> int:
    """Run Locust as a child process group, bounded by `timeout` seconds."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _say(f"Locust did not finish within {timeout:.0f}s: stopping it")
            import signal

            os.killpg(proc.pid, signal.SIGINT)
            try:
                return proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                return proc.wait(5)
        except KeyboardInterrupt:
            import signal

            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(15)
            raise


# --- the summary -----------------------------------------------------------------------------------------
def write_summary(load_dir: Path, summary: dict[str, Any]) -> None:
    (load_dir / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    (load_dir / "summary.md").write_text(summary_markdown(summary), encoding="utf-8")


def summary_markdown(s: dict[str, Any]) -> str:
    verdict = "ĐẠT / PASSED" if s["gate"]["passed"] else "KHÔNG ĐẠT / FAILED"
    lines = [f"# Kiểm thử tải / Load test — {s['target']['name']}", "",
             f"- Kết luận cổng go-live / gate verdict: **{verdict}**",
             f"- Thời gian / window: {s['started_at']} → {s['finished_at']} ({s['run']['duration_s']:g} s, "
             f"{s['run']['users']} users, spawn {s['run']['spawn_rate']:g}/s, mode {s['run']['mode']})",
             f"- Thông lượng / throughput: {s['throughput']['rps']:.1f} req/s, {s['throughput']['requests']} requests, "
             f"error rate {s['throughput']['error_rate']:.2%}",
             f"- Hành trình công dân / citizen journeys: {s['journeys'].get('citizen_completed', 0)} completed "
             f"({s['journeys'].get('citizen_per_min', 0):.1f}/min), {s['journeys'].get('citizen_failed', 0)} failed", ""]
    lines += ["## Ngưỡng / thresholds", "", "| threshold | limit | actual | verdict |", "|---|---|---|---|"]
    for t in s["gate"]["thresholds"]:
        lines.append(f"| {t['name']} | {t['limit']} | {t['actual']} | {'✔' if t['passed'] else '✘ ' + t['message']} |")
    r = s["reconciliation"]
    lines += ["", "## Đối soát / reconciliation", ""]
    if r.get("enabled", True):
        lines += [f"- dossiers checked {r.get('checked_dossiers', 0)}, payments checked {r.get('checked_payments', 0)}",
                  f"- lost {r.get('lost', 0)} · duplicated {r.get('duplicated', 0)} · inconsistent {r.get('inconsistent', 0)}"]
        if r.get("error"):
            lines.append(f"- error: {r['error']}")
        ob = s.get("outbox") or {}
        if ob:
            lines.append(f"- outbox: {ob.get('note')} after {ob.get('waited_s')} s (pending {ob.get('pending')})")
        for f in r.get("findings", [])[:20]:
            lines.append(f"  - {f['category']} {f['kind']} `{f['key']}`: {f['reason']} "
                         f"(expected {f.get('expected')}, actual {f.get('actual')})")
    else:
        lines.append("- disabled")
    lines += ["", "## p95 theo bước / p95 per step (ms)", "", "| step | requests | failures | p95 | req/s |",
              "|---|---|---|---|---|"]
    for name, st in sorted(s["steps"].items()):
        lines.append(f"| {name} | {st['requests']} | {st['failures']} | {st['p95_ms']} | {st['rps']} |")
    m = s.get("mock") or {}
    if m:
        proc = m.get("process") or {}
        lines += ["", "## Cổng giả lập / mock portal", "",
                  f"- CPU avg {proc.get('cpu_percent_avg')}% · p90 {proc.get('cpu_percent_p90')}% · "
                  f"max {proc.get('cpu_percent_max')}% · RSS max {proc.get('rss_mb_max')} MB"
                  + (" — **the mock was CPU-bound: figures are a floor**" if m.get("bottleneck") else "")]
        for row in (m.get("stats") or {}).get("by_service", []):
            lines.append(f"- {row.get('role')} {row.get('service') or ''} ({row.get('direction')}): {row.get('count')} "
                         f"exchanges, {row.get('errors')} errors, server avg {row.get('avg_ms')} ms, "
                         f"max {row.get('max_ms')} ms")
        for role, fig in (m.get("journal_by_role") or {}).items():
            lines.append(f"- {role} (last {fig['entries']} journal entries): server p95 {fig['server_p95_ms']} ms")
    lines += ["", "Files: `locust.html`, `locust_stats.csv`, `locust_failures.csv`, `records.jsonl`, `summary.json`."]
    return "\n".join(lines) + "\n"


# --- entry point -----------------------------------------------------------------------------------------
def run_load(target: Path, output: Path | None = None, users: int | None = None, spawn_rate: float | None = None,
             duration: str | None = None, ui: bool = False, master: bool = False, worker: bool = False,
             master_host: str = "127.0.0.1", expect_workers: int = 1, extra: list[str] | None = None,
             portal_host: str | None = None) -> int:
    """Run the load test of a target; returns the exit code (see module doc). `portal_host`: where the mock
    listens (else the target's `portal.bind_host`, else loopback)."""
    from kiemthu.target import TargetError, load_target

    extra = list(extra or [])
    if master and worker:
        _say("--master and --worker exclude each other")
        return EXIT_CONFIG
    try:
        tgt = load_target(target)
        settings = resolve_settings(tgt, users=users, spawn_rate=spawn_rate, duration=duration)
    except TargetError as exc:
        _say(exc.render())
        return EXIT_CONFIG
    except LoadConfigError as exc:
        _say("Cấu hình kiểm thử tải không hợp lệ / invalid load settings:\n" + "\n".join(f"  - {p}" for p in exc.problems))
        return EXIT_CONFIG

    run_dir = make_run_dir(output)
    load_dir = run_dir / "load"
    load_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, ENV_TARGET: str(Path(target).resolve()),
           ENV_OPTIONS: json.dumps({"users": users, "spawn_rate": spawn_rate, "duration": duration}),
           "PYTHONUNBUFFERED": "1"}

    if worker:
        # a worker only generates load; the master owns the mock, the records, the run time and the verdict
        env.pop(ENV_DIR, None)
        env.pop(ENV_RUN_TIME, None)
        cmd = locust_command(settings, load_dir, run_dir, ui=False, master=False, worker=True,
                             master_host=master_host, expect_workers=0, extra=extra)
        _say(f"Locust worker → master {master_host}")
        return _run_locust(cmd, env, run_dir / "logs" / "locust-worker.out", settings.duration_s + 3600)

    env[ENV_DIR] = str(load_dir)
    env[ENV_RUN_TIME] = f"{settings.duration_s:g}"
    for stale in ("records.jsonl", "started.json", "final_stats.csv", "final_failures.csv", "generator.json"):
        (load_dir / stale).unlink(missing_ok=True)
    started_at = datetime.now(VN_TZ)
    mock: MockProcess | None = None
    try:
        if settings.portal_mode == "mock":
            try:
                mock = start_mock(Path(target).resolve(), settings.portal_url, run_dir,
                                  host=portal_host or tgt.portal_bind_host())
            except PortTaken as exc:
                _say(f"Không khởi động Cổng giả lập / the mock portal is not started: {exc}")
                return EXIT_RUN
            except Exception as exc:  # noqa: BLE001 — any start failure is reported the same way
                _say(f"could not start the mock portal: {exc}")
                return EXIT_RUN
        control = control_access(settings.portal_url, mock)
        if control is not None:
            env.update(control.env())  # Locust reads the mock's identities; the system under test never gets it
        needs_system = settings.weights["citizen"] > 0 or settings.weights["officer"] > 0
        if needs_system:
            health = settings.system_url + (tgt["system"].get("health_path") or "/")
            try:
                wait_until(lambda: httpx.get(health, timeout=2.0).status_code < 500, 30.0, what=f"system at {health}")
            except DeadlineExceeded as exc:
                _say(f"the system under test does not answer: {exc}")
                return EXIT_RUN

        sampler = ProcessSampler(mock.proc.pid if mock and mock.proc else _pid_on_port(settings.portal_url))
        sampler.start()
        drill = None
        if settings.faults:
            if control is None:
                _say(f"faults are configured but no control access is known for the mock at {settings.portal_url}")
                return EXIT_CONFIG
            drill = FaultDrill(control, settings.faults, load_dir / "started.json",
                               max_wait=120.0 + (60.0 if master else 0.0))
            drill.start()
        web_port = None
        if ui:
            from kiemthu.runtime import free_port

            web_port = 8089 if port_is_free(8089) else free_port()
            _say(f"Locust web UI: http://127.0.0.1:{web_port}/")
        cmd = locust_command(settings, load_dir, run_dir, ui=ui, master=master, worker=False, master_host=master_host,
                             expect_workers=expect_workers, extra=extra, web_port=web_port)
        _say(f"Load test: {settings.users} users, spawn {settings.spawn_rate:g}/s, {settings.duration_s:g}s, "
             f"journeys {', '.join(f'{k}×{v}' for k, v in settings.weights.items() if v)}"
             + (f", expecting {expect_workers} worker(s)" if master else ""))
        t0 = time.time()
        bound = settings.duration_s + settings.stop_timeout_s + (75.0 if master else 0.0) + 60.0
        locust_rc = _run_locust(cmd, env, run_dir / "logs" / "locust.out", bound)
        t1 = time.time()
        if drill:
            drill.cancel()
        proc_fig = sampler.stop()

        stats_csv = load_dir / f"{CSV_PREFIX}_stats.csv"
        for final, periodic in (("final_stats.csv", stats_csv), ("final_failures.csv", load_dir / f"{CSV_PREFIX}_failures.csv")):
            if (load_dir / final).is_file():
                os.replace(load_dir / final, periodic)  # complete figures, same file name as Locust's own
        if not stats_csv.is_file():
            _say(f"Locust produced no statistics (exit {locust_rc}); see {run_dir / 'logs' / 'locust.log'} "
                 f"and {run_dir / 'logs' / 'locust.out'}")
            return EXIT_RUN
        stats = read_stats_csv(stats_csv)
        records = read_records([load_dir / "records.jsonl"])

        outbox = None
        recon: Reconciliation | None = None
        recon_cfg = settings.reconciliation
        if recon_cfg.get("enabled", True) and needs_system:
            if settings.outbox_url:
                outbox = wait_outbox_drained(settings.outbox_url, settings.outbox_drain_timeout_s)
                _say(f"outbox: {outbox['note']} ({outbox['waited_s']} s)")
            codes, refs = dossier_codes(records), paid_refs(records)
            dossiers, payments, errors = fetch_portal_view(control, codes, refs,
                                                           timeout=float(recon_cfg.get("timeout_s", 120)),
                                                           ok_code=tgt_ok_code(tgt))
            if errors:
                recon = Reconciliation(checked_dossiers=len(codes), checked_payments=len(refs),
                                       error=f"{len(errors)} portal look-up(s) failed, e.g. {errors[0]}")
            else:
                recon = reconcile(records, dossiers, payments,
                                  submitted_status=list(recon_cfg.get("submitted_status", ["1", "2"])),
                                  ok_code=tgt_ok_code(tgt))
        mock_fig = mock_figures(control, t0, t1, proc_fig) if settings.portal_mode == "mock" and control else {}
        jpm = journeys_per_min(records, load_window(load_dir, records, t0, t1, settings))
        recon_dict = recon.to_dict() if recon else {"enabled": False}
        thresholds = evaluate_gate(settings.gate, stats, journeys_per_min=jpm,
                                   reconciliation=recon_dict if recon else None)
        passed = gate_passed(thresholds)
        summary = build_summary(tgt, target, settings, run_dir, started_at, stats, records, thresholds, passed,
                                recon_dict, outbox, mock_fig, jpm, locust_rc, master, expect_workers,
                                drill.applied if drill else [])
        write_summary(load_dir, summary)
        print_verdict(summary, load_dir)
        return EXIT_OK if passed else EXIT_GATE
    finally:
        if mock is not None:
            mock.stop()  # its SQLite folder goes with it


def load_window(load_dir: Path, records: list[dict[str, Any]], t0: float, t1: float, settings: LoadSettings) -> float:
    """Seconds the load actually ran: from Locust's test start to the last journey, within the run's bounds."""
    start = t0
    marker = load_dir / "started.json"
    if marker.is_file():
        start = json.loads(marker.read_text())["t"]
    ends = [r["t"] for r in records if r.get("type") == "journey" and "t" in r]
    end = max(ends) if ends else t1
    return max(1.0, min(end - start, settings.duration_s + settings.stop_timeout_s))


def tgt_ok_code(tgt) -> str:
    from schemas import load_profile

    return str(load_profile(tgt["portal"].get("profile")).get("payment", {}).get("ok_code", "00"))


def _pid_on_port(url: str) -> int | None:
    """The process listening on a loopback portal URL (a mock started by someone else), for CPU sampling."""
    try:
        import psutil

        port = urlparse(url).port
        for c in psutil.net_connections(kind="tcp"):
            if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN:
                return c.pid
    except Exception:  # noqa: BLE001 — sampling is best effort
        return None
    return None


def build_summary(tgt, target_path, settings: LoadSettings, run_dir: Path, started_at: datetime, stats, records,
                  thresholds, passed: bool, recon: dict[str, Any], outbox, mock_fig, jpm: float, locust_rc: int,
                  master: bool, expect_workers: int, faults_applied: list[dict[str, Any]]) -> dict[str, Any]:
    total = aggregate(stats)
    journeys = [r for r in records if r.get("type") == "journey"]
    by_kind: dict[str, Any] = {}
    for kind in ("citizen", "officer"):
        done = [j for j in journeys if j.get("kind") == kind and j.get("ok")]
        by_kind[f"{kind}_completed"] = len(done)
        by_kind[f"{kind}_failed"] = sum(1 for j in journeys if j.get("kind") == kind and not j.get("ok")
                                        and not j.get("interrupted"))
        by_kind[f"{kind}_interrupted"] = sum(1 for j in journeys if j.get("kind") == kind and j.get("interrupted"))
        if done:
            d = sorted(float(j.get("duration_s") or 0) for j in done)
            by_kind[f"{kind}_p95_s"] = round(d[int(0.95 * (len(d) - 1))], 3)
    by_kind["citizen_per_min"] = round(jpm, 2)
    return {
        "schema_version": 1,
        "run_id": run_dir.name,
        "target": {"name": tgt["system"]["name"], "base_url": settings.system_url, "portal_url": settings.portal_url,
                   "file": str(target_path)},
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(VN_TZ).isoformat(timespec="seconds"),
        "run": {"users": settings.users, "spawn_rate": settings.spawn_rate, "duration_s": settings.duration_s,
                "weights": settings.weights, "mode": "master" if master else "local",
                "workers": expect_workers if master else 0, "locust_exit_code": locust_rc,
                "faults": faults_applied},
        "gate": {"passed": passed, "failed": failed_names(thresholds), "thresholds": [t.to_dict() for t in thresholds]},
        "throughput": {"requests": total.requests, "failures": total.failures, "rps": round(total.rps, 2),
                       "error_rate": round(total.error_rate, 6), "p95_ms": total.p95_ms},
        "steps": {name: {"requests": s.requests, "failures": s.failures, "p95_ms": s.p95_ms, "p99_ms": s.p99_ms,
                         "median_ms": s.median_ms, "rps": round(s.rps, 2)} for name, s in steps(stats).items()},
        "journeys": by_kind,
        "reconciliation": recon,
        "outbox": outbox,
        "mock": mock_fig,
        "generator": _generator_figures(run_dir / "load", total.requests, total.rps),
        "files": {"html": "locust.html", "stats_csv": f"{CSV_PREFIX}_stats.csv",
                  "failures_csv": f"{CSV_PREFIX}_failures.csv", "history_csv": f"{CSV_PREFIX}_stats_history.csv",
                  "records": "records.jsonl", "markdown": "summary.md"},
    }


def _generator_figures(load_dir: Path, requests: int, rps: float) -> dict[str, Any]:
    """CPU of the load-generating processes over Locust's measuring window: `cpu_share` near 1.0 means a
    generator had no spare CPU (it, not the system, set the pace); `requests_per_cpu_s` is what one fully
    available core drives with this traffic."""
    path = load_dir / "generator.json"
    if not path.is_file():
        return {}
    nodes = json.loads(path.read_text())
    out: dict[str, Any] = {"nodes": nodes}
    generating = [v for k, v in nodes.items() if k != "master" and v.get("cpu_s")]
    cpu = sum(v["cpu_s"] for v in generating)
    window = requests / rps if rps else 0.0
    if cpu and window:
        out["requests_per_cpu_s"] = round(requests / cpu, 1)
        out["cpu_share"] = round(cpu / window / max(1, len(generating)), 3)
    return out


def print_verdict(summary: dict[str, Any], load_dir: Path) -> None:
    g = summary["gate"]
    t = summary["throughput"]
    _say(f"{t['requests']} requests, {t['rps']:.1f} req/s, error rate {t['error_rate']:.2%}; "
         f"citizen journeys {summary['journeys'].get('citizen_completed', 0)} "
         f"({summary['journeys'].get('citizen_per_min', 0):.1f}/min)")
    r = summary["reconciliation"]
    if r.get("enabled", True) and "lost" in r:
        _say(f"reconciliation: {r.get('checked_dossiers', 0)} dossiers, {r.get('checked_payments', 0)} payments — "
             f"lost {r['lost']}, duplicated {r['duplicated']}, inconsistent {r['inconsistent']}"
             + (f" ({r['error']})" if r.get("error") else ""))
    for th in g["thresholds"]:
        _say(("  ✔ " if th["passed"] else "  ✘ ") + th["message"])
    if g["passed"]:
        _say(f"GATE PASSED (cổng go-live: ĐẠT) — {load_dir}")
    else:
        _say(f"GATE FAILED (cổng go-live: KHÔNG ĐẠT): {', '.join(g['failed'])} — {load_dir}")
