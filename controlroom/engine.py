"""The control room's run engine: `kiemthu run` as supervised child processes, their state in SQLite, their live
progress, and the officer's prompts.

A run is a process of its own (`python -m controlroom.child`), started by the manager's supervisor thread, not by
the web request that asked for it: a reload or a closed browser changes nothing. The child ends with the server (a
cancel or `shutdown()` asks it to stop; a killed server kills it through PDEATHSIG), and a restarted server's
`recover()` marks a run it left behind as interrupted, never as running forever.

Progress: the supervisor follows the run's `progress.jsonl` (the suite's events) and the child's console output,
masks secrets, and appends both, in the order seen, to `events.jsonl` in the run's control folder
(`<runs_root>/.control/<run id>/`, beside the run folder: the signed bundle is not touched after its seal); a client
asks for the events after the last index it has. Officer prompts are `prompt` events; `answer()` writes
`<run>/prompts/<id>.done` (sealed with the run: who said "Đã thực hiện").
"""

from __future__ import annotations

import functools
import json
import os
import queue
import secrets as random
import signal
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable

from conformance.progress import DOTS, PROGRESS_FILE, read_answer, read_new, write_answer
from kiemthu.logs import redact, register_secret
from kiemthu.runtime import (VN_TZ, ManagedProcess, free_port, make_run_dir, new_run_id, python_module_cmd)

CHECKS = ("sso", "submission", "payment", "processing")
STATES = ("queued", "running", "finished", "cancelled", "interrupted", "error")
ACTIVE = ("queued", "running")
CONTROL_DIR = ".control"   # beside the run folders: the engine's own files of each run
ROOM_EVENTS = "events.jsonl"
CHILD_LOG = "child.log"    # the run's console output
EXIT_FILE = "exit.json"    # the child's exit code, when the run came to its end
TICK_S = 0.1          # how often the supervisor looks at the running runs (live progress latency)
STOP_GRACE_S = 30.0   # a stopped run closes its browser, the mock and the reference system before it is killed
LOG_LINES_MAX = 40    # log lines in one event
LINE_MAX = 400

SCHEMA = """
CREATE TABLE IF NOT EXISTS room_runs (
  id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, target TEXT NOT NULL, services_json TEXT NOT NULL,
  checks_json TEXT NOT NULL, defects_json TEXT NOT NULL, state TEXT NOT NULL, run_dir TEXT NOT NULL,
  started_at TEXT NOT NULL, finished_at TEXT, exit_code INTEGER, started_by TEXT NOT NULL,
  cancelled_by TEXT, message TEXT NOT NULL DEFAULT '', server TEXT NOT NULL, pid INTEGER, pid_start TEXT,
  workers INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS room_runs_campaign ON room_runs(campaign_id, started_at);
CREATE INDEX IF NOT EXISTS room_runs_target ON room_runs(target, state);
"""

# the reference ministry system's placeholders (examples/ministry/target.yaml): ports and secrets of one run
REFERENCE_PORTS = ("KIEMTHU_MOCK_PORT", "KIEMTHU_MINISTRY_PORT")
REFERENCE_SECRETS = ("KIEMTHU_SSO_CLIENT_SECRET", "KIEMTHU_PAYMENT_SECRET", "KIEMTHU_ADAPTER_PASSWORD",
                     "KIEMTHU_OFFICER_PASSWORD")


