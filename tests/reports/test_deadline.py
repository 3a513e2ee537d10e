"""The results are due 5 working days after publication (QT-VPB-16 Bước 4; docs/domain/).

Working days skip weekends and Vietnamese public holidays, Tết included, and count the Saturdays the
Government swaps into working days. Dates are checked against what `holidays.VN` returns.
"""

from datetime import date

import holidays
import pytest

from reports.deadline import add_working_days, deadline_status, submission_deadline


def test_across_a_weekend():
    # Thursday 6 March 2025: Fri 7, Mon 10, Tue 11, Wed 12, Thu 13
    assert add_working_days(date(2025, 3, 6), 5) == date(2025, 3, 13)
    # published on a Friday: the whole next week
    assert submission_deadline(date(2026, 3, 6)) == date(2026, 3, 13)
    # published on a Saturday: counting starts on Monday
    assert submission_deadline(date(2026, 3, 7)) == date(2026, 3, 13)


def test_across_tet_2027():
    vn = holidays.VN(years=2027)
    tet = sorted(d for d in vn if date(2027, 2, 1) <= d <= date(2027, 2, 15))
    assert tet == [date(2027, 2, d) for d in range(4, 11)]  # 29 Tết to mùng năm, Thu 4 – Wed 10 Feb
    # Wed 3 Feb 2027: Thu 11, Fri 12, Mon 15, Tue 16, Wed 17
    assert submission_deadline(date(2027, 2, 3)) == date(2027, 2, 17)


def test_across_tet_2026():
    vn = holidays.VN(years=2026)
    assert all(date(2026, 2, d) in vn for d in range(16, 21))  # Mon 16 – Fri 20 Feb 2026
    # Fri 13 Feb 2026: the Tết week and the weekends are skipped; Mon 23 … Fri 27
    assert submission_deadline(date(2026, 2, 13)) == date(2026, 2, 27)


def test_swapped_saturday_is_a_working_day():
    # Saturday 26 April 2025 was worked to make Friday 2 May a day off
    assert holidays.VN(years=2025).is_working_day(date(2025, 4, 26))
    # Thu 24 Apr: Fri 25, Sat 26, Mon 28, Tue 29, (30/4, 1/5, 2/5 off, weekend) Mon 5 May
    assert submission_deadline(date(2025, 4, 24)) == date(2025, 5, 5)


@pytest.mark.parametrize(
    "today, days_left",
    [
        (date(2026, 11, 12), 5),   # publication day
        (date(2026, 11, 16), 3),   # Monday
        (date(2026, 11, 19), 0),   # the deadline itself: due today
        (date(2026, 11, 20), -1),  # Friday after: one working day late
        (date(2026, 11, 21), -1),  # Saturday after: still late, never "due today"
        (date(2026, 11, 23), -2),
    ],
)
def test_deadline_status(today, days_left):
    status = deadline_status("2026-11-12", today)
    assert status == (date(2026, 11, 19), days_left)
    assert status.overdue == (days_left < 0)


def test_zero_and_negative_counts():
    assert add_working_days(date(2026, 2, 17), 0) == date(2026, 2, 17)
    with pytest.raises(ValueError):
        add_working_days(date(2026, 2, 17), -1)
