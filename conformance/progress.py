"""Live progress of a run: the pytest process appends events to <run>/progress.jsonl, the CLI follows the file.

Events (one JSON object a line): `check` with state `start` or `end` (verdict, seconds), `step` (the flow step
being played, or a negative case being tried) for the service's current check, and `prompt` / `prompt_closed` when
a person must act in the back office (manual officer mode). A prompt is answered ("Đã thực hiện") by a file
<run>/prompts/<id>.done; the suite then still verifies the step on the portal journal. In a terminal the CLI shows a table
per service × check with the current step and its elapsed time; in CI (`CI=true`, or output not a terminal) it
prints one line per finished check.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any, Iterator

PROGRESS_FILE = "progress.jsonl"
PROMPTS_DIR = "prompts"
_PROMPT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,119}$")
CHECK_TITLES = {"sso": "SSO", "submission": "Nộp hồ sơ", "payment": "Thanh toán", "processing": "Xử lý & đồng bộ"}
VERDICT_WORDS = {"passed": "Đạt", "passed_with_exceptions": "Đạt, trừ một số quy tắc", "warning": "Cảnh báo",
                 "failed": "Không đạt", "inconclusive": "Không kết luận được", "not_applicable": "Không áp dụng",
                 "error": "Lỗi"}
# pytest's own progress line ("..F.s [ 50%]"): the live table says the same, better
DOTS = re.compile(r"^[.FsExX]+\s*(\[\s*\d+%\])?\s*$")
# pytest's section headers ("==== FAILURES ====", "==== short test summary info ===="); the sections holding
# tracebacks of the harness's own code stay in logs/pytest.log
SECTION = re.compile(r"^={3,} (?P<title>.+?) ={3,}$")
TRACEBACK_SECTIONS = ("FAILURES", "ERRORS", "warnings summary")
HIDDEN_NOTE = "(chi tiết kỹ thuật / technical details: logs/pytest.log)"


class UserLines:
    """Which lines of pytest's output a user sees: not the dots, not the tracebacks (told once where they are)."""

    def __init__(self):
        self.hiding = False
        self.told = False

    def keep(self, line: str) -> str | None:
        text = line.rstrip("\n")
        header = SECTION.match(text.strip())
        if header:
            self.hiding = header["title"].strip() in TRACEBACK_SECTIONS
            if self.hiding:
                if self.told:
                    return None
                self.told = True
                return HIDDEN_NOTE
            return None if header["title"].startswith("short test summary") else text
        if self.hiding or not text.strip() or DOTS.match(text.strip()):
            return None
        return text


# pytest-xdist's start-up lines with --workers ("bringing up nodes...", "2 workers [12 items]"): the table says it
XDIST = re.compile(r"^(bringing up nodes\.*|created: \d+/\d+ workers?|\d+ workers? \[\d+ items?\])\s*$")


