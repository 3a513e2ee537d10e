"""The run page's progress table folds the suite's events as the terminal's live table does: a check's time runs
from its first step to its end, also when its flows were played while an earlier check needed them."""

from controlroom.app import board_of


def test_a_check_played_inside_an_earlier_ones_journey_shows_the_time_of_its_steps():
    """The submission flow runs inside the SSO check's journey (login, submit, logout): its row counts from its
    first step (t=1.0) to its end (t=3.2), not the 0.1 s its own test took once the flow had run."""
    events = [
        {"t": 0.0, "event": "check", "service": "khai-sinh", "check": "sso", "state": "start"},
        {"t": 0.1, "event": "step", "service": "khai-sinh", "check": "sso", "what": "Đăng nhập: goto"},
        {"t": 1.0, "event": "step", "service": "khai-sinh", "check": "submission", "what": "Nộp hồ sơ: click"},
        {"t": 2.0, "event": "step", "service": "khai-sinh", "check": "sso", "what": "Đăng xuất: click"},
        {"t": 3.0, "event": "check", "service": "khai-sinh", "check": "sso", "state": "end", "verdict": "passed",
         "seconds": 3.0},
        {"t": 3.1, "event": "check", "service": "khai-sinh", "check": "submission", "state": "start"},
        {"t": 3.2, "event": "check", "service": "khai-sinh", "check": "submission", "state": "end",
         "verdict": "passed", "seconds": 0.1},
        {"event": "log", "lines": ["khai-sinh: 13 rules passed"]},
    ]
    rows = {(r["service"], r["check"]): r for r in board_of(events)}
    assert list(rows) == [("khai-sinh", "sso"), ("khai-sinh", "submission")]
    assert rows[("khai-sinh", "submission")]["seconds"] == 2.2 and rows[("khai-sinh", "sso")]["seconds"] == 3.0
    assert rows[("khai-sinh", "submission")]["step"] == "Nộp hồ sơ: click"
    assert {r["state"] for r in rows.values()} == {"done"} and {r["verdict"] for r in rows.values()} == {"passed"}


def test_a_running_check_keeps_its_start_for_the_page_to_count_on():
    rows = board_of([{"t": 5.0, "event": "step", "service": "ket-hon", "check": "submission", "what": "Nộp: goto"}])
    assert rows == [{"service": "ket-hon", "check": "submission", "state": "running", "step": "Nộp: goto",
                     "verdict": "", "seconds": None, "started": 5.0}]