class RunRefused(Exception):
    """A run cannot be started; `.message` says why in Vietnamese (with the field and value)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class TargetBusy(RunRefused):
    """Another run is testing the same target: runs against one system are never interleaved."""


class RunNotFound(LookupError):
    def __init__(self, run_id: str):
        self.message = f"Không có lần chạy «{run_id}» / no such run"
        super().__init__(self.message)


class PromptNotOpen(Exception):
    """The prompt was answered, closed by the suite, or never asked."""

    def __init__(self, run_id: str, prompt_id: str):
        self.message = (f"Yêu cầu «{prompt_id}» của lần chạy {run_id} không còn chờ cán bộ (đã trả lời hoặc đã đóng) "
                        f"/ the prompt is not open")
        super().__init__(self.message)


@dataclass
class RunInfo:
    id: str
    campaign_id: str
    target: Path
    services: list[str]
    checks: list[str]
    defects: list[str]
    state: str
    run_dir: Path
    started_at: datetime
    finished_at: datetime | None
    exit_code: int | None
    started_by: str
    cancelled_by: str | None = None
    message: str = ""
    workers: int = 0  # services side by side (0: one after another)

    @property
    def active(self) -> bool:
        return self.state in ACTIVE


@dataclass
class Prompt:
    id: str
    service_id: str
    dossier_code: str
    instruction: str
    deadline: datetime | None
    check: str = "processing"


def now() -> datetime:
    return datetime.now(VN_TZ)


def officer_by_hand(data: Any) -> bool:
    """The target's officer steps are done by a person (officer.mode manual): its services run one at a time."""
    officer = data.get("officer") if isinstance(data, dict) else None
    return isinstance(officer, dict) and officer.get("mode") == "manual"


def target_officer_by_hand(target: Path) -> bool:
    """officer_by_hand of the file as written (False when it cannot be read: starting the run says why)."""
    from kiemthu.target import TargetError, parse_yaml, read_text

    try:
        return officer_by_hand(parse_yaml(Path(target), read_text(Path(target))))
    except (TargetError, OSError):
        return False


def uses_reference_system(target: Path) -> bool:
    """The demo target, or a copy of it (say in manual officer mode): the engine starts the reference system."""
    import yaml

    from kiemthu.demo import DEMO_TARGET

    if Path(target).resolve() == DEMO_TARGET.resolve():
        return True
    try:
        data = yaml.safe_load(Path(target).read_text(encoding="utf-8"))
        return "${KIEMTHU_MINISTRY_PORT}" in str(((data or {}).get("system") or {}).get("base_url", ""))
    except (OSError, yaml.YAMLError, AttributeError):
        return False


def reference_environment() -> dict[str, str]:
    """Ports and secrets for one reference-system run: fresh ones, unless this process has them set already."""
    env = {name: os.environ.get(name) or str(free_port()) for name in REFERENCE_PORTS}
    env.update({name: os.environ.get(name) or random.token_urlsafe(18) for name in REFERENCE_SECRETS})
    env["KIEMTHU_PUBLICATION_DATE"] = os.environ.get("KIEMTHU_PUBLICATION_DATE") or now().date().isoformat()
    return env


