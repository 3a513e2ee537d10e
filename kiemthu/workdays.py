"""Working days in Vietnam and the 5-working-day deadline for submitting test results after VPCP publishes
the services (QT-VPB-16 Bước 4; QĐ 31/2021/QĐ-TTg Điều 27 khoản 4).

Working days exclude weekends and Vietnamese public holidays (Tết included), and count the Saturdays the
Government swaps into working days; `holidays.VN` knows both. Shared by the reports and the mock portal.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

import holidays

SUBMISSION_WORKING_DAYS = 5


class DeadlineStatus(NamedTuple):
    """`days_left` counts working days after today up to the deadline; 0 = due today; negative = overdue."""

    deadline: date
    days_left: int

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


@lru_cache(maxsize=1)
def _calendar() -> holidays.HolidayBase:
    # expand=True (the default) fills in each year on first use, so one instance serves every date
    return holidays.VN()


def is_working_day(day: date) -> bool:
    return _calendar().is_working_day(day)


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (n >= 0; n = 0 returns `start`)."""
    if n < 0:
        raise ValueError(f"n: rule '>= 0' — value {n}")
    day = start
    while n:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def working_days_between(after: date, until: date) -> int:
    """Working days d with after < d <= until (0 when until <= after)."""
    count, day = 0, after
    while day < until:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count


def submission_deadline(publication_date: date) -> date:
    return add_working_days(publication_date, SUBMISSION_WORKING_DAYS)


def deadline_status(publication_date: date | str, today: date | None = None) -> DeadlineStatus:
    """Deadline for the results and how many working days are left on `today` (negative when overdue)."""
    if isinstance(publication_date, str):
        publication_date = date.fromisoformat(publication_date)
    today = today or date.today()
    deadline = submission_deadline(publication_date)
    if today <= deadline:
        return DeadlineStatus(deadline, working_days_between(today, deadline))
    # a weekend right after the deadline still counts as late
    return DeadlineStatus(deadline, -max(1, working_days_between(deadline, today)))
