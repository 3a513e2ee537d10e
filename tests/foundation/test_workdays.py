"""Working days for the 5-working-day window after publication (QT-VPB-16 Bước 4: "Trong thời hạn 05 ngày làm
việc"). The calculator is shared by the reports and the mock portal's admin role; days off come from `holidays.VN`,
never from counting weekdays."""

from datetime import date

import holidays

from kiemthu.workdays import add_working_days, deadline_status, is_working_day, submission_deadline


def test_tet_2027_is_a_run_of_days_off_from_thursday_4_to_wednesday_10_february():
    vn = holidays.VN(years=2027)
    assert [d for d in sorted(vn) if date(2027, 2, 1) <= d <= date(2027, 2, 28)] == [date(2027, 2, d) for d in range(4, 11)]
    assert not any(is_working_day(date(2027, 2, d)) for d in range(4, 11))


def test_published_on_the_friday_before_tet_2027():
    """Fri 29 Jan 2027: Mon 1, Tue 2, Wed 3 Feb, then Tết (Thu 4 – Wed 10) and the weekend, then Thu 11, Fri 12."""
    assert submission_deadline(date(2027, 1, 29)) == date(2027, 2, 12)
    # counting weekdays only would give Fri 5 Feb, a day of Tết
    assert add_working_days(date(2027, 1, 29), 5) != date(2027, 2, 5)


def test_published_on_lunar_new_years_eve_counts_from_after_tet():
    # Fri 5 Feb 2027 (Tết): Thu 11, Fri 12, Mon 15, Tue 16, Wed 17
    assert submission_deadline(date(2027, 2, 5)) == date(2027, 2, 17)


def test_a_weekend_in_the_window_is_skipped_and_late_is_late():
    # Wed 2 Dec 2026: Thu 3, Fri 4, Mon 7, Tue 8, Wed 9
    assert submission_deadline(date(2026, 12, 2)) == date(2026, 12, 9)
    assert not deadline_status(date(2026, 12, 2), today=date(2026, 12, 9)).overdue
    assert deadline_status(date(2026, 12, 2), today=date(2026, 12, 10)).overdue