def register_target_secrets(target: Path, env: dict[str, str]) -> None:
    """Every secret the target names ({env: NAME}), so no progress event or log tail shows it."""
    import yaml

    def walk(node: Any) -> Iterable[str]:
        if isinstance(node, dict):
            if set(node) == {"env"} and isinstance(node["env"], str):
                yield node["env"]
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    try:
        data = yaml.safe_load(Path(target).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return
    for name in walk(data):
        register_secret(env.get(name) or os.environ.get(name))


def mask(value: Any) -> Any:
    """Secrets masked in every string of an event."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def process_start(pid: int) -> str | None:
    """The kernel's start time of a process (tells a live run from a reused pid), None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def control_dir(run_dir: Path) -> Path:
    """The engine's folder for one run, beside the run folders (never inside the signed bundle)."""
    return Path(run_dir).parent / CONTROL_DIR / Path(run_dir).name


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@functools.lru_cache(maxsize=8192)
def _path(text: str) -> Path:
    """Paths of the run list, parsed once per process (a campaign page lists every run of the campaign)."""
    return Path(text)


def _strings(text: str) -> list[str]:
    return [] if text == "[]" else json.loads(text)


def _info(row: sqlite3.Row) -> RunInfo:
    return RunInfo(id=row["id"], campaign_id=row["campaign_id"], target=_path(row["target"]),
                   services=_strings(row["services_json"]), checks=_strings(row["checks_json"]),
                   defects=_strings(row["defects_json"]), state=row["state"], run_dir=_path(row["run_dir"]),
                   started_at=datetime.fromisoformat(row["started_at"]), finished_at=_parse_time(row["finished_at"]),
                   exit_code=row["exit_code"], started_by=row["started_by"], cancelled_by=row["cancelled_by"],
                   message=row["message"] or "", workers=row["workers"] or 0)


@dataclass(eq=False)
class _Live:
    """A run this manager supervises: its process and how far its files have been read."""

    info: RunInfo
    process: ManagedProcess
    t0: float
    progress_offset: int = 0
    log_offset: int = 0
    stop_requested: str | None = None  # 'cancelled' or 'interrupted'
    kill_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass(eq=False)
class _Spawn:
    info: RunInfo
    env: dict[str, str]
    reference: bool
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class _EventCache:
    """The room events of one run read so far (a finished run's file does not change)."""

    def __init__(self):
        self.events: list[dict[str, Any]] = []
        self.offset = 0
        self.lock = threading.Lock()


class RunManager:
    """Starts, follows, cancels and recovers the control room's runs. One per server process."""

    def __init__(self, db_path: Path, runs_root: Path):
        self.db_path, self.runs_root = Path(db_path), Path(runs_root)
        # which server owns a run: its pid and start time (a reused pid is not it), and this manager
        self.server = f"{os.getpid()}:{process_start(os.getpid())}:{random.token_hex(4)}"
        self._lock = threading.RLock()
        self._live: dict[str, _Live] = {}
        self._spawns: queue.Queue[_Spawn] = queue.Queue()
        self._caches: dict[str, _EventCache] = {}
        self._closing = threading.Event()
        with closing(self._connect()) as conn, conn:
            conn.executescript(SCHEMA)
            if "workers" not in {r["name"] for r in conn.execute("PRAGMA table_info(room_runs)")}:
                conn.execute("ALTER TABLE room_runs ADD COLUMN workers INTEGER NOT NULL DEFAULT 0")  # older files
        self._supervisor = threading.Thread(target=self._supervise, name="controlroom-runs", daemon=True)
        self._supervisor.start()

    # -- database ---------------------------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.db_path, timeout=10.0, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        return conn

    def _update(self, run_id: str, **fields: Any) -> None:
        cols = ", ".join(f"{k} = ?" for k in fields)
        with closing(self._connect()) as conn:
            conn.execute(f"UPDATE room_runs SET {cols} WHERE id = ?", (*fields.values(), run_id))

    # -- the interface ------------------------------------------------------------------------------------------
    def start(self, *, campaign_id: str, target: Path, services: list[str], checks: list[str], started_by: str,
              defects: tuple[str, ...] = (), environment: dict[str, str] | None = None,
              workers: int | str | None = None) -> str:
        """Start a run of `kiemthu run` on `target`; returns its id (also the run folder's and the history's).
        `environment`: extra variables for the run (e.g. KIEMTHU_PUBLICATION_DATE of the campaign); `workers`:
        services side by side, as `kiemthu run --workers` takes it (a number or 'auto')."""
        if self._closing.is_set():
            raise RunRefused("Máy chủ đang dừng: không bắt đầu lần chạy mới / the server is stopping")
        target = Path(target).resolve()
        self._refuse_bad_request(target, services, checks)
        processes = self._worker_processes(target, services, workers)
        reference = uses_reference_system(target)
        env = {**(reference_environment() if reference else {}), **(environment or {})}
        for name in REFERENCE_SECRETS:
            register_secret(env.get(name))
        register_target_secrets(target, env)
        run_id = new_run_id()
        info = RunInfo(id=run_id, campaign_id=campaign_id, target=target, services=list(services),
                       checks=list(checks), defects=list(defects), state="queued",
                       run_dir=(self.runs_root / run_id).resolve(), started_at=now(), finished_at=None,
                       exit_code=None, started_by=started_by, workers=processes)
        self._claim_target(info)
        spawn = _Spawn(info, env, reference)
        self._spawns.put(spawn)
        if not spawn.done.wait(60):
            raise RunRefused("Không khởi động được lần chạy trong 60 giây / the run did not start")
        if spawn.error is not None:
            raise RunRefused(f"Không khởi động được lần chạy / the run could not start: {spawn.error}")
        return run_id

    def cancel(self, run_id: str, by: str) -> None:
        """Stop a queued or running run (it closes its browser and servers first); a finished run stays as it is."""
        info = self.get(run_id)
        if not info.active:
            return
        with self._lock:
            live = self._live.get(run_id)
            if live is None:  # queued, not spawned yet: the supervisor will not start it
                self._update(run_id, state="cancelled", cancelled_by=by, finished_at=now().isoformat(timespec="seconds"),
                             message=f"Đã hủy bởi {by} / cancelled")
                self._append_event(info.run_dir, {"event": "run", "state": "cancelled", "by": by})
                return
            self._update(run_id, cancelled_by=by)
            self._request_stop(live, "cancelled")

    def get(self, run_id: str) -> RunInfo:
        with closing(self._connect()) as conn:
            row = conn.execute("SELECT * FROM room_runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunNotFound(run_id)
        return _info(row)

    def list(self, campaign_id: str | None = None) -> list[RunInfo]:
        with closing(self._connect()) as conn:
            if campaign_id is None:
                rows = conn.execute("SELECT * FROM room_runs ORDER BY started_at DESC, id DESC").fetchall()
            else:
                rows = conn.execute("SELECT * FROM room_runs WHERE campaign_id = ? ORDER BY started_at DESC, id DESC",
                                    (campaign_id,)).fetchall()
        return [_info(r) for r in rows]

    def progress(self, run_id: str, after: int = 0) -> list[dict[str, Any]]:
        """The run's events with index > `after` (indexes from 1): the suite's `check`, `step` and `prompt`
        events with their `elapsed` seconds, `log` events (lines of the run's output), `run` state changes.
        Secrets are masked."""
        info = self.get(run_id)
        live = self._live.get(run_id)
        if live is not None:  # what the run wrote up to now, not at the supervisor's last tick
            self._pump(live)
        cache = self._caches.setdefault(run_id, _EventCache())
        with cache.lock:
            events, cache.offset = read_new(control_dir(info.run_dir) / ROOM_EVENTS, cache.offset)
            for event in events:
                cache.events.append({**mask(event), "index": len(cache.events) + 1})
            return cache.events[max(0, after):]

    def prompts(self, run_id: str) -> list[Prompt]:
        """The officer prompts the run waits on now (none once it has ended)."""
        info = self.get(run_id)
        if info.state != "running":
            return []
        open_: dict[str, Prompt] = {}
        for event in self.progress(run_id):
            if event.get("event") == "prompt" and event.get("id"):
                open_[event["id"]] = Prompt(id=event["id"], service_id=event.get("service", ""),
                                            dossier_code=event.get("dossier_code") or "",
                                            instruction=event.get("instruction", ""),
                                            deadline=_parse_time(event.get("deadline")),
                                            check=event.get("check") or "processing")
            elif event.get("event") == "prompt_closed":
                open_.pop(event.get("id"), None)
        return [p for p in open_.values() if read_answer(info.run_dir, p.id) is None]

    def answer(self, run_id: str, prompt_id: str, by: str) -> None:
        """"Đã thực hiện": the officer says the back-office step is done (the suite still checks the journal)."""
        if not any(p.id == prompt_id for p in self.prompts(run_id)):
            raise PromptNotOpen(run_id, prompt_id)
        info = self.get(run_id)
        write_answer(info.run_dir, prompt_id, by)
        self._append_event(info.run_dir, {"event": "prompt_answered", "id": prompt_id, "by": by})

    def recover(self) -> None:
        """At start-up: a run another (dead) server left queued or running is interrupted; one whose child came to
        its end keeps its exit code; a child still alive without its server is stopped."""
        with closing(self._connect()) as conn:
            rows = conn.execute("SELECT * FROM room_runs WHERE state IN ('queued', 'running') AND server != ?",
                                (self.server,)).fetchall()
        for row in rows:
            if self._server_alive(row["server"]):
                continue
            info = _info(row)
            if row["pid"] and row["pid_start"] and process_start(row["pid"]) == row["pid_start"]:
                self._kill_orphan(row["pid"])
            exit_file = control_dir(info.run_dir) / EXIT_FILE
            if exit_file.is_file():
                code = json.loads(exit_file.read_text(encoding="utf-8")).get("exit_code")
                self._finish(info, "finished" if code in (0, 1) else "error", code)
                continue
            message = "Bị gián đoạn: máy chủ dừng khi lần chạy đang diễn ra / interrupted by a server restart"
            self._update(info.id, state="interrupted", finished_at=now().isoformat(timespec="seconds"),
                         message=message)
            self._append_event(info.run_dir, {"event": "run", "state": "interrupted"})

    def shutdown(self, grace: float = STOP_GRACE_S) -> None:
        """Stop every running run (each closes its own servers), mark them interrupted, end the supervisor."""
        self._closing.set()
        with self._lock:
            lives = list(self._live.values())
            for live in lives:
                self._request_stop(live, "interrupted")
        deadline = time.monotonic() + grace
        for live in lives:
            try:
                live.process.proc.wait(max(0.1, deadline - time.monotonic()))
            except Exception:
                pass
        self._supervisor.join(grace + 5)
        for live in lives:  # whatever the supervisor did not get to
            live.process.stop()
            self._settle(live)

    # -- refusing ---------------------------------------------------------------------------------------------
    def _refuse_bad_request(self, target: Path, services: list[str], checks: list[str]) -> None:
        if not target.is_file():
            raise RunRefused(f"target: không tìm thấy tệp cấu hình hệ thống / target file not found: {target}")
        unknown = [c for c in checks if c not in CHECKS]
        if unknown:
            raise RunRefused(f"checks: chỉ được chọn {', '.join(CHECKS)}; không biết / unknown: {', '.join(unknown)}")
        bad = [s for s in services if not isinstance(s, str) or not s or s.startswith("-")]
        if bad:
            raise RunRefused(f"services: mã dịch vụ không hợp lệ / invalid service id: {bad[0]!r}")

    def _worker_processes(self, target: Path, services: list[str], workers: int | str | None) -> int:
        """How many processes the run gets (0: one service after another); refused as `kiemthu run` would refuse
        it, before anything starts: a bad value, or services side by side with an officer working by hand. The file
        is read as written: its ${VARIABLES} are the run's, set for the child only."""
        from conformance.runner import worker_count
        from kiemthu.target import TargetError, parse_yaml, read_text

        if workers in (None, "", 0, "0"):
            return 0
        try:
            data = parse_yaml(target, read_text(target))
        except TargetError as exc:
            raise RunRefused(f"target: {'; '.join(exc.problems)}") from None
        data = data if isinstance(data, dict) else {}
        listed = data.get("services") if isinstance(data.get("services"), list) else []
        try:
            processes = worker_count(workers, len(services) if services else len(listed))
        except ValueError as exc:
            raise RunRefused(f"Số dịch vụ chạy song song không hợp lệ / {exc}") from None
        if processes and officer_by_hand(data):
            raise RunRefused(f"workers: {workers} — cán bộ xử lý hồ sơ thủ công (officer.mode manual) nên các dịch vụ "
                             f"chạy lần lượt / with officer.mode manual the services run one at a time")
        return processes

    def _claim_target(self, info: RunInfo) -> None:
        """Record the run as queued unless another run tests the same target (one transaction: never two)."""
        with self._lock, closing(self._connect()) as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                busy = conn.execute("SELECT * FROM room_runs WHERE target = ? AND state IN ('queued', 'running') "
                                    "ORDER BY started_at LIMIT 1", (str(info.target),)).fetchone()
                if busy is not None:
                    other = _info(busy)
                    raise TargetBusy(
                        f"Hệ thống này đang được kiểm thử trong lần chạy {other.id} (chiến dịch {other.campaign_id}, "
                        f"do {other.started_by} bắt đầu lúc {other.started_at:%H:%M:%S %d/%m/%Y}); hãy chờ lần chạy "
                        f"đó kết thúc hoặc hủy nó / the target is busy with run {other.id}")
                conn.execute("INSERT INTO room_runs (id, campaign_id, target, services_json, checks_json, defects_json,"
                             " state, run_dir, started_at, started_by, server, workers) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                             (info.id, info.campaign_id, str(info.target), json.dumps(info.services),
                              json.dumps(info.checks), json.dumps(info.defects), "queued", str(info.run_dir),
                              info.started_at.isoformat(timespec="seconds"), info.started_by, self.server,
                              info.workers))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # -- the supervisor ---------------------------------------------------------------------------------------
    def _supervise(self) -> None:
        """One long-lived thread starts every child (PDEATHSIG binds them to it) and follows them all."""
        while True:
            try:
                spawn = self._spawns.get(timeout=TICK_S)
            except queue.Empty:
                spawn = None
            if spawn is not None:
                self._spawn(spawn)
            with self._lock:
                lives = list(self._live.values())
            for live in lives:
                try:
                    self._follow(live)
                except Exception as exc:  # one run's trouble must not stop the others being followed
                    self._append_event(live.info.run_dir, {"event": "log", "lines": [f"control room: {exc}"]})
            if self._closing.is_set() and not lives and self._spawns.empty():
                return

    def _spawn(self, spawn: _Spawn) -> None:
        info = spawn.info
        try:
            if self.get(info.id).state != "queued":  # cancelled while waiting
                return
            run_dir = make_run_dir(info.run_dir)
            cmd = python_module_cmd("controlroom.child", "--target", str(info.target), "--run-dir", str(run_dir))
            for s in info.services:
                cmd += ["--service", s]
            for c in info.checks:
                cmd += ["--check", c]
            for d in info.defects:
                cmd += ["--defect", d]
            if info.workers > 1:
                cmd += ["--workers", str(info.workers)]
            if spawn.reference:
                cmd.append("--reference-system")
            control = control_dir(run_dir)
            control.mkdir(parents=True, exist_ok=True)
            cmd += ["--exit-file", str(control / EXIT_FILE)]
            env = {**spawn.env, "KIEMTHU_HISTORY_DB": str(self.db_path.resolve()), "CI": "true"}
            process = ManagedProcess(name=f"run {info.id}", cmd=cmd, health_url="", env=env,
                                     log_path=control / CHILD_LOG, bound_to_thread=True).spawn()
            live = _Live(info=info, process=process, t0=time.time())
            with self._lock:
                self._live[info.id] = live
            self._update(info.id, state="running", pid=process.proc.pid, pid_start=process_start(process.proc.pid))
            info.state = "running"
            self._append_event(run_dir, {"event": "run", "state": "running", "by": info.started_by,
                                         "services": info.services, "checks": info.checks})
        except BaseException as exc:
            spawn.error = exc
            self._finish(info, "error", None, f"Không khởi động được / could not start: {exc}")
        finally:
            spawn.done.set()

    def _pump(self, live: _Live) -> None:
        """New progress events and output lines of a live run into its room events (once each: under its lock)."""
        with live.lock:
            run_dir = live.info.run_dir
            events, live.progress_offset = read_new(run_dir / PROGRESS_FILE, live.progress_offset)
            lines, live.log_offset = _read_lines(control_dir(run_dir) / CHILD_LOG, live.log_offset)
            out: list[dict[str, Any]] = []
            for event in events:
                if isinstance(event, dict):
                    t = event.get("t") or time.time()
                    out.append({**event, "elapsed": round(max(0.0, t - live.t0), 1)})
            lines = [line[:LINE_MAX] for line in lines if line.strip() and not DOTS.match(line.strip())]
            for i in range(0, len(lines), LOG_LINES_MAX):
                out.append({"t": round(time.time(), 3), "event": "log", "lines": lines[i:i + LOG_LINES_MAX]})
            if out:
                self._append_events(run_dir, out)

    def _follow(self, live: _Live) -> None:
        """A supervisor tick for one run: its new events, a kill after the stop grace, its end into the state."""
        self._pump(live)
        if live.kill_at is not None and time.monotonic() >= live.kill_at:
            live.process.stop()  # the whole group, SIGKILL after SIGTERM
        if live.process.proc.poll() is not None:
            self._settle(live)

    def _settle(self, live: _Live) -> None:
        """Record how a child ended, once."""
        with self._lock:
            if self._live.pop(live.info.id, None) is None:
                return
        live.process.stop()  # its group, and anything left in it
        code = live.process.proc.returncode
        self._pump(live)  # the last lines written before the end
        if live.stop_requested:
            by = self.get(live.info.id).cancelled_by
            message = (f"Đã hủy bởi {by} / cancelled" if live.stop_requested == "cancelled" else
                       "Bị gián đoạn: máy chủ dừng khi lần chạy đang diễn ra / interrupted by a server stop")
            self._finish(live.info, live.stop_requested, code, message)
        elif code in (0, 1) and (live.info.run_dir / "summary.json").is_file():
            self._finish(live.info, "finished", code)
        else:
            self._finish(live.info, "error", code, _error_message(code, live.info.run_dir))

    def _finish(self, info: RunInfo, state: str, code: int | None, message: str = "") -> None:
        self._update(info.id, state=state, exit_code=code, finished_at=now().isoformat(timespec="seconds"),
                     message=message)
        self._append_event(info.run_dir, {"event": "run", "state": state, "exit_code": code, "message": message})

    def _request_stop(self, live: _Live, why: str) -> None:
        """SIGTERM to the run's own process: it unwinds (browser, mock, reference system); killed after a grace."""
        if live.stop_requested:
            return
        live.stop_requested, live.kill_at = why, time.monotonic() + STOP_GRACE_S
        try:
            os.kill(live.process.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def _server_alive(self, server: str) -> bool:
        """Another server process still runs: its runs are its own, not left behind."""
        pid, _, started = server.partition(":")
        started = started.partition(":")[0]
        try:
            pid_n = int(pid)
        except ValueError:
            return False
        return pid_n != os.getpid() and process_start(pid_n) == started and not _is_zombie(pid_n)

    def _kill_orphan(self, pid: int) -> None:
        """A child whose server died without taking it along: its group ends now."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pid, sig)
            except (ProcessLookupError, PermissionError):
                return
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and process_start(pid) is not None and not _is_zombie(pid):
                time.sleep(0.1)
            if process_start(pid) is None or _is_zombie(pid):
                return

    # -- the room events file -----------------------------------------------------------------------------------
    def _append_event(self, run_dir: Path, event: dict[str, Any]) -> None:
        self._append_events(run_dir, [{"t": round(time.time(), 3), **event}])

    def _append_events(self, run_dir: Path, events: list[dict[str, Any]]) -> None:
        """Masked before they are written: the file itself never holds a secret."""
        data = "".join(json.dumps(mask(e), ensure_ascii=False, default=str) + "\n" for e in events)
        folder = control_dir(run_dir)
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock, open(folder / ROOM_EVENTS, "a", encoding="utf-8") as f:
            f.write(data)


def _read_lines(path: Path, offset: int) -> tuple[list[str], int]:
    """Complete lines appended since `offset`."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read(1 << 20)
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    return data[:end].decode("utf-8", "replace").splitlines(), offset + end


def _error_message(code: int | None, run_dir: Path) -> str:
    if code == 2:
        return "Cấu hình không hợp lệ hoặc hệ thống không khởi động được; xem nhật ký / configuration error (see log)"
    return f"Lần chạy kết thúc bất thường (mã {code}), không có summary.json / the run ended abnormally"


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True
