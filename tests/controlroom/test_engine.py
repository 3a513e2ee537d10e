"""The control room's run engine against the reference ministry system: a run is a supervised child whose live
progress grows until it finishes with its exit code; one target is never tested by two runs at once; a run can be
cancelled; a restarted server shows the run it lost as interrupted and keeps the ones that had ended; no secret
reaches a progress event."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from controlroom.engine import (CHILD_LOG, ROOM_EVENTS, RunInfo, RunManager, RunRefused, TargetBusy, control_dir,
                                now)
from kiemthu.demo import DEMO_TARGET
from kiemthu.runtime import wait_until
from tests.controlroom.conftest import SERVICE, child_pid, gone, kill, listening, wait_event, wait_state

pytestmark = [pytest.mark.browser, pytest.mark.slow]
HERE = Path(__file__).resolve().parent


def is_step(event: dict) -> bool:
    return event.get("event") == "step" and event.get("service") == SERVICE


def test_a_run_progresses_live_and_finishes_with_its_exit_code_recorded_in_the_history(manager, room, known_secrets):
    """start → the progress grows (service × check, step, elapsed, log lines) → finished with exit code 0, the
    run in the history under the same id; events after an index are only the later ones; secrets written by the
    run (to its progress file or its output) are masked in every event and in the engine's own file."""
    run_id = manager.start(campaign_id="c-1", target=DEMO_TARGET, services=[SERVICE], checks=["sso"],
                           started_by="canbo1")
    first = wait_event(manager, run_id, is_step)
    assert manager.get(run_id).state == "running"
    assert first["check"] == "sso" and first["what"] and first["elapsed"] >= 0 and first["index"] >= 1
    # what a leaky system or suite could write while the run goes on: both channels are masked
    secret = known_secrets["KIEMTHU_SSO_CLIENT_SECRET"]
    password = known_secrets["KIEMTHU_OFFICER_PASSWORD"]
    run_dir = manager.get(run_id).run_dir
    with open(run_dir / "progress.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps({"t": 0, "event": "step", "service": SERVICE, "check": "sso",
                            "what": f"posted client_secret {secret} and password={password}"}) + "\n")
    with open(control_dir(run_dir) / CHILD_LOG, "a", encoding="utf-8") as f:
        f.write(f"token exchange failed for secret {secret}\n")
    seen = len(manager.progress(run_id))
    info = wait_state(manager, run_id, ("finished", "error", "cancelled", "interrupted"))
    assert info.state == "finished" and info.exit_code == 0, info.message
    events = manager.progress(run_id)
    assert len(events) > seen and [e["index"] for e in events] == list(range(1, len(events) + 1))
    assert manager.progress(run_id, after=seen) == events[seen:]
    ended = [e for e in events if e["event"] == "check" and e.get("state") == "end"]
    assert [(e["service"], e["check"], e["verdict"]) for e in ended] == [(SERVICE, "sso", "passed")]
    assert any(e["event"] == "log" and any("Đạt" in line for line in e["lines"]) for e in events)
    assert events[-1]["event"] == "run" and events[-1]["state"] == "finished" and events[-1]["exit_code"] == 0
    # the injected secrets: the events are there, their values are not
    text = json.dumps(events, ensure_ascii=False)
    stored = (control_dir(run_dir) / ROOM_EVENTS).read_text(encoding="utf-8")
    assert "posted client_secret ***" in text and "token exchange failed for secret ***" in text
    for value in known_secrets.values():
        if not value.isdigit():
            assert value not in text and value not in stored
    # the history records it as `kiemthu run` does, the bundle is the run's own
    with closing(sqlite3.connect(room["db"])) as conn:
        assert conn.execute("SELECT run_dir FROM runs WHERE run_id = ?", (run_id,)).fetchone() == (str(run_dir),)
    assert (run_dir / "summary.json").is_file() and (run_dir / "report.pdf").is_file()
    assert [r.id for r in manager.list("c-1")] == [run_id] and manager.list("other") == []
    assert gone(child_pid(room["db"], run_id))


def test_a_failing_run_finishes_with_exit_code_1(manager):
    """A seeded defect fails its check: the run is finished (not an error) with the suite's exit code 1."""
    run_id = manager.start(campaign_id="c-1", target=DEMO_TARGET, services=[SERVICE], checks=["sso"],
                           started_by="canbo1", defects=("sso-state-not-verified",))
    info = wait_state(manager, run_id, ("finished", "error", "cancelled", "interrupted"))
    assert (info.state, info.exit_code) == ("finished", 1), info.message
    ended = [e for e in manager.progress(run_id) if e["event"] == "check" and e.get("state") == "end"]
    assert [e["verdict"] for e in ended] == ["failed"]