class ProgressLog:
    """Writer side (the pytest process). Thread-safe: the SSO probes report from their own thread."""

    def __init__(self, run_dir: Path):
        self.path = Path(run_dir) / PROGRESS_FILE
        self._lock = threading.Lock()
        self._file: IO[str] | None = None
        self.current: dict[str, str] = {}  # service → the check being evaluated

    def emit(self, event: str, service: str, **fields: Any) -> None:
        line = json.dumps({"t": round(time.time(), 3), "event": event, "service": service, **fields},
                          ensure_ascii=False, default=str)
        with self._lock:
            try:
                if self._file is None:
                    self._file = open(self.path, "a", encoding="utf-8")
                self._file.write(line + "\n")
                self._file.flush()
            except OSError:  # progress is a courtesy: never a reason to stop the run
                pass

    def check_started(self, service: str, check: str) -> None:
        self.current[service] = check
        self.emit("check", service, check=check, state="start")

    def check_ended(self, service: str, check: str, verdict: str, seconds: float, reason: str = "") -> None:
        self.emit("check", service, check=check, state="end", verdict=verdict, seconds=round(seconds, 2),
                  reason=reason[:300])

    def step(self, service: str, what: str, check: str | None = None) -> None:
        """`check`: the check the step serves (a flow runs when the first check needs it), else the current one."""
        self.emit("step", service, check=check or self.current.get(service), what=what[:160])

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def prompt_id(service: str, flow: str) -> str:
    """A prompt's id: safe as a file name, stable for one service's step."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", f"{service}.{flow}")[:120]


def answer_path(run_dir: Path, pid: str) -> Path:
    """Where the answer to prompt `pid` is written; an id that is not one the suite makes is refused."""
    if not _PROMPT_ID.match(pid or ""):
        raise ValueError(f"prompt id: must be letters, digits, '.', '_' or '-' (at most 120), got {pid!r}")
    return Path(run_dir) / PROMPTS_DIR / f"{pid}.done"


def write_answer(run_dir: Path, pid: str, by: str) -> Path:
    """Record that a person says the prompt's step is done (written whole, then renamed: never read half-written)."""
    path = answer_path(run_dir, pid)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"by": by, "at": round(time.time(), 3)}, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)
    return path


def read_answer(run_dir: Path, pid: str) -> dict[str, Any] | None:
    """The answer to a prompt ({by, at}), or None while nobody answered."""
    try:
        data = json.loads(answer_path(run_dir, pid).read_text(encoding="utf-8") or "{}")
    except FileNotFoundError:
        return None
    except ValueError:
        data = {}
    return data if isinstance(data, dict) else {}


