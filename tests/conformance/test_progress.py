"""Live progress: the pytest process reports each check and step on a JSON-lines channel in the run directory; the
CLI shows a live table in a terminal, and in CI one line per finished check instead of pytest's dots."""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap

from conformance.progress import Board, ProgressLog, finished_line, follow, live_wanted

# a stand-in for the pytest process: it reports through the same writer and prints what pytest would
CHILD = textwrap.dedent("""
    import sys, time
    from conformance.progress import ProgressLog
    log = ProgressLog(sys.argv[1])
    log.check_started("khai-sinh", "sso")
    log.step("khai-sinh", "Công dân đăng nhập qua Cổng DVCQG: click role='button' name='Đăng nhập'")
    print("bringing up nodes...", flush=True)
    print("2 workers [12 items]", flush=True)
    print("..", flush=True)
    print("Cần cán bộ xử lý / officer action needed", flush=True)
    log.check_ended("khai-sinh", "sso", "passed", 1.5)
    log.check_started("khai-sinh", "payment")
    log.check_ended("khai-sinh", "payment", "inconclusive", 2.0, "not evaluated: no 'ipn_bad_checksum' callback")
    print(".s [100%]", flush=True)
    log.close()
""")


def run_child(tmp_path, live: bool) -> tuple[int, str, str]:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    log, out = io.StringIO(), io.StringIO()
    code = follow(proc, tmp_path, log, out, live=live, interval=0.05)
    return code, log.getvalue(), out.getvalue()


def test_ci_output_is_one_line_per_finished_check_without_pytest_dots(tmp_path):
    code, log, out = run_child(tmp_path, live=False)
    assert code == 0
    lines = out.splitlines()
    assert "[khai-sinh / SSO] Đạt (1.5s)" in lines
    assert any(line.startswith("[khai-sinh / Thanh toán] Không kết luận được (2.0s) — not evaluated") for line in lines)
    assert "Cần cán bộ xử lý / officer action needed" in lines  # a prompt to a person still shows
    assert ".." not in lines and ".s [100%]" not in lines
    assert "bringing up nodes..." not in lines and "2 workers [12 items]" not in lines  # --workers' start-up lines
    assert ".s [100%]" in log and "2 workers [12 items]" in log  # the log keeps pytest's output as it was


def test_live_table_shows_the_current_step_and_the_verdicts(tmp_path):
    code, _, out = run_child(tmp_path, live=True)
    assert code == 0 and "Đạt" in out and "Không kết luận được" in out and "Kiểm tra" in out


def test_board_follows_the_current_step_of_each_check(tmp_path):
    log = ProgressLog(tmp_path)
    log.check_started("s1", "submission")
    log.step("s1", "Nộp hồ sơ: fill label='Họ và tên'")
    log.close()
    from conformance.progress import read_new

    events, offset = read_new(tmp_path / "progress.jsonl", 0)
    board = Board()
    for e in events:
        board.apply(e)
    row = board.rows[("s1", "submission")]
    assert row["state"] == "running" and row["step"].startswith("Nộp hồ sơ") and offset > 0
    assert "Nộp hồ sơ" in finished_line({"service": "s1", "check": "submission", "verdict": "failed", "seconds": 1,
                                         "reason": "ensure_dossier_synced: expected …"})


def test_ci_or_a_pipe_gets_no_live_table(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.delenv("CI", raising=False)
    assert live_wanted(Tty()) and not live_wanted(io.StringIO())
    monkeypatch.setenv("CI", "true")
    assert not live_wanted(Tty())


TRACEBACK_CHILD = textwrap.dedent("""
    print("F", flush=True)
    print("=================================== FAILURES ===================================", flush=True)
    print("____________________________ test_submission[lltp] _____________________________", flush=True)
    print("conformance/adapter/executor.py:251: in run_step", flush=True)
    print("    self.locate(root, step['check'], where).check(timeout=timeout)", flush=True)
    print("E   playwright._impl._errors.TimeoutError: Locator.check: Timeout 10000ms exceeded.", flush=True)
    print("=========================== short test summary info ============================", flush=True)
    print("FAILED conformance/checks/test_2_submission.py::test_submission[lltp] - no checkbox named 'X'", flush=True)
    print("1 failed in 3.20s", flush=True)
""")


def test_user_output_hides_harness_tracebacks_and_says_where_they_are(tmp_path):
    """A failing test's traceback (harness source lines) stays in the log; the user sees one line saying where it
    is, and pytest's one-line summary of each failure."""
    proc = subprocess.Popen([sys.executable, "-c", TRACEBACK_CHILD], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    log, out = io.StringIO(), io.StringIO()
    follow(proc, tmp_path, log, out, live=False, interval=0.05)
    shown = out.getvalue()
    assert "executor.py" not in shown and "self.locate" not in shown and "TimeoutError" not in shown, shown
    assert "logs/pytest.log" in shown and "no checkbox named 'X'" in shown
    assert "executor.py:251" in log.getvalue()