def test_a_busy_target_is_refused_and_a_cancelled_run_ends_with_everything_it_started(manager, room, known_secrets):
    """A second run on the same target is refused, naming the running one; cancel stops the run, its reference
    system and mock portal; the target is then free; a run still queued is cancelled without starting;
    shutdown() leaves a running run interrupted."""
    first = manager.start(campaign_id="c-1", target=DEMO_TARGET, services=[SERVICE], checks=[], started_by="canbo1")
    with pytest.raises(TargetBusy) as refused:
        manager.start(campaign_id="c-2", target=DEMO_TARGET, services=[], checks=[], started_by="canbo2")
    assert first in refused.value.message and "canbo1" in refused.value.message
    assert [r.id for r in manager.list()] == [first]  # the refused one left nothing behind
    wait_event(manager, first, is_step)
    ports = [int(known_secrets["KIEMTHU_MOCK_PORT"]), int(known_secrets["KIEMTHU_MINISTRY_PORT"])]
    assert all(listening(p) for p in ports)  # the run's servers listen
    manager.cancel(first, by="canbo2")
    info = wait_state(manager, first, ("cancelled", "finished", "error", "interrupted"), timeout=60)
    assert info.state == "cancelled" and info.cancelled_by == "canbo2" and "canbo2" in info.message
    assert gone(child_pid(room["db"], first))
    wait_until(lambda: not any(listening(p) for p in ports), 15, what="the run's servers stopped")
    assert manager.progress(first)[-1]["state"] == "cancelled"
    manager.cancel(first, by="canbo1")  # an ended run stays as it ended
    assert manager.get(first).state == "cancelled"

    # a run recorded but not started yet (queued): cancelled, never started
    queued = RunInfo(id="20990101-000000-abcd", campaign_id="c-1", target=Path("/nowhere/target.yaml"),
                     services=[], checks=[], defects=[], state="queued", run_dir=room["runs"] / "20990101-000000-abcd",
                     started_at=now(), finished_at=None, exit_code=None, started_by="canbo1")
    manager._claim_target(queued)
    manager.cancel(queued.id, by="canbo1")
    assert manager.get(queued.id).state == "cancelled" and child_pid(room["db"], queued.id) is None

    again = manager.start(campaign_id="c-1", target=DEMO_TARGET, services=[SERVICE], checks=[], started_by="canbo1")
    wait_event(manager, again, is_step)
    manager.shutdown()
    info = manager.get(again)
    assert info.state == "interrupted" and gone(child_pid(room["db"], again))
    with pytest.raises(RunRefused):
        manager.start(campaign_id="c-1", target=DEMO_TARGET, services=[], checks=[], started_by="canbo1")


def test_bad_requests_are_refused_with_the_field_and_value(manager, tmp_path):
    """An unknown check or a missing target file is refused before anything starts, naming field and value."""
    with pytest.raises(RunRefused) as bad_check:
        manager.start(campaign_id="c", target=DEMO_TARGET, services=[], checks=["sso", "speed"], started_by="a")
    assert "checks" in bad_check.value.message and "speed" in bad_check.value.message
    with pytest.raises(RunRefused) as no_file:
        manager.start(campaign_id="c", target=tmp_path / "nope.yaml", services=[], checks=[], started_by="a")
    assert "target" in no_file.value.message and "nope.yaml" in no_file.value.message
    assert manager.list() == []


def test_services_side_by_side_are_refused_as_kiemthu_run_refuses_them(manager, tmp_path):
    """A worker count that is not a number or 'auto', or services side by side on a system whose officer works by
    hand (officer.mode manual: one person answers one prompt at a time), is refused before anything starts,
    naming the option and the value; nothing is recorded."""
    with pytest.raises(RunRefused) as bad:
        manager.start(campaign_id="c", target=DEMO_TARGET, services=[], checks=[], started_by="a", workers="many")
    assert "--workers" in bad.value.message and "'many'" in bad.value.message
    by_hand = tmp_path / "by-hand.yaml"
    by_hand.write_text("officer: {mode: manual}\nservices: [{scenario: a.yaml}, {scenario: b.yaml}]\n", encoding="utf-8")
    with pytest.raises(RunRefused) as manual:
        manager.start(campaign_id="c", target=by_hand, services=[], checks=[], started_by="a", workers="2")
    assert "workers: 2" in manual.value.message and "officer.mode manual" in manual.value.message
    assert manager.list() == []