class Board:
    """Reader side: the state of every service × check as the events tell it."""

    def __init__(self):
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}

    def apply(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """Fold one event in; returns the row when a check has just finished."""
        service, check = event.get("service"), event.get("check")
        if not service or not check:
            return None
        row = self.rows.setdefault((service, check), {"service": service, "check": check, "state": "waiting"})
        if event["event"] == "check" and event.get("state") == "start":
            row.setdefault("started", event["t"])
            row.update(state="running")
        elif event["event"] == "check" and event.get("state") == "end":
            # the time since its first step: its flows may have run while an earlier check needed them
            seconds = event["t"] - row.get("started", event["t"]) or event.get("seconds") or 0
            row.update(state="done", verdict=event.get("verdict"), seconds=round(max(seconds, event.get("seconds") or 0), 1),
                       reason=event.get("reason", ""))
            return row
        elif event["event"] == "step" and row.get("state") != "done":
            row.setdefault("started", event["t"])
            row.update(state="running", step=event.get("what", ""))
        return None

    def table(self, now: float | None = None):
        from rich.table import Table

        now = now or time.time()
        table = Table(title="Đang kiểm thử / running", expand=False)
        for col in ("Dịch vụ", "Kiểm tra", "Trạng thái", "Bước hiện tại", "Thời gian"):
            table.add_column(col, overflow="fold")
        for row in self.rows.values():
            if row["state"] == "done":
                state, step, seconds = VERDICT_WORDS.get(row.get("verdict"), row.get("verdict") or "?"), "", row.get("seconds") or 0
            else:
                state, step = "đang chạy", row.get("step", "")
                seconds = now - row.get("started", now)
            table.add_row(row["service"], CHECK_TITLES.get(row["check"], row["check"]), state, step, f"{seconds:.1f}s")
        return table


def finished_line(row: dict[str, Any]) -> str:
    """The one line CI logs get per finished check."""
    word = VERDICT_WORDS.get(row.get("verdict"), row.get("verdict") or "?")
    text = f"[{row['service']} / {CHECK_TITLES.get(row['check'], row['check'])}] {word} ({row.get('seconds') or 0:.1f}s)"
    if row.get("verdict") in ("failed", "inconclusive", "error") and row.get("reason"):
        text += f" — {row['reason'][:200]}"
    return text


def live_wanted(stream=None) -> bool:
    """A live table only on a terminal outside CI."""
    stream = stream or sys.stdout
    return os.environ.get("CI", "").lower() not in ("1", "true", "yes") and bool(getattr(stream, "isatty", lambda: False)())


def read_new(path: Path, offset: int) -> tuple[list[dict[str, Any]], int]:
    """Complete lines appended since `offset`; a half-written last line waits for the next read."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    events = []
    for raw in data[:end].splitlines():
        try:
            events.append(json.loads(raw))
        except ValueError:
            continue
    return events, offset + end


class EnterAnswers:
    """In an interactive terminal, Enter answers the officer prompt open longest ("Đã thực hiện")."""

    def __init__(self, run_dir: Path, stream=None):
        self.run_dir, self.stream = Path(run_dir), stream or sys.stdin
        self.open: list[str] = []
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None

    def see(self, event: dict[str, Any], show) -> None:
        pid = event.get("id")
        if event.get("event") == "prompt" and pid:
            with self._lock:
                self.open.append(pid)
            show(f"Nhấn Enter khi đã thực hiện (Đã thực hiện) / press Enter when done: {event.get('dossier_code', '')}")
            if self._reader is None:
                self._reader = threading.Thread(target=self._read, name="officer-enter", daemon=True)
                self._reader.start()
        elif event.get("event") == "prompt_closed" and pid:
            with self._lock:
                if pid in self.open:
                    self.open.remove(pid)

    def _read(self) -> None:
        import getpass

        for _ in self.stream:
            with self._lock:
                pid = self.open.pop(0) if self.open else None
            if pid:
                write_answer(self.run_dir, pid, getpass.getuser())


def stdin_interactive() -> bool:
    return os.environ.get("CI", "").lower() not in ("1", "true", "yes") and bool(getattr(sys.stdin, "isatty", lambda: False)())


def follow(proc, run_dir: Path, log: IO[str], out: IO[str] | None = None, live: bool | None = None,
           interval: float = 0.2, enter_answers: bool | None = None) -> int:
    """Copy the pytest process's output to `log` and, besides pytest's own dots and tracebacks, to `out`; meanwhile show the
    progress events (a live table, or one line per finished check). Returns the process's exit code.
    With `enter_answers` (default: stdin is a terminal) Enter answers an officer prompt."""
    from rich.console import Console
    from rich.live import Live

    out = out or sys.stdout
    live = live_wanted(out) if live is None else live
    answers = EnterAnswers(run_dir) if (stdin_interactive() if enter_answers is None else enter_answers) else None
    lines: list[str] = []
    lock = threading.Lock()

    def pump() -> None:
        for line in proc.stdout:
            log.write(line)
            log.flush()  # a person tailing the log sees a prompt (manual officer mode) at once
            with lock:
                lines.append(line)

    reader = threading.Thread(target=pump, name="pytest-output", daemon=True)
    reader.start()
    board, offset = Board(), 0
    console = Console(file=out, force_terminal=live or None, soft_wrap=True)

    shown = UserLines()

    def drain(show) -> None:
        nonlocal offset
        with lock:
            pending, lines[:] = list(lines), []
        for line in pending:
            kept = shown.keep(line)
            if kept is not None and not XDIST.match(kept.strip()):
                show(kept)
        events, offset = read_new(Path(run_dir) / PROGRESS_FILE, offset)
        for event in events:
            if answers is not None:
                answers.see(event, show)
            done = board.apply(event)
            if done is not None and not live:
                show(finished_line(done))

    def ticks() -> Iterator[None]:
        while reader.is_alive() or proc.poll() is None:
            yield
            reader.join(interval)
        reader.join()
        yield

    if live:
        with Live(board.table(), console=console, refresh_per_second=4, transient=False) as view:
            for _ in ticks():
                drain(lambda text: view.console.print(text, markup=False, highlight=False))
                view.update(board.table())
    else:
        for _ in ticks():
            drain(lambda text: (out.write(text + "\n"), out.flush()))
    return proc.wait()