def test_a_history_file_from_before_side_by_side_runs_gains_the_column(tmp_path):
    """A control-room database written before runs recorded their worker count opens, its runs read as run one
    service at a time."""
    db = tmp_path / "old.sqlite"
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("CREATE TABLE room_runs (id TEXT PRIMARY KEY, campaign_id TEXT NOT NULL, target TEXT NOT NULL, "
                     "services_json TEXT NOT NULL, checks_json TEXT NOT NULL, defects_json TEXT NOT NULL, "
                     "state TEXT NOT NULL, run_dir TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, "
                     "exit_code INTEGER, started_by TEXT NOT NULL, cancelled_by TEXT, message TEXT NOT NULL DEFAULT '', "
                     "server TEXT NOT NULL, pid INTEGER, pid_start TEXT)")
        conn.execute("INSERT INTO room_runs VALUES ('r1','c','t','[]','[]','[]','finished','/x','2026-12-01T09:00:00+07:00',"
                     "'2026-12-01T09:01:00+07:00',0,'a',NULL,'','old',NULL,NULL)")
    m = RunManager(db, tmp_path / "runs")
    try:
        assert m.get("r1").workers == 0 and m.get("r1").state == "finished"
    finally:
        m.shutdown()


def test_a_restarted_server_shows_the_run_it_lost_as_interrupted_and_keeps_the_ended_ones(room, known_secrets):
    """A server killed mid-run (SIGKILL: no clean-up of its own) takes its run's processes with it; the next
    server's recover() marks that run interrupted, and a run that had ended keeps its state and exit code."""
    server = subprocess.Popen([sys.executable, str(HERE / "dead_server.py"), str(room["db"]), str(room["runs"]),
                               str(DEMO_TARGET), SERVICE], stdout=subprocess.PIPE, text=True)
    try:
        lines = []
        wait_until(lambda: lines.append(server.stdout.readline().strip()) or lines[-1].startswith("ready"), 240,
                   what="the first server running its second run")
        ended_id, lost_id = lines[-1].split()[1:3]
    finally:
        kill(server.pid)
        server.wait()
    lost_pid = child_pid(room["db"], lost_id)
    wait_until(lambda: gone(lost_pid), 30, what="the lost run's process ended with its server")
    ports = [int(known_secrets["KIEMTHU_MOCK_PORT"]), int(known_secrets["KIEMTHU_MINISTRY_PORT"])]
    wait_until(lambda: not any(listening(p) for p in ports), 30, what="the lost run's servers ended")
    restarted = RunManager(room["db"], room["runs"])
    try:
        assert restarted.get(lost_id).state == "running"  # as the dead server left it
        restarted.recover()
        lost, ended = restarted.get(lost_id), restarted.get(ended_id)
        assert lost.state == "interrupted" and lost.finished_at is not None and "gián đoạn" in lost.message
        assert (ended.state, ended.exit_code) == ("error", 2)
        assert restarted.progress(lost_id)[-1]["state"] == "interrupted"
        assert restarted.prompts(lost_id) == []
        # the target is free again
        again = restarted.start(campaign_id="c-1", target=DEMO_TARGET, services=[SERVICE], checks=["sso"],
                                started_by="canbo1")
        restarted.cancel(again, by="canbo1")
        wait_state(restarted, again, ("cancelled", "finished", "error"), timeout=60)
    finally:
        restarted.shutdown()


def test_recover_stops_a_run_process_that_outlived_its_server(room, tmp_path):
    """A run whose server is gone but whose process still runs (no PDEATHSIG, say) is stopped by recover() and
    shown interrupted; a run of a server that still runs is left alone."""
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    orphan = subprocess.Popen(sleeper, start_new_session=True)
    other = subprocess.Popen(sleeper, start_new_session=True)  # stands for another server, still running
    manager = RunManager(room["db"], room["runs"])
    try:
        from controlroom.engine import process_start

        dead_server = "999999999:0:dead"  # no such pid
        alive_server = f"{other.pid}:{process_start(other.pid)}:other"
        with closing(sqlite3.connect(room["db"])) as conn, conn:
            for run_id, server, pid in (("20990101-000000-0001", dead_server, orphan.pid),
                                        ("20990101-000000-0002", alive_server, None)):
                conn.execute("INSERT INTO room_runs (id, campaign_id, target, services_json, checks_json, defects_json,"
                             " state, run_dir, started_at, started_by, server, pid, pid_start)"
                             " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                             (run_id, "c-1", f"/targets/{run_id}.yaml", "[]", "[]", "[]", "running",
                              str(room["runs"] / run_id), now().isoformat(timespec="seconds"), "canbo1", server, pid,
                              process_start(pid) if pid else None))
        manager.recover()
        wait_until(lambda: orphan.poll() is not None, 15, what="the orphaned run process stopped")
        assert manager.get("20990101-000000-0001").state == "interrupted"
        assert manager.get("20990101-000000-0002").state == "running"
    finally:
        for proc in (orphan, other):
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        manager.shutdown()
